//! Tests of the checkout-credentials transform: each fixture of `testdata/checkout-credentials/`
//! becomes its `.expected.yml`, a second run changes nothing, and what is kept or left is said.

mod common;

use std::path::PathBuf;

use harden_transforms::checkout_credentials::CheckoutCredentials;
use harden_transforms::{FileKind, Outcome, Repository, Severity, SourceFile, Transform};

fn repository(name: &str, text: String) -> Repository {
    Repository {
        root: PathBuf::from("."),
        files: vec![SourceFile::new(
            format!(".github/workflows/{name}"),
            FileKind::Workflow,
            text,
        )],
    }
}

fn fixture(name: &str) -> String {
    let path = common::testdata().join("checkout-credentials").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(name: &str, text: String) -> Outcome {
    CheckoutCredentials.run(&repository(name, text))
}

fn message_for(outcome: &Outcome, job: &str) -> (Severity, String) {
    let f = outcome
        .findings
        .iter()
        .find(|f| f.message.contains(&format!("job `{job}`")))
        .unwrap_or_else(|| panic!("no finding for {job}: {:#?}", outcome.findings));
    (f.severity, f.message.clone())
}

#[test]
fn jobs_that_never_push_stop_persisting_the_token() {
    let outcome = run("ci.yml", fixture("jobs.yml"));
    assert_eq!(outcome.changes.len(), 1, "{:#?}", outcome.findings);
    assert_eq!(outcome.changes[0].after, fixture("jobs.expected.yml"));
    assert_eq!(outcome.changes[0].notes.len(), 2);

    let (severity, message) = message_for(&outcome, "bump");
    assert_eq!(severity, Severity::Note);
    assert!(
        message.contains("keeps its checkout credentials"),
        "{message}"
    );
    let (_, message) = message_for(&outcome, "fetch");
    assert!(message.contains("`git fetch`"), "{message}");
    let (severity, message) = message_for(&outcome, "unknown");
    assert_eq!(severity, Severity::Warning);
    assert!(message.contains("mystery-action"), "{message}");
    assert!(
        !outcome.findings.iter().any(|f| f.message.contains("`said`")
            || f.message.contains("`pat`")
            || f.message.contains("`test`"))
    );
}

#[test]
fn a_second_run_changes_nothing() {
    let outcome = run("ci.yml", fixture("jobs.expected.yml"));
    assert!(outcome.changes.is_empty());
}

#[test]
fn a_step_that_keeps_credentials_on_purpose_is_left() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: true\n      - run: make\n";
    let outcome = run("a.yml", text.to_owned());
    assert!(outcome.changes.is_empty());
}

#[test]
fn the_registry_lists_it_as_opt_in() {
    let info = harden_transforms::registry::find("checkout-credentials").expect("registered");
    assert!(info.opt_in);
    assert_eq!(info.name, CheckoutCredentials.name());
}
