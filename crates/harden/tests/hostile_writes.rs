//! Issue 28, the writing half: `--patch-dir` never writes through a planted link, `--commit`'s
//! restore after a refused commit puts back only what harden wrote and only where harden's text
//! still stands (the user's edit wins, links stay links, hard links are not split), a killed
//! `--commit` run's leftovers are reported by the next one, and signals remove harden's
//! temporary files. Scratch git repositories, the local fake GitHub.

#![cfg(unix)]

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use harden_testserver::{default_refs_dir, TestServer};

const WORKFLOW: &str = "name: ci\non: push\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// A git repository with `ci.yml` committed, the test server and a cache.
struct Scratch {
    server: TestServer,
    cache: tempfile::TempDir,
    repo: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let s = Scratch {
            server: TestServer::start(default_refs_dir()).expect("test server"),
            cache: tempfile::tempdir().expect("cache"),
            repo: tempfile::tempdir().expect("repo"),
        };
        fs::create_dir_all(s.workflows()).expect("mkdir");
        fs::write(s.ci(), WORKFLOW).expect("write");
        s.git(&["init", "-q", "-b", "main"]);
        s.git(&["add", "-A"]);
        s.git(&["commit", "-q", "-m", "initial"]);
        s
    }

    fn workflows(&self) -> PathBuf {
        self.repo.path().join(".github/workflows")
    }

    fn ci(&self) -> PathBuf {
        self.workflows().join("ci.yml")
    }

    fn isolated(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.repo.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GITHUB_SERVER_URL", self.server.url())
            .env("GITHUB_API_URL", self.server.url())
            .env("HARDEN_CACHE_DIR", self.cache.path())
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env_remove("HARDEN_PENDING_TRANSFORMS");
        cmd
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self
            .isolated(Path::new("git"))
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    fn harden(&self) -> Command {
        self.isolated(Path::new(env!("CARGO_BIN_EXE_harden")))
    }

    fn run(&self, args: &[&str]) -> Output {
        self.harden().args(args).output().expect("harden runs")
    }

    /// `.git/hooks/pre-commit` with this shell script.
    fn hook(&self, script: &str) {
        let hook = self.repo.path().join(".git/hooks/pre-commit");
        fs::write(&hook, format!("#!/bin/sh\n{script}\n")).expect("write hook");
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn temporary_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".harden-"))
        .collect()
}

/// A link planted in the patch folder, where a patch will be written, towards a file outside
/// (`~/.bashrc`): never written through.
#[test]
fn patch_dir_never_writes_through_a_planted_link() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().expect("outside");
    let bashrc = outside.path().join("bashrc");
    fs::write(&bashrc, "alias ll='ls -l'\n").expect("write");
    let patches = tempfile::tempdir().expect("patches");
    symlink(&bashrc, patches.path().join("01-pin-actions.patch")).expect("symlink");
    let dir = patches.path().display().to_string();
    let out = s.run(&["--only", "pin-actions", "--patch-dir", &dir]);
    assert_eq!(
        fs::read_to_string(&bashrc).expect("read"),
        "alias ll='ls -l'\n"
    );
    assert!(
        fs::symlink_metadata(patches.path().join("01-pin-actions.patch"))
            .expect("still there")
            .file_type()
            .is_symlink()
    );
    assert_ne!(out.status.code(), Some(0), "{}", all(&out));
    assert!(all(&out).contains("symbolic link"), "{}", all(&out));
}

/// The user saves the workflow while a hook runs and the hook refuses the commit: the restore
/// keeps the user's text (it no longer holds harden's) and says so.
#[test]
fn a_refused_commit_keeps_the_edit_saved_during_the_hook() {
    let s = Scratch::new();
    s.hook("printf '# saved by the user during the hook\\n' >> .github/workflows/ci.yml; exit 1");
    let out = s.run(&["--commit", "--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    let now = fs::read_to_string(s.ci()).expect("read");
    assert!(now.contains("saved by the user during the hook"), "{now}");
    assert!(all(&out).contains("kept"), "{}", all(&out));
}

/// During the hook the workflow becomes a link to a file outside the repository, or gains a
/// second hard link: the restore writes neither through the link nor splits the hard link.
#[test]
fn a_refused_commit_restores_through_no_link_and_splits_no_hard_link() {
    let outside = tempfile::tempdir().expect("outside");
    let target = outside.path().join("elsewhere.yml");
    fs::write(&target, "kept: outside\n").expect("write");
    let s = Scratch::new();
    s.hook(&format!(
        "rm .github/workflows/ci.yml && ln -s {} .github/workflows/ci.yml; exit 1",
        target.display()
    ));
    let out = s.run(&["--commit", "--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert_eq!(
        fs::read_to_string(&target).expect("read"),
        "kept: outside\n"
    );
    assert!(fs::symlink_metadata(s.ci())
        .expect("link")
        .file_type()
        .is_symlink());

    let s = Scratch::new();
    let other = s.repo.path().join("other-name.yml");
    s.hook(&format!(
        "ln .github/workflows/ci.yml {}; exit 1",
        other.display()
    ));
    let out = s.run(&["--commit", "--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    let (ci, linked) = (
        fs::metadata(s.ci()).expect("ci"),
        fs::metadata(&other).expect("other"),
    );
    assert_eq!((ci.ino(), ci.nlink()), (linked.ino(), 2), "{}", all(&out));
}

/// `harden --commit` killed while a hook runs: the next `--commit` run reports the first
/// run's staged edits (exit 2, what to do), rather than exiting 0.
#[test]
fn a_killed_commit_run_is_reported_by_the_next_one() {
    let s = Scratch::new();
    let started = s.repo.path().join(".git/hook-started");
    s.hook(&format!("touch {}; sleep 2; exit 1", started.display()));
    let mut first = s
        .harden()
        .args(["--commit", "--only", "pin-actions"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("harden starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !started.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started.exists(), "the hook never ran");
    first.kill().expect("kill");
    let _ = first.wait();
    std::thread::sleep(Duration::from_secs(3)); // git and the hook finish without harden
    s.hook("exit 0");
    // A plain run names the leftover note in one warning line, and does not fail for it.
    let plain = s.run(&["--dry-run", "--only", "pin-actions"]);
    let warned: Vec<String> = all(&plain)
        .lines()
        .filter(|l| l.contains("harden-commit.json"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warned.len(), 1, "{}", all(&plain));
    assert!(
        warned[0].starts_with("warning:") && warned[0].contains("interrupted"),
        "{}",
        all(&plain)
    );
    let out = s.run(&["--commit", "--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(all(&out).contains("interrupted"), "{}", all(&out));
    assert!(all(&out).contains("ci.yml"), "{}", all(&out));
    // Once the leftovers are discarded, the next run works and commits.
    s.git(&["checkout", "HEAD", "--", "."]);
    let out = s.run(&["--commit", "--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(s
        .git(&["log", "--format=%s"])
        .contains("harden: pin-actions"));
    let plain = s.run(&["--dry-run", "--only", "pin-actions"]);
    assert!(
        !all(&plain).contains("harden-commit.json"),
        "{}",
        all(&plain)
    );
}

/// SIGTERM and SIGINT while harden replaces files: no temporary file is left in
/// `.github/workflows/` for a later `git add -A` to commit.
#[test]
fn signals_remove_the_temporary_files() {
    let s = Scratch::new();
    let padded = format!("{WORKFLOW}{}", "      - run: echo padding\n".repeat(50));
    let mut left = Vec::new();
    let mut caught = 0;
    for round in 0..4 {
        for i in 0..200 {
            fs::write(s.workflows().join(format!("w{i}.yml")), &padded).expect("write");
        }
        let mut child = s
            .harden()
            .args(["--only", "pin-actions"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("harden starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while temporary_files(&s.workflows()).is_empty() && Instant::now() < deadline {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::yield_now();
        }
        caught += usize::from(!temporary_files(&s.workflows()).is_empty());
        let signal = if round % 2 == 0 { "-TERM" } else { "-INT" };
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let _ = child.wait();
        left.extend(temporary_files(&s.workflows()));
    }
    assert!(left.is_empty(), "temporary files left: {left:?}");
    assert!(
        caught > 0,
        "no round signalled harden while it wrote: the test proved nothing"
    );
}

/// A folder harden cannot read may hold a composite action: an error, so `--check` fails
/// rather than passing without having looked.
#[test]
fn an_unreadable_folder_is_reported_and_check_fails() {
    let s = Scratch::new();
    let folder = s.repo.path().join("tools/deploy");
    fs::create_dir_all(&folder).expect("mkdir");
    fs::write(
        folder.join("action.yml"),
        "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@v4\n",
    )
    .expect("write");
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o000)).expect("chmod");
    let enforced = fs::read_dir(&folder).is_err();
    let out = s.run(&["--check", "--only", "pin-actions"]);
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).expect("chmod back");
    if !enforced {
        let _ = writeln!(
            std::io::stderr(),
            "note: running as root: folder permissions are not enforced; test skipped"
        );
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(all(&out).contains("tools/deploy"), "{}", all(&out));
}

/// A second `harden --commit` started while the first one's hook runs refuses to run beside
/// it (the two would put texts back over each other's commits); the first one commits.
#[test]
fn a_second_commit_run_refuses_while_the_first_runs() {
    let s = Scratch::new();
    let started = s.repo.path().join(".git/hook-started");
    s.hook(&format!("touch {}; sleep 2; exit 0", started.display()));
    let first = s
        .harden()
        .args(["--commit", "--only", "pin-actions"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harden starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !started.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = s.run(&["--commit", "--only", "pin-actions,permissions"]);
    let first = first.wait_with_output().expect("first ends");
    assert_eq!(first.status.code(), Some(0), "{}", all(&first));
    assert_eq!(second.status.code(), Some(2), "{}", all(&second));
    assert!(
        all(&second).contains("another `harden --commit`"),
        "{}",
        all(&second)
    );
    assert!(s
        .git(&["log", "--format=%s"])
        .contains("harden: pin-actions"));
    assert!(!s.repo.path().join(".git/harden-commit.json").exists());
}
