//! Is a manifest real? Per ecosystem, what makes a file one that Dependabot has something to
//! update in, and which ecosystem a folder with several lock files uses.
//!
//! Each check reads the file (at most [`MAX_READ`] bytes) and parses it with the format's own
//! parser where there is one (`toml`, `serde_json`, `json5`, yaml-rust2 within harden-yaml's
//! limits); a file that does not parse is not a manifest.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path as FsPath, PathBuf};

use harden_github::safe_read::ReadRefusal;

use yaml_rust2::Yaml;

/// Files larger than this are not read.
pub(crate) const MAX_READ: u64 = 1 << 20;

/// Reads a small text file through the one door ([`harden_github::safe_read`]), inside its
/// own folder (manifests come from a walk that does not follow links); `None` when it is
/// missing, refused (a link, a FIFO, a device), too large or not UTF-8.
pub(crate) fn read_small(path: &FsPath) -> Option<String> {
    read_checked(path).ok()
}

/// [`read_small`] with the one door's reason when the file is not read.
pub(crate) fn read_checked(path: &FsPath) -> Result<String, ReadRefusal> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let folder = folder.unwrap_or(FsPath::new("."));
    harden_github::safe_read::read_text(folder, path, MAX_READ)
}

/// What the files of one folder say.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FolderVerdict {
    /// Ecosystems with a real manifest in this folder.
    pub(crate) ecosystems: BTreeSet<&'static str>,
    /// Ecosystems for which this folder is a workspace root that covers the folders below.
    pub(crate) roots: BTreeSet<&'static str>,
    /// Ecosystem families (`pip`, `npm`) with a lock file of their own in this folder: such a
    /// folder is a project of its own, not a member of a workspace above it.
    pub(crate) locks: BTreeSet<&'static str>,
    /// `devcontainers` is configured for `/`, wherever the configuration is.
    pub(crate) devcontainer: bool,
    /// Things to tell the user about this folder (without the folder's name).
    pub(crate) notes: Vec<String>,
}

/// The files of one folder, by name.
pub(crate) struct Folder<'a> {
    /// The folder on disk.
    pub(crate) dir: &'a FsPath,
    /// The names of its regular files.
    pub(crate) names: &'a BTreeSet<String>,
    /// The folder's own name.
    pub(crate) own_name: &'a str,
    /// Files found here that the one door refused (too large, not UTF-8, swapped for a link
    /// or a FIFO after the walk): path and why, for one located error each.
    pub(crate) refused: &'a RefCell<Vec<(PathBuf, String)>>,
}

impl Folder<'_> {
    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    fn read(&self, name: &str) -> Option<String> {
        if !self.has(name) {
            return None;
        }
        let path = self.dir.join(name);
        match read_checked(&path) {
            Ok(text) => Some(text),
            Err(why) if why.is_missing() => None,
            Err(why) => {
                let mut refused = self.refused.borrow_mut();
                if !refused.iter().any(|(p, _)| *p == path) {
                    refused.push((path, why.to_string()));
                }
                None
            }
        }
    }

    fn any(&self, pred: impl Fn(&str) -> bool) -> Vec<&str> {
        self.names
            .iter()
            .map(String::as_str)
            .filter(|n| pred(n))
            .collect()
    }
}

/// Looks at one folder's files.
pub(crate) fn inspect(folder: &Folder<'_>) -> FolderVerdict {
    let mut v = FolderVerdict::default();
    if ["uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock"]
        .iter()
        .any(|l| folder.has(l))
    {
        v.locks.insert("pip");
    }
    if NPM_LOCKS
        .iter()
        .chain(&["bun.lock", "bun.lockb"])
        .any(|l| folder.has(l))
    {
        v.locks.insert("npm");
    }
    python(folder, &mut v);
    javascript(folder, &mut v);
    others(folder, &mut v);
    containers(folder, &mut v);
    v
}

/// The two ecosystems that share manifests: an entry of one covers the other's folders.
pub(crate) fn family(ecosystem: &str) -> &str {
    match ecosystem {
        "uv" => "pip",
        "bun" => "npm",
        other => other,
    }
}

// ---------------------------------------------------------------- Python

fn toml_table(text: &str) -> Option<toml::Table> {
    text.parse::<toml::Table>().ok()
}

fn non_empty(value: Option<&toml::Value>) -> bool {
    match value {
        Some(toml::Value::Array(a)) => !a.is_empty(),
        Some(toml::Value::Table(t)) => !t.is_empty(),
        _ => false,
    }
}

fn get<'t>(table: &'t toml::Table, path: &[&str]) -> Option<&'t toml::Value> {
    let (first, rest) = path.split_first()?;
    let mut value = table.get(*first)?;
    for key in rest {
        value = value.as_table()?.get(*key)?;
    }
    Some(value)
}

/// A `pyproject.toml` with dependencies: PEP 621 `[project]` dependencies or optional
/// dependencies, a `[build-system] requires` with a pin or an upper bound (see
/// [`super::updatable`]), PEP 735 `[dependency-groups]`, or Poetry, PDM or uv
/// dependency tables (a uv workspace root counts too).
pub(crate) fn pyproject_is_manifest(table: &toml::Table) -> bool {
    let poetry_deps = get(table, &["tool", "poetry", "dependencies"])
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.keys().any(|k| k != "python"));
    let poetry_groups = get(table, &["tool", "poetry", "group"])
        .and_then(toml::Value::as_table)
        .is_some_and(|groups| {
            groups
                .values()
                .any(|g| non_empty(g.as_table().and_then(|g| g.get("dependencies"))))
        });
    let optional = get(table, &["project", "optional-dependencies"])
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.values().any(|v| non_empty(Some(v))));
    non_empty(get(table, &["project", "dependencies"]))
        || optional
        || super::updatable::build_requires_updatable(get(table, &["build-system", "requires"]))
        || non_empty(get(table, &["dependency-groups"]))
        || poetry_deps
        || poetry_groups
        || non_empty(get(table, &["tool", "poetry", "dev-dependencies"]))
        || non_empty(get(table, &["tool", "pdm", "dev-dependencies"]))
        || non_empty(get(table, &["tool", "uv", "dev-dependencies"]))
        || get(table, &["tool", "uv", "workspace"]).is_some()
}

/// A `setup.py` that is a packaging script: it uses setuptools (or distutils, scikit-build)
/// and calls `setup(`. A module that only defines a `setup` function is not one.
pub(crate) fn setup_py_is_manifest(text: &str) -> bool {
    let uses_setuptools = ["setuptools", "distutils", "skbuild"]
        .iter()
        .any(|m| text.contains(&format!("import {m}")) || text.contains(&format!("from {m}")));
    let calls_setup = text.match_indices("setup(").any(|(at, _)| {
        let before = &text[..at];
        let previous = before.chars().next_back();
        let is_def = before.trim_end_matches([' ', '\t']).ends_with("def");
        !is_def && !previous.is_some_and(|c| c.is_alphanumeric() || c == '_')
    });
    uses_setuptools && calls_setup
}

/// A requirements file with at least one requirement other than a bare name, or an included
/// file (`-r`, `-c`).
pub(crate) fn requirements_is_manifest(text: &str) -> bool {
    text.lines().map(str::trim).any(|line| {
        if line.is_empty() || line.starts_with('#') {
            return false;
        }
        if line.starts_with('-') {
            return ["-r", "-c", "--requirement", "--constraint"]
                .iter()
                .any(|o| line.starts_with(o));
        }
        super::updatable::requirement_line_updatable(line)
    })
}

fn is_requirements_name(name: &str) -> bool {
    name.starts_with("requirements") && name.to_ascii_lowercase().ends_with(".txt")
}

fn python(folder: &Folder<'_>, v: &mut FolderVerdict) {
    let pyproject = folder.read("pyproject.toml").and_then(|t| toml_table(&t));
    let pyproject_real = pyproject.as_ref().is_some_and(pyproject_is_manifest);
    let setup_real = folder
        .read("setup.py")
        .is_some_and(|t| setup_py_is_manifest(&t));
    let requirements_real = folder
        .any(is_requirements_name)
        .into_iter()
        .any(|n| folder.read(n).is_some_and(|t| requirements_is_manifest(&t)));
    let pipfile_real = folder
        .read("Pipfile")
        .and_then(|t| toml_table(&t))
        .is_some_and(|t| non_empty(t.get("packages")) || non_empty(t.get("dev-packages")));
    if pyproject
        .as_ref()
        .is_some_and(|t| get(t, &["tool", "uv", "workspace"]).is_some())
    {
        v.roots.insert("pip");
    }
    if !(pyproject_real || setup_real || requirements_real || pipfile_real) {
        return;
    }
    let tool = |name: &str| {
        pyproject
            .as_ref()
            .is_some_and(|t| get(t, &["tool", name]).is_some())
    };
    let uv_lock = folder.has("uv.lock") && pyproject_real;
    let poetry_lock = folder.has("poetry.lock");
    let eco = match (uv_lock, poetry_lock) {
        (true, true) => {
            let (eco, why) = match (tool("uv"), tool("poetry")) {
                (false, true) => ("pip", "pyproject.toml configures Poetry"),
                (true, false) => ("uv", "pyproject.toml configures uv"),
                _ => ("uv", "neither tool is configured alone in pyproject.toml"),
            };
            v.notes.push(format!(
                "both uv.lock and poetry.lock are here; `{eco}` is configured because {why}. \
                 Delete the lock file the project no longer uses"
            ));
            eco
        }
        (true, false) => "uv",
        _ => "pip",
    };
    v.ecosystems.insert(eco);
}

// ---------------------------------------------------------------- JavaScript

const NPM_LOCKS: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
];

/// A `package.json` with dependencies (or a workspace root).
pub(crate) fn package_json_is_manifest(json: &serde_json::Value) -> bool {
    let deps = ["dependencies", "devDependencies", "optionalDependencies"]
        .iter()
        .any(|k| json[*k].as_object().is_some_and(|o| !o.is_empty()));
    deps || json.get("workspaces").is_some()
}

fn javascript(folder: &Folder<'_>, v: &mut FolderVerdict) {
    let Some(json) = folder
        .read("package.json")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        return;
    };
    if json.get("workspaces").is_some() || folder.has("pnpm-workspace.yaml") {
        v.roots.insert("npm");
    }
    if !package_json_is_manifest(&json) {
        return;
    }
    let manager = json["packageManager"]
        .as_str()
        .and_then(|m| m.split('@').next())
        .unwrap_or_default();
    let npm_locks: Vec<&str> = NPM_LOCKS
        .iter()
        .copied()
        .filter(|l| folder.has(l))
        .collect();
    let bun_lock = folder.has("bun.lock");
    let bun_lockb = folder.has("bun.lockb");
    let eco = if manager == "bun" || (manager.is_empty() && npm_locks.is_empty()) {
        if bun_lock {
            Some("bun")
        } else if bun_lockb {
            v.notes.push(
                "the project uses Bun with the binary bun.lockb, which Dependabot cannot update \
                 (it reads only the text bun.lock of Bun 1.1.39 and later); nothing is configured \
                 here. Run `bun install --save-text-lockfile`, commit bun.lock, and run harden again"
                    .to_owned(),
            );
            None
        } else {
            Some("npm")
        }
    } else {
        if manager.is_empty() && bun_lock {
            v.notes.push(format!(
                "both bun.lock and {} are here; `npm` is configured. Set `packageManager` in \
                 package.json or delete the lock file the project no longer uses",
                npm_locks.join(", ")
            ));
        }
        Some("npm")
    };
    v.ecosystems.extend(eco);
}

// ---------------------------------------------------------------- everything else

fn yaml(text: &str) -> Option<Yaml> {
    // Within harden-yaml's limits: an alias bomb in a compose file is not a manifest.
    harden_yaml::guard::load_within_limits(text)
        .ok()?
        .into_iter()
        .next()
}

fn yaml_non_empty(node: &Yaml) -> bool {
    match node {
        Yaml::Array(a) => !a.is_empty(),
        Yaml::Hash(h) => !h.is_empty(),
        _ => false,
    }
}

fn has_key_deep(node: &Yaml, key: &str, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    match node {
        Yaml::Hash(h) => h.iter().any(|(k, v)| {
            k.as_str() == Some(key) && !matches!(v, Yaml::Null | Yaml::BadValue)
                || has_key_deep(v, key, depth + 1)
        }),
        Yaml::Array(a) => a.iter().any(|i| has_key_deep(i, key, depth + 1)),
        _ => false,
    }
}

/// A Dockerfile with a `FROM` image Dependabot can update (not `scratch`, not a build stage,
/// nothing taken from an `ARG`).
pub(crate) fn dockerfile_is_manifest(text: &str) -> bool {
    text.lines().any(|line| {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            return false;
        }
        words
            .find(|w| !w.starts_with("--"))
            .is_some_and(|image| super::updatable::from_image_updatable(image, text))
    })
}

/// The names pin-images reads: Dependabot's `docker` ecosystem reads Dockerfiles and
/// Containerfiles alike (its file fetcher matches `dockerfile|containerfile`, any case).
fn is_dockerfile(name: &str) -> bool {
    crate::pin_images::dockerfiles::is_dockerfile_name(name)
}

fn is_compose_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.starts_with("docker-compose") || lower.starts_with("compose"))
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
}

/// A Compose file with at least one service `image`.
pub(crate) fn compose_is_manifest(text: &str) -> bool {
    yaml(text)
        .and_then(|d| d["services"].as_hash().cloned())
        .is_some_and(|services| {
            services
                .values()
                .any(|s| s["image"].as_str().is_some_and(|i| !i.starts_with('$')))
        })
}

fn containers(folder: &Folder<'_>, v: &mut FolderVerdict) {
    if folder
        .any(is_dockerfile)
        .into_iter()
        .any(|n| folder.read(n).is_some_and(|t| dockerfile_is_manifest(&t)))
    {
        v.ecosystems.insert("docker");
    }
    if folder
        .any(is_compose_file)
        .into_iter()
        .any(|n| folder.read(n).is_some_and(|t| compose_is_manifest(&t)))
    {
        v.ecosystems.insert("docker-compose");
    }
    // Dev containers: `.devcontainer.json`, `.devcontainer/devcontainer.json` and
    // `.devcontainer/<name>/devcontainer.json`, with at least one Feature.
    let devcontainer_file = if folder.own_name == ".devcontainer"
        || folder
            .dir
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == ".devcontainer")
    {
        "devcontainer.json"
    } else {
        ".devcontainer.json"
    };
    if folder.read(devcontainer_file).is_some_and(|t| {
        json5::from_str::<serde_json::Value>(&t)
            .ok()
            .is_some_and(|j| j["features"].as_object().is_some_and(|f| !f.is_empty()))
    }) {
        v.devcontainer = true;
    }
    if let Some(chart) = folder.read("Chart.yaml").and_then(|t| yaml(&t)) {
        v.roots.insert("helm");
        let images = folder
            .read("values.yaml")
            .and_then(|t| yaml(&t))
            .is_some_and(|values| has_key_deep(&values, "image", 0));
        if yaml_non_empty(&chart["dependencies"]) || images {
            v.ecosystems.insert("helm");
        }
    }
}

/// A `.pre-commit-config.yaml` with at least one hook repository (not `local` or `meta`).
pub(crate) fn pre_commit_is_manifest(text: &str) -> bool {
    yaml(text)
        .and_then(|d| d["repos"].as_vec().cloned())
        .is_some_and(|repos| {
            repos.iter().any(|r| {
                r["repo"]
                    .as_str()
                    .is_some_and(|u| u != "local" && u != "meta")
            })
        })
}

/// True when a pre-commit configuration is kept current by pre-commit.ci (a `ci:` section).
fn pre_commit_by_ci(text: Option<&str>) -> bool {
    text.and_then(yaml)
        .is_some_and(|d| super::updatable::pre_commit_ci(&d))
}

fn text_has(folder: &Folder<'_>, name: &str, needles: &[&str]) -> bool {
    folder
        .read(name)
        .is_some_and(|t| needles.iter().any(|n| t.contains(n)))
}

fn lines_start(folder: &Folder<'_>, name: &str, starts: &[&str]) -> bool {
    folder.read(name).is_some_and(|t| {
        t.lines()
            .map(str::trim_start)
            .any(|l| starts.iter().any(|s| l.starts_with(s)))
    })
}

fn cargo(folder: &Folder<'_>, v: &mut FolderVerdict) {
    let Some(table) = folder.read("Cargo.toml").and_then(|t| toml_table(&t)) else {
        return;
    };
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    let own = kinds.iter().any(|k| non_empty(table.get(*k)));
    let per_target = table
        .get("target")
        .and_then(toml::Value::as_table)
        .is_some_and(|targets| {
            targets.values().any(|t| {
                kinds
                    .iter()
                    .any(|k| non_empty(t.as_table().and_then(|t| t.get(*k))))
            })
        });
    if table.contains_key("workspace") {
        v.roots.insert("cargo");
    }
    if own || per_target || table.contains_key("workspace") {
        v.ecosystems.insert("cargo");
    }
}

fn others(folder: &Folder<'_>, v: &mut FolderVerdict) {
    cargo(folder, v);
    let mut add = |eco: &'static str, real: bool| {
        if real {
            v.ecosystems.insert(eco);
        }
    };
    add("gomod", lines_start(folder, "go.mod", &["require"]));
    add(
        "bundler",
        lines_start(folder, "Gemfile", &["gem ", "gem(", "gemspec"]),
    );
    add(
        "maven",
        text_has(
            folder,
            "pom.xml",
            &["<dependency>", "<plugin>", "<parent>", "<modules>"],
        ),
    );
    let gradle = ["build.gradle", "build.gradle.kts"]
        .iter()
        .any(|n| text_has(folder, n, &["dependencies", "plugins"]));
    add("gradle", gradle);
    let composer = folder
        .read("composer.json")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|j| {
            ["require", "require-dev"].iter().any(|k| {
                j[*k].as_object().is_some_and(|o| {
                    o.keys()
                        .any(|p| p != "php" && !p.starts_with("ext-") && !p.starts_with("lib-"))
                })
            })
        });
    add("composer", composer);
    let lower_ends = |n: &str, exts: &[&str]| {
        let l = n.to_ascii_lowercase();
        exts.iter().any(|e| l.ends_with(e))
    };
    let solution = !folder.any(|n| lower_ends(n, &[".sln"])).is_empty();
    let nuget = solution
        || folder
            .any(|n| lower_ends(n, &[".csproj", ".fsproj", ".vbproj"]))
            .into_iter()
            .any(|n| text_has(folder, n, &["<PackageReference"]))
        || text_has(folder, "packages.config", &["<package "])
        || text_has(folder, "Directory.Packages.props", &["<PackageVersion"]);
    add("nuget", nuget);
    add("mix", text_has(folder, "mix.exs", &["deps"]));
    let pubspec = folder
        .read("pubspec.yaml")
        .and_then(|t| yaml(&t))
        .is_some_and(|d| {
            yaml_non_empty(&d["dependencies"]) || yaml_non_empty(&d["dev_dependencies"])
        });
    add("pub", pubspec);
    add("swift", text_has(folder, "Package.swift", &[".package("]));
    let terraform = folder
        .any(|n| lower_ends(n, &[".tf"]))
        .into_iter()
        .any(|n| text_has(folder, n, &["required_providers", "source"]));
    add("terraform", terraform);
    let pre_commit = folder
        .read(".pre-commit-config.yaml")
        .filter(|t| pre_commit_is_manifest(t));
    if pre_commit_by_ci(pre_commit.as_deref()) {
        v.notes.push(
            "`.pre-commit-config.yaml` has a `ci:` section: pre-commit.ci already proposes new \
             hook versions, so no `pre-commit` entry is added (every update would come twice)"
                .to_owned(),
        );
    } else {
        add("pre-commit", pre_commit.is_some());
    }
    add(
        "gitsubmodule",
        text_has(folder, ".gitmodules", &["[submodule"]),
    );
    if solution {
        v.roots.insert("nuget");
    }
    if text_has(folder, "pom.xml", &["<modules>"]) {
        v.roots.insert("maven");
    }
    if folder.has("settings.gradle") || folder.has("settings.gradle.kts") {
        v.roots.insert("gradle");
    }
    if text_has(folder, "mix.exs", &["apps_path"]) {
        v.roots.insert("mix");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyproject_tables() {
        let real = [
            "[project]\nname='a'\ndependencies = ['requests']\n",
            "[project.optional-dependencies]\ntest = ['pytest']\n",
            "[build-system]\nrequires = ['setuptools<70']\n",
            "[dependency-groups]\ndev = ['ruff']\n",
            "[tool.poetry.dependencies]\npython = '^3.9'\nrequests = '*'\n",
            "[tool.poetry.group.dev.dependencies]\npytest = '*'\n",
            "[tool.pdm.dev-dependencies]\ntest = ['pytest']\n",
            "[tool.uv]\ndev-dependencies = ['pytest']\n",
            "[tool.uv.workspace]\nmembers = ['packages/*']\n",
        ];
        for text in real {
            let t = toml_table(text).expect(text);
            assert!(pyproject_is_manifest(&t), "{text}");
        }
        let config_only = [
            "[tool.black]\nline-length = 100\n",
            "[tool.isort]\nprofile = 'black'\n",
            "[project]\nname = 'a'\ndependencies = []\n",
            "[tool.poetry.dependencies]\npython = '^3.9'\n",
            "[build-system]\nrequires = []\n",
            "[build-system]\nrequires = ['setuptools>=61', 'wheel']\n",
        ];
        for text in config_only {
            let t = toml_table(text).expect(text);
            assert!(!pyproject_is_manifest(&t), "{text}");
        }
    }

    #[test]
    fn setup_py() {
        assert!(setup_py_is_manifest(
            "from setuptools import setup\nsetup(name='a')\n"
        ));
        assert!(setup_py_is_manifest(
            "import setuptools\nsetuptools.setup()\n"
        ));
        assert!(setup_py_is_manifest(
            "from distutils.core import setup\nsetup(name='a')\n"
        ));
        // A Sphinx extension or a test helper called setup.py.
        assert!(!setup_py_is_manifest(
            "def setup(app):\n    app.add_role('x')\n"
        ));
        assert!(!setup_py_is_manifest(
            "import setuptools\ndef setup(app):\n    pass\n"
        ));
        assert!(!setup_py_is_manifest("def run():\n    my_setup()\n"));
    }

    #[test]
    fn requirements() {
        assert!(requirements_is_manifest("# pins\nrequests==2.32.3\n"));
        assert!(requirements_is_manifest("-r base.txt\n"));
        assert!(!requirements_is_manifest("# nothing\n\n"));
        assert!(!requirements_is_manifest("-e .\n--index-url https://x\n"));
        assert!(!requirements_is_manifest("# tools\nsetuptools\n"));
    }

    #[test]
    fn containers_and_hooks() {
        assert!(dockerfile_is_manifest(
            "FROM --platform=$X debian:12 AS base\n"
        ));
        assert!(!dockerfile_is_manifest("FROM scratch\nCOPY a /\n"));
        assert!(!dockerfile_is_manifest("ARG BASE\nFROM $BASE\n"));
        assert!(!dockerfile_is_manifest(
            "ARG VARIANT=1.22\nFROM golang:${VARIANT}\n"
        ));
        // What pin-images wrote stays a `docker` manifest; Containerfiles are read too.
        assert!(dockerfile_is_manifest(&format!(
            "FROM node:20@sha256:{} AS web\n",
            "0".repeat(64)
        )));
        assert!(is_dockerfile("Containerfile") && is_dockerfile("api.Dockerfile"));
        assert!(compose_is_manifest(
            "services:\n  db:\n    image: postgres:16\n"
        ));
        assert!(!compose_is_manifest("services:\n  app:\n    build: .\n"));
        assert!(pre_commit_is_manifest(
            "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks: [{id: black}]\n"
        ));
        assert!(!pre_commit_is_manifest(
            "repos:\n  - repo: local\n    hooks: [{id: x, name: x, entry: x, language: system}]\n"
        ));
    }

    #[test]
    fn package_json() {
        let j = |t: &str| serde_json::from_str::<serde_json::Value>(t).expect(t);
        assert!(package_json_is_manifest(&j(
            r#"{"dependencies": {"a": "1"}}"#
        )));
        assert!(package_json_is_manifest(&j(r#"{"workspaces": ["p/*"]}"#)));
        assert!(!package_json_is_manifest(&j(
            r#"{"name": "x", "scripts": {}}"#
        )));
        assert!(!package_json_is_manifest(&j(r#"{"dependencies": {}}"#)));
    }
}
