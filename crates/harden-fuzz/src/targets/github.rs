//! Targets of the GitHub layer: the pkt-line reader, the refs JSON (serde, the cache file and
//! the resolution rules on what it holds), and the resolver's parsers of server answers
//! (git protocol v2 `ls-refs`, the v0 advertisement, REST JSON) reached through a real
//! [`Resolver`] talking to a scripted local server.

use std::collections::HashMap;
use std::time::Duration;

use harden_github::pktline::{self, Packet, PktReader, MAX_PKT_LEN};
use harden_github::{RepoId, RepoRefs, Resolver, ResolverConfig, ResolverMode, TagRef};
use harden_testserver::RecordedRepo;

use crate::check;
use crate::corpus::{ls_refs_body, rest_bodies, v0_body};
use crate::engine::{CaseResult, Target};
use crate::mutate::Flavor;
use crate::rng::Rng;
use crate::server::{Answer, Route, ScriptServer};

/// The pkt-line reader on arbitrary bytes.
pub struct PktLineTarget {
    seeds: Vec<Vec<u8>>,
}

impl PktLineTarget {
    /// Seeds: the v2 and v0 answers of the recorded repositories, plus the request.
    pub fn new(repos: &[RecordedRepo]) -> Self {
        let mut seeds: Vec<Vec<u8>> = repos
            .iter()
            .flat_map(|r| [ls_refs_body(r), v0_body(r)])
            .collect();
        seeds.push(b"0014command=ls-refs\n00010009peel\n0000".to_vec());
        seeds.push(b"00000001000200040006ab".to_vec());
        PktLineTarget { seeds }
    }
}

impl Target for PktLineTarget {
    fn name(&self) -> &'static str {
        "pktline"
    }

    fn flavor(&self) -> Flavor {
        Flavor::PktLine
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], _: &mut Rng) -> CaseResult {
        let mut reader = PktReader::new(input);
        let mut rebuilt = Vec::new();
        let mut last = 0;
        // Every packet moves forward by at least 4 bytes.
        for _ in 0..=input.len() / 4 + 1 {
            match reader.next_packet() {
                Ok(None) => {
                    if !reader.is_empty() {
                        return Err("end of packets before the end of the input".into());
                    }
                    let mut again = PktReader::new(&rebuilt);
                    while let Ok(Some(_)) = again.next_packet() {}
                    if !again.is_empty() {
                        return Err("written packets do not read back".into());
                    }
                    return Ok("read-all");
                }
                Ok(Some(packet)) => {
                    let pos = reader.position();
                    if pos <= last || pos > input.len() {
                        return Err(format!("position went from {last} to {pos}").into());
                    }
                    last = pos;
                    match packet {
                        Packet::Data(d) => {
                            if d.len() + 4 > MAX_PKT_LEN {
                                return Err(format!("payload of {} bytes", d.len()).into());
                            }
                            let _ = pktline::trim_newline(d);
                            pktline::write_data(&mut rebuilt, d);
                        }
                        Packet::Flush => pktline::write_flush(&mut rebuilt),
                        Packet::Delim => pktline::write_delim(&mut rebuilt),
                        Packet::ResponseEnd => rebuilt.extend_from_slice(b"0002"),
                    }
                }
                Err(e) => {
                    let _ = e.to_string();
                    return Ok("error");
                }
            }
        }
        Err("the reader does not stop".into())
    }
}

/// Recorded refs as the resolver's own type.
pub fn repo_refs(repo: &RecordedRepo) -> RepoRefs {
    RepoRefs {
        default_branch: repo.default_branch.clone(),
        tags: repo
            .tags
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    TagRef {
                        commit: t.commit.clone(),
                        tag_object: t.tag_object.clone(),
                    },
                )
            })
            .collect(),
        branches: repo.branches.clone(),
    }
}

const PLACEHOLDER: &str = "fuzz/placeholder";
/// The source the offline resolver's cache entries must name (the default configuration).
const CACHE_SOURCE: &str = "git https://github.com api https://api.github.com";

/// `RepoRefs` from JSON (the cache format and the recorded refs), the resolution rules on the
/// result, and the on-disk cache read by an offline resolver.
pub struct RefsJsonTarget {
    seeds: Vec<Vec<u8>>,
    cache: tempfile::TempDir,
    resolver: Option<Resolver>,
    cases: u64,
}

impl RefsJsonTarget {
    /// Seeds: the recorded refs as `RepoRefs` JSON and as cache files.
    pub fn new(repos: &[RecordedRepo]) -> std::io::Result<Self> {
        let mut seeds = Vec::new();
        for repo in repos {
            let refs = repo_refs(repo);
            let json = serde_json::to_vec(&refs).map_err(std::io::Error::other)?;
            let cache = format!(
                "{{\"format\":1,\"server\":\"{CACHE_SOURCE}\",\"repo\":\"{PLACEHOLDER}\",\"fetched_at\":1700000000,\"refs\":{}}}",
                String::from_utf8_lossy(&json)
            );
            seeds.push(json);
            seeds.push(cache.into_bytes());
        }
        if seeds.is_empty() {
            seeds.push(b"{\"tags\":{\"v1\":{\"commit\":\"a\"}},\"branches\":{}}".to_vec());
        }
        Ok(RefsJsonTarget {
            seeds,
            cache: tempfile::tempdir()?,
            resolver: None,
            cases: 0,
        })
    }

    fn offline_resolver(&mut self) -> Option<&Resolver> {
        if self.resolver.is_none() || self.cases % 2000 == 0 {
            let config = ResolverConfig {
                cache_dir: Some(self.cache.path().to_path_buf()),
                offline: true,
                ..ResolverConfig::default()
            };
            self.resolver = Resolver::new(config).ok();
        }
        self.resolver.as_ref()
    }
}

/// Refs to resolve against `refs`: its own names and SHAs, and strange ones.
fn probe_refs(refs: &RepoRefs, choices: &mut Rng) -> Vec<String> {
    let mut out: Vec<String> = vec![
        String::new(),
        "v1".into(),
        "main".into(),
        "abc1234".into(),
        "refs/tags/v1".into(),
        "refs/heads/main".into(),
        "0123456789ABCDEF0123456789abcdef01234567".into(),
        "é".into(),
    ];
    let tags: Vec<&String> = refs.tags.keys().collect();
    let branches: Vec<&String> = refs.branches.keys().collect();
    for _ in 0..4 {
        if let Some(t) = choices.pick(&tags) {
            out.push((*t).clone());
            out.push(format!("refs/tags/{t}"));
            out.push(t.to_uppercase());
            if let Some(tag) = refs.tags.get(*t) {
                out.push(tag.commit.clone());
            }
        }
        if let Some(b) = choices.pick(&branches) {
            out.push((*b).clone());
            out.push(format!("refs/heads/{b}"));
        }
    }
    out
}

impl Target for RefsJsonTarget {
    fn name(&self) -> &'static str {
        "refs-json"
    }

    fn flavor(&self) -> Flavor {
        Flavor::Json
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        self.cases += 1;
        let direct: Option<RepoRefs> = serde_json::from_slice(input).ok();
        if let Some(refs) = &direct {
            exercise(refs, choices)?;
        }
        // The same bytes as a cache file, read by an offline resolver.
        let name = format!("fuzz/c{}", self.cases);
        let repo = RepoId::new("fuzz", format!("c{}", self.cases));
        let bytes = String::from_utf8_lossy(input).replace(PLACEHOLDER, &name);
        let Some(path) = self.offline_resolver().and_then(|r| r.cache_path(&repo)) else {
            return Err("the offline resolver could not be made".into());
        };
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| format!("cache folder: {e}"))?;
        }
        std::fs::write(&path, bytes.as_bytes()).map_err(|e| format!("cache write: {e}"))?;
        let cached = self.offline_resolver().map(|r| r.fetch(&repo));
        let _ = std::fs::remove_file(&path);
        match cached {
            Some(Ok(refs)) => {
                exercise(&refs, choices)?;
                Ok("cache-hit")
            }
            Some(Err(_)) => Ok(if direct.is_some() { "refs" } else { "invalid" }),
            None => Err("the offline resolver could not be made".into()),
        }
    }
}

/// Resolution, version comments and a serde round trip on parsed refs.
fn exercise(refs: &RepoRefs, choices: &mut Rng) -> Result<(), String> {
    for r in probe_refs(refs, choices) {
        if let Ok(resolved) = refs.resolve(&r) {
            let _ = refs.version_for_commit(&resolved.sha, resolved.comment.as_deref());
            let _ = refs.version_for_commit(&resolved.sha, Some("v0.0.1 # old"));
            let _ = refs.tags_at(&resolved.sha);
        }
    }
    let json = serde_json::to_vec(refs).map_err(|e| format!("serialize: {e}"))?;
    let back: RepoRefs = serde_json::from_slice(&json).map_err(|e| format!("reread: {e}"))?;
    if back != *refs {
        return Err("refs do not survive a JSON round trip".to_owned());
    }
    Ok(())
}

/// Every SHA in fetched refs is a git object id.
fn refs_are_oids(refs: &RepoRefs) -> Result<(), String> {
    for (name, tag) in &refs.tags {
        if !check::is_oid(&tag.commit) {
            return Err(format!(
                "resolver accepted a tag commit that is not a hex object id\ntag {name:?} commit {:?}",
                tag.commit
            ));
        }
        if let Some(o) = &tag.tag_object {
            if !check::is_oid(o) {
                return Err(format!(
                    "resolver accepted a tag object that is not a hex object id\ntag {name:?} object {o:?}"
                ));
            }
        }
    }
    for (name, sha) in &refs.branches {
        if !check::is_oid(sha) {
            return Err(format!(
                "resolver accepted a branch commit that is not a hex object id\nbranch {name:?} at {sha:?}"
            ));
        }
    }
    Ok(())
}

const RESULT_TYPE: &str = "application/x-git-upload-pack-result";
const ADVERTISEMENT_TYPE: &str = "application/x-git-upload-pack-advertisement";

/// A resolver of `mode` for `url`: no cache, no retries, short timeouts.
fn scripted_resolver(url: &str, mode: ResolverMode) -> Option<Resolver> {
    Resolver::new(ResolverConfig {
        server_url: url.to_owned(),
        api_url: url.to_owned(),
        mode,
        cache_dir: None,
        jobs: 1,
        timeout: Duration::from_secs(5),
        max_retries: 0,
        retry_backoff: Duration::ZERO,
        max_rate_limit_wait: Duration::ZERO,
        ..ResolverConfig::default()
    })
    .ok()
}

/// A status other than 200, now and then.
fn odd_status(choices: &mut Rng) -> Option<(u16, Vec<(String, String)>)> {
    if !choices.one_in(12) {
        return None;
    }
    let (status, headers): (u16, Vec<(&str, &str)>) = match choices.below(7) {
        0 => (400, vec![]),
        1 => (401, vec![]),
        2 => (404, vec![]),
        3 => (500, vec![]),
        4 => (429, vec![("Retry-After", "0")]),
        5 => (403, vec![("X-RateLimit-Remaining", "0")]),
        _ => (204, vec![]),
    };
    Some((
        status,
        headers
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect(),
    ))
}

/// The git smart-HTTP answers (v2 `ls-refs`, v0 advertisement) through a real resolver.
pub struct GitResponseTarget {
    seeds: Vec<Vec<u8>>,
    valid_v0: Vec<Vec<u8>>,
    server: ScriptServer,
    resolver: Option<Resolver>,
    cases: u64,
}

impl GitResponseTarget {
    /// Starts the scripted server.
    pub fn new(repos: &[RecordedRepo]) -> std::io::Result<Self> {
        let mut seeds = Vec::new();
        let mut valid_v0 = Vec::new();
        for repo in repos {
            seeds.push(ls_refs_body(repo));
            let v0 = v0_body(repo);
            seeds.push(v0.clone());
            valid_v0.push(v0);
        }
        if seeds.is_empty() {
            seeds.push(b"0000".to_vec());
        }
        Ok(GitResponseTarget {
            seeds,
            valid_v0,
            server: ScriptServer::start()?,
            resolver: None,
            cases: 0,
        })
    }
}

impl Target for GitResponseTarget {
    fn name(&self) -> &'static str {
        "git-response"
    }

    fn flavor(&self) -> Flavor {
        Flavor::PktLine
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        self.cases += 1;
        let mut post = Answer::ok(
            if choices.one_in(4) {
                ADVERTISEMENT_TYPE
            } else {
                RESULT_TYPE
            },
            input.to_vec(),
        );
        if let Some((status, headers)) = odd_status(choices) {
            post.status = status;
            post.headers.extend(headers);
        }
        let get_body = if choices.one_in(2) {
            input.to_vec()
        } else {
            choices.pick(&self.valid_v0).cloned().unwrap_or_default()
        };
        let get = Answer::ok(
            if choices.one_in(8) {
                "text/html"
            } else {
                ADVERTISEMENT_TYPE
            },
            get_body,
        );
        let mut script = HashMap::new();
        script.insert(Route::UploadPack, post);
        script.insert(Route::InfoRefs, get);
        self.server.set_script(script);
        if self.resolver.is_none() || self.cases % 2000 == 0 {
            self.resolver = scripted_resolver(&self.server.url(), ResolverMode::Git);
        }
        let Some(resolver) = &self.resolver else {
            return Err("no resolver".into());
        };
        match resolver.fetch(&RepoId::new("fuzz", format!("g{}", self.cases))) {
            Ok(refs) => {
                refs_are_oids(&refs)?;
                exercise(&refs, choices)?;
                Ok("fetched")
            }
            Err(e) => {
                let _ = e.to_string();
                Ok("fetch-error")
            }
        }
    }
}

const REST_ROUTES: &[(&str, Route)] = &[
    ("repo", Route::Repo),
    ("tag-refs", Route::TagRefs),
    ("tag-object", Route::TagObject),
    ("tags", Route::Tags),
    ("branches", Route::Branches),
];

/// The REST answers (repository, tag refs, tag objects, tags, branches) through a real resolver
/// in API mode. An input is `<route>\n<body>`: the body answers that route, the other routes get
/// valid answers.
pub struct RestResponseTarget {
    seeds: Vec<Vec<u8>>,
    valid: Vec<HashMap<Route, Vec<u8>>>,
    server: ScriptServer,
    resolver: Option<Resolver>,
    cases: u64,
}

impl RestResponseTarget {
    /// Starts the scripted server.
    pub fn new(repos: &[RecordedRepo]) -> std::io::Result<Self> {
        let mut seeds = Vec::new();
        let mut valid = Vec::new();
        for repo in repos {
            let b = rest_bodies(repo);
            let bodies: HashMap<Route, Vec<u8>> = [
                (Route::Repo, b.repo),
                (Route::TagRefs, b.tag_refs),
                (Route::TagObject, b.tag_object),
                (Route::Tags, b.tags),
                (Route::Branches, b.branches),
            ]
            .into_iter()
            .collect();
            for (name, route) in REST_ROUTES {
                let mut seed = format!("{name}\n").into_bytes();
                seed.extend_from_slice(bodies.get(route).map_or(&[][..], Vec::as_slice));
                seeds.push(seed);
            }
            valid.push(bodies);
        }
        if seeds.is_empty() {
            seeds.push(b"repo\n{}".to_vec());
        }
        Ok(RestResponseTarget {
            seeds,
            valid,
            server: ScriptServer::start()?,
            resolver: None,
            cases: 0,
        })
    }
}

impl Target for RestResponseTarget {
    fn name(&self) -> &'static str {
        "rest-response"
    }

    /// One repository can take 1 + 1 + 50 x 10 + 1 requests by design (annotated tags peeled
    /// one by one, tags of tags followed 10 deep).
    fn slow_factor(&self) -> u32 {
        5
    }

    fn flavor(&self) -> Flavor {
        Flavor::Json
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn run_case(&mut self, input: &[u8], choices: &mut Rng) -> CaseResult {
        self.cases += 1;
        let (head, body) = match input.iter().position(|b| *b == b'\n') {
            Some(i) => (&input[..i], &input[i + 1..]),
            None => (&b"repo"[..], input),
        };
        let fuzzed = REST_ROUTES
            .iter()
            .find(|(name, _)| name.as_bytes() == head)
            .map_or(Route::Repo, |(_, r)| *r);
        let base = choices.pick(&self.valid).cloned().unwrap_or_default();
        let mut script: HashMap<Route, Answer> = base
            .into_iter()
            .map(|(route, b)| (route, Answer::ok("application/json", b)))
            .collect();
        let mut answer = Answer::ok("application/json", body.to_vec());
        if let Some((status, headers)) = odd_status(choices) {
            answer.status = status;
            answer.headers.extend(headers);
        }
        if choices.one_in(50) {
            // Pagination: a same-origin next page (an empty last page) or one on another host.
            let url = if choices.one_in(2) {
                format!("{}/repos/fuzz/x/branches?page=2", self.server.url())
            } else {
                "http://elsewhere.invalid/repos/x?page=2".to_owned()
            };
            answer
                .headers
                .push(("Link".to_owned(), format!("<{url}>; rel=\"next\"")));
        }
        script.insert(fuzzed, answer);
        script.insert(
            Route::NextPage,
            Answer::ok("application/json", b"[]".to_vec()),
        );
        self.server.set_script(script);
        if self.resolver.is_none() || self.cases % 2000 == 0 {
            self.resolver = scripted_resolver(&self.server.url(), ResolverMode::Api);
        }
        let Some(resolver) = &self.resolver else {
            return Err("no resolver".into());
        };
        match resolver.fetch(&RepoId::new("fuzz", format!("r{}", self.cases))) {
            Ok(refs) => {
                refs_are_oids(&refs)?;
                exercise(&refs, choices)?;
                Ok("fetched")
            }
            Err(e) => {
                let _ = e.to_string();
                Ok("fetch-error")
            }
        }
    }
}
