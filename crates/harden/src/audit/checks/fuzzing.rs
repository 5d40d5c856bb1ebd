//! `fuzzing`: CIFuzz (OSS-Fuzz), ClusterFuzzLite or a fuzzing workflow.

use super::find_tool;
use crate::audit::{Check, RepoFacts, Status};

/// The project is fuzzed in CI.
pub(super) struct Fuzzing;

/// Actions that fuzz.
const FUZZ_ACTIONS: &[&str] = &["google/oss-fuzz/infra/cifuzz", "google/clusterfuzzlite"];

/// Commands that fuzz, in `run:` scripts.
const FUZZ_WORDS: &[&str] = &[
    "cargo fuzz",
    "cargo +nightly fuzz",
    "go test -fuzz",
    "-fuzz=",
    "libfuzzer",
    "atheris",
    "jazzer",
];

impl Check for Fuzzing {
    fn id(&self) -> &'static str {
        "fuzzing"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        if let Some((_, what)) = find_tool(repo, FUZZ_ACTIONS, FUZZ_WORDS) {
            return (Status::Pass, format!("fuzzing: {what}"));
        }
        if let Some(file) = repo
            .workflows
            .iter()
            .find(|f| f.rel.to_ascii_lowercase().contains("fuzz"))
        {
            return (Status::Pass, format!("fuzzing workflow {}", file.rel));
        }
        if repo.clusterfuzzlite {
            return (
                Status::Partial,
                ".clusterfuzzlite/ exists but no workflow runs it".to_owned(),
            );
        }
        (
            Status::Fail,
            "no CIFuzz, ClusterFuzzLite or fuzzing workflow (OSS-Fuzz projects without CIFuzz are not seen offline); no harden transform adds one".to_owned(),
        )
    }
}
