//! harden's own GitHub files are hardened by harden: the workflows (CI, release, sweep), the
//! action (`action.yml`) and Dependabot's configuration pass `harden --check --offline` with the
//! recorded refs, actionlint and the GitHub Actions metadata schema; the pre-commit hook template
//! depends on the wheel of the crate's version; `packaging/release.py` turns a wheel into a plain
//! archive and pins hashes (docs/install.md).
//!
//! actionlint, check-jsonschema and Python come from `.ci/venv` (`HARDEN_ACTIONLINT`,
//! `HARDEN_CHECK_JSONSCHEMA`, `HARDEN_PYYAML_PYTHON`); a test whose tool is missing prints one
//! `skipped:` line, except in CI (`CI` set), where it fails.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tool(var: &str, name: &str) -> Option<PathBuf> {
    let found = harden_testserver::ci_tool(var, name);
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "CI must set {var} (see .ci/run)"
    );
    found
}

/// `.github/workflows/*.yml`, sorted, relative to the repository root.
fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .expect("workflows folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .map(|p| p.strip_prefix(repo()).expect("inside").to_path_buf())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "ci, release, sweep: {files:?}");
    files
}

fn run(cmd: &mut Command) -> Output {
    cmd.current_dir(repo()).output().expect("command runs")
}

#[test]
fn own_workflows_and_action_pass_harden_check_offline() {
    let cache = tempfile::tempdir().expect("cache");
    let mut files = workflows();
    files.push("action.yml".into());
    files.push(".github/dependabot.yml".into());
    let out = run(Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["--check", "--offline", "--recorded", "testdata/recorded"])
        .args(&files)
        .env("HARDEN_CACHE_DIR", cache.path())
        .env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env_remove("HARDEN_RECORDED")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "harden --check on {files:?}:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn own_workflows_pass_actionlint_and_action_yml_the_schema() {
    let (Some(actionlint), Some(schema)) = (
        tool("HARDEN_ACTIONLINT", "actionlint"),
        tool("HARDEN_CHECK_JSONSCHEMA", "check-jsonschema"),
    ) else {
        harden_testserver::skipped(
            "the own-workflow lints: actionlint or check-jsonschema not found (set HARDEN_ACTIONLINT and HARDEN_CHECK_JSONSCHEMA, or install them into .ci/venv: see the README)",
        );
        return;
    };
    let mut files = workflows();
    files.push("docs/examples/harden.yml".into());
    files.push("docs/examples/sweep.yml".into());
    let out = run(Command::new(actionlint).args(&files));
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out =
        run(Command::new(schema).args(["--builtin-schema", "vendor.github-actions", "action.yml"]));
    assert!(
        out.status.success(),
        "check-jsonschema action.yml:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn pre_commit_hook_template_depends_on_the_crate_version() {
    let pyproject =
        std::fs::read_to_string(repo().join("packaging/pre-commit-hook/pyproject.toml"))
            .expect("template");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        pyproject.contains(&format!("\"harden-rs=={version}\"")),
        "packaging/pre-commit-hook/pyproject.toml must depend on harden-rs=={version}:\n{pyproject}"
    );
    assert!(
        pyproject.contains(&format!("version = \"{version}\"")),
        "{pyproject}"
    );
    let hooks =
        std::fs::read_to_string(repo().join("packaging/pre-commit-hook/.pre-commit-hooks.yaml"))
            .expect("hooks");
    assert_eq!(hooks.matches("language: python").count(), 2, "{hooks}");
}

/// A wheel as maturin writes it for `bindings = "bin"` (the binary under `.data/scripts/`),
/// made with Python's zipfile; `release.py binary` archives the binary, `requirements` pins the
/// wheel's SHA-256, `version` prints the crate's version.
#[test]
fn release_helper_archives_the_binary_and_pins_hashes() {
    let Some(python) = tool("HARDEN_PYYAML_PYTHON", "python") else {
        harden_testserver::skipped(
            "packaging/release.py: python not found (set HARDEN_PYYAML_PYTHON, or create .ci/venv: see the README)",
        );
        return;
    };
    let work = tempfile::tempdir().expect("tmp");
    let dist = work.path().join("dist");
    std::fs::create_dir(&dist).expect("mkdir");
    let version = env!("CARGO_PKG_VERSION");
    let wheel = dist.join(format!(
        "harden_rs-{version}-py3-none-manylinux_2_17_x86_64.whl"
    ));
    let make = format!(
        "import zipfile; z = zipfile.ZipFile({:?}, 'w'); z.writestr('harden_rs-{version}.data/scripts/harden', b'binary'); z.close()",
        wheel.display().to_string()
    );
    let out = run(Command::new(&python).args(["-c", &make]));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let helper = repo().join("packaging/release.py");
    let out = run(Command::new(&python).arg(&helper).arg("version"));
    assert_eq!(text(&out.stdout).trim(), version, "{}", text(&out.stderr));

    let bins = work.path().join("bin");
    for target in [None, Some("x86_64-unknown-linux-gnu")] {
        let out = run(Command::new(&python)
            .arg(&helper)
            .arg("binary")
            .arg(&wheel)
            .arg(&bins)
            .args(target));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let platform = target.unwrap_or("manylinux_2_17_x86_64");
        let archive = bins.join(format!("harden-{version}-{platform}.tar.gz"));
        let list = run(Command::new(&python)
            .args(["-c", "import sys, tarfile; t = tarfile.open(sys.argv[1]); print([(m.name, m.mode, m.size) for m in t])"])
            .arg(&archive));
        assert_eq!(
            text(&list.stdout).trim(),
            "[('harden', 493, 6)]",
            "{}",
            text(&list.stderr)
        );
    }

    let requirements = work.path().join("requirements.txt");
    let out = run(Command::new(&python)
        .arg(&helper)
        .arg("requirements")
        .arg(&dist)
        .arg(&requirements));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pins = std::fs::read_to_string(&requirements).expect("requirements");
    assert!(
        pins.contains(&format!("harden-rs=={version} \\\n")),
        "{pins}"
    );
    assert_eq!(pins.matches("--hash=sha256:").count(), 1, "{pins}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

fn git_commit_all(dir: &Path) {
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "initial",
        ],
    ] {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    }
}

/// The prebuilt hook (packaging/pre-commit-hook, `language: python`) installed by the real
/// pre-commit from a wheel at hand, on a copy of `testdata/demo` hardened by harden: passes.
/// Needs a built wheel (`maturin build --release`, docs/install.md): `HARDEN_WHEELS` names the
/// folder; pip fetches setuptools from PyPI for the hook package. Without the variable the
/// test is skipped (also in CI, which builds no release wheel).
#[test]
fn prebuilt_hook_installs_from_the_wheel_and_passes_on_a_hardened_repository() {
    let wheels = std::env::var_os("HARDEN_WHEELS").map(PathBuf::from);
    let (Some(wheels), Some(pre_commit)) = (
        wheels,
        harden_testserver::ci_tool("HARDEN_PRE_COMMIT", "pre-commit"),
    ) else {
        harden_testserver::skipped(
            "the prebuilt pre-commit hook: set HARDEN_WHEELS to a folder with a harden-rs wheel (maturin build --release) and HARDEN_PRE_COMMIT",
        );
        return;
    };
    let work = tempfile::tempdir().expect("tmp");
    let hook = work.path().join("hook");
    copy_dir(&repo().join("packaging/pre-commit-hook"), &hook);
    git_commit_all(&hook);
    let demo = work.path().join("demo");
    copy_dir(&repo().join("testdata/demo"), &demo);
    let recorded = repo().join("testdata/recorded");
    let offline = |cmd: &mut Command| {
        cmd.env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .env("HARDEN_RECORDED", &recorded)
            .env("HARDEN_CACHE_DIR", work.path().join("cache"))
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .current_dir(&demo);
    };
    let mut apply = Command::new(env!("CARGO_BIN_EXE_harden"));
    offline(&mut apply);
    let out = apply.output().expect("harden runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    git_commit_all(&demo);

    let started = std::time::Instant::now();
    let mut try_repo = Command::new(pre_commit);
    try_repo.args(["try-repo", &hook.to_string_lossy(), "harden", "--all-files"]);
    offline(&mut try_repo);
    let out = try_repo
        .env("PRE_COMMIT_HOME", work.path().join("pre-commit"))
        .env("PIP_FIND_LINKS", &wheels)
        .env("NO_COLOR", "1")
        .output()
        .expect("pre-commit runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "try-repo:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("Passed"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!(
            "prebuilt hook installed and ran in {:.1} s\n",
            took.as_secs_f64()
        ),
    );
    assert!(took.as_secs() < 120, "{took:?}");
}
