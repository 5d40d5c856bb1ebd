//! Helpers shared by the integration tests: recorded data and a configured test server.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use harden_github::{RepoId, RepoRefs, ResolverConfig, TagRef};
use harden_testserver::{default_refs_dir, load_refs_dir, RecordedRepo, ServerOptions, TestServer};

/// Every recorded repository, keyed by lowercase `owner/repo` (loaded once per test binary).
pub(crate) fn recorded() -> &'static BTreeMap<String, RecordedRepo> {
    static RECORDED: OnceLock<BTreeMap<String, RecordedRepo>> = OnceLock::new();
    RECORDED.get_or_init(|| {
        load_refs_dir(&default_refs_dir()).expect("recorded refs in testdata/recorded/refs")
    })
}

/// One recorded repository.
pub(crate) fn recorded_repo(name: &str) -> RecordedRepo {
    recorded()
        .get(&name.to_ascii_lowercase())
        .cloned()
        .unwrap_or_else(|| panic!("no recorded data for {name}"))
}

/// What the resolver must produce for a recorded repository.
pub(crate) fn expected(repo: &RecordedRepo) -> RepoRefs {
    RepoRefs {
        default_branch: repo.default_branch.clone(),
        tags: repo
            .tags
            .iter()
            .map(|(name, tag)| {
                (
                    name.clone(),
                    TagRef {
                        commit: tag.commit.clone(),
                        tag_object: tag.tag_object.clone(),
                    },
                )
            })
            .collect(),
        branches: repo.branches.clone(),
    }
}

/// A server for some recorded repositories.
pub(crate) fn server(names: &[&str], options: ServerOptions) -> TestServer {
    let repos = names.iter().map(|n| recorded_repo(n));
    TestServer::start_with_repos(repos, options, 0).expect("start test server")
}

/// A server for every recorded repository.
pub(crate) fn full_server(options: ServerOptions) -> TestServer {
    TestServer::start_with_repos(recorded().values().cloned(), options, 0)
        .expect("start test server")
}

/// A resolver configuration pointing at the server, with short waits.
pub(crate) fn config(server: &TestServer) -> ResolverConfig {
    ResolverConfig {
        server_url: server.url(),
        api_url: server.url(),
        token: None,
        cache_dir: None,
        jobs: 4,
        timeout: Duration::from_secs(10),
        max_retries: 2,
        retry_backoff: Duration::from_millis(1),
        max_rate_limit_wait: Duration::from_secs(1),
        ..ResolverConfig::default()
    }
}

/// `RepoId::parse` that panics on bad input.
pub(crate) fn id(name: &str) -> RepoId {
    RepoId::parse(name).expect("valid owner/repo")
}
