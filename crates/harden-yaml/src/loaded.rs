//! The guard's data tree: what yaml-rust2's `YamlLoader` builds, in a lighter form.
//!
//! `Yaml::Hash` is a linked hash map: one allocation per entry plus a hash table per mapping,
//! built and dropped twice per guarded file. Workflows hold thousands of small mappings, so the
//! guard keeps a mapping's entries in a vector, in order, and indexes the keys only of a large
//! mapping. Equality is the same as `Yaml`'s (entries compared in order, scalars as
//! `YamlLoader` types them); [`Value::to_yaml`] gives the `Yaml` back, and the guard's tests
//! compare the two loaders through it on every corpus file.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use yaml_rust2::Yaml;

/// A loaded node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Value {
    /// A scalar, typed as `YamlLoader` types it (never `Yaml::Array` or `Yaml::Hash`), or
    /// `Yaml::BadValue`.
    Scalar(Yaml),
    /// A sequence.
    Seq(Vec<Value>),
    /// A mapping.
    Map(Map),
}

/// A mapping's entries in order, keys unique.
#[derive(Debug, Clone, Default)]
pub(crate) struct Map {
    entries: Vec<(Value, Value)>,
    /// Position of each key, once the mapping has [`Map::INDEXED_FROM`] entries.
    index: Option<HashMap<Value, usize>>,
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Map {}

impl Hash for Map {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.entries.hash(state);
    }
}

impl Map {
    /// Smaller mappings are searched in order.
    const INDEXED_FROM: usize = 16;

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Value, Value)> {
        self.entries.iter()
    }

    /// The position of `key`.
    pub(crate) fn position(&self, key: &Value) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// Adds an entry at the end; gives the key back when it is already there (the mapping is
    /// unchanged then).
    pub(crate) fn push(&mut self, key: Value, value: Value) -> Result<(), Box<Value>> {
        if self.position(&key).is_some() {
            return Err(Box::new(key));
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() >= Self::INDEXED_FROM {
            self.reindex();
        }
        Ok(())
    }

    /// The value of the entry at `at`.
    pub(crate) fn value_mut(&mut self, at: usize) -> Option<&mut Value> {
        self.entries.get_mut(at).map(|(_, v)| v)
    }

    /// Takes every entry out, leaving the mapping empty.
    pub(crate) fn take_entries(&mut self) -> Vec<(Value, Value)> {
        self.index = None;
        std::mem::take(&mut self.entries)
    }

    fn reindex(&mut self) {
        let index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        self.index = Some(index);
    }
}

impl Value {
    /// The same data as `Yaml` (as `YamlLoader` would have built it).
    pub(crate) fn to_yaml(&self) -> Yaml {
        match self {
            Value::Scalar(y) => y.clone(),
            Value::Seq(items) => Yaml::Array(items.iter().map(Value::to_yaml).collect()),
            Value::Map(m) => {
                let mut h = yaml_rust2::yaml::Hash::new();
                for (k, v) in m.iter() {
                    h.insert(k.to_yaml(), v.to_yaml());
                }
                Yaml::Hash(h)
            }
        }
    }

    /// The same data as a `Value` (a key repeated in `y` cannot be: `Yaml::Hash` has none).
    pub(crate) fn from_yaml(y: &Yaml) -> Value {
        match y {
            Yaml::Array(items) => Value::Seq(items.iter().map(Value::from_yaml).collect()),
            Yaml::Hash(h) => {
                let mut m = Map::default();
                for (k, v) in h {
                    let _ = m.push(Value::from_yaml(k), Value::from_yaml(v));
                }
                Value::Map(m)
            }
            other => Value::Scalar(other.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Scalar(Yaml::String(text.to_owned()))
    }

    #[test]
    fn keys_stay_unique_small_and_large() {
        for n in [3usize, 40] {
            let mut m = Map::default();
            for i in 0..n {
                assert!(m.push(s(&i.to_string()), s("v")).is_ok());
            }
            assert!(m.push(s("0"), s("again")).is_err());
            assert!(m.push(s(&(n - 1).to_string()), s("again")).is_err());
            assert_eq!(m.len(), n);
            assert_eq!(m.position(&s("2")), Some(2));
            let entries = m.take_entries();
            assert_eq!(entries.len(), n);
            assert_eq!(m.len(), 0);
        }
    }

    #[test]
    fn round_trips_through_yaml() {
        let docs = yaml_rust2::YamlLoader::load_from_str(
            "a: [1, 'x', {b: ~}]\n? [k]\n: 2.5\nc: {d: {e: true}}\n",
        )
        .expect("loads");
        for doc in &docs {
            assert_eq!(&Value::from_yaml(doc).to_yaml(), doc);
        }
    }
}
