//! One input through one target, the way an engine calls it: AFL++ (`harden-fuzz-afl`), the
//! replay of a crash file, and the bounded stable run all judge a case here.

use std::fs;
use std::path::Path;

use crate::corpus::Corpus;
use crate::engine::{make_input, signature, FindingKind, Target};
use crate::known::known;
use crate::mutate::Flavor;
use crate::rng::Rng;

/// The choice seed of an input run alone (under AFL++ or replayed from a file): a hash of the
/// input, so that the file is the whole case.
pub fn choice_seed_of(input: &[u8]) -> u64 {
    crate::engine::fnv(input)
}

/// The small corpus a target needs to run inputs it is given: the built-in YAML seeds and the
/// recorded refs of `testdata/`.
pub fn small_corpus() -> Corpus {
    Corpus::load(&[], &harden_testserver::default_refs_dir())
}

/// Builds `name` on `corpus` (an error for a target that cannot run yet).
pub fn make_runnable(name: &str, corpus: &Corpus) -> Result<Box<dyn Target>, String> {
    crate::targets::make(name, corpus)?
        .ok_or_else(|| format!("{name}: not runnable yet (it needs a service with no harness)"))
}

/// Builds `name` on [`small_corpus`].
pub fn make_small(name: &str) -> Result<Box<dyn Target>, String> {
    make_runnable(name, &small_corpus())
}

/// Runs `input` through `target` with the choice seed `choice_seed`. `Ok` with the outcome tag
/// when every property holds, or when the semantic guard refused an edit (the file is left
/// untouched: reported by the stable run, not a failure), or when the failure is a known bug
/// (`known.rs`); `Err` with the kind and message of a new failure. A panic is not caught here.
pub fn check_with(
    target: &mut dyn Target,
    input: &[u8],
    choice_seed: u64,
) -> Result<&'static str, (FindingKind, String)> {
    match target.run_case(input, &mut Rng::new(choice_seed)) {
        Ok(tag) => Ok(tag),
        Err(problem) if !problem.kind.is_failure() => Ok("guard-refused"),
        Err(problem)
            if known(target.name(), &signature(problem.kind, &problem.message)).is_some() =>
        {
            Ok("known-bug")
        }
        Err(problem) => Err((problem.kind, problem.message)),
    }
}

/// [`check_with`] with the input's own choice seed ([`choice_seed_of`]); a failure as one
/// message that names the target and says how to replay it.
pub fn check_one(target: &mut dyn Target, input: &[u8]) -> Result<&'static str, String> {
    check_with(target, input, choice_seed_of(input)).map_err(|(kind, message)| {
        format!(
            "{}: {} failure: {message}\nreplay: cargo run -p harden-fuzz -- replay --target {} FILE",
            target.name(),
            kind.as_str(),
            target.name()
        )
    })
}

/// The AFL++ dictionary of a flavor: the YAML-aware mutator's fragments
/// ([`crate::mutate::YAML_TOKENS`], JSON's, pkt-line's) in AFL++'s `-x` file format, so that
/// AFL++ inserts and overwrites the same YAML-significant pieces.
pub fn dictionary(flavor: Flavor) -> String {
    let tokens: &[&str] = match flavor {
        Flavor::Yaml => crate::mutate::YAML_TOKENS,
        Flavor::Json => crate::mutate::JSON_TOKENS,
        Flavor::PktLine => crate::mutate::PKT_TOKENS,
    };
    let mut out =
        String::from("# harden-fuzz: the mutator's fragments (crates/harden-fuzz/src/mutate.rs)\n");
    for (i, token) in tokens.iter().enumerate() {
        let escaped: String = token
            .bytes()
            .map(|b| match b {
                b'"' => "\\\"".to_owned(),
                b'\\' => "\\\\".to_owned(),
                0x20..=0x7e => char::from(b).to_string(),
                _ => format!("\\x{b:02x}"),
            })
            .collect();
        out.push_str(&format!("t{i}=\"{escaped}\"\n"));
    }
    for c in crate::mutate::YAML_CHARS
        .iter()
        .filter(|_| flavor == Flavor::Yaml)
    {
        out.push_str(&format!("c{c}=\"\\x{c:02x}\"\n"));
    }
    out
}

/// AFL++'s starting inputs for `target`: up to `max_seeds` of its seeds no longer than
/// `max_len` (spread over the sizes), and `mutants` cases made from them by the YAML-aware
/// mutator (case *n* of `seed`, as in the stable run). Deduplicated; never empty.
pub fn afl_inputs(
    target: &dyn Target,
    max_seeds: usize,
    max_len: usize,
    mutants: u64,
    seed: u64,
) -> Vec<Vec<u8>> {
    let mut small: Vec<Vec<u8>> = target
        .seeds()
        .iter()
        .filter(|s| s.len() <= max_len)
        .cloned()
        .collect();
    small.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    small.dedup();
    if small.is_empty() {
        small = target.seeds().iter().take(1).cloned().collect();
    }
    let step = small.len().div_ceil(max_seeds.max(1)).max(1);
    let mut chosen: Vec<Vec<u8>> = small.iter().step_by(step).cloned().collect();
    for index in 0..mutants {
        let input = make_input(&small, target.flavor(), seed, index, 3);
        if input.len() <= max_len && !chosen.contains(&input) {
            chosen.push(input);
        }
    }
    chosen
}

/// Writes [`afl_inputs`] to `dir` as `seed-NNNNN` files.
pub fn write_afl_inputs(inputs: &[Vec<u8>], dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    for (i, input) in inputs.iter().enumerate() {
        fs::write(dir.join(format!("seed-{i:05}")), input)?;
    }
    Ok(())
}
