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
        // Callees that refuse a commit SHA (the SLSA generator) stay on their tag, as
        // pin-actions leaves them: not counted, so that the fix named here can fix the rest.
        let tag_only = harden_transforms::tag_only::TagOnlyList::built_in();
        let (kept, remote): (Vec<_>, Vec<_>) = all_uses(repo)
            .into_iter()
            .filter(|(_, v, _)| is_remote(v))
            .partition(|(_, v, _)| tag_only.find(harden_transforms::model::name(v)).is_some());
        let mut note = unparsed_note(&repo.workflows) + &unparsed_note(&repo.actions);
        if !kept.is_empty() {
            note.push_str(&format!(
                "; {} kept on a tag on purpose (a callee that refuses a commit SHA, such as the SLSA generator) not counted",
                kept.len()
            ));
        }
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
