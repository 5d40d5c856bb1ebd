//! The audit's output formats: a text table, JSON, Markdown.

use std::io::Write;

use super::{checks, RepoAudit, Status};
use crate::escape;

/// A short cell for the text table.
fn cell(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Partial => "partial",
        Status::Fail => "FAIL",
        Status::NotApplicable => "n/a",
    }
}

/// The table, a count per check, and (with `details`) every check's detail.
pub(super) fn print_text(audits: &[RepoAudit], details: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let ids: Vec<&str> = checks::all().iter().map(|c| c.id()).collect();
    let roots: Vec<String> = audits.iter().map(|a| escape::path(&a.root)).collect();
    let first = roots
        .iter()
        .map(|r| r.chars().count())
        .max()
        .unwrap_or(0)
        .max(10);
    write!(out, "{:first$}", "repository")?;
    for id in &ids {
        write!(out, "  {id}")?;
    }
    writeln!(out)?;
    for (audit, root) in audits.iter().zip(&roots) {
        write!(out, "{root:first$}")?;
        for (id, result) in ids.iter().zip(&audit.checks) {
            write!(out, "  {:width$}", cell(result.status), width = id.len())?;
        }
        writeln!(out)?;
    }
    if audits.len() > 1 {
        write!(out, "{:first$}", "passing")?;
        for (i, id) in ids.iter().enumerate() {
            let passing = audits
                .iter()
                .filter(|a| a.checks.get(i).is_some_and(|c| c.status == Status::Pass))
                .count();
            let text = format!("{passing}/{}", audits.len());
            write!(out, "  {text:width$}", width = id.len())?;
        }
        writeln!(out)?;
    }
    if details {
        for audit in audits {
            writeln!(out, "\n{}", escape::path(&audit.root))?;
            for result in &audit.checks {
                writeln!(
                    out,
                    "  {:19} {:7}  {}",
                    result.id,
                    result.status.as_str(),
                    escape::message(&result.detail)
                )?;
            }
        }
    } else if !audits.is_empty() {
        writeln!(
            out,
            "\n--details lists what was found and the fix for each check; --format json or markdown too."
        )?;
    }
    out.flush()
}

/// `{"repositories":[{"root":…,"checks":[{"id","status","detail"}]}]}`.
pub(super) fn print_json(audits: &[RepoAudit]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let doc = serde_json::json!({ "repositories": audits });
    let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
    writeln!(out, "{}", escape::json(text))?;
    out.flush()
}

/// Text safe inside a Markdown table cell or list item (see [`escape::markdown`]).
fn md_escape(text: &str) -> String {
    escape::markdown(text)
}

/// A Markdown table (repositories as rows) and a details list of what is not passing.
pub(super) fn print_markdown(audits: &[RepoAudit]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let ids: Vec<&str> = checks::all().iter().map(|c| c.id()).collect();
    writeln!(out, "| repository | {} |", ids.join(" | "))?;
    writeln!(out, "| --- |{}", " --- |".repeat(ids.len()))?;
    for audit in audits {
        let cells: Vec<&str> = audit.checks.iter().map(|c| c.status.as_str()).collect();
        writeln!(
            out,
            "| {} | {} |",
            md_escape(&audit.root.display().to_string()),
            cells.join(" | ")
        )?;
    }
    writeln!(out, "\n## Details")?;
    for audit in audits {
        writeln!(
            out,
            "\n### {}\n",
            md_escape(&audit.root.display().to_string())
        )?;
        for result in &audit.checks {
            writeln!(
                out,
                "- `{}`: **{}**: {}",
                result.id,
                result.status.as_str(),
                md_escape(&result.detail)
            )?;
        }
    }
    out.flush()
}
