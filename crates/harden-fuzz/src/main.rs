//! `harden-fuzz`: bounded, reproducible fuzzing runs of harden's layers.
//!
//! ```text
//! harden-fuzz --target <name|all> --seconds N --seed S [--findings DIR] [--corpus DIR]...
//! harden-fuzz --target <name> --replay FILE [--choice-seed N]
//! ```
//!
//! Each target runs in a child process (`--worker`): a stack overflow or a hang ends only that
//! child, the input it was running is recorded as a crash finding, and a new child carries on
//! for the rest of the time. Exit code: 0 when nothing new was found, 1 when something was,
//! 64 for a usage error.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use harden_fuzz::corpus::{shared_corpus_dir, testdata_dir, Corpus};
use harden_fuzz::engine::{self, Finding, FindingKind, RunConfig, Stats, HANG_EXIT_CODE};
use harden_fuzz::known::known;
use harden_fuzz::targets;

const USAGE: &str =
    "usage: harden-fuzz --target <name|all> [--seconds N] [--seed S] [--findings DIR]
                   [--corpus DIR]... [--slow-ms N] [--hang-secs N] [--cases N] [--in-process]
                   [--json FILE]
       harden-fuzz --target <name> --replay FILE [--choice-seed N]
targets: yaml, pin-actions, dependabot, permissions, pktline, refs-json, git-response,
         rest-response, hostile-refs, all";

#[derive(Debug, Clone)]
struct Args {
    target: String,
    seconds: f64,
    seed: u64,
    findings: PathBuf,
    corpus: Vec<PathBuf>,
    slow_ms: u64,
    hang_secs: u64,
    cases: Option<u64>,
    in_process: bool,
    worker: bool,
    current: Option<PathBuf>,
    stats: Option<PathBuf>,
    json: Option<PathBuf>,
    replay: Option<PathBuf>,
    choice_seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        target: "all".to_owned(),
        seconds: 10.0,
        seed: 1,
        findings: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/harden-fuzz/findings"),
        corpus: Vec::new(),
        slow_ms: 2000,
        hang_secs: 30,
        cases: None,
        in_process: false,
        worker: false,
        current: None,
        stats: None,
        json: None,
        replay: None,
        choice_seed: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |v: String, what: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{what} needs a whole number, not {v:?}"))
        };
        match name.as_str() {
            "--target" => args.target = value()?,
            "--seconds" => {
                let v = value()?;
                args.seconds = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("--seconds needs a number, not {v:?}"))?;
            }
            "--seed" => args.seed = number(value()?, "--seed")?,
            "--findings" => args.findings = PathBuf::from(value()?),
            "--corpus" => args.corpus.push(PathBuf::from(value()?)),
            "--slow-ms" => args.slow_ms = number(value()?, "--slow-ms")?,
            "--hang-secs" => args.hang_secs = number(value()?, "--hang-secs")?,
            "--cases" => args.cases = Some(number(value()?, "--cases")?),
            "--in-process" => args.in_process = true,
            "--worker" => args.worker = true,
            "--current" => args.current = Some(PathBuf::from(value()?)),
            "--stats" => args.stats = Some(PathBuf::from(value()?)),
            "--json" => args.json = Some(PathBuf::from(value()?)),
            "--replay" => args.replay = Some(PathBuf::from(value()?)),
            "--choice-seed" => args.choice_seed = number(value()?, "--choice-seed")?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.target != "all" && !targets::targets().contains(&args.target.as_str()) {
        return Err(format!("unknown target {:?}\n{USAGE}", args.target));
    }
    if args.replay.is_some() && args.target == "all" {
        return Err("--replay needs one --target".to_owned());
    }
    Ok(args)
}

fn say(text: &str) {
    let _ = writeln!(io::stdout(), "{text}");
}

fn warn(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

fn corpus_for(args: &Args) -> Corpus {
    if args.corpus.is_empty() {
        Corpus::load_default()
    } else {
        Corpus::load(&args.corpus, &harden_testserver::default_refs_dir())
    }
}

fn static_name(name: &str) -> &'static str {
    targets::targets()
        .into_iter()
        .find(|t| *t == name)
        .unwrap_or("unknown")
}

fn config_for(args: &Args, seconds: f64, seed: u64) -> RunConfig {
    RunConfig {
        seed,
        duration: Duration::from_secs_f64(seconds),
        max_cases: args.cases,
        slow_limit: Duration::from_millis(args.slow_ms),
        hang_limit: Duration::from_secs(args.hang_secs.max(1)),
        findings_dir: Some(args.findings.clone()),
        current_file: args.current.clone(),
        stats_file: args.stats.clone(),
        ..RunConfig::default()
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            warn(&e);
            return ExitCode::from(64);
        }
    };
    if let Some(file) = args.replay.clone() {
        return replay(&args, &file);
    }
    if args.worker || args.in_process {
        return in_process(&args);
    }
    supervise(&args)
}

/// Runs one case from a file; exit 0 when it keeps every property, 1 when not.
fn replay(args: &Args, file: &Path) -> ExitCode {
    let input = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            warn(&format!("cannot read {}: {e}", file.display()));
            return ExitCode::from(64);
        }
    };
    let corpus = corpus_for(args);
    let mut target = match targets::make(&args.target, &corpus) {
        Ok(Some(t)) => t,
        Ok(None) => {
            warn(&format!("{}: not runnable yet", args.target));
            return ExitCode::from(64);
        }
        Err(e) => {
            warn(&e);
            return ExitCode::from(64);
        }
    };
    match engine::guarded(target.as_mut(), &input, args.choice_seed) {
        Ok(Ok(tag)) => {
            say(&format!("ok: {tag}"));
            ExitCode::SUCCESS
        }
        Ok(Err(problem)) => {
            say(&format!("{}: {}", problem.kind.as_str(), problem.message));
            ExitCode::from(1)
        }
        Err(panic) => {
            say(&panic);
            ExitCode::from(1)
        }
    }
}

/// Runs the targets in this process (the worker of a supervisor, or `--in-process`).
fn in_process(args: &Args) -> ExitCode {
    let corpus = corpus_for(args);
    let names: Vec<&str> = if args.target == "all" {
        targets::targets()
    } else {
        vec![args.target.as_str()]
    };
    let mut all = Vec::new();
    for name in names {
        match targets::make(name, &corpus) {
            Ok(Some(mut target)) => {
                let stats =
                    engine::run(target.as_mut(), &config_for(args, args.seconds, args.seed));
                all.push(stats);
            }
            Ok(None) => all.push(Stats {
                target: name.to_owned(),
                ..Stats::default()
            }),
            Err(e) => {
                warn(&e);
                return ExitCode::from(64);
            }
        }
    }
    if args.worker {
        return ExitCode::SUCCESS;
    }
    report(args, &corpus, &all)
}

/// Runs each target in child processes for the time asked, restarting after a crash.
fn supervise(args: &Args) -> ExitCode {
    let corpus = corpus_for(args);
    let names: Vec<&'static str> = if args.target == "all" {
        targets::targets()
    } else {
        vec![static_name(&args.target)]
    };
    let _ = std::fs::create_dir_all(&args.findings);
    let mut all = Vec::new();
    for name in names {
        if matches!(targets::make(name, &corpus), Ok(None)) {
            say(&format!(
                "{name:<14} skipped: not runnable yet (see docs/reliability.md)"
            ));
            all.push(Stats {
                target: name.to_owned(),
                ..Stats::default()
            });
            continue;
        }
        let stats = supervise_target(args, name);
        say(&format!(
            "{name:<14} {:>9} executions in {:>6.1} s ({:>8.1}/s), {} finding(s)",
            stats.executions,
            stats.elapsed.as_secs_f64(),
            stats.per_second(),
            stats.findings.len()
        ));
        all.push(stats);
    }
    report(args, &corpus, &all)
}

fn supervise_target(args: &Args, name: &'static str) -> Stats {
    let mut total = Stats {
        target: name.to_owned(),
        ..Stats::default()
    };
    let started = Instant::now();
    let budget = Duration::from_secs_f64(args.seconds);
    let current = args.findings.join(format!(".current-{name}"));
    let stats_file = args.findings.join(format!(".stats-{name}.json"));
    let mut seed = args.seed;
    let mut restarts = 0;
    while started.elapsed() + Duration::from_millis(200) < budget || total.executions == 0 {
        let remaining = budget
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(200));
        let _ = std::fs::remove_file(&stats_file);
        let mut child = worker_command(args, name, remaining.as_secs_f64(), seed);
        child
            .arg("--current")
            .arg(&current)
            .arg("--stats")
            .arg(&stats_file);
        let (status, stderr) = match run_child(
            &mut child,
            remaining + Duration::from_secs(args.hang_secs + 60),
        ) {
            Ok(r) => r,
            Err(e) => {
                warn(&format!("{name}: cannot run the worker: {e}"));
                break;
            }
        };
        if let Some(value) = std::fs::read_to_string(&stats_file)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            total.merge(Stats::from_json(&value, name));
        }
        match status {
            Some(0) => break,
            other => {
                let (input, choice_seed) = engine::read_current(&current).unwrap_or_default();
                let why = if other == Some(HANG_EXIT_CODE) {
                    format!("hang: a case ran longer than {} s", args.hang_secs)
                } else {
                    let last = stderr
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("no message")
                        .to_owned();
                    let died = stderr
                        .lines()
                        .find(|l| l.contains("overflowed its stack"))
                        .map_or(last, str::to_owned);
                    format!("process died ({}): {died}", describe(other))
                };
                let input = if other == Some(HANG_EXIT_CODE) {
                    input
                } else {
                    minimize_crash(args, name, &input, choice_seed)
                };
                let finding = Finding {
                    target: name,
                    kind: FindingKind::Crash,
                    message: why,
                    input,
                    choice_seed,
                    elapsed: Duration::ZERO,
                };
                let _ = finding.save(&args.findings);
                total.add_finding(finding);
                restarts += 1;
                seed = seed.wrapping_add(0x1000_0000);
                if restarts > 20 {
                    warn(&format!(
                        "{name}: more than 20 crashes; stopping this target"
                    ));
                    break;
                }
            }
        }
    }
    let _ = std::fs::remove_file(&current);
    let _ = std::fs::remove_file(&stats_file);
    total
}

fn describe(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_owned(),
    }
}

fn worker_command(args: &Args, name: &str, seconds: f64, seed: u64) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("harden-fuzz"));
    let mut cmd = Command::new(exe);
    cmd.arg("--worker")
        .arg("--target")
        .arg(name)
        .arg("--seconds")
        .arg(format!("{seconds:.3}"))
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--findings")
        .arg(&args.findings)
        .arg("--slow-ms")
        .arg(args.slow_ms.to_string())
        .arg("--hang-secs")
        .arg(args.hang_secs.to_string());
    if let Some(n) = args.cases {
        cmd.arg("--cases").arg(n.to_string());
    }
    for dir in &args.corpus {
        cmd.arg("--corpus").arg(dir);
    }
    cmd
}

/// Runs a child to its end (killing it after `limit`); its exit code (`None` when a signal
/// ended it) and the end of its standard error.
fn run_child(cmd: &mut Command, limit: Duration) -> io::Result<(Option<i32>, String)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    let tail: String = text
        .chars()
        .rev()
        .take(4000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Ok((status.code(), tail))
}

/// Shrinks an input that kills the process, by replaying candidates in child processes.
fn minimize_crash(args: &Args, name: &str, input: &[u8], choice_seed: u64) -> Vec<u8> {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(_) => return input.to_vec(),
    };
    let file = dir.path().join("candidate");
    let dies = |candidate: &[u8]| {
        if std::fs::write(&file, candidate).is_err() {
            return false;
        }
        let mut cmd =
            Command::new(std::env::current_exe().unwrap_or_else(|_| PathBuf::from("harden-fuzz")));
        cmd.arg("--target")
            .arg(name)
            .arg("--replay")
            .arg(&file)
            .arg("--choice-seed")
            .arg(choice_seed.to_string());
        for d in &args.corpus {
            cmd.arg("--corpus").arg(d);
        }
        matches!(run_child(&mut cmd, Duration::from_secs(args.hang_secs + 5)), Ok((code, _)) if code != Some(0) && code != Some(1))
    };
    if !dies(input) {
        return input.to_vec();
    }
    engine::minimize(input, 60, dies)
}

fn report(args: &Args, corpus: &Corpus, all: &[Stats]) -> ExitCode {
    let mut new_failures = 0;
    say("");
    say(&format!(
        "seed {}; corpus: {} YAML files, {} recorded repositories ({})",
        args.seed,
        corpus.yaml.len(),
        corpus.repos.len(),
        corpus
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    say("| target | executions | seconds | executions/s | slowest case | failures | guard refusals |");
    say("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut total_execs = 0;
    for s in all {
        total_execs += s.executions;
        let refusals = s.findings.len() - s.failures().len();
        say(&format!(
            "| {} | {} | {:.1} | {:.0} | {} ms | {} | {} |",
            s.target,
            s.executions,
            s.elapsed.as_secs_f64(),
            s.per_second(),
            s.slowest.as_millis(),
            s.failures().len(),
            refusals
        ));
    }
    say(&format!("total executions: {total_execs}"));
    for s in all {
        for f in &s.findings {
            let tag = match known(&s.target, &f.signature()) {
                Some(bug) => format!("known, see {}", bug.test),
                None if f.kind.is_failure() => {
                    new_failures += 1;
                    "NEW".to_owned()
                }
                None => "reported".to_owned(),
            };
            let first = f.message.lines().next().unwrap_or_default();
            say(&format!(
                "- [{tag}] {} {}: {} ({} bytes, choice seed {})",
                s.target,
                f.kind.as_str(),
                first.chars().take(200).collect::<String>(),
                f.input.len(),
                f.choice_seed
            ));
        }
    }
    say(&format!("findings are in {}", args.findings.display()));
    if let Some(path) = &args.json {
        let value = serde_json::json!({
            "seed": args.seed,
            "seconds_per_target": args.seconds,
            "targets": all.iter().map(Stats::to_json).collect::<Vec<_>>(),
        });
        if let Err(e) = std::fs::write(path, value.to_string()) {
            warn(&format!("cannot write {}: {e}", path.display()));
        }
    }
    let _ = (testdata_dir(), shared_corpus_dir());
    if new_failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
