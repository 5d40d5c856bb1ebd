//! `update` (`harden update`): every action pinned to a SHA moves to the newest release tag of
//! the same major whose release is at least the cooldown old, with the exact tag as comment;
//! a pin that stays gets its comment made exact (`# v4` on v4.2.2's commit → `# v4.2.2`).
//!
//! The cooldown is `--min-age`, else the `cooldown: default-days` of the `github-actions` entry
//! of `.github/dependabot.yml`, else [`DEFAULT_COOLDOWN_DAYS`]; that entry's `ignore` rules
//! (`update-types`, `versions`) are never crossed. A release's date is its annotated tag's
//! tagger date, else its commit's committer date, read only for the candidates, newest first,
//! until one is old enough ([`ReleaseDates`], cached by SHA). Exempt actions and tag-only
//! callees are left to pin-actions' rules. Design: docs/usage.md, "harden update".

use std::collections::HashMap;
use std::sync::Arc;

use harden_github::{is_full_sha, FetchResult, ReleaseDates, RepoId, RepoRefs, TagRef};
use harden_registry::{DigestResult, ImageRef, Registry};
use harden_yaml::{EditSet, Lookup, Node, Path};

use super::{
    check_lockfile, merged_comment, names_branch, parse_uses, tag_word, uses_sites, version_word,
    FilePinner, PinActions, UsesRef,
};
use crate::globs::{Flavor, Globs};
use crate::pin_images::{classify, image_sites, ImageValue, SiteKind};
use crate::settings::{read_opt_in, Flags};
use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, Transform,
};

const NAME: &str = "update";

/// The cooldown when neither `--min-age` nor dependabot.yml sets one (zizmor's advice).
pub const DEFAULT_COOLDOWN_DAYS: u32 = 7;

const DAY: i64 = 86_400;

/// update in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "move SHA pins to the newest release past the cooldown",
    rule: "SHA pins should be on the newest release of their major at least the cooldown old, with its exact tag as comment",
    needs: crate::registry::Needs {
        resolver: true,
        prefetch_refs: true,
        files: false,
        images: true,
    },
    opt_in: true,
    configure,
    build,
};

/// Options of `harden update`.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// `--min-age DAYS`: overrides the cooldown of dependabot.yml.
    pub min_age: Option<u32>,
    /// `--major`: candidates of later majors too (never across a Dependabot ignore rule).
    pub major: bool,
    /// The time ages are measured from (unix seconds); `None`: now.
    pub now: Option<i64>,
}

fn configure(
    section: Option<&Node>,
    flags: &Flags,
    settings: &mut crate::registry::Settings,
) -> Result<(), harden_yaml::DeError> {
    read_opt_in(NAME, section, settings)?;
    settings.update = UpdateOptions {
        min_age: flags.min_age,
        major: flags.major,
        now: flags.now,
    };
    Ok(())
}

fn build(
    services: &crate::registry::Services,
    settings: &crate::registry::Settings,
) -> Result<Option<Box<dyn Transform>>, String> {
    let Some(resolver) = &services.resolver else {
        return Ok(None);
    };
    let dates = ReleaseDates::new(resolver.config()).map_err(|e| e.to_string())?;
    Ok(Some(Box::new(UpdatePins {
        pin: PinActions::new(Arc::clone(resolver), settings.pin_actions.clone()),
        dates,
        images: services.images.clone(),
        image_exempt: crate::pin_images::exempt_globs(&settings.pin_images),
        options: settings.update.clone(),
    })))
}

/// The update transform.
pub struct UpdatePins {
    /// Fetches refs and knows the exempt and tag-only actions.
    pin: PinActions,
    dates: ReleaseDates,
    /// The container registry client: digests of pinned images are refreshed.
    images: Option<Arc<Registry>>,
    /// Images never pinned (pin-images' `exempt`): never refreshed either.
    image_exempt: Globs,
    options: UpdateOptions,
}

/// A release tag: `v4.2.2`, `4.2`, `v5` (digits only, no pre-release).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Release(Vec<u64>);

impl Release {
    fn parse(tag: &str) -> Option<Release> {
        let bare = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
        let numbers: Option<Vec<u64>> = bare.split('.').map(|p| p.parse().ok()).collect();
        numbers.filter(|n| (1..=4).contains(&n.len())).map(Release)
    }

    fn part(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }
}

/// One `ignore` entry of dependabot.yml's github-actions entry.
#[derive(Debug)]
struct IgnoreRule {
    line: usize,
    names: Globs,
    update_types: Vec<String>,
    versions: Vec<String>,
}

impl IgnoreRule {
    /// True when the rule forbids moving `action` from `from` to `to`.
    fn forbids(&self, action: &str, from: &Release, to: &Release) -> bool {
        let repo: String = action.split('/').take(2).collect::<Vec<_>>().join("/");
        if !(self.names.is_match(action) || self.names.is_match(&repo)) {
            return false;
        }
        if self.update_types.is_empty() && self.versions.is_empty() {
            return true;
        }
        let differs_at = (0..3).find(|i| from.part(*i) != to.part(*i));
        let typed = self.update_types.iter().any(|t| {
            matches!(
                (t.as_str(), differs_at),
                ("version-update:semver-major", Some(0))
                    | ("version-update:semver-minor", Some(1))
                    | ("version-update:semver-patch", Some(2))
            )
        });
        typed || self.versions.iter().any(|v| requirement_matches(v, to))
    }
}

/// Whether `version` meets a Dependabot version requirement: `5.x`, `5.*`, `>= 5, < 6`,
/// `4.2.2` (every listed component equal).
fn requirement_matches(requirement: &str, version: &Release) -> bool {
    requirement.split(',').all(|condition| {
        let condition = condition.trim();
        let op_len = condition
            .find(|c: char| c.is_ascii_alphanumeric())
            .unwrap_or(condition.len());
        let (op, rest) = condition.split_at(op_len);
        let rest = rest.trim_end_matches(".x").trim_end_matches(".*");
        let Some(bound) = Release::parse(rest) else {
            return false;
        };
        let width = bound.0.len().max(version.0.len());
        let padded = |r: &Release| (0..width).map(|i| r.part(i)).collect::<Vec<_>>();
        let (v, b) = (padded(version), padded(&bound));
        match op.trim() {
            ">=" => v >= b,
            ">" => v > b,
            "<=" => v <= b,
            "<" => v < b,
            "!=" => v != b,
            "" | "=" | "==" => (0..bound.0.len()).all(|i| version.part(i) == bound.part(i)),
            _ => false,
        }
    })
}

/// What the repository's dependabot.yml says about updating actions.
#[derive(Debug, Default)]
struct Policy {
    /// Days a release must have before a pin moves to it.
    cooldown: u32,
    /// Where the cooldown comes from, for the note.
    source: String,
    ignore: Vec<IgnoreRule>,
    dependabot: Option<std::path::PathBuf>,
}

/// The strings of a scalar or a sequence of scalars.
fn strings<'d>(lookup: &Lookup<'d>, node: Option<&'d Node>) -> Vec<String> {
    match node.map(|n| lookup.resolve(n)) {
        Some(n) if n.as_str().is_some() => n.as_str().map(str::to_owned).into_iter().collect(),
        other => lookup
            .items(other)
            .into_iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
    }
}

impl Policy {
    fn read(repo: &Repository, options: &UpdateOptions) -> Policy {
        let mut policy = Policy {
            cooldown: DEFAULT_COOLDOWN_DAYS,
            source: format!("the default of {DEFAULT_COOLDOWN_DAYS} days"),
            ..Policy::default()
        };
        if let Some((file, doc)) = repo.documents(FileKind::Dependabot).next() {
            policy.dependabot = Some(file.path.clone());
            if let Some(root) = doc.root() {
                policy.read_entry(&Lookup::of(doc), root, &file.path);
            }
        }
        if let Some(days) = options.min_age {
            policy.cooldown = days;
            policy.source = "--min-age".to_owned();
        }
        policy
    }

    /// Reads the first `github-actions` entry of `updates:`.
    fn read_entry<'d>(&mut self, lookup: &Lookup<'d>, root: &'d Node, path: &std::path::Path) {
        let entry = lookup
            .items(lookup.get(root, "updates"))
            .into_iter()
            .find(|e| lookup.str(e, "package-ecosystem") == Some("github-actions"));
        let Some(entry) = entry else { return };
        let days = lookup
            .get(entry, "cooldown")
            .and_then(|c| lookup.str(c, "default-days"))
            .and_then(|d| d.parse::<u32>().ok());
        if let Some(days) = days {
            self.cooldown = days;
            self.source = format!("`cooldown: default-days` of {}", path.display());
        }
        for rule in lookup.items(lookup.get(entry, "ignore")) {
            let Some(name) = lookup.str(rule, "dependency-name") else {
                continue;
            };
            self.ignore.push(IgnoreRule {
                line: rule.line,
                names: Globs::lenient(&[name], Flavor::Names),
                update_types: strings(lookup, lookup.get(rule, "update-types")),
                versions: strings(lookup, lookup.get(rule, "versions")),
            });
        }
    }

    fn ignore_rule(&self, action: &str, from: &Release, to: &Release) -> Option<&IgnoreRule> {
        self.ignore.iter().find(|r| r.forbids(action, from, to))
    }
}

/// A SHA pin and the releases it could move to.
struct Plan<'r> {
    /// The exact release tag at the pinned commit.
    current: (String, Release),
    /// Later releases allowed by `--major` and the ignore rules, newest first.
    candidates: Vec<(&'r str, &'r TagRef)>,
    /// Later releases an ignore rule forbids: (tag, rule line), the newest.
    ignored: Option<(&'r str, usize)>,
}

/// The exact release at `sha` (the most precise, highest version tag) and the later ones.
fn plan<'r>(
    refs: &'r RepoRefs,
    sha: &str,
    action: &str,
    policy: &Policy,
    major: bool,
) -> Option<Plan<'r>> {
    let current = refs
        .tags_at(sha)
        .into_iter()
        .filter_map(|t| Release::parse(t).map(|r| (t.to_owned(), r)))
        .max_by(|(_, a), (_, b)| (a.0.len(), a).cmp(&(b.0.len(), b)))?;
    let width = current.1 .0.len();
    let mut later: Vec<(&str, &TagRef, Release)> = refs
        .tags
        .iter()
        .filter_map(|(name, tag)| Release::parse(name).map(|r| (name.as_str(), tag, r)))
        .filter(|(_, _, r)| r.0.len() == width && *r > current.1)
        .filter(|(_, _, r)| major || r.part(0) == current.1.part(0))
        .collect();
    later.sort_by(|a, b| b.2.cmp(&a.2));
    let mut ignored = None;
    let mut candidates = Vec::new();
    for (name, tag, release) in later {
        match policy.ignore_rule(action, &current.1, &release) {
            Some(rule) => {
                ignored.get_or_insert((name, rule.line));
            }
            None => candidates.push((name, tag)),
        }
    }
    Some(Plan {
        current,
        candidates,
        ignored,
    })
}

impl Transform for UpdatePins {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "move every SHA pin to the newest release of its major that is past the cooldown, with its exact tag as comment"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut outcome = Outcome::default();
        let mut wanted = Vec::new();
        self.pin.collect_wanted(repo, &mut wanted);
        let fetched = if wanted.is_empty() {
            HashMap::new()
        } else {
            self.pin.fetch(&wanted)
        };
        let policy = Policy::read(repo, &self.options);
        let now = self
            .options
            .now
            .unwrap_or_else(|| i64::try_from(harden_github::plumbing::unix_now()).unwrap_or(0));
        let root_note = policy
            .dependabot
            .clone()
            .unwrap_or_else(|| repo.root.join(".github"));
        if !wanted.is_empty() {
            outcome.findings.push(Finding::at(
                NAME,
                &root_note,
                None,
                Severity::Note,
                format!(
                    "cooldown {} days (from {}); pins move only to releases at least that old",
                    policy.cooldown, policy.source
                ),
            ));
            self.warn_quota(repo, &fetched, &policy, &root_note, &mut outcome);
        }
        let digests = self.current_digests(repo);
        let context = Context {
            dates: &self.dates,
            policy: &policy,
            major: self.options.major,
            now,
            fetched: &fetched,
        };
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            let sites = uses_sites(file.kind, doc);
            let spacing = doc.comment_spacing().max(1);
            let mut edits = EditSet::new(doc);
            edits.set_comment_spacing(spacing);
            let mut findings = Vec::new();
            let mut unverified = std::collections::BTreeMap::new();
            let mut pinner = FilePinner {
                doc,
                file_path: &file.path,
                sites: &sites,
                spacing,
                edits,
                notes: Vec::new(),
                findings: &mut findings,
                tag_only: &self.pin.tag_only,
                exempt: &self.pin.exempt,
                unverified: &mut unverified,
            };
            for (path, node) in &sites {
                context.update(&mut pinner, path, node);
            }
            for (path, node, kind) in image_sites(file.kind, doc) {
                refresh_image(&mut pinner, &path, node, kind, &digests, &self.image_exempt);
            }
            let FilePinner { edits, notes, .. } = pinner;
            let change = finish_edits(NAME, file, &edits, notes, &mut findings);
            outcome.changes.extend(change);
            outcome
                .findings
                .extend(findings.into_iter().map(|f| Finding {
                    transform: NAME,
                    ..f
                }));
        }
        lockfile_findings(repo, &mut outcome);
        outcome
    }
}

/// pin-actions' check of GitHub's workflow lockfile, for the pins this run moves: a locked
/// workflow whose `uses:` change asks for a refresh ([`crate::actions_lock::REFRESH`]; harden
/// does not write the lockfile).
fn lockfile_findings(repo: &Repository, outcome: &mut Outcome) {
    let mut checked = Outcome {
        changes: std::mem::take(&mut outcome.changes),
        findings: Vec::new(),
    };
    check_lockfile(repo, &mut checked);
    outcome.changes = checked.changes;
    outcome
        .findings
        .extend(checked.findings.into_iter().map(|f| {
            Finding {
                transform: NAME,
                message: f
                    .message
                    .replace("pin-actions changes", "harden update changes"),
                ..f
            }
        }));
}

/// The tag a digest-pinned image names, without its digest (`node:20@sha256:…` → `node:20`);
/// `None` for an image pinned by digest alone.
fn tagged(image: &ImageRef) -> Option<ImageRef> {
    image.tag.as_ref()?;
    Some(ImageRef {
        digest: None,
        ..image.clone()
    })
}

/// Moves the digest of a digest-pinned image to the one its tag names today. Images have no
/// release date: the cooldown does not apply to them, and the line says so.
fn refresh_image(
    pinner: &mut FilePinner<'_, '_>,
    path: &Path,
    node: &Node,
    kind: SiteKind,
    digests: &HashMap<String, DigestResult>,
    exempt: &Globs,
) {
    let Some(value) = node.as_str() else { return };
    let ImageValue::Pinned(image) = classify(kind, value) else {
        return;
    };
    if crate::pin_images::exempt(value, &image, exempt) {
        return;
    }
    let (Some(tag), Some(old)) = (tagged(&image), image.digest.as_deref()) else {
        return;
    };
    let new = match digests.get(&tag.key()) {
        Some(Ok(resolved)) => &resolved.digest,
        Some(Err(e)) => {
            return pinner.report(
                node,
                Severity::Warning,
                format!("image `{}` not refreshed: {e}", tag.key()),
            )
        }
        None => return,
    };
    if new == old || !value.contains(old) {
        return;
    }
    let new_value = value.replace(old, new);
    if let Err(e) = pinner.edits.replace_scalar(path, &new_value) {
        return pinner.report(
            node,
            Severity::Error,
            format!("cannot refresh `{value}`: {e}"),
        );
    }
    let message = format!(
        "{}: digest {old} -> {new} (images have no release date: the cooldown does not apply)",
        tag.key()
    );
    pinner.report(node, Severity::Note, format!("refreshed {message}"));
    pinner.notes.push(ChangeNote {
        line: node.line,
        message,
    });
}

impl UpdatePins {
    /// The digest each tag of a digest-pinned image of `repo` names today.
    fn current_digests(&self, repo: &Repository) -> HashMap<String, DigestResult> {
        let Some(registry) = &self.images else {
            return HashMap::new();
        };
        let mut wanted = Vec::new();
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            for (_, node, kind) in image_sites(file.kind, doc) {
                if let ImageValue::Pinned(image) = classify(kind, node.as_str().unwrap_or_default())
                {
                    wanted.extend(tagged(&image));
                }
            }
        }
        if wanted.is_empty() {
            HashMap::new()
        } else {
            registry.resolve_all(&wanted)
        }
    }

    /// Without a token, warns when the release dates to read could exceed GitHub's hourly quota
    /// of unauthenticated requests (at most one request per uncached candidate).
    fn warn_quota(
        &self,
        repo: &Repository,
        fetched: &HashMap<RepoId, FetchResult>,
        policy: &Policy,
        at: &std::path::Path,
        outcome: &mut Outcome,
    ) {
        if self.dates.has_token() {
            return;
        }
        let mut most = 0u64;
        let mut least = 0u64;
        let mut seen = std::collections::HashSet::new();
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            for (_, node) in uses_sites(file.kind, doc) {
                let Some((uses, refs)) = self.pinned(node, fetched) else {
                    continue;
                };
                let sha = uses.git_ref.to_ascii_lowercase();
                if !seen.insert((uses.repo.clone(), sha.clone())) {
                    continue;
                }
                let Some(plan) = plan(refs, &sha, &uses.action, policy, self.options.major) else {
                    continue;
                };
                let uncached = plan
                    .candidates
                    .iter()
                    .filter(|(_, t)| !self.dates.is_cached(t))
                    .count() as u64;
                most += uncached;
                least += u64::from(uncached > 0);
            }
        }
        if most > harden_github::UNAUTHENTICATED_QUOTA {
            outcome.findings.push(Finding::at(
                NAME,
                at,
                None,
                Severity::Warning,
                format!(
                    "reading release dates needs {least} to {most} REST requests; without a \
                     token GitHub allows {} an hour: set GITHUB_TOKEN or GH_TOKEN",
                    harden_github::UNAUTHENTICATED_QUOTA
                ),
            ));
        }
    }

    /// The SHA pin of `node` with its repository's refs, when it is one update handles.
    fn pinned<'f>(
        &self,
        node: &Node,
        fetched: &'f HashMap<RepoId, FetchResult>,
    ) -> Option<(UsesRef, &'f RepoRefs)> {
        let uses = parse_uses(node.as_str()?).ok()?;
        if !is_full_sha(&uses.git_ref)
            || self.pin.exempt.is_match(&uses.action)
            || self.pin.tag_only.find(&uses.action).is_some()
        {
            return None;
        }
        match fetched.get(&uses.repo) {
            Some(Ok(refs)) => Some((uses, refs.as_ref())),
            _ => None,
        }
    }
}

/// What every `uses:` of a run is updated with.
struct Context<'a> {
    dates: &'a ReleaseDates,
    policy: &'a Policy,
    major: bool,
    now: i64,
    fetched: &'a HashMap<RepoId, FetchResult>,
}

impl Context<'_> {
    fn update<'d>(&self, pinner: &mut FilePinner<'_, 'd>, path: &Path, node: &'d Node) {
        let value = node.as_str().unwrap_or_default().to_owned();
        let Ok(uses) = parse_uses(&value) else { return };
        if !is_full_sha(&uses.git_ref)
            || pinner.exempt.is_match(&uses.action)
            || pinner.tag_only.find(&uses.action).is_some()
        {
            return;
        }
        let refs = match self.fetched.get(&uses.repo) {
            Some(Ok(refs)) => refs,
            Some(Err(e)) => {
                return pinner.report(
                    node,
                    Severity::Warning,
                    format!("`{}` not updated: cannot fetch its tags: {e}", uses.action),
                )
            }
            None => return,
        };
        let sha = uses.git_ref.to_ascii_lowercase();
        let Some(plan) = plan(refs, &sha, &uses.action, self.policy, self.major) else {
            return pinner.report(
                node,
                Severity::Note,
                format!(
                    "`{}@{}`: no release tag points at this commit; left as it is",
                    uses.action, uses.git_ref
                ),
            );
        };
        let (chosen, held) = self.choose(pinner, node, &uses, &plan);
        if let Some((tag, age)) = held {
            pinner.report(
                node,
                Severity::Note,
                format!(
                    "`{}` held back: {tag} is {} old, under the cooldown of {} days",
                    uses.action,
                    days(age),
                    self.policy.cooldown
                ),
            );
        }
        if let Some((tag, line)) = plan.ignored {
            pinner.report(
                node,
                Severity::Note,
                format!(
                    "`{}` held back: {tag} is excluded by the `ignore` rule at line {line} of {}",
                    uses.action,
                    self.policy
                        .dependabot
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
            );
        }
        match chosen {
            Some((tag, tag_ref, age)) => {
                move_pin(pinner, path, node, &uses, &plan, tag, tag_ref, age)
            }
            None => repair_comment(pinner, path, node, &uses, refs, &plan.current.0),
        }
    }

    /// The newest candidate at least the cooldown old (tag, its ref, age in seconds), and the
    /// newest one held back by the cooldown (tag, age).
    #[allow(clippy::type_complexity)]
    fn choose<'r>(
        &self,
        pinner: &mut FilePinner<'_, '_>,
        node: &Node,
        uses: &UsesRef,
        plan: &Plan<'r>,
    ) -> (Option<(&'r str, &'r TagRef, i64)>, Option<(&'r str, i64)>) {
        let mut held = None;
        let min_age = i64::from(self.policy.cooldown) * DAY;
        for (tag, tag_ref) in &plan.candidates {
            let date = match self.dates.date(&uses.repo, tag_ref) {
                Ok(date) => date,
                Err(e) => {
                    pinner.report(
                        node,
                        Severity::Warning,
                        format!(
                            "`{}` not updated: cannot read the date of {tag}: {e}",
                            uses.action
                        ),
                    );
                    return (None, held);
                }
            };
            let age = self.now - date;
            if age >= min_age {
                return (Some((tag, tag_ref, age)), held);
            }
            held.get_or_insert((*tag, age));
        }
        (None, held)
    }
}

/// An age in seconds as whole days (`3 days`, `1 day`; a date in the future is `0 days`).
fn days(age: i64) -> String {
    match (age.max(0)) / DAY {
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

#[allow(clippy::too_many_arguments)]
fn move_pin(
    pinner: &mut FilePinner<'_, '_>,
    path: &Path,
    node: &Node,
    uses: &UsesRef,
    plan: &Plan<'_>,
    tag: &str,
    tag_ref: &TagRef,
    age: i64,
) {
    let new_value = format!("{}@{}", uses.action, tag_ref.commit);
    if let Err(e) = pinner.edits.replace_scalar(path, &new_value) {
        return pinner.report(
            node,
            Severity::Error,
            format!("cannot update `{}`: {e}", uses.action),
        );
    }
    let existing = pinner.trailing_comment(node);
    let comment = merged_comment(tag, existing.as_ref().map(|c| c.raw.as_str()));
    pinner.write_comment(path, node, &comment, existing.as_ref());
    // The note goes into commit messages and `--check`; the finding is the line of the
    // table of what moved that every output shows.
    let message = format!(
        "{}: {} -> {tag} ({} old)",
        uses.action,
        plan.current.0,
        days(age)
    );
    pinner.report(node, Severity::Note, format!("moved {message}"));
    pinner.notes.push(ChangeNote {
        line: node.line,
        message,
    });
}

/// Makes the comment of a pin that stays name its exact release.
/// A comment naming the branch the pin was taken from (`# main`) gets the tag in its place.
fn repair_comment(
    pinner: &mut FilePinner<'_, '_>,
    path: &Path,
    node: &Node,
    uses: &UsesRef,
    refs: &RepoRefs,
    exact: &str,
) {
    let existing = pinner.trailing_comment(node);
    let branch = existing.as_ref().filter(|c| names_branch(&c.text, refs));
    let named = match branch {
        Some(c) => c.text.split_whitespace().next().map(str::to_owned),
        None => existing
            .as_ref()
            .and_then(|c| version_word(&c.text).map(|(_, w)| tag_word(w).to_owned())),
    };
    if named.as_deref() == Some(exact) {
        return;
    }
    let comment = match branch {
        Some(c) => match c.text.split_once(char::is_whitespace) {
            Some((_, rest)) if !rest.trim().is_empty() => format!("{exact} {}", rest.trim()),
            _ => exact.to_owned(),
        },
        None => merged_comment(exact, existing.as_ref().map(|c| c.raw.as_str())),
    };
    if pinner.write_comment(path, node, &comment, existing.as_ref()) {
        let message = format!(
            "{}: comment {} -> # {exact} (the pin stays)",
            uses.action,
            named.map_or_else(|| "(none)".to_owned(), |n| format!("# {n}"))
        );
        pinner.report(node, Severity::Note, message.clone());
        pinner.notes.push(ChangeNote {
            line: node.line,
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(t: &str) -> Release {
        Release::parse(t).expect("a release")
    }

    #[test]
    fn releases_parse() {
        assert_eq!(Release::parse("v4.2.2"), Some(Release(vec![4, 2, 2])));
        assert_eq!(Release::parse("5"), Some(Release(vec![5])));
        assert_eq!(Release::parse("v4.2.2-beta"), None);
        assert_eq!(Release::parse("main"), None);
    }

    #[test]
    fn version_requirements() {
        assert!(requirement_matches(">= 5", &release("v5.0.0")));
        assert!(!requirement_matches(">= 5", &release("v4.9.0")));
        assert!(requirement_matches(">= 4.3, < 5", &release("v4.3.1")));
        assert!(requirement_matches("5.x", &release("v5.1.0")));
        assert!(!requirement_matches("5.x", &release("v4.1.0")));
        assert!(requirement_matches("4.2.2", &release("v4.2.2")));
        assert!(!requirement_matches("4.2.2", &release("v4.2.3")));
    }

    #[test]
    fn ignore_rules_by_update_type() {
        let rule = IgnoreRule {
            line: 1,
            names: Globs::lenient(&["actions/*"], Flavor::Names),
            update_types: vec!["version-update:semver-major".into()],
            versions: Vec::new(),
        };
        let from = release("v4.1.0");
        assert!(rule.forbids("actions/checkout", &from, &release("v5.0.0")));
        assert!(!rule.forbids("actions/checkout", &from, &release("v4.2.0")));
        assert!(!rule.forbids("other/x", &from, &release("v5.0.0")));
    }
}
