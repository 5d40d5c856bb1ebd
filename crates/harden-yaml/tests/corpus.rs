//! Every file of the real-world corpus (the sample in `testdata/corpus`, and the full corpus
//! when present): parse, empty edit (identity), random edits (guard passes, output parses,
//! comments kept). Files that are not valid YAML must give a located error, and are listed in
//! `KNOWN_INVALID`.

use std::path::{Path as FsPath, PathBuf};

use harden_yaml::{Document, EditSet, InsertAt, NewEntry, NewValue, Node, NodeKind, Path};

/// Corpus files that harden refuses as invalid YAML: none. (numpy `linux_simd.yml` and
/// pytorch/rl `nightly_build.yml`, whose flow sequences close with a `]` less indented than
/// YAML 1.2 asks, were refused until harden read them as libyaml does: `src/lenient.rs`.)
const KNOWN_INVALID: &[&str] = &[];

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

/// A small deterministic generator (xorshift64*), so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone)]
enum Candidate {
    Replace(Path),
    Insert(Path, InsertAt, NewEntry),
    Append(Path, NewValue),
}

fn candidates(node: &Node, path: Path, out: &mut Vec<Candidate>, n: &mut usize) {
    *n += 1;
    let tag = *n;
    match &node.kind {
        NodeKind::Scalar(_) => out.push(Candidate::Replace(path)),
        NodeKind::Mapping(m) => {
            if !m.entries.is_empty() {
                let keys: Vec<&str> = m.entries.iter().filter_map(|e| e.key_str()).collect();
                let at = match tag % 4 {
                    0 => InsertAt::First,
                    1 => InsertAt::Last,
                    2 if !keys.is_empty() => InsertAt::Before(keys[tag % keys.len()].to_owned()),
                    _ if !keys.is_empty() => InsertAt::After(keys[tag % keys.len()].to_owned()),
                    _ => InsertAt::Last,
                };
                let value = if tag % 3 == 0 {
                    NewValue::Mapping(vec![
                        NewEntry::new("contents", NewValue::string("read")).with_comment("why"),
                        NewEntry::new("list", NewValue::Sequence(vec![NewValue::string("a: b")])),
                    ])
                } else {
                    NewValue::string(format!("inserted {tag} # not a comment"))
                };
                out.push(Candidate::Insert(
                    path.clone(),
                    at,
                    NewEntry::new(format!("harden_test_{tag}"), value),
                ));
            }
            for e in &m.entries {
                if let Some(k) = e.key_str() {
                    candidates(&e.value, path.key(k), out, n);
                }
            }
        }
        NodeKind::Sequence(s) => {
            if !s.items.is_empty() {
                out.push(Candidate::Append(
                    path.clone(),
                    NewValue::Mapping(vec![NewEntry::new("uses", NewValue::string("x/y@v1"))]),
                ));
            }
            for (i, item) in s.items.iter().enumerate() {
                candidates(item, path.index(i), out, n);
            }
        }
        NodeKind::Alias(_) => {}
    }
}

fn add(edits: &mut EditSet<'_>, c: &Candidate) -> bool {
    match c {
        Candidate::Replace(p) => edits.replace_scalar(p, "harden: 'value' #1").is_ok(),
        Candidate::Insert(p, at, e) => edits.insert_entry(p, at.clone(), e.clone()).is_ok(),
        Candidate::Append(p, v) => edits.append_item(p, v.clone()).is_ok(),
    }
}

#[test]
fn corpus_parses_and_survives_random_edits() {
    for root in
        harden_testserver::corpus_roots("harden-yaml corpus_parses_and_survives_random_edits")
    {
        let min_files = if root.full { 2000 } else { 400 };
        parse_and_edit_every_file(&root.path, min_files);
    }
}

/// Up to six random edits that apply together to `doc`.
fn random_edits(doc: &Document, rng: &mut Rng) -> Vec<Candidate> {
    let mut all = Vec::new();
    let mut n = 0;
    for (i, d) in doc.documents().iter().enumerate() {
        candidates(d, Path::root(i), &mut all, &mut n);
    }
    let mut chosen: Vec<Candidate> = Vec::new();
    for _ in 0..6 {
        if all.is_empty() {
            break;
        }
        let c = all[rng.below(all.len())].clone();
        let mut trial = EditSet::new(doc);
        let ok = chosen
            .iter()
            .chain(std::iter::once(&c))
            .all(|c| add(&mut trial, c))
            && trial.apply().is_ok();
        if ok {
            chosen.push(c);
        }
    }
    chosen
}

/// The failure when the edited `out` does not parse or lost a comment of `doc` (`text`).
fn lost_comment(rel: &str, doc: &Document, text: &str, out: &str) -> Option<String> {
    let after = match Document::parse(out.to_owned()) {
        Ok(after) => after,
        Err(e) => return Some(format!("{rel}: output does not parse: {e}")),
    };
    let after_comments: Vec<&str> = after
        .comments()
        .iter()
        .map(|c| &out[c.span.range()])
        .collect();
    doc.comments()
        .iter()
        .map(|c| &text[c.span.range()])
        .find(|c| !after_comments.contains(c))
        .map(|c| format!("{rel}: comment lost: {c}"))
}

fn parse_and_edit_every_file(root: &FsPath, min_files: usize) {
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    assert!(
        files.len() > min_files,
        "corpus not found at {}",
        root.display()
    );
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut invalid = Vec::new();
    let mut failures = Vec::new();
    let mut edited = 0;
    for file in &files {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let doc = match Document::parse(text.clone()) {
            Ok(d) => d,
            Err(e) => {
                assert!(e.location().line >= 1, "{rel}: error without a line: {e}");
                invalid.push(rel);
                continue;
            }
        };
        // Identity.
        let empty = EditSet::new(&doc);
        assert_eq!(
            empty.apply_verified().as_deref(),
            Ok(text.as_str()),
            "{rel}"
        );

        // Random edits.
        let chosen = random_edits(&doc, &mut rng);
        let mut edits = EditSet::new(&doc);
        for c in &chosen {
            add(&mut edits, c);
        }
        match edits.apply_verified() {
            Ok(out) => {
                edited += 1;
                if let Some(failure) = lost_comment(&rel, &doc, &text, &out) {
                    failures.push(failure);
                }
            }
            Err(e) => {
                // HARDEN_CORPUS_DUMP=dir keeps the refused output for a look.
                if let (Some(dir), Ok(out)) =
                    (std::env::var_os("HARDEN_CORPUS_DUMP"), edits.apply())
                {
                    let _ = std::fs::write(FsPath::new(&dir).join(rel.replace('/', "__")), out);
                }
                failures.push(format!("{rel}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let expected: Vec<&str> = KNOWN_INVALID
        .iter()
        .copied()
        .filter(|f| root.join(f).is_file())
        .collect();
    assert_eq!(invalid, expected, "files rejected by the parser");
    assert!(edited > min_files * 9 / 10, "{edited} files edited");
}
