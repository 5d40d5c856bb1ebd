//! Issue 28, the file-system half: every file harden reads from a repository, its `.git` or a
//! cache goes through one door (inside the root, regular, not `/proc`, `/sys` or `/dev`, never
//! a FIFO, bounded), and every place it writes through the checked writer. Through the real
//! binary, against the local fake GitHub, with a memory ceiling and a clock.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::Fixture;

const CI: &str = "on: push\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";

/// What a secret in harden's own environment looks like; `/proc/self/environ` holds it.
const SECRET: &str = "HARDEN_TEST_SECRET=ghp_never-print-this-token";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Makes a FIFO at `path`; false when `mkfifo` is missing.
fn fifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` under a 3 GiB address-space ceiling (`ulimit -v`) and a 120 s clock: a reader
/// that follows `/proc/self/pagemap` or `/dev/zero` runs out of memory, one that opens a FIFO
/// hangs and is killed. Returns the output and the time taken.
fn bounded(cmd: &Command) -> (Output, Duration) {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("ulimit -v 3145728; exec \"$0\" \"$@\"")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        shell.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => shell.env(key, v),
            None => shell.env_remove(key),
        };
    }
    let start = Instant::now();
    let mut child = shell
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harden starts");
    let deadline = start + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait").is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    (out, start.elapsed())
}

fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
    fs::write(path, contents).expect("write");
}

fn link(target: &str, path: &Path) {
    fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
    symlink(target, path).expect("symlink");
}

/// `SECURITY.md` a link to `/proc/self/environ`, sign-releases turned on by the repository's
/// own `.github/harden.yml`: the environment is never shown, in a diff, JSON or a patch.
#[test]
fn security_md_linking_to_proc_self_environ_is_never_shown() {
    let f = Fixture::with_workflow(CI);
    let root = f.repo.path();
    write(
        &root.join(".github/harden.yml"),
        "sign-releases:\n  enabled: true\n",
    );
    write(
        &root.join(".git/config"),
        "[remote \"origin\"]\n\turl = https://github.com/example-org/widget.git\n",
    );
    link("/proc/self/environ", &root.join("SECURITY.md"));
    let patches = tempfile::tempdir().expect("patch folder");
    let patch_dir = patches.path().display().to_string();
    let runs: [&[&str]; 3] = [
        &["--dry-run"],
        &["--dry-run", "--format", "json"],
        &["--patch-dir", &patch_dir],
    ];
    let (name, value) = SECRET.split_once('=').expect("name=value");
    for args in runs {
        let out = f.command(args).env(name, value).output().expect("runs");
        let all = both(&out);
        assert!(
            !all.contains("never-print-this"),
            "{args:?} printed the environment:\n{all}"
        );
        assert!(
            all.contains("SECURITY.md") && all.contains("not read"),
            "{args:?}: no located error:\n{all}"
        );
        assert_ne!(out.status.code(), Some(0), "{args:?}:\n{all}");
    }
    for entry in fs::read_dir(patches.path()).expect("list") {
        let patch = fs::read(entry.expect("entry").path()).expect("read");
        assert!(
            !text(&patch).contains("never-print-this"),
            "{}",
            text(&patch)
        );
    }
    assert_eq!(
        fs::read_link(root.join("SECURITY.md")).expect("still a link"),
        PathBuf::from("/proc/self/environ")
    );
}

/// The repository of the "done when" of issue 28: every file harden could read is a link to
/// `/proc/self/pagemap` (0 bytes to `stat`, hundreds of gigabytes to read), `/dev/zero`, a file
/// outside, or a FIFO. The run ends in bounded time and memory with a located error per file,
/// and the one good workflow is still pinned.
#[test]
fn every_file_a_link_to_proc_dev_or_a_fifo_is_a_located_error() {
    let f = Fixture::with_workflow(CI);
    let root = f.repo.path();
    let outside = tempfile::tempdir().expect("outside");
    write(
        &outside.path().join("keys.yml"),
        "secret-key: do-not-read-me\n",
    );
    let outside_file = outside.path().join("keys.yml").display().to_string();
    write(
        &root.join(".github/harden.yml"),
        "sign-releases:\n  enabled: true\n",
    );
    let pagemap = "/proc/self/pagemap";
    let hostile = [
        (".github/workflows/pagemap.yml", pagemap),
        (".github/workflows/release-sign.yml", pagemap),
        (".github/workflows/outside.yml", outside_file.as_str()),
        (".github/workflows/actions.lock", pagemap),
        (".github/dependabot.yml", pagemap),
        ("SECURITY.md", pagemap),
        (".goreleaser.yml", "/dev/zero"),
        (".git/config", pagemap),
        ("tool/action.yml", pagemap),
        ("docker-compose.yml", pagemap),
        ("package.json", "/dev/zero"),
    ];
    for (rel, target) in hostile {
        link(target, &root.join(rel));
    }
    let fifos = fifo(&root.join(".github/workflows/fifo.yml"))
        && fifo(&root.join("web/package.json"))
        && fifo(&root.join(".pre-commit-config.yaml"));
    let (out, took) = bounded(&f.command(&["--dry-run"]));
    let all = both(&out);
    assert!(took < Duration::from_secs(100), "took {took:?}:\n{all}");
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(!all.contains("do-not-read-me"), "{all}");
    for rel in [
        ".github/workflows/pagemap.yml",
        ".github/workflows/outside.yml",
        ".github/workflows/actions.lock",
        ".github/dependabot.yml",
        ".github/workflows/release-sign.yml",
        ".git/config",
    ] {
        let located = all
            .lines()
            .any(|l| l.contains(rel) && (l.contains("not read") || l.contains("not a regular")));
        assert!(located, "no located refusal for {rel}:\n{all}");
        assert_eq!(
            located_errors(&all, rel),
            1,
            "not one error for {rel}:\n{all}"
        );
    }
    if fifos {
        assert!(all.contains("fifo.yml"), "{all}");
        assert_eq!(located_errors(&all, "fifo.yml"), 1, "{all}");
    }
    let (audit, took) = bounded(&f.command(&["audit"]));
    let all = both(&audit);
    assert!(
        took < Duration::from_secs(100),
        "audit took {took:?}:\n{all}"
    );
    assert_eq!(audit.status.code(), Some(2), "{all}");
    assert!(
        all.contains("pagemap.yml") && all.contains("not read"),
        "{all}"
    );
    for rel in [
        ".github/workflows/pagemap.yml",
        ".github/workflows/release-sign.yml",
        ".github/dependabot.yml",
        ".goreleaser.yml",
    ] {
        assert_eq!(
            located_errors(&all, rel),
            1,
            "audit: not one error for {rel}:\n{all}"
        );
    }
}

/// How many error or warning lines name `rel` (files refused for the same reason share one
/// line, "... (also at a, b)", each named once).
fn located_errors(output: &str, rel: &str) -> usize {
    output
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("warning:"))
        .filter(|l| l.contains(rel))
        .count()
}

/// `.github/harden.yml` itself a link to `/proc/self/pagemap`, or a FIFO: a located error,
/// never read, never a hang.
#[test]
fn harden_yml_linking_to_proc_or_a_fifo_is_a_located_error() {
    for fifo_config in [false, true] {
        let f = Fixture::with_workflow(CI);
        let config = f.repo.path().join(".github/harden.yml");
        if fifo_config {
            if !fifo(&config) {
                continue;
            }
        } else {
            link("/proc/self/pagemap", &config);
        }
        let (out, took) = bounded(&f.command(&["--dry-run"]));
        let all = both(&out);
        assert!(took < Duration::from_secs(100), "took {took:?}:\n{all}");
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(
            all.contains("harden.yml") && all.contains("not read"),
            "{all}"
        );
    }
}

/// Every entry of the caches (refs, action files) replaced by a FIFO, then by a link to
/// `/dev/zero`, then by one to `/proc/self/pagemap`: each is a miss, asked again, and replaced
/// by a regular file; every run ends at once and pins as before.
#[test]
fn hostile_cache_entries_are_misses_and_are_replaced() {
    let f = Fixture::with_workflow(CI);
    let out = f.harden(&["--only", "pin-actions,permissions"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    for kind in ["fifo", "/dev/zero", "/proc/self/pagemap"] {
        fs::write(f.path("ci.yml"), CI).expect("write");
        let mut entries = Vec::new();
        collect_files(f.cache.path(), &mut entries);
        assert!(
            !entries.is_empty(),
            "nothing cached before the {kind} round"
        );
        for entry in &entries {
            fs::remove_file(entry).expect("remove");
            if kind != "fifo" || !fifo(entry) {
                symlink(if kind == "fifo" { "/dev/zero" } else { kind }, entry).expect("link");
            }
        }
        let (out, took) = bounded(&f.command(&["--only", "pin-actions,permissions"]));
        let all = both(&out);
        assert!(
            took < Duration::from_secs(100),
            "{kind}: took {took:?}:\n{all}"
        );
        assert_eq!(out.status.code(), Some(0), "{kind}: {all}");
        let ci = fs::read_to_string(f.path("ci.yml")).expect("read");
        assert!(!ci.contains("checkout@v4\n"), "{kind}: not pinned:\n{ci}");
        let replaced = entries
            .iter()
            .filter(|e| fs::symlink_metadata(e).is_ok_and(|m| m.is_file()))
            .count();
        assert!(
            replaced > 0,
            "{kind}: no hostile entry was replaced:\n{all}"
        );
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// A 9-level "billion laughs" (about 500 bytes, 9^9 nodes when expanded).
fn alias_bomb() -> String {
    let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, name) = (pair[0], pair[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text
}

/// Foreign YAML that dependabot reads to find manifests (compose files, `.pre-commit-config.yaml`,
/// Helm `values.yaml`, `pubspec.yaml`, a composite `action.yml`) holding an alias bomb: read
/// within harden-yaml's limits, never expanded; the run ends at once.
#[test]
fn alias_bombs_in_foreign_yaml_are_never_expanded() {
    let f = Fixture::with_workflow(CI);
    let root = f.repo.path();
    let bomb = alias_bomb();
    assert!(bomb.len() < 600, "{}", bomb.len());
    for rel in [
        "docker-compose.yml",
        "compose.yaml",
        ".pre-commit-config.yaml",
        "chart/Chart.yaml",
        "chart/values.yaml",
        "app/pubspec.yaml",
        "tool/action.yml",
    ] {
        write(&root.join(rel), &bomb);
    }
    let (out, took) = bounded(&f.command(&["--only", "dependabot", "--dry-run"]));
    let all = both(&out);
    assert!(took < Duration::from_secs(60), "took {took:?}:\n{all}");
    assert!(out.status.code().is_some_and(|c| c < 64), "{all}");
}

/// `actions.lock` a link to a file outside the repository: refused with a message, never
/// read, so none of that file's keys is printed.
#[test]
fn actions_lock_linking_outside_the_repository_is_refused_not_read() {
    let f = Fixture::with_workflow(CI);
    let outside = tempfile::tempdir().expect("outside");
    let lock = outside.path().join("actions.lock");
    write(
        &lock,
        "version: 0.0.1\nworkflows:\n  .github/workflows/ci.yml:\n    actions:\n      private-owner/secret-tool@v1: 0000000000000000000000000000000000000000\n",
    );
    link(&lock.display().to_string(), &f.path("actions.lock"));
    let out = f.harden(&["--dry-run", "--only", "pin-actions"]);
    let all = both(&out);
    assert!(!all.contains("secret-tool"), "{all}");
    assert!(
        all.lines()
            .any(|l| l.contains("actions.lock") && l.contains("outside the repository")),
        "{all}"
    );
}
