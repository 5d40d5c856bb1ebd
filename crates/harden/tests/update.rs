//! `harden update`: SHA pins move to the newest release of their major that is past the
//! cooldown, against the test server serving release dates. Ages are measured from a fixed
//! `HARDEN_NOW`, so the tests do not depend on today's date.

mod common;

use std::process::Output;

use common::Fixture;
use harden_testserver::RecordedRepo;

/// 2021-01-01T00:00:00Z: "now" for every test.
const NOW: &str = "1609459200";

fn sha(c: char) -> String {
    c.to_string().repeat(40)
}

/// `acme/tool`: v1.0.0, v1.1.0 (12 days old), v1.2.0 (an annotated tag, 2 days old),
/// v2.0.0 (92 days old); `v1` follows v1.1.0.
fn tool() -> RecordedRepo {
    RecordedRepo::new("acme/tool")
        .with_branch("main", &sha('d'))
        .with_tag("v1.0.0", &sha('a'))
        .with_tag("v1.1.0", &sha('b'))
        .with_tag("v1", &sha('b'))
        .with_annotated_tag("v1.2.0", &sha('e'), &sha('c'))
        .with_tag("v2.0.0", &sha('d'))
        .with_date(&sha('a'), "2020-01-01T00:00:00Z")
        .with_date(&sha('b'), "2020-12-20T00:00:00Z")
        // The commit of v1.2.0 is old; its tag is 2 days old: the tag's date counts.
        .with_date(&sha('c'), "2020-01-02T00:00:00Z")
        .with_date(&sha('e'), "2020-12-30T00:00:00Z")
        .with_date(&sha('d'), "2020-10-01T00:00:00+00:00")
}

fn workflow() -> String {
    format!(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/tool@{} # v1.0.0\n      - uses: acme/tool/sub@{} # v1\n",
        sha('a'),
        sha('b')
    )
}

fn fixture() -> Fixture {
    let f = Fixture::with_workflow(workflow());
    f.server.add_repo(tool());
    f
}

fn update(f: &Fixture, args: &[&str]) -> Output {
    let mut all = vec!["update"];
    all.extend_from_slice(args);
    f.command(&all)
        .env("HARDEN_NOW", NOW)
        .output()
        .expect("harden runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Requests for release dates (tag objects and commits) the server received.
fn date_requests(f: &Fixture) -> usize {
    f.server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/git/tags/") || r.path.contains("/commits/"))
        .count()
}

fn ci(f: &Fixture) -> String {
    std::fs::read_to_string(f.path("ci.yml")).expect("read")
}

fn dependabot(f: &Fixture, text: &str) {
    std::fs::write(f.repo.path().join(".github/dependabot.yml"), text).expect("write");
}

#[test]
fn default_cooldown_moves_to_the_newest_release_a_week_old_and_repairs_comments() {
    let f = fixture();
    let out = update(&f, &[]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let after = ci(&f);
    assert!(
        after.contains(&format!("acme/tool@{} # v1.1.0\n", sha('b'))),
        "{after}"
    );
    assert!(
        after.contains(&format!("acme/tool/sub@{} # v1.1.0\n", sha('b'))),
        "{after}"
    );
    assert!(
        said.contains("cooldown 7 days (from the default of 7 days)"),
        "{said}"
    );
    assert!(said.contains("v1.0.0 -> v1.1.0 (12 days old)"), "{said}");
    assert!(
        said.contains("v1.2.0 is 2 days old, under the cooldown of 7 days"),
        "{said}"
    );
    assert!(said.contains("comment # v1 -> # v1.1.0"), "{said}");
    // Newest first, stopping at the first old enough: v1.2.0's tag object, v1.1.0's commit.
    assert_eq!(
        f.server
            .requests_to(&format!("/repos/acme/tool/git/tags/{}", sha('e'))),
        1
    );
    assert_eq!(
        f.server
            .requests_to(&format!("/repos/acme/tool/commits/{}", sha('b'))),
        1
    );
    assert_eq!(
        f.server
            .requests_to(&format!("/repos/acme/tool/commits/{}", sha('a'))),
        0
    );

    // A second run changes nothing, and the dates come from the cache.
    f.server.clear_log();
    let again = update(&f, &["--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(ci(&f), after);
    assert_eq!(date_requests(&f), 0);
}

#[test]
fn check_exits_1_when_a_pin_is_behind_and_writes_nothing() {
    let f = fixture();
    let out = update(&f, &["--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(ci(&f), workflow());
}

#[test]
fn min_age_overrides_the_cooldown() {
    let f = fixture();
    let out = update(&f, &["--min-age", "1"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        ci(&f).contains(&format!("acme/tool@{} # v1.2.0\n", sha('c'))),
        "{}",
        ci(&f)
    );
    assert!(said.contains("cooldown 1 days (from --min-age)"), "{said}");
}

#[test]
fn dependabot_cooldown_applies_without_min_age() {
    let f = fixture();
    dependabot(
        &f,
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 1\n",
    );
    let out = update(&f, &[]);
    let said = text(&out);
    assert!(
        ci(&f).contains(&format!("acme/tool@{} # v1.2.0\n", sha('c'))),
        "{said}"
    );
    assert!(
        said.contains("cooldown 1 days (from `cooldown: default-days` of"),
        "{said}"
    );
}

#[test]
fn major_crosses_majors_unless_an_ignore_rule_forbids_it() {
    let f = fixture();
    let out = update(&f, &["--major"]);
    assert!(
        ci(&f).contains(&format!("acme/tool@{} # v2.0.0\n", sha('d'))),
        "{}",
        text(&out)
    );

    let f = fixture();
    dependabot(
        &f,
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    ignore:\n      - dependency-name: acme/*\n        update-types: [\"version-update:semver-major\"]\n",
    );
    let out = update(&f, &["--major"]);
    let said = text(&out);
    assert!(
        ci(&f).contains(&format!("acme/tool@{} # v1.1.0\n", sha('b'))),
        "{said}"
    );
    assert!(
        said.contains("v2.0.0 is excluded by the `ignore` rule at line 8"),
        "{said}"
    );
}

#[test]
fn ignored_versions_are_never_crossed_and_exempt_actions_stay() {
    let f = fixture();
    dependabot(
        &f,
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    ignore:\n      - dependency-name: acme/tool\n        versions: [\">= 1.1\"]\n",
    );
    let out = update(&f, &["--exempt", "acme/tool/sub"]);
    let said = text(&out);
    let after = ci(&f);
    assert!(
        after.contains(&format!("acme/tool@{} # v1.0.0\n", sha('a'))),
        "{said}"
    );
    // Exempt: not even its comment is touched.
    assert!(
        after.contains(&format!("acme/tool/sub@{} # v1\n", sha('b'))),
        "{said}"
    );
}

#[test]
fn a_branch_name_comment_becomes_the_release_tag() {
    let f = Fixture::with_workflow(format!(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/tool@{} # main\n",
        sha('d')
    ));
    f.server.add_repo(tool());
    let out = update(&f, &[]);
    let said = text(&out);
    assert!(
        ci(&f).contains(&format!("acme/tool@{} # v2.0.0\n", sha('d'))),
        "{said}"
    );
    assert!(
        said.contains("comment # main -> # v2.0.0 (the pin stays)"),
        "{said}"
    );
}

#[test]
fn without_a_token_the_run_says_how_many_requests_it_needs() {
    // 70 releases newer than the pin, all a day old: up to 70 dates to read.
    let mut repo = RecordedRepo::new("acme/many").with_tag("v1.0.0", &sha('a'));
    for n in 1..=70u32 {
        let commit = format!("{n:040x}");
        repo = repo
            .with_tag(&format!("v1.0.{n}"), &commit)
            .with_date(&commit, "2020-12-31T00:00:00Z");
    }
    let f = Fixture::with_workflow(format!(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/many@{} # v1.0.0\n",
        sha('a')
    ));
    f.server.add_repo(repo);
    let out = update(&f, &["--check"]);
    let said = text(&out);
    assert!(
        said.contains("reading release dates needs 1 to 70 REST requests; without a token GitHub allows 60 an hour"),
        "{said}"
    );
}

#[test]
fn a_locked_workflow_is_updated_and_the_run_asks_for_a_lockfile_refresh() {
    let f = fixture();
    f.write(
        "actions.lock",
        "version: 'v0.0.2'\nworkflows:\n  '.github/workflows/ci.yml':\n    - 'acme/tool@v1.0.0'\ndependencies: {}\n",
    );
    let out = update(&f, &[]);
    let said = text(&out);
    assert!(
        ci(&f).contains(&format!("acme/tool@{} # v1.1.0\n", sha('b'))),
        "{said}"
    );
    assert!(
        said.contains("harden update changes `uses:` in ci.yml"),
        "{said}"
    );
    assert!(said.contains("gh actions-lock"), "{said}");
}

#[test]
fn image_digests_move_to_the_current_digest_of_their_tag_without_a_cooldown() {
    use harden_testserver::registry::RegistryServer;
    let registry = RegistryServer::start().expect("registry stand-in starts");
    registry.serve_any_image();
    let stale = format!("sha256:{}", "0".repeat(64));
    let f = Fixture::with_workflow(format!(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: node:20@{stale} # runtime\n    services:\n      db:\n        image: postgres:16@{stale}\n    steps:\n      - run: true\n"
    ));
    // pin-images' exempt images are not refreshed either.
    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "pin-images:\n  exempt: [postgres]\n",
    )
    .expect("write");
    let out = f
        .command(&["update"])
        .env("HARDEN_NOW", NOW)
        .env("HARDEN_REGISTRY_MIRRORS", registry.mirrors())
        .output()
        .expect("harden runs");
    let said = text(&out);
    let after = ci(&f);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(after.contains("    container: node:20@sha256:"), "{after}");
    assert!(!after.contains(&format!("node:20@{stale}")), "{after}");
    assert!(after.contains(&format!("postgres:16@{stale}")), "{after}");
    assert!(after.contains(" # runtime\n"), "{after}");
    assert!(said.contains("the cooldown does not apply"), "{said}");
    // The second run finds the digest current.
    let again = f
        .command(&["update", "--check"])
        .env("HARDEN_REGISTRY_MIRRORS", registry.mirrors())
        .output()
        .expect("harden runs");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn min_age_without_update_is_a_usage_error() {
    let f = fixture();
    let out = f.harden(&["--only", "pin-actions", "--min-age", "3"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(text(&out).contains("--min-age and --major go with `harden update`"));
}
