//! `sast`: CodeQL or another static analysis runs in a workflow.

use super::find_tool;
use crate::audit::{Check, RepoFacts, Status};

/// A static application security testing tool runs in CI.
pub(super) struct Sast;

/// Actions that run a SAST tool.
const SAST_ACTIONS: &[&str] = &[
    "github/codeql-action/analyze",
    "github/codeql-action/init",
    "returntocorp/semgrep-action",
    "semgrep/semgrep-action",
    "zizmorcore/zizmor-action",
    "snyk/actions",
    "sonarsource/sonarcloud-github-action",
    "sonarsource/sonarqube-scan-action",
    "securego/gosec",
    "pycqa/bandit-action",
    "shiftleftsecurity/scan-action",
];

/// Commands that run a SAST tool, in `run:` scripts.
const SAST_WORDS: &[&str] = &[
    "semgrep ci",
    "semgrep scan",
    "codeql database",
    "gosec ",
    "bandit -r",
    "zizmor ",
];

impl Check for Sast {
    fn id(&self) -> &'static str {
        "sast"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        match find_tool(repo, SAST_ACTIONS, SAST_WORDS) {
            Some((_, what)) => (Status::Pass, format!("SAST: {what}")),
            None => (
                Status::Fail,
                "no CodeQL or other SAST workflow (CodeQL's default setup, turned on in the repository settings, is not seen offline); no harden transform adds one".to_owned(),
            ),
        }
    }
}
