//! `harden audit --merge FILE...`: joins JSON reports of earlier runs (`harden audit --format
//! json`, one per repository in a GitHub Actions sweep, or several folders audited apart) into
//! one report, printed in any of the audit's formats.
//!
//! The files come from elsewhere (artifacts of other jobs), so they are read as hostile text:
//! at most [`MAX_FILE`] bytes each, regular files only, and every repository name and detail is
//! escaped ([`crate::escape`]) before it reaches a table, a terminal or a job summary.

use std::path::{Path, PathBuf};

use super::{checks, CheckResult, RepoAudit, Status};

/// The largest audit file read (a sweep of 1,000 repositories writes about 3 MB).
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// One audit file, as `harden audit --format json` writes it.
#[derive(serde::Deserialize)]
struct AuditFile {
    repositories: Vec<FileRepo>,
}

/// One repository of an audit file.
#[derive(serde::Deserialize)]
struct FileRepo {
    root: String,
    checks: Vec<FileCheck>,
}

/// One check result of an audit file.
#[derive(serde::Deserialize)]
struct FileCheck {
    id: String,
    status: Status,
    #[serde(default)]
    detail: String,
}

/// The repositories of every file, in the order of the files, and one message per file that
/// could not be read (the others are still merged).
pub(super) fn merge_files(files: &[PathBuf]) -> (Vec<RepoAudit>, Vec<String>) {
    let mut audits = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match read_file(file) {
            Ok(parsed) => {
                for repo in parsed.repositories {
                    audits.push(to_audit(repo, file, &mut problems));
                }
            }
            Err(why) => problems.push(format!("{}: {why}", crate::escape::path(file))),
        }
    }
    (audits, problems)
}

/// Reads and parses one audit file; the error says what to do.
fn read_file(file: &Path) -> Result<AuditFile, String> {
    let meta = std::fs::metadata(file).map_err(|e| format!("cannot read the file: {e}"))?;
    if !meta.is_file() {
        return Err(
            "not a regular file; give the JSON files written by `harden audit --format json`"
                .into(),
        );
    }
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{} bytes, more than the {} MiB an audit file may have; split the sweep",
            meta.len(),
            MAX_FILE / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read the file: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "not an audit file ({}): write one with `harden audit --format json`",
            crate::escape::message(&e.to_string())
        )
    })
}

/// One repository of a file as a report row: its checks in the order of [`checks::all`], a
/// check the file does not have (written by another version of harden) as `n/a`, saying so.
fn to_audit(repo: FileRepo, file: &Path, problems: &mut Vec<String>) -> RepoAudit {
    let root = crate::escape::message(&repo.root);
    for found in &repo.checks {
        if !checks::all().iter().any(|c| c.id() == found.id) {
            problems.push(format!(
                "{}: {root}: unknown check `{}` left out (written by a newer harden?)",
                crate::escape::path(file),
                crate::escape::message(&found.id)
            ));
        }
    }
    let results = checks::all()
        .iter()
        .map(|check| {
            let id = check.id();
            match repo.checks.iter().find(|c| c.id == id) {
                Some(found) => CheckResult {
                    id,
                    status: found.status,
                    detail: crate::escape::message(&found.detail),
                },
                None => CheckResult {
                    id,
                    status: Status::NotApplicable,
                    detail: format!("not in {}", crate::escape::path(file)),
                },
            }
        })
        .collect();
    RepoAudit {
        root: PathBuf::from(root),
        checks: results,
        unreadable: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn two_files_give_every_repository_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(
            dir.path(),
            "a.json",
            r#"{"repositories":[{"root":"org/a","checks":[{"id":"pinned-actions","status":"pass","detail":"ok"}]}]}"#,
        );
        let b = write(
            dir.path(),
            "b.json",
            r#"{"repositories":[{"root":"org/b\u001b[31m","checks":[{"id":"fuzzing","status":"fail","detail":"x\ny"},{"id":"new-check","status":"pass"}]}]}"#,
        );
        let (audits, problems) = merge_files(&[a, b]);
        let roots: Vec<String> = audits
            .iter()
            .map(|a| a.root.display().to_string())
            .collect();
        assert_eq!(roots, ["org/a", "org/b\\u{1b}[31m"]);
        assert_eq!(audits[0].checks.len(), checks::all().len());
        assert_eq!(audits[0].checks[0].status, Status::Pass);
        assert_eq!(audits[0].checks[1].status, Status::NotApplicable);
        let fuzzing = audits[1]
            .checks
            .iter()
            .find(|c| c.id == "fuzzing")
            .expect("fuzzing");
        assert_eq!(
            (fuzzing.status, fuzzing.detail.as_str()),
            (Status::Fail, "x\\ny")
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("unknown check `new-check`"),
            "{problems:?}"
        );
    }

    #[test]
    fn bad_files_are_reported_and_the_others_merged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = write(dir.path(), "good.json", r#"{"repositories":[]}"#);
        let bad = write(dir.path(), "bad.json", "{\"repositories\": [1");
        let (audits, problems) = merge_files(&[bad, dir.path().to_path_buf(), good]);
        assert!(audits.is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("line 1 column"), "{problems:?}");
        assert!(problems[1].contains("not a regular file"), "{problems:?}");
    }
}
