//! End-to-end against the fake GitHub: protocol v2, the v0 fallback, the REST API, the cache
//! and the one-request-per-repository promise.

mod common;

use std::time::Duration;

use harden_github::{FetchError, RepoId, Resolver, ResolverConfig, ResolverMode};
use harden_testserver::{ServerOptions, TestServer};

use common::{config, expected, full_server, id, recorded, recorded_repo, server};

fn all_ids(server: &TestServer) -> Vec<RepoId> {
    server.repo_names().iter().map(|n| id(n)).collect()
}

/// Fetches every recorded repository and checks the result is exactly the recorded data.
fn assert_all_match(server: &TestServer, config: ResolverConfig) -> Resolver {
    let resolver = Resolver::new(config).expect("resolver");
    let ids = all_ids(server);
    let results = resolver.fetch_all(&ids);
    assert_eq!(results.len(), recorded().len());
    for repo in &ids {
        let refs = results[repo]
            .as_ref()
            .unwrap_or_else(|e| panic!("{repo}: {e}"));
        let want = expected(&recorded_repo(&repo.to_string()));
        assert_eq!(refs.default_branch, want.default_branch, "{repo}");
        assert_eq!(refs.branches, want.branches, "{repo}");
        assert!(refs.tags == want.tags, "{repo}: tags differ");
    }
    resolver
}

#[test]
fn every_recorded_repository_via_protocol_v2() {
    let server = full_server(ServerOptions::default());
    let resolver = assert_all_match(&server, config(&server));
    let stats = resolver.stats();
    assert_eq!(
        stats.requests as usize,
        recorded().len(),
        "one request per repository"
    );
    assert_eq!(stats.v0_fallbacks, 0);
    assert!(server
        .requests()
        .iter()
        .all(|r| r.method == "POST" && r.git_protocol.as_deref() == Some("version=2")));
}

#[test]
fn every_recorded_repository_via_protocol_v0_fallback() {
    let server = full_server(ServerOptions::default().without_v2());
    let resolver = assert_all_match(&server, config(&server));
    let stats = resolver.stats();
    assert_eq!(
        stats.requests as usize,
        2 * recorded().len(),
        "a v2 POST, then the v0 GET"
    );
    assert_eq!(stats.v0_fallbacks as usize, recorded().len());
}

#[test]
fn every_recorded_repository_via_rest() {
    let server = full_server(ServerOptions::default());
    let config = ResolverConfig {
        mode: ResolverMode::Api,
        jobs: 8,
        ..config(&server)
    };
    assert_all_match(&server, config);
    assert!(server
        .requests()
        .iter()
        .all(|r| r.path.starts_with("/repos/")));
}

#[test]
fn v0_fallback_after_a_4xx_answer_to_the_v2_request() {
    let server = server(
        &["actions/checkout"],
        ServerOptions::default().without_v2().v0_post_status(400),
    );
    let resolver = Resolver::new(config(&server)).expect("resolver");
    let refs = resolver
        .fetch(&id("actions/checkout"))
        .expect("fetched via v0");
    assert_eq!(*refs, expected(&recorded_repo("actions/checkout")));
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.requests_to("/actions/checkout.git/info/refs"), 1);
    assert!(
        server.requests()[1].git_protocol.is_none(),
        "the fallback asks for v0"
    );
}

#[test]
fn one_request_per_unique_repository() {
    let server = server(
        &["actions/checkout", "actions/cache", "github/codeql-action"],
        ServerOptions::default(),
    );
    let resolver = Resolver::new(config(&server)).expect("resolver");
    let repos = [
        id("actions/checkout"),
        id("Actions/Checkout"),
        id("actions/cache"),
        id("github/codeql-action"),
        id("actions/checkout"),
        id("GITHUB/CODEQL-ACTION"),
    ];
    let results = resolver.fetch_all(&repos);
    assert_eq!(results.len(), 3);
    assert_eq!(server.request_count(), 3);
    for name in ["actions/checkout", "actions/cache", "github/codeql-action"] {
        assert_eq!(server.requests_for(name), 1, "{name}");
    }
    let checkout = results[&id("ACTIONS/checkout")].as_ref().expect("fetched");
    let resolved = checkout.resolve("v4").expect("v4");
    assert_eq!(
        resolved.sha,
        recorded_repo("actions/checkout").tags["v4"].commit
    );
    assert_eq!(resolved.comment.as_deref(), Some("v4.4.0"));
    // Fetching again uses the memory of this resolver.
    resolver.fetch_all(&repos);
    assert_eq!(server.request_count(), 3);
    assert_eq!(resolver.stats().memory_hits, 3);
}

#[test]
fn rest_mode_paginates_and_peels_annotated_tags() {
    let server = server(&["actions/checkout"], ServerOptions::default());
    let config = ResolverConfig {
        mode: ResolverMode::Api,
        ..config(&server)
    };
    let resolver = Resolver::new(config).expect("resolver");
    let refs = resolver.fetch(&id("actions/checkout")).expect("fetched");
    let want = expected(&recorded_repo("actions/checkout"));
    assert_eq!(*refs, want);
    let v1 = &refs.tags["v1"];
    assert_eq!(v1.commit, "50fbc622fc4ef5163becd7fab6573eac35f8462e");
    assert_eq!(
        v1.tag_object.as_deref(),
        Some("544eadc6bf3d226fd7a7a9f0dc5b5bf7ca0675b9")
    );
    let annotated = want
        .tags
        .values()
        .filter(|t| t.tag_object.is_some())
        .count();
    let tag_pages = want.tags.len().div_ceil(100).max(1);
    let branch_pages = want.branches.len().div_ceil(100).max(1);
    assert_eq!(server.requests_to("/repos/actions/checkout"), 1);
    assert_eq!(
        server.requests_to("/repos/actions/checkout/git/matching-refs/tags/"),
        tag_pages
    );
    assert_eq!(
        server.requests_to("/repos/actions/checkout/branches"),
        branch_pages
    );
    assert_eq!(
        server.request_count(),
        1 + tag_pages + annotated + branch_pages
    );
}

#[test]
fn rest_mode_follows_link_pagination() {
    // 250 tags and 130 branches need several pages of 100.
    let mut repo = harden_testserver::RecordedRepo::new("many/refs");
    for i in 0..250 {
        let sha = format!("{i:040x}");
        repo = if i % 3 == 0 {
            repo.with_annotated_tag(&format!("v1.0.{i}"), &format!("{:040x}", i + 100_000), &sha)
        } else {
            repo.with_tag(&format!("v1.0.{i}"), &sha)
        };
    }
    for i in 0..130 {
        repo = repo.with_branch(&format!("b{i}"), &format!("{i:040x}"));
    }
    let want = expected(&repo);
    let server = TestServer::start_with_repos([repo], ServerOptions::default(), 0).expect("server");
    let resolver = Resolver::new(ResolverConfig {
        mode: ResolverMode::Api,
        ..config(&server)
    })
    .expect("resolver");
    let refs = resolver.fetch(&id("many/refs")).expect("fetched");
    assert_eq!(*refs, want);
    assert_eq!(
        server.requests_to("/repos/many/refs/git/matching-refs/tags/"),
        3
    );
    assert_eq!(server.requests_to("/repos/many/refs/branches"), 2);
    assert!(server.requests().iter().any(|r| r.query.contains("page=3")));
    // 84 annotated tags: peeled from the `/tags` listing, not one request each.
    assert_eq!(server.requests_to("/repos/many/refs/tags"), 3);
    assert!(!server
        .requests()
        .iter()
        .any(|r| r.path.contains("/git/tags/")));
    assert_eq!(server.request_count(), 1 + 3 + 3 + 2);
}

#[test]
fn cache_hits_make_no_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(
        &["actions/checkout", "actions/cache"],
        ServerOptions::default(),
    );
    let cached = ResolverConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..config(&server)
    };
    let repos = [id("actions/checkout"), id("actions/cache")];

    let first = Resolver::new(cached.clone()).expect("resolver");
    assert!(first.fetch_all(&repos).values().all(Result::is_ok));
    assert_eq!(server.request_count(), 2);
    assert_eq!(first.stats().cache_writes, 2);
    let entry = first.cache_path(&id("actions/checkout")).expect("cache");
    assert!(entry.starts_with(dir.path()) && entry.is_file());
    assert!(entry.ends_with("actions__checkout.json"));

    let second = Resolver::new(cached.clone()).expect("resolver");
    let results = second.fetch_all(&[id("Actions/Checkout"), id("actions/cache")]);
    assert_eq!(server.request_count(), 2, "served from the cache");
    assert_eq!(second.stats().cache_hits, 2);
    assert_eq!(
        **results[&id("actions/checkout")].as_ref().expect("hit"),
        expected(&recorded_repo("actions/checkout"))
    );

    let refresh = Resolver::new(ResolverConfig {
        refresh: true,
        ..cached.clone()
    })
    .expect("resolver");
    refresh.fetch(&id("actions/checkout")).expect("refetched");
    assert_eq!(server.request_count(), 3, "refresh ignores the cache");

    let expired = Resolver::new(ResolverConfig {
        cache_ttl: Duration::ZERO,
        ..cached
    })
    .expect("resolver");
    expired.fetch(&id("actions/cache")).expect("refetched");
    assert_eq!(server.request_count(), 4, "an expired entry is refetched");
}

#[test]
fn offline_uses_only_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(&["actions/checkout"], ServerOptions::default());
    let cached = ResolverConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..config(&server)
    };
    Resolver::new(cached.clone())
        .expect("resolver")
        .fetch(&id("actions/checkout"))
        .expect("fetched");
    assert_eq!(server.request_count(), 1);

    let offline = Resolver::new(ResolverConfig {
        offline: true,
        cache_ttl: Duration::ZERO,
        ..cached
    })
    .expect("resolver");
    let results = offline.fetch_all(&[id("actions/checkout"), id("actions/cache")]);
    assert!(
        results[&id("actions/checkout")].is_ok(),
        "even an expired entry is used offline"
    );
    assert_eq!(
        results[&id("actions/cache")]
            .as_ref()
            .expect_err("not cached"),
        &FetchError::NotCached
    );
    assert_eq!(server.request_count(), 1, "offline makes no request");
    assert!(FetchError::NotCached
        .to_string()
        .contains("without --offline"));
}

#[test]
fn unreadable_cache_entry_is_a_miss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(&["actions/checkout"], ServerOptions::default());
    let config = ResolverConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..config(&server)
    };
    let resolver = Resolver::new(config).expect("resolver");
    let entry = resolver.cache_path(&id("actions/checkout")).expect("cache");
    std::fs::create_dir_all(entry.parent().expect("folder")).expect("mkdir");
    std::fs::write(&entry, b"{ broken").expect("write");
    resolver
        .fetch(&id("actions/checkout"))
        .expect("fetched despite the broken entry");
    assert_eq!(server.request_count(), 1);
    let again = std::fs::read_to_string(&entry).expect("rewritten");
    assert!(again.contains("\"fetched_at\""));
}

#[test]
fn concurrency_is_bounded_by_jobs() {
    let names = [
        "actions/checkout",
        "actions/cache",
        "actions/setup-node",
        "actions/setup-python",
        "actions/setup-go",
        "actions/stale",
        "actions/labeler",
        "actions/github-script",
        "actions/setup-java",
    ];
    let server = server(
        &names,
        ServerOptions::default().latency(Duration::from_millis(50)),
    );
    let resolver = Resolver::new(ResolverConfig {
        jobs: 3,
        ..config(&server)
    })
    .expect("resolver");
    let ids: Vec<RepoId> = names.iter().map(|n| id(n)).collect();
    let started = std::time::Instant::now();
    let results = resolver.fetch_all(&ids);
    let elapsed = started.elapsed();
    assert!(results.values().all(Result::is_ok));
    assert!(
        server.max_in_flight() <= 3,
        "at most `jobs` requests at once, saw {}",
        server.max_in_flight()
    );
    assert!(server.max_in_flight() >= 2, "requests run concurrently");
    assert!(
        elapsed >= Duration::from_millis(150),
        "9 requests of 50 ms over 3 workers: {elapsed:?}"
    );
}
