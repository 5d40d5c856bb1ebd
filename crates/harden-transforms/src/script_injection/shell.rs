//! Which steps have scripts and which language reads each: the step's `shell:`, the job's then
//! the workflow's `defaults.run.shell`, else the runner's system (bash on Linux and macOS,
//! pwsh on Windows: <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#defaultsrunshell>).

use std::collections::BTreeSet;

use harden_yaml::{Document, Node, Path};

use super::quoting::Lang;
use super::StepSite;
use crate::model::Workflow;
use crate::FileKind;

/// The language of a `shell:` value, or why it is none harden reads.
pub(super) fn lang_of_shell(shell: &str) -> Result<Lang, String> {
    if shell.contains("${{") {
        return Err(format!("its `shell: {shell}` is an expression"));
    }
    let first = shell.split_whitespace().next().unwrap_or_default();
    let name = first
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(first)
        .to_ascii_lowercase();
    match name.trim_end_matches(".exe") {
        "bash" | "sh" | "zsh" | "dash" | "ksh" => Ok(Lang::Sh),
        "pwsh" | "powershell" => Ok(Lang::Pwsh),
        "cmd" => Ok(Lang::Cmd),
        _ => Err(format!("`shell: {shell}` is not a shell harden rewrites")),
    }
}

/// The `defaults.run.shell` of a job or the workflow.
fn default_shell<'d>(model: &Workflow<'d>, node: &'d Node) -> Option<&'d str> {
    let defaults = model.get(node, "defaults")?;
    let run = model.get(defaults, "run")?;
    model.str(run, "shell")
}

/// The system of one runner from its labels: `Some(true)` for Windows, `Some(false)` for
/// Linux or macOS, `None` when the labels do not say.
fn windows(labels: &[String]) -> Option<bool> {
    let lower: Vec<String> = labels.iter().map(|l| l.to_ascii_lowercase()).collect();
    if lower.iter().any(|l| l.contains("windows")) {
        return Some(true);
    }
    let unix = [
        "ubuntu", "linux", "macos", "mac-", "debian", "fedora", "alpine",
    ];
    lower
        .iter()
        .any(|l| unix.iter().any(|u| l.contains(u)))
        .then_some(false)
}

/// The label sets `runs-on` may stand for (a `${{ matrix.<key> }}` is every value of that
/// matrix key); `None` when one is not literal.
fn runners<'d>(model: &Workflow<'d>, job: &'d Node) -> Option<Vec<Vec<String>>> {
    let runs_on = model.resolve(model.runs_on(job)?);
    let labels: Vec<&'d Node> = match runs_on.as_mapping() {
        Some(_) => model
            .items(model.get(runs_on, "labels"))
            .into_iter()
            .chain(
                model
                    .get(runs_on, "labels")
                    .filter(|n| n.as_str().is_some()),
            )
            .collect(),
        None if runs_on.as_sequence().is_some() => model.items(Some(runs_on)),
        None => vec![runs_on],
    };
    let mut sets: Vec<Vec<String>> = vec![Vec::new()];
    for label in labels {
        let text = label.as_str()?.trim();
        let Some(key) = text
            .strip_prefix("${{")
            .and_then(|t| t.strip_suffix("}}"))
            .map(str::trim)
            .and_then(|t| t.strip_prefix("matrix."))
        else {
            if text.contains("${{") {
                return None;
            }
            sets.iter_mut().for_each(|s| s.push(text.to_owned()));
            continue;
        };
        let values = matrix_values(model, job, key)?;
        sets = sets
            .iter()
            .flat_map(|s| {
                values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.push(v.clone());
                    s
                })
            })
            .collect();
    }
    Some(sets)
}

/// Every value of `strategy.matrix.<key>` (its list and its `include:` entries), when all
/// are literal.
fn matrix_values<'d>(model: &Workflow<'d>, job: &'d Node, key: &str) -> Option<Vec<String>> {
    let matrix = model.get(model.get(job, "strategy")?, "matrix")?;
    let mut values = Vec::new();
    if let Some(list) = model.get(matrix, key) {
        for item in model.items(Some(list)) {
            values.push(item.as_str().filter(|v| !v.contains("${{"))?.to_owned());
        }
    }
    for include in model.items(model.get(matrix, "include")) {
        if let Some(v) = model.get(include, key) {
            values.push(v.as_str().filter(|v| !v.contains("${{"))?.to_owned());
        }
    }
    (!values.is_empty()).then_some(values)
}

/// The language of a job's `run:` steps that name no shell.
fn runner_lang<'d>(model: &Workflow<'d>, job: &'d Node) -> Result<Lang, String> {
    let unknown = || {
        "its job's `runs-on` does not say whether it runs on Windows (pwsh) or not (bash); give the step a `shell:`".to_owned()
    };
    let sets = runners(model, job).ok_or_else(unknown)?;
    let systems: BTreeSet<Option<bool>> = sets.iter().map(|s| windows(s)).collect();
    match systems.into_iter().collect::<Vec<_>>()[..] {
        [Some(false)] => Ok(Lang::Sh),
        [Some(true)] => Ok(Lang::Pwsh),
        [Some(false), Some(true)] => Err(
            "its job runs on Windows (pwsh) and on other systems (bash); give the step a `shell:`"
                .into(),
        ),
        _ => Err(unknown()),
    }
}

/// The `env:` variable names of a node (upper-case).
fn env_names<'d>(model: &Workflow<'d>, node: &'d Node) -> BTreeSet<String> {
    model
        .entries(model.env(node))
        .into_iter()
        .map(|(k, _)| k.to_ascii_uppercase())
        .collect()
}

/// Every step of a workflow's jobs or a composite action, with its script's language.
pub(super) fn step_sites<'d>(model: &Workflow<'d>, kind: FileKind) -> Vec<StepSite<'d>> {
    match kind {
        FileKind::Workflow => workflow_steps(model),
        FileKind::Action => action_steps(model),
        FileKind::Dependabot | FileKind::Text => Vec::new(),
    }
}

fn workflow_steps<'d>(model: &Workflow<'d>) -> Vec<StepSite<'d>> {
    let Some(root) = model.root() else {
        return Vec::new();
    };
    let workflow_env = env_names(model, root);
    let workflow_shell = default_shell(model, root);
    let mut sites = Vec::new();
    for job in model.jobs().iter().filter(|j| !j.is_alias()) {
        let mut outer_env = workflow_env.clone();
        outer_env.extend(env_names(model, job.node));
        let job_shell = default_shell(model, job.node).or(workflow_shell);
        for step in model.steps(job) {
            let shell = match model.shell(step.node).or(job_shell) {
                Some(shell) => lang_of_shell(shell),
                None => runner_lang(model, job.node),
            };
            sites.push(StepSite {
                path: step.path,
                node: step.node,
                editable: step.editable,
                shell,
                outer_env: outer_env.clone(),
                owner: format!("job `{}`", job.id),
            });
        }
    }
    sites
}

fn action_steps<'d>(model: &Workflow<'d>) -> Vec<StepSite<'d>> {
    let doc: &'d Document = model.document();
    let steps = Path::root(0).key("runs").key("steps");
    let Some(written) = doc.get(&steps).and_then(Node::as_sequence) else {
        return Vec::new();
    };
    written
        .items
        .iter()
        .enumerate()
        .filter(|(_, n)| n.as_mapping().is_some())
        .map(|(i, node)| StepSite {
            path: steps.index(i),
            node,
            editable: true,
            shell: model.shell(node).map_or_else(
                || Err("the composite action's step names no `shell:`".into()),
                lang_of_shell,
            ),
            outer_env: BTreeSet::new(),
            owner: "the action".into(),
        })
        .collect()
}

/// True when the file's steps write `env:` after their `run:` (or `with:`) more often than
/// before: a new `env:` follows the file.
pub(super) fn env_after_script(doc: &Document) -> bool {
    let (mut after, mut before) = (0, 0);
    for pattern in ["jobs.*.steps[*]", "runs.steps[*]"] {
        for (_, step) in doc.query(pattern) {
            let Some(map) = step.as_mapping() else {
                continue;
            };
            let position = |key: &str| map.entries.iter().position(|e| e.key_str() == Some(key));
            let script = position("run").or_else(|| position("with"));
            match (position("env"), script) {
                (Some(e), Some(s)) if e > s => after += 1,
                (Some(_), Some(_)) => before += 1,
                _ => {}
            }
        }
    }
    after > before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_and_runners() {
        assert_eq!(lang_of_shell("bash -e {0}"), Ok(Lang::Sh));
        assert_eq!(lang_of_shell("C:\\x\\pwsh.exe"), Ok(Lang::Pwsh));
        assert_eq!(lang_of_shell("cmd"), Ok(Lang::Cmd));
        assert!(lang_of_shell("python").is_err());
        let doc = Document::parse(
            "jobs:\n  a:\n    runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-14]\n        include:\n          - os: windows-latest\n  b:\n    runs-on: [self-hosted, Windows]\n  c:\n    runs-on: {group: big}\n",
        )
        .expect("parses");
        let model = Workflow::new(&doc);
        let jobs = model.jobs();
        assert!(runner_lang(&model, jobs[0].node).is_err());
        assert_eq!(runner_lang(&model, jobs[1].node), Ok(Lang::Pwsh));
        assert!(runner_lang(&model, jobs[2].node).is_err());
    }
}
