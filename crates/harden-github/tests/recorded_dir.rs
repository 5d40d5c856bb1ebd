//! `ResolverConfig::recorded` (`--recorded DIR`, `HARDEN_RECORDED`): refs come from the recorded
//! files, the network and the cache are never touched.

mod common;

use common::{config, expected, full_server, id, recorded_repo};
use harden_github::{FetchError, Resolver, ResolverConfig};
use harden_testserver::{default_refs_dir, ServerOptions};

#[test]
fn recorded_data_answers_without_any_request() {
    let server = full_server(ServerOptions::default());
    let cache = tempfile::tempdir().expect("cache");
    let recorded_dir = default_refs_dir()
        .parent()
        .expect("testdata/recorded")
        .to_path_buf();
    let resolver = Resolver::new(ResolverConfig {
        recorded: Some(recorded_dir),
        cache_dir: Some(cache.path().to_path_buf()),
        ..config(&server)
    })
    .expect("resolver");
    let repos = [
        id("actions/checkout"),
        id("ACTIONS/setup-python"),
        id("nobody/nothing"),
    ];
    let results = resolver.fetch_all(&repos);
    assert_eq!(
        results[&id("actions/checkout")].as_deref(),
        Ok(&expected(&recorded_repo("actions/checkout")))
    );
    assert_eq!(
        results[&id("actions/setup-python")].as_deref(),
        Ok(&expected(&recorded_repo("actions/setup-python")))
    );
    let missing = results[&id("nobody/nothing")]
        .as_ref()
        .expect_err("not recorded");
    assert!(
        matches!(missing, FetchError::NotRecorded { path } if path.ends_with("nobody__nothing.json")),
        "{missing:?}"
    );
    assert_eq!(server.request_count(), 0, "no request in recorded mode");
    assert_eq!(
        std::fs::read_dir(cache.path()).expect("cache dir").count(),
        0,
        "recorded data is not copied into the cache"
    );
}
