//! `harden audit`: every check in every state on the fixtures of `testdata/audit`, the output
//! formats, the exit code, the folder named `audit`, and the whole shared corpus.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/audit")
}

fn harden(args: &[&std::ffi::OsStr], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(args)
        .current_dir(cwd)
        .env("HARDEN_CACHE_DIR", cwd.join(".no-cache"))
        .env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .expect("harden runs")
}

fn audit_json(roots: &[PathBuf]) -> serde_json::Value {
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["audit".as_ref(), "--format".as_ref(), "json".as_ref()];
    args.extend(roots.iter().map(|r| r.as_os_str()));
    let out = harden(&args, &fixtures());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The status of every check, in report order, for one fixture.
fn statuses(fixture: &str) -> Vec<(String, String)> {
    let v = audit_json(&[fixtures().join(fixture)]);
    let repos = v["repositories"].as_array().expect("repositories");
    assert_eq!(repos.len(), 1);
    repos[0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            assert!(
                !c["detail"].as_str().unwrap_or_default().is_empty(),
                "{fixture}: {c}"
            );
            (
                c["id"].as_str().expect("id").to_owned(),
                c["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

const IDS: [&str; 9] = [
    "pinned-actions",
    "pinned-dependencies",
    "token-permissions",
    "dependency-updates",
    "signed-releases",
    "security-policy",
    "fuzzing",
    "sast",
    "dangerous-workflows",
];

fn expect(fixture: &str, expected: [&str; 9]) {
    let got = statuses(fixture);
    let want: Vec<(String, String)> = IDS
        .iter()
        .zip(expected)
        .map(|(id, s)| ((*id).to_owned(), s.to_owned()))
        .collect();
    assert_eq!(got, want, "{fixture}");
}

#[test]
fn every_check_passes_on_a_hardened_repository() {
    expect("all-pass", ["pass"; 9]);
}

#[test]
fn partial_states() {
    expect(
        "partial",
        [
            "partial", "partial", "partial", "partial", "fail", "fail", "partial", "fail", "pass",
        ],
    );
    expect(
        "renovate-partial",
        [
            "pass", "n/a", "fail", "partial", "fail", "fail", "fail", "fail", "pass",
        ],
    );
}

#[test]
fn failing_states() {
    expect("all-fail", ["fail"; 9]);
}

#[test]
fn not_applicable_without_workflows() {
    expect(
        "empty",
        [
            "n/a", "n/a", "n/a", "fail", "fail", "fail", "fail", "fail", "n/a",
        ],
    );
}

#[test]
fn script_injection_renovate_cosign_semgrep_cargo_fuzz() {
    expect(
        "injection",
        [
            "pass", "fail", "pass", "pass", "partial", "pass", "pass", "pass", "fail",
        ],
    );
}

#[test]
fn details_name_the_fixing_transform() {
    let v = audit_json(&[fixtures().join("all-fail")]);
    let checks = v["repositories"][0]["checks"].as_array().expect("checks");
    let detail = |id: &str| {
        checks
            .iter()
            .find(|c| c["id"] == id)
            .and_then(|c| c["detail"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(detail("pinned-actions").contains("harden --only pin-actions"));
    let dependencies = detail("pinned-dependencies");
    for place in [
        "`FROM python:3.12-slim` at Dockerfile:1",
        "at Dockerfile:2",
        "`npm install && npm run build` at .github/workflows/preview.yml:13",
        "download-then-run 0/1",
        "harden --only pin-images",
    ] {
        assert!(dependencies.contains(place), "{place}: {dependencies}");
    }
    assert!(detail("token-permissions").contains("harden --only permissions"));
    assert!(detail("dependency-updates").contains("harden --only dependabot"));
    assert!(detail("signed-releases").contains("harden --only sign-releases"));
    assert!(detail("dangerous-workflows").contains(".github/workflows/preview.yml:10"));
}

#[test]
fn text_and_markdown_tables_have_one_row_per_repository() {
    let dir = fixtures();
    let out = harden(&["audit".as_ref(), dir.as_os_str()], &dir);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text.lines().next().expect("header");
    for id in IDS {
        assert!(header.contains(id), "{header}");
    }
    // A folder without .github/ or .git stands for its sub-folders that have one.
    for name in [
        "all-pass",
        "partial",
        "all-fail",
        "injection",
        "renovate-partial",
    ] {
        assert_eq!(
            text.lines()
                .filter(|l| l
                    .split_whitespace()
                    .next()
                    .is_some_and(|root| root.ends_with(&format!("/{name}"))))
                .count(),
            1,
            "{name}:\n{text}"
        );
    }
    assert!(text.contains("passing"), "{text}");

    let out = harden(
        &[
            "audit".as_ref(),
            "--format".as_ref(),
            "markdown".as_ref(),
            dir.join("all-pass").as_os_str(),
            dir.join("all-fail").as_os_str(),
        ],
        &dir,
    );
    let md = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], format!("| repository | {} |", IDS.join(" | ")));
    assert_eq!(lines[1], format!("| --- |{}", " --- |".repeat(9)));
    assert!(lines[2].ends_with("| pass | pass | pass | pass | pass | pass | pass | pass | pass |"));
    assert!(lines[3].ends_with("| fail | fail | fail | fail | fail | fail | fail | fail | fail |"));
    assert!(md.contains("## Details"));
}

#[test]
fn an_unreadable_root_is_reported_and_the_others_still_are() {
    let dir = fixtures();
    let out = harden(
        &[
            "audit".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "no-such-folder".as_ref(),
            dir.join("all-pass").as_os_str(),
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-folder"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["repositories"].as_array().map(Vec::len), Some(1));
}

/// The sweep's last step: two audits written apart (one per repository, as the matrix jobs of
/// `.github/workflows/sweep.yml` write them) join into one table that names both.
#[test]
fn merge_joins_two_audits_into_one_table_naming_both() {
    let work = tempfile::tempdir().expect("tmp");
    let dir = fixtures();
    let mut files = Vec::new();
    for name in ["all-pass", "all-fail"] {
        let out = harden(
            &[
                "audit".as_ref(),
                "--format".as_ref(),
                "json".as_ref(),
                name.as_ref(),
            ],
            &dir,
        );
        assert_eq!(out.status.code(), Some(0));
        let file = work.path().join(format!("{name}.json"));
        std::fs::write(&file, &out.stdout).expect("write");
        files.push(file);
    }
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "audit".as_ref(),
        "--merge".as_ref(),
        "--format".as_ref(),
        "markdown".as_ref(),
    ];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let out = harden(&args, work.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], format!("| repository | {} |", IDS.join(" | ")));
    assert_eq!(
        lines[2],
        "| all-pass | pass | pass | pass | pass | pass | pass | pass | pass | pass |"
    );
    assert_eq!(
        lines[3],
        "| all-fail | fail | fail | fail | fail | fail | fail | fail | fail | fail |"
    );
    assert!(md.contains("### all-fail"), "{md}");

    // The text table too, with the count of passing repositories; a file that is not an
    // audit is an error (exit 2) and the others are still joined.
    std::fs::write(work.path().join("bad.json"), "[]").expect("write");
    let bad = work.path().join("bad.json");
    args.truncate(2);
    args.extend(files.iter().map(|f| f.as_os_str()));
    args.push(bad.as_os_str());
    let out = harden(&args, work.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json: not an audit file"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("all-pass ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("all-fail ")), "{text}");
    assert!(text.contains("1/2"), "{text}");

    let out = harden(&["audit".as_ref(), "--merge".as_ref()], work.path());
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn audit_writes_nothing() {
    let work = tempfile::tempdir().expect("tmp");
    let repo = work.path().join("repo");
    std::fs::create_dir_all(repo.join(".github/workflows")).expect("mkdir");
    let text = std::fs::read_to_string(fixtures().join("all-fail/.github/workflows/ci.yml"))
        .expect("fixture");
    std::fs::write(repo.join(".github/workflows/ci.yml"), &text).expect("write");
    let out = harden(&["audit".as_ref(), repo.as_os_str()], work.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(repo.join(".github/workflows/ci.yml")).expect("read"),
        text
    );
    assert!(!repo.join(".github/dependabot.yml").exists());
}

/// `harden audit` is the subcommand; `harden ./audit` and `harden -- audit` still harden a
/// repository folder named `audit`, as before the subcommand existed.
#[test]
fn a_repository_folder_named_audit() {
    let work = tempfile::tempdir().expect("tmp");
    let repo = work.path().join("audit");
    std::fs::create_dir_all(repo.join(".github/workflows")).expect("mkdir");
    std::fs::write(
        repo.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n",
    )
    .expect("write");
    for path in ["./audit", "--"] {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--check".as_ref(),
            "--only".as_ref(),
            "permissions".as_ref(),
            path.as_ref(),
        ];
        if path == "--" {
            args.push("audit".as_ref());
        }
        let out = harden(&args, work.path());
        // --check: 1 because permissions would add a block.
        assert_eq!(
            out.status.code(),
            Some(1),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = harden(&["audit".as_ref()], &repo);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("token-permissions"));
}

#[test]
fn the_whole_corpus_is_reported_without_a_panic() {
    // The sample in testdata/corpus always; the full corpus when it is beside the clone.
    for root in harden_testserver::corpus_roots("the audit over the corpus") {
        audit_every_project(&root.path);
    }
}

/// Audits every project folder of `corpus` in one run: each is reported with nine checks.
fn audit_every_project(corpus: &Path) {
    let projects: Vec<String> = std::fs::read_dir(corpus)
        .expect("read_dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let started = std::time::Instant::now();
    let out = harden(
        &[
            "audit".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            corpus.as_os_str(),
        ],
        corpus,
    );
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let repos = v["repositories"].as_array().expect("repositories");
    assert_eq!(repos.len(), projects.len());
    for project in &projects {
        let repo = repos
            .iter()
            .find(|r| {
                r["root"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(project.as_str()))
            })
            .unwrap_or_else(|| panic!("{project} not reported"));
        assert_eq!(
            repo["checks"].as_array().map(Vec::len),
            Some(9),
            "{project}"
        );
    }
    eprintln!(
        "audit of {} corpus repositories: {:.1}s",
        repos.len(),
        elapsed.as_secs_f64()
    );
}

/// A folder of symbolic links to repositories (a sweep over checkouts kept elsewhere).
#[cfg(unix)]
#[test]
fn a_folder_of_links_to_repositories() {
    let work = tempfile::tempdir().expect("tmp");
    for name in ["all-pass", "all-fail"] {
        std::os::unix::fs::symlink(fixtures().join(name), work.path().join(name)).expect("link");
    }
    let v = audit_json(&[work.path().to_path_buf()]);
    let roots: Vec<&str> = v["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .filter_map(|r| r["root"].as_str())
        .collect();
    assert_eq!(roots.len(), 2, "{roots:?}");
    assert!(
        roots[0].ends_with("all-fail") && roots[1].ends_with("all-pass"),
        "{roots:?}"
    );
}

#[test]
fn signed_releases_counts_the_signed_tags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", root)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "--quiet"]);
    git(&["commit", "--quiet", "--allow-empty", "-m", "first"]);
    git(&["tag", "v1.0.0"]);
    git(&["tag", "-a", "-m", "release", "v1.1.0"]);
    let v = audit_json(&[root.to_path_buf()]);
    let signed = v["repositories"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "signed-releases")
        .expect("signed-releases")
        .clone();
    let detail = signed["detail"].as_str().unwrap_or_default();
    assert!(
        detail.ends_with("; tags: 0 of 2 signed (sign release tags with `git tag -s`)"),
        "{detail}"
    );
}
