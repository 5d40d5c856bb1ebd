//! Targets for the small readers of repository files added with the one reading door:
//! `actions.lock` (GitHub's workflow lockfile, read by pin-actions).

use harden_transforms::actions_lock::{self, Lockfile};

use crate::engine::{CaseResult, Target};
use crate::mutate::Flavor;
use crate::rng::Rng;

/// `actions.lock` through [`actions_lock::parse`]: never a panic; every line it names
/// (`version:`, a workflow, a skipped part, an error) is a line of the text; every pin key it
/// keeps is canonical; and parsing is a function of the text (twice gives the same).
pub struct ActionsLockTarget {
    seeds: Vec<Vec<u8>>,
}

/// Lockfiles of both known versions, and shapes the reader must skip, not trust.
const LOCK_SEEDS: &[&str] = &[
    "version: v0.0.1\nworkflows:\n  .github/workflows/ci.yml:\n    - actions/checkout@v4\n    - Docker/Login-Action@v3:sha1-0123456789abcdef0123456789abcdef01234567\ndependencies:\n  actions/checkout@v4:\n    commit: sha1-11d5960a326750d5838078e36cf38b85af677262\n",
    "version: v0.0.2\nworkflows:\n  ./.github/workflows/release.yml: [actions/setup-node@v4, owner/repo/sub/path@main]\ndependencies:\n  actions/setup-node@v4: {commit: sha256-00}\n",
    "version: 1\nworkflows: [not, a, mapping]\ndependencies: text\n",
    "workflows:\n  a.yml: not-a-list\n  ? [complex, key]\n  : []\n",
    "",
    "- a list\n- not a lockfile\n",
];

impl ActionsLockTarget {
    /// The built-in seeds (the format is small; no corpus of it exists).
    pub fn new() -> Self {
        ActionsLockTarget {
            seeds: LOCK_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect(),
        }
    }
}

impl Default for ActionsLockTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl Target for ActionsLockTarget {
    fn name(&self) -> &'static str {
        "actions-lock"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], _: &mut Rng) -> CaseResult {
        let Ok(text) = std::str::from_utf8(input) else {
            return Ok("not-utf8");
        };
        // A line number may name the line after the last (an error at the end of the text).
        let lines = text.lines().count() + 1;
        let in_text = |line: usize| (1..=lines).contains(&line);
        let parsed = actions_lock::parse(text);
        if parsed != actions_lock::parse(text) {
            return Err("two parses of one text differ".into());
        }
        match parsed {
            Err((line, message)) => {
                if !in_text(line) {
                    return Err(format!("error at line {line} of {lines}: {message}").into());
                }
                Ok("refused")
            }
            Ok(lock) => {
                check_lockfile(&lock, &in_text)?;
                Ok(if lock.workflows.is_empty() {
                    "no-workflows"
                } else {
                    "workflows"
                })
            }
        }
    }
}

/// The properties of a parsed lockfile (see [`ActionsLockTarget`]).
fn check_lockfile(lock: &Lockfile, in_text: &dyn Fn(usize) -> bool) -> Result<(), String> {
    if !in_text(lock.version_line) {
        return Err(format!("version at line {}", lock.version_line));
    }
    // Kept keys are pin keys: `owner/repo@ref`, owner and repository lowercase.
    let canonical = |key: &str| {
        let name = key.split_once('@').map(|(n, _)| n);
        actions_lock::canonical_key(key).is_some()
            && name.is_some_and(|n| n == n.to_ascii_lowercase())
    };
    for (path, workflow) in &lock.workflows {
        if !in_text(workflow.line) {
            return Err(format!("workflow {path:?} at line {}", workflow.line));
        }
        if let Some(pin) = workflow.pins.iter().find(|p| !canonical(p)) {
            return Err(format!(
                "workflow {path:?} keeps a key that is not a canonical pin key: {pin:?}"
            ));
        }
    }
    for (key, dependency) in &lock.dependencies {
        if !canonical(key) || !in_text(dependency.line) {
            return Err(format!("dependency {key:?} at line {}", dependency.line));
        }
        if let Some(commit) = &dependency.commit {
            let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
            if commit.len() != 40 || !commit.bytes().all(hex) {
                return Err(format!(
                    "dependency {key:?}: commit {commit:?} is not a SHA-1"
                ));
            }
        }
    }
    match lock.skipped.iter().find(|(line, _)| !in_text(*line)) {
        Some((line, what)) => Err(format!("skipped part at line {line}: {what}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_keeps_the_properties() {
        let mut target = ActionsLockTarget::new();
        let mut rng = Rng::new(1);
        for seed in target.seeds().to_vec() {
            let result = target.run_case(&seed, &mut rng);
            assert!(
                result.is_ok(),
                "{:?}: {result:?}",
                String::from_utf8_lossy(&seed)
            );
        }
    }
}
