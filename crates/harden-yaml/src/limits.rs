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

/// What [`Tally`] found past a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    /// An alias inside the node its anchor names.
    RecursiveAlias,
    /// More than [`MAX_ALIAS_NODES`] nodes added through aliases.
    AliasNodes,
    /// More than [`MAX_ALIASES`] aliases.
    Aliases,
    /// More than [`MAX_NODES`] nodes.
    Nodes,
}

/// The running count of what a loader that copies aliases would build, event by event, without
/// building it: one count for the span parser (saphyr events) and the guard (yaml-rust2
/// events). Anchors are the parsers' anchor ids (0 for none).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// The counts so far.
    pub(crate) counts: Counts,
    /// Nodes after expansion so far.
    expanded: u64,
    /// Per open collection: its anchor id and `expanded` before it began.
    open: Vec<(usize, u64)>,
    /// Expanded size of each finished anchored node.
    sizes: std::collections::HashMap<usize, u64>,
}

impl Tally {
    /// A mapping or sequence starts.
    pub(crate) fn collection_start(&mut self, anchor: usize) -> Result<(), Over> {
        self.open.push((anchor, self.expanded));
        self.node(1)
    }

    /// The innermost open mapping or sequence ends.
    pub(crate) fn collection_end(&mut self) {
        if let Some((anchor, before)) = self.open.pop() {
            if anchor > 0 {
                self.sizes.insert(anchor, self.expanded - before);
            }
        }
    }

    /// A scalar.
    pub(crate) fn scalar(&mut self, anchor: usize) -> Result<(), Over> {
        if anchor > 0 {
            self.sizes.insert(anchor, 1);
        }
        self.node(1)
    }

    /// An alias of `anchor`: counts as every node of the node it repeats.
    pub(crate) fn alias(&mut self, anchor: usize) -> Result<(), Over> {
        if self.open.iter().any(|(open, _)| *open == anchor) {
            return Err(Over::RecursiveAlias);
        }
        let size = self.sizes.get(&anchor).copied().unwrap_or(1);
        self.counts.aliases += 1;
        self.counts.alias_nodes = self.counts.alias_nodes.saturating_add(size);
        self.node(size)
    }

    /// One node as written, `size` nodes once expanded; then the limits.
    fn node(&mut self, size: u64) -> Result<(), Over> {
        self.counts.nodes += 1;
        self.expanded = self.expanded.saturating_add(size);
        let c = &self.counts;
        if c.alias_nodes > MAX_ALIAS_NODES {
            Err(Over::AliasNodes)
        } else if c.aliases > MAX_ALIASES {
            Err(Over::Aliases)
        } else if c.nodes > MAX_NODES {
            Err(Over::Nodes)
        } else {
            Ok(())
        }
    }
}
