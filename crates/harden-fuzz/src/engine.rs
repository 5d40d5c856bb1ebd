//! The bounded stable run (no AFL++ needed; what CI runs): every seed once, then a fixed
//! number of cases made by the YAML-aware mutator, each with a panic guard and a time check.
//! Coverage guidance, hang detection, crash isolation and minimization are AFL++'s job
//! (`harden-fuzz-afl`, see docs/fuzzing.md); this loop only counts, times and records.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::mutate::{mutate, Flavor};
use crate::rng::Rng;

/// What one case did: a short tag for the statistics when it kept every property, else the
/// problem.
pub type CaseResult = Result<&'static str, Problem>;

/// A case that did not keep its properties, or that a guard refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// [`FindingKind::Property`] or [`FindingKind::GuardRefused`].
    pub kind: FindingKind,
    /// What happened.
    pub message: String,
}

impl Problem {
    /// The semantic guard refused an edit (the file would be left untouched).
    pub fn refused(message: impl Into<String>) -> Self {
        Problem {
            kind: FindingKind::GuardRefused,
            message: message.into(),
        }
    }
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem {
            kind: FindingKind::Property,
            message,
        }
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Self {
        Problem::from(message.to_owned())
    }
}

/// A fuzz target: one layer of harden, fed one input at a time.
pub trait Target {
    /// The name used with `--target`.
    fn name(&self) -> &'static str;
    /// How inputs are mutated.
    fn flavor(&self) -> Flavor;
    /// The seed inputs (never empty).
    fn seeds(&self) -> &[Vec<u8>];
    /// Runs one input. `choices` drives every random choice the target makes besides the
    /// input itself (which edits to try, which options to use), so a case replays exactly
    /// from its input and its choice seed. Returns a short tag for the statistics, or a
    /// property violation. A panic is caught by the caller.
    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult;

    /// How many times the run's slow limit one case of this target may take (targets that make
    /// many requests per case by design raise it).
    fn slow_factor(&self) -> u32 {
        1
    }
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// The code panicked.
    Panic,
    /// A property did not hold (e.g. a guarded output that does not parse).
    Property,
    /// One case took longer than the slow limit.
    Slow,
    /// The semantic guard refused an edit: the file was left untouched, as it must be, but the
    /// edit layer produced a wrong text.
    GuardRefused,
}

impl FindingKind {
    /// The word used in file names and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Panic => "panic",
            FindingKind::Property => "property",
            FindingKind::Slow => "slow",
            FindingKind::GuardRefused => "guard",
        }
    }

    /// True for the kinds that are failures of harden (not merely reports).
    pub fn is_failure(self) -> bool {
        !matches!(self, FindingKind::GuardRefused)
    }
}

/// What identifies the bug behind a problem: its kind and the first line of its message with
/// digits removed (so that offsets and sizes do not split one bug into many).
pub fn signature(kind: FindingKind, message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let cleaned: String = first
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .take(160)
        .collect();
    format!("{}: {cleaned}", kind.as_str())
}

/// Something a case broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The target.
    pub target: &'static str,
    /// What broke.
    pub kind: FindingKind,
    /// The panic message with its place, or the violated property.
    pub message: String,
    /// The input (the smallest seen for this signature).
    pub input: Vec<u8>,
    /// The choice seed to replay it with ([`Target::run_case`]).
    pub choice_seed: u64,
    /// How long the case took.
    pub elapsed: Duration,
}

impl Finding {
    /// See [`signature`].
    pub fn signature(&self) -> String {
        signature(self.kind, &self.message)
    }

    /// Writes `<dir>/<target>-<kind>-<hash>.input` and a `.txt` beside it; returns the input's path.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        fs::create_dir_all(dir)?;
        let stem = format!(
            "{}-{}-{:016x}",
            self.target,
            self.kind.as_str(),
            fnv(self.signature().as_bytes())
        );
        let input = dir.join(format!("{stem}.input"));
        fs::write(&input, &self.input)?;
        let about = format!(
            "target: {}\nkind: {}\nchoice seed: {}\nelapsed: {:?}\nreplay: cargo run -p harden-fuzz -- replay --target {} {} --choice-seed {}\nminimize: cargo afl tmin (see docs/fuzzing.md)\n\n{}\n",
            self.target,
            self.kind.as_str(),
            self.choice_seed,
            self.elapsed,
            self.target,
            input.display(),
            self.choice_seed,
            self.message
        );
        fs::write(dir.join(format!("{stem}.txt")), about)?;
        Ok(input)
    }
}

/// FNV-1a, for stable file names and the choice seed of a lone input.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Settings of one bounded run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The run's seed: case *n* of seed *S* is always the same input and choice seed.
    pub seed: u64,
    /// Run every seed input once, unchanged, before the mutated cases.
    pub replay_seeds: bool,
    /// How many mutated cases to run after the seeds.
    pub cases: u64,
    /// Stop early after this long, if set (a safety net; the count is the bound).
    pub time_limit: Option<Duration>,
    /// Most mutation steps per case.
    pub max_steps: usize,
    /// A case slower than this is a finding.
    pub slow_limit: Duration,
    /// Where findings are written, if anywhere.
    pub findings_dir: Option<PathBuf>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seed: 1,
            replay_seeds: true,
            cases: 1000,
            time_limit: None,
            max_steps: 5,
            slow_limit: Duration::from_secs(2),
            findings_dir: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// The target.
    pub target: String,
    /// Cases run (seeds and mutated cases).
    pub executions: u64,
    /// Cases the run was to make; more than `executions` when the time limit stopped it.
    pub planned: u64,
    /// Wall time of the loop.
    pub elapsed: Duration,
    /// The slowest case.
    pub slowest: Duration,
    /// How often each outcome tag was seen.
    pub outcomes: BTreeMap<String, u64>,
    /// One finding per distinct signature.
    pub findings: Vec<Finding>,
}

impl Stats {
    /// Executions per second.
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.executions as f64 / secs
        } else {
            0.0
        }
    }

    /// Adds a finding unless one with the same signature and a smaller input is there.
    pub fn add_finding(&mut self, finding: Finding) {
        let sig = finding.signature();
        match self.findings.iter_mut().find(|f| f.signature() == sig) {
            Some(f) if f.input.len() > finding.input.len() => *f = finding,
            Some(_) => {}
            None => self.findings.push(finding),
        }
    }

    /// The findings that are failures (not guard refusals).
    pub fn failures(&self) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.kind.is_failure())
            .collect()
    }
}

thread_local! {
    static QUIET: RefCell<bool> = const { RefCell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs (once) a panic hook that records the message and place of panics on fuzzing
/// threads instead of printing them, and leaves every other thread's panics to the default hook.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| *q.borrow()) {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".to_owned());
                let place = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("panic at {place}: {message}")));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs one case with a panic guard: the case's result, or the panic as a finding message.
pub fn guarded(
    target: &mut dyn Target,
    input: &[u8],
    choice_seed: u64,
) -> Result<CaseResult, String> {
    install_panic_hook();
    QUIET.with(|q| *q.borrow_mut() = true);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        target.run_case(input, &mut Rng::new(choice_seed))
    }));
    QUIET.with(|q| *q.borrow_mut() = false);
    result.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panic".to_owned())
    })
}

/// Makes the input of mutated case `index`: a seed chosen and changed by the YAML-aware
/// mutator, from the case's own generator.
pub fn make_input(
    seeds: &[Vec<u8>],
    flavor: Flavor,
    seed: u64,
    index: u64,
    max_steps: usize,
) -> Vec<u8> {
    let mut rng = Rng::for_case(seed, index);
    let mut input = rng.pick(seeds).cloned().unwrap_or_default();
    mutate(&mut rng, &mut input, seeds, flavor, max_steps);
    input
}

/// The choice seed of case `index`.
pub fn choice_seed(seed: u64, index: u64) -> u64 {
    Rng::for_case(seed ^ 0x5eed_c401_ce5e_ed00, index).next_u64()
}

/// Runs `target` as `config` says: the seeds, then the mutated cases.
pub fn run(target: &mut dyn Target, config: &RunConfig) -> Stats {
    let mut stats = Stats {
        target: target.name().to_owned(),
        ..Stats::default()
    };
    let seeds = target.seeds().to_vec();
    let flavor = target.flavor();
    let start = Instant::now();
    let replayed = if config.replay_seeds { seeds.len() } else { 0 };
    let total = replayed as u64 + config.cases;
    stats.planned = total;
    for index in 0..total {
        if config
            .time_limit
            .is_some_and(|limit| start.elapsed() >= limit)
        {
            break;
        }
        let input = match usize::try_from(index).ok().and_then(|i| seeds.get(i)) {
            Some(seed) if index < replayed as u64 => seed.clone(),
            _ => make_input(&seeds, flavor, config.seed, index, config.max_steps),
        };
        run_one(
            target,
            config,
            &mut stats,
            input,
            choice_seed(config.seed, index),
        );
    }
    stats.elapsed = start.elapsed();
    stats
}

/// Runs one case and adds what it did to `stats`.
fn run_one(
    target: &mut dyn Target,
    config: &RunConfig,
    stats: &mut Stats,
    input: Vec<u8>,
    choices: u64,
) {
    let began = Instant::now();
    let result = guarded(target, &input, choices);
    let elapsed = began.elapsed();
    stats.executions += 1;
    stats.slowest = stats.slowest.max(elapsed);
    let (tag, problem) = match result {
        Ok(Ok(tag)) => (tag, None),
        Ok(Err(p)) if p.kind == FindingKind::GuardRefused => {
            ("guard-refused", Some((p.kind, p.message)))
        }
        Ok(Err(p)) => ("property-violated", Some((p.kind, p.message))),
        Err(panic) => ("panic", Some((FindingKind::Panic, panic))),
    };
    *stats.outcomes.entry(tag.to_owned()).or_default() += 1;
    let slow_limit = config.slow_limit * target.slow_factor();
    let problem = problem.or_else(|| {
        (elapsed > slow_limit).then(|| {
            let message = format!("one case took {elapsed:?} (limit {slow_limit:?})");
            (FindingKind::Slow, message)
        })
    });
    let Some((kind, message)) = problem else {
        return;
    };
    let finding = Finding {
        target: target.name(),
        kind,
        message,
        input,
        choice_seed: choices,
        elapsed,
    };
    if let Some(dir) = &config.findings_dir {
        let _ = finding.save(dir);
    }
    stats.add_finding(finding);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Toy {
        seeds: Vec<Vec<u8>>,
    }

    impl Target for Toy {
        fn name(&self) -> &'static str {
            "toy"
        }
        fn flavor(&self) -> Flavor {
            Flavor::Yaml
        }
        fn seeds(&self) -> &[Vec<u8>] {
            &self.seeds
        }
        fn run_case(&mut self, input: &[u8], _: &mut Rng) -> CaseResult {
            if input.windows(2).any(|w| w == b"]]") {
                panic!("double bracket");
            }
            if input.contains(&b'@') {
                return Err("at sign".into());
            }
            Ok("ok")
        }
    }

    #[test]
    fn finds_and_deduplicates() {
        let mut toy = Toy {
            seeds: vec![b"a: [b]\nc: d\ne: [f]\n".to_vec()],
        };
        let config = RunConfig {
            cases: 3000,
            ..RunConfig::default()
        };
        let stats = run(&mut toy, &config);
        assert_eq!(stats.executions, 3001);
        let panics: Vec<_> = stats
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Panic)
            .collect();
        assert_eq!(panics.len(), 1, "{:?}", stats.findings);
        assert!(panics[0].input.windows(2).any(|w| w == b"]]"));
        assert!(
            panics[0].message.contains("double bracket") && panics[0].message.contains("engine.rs"),
            "{}",
            panics[0].message
        );
        let props = stats.failures().len() - 1;
        assert_eq!(props, 1, "{:?}", stats.findings);
    }

    #[test]
    fn the_same_seed_makes_the_same_cases() {
        let seeds = vec![b"a: 1\nb: [c]\n".to_vec(), b"x: y\n".to_vec()];
        for index in 0..50 {
            let one = make_input(&seeds, Flavor::Yaml, 7, index, 5);
            assert_eq!(one, make_input(&seeds, Flavor::Yaml, 7, index, 5));
        }
        assert_ne!(choice_seed(7, 1), choice_seed(7, 2));
    }

    #[test]
    fn signatures_ignore_numbers() {
        assert_eq!(
            signature(FindingKind::Property, "offset 12 past 30\nmore"),
            signature(FindingKind::Property, "offset 45 past 99")
        );
    }
}
