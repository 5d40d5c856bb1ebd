//! Tests of the `dependabot` transform: fixture repositories under `testdata/dependabot/`,
//! the shared corpus, idempotence, and Dependabot's configuration schema.

mod common;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use harden_transforms::dependabot::{Dependabot, DependabotOptions, Schedule};
use harden_transforms::{FileKind, Outcome, Repository, Severity, SourceFile, Transform};
use yaml_rust2::{Yaml, YamlLoader};

/// Copies the folder `from` into `to`, recursively. A fixture's `dot-gitignore` becomes
/// `.gitignore` (a real `.gitignore` in `testdata/` would hide fixture files from git).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create folder");
    for entry in fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let name = entry.file_name();
        let target = if name == "dot-gitignore" {
            to.join(".gitignore")
        } else {
            to.join(name)
        };
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A repository rooted at `root`, as a run over the whole repository sees it: its workflows
/// and its Dependabot configuration files loaded.
fn load_repo(root: &Path) -> Repository {
    let mut files = Vec::new();
    if let Ok(entries) = fs::read_dir(root.join(".github").join("workflows")) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if let Ok(text) = fs::read_to_string(&path) {
                files.push(SourceFile::new(path, FileKind::Workflow, text));
            }
        }
    }
    for name in ["dependabot.yml", "dependabot.yaml"] {
        let path = root.join(".github").join(name);
        if let Ok(text) = fs::read_to_string(&path) {
            files.push(SourceFile::new(path, FileKind::Dependabot, text));
        }
    }
    Repository {
        root: root.to_owned(),
        files,
    }
}

/// A fixture case copied into a temporary folder.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(case: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(
            &common::testdata().join("dependabot").join(case),
            dir.path(),
        );
        Fixture { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn repo(&self) -> Repository {
        load_repo(self.root())
    }

    /// The outcome as a snapshot text, with the temporary folder shown as `<repo>`.
    fn render(&self, outcome: &Outcome) -> String {
        common::render_outcome(outcome).replace(&self.root().display().to_string(), "<repo>")
    }
}

fn run(repo: &Repository, options: &DependabotOptions) -> Outcome {
    Dependabot::new(options.clone()).run(repo)
}

/// Writes every change of `outcome` to disk.
fn apply(outcome: &Outcome) {
    for change in &outcome.changes {
        if let Some(parent) = change.path.parent() {
            fs::create_dir_all(parent).expect("create .github");
        }
        fs::write(&change.path, &change.after).expect("write change");
    }
}

/// The directories of an `updates` entry, normalised independently of the transform.
fn entry_dirs(entry: &Yaml) -> Vec<String> {
    let norm = |d: &str| {
        let segs: Vec<&str> = d
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        format!("/{}", segs.join("/"))
    };
    match (&entry["directory"], &entry["directories"]) {
        (Yaml::String(d), _) => vec![norm(d)],
        (_, Yaml::Array(items)) => items.iter().filter_map(Yaml::as_str).map(norm).collect(),
        _ => Vec::new(),
    }
}

/// Checks a written configuration: it parses with both YAML layers, is version 2, and has no
/// (ecosystem, directory, target branch) pair twice, which the schema cannot see.
fn check_written(text: &str, what: &str) {
    harden_yaml::Document::parse(text).unwrap_or_else(|e| panic!("{what}: does not parse: {e}"));
    let docs =
        YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{what}: does not load: {e}"));
    let root = &docs[0];
    assert_eq!(root["version"], Yaml::Integer(2), "{what}: version");
    let updates = root["updates"]
        .as_vec()
        .unwrap_or_else(|| panic!("{what}: no updates list"));
    let mut seen = HashSet::new();
    for entry in updates {
        let eco = entry["package-ecosystem"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let branch = entry["target-branch"].as_str().map(str::to_owned);
        for dir in entry_dirs(entry) {
            assert!(
                seen.insert((eco.clone(), dir.clone(), branch.clone())),
                "{what}: ({eco}, {dir}, {branch:?}) is configured twice"
            );
        }
    }
}

/// Runs `case`, checks what it writes and that a second run changes nothing, and returns the
/// snapshot text and the written texts.
fn run_case(case: &str, options: &DependabotOptions) -> (String, Vec<String>) {
    let fx = Fixture::new(case);
    let outcome = run(&fx.repo(), options);
    let rendered = fx.render(&outcome);
    let written: Vec<String> = outcome.changes.iter().map(|c| c.after.clone()).collect();
    for change in &outcome.changes {
        assert_eq!(change.kind, FileKind::Dependabot);
        check_written(&change.after, case);
        if let Some(before) = &change.before {
            // Every original byte is kept: the new text only adds...
            let diff = similar::TextDiff::from_chars(before.as_str(), change.after.as_str());
            let deleted = diff
                .iter_all_changes()
                .any(|c| c.tag() == similar::ChangeTag::Delete);
            let renamed =
                change.after.matches("directories").count() > before.matches("directories").count();
            assert!(!deleted || renamed, "{case}: bytes were removed");
            // ...except where a `directory:` line became a `directories:` list: then every
            // other original line is kept, in order.
            let mut after_lines = change.after.lines();
            for line in before.lines().filter(|_| deleted) {
                if line
                    .trim_start()
                    .trim_start_matches("- ")
                    .starts_with("directory:")
                {
                    continue;
                }
                assert!(
                    after_lines.any(|l| l == line),
                    "{case}: the line {line:?} was changed or removed"
                );
            }
        }
    }
    apply(&outcome);
    let again = run(&fx.repo(), options);
    assert!(
        again.changes.is_empty(),
        "{case}: a second run changes:\n{}",
        fx.render(&again)
    );
    assert!(
        !again.findings.iter().any(|f| f.severity == Severity::Error),
        "{case}: a second run fails:\n{}",
        fx.render(&again)
    );
    (rendered, written)
}

fn defaults() -> DependabotOptions {
    DependabotOptions::default()
}

/// Every case that writes a file, with its options, for the snapshot and schema tests.
fn writing_cases() -> Vec<(&'static str, &'static str, DependabotOptions)> {
    vec![
        ("create_all_ecosystems", "create-all-ecosystems", defaults()),
        (
            "create_actions_limited",
            "create-all-ecosystems",
            DependabotOptions {
                ecosystems: Some(vec!["github-actions".into()]),
                ..defaults()
            },
        ),
        ("create_actions_only", "create-actions-only", defaults()),
        (
            "create_daily_no_group_no_cooldown",
            "create-actions-only",
            DependabotOptions {
                schedule: Schedule::Daily,
                group: false,
                cooldown_days: 0,
                ..defaults()
            },
        ),
        (
            "create_monthly_ignore_major",
            "create-actions-only",
            DependabotOptions {
                schedule: Schedule::Monthly,
                cooldown_days: 14,
                ignore_major: true,
                ..defaults()
            },
        ),
        ("extend_block", "extend-block", defaults()),
        ("extend_flow", "extend-flow", defaults()),
        ("extend_directories", "extend-directories", defaults()),
        (
            "extend_ignore_major",
            "extend-block",
            DependabotOptions {
                ignore_major: true,
                ..defaults()
            },
        ),
        ("python_fixtures", "python-fixtures", defaults()),
        ("python_submodules", "python-fixtures", with_submodules()),
        ("uv_project", "uv-project", defaults()),
        ("house_style", "house-style", defaults()),
        ("existing_entries", "existing-entries", defaults()),
        (
            "existing_entries_cooldown_14",
            "existing-entries",
            DependabotOptions {
                cooldown_days: 14,
                ..defaults()
            },
        ),
    ]
}

fn with_submodules() -> DependabotOptions {
    DependabotOptions {
        ecosystems: Some(vec!["all".into(), "gitsubmodule".into()]),
        ..defaults()
    }
}

/// The (ecosystem, directories) pairs of a written file, in order.
fn entries_of(text: &str) -> Vec<(String, Vec<String>)> {
    let docs = YamlLoader::load_from_str(text).expect("loads");
    docs[0]["updates"]
        .as_vec()
        .expect("updates")
        .iter()
        .map(|e| {
            (
                e["package-ecosystem"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry_dirs(e),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    list.iter()
        .map(|(e, d)| ((*e).to_owned(), d.iter().map(|x| (*x).to_owned()).collect()))
        .collect()
}

#[test]
fn python_fixtures_config_files_and_vendored_code_are_left_out() {
    let (text, written) = run_case("python-fixtures", &defaults());
    // Left out: tests/data, tests/fixtures, examples, build, .tox, a vendored setup.py, a
    // git-ignored folder, a config-only pyproject.toml and a setup.py that is a Sphinx hook.
    assert_eq!(
        entries_of(&written[0]),
        pairs(&[
            ("github-actions", &["/"]),
            ("pip", &["/", "/tests"]),
            ("pre-commit", &["/"]),
        ])
    );
    assert!(text.contains("`gitsubmodule` is found but not configured"));
    insta::assert_snapshot!(text);
}

#[test]
fn submodules_only_when_asked() {
    let (_, written) = run_case("python-fixtures", &with_submodules());
    let names: Vec<String> = entries_of(&written[0])
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(
        names,
        ["github-actions", "gitsubmodule", "pip", "pre-commit"]
    );
    let only = DependabotOptions {
        ecosystems: Some(vec!["gitsubmodule".into()]),
        ..defaults()
    };
    let (_, written) = run_case("python-fixtures", &only);
    assert_eq!(entries_of(&written[0]), pairs(&[("gitsubmodule", &["/"])]));
}

#[test]
fn uv_bun_compose_devcontainers_helm() {
    let (text, written) = run_case("uv-project", &defaults());
    assert_eq!(
        entries_of(&written[0]),
        pairs(&[
            ("github-actions", &["/"]),
            ("bun", &["/web"]),
            ("devcontainers", &["/"]),
            ("docker-compose", &["/"]),
            ("helm", &["/deploy/chart"]),
            ("pip", &["/tools/migrate"]),
            ("uv", &["/"]),
        ])
    );
    assert!(text.contains("bun.lockb, which Dependabot cannot update"));
    assert!(text.contains("both uv.lock and poetry.lock"));
    insta::assert_snapshot!(text);
}

#[test]
fn a_pip_entry_over_a_uv_project_is_pointed_out() {
    let fx = Fixture::new("uv-project");
    fs::write(
        fx.root().join(".github/dependabot.yml"),
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule: {interval: weekly}\n    groups: {py: {patterns: ['*']}}\n    cooldown: {default-days: 7}\n",
    )
    .expect("write");
    let outcome = run(&fx.repo(), &defaults());
    let added = flat_pairs(&outcome.changes[0].after);
    assert!(!added.contains(&("uv".to_owned(), "/".to_owned())));
    let rendered = fx.render(&outcome);
    assert!(
        rendered.contains("the `pip` entry covers /, whose lock file is uv.lock"),
        "{rendered}"
    );
}

#[test]
fn existing_entries_get_cooldowns_and_action_folders() {
    let (text, written) = run_case("existing-entries", &defaults());
    let docs = YamlLoader::load_from_str(&written[0]).expect("loads");
    let updates = docs[0]["updates"].as_vec().expect("updates");
    // Nothing new: the composite action joins the github-actions entry; pre-commit.ci keeps
    // the hooks; the build-only pyproject, the bare requirement and the ARG-tagged Dockerfile
    // leave Dependabot nothing to update.
    assert_eq!(updates.len(), 3);
    let actions = &updates[0];
    assert_eq!(actions["directory"], Yaml::BadValue);
    assert_eq!(
        entry_dirs(actions),
        ["/".to_owned(), "/.github/actions/setup".to_owned()]
    );
    assert_eq!(actions["target-branch"].as_str(), Some("main"));
    assert_eq!(actions["cooldown"]["default-days"].as_i64(), Some(7));
    assert_eq!(updates[1]["cooldown"]["default-days"].as_i64(), Some(7));
    // The maintainers' 3 days stay, and are pointed out.
    assert_eq!(updates[2]["cooldown"]["default-days"].as_i64(), Some(3));
    assert!(text.contains("waits 3 day(s)"), "{text}");
    // The comment after `directory` stays on the key's line.
    assert!(
        written[0].contains(
            "    directories:  # workflows\n      - \"/\"\n      - \"/.github/actions/setup\"\n"
        ),
        "{}",
        written[0]
    );
    // The comment that introduces `labels` stays above it, after the new cooldown.
    assert!(
        written[0].contains(
            "    cooldown:\n      default-days: 7\n    # every pull request needs a label\n"
        ),
        "{}",
        written[0]
    );
    assert!(text.contains("pre-commit.ci already proposes new hook versions"));
    assert!(text.contains("remove the duplicate `pip` entry"));
    insta::assert_snapshot!(text);
}

#[test]
fn an_actions_entry_written_elsewhere_is_matched_not_joined() {
    let fx = Fixture::new("extend-block");
    fs::write(
        fx.root().join(".github/dependabot.yml"),
        "version: 2\nx-actions: &actions\n  package-ecosystem: github-actions\n  directory: /\n  target-branch: develop\n  schedule: {interval: weekly}\n  groups: {ci: {patterns: ['*']}}\nupdates:\n  - *actions\n",
    )
    .expect("write");
    let outcome = run(&fx.repo(), &defaults());
    let after = &outcome.changes[0].after;
    check_written(after, "alias");
    let docs = YamlLoader::load_from_str(after).expect("loads");
    let new = &docs[0]["updates"][1];
    assert_eq!(entry_dirs(new), ["/.github/actions/setup".to_owned()]);
    assert_eq!(new["target-branch"].as_str(), Some("develop"));
    assert!(new["groups"]["ci"].as_hash().is_some(), "{after}");
    assert!(new["groups"]["github-actions"].is_badvalue(), "{after}");
    let rendered = fx.render(&outcome);
    assert!(
        rendered.contains("harden cannot add one to an entry written elsewhere"),
        "{rendered}"
    );
    apply(&outcome);
    assert!(run(&fx.repo(), &defaults()).changes.is_empty());
}

#[test]
fn no_cooldown_leaves_existing_entries_alone() {
    let options = DependabotOptions {
        cooldown_days: 0,
        ..defaults()
    };
    let (_, written) = run_case("existing-entries", &options);
    assert!(!written[0].contains("default-days: 7"));
    assert!(written[0].contains("- \"/.github/actions/setup\""));
}

#[test]
fn renovate_beside_dependabot_overlaps_on_actions() {
    let fx = Fixture::new("renovate");
    fs::create_dir_all(fx.root().join(".github")).expect("mkdir");
    fs::write(
        fx.root().join(".github/dependabot.yml"),
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule: {interval: weekly}\n",
    )
    .expect("write");
    let outcome = run(&fx.repo(), &defaults());
    assert!(outcome.changes.is_empty());
    let rendered = fx.render(&outcome);
    assert!(
        rendered.contains("already overlap: both bots propose every action update"),
        "{rendered}"
    );
    // With Renovate's github-actions manager off, they do not overlap on actions.
    fs::write(
        fx.root().join("renovate.json5"),
        r#"{enabledManagers: ["npm"]}"#,
    )
    .expect("write");
    let rendered = fx.render(&run(&fx.repo(), &defaults()));
    assert!(!rendered.contains("already overlap"), "{rendered}");
    assert!(
        rendered.contains("is there too; harden adds nothing to it"),
        "{rendered}"
    );
}

#[test]
fn house_style_is_copied() {
    let (text, written) = run_case("house-style", &defaults());
    let docs = YamlLoader::load_from_str(&written[0]).expect("loads");
    let updates = docs[0]["updates"].as_vec().expect("updates");
    assert_eq!(updates.len(), 4);
    for new in &updates[2..] {
        let labels: Vec<&str> = new["labels"]
            .as_vec()
            .expect("labels")
            .iter()
            .filter_map(Yaml::as_str)
            .collect();
        assert_eq!(labels, ["dependencies", "ci: skip news"]);
        assert_eq!(new["schedule"]["interval"].as_str(), Some("daily"));
        assert_eq!(new["schedule"]["time"].as_str(), Some("06:00"));
        assert_eq!(new["schedule"]["timezone"].as_str(), Some("Europe/Berlin"));
        assert_eq!(new["commit-message"]["prefix"].as_str(), Some("deps"));
        assert_eq!(new["open-pull-requests-limit"].as_i64(), Some(3));
        assert_eq!(new["rebase-strategy"].as_str(), Some("disabled"));
        assert_eq!(new["assignees"][0].as_str(), Some("release-team"));
    }
    assert!(written[0].contains("  - package-ecosystem: \"docker\""));
    insta::assert_snapshot!(text);
}

#[test]
fn renovate_means_no_dependabot_file() {
    let fx = Fixture::new("renovate");
    let outcome = run(&fx.repo(), &defaults());
    assert!(outcome.changes.is_empty());
    let mut shown = format!("== renovate.json5\n{}", fx.render(&outcome));
    assert!(shown.contains("does not pin actions added later unless a preset"));
    // The same project with its configuration in .github/renovate.json (best practices), then
    // in package.json, then with the github-actions manager turned off.
    fs::remove_file(fx.root().join("renovate.json5")).expect("remove");
    let variants = [
        (
            ".github/renovate.json",
            r#"{"extends": ["config:best-practices"]}"#,
            "and pins actions added later (`extends` has `config:best-practices`)",
        ),
        (
            "package.json",
            r#"{"name": "app", "dependencies": {"express": "^4.21.0"}, "renovate": {"extends": ["helpers:pinGitHubActionDigests"]}}"#,
            "and pins actions added later (`extends` has `helpers:pinGitHubActionDigests`)",
        ),
        (
            "package.json",
            r#"{"name": "app", "renovate": {"enabledManagers": ["npm"]}, "dependencies": {"express": "^4.21.0"}}"#,
            "nothing will update the SHA pins",
        ),
    ];
    let mut previous: Option<&str> = None;
    for (file, text, want) in variants {
        if let Some(p) = previous.filter(|p| *p != file) {
            fs::remove_file(fx.root().join(p)).expect("remove");
        }
        fs::write(fx.root().join(file), text).expect("write");
        previous = Some(file);
        let outcome = run(&fx.repo(), &defaults());
        assert!(outcome.changes.is_empty(), "{file}");
        let rendered = fx.render(&outcome);
        assert!(rendered.contains(want), "{file}: {rendered}");
        shown.push_str(&format!("== {file}\n{rendered}"));
    }
    // Without Renovate, the same repository gets a Dependabot file.
    fs::write(
        fx.root().join("package.json"),
        r#"{"name": "app", "dependencies": {"express": "^4.21.0"}}"#,
    )
    .expect("write");
    assert_eq!(run(&fx.repo(), &defaults()).changes.len(), 1);
    insta::assert_snapshot!(shown);
}

#[test]
fn security_only_configuration_gets_no_version_updates() {
    let (text, written) = run_case("security-only", &defaults());
    assert!(written.is_empty());
    assert!(text.contains("never update the SHA pins"));
    assert!(text.contains("(line 9)"));
    insta::assert_snapshot!(text);
    // Version updates on for pip only: the npm entry is added, and the github-actions entry
    // that keeps the pins frozen is pointed out.
    let fx = Fixture::new("security-only");
    let path = fx.root().join(".github/dependabot.yml");
    let config = fs::read_to_string(&path).expect("read");
    fs::write(
        &path,
        config.replacen(
            "open-pull-requests-limit: 0",
            "open-pull-requests-limit: 5",
            1,
        ),
    )
    .expect("write");
    let outcome = run(&fx.repo(), &defaults());
    assert_eq!(
        entries_of(&outcome.changes[0].after).last(),
        Some(&("npm".to_owned(), vec!["/".to_owned()]))
    );
    assert!(!outcome.changes[0]
        .after
        .ends_with("open-pull-requests-limit: 0\n"));
    assert!(fx
        .render(&outcome)
        .contains("Warning <repo>/.github/dependabot.yml:9: the `github-actions` entry has `open-pull-requests-limit: 0`"));
}

#[test]
fn findings_about_an_untouched_file_are_said_once() {
    for case in ["security-only", "duplicates"] {
        let fx = Fixture::new(case);
        let whole = run(&fx.repo(), &defaults());
        assert!(
            !whole.findings.is_empty(),
            "{case}: a whole run says nothing"
        );
        // A pre-commit run over a changed workflow: the configuration is neither given nor
        // changed, so what harden leaves as it is goes unsaid.
        let workflow = fx.root().join(".github/workflows/ci.yml");
        let text = fs::read_to_string(&workflow).expect("read");
        let hook = Repository {
            root: fx.root().to_owned(),
            files: vec![SourceFile::new(workflow, FileKind::Workflow, text)],
        };
        let quiet = run(&hook, &defaults());
        assert!(quiet.changes.is_empty(), "{case}");
        assert!(quiet.findings.is_empty(), "{case}: {:?}", quiet.findings);
        // A run given the configuration file says it again.
        let config = fx.root().join(".github/dependabot.yml");
        let text = fs::read_to_string(&config).expect("read");
        let given = Repository {
            root: fx.root().to_owned(),
            files: vec![SourceFile::new(config, FileKind::Dependabot, text)],
        };
        assert_eq!(run(&given, &defaults()).findings, whole.findings, "{case}");
    }
}

#[test]
fn create_all_ecosystems() {
    let (text, _) = run_case("create-all-ecosystems", &defaults());
    insta::assert_snapshot!(text);
}

#[test]
fn change_notes_point_at_the_entries() {
    let fx = Fixture::new("create-all-ecosystems");
    let outcome = run(&fx.repo(), &defaults());
    let change = &outcome.changes[0];
    let lines: Vec<&str> = change.after.lines().collect();
    assert_eq!(change.notes.len(), 15);
    for note in &change.notes {
        let line = lines[note.line - 1];
        assert!(
            line.starts_with("  - package-ecosystem: "),
            "{note:?} -> {line}"
        );
        let eco = line.trim_start_matches("  - package-ecosystem: ");
        assert!(note.message.contains(&format!("`{eco}`")), "{note:?}");
    }
    let fx = Fixture::new("extend-block");
    let outcome = run(&fx.repo(), &defaults());
    let messages: Vec<String> = outcome.changes[0]
        .notes
        .iter()
        .map(|n| format!("{}: {}", n.line, n.message))
        .collect();
    assert_eq!(
        messages,
        [
            "6: add /.github/actions/setup to the existing `github-actions` entry, so that the \
             composite actions there are updated with the same schedule, group and target branch",
            "6: add `cooldown: default-days: 7` to the `github-actions` entry for /, \
             /.github/actions/setup: without it Dependabot proposes a release the day it is \
             published, before a compromised or broken release is usually found and withdrawn \
             (security updates are not delayed)",
            "24: add `docker` updates (weekly) for /",
        ]
    );
}

#[test]
fn create_actions_limited() {
    let options = DependabotOptions {
        ecosystems: Some(vec!["github-actions".into()]),
        ..defaults()
    };
    let (text, _) = run_case("create-all-ecosystems", &options);
    insta::assert_snapshot!(text);
}

#[test]
fn create_actions_only() {
    let (text, _) = run_case("create-actions-only", &defaults());
    insta::assert_snapshot!(text);
}

#[test]
fn create_daily_no_group_no_cooldown() {
    let options = DependabotOptions {
        schedule: Schedule::Daily,
        group: false,
        cooldown_days: 0,
        ..defaults()
    };
    let (text, _) = run_case("create-actions-only", &options);
    insta::assert_snapshot!(text);
}

#[test]
fn create_monthly_ignore_major() {
    let options = DependabotOptions {
        schedule: Schedule::Monthly,
        cooldown_days: 14,
        ignore_major: true,
        ..defaults()
    };
    let (text, _) = run_case("create-actions-only", &options);
    insta::assert_snapshot!(text);
}

#[test]
fn create_nothing_to_update() {
    let (text, written) = run_case("create-nothing", &defaults());
    assert!(written.is_empty());
    insta::assert_snapshot!(text);
}

#[test]
fn extend_block() {
    let (text, _) = run_case("extend-block", &defaults());
    insta::assert_snapshot!(text);
}

#[test]
fn extend_ignore_major() {
    let options = DependabotOptions {
        ignore_major: true,
        ..defaults()
    };
    let (text, _) = run_case("extend-block", &options);
    insta::assert_snapshot!(text);
}

#[test]
fn extend_flow() {
    let (text, written) = run_case("extend-flow", &defaults());
    assert!(written[0].contains("updates: [{package-ecosystem: npm"));
    insta::assert_snapshot!(text);
}

#[test]
fn extend_directories_and_globs() {
    let (text, _) = run_case("extend-directories", &defaults());
    insta::assert_snapshot!(text);
}

#[test]
fn extend_crlf() {
    let fx = Fixture::new("extend-crlf");
    let path = fx.root().join(".github/dependabot.yml");
    let lf = fs::read_to_string(&path).expect("read");
    fs::write(&path, lf.replace('\n', "\r\n")).expect("write CRLF");
    let outcome = run(&fx.repo(), &defaults());
    assert_eq!(outcome.changes.len(), 1);
    let after = &outcome.changes[0].after;
    check_written(after, "extend-crlf");
    assert!(
        !after.replace("\r\n", "").contains('\n'),
        "a bare LF was written:\n{after:?}"
    );
    // The snapshot shows the text with LF, and the CRLF check is above.
    let mut shown = outcome.clone();
    for c in &mut shown.changes {
        c.after = c.after.replace("\r\n", "\n");
        c.before = c.before.as_ref().map(|b| b.replace("\r\n", "\n"));
    }
    insta::assert_snapshot!(fx.render(&shown));
    apply(&outcome);
    assert!(run(&fx.repo(), &defaults()).changes.is_empty());
}

#[test]
fn already_complete() {
    let (text, written) = run_case("complete", &defaults());
    assert!(written.is_empty());
    assert_eq!(text, "");
}

#[test]
fn duplicates_are_reported() {
    let (text, written) = run_case("duplicates", &defaults());
    assert!(written.is_empty());
    insta::assert_snapshot!(text);
}

#[test]
fn invalid_files_are_left_alone() {
    let mut all = String::new();
    for case in [
        "invalid-version",
        "invalid-ecosystem",
        "invalid-yaml",
        "two-files",
    ] {
        let fx = Fixture::new(case);
        let outcome = run(&fx.repo(), &defaults());
        assert!(outcome.changes.is_empty(), "{case} changed");
        assert!(
            outcome
                .findings
                .iter()
                .any(|f| f.severity == Severity::Error && f.line.is_some())
                || case == "two-files",
            "{case}: no located error"
        );
        all.push_str(&format!("== {case}\n{}", fx.render(&outcome)));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn bad_options_change_nothing() {
    let fx = Fixture::new("create-actions-only");
    for options in [
        DependabotOptions {
            cooldown_days: 91,
            ..defaults()
        },
        DependabotOptions {
            ecosystems: Some(vec!["actions".into()]),
            ..defaults()
        },
    ] {
        let outcome = run(&fx.repo(), &options);
        assert!(outcome.changes.is_empty());
        assert_eq!(outcome.findings.len(), 1);
        assert_eq!(outcome.findings[0].severity, Severity::Error);
    }
}

#[test]
fn an_unlisted_file_on_disk_is_extended_not_replaced() {
    let fx = Fixture::new("extend-block");
    let listed = run(&fx.repo(), &defaults());
    let unlisted = run(
        &Repository {
            root: fx.root().to_owned(),
            files: Vec::new(),
        },
        &defaults(),
    );
    assert_eq!(unlisted.changes, listed.changes);
    assert!(unlisted.changes[0].before.is_some());
}

#[test]
fn transform_names_itself() {
    let t = Dependabot::default();
    assert_eq!(t.name(), "dependabot");
    assert!(!t.summary().is_empty());
}

/// Every `.github/dependabot.y*ml` of the corpus at `root`, by repository folder.
fn corpus_configs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(repos) = fs::read_dir(root) else {
        return out;
    };
    for repo in repos.flatten() {
        for name in ["dependabot.yml", "dependabot.yaml"] {
            if repo.path().join(".github").join(name).is_file() {
                out.push(repo.path());
                break;
            }
        }
    }
    out.sort();
    out
}

/// Runs the transform on every corpus repository that has a configuration; returns the
/// snapshot text and, for every file it writes, the repository's name, the text before and after.
fn run_corpus(root: &Path) -> (String, Vec<(String, String, String)>) {
    let mut shown = String::new();
    let mut written = Vec::new();
    for source in corpus_configs(root) {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&source, dir.path());
        let repo = load_repo(dir.path());
        let outcome = run(&repo, &defaults());
        assert!(
            !outcome
                .findings
                .iter()
                .any(|f| f.severity == Severity::Error),
            "{name}: {}",
            common::render_outcome(&outcome)
        );
        for change in &outcome.changes {
            assert!(
                change.before.is_some(),
                "{name}: a corpus configuration was replaced"
            );
            check_written(&change.after, &name);
            // The corpus holds workflows, composite actions and configurations only: every
            // folder harden adds must hold a composite action (its manifest).
            let before: HashSet<(String, String)> =
                flat_pairs(change.before.as_deref().unwrap_or_default());
            for (eco, dir) in flat_pairs(&change.after).difference(&before) {
                let folder = repo.root.join(dir.trim_start_matches('/'));
                let manifest = ["action.yml", "action.yaml"]
                    .iter()
                    .any(|n| folder.join(n).is_file());
                assert!(
                    eco == "github-actions" && (dir == "/" || manifest),
                    "{name}: ({eco}, {dir}) holds no manifest"
                );
            }
            written.push((
                name.clone(),
                change.before.clone().unwrap_or_default(),
                change.after.clone(),
            ));
        }
        apply(&outcome);
        let again = run(&load_repo(dir.path()), &defaults());
        assert!(again.changes.is_empty(), "{name}: second run changes");
        let text = common::render_outcome(&outcome).replace(
            &dir.path().display().to_string(),
            &format!("<corpus>/{name}"),
        );
        shown.push_str(&format!("== {name}\n{text}"));
    }
    (shown, written)
}

/// Every (ecosystem, directory) pair of a configuration text.
fn flat_pairs(text: &str) -> HashSet<(String, String)> {
    entries_of(text)
        .into_iter()
        .flat_map(|(eco, dirs)| dirs.into_iter().map(move |d| (eco.clone(), d)))
        .collect()
}

/// True when the tests run in CI, where every tool and input must be present.
fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The sample's configurations are checked; the full corpus's are also compared with a snapshot.
#[test]
fn corpus_configs_extend_safely() {
    for root in harden_testserver::corpus_roots("harden-transforms dependabot corpus") {
        assert!(
            corpus_configs(&root.path).len() >= 40,
            "{}: too few configurations",
            root.name
        );
        let (shown, _) = run_corpus(&root.path);
        if root.full {
            insta::assert_snapshot!(shown);
        }
    }
}

/// `check-jsonschema`, from `HARDEN_CHECK_JSONSCHEMA` or `PATH`.
fn check_jsonschema() -> Option<PathBuf> {
    if let Some(path) = harden_testserver::ci_tool("HARDEN_CHECK_JSONSCHEMA", "check-jsonschema") {
        return Some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("check-jsonschema"))
        .find(|p| p.is_file())
}

#[test]
#[allow(clippy::print_stderr)]
fn written_files_satisfy_the_dependabot_schema() {
    let Some(tool) = check_jsonschema() else {
        assert!(
            !in_ci(),
            "check-jsonschema not found (set HARDEN_CHECK_JSONSCHEMA or put it on PATH)"
        );
        harden_testserver::skipped(
            "the Dependabot schema check: check-jsonschema not found (set HARDEN_CHECK_JSONSCHEMA; see the README)",
        );
        return;
    };
    let out = tempfile::tempdir().expect("temp dir");
    // (written file, the original it extends when that is a corpus file)
    let mut files: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    for (label, case, options) in writing_cases() {
        let (_, written) = run_case(case, &options);
        for (n, text) in written.into_iter().enumerate() {
            let path = out.path().join(format!("{label}-{n}.yml"));
            fs::write(&path, text).expect("write");
            files.push((path, None));
        }
    }
    let corpus = harden_testserver::sample_corpus_dir();
    for (name, before, after) in run_corpus(&corpus).1 {
        let path = out.path().join(format!("corpus-{name}.yml"));
        let original = out.path().join(format!("corpus-{name}.original.yml"));
        fs::write(&path, after).expect("write");
        fs::write(&original, before).expect("write");
        files.push((path, Some(original)));
    }
    assert!(
        files.len() > writing_cases().len(),
        "too few files written: {}",
        files.len()
    );
    let mut args: Vec<&PathBuf> = Vec::new();
    for (path, original) in &files {
        args.push(path);
        args.extend(original);
    }
    let result = std::process::Command::new(&tool)
        .args([
            "--builtin-schema",
            "vendor.dependabot",
            "--output-format",
            "json",
        ])
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let report = String::from_utf8_lossy(&result.stdout);
    let parsed = YamlLoader::load_from_str(&report)
        .unwrap_or_else(|e| panic!("unreadable check-jsonschema output ({e}):\n{report}"));
    let report_root = &parsed[0];
    let problems = |file: &Path| -> Vec<String> {
        let name = file.display().to_string();
        let mut out: Vec<String> = ["errors", "parse_errors"]
            .iter()
            .filter_map(|k| report_root[*k].as_vec())
            .flatten()
            .filter(|e| e["filename"].as_str() == Some(name.as_str()))
            .map(|e| {
                format!(
                    "{}: {}",
                    e["path"].as_str().unwrap_or("-"),
                    e["message"].as_str().unwrap_or("?")
                )
            })
            .collect();
        out.sort();
        out
    };
    let mut failures = Vec::new();
    for (path, original) in &files {
        let mut new = problems(path);
        // A corpus file may break the schema on its own (a retired key); only what harden
        // adds counts.
        if let Some(original) = original {
            let old = problems(original);
            new.retain(|p| !old.contains(p));
        }
        for p in new {
            failures.push(format!("{}: {p}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "check-jsonschema rejected written files:\n{}",
        failures.join("\n")
    );
    assert!(
        result.status.success() || files.iter().any(|(_, o)| o.is_some()),
        "check-jsonschema failed:\n{report}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        report_root["status"].as_str().is_some(),
        "unexpected check-jsonschema output:\n{report}"
    );
}
