//! `dependabot`: makes sure Dependabot keeps every pin fresh, with grouped pull requests and a
//! cooldown so that brand-new releases are not taken at once.
//!
//! The repository's folders are walked for manifests (`detect`): `github-actions` for `/`
//! (the workflows) and for every folder holding a composite action, and the other package
//! ecosystems where their manifests are. Without a configuration file, `.github/dependabot.yml`
//! is written from scratch. With one, the file is validated (`config`) and only the missing
//! (ecosystem, directory) pairs are appended to `updates` through the lossless YAML layer, so
//! every existing byte stays; existing entries are reported on, never changed.

mod amend;
mod config;
pub(crate) mod detect;
mod knowledge;
pub(crate) mod manifests;
mod renovate;
mod settings;
mod style;
mod updatable;
mod write;

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::str::FromStr;

use harden_yaml::{EditSet, Path};

use crate::{
    ChangeNote, FileChange, FileKind, Finding, Outcome, Repository, Severity, SourceFile, Transform,
};

const NAME: &str = "dependabot";

/// dependabot in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "keep pinned actions up to date with Dependabot",
    rule: "Dependabot should keep pinned actions up to date",
    needs: crate::registry::Needs {
        resolver: false,
        prefetch_refs: false,
        files: false,
        images: false,
    },
    opt_in: false,
    configure: settings::configure,
    build: build_from_settings,
};

fn build_from_settings(
    _services: &crate::registry::Services,
    settings: &crate::registry::Settings,
) -> Result<Option<Box<dyn crate::Transform>>, String> {
    let options = settings.dependabot.clone();
    if let Some(problem) = options.problem() {
        return Err(problem);
    }
    Ok(Some(Box::new(Dependabot::new(options))))
}

/// Every `package-ecosystem` value Dependabot accepts (from its options reference and its
/// configuration schema).
pub const KNOWN_ECOSYSTEMS: &[&str] = &[
    "bazel",
    "bun",
    "bundler",
    "cargo",
    "composer",
    "conda",
    "deno",
    "devcontainers",
    "docker",
    "docker-compose",
    "dotnet-sdk",
    "elm",
    "github-actions",
    "gitsubmodule",
    "gomod",
    "gradle",
    "helm",
    "julia",
    "maven",
    "mix",
    "nix",
    "npm",
    "nuget",
    "opentofu",
    "pip",
    "pre-commit",
    "pub",
    "rust-toolchain",
    "sbt",
    "swift",
    "terraform",
    "uv",
    "vcpkg",
];

/// Ecosystems configured only when `--ecosystems` names them: updating a vendored release of a
/// submodule to a branch tip is rarely wanted.
pub const OPT_IN_ECOSYSTEMS: &[&str] = &["gitsubmodule"];

/// The `--ecosystems` word for "every detected ecosystem" (`--ecosystems all,gitsubmodule`).
pub const ALL_DETECTED: &str = "all";

/// The largest `cooldown.default-days` Dependabot accepts.
pub const MAX_COOLDOWN_DAYS: u32 = 90;

/// How often Dependabot looks for updates (`schedule.interval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// Every weekday.
    Daily,
    /// Once a week (Monday by default).
    #[default]
    Weekly,
    /// Once a month.
    Monthly,
}

impl Schedule {
    /// The value written for `interval`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Schedule::Daily => "daily",
            Schedule::Weekly => "weekly",
            Schedule::Monthly => "monthly",
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--schedule` value that is not `daily`, `weekly` or `monthly`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown schedule `{0}`: use daily, weekly or monthly")]
pub struct UnknownSchedule(pub String);

impl FromStr for Schedule {
    type Err = UnknownSchedule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "daily" => Ok(Schedule::Daily),
            "weekly" => Ok(Schedule::Weekly),
            "monthly" => Ok(Schedule::Monthly),
            _ => Err(UnknownSchedule(s.to_owned())),
        }
    }
}

/// Options of the dependabot transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependabotOptions {
    /// `schedule.interval` of new entries (`--schedule`).
    pub schedule: Schedule,
    /// Give new entries a group that bundles all their updates into one pull request
    /// (`--no-group` turns it off).
    pub group: bool,
    /// `cooldown.default-days` of new entries; 0 leaves cooldown out (`--cooldown DAYS`).
    pub cooldown_days: u32,
    /// Add an ignore rule for `version-update:semver-major` to new entries (`--ignore-major`).
    pub ignore_major: bool,
    /// Only these ecosystems (`--ecosystems github-actions`); `None` for all that are detected
    /// except the opt-in ones; `all` in the list stands for every detected one.
    pub ecosystems: Option<Vec<String>>,
}

impl Default for DependabotOptions {
    fn default() -> Self {
        DependabotOptions {
            schedule: Schedule::Weekly,
            group: true,
            cooldown_days: 7,
            ignore_major: false,
            ecosystems: None,
        }
    }
}

impl DependabotOptions {
    /// Why the options cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        if self.cooldown_days > MAX_COOLDOWN_DAYS {
            return Some(format!(
                "--cooldown {} is too long: Dependabot accepts 1 to {MAX_COOLDOWN_DAYS} days (0 leaves cooldown out)",
                self.cooldown_days
            ));
        }
        let unknown: Vec<&str> = self
            .ecosystems
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|e| !KNOWN_ECOSYSTEMS.contains(e) && *e != ALL_DETECTED)
            .collect();
        if !unknown.is_empty() {
            return Some(format!(
                "--ecosystems: unknown ecosystem {} (Dependabot knows {}; `all` stands for every detected one)",
                unknown.join(", "),
                KNOWN_ECOSYSTEMS.join(", ")
            ));
        }
        None
    }

    /// Whether `ecosystem` is configured when detected: the listed ones, or every one but the
    /// opt-in ones ([`OPT_IN_ECOSYSTEMS`]) without a list or with `all` in it.
    fn wants(&self, ecosystem: &str) -> bool {
        let listed = |list: &Vec<String>| list.iter().any(|e| e == ecosystem);
        let all = |list: &Vec<String>| list.iter().any(|e| e == ALL_DETECTED);
        match &self.ecosystems {
            Some(list) if listed(list) => true,
            Some(list) if !all(list) => false,
            _ => !OPT_IN_ECOSYSTEMS.contains(&ecosystem),
        }
    }
}

/// The dependabot transform.
#[derive(Debug, Clone, Default)]
pub struct Dependabot {
    options: DependabotOptions,
}

impl Dependabot {
    /// A dependabot transform with `options`.
    pub fn new(options: DependabotOptions) -> Self {
        Dependabot { options }
    }

    /// The options in use.
    pub fn options(&self) -> &DependabotOptions {
        &self.options
    }
}

/// The (ecosystem, directories) to configure: `github-actions` first, then by name.
type Wanted = Vec<(&'static str, Vec<String>)>;

fn order(
    found: std::collections::BTreeMap<&'static str, std::collections::BTreeSet<String>>,
) -> Wanted {
    let mut out: Wanted = found
        .into_iter()
        .map(|(eco, dirs)| (eco, dirs.into_iter().collect()))
        .collect();
    out.sort_by_key(|(eco, _)| (*eco != "github-actions", *eco));
    out
}

fn dirs_text(dirs: &[String]) -> String {
    dirs.join(", ")
}

/// The configuration file, from `repo.files` or, when the caller did not load it, from disk
/// (so an existing file is never overwritten by a new one).
fn config_files(repo: &Repository, findings: &mut Vec<Finding>) -> (Vec<SourceFile>, bool) {
    let listed: Vec<SourceFile> = repo
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Dependabot)
        .cloned()
        .collect();
    if !listed.is_empty() {
        return (listed, true);
    }
    let mut found = Vec::new();
    for name in ["dependabot.yml", "dependabot.yaml"] {
        let path = display_path(&repo.root, name);
        // Through the one door: a link out, a FIFO, a device or a file of /proc is refused.
        let limit = harden_github::safe_read::MAX_SMALL_FILE;
        match harden_github::safe_read::read_text(&repo.root, &path, limit) {
            Ok(text) => found.push(SourceFile::new(path, FileKind::Dependabot, text)),
            Err(e) if e.is_missing() => {}
            Err(e) => findings.push(Finding::at(
                NAME,
                &path,
                None,
                Severity::Error,
                format!("{e}; it is left unchanged"),
            )),
        }
    }
    (found, false)
}

/// True when the run was given every workflow of the repository (a run over the whole
/// repository, not a pre-commit run over the workflows a commit changes).
fn whole_run(repo: &Repository) -> bool {
    let Ok(entries) = std::fs::read_dir(repo.root.join(".github").join("workflows")) else {
        return true;
    };
    let given: std::collections::BTreeSet<std::ffi::OsString> = repo
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Workflow)
        .filter_map(|f| f.path.file_name().map(ToOwned::to_owned))
        .collect();
    entries.flatten().all(|e| {
        let name = e.file_name();
        let lower = name.to_string_lossy().to_ascii_lowercase();
        !(lower.ends_with(".yml") || lower.ends_with(".yaml")) || given.contains(&name)
    })
}

/// `root/.github/<name>`, without a leading `./` for the current folder.
fn display_path(root: &FsPath, name: &str) -> PathBuf {
    let rel = FsPath::new(".github").join(name);
    if root == FsPath::new(".") || root.as_os_str().is_empty() {
        rel
    } else {
        root.join(rel)
    }
}

impl Dependabot {
    fn create(&self, path: PathBuf, wanted: &Wanted, outcome: &mut Outcome) {
        if wanted.is_empty() {
            outcome.findings.push(Finding::at(
                NAME,
                &path,
                None,
                Severity::Note,
                "no workflows, composite actions or manifests found: no Dependabot configuration written",
            ));
            return;
        }
        let style = style::HouseStyle::default();
        let values: Vec<_> = wanted
            .iter()
            .map(|(eco, dirs)| write::entry(eco, dirs, &self.options, &style))
            .collect();
        let (text, starts) = write::file_text(&values);
        let notes = wanted
            .iter()
            .zip(starts)
            .map(|((eco, dirs), line)| ChangeNote {
                line,
                message: format!(
                    "update `{eco}` {} in {}",
                    self.options.schedule,
                    dirs_text(dirs)
                ),
            })
            .collect();
        outcome.changes.push(FileChange {
            path,
            kind: FileKind::Dependabot,
            before: None,
            after: text,
            notes,
        });
    }

    /// Adds the missing entries to an existing file. Findings about what is already in the
    /// file are said only when `tell` (see [`Dependabot::run`]) or when the file changes.
    fn extend(&self, file: &SourceFile, wanted: &Wanted, context: &Context, outcome: &mut Outcome) {
        let doc = match &file.doc {
            Ok(doc) => doc,
            Err(e) => {
                outcome.findings.push(Finding::at(
                    NAME,
                    &file.path,
                    Some(e.location()),
                    Severity::Error,
                    format!("not a readable YAML file, left unchanged: {e}"),
                ));
                return;
            }
        };
        let Some(config) = config::read(doc, &file.path, &mut outcome.findings) else {
            return;
        };
        let mut said = Vec::new();
        config.duplicates(&file.path, &mut said);
        if let Some(warning) = security_only(&file.path, &config) {
            if context.tell {
                outcome.findings.extend(said);
                outcome.findings.push(warning);
            }
            return;
        }
        self.report_existing(&file.path, &config, &mut said);
        let style = style::HouseStyle::of(&config);
        report_style(&file.path, &config, &style, wanted, &mut said);
        let additions =
            missing_entries(&file.path, &config, wanted, context.root_action, &mut said);
        let change = self.amend(
            file,
            doc,
            additions,
            &style,
            &mut said,
            &mut outcome.findings,
        );
        if context.tell || change.is_some() {
            outcome.findings.extend(said);
        }
        outcome.changes.extend(change);
    }

    /// Notes on existing entries without `groups` (when the options ask for groups), and on
    /// explicit cooldowns shorter than a week (kept: the maintainers chose them).
    fn report_existing(&self, path: &FsPath, config: &config::Config, findings: &mut Vec<Finding>) {
        let short = amend::short_cooldown_limit(self.options.cooldown_days);
        for entry in &config.entries {
            let dirs: Vec<String> = entry.dirs.iter().map(|(d, _)| d.clone()).collect();
            if self.options.group && !entry.has_groups && !entry.multi_group {
                let message = format!(
                    "the `{}` entry for {} has no `groups`: every update is its own pull \
                     request; harden does not add groups to existing entries",
                    entry.ecosystem,
                    dirs_text(&dirs)
                );
                findings.push(located(path, entry.line, Severity::Note, message));
            }
            let short_days = entry.cooldown_days.iter().find(|(_, d, _)| *d < short);
            if let Some((key, days, line)) = short_days {
                let what = if *days == 0 && *key == "default-days" {
                    "has a `cooldown` without `default-days`, so the updates its other keys do \
                     not cover are proposed the day they are published"
                        .to_owned()
                } else {
                    format!("waits {days} day(s) before proposing a release (`cooldown.{key}`)")
                };
                let message = format!(
                    "the `{}` entry for {} {what}; a compromised or broken release is usually \
                     found and withdrawn within a week, so {short} or more is safer. Kept as \
                     written",
                    entry.ecosystem,
                    dirs_text(&dirs)
                );
                findings.push(located(path, *line, Severity::Note, message));
            }
        }
    }

    /// Changes the file in stages, each checked by the guard and parsed again for the next:
    /// cooldowns for the existing entries that lack one, new `github-actions` folders joined
    /// to the existing `github-actions` entry, then the new entries appended. `None` when
    /// nothing changes or a stage fails (then the file is left as it is, with an error).
    fn amend(
        &self,
        file: &SourceFile,
        doc: &harden_yaml::Document,
        mut additions: Wanted,
        style: &style::HouseStyle,
        said: &mut Vec<Finding>,
        findings: &mut Vec<Finding>,
    ) -> Option<FileChange> {
        let path = file.path.as_path();
        let mut text = doc.text().to_owned();
        let mut notes = Vec::new();
        if let Some(at) = additions.iter().position(|(e, _)| *e == "github-actions") {
            let dirs = additions[at].1.clone();
            let mut joined = false;
            text = stage(
                path,
                &text,
                &mut notes,
                findings,
                |doc, config, edits, notes| {
                    joined = amend::join_actions_entry(doc, config, &dirs, edits, notes);
                    Ok(())
                },
            )?;
            if joined {
                additions.remove(at);
            }
        }
        if self.options.cooldown_days > 0 {
            let days = self.options.cooldown_days;
            text = stage(
                path,
                &text,
                &mut notes,
                findings,
                |doc, config, edits, notes| {
                    for entry in amend::add_cooldowns(doc, config, days, edits, notes) {
                        said.push(located(
                            path,
                            entry.line,
                            Severity::Note,
                            format!(
                            "the `{}` entry has no `cooldown`, and harden cannot add one to an \
                             entry written elsewhere (an alias): add `cooldown: {{default-days: \
                             {days}}}` where it is defined",
                            entry.ecosystem
                        ),
                        ));
                    }
                    Ok(())
                },
            )?;
        }
        if !additions.is_empty() {
            text = stage(
                path,
                &text,
                &mut notes,
                findings,
                |doc, config, edits, notes| {
                    self.append_entries(doc, config, &additions, style, edits, notes)
                },
            )?;
        }
        (text != doc.text()).then(|| FileChange {
            path: file.path.clone(),
            kind: FileKind::Dependabot,
            before: Some(doc.text().to_owned()),
            after: text,
            notes,
        })
    }

    /// Appends one entry per ecosystem in `additions`. A `github-actions` entry that could not
    /// join the existing one takes its `target-branch` and `groups`, so that both open their
    /// pull requests the same way.
    fn append_entries(
        &self,
        doc: &harden_yaml::Document,
        config: &config::Config,
        additions: &Wanted,
        style: &style::HouseStyle,
        edits: &mut EditSet<'_>,
        notes: &mut Vec<ChangeNote>,
    ) -> Result<(), String> {
        let updates = Path::root(0).key("updates");
        let Some(updates_node) = doc.get(&updates) else {
            return Err(
                "`updates` comes from a merge key, not from the file itself; add the \
                        missing entries by hand"
                    .to_owned(),
            );
        };
        let insert_line = doc.location(updates_node.span.end).line;
        for (eco, missing) in additions {
            let mut entry = write::entry(eco, missing, &self.options, style);
            if *eco == "github-actions" {
                if let Some(existing) = amend::actions_entry(config) {
                    write::take_over(&mut entry, &existing.branch_and_groups);
                }
            }
            edits
                .append_item(&updates, entry)
                .map_err(|e| format!("left unchanged: cannot append to `updates`: {e}"))?;
            notes.push(ChangeNote {
                line: insert_line,
                message: format!(
                    "add `{eco}` updates ({}) for {}",
                    self.options.schedule,
                    dirs_text(missing)
                ),
            });
        }
        Ok(())
    }
}

/// One stage of [`Dependabot::amend`]: parses `text`, reads the configuration again, lets
/// `build` make its edits and applies them through the guard. The new text, or `None` after
/// an error finding (the file is then left as it is).
fn stage(
    path: &FsPath,
    text: &str,
    notes: &mut Vec<ChangeNote>,
    findings: &mut Vec<Finding>,
    build: impl FnOnce(
        &harden_yaml::Document,
        &config::Config,
        &mut EditSet<'_>,
        &mut Vec<ChangeNote>,
    ) -> Result<(), String>,
) -> Option<String> {
    let fail = |findings: &mut Vec<Finding>, message: String| {
        findings.push(Finding::at(NAME, path, None, Severity::Error, message));
        None
    };
    let doc = match harden_yaml::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => return fail(findings, format!("left unchanged: {e}")),
    };
    let mut ignored = Vec::new();
    let Some(config) = config::read(&doc, path, &mut ignored) else {
        return fail(
            findings,
            "left unchanged: the edited file no longer reads".into(),
        );
    };
    let mut edits = EditSet::new(&doc);
    let mut new_notes = Vec::new();
    if let Err(message) = build(&doc, &config, &mut edits, &mut new_notes) {
        return fail(findings, message);
    }
    if edits.is_empty() {
        return Some(text.to_owned());
    }
    match edits.apply_verified() {
        Ok(after) => {
            notes.extend(new_notes);
            Some(after)
        }
        Err(e) => fail(
            findings,
            format!("left unchanged: {e}; this is a bug in harden, please report it with the file"),
        ),
    }
}

/// The ecosystems the entries of a Dependabot configuration update (none when it does not
/// read).
fn configured_ecosystems(file: &SourceFile) -> Vec<String> {
    let Ok(doc) = &file.doc else {
        return Vec::new();
    };
    let mut ignored = Vec::new();
    config::read(doc, &file.path, &mut ignored)
        .map(|c| c.entries.into_iter().map(|e| e.ecosystem).collect())
        .unwrap_or_default()
}

/// A finding on one line of `path`.
fn located(path: &FsPath, line: usize, severity: Severity, message: String) -> Finding {
    Finding {
        transform: NAME,
        path: path.to_owned(),
        line: Some(line),
        column: None,
        severity,
        message,
    }
}

/// For each wanted ecosystem, the directories no existing entry covers. Directories that only a
/// loosely read glob covers are reported and left out.
fn missing_entries(
    path: &FsPath,
    config: &config::Config,
    wanted: &Wanted,
    root_action: bool,
    findings: &mut Vec<Finding>,
) -> Wanted {
    let mut additions = Vec::new();
    for (eco, dirs) in wanted {
        let mut missing = Vec::new();
        let mut unsure: std::collections::BTreeMap<(String, usize), Vec<String>> =
            Default::default();
        for dir in dirs {
            match config.coverage(eco, dir, root_action) {
                config::Coverage::Covered => {}
                config::Coverage::Missing => missing.push(dir.clone()),
                config::Coverage::Maybe(glob, line) => {
                    unsure.entry((glob, line)).or_default().push(dir.clone())
                }
            }
        }
        for ((glob, line), dirs) in unsure {
            let message = format!(
                "`{eco}` in {} is matched by `{glob}` only if its `*` also matches `/`, which \
                 Dependabot does not document; not added, since an overlapping entry would make \
                 Dependabot reject the file. List these directories if they are not updated",
                dirs_text(&dirs)
            );
            findings.push(located(path, line, Severity::Note, message));
        }
        if !missing.is_empty() {
            additions.push((*eco, missing));
        }
    }
    additions
}

impl Transform for Dependabot {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "keep every pin fresh: a Dependabot configuration with grouped, cooled-down updates for actions and manifests"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut outcome = Outcome::default();
        let target = display_path(&repo.root, "dependabot.yml");
        let Some(detection) = self.detect(repo, &target, &mut outcome) else {
            return outcome;
        };
        let (files, listed) = config_files(repo, &mut outcome.findings);
        if outcome
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error)
        {
            return outcome;
        }
        // Findings about what harden leaves as it is are said when the run looks at the
        // configuration: it was given the Dependabot file (a run over the whole repository
        // lists it too), or harden changes or creates the file. A pre-commit run over changed
        // workflows and an untouched dependabot.yml stays quiet. Without a Dependabot file
        // (Renovate), a run given every workflow counts as a look at the whole repository.
        let tell = listed;
        let said = self.detection_notes(repo, &target, &detection);
        let mut found = detection.found;
        found.retain(|eco, _| self.options.wants(eco));
        let wanted = order(found);
        if let Some(renovate) = renovate::find(&repo.root) {
            if listed || whole_run(repo) {
                let path = display_file(&repo.root, &renovate.file);
                let also = match files.first() {
                    Some(file) => renovate::overlap(
                        &renovate,
                        &file.path.display().to_string(),
                        &configured_ecosystems(file),
                    ),
                    None => String::new(),
                };
                outcome.findings.push(Finding::at(
                    NAME,
                    &path,
                    None,
                    renovate.severity,
                    format!("{}{also}", renovate.message),
                ));
            }
            return outcome;
        }
        let context = Context {
            root_action: detection.root_action,
            tell,
        };
        match files.as_slice() {
            [] => {
                outcome.findings.extend(said);
                self.create(target, &wanted, &mut outcome);
            }
            [file] => {
                let before = outcome.findings.len();
                self.extend(file, &wanted, &context, &mut outcome);
                if tell || !outcome.changes.is_empty() {
                    outcome.findings.splice(before..before, said);
                }
            }
            [first, rest @ ..] => {
                for other in rest {
                    outcome.findings.push(Finding::at(
                        NAME,
                        &other.path,
                        None,
                        Severity::Error,
                        format!(
                            "a second Dependabot configuration next to {}; keep only one. Both are left unchanged",
                            first.path.display()
                        ),
                    ));
                }
            }
        }
        outcome
    }
}

impl Dependabot {
    /// Checks the options and walks the repository; `None` (with an error) when neither works.
    fn detect(
        &self,
        repo: &Repository,
        target: &FsPath,
        outcome: &mut Outcome,
    ) -> Option<detect::Detection> {
        if let Some(problem) = self.options.problem() {
            outcome
                .findings
                .push(Finding::at(NAME, target, None, Severity::Error, problem));
            return None;
        }
        let detection = match detect::scan(&repo.root) {
            Ok(d) => d,
            Err(e) => {
                outcome.findings.push(Finding::at(
                    NAME,
                    target,
                    None,
                    Severity::Error,
                    format!(
                        "cannot read the repository folder {} ({e}); nothing written",
                        repo.root.display()
                    ),
                ));
                return None;
            }
        };
        if detection.truncated {
            outcome.findings.push(Finding::at(
                NAME,
                target,
                None,
                Severity::Warning,
                "the repository is too large to search completely; some manifests may be missing from the configuration",
            ));
        }
        Some(detection)
    }

    /// Notes on what the walk found but did not configure: folders harden could not settle,
    /// and opt-in ecosystems that were not asked for.
    fn detection_notes(
        &self,
        repo: &Repository,
        target: &FsPath,
        detection: &detect::Detection,
    ) -> Vec<Finding> {
        let mut said = Vec::new();
        for (path, why) in &detection.refused {
            said.push(Finding::at(
                NAME,
                path,
                None,
                Severity::Error,
                format!("{why}; dependabot went on without this manifest"),
            ));
        }
        for (dir, message) in &detection.notes {
            let path = folder_path(&repo.root, dir);
            said.push(Finding::at(
                NAME,
                &path,
                None,
                Severity::Note,
                message.clone(),
            ));
        }
        let unasked: Vec<&'static str> = OPT_IN_ECOSYSTEMS
            .iter()
            .copied()
            .filter(|e| detection.found.contains_key(e) && !self.options.wants(e))
            .collect();
        for eco in unasked {
            said.push(Finding::at(
                NAME,
                target,
                None,
                Severity::Note,
                format!(
                    "`{eco}` is found but not configured: it is added only when asked (`--ecosystems all,{eco}`)"
                ),
            ));
        }
        said
    }
}

/// What [`Dependabot::extend`] needs to know about the run.
struct Context {
    /// The root holds an `action.yml`.
    root_action: bool,
    /// Say findings about what harden leaves as it is.
    tell: bool,
}

/// `root/<file>`, without a leading `./` for the current folder.
fn display_file(root: &FsPath, file: &str) -> PathBuf {
    if root == FsPath::new(".") || root.as_os_str().is_empty() {
        PathBuf::from(file)
    } else {
        root.join(file)
    }
}

/// The folder `dir` (`/`, `/web`) of the repository at `root`, for messages.
fn folder_path(root: &FsPath, dir: &str) -> PathBuf {
    let rel = dir.trim_start_matches('/');
    if rel.is_empty() {
        return if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root.to_owned()
        };
    }
    display_file(root, rel)
}

/// When every entry has `open-pull-requests-limit: 0` (security updates only), the warning
/// that harden adds nothing and that the SHA pins will not be updated.
fn security_only(path: &FsPath, config: &config::Config) -> Option<Finding> {
    if config.entries.is_empty() || config.entries.iter().any(|e| e.pr_limit != Some(0)) {
        return None;
    }
    let actions = config
        .entries
        .iter()
        .find(|e| e.ecosystem == "github-actions");
    let fix = match actions {
        Some(e) => format!(
            "raise `open-pull-requests-limit` of the `github-actions` entry (line {}) above 0, \
             or remove it (the default is 5)",
            e.line
        ),
        None => {
            "add a `github-actions` entry for `/` without `open-pull-requests-limit: 0`".to_owned()
        }
    };
    let line = actions.map_or(config.entries[0].line, |e| e.line);
    Some(located(
        path,
        line,
        Severity::Warning,
        format!(
            "every entry has `open-pull-requests-limit: 0` (security updates only), so harden \
             adds no version-update entries. Dependabot will then never update the SHA pins \
             harden writes: it raises no alerts, and so no security updates, for actions \
             pinned to a SHA. If the pins should stay current, {fix}"
        ),
    ))
}

/// Notes on the file's conventions that new entries do not follow: the retired `reviewers`,
/// and `pip`/`npm` entries for folders whose lock file belongs to `uv`/`bun`.
fn report_style(
    path: &FsPath,
    config: &config::Config,
    style: &style::HouseStyle,
    wanted: &Wanted,
    findings: &mut Vec<Finding>,
) {
    if let Some(line) = style.reviewer_lines().first() {
        findings.push(located(
            path,
            *line,
            Severity::Note,
            "`reviewers` is retired on GitHub (use a CODEOWNERS file); new entries do not copy it"
                .to_owned(),
        ));
    }
    if let Some(e) = config
        .entries
        .iter()
        .find(|e| e.ecosystem == "github-actions" && e.pr_limit == Some(0))
    {
        findings.push(located(
            path,
            e.line,
            Severity::Warning,
            "the `github-actions` entry has `open-pull-requests-limit: 0`: Dependabot will never \
             update the SHA pins harden writes (it raises no alerts for actions pinned to a SHA). \
             Raise the limit above 0, or remove it (the default is 5)"
                .to_owned(),
        ));
    }
    for (eco, dirs) in wanted {
        let older = match *eco {
            "uv" => "pip",
            "bun" => "npm",
            _ => continue,
        };
        for dir in dirs {
            let entry = config.entries.iter().find(|e| {
                e.ecosystem == older && e.dirs.iter().any(|(d, _)| config::dir_matches(d, dir))
            });
            if let Some(e) = entry {
                let lock = if *eco == "uv" { "uv.lock" } else { "bun.lock" };
                let newer = config.entries.iter().find(|n| {
                    n.ecosystem == *eco && n.dirs.iter().any(|(d, _)| config::dir_matches(d, dir))
                });
                let advice = match newer {
                    Some(n) => format!(
                        "The `{eco}` entry at line {} already updates it: remove the duplicate \
                         `{older}` entry",
                        n.line
                    ),
                    None => format!("Use `package-ecosystem: {eco}` there"),
                };
                findings.push(located(
                    path,
                    e.line,
                    Severity::Note,
                    format!(
                        "the `{older}` entry covers {dir}, whose lock file is {lock}: \
                         Dependabot's `{older}` updates leave {lock} behind. {advice}"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_parses() {
        assert_eq!("daily".parse::<Schedule>(), Ok(Schedule::Daily));
        assert_eq!(" Weekly".parse::<Schedule>(), Ok(Schedule::Weekly));
        assert_eq!("monthly".parse::<Schedule>(), Ok(Schedule::Monthly));
        assert!("hourly".parse::<Schedule>().is_err());
    }

    #[test]
    fn options_are_checked() {
        assert_eq!(DependabotOptions::default().problem(), None);
        let long = DependabotOptions {
            cooldown_days: 91,
            ..DependabotOptions::default()
        };
        assert!(long.problem().is_some());
        let unknown = DependabotOptions {
            ecosystems: Some(vec!["github-actions".into(), "npmx".into()]),
            ..DependabotOptions::default()
        };
        assert!(unknown.problem().is_some_and(|p| p.contains("npmx")));
    }

    #[test]
    fn known_ecosystems_are_sorted_and_unique() {
        let mut sorted = KNOWN_ECOSYSTEMS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, KNOWN_ECOSYSTEMS);
    }

    #[test]
    fn order_puts_actions_first() {
        let mut found = std::collections::BTreeMap::new();
        for eco in ["npm", "cargo", "github-actions"] {
            found
                .entry(eco)
                .or_insert_with(std::collections::BTreeSet::new)
                .insert("/".to_owned());
        }
        let names: Vec<&str> = order(found).into_iter().map(|(e, _)| e).collect();
        assert_eq!(names, ["github-actions", "cargo", "npm"]);
    }
}
