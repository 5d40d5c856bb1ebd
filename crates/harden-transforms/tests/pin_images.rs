//! Tests of the pin-images transform against the registry stand-in of `harden-testserver`: one
//! snapshot per fixture of `testdata/pin-images/`, idempotence, the cache, `--offline`, and
//! every literal image of the corpus pinned or reported.

#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use harden_registry::{parse_mirrors, Registry, RegistryConfig};
use harden_testserver::registry::{fake_digest, RegistryServer, MANIFEST_LIST_TYPE};
use harden_transforms::pin_images::{classify, image_sites, ImageOptions, ImageValue, PinImages};
use harden_transforms::{FileKind, Outcome, Repository, Severity, SourceFile, Transform};

use common::render_outcome;

/// A stand-in that answers every image except the ones the fixtures expect to fail.
fn server() -> RegistryServer {
    let server = RegistryServer::start().expect("start the registry stand-in");
    server.serve_any_image();
    server.add_image("docker.io/library/node:20", MANIFEST_LIST_TYPE);
    server.remove_image("docker.io/library/node:999-does-not-exist");
    server.make_private("registry.example.com/private/db");
    server
}

fn registry(server: &RegistryServer, cache: &FsPath, offline: bool) -> Arc<Registry> {
    let config = RegistryConfig {
        mirrors: parse_mirrors(&server.mirrors()).expect("mirrors"),
        cache_dir: Some(cache.to_owned()),
        offline,
        timeout: Duration::from_secs(10),
        retry_backoff: Duration::from_millis(5),
        ..RegistryConfig::default()
    };
    Arc::new(Registry::new(config).expect("registry client"))
}

fn fixture(name: &str) -> String {
    let path = common::testdata().join("pin-images").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the transform, checks the guard, idempotence (no change, no request) and an offline
/// run over the cache, and returns the snapshot text.
fn pin_checked(repo: &Repository, options: ImageOptions) -> String {
    pin_checked_as(repo, options, None)
}

/// [`pin_checked`] for the repository `own` (`owner/repo`), when given.
fn pin_checked_as(repo: &Repository, options: ImageOptions, own: Option<&str>) -> String {
    for file in &repo.files {
        assert!(
            file.document().is_some(),
            "{}: {:?}",
            file.path.display(),
            file.doc
        );
    }
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let client = registry(&server, cache.path(), false);
    let named = |pin: PinImages| match own {
        Some(own) => pin.with_own_repository(own),
        None => pin,
    };
    let pin = named(PinImages::new(Arc::clone(&client), options.clone()));
    let first = pin.run(repo);
    common::assert_guard_passed(&first);
    let requests = client.stats().requests;
    let pinned = repo.applied(&first);
    let again = pin.run(&pinned);
    assert!(
        again.changes.is_empty(),
        "second run changed:\n{}",
        render_outcome(&again)
    );
    assert_eq!(
        client.stats().requests,
        requests,
        "the second run asked again"
    );

    // Offline over the same cache: the same changes.
    let offline = named(PinImages::new(
        registry(&server, cache.path(), true),
        options,
    ))
    .run(repo);
    let changed = |o: &Outcome| {
        o.changes
            .iter()
            .map(|c| c.after.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(changed(&offline), changed(&first), "offline run differs");
    format!(
        "{}--- second run over the output ---\n{}",
        render_outcome(&first),
        render_outcome(&again)
    )
}

fn check_workflow(name: &str) -> String {
    let file = format!("{name}.yml");
    let repo = common::repository(vec![SourceFile::new(
        format!(".github/workflows/{file}"),
        FileKind::Workflow,
        fixture(&file),
    )]);
    pin_checked(&repo, ImageOptions::default())
}

#[test]
fn every_form() {
    let out = check_workflow("forms");
    assert!(
        out.contains("+    container: node:20-bookworm@sha256:"),
        "{out}"
    );
    assert!(
        out.contains("+    container: 'python:3.12-slim@sha256:")
            && out.contains("'   # the build environment"),
        "quotes and comment kept: {out}"
    );
    insta::assert_snapshot!("forms", out);
}

#[test]
fn expressions_and_invalid_names_are_reported_not_touched() {
    let out = check_workflow("expressions");
    assert!(!out.contains("+++"), "nothing changes: {out}");
    insta::assert_snapshot!("expressions", out);
}

#[test]
fn literal_matrix_images_are_pinned_where_they_are_listed() {
    let out = check_workflow("matrix");
    // The list, the include and the exclude entries: the same combinations still match.
    assert!(
        out.contains("+        container: [gcc:15@sha256:")
            && out.contains("'silkeh/clang:20@sha256:")
            && out.contains("# the compilers"),
        "{out}"
    );
    assert!(
        out.contains("+          - container: gcc:15@sha256:"),
        "{out}"
    );
    assert!(
        out.contains("+          - container: 'silkeh/clang:20@sha256:"),
        "{out}"
    );
    // Used in `if:`, or computed: reported, not touched.
    assert!(!out.contains("node:20@sha256"), "{out}");
    assert!(
        out.contains("`matrix.image` is also used at line 28"),
        "{out}"
    );
    assert!(out.contains("`strategy.matrix` is an expression"), "{out}");
    insta::assert_snapshot!("matrix", out);
}

#[test]
fn moving_tags_and_own_images_are_warned_about() {
    let repo = common::repository(vec![SourceFile::new(
        ".github/workflows/moving.yml",
        FileKind::Workflow,
        fixture("moving.yml"),
    )]);
    let out = pin_checked_as(&repo, ImageOptions::default(), Some("acme/widgets"));
    assert!(
        out.contains("follows `dev`, a tag its publisher moves"),
        "{out}"
    );
    assert!(
        out.contains("this repository's own image, with no tag"),
        "{out}"
    );
    assert!(
        out.contains("(this repository's own image) follows `nightly`"),
        "{out}"
    );
    assert!(!out.contains("`debian:12` "), "{out}");
    assert!(
        out.contains("Dependabot does not update the images of `container:` and `services:`"),
        "{out}"
    );
    insta::assert_snapshot!("moving", out);
}

#[test]
fn already_pinned_images_are_left() {
    let out = check_workflow("already_pinned");
    assert!(
        out.trim_end().ends_with("---"),
        "no change, no finding: {out}"
    );
}

#[test]
fn verify_checks_that_pinned_digests_are_still_served() {
    let text = fixture("already_pinned.yml");
    let repo = common::repository(vec![SourceFile::new(
        ".github/workflows/already_pinned.yml",
        FileKind::Workflow,
        text,
    )]);
    let server = server();
    let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    server.add_digest("docker.io/library/node", &d('1'));
    server.add_digest("docker.io/library/alpine", &d('3'));
    let cache = tempfile::tempdir().expect("tempdir");
    let options = ImageOptions {
        verify: true,
        ..ImageOptions::default()
    };
    let pin = PinImages::new(registry(&server, cache.path(), false), options.clone());
    let outcome = pin.run(&repo);
    assert!(outcome.changes.is_empty());
    let found: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| (f.line, f.severity, f.message.clone()))
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].0, found[0].1), (Some(9), Severity::Error));
    assert!(found[0].2.contains("the job cannot pull it"), "{found:#?}");

    // What harden pinned verifies.
    let forms = common::repository(vec![SourceFile::new(
        ".github/workflows/forms.yml",
        FileKind::Workflow,
        fixture("forms.yml"),
    )]);
    let pinned = forms.applied(&pin.run(&forms));
    let again = pin.run(&pinned);
    assert!(again.changes.is_empty());
    assert!(
        again.findings.iter().all(|f| f.severity != Severity::Error),
        "{}",
        render_outcome(&again)
    );
}

#[test]
fn crlf_line_endings_stay() {
    let text = fixture("crlf.yml");
    assert!(text.contains("\r\n"));
    let repo = common::repository(vec![SourceFile::new(
        ".github/workflows/crlf.yml",
        FileKind::Workflow,
        text,
    )]);
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let outcome = PinImages::new(
        registry(&server, cache.path(), false),
        ImageOptions::default(),
    )
    .run(&repo);
    let after = &outcome.changes[0].after;
    assert_eq!(
        after.matches("\r\n").count(),
        after.matches('\n').count(),
        "only CRLF"
    );
    assert!(after.contains("    container: node:20@sha256:"), "{after}");
    insta::assert_snapshot!("crlf", pin_checked(&repo, ImageOptions::default()));
}

#[test]
fn failures_are_per_reference_and_located() {
    let out = check_workflow("failures");
    assert!(
        out.contains(&fake_digest("docker.io/library/alpine:3.20")),
        "{out}"
    );
    assert!(
        out.contains("+      - uses: docker://alpine:3.20@sha256:"),
        "the rest goes on: {out}"
    );
    insta::assert_snapshot!("failures", out);
}

#[test]
fn anchors_and_aliases() {
    insta::assert_snapshot!("anchors", check_workflow("anchors"));
}

#[test]
fn actions() {
    let repo = common::repository(vec![
        SourceFile::new("docker/action.yml", FileKind::Action, fixture("action.yml")),
        SourceFile::new(
            "composite/action.yml",
            FileKind::Action,
            fixture("composite_action.yml"),
        ),
    ]);
    insta::assert_snapshot!("actions", pin_checked(&repo, ImageOptions::default()));
}

#[test]
fn exempt_images_are_neither_asked_nor_pinned() {
    let text = "on: push\njobs:\n  a:\n    runs-on: x\n    container: my.registry/team/img:1\n    services:\n      db:\n        image: postgres:16\n";
    let repo = common::repository(vec![SourceFile::new(
        ".github/workflows/e.yml",
        FileKind::Workflow,
        text,
    )]);
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let options = ImageOptions {
        exempt: vec!["my.registry/*".to_owned()],
        ..ImageOptions::default()
    };
    let outcome = PinImages::new(registry(&server, cache.path(), false), options).run(&repo);
    let after = &outcome.changes[0].after;
    assert!(
        after.contains("container: my.registry/team/img:1\n"),
        "{after}"
    );
    assert!(after.contains("image: postgres:16@sha256:"), "{after}");
    assert!(server
        .requests()
        .iter()
        .all(|r| !r.path.contains("my.registry")));
    assert!(
        outcome
            .findings
            .iter()
            .all(|f| f.severity == Severity::Note),
        "{:?}",
        outcome.findings
    );
}

/// The corpus folders: the project's sample (`testdata/corpus`) always, and `../shared/corpus`
/// when present (one `skipped:` line otherwise).
fn corpus_roots() -> Vec<PathBuf> {
    harden_testserver::corpus_roots("pin-images corpus test")
        .into_iter()
        .map(|root| root.path)
        .collect()
}

fn corpus_files(root: &FsPath) -> Vec<SourceFile> {
    let paths = harden_testserver::files_under(root);
    paths
        .into_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            // Inside the project's `<owner>__<repo>` folder.
            let kind = common::corpus_kind(rel.split_once('/')?.1)?;
            let text = std::fs::read_to_string(&path).ok()?;
            let file = SourceFile::new(rel, kind, text);
            file.document().is_some().then_some(file)
        })
        .collect()
}

#[test]
fn corpus_images_are_pinned_or_reported() {
    for root in corpus_roots() {
        let files = corpus_files(&root);
        let repo = common::repository(files);
        let server = server();
        // Some images of the corpus fail, to see them reported.
        server.remove_image("docker.io/library/alpine:latest");
        server.make_private("ghcr.io/step-security/integration-test/int");
        let cache = tempfile::tempdir().expect("tempdir");
        let pin = PinImages::new(
            registry(&server, cache.path(), false),
            ImageOptions::default(),
        );
        let outcome = pin.run(&repo);
        common::assert_guard_passed(&outcome);
        let after = repo.applied(&outcome);
        let (mut literal, mut pinned, mut reported) = (0, 0, 0);
        let (mut already, mut not_literal) = (0, 0);
        for (before, now) in repo.files.iter().zip(&after.files) {
            let (Some(doc), Some(new_doc)) = (before.document(), now.document()) else {
                continue;
            };
            let new_sites = image_sites(now.kind, new_doc);
            for (i, (_, node, kind)) in image_sites(before.kind, doc).into_iter().enumerate() {
                let value = node.as_str().unwrap_or_default();
                match classify(kind, value) {
                    ImageValue::Tagged(_) => {}
                    ImageValue::Pinned(_) => {
                        already += 1;
                        continue;
                    }
                    ImageValue::Expression | ImageValue::Invalid(_) => {
                        not_literal += 1;
                        // A warning, or a note that the matrix values are pinned.
                        assert!(
                            outcome.findings.iter().any(|f| f.path == before.path
                                && f.line == Some(node.line)
                                && (f.severity == Severity::Warning
                                    || f.message.contains("are pinned where the matrix"))),
                            "{}:{}: `{value}` not reported",
                            before.path.display(),
                            node.line
                        );
                        continue;
                    }
                    ImageValue::NotAnImage => continue,
                }
                literal += 1;
                let new_value = new_sites
                    .get(i)
                    .and_then(|(_, n, _)| n.as_str())
                    .unwrap_or_default();
                if matches!(classify(kind, new_value), ImageValue::Pinned(_))
                    && new_value.starts_with(value.trim_end())
                {
                    pinned += 1;
                } else if outcome.findings.iter().any(|f| {
                    f.path == before.path
                        && f.line == Some(node.line)
                        && f.severity == Severity::Error
                }) {
                    reported += 1;
                } else {
                    panic!(
                        "{}:{}: `{value}` neither pinned nor reported",
                        before.path.display(),
                        node.line
                    );
                }
            }
        }
        eprintln!(
            "{}: {literal} literal images: {pinned} pinned, {reported} reported; \
             {already} already pinned, {not_literal} expressions or not images (reported)",
            root.display()
        );
        assert!(pinned > 0 && pinned + reported == literal);
        let again = pin.run(&after);
        assert!(
            again.changes.is_empty(),
            "second run changed:\n{}",
            render_outcome(&again)
        );
    }
}

/// Copies the folder `from` into `to`, files and folders.
fn copy_tree(from: &FsPath, to: &FsPath) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `after` with every `@sha256:<64 hex>` taken out.
fn without_digests(after: &str) -> String {
    let mut out = String::new();
    let mut rest = after;
    while let Some(at) = rest.find("@sha256:") {
        out.push_str(&rest[..at]);
        rest = &rest[at + "@sha256:".len() + 64..];
    }
    out.push_str(rest);
    out
}

/// Runs pin-images over a copy of `testdata/pin-images/dockerfiles/repo`, writes what it
/// changed and runs again: (first outcome, second outcome), with the copy's path taken out.
fn pin_dockerfiles(options: &ImageOptions) -> (String, String, Vec<(String, String)>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    copy_tree(
        &common::testdata().join("pin-images/dockerfiles/repo"),
        &root,
    );
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let pin = PinImages::new(registry(&server, cache.path(), false), options.clone());
    let repo = Repository {
        root: root.clone(),
        files: Vec::new(),
    };
    let first = pin.run(&repo);
    common::assert_guard_passed(&first);
    let mut written = Vec::new();
    for change in &first.changes {
        assert_eq!(change.kind, FileKind::Text);
        let before = change.before.as_deref().expect("an existing file");
        assert_eq!(
            without_digests(&change.after),
            without_digests(before),
            "byte-exact elsewhere"
        );
        std::fs::write(&change.path, &change.after).expect("write");
        let shown = change.path.strip_prefix(&root).expect("inside");
        written.push((shown.display().to_string(), change.after.clone()));
    }
    let again = pin.run(&repo);
    let prefix = format!("{}/", root.display());
    let show = |o: &Outcome| render_outcome(o).replace(&prefix, "");
    (show(&first), show(&again), written)
}

#[test]
fn dockerfiles_every_from_form() {
    let (first, again, written) = pin_dockerfiles(&ImageOptions::default());
    assert!(!again.contains("+++"), "second run changed:\n{again}");
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Containerfile",
            "Dockerfile",
            "Dockerfile.dev",
            "docker/web.Dockerfile",
            "windows/Dockerfile"
        ]
    );
    let text = |name: &str| &written.iter().find(|(n, _)| n == name).expect(name).1;
    let main = text("Dockerfile");
    for kept in [
        "# syntax=docker/dockerfile:1.7\n",
        "FROM alpine:3.19 is text of a here-document\n",
        "\tFROM nothing:1\n",
        "FROM ${BASE}\n",
        "FROM node:${NODE_VERSION}-alpine AS web\n",
        "FROM build AS again\n",
        "FROM scratch\n",
        "FROM Runtime\n",
    ] {
        assert!(main.contains(kept), "{kept:?} changed:\n{main}");
    }
    assert!(main.contains("FROM --platform=$BUILDPLATFORM golang:1.22-bookworm@sha256:"));
    assert!(main.contains("from   alpine:3.20@sha256:"));
    assert!(main.contains("    python:3.12-slim@sha256:"));
    assert!(text("docker/web.Dockerfile").contains("FROM nginx:1.27-alpine@sha256:"));
    assert!(text("windows/Dockerfile").contains("sdk:8.0@sha256:"));
    assert!(
        first.contains("Dockerfile:19: `FROM ${BASE}` not pinned"),
        "{first}"
    );
    assert!(
        first.contains("Dockerfile.dev:1: `FROM python:3.12` not pinned"),
        "{first}"
    );
    // The same findings the second time, and no change.
    let findings = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with([' ', '+', '-', '@']))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        findings(&again)
            .iter()
            .filter(|l| !l.contains("follows") && !l.contains("names no tag"))
            .count(),
        findings(&first)
            .iter()
            .filter(|l| !l.contains("follows") && !l.contains("names no tag"))
            .count(),
        "{again}"
    );
    insta::assert_snapshot!(
        "dockerfiles",
        format!("{first}--- second run over the output ---\n{again}")
    );
}

#[test]
fn dockerfiles_can_be_left_out() {
    let options = ImageOptions {
        dockerfiles: false,
        ..ImageOptions::default()
    };
    let (first, _, written) = pin_dockerfiles(&options);
    assert!(written.is_empty(), "{first}");
}

#[test]
fn dockerfiles_verify_pinned_digests() {
    let options = ImageOptions {
        verify: true,
        ..ImageOptions::default()
    };
    let (first, _, _) = pin_dockerfiles(&options);
    assert!(
        first.contains("Error Dockerfile:29: `FROM ghcr.io/acme/tool:1.4@sha256:aaaa")
            && first.contains("the registry has no manifest with this digest"),
        "{first}"
    );
}
