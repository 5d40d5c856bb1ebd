//! A short, fixed-seed run of every fuzz target (a few hundred mutated cases each) as a normal
//! test: no panic, no property failure other than a known, reported bug. The bounded run of CI
//! (`harden-fuzz run`, every seed and more cases) and AFL++ go further: docs/fuzzing.md.

use std::process::Command;
use std::time::Duration;

use harden_fuzz::corpus::Corpus;
use harden_fuzz::engine::{self, RunConfig};
use harden_fuzz::known::known;
use harden_fuzz::targets;

fn short_run(name: &str) {
    let corpus = Corpus::load_default();
    let Some(mut target) = targets::make(name, &corpus).expect("known target") else {
        return;
    };
    let findings = tempfile::tempdir().expect("tempdir");
    let config = RunConfig {
        seed: 20_240_601,
        replay_seeds: false,
        cases: 300,
        // Debug builds are slow, and the machine is shared.
        slow_limit: Duration::from_secs(20),
        findings_dir: Some(findings.path().to_path_buf()),
        ..RunConfig::default()
    };
    let stats = engine::run(target.as_mut(), &config);
    assert!(stats.executions > 0, "{name}: no case ran");
    let new: Vec<String> = stats
        .failures()
        .into_iter()
        .filter(|f| known(name, &f.signature()).is_none())
        .map(|f| {
            format!(
                "{}: {} (choice seed {}, input {:?})",
                f.kind.as_str(),
                f.message,
                f.choice_seed,
                String::from_utf8_lossy(&f.input)
            )
        })
        .collect();
    assert!(new.is_empty(), "{name} found:\n{}", new.join("\n\n"));
}

#[test]
fn yaml() {
    short_run("yaml");
}

#[test]
fn hostile_refs() {
    short_run("hostile-refs");
}

#[test]
fn pin_actions() {
    short_run("pin-actions");
}

#[test]
fn dependabot() {
    short_run("dependabot");
}

#[test]
fn permissions() {
    short_run("permissions");
}

#[test]
fn actions_lock() {
    short_run("actions-lock");
}

#[test]
fn pktline() {
    short_run("pktline");
}

#[test]
fn refs_json() {
    short_run("refs-json");
}

#[test]
fn git_response() {
    short_run("git-response");
}

#[test]
fn rest_response() {
    short_run("rest-response");
}

/// The command CI runs, for one fast target: a table of figures and exit 0; a usage error is 2.
#[test]
fn command_line_run() {
    let findings = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_harden-fuzz"))
        .args([
            "run", "--target", "pktline", "--cases", "200", "--seed", "7",
        ])
        .arg("--findings")
        .arg(findings.path())
        .output()
        .expect("harden-fuzz runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("| pktline |"), "{stdout}");
    for bad in [&["run", "--target", "nope"][..], &["frobnicate"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_harden-fuzz"))
            .args(bad)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// AFL++'s inputs and dictionary: written, non-empty, the dictionary in AFL++'s format.
#[test]
fn afl_inputs_and_dictionary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dict = dir.path().join("yaml.dict");
    let out = Command::new(env!("CARGO_BIN_EXE_harden-fuzz"))
        .args([
            "afl-inputs",
            "--target",
            "yaml",
            "--max-seeds",
            "20",
            "--mutants",
            "10",
        ])
        .arg("--out")
        .arg(dir.path().join("in"))
        .arg("--dict")
        .arg(&dict)
        .output()
        .expect("harden-fuzz runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let inputs = std::fs::read_dir(dir.path().join("in"))
        .expect("inputs")
        .count();
    assert!((10..=30).contains(&inputs), "{inputs}");
    let text = std::fs::read_to_string(dict).expect("dictionary");
    assert!(text.contains("=\"<<: *a\""), "{text}");
    assert!(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| l.is_ascii() && l.ends_with('"') && l.contains("=\"")),
        "{text}"
    );
}

#[test]
fn checkout_credentials() {
    short_run("checkout-credentials");
}
