//! Finding the files harden works on: workflows, composite actions, the Dependabot config.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use harden_transforms::FileKind;

/// Folders never searched for `action.yml`.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules", "vendor"];

/// How deep `action.yml` files are searched for.
const MAX_DEPTH: usize = 12;

/// Files grouped by repository root.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// Root folder -> files (path, kind), in a stable order.
    pub repos: BTreeMap<PathBuf, Vec<(PathBuf, FileKind)>>,
    /// Paths that could not be used, with the reason.
    pub problems: Vec<(PathBuf, String)>,
    /// Files found in a repository but skipped (FIFOs, devices, sockets), with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Why a FIFO, device or socket is never read.
pub(crate) const NOT_REGULAR: &str =
    "not a regular file (a FIFO, device or socket, which harden never reads); skipped";

/// Repository roots and files already collected, by their real place, so that a file or a
/// repository named twice (`r` and `./r`, a file and its folder, two links to one file) is
/// worked on once.
#[derive(Default)]
struct Seen {
    roots: std::collections::HashMap<PathBuf, PathBuf>,
    files: std::collections::HashSet<PathBuf>,
}

impl Seen {
    /// The root as first named, for any spelling of it.
    fn root(&mut self, root: PathBuf) -> PathBuf {
        let real = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        self.roots.entry(real).or_insert(root).clone()
    }

    /// Adds `file` under `root` unless it is already there under any name. Names that lead
    /// out of the root (to `/proc/self/pagemap`, `/dev/zero`, a file elsewhere) are never
    /// merged: each is refused by the one door with an error of its own.
    fn add(&mut self, found: &mut Discovered, root: &Path, file: PathBuf, kind: FileKind) {
        let real = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        let inside = std::fs::canonicalize(root).is_ok_and(|r| real.starts_with(r));
        if !inside || self.files.insert(real) {
            found
                .repos
                .entry(root.to_path_buf())
                .or_default()
                .push((file, kind));
        }
    }
}

/// The kind of a file from its path, if harden handles it.
pub(crate) fn kind_of(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let ext_ok = name.ends_with(".yml") || name.ends_with(".yaml");
    if !ext_ok {
        return None;
    }
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    let grandparent = path
        .parent()
        .and_then(Path::parent)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    if matches!(name, "action.yml" | "action.yaml") {
        return Some(FileKind::Action);
    }
    if matches!(name, "dependabot.yml" | "dependabot.yaml") && parent == Some(".github") {
        return Some(FileKind::Dependabot);
    }
    if parent == Some("workflows") && grandparent == Some(".github") {
        return Some(FileKind::Workflow);
    }
    None
}

/// The repository root a single file belongs to: the folder above `.github`, else the nearest
/// folder with `.git`, else the file's folder.
pub(crate) fn root_of(file: &Path) -> PathBuf {
    let abs = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| file.to_path_buf(), |d| d.join(file))
    };
    let comps: Vec<Component<'_>> = abs.components().collect();
    if let Some(i) = comps.iter().rposition(|c| c.as_os_str() == ".github") {
        return comps[..i].iter().collect();
    }
    let mut dir = abs.parent();
    while let Some(d) = dir {
        if d.join(".git").exists() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    abs.parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Why an unreadable folder is an error.
const UNREAD_FOLDER: &str = "cannot read this folder, so a composite action in it (action.yml) \
     would go unchecked: make it readable to harden, or add it to .gitignore if it is not part \
     of the repository";

/// Collects the files for the given command-line paths, each file once.
pub(crate) fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    let mut seen = Seen::default();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                found
                    .problems
                    .push((path.clone(), format!("cannot read: {e}")));
                continue;
            }
        };
        if meta.is_dir() {
            let root = seen.root(path.clone());
            found.repos.entry(root.clone()).or_default();
            for (file, kind) in scan(path, &mut found.skipped, &mut found.problems) {
                seen.add(&mut found, &root, file, kind);
            }
        } else if !meta.is_file() {
            found.problems.push((path.clone(), NOT_REGULAR.to_owned()));
        } else if let Some(kind) = kind_of(path) {
            let root = seen.root(relative_root(path));
            seen.add(&mut found, &root, path.clone(), kind);
        } else {
            found.problems.push((
                path.clone(),
                "not a workflow (.github/workflows/*.yml), action.yml or .github/dependabot.yml; skipped"
                    .to_owned(),
            ));
        }
    }
    found
}

/// The root of a single file, written relative when the file's path was relative.
fn relative_root(file: &Path) -> PathBuf {
    let comps: Vec<Component<'_>> = file.components().collect();
    if let Some(i) = comps.iter().rposition(|c| c.as_os_str() == ".github") {
        let root: PathBuf = comps[..i].iter().collect();
        return if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root
        };
    }
    root_of(file)
}

/// Every workflow, `action.yml` and Dependabot config of the repository at `root` that is a
/// regular file (what `harden audit` reads).
/// Folders that could not be read go to `unread` (path and why).
pub(crate) fn scan_repository(
    root: &Path,
    unread: &mut Vec<(PathBuf, String)>,
) -> Vec<(PathBuf, FileKind)> {
    scan(root, &mut Vec::new(), unread)
}

/// Every workflow, `action.yml` and Dependabot config of the repository at `root`; workflows
/// that are FIFOs, devices or sockets go to `skipped`; folders that cannot be read (a composite
/// action in one would go unchecked) go to `unread`.
fn scan(
    root: &Path,
    skipped: &mut Vec<(PathBuf, String)>,
    unread: &mut Vec<(PathBuf, String)>,
) -> Vec<(PathBuf, FileKind)> {
    let mut out = Vec::new();
    let github = root.join(".github");
    if let Ok(entries) = std::fs::read_dir(github.join("workflows")) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| kind_of(p) == Some(FileKind::Workflow))
            .filter(|p| match std::fs::metadata(p) {
                Ok(m) if m.is_file() => true,
                Ok(m) if !m.is_dir() => {
                    let shown = p.strip_prefix(".").unwrap_or(p).to_path_buf();
                    skipped.push((shown, NOT_REGULAR.to_owned()));
                    false
                }
                _ => false,
            })
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|p| (p, FileKind::Workflow)));
    }
    let mut actions = Vec::new();
    find_actions(root, &mut actions, unread);
    actions.sort();
    if root == Path::new(".") {
        // Show `.github/workflows/ci.yml`, not `./.github/workflows/ci.yml`.
        for p in out.iter_mut().map(|(p, _)| p).chain(actions.iter_mut()) {
            if let Ok(stripped) = p.strip_prefix(".") {
                *p = stripped.to_path_buf();
            }
        }
    }
    out.extend(actions.into_iter().map(|p| (p, FileKind::Action)));
    for name in ["dependabot.yml", "dependabot.yaml"] {
        let p = github.join(name);
        if p.is_file() {
            let p = if root == Path::new(".") {
                Path::new(".github").join(name)
            } else {
                p
            };
            out.push((p, FileKind::Dependabot));
            break;
        }
    }
    out
}

/// The composite actions' `action.yml` files under `root`: the repository walk
/// ([`harden_transforms::walk`], which honours `.gitignore`), passing over [`SKIPPED_DIRS`].
fn find_actions(root: &Path, out: &mut Vec<PathBuf>, unread: &mut Vec<(PathBuf, String)>) {
    let mut walk = harden_transforms::walk::repository(root, MAX_DEPTH + 1);
    walk.filter_entry(|entry| {
        entry.depth() == 0
            || !entry.file_type().is_some_and(|t| t.is_dir())
            || !SKIPPED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref())
    });
    for entry in walk.build() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // An unreadable folder may hold a composite action: say so, or `--check` would
                // pass without having looked.
                let path = harden_transforms::walk::error_path(&e).unwrap_or(root);
                let path = path.strip_prefix("./").unwrap_or(path).to_path_buf();
                unread.push((path, UNREAD_FOLDER.to_owned()));
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_some_and(|t| t.is_file())
            && (name == "action.yml" || name == "action.yaml")
        {
            out.push(entry.into_path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_paths() {
        assert_eq!(
            kind_of(Path::new(".github/workflows/ci.yml")),
            Some(FileKind::Workflow)
        );
        assert_eq!(
            kind_of(Path::new("a/.github/workflows/ci.yaml")),
            Some(FileKind::Workflow)
        );
        assert_eq!(kind_of(Path::new("x/action.yml")), Some(FileKind::Action));
        assert_eq!(
            kind_of(Path::new(".github/dependabot.yml")),
            Some(FileKind::Dependabot)
        );
        assert_eq!(kind_of(Path::new("ci.yml")), None);
        assert_eq!(kind_of(Path::new(".github/workflows/README.md")), None);
    }

    #[test]
    fn root_of_a_workflow_is_above_dot_github() {
        assert_eq!(
            relative_root(Path::new(".github/workflows/ci.yml")),
            PathBuf::from(".")
        );
        assert_eq!(
            relative_root(Path::new("r/.github/workflows/ci.yml")),
            PathBuf::from("r")
        );
    }
}
