//! Resolution rules checked on real recorded refs (no network, no server).

mod common;

use std::collections::HashMap;

use harden_github::{RefKind, ResolveError, Resolved};

use common::{expected, recorded_repo};

fn refs(name: &str) -> harden_github::RepoRefs {
    expected(&recorded_repo(name))
}

#[test]
fn checkout_v4_pins_the_commit_of_v4_with_its_most_precise_tag() {
    let checkout = refs("actions/checkout");
    let v4 = checkout.tags["v4"].commit.clone();
    let resolved = checkout.resolve("v4").expect("v4 exists");
    assert_eq!(resolved.sha, v4);
    assert_eq!(resolved.kind, RefKind::Tag);
    // The highest exact version tag on that commit.
    assert_eq!(checkout.tags_at(&v4), ["v4", "v4.4.0"]);
    assert_eq!(resolved.comment.as_deref(), Some("v4.4.0"));
}

#[test]
fn exact_versions_stay_as_written() {
    let checkout = refs("actions/checkout");
    let resolved = checkout.resolve("v4.2.2").expect("exists");
    assert_eq!(resolved.sha, "11bd71901bbe5b1630ceea73d27597364c9af683");
    assert_eq!(resolved.comment.as_deref(), Some("v4.2.2"));
    // `1.0.0` and `v1.0.0` share a commit; the ref's own spelling is kept.
    assert_eq!(
        checkout
            .resolve("1.0.0")
            .expect("exists")
            .comment
            .as_deref(),
        Some("1.0.0")
    );
    assert_eq!(
        checkout
            .resolve("v2-beta")
            .expect("exists")
            .comment
            .as_deref(),
        Some("v2-beta")
    );
}

#[test]
fn annotated_tags_are_peeled() {
    let checkout = refs("actions/checkout");
    let v1 = &checkout.tags["v1"];
    assert_eq!(
        v1.tag_object.as_deref(),
        Some("544eadc6bf3d226fd7a7a9f0dc5b5bf7ca0675b9")
    );
    let resolved = checkout.resolve("v1").expect("exists");
    assert_eq!(
        resolved.sha, "50fbc622fc4ef5163becd7fab6573eac35f8462e",
        "the commit, not the tag object"
    );
    assert_eq!(resolved.comment.as_deref(), Some("v1.2.0"));
    let codeql = refs("github/codeql-action");
    let v3 = codeql.resolve("v3").expect("exists");
    assert_eq!(v3.sha, "dd903d2e4f5405488e5ef1422510ee31c8b32357");
    assert_eq!(v3.comment.as_deref(), Some("v3.36.2"));
}

#[test]
fn several_tags_on_one_commit_pick_the_highest() {
    let golangci = refs("golangci/golangci-lint-action");
    let sha = golangci.tags["v4.0.0"].commit.clone();
    assert_eq!(golangci.tags_at(&sha), ["v3.7.1", "v4.0.0"]);
    assert_eq!(
        golangci.version_for_commit(&sha, None).as_deref(),
        Some("v4.0.0")
    );
    let nuget = refs("NuGet/setup-nuget");
    let sha = nuget.tags["v3.1.0"].commit.clone();
    assert_eq!(
        nuget.version_for_commit(&sha, None).as_deref(),
        Some("v3.1.0"),
        "v3.1.0 beats v3.1 and v3.0.1"
    );
    assert_eq!(
        nuget.resolve("v3.1").expect("exists").comment.as_deref(),
        Some("v3.1.0")
    );
    let codeql = refs("github/codeql-action");
    let sha = codeql.tags["v3.29.7"].commit.clone();
    assert_eq!(
        codeql.version_for_commit(&sha, Some("v3.29.4")).as_deref(),
        Some("v3.29.7")
    );
    assert_eq!(
        codeql.version_for_commit(&sha, Some("v3.29.5")).as_deref(),
        Some("v3.29.5"),
        "correct comment kept"
    );
}

#[test]
fn prefix_families_compare_only_with_themselves() {
    let codeql = refs("github/codeql-action");
    let sha = codeql.tags["codeql-bundle-v2.13.4"].commit.clone();
    assert_eq!(codeql.tags_at(&sha), ["codeql-bundle-v2.13.4", "v2.13.4"]);
    assert_eq!(
        codeql.version_for_commit(&sha, None).as_deref(),
        Some("v2.13.4"),
        "plain tags first"
    );
    assert_eq!(
        codeql
            .version_for_commit(&sha, Some("codeql-bundle-v2.13.3"))
            .as_deref(),
        Some("codeql-bundle-v2.13.4"),
        "stale comment of the codeql-bundle family"
    );
    let bundle = codeql.resolve("codeql-bundle-v2.20.1").expect("exists");
    assert_eq!(bundle.comment.as_deref(), Some("codeql-bundle-v2.20.1"));
    assert_eq!(
        codeql
            .resolve("codeql-bundle-20200427")
            .expect("exists")
            .comment
            .as_deref(),
        Some("codeql-bundle-20200427")
    );

    let grafana = refs("grafana/shared-workflows");
    assert_eq!(
        grafana
            .resolve("argo-lint/v1")
            .expect("exists")
            .comment
            .as_deref(),
        Some("argo-lint/v1.1.0")
    );
    assert_eq!(
        grafana
            .resolve("argo-lint-v1")
            .expect("exists")
            .comment
            .as_deref(),
        Some("argo-lint-v1.0.1")
    );
    assert_eq!(
        grafana
            .resolve("login-to-gar/v0")
            .expect("exists")
            .comment
            .as_deref(),
        Some("login-to-gar/v0.4.3")
    );
    assert_eq!(
        grafana
            .resolve("send-slack-message/v2.0")
            .expect("exists")
            .comment
            .as_deref(),
        Some("send-slack-message/v2.0.5")
    );
}

#[test]
fn branches_pin_to_their_tip() {
    let checkout = refs("actions/checkout");
    let resolved = checkout.resolve("releases/v4").expect("branch exists");
    assert_eq!(
        resolved,
        Resolved {
            sha: checkout.branches["releases/v4"].clone(),
            kind: RefKind::Branch,
            comment: Some("releases/v4".into())
        }
    );
    assert_eq!(
        checkout.resolve("main").expect("exists").kind,
        RefKind::Branch
    );
}

#[test]
fn tag_wins_over_branch_of_the_same_name() {
    // No recorded repository has a clash; make one from real data.
    let mut checkout = refs("actions/checkout");
    let branch_tip = checkout.branches["main"].clone();
    checkout.branches.insert("v4".into(), branch_tip.clone());
    let resolved = checkout.resolve("v4").expect("exists");
    assert_eq!(resolved.kind, RefKind::Tag);
    assert_eq!(resolved.sha, checkout.tags["v4"].commit);
    assert_eq!(
        checkout.resolve("refs/heads/v4").expect("exists").sha,
        branch_tip
    );
}

#[test]
fn commits_get_the_version_of_their_tags() {
    let checkout = refs("actions/checkout");
    let sha = checkout.tags["v4.2.2"].commit.to_ascii_uppercase();
    let resolved = checkout.resolve(&sha).expect("a full sha");
    assert_eq!(resolved.kind, RefKind::Commit);
    assert_eq!(resolved.sha, sha.to_ascii_lowercase());
    assert_eq!(resolved.comment.as_deref(), Some("v4.2.2"));
    assert_eq!(
        checkout
            .version_for_commit(&checkout.tags["v4"].commit, Some("v4"))
            .as_deref(),
        Some("v4")
    );
    assert_eq!(
        checkout
            .version_for_commit(&checkout.tags["v4"].commit, Some("v4.0.0"))
            .as_deref(),
        Some("v4.4.0")
    );
    let untagged = checkout
        .branches
        .values()
        .find(|sha| checkout.tags_at(sha).is_empty())
        .expect("an untagged branch tip");
    assert_eq!(checkout.version_for_commit(untagged, Some("v4")), None);
}

#[test]
fn case_and_unknown_refs() {
    let checkout = refs("actions/checkout");
    assert_eq!(
        checkout.resolve("V4"),
        Err(ResolveError::UnknownRef {
            git_ref: "V4".into(),
            suggestion: Some("v4".into())
        })
    );
    assert!(matches!(
        checkout.resolve("11bd719"),
        Err(ResolveError::ShortSha { .. })
    ));
}

#[test]
fn every_recorded_tag_and_branch_resolves() {
    for repo in common::recorded().values() {
        let refs = expected(repo);
        let mut by_commit: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, tag) in &refs.tags {
            by_commit.entry(tag.commit.as_str()).or_default().push(name);
        }
        for (name, tag) in &refs.tags {
            let resolved = refs
                .resolve(name)
                .unwrap_or_else(|e| panic!("{}@{name}: {e}", repo.full_name));
            assert_eq!(
                resolved.sha,
                tag.commit.to_ascii_lowercase(),
                "{}@{name}",
                repo.full_name
            );
            let comment = resolved.comment.unwrap_or_default();
            assert!(
                by_commit[tag.commit.as_str()].contains(&comment.as_str()),
                "{}@{name}: {comment}",
                repo.full_name
            );
        }
        for (name, commit) in &refs.branches {
            let resolved = refs
                .resolve(name)
                .unwrap_or_else(|e| panic!("{}@{name}: {e}", repo.full_name));
            if !refs.tags.contains_key(name) {
                assert_eq!(&resolved.sha, commit);
                assert_eq!(resolved.kind, RefKind::Branch);
            }
        }
    }
}
