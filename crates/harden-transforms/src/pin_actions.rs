//! `pin-actions`: every `uses: owner/repo[/path]@ref` becomes `@<commit SHA> # <version>`.
//!
//! References are collected from all files first, so each repository is asked once (the
//! resolver fetches every tag and branch of a repository in one request); then each file gets
//! one edit set: the `uses` scalar is replaced in its own quote style and the version comment is
//! set after it. Nothing else on the line changes.
//!
//! In a flow collection (`- {uses: a@v1, with: {x: 1}}`) YAML allows no comment right after
//! the value; the version comment then goes at the end of the line when that line holds no
//! other `uses:` and the guard accepts it there, and is left out with a warning otherwise.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use harden_github::{FetchError, FetchResult, RefKind, RepoId, RepoRefs, ResolveError, Resolver};
use harden_yaml::{
    apply_splices, guard, Document, EditError, EditSet, Node, NodeKind, Path, ScalarStyle, Span,
    Splice,
};

use crate::actions_lock;
use crate::globs::{Flavor, Globs};
pub use crate::model::uses_sites;
use crate::model::{site_patterns, Uses};
use crate::settings::{name_globs, read_section, Flags, NameGlob, OneOrMany};
use crate::tag_only::{TagOnly, TagOnlyList};
use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, Transform,
};

pub mod update;

const NAME: &str = "pin-actions";

/// pin-actions in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "pin actions to commit SHAs",
    rule: "Actions should be pinned to a full commit SHA",
    needs: crate::registry::Needs {
        resolver: true,
        prefetch_refs: true,
        files: false,
        images: false,
    },
    opt_in: false,
    configure,
    build: build_from_settings,
};

/// `pin-actions:` in `.github/harden.yml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PinSection {
    /// Actions never pinned.
    #[serde(default)]
    exempt: OneOrMany<NameGlob>,
    /// `pin` or `keep`.
    branches: Option<BranchPolicy>,
    /// Blanks before a new `#` (1 to 8).
    comment_spacing: Option<u32>,
    /// Callees kept on their tag, besides the built-in list.
    #[serde(default)]
    tag_only: OneOrMany<NameGlob>,
    /// Built-in tag-only entries to pin anyway.
    #[serde(default)]
    pin_anyway: OneOrMany<NameGlob>,
}

/// The section, with `--exempt` added, `--branches` and `--verify` over it.
fn configure(
    section: Option<&harden_yaml::Node>,
    flags: &Flags,
    settings: &mut crate::registry::Settings,
) -> Result<(), harden_yaml::DeError> {
    let file: PinSection = read_section(section)?;
    let mut exempt = flags.exempt.clone();
    exempt.extend(name_globs(file.exempt));
    settings.pin_actions = PinOptions {
        branches: flags.branches.or(file.branches).unwrap_or_default(),
        exempt,
        comment_spacing: file.comment_spacing.map(|n| n.clamp(1, 8) as usize),
        verify: flags.verify,
        tag_only: name_globs(file.tag_only),
        pin_anyway: name_globs(file.pin_anyway),
    };
    Ok(())
}

/// pin-actions from the resolver and its options; with the file reader (present when
/// permissions runs too), composite actions pinned by SHA that run tags inside are reported
/// (transitive pins).
fn build_from_settings(
    services: &crate::registry::Services,
    settings: &crate::registry::Settings,
) -> Result<Option<Box<dyn Transform>>, String> {
    let Some(resolver) = &services.resolver else {
        return Ok(None);
    };
    let pin = PinActions::new(Arc::clone(resolver), settings.pin_actions.clone());
    Ok(Some(match &services.files {
        Some(files) => Box::new(crate::transitive_pins::WithTransitivePins::new(
            pin,
            Arc::clone(files),
        )),
        None => Box::new(pin),
    }))
}

/// What to do with a reference to a branch (`@main`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchPolicy {
    /// Pin to the branch's current tip, with the branch name as comment and a warning.
    #[default]
    Pin,
    /// Leave branch references as they are (reported as a note).
    Keep,
}

/// Options of the pin-actions transform.
#[derive(Debug, Clone, Default)]
pub struct PinOptions {
    /// What to do with branch references.
    pub branches: BranchPolicy,
    /// Actions never pinned: globs over `owner/repo[/path]` (`*` matches any run of characters,
    /// case-insensitively), e.g. `my-org/*`.
    pub exempt: Vec<String>,
    /// Blanks before a new `#` comment; `None` follows the file (one, or two if its comments use two).
    pub comment_spacing: Option<usize>,
    /// Require the version comments of SHA pins to be checked against the server: when the
    /// refs cannot be fetched, that is an error rather than a note (`--verify`).
    pub verify: bool,
    /// Globs of callees kept on their tag, besides the built-in list (`tag-only:`).
    pub tag_only: Vec<String>,
    /// Globs of built-in tag-only entries to pin anyway (`pin-anyway:`).
    pub pin_anyway: Vec<String>,
}

/// The pin-actions transform.
///
/// One instance remembers what it fetched (refs and failures alike), so running it over many
/// repositories asks about each referenced repository once.
pub struct PinActions {
    resolver: Arc<Resolver>,
    options: PinOptions,
    /// `options.exempt`, compiled.
    exempt: Globs,
    tag_only: TagOnlyList,
    fetched: Mutex<HashMap<RepoId, FetchResult>>,
}

impl PinActions {
    /// A pin-actions transform that resolves references with `resolver`.
    pub fn new(resolver: Arc<Resolver>, options: PinOptions) -> Self {
        let tag_only = TagOnlyList::built_in().with(&options.tag_only, &options.pin_anyway);
        PinActions {
            resolver,
            exempt: exempt_globs(&options.exempt),
            options,
            tag_only,
            fetched: Mutex::new(HashMap::new()),
        }
    }

    /// Fetches, in one batch, every repository that `repos` refer to, so that the following
    /// [`Transform::run`] calls find them all fetched. Running over many repositories without
    /// this works too, with one smaller batch per repository (less parallel fetching).
    pub fn prefetch<'a>(&self, repos: impl IntoIterator<Item = &'a Repository>) {
        let mut wanted = Vec::new();
        for repo in repos {
            self.collect_wanted(repo, &mut wanted);
        }
        self.fetch(&wanted);
    }

    fn lock_fetched(&self) -> MutexGuard<'_, HashMap<RepoId, FetchResult>> {
        self.fetched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The repositories `repo` refers to (not exempt), added to `wanted` once each.
    fn collect_wanted(&self, repo: &Repository, wanted: &mut Vec<RepoId>) {
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            for (_, node) in uses_sites(file.kind, doc) {
                if let Ok(u) = parse_uses(node.as_str().unwrap_or_default()) {
                    if !self.exempt.is_match(&u.action)
                        && self.tag_only.find(&u.action).is_none()
                        && !wanted.contains(&u.repo)
                    {
                        wanted.push(u.repo);
                    }
                }
            }
        }
    }

    /// The refs of `wanted`: what this instance fetched before, and one batch for the rest.
    fn fetch(&self, wanted: &[RepoId]) -> HashMap<RepoId, FetchResult> {
        let missing: Vec<RepoId> = {
            let known = self.lock_fetched();
            wanted
                .iter()
                .filter(|r| !known.contains_key(*r))
                .cloned()
                .collect()
        };
        let new = if missing.is_empty() {
            HashMap::new()
        } else {
            self.resolver.fetch_all(&missing)
        };
        let mut known = self.lock_fetched();
        known.extend(new);
        wanted
            .iter()
            .filter_map(|r| known.get(r).map(|result| (r.clone(), result.clone())))
            .collect()
    }
}

/// A `uses:` reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsesRef {
    /// `owner/repo[/path]` as written.
    pub action: String,
    /// The repository to resolve against.
    pub repo: RepoId,
    /// The ref after `@`.
    pub git_ref: String,
}

/// Why a `uses:` value is not something to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPinnable {
    /// `./path`: a local action or workflow, pinned by the repository itself.
    Local,
    /// `$/path`: an action or reusable workflow of the same repository at the running commit;
    /// inherently pinned (GitHub rejects an `@ref` on it).
    SelfRepository,
    /// `docker://image`: a container image, pinned by the pin-images transform.
    Docker,
    /// A `${{ }}` expression.
    Expression,
    /// No `@ref`.
    MissingRef,
    /// Not `owner/repo[/path]`.
    Malformed(String),
}

/// Splits a `uses:` value into the action and its ref ([`Uses::parse`], as pin-actions
/// sees it).
pub fn parse_uses(value: &str) -> Result<UsesRef, NotPinnable> {
    match Uses::parse(value) {
        Uses::Action(r) | Uses::Workflow(r) => Ok(UsesRef {
            action: r.action.to_owned(),
            repo: r.repo,
            git_ref: r.git_ref.to_owned(),
        }),
        Uses::Local(_) => Err(NotPinnable::Local),
        Uses::SelfRepository(_) => Err(NotPinnable::SelfRepository),
        Uses::Docker(_) => Err(NotPinnable::Docker),
        Uses::Expression => Err(NotPinnable::Expression),
        Uses::MissingRef => Err(NotPinnable::MissingRef),
        Uses::Malformed(why) => Err(NotPinnable::Malformed(why)),
    }
}

/// True when a `uses:` value is pinned: a full commit SHA, a local (`./`) or same-repository
/// (`$/`) reference, or a container image by digest. For reports that count pins.
pub fn is_pinned(value: &str) -> bool {
    match parse_uses(value) {
        Ok(u) => harden_github::is_full_sha(&u.git_ref),
        Err(NotPinnable::Local | NotPinnable::SelfRepository) => true,
        Err(NotPinnable::Docker) => value.contains("@sha256:"),
        Err(_) => false,
    }
}

/// The exemption globs of `options`, compiled (case-insensitive, `*` = any text, `/` included).
pub fn exempt_globs(exempt: &[String]) -> Globs {
    Globs::lenient(exempt, Flavor::Names)
}

/// A word of a comment reduced to what may name a tag: `tag=v1.2.3`, `@v1.2.3`,
/// `owner/repo@v1.2.3`, `v1.2.3;` and `(v1.2.3)` all give `v1.2.3`.
fn tag_word(word: &str) -> &str {
    let w = word
        .trim_start_matches(['(', '[', '#'])
        .trim_end_matches([',', ';', '.', ':', ')', ']']);
    let w = w.strip_prefix("tag=").unwrap_or(w);
    w.rsplit('@').next().unwrap_or(w)
}

fn looks_like_version(word: &str) -> bool {
    let w = tag_word(word);
    let w = w.rsplit('/').next().unwrap_or(w);
    let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
    w.starts_with(|c: char| c.is_ascii_digit())
}

/// The words of a comment with their byte ranges.
fn words(comment: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    comment.split_whitespace().map(move |w| {
        let start = w.as_ptr() as usize - comment.as_ptr() as usize;
        (start..start + w.len(), w)
    })
}

/// Where an existing comment names a version, and the version: its first word, the first word
/// after a ` # ` inside it (`zizmor: ignore[...] # v4.1.0`), or a `tag=` word (`renovate:
/// tag=v4.1.0`), when that word looks like a version; the range covers the version only (`v4`
/// of `@v4;`).
fn version_word(comment: &str) -> Option<(Range<usize>, &str)> {
    let mut previous: Option<&str> = None;
    for (range, word) in words(comment) {
        let candidate = previous.is_none_or(|p| p == "#") || word.starts_with("tag=");
        if candidate && looks_like_version(word) {
            let core = tag_word(word);
            let start = range.start + (core.as_ptr() as usize - word.as_ptr() as usize);
            return Some((start..start + core.len(), core));
        }
        previous = Some(word);
    }
    None
}

/// True when a word of the comment names one of `tags` (a leading `v` may differ).
/// A tag of a family also matches its version alone: `v1.0.0` names `login-to-gar/v1.0.0` and
/// `codeql-bundle-v1.0.0`.
fn mentions_tag(comment: &str, tags: &[&str]) -> bool {
    let same = |t: &str, w: &str| {
        t == w || t.strip_prefix(['v', 'V']) == Some(w) || w.strip_prefix(['v', 'V']) == Some(t)
    };
    let in_family = |t: &str, w: &str| {
        looks_like_version(w)
            && t.strip_suffix(w)
                .is_some_and(|prefix| prefix.ends_with(['/', '-']))
    };
    comment
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(tag_word)
        .filter(|w| !w.is_empty())
        .any(|w| tags.iter().any(|t| same(t, w) || in_family(t, w)))
}

/// True when the comment starts with the name of a branch (that is no tag): the comment a
/// branch pin writes.
fn names_branch(comment: &str, refs: &RepoRefs) -> bool {
    let Some((_, first)) = words(comment).next() else {
        return false;
    };
    let name = tag_word(first);
    refs.branches.contains_key(name) && !refs.tags.contains_key(name)
}

/// True when `new` is a more precise form of the version `old`: `v6` -> `v6.0.2`,
/// `v4.1` -> `v4.1.3`, `6` -> `v6.0.2` (the same family of tags, more components).
fn refines(old: &str, new: &str) -> bool {
    let bare = |t: &str| {
        let t = tag_word(t);
        t.strip_prefix(['v', 'V']).unwrap_or(t).to_owned()
    };
    let (old, new) = (bare(old), bare(new));
    old != new
        && !old.is_empty()
        && new
            .strip_prefix(&old)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The text of a comment without its `#`s and surrounding blanks.
fn comment_body(raw: &str) -> &str {
    raw.trim().trim_start_matches('#').trim()
}

/// The comment to write after a pin (without its leading `# `), given the existing comment
/// `existing` as written (`#` included): the existing comment with `version` in place of the
/// version it names, or `version` followed by the existing comment unchanged.
fn merged_comment(version: &str, existing: Option<&str>) -> String {
    let Some(raw) = existing
        .map(str::trim)
        .filter(|r| !comment_body(r).is_empty())
    else {
        return version.to_owned();
    };
    let body = comment_body(raw);
    match version_word(body) {
        Some((range, _)) => format!("{}{version}{}", &body[..range.start], &body[range.end..]),
        None => format!("{version} {raw}"),
    }
}

/// A comment found after a `uses` value.
#[derive(Debug, Clone)]
struct Trailing {
    /// The comment's bytes, `#` included.
    span: Span,
    /// The comment as written, `#` included.
    raw: String,
    /// The text after the `#`s, trimmed.
    text: String,
    /// Right after the value (`uses: x # c`) rather than at the end of a flow line.
    direct: bool,
}

impl Transform for PinActions {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "pin every action and reusable workflow to a full commit SHA, with its version as a comment"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut outcome = Outcome::default();
        let mut wanted = Vec::new();
        self.collect_wanted(repo, &mut wanted);
        let fetched = if wanted.is_empty() {
            HashMap::new()
        } else {
            self.fetch(&wanted)
        };
        let mut noted_refused = std::collections::HashSet::new();
        let mut unverified = BTreeMap::new();
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            let sites = uses_sites(file.kind, doc);
            let mut edits = EditSet::new(doc);
            let spacing = self
                .options
                .comment_spacing
                .unwrap_or_else(|| doc.comment_spacing())
                .max(1);
            edits.set_comment_spacing(spacing);
            let mut pinner = FilePinner {
                doc,
                file_path: &file.path,
                sites: &sites,
                spacing,
                edits,
                notes: Vec::new(),
                findings: &mut outcome.findings,
                tag_only: &self.tag_only,
                exempt: &self.exempt,
                unverified: &mut unverified,
            };
            for (path, node) in &sites {
                pinner.pin(path, node, &self.options, &fetched);
            }
            pinner.report_refused_names(&self.resolver, &mut noted_refused);
            pinner.report_aliases(file.kind);
            let FilePinner { edits, notes, .. } = pinner;
            if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut outcome.findings) {
                outcome.changes.push(change);
            }
        }
        outcome
            .findings
            .extend(unverified_findings(unverified, self.options.verify));
        check_lockfile(repo, &mut outcome);
        outcome
    }
}

/// SHA pins of one action repository whose refs could not be fetched: accepted as they are.
struct Unverified {
    /// In what order the repositories were met (the finding points at the first).
    order: usize,
    /// Where the first one is.
    path: std::path::PathBuf,
    location: harden_yaml::Location,
    /// Why the refs could not be fetched.
    error: FetchError,
    /// How many uses, and how many of them have no version comment.
    uses: usize,
    uncommented: usize,
}

/// Why refs could not be fetched, in a few words.
fn fetch_failure(error: &FetchError) -> String {
    match error {
        FetchError::NotCached => "offline and not in the cache".to_owned(),
        FetchError::Network(_) => "the server cannot be reached".to_owned(),
        FetchError::Timeout => "the server did not answer in time".to_owned(),
        other => other.to_string(),
    }
}

/// The findings about SHA pins accepted without their refs: one per reason (in practice one
/// for the whole repository), at the first such pin; a note, a warning when some have no
/// version comment, or with `--verify` an error.
fn unverified_findings(unverified: BTreeMap<RepoId, Unverified>, verify: bool) -> Vec<Finding> {
    let mut by_reason: BTreeMap<String, Vec<(RepoId, Unverified)>> = BTreeMap::new();
    for (repo, u) in unverified {
        by_reason
            .entry(fetch_failure(&u.error))
            .or_default()
            .push((repo, u));
    }
    let mut findings: Vec<(usize, Finding)> = Vec::new();
    for (why, mut group) in by_reason {
        group.sort_by_key(|(_, u)| u.order);
        let uses: usize = group.iter().map(|(_, u)| u.uses).sum();
        let uncommented: usize = group.iter().map(|(_, u)| u.uncommented).sum();
        let mut names: Vec<String> = group
            .iter()
            .take(3)
            .map(|(r, _)| format!("`{r}`"))
            .collect();
        if group.len() > 3 {
            names.push(format!("{} more", group.len() - 3));
        }
        let pins = match (uses, group.len()) {
            (1, _) => format!("1 SHA pin of {}", names.join(", ")),
            (n, 1) => format!("{n} SHA pins of {}", names.join(", ")),
            (n, k) => format!(
                "{n} SHA pins of {k} action repositories ({})",
                names.join(", ")
            ),
        };
        let (severity, message) = if verify {
            (
                Severity::Error,
                format!(
                    "cannot verify {pins} ({why}): --verify requires it; run where the server \
                     is reachable"
                ),
            )
        } else if uncommented == 0 {
            (
                Severity::Note,
                format!("{pins} accepted as written, version comments not verified ({why})"),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "{pins} accepted as written, version comments not verified ({why}); \
                     {uncommented} without a version comment, none added"
                ),
            )
        };
        let (_, first) = &group[0];
        let finding = Finding::at(NAME, &first.path, Some(first.location), severity, message);
        findings.push((first.order, finding));
    }
    findings.sort_by_key(|(order, _)| *order);
    findings.into_iter().map(|(_, f)| f).collect()
}

/// The `uses:` values of a workflow text with their lines, when it parses.
fn uses_values(text: &str) -> Vec<(usize, String)> {
    let Ok(doc) = Document::parse(text) else {
        return Vec::new();
    };
    uses_sites(FileKind::Workflow, &doc)
        .into_iter()
        .map(|(_, n)| (n.line, n.as_str().unwrap_or_default().trim().to_owned()))
        .collect()
}

/// A finding about GitHub's workflow lockfile itself.
fn lock_finding(
    path: &std::path::Path,
    line: usize,
    severity: Severity,
    message: String,
) -> Finding {
    Finding {
        transform: NAME,
        path: path.to_path_buf(),
        line: Some(line),
        column: None,
        severity,
        message,
    }
}

/// Checks GitHub's workflow lockfile, when the repository has one: SHA pins of onboarded
/// workflows that the lockfile locks at another commit (or not at all), and onboarded
/// workflows whose `uses:` this run changes (the lockfile must then be refreshed).
fn check_lockfile(repo: &Repository, outcome: &mut Outcome) {
    let Some(path) = actions_lock::find(&repo.root) else {
        return;
    };
    let lock = match actions_lock::read(&repo.root, &path) {
        Ok(lock) => lock,
        Err((line, why)) => {
            outcome.findings.push(lock_finding(
                &path,
                line,
                Severity::Warning,
                format!(
                    "cannot read GitHub's workflow lockfile ({why}); harden did not check it \
                     against the workflows: check it with `gh actions-lock --no-fix`"
                ),
            ));
            return;
        }
    };
    if !lock.known_version() {
        outcome.findings.push(lock_finding(
            &path,
            lock.version_line,
            Severity::Warning,
            format!(
                "lockfile version `{}` is not one harden knows ({}): read as the newest; \
                 check it with `gh actions-lock --no-fix`",
                lock.version.as_deref().unwrap_or("(none)"),
                actions_lock::KNOWN_VERSIONS.join(", ")
            ),
        ));
    }
    for (line, what) in &lock.skipped {
        outcome.findings.push(lock_finding(
            &path,
            *line,
            Severity::Warning,
            format!("{what}; that part of the lockfile was not checked"),
        ));
    }
    let mut changed: Vec<(usize, String)> = Vec::new();
    for file in repo.files.iter().filter(|f| f.kind == FileKind::Workflow) {
        let Some(doc) = file.document() else { continue };
        let Some(name) = file.path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(locked) = lock.workflows.get(&format!(".github/workflows/{name}")) else {
            continue;
        };
        let before = uses_values(doc.text());
        let after = outcome
            .changes
            .iter()
            .find(|c| c.path == file.path)
            .map(|c| uses_values(&c.after));
        if after.is_some_and(|after| after != before) {
            changed.push((locked.line, name.to_owned()));
        }
        for (line, value) in before {
            if let Some((severity, message)) = check_locked_pin(&lock, locked, &value) {
                outcome.findings.push(Finding {
                    transform: NAME,
                    path: file.path.clone(),
                    line: Some(line),
                    column: None,
                    severity,
                    message,
                });
            }
        }
    }
    if let Some((line, _)) = changed.first() {
        let names: Vec<&str> = changed.iter().map(|(_, n)| n.as_str()).collect();
        outcome.findings.push(lock_finding(
            &path,
            *line,
            Severity::Warning,
            format!(
                "pin-actions changes `uses:` in {}, which this lockfile locks: after applying, \
                 run `{}` (it keeps the SHA pins) and commit the lockfile, or GitHub will not \
                 start {}",
                names.join(", "),
                actions_lock::REFRESH,
                if names.len() == 1 {
                    "that workflow"
                } else {
                    "those workflows"
                }
            ),
        ));
    }
}

/// What to say about the `uses:` value `value` of a locked workflow, when it is a SHA pin the
/// lockfile does not lock.
fn check_locked_pin(
    lock: &actions_lock::Lockfile,
    locked: &actions_lock::LockedWorkflow,
    value: &str,
) -> Option<(Severity, String)> {
    let u = parse_uses(value).ok()?;
    if !harden_github::is_full_sha(&u.git_ref) {
        return None;
    }
    match lock.check_pin(locked, &u.action, &u.git_ref) {
        actions_lock::PinCheck::Agrees => None,
        actions_lock::PinCheck::Disagrees(others) => {
            let locked_as: Vec<String> = others
                .iter()
                .map(|(key, commit)| format!("`{key}` at {commit}"))
                .collect();
            Some((
                Severity::Error,
                format!(
                    "`{value}` disagrees with {}, which locks {} for this workflow: GitHub \
                     will not start it; refresh the lockfile with `{}`",
                    actions_lock::LOCKFILE,
                    locked_as.join(", "),
                    actions_lock::REFRESH
                ),
            ))
        }
        actions_lock::PinCheck::Missing => Some((
            Severity::Warning,
            format!(
                "`{value}` is not in {}, which locks this workflow: GitHub may not start it; \
                 refresh the lockfile with `{}`",
                actions_lock::LOCKFILE,
                actions_lock::REFRESH
            ),
        )),
    }
}

/// The pinning of one file.
struct FilePinner<'a, 'd> {
    doc: &'d Document,
    file_path: &'a std::path::Path,
    sites: &'a [(Path, &'d Node)],
    spacing: usize,
    edits: EditSet<'d>,
    notes: Vec<ChangeNote>,
    findings: &'a mut Vec<Finding>,
    /// Callees kept on their tag.
    tag_only: &'a TagOnlyList,
    /// Actions never pinned.
    exempt: &'a Globs,
    /// SHA pins accepted without their refs, per action repository.
    unverified: &'a mut BTreeMap<RepoId, Unverified>,
}

impl<'d> FilePinner<'_, 'd> {
    fn report(&mut self, node: &Node, severity: Severity, message: String) {
        let finding = Finding::at_node(NAME, self.file_path, self.doc, node, severity, message);
        self.findings.push(finding);
    }

    fn pin(
        &mut self,
        path: &Path,
        node: &'d Node,
        options: &PinOptions,
        fetched: &HashMap<RepoId, FetchResult>,
    ) {
        let value = node.as_str().unwrap_or_default().to_owned();
        let uses = match parse_uses(&value) {
            Ok(u) => u,
            Err(why) => return self.not_pinnable(node, &value, why),
        };
        if self.exempt.is_match(&uses.action) {
            return;
        }
        if let Some(entry) = self.tag_only.find(&uses.action) {
            return self.keep_on_tag(node, &value, &uses, entry);
        }
        let refs: &RepoRefs = match fetched.get(&uses.repo) {
            Some(Ok(refs)) => refs,
            Some(Err(e))
                if harden_github::is_full_sha(&uses.git_ref) && *e != FetchError::NotFound =>
            {
                return self.accept_unverified(node, &uses, e);
            }
            // The same text for every use of the repository, so that the report shows one
            // line listing the places rather than one line per use.
            Some(Err(e)) => {
                return self.report(
                    node,
                    Severity::Error,
                    format!("cannot pin actions of `{}`: {e}", uses.repo),
                )
            }
            None => return,
        };
        let resolved = match refs.resolve(&uses.git_ref) {
            Ok(r) => r,
            Err(e @ ResolveError::UnknownRef { .. }) => {
                return self.report(
                    node,
                    Severity::Error,
                    format!("cannot pin `{value}`: ref not found in {}: {e}", uses.repo),
                )
            }
            Err(e) => {
                return self.report(node, Severity::Error, format!("cannot pin `{value}`: {e}"))
            }
        };
        let existing = self.trailing_comment(node);
        match resolved.kind {
            RefKind::Commit => self.check_comment(path, node, &uses, refs, existing.as_ref()),
            RefKind::Branch if options.branches == BranchPolicy::Keep => self.report(
                node,
                Severity::Note,
                format!(
                    "`{value}` follows branch `{}`; left as it is (--branches=keep)",
                    uses.git_ref
                ),
            ),
            RefKind::Tag | RefKind::Branch => {
                self.pin_resolved(path, node, &value, &uses, &resolved, existing.as_ref())
            }
        }
    }

    /// Replaces a tag or branch reference by its commit SHA, with the version comment.
    fn pin_resolved(
        &mut self,
        path: &Path,
        node: &Node,
        value: &str,
        uses: &UsesRef,
        resolved: &harden_github::Resolved,
        existing: Option<&Trailing>,
    ) {
        let version = resolved
            .comment
            .clone()
            .unwrap_or_else(|| uses.git_ref.clone());
        if !harden_github::is_full_sha(&resolved.sha) {
            return self.report(
                node,
                Severity::Error,
                format!(
                    "cannot pin `{value}`: the server answered `{}`, not a commit SHA",
                    resolved.sha
                ),
            );
        }
        let new_value = format!("{}@{}", uses.action, resolved.sha);
        if let Some(ScalarStyle::Literal | ScalarStyle::Folded) = node.as_scalar().map(|s| s.style)
        {
            return self.report(
                node,
                Severity::Error,
                format!(
                    "cannot pin `{value}`: a block scalar (`|` or `>`) cannot be rewritten \
                     in place; write `uses: {new_value} # {version}`"
                ),
            );
        }
        if let Err(e) = self.edits.replace_scalar(path, &new_value) {
            return self.report(node, Severity::Error, format!("cannot pin `{value}`: {e}"));
        }
        if resolved.kind == RefKind::Branch {
            self.report(
                node,
                Severity::Warning,
                format!(
                    "`{value}` follows branch `{}`: pinned to its current tip {}; \
                     prefer a release tag, or keep branch references with --branches=keep",
                    uses.git_ref, resolved.sha
                ),
            );
        }
        let comment = merged_comment(&version, existing.map(|c| c.raw.as_str()));
        let commented = self.write_comment(path, node, &comment, existing);
        let shown = if commented {
            format!(" # {comment}")
        } else {
            String::new()
        };
        self.notes.push(ChangeNote {
            line: node.line,
            message: format!("{value} -> {new_value}{shown}"),
        });
    }

    /// Reports a `uses:` value that is not `owner/repo[/path]@ref`, when there is something to
    /// say (a local, same-repository or digest reference is fine as it is).
    fn not_pinnable(&mut self, node: &Node, value: &str, why: NotPinnable) {
        match why {
            NotPinnable::Local => {}
            NotPinnable::SelfRepository if value.contains('@') => {
                let path = crate::model::name(value).to_owned();
                self.report(
                    node,
                    Severity::Error,
                    format!(
                        "`{value}`: GitHub rejects a ref on a `$/` reference (it always runs the \
                         same commit as the workflow): write `{path}`"
                    ),
                );
            }
            // Same repository, running commit: pinned by nature.
            NotPinnable::SelfRepository => {}
            // A container image: the pin-images transform pins it to its digest.
            NotPinnable::Docker => {}
            NotPinnable::Expression => self.report(
                node,
                Severity::Warning,
                format!("`{value}` not pinned: it is an expression"),
            ),
            NotPinnable::MissingRef => self.report(
                node,
                Severity::Error,
                format!("`{value}` has no `@ref`; GitHub requires one: write `{value}@<tag>`"),
            ),
            NotPinnable::Malformed(why) => self.report(
                node,
                Severity::Error,
                format!("`{value}` is not owner/repo[/path]@ref: {why}"),
            ),
        }
    }

    /// A callee that refuses SHA refs: left on its tag with a note; a SHA pin of it is a
    /// warning with the fix.
    fn keep_on_tag(&mut self, node: &Node, value: &str, uses: &UsesRef, entry: &TagOnly) {
        if harden_github::is_full_sha(&uses.git_ref) {
            let tag = self
                .trailing_comment(node)
                .and_then(|c| version_word(&c.text).map(|(_, w)| tag_word(w).to_owned()))
                .unwrap_or_else(|| "<release tag>".to_owned());
            self.report(
                node,
                Severity::Warning,
                format!(
                    "`{value}` will fail: {}; write `{}@{tag}`",
                    entry.reason, uses.action
                ),
            );
        } else {
            self.report(
                node,
                Severity::Note,
                format!("`{value}` kept on its tag: {}", entry.reason),
            );
        }
    }

    /// A SHA pin whose refs could not be fetched: accepted as it is, counted for the one
    /// finding per action repository.
    fn accept_unverified(&mut self, node: &Node, uses: &UsesRef, error: &FetchError) {
        let commented = self
            .trailing_comment(node)
            .is_some_and(|c| version_word(&c.text).is_some());
        let location = self.doc.location(node.span.start);
        let order = self.unverified.len();
        let entry = self
            .unverified
            .entry(uses.repo.clone())
            .or_insert_with(|| Unverified {
                order,
                path: self.file_path.to_path_buf(),
                location,
                error: error.clone(),
                uses: 0,
                uncommented: 0,
            });
        entry.uses += 1;
        if !commented {
            entry.uncommented += 1;
        }
    }

    /// An already pinned SHA: add the version comment if missing, correct a wrong one.
    fn check_comment(
        &mut self,
        path: &Path,
        node: &Node,
        uses: &UsesRef,
        refs: &RepoRefs,
        existing: Option<&Trailing>,
    ) {
        let sha = uses.git_ref.to_ascii_lowercase();
        let tags = refs.tags_at(&sha);
        let text = existing.map(|c| c.text.as_str()).filter(|t| !t.is_empty());
        if text.is_some_and(|t| mentions_tag(t, &tags) || names_branch(t, refs)) {
            return;
        }
        let hint = text.and_then(version_word).map(|(_, w)| w);
        let pinned = format!("{}@{}", uses.action, uses.git_ref);
        if tags.is_empty() {
            match hint {
                Some(word) => {
                    let why = match refs.tags.get(tag_word(word)) {
                        Some(tag) => format!("tag {} is commit {}", tag_word(word), tag.commit),
                        None => format!("{} has no tag {}", uses.repo, tag_word(word)),
                    };
                    self.report(
                        node,
                        Severity::Warning,
                        format!(
                            "`{pinned}`: the comment says {word}, but no tag points at this \
                             commit ({why}); comment left as it is"
                        ),
                    );
                }
                None if text.is_none()
                    && !refs.branches.values().any(|b| b.eq_ignore_ascii_case(&sha)) =>
                {
                    self.report(
                        node,
                        Severity::Note,
                        format!(
                            "`{pinned}`: no tag points at this commit; no version comment added"
                        ),
                    );
                }
                None => {}
            }
            return;
        }
        // A subdirectory action of a repository that tags each action (`login-to-gar/v1.0.0`)
        // takes its version from its own family of tags when that family tags the commit.
        let family = uses
            .action
            .rsplit_once('/')
            .map(|(_, dir)| dir)
            .filter(|_| uses.action.matches('/').count() >= 2)
            .filter(|dir| {
                tags.iter()
                    .any(|t| t.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
            })
            .map(|dir| format!("{dir}/{}", hint.unwrap_or("v0")));
        let Some(version) = refs.version_for_commit(&sha, family.as_deref().or(hint)) else {
            return;
        };
        let comment = merged_comment(&version, existing.map(|c| c.raw.as_str()));
        // `# v6` -> `# v6.0.2` only makes the comment more precise: a change, not a warning.
        if let Some(old) = hint.filter(|old| !refines(old, &version)) {
            self.report(
                node,
                Severity::Warning,
                format!(
                    "`{}`: the comment says {old} but that commit is {version}; comment corrected",
                    uses.action
                ),
            );
        }
        if self.write_comment(path, node, &comment, existing) {
            self.notes.push(ChangeNote {
                line: node.line,
                message: format!("{pinned}: version comment # {comment}"),
            });
        }
    }

    /// The comment after the `uses` value: right after it, or, in a flow collection, at the
    /// end of its line when no other `uses` value is on that line.
    fn trailing_comment(&mut self, node: &Node) -> Option<Trailing> {
        let trailing = |doc: &Document, span: Span, direct: bool| {
            let raw = &doc.text()[span.range()];
            Trailing {
                span,
                raw: raw.to_owned(),
                text: comment_body(raw).to_owned(),
                direct,
            }
        };
        if let Some(c) = self.doc.comment_after(node) {
            return Some(trailing(self.doc, c.span, true));
        }
        if !self.in_flow_line(node) || !self.alone_on_line(node) {
            return None;
        }
        let end = node.span.end;
        let line_end = self.doc.line_content_end(end);
        let doc = self.doc;
        let found = doc
            .comment_list()
            .iter()
            .find(|c| c.span.start > end && c.span.start < line_end && !c.own_line)?;
        Some(trailing(doc, found.span, false))
    }

    /// True when other text than a comment follows the value on its line (flow style).
    fn in_flow_line(&self, node: &Node) -> bool {
        if matches!(
            node.as_scalar().map(|s| s.style),
            Some(ScalarStyle::Literal | ScalarStyle::Folded) | None
        ) {
            return false;
        }
        let end = node.span.end;
        let rest = self.doc.text()[end..self.doc.line_content_end(end)].trim_start();
        !rest.is_empty() && !rest.starts_with('#')
    }

    /// True when no other `uses` value starts or ends on the line where `node` ends.
    fn alone_on_line(&self, node: &Node) -> bool {
        let line = self.doc.line_start_of(node.span.end);
        self.sites.iter().all(|(_, other)| {
            std::ptr::eq(*other, node)
                || (self.doc.line_start_of(other.span.start) != line
                    && self.doc.line_start_of(other.span.end) != line)
        })
    }

    /// Writes `# comment` after the value at `path`, replacing `existing`. Returns whether it
    /// was written; if YAML allows no comment there, warns and leaves it out.
    fn write_comment(
        &mut self,
        path: &Path,
        node: &Node,
        comment: &str,
        existing: Option<&Trailing>,
    ) -> bool {
        // Flow-style comments are spliced as text: they follow the one-line rule too.
        let comment = &harden_yaml::render::one_line(comment);
        if let Some(old) = existing.filter(|c| !c.direct) {
            self.edits.splice_text(old.span, format!("# {comment}"));
            return true;
        }
        match self.edits.set_comment(path, comment) {
            Ok(()) => return true,
            Err(EditError::CommentNotAllowed { .. }) => {}
            Err(e) => {
                self.report(
                    node,
                    Severity::Error,
                    format!("could not write the comment: {e}"),
                );
                return false;
            }
        }
        if self.in_flow_line(node) && self.alone_on_line(node) {
            let at = self.doc.line_content_end(node.span.end);
            let splice = Splice {
                span: Span::new(at, at),
                text: format!("{}# {comment}", " ".repeat(self.spacing)),
            };
            // Only where the guard finds the data unchanged (not inside a multi-line string).
            let text = self.doc.text();
            let fits = apply_splices(text, std::slice::from_ref(&splice))
                .is_ok_and(|after| guard::verify(text, &after, &[]).is_ok());
            if fits {
                self.edits.splice_text(splice.span, splice.text);
                return true;
            }
        }
        self.report(
            node,
            Severity::Warning,
            format!(
                "version comment `{comment}` left out: YAML allows no comment after this value \
                 here (flow style with no free end of line, or a block scalar)"
            ),
        );
        false
    }

    /// Notes, once per action repository, the tag and branch names its server sent that the
    /// resolver refused (characters outside the safe set): they never become version comments.
    fn report_refused_names(&mut self, resolver: &Resolver, noted: &mut HashSet<RepoId>) {
        for (_, node) in self.sites {
            let Ok(uses) = parse_uses(node.as_str().unwrap_or_default()) else {
                continue;
            };
            if !noted.insert(uses.repo.clone()) {
                continue;
            }
            let refused = resolver.refused_ref_names(&uses.repo);
            let Some(first) = refused.first() else {
                continue;
            };
            let shown: String = format!("{first:?}").chars().take(80).collect();
            self.report(
                node,
                Severity::Note,
                format!(
                    "{}: the server sent {} tag or branch name(s) with characters harden never \
                     writes into a file (first: {shown}); they were ignored",
                    uses.repo,
                    refused.len()
                ),
            );
        }
    }

    /// Warns about `uses: *alias` values that are not pinned through their anchor.
    fn report_aliases(&mut self, kind: FileKind) {
        let pinned_anchors: Vec<&str> = self
            .sites
            .iter()
            .filter_map(|(_, n)| n.anchor.as_deref())
            .collect();
        let mut aliases: Vec<(&Node, String)> = Vec::new();
        for pattern in site_patterns(kind) {
            for (_, node) in self.doc.query(pattern) {
                if let NodeKind::Alias(name) = &node.kind {
                    if !pinned_anchors.contains(&name.as_str()) {
                        aliases.push((node, name.clone()));
                    }
                }
            }
        }
        aliases.sort_by_key(|(n, _)| n.span.start);
        for (node, name) in aliases {
            self.report(
                node,
                Severity::Warning,
                format!(
                    "`uses: *{name}` not pinned: the anchor `&{name}` is not itself a `uses:` \
                     value; pin it where it is defined"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uses_values() {
        let u = parse_uses("actions/checkout@v4").expect("valid");
        assert_eq!(u.action, "actions/checkout");
        assert_eq!(u.git_ref, "v4");
        let u = parse_uses("github/codeql-action/init@v3").expect("valid");
        assert_eq!(u.repo, RepoId::new("github", "codeql-action"));
        let u = parse_uses("o/r/.github/workflows/x.yml@main").expect("valid");
        assert_eq!(
            (u.repo, u.git_ref.as_str()),
            (RepoId::new("o", "r"), "main")
        );
        assert_eq!(parse_uses("./.github/actions/x"), Err(NotPinnable::Local));
        assert_eq!(parse_uses("docker://alpine:3"), Err(NotPinnable::Docker));
        assert_eq!(
            parse_uses("${{ matrix.action }}@v1"),
            Err(NotPinnable::Expression)
        );
        assert_eq!(parse_uses("actions/checkout"), Err(NotPinnable::MissingRef));
        assert!(matches!(
            parse_uses("checkout@v4"),
            Err(NotPinnable::Malformed(_))
        ));
        assert_eq!(
            parse_uses("$/.github/workflows/build.yml"),
            Err(NotPinnable::SelfRepository)
        );
        assert_eq!(
            parse_uses("$/actions/x@v1"),
            Err(NotPinnable::SelfRepository)
        );
        assert!(is_pinned("$/actions/x"));
        assert!(is_pinned("./x"));
        assert!(is_pinned(&format!("a/b@{}", "a".repeat(40))));
        assert!(!is_pinned("a/b@v1"));
        assert!(!is_pinned("docker://alpine:3"));
    }

    #[test]
    fn globs() {
        let exempt = |action: &str, glob: &str| exempt_globs(&[glob.to_owned()]).is_match(action);
        assert!(exempt("My-Org/thing", "my-org/*"));
        assert!(!exempt("other/thing", "my-org/*"));
        assert!(exempt("a/b/c", "a/*/c"));
    }

    #[test]
    fn comments_merge() {
        assert_eq!(merged_comment("v4.2.2", None), "v4.2.2");
        assert_eq!(merged_comment("v4.2.2", Some("# v4")), "v4.2.2");
        assert_eq!(merged_comment("v4.2.2", Some("#")), "v4.2.2");
        assert_eq!(
            merged_comment("v4.2.2", Some("# pinned on purpose")),
            "v4.2.2 # pinned on purpose"
        );
        assert_eq!(
            merged_comment("v4.2.2", Some("#no space, ## kept as written")),
            "v4.2.2 #no space, ## kept as written"
        );
        assert_eq!(
            merged_comment("v4.2.2", Some("# v4.1.0 (security)")),
            "v4.2.2 (security)"
        );
        assert_eq!(
            merged_comment("v6.1.0", Some("# zizmor: ignore[x] # v6.0.0")),
            "zizmor: ignore[x] # v6.1.0"
        );
        assert_eq!(
            merged_comment("v4.3.0", Some("# renovate: tag=v4.1.0")),
            "renovate: tag=v4.3.0"
        );
        assert_eq!(merged_comment("v1.2.3", Some("#@v1")), "@v1.2.3");
        assert_eq!(
            merged_comment("v6.0.2", Some("# v6.0.1; needed below")),
            "v6.0.2; needed below"
        );
    }

    #[test]
    fn more_precise_versions() {
        assert!(refines("v6", "v6.0.2"));
        assert!(refines("v4.1", "v4.1.3"));
        assert!(refines("6", "v6.0.2"));
        assert!(!refines("v6", "v6"));
        assert!(!refines("v4.1.0", "v4.2.2"));
        assert!(!refines("v5", "v4.2.2"));
        assert!(!refines("v6", "v60.0.1"));
    }

    #[test]
    fn comment_words() {
        assert_eq!(tag_word("tag=v1.2.3"), "v1.2.3");
        assert_eq!(tag_word("@v4"), "v4");
        assert_eq!(tag_word("v6.0.2;"), "v6.0.2");
        assert_eq!(tag_word("(v1)"), "v1");
        assert!(mentions_tag("v6.0.2; needed", &["v6.0.2"]));
        assert!(mentions_tag("renovate: tag=v1.2.3", &["v1.2.3"]));
        assert!(mentions_tag("1.2.3", &["v1.2.3"]));
        assert!(mentions_tag("v2.0.0", &["2.0.0"]));
        assert!(!mentions_tag("v1.2", &["v1.2.3"]));
        assert!(mentions_tag("v1.0.0", &["login-to-gar/v1.0.0"]));
        assert!(mentions_tag("v2.16.1", &["codeql-bundle-v2.16.1"]));
        assert!(!mentions_tag("fix", &["hot-fix"]));
        assert!(mentions_tag("nightly", &["nightly"]));
        assert!(looks_like_version("create-github-app-token/v1.2.3"));
        assert!(!looks_like_version("main"));
        assert_eq!(version_word("ubuntu-24-04 support"), None);
        assert_eq!(version_word("a # v1").map(|(_, w)| w), Some("v1"));
    }
}
