//! Issue 28: eight reusable workflows (or composite actions) of ten callers each made the
//! permissions analysis follow 10^7 paths and never end. Each called workflow's requirement is
//! now computed once per caller context, and a job analyses a bounded number of them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use harden_transforms::permissions::{Permissions, PermissionsOptions};
use harden_transforms::{FileKind, Repository, Severity, SourceFile, Transform};

const LEVELS: usize = 8;
const CALLERS: usize = 10;

fn repo(files: Vec<(String, FileKind, String)>) -> Repository {
    Repository {
        root: PathBuf::from("."),
        files: files
            .into_iter()
            .map(|(path, kind, text)| SourceFile::new(PathBuf::from(path), kind, text))
            .collect(),
    }
}

/// `w0.yml` (on push) to `w7.yml` each have ten jobs calling the next; `w8.yml` comments on
/// issues with the job token.
fn nested_workflows() -> Repository {
    let mut files = Vec::new();
    for level in 0..LEVELS {
        let on = if level == 0 { "push" } else { "workflow_call" };
        let mut text = format!("on: {on}\njobs:\n");
        for job in 0..CALLERS {
            text.push_str(&format!(
                "  j{job}:\n    uses: ./.github/workflows/w{}.yml\n",
                level + 1
            ));
        }
        files.push((
            format!(".github/workflows/w{level}.yml"),
            FileKind::Workflow,
            text,
        ));
    }
    files.push((
        format!(".github/workflows/w{LEVELS}.yml"),
        FileKind::Workflow,
        "on: workflow_call\njobs:\n  leaf:\n    runs-on: ubuntu-latest\n    steps:\n      - run: gh issue comment 1 --body hi\n        env:\n          GH_TOKEN: ${{ github.token }}\n".to_owned(),
    ));
    repo(files)
}

/// `a0` to `a7` each run the next composite action ten times; `a8` runs `gh`.
fn nested_actions() -> Repository {
    let mut files = vec![(
        ".github/workflows/ci.yml".to_owned(),
        FileKind::Workflow,
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./.github/actions/a0\n".to_owned(),
    )];
    for level in 0..LEVELS {
        let mut text =
            String::from("name: a\ndescription: a\nruns:\n  using: composite\n  steps:\n");
        for _ in 0..CALLERS {
            text.push_str(&format!("    - uses: ./.github/actions/a{}\n", level + 1));
        }
        files.push((
            format!(".github/actions/a{level}/action.yml"),
            FileKind::Action,
            text,
        ));
    }
    files.push((
        format!(".github/actions/a{LEVELS}/action.yml"),
        FileKind::Action,
        "name: a\ndescription: a\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n".to_owned(),
    ));
    repo(files)
}

#[test]
fn nested_reusable_workflows_are_each_analysed_once_per_context() {
    let transform = Permissions::new(PermissionsOptions::default());
    let started = Instant::now();
    let outcome = transform.run(&nested_workflows());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // The leaf's need reaches the top: every caller grants `issues: write`.
    let top = outcome
        .changes
        .iter()
        .find(|c| c.path.ends_with("w0.yml"))
        .unwrap_or_else(|| panic!("w0.yml changed: {:?}", outcome.findings));
    assert!(top.after.contains("issues: write"), "{}", top.after);
}

#[test]
fn nested_composite_actions_stop_at_the_cap_with_a_message() {
    let transform = Permissions::new(PermissionsOptions::default());
    let started = Instant::now();
    let outcome = transform.run(&nested_actions());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let capped: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| {
            f.message
                .contains("nested reusable workflows and composite actions")
        })
        .collect();
    assert_eq!(capped.len(), 1, "{:#?}", outcome.findings);
    assert!(capped[0].severity >= Severity::Warning);
    assert!(
        outcome
            .changes
            .iter()
            .all(|c| !c.after.contains("  build:\n    permissions")),
        "an undetermined job gets no block"
    );
}
