//! What the checks look at, read once per repository: the workflows and composite actions
//! (text and parsed tree), the Dependabot or Renovate configuration, the security policy.

use std::path::{Path, PathBuf};

use harden_github::safe_read::{self, ReadRefusal};
use harden_transforms::FileKind;
use harden_yaml::{Document, Node};

use crate::discover;

/// A workflow or composite action of the repository.
#[derive(Debug)]
pub(crate) struct YamlFile {
    /// The path relative to the repository root (`.github/workflows/ci.yml`).
    pub rel: String,
    /// The text, when it could be read as UTF-8.
    pub text: String,
    /// The parsed document, when the text is valid YAML.
    pub doc: Option<Document>,
}

impl YamlFile {
    /// Reads a file through the one door (a link out, a FIFO, a device, a file of `/proc` or
    /// one over 64 MiB is refused, never read).
    fn read(root: &Path, path: &Path) -> Result<YamlFile, ReadRefusal> {
        let text = safe_read::read_text(root, path, safe_read::MAX_REPOSITORY_FILE)?;
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let doc = Document::parse(text.clone()).ok();
        Ok(YamlFile { rel, text, doc })
    }

    /// Nodes matching a `harden_yaml` path pattern (`jobs.*.steps[*].uses`); none when the
    /// file did not parse.
    pub(crate) fn query(&self, pattern: &str) -> Vec<&Node> {
        self.doc
            .as_ref()
            .map(|d| d.query(pattern).into_iter().map(|(_, n)| n).collect())
            .unwrap_or_default()
    }

    /// The string values of the nodes matching `pattern`, with their line.
    pub(crate) fn strings(&self, pattern: &str) -> Vec<(&str, usize)> {
        self.query(pattern)
            .into_iter()
            .filter_map(|n| n.as_str().map(|s| (s, n.line)))
            .collect()
    }

    /// The event names of a workflow's `on:` (a name, a list of names or a mapping).
    pub(crate) fn events(&self) -> Vec<&str> {
        let Some(on) = self.doc.as_ref().and_then(|d| d.root()).and_then(|r| {
            r.as_mapping()
                .and_then(|m| m.get("on").or_else(|| m.get("true")))
        }) else {
            return Vec::new();
        };
        let value = &on.value;
        if let Some(s) = value.as_str() {
            return vec![s];
        }
        if let Some(seq) = value.as_sequence() {
            return seq.items.iter().filter_map(Node::as_str).collect();
        }
        value
            .as_mapping()
            .map(|m| m.entries.iter().filter_map(|e| e.key_str()).collect())
            .unwrap_or_default()
    }
}

/// Everything the checks need to know about one repository.
#[derive(Debug)]
pub(crate) struct RepoFacts {
    /// `.github/workflows/*.yml`, in name order.
    pub workflows: Vec<YamlFile>,
    /// Composite actions (`action.yml` anywhere in the tree).
    pub actions: Vec<YamlFile>,
    /// `.github/dependabot.yml`.
    pub dependabot: Option<YamlFile>,
    /// A Renovate configuration file: path relative to the root, and text.
    pub renovate: Option<(String, String)>,
    /// The security policy's path relative to the root.
    pub security_policy: Option<String>,
    /// Files found but not read (relative path, why): not UTF-8, unreadable, or refused by the
    /// one door (a link out of the repository, a FIFO, a device, a file of `/proc`).
    pub unreadable: Vec<(String, String)>,
    /// A `.clusterfuzzlite/` folder exists.
    pub clusterfuzzlite: bool,
    /// Dockerfiles and Containerfiles (found as pin-images finds them): path relative to the
    /// root, and text.
    pub dockerfiles: Vec<(String, String)>,
    /// The repository's tags: (signed, all), when `.git` is there and git could list them.
    pub tags: Option<TagSignatures>,
    /// The texts of goreleaser's configuration files found in the root (a refused one is in
    /// `unreadable`, once).
    pub goreleaser: Vec<String>,
}

/// How many of a repository's tags are signed (`git tag -s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TagSignatures {
    /// Annotated tags that carry a signature (OpenPGP, SSH or X.509).
    pub signed: usize,
    /// Every tag, lightweight ones included.
    pub all: usize,
}

/// The tags of the repository at `root` and how many are signed, read with `git for-each-ref`
/// (read-only: no hook, no network); `None` without `.git`, without git, or on a failure.
fn tag_signatures(root: &Path) -> Option<TagSignatures> {
    if !root.join(".git").exists() {
        return None;
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "for-each-ref",
            "refs/tags",
            "--format=%(if)%(contents:signature)%(then)signed%(else)unsigned%(end)",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    Some(TagSignatures {
        signed: lines.iter().filter(|l| **l == "signed").count(),
        all: lines.len(),
    })
}

/// Where Renovate looks for its configuration (docs.renovatebot.com, "Configuration options").
const RENOVATE_FILES: &[&str] = &[
    "renovate.json",
    "renovate.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
];

/// The names goreleaser reads its configuration from, in the root.
const GORELEASER_FILES: &[&str] = &[
    ".goreleaser.yml",
    ".goreleaser.yaml",
    "goreleaser.yml",
    "goreleaser.yaml",
];

/// Where GitHub looks for a security policy: the root, `.github/` and `docs/`.
const POLICY_DIRS: &[&str] = &["", ".github", "docs"];

impl RepoFacts {
    /// Reads the repository at `root`. Unreadable files are listed, never fatal.
    pub(crate) fn load(root: &Path) -> RepoFacts {
        let mut facts = RepoFacts {
            workflows: Vec::new(),
            actions: Vec::new(),
            dependabot: None,
            renovate: None,
            security_policy: None,
            unreadable: Vec::new(),
            clusterfuzzlite: root.join(".clusterfuzzlite").is_dir(),
            dockerfiles: Vec::new(),
            tags: tag_signatures(root),
            goreleaser: Vec::new(),
        };
        let mut unread = Vec::new();
        let found = discover::scan_repository(root, &mut unread);
        for (path, why) in unread {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            facts.unreadable.push((rel, why));
        }
        for (path, kind) in found {
            let path = if path.is_relative() && !path.starts_with(root) {
                root.join(&path)
            } else {
                path
            };
            let file = match YamlFile::read(root, &path) {
                Ok(file) => file,
                Err(why) => {
                    let rel = path.strip_prefix(root).unwrap_or(&path);
                    facts
                        .unreadable
                        .push((rel.display().to_string(), why.to_string()));
                    continue;
                }
            };
            match kind {
                FileKind::Workflow => facts.workflows.push(file),
                FileKind::Action => facts.actions.push(file),
                FileKind::Dependabot => facts.dependabot = Some(file),
                FileKind::Text => {}
            }
        }
        for name in RENOVATE_FILES {
            match safe_read::read_text(root, &root.join(name), safe_read::MAX_SMALL_FILE) {
                Ok(text) => {
                    facts.renovate = Some(((*name).to_owned(), text));
                    break;
                }
                Err(why) if why.is_missing() => {}
                Err(why) => facts.unreadable.push(((*name).to_owned(), why.to_string())),
            }
        }
        for name in GORELEASER_FILES {
            match safe_read::read_text(root, &root.join(name), safe_read::MAX_SMALL_FILE) {
                Ok(text) => facts.goreleaser.push(text),
                Err(why) if why.is_missing() => {}
                Err(why) => facts.unreadable.push(((*name).to_owned(), why.to_string())),
            }
        }
        facts.security_policy = find_policy(root);
        for file in harden_transforms::pin_images::dockerfiles::load(root) {
            let rel = file
                .path
                .strip_prefix(root)
                .unwrap_or(&file.path)
                .to_string_lossy()
                .replace('\\', "/");
            match file.text {
                Ok(text) => facts.dockerfiles.push((rel, text)),
                Err(why) => facts.unreadable.push((rel, why)),
            }
        }
        facts
    }
}

/// `SECURITY.md` (any case, also `.rst`, `.txt` or no extension) in the root, `.github/` or
/// `docs/`.
pub(super) fn find_policy(root: &Path) -> Option<String> {
    for dir in POLICY_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                let lower = n.to_ascii_lowercase();
                matches!(
                    lower.as_str(),
                    "security.md" | "security.rst" | "security.txt" | "security"
                )
            })
            .collect();
        names.sort();
        if let Some(name) = names.into_iter().next() {
            return Some(if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            });
        }
    }
    None
}

/// The repositories named by the command line: a folder with `.github/` or `.git` is one;
/// a folder without either whose sub-folders have them stands for those sub-folders (an
/// organisation's checkouts, the shared corpus); any other folder is audited as it is.
/// Returns the roots and the paths that could not be used.
pub(super) fn expand_roots(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut roots = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => problems.push((path.clone(), format!("cannot read: {e}"))),
            Ok(m) if !m.is_dir() => problems.push((
                path.clone(),
                "not a folder: harden audit takes repository roots".to_owned(),
            )),
            Ok(_) if is_repository(path) => roots.push(path.clone()),
            Ok(_) => {
                let mut children: Vec<PathBuf> = std::fs::read_dir(path)
                    .map(|entries| {
                        entries
                            .filter_map(Result::ok)
                            .map(|e| e.path())
                            // Symbolic links to repositories count too.
                            .filter(|p| p.is_dir() && is_repository(p))
                            .collect()
                    })
                    .unwrap_or_default();
                children.sort();
                if children.is_empty() {
                    roots.push(path.clone());
                } else {
                    roots.extend(children);
                }
            }
        }
    }
    (roots, problems)
}

fn is_repository(dir: &Path) -> bool {
    dir.join(".github").is_dir() || dir.join(".git").exists()
}
