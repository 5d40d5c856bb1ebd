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
mod commands;
mod endpoints;
mod env_file;
mod evidence;
mod expr;
mod kb;
mod lexer;
mod narrow;
pub(crate) mod own_repo;
mod program_text;
mod programs;
mod project_scripts;
mod remote_files;
mod scopes;
mod script;
mod settings;
mod shell;
mod tools;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use harden_yaml::{EditSet, InsertAt, NewEntry, NewValue, Path};

pub use remote_files::{GithubFiles, MemoryFiles, RemoteFile, RemoteFiles, RemoteRead};
pub use scopes::{Access, NameError, Scope};

use crate::model::Workflow;
use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, SourceFile,
    Transform,
};
use analyze::{triggers, Analysis, Analyzer};
use expr::TokenCtx;
use scopes::{check_block, summary, Grant, ScopeSet};

const NAME: &str = "permissions";

/// permissions in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "limit GITHUB_TOKEN permissions to what each job needs",
    rule: "The GITHUB_TOKEN should have least-privilege permissions",
    needs: crate::registry::Needs {
        resolver: true,
        prefetch_refs: true,
        files: true,
        images: false,
    },
    opt_in: false,
    configure: settings::configure,
    build: build_from_settings,
};

/// The settings of permissions as the command line and `.github/harden.yml` give them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionsSettings {
    /// `--declare` texts (`release.yml:publish=contents:write`).
    pub declare: Vec<String>,
    /// `permissions.jobs` of the configuration: workflow -> job -> scope -> access.
    pub jobs: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// `--move-writes`.
    pub move_writes: bool,
    /// `--narrow` or `permissions: {narrow: true}`.
    pub narrow: bool,
    /// Where `.github/harden.yml` names each workflow (job `""`) and job of `jobs`: (line,
    /// column).
    pub declared_at: BTreeMap<(String, String), (usize, usize)>,
    /// `--strict` or `permissions: {strict: true}`: a program harden cannot see into makes
    /// its job undetermined even without a sign that it writes.
    pub strict: bool,
    /// `--repository-default` or `permissions: {repository-default: ...}`: the repository's
    /// default token permissions (`read` or `write`).
    pub repository_default: Option<RepositoryDefault>,
}

/// The permissions a job without a block gets in the repository (its "Workflow permissions"
/// setting), and where harden learnt it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepositoryDefault {
    /// Read-only (`read`) or read and write (`write`).
    pub access: Access,
    /// Where it comes from.
    pub source: DefaultSource,
}

/// Where harden learnt the repository's default token permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultSource {
    /// `--repository-default`.
    Flag,
    /// `permissions: {repository-default: ...}` in `.github/harden.yml`.
    Config,
    /// `GET /repos/{owner}/{repo}/actions/permissions/workflow`.
    Api,
}

impl RepositoryDefault {
    /// How messages name it: `read-only (from .github/harden.yml)`.
    fn shown(&self) -> String {
        let access = match self.access {
            Access::Write => "read and write",
            _ => "read-only",
        };
        let source = match self.source {
            DefaultSource::Flag => "--repository-default",
            DefaultSource::Config => ".github/harden.yml",
            DefaultSource::Api => "the repository's settings, read from the API",
        };
        format!("{access} (from {source})")
    }

    /// True when a job without a block gets a read-only token.
    fn read_only(&self) -> bool {
        self.access != Access::Write
    }
}

impl PermissionsOptions {
    /// The options from the settings: declarations parsed (flags first, then the file).
    pub fn from_settings(settings: &PermissionsSettings) -> Result<Self, String> {
        let mut declared = Vec::new();
        for text in &settings.declare {
            declared.push(
                text.parse::<DeclaredJob>()
                    .map_err(|e| format!("--declare {e}"))?,
            );
        }
        for (workflow, jobs) in &settings.jobs {
            for (job, grants) in jobs {
                let place = format!(".github/harden.yml: permissions.jobs.{workflow}.{job}");
                let mut permissions = BTreeMap::new();
                for (scope, access) in grants.iter().filter(|(_, a)| a.as_str() != "none") {
                    let scope = scope
                        .parse::<Scope>()
                        .map_err(|e| format!("{place}: {e}"))?;
                    let access = access
                        .parse::<Access>()
                        .map_err(|e| format!("{place}: {e}"))?;
                    permissions.insert(scope, access);
                }
                declared.push(DeclaredJob {
                    workflow: workflow.clone(),
                    job: job.clone(),
                    permissions,
                });
            }
        }
        Ok(PermissionsOptions {
            declared,
            move_writes: settings.move_writes,
            narrow: settings.narrow,
            strict: settings.strict,
            repository_default: settings.repository_default,
        })
    }
}

fn build_from_settings(
    services: &crate::registry::Services,
    settings: &crate::registry::Settings,
) -> Result<Option<Box<dyn Transform>>, String> {
    let mut permissions =
        Permissions::new(PermissionsOptions::from_settings(&settings.permissions)?);
    if let Some(files) = &services.files {
        permissions = permissions.with_remote(std::sync::Arc::clone(files));
    }
    Ok(Some(Box::new(permissions)))
}

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

/// `*` (within a path segment), `**` (anything) and `?` (one character), as globset reads
/// paths.
fn glob(pattern: &str, text: &str) -> bool {
    crate::globs::matches(pattern, crate::globs::Flavor::Paths, text)
}

/// Options of the transform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionsOptions {
    /// Jobs whose permissions the user declared (from the CLI or the config file).
    pub declared: Vec<DeclaredJob>,
    /// `--move-writes`: move the write scopes of a top-level block the maintainers wrote
    /// down to the jobs that need them (the top level keeps read access only).
    pub move_writes: bool,
    /// `--narrow`: replace a block the maintainers wrote that grants more than harden
    /// settles for the jobs under it with harden's block (fully settled jobs only).
    pub narrow: bool,
    /// `--strict`: a program harden cannot see into makes its job undetermined even without
    /// a sign that it writes with the job token (the rule before evidence).
    pub strict: bool,
    /// The repository's default token permissions, when known: where they are read-only, a
    /// job without a block cannot write today, so harden settles it.
    pub repository_default: Option<RepositoryDefault>,
}

/// The `permissions` transform.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    options: PermissionsOptions,
    /// Where actions and workflows of other repositories are read; `None` reads none.
    remote: Option<std::sync::Arc<dyn RemoteFiles>>,
    /// The repository's `owner/repo` on GitHub; `None` reads it from the `origin` remote.
    own_repository: Option<String>,
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
    /// Why the job is undetermined (empty when it is not): one reason per step.
    pub undetermined: Vec<String>,
    /// True when the transform reports the job as undetermined (it has no block of its own,
    /// inherits none the maintainers wrote, is not declared nor in a called workflow).
    pub reported: bool,
    /// The programs harden took on trust to settle the job (no sign that they write with
    /// the job token); empty with `--strict` or when nothing was assumed.
    pub assumed: Vec<String>,
}

/// A block to write: its scopes, and why each is needed (`None` for a declared block).
type Block<'a> = (BTreeMap<Scope, Access>, Option<&'a ScopeSet>);

/// One job of a workflow, read.
struct JobPlan<'d> {
    id: String,
    key_line: usize,
    alias: bool,
    /// The job uses a merge key (`<<`): harden cannot read it whole.
    merge_key: bool,
    /// The workflow runs on an event whose token can write.
    writes: bool,
    /// Where the job's mapping starts (the same for a job and its aliases).
    target: usize,
    own: Option<(&'d harden_yaml::Node, Grant)>,
    declared: Option<DeclaredJob>,
    analysis: Analysis,
    /// Programs harden cannot see into and found no sign of writing in: the job is settled on
    /// the assumption that they do not push nor call the API (empty with `--strict`).
    assumed: Vec<analyze::OpaqueStep>,
    /// Nothing the job runs is unread or taken on trust (`--narrow` may replace its block).
    settled_fully: bool,
    /// Harden would restrict the job: no block of its own, none inherited from the
    /// maintainers (unless `--move-writes`), not declared, not in a called workflow.
    restricted: bool,
}

impl Permissions {
    /// The transform with these options.
    pub fn new(options: PermissionsOptions) -> Self {
        Permissions {
            options,
            remote: None,
            own_repository: None,
        }
    }

    /// Names the repository `owner/repo` on GitHub instead of reading its `origin` remote
    /// (a local reusable workflow the knowledge base describes under that name is read
    /// from the knowledge base; see `own_repo.rs`).
    pub fn with_own_repository(mut self, own: impl Into<String>) -> Self {
        self.own_repository = Some(own.into());
        self
    }

    /// True when the repository's default token is known to be read-only.
    fn default_read_only(&self) -> bool {
        self.options
            .repository_default
            .is_some_and(|d| d.read_only())
    }

    /// The analyzer of `repo`, with the services and names this transform was given.
    fn analyzer<'a>(&'a self, repo: &'a Repository, kb: &'a kb::Kb) -> Analyzer<'a> {
        let own = self
            .own_repository
            .clone()
            .or_else(|| own_repo::from_git_config(&repo.root));
        Analyzer::new(repo, kb, &self.options.declared)
            .with_remote(self.remote.as_deref())
            .with_own_repository(own)
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
        let an = self.analyzer(repo, kb);
        an.prefetch();
        let mut out = Vec::new();
        for (file, doc) in repo.documents(FileKind::Workflow) {
            let d = Workflow::new(doc);
            let Some(root) = d.root() else { continue };
            let settled =
                d.permissions(root).is_some() || triggers(&d, root).contains("workflow_call");
            for plan in self.plan_jobs(&an, &d, file, root) {
                let reported = !settled
                    && plan.own.is_none()
                    && plan.declared.is_none()
                    && !plan.analysis.unsure.is_empty();
                let written = match &plan.own {
                    Some((_, Grant::Scopes(map))) => Some(map.clone()),
                    _ => None,
                };
                out.push(JobReport {
                    path: file.path.clone(),
                    job: plan.id,
                    written,
                    has_block: plan.own.is_some(),
                    inferred: plan
                        .analysis
                        .unsure
                        .is_empty()
                        .then(|| plan.analysis.needs.accesses()),
                    undetermined: plan
                        .analysis
                        .unsure
                        .iter()
                        .map(|u| format!("{} {}", u.step, u.reason))
                        .collect(),
                    reported,
                    assumed: plan.assumed.iter().map(|o| o.program.clone()).collect(),
                });
            }
        }
        out
    }

    fn plan_jobs<'d>(
        &self,
        an: &Analyzer<'_>,
        d: &Workflow<'d>,
        file: &SourceFile,
        root: &'d harden_yaml::Node,
    ) -> Vec<JobPlan<'d>> {
        let ctx = TokenCtx::workflow();
        let mut jobs = Vec::new();
        let events = triggers(d, root);
        // No trigger read (an alias, an expression): assume it can write.
        let writes = events.is_empty() || events.iter().any(|e| an.kb.commands.can_write(e));
        let top_written = d.permissions(root).is_some();
        let called = events.contains("workflow_call");
        for job in d.jobs() {
            let (id, node) = (job.id, job.node);
            if node.as_mapping().is_none() {
                continue;
            }
            let own = d.permissions(node).map(|n| (n, Grant::parse(n)));
            let declared = an.declaration(&file.path, id).cloned();
            let mut analysis = an.job(d, &file.path, root, node, &ctx);
            let settled_fully = analysis.unsure.is_empty() && analysis.opaque.is_empty();
            let restricted = own.is_none()
                && declared.is_none()
                && !called
                && (!top_written || self.options.move_writes);
            // Without `--strict`, a program with no sign of writing is taken on trust.
            let mut assumed = Vec::new();
            if !self.options.strict {
                let (signs, trusted) = std::mem::take(&mut analysis.opaque)
                    .into_iter()
                    .partition(|o| o.sign);
                analysis.opaque = signs;
                if restricted && writes && !self.default_read_only() {
                    assumed = trusted;
                }
            }
            // Opaque programs matter where harden would restrict the job: not under a block
            // the maintainers wrote, not in a called workflow, and only when the token can
            // write (a workflow with top-level `permissions` is settled by `--move-writes`).
            // Where the repository's default is read-only, a job without a block cannot
            // write today: a sign is a latent 403, reported, not a reason to hold back.
            if own.is_none() && declared.is_none() && !top_written && !called && writes {
                if self.default_read_only() {
                    latent_signs(&mut analysis);
                } else {
                    analysis
                        .unsure
                        .extend(analysis.opaque.iter().map(|o| o.unsure.clone()));
                }
            }
            jobs.push(JobPlan {
                assumed,
                settled_fully,
                restricted,
                id: id.to_owned(),
                key_line: job.key.line,
                alias: job.is_alias(),
                merge_key: harden_yaml::has_merge_key(node),
                target: node.span.start,
                own,
                declared,
                writes,
                analysis,
            });
        }
        jobs
    }

    fn workflow(&self, an: &Analyzer<'_>, file: &SourceFile, out: &mut Outcome) -> Tally {
        let Some(doc) = file.document() else {
            return Tally::default();
        };
        let d = Workflow::new(doc);
        let Some(root) = d.root() else {
            return Tally::default();
        };
        let jobs_map = d.get(root, "jobs").and_then(|j| j.as_mapping());
        if root.as_mapping().is_none() || jobs_map.is_none() {
            return Tally::default();
        }
        // Blocks as written: a name GitHub rejects stops here (the workflow does not run).
        if !check_names(&d, root, file, out) {
            return Tally::default();
        }
        let plan = self.plan(an, &d, file, root);
        apply_plan(&plan, file, EditSet::new(doc), out);
        plan.tally
    }

    /// Decides what happens to the workflow `file` (its document `d`), without editing.
    fn plan(
        &self,
        an: &Analyzer<'_>,
        d: &Workflow<'_>,
        file: &SourceFile,
        root: &harden_yaml::Node,
    ) -> WorkflowPlan {
        let shown = an.relative(&file.path);
        let called = triggers(d, root).contains("workflow_call");
        let top_node = d.permissions(root);
        let top = top_node.map(Grant::parse);
        let jobs = self.plan_jobs(an, d, file, root);
        let mut findings = Vec::new();
        // Where the repository's default is read-only, a job without a block cannot write
        // today: `contents: read` at the top level changes nothing for an undetermined job.
        let blocking = !self.default_read_only()
            && jobs
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
        let narrowed: Vec<narrow::Narrowed> = if self.options.narrow && !called {
            jobs.iter().filter_map(|j| narrow::job(j, &jobs)).collect()
        } else {
            Vec::new()
        };
        let context = Context {
            narrowed: &narrowed,
            file,
            shown: &shown,
            top: top_node.zip(top.as_ref()),
            baseline: baseline.as_ref(),
            called,
            blocks_top: !called && !self.default_read_only(),
        };
        let mut blocks = decide_blocks(&jobs, &context, &mut findings);
        // A job whose own block cannot be written (reached through an alias or a merge key):
        // nothing in this workflow changes, since a top-level block would cap it too.
        if let Some((line, message)) = unwritable(&jobs, &blocks) {
            findings.insert(0, finding_at(file, Some(line), Severity::Warning, message));
            return WorkflowPlan {
                findings,
                writes: false,
                top: TopPlan::Keep,
                jobs: Vec::new(),
                narrowed: Vec::new(),
                tally: Tally {
                    undetermined: jobs.iter().filter(|j| j.restricted).count(),
                    ..Tally::default()
                },
            };
        }
        let mut moved = vec![false; jobs.len()];
        let mut top_plan = TopPlan::Keep;
        let narrowed_top = match (top_node, &top) {
            (Some(node), Some(grant)) if self.options.narrow && !called => {
                narrow_top(node, grant, &jobs, &mut blocks, &mut moved)
            }
            _ => None,
        };
        if let Some(n) = narrowed_top {
            top_plan = TopPlan::Narrow(n);
        } else if let (Some(node), Some(grant)) = (top_node, &top) {
            let top_edit = TopEdit {
                node,
                grant,
                move_writes: self.options.move_writes && !called,
            };
            top_plan = top_edit.decide(file, &jobs, &mut blocks, &mut moved, &mut findings);
        }
        if called && jobs.iter().any(|j| j.own.is_none() && j.declared.is_none()) {
            let on_line = root
                .as_mapping()
                .and_then(|m| m.get("on"))
                .map(|e| e.key.line);
            findings.push(finding_at(
                file,
                on_line,
                Severity::Note,
                "called workflow (`on: workflow_call`): harden adds no `permissions` here; the calling job's block caps it, and callers in this repository get what it needs".to_owned(),
            ));
        }
        if add_top {
            let jobs_line = root
                .as_mapping()
                .and_then(|m| m.get("jobs"))
                .map_or(1, |e| e.key.line);
            top_plan = TopPlan::AddReadOnly { jobs_line };
        }
        WorkflowPlan {
            findings,
            writes: true,
            top: top_plan,
            jobs: job_blocks(&jobs, &blocks, &moved),
            narrowed,
            tally: Tally::of(&jobs),
        }
    }
}

/// How the jobs harden would restrict ended, for the closing count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    /// Settled (declared jobs included), with no assumption.
    settled: usize,
    /// Settled on the assumption that programs without a sign of writing do not write.
    assumed: usize,
    /// Left undetermined.
    undetermined: usize,
}

impl Tally {
    fn of(jobs: &[JobPlan<'_>]) -> Tally {
        let mut t = Tally::default();
        for j in jobs.iter().filter(|j| j.restricted || j.declared.is_some()) {
            if j.declared.is_none() && !j.analysis.unsure.is_empty() {
                t.undetermined += 1;
            } else if j.declared.is_none() && !j.assumed.is_empty() {
                t.assumed += 1;
            } else {
                t.settled += 1;
            }
        }
        t
    }

    fn add(&mut self, other: Tally) {
        self.settled += other.settled;
        self.assumed += other.assumed;
        self.undetermined += other.undetermined;
    }

    /// The closing note, when a job was settled on an assumption or left undetermined.
    fn closing(&self) -> Option<String> {
        if self.assumed == 0 && self.undetermined == 0 {
            return None;
        }
        let jobs = |n: usize| if n == 1 { "job" } else { "jobs" };
        Some(format!(
            "{} {} settled, {} settled on an assumption (see the `assumed not to push` notes), {} undetermined",
            self.settled,
            jobs(self.settled),
            self.assumed,
            self.undetermined
        ))
    }
}

/// Where the repository's default token is read-only: each sign of writing becomes a note
/// (a latent 403: if the program writes, it already fails), not a reason to hold back.
fn latent_signs(analysis: &mut Analysis) {
    for o in std::mem::take(&mut analysis.opaque) {
        let u = o.unsure;
        let note = format!(
            "{} (line {}) {}; the repository's default token is read-only, so if it writes it already fails (a latent 403): give the job the scope it needs",
            u.step, u.line, u.reason
        );
        if !analysis.notes.iter().any(|(_, n)| *n == note) {
            analysis.notes.push((u.line, note));
        }
    }
}

/// The note for a job settled on an assumption: the programs harden took on trust.
fn assumption(file: &SourceFile, job: &JobPlan<'_>) -> Option<Finding> {
    let first = job.assumed.first()?;
    let mut programs: Vec<&str> = Vec::new();
    for o in &job.assumed {
        if !programs.contains(&o.program.as_str()) {
            programs.push(&o.program);
        }
    }
    let shown: Vec<String> = programs.iter().take(6).map(|p| (*p).to_owned()).collect();
    let more = programs.len().saturating_sub(6);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let held = if job.assumed.iter().all(|o| o.git_only) {
        "git holds the job token"
    } else {
        "the job token can reach them"
    };
    Some(finding_at(
        file,
        Some(first.unsure.line),
        Severity::Note,
        format!(
            "job `{}`: assumed not to push or call the API: {}{more} ({held}, and harden found no sign that they write: no push, API client or token in what it reads). Fix, if one does: declare the job, or run with `--strict` (`permissions: {{strict: true}}` in `.github/harden.yml`) to leave such jobs undetermined",
            job.id,
            shown.join(", ")
        ),
    ))
}

/// What harden decided for one workflow, before any edit: plain data (see `apply_plan`).
#[derive(Debug, Clone, PartialEq)]
struct WorkflowPlan {
    /// What the decisions report, in order.
    findings: Vec<Finding>,
    /// False when nothing in the workflow may change (a job's block cannot be written).
    writes: bool,
    /// What happens to the top-level block.
    top: TopPlan,
    /// The blocks to write into jobs, in the order of the jobs.
    jobs: Vec<JobBlock>,
    /// `--narrow`: the jobs' own blocks replaced.
    narrowed: Vec<narrow::Narrowed>,
    /// How the jobs ended, for the closing count.
    tally: Tally,
}

/// What happens to the top-level `permissions` block.
#[derive(Debug, Clone, PartialEq)]
enum TopPlan {
    /// It stays as it is (or absent).
    Keep,
    /// `permissions: {contents: read}` is added before `jobs:` (at that line).
    AddReadOnly { jobs_line: usize },
    /// `--move-writes`: the block's writes are lowered (its line, and each scope's new value,
    /// or `None` for `write-all` becoming `read-all`); the jobs that need them get blocks
    /// (`JobBlock::moved`).
    MoveWrites {
        line: usize,
        lowered: Option<Vec<(Scope, &'static str)>>,
    },
    /// `--narrow`: the block is replaced; the jobs inheriting it that need more get blocks
    /// (`JobBlock::moved`).
    Narrow(narrow::Narrowed),
}

/// A `permissions:` block to write into a job.
#[derive(Debug, Clone, PartialEq)]
struct JobBlock {
    /// The job's id and the line of its key.
    job: String,
    key_line: usize,
    /// The scopes, and why each is needed (`None` for a declared block).
    scopes: BTreeMap<Scope, Access>,
    reasons: Option<ScopeSet>,
    /// The settled steps, for the comment of an empty block.
    settled: Vec<String>,
    /// The block comes from `--move-writes`: written only when the top-level block is
    /// lowered.
    moved: bool,
}

/// The blocks decided for `jobs` that are written (a job and its aliases share one block,
/// written into the anchored job).
fn job_blocks(jobs: &[JobPlan<'_>], blocks: &[Option<Block<'_>>], moved: &[bool]) -> Vec<JobBlock> {
    jobs.iter()
        .zip(blocks)
        .zip(moved)
        .filter(|((job, _), _)| !job.alias)
        .filter_map(|((job, block), moved)| {
            let (map, reasons) = block.as_ref()?;
            Some(JobBlock {
                job: job.id.clone(),
                key_line: job.key_line,
                scopes: map.clone(),
                reasons: reasons.cloned(),
                settled: job.analysis.settled.clone(),
                moved: *moved,
            })
        })
        .collect()
}

/// A finding of this transform in `file`, at `line`.
fn finding_at(
    file: &SourceFile,
    line: Option<usize>,
    severity: Severity,
    message: String,
) -> Finding {
    Finding::at(
        NAME,
        &file.path,
        line.map(|l| harden_yaml::Location { line: l, column: 1 }),
        severity,
        message,
    )
}

/// Makes the edits `plan` decided; reports an edit that cannot be made, and writes nothing
/// when the guard rejects the result.
fn apply_plan(plan: &WorkflowPlan, file: &SourceFile, mut edits: EditSet<'_>, out: &mut Outcome) {
    if !plan.writes {
        out.findings.extend(plan.findings.iter().cloned());
        return;
    }
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    let mut lowered = true;
    match &plan.top {
        TopPlan::Keep => {}
        TopPlan::AddReadOnly { jobs_line } => {
            if let Err(message) = add_top_block(*jobs_line, &mut edits, &mut notes) {
                errors.push(finding_at(file, Some(*jobs_line), Severity::Error, message));
            }
        }
        TopPlan::MoveWrites { line, lowered: l } => {
            if let Err(why) = lower_top_block(*line, l.as_deref(), &mut edits, &mut notes) {
                errors.push(finding_at(file, Some(*line), Severity::Warning, why));
                lowered = false;
            }
        }
        TopPlan::Narrow(n) => {
            if let Err(why) = narrow::apply(n, &mut edits, &mut notes) {
                errors.push(finding_at(file, Some(n.line), Severity::Warning, why));
                lowered = false;
            }
        }
    }
    for n in &plan.narrowed {
        if let Err(why) = narrow::apply(n, &mut edits, &mut notes) {
            errors.push(finding_at(file, Some(n.line), Severity::Warning, why));
        }
    }
    let jobs_path = Path::root(0).key("jobs");
    for block in plan.jobs.iter().filter(|b| lowered || !b.moved) {
        let (entry, message) = block_entry(&block.scopes, block.reasons.as_ref(), &block.settled);
        match edits.insert_entry(&jobs_path.key(&block.job), InsertAt::First, entry) {
            Ok(()) => notes.push(ChangeNote {
                line: block.key_line,
                message: format!("job {}: {message}", block.job),
            }),
            Err(e) => errors.push(finding_at(
                file,
                Some(block.key_line),
                Severity::Error,
                format!(
                    "could not add a `permissions` block to job `{}`: {e}",
                    block.job
                ),
            )),
        }
    }
    if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut out.findings) {
        out.changes.push(change);
    }
    out.findings.extend(plan.findings.iter().cloned());
    out.findings.extend(errors);
}

/// The top-level block the maintainers wrote: reported against the jobs that inherit it,
/// or, with `--move-writes`, its writes moved down to them.
struct TopEdit<'a, 'd> {
    node: &'d harden_yaml::Node,
    grant: &'a Grant,
    move_writes: bool,
}

impl<'j> TopEdit<'_, '_> {
    /// What happens to the block: the blocks of the jobs its writes move to go into
    /// `blocks` (marked in `moved`).
    fn decide(
        &self,
        file: &SourceFile,
        jobs: &'j [JobPlan<'_>],
        blocks: &mut [Option<Block<'j>>],
        moved: &mut [bool],
        findings: &mut Vec<Finding>,
    ) -> TopPlan {
        let line = Some(self.node.line);
        let inheriting: Vec<&JobPlan<'_>> = jobs
            .iter()
            .zip(blocks.iter())
            .filter(|(j, b)| j.own.is_none() && b.is_none())
            .map(|(j, _)| j)
            .collect();
        if !self.move_writes {
            if let Some((severity, message)) = top_finding(self.grant, &inheriting) {
                findings.push(finding_at(file, line, severity, message));
            }
            return TopPlan::Keep;
        }
        match move_writes(self.grant, &inheriting) {
            Ok((lowered, to_jobs)) => {
                for (id, block) in to_jobs {
                    if let Some(i) = jobs.iter().position(|j| j.id == id) {
                        blocks[i] = Some(block);
                        moved[i] = true;
                    }
                }
                TopPlan::MoveWrites {
                    line: self.node.line,
                    lowered,
                }
            }
            Err(Some(why)) => {
                findings.push(finding_at(file, line, Severity::Warning, why));
                TopPlan::Keep
            }
            Err(None) => TopPlan::Keep,
        }
    }
}

/// `--narrow` on the top-level block: its replacement, with the blocks of the jobs that
/// inherit it and need more going into `blocks` (marked in `moved`).
fn narrow_top<'j>(
    node: &harden_yaml::Node,
    grant: &Grant,
    jobs: &'j [JobPlan<'_>],
    blocks: &mut [Option<Block<'j>>],
    moved: &mut [bool],
) -> Option<narrow::Narrowed> {
    let inheriting: Vec<&JobPlan<'_>> = jobs
        .iter()
        .zip(blocks.iter())
        .filter(|(j, b)| j.own.is_none() && b.is_none())
        .map(|(j, _)| j)
        .collect();
    let (narrowed, to_jobs) = narrow::top(node, grant, &inheriting)?;
    for (id, (map, _)) in to_jobs {
        if let Some(i) = jobs.iter().position(|j| j.id == id) {
            blocks[i] = Some((map, Some(&jobs[i].analysis.needs)));
            moved[i] = true;
        }
    }
    Some(narrowed)
}

/// Adds `permissions: {contents: read}` before `jobs:` (at `jobs_line`).
fn add_top_block(
    jobs_line: usize,
    edits: &mut EditSet<'_>,
    notes: &mut Vec<ChangeNote>,
) -> Result<(), String> {
    let entry = NewEntry::new(
        "permissions",
        NewValue::Mapping(vec![NewEntry::new("contents", NewValue::string("read"))]),
    );
    match edits.insert_entry(&Path::root(0), InsertAt::Before("jobs".into()), entry) {
        Ok(()) => {
            notes.push(ChangeNote {
                line: jobs_line,
                message: "workflow: contents: read (every job starts from read-only)".into(),
            });
            Ok(())
        }
        Err(e) => Err(format!(
            "could not add the top-level `permissions` block: {e}"
        )),
    }
}

/// `--move-writes`: rewrites the top-level block (at `line`) to the values `lowered` gives
/// (`None`: `write-all` becomes `read-all`).
fn lower_top_block(
    line: usize,
    lowered: Option<&[(Scope, &'static str)]>,
    edits: &mut EditSet<'_>,
    notes: &mut Vec<ChangeNote>,
) -> Result<(), String> {
    let path = Path::root(0).key("permissions");
    let note = |what: String| ChangeNote {
        line,
        message: format!(
            "workflow: {what} (--move-writes: writes moved to the jobs that need them)"
        ),
    };
    let Some(lowered) = lowered else {
        edits
            .replace_scalar(&path, "read-all")
            .map_err(|e| format!("--move-writes: could not rewrite `write-all`: {e}"))?;
        notes.push(note("permissions: read-all".to_owned()));
        return Ok(());
    };
    for (scope, value) in lowered {
        edits
            .replace_scalar(&path.key(scope.as_str()), value)
            .map_err(|e| format!("--move-writes: could not rewrite `{scope}`: {e}"))?;
        notes.push(note(format!("{scope}: {value}")));
    }
    Ok(())
}

/// What the decisions for a workflow's jobs depend on.
struct Context<'a, 'd> {
    file: &'a SourceFile,
    shown: &'a str,
    /// The top-level block the maintainers wrote, and what it grants.
    top: Option<(&'d harden_yaml::Node, &'a Grant)>,
    /// What a job inherits once harden is done (the block written or to be added).
    baseline: Option<&'a Grant>,
    called: bool,
    /// An undetermined job holds back the top-level block.
    blocks_top: bool,
    /// The jobs whose own blocks `--narrow` replaces (their "grants more" note goes).
    narrowed: &'a [narrow::Narrowed],
}

/// Decides each job: a block to write (scopes, and the reasons unless declared), or none;
/// reports what deserves it.
fn decide_blocks<'j>(
    jobs: &'j [JobPlan<'_>],
    cx: &Context<'_, '_>,
    findings: &mut Vec<Finding>,
) -> Vec<Option<Block<'j>>> {
    let finding = |line: usize, severity, message: String| {
        Finding::at(
            NAME,
            &cx.file.path,
            Some(harden_yaml::Location { line, column: 1 }),
            severity,
            message,
        )
    };
    let mut blocks = Vec::new();
    for job in jobs {
        for (line, note) in &job.analysis.notes {
            findings.push(finding(
                *line,
                Severity::Note,
                format!("job `{}`: {note}", job.id),
            ));
        }
        if job.analysis.unsure.is_empty() {
            findings.extend(assumption(cx.file, job));
        }
        let block = if let Some((node, grant)) = &job.own {
            let replaced = cx
                .narrowed
                .iter()
                .any(|n| n.job.as_deref() == Some(job.id.as_str()));
            if let Some((severity, message)) = own_block_finding(job, grant).filter(|_| !replaced) {
                findings.push(finding(node.line, severity, message));
            }
            None
        } else if let Some(decl) = &job.declared {
            Some((decl.permissions.clone(), None))
        } else if let Some((node, grant)) = cx.top {
            // It inherits the maintainers' block: reported when it lacks something, never
            // widened.
            if let Some((severity, message)) = inherited_finding(job, grant, node.line) {
                findings.push(finding(job.key_line, severity, message));
            }
            None
        } else if !job.analysis.unsure.is_empty() {
            findings.push(undetermined(cx.file, cx.shown, job, cx.blocks_top));
            None
        } else if cx.called {
            None
        } else {
            let needs = job.analysis.needs.accesses();
            let exceeds = cx.baseline.is_none_or(|g| !g.covers(&needs));
            exceeds.then_some((needs, Some(&job.analysis.needs)))
        };
        blocks.push(block);
    }
    blocks
}

/// The first job whose block harden cannot write on its own: an alias of a job that gets
/// another block (or none), or a job built with a merge key (`<<: *base`).
fn unwritable(jobs: &[JobPlan<'_>], blocks: &[Option<Block<'_>>]) -> Option<(usize, String)> {
    for (i, (job, block)) in jobs.iter().zip(blocks).enumerate() {
        if job.own.is_some() {
            continue;
        }
        if job.merge_key {
            return Some((
                job.key_line,
                format!(
                    "job `{}` is built with a YAML merge key (`<<`), which harden does not read; it changes nothing in this workflow (a top-level block would cap that job too). Fix: give the job a `permissions:` block by hand (harden keeps it)",
                    job.id
                ),
            ));
        }
        if !job.alias {
            continue;
        }
        let Some((map, _)) = block else { continue };
        let shared = jobs.iter().zip(blocks).enumerate().any(|(k, (other, b))| {
            k != i
                && !other.alias
                && other.target == job.target
                && b.as_ref().is_some_and(|(m, _)| m == map)
        });
        if !shared {
            return Some((
                job.key_line,
                format!(
                    "job `{}` is an alias of another job and needs {} of its own; harden cannot write that block, so it changes nothing in this workflow (a top-level block would cap that job too). Fix: write the job out, or give it a `permissions:` block by hand (harden keeps it)",
                    job.id,
                    summary(map)
                ),
            ));
        }
    }
    None
}

/// Reports wrong names in the workflow's `permissions:` blocks; false when GitHub rejects
/// the workflow (then harden leaves it alone).
fn check_names(
    d: &Workflow<'_>,
    root: &harden_yaml::Node,
    file: &SourceFile,
    out: &mut Outcome,
) -> bool {
    let mut blocks: Vec<&harden_yaml::Node> = d.permissions(root).into_iter().collect();
    for job in d.jobs() {
        blocks.extend(d.permissions(job.node));
    }
    let mut ok = true;
    for block in blocks {
        for p in check_block(block) {
            ok &= !p.fatal;
            out.findings.push(Finding::at(
                NAME,
                &file.path,
                Some(harden_yaml::Location {
                    line: p.line,
                    column: p.column,
                }),
                if p.fatal {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                p.message,
            ));
        }
    }
    ok
}

/// The finding for a job that inherits the maintainers' top-level block, if that block
/// lacks something the job needs.
fn inherited_finding(job: &JobPlan<'_>, grant: &Grant, line: usize) -> Option<(Severity, String)> {
    if !job.analysis.unsure.is_empty() {
        return None;
    }
    let needs = job.analysis.needs.accesses();
    if lacking(grant, &needs).is_empty() {
        return None;
    }
    let missing = missing(grant, &job.analysis.needs);
    let what = if grant.as_map().is_some_and(|m| m.is_empty()) {
        "`permissions: {}`"
    } else {
        "the top-level `permissions`"
    };
    if public_read_only(grant, &needs) {
        return Some((
            Severity::Note,
            format!(
                "job `{}` inherits {what} (line {line}), which lacks {missing}: this fails only if the repository becomes private. harden does not widen a block the maintainers wrote",
                job.id
            ),
        ));
    }
    Some((
        Severity::Warning,
        format!(
            "job `{}` inherits {what} (line {line}), which lacks {missing}: a latent 403. harden does not widen a block the maintainers wrote. Fix: give the job its own `permissions:` block (harden keeps it), or drop the step",
            job.id
        ),
    ))
}

/// True when all `grant` lacks is read access (a public repository can be read without it).
fn public_read_only(grant: &Grant, needs: &BTreeMap<Scope, Access>) -> bool {
    lacking(grant, needs)
        .iter()
        .all(|(_, a)| *a == Access::Read)
}

/// What `grant` lacks of `needs`, for reports. Comments and labels on a pull request work
/// with either `issues` or `pull-requests`, so either one granted counts for the other.
fn lacking(grant: &Grant, needs: &BTreeMap<Scope, Access>) -> Vec<(Scope, Access)> {
    let has = |s: Scope, a: Access| grant.covers(&BTreeMap::from([(s, a)]));
    needs
        .iter()
        .filter(|(s, a)| {
            let alt = match s {
                Scope::Issues => Some(Scope::PullRequests),
                Scope::PullRequests => Some(Scope::Issues),
                _ => None,
            };
            !has(**s, **a) && !alt.is_some_and(|alt| has(alt, **a))
        })
        .map(|(s, a)| (*s, *a))
        .collect()
}

/// `issues: write (gh issue comment: comments on an issue)` for each need `grant` lacks.
fn missing(grant: &Grant, needs: &ScopeSet) -> String {
    lacking(grant, &needs.accesses())
        .into_iter()
        .map(|(s, a)| match needs.first_reason(s) {
            Some(r) => format!("{s}: {a} ({})", r.comment()),
            None => format!("{s}: {a}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--move-writes`: the top-level block keeps only read access; each job that inherits it
/// and needs some of its writes gets its own block with what it needs (never more than the
/// top level granted). `Err(Some(why))` when it cannot be done safely, `Err(None)` when
/// there is nothing to move. Decides only: `lower_top_block` edits.
fn move_writes<'a>(
    grant: &Grant,
    inheriting: &[&'a JobPlan<'_>],
) -> Result<MovedWrites<'a>, Option<String>> {
    // `write-all` becomes `read-all`; a mapping keeps its reads.
    let write_all = *grant == Grant::WriteAll;
    let top = match grant {
        Grant::Scopes(map) => map.clone(),
        Grant::WriteAll => grant.as_map().unwrap_or_default(),
        _ => return Err(None),
    };
    let writes: Vec<Scope> = top
        .iter()
        .filter(|(_, a)| **a == Access::Write)
        .map(|(s, _)| *s)
        .collect();
    if writes.is_empty() {
        return Err(None);
    }
    let unsure: Vec<String> = inheriting
        .iter()
        .filter(|j| j.declared.is_none())
        .filter(|j| !j.analysis.unsure.is_empty() || (j.writes && !j.analysis.opaque.is_empty()))
        .map(|j| {
            let u = j
                .analysis
                .unsure
                .first()
                .or_else(|| j.analysis.opaque.first().map(|o| &o.unsure));
            match u {
                Some(u) => format!("`{}` ({} at line {}: {})", j.id, u.step, u.line, u.reason),
                None => format!("`{}`", j.id),
            }
        })
        .collect();
    if !unsure.is_empty() {
        return Err(Some(format!(
            "--move-writes: the top-level writes stay, since harden cannot tell what these jobs need: {}. Fix: give them their own `permissions:` blocks (harden keeps them)",
            unsure.join("; ")
        )));
    }
    let lowered_grant = if write_all {
        Grant::ReadAll
    } else {
        Grant::Scopes(
            top.iter()
                .filter_map(|(s, a)| match (s, a) {
                    (_, Access::Read) => Some((*s, *a)),
                    (Scope::Contents, Access::Write) => Some((*s, Access::Read)),
                    _ => None,
                })
                .collect(),
        )
    };
    let mut out = Vec::new();
    for j in inheriting.iter().filter(|j| j.declared.is_none()) {
        let capped: BTreeMap<Scope, Access> = j
            .analysis
            .needs
            .accesses()
            .into_iter()
            .filter_map(|(s, a)| top.get(&s).map(|t| (s, a.min(*t))))
            .collect();
        if !lowered_grant.covers(&capped) {
            out.push((j.id.clone(), (capped, Some(&j.analysis.needs))));
        }
    }
    if write_all {
        return Ok((None, out));
    }
    let lowered = writes
        .into_iter()
        .map(|scope| {
            let value = if scope == Scope::Contents {
                "read"
            } else {
                "none"
            };
            (scope, value)
        })
        .collect();
    Ok((Some(lowered), out))
}

/// What `--move-writes` does: the top-level block's new values (`None`: `read-all`), and
/// the blocks of the jobs the writes move to.
type MovedWrites<'a> = (Option<Vec<(Scope, &'static str)>>, Vec<(String, Block<'a>)>);

/// The finding for a job's own block, if it deserves one.
fn own_block_finding(job: &JobPlan<'_>, grant: &Grant) -> Option<(Severity, String)> {
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
            Some((
                Severity::Warning,
                format!(
                    "job `{}` has `permissions: {word}`; {what}; narrow it by hand",
                    job.id
                ),
            ))
        }
        Grant::Scopes(_) if determined && !lacking(grant, &inferred).is_empty() => {
            let missing = missing(grant, &job.analysis.needs);
            Some(if public_read_only(grant, &inferred) {
                (
                    Severity::Note,
                    format!(
                        "job `{}`: its `permissions:` block lacks {missing}: this fails only if the repository becomes private. harden does not widen a block the maintainers wrote",
                        job.id
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "job `{}`: its `permissions:` block lacks {missing}: a latent 403. harden does not widen a block the maintainers wrote. Fix: add the scope to the block, or drop the step",
                        job.id
                    ),
                )
            })
        }
        Grant::Scopes(_) if determined => {
            let extra = wider(grant, &inferred);
            (!extra.is_empty()).then(|| {
                (
                    Severity::Note,
                    format!(
                        "job `{}` grants more than harden infers: {} (harden infers {})",
                        job.id,
                        extra.join(", "),
                        summary(&inferred)
                    ),
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
                format!("top-level `permissions: {word}` grants every scope; {inferred}; narrow it by hand{}", if *grant == Grant::WriteAll { " or run `harden --move-writes`" } else { "" }),
            ))
        }
        Grant::Scopes(map) if inheriting.is_empty() => {
            let writes: Vec<String> = map
                .iter()
                .filter(|(_, a)| **a == Access::Write)
                .map(|(s, a)| format!("{s}: {a}"))
                .collect();
            (!writes.is_empty()).then(|| {
                (
                    Severity::Note,
                    format!(
                        "top-level `permissions` grant {}, but every job has its own block: no job uses them. Fix: remove them",
                        writes.join(", ")
                    ),
                )
            })
        }
        Grant::Scopes(_) if determined => {
            let extra = wider(grant, &union.accesses());
            // Reads no job uses are dropped; writes are moved down to the jobs that use them.
            let fix = if extra.iter().all(|e| e.ends_with(": read")) {
                if extra.len() == 1 {
                    "drop it"
                } else {
                    "drop them"
                }
            } else {
                "`harden --move-writes` moves the writes to the jobs that need them"
            };
            (!extra.is_empty()).then(|| {
                (
                    Severity::Note,
                    format!(
                        "top-level `permissions` grant more than harden infers: {} ({inferred}). Fix: {fix}",
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
    // A scope that satisfies a need through its `alt` (`pull-requests: write` for a comment
    // harden infers as `issues: write`) is not more than needed.
    let serves_alt = |s: Scope, a: Access| {
        let alt = match s {
            Scope::Issues => Scope::PullRequests,
            Scope::PullRequests => Scope::Issues,
            _ => return false,
        };
        needed.get(&alt).is_some_and(|n| *n <= a)
            && map
                .get(&alt)
                .is_none_or(|g| g < needed.get(&alt).unwrap_or(&Access::Read))
    };
    map.iter()
        .filter(|(s, a)| !(**s == Scope::Contents && **a == Access::Read))
        .filter(|(s, a)| needed.get(s).is_none_or(|n| n < a))
        .filter(|(s, a)| !serves_alt(**s, **a))
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

/// The finding for a job harden cannot read: what is unknown, where, and the fix.
fn undetermined(file: &SourceFile, shown: &str, job: &JobPlan<'_>, blocks_top: bool) -> Finding {
    let unsure = &job.analysis.unsure;
    let line = unsure.first().map_or(job.key_line, |u| u.line);
    let mut message = format!("job `{}`: harden cannot tell what it needs", job.id);
    for (n, u) in unsure.iter().take(6).enumerate() {
        let sep = if n == 0 { ": " } else { "; " };
        message.push_str(&format!("{sep}{shown}:{} {} {}", u.line, u.step, u.reason));
    }
    if unsure.len() > 6 {
        message.push_str(&format!("; and {} more", unsure.len() - 6));
    }
    if blocks_top {
        message.push_str(". No top-level block is added while it is unsettled");
    }
    let name = shown.rsplit('/').next().unwrap_or(shown);
    // The scopes harden saw, ready to paste; the reviewer adds what the steps above need.
    let seen = job.analysis.needs.accesses();
    let scopes = seen
        .iter()
        .map(|(s, a)| format!("{s}: {a}"))
        .collect::<Vec<_>>()
        .join(", ");
    message.push_str(&format!(
        ". Fix: add a `permissions:` block to this job (harden keeps it), or declare it in `.github/harden.yml` with what those steps need added to what harden saw: `permissions: {{jobs: {{{name}: {{{}: {{{scopes}}}}}}}}}` (or `--declare {name}:{}=SCOPE:ACCESS,...`)",
        job.id, job.id
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
        match self.default_from_api(repo) {
            Some(default) => {
                let mut with_default = self.clone();
                with_default.options.repository_default = Some(default);
                with_default.run_with_default(repo)
            }
            None => self.run_with_default(repo),
        }
    }
}

impl Permissions {
    /// The repository's default token permissions read from the API, when neither the flag
    /// nor the configuration gave them and the repository's name is known.
    fn default_from_api(&self, repo: &Repository) -> Option<RepositoryDefault> {
        if self.options.repository_default.is_some() {
            return None;
        }
        let remote = self.remote.as_ref()?;
        let own = self
            .own_repository
            .clone()
            .or_else(|| own_repo::from_git_config(&repo.root))?;
        let (owner, name) = own.split_once('/')?;
        let id = harden_github::RepoId::new(owner, name);
        let text = remote.default_workflow_permissions(&id)?;
        let access = settings::parse_default(&text).ok()?;
        Some(RepositoryDefault {
            access,
            source: DefaultSource::Api,
        })
    }

    fn run_with_default(&self, repo: &Repository) -> Outcome {
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
        let an = self.analyzer(repo, kb);
        an.prefetch();
        let mut tally = Tally::default();
        for file in repo.files.iter().filter(|f| f.kind == FileKind::Workflow) {
            tally.add(self.workflow(&an, file, &mut out));
        }
        if let Some(default) = &self.options.repository_default {
            out.findings.push(Finding::at(
                NAME,
                &repo.root,
                None,
                Severity::Note,
                format!(
                    "the repository's default token permissions: {}",
                    default.shown()
                ),
            ));
        }
        if let Some(message) = tally.closing() {
            out.findings
                .push(Finding::at(NAME, &repo.root, None, Severity::Note, message));
        }
        out
    }
}

/// Whether a job uses the git credentials `actions/checkout` persists, by the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CredentialUse {
    /// No step pushes nor otherwise needs them.
    Unused,
    /// A step pushes (needs `contents: write`): why.
    Used(String),
    /// The analysis cannot settle the job: why (step and reason).
    Unsettled(String),
}

/// For each job of the workflow `file` (by id, with its analysis verdict), whether it uses the
/// persisted checkout credentials; jobs that call a reusable workflow are left out. `None`
/// when the knowledge base does not load.
pub(crate) fn credential_use(
    repo: &Repository,
    file: &SourceFile,
) -> Option<Vec<(String, CredentialUse)>> {
    let kb = kb::kb().ok()?;
    let an = Analyzer::new(repo, kb, &[]);
    let doc = file.document()?;
    let d = Workflow::new(doc);
    let mut out = Vec::new();
    let Some(root) = d.root() else {
        return Some(out);
    };
    for crate::model::Job { id, node, .. } in d.jobs() {
        if node.as_mapping().is_none() || d.get(node, "uses").is_some() {
            continue;
        }
        let a = an.job(&d, &file.path, root, node, &TokenCtx::workflow());
        let verdict = if a.needs.access(Scope::Contents) == Some(Access::Write) {
            let why = a
                .needs
                .first_reason(Scope::Contents)
                .map_or_else(|| "it pushes".to_owned(), |r| r.comment());
            CredentialUse::Used(why)
        } else if let Some(u) = a.unsure.first().or(a.opaque.first().map(|o| &o.unsure)) {
            CredentialUse::Unsettled(format!("{} {}", u.step, u.reason))
        } else {
            CredentialUse::Unused
        };
        out.push((id.to_owned(), verdict));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan for the one workflow `text`, with `options`.
    fn plan_of(text: &str, options: PermissionsOptions) -> WorkflowPlan {
        let file = SourceFile::new(".github/workflows/ci.yml", FileKind::Workflow, text);
        let repo = Repository {
            root: PathBuf::from("."),
            files: vec![file.clone()],
        };
        let Ok(kb) = kb::kb() else { panic!("kb") };
        let transform = Permissions::new(options);
        let an = Analyzer::new(&repo, kb, &transform.options.declared);
        let Some(doc) = file.document() else {
            panic!("parse")
        };
        let d = Workflow::new(doc);
        let Some(root) = d.root() else { panic!("root") };
        transform.plan(&an, &d, &file, root)
    }

    #[test]
    fn plans_are_plain_data() {
        let text = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - run: gh release create v1\n        env:\n          GH_TOKEN: ${{ github.token }}\n";
        let plan = plan_of(text, PermissionsOptions::default());
        assert!(plan.writes && plan.findings.is_empty());
        assert_eq!(plan.top, TopPlan::AddReadOnly { jobs_line: 2 });
        assert_eq!(plan.jobs.len(), 1);
        let block = &plan.jobs[0];
        assert_eq!((block.job.as_str(), block.key_line), ("release", 7));
        assert_eq!(
            block.scopes,
            BTreeMap::from([(Scope::Contents, Access::Write)])
        );
        let reason = block
            .reasons
            .as_ref()
            .and_then(|r| r.first_reason(Scope::Contents))
            .map(|r| r.comment());
        assert!(reason.is_some_and(|r| r.contains("gh release create")));

        // A top-level block the maintainers wrote: kept, its writes moved with --move-writes.
        let moved = text.replace(
            "on: push\n",
            "on: push\npermissions:\n  contents: write\n  issues: write\n",
        );
        let plan = plan_of(&moved, PermissionsOptions::default());
        assert_eq!(plan.top, TopPlan::Keep);
        assert!(plan.jobs.is_empty() && plan.findings.len() == 1);
        assert!(plan.findings[0].message.contains("issues: write"));
        let options = PermissionsOptions {
            move_writes: true,
            ..PermissionsOptions::default()
        };
        let plan = plan_of(&moved, options);
        assert_eq!(
            plan.top,
            TopPlan::MoveWrites {
                line: 3,
                lowered: Some(vec![(Scope::Contents, "read"), (Scope::Issues, "none")])
            }
        );
        assert!(plan.jobs.len() == 1 && plan.jobs[0].moved);

        // An undetermined job: reported, nothing added.
        let unknown = text
            .replace("make test", "./deploy.sh \"$GH_TOKEN\"")
            .replace(
                "    steps:\n      - run: ./deploy",
                "    env:\n      GH_TOKEN: ${{ github.token }}\n    steps:\n      - run: ./deploy",
            );
        let plan = plan_of(&unknown, PermissionsOptions::default());
        assert_eq!(plan.top, TopPlan::Keep);
        assert!(plan
            .findings
            .iter()
            .any(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn narrow_is_planned_only_when_asked() {
        let text = "on: push\npermissions: read-all\njobs:\n  test:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n      issues: write\n    steps:\n      - run: echo test\n";
        let plan = plan_of(text, PermissionsOptions::default());
        assert!(plan.narrowed.is_empty() && plan.top == TopPlan::Keep);
        let options = PermissionsOptions {
            narrow: true,
            ..PermissionsOptions::default()
        };
        let plan = plan_of(text, options);
        assert!(matches!(&plan.top, TopPlan::Narrow(n) if n.job.is_none() && n.scalar));
        assert_eq!(plan.narrowed.len(), 1);
        let job = &plan.narrowed[0];
        assert_eq!(job.job.as_deref(), Some("test"));
        assert_eq!(job.dropped, vec!["contents: write", "issues: write"]);
    }

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
