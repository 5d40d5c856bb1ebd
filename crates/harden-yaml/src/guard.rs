//! The semantic guard: the output must load as the input plus exactly the intended changes.
//!
//! Both texts are loaded with yaml-rust2, a parser independent of the one that built the
//! spans, so a wrong span cannot hide behind the same mistake twice.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::{ScanError, Yaml, YamlLoader};

use crate::edit::{Change, InsertAt};
use crate::error::GuardError;
use crate::limits::{MAX_ALIASES, MAX_ALIAS_NODES, MAX_NODES};
use crate::linebreaks;
use crate::tree::{Path, Seg};

/// Checks that `after` loads as `before` with `changes` applied and nothing else different.
/// On any error the caller must leave the file untouched.
pub fn verify(before: &str, after: &str, changes: &[Change]) -> Result<(), GuardError> {
    // A byte-order mark is not content; yaml-rust2 would read it as part of the first key.
    let before = before.strip_prefix('\u{feff}').unwrap_or(before);
    let after = after.strip_prefix('\u{feff}').unwrap_or(after);
    if let Some(what) = over_limits(before) {
        return Err(GuardError::InputUnreadable(what));
    }
    if let Some(what) = over_limits(after) {
        return Err(GuardError::OutputUnreadable(what));
    }
    // The YAML 1.1 view: a line break that only YAML 1.1 parsers see must not appear outside a
    // quoted string of the output (the input was refused for one already).
    if let Some((at, c)) = linebreaks::first_break_outside_quotes(after) {
        return Err(GuardError::OutputUnreadable(format!(
            "{} outside a quoted string at byte {at}: YAML 1.1 parsers would read a line break",
            linebreaks::break_name(c)
        )));
    }
    let mut expected = load(before).map_err(|e| GuardError::InputUnreadable(e.to_string()))?;
    for change in changes {
        apply_change(&mut expected, change)?;
    }
    let actual = load(after).map_err(|e| GuardError::OutputUnreadable(e.to_string()))?;
    if expected.len() != actual.len() {
        return Err(GuardError::Mismatch(format!(
            "(stream: {} documents instead of {})",
            actual.len(),
            expected.len()
        )));
    }
    for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
        if let Some(at) = first_difference(e, a, Path::root(i)) {
            return Err(GuardError::Mismatch(at.to_string()));
        }
    }
    Ok(())
}

/// Loads `text` with yaml-rust2 as libyaml reads it: a text refused only because a line inside a
/// flow collection is indented too little (a hanging `]`) is loaded from a copy with that line
/// padded, which holds the same data (see the `lenient` module of the span layer).
pub fn load(text: &str) -> Result<Vec<Yaml>, ScanError> {
    let error = match YamlLoader::load_from_str(text) {
        Err(e) if e.info().starts_with("invalid indentation") => e,
        other => return other,
    };
    let first_error = |t: &str| {
        YamlLoader::load_from_str(t)
            .map(drop)
            .map_err(|e| (e.marker().index(), e.info().to_owned()))
    };
    match crate::lenient::pad_hanging_lines(text, first_error) {
        Some((padded, _)) => YamlLoader::load_from_str(&padded).map_err(|_| error),
        None => Err(error),
    }
}

/// Counts what a loader that copies aliases would build, without building it; `Some(what)`
/// when the text is past a limit of [`crate::limits`] (or holds a recursive alias), so that
/// yaml-rust2 never copies an alias bomb. A text without both `&` and `*` has no alias, and
/// as many nodes as its length allows at most, far under [`MAX_NODES`] for any text harden
/// reads whole.
fn over_limits(text: &str) -> Option<String> {
    if !(text.contains('&') && text.contains('*')) && (text.len() as u64) < MAX_NODES {
        return None;
    }
    let mut counter = Counter::default();
    let mut parser = Parser::new_from_str(text);
    // A text the parser refuses is reported by the loader that follows.
    let _ = parser.load(&mut counter, true);
    counter.over
}

#[derive(Default)]
struct Counter {
    nodes: u64,
    aliases: u64,
    alias_nodes: u64,
    expanded: u64,
    open: Vec<(usize, u64)>,
    sizes: HashMap<usize, u64>,
    over: Option<String>,
}

impl MarkedEventReceiver for Counter {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        if self.over.is_some() {
            return;
        }
        match event {
            Event::MappingStart(id, _) | Event::SequenceStart(id, _) => {
                self.open.push((id, self.expanded));
                self.nodes += 1;
                self.expanded += 1;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((id, before)) = self.open.pop() {
                    if id > 0 {
                        self.sizes.insert(id, self.expanded - before);
                    }
                }
            }
            Event::Scalar(_, _, id, _) => {
                self.nodes += 1;
                self.expanded += 1;
                if id > 0 {
                    self.sizes.insert(id, 1);
                }
            }
            Event::Alias(id) => {
                if self.open.iter().any(|(open, _)| *open == id) {
                    self.over = Some("a recursive alias".to_owned());
                }
                let size = self.sizes.get(&id).copied().unwrap_or(1);
                self.nodes += 1;
                self.aliases += 1;
                self.alias_nodes = self.alias_nodes.saturating_add(size);
                self.expanded = self.expanded.saturating_add(size);
            }
            _ => {}
        }
        if self.alias_nodes > MAX_ALIAS_NODES {
            self.over = Some(format!("aliases repeat more than {MAX_ALIAS_NODES} nodes"));
        } else if self.aliases > MAX_ALIASES {
            self.over = Some(format!("more than {MAX_ALIASES} aliases"));
        } else if self.nodes > MAX_NODES {
            self.over = Some(format!("more than {MAX_NODES} nodes"));
        }
    }
}

/// Finds a mapping key that matches `key` as text (strings, and numbers or booleans written as keys).
fn key_matches(candidate: &Yaml, key: &str) -> bool {
    match candidate {
        Yaml::String(s) | Yaml::Real(s) => s == key,
        Yaml::Integer(i) => i.to_string() == key,
        Yaml::Boolean(b) => b.to_string() == key,
        Yaml::Null => key.is_empty() || key == "~" || key == "null",
        _ => false,
    }
}

fn descend<'y>(docs: &'y mut [Yaml], path: &Path) -> Result<&'y mut Yaml, GuardError> {
    let missing = || GuardError::ChangeDoesNotApply(path.to_string());
    let mut node = docs.get_mut(path.doc).ok_or_else(missing)?;
    for seg in &path.segs {
        node = match (seg, node) {
            (Seg::Key(k), Yaml::Hash(h)) => {
                // A string key is found by hashing (a 50 MB workflow makes tens of thousands
                // of changes in mappings of thousands of keys); other keys by their text.
                let string_key = Yaml::String(k.clone());
                if h.contains_key(&string_key) {
                    h.get_mut(&string_key).ok_or_else(missing)?
                } else {
                    h.iter_mut()
                        .find(|(key, _)| key_matches(key, k))
                        .map(|(_, v)| v)
                        .ok_or_else(missing)?
                }
            }
            (Seg::Index(i), Yaml::Array(a)) => a.get_mut(*i).ok_or_else(missing)?,
            _ => return Err(missing()),
        };
    }
    Ok(node)
}

fn apply_change(docs: &mut [Yaml], change: &Change) -> Result<(), GuardError> {
    match change {
        Change::Set { path, value } => {
            *descend(docs, path)? = value.to_yaml();
        }
        Change::Append { sequence, value } => match descend(docs, sequence)? {
            Yaml::Array(a) => a.push(value.to_yaml()),
            _ => return Err(GuardError::ChangeDoesNotApply(sequence.to_string())),
        },
        Change::Insert {
            mapping,
            at,
            key,
            value,
        } => {
            let Yaml::Hash(h) = descend(docs, mapping)? else {
                return Err(GuardError::ChangeDoesNotApply(mapping.to_string()));
            };
            let old = std::mem::take(h);
            let new_key = Yaml::String(key.clone());
            let mut pending = Some((new_key, value.to_yaml()));
            if matches!(at, InsertAt::First) {
                if let Some((k, v)) = pending.take() {
                    h.insert(k, v);
                }
            }
            for (k, v) in old {
                let is_anchor = |name: &String| key_matches(&k, name);
                if matches!(at, InsertAt::Before(name) if is_anchor(name)) {
                    if let Some((nk, nv)) = pending.take() {
                        h.insert(nk, nv);
                    }
                }
                let after = matches!(at, InsertAt::After(name) if is_anchor(name));
                h.insert(k, v);
                if after {
                    if let Some((nk, nv)) = pending.take() {
                        h.insert(nk, nv);
                    }
                }
            }
            if let Some((k, v)) = pending.take() {
                h.insert(k, v);
            }
        }
    }
    Ok(())
}

/// The path of the first place where `a` and `b` differ (key order counts).
fn first_difference(a: &Yaml, b: &Yaml, path: Path) -> Option<Path> {
    match (a, b) {
        (Yaml::Hash(x), Yaml::Hash(y)) => {
            if x.len() != y.len() {
                return Some(path);
            }
            for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                if ka != kb {
                    return Some(path);
                }
                let label = match ka {
                    Yaml::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                if let Some(p) = first_difference(va, vb, path.key(&label)) {
                    return Some(p);
                }
            }
            None
        }
        (Yaml::Array(x), Yaml::Array(y)) => {
            if x.len() != y.len() {
                return Some(path);
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (va, vb))| first_difference(va, vb, path.index(i)))
        }
        _ if a == b => None,
        _ => Some(path),
    }
}
