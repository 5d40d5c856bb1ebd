//! Fewer, clearer messages: one line per distinct problem with its places, nothing after the
//! error about a missing path, no empty `--dry-run` sections, no notes about files a run on
//! named files (pre-commit) was not given.

use std::path::Path;
use std::process::{Command, Output};

use harden_testserver::{default_refs_dir, TestServer};

/// One repository that does not exist, used three times in two workflows.
const UNRESOLVABLE: &str = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: nobody/nothing@v1\n      - uses: nobody/nothing/sub@v2\n      - uses: actions/checkout@v4\n";

struct Repo {
    server: TestServer,
    cache: tempfile::TempDir,
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("repo");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        Repo {
            server: TestServer::start(default_refs_dir()).expect("server"),
            cache: tempfile::tempdir().expect("cache"),
            dir,
        }
    }

    fn harden(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_harden"))
            .args(args)
            .current_dir(self.dir.path())
            .env("GITHUB_SERVER_URL", self.server.url())
            .env("GITHUB_API_URL", self.server.url())
            .env("HARDEN_CACHE_DIR", self.cache.path())
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env_remove("HARDEN_PENDING_TRANSFORMS")
            .output()
            .expect("harden runs")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn an_unresolvable_repository_is_one_error_listing_where_it_is_used() {
    let repo = Repo::new(&[
        (".github/workflows/a.yml", UNRESOLVABLE),
        (".github/workflows/b.yml", UNRESOLVABLE),
    ]);
    let out = repo.harden(&["--only", "pin-actions", "--check"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("nobody/nothing"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(
            "error: .github/workflows/a.yml:6:15: [pin-actions] cannot pin actions of `nobody/nothing`: repository not found"
        ),
        "{stderr}"
    );
    assert!(
        lines[0].ends_with(
            "(also at .github/workflows/a.yml:7:15, .github/workflows/b.yml:6:15, .github/workflows/b.yml:7:15)"
        ),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("pin-actions "))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        ["pin-actions", "2", "2", "1"],
        "one finding in the table:\n{stdout}"
    );
}

#[test]
fn a_missing_path_is_exit_2_and_its_error_is_the_last_thing_printed() {
    let repo = Repo::new(&[(".github/workflows/a.yml", UNRESOLVABLE)]);
    let out = repo.harden(&["--only", "pin-actions", "no/such/path"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "",
        "no `nothing to change` after the error"
    );
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: no/such/path: "), "{stderr}");

    // With a repository given too, that repository is processed and the error comes last.
    let out = repo.harden(&["--only", "pin-actions", "--dry-run", "no/such/path", "."]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .trim_end()
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("error: no/such/path: "),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("=== pin-actions"));
}

#[test]
fn dry_run_shows_no_section_for_a_transform_without_changes() {
    let repo = Repo::new(&[(".github/workflows/a.yml", UNRESOLVABLE)]);
    let out = repo.harden(&["--dry-run"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("=== pin-actions"), "{stdout}");
    assert!(stdout.contains("=== dependabot"), "{stdout}");
    // permissions only reports (the unknown action), it changes nothing.
    assert!(
        text(&out.stderr).contains("[permissions]"),
        "{}",
        text(&out.stderr)
    );
    assert!(!stdout.contains("=== permissions"), "{stdout}");
}

#[test]
fn a_run_on_named_files_prints_no_notes_about_other_files() {
    let pinned = "on: push\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n";
    let dependabot = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n";
    let repo = Repo::new(&[
        (".github/workflows/a.yml", pinned),
        (".github/dependabot.yml", dependabot),
    ]);
    let note = "note: .github/dependabot.yml:3: [dependabot]";
    let out = repo.harden(&["--check"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));

    // What pre-commit runs when only the workflow changed.
    for path in [".github/workflows/a.yml", "./.github/workflows/a.yml"] {
        let out = repo.harden(&["--check", path]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(text(&out.stderr), "", "{path}");
    }
    // Named, the file gets its notes.
    let out = repo.harden(&[
        "--check",
        ".github/workflows/a.yml",
        ".github/dependabot.yml",
    ]);
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));
    assert!(Path::new(&repo.dir.path().join(".github/dependabot.yml")).exists());
}
