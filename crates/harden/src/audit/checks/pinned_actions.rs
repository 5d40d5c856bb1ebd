//! `pinned-actions`: every remote `uses:` is a full commit SHA.

use harden_transforms::model::Uses;

use super::{all_uses, unparsed_note};
use crate::audit::{Check, RepoFacts, Status};

/// Every remote `uses:` of steps, reusable-workflow calls and composite actions is pinned to a
/// 40-hex commit SHA.
pub(super) struct PinnedActions;

/// A `uses:` value that names another repository (not `./local`, `$/same-repository` nor
/// `docker://`), by the workflow model's one parser.
fn is_remote(value: &str) -> bool {
    !value.trim().is_empty()
        && !matches!(
            Uses::parse(value),
            Uses::Local(_) | Uses::SelfRepository(_) | Uses::Docker(_)
        )
}

/// The `@ref` is a full commit SHA.
fn is_pinned(value: &str) -> bool {
    Uses::parse(value)
        .remote()
        .is_some_and(|r| harden_github::is_full_sha(r.git_ref))
}

impl Check for PinnedActions {
    fn id(&self) -> &'static str {
        "pinned-actions"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        let remote: Vec<_> = all_uses(repo)
            .into_iter()
            .filter(|(_, v, _)| is_remote(v))
            .collect();
        let note = unparsed_note(&repo.workflows) + &unparsed_note(&repo.actions);
        if remote.is_empty() {
            return (
                Status::NotApplicable,
                format!("no remote `uses:` in workflows or composite actions{note}"),
            );
        }
        let unpinned: Vec<_> = remote.iter().filter(|(_, v, _)| !is_pinned(v)).collect();
        let pinned = remote.len() - unpinned.len();
        if unpinned.is_empty() {
            return (
                Status::Pass,
                format!(
                    "all {} remote `uses:` are pinned to a commit SHA{note}",
                    remote.len()
                ),
            );
        }
        let (file, value, line) = unpinned[0];
        let status = if pinned == 0 {
            Status::Fail
        } else {
            Status::Partial
        };
        (
            status,
            format!(
                "{pinned} of {} remote `uses:` pinned to a commit SHA (first unpinned: `{}` at {}:{line}); fix: harden --only pin-actions{note}",
                remote.len(),
                value.trim(),
                file.rel
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_and_pinned() {
        assert!(!is_remote("./.github/actions/x"));
        assert!(!is_remote("docker://alpine:3"));
        assert!(is_remote("actions/checkout@v4"));
        assert!(is_pinned(
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
        ));
        assert!(!is_pinned("actions/checkout@v4"));
        assert!(!is_pinned("actions/checkout"));
    }
}
