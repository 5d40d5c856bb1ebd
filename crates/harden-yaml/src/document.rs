//! [`Document`]: the original text plus a tree of nodes with exact byte spans.

use crate::error::{Location, ParseError};
use crate::parse;
use crate::position::LineIndex;
use crate::tree::{Node, NodeKind, Path, Seg, Span};

/// The line ending a document uses; inserted lines use the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`
    Lf,
    /// `\r\n`
    CrLf,
}

impl LineEnding {
    /// The characters of this line ending.
    pub fn as_str(&self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// A comment in the text: from `#` to the end of its line (line break excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Bytes of the comment, `#` included.
    pub span: Span,
    /// True when only blanks stand before it on its line.
    pub own_line: bool,
}

/// A parsed YAML stream that keeps its text: the tree's spans point into [`Document::text`].
#[derive(Debug, Clone)]
pub struct Document {
    text: String,
    docs: Vec<Node>,
    scalar_tokens: Vec<Span>,
    index: LineIndex,
    line_ending: LineEnding,
    indent_unit: usize,
    sequence_offset: usize,
    comment_spacing: usize,
    counts: crate::limits::Counts,
    /// Anchored nodes and aliases per document, found once on first use.
    marks: std::sync::OnceLock<Vec<(Marks, Marks)>>,
    /// Every comment, found once on first use.
    comments: std::sync::OnceLock<Vec<Comment>>,
}

impl Document {
    /// Parses `text`; every byte is kept. Fails with a located error on invalid YAML and on
    /// duplicate keys.
    pub fn parse(text: impl Into<String>) -> Result<Self, ParseError> {
        let text = text.into();
        let index = LineIndex::new(&text);
        if let Some(cr) = memchr::memchr_iter(b'\r', text.as_bytes())
            .find(|&i| text.as_bytes().get(i + 1) != Some(&b'\n'))
        {
            return Err(ParseError::Syntax {
                location: index.location(&text, cr),
                message: "a line ends with a lone carriage return (old Mac line ending); \
                          convert the file to LF or CRLF line endings"
                    .to_owned(),
            });
        }
        if let Some((at, c)) = crate::linebreaks::first_break_outside_quotes(&text) {
            return Err(ParseError::Syntax {
                location: index.location(&text, at),
                message: format!(
                    "{} outside a quoted string: YAML 1.1 parsers (libyaml, the Go parser \
                     actionlint uses, YamlDotNet) read it as a line break and YAML 1.2 parsers \
                     do not, so tools disagree on what this file holds (a hidden step?); \
                     remove it, or write it as an escape in a double-quoted string",
                    crate::linebreaks::break_name(c)
                ),
            });
        }
        let built = parse::build(&text, &index)?;
        let line_ending = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => LineEnding::CrLf,
            _ => LineEnding::Lf,
        };
        let mut doc = Document {
            text,
            docs: built.docs,
            scalar_tokens: built.scalar_tokens,
            counts: built.counts,
            index,
            line_ending,
            indent_unit: 2,
            sequence_offset: 2,
            comment_spacing: 1,
            marks: std::sync::OnceLock::new(),
            comments: std::sync::OnceLock::new(),
        };
        doc.measure_style();
        Ok(doc)
    }

    /// How many nodes, aliases and alias-added nodes the file holds (see [`crate::limits`]).
    pub fn counts(&self) -> crate::limits::Counts {
        self.counts
    }

    /// The original text, unchanged.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The documents of the stream (most files hold one).
    pub fn documents(&self) -> &[Node] {
        &self.docs
    }

    /// The first document's root node.
    pub fn root(&self) -> Option<&Node> {
        self.docs.first()
    }

    /// The text's line ending (from its first line break; LF when it has none).
    pub fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    /// True when the text starts with a byte-order mark.
    pub fn has_bom(&self) -> bool {
        self.text.starts_with('\u{feff}')
    }

    /// True when the text ends with a line break.
    pub fn has_final_newline(&self) -> bool {
        self.text.ends_with('\n')
    }

    /// How many columns a nested block mapping is indented by (the most common step; 2 if none).
    pub fn indent_unit(&self) -> usize {
        self.indent_unit
    }

    /// How far a block sequence under a key is indented past the key (0 for `key:\n- item`).
    pub fn sequence_offset(&self) -> usize {
        self.sequence_offset
    }

    /// Spaces before `#` in the file's trailing comments: 2 when most use two or more, else 1.
    pub fn comment_spacing(&self) -> usize {
        self.comment_spacing
    }

    /// 1-based line and column (characters) of a byte offset.
    pub fn location(&self, byte: usize) -> Location {
        self.index.location(&self.text, byte)
    }

    /// Byte offset where the line holding `byte` starts.
    pub fn line_start_of(&self, byte: usize) -> usize {
        self.index.line_start(self.index.line_of(byte))
    }

    /// Byte offset just past the line break of the line holding `byte` (the text's length on
    /// a last line without one).
    pub fn line_end_after(&self, byte: usize) -> usize {
        match self.text[byte.min(self.text.len())..].find('\n') {
            Some(i) => byte + i + 1,
            None => self.text.len(),
        }
    }

    /// Byte offset of the end of the line holding `byte`, before its line break.
    pub fn line_content_end(&self, byte: usize) -> usize {
        let mut end = self.line_end_after(byte);
        if end > byte && self.text.as_bytes().get(end - 1) == Some(&b'\n') {
            end -= 1;
            if end > byte && self.text.as_bytes().get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
        }
        end
    }

    /// The node at `path`.
    pub fn get(&self, path: &Path) -> Option<&Node> {
        let mut node = self.docs.get(path.doc)?;
        for seg in &path.segs {
            node = node.child(seg)?;
        }
        Some(node)
    }

    /// The comment on the same line after `node`, if any (only blanks between them).
    pub fn comment_after(&self, node: &Node) -> Option<Comment> {
        let end = node.span.end;
        // An empty value (`- # note`, `key: # note`) is placed by the parser after the comment
        // on its line: that comment is the one after it.
        if node.span.start == end {
            if let Some(c) = self
                .comment_list()
                .iter()
                .find(|c| !c.own_line && c.span.start < end && end <= c.span.end)
            {
                return Some(Comment {
                    span: c.span,
                    own_line: false,
                });
            }
        }
        let line_end = self.line_content_end(end);
        let rest = &self.text[end..line_end];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if trimmed.starts_with('#') && (trimmed.len() < rest.len() || end == 0) {
            let start = line_end - trimmed.len();
            Some(Comment {
                span: Span::new(start, line_end),
                own_line: false,
            })
        } else {
            None
        }
    }

    /// Every comment in the text, in order.
    pub fn comments(&self) -> Vec<Comment> {
        self.comment_list().to_vec()
    }

    /// Every comment in the text, in order, without a copy: the text is scanned once, on the
    /// first call.
    pub fn comment_list(&self) -> &[Comment] {
        self.comments.get_or_init(|| self.scan_comments())
    }

    fn scan_comments(&self) -> Vec<Comment> {
        let bytes = self.text.as_bytes();
        let mut out = Vec::new();
        let mut tokens = self.scalar_tokens.iter().peekable();
        let mut i = 0;
        while i < bytes.len() {
            while let Some(t) = tokens.peek() {
                if t.end <= i {
                    tokens.next();
                } else {
                    break;
                }
            }
            if let Some(t) = tokens.peek() {
                if t.start <= i {
                    i = t.end;
                    continue;
                }
            }
            if bytes[i] == b'#'
                && (i == 0
                    || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r')
                    || (i == 3 && self.has_bom()))
            {
                let end = self.line_content_end(i);
                let line_start = self.line_start_of(i);
                let own_line = self.text[line_start..i]
                    .trim_start_matches('\u{feff}')
                    .bytes()
                    .all(|c| c == b' ' || c == b'\t');
                out.push(Comment {
                    span: Span::new(i, end),
                    own_line,
                });
                i = end;
                continue;
            }
            i += 1;
        }
        out
    }

    /// Nodes matching a path pattern such as `jobs.*.steps[*].uses`, in every document of the
    /// stream: `.` separates keys, `*` matches any key, `[*]` any index and `[3]` one.
    pub fn query(&self, pattern: &str) -> Vec<(Path, &Node)> {
        let segs = parse_pattern(pattern);
        let mut out = Vec::new();
        for (i, doc) in self.docs.iter().enumerate() {
            collect(doc, &mut Path::root(i), &segs, &mut out);
        }
        out
    }

    /// For a change at `path`, the paths of the same data seen through aliases (`*name`) of an
    /// anchored node on the way to it; yaml-rust2 loads an alias as a copy, so the copy changes too.
    pub fn alias_paths(&self, path: &Path) -> Vec<Path> {
        if self.counts.aliases == 0 {
            // No alias anywhere in the stream (the common case): nothing to walk.
            return Vec::new();
        }
        let marks = self.marks.get_or_init(|| {
            self.docs
                .iter()
                .enumerate()
                .map(|(i, root)| {
                    let (mut anchored, mut aliases) = (Vec::new(), Vec::new());
                    walk_anchors(root, &mut Path::root(i), &mut anchored, &mut aliases);
                    (anchored, aliases)
                })
                .collect()
        });
        let Some((anchored, aliases)) = marks.get(path.doc) else {
            return Vec::new();
        };
        if aliases.is_empty() {
            return Vec::new();
        }
        // Recursive aliases are refused by `parse` and the nodes aliases add are bounded by
        // `MAX_ALIAS_NODES`, so this ends; the set keeps it linear in the paths found.
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![path.clone()];
        while let Some(p) = todo.pop() {
            for depth in 0..=p.segs.len() {
                let prefix = Path {
                    doc: p.doc,
                    segs: p.segs[..depth].to_vec(),
                };
                let Some((name, _, def_at)) = anchored.iter().find(|(_, ap, _)| *ap == prefix)
                else {
                    continue;
                };
                for (alias, alias_path, at) in aliases {
                    // The alias refers to the last definition of its name before it.
                    let target = anchored
                        .iter()
                        .filter(|(n, _, d)| n == alias && d < at)
                        .max_by_key(|(_, _, d)| *d);
                    if alias == name && target.is_some_and(|(_, _, d)| d == def_at) {
                        let mut copy = alias_path.clone();
                        copy.segs.extend_from_slice(&p.segs[depth..]);
                        if out.len() as u64 <= crate::limits::MAX_ALIAS_NODES
                            && seen.insert(copy.clone())
                        {
                            out.push(copy.clone());
                            todo.push(copy);
                        }
                    }
                }
            }
        }
        out
    }

    fn measure_style(&mut self) {
        let mut steps = [0usize; 9];
        let mut seq_offsets = [0usize; 9];
        for doc in &self.docs {
            measure(doc, &mut steps, &mut seq_offsets);
        }
        if let Some((unit, n)) = steps.iter().enumerate().skip(1).max_by_key(|(_, n)| **n) {
            if *n > 0 {
                self.indent_unit = unit;
            }
        }
        self.sequence_offset = self.indent_unit;
        let (zero, unit) = (seq_offsets[0], seq_offsets[self.indent_unit]);
        if zero > unit {
            self.sequence_offset = 0;
        }
        let (mut one, mut two) = (0, 0);
        for c in self.comments() {
            if c.own_line {
                continue;
            }
            let spaces = self.text[..c.span.start].len()
                - self.text[..c.span.start]
                    .trim_end_matches([' ', '\t'])
                    .len();
            if spaces >= 2 {
                two += 1;
            } else {
                one += 1;
            }
        }
        self.comment_spacing = if two > one { 2 } else { 1 };
    }
}

fn measure(node: &Node, steps: &mut [usize; 9], seq_offsets: &mut [usize; 9]) {
    match &node.kind {
        NodeKind::Mapping(m) => {
            for e in &m.entries {
                match &e.value.kind {
                    NodeKind::Mapping(child) if !m.flow && !child.flow => {
                        if let Some(d) = child.indent.checked_sub(m.indent) {
                            if (1..9).contains(&d) {
                                steps[d] += 1;
                            }
                        }
                    }
                    NodeKind::Sequence(child) if !m.flow && !child.flow => {
                        if let Some(d) = child.indent.checked_sub(m.indent) {
                            if d < 9 {
                                seq_offsets[d] += 1;
                            }
                        }
                    }
                    _ => {}
                }
                measure(&e.value, steps, seq_offsets);
            }
        }
        NodeKind::Sequence(s) => s.items.iter().for_each(|i| measure(i, steps, seq_offsets)),
        _ => {}
    }
}

type Marks = Vec<(String, Path, usize)>;

fn walk_anchors(node: &Node, path: &mut Path, anchored: &mut Marks, aliases: &mut Marks) {
    // One path, extended and shortened on the way: a copy only for the few marked nodes.
    if let Some(a) = &node.anchor {
        anchored.push((a.clone(), path.clone(), node.span.start));
    }
    match &node.kind {
        NodeKind::Alias(name) => aliases.push((name.clone(), path.clone(), node.span.start)),
        NodeKind::Mapping(m) => {
            for e in &m.entries {
                if let Some(k) = e.key_str() {
                    path.segs.push(Seg::Key(k.to_owned()));
                    walk_anchors(&e.value, path, anchored, aliases);
                    path.segs.pop();
                }
            }
        }
        NodeKind::Sequence(s) => {
            for (i, item) in s.items.iter().enumerate() {
                path.segs.push(Seg::Index(i));
                walk_anchors(item, path, anchored, aliases);
                path.segs.pop();
            }
        }
        NodeKind::Scalar(_) => {}
    }
}

#[derive(Debug, PartialEq)]
enum PatternSeg {
    Key(String),
    AnyKey,
    Index(usize),
    AnyIndex,
}

fn parse_pattern(pattern: &str) -> Vec<PatternSeg> {
    let mut out = Vec::new();
    for part in pattern.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name == "*" {
            out.push(PatternSeg::AnyKey);
        } else if !name.is_empty() {
            out.push(PatternSeg::Key(name.to_owned()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let idx = idx.trim_end_matches(']');
            match idx.parse::<usize>() {
                Ok(n) => out.push(PatternSeg::Index(n)),
                Err(_) => out.push(PatternSeg::AnyIndex),
            }
        }
    }
    out
}

fn collect<'d>(
    node: &'d Node,
    path: &mut Path,
    segs: &[PatternSeg],
    out: &mut Vec<(Path, &'d Node)>,
) {
    // One path, extended and shortened on the way down: copied only for a match.
    let Some((first, rest)) = segs.split_first() else {
        out.push((path.clone(), node));
        return;
    };
    let mut down = |child: &'d Node, seg: Seg, out: &mut Vec<(Path, &'d Node)>| {
        path.segs.push(seg);
        collect(child, path, rest, out);
        path.segs.pop();
    };
    match (first, &node.kind) {
        (PatternSeg::Key(k), NodeKind::Mapping(m)) => {
            if let Some(e) = m.get(k) {
                down(&e.value, Seg::Key(k.clone()), out);
            }
        }
        (PatternSeg::AnyKey, NodeKind::Mapping(m)) => {
            for e in &m.entries {
                if let Some(k) = e.key_str() {
                    down(&e.value, Seg::Key(k.to_owned()), out);
                }
            }
        }
        (PatternSeg::Index(i), NodeKind::Sequence(s)) => {
            if let Some(item) = s.items.get(*i) {
                down(item, Seg::Index(*i), out);
            }
        }
        (PatternSeg::AnyIndex, NodeKind::Sequence(s)) => {
            for (i, item) in s.items.iter().enumerate() {
                down(item, Seg::Index(i), out);
            }
        }
        _ => {}
    }
}
