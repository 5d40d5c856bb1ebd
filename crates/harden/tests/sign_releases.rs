//! The opt-in `sign-releases` transform through the binary, against the local fake GitHub:
//! it runs only when asked, writes a pinned, least-privilege workflow and a SECURITY.md
//! section, shows them in `--dry-run`, runs again without change, and refuses when offline.

use std::path::Path;
use std::process::{Command, Output};

use harden_testserver::{default_refs_dir, TestServer};

const CI: &str = "name: ci\non: push\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n";

struct Fixture {
    server: TestServer,
    cache: tempfile::TempDir,
    repo: tempfile::TempDir,
}

impl Fixture {
    fn new(security: bool) -> Self {
        let server = TestServer::start(default_refs_dir()).expect("test server starts");
        let cache = tempfile::tempdir().expect("cache dir");
        let repo = tempfile::tempdir().expect("repo dir");
        let wf = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&wf).expect("mkdir");
        std::fs::write(wf.join("ci.yml"), CI).expect("write");
        std::fs::create_dir_all(repo.path().join(".git")).expect("mkdir .git");
        std::fs::write(
            repo.path().join(".git/config"),
            "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/example-org/widget.git\n",
        )
        .expect("write");
        if security {
            std::fs::copy(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../testdata/sign-releases/SECURITY.md"),
                repo.path().join("SECURITY.md"),
            )
            .expect("copy");
        }
        Fixture {
            server,
            cache,
            repo,
        }
    }

    fn harden(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_harden"))
            .args(args)
            .current_dir(self.repo.path())
            .env("GITHUB_SERVER_URL", self.server.url())
            .env("GITHUB_API_URL", self.server.url())
            .env("HARDEN_CACHE_DIR", self.cache.path())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("NO_COLOR", "1")
            .output()
            .expect("harden runs")
    }

    fn signing(&self) -> std::path::PathBuf {
        self.repo.path().join(".github/workflows/release-sign.yml")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn runs_only_when_asked() {
    let f = Fixture::new(true);
    let out = f.harden(&["--dry-run"]);
    assert!(
        !text(&out.stdout).contains("sign-releases"),
        "{}",
        text(&out.stdout)
    );
    let out = f.harden(&["--skip", "dependabot"]);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}",
        text(&out.stderr)
    );
    assert!(!f.signing().exists());
}

#[test]
fn writes_a_pinned_least_privilege_workflow_and_the_verify_section_once() {
    let f = Fixture::new(true);
    let out = f.harden(&["--only", "sign-releases", "--dry-run"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("=== sign-releases"), "{stdout}");
    assert!(stdout.contains("+name: Sign release"), "{stdout}");
    assert!(stdout.contains("+## Verifying a release"), "{stdout}");
    assert!(!f.signing().exists(), "--dry-run wrote the file");

    let out = f.harden(&["--only", "sign-releases"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let workflow = std::fs::read_to_string(f.signing()).expect("workflow written");
    // Every action pinned but the SLSA generator, which slsa-verifier accepts only by tag.
    let generator =
        "    uses: slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@v2.1.0\n";
    assert!(workflow.contains(generator), "{workflow}");
    for line in workflow
        .lines()
        .filter(|l| l.trim_start().starts_with("uses:"))
        .filter(|l| !generator.starts_with(l))
    {
        let (_, rest) = line.split_once('@').expect("a ref");
        let (sha, comment) = rest.split_once(" # ").expect("a version comment");
        assert_eq!(sha.len(), 40, "{line}");
        assert!(comment.starts_with('v'), "{line}");
    }
    assert!(
        workflow.contains("permissions:\n  contents: read\n"),
        "{workflow}"
    );
    assert!(workflow.contains("      contents: write # "), "{workflow}");
    assert!(workflow.contains("      id-token: write # "), "{workflow}");
    // Nothing but `contents: read` at the top; the provenance job gets its own three.
    let top = workflow
        .split("\njobs:\n")
        .next()
        .expect("a top level")
        .split("\npermissions:\n")
        .nth(1)
        .expect("top-level permissions");
    assert_eq!(top.trim_end(), "  contents: read", "{workflow}");
    assert!(
        workflow.contains("      actions: read # ")
            && workflow.contains("provenance-name: ${{ needs.sign.outputs.archive }}.intoto.jsonl"),
        "{workflow}"
    );
    assert!(workflow.contains("#   slsa-verifier verify-artifact widget-v1.2.3.tar.gz"));
    assert!(workflow.contains(
        "https://github.com/example-org/widget/.github/workflows/release-sign.yml@refs/tags/v1.2.3"
    ));
    let security = std::fs::read_to_string(f.repo.path().join("SECURITY.md")).expect("read");
    assert!(
        security.starts_with("# Security policy\n\nReport vulnerabilities"),
        "{security}"
    );
    assert!(
        security.contains("\n\n## Verifying a release\n"),
        "{security}"
    );
    assert!(
        security.contains("](.github/workflows/release-sign.yml)"),
        "{security}"
    );
    assert!(security.contains("widget-v1.2.3.tar.gz"), "{security}");
    assert!(
        security.contains("slsa-verifier verify-artifact widget-v1.2.3.tar.gz")
            && security.contains("--source-uri github.com/example-org/widget --source-tag v1.2.3"),
        "{security}"
    );

    // Idempotent.
    let out = f.harden(&["--only", "sign-releases", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // The audit now passes signed-releases.
    let out = f.harden(&["audit", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let signed = v["repositories"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "signed-releases")
        .expect("signed-releases")
        .clone();
    assert_eq!(signed["status"], "pass", "{signed}");
}

#[test]
fn no_security_policy_is_created_and_harden_yml_enables_it() {
    let f = Fixture::new(false);
    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "sign-releases:\n  enabled: true\n",
    )
    .expect("write");
    let out = f.harden(&["--skip", "dependabot,permissions"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(f.signing().exists());
    assert!(!f.repo.path().join("SECURITY.md").exists());
    // --skip wins over the configuration file.
    std::fs::remove_file(f.signing()).expect("rm");
    let out = f.harden(&["--skip", "sign-releases,dependabot"]);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}",
        text(&out.stderr)
    );
    assert!(!f.signing().exists());
}

#[test]
fn a_workflow_that_creates_releases_gets_the_immutable_releases_note() {
    let f = Fixture::new(false);
    std::fs::write(
        f.repo.path().join(".github/workflows/release.yml"),
        "on:\n  push:\n    tags: ['v*']\npermissions:\n  contents: read\njobs:\n  release:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n    steps:\n      - run: gh release create \"$GITHUB_REF_NAME\"\n        env:\n          GH_TOKEN: ${{ github.token }}\n",
    )
    .expect("write");
    let out = f.harden(&["--only", "sign-releases", "--dry-run"]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("immutable releases"), "{all}");
    assert!(all.contains("release.yml"), "{all}");
}

#[test]
fn an_existing_release_sign_workflow_is_left_alone() {
    let f = Fixture::new(true);
    let own = "name: Sign\non: release\njobs: {}\n";
    std::fs::write(f.signing(), own).expect("write");
    let out = f.harden(&["--only", "sign-releases"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(f.signing()).expect("read"), own);
    let security = std::fs::read_to_string(f.repo.path().join("SECURITY.md")).expect("read");
    assert!(!security.contains("Verifying"), "{security}");
}

#[test]
fn offline_without_cache_adds_nothing_and_says_why() {
    let f = Fixture::new(true);
    let out = f.harden(&["--only", "sign-releases", "--offline"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("release-sign.yml not added"), "{all}");
    assert!(!f.signing().exists());
}

// actionlint checks the workflow in tests/oracles.rs (HARDEN_ACTIONLINT).
