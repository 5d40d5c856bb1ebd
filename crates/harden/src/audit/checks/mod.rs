//! The audit checks, one per file, in report order.

mod dangerous_workflows;
mod dependency_updates;
mod fuzzing;
mod pinned_actions;
mod pinned_dependencies;
mod sast;
mod security_policy;
mod signed_releases;
mod token_permissions;

use harden_transforms::model::uses_sites;
use harden_transforms::FileKind;

use super::facts::{RepoFacts, YamlFile};
use super::Check;

/// Every check, in the order of the report's columns.
pub(super) fn all() -> &'static [&'static dyn Check] {
    &[
        &pinned_actions::PinnedActions,
        &pinned_dependencies::PinnedDependencies,
        &token_permissions::TokenPermissions,
        &dependency_updates::DependencyUpdates,
        &signed_releases::SignedReleases,
        &security_policy::SecurityPolicy,
        &fuzzing::Fuzzing,
        &sast::Sast,
        &dangerous_workflows::DangerousWorkflows,
    ]
}

/// Every `uses:` value of the repository's workflows (steps and reusable-workflow calls) and
/// composite actions, with the file and line.
pub(crate) fn all_uses(repo: &RepoFacts) -> Vec<(&YamlFile, &str, usize)> {
    let workflows = repo.workflows.iter().map(|f| (f, FileKind::Workflow));
    let actions = repo.actions.iter().map(|f| (f, FileKind::Action));
    let mut out = Vec::new();
    for (file, kind) in workflows.chain(actions) {
        let Some(doc) = &file.doc else { continue };
        out.extend(
            uses_sites(kind, doc)
                .into_iter()
                .filter_map(|(_, node)| node.as_str().map(|s| (file, s, node.line))),
        );
    }
    out
}

/// The action or workflow a `uses:` names, lower-cased and without its `@ref`
/// (`actions/checkout`, `github/codeql-action/analyze`).
pub(crate) fn uses_target(value: &str) -> String {
    harden_transforms::model::name_key(value)
}

/// The first workflow whose `uses:` targets start with one of `prefixes`, or whose text (for
/// `run:` scripts and files that did not parse) contains one of `words`: `(file, what)`.
pub(crate) fn find_tool<'a>(
    repo: &'a RepoFacts,
    prefixes: &[&'a str],
    words: &[&'a str],
) -> Option<(&'a str, String)> {
    for (file, value, line) in all_uses(repo) {
        let target = uses_target(value);
        if let Some(p) = prefixes.iter().find(|p| target.starts_with(*p)) {
            return Some((file.rel.as_str(), format!("{p} ({}:{line})", file.rel)));
        }
    }
    for file in repo.workflows.iter().chain(&repo.actions) {
        let lower = file.text.to_ascii_lowercase();
        if let Some(w) = words.iter().find(|w| lower.contains(*w)) {
            let line = lower
                .find(*w)
                .map_or(1, |at| lower[..at].matches('\n').count() + 1);
            return Some((file.rel.as_str(), format!("`{w}` ({}:{line})", file.rel)));
        }
    }
    None
}

/// "N files did not parse" for details, or nothing.
pub(crate) fn unparsed_note(files: &[YamlFile]) -> String {
    let n = files.iter().filter(|f| f.doc.is_none()).count();
    match n {
        0 => String::new(),
        1 => "; 1 file is not valid YAML and was not checked".to_owned(),
        n => format!("; {n} files are not valid YAML and were not checked"),
    }
}
