//! What the binary-level tests share: a scratch repository with one workflow, a local fake
//! GitHub, an empty cache, and the `harden` binary pointed at them (never the internet).

#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use harden_testserver::{default_refs_dir, TestServer};

/// A scratch repository (`.github/workflows/ci.yml` holds the given workflow), the test
/// server and a cache folder of its own.
pub(crate) struct Fixture {
    /// The fake GitHub serving the recorded refs.
    pub server: TestServer,
    /// The cache harden uses (`HARDEN_CACHE_DIR`).
    pub cache: tempfile::TempDir,
    /// The repository root.
    pub repo: tempfile::TempDir,
}

impl Fixture {
    /// A repository whose `ci.yml` is `workflow`.
    pub(crate) fn with_workflow(workflow: impl AsRef<[u8]>) -> Self {
        let f = Fixture {
            server: TestServer::start(default_refs_dir()).expect("test server starts"),
            cache: tempfile::tempdir().expect("cache dir"),
            repo: tempfile::tempdir().expect("repo dir"),
        };
        fs::create_dir_all(f.repo.path().join(".github/workflows")).expect("mkdir");
        f.write("ci.yml", workflow);
        f
    }

    /// The path of workflow `name`.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.repo.path().join(".github/workflows").join(name)
    }

    /// Writes workflow `name` and returns its path.
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, contents).expect("write");
        p
    }

    /// `harden ARGS` in the repository, against the test server and the fixture's cache.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_harden"));
        cmd.args(args)
            .current_dir(self.repo.path())
            .env("GITHUB_SERVER_URL", self.server.url())
            .env("GITHUB_API_URL", self.server.url())
            .env("HARDEN_CACHE_DIR", self.cache.path())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs `harden ARGS` and returns what it did.
    pub(crate) fn harden(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("harden runs")
    }
}
