//! One run: discover files, run the selected transforms in order on each repository, and write
//! (or only show) the result.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use harden_github::{Resolver, ResolverConfig, ResolverMode};
use harden_transforms::dependabot::{Dependabot, DependabotOptions, Schedule};
use harden_transforms::permissions::{Access, DeclaredJob, Permissions, PermissionsOptions, Scope};
use harden_transforms::pin_actions::{BranchPolicy, PinActions, PinOptions};
use harden_transforms::sign_releases::SignReleases;
use harden_transforms::{FileKind, Finding, Repository, Severity, SourceFile, Transform};

use crate::cli::{Args, Branches, ResolverKind, Schedule as CliSchedule};
use crate::config::{self, Config};
use crate::discover;
use crate::fsutil;
use crate::gitops;
use crate::report::{Mode, RepoReport, TransformReport};

/// What all repositories of a run share: the resolver and its cache.
pub struct Shared {
    resolver: Option<Arc<Resolver>>,
    selected: Vec<&'static str>,
    /// `.github/harden.yml` may enable sign-releases (no `--only`, no `--skip sign-releases`).
    sign_releases_allowed: bool,
}

impl Shared {
    /// Builds the resolver when pin-actions is selected.
    pub fn new(args: &Args, selected: Vec<&'static str>) -> Result<Self, String> {
        // sign-releases pins its new workflow with the same resolver.
        let resolver = if selected.contains(&"pin-actions")
            || selected.contains(&"sign-releases")
            || args.opt_in_allowed("sign-releases")
        {
            let mut config = ResolverConfig::from_env();
            config.offline = args.offline;
            config.refresh = args.refresh;
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
            Some(Arc::new(Resolver::new(config).map_err(|e| e.to_string())?))
        } else {
            None
        };
        let shared = Shared {
            resolver,
            selected,
            sign_releases_allowed: args.opt_in_allowed("sign-releases"),
        };
        // Flags that no configuration file can make valid are usage errors.
        transforms_for(args, &shared, &Config::default())?;
        Ok(shared)
    }
}

/// The selected transforms for one repository: flags first, then its `.github/harden.yml`.
fn transforms_for(
    args: &Args,
    shared: &Shared,
    config: &Config,
) -> Result<Vec<Box<dyn Transform>>, String> {
    let mut out: Vec<Box<dyn Transform>> = Vec::new();
    let enabled_here = (shared.sign_releases_allowed && config.sign_releases == Some(true))
        .then_some("sign-releases");
    for name in shared.selected.iter().copied().chain(enabled_here) {
        match name {
            "pin-actions" => {
                let Some(resolver) = &shared.resolver else {
                    continue;
                };
                let branches = match (args.branches, config.branches.as_deref()) {
                    (Some(Branches::Keep), _) | (None, Some("keep")) => BranchPolicy::Keep,
                    _ => BranchPolicy::Pin,
                };
                let mut exempt = args.exempt.clone();
                exempt.extend(config.exempt.iter().cloned());
                let options = PinOptions {
                    branches,
                    exempt,
                    comment_spacing: config.comment_spacing,
                };
                out.push(Box::new(PinActions::new(Arc::clone(resolver), options)));
            }
            "permissions" => {
                let mut declared = Vec::new();
                for text in &args.declare {
                    declared.push(
                        text.parse::<DeclaredJob>()
                            .map_err(|e| format!("--declare {e}"))?,
                    );
                }
                for (workflow, jobs) in &config.declared {
                    for (job, grants) in jobs {
                        let mut permissions = std::collections::BTreeMap::new();
                        for (scope, access) in grants.iter().filter(|(_, a)| a.as_str() != "none") {
                            let scope = scope.parse::<Scope>().map_err(|e| {
                                format!(
                                    ".github/harden.yml: permissions.jobs.{workflow}.{job}: {e}"
                                )
                            })?;
                            let access = access.parse::<Access>().map_err(|e| {
                                format!(
                                    ".github/harden.yml: permissions.jobs.{workflow}.{job}: {e}"
                                )
                            })?;
                            permissions.insert(scope, access);
                        }
                        declared.push(DeclaredJob {
                            workflow: workflow.clone(),
                            job: job.clone(),
                            permissions,
                        });
                    }
                }
                out.push(Box::new(Permissions::new(PermissionsOptions {
                    declared,
                    move_writes: args.move_writes,
                })));
            }
            "dependabot" => {
                let schedule = match (args.schedule, config.schedule.as_deref()) {
                    (Some(s), _) => match s {
                        CliSchedule::Daily => Schedule::Daily,
                        CliSchedule::Weekly => Schedule::Weekly,
                        CliSchedule::Monthly => Schedule::Monthly,
                    },
                    (None, Some(text)) => text.parse::<Schedule>().map_err(|e| e.to_string())?,
                    (None, None) => Schedule::Weekly,
                };
                let ecosystems = if args.ecosystems.is_empty() {
                    config.ecosystems.clone()
                } else {
                    Some(args.ecosystems.clone())
                };
                let options = DependabotOptions {
                    schedule,
                    group: !args.no_group && config.group.unwrap_or(true),
                    cooldown_days: args.cooldown.or(config.cooldown).unwrap_or(7),
                    ignore_major: args.ignore_major || config.ignore_major.unwrap_or(false),
                    ecosystems,
                };
                if let Some(problem) = options.problem() {
                    return Err(problem);
                }
                out.push(Box::new(Dependabot::new(options)));
            }
            "sign-releases" => {
                let Some(resolver) = &shared.resolver else {
                    continue;
                };
                let mut exempt = args.exempt.clone();
                exempt.extend(config.exempt.iter().cloned());
                let options = PinOptions {
                    branches: BranchPolicy::Pin,
                    exempt,
                    comment_spacing: config.comment_spacing,
                };
                out.push(Box::new(SignReleases::new(Arc::clone(resolver), options)));
            }
            _ => {}
        }
    }
    Ok(out)
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

/// Reads and parses the files of one repository; unreadable or invalid files become problems.
fn load(files: &[(PathBuf, FileKind)], problems: &mut Vec<Finding>) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for (path, kind) in files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(problem(
                    path.clone(),
                    None,
                    None,
                    format!("cannot read the file: {e}"),
                ));
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
                problems.push(problem(
                    path.clone(),
                    Some(line),
                    None,
                    "not UTF-8 text (GitHub reads workflows as UTF-8): re-save the file as UTF-8"
                        .to_owned(),
                ));
                continue;
            }
        };
        let file = SourceFile::new(path.clone(), *kind, text);
        if let Err(e) = &file.doc {
            let loc = e.location();
            problems.push(problem(
                path.clone(),
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
    out
}

/// Runs the transforms on every repository named on the command line.
pub fn run(args: &Args, shared: &Shared, mode: Mode) -> Vec<RepoReport> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let found = discover::discover(&paths);
    let mut reports = Vec::new();
    if !found.problems.is_empty() {
        reports.push(RepoReport {
            root: PathBuf::from("."),
            transforms: Vec::new(),
            problems: found
                .problems
                .into_iter()
                .map(|(p, why)| problem(p, None, None, why))
                .collect(),
            written: Vec::new(),
        });
    }
    let many_roots = found.repos.len() > 1;
    // Load every repository first, so that all action repositories are resolved in one
    // concurrent batch rather than one small batch per repository.
    let loaded: Vec<(PathBuf, Vec<SourceFile>, Vec<Finding>)> = found
        .repos
        .iter()
        .map(|(root, files)| {
            let mut problems = Vec::new();
            let sources = load(files, &mut problems);
            (root.clone(), sources, problems)
        })
        .collect();
    if many_roots && shared.selected.contains(&"pin-actions") {
        if let Some(resolver) = &shared.resolver {
            let spinner = progress("resolving action references");
            let batch = PinActions::new(Arc::clone(resolver), PinOptions::default());
            let repos: Vec<Repository> = loaded
                .iter()
                .map(|(root, files, _)| Repository {
                    root: root.clone(),
                    files: files.clone(),
                })
                .collect();
            batch.prefetch(&repos);
            spinner.finish_and_clear();
        }
    }
    for (root, files, problems) in loaded {
        let root = &root;
        let transforms = match config::load(root).map_err(|e| {
            problem(
                e.path.clone(),
                Some(e.line),
                Some(e.column),
                format!("{}; nothing was changed in this repository", e.message),
            )
        }) {
            Ok(config) => transforms_for(args, shared, &config)
                .map(|t| (t, gitops::GitOptions::new(args, &config)))
                .map_err(|msg| problem(root.to_path_buf(), None, None, msg)),
            Err(p) => Err(p),
        };
        match transforms {
            Ok((transforms, git)) => reports.push(run_repository(
                root,
                files,
                problems,
                &transforms,
                mode,
                &git,
                many_roots,
            )),
            Err(p) => reports.push(RepoReport {
                root: root.clone(),
                transforms: Vec::new(),
                problems: problems.into_iter().chain(std::iter::once(p)).collect(),
                written: Vec::new(),
            }),
        }
    }
    reports
}

fn run_repository(
    root: &std::path::Path,
    loaded: Vec<SourceFile>,
    mut problems: Vec<Finding>,
    transforms: &[Box<dyn Transform>],
    mode: Mode,
    git: &gitops::GitOptions,
    many_roots: bool,
) -> RepoReport {
    let originals: BTreeMap<PathBuf, Option<String>> = loaded
        .iter()
        .map(|f| (f.path.clone(), f.document().map(|d| d.text().to_owned())))
        .collect();
    let mut repo = Repository {
        root: root.to_path_buf(),
        files: loaded,
    };
    let mut reports = Vec::new();
    for t in transforms {
        let spinner = progress(&format!("{}: {}", root.display(), t.name()));
        let outcome = t.run(&repo);
        spinner.finish_and_clear();
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
    let mut written = Vec::new();
    match mode {
        Mode::Patch => {
            if let Some(dir) = git.patch_dir.as_deref() {
                let prefix = if many_roots {
                    format!("{}-", root_label(root))
                } else {
                    String::new()
                };
                match gitops::write_patches(dir, &prefix, &reports, root, git) {
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
    if mode == Mode::Apply {
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            let before = originals.get(&file.path).cloned().flatten();
            if before.as_deref() == Some(doc.text()) {
                continue;
            }
            if before.is_some() && !file.path.exists() {
                problems.push(problem(
                    file.path.clone(),
                    None,
                    None,
                    "the file was removed while harden ran; not written back".to_owned(),
                ));
                continue;
            }
            match fsutil::write_atomic(&file.path, doc.text()) {
                Ok(()) => written.push(file.path.clone()),
                Err(e) => problems.push(problem(
                    file.path.clone(),
                    None,
                    None,
                    format!("could not write the file (left as it was): {e}"),
                )),
            }
        }
        write_text_changes(&reports, &mut written, &mut problems);
    }
    RepoReport {
        root: root.to_path_buf(),
        transforms: reports,
        problems,
        written,
    }
}

/// Writes the changes to files that are not YAML (sign-releases' SECURITY.md section), which
/// the loop over parsed documents above does not see; the last change of each file wins.
fn write_text_changes(
    reports: &[TransformReport],
    written: &mut Vec<PathBuf>,
    problems: &mut Vec<Finding>,
) {
    let mut last: BTreeMap<&PathBuf, &str> = BTreeMap::new();
    for change in reports.iter().flat_map(|r| &r.changes) {
        if change.kind == FileKind::Text {
            last.insert(&change.path, &change.after);
        }
    }
    for (path, text) in last {
        if written.contains(path) {
            continue;
        }
        match fsutil::write_atomic(path, text) {
            Ok(()) => written.push(path.clone()),
            Err(e) => problems.push(problem(
                path.clone(),
                None,
                None,
                format!("could not write the file (left as it was): {e}"),
            )),
        }
    }
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
