//! Bounds on what harden reads, so that a small hostile file cannot exhaust memory or time.
//!
//! Every limit is far above what real workflows use (docs/reliability.md gives the maxima of
//! the 2,430-file corpus that justify each one). Past a limit, `Document::parse` fails with a
//! located error and the guard refuses to load the text.

/// The most nodes one file may add through aliases: an alias counts as every node of the
/// anchored node it repeats, because YAML loaders (yaml-rust2 in the guard, GitHub's own)
/// copy it. Corpus maximum: 605 (see docs/reliability.md). Nine levels of nested aliases in
/// under 1 KB would add 10^9 nodes.
pub const MAX_ALIAS_NODES: u64 = 100_000;

/// The most aliases (`*name`) one file may hold. Corpus maximum: 11.
pub const MAX_ALIASES: u64 = 10_000;

/// The most nodes (scalars, mappings, sequences, aliases) one file may hold before alias
/// expansion. Corpus maximum: 9,838; a generated 50 MB workflow has about 4 million.
pub const MAX_NODES: u64 = 10_000_000;

/// What one file holds, as counted against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Nodes as written (an alias is one).
    pub nodes: u64,
    /// Aliases as written.
    pub aliases: u64,
    /// Nodes that expanding the aliases adds.
    pub alias_nodes: u64,
}
