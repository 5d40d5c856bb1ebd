//! The README's first command, exactly as written there: harden on the demo repository
//! (`testdata/demo`) with the recorded refs, no network, every transform showing a diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    path.canonicalize().unwrap_or(path)
}

/// The arguments after `--` of the README's `cargo run ... -p harden -- ...` line.
fn readme_demo_args() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -p harden -- "))
        .expect("the README's first command: `cargo run --release -p harden -- ...`");
    let (_, args) = line
        .split_once(" -- ")
        .expect("`--` before harden's arguments");
    args.split_whitespace().map(str::to_owned).collect()
}

/// Every file under `dir` with its bytes, to check that nothing was written.
fn snapshot(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            snapshot(&path, out);
        } else {
            let bytes = std::fs::read(&path).expect("read");
            out.push((path, bytes));
        }
    }
}

#[test]
fn readme_first_command_shows_every_transform_offline() {
    let args = readme_demo_args();
    assert!(
        args.iter().any(|a| a == "--recorded"),
        "the README's command must not need the network: {args:?}"
    );
    let root = repo_root();
    let demo = root.join("testdata/demo");
    let mut before = Vec::new();
    snapshot(&demo, &mut before);
    let cache = tempfile::tempdir().expect("cache");
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(&args)
        .arg("--color=never")
        .current_dir(&root)
        // Any request would fail: nothing listens on port 9 of 127.0.0.1.
        .env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env("HARDEN_CACHE_DIR", cache.path())
        .env_remove("HARDEN_RECORDED")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .expect("harden runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for transform in ["pin-actions", "permissions", "dependabot"] {
        let section = stdout
            .split(&format!("=== {transform}:"))
            .nth(1)
            .unwrap_or_else(|| panic!("no `{transform}` section:\n{stdout}"));
        let section = section.split("\n=== ").next().unwrap_or_default();
        assert!(
            section.contains("\n+++ b/")
                && section
                    .lines()
                    .any(|l| l.starts_with('+') && !l.starts_with("+++")),
            "`{transform}` shows no diff:\n{section}"
        );
    }
    // Every workflow, the composite action, a new dependabot.yml.
    for file in [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        ".github/workflows/docs.yml",
        ".github/actions/setup-project/action.yml",
        ".github/dependabot.yml",
    ] {
        assert!(
            stdout.contains(&format!("+++ b/testdata/demo/{file}")),
            "{file}:\n{stdout}"
        );
    }
    assert!(!stderr.contains("error"), "{stderr}");
    let mut after = Vec::new();
    snapshot(&demo, &mut after);
    assert!(before == after, "--dry-run wrote to testdata/demo");
    assert!(
        std::fs::read_dir(cache.path())
            .expect("cache")
            .next()
            .is_none(),
        "recorded data must not fill the cache"
    );
}

/// The project's own CI workflow stays hardened by harden (pinned with the recorded refs).
#[test]
fn the_projects_own_ci_workflow_is_hardened() {
    let root = repo_root();
    let cache = tempfile::tempdir().expect("cache");
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args([
            "--check",
            "--recorded",
            "testdata/recorded",
            "--color=never",
        ])
        .arg(".github/workflows/ci.yml")
        .current_dir(&root)
        .env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env("HARDEN_CACHE_DIR", cache.path())
        .output()
        .expect("harden runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "run `harden --recorded testdata/recorded .github/workflows/ci.yml`:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ci = std::fs::read_to_string(root.join(".github/workflows/ci.yml")).expect("ci.yml");
    assert!(ci.contains("\npermissions:\n  contents: read\n"), "{ci}");
    assert!(ci.contains(".ci/run"), "{ci}");
}

/// `--recorded` pointing at a folder without `refs/` is a usage error that says what to give.
#[test]
fn recorded_without_refs_is_a_usage_error() {
    let empty = tempfile::tempdir().expect("empty folder");
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["--dry-run", "--recorded"])
        .arg(empty.path())
        .arg("testdata/demo")
        .current_dir(repo_root())
        .output()
        .expect("harden runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("no `refs` folder"), "{stderr}");
}
