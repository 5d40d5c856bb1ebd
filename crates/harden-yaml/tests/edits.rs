//! One case per edge of the lossless layer: spans, queries, every kind of edit, the guard.

use harden_yaml::{
    apply_splices, guard, Change, Document, EditError, EditSet, InsertAt, LineEnding, NewEntry,
    NewValue, NodeKind, ParseError, Path, ScalarStyle, Span, Splice,
};

fn testdata(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/yaml")
        .join(name);
    std::fs::read_to_string(&p).expect("testdata file")
}

fn parse(text: &str) -> Document {
    Document::parse(text).expect("valid YAML")
}

fn p(segs: &str) -> Path {
    // "jobs.build.steps.0.uses" -> path; numbers are indices.
    let mut path = Path::root(0);
    for s in segs.split('.').filter(|s| !s.is_empty()) {
        path = match s.parse::<usize>() {
            Ok(i) => path.index(i),
            Err(_) => path.key(s),
        };
    }
    path
}

fn token_text<'d>(doc: &'d Document, path: &str) -> &'d str {
    let node = doc.get(&p(path)).expect("node exists");
    let s = node.as_scalar().expect("scalar");
    &doc.text()[s.token.range()]
}

fn edit(text: &str, f: impl FnOnce(&mut EditSet<'_>)) -> String {
    let doc = parse(text);
    let mut edits = EditSet::new(&doc);
    f(&mut edits);
    edits.apply_verified().expect("edit passes the guard")
}

#[test]
fn spans_are_exact_for_every_scalar_style() {
    let doc = parse(&testdata("kitchen-sink.yml"));
    assert_eq!(token_text(&doc, "name"), "\"Kitchen sink\"");
    assert_eq!(token_text(&doc, "on.push.branches.1"), "'release/*'");
    assert_eq!(token_text(&doc, "env.GREETING"), "héllo wörld ✓");
    assert_eq!(
        token_text(&doc, "jobs.build.steps.4.uses"),
        "\"actions/cache@v4\""
    );
    assert_eq!(
        token_text(&doc, "jobs.build.steps.3.uses"),
        "'actions/setup-node@v4'"
    );
    assert_eq!(token_text(&doc, "jobs.test.steps.0.run"), "\"tab\\there\"");
    let literal = token_text(&doc, "jobs.build.steps.1.run");
    assert!(
        literal.starts_with("|+") && literal.ends_with("@v4\"\n"),
        "{literal:?}"
    );
    let folded = token_text(&doc, "jobs.build.steps.2.run");
    assert!(
        folded.starts_with(">-") && folded.ends_with("two"),
        "{folded:?}"
    );
    let empty = doc.get(&p("env.EMPTY")).expect("EMPTY");
    assert!(empty.is_empty_scalar());
    assert_eq!(
        doc.get(&p("jobs.test.steps.0.run"))
            .and_then(|n| n.as_str()),
        Some("tab\there")
    );
}

#[test]
fn collections_know_flow_style_and_indentation() {
    let doc = parse(&testdata("kitchen-sink.yml"));
    let steps = doc
        .get(&p("jobs.build.steps"))
        .and_then(|n| n.as_sequence())
        .expect("steps");
    assert!(!steps.flow);
    assert_eq!(steps.indent, 6);
    let test_steps = doc
        .get(&p("jobs.test.steps"))
        .and_then(|n| n.as_sequence())
        .expect("steps");
    assert_eq!(
        test_steps.indent, 4,
        "a sequence not indented under its key"
    );
    let flow = doc
        .get(&p("defaults"))
        .and_then(|n| n.as_mapping())
        .expect("defaults");
    assert!(flow.flow);
    assert_eq!(
        &doc.text()[doc.get(&p("defaults")).expect("d").span.range()],
        "{run: {shell: bash}}"
    );
    let build = doc
        .get(&p("jobs.build"))
        .and_then(|n| n.as_mapping())
        .expect("build");
    assert_eq!(build.indent, 4);
    assert_eq!(doc.indent_unit(), 2);
    assert_eq!(doc.line_ending(), LineEnding::Lf);
}

#[test]
fn anchors_and_aliases() {
    let doc = parse(&testdata("kitchen-sink.yml"));
    assert_eq!(
        doc.get(&p("env")).and_then(|n| n.anchor.as_deref()),
        Some("env")
    );
    let alias = doc.get(&p("jobs.build.env")).expect("alias");
    assert_eq!(alias.kind, NodeKind::Alias("env".into()));
    assert_eq!(
        doc.alias_paths(&p("env.GREETING")),
        vec![p("jobs.build.env.GREETING")]
    );
    // Editing through the anchor changes the alias too, and the guard knows it.
    let out = edit(&testdata("kitchen-sink.yml"), |e| {
        e.replace_scalar(&p("env.GREETING"), "bye")
            .expect("replace");
    });
    assert!(out.contains("  GREETING: bye\n"));
}

#[test]
fn queries_with_wildcards() {
    let doc = parse(&testdata("kitchen-sink.yml"));
    let uses: Vec<String> = doc
        .query("jobs.*.steps[*].uses")
        .into_iter()
        .map(|(path, node)| format!("{path}={}", node.as_str().unwrap_or("?")))
        .collect();
    assert_eq!(
        uses,
        [
            "jobs.build.steps[0].uses=actions/checkout@v4",
            "jobs.build.steps[3].uses=actions/setup-node@v4",
            "jobs.build.steps[4].uses=actions/cache@v4",
        ]
    );
    assert_eq!(doc.query("jobs.build.steps[1].name").len(), 1);
    assert!(doc.query("nothing.*").is_empty());
}

#[test]
fn comments_are_found_outside_scalars_only() {
    let doc = parse(&testdata("kitchen-sink.yml"));
    let comments: Vec<&str> = doc
        .comments()
        .iter()
        .map(|c| &doc.text()[c.span.range()])
        .collect();
    assert_eq!(
        comments,
        [
            "# A file with most of what YAML allows in a workflow.",
            "# trailing comment",
            "# flow sequence",
            "# keep me",
        ]
    );
}

#[test]
fn multi_document_streams() {
    let doc = parse(&testdata("multi-doc.yml"));
    assert_eq!(doc.documents().len(), 2);
    let second = Path::root(1).key("second");
    let out = edit(&testdata("multi-doc.yml"), |e| {
        e.append_item(&second, NewValue::string("c"))
            .expect("append");
    });
    assert!(out.ends_with("  - b\n  - c\n"), "{out}");
}

#[test]
fn duplicate_keys_name_both_lines() {
    let err = Document::parse(testdata("duplicate-keys.yml")).expect_err("duplicate");
    match err {
        ParseError::DuplicateKey {
            key,
            first_line,
            second,
        } => {
            assert_eq!(key, "build");
            assert_eq!(first_line, 2);
            assert_eq!((second.line, second.column), (4, 3));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn invalid_yaml_gives_line_and_column() {
    let err = Document::parse(testdata("invalid.yml")).expect_err("invalid");
    let loc = err.location();
    assert!(loc.line >= 4, "{err}");
    assert!(err
        .to_string()
        .starts_with(&format!("{}:{}:", loc.line, loc.column)));
}

#[test]
fn replace_scalar_keeps_quote_style() {
    let text = "a: plain\nb: 'single'\nc: \"double\"\nd: x # c\n";
    let out = edit(text, |e| {
        e.replace_scalar(&p("a"), "new").expect("a");
        e.replace_scalar(&p("b"), "it's").expect("b");
        e.replace_scalar(&p("c"), "say \"hi\"").expect("c");
        e.replace_scalar(&p("d"), "needs: quoting").expect("d");
    });
    assert_eq!(
        out,
        "a: new\nb: 'it''s'\nc: \"say \\\"hi\\\"\"\nd: 'needs: quoting' # c\n"
    );
}

#[test]
fn replace_scalar_quotes_what_would_change_type() {
    let out = edit("a: x\nb: x\nc: x\n", |e| {
        e.replace_scalar(&p("a"), "true").expect("a");
        e.replace_scalar(&p("b"), "123").expect("b");
        e.replace_scalar(&p("c"), "on").expect("c");
    });
    assert_eq!(out, "a: 'true'\nb: '123'\nc: 'on'\n");
}

#[test]
fn replace_an_empty_value() {
    let out = edit("a:\nb: 1\n", |e| e.replace_scalar(&p("a"), "x").expect("a"));
    assert_eq!(out, "a: x\nb: 1\n");
}

#[test]
fn block_scalars_cannot_be_replaced_or_commented() {
    let doc = parse("run: |\n  echo\n");
    let mut e = EditSet::new(&doc);
    assert!(matches!(
        e.replace_scalar(&p("run"), "x"),
        Err(EditError::Unsupported(_))
    ));
    assert!(matches!(
        e.set_comment(&p("run"), "x"),
        Err(EditError::CommentNotAllowed { .. })
    ));
}

#[test]
fn set_comment_adds_or_replaces() {
    let out = edit("a: 1\nb: 2   # old\nc: 3 # x\nd: 4 # y\n", |e| {
        e.set_comment(&p("a"), "new").expect("a");
        e.set_comment(&p("b"), "newer").expect("b");
    });
    assert_eq!(out, "a: 1 # new\nb: 2   # newer\nc: 3 # x\nd: 4 # y\n");
}

#[test]
fn set_comment_replaces_the_comment_of_an_empty_value() {
    let out = edit("a:\n  - # old\n  - x\nb: # old\nc: 1\n", |e| {
        e.set_comment(&p("a.0"), "new").expect("a.0");
        e.set_comment(&p("b"), "newer").expect("b");
    });
    assert_eq!(out, "a:\n  - # new\n  - x\nb: # newer\nc: 1\n");
}

#[test]
fn set_comment_follows_two_space_files() {
    let out = edit("a: 1  # one\nb: 2  # two\nc: 3\n", |e| {
        e.set_comment(&p("c"), "x").expect("c")
    });
    assert_eq!(out, "a: 1  # one\nb: 2  # two\nc: 3  # x\n");
}

#[test]
fn set_comment_in_flow_is_refused() {
    let doc = parse("s: [{uses: a@v1, with: {x: 1}}]\n");
    let mut e = EditSet::new(&doc);
    let err = e.set_comment(&Path::root(0).key("s").index(0).key("uses"), "v1.0.0");
    assert!(matches!(err, Err(EditError::CommentNotAllowed { .. })));
}

#[test]
fn flow_values_are_replaced_in_place() {
    let out = edit("s: [{uses: a@v1, with: {x: 1}}] # c\n", |e| {
        e.replace_scalar(&Path::root(0).key("s").index(0).key("uses"), "a@abc")
            .expect("r");
    });
    assert_eq!(out, "s: [{uses: a@abc, with: {x: 1}}] # c\n");
}

fn permissions() -> NewEntry {
    NewEntry::new(
        "permissions",
        NewValue::Mapping(vec![NewEntry::new("contents", NewValue::string("read"))]),
    )
}

#[test]
fn insert_before_a_key_goes_above_its_comments_and_keeps_blank_lines() {
    let text = "on: push\n\n# The jobs\njobs:\n  a: 1\n";
    let out = edit(text, |e| {
        e.insert_entry(
            &Path::root(0),
            InsertAt::Before("jobs".into()),
            permissions(),
        )
        .expect("i")
    });
    assert_eq!(
        out,
        "on: push\n\npermissions:\n  contents: read\n\n# The jobs\njobs:\n  a: 1\n"
    );
}

#[test]
fn insert_first_and_last_at_the_mapping_indentation() {
    let text = "jobs:\n    build:\n        runs-on: x\n        steps: []\n";
    let out = edit(text, |e| {
        let build = p("jobs.build");
        e.insert_entry(&build, InsertAt::First, permissions())
            .expect("first");
        e.insert_entry(
            &build,
            InsertAt::Last,
            NewEntry::new("timeout-minutes", NewValue::Plain("5".into())),
        )
        .expect("last");
    });
    assert_eq!(
        out,
        "jobs:\n    build:\n        permissions:\n            contents: read\n        runs-on: x\n        steps: []\n        timeout-minutes: 5\n"
    );
}

#[test]
fn insert_first_in_a_sequence_item_mapping() {
    let out = edit("steps:\n  - uses: a\n    with: {}\n", |e| {
        e.insert_entry(
            &p("steps.0"),
            InsertAt::First,
            NewEntry::new("name", NewValue::string("x")),
        )
        .expect("i");
    });
    assert_eq!(out, "steps:\n  - name: x\n    uses: a\n    with: {}\n");
}

#[test]
fn insert_after_a_block_value_and_at_end_without_newline() {
    let out = edit("a:\n  x: |\n    text\n  y: 1\nb: 2", |e| {
        e.insert_entry(
            &p("a"),
            InsertAt::After("x".into()),
            NewEntry::new("m", NewValue::string("v")),
        )
        .expect("after x");
        e.insert_entry(
            &Path::root(0),
            InsertAt::Last,
            NewEntry::new("c", NewValue::string("3")),
        )
        .expect("last");
    });
    assert_eq!(out, "a:\n  x: |\n    text\n  m: v\n  y: 1\nb: 2\nc: '3'");
}

#[test]
fn insert_with_comments_and_nested_sequences() {
    let entry = NewEntry::new(
        "permissions",
        NewValue::Mapping(vec![
            NewEntry::new("contents", NewValue::string("write"))
                .with_comment("creates the release"),
            NewEntry::new(
                "list",
                NewValue::Sequence(vec![NewValue::string("a"), NewValue::string("b")]),
            ),
        ]),
    );
    let out = edit("jobs:\n  a:\n    runs-on: x\n", |e| {
        e.insert_entry(&p("jobs.a"), InsertAt::First, entry)
            .expect("insert");
    });
    assert_eq!(
        out,
        "jobs:\n  a:\n    permissions:\n      contents: write # creates the release\n      list:\n        - a\n        - b\n    runs-on: x\n"
    );
}

#[test]
fn insert_into_flow_mapping() {
    let out = edit("a: {x: 1}\nb: {}\n", |e| {
        e.insert_entry(
            &p("a"),
            InsertAt::Last,
            NewEntry::new("w", NewValue::Plain("2".into())),
        )
        .expect("a");
        e.insert_entry(
            &p("b"),
            InsertAt::Last,
            NewEntry::new("z", NewValue::string("w")),
        )
        .expect("b");
    });
    assert_eq!(out, "a: {x: 1, w: 2}\nb: {z: w}\n");
}

#[test]
fn insert_refuses_an_existing_key() {
    let doc = parse("a: 1\n");
    let mut e = EditSet::new(&doc);
    let r = e.insert_entry(
        &Path::root(0),
        InsertAt::Last,
        NewEntry::new("a", NewValue::string("2")),
    );
    assert!(matches!(r, Err(EditError::KeyExists { .. })));
}

#[test]
fn crlf_and_bom_are_kept() {
    let out = edit(&testdata("crlf.yml"), |e| {
        e.insert_entry(
            &p("b"),
            InsertAt::After("c".into()),
            NewEntry::new("m", NewValue::string("v")),
        )
        .expect("i");
        e.append_item(&p("b.d"), NewValue::string("z"))
            .expect("append");
    });
    assert_eq!(
        out,
        "a: 1\r\nb:\r\n  c: 2\r\n  m: v\r\n  d:\r\n    - x\r\n    - z\r\n"
    );
    let out = edit(&testdata("bom.yml"), |e| {
        e.insert_entry(
            &Path::root(0),
            InsertAt::First,
            NewEntry::new("on", NewValue::string("push")),
        )
        .expect("i");
    });
    assert!(
        out.starts_with("\u{feff}'on': push\nname: bom\n"),
        "{out:?}"
    );
}

#[test]
fn append_item_to_block_and_flow_sequences() {
    let out = edit("a:\n- x\nb: [1]\nc: []\n", |e| {
        e.append_item(
            &p("a"),
            NewValue::Mapping(vec![
                NewEntry::new("k", NewValue::string("v")),
                NewEntry::new("l", NewValue::string("w")),
            ]),
        )
        .expect("a");
        e.append_item(&p("b"), NewValue::Plain("2".into()))
            .expect("b");
        e.append_item(&p("c"), NewValue::string("z")).expect("c");
    });
    assert_eq!(out, "a:\n- x\n- k: v\n  l: w\nb: [1, 2]\nc: [z]\n");
}

#[test]
fn overlapping_edits_are_an_error() {
    let doc = parse("a: 1\n");
    let mut e = EditSet::new(&doc);
    e.replace_scalar(&p("a"), "2").expect("first");
    e.replace_scalar(&p("a"), "3").expect("second");
    assert!(matches!(e.apply(), Err(EditError::Overlap { .. })));
    let two_inserts = [
        Splice {
            span: Span::new(1, 1),
            text: "x".into(),
        },
        Splice {
            span: Span::new(1, 1),
            text: "y".into(),
        },
    ];
    assert!(apply_splices("abc", &two_inserts).is_err());
}

#[test]
fn guard_catches_unintended_changes() {
    let before = "a: 1\nb: [x]\n";
    assert!(guard::verify(before, before, &[]).is_ok());
    // A change nobody asked for.
    assert!(guard::verify(before, "a: 2\nb: [x]\n", &[]).is_err());
    // A change that was asked for.
    let set = Change::Set {
        path: p("a"),
        value: NewValue::Plain("2".into()),
    };
    assert!(guard::verify(before, "a: 2\nb: [x]\n", &[set]).is_ok());
    // Output that is not YAML.
    assert!(guard::verify(before, "a: [\n", &[]).is_err());
    // Key order counts.
    let insert = Change::Insert {
        mapping: Path::root(0),
        at: InsertAt::First,
        key: "c".into(),
        value: NewValue::string("d"),
    };
    assert!(guard::verify(
        before,
        "a: 1\nb: [x]\nc: d\n",
        std::slice::from_ref(&insert)
    )
    .is_err());
    assert!(guard::verify(before, "c: d\na: 1\nb: [x]\n", &[insert]).is_ok());
}

#[test]
fn empty_edit_set_is_identity() {
    for name in ["kitchen-sink.yml", "crlf.yml", "bom.yml", "multi-doc.yml"] {
        let text = testdata(name);
        let doc = parse(&text);
        assert_eq!(
            EditSet::new(&doc).apply_verified().as_deref(),
            Ok(text.as_str())
        );
    }
}

#[test]
fn scalar_styles_are_reported() {
    let doc = parse(&testdata("kitchen-sink.yml"));
    let style = |path: &str| {
        doc.get(&p(path))
            .and_then(|n| n.as_scalar())
            .map(|s| s.style)
    };
    assert_eq!(style("name"), Some(ScalarStyle::DoubleQuoted));
    assert_eq!(style("on.push.branches.1"), Some(ScalarStyle::SingleQuoted));
    assert_eq!(style("jobs.build.steps.1.run"), Some(ScalarStyle::Literal));
    assert_eq!(style("jobs.build.steps.2.run"), Some(ScalarStyle::Folded));
}

#[test]
fn yaml_1_1_booleans_are_quoted_for_old_loaders() {
    let out = edit("a: x\n", |e| {
        e.insert_entry(
            &Path::root(0),
            InsertAt::Last,
            NewEntry::new("y", NewValue::string("n")),
        )
        .expect("i");
    });
    assert_eq!(out, "a: x\n'y': 'n'\n");
}

#[test]
fn several_appends_to_one_sequence_keep_their_order() {
    let out = edit("a:\n  - x\nb: []\nc: [1]\nd:\n- z", |e| {
        for (seq, items) in [
            ("a", ["p", "q"]),
            ("b", ["r", "s"]),
            ("c", ["2", "3"]),
            ("d", ["t", "u"]),
        ] {
            for item in items {
                let value = if seq == "c" {
                    NewValue::Plain(item.into())
                } else {
                    NewValue::string(item)
                };
                e.append_item(&p(seq), value).expect("append");
            }
        }
    });
    assert_eq!(
        out,
        "a:\n  - x\n  - p\n  - q\nb: [r, s]\nc: [1, 2, 3]\nd:\n- z\n- t\n- u"
    );
}

#[test]
fn appended_items_follow_blank_line_spacing() {
    let out = edit("s:\n  - a: 1\n\n  - b: 2\n", |e| {
        e.append_item(
            &p("s"),
            NewValue::Mapping(vec![NewEntry::new("c", NewValue::Plain("3".into()))]),
        )
        .expect("first");
        e.append_item(
            &p("s"),
            NewValue::Mapping(vec![NewEntry::new("d", NewValue::Plain("4".into()))]),
        )
        .expect("second");
    });
    assert_eq!(out, "s:\n  - a: 1\n\n  - b: 2\n\n  - c: 3\n\n  - d: 4\n");
}

/// A key appended to the root and an item appended to a nested sequence, at the end of a file
/// whose last lines are comments of the nested content: both go after those comments, so the
/// new root key can never land between the nested sequence and its new item (found by the
/// corpus edit test on a starter workflow).
#[test]
fn appends_at_the_end_follow_the_trailing_comments_of_nested_content() {
    let text = "jobs:\n  a:\n    steps:\n      - run: x\n        # about x\n        # more\n";
    let doc = parse(text);
    let mut root_only = EditSet::new(&doc);
    root_only
        .insert_entry(
            &Path::root(0),
            InsertAt::Last,
            NewEntry::new("z", NewValue::string("1")),
        )
        .expect("insert");
    let out = root_only
        .apply_verified()
        .expect("root key after the comments");
    assert!(out.contains("        # more\nz: "), "{out}");
    let mut both = EditSet::new(&doc);
    both.insert_entry(
        &Path::root(0),
        InsertAt::Last,
        NewEntry::new("z", NewValue::string("1")),
    )
    .expect("insert");
    both.append_item(&p("jobs.a.steps"), NewValue::string("y"))
        .expect("append");
    // Two insertions at one point are refused rather than ordered by guess; never a broken file.
    if let Ok(out) = both.apply_verified() {
        assert!(Document::parse(out).is_ok());
    }
}

#[test]
fn an_entry_is_replaced_in_place() {
    let dirs = || {
        NewEntry::new(
            "directories",
            NewValue::Sequence(vec![
                NewValue::Plain("\"/\"".into()),
                NewValue::string("/.github/actions/x"),
            ]),
        )
    };
    // Block: the comment after the old value ends the key's line; CRLF stays CRLF.
    let block = "updates:\r\n  - package-ecosystem: npm\r\n    directory: \"/\"  # root\r\n    schedule: {interval: weekly}\r\n";
    let out = edit(block, |e| {
        e.replace_entry(&p("updates.0"), "directory", dirs())
            .expect("replace")
    });
    assert_eq!(
        out,
        "updates:\r\n  - package-ecosystem: npm\r\n    directories:  # root\r\n      - \"/\"\r\n      - /.github/actions/x\r\n    schedule: {interval: weekly}\r\n"
    );
    // On the dash line.
    let dash = "updates:\n- directory: /\n  x: 1\n";
    let out = edit(dash, |e| {
        e.replace_entry(&p("updates.0"), "directory", dirs())
            .expect("replace")
    });
    assert_eq!(
        out,
        "updates:\n- directories:\n  - \"/\"\n  - /.github/actions/x\n  x: 1\n"
    );
    // Flow.
    let flow = "updates: [{package-ecosystem: npm, directory: /, x: 1}]\n";
    let out = edit(flow, |e| {
        e.replace_entry(&p("updates.0"), "directory", dirs())
            .expect("replace")
    });
    assert_eq!(
        out,
        "updates: [{package-ecosystem: npm, directories: [\"/\", /.github/actions/x], x: 1}]\n"
    );
    // Only a one-line scalar, and never onto a key that is there.
    let doc = parse("a:\n  directory:\n    - x\n  directories: y\n");
    let mut edits = EditSet::new(&doc);
    assert!(edits.replace_entry(&p("a"), "directory", dirs()).is_err());
    assert!(edits
        .replace_entry(
            &p("a"),
            "missing",
            NewEntry::new("b", NewValue::string("c"))
        )
        .is_err());
}

#[test]
fn pieces_of_a_block_scalar_are_replaced_in_place() {
    let text = "run: |\n  echo ${{ a }}\n  echo done\nx: 1\n";
    let out = edit(text, |e| {
        let start = text.find("${{").expect("expression");
        let splice = Splice {
            span: Span::new(start, start + 8),
            text: "\"$A\"".into(),
        };
        e.replace_within_scalar(&p("run"), vec![splice], "echo \"$A\"\necho done\n")
            .expect("in the scalar");
    });
    assert_eq!(out, "run: |\n  echo \"$A\"\n  echo done\nx: 1\n");
    let doc = parse(text);
    let mut edits = EditSet::new(&doc);
    let outside = Splice {
        span: Span::new(text.len() - 2, text.len() - 1),
        text: "2".into(),
    };
    assert!(edits
        .replace_within_scalar(&p("run"), vec![outside], "x")
        .is_err());
}

#[test]
fn several_entries_inserted_last_keep_their_order() {
    for (text, expected) in [
        (
            "env:\n  A: 1\nrun: x\n",
            "env:\n  A: 1\n  B: 2\n  C: 3\nrun: x\n",
        ),
        ("env: {A: 1}\n", "env: {A: 1, B: 2, C: 3}\n"),
        ("env: {}\n", "env: {B: 2, C: 3}\n"),
    ] {
        let out = edit(text, |e| {
            for (k, v) in [("B", "2"), ("C", "3")] {
                e.insert_entry(
                    &p("env"),
                    InsertAt::Last,
                    NewEntry::new(k, NewValue::Plain(v.into())),
                )
                .expect("insert");
            }
        });
        assert_eq!(out, expected);
    }
}

#[test]
fn a_block_mapping_entry_is_replaced_in_place() {
    let block = || {
        NewEntry::new(
            "permissions",
            NewValue::Mapping(vec![
                NewEntry::new("contents", NewValue::string("read")).with_comment("checkout")
            ]),
        )
    };
    // The comments before the key and on its line stay; the old scopes and theirs go.
    let text = "jobs:\n  a:\n    # ours\n    permissions: # keep\n      contents: write # old\n      issues: write  # old too\n    steps: []\n";
    let out = edit(text, |e| {
        e.replace_block_entry(&p("jobs.a"), "permissions", block())
            .expect("replace")
    });
    assert_eq!(
        out,
        "jobs:\n  a:\n    # ours\n    permissions: # keep\n      contents: read # checkout\n    steps: []\n"
    );
    // At the end of the file, without a comment.
    let text = "permissions:\n  contents: write\n  issues: write\n";
    let out = edit(text, |e| {
        e.replace_block_entry(&p(""), "permissions", block())
            .expect("replace")
    });
    assert_eq!(out, "permissions:\n  contents: read # checkout\n");
    // Only a block mapping value.
    let doc = parse("permissions: read-all\n");
    let mut edits = EditSet::new(&doc);
    assert!(edits
        .replace_block_entry(&p(""), "permissions", block())
        .is_err());
}
