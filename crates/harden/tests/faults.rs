//! Faults from the file system, bad input and the network, through the real `harden` binary
//! in temporary folders, against a local fake GitHub (never the internet). The fault matrix is
//! in docs/reliability.md.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use harden_testserver::{Fault, FaultRule};

/// Line 6 uses actions/checkout, line 7 actions/cache (value at column 15).
const WORKFLOW: &str = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/cache@v4 # cache\n";

use common::Fixture;

fn fixture() -> Fixture {
    Fixture::with_workflow(WORKFLOW.as_bytes())
}

/// What the fault tests add to the shared fixture.
trait Pin {
    fn pin(&self) -> Output;
}

impl Pin for Fixture {
    fn pin(&self) -> Output {
        self.harden(&["--only", "pin-actions"])
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).expect("read")
}

fn is_pinned(content: &[u8], action: &str) -> bool {
    let content = text(content);
    content.lines().any(|l| {
        l.split_once(&format!("uses: {action}@"))
            .is_some_and(|(_, rest)| {
                rest.len() >= 40 && rest[..40].bytes().all(|b| b.is_ascii_hexdigit())
            })
    })
}

fn assert_ci_pinned(f: &Fixture) {
    let ci = read(&f.path("ci.yml"));
    assert!(is_pinned(&ci, "actions/checkout"), "{}", text(&ci));
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).expect("metadata").permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// True when file permissions are enforced for this user (not root).
#[cfg(unix)]
fn permissions_enforced(dir: &Path) -> bool {
    let probe = dir.join("permission-probe");
    fs::write(&probe, "x").expect("probe");
    set_mode(&probe, 0o000);
    let enforced = fs::read(&probe).is_err();
    set_mode(&probe, 0o600);
    let _ = fs::remove_file(&probe);
    enforced
}

fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "note: {message}");
}

// ---------------------------------------------------------------- file system

#[cfg(unix)]
#[test]
fn read_only_workflow_is_replaced_whole_and_keeps_its_mode() {
    let f = fixture();
    let ci = f.path("ci.yml");
    set_mode(&ci, 0o444);
    let other = f.write("exec.yml", WORKFLOW.as_bytes());
    set_mode(&other, 0o750);
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_ci_pinned(&f);
    assert!(is_pinned(&read(&other), "actions/cache"));
    assert_eq!(mode(&ci), 0o444, "a read-only file stays read-only");
    assert_eq!(mode(&other), 0o750, "mode bits are kept");
}

#[cfg(unix)]
#[test]
fn unreadable_workflow_is_reported_and_the_rest_is_processed() {
    let f = fixture();
    if !permissions_enforced(f.repo.path()) {
        note("running as root: file permissions are not enforced, unreadable-file test skipped");
        return;
    }
    let secret = f.write("secret.yml", WORKFLOW.as_bytes());
    set_mode(&secret, 0o000);
    let out = f.pin();
    set_mode(&secret, 0o644);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("secret.yml") && stderr.contains("cannot read the file"),
        "{stderr}"
    );
    assert_eq!(read(&secret), WORKFLOW.as_bytes());
    assert_ci_pinned(&f);
}

#[cfg(unix)]
#[test]
fn read_only_folder_is_a_write_error_and_the_file_is_left_whole() {
    let f = fixture();
    if !permissions_enforced(f.repo.path()) {
        note("running as root: folder permissions are not enforced, read-only-folder test skipped");
        return;
    }
    let dir = f.repo.path().join(".github/workflows");
    set_mode(&dir, 0o555);
    let out = f.pin();
    set_mode(&dir, 0o755);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("could not write the file"),
        "{}",
        both(&out)
    );
    assert_eq!(read(&f.path("ci.yml")), WORKFLOW.as_bytes());
    assert_eq!(
        fs::read_dir(&dir).expect("list").count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn folder_named_like_a_workflow_is_not_a_workflow() {
    let f = fixture();
    let folder = f.path("x.yml");
    fs::create_dir_all(&folder).expect("mkdir");
    fs::write(folder.join("inner.yml"), WORKFLOW).expect("write");
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(folder.is_dir());
    assert_eq!(read(&folder.join("inner.yml")), WORKFLOW.as_bytes());
    assert_ci_pinned(&f);
}

#[test]
fn non_utf8_workflow_is_a_located_error_and_left_untouched() {
    let f = fixture();
    let bytes = b"on: push\njobs:\n  a: \xff\xfe\n    steps:\n      - uses: actions/checkout@v4\n";
    let bad = f.write("latin1.yml", bytes);
    let out = f.pin();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("latin1.yml:3") && stderr.contains("not UTF-8"),
        "{stderr}"
    );
    assert_eq!(read(&bad), bytes);
    assert_ci_pinned(&f);
}

#[test]
fn bom_and_crlf_are_kept() {
    let f = fixture();
    let wf =
        "\u{feff}on: push\r\njobs:\r\n  a:\r\n    steps:\r\n      - uses: actions/checkout@v4\r\n";
    let p = f.write("ci.yml", wf.as_bytes());
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let after = text(&read(&p));
    assert!(after.starts_with("\u{feff}on: push\r\n"), "{after:?}");
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "{after:?}"
    );
    assert!(is_pinned(after.as_bytes(), "actions/checkout"), "{after:?}");
}

/// Only the `uses:` lines differ between `before` and `after`, and no line was added or lost.
fn only_uses_lines_changed(before: &str, after: &str) {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len(), "line count changed");
    for (x, y) in b.iter().zip(&a) {
        if x != y {
            assert!(x.contains("uses:") && y.contains("uses:"), "{x:?} -> {y:?}");
        }
    }
}

#[test]
fn ten_megabyte_workflow() {
    let f = fixture();
    let mut wf = String::from("on: push\njobs:\n  build:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n");
    let line = format!("          echo {}\n", "x".repeat(70));
    while wf.len() < 10 * 1024 * 1024 {
        wf.push_str(&line);
    }
    wf.push_str("      - uses: actions/cache@v4\n");
    let p = f.write("big.yml", wf.as_bytes());
    let started = Instant::now();
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    let after = text(&read(&p));
    assert!(is_pinned(after.as_bytes(), "actions/cache"));
    only_uses_lines_changed(&wf, &after);
}

#[test]
fn hundred_thousand_line_workflow_with_25000_references() {
    let f = fixture();
    let mut wf = String::from("on: push\njobs:\n  build:\n    runs-on: x\n    steps:\n");
    // 5 + 4 * 24,999 = 100,001 lines.
    for i in 0..24_999 {
        wf.push_str(&format!(
            "      - name: step {i}\n        uses: actions/checkout@v4\n        with:\n          path: p{i}\n"
        ));
    }
    assert!(wf.lines().count() > 100_000);
    let p = f.write("long.yml", wf.as_bytes());
    let started = Instant::now();
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        started.elapsed() < Duration::from_secs(240),
        "{:?}",
        started.elapsed()
    );
    let after = text(&read(&p));
    assert!(
        !after.contains("actions/checkout@v4\n"),
        "every reference pinned"
    );
    only_uses_lines_changed(&wf, &after);
}

#[test]
fn deep_flow_nesting_is_a_located_error() {
    let f = fixture();
    let deep = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/faults/deep-flow-nesting.yml"),
    )
    .expect("fault input");
    let p = f.write("deep.yml", &deep);
    let out = f.pin();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("deep.yml:5:") && stderr.contains("recursion limit exceeded"),
        "{stderr}"
    );
    assert_eq!(read(&p), deep);
    assert_ci_pinned(&f);
}

#[test]
fn deep_block_nesting_is_a_located_error_not_a_crash() {
    let f = fixture();
    let deep = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/faults/deep-block-nesting.yml"),
    )
    .expect("fault input");
    let p = f.write("deep.yml", &deep);
    let out = f.pin();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(text(&out.stderr).contains("deep.yml:"), "{}", both(&out));
    assert_eq!(read(&p), deep);
    assert_ci_pinned(&f);
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_skipped_or_reported_never_followed() {
    let f = fixture();
    let looped = f.path("loop.yml");
    std::os::unix::fs::symlink("loop.yml", &looped).expect("symlink");
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_ci_pinned(&f);
    // Named on the command line, it is a clear error.
    let out = f.harden(&["--only", "pin-actions", ".github/workflows/loop.yml"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(text(&out.stderr).contains("loop.yml"), "{}", both(&out));
    assert!(fs::symlink_metadata(&looped)
        .expect("still there")
        .file_type()
        .is_symlink());
}

#[cfg(unix)]
#[test]
fn symlinked_workflow_is_written_through_and_stays_a_link() {
    let f = fixture();
    let real = f.repo.path().join("shared-ci.yml");
    fs::write(&real, WORKFLOW).expect("write");
    let link = f.path("linked.yml");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    assert!(is_pinned(&read(&real), "actions/checkout"));
}

#[test]
fn documents_that_are_not_mappings_are_left_alone() {
    let f = fixture();
    let cases: &[(&str, &str)] = &[
        ("list.yml", "- uses: actions/checkout@v4\n- b\n"),
        ("text.yml", "just text\n"),
        ("number.yml", "42\n"),
        ("null.yml", "~\n"),
        ("stream.yml", "---\na: 1\n---\n- x\n"),
    ];
    for (name, content) in cases {
        f.write(name, content.as_bytes());
    }
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    for (name, content) in cases {
        assert_eq!(read(&f.path(name)), content.as_bytes(), "{name}");
    }
    assert_ci_pinned(&f);
}

#[test]
fn empty_files_are_left_alone() {
    let f = fixture();
    for (name, content) in [
        ("empty.yml", ""),
        ("blank.yml", "\n\n"),
        ("comment.yml", "# nothing\n"),
    ] {
        f.write(name, content.as_bytes());
    }
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(read(&f.path("empty.yml")), b"");
    assert_eq!(read(&f.path("blank.yml")), b"\n\n");
    assert_eq!(read(&f.path("comment.yml")), b"# nothing\n");
}

#[test]
fn duplicate_keys_are_a_located_error() {
    let f = fixture();
    let dup =
        "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\non: pull_request\n";
    let p = f.write("dup.yml", dup.as_bytes());
    let out = f.pin();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("dup.yml:6:1") && stderr.contains("duplicate key `on`"),
        "{stderr}"
    );
    assert_eq!(read(&p), dup.as_bytes());
    assert_ci_pinned(&f);
}

#[test]
fn yaml_1_1_booleans_stay_as_written() {
    let f = fixture();
    let wf = "on:\n  push:\njobs:\n  a:\n    if: yes\n    continue-on-error: no\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          flag: on\n          other: Off\n";
    let p = f.write("ci.yml", wf.as_bytes());
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let after = text(&read(&p));
    only_uses_lines_changed(wf, &after);
    assert!(
        after.starts_with("on:\n  push:\n")
            && after.contains("    if: yes\n")
            && after.contains("flag: on\n")
    );
    assert!(is_pinned(after.as_bytes(), "actions/checkout"));
}

#[test]
fn temp_file_leftovers_are_never_workflows() {
    let f = fixture();
    let leftover = f.write(
        ".ci.yml.harden-99999.tmp",
        b"jobs: [\n  - uses: actions/checkout@v4\n",
    );
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(!both(&out).contains(".tmp"), "{}", both(&out));
    assert_eq!(read(&leftover), b"jobs: [\n  - uses: actions/checkout@v4\n");
    assert_ci_pinned(&f);
}

/// A workflow deleted while harden works on a big one: no crash, and the file is either gone
/// or whole (never partial). The writer checks the target before the rename and reports a
/// removed file instead of writing it back (`removed_workflow_is_not_written_back`).
#[test]
fn workflow_removed_during_the_run() {
    let f = fixture();
    let mut big = String::from("on: push\njobs:\n  a:\n    steps:\n");
    for i in 0..20_000 {
        big.push_str(&format!(
            "      - uses: actions/checkout@v4\n        name: s{i}\n"
        ));
    }
    f.write("big.yml", big.as_bytes());
    let small = f.path("ci.yml");
    let mut child = f
        .command(&["--only", "pin-actions"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The files are read first; the big one then keeps harden busy for a while.
    std::thread::sleep(Duration::from_millis(700));
    let removed_while_running = child.try_wait().ok().flatten().is_none();
    fs::remove_file(&small).expect("remove");
    let out = child.wait_with_output().expect("wait");
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{:?} {}",
        out.status,
        text(&out.stderr)
    );
    match fs::read(&small) {
        Err(_) => {}
        Ok(now) => {
            assert!(
                is_pinned(&now, "actions/checkout"),
                "a partial file: {}",
                text(&now)
            );
            if removed_while_running {
                note("a workflow removed during the run was written back by harden");
            }
        }
    }
}

#[test]
fn removed_workflow_is_not_written_back() {
    let f = fixture();
    let mut big = String::from("on: push\njobs:\n  a:\n    steps:\n");
    for i in 0..20_000 {
        big.push_str(&format!(
            "      - uses: actions/checkout@v4\n        name: s{i}\n"
        ));
    }
    f.write("big.yml", big.as_bytes());
    let small = f.path("ci.yml");
    let child = f
        .command(&["--only", "pin-actions"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    fs::remove_file(&small).expect("remove");
    let _ = child.wait_with_output();
    assert!(!small.exists(), "the removed workflow came back");
}

/// Runs harden on a repository of many files, kills it at spread-out moments, and checks that
/// every file is always either its old or its new text.
#[test]
fn killed_mid_run_leaves_every_file_old_or_new() {
    let f = fixture();
    let originals = many_workflows(&f);
    let (new, full) = complete_run(&f, &originals);
    let dir = f.repo.path().join(".github/workflows");
    let mut saw_mixed = false;
    for round in 0..10u32 {
        saw_mixed |= killed_round(&f, round, &originals, &new, full);
    }
    if !saw_mixed {
        note("no kill landed in the middle of the writes this time (every round was all-old or all-new)");
    }
    // Leftover temporary files are never taken for workflows, and a complete run finishes.
    let out = f.harden(&["--only", "pin-actions"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(!both(&out).contains(".tmp"), "{}", both(&out));
    for (i, (name, _)) in originals.iter().enumerate() {
        assert_eq!(read(&dir.join(name)), new[i], "{name}");
    }
    let leftovers: Vec<String> = fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    if !leftovers.is_empty() {
        note(&format!(
            "temporary files left by killed runs: {leftovers:?}"
        ));
        assert!(
            leftovers
                .iter()
                .all(|n| n.starts_with('.') && n.contains(".harden-")),
            "{leftovers:?}"
        );
    }
    let out = f.harden(&["--only", "pin-actions", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

/// Writes 40 large workflows into the fixture's repository: their names and texts.
fn many_workflows(f: &Fixture) -> Vec<(String, Vec<u8>)> {
    let actions = [
        "actions/checkout",
        "actions/cache",
        "actions/setup-node",
        "actions/setup-python",
        "actions/upload-artifact",
    ];
    let mut originals = Vec::new();
    for n in 0..40 {
        let mut wf = format!("name: w{n}\non: push\njobs:\n  build:\n    runs-on: x\n    steps:\n");
        for (i, a) in actions.iter().enumerate() {
            wf.push_str(&format!("      - uses: {a}@v4 # step {i}\n"));
        }
        for i in 0..1500 {
            wf.push_str(&format!("      - run: echo {n} {i}\n"));
        }
        let name = format!("w{n:02}.yml");
        f.write(&name, wf.as_bytes());
        originals.push((name, wf.into_bytes()));
    }
    originals
}

/// The new texts of `originals` after a complete run on a copy (same server, same cache),
/// and how long the run took.
fn complete_run(f: &Fixture, originals: &[(String, Vec<u8>)]) -> (Vec<Vec<u8>>, Duration) {
    let copy = tempfile::tempdir().expect("copy");
    fs::create_dir_all(copy.path().join(".github/workflows")).expect("mkdir");
    for (name, bytes) in originals {
        fs::write(copy.path().join(".github/workflows").join(name), bytes).expect("write");
    }
    let started = Instant::now();
    let out = f
        .command(&["--only", "pin-actions"])
        .current_dir(copy.path())
        .output()
        .expect("complete run");
    let full = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let new: Vec<Vec<u8>> = originals
        .iter()
        .map(|(name, _)| read(&copy.path().join(".github/workflows").join(name)))
        .collect();
    for (i, (name, old)) in originals.iter().enumerate() {
        assert_ne!(&new[i], old, "{name} is changed by a complete run");
    }
    (new, full)
}

/// One round: restores the old texts, starts harden and kills it (even rounds as soon as
/// the first file is replaced, odd rounds after a share of `full`); every file must be old
/// or new. True when some files were old and some new.
fn killed_round(
    f: &Fixture,
    round: u32,
    originals: &[(String, Vec<u8>)],
    new: &[Vec<u8>],
    full: Duration,
) -> bool {
    let dir = f.repo.path().join(".github/workflows");
    let first = dir.join(&originals[0].0);
    for (name, old) in originals {
        fs::write(dir.join(name), old).expect("restore");
    }
    let mut child: Child = f
        .command(&["--only", "pin-actions"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    if round % 2 == 0 {
        // Kill as soon as the first file is replaced: in the middle of the writes.
        let deadline = Instant::now() + full * 4 + Duration::from_secs(10);
        while read(&first) == originals[0].1 && Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_millis(u64::from(round) * 3));
    } else {
        std::thread::sleep(full.mul_f64(0.2 + 0.8 * f64::from(round) / 10.0));
    }
    let _ = child.kill();
    let _ = child.wait();
    let (mut old_count, mut new_count) = (0, 0);
    for (i, (name, old)) in originals.iter().enumerate() {
        let now = read(&dir.join(name));
        if &now == old {
            old_count += 1;
        } else if now == new[i] {
            new_count += 1;
        } else {
            panic!(
                "round {round}: {name} is neither its old nor its new text ({} bytes)",
                now.len()
            );
        }
    }
    old_count > 0 && new_count > 0
}

// ---------------------------------------------------------------- network

/// Runs pin-actions with `fault` on actions/cache; actions/checkout still resolves.
fn with_cache_fault(fault: FaultRule) -> (Fixture, Output, Duration) {
    let f = fixture();
    f.server.set_fault_rule("actions/cache", fault);
    let started = Instant::now();
    let out = f.pin();
    (f, out, started.elapsed())
}

fn assert_per_reference_error(f: &Fixture, out: &Output, expected: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", both(out));
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("ci.yml:7:15"))
        .unwrap_or_else(|| panic!("no error at ci.yml:7:15:\n{stderr}"));
    assert!(
        line.contains("actions/cache") && line.contains(expected),
        "{line}"
    );
    let after = text(&read(&f.path("ci.yml")));
    assert!(
        after.contains("      - uses: actions/cache@v4 # cache\n"),
        "{after}"
    );
    assert!(is_pinned(after.as_bytes(), "actions/checkout"), "{after}");
}

#[test]
fn repository_404_is_a_per_reference_error() {
    let (f, out, _) = with_cache_fault(FaultRule::new(Fault::Status(404)));
    assert_per_reference_error(&f, &out, "repository not found");
}

#[test]
fn server_500_is_retried_then_a_per_reference_error() {
    let (f, out, _) = with_cache_fault(FaultRule::new(Fault::Status(500)));
    assert_per_reference_error(&f, &out, "server error (HTTP 500)");
    assert!(f.server.requests_for("actions/cache") >= 2, "retried");
}

#[test]
fn stalled_server_times_out_with_the_default_timeout() {
    let (f, out, took) = with_cache_fault(FaultRule::new(Fault::Stall));
    assert_per_reference_error(&f, &out, "timed out");
    assert!(took < Duration::from_secs(90), "{took:?}");
}

#[test]
fn stalled_server_with_a_short_timeout() {
    let f = fixture();
    f.server.set_fault("actions/cache", Fault::Stall);
    let started = Instant::now();
    let out = f.harden(&["--only", "pin-actions", "--timeout", "2"]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_per_reference_error(&f, &out, "timed out");
}

#[test]
fn rate_limit_429_with_a_short_retry_after_is_waited_out() {
    let fault = Fault::RateLimited {
        status: 429,
        retry_after: Some(1),
        reset_after: None,
    };
    let (f, out, took) = with_cache_fault(FaultRule::new(fault).times(1));
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(is_pinned(&read(&f.path("ci.yml")), "actions/cache"));
    assert!(took >= Duration::from_secs(1), "waited {took:?}");
}

#[test]
fn rate_limit_429_with_a_long_retry_after_is_a_per_reference_error() {
    let fault = Fault::RateLimited {
        status: 429,
        retry_after: Some(3600),
        reset_after: None,
    };
    let (f, out, took) = with_cache_fault(FaultRule::new(fault));
    assert_per_reference_error(&f, &out, "rate limited");
    assert!(took < Duration::from_secs(30), "gave up at once: {took:?}");
}

#[test]
fn redirect_to_another_host_is_refused() {
    let f = fixture();
    let location = format!(
        "{}/actions/cache.git/git-upload-pack",
        f.server.other_host_url()
    );
    f.server.set_fault(
        "actions/cache",
        Fault::Redirect {
            status: 302,
            location,
        },
    );
    let out = f.pin();
    assert_per_reference_error(&f, &out, "refused to follow a redirect to another host");
}

// ---------------------------------------------------------------- the writer (issue 17)

/// Point 5: a workflow the user edits while harden waits for the network keeps the user's text;
/// harden says so and writes nothing over it.
#[test]
fn file_edited_while_harden_waits_for_the_network_is_kept() {
    let f = fixture();
    let mut options = f.server.options();
    options = options.latency(Duration::from_millis(1500));
    f.server.set_options(options);
    let ci = f.path("ci.yml");
    let child = f
        .command(&["--only", "pin-actions"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(600));
    let edited = format!("{WORKFLOW}      - run: echo edited by the user\n");
    fs::write(&ci, &edited).expect("user edit");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(text(&read(&ci)), edited, "the user's edit was lost");
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        both(&out).contains("the file changed while harden ran"),
        "{}",
        both(&out)
    );
}

/// Point 8: a workflow that is a link to a file outside the repository is not written.
#[cfg(unix)]
#[test]
fn workflow_linking_outside_the_repository_is_not_written() {
    let f = fixture();
    let outside = tempfile::tempdir().expect("outside");
    let target = outside.path().join("elsewhere.yml");
    fs::write(&target, WORKFLOW).expect("write");
    std::os::unix::fs::symlink(&target, f.path("linked.yml")).expect("symlink");
    let out = f.pin();
    assert_eq!(read(&target), WORKFLOW.as_bytes(), "written outside");
    assert!(
        both(&out).contains("outside the repository"),
        "{}",
        both(&out)
    );
    assert_ci_pinned(&f);
}

/// Point 8: `.github` itself a link to a folder outside the repository.
#[cfg(unix)]
#[test]
fn dot_github_linking_outside_the_repository_is_not_written() {
    let f = fixture();
    let outside = tempfile::tempdir().expect("outside");
    fs::create_dir_all(outside.path().join("workflows")).expect("mkdir");
    let target = outside.path().join("workflows/ci.yml");
    fs::write(&target, WORKFLOW).expect("write");
    let repo = tempfile::tempdir().expect("repo");
    std::os::unix::fs::symlink(outside.path(), repo.path().join(".github")).expect("symlink");
    let out = f
        .command(&["--only", "pin-actions"])
        .current_dir(repo.path())
        .output()
        .expect("harden runs");
    assert_eq!(read(&target), WORKFLOW.as_bytes(), "written outside");
    assert!(
        both(&out).contains("outside the repository"),
        "{}",
        both(&out)
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
}

/// Point 9: two roots with the same folder name get distinct patch names.
#[test]
fn patch_dir_names_are_distinct_for_roots_of_the_same_name() {
    let f = fixture();
    let base = tempfile::tempdir().expect("base");
    for parent in ["a", "b"] {
        let wf = base.path().join(parent).join("x/.github/workflows");
        fs::create_dir_all(&wf).expect("mkdir");
        fs::write(wf.join("ci.yml"), WORKFLOW).expect("write");
    }
    let patches = base.path().join("patches");
    let out = f
        .command(&["--only", "pin-actions", "--patch-dir"])
        .arg(&patches)
        .args(["a/x", "b/x"])
        .current_dir(base.path())
        .output()
        .expect("harden runs");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let mut names: Vec<String> = fs::read_dir(&patches)
        .expect("patches")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["x-01-pin-actions.patch", "x-2-01-pin-actions.patch"]
    );
}

/// Point 14: a hard-linked workflow is reported and left, so the links are not split.
#[cfg(unix)]
#[test]
fn hard_linked_workflow_is_reported_and_left() {
    let f = fixture();
    let other = f.repo.path().join("copy.yml");
    fs::hard_link(f.path("ci.yml"), &other).expect("hard link");
    let out = f.pin();
    assert!(both(&out).contains("hard links"), "{}", both(&out));
    assert_eq!(read(&f.path("ci.yml")), WORKFLOW.as_bytes());
    assert_eq!(read(&other), WORKFLOW.as_bytes());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(&other).expect("meta").nlink(),
        2,
        "links split"
    );
}

/// Point 14: owner (when root), extended attributes and mode are kept.
#[cfg(unix)]
#[test]
fn rewrite_keeps_owner_extended_attributes_and_mode() {
    use std::os::unix::fs::MetadataExt;
    let f = fixture();
    let ci = f.path("ci.yml");
    set_mode(&ci, 0o640);
    let has_xattr = xattr::set(&ci, "user.harden-test", b"kept").is_ok();
    let root = fs::metadata(&ci).expect("meta").uid() == 0;
    if root {
        std::os::unix::fs::chown(&ci, Some(4242), Some(4343)).expect("chown");
    }
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_ci_pinned(&f);
    assert_eq!(mode(&ci), 0o640);
    if has_xattr {
        assert_eq!(
            xattr::get(&ci, "user.harden-test").expect("xattr"),
            Some(b"kept".to_vec())
        );
    } else {
        note("skipped the extended-attribute check: this file system has no user attributes");
    }
    if root {
        let meta = fs::metadata(&ci).expect("meta");
        assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
    } else {
        note("skipped the owner check: not running as root");
    }
}

/// Point 15: a FIFO or a link to /dev/zero, named on the command line or found in the
/// workflows folder, is skipped with a message naming it (never read: it would block or never
/// end).
#[cfg(unix)]
#[test]
fn fifos_and_devices_are_skipped_with_a_message() {
    let f = fixture();
    let fifo = f.path("fifo.yml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        note("skipped the FIFO case: no mkfifo");
    }
    std::os::unix::fs::symlink("/dev/zero", f.path("zero.yml")).expect("symlink");
    let start = Instant::now();
    let out = f
        .command(&[
            "--only",
            "pin-actions",
            ".",
            ".github/workflows/zero.yml",
            ".github/workflows/fifo.yml",
        ])
        .output()
        .expect("harden runs");
    assert!(start.elapsed() < Duration::from_secs(30));
    let all = both(&out);
    assert!(
        all.contains("zero.yml") && all.contains("not a regular file"),
        "{all}"
    );
    if fifo.exists() {
        assert!(all.contains("fifo.yml"), "{all}");
    }
    assert_ci_pinned(&f);
    // Found in the folder only, they are skipped with a warning and the run succeeds.
    fs::write(f.path("ci.yml"), WORKFLOW).expect("reset");
    let out = f.pin();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(both(&out).contains("zero.yml"), "{}", both(&out));
    assert_ci_pinned(&f);
}

/// Point 15: a file named several times (and through its folder) is worked on once.
#[test]
fn a_file_named_twice_is_written_once() {
    let f = fixture();
    let out = f
        .command(&[
            "--only",
            "pin-actions",
            "--format",
            "json",
            ".",
            "./",
            ".github/workflows/ci.yml",
            "./.github/workflows/ci.yml",
        ])
        .output()
        .expect("harden runs");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_ci_pinned(&f);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let repos = json["repositories"].as_array().expect("repositories");
    assert_eq!(repos.len(), 1, "one repository: {json}");
    let count = |key: &str| repos[0][key].as_array().map_or(0, Vec::len);
    assert_eq!(count("changes"), 1, "one change: {json}");
    assert_eq!(count("written"), 1, "written once: {json}");
}
