//! Writing new values as YAML text: scalar quoting and block layout of inserted entries.

use yaml_rust2::Yaml;

use crate::tree::ScalarStyle;

/// A value to write into a document. Strings are always written so that they load as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewValue {
    /// A string, quoted only when YAML would otherwise read it as something else.
    String(String),
    /// A scalar written exactly as given, read by YAML's rules: plain (`7`, `true`, `weekly`)
    /// or, to keep a file's quoting, a complete single- or double-quoted scalar (`'weekly'`).
    Plain(String),
    /// A mapping.
    Mapping(Vec<NewEntry>),
    /// A sequence.
    Sequence(Vec<NewValue>),
}

/// One entry of a mapping to write, with an optional comment after its value (or after the key
/// of a nested collection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The key, written as a string.
    pub key: String,
    /// The value.
    pub value: NewValue,
    /// A comment, without the `#`.
    pub comment: Option<String>,
}

impl NewEntry {
    /// An entry without a comment.
    pub fn new(key: impl Into<String>, value: NewValue) -> Self {
        NewEntry {
            key: key.into(),
            value,
            comment: None,
        }
    }

    /// The same entry with a comment.
    pub fn with_comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

impl NewValue {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Self {
        NewValue::String(s.into())
    }

    /// What yaml-rust2 loads from this value once written.
    pub fn to_yaml(&self) -> Yaml {
        match self {
            NewValue::String(s) => Yaml::String(s.clone()),
            NewValue::Plain(s) => plain_to_yaml(s),
            NewValue::Mapping(entries) => {
                let mut h = yaml_rust2::yaml::Hash::new();
                for e in entries {
                    h.insert(Yaml::String(e.key.clone()), e.value.to_yaml());
                }
                Yaml::Hash(h)
            }
            NewValue::Sequence(items) => Yaml::Array(items.iter().map(NewValue::to_yaml).collect()),
        }
    }
}

/// What a [`NewValue::Plain`] text loads as: a quoted scalar is read as the string it
/// spells, anything else by the rules of plain scalars.
fn plain_to_yaml(text: &str) -> Yaml {
    if text.starts_with(['\'', '"']) {
        if let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) {
            if let [Yaml::String(value)] = docs.as_slice() {
                return Yaml::String(value.clone());
            }
        }
    }
    Yaml::from_str(text)
}

/// Words that some YAML loaders (1.1) read as booleans or null; never written plain.
const AMBIGUOUS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~",
];

/// True when `s` can be written as a plain scalar (in block or flow context) and still load as
/// the same string.
pub fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if s.ends_with(|c: char| c.is_whitespace() || c == ':') {
        return false;
    }
    if s.contains(": ")
        || s.contains(" #")
        || s.contains(['\n', '\r', '\t', ',', '[', ']', '{', '}'])
    {
        return false;
    }
    if s.chars().any(needs_escape) {
        return false;
    }
    if AMBIGUOUS.contains(&s) {
        return false;
    }
    matches!(Yaml::from_str(s), Yaml::String(ref v) if v == s)
}

/// `s` as a single-quoted scalar (only for text without line breaks or control characters).
pub fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `s` as a double-quoted scalar with escapes.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn needs_double(s: &str) -> bool {
    s.chars().any(needs_escape)
}

/// Control characters, the BOM, and the characters only YAML 1.1 parsers read as line breaks
/// (U+0085, U+2028, U+2029) are written as escapes, never raw.
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{feff}' || crate::linebreaks::YAML11_ONLY_BREAKS.contains(&c)
}

/// `s` written as a scalar: plain when safe, else single-quoted, else double-quoted.
pub fn scalar_text(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_owned()
    } else if needs_double(s) {
        double_quoted(s)
    } else {
        single_quoted(s)
    }
}

/// `s` written in the given style where possible, falling back as [`scalar_text`] does.
/// Returns `None` for block styles (replacing a block scalar is not supported).
pub fn scalar_in_style(s: &str, style: ScalarStyle) -> Option<String> {
    match style {
        ScalarStyle::Plain => Some(scalar_text(s)),
        ScalarStyle::SingleQuoted if !needs_double(s) => Some(single_quoted(s)),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Some(double_quoted(s)),
        ScalarStyle::Literal | ScalarStyle::Folded => None,
    }
}

/// How inserted block lines are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub(crate) unit: usize,
    pub(crate) sequence_offset: usize,
    pub(crate) comment_spacing: usize,
}

fn scalar_of(v: &NewValue) -> Option<String> {
    match v {
        NewValue::String(s) => Some(scalar_text(s)),
        NewValue::Plain(s) => Some(s.clone()),
        NewValue::Mapping(e) if e.is_empty() => Some("{}".to_owned()),
        NewValue::Sequence(i) if i.is_empty() => Some("[]".to_owned()),
        _ => None,
    }
}

/// A comment's text on one line: line breaks (which would end the comment and start YAML),
/// the characters YAML 1.1 parsers read as line breaks (U+0085, U+2028, U+2029) and other
/// control characters (which YAML does not allow in a comment) become spaces; bidirectional
/// controls and invisible formatting characters (a step name's `<RLO>exe.tpircs`) become
/// visible escapes (`\u{202e}`), see [`crate::invisible`].
pub fn one_line(comment: &str) -> String {
    let mut out = String::with_capacity(comment.len());
    for c in comment.chars() {
        if (c.is_control() && c != '\t') || crate::linebreaks::YAML11_ONLY_BREAKS.contains(&c) {
            out.push(' ');
        } else if crate::invisible::is_unsafe(c) {
            out.push_str(&crate::invisible::visible(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn comment_text(layout: Layout, comment: &Option<String>) -> String {
    match comment {
        Some(c) => format!("{}# {}", " ".repeat(layout.comment_spacing), one_line(c)),
        None => String::new(),
    }
}

/// The lines (without line breaks) of `entry` written as a block entry at column `indent`.
pub(crate) fn entry_lines(entry: &NewEntry, indent: usize, layout: Layout, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let key = scalar_text(&entry.key);
    let comment = comment_text(layout, &entry.comment);
    match (&entry.value, scalar_of(&entry.value)) {
        (_, Some(s)) => out.push(format!("{pad}{key}: {s}{comment}")),
        (NewValue::Mapping(children), None) => {
            out.push(format!("{pad}{key}:{comment}"));
            for c in children {
                entry_lines(c, indent + layout.unit, layout, out);
            }
        }
        (NewValue::Sequence(items), None) => {
            out.push(format!("{pad}{key}:{comment}"));
            for item in items {
                item_lines(item, indent + layout.sequence_offset, layout, out);
            }
        }
        _ => {}
    }
}

/// The lines of `value` written as a block sequence item with its `-` at column `dash`.
pub(crate) fn item_lines(value: &NewValue, dash: usize, layout: Layout, out: &mut Vec<String>) {
    let pad = " ".repeat(dash);
    if let Some(s) = scalar_of(value) {
        out.push(format!("{pad}- {s}"));
        return;
    }
    let mut inner = Vec::new();
    match value {
        NewValue::Mapping(entries) => {
            for e in entries {
                entry_lines(e, dash + 2, layout, &mut inner);
            }
        }
        NewValue::Sequence(items) => {
            for i in items {
                item_lines(i, dash + 2, layout, &mut inner);
            }
        }
        _ => {}
    }
    for (n, line) in inner.into_iter().enumerate() {
        if n == 0 {
            out.push(format!("{pad}- {}", &line[(dash + 2).min(line.len())..]));
        } else {
            out.push(line);
        }
    }
}

/// The lines (without line breaks) of `value` written as a block sequence item with its `-`
/// at column `dash`: nested mappings `unit` columns deeper, sequences `sequence_offset` columns
/// under their key, comments one blank after their value. The one block renderer: edits use it
/// to insert into a document, transforms to write a new file.
pub fn sequence_item_lines(
    value: &NewValue,
    dash: usize,
    unit: usize,
    sequence_offset: usize,
) -> Vec<String> {
    let layout = Layout {
        unit,
        sequence_offset,
        comment_spacing: 1,
    };
    let mut out = Vec::new();
    item_lines(value, dash, layout, &mut out);
    out
}

/// `value` written in flow style on one line (comments are dropped: flow has no room for them).
pub(crate) fn flow_text(value: &NewValue) -> String {
    match value {
        NewValue::String(s) => scalar_text(s),
        NewValue::Plain(s) => s.clone(),
        NewValue::Mapping(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|e| format!("{}: {}", scalar_text(&e.key), flow_text(&e.value)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        NewValue::Sequence(items) => {
            let inner: Vec<String> = items.iter().map(flow_text).collect();
            format!("[{}]", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;

    #[test]
    fn quoted_plain_text_loads_as_its_string() {
        assert_eq!(
            NewValue::Plain("'it''s'".into()).to_yaml(),
            Yaml::String("it's".into())
        );
        assert_eq!(
            NewValue::Plain("\"a\\tb\"".into()).to_yaml(),
            Yaml::String("a\tb".into())
        );
        assert_eq!(NewValue::Plain("7".into()).to_yaml(), Yaml::Integer(7));
        assert_eq!(
            NewValue::Plain("[x]".into()).to_yaml(),
            Yaml::String("[x]".into())
        );
    }
}
