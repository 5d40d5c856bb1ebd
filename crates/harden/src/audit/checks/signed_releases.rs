//! `signed-releases`: a workflow signs or attests release artifacts.

use super::find_tool;
use crate::audit::{Check, RepoFacts, Status};

/// A workflow signs (sigstore, cosign) or attests (`actions/attest*`, SLSA generator) what a
/// release publishes.
pub(super) struct SignedReleases;

/// Actions that sign or attest artifacts.
const SIGNING_ACTIONS: &[&str] = &[
    "sigstore/gh-action-sigstore-python",
    "sigstore/cosign-installer",
    "actions/attest",
    "slsa-framework/slsa-github-generator",
    "goreleaser/goreleaser-action",
];

/// Commands that sign or attest, in `run:` scripts.
const SIGNING_WORDS: &[&str] = &[
    "cosign sign",
    "cosign attest",
    "sigstore sign",
    "python -m sigstore",
    "gh attestation",
    "slsa-verifier",
    "gpg --detach-sign",
    "gpg --armor --detach-sig",
];

impl Check for SignedReleases {
    fn id(&self) -> &'static str {
        "signed-releases"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        // goreleaser signs only when its configuration says so: look for its `signs:`.
        let actions: Vec<&str> = SIGNING_ACTIONS
            .iter()
            .copied()
            .filter(|a| *a != "goreleaser/goreleaser-action" || goreleaser_signs(repo))
            .collect();
        match find_tool(repo, &actions, SIGNING_WORDS) {
            Some((_, what)) => (Status::Pass, format!("releases signed or attested: {what}")),
            None if repo.workflows.is_empty() => (
                Status::Fail,
                "no workflows, so nothing signs releases; fix: harden --only sign-releases"
                    .to_owned(),
            ),
            None => (
                Status::Fail,
                "no workflow signs or attests release artifacts (sigstore, cosign, actions/attest*, SLSA); fix: harden --only sign-releases".to_owned(),
            ),
        }
    }
}

/// `.goreleaser.yml` (or `.yaml`) has a `signs:` or `docker_signs:` section.
fn goreleaser_signs(repo: &RepoFacts) -> bool {
    [
        ".goreleaser.yml",
        ".goreleaser.yaml",
        "goreleaser.yml",
        "goreleaser.yaml",
    ]
    .iter()
    .filter_map(|n| {
        let limit = harden_github::safe_read::MAX_SMALL_FILE;
        harden_github::safe_read::read_text(&repo.root, &repo.root.join(n), limit).ok()
    })
    .any(|t| {
        t.lines()
            .any(|l| l.starts_with("signs:") || l.starts_with("docker_signs:"))
    })
}
