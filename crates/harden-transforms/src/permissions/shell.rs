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
pub(crate) use super::lexer::{split, Segment, ShellKind};
use super::scopes::{Access, Scope, ScopeSet};

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

fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let name = name.trim_start_matches("$env:").trim_start_matches('$');
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

/// Leading `NAME=value` words and the index of the command word.
fn command_start(words: &[String]) -> (Vec<(String, String)>, Option<usize>) {
    let mut assigns = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if let Some((n, v)) = assignment(w) {
            assigns.push((n.to_owned(), v.to_owned()));
            i += 1;
            continue;
        }
        match base_name(w).as_str() {
            "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "time" | "exec"
            | "command" | "builtin" | "nohup" | "call" => i += 1,
            "sudo" | "env" | "xargs" | "nice" | "stdbuf" | "npx" | "bunx" | "doas" => {
                i += 1;
                while i < words.len() && words[i].starts_with('-') {
                    i += 1;
                }
            }
            "timeout" => {
                i += 1;
                while i < words.len() && words[i].starts_with('-') {
                    i += 1;
                }
                i += 1;
            }
            _ => return (assigns, Some(i)),
        }
    }
    (assigns, None)
}

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
}

/// Analyses a `run:` script.
pub(crate) fn analyze_run(script: &str, kind: ShellKind, ctx: &RunCtx<'_>) -> StepResult {
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
    };
    if mentions_word(script, "ACTIONS_ID_TOKEN_REQUEST_URL")
        || mentions_word(script, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    {
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
        let mut pipeline_mention: BTreeMap<usize, bool> = BTreeMap::new();
        for seg in &parsed.segments {
            let m = seg.words.iter().any(|w| run.word_mentions(w));
            *pipeline_mention.entry(seg.pipeline).or_default() |= m;
        }
        let mut pipeline_consumer: BTreeMap<usize, bool> = BTreeMap::new();
        for seg in &parsed.segments {
            let (_, ci) = command_start(&seg.words);
            let is_consumer = ci.is_some_and(|ci| {
                let cmd = base_name(&seg.words[ci]);
                cmd == "gh" || seg.words[ci + 1..].iter().any(|w| w == "login")
            });
            *pipeline_consumer.entry(seg.pipeline).or_default() |= is_consumer;
        }
        for seg in &parsed.segments {
            let pm = pipeline_mention
                .get(&seg.pipeline)
                .copied()
                .unwrap_or(false);
            let pc = pipeline_consumer
                .get(&seg.pipeline)
                .copied()
                .unwrap_or(false);
            run.segment(seg, kind, pm, pc);
        }
        parsed.heredocs
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
        let reason = reason.into();
        if !self.out.unsure.contains(&reason) {
            self.out.unsure.push(reason);
        }
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
            Ok(ci) => ci,
            Err(u) => {
                let shown = words[ci..=u.at].join(" ");
                super::programs::opaque(
                    self,
                    format!("`{shown}`, a wrapper option harden does not know"),
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
            pipeline: seg.pipeline,
        };
        self.segment(&expanded, kind, pipe_mention, pipe_consumer);
        self.command_values.insert(name.to_owned(), value);
        true
    }

    fn segment(&mut self, seg: &Segment, kind: ShellKind, pipe_mention: bool, pipe_consumer: bool) {
        let words = &seg.words;
        let mention = words.iter().any(|w| self.word_mentions(w));
        // PowerShell: `$env:GH_TOKEN = "..."`, `$token = ...`.
        if kind == ShellKind::Pwsh
            && words.len() >= 3
            && words[1] == "="
            && words[0].starts_with('$')
        {
            let name = words[0]
                .trim_start_matches("$env:")
                .trim_start_matches('$')
                .to_owned();
            let value = self.classify(&words[2..].join(" "));
            self.vars.insert(name, value);
            self.mentioned |= mention;
            return;
        }
        let (assigns, ci) = command_start(words);
        let Some(ci) = ci else {
            for (n, v) in assigns {
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
        if self.expand_command(seg, kind, pipe_mention, pipe_consumer, ci) {
            if !assigns.is_empty() {
                self.vars = saved;
            }
            return;
        }
        let cmd = base_name(&words[ci]);
        let args = &words[ci + 1..];
        let mut handled_mention = false;
        match cmd.as_str() {
            "export" | "local" | "declare" | "readonly" | "typeset" => {
                for a in args {
                    if let Some((n, v)) = assignment(a) {
                        let value = self.classify(v);
                        self.vars.insert(n.to_owned(), value);
                    }
                }
                self.mentioned |= mention;
                return;
            }
            "gh" => {
                self.consumed = true;
                handled_mention = true;
                self.gh(args, mention || pipe_mention);
            }
            "git" => {
                handled_mention = true;
                self.git(args, mention);
            }
            "curl" | "wget" | "invoke-restmethod" | "invoke-webrequest" | "irm" | "iwr"
            | "http" | "https" | "xh" => {
                handled_mention = true;
                self.http(&cmd, args, mention);
            }
            "npm" | "pnpm" | "yarn" if args.iter().any(|a| a == "publish") => {
                self.consumed = true;
                if args.iter().any(|a| a == "--provenance")
                    || self.ctx.env.value("NPM_CONFIG_PROVENANCE") == Some("true")
                {
                    self.need(
                        Scope::IdToken,
                        Access::Write,
                        &format!("{cmd} publish --provenance: signs provenance with OIDC"),
                    );
                }
                let dry_run = args.iter().any(|a| a == "--dry-run");
                match self.var("NODE_AUTH_TOKEN") {
                    TokenValue::Job => {
                        handled_mention = true;
                        self.need(
                            Scope::Packages,
                            Access::Write,
                            &format!("{cmd} publish: publishes to GitHub Packages"),
                        );
                    }
                    // No token: npm trusted publishing exchanges an OIDC token.
                    TokenValue::Absent if !dry_run => self.need(
                        Scope::IdToken,
                        Access::Write,
                        &format!("{cmd} publish: trusted publishing (OIDC)"),
                    ),
                    _ => {}
                }
            }
            "uv" if args.first().is_some_and(|a| a == "publish") => {
                self.consumed = true;
                let has_credentials = args.iter().any(|a| {
                    ["--token", "-t", "--password", "-p", "--username", "-u"].contains(&a.as_str())
                        || a.starts_with("--token=")
                        || a.starts_with("--password=")
                }) || self.ctx.env.value("UV_PUBLISH_TOKEN").is_some()
                    || self.ctx.env.value("UV_PUBLISH_PASSWORD").is_some();
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
            "sigstore" if args.iter().any(|a| a == "sign") => {
                self.consumed = true;
                self.need(
                    Scope::IdToken,
                    Access::Write,
                    "sigstore sign: keyless signing (OIDC)",
                );
            }
            "python" | "python3" | "py"
                if args.windows(2).any(|w| w[0] == "-m" && w[1] == "sigstore")
                    && args.iter().any(|a| a == "sign") =>
            {
                self.consumed = true;
                self.need(
                    Scope::IdToken,
                    Access::Write,
                    "sigstore sign: keyless signing (OIDC)",
                );
            }
            "cosign"
                if args.first().is_some_and(|a| {
                    ["sign", "attest", "sign-blob", "attest-blob"].contains(&a.as_str())
                }) =>
            {
                self.consumed = true;
                let keyed = args
                    .iter()
                    .any(|a| a == "--key" || a.starts_with("--key=") || a == "-key");
                if !keyed {
                    let sub = args.first().map_or("sign", String::as_str);
                    self.need(
                        Scope::IdToken,
                        Access::Write,
                        &format!("cosign {sub}: keyless signing (OIDC)"),
                    );
                }
            }
            _ if args.iter().any(|a| a == "login")
                && [
                    "docker", "podman", "buildah", "helm", "oras", "crane", "skopeo", "cosign",
                    "ko", "nerdctl", "regctl",
                ]
                .contains(&cmd.as_str()) =>
            {
                handled_mention = true;
                self.login(&cmd, args, mention || pipe_mention);
            }
            _ if self.ctx.kb.commands.writer(words, ci).is_some() => {
                handled_mention = self.writer(words, ci, mention);
            }
            "[" | "[[" | "test" => handled_mention = true,
            "echo" | "printf" | "write-output" | "write-host" | "cat" if mention => {
                // Printing is harmless (the runner masks the token); passing it on is not.
                handled_mention = true;
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
            _ => {
                if !mention {
                    super::programs::other_command(self, words, ci, kind);
                }
            }
        }
        if mention {
            self.mentioned = true;
            if !handled_mention {
                self.consumed = true;
                self.unsure(format!("passes the job token to `{}`", words[ci]));
            }
        }
        // Prefix assignments (`GH_TOKEN=x gh ...`) only last for the command.
        if !assigns.is_empty() {
            self.vars = saved;
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
        let mut positional = Vec::new();
        let mut skip = false;
        for a in args {
            if skip {
                skip = false;
                continue;
            }
            if a == "-R" || a == "--repo" || a == "--hostname" {
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
        let sub = match sub {
            "new" => "create",
            "ls" => "list",
            "rm" => "delete",
            "co" => "checkout",
            s => s,
        };
        let kb = self.ctx.kb;
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
        if group == "release" && args.iter().any(|a| a.starts_with("--discussion-category")) {
            self.need(
                Scope::Discussions,
                Access::Write,
                "gh release create: opens a release discussion",
            );
        }
        if group == "pr"
            && sub == "close"
            && args.iter().any(|a| a == "--delete-branch" || a == "-d")
        {
            self.need(
                Scope::Contents,
                Access::Write,
                "gh pr close --delete-branch: deletes the branch",
            );
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
        let mut method: Option<String> = None;
        let mut fields = false;
        let mut endpoint: Option<&str> = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            match a {
                "-X" | "--method" => {
                    method = args.get(i + 1).cloned();
                    i += 1;
                }
                "-f" | "-F" | "--field" | "--raw-field" | "--input" => {
                    fields = true;
                    i += 1;
                }
                "-H" | "--header" | "-q" | "--jq" | "-t" | "--template" | "--hostname"
                | "--cache" | "-p" | "--preview" => i += 1,
                _ if a.starts_with("--method=") => method = Some(a["--method=".len()..].to_owned()),
                _ if a.starts_with("-X") => method = Some(a[2..].to_owned()),
                _ if a.starts_with("--field=")
                    || a.starts_with("--raw-field=")
                    || a.starts_with("--input=")
                    || ((a.starts_with("-f") || a.starts_with("-F")) && a.len() > 2) =>
                {
                    fields = true
                }
                _ if a.starts_with('-') => {}
                _ if endpoint.is_none() => endpoint = Some(a),
                _ => {}
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
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "-c" | "-C" => i += 2,
                a if a.starts_with('-') => i += 1,
                _ => break,
            }
        }
        let sub = args.get(i).map_or("", String::as_str);
        if mention {
            // A remote URL or an extra header with the job token: later pushes use it.
            self.git_token = true;
            match sub {
                "push" => {}
                "clone" | "fetch" | "pull" | "submodule" | "ls-remote" => self.need(
                    Scope::Contents,
                    Access::Read,
                    &format!("git {sub}: fetches with the job token"),
                ),
                "remote" | "config" | "credential" => self.need(
                    Scope::Contents,
                    Access::Write,
                    &format!("git {sub}: sets the job token up for pushing"),
                ),
                _ => self.unsure(format!("passes the job token to `git {sub}`")),
            }
        }
        let rest = &args[(i + 1).min(args.len())..];
        let listing = rest
            .iter()
            .any(|a| a == "-l" || a == "--list" || a == "-d" || a == "--delete");
        if sub == "commit"
            || (sub == "tag" && !rest.is_empty() && !listing)
            || (sub == "config" && rest.iter().any(|a| a == "user.name" || a == "user.email"))
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
        let rest = &args[i + 1..];
        let reason = if rest
            .iter()
            .any(|a| a == "--delete" || a == "-d" || a.starts_with(':'))
        {
            "git push: deletes a remote branch or tag"
        } else if rest.iter().any(|a| {
            a == "--tags" || a == "--follow-tags" || a == "tag" || a.starts_with("refs/tags/")
        }) {
            "git push: pushes tags"
        } else {
            "git push: pushes to the repository"
        };
        self.need(Scope::Contents, Access::Write, reason);
    }

    fn http(&mut self, cmd: &str, args: &[String], mention: bool) {
        let api = |a: &String| {
            a.contains("api.github.com")
                || a.contains("uploads.github.com")
                || a.contains("GITHUB_API_URL")
                || a.contains("github.api_url")
                || a.contains("pull_request.url")
        };
        let urls: Vec<&String> = args.iter().filter(|a| api(a)).collect();
        if urls.is_empty() {
            if mention {
                self.consumed = true;
                let downloads = args.iter().any(|a| {
                    a.contains("raw.githubusercontent.com") || a.contains("/releases/download/")
                });
                if downloads {
                    self.need(
                        Scope::Contents,
                        Access::Read,
                        &format!("{cmd}: downloads repository files"),
                    );
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
        let mut method: Option<String> = None;
        let mut data = false;
        let mut upload = false;
        for (i, a) in args.iter().enumerate() {
            let next = args.get(i + 1).cloned();
            match a.as_str() {
                "-X" | "--request" | "-Method" | "-method" => method = next,
                "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-urlencode"
                | "--json" | "-F" | "--form" | "--post-data" | "--post-file" | "-Body"
                | "-InFile" => data = true,
                "-T" | "--upload-file" => upload = true,
                "-G" | "--get" | "-I" | "--head" => method = Some("GET".into()),
                "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
                    if cmd == "http" || cmd == "https" || cmd == "xh" =>
                {
                    method = Some(a.clone())
                }
                s if s.starts_with("--method=") => method = Some(s["--method=".len()..].to_owned()),
                s if s.starts_with("--request=") => {
                    method = Some(s["--request=".len()..].to_owned())
                }
                s if s.starts_with("-X") && s.len() > 2 => method = Some(s[2..].to_owned()),
                s if s.starts_with("--data")
                    || s.starts_with("--json=")
                    || s.starts_with("--post-data=")
                    || s.starts_with("--post-file=")
                    || s.starts_with("--body-data=")
                    || s.starts_with("--body-file=") =>
                {
                    data = true
                }
                _ => {}
            }
        }
        let method = method.unwrap_or_else(|| {
            if upload {
                "PUT".into()
            } else if data {
                "POST".into()
            } else {
                "GET".into()
            }
        });
        for url in urls {
            self.endpoint_call(cmd, &method.to_ascii_uppercase(), url);
        }
    }

    fn login(&mut self, cmd: &str, args: &[String], authenticated: bool) {
        if !authenticated {
            return;
        }
        self.consumed = true;
        let registry = args
            .iter()
            .find(|a| a.contains("ghcr.io") || a.contains(".pkg.github.com"));
        match registry {
            Some(r) => {
                let host = if r.contains("ghcr.io") {
                    "ghcr.io"
                } else {
                    "GitHub Packages"
                };
                self.need(
                    Scope::Packages,
                    Access::Write,
                    &format!("{cmd} login: logs in to {host} to push"),
                );
            }
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
