//! Transitive pins: a remote action pinned to a commit SHA that, being a composite action, runs
//! other actions by tag or branch inside (`runs.steps[].uses: actions/cache@v4`), or a remote
//! reusable workflow pinned to a SHA whose jobs do. GitHub's SHA-pinning policy (an organisation
//! and repository setting since 2025) rejects such workflows although every `uses:` in them is
//! pinned, so they are reported, with the chain that leads to the unpinned reference.
//!
//! The files are read through the same [`RemoteFiles`] as the permissions analysis (the
//! `action.yml` or workflow at the pinned commit). [`WithTransitivePins`] wraps a transform
//! (pin-actions) and adds these findings, checked on its output; a file that cannot be read is
//! passed over (offline runs stay quiet).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use harden_github::{is_full_sha, RepoId};
use harden_yaml::Document;

use crate::model::{any_uses, Uses};
use crate::permissions::{RemoteFile, RemoteFiles, RemoteRead};
use crate::{FileKind, Finding, Outcome, Repository, Severity, Transform};

/// Levels of nested actions followed at most.
const MAX_DEPTH: usize = 4;

/// A `uses:` target pinned to a commit: an action (`dir/action.y*ml`) or a reusable workflow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    repo: RepoId,
    sha: String,
    /// The action's folder (`""` for the root), or the workflow's path.
    path: String,
    workflow: bool,
}

impl Target {
    /// The target of a `uses:` value pinned to a full SHA; `None` for anything else.
    fn parse(uses: &str) -> Option<Target> {
        let parsed = Uses::parse(uses);
        let remote = parsed.remote().filter(|r| is_full_sha(r.git_ref))?;
        Some(Target {
            repo: remote.repo.clone(),
            sha: remote.git_ref.to_ascii_lowercase(),
            path: remote.path.unwrap_or("").to_owned(),
            workflow: matches!(parsed, Uses::Workflow(_)),
        })
    }

    /// The files that may hold it, in order.
    fn files(&self) -> Vec<RemoteFile> {
        let paths = if self.workflow {
            vec![self.path.clone()]
        } else {
            ["action.yml", "action.yaml"]
                .iter()
                .map(|n| {
                    if self.path.is_empty() {
                        (*n).to_owned()
                    } else {
                        format!("{}/{n}", self.path)
                    }
                })
                .collect()
        };
        paths
            .into_iter()
            .map(|path| RemoteFile {
                repo: self.repo.clone(),
                git_ref: self.sha.clone(),
                path,
            })
            .collect()
    }

    fn shown(&self) -> String {
        let name = if self.path.is_empty() {
            self.repo.to_string()
        } else {
            format!("{}/{}", self.repo, self.path)
        };
        format!("{name}@{}", &self.sha[..7])
    }
}

/// What one target runs: references by tag or branch (with their lines), and pinned targets.
type Runs = (Vec<(String, usize)>, Vec<Target>);

/// What a pinned target runs unpinned, as chains (`a@sha → b@sha → c@v4 (line n)`).
#[derive(Default)]
struct Walk {
    /// Target → what it runs.
    seen: BTreeMap<Target, Runs>,
}

impl Walk {
    /// Reads the targets, level by level, fetching each level's files together.
    fn read(&mut self, remote: &dyn RemoteFiles, start: BTreeSet<Target>) {
        let mut level: Vec<Target> = start.into_iter().collect();
        for _ in 0..MAX_DEPTH {
            level.retain(|t| !self.seen.contains_key(t));
            if level.is_empty() {
                break;
            }
            let wanted: Vec<RemoteFile> = level.iter().flat_map(Target::files).collect();
            remote.fetch(&wanted);
            let mut next = Vec::new();
            for target in std::mem::take(&mut level) {
                let text = target
                    .files()
                    .into_iter()
                    .find_map(|f| match remote.get(&f) {
                        Some(RemoteRead::Found { text, .. }) => Some(text),
                        _ => None,
                    });
                let mut unpinned = Vec::new();
                let mut pinned = Vec::new();
                if let Some(doc) = text.and_then(|t| Document::parse(t.to_string()).ok()) {
                    for (uses, line) in any_uses(&doc) {
                        let u = uses.trim();
                        if matches!(
                            Uses::parse(u),
                            Uses::Local(_) | Uses::Docker(_) | Uses::SelfRepository(_)
                        ) {
                            continue;
                        }
                        match Target::parse(u) {
                            Some(t) => pinned.push(t),
                            None if u.contains('@') => unpinned.push((u.to_owned(), line)),
                            None => {}
                        }
                    }
                }
                next.extend(pinned.iter().cloned());
                self.seen.insert(target, (unpinned, pinned));
            }
            level = next;
        }
    }

    /// The chains of unpinned references below `target`.
    fn chains(&self, target: &Target, depth: usize) -> Vec<String> {
        let Some((unpinned, pinned)) = self.seen.get(target) else {
            return Vec::new();
        };
        let file = match (target.workflow, target.path.as_str()) {
            (true, path) => format!("{}/{path}", target.repo),
            (false, "") => format!("{}/action.yml", target.repo),
            (false, path) => format!("{}/{path}/action.yml", target.repo),
        };
        let mut out: Vec<String> = unpinned
            .iter()
            .map(|(u, line)| format!("`{u}` (`{file}` line {line})"))
            .collect();
        if depth < MAX_DEPTH {
            for child in pinned {
                for chain in self.chains(child, depth + 1) {
                    out.push(format!("`{}` → {chain}", child.shown()));
                }
            }
        }
        out
    }
}

/// The transitive-pin findings of a repository's workflows and actions.
pub fn transitive_pins(
    repo: &Repository,
    remote: &dyn RemoteFiles,
    transform: &'static str,
) -> Vec<Finding> {
    let mut places: Vec<(PathBuf, usize, Target)> = Vec::new();
    for file in &repo.files {
        if !matches!(file.kind, FileKind::Workflow | FileKind::Action) {
            continue;
        }
        let Some(doc) = file.document() else { continue };
        for (uses, line) in any_uses(doc) {
            if let Some(target) = Target::parse(uses) {
                places.push((file.path.clone(), line, target));
            }
        }
    }
    let mut walk = Walk::default();
    walk.read(remote, places.iter().map(|(_, _, t)| t.clone()).collect());
    let mut findings = Vec::new();
    for (path, line, target) in places {
        let chains = walk.chains(&target, 0);
        if chains.is_empty() {
            continue;
        }
        let what = if target.workflow {
            "reusable workflow"
        } else {
            "action"
        };
        let mut list = chains
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if chains.len() > 3 {
            list.push_str(&format!("; and {} more", chains.len() - 3));
        }
        findings.push(Finding::at(
            transform,
            &path,
            Some(harden_yaml::Location { line, column: 1 }),
            Severity::Warning,
            format!(
                "the {what} `{}` is pinned, but runs {list} by tag or branch inside; GitHub's SHA-pinning policy rejects this workflow: use a version of it that pins what it runs, or ask its maintainers to",
                target.shown()
            ),
        ));
    }
    findings
}

/// A transform with the transitive-pin findings added, checked on its output (after pinning,
/// every reference is a SHA).
#[derive(Debug)]
pub struct WithTransitivePins<T> {
    inner: T,
    remote: Arc<dyn RemoteFiles>,
}

impl<T: Transform> WithTransitivePins<T> {
    /// `inner`, reading action files through `remote`.
    pub fn new(inner: T, remote: Arc<dyn RemoteFiles>) -> Self {
        WithTransitivePins { inner, remote }
    }
}

impl<T: Transform> Transform for WithTransitivePins<T> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn summary(&self) -> &'static str {
        self.inner.summary()
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut out = self.inner.run(repo);
        let after = repo.applied(&out);
        let name = self.inner.name();
        out.findings
            .extend(transitive_pins(&after, self.remote.as_ref(), name));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::MemoryFiles;
    use crate::SourceFile;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn reports_composite_actions_that_run_tags_inside() {
        let inner = format!(
            "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n    - uses: o/pinned@{SHA}\n    - uses: ./local\n"
        );
        let remote = MemoryFiles::new()
            .with("o/outer", "action.yml", &inner)
            .with(
                "o/pinned",
                "action.yml",
                "runs:\n  using: composite\n  steps:\n    - uses: o/deep@main\n",
            )
            .with(
                "o/clean",
                "action.yml",
                "runs:\n  using: node20\n  main: x.js\n",
            );
        let workflow = format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: o/outer@{SHA}\n      - uses: o/clean@{SHA}\n      - uses: o/tagged@v1\n"
        );
        let repo = Repository {
            root: ".".into(),
            files: vec![SourceFile::new(
                ".github/workflows/ci.yml",
                FileKind::Workflow,
                workflow,
            )],
        };
        let findings = transitive_pins(&repo, &remote, "pin-actions");
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.line, Some(6));
        assert!(
            f.message.contains(
                "`o/outer@0123456` is pinned, but runs `actions/cache@v4` (`o/outer/action.yml` line 4)"
            ),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("`o/pinned@0123456` → `o/deep@main`"),
            "{}",
            f.message
        );
    }
}
