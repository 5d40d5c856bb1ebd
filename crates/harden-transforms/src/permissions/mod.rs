//! The `permissions` transform: gives the `GITHUB_TOKEN` only what each job needs.
//!
//! A workflow without top-level `permissions` gets `contents: read` there; a job that needs
//! more gets its own block, one commented line per scope naming the step that needs it.
//! What harden infers comes from the knowledge base (`data/*.yml`), from `run:` scripts
//! (`gh`, `git push`, `curl` to the API, OIDC publishing), from github-script calls, and
//! from local composite actions and called workflows. A job harden cannot read is never
//! restricted silently: while one is undetermined the workflow gets no top-level block, and
//! the job is reported with a way to settle it ([`DeclaredJob`]). See `docs/permissions.md`.

mod analyze;
mod endpoints;
mod expr;
mod kb;
mod remote_files;
mod scopes;
mod script;
mod shell;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use harden_yaml::{EditSet, InsertAt, NewEntry, NewValue, NodeKind, Path};

pub use remote_files::{GithubFiles, MemoryFiles, RemoteFile, RemoteFiles, RemoteRead};
pub use scopes::{Access, NameError, Scope};

use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, SourceFile,
    Transform,
};
use analyze::{triggers, Analysis, Analyzer, Doc};
use expr::TokenCtx;
use scopes::{summary, Grant, ScopeSet};

const NAME: &str = "permissions";

/// The comment on the lines of a block the user declared.
const DECLARED_COMMENT: &str = "declared in harden config";

/// The permissions a user declares for a job harden cannot read, which harden then writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredJob {
    /// The workflow: a file name (`release.yml`), or a path relative to the repository root
    /// when it holds a `/` (`.github/workflows/release.yml`); `*`, `**` and `?` are globs.
    pub workflow: String,
    /// The job's id.
    pub job: String,
    /// The block to write (empty for `permissions: {}`).
    pub permissions: BTreeMap<Scope, Access>,
}

/// A declaration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationError {
    /// Not `WORKFLOW:JOB=SCOPE:ACCESS,...`.
    #[error("`{0}`: expected WORKFLOW:JOB=SCOPE:ACCESS[,SCOPE:ACCESS...], e.g. release.yml:publish=contents:write")]
    Syntax(String),
    /// A scope or access name is wrong.
    #[error("`{input}`: {source}")]
    Name {
        /// The declaration.
        input: String,
        /// The wrong name.
        source: NameError,
    },
}

impl FromStr for DeclaredJob {
    type Err = DeclarationError;

    /// Reads `release.yml:publish=contents:write,id-token:write` (nothing after `=` declares
    /// `permissions: {}`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || DeclarationError::Syntax(s.to_owned());
        let (target, scopes) = s.split_once('=').ok_or_else(syntax)?;
        let (workflow, job) = target.rsplit_once(':').ok_or_else(syntax)?;
        if workflow.trim().is_empty() || job.trim().is_empty() {
            return Err(syntax());
        }
        let mut permissions = BTreeMap::new();
        for part in scopes.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (scope, access) = part.split_once(':').ok_or_else(syntax)?;
            let name = |source| DeclarationError::Name {
                input: s.to_owned(),
                source,
            };
            let scope = scope.trim().parse::<Scope>().map_err(name)?;
            let access = access.trim().parse::<Access>().map_err(name)?;
            permissions.insert(scope, access);
        }
        Ok(DeclaredJob {
            workflow: workflow.trim().to_owned(),
            job: job.trim().to_owned(),
            permissions,
        })
    }
}

impl DeclaredJob {
    /// True when the declaration is about the workflow at `relative` (path relative to the
    /// repository root, `/`-separated).
    pub fn matches_workflow(&self, relative: &str) -> bool {
        let pattern = self.workflow.trim_start_matches("./");
        if pattern.contains('/') {
            glob(pattern, relative)
        } else {
            let name = relative.rsplit('/').next().unwrap_or(relative);
            glob(pattern, name)
        }
    }
}

/// `*` (within a path segment), `**` (anything) and `?` (one character).
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') if p.get(1) == Some(&'*') => {
                let rest = &p[2..];
                (0..=t.len()).any(|i| go(rest, &t[i..]))
            }
            Some('*') => {
                let rest = &p[1..];
                for i in 0..=t.len() {
                    if go(rest, &t[i..]) {
                        return true;
                    }
                    if t.get(i) == Some(&'/') {
                        break;
                    }
                }
                false
            }
            Some('?') => !t.is_empty() && t[0] != '/' && go(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

/// Options of the transform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionsOptions {
    /// Jobs whose permissions the user declared (from the CLI or the config file).
    pub declared: Vec<DeclaredJob>,
}

/// The `permissions` transform.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    options: PermissionsOptions,
    /// Where actions and workflows of other repositories are read; `None` reads none.
    remote: Option<std::sync::Arc<dyn RemoteFiles>>,
}

/// What harden infers for one job, next to what the maintainers wrote (for reports and for
/// measuring the inference against hand-written blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// The workflow file.
    pub path: PathBuf,
    /// The job's id.
    pub job: String,
    /// The job's own `permissions:` mapping as written, when it has one (`read-all`,
    /// `write-all` and unreadable blocks give `None`).
    pub written: Option<BTreeMap<Scope, Access>>,
    /// True when the job has a `permissions:` key of any form.
    pub has_block: bool,
    /// What harden infers, or `None` when the job is undetermined.
    pub inferred: Option<BTreeMap<Scope, Access>>,
    /// Why the job is undetermined, one line per step (empty when it is determined).
    pub unsure: Vec<String>,
}

/// A block to write: its scopes, and why each is needed (`None` for a declared block).
type Block<'a> = (BTreeMap<Scope, Access>, Option<&'a ScopeSet>);

/// One job of a workflow, read.
struct JobPlan<'d> {
    id: String,
    key_line: usize,
    alias: bool,
    /// Where the job's mapping starts (the same for a job and its aliases).
    target: usize,
    own: Option<(&'d harden_yaml::Node, Grant)>,
    declared: Option<DeclaredJob>,
    analysis: Analysis,
}

impl Permissions {
    /// The transform with these options.
    pub fn new(options: PermissionsOptions) -> Self {
        Permissions {
            options,
            remote: None,
        }
    }

    /// Reads actions that are not in the knowledge base, remote reusable workflows and
    /// actions of repositories a job checks out from `remote`, at the commit their ref names.
    pub fn with_remote(mut self, remote: std::sync::Arc<dyn RemoteFiles>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// What harden infers for every job of every workflow of `repo`.
    pub fn infer(&self, repo: &Repository) -> Vec<JobReport> {
        let Ok(kb) = kb::kb() else {
            return Vec::new();
        };
        let an =
            Analyzer::new(repo, kb, &self.options.declared).with_remote(self.remote.as_deref());
        an.prefetch();
        let mut out = Vec::new();
        for (file, doc) in repo.documents(FileKind::Workflow) {
            let d = Doc::new(doc);
            let Some(root) = d.root() else { continue };
            for plan in self.plan_jobs(&an, &d, file, root) {
                let written = match &plan.own {
                    Some((_, Grant::Scopes(map))) => Some(map.clone()),
                    _ => None,
                };
                let unsure = plan
                    .analysis
                    .unsure
                    .iter()
                    .map(|u| format!("{} (line {}) {}", u.step, u.line, u.reason))
                    .collect();
                out.push(JobReport {
                    unsure,
                    path: file.path.clone(),
                    job: plan.id,
                    written,
                    has_block: plan.own.is_some(),
                    inferred: plan
                        .analysis
                        .unsure
                        .is_empty()
                        .then(|| plan.analysis.needs.accesses()),
                });
            }
        }
        out
    }

    fn plan_jobs<'d>(
        &self,
        an: &Analyzer<'_>,
        d: &Doc<'d>,
        file: &SourceFile,
        root: &'d harden_yaml::Node,
    ) -> Vec<JobPlan<'d>> {
        let ctx = TokenCtx::workflow();
        let mut jobs = Vec::new();
        let Some(jobs_map) = d.get(root, "jobs").and_then(|j| j.as_mapping()) else {
            return jobs;
        };
        for e in &jobs_map.entries {
            let Some(id) = e.key_str() else { continue };
            let node = d.resolve(&e.value);
            if node.as_mapping().is_none() {
                continue;
            }
            let own = d.get(node, "permissions").map(|n| (n, Grant::parse(n)));
            jobs.push(JobPlan {
                id: id.to_owned(),
                key_line: e.key.line,
                alias: matches!(e.value.kind, NodeKind::Alias(_)),
                target: node.span.start,
                own,
                declared: an.declaration(&file.path, id).cloned(),
                analysis: an.job(d, &file.path, root, node, &ctx),
            });
        }
        jobs
    }

    fn workflow(&self, an: &Analyzer<'_>, file: &SourceFile, out: &mut Outcome) {
        let Some(doc) = file.document() else { return };
        let d = Doc::new(doc);
        let Some(root) = d.root() else { return };
        let jobs_map = d.get(root, "jobs").and_then(|j| j.as_mapping());
        if root.as_mapping().is_none() || jobs_map.is_none() {
            return;
        }
        let shown = an.relative(&file.path);
        let called = triggers(&d, root).contains("workflow_call");
        let top_node = d.get(root, "permissions");
        let top = top_node.map(Grant::parse);
        let jobs = self.plan_jobs(an, &d, file, root);
        let blocking = jobs
            .iter()
            .any(|j| j.own.is_none() && j.declared.is_none() && !j.analysis.unsure.is_empty());
        let add_top = top.is_none() && !called && !blocking && !jobs.is_empty();
        let baseline = match &top {
            Some(g) => Some(g.clone()),
            None if add_top => Some(Grant::Scopes(BTreeMap::from([(
                Scope::Contents,
                Access::Read,
            )]))),
            None => None,
        };
        let finding = |line: Option<usize>, severity, message: String| {
            Finding::at(
                NAME,
                &file.path,
                line.map(|l| harden_yaml::Location { line: l, column: 1 }),
                severity,
                message,
            )
        };
        let mut findings = Vec::new();
        // Decide each job: a block to write (scopes, and the reasons unless declared), or none.
        let mut blocks: Vec<Option<Block<'_>>> = Vec::new();
        for job in &jobs {
            for (line, note) in &job.analysis.notes {
                findings.push(finding(
                    Some(*line),
                    Severity::Note,
                    format!("job `{}`: {note}", job.id),
                ));
            }
            let block = if let Some((node, grant)) = &job.own {
                if let Some(message) = own_block_finding(job, grant) {
                    let severity = match grant {
                        Grant::WriteAll | Grant::ReadAll => Severity::Warning,
                        _ => Severity::Note,
                    };
                    findings.push(finding(Some(node.line), severity, message));
                }
                None
            } else if let Some(decl) = &job.declared {
                Some((decl.permissions.clone(), None))
            } else if !job.analysis.unsure.is_empty() {
                findings.push(undetermined(file, &shown, job, top.is_none() && !called));
                None
            } else if called {
                None
            } else {
                let needs = job.analysis.needs.accesses();
                let exceeds = baseline.as_ref().is_none_or(|g| !g.covers(&needs));
                exceeds.then_some((needs, Some(&job.analysis.needs)))
            };
            blocks.push(block);
        }
        // The top-level block as written, against the jobs that still inherit it.
        if let (Some(node), Some(grant)) = (top_node, &top) {
            let inheriting: Vec<&JobPlan<'_>> = jobs
                .iter()
                .zip(&blocks)
                .filter(|(j, b)| j.own.is_none() && b.is_none())
                .map(|(j, _)| j)
                .collect();
            if let Some((severity, message)) = top_finding(grant, &inheriting) {
                findings.push(finding(Some(node.line), severity, message));
            }
        }
        if called {
            let any = jobs
                .iter()
                .any(|j| j.own.is_none() && j.declared.is_none() && j.analysis.unsure.is_empty());
            if any {
                let on_line = root
                    .as_mapping()
                    .and_then(|m| m.get("on"))
                    .map(|e| e.key.line);
                findings.push(finding(
                    on_line,
                    Severity::Note,
                    "called workflow (`on: workflow_call`): harden adds no `permissions` here; the calling job's block caps it, and callers in this repository get what it needs".to_owned(),
                ));
            }
        }
        // The edits.
        let mut edits = EditSet::new(doc);
        let mut notes = Vec::new();
        if add_top {
            let entry = NewEntry::new(
                "permissions",
                NewValue::Mapping(vec![NewEntry::new("contents", NewValue::string("read"))]),
            );
            let jobs_line = root
                .as_mapping()
                .and_then(|m| m.get("jobs"))
                .map_or(1, |e| e.key.line);
            match edits.insert_entry(&Path::root(0), InsertAt::Before("jobs".into()), entry) {
                Ok(()) => notes.push(ChangeNote {
                    line: jobs_line,
                    message: "workflow: contents: read (every job starts from read-only)".into(),
                }),
                Err(e) => findings.push(finding(
                    Some(jobs_line),
                    Severity::Error,
                    format!("could not add the top-level `permissions` block: {e}"),
                )),
            }
        }
        let jobs_path = Path::root(0).key("jobs");
        for (i, (job, block)) in jobs.iter().zip(&blocks).enumerate() {
            let Some((map, reasons)) = block else {
                continue;
            };
            if job.alias {
                // The block written into the anchored job shows here too.
                let shared = jobs.iter().zip(&blocks).enumerate().any(|(k, (other, b))| {
                    k != i
                        && !other.alias
                        && other.target == job.target
                        && b.as_ref().is_some_and(|(m, _)| m == map)
                });
                if shared {
                    continue;
                }
                findings.push(finding(
                    Some(job.key_line),
                    Severity::Note,
                    format!(
                        "job `{}` is an alias of another node; harden cannot give it its own block ({})",
                        job.id,
                        summary(map)
                    ),
                ));
                continue;
            }
            let (entry, message) = block_entry(map, *reasons, &job.analysis.settled);
            match edits.insert_entry(&jobs_path.key(&job.id), InsertAt::First, entry) {
                Ok(()) => notes.push(ChangeNote {
                    line: job.key_line,
                    message: format!("job {}: {message}", job.id),
                }),
                Err(e) => findings.push(finding(
                    Some(job.key_line),
                    Severity::Error,
                    format!(
                        "could not add a `permissions` block to job `{}`: {e}",
                        job.id
                    ),
                )),
            }
        }
        if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut out.findings) {
            out.changes.push(change);
        }
        out.findings.extend(findings);
    }
}

/// The finding for a job's own block, if it deserves one.
fn own_block_finding(job: &JobPlan<'_>, grant: &Grant) -> Option<String> {
    let determined = job.analysis.unsure.is_empty();
    let inferred = job.analysis.needs.accesses();
    match grant {
        Grant::WriteAll | Grant::ReadAll => {
            let word = if *grant == Grant::WriteAll {
                "write-all"
            } else {
                "read-all"
            };
            let what = if determined {
                format!("harden infers it needs {}", summary(&inferred))
            } else {
                "harden cannot tell what it needs".to_owned()
            };
            Some(format!(
                "job `{}` has `permissions: {word}`; {what}; narrow it by hand",
                job.id
            ))
        }
        Grant::Scopes(_) if determined => {
            let extra = wider(grant, &inferred);
            (!extra.is_empty()).then(|| {
                format!(
                    "job `{}` grants more than harden infers: {} (harden infers {})",
                    job.id,
                    extra.join(", "),
                    summary(&inferred)
                )
            })
        }
        _ => None,
    }
}

/// The finding for the top-level block as written, given the jobs that inherit it.
fn top_finding(grant: &Grant, inheriting: &[&JobPlan<'_>]) -> Option<(Severity, String)> {
    let determined = inheriting.iter().all(|j| j.analysis.unsure.is_empty());
    let mut union = ScopeSet::default();
    for j in inheriting {
        union.merge(&j.analysis.needs);
    }
    let inferred = if inheriting.is_empty() {
        "no job inherits it".to_owned()
    } else if determined {
        format!(
            "harden infers the jobs that inherit it need {}",
            union.summary()
        )
    } else {
        "harden cannot tell what every job that inherits it needs".to_owned()
    };
    match grant {
        Grant::WriteAll | Grant::ReadAll => {
            let word = if *grant == Grant::WriteAll {
                "write-all"
            } else {
                "read-all"
            };
            Some((
                Severity::Warning,
                format!("top-level `permissions: {word}` grants every scope; {inferred}; narrow it by hand"),
            ))
        }
        Grant::Scopes(_) if determined && !inheriting.is_empty() => {
            let extra = wider(grant, &union.accesses());
            (!extra.is_empty()).then(|| {
                (
                    Severity::Note,
                    format!(
                        "top-level `permissions` grant more than harden infers: {} ({inferred})",
                        extra.join(", ")
                    ),
                )
            })
        }
        _ => None,
    }
}

/// Scopes `grant` gives beyond `needed` (a `contents: read` baseline is never counted).
fn wider(grant: &Grant, needed: &BTreeMap<Scope, Access>) -> Vec<String> {
    let Some(map) = grant.as_map() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(s, a)| !(**s == Scope::Contents && **a == Access::Read))
        .filter(|(s, a)| needed.get(s).is_none_or(|n| n < a))
        .map(|(s, a)| format!("{s}: {a}"))
        .collect()
}

/// The `permissions:` entry for a job block and the note describing it.
fn block_entry(
    map: &BTreeMap<Scope, Access>,
    reasons: Option<&ScopeSet>,
    settled: &[String],
) -> (NewEntry, String) {
    if map.is_empty() {
        let comment = match reasons {
            Some(_) => analyze::empty_block_comment(settled),
            None => DECLARED_COMMENT.to_owned(),
        };
        return (
            NewEntry::new("permissions", NewValue::Mapping(Vec::new())).with_comment(&comment),
            format!("permissions: {{}} ({comment})"),
        );
    }
    let mut entries = Vec::new();
    let mut parts = Vec::new();
    for (scope, access) in map {
        let comment = reasons
            .and_then(|r| r.first_reason(*scope))
            .map_or_else(|| DECLARED_COMMENT.to_owned(), |r| r.comment());
        parts.push(format!("{scope}: {access} ({comment})"));
        entries.push(
            NewEntry::new(scope.as_str(), NewValue::string(access.as_str())).with_comment(comment),
        );
    }
    (
        NewEntry::new("permissions", NewValue::Mapping(entries)),
        parts.join("; "),
    )
}

/// The finding for a job harden cannot read.
fn undetermined(file: &SourceFile, shown: &str, job: &JobPlan<'_>, blocks_top: bool) -> Finding {
    let unsure = &job.analysis.unsure;
    let line = unsure.first().map_or(job.key_line, |u| u.line);
    let mut message = format!("job `{}` is undetermined", job.id);
    for (n, u) in unsure.iter().take(3).enumerate() {
        let sep = if n == 0 { ": " } else { "; " };
        message.push_str(&format!("{sep}{} (line {}) {}", u.step, u.line, u.reason));
    }
    if unsure.len() > 3 {
        message.push_str(&format!("; and {} more", unsure.len() - 3));
    }
    if blocks_top {
        message.push_str(
            ". harden adds no top-level `permissions` to this workflow while a job is undetermined",
        );
    }
    let found = job.analysis.needs.summary();
    let name = shown.rsplit('/').next().unwrap_or(shown);
    message.push_str(&format!(
        ". Check what the job needs and declare it in `.github/harden.yml` (permissions > jobs > {name} > {}: {{scope: access, ...}}); harden then writes that block (found so far: {found})",
        job.id
    ));
    Finding::at(
        NAME,
        &file.path,
        Some(harden_yaml::Location { line, column: 1 }),
        if blocks_top {
            Severity::Warning
        } else {
            Severity::Note
        },
        message,
    )
}

impl Transform for Permissions {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "give the GITHUB_TOKEN only what each job needs"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut out = Outcome::default();
        let kb = match kb::kb() {
            Ok(kb) => kb,
            Err(e) => {
                out.findings.push(Finding::at(
                    NAME,
                    &repo.root,
                    None,
                    Severity::Error,
                    format!("the knowledge base does not load: {e}; this is a bug in harden"),
                ));
                return out;
            }
        };
        let an =
            Analyzer::new(repo, kb, &self.options.declared).with_remote(self.remote.as_deref());
        an.prefetch();
        for file in repo.files.iter().filter(|f| f.kind == FileKind::Workflow) {
            self.workflow(&an, file, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_parse() {
        let d: DeclaredJob = match "release.yml:publish=contents:write, id-token:write".parse() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(d.workflow, "release.yml");
        assert_eq!(d.job, "publish");
        assert_eq!(d.permissions.len(), 2);
        assert!("ci.yml:x="
            .parse::<DeclaredJob>()
            .is_ok_and(|d| d.permissions.is_empty()));
        assert!("ci.yml=contents:read".parse::<DeclaredJob>().is_err());
        assert!("ci.yml:x=contents:admin".parse::<DeclaredJob>().is_err());
    }

    #[test]
    fn workflow_globs() {
        let d = |w: &str| DeclaredJob {
            workflow: w.to_owned(),
            job: "x".into(),
            permissions: BTreeMap::new(),
        };
        assert!(d("release.yml").matches_workflow(".github/workflows/release.yml"));
        assert!(d("rel*.yml").matches_workflow(".github/workflows/release.yml"));
        assert!(!d("ci.yml").matches_workflow(".github/workflows/release.yml"));
        assert!(d(".github/workflows/*.yml").matches_workflow(".github/workflows/release.yml"));
        assert!(!d(".github/*.yml").matches_workflow(".github/workflows/release.yml"));
        assert!(d("**/release.yml").matches_workflow(".github/workflows/release.yml"));
    }
}
