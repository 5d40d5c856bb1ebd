//! `security-policy`: SECURITY.md in the root, `.github/` or `docs/`.

use crate::audit::{Check, RepoFacts, Status};

/// The repository tells reporters how to report a vulnerability.
pub(super) struct SecurityPolicy;

impl Check for SecurityPolicy {
    fn id(&self) -> &'static str {
        "security-policy"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        match &repo.security_policy {
            Some(path) => (Status::Pass, format!("{path} exists")),
            None => (
                Status::Fail,
                "no SECURITY.md in the root, .github/ or docs/ (an organisation-wide policy in its .github repository is not seen offline); no harden transform writes one".to_owned(),
            ),
        }
    }
}
