//! What a run found and changed, and how it is shown: text (diffs, findings, a summary) or JSON.

use std::io::{self, Write};
use std::path::PathBuf;

use harden_transforms::{FileChange, Finding, Severity};
use serde::Serialize;

use crate::escape;

/// The outcome of one transform on one repository.
#[derive(Debug)]
pub(crate) struct TransformReport {
    /// The transform's name.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its changes (each relative to the previous transform's output).
    pub changes: Vec<FileChange>,
    /// Its findings.
    pub findings: Vec<Finding>,
}

/// The outcome for one repository root.
#[derive(Debug)]
pub(crate) struct RepoReport {
    /// The root as given.
    pub root: PathBuf,
    /// Per transform, in running order.
    pub transforms: Vec<TransformReport>,
    /// Files that could not be read or parsed, and writes that failed.
    pub problems: Vec<Finding>,
    /// Files whose final text differs from what is on disk (path, new text).
    pub written: Vec<PathBuf>,
}

impl RepoReport {
    /// True when any input could not be processed.
    pub(crate) fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
            || self
                .transforms
                .iter()
                .any(|t| t.findings.iter().any(|f| f.severity == Severity::Error))
    }

    /// True when any transform changes anything.
    pub(crate) fn has_changes(&self) -> bool {
        self.transforms.iter().any(|t| !t.changes.is_empty())
    }
}

/// ANSI styling, on or off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Whether to emit escape codes.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// Where a finding is: `path:line:column`, `path:line` or `path` (escaped for a terminal).
pub(crate) fn location(f: &Finding) -> String {
    let path = escape::path(&f.path);
    match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{path}:{l}:{c}"),
        (Some(l), None) => format!("{path}:{l}"),
        _ => path,
    }
}

/// A finding as one line: `warning: path:line:col: [transform] message`.
pub(crate) fn finding_line(f: &Finding, style: Style) -> String {
    let word = severity_word(f.severity);
    let code = match f.severity {
        Severity::Note => "36",
        Severity::Warning => "33",
        Severity::Error => "31;1",
    };
    let transform = if f.transform.is_empty() {
        String::new()
    } else {
        format!("[{}] ", f.transform)
    };
    format!(
        "{}: {}: {transform}{}",
        style.paint(code, word),
        location(f),
        escape::message(&f.message)
    )
}

/// A line diff of two texts. Patience diff: harden's changes touch single lines among many
/// unique ones, where it is fast (Myers is quadratic on a 100,000-line file with 25,000
/// changed lines: `harden --dry-run` took 14.5 s with Myers and 1.1 s with patience on a
/// generated 100,000-line workflow).
pub(crate) fn line_diff<'a>(before: &'a str, after: &'a str) -> similar::TextDiff<'a, 'a, 'a, str> {
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .timeout(std::time::Duration::from_secs(5))
        .diff_lines(before, after)
}

/// The unified diff of one change, coloured when asked; control characters of the file names
/// and contents are escaped (see [`escape`]), so it is safe to print.
pub(crate) fn diff_text(change: &FileChange, style: Style) -> String {
    let before = change.before.as_deref().unwrap_or("");
    // Escaped before the header is built: a line break in a name would otherwise start a line
    // of its own (`::error …` in a CI log).
    let name = escape::path(&change.path);
    let old_name = if change.before.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".to_owned()
    };
    let diff = line_diff(before, &change.after);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{name}"))
        .to_string();
    if !style.color {
        return text.split_inclusive('\n').map(escape::diff_line).collect();
    }
    text.lines()
        .map(|l| escape::text(l).into_owned())
        .map(|l| {
            let l = l.as_str();
            if l.starts_with("+++") || l.starts_with("---") {
                style.paint("1", l)
            } else if l.starts_with('+') {
                style.paint("32", l)
            } else if l.starts_with('-') {
                style.paint("31", l)
            } else if l.starts_with("@@") {
                style.paint("36", l)
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// What the run was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Write the changes.
    Apply,
    /// Show diffs only.
    DryRun,
    /// List what would change; exit 1 if anything would.
    Check,
    /// Write one patch per transform (`--patch-dir`).
    Patch,
    /// Write and commit each transform separately (`--commit`).
    Commit,
}

/// Prints the text report: diffs (dry run), change lists (check), findings, summary.
pub(crate) fn print_text(reports: &[RepoReport], mode: Mode, style: Style) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let stderr = io::stderr();
    let mut err = stderr.lock();
    // Reports with only problems (a path that does not exist, a bad configuration) have no
    // section and no summary: their errors come last, and nothing is printed after them.
    let (sections, problems_only): (Vec<&RepoReport>, Vec<&RepoReport>) = reports
        .iter()
        .partition(|r| !r.transforms.is_empty() || r.problems.is_empty());
    let many = sections.len() > 1;
    for report in sections {
        if many {
            writeln!(
                out,
                "{}",
                style.paint("1", &format!("# {}", escape::path(&report.root)))
            )?;
        }
        for g in crate::messages::group(&report.problems) {
            writeln!(err, "{}", crate::messages::group_line(&g, style))?;
        }
        for t in &report.transforms {
            if mode == Mode::DryRun && !t.changes.is_empty() {
                writeln!(
                    out,
                    "{}",
                    style.paint("1;35", &format!("=== {}: {}", t.name, t.summary))
                )?;
                for c in &t.changes {
                    write!(out, "{}", diff_text(c, style))?;
                }
            }
            if mode == Mode::Check {
                for c in &t.changes {
                    if c.before.is_none() {
                        writeln!(
                            out,
                            "{}: [{}] would be created",
                            escape::path(&c.path),
                            t.name
                        )?;
                    }
                    for n in &c.notes {
                        writeln!(
                            out,
                            "{}:{}: [{}] {}",
                            escape::path(&c.path),
                            n.line,
                            t.name,
                            escape::message(&n.message)
                        )?;
                    }
                    if c.notes.is_empty() && c.before.is_some() {
                        writeln!(out, "{}: [{}] would change", escape::path(&c.path), t.name)?;
                    }
                }
            }
            for g in crate::messages::group(&t.findings) {
                writeln!(err, "{}", crate::messages::group_line(&g, style))?;
            }
        }
        match mode {
            Mode::Apply | Mode::Patch => {
                for w in &report.written {
                    writeln!(out, "wrote {}", escape::path(w))?;
                }
            }
            Mode::Commit => {
                for w in &report.written {
                    writeln!(out, "committed {}", escape::path(w))?;
                }
            }
            _ => {}
        }
        write_summary(&mut out, report, mode, style)?;
    }
    out.flush()?;
    for report in problems_only {
        for g in crate::messages::group(&report.problems) {
            writeln!(err, "{}", crate::messages::group_line(&g, style))?;
        }
    }
    Ok(())
}

fn write_summary(
    out: &mut impl Write,
    report: &RepoReport,
    mode: Mode,
    style: Style,
) -> io::Result<()> {
    if !report.has_changes() && report.transforms.iter().all(|t| t.findings.is_empty()) {
        if mode != Mode::Check || !report.has_errors() {
            writeln!(out, "nothing to change")?;
        }
        return Ok(());
    }
    // The name column fits the longest name shown (13 for the transforms on by default).
    let width = report
        .transforms
        .iter()
        .map(|t| t.name.len())
        .fold(13, usize::max);
    let header = format!("{:<width$}  files  changes  findings", "transform");
    writeln!(out, "{}", style.paint("1", &header))?;
    for t in &report.transforms {
        let changes: usize = t.changes.iter().map(|c| c.notes.len().max(1)).sum();
        writeln!(
            out,
            "{:<width$} {:>6} {:>8} {:>9}",
            t.name,
            t.changes.len(),
            changes,
            // Distinct findings: one per line printed above.
            crate::messages::group(&t.findings).len()
        )?;
    }
    match mode {
        Mode::DryRun if report.has_changes() => writeln!(
            out,
            "dry run: nothing written; run without --dry-run to apply"
        )?,
        Mode::Check if report.has_changes() => {
            writeln!(out, "changes needed: run `harden` to apply them")?
        }
        _ => {}
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonChange<'a> {
    transform: &'static str,
    path: String,
    created: bool,
    notes: &'a [harden_transforms::ChangeNote],
    diff: String,
}

#[derive(Serialize)]
struct JsonRepo<'a> {
    root: String,
    changes: Vec<JsonChange<'a>>,
    findings: Vec<&'a Finding>,
    written: Vec<String>,
}

/// Prints one JSON document describing every repository (schema in docs/usage.md).
pub(crate) fn print_json(reports: &[RepoReport], exit_code: i32) -> io::Result<()> {
    let repos: Vec<JsonRepo<'_>> = reports
        .iter()
        .map(|r| JsonRepo {
            root: r.root.display().to_string(),
            changes: r
                .transforms
                .iter()
                .flat_map(|t| {
                    t.changes.iter().map(|c| JsonChange {
                        transform: t.name,
                        path: c.path.display().to_string(),
                        created: c.before.is_none(),
                        notes: &c.notes,
                        diff: diff_text(c, Style { color: false }),
                    })
                })
                .collect(),
            findings: r
                .problems
                .iter()
                .chain(r.transforms.iter().flat_map(|t| t.findings.iter()))
                .collect(),
            written: r.written.iter().map(|p| p.display().to_string()).collect(),
        })
        .collect();
    let doc = serde_json::json!({ "version": 1, "exit_code": exit_code, "repositories": repos });
    let text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    let mut out = io::stdout().lock();
    writeln!(out, "{}", escape::json(text))?;
    out.flush()
}
