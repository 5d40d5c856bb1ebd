//! Properties shared by the targets: spans inside the text, comments kept, and "the output is
//! the input plus only these kinds of change", checked with yaml-rust2 independently of the
//! guard.

use std::collections::BTreeMap;

use harden_yaml::{Document, Node, NodeKind};
use yaml_rust2::Yaml;

/// Every node's span (and scalar token) lies inside the text, on character boundaries, with
/// start <= end; line and column are 1-based. Walks without recursion.
pub fn spans_are_sane(doc: &Document) -> Result<(), String> {
    let text = doc.text();
    let mut todo: Vec<&Node> = doc.documents().iter().collect();
    let mut seen = 0usize;
    while let Some(node) = todo.pop() {
        seen += 1;
        if seen > 2_000_000 {
            return Err("more than 2,000,000 nodes".to_owned());
        }
        let span = node.span;
        if span.start > span.end || text.get(span.range()).is_none() {
            return Err(format!(
                "node span {:?} is not a slice of the text",
                span.range()
            ));
        }
        if node.line == 0 || node.column == 0 {
            return Err(format!("node at {:?} has line or column 0", span.range()));
        }
        match &node.kind {
            NodeKind::Scalar(s) => {
                if s.token.start > s.token.end || text.get(s.token.range()).is_none() {
                    return Err(format!(
                        "scalar token {:?} is not a slice of the text",
                        s.token.range()
                    ));
                }
            }
            NodeKind::Mapping(m) => {
                for e in &m.entries {
                    if text.get(e.span.range()).is_none() || e.span.start > e.span.end {
                        return Err(format!("entry span {:?} is not a slice", e.span.range()));
                    }
                    todo.push(&e.key);
                    todo.push(&e.value);
                }
            }
            NodeKind::Sequence(s) => todo.extend(s.items.iter()),
            NodeKind::Alias(_) => {}
        }
    }
    Ok(())
}

/// The text of every comment, counted.
pub fn comment_counts(doc: &Document) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in doc.comments() {
        let text = doc
            .text()
            .get(c.span.range())
            .unwrap_or_default()
            .trim_end();
        *out.entry(text.to_owned()).or_default() += 1;
    }
    out
}

/// Every comment of `after` that `before` does not hold (one harden wrote) is free of the
/// characters that must never reach a reader raw (`harden_yaml::invisible`): bidirectional
/// controls, zero-width characters, controls, line separators (issue 28).
pub fn new_comments_are_safe(before: &Document, after: &Document) -> Result<(), String> {
    let old = comment_counts(before);
    for c in after.comments() {
        let text = after
            .text()
            .get(c.span.range())
            .unwrap_or_default()
            .trim_end();
        if !old.contains_key(text) && text.chars().any(harden_yaml::invisible::is_unsafe) {
            return Err(format!(
                "a written comment holds an unsafe character: {text:?}"
            ));
        }
    }
    Ok(())
}

/// Every comment of `before` (less those in `dropped`) is still in `after`. A comment that is
/// only found as the start of a longer one was extended: a new comment was written inside it.
pub fn comments_kept(
    before: &Document,
    after: &Document,
    dropped: &BTreeMap<String, usize>,
) -> Result<(), String> {
    let old = comment_counts(before);
    let new = comment_counts(after);
    for (text, n) in old {
        let allowed_loss = dropped.get(&text).copied().unwrap_or(0);
        let have = new.get(&text).copied().unwrap_or(0);
        if have + allowed_loss < n {
            let extended = new
                .keys()
                .any(|k| k.len() > text.len() && k.starts_with(text.as_str()));
            let what = if extended {
                "a new comment was written inside an existing comment"
            } else {
                "a comment was lost"
            };
            return Err(format!(
                "{what}\ncomment {text:?}: {n} before, {have} after"
            ));
        }
    }
    Ok(())
}

/// Loads `text` with yaml-rust2 as the guard does (a byte-order mark is not content).
pub fn load(text: &str) -> Result<Vec<Yaml>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    harden_yaml::guard::load(text).map_err(|e| e.to_string())
}

/// One step of a data path, for messages.
fn step(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Compares `before` and `after` data; every difference must be accepted by `allowed`, called
/// with the path (keys and indices as text) and both values. Walks without recursion and
/// stops at 2,000,000 nodes.
pub fn differences_allowed(
    before: &[Yaml],
    after: &[Yaml],
    allowed: &mut dyn FnMut(&[String], &Yaml, &Yaml) -> bool,
) -> Result<(), String> {
    if before.len() != after.len() {
        return Err(format!(
            "stream has {} documents instead of {}",
            after.len(),
            before.len()
        ));
    }
    let mut todo: Vec<(Vec<String>, &Yaml, &Yaml)> = before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(i, (a, b))| (vec![format!("doc{i}")], a, b))
        .collect();
    let mut seen = 0usize;
    while let Some((path, a, b)) = todo.pop() {
        seen += 1;
        if seen > 2_000_000 {
            return Err("more than 2,000,000 nodes".to_owned());
        }
        if allowed(&path, a, b) {
            continue;
        }
        match (a, b) {
            (Yaml::Hash(x), Yaml::Hash(y)) if x.len() == y.len() => {
                for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                    if ka != kb {
                        return Err(format!("at {}: key {ka:?} became {kb:?}", path.join(".")));
                    }
                    let mut p = path.clone();
                    p.push(step(ka));
                    todo.push((p, va, vb));
                }
            }
            (Yaml::Array(x), Yaml::Array(y)) if x.len() == y.len() => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    let mut p = path.clone();
                    p.push(format!("[{i}]"));
                    todo.push((p, va, vb));
                }
            }
            _ if a == b => {}
            _ => {
                let show = |y: &Yaml| {
                    let t = format!("{y:?}");
                    t.chars().take(120).collect::<String>()
                };
                return Err(format!(
                    "at {}: {} became {}",
                    path.join("."),
                    show(a),
                    show(b)
                ));
            }
        }
    }
    Ok(())
}

/// A message without the parts that differ between cases of one bug (places, quoted names),
/// for the first line of a finding.
pub fn normalize(message: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    for c in message.chars() {
        if c == '`' {
            if !in_quote {
                out.push_str("`…`");
            }
            in_quote = !in_quote;
        } else if !in_quote {
            out.push(c);
        }
    }
    if let Some(i) = out.find(" at byte ") {
        out.truncate(i);
    }
    out.lines().next().unwrap_or_default().to_owned()
}

/// True when `text` has a CR not followed by LF (a line break for YAML).
pub fn has_lone_cr(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, c)| *c == b'\r' && b.get(i + 1) != Some(&b'\n'))
}

/// True for a 40-character lowercase hexadecimal SHA.
pub fn is_sha40(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for a git object id as harden accepts it: 40 or 64 lowercase hexadecimal digits.
pub fn is_oid(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_reported_with_their_path() {
        let a = load("a: {b: [1, 2]}\nc: x\n").expect("yaml");
        let b = load("a: {b: [1, 3]}\nc: x\n").expect("yaml");
        let err = differences_allowed(&a, &b, &mut |_, _, _| false).expect_err("differs");
        assert!(err.contains("doc0.a.b.[1]"), "{err}");
        differences_allowed(&a, &b, &mut |p, _, _| p.last().is_some_and(|l| l == "[1]"))
            .expect("allowed");
    }

    #[test]
    fn comments_are_counted() {
        let before = Document::parse("a: 1 # one\n# two\nb: 2 # one\n").expect("yaml");
        let after = Document::parse("a: 1 # one\nb: 2\n").expect("yaml");
        assert!(comments_kept(&before, &after, &BTreeMap::new()).is_err());
        let mut dropped = BTreeMap::new();
        dropped.insert("# one".to_owned(), 1);
        dropped.insert("# two".to_owned(), 1);
        comments_kept(&before, &after, &dropped).expect("allowed losses");
    }

    #[test]
    fn normalized_messages_lose_places() {
        assert_eq!(
            normalize("left unchanged: expected change at `jobs.a` does not apply; this is a bug"),
            "left unchanged: expected change at `…` does not apply; this is a bug"
        );
        assert_eq!(
            normalize("does not load: mapping values are not allowed at byte 4 line 9 column 7; x"),
            "does not load: mapping values are not allowed"
        );
    }

    #[test]
    fn shas() {
        assert!(is_sha40(&"a".repeat(40)));
        assert!(!is_sha40(&"A".repeat(40)));
        assert!(is_oid(&"0".repeat(64)));
        assert!(!is_oid("main"));
    }
}
