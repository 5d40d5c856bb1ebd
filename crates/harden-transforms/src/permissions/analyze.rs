//! What each job needs: steps, actions, scripts, local composite actions and called
//! workflows (and, in `remote`, actions and workflows of other repositories).

#[path = "remote.rs"]
mod remote;

#[path = "bounds.rs"]
mod bounds;

pub(crate) use remote::empty_block_comment;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path as FsPath, PathBuf};

use harden_yaml::{Document, Node, NodeKind};

use super::expr::{
    classify, mentions_job_token, mentions_word, scalar_text, Env, TokenCtx, TokenValue,
};
use super::kb::{ActionFact, Kb};
use super::scopes::{Access, Grant, Scope, ScopeSet};
use super::script::analyze_script;
use super::shell::{analyze_run, RepoFiles, RunCtx, ShellKind};
use super::DeclaredJob;
use crate::model::{Uses, Workflow};
use crate::{FileKind, Repository, SourceFile};

/// A step whose needs harden cannot tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsure {
    /// How the step is named in messages (`` `Publish` ``, `` `foo/bar` ``, `run step`).
    pub(crate) step: String,
    /// 1-based line of the step.
    pub(crate) line: usize,
    /// Why.
    pub(crate) reason: String,
}

/// A step that runs a program harden cannot see into while the job token can reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpaqueStep {
    /// The step, where, and the reason.
    pub(crate) unsure: Unsure,
    /// Only git holds the token (no environment variable does): only `contents: write`
    /// (a push) is at stake.
    pub(crate) git_only: bool,
    /// A sign that it writes with the token (`evidence.rs`); without one the job is settled
    /// on the assumption that it does not, unless `--strict`.
    pub(crate) sign: bool,
    /// The program as the assumption names it (`pkg-config`, `$CXX`, `./bin/tool`).
    pub(crate) program: String,
}

/// The program an opaque reason names: the first `` `...` `` of `what`, its first word
/// unless it is an interpreter or a runner of the program after it.
fn program_of(what: &str) -> String {
    let shown = what.split('`').nth(1).unwrap_or(what);
    // `${{ matrix.build }}` (and `./tool-${{ env.X }}`) is one word for the reader.
    if let Some(start) = shown.find("${{") {
        if let Some(end) = shown[start..].find("}}") {
            let word_end = shown[start + end..]
                .find(char::is_whitespace)
                .map_or(shown.len(), |i| start + end + i);
            return shown[..word_end].to_owned();
        }
    }
    let mut words = shown.split_whitespace();
    let first = words.next().unwrap_or(shown);
    let runs_next = matches!(
        first,
        "python" | "python3" | "py" | "node" | "ruby" | "perl" | "php" | "bash" | "sh" | "make"
    );
    match words.next() {
        Some(next) if runs_next => format!("{first} {next}"),
        _ => first.to_owned(),
    }
}

/// What a job needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Analysis {
    pub(crate) needs: ScopeSet,
    pub(crate) unsure: Vec<Unsure>,
    /// Opaque programs: they make the job undetermined when harden would restrict it on an
    /// event whose token can write (decided per workflow, see `mod.rs`).
    pub(crate) opaque: Vec<OpaqueStep>,
    /// Line and text of things to tell the user (calls the token can never make).
    pub(crate) notes: Vec<(usize, String)>,
    /// What settled steps that need nothing (`` `o/r`: no token input ``), for the comment of an
    /// empty block.
    pub(crate) settled: Vec<String>,
}

impl Analysis {
    fn unsure(&mut self, step: &str, line: usize, reason: impl Into<String>) {
        let u = Unsure {
            step: step.to_owned(),
            line,
            reason: reason.into(),
        };
        if !self.unsure.contains(&u) {
            self.unsure.push(u);
        }
    }

    fn note(&mut self, line: usize, text: String) {
        if !self.notes.iter().any(|(_, t)| *t == text) {
            self.notes.push((line, text));
        }
    }

    /// Takes in what a composite action or called workflow needs, seen from the step or job
    /// (`label`, `line`) that uses it.
    fn absorb(&mut self, inner: Analysis, label: &str, step: &str, line: usize, file: &str) {
        self.needs.merge_as(&inner.needs, label);
        for u in inner.unsure {
            self.unsure(
                step,
                line,
                format!("{} (in `{file}`, {} at line {})", u.reason, u.step, u.line),
            );
        }
        for (_, n) in inner.notes {
            self.note(line, n);
        }
        for o in inner.opaque {
            let unsure = Unsure {
                step: step.to_owned(),
                line,
                reason: format!(
                    "{} (in `{file}`, {} at line {})",
                    o.unsure.reason, o.unsure.step, o.unsure.line
                ),
            };
            self.opaque_step(OpaqueStep { unsure, ..o });
        }
    }

    fn opaque_step(&mut self, step: OpaqueStep) {
        if !self.opaque.iter().any(|o| o.unsure == step.unsure) {
            self.opaque.push(step);
        }
    }
}

/// The triggers of a workflow (`on:` as a word, a list or a mapping).
pub(crate) fn triggers<'d>(d: &Workflow<'d>, root: &'d Node) -> BTreeSet<String> {
    let Some(on) = d.get(root, "on") else {
        return BTreeSet::new();
    };
    match &on.kind {
        NodeKind::Scalar(s) => BTreeSet::from([s.value.clone()]),
        NodeKind::Sequence(_) => d
            .items(Some(on))
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
        NodeKind::Mapping(_) => d
            .entries(Some(on))
            .iter()
            .map(|(k, _)| (*k).to_owned())
            .collect(),
        NodeKind::Alias(_) => BTreeSet::new(),
    }
}

/// A path with `.` and `..` resolved, for comparing file names.
pub(crate) fn normalise(path: &FsPath) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.last(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// The uses-parsing of the workflow model, under the names this module has always used.
pub(crate) use crate::model::{name as uses_name, self_repository_as_local};

/// What a runner workflow wrote to `$GITHUB_ENV` before the caller's `script` runs
/// (knowledge base `script_env_file`), unless the call gives an input that can change it.
fn runner_env_file(d: &Workflow<'_>, job: &Node, fact: &ActionFact) -> BTreeMap<String, String> {
    let with = d.with(job);
    let given = |name: &str| {
        with.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| scalar_text(v))
            .filter(|v| !v.trim().is_empty())
    };
    let changed = fact
        .script_env_file_unless
        .iter()
        .any(|u| match u.split_once("!=") {
            Some((name, value)) => given(name).is_some_and(|v| v.trim() != value),
            None => given(u).is_some(),
        });
    if changed {
        BTreeMap::new()
    } else {
        fact.script_env_file.clone()
    }
}

fn resolve_env_expr(value: &str, env: &Env) -> String {
    let v = value.trim();
    if let Some(body) = v.strip_prefix("${{").and_then(|b| b.strip_suffix("}}")) {
        if let Some(name) = body.trim().strip_prefix("env.") {
            if let Some(lit) = env.value(name.trim()) {
                if !lit.contains("${{") {
                    return lit.to_owned();
                }
            }
        }
    }
    v.to_owned()
}

#[derive(Debug, Default)]
struct JobState {
    /// actions/checkout left the job token in the git configuration.
    persisted: bool,
    /// Job or workflow `env:` names holding the job token that no step has used yet.
    unaccounted: BTreeSet<String>,
    /// A step that asks to keep the checkout credentials (`persist-credentials: true`) or
    /// prepares commits: a push is expected somewhere.
    push_hint: Option<(String, usize, &'static str)>,
    /// The job's `defaults.run.working-directory` (relative to the repository root).
    default_workdir: String,
    /// The working directory of the step being read.
    workdir: String,
    /// The workflow's triggers.
    events: BTreeSet<String>,
    /// Where checkout steps put which repository, in order.
    checkouts: Vec<remote::Checkout>,
    /// `NAME=value` lines earlier run steps wrote to `$GITHUB_ENV` (`env_file.rs`); forgotten
    /// after a write harden cannot read, an opaque program or an action whose code is not
    /// read step by step (it could overwrite them).
    env_file: BTreeMap<String, String>,
    /// How many steps have been read (composite actions' steps included).
    steps_read: usize,
}

impl JobState {
    /// Marks the names `text` mentions as used.
    fn account(&mut self, text: &str) {
        self.unaccounted.retain(|name| !mentions_word(text, name));
    }
}

/// Reads jobs, steps and the files they use.
pub(crate) struct Analyzer<'a> {
    pub(crate) repo: &'a Repository,
    pub(crate) kb: &'a Kb,
    pub(crate) declared: &'a [DeclaredJob],
    stack: RefCell<Vec<PathBuf>>,
    /// Where files of other repositories are read (see `remote`).
    remote: Option<&'a dyn super::remote_files::RemoteFiles>,
    /// While prefetching: the remote files asked for.
    wants: RefCell<Option<Vec<super::remote_files::RemoteFile>>>,
    /// The repository's own `owner/repo` (lowercase) on GitHub, when known (`own_repo.rs`).
    own_repository: Option<String>,
    /// Repository files already read by [`RepoFiles::read`] (a script several steps or
    /// jobs run is read once), `None` for one that cannot be read.
    files_read: RefCell<BTreeMap<String, Option<String>>>,
    /// The memo of called workflows and the cap of analyses per job (`bounds.rs`).
    bounds: bounds::Bounds,
}

/// Inputs given to an action or called workflow: lowercase name -> (value, token?).
type Inputs = BTreeMap<String, (String, TokenValue)>;

impl<'a> Analyzer<'a> {
    pub(crate) fn new(repo: &'a Repository, kb: &'a Kb, declared: &'a [DeclaredJob]) -> Self {
        Analyzer {
            repo,
            kb,
            declared,
            stack: RefCell::new(Vec::new()),
            remote: None,
            wants: RefCell::new(None),
            own_repository: None,
            files_read: RefCell::new(BTreeMap::new()),
            bounds: bounds::Bounds::default(),
        }
    }

    /// Knows the repository as `owner/repo` on GitHub: a local reusable workflow the
    /// knowledge base describes under that name is read from the knowledge base.
    pub(crate) fn with_own_repository(mut self, own: Option<String>) -> Self {
        self.own_repository = own.map(|o| o.to_ascii_lowercase());
        self
    }

    /// The knowledge-base key of a `uses:` name: `owner/repo/path` for another repository;
    /// for a local `./path`, `own/repo/path` when the repository's name is known.
    fn kb_key(&self, full: &str) -> Option<String> {
        match full.strip_prefix("./") {
            Some(rest) => self
                .own_repository
                .as_ref()
                .map(|own| format!("{own}/{rest}").to_ascii_lowercase()),
            None => Some(full.to_ascii_lowercase()),
        }
    }

    /// The declaration of `job` in `file`, if the user made one.
    pub(crate) fn declaration(&self, file: &FsPath, job: &str) -> Option<&'a DeclaredJob> {
        let rel = self.relative(file);
        self.declared
            .iter()
            .find(|d| d.job == job && d.matches_workflow(&rel))
    }

    /// `file` relative to the repository root, with `/` separators.
    pub(crate) fn relative(&self, file: &FsPath) -> String {
        let file = normalise(file);
        let root = normalise(&self.repo.root);
        let rel = file.strip_prefix(&root).unwrap_or(&file);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    fn find_file(&self, rel: &str, names: &[&str], kind: FileKind) -> Option<&'a SourceFile> {
        let base = normalise(&self.repo.root.join(rel));
        let rel_norm = normalise(FsPath::new(rel));
        let wanted: Vec<PathBuf> = if names.is_empty() {
            vec![base]
        } else {
            names.iter().map(|n| base.join(n)).collect()
        };
        let files = || self.repo.files.iter().filter(|f| f.kind == kind);
        if let Some(f) = files().find(|f| wanted.contains(&normalise(&f.path))) {
            return Some(f);
        }
        // Paths not under `root` as written: compare the tail.
        let tails: Vec<PathBuf> = if names.is_empty() {
            vec![rel_norm]
        } else {
            names.iter().map(|n| rel_norm.join(n)).collect()
        };
        let mut found = files().filter(|f| tails.iter().any(|t| normalise(&f.path).ends_with(t)));
        match (found.next(), found.next()) {
            (Some(f), None) => Some(f),
            _ => None,
        }
    }

    /// What the job `job` of a workflow needs.
    pub(crate) fn job(
        &self,
        d: &Workflow<'_>,
        file: &FsPath,
        root: &Node,
        job: &Node,
        ctx: &TokenCtx,
    ) -> Analysis {
        let _job = self.bounds.job();
        let mut out = Analysis::default();
        let (wf_env, _) = Env::default().child(d.env(root), ctx);
        if let Some(uses) = d.str(job, "uses") {
            self.call(d, file, job, uses, ctx, &mut out);
            return out;
        }
        let (env, _) = wf_env.child(d.env(job), ctx);
        image_credentials(d, job, ctx, &env, &mut out);
        let shell = job_shell(d, root, job);
        let mut state = job_state(d, root, job, ctx, &wf_env);
        self.steps(
            d,
            &d.step_nodes(job),
            &env,
            ctx,
            shell,
            &mut state,
            &mut out,
        );
        finish_job(d, root, job, &state, &mut out);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn steps(
        &self,
        d: &Workflow<'_>,
        steps: &[&Node],
        env: &Env,
        ctx: &TokenCtx,
        shell: ShellKind,
        state: &mut JobState,
        out: &mut Analysis,
    ) {
        for &step in steps {
            state.account(d.raw(step));
            state.steps_read += 1;
            // A step that may not run (or may stop early) leaves either value behind.
            let env_file_before = (d.condition(step).is_some()
                || d.get(step, "continue-on-error").is_some())
            .then(|| state.env_file.clone());
            let line = step.line;
            let name = d.str(step, "name").filter(|n| !n.trim().is_empty());
            let (env, step_env_token) = env.child(d.env(step), ctx);
            if let Some(uses) = d.str(step, "uses") {
                let label = uses_name(uses).to_owned();
                let desc = format!("`{}`", name.unwrap_or(&label));
                let inputs: Inputs = d
                    .entries(d.get(step, "with"))
                    .into_iter()
                    .map(|(k, v)| {
                        let text = if v.as_str().is_some() {
                            scalar_text(v)
                        } else {
                            d.raw(v).to_owned()
                        };
                        let t = classify(&text, ctx, &env);
                        (k.to_ascii_lowercase(), (text, t))
                    })
                    .collect();
                let events = state.events.clone();
                let step_ctx = StepCtx {
                    label: &label,
                    desc: &desc,
                    line,
                    inputs: &inputs,
                    env: &env,
                    step_env_token,
                    ctx,
                    events: &events,
                };
                let before = state.steps_read;
                self.uses(d, &step_ctx, uses, state, out);
                if state.steps_read == before {
                    state.env_file.clear();
                }
            } else if let Some(script) = d.run(step) {
                state.workdir = d
                    .str(step, "working-directory")
                    .unwrap_or(&state.default_workdir)
                    .trim_start_matches("./")
                    .to_owned();
                let kind = d.shell(step).map_or(shell, ShellKind::from_shell);
                let label = name.unwrap_or("");
                let desc = name.map_or_else(|| "run step".to_owned(), |n| format!("`{n}`"));
                self.run(
                    script,
                    kind,
                    &env,
                    step_env_token,
                    ctx,
                    state,
                    label,
                    &desc,
                    line,
                    out,
                );
            }
            if let Some(before) = env_file_before {
                state
                    .env_file
                    .retain(|name, value| before.get(name) == Some(value));
            }
        }
    }

    /// `pypa/cibuildwheel`: its CIBW_* commands (project_scripts.rs), read as the run step
    /// `cibuildwheel <package-dir>`.
    fn cibuildwheel(&self, s: &StepCtx<'_>, state: &mut JobState, out: &mut Analysis) {
        let dir = s.inputs.get("package-dir").map_or(".", |(d, _)| d.as_str());
        let script = format!("cibuildwheel {dir}");
        let (env, ctx, label, desc) = (s.env, s.ctx, s.label, s.desc);
        let kind = ShellKind::Sh;
        let token = s.step_env_token;
        self.run(
            &script, kind, env, token, ctx, state, label, desc, s.line, out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        script: &str,
        kind: ShellKind,
        env: &Env,
        step_env_token: bool,
        ctx: &TokenCtx,
        state: &mut JobState,
        label: &str,
        desc: &str,
        line: usize,
        out: &mut Analysis,
    ) {
        // A variable also set in `env:` keeps that value as far as harden knows.
        let env_file: BTreeMap<String, String> = state
            .env_file
            .iter()
            .filter(|(k, _)| env.value(k).is_none())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let rctx = RunCtx {
            kb: self.kb,
            env,
            token: ctx,
            step_env_token,
            persisted_creds: state.persisted,
            label,
            files: Some(self),
            workdir: &state.workdir,
            depth: 0,
            env_file: &env_file,
        };
        let r = analyze_run(script, kind, &rctx);
        if r.env_file_unknown || !r.opaque.is_empty() {
            state.env_file.clear();
        } else {
            state.env_file.extend(r.env_file.iter().cloned());
        }
        for o in &r.opaque {
            let held = match &o.token_var {
                Some(var) => format!("`${var}` holds the job token"),
                None => "git holds the job token (actions/checkout persists it)".to_owned(),
            };
            let unsure = Unsure {
                step: desc.to_owned(),
                line,
                reason: format!(
                    "runs {}, and {held}; harden cannot see what it writes",
                    o.what
                ),
            };
            out.opaque_step(OpaqueStep {
                unsure,
                git_only: o.token_var.is_none(),
                sign: o.sign,
                program: program_of(&o.what),
            });
        }
        out.needs.merge(&r.needs);
        for u in r.unsure {
            out.unsure(desc, line, u);
        }
        for n in r.notes {
            out.note(line, format!("{desc}: {n}"));
        }
        if r.git_token {
            state.persisted = true;
        }
        if r.commits && state.push_hint.is_none() {
            state.push_hint = Some((
                desc.to_owned(),
                line,
                "commits, tags or sets a git identity",
            ));
        }
        for name in &r.used {
            state.unaccounted.remove(name);
        }
    }

    fn uses(
        &self,
        d: &Workflow<'_>,
        s: &StepCtx<'_>,
        uses: &str,
        state: &mut JobState,
        out: &mut Analysis,
    ) {
        let uses = self_repository_as_local(uses);
        let uses = uses.trim();
        let any_token_input = s.inputs.values().any(|(_, t)| *t == TokenValue::Job);
        if uses.contains("${{") {
            out.unsure(s.desc, s.line, "chooses its action with an expression");
            return;
        }
        let parsed = Uses::parse(uses);
        if let Uses::Docker(image) = parsed {
            if any_token_input || s.step_env_token {
                out.unsure(
                    s.desc,
                    s.line,
                    format!("passes the job token to the container `{image}`"),
                );
            }
            return;
        }
        if let Uses::Local(_) = parsed {
            self.local_action(s, uses, state, out);
            return;
        }
        let key = uses_name(uses).to_ascii_lowercase();
        if key == "actions/github-script" {
            self.github_script(d, s, out);
            return;
        }
        let Some(fact) = self.kb.action(&key) else {
            self.remote_action(s, uses, state, out);
            return;
        };
        self.fact(s, &key, fact, out);
        if key == "nick-fields/retry" || key == "nick-invision/retry" {
            if let Some((command, _)) = s.inputs.get("command") {
                let kind = s
                    .inputs
                    .get("shell")
                    .map_or(ShellKind::Sh, |(sh, _)| ShellKind::from_shell(sh));
                self.run(
                    command,
                    kind,
                    s.env,
                    s.step_env_token,
                    s.ctx,
                    state,
                    s.label,
                    s.desc,
                    s.line,
                    out,
                );
            }
        }
        if key == "pypa/cibuildwheel" {
            self.cibuildwheel(s, state, out);
        }
        if let Some(name) = &fact.token_env {
            state.unaccounted.remove(name);
        }
        if key == "actions/checkout" {
            self.record_checkout(s, state);
            let persist = s
                .inputs
                .get("persist-credentials")
                .is_none_or(|(v, _)| !resolve_env_expr(v, s.env).eq_ignore_ascii_case("false"));
            let job_token = s
                .inputs
                .get("token")
                .is_none_or(|(_, t)| *t == TokenValue::Job);
            let ssh = s
                .inputs
                .get("ssh-key")
                .is_some_and(|(v, _)| !v.trim().is_empty());
            if persist && job_token && !ssh {
                state.persisted = true;
                let explicit = s
                    .inputs
                    .get("persist-credentials")
                    .is_some_and(|(v, _)| v.trim().eq_ignore_ascii_case("true"));
                if explicit && state.push_hint.is_none() {
                    state.push_hint = Some((
                        s.desc.to_owned(),
                        s.line,
                        "keeps the checkout credentials (`persist-credentials: true`)",
                    ));
                }
            }
        }
    }

    /// Applies a knowledge-base fact to a step.
    fn fact(&self, s: &StepCtx<'_>, key: &str, fact: &ActionFact, out: &mut Analysis) {
        let input = |n: &str| {
            s.inputs
                .get(&n.to_ascii_lowercase())
                .filter(|(v, _)| !v.trim().is_empty())
        };
        let uses_job = match fact.token_inputs.first().and_then(|p| input(p)) {
            Some((_, t)) => *t == TokenValue::Job,
            None => match fact.token_env.as_deref().map(|e| s.env.token(e)) {
                Some(TokenValue::Job) => true,
                Some(TokenValue::Other) => false,
                _ => fact.token,
            },
        };
        let keep = |scope: Scope| uses_job || scope == Scope::IdToken;
        // (scope, access, reason): the base needs, then each condition that holds adds to
        // them or removes from them, in order.
        let mut needs: Vec<(Scope, Access, &str)> = fact
            .permissions
            .iter()
            .filter(|(scope, _)| keep(**scope))
            .map(|(scope, access)| (*scope, *access, fact.reason_for(*scope)))
            .collect();
        for c in &fact.conditions {
            // A condition that removes a scope must be sure: an expression never matches.
            let strict = !c.remove.is_empty();
            let input_ok = match &c.input {
                None => true,
                Some(i) => match input(i) {
                    None => false,
                    Some((v, _)) => {
                        let v = resolve_env_expr(v, s.env);
                        let expr = v.contains("${{");
                        let equals_ok = match &c.equals {
                            None => true,
                            Some(eq) => v.eq_ignore_ascii_case(eq) || (expr && !strict),
                        };
                        let lacks_ok = match &c.lacks {
                            None => true,
                            Some(word) => !expr && !mentions_word(&v.to_ascii_lowercase(), word),
                        };
                        equals_ok && lacks_ok
                    }
                },
            };
            let unless_ok = c.unless_inputs.iter().all(|u| input(u).is_none());
            let token_ok = c
                .token_input
                .as_ref()
                .is_none_or(|t| input(t).is_some_and(|(_, v)| *v == TokenValue::Job));
            let events_ok =
                c.on_events.is_empty() || c.on_events.iter().any(|e| s.events.contains(e));
            if input_ok && unless_ok && token_ok && events_ok {
                needs.retain(|(scope, _, _)| !c.remove.contains(scope));
                for (scope, access) in &c.permissions {
                    if c.token_input.is_some() || keep(*scope) {
                        needs.push((*scope, *access, &c.reason));
                    }
                }
            }
        }
        for (scope, access, reason) in needs {
            out.needs.add(scope, access, s.label, reason);
        }
        if let Some(why) = &fact.undetermined {
            let any_input = s.inputs.values().any(|(_, t)| *t == TokenValue::Job);
            if uses_job || any_input || s.env.has_token() {
                out.unsure(s.desc, s.line, format!("uses `{key}`: {why}"));
            }
        }
    }

    fn github_script(&self, d: &Workflow<'_>, s: &StepCtx<'_>, out: &mut Analysis) {
        let _ = d;
        let uses_job = s
            .inputs
            .get("github-token")
            .filter(|(v, _)| !v.trim().is_empty())
            .is_none_or(|(_, t)| *t == TokenValue::Job);
        if !uses_job {
            return;
        }
        let script = s.inputs.get("script").map_or("", |(v, _)| v.as_str());
        let r = analyze_script(self.kb, script, s.label);
        out.needs.merge(&r.needs);
        for u in r.unsure {
            out.unsure(s.desc, s.line, u);
        }
        for n in r.notes {
            out.note(s.line, format!("{}: {n}", s.desc));
        }
    }

    fn local_action(&self, s: &StepCtx<'_>, uses: &str, state: &mut JobState, out: &mut Analysis) {
        let rel = uses_name(uses);
        let Some(file) = self.find_file(rel, &["action.yml", "action.yaml"], FileKind::Action)
        else {
            if self.checked_out_action(s, uses, state, out) {
                return;
            }
            out.unsure(
                s.desc,
                s.line,
                format!("uses the local action `{rel}`, which is not among the files harden read"),
            );
            return;
        };
        let Some(doc) = file.document() else {
            out.unsure(
                s.desc,
                s.line,
                format!("uses the local action `{rel}`, which does not parse"),
            );
            return;
        };
        let path = normalise(&file.path);
        if self.stack.borrow().contains(&path) || self.stack.borrow().len() > 8 {
            out.unsure(s.desc, s.line, format!("uses `{rel}` recursively"));
            return;
        }
        let d = Workflow::new(doc);
        let Some(root) = d.root() else { return };
        let (inner_ctx, _, _) = remote::declared_token_inputs(s, &d, root);
        let Some(runs) = d.runs() else {
            return;
        };
        let using = d.using(runs);
        if using != "composite" {
            let sees = !inner_ctx.inputs.is_empty()
                || s.step_env_token
                || mentions_job_token(d.raw(runs), &inner_ctx, s.env);
            if sees {
                let what = if using.starts_with("docker") {
                    "Docker"
                } else {
                    "JavaScript"
                };
                out.unsure(
                    s.desc,
                    s.line,
                    format!("runs the local {what} action `{rel}` with the job token; harden does not read its code"),
                );
            } else if state.persisted {
                let dir = file
                    .path
                    .parent()
                    .map(|p| self.relative(p))
                    .unwrap_or_default();
                self.local_action_code(&d, runs, &dir, s, out);
            }
            return;
        }
        let inner = self.composite_steps(&d, runs, path, s, &inner_ctx, state);
        let shown = self.relative(&file.path);
        out.absorb(inner, s.label, s.desc, s.line, &shown);
    }

    /// A local JavaScript or Docker action that the job token reaches only through git (the
    /// credentials actions/checkout persisted): its entry files (`main`, `pre`, `post`; the
    /// Dockerfile and the files of the action's folder it names) are read for signs of
    /// writing. A `git push` needs `contents: write`; another sign (an API client, a commit)
    /// makes the step opaque with a sign; files harden cannot read, opaque without one.
    fn local_action_code(
        &self,
        d: &Workflow<'_>,
        runs: &Node,
        dir: &str,
        s: &StepCtx<'_>,
        out: &mut Analysis,
    ) {
        let under = |name: &str| {
            let name = name.trim_start_matches("./");
            if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            }
        };
        let mut entries: Vec<String> = ["pre", "main", "post"]
            .iter()
            .filter_map(|k| d.get(runs, k).and_then(|n| n.as_str()))
            .map(under)
            .collect();
        let image = d.get(runs, "image").and_then(|n| n.as_str()).unwrap_or("");
        if !image.is_empty() && !image.starts_with("docker://") {
            let dockerfile = under(image);
            if let Some(text) = RepoFiles::read(self, &dockerfile) {
                // Files of the action's folder the Dockerfile copies or runs.
                for word in
                    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '[' | ']' | ','))
                {
                    let base = word.rsplit('/').next().unwrap_or(word);
                    if !base.is_empty()
                        && base.contains('.')
                        && RepoFiles::read(self, &under(base)).is_some()
                    {
                        entries.push(under(base));
                    }
                }
            }
            entries.push(dockerfile);
        }
        entries.dedup();
        for entry in &entries {
            let shown = format!("`{entry}`");
            let opaque = |sign: bool, what: String| {
                OpaqueStep {
                unsure: Unsure {
                    step: s.desc.to_owned(),
                    line: s.line,
                    reason: format!(
                        "runs {what}, and git holds the job token (actions/checkout persists it); harden cannot see what it writes"
                    ),
                },
                git_only: true,
                sign,
                program: entry.clone(),
            }
            };
            let Some(text) = RepoFiles::read(self, entry) else {
                out.opaque_step(opaque(
                    false,
                    format!("{shown}, which harden could not read"),
                ));
                continue;
            };
            match super::evidence::code_sign(&text) {
                Some("runs `git push`") => {
                    let reason = format!("{entry}: git push: pushes to the repository");
                    out.needs
                        .add(Scope::Contents, Access::Write, s.label, &reason);
                }
                Some(why) => out.opaque_step(opaque(true, format!("{shown}, whose code {why}"))),
                None => {}
            }
        }
    }

    /// What the steps of a composite action (the `runs:` of `d`) need, run by the step `s`
    /// with the token context `inner_ctx`; `key` names the action on the recursion stack.
    /// Local and remote composite actions both walk their steps here.
    fn composite_steps(
        &self,
        d: &Workflow<'_>,
        runs: &Node,
        key: PathBuf,
        s: &StepCtx<'_>,
        inner_ctx: &TokenCtx,
        state: &mut JobState,
    ) -> Analysis {
        if let Some(capped) = self.bounds.spend(s.desc, s.line) {
            return capped;
        }
        state.account(d.raw(runs));
        self.stack.borrow_mut().push(key);
        let mut inner = Analysis::default();
        let steps = d.step_nodes(runs);
        self.steps(
            d,
            &steps,
            s.env,
            inner_ctx,
            ShellKind::Sh,
            state,
            &mut inner,
        );
        self.stack.borrow_mut().pop();
        inner
    }

    /// A job that calls a reusable workflow: the caller must grant what the called jobs
    /// request (or, where they request nothing, what they need).
    fn call(
        &self,
        d: &Workflow<'_>,
        _file: &FsPath,
        job: &Node,
        uses: &str,
        ctx: &TokenCtx,
        out: &mut Analysis,
    ) {
        let uses = self_repository_as_local(uses);
        let uses = uses.trim();
        let line = d.get(job, "uses").map_or(job.line, |n| n.line);
        let full = uses_name(uses).to_owned();
        let desc = format!("`{full}`");
        // Comments name the called file only: `release.yml: ...`.
        let label = full.rsplit('/').next().unwrap_or(&full).to_owned();
        if uses.contains("${{") {
            out.unsure(
                &desc,
                line,
                "chooses the called workflow with an expression",
            );
            return;
        }
        // A local workflow of a repository whose name is known is the knowledge base's
        // `owner/repo/path` when it describes it (own_repo.rs).
        let known = self
            .kb_key(&full)
            .and_then(|k| self.kb.action(&k).map(|f| (k, f)));
        if !matches!(Uses::parse(uses), Uses::Local(_)) || known.is_some() {
            match known {
                Some((key, fact)) => {
                    for (scope, access) in &fact.permissions {
                        out.needs
                            .add(*scope, *access, &label, fact.reason_for(*scope));
                    }
                    if let Some(why) = &fact.undetermined {
                        out.unsure(&desc, line, format!("calls `{key}`: {why}"));
                    }
                    // Runner workflows (pytorch/test-infra's linux_job...) run a `script`
                    // input in the checked-out repository.
                    if let Some(script) = d.get(job, "with").and_then(|w| d.str(w, "script")) {
                        let mut state = JobState {
                            persisted: true,
                            env_file: runner_env_file(d, job, fact),
                            ..JobState::default()
                        };
                        self.run(
                            script,
                            ShellKind::Sh,
                            &Env::default(),
                            false,
                            ctx,
                            &mut state,
                            &label,
                            &desc,
                            line,
                            out,
                        );
                    }
                }
                None => self.remote_call(d, job, uses, ctx, out),
            }
            return;
        }
        let Some(callee) = self.find_file(&full, &[], FileKind::Workflow) else {
            out.unsure(
                &desc,
                line,
                format!(
                    "calls the local workflow `{full}`, which is not among the files harden read"
                ),
            );
            return;
        };
        let Some(cdoc) = callee.document() else {
            out.unsure(&desc, line, format!("calls `{full}`, which does not parse"));
            return;
        };
        let path = normalise(&callee.path);
        if self.stack.borrow().contains(&path) || self.stack.borrow().len() > 8 {
            out.unsure(&desc, line, format!("calls `{full}` recursively"));
            return;
        }
        let callee_ctx = remote::caller_ctx(d, job, ctx);
        self.stack.borrow_mut().push(path);
        let inner = self.requirement(callee, cdoc, &callee_ctx);
        self.stack.borrow_mut().pop();
        let shown = self.relative(&callee.path);
        out.absorb(inner, &label, &desc, line, &shown);
    }

    /// What a caller must grant to call the workflow `file`: computed once per token context
    /// and counted against the job's cap (`bounds.rs`).
    fn requirement(&self, file: &SourceFile, doc: &Document, ctx: &TokenCtx) -> Analysis {
        let key = bounds::Bounds::key(&file.path, ctx);
        if let Some(known) = self.bounds.recall(&key) {
            return known;
        }
        if let Some(capped) = self.bounds.spend(&file.path.display().to_string(), 1) {
            return capped;
        }
        let out = self.requirement_of(file, doc, ctx);
        self.bounds.remember(key, &out);
        out
    }

    fn requirement_of(&self, file: &SourceFile, doc: &Document, ctx: &TokenCtx) -> Analysis {
        let d = Workflow::new(doc);
        let mut out = Analysis::default();
        let Some(root) = d.root() else { return out };
        let top = d.permissions(root);
        for crate::model::Job { id, node: job, .. } in d.jobs() {
            let who = format!("job `{id}`");
            let requested = |out: &mut Analysis, node: &Node| match Grant::parse(node) {
                Grant::Scopes(map) => {
                    for (scope, access) in map {
                        out.needs
                            .add(scope, access, "", &format!("{who} requests it"));
                    }
                }
                Grant::ReadAll => out.unsure(
                    &who,
                    node.line,
                    "requests `read-all`; harden will not copy it",
                ),
                Grant::WriteAll => out.unsure(
                    &who,
                    node.line,
                    "requests `write-all`; harden will not copy it",
                ),
                Grant::Unreadable => {
                    out.unsure(&who, node.line, "requests permissions harden cannot read")
                }
            };
            if let Some(own) = d.permissions(job) {
                requested(&mut out, own);
            } else if let Some(decl) = self.declaration(&file.path, id) {
                for (scope, access) in &decl.permissions {
                    out.needs
                        .add(*scope, *access, "", "declared in harden config");
                }
            } else if let Some(top) = top {
                requested(&mut out, top);
            } else {
                let inner = self.job(&d, &file.path, root, job, ctx);
                out.needs.merge(&inner.needs);
                for o in inner.opaque {
                    let step = format!("{who}, {}", o.unsure.step);
                    out.opaque_step(OpaqueStep {
                        unsure: Unsure { step, ..o.unsure },
                        ..o
                    });
                }
                for u in inner.unsure {
                    out.unsure(&format!("{who}, {}", u.step), u.line, u.reason);
                }
                out.notes.extend(inner.notes);
            }
        }
        out
    }
}

/// What a `uses:` step is, for the functions that read it.
struct StepCtx<'s> {
    label: &'s str,
    desc: &'s str,
    line: usize,
    inputs: &'s Inputs,
    env: &'s Env,
    step_env_token: bool,
    ctx: &'s TokenCtx,
    /// The workflow's triggers (knowledge-base conditions can depend on them).
    events: &'s BTreeSet<String>,
}

/// Files of the repository on disk (scripts and Makefiles named by run steps): regular
/// files inside the root, up to 1 MiB, each read once per run.
impl RepoFiles for Analyzer<'_> {
    fn read(&self, rel: &str) -> Option<String> {
        if let Some(known) = self.files_read.borrow().get(rel) {
            return known.clone();
        }
        let text = self.read_from_disk(rel);
        self.files_read
            .borrow_mut()
            .insert(rel.to_owned(), text.clone());
        text
    }
}

impl Analyzer<'_> {
    /// The file `rel` of the repository (see [`RepoFiles::read`]).
    fn read_from_disk(&self, rel: &str) -> Option<String> {
        // The one door: inside the root, regular, not /proc, bounded.
        let root = &self.repo.root;
        let limit = harden_github::safe_read::MAX_SMALL_FILE;
        harden_github::safe_read::read_text(root, &root.join(rel), limit).ok()
    }
}

/// `packages: read` for a container or service image pulled with the job token.
fn image_credentials(d: &Workflow<'_>, job: &Node, ctx: &TokenCtx, env: &Env, out: &mut Analysis) {
    let mut images: Vec<(String, &Node)> = Vec::new();
    if let Some(c) = d.get(job, "container") {
        images.push(("container".into(), c));
    }
    for (name, s) in d.entries(d.get(job, "services")) {
        images.push((format!("services.{name}"), s));
    }
    for (label, image) in images {
        let password = d
            .get(image, "credentials")
            .and_then(|c| d.str(c, "password"))
            .unwrap_or_default();
        if classify(password, ctx, env) == TokenValue::Job {
            out.needs.add(
                Scope::Packages,
                Access::Read,
                &label,
                "pulls the image from GitHub Packages",
            );
        }
    }
}

/// The shell `run:` steps of the job use unless they say: `defaults.run.shell` of the job or
/// the workflow, else the runner's default.
fn job_shell(d: &Workflow<'_>, root: &Node, job: &Node) -> ShellKind {
    let shell_of = |n: Option<&Node>| {
        n.and_then(|n| d.get(n, "defaults"))
            .and_then(|x| d.get(x, "run"))
            .and_then(|x| d.str(x, "shell"))
            .map(ShellKind::from_shell)
    };
    let windows = d
        .runs_on(job)
        .is_some_and(|r| d.raw(r).to_ascii_lowercase().contains("windows"));
    shell_of(Some(job))
        .or_else(|| shell_of(Some(root)))
        .unwrap_or(if windows {
            ShellKind::Pwsh
        } else {
            ShellKind::Sh
        })
}

/// The state a job's steps start from: the default working directory, the triggers, and
/// the variables of the job's (or workflow's) `env:` that hold the job token.
fn job_state(d: &Workflow<'_>, root: &Node, job: &Node, ctx: &TokenCtx, wf_env: &Env) -> JobState {
    // The job token put in `env:` for the whole job (or, under a name of its own, for the
    // whole workflow) is there for some command: it must be seen used.
    let mut state = JobState {
        default_workdir: [Some(job), Some(root)]
            .into_iter()
            .flatten()
            .find_map(|n| {
                d.get(n, "defaults")
                    .and_then(|x| d.get(x, "run"))
                    .and_then(|x| d.str(x, "working-directory"))
            })
            .unwrap_or_default()
            .to_owned(),
        events: triggers(d, root),
        ..JobState::default()
    };
    let job_env = d.env(job);
    for (name, value) in d.entries(job_env) {
        if classify(&scalar_text(value), ctx, wf_env) == TokenValue::Job {
            state.unaccounted.insert(name.to_owned());
        }
    }
    for (name, value) in d.entries(d.env(root)) {
        let usual = name == "GITHUB_TOKEN" || name == "GH_TOKEN";
        let shadowed = d.entries(job_env).iter().any(|(k, _)| *k == name);
        if !usual
            && !shadowed
            && classify(&scalar_text(value), ctx, &Env::default()) == TokenValue::Job
        {
            state.unaccounted.insert(name.to_owned());
        }
    }
    state
}

/// What the job's steps together leave open: a commit never visibly pushed, and job-token
/// variables no step visibly used.
fn finish_job(d: &Workflow<'_>, root: &Node, job: &Node, state: &JobState, out: &mut Analysis) {
    if let Some((desc, line, what)) = &state.push_hint {
        let pushes = out.needs.access(Scope::Contents) == Some(Access::Write);
        if state.persisted && !pushes {
            out.unsure(
                desc,
                *line,
                format!("{what} with the job token in git, but no step visibly pushes; harden cannot tell whether a script does"),
            );
        }
    }
    if out.needs.access(Scope::Contents) == Some(Access::Write) {
        // A push with the persisted credentials is already granted.
        out.opaque.retain(|o| !o.git_only);
    }
    let job_env = d.env(job);
    for name in &state.unaccounted {
        let line = [job_env, d.env(root)]
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_mapping())
            .find_map(|m| m.get(name))
            .map_or(job.line, |e| e.key.line);
        out.unsure(
            "`env`",
            line,
            format!("holds the job token as `{name}`, but no step visibly uses it; harden cannot tell which command reads it"),
        );
    }
}
