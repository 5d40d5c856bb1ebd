//! `yaml`: parse; if it parses, an empty edit set gives the input back byte for byte, and a
//! random set of edits (replace scalars, set comments, insert entries First/Last/Before/After,
//! append items) through `apply_verified` is either refused with an error or gives a text that
//! parses again and keeps every comment.

use std::collections::BTreeMap;

use harden_yaml::{
    ApplyError, Document, EditSet, GuardError, InsertAt, NewEntry, NewValue, Node, NodeKind, Path,
};

use crate::check;
use crate::engine::{CaseResult, Problem, Target};
use crate::mutate::Flavor;
use crate::rng::Rng;

/// Strings written by the random edits: everything YAML could misread.
pub const VALUES: &[&str] = &[
    "",
    "x",
    "actions/checkout@0123456789abcdef0123456789abcdef01234567",
    "yes",
    "on",
    "No",
    "null",
    "~",
    "1",
    "0x1F",
    "1e3",
    ".nan",
    "a: b",
    "a:b",
    "a #b",
    "#x",
    "- x",
    "-",
    "?",
    "[x]",
    "{x}",
    "x, y",
    "'q'",
    "\"dq\"",
    "it's",
    "back\\slash",
    "tab\tx",
    "line\nbreak",
    "cr\rx",
    "trail ",
    " lead",
    "é😀",
    "\u{feff}bom",
    "\u{85}nel",
    "\u{2028}",
    "nul\u{0}x",
    "${{ matrix.x }}",
    "*alias",
    "&anchor",
    "!tag",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "k: v\n- y",
    "---",
    "...",
    "0123456789abcdef0123456789abcdef01234567",
];

/// Comments written by the random edits.
const COMMENTS: &[&str] = &[
    "v4.2.2",
    "",
    "#",
    "a # b",
    "x\ny",
    "é",
    "   spaced   ",
    "\r",
    "v1 (security)",
    // Issue 28: a step name's bidirectional override and zero-width characters.
    "Publish \u{202e}exe.tpircs\u{202c}",
    "x\u{200b}y\u{2066}\u{feff}\u{85}\u{2028}\u{1b}[31m",
];

/// Keys of inserted entries.
const KEYS: &[&str] = &[
    "permissions",
    "contents",
    "on",
    "new",
    "a: b",
    "",
    "k k",
    "#k",
    "- k",
    "<<",
    "é",
];

/// The YAML-layer target.
pub struct YamlTarget {
    seeds: Vec<Vec<u8>>,
}

impl YamlTarget {
    /// A target over these seeds.
    pub fn new(seeds: Vec<Vec<u8>>) -> Self {
        YamlTarget { seeds }
    }
}

/// Every node path of the document, up to `limit`, without recursion.
pub fn node_paths(doc: &Document, limit: usize) -> Vec<(Path, &Node)> {
    let mut out = Vec::new();
    let mut todo: Vec<(Path, &Node)> = doc
        .documents()
        .iter()
        .enumerate()
        .map(|(i, n)| (Path::root(i), n))
        .collect();
    while let Some((path, node)) = todo.pop() {
        if out.len() >= limit {
            break;
        }
        match &node.kind {
            NodeKind::Mapping(m) => {
                for e in &m.entries {
                    if let Some(k) = e.key_str() {
                        todo.push((path.key(k), &e.value));
                    }
                }
            }
            NodeKind::Sequence(s) => {
                for (i, item) in s.items.iter().enumerate() {
                    todo.push((path.index(i), item));
                }
            }
            _ => {}
        }
        out.push((path, node));
    }
    out
}

/// A random value to write, at most `depth` levels deep; `NewValue::Plain` (written verbatim,
/// so its meaning is the caller's business) only with `plain`.
pub fn random_value(rng: &mut Rng, depth: usize, plain: bool) -> NewValue {
    let string = |rng: &mut Rng| rng.pick(VALUES).copied().unwrap_or("x").to_owned();
    match rng.below(if depth == 0 { 2 } else { 5 }) {
        0 => NewValue::String(string(rng)),
        1 if !plain => NewValue::String(string(rng)),
        1 => NewValue::Plain(
            rng.pick(&[
                "7", "true", "weekly", "read", "write", "~", "", "a: b", "[x]",
            ])
            .copied()
            .unwrap_or("x")
            .to_owned(),
        ),
        2 | 3 => {
            let n = rng.below(3);
            let entries = (0..n)
                .map(|i| {
                    let key = format!("{}{i}", rng.pick(KEYS).copied().unwrap_or("k"));
                    let mut e = NewEntry::new(key, random_value(rng, depth - 1, plain));
                    if rng.one_in(3) {
                        e = e.with_comment(rng.pick(COMMENTS).copied().unwrap_or("c"));
                    }
                    e
                })
                .collect();
            NewValue::Mapping(entries)
        }
        _ => {
            let n = rng.below(3);
            NewValue::Sequence(
                (0..n)
                    .map(|_| random_value(rng, depth - 1, plain))
                    .collect(),
            )
        }
    }
}

impl Target for YamlTarget {
    fn name(&self) -> &'static str {
        "yaml"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        let text = String::from_utf8_lossy(input).into_owned();
        let doc = match Document::parse(text.clone()) {
            Ok(doc) => doc,
            Err(e) => {
                let loc = e.location();
                let lines = text.split('\n').count();
                if loc.line == 0 || loc.line > lines + 1 || loc.column == 0 {
                    return Err(format!("parse error located outside the text: {e}").into());
                }
                let _ = e.message();
                return Ok("parse-error");
            }
        };
        check::spans_are_sane(&doc)?;
        let empty = EditSet::new(&doc);
        match empty.apply_verified() {
            Ok(same) if same == text => {}
            Ok(_) => return Err("an empty edit set changed the text".into()),
            Err(e) => return Err(format!("an empty edit set failed: {e}").into()),
        }
        edit_randomly(&doc, choices)
    }
}

/// One random edit.
#[derive(Debug, Clone)]
pub enum Op {
    /// `replace_scalar`.
    Replace(Path, String),
    /// `set_comment`.
    Comment(Path, &'static str),
    /// `insert_entry`.
    Insert(Path, InsertAt, NewEntry),
    /// `append_item`.
    Append(Path, NewValue),
}

fn describe_node(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar(s) => format!("{:?} scalar", s.style),
        NodeKind::Mapping(m) => format!("{} mapping", if m.flow { "flow" } else { "block" }),
        NodeKind::Sequence(q) => format!("{} sequence", if q.flow { "flow" } else { "block" }),
        NodeKind::Alias(_) => "alias".to_owned(),
    }
}

impl Op {
    /// What the edit is, for grouping guard refusals by cause.
    pub fn describe(&self, doc: &Document) -> String {
        let on = |p: &Path| {
            doc.get(p)
                .map_or_else(|| "nothing".to_owned(), describe_node)
        };
        match self {
            Op::Replace(p, _) => format!("replace_scalar on a {}", on(p)),
            Op::Comment(p, _) => format!("set_comment on a {}", on(p)),
            Op::Insert(p, at, _) => {
                let at = match at {
                    InsertAt::First => "First",
                    InsertAt::Last => "Last",
                    InsertAt::Before(_) => "Before",
                    InsertAt::After(_) => "After",
                };
                format!("insert_entry {at} into a {}", on(p))
            }
            Op::Append(p, _) => format!("append_item to a {}", on(p)),
        }
    }

    /// Adds the edit to `edits`; true when it was accepted.
    pub fn apply(&self, edits: &mut EditSet<'_>) -> bool {
        match self {
            Op::Replace(p, v) => edits.replace_scalar(p, v).is_ok(),
            Op::Comment(p, c) => edits.set_comment(p, c).is_ok(),
            Op::Insert(p, at, e) => edits.insert_entry(p, at.clone(), e.clone()).is_ok(),
            Op::Append(p, v) => edits.append_item(p, v.clone()).is_ok(),
        }
    }
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

/// True when the value holds a `Plain` scalar or a comment with a line break: the edit layer
/// writes those as given, so what they mean is the caller's business.
fn verbatim(value: &NewValue) -> bool {
    match value {
        NewValue::String(_) => false,
        NewValue::Plain(_) => true,
        NewValue::Mapping(entries) => entries
            .iter()
            .any(|e| e.comment.as_deref().is_some_and(has_line_break) || verbatim(&e.value)),
        NewValue::Sequence(items) => items.iter().any(verbatim),
    }
}

impl Op {
    fn is_verbatim(&self) -> bool {
        match self {
            Op::Replace(..) => false,
            Op::Comment(_, c) => has_line_break(c),
            Op::Insert(_, _, e) => {
                e.comment.as_deref().is_some_and(has_line_break) || verbatim(&e.value)
            }
            Op::Append(_, v) => verbatim(v),
        }
    }
}

/// Picks 1 to 4 random edits on `doc`.
pub fn random_ops(doc: &Document, choices: &mut Rng) -> Vec<Op> {
    let paths = node_paths(doc, 5000);
    let plain = choices.one_in(4);
    let mut ops = Vec::new();
    for _ in 0..choices.range(1, 4) {
        let Some((path, node)) = choices.pick(&paths).cloned() else {
            break;
        };
        let op = match choices.below(5) {
            0 | 1 => {
                let value = if choices.one_in(3) {
                    // A small change of the current value.
                    let mut v = node.as_str().unwrap_or_default().to_owned();
                    v.push_str(choices.pick(VALUES).copied().unwrap_or("x"));
                    v
                } else {
                    choices.pick(VALUES).copied().unwrap_or("x").to_owned()
                };
                Op::Replace(path, value)
            }
            2 => Op::Comment(path, choices.pick(COMMENTS).copied().unwrap_or("c")),
            3 => {
                let keys: Vec<String> = node
                    .as_mapping()
                    .map(|m| {
                        m.entries
                            .iter()
                            .filter_map(|e| e.key_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let existing = choices
                    .pick(&keys)
                    .cloned()
                    .unwrap_or_else(|| "missing".to_owned());
                let at = match choices.below(5) {
                    0 => InsertAt::First,
                    1 => InsertAt::Last,
                    2 => InsertAt::Before(existing),
                    3 => InsertAt::After(existing),
                    _ => InsertAt::Before("no-such-key".to_owned()),
                };
                let key = choices.pick(KEYS).copied().unwrap_or("k").to_owned();
                let mut entry = NewEntry::new(key, random_value(choices, 2, plain));
                if choices.one_in(3) {
                    entry = entry.with_comment(choices.pick(COMMENTS).copied().unwrap_or("c"));
                }
                Op::Insert(path, at, entry)
            }
            _ => Op::Append(path, random_value(choices, 2, plain)),
        };
        ops.push(op);
    }
    ops
}

/// Makes 1 to 4 random edits on `doc` and checks `apply_verified`'s answer: an edit error, a
/// guard refusal (reported with the single edit that causes it, when one does), or a text that
/// parses again and keeps every comment the edits did not replace.
pub fn edit_randomly(doc: &Document, choices: &mut Rng) -> CaseResult {
    let ops = random_ops(doc, choices);
    let spacing = choices.one_in(4).then(|| choices.range(0, 3));
    let build = |ops: &[Op]| {
        let mut edits = EditSet::new(doc);
        if let Some(n) = spacing {
            edits.set_comment_spacing(n);
        }
        let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
        let mut accepted = Vec::new();
        for op in ops {
            let existing = match op {
                Op::Comment(p, _) => doc.get(p).and_then(|n| doc.comment_after(n)),
                _ => None,
            };
            if op.apply(&mut edits) {
                accepted.push(op.clone());
                if let Some(c) = existing {
                    let text = doc.text().get(c.span.range()).unwrap_or_default();
                    *dropped.entry(text.trim_end().to_owned()).or_default() += 1;
                }
            }
        }
        (edits, dropped, accepted)
    };
    let (edits, dropped, accepted) = build(&ops);
    if edits.is_empty() {
        return Ok("no-edit-applied");
    }
    let verified = edits.apply_verified();
    if std::env::var_os("HARDEN_FUZZ_DEBUG").is_some() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "input: {:?}\nops: {:?}\nsplices: {:?}\nresult: {:?}",
            doc.text(),
            accepted,
            edits.splices(),
            verified
        );
    }
    match verified {
        Ok(out) => {
            let after = Document::parse(out.clone()).map_err(|e| {
                format!(
                    "the guard accepted a text that Document::parse rejects: {}\n{e}\n{out}",
                    e.message()
                )
            })?;
            if check::has_lone_cr(doc.text()) {
                // A lone CR ends a line for YAML but not for harden-yaml's comment finder (a
                // reported bug, `regressions::lone_cr_ends_a_comment`): comments cannot be
                // compared here.
                return Ok("edited-lone-cr");
            }
            check::comments_kept(doc, &after, &dropped)
                .map_err(|e| format!("{e}; output:\n{out}"))?;
            check::new_comments_are_safe(doc, &after)
                .map_err(|e| format!("{e}; output:\n{out}"))?;
            Ok("edited")
        }
        Err(ApplyError::Edit(_)) => Ok("edit-error"),
        Err(ApplyError::Guard(_)) if accepted.iter().any(Op::is_verbatim) => {
            Ok("verbatim-value-refused")
        }
        Err(ApplyError::Guard(e)) => {
            let what = match e {
                GuardError::InputUnreadable(_) => {
                    return Err(Problem::refused(
                        "yaml-rust2 cannot load an input that Document::parse accepts",
                    ))
                }
                GuardError::OutputUnreadable(_) => "the edited text does not load",
                GuardError::ChangeDoesNotApply(_) => "an intended change does not apply",
                GuardError::Mismatch(_) => "the edited data differs from the intended change",
            };
            // Which edit alone is refused?
            let culprit = accepted
                .iter()
                .find(|op| {
                    let (alone, _, _) = build(std::slice::from_ref(*op));
                    matches!(alone.apply_verified(), Err(ApplyError::Guard(_)))
                })
                .map_or_else(
                    || "a combination of edits".to_owned(),
                    |op| op.describe(doc),
                );
            Err(Problem::refused(format!("{what}: {culprit}")))
        }
    }
}
