//! Bounded analysis: eight reusable workflows (or composite actions) of ten callers each make
//! 10^7 paths, which the analysis followed one by one and never finished. Two bounds, kept
//! apart from the analysis itself:
//!
//! - a called workflow's requirement is computed once per caller context (the workflow and
//!   the names that stand for the token in it) and remembered for the run;
//! - a job analyses at most [`MAX_ANALYSES_PER_JOB`] called workflows and composite actions,
//!   nested ones included; past it the job is undetermined, with a message saying why (its
//!   block is left as it is).
//!
//! A child module of `analyze`, so that the hooks there stay one line each.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;

use super::{Analysis, TokenCtx, Unsure};

/// Called workflows and composite actions analysed per job at most, nested ones included.
/// Real workflows stay far below: the deepest chains of the 2,430 corpus workflows and the
/// recorded actions are a few levels of one or two callers.
pub(crate) const MAX_ANALYSES_PER_JOB: usize = 2_000;

/// The memo and the per-job count of one analyser.
#[derive(Debug, Default)]
pub(crate) struct Bounds {
    /// Requirements of called workflows by workflow and token context.
    memo: RefCell<HashMap<String, Analysis>>,
    /// Analyses spent in the job being read (the outermost `Analyzer::job`).
    spent: Cell<usize>,
    /// Nesting of `Analyzer::job` (a called workflow's jobs are read inside its caller's).
    open_jobs: Cell<usize>,
    /// Whether the job being read went past the cap.
    capped: Cell<bool>,
}

/// Marks the reading of one job; the outermost one starts a fresh count.
pub(crate) struct JobGuard<'a>(&'a Bounds);

impl Drop for JobGuard<'_> {
    fn drop(&mut self) {
        self.0
            .open_jobs
            .set(self.0.open_jobs.get().saturating_sub(1));
    }
}

impl Bounds {
    /// Starts reading a job: the count starts afresh for an outermost job.
    pub(crate) fn job(&self) -> JobGuard<'_> {
        if self.open_jobs.get() == 0 {
            self.spent.set(0);
            self.capped.set(false);
        }
        self.open_jobs.set(self.open_jobs.get() + 1);
        JobGuard(self)
    }

    /// Counts one analysis of a called workflow or composite action (`step` at `line` uses
    /// it). `None` while the job is within the cap; past it, what stands for the analysis: the
    /// first time an undetermined step saying why, then nothing (one message per job).
    pub(crate) fn spend(&self, step: &str, line: usize) -> Option<Analysis> {
        let spent = self.spent.get() + 1;
        self.spent.set(spent);
        if spent <= MAX_ANALYSES_PER_JOB {
            return None;
        }
        let mut out = Analysis::default();
        if !self.capped.replace(true) {
            out.unsure.push(Unsure {
                step: step.to_owned(),
                line,
                reason: format!(
                    "the job uses more than {MAX_ANALYSES_PER_JOB} nested reusable workflows and composite actions (counting each use); harden stopped reading them. Fix: give the job a `permissions:` block by hand (harden keeps it)"
                ),
            });
        }
        Some(out)
    }

    /// The key of a called workflow's requirement: its path and token context.
    pub(crate) fn key(path: &Path, ctx: &TokenCtx) -> String {
        format!(
            "{}\u{0}{:?}\u{0}{:?}",
            path.display(),
            ctx.secrets,
            ctx.inputs
        )
    }

    /// A requirement computed before, if any.
    pub(crate) fn recall(&self, key: &str) -> Option<Analysis> {
        self.memo.borrow().get(key).cloned()
    }

    /// Whether the job being read went past the cap (then what was computed is partial).
    pub(crate) fn capped(&self) -> bool {
        self.capped.get()
    }

    /// Remembers a requirement, unless the cap cut it short (a partial answer would pass for
    /// a whole one in the next job).
    pub(crate) fn remember(&self, key: String, analysis: &Analysis) {
        if !self.capped() {
            self.memo.borrow_mut().insert(key, analysis.clone());
        }
    }

    /// Forgets every requirement (the remote files read changed: a new prefetch round).
    pub(crate) fn forget(&self) {
        self.memo.borrow_mut().clear();
    }
}
