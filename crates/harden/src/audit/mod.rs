//! `harden audit [ROOTS...]`: a read-only, offline report of where each repository stands on
//! the checks of the OpenSSF Scorecard that harden's transforms address (and a few it does
//! not), one result per check. Nothing is written and nothing is fetched.
//!
//! Each check is one file under `checks/` behind the [`Check`] trait; they all read one
//! [`RepoFacts`], built once per repository from the same discovery and YAML parser as the
//! transforms. The output formats are in `output.rs`; the design is in docs/audit.md.

mod checks;
mod facts;
mod merge;
mod output;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

pub(crate) use facts::RepoFacts;

/// How a repository stands on one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Status {
    /// Done.
    #[serde(rename = "pass")]
    Pass,
    /// Done in part (some workflows, some references).
    #[serde(rename = "partial")]
    Partial,
    /// Not done.
    #[serde(rename = "fail")]
    Fail,
    /// Nothing to check (no workflows, no `uses:`).
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Status {
    /// The word used in every output format.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Partial => "partial",
            Status::Fail => "fail",
            Status::NotApplicable => "n/a",
        }
    }
}

/// The result of one check on one repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct CheckResult {
    /// The check's id (`pinned-actions`).
    pub id: &'static str,
    /// How the repository stands.
    pub status: Status,
    /// What was found, and which harden transform (if any) fixes it.
    pub detail: String,
}

/// One audit check.
pub(crate) trait Check {
    /// The id shown in reports (`pinned-actions`).
    fn id(&self) -> &'static str;
    /// Looks at one repository. Must not panic on any input.
    fn check(&self, repo: &RepoFacts) -> (Status, String);
}

/// The results for one repository.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RepoAudit {
    /// The repository root, as named (or found under a named folder).
    pub root: PathBuf,
    /// One result per check, in the order of [`checks::all`].
    pub checks: Vec<CheckResult>,
    /// Files of the repository that were not read (path relative to the root, why); each is
    /// an error on stderr and makes the exit code 2.
    #[serde(skip)]
    pub unreadable: Vec<(String, String)>,
}

/// Output formats of `harden audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    /// A table: repositories as rows, checks as columns.
    Text,
    /// One JSON document (schema in docs/usage.md).
    Json,
    /// A Markdown table and the details, to paste into an issue or a wiki page.
    Markdown,
}

/// `harden audit`: report, for each repository, where it stands on the supply-chain checks
/// (pinned actions, token permissions, dependency updates, signed releases, security policy,
/// fuzzing, SAST, dangerous workflows). Read-only and offline.
#[derive(Debug, Parser)]
#[command(name = "harden audit", version, after_help = AUDIT_AFTER_HELP)]
pub(crate) struct AuditArgs {
    /// Repository roots, or folders whose sub-folders are repositories. Default: `.`
    /// With `--merge`: the JSON files to join.
    pub roots: Vec<PathBuf>,

    /// Join the JSON files of earlier runs (`--format json`) into one report naming every
    /// repository, instead of auditing folders.
    #[arg(long)]
    pub merge: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,

    /// Text format: list the detail of every check under the table (the default for a single
    /// repository).
    #[arg(long)]
    pub details: bool,
}

const AUDIT_AFTER_HELP: &str = "\
Examples:
  harden audit                        where the repository here stands
  harden audit ~/src/*                one row per repository
  harden audit ~/src --format markdown   every repository under ~/src, as a Markdown table
  harden audit --format json | jq     the same as JSON
  harden audit --merge --format markdown a.json b.json   one table from earlier JSON reports

Statuses: pass, partial, fail, n/a. Exit code 0 whatever the statuses; 2 when a root cannot
be read, or a file of one is refused (a link out of it, a FIFO, a device; the rest is still
reported); 64 for a usage error.
To harden a repository folder named `audit`, write `harden ./audit`.";

/// Runs `harden audit` with the arguments after `audit`; returns the exit code.
pub(crate) fn main(args: &[std::ffi::OsString]) -> i32 {
    let argv =
        std::iter::once(std::ffi::OsString::from("harden audit")).chain(args.iter().cloned());
    let args = match AuditArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    crate::cli::exit::OK
                }
                _ => crate::cli::exit::USAGE,
            };
            let _ = e.print();
            return code;
        }
    };
    let roots = if args.roots.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.roots.clone()
    };
    let (audits, problems) = if args.merge {
        if args.roots.is_empty() {
            eprint_line(
                "error: --merge needs the JSON files to join (`harden audit --format json > FILE`)",
            );
            return crate::cli::exit::USAGE;
        }
        merge::merge_files(&args.roots)
    } else {
        let (repos, problems) = facts::expand_roots(&roots);
        let problems = problems
            .iter()
            .map(|(path, why)| format!("{}: {why}", crate::escape::path(path)))
            .collect();
        (audit_all(&repos), problems)
    };
    for problem in &problems {
        eprint_line(&format!("error: {problem}"));
    }
    let mut unread = 0;
    for audit in &audits {
        for (rel, why) in &audit.unreadable {
            unread += 1;
            let path = crate::escape::path(&audit.root.join(rel));
            let why = crate::escape::message(why);
            eprint_line(&format!("error: {path}: {why}"));
        }
    }
    let details = args.details || audits.len() == 1;
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = match args.format {
        AuditFormat::Text => output::print_text(&audits, details),
        AuditFormat::Json => output::print_json(&audits),
        AuditFormat::Markdown => output::print_markdown(&audits),
    };
    if problems.is_empty() && unread == 0 {
        crate::cli::exit::OK
    } else {
        crate::cli::exit::INPUT_ERROR
    }
}

/// Writes one line to standard error (a closed stream is not worth a panic).
fn eprint_line(line: &str) {
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{line}\n"));
}

/// Audits the repositories on every core (each repository is independent), in their order.
fn audit_all(roots: &[PathBuf]) -> Vec<RepoAudit> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let chunk = roots.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = roots
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|r| audit_repository(r)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect::<Vec<RepoAudit>>()
    })
}

/// Runs every check on the repository at `root`.
pub(crate) fn audit_repository(root: &std::path::Path) -> RepoAudit {
    let facts = RepoFacts::load(root);
    RepoAudit {
        root: root.to_path_buf(),
        unreadable: facts.unreadable.clone(),
        checks: checks::all()
            .iter()
            .map(|c| {
                let (status, detail) = c.check(&facts);
                CheckResult {
                    id: c.id(),
                    status,
                    detail,
                }
            })
            .collect(),
    }
}
