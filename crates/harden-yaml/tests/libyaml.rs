//! harden's loader against libyaml, on every corpus file (the sample in `testdata/corpus`, and
//! the full corpus when present): both must accept the same files and read the same tree.
//!
//! libyaml is reached through PyYAML's C loader (`yaml.CSafeLoader`), which `.ci/run` installs
//! into `.ci/venv` (or set `HARDEN_PYYAML_PYTHON` to a Python that has it). The trees compared
//! are libyaml's composed nodes (scalars as the text they hold, before any typing: YAML 1.1
//! typing would read `on:` as `true`) and harden's span tree ([`Document`]), with aliases
//! expanded. Without such a Python the test prints one `skipped:` line.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};

use harden_yaml::{guard, Document, Node, NodeKind};
use serde_json::Value;

/// Reads file paths from stdin, one a line; writes one JSON line per file: the composed
/// documents (scalars as strings, sequences as lists, mappings as lists of [key, value]) or the
/// error.
const LIBYAML_DUMP: &str = r#"
import json, sys, yaml
def tree(node):
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [tree(n) for n in node.value]
    return [[tree(k), tree(v)] for k, v in node.value]
for line in sys.stdin:
    path = line.rstrip("\n")
    try:
        with open(path, "rb") as f:
            docs = [tree(d) for d in yaml.compose_all(f, Loader=yaml.CSafeLoader)]
        out = {"ok": docs}
    except Exception as e:
        out = {"error": str(e).replace("\n", " ")}
    sys.stdout.write(json.dumps(out) + "\n")
"#;

/// Files where the two disagree, each with the reason (see docs/design.md, "libyaml").
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[];

/// A Python with PyYAML's C loader, if there is one.
fn python_with_libyaml() -> Option<PathBuf> {
    let candidates = [
        harden_testserver::ci_tool("HARDEN_PYYAML_PYTHON", "python"),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", "import yaml; yaml.CSafeLoader"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn yaml_files(dir: &FsPath, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(p);
        }
    }
}

/// libyaml's reading of every file, in order.
fn libyaml(python: &FsPath, files: &[PathBuf]) -> Vec<Result<Value, String>> {
    let mut child = Command::new(python)
        .args(["-c", LIBYAML_DUMP])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let out = child.wait_with_output().expect("python finishes");
    writer.join().expect("writer").expect("write paths");
    assert!(out.status.success(), "the libyaml script failed");
    let text = String::from_utf8(out.stdout).expect("UTF-8 JSON");
    let results: Vec<Result<Value, String>> = text
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).expect("JSON line");
            match v.get_mut("ok") {
                Some(docs) => Ok(docs.take()),
                None => Err(v["error"].as_str().unwrap_or_default().to_owned()),
            }
        })
        .collect();
    assert_eq!(results.len(), files.len());
    results
}

/// harden's tree of a document as the same JSON shape, aliases expanded.
fn harden_tree(node: &Node, anchors: &mut HashMap<String, Value>) -> Value {
    let value = match &node.kind {
        NodeKind::Scalar(s) => Value::String(s.value.clone()),
        NodeKind::Sequence(s) => {
            Value::Array(s.items.iter().map(|n| harden_tree(n, anchors)).collect())
        }
        NodeKind::Mapping(m) => Value::Array(
            m.entries
                .iter()
                .map(|e| {
                    let k = harden_tree(&e.key, anchors);
                    Value::Array(vec![k, harden_tree(&e.value, anchors)])
                })
                .collect(),
        ),
        NodeKind::Alias(name) => anchors
            .get(name)
            .cloned()
            .unwrap_or_else(|| Value::String(format!("<unknown alias {name}>"))),
    };
    if let Some(anchor) = &node.anchor {
        anchors.insert(anchor.clone(), value.clone());
    }
    value
}

/// The first place two trees differ, as a short path.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{at}: {} items vs {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}/{i}")))
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

/// Compares every file of `root`; returns (files compared, disagreements by file).
fn compare(python: &FsPath, root: &FsPath) -> (usize, BTreeMap<String, String>) {
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    let theirs = libyaml(python, &files);
    let mut disagreements = BTreeMap::new();
    for (file, theirs) in files.iter().zip(theirs) {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let Ok(text) = std::fs::read_to_string(file) else {
            disagreements.insert(rel, "not UTF-8: harden does not read it".to_owned());
            continue;
        };
        let ours = Document::parse(text.as_str()).map(|doc| {
            let mut anchors = HashMap::new();
            Value::Array(
                doc.documents()
                    .iter()
                    .map(|d| harden_tree(d, &mut anchors))
                    .collect(),
            )
        });
        let guard_accepts = guard::load(text.strip_prefix('\u{feff}').unwrap_or(&text)).is_ok();
        let problem = match (&ours, &theirs) {
            (Ok(_), _) if !guard_accepts => Some("the guard's loader refuses it".to_owned()),
            (Ok(o), Ok(t)) => first_difference(o, t, "").map(|d| format!("trees differ at {d}")),
            (Err(e), Ok(_)) => Some(format!("harden refuses it ({e}), libyaml accepts it")),
            (Ok(_), Err(e)) => Some(format!("harden accepts it, libyaml refuses it ({e})")),
            (Err(_), Err(_)) => None,
        };
        if let Some(problem) = problem {
            disagreements.insert(rel, problem);
        }
    }
    (files.len(), disagreements)
}

#[test]
fn harden_reads_every_corpus_file_as_libyaml_does() {
    let Some(python) = python_with_libyaml() else {
        harden_testserver::skipped(
            "the libyaml comparison: no Python with PyYAML's C loader (install it into .ci/venv: see the README)",
        );
        return;
    };
    for root in harden_testserver::corpus_roots("harden-yaml libyaml comparison") {
        let (count, found) = compare(&python, &root.path);
        assert!(count > 400, "{}: only {count} files", root.name);
        let expected: BTreeMap<String, String> = KNOWN_DISAGREEMENTS
            .iter()
            .filter(|(f, _)| root.path.join(f).is_file())
            .map(|(f, why)| ((*f).to_owned(), (*why).to_owned()))
            .collect();
        let unexpected: Vec<String> = found
            .iter()
            .filter(|(f, _)| !expected.contains_key(*f))
            .map(|(f, why)| format!("{f}: {why}"))
            .collect();
        let gone: Vec<&String> = expected
            .keys()
            .filter(|f| !found.contains_key(*f))
            .collect();
        assert!(
            unexpected.is_empty() && gone.is_empty(),
            "{}: harden and libyaml disagree on {} of {count} files:\n{}\nlisted but agreeing now: {gone:?}",
            root.name,
            unexpected.len(),
            unexpected.join("\n")
        );
    }
}

/// Found by the comparison: a block scalar that ends the file with no final line break has no
/// final line break in its value (as libyaml reads it).
#[test]
fn block_scalar_ending_the_file_without_a_line_break() {
    for (text, value) in [
        ("run: |\n  echo a\n  echo b", "echo a\necho b"),
        ("run: >\n  a\n  b", "a b"),
        ("run: |\n  echo a\n", "echo a\n"),
        ("run: |-\n  echo a", "echo a"),
    ] {
        let doc = Document::parse(text).expect("parses");
        let run = doc.root().and_then(|r| match &r.kind {
            NodeKind::Mapping(m) => m.get("run"),
            _ => None,
        });
        let scalar = run.and_then(|e| e.value.as_scalar()).expect("run");
        assert_eq!(scalar.value, value, "{text:?}");
    }
}
