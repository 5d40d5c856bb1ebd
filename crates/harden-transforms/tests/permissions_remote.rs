//! The permissions transform reading what runs: actions missing from the knowledge base,
//! composite remote actions, remote reusable workflows and local actions of another repository
//! checked out by the job, read from a test server (refs over git, files in GitHub Enterprise
//! Server's raw form) serving `testdata/permissions/remote_recorded/actions`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use harden_github::{FileReader, Resolver, ResolverConfig};
use harden_testserver::{RecordedRepo, ServerOptions, TestServer};
use harden_transforms::permissions::{GithubFiles, Permissions, PermissionsOptions, RemoteFiles};
use harden_transforms::{FileKind, Transform};

use common::render_outcome;

const FIXTURE_REPOS: &[&str] = &[
    "harden-fixtures/notify",
    "harden-fixtures/labeler",
    "harden-fixtures/comment",
    "harden-fixtures/workflows",
    "harden-fixtures/tools",
    "harden-fixtures/cloud-login",
];

fn server() -> TestServer {
    let repos = FIXTURE_REPOS.iter().enumerate().map(|(i, name)| {
        let sha = format!("{:040x}", i + 1);
        RecordedRepo::new(name)
            .with_tag("v1", &sha)
            .with_branch("main", &sha)
    });
    let server =
        TestServer::start_with_repos(repos, ServerOptions::default(), 0).expect("test server");
    server.set_actions_dir(common::testdata().join("permissions/remote_recorded/actions"));
    server
}

/// The recorded refs the corpus measurement serves (`HARDEN_RECORDED` to use another folder
/// laid out like `testdata/recorded`).
fn recorded_refs() -> std::path::PathBuf {
    std::env::var_os("HARDEN_RECORDED").map_or_else(harden_testserver::default_refs_dir, |d| {
        std::path::PathBuf::from(d).join("refs")
    })
}

/// The recorded action files the corpus measurement serves.
fn recorded_actions() -> std::path::PathBuf {
    std::env::var_os("HARDEN_RECORDED").map_or_else(harden_testserver::default_actions_dir, |d| {
        std::path::PathBuf::from(d).join("actions")
    })
}

fn remote(server: &TestServer) -> Arc<dyn RemoteFiles> {
    let config = ResolverConfig {
        server_url: server.url(),
        api_url: server.url(),
        timeout: Duration::from_secs(10),
        retry_backoff: Duration::from_millis(1),
        ..ResolverConfig::default()
    };
    let resolver = Arc::new(Resolver::new(config.clone()).expect("resolver"));
    let reader = Arc::new(FileReader::new(&config).expect("reader"));
    Arc::new(GithubFiles::new(resolver, reader))
}

fn check(case: &str) {
    let path = common::testdata().join(format!("permissions/remote/{case}.yml"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(
        &format!(".github/workflows/{case}.yml"),
        FileKind::Workflow,
        &text,
    );
    let server = server();
    let transform = Permissions::new(PermissionsOptions::default()).with_remote(remote(&server));
    let outcome = transform.run(&repo);
    let again = transform.run(&repo.applied(&outcome));
    assert!(
        again.changes.is_empty(),
        "{case}: a second run changes more"
    );
    let mut text = render_outcome(&outcome);
    for c in &outcome.changes {
        for n in &c.notes {
            text.push_str(&format!("note {}: {}\n", n.line, n.message));
        }
    }
    insta::assert_snapshot!(format!("remote_{case}"), text);
}

#[test]
fn unknown_action_without_token_input_needs_nothing() {
    check("unknown_action_without_token");
}

#[test]
fn unknown_action_with_token_input_is_undetermined() {
    check("unknown_action_with_token_input");
}

#[test]
fn composite_remote_action_is_read_step_by_step() {
    check("composite_remote_action");
}

#[test]
fn remote_reusable_workflow_is_read_at_its_commit() {
    check("remote_reusable_workflow");
}

#[test]
fn local_action_of_another_checked_out_repository_is_read_remotely() {
    check("checkout_other_repository");
}

/// With a token and the repository's name, the default token permissions are read from the
/// Actions settings endpoint; read-only settles the job that runs an unknown program with the
/// token in its environment (a latent 403) and lets the top-level block be written.
#[test]
fn repository_default_is_read_from_the_api() {
    let workflow = "on: push\njobs:\n  sync:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: sync-labels\n        env:\n          GITHUB_TOKEN: ${{ github.token }}\n";
    let repo = common::single_file_repo(".github/workflows/ci.yml", FileKind::Workflow, workflow);
    let repos = [
        RecordedRepo::new("acme/widgets").with_workflow_permissions("read"),
        RecordedRepo::new("acme/open").with_workflow_permissions("write"),
        RecordedRepo::new("acme/private"),
    ];
    let server =
        TestServer::start_with_repos(repos, ServerOptions::default(), 0).expect("test server");
    let with_token = || {
        let config = ResolverConfig {
            server_url: server.url(),
            api_url: server.url(),
            token: Some("test-token".into()),
            timeout: Duration::from_secs(10),
            retry_backoff: Duration::from_millis(1),
            ..ResolverConfig::default()
        };
        let resolver = Arc::new(Resolver::new(config.clone()).expect("resolver"));
        let reader = Arc::new(FileReader::new(&config).expect("reader"));
        let files: Arc<dyn RemoteFiles> = Arc::new(GithubFiles::new(resolver, reader));
        files
    };
    let run = |own: &str| {
        let transform = Permissions::default()
            .with_remote(with_token())
            .with_own_repository(own);
        render_outcome(&transform.run(&repo))
    };
    let read = run("acme/widgets");
    assert!(
        read.contains("read-only (from the repository's settings, read from the API)")
            && read.contains("+permissions:")
            && read.contains("latent 403"),
        "{read}"
    );
    // Read and write, or an endpoint the token cannot read: no block while the job is open.
    for own in ["acme/open", "acme/private"] {
        let text = run(own);
        assert!(!text.contains("+permissions:"), "{own}: {text}");
        assert!(
            text.contains("harden cannot tell what it needs"),
            "{own}: {text}"
        );
    }
    assert!(run("acme/open").contains("read and write (from the repository's settings"));
    let asked = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/actions/permissions/workflow"))
        .count();
    assert_eq!(asked, 4, "one request per run");
}

#[test]
fn without_a_reader_unknown_actions_stay_undetermined() {
    let path = common::testdata().join("permissions/remote/unknown_action_without_token.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(".github/workflows/x.yml", FileKind::Workflow, &text);
    let outcome = Permissions::default().run(&repo);
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.message.contains("not in harden's knowledge base")));
}

#[test]
fn files_are_fetched_once_each_and_together() {
    let path = common::testdata().join("permissions/remote/unknown_action_with_token_input.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(".github/workflows/x.yml", FileKind::Workflow, &text);
    let server = server();
    let transform = Permissions::default().with_remote(remote(&server));
    let _ = transform.run(&repo);
    let labeler =
        "/harden-fixtures/labeler/raw/0000000000000000000000000000000000000002/action.yml";
    assert_eq!(server.requests_to(labeler), 1, "{:?}", server.requests());
}

/// The files of a corpus folder laid out like a repository (workflows and `action.y*ml`).
fn corpus_repo(dir: &std::path::Path) -> harden_transforms::Repository {
    let paths = harden_testserver::files_under(dir);
    let mut files = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        let kind = if rel.contains(".github/workflows/") {
            FileKind::Workflow
        } else if name == "action.yml" || name == "action.yaml" {
            FileKind::Action
        } else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        files.push(harden_transforms::SourceFile::new(p.clone(), kind, text));
    }
    harden_transforms::Repository {
        root: dir.to_owned(),
        files,
    }
}

/// The kind of a reason, for the table of remaining causes.
fn category(reason: &str) -> &'static str {
    let has = |t: &str| reason.contains(t);
    if has("which is not among the files harden read") {
        "a local action or workflow whose file the corpus does not hold"
    } else if has("which harden could not read") || has("whose Makefile harden could not read") {
        "a local script or Makefile the corpus does not hold"
    } else if has("harden cannot see what it writes") {
        "an opaque program (unknown command, interpreter program) with the job token"
    } else if has("not in harden's knowledge base")
        && (has("could not be read") || has("is not `owner"))
    {
        "an action or reusable workflow of a repository that is not recorded"
    } else if has("not in harden's knowledge base") {
        "an action or reusable workflow outside the knowledge base (not read)"
    } else if has("runs the JavaScript action") || has("runs the Docker action") {
        "a JavaScript or Docker action outside the knowledge base that gets the token"
    } else if has("OIDC token") {
        "an action outside the knowledge base that may request an OIDC token"
    } else if has("checked out from") {
        "an action of another checked-out repository that could not be read"
    } else if has("loads code from a file") || has("runs commands harden does not read") {
        "github-script code loaded from a file"
    } else if has("job token in its `env`")
        || has("holds the job token as")
        || has("reads the job token in a script")
        || has("passes the job token to")
    {
        "a command harden cannot map gets the token (env or arguments)"
    } else if has("no step visibly pushes") {
        "commits with the token in git, no visible push"
    } else if has("uses `") && has(":") {
        "a knowledge-base entry marked undetermined"
    } else {
        "other (API calls, GraphQL, recursion, parse errors)"
    }
}

/// The share of corpus jobs reported as undetermined (jobs without their own `permissions`
/// block that harden cannot settle), without and with reading what runs (the test server
/// serving `testdata/recorded`), and the causes that remain. Run with
/// `cargo test -p harden-transforms --test permissions_remote corpus -- --ignored --nocapture`
/// (`HARDEN_CAUSES_DETAILS=1` lists every remaining reason with its job).
#[test]
#[ignore]
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn corpus_undetermined_share() {
    let root = harden_testserver::full_corpus_dir();
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("skipped: no corpus at {}", root.display());
        return;
    };
    let mut dirs: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let repos: Vec<_> = dirs.iter().map(|d| corpus_repo(d)).collect();
    let server = TestServer::start(recorded_refs()).expect("server");
    server.set_actions_dir(recorded_actions());
    let more_server = recorded_more_server();
    let details = std::env::var_os("HARDEN_CAUSES_DETAILS").is_some();
    let runs = [
        ("before (--strict)", strict()),
        ("before", Permissions::default()),
        ("after", Permissions::default().with_remote(remote(&server))),
        (
            "after, with testdata/recorded-more (--strict)",
            strict().with_remote(remote(&more_server)),
        ),
        (
            "after, with testdata/recorded-more",
            Permissions::default().with_remote(remote(&more_server)),
        ),
    ];
    for (name, transform) in runs {
        let (mut jobs, mut reported, mut local_only, mut assumed) = (0, 0, 0, 0);
        let mut trusted: std::collections::BTreeMap<String, usize> = Default::default();
        let mut causes: std::collections::BTreeMap<&str, usize> = Default::default();
        for (dir, repo) in dirs.iter().zip(&repos) {
            // The corpus folders are named `owner__repo` (no `.git` to read `origin` from).
            let own = dir
                .file_name()
                .map(|n| n.to_string_lossy().replacen("__", "/", 1));
            let transform = match own {
                Some(own) => transform.clone().with_own_repository(own),
                None => transform.clone(),
            };
            for report in transform.infer(repo) {
                jobs += 1;
                if !report.reported {
                    if !report.assumed.is_empty() && report.undetermined.is_empty() {
                        assumed += 1;
                        for p in &report.assumed {
                            *trusted.entry(p.clone()).or_default() += 1;
                        }
                    }
                    continue;
                }
                reported += 1;
                let local = |r: &String| category(r).starts_with("a local ");
                if report.undetermined.iter().all(local) {
                    local_only += 1;
                    continue;
                }
                let kinds: std::collections::BTreeSet<&str> = report
                    .undetermined
                    .iter()
                    .filter(|r| !local(r))
                    .map(|r| category(r))
                    .collect();
                for k in kinds {
                    *causes.entry(k).or_default() += 1;
                }
                if details && name.starts_with("after, with") {
                    for r in report.undetermined.iter().filter(|r| !local(r)) {
                        println!("DETAIL {}: {}: {r}", report.path.display(), report.job);
                    }
                }
            }
        }
        let pct = |n: usize| 100.0 * n as f64 / jobs.max(1) as f64;
        println!(
            "{name}: {jobs} jobs; {reported} reported undetermined ({:.1}%); {local_only} of them only for a local action, workflow, script or Makefile the corpus does not hold; the others: {} ({:.1}%); {assumed} settled on an assumption ({:.1}%)",
            pct(reported),
            reported - local_only,
            pct(reported - local_only),
            pct(assumed)
        );
        if details {
            print_assumed(&trusted);
        }
        if std::env::var_os("HARDEN_RECORDED_KEEP").is_some() {
            for r in more_server.requests() {
                println!("SERVED {}", r.path);
            }
        }
        let mut sorted: Vec<_> = causes.into_iter().collect();
        sorted.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        for (c, n) in sorted {
            println!("  {n:5} jobs: {c}");
        }
    }
}

/// The test server serving `testdata/recorded` and the action repositories recorded the
/// same way in `testdata/recorded-more` (its README.md).
fn recorded_more_server() -> TestServer {
    let more = common::testdata().join("recorded-more");
    let server = TestServer::start(recorded_refs()).expect("server");
    server.set_actions_dir(recorded_actions());
    if let Ok(repos) = harden_testserver::load_refs_dir(&more.join("refs")) {
        for repo in repos.into_values() {
            server.add_repo(repo);
        }
        server.add_actions_dir(more.join("actions"));
    }
    server
}

/// The transform with `--strict` (the rule before evidence).
fn strict() -> Permissions {
    Permissions::new(harden_transforms::permissions::PermissionsOptions {
        strict: true,
        ..Default::default()
    })
}

/// The programs most often taken on trust, with the number of jobs settled on each.
#[allow(clippy::print_stdout)]
fn print_assumed(trusted: &std::collections::BTreeMap<String, usize>) {
    let mut common: Vec<_> = trusted.iter().collect();
    common.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    for (p, n) in common.iter().take(25) {
        println!("  ASSUMED {n:5} jobs: {p}");
    }
}

#[test]
fn same_repository_references_are_read_like_local_ones() {
    let caller = "on: push\njobs:\n  call:\n    uses: $/.github/workflows/called.yml\n  act:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: $/.github/actions/comment\n";
    let called = "on: workflow_call\njobs:\n  label:\n    runs-on: ubuntu-latest\n    permissions:\n      issues: write\n    steps:\n      - run: echo\n";
    let action = "runs:\n  using: composite\n  steps:\n    - shell: bash\n      env:\n        GH_TOKEN: ${{ github.token }}\n      run: gh pr comment 1 --body hi\n";
    let repo = harden_transforms::Repository {
        root: ".".into(),
        files: vec![
            harden_transforms::SourceFile::new(
                ".github/workflows/ci.yml",
                FileKind::Workflow,
                caller,
            ),
            harden_transforms::SourceFile::new(
                ".github/workflows/called.yml",
                FileKind::Workflow,
                called,
            ),
            harden_transforms::SourceFile::new(
                ".github/actions/comment/action.yml",
                FileKind::Action,
                action,
            ),
        ],
    };
    let remote: Arc<dyn RemoteFiles> = Arc::new(harden_transforms::permissions::MemoryFiles::new());
    let outcome = Permissions::default().with_remote(remote).run(&repo);
    let text = render_outcome(&outcome);
    assert!(
        text.contains("issues: write # called.yml: job `label` requests it"),
        "{text}"
    );
    assert!(text.contains("pull-requests: write"), "{text}");
    assert!(!text.contains("undetermined"), "{text}");
}

#[test]
fn a_recorded_folder_is_read_without_the_network() {
    let config = ResolverConfig {
        // Nothing listens here: any request would fail.
        server_url: "http://127.0.0.1:9".into(),
        api_url: "http://127.0.0.1:9".into(),
        recorded: Some(common::testdata().join("permissions/remote_recorded")),
        timeout: Duration::from_secs(2),
        ..ResolverConfig::default()
    };
    let resolver = Arc::new(Resolver::new(config.clone()).expect("resolver"));
    let reader = Arc::new(FileReader::new(&config).expect("reader"));
    let remote: Arc<dyn RemoteFiles> = Arc::new(GithubFiles::new(resolver, Arc::clone(&reader)));
    let path = common::testdata().join("permissions/remote/composite_remote_action.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let repo = common::single_file_repo(".github/workflows/x.yml", FileKind::Workflow, &text);
    let outcome = Permissions::default().with_remote(remote).run(&repo);
    let text = render_outcome(&outcome);
    assert!(
        text.contains("pull-requests: write # harden-fixtures/comment"),
        "{text}"
    );
    assert_eq!(reader.requests(), 0);
}
