//! `harden-fuzz`: the bounded stable run of harden's fuzz targets (what CI runs), the replay of
//! a finding or an AFL++ crash file, and the starting inputs and dictionary for AFL++.
//!
//! ```text
//! harden-fuzz run [--target NAME|all] [--cases N] [--seed S] [--no-seeds] [--findings DIR]
//! harden-fuzz replay --target NAME FILE [--choice-seed N]
//! harden-fuzz afl-inputs --target NAME --out DIR [--dict FILE] [--max-seeds N] [--mutants N]
//! harden-fuzz targets
//! ```
//!
//! Exit code: 0 when nothing new was found, 1 when a failure that is not a known bug was found,
//! 2 for a usage error. Coverage-guided fuzzing: `crates/harden-fuzz/afl-run` (docs/fuzzing.md).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use harden_fuzz::corpus::Corpus;
use harden_fuzz::engine::{self, RunConfig, Stats};
use harden_fuzz::harness;
use harden_fuzz::known::known;
use harden_fuzz::targets;

#[derive(Debug, Parser)]
#[command(name = "harden-fuzz", about = "Fuzz targets of every harden layer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every seed once, then a fixed number of mutated cases per target (deterministic).
    Run(RunArgs),
    /// Runs one input file through one target; exit 1 when it breaks a property.
    Replay {
        /// The target.
        #[arg(long)]
        target: String,
        /// The input (a finding's `.input`, or an AFL++ crash file).
        file: PathBuf,
        /// The choice seed (default: the input's own, as under AFL++).
        #[arg(long)]
        choice_seed: Option<u64>,
    },
    /// Writes AFL++'s starting inputs (seeds and YAML-aware mutants) and its dictionary.
    AflInputs {
        /// The target.
        #[arg(long)]
        target: String,
        /// Where the inputs go (created).
        #[arg(long)]
        out: PathBuf,
        /// Where the dictionary goes, if anywhere.
        #[arg(long)]
        dict: Option<PathBuf>,
        /// Most seeds taken from the corpus.
        #[arg(long, default_value_t = 200)]
        max_seeds: usize,
        /// Largest seed, in bytes.
        #[arg(long, default_value_t = 8192)]
        max_len: usize,
        /// Mutated inputs added.
        #[arg(long, default_value_t = 100)]
        mutants: u64,
        /// The mutator's seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Lists the targets.
    Targets,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// A target, or `all`.
    #[arg(long, default_value = "all")]
    target: String,
    /// Mutated cases per target, after the seeds.
    #[arg(long, default_value_t = 1000)]
    cases: u64,
    /// The run's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Skip the unchanged seeds.
    #[arg(long)]
    no_seeds: bool,
    /// Stop a target after this many seconds even if cases are left (a safety net).
    #[arg(long)]
    seconds: Option<f64>,
    /// A case slower than this is a finding.
    #[arg(long, default_value_t = 2000)]
    slow_ms: u64,
    /// Where findings are written.
    #[arg(long, default_value = "target/harden-fuzz/findings")]
    findings: PathBuf,
    /// Seed folders instead of `testdata/` and `../shared/corpus/`.
    #[arg(long)]
    corpus: Vec<PathBuf>,
}

fn say(text: &str) {
    let _ = writeln!(io::stdout(), "{text}");
}

fn warn(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Replay {
            target,
            file,
            choice_seed,
        } => replay(&target, &file, choice_seed),
        Command::AflInputs {
            target,
            out,
            dict,
            max_seeds,
            max_len,
            mutants,
            seed,
        } => afl_inputs(
            &target,
            &out,
            dict.as_deref(),
            (max_seeds, max_len, mutants, seed),
        ),
        Command::Targets => {
            say(&targets::targets().join("\n"));
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|e| {
        warn(&format!("harden-fuzz: {e}"));
        ExitCode::from(2)
    })
}

/// Runs one file through one target; exit 0 when it keeps every property, 1 when not.
fn replay(name: &str, file: &Path, choice_seed: Option<u64>) -> Result<ExitCode, String> {
    let input = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut target = harness::make_small(name)?;
    let choices = choice_seed.unwrap_or_else(|| harness::choice_seed_of(&input));
    Ok(match engine::guarded(target.as_mut(), &input, choices) {
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
    })
}

/// Writes AFL++'s starting inputs and dictionary for one target.
fn afl_inputs(
    name: &str,
    out: &Path,
    dict: Option<&Path>,
    (max_seeds, max_len, mutants, seed): (usize, usize, u64, u64),
) -> Result<ExitCode, String> {
    let corpus = Corpus::load_default();
    let target = targets::make(name, &corpus)?
        .ok_or_else(|| format!("{name}: not runnable yet (it needs a service with no harness)"))?;
    let inputs = harness::afl_inputs(target.as_ref(), max_seeds, max_len, mutants, seed);
    harness::write_afl_inputs(&inputs, out)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    if let Some(path) = dict {
        std::fs::write(path, harness::dictionary(target.flavor()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    say(&format!(
        "{name}: {} inputs in {}",
        inputs.len(),
        out.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The bounded run of one target or all of them, with a table of figures.
fn run(args: &RunArgs) -> Result<ExitCode, String> {
    let corpus = if args.corpus.is_empty() {
        Corpus::load_default()
    } else {
        Corpus::load(&args.corpus, &harden_testserver::default_refs_dir())
    };
    let names: Vec<&str> = if args.target == "all" {
        targets::targets()
    } else {
        vec![args.target.as_str()]
    };
    let config = RunConfig {
        seed: args.seed,
        replay_seeds: !args.no_seeds,
        cases: args.cases,
        time_limit: args.seconds.map(Duration::from_secs_f64),
        slow_limit: Duration::from_millis(args.slow_ms),
        findings_dir: Some(args.findings.clone()),
        ..RunConfig::default()
    };
    let mut all = Vec::new();
    for name in names {
        let Some(mut target) = targets::make(name, &corpus)? else {
            say(&format!(
                "{name:<20} skipped: not runnable yet (see docs/fuzzing.md)"
            ));
            continue;
        };
        // Printed first, so that a run that dies (stack overflow) shows where.
        let _ = write!(io::stdout(), "{name:<20} ");
        let _ = io::stdout().flush();
        let stats = engine::run(target.as_mut(), &config);
        let stopped = if stats.executions < stats.planned {
            format!(
                " (time limit: {} cases not run)",
                stats.planned - stats.executions
            )
        } else {
            String::new()
        };
        say(&format!(
            "{:>7} cases in {:>6.1} s ({:>7.0}/s), {} failure(s){stopped}",
            stats.executions,
            stats.elapsed.as_secs_f64(),
            stats.per_second(),
            stats.failures().len()
        ));
        all.push(stats);
    }
    Ok(report(args, &corpus, &all))
}

fn report(args: &RunArgs, corpus: &Corpus, all: &[Stats]) -> ExitCode {
    say(&format!(
        "\nseed {}, {} mutated cases per target; corpus: {} YAML files, {} recorded repositories",
        args.seed,
        args.cases,
        corpus.yaml.len(),
        corpus.repos.len()
    ));
    say("| target | executions | seconds | executions/s | slowest case | failures | guard refusals |");
    say("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for s in all {
        say(&format!(
            "| {} | {} | {:.1} | {:.0} | {} ms | {} | {} |",
            s.target,
            s.executions,
            s.elapsed.as_secs_f64(),
            s.per_second(),
            s.slowest.as_millis(),
            s.failures().len(),
            s.findings.len() - s.failures().len()
        ));
    }
    let mut new_failures = 0;
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
    if new_failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
