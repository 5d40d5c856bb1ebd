//! End-to-end tests of pin-images through the binary, against the registry stand-in and the
//! fake GitHub (never the internet).

use std::process::{Command, Output};

use harden_testserver::registry::RegistryServer;
use harden_testserver::{default_refs_dir, TestServer};

const WORKFLOW: &str = "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container: node:20 # runtime\n    services:\n      db:\n        image: 'postgres:16'\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker://alpine:3.20\n      - uses: docker://node:404\n";

struct Fixture {
    server: TestServer,
    registry: RegistryServer,
    cache: tempfile::TempDir,
    repo: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let registry = RegistryServer::start().expect("registry stand-in starts");
        registry.serve_any_image();
        registry.remove_image("docker.io/library/node:404");
        let repo = tempfile::tempdir().expect("repo dir");
        let wf = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&wf).expect("mkdir");
        std::fs::write(wf.join("ci.yml"), WORKFLOW).expect("write");
        Fixture {
            server: TestServer::start(default_refs_dir()).expect("test server starts"),
            registry,
            cache: tempfile::tempdir().expect("cache dir"),
            repo,
        }
    }

    fn harden_with(&self, mirrors: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_harden"))
            .args(args)
            .current_dir(self.repo.path())
            .env("GITHUB_SERVER_URL", self.server.url())
            .env("GITHUB_API_URL", self.server.url())
            .env("HARDEN_CACHE_DIR", self.cache.path())
            .env("HARDEN_REGISTRY_MIRRORS", mirrors)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("NO_COLOR", "1")
            .output()
            .expect("harden runs")
    }

    fn harden(&self, args: &[&str]) -> Output {
        self.harden_with(&self.registry.mirrors(), args)
    }

    fn workflow(&self) -> String {
        std::fs::read_to_string(self.repo.path().join(".github/workflows/ci.yml")).expect("read")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn pins_images_after_actions_and_reports_the_failure() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-actions,pin-images"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "one image failed: {stderr}");
    assert!(
        stderr.contains("[pin-images] cannot pin image `docker.io/library/node:404`"),
        "{stderr}"
    );
    let after = f.workflow();
    assert!(after.contains("    container: node:20@sha256:"), "{after}");
    assert!(after.contains(" # runtime\n"), "{after}");
    assert!(
        after.contains("        image: 'postgres:16@sha256:"),
        "{after}"
    );
    assert!(
        after.contains("      - uses: docker://alpine:3.20@sha256:"),
        "{after}"
    );
    assert!(
        after.contains("      - uses: docker://node:404\n"),
        "{after}"
    );
    assert!(after.contains("actions/checkout@"), "{after}");
    assert!(
        !after.contains("actions/checkout@v4"),
        "pin-actions ran too: {after}"
    );

    // Offline from the cache: nothing left to change but the failed reference.
    let before = f.registry.manifest_requests();
    let out = f.harden(&["--only", "pin-images", "--offline", "--check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not in the cache and offline"));
    assert_eq!(f.registry.manifest_requests(), before);
}

#[test]
fn check_lists_the_changes_and_sarif_has_a_rule() {
    let f = Fixture::new();
    let out = f.harden(&["--only", "pin-images", "--check"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[pin-images] node:20 -> node:20@sha256:"),
        "{stdout}"
    );
    let out = f.harden(&["--only", "pin-images", "--format", "sarif"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Container images should be pinned to a digest"),
        "{stdout}"
    );
}

#[test]
fn a_bad_mirror_setting_is_a_usage_error() {
    let f = Fixture::new();
    let out = f.harden_with("docker.io", &["--only", "pin-images"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("HARDEN_REGISTRY_MIRRORS"),
        "{}",
        text(&out.stderr)
    );
    // Not used when pin-images is not selected.
    let out = f.harden_with("docker.io", &["--only", "permissions", "--check"]);
    assert_ne!(out.status.code(), Some(64), "{}", text(&out.stderr));
}

#[test]
fn dockerfiles_are_pinned_and_written_once() {
    let f = Fixture::new();
    let dockerfile = "# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build ./...\nFROM build AS test\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /out /\n";
    let dir = f.repo.path().join("deploy");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("write");
    std::fs::write(f.repo.path().join("Containerfile"), "from alpine:3.20\n").expect("write");

    let out = f.harden(&["--only", "pin-images", "--check"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[pin-images] FROM golang:1.22 -> golang:1.22@sha256:"),
        "{stdout}"
    );

    let out = f.harden(&["--only", "pin-images"]);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("could not"), "{stderr}");
    let after = std::fs::read_to_string(dir.join("Dockerfile")).expect("read");
    assert!(
        after.starts_with(
            "# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM golang:1.22@sha256:"
        ),
        "{after}"
    );
    assert!(after.contains(" AS build\nRUN go build ./...\nFROM build AS test\n"));
    assert!(after.contains("FROM gcr.io/distroless/static:nonroot@sha256:"));
    let container = std::fs::read_to_string(f.repo.path().join("Containerfile")).expect("read");
    assert!(
        container.starts_with("from alpine:3.20@sha256:"),
        "{container}"
    );

    // Nothing left to do; switched off in .github/harden.yml, nothing is read.
    let out = f.harden(&["--only", "pin-images", "--check"]);
    assert!(
        !text(&out.stdout).contains("FROM "),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("write");
    std::fs::write(
        f.repo.path().join(".github/harden.yml"),
        "pin-images:\n  dockerfiles: false\n",
    )
    .expect("write");
    let out = f.harden(&["--only", "pin-images", "--check"]);
    assert!(
        !text(&out.stdout).contains("FROM "),
        "{}",
        text(&out.stdout)
    );
}
