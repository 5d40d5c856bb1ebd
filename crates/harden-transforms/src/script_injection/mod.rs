//! The `script-injection` transform (zizmor's "template-injection"): a `${{ }}` expression that
//! reads text an outsider writes (an issue title, a pull request's branch name: the list is
//! `data/outsider-contexts.yml`), expanded into a `run:` script or actions/github-script's
//! `script:`, becomes part of the code. Each one moves into the step's `env:` and the script reads
//! the variable the way its language does (`"$ISSUE_TITLE"`, `$env:ISSUE_TITLE`, `%ISSUE_TITLE%`,
//! `process.env.ISSUE_TITLE`), so the text arrives as data.
//!
//! A job that worked before still works: the variable holds exactly the text the expression
//! gave, and the script reads it at the same place, quoted so that it stays one word where the
//! expansion stood bare. Places where a variable would not read the same (a quoted heredoc, a
//! literal here-string, an escaped `$`, bare JavaScript code, a shell harden cannot determine)
//! are reported and left. See docs/script-injection.md.

pub mod contexts;
pub mod quoting;
mod shell;

use std::collections::BTreeSet;
use std::ops::Range;

use harden_yaml::{
    Document, EditSet, InsertAt, NewEntry, NewValue, Node, NodeKind, Path, ScalarStyle, Span,
    Splice,
};

use crate::model::Workflow;
use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, Transform,
};
use quoting::Lang;

const NAME: &str = "script-injection";

/// script-injection in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "move outsider-controlled expressions out of scripts into env",
    rule: "run: scripts and github-script should read text an outsider controls from the environment, not from a ${{ }} expansion",
    needs: crate::registry::Needs {
        resolver: false,
        prefetch_refs: false,
        files: false,
        images: false,
    },
    opt_in: false,
    configure: crate::settings::no_settings,
    build: |_, _| Ok(Some(Box::new(ScriptInjection))),
};

/// The `script-injection` transform; it has no settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScriptInjection;

/// Names a new variable never takes: the shell's and the runner's own.
const RESERVED: &[&str] = &[
    "PATH",
    "HOME",
    "IFS",
    "PWD",
    "OLDPWD",
    "SHELL",
    "USER",
    "TEMP",
    "TMP",
    "TMPDIR",
    "CI",
    "PS1",
    "PS4",
    "LANG",
    "TERM",
    "ENV",
    "BASH_ENV",
    "COMSPEC",
    "PATHEXT",
    "SYSTEMROOT",
    "WINDIR",
];

/// One step whose script is checked.
struct StepSite<'d> {
    /// `jobs.<id>.steps[<i>]` or `runs.steps[<i>]`.
    path: Path,
    /// The step's mapping.
    node: &'d Node,
    /// The step is written at `path` (not reached through an alias).
    editable: bool,
    /// The language of its `run:` (from `shell:`, the defaults, the runner), or why unknown.
    shell: Result<Lang, String>,
    /// Variable names of the job's and the workflow's `env:` (upper-case).
    outer_env: BTreeSet<String>,
    /// `job `<id>`` or `the action`, for messages.
    owner: String,
}

/// The script of a step: where it is and how it is read.
struct Script<'d> {
    path: Path,
    node: &'d Node,
    text: &'d str,
    lang: Result<Lang, String>,
    /// The key the new `env:` goes next to (`run` or `with`).
    anchor: &'static str,
}

/// One expression to move.
struct Move {
    /// The expression's index among the script's expressions.
    index: usize,
    var: String,
    /// The variable is new (not already in the step's `env:` with the same expression).
    new: bool,
    expression: String,
}

impl ScriptInjection {
    fn file(&self, file: &crate::SourceFile, out: &mut Outcome) {
        let Some(doc) = file.document() else { return };
        let model = Workflow::new(doc);
        let mut edits = EditSet::new(doc);
        let mut notes = Vec::new();
        let env_after = shell::env_after_script(doc);
        for site in shell::step_sites(&model, file.kind) {
            let mut ctx = FileCtx {
                doc,
                model: &model,
                file,
                edits: &mut edits,
                notes: &mut notes,
                findings: &mut out.findings,
                env_after,
            };
            ctx.step(&site);
        }
        if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut out.findings) {
            out.changes.push(change);
        }
    }
}

/// What the work on one file shares.
struct FileCtx<'a, 'd> {
    doc: &'d Document,
    model: &'a Workflow<'d>,
    file: &'a crate::SourceFile,
    edits: &'a mut EditSet<'d>,
    notes: &'a mut Vec<ChangeNote>,
    findings: &'a mut Vec<Finding>,
    /// The file writes `env:` after `run:` more often than before.
    env_after: bool,
}

impl<'d> FileCtx<'_, 'd> {
    fn finding(&mut self, at: usize, severity: Severity, message: String) {
        self.findings.push(Finding::at(
            NAME,
            &self.file.path,
            Some(self.doc.location(at)),
            severity,
            message,
        ));
    }

    /// The script of a step, if it has one.
    fn script(&mut self, site: &StepSite<'d>) -> Option<Script<'d>> {
        let map = site.node.as_mapping()?;
        if let Some(run) = map.get("run") {
            return Some(Script {
                path: site.path.key("run"),
                node: &run.value,
                text: run.value.as_str()?,
                lang: site.shell.clone(),
                anchor: "run",
            });
        }
        let uses = self.model.str(site.node, "uses")?;
        if crate::model::name_key(uses) != "actions/github-script" {
            self.unknown_inputs(site, uses);
            return None;
        }
        let with = map.get("with")?;
        let script = with.value.as_mapping()?.get("script")?;
        Some(Script {
            path: site.path.key("with").key("script"),
            node: &script.value,
            text: script.value.as_str()?,
            lang: Ok(Lang::Js),
            anchor: "with",
        })
    }

    /// Outsider text passed to another action's inputs: reported (harden cannot tell how the
    /// action uses it).
    fn unknown_inputs(&mut self, site: &StepSite<'d>, uses: &str) {
        // GitHub's own actions read their inputs as data (github-script, which runs its
        // `script:`, is handled as a script).
        if crate::model::name_key(uses).starts_with("actions/") {
            return;
        }
        for (input, value) in self.model.with(site.node) {
            let Some(text) = value.as_str() else { continue };
            let outsider = contexts::expressions(text).into_iter().find_map(|r| {
                let body = contexts::without_tests(contexts::body(&text[r.clone()]));
                contexts::outsider_reference(&body).map(|_| r)
            });
            if let Some(r) = outsider {
                let message = format!(
                    "{}: `{}` passes text an outsider writes to input `{input}` of `{}`; harden cannot tell whether the action runs it as code (read its documentation)",
                    site.owner,
                    &text[r],
                    crate::model::name(uses)
                );
                self.finding(value.span.start, Severity::Note, message);
            }
        }
    }

    fn step(&mut self, site: &StepSite<'d>) {
        let Some(script) = self.script(site) else {
            return;
        };
        let exprs = contexts::expressions(script.text);
        let outsider: Vec<usize> = (0..exprs.len())
            .filter(|&k| {
                contexts::outsider_reference(contexts::body(&script.text[exprs[k].clone()]))
                    .is_some()
            })
            .collect();
        let Some(&first) = outsider.first() else {
            return;
        };
        let shown = script.text[exprs[first].clone()].to_owned();
        let at = script.node.span.start;
        let left = |why: String| {
            format!(
                "{}: `{shown}` expands text an outsider writes into the script, left: {why}; move it into the step's `env:` by hand",
                site.owner
            )
        };
        let merged = site
            .node
            .as_mapping()
            .is_some_and(|m| m.get("<<").is_some());
        if !site.editable || merged {
            let message = left("the step is reached through an alias or a merge key".into());
            return self.finding(at, Severity::Warning, message);
        }
        let lang = match &script.lang {
            Ok(lang) => *lang,
            Err(why) => return self.finding(at, Severity::Warning, left(why.clone())),
        };
        let Some(env) = EnvPlan::of(site, &script) else {
            let message = left("the step's `env:` is not a mapping harden can extend".into());
            return self.finding(at, Severity::Warning, message);
        };
        self.move_expressions(site, &script, lang, &exprs, &outsider, env);
    }

    fn move_expressions(
        &mut self,
        site: &StepSite<'d>,
        script: &Script<'d>,
        lang: Lang,
        exprs: &[Range<usize>],
        outsider: &[usize],
        mut env: EnvPlan,
    ) {
        let places = quoting::places(lang, script.text, exprs);
        // How many moved expressions each quoted string holds.
        let mut shared: std::collections::BTreeMap<(usize, usize), usize> =
            std::collections::BTreeMap::new();
        for &k in outsider {
            if let Some(l) = &places[k].literal {
                *shared.entry((l.start, l.end)).or_default() += 1;
            }
        }
        let mut planned: Vec<(quoting::Edit, Move)> = Vec::new();
        for &k in outsider {
            let range = exprs[k].clone();
            let expression = script.text[range.clone()].to_owned();
            let (var, new) = env.variable(&expression);
            let alone = places[k]
                .literal
                .as_ref()
                .is_none_or(|l| shared.get(&(l.start, l.end)).copied().unwrap_or(0) < 2);
            match quoting::replacement(lang, script.text, &range, &places[k], &var, alone) {
                Ok(edit) => planned.push((
                    edit,
                    Move {
                        index: k,
                        var,
                        new,
                        expression,
                    },
                )),
                Err(why) => {
                    let message = format!(
                        "{}: `{expression}` expands text an outsider writes into the script ({}), left: {why}; move it into the step's `env:` by hand",
                        site.owner,
                        lang.name()
                    );
                    let at = script.node.span.start;
                    self.finding(at, Severity::Warning, message);
                }
            }
        }
        if planned.is_empty() {
            return;
        }
        if let Err(why) = self.edit_script(script, exprs, &planned) {
            let message = format!(
                "{}: `{}` expands text an outsider writes into the script, left: {why}",
                site.owner, planned[0].1.expression
            );
            return self.finding(script.node.span.start, Severity::Warning, message);
        }
        self.add_env(site, script, &planned);
        if lang == Lang::Cmd {
            let message = format!(
                "{}: cmd still parses the text of %VAR% as commands; prefer `shell: pwsh` or `bash` for text an outsider writes",
                site.owner
            );
            self.finding(script.node.span.start, Severity::Note, message);
        }
    }

    /// Replaces the expressions in the script: in place for a block scalar, the whole scalar
    /// in its own style otherwise.
    fn edit_script(
        &mut self,
        script: &Script<'d>,
        exprs: &[Range<usize>],
        planned: &[(quoting::Edit, Move)],
    ) -> Result<(), String> {
        let mut sorted: Vec<&quoting::Edit> = planned.iter().map(|(e, _)| e).collect();
        sorted.sort_by_key(|(r, _)| r.start);
        if sorted.windows(2).any(|w| w[1].0.start < w[0].0.end) {
            return Err("two of its replacements overlap".into());
        }
        let mut value = String::new();
        let mut at = 0;
        for (range, text) in &sorted {
            value.push_str(&script.text[at..range.start]);
            value.push_str(text);
            at = range.end;
        }
        value.push_str(&script.text[at..]);
        let Some(scalar) = script.node.as_scalar() else {
            return Err("the script is not a plain string".into());
        };
        let result = if matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded) {
            let splices = self.raw_splices(script, scalar.token, exprs, planned)?;
            self.edits
                .replace_within_scalar(&script.path, splices, &value)
        } else {
            self.edits.replace_scalar(&script.path, &value)
        };
        result.map_err(|e| e.to_string())
    }

    /// The file's bytes for each replacement of a block scalar: each expression is found in
    /// the file as written (the k-th `${{ }}` of the scalar's lines), and a replacement
    /// reaching past it (a whole quoted string) must read the same in the file as in the value.
    fn raw_splices(
        &self,
        script: &Script<'d>,
        token: Span,
        exprs: &[Range<usize>],
        planned: &[(quoting::Edit, Move)],
    ) -> Result<Vec<Splice>, String> {
        let text = self.doc.text();
        let raw = &text[token.range()];
        let content = raw.find('\n').map_or(raw.len(), |n| n + 1);
        let found: Vec<Range<usize>> = contexts::expressions(&raw[content..])
            .into_iter()
            .map(|r| token.start + content + r.start..token.start + content + r.end)
            .collect();
        let same = found.len() == exprs.len()
            && found
                .iter()
                .zip(exprs)
                .all(|(f, e)| text[f.clone()] == script.text[e.clone()]);
        if !same {
            return Err("an expression of the block scalar spans lines".into());
        }
        let mut splices = Vec::new();
        for ((range, new), mv) in planned {
            let k = mv.index;
            let start = (found[k].start + range.start).checked_sub(exprs[k].start);
            let raw_range = start.map(|s| s..s + range.len());
            match raw_range.filter(|r| text.get(r.clone()) == Some(&script.text[range.clone()])) {
                Some(r) => splices.push(Splice {
                    span: Span::new(r.start, r.end),
                    text: new.clone(),
                }),
                None => return Err("a quoted string around an expression spans lines".into()),
            }
        }
        Ok(splices)
    }

    /// Adds the new variables to the step's `env:` (or a new `env:` next to the script).
    fn add_env(
        &mut self,
        site: &StepSite<'d>,
        script: &Script<'d>,
        planned: &[(quoting::Edit, Move)],
    ) {
        let env_node = site.node.as_mapping().and_then(|m| m.get("env"));
        let flow_env = env_node.is_some_and(|e| e.value.as_mapping().is_some_and(|m| m.flow));
        let mut entries: Vec<NewEntry> = Vec::new();
        let mut seen = BTreeSet::new();
        for (_, mv) in planned {
            let note = format!(
                "{}: `{}` is read from the environment as {} instead of expanded into the script",
                site.owner, mv.expression, mv.var
            );
            self.notes.push(ChangeNote {
                line: self.doc.location(script.node.span.start).line,
                message: note,
            });
            if mv.new && seen.insert(mv.var.clone()) {
                let value = format!("${{{{ {} }}}}", contexts::body(&mv.expression));
                entries.push(NewEntry::new(mv.var.clone(), env_value(value, flow_env)));
            }
        }
        if entries.is_empty() {
            return;
        }
        let done = if env_node.is_some() {
            let env = site.path.key("env");
            entries
                .into_iter()
                .try_for_each(|e| self.edits.insert_entry(&env, InsertAt::Last, e))
        } else {
            let at = if self.env_after {
                InsertAt::After(script.anchor.into())
            } else {
                InsertAt::Before(script.anchor.into())
            };
            let entry = NewEntry::new("env", NewValue::Mapping(entries));
            self.edits.insert_entry(&site.path, at, entry)
        };
        if let Err(e) = done {
            let message = format!(
                "{}: the step's `env:` could not be written: {e}",
                site.owner
            );
            self.finding(script.node.span.start, Severity::Error, message);
        }
    }
}

/// The variable names of one step: those taken, and the expressions its `env:` already holds.
struct EnvPlan {
    taken: BTreeSet<String>,
    /// (expression without blanks, variable, it was in the step's `env:` already).
    known: Vec<(String, String, bool)>,
}

impl EnvPlan {
    /// The plan for a step, or `None` when its `env:` is no mapping.
    fn of(site: &StepSite<'_>, script: &Script<'_>) -> Option<EnvPlan> {
        let mut taken = site.outer_env.clone();
        taken.extend(RESERVED.iter().map(|s| (*s).to_owned()));
        let mut bare = script.text.to_owned();
        for r in contexts::expressions(script.text).into_iter().rev() {
            bare.replace_range(r, " ");
        }
        taken.extend(words(&bare));
        let mut known = Vec::new();
        if let Some(env) = site.node.as_mapping().and_then(|m| m.get("env")) {
            let NodeKind::Mapping(map) = &env.value.kind else {
                return None;
            };
            for e in &map.entries {
                let Some(key) = e.key_str() else { continue };
                taken.insert(key.to_ascii_uppercase());
                if let Some(v) = e.value.as_str() {
                    let exprs = contexts::expressions(v);
                    if exprs.len() == 1 && exprs[0] == (0..v.len()) {
                        known.push((squeeze(v), key.to_owned(), true));
                    }
                }
            }
        }
        Some(EnvPlan { taken, known })
    }

    /// The variable for `expression` and whether it is new: one of the step's `env:` that
    /// holds the same expression already, or a new name derived from it.
    fn variable(&mut self, expression: &str) -> (String, bool) {
        let key = squeeze(expression);
        if let Some((_, var, existing)) = self.known.iter().find(|(e, _, _)| *e == key) {
            return (var.clone(), !existing);
        }
        let base = derived_name(contexts::body(expression));
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        self.known.push((key, name.clone(), false));
        (name, true)
    }
}

/// An `env:` value holding an expression: plain in a block mapping when YAML reads it back
/// as the same text (`ISSUE_TITLE: ${{ github.event.issue.title }}`, as people write it),
/// quoted otherwise (in a flow mapping, `{` and `}` are indicators).
fn env_value(value: String, flow: bool) -> NewValue {
    let plain = !flow
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.contains(['\t', '\n', '\r'])
        && harden_yaml::render::scalar_in_style(&value, ScalarStyle::DoubleQuoted).is_some();
    if plain {
        NewValue::Plain(value)
    } else {
        NewValue::String(value)
    }
}

/// An expression with its blanks removed, to compare two.
fn squeeze(expression: &str) -> String {
    expression.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The identifiers of a script, upper-case (a new variable never takes one).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
}

/// The variable name for an expression: its outsider context without `github.event.`
/// (`github.event.issue.title` → `ISSUE_TITLE`, `github.head_ref` → `HEAD_REF`,
/// `github.event.pull_request.title` → `PR_TITLE`).
pub fn derived_name(body: &str) -> String {
    let reference = contexts::references(body)
        .into_iter()
        .find(|r| contexts::outsider(r).is_some())
        .unwrap_or_default();
    let rest = reference
        .strip_prefix("github.event.")
        .or_else(|| reference.strip_prefix("github."))
        .unwrap_or(&reference);
    let mut name: String = rest
        .split('.')
        .filter(|s| *s != "*" && !s.is_empty())
        .map(|s| if s == "pull_request" { "pr" } else { s })
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if reference == "github" {
        return "ACTIONS_CONTEXT".into();
    }
    if body
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("tojson(")
    {
        name.push_str(if name.is_empty() {
            "EVENT_JSON"
        } else {
            "_JSON"
        });
    }
    if name.is_empty() {
        name = "EVENT".into();
    }
    if name.starts_with("GITHUB_")
        || name.starts_with("RUNNER_")
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.insert_str(0, "EVENT_");
    }
    name
}

impl Transform for ScriptInjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        INFO.summary
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut out = Outcome::default();
        for file in repo
            .files
            .iter()
            .filter(|f| matches!(f.kind, FileKind::Workflow | FileKind::Action))
        {
            self.file(file, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_the_context() {
        assert_eq!(derived_name("github.event.issue.title"), "ISSUE_TITLE");
        assert_eq!(derived_name("github.head_ref"), "HEAD_REF");
        assert_eq!(
            derived_name("github.event.pull_request.head.ref"),
            "PR_HEAD_REF"
        );
        assert_eq!(
            derived_name("toJSON(github.event.commits.*.message)"),
            "COMMITS_MESSAGE_JSON"
        );
        assert_eq!(
            derived_name("github.event.pages[0].page_name"),
            "PAGES_PAGE_NAME"
        );
        assert_eq!(derived_name("toJSON(github.event)"), "EVENT_JSON");
        assert_eq!(derived_name("toJSON(github)"), "ACTIONS_CONTEXT");
    }
}
