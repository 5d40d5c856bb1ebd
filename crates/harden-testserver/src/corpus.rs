//! Where the tests find real-world workflows: the sample kept in the repository
//! (`testdata/corpus`, always there) and the full corpus beside the repository
//! (`../shared/corpus`, only on machines that have it), and how a test says what it skipped.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One folder of real-world files, one `<owner>__<repo>/` folder per project.
#[derive(Debug, Clone)]
pub struct CorpusRoot {
    /// `"sample"` or `"full corpus"`, for messages.
    pub name: &'static str,
    /// The folder.
    pub path: PathBuf,
    /// True for the full corpus: tests may expect larger counts there.
    pub full: bool,
}

/// The corpus sample kept in the repository (`testdata/corpus`).
pub fn sample_corpus_dir() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/corpus"
    ));
    path.canonicalize().unwrap_or(path)
}

/// The full corpus: `HARDEN_FULL_CORPUS` when set, else `../shared/corpus` beside the repository.
pub fn full_corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HARDEN_FULL_CORPUS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let root = root.canonicalize().unwrap_or(root);
    match root.parent() {
        Some(beside) => beside.join("shared/corpus"),
        None => root.join("../shared/corpus"),
    }
}

/// The corpus folders `test` runs on: the sample always, then the full corpus when it exists.
/// When it does not, prints one `skipped:` line naming `test`.
pub fn corpus_roots(test: &str) -> Vec<CorpusRoot> {
    let mut roots = vec![CorpusRoot {
        name: "sample",
        path: sample_corpus_dir(),
        full: false,
    }];
    let full = full_corpus_dir();
    if full.is_dir() {
        roots.push(CorpusRoot {
            name: "full corpus",
            path: full,
            full: true,
        });
    } else {
        skipped(&format!(
            "{test}: the full corpus (not found at {}; ran the sample in testdata/corpus only)",
            full.display()
        ));
    }
    roots
}

/// Every file below `dir`, subfolders included, in name order (an unreadable folder is passed
/// over): how the tests list a corpus project's files.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// Prints `skipped: <what>` on the test's standard error, past the test harness's capture, so
/// that `cargo test` shows it.
pub fn skipped(what: &str) {
    // `eprintln!` is captured by the harness for passing tests; a direct write is not.
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// A tool the tests use when it is installed (`pre-commit`, `actionlint`, `check-jsonschema`,
/// `python`): the path in the environment variable `var` when set, else `.ci/venv/bin/<name>`
/// of this repository when `.ci/run` (or the README's install command) put it there.
pub fn ci_tool(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/venv/bin")).join(name);
    venv.is_file().then_some(venv)
}
