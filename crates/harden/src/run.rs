//! One run: discover files, run the selected transforms in order on each repository, and write
//! (or only show) the result.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use harden_github::{FileReader, Resolver, ResolverConfig, ResolverMode};
use harden_registry::{Registry, RegistryConfig};
use harden_transforms::dependabot::Schedule;
use harden_transforms::globs::Globs;
use harden_transforms::permissions::{GithubFiles, RemoteFiles};
use harden_transforms::pin_actions::{exempt_globs, BranchPolicy};
use harden_transforms::registry::{self, Needs, Services, Settings};
use harden_transforms::settings::Flags;
use harden_transforms::{FileKind, Finding, Repository, Severity, SourceFile, Transform};

use crate::cli::{Args, Branches, ResolverKind, Schedule as CliSchedule};
use crate::config::{self, Config};
use crate::discover;
use crate::fsutil;
use crate::gitops;
use crate::prefetch;
use crate::report::{Mode, RepoReport, TransformReport};

/// What all repositories of a run share: the services (resolver and its cache, file reader,
/// registry client) the selected transforms need.
pub(crate) struct Shared {
    services: Services,
    /// The flags the transforms read, merged over each repository's `.github/harden.yml`.
    flags: Flags,
    selected: Vec<&'static str>,
    /// Opt-in transforms `.github/harden.yml` may enable (no `--only`, not `--skip`ped).
    opt_in_allowed: Vec<&'static str>,
}

impl Shared {
    /// Builds the services the selected transforms (and the opt-in ones a configuration file
    /// may enable) need, as their registry entries say.
    pub(crate) fn new(args: &Args, selected: Vec<&'static str>) -> Result<Self, String> {
        let opt_in_allowed: Vec<&'static str> = registry::TRANSFORMS
            .iter()
            .filter(|t| t.opt_in && args.opt_in_allowed(t.name))
            .map(|t| t.name)
            .collect();
        let wanted = |need: fn(&Needs) -> bool| {
            registry::TRANSFORMS.iter().any(|t| {
                need(&t.needs) && (selected.contains(&t.name) || opt_in_allowed.contains(&t.name))
            })
        };
        let resolver = if wanted(|n| n.resolver) {
            Some(Arc::new(resolver(args)?))
        } else {
            None
        };
        let images = if wanted(|n| n.images) {
            Some(image_registry(args)?)
        } else {
            None
        };
        let files = match &resolver {
            Some(resolver) if wanted(|n| n.files) => {
                let reader = FileReader::new(resolver.config()).map_err(|e| e.to_string())?;
                let files = GithubFiles::new(Arc::clone(resolver), Arc::new(reader));
                Some(Arc::new(files) as Arc<dyn RemoteFiles>)
            }
            _ => None,
        };
        let shared = Shared {
            services: Services {
                resolver,
                files,
                images,
            },
            flags: flags(args),
            selected,
            opt_in_allowed,
        };
        // Flags that no configuration file can make valid are usage errors.
        transforms_for(&shared, &config::without_file(&shared.flags).settings)?;
        Ok(shared)
    }

    /// True when a selected transform asks for refs of every `uses:` early.
    fn prefetches_refs(&self) -> bool {
        registry::TRANSFORMS
            .iter()
            .any(|t| t.needs.prefetch_refs && self.selected.contains(&t.name))
    }
}

/// The ref resolver, from the environment and the flags.
fn resolver(args: &Args) -> Result<Resolver, String> {
    let mut config = ResolverConfig::from_env();
    config.offline = args.offline;
    config.refresh = args.refresh;
    if let Some(dir) = &args.recorded {
        config.recorded = Some(dir.clone());
    }
    if let Some(dir) = &config.recorded {
        if !dir.join("refs").is_dir() {
            return Err(format!(
                "--recorded {}: no `refs` folder there; point it at a folder holding refs/<owner>__<repo>.json (such as testdata/recorded)",
                dir.display()
            ));
        }
    }
    config.jobs = args.jobs;
    if let Some(seconds) = args.timeout {
        config.timeout = std::time::Duration::from_secs_f64(seconds);
    }
    config.mode = match args.resolver {
        ResolverKind::Git => ResolverMode::Git,
        ResolverKind::Api => ResolverMode::Api,
    };
    if config.token.is_none() && config.mode == ResolverMode::Api {
        config.token = gh_auth_token();
    }
    Resolver::new(config).map_err(|e| e.to_string())
}

/// The container registry client: `HARDEN_REGISTRY_MIRRORS`, the cache folder, and the flags
/// shared with pin-actions.
fn image_registry(args: &Args) -> Result<Arc<Registry>, String> {
    let mut config = RegistryConfig::from_env().map_err(|e| e.to_string())?;
    config.offline = args.offline;
    config.refresh = args.refresh;
    config.jobs = args.jobs;
    if let Some(seconds) = args.timeout {
        config.timeout = std::time::Duration::from_secs_f64(seconds);
    }
    Ok(Arc::new(Registry::new(config).map_err(|e| e.to_string())?))
}

/// Starts resolving the images of every loaded repository in the background, so that the
/// registries are asked while pin-actions asks GitHub; pin-images then finds them resolved (or
/// waits for the requests under way).
fn prefetch_images(registry: &Arc<Registry>, loaded: &[LoadedRepository], flags: &Flags) {
    let mut images = Vec::new();
    for loaded in loaded {
        let settings = loaded.settings_or_flags(flags);
        harden_transforms::pin_images::add_wanted(
            &loaded.repo.files,
            &settings.pin_images,
            &mut images,
        );
    }
    if images.is_empty() {
        return;
    }
    let registry = Arc::clone(registry);
    std::thread::spawn(move || registry.resolve_all(&images));
}

/// The selected transforms for one repository (and the opt-in ones its `.github/harden.yml`
/// enables), in registry order, built from the flags merged over that file.
fn transforms_for(shared: &Shared, settings: &Settings) -> Result<Vec<Box<dyn Transform>>, String> {
    let mut out: Vec<Box<dyn Transform>> = Vec::new();
    for info in registry::TRANSFORMS {
        let enabled_here =
            shared.opt_in_allowed.contains(&info.name) && settings.enabled.contains(info.name);
        if !(shared.selected.contains(&info.name) || enabled_here) {
            continue;
        }
        if let Some(transform) = (info.build)(&shared.services, settings)? {
            out.push(transform);
        }
    }
    Ok(out)
}

/// The command-line flags the transforms read.
fn flags(args: &Args) -> Flags {
    Flags {
        exempt: args.exempt.clone(),
        branches: args.branches.map(|b| match b {
            Branches::Pin => BranchPolicy::Pin,
            Branches::Keep => BranchPolicy::Keep,
        }),
        verify: args.verify,
        declare: args.declare.clone(),
        move_writes: args.move_writes,
        narrow: args.narrow,
        strict: args.strict,
        repository_default: args.repository_default.clone(),
        schedule: args.schedule.map(|s| match s {
            CliSchedule::Daily => Schedule::Daily,
            CliSchedule::Weekly => Schedule::Weekly,
            CliSchedule::Monthly => Schedule::Monthly,
        }),
        no_group: args.no_group,
        cooldown: args.cooldown,
        ignore_major: args.ignore_major,
        ecosystems: args.ecosystems.clone(),
        min_age: args.min_age,
        major: args.major,
        // The time update measures release ages from, for tests (unix seconds).
        now: std::env::var("HARDEN_NOW")
            .ok()
            .and_then(|n| n.parse().ok()),
    }
}

fn problem(path: PathBuf, line: Option<usize>, column: Option<usize>, message: String) -> Finding {
    Finding {
        transform: "",
        path,
        line,
        column,
        severity: Severity::Error,
        message,
    }
}

/// One repository read from disk: its files, the problems met reading them, and its
/// `.github/harden.yml` read once for every later step.
struct LoadedRepository {
    repo: Repository,
    problems: Vec<Finding>,
    config: Result<Config, config::ConfigError>,
}

impl LoadedRepository {
    /// The repository's settings, or the flags over the defaults when its configuration does
    /// not load (its transforms then do not run; this is for fetching ahead only).
    fn settings_or_flags(&self, flags: &Flags) -> Cow<'_, Settings> {
        match &self.config {
            Ok(config) => Cow::Borrowed(&config.settings),
            Err(_) => Cow::Owned(config::without_file(flags).settings),
        }
    }
}

/// Reads the configuration and the files of the repository at `root`, several files at once
/// (see [`load`]); each parsed file announces the action repositories it uses, except those
/// the repository's pin-actions settings exempt.
fn load_repository(
    root: &std::path::Path,
    files: &[(PathBuf, FileKind)],
    flags: &Flags,
    announcer: &prefetch::Announcer<'_>,
) -> LoadedRepository {
    let mut loaded = LoadedRepository {
        repo: Repository {
            root: root.to_path_buf(),
            files: Vec::new(),
        },
        problems: Vec::new(),
        config: config::load(root, flags),
    };
    let exempt = exempt_globs(&loaded.settings_or_flags(flags).pin_actions.exempt);
    loaded.repo.files = load(root, files, &mut loaded.problems, announcer, &exempt);
    loaded.problems.extend(git_config_problem(root));
    loaded
}

/// `.git/config` refused by the one door (a link out, to `/proc` or `/dev`, a FIFO): one
/// located error here, for every transform that reads the repository's name from it (they
/// then go on as without a remote). A missing file, or a `.git` that is not a folder, is
/// nothing to report.
fn git_config_problem(root: &std::path::Path) -> Option<Finding> {
    use harden_github::safe_read;
    if !root.join(".git").is_dir() {
        return None;
    }
    let path = root.join(".git").join("config");
    match safe_read::read_text(root, &path, safe_read::MAX_SMALL_FILE) {
        Err(why) if !why.is_missing() => Some(problem(
            path,
            None,
            None,
            format!(
                "{why}; harden went on without the repository's GitHub name (the `origin` \
                 remote): make .git/config git's own regular file"
            ),
        )),
        _ => None,
    }
}

/// Reads and parses the files of one repository, several files at once; unreadable, invalid
/// and non-regular files (FIFOs, devices: reading them would block or never end) become
/// problems.
fn load(
    root: &std::path::Path,
    files: &[(PathBuf, FileKind)],
    problems: &mut Vec<Finding>,
    announcer: &prefetch::Announcer<'_>,
    exempt: &Globs,
) -> Vec<SourceFile> {
    use rayon::prelude::*;
    let results: Vec<Result<SourceFile, Finding>> = files
        .par_iter()
        .map(|(path, kind)| {
            let file = load_one(root, path, *kind)?;
            announcer.announce(&file, exempt);
            Ok(file)
        })
        .collect();
    let mut out = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(file) => {
                if let Err(e) = &file.doc {
                    let loc = e.location();
                    problems.push(problem(
                        file.path.clone(),
                        Some(loc.line),
                        Some(loc.column),
                        format!(
                            "{}; harden left this file untouched: fix it and run again",
                            e.message()
                        ),
                    ));
                }
                out.push(file);
            }
            Err(p) => problems.push(p),
        }
    }
    out
}

/// Reads one file of the repository at `root` through the one door
/// ([`harden_github::safe_read`]): a link out of the repository, a FIFO, a device, a file of
/// `/proc` or one over 64 MiB is a located problem, never read.
fn load_one(
    root: &std::path::Path,
    path: &std::path::Path,
    kind: FileKind,
) -> Result<SourceFile, Finding> {
    use harden_github::safe_read::{self, ReadRefusal};
    let text = safe_read::read_text(root, path, safe_read::MAX_REPOSITORY_FILE).map_err(|e| {
        let (line, why) = match e {
            ReadRefusal::NotUtf8 { line } => (
                Some(line),
                "not UTF-8 text (GitHub reads workflows as UTF-8): re-save the file as UTF-8"
                    .to_owned(),
            ),
            ReadRefusal::Missing => (None, "cannot read the file: it does not exist".to_owned()),
            other => (None, other.to_string()),
        };
        problem(path.to_path_buf(), line, None, why)
    })?;
    Ok(SourceFile::new(path.to_path_buf(), kind, text))
}

/// Runs the transforms on every repository named on the command line: files are read and
/// parsed in parallel while the action repositories they name are fetched, the repositories are
/// then hardened in parallel, and every changed file of the run is written in one parallel
/// batch (reports keep the command-line order). Design: docs/design.md, "Pipeline".
pub(crate) fn run(args: &Args, shared: &Shared, mode: Mode) -> Vec<RepoReport> {
    use rayon::prelude::*;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let found = discover::discover(&paths);
    let mut reports = Vec::new();
    if !found.problems.is_empty() || !found.skipped.is_empty() {
        let skipped = found.skipped.into_iter().map(|(p, why)| Finding {
            severity: Severity::Warning,
            ..problem(p, None, None, why)
        });
        reports.push(RepoReport {
            root: PathBuf::from("."),
            transforms: Vec::new(),
            problems: found
                .problems
                .into_iter()
                .map(|(p, why)| problem(p, None, None, why))
                .chain(skipped)
                .collect(),
            written: Vec::new(),
        });
    }
    let spinner = progress("hardening");
    let labels = patch_labels(found.repos.keys().map(PathBuf::as_path));
    // Files are parsed in parallel; the action repositories of each parsed file are fetched
    // at once, while the other files are still parsed. Transforms start when all are known.
    // Refs are fetched early for the transforms that read every `uses:` (a resolver built only
    // for sign-releases fetches what its own workflow needs, later).
    let resolver = (shared.services.resolver.as_deref()).filter(|_| shared.prefetches_refs());
    let loaded: Vec<LoadedRepository> = prefetch::while_parsing(resolver, args.jobs, |announcer| {
        found
            .repos
            .par_iter()
            .map(|(root, files)| load_repository(root, files, &shared.flags, announcer))
            .collect()
    });
    if let Some(registry) = &shared.services.images {
        prefetch_images(registry, &loaded, &shared.flags);
    }
    let (mut hardened, pending): (Vec<RepoReport>, Vec<Vec<PendingWrite>>) = loaded
        .into_par_iter()
        .zip(labels)
        .map(|(loaded, label)| {
            let patches = args.patch_dir.as_deref().map(|dir| (dir, label.as_str()));
            harden_repository(args, shared, mode, loaded, patches)
        })
        .unzip();
    write_all(&mut hardened, pending);
    spinner.finish_and_clear();
    reports.extend(hardened);
    reports
}

/// Runs the transforms of a repository its configuration selects.
fn harden_repository(
    args: &Args,
    shared: &Shared,
    mode: Mode,
    loaded: LoadedRepository,
    patches: Option<(&std::path::Path, &str)>,
) -> (RepoReport, Vec<PendingWrite>) {
    let LoadedRepository {
        repo,
        mut problems,
        config,
    } = loaded;
    let root = repo.root.as_path();
    if mode != Mode::Commit {
        problems.extend(gitops::leftover_note(root));
    }
    let transforms = match config.map_err(|e| {
        problem(
            e.path.clone(),
            Some(e.line),
            Some(e.column),
            format!("{}; nothing was changed in this repository", e.message),
        )
    }) {
        Ok(config) => transforms_for(shared, &config.settings)
            .map(|t| (t, gitops::GitOptions::new(args, &config), config))
            .map_err(|msg| problem(root.to_path_buf(), None, None, msg)),
        Err(p) => Err(p),
    };
    match transforms {
        Ok((transforms, git, config)) => {
            let warnings = settings_warnings(root, &config, &shared.selected);
            let (mut report, pending) =
                run_repository(repo, problems, &transforms, mode, &git, patches);
            for warning in warnings {
                if let Some(t) = report
                    .transforms
                    .iter_mut()
                    .find(|t| t.name == warning.transform)
                {
                    t.findings.push(warning);
                }
            }
            (report, pending)
        }
        Err(p) => {
            let report = RepoReport {
                root: root.to_path_buf(),
                transforms: Vec::new(),
                problems: problems.into_iter().chain(std::iter::once(p)).collect(),
                written: Vec::new(),
            };
            (report, Vec::new())
        }
    }
}

/// Warnings for `.github/harden.yml` settings that would do nothing in the repository at
/// `root` (a declaration for a workflow or job it does not have), for the selected transforms.
fn settings_warnings(
    root: &std::path::Path,
    config: &Config,
    selected: &[&'static str],
) -> Vec<Finding> {
    let Some(path) = config::config_path(root) else {
        return Vec::new();
    };
    config
        .settings
        .warnings(|| workflow_jobs(root))
        .into_iter()
        .filter(|(transform, ..)| selected.contains(transform))
        .map(|(transform, line, column, message)| Finding {
            transform,
            path: path.clone(),
            line: Some(line),
            column: Some(column),
            severity: Severity::Warning,
            message,
        })
        .collect()
}

/// Each workflow of `.github/workflows` under `root` (path relative to the root) with its job
/// ids.
fn workflow_jobs(root: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let folder = root.join(".github/workflows");
    let mut workflows = Vec::new();
    for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        let limit = harden_github::safe_read::MAX_REPOSITORY_FILE;
        let jobs = harden_github::safe_read::read_text(root, &entry.path(), limit)
            .ok()
            .and_then(|text| harden_yaml::Document::parse(text).ok())
            .and_then(|doc| {
                let jobs = doc.get(&harden_yaml::Path::root(0).key("jobs"))?;
                match &jobs.kind {
                    harden_yaml::NodeKind::Mapping(m) => Some(
                        m.entries
                            .iter()
                            .filter_map(|e| e.key_str().map(str::to_owned))
                            .collect(),
                    ),
                    _ => None,
                }
            })
            .unwrap_or_default();
        workflows.push((format!(".github/workflows/{name}"), jobs));
    }
    workflows
}

/// One located error per file: a file the run could not read (a link to `/proc`, a file
/// outside the repository) is reported once, by the run's reader; a transform that met the
/// same refusal through the one door (sign-releases for `release-sign.yml`, dependabot for
/// its configuration) adds nothing.
fn drop_repeated_refusals(problems: &[Finding], reports: &mut [TransformReport]) {
    fn plain(path: &std::path::Path) -> PathBuf {
        path.components()
            .filter(|c| *c != std::path::Component::CurDir)
            .collect()
    }
    let unread: std::collections::HashSet<PathBuf> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error && p.line.is_none())
        .map(|p| plain(&p.path))
        .collect();
    if unread.is_empty() {
        return;
    }
    for report in reports {
        report
            .findings
            .retain(|f| f.severity != Severity::Error || !unread.contains(&plain(&f.path)));
    }
}

/// A file to write once every repository is hardened: path, the text harden read (`None` for
/// a new file), the new text.
type PendingWrite = (PathBuf, Option<String>, String);

fn run_repository(
    mut repo: Repository,
    mut problems: Vec<Finding>,
    transforms: &[Box<dyn Transform>],
    mode: Mode,
    git: &gitops::GitOptions,
    patches: Option<(&std::path::Path, &str)>,
) -> (RepoReport, Vec<PendingWrite>) {
    let originals: BTreeMap<PathBuf, Option<String>> = repo
        .files
        .iter()
        .map(|f| (f.path.clone(), f.document().map(|d| d.text().to_owned())))
        .collect();
    let root = repo.root.clone();
    let root = root.as_path();
    let mut reports = Vec::new();
    for t in transforms {
        let outcome = t.run(&repo);
        for change in &outcome.changes {
            repo.apply(change);
        }
        reports.push(TransformReport {
            name: t.name(),
            summary: t.summary(),
            changes: outcome.changes,
            findings: outcome.findings,
        });
    }
    drop_repeated_refusals(&problems, &mut reports);
    let mut written = Vec::new();
    match mode {
        Mode::Patch => {
            if let Some((dir, prefix)) = patches {
                match gitops::write_patches(dir, prefix, &reports, root, git) {
                    Ok(files) => written = files,
                    Err(e) => problems.push(problem(
                        dir.to_path_buf(),
                        None,
                        None,
                        format!("could not write the patches: {e}"),
                    )),
                }
            }
        }
        Mode::Commit => gitops::commit_each(root, &reports, git, &mut written, &mut problems),
        _ => {}
    }
    let mut pending = Vec::new();
    if mode == Mode::Apply {
        // Files that are not YAML (SECURITY.md, Dockerfiles) are written from their changes
        // below, never from a YAML reading of their text.
        for file in repo.files.into_iter().filter(|f| f.kind != FileKind::Text) {
            let Some(doc) = file.document() else { continue };
            // A file that was not loaded (dependabot.yml when only a workflow was named) holds
            // the text the first transform that changed it read.
            let before = match originals.get(&file.path) {
                Some(text) => text.clone(),
                None => first_read(&reports, &file.path),
            };
            if before.as_deref() != Some(doc.text()) {
                let after = doc.text().to_owned();
                pending.push((file.path, before, after));
            }
        }
        pending.extend(text_changes(&reports));
    }
    let report = RepoReport {
        root: root.to_path_buf(),
        transforms: reports,
        problems,
        written,
    };
    (report, pending)
}

/// Writes every changed file of every repository at once (on the writer threads: writes mostly
/// wait for the disk), each only if it still holds the text harden read; then makes the
/// renames durable, once per folder. Results go to each repository's report.
fn write_all(reports: &mut [RepoReport], pending: Vec<Vec<PendingWrite>>) {
    let jobs: Vec<(usize, PendingWrite)> = pending
        .into_iter()
        .enumerate()
        .flat_map(|(i, writes)| writes.into_iter().map(move |w| (i, w)))
        .collect();
    if jobs.is_empty() {
        // Nothing to write (`--check`, `--dry-run`, a run that changes nothing): no writer
        // threads, no folder sync.
        return;
    }
    // Each root resolved once for the batch; a root that cannot be resolved fails its files.
    let roots: Vec<std::io::Result<PathBuf>> = reports
        .iter()
        .map(|r| std::fs::canonicalize(&r.root))
        .collect();
    let outcomes: Vec<(usize, PathBuf, Result<(), fsutil::Refusal>)> =
        fsutil::on_writers(jobs, |(i, (path, before, after))| {
            let before = before.as_deref().map(str::as_bytes);
            let result = match &roots[i] {
                Ok(root) => fsutil::write_checked_in(root, &path, before, &after),
                Err(e) => Err(fsutil::Refusal::Io(std::io::Error::new(
                    e.kind(),
                    e.to_string(),
                ))),
            };
            (i, path, result)
        });
    fsutil::sync_folders(
        outcomes
            .iter()
            .filter(|(_, _, r)| r.is_ok())
            .map(|(_, p, _)| p.as_path()),
    );
    for (i, path, result) in outcomes {
        let report = &mut reports[i];
        match result {
            Ok(()) => report.written.push(path),
            Err(e) => report
                .problems
                .push(problem(path, None, None, e.to_string())),
        }
    }
}

/// A distinct name per repository root, for patch file names: the root's folder name, with
/// `-2`, `-3`, ... when several roots share it, and no name at all when there is one root.
fn patch_labels<'a>(roots: impl ExactSizeIterator<Item = &'a std::path::Path>) -> Vec<String> {
    if roots.len() <= 1 {
        return roots.map(|_| String::new()).collect();
    }
    let mut used = std::collections::BTreeSet::new();
    roots
        .map(|root| {
            let base = root_label(root);
            let mut label = format!("{base}-");
            let mut n = 1;
            while !used.insert(label.clone()) {
                n += 1;
                label = format!("{base}-{n}-");
            }
            label
        })
        .collect()
}

/// The text the first change to `path` was made from (`None`: the change creates it).
fn first_read(reports: &[TransformReport], path: &std::path::Path) -> Option<String> {
    reports
        .iter()
        .flat_map(|r| &r.changes)
        .find(|change| change.path == path)
        .and_then(|change| change.before.clone())
}

/// The changes to files that are not YAML (sign-releases' SECURITY.md section, pin-images'
/// Dockerfiles), which the loop over parsed documents does not see, as writes: the text first
/// read, the last change's text.
fn text_changes(reports: &[TransformReport]) -> Vec<PendingWrite> {
    let mut files: BTreeMap<&PathBuf, (Option<String>, &str)> = BTreeMap::new();
    for change in reports.iter().flat_map(|r| &r.changes) {
        if change.kind == FileKind::Text {
            files
                .entry(&change.path)
                .or_insert_with(|| (change.before.clone(), ""))
                .1 = &change.after;
        }
    }
    files
        .into_iter()
        .map(|(path, (before, after))| (path.clone(), before, after.to_owned()))
        .collect()
}

/// A short name for a repository root, for patch file names.
fn root_label(root: &std::path::Path) -> String {
    std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".to_owned())
}

/// A spinner on stderr while a transform works; hidden unless stderr is a terminal (never in
/// pipes or CI logs) and shown only when the work takes more than a moment.
fn progress(message: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The token of the GitHub CLI, when `gh` is installed and logged in; never printed.
fn gh_auth_token() -> Option<String> {
    let out = std::process::Command::new("gh")
        .args(["auth", "token"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let token = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !token.is_empty()).then_some(token)
}
