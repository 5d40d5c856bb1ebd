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
use crate::limits::{Over, Tally, MAX_ALIASES, MAX_ALIAS_NODES, MAX_NODES};
use crate::linebreaks;
use crate::loaded::{Map, Value};
use crate::tree::{Path, Seg};

/// Checks that `after` loads as `before` with `changes` applied and nothing else different.
/// On any error the caller must leave the file untouched.
pub fn verify(before: &str, after: &str, changes: &[Change]) -> Result<(), GuardError> {
    // A byte-order mark is not content; yaml-rust2 would read it as part of the first key.
    let before = before.strip_prefix('\u{feff}').unwrap_or(before);
    let after = after.strip_prefix('\u{feff}').unwrap_or(after);
    // Each text is parsed once: counted against the limits and loaded in the same pass.
    let (before_over, loaded_before) = load_counted(before);
    if let Some(what) = before_over {
        return Err(GuardError::InputUnreadable(what));
    }
    let (after_over, loaded_after) = load_counted(after);
    if let Some(what) = after_over {
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
    let mut expected = loaded_before.map_err(|e| GuardError::InputUnreadable(e.to_string()))?;
    for change in changes {
        apply_change(&mut expected, change)?;
    }
    let actual = loaded_after.map_err(|e| GuardError::OutputUnreadable(e.to_string()))?;
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

/// Loads a foreign YAML file, one harden reads but never edits (a compose file, Helm
/// `values.yaml`, `.pre-commit-config.yaml`, another tool's `action.yml`), as yaml-rust2's
/// `YamlLoader` would, but within the limits of [`crate::limits`]: an alias bomb is refused
/// (with what it passed) before anything is copied, where `YamlLoader` expands it whole
/// (a 511-byte file, gigabytes).
pub fn load_within_limits(text: &str) -> Result<Vec<Yaml>, String> {
    match load_counted(text) {
        (Some(over), _) => Err(over),
        (None, Ok(docs)) => Ok(docs.iter().map(Value::to_yaml).collect()),
        (None, Err(e)) => Err(e.to_string()),
    }
}

/// Counts `text` against the limits (the [`Counter`], when [`may_exceed_limits`]) and loads it
/// as [`load`] does, in one pass of the parser: each event is counted first and reaches the
/// tree builder only while the text is within the limits, so an alias bomb is never copied.
/// Returns the limit passed, if any, and otherwise what `load` returns.
fn load_counted(text: &str) -> (Option<String>, Result<Vec<Value>, ScanError>) {
    let mut receiver = CountingBuilder {
        count: may_exceed_limits(text),
        counter: Counter::default(),
        builder: TreeBuilder::default(),
    };
    let parsed = Parser::new_from_str(text).load(&mut receiver, true);
    if receiver.count {
        if let Some(what) = receiver.counter.over {
            return (Some(what), Ok(Vec::new()));
        }
    }
    let loaded = match parsed {
        // A hanging flow line: the lenient path reads a padded copy (rare: parse again).
        Err(e) if e.info().starts_with("invalid indentation") => {
            load(text).map(|docs| docs.iter().map(Value::from_yaml).collect())
        }
        Err(e) => Err(e),
        Ok(()) => match receiver.builder.error {
            Some(e) => Err(e),
            None => Ok(receiver.builder.docs),
        },
    };
    (None, loaded)
}

/// Whether `text` can be past a limit of [`crate::limits`]: it may hold an alias (both `&` and
/// `*`), or it is long enough to hold [`MAX_NODES`] nodes.
fn may_exceed_limits(text: &str) -> bool {
    (text.contains('&') && text.contains('*')) || (text.len() as u64) >= MAX_NODES
}

/// Counts each event (when `count`) and passes it to the tree builder while within limits.
struct CountingBuilder {
    count: bool,
    counter: Counter,
    builder: TreeBuilder,
}

impl MarkedEventReceiver for CountingBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.count {
            self.counter.count(&event);
            if self.counter.over.is_some() {
                return;
            }
        }
        self.builder.on_event(event, mark);
    }
}

/// Builds documents from parser events exactly as yaml-rust2's `YamlLoader` (0.13) does, as
/// [`Value`]s (see [`crate::loaded`]), and gives its documents and its error back
/// (`YamlLoader` keeps them private when it is fed events). Keep in step with `YamlLoader`
/// when yaml-rust2 is upgraded; the test `tree_builder_matches_yaml_loader` compares the two.
#[derive(Default)]
struct TreeBuilder {
    docs: Vec<Value>,
    /// Open collections with their anchor id.
    stack: Vec<(Value, usize)>,
    /// The pending key of each open mapping (`BadValue` while none, as in `YamlLoader`).
    keys: Vec<Value>,
    anchors: HashMap<usize, Value>,
    error: Option<ScanError>,
}

/// `YamlLoader`'s "no key yet" mark, also what it loads for an unknown alias or a bad tag.
const BAD: Value = Value::Scalar(Yaml::BadValue);

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let node = match event {
            Event::DocumentEnd => {
                let doc = match self.stack.pop() {
                    Some((doc, _)) => doc,
                    None => BAD,
                };
                self.docs.push(doc);
                return;
            }
            Event::SequenceStart(id, _) => {
                self.stack.push((Value::Seq(Vec::new()), id));
                return;
            }
            Event::MappingStart(id, _) => {
                self.stack.push((Value::Map(Map::default()), id));
                self.keys.push(BAD);
                return;
            }
            Event::SequenceEnd => self.stack.pop(),
            Event::MappingEnd => {
                self.keys.pop();
                self.stack.pop()
            }
            Event::Scalar(value, style, id, tag) => {
                Some((Value::Scalar(scalar_value(value, style, tag)), id))
            }
            Event::Alias(id) => Some((self.anchors.get(&id).cloned().unwrap_or(BAD), 0)),
            _ => return,
        };
        if let Some(node) = node {
            if let Err(e) = self.insert(node, mark) {
                self.error = Some(e);
            }
        }
    }
}

impl TreeBuilder {
    fn insert(&mut self, (node, id): (Value, usize), mark: Marker) -> Result<(), ScanError> {
        if id > 0 {
            self.anchors.insert(id, node.clone());
        }
        let Some((parent, _)) = self.stack.last_mut() else {
            self.stack.push((node, id));
            return Ok(());
        };
        match parent {
            Value::Seq(items) => items.push(node),
            Value::Map(map) => {
                let Some(key) = self.keys.last_mut() else {
                    return Ok(());
                };
                if *key == BAD {
                    *key = node;
                } else {
                    let key = std::mem::replace(key, BAD);
                    if let Err(key) = map.push(key, node) {
                        return Err(ScanError::new_string(
                            mark,
                            format!("{:?}: duplicated key in mapping", key.to_yaml()),
                        ));
                    }
                }
            }
            Value::Scalar(_) => {}
        }
        Ok(())
    }
}

/// A scalar's value as `YamlLoader` types it: quoted scalars are strings; plain ones follow
/// their `!!bool`, `!!int`, `!!float`, `!!null` tag, or are typed by their text.
fn scalar_value(
    value: String,
    style: yaml_rust2::scanner::TScalarStyle,
    tag: Option<yaml_rust2::parser::Tag>,
) -> Yaml {
    if style != yaml_rust2::scanner::TScalarStyle::Plain {
        return Yaml::String(value);
    }
    let Some(tag) = tag else {
        return Yaml::from_str(&value);
    };
    if tag.handle != "tag:yaml.org,2002:" {
        return Yaml::String(value);
    }
    match tag.suffix.as_ref() {
        "bool" => match value.as_str() {
            "true" | "True" | "TRUE" => Yaml::Boolean(true),
            "false" | "False" | "FALSE" => Yaml::Boolean(false),
            _ => Yaml::BadValue,
        },
        "int" => value.parse::<i64>().map_or(Yaml::BadValue, Yaml::Integer),
        "float" => match parse_float(&value) {
            Some(_) => Yaml::Real(value),
            None => Yaml::BadValue,
        },
        "null" => match value.as_str() {
            "~" | "null" => Yaml::Null,
            _ => Yaml::BadValue,
        },
        _ => Yaml::String(value),
    }
}

/// yaml-rust2's reading of a `!!float` scalar.
fn parse_float(v: &str) -> Option<f64> {
    match v {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ if v.as_bytes().iter().any(u8::is_ascii_digit) => v.parse::<f64>().ok(),
        _ => None,
    }
}

/// Counts what a loader that copies aliases would build, without building it (a
/// [`Tally`]): `over` is `Some(what)` when the text is past a limit of [`crate::limits`] (or
/// holds a recursive alias), so that an alias bomb is never copied. A text for which
/// [`may_exceed_limits`] is false has no alias, and as many nodes as its length allows at
/// most, far under [`MAX_NODES`] for any text harden reads whole.
#[derive(Default)]
struct Counter {
    tally: Tally,
    over: Option<String>,
}

impl Counter {
    fn count(&mut self, event: &Event) {
        if self.over.is_some() {
            return;
        }
        let t = &mut self.tally;
        let counted = match *event {
            Event::MappingStart(id, _) | Event::SequenceStart(id, _) => t.collection_start(id),
            Event::MappingEnd | Event::SequenceEnd => {
                t.collection_end();
                Ok(())
            }
            Event::Scalar(_, _, id, _) => t.scalar(id),
            Event::Alias(id) => t.alias(id),
            _ => Ok(()),
        };
        self.over = counted.err().map(|over| match over {
            Over::RecursiveAlias => "a recursive alias".to_owned(),
            Over::AliasNodes => format!("aliases repeat more than {MAX_ALIAS_NODES} nodes"),
            Over::Aliases => format!("more than {MAX_ALIASES} aliases"),
            Over::Nodes => format!("more than {MAX_NODES} nodes"),
        });
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

fn descend<'y>(docs: &'y mut [Value], path: &Path) -> Result<&'y mut Value, GuardError> {
    let missing = || GuardError::ChangeDoesNotApply(path.to_string());
    let mut node = docs.get_mut(path.doc).ok_or_else(missing)?;
    for seg in &path.segs {
        node = match (seg, node) {
            (Seg::Key(k), Value::Map(m)) => {
                // A string key is found by hashing in a large mapping (a 50 MB workflow makes
                // tens of thousands of changes in mappings of thousands of keys); other keys by
                // their text.
                let at = m
                    .position(&Value::Scalar(Yaml::String(k.clone())))
                    .or_else(|| {
                        m.iter().position(
                            |(key, _)| matches!(key, Value::Scalar(key) if key_matches(key, k)),
                        )
                    });
                at.and_then(|at| m.value_mut(at)).ok_or_else(missing)?
            }
            (Seg::Index(i), Value::Seq(a)) => a.get_mut(*i).ok_or_else(missing)?,
            _ => return Err(missing()),
        };
    }
    Ok(node)
}

fn apply_change(docs: &mut [Value], change: &Change) -> Result<(), GuardError> {
    match change {
        Change::Set { path, value } => {
            *descend(docs, path)? = Value::from_yaml(&value.to_yaml());
        }
        Change::Replace {
            mapping,
            key,
            new_key,
            value,
        } => {
            let Value::Map(m) = descend(docs, mapping)? else {
                return Err(GuardError::ChangeDoesNotApply(mapping.to_string()));
            };
            let refused = || GuardError::ChangeDoesNotApply(format!("{mapping} (key `{key}`)"));
            let mut found = false;
            for (k, v) in m.take_entries() {
                let entry = if matches!(&k, Value::Scalar(y) if key_matches(y, key)) {
                    found = true;
                    (
                        Value::Scalar(Yaml::String(new_key.clone())),
                        Value::from_yaml(&value.to_yaml()),
                    )
                } else {
                    (k, v)
                };
                m.push(entry.0, entry.1).map_err(|_| refused())?;
            }
            if !found {
                return Err(refused());
            }
        }
        Change::Append { sequence, value } => match descend(docs, sequence)? {
            Value::Seq(a) => a.push(Value::from_yaml(&value.to_yaml())),
            _ => return Err(GuardError::ChangeDoesNotApply(sequence.to_string())),
        },
        Change::Insert {
            mapping,
            at,
            key,
            value,
        } => {
            let Value::Map(m) = descend(docs, mapping)? else {
                return Err(GuardError::ChangeDoesNotApply(mapping.to_string()));
            };
            let old = m.take_entries();
            let new_key = Value::Scalar(Yaml::String(key.clone()));
            let mut pending = Some((new_key, Value::from_yaml(&value.to_yaml())));
            // A key that is already there cannot be inserted: the change does not apply.
            let refused = || GuardError::ChangeDoesNotApply(format!("{mapping} (key `{key}`)"));
            let put = |m: &mut Map, entry: Option<(Value, Value)>| match entry {
                Some((k, v)) => m.push(k, v).map_err(|_| refused()),
                None => Ok(()),
            };
            if matches!(at, InsertAt::First) {
                put(m, pending.take())?;
            }
            for (k, v) in old {
                let is_anchor =
                    |name: &String| matches!(&k, Value::Scalar(k) if key_matches(k, name));
                if matches!(at, InsertAt::Before(name) if is_anchor(name)) {
                    put(m, pending.take())?;
                }
                let after = matches!(at, InsertAt::After(name) if is_anchor(name));
                put(m, Some((k, v)))?;
                if after {
                    put(m, pending.take())?;
                }
            }
            put(m, pending.take())?;
        }
    }
    Ok(())
}

/// The path of the first place where `a` and `b` differ (key order counts).
fn first_difference(a: &Value, b: &Value, path: Path) -> Option<Path> {
    let mut below = difference_below(a, b)?;
    below.reverse();
    let mut path = path;
    path.segs.extend(below);
    Some(path)
}

/// The steps from `a` down to the first place where `a` and `b` differ, deepest first; built
/// only when they differ, so that equal trees cost no allocation.
fn difference_below(a: &Value, b: &Value) -> Option<Vec<Seg>> {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() {
                return Some(Vec::new());
            }
            for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                if ka != kb {
                    return Some(Vec::new());
                }
                if let Some(mut below) = difference_below(va, vb) {
                    below.push(Seg::Key(match ka {
                        Value::Scalar(Yaml::String(s)) => s.clone(),
                        other => format!("{:?}", other.to_yaml()),
                    }));
                    return Some(below);
                }
            }
            None
        }
        (Value::Seq(x), Value::Seq(y)) => {
            if x.len() != y.len() {
                return Some(Vec::new());
            }
            x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| {
                let mut below = difference_below(va, vb)?;
                below.push(Seg::Index(i));
                Some(below)
            })
        }
        _ if a == b => None,
        _ => Some(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_yaml_is_loaded_within_the_limits() {
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        assert!(load_within_limits(&bomb).is_err());
        let docs = load_within_limits("services:\n  web: &w {image: x}\n  db: *w\n");
        let docs = docs.expect("loads");
        assert_eq!(docs[0]["services"]["db"]["image"].as_str(), Some("x"));
    }

    /// Loads `text` through [`load_counted`], as the guard now does.
    fn one_pass(text: &str) -> Result<Vec<Yaml>, String> {
        let (over, loaded) = load_counted(text);
        if let Some(what) = over {
            return Err(format!("over: {what}"));
        }
        loaded
            .map(|docs| docs.iter().map(Value::to_yaml).collect())
            .map_err(|e| e.to_string())
    }

    fn two_passes(text: &str) -> Result<Vec<Yaml>, String> {
        let mut counter = Counter::default();
        if may_exceed_limits(text) {
            let mut receiver = CountOnly(&mut counter);
            let _ = Parser::new_from_str(text).load(&mut receiver, true);
        }
        if let Some(what) = counter.over {
            return Err(format!("over: {what}"));
        }
        load(text).map_err(|e| e.to_string())
    }

    struct CountOnly<'a>(&'a mut Counter);

    impl MarkedEventReceiver for CountOnly<'_> {
        fn on_event(&mut self, event: Event, _mark: Marker) {
            self.0.count(&event);
        }
    }

    #[test]
    fn changes_apply_as_intended_and_an_existing_key_is_refused() {
        let (_, loaded) = load_counted("a: 1\nb: {c: 2}\nd: [x]\n");
        let mut docs = loaded.expect("loads");
        let insert = |at: InsertAt, key: &str| Change::Insert {
            mapping: Path::root(0),
            at,
            key: key.to_owned(),
            value: crate::NewValue::string("v"),
        };
        apply_change(&mut docs, &insert(InsertAt::Before("b".into()), "n")).expect("applies");
        apply_change(&mut docs, &insert(InsertAt::After("b".into()), "m")).expect("applies");
        let set = Change::Set {
            path: Path::root(0).key("b").key("c"),
            value: crate::NewValue::string("3"),
        };
        apply_change(&mut docs, &set).expect("applies");
        let append = Change::Append {
            sequence: Path::root(0).key("d"),
            value: crate::NewValue::string("y"),
        };
        apply_change(&mut docs, &append).expect("applies");
        let (_, expected) = load_counted("a: 1\nn: v\nb: {c: '3'}\nm: v\nd: [x, y]\n");
        assert_eq!(docs, expected.expect("loads"));
        let again = apply_change(&mut docs, &insert(InsertAt::First, "b"));
        assert!(
            matches!(again, Err(GuardError::ChangeDoesNotApply(_))),
            "{again:?}"
        );
    }

    #[test]
    fn tree_builder_matches_yaml_loader() {
        let texts = [
            "a: 1\nb: [x, 'y', \"z\"]\nc: {d: ~, e: null}\n",
            "a: !!str 1\nb: !!int 2\nc: !!int x\nd: !!float 1.5\ne: !!float .inf\nf: !!float inf\ng: !!bool True\nh: !!bool yes\ni: !!null ~\nj: !!null x\nk: !custom v\nl: !!map {}\n",
            "a: &x {b: 1}\nc: *x\nd: &y [1, *x]\ne: *y\n",
            "a: 1\na: 2\n",
            "--- 1\n--- [2]\n...\n---\n",
            "",
            "a: *unknown\n",
            "a: [b,\n  c\n]\n",
            "key: [a,\nb]\n",
            "a: 'unterminated\n",
            "? [a, b]\n: c\n",
            "a: &a [*a]\n",
            "x: 0x1F\ny: 0o17\nz: 1e3\nw: -.5\nv: .NaN\n",
        ];
        for text in texts {
            assert_eq!(one_pass(text), two_passes(text), "{text:?}");
        }
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        assert_eq!(one_pass(bomb), two_passes(bomb));
        assert!(one_pass(bomb).is_err_and(|e| e.starts_with("over:")));
    }

    /// Every corpus file: the sample in `testdata/corpus` always, the full corpus when it is
    /// beside the clone (one `skipped:` line otherwise).
    #[test]
    fn tree_builder_matches_yaml_loader_on_the_corpus() {
        for root in harden_testserver::corpus_roots("the guard's one-pass loader") {
            let mut stack = vec![root.path.clone()];
            let mut files = 0;
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                        let Ok(text) = std::fs::read_to_string(&path) else {
                            continue;
                        };
                        assert_eq!(one_pass(&text), two_passes(&text), "{}", path.display());
                        files += 1;
                    }
                }
            }
            assert!(files > 0, "no YAML file under {}", root.path.display());
        }
    }
}
