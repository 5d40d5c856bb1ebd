//! Builds the node tree from saphyr-parser events.
//!
//! saphyr's marks count characters and some of its spans are loose (a quoted scalar's span runs
//! over trailing blanks and comments, a block scalar's starts at its first content line, a block
//! collection's is empty), so every span is converted to bytes and then tightened from the text.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle as SaphyrStyle};

use crate::error::{Location, ParseError};
use crate::lenient::{pad_hanging_lines, FirstError, Padding};
use crate::limits::{Over, Tally, MAX_ALIASES, MAX_ALIAS_NODES, MAX_NODES};
use crate::position::LineIndex;
use crate::tree::{Entry, KeyIndex, Mapping, Node, NodeKind, Scalar, ScalarStyle, Sequence, Span};

/// What the builder produces.
pub(crate) struct Built {
    pub(crate) docs: Vec<Node>,
    pub(crate) scalar_tokens: Vec<Span>,
    pub(crate) counts: crate::limits::Counts,
}

/// The deepest nesting of collections harden reads. Real workflows nest a dozen levels; the
/// limit keeps the tree walks, and yaml-rust2's recursive loader in the guard, off the end of
/// the stack.
pub(crate) const MAX_DEPTH: usize = 200;

enum Frame {
    Map {
        start: usize,
        flow: bool,
        anchor: Option<String>,
        entries: Vec<Entry>,
        /// The position of each scalar key's first entry (duplicates are found through it).
        keys: HashMap<String, usize>,
        key: Option<Node>,
        /// Where the `{` ends (flow) or where the mapping's properties end (block).
        end_of_start: usize,
    },
    Seq {
        start: usize,
        flow: bool,
        anchor: Option<String>,
        items: Vec<Node>,
        /// Where the text between the previous token and the first `-` begins.
        search_from: usize,
    },
}

struct Builder<'t> {
    text: &'t str,
    bytes: &'t [u8],
    index: &'t LineIndex,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, String>,
    scalar_tokens: Vec<Span>,
    last_token_end: usize,
    /// Nodes and aliases, counted as a loader that copies aliases would build them.
    counts: Tally,
}

/// Builds the tree of `text`; a text refused only for hanging flow lines is read as libyaml
/// reads it (see [`crate::lenient`]).
pub(crate) fn build(text: &str, index: &LineIndex) -> Result<Built, ParseError> {
    let error = match build_from(text, index, None) {
        Err(e) if matches!(&e, ParseError::Syntax { message, .. } if message.starts_with("invalid indentation")) => {
            e
        }
        other => return other,
    };
    let Some((padded, padding)) = pad_hanging_lines(text, first_error) else {
        return Err(error);
    };
    let padded_index = LineIndex::new(&padded);
    match build_from(text, index, Some((&padded, &padded_index, &padding))) {
        Ok(built) if padding.positions().all(|at| inside_flow(&built.docs, at)) => Ok(built),
        _ => Err(error),
    }
}

/// The first error saphyr-parser finds in `text`, if any.
fn first_error(text: &str) -> Result<(), FirstError> {
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        if let Err(e) = next {
            return Err((e.marker().index(), e.info().to_owned()));
        }
    }
    Ok(())
}

/// Whether byte `at` lies strictly inside a flow collection or a quoted scalar of `docs`:
/// where blanks at the start of a line are not content.
fn inside_flow(docs: &[Node], at: usize) -> bool {
    fn visit(node: &Node, at: usize) -> bool {
        if node.span.start > at || node.span.end <= at {
            return false;
        }
        let (flow, children): (bool, Vec<&Node>) = match &node.kind {
            NodeKind::Mapping(m) => (
                m.flow,
                m.entries.iter().flat_map(|e| [&e.key, &e.value]).collect(),
            ),
            NodeKind::Sequence(s) => (s.flow, s.items.iter().collect()),
            NodeKind::Scalar(s) => (
                matches!(
                    s.style,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
                ) && s.token.start < at
                    && at < s.token.end,
                Vec::new(),
            ),
            NodeKind::Alias(_) => (false, Vec::new()),
        };
        (flow && node.span.start < at) || children.into_iter().any(|c| visit(c, at))
    }
    docs.iter().any(|d| visit(d, at))
}

/// Builds the tree of `text`. With `padded`, the parser reads the padded copy and its positions
/// are mapped back to `text`, which the builder reads for everything else.
fn build_from(
    text: &str,
    index: &LineIndex,
    padded: Option<(&str, &LineIndex, &Padding)>,
) -> Result<Built, ParseError> {
    let mut b = Builder {
        text,
        bytes: text.as_bytes(),
        index,
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: HashMap::new(),
        scalar_tokens: Vec::new(),
        last_token_end: 0,
        counts: Tally::default(),
    };
    let byte = |char_index: usize| match padded {
        None => index.byte(char_index),
        Some((_, padded_index, padding)) => padding.to_original(padded_index.byte(char_index)),
    };
    let mut parser = Parser::new_from_str(padded.map_or(text, |(p, _, _)| p));
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| ParseError::Syntax {
            location: index.location(text, byte(e.marker().index())),
            message: e.info().to_owned(),
        })?;
        let s = byte(span.start.index());
        let e = byte(span.end.index()).max(s);
        b.event(event, s, e)?;
    }
    Ok(Built {
        docs: b.docs,
        scalar_tokens: b.scalar_tokens,
        counts: b.counts.counts,
    })
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

impl Builder<'_> {
    fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    fn followed_by_blank(&self, i: usize) -> bool {
        i + 1 >= self.bytes.len() || is_blank(self.at(i + 1))
    }

    /// Skips blanks, line breaks, comments, a BOM and, with `indicators`, the `:`, `?` and `-`
    /// indicators that stand before a node.
    fn skip_trivia(&self, mut i: usize, indicators: bool) -> usize {
        let n = self.bytes.len();
        while i < n {
            let c = self.bytes[i];
            if is_blank(c) {
                i += 1;
            } else if c == b'#' {
                while i < n && self.bytes[i] != b'\n' {
                    i += 1;
                }
            } else if c == 0xEF && self.text[i..].starts_with('\u{feff}') {
                i += 3;
            } else if indicators && matches!(c, b':' | b'?' | b'-') && self.followed_by_blank(i) {
                i += 1;
            } else {
                break;
            }
        }
        i.min(n)
    }

    /// Reads `&anchor` and `!tag` properties at `i`; returns where the node's content starts.
    fn properties(&self, i: usize) -> (usize, Option<String>, Option<String>) {
        let (start, _, anchor, tag) = self.properties_with_end(i);
        (start, anchor, tag)
    }

    /// Like [`Self::properties`], also returning where the last property word ends (`i` when
    /// there is none): an empty value's place.
    fn properties_with_end(&self, mut i: usize) -> (usize, usize, Option<String>, Option<String>) {
        let mut anchor = None;
        let mut tag = None;
        let mut last_end = i;
        loop {
            let c = self.at(i);
            if c != b'&' && c != b'!' {
                return (i, last_end, anchor, tag);
            }
            let begin = i;
            if self.text[i..].starts_with("!<") {
                // A verbatim tag (`!<tag:yaml.org,2002:str>`) may hold flow indicators: it
                // ends at its `>`.
                i = self.text[i..]
                    .find('>')
                    .map_or(self.bytes.len(), |end| i + end + 1);
            }
            while i < self.bytes.len()
                && !is_blank(self.bytes[i])
                && !is_flow_indicator(self.bytes[i])
            {
                i += 1;
            }
            last_end = i;
            let word = self.text.get(begin..i).unwrap_or_default().to_owned();
            if c == b'&' {
                anchor = Some(word[1..].to_owned());
            } else {
                tag = Some(word);
            }
            i = self.skip_trivia(i, false);
        }
    }

    /// Column of `byte` in bytes from its line's start, not counting a byte-order mark.
    fn indent_of(&self, byte: usize) -> usize {
        let start = self.index.line_start(self.index.line_of(byte));
        let bom = if self.text[start..].starts_with('\u{feff}') {
            3
        } else {
            0
        };
        byte.saturating_sub(start + bom)
    }

    fn location(&self, byte: usize) -> Location {
        self.index.location(self.text, byte)
    }

    fn node(&self, start: usize, end: usize, anchor: Option<String>, kind: NodeKind) -> Node {
        let loc = self.location(start);
        Node {
            span: Span::new(start, end),
            line: loc.line,
            column: loc.column,
            anchor,
            kind,
        }
    }

    fn event(&mut self, event: Event<'_>, s: usize, e: usize) -> Result<(), ParseError> {
        if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            return Err(ParseError::Syntax {
                location: self.location(s),
                message: format!(
                    "collections nested deeper than {MAX_DEPTH} levels; harden does not edit such files"
                ),
            });
        }
        self.count(&event, s)?;
        match event {
            Event::DocumentStart(explicit) => {
                if explicit {
                    self.last_token_end = e;
                }
            }
            Event::MappingStart(anchor_id, _) => self.mapping_start(anchor_id, s, e),
            Event::SequenceStart(anchor_id, _) => self.sequence_start(anchor_id, s, e),
            Event::MappingEnd => self.mapping_end(e)?,
            Event::SequenceEnd => self.sequence_end(e)?,
            Event::Alias(id) => {
                let name = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| self.text.get(s + 1..e).unwrap_or_default().to_owned());
                self.last_token_end = e;
                let node = self.node(s, e, None, NodeKind::Alias(name));
                self.push(node)?;
            }
            Event::Scalar(value, style, anchor_id, _) => {
                let node = self.scalar(value.into_owned(), style, s, e);
                if let Some(anchor) = &node.anchor {
                    self.anchors.insert(anchor_id, anchor.clone());
                }
                self.push(node)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn mapping_start(&mut self, anchor_id: usize, s: usize, e: usize) {
        let flow = self.text[s..e].trim_end().ends_with('{');
        let (_, anchor, _) = self.properties(s);
        self.remember_anchor(anchor_id, &anchor);
        if flow {
            self.last_token_end = e;
        }
        self.stack.push(Frame::Map {
            start: s,
            flow,
            anchor,
            entries: Vec::new(),
            keys: HashMap::new(),
            key: None,
            end_of_start: e,
        });
    }

    fn sequence_start(&mut self, anchor_id: usize, s: usize, e: usize) {
        let flow = self.text[s..e].trim_end().ends_with('[');
        let (_, anchor, _) = self.properties(s);
        self.remember_anchor(anchor_id, &anchor);
        let search_from = self.last_token_end;
        if flow {
            self.last_token_end = e;
        }
        self.stack.push(Frame::Seq {
            start: s,
            flow,
            anchor,
            items: Vec::new(),
            search_from,
        });
    }

    /// The end of a mapping (its last token ends at `e`): the mapping node, with its span.
    fn mapping_end(&mut self, e: usize) -> Result<(), ParseError> {
        let Some(Frame::Map {
            start,
            flow,
            anchor,
            entries,
            keys,
            end_of_start,
            ..
        }) = self.stack.pop()
        else {
            return Ok(());
        };
        let end = if flow {
            let end = self.flow_end(b'}', e);
            self.last_token_end = end;
            end
        } else {
            entries.last().map_or(end_of_start, |en| en.value.span.end)
        };
        let indent = match entries.first() {
            Some(first) if !flow => self.indent_of(first.key.span.start),
            _ => 0,
        };
        let node = self.node(
            start,
            end,
            anchor,
            NodeKind::Mapping(Mapping {
                flow,
                indent,
                index: crate::tree::KeyIndex::new(keys, entries.len()),
                entries,
            }),
        );
        self.push(node)
    }

    /// The end of a sequence (its last token ends at `e`): the sequence node, its span
    /// starting at the first dash of a block sequence.
    fn sequence_end(&mut self, e: usize) -> Result<(), ParseError> {
        let Some(Frame::Seq {
            start,
            flow,
            anchor,
            items,
            search_from,
        }) = self.stack.pop()
        else {
            return Ok(());
        };
        let (start, end, indent) = if flow {
            let end = self.flow_end(b']', e);
            self.last_token_end = end;
            (start, end, 0)
        } else {
            let first = items.first().map_or(start, |n| n.span.start);
            let dash = self.find_dash(search_from, first);
            let indent = self.indent_of(dash);
            let begin = if anchor.is_some() {
                start.min(dash)
            } else {
                dash
            };
            (begin, items.last().map_or(first, |n| n.span.end), indent)
        };
        let node = self.node(
            start,
            end,
            anchor,
            NodeKind::Sequence(Sequence {
                flow,
                indent,
                items,
            }),
        );
        self.push(node)
    }

    /// Counts nodes, aliases and what the aliases expand to; refuses recursive aliases and
    /// files past the limits of [`crate::limits`].
    fn count(&mut self, event: &Event<'_>, s: usize) -> Result<(), ParseError> {
        let c = &mut self.counts;
        let counted = match event {
            Event::MappingStart(id, _) | Event::SequenceStart(id, _) => c.collection_start(*id),
            Event::MappingEnd | Event::SequenceEnd => {
                c.collection_end();
                Ok(())
            }
            Event::Scalar(_, _, id, _) => c.scalar(*id),
            Event::Alias(id) => c.alias(*id),
            _ => Ok(()),
        };
        let message = match counted {
            Ok(()) => return Ok(()),
            Err(Over::RecursiveAlias) => {
                let name = self.text.get(s..).unwrap_or_default();
                let name: String = name
                    .chars()
                    .take_while(|ch| !ch.is_whitespace() && !",]}".contains(*ch))
                    .take(60)
                    .collect();
                format!(
                    "alias `{name}` lies inside the node its anchor names (a recursive \
                     alias): YAML loaders loop on it or refuse it; remove the alias"
                )
            }
            Err(Over::AliasNodes) => format!(
                "the aliases up to here repeat more than {MAX_ALIAS_NODES} nodes (an alias \
                 bomb?): YAML loaders copy every alias; harden does not edit such files"
            ),
            Err(Over::Aliases) => {
                format!("more than {MAX_ALIASES} aliases; harden does not edit such files")
            }
            Err(Over::Nodes) => {
                format!("more than {MAX_NODES} YAML nodes; harden does not edit such files")
            }
        };
        Err(self.refuse(s, message))
    }

    fn refuse(&self, at: usize, message: String) -> ParseError {
        ParseError::Syntax {
            location: self.location(at),
            message,
        }
    }

    fn remember_anchor(&mut self, id: usize, anchor: &Option<String>) {
        if let Some(a) = anchor {
            self.anchors.insert(id, a.clone());
        }
    }

    /// Just past the `}` or `]` that closes a flow collection (saphyr's end mark stops at a
    /// trailing comma).
    fn flow_end(&self, close: u8, fallback: usize) -> usize {
        let mut i = self.last_token_end;
        loop {
            i = self.skip_trivia(i, false);
            match self.at(i) {
                b',' => i += 1,
                c if c == close => return i + 1,
                _ => return fallback,
            }
        }
    }

    /// The `-` of a block sequence's first item.
    fn find_dash(&self, search_from: usize, first_item: usize) -> usize {
        let mut i = self.skip_trivia(search_from, false);
        loop {
            let (after, anchor, tag) = self.properties(i);
            if anchor.is_none() && tag.is_none() {
                break;
            }
            i = after;
        }
        if i < first_item && self.at(i) == b'-' {
            return i;
        }
        // Fall back: the last `-` before the first item.
        let mut j = first_item.min(self.bytes.len());
        while j > 0 {
            j -= 1;
            if self.bytes[j] == b'-' && self.followed_by_blank(j) {
                return j;
            }
        }
        first_item
    }

    fn scalar(&mut self, mut value: String, style: SaphyrStyle, s: usize, e: usize) -> Node {
        let style = match style {
            SaphyrStyle::Plain => ScalarStyle::Plain,
            SaphyrStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            SaphyrStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            SaphyrStyle::Literal => ScalarStyle::Literal,
            SaphyrStyle::Folded => ScalarStyle::Folded,
        };
        let (start, token_start, token_end, anchor, tag) = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let begin = self.skip_trivia(self.last_token_end, true).min(s);
                let (mut indicator, anchor, tag) = self.properties(begin);
                if !matches!(self.at(indicator), b'|' | b'>') {
                    indicator = (begin..s)
                        .rev()
                        .find(|&i| matches!(self.at(i), b'|' | b'>'))
                        .unwrap_or(begin);
                }
                let end = self.block_scalar_end(indicator, s, e);
                // A block scalar that runs to the end of a text with no final line break has
                // no final line break either (libyaml, and YAML 1.2's b-chomped-last); saphyr
                // adds one.
                if end == self.bytes.len() && !self.text.ends_with('\n') && value.ends_with('\n') {
                    value.pop();
                }
                (begin, indicator, end, anchor, tag)
            }
            ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let (mut token_start, props_end, anchor, tag) = self.properties_with_end(s);
                if style == ScalarStyle::Plain && value.is_empty() && props_end > s {
                    // `key: !tag # comment`: the empty value sits right after its properties.
                    token_start = props_end;
                }
                let token_end = match style {
                    ScalarStyle::SingleQuoted => self.single_quoted_end(token_start),
                    ScalarStyle::DoubleQuoted => self.double_quoted_end(token_start),
                    _ if value.is_empty() => token_start,
                    _ => {
                        let mut end = e.max(token_start);
                        while end > token_start && is_blank(self.at(end - 1)) {
                            end -= 1;
                        }
                        end
                    }
                };
                (s, token_start, token_end, anchor, tag)
            }
        };
        self.last_token_end = token_end;
        let token = Span::new(token_start, token_end);
        if token_end > token_start {
            self.scalar_tokens.push(token);
        }
        self.node(
            start,
            token_end,
            anchor,
            NodeKind::Scalar(Scalar {
                value,
                style,
                token,
                tag,
            }),
        )
    }

    fn single_quoted_end(&self, open: usize) -> usize {
        let mut i = open + 1;
        while i < self.bytes.len() {
            if self.bytes[i] == b'\'' {
                if self.at(i + 1) == b'\'' {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += 1;
        }
        self.bytes.len()
    }

    fn double_quoted_end(&self, open: usize) -> usize {
        let mut i = open + 1;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        self.bytes.len()
    }

    /// End of a block scalar: the end of its last content line (before the line break); with
    /// keep chomping (`+`) the trailing blank lines count as content.
    fn block_scalar_end(&self, indicator: usize, content: usize, e: usize) -> usize {
        let header_end = {
            let mut i = indicator + 1;
            while matches!(self.at(i), b'-' | b'+' | b'0'..=b'9') {
                i += 1;
            }
            i
        };
        let keep = self.text[indicator..header_end].contains('+');
        // Back up to the last line break inside the region.
        let region_end = match self.text[content.min(e)..e].rfind('\n') {
            Some(nl) if self.text[content.min(e) + nl + 1..e].bytes().all(is_blank) => {
                content.min(e) + nl + 1
            }
            _ => e,
        };
        if region_end <= content {
            return header_end;
        }
        let mut p = region_end;
        loop {
            // The line that ends just before p.
            let line_end = if p > 0 && self.at(p - 1) == b'\n' {
                if p > 1 && self.at(p - 2) == b'\r' {
                    p - 2
                } else {
                    p - 1
                }
            } else {
                p
            };
            let line_start = self.text[..line_end].rfind('\n').map_or(0, |i| i + 1);
            if keep
                || self.text[line_start..line_end]
                    .bytes()
                    .any(|c| !is_blank(c))
            {
                return line_end.max(header_end);
            }
            if line_start <= content {
                return header_end;
            }
            p = line_start;
        }
    }

    fn push(&mut self, mut node: Node) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { key, .. }) if key.is_none() => *key = Some(node),
            Some(Frame::Map {
                key, entries, keys, ..
            }) => {
                let Some(k) = key.take() else {
                    return Ok(());
                };
                if node.is_empty_scalar() && node.span.start == node.span.end {
                    // `key:` with nothing after it: place the empty value right after the colon.
                    let after_key = k.span.end;
                    let colon = self.text[after_key..]
                        .find(':')
                        .map_or(after_key, |i| after_key + i + 1);
                    node.span = Span::new(colon, colon);
                    if let NodeKind::Scalar(s) = &mut node.kind {
                        s.token = node.span;
                    }
                }
                if let Some(name) = k.as_str() {
                    if let Some(first) = first_with_key(entries, keys, name) {
                        if name != "<<" {
                            return Err(ParseError::DuplicateKey {
                                key: name.to_owned(),
                                first_line: first.key.line,
                                second: Location {
                                    line: k.line,
                                    column: k.column,
                                },
                            });
                        }
                    }
                }
                if entries.len() >= KeyIndex::MIN_ENTRIES {
                    if let Some(name) = k.as_str() {
                        keys.entry(name.to_owned()).or_insert(entries.len());
                    }
                }
                let span = Span::new(k.span.start, node.span.end.max(k.span.end));
                entries.push(Entry {
                    key: k,
                    value: node,
                    span,
                });
                if entries.len() == KeyIndex::MIN_ENTRIES {
                    // Large enough for an index: from here on keys are found by hashing.
                    for (i, e) in entries.iter().enumerate() {
                        if let Some(name) = e.key_str() {
                            keys.entry(name.to_owned()).or_insert(i);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The first entry of `entries` with the scalar key `name`: searched in order while the
/// mapping is small (no key copied, no hash map allocated), through `keys` once it has
/// [`KeyIndex::MIN_ENTRIES`] entries (`push` fills `keys` then).
fn first_with_key<'e>(
    entries: &'e [Entry],
    keys: &HashMap<String, usize>,
    name: &str,
) -> Option<&'e Entry> {
    if entries.len() < KeyIndex::MIN_ENTRIES {
        entries.iter().find(|e| e.key_str() == Some(name))
    } else {
        keys.get(name).and_then(|&i| entries.get(i))
    }
}
