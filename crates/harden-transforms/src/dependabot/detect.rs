//! Finding what Dependabot should update: a bounded walk of the repository's folders that
//! records, per package ecosystem, the folders holding its manifests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path as FsPath;

use yaml_rust2::YamlLoader;

/// Folders never searched: version control, vendored code, build output and test fixtures
/// (their manifests are not the project's own); not applied below `.github`, where these are
/// action names. Hidden folders are skipped too, except `.github`.
pub(crate) const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "vendor",
    "third_party",
    "build",
    "dist",
    "testdata",
    "fixtures",
    "__fixtures__",
];

/// How deep below the root folders are searched (`.github/actions/<name>` is depth 3).
pub(crate) const MAX_DEPTH: usize = 6;

/// How many folder entries are looked at before the walk stops.
const MAX_ENTRIES: usize = 200_000;

/// Files larger than this are not read (for composite-action and workspace checks).
const MAX_READ: u64 = 1 << 20;

/// The folder whose YAML files Dependabot reads for `github-actions` with `directory: /`.
pub(crate) const WORKFLOWS_DIR: &str = "/.github/workflows";

/// What the walk found.
#[derive(Debug, Default, Clone)]
pub(crate) struct Detection {
    /// Ecosystem name to the folders (normalised: `/`, `/web`) that hold its manifests.
    pub(crate) found: BTreeMap<&'static str, BTreeSet<String>>,
    /// The root holds an `action.yml`/`action.yaml`.
    pub(crate) root_action: bool,
    /// The walk stopped early at the entry limit.
    pub(crate) truncated: bool,
}

impl Detection {
    fn add(&mut self, ecosystem: &'static str, dir: &str) {
        self.found
            .entry(ecosystem)
            .or_default()
            .insert(dir.to_owned());
    }
}

/// The ecosystem whose manifest a file name is, if any.
pub(crate) fn manifest_ecosystem(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let eco = match name {
        "Cargo.toml" => "cargo",
        "package.json" => "npm",
        "pyproject.toml" | "setup.py" => "pip",
        "go.mod" => "gomod",
        "Gemfile" => "bundler",
        "pom.xml" => "maven",
        "build.gradle" | "build.gradle.kts" => "gradle",
        "composer.json" => "composer",
        "mix.exs" => "mix",
        "pubspec.yaml" => "pub",
        "Package.swift" => "swift",
        ".gitmodules" => "gitsubmodule",
        _ if name.starts_with("requirements") && lower.ends_with(".txt") => "pip",
        _ if name == "Dockerfile"
            || name.starts_with("Dockerfile.")
            || lower.ends_with(".dockerfile") =>
        {
            "docker"
        }
        _ if [".csproj", ".fsproj", ".vbproj", ".sln"]
            .iter()
            .any(|e| lower.ends_with(e)) =>
        {
            "nuget"
        }
        _ if lower.ends_with(".tf") => "terraform",
        _ => return None,
    };
    Some(eco)
}

/// Reads a small text file; `None` when it is missing, too large or not UTF-8.
fn read_small(path: &FsPath) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_READ {
        return None;
    }
    fs::read_to_string(path).ok()
}

/// True when the `action.yml` at `path` is a composite action (`runs.using: composite`): only
/// those hold `uses:` steps that Dependabot can update.
fn is_composite_action(path: &FsPath) -> bool {
    let Some(text) = read_small(path) else {
        return false;
    };
    let Ok(docs) = YamlLoader::load_from_str(&text) else {
        return false;
    };
    docs.first()
        .and_then(|d| d["runs"]["using"].as_str())
        .is_some_and(|u| u.trim().eq_ignore_ascii_case("composite"))
}

/// Ecosystems for which a folder is a workspace root that already covers the manifests in the
/// folders below it (Dependabot updates workspace members from the root).
fn workspace_roots(dir: &FsPath, files: &[String]) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    let has = |name: &str| files.iter().any(|f| f == name);
    let contains = |name: &str, needle: &str| {
        has(name) && read_small(&dir.join(name)).is_some_and(|t| t.contains(needle))
    };
    if has("Cargo.toml")
        && read_small(&dir.join("Cargo.toml"))
            .is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with("[workspace")))
    {
        out.insert("cargo");
    }
    if contains("package.json", "\"workspaces\"") || has("pnpm-workspace.yaml") {
        out.insert("npm");
    }
    if contains("pom.xml", "<modules>") {
        out.insert("maven");
    }
    if has("settings.gradle") || has("settings.gradle.kts") {
        out.insert("gradle");
    }
    if files
        .iter()
        .any(|f| f.to_ascii_lowercase().ends_with(".sln"))
    {
        out.insert("nuget");
    }
    if contains("mix.exs", "apps_path") {
        out.insert("mix");
    }
    out
}

struct Walker {
    detection: Detection,
    entries: usize,
    has_workflows: bool,
}

impl Walker {
    fn walk(&mut self, dir: &FsPath, rel: &str, depth: usize, covered: &BTreeSet<&'static str>) {
        let Ok(read) = fs::read_dir(dir) else { return };
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in read.flatten() {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                self.detection.truncated = true;
                return;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Symbolic links are not followed: they may leave the repository or loop.
            if kind.is_dir() {
                dirs.push(name);
            } else if kind.is_file() {
                files.push(name);
            }
        }
        files.sort();
        dirs.sort();
        for name in &files {
            if let Some(eco) = manifest_ecosystem(name) {
                if !covered.contains(eco) {
                    self.detection.add(eco, rel);
                }
            }
            let lower = name.to_ascii_lowercase();
            if rel == WORKFLOWS_DIR && (lower.ends_with(".yml") || lower.ends_with(".yaml")) {
                self.has_workflows = true;
            }
            if name == "action.yml" || name == "action.yaml" {
                if rel == "/" {
                    self.detection.root_action = true;
                } else if rel != WORKFLOWS_DIR && is_composite_action(&dir.join(name)) {
                    // `/` already reads `.github/workflows`; listing it again would overlap.
                    self.detection.add("github-actions", rel);
                }
            }
        }
        if depth >= MAX_DEPTH {
            return;
        }
        let mut below = covered.clone();
        below.extend(workspace_roots(dir, &files));
        for name in dirs {
            // Nothing under `.github` is vendored or built: an action may well be called `build`.
            let in_github = rel == "/.github" || rel.starts_with("/.github/");
            if (SKIPPED_DIRS.contains(&name.as_str()) && !in_github)
                || (name.starts_with('.') && name != ".github")
            {
                continue;
            }
            let child_rel = if rel == "/" {
                format!("/{name}")
            } else {
                format!("{rel}/{name}")
            };
            self.walk(&dir.join(&name), &child_rel, depth + 1, &below);
            if self.detection.truncated {
                return;
            }
        }
    }
}

/// Walks the repository at `root` for manifests. `github-actions` covers `/` when there are
/// workflows (or a root `action.yml`), plus every folder holding a composite action.
pub(crate) fn scan(root: &FsPath) -> Result<Detection, std::io::Error> {
    fs::read_dir(root)?;
    let mut walker = Walker {
        detection: Detection::default(),
        entries: 0,
        has_workflows: false,
    };
    walker.walk(root, "/", 0, &BTreeSet::new());
    let mut detection = walker.detection;
    if walker.has_workflows || detection.root_action {
        detection.add("github-actions", "/");
    }
    Ok(detection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names() {
        let cases = [
            ("Cargo.toml", Some("cargo")),
            ("package.json", Some("npm")),
            ("requirements.txt", Some("pip")),
            ("requirements-dev.txt", Some("pip")),
            ("requirements.in", None),
            ("pyproject.toml", Some("pip")),
            ("setup.py", Some("pip")),
            ("go.mod", Some("gomod")),
            ("go.sum", None),
            ("Dockerfile", Some("docker")),
            ("Dockerfile.alpine", Some("docker")),
            ("web.Dockerfile", Some("docker")),
            ("Gemfile", Some("bundler")),
            ("pom.xml", Some("maven")),
            ("build.gradle", Some("gradle")),
            ("build.gradle.kts", Some("gradle")),
            ("composer.json", Some("composer")),
            ("App.csproj", Some("nuget")),
            ("App.sln", Some("nuget")),
            ("mix.exs", Some("mix")),
            ("pubspec.yaml", Some("pub")),
            ("Package.swift", Some("swift")),
            (".gitmodules", Some("gitsubmodule")),
            ("main.tf", Some("terraform")),
            ("README.md", None),
        ];
        for (name, eco) in cases {
            assert_eq!(manifest_ecosystem(name), eco, "{name}");
        }
    }
}
