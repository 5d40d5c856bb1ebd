//! `signed-releases`: a workflow signs or attests release artifacts.

use super::find_tool;
use crate::audit::{Check, RepoFacts, Status};

/// A workflow signs (sigstore, cosign) or attests (`actions/attest*`, SLSA generator) what a
/// release publishes: pass with a SLSA provenance asset (`.intoto.jsonl`), partial with
/// signatures only, as Scorecard's Signed-Releases scores them.
pub(super) struct SignedReleases;

/// Actions that sign or attest artifacts.
const SIGNING_ACTIONS: &[&str] = &[
    "sigstore/gh-action-sigstore-python",
    "sigstore/cosign-installer",
    "actions/attest",
    "slsa-framework/slsa-github-generator",
    "goreleaser/goreleaser-action",
];

/// What writes SLSA provenance as a release asset (`*.intoto.jsonl`), which Scorecard's
/// Signed-Releases scores 10/10 (signatures alone: 8/10).
const PROVENANCE_ACTIONS: &[&str] = &["slsa-framework/slsa-github-generator"];

/// The provenance asset's name, in workflow text.
const PROVENANCE_WORDS: &[&str] = &[".intoto.jsonl"];

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
        let (status, detail) = self.workflows(repo);
        (status, detail + &tags_note(repo))
    }
}

/// What the repository's tags say: how many are signed (`git tag -s`), which the ASWF minutes
/// ask for besides signed artifacts. Nothing without `.git` or without tags.
fn tags_note(repo: &RepoFacts) -> String {
    match repo.tags {
        Some(t) if t.all > 0 => format!(
            "; tags: {} of {} signed{}",
            t.signed,
            t.all,
            if t.signed < t.all {
                " (sign release tags with `git tag -s`)"
            } else {
                ""
            }
        ),
        _ => String::new(),
    }
}

impl SignedReleases {
    /// The status from the workflows: provenance, signatures, or nothing.
    fn workflows(&self, repo: &RepoFacts) -> (Status, String) {
        // goreleaser signs only when its configuration says so: look for its `signs:`.
        let actions: Vec<&str> = SIGNING_ACTIONS
            .iter()
            .copied()
            .filter(|a| *a != "goreleaser/goreleaser-action" || goreleaser_signs(repo))
            .collect();
        if let Some((_, what)) = find_tool(repo, PROVENANCE_ACTIONS, PROVENANCE_WORDS) {
            return (
                Status::Pass,
                format!("releases get SLSA provenance (`.intoto.jsonl`): {what}"),
            );
        }
        match find_tool(repo, &actions, SIGNING_WORDS) {
            Some((_, what)) => (
                Status::Partial,
                format!(
                    "releases signed or attested, without a `.intoto.jsonl` provenance asset \
                     (Scorecard gives 8/10 for signatures, 10/10 with provenance; GitHub's \
                     attestations are not release assets): {what}; fix: harden --only \
                     sign-releases (its workflow adds SLSA provenance)"
                ),
            ),
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

/// `.goreleaser.yml` (or `.yaml`) has a `signs:` or `docker_signs:` section (the files were
/// read, through the one door, with the repository's other facts).
fn goreleaser_signs(repo: &RepoFacts) -> bool {
    repo.goreleaser.iter().any(|t| {
        t.lines()
            .any(|l| l.starts_with("signs:") || l.starts_with("docker_signs:"))
    })
}
