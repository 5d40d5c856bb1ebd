//! Machine-readable outputs for CI: GitHub workflow-command annotations and SARIF 2.1.0.

use std::io::{self, Write};

use harden_transforms::{Finding, Severity};
use serde_json::json;

use crate::escape;
use crate::report::RepoReport;

fn all_findings(reports: &[RepoReport]) -> impl Iterator<Item = &Finding> {
    reports.iter().flat_map(|r| {
        r.problems
            .iter()
            .chain(r.transforms.iter().flat_map(|t| t.findings.iter()))
    })
}

/// Escapes a value for a workflow command property (`file=`, `title=`).
fn escape_property(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Escapes a workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// One `::warning file=…,line=…::message` line per finding and per pending change, which
/// GitHub shows as annotations on the pull request.
pub(crate) fn print_github(reports: &[RepoReport]) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for f in all_findings(reports) {
        let level = match f.severity {
            Severity::Note => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let mut props = format!("file={}", escape_property(&escape::path(&f.path)));
        if let Some(l) = f.line {
            props.push_str(&format!(",line={l}"));
        }
        if let Some(c) = f.column {
            props.push_str(&format!(",col={c}"));
        }
        let title = if f.transform.is_empty() {
            "harden".to_owned()
        } else {
            format!("harden {}", f.transform)
        };
        props.push_str(&format!(",title={}", escape_property(&title)));
        writeln!(
            out,
            "::{level} {props}::{}",
            escape_data(&escape::message(&f.message))
        )?;
    }
    for r in reports {
        for t in &r.transforms {
            for c in &t.changes {
                for n in &c.notes {
                    writeln!(
                        out,
                        "::warning file={},line={},title={}::{}",
                        escape_property(&escape::path(&c.path)),
                        n.line,
                        escape_property(&format!("harden {}", t.name)),
                        escape_data(&escape::message(&n.message))
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// A SARIF 2.1.0 log: one rule per transform, one result per finding and per pending change.
pub(crate) fn print_sarif(reports: &[RepoReport]) -> io::Result<()> {
    let mut results = Vec::new();
    let location = |path: &str, line: Option<usize>, column: Option<usize>| {
        let mut region = serde_json::Map::new();
        if let Some(l) = line {
            region.insert("startLine".into(), json!(l));
        }
        if let Some(c) = column {
            region.insert("startColumn".into(), json!(c));
        }
        json!([{ "physicalLocation": {
            "artifactLocation": { "uri": path },
            "region": region,
        }}])
    };
    for f in all_findings(reports) {
        let level = match f.severity {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let rule = if f.transform.is_empty() {
            "input"
        } else {
            f.transform
        };
        results.push(json!({
            "ruleId": rule,
            "level": level,
            "message": { "text": f.message },
            "locations": location(&uri(&f.path), f.line, f.column),
        }));
    }
    for r in reports {
        for t in &r.transforms {
            for c in &t.changes {
                for n in &c.notes {
                    results.push(json!({
                        "ruleId": t.name,
                        "level": "warning",
                        "message": { "text": n.message },
                        "locations": location(&uri(&c.path), Some(n.line), None),
                    }));
                }
            }
        }
    }
    let rules: Vec<_> = harden_transforms::registry::TRANSFORMS
        .iter()
        .map(|t| (t.name, t.rule))
        .chain([("input", "Input that harden could not process")])
        .map(|(name, text)| json!({ "id": name, "name": name, "shortDescription": { "text": text } }))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "harden",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/harden-rs/harden",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let text = serde_json::to_string_pretty(&log).map_err(io::Error::other)?;
    let mut out = io::stdout().lock();
    writeln!(out, "{}", escape::json(text))?;
    out.flush()
}

fn uri(path: &std::path::Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "/")
        .trim_start_matches("./")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(escape_data("x\ny"), "x%0Ay");
    }
}
