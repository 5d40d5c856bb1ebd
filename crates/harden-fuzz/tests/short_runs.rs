//! A short, fixed-seed run of every fuzz target (a few seconds each) as a normal test: no panic,
//! no hang, no property failure other than a known, reported bug.

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
        duration: Duration::from_secs(3),
        // Debug builds are slow; the release runs of docs/reliability.md use 1 s.
        slow_limit: Duration::from_secs(20),
        hang_limit: Duration::from_secs(120),
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

/// The command CI runs, for one fast target: a table of figures and exit 0.
#[test]
fn command_line_run() {
    let findings = tempfile::tempdir().expect("tempdir");
    let json = findings.path().join("run.json");
    let out = Command::new(env!("CARGO_BIN_EXE_harden-fuzz"))
        .args([
            "--target",
            "pktline",
            "--seconds",
            "1",
            "--seed",
            "7",
            "--findings",
        ])
        .arg(findings.path())
        .arg("--json")
        .arg(&json)
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
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(json).expect("json written")).expect("json");
    assert!(
        v["targets"][0]["executions"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_harden-fuzz"))
        .args(["--target", "nope"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(64));
}

#[test]
fn checkout_credentials() {
    short_run("checkout-credentials");
}
