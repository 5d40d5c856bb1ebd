//! GitHub's workflow lockfile, `.github/workflows/actions.lock` (written by `gh actions-lock`,
//! format defined by the `github/actions-lockfile` repository, pre-1.0).
//!
//! ```yaml
//! version: 'v0.0.2'
//! workflows:                       # onboarded workflow -> pin keys it depends on
//!   '.github/workflows/ci.yml':
//!     - 'actions/checkout@v6.0.2'
//! dependencies:                    # pin key `owner/repo@ref` -> what it resolved to
//!   'actions/checkout@v6.0.2':
//!     ref: 'v6.0.2'
//!     commit: 'sha1-de0fac2e4500dabe0009e67214ff5f5447ce83dd'
//!     owner_id: 44036562
//!     repo_id: 197814629
//! ```
//!
//! A workflow listed under `workflows:` only starts when every `uses:` it has is locked, under
//! the key `owner/repo@ref` as written (sub-action paths dropped, owner and repository
//! lowercased). harden never writes the lockfile: it reads it (defensively: an unknown version
//! or shape is a warning, never a crash) to say when it must be refreshed and when it
//! disagrees with a workflow's SHA pins.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use harden_yaml::{Document, Node, NodeKind};

/// Where the lockfile lives, relative to the repository root.
pub const LOCKFILE: &str = ".github/workflows/actions.lock";

/// The lockfile versions harden knows the shape of (`v0.0.1` keys carry a `:sha1-…` suffix).
pub const KNOWN_VERSIONS: &[&str] = &["v0.0.1", "v0.0.2"];

/// The command that refreshes the lockfile and keeps the workflows' SHA pins (without
/// `--no-narrow`, `gh actions-lock` narrows version refs of newly pinned entries).
pub const REFRESH: &str = "gh actions-lock --no-narrow";

/// Lockfiles larger than this are not read.
const MAX_SIZE: usize = 16 * 1024 * 1024;

/// A workflow listed under `workflows:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedWorkflow {
    /// 1-based line of its key in the lockfile.
    pub line: usize,
    /// Its pin keys, canonical (`owner/repo@ref`, owner and repository lowercased).
    pub pins: Vec<String>,
}

/// An entry of `dependencies:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedDependency {
    /// 1-based line of its key in the lockfile.
    pub line: usize,
    /// The locked commit, lowercase hex without the `sha1-` prefix, when it is a SHA-1.
    pub commit: Option<String>,
}

/// What harden read from a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lockfile {
    /// The `version:` value, if any.
    pub version: Option<String>,
    /// 1-based line of `version:` (1 when there is none).
    pub version_line: usize,
    /// Onboarded workflows by repository-relative path (`.github/workflows/ci.yml`).
    pub workflows: BTreeMap<String, LockedWorkflow>,
    /// Locked dependencies by canonical pin key.
    pub dependencies: BTreeMap<String, LockedDependency>,
    /// Parts that did not have the expected shape: (line, what), skipped.
    pub skipped: Vec<(usize, String)>,
}

/// A lockfile that could not be read at all: (line, why).
pub type LockError = (usize, String);

impl Lockfile {
    /// True when the version is one harden knows.
    pub fn known_version(&self) -> bool {
        self.version
            .as_deref()
            .is_some_and(|v| KNOWN_VERSIONS.contains(&v))
    }
}

/// The path of the lockfile of the repository at `root`, when there is one.
/// Whatever is at the path counts (a link, a FIFO): [`read`] refuses what it must, with a
/// message, rather than the lockfile being skipped without a word.
pub fn find(root: &FsPath) -> Option<PathBuf> {
    let path = root.join(LOCKFILE);
    std::fs::symlink_metadata(&path).is_ok().then_some(path)
}

/// Reads (through the one door, [`harden_github::safe_read`]: a link out of the repository at
/// `root`, a FIFO, a device or a file of `/proc` is refused, never read) and parses the
/// lockfile at `path`.
pub fn read(root: &FsPath, path: &FsPath) -> Result<Lockfile, LockError> {
    let text = harden_github::safe_read::read_text(root, path, MAX_SIZE as u64)
        .map_err(|e| (1, e.to_string()))?;
    parse(&text)
}

/// The canonical form of a pin key: `owner/repo@ref` with owner and repository lowercased, a
/// sub-action path dropped and a `v0.0.1` `:sha1-…` suffix removed. `None` when it is not a
/// pin key.
pub fn canonical_key(key: &str) -> Option<String> {
    let (name, git_ref) = key.trim().split_once('@')?;
    let git_ref = match git_ref.rsplit_once(':') {
        Some((r, digest)) if digest.starts_with("sha1-") || digest.starts_with("sha256-") => r,
        _ => git_ref,
    };
    let mut parts = name.split('/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    if owner.is_empty() || repo.is_empty() || git_ref.is_empty() {
        return None;
    }
    Some(format!(
        "{}/{}@{git_ref}",
        owner.to_ascii_lowercase(),
        repo.to_ascii_lowercase()
    ))
}

fn entries(node: &Node) -> Option<Vec<(&Node, &Node)>> {
    match &node.kind {
        NodeKind::Mapping(m) => Some(m.entries.iter().map(|e| (&e.key, &e.value)).collect()),
        _ if node.is_empty_scalar() => Some(Vec::new()),
        _ => None,
    }
}

/// Parses the text of a lockfile. Only text that is not YAML or not a mapping is an error;
/// parts of another shape are listed in [`Lockfile::skipped`].
pub fn parse(text: &str) -> Result<Lockfile, LockError> {
    let doc = Document::parse(text).map_err(|e| (e.location().line, e.message()))?;
    let mut lock = Lockfile {
        version_line: 1,
        ..Lockfile::default()
    };
    let Some(root) = doc.root() else {
        return Ok(lock);
    };
    let top = entries(root).ok_or((root.line, "not a mapping".to_owned()))?;
    for (key, value) in top {
        match key.as_str() {
            Some("version") => {
                lock.version = value.as_str().map(str::to_owned);
                lock.version_line = key.line;
            }
            Some("workflows") => read_workflows(value, &mut lock),
            Some("dependencies") => read_dependencies(value, &mut lock),
            _ => {}
        }
    }
    Ok(lock)
}

fn read_workflows(node: &Node, lock: &mut Lockfile) {
    let Some(list) = entries(node) else {
        lock.skipped
            .push((node.line, "`workflows` is not a mapping".to_owned()));
        return;
    };
    for (key, value) in list {
        let Some(path) = key.as_str() else { continue };
        let items = match &value.kind {
            NodeKind::Sequence(s) => &s.items,
            _ => {
                lock.skipped
                    .push((value.line, format!("`{path}` does not list pin keys")));
                continue;
            }
        };
        let pins = items
            .iter()
            .filter_map(|i| i.as_str().and_then(canonical_key))
            .collect();
        let path = path.trim().trim_start_matches("./").to_owned();
        lock.workflows.insert(
            path,
            LockedWorkflow {
                line: key.line,
                pins,
            },
        );
    }
}

fn read_dependencies(node: &Node, lock: &mut Lockfile) {
    let Some(list) = entries(node) else {
        lock.skipped
            .push((node.line, "`dependencies` is not a mapping".to_owned()));
        return;
    };
    for (key, value) in list {
        let Some(pin) = key.as_str().and_then(canonical_key) else {
            continue;
        };
        let commit = entries(value)
            .and_then(|fields| {
                fields
                    .into_iter()
                    .find(|(k, _)| k.as_str() == Some("commit"))
                    .and_then(|(_, v)| v.as_str().map(str::to_owned))
            })
            .and_then(|c| {
                let hex = c.trim().strip_prefix("sha1-")?.to_ascii_lowercase();
                harden_github::is_full_sha(&hex).then_some(hex)
            });
        lock.dependencies.insert(
            pin,
            LockedDependency {
                line: key.line,
                commit,
            },
        );
    }
}

/// How a workflow's SHA pin compares with the lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// Locked at this commit (or the lockfile does not say which commit).
    Agrees,
    /// The workflow's entries for this repository lock other commits: (key, commit).
    Disagrees(Vec<(String, String)>),
    /// Nothing for this repository is locked for the workflow.
    Missing,
}

impl Lockfile {
    /// How `owner/repo[/path]@sha` in the onboarded workflow `workflow` compares with the
    /// lockfile.
    pub fn check_pin(&self, workflow: &LockedWorkflow, action: &str, sha: &str) -> PinCheck {
        let Some(key) = canonical_key(&format!("{action}@{sha}")) else {
            return PinCheck::Agrees;
        };
        let sha = sha.to_ascii_lowercase();
        let commit_of = |k: &str| self.dependencies.get(k).map(|d| d.commit.clone());
        match commit_of(&key) {
            Some(Some(commit)) if commit != sha => {
                return PinCheck::Disagrees(vec![(key, commit)]);
            }
            Some(_) => return PinCheck::Agrees,
            None => {}
        }
        // Locked under another ref of the same repository (`actions/checkout@v4`).
        let prefix = key.split_once('@').map(|(r, _)| format!("{r}@"));
        let prefix = prefix.unwrap_or_default();
        let mut others = Vec::new();
        for pin in workflow.pins.iter().filter(|p| p.starts_with(&prefix)) {
            match commit_of(pin) {
                Some(Some(commit)) if commit == sha => return PinCheck::Agrees,
                Some(Some(commit)) => others.push((pin.clone(), commit)),
                _ => {}
            }
        }
        if others.is_empty() {
            PinCheck::Missing
        } else {
            PinCheck::Disagrees(others)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "# machine-generated\nversion: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n        - 'actions/checkout@v5.0.1'\n        - 'Actions/Setup-Go@v6.4.0'\ndependencies:\n    'actions/checkout@v5.0.1':\n        ref: 'v5.0.1'\n        commit: 'sha1-93cb6efe18208431cddfb8368fd83d5badbf9bfd'\n        owner_id: 44036562\n        repo_id: 197814629\n    'actions/setup-go@v6.4.0':\n        ref: 'v6.4.0'\n        commit: 'sha1-4a3601121dd01d1626a1e23e37211e3254c1c06c'\n        owner_id: 44036562\n        repo_id: 192624594\n        uses:\n            - 'actions/cache@v4'\n";

    #[test]
    fn reads_the_published_shape() {
        let lock = parse(EXAMPLE).expect("parses");
        assert!(lock.known_version());
        assert_eq!(lock.version_line, 2);
        let ci = &lock.workflows[".github/workflows/ci.yml"];
        assert_eq!(ci.line, 4);
        assert_eq!(
            ci.pins,
            ["actions/checkout@v5.0.1", "actions/setup-go@v6.4.0"]
        );
        assert_eq!(
            lock.dependencies["actions/checkout@v5.0.1"]
                .commit
                .as_deref(),
            Some("93cb6efe18208431cddfb8368fd83d5badbf9bfd")
        );
        assert!(lock.skipped.is_empty());
    }

    #[test]
    fn keys_are_canonical() {
        assert_eq!(
            canonical_key("Actions/Cache/save@v4").as_deref(),
            Some("actions/cache@v4")
        );
        assert_eq!(canonical_key("a/b@v1:sha1-0123").as_deref(), Some("a/b@v1"));
        assert_eq!(canonical_key("a/b@Main").as_deref(), Some("a/b@Main"));
        assert_eq!(canonical_key("checkout@v4"), None);
        assert_eq!(canonical_key("a/b"), None);
    }

    #[test]
    fn compares_sha_pins() {
        let lock = parse(EXAMPLE).expect("parses");
        let ci = &lock.workflows[".github/workflows/ci.yml"];
        let locked = "93cb6efe18208431cddfb8368fd83d5badbf9bfd";
        assert_eq!(
            lock.check_pin(ci, "actions/checkout", locked),
            PinCheck::Agrees
        );
        let other = "de0fac2e4500dabe0009e67214ff5f5447ce83dd";
        assert_eq!(
            lock.check_pin(ci, "actions/checkout", other),
            PinCheck::Disagrees(vec![(
                "actions/checkout@v5.0.1".to_owned(),
                locked.to_owned()
            )])
        );
        assert_eq!(
            lock.check_pin(ci, "actions/cache/save", other),
            PinCheck::Missing
        );
    }

    #[test]
    fn other_shapes_are_skipped_not_fatal() {
        let lock = parse("version: v9\nworkflows: [a, b]\ndependencies:\n  x/y@v1: 3\n")
            .expect("still a mapping");
        assert!(!lock.known_version());
        assert_eq!(lock.skipped.len(), 1);
        assert_eq!(lock.dependencies["x/y@v1"].commit, None);
        assert!(parse("- a\n").is_err());
        assert!(parse("a: [").is_err());
        assert_eq!(parse("").expect("empty").version, None);
    }
}
