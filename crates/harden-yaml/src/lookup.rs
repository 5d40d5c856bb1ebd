//! [`Lookup`]: reading a tree through aliases (`*name`) and merge keys (`<<`), one rule for
//! every reader.
//!
//! The rule (see `docs/design.md`, "Aliases and merge keys"):
//! - an alias stands for the node of the last anchor of that name *before* it (YAML 1.2,
//!   section 3.2.2.2: an alias refers to the most recent preceding node with that anchor; a
//!   later anchor of the same name does not count);
//! - a `<<` key merges mappings the way YAML 1.1 loaders do (<https://yaml.org/type/merge.html>):
//!   the mapping's own keys win, then the merged mappings in the order they are listed
//!   (`<<: [*a, *b]`: a key of `a` wins over the same key of `b`), recursively.
//!
//! Dependabot reads `dependabot.yml` with such a YAML 1.1 loader, so merge keys work there.
//! GitHub Actions supports anchors and aliases in workflows since 2025 but rejects the merge
//! key; harden reads through it the same way (a reader never sees less than a loader would)
//! and the transforms that write refuse to change what a merge key builds.

use std::collections::HashMap;

use crate::tree::{Node, NodeKind};

/// Aliases followed at most in a chain, and merge keys followed at most in depth: beyond
/// this a node is read as written (alias loops cannot be built in YAML, but a guard is cheap).
const MAX_DEPTH: usize = 32;

/// The anchors of one YAML document, to read its tree through aliases and merge keys.
#[derive(Debug, Clone, Default)]
pub struct Lookup<'d> {
    anchors: HashMap<&'d str, Vec<(usize, &'d Node)>>,
}

impl<'d> Lookup<'d> {
    /// The anchors under `root` (a document's root node).
    pub fn new(root: &'d Node) -> Self {
        let mut anchors: HashMap<&'d str, Vec<(usize, &'d Node)>> = HashMap::new();
        let mut todo = vec![root];
        while let Some(node) = todo.pop() {
            if let Some(a) = &node.anchor {
                anchors
                    .entry(a.as_str())
                    .or_default()
                    .push((node.span.start, node));
            }
            match &node.kind {
                NodeKind::Mapping(m) => todo.extend(m.entries.iter().map(|e| &e.value)),
                NodeKind::Sequence(s) => todo.extend(s.items.iter()),
                _ => {}
            }
        }
        Lookup { anchors }
    }

    /// The anchors of the first document of `doc` (none when it is empty).
    pub fn of(doc: &'d crate::Document) -> Self {
        doc.root().map(Lookup::new).unwrap_or_default()
    }

    /// The node itself, or the anchored node an alias stands for (the last anchor of that
    /// name before the alias); an alias without such an anchor is returned as it is.
    pub fn resolve(&self, mut node: &'d Node) -> &'d Node {
        for _ in 0..MAX_DEPTH {
            let NodeKind::Alias(name) = &node.kind else {
                return node;
            };
            let target = self.anchors.get(name.as_str()).and_then(|defs| {
                defs.iter()
                    .filter(|(start, _)| *start < node.span.start)
                    .max_by_key(|(start, _)| *start)
                    .map(|(_, n)| *n)
            });
            match target {
                Some(t) => node = t,
                None => return node,
            }
        }
        node
    }

    /// The value of `key` in the mapping `node` (aliases resolved): its own entry, else the
    /// first merged mapping that has it.
    pub fn get(&self, node: &'d Node, key: &str) -> Option<&'d Node> {
        self.get_depth(node, key, 0)
    }

    fn get_depth(&self, node: &'d Node, key: &str, depth: usize) -> Option<&'d Node> {
        let map = self.resolve(node).as_mapping()?;
        if let Some(e) = map.get(key) {
            return Some(self.resolve(&e.value));
        }
        if depth > MAX_DEPTH {
            return None;
        }
        self.merged(node)
            .into_iter()
            .find_map(|s| self.get_depth(s, key, depth + 1))
    }

    /// The mappings a `<<` key of the mapping `node` merges in, in order of precedence.
    pub fn merged(&self, node: &'d Node) -> Vec<&'d Node> {
        let Some(merge) = self
            .resolve(node)
            .as_mapping()
            .and_then(|m| m.get("<<"))
            .map(|e| self.resolve(&e.value))
        else {
            return Vec::new();
        };
        match &merge.kind {
            NodeKind::Sequence(s) => s.items.iter().map(|i| self.resolve(i)).collect(),
            _ => vec![merge],
        }
    }

    /// The scalar value of `key` in the mapping `node`.
    pub fn str(&self, node: &'d Node, key: &str) -> Option<&'d str> {
        self.get(node, key).and_then(|n| n.as_str())
    }

    /// The entries of a mapping with scalar keys, values resolved: its own in order, then the
    /// keys merged in that it does not have; `[]` for anything else.
    pub fn entries(&self, node: Option<&'d Node>) -> Vec<(&'d str, &'d Node)> {
        let mut out = Vec::new();
        if let Some(node) = node {
            self.entries_depth(node, 0, &mut out);
        }
        out
    }

    fn entries_depth(&self, node: &'d Node, depth: usize, out: &mut Vec<(&'d str, &'d Node)>) {
        let Some(m) = self.resolve(node).as_mapping() else {
            return;
        };
        for e in &m.entries {
            if let Some(k) = e.key_str().filter(|k| *k != "<<") {
                if !out.iter().any(|(have, _)| *have == k) {
                    out.push((k, self.resolve(&e.value)));
                }
            }
        }
        if depth < MAX_DEPTH {
            for source in self.merged(node) {
                self.entries_depth(source, depth + 1, out);
            }
        }
    }

    /// The items of a sequence, resolved; `[]` for anything else.
    pub fn items(&self, node: Option<&'d Node>) -> Vec<&'d Node> {
        let Some(s) = node.and_then(|n| self.resolve(n).as_sequence()) else {
            return Vec::new();
        };
        s.items.iter().map(|i| self.resolve(i)).collect()
    }
}

/// True when a merge key (`<<`) appears anywhere in `node` (as written, aliases not followed).
pub fn has_merge_key(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Mapping(m) => m
            .entries
            .iter()
            .any(|e| e.key_str() == Some("<<") || has_merge_key(&e.value)),
        NodeKind::Sequence(s) => s.items.iter().any(has_merge_key),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn doc(text: &str) -> Document {
        Document::parse(text).expect("parses")
    }

    #[test]
    fn alias_takes_the_last_anchor_before_it() {
        let d = doc("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
        let l = Lookup::of(&d);
        let root = d.root().expect("root");
        assert_eq!(l.str(root, "b"), Some("1"));
        assert_eq!(l.str(root, "d"), Some("2"));
    }

    #[test]
    fn merge_keys_own_keys_win_then_sources_in_order() {
        let d = doc("a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nc:\n  <<: [*a, *b]\n  own: 3\nd:\n  <<: *b\n  k: d\n");
        let l = Lookup::of(&d);
        let root = d.root().expect("root");
        let c = l.get(root, "c").expect("c");
        assert_eq!(l.str(c, "k"), Some("a"));
        assert_eq!(l.str(c, "only_b"), Some("2"));
        let keys: Vec<&str> = l.entries(Some(c)).iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["own", "k", "only_a", "only_b"]);
        let d_node = l.get(root, "d").expect("d");
        assert_eq!(l.str(d_node, "k"), Some("d"));
        assert!(has_merge_key(d_node));
        assert!(!has_merge_key(l.get(root, "a").expect("a")));
    }
}
