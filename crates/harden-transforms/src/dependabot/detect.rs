//! Finding what Dependabot should update: a bounded walk of the repository's folders (which
//! honours `.gitignore` and the skip rules of `data/dependabot.yml`) that records, per package
//! ecosystem, the folders holding a real manifest of it (see [`super::manifests`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::knowledge::knowledge;
use super::manifests::{self, family, read_small, Folder};

/// How deep below the root folders are searched (`.github/actions/<name>` is depth 3).
pub(crate) const MAX_DEPTH: usize = 6;

/// How many folder entries are looked at before the walk stops.
const MAX_ENTRIES: usize = 200_000;

/// The folder whose YAML files Dependabot reads for `github-actions` with `directory: /`.
pub(crate) const WORKFLOWS_DIR: &str = "/.github/workflows";

/// Hidden folders that are searched.
const SEARCHED_HIDDEN: &[&str] = &[".github", ".devcontainer"];

/// What the walk found.
#[derive(Debug, Default, Clone)]
pub(crate) struct Detection {
    /// Ecosystem name to the folders (normalised: `/`, `/web`) that hold its manifests.
    pub(crate) found: BTreeMap<&'static str, BTreeSet<String>>,
    /// The root holds an `action.yml`/`action.yaml`.
    pub(crate) root_action: bool,
    /// The walk stopped early at the entry limit.
    pub(crate) truncated: bool,
    /// (folder, message) for folders whose manifests harden could not settle on its own.
    pub(crate) notes: Vec<(String, String)>,
    /// (file, why) for manifests found but refused by the one door: one located error each.
    pub(crate) refused: Vec<(std::path::PathBuf, String)>,
}

impl Detection {
    fn add(&mut self, ecosystem: &'static str, dir: &str) {
        self.found
            .entry(ecosystem)
            .or_default()
            .insert(dir.to_owned());
    }
}

/// True when the `action.yml` at `path` is a composite action (`runs.using: composite`): only
/// those hold `uses:` steps that Dependabot can update.
fn is_composite_action(path: &FsPath) -> bool {
    let Some(text) = read_small(path) else {
        return false;
    };
    let Ok(docs) = harden_yaml::guard::load_within_limits(&text) else {
        return false;
    };
    docs.first()
        .and_then(|d| d["runs"]["using"].as_str())
        .is_some_and(|u| u.trim().eq_ignore_ascii_case("composite"))
}

/// The skip rules of the knowledge base as a `.gitignore` matcher rooted at `root`.
fn skip_matcher(root: &FsPath) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    for line in &knowledge().skip {
        // The patterns are checked by a test; a bad one only loses that one rule.
        let _ = builder.add_line(None, line);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// `/a/b` for the folder `root/a/b`.
fn rel_dir(root: &FsPath, dir: &FsPath) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    format!("/{}", parts.join("/"))
}

/// Whether the walk goes into the folder `path` (relative to the root: `rel`).
fn enter(skip: &Gitignore, rel: &FsPath, name: &str) -> bool {
    if rel.starts_with(".github") {
        // Nothing under `.github` is vendored or built: an action may well be called `build`.
        return true;
    }
    if name.starts_with('.') && !SEARCHED_HIDDEN.contains(&name) {
        return false;
    }
    !skip.matched(rel, true).is_ignore()
}

/// The regular files of every searched folder, by folder.
pub(crate) struct Walked {
    /// Folder to the names of its regular files.
    pub(crate) folders: BTreeMap<PathBuf, BTreeSet<String>>,
    /// The walk stopped early at the entry limit.
    pub(crate) truncated: bool,
}

/// The bounded walk of the repository at `root` that Dependabot's manifests are found with
/// (also where pin-images finds Dockerfiles): `.gitignore` and the skip rules honoured.
pub(crate) fn walk(root: &FsPath) -> Walked {
    let skip = skip_matcher(root);
    let filter_root = root.to_path_buf();
    let mut builder = crate::walk::repository(root, MAX_DEPTH + 1);
    builder.filter_entry(move |entry| {
        if !entry.file_type().is_some_and(|t| t.is_dir()) || entry.depth() == 0 {
            return true;
        }
        let rel = entry
            .path()
            .strip_prefix(&filter_root)
            .unwrap_or(entry.path());
        enter(&skip, rel, &entry.file_name().to_string_lossy())
    });
    let mut walked = Walked {
        folders: BTreeMap::new(),
        truncated: false,
    };
    walked.folders.insert(root.to_path_buf(), BTreeSet::new());
    for (count, entry) in builder.build().flatten().enumerate() {
        if count >= MAX_ENTRIES {
            walked.truncated = true;
            break;
        }
        // Symbolic links are not followed: they may leave the repository or loop.
        let Some(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walked
                .folders
                .entry(entry.path().to_path_buf())
                .or_default();
        } else if kind.is_file() {
            if let (Some(parent), Ok(name)) = (
                entry.path().parent(),
                entry.file_name().to_os_string().into_string(),
            ) {
                walked
                    .folders
                    .entry(parent.to_path_buf())
                    .or_default()
                    .insert(name);
            }
        }
    }
    walked
}

/// Drops (ecosystem, folder) pairs below a workspace root of the same ecosystem family:
/// Dependabot updates workspace members from the root. A folder with a lock file of its own
/// (`locks`: family and folder) is a project of its own, not a member.
fn drop_workspace_members(
    found: Vec<(&'static str, String)>,
    roots: &BTreeSet<(&'static str, String)>,
    locks: &BTreeSet<(&'static str, String)>,
) -> Vec<(&'static str, String)> {
    found
        .into_iter()
        .filter(|(eco, dir)| {
            locks.contains(&(family(eco), dir.clone()))
                || !roots.iter().any(|(root_eco, root_dir)| {
                    family(root_eco) == family(eco) && is_strictly_below(dir, root_dir)
                })
        })
        .collect()
}

fn is_strictly_below(dir: &str, ancestor: &str) -> bool {
    if ancestor == "/" {
        return dir != "/";
    }
    dir.strip_prefix(ancestor)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Walks the repository at `root` for manifests. `github-actions` covers `/` when there are
/// workflows (or a root `action.yml`), plus every folder holding a composite action.
pub(crate) fn scan(root: &FsPath) -> Result<Detection, std::io::Error> {
    std::fs::read_dir(root)?;
    let walked = walk(root);
    let mut detection = Detection {
        truncated: walked.truncated,
        ..Detection::default()
    };
    let mut found = Vec::new();
    let mut roots = BTreeSet::new();
    let mut locks = BTreeSet::new();
    let mut has_workflows = false;
    let mut devcontainer = false;
    let refused = std::cell::RefCell::new(Vec::new());
    for (dir, names) in &walked.folders {
        let rel = rel_dir(root, dir);
        let own_name = dir
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let verdict = manifests::inspect(&Folder {
            dir,
            names,
            own_name: &own_name,
            refused: &refused,
        });
        found.extend(verdict.ecosystems.iter().map(|e| (*e, rel.clone())));
        roots.extend(verdict.roots.iter().map(|e| (*e, rel.clone())));
        locks.extend(verdict.locks.iter().map(|e| (*e, rel.clone())));
        devcontainer |= verdict.devcontainer;
        detection
            .notes
            .extend(verdict.notes.into_iter().map(|n| (rel.clone(), n)));
        for name in names {
            let lower = name.to_ascii_lowercase();
            if rel == WORKFLOWS_DIR && (lower.ends_with(".yml") || lower.ends_with(".yaml")) {
                has_workflows = true;
            }
            if name == "action.yml" || name == "action.yaml" {
                if rel == "/" {
                    detection.root_action = true;
                } else if rel != WORKFLOWS_DIR && is_composite_action(&dir.join(name)) {
                    // `/` already reads `.github/workflows`; listing it again would overlap.
                    found.push(("github-actions", rel.clone()));
                }
            }
        }
    }
    detection.refused = refused.into_inner();
    for (eco, dir) in drop_workspace_members(found, &roots, &locks) {
        detection.add(eco, &dir);
    }
    if devcontainer {
        // Dependabot updates the Features of every dev container configuration from `/`.
        detection.add("devcontainers", "/");
    }
    if has_workflows || detection.root_action {
        detection.add("github-actions", "/");
    }
    Ok(detection)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest the one door refuses (here: over 1 MiB, and not UTF-8) is one located
    /// refusal each; a folder without one says nothing.
    #[test]
    fn refused_manifests_are_listed_once_each() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("web")).expect("mkdir");
        let big = format!(
            "{{\"dependencies\": {{}}, \"x\": \"{}\"}}",
            "a".repeat(2 << 20)
        );
        std::fs::write(root.join("web/package.json"), big).expect("write");
        std::fs::write(root.join("Cargo.toml"), b"[package]\nname = \"\xff\"\n").expect("write");
        let detection = scan(root).expect("scan");
        let refused: Vec<_> = detection
            .refused
            .iter()
            .map(|(p, _)| p.strip_prefix(root).expect("inside").to_path_buf())
            .collect();
        assert_eq!(
            refused,
            [FsPath::new("Cargo.toml"), FsPath::new("web/package.json")],
            "{:?}",
            detection.refused
        );
        assert!(
            detection.refused[1].1.contains("larger than"),
            "{:?}",
            detection.refused
        );
    }

    #[test]
    fn skip_rules_match_folders() {
        let root = FsPath::new("/repo");
        let skip = skip_matcher(root);
        let skipped = |rel: &str| {
            !enter(
                &skip,
                FsPath::new(rel),
                rel.rsplit('/').next().unwrap_or(rel),
            )
        };
        for rel in [
            "node_modules",
            "web/node_modules",
            "tests/data",
            "pkg/tests/data",
            "tests/contrib",
            "src/test/resources",
            "examples",
            "docs/examples",
            "vendor",
            "testdata",
            ".tox",
            "mypkg.egg-info",
        ] {
            assert!(skipped(rel), "{rel} should be skipped");
        }
        for rel in [
            "tests",
            "docs",
            "web",
            "data",
            ".github",
            ".github/actions/build",
            ".devcontainer",
        ] {
            assert!(!skipped(rel), "{rel} should be searched");
        }
    }

    #[test]
    fn workspace_members_are_dropped() {
        let found = vec![
            ("cargo", "/".to_owned()),
            ("cargo", "/crates/a".to_owned()),
            ("bun", "/packages/web".to_owned()),
            ("pip", "/docs".to_owned()),
        ];
        let roots: BTreeSet<_> = [("cargo", "/".to_owned()), ("npm", "/".to_owned())].into();
        let kept = drop_workspace_members(found.clone(), &roots, &BTreeSet::new());
        assert_eq!(
            kept,
            [("cargo", "/".to_owned()), ("pip", "/docs".to_owned())]
        );
        let locks: BTreeSet<_> = [("npm", "/packages/web".to_owned())].into();
        let kept = drop_workspace_members(found, &roots, &locks);
        assert!(kept.contains(&("bun", "/packages/web".to_owned())));
        assert!(is_strictly_below("/a/b", "/a"));
        assert!(!is_strictly_below("/ab", "/a"));
        assert!(!is_strictly_below("/a", "/a"));
    }
}
