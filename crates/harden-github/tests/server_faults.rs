//! End-to-end failure handling against the fake GitHub: missing repositories, server errors,
//! stalls, resets, truncated and malformed answers, rate limits, redirects and authentication.

mod common;

use std::time::{Duration, Instant};

use harden_github::{FetchError, Resolver, ResolverConfig, ResolverMode};
use harden_testserver::{Fault, FaultRule, FaultScope, ServerOptions, TestServer};

use common::{config, expected, id, recorded_repo, server};

const TOKEN: &str = "ghp_TopSecretTokenValue1234567890";

fn checkout_server(options: ServerOptions) -> TestServer {
    server(&["actions/checkout", "actions/cache"], options)
}

fn fetch_checkout(config: ResolverConfig) -> Result<(), FetchError> {
    let resolver = Resolver::new(config).expect("resolver");
    resolver.fetch(&id("actions/checkout")).map(|refs| {
        assert_eq!(*refs, expected(&recorded_repo("actions/checkout")));
    })
}

#[test]
fn missing_repository_is_not_found() {
    let server = checkout_server(ServerOptions::default());
    let resolver = Resolver::new(config(&server)).expect("resolver");
    let err = resolver.fetch(&id("nobody/nothing")).expect_err("missing");
    assert_eq!(err, FetchError::NotFound);
    assert!(err.to_string().contains("check the owner/repo spelling"));
    assert_eq!(server.request_count(), 1, "a 404 is not retried");
    assert_eq!(
        resolver.fetch(&id("Nobody/Nothing")),
        Err(FetchError::NotFound)
    );
    assert_eq!(
        server.request_count(),
        1,
        "a missing repository is asked once per process"
    );
    let api = Resolver::new(ResolverConfig {
        mode: ResolverMode::Api,
        ..config(&server)
    })
    .expect("resolver");
    assert_eq!(api.fetch(&id("nobody/nothing")), Err(FetchError::NotFound));
}

#[test]
fn missing_repository_answered_401_like_github() {
    let server = checkout_server(ServerOptions::default().missing_repo_status(401));
    let err = Resolver::new(config(&server))
        .expect("resolver")
        .fetch(&id("nobody/nothing"))
        .expect_err("missing");
    assert_eq!(err, FetchError::AuthRequired { status: 401 });
    assert!(err.to_string().contains("GITHUB_TOKEN"));
    // With a token, the REST API tells the truth.
    let with_token = ResolverConfig {
        token: Some(TOKEN.into()),
        ..config(&server)
    };
    let resolver = Resolver::new(with_token).expect("resolver");
    assert_eq!(
        resolver.fetch(&id("nobody/nothing")),
        Err(FetchError::NotFound)
    );
    assert_eq!(resolver.stats().api_fallbacks, 1);
}

#[test]
fn server_errors_are_retried_then_reported() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Status(500));
    let resolver = Resolver::new(config(&server)).expect("resolver");
    let results = resolver.fetch_all(&[id("actions/checkout"), id("actions/cache")]);
    let err = results[&id("actions/checkout")]
        .as_ref()
        .expect_err("fails");
    assert_eq!(
        err,
        &FetchError::Server {
            status: 500,
            attempts: 3
        }
    );
    assert!(err.to_string().contains("try again later"));
    assert!(
        results[&id("actions/cache")].is_ok(),
        "one failing repository does not stop the others"
    );
    assert_eq!(server.requests_for("actions/checkout"), 3);
    assert_eq!(resolver.stats().retries, 2);
    assert_eq!(resolver.stats().failed, 1);
}

#[test]
fn a_transient_server_error_is_retried() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault_rule(
        "actions/checkout",
        FaultRule::new(Fault::Status(502)).times(1),
    );
    fetch_checkout(config(&server)).expect("second attempt succeeds");
    assert_eq!(server.requests_for("actions/checkout"), 2);
}

#[test]
fn a_stalled_server_times_out() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Stall);
    let started = Instant::now();
    let err = fetch_checkout(ResolverConfig {
        timeout: Duration::from_millis(300),
        ..config(&server)
    })
    .expect_err("times out");
    assert_eq!(err, FetchError::Timeout);
    assert!(err.to_string().contains("raise the timeout"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server.requests_for("actions/checkout"),
        1,
        "timeouts are not retried"
    );
}

#[test]
fn a_reset_connection_is_a_network_error() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Reset);
    let err = fetch_checkout(config(&server)).expect_err("reset");
    assert!(matches!(err, FetchError::Network(_)), "{err:?}");
    assert_eq!(server.requests_for("actions/checkout"), 3, "retried twice");
}

#[test]
fn a_truncated_pkt_line_is_a_bad_response() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Truncated);
    let err = fetch_checkout(config(&server)).expect_err("truncated");
    assert!(
        matches!(&err, FetchError::BadResponse(m) if m.contains("truncated pkt-line")),
        "{err}"
    );
}

#[test]
fn a_truncated_v0_advertisement_is_a_bad_response() {
    let server = checkout_server(ServerOptions::default().without_v2());
    server.set_fault_rule(
        "actions/checkout",
        FaultRule::new(Fault::Truncated).scope(FaultScope::Git),
    );
    let err = fetch_checkout(config(&server)).expect_err("truncated");
    assert!(
        matches!(&err, FetchError::BadResponse(m) if m.contains("truncated pkt-line")),
        "{err}"
    );
}

#[test]
fn garbage_instead_of_pkt_lines_is_a_bad_response() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Malformed);
    let err = fetch_checkout(config(&server)).expect_err("garbage");
    assert!(
        matches!(&err, FetchError::BadResponse(m) if m.contains("invalid pkt-line length")),
        "{err}"
    );
}

#[test]
fn malformed_json_is_a_bad_response() {
    let server = checkout_server(ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Malformed);
    let err = fetch_checkout(ResolverConfig {
        mode: ResolverMode::Api,
        ..config(&server)
    })
    .expect_err("bad json");
    assert!(
        matches!(&err, FetchError::BadResponse(m) if m.contains("invalid JSON")),
        "{err}"
    );
    server.set_fault("actions/checkout", Fault::Truncated);
    let err = fetch_checkout(ResolverConfig {
        mode: ResolverMode::Api,
        ..config(&server)
    })
    .expect_err("cut json");
    assert!(
        matches!(&err, FetchError::BadResponse(m) if m.contains("invalid JSON")),
        "{err}"
    );
}

#[test]
fn rate_limit_with_short_retry_after_is_waited_out() {
    let server = checkout_server(ServerOptions::default());
    let limited = Fault::RateLimited {
        status: 429,
        retry_after: Some(0),
        reset_after: None,
    };
    server.set_fault_rule("actions/checkout", FaultRule::new(limited).times(2));
    let resolver = Resolver::new(config(&server)).expect("resolver");
    resolver
        .fetch(&id("actions/checkout"))
        .expect("succeeds after waiting");
    assert_eq!(resolver.stats().rate_limit_waits, 2);
    assert_eq!(server.requests_for("actions/checkout"), 3);
}

#[test]
fn rate_limit_beyond_the_wait_budget_fails_at_once() {
    let server = checkout_server(ServerOptions::default());
    let limited = Fault::RateLimited {
        status: 429,
        retry_after: Some(120),
        reset_after: None,
    };
    server.set_fault("actions/checkout", limited);
    let started = Instant::now();
    let err = fetch_checkout(config(&server)).expect_err("rate limited");
    assert_eq!(
        err,
        FetchError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(err.to_string().contains("wait 120 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.requests_for("actions/checkout"), 1);
}

#[test]
fn primary_rate_limit_403_is_recognised() {
    let server = checkout_server(ServerOptions::default());
    let limited = Fault::RateLimited {
        status: 403,
        retry_after: None,
        reset_after: Some(3000),
    };
    server.set_fault("actions/checkout", limited);
    let err = fetch_checkout(ResolverConfig {
        mode: ResolverMode::Api,
        ..config(&server)
    })
    .expect_err("limited");
    assert!(
        matches!(err, FetchError::RateLimited { retry_after: Some(wait) } if wait >= Duration::from_secs(2990)),
        "{err:?}"
    );
    assert!(err.to_string().contains("GITHUB_TOKEN"));
}

#[test]
fn redirect_to_another_host_is_refused() {
    let server = checkout_server(ServerOptions::default());
    let location = format!(
        "{}/actions/checkout.git/git-upload-pack",
        server.other_host_url()
    );
    server.set_fault(
        "actions/checkout",
        Fault::Redirect {
            status: 302,
            location,
        },
    );
    let err = fetch_checkout(ResolverConfig {
        token: Some(TOKEN.into()),
        ..config(&server)
    })
    .expect_err("refused");
    assert!(
        matches!(&err, FetchError::RedirectRefused(url) if url.starts_with("http://localhost:")),
        "{err:?}"
    );
    assert_eq!(
        server.request_count(),
        1,
        "the other host was never contacted"
    );
    assert!(!err.to_string().contains(TOKEN));
}

#[test]
fn redirect_on_the_same_host_is_followed() {
    // A renamed repository: the old name redirects (307 keeps the POST body) to the new one.
    let server = checkout_server(ServerOptions::default());
    let location = format!("{}/actions/checkout.git/git-upload-pack", server.url());
    server.set_fault_rule(
        "old/checkout",
        FaultRule::new(Fault::Redirect {
            status: 307,
            location,
        })
        .scope(FaultScope::Git),
    );
    let resolver = Resolver::new(config(&server)).expect("resolver");
    let refs = resolver.fetch(&id("old/checkout")).expect("followed");
    assert_eq!(*refs, expected(&recorded_repo("actions/checkout")));
    assert_eq!(server.request_count(), 2);
}

#[test]
fn private_repository_needs_the_token() {
    let server =
        checkout_server(ServerOptions::default().require_token(TOKEN, &["actions/checkout"]));
    let err = fetch_checkout(config(&server)).expect_err("no token");
    assert_eq!(err, FetchError::AuthRequired { status: 401 });

    let with_token = ResolverConfig {
        token: Some(TOKEN.into()),
        ..config(&server)
    };
    server.clear_log();
    fetch_checkout(with_token.clone()).expect("token as basic auth");
    assert_eq!(server.request_count(), 1);
    assert!(server.requests()[0].authorized);

    let wrong = ResolverConfig {
        token: Some("ghp_wrong".into()),
        ..config(&server)
    };
    let err = fetch_checkout(wrong).expect_err("wrong token");
    assert!(
        matches!(err, FetchError::AuthRequired { status: 401 }),
        "{err:?}"
    );

    let api = ResolverConfig {
        mode: ResolverMode::Api,
        ..with_token
    };
    fetch_checkout(api).expect("token as bearer");
}

#[test]
fn git_auth_failure_falls_back_to_the_api_when_a_token_is_set() {
    let server =
        checkout_server(ServerOptions::default().require_token(TOKEN, &["actions/checkout"]));
    server.set_fault_rule(
        "actions/checkout",
        FaultRule::new(Fault::Status(401)).scope(FaultScope::Git),
    );
    let resolver = Resolver::new(ResolverConfig {
        token: Some(TOKEN.into()),
        ..config(&server)
    })
    .expect("resolver");
    let refs = resolver
        .fetch(&id("actions/checkout"))
        .expect("via the API");
    assert_eq!(*refs, expected(&recorded_repo("actions/checkout")));
    assert_eq!(resolver.stats().api_fallbacks, 1);
    assert!(server
        .requests()
        .iter()
        .skip(1)
        .all(|r| r.path.starts_with("/repos/") && r.authorized));

    // Without a token there is nothing to fall back with.
    let err = fetch_checkout(config(&server)).expect_err("no token");
    assert_eq!(err, FetchError::AuthRequired { status: 401 });
}

#[test]
fn the_token_never_shows_in_errors_or_debug_output() {
    let server = checkout_server(ServerOptions::default());
    let config = ResolverConfig {
        token: Some(TOKEN.into()),
        timeout: Duration::from_millis(300),
        ..config(&server)
    };
    let faults = [
        Fault::Status(500),
        Fault::Status(403),
        Fault::Reset,
        Fault::Stall,
        Fault::Truncated,
        Fault::Malformed,
        Fault::RateLimited {
            status: 429,
            retry_after: Some(600),
            reset_after: None,
        },
        Fault::Redirect {
            status: 302,
            location: format!("{}/x", server.other_host_url()),
        },
    ];
    let resolver = Resolver::new(config).expect("resolver");
    assert!(!format!("{resolver:?}").contains(TOKEN));
    for fault in faults {
        server.set_fault("actions/checkout", fault.clone());
        for mode in [ResolverMode::Git, ResolverMode::Api] {
            let resolver = Resolver::new(ResolverConfig {
                mode,
                ..resolver.config().clone()
            })
            .expect("resolver");
            let err = resolver.fetch(&id("actions/checkout")).expect_err("fault");
            assert!(!err.to_string().contains(TOKEN), "{fault:?}: {err}");
            assert!(!format!("{err:?}").contains(TOKEN), "{fault:?}: {err:?}");
        }
    }
}

#[test]
fn unreachable_server_is_a_network_error() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let config = ResolverConfig {
        server_url: url.clone(),
        api_url: url,
        max_retries: 0,
        timeout: Duration::from_secs(2),
        ..ResolverConfig::default()
    };
    let err = Resolver::new(config)
        .expect("resolver")
        .fetch(&id("actions/checkout"))
        .expect_err("refused");
    assert!(
        matches!(&err, FetchError::Network(m) if !m.is_empty()),
        "{err:?}"
    );
}

/// Issue 28: `--timeout` bounded each read, not the answer: a server trickling its answer two
/// bytes a second held harden for hours. Now the whole answer, headers and body, has the
/// timeout, over smart HTTP and REST alike.
#[test]
fn a_trickling_server_is_bounded_by_the_timeout() {
    for mode in [ResolverMode::Git, ResolverMode::Api] {
        let server = checkout_server(ServerOptions::default());
        server.set_fault("actions/checkout", Fault::Trickle);
        let started = Instant::now();
        let err = fetch_checkout(ResolverConfig {
            timeout: Duration::from_secs(1),
            mode,
            ..config(&server)
        })
        .expect_err("times out");
        assert_eq!(err, FetchError::Timeout, "{mode:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{mode:?}: {:?}",
            started.elapsed()
        );
    }
}
