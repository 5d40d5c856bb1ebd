//! The fuzzing loop: make a case (a seed plus mutations), run it with a panic guard and a time
//! check, record what breaks, minimize it, and count executions.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
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
    /// property violation. A panic is caught by the engine.
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
    /// The process died (stack overflow, abort) or hung; found by the supervisor.
    Crash,
}

impl FindingKind {
    /// The word used in file names and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Panic => "panic",
            FindingKind::Property => "property",
            FindingKind::Slow => "slow",
            FindingKind::GuardRefused => "guard",
            FindingKind::Crash => "crash",
        }
    }

    /// True for the kinds that are failures of harden (not merely reports).
    pub fn is_failure(self) -> bool {
        !matches!(self, FindingKind::GuardRefused)
    }
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
    /// The (minimized) input.
    pub input: Vec<u8>,
    /// The choice seed to replay it with ([`Target::run_case`]).
    pub choice_seed: u64,
    /// How long the case took.
    pub elapsed: Duration,
}

impl Finding {
    /// What identifies the bug behind a finding: its kind and the first line of its message
    /// with digits removed (so that offsets and sizes do not split one bug into many).
    pub fn signature(&self) -> String {
        let first = self.message.lines().next().unwrap_or_default();
        let cleaned: String = first
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .take(160)
            .collect();
        format!("{}: {cleaned}", self.kind.as_str())
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
            "target: {}\nkind: {}\nchoice seed: {}\nelapsed: {:?}\nreplay: cargo run -p harden-fuzz --release -- --target {} --replay {} --choice-seed {}\n\n{}\n",
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

impl FindingKind {
    /// The kind named by [`FindingKind::as_str`] (`Crash` for anything unknown).
    pub fn parse(s: &str) -> FindingKind {
        match s {
            "panic" => FindingKind::Panic,
            "property" => FindingKind::Property,
            "slow" => FindingKind::Slow,
            "guard" => FindingKind::GuardRefused,
            _ => FindingKind::Crash,
        }
    }
}

/// Bytes as lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hexadecimal text (invalid pairs are skipped).
pub fn unhex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .filter_map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

/// FNV-1a, for stable file names.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The run's seed.
    pub seed: u64,
    /// How long to run.
    pub duration: Duration,
    /// Stop after this many cases, if set.
    pub max_cases: Option<u64>,
    /// Most mutation steps per case.
    pub max_steps: usize,
    /// A case slower than this is a finding.
    pub slow_limit: Duration,
    /// A case slower than this is a hang: the process stops (see [`Watchdog`]).
    pub hang_limit: Duration,
    /// Where findings are written, if anywhere.
    pub findings_dir: Option<PathBuf>,
    /// Where the current input is written before each case (for a supervisor that must learn
    /// which input killed the process).
    pub current_file: Option<PathBuf>,
    /// Minimize findings before recording them.
    pub minimize: bool,
    /// Where the statistics are written, about once a second and at the end (for a supervisor
    /// that must keep the counts of a process that died).
    pub stats_file: Option<PathBuf>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seed: 1,
            duration: Duration::from_secs(5),
            max_cases: None,
            max_steps: 5,
            slow_limit: Duration::from_secs(2),
            hang_limit: Duration::from_secs(60),
            findings_dir: None,
            current_file: None,
            minimize: true,
            stats_file: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// The target.
    pub target: String,
    /// Cases run.
    pub executions: u64,
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

    /// The statistics as JSON (inputs in hexadecimal).
    pub fn to_json(&self) -> serde_json::Value {
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "target": f.target,
                    "kind": f.kind.as_str(),
                    "message": f.message,
                    "input": hex(&f.input),
                    "choice_seed": f.choice_seed,
                    "elapsed_ms": f.elapsed.as_millis() as u64,
                })
            })
            .collect();
        serde_json::json!({
            "target": self.target,
            "executions": self.executions,
            "elapsed_ms": self.elapsed.as_millis() as u64,
            "slowest_ms": self.slowest.as_millis() as u64,
            "outcomes": self.outcomes,
            "findings": findings,
        })
    }

    /// Reads statistics written by [`Stats::to_json`]; `target` names the findings.
    pub fn from_json(value: &serde_json::Value, target: &'static str) -> Stats {
        let ms = |key: &str| Duration::from_millis(value[key].as_u64().unwrap_or(0));
        let outcomes = value["outcomes"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        let findings = value["findings"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|f| Finding {
                        target,
                        kind: FindingKind::parse(f["kind"].as_str().unwrap_or_default()),
                        message: f["message"].as_str().unwrap_or_default().to_owned(),
                        input: unhex(f["input"].as_str().unwrap_or_default()),
                        choice_seed: f["choice_seed"].as_u64().unwrap_or(0),
                        elapsed: Duration::from_millis(f["elapsed_ms"].as_u64().unwrap_or(0)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Stats {
            target: target.to_owned(),
            executions: value["executions"].as_u64().unwrap_or(0),
            elapsed: ms("elapsed_ms"),
            slowest: ms("slowest_ms"),
            outcomes,
            findings,
        }
    }

    /// Adds another run's numbers and findings (one per signature, the smaller input kept).
    pub fn merge(&mut self, other: Stats) {
        self.executions += other.executions;
        self.elapsed += other.elapsed;
        self.slowest = self.slowest.max(other.slowest);
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        for f in other.findings {
            self.add_finding(f);
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

/// Stops the process when one case runs longer than the hang limit, after writing the input
/// that hung: a hang cannot be caught any other way.
#[derive(Debug)]
pub struct Watchdog {
    state: Arc<WatchState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug)]
struct WatchState {
    start: Instant,
    /// Milliseconds since `start` when the running case began, plus one; 0 when idle.
    case_began: AtomicU64,
    stop: AtomicBool,
    input: Mutex<(Vec<u8>, u64)>,
    target: &'static str,
    limit: Duration,
    findings_dir: Option<PathBuf>,
}

/// The exit code of a process stopped by the watchdog.
pub const HANG_EXIT_CODE: i32 = 86;

impl Watchdog {
    /// Starts watching.
    pub fn start(target: &'static str, limit: Duration, findings_dir: Option<PathBuf>) -> Self {
        let state = Arc::new(WatchState {
            start: Instant::now(),
            case_began: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            input: Mutex::new((Vec::new(), 0)),
            target,
            limit,
            findings_dir,
        });
        let watched = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("fuzz-watchdog".into())
            .spawn(move || watch(&watched))
            .ok();
        Watchdog { state, thread }
    }

    /// A case begins.
    pub fn begin(&self, input: &[u8], choice_seed: u64) {
        if let Ok(mut slot) = self.state.input.lock() {
            slot.0.clear();
            slot.0.extend_from_slice(input);
            slot.1 = choice_seed;
        }
        let now = self.state.start.elapsed().as_millis() as u64 + 1;
        self.state.case_began.store(now, Ordering::SeqCst);
    }

    /// The case ended.
    pub fn end(&self) {
        self.state.case_began.store(0, Ordering::SeqCst);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn watch(state: &WatchState) {
    while !state.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        let began = state.case_began.load(Ordering::SeqCst);
        if began == 0 {
            continue;
        }
        let now = state.start.elapsed().as_millis() as u64 + 1;
        if now.saturating_sub(began) < state.limit.as_millis() as u64 {
            continue;
        }
        let (input, choice_seed) = state.input.lock().map(|s| s.clone()).unwrap_or_default();
        let finding = Finding {
            target: state.target,
            kind: FindingKind::Crash,
            message: format!("hang: one case ran longer than {:?}", state.limit),
            input,
            choice_seed,
            elapsed: state.limit,
        };
        let saved = state
            .findings_dir
            .as_deref()
            .and_then(|d| finding.save(d).ok());
        let _ = writeln!(
            std::io::stderr(),
            "harden-fuzz: {}: case hung for more than {:?}; input saved to {}",
            state.target,
            state.limit,
            saved.map_or_else(|| "(nowhere)".to_owned(), |p| p.display().to_string())
        );
        std::process::exit(HANG_EXIT_CODE);
    }
}

/// Makes the input of case `index`: a seed chosen and mutated by the case's own generator.
pub fn make_input(
    seeds: &[Vec<u8>],
    flavor: Flavor,
    seed: u64,
    index: u64,
    max_steps: usize,
) -> Vec<u8> {
    let mut rng = Rng::for_case(seed, index);
    let mut input = rng.pick(seeds).cloned().unwrap_or_default();
    // One case in sixteen runs a seed unchanged.
    if !rng.one_in(16) {
        mutate(&mut rng, &mut input, seeds, flavor, max_steps);
    }
    input
}

/// The choice seed of case `index`.
pub fn choice_seed(seed: u64, index: u64) -> u64 {
    Rng::for_case(seed ^ 0x5eed_c401_ce5e_ed00, index).next_u64()
}

/// Runs `target` as `config` says.
pub fn run(target: &mut dyn Target, config: &RunConfig) -> Stats {
    let mut stats = Stats {
        target: target.name().to_owned(),
        ..Stats::default()
    };
    let watchdog = Watchdog::start(
        target.name(),
        config.hang_limit,
        config.findings_dir.clone(),
    );
    let mut current = config.current_file.as_ref().and_then(|p| {
        fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(p)
            .ok()
    });
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let seeds = target.seeds().to_vec();
    let flavor = target.flavor();
    let start = Instant::now();
    let mut last_write = start;
    let mut index: u64 = 0;
    while start.elapsed() < config.duration && config.max_cases.is_none_or(|m| index < m) {
        let input = make_input(&seeds, flavor, config.seed, index, config.max_steps);
        let choices = choice_seed(config.seed, index);
        if let Some(file) = current.as_mut() {
            let _ = write_current(file, &input, choices);
        }
        watchdog.begin(&input, choices);
        let began = Instant::now();
        let result = guarded(target, &input, choices);
        let elapsed = began.elapsed();
        watchdog.end();
        stats.executions += 1;
        stats.slowest = stats.slowest.max(elapsed);
        let problem = match result {
            Ok(Ok(tag)) => {
                *stats.outcomes.entry(tag.to_owned()).or_default() += 1;
                None
            }
            Ok(Err(problem)) => {
                let tag = match problem.kind {
                    FindingKind::GuardRefused => "guard-refused",
                    _ => "property-violated",
                };
                *stats.outcomes.entry(tag.to_owned()).or_default() += 1;
                Some((problem.kind, problem.message))
            }
            Err(panic) => {
                *stats.outcomes.entry("panic".to_owned()).or_default() += 1;
                Some((FindingKind::Panic, panic))
            }
        };
        let slow_limit = config.slow_limit * target.slow_factor();
        let problem = problem.or_else(|| {
            (elapsed > slow_limit).then(|| {
                (
                    FindingKind::Slow,
                    format!("one case took {elapsed:?} (limit {slow_limit:?})"),
                )
            })
        });
        if let Some((kind, message)) = problem {
            record(
                target, config, &mut stats, &mut seen, kind, message, input, choices, elapsed,
            );
        }
        index += 1;
        if let Some(path) = &config.stats_file {
            if last_write.elapsed() >= Duration::from_secs(1) {
                last_write = Instant::now();
                stats.elapsed = start.elapsed();
                let _ = fs::write(path, stats.to_json().to_string());
            }
        }
    }
    stats.elapsed = start.elapsed();
    if let Some(path) = &config.stats_file {
        let _ = fs::write(path, stats.to_json().to_string());
    }
    stats
}

fn write_current(file: &mut fs::File, input: &[u8], choices: u64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&choices.to_le_bytes())?;
    file.write_all(input)?;
    file.set_len(8 + input.len() as u64)
}

/// Reads a file written for the supervisor: the choice seed and the input.
pub fn read_current(path: &Path) -> Option<(Vec<u8>, u64)> {
    let bytes = fs::read(path).ok()?;
    let seed = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    Some((bytes[8..].to_vec(), seed))
}

#[allow(clippy::too_many_arguments)]
fn record(
    target: &mut dyn Target,
    config: &RunConfig,
    stats: &mut Stats,
    seen: &mut BTreeMap<String, usize>,
    kind: FindingKind,
    message: String,
    input: Vec<u8>,
    choice_seed: u64,
    elapsed: Duration,
) {
    let mut finding = Finding {
        target: target.name(),
        kind,
        message,
        input,
        choice_seed,
        elapsed,
    };
    let signature = finding.signature();
    if let Some(&i) = seen.get(&signature) {
        // Keep the smallest input per bug.
        if stats.findings[i].input.len() <= finding.input.len() {
            return;
        }
        stats.findings[i] = finding;
        return;
    }
    if config.minimize && kind != FindingKind::Slow {
        let want = signature.clone();
        let minimized = minimize(&finding.input, 400, |candidate| {
            let again = match guarded(target, candidate, choice_seed) {
                Ok(Ok(_)) => None,
                Ok(Err(p)) => Some((p.kind, p.message)),
                Err(p) => Some((FindingKind::Panic, p)),
            };
            again.is_some_and(|(k, m)| {
                let probe = Finding {
                    kind: k,
                    message: m,
                    ..Finding::default_for(finding.target)
                };
                probe.signature() == want
            })
        });
        finding.input = minimized;
    }
    if let Some(dir) = &config.findings_dir {
        let _ = finding.save(dir);
    }
    seen.insert(signature, stats.findings.len());
    stats.findings.push(finding);
}

impl Finding {
    fn default_for(target: &'static str) -> Finding {
        Finding {
            target,
            kind: FindingKind::Panic,
            message: String::new(),
            input: Vec::new(),
            choice_seed: 0,
            elapsed: Duration::ZERO,
        }
    }
}

/// Shrinks `input` while `still_fails` holds: first whole lines, then byte chunks of falling
/// size (a small delta-debugging pass), trying at most `budget` candidates.
pub fn minimize(
    input: &[u8],
    budget: usize,
    mut still_fails: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let mut best = input.to_vec();
    let mut tries = 0;
    // Lines, in chunks of falling size.
    let mut chunk = crate::mutate::line_spans(&best).len() / 2;
    while chunk >= 1 && tries < budget {
        let lines = crate::mutate::line_spans(&best);
        let mut i = 0;
        let mut progressed = false;
        while i < lines.len() && tries < budget {
            let end_line = (i + chunk).min(lines.len());
            let (s, e) = (lines[i].0, lines[end_line - 1].1);
            let mut candidate = best[..s].to_vec();
            candidate.extend_from_slice(&best[e..]);
            tries += 1;
            if still_fails(&candidate) {
                best = candidate;
                progressed = true;
                break;
            }
            i += chunk;
        }
        if !progressed {
            chunk /= 2;
        }
    }
    // Bytes.
    let mut chunk = (best.len() / 4).max(1);
    while chunk >= 1 && tries < budget {
        let mut at = 0;
        let mut progressed = false;
        while at < best.len() && tries < budget {
            let end = (at + chunk).min(best.len());
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[end..]);
            tries += 1;
            if still_fails(&candidate) {
                best = candidate;
                progressed = true;
            } else {
                at += chunk;
            }
        }
        if !progressed {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    best
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
    fn finds_minimizes_and_deduplicates() {
        let mut toy = Toy {
            seeds: vec![b"a: [b]\nc: d\ne: [f]\n".to_vec()],
        };
        let config = RunConfig {
            max_cases: Some(3000),
            duration: Duration::from_secs(60),
            ..RunConfig::default()
        };
        let stats = run(&mut toy, &config);
        assert_eq!(stats.executions, 3000);
        let panics: Vec<_> = stats
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Panic)
            .collect();
        assert_eq!(panics.len(), 1, "{:?}", stats.findings);
        assert_eq!(panics[0].input, b"]]");
        assert!(
            panics[0].message.contains("double bracket"),
            "{}",
            panics[0].message
        );
        assert!(
            panics[0].message.contains("engine.rs"),
            "{}",
            panics[0].message
        );
        let props: Vec<_> = stats
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Property)
            .collect();
        assert_eq!(props.len(), 1);
        assert_eq!(props[0].input, b"@");
    }

    #[test]
    fn minimize_respects_the_budget() {
        let input = vec![b'x'; 1000];
        let mut calls = 0;
        let out = minimize(&input, 10, |_| {
            calls += 1;
            false
        });
        assert_eq!(out, input);
        assert!(calls <= 10);
    }

    #[test]
    fn stats_round_trip_through_json() {
        let mut stats = Stats {
            target: "toy".to_owned(),
            executions: 5,
            ..Stats::default()
        };
        stats.outcomes.insert("ok".to_owned(), 5);
        stats.add_finding(Finding {
            input: vec![0, 255, 10],
            message: "m".to_owned(),
            ..Finding::default_for("toy")
        });
        let back = Stats::from_json(&stats.to_json(), "toy");
        assert_eq!(back.executions, 5);
        assert_eq!(back.findings, stats.findings);
        let mut merged = back.clone();
        merged.merge(back);
        assert_eq!(merged.executions, 10);
        assert_eq!(merged.findings.len(), 1);
    }

    #[test]
    fn current_file_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("current");
        let mut file = fs::File::create(&path).expect("create");
        write_current(&mut file, b"long input here", 7).expect("write");
        write_current(&mut file, b"short", 9).expect("write");
        assert_eq!(read_current(&path), Some((b"short".to_vec(), 9)));
    }
}
