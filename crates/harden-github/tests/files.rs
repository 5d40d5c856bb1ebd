//! The file reader against the test server: GitHub Enterprise Server's raw form, the cache
//! by commit, offline mode, 404s asked once, and the REST fallback for private repositories.

use std::time::Duration;

use harden_github::{FetchError, FileReader, FileRef, RepoId, ResolverConfig};
use harden_testserver::{default_refs_dir, ServerOptions, TestServer};

fn config(server: &TestServer, cache: &std::path::Path) -> ResolverConfig {
    ResolverConfig {
        server_url: server.url(),
        api_url: server.url(),
        cache_dir: Some(cache.to_owned()),
        timeout: Duration::from_secs(10),
        retry_backoff: Duration::from_millis(1),
        ..ResolverConfig::default()
    }
}

#[test]
fn reads_through_the_raw_form_and_caches_by_commit() {
    let server = TestServer::start(default_refs_dir()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let reader = FileReader::new(&config(&server, cache.path())).expect("reader");
    let sha = "b4ffde65f46336ab88eb53be808477a3936bae11";
    let action = FileRef::new(RepoId::new("actions", "checkout"), sha, "action.yml");
    let missing = FileRef::new(RepoId::new("actions", "checkout"), sha, "action.yaml");
    let sub = FileRef::new(
        RepoId::new("github", "codeql-action"),
        sha,
        "init/action.yml",
    );
    let all = reader.read_all(&[action.clone(), missing.clone(), sub.clone(), action.clone()]);
    assert_eq!(all.len(), 3);
    let text = all[&action].clone().expect("read").expect("found");
    assert!(text.contains("persist-credentials"));
    assert_eq!(all[&missing], Ok(None), "404 is no such file");
    assert!(all[&sub].clone().expect("read").is_some());
    assert_eq!(
        server.requests_to(&format!("/actions/checkout/raw/{sha}/action.yml")),
        1
    );
    // The 404 is remembered for the run.
    assert_eq!(reader.read(&missing), Ok(None));
    assert_eq!(reader.requests(), 3);

    // A later run offline reads the cache, and only the cache.
    let offline = ResolverConfig {
        offline: true,
        ..config(&server, cache.path())
    };
    let later = FileReader::new(&offline).expect("reader");
    assert_eq!(
        later.read(&action).expect("cached").as_deref(),
        Some(&*text)
    );
    assert_eq!(later.read(&missing), Err(FetchError::NotCached));
    assert_eq!(later.requests(), 0);
}

#[test]
fn private_repositories_fall_back_to_the_contents_api_with_a_token() {
    let server = TestServer::start_with(
        default_refs_dir(),
        ServerOptions::default().require_token("secret-token", &["actions/checkout"]),
    )
    .expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let file = FileRef::new(RepoId::new("actions", "checkout"), "v4", "action.yml");
    let anonymous = FileReader::new(&config(&server, cache.path())).expect("reader");
    assert_eq!(anonymous.read(&file), Ok(None), "hidden: no such file");
    let with_token = ResolverConfig {
        token: Some("secret-token".into()),
        ..config(&server, cache.path())
    };
    let reader = FileReader::new(&with_token).expect("reader");
    let text = reader.read(&file).expect("read").expect("found");
    assert!(text.contains("persist-credentials"));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/repos/actions/checkout/contents/action.yml" && r.authorized),
        "{:?}",
        server.requests()
    );
}

/// The reader's GET goes through the shared retry loop (`harden_github::plumbing`): a 5xx is
/// retried, then reported with the number of attempts; a body over the bound is refused.
#[test]
fn server_errors_are_retried_and_bodies_bounded() {
    use harden_testserver::{Fault, FaultRule};
    let server = TestServer::start(default_refs_dir()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let reader = FileReader::new(&ResolverConfig {
        max_retries: 1,
        ..config(&server, cache.path())
    })
    .expect("reader");
    let sha = "b4ffde65f46336ab88eb53be808477a3936bae11";
    let file = |path: &str| FileRef::new(RepoId::new("actions", "checkout"), sha, path);
    server.set_fault_rule(
        "actions/checkout",
        FaultRule::new(Fault::Status(503)).times(1),
    );
    assert!(reader.read(&file("action.yml")).expect("read").is_some());
    assert_eq!(reader.requests(), 2, "one retry");
    server.set_fault("actions/checkout", Fault::Status(500));
    assert_eq!(
        reader.read(&file("README.md")),
        Err(FetchError::Server {
            status: 500,
            attempts: 2
        })
    );
    assert_eq!(reader.requests(), 4);
    server.set_fault(
        "actions/checkout",
        Fault::HugeBody {
            bytes: harden_github::MAX_FILE_BYTES + 1,
            announced: true,
        },
    );
    assert!(matches!(
        reader.read(&file("LICENSE")),
        Err(FetchError::BadResponse(m)) if m.contains("larger than")
    ));
}

/// Issue 28: a raw file trickled two bytes a second held the reader for as long as the file
/// took; now the answer has the timeout.
#[test]
fn a_trickled_file_is_bounded_by_the_timeout() {
    let server = TestServer::start(default_refs_dir()).expect("server");
    server.set_fault("actions/checkout", harden_testserver::Fault::Trickle);
    let cache = tempfile::tempdir().expect("tempdir");
    let reader = FileReader::new(&ResolverConfig {
        timeout: Duration::from_secs(1),
        max_retries: 0,
        ..config(&server, cache.path())
    })
    .expect("reader");
    let sha = "b4ffde65f46336ab88eb53be808477a3936bae11";
    let action = FileRef::new(RepoId::new("actions", "checkout"), sha, "action.yml");
    let started = std::time::Instant::now();
    assert_eq!(reader.read(&action), Err(FetchError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
