//! Flow collections whose lines are indented less than YAML 1.2 asks (a "hanging" `]` or `}`):
//! libyaml and GitHub accept them, so harden reads and edits them too (see `src/lenient.rs`).
//! One case per form found in real workflows, and the block-context errors that must stay errors.

use harden_yaml::{guard, Document, EditSet, NewEntry, NewValue, NodeKind, Path};
use yaml_rust2::{Yaml, YamlLoader};

/// pytorch/rl `nightly_build.yml`: the `]` at the column of its key.
const KEY_COLUMN: &str = "jobs:\n  build:\n    strategy:\n      matrix:\n        python: [\n          [\"3.11\", \"cp311\"],\n          [\"3.12\", \"cp312\"],\n        ]\n        os: [ubuntu-latest]\n";
/// numpy `linux_simd.yml`: a block sequence of flow sequences, each `]` at the column of its `-`.
const DASH_COLUMN: &str = "matrix:\n  include:\n    - [\n      \"a\",\n      \"b\"\n    ]\n    - [\n      \"c\"\n    ]\nafter: 1\n";
/// The same with a flow mapping.
const FLOW_MAPPING: &str = "with:\n  inputs: {\n    a: 1,\n    b: \"x\"\n  }\n  next: 2\n";
/// Items and the bracket at column 0, nested collections.
const COLUMN_ZERO: &str = "a:\n  b:\n    c: [\n1, \"x y\",\n  [2,\n3]\n]\n  d: 3\n";

/// Multi-line quoted scalars whose continuation lines are indented too little.
const QUOTED_CONTINUATION: &str = "a:\n  b: [\"x\n y\", \"x\ny\", 'x\ny', z\n  ]\n";
/// A flow mapping's entry at column 0. (A multi-line plain scalar continued at column 0 inside a
/// flow collection, `[x\ny]`, which libyaml reads as `[x y]`, is still refused: saphyr reports
/// it past the line's first token.)
const PLAIN_CONTINUATION: &str = "a:\n  b: [x, z\n  ]\n  c: {x: 1,\ny: 2}\n";

/// A quoted scalar in block context continued at column 0: libyaml does not check that either.
const BLOCK_QUOTED: &str = "a:\n  b: \"x\ny\"\n  c: 'x\ny'\n";

/// What libyaml (PyYAML's `CSafeLoader`) loads from each case, written as plain YAML.
const EXPECTED: &[(&str, &str)] = &[
    (KEY_COLUMN, "jobs: {build: {strategy: {matrix: {python: [[\"3.11\", cp311], [\"3.12\", cp312]], os: [ubuntu-latest]}}}}"),
    (DASH_COLUMN, "matrix: {include: [[a, b], [c]]}\nafter: 1"),
    (FLOW_MAPPING, "with: {inputs: {a: 1, b: x}, next: 2}"),
    (COLUMN_ZERO, "a: {b: {c: [1, \"x y\", [2, 3]]}, d: 3}"),
    (QUOTED_CONTINUATION, "a: {b: [x y, x y, x y, z]}"),
    (PLAIN_CONTINUATION, "a: {b: [x, z], c: {x: 1, y: 2}}"),
    (BLOCK_QUOTED, "a: {b: x y, c: \"x y\"}"),
];

fn expected(yaml: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(yaml).expect("expected value")
}

#[test]
fn every_form_parses_and_loads_as_libyaml_loads_it() {
    for (text, value) in EXPECTED {
        let doc = Document::parse(*text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(doc.text(), *text);
        assert_eq!(
            guard::load(text).expect("the guard loads it"),
            expected(value),
            "{text}"
        );
    }
}

#[test]
fn spans_point_into_the_original_text() {
    let doc = Document::parse(KEY_COLUMN).expect("parses");
    let python = doc
        .get(
            &Path::root(0)
                .key("jobs")
                .key("build")
                .key("strategy")
                .key("matrix")
                .key("python"),
        )
        .expect("python");
    let text = &doc.text()[python.span.range()];
    assert!(
        text.starts_with('[') && text.ends_with("        ]"),
        "{text:?}"
    );
    assert!(matches!(&python.kind, NodeKind::Sequence(s) if s.flow && s.items.len() == 2));
    let os = doc
        .get(
            &Path::root(0)
                .key("jobs")
                .key("build")
                .key("strategy")
                .key("matrix")
                .key("os"),
        )
        .expect("os");
    assert_eq!(&doc.text()[os.span.range()], "[ubuntu-latest]");
    assert_eq!((os.line, os.column), (9, 13));

    let doc = Document::parse(DASH_COLUMN).expect("parses");
    let second = doc
        .get(&Path::root(0).key("matrix").key("include").index(1))
        .expect("item");
    assert_eq!(&doc.text()[second.span.range()], "[\n      \"c\"\n    ]");
    let c = doc
        .get(&Path::root(0).key("matrix").key("include").index(1).index(0))
        .expect("c");
    assert_eq!(&doc.text()[c.span.range()], "\"c\"");
}

#[test]
fn edits_around_hanging_lines_pass_the_guard_and_keep_them() {
    let doc = Document::parse(KEY_COLUMN).expect("parses");
    let mut edits = EditSet::new(&doc);
    let matrix = Path::root(0)
        .key("jobs")
        .key("build")
        .key("strategy")
        .key("matrix");
    edits
        .replace_scalar(&matrix.key("os").index(0), "windows-latest")
        .expect("replace");
    edits
        .insert_entry(
            &Path::root(0).key("jobs").key("build"),
            harden_yaml::InsertAt::First,
            NewEntry::new(
                "permissions",
                NewValue::Mapping(vec![NewEntry::new("contents", NewValue::string("read"))]),
            ),
        )
        .expect("insert");
    let out = edits.apply_verified().expect("guard passes");
    assert!(
        out.contains("\n        ]\n        os: [windows-latest]\n"),
        "{out}"
    );
    assert!(
        out.contains("permissions:\n      contents: read\n"),
        "{out}"
    );
    Document::parse(out).expect("the output parses too");
}

#[test]
fn block_context_indentation_errors_stay_errors() {
    for bad in [
        "a:\n  b: 1\n c: 2\n",
        "a:\n    - 1\n  - 2\n",
        "a:\n  b: [1,\n  2]\n c: 3\n",
    ] {
        let doc_error = Document::parse(bad).expect_err(bad);
        assert!(doc_error.location().line >= 2, "{bad}: {doc_error}");
        assert!(guard::load(bad).is_err(), "{bad}");
    }
}
