//! Transform targets: each transform on arbitrary documents. A transform must not panic, and
//! every change it returns must start from the input, parse again, keep every comment it does
//! not mean to replace, and change only the data it owns (checked with yaml-rust2, apart from
//! the guard).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use harden_github::{Resolver, ResolverConfig};
use harden_testserver::{default_refs_dir, TestServer};
use harden_transforms::dependabot::{Dependabot, DependabotOptions, Schedule};
use harden_transforms::permissions::{Permissions, PermissionsOptions};
use harden_transforms::pin_actions::{BranchPolicy, PinActions, PinOptions};
use harden_transforms::registry::{Services, Settings, TransformInfo};
use harden_transforms::{
    FileChange, FileKind, Outcome, Repository, Severity, SourceFile, Transform,
};
use harden_yaml::Document;
use yaml_rust2::Yaml;

use crate::check;
use crate::engine::{CaseResult, Problem, Target};
use crate::mutate::Flavor;
use crate::rng::Rng;

/// The message of an error finding that means "the guard refused the transform's own edit".
fn guard_refusal(outcome: &Outcome) -> Option<String> {
    outcome
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error && f.message.contains("this is a bug in harden"))
        .map(|f| format!("{}\n{}", check::normalize(&f.message), f.message))
}

/// The checks every change of a file that existed must pass; `owned` says which data
/// differences the transform may make.
fn check_change(
    input: &str,
    change: &FileChange,
    owned: &mut dyn FnMut(&[String], &Yaml, &Yaml) -> bool,
    dropped_comment: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    let Some(before) = &change.before else {
        return Err(format!(
            "{} would be created although it exists",
            change.path.display()
        ));
    };
    if before != input {
        return Err("the change does not start from the file's text".to_owned());
    }
    if change.after == *input {
        return Err("a change that changes nothing".to_owned());
    }
    let old = Document::parse(input.to_owned()).map_err(|e| format!("input reparse: {e}"))?;
    let new = Document::parse(change.after.clone())
        .map_err(|e| format!("the changed file does not parse ({e}):\n{}", change.after))?;
    // Comments the transform may replace: `dropped_comment` sees the line before each one.
    let mut dropped = BTreeMap::new();
    for c in old.comments() {
        let line_start = old.line_start_of(c.span.start);
        let before_comment = old.text().get(line_start..c.span.start).unwrap_or_default();
        if dropped_comment(before_comment) {
            let text = old
                .text()
                .get(c.span.range())
                .unwrap_or_default()
                .trim_end();
            *dropped.entry(text.to_owned()).or_default() += 1;
        }
    }
    check::comments_kept(&old, &new, &dropped).map_err(|e| format!("{e}\n{}", change.after))?;
    let a = check::load(input).map_err(|e| format!("yaml-rust2 cannot load the input: {e}"))?;
    let b = check::load(&change.after)
        .map_err(|e| format!("yaml-rust2 cannot load the output ({e}):\n{}", change.after))?;
    check::differences_allowed(&a, &b, owned).map_err(|e| format!("{e}\n{}", change.after))
}

/// `pin-actions` against a local fake GitHub (started once per run) and a resolver with a
/// temporary cache.
pub struct PinTarget {
    seeds: Vec<Vec<u8>>,
    _server: TestServer,
    _cache: tempfile::TempDir,
    root: tempfile::TempDir,
    resolver: Arc<Resolver>,
}

impl PinTarget {
    /// Starts the fake GitHub and the resolver.
    pub fn new(seeds: Vec<Vec<u8>>) -> std::io::Result<Self> {
        let server = TestServer::start(default_refs_dir())?;
        let cache = tempfile::tempdir()?;
        let root = tempfile::tempdir()?;
        let config = ResolverConfig {
            server_url: server.url(),
            api_url: server.url(),
            cache_dir: Some(cache.path().to_path_buf()),
            max_retries: 0,
            timeout: std::time::Duration::from_secs(10),
            ..ResolverConfig::default()
        };
        let resolver = Resolver::new(config).map_err(std::io::Error::other)?;
        Ok(PinTarget {
            seeds,
            _server: server,
            _cache: cache,
            root,
            resolver: Arc::new(resolver),
        })
    }
}

/// The `uses` values of a pin: `action@ref` became `action@<sha>`.
fn pinned_from(a: &Yaml, b: &Yaml) -> bool {
    let (Yaml::String(old), Yaml::String(new)) = (a, b) else {
        return false;
    };
    let (Some((old_action, _)), Some((new_action, sha))) =
        (old.trim().split_once('@'), new.split_once('@'))
    else {
        return false;
    };
    old_action == new_action && check::is_sha40(sha)
}

impl Target for PinTarget {
    fn name(&self) -> &'static str {
        "pin-actions"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        let text = String::from_utf8_lossy(input).into_owned();
        let (path, kind) = if choices.one_in(5) {
            (PathBuf::from("action.yml"), FileKind::Action)
        } else {
            (
                PathBuf::from(".github/workflows/fuzz.yml"),
                FileKind::Workflow,
            )
        };
        let options = PinOptions {
            branches: if choices.one_in(4) {
                BranchPolicy::Keep
            } else {
                BranchPolicy::Pin
            },
            exempt: if choices.one_in(8) {
                vec!["actions/*".to_owned()]
            } else {
                Vec::new()
            },
            comment_spacing: choices.one_in(4).then(|| choices.range(1, 2)),
            ..PinOptions::default()
        };
        let repo = Repository {
            root: self.root.path().to_path_buf(),
            files: vec![SourceFile::new(path, kind, text.clone())],
        };
        let transform = PinActions::new(Arc::clone(&self.resolver), options);
        let outcome = transform.run(&repo);
        if repo.files[0].doc.is_err() {
            if !outcome.changes.is_empty() {
                return Err("a file that does not parse was changed".into());
            }
            return Ok("parse-error");
        }
        for change in &outcome.changes {
            check_change(
                &text,
                change,
                &mut |path, a, b| path.last().is_some_and(|k| k == "uses") && pinned_from(a, b),
                &|line| line.contains("uses"),
            )?;
        }
        if let Some(message) = guard_refusal(&outcome) {
            return Err(Problem::refused(message));
        }
        Ok(if outcome.changes.is_empty() {
            "unchanged"
        } else {
            "pinned"
        })
    }
}

/// `dependabot` on arbitrary configuration files, in a repository with a few manifests.
pub struct DependabotTarget {
    seeds: Vec<Vec<u8>>,
    root: tempfile::TempDir,
}

impl DependabotTarget {
    /// Makes the repository folder.
    pub fn new(seeds: Vec<Vec<u8>>) -> std::io::Result<Self> {
        let root = tempfile::tempdir()?;
        let p = root.path();
        let files: &[(&str, &str)] = &[
            (
                ".github/workflows/ci.yml",
                "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
            ),
            ("tools/action.yml", "runs:\n  using: composite\n  steps: []\n"),
            ("package.json", "{}\n"),
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("web/requirements.txt", "requests\n"),
            ("docker/Dockerfile", "FROM alpine\n"),
            ("go.mod", "module x\n"),
        ];
        for (name, text) in files {
            let path = p.join(name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(DependabotTarget { seeds, root })
    }
}

impl Target for DependabotTarget {
    fn name(&self) -> &'static str {
        "dependabot"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        let text = String::from_utf8_lossy(input).into_owned();
        let options = DependabotOptions {
            schedule: *choices
                .pick(&[Schedule::Daily, Schedule::Weekly, Schedule::Monthly])
                .unwrap_or(&Schedule::Weekly),
            group: !choices.one_in(3),
            cooldown_days: *choices.pick(&[0, 1, 7, 90]).unwrap_or(&7),
            ignore_major: choices.one_in(3),
            ecosystems: choices.one_in(3).then(|| vec!["github-actions".to_owned()]),
        };
        let path = self.root.path().join(".github/dependabot.yml");
        let repo = Repository {
            root: self.root.path().to_path_buf(),
            files: vec![SourceFile::new(path, FileKind::Dependabot, text.clone())],
        };
        let outcome = Dependabot::new(options).run(&repo);
        if repo.files[0].doc.is_err() {
            if !outcome.changes.is_empty() {
                return Err("a file that does not parse was changed".into());
            }
            return Ok("parse-error");
        }
        for change in &outcome.changes {
            check_change(
                &text,
                change,
                &mut |path, a, b| {
                    // Only `updates` may change: new items at its end, and existing entries
                    // amended as `entry_amended` allows.
                    let in_updates = path.get(1).is_some_and(|k| k == "updates");
                    match path.len() {
                        2 if in_updates => matches!((a, b), (Yaml::Array(x), Yaml::Array(y))
                            if y.len() > x.len()
                                && x.iter().zip(y).all(|(e, f)| e == f || entry_amended(e, f))),
                        3 if in_updates => entry_amended(a, b),
                        _ => false,
                    }
                },
                &|_| false,
            )?;
        }
        if let Some(message) = guard_refusal(&outcome) {
            return Err(Problem::refused(message));
        }
        Ok(if outcome.changes.is_empty() {
            "unchanged"
        } else {
            "extended"
        })
    }
}

/// True when `after` is the Dependabot entry `before` with only what the transform adds to an
/// existing entry (docs/dependabot.md): a `cooldown` where there was none, and more folders
/// (`directory: x` becoming `directories: [x, ...]`, or `directories` extended at its end).
fn entry_amended(before: &Yaml, after: &Yaml) -> bool {
    let (Yaml::Hash(b), Yaml::Hash(a)) = (before, after) else {
        return false;
    };
    let key = |k: &str| Yaml::String(k.to_owned());
    let extends = |old: &Yaml, new: &Yaml| {
        matches!((old, new), (Yaml::Array(x), Yaml::Array(y))
            if y.len() > x.len() && y[..x.len()] == x[..])
    };
    let kept = a.iter().all(|(k, v)| match b.get(k) {
        Some(old) => old == v || (*k == key("directories") && extends(old, v)),
        None if *k == key("cooldown") => true,
        None if *k == key("directories") => {
            matches!((b.get(&key("directory")), v), (Some(d), Yaml::Array(items)) if items.first() == Some(d))
        }
        None => false,
    });
    kept && b.keys().all(|k| {
        a.contains_key(k) || (*k == key("directory") && a.contains_key(&key("directories")))
    })
}

/// The workflow without its `permissions` blocks (top level and per job), order kept.
fn without_permissions(doc: &Yaml) -> Yaml {
    let key = Yaml::String("permissions".to_owned());
    let mut out = doc.clone();
    if let Yaml::Hash(root) = &mut out {
        root.remove(&key);
        if let Some(Yaml::Hash(jobs)) = root.get_mut(&Yaml::String("jobs".to_owned())) {
            for (_, job) in jobs.iter_mut() {
                if let Yaml::Hash(j) = job {
                    j.remove(&key);
                }
            }
        }
    }
    out
}

/// Scope names, whose lines the permissions transform may rewrite with their comments.
const SCOPE_WORDS: &[&str] = &[
    "permissions",
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
];

/// `permissions` on arbitrary workflows.
pub struct PermissionsTarget {
    seeds: Vec<Vec<u8>>,
    root: tempfile::TempDir,
}

impl PermissionsTarget {
    /// A target over these seeds.
    pub fn new(seeds: Vec<Vec<u8>>) -> std::io::Result<Self> {
        Ok(PermissionsTarget {
            seeds,
            root: tempfile::tempdir()?,
        })
    }
}

impl Target for PermissionsTarget {
    fn name(&self) -> &'static str {
        "permissions"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], _choices: &mut Rng) -> CaseResult {
        let text = String::from_utf8_lossy(input).into_owned();
        let path = self.root.path().join(".github/workflows/fuzz.yml");
        let repo = Repository {
            root: self.root.path().to_path_buf(),
            files: vec![SourceFile::new(path, FileKind::Workflow, text.clone())],
        };
        let outcome = Permissions::new(PermissionsOptions::default()).run(&repo);
        if repo.files[0].doc.is_err() {
            if !outcome.changes.is_empty() {
                return Err("a file that does not parse was changed".into());
            }
            return Ok("parse-error");
        }
        for change in &outcome.changes {
            // Only the `permissions` of the workflow and of its jobs may be added or changed.
            check_change(
                &text,
                change,
                &mut |path, a, b| {
                    path.len() == 1 && {
                        let (a, b) = (without_permissions(a), without_permissions(b));
                        check::differences_allowed(
                            std::slice::from_ref(&a),
                            std::slice::from_ref(&b),
                            &mut |_, _, _| false,
                        )
                        .is_ok()
                    }
                },
                &|line| SCOPE_WORDS.iter().any(|w| line.contains(w)),
            )?;
        }
        if let Some(message) = guard_refusal(&outcome) {
            return Err(Problem::refused(message));
        }
        Ok(if outcome.changes.is_empty() {
            "unchanged"
        } else {
            "restricted"
        })
    }
}

/// True when `after` is `before` with mapping entries added (anywhere) and nothing else changed.
fn only_added(before: &Yaml, after: &Yaml) -> bool {
    match (before, after) {
        (Yaml::Hash(a), Yaml::Hash(b)) => a
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| only_added(v, w))),
        (Yaml::Array(a), Yaml::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| only_added(v, w))
        }
        _ => before == after,
    }
}

/// The `${{ }}` expressions of a text, as written.
fn expressions_of(text: &str) -> Vec<&str> {
    harden_transforms::script_injection::contexts::expressions(text)
        .into_iter()
        .map(|r| &text[r])
        .collect()
}

/// script-injection's changes: `after` is `before` where some scripts lost `${{ }}`
/// expressions (and gained nothing else of the kind), steps gained an `env:` and `env:`
/// mappings gained entries, each holding one expression.
pub fn script_moved(before: &Yaml, after: &Yaml) -> bool {
    let one_expression = |w: &Yaml| {
        w.as_str().is_some_and(|t| {
            expressions_of(t).len() == 1 && t.starts_with("${{") && t.ends_with("}}")
        })
    };
    match (before, after) {
        (Yaml::Hash(a), Yaml::Hash(b)) => {
            a.iter()
                .all(|(k, v)| b.get(k).is_some_and(|w| script_moved(v, w)))
                && b.iter().all(|(k, w)| {
                    a.contains_key(k)
                        || one_expression(w)
                        || (k.as_str() == Some("env")
                            && matches!(w, Yaml::Hash(h) if h.values().all(one_expression)))
                })
        }
        (Yaml::Array(a), Yaml::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| script_moved(v, w))
        }
        (Yaml::String(a), Yaml::String(b)) if a != b => {
            let mut old = expressions_of(a);
            let new = expressions_of(b);
            let kept = new.iter().all(|e| match old.iter().position(|o| o == e) {
                Some(i) => {
                    old.swap_remove(i);
                    true
                }
                None => false,
            });
            kept && !old.is_empty()
        }
        _ => before == after,
    }
}

/// Any transform of the registry that needs no service and has no harness of its own, built
/// by its registry constructor with default settings, on arbitrary workflows. Besides the
/// checks of every change, it may only make the data changes `allowed` accepts (by default,
/// add mapping entries: [`RegistryTarget::with_rule`] says otherwise), and a second run
/// changes nothing.
pub struct RegistryTarget {
    info: &'static TransformInfo,
    allowed: fn(&Yaml, &Yaml) -> bool,
    transform: Box<dyn Transform>,
    seeds: Vec<Vec<u8>>,
    root: tempfile::TempDir,
}

impl RegistryTarget {
    /// The target of `info`; `Ok(None)` when it needs a service or its constructor builds
    /// nothing without one.
    pub fn new(info: &'static TransformInfo, seeds: Vec<Vec<u8>>) -> Result<Option<Self>, String> {
        let needs = info.needs;
        if needs.resolver || needs.files || needs.images {
            return Ok(None);
        }
        let Some(transform) = (info.build)(&Services::default(), &Settings::default())? else {
            return Ok(None);
        };
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        Ok(Some(RegistryTarget {
            info,
            allowed: only_added,
            transform,
            seeds,
            root,
        }))
    }

    /// The target with its own rule for the data changes the transform may make.
    #[must_use]
    pub fn with_rule(mut self, allowed: fn(&Yaml, &Yaml) -> bool) -> Self {
        self.allowed = allowed;
        self
    }

    fn repository(&self, text: &str) -> Repository {
        let path = self.root.path().join(".github/workflows/fuzz.yml");
        Repository {
            root: self.root.path().to_path_buf(),
            files: vec![SourceFile::new(path, FileKind::Workflow, text.to_owned())],
        }
    }
}

impl Target for RegistryTarget {
    fn name(&self) -> &'static str {
        self.info.name
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], _choices: &mut Rng) -> CaseResult {
        let text = String::from_utf8_lossy(input).into_owned();
        let repo = self.repository(&text);
        let outcome = self.transform.run(&repo);
        if repo.files[0].doc.is_err() {
            if !outcome.changes.is_empty() {
                return Err("a file that does not parse was changed".into());
            }
            return Ok("parse-error");
        }
        for change in &outcome.changes {
            let allowed = self.allowed;
            check_change(&text, change, &mut |_, a, b| allowed(a, b), &|_| false)?;
            let again = self.transform.run(&self.repository(&change.after));
            if !again.changes.is_empty() {
                return Err(
                    format!("a second run changes the output again:\n{}", change.after).into(),
                );
            }
        }
        if let Some(message) = guard_refusal(&outcome) {
            return Err(Problem::refused(message));
        }
        Ok(if outcome.changes.is_empty() {
            "unchanged"
        } else {
            "extended"
        })
    }
}
