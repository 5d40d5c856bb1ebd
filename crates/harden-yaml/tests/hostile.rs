//! Hostile input (issue 17): characters that only YAML 1.1 parsers read as line breaks, alias
//! bombs, recursive aliases, and huge files whose changes must not cost quadratic time.

use std::time::{Duration, Instant};

use harden_yaml::limits::{MAX_ALIASES, MAX_ALIAS_NODES, MAX_NODES};
use harden_yaml::{guard, Change, Document, EditSet, GuardError, NewValue, Path};

fn parse_error(text: &str) -> (usize, usize, String) {
    let e = Document::parse(text).expect_err("refused");
    (e.location().line, e.location().column, e.message())
}

#[test]
fn nel_in_a_comment_hiding_a_step_is_a_located_error() {
    // Issue 17 point 2: one step for YAML 1.2, two for YAML 1.1 parsers.
    let text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4 # note\u{85}      - uses: actions/setup-node@v4\n";
    let (line, column, message) = parse_error(text);
    assert_eq!((line, column), (6, 41), "{message}");
    assert!(message.contains("U+0085"), "{message}");
    assert!(message.contains("YAML 1.1"), "{message}");
}

#[test]
fn line_and_paragraph_separators_outside_quotes_are_refused() {
    for c in ['\u{2028}', '\u{2029}'] {
        let plain = format!("a: b{c}c\n");
        assert!(Document::parse(&plain).is_err(), "{c:?} in a plain scalar");
        let key = format!("k{c}: v\n");
        assert!(Document::parse(&key).is_err(), "{c:?} in a key");
        let block = format!("run: |\n  echo{c}hi\n");
        assert!(Document::parse(&block).is_err(), "{c:?} in a block scalar");
    }
}

#[test]
fn quoted_scalars_may_hold_these_characters() {
    for text in ["a: 'x\u{85}y'\n", "a: \"x\u{2028}y\"\n", "['\u{2029}']\n"] {
        assert!(Document::parse(text).is_ok(), "{text:?}");
    }
}

#[test]
fn guard_refuses_an_output_with_a_yaml_1_1_line_break() {
    // Whatever edit path would write one, the guard's YAML 1.1 view refuses it.
    let before = "a: b\n";
    let after = "a: b # c\u{85}d: e\n";
    let err = guard::verify(before, after, &[]).expect_err("refused");
    assert!(
        matches!(err, GuardError::OutputUnreadable(ref m) if m.contains("YAML 1.1")),
        "{err}"
    );
    let set = Change::Set {
        path: Path::root(0).key("a"),
        value: NewValue::string("x\u{85}y"),
    };
    let quoted = "a: \"x\u{85}y\"\n";
    assert_eq!(guard::verify(before, quoted, &[set]), Ok(()));
    // Written by harden, such a string is an escape, never the raw character.
    for c in ['\u{85}', '\u{2028}', '\u{2029}'] {
        let text = harden_yaml::render::scalar_text(&format!("a{c}b"));
        assert!(text.starts_with('"') && !text.contains(c), "{text}");
    }
}

/// A workflow under 1 KB whose nine levels of aliases expand to 10^9 nodes.
fn alias_bomb() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text.push_str("jobs:\n  j:\n    steps:\n      - uses: actions/checkout@v4\n");
    text
}

#[test]
fn alias_bomb_is_a_located_error_and_the_guard_never_expands_it() {
    let text = alias_bomb();
    assert!(text.len() < 1024);
    let started = Instant::now();
    let (line, _, message) = parse_error(&text);
    assert!(message.contains("alias bomb"), "{message}");
    assert_eq!(line, 5, "{message}");
    let err = guard::verify(&text, &text, &[]).expect_err("refused");
    assert!(
        err.to_string().contains("aliases repeat more than"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn recursive_alias_is_a_located_error_not_a_hang() {
    // Issue 17 point 4: `Document::alias_paths` ran for more than nine minutes.
    let text = "a: &a {x: *a, steps: [{uses: actions/checkout@v4}]}\nb: &b\n  c: [*b]\n";
    let started = Instant::now();
    let (line, column, message) = parse_error(text);
    assert_eq!((line, column), (1, 11), "{message}");
    assert!(message.contains("recursive alias"), "{message}");
    assert!(message.contains("`*a`"), "{message}");
    let block = "x: &x\n  y:\n    - *x\n";
    assert!(parse_error(block).2.contains("recursive alias"));
    assert!(guard::verify(block, block, &[]).is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn ordinary_aliases_are_counted_and_kept() {
    let text = "d: &d {a: 1, b: [2, 3]}\ne: *d\nf: *d\n";
    let doc = Document::parse(text).expect("valid");
    let counts = doc.counts();
    assert_eq!(
        (counts.aliases, counts.alias_nodes),
        (2, 14),
        "7 nodes each, keys included"
    );
    let paths = doc.alias_paths(&Path::root(0).key("d").key("a"));
    assert_eq!(paths.len(), 2);
}

#[test]
fn many_aliases_past_the_limit_are_refused() {
    let mut text = String::from("a: &a x\nl: [");
    let n = MAX_ALIASES as usize + 1;
    text.push_str(&vec!["*a"; n].join(","));
    text.push_str("]\n");
    assert!(parse_error(&text).2.contains("aliases"));
    const { assert!(MAX_ALIAS_NODES >= MAX_ALIASES && MAX_NODES > MAX_ALIAS_NODES) };
}

#[test]
fn changes_in_a_huge_mapping_are_verified_in_linear_time() {
    // Issue 17 point 15: the parser's duplicate-key check, `Document::get` and the guard
    // looked every key up linearly, once per key or change (a 50 MB workflow took 220 s).
    // 20,000 jobs, one change each.
    let jobs = 20_000;
    let mut text = String::from("jobs:\n");
    for i in 0..jobs {
        text.push_str(&format!(
            "  j{i}:\n    steps:\n      - uses: actions/checkout@v4\n"
        ));
    }
    let started = Instant::now();
    let doc = Document::parse(text.as_str()).expect("valid");
    let mut edits = EditSet::new(&doc);
    for i in 0..jobs {
        let path = Path::root(0)
            .key("jobs")
            .key(&format!("j{i}"))
            .key("steps")
            .index(0)
            .key("uses");
        edits
            .replace_scalar(
                &path,
                "actions/checkout@0123456789012345678901234567890123456789",
            )
            .expect("edit");
    }
    let after = edits.apply_verified().expect("verified");
    assert!(after.contains("j19999:"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

fn corpus_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for p in entries.filter_map(Result::ok).map(|e| e.path()) {
        if p.is_dir() {
            corpus_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(p);
        }
    }
}

/// The figures docs/reliability.md quotes: no real workflow comes within a tenth of a limit.
#[test]
#[allow(clippy::print_stderr)] // the skip line and the figures are for the test log
fn corpus_maxima_stay_far_below_the_limits() {
    // The sample in testdata/corpus always; the full corpus (the figures the docs quote) when
    // it is beside the clone.
    let mut files = Vec::new();
    for root in harden_testserver::corpus_roots("the corpus maxima of the YAML limits") {
        corpus_files(&root.path, &mut files);
    }
    assert!(!files.is_empty(), "no corpus file found");
    let (mut nodes, mut aliases, mut alias_nodes, mut bytes) = (0, 0, 0, 0);
    let mut breaks = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        bytes = bytes.max(text.len());
        breaks += text
            .chars()
            .filter(|c| harden_yaml::linebreaks::YAML11_ONLY_BREAKS.contains(c))
            .count();
        if let Ok(doc) = Document::parse(text.as_str()) {
            let c = doc.counts();
            nodes = nodes.max(c.nodes);
            aliases = aliases.max(c.aliases);
            alias_nodes = alias_nodes.max(c.alias_nodes);
        }
    }
    eprintln!(
        "corpus maxima over {} files: {nodes} nodes, {aliases} aliases, {alias_nodes} nodes \
         added by aliases, {bytes} bytes; {breaks} U+0085/U+2028/U+2029 characters",
        files.len()
    );
    assert!(nodes * 10 < MAX_NODES && aliases * 10 < MAX_ALIASES);
    assert!(alias_nodes * 10 < MAX_ALIAS_NODES);
}

#[test]
fn verbatim_tags_on_uses_values_are_edited_in_place() {
    // Issue 17 point 15: `!<tag:yaml.org,2002:str>` ended at its comma, so the edit replaced
    // half the tag and the guard refused the result as "a bug in harden".
    let text = "steps:\n  - uses: !<tag:yaml.org,2002:str> actions/checkout@v4\n  - {uses: !<tag:yaml.org,2002:str> a/b@v1, with: {x: 1}}\n";
    let doc = Document::parse(text).expect("valid");
    let mut edits = EditSet::new(&doc);
    let first = Path::root(0).key("steps").index(0).key("uses");
    let second = Path::root(0).key("steps").index(1).key("uses");
    edits
        .replace_scalar(&first, "actions/checkout@abc")
        .expect("edit");
    edits.set_comment(&first, "v4.2.2").expect("comment");
    edits.replace_scalar(&second, "a/b@abc").expect("edit");
    assert_eq!(
        edits.apply_verified().expect("verified"),
        "steps:\n  - uses: !<tag:yaml.org,2002:str> actions/checkout@abc # v4.2.2\n  - {uses: !<tag:yaml.org,2002:str> a/b@abc, with: {x: 1}}\n"
    );
}

#[test]
fn comments_are_written_on_one_line_whatever_they_hold() {
    let doc = Document::parse("a: b\n").expect("valid");
    let mut edits = EditSet::new(&doc);
    edits
        .set_comment(
            &Path::root(0).key("a"),
            "v1\u{85}- run: x\u{2028}y\u{1b}z\rw",
        )
        .expect("comment");
    let after = edits.apply_verified().expect("verified");
    assert_eq!(after, "a: b # v1 - run: x y z w\n");
}

/// Issue 28: a step name with bidirectional overrides and zero-width characters went raw into
/// the comments harden writes (`# Publish <RLO>exe.tpircs<PDF>`); every comment, set or new,
/// shows them as escapes.
#[test]
fn comments_never_hold_bidi_controls_or_invisible_characters() {
    let doc = Document::parse("a: b\nc:\n  d: 1\n").expect("valid");
    let mut edits = EditSet::new(&doc);
    edits
        .set_comment(
            &Path::root(0).key("a"),
            "Publish \u{202e}exe.tpircs\u{202c}",
        )
        .expect("comment");
    edits
        .insert_entry(
            &Path::root(0).key("c"),
            harden_yaml::InsertAt::Last,
            harden_yaml::NewEntry::new("e", harden_yaml::NewValue::string("2"))
                .with_comment("x\u{200b}y\u{2066}z\u{feff}"),
        )
        .expect("insert");
    let after = edits.apply_verified().expect("verified");
    assert!(
        !after
            .chars()
            .any(|c| c != '\n' && harden_yaml::invisible::is_unsafe(c)),
        "{after:?}"
    );
    assert!(
        after.contains("# Publish \\u{202e}exe.tpircs\\u{202c}\n"),
        "{after}"
    );
    assert!(
        after.contains("# x\\u{200b}y\\u{2066}z\\u{feff}\n"),
        "{after}"
    );
}

#[test]
fn large_mappings_find_every_key_and_refuse_duplicates() {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("k{i}: {i}\n"));
    }
    let doc = Document::parse(text.as_str()).expect("valid");
    for i in [0, 17, 99] {
        let node = doc.get(&Path::root(0).key(&format!("k{i}"))).expect("key");
        assert_eq!(node.as_str(), Some(i.to_string().as_str()));
    }
    assert!(doc.get(&Path::root(0).key("k100")).is_none());
    text.push_str("k42: again\n");
    let err = Document::parse(text.as_str()).expect_err("duplicate");
    assert!(
        err.message()
            .contains("duplicate key `k42` (first at line 43)"),
        "{err}"
    );
}

#[test]
fn a_comment_after_the_last_item_stays_with_it() {
    // Issue 17 point 15: a trailing comment in dependabot.yml moved under the new entry.
    let text = "updates:\n  - a: 1\n    # about a\n  # also about a\n# end of file\n";
    let doc = Document::parse(text).expect("valid");
    let mut edits = EditSet::new(&doc);
    let item = NewValue::Mapping(vec![harden_yaml::NewEntry::new("b", NewValue::string("2"))]);
    edits
        .append_item(&Path::root(0).key("updates"), item)
        .expect("append");
    assert_eq!(
        edits.apply_verified().expect("verified"),
        "updates:\n  - a: 1\n    # about a\n  # also about a\n  - b: '2'\n# end of file\n"
    );
}

#[test]
fn a_lone_carriage_return_is_a_located_error_and_crlf_is_not() {
    for (text, column) in [("a: 1\rb: 2\n", 5), ("a: 1\r\nb: 2\r", 5)] {
        let err = Document::parse(text).expect_err("lone CR");
        assert!(err.to_string().contains("lone carriage return"), "{err}");
        let line = if text.contains("\r\n") { 2 } else { 1 };
        assert_eq!((err.location().line, err.location().column), (line, column));
    }
    assert!(Document::parse("a: 1\r\nb: 2\r\n").is_ok());
}
