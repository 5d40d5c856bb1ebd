//! Helpers shared by the transform tests.
#![allow(dead_code)]

use std::path::Path;

use harden_transforms::{FileChange, FileKind, Outcome, Repository, SourceFile};

/// The repository's `testdata/` folder.
pub(crate) fn testdata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// A repository made of one file.
pub(crate) fn single_file_repo(path: &str, kind: FileKind, text: &str) -> Repository {
    Repository {
        root: std::path::PathBuf::from("."),
        files: vec![SourceFile::new(path, kind, text)],
    }
}

/// A unified diff of one change, as a reviewer would read it.
pub(crate) fn unified_diff(change: &FileChange) -> String {
    let before = change.before.as_deref().unwrap_or("");
    let name = change.path.display().to_string();
    similar::TextDiff::from_lines(before, &change.after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Every change of an outcome as one diff text, followed by its findings: the snapshot format.
pub(crate) fn render_outcome(outcome: &Outcome) -> String {
    let mut out = String::new();
    for c in &outcome.changes {
        out.push_str(&unified_diff(c));
    }
    for f in &outcome.findings {
        // A finding about the whole repository is at its root folder, which is a path of
        // this machine for fixtures read from `testdata/`.
        let path = if f.line.is_none() && f.path.starts_with(testdata()) {
            "<root>".to_owned()
        } else {
            f.path.display().to_string()
        };
        out.push_str(&format!(
            "{:?} {}:{}: {}\n",
            f.severity,
            path,
            f.line.map_or(String::from("-"), |l| l.to_string()),
            f.message
        ));
    }
    out
}

/// The kind of a corpus file from its path inside its project's folder (`/` separated):
/// workflows under `.github/workflows/`, `action.y*ml` files anywhere; `None` for the rest.
pub(crate) fn corpus_kind(rel: &str) -> Option<FileKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if rel.starts_with(".github/workflows/") && yaml {
        Some(FileKind::Workflow)
    } else if name == "action.yml" || name == "action.yaml" {
        Some(FileKind::Action)
    } else {
        None
    }
}

/// A repository rooted at `.` holding `files`.
pub(crate) fn repository(files: Vec<SourceFile>) -> Repository {
    Repository {
        root: std::path::PathBuf::from("."),
        files,
    }
}

/// Fails when the guard refused one of the outcome's changes ("left unchanged" errors).
pub(crate) fn assert_guard_passed(outcome: &Outcome) {
    let refused: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| {
            f.severity == harden_transforms::Severity::Error
                && f.message.starts_with("left unchanged")
        })
        .collect();
    assert!(
        refused.is_empty(),
        "the guard refused a change: {refused:#?}"
    );
}
