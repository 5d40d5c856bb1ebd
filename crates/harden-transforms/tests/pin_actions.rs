//! Tests of the pin-actions transform against the local test server: one snapshot per fixture
//! of `testdata/pin-actions/`, and the whole shared corpus.
//!
//! Every fixture run also checks that the outputs are stable: a second run over them changes
//! nothing, and a second run with a new resolver over the same cache makes no request for the
//! repositories that were found.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use harden_github::{is_full_sha, RepoId, Resolver, ResolverConfig};
use harden_testserver::{
    default_refs_dir, load_refs_dir, Fault, FaultRule, RecordedRepo, ServerOptions, TestServer,
};
use harden_transforms::pin_actions::{
    is_pinned, parse_uses, uses_sites, BranchPolicy, PinActions, PinOptions,
};
use harden_transforms::tag_only::TagOnlyList;
use harden_transforms::{FileKind, Outcome, Repository, Severity, SourceFile, Transform};
use harden_yaml::Document;

use common::render_outcome;

/// The test server of all recorded repositories, shared by the tests that inject no fault.
fn shared_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| TestServer::start(default_refs_dir()).expect("start the test server"))
}

/// Every recorded repository, keyed by lowercase `owner/repo`.
fn recorded() -> &'static BTreeMap<String, RecordedRepo> {
    static RECORDED: OnceLock<BTreeMap<String, RecordedRepo>> = OnceLock::new();
    RECORDED.get_or_init(|| load_refs_dir(&default_refs_dir()).expect("recorded refs"))
}

fn resolver(url: &str, cache_dir: &FsPath) -> Arc<Resolver> {
    let config = ResolverConfig {
        server_url: url.to_owned(),
        api_url: url.to_owned(),
        cache_dir: Some(cache_dir.to_owned()),
        timeout: Duration::from_secs(10),
        max_retries: 1,
        retry_backoff: Duration::from_millis(5),
        ..ResolverConfig::default()
    };
    Arc::new(Resolver::new(config).expect("resolver"))
}

fn fixture(name: &str) -> String {
    let path = common::testdata().join("pin-actions").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn workflow(name: &str, text: &str) -> SourceFile {
    SourceFile::new(
        format!(".github/workflows/{name}"),
        FileKind::Workflow,
        text,
    )
}

/// Runs the transform on `repo`, checks the guard, idempotence and the cached second run,
/// and returns the snapshot text: the diff and findings of the first run, then the findings
/// of the second run over its outputs (with a new resolver over the same cache).
fn pin_checked(server: &TestServer, repo: &Repository, options: PinOptions) -> String {
    for file in &repo.files {
        assert!(
            file.document().is_some(),
            "{}: {:?}",
            file.path.display(),
            file.doc
        );
    }
    let cache = tempfile::tempdir().expect("tempdir");
    let first_resolver = resolver(&server.url(), cache.path());
    let pin = PinActions::new(Arc::clone(&first_resolver), options.clone());
    let first = pin.run(repo);
    common::assert_guard_passed(&first);
    let cold = first_resolver.stats();
    let pinned = repo.applied(&first);

    // Same transform again over its own output: nothing changes and nothing is asked again.
    let again = pin.run(&pinned);
    assert!(
        again.changes.is_empty(),
        "second run changed:\n{}",
        render_outcome(&again)
    );
    assert_eq!(first_resolver.stats().requests, cold.requests);

    // A new resolver over the same cache: only repositories that failed are asked again.
    let warm_resolver = resolver(&server.url(), cache.path());
    let second = PinActions::new(Arc::clone(&warm_resolver), options).run(&pinned);
    assert!(
        second.changes.is_empty(),
        "cached second run changed:\n{}",
        render_outcome(&second)
    );
    let warm = warm_resolver.stats();
    assert_eq!(
        warm.fetched, 0,
        "a repository found in the first run was fetched again"
    );
    assert_eq!(warm.cache_hits, cold.fetched);
    assert_eq!(warm.failed, cold.failed);
    format!(
        "{}--- second run over the output (new resolver, same cache: {} requests) ---\n{}",
        render_outcome(&first),
        warm.requests,
        render_outcome(&second)
    )
}

fn check_workflow(name: &str, options: PinOptions) -> String {
    let file = format!("{name}.yml");
    let repo = common::repository(vec![workflow(&file, &fixture(&file))]);
    pin_checked(shared_server(), &repo, options)
}

#[test]
fn tags() {
    insta::assert_snapshot!("tags", check_workflow("tags", PinOptions::default()));
}

#[test]
fn annotated_tags() {
    insta::assert_snapshot!(
        "annotated",
        check_workflow("annotated", PinOptions::default())
    );
}

#[test]
fn quoted_values() {
    insta::assert_snapshot!("quoted", check_workflow("quoted", PinOptions::default()));
}

#[test]
fn flow_style() {
    insta::assert_snapshot!("flow", check_workflow("flow", PinOptions::default()));
}

#[test]
fn anchors_and_aliases() {
    insta::assert_snapshot!("anchors", check_workflow("anchors", PinOptions::default()));
}

#[test]
fn byte_order_mark() {
    let text = fixture("bom.yml");
    assert!(
        text.starts_with('\u{feff}'),
        "the fixture starts with a BOM"
    );
    let repo = common::repository(vec![workflow("bom.yml", &text)]);
    let cache = tempfile::tempdir().expect("tempdir");
    let pin = PinActions::new(
        resolver(&shared_server().url(), cache.path()),
        PinOptions::default(),
    );
    let outcome = pin.run(&repo);
    assert!(outcome.changes[0]
        .after
        .starts_with("\u{feff}# A file saved"));
    insta::assert_snapshot!("bom", check_workflow("bom", PinOptions::default()));
}

#[test]
fn non_ascii() {
    let repo = common::repository(vec![workflow("non_ascii.yml", &fixture("non_ascii.yml"))]);
    let cache = tempfile::tempdir().expect("tempdir");
    let pin = PinActions::new(
        resolver(&shared_server().url(), cache.path()),
        PinOptions::default(),
    );
    let outcome = pin.run(&repo);
    // Columns count characters: `      - { name: "Ünïcödé ✓", uses: ` is 35 of them.
    let columns: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| (f.line, f.column))
        .collect();
    assert_eq!(columns, [(Some(10), Some(36))]);
    insta::assert_snapshot!(
        "non_ascii",
        check_workflow("non_ascii", PinOptions::default())
    );
}

#[test]
fn trailing_comments() {
    insta::assert_snapshot!(
        "trailing_comments",
        check_workflow("trailing_comments", PinOptions::default())
    );
}

#[test]
fn two_space_comment_style() {
    insta::assert_snapshot!(
        "two_space_comments",
        check_workflow("two_space_comments", PinOptions::default())
    );
}

#[test]
fn comment_spacing_option_overrides_the_file() {
    let text = "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n";
    let repo = common::repository(vec![workflow("spacing.yml", text)]);
    let options = PinOptions {
        comment_spacing: Some(3),
        ..PinOptions::default()
    };
    let out = pin_checked(shared_server(), &repo, options);
    assert!(
        out.contains(
            "+      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262   # v4.4.0\n"
        ),
        "{out}"
    );
}

#[test]
fn uses_text_elsewhere_is_untouched() {
    let out = check_workflow("uses_text_elsewhere", PinOptions::default());
    // Exactly two lines change: the two real `uses:` values.
    let removed = out.lines().filter(|l| l.starts_with("-  ")).count();
    assert_eq!(removed, 2, "{out}");
    insta::assert_snapshot!("uses_text_elsewhere", out);
}

#[test]
fn composite_action() {
    let repo = common::repository(vec![SourceFile::new(
        ".github/actions/setup/action.yml",
        FileKind::Action,
        fixture("composite_action.yml"),
    )]);
    insta::assert_snapshot!(
        "composite_action",
        pin_checked(shared_server(), &repo, PinOptions::default())
    );
}

#[test]
fn reusable_workflows() {
    insta::assert_snapshot!(
        "reusable",
        check_workflow("reusable", PinOptions::default())
    );
}

#[test]
fn subdirectory_actions() {
    insta::assert_snapshot!(
        "subdirectory",
        check_workflow("subdirectory", PinOptions::default())
    );
}

#[test]
fn already_pinned() {
    insta::assert_snapshot!(
        "already_pinned",
        check_workflow("already_pinned", PinOptions::default())
    );
}

#[test]
fn branches_pinned() {
    insta::assert_snapshot!(
        "branches_pin",
        check_workflow("branches", PinOptions::default())
    );
}

#[test]
fn branches_kept() {
    let options = PinOptions {
        branches: BranchPolicy::Keep,
        ..PinOptions::default()
    };
    insta::assert_snapshot!("branches_keep", check_workflow("branches", options));
}

#[test]
fn not_pinnable_references() {
    insta::assert_snapshot!(
        "not_pinnable",
        check_workflow("not_pinnable", PinOptions::default())
    );
}

#[test]
fn missing_repository_and_refs() {
    insta::assert_snapshot!("missing", check_workflow("missing", PinOptions::default()));
}

#[test]
fn exempt_actions_are_neither_fetched_nor_pinned() {
    let text = "on: push\njobs:\n  a:\n    steps:\n      - uses: my-org/thing@v1\n      - uses: My-Org/other/sub@main\n      - uses: actions/checkout@v4\n";
    let repo = common::repository(vec![workflow("exempt.yml", text)]);
    let cache = tempfile::tempdir().expect("tempdir");
    let resolver = resolver(&shared_server().url(), cache.path());
    let options = PinOptions {
        exempt: vec!["my-org/*".to_owned()],
        ..PinOptions::default()
    };
    let outcome = PinActions::new(Arc::clone(&resolver), options).run(&repo);
    assert_eq!(resolver.stats().requests, 1);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    let after = &outcome.changes[0].after;
    assert!(after.contains("my-org/thing@v1\n") && after.contains("My-Org/other/sub@main\n"));
    assert!(after.contains("actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0"));
}

/// Synthetic refs: a tag and a branch of the same name, nested annotated tags.
fn synthetic_server() -> TestServer {
    let (a, b, c, d) = (
        "a".repeat(40),
        "b".repeat(40),
        "c".repeat(40),
        "d".repeat(40),
    );
    let repo = RecordedRepo::new("acme/clash")
        .with_branch("main", &c)
        .with_branch("release", &b)
        .with_annotated_tag("release", &"1".repeat(40), &a)
        // `v2` is a tag object pointing at the tag object of `v2.0.0`: both peel to `d`.
        .with_annotated_tag("v2", &"2".repeat(40), &d)
        .with_annotated_tag("v2.0.0", &"3".repeat(40), &d)
        .with_tag("v1", &a)
        .with_annotated_tag("v1.4.1", &"4".repeat(40), &a);
    TestServer::start_with_repos([repo], ServerOptions::default(), 0).expect("start test server")
}

#[test]
fn tag_branch_clash_and_nested_tags() {
    let server = synthetic_server();
    let file = "nested_and_clash.yml";
    let repo = common::repository(vec![workflow(file, &fixture(file))]);
    let out = pin_checked(&server, &repo, PinOptions::default());
    assert!(!out.contains(&"1".repeat(40)) && !out.contains(&"2".repeat(40)));
    insta::assert_snapshot!("nested_and_clash", out);
}

#[test]
fn crlf_line_endings_are_kept() {
    let lf = fixture("crlf.yml");
    assert!(!lf.contains('\r'));
    let crlf = lf.replace('\n', "\r\n");
    let cache = tempfile::tempdir().expect("tempdir");
    let pin = PinActions::new(
        resolver(&shared_server().url(), cache.path()),
        PinOptions::default(),
    );
    let lf_out = pin.run(&common::repository(vec![workflow("crlf.yml", &lf)]));
    let crlf_repo = common::repository(vec![workflow("crlf.yml", &crlf)]);
    let crlf_out = pin.run(&crlf_repo);
    let after = &crlf_out.changes[0].after;
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "every line break is still CRLF"
    );
    assert_eq!(*after, lf_out.changes[0].after.replace('\n', "\r\n"));
    let out = pin_checked(shared_server(), &crlf_repo, PinOptions::default());
    insta::assert_snapshot!("crlf", out.replace('\r', "␍"));
}

#[test]
fn failures_are_per_reference_and_other_files_go_on() {
    let server = TestServer::start(default_refs_dir()).expect("start test server");
    server.set_fault_rule("actions/cache", FaultRule::new(Fault::Reset));
    server.set_fault("actions/setup-go", Fault::Status(500));
    let first = "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/cache@v4\n      - uses: actions/checkout@v4\n      - uses: actions/setup-go@v5\n";
    let second = "on: push\njobs:\n  b:\n    steps:\n      - uses: actions/setup-node@v4\n      - uses: actions/cache/restore@v4\n";
    let repo = common::repository(vec![
        workflow("one.yml", first),
        workflow("two.yml", second),
    ]);
    let out = pin_checked(&server, &repo, PinOptions::default());
    insta::assert_snapshot!(
        "network_errors",
        out.replace(&server.url(), "http://SERVER")
    );
}

// ---------------------------------------------------------------------------------------------
// The corpus.

/// Runs `work` on every item from a few threads (the corpus is large for a debug build).
fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = work(item);
                results.lock().expect("results").push((i, result));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// One repository of the corpus per `<owner>__<repo>` folder: its workflows (subfolders
/// included) and `action.y*ml` files, those that parse.
fn corpus_repositories(root: &FsPath) -> Vec<Repository> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("the corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    parallel_map(&dirs, |dir| {
        let paths = harden_testserver::files_under(dir);
        let mut files = Vec::new();
        for path in paths {
            let rel = path
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            let Some(kind) = common::corpus_kind(&rel) else {
                continue;
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let shown = path.strip_prefix(root).expect("inside").to_owned();
            let file = SourceFile::new(shown, kind, text);
            if file.document().is_some() {
                files.push(file);
            }
        }
        Repository {
            root: dir.clone(),
            files,
        }
    })
}

/// The commit the recorded data gives for `git_ref`, tag first, as the runner resolves it.
fn recorded_commit(repo: &RecordedRepo, git_ref: &str) -> Option<String> {
    if let Some(name) = git_ref.strip_prefix("refs/tags/") {
        return repo.tags.get(name).map(|t| t.commit.to_ascii_lowercase());
    }
    if let Some(name) = git_ref.strip_prefix("refs/heads/") {
        return repo.branches.get(name).map(|c| c.to_ascii_lowercase());
    }
    repo.tags
        .get(git_ref)
        .map(|t| t.commit.clone())
        .or_else(|| repo.branches.get(git_ref).cloned())
        .map(|c| c.to_ascii_lowercase())
}

/// The comments of a text, by 0-based line: (line, comment text).
fn comments_by_line(doc: &Document) -> Vec<(usize, String)> {
    doc.comments()
        .into_iter()
        .map(|c| {
            (
                doc.location(c.span.start).line - 1,
                doc.text()[c.span.range()].to_owned(),
            )
        })
        .collect()
}

fn looks_like_version(word: &str) -> bool {
    let w = word
        .trim_start_matches(['#', '@', '('])
        .trim_start_matches("tag=");
    let w = w.rsplit('/').next().unwrap_or(w);
    w.trim_start_matches(['v', 'V'])
        .starts_with(|c: char| c.is_ascii_digit())
}

/// What the corpus check found in one repository.
#[derive(Default)]
struct CorpusReport {
    problems: Vec<String>,
    counts: BTreeMap<&'static str, usize>,
    repos: BTreeSet<RepoId>,
    output: Option<Repository>,
    rendered: String,
}

/// Checks that only the `uses` lines (`site_lines`, from 0) of a file changed, that every
/// comment stays, and that on a changed line every word of its comment that is not a version
/// stays.
fn check_lines_and_comments(
    path: &FsPath,
    (before, after): (&Document, &Document),
    site_lines: &HashSet<usize>,
    mut changed_lines: HashSet<usize>,
    problems: &mut Vec<String>,
) {
    if before.text() == after.text() {
        return;
    }
    let before_lines: Vec<&str> = before.text().split('\n').collect();
    let after_lines: Vec<&str> = after.text().split('\n').collect();
    assert_eq!(before_lines.len(), after_lines.len(), "{}", path.display());
    for (i, (b, a)) in before_lines.iter().zip(&after_lines).enumerate() {
        if b != a {
            if !site_lines.contains(&i) {
                problems.push(format!(
                    "{}:{}: a line without `uses` changed",
                    path.display(),
                    i + 1
                ));
            }
            changed_lines.insert(i);
        }
    }
    let after_comments = comments_by_line(after);
    for (line, text) in comments_by_line(before) {
        if !changed_lines.contains(&line) {
            if !after_comments.contains(&(line, text.clone())) {
                problems.push(format!(
                    "{}:{}: comment lost: {text}",
                    path.display(),
                    line + 1
                ));
            }
            continue;
        }
        let new_line = after_lines[line];
        for word in text.trim_start_matches('#').split_whitespace() {
            if !looks_like_version(word) && !new_line.contains(word) {
                problems.push(format!(
                    "{}:{}: comment word {word:?} lost: {text} -> {new_line}",
                    path.display(),
                    line + 1
                ));
            }
        }
    }
}

/// Pins one corpus repository and checks every reference and comment of the result.
fn check_corpus_repo(
    pin: &PinActions,
    served: &HashSet<String>,
    repo: &Repository,
) -> CorpusReport {
    let mut report = CorpusReport::default();
    let outcome = pin.run(repo);
    common::assert_guard_passed(&outcome);
    report.rendered = render_outcome(&outcome);
    let output = repo.applied(&outcome);
    let problems = &mut report.problems;
    for (file, out_file) in repo.files.iter().zip(&output.files) {
        let before = file.document().expect("parsed");
        let after = out_file.document().expect("the output parses");
        let before_sites = uses_sites(file.kind, before);
        let after_sites = uses_sites(file.kind, after);
        assert_eq!(
            before_sites.len(),
            after_sites.len(),
            "{}",
            file.path.display()
        );
        let mut changed_lines = HashSet::new();
        for ((path, old), (new_path, new)) in before_sites.iter().zip(&after_sites) {
            assert_eq!(path, new_path);
            let old_value = old.as_str().unwrap_or_default();
            let new_value = new.as_str().unwrap_or_default();
            let count = |report: &mut BTreeMap<&'static str, usize>, what| {
                *report.entry(what).or_default() += 1;
            };
            let Ok(u) = parse_uses(old_value) else {
                let what = if is_pinned(old_value) {
                    "already pinned"
                } else {
                    "not pinnable"
                };
                count(&mut report.counts, what);
                assert_eq!(old_value, new_value);
                continue;
            };
            if TagOnlyList::built_in().find(&u.action).is_none() {
                // Tag-only callees are never fetched.
                report.repos.insert(u.repo.clone());
            }
            let at = format!("{}:{}", file.path.display(), old.line);
            let reported = |needle: &str| {
                outcome.findings.iter().any(|f| {
                    f.path == file.path && f.line == Some(old.line) && f.message.contains(needle)
                })
            };
            let recorded = recorded().get(&u.repo.key());
            if old_value != new_value {
                changed_lines.insert(old.line - 1);
                count(&mut report.counts, "pinned");
                let n = parse_uses(new_value).expect("pinned value parses");
                assert_eq!(n.action, u.action, "{at}");
                assert!(is_full_sha(&n.git_ref), "{at}: {new_value}");
                let expected = recorded.and_then(|r| recorded_commit(r, &u.git_ref));
                if expected.as_deref() != Some(n.git_ref.as_str()) {
                    problems.push(format!(
                        "{at}: {old_value} -> {new_value}, recorded {expected:?}"
                    ));
                }
            } else if TagOnlyList::built_in().find(&u.action).is_some() {
                count(&mut report.counts, "kept on its tag");
                if !reported("kept on its tag") && !reported("will fail") {
                    problems.push(format!("{at}: {old_value}: tag-only callee not reported"));
                }
            } else if is_full_sha(&u.git_ref) {
                count(&mut report.counts, "already pinned");
            } else if !served.contains(&u.repo.key()) {
                count(&mut report.counts, "repository not found");
                if !reported("repository not found") {
                    problems.push(format!("{at}: {old_value}: no `repository not found`"));
                }
            } else if recorded.is_some_and(|r| recorded_commit(r, &u.git_ref).is_none()) {
                count(&mut report.counts, "ref not found");
                if !reported("ref not found") {
                    problems.push(format!("{at}: {old_value}: no `ref not found`"));
                }
            } else {
                problems.push(format!("{at}: {old_value} neither pinned nor reported"));
            }
        }
        // Only `uses` lines change; every comment stays, and on a changed line every word of
        // its comment that is not a version.
        let site_lines: HashSet<usize> = before_sites.iter().map(|(_, n)| n.line - 1).collect();
        check_lines_and_comments(
            &file.path,
            (before, after),
            &site_lines,
            changed_lines,
            problems,
        );
    }
    report.output = Some(output);
    report
}

#[test]
fn corpus() {
    for root in harden_testserver::corpus_roots("harden-transforms pin_actions corpus") {
        pin_corpus(&root.path, if root.full { 1000 } else { 100 });
    }
}

/// Pins every repository of the corpus at `root`, checks every reference, then pins again.
/// `at_least` is the least number of references expected pinned, and already pinned.
fn pin_corpus(root: &FsPath, at_least: usize) {
    let repos = corpus_repositories(root);
    assert!(repos.len() >= 80, "corpus folders: {}", repos.len());
    let server = shared_server();
    let served: HashSet<String> = server
        .repo_names()
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let cache = tempfile::tempdir().expect("tempdir");
    let resolver = resolver(&server.url(), cache.path());
    let pin = PinActions::new(Arc::clone(&resolver), PinOptions::default());
    // One batch for the whole corpus, so the repositories below can be pinned in parallel.
    pin.prefetch(&repos);

    let reports = parallel_map(&repos, |repo| check_corpus_repo(&pin, &served, repo));
    let mut unique: BTreeSet<RepoId> = BTreeSet::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems: Vec<String> = Vec::new();
    for r in &reports {
        unique.extend(r.repos.iter().cloned());
        for (k, v) in &r.counts {
            *counts.entry(k).or_default() += v;
        }
        problems.extend(r.problems.iter().cloned());
    }
    // PIN_CORPUS_DUMP=<file> writes every diff and finding there, for a review by hand.
    if let Some(path) = std::env::var_os("PIN_CORPUS_DUMP") {
        let dump: String = reports.iter().map(|r| r.rendered.as_str()).collect();
        std::fs::write(path, dump).expect("write the dump");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let stats = resolver.stats();
    assert_eq!(
        stats.requests as usize,
        unique.len(),
        "one request per repository"
    );
    assert!(counts["pinned"] > at_least, "{counts:?}");
    assert!(counts["already pinned"] > at_least, "{counts:?}");
    assert!(counts["ref not found"] > 0, "{counts:?}");
    assert!(counts["repository not found"] > 0, "{counts:?}");
    assert!(counts["kept on its tag"] > 10, "{counts:?}");

    // Idempotent, and no request: everything is known.
    let outputs: Vec<Repository> = reports.into_iter().filter_map(|r| r.output).collect();
    parallel_map(&outputs, |repo| {
        let again = pin.run(repo);
        assert!(
            again.changes.is_empty(),
            "second run changed:\n{}",
            render_outcome(&again)
        );
    });
    assert_eq!(resolver.stats().requests, stats.requests);
}

// ---------------------------------------------------------------------------------------------
// Without the network, same-repository references, tag-only callees, the workflow lockfile.

/// A URL where nothing listens: every request fails at once (connection refused).
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn offline_resolver(cache_dir: Option<&FsPath>, offline: bool) -> Arc<Resolver> {
    offline_resolver_at(unreachable_url(), cache_dir, offline)
}

/// A resolver for `url` (a server that is gone, or never asked when `offline`).
fn offline_resolver_at(url: String, cache_dir: Option<&FsPath>, offline: bool) -> Arc<Resolver> {
    let config = ResolverConfig {
        server_url: url.clone(),
        api_url: url,
        cache_dir: cache_dir.map(FsPath::to_owned),
        offline,
        timeout: Duration::from_secs(5),
        max_retries: 0,
        retry_backoff: Duration::from_millis(1),
        ..ResolverConfig::default()
    };
    Arc::new(Resolver::new(config).expect("resolver"))
}

fn render_without_ports(outcome: &Outcome) -> String {
    let text = render_outcome(outcome);
    // The refused port differs from run to run.
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..at]);
        out.push_str("SERVER");
        rest = rest[at + "127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn errors(outcome: &Outcome) -> Vec<&str> {
    outcome
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.as_str())
        .collect()
}

#[test]
fn pinned_references_pass_without_the_network() {
    let repo = common::repository(vec![workflow("offline.yml", &fixture("offline.yml"))]);
    // The server unreachable with an empty cache, and --offline with no cache at all.
    let empty = tempfile::tempdir().expect("tempdir");
    for resolver in [
        offline_resolver(Some(empty.path()), false),
        offline_resolver(None, true),
    ] {
        let outcome = PinActions::new(resolver, PinOptions::default()).run(&repo);
        assert!(outcome.changes.is_empty(), "{}", render_outcome(&outcome));
        assert!(errors(&outcome).is_empty(), "{}", render_outcome(&outcome));
        // One finding for all the SHA pins (a warning: one has no comment), and the tag-only
        // note.
        assert_eq!(outcome.findings.len(), 2, "{}", render_outcome(&outcome));
    }
    let outcome = PinActions::new(
        offline_resolver(Some(empty.path()), false),
        PinOptions::default(),
    )
    .run(&repo);
    insta::assert_snapshot!("offline", render_without_ports(&outcome));
}

#[test]
fn verify_makes_the_check_mandatory() {
    let repo = common::repository(vec![workflow("offline.yml", &fixture("offline.yml"))]);
    let options = PinOptions {
        verify: true,
        ..PinOptions::default()
    };
    let outcome = PinActions::new(offline_resolver(None, true), options).run(&repo);
    assert!(outcome.changes.is_empty());
    let errors = errors(&outcome);
    assert_eq!(errors.len(), 1, "{}", render_outcome(&outcome));
    assert!(
        errors[0].starts_with("cannot verify 5 SHA pins of 3 action repositories (`actions/checkout`, `actions/setup-node`, `actions/setup-python`) (offline and not in the cache): --verify requires it"),
        "{errors:?}"
    );
}

#[test]
fn without_the_network_tags_still_cannot_be_pinned() {
    let text = fixture("offline_unpinned.yml");
    let repo = common::repository(vec![workflow("offline_unpinned.yml", &text)]);
    let outcome = PinActions::new(offline_resolver(None, true), PinOptions::default()).run(&repo);
    assert!(outcome.changes.is_empty());
    let errors = errors(&outcome);
    assert_eq!(errors.len(), 1, "{}", render_outcome(&outcome));
    assert!(
        errors[0].contains("cannot pin actions of `actions/cache`"),
        "{errors:?}"
    );
}

#[test]
fn cached_answers_still_correct_comments() {
    let repo = common::repository(vec![workflow("offline.yml", &fixture("offline.yml"))]);
    let cache = tempfile::tempdir().expect("tempdir");
    // Fill the cache while the server is there (the cache is kept per server, so the same
    // server's address is used once it is gone).
    let server = TestServer::start(default_refs_dir()).expect("start the test server");
    let url = server.url();
    PinActions::new(resolver(&url, cache.path()), PinOptions::default()).prefetch([&repo]);
    drop(server);
    // Then offline, and with the server gone (the cache is fresh): the same answer.
    for resolver in [
        offline_resolver_at(url.clone(), Some(cache.path()), true),
        offline_resolver_at(url.clone(), Some(cache.path()), false),
    ] {
        let outcome = PinActions::new(Arc::clone(&resolver), PinOptions::default()).run(&repo);
        assert_eq!(resolver.stats().requests, 0);
        let after = &outcome.changes[0].after;
        assert!(
            after.contains("@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n      - uses: actions/setup-node"),
            "{after}"
        );
        assert!(
            after.contains("@a26af69be951a213d495a4c3e4e4022e16d87065 # v5.6.0"),
            "{after}"
        );
        let rendered = render_outcome(&outcome);
        assert!(
            rendered.contains("the comment says v4.1.0 but that commit is v4.2.2"),
            "{rendered}"
        );
        assert!(!rendered.contains("not verified"), "{rendered}");
    }
}

#[test]
fn a_comment_made_more_precise_is_a_change_not_a_warning() {
    let text = "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/setup-node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a # v4\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.1.0\n";
    let repo = common::repository(vec![workflow("precise.yml", text)]);
    let out = pin_checked(shared_server(), &repo, PinOptions::default());
    assert!(
        out.contains(
            "+      - uses: actions/setup-node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a # v4.2.0\n"
        ),
        "{out}"
    );
    assert!(!out.contains("the comment says v4 "), "{out}");
    assert!(
        out.contains("the comment says v4.1.0 but that commit is v4.2.2"),
        "{out}"
    );
}

#[test]
fn same_repository_references() {
    let out = check_workflow("self_repository", PinOptions::default());
    assert!(!out.contains("not owner/repo"), "{out}");
    insta::assert_snapshot!("self_repository", out);
}

#[test]
fn tag_only_callees() {
    let options = PinOptions {
        tag_only: vec!["my-org/attest/*".to_owned()],
        ..PinOptions::default()
    };
    let file = "tag_only.yml";
    let repo = common::repository(vec![workflow(file, &fixture(file))]);
    let cache = tempfile::tempdir().expect("tempdir");
    let resolver = resolver(&shared_server().url(), cache.path());
    PinActions::new(Arc::clone(&resolver), options.clone()).run(&repo);
    assert_eq!(
        resolver.stats().requests,
        1,
        "only actions/checkout is fetched"
    );
    insta::assert_snapshot!("tag_only", pin_checked(shared_server(), &repo, options));

    // `pin-anyway` drops a built-in entry.
    let options = PinOptions {
        pin_anyway: vec!["slsa-framework/slsa-github-generator/actions/*".to_owned()],
        ..PinOptions::default()
    };
    let outcome = PinActions::new(
        self::resolver(&shared_server().url(), cache.path()),
        options,
    )
    .run(&repo);
    let after = &outcome.changes[0].after;
    assert!(
        after.contains(
            "create-base64-subjects-from-file@f7dd8c54c2067bafc12ca7a55595d5ee9b75204a # v2.1.0"
        ),
        "{after}"
    );
    assert!(
        after.contains("generator_generic_slsa3.yml@v2.1.0\n"),
        "{after}"
    );
}

/// The lockfile fixture copied into a scratch repository, with `lock` as its lockfile when
/// given: (scratch folder, repository).
fn lockfile_repo(lock: Option<&str>) -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::testdata().join("pin-actions/lockfile/.github/workflows");
    let target = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&target).expect("mkdir");
    let mut files = Vec::new();
    for name in ["ci.yml", "other.yml", "release.yml", "actions.lock"] {
        let text = std::fs::read_to_string(source.join(name)).expect("fixture");
        let text = match (name, lock) {
            ("actions.lock", Some(lock)) => lock.to_owned(),
            _ => text,
        };
        std::fs::write(target.join(name), &text).expect("write");
        if name.ends_with(".yml") {
            files.push(SourceFile::new(target.join(name), FileKind::Workflow, text));
        }
    }
    let repo = Repository {
        root: dir.path().to_owned(),
        files,
    };
    (dir, repo)
}

#[test]
fn workflow_lockfile() {
    let (dir, repo) = lockfile_repo(None);
    let cache = tempfile::tempdir().expect("tempdir");
    let pin = PinActions::new(
        resolver(&shared_server().url(), cache.path()),
        PinOptions::default(),
    );
    let outcome = pin.run(&repo);
    let out = render_outcome(&outcome).replace(&dir.path().display().to_string(), "ROOT");
    assert!(out.contains("gh actions-lock --no-narrow"), "{out}");
    insta::assert_snapshot!("lockfile", out);

    // After the refresh, nothing is said about the lockfile.
    let fixed = repo.applied(&outcome);
    let lock = std::fs::read_to_string(dir.path().join(".github/workflows/actions.lock"))
        .expect("read")
        .replace(
            "'actions/checkout@v4'\n    '.github",
            "'actions/checkout@11d5960a326750d5838078e36cf38b85af677262'\n    '.github",
        )
        .replace("actions/checkout@v4.1.0", "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683")
        .replace("8ade135a41bc03ea155e62e844d188df1ea18608", "11bd71901bbe5b1630ceea73d27597364c9af683")
        .replace("'actions/checkout@v4':", "'actions/checkout@11d5960a326750d5838078e36cf38b85af677262':")
        + "    'actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065':\n        ref: 'v5.6.0'\n        commit: 'sha1-a26af69be951a213d495a4c3e4e4022e16d87065'\n        owner_id: 1\n        repo_id: 2\n";
    std::fs::write(dir.path().join(".github/workflows/actions.lock"), lock).expect("write");
    let again = pin.run(&fixed);
    assert!(again.changes.is_empty(), "{}", render_outcome(&again));
    assert!(
        !render_outcome(&again).contains("actions.lock"),
        "{}",
        render_outcome(&again)
    );
}

#[test]
fn workflow_lockfile_read_defensively() {
    let cache = tempfile::tempdir().expect("tempdir");
    let pin = PinActions::new(
        resolver(&shared_server().url(), cache.path()),
        PinOptions::default(),
    );
    // A version harden does not know: a warning, and the rest still checked.
    let fixture_lock = std::fs::read_to_string(
        common::testdata().join("pin-actions/lockfile/.github/workflows/actions.lock"),
    )
    .expect("fixture");
    let (_dir, repo) = lockfile_repo(Some(&fixture_lock.replace("'v0.0.2'", "'v0.1.0'")));
    let out = render_outcome(&pin.run(&repo));
    assert!(
        out.contains("lockfile version `v0.1.0` is not one harden knows"),
        "{out}"
    );
    assert!(out.contains("disagrees with"), "{out}");
    // Not YAML, or not the expected shape: one warning, never a crash, and the pins go on.
    for broken in [
        "version: [\n",
        "- a\n- b\n",
        "\u{0}\u{1}",
        "workflows: 3\ndependencies: [x]\n",
    ] {
        let (_dir, repo) = lockfile_repo(Some(broken));
        let outcome = pin.run(&repo);
        assert_eq!(outcome.changes.len(), 2, "{broken:?}");
        let lock_findings: Vec<_> = outcome
            .findings
            .iter()
            .filter(|f| f.path.ends_with("actions.lock"))
            .collect();
        assert!(!lock_findings.is_empty(), "{broken:?}");
        assert!(
            lock_findings
                .iter()
                .all(|f| f.severity == Severity::Warning),
            "{lock_findings:?}"
        );
    }
}
