//! Tests of the permissions transform: one snapshot per fixture of `testdata/permissions/`
//! (a `<case>.yml` workflow, or a `<case>/` folder laid out like a repository), and the whole
//! shared corpus.
//!
//! Every fixture run also checks that a second run over the output changes nothing and that
//! every comment of the input is still in the output.

mod common;

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use harden_transforms::permissions::{
    Access, DeclaredJob, DefaultSource, Permissions, PermissionsOptions, RepositoryDefault, Scope,
};
use harden_transforms::{FileKind, Outcome, Repository, Severity, SourceFile, Transform};
use harden_yaml::Document;

use common::render_outcome;

fn kind_of(rel: &str) -> Option<FileKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
        return None;
    }
    if rel.contains(".github/workflows/") {
        Some(FileKind::Workflow)
    } else if name == "action.yml" || name == "action.yaml" {
        Some(FileKind::Action)
    } else {
        None
    }
}

/// The files of a folder laid out like a repository, with paths relative to `root` shown
/// under `shown_root`.
fn folder_repo(dir: &FsPath, shown_root: &FsPath) -> Repository {
    let paths = harden_testserver::files_under(dir);
    let mut files = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        let Some(kind) = kind_of(&rel) else { continue };
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        files.push(SourceFile::new(shown_root.join(&rel), kind, text));
    }
    Repository {
        root: shown_root.to_owned(),
        files,
    }
}

/// The repository of a fixture case.
fn fixture_repo(case: &str) -> Repository {
    let base = common::testdata().join("permissions");
    let dir = base.join(case);
    if dir.is_dir() {
        // Files are shown as `./...`; the root is the folder, where scripts are read.
        let mut repo = folder_repo(&dir, FsPath::new("."));
        repo.root = dir;
        return repo;
    }
    let path = base.join(format!("{case}.yml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut repo = common::single_file_repo(
        &format!(".github/workflows/{case}.yml"),
        FileKind::Workflow,
        &text,
    );
    // Scripts and the Makefile the single-file fixtures run are read from this folder.
    repo.root = base;
    repo
}

/// Every comment text of `before` is still in `after` (as many times).
fn assert_comments_kept(path: &FsPath, before: &str, after: &str) {
    let texts = |t: &str| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        if let Ok(doc) = Document::parse(t) {
            for c in doc.comments() {
                *m.entry(t[c.span.range()].to_owned()).or_insert(0) += 1;
            }
        }
        m
    };
    let (b, a) = (texts(before), texts(after));
    for (text, n) in &b {
        assert!(
            a.get(text).copied().unwrap_or(0) >= *n,
            "{}: comment `{text}` lost",
            path.display()
        );
    }
}

/// Runs the transform, checks stability and comments, and renders the outcome.
fn run_checked(repo: &Repository, transform: &Permissions) -> (Outcome, String) {
    let outcome = transform.run(repo);
    for c in &outcome.changes {
        assert_comments_kept(&c.path, c.before.as_deref().unwrap_or(""), &c.after);
    }
    let again = transform.run(&repo.applied(&outcome));
    assert!(
        again.changes.is_empty(),
        "second run changed {:?}",
        again.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
    );
    let mut text = render_outcome(&outcome);
    for c in &outcome.changes {
        for n in &c.notes {
            text.push_str(&format!(
                "note {}:{}: {}\n",
                c.path.display(),
                n.line,
                n.message
            ));
        }
    }
    (outcome, text)
}

fn check(case: &str) {
    check_with(case, PermissionsOptions::default());
}

fn check_with(case: &str, options: PermissionsOptions) {
    let repo = fixture_repo(case);
    assert!(!repo.files.is_empty(), "{case}: no files");
    let (_, text) = run_checked(&repo, &Permissions::new(options));
    insta::assert_snapshot!(case, text);
}

/// A local reusable workflow of a repository whose `owner/repo` is known is the knowledge
/// base's `owner/repo/path`: read from the knowledge base (and the caller's `script`); without
/// the name, the same call is undetermined (its runner runs a program harden does not read).
#[test]
fn own_repository_local_workflow_is_read_from_the_knowledge_base() {
    let repo = fixture_repo("own_repository");
    let named = Permissions::default().with_own_repository("pytorch/test-infra");
    let (_, text) = run_checked(&repo, &named);
    insta::assert_snapshot!("own_repository", text);
    // Without the name, the runner's program is one harden cannot read: undetermined with
    // `--strict`, settled on an assumption without.
    let strict = || {
        Permissions::new(PermissionsOptions {
            strict: true,
            ..PermissionsOptions::default()
        })
    };
    let (_, unnamed) = run_checked(&repo, &strict());
    assert!(
        unnamed.contains("run_with_env_secrets.py") && !unnamed.contains("+++ b/"),
        "{unnamed}"
    );
    let (_, trusting) = run_checked(&repo, &Permissions::default());
    assert!(
        trusting.contains("assumed not to push or call the API"),
        "{trusting}"
    );
    // Another repository's local workflow of the same path is not the knowledge base's.
    let other = strict().with_own_repository("someone/test-infra");
    let (_, text) = run_checked(&repo, &other);
    assert_eq!(text, unnamed);
    // Without a name given, the `origin` remote of the checkout's `.git/config` names it.
    let checkout = std::env::temp_dir().join(format!("harden-own-origin-{}", std::process::id()));
    std::fs::create_dir_all(checkout.join(".git")).expect("temp dir");
    std::fs::write(
        checkout.join(".git/config"),
        "[remote \"origin\"]\n\turl = git@github.com:PyTorch/test-infra.git\n",
    )
    .expect("config");
    let mut cloned = fixture_repo("own_repository");
    cloned.root = checkout.clone();
    let (_, from_origin) = run_checked(&cloned, &Permissions::default());
    std::fs::remove_dir_all(&checkout).expect("clean up");
    let (_, named_text) = run_checked(&repo, &named);
    assert_eq!(from_origin, named_text);
}

#[test]
fn no_top_level_block() {
    check("no_top_level");
}

#[test]
fn release_job_gets_contents_write() {
    check("release_action");
}

#[test]
fn existing_top_level_is_kept() {
    check("existing_top_level");
}

#[test]
fn job_blocks_are_kept_and_wider_ones_reported() {
    check("job_with_own_block");
}

#[test]
fn read_all_is_reported() {
    check("read_all");
}

#[test]
fn write_all_is_reported() {
    check("write_all");
}

#[test]
fn empty_permissions_top_level() {
    check("empty_permissions");
}

#[test]
fn knowledge_base_conditions() {
    check("kb_conditions");
}

#[test]
fn tokens_other_than_the_job_token_need_nothing() {
    check("token_override");
}

#[test]
fn gh_cli_commands() {
    check("gh_cli");
}

#[test]
fn gh_api_endpoints() {
    check("gh_api");
}

#[test]
fn git_push_with_persisted_credentials() {
    check("git_push");
}

#[test]
fn pushes_out_of_sight() {
    check("push_hint");
}

#[test]
fn curl_to_the_api() {
    check("curl_api");
}

#[test]
fn publishing_with_oidc() {
    check("oidc_publish");
}

#[test]
fn github_script_calls() {
    check("github_script");
}

#[test]
fn pages_attestations_code_scanning_packages_checks() {
    check("oidc_pages");
}

#[test]
fn unknown_action_leaves_the_workflow_without_top_level_block() {
    check("unknown_action");
}

#[test]
fn token_in_env() {
    check("token_env");
}

#[test]
fn local_reusable_workflow() {
    check("reusable_local");
}

#[test]
fn remote_reusable_workflows() {
    check("reusable_remote");
}

#[test]
fn local_composite_action() {
    check("composite_local");
}

#[test]
fn same_repository_references_are_read_like_local_ones() {
    let repo = fixture_repo("self_repository");
    let (outcome, text) = run_checked(&repo, &Permissions::new(PermissionsOptions::default()));
    assert!(
        !text.contains("knowledge base") && !text.contains("not among the files"),
        "{text}"
    );
    assert!(!outcome.changes.is_empty(), "{text}");
    insta::assert_snapshot!("self_repository", text);
}

#[test]
fn local_javascript_action() {
    check("javascript_local");
}

#[test]
fn called_workflow_gets_nothing() {
    check("workflow_call");
}

#[test]
fn matrix_jobs() {
    check("matrix");
}

#[test]
fn environment_jobs() {
    check("environment");
}

#[test]
fn anchors_and_aliases() {
    check("anchors");
}

#[test]
fn anchored_job_with_a_block() {
    check("anchors_block");
}

#[test]
fn flow_style() {
    check("flow_style");
}

#[test]
fn crlf_line_endings() {
    let repo = fixture_repo("crlf");
    let (outcome, text) = run_checked(&repo, &Permissions::default());
    for c in &outcome.changes {
        assert!(
            !c.after.replace("\r\n", "").contains('\n'),
            "a bare LF was written"
        );
    }
    insta::assert_snapshot!("crlf", text.replace('\r', "␍"));
}

#[test]
fn four_space_indentation() {
    check("indent4");
}

#[test]
fn container_credentials() {
    check("container_credentials");
}

#[test]
fn calls_the_token_cannot_make() {
    check("not_grantable");
}

#[test]
fn declared_jobs_are_written() {
    let declared = vec![DeclaredJob {
        workflow: "declared.yml".into(),
        job: "deploy".into(),
        permissions: BTreeMap::from([
            (Scope::Contents, Access::Read),
            (Scope::Deployments, Access::Write),
        ]),
    }];
    check_with(
        "declared",
        PermissionsOptions {
            declared,
            ..PermissionsOptions::default()
        },
    );
}

#[test]
fn declared_jobs_parse_from_the_command_line_form() {
    let d: DeclaredJob = "declared.yml:deploy=contents:read,deployments:write"
        .parse()
        .expect("parses");
    assert_eq!(d.permissions.get(&Scope::Deployments), Some(&Access::Write));
}

/// Every workflow and action of the full corpus when present, else of the sample, one
/// repository per folder (for the ignored reports below).
fn corpus_repos() -> Vec<(String, Repository)> {
    let full = harden_testserver::full_corpus_dir();
    if full.is_dir() {
        corpus_repos_in(&full)
    } else {
        corpus_repos_in(&harden_testserver::sample_corpus_dir())
    }
}

/// Every workflow and action of the corpus at `root`, one repository per folder.
fn corpus_repos_in(root: &std::path::Path) -> Vec<(String, Repository)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| {
            let name = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let repo = folder_repo(&d, &d);
            (name, repo)
        })
        .collect()
}

#[test]
#[allow(clippy::print_stderr)]
fn corpus_runs_cleanly_and_is_stable() {
    for root in harden_testserver::corpus_roots("harden-transforms permissions corpus") {
        let repos = corpus_repos_in(&root.path);
        assert!(repos.len() >= 80, "{}: {} folders", root.name, repos.len());
        run_corpus_cleanly(root.name, &repos);
    }
}

/// Runs the transform on every repository: no error, and a second run changes nothing.
#[allow(clippy::print_stderr)]
fn run_corpus_cleanly(corpus: &str, repos: &[(String, Repository)]) {
    let transform = Permissions::default();
    let (mut files, mut changed, mut undetermined) = (0, 0, 0);
    for (name, repo) in repos {
        files += repo.files.len();
        let (outcome, _) = run_checked(repo, &transform);
        changed += outcome.changes.len();
        for f in &outcome.findings {
            assert_ne!(
                f.severity,
                Severity::Error,
                "{name}: {}: {}",
                f.path.display(),
                f.message
            );
            if f.message.contains("harden cannot tell what it needs") {
                undetermined += 1;
            }
        }
    }
    eprintln!(
        "{corpus}: {files} files, {changed} changed, {undetermined} undetermined jobs reported"
    );
    assert!(changed > 0);
}

/// What harden infers for the jobs whose maintainers wrote their own block, compared scope
/// by scope. Run with `cargo test -p harden-transforms --test permissions -- --ignored
/// --nocapture agreement`.
#[test]
#[ignore]
#[allow(clippy::print_stdout)]
fn agreement_with_maintainers() {
    let transform = Permissions::default();
    let order = |a: Option<Access>| match a {
        None => 0,
        Some(Access::Read) => 1,
        Some(Access::Write) => 2,
    };
    // scope -> [less, same, more]
    let mut table: BTreeMap<Scope, [usize; 3]> = BTreeMap::new();
    let (mut jobs, mut undetermined, mut equal, mut covers) = (0, 0, 0, 0);
    // Set HARDEN_PERMISSIONS_DETAILS to list every job where the two differ.
    let details = std::env::var_os("HARDEN_PERMISSIONS_DETAILS").is_some();
    for (_, repo) in corpus_repos() {
        for report in transform.infer(&repo) {
            let Some(written) = report.written else {
                continue;
            };
            jobs += 1;
            let Some(inferred) = report.inferred else {
                undetermined += 1;
                continue;
            };
            if written == inferred {
                equal += 1;
            }
            if inferred
                .iter()
                .all(|(s, a)| written.get(s).is_some_and(|w| w >= a))
            {
                covers += 1;
            }
            if details && written != inferred {
                let show = |m: &BTreeMap<Scope, Access>| {
                    m.iter()
                        .map(|(s, a)| format!("{s}:{a}"))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                println!(
                    "{} {}: written {} inferred {}",
                    report.path.display(),
                    report.job,
                    show(&written),
                    show(&inferred)
                );
            }
            for scope in Scope::ALL {
                let (w, i) = (written.get(&scope).copied(), inferred.get(&scope).copied());
                if w.is_none() && i.is_none() {
                    continue;
                }
                let row = table.entry(scope).or_default();
                match order(i).cmp(&order(w)) {
                    std::cmp::Ordering::Less => row[0] += 1,
                    std::cmp::Ordering::Equal => row[1] += 1,
                    std::cmp::Ordering::Greater => row[2] += 1,
                }
            }
        }
    }
    println!("jobs with a written mapping block: {jobs}; undetermined by harden: {undetermined}");
    println!(
        "determined: {}; identical blocks: {equal}; written block covers harden's inference: {covers}",
        jobs - undetermined
    );
    println!("| scope | harden asks less | same | more |");
    println!("|---|---:|---:|---:|");
    for (scope, [less, same, more]) in &table {
        println!("| {scope} | {less} | {same} | {more} |");
    }
}

/// Writes every corpus outcome to the file named by `HARDEN_PERMISSIONS_DUMP`, for review.
#[test]
#[ignore]
#[allow(clippy::print_stderr)]
fn corpus_dump() {
    let Ok(target) = std::env::var("HARDEN_PERMISSIONS_DUMP") else {
        eprintln!("skipped: the corpus dump: set HARDEN_PERMISSIONS_DUMP to the file to write");
        return;
    };
    let transform = Permissions::default();
    let mut text = String::new();
    for (name, repo) in corpus_repos() {
        let outcome = transform.run(&repo);
        text.push_str(&format!("=== {name}\n"));
        text.push_str(&render_outcome(&outcome));
    }
    std::fs::write(target, text).expect("write the dump");
}

/// The share of corpus jobs harden leaves undetermined, with the causes. Run with `cargo
/// test -p harden-transforms --test permissions undetermined_share -- --ignored --nocapture`
/// (`HARDEN_PERMISSIONS_DETAILS=1` lists every undetermined job).
#[test]
#[ignore]
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn undetermined_share() {
    let repos = corpus_repos();
    if repos.is_empty() {
        eprintln!("skipped: no corpus found");
        return;
    }
    let details = std::env::var_os("HARDEN_PERMISSIONS_DETAILS").is_some();
    let transform = Permissions::default();
    let (mut jobs, mut undetermined, mut local_only, mut repo_file_only) = (0, 0, 0, 0);
    let mut opaque_only = 0;
    let mut causes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (_, repo) in &repos {
        for report in transform.infer(repo) {
            jobs += 1;
            if !report.reported {
                continue;
            }
            undetermined += 1;
            let local =
                |r: &String| r.contains("local action") && r.contains("not among the files");
            let repo_file = |r: &String| {
                r.contains("not among the files harden read") || r.contains("harden could not read")
            };
            if report
                .undetermined
                .iter()
                .all(|r| r.contains("cannot see what it writes"))
            {
                opaque_only += 1;
            }
            if report.undetermined.iter().all(local) {
                local_only += 1;
            } else if report.undetermined.iter().all(|r| local(r) || repo_file(r)) {
                repo_file_only += 1;
            }
            let first = &report.undetermined[0];
            let cause = if local(first) {
                "local action not in the corpus"
            } else if first.contains("knowledge base") {
                "action or workflow not in the knowledge base"
            } else if first.contains("cannot see what it writes")
                || first.contains("which harden could not read")
            {
                "opaque program with write credentials"
            } else if first.contains("job token") {
                "token handed to a script"
            } else {
                "other"
            };
            *causes.entry(cause).or_default() += 1;
            if details {
                println!(
                    "{} {}: {}",
                    report.path.display(),
                    report.job,
                    report.undetermined.join(" | ")
                );
            }
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / jobs.max(1) as f64;
    println!(
        "jobs: {jobs}; undetermined: {undetermined} ({:.1}%)",
        pct(undetermined)
    );
    println!(
        "without jobs whose only cause is a local action the corpus does not hold: {} ({:.1}%)",
        undetermined - local_only,
        pct(undetermined - local_only)
    );
    println!(
        "... nor a repository file (script, Makefile) the corpus does not hold: {} ({:.1}%)",
        undetermined - local_only - repo_file_only,
        pct(undetermined - local_only - repo_file_only)
    );
    println!(
        "jobs undetermined only by opaque programs (the cost of that rule): {opaque_only} ({:.1}%)",
        pct(opaque_only)
    );
    for (cause, n) in causes {
        println!("  first cause: {cause}: {n}");
    }
}

#[test]
fn long_tail_actions_and_read_only_tools() {
    check("long_tail");
}

#[test]
fn docs_deploy_through_mkdocs_and_mike() {
    check("docs_deploy");
}

#[test]
fn opaque_programs_on_write_events() {
    check("opaque_writer");
}

#[test]
fn lines_written_to_github_env_are_followed() {
    check("env_file");
}

#[test]
fn runner_workflows_set_github_env_before_the_script() {
    check("runner_env_file");
}

#[test]
fn opaque_programs_on_pull_requests_are_not_reported() {
    check("opaque_pull_request");
}

#[test]
fn repository_scripts_and_makefiles_are_read() {
    check("repo_scripts");
}

/// Shell read as it runs (wrapper options, functions and variables, arrays, arithmetic,
/// `$CC`, generated Makefiles, `<(...)`) and the scripts task runners define (hatch, tox):
/// every push is seen, nothing else is read as a command.
#[test]
fn shell_is_read_as_it_runs() {
    check("shell_as_it_runs");
}

#[test]
fn python_modules_shadowed_by_repository_files_stay_opaque() {
    check("shadowed_module");
}

#[test]
fn maintainer_blocks_are_never_widened() {
    check("maintainer_blocks");
}

#[test]
fn misspelt_scopes_are_errors() {
    let repo = fixture_repo("typo_scope");
    let (outcome, text) = run_checked(&repo, &Permissions::default());
    assert!(
        outcome.changes.is_empty(),
        "a workflow GitHub rejects is left alone"
    );
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error && f.line == Some(6)));
    insta::assert_snapshot!("typo_scope", text);
}

#[test]
fn knowledge_base_conditions_remove_scopes() {
    check("kb_remove");
}

#[test]
fn a_job_reached_through_an_alias_leaves_the_workflow_unchanged() {
    let repo = fixture_repo("alias_job");
    let (outcome, text) = run_checked(&repo, &Permissions::default());
    assert!(
        outcome.changes.is_empty(),
        "no top-level block may cap the job"
    );
    insta::assert_snapshot!("alias_job", text);
}

/// Evidence, not allowlists: unknown programs with no sign of writing are settled on an
/// assumption (reported once per job); signs (the token in the environment, a name that
/// says it deploys, a push behind a wrapper) keep a job undetermined; pushes are never
/// restricted below `contents: write`. `--strict` keeps the rule before evidence.
#[test]
fn evidence_of_writing() {
    check("evidence");
    let strict = PermissionsOptions {
        strict: true,
        ..PermissionsOptions::default()
    };
    for case in ["evidence", "opaque_writer", "repo_scripts", "long_tail"] {
        let repo = fixture_repo(case);
        let (_, text) = run_checked(&repo, &Permissions::new(strict.clone()));
        insta::assert_snapshot!(format!("{case}_strict"), text);
    }
    // Where the repository's default token is read-only, a job without a block cannot write
    // today: signs become latent 403s and the top-level block is written.
    let read_default = PermissionsOptions {
        repository_default: Some(read_only_default()),
        ..PermissionsOptions::default()
    };
    let (outcome, text) = run_checked(&fixture_repo("evidence"), &Permissions::new(read_default));
    assert!(text.contains("+permissions:\n+  contents: read"), "{text}");
    assert!(text.contains("latent 403"), "{text}");
    assert!(
        !outcome
            .findings
            .iter()
            .any(|f| f.severity == Severity::Warning),
        "{text}"
    );
    insta::assert_snapshot!("evidence_read_default", text);
    // No push is ever restricted below what it pushes with, in either mode.
    for options in [PermissionsOptions::default(), strict] {
        let repo = fixture_repo("evidence");
        let outcome = Permissions::new(options).run(&repo);
        let after = outcome
            .changes
            .first()
            .map(|c| c.after.clone())
            .unwrap_or_default();
        for job in [
            "hatch-gh-deploy",
            "hatch-push",
            "pdm-push",
            "conda-push",
            "pipx-push",
            "auto-commit",
            "token-env",
            "deploy-named",
        ] {
            let at = after.find(&format!("  {job}:\n")).expect(job);
            let block = &after[at..];
            let block = &block[..block.find("\n\n").unwrap_or(block.len())];
            assert!(
                !block.contains("contents: read") || block.contains("contents: write"),
                "{job} restricted: {block}"
            );
        }
    }
}

/// Jobs reached through an alias or a merge key that push (directly, or through a repository
/// script) leave their workflows with no new top-level block, in every mode.
#[test]
fn pushing_jobs_reached_through_aliases_get_no_top_level_block() {
    let repo = fixture_repo("alias_push");
    let modes = [
        PermissionsOptions::default(),
        PermissionsOptions {
            strict: true,
            ..PermissionsOptions::default()
        },
        PermissionsOptions {
            repository_default: Some(read_only_default()),
            ..PermissionsOptions::default()
        },
    ];
    for options in modes {
        let (outcome, text) = run_checked(&repo, &Permissions::new(options.clone()));
        assert!(outcome.changes.is_empty(), "{options:?}: {text}");
        for workflow in ["merge_key.yml", "step_merge_key.yml", "alias_job.yml"] {
            assert!(text.contains(workflow), "{workflow} not reported: {text}");
        }
    }
}

fn read_only_default() -> RepositoryDefault {
    RepositoryDefault {
        access: Access::Read,
        source: DefaultSource::Config,
    }
}

#[test]
fn move_writes_moves_top_level_writes_to_the_jobs() {
    check_with(
        "move_writes",
        PermissionsOptions {
            move_writes: true,
            ..PermissionsOptions::default()
        },
    );
}

#[test]
fn without_move_writes_the_top_level_writes_are_reported() {
    let repo = fixture_repo("move_writes");
    let outcome = Permissions::default().run(&repo);
    assert!(outcome.changes.is_empty());
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.message.contains("--move-writes")));
}

#[test]
fn an_alias_that_needs_another_block_leaves_the_workflow_unchanged() {
    let declared = vec![DeclaredJob {
        workflow: "alias_declared.yml".into(),
        job: "publish".into(),
        permissions: BTreeMap::from([
            (Scope::Contents, Access::Write),
            (Scope::Discussions, Access::Write),
        ]),
    }];
    let repo = fixture_repo("alias_declared");
    let options = PermissionsOptions {
        declared,
        ..PermissionsOptions::default()
    };
    let (outcome, text) = run_checked(&repo, &Permissions::new(options));
    assert!(
        outcome.changes.is_empty(),
        "no top-level block may cap the alias"
    );
    insta::assert_snapshot!("alias_declared", text);
}

#[test]
fn move_writes_turns_write_all_into_read_all() {
    check_with(
        "move_writes_all",
        PermissionsOptions {
            move_writes: true,
            ..PermissionsOptions::default()
        },
    );
}

#[test]
fn narrow_replaces_blocks_wider_than_what_harden_settles() {
    check_with(
        "narrow",
        PermissionsOptions {
            narrow: true,
            ..PermissionsOptions::default()
        },
    );
}

#[test]
fn without_narrow_wider_blocks_are_only_reported() {
    let repo = fixture_repo("narrow");
    let outcome = Permissions::default().run(&repo);
    assert!(outcome.changes.is_empty());
    assert!(outcome.findings.iter().any(|f| f
        .message
        .contains("grants more than harden infers: contents: write, issues: write")));
}

/// `--narrow` leaves alone a block it cannot replace safely: a flow mapping, one naming a
/// scope harden does not know, one in a called workflow, one over a job harden cannot read.
#[test]
fn narrow_keeps_blocks_it_cannot_replace_safely() {
    let job = |block: &str, run: &str| {
        let env = if run.contains("GH_TOKEN") {
            "        env:\n          GH_TOKEN: ${{ github.token }}\n"
        } else {
            ""
        };
        format!(
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions: {block}\n    steps:\n      - run: {run}\n{env}"
        )
    };
    let cases = [
        (
            "flow",
            job("{contents: write, issues: write}", "cargo build"),
        ),
        (
            "unknown scope",
            job("\n      contents: write\n      repository-projects: write", "cargo build"),
        ),
        (
            "unread program",
            job("\n      contents: write\n      issues: write", "./deploy.sh \"$GH_TOKEN\""),
        ),
        (
            "called",
            "on: workflow_call\npermissions: read-all\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n      issues: write\n    steps:\n      - run: cargo build\n".to_owned(),
        ),
    ];
    let narrow = Permissions::new(PermissionsOptions {
        narrow: true,
        ..PermissionsOptions::default()
    });
    // The same job, settled and in a block mapping: narrowed.
    let settled = job(
        "\n      contents: write\n      issues: write",
        "cargo build",
    );
    let repo = common::single_file_repo(".github/workflows/ci.yml", FileKind::Workflow, &settled);
    let outcome = narrow.run(&repo);
    assert!(outcome
        .changes
        .iter()
        .any(|c| c.notes.iter().any(|n| n.message.contains("--narrow"))));
    for (case, text) in cases {
        let repo = common::single_file_repo(".github/workflows/ci.yml", FileKind::Workflow, &text);
        let outcome = narrow.run(&repo);
        for c in &outcome.changes {
            assert!(
                !c.notes.iter().any(|n| n.message.contains("--narrow")),
                "{case}: narrowed: {}",
                c.after
            );
            let block_start = text.find("permissions:").unwrap_or(0);
            assert!(
                c.after.contains(&text[block_start..]),
                "{case}: {}",
                c.after
            );
        }
    }
}
