//! Bugs the fuzzer finds that live outside this crate and are reported, not yet fixed. Each has
//! an ignored regression test (`tests/regressions.rs`) that passes once the bug is fixed; then
//! its entry here must go.

/// One known bug: findings whose signature contains `pattern` are counted as this bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownBug {
    /// The target that finds it.
    pub target: &'static str,
    /// A piece of the finding's signature ([`crate::engine::Finding::signature`]).
    pub pattern: &'static str,
    /// The regression test that shows it.
    pub test: &'static str,
}

/// The known bugs.
pub const KNOWN_BUGS: &[KnownBug] = &[];

/// The known bug a finding of `target` with `signature` belongs to, if any.
pub fn known(target: &str, signature: &str) -> Option<&'static KnownBug> {
    KNOWN_BUGS
        .iter()
        .find(|b| b.target == target && signature.contains(b.pattern))
}
