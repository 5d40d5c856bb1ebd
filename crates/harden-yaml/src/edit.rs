//! Edits: byte-range splices on the original text, collected and applied at once, each with
//! the semantic change it is meant to make (for the [guard](crate::guard)).

use crate::document::Document;
use crate::error::EditError;
use crate::render::{self, Layout, NewEntry, NewValue};
use crate::tree::{Node, NodeKind, Path, Span};

/// One splice: replace `span` of the original text with `text` (an insertion when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// The bytes replaced.
    pub span: Span,
    /// What replaces them.
    pub text: String,
}

/// Where a new entry goes in a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertAt {
    /// Before every other entry.
    First,
    /// After every other entry.
    Last,
    /// Just before the entry with this key (above the comment lines that introduce it).
    Before(String),
    /// Just after the entry with this key.
    After(String),
}

/// The data change an edit makes, which the [guard](crate::guard::verify) checks the output against.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The node at `path` now holds `value`.
    Set {
        /// Where.
        path: Path,
        /// The new value.
        value: NewValue,
    },
    /// The mapping at `mapping` gains `key`.
    Insert {
        /// The mapping.
        mapping: Path,
        /// Its position.
        at: InsertAt,
        /// The new key.
        key: String,
        /// Its value.
        value: NewValue,
    },
    /// The entry `key` of the mapping at `mapping` becomes `new_key: value`, in its place.
    Replace {
        /// The mapping.
        mapping: Path,
        /// The key replaced.
        key: String,
        /// The key written in its place (may be the same).
        new_key: String,
        /// Its value.
        value: NewValue,
    },
    /// The sequence at `sequence` gains an item at its end.
    Append {
        /// The sequence.
        sequence: Path,
        /// The new item.
        value: NewValue,
    },
}

/// A set of edits on one document, applied at once by [`EditSet::apply`].
#[derive(Debug)]
pub struct EditSet<'d> {
    doc: &'d Document,
    splices: Vec<Splice>,
    /// Sequence path -> index of the splice that appends to it, so further appends extend it.
    appends: Vec<(Path, usize)>,
    /// Mapping path -> index of the splice that inserts last into it, so further last
    /// insertions extend it (two splices may not insert at one point).
    lasts: Vec<(Path, usize)>,
    changes: Vec<Change>,
    comment_spacing: usize,
}

impl<'d> EditSet<'d> {
    /// An empty edit set on `doc`; comments are written with the document's own spacing.
    pub fn new(doc: &'d Document) -> Self {
        EditSet {
            doc,
            splices: Vec::new(),
            appends: Vec::new(),
            lasts: Vec::new(),
            changes: Vec::new(),
            comment_spacing: doc.comment_spacing(),
        }
    }

    /// Writes new comments with `spaces` blanks before the `#`.
    pub fn set_comment_spacing(&mut self, spaces: usize) {
        self.comment_spacing = spaces.max(1);
    }

    /// The document being edited.
    pub fn document(&self) -> &'d Document {
        self.doc
    }

    /// True when no edit was made.
    pub fn is_empty(&self) -> bool {
        self.splices.is_empty()
    }

    /// The splices so far.
    pub fn splices(&self) -> &[Splice] {
        &self.splices
    }

    /// The data changes so far.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    fn node(&self, path: &Path) -> Result<&'d Node, EditError> {
        self.doc
            .get(path)
            .ok_or_else(|| EditError::NoSuchPath(path.to_string()))
    }

    fn layout(&self) -> Layout {
        Layout {
            unit: self.doc.indent_unit(),
            sequence_offset: self.doc.sequence_offset(),
            comment_spacing: self.comment_spacing,
        }
    }

    /// Records a data change, and the same change wherever an alias shows the edited data again.
    fn record(&mut self, change: Change) {
        let target = match &change {
            Change::Set { path, .. } => path,
            Change::Insert { mapping, .. } | Change::Replace { mapping, .. } => mapping,
            Change::Append { sequence, .. } => sequence,
        };
        let copies = self.doc.alias_paths(target);
        for copy in copies {
            let mut c = change.clone();
            match &mut c {
                Change::Set { path, .. } => *path = copy,
                Change::Insert { mapping, .. } | Change::Replace { mapping, .. } => *mapping = copy,
                Change::Append { sequence, .. } => *sequence = copy,
            }
            self.changes.push(c);
        }
        self.changes.push(change);
    }

    /// Adds a raw splice with no data change (for callers that only touch comments or blanks).
    pub fn splice_text(&mut self, span: Span, text: impl Into<String>) {
        self.splices.push(Splice {
            span,
            text: text.into(),
        });
    }

    /// Replaces the scalar at `path` with the string `value`, keeping its quote style unless
    /// the value needs quoting.
    pub fn replace_scalar(&mut self, path: &Path, value: &str) -> Result<(), EditError> {
        let node = self.node(path)?;
        let NodeKind::Scalar(scalar) = &node.kind else {
            return Err(EditError::WrongKind {
                path: path.to_string(),
                expected: "a scalar",
            });
        };
        let mut text = render::scalar_in_style(value, scalar.style)
            .ok_or_else(|| EditError::Unsupported(path.to_string()))?;
        if scalar.token.start == scalar.token.end {
            // An empty value (`key:`): the new value needs a blank after the indicator.
            text.insert(0, ' ');
        }
        self.splices.push(Splice {
            span: scalar.token,
            text,
        });
        self.record(Change::Set {
            path: path.clone(),
            value: NewValue::String(value.to_owned()),
        });
        Ok(())
    }

    /// Replaces pieces of the scalar at `path` where they stand (`parts`: byte ranges of the
    /// original text inside the scalar's token, each with its new text), so that the scalar
    /// then reads `value`; its style, indentation and every other byte stay as written. This
    /// is how a block scalar (a `run:` script), which [`EditSet::replace_scalar`] cannot
    /// write, is changed; the guard checks that the result reads `value`.
    pub fn replace_within_scalar(
        &mut self,
        path: &Path,
        parts: Vec<Splice>,
        value: &str,
    ) -> Result<(), EditError> {
        let node = self.node(path)?;
        let NodeKind::Scalar(scalar) = &node.kind else {
            return Err(EditError::WrongKind {
                path: path.to_string(),
                expected: "a scalar",
            });
        };
        let inside = |s: &Splice| {
            scalar.token.start <= s.span.start
                && s.span.start <= s.span.end
                && s.span.end <= scalar.token.end
        };
        if parts.is_empty() || !parts.iter().all(inside) {
            return Err(EditError::Unsupported(path.to_string()));
        }
        self.splices.extend(parts);
        self.record(Change::Set {
            path: path.clone(),
            value: NewValue::String(value.to_owned()),
        });
        Ok(())
    }

    /// Sets the comment after the value at `path` to `# comment`: replaces an existing comment
    /// on that line, or adds one.
    pub fn set_comment(&mut self, path: &Path, comment: &str) -> Result<(), EditError> {
        let node = self.node(path)?;
        let not_allowed = || EditError::CommentNotAllowed {
            path: path.to_string(),
            location: self.doc.location(node.span.end),
        };
        let block_scalar = |n: &Node| matches!(&n.kind, NodeKind::Scalar(s) if matches!(s.style, crate::ScalarStyle::Literal | crate::ScalarStyle::Folded));
        let block_collection = match &node.kind {
            NodeKind::Mapping(m) => !m.flow,
            NodeKind::Sequence(s) => !s.flow,
            _ => false,
        };
        // After a block scalar the comment would be content; after a block collection it
        // would belong to its last value.
        if block_scalar(node) || block_collection {
            return Err(not_allowed());
        }
        let new = format!("# {}", render::one_line(comment));
        if let Some(existing) = self.doc.comment_after(node) {
            self.splices.push(Splice {
                span: existing.span,
                text: new,
            });
            return Ok(());
        }
        let end = node.span.end;
        let rest = &self.doc.text()[end..self.doc.line_content_end(end)];
        if !rest.trim().is_empty() {
            return Err(not_allowed());
        }
        self.splices.push(Splice {
            span: Span::new(end, end),
            text: format!("{}{new}", " ".repeat(self.comment_spacing)),
        });
        Ok(())
    }

    /// Inserts `entry` into the mapping at `mapping`.
    pub fn insert_entry(
        &mut self,
        mapping: &Path,
        at: InsertAt,
        entry: NewEntry,
    ) -> Result<(), EditError> {
        let node = self.node(mapping)?;
        let NodeKind::Mapping(map) = &node.kind else {
            return Err(EditError::WrongKind {
                path: mapping.to_string(),
                expected: "a mapping",
            });
        };
        let inserted_before = self.changes.iter().any(|c| {
            matches!(c, Change::Insert { mapping: m, key, .. } if m == mapping && *key == entry.key)
        });
        if map.get(&entry.key).is_some() || inserted_before {
            return Err(EditError::KeyExists {
                path: mapping.to_string(),
                key: entry.key,
            });
        }
        let position = |key: &str| {
            map.entries
                .iter()
                .position(|e| e.key_str() == Some(key))
                .ok_or_else(|| EditError::NoSuchKey {
                    path: mapping.to_string(),
                    key: key.to_owned(),
                })
        };
        // Normalise to "before entry i" or "after entry i".
        let (index, before) = match &at {
            InsertAt::First => (0, true),
            InsertAt::Last => (map.entries.len().saturating_sub(1), false),
            InsertAt::Before(k) => (position(k)?, true),
            InsertAt::After(k) => (position(k)?, false),
        };
        let splice = if map.flow {
            let item = format!(
                "{}: {}",
                render::scalar_text(&entry.key),
                render::flow_text(&entry.value)
            );
            match map.entries.get(index) {
                None => {
                    let open = self.doc.text()[node.span.range()]
                        .find('{')
                        .map_or(node.span.start, |i| node.span.start + i + 1);
                    Splice {
                        span: Span::new(open, open),
                        text: item,
                    }
                }
                Some(e) if before => Splice {
                    span: Span::new(e.key.span.start, e.key.span.start),
                    text: format!("{item}, "),
                },
                Some(e) => Splice {
                    span: Span::new(e.value.span.end, e.value.span.end),
                    text: format!(", {item}"),
                },
            }
        } else {
            let Some(target) = map.entries.get(index) else {
                return Err(EditError::Unsupported(mapping.to_string()));
            };
            let mut lines = Vec::new();
            render::entry_lines(&entry, map.indent, self.layout(), &mut lines);
            if before {
                self.before_entry_splice(target.key.span.start, index == 0, map.indent, &lines)
            } else {
                let mut end = target.value.span.end.max(target.key.span.end);
                if index + 1 == map.entries.len() {
                    // Comments indented deeper than the keys belong to the last value (an
                    // appended item of a nested sequence goes after them too).
                    end = self.end_of_trailing_comments(end, map.indent + 1);
                }
                self.after_splice(end, &lines)
            }
        };
        self.push_insert(mapping, &at, map.flow && map.entries.is_empty(), splice);
        self.record(Change::Insert {
            mapping: mapping.clone(),
            at,
            key: entry.key.clone(),
            value: entry.value,
        });
        Ok(())
    }

    /// Replaces the entry `key` of the mapping at `mapping`, whose value must be a scalar on
    /// one line, with `entry` in the same place (`directory: /` becoming a `directories:` list).
    /// A comment after the old value ends the new entry's first line (the key's, in a block
    /// mapping).
    pub fn replace_entry(
        &mut self,
        mapping: &Path,
        key: &str,
        entry: NewEntry,
    ) -> Result<(), EditError> {
        let node = self.node(mapping)?;
        let NodeKind::Mapping(map) = &node.kind else {
            return Err(EditError::WrongKind {
                path: mapping.to_string(),
                expected: "a mapping",
            });
        };
        let old = map.get(key).ok_or_else(|| EditError::NoSuchKey {
            path: mapping.to_string(),
            key: key.to_owned(),
        })?;
        if entry.key != key && map.get(&entry.key).is_some() {
            return Err(EditError::KeyExists {
                path: mapping.to_string(),
                key: entry.key,
            });
        }
        let one_line = |n: &Node| {
            n.as_scalar().is_some() && !self.doc.text()[n.span.range()].contains(['\n', '\r'])
        };
        if !one_line(&old.value) {
            return Err(EditError::WrongKind {
                path: mapping.key(key).to_string(),
                expected: "a scalar on one line",
            });
        }
        let comment = self.doc.comment_after(&old.value).filter(|c| !c.own_line);
        let text = if map.flow {
            format!(
                "{}: {}",
                render::scalar_text(&entry.key),
                render::flow_text(&entry.value)
            )
        } else {
            let mut lines = Vec::new();
            render::entry_lines(&entry, map.indent, self.layout(), &mut lines);
            let le = self.doc.line_ending().as_str();
            let mut out = String::new();
            for (n, line) in lines.iter().enumerate() {
                if n > 0 {
                    out.push_str(le);
                }
                out.push_str(if n == 0 { line.trim_start() } else { line });
                if n == 0 && lines.len() > 1 {
                    if let Some(c) = comment.as_ref() {
                        let text = self.doc.text();
                        out.push_str(&text[old.value.span.end..c.span.start]);
                        out.push_str(&text[c.span.range()]);
                    }
                }
            }
            out
        };
        let end = match comment {
            Some(c) if !map.flow && text.contains(['\n', '\r']) => c.span.end,
            _ => old.value.span.end,
        };
        self.splices.push(Splice {
            span: Span::new(old.key.span.start, end),
            text,
        });
        self.record(Change::Replace {
            mapping: mapping.clone(),
            key: key.to_owned(),
            new_key: entry.key,
            value: entry.value,
        });
        Ok(())
    }

    /// Replaces the entry `key` of the block mapping at `mapping`, whose value is a block
    /// mapping (`permissions:` with one scope a line), with `entry` in the same place. The
    /// lines before the key and a comment on the key's line stay; the old value's lines,
    /// with their comments, go.
    pub fn replace_block_entry(
        &mut self,
        mapping: &Path,
        key: &str,
        entry: NewEntry,
    ) -> Result<(), EditError> {
        let node = self.node(mapping)?;
        let wrong = |path: String| EditError::WrongKind {
            path,
            expected: "a block mapping holding a block mapping",
        };
        let NodeKind::Mapping(map) = &node.kind else {
            return Err(wrong(mapping.to_string()));
        };
        let old = map.get(key).ok_or_else(|| EditError::NoSuchKey {
            path: mapping.to_string(),
            key: key.to_owned(),
        })?;
        let block_value =
            matches!(&old.value.kind, NodeKind::Mapping(m) if !m.flow && !m.entries.is_empty());
        if map.flow || !block_value || entry.key != key {
            return Err(wrong(mapping.key(key).to_string()));
        }
        let text = self.doc.text();
        let key_line_end = self.doc.line_content_end(old.key.span.end);
        let key_comment = text[old.key.span.end..key_line_end]
            .find('#')
            .map(|i| &text[old.key.span.end + i..key_line_end]);
        let mut lines = Vec::new();
        render::entry_lines(&entry, map.indent, self.layout(), &mut lines);
        let le = self.doc.line_ending().as_str();
        let mut out = String::new();
        for (n, line) in lines.iter().enumerate() {
            if n > 0 {
                out.push_str(le);
            }
            out.push_str(if n == 0 { line.trim_start() } else { line });
            if let (0, Some(c)) = (n, key_comment) {
                out.push_str(&" ".repeat(self.comment_spacing));
                out.push_str(c);
            }
        }
        // The old value ends with its last line, a comment after it included.
        let end = self
            .doc
            .line_content_end(old.value.span.end.max(old.key.span.end));
        let end = if text[old.value.span.end..end].trim_start().starts_with('#') {
            end
        } else {
            old.value.span.end
        };
        self.splices.push(Splice {
            span: Span::new(old.key.span.start, end),
            text: out,
        });
        self.record(Change::Replace {
            mapping: mapping.clone(),
            key: key.to_owned(),
            new_key: entry.key,
            value: entry.value,
        });
        Ok(())
    }

    /// Adds the splice of an insertion into `mapping`; several entries inserted last go in the
    /// order they are made, in one splice (two may not insert at one point). `empty_flow`: the
    /// mapping is `{}`, whose entries need a separator between them.
    fn push_insert(&mut self, mapping: &Path, at: &InsertAt, empty_flow: bool, splice: Splice) {
        let last = *at == InsertAt::Last;
        let earlier = last
            .then(|| {
                self.lasts
                    .iter()
                    .find(|(p, _)| p == mapping)
                    .map(|(_, i)| *i)
            })
            .flatten();
        match earlier.and_then(|i| self.splices.get_mut(i)) {
            Some(previous) => {
                if empty_flow {
                    previous.text.push_str(", ");
                }
                previous.text.push_str(&splice.text);
            }
            None => {
                if last {
                    self.lasts.push((mapping.clone(), self.splices.len()));
                }
                self.splices.push(splice);
            }
        }
    }

    fn before_entry_splice(
        &self,
        key_start: usize,
        first: bool,
        indent: usize,
        lines: &[String],
    ) -> Splice {
        let text = self.doc.text();
        let le = self.doc.line_ending().as_str();
        let line_start = self.doc.line_start_of(key_start);
        let on_own_line = text[line_start..key_start]
            .trim_start_matches('\u{feff}')
            .bytes()
            .all(|b| b == b' ' || b == b'\t');
        if !on_own_line {
            // `- key: v`: write the new entry where the key is and move the key to a new line.
            let mut out = String::new();
            for (n, line) in lines.iter().enumerate() {
                out.push_str(if n == 0 { line.trim_start() } else { line });
                out.push_str(le);
            }
            out.push_str(&" ".repeat(indent));
            return Splice {
                span: Span::new(key_start, key_start),
                text: out,
            };
        }
        // Move above the comment lines that introduce the entry (same indentation).
        let mut at = line_start;
        while at > 0 {
            let prev = self.doc.line_start_of(at - 1);
            let content = text[prev..at].trim_end_matches(['\n', '\r']);
            let trimmed = content.trim_start_matches([' ', '\t', '\u{feff}']);
            if trimmed.starts_with('#') && content.len() - trimmed.len() == indent {
                at = prev;
            } else {
                break;
            }
        }
        let blank_above = at > 0 && {
            let prev = self.doc.line_start_of(at - 1);
            text[prev..at].trim().is_empty()
        };
        let mut out = String::new();
        for line in lines {
            out.push_str(line);
            out.push_str(le);
        }
        if blank_above && !first {
            out.push_str(le);
        }
        // A BOM stays first.
        if at == 0 && self.doc.has_bom() {
            at = '\u{feff}'.len_utf8();
        }
        Splice {
            span: Span::new(at, at),
            text: out,
        }
    }

    fn after_splice(&self, end: usize, lines: &[String]) -> Splice {
        let le = self.doc.line_ending().as_str();
        let at = self.doc.line_end_after(end);
        let text = self.doc.text();
        let mut out = String::new();
        let at_eof_without_newline = at == text.len() && !text.ends_with('\n');
        if at_eof_without_newline {
            out.push_str(le);
        }
        for (n, line) in lines.iter().enumerate() {
            if n > 0 {
                out.push_str(le);
            }
            out.push_str(line);
        }
        if !at_eof_without_newline {
            out.push_str(le);
        }
        Splice {
            span: Span::new(at, at),
            text: out,
        }
    }

    /// Appends `value` as the last item of the sequence at `sequence`. Several appends to one
    /// sequence go in the order they are made.
    pub fn append_item(&mut self, sequence: &Path, value: NewValue) -> Result<(), EditError> {
        let node = self.node(sequence)?;
        let NodeKind::Sequence(seq) = &node.kind else {
            return Err(EditError::WrongKind {
                path: sequence.to_string(),
                expected: "a sequence",
            });
        };
        let splice = if seq.flow {
            let item = render::flow_text(&value);
            match seq.items.last() {
                Some(last) => Splice {
                    span: Span::new(last.span.end, last.span.end),
                    text: format!(", {item}"),
                },
                None => {
                    let open = self.doc.text()[node.span.range()]
                        .find('[')
                        .map_or(node.span.start, |i| node.span.start + i + 1);
                    Splice {
                        span: Span::new(open, open),
                        text: item,
                    }
                }
            }
        } else {
            let mut lines = Vec::new();
            render::item_lines(&value, seq.indent, self.layout(), &mut lines);
            let end = self.end_of_trailing_comments(node.span.end, seq.indent);
            let mut splice = self.after_splice(end, &lines);
            if self.items_spaced(seq) {
                // Follow the file: its items are separated by blank lines.
                splice.text.insert_str(0, self.doc.line_ending().as_str());
            }
            splice
        };
        let earlier = self
            .appends
            .iter()
            .find(|(p, _)| p == sequence)
            .map(|(_, i)| *i);
        match earlier.and_then(|i| self.splices.get_mut(i)) {
            Some(previous) => {
                if seq.flow && seq.items.is_empty() {
                    previous.text.push_str(", ");
                }
                previous.text.push_str(&splice.text);
            }
            None => {
                self.appends.push((sequence.clone(), self.splices.len()));
                self.splices.push(splice);
            }
        }
        self.record(Change::Append {
            sequence: sequence.clone(),
            value,
        });
        Ok(())
    }

    /// Past the own-line comments that directly follow a block collection's last item (no blank
    /// line between) and are indented at least at `dash_column` (a sequence's dashes, one past a
    /// mapping's keys): they belong to that item, and a new item goes after them, not between the
    /// item and its comment. Less indented comments (a file's closing remarks) stay after the
    /// new item.
    fn end_of_trailing_comments(&self, end: usize, dash_column: usize) -> usize {
        let text = self.doc.text();
        let mut last = end;
        let mut next = self.doc.line_end_after(end);
        while next < text.len() {
            let line_end = self.doc.line_content_end(next);
            let line = &text[next..line_end];
            let content = line.trim_start_matches([' ', '\t']);
            let indent = line.len() - content.len();
            if !content.starts_with('#') || indent < dash_column {
                break;
            }
            last = line_end;
            next = self.doc.line_end_after(line_end);
        }
        last
    }

    /// True when most neighbouring items of a block sequence are separated by a blank line.
    fn items_spaced(&self, seq: &crate::Sequence) -> bool {
        if seq.items.len() < 2 {
            return false;
        }
        let text = self.doc.text();
        let spaced = seq
            .items
            .windows(2)
            .filter(|pair| {
                let from = self.doc.line_end_after(pair[0].span.end);
                let to = self.doc.line_start_of(pair[1].span.start);
                from < to && text[from..to].lines().any(|l| l.trim().is_empty())
            })
            .count();
        spaced * 2 > seq.items.len() - 1
    }

    /// Applies every splice to the original text. Overlapping splices are an error.
    pub fn apply(&self) -> Result<String, EditError> {
        apply_splices(self.doc.text(), &self.splices)
    }
}

/// Applies non-overlapping splices to `text`. Two insertions at one point, or an insertion
/// strictly inside a replaced range, count as overlapping.
pub fn apply_splices(text: &str, splices: &[Splice]) -> Result<String, EditError> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.span.start, s.span.end));
    for pair in sorted.windows(2) {
        let (a, b) = (&pair[0].span, &pair[1].span);
        let empty = |s: &Span| s.start == s.end;
        if b.start < a.end || (a.start == b.start && (empty(a) || empty(b))) {
            return Err(EditError::Overlap {
                first: a.range(),
                second: b.range(),
            });
        }
    }
    let mut out =
        String::with_capacity(text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>());
    let mut at = 0;
    for s in sorted {
        if s.span.start > text.len() || s.span.end > text.len() || s.span.start < at {
            return Err(EditError::Overlap {
                first: at..at,
                second: s.span.range(),
            });
        }
        out.push_str(&text[at..s.span.start]);
        out.push_str(&s.text);
        at = s.span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}
