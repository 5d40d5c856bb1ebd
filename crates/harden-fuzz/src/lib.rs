//! Coverage-free fuzzing of every layer of harden, under plain `cargo` (no nightly, no
//! cargo-fuzz): seeds from `testdata/` and the shared real-world corpus, a small deterministic
//! mutator, and per-target properties (no panic, no hang, guarded output or an untouched file).
//!
//! ```no_run
//! use harden_fuzz::{corpus::Corpus, engine, targets};
//! let corpus = Corpus::load_default();
//! let mut target = targets::make("yaml", &corpus).expect("known").expect("runnable");
//! let stats = engine::run(target.as_mut(), &engine::RunConfig::default());
//! assert!(stats.failures().is_empty());
//! ```
//!
//! The binary (`cargo run -p harden-fuzz --release -- --target all --seconds 60 --seed 1`)
//! runs each target in a child process, so that a stack overflow or a hang is recorded as a
//! finding instead of ending the run. See `docs/reliability.md`.

pub mod check;
pub mod corpus;
pub mod engine;
pub mod known;
pub mod mutate;
pub mod rng;
pub mod server;
pub mod targets;
