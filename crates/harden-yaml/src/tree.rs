//! The node tree of a [`Document`](crate::Document): every node knows its exact byte span.

use std::fmt;
use std::ops::Range;

/// A half-open byte range `[start, end)` in the document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span as a `Range`, for slicing.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// How a scalar is written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` block
    Literal,
    /// `>` block
    Folded,
}

/// A scalar node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The decoded value (escapes resolved, quotes removed, lines folded).
    pub value: String,
    /// How it is written.
    pub style: ScalarStyle,
    /// The bytes of the scalar itself: quotes included, anchor and tag excluded; for block
    /// scalars from the `|`/`>` indicator to the end of the last content line.
    pub token: Span,
    /// The tag, if any (`!!str`), as written.
    pub tag: Option<String>,
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key node.
    pub key: Node,
    /// The value node (an empty scalar for `key:` with nothing after it).
    pub value: Node,
    /// From the key's first byte to the value's last byte (a trailing comment and the line
    /// break are not included; [`Document::line_end_after`](crate::Document::line_end_after) finds them).
    pub span: Span,
}

impl Entry {
    /// The key as text, when it is a scalar.
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_scalar().map(|s| s.value.as_str())
    }
}

/// A mapping node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// `{ ... }` rather than indented lines.
    pub flow: bool,
    /// Byte column of the keys of a block mapping.
    pub indent: usize,
    /// The entries in source order.
    pub entries: Vec<Entry>,
    /// Positions of the first entry of each scalar key, for mappings of many keys.
    pub(crate) index: KeyIndex,
}

/// Where each scalar key of a large mapping is, so that lookups stay constant-time in a
/// workflow of 100,000 jobs (each pin looks its job up by key). Not part of equality: it is
/// derived from the entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex(Option<std::collections::HashMap<String, usize>>);

impl KeyIndex {
    /// Mappings with fewer entries are searched in order.
    pub(crate) const MIN_ENTRIES: usize = 16;

    pub(crate) fn new(keys: std::collections::HashMap<String, usize>, entries: usize) -> Self {
        KeyIndex((entries >= Self::MIN_ENTRIES).then_some(keys))
    }
}

impl PartialEq for KeyIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for KeyIndex {}

impl Mapping {
    /// The entry with the given scalar key (the first one, for `<<`).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        if let Some(index) = &self.index.0 {
            let hit = index.get(key).and_then(|&i| self.entries.get(i));
            if let Some(entry) = hit.filter(|e| e.key_str() == Some(key)) {
                return Some(entry);
            }
        }
        self.entries.iter().find(|e| e.key_str() == Some(key))
    }
}

/// A sequence node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// `[ ... ]` rather than `- ` lines.
    pub flow: bool,
    /// Byte column of the `-` of a block sequence.
    pub indent: usize,
    /// The items in source order.
    pub items: Vec<Node>,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A scalar.
    Scalar(Scalar),
    /// A mapping.
    Mapping(Mapping),
    /// A sequence.
    Sequence(Sequence),
    /// `*name`: refers to the node with anchor `name`.
    Alias(String),
}

/// A node of the tree, with its exact place in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// From the first byte (anchor or tag included) to the last byte of the node.
    pub span: Span,
    /// 1-based line of the node's first byte.
    pub line: usize,
    /// 1-based column (characters) of the node's first byte.
    pub column: usize,
    /// `&name` on this node, without the `&`.
    pub anchor: Option<String>,
    /// What the node is.
    pub kind: NodeKind,
}

impl Node {
    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's decoded value, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.value.as_str())
    }

    /// The mapping, if this is one.
    pub fn as_mapping(&self) -> Option<&Mapping> {
        match &self.kind {
            NodeKind::Mapping(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, if this is one.
    pub fn as_sequence(&self) -> Option<&Sequence> {
        match &self.kind {
            NodeKind::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// The child at one path segment.
    pub fn child(&self, seg: &Seg) -> Option<&Node> {
        match (seg, &self.kind) {
            (Seg::Key(k), NodeKind::Mapping(m)) => m.get(k).map(|e| &e.value),
            (Seg::Index(i), NodeKind::Sequence(s)) => s.items.get(*i),
            _ => None,
        }
    }

    /// True for an empty plain scalar (`key:` with no value).
    pub fn is_empty_scalar(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s) if s.value.is_empty() && s.style == ScalarStyle::Plain)
    }
}

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Where a node is: the document's index in the stream and the keys and indices down to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Path {
    /// Index of the YAML document in a multi-document stream (0 for most files).
    pub doc: usize,
    /// Keys and indices from the document's root.
    pub segs: Vec<Seg>,
}

impl Path {
    /// The root of document `doc`.
    pub fn root(doc: usize) -> Self {
        Path {
            doc,
            segs: Vec::new(),
        }
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.segs.push(Seg::Key(key.to_owned()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.segs.push(Seg::Index(index));
        p
    }

    /// The path one step up, or `None` at a root.
    pub fn parent(&self) -> Option<Self> {
        let mut p = self.clone();
        p.segs.pop().map(|_| p)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.doc > 0 {
            write!(f, "(document {})", self.doc + 1)?;
        }
        if self.segs.is_empty() {
            return f.write_str(if self.doc > 0 { "" } else { "(root)" });
        }
        for (i, seg) in self.segs.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
