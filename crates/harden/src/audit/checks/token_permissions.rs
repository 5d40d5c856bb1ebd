//! `token-permissions`: every workflow has a top-level `permissions:` that grants no write
//! (the OpenSSF Scorecard's Token-Permissions rule for the top level).

use harden_transforms::model::Workflow;

use super::unparsed_note;
use crate::audit::{Check, RepoFacts, Status};

/// Every workflow declares a read-only top-level `permissions:` block.
pub(super) struct TokenPermissions;

/// Why a workflow's top level is not read-only, or `None` when it is (read through aliases
/// by the workflow model).
fn top_level_problem(doc: &harden_yaml::Document) -> Option<String> {
    let model = Workflow::new(doc);
    let root = model.root().filter(|r| r.as_mapping().is_some())?;
    let Some(value) = model.permissions(root) else {
        return Some("no top-level `permissions:`".to_owned());
    };
    if let Some(text) = value.as_str() {
        return match text.trim() {
            "read-all" | "" => None,
            other => Some(format!("top-level `permissions: {other}`")),
        };
    }
    if value.as_mapping().is_none() {
        return Some("top-level `permissions:` is not a mapping".to_owned());
    }
    let writes: Vec<&str> = model
        .entries(Some(value))
        .into_iter()
        .filter(|(_, v)| v.as_str().is_some_and(|v| v.trim() == "write"))
        .map(|(k, _)| k)
        .collect();
    if writes.is_empty() {
        None
    } else {
        Some(format!("top-level write: {}", writes.join(", ")))
    }
}

impl Check for TokenPermissions {
    fn id(&self) -> &'static str {
        "token-permissions"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        let parsed: Vec<_> = repo
            .workflows
            .iter()
            .filter_map(|f| f.doc.as_ref().map(|d| (f, d)))
            .collect();
        let note = unparsed_note(&repo.workflows);
        if parsed.is_empty() {
            return (Status::NotApplicable, format!("no workflows{note}"));
        }
        let bad: Vec<_> = parsed
            .iter()
            .filter_map(|(f, d)| top_level_problem(d).map(|why| (f, why)))
            .collect();
        let good = parsed.len() - bad.len();
        let Some((first, why)) = bad.first() else {
            return (
                Status::Pass,
                format!(
                    "all {} workflows have a read-only top-level `permissions:`{note}",
                    parsed.len()
                ),
            );
        };
        let status = if good == 0 {
            Status::Fail
        } else {
            Status::Partial
        };
        (
            status,
            format!(
                "{good} of {} workflows have a read-only top-level `permissions:` (first: {} has {why}); fix: harden --only permissions (--move-writes for top-level writes){note}",
                parsed.len(),
                first.rel
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<String> {
        top_level_problem(&harden_yaml::Document::parse(text).expect("valid YAML"))
    }

    #[test]
    fn top_levels() {
        assert!(problem("on: push\njobs: {}\n").is_some());
        assert!(problem("permissions: read-all\n").is_none());
        assert!(problem("permissions: {}\n").is_none());
        assert!(problem("permissions:\n  contents: read\n").is_none());
        assert!(problem("permissions: write-all\n").is_some());
        assert!(problem("permissions:\n  contents: write\n").is_some());
        assert_eq!(
            problem("x: &w\n  contents: write\npermissions: *w\n").as_deref(),
            Some("top-level write: contents")
        );
    }
}
