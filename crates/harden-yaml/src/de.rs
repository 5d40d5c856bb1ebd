//! Typed values from a [`Document`](crate::Document) with serde: the settings file
//! `.github/harden.yml` and the knowledge bases under `data/` are read by the same parser, with
//! the same limits, as the workflows, and every error carries the line and column of the node
//! it is about (an unknown key points at the key, a wrong value at the value).
//!
//! Plain scalars resolve as YAML 1.2's core schema does (`true`, `~`, `12`, `1.5`); quoted and
//! block scalars are strings, and any scalar reads as a string where a string is wanted.
//! Aliases are refused with a located error rather than expanded: settings and data have no
//! use for them, and a file of nested aliases then costs nothing.
//!
//! [`Located`] keeps a value's place, for messages written later (a declaration that names no
//! job).

use std::fmt;

use serde::de::{self, DeserializeOwned, Error as _, IntoDeserializer, Visitor};
use serde::Deserialize;

use crate::tree::{Node, NodeKind, Scalar, ScalarStyle, Span};
use crate::Document;

/// A value of the document could not be read as the type wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// 1-based line of the node at fault (0 until known).
    pub line: usize,
    /// 1-based column of the node at fault.
    pub column: usize,
    /// The keys from the root down to the mapping that holds the node at fault.
    pub within: Vec<String>,
    /// What is wrong.
    pub message: String,
    /// For an unknown key: the keys allowed there.
    pub valid_keys: Option<&'static [&'static str]>,
}

impl DeError {
    fn at(mut self, node: &Node) -> Self {
        if self.line == 0 {
            self.line = node.line;
            self.column = node.column;
        }
        self
    }

    /// The error as found under `key` (prepended to [`DeError::within`]).
    pub fn under(mut self, key: &str) -> Self {
        self.within.insert(0, key.to_owned());
        self
    }

    /// The error without its place, for callers that print `file:line:column` first.
    pub fn message(&self) -> String {
        let within = self.within.join(".");
        match self.valid_keys {
            Some(valid) => {
                let place = if within.is_empty() {
                    "the file".to_owned()
                } else {
                    within
                };
                format!(
                    "{} in {place}; valid keys: {}",
                    self.message,
                    valid.join(", ")
                )
            }
            None if within.is_empty() => self.message.clone(),
            None => format!("{within}: {}", self.message),
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message())
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            line: 0,
            column: 0,
            within: Vec::new(),
            message: msg.to_string(),
            valid_keys: None,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            valid_keys: Some(expected),
            ..DeError::custom(format_args!("unknown key `{field}`"))
        }
    }
}

/// Reads `T` from `node`.
pub fn from_node<'de, T: Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDeserializer { node })
}

/// Reads `T` from the only document of `doc`; an empty file reads as an empty value (null), a
/// second document is an error at its first line.
pub fn from_document<T: DeserializeOwned>(doc: &Document) -> Result<T, DeError> {
    if let Some(second) = doc.documents().get(1) {
        return Err(DeError::custom(
            "a second YAML document (after `---`): only the first is read; merge them",
        )
        .at(second));
    }
    match doc.root() {
        Some(root) => from_node(root),
        None => from_node(&empty_node()),
    }
}

/// Parses `text` (with the limits of [`crate::limits`]) and reads `T` from it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, DeError> {
    let doc = Document::parse(text).map_err(|e| {
        let at = e.location();
        DeError {
            line: at.line,
            column: at.column,
            ..DeError::custom(e.message())
        }
    })?;
    from_document(&doc)
}

fn empty_node() -> Node {
    Node {
        span: Span::default(),
        line: 1,
        column: 1,
        anchor: None,
        kind: NodeKind::Scalar(Scalar {
            value: String::new(),
            style: ScalarStyle::Plain,
            token: Span::default(),
            tag: None,
        }),
    }
}

/// What a plain scalar means under the core schema.
enum Plain<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(&'a str),
}

fn resolve(scalar: &Scalar) -> Plain<'_> {
    let v = scalar.value.as_str();
    let is_str_tag = scalar.tag.as_deref().is_some_and(|t| t.ends_with("str"));
    if scalar.style != ScalarStyle::Plain || is_str_tag {
        return Plain::Text(v);
    }
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = v.parse::<u64>() {
            return Plain::Unsigned(n);
        }
        if let Ok(n) = v.parse::<i64>() {
            return Plain::Signed(n);
        }
    }
    if let Some(hex) = v.strip_prefix("0x") {
        if let Ok(n) = u64::from_str_radix(hex, 16) {
            return Plain::Unsigned(n);
        }
    }
    if let Some(oct) = v.strip_prefix("0o") {
        if let Ok(n) = u64::from_str_radix(oct, 8) {
            return Plain::Unsigned(n);
        }
    }
    let float_chars = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if float_chars && digits.bytes().any(|b| b.is_ascii_digit()) {
        if let Ok(f) = v.parse::<f64>() {
            return Plain::Float(f);
        }
    }
    Plain::Text(v)
}

struct NodeDeserializer<'de> {
    node: &'de Node,
}

impl<'de> NodeDeserializer<'de> {
    fn is_null(&self) -> bool {
        matches!(&self.node.kind, NodeKind::Scalar(s) if matches!(resolve(s), Plain::Null))
    }

    fn alias(&self, name: &str) -> DeError {
        DeError::custom(format!(
            "`*{name}`: aliases are not read here; write the value out"
        ))
        .at(self.node)
    }

    fn any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Alias(name) => Err(self.alias(name)),
            NodeKind::Scalar(s) => match resolve(s) {
                Plain::Null => visitor.visit_unit(),
                Plain::Bool(b) => visitor.visit_bool(b),
                Plain::Unsigned(n) => visitor.visit_u64(n),
                Plain::Signed(n) => visitor.visit_i64(n),
                Plain::Float(f) => visitor.visit_f64(f),
                Plain::Text(t) => visitor.visit_borrowed_str(t),
            },
            NodeKind::Mapping(m) => visitor.visit_map(MapAccess {
                entries: m.entries.iter(),
                value: None,
            }),
            NodeKind::Sequence(s) => visitor.visit_seq(SeqAccess {
                items: s.items.iter(),
            }),
        }
    }

    fn string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Scalar(s) => visitor.visit_borrowed_str(&s.value),
            _ => self.any(visitor),
        }
    }

    fn map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.is_null() {
            return visitor.visit_map(MapAccess {
                entries: [].iter(),
                value: None,
            });
        }
        self.any(visitor)
    }

    fn seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.is_null() {
            return visitor.visit_seq(SeqAccess { items: [].iter() });
        }
        self.any(visitor)
    }
}

/// The name [`Located`] asks for, so that this deserializer hands it the place.
const LOCATED: &str = "$harden_yaml::Located";
const LOCATED_FIELDS: &[&str] = &["line", "column", "value"];

impl<'de> de::Deserializer<'de> for NodeDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        self.any(visitor).map_err(|e| e.at(node))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        self.string(visitor).map_err(|e| e.at(node))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        if self.is_null() {
            return visitor.visit_none().map_err(|e: DeError| e.at(node));
        }
        visitor.visit_some(self).map_err(|e| e.at(node))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        self.map(visitor).map_err(|e| e.at(node))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.node;
        if name == LOCATED && fields == LOCATED_FIELDS {
            return visitor
                .visit_map(LocatedAccess { node, step: 0 })
                .map_err(|e| e.at(node));
        }
        self.map(visitor).map_err(|e| e.at(node))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        self.seq(visitor).map_err(|e| e.at(node))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.node;
        visitor.visit_newtype_struct(self).map_err(|e| e.at(node))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.node;
        match &node.kind {
            NodeKind::Scalar(s) => visitor
                .visit_enum(s.value.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(node)),
            _ => Err(DeError::custom("expected a single value").at(node)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct tuple tuple_struct
    }
}

struct MapAccess<'de> {
    entries: std::slice::Iter<'de, crate::tree::Entry>,
    value: Option<&'de crate::tree::Entry>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(entry);
        seed.deserialize(NodeDeserializer { node: &entry.key })
            .map(Some)
            .map_err(|e| e.at(&entry.key))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let Some(entry) = self.value.take() else {
            return Err(DeError::custom("a value without its key"));
        };
        seed.deserialize(NodeDeserializer { node: &entry.value })
            .map_err(|e| e.at(&entry.value).under(entry.key_str().unwrap_or("?")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct SeqAccess<'de> {
    items: std::slice::Iter<'de, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = DeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(NodeDeserializer { node })
                .map(Some)
                .map_err(|e| e.at(node)),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Feeds [`Located`]: `line`, `column`, then the value itself.
struct LocatedAccess<'de> {
    node: &'de Node,
    step: usize,
}

impl<'de> de::MapAccess<'de> for LocatedAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(key) = LOCATED_FIELDS.get(self.step) else {
            return Ok(None);
        };
        seed.deserialize((*key).into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize((self.node.line as u64).into_deserializer()),
            2 => seed.deserialize((self.node.column as u64).into_deserializer()),
            _ => seed.deserialize(NodeDeserializer { node: self.node }),
        }
    }
}

/// A value with the place it is written at. Compared, ordered and hashed by value alone, so it
/// can be the key of a map.
#[derive(Debug, Clone, Default)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Located<T> {}

impl<T: PartialOrd> PartialOrd for Located<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Ord> Ord for Located<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T: std::hash::Hash> std::hash::Hash for Located<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocatedVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
            type Value = Located<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Located<T>, A::Error> {
                let (mut line, mut column, mut value) = (0, 0, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "line" => line = map.next_value()?,
                        "column" => column = map.next_value()?,
                        _ => value = Some(map.next_value()?),
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
                Ok(Located {
                    value,
                    line,
                    column,
                })
            }
        }

        deserializer.deserialize_struct(
            LOCATED,
            LOCATED_FIELDS,
            LocatedVisitor(std::marker::PhantomData),
        )
    }
}

/// The entries of a mapping in the order they are written (a `BTreeMap` would sort them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entries<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<K, V>(std::marker::PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
            type Value = Entries<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Section {
        #[serde(default)]
        exempt: Vec<String>,
        cooldown: Option<u32>,
        group: Option<bool>,
        #[serde(default)]
        jobs: BTreeMap<Located<String>, BTreeMap<String, String>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct File {
        section: Option<Section>,
    }

    #[test]
    fn reads_typed_values() {
        let text = "section:\n  exempt: [a/*, 12]\n  cooldown: 3\n  group: false\n  jobs:\n    ci.yml: {build: x}\n";
        let file: File = from_str(text).expect("valid");
        let s = file.section.expect("present");
        assert_eq!(s.exempt, ["a/*", "12"]);
        assert_eq!(s.cooldown, Some(3));
        assert_eq!(s.group, Some(false));
        let (key, jobs) = s.jobs.iter().next().expect("one");
        assert_eq!((key.value.as_str(), key.line, key.column), ("ci.yml", 6, 5));
        assert_eq!(jobs["build"], "x");
        let empty: File = from_str("").expect("empty file");
        assert_eq!(empty.section, None);
        let ordered: Entries<String, u32> = from_str("b: 1\na: 2\n").expect("valid");
        assert_eq!(ordered.0, [("b".to_owned(), 1), ("a".to_owned(), 2)]);
        let file: File = from_str("section:\n").expect("empty section");
        assert_eq!(file.section, None);
        let s: Section = from_str("").expect("an empty mapping");
        assert!(s.exempt.is_empty() && s.jobs.is_empty());
    }

    #[test]
    fn errors_point_at_the_node() {
        let e = from_str::<File>("section:\n  shedule: weekly\n").expect_err("unknown key");
        assert_eq!((e.line, e.column), (2, 3));
        assert!(
            e.message()
                .starts_with("unknown key `shedule` in section; valid keys: exempt"),
            "{}",
            e.message()
        );
        let e = from_str::<File>("section:\n  cooldown: soon\n").expect_err("not a number");
        assert_eq!((e.line, e.column), (2, 13));
        assert!(
            e.message().starts_with("section.cooldown: "),
            "{}",
            e.message()
        );
        let e = from_str::<File>("other: 1\n").expect_err("unknown section");
        assert!(e.message().contains("in the file"), "{}", e.message());
        let e = from_str::<File>("section: {}\n---\nx: 1\n").expect_err("two documents");
        assert_eq!((e.line, e.column), (3, 1));
    }

    #[test]
    fn aliases_are_refused_and_bombs_stay_cheap() {
        let e = from_str::<File>("section:\n  cooldown: &x 3\n  group: *x\n").expect_err("alias");
        assert_eq!((e.line, e.column), (3, 10));
        let mut bomb = String::from("a: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(from_str::<File>(&bomb).is_err());
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        let v: Vec<Option<serde_json::Value>> =
            from_str("[~, true, 'true', 12, -3, 1.5, 0x1f, text, '']").expect("valid");
        let json = serde_json::to_string(&v).expect("json");
        assert_eq!(json, r#"[null,true,"true",12,-3,1.5,31,"text",""]"#);
    }
}
