//! Throughput of the lossless layer over the real-world corpus, against the parsers' own cost.
//!
//! Run: `cargo bench -p harden-yaml --bench corpus` (release build, one thread). Prints MB/s
//! for: saphyr-parser events alone, yaml-rust2 loading, `Document::parse`, and parse + edits +
//! the semantic guard (one scalar replaced and one key inserted per file, as a transform does).
#![allow(clippy::print_stdout, missing_docs, clippy::unwrap_used)]

use std::path::{Path as FsPath, PathBuf};
use std::time::Instant;

use harden_yaml::{Document, EditSet, InsertAt, NewEntry, NewValue, Path};

fn yaml_files(dir: &FsPath, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for p in entries.filter_map(Result::ok).map(|e| e.path()) {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(p);
        }
    }
}

/// The time this thread spent on a CPU (Linux `/proc/thread-self/schedstat`, nanoseconds):
/// what "per core" means on a machine shared with other work, where wall time also counts the
/// time the thread waited for a core.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn measure(label: &str, bytes: usize, rounds: usize, mut f: impl FnMut()) {
    f(); // warm-up
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    let secs = start.elapsed().as_secs_f64() / rounds as f64;
    let cpu = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) => {
            let cpu_secs = b.saturating_sub(a) as f64 / 1e9 / rounds as f64;
            format!(", CPU {:.1} MB/s per core", bytes as f64 / cpu_secs / 1e6)
        }
        _ => String::new(),
    };
    println!(
        "{label:<34} {:>8.1} MB/s  ({:.1} ms per pass{cpu})",
        bytes as f64 / secs / 1e6,
        secs * 1e3
    );
}

fn main() {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ));
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| Document::parse(t.as_str()).is_ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "corpus: {} files, {:.2} MB",
        texts.len(),
        bytes as f64 / 1e6
    );
    let rounds = 5;
    // `HARDEN_BENCH_ONCE=1`: one pass of parse + edits + guard and nothing else, for
    // instruction counts (`valgrind --tool=callgrind`), which a shared machine does not skew.
    if std::env::var_os("HARDEN_BENCH_ONCE").is_some() {
        let refused = texts.iter().filter(|t| !edit_and_guard(t)).count();
        println!("one pass of parse + edits + guard; refused: {refused}");
        return;
    }

    measure("saphyr-parser events", bytes, rounds, || {
        for t in &texts {
            // A text saphyr refuses (a hanging `]` that only the lenient layer accepts) gives
            // its error again and again: stop at the first.
            for ev in saphyr_parser::Parser::new_from_str(t) {
                if std::hint::black_box(ev.is_err()) {
                    break;
                }
            }
        }
    });
    measure("yaml-rust2 load", bytes, rounds, || {
        for t in &texts {
            std::hint::black_box(yaml_rust2::YamlLoader::load_from_str(t).is_ok());
        }
    });
    measure("Document::parse", bytes, rounds, || {
        for t in &texts {
            std::hint::black_box(Document::parse(t.as_str()).is_ok());
        }
    });
    let mut refused = 0;
    measure("parse + edits + guard", bytes, rounds, || {
        for t in &texts {
            if !edit_and_guard(t) {
                refused += 1;
            }
        }
    });
    println!(
        "(edits refused by the guard or the edit layer: {} over {} passes)",
        refused,
        rounds + 1
    );
}

/// Parses `text`, replaces and comments its first step `uses`, inserts a block before `jobs:`
/// and applies the edits through the guard, as a transform does. False when refused.
fn edit_and_guard(text: &str) -> bool {
    let doc = Document::parse(text).unwrap();
    let mut edits = EditSet::new(&doc);
    if let Some((path, _)) = doc.query("jobs.*.steps[*].uses").into_iter().next() {
        let _ = edits.replace_scalar(&path, "owner/repo@0123456789abcdef0123456789abcdef01234567");
        let _ = edits.set_comment(&path, "v1.2.3");
    }
    if doc
        .root()
        .and_then(|r| r.as_mapping())
        .is_some_and(|m| m.get("jobs").is_some())
    {
        let _ = edits.insert_entry(
            &Path::root(0),
            InsertAt::Before("jobs".into()),
            NewEntry::new(
                "harden-bench",
                NewValue::Mapping(vec![NewEntry::new("contents", NewValue::string("read"))]),
            ),
        );
    }
    edits.apply_verified().is_ok()
}
