//! Regression tests for everything the fuzzer found, with the minimized inputs in
//! `testdata/faults/`. Tests of bugs in other crates are ignored with the bug's description
//! until it is fixed (run them with `cargo test -p harden-fuzz -- --ignored`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use harden_fuzz::corpus::{faults_dir, Corpus};
use harden_fuzz::engine::{self, FindingKind};
use harden_fuzz::known::known;
use harden_fuzz::server::{Answer, Route, ScriptServer};
use harden_fuzz::targets;
use harden_github::{FetchError, RepoId, Resolver, ResolverConfig, ResolverMode};
use harden_transforms::pin_actions::{PinActions, PinOptions};
use harden_transforms::{FileKind, Repository, SourceFile, Transform};
use harden_yaml::{ApplyError, Document, EditError, EditSet, NewEntry, NewValue, Path};

fn fault(name: &str) -> PathBuf {
    faults_dir().join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fault(name)).expect("fault input")
}

fn p(keys: &[&str]) -> Path {
    keys.iter()
        .fold(Path::root(0), |path, k| match k.parse::<usize>() {
            Ok(i) => path.index(i),
            Err(_) => path.key(k),
        })
}

/// Every stored input, through every YAML target with many choice seeds: no panic, and no
/// property failure that is not a known bug. The crash input runs in its own test.
#[test]
fn every_fault_input_replays_cleanly() {
    let corpus = Corpus::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(faults_dir())
        .expect("testdata/faults")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .filter(|p| !p.ends_with("deep-block-nesting.yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for name in ["yaml", "pin-actions", "dependabot"] {
        let mut target = targets::make(name, &corpus)
            .expect("known target")
            .expect("runnable");
        for file in &files {
            let input = std::fs::read(file).expect("read");
            for choice_seed in 0..if name == "yaml" { 64 } else { 6 } {
                let result = engine::guarded(target.as_mut(), &input, choice_seed);
                let problem = match result {
                    Ok(Ok(_)) => continue,
                    Ok(Err(p)) if p.kind == FindingKind::GuardRefused => continue,
                    Ok(Err(p)) => format!("{}: {}", p.kind.as_str(), p.message),
                    Err(panic) => format!("panic: {panic}"),
                };
                let finding = engine::Finding {
                    target: target.name(),
                    kind: if problem.starts_with("panic") {
                        FindingKind::Panic
                    } else {
                        FindingKind::Property
                    },
                    message: problem
                        .split_once(": ")
                        .map_or(problem.clone(), |(_, m)| m.to_owned()),
                    input: input.clone(),
                    choice_seed,
                    elapsed: std::time::Duration::ZERO,
                };
                assert!(
                    known(name, &finding.signature()).is_some(),
                    "{name} on {} (choice seed {choice_seed}): {problem}",
                    file.display()
                );
            }
        }
    }
}

/// Deep block nesting (a 100 KB workflow, 50,000 levels of `- `) must give a clear error, not
/// kill the process: run in a child process so that a stack overflow fails only this test.
#[test]
fn deep_block_nesting_is_refused_not_a_crash() {
    let out = Command::new(env!("CARGO_BIN_EXE_harden-fuzz"))
        .args(["replay", "--target", "pin-actions"])
        .arg(fault("deep-block-nesting.yml"))
        .args(["--choice-seed", "1"])
        .output()
        .expect("harden-fuzz runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "the process died: {:?}\n{stderr}",
        out.status
    );
}

/// Flow nesting is bounded by saphyr: 10,000 `[` are a located error, in bounded time.
#[test]
fn deep_flow_nesting_is_a_located_error() {
    let started = std::time::Instant::now();
    let err = Document::parse(read("deep-flow-nesting.yml")).expect_err("too deep");
    assert!(
        err.to_string().contains("recursion limit exceeded"),
        "{err}"
    );
    assert_eq!(err.location().line, 5);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// The REST resolver takes the `sha` of an answer as it is: a broken or hostile API could make
/// pin-actions write `uses: actions/checkout@main # v4`, which looks pinned and is not.
#[test]
fn rest_answers_with_a_non_hex_sha_are_refused() {
    let answers: serde_json::Value =
        serde_json::from_str(&read("rest-non-hex-sha.json")).expect("json");
    let server = ScriptServer::start().expect("server");
    let body = |key: &str| serde_json::to_vec(&answers[key]).expect("json");
    let script: HashMap<Route, Answer> = [
        (Route::Repo, Answer::ok("application/json", body("repo"))),
        (
            Route::TagRefs,
            Answer::ok("application/json", body("tag-refs")),
        ),
        (
            Route::Branches,
            Answer::ok("application/json", body("branches")),
        ),
    ]
    .into_iter()
    .collect();
    server.set_script(script);
    let resolver = Resolver::new(ResolverConfig {
        server_url: server.url(),
        api_url: server.url(),
        mode: ResolverMode::Api,
        max_retries: 0,
        ..ResolverConfig::default()
    })
    .expect("resolver");
    let fetched = resolver.fetch(&RepoId::new("actions", "checkout"));
    assert!(
        matches!(fetched, Err(FetchError::BadResponse(_))),
        "a non-hex SHA was accepted: {fetched:?}"
    );
    // What it leads to: the pin is a branch name.
    let resolver = Arc::new(resolver);
    let text = "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n";
    let repo = Repository {
        root: PathBuf::from("."),
        files: vec![SourceFile::new(
            ".github/workflows/ci.yml",
            FileKind::Workflow,
            text,
        )],
    };
    let outcome = PinActions::new(resolver, PinOptions::default()).run(&repo);
    for change in outcome.changes {
        assert!(
            !change.after.contains("@main"),
            "pinned to a branch name:\n{}",
            change.after
        );
    }
}

/// `a: !t # keep`: the empty value's place is after the tag, not after the comment.
#[test]
fn empty_tagged_value_keeps_its_comment() {
    let doc = Document::parse(read("empty-tagged-value.yml")).expect("parses");
    let mut edits = EditSet::new(&doc);
    edits.set_comment(&p(&["a"]), "new").expect("comment");
    assert_eq!(
        edits.apply_verified().expect("verified"),
        "a: !t # new\nb: 1\n"
    );
    let mut edits = EditSet::new(&doc);
    edits.replace_scalar(&p(&["a"]), "x").expect("replace");
    assert_eq!(
        edits.apply_verified().expect("verified"),
        "a: !t x # keep\nb: 1\n"
    );
}

/// A lone CR is a line break for YAML, but not for the tools that edit workflows line by line:
/// harden refuses such a file with the place of the CR and what to do.
#[test]
fn lone_cr_is_a_located_error() {
    let err = Document::parse(read("lone-cr-comment.yml")).expect_err("lone CR");
    assert_eq!((err.location().line, err.location().column), (1, 12));
    assert!(
        err.to_string().contains("convert the file to LF or CRLF"),
        "{err}"
    );
}

/// A comment after a collection that ends in a block scalar would land inside the scalar.
#[test]
fn set_comment_after_a_block_scalar_is_not_allowed() {
    let doc = Document::parse(read("comment-after-block-scalar.yml")).expect("parses");
    let mut edits = EditSet::new(&doc);
    let result = edits.set_comment(&p(&["steps", "0"]), "c");
    assert!(
        matches!(result, Err(EditError::CommentNotAllowed { .. })),
        "{result:?}: {:?}",
        edits.apply_verified()
    );
}

/// `- - a`: a new item of the inner sequence goes at the inner sequence's column.
#[test]
#[ignore = "bug (caught by the guard, file left untouched): harden-yaml parse.rs find_dash gives \
            a compact nested sequence (`- - a`) the outer sequence's column, so append_item \
            writes the item into the outer sequence (its fallback also takes a `-` inside a \
            comment). Fix: take the dash just before the first item, skipping comments"]
fn append_to_a_compact_nested_sequence() {
    let doc = Document::parse(read("compact-nested-sequence.yml")).expect("parses");
    let mut edits = EditSet::new(&doc);
    edits
        .append_item(&p(&["0"]), NewValue::string("b"))
        .expect("append");
    assert_eq!(edits.apply_verified().expect("verified"), "- - a\n  - b\n");
}

/// Two inserts of one key in one edit set.
#[test]
fn two_inserts_of_one_key_are_an_edit_error() {
    let doc = Document::parse("a: 1\n").expect("parses");
    let mut edits = EditSet::new(&doc);
    let entry = || NewEntry::new("b", NewValue::string("x"));
    edits
        .insert_entry(&Path::root(0), harden_yaml::InsertAt::First, entry())
        .expect("first");
    let second = edits.insert_entry(&Path::root(0), harden_yaml::InsertAt::Last, entry());
    assert!(
        matches!(second, Err(EditError::KeyExists { .. })),
        "{second:?}: {:?}",
        edits.apply_verified()
    );
}

/// A key written as a hexadecimal number loads as an integer.
#[test]
#[ignore = "bug (caught by the guard, file left untouched): harden-yaml guard.rs key_matches \
            compares an integer key by its decimal form, so `0x1F:` (and tagged keys such as \
            `!!int :`) never match and every edit under them is refused as 'does not apply'. \
            Fix: match keys by the source text of the key node, or compare loaded values"]
fn edits_under_a_hex_key_are_verified() {
    let doc = Document::parse(read("hex-key.yml")).expect("parses");
    let mut edits = EditSet::new(&doc);
    edits.replace_scalar(&p(&["0x1F"]), "b").expect("replace");
    let result = edits.apply_verified();
    assert!(!matches!(result, Err(ApplyError::Guard(_))), "{result:?}");
}

/// An empty sequence item that has a comment (`- # 0`): setting its comment must replace that
/// comment. Found by AFL++ (`afl-run yaml`, docs/fuzzing.md); input in
/// `testdata/faults/fuzz-comment-on-empty-item.yml`.
#[test]
fn set_comment_on_an_empty_item_with_a_comment_replaces_it() {
    let doc = Document::parse(read("fuzz-comment-on-empty-item.yml")).expect("parses");
    let mut edits = EditSet::new(&doc);
    edits
        .set_comment(&p(&["co000", "0"]), "x")
        .expect("comment");
    let out = edits.apply_verified().expect("verified");
    assert_eq!(out, "co000:\n  - # x\n0:\n  00 000   000000 0");
}
