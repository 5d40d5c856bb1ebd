//! `dangerous-workflows`: the patterns of the OpenSSF Scorecard's Dangerous-Workflow check:
//! a `pull_request_target` or `workflow_run` workflow that checks out the untrusted head, and
//! a script that interpolates text an outsider controls (`${{ github.event.issue.title }}`).

use harden_transforms::model::Workflow;
use harden_yaml::Node;

use super::{unparsed_note, uses_target};
use crate::audit::facts::YamlFile;
use crate::audit::{Check, RepoFacts, Status};

/// No privileged workflow runs untrusted code, and no script interpolates untrusted text.
pub(super) struct DangerousWorkflows;

/// Events whose workflows run with a write token and secrets on behalf of outside input.
const PRIVILEGED_EVENTS: &[&str] = &["pull_request_target", "workflow_run"];

/// Texts in a checkout `ref:` (or a script) that name the untrusted head of a pull request.
const UNTRUSTED_HEADS: &[&str] = &[
    "github.event.pull_request.head",
    "github.head_ref",
    "github.event.workflow_run.head",
    "merge_commit_sha",
    "refs/pull/",
];

/// Last parts of `github.event.*` properties whose text an outsider writes (issue and pull
/// request titles and bodies, comments, commit messages, branch names, author names).
const UNTRUSTED_SUFFIXES: &[&str] = &[
    "title",
    "body",
    "message",
    "page_name",
    "head.label",
    "default_branch",
    "head_branch",
    "author.email",
    "author.name",
    "head.ref",
];

/// Where an expression in a script interpolates untrusted text: the property, or `None`.
fn untrusted_interpolation(script: &str) -> Option<String> {
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let end = after.find("}}").unwrap_or(after.len());
        let expr = &after[..end];
        if let Some(found) = untrusted_in_expression(expr) {
            return Some(found);
        }
        rest = &after[end..];
    }
    None
}

fn untrusted_in_expression(expr: &str) -> Option<String> {
    let is_part =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '[' | ']');
    for (at, _) in expr.match_indices("github.") {
        let name: String = expr[at..].chars().take_while(|c| is_part(*c)).collect();
        if name == "github.head_ref" {
            return Some(name);
        }
        if let Some(property) = name.strip_prefix("github.event.") {
            if UNTRUSTED_SUFFIXES
                .iter()
                .any(|s| property.ends_with(&format!(".{s}")) || property == *s)
            {
                return Some(name);
            }
        }
    }
    None
}

/// The steps of a workflow's jobs and of a composite action's `runs:`, in file order, read
/// through aliases by the workflow model.
fn steps<'d>(model: &Workflow<'d>) -> Vec<&'d Node> {
    let mut steps: Vec<&Node> = model
        .jobs()
        .iter()
        .flat_map(|job| model.step_nodes(job.node))
        .collect();
    steps.extend(
        model
            .runs()
            .map(|runs| model.step_nodes(runs))
            .unwrap_or_default(),
    );
    steps
}

/// The first dangerous pattern of a file: `file:line: what`.
fn first_danger(file: &YamlFile) -> Option<String> {
    let model = Workflow::new(file.doc.as_ref()?);
    let steps = steps(&model);
    let events = file.events();
    if let Some(event) = events.iter().find(|e| PRIVILEGED_EVENTS.contains(e)) {
        for &step in &steps {
            let uses = model.str(step, "uses").unwrap_or("");
            let reference = model
                .get(step, "with")
                .and_then(|with| model.str(with, "ref"))
                .unwrap_or("");
            let run = model.run(step).unwrap_or("");
            let head_checkout = (uses_target(uses) == "actions/checkout"
                && UNTRUSTED_HEADS.iter().any(|h| reference.contains(h)))
                || run.contains("gh pr checkout");
            if head_checkout {
                return Some(format!(
                    "{}:{}: a {event} workflow checks out the pull request's head",
                    file.rel, step.line,
                ));
            }
        }
    }
    // Every `run:` first, then every `actions/github-script` `script:` input.
    let runs = steps.iter().filter_map(|&s| model.get(s, "run"));
    let scripts = steps
        .iter()
        .filter_map(|&s| model.get(s, "with").and_then(|w| model.get(w, "script")));
    runs.chain(scripts).find_map(|node| {
        let name = node.as_str().and_then(untrusted_interpolation)?;
        Some(format!(
            "{}:{}: a script interpolates `${{{{ {name} }}}}`",
            file.rel, node.line
        ))
    })
}

impl Check for DangerousWorkflows {
    fn id(&self) -> &'static str {
        "dangerous-workflows"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        let note = unparsed_note(&repo.workflows);
        if repo.workflows.is_empty() && repo.actions.is_empty() {
            return (Status::NotApplicable, "no workflows".to_owned());
        }
        let dangers: Vec<String> = repo
            .workflows
            .iter()
            .chain(&repo.actions)
            .filter_map(first_danger)
            .collect();
        match dangers.first() {
            None => (
                Status::Pass,
                format!("no untrusted checkout in pull_request_target/workflow_run workflows, no untrusted `${{{{ github.event.* }}}}` in scripts{note}"),
            ),
            Some(first) => (
                Status::Fail,
                format!(
                    "{} file(s) with a dangerous pattern; first: {first}; fix by hand: pass the text through `env:` and check out only trusted code (no harden transform fixes this){note}",
                    dangers.len()
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_read_through_merge_keys_and_in_composite_actions() {
        let cases = [
            (
                "w.yml",
                "on: pull_request_target\njobs:\n  a:\n    steps:\n      - &co\n        uses: actions/checkout@v4\n  b:\n    steps:\n      - <<: *co\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n",
                "w.yml:9: a pull_request_target workflow checks out the pull request's head",
            ),
            (
                "action.yml",
                "runs:\n  using: composite\n  steps:\n    - uses: actions/github-script@v7\n      with:\n        script: echo '${{ github.event.issue.title }}'\n",
                "action.yml:6: a script interpolates `${{ github.event.issue.title }}`",
            ),
        ];
        for (rel, text, danger) in cases {
            let file = YamlFile {
                rel: rel.to_owned(),
                text: text.to_owned(),
                doc: harden_yaml::Document::parse(text.to_owned()).ok(),
            };
            assert_eq!(first_danger(&file).as_deref(), Some(danger));
        }
    }

    #[test]
    fn interpolations() {
        assert_eq!(
            untrusted_interpolation("echo \"${{ github.event.issue.title }}\"").as_deref(),
            Some("github.event.issue.title")
        );
        assert_eq!(
            untrusted_interpolation("echo ${{github.head_ref}}").as_deref(),
            Some("github.head_ref")
        );
        assert!(untrusted_interpolation("echo ${{ github.event.pull_request.number }}").is_none());
        assert!(untrusted_interpolation("echo ${{ github.sha }} $TITLE").is_none());
        assert!(
            untrusted_interpolation("echo ${{ github.event.pull_request.head.sha }}").is_none()
        );
    }
}
