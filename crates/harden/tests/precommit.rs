//! The real pre-commit, installing harden from this repository with `pre-commit try-repo`,
//! against a scratch repository with an unpinned workflow. GitHub is the local test server.
//!
//! Needs `pre-commit` (PyPI): `.ci/run` installs it into `.ci/venv` and sets `HARDEN_PRE_COMMIT`;
//! without the variable, `.ci/venv/bin/pre-commit` is used when present. Without either the test
//! is skipped, except in CI (`CI` set), where a missing pre-commit is a failure.
//!
//! The last step runs the check on the pinned repository with the server unreachable and an
//! empty cache (pre-commit.ci has no network): SHA pins with version comments pass.

#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Output};

use harden_testserver::{default_refs_dir, TestServer};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("command runs")
}

fn git(dir: &Path, args: &[&str]) {
    let out = run(Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir));
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn pre_commit_hook_fails_then_fixes_then_passes() {
    let Some(pre_commit) = harden_testserver::ci_tool("HARDEN_PRE_COMMIT", "pre-commit") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set HARDEN_PRE_COMMIT (see .ci/run)"
        );
        harden_testserver::skipped(
            "the pre-commit hook test: set HARDEN_PRE_COMMIT (`.ci/run` installs pre-commit; see the README)",
        );
        return;
    };
    let this_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let server = TestServer::start(default_refs_dir()).expect("server");
    let cache = tempfile::tempdir().expect("cache");
    let home = tempfile::tempdir().expect("pre-commit home");
    let scratch = tempfile::tempdir().expect("scratch repo");
    let wf_dir = scratch.path().join(".github/workflows");
    std::fs::create_dir_all(&wf_dir).expect("mkdir");
    let workflow = "on: push\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";
    std::fs::write(wf_dir.join("ci.yml"), workflow).expect("write");
    git(scratch.path(), &["init", "-q", "-b", "main"]);
    git(scratch.path(), &["add", "-A"]);
    git(scratch.path(), &["commit", "-q", "-m", "initial"]);

    let try_repo_at = |hook: &str, url: &str, cache: &Path| {
        run(Command::new(&pre_commit)
            .args([
                "try-repo",
                &this_repo.to_string_lossy(),
                hook,
                "--all-files",
                "--verbose",
            ])
            .current_dir(scratch.path())
            .env("PRE_COMMIT_HOME", home.path())
            .env("GITHUB_SERVER_URL", url)
            .env("GITHUB_API_URL", url)
            .env("HARDEN_CACHE_DIR", cache)
            .env("NO_COLOR", "1")
            // pre-commit runs `cargo install` (a release build); an unoptimised one is enough
            // to test the hook and builds in about half the time.
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN"))
    };
    let try_repo = |hook: &str| try_repo_at(hook, &server.url(), cache.path());
    // Only pin-actions matters here: a pre-filled dependabot.yml keeps that transform quiet.
    std::fs::write(
        scratch.path().join(".github/dependabot.yml"),
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    groups:\n      actions:\n        patterns: ['*']\n    cooldown:\n      default-days: 7\n",
    )
    .expect("write");
    git(scratch.path(), &["add", "-A"]);
    git(scratch.path(), &["commit", "-q", "-m", "dependabot"]);

    let out = try_repo("harden");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !out.status.success(),
        "the check must fail on an unpinned action:\n{all}"
    );
    assert!(
        all.contains(".github/workflows/ci.yml"),
        "the failing file is shown:\n{all}"
    );

    let out = try_repo("harden-fix");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let fixed = std::fs::read_to_string(wf_dir.join("ci.yml")).expect("read");
    assert!(
        fixed.contains("actions/checkout@") && !fixed.contains("@v4\n"),
        "{all}\n{fixed}"
    );
    git(scratch.path(), &["add", "-A"]);

    let out = try_repo("harden");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "after the fix the check passes:\n{all}"
    );

    // No network and a cold cache: the pinned repository still passes, with one note.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let unreachable = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let empty_cache = tempfile::tempdir().expect("empty cache");
    let out = try_repo_at("harden", &unreachable, empty_cache.path());
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "offline, the pinned repository passes the check:\n{all}"
    );
    assert!(
        all.contains("not verified") && !all.contains("error:"),
        "{all}"
    );
}
