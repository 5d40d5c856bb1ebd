//! `run:` scripts: which commands use the job's token, and for what.
//!
//! The script is split into simple commands by `lexer.rs`, then each command is matched:
//! `gh`, `git push`, `curl`/`wget` to the API, registry logins, publishing with OIDC, the
//! writers of `data/commands.yml`; anything else goes to `programs.rs` (repository scripts,
//! Makefiles, read-only and opaque programs). A command that is handed the token but is none
//! of those makes the step undetermined.

use std::collections::{BTreeMap, BTreeSet};

use super::commands::Credentials;
use super::endpoints::{match_endpoint, normalise_path};
use super::expr::{mentions_job_token, mentions_word, variable_refs, Env, TokenCtx, TokenValue};
use super::kb::{GhCommand, Kb, Need};
pub(crate) use super::lexer::{split, Parsed, Segment, ShellKind};
use super::scopes::{Access, Scope, ScopeSet};
use super::tools::{attached, has, Prefixes};

/// What a run step needs, or why harden cannot tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StepResult {
    pub(crate) needs: ScopeSet,
    pub(crate) unsure: Vec<String>,
    pub(crate) notes: Vec<String>,
    /// The script configures git with the job token (for later `git push`).
    pub(crate) git_token: bool,
    /// Environment variables holding the job token that a command read by itself (`gh`
    /// reads `GH_TOKEN`, `GITHUB_TOKEN`).
    pub(crate) used: BTreeSet<String>,
    /// The script commits, tags or sets a git identity: something is meant to be pushed.
    pub(crate) commits: bool,
    /// Programs harden cannot see into, run while credentials could reach them.
    pub(crate) opaque: Vec<Opaque>,
    /// `NAME=value` lines the script appends to `$GITHUB_ENV`, in order.
    pub(crate) env_file: Vec<(String, String)>,
    /// The script writes to `$GITHUB_ENV` in a way harden does not read.
    pub(crate) env_file_unknown: bool,
}

/// A program harden cannot see into (an unknown command, a script it cannot read), run
/// while the job token is in git or in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opaque {
    /// What runs, as a phrase: `` `./scripts/release.sh` (not in the files harden read) ``.
    pub(crate) what: String,
    /// The environment variable holding the job token, if one does.
    pub(crate) token_var: Option<String>,
    /// A sign that it writes with the token (the token in its environment, a push or an API
    /// client in its code, a name that says it deploys); without one harden assumes it does
    /// not (`evidence.rs`).
    pub(crate) sign: bool,
}

/// Files of the repository that scripts name (`./scripts/x.sh`, a Makefile).
pub(crate) trait RepoFiles {
    /// The text of the file at `rel` (relative to the repository root, `/`-separated), or
    /// `None` when it is not there or cannot be read.
    fn read(&self, rel: &str) -> Option<String>;
}

/// What the analysis of a script knows about the step.
pub(crate) struct RunCtx<'a> {
    pub(crate) kb: &'a Kb,
    pub(crate) env: &'a Env,
    pub(crate) token: &'a TokenCtx,
    /// The step's own `env:` holds the job token.
    pub(crate) step_env_token: bool,
    /// An earlier `actions/checkout` left the job token in the git configuration.
    pub(crate) persisted_creds: bool,
    /// How reasons name the step (empty for unnamed run steps).
    pub(crate) label: &'a str,
    /// The repository's files, to read the scripts and Makefiles a step runs.
    pub(crate) files: Option<&'a dyn RepoFiles>,
    /// The step's working directory, relative to the repository root (`""` for the root).
    pub(crate) workdir: &'a str,
    /// How many scripts deep this analysis is.
    pub(crate) depth: usize,
    /// Values earlier steps of the job wrote to `$GITHUB_ENV` (see `env_file.rs`).
    pub(crate) env_file: &'a BTreeMap<String, String>,
}

/// Replaces `${name}` and `$name` (as a whole name) in `text`.
fn replace_var(text: &str, name: &str, value: &str) -> String {
    let braced = format!("${{{name}}}");
    let mut out = text.replace(&braced, value);
    let plain = format!("${name}");
    let mut result = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find(&plain) {
        let end = i + plain.len();
        let next = rest[end..].chars().next();
        result.push_str(&rest[..i]);
        if next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            result.push_str(&plain);
        } else {
            result.push_str(value);
        }
        rest = &rest[end..];
    }
    result.push_str(rest);
    out = result;
    out
}

fn base_name(word: &str) -> String {
    let name = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let lower = name.to_ascii_lowercase();
    lower.trim_end_matches(".exe").to_owned()
}

/// `NAME=value`, also `NAME+=value` and an array element `NAME[key]=value` (the name is
/// `NAME`).
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let name = name.trim_start_matches("$env:").trim_start_matches('$');
    let name = name.strip_suffix('+').unwrap_or(name);
    let name = match name.split_once('[') {
        Some((array, key)) if key.ends_with(']') => array,
        _ => name,
    };
    let mut chars = name.chars();
    let first = chars.next()?;
    if (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Some((name, value))
    } else {
        None
    }
}

/// Leading `NAME=value` words and the index of the command word, once the words before it
/// that are not the command (`sudo -E`, `timeout 10`, `if`) are skipped.
fn command_start(prefixes: &Prefixes, words: &[String]) -> (Vec<(String, String)>, Option<usize>) {
    let skip_options = |mut i: usize| {
        let values = prefixes
            .option_values
            .get(&base_name(&words[i - 1]))
            .map_or(&[][..], Vec::as_slice);
        while i < words.len() && words[i].starts_with('-') {
            i += if has(values, &words[i]) { 2 } else { 1 };
        }
        i.min(words.len())
    };
    let mut assigns = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if let Some((n, v)) = assignment(w) {
            assigns.push((n.to_owned(), v.to_owned()));
            i += 1;
            continue;
        }
        let name = base_name(w);
        if has(&prefixes.keywords, &name) {
            i += 1;
        } else if has(&prefixes.with_options, &name) {
            i = skip_options(i + 1);
        } else if has(&prefixes.with_options_and_value, &name) {
            i = skip_options(i + 1) + 1;
        } else {
            return (assigns, Some(i));
        }
    }
    (assigns, None)
}

/// The words of a function's command with `$1`..`$9`, `$@` and `$*` (whole words) replaced
/// by the call's arguments.
fn positional(words: &[String], args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        let bare = w
            .strip_prefix("${")
            .and_then(|x| x.strip_suffix('}'))
            .or_else(|| w.strip_prefix('$'));
        match bare {
            Some("@" | "*") => out.extend(args.iter().cloned()),
            Some(n) if n.len() == 1 && n.as_bytes()[0].is_ascii_digit() && n != "0" => {
                let i = usize::from(n.as_bytes()[0] - b'1');
                if let Some(a) = args.get(i) {
                    out.push(a.clone());
                }
            }
            _ => out.push(w.clone()),
        }
    }
    out
}

/// How a command sits in its pipeline.
#[derive(Debug, Clone, Copy)]
struct Pipe {
    kind: ShellKind,
    /// Another command of the pipeline mentions the job token.
    mention: bool,
    /// Another command of the pipeline reads it (`gh`, a `login`).
    consumer: bool,
}

/// How many function bodies one script's analysis reads before a function already read once
/// is no longer read again at each call.
const MAX_BODIES: usize = 512;

/// A plain value the script gives a variable, as words, with the line that sets it.
type Value = (Vec<String>, usize);

/// The state of one script's analysis.
pub(super) struct Run<'a, 'c> {
    pub(super) ctx: &'c RunCtx<'a>,
    /// Variables and whether they hold the job token.
    pub(super) vars: BTreeMap<String, TokenValue>,
    pub(super) out: StepResult,
    /// git holds the job token (persisted checkout credentials, a remote URL with it...).
    pub(super) git_token: bool,
    gh_login: TokenValue,
    pub(super) consumed: bool,
    mentioned: bool,
    /// The script changed folder or ran a build generator: a Makefile harden cannot find
    /// is a generated one (cmake, configure), not the repository's.
    pub(super) generated_build: bool,
    /// Variables from `$GITHUB_ENV` this script may run as a command, as words.
    pub(super) command_values: BTreeMap<String, Vec<String>>,
    /// The script split into commands (function bodies are run from it when called).
    parsed: Parsed,
    /// The repository file the script is (empty for a `run:` step).
    file: String,
    /// Values the script gives its own variables (`pytest="python -m pytest"`), each with
    /// its line, to run `$pytest`; `None` once one of them is not a plain value.
    values: BTreeMap<String, Option<Vec<Value>>>,
    /// Functions being run and variables being expanded, innermost last.
    calls: Vec<String>,
    /// Functions called so far.
    called: BTreeSet<String>,
    /// How many function bodies this analysis read.
    bodies_read: usize,
    /// Where what is being read comes from (`in function `f` (scripts/x.sh:3)`), innermost
    /// last: added to what is reported.
    context: Vec<String>,
    /// Per pipeline: another command mentions the job token; another reads it.
    pipes: BTreeMap<usize, (bool, bool)>,
}

/// Analyses a `run:` script.
pub(crate) fn analyze_run(script: &str, kind: ShellKind, ctx: &RunCtx<'_>) -> StepResult {
    if ctx.depth == 0 && kind != ShellKind::Other {
        let script = env_expressions(script, ctx.env);
        return analyze_text(&script, kind, ctx, "");
    }
    analyze_text(script, kind, ctx, "")
}

/// `script` with `${{ env.NAME }}` replaced by `NAME`'s value where `env:` sets it to a
/// literal, as the runner does before the shell starts (`${{ env.BUILD_SCRIPT }} --ci`).
fn env_expressions(script: &str, env: &Env) -> String {
    let mut out = String::new();
    let mut rest = script;
    while let Some(open) = rest.find("${{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let whole = &rest[open..open + close + 2];
        let inner = whole[3..whole.len() - 2].trim();
        let value = inner
            .strip_prefix("env.")
            .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .and_then(|n| env.value(n))
            .filter(|v| !v.is_empty() && !v.contains("${{"));
        out.push_str(value.unwrap_or(whole));
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// Analyses a script: a `run:` step (`file` empty) or a file of the repository.
pub(crate) fn analyze_text(
    script: &str,
    kind: ShellKind,
    ctx: &RunCtx<'_>,
    file: &str,
) -> StepResult {
    let mut run = Run {
        ctx,
        vars: ctx
            .env
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.token))
            .collect(),
        out: StepResult::default(),
        git_token: ctx.persisted_creds,
        gh_login: TokenValue::Absent,
        consumed: false,
        mentioned: false,
        generated_build: false,
        command_values: super::env_file::command_values(ctx.env_file, script),
        parsed: Parsed::default(),
        file: file.to_owned(),
        values: BTreeMap::new(),
        calls: Vec::new(),
        called: BTreeSet::new(),
        bodies_read: 0,
        context: Vec::new(),
        pipes: BTreeMap::new(),
    };
    let oidc_variables = &ctx.kb.tools.oidc.request_variables;
    if oidc_variables.iter().any(|v| mentions_word(script, v)) {
        run.need(
            Scope::IdToken,
            Access::Write,
            "requests a GitHub OIDC token",
        );
        run.consumed = true;
    }
    let embedded: Vec<String> = if kind == ShellKind::Other {
        // `shell: python` and the like: not split; opaque when it may run git or call out.
        super::programs::inline_code(&mut run, "a `shell:` script in another language", script);
        vec![script.to_owned()]
    } else {
        let parsed = split(script, kind);
        for seg in &parsed.segments {
            let m = seg.words.iter().any(|w| run.word_mentions(w));
            let (_, ci) = command_start(&ctx.kb.tools.prefixes, &seg.words);
            let is_consumer = ci.is_some_and(|ci| {
                let cmd = base_name(&seg.words[ci]);
                cmd == "gh" || seg.words[ci + 1..].iter().any(|w| w == "login")
            });
            let entry = run.pipes.entry(seg.pipeline).or_default();
            entry.0 |= m;
            entry.1 |= is_consumer;
        }
        run.parsed = parsed;
        for index in 0..run.parsed.segments.len() {
            if run.parsed.in_function(index) {
                // Runs when the function is called.
                continue;
            }
            let seg = run.parsed.segments[index].clone();
            run.piped_segment(&seg, kind);
        }
        // A function harden did not see called may still run (`"$@"`, `$cmd`, a trap):
        // what it does counts too.
        let uncalled: Vec<String> = run
            .parsed
            .functions
            .iter()
            .map(|f| f.name.clone())
            .filter(|n| !run.called.contains(n))
            .collect();
        for name in uncalled {
            run.call_function(&[name], 0, kind);
        }
        std::mem::take(&mut run.parsed.heredocs)
    };
    for body in &embedded {
        if run.text_mentions(body) && !run.mentioned {
            run.unsure("reads the job token in a script harden cannot map");
            run.mentioned = true;
        }
    }
    if ctx.step_env_token && !run.consumed && !run.mentioned && run.out.unsure.is_empty() {
        run.unsure("gets the job token in its `env`, but harden cannot tell which command uses it");
    }
    run.out.git_token = run.git_token && !ctx.persisted_creds;
    run.out
}

impl Run<'_, '_> {
    pub(super) fn need(&mut self, scope: Scope, access: Access, reason: &str) {
        self.out.needs.add(scope, access, self.ctx.label, reason);
    }

    /// A command from `commands.yml`'s writers; true when the job token reaches it.
    fn writer(&mut self, words: &[String], ci: usize, mention: bool) -> bool {
        let Some(w) = self.ctx.kb.commands.writer(words, ci) else {
            return false;
        };
        let in_env = ["GITHUB_TOKEN", "GH_TOKEN"]
            .into_iter()
            .filter(|n| self.var(n) == TokenValue::Job)
            .collect::<Vec<_>>();
        let token = mention || !in_env.is_empty();
        let reaches = match w.credentials {
            Credentials::Git => self.git_token,
            Credentials::Token => token,
            Credentials::Either => self.git_token || token,
        };
        if w.commits {
            self.out.commits = true;
        }
        if !reaches {
            return false;
        }
        self.consumed = true;
        for n in in_env {
            self.out.used.insert(n.to_owned());
        }
        let reason = format!("{}: {}", w.key, w.reason);
        for (scope, access) in &w.permissions {
            self.need(*scope, *access, &reason);
        }
        if let Some(why) = &w.undetermined {
            self.unsure(format!("runs `{}`: {why}", w.key));
        }
        true
    }

    pub(super) fn unsure(&mut self, reason: impl Into<String>) {
        let reason = self.located(reason.into());
        if !self.out.unsure.contains(&reason) {
            self.out.unsure.push(reason);
        }
    }

    /// `what` with where it comes from when that is a function or a variable of the script
    /// (`... (in function `setup` defined at scripts/ci.sh:3)`).
    pub(super) fn located(&self, what: String) -> String {
        match self.context.last() {
            Some(c) => format!("{what} ({c})"),
            None => what,
        }
    }

    /// Where line `line` of this script is, as a reader finds it.
    fn place(&self, line: usize) -> String {
        if self.file.is_empty() {
            format!("line {line} of the script")
        } else {
            format!("{}:{line}", self.file)
        }
    }

    /// Analyses `words` as a command of its own (`hatch run docs:mkdocs build` runs
    /// `mkdocs build`).
    pub(super) fn run_words(&mut self, words: Vec<String>) {
        let seg = Segment {
            words,
            pipeline: usize::MAX,
            line: 0,
        };
        self.segment(&seg, ShellKind::Sh, false, false);
    }

    /// A command with its pipeline's facts.
    fn piped_segment(&mut self, seg: &Segment, kind: ShellKind) {
        let (pm, pc) = self.pipes.get(&seg.pipeline).copied().unwrap_or_default();
        self.segment(seg, kind, pm, pc);
    }

    /// `name args` where the script defines the function `name`: its body is analysed here,
    /// with `$1`... and `$@` standing for `args`. True when `name` is such a function.
    fn call_function(&mut self, words: &[String], ci: usize, kind: ShellKind) -> bool {
        let name = words[ci].as_str();
        let Some(f) = self.parsed.function(name).cloned() else {
            return false;
        };
        if self.calls.iter().any(|c| c == name) || self.calls.len() >= 16 {
            // Recursion: the body is being read already.
            return true;
        }
        if self.called.contains(name) && self.bodies_read >= MAX_BODIES {
            // Functions that call each other many times (`f` calls `g` twice, `g` calls
            // `h` twice...): each body was read once already.
            return true;
        }
        self.bodies_read += 1;
        let args = &words[ci + 1..];
        self.called.insert(name.to_owned());
        self.calls.push(name.to_owned());
        let place = self.place(f.line);
        self.context
            .push(format!("in function `{name}` defined at {place}"));
        for index in f.body.clone() {
            let seg = self.parsed.segments[index].clone();
            let words = positional(&seg.words, args);
            let seg = Segment { words, ..seg };
            self.piped_segment(&seg, kind);
        }
        self.context.pop();
        self.calls.pop();
        true
    }

    /// Records the value a script gives a variable, to run `$name` later.
    fn remember(&mut self, name: &str, value: &str, line: usize) {
        let plain = !value.contains("$()") && !value.contains("${{") && !value.contains('`');
        let entry = self
            .values
            .entry(name.to_owned())
            .or_insert(Some(Vec::new()));
        match entry {
            Some(values) if plain => {
                let words: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
                if !values.iter().any(|(w, _)| *w == words) {
                    values.push((words, line));
                }
            }
            _ => *entry = None,
        }
    }

    /// `$name` (or `${name}`) at `ci`, where the script set `name` to plain values: each
    /// value is analysed in its place. True when it was such a variable.
    fn expand_value(&mut self, seg: &Segment, kind: ShellKind, ci: usize) -> bool {
        let word = &seg.words[ci];
        // `${PREFIX}mkdocs`: each value of PREFIX, then the rest of the word.
        let prefix = super::env_file::prefix_variable(word);
        let (key, call) = match (super::env_file::expanded_name(word), prefix) {
            (Some(name), _) | (None, Some((name, _))) => (name.to_owned(), format!("${name}")),
            (None, None) => (format!("alias {word}"), format!("alias {word}")),
        };
        let suffix = prefix.map(|(_, rest)| rest.to_owned());
        let Some(Some(values)) = self.values.get(&key).cloned() else {
            return false;
        };
        if self.calls.contains(&call) || self.calls.len() >= 16 {
            return false;
        }
        self.calls.push(call.clone());
        for (mut value, line) in values {
            if let Some(rest) = &suffix {
                match value.last_mut() {
                    Some(last) => last.push_str(rest),
                    None => value.push(rest.clone()),
                }
            }
            let mut words = seg.words[..ci].to_vec();
            words.extend(value);
            words.extend(seg.words[ci + 1..].iter().cloned());
            let place = self.place(line);
            self.context.push(format!("`{call}` is set at {place}"));
            self.piped_segment(
                &Segment {
                    words,
                    ..seg.clone()
                },
                kind,
            );
            self.context.pop();
        }
        self.calls.pop();
        true
    }

    pub(super) fn var(&self, name: &str) -> TokenValue {
        self.vars.get(name).copied().unwrap_or(TokenValue::Absent)
    }

    fn word_mentions(&self, word: &str) -> bool {
        mentions_job_token(word, self.ctx.token, self.ctx.env)
            || variable_refs(word).iter().any(|v| {
                self.var(v) == TokenValue::Job
                    || self.var(&v.to_ascii_uppercase()) == TokenValue::Job
            })
    }

    fn text_mentions(&self, text: &str) -> bool {
        mentions_job_token(text, self.ctx.token, self.ctx.env)
            || self
                .vars
                .iter()
                .any(|(k, v)| *v == TokenValue::Job && mentions_word(text, k))
    }

    fn classify(&self, value: &str) -> TokenValue {
        if value.trim().is_empty() {
            TokenValue::Absent
        } else if self.word_mentions(value) {
            TokenValue::Job
        } else {
            TokenValue::Other
        }
    }

    /// Records what the command at `ci` writes to `$GITHUB_ENV`, and returns the index of the
    /// command once wrappers are skipped (an unknown wrapper option is opaque).
    fn env_file_and_wrappers(&mut self, words: &[String], ci: usize) -> usize {
        match super::env_file::write_of(words, ci) {
            Some(super::env_file::EnvWrite::Defines(n, v)) => self.out.env_file.push((n, v)),
            Some(super::env_file::EnvWrite::Unknown) => self.out.env_file_unknown = true,
            None => {}
        }
        match self.ctx.kb.commands.unwrap_checked(words, ci) {
            // `conda run -n x USE_CPP=1 pip install .`: the wrapper's shell sets them.
            Ok(mut ci) => {
                while ci + 1 < words.len() && assignment(&words[ci]).is_some() {
                    ci += 1;
                }
                ci
            }
            Err(u) => {
                let shown = words[ci..=u.at].join(" ");
                let sign = super::evidence::words_sign(&self.ctx.kb.commands, words, u.at);
                super::programs::record_opaque(
                    self,
                    format!("`{shown}`, a wrapper option harden does not know"),
                    sign,
                );
                u.at
            }
        }
    }

    /// `${CONDA_RUN} pytest`, where an earlier step wrote `CONDA_RUN=conda run -n x` to
    /// `$GITHUB_ENV`: analyses `conda run -n x pytest` instead. True when it did.
    fn expand_command(
        &mut self,
        seg: &Segment,
        kind: ShellKind,
        pipe_mention: bool,
        pipe_consumer: bool,
        ci: usize,
    ) -> bool {
        let Some(name) = super::env_file::expanded_name(&seg.words[ci]) else {
            return false;
        };
        let Some(value) = self.command_values.remove(name) else {
            return false;
        };
        let mut words = seg.words[..ci].to_vec();
        words.extend(value.iter().cloned());
        words.extend(seg.words[ci + 1..].iter().cloned());
        let expanded = Segment {
            words,
            ..seg.clone()
        };
        self.segment(&expanded, kind, pipe_mention, pipe_consumer);
        self.command_values.insert(name.to_owned(), value);
        true
    }

    fn segment(&mut self, seg: &Segment, kind: ShellKind, pipe_mention: bool, pipe_consumer: bool) {
        let words = &seg.words;
        let mention = words.iter().any(|w| self.word_mentions(w));
        if kind == ShellKind::Pwsh && self.pwsh_assignment(words, mention) {
            return;
        }
        let kb = self.ctx.kb;
        let (assigns, ci) = command_start(&kb.tools.prefixes, words);
        let Some(ci) = ci else {
            for (n, v) in assigns {
                self.remember(&n, &v, seg.line);
                let value = self.classify(&v);
                self.vars.insert(n, value);
            }
            self.mentioned |= mention;
            return;
        };
        let saved = self.vars.clone();
        for (n, v) in &assigns {
            let value = self.classify(v);
            self.vars.insert(n.clone(), value);
        }
        let ci = self.env_file_and_wrappers(words, ci);
        let expanded = self.expand_command(seg, kind, pipe_mention, pipe_consumer, ci)
            || self.call_function(words, ci, kind)
            || self.expand_value(seg, kind, ci)
            || super::project_scripts::run_script(self, words, ci);
        if !expanded {
            if base_name(&words[ci]) == "alias" {
                for (name, value) in words[ci + 1..].iter().filter_map(|w| assignment(w)) {
                    self.remember(&format!("alias {name}"), value, seg.line);
                }
                return;
            }
            if kb.tools.declarations.has(&base_name(&words[ci])) {
                // `export NAME=value` outlives the command, with its prefix assignments.
                self.declare(&words[ci + 1..], mention, seg.line);
                return;
            }
            let pipe = Pipe {
                kind,
                mention: pipe_mention,
                consumer: pipe_consumer,
            };
            let handled_mention = self.command(words, ci, mention, pipe);
            if mention {
                self.mentioned = true;
                if !handled_mention {
                    self.consumed = true;
                    self.unsure(format!("passes the job token to `{}`", words[ci]));
                }
            }
        }
        // Prefix assignments (`GH_TOKEN=x gh ...`) only last for the command.
        if !assigns.is_empty() {
            self.vars = saved;
        }
    }

    /// PowerShell: `$env:GH_TOKEN = "..."`, `$token = ...`. True when `words` is one.
    fn pwsh_assignment(&mut self, words: &[String], mention: bool) -> bool {
        if words.len() < 3 || words[1] != "=" || !words[0].starts_with('$') {
            return false;
        }
        let name = words[0]
            .trim_start_matches("$env:")
            .trim_start_matches('$')
            .to_owned();
        let value = self.classify(&words[2..].join(" "));
        self.vars.insert(name, value);
        self.mentioned |= mention;
        true
    }

    /// `export NAME=value`, `local NAME=value`...
    fn declare(&mut self, args: &[String], mention: bool, line: usize) {
        for a in args {
            if let Some((n, v)) = assignment(a) {
                self.remember(n, v, line);
                let value = self.classify(v);
                self.vars.insert(n.to_owned(), value);
            }
        }
        self.mentioned |= mention;
    }

    /// Matches the command at `ci` against what harden knows; true when a mention of the job
    /// token in it is accounted for.
    fn command(&mut self, words: &[String], ci: usize, mention: bool, pipe: Pipe) -> bool {
        let tools = &self.ctx.kb.tools;
        let cmd = base_name(&words[ci]);
        let args = &words[ci + 1..];
        if cmd == "gh" {
            self.consumed = true;
            self.gh(args, mention || pipe.mention);
        } else if cmd == "git" {
            self.git(args, mention);
        } else if has(&tools.http.tools, &cmd) {
            self.http(&cmd, args, mention);
        } else if let Some(handled) = self.oidc_publisher(&cmd, args) {
            return handled;
        } else if has(&tools.registry_logins.tools, &cmd) && args.iter().any(|a| a == "login") {
            self.login(&cmd, args, mention || pipe.mention);
        } else if self.ctx.kb.commands.writer(words, ci).is_some() {
            return self.writer(words, ci, mention);
        } else if tools.tests.has(&cmd) {
        } else if tools.printers.has(&cmd) && mention {
            self.printed(words, &cmd, pipe.consumer);
        } else {
            if !mention {
                super::programs::other_command(self, words, ci, pipe.kind);
            }
            return false;
        }
        true
    }

    /// `echo "$GITHUB_TOKEN"`: printing is harmless (the runner masks the token); passing it
    /// on is not.
    fn printed(&mut self, words: &[String], cmd: &str, pipe_consumer: bool) {
        let text = words.join(" ");
        if text.contains("::add-mask::") || pipe_consumer {
        } else if text.contains("GITHUB_ENV") {
            self.unsure("writes the job token to $GITHUB_ENV for later steps");
        } else if text.contains("GITHUB_OUTPUT") {
            self.unsure("writes the job token to a step output");
        } else if text.contains('>') {
            self.unsure(format!("writes the job token to a file with `{cmd}`"));
        }
    }

    /// Publishers and signers that use OIDC (`npm publish --provenance`, `cosign sign`):
    /// `None` when the command is none of them, else whether a mention of the job token is
    /// accounted for.
    fn oidc_publisher(&mut self, cmd: &str, args: &[String]) -> Option<bool> {
        let oidc = &self.ctx.kb.tools.oidc;
        let arg = |word: &str| args.iter().any(|a| a == word);
        let first_is = |words: &[String]| args.first().is_some_and(|a| has(words, a));
        if has(&oidc.npm.tools, cmd) && arg("publish") {
            return Some(self.npm_publish(cmd, args));
        }
        let sigstore = (cmd == "sigstore"
            || (has(&oidc.sigstore.interpreters, cmd)
                && args.windows(2).any(|w| w[0] == "-m" && w[1] == "sigstore")))
            && arg("sign");
        if cmd == "uv" && args.first().is_some_and(|a| a == "publish") {
            self.uv_publish(args);
        } else if sigstore {
            self.need(
                Scope::IdToken,
                Access::Write,
                "sigstore sign: keyless signing (OIDC)",
            );
        } else if cmd == "cosign" && first_is(&oidc.cosign.subcommands) {
            self.cosign_sign(args);
        } else {
            return None;
        }
        self.consumed = true;
        Some(false)
    }

    /// `npm publish` (or pnpm, yarn): provenance and trusted publishing use OIDC, the job
    /// token in `NODE_AUTH_TOKEN` publishes to GitHub Packages. True when that token is used.
    fn npm_publish(&mut self, cmd: &str, args: &[String]) -> bool {
        let npm = &self.ctx.kb.tools.oidc.npm;
        self.consumed = true;
        if args.contains(&npm.provenance_option)
            || self.ctx.env.value(&npm.provenance_env) == Some("true")
        {
            self.need(
                Scope::IdToken,
                Access::Write,
                &format!("{cmd} publish --provenance: signs provenance with OIDC"),
            );
        }
        let dry_run = args.contains(&npm.dry_run_option);
        match self.var(&npm.token_env) {
            TokenValue::Job => {
                self.need(
                    Scope::Packages,
                    Access::Write,
                    &format!("{cmd} publish: publishes to GitHub Packages"),
                );
                return true;
            }
            // No token: npm trusted publishing exchanges an OIDC token.
            TokenValue::Absent if !dry_run => self.need(
                Scope::IdToken,
                Access::Write,
                &format!("{cmd} publish: trusted publishing (OIDC)"),
            ),
            _ => {}
        }
        false
    }

    /// `uv publish`: trusted publishing unless credentials are given or it is turned off.
    fn uv_publish(&mut self, args: &[String]) {
        let uv = &self.ctx.kb.tools.oidc.uv;
        let has_credentials = args.iter().any(|a| {
            has(&uv.credential_options, a) || attached(&uv.credential_prefixes, a).is_some()
        }) || uv
            .credential_env
            .iter()
            .any(|v| self.ctx.env.value(v).is_some());
        let never = args
            .windows(2)
            .any(|w| w[0] == "--trusted-publishing" && w[1] == "never")
            || args.iter().any(|a| a == "--trusted-publishing=never");
        if !has_credentials && !never {
            self.need(
                Scope::IdToken,
                Access::Write,
                "uv publish: PyPI trusted publishing (OIDC)",
            );
        }
    }

    /// `cosign sign` and friends: keyless (OIDC) unless a key is given.
    fn cosign_sign(&mut self, args: &[String]) {
        let cosign = &self.ctx.kb.tools.oidc.cosign;
        let keyed = args
            .iter()
            .any(|a| has(&cosign.key_options, a) || attached(&cosign.key_prefixes, a).is_some());
        if !keyed {
            let sub = args.first().map_or("sign", String::as_str);
            self.need(
                Scope::IdToken,
                Access::Write,
                &format!("cosign {sub}: keyless signing (OIDC)"),
            );
        }
    }

    fn gh_token(&self) -> TokenValue {
        match self.var("GH_TOKEN") {
            TokenValue::Absent => match self.var("GITHUB_TOKEN") {
                TokenValue::Absent => self.gh_login,
                v => v,
            },
            v => v,
        }
    }

    fn gh(&mut self, args: &[String], mention: bool) {
        let kb = self.ctx.kb;
        let gh = &kb.tools.gh;
        let mut positional = Vec::new();
        let mut skip = false;
        for a in args {
            if skip {
                skip = false;
                continue;
            }
            if has(&gh.value_options, a) {
                skip = true;
                continue;
            }
            if a.starts_with('-') {
                continue;
            }
            positional.push(a.as_str());
            if positional.len() == 2 {
                break;
            }
        }
        let Some(group) = positional.first().copied() else {
            return;
        };
        let sub = positional.get(1).copied().unwrap_or("");
        if group == "auth" {
            if sub == "login" && mention {
                self.gh_login = TokenValue::Job;
            }
            if sub == "setup-git" && self.gh_token() == TokenValue::Job {
                self.git_token = true;
            }
            return;
        }
        if self.gh_token() != TokenValue::Job {
            return;
        }
        for name in ["GH_TOKEN", "GITHUB_TOKEN"] {
            if self.var(name) == TokenValue::Job {
                self.out.used.insert(name.to_owned());
                break;
            }
        }
        if group == "api" {
            let pos = args.iter().position(|a| a == "api").map_or(0, |p| p + 1);
            self.gh_api(&args[pos..]);
            return;
        }
        let sub = gh.aliases.get(sub).map_or(sub, String::as_str);
        let command = kb
            .gh
            .get(&format!("{group} {sub}"))
            .or_else(|| kb.gh.get(group));
        let Some(command) = command else {
            let name = format!("{group} {sub}");
            self.unsure(format!(
                "runs `gh {}`, which harden does not know",
                name.trim()
            ));
            return;
        };
        self.apply_gh(command, &format!("gh {group} {sub}"));
        for extra in &gh.arguments {
            let applies = extra.command == group || extra.command == format!("{group} {sub}");
            let given = args.iter().any(|a| {
                let flag = a.split('=').next().unwrap_or(a);
                has(&extra.with_args, flag)
            });
            if applies && given {
                self.need(extra.scope, extra.access, &extra.reason);
            }
        }
    }

    fn apply_gh(&mut self, command: &GhCommand, name: &str) {
        match &command.need {
            Need::Scope(s, a) => self.need(*s, *a, &command.reason),
            Need::NotGrantable(perm, a) => {
                let note =
                    format!("`{name}` needs {perm} {a}, which the GITHUB_TOKEN cannot be given");
                if !self.out.notes.contains(&note) {
                    self.out.notes.push(note);
                }
            }
            Need::Nothing | Need::Endpoint => {}
        }
        for (s, a) in &command.also {
            self.need(*s, *a, &command.reason);
        }
        if command.undetermined {
            self.unsure(format!(
                "runs `{name}`, whose needs depend on its arguments"
            ));
        }
    }

    fn gh_api(&mut self, args: &[String]) {
        let api = &self.ctx.kb.tools.gh.api;
        let mut method: Option<String> = None;
        let mut fields = false;
        let mut endpoint: Option<&str> = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if has(&api.method_options, a) {
                method = args.get(i + 1).cloned();
                i += 1;
            } else if has(&api.field_options, a) {
                fields = true;
                i += 1;
            } else if has(&api.value_options, a) {
                i += 1;
            } else if let Some(m) = attached(&api.method_prefixes, a) {
                method = Some(m.to_owned());
            } else if attached(&api.field_prefixes, a).is_some() {
                fields = true;
            } else if a.starts_with('-') {
            } else if endpoint.is_none() {
                endpoint = Some(a);
            }
            i += 1;
        }
        let method = method
            .unwrap_or_else(|| if fields { "POST".into() } else { "GET".into() })
            .to_ascii_uppercase();
        let Some(endpoint) = endpoint else {
            self.unsure("runs `gh api` with an endpoint harden cannot read");
            return;
        };
        self.endpoint_call("gh api", &method, endpoint);
    }

    /// `raw` with the variables set in `env:` to a literal or to the repository replaced.
    fn expand(&self, raw: &str) -> String {
        let mut out = raw.to_owned();
        for name in variable_refs(raw) {
            let Some(value) = self.ctx.env.value(&name) else {
                continue;
            };
            let value = value.trim();
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            let replacement = if compact == "${{github.repository}}" {
                "{owner}/{repo}".to_owned()
            } else if !value.contains(['$', '{', '}', ' ']) && !value.is_empty() {
                value.to_owned()
            } else {
                continue;
            };
            out = replace_var(&out, &name, &replacement);
        }
        out
    }

    fn endpoint_call(&mut self, tool: &str, method: &str, raw: &str) {
        let mut raw = self.expand(raw);
        if raw.contains("pull_request.url") {
            raw = "/repos/{owner}/{repo}/pulls/{pull_number}".to_owned();
        }
        let path = normalise_path(&raw);
        if path == "/graphql" {
            self.unsure(format!(
                "`{tool}` calls the GraphQL API, which harden cannot map"
            ));
            return;
        }
        let matches = match_endpoint(self.ctx.kb, method, &path);
        if matches.is_empty() {
            self.unsure(format!(
                "`{tool}` calls `{method} {path}`, which is not in rest-endpoints.yml"
            ));
            return;
        }
        for e in matches {
            match &e.need {
                Need::Scope(s, a) => self.need(*s, *a, &format!("{tool}: {}", e.name)),
                Need::NotGrantable(perm, a) => {
                    let note = format!(
                        "`{tool}` calls {}, which needs {perm} {a}; the GITHUB_TOKEN cannot be given it",
                        e.name
                    );
                    if !self.out.notes.contains(&note) {
                        self.out.notes.push(note);
                    }
                }
                Need::Nothing | Need::Endpoint => {}
            }
        }
    }

    fn git(&mut self, args: &[String], mention: bool) {
        let git = &self.ctx.kb.tools.git;
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                a if has(&git.value_options, a) => i += 2,
                a if a.starts_with('-') => i += 1,
                _ => break,
            }
        }
        let sub = args.get(i).map_or("", String::as_str);
        if mention {
            // A remote URL or an extra header with the job token: later pushes use it.
            self.git_token = true;
            self.git_token_use(sub);
        }
        let rest = &args[(i + 1).min(args.len())..];
        let listing = rest.iter().any(|a| has(&git.tag_listing_options, a));
        if has(&git.commit_commands, sub)
            || (sub == git.tag_command && !rest.is_empty() && !listing)
            || (sub == "config" && rest.iter().any(|a| has(&git.identity_keys, a)))
        {
            self.out.commits = true;
        }
        if sub != "push" {
            return;
        }
        self.consumed = true;
        let other_credentials =
            !mention && args.iter().any(|a| a.contains("://") && a.contains('@'));
        if !self.git_token || other_credentials {
            return;
        }
        let push = &git.push;
        let reason = if rest
            .iter()
            .any(|a| has(&push.delete_options, a) || a.starts_with(&push.delete_prefix))
        {
            &push.delete_reason
        } else if rest
            .iter()
            .any(|a| has(&push.tag_words, a) || a.starts_with(&push.tag_prefix))
        {
            &push.tag_reason
        } else {
            &push.reason
        };
        self.need(push.scope, push.access, reason);
    }

    /// The job token given to `git <sub>` (a remote URL, an extra header): what it is for.
    fn git_token_use(&mut self, sub: &str) {
        if sub == "push" {
            return;
        }
        let uses = &self.ctx.kb.tools.git.token_subcommands;
        match uses.iter().find(|u| has(&u.commands, sub)) {
            Some(u) => self.need(u.scope, u.access, &format!("git {sub}: {}", u.reason)),
            None => self.unsure(format!("passes the job token to `git {sub}`")),
        }
    }

    fn http(&mut self, cmd: &str, args: &[String], mention: bool) {
        let http = &self.ctx.kb.tools.http;
        let marked =
            |a: &String, markers: &[String]| markers.iter().any(|m| a.contains(m.as_str()));
        let urls: Vec<&String> = args
            .iter()
            .filter(|a| marked(a, &http.api_markers))
            .collect();
        if urls.is_empty() {
            if mention {
                self.consumed = true;
                if args.iter().any(|a| marked(a, &http.download_markers)) {
                    let d = &http.download;
                    self.need(d.scope, d.access, &format!("{cmd}: {}", d.reason));
                } else {
                    self.unsure(format!(
                        "passes the job token to `{cmd}` for a URL harden cannot map"
                    ));
                }
            }
            return;
        }
        self.consumed = true;
        if !mention {
            return;
        }
        let method = self.http_method(cmd, args);
        for url in urls {
            self.endpoint_call(cmd, &method.to_ascii_uppercase(), url);
        }
    }

    /// The method an HTTP client's arguments give (GET without a body, POST with one, PUT
    /// for an upload).
    fn http_method(&self, cmd: &str, args: &[String]) -> String {
        let http = &self.ctx.kb.tools.http;
        let mut method: Option<String> = None;
        let mut data = false;
        let mut upload = false;
        let method_words = has(&http.method_word_tools, cmd);
        for (i, a) in args.iter().enumerate() {
            if has(&http.method_options, a) {
                method = args.get(i + 1).cloned();
            } else if has(&http.data_options, a) {
                data = true;
            } else if has(&http.upload_options, a) {
                upload = true;
            } else if has(&http.get_options, a) {
                method = Some("GET".into());
            } else if method_words && has(&http.method_words, a) {
                method = Some(a.clone());
            } else if let Some(m) = attached(&http.method_prefixes, a) {
                method = Some(m.to_owned());
            } else if http.data_prefixes.iter().any(|p| a.starts_with(p.as_str())) {
                data = true;
            }
        }
        method.unwrap_or_else(|| {
            if upload {
                "PUT".into()
            } else if data {
                "POST".into()
            } else {
                "GET".into()
            }
        })
    }

    fn login(&mut self, cmd: &str, args: &[String], authenticated: bool) {
        if !authenticated {
            return;
        }
        self.consumed = true;
        let logins = &self.ctx.kb.tools.registry_logins;
        let host = args.iter().find_map(|a| {
            logins
                .hosts
                .iter()
                .find(|h| a.contains(h.contains.as_str()))
        });
        match host {
            Some(host) => self.need(
                logins.scope,
                logins.access,
                &format!("{cmd} login: logs in to {} to push", host.name),
            ),
            None => self.unsure(format!(
                "passes the job token to `{cmd} login` for a registry harden cannot map"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::kb::kb;

    fn analyze(script: &str, env: &[(&str, &str)], persisted: bool) -> StepResult {
        let Ok(kb) = kb() else { panic!("kb") };
        let token = TokenCtx::workflow();
        let mut e = Env::default();
        for (k, v) in env {
            let value = (*v).to_owned();
            let t = crate::permissions::expr::classify(&value, &token, &e);
            e.vars.insert(
                (*k).to_owned(),
                crate::permissions::expr::EnvVar { value, token: t },
            );
        }
        let ctx = RunCtx {
            kb,
            env: &e,
            token: &token,
            step_env_token: false,
            persisted_creds: persisted,
            label: "",
            files: None,
            workdir: "",
            depth: 0,
            env_file: &BTreeMap::new(),
        };
        analyze_run(script, ShellKind::Sh, &ctx)
    }

    fn opaque_of(script: &str) -> Vec<String> {
        analyze(script, &[], true)
            .opaque
            .into_iter()
            .map(|o| o.what)
            .collect()
    }

    #[test]
    fn pushes_behind_wrappers_are_seen() {
        for script in [
            "hatch run +py=3.9 mkdocs gh-deploy --force",
            "hatch run -py=3.9 -- git push",
            "hatch run -- git push",
            "pdm run -v git push",
            "conda run -n x git push",
            "pipx run --spec x git push",
        ] {
            let r = analyze(script, &[], true);
            assert_eq!(r.needs.summary(), "contents: write", "{script}");
            assert!(r.opaque.is_empty(), "{script}: {:?}", r.opaque);
        }
        assert!(opaque_of("npx prettier@3.5 --check .").is_empty());
        assert!(opaque_of("uvx ruff@0.6.0 check").is_empty());
    }

    #[test]
    fn shell_syntax_is_not_read_as_commands() {
        for script in [
            "PARMS[--components]=core,bin\nPARMS[x]+=y",
            "arr=(a b\n  c d)\nfor x in \"${arr[@]}\"; do echo $x; done",
            "(( i++ ))\necho $(( i + 1 ))\nn=$((n*2))",
            "cmake . && make -j `sysctl -n hw.ncpu`",
            "cd build && make -j $(nproc)",
            "cmake -B build && make -C build",
            "$CC -o x x.c && $CXX -o y y.cc",
            "crates[${#crates[@]}]=x",
            "for ((i = 1; i <= n; i++)); do echo $i; done",
            "if (( $# < 1 )); then exit 1; fi\nwhile [ $n -gt 1 ]; do n=$(( n - 1 )); done",
            "diff <(sort a) <(sort b) > /dev/null",
        ] {
            assert!(
                opaque_of(script).is_empty(),
                "{script}: {:?}",
                opaque_of(script)
            );
        }
        let downloaded = opaque_of("bash <(curl -Ls https://example.com/x.sh) report");
        assert_eq!(downloaded.len(), 1, "{downloaded:?}");
        assert!(downloaded[0].contains("<(...)"), "{downloaded:?}");
    }

    #[test]
    fn functions_and_variables_are_followed() {
        let script =
            "setup_repo() {\n  git config user.name x\n  git push origin HEAD\n}\nsetup_repo\n";
        let r = analyze(script, &[], true);
        assert_eq!(r.needs.summary(), "contents: write");
        assert!(r.opaque.is_empty(), "{:?}", r.opaque);
        let script = "function build {\n  my-tool \"$@\"\n}\nbuild x\n";
        let opaque = opaque_of(script);
        assert_eq!(
            opaque,
            vec!["`my-tool`, a command harden does not know (in function `build` defined at line 1 of the script)"]
        );
        // `$@` in a wrapper function is the call's arguments.
        let r = analyze(
            "retry() { for i in 1 2 3; do \"$@\" && break; done; }\nretry git push\n",
            &[],
            true,
        );
        assert_eq!(r.needs.summary(), "contents: write");
        // A function never seen called still counts.
        let r = analyze("deploy() {\n  git push\n}\n\"$1\"\n", &[], true);
        assert_eq!(r.needs.summary(), "contents: write");
        let r = analyze("pytest=\"python -bb -m pytest\"\n$pytest -x\n", &[], true);
        assert!(r.opaque.is_empty(), "{:?}", r.opaque);
        let opaque = opaque_of("tool=\"my-tool --x\"\n${tool} run\n");
        assert_eq!(
            opaque,
            vec!["`my-tool`, a command harden does not know (`$tool` is set at line 1 of the script)"]
        );
        let r = analyze(
            "push=\"git push\"\nif x; then push=\"echo\"; fi\n$push\n",
            &[],
            true,
        );
        assert_eq!(r.needs.summary(), "contents: write");
        let r = analyze("alias ship=\"git push\"\nship origin\n", &[], true);
        assert_eq!(r.needs.summary(), "contents: write");
        let r = analyze(
            "retry () { \"$@\" || (sleep 1 && \"$@\") }\nretry git push\n",
            &[],
            true,
        );
        assert_eq!(r.needs.summary(), "contents: write");
        assert!(r.opaque.is_empty(), "{:?}", r.opaque);
        // A here-string is not a heredoc: the quoting after it stays right.
        let opaque = opaque_of("jq -r . <<<\"$STAT\"\necho \"3 test(s) failed\"\n");
        assert!(opaque.is_empty(), "{opaque:?}");
        assert!(opaque_of("echo x | xargs -I CHECK sh -c 'cargo check CHECK'").is_empty());
        assert!(opaque_of("conda run -n x USE_CPP=1 pip install .").is_empty());
        let r = analyze(
            "${{ env.DEPLOY }} --force",
            &[("DEPLOY", "mkdocs gh-deploy")],
            true,
        );
        assert_eq!(r.needs.summary(), "contents: write");
        let env = Env::default();
        assert_eq!(
            env_expressions("echo a ${{ env.X", &env),
            "echo a ${{ env.X"
        );
    }

    #[test]
    fn calls_that_fan_out_are_bounded() {
        let mut script = String::new();
        for i in 0..30 {
            script.push_str(&format!("f{i}() {{ f{} x; f{} y; }}\n", i + 1, i + 1));
        }
        script.push_str("f30() { git push; }\nf0\n");
        let r = analyze(&script, &[], true);
        assert_eq!(r.needs.summary(), "contents: write");
    }

    #[test]
    fn maps_gh_git_and_curl() {
        let tok = [("GH_TOKEN", "${{ github.token }}")];
        let r = analyze("gh release create v1 dist/*", &tok, false);
        assert_eq!(r.needs.summary(), "contents: write");
        let r = analyze(
            "gh pr comment 1 --body x && gh issue edit 2 --add-label y",
            &tok,
            false,
        );
        assert_eq!(r.needs.summary(), "issues: write, pull-requests: write");
        let r = analyze(
            "gh api -X DELETE repos/{owner}/{repo}/actions/caches/1",
            &tok,
            false,
        );
        assert_eq!(r.needs.summary(), "actions: write");
        let r = analyze("gh api graphql -f query=x", &tok, false);
        assert_eq!(r.unsure.len(), 1);
        let r = analyze(
            "gh release create v1",
            &[("GH_TOKEN", "${{ secrets.PAT }}")],
            false,
        );
        assert!(r.needs.is_empty() && r.unsure.is_empty());
        let r = analyze("git push origin HEAD", &[], true);
        assert_eq!(r.needs.summary(), "contents: write");
        let r = analyze("git push origin HEAD", &[], false);
        assert!(r.needs.is_empty());
        let r = analyze(
            "curl -sSf -X POST -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com/repos/$GITHUB_REPOSITORY/dispatches -d '{}'",
            &[("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}")],
            false,
        );
        assert_eq!(r.needs.summary(), "contents: write");
        let r = analyze(
            "./release.sh \"$GITHUB_TOKEN\"",
            &[("GITHUB_TOKEN", "${{ github.token }}")],
            false,
        );
        assert_eq!(r.unsure, vec!["passes the job token to `./release.sh`"]);
        let r = analyze(
            "make test",
            &[("GITHUB_TOKEN", "${{ github.token }}")],
            false,
        );
        assert!(r.needs.is_empty() && r.unsure.is_empty());
        let r = analyze("npm publish --provenance --access public", &[], false);
        assert_eq!(r.needs.summary(), "id-token: write");
        let r = analyze(
            "echo \"${{ secrets.GITHUB_TOKEN }}\" | docker login ghcr.io -u ${{ github.actor }} --password-stdin",
            &[],
            false,
        );
        assert_eq!(r.needs.summary(), "packages: write");
    }
}
