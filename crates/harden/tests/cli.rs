//! End-to-end tests of the `harden` binary against a local fake GitHub (never the internet).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harden_testserver::{default_refs_dir, TestServer};

const WORKFLOW: &str = "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4 # keep this note\n      - run: \"echo uses: actions/checkout@v4\"\n";

struct Fixture {
    server: TestServer,
    cache: tempfile::TempDir,
    repo: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let server = TestServer::start(default_refs_dir()).expect("test server starts");
        let cache = tempfile::tempdir().expect("cache dir");
        let repo = tempfile::tempdir().expect("repo dir");
        let wf = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&wf).expect("mkdir");
        std::fs::write(wf.join("ci.yml"), WORKFLOW).expect("write");
        Fixture {
            server,
            cache,
            repo,
        }
    }

    fn workflow(&self) -> PathBuf {
        self.repo.path().join(".github/workflows/ci.yml")
    }

    fn harden(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_harden"))
            .args(args)
            .current_dir(self.repo.path())
            .env("GITHUB_SERVER_URL", self.server.url())
            .env("GITHUB_API_URL", self.server.url())
            .env("HARDEN_CACHE_DIR", self.cache.path())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("NO_COLOR", "1")
            .output()
            .expect("harden runs")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}

#[test]
fn dry_run_shows_a_diff_and_writes_nothing() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-actions", "--dry-run"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("=== pin-actions"), "{stdout}");
    assert!(
        stdout.contains("-      - uses: actions/checkout@v4 # keep this note"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+      - uses: actions/checkout@"),
        "{stdout}"
    );
    assert_eq!(read(&f.workflow()), WORKFLOW);
}

#[test]
fn actions_the_repository_exempts_are_never_fetched() {
    let f = Fixture::new();
    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "pin-actions:\n  exempt: [actions/*]\n",
    )
    .expect("write");
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.server.request_count(), 0, "nothing is fetched ahead");
    assert_eq!(read(&f.workflow()), WORKFLOW);
}

#[test]
fn check_exits_1_then_apply_then_check_exits_0() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ci.yml:7: [pin-actions] actions/checkout@v4 ->"));
    assert_eq!(read(&f.workflow()), WORKFLOW, "check writes nothing");

    let out = f.harden(&["--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = read(&f.workflow());
    assert!(after.contains("# v4"), "{after}");
    assert!(after.contains("# keep this note"), "{after}");
    assert!(
        after.contains("run: \"echo uses: actions/checkout@v4\""),
        "scripts untouched"
    );

    let requests = f.server.request_count();
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        f.server.request_count(),
        requests,
        "pinned files need no request"
    );
}

#[test]
fn single_files_are_processed_alone() {
    let f = Fixture::new();
    let other = f.repo.path().join(".github/workflows/other.yml");
    std::fs::write(&other, WORKFLOW).expect("write");
    let out = f.harden(&["--only", "pin-actions", ".github/workflows/other.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_ne!(read(&other), WORKFLOW);
    assert_eq!(
        read(&f.workflow()),
        WORKFLOW,
        "files not named are left alone"
    );
}

#[test]
fn a_named_workflow_still_extends_the_dependabot_file_it_did_not_name() {
    // Before: the dependabot file harden changed was not among the files read, so the writer
    // took it for a file created meanwhile and refused it (exit 2, "the file changed").
    let f = Fixture::new();
    let dependabot = f.repo.path().join(".github/dependabot.yml");
    let before = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n";
    std::fs::write(&dependabot, before).expect("write");
    let out = f.harden(&["--only", "dependabot", ".github/workflows/ci.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = read(&dependabot);
    assert!(after.starts_with("version: 2\nupdates:\n"), "{after}");
    assert!(after.contains("cooldown:"), "{after}");
}

#[test]
fn invalid_yaml_is_reported_with_its_place_and_the_rest_still_runs() {
    let f = Fixture::new();
    let bad = f.repo.path().join(".github/workflows/bad.yml");
    std::fs::write(&bad, "jobs:\n  a: [\n").expect("write");
    let out = f.harden(&["--only", "pin-actions"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.yml:3:1: invalid YAML"), "{stderr}");
    assert_eq!(read(&bad), "jobs:\n  a: [\n");
    assert_ne!(
        read(&f.workflow()),
        WORKFLOW,
        "the valid file was still pinned"
    );
}

#[test]
fn unknown_transform_is_a_usage_error() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-everything"]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("valid names: pin-actions, pin-images, permissions, dependabot"),
        "{stderr}"
    );
    let out = f.harden(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn unresolvable_reference_exits_2_and_keeps_the_rest() {
    let f = Fixture::new();
    let wf = "jobs:\n  a:\n    steps:\n      - uses: nobody/nothing@v1\n      - uses: actions/checkout@v4\n";
    std::fs::write(f.workflow(), wf).expect("write");
    let out = f.harden(&["--only", "pin-actions"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ci.yml:4:15"), "{stderr}");
    let after = read(&f.workflow());
    assert!(after.contains("nobody/nothing@v1\n"));
    assert!(!after.contains("actions/checkout@v4\n"), "{after}");
}

#[test]
fn offline_without_cache_reports_and_changes_nothing() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-actions", "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("offline"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(read(&f.workflow()), WORKFLOW);
    assert_eq!(f.server.request_count(), 0);
}

#[test]
fn json_output_is_one_document() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-actions", "--dry-run", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["repositories"][0]["changes"][0]["transform"],
        "pin-actions"
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn init_git(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "initial"]);
}

#[test]
fn commit_makes_one_commit_per_transform() {
    let f = Fixture::new();
    init_git(f.repo.path());
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["--only", "pin-actions", "--commit"])
        .current_dir(f.repo.path())
        .env("GITHUB_SERVER_URL", f.server.url())
        .env("GITHUB_API_URL", f.server.url())
        .env("HARDEN_CACHE_DIR", f.cache.path())
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("harden runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = git(f.repo.path(), &["log", "--format=%B", "-1"]);
    assert!(log.starts_with("harden: pin-actions"), "{log}");
    assert!(
        log.contains(".github/workflows/ci.yml:\n- line 7: actions/checkout@v4 ->"),
        "{log}"
    );
    assert!(git(f.repo.path(), &["status", "--porcelain"]).is_empty());
}

#[test]
fn commit_refuses_a_dirty_file() {
    let f = Fixture::new();
    init_git(f.repo.path());
    std::fs::write(f.workflow(), format!("{WORKFLOW}# local edit\n")).expect("write");
    let out = f.harden(&["--only", "pin-actions", "--commit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("uncommitted changes"),
        "{}",
        text(&out.stderr)
    );
    assert!(read(&f.workflow()).ends_with("# local edit\n"));
}

#[test]
fn patch_dir_writes_git_apply_able_patches() {
    let f = Fixture::new();
    init_git(f.repo.path());
    let patches = tempfile::tempdir().expect("dir");
    let dir = patches.path().to_string_lossy().into_owned();
    let out = f.harden(&["--only", "pin-actions", "--patch-dir", &dir]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        read(&f.workflow()),
        WORKFLOW,
        "patch mode writes no workflow"
    );
    let patch = patches.path().join("01-pin-actions.patch");
    assert!(patch.exists());
    git(
        f.repo.path(),
        &["apply", "--check", &patch.to_string_lossy()],
    );
    git(f.repo.path(), &["apply", &patch.to_string_lossy()]);
    assert!(read(&f.workflow()).contains("# v4"));
}

#[test]
fn github_and_sarif_formats() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-actions", "--check", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .contains("::warning file=.github/workflows/ci.yml,line=7,title=harden pin-actions::"),
        "{stdout}"
    );
    let out = f.harden(&["--only", "pin-actions", "--check", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif is json");
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "pin-actions");
}

/// Runs harden in `dir` against `url` (a server that may not exist) with `cache` as its cache.
fn harden_at(dir: &Path, url: &str, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(args)
        .current_dir(dir)
        .env("GITHUB_SERVER_URL", url)
        .env("GITHUB_API_URL", url)
        .env("HARDEN_CACHE_DIR", cache)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env("NO_COLOR", "1")
        .output()
        .expect("harden runs")
}

/// A URL where nothing listens.
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    url
}

const PINNED: &str = "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n      - uses: $/.github/actions/setup\n";

#[test]
fn check_passes_offline_on_a_pinned_repository_and_verify_makes_it_fail() {
    let repo = tempfile::tempdir().expect("repo");
    let wf = repo.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    std::fs::write(wf.join("ci.yml"), PINNED).expect("write");
    let url = unreachable_url();
    for extra in [&[][..], &["--offline"][..]] {
        let cache = tempfile::tempdir().expect("empty cache");
        let mut args = vec!["--only", "pin-actions", "--check"];
        args.extend(extra);
        let out = harden_at(repo.path(), &url, cache.path(), &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        // One note for the repository, however many uses.
        assert_eq!(stderr.matches("not verified").count(), 1, "{stderr}");
        assert!(stderr.starts_with("note: "), "{stderr}");
    }
    let cache = tempfile::tempdir().expect("empty cache");
    let out = harden_at(
        repo.path(),
        &url,
        cache.path(),
        &["--only", "pin-actions", "--check", "--verify"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot verify 2 SHA pins of `actions/checkout`"),
        "{stderr}"
    );
    assert_eq!(read(&wf.join("ci.yml")), PINNED);
}

#[test]
fn a_stale_workflow_lockfile_fails_the_check() {
    let f = Fixture::new();
    let lock = f.repo.path().join(".github/workflows/actions.lock");
    std::fs::write(
        &lock,
        "version: 'v0.0.2'\nworkflows:\n  '.github/workflows/ci.yml':\n    - 'actions/checkout@v4'\ndependencies:\n  'actions/checkout@v4':\n    ref: 'v4'\n    commit: 'sha1-11d5960a326750d5838078e36cf38b85af677262'\n    owner_id: 1\n    repo_id: 2\n",
    )
    .expect("write");
    // Pinning an onboarded workflow: the lockfile must be refreshed.
    let out = f.harden(&["--only", "pin-actions"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("actions.lock:3: [pin-actions] pin-actions changes `uses:` in ci.yml")
            && stderr.contains("gh actions-lock --no-narrow"),
        "{stderr}"
    );
    // The SHA is the commit the lockfile locks for `actions/checkout@v4`: the check passes
    // (as `gh actions-lock` itself judges a tag entry rewritten to its SHA).
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // A lockfile that locks another commit fails it.
    std::fs::write(
        &lock,
        read(&lock).replace("11d5960a326750d5838078e36cf38b85af677262", &"a".repeat(40)),
    )
    .expect("write");
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("disagrees with .github/workflows/actions.lock"),
        "{stderr}"
    );
}

/// An opt-in transform of the registry runs when `.github/harden.yml` enables it, is a SARIF
/// rule, and has its `{summary}` in commit subjects; nothing in the binary names it.
#[test]
fn checkout_credentials_runs_when_the_configuration_enables_it() {
    let f = Fixture::new();
    let only_default = f.harden(&["--skip", "pin-actions,permissions,pin-images,dependabot"]);
    assert_eq!(
        only_default.status.code(),
        Some(0),
        "{}",
        text(&only_default.stderr)
    );
    assert_eq!(read(&f.workflow()), WORKFLOW, "opt-in: off by default");

    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "checkout-credentials:\n  enabled: true\n",
    )
    .expect("write");
    let sarif = f.harden(&[
        "--check",
        "--format",
        "sarif",
        "--skip",
        "pin-actions,permissions",
    ]);
    let out = text(&sarif.stdout);
    assert!(
        out.contains("\"ruleId\": \"checkout-credentials\""),
        "{out}"
    );
    assert!(out.contains("should not persist credentials"), "{out}");

    init_git(f.repo.path());
    let run = f.harden(&[
        "--commit",
        "--subject",
        "ci: {summary}",
        "--skip",
        "pin-actions,permissions,dependabot",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(read(&f.workflow()).contains("persist-credentials: false"));
    let log = git(f.repo.path(), &["log", "--format=%s"]);
    assert!(
        log.contains("ci: stop persisting checkout credentials in jobs that never push"),
        "{log}"
    );
}

/// A program harden cannot see into is taken on trust (one note naming it), unless
/// `--strict` or `permissions: {strict: true}`; `--repository-default read` is named in a
/// note and a bad value is an error.
#[test]
fn strict_and_repository_default_flags_and_settings() {
    let f = Fixture::new();
    std::fs::write(
        f.workflow(),
        "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pkg-config --cflags zlib\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        let mut all = vec!["--only", "permissions", "--dry-run", "--offline"];
        all.extend_from_slice(args);
        let out = f.harden(&all);
        (out.status.code(), text(&out.stdout) + &text(&out.stderr))
    };
    let (code, trusting) = run(&[]);
    assert_eq!(code, Some(0), "{trusting}");
    assert!(
        trusting.contains("assumed not to push or call the API: pkg-config"),
        "{trusting}"
    );
    assert!(trusting.contains("+permissions:"), "{trusting}");
    let (_, strict) = run(&["--strict"]);
    assert!(
        strict.contains("harden cannot tell what it needs"),
        "{strict}"
    );
    assert!(!strict.contains("+permissions:"), "{strict}");
    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "permissions:\n  strict: true\n",
    )
    .expect("write");
    let (_, configured) = run(&[]);
    assert!(
        configured.contains("harden cannot tell what it needs"),
        "{configured}"
    );
    let (_, read_only) = run(&["--repository-default", "read"]);
    assert!(
        read_only.contains("read-only (from --repository-default)")
            && read_only.contains("+permissions:"),
        "{read_only}"
    );
    let (code, bad) = run(&["--repository-default", "maybe"]);
    assert_ne!(code, Some(0), "{bad}");
    assert!(
        bad.contains("repository-default must be read or write"),
        "{bad}"
    );
}

/// `--narrow` and `permissions: {narrow: true}` replace a block wider than harden settles;
/// without either the block is only reported.
#[test]
fn narrow_flag_and_setting() {
    let f = Fixture::new();
    std::fs::write(
        f.workflow(),
        "name: ci\non: push\npermissions: read-all\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n      issues: write\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - run: cargo build\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        let mut all = vec!["--only", "permissions", "--dry-run", "--offline"];
        all.extend_from_slice(args);
        let out = f.harden(&all);
        (out.status.code(), text(&out.stdout) + &text(&out.stderr))
    };
    let (code, plain) = run(&[]);
    assert_eq!(code, Some(0), "{plain}");
    assert!(!plain.contains("-      issues: write"), "{plain}");
    assert!(plain.contains("grants more than harden infers"), "{plain}");
    let (_, narrowed) = run(&["--narrow"]);
    assert!(narrowed.contains("-      issues: write"), "{narrowed}");
    assert!(narrowed.contains("-permissions: read-all"), "{narrowed}");
    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "permissions:\n  narrow: true\n",
    )
    .expect("write");
    let (_, configured) = run(&[]);
    assert!(configured.contains("-      issues: write"), "{configured}");
}
