//! `dangerous-workflows`: the patterns of the OpenSSF Scorecard's Dangerous-Workflow check:
//! a `pull_request_target` or `workflow_run` workflow that checks out the untrusted head, and
//! a script that interpolates text an outsider controls (`${{ github.event.issue.title }}`).

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

/// The first dangerous pattern of a file: `file:line: what`.
fn first_danger(file: &YamlFile) -> Option<String> {
    let events = file.events();
    let privileged = events.iter().any(|e| PRIVILEGED_EVENTS.contains(e));
    if privileged {
        for step in file.query("jobs.*.steps[*]") {
            let Some(map) = step.as_mapping() else {
                continue;
            };
            let uses = map.get("uses").and_then(|e| e.value.as_str()).unwrap_or("");
            let reference = map
                .get("with")
                .and_then(|w| w.value.as_mapping())
                .and_then(|w| w.get("ref"))
                .and_then(|r| r.value.as_str())
                .unwrap_or("");
            let run = map.get("run").and_then(|e| e.value.as_str()).unwrap_or("");
            let head_checkout = (uses_target(uses) == "actions/checkout"
                && UNTRUSTED_HEADS.iter().any(|h| reference.contains(h)))
                || run.contains("gh pr checkout");
            if head_checkout {
                return Some(format!(
                    "{}:{}: a {} workflow checks out the pull request's head",
                    file.rel,
                    step.line,
                    events
                        .iter()
                        .find(|e| PRIVILEGED_EVENTS.contains(e))
                        .unwrap_or(&"privileged")
                ));
            }
        }
    }
    for pattern in [
        "jobs.*.steps[*].run",
        "runs.steps[*].run",
        "jobs.*.steps[*].with.script",
        "runs.steps[*].with.script",
    ] {
        for (script, line) in file.strings(pattern) {
            if let Some(name) = untrusted_interpolation(script) {
                return Some(format!(
                    "{}:{line}: a script interpolates `${{{{ {name} }}}}`",
                    file.rel
                ));
            }
        }
    }
    None
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
