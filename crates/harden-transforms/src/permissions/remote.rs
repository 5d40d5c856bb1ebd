//! Reading what runs: an action that is not in the knowledge base, a remote reusable workflow,
//! and a local action of another repository that the job checked out are read from their own
//! repository at the commit their ref names, and analysed like local files.
//!
//! The token reaches a JavaScript or Docker action only through an input (a default of
//! `${{ github.token }}`, or what the step passes in `with:`), the environment, or its `runs:`
//! section; one it cannot reach needs no scope. A composite action's steps are analysed like a
//! local composite action's. Files are fetched before the analysis by [`Analyzer::prefetch`]: the
//! analysis is run in a collecting mode, the files it asked for are fetched together, and again
//! for the files those name, until nothing new is asked for.
//!
//! A child module of `analyze`, so that the hooks there stay one line each.

use std::collections::BTreeSet;
use std::sync::Arc;

use harden_github::RepoId;
use harden_yaml::Document;

use super::super::remote_files::{RemoteFile, RemoteFiles, RemoteRead};
use super::{
    classify, mentions_job_token, normalise, resolve_env_expr, scalar_text,
    self_repository_as_local, uses_name, Analysis, Analyzer, Env, JobState, OpaqueStep, StepCtx,
    TokenCtx, TokenValue, Unsure,
};
use crate::model::{Uses, Workflow};
use crate::{FileKind, SourceFile};

/// Rounds of fetching at most (each round reads the files the previous one's files name).
const MAX_ROUNDS: usize = 8;
/// Nested actions and workflows followed at most (as for local ones).
const MAX_DEPTH: usize = 8;

/// Words in an action's `action.yml` that suggest it asks for an OIDC token, which needs
/// `id-token: write` whatever the inputs.
const OIDC_HINTS: &[&str] = &[
    "oidc",
    "id-token",
    "id_token",
    "idtoken",
    "identity token",
    "openid",
    "workload identity",
    "workload_identity",
    "role-to-assume",
    "trusted publish",
    "attestation",
    "sigstore",
    "keyless",
];

/// Where a checkout step put a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Checkout {
    /// The `path:` input, normalised (`""` for the workspace itself).
    path: String,
    /// What was checked out there.
    source: CheckoutSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CheckoutSource {
    /// The workflow's own repository.
    Own,
    /// Another repository at a ref (empty: its default branch).
    Other(RepoId, String),
    /// Something harden cannot tell (an expression).
    Unknown,
}

/// A file read from another repository.
struct Found {
    /// `owner/repo/path@commit`, for messages.
    shown: String,
    text: Arc<str>,
}

fn short(commit: &str) -> &str {
    if commit.len() == 40 {
        &commit[..7]
    } else {
        commit
    }
}

/// The token context an action's own steps and code run in: its inputs the job token reaches
/// (a default naming it that the step does not override, or the step passing it); why, and
/// whether the step overrode a token default. Local and remote actions both read their
/// inputs here.
pub(super) fn declared_token_inputs(
    s: &StepCtx<'_>,
    d: &Workflow<'_>,
    root: &harden_yaml::Node,
) -> (TokenCtx, Vec<String>, bool) {
    let plain = TokenCtx {
        secrets: BTreeSet::new(),
        inputs: BTreeSet::new(),
    };
    let mut token_inputs = BTreeSet::new();
    let mut reach = Vec::new();
    let mut overridden = false;
    for (input, decl) in d.entries(d.get(root, "inputs")) {
        let lower = input.to_ascii_lowercase();
        let passed = s.inputs.get(&lower).filter(|(v, _)| !v.trim().is_empty());
        let job = match passed {
            Some((_, t)) => *t == TokenValue::Job,
            None => d
                .str(decl, "default")
                .is_some_and(|def| mentions_job_token(def, &plain, &Env::default())),
        };
        let default_token = d
            .str(decl, "default")
            .is_some_and(|def| mentions_job_token(def, &plain, &Env::default()));
        overridden |= default_token && !job;
        if job {
            reach.push(match passed {
                Some(_) => format!("the step passes it in `{input}`"),
                None => format!("input `{input}` defaults to it"),
            });
            token_inputs.insert(lower);
        }
    }
    let inner_ctx = TokenCtx {
        secrets: BTreeSet::new(),
        inputs: token_inputs,
    };
    (inner_ctx, reach, overridden)
}

/// True when an expression of `text` uses the whole `github` or `secrets` context (as in
/// `${{ toJSON(github) }}`), which holds the job token.
fn passes_whole_context(text: &str) -> bool {
    super::super::expr::expressions(text)
        .into_iter()
        .any(|body| {
            let lower: String = body
                .to_ascii_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.';
            ["github", "secrets"].iter().any(|object| {
                lower.match_indices(object).any(|(i, _)| {
                    let before = lower[..i].chars().next_back();
                    let after = lower[i + object.len()..].chars().next();
                    before.is_none_or(|c| !ident(c)) && after.is_none_or(|c| !ident(c) && c != '[')
                })
            })
        })
}

/// `./a/b/` → `a/b`.
fn clean_rel(path: &str) -> String {
    normalise(std::path::Path::new(path.trim()))
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The comment of an empty job block: `no step uses the job token`, with what settled the
/// actions harden read (`` (`o/r`: no token input) ``).
pub(crate) fn empty_block_comment(settled: &[String]) -> String {
    let base = "no step uses the job token";
    match settled {
        [] => base.to_owned(),
        [one] => format!("{base} ({one})"),
        [one, two] => format!("{base} ({one}; {two})"),
        [one, rest @ ..] => format!("{base} ({one}; and {} other actions)", rest.len()),
    }
}

impl Analysis {
    /// Records what settled a step that needs nothing.
    fn settle(&mut self, why: String) {
        if !self.settled.contains(&why) {
            self.settled.push(why);
        }
    }
}

impl<'a> Analyzer<'a> {
    /// Reads actions and workflows of other repositories through `remote`.
    pub(crate) fn with_remote(mut self, remote: Option<&'a dyn RemoteFiles>) -> Self {
        self.remote = remote;
        self
    }

    /// Fetches every remote file the analysis of the repository's workflows will read, a round
    /// per level of nesting, so that the requests of a round run together.
    pub(crate) fn prefetch(&self) {
        let Some(remote) = self.remote else { return };
        for _ in 0..MAX_ROUNDS {
            self.bounds.forget();
            *self.wants.borrow_mut() = Some(Vec::new());
            for (file, doc) in self.repo.documents(FileKind::Workflow) {
                let d = Workflow::new(doc);
                let Some(root) = d.root() else { continue };
                for job in d.jobs() {
                    if job.node.as_mapping().is_some() {
                        let _ = self.job(&d, &file.path, root, job.node, &TokenCtx::workflow());
                    }
                }
            }
            let wants = self.wants.borrow_mut().take().unwrap_or_default();
            if wants.is_empty() {
                break;
            }
            remote.fetch(&wants);
        }
        self.bounds.forget();
        *self.wants.borrow_mut() = None;
    }

    /// The answer for a remote file: from what was fetched, else asked for (prefetching: `None`
    /// until the next round), else fetched now.
    fn read_remote(&self, file: RemoteFile) -> Option<RemoteRead> {
        let remote = self.remote?;
        if let Some(answer) = remote.get(&file) {
            return Some(answer);
        }
        if let Some(wants) = self.wants.borrow_mut().as_mut() {
            wants.push(file);
            return None;
        }
        remote.fetch(std::slice::from_ref(&file));
        remote.get(&file)
    }

    /// `dir/action.yml`, else `dir/action.yaml`, of `repo` at `git_ref`; `Err` says why not.
    fn read_action_file(&self, repo: &RepoId, git_ref: &str, dir: &str) -> Result<Found, String> {
        let mut why = String::new();
        for name in ["action.yml", "action.yaml"] {
            let path = if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            };
            let file = RemoteFile {
                repo: repo.clone(),
                git_ref: git_ref.to_owned(),
                path: path.clone(),
            };
            match self.read_remote(file) {
                None => return Err("it has not been read yet".to_owned()),
                Some(RemoteRead::Found { text, commit }) => {
                    return Ok(Found {
                        shown: format!("{repo}/{path}@{}", short(&commit)),
                        text,
                    })
                }
                Some(RemoteRead::Missing) => {
                    why = format!(
                        "`{repo}` has no `{}` at `{}`",
                        if dir.is_empty() { "action.yml" } else { dir },
                        if git_ref.is_empty() { "HEAD" } else { git_ref }
                    );
                }
                Some(RemoteRead::Failed(e)) => return Err(e),
            }
        }
        Err(why)
    }

    /// A `uses:` step naming an action that is not in the knowledge base.
    pub(super) fn remote_action(
        &self,
        s: &StepCtx<'_>,
        uses: &str,
        state: &mut JobState,
        out: &mut Analysis,
    ) {
        // `$/path`: an action of the same repository at the running commit (GitHub, 2026).
        let parsed = Uses::parse(uses);
        if let Uses::SelfRepository(_) = parsed {
            self.local_action(s, &self_repository_as_local(uses), state, out);
            return;
        }
        let name = uses_name(uses);
        let not_known = format!("uses `{name}`, which is not in harden's knowledge base");
        if self.remote.is_none() {
            out.unsure(s.desc, s.line, not_known);
            return;
        }
        let (repo, dir, git_ref) = match parsed.remote() {
            Some(r) => (r.repo.clone(), r.path.unwrap_or(""), r.git_ref),
            None => {
                out.unsure(
                    s.desc,
                    s.line,
                    format!("{not_known}, and is not `owner/repo[/path]@ref`"),
                );
                return;
            }
        };
        match self.read_action_file(&repo, git_ref, dir) {
            Ok(found) => self.action_file(s, &found, state, out),
            Err(why) => out.unsure(
                s.desc,
                s.line,
                format!("{not_known}, and its `action.yml` could not be read: {why}"),
            ),
        }
    }

    /// Analyses an action read from another repository, as the step `s` runs it.
    fn action_file(
        &self,
        s: &StepCtx<'_>,
        found: &Found,
        state: &mut JobState,
        out: &mut Analysis,
    ) {
        let shown = &found.shown;
        let doc = match Document::parse(found.text.to_string()) {
            Ok(doc) => doc,
            Err(e) => {
                out.unsure(
                    s.desc,
                    s.line,
                    format!("reads `{shown}`, which does not parse: {e}"),
                );
                return;
            }
        };
        let d = Workflow::new(&doc);
        let runs = d.runs();
        let (Some(root), Some(runs)) = (d.root(), runs) else {
            out.unsure(
                s.desc,
                s.line,
                format!("reads `{shown}`, which has no `runs:`"),
            );
            return;
        };
        let (inner_ctx, mut reach, overridden) = declared_token_inputs(s, &d, root);
        let using = d.using(runs);
        if using == "composite" {
            self.remote_composite(s, shown, &d, runs, &inner_ctx, state, out);
            return;
        }
        for (input, (value, t)) in s.inputs.iter() {
            let declared = d
                .entries(d.get(root, "inputs"))
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(input));
            if *t == TokenValue::Job && !declared {
                reach.push(format!("the step passes it in `{input}`"));
            } else if *t != TokenValue::Job && passes_whole_context(value) {
                reach.push(format!(
                    "the step passes the whole `github` or `secrets` context in `{input}`"
                ));
            }
        }
        if s.step_env_token || s.env.has_token() {
            let names: Vec<&str> = s.env.token_names().collect();
            reach.push(format!(
                "it is in the environment as `{}`",
                names.join("`, `")
            ));
        }
        if mentions_job_token(d.raw(runs), &inner_ctx, s.env) {
            reach.push("its `runs:` passes it".to_owned());
        }
        let what = if using.starts_with("docker") {
            "Docker"
        } else {
            "JavaScript"
        };
        if !reach.is_empty() {
            out.unsure(
                s.desc,
                s.line,
                format!(
                    "runs the {what} action `{shown}` with the job token ({}); harden does not read its code and the knowledge base does not know it",
                    reach.join("; ")
                ),
            );
            return;
        }
        let lower = found.text.to_ascii_lowercase();
        if let Some(hint) = OIDC_HINTS.iter().find(|h| lower.contains(*h)) {
            out.unsure(
                s.desc,
                s.line,
                format!("runs the {what} action `{shown}`, which may request an OIDC token (`id-token: write`; its action.yml mentions `{hint}`)"),
            );
            return;
        }
        // The token reaches it through git only (persisted checkout credentials): an action
        // that says it pushes is a sign (harden does not read its code).
        if state.persisted && super::super::evidence::action_pushes(&lower) {
            out.opaque_step(OpaqueStep {
                unsure: Unsure {
                    step: s.desc.to_owned(),
                    line: s.line,
                    reason: format!("runs the {what} action `{shown}`, whose action.yml says it pushes, and git holds the job token (actions/checkout persists it); harden cannot see what it writes"),
                },
                git_only: true,
                sign: true,
                program: shown.to_owned(),
            });
            return;
        }
        let label = if s.label.is_empty() { shown } else { s.label };
        let why = if overridden {
            "given another token"
        } else {
            "no token input"
        };
        out.settle(format!("`{label}`: {why}"));
    }

    /// The steps of a composite action read from another repository.
    #[allow(clippy::too_many_arguments)]
    fn remote_composite(
        &self,
        s: &StepCtx<'_>,
        shown: &str,
        d: &Workflow<'_>,
        runs: &harden_yaml::Node,
        inner_ctx: &TokenCtx,
        state: &mut JobState,
        out: &mut Analysis,
    ) {
        let key = std::path::PathBuf::from(format!("remote:{shown}"));
        if self.stack.borrow().contains(&key) || self.stack.borrow().len() > MAX_DEPTH {
            out.unsure(
                s.desc,
                s.line,
                format!("uses `{shown}` recursively or nested too deep"),
            );
            return;
        }
        let inner = self.composite_steps(d, runs, key, s, inner_ctx, state);
        if inner.needs.accesses().is_empty() && inner.unsure.is_empty() {
            let label = if s.label.is_empty() { shown } else { s.label };
            out.settle(format!("`{label}`: its steps use no token"));
        }
        out.settled.extend(inner.settled.iter().cloned());
        out.absorb(inner, s.label, s.desc, s.line, shown);
    }

    /// Remembers where a checkout step put which repository.
    pub(super) fn record_checkout(&self, s: &StepCtx<'_>, state: &mut JobState) {
        let input = |n: &str| {
            s.inputs
                .get(n)
                .map(|(v, _)| resolve_env_expr(v, s.env))
                .filter(|v| !v.trim().is_empty())
        };
        let path = input("path").map(|p| clean_rel(&p)).unwrap_or_default();
        let source = match input("repository") {
            None => CheckoutSource::Own,
            Some(r) if r.contains("${{") => {
                let own = r.replace(' ', "").to_ascii_lowercase();
                if own == "${{github.repository}}" {
                    CheckoutSource::Own
                } else {
                    CheckoutSource::Unknown
                }
            }
            Some(r) => match (RepoId::parse(r.trim()), input("ref")) {
                (Ok(_), Some(git_ref)) if git_ref.contains("${{") => CheckoutSource::Unknown,
                (Ok(id), git_ref) => CheckoutSource::Other(id, git_ref.unwrap_or_default()),
                (Err(_), _) => CheckoutSource::Unknown,
            },
        };
        state.checkouts.push(Checkout { path, source });
    }

    /// A local action that is not among the files read: if a checkout of another repository
    /// put it there, it is read from that repository. Returns false when no checkout did.
    pub(super) fn checked_out_action(
        &self,
        s: &StepCtx<'_>,
        uses: &str,
        state: &mut JobState,
        out: &mut Analysis,
    ) -> bool {
        let rel = clean_rel(uses_name(uses));
        let checkout = state.checkouts.iter().rev().find(|c| {
            c.path.is_empty() || rel == c.path || rel.starts_with(&format!("{}/", c.path))
        });
        let Some(checkout) = checkout.cloned() else {
            return false;
        };
        let (repo, git_ref) = match checkout.source {
            // What an expression checks out is unknown: the local action stays unread.
            CheckoutSource::Own | CheckoutSource::Unknown => return false,
            CheckoutSource::Other(repo, git_ref) => (repo, git_ref),
        };
        if self.remote.is_none() {
            return false;
        }
        let dir = rel
            .strip_prefix(checkout.path.as_str())
            .unwrap_or(&rel)
            .trim_start_matches('/');
        match self.read_action_file(&repo, &git_ref, dir) {
            Ok(found) => self.action_file(s, &found, state, out),
            Err(why) => out.unsure(
                s.desc,
                s.line,
                format!("uses the local action `./{rel}` checked out from `{repo}`, which could not be read: {why}"),
            ),
        }
        true
    }

    /// A job calling a remote reusable workflow that is not in the knowledge base.
    pub(super) fn remote_call(
        &self,
        d: &Workflow<'_>,
        job: &harden_yaml::Node,
        uses: &str,
        ctx: &TokenCtx,
        out: &mut Analysis,
    ) {
        // `$/.github/workflows/x.yml`: a workflow of the same repository at the running commit.
        let parsed = Uses::parse(uses);
        if let Uses::SelfRepository(_) = parsed {
            let local = self_repository_as_local(uses);
            self.call(d, std::path::Path::new(""), job, &local, ctx, out);
            return;
        }
        let line = d.get(job, "uses").map_or(job.line, |n| n.line);
        let full = uses_name(uses);
        let desc = format!("`{full}`");
        let label = full.rsplit('/').next().unwrap_or(full).to_owned();
        let not_known = format!(
            "calls the remote reusable workflow `{full}`, which is not in harden's knowledge base"
        );
        if self.remote.is_none() {
            out.unsure(&desc, line, not_known);
            return;
        }
        let Some((repo, Some(path), git_ref)) =
            parsed.remote().map(|r| (r.repo.clone(), r.path, r.git_ref))
        else {
            out.unsure(
                &desc,
                line,
                format!("{not_known}, and is not `owner/repo/path@ref`"),
            );
            return;
        };
        let file = RemoteFile {
            repo: repo.clone(),
            git_ref: git_ref.to_owned(),
            path: path.to_owned(),
        };
        let (text, commit) = match self.read_remote(file) {
            Some(RemoteRead::Found { text, commit }) => (text, commit),
            other => {
                let why = match other {
                    None => "it has not been read yet".to_owned(),
                    Some(RemoteRead::Failed(e)) => e,
                    _ => format!("`{repo}` has no `{path}` at `{git_ref}`"),
                };
                out.unsure(
                    &desc,
                    line,
                    format!("{not_known}, and could not be read: {why}"),
                );
                return;
            }
        };
        let shown = format!("{repo}/{path}@{}", short(&commit));
        let callee = SourceFile::new(shown.clone(), FileKind::Workflow, text.to_string());
        let Some(cdoc) = callee.document() else {
            out.unsure(
                &desc,
                line,
                format!("calls `{shown}`, which does not parse"),
            );
            return;
        };
        let key = std::path::PathBuf::from(format!("remote:{shown}"));
        if self.stack.borrow().contains(&key) || self.stack.borrow().len() > MAX_DEPTH {
            out.unsure(
                &desc,
                line,
                format!("calls `{shown}` recursively or nested too deep"),
            );
            return;
        }
        let callee_ctx = caller_ctx(d, job, ctx);
        self.stack.borrow_mut().push(key);
        let inner = self.requirement(&callee, cdoc, &callee_ctx);
        self.stack.borrow_mut().pop();
        out.absorb(inner, &label, &desc, line, &shown);
    }
}

/// What stands for the job token inside a called workflow: `secrets.GITHUB_TOKEN`, the secrets
/// the caller passes it as (or all of them with `secrets: inherit`), and the inputs it is passed
/// in.
pub(super) fn caller_ctx(d: &Workflow<'_>, job: &harden_yaml::Node, ctx: &TokenCtx) -> TokenCtx {
    let env = Env::default();
    let mut secrets = BTreeSet::from(["github_token".to_owned()]);
    match d.secrets(job) {
        Some(n) if n.as_str() == Some("inherit") => secrets.extend(ctx.secrets.iter().cloned()),
        Some(n) => {
            for (k, v) in d.entries(Some(n)) {
                if classify(&scalar_text(v), ctx, &env) == TokenValue::Job {
                    secrets.insert(k.to_ascii_lowercase());
                }
            }
        }
        None => {}
    }
    let inputs = d
        .entries(d.get(job, "with"))
        .into_iter()
        .filter(|(_, v)| classify(&scalar_text(v), ctx, &env) == TokenValue::Job)
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    TokenCtx { secrets, inputs }
}

#[cfg(test)]
mod tests {
    use super::super::super::kb::kb;
    use super::*;
    use std::path::{Path, PathBuf};

    fn action_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                action_files(&path, out);
            } else if path
                .file_name()
                .is_some_and(|n| n == "action.yml" || n == "action.yaml")
            {
                out.push(path);
            }
        }
    }

    /// Every recorded `action.yml` whose knowledge-base entry says the action does not use the
    /// job token (`token: false`) must have no input defaulting to it: such an entry would let
    /// harden grant nothing to a step that gets the token.
    #[test]
    fn whole_contexts_carry_the_token() {
        assert!(passes_whole_context("${{ toJSON(github) }}"));
        assert!(passes_whole_context("${{ toJson( secrets ) }}"));
        assert!(!passes_whole_context("${{ github.event.number }}"));
        assert!(!passes_whole_context("${{ secrets['X'] }} github"));
        assert!(!passes_whole_context("${{ inputs.github }}"));
    }

    #[test]
    fn knowledge_base_agrees_with_recorded_action_files() {
        let kb = kb().expect("knowledge base");
        let root =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/recorded/actions");
        let mut files = Vec::new();
        action_files(&root, &mut files);
        assert!(files.len() > 100, "recorded actions at {}", root.display());
        let plain = TokenCtx {
            secrets: BTreeSet::new(),
            inputs: BTreeSet::new(),
        };
        let (mut checked, mut bugs) = (0, Vec::new());
        for file in files {
            let rel = file.strip_prefix(&root).expect("under root");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            parts.pop();
            let Some((owner, repo)) = parts.first().and_then(|p| p.split_once("__")) else {
                continue;
            };
            let mut key = format!("{owner}/{repo}");
            for p in &parts[1..] {
                key.push('/');
                key.push_str(p);
            }
            let Some(fact) = kb.action(&key) else {
                continue;
            };
            checked += 1;
            let text = std::fs::read_to_string(&file).expect("read");
            let doc = Document::parse(text).expect("parses");
            let d = Workflow::new(&doc);
            let Some(root_node) = d.root() else { continue };
            for (input, decl) in d.entries(d.get(root_node, "inputs")) {
                let default = d.str(decl, "default").unwrap_or_default();
                if !mentions_job_token(default, &plain, &Env::default()) {
                    continue;
                }
                if !fact.token {
                    bugs.push(format!(
                        "{key}: input `{input}` defaults to the job token, but data/actions.yml says `token: false`"
                    ));
                }
                if !fact
                    .token_inputs
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(input))
                {
                    bugs.push(format!(
                        "{key}: input `{input}` defaults to the job token, but is not among its `token_inputs`"
                    ));
                }
            }
        }
        assert!(
            checked > 50,
            "only {checked} recorded actions are in the knowledge base"
        );
        assert!(bugs.is_empty(), "{}", bugs.join("\n"));
    }
}
