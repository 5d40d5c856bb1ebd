//! The contexts an outsider writes (`data/outsider-contexts.yml`, each with its source), the
//! `${{ }}` expressions of a text and the context references inside one.

use std::ops::Range;
use std::sync::OnceLock;

use crate::settings::OneOrMany;

const DATA: &str = include_str!("../../data/outsider-contexts.yml");

/// One context an outsider writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsiderContext {
    /// The context path, lowercase, split at dots (`*` = any key or index).
    pub segments: Vec<String>,
    /// Who writes it.
    pub what: String,
    /// Where the fact comes from.
    pub source: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContext {
    context: String,
    what: String,
    source: OneOrMany<String>,
}

#[derive(serde::Deserialize)]
struct ContextFile {
    contexts: Vec<RawContext>,
}

/// Parses a contexts data file; an error names its line and column.
pub fn parse(text: &str) -> Result<Vec<OutsiderContext>, String> {
    let file: ContextFile = harden_yaml::de::from_str(text).map_err(|e| e.to_string())?;
    Ok(file
        .contexts
        .into_iter()
        .map(|raw| OutsiderContext {
            segments: raw
                .context
                .trim()
                .to_ascii_lowercase()
                .split('.')
                .map(str::to_owned)
                .collect(),
            what: raw.what.trim().to_owned(),
            source: raw.source.0,
        })
        .collect())
}

/// The built-in list, parsed once (a broken data file is caught by the tests; at run time it
/// gives an empty list rather than a crash).
pub fn built_in() -> &'static [OutsiderContext] {
    static LIST: OnceLock<Vec<OutsiderContext>> = OnceLock::new();
    LIST.get_or_init(|| parse(DATA).unwrap_or_default())
}

/// The first outsider context a reference (`github.event.issue.title`, `github.event`) reads:
/// the reference lies under it or holds it.
pub fn outsider(reference: &str) -> Option<&'static OutsiderContext> {
    let segments: Vec<&str> = reference.split('.').collect();
    built_in().iter().find(|c| {
        c.segments
            .iter()
            .zip(&segments)
            .all(|(want, got)| want == "*" || *got == "*" || want == got)
    })
}

/// The `${{ … }}` expressions of `text`: the byte range of each, from `${{` to `}}` (string
/// literals inside are skipped, so a `}}` in one does not end it). An unclosed one ends the
/// list.
pub fn expressions(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = text[i..].find("${{") {
        let start = i + found;
        let mut j = start + 3;
        let mut end = None;
        while j < bytes.len() {
            match bytes[j] {
                b'\'' => {
                    j += 1;
                    while j < bytes.len() {
                        if bytes[j] == b'\'' {
                            if bytes.get(j + 1) == Some(&b'\'') {
                                j += 2;
                                continue;
                            }
                            break;
                        }
                        j += 1;
                    }
                    j += 1;
                }
                b'}' if bytes.get(j + 1) == Some(&b'}') => {
                    end = Some(j + 2);
                    break;
                }
                _ => j += 1,
            }
        }
        let Some(end) = end else { break };
        out.push(start..end);
        i = end;
    }
    out
}

/// The body of an expression (`${{ body }}`), trimmed.
pub fn body(expression: &str) -> &str {
    expression
        .strip_prefix("${{")
        .and_then(|e| e.strip_suffix("}}"))
        .unwrap_or(expression)
        .trim()
}

fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The context references of an expression body, lowercase, indexes and `.*` written as `*`
/// (`github.event.commits[0].message` → `github.event.commits.*.message`); function names and
/// literals are left out.
pub fn references(body: &str) -> Vec<String> {
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            i += 1;
            while i < bytes.len() && !(bytes[i] == b'\'' && bytes.get(i + 1) != Some(&b'\'')) {
                i += if bytes[i] == b'\'' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        let follows_word = i > 0 && (ident_char(bytes[i - 1]) || bytes[i - 1] == b'.');
        if !ident_start(b) || follows_word {
            i += 1;
            continue;
        }
        let (reference, end) = reference_at(body, i);
        i = end;
        let function = body[end..].trim_start().starts_with('(');
        let literal = matches!(reference.as_str(), "true" | "false" | "null");
        if !function && !literal {
            out.push(reference);
        }
    }
    out
}

/// The reference starting at `start` and the byte after it.
fn reference_at(body: &str, start: usize) -> (String, usize) {
    let bytes = body.as_bytes();
    let mut i = start;
    while i < bytes.len() && ident_char(bytes[i]) {
        i += 1;
    }
    let mut segments = vec![body[start..i].to_ascii_lowercase()];
    loop {
        match bytes.get(i) {
            Some(b'.') if bytes.get(i + 1) == Some(&b'*') => {
                segments.push("*".into());
                i += 2;
            }
            Some(b'.') if bytes.get(i + 1).copied().is_some_and(ident_start) => {
                let s = i + 1;
                i = s;
                while i < bytes.len() && ident_char(bytes[i]) {
                    i += 1;
                }
                segments.push(body[s..i].to_ascii_lowercase());
            }
            Some(b'[') => {
                let close = body[i..].find(']').map_or(bytes.len(), |c| i + c);
                let inner = body[i + 1..close.min(bytes.len())].trim();
                let key = inner
                    .strip_prefix('\'')
                    .and_then(|k| k.strip_suffix('\''))
                    .filter(|k| !k.is_empty() && k.bytes().all(ident_char));
                segments.push(key.map_or("*".into(), str::to_ascii_lowercase));
                i = (close + 1).min(bytes.len());
            }
            _ => break,
        }
    }
    (segments.join("."), i)
}

/// An expression body without its tests (`contains(…)`, `startsWith(…)`, `endsWith(…)`,
/// whose result is `true` or `false` whatever text they read), for telling whether the value
/// can carry an outsider's text.
pub fn without_tests(body: &str) -> String {
    let mut out = body.to_owned();
    for name in ["contains(", "startswith(", "endswith("] {
        while let Some(start) = out.to_ascii_lowercase().find(name) {
            let bytes = out.as_bytes();
            let (mut depth, mut i, mut quoted) = (0usize, start + name.len() - 1, false);
            while i < bytes.len() {
                match bytes[i] {
                    b'\'' => quoted = !quoted,
                    b'(' if !quoted => depth += 1,
                    b')' if !quoted => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            out.replace_range(start..(i + 1).min(out.len()), "true");
        }
    }
    out
}

/// The outsider context an expression body reads first, with the reference that reads it.
pub fn outsider_reference(body: &str) -> Option<(String, &'static OutsiderContext)> {
    references(body)
        .into_iter()
        .find_map(|r| outsider(&r).map(|c| (r, c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_with_sources() {
        let list = parse(DATA).expect("data/outsider-contexts.yml parses");
        assert!(list.len() > 30);
        for c in &list {
            assert!(!c.source.is_empty(), "{:?}", c.segments);
            assert!(c.source.iter().all(|s| s.starts_with("https://")));
        }
    }

    #[test]
    fn finds_references_and_outsiders() {
        assert_eq!(
            references("github.event.commits[0].message || 'a.b' && toJSON(github.event['issue'])"),
            ["github.event.commits.*.message", "github.event.issue"]
        );
        assert!(outsider("github.event.issue.title").is_some());
        assert!(outsider("github.event.issue").is_some());
        assert!(outsider("github").is_some());
        assert!(outsider("github.event.issue.number").is_none());
        assert!(outsider("github.event.pages.*.page_name").is_some());
        assert!(outsider("github.event.changes.title.from").is_some());
        assert!(outsider("steps.x.outputs.title").is_none());
        assert!(outsider_reference("github.HEAD_REF").is_some());
        let tests =
            "contains(github.event.comment.body, '/a)') || startsWith(github.head_ref, 'x')";
        assert!(outsider_reference(&without_tests(tests)).is_none());
        assert!(outsider_reference(&without_tests("github.head_ref || 'x'")).is_some());
    }

    #[test]
    fn finds_expressions() {
        let t = "a ${{ x }} b ${{ format('}}', y) }} ${{ open";
        let found: Vec<&str> = expressions(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(found, ["${{ x }}", "${{ format('}}', y) }}"]);
        assert_eq!(body("${{  a.b }}"), "a.b");
    }
}
