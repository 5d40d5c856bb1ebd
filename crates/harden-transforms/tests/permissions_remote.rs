//! The permissions transform reading what runs: actions missing from the knowledge base,
//! composite remote actions, remote reusable workflows and local actions of another repository
//! checked out by the job, read from a test server (refs over git, files in GitHub Enterprise
//! Server's raw form) serving `testdata/permissions/remote_recorded/actions`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use harden_github::{FileReader, Resolver, ResolverConfig};
use harden_testserver::{RecordedRepo, ServerOptions, TestServer};
use harden_transforms::permissions::{GithubFiles, Permissions, PermissionsOptions, RemoteFiles};
use harden_transforms::{FileKind, Transform};

use common::render_outcome;

const FIXTURE_REPOS: &[&str] = &[
    "harden-fixtures/notify",
    "harden-fixtures/labeler",
    "harden-fixtures/comment",
    "harden-fixtures/workflows",
    "harden-fixtures/tools",
    "harden-fixtures/cloud-login",
];

fn server() -> TestServer {
    let repos = FIXTURE_REPOS.iter().enumerate().map(|(i, name)| {
        let sha = format!("{:040x}", i + 1);
        RecordedRepo::new(name)
            .with_tag("v1", &sha)
            .with_branch("main", &sha)
    });
    let server =
        TestServer::start_with_repos(repos, ServerOptions::default(), 0).expect("test server");
    server.set_actions_dir(common::testdata().join("permissions/remote_recorded/actions"));
    server
}

fn remote(server: &TestServer) -> Arc<dyn RemoteFiles> {
    let config = ResolverConfig {
        server_url: server.url(),
        api_url: server.url(),
        timeout: Duration::from_secs(10),
        retry_backoff: Duration::from_millis(1),
        ..ResolverConfig::default()
    };
    let resolver = Arc::new(Resolver::new(config.clone()).expect("resolver"));
    let reader = Arc::new(FileReader::new(&config).expect("reader"));
    Arc::new(GithubFiles::new(resolver, reader))
}

fn check(case: &str) {
    let path = common::testdata().join(format!("permissions/remote/{case}.yml"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(
        &format!(".github/workflows/{case}.yml"),
        FileKind::Workflow,
        &text,
    );
    let server = server();
    let transform = Permissions::new(PermissionsOptions::default()).with_remote(remote(&server));
    let outcome = transform.run(&repo);
    let again = transform.run(&repo.applied(&outcome));
    assert!(
        again.changes.is_empty(),
        "{case}: a second run changes more"
    );
    let mut text = render_outcome(&outcome);
    for c in &outcome.changes {
        for n in &c.notes {
            text.push_str(&format!("note {}: {}\n", n.line, n.message));
        }
    }
    insta::assert_snapshot!(format!("remote_{case}"), text);
}

#[test]
fn unknown_action_without_token_input_needs_nothing() {
    check("unknown_action_without_token");
}

#[test]
fn unknown_action_with_token_input_is_undetermined() {
    check("unknown_action_with_token_input");
}

#[test]
fn composite_remote_action_is_read_step_by_step() {
    check("composite_remote_action");
}

#[test]
fn remote_reusable_workflow_is_read_at_its_commit() {
    check("remote_reusable_workflow");
}

#[test]
fn local_action_of_another_checked_out_repository_is_read_remotely() {
    check("checkout_other_repository");
}

#[test]
fn without_a_reader_unknown_actions_stay_undetermined() {
    let path = common::testdata().join("permissions/remote/unknown_action_without_token.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(".github/workflows/x.yml", FileKind::Workflow, &text);
    let outcome = Permissions::default().run(&repo);
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.message.contains("not in harden's knowledge base")));
}

#[test]
fn files_are_fetched_once_each_and_together() {
    let path = common::testdata().join("permissions/remote/unknown_action_with_token_input.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(".github/workflows/x.yml", FileKind::Workflow, &text);
    let server = server();
    let transform = Permissions::default().with_remote(remote(&server));
    let _ = transform.run(&repo);
    let labeler =
        "/harden-fixtures/labeler/raw/0000000000000000000000000000000000000002/action.yml";
    assert_eq!(server.requests_to(labeler), 1, "{:?}", server.requests());
}
