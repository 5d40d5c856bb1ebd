//! Tests of the script-injection transform: one snapshot per fixture of
//! `testdata/script-injection/` (every shell and actions/github-script), idempotence, the corpus
//! (no panic, outputs parse, comments kept, a second run changes nothing), and two outside
//! judges over the outputs: actionlint (no new error) and zizmor (no `template-injection` left on
//! an outsider-controlled context except where harden said why, and no other finding rises).
//! The judges are skipped with one `skipped:` line when not installed (`HARDEN_ACTIONLINT`,
//! `HARDEN_ZIZMOR`, or `.ci/venv`).

#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use harden_transforms::script_injection::{contexts, ScriptInjection};
use harden_transforms::{FileKind, Outcome, Repository, Severity, SourceFile, Transform};

use common::render_outcome;

/// The fixtures: (path relative to `testdata/script-injection`, kind).
const FIXTURES: &[(&str, FileKind)] = &[
    ("bash.yml", FileKind::Workflow),
    ("pwsh.yml", FileKind::Workflow),
    ("cmd.yml", FileKind::Workflow),
    ("github-script.yml", FileKind::Workflow),
    ("left.yml", FileKind::Workflow),
    ("composite/action.yml", FileKind::Action),
];

fn fixture_dir() -> PathBuf {
    common::testdata().join("script-injection")
}

fn fixture(rel: &str) -> String {
    let path = fixture_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the transform, checks the guard, that the outputs parse and keep every comment, and
/// that a second run changes nothing.
fn run_checked(repo: &Repository) -> Outcome {
    let outcome = ScriptInjection.run(repo);
    common::assert_guard_passed(&outcome);
    for change in &outcome.changes {
        let before = harden_yaml::Document::parse(change.before.clone().unwrap_or_default())
            .expect("input parses");
        let after = harden_yaml::Document::parse(change.after.clone())
            .unwrap_or_else(|e| panic!("{}: output does not parse: {e}", change.path.display()));
        for comment in before.comments() {
            let text = &before.text()[comment.span.range()];
            assert!(
                after.text().contains(text),
                "{}: comment lost: {text}",
                change.path.display()
            );
        }
    }
    let again = ScriptInjection.run(&repo.applied(&outcome));
    assert!(
        again.changes.is_empty(),
        "a second run changes {:?}",
        again
            .changes
            .iter()
            .map(|c| render_outcome(&Outcome {
                changes: vec![c.clone()],
                findings: Vec::new()
            }))
            .collect::<Vec<_>>()
    );
    outcome
}

#[test]
fn fixtures_move_outsider_expressions_into_env() {
    for (rel, kind) in FIXTURES {
        let repo = common::single_file_repo(rel, *kind, &fixture(rel));
        let outcome = run_checked(&repo);
        let name = rel.trim_end_matches(".yml").replace('/', "-");
        insta::assert_snapshot!(name, render_outcome(&outcome));
    }
}

#[test]
fn the_registry_runs_it_by_default() {
    let info = harden_transforms::registry::find("script-injection").expect("registered");
    assert!(!info.opt_in);
}

#[test]
fn only_outsider_contexts_move() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ github.sha }} ${{ steps.x.outputs.y }} ${{ inputs.z }} ${{ github.event.issue.number }}\"\n";
    let repo = common::single_file_repo("a.yml", FileKind::Workflow, text);
    let outcome = ScriptInjection.run(&repo);
    assert!(outcome.changes.is_empty() && outcome.findings.is_empty());
}

#[test]
fn names_never_clash_with_the_environment_or_the_script() {
    let text = "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env:\n      ISSUE_TITLE: x\n    steps:\n      - run: echo \"${{ github.event.issue.title }}\" \"$ISSUE_TITLE_2\"\n";
    let repo = common::single_file_repo("a.yml", FileKind::Workflow, text);
    let outcome = run_checked(&repo);
    let after = &outcome.changes[0].after;
    assert!(
        after.contains("ISSUE_TITLE_3: ${{ github.event.issue.title }}"),
        "{after}"
    );
    assert!(
        after.contains("echo \"$ISSUE_TITLE_3\" \"$ISSUE_TITLE_2\""),
        "{after}"
    );
}

// ---- the corpus ----

fn corpus_files(root: &Path) -> Vec<SourceFile> {
    harden_testserver::files_under(root)
        .into_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            let kind = common::corpus_kind(rel.split_once('/')?.1)?;
            let text = std::fs::read_to_string(&path).ok()?;
            let file = SourceFile::new(rel, kind, text);
            file.document().is_some().then_some(file)
        })
        .collect()
}

#[test]
fn corpus_outputs_parse_keep_comments_and_are_stable() {
    for root in harden_testserver::corpus_roots("script-injection corpus test") {
        let repo = common::repository(corpus_files(&root.path));
        let outcome = run_checked(&repo);
        let moved: usize = outcome.changes.iter().map(|c| c.notes.len()).sum();
        let left = outcome
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        eprintln!(
            "script-injection over the {}: {} files changed, {moved} expressions moved, {left} left with a warning",
            root.name,
            outcome.changes.len()
        );
        if !root.full {
            assert!(!outcome.changes.is_empty());
        }
    }
}

// ---- outside judges ----

/// Copies the folder `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    for path in harden_testserver::files_under(from) {
        let Ok(rel) = path.strip_prefix(from) else {
            continue;
        };
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&path, &target).expect("copy");
    }
}

/// Writes the files of `repo` with every change applied under `dir` (paths relative).
fn write_tree(repo: &Repository, dir: &Path) {
    for file in &repo.files {
        let Some(doc) = file.document() else { continue };
        let target = dir.join(&file.path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, doc.text()).expect("write");
    }
}

/// One zizmor finding: (file, audit, the expression's text for template-injection).
type Found = (String, String, String);

/// zizmor's findings over `inputs` (relative to `dir`), offline, every persona; `Err` with its
/// messages when it refuses an input (a file it cannot load stops its whole run).
fn zizmor(exe: &Path, dir: &Path, inputs: &[String]) -> Result<Vec<Found>, String> {
    let out = Command::new(exe)
        .args(["--offline", "--format", "json", "--persona", "auditor"])
        .args(inputs)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("zizmor runs");
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| String::from_utf8_lossy(&out.stderr).into_owned())?;
    let mut found = Vec::new();
    for f in findings.as_array().into_iter().flatten() {
        let ident = f["ident"].as_str().unwrap_or_default().to_owned();
        let primary = f["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["symbolic"]["kind"] == "Primary");
        let Some(primary) = primary else { continue };
        let file = primary["symbolic"]["key"]["Local"]["verbatim_path"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let fragment = primary["symbolic"]["feature_kind"]["Subfeature"]["fragment"]["Raw"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        found.push((file, ident, fragment));
    }
    Ok(found)
}

/// True for a template-injection finding on a context an outsider writes.
fn outsider_injection(f: &Found) -> bool {
    f.1 == "template-injection" && contexts::outsider_reference(&f.2).is_some()
}

/// Compares zizmor before and after: outsider template-injections left only in files where
/// harden said why (a warning, or a note on another action's input); no other finding rises in any file.
/// Returns (outsider injections before, after, other findings before, after).
fn judge(before: &[Found], after: &[Found], outcome: &Outcome) -> (usize, usize, usize, usize) {
    let count = |list: &[Found], pick: &dyn Fn(&Found) -> bool| {
        let mut by: BTreeMap<(String, String), usize> = BTreeMap::new();
        for f in list.iter().filter(|f| pick(f)) {
            *by.entry((f.0.clone(), f.1.clone())).or_default() += 1;
        }
        by
    };
    let other = |f: &Found| !outsider_injection(f);
    let (other_before, other_after) = (count(before, &other), count(after, &other));
    for (key, n) in &other_after {
        let was = other_before.get(key).copied().unwrap_or_default();
        assert!(*n <= was, "{key:?}: {was} → {n} zizmor findings");
    }
    let injections_after = count(after, &outsider_injection);
    for ((file, _), n) in &injections_after {
        let warned = outcome
            .findings
            .iter()
            .filter(|w| w.path.to_string_lossy() == *file)
            .count();
        assert!(
            warned > 0,
            "{file}: {n} template-injection findings on outsider contexts left, and harden reported nothing there"
        );
    }
    let total = |m: &BTreeMap<(String, String), usize>| m.values().sum::<usize>();
    (
        before.iter().filter(|f| outsider_injection(f)).count(),
        total(&injections_after),
        total(&other_before),
        total(&other_after),
    )
}

fn tool(var: &str, name: &str, what: &str) -> Option<PathBuf> {
    let found = harden_testserver::ci_tool(var, name);
    if found.is_none() {
        harden_testserver::skipped(&format!(
            "{what}: {name} not found (set {var}, or install it into .ci/venv: see the README)"
        ));
    }
    found
}

#[test]
fn zizmor_finds_no_injection_left_in_the_fixtures() {
    let Some(exe) = tool(
        "HARDEN_ZIZMOR",
        "zizmor",
        "the script-injection zizmor check",
    ) else {
        return;
    };
    let files: Vec<SourceFile> = FIXTURES
        .iter()
        .map(|(rel, kind)| SourceFile::new(*rel, *kind, fixture(rel)))
        .collect();
    let repo = common::repository(files);
    let outcome = run_checked(&repo);
    let work = tempfile::tempdir().expect("tempdir");
    write_tree(&repo.applied(&outcome), work.path());
    let inputs: Vec<String> = FIXTURES.iter().map(|(rel, _)| (*rel).to_owned()).collect();
    let before = zizmor(&exe, &fixture_dir(), &inputs).expect("zizmor reads the fixtures");
    let after = zizmor(&exe, work.path(), &inputs).expect("zizmor reads the outputs");
    let (ib, ia, ob, oa) = judge(&before, &after, &outcome);
    eprintln!("zizmor over the fixtures: outsider template-injection {ib} → {ia}, other findings {ob} → {oa}");
    let left_files: Vec<&str> = after
        .iter()
        .filter(|f| outsider_injection(f))
        .map(|f| f.0.as_str())
        .collect();
    assert!(
        left_files.iter().all(|f| *f == "left.yml"),
        "{left_files:?}"
    );
    assert!(ib > 20, "{ib}");
}

#[test]
fn zizmor_over_the_corpus_after_harden() {
    let Some(exe) = tool(
        "HARDEN_ZIZMOR",
        "zizmor",
        "the script-injection corpus zizmor check",
    ) else {
        return;
    };
    for root in harden_testserver::corpus_roots("script-injection corpus zizmor check") {
        let repo = common::repository(corpus_files(&root.path));
        let outcome = ScriptInjection.run(&repo);
        let work = tempfile::tempdir().expect("tempdir");
        copy_tree(&root.path, work.path());
        write_tree(&repo.applied(&outcome), work.path());
        let mut projects: Vec<String> = repo
            .files
            .iter()
            .filter_map(|f| {
                f.path
                    .to_string_lossy()
                    .split('/')
                    .next()
                    .map(str::to_owned)
            })
            .collect();
        projects.sort();
        projects.dedup();
        // One run over every project; a project with a file zizmor refuses (it names it) is
        // left out and the run made again.
        let mut refused = Vec::new();
        let (before, after) = loop {
            let kept: Vec<String> = projects
                .iter()
                .filter(|p| !refused.contains(*p))
                .cloned()
                .collect();
            match zizmor(&exe, &root.path, &kept) {
                Ok(before) => {
                    let after = zizmor(&exe, work.path(), &kept)
                        .unwrap_or_else(|e| panic!("zizmor refuses an output of harden: {e}"));
                    break (before, after);
                }
                Err(e) => {
                    let named = kept.iter().find(|p| e.contains(&format!("file://{p}/")));
                    let Some(project) = named.filter(|_| refused.len() < 50) else {
                        panic!("zizmor fails: {e}");
                    };
                    refused.push(project.clone());
                }
            }
        };
        eprintln!(
            "zizmor refused a file of {} of {} projects as they are: {refused:?}",
            refused.len(),
            projects.len()
        );
        let (ib, ia, ob, oa) = judge(&before, &after, &outcome);
        let all = |list: &[Found]| list.iter().filter(|f| f.1 == "template-injection").count();
        eprintln!(
            "zizmor over the {}: outsider template-injection {ib} → {ia} (every template-injection {} → {}), other findings {ob} → {oa}",
            root.name,
            all(&before),
            all(&after)
        );
    }
}

/// actionlint's messages for `files` (relative to `dir`), the line and column left out.
fn actionlint(exe: &Path, dir: &Path, files: &[String]) -> std::collections::BTreeSet<String> {
    let out = Command::new(exe)
        .args(["-no-color", "-oneline", "-shellcheck=", "-pyflakes="])
        .args(files)
        .current_dir(dir)
        .output()
        .expect("actionlint runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let file = parts.next().unwrap_or_default();
            format!("{file}:{}", parts.nth(2).unwrap_or_default())
        })
        .collect()
}

#[test]
fn actionlint_finds_nothing_new_in_the_fixture_outputs() {
    let Some(exe) = tool(
        "HARDEN_ACTIONLINT",
        "actionlint",
        "the script-injection actionlint check",
    ) else {
        return;
    };
    let workflows: Vec<(&str, FileKind)> = FIXTURES
        .iter()
        .copied()
        .filter(|(_, kind)| *kind == FileKind::Workflow)
        .collect();
    let files: Vec<SourceFile> = workflows
        .iter()
        .map(|(rel, kind)| SourceFile::new(*rel, *kind, fixture(rel)))
        .collect();
    let repo = common::repository(files);
    let outcome = run_checked(&repo);
    let work = tempfile::tempdir().expect("tempdir");
    write_tree(&repo.applied(&outcome), work.path());
    let names: Vec<String> = workflows.iter().map(|(rel, _)| (*rel).to_owned()).collect();
    let before = actionlint(&exe, &fixture_dir(), &names);
    let after = actionlint(&exe, work.path(), &names);
    let new: Vec<&String> = after.difference(&before).collect();
    assert!(new.is_empty(), "actionlint errors introduced: {new:#?}");
    let clean: Vec<&String> = after
        .iter()
        .filter(|m| !m.starts_with("left.yml"))
        .collect();
    assert!(clean.is_empty(), "actionlint errors left: {clean:#?}");
}

#[test]
fn many_expressions_in_one_script_stay_fast() {
    let mut text = String::from(
        "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo '",
    );
    for _ in 0..3000 {
        text.push_str("${{ github.event.issue.title }} ${{ github.sha }} ");
    }
    text.push_str("'\n");
    for _ in 0..3000 {
        text.push_str(
            "          echo \"${{ github.event.issue.body }}\" '${{ github.head_ref }}'\n",
        );
    }
    let repo = common::single_file_repo("big.yml", FileKind::Workflow, &text);
    let started = std::time::Instant::now();
    let outcome = ScriptInjection.run(&repo);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    common::assert_guard_passed(&outcome);
    assert_eq!(outcome.changes.len(), 1);
    assert!(!outcome.changes[0]
        .after
        .contains("${{ github.event.issue.body }}\""));
}
