//! Fuzz targets for every layer of harden, each with its property checks (no panic, guarded
//! output or an untouched file, comments kept...), seeds from `testdata/` and the shared
//! real-world corpus, and a YAML-aware mutator. Two engines drive them, both on stable Rust:
//! AFL++ (coverage-guided, `harden-fuzz-afl` built with `cargo afl build --features afl`,
//! started by `crates/harden-fuzz/afl-run`) and the bounded deterministic run of [`engine`]
//! (`harden-fuzz run`, what CI runs). See `docs/fuzzing.md`.
//!
//! ```no_run
//! use harden_fuzz::{corpus::Corpus, engine, targets};
//! let corpus = Corpus::load_default();
//! let mut target = targets::make("yaml", &corpus).expect("known").expect("runnable");
//! let stats = engine::run(target.as_mut(), &engine::RunConfig::default());
//! assert!(stats.failures().is_empty());
//! ```

pub mod check;
pub mod corpus;
pub mod engine;
pub mod harness;
pub mod known;
pub mod mutate;
pub mod rng;
pub mod server;
pub mod targets;
