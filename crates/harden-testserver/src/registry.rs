//! A container registry stand-in on 127.0.0.1: the parts of the OCI distribution API that
//! `harden-registry` uses. Manifests are looked up by tag and answered to `HEAD` (and `GET`)
//! with `Docker-Content-Digest`; with authentication on (the default), a request without the
//! right bearer token gets `401` and a `WWW-Authenticate: Bearer realm=…` challenge whose realm
//! (`/token` on the same server) hands out anonymous tokens, as Docker Hub, ghcr.io and quay.io
//! do. Unknown tags answer `404 MANIFEST_UNKNOWN`; a rate-limit rule answers `429` with
//! `Retry-After`.
//!
//! One server stands in for several registries: a path may start with a registry name,
//! `/<registry>/v2/<repository>/manifests/<tag>`, which is what
//! `HARDEN_REGISTRY_MIRRORS=*=http://127.0.0.1:PORT/{registry}` produces; plain `/v2/…` is the
//! registry named `""`.
//!
//! ```no_run
//! use harden_testserver::registry::{RegistryServer, INDEX_TYPE};
//!
//! let server = RegistryServer::start().expect("start");
//! server.add_image("docker.io/library/alpine:3", INDEX_TYPE);
//! let mirrors = format!("*={}/{{registry}}", server.url());
//! # drop(mirrors);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::http::{self, Request, Response};
use crate::lock;

/// The OCI image index media type (multi-platform images).
pub const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Docker's manifest list media type (multi-platform images).
pub const MANIFEST_LIST_TYPE: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The OCI image manifest media type (one platform).
pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// One request the stand-in received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRequest {
    /// `HEAD`, `GET`, ...
    pub method: String,
    /// The path, query left out.
    pub path: String,
    /// The `Accept` header.
    pub accept: Option<String>,
    /// Whether a bearer token was sent.
    pub authorized: bool,
}

#[derive(Debug, Default)]
struct State {
    /// `registry/repository:tag` -> media type.
    images: BTreeMap<String, String>,
    /// Answer every well-formed tag (with an index) except those in `images_missing`.
    any_image: bool,
    missing: Vec<String>,
    /// `registry/repository` -> (remaining 429 answers, Retry-After seconds).
    rate_limits: HashMap<String, (u32, u64)>,
    /// `Retry-After` as an HTTP date, that many seconds from the answer, instead of seconds.
    retry_after_date: bool,
    /// Send every manifest answer's body two bytes a second.
    trickle: bool,
    auth: bool,
    /// Leave `Docker-Content-Digest` out (the client must hash the manifest it GETs).
    no_digest_header: bool,
    /// Leave it out of `HEAD` answers and misstate it in `GET` answers (a faulty mirror).
    wrong_digest_header: bool,
    /// `registry/repository@digest` of every manifest served or added: what a by-digest
    /// request finds.
    digests: Vec<String>,
    /// `registry/repository` -> `user:password` the token endpoint wants for it.
    logins: HashMap<String, String>,
    /// `registry/repository` names that want credentials (`401` with a Basic challenge).
    private: Vec<String>,
    log: Vec<RegistryRequest>,
}

struct Shared {
    state: Mutex<State>,
    shutdown: AtomicBool,
    addr: SocketAddr,
}

/// A running registry stand-in; stops when dropped.
pub struct RegistryServer {
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RegistryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryServer")
            .field("url", &self.url())
            .finish()
    }
}

/// The digest the stand-in gives `registry/repository:tag`: the sha256 of the manifest it
/// serves for it ([`manifest_body`]), as a registry's `Docker-Content-Digest` is, the same in
/// every run.
pub fn fake_digest(key: &str) -> String {
    let sum = ring::digest::digest(&ring::digest::SHA256, manifest_body(key).as_bytes());
    let hex: String = sum.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl RegistryServer {
    /// Starts a stand-in on a free port of 127.0.0.1, with token authentication on and no image.
    pub fn start() -> io::Result<RegistryServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                auth: true,
                ..State::default()
            }),
            shutdown: AtomicBool::new(false),
            addr,
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("registry-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_shared.shutdown.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let conn = Arc::clone(&accept_shared);
                    let _ = thread::Builder::new()
                        .name("registry-conn".into())
                        .spawn(move || serve(stream, &conn));
                }
            })?;
        Ok(RegistryServer {
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// `HARDEN_REGISTRY_MIRRORS` sending every registry here.
    pub fn mirrors(&self) -> String {
        format!("*={}/{{registry}}", self.url())
    }

    /// Serves `registry/repository:tag` (e.g. `docker.io/library/alpine:3`) with this media type.
    pub fn add_image(&self, key: &str, media_type: &str) {
        lock(&self.shared.state)
            .images
            .insert(key.to_owned(), media_type.to_owned());
    }

    /// Serves the manifest `digest` of `registry/repository` (by digest only).
    pub fn add_digest(&self, name: &str, digest: &str) {
        lock(&self.shared.state)
            .digests
            .push(format!("{name}@{digest}"));
    }

    /// Answers every tag of every repository (as an image index), except the keys given to
    /// [`RegistryServer::remove_image`].
    pub fn serve_any_image(&self) {
        lock(&self.shared.state).any_image = true;
    }

    /// Answers `404` for `registry/repository:tag`.
    pub fn remove_image(&self, key: &str) {
        let mut state = lock(&self.shared.state);
        state.images.remove(key);
        state.missing.push(key.to_owned());
    }

    /// Answers the next `times` manifest requests for `registry/repository` with `429` and
    /// `Retry-After: seconds`.
    pub fn rate_limit(&self, name: &str, times: u32, seconds: u64) {
        lock(&self.shared.state)
            .rate_limits
            .insert(name.to_owned(), (times, seconds));
    }

    /// Like [`RegistryServer::rate_limit`], with `Retry-After` as an HTTP date `seconds` from
    /// each answer.
    pub fn rate_limit_until(&self, name: &str, times: u32, seconds: u64) {
        let mut state = lock(&self.shared.state);
        state.rate_limits.insert(name.to_owned(), (times, seconds));
        state.retry_after_date = true;
    }

    /// Sends the body of every manifest answer two bytes a second (a `GET`; a `HEAD` answer
    /// has no body): a client's per-read timeout never fires.
    pub fn trickle(&self) {
        lock(&self.shared.state).trickle = true;
    }

    /// Answers `401` with a `Basic` challenge for `registry/repository`: a private image.
    pub fn make_private(&self, name: &str) {
        lock(&self.shared.state).private.push(name.to_owned());
    }

    /// Leaves the `Docker-Content-Digest` header out of manifest answers, as some registries do
    /// for `HEAD`; the body of a `GET` is still the manifest.
    pub fn omit_digest_header(&self) {
        lock(&self.shared.state).no_digest_header = true;
    }

    /// Leaves `Docker-Content-Digest` out of `HEAD` answers and gives a digest other than the
    /// manifest's in `GET` answers, as a faulty mirror might: the client must refuse it.
    pub fn misstate_digest_header(&self) {
        lock(&self.shared.state).wrong_digest_header = true;
    }

    /// Hands out tokens for `registry/repository` only to `user:password` (Basic), as a
    /// registry does for a private image.
    pub fn require_login(&self, name: &str, user: &str, password: &str) {
        lock(&self.shared.state)
            .logins
            .insert(name.to_owned(), format!("{user}:{password}"));
    }

    /// Turns token authentication on or off.
    pub fn set_auth(&self, on: bool) {
        lock(&self.shared.state).auth = on;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RegistryRequest> {
        lock(&self.shared.state).log.clone()
    }

    /// Manifest requests so far.
    pub fn manifest_requests(&self) -> usize {
        lock(&self.shared.state)
            .log
            .iter()
            .filter(|r| r.path.contains("/manifests/"))
            .count()
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.shared.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = http::read_request(&mut reader) {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let keep_alive = request.keep_alive();
        let mut response = answer(&request, shared);
        if request.method == "HEAD" {
            response.body.clear();
        } else if lock(&shared.state).trickle && request.path.contains("/manifests/") {
            let _ = response.write_trickled(&mut writer);
            return;
        }
        if response.write_to(&mut writer, keep_alive).is_err() || !keep_alive {
            return;
        }
    }
}

fn error_json(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &serde_json::json!({"errors": [{"code": code, "message": message}]}),
    )
}

/// Splits `/<registry>/v2/<repository>/manifests/<reference>` (registry optional).
fn route(path: &str) -> Option<(&str, &str, &str)> {
    let at = path.find("/v2/")?;
    let registry = path[..at].trim_start_matches('/');
    let rest = &path[at + 4..];
    let (repository, reference) = rest.rsplit_once("/manifests/")?;
    Some((registry, repository, reference))
}

fn token_for(repository: &str) -> String {
    format!("anon-{}", repository.replace('/', "."))
}

fn answer(request: &Request, shared: &Shared) -> Response {
    let mut state = lock(&shared.state);
    state.log.push(RegistryRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        accept: request.header("accept").map(str::to_owned),
        authorized: request.header("authorization").is_some(),
    });
    if request.path.ends_with("/token") {
        let scope = request.query_param("scope").unwrap_or_default();
        let Some(repository) = scope
            .strip_prefix("repository:")
            .and_then(|s| s.strip_suffix(":pull"))
        else {
            return error_json(400, "UNSUPPORTED", "scope must be repository:<name>:pull");
        };
        let registry = request
            .path
            .trim_end_matches("/token")
            .trim_start_matches('/');
        if let Some(wanted) = state.logins.get(&format!("{registry}/{repository}")) {
            let presented = request
                .header("authorization")
                .and_then(|h| h.strip_prefix("Basic "))
                .and_then(http::base64_decode)
                .and_then(|raw| String::from_utf8(raw).ok());
            if presented.as_deref() != Some(wanted.as_str()) {
                return error_json(401, "UNAUTHORIZED", "login required")
                    .with_header("WWW-Authenticate", "Basic realm=\"token\"");
            }
        }
        return Response::json(200, &serde_json::json!({"token": token_for(repository)}));
    }
    let Some((registry, repository, reference)) = route(&request.path) else {
        return error_json(404, "NOT_FOUND", "no such endpoint");
    };
    let name = format!("{registry}/{repository}");
    if state.private.contains(&name) {
        return error_json(401, "UNAUTHORIZED", "authentication required")
            .with_header("WWW-Authenticate", "Basic realm=\"registry\"");
    }
    if state.auth {
        let expected = format!("Bearer {}", token_for(repository));
        if request.header("authorization") != Some(expected.as_str()) {
            let prefix = if registry.is_empty() {
                String::new()
            } else {
                format!("/{registry}")
            };
            let challenge = format!(
                "Bearer realm=\"http://{}{prefix}/token\",service=\"registry.test\",scope=\"repository:{repository}:pull\"",
                shared.addr
            );
            return error_json(401, "UNAUTHORIZED", "authentication required")
                .with_header("WWW-Authenticate", challenge);
        }
    }
    if let Some((times, seconds)) = state.rate_limits.get_mut(&name) {
        if *times > 0 {
            *times -= 1;
            let seconds = *seconds;
            let retry_after = if state.retry_after_date {
                http::date(std::time::SystemTime::now() + Duration::from_secs(seconds))
            } else {
                seconds.to_string()
            };
            return error_json(429, "TOOMANYREQUESTS", "rate limited")
                .with_header("Retry-After", retry_after);
        }
    }
    if reference.starts_with("sha256:") {
        let by_digest = format!("{name}@{reference}");
        if !state.digests.contains(&by_digest) {
            return error_json(404, "MANIFEST_UNKNOWN", "manifest unknown");
        }
        // The manifest itself is not kept for a digest, so the answer has only the header,
        // like a HEAD answer.
        return Response::new(200, INDEX_TYPE, "").with_header("Docker-Content-Digest", reference);
    }
    manifest(request, &mut state, &name, reference)
}

/// A manifest answer for `name:reference` (a tag).
fn manifest(request: &Request, state: &mut State, name: &str, reference: &str) -> Response {
    let key = format!("{name}:{reference}");
    let media_type = match state.images.get(&key) {
        Some(t) => Some(t.clone()),
        None if state.any_image && !state.missing.contains(&key) => Some(INDEX_TYPE.to_owned()),
        None => None,
    };
    let Some(media_type) = media_type else {
        return error_json(404, "MANIFEST_UNKNOWN", "manifest unknown");
    };
    let accepted = request
        .header("accept")
        .is_some_and(|a| a.split(',').any(|t| t.trim() == media_type));
    if !accepted {
        // A registry falls back to a single-platform manifest, with another digest.
        let platform = format!("{key}#platform");
        return Response::new(200, MANIFEST_TYPE, manifest_body(&platform))
            .with_header("Docker-Content-Digest", fake_digest(&platform));
    }
    let served = format!("{name}@{}", fake_digest(&key));
    if !state.digests.contains(&served) {
        state.digests.push(served);
    }
    let header =
        if state.no_digest_header || (state.wrong_digest_header && request.method == "HEAD") {
            None
        } else if state.wrong_digest_header {
            Some(fake_digest(&format!("{key}#other")))
        } else {
            Some(fake_digest(&key))
        };
    let response = Response::new(200, &media_type, manifest_body(&key));
    match header {
        Some(digest) => response.with_header("Docker-Content-Digest", digest),
        None => response,
    }
}

/// The manifest body served for a key (its digest, [`fake_digest`], is its sha256).
pub fn manifest_body(key: &str) -> String {
    format!("{{\"schemaVersion\":2,\"annotations\":{{\"key\":\"{key}\"}}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/docker.io/v2/library/alpine/manifests/3"),
            Some(("docker.io", "library/alpine", "3"))
        );
        assert_eq!(route("/v2/a/b/c/manifests/x"), Some(("", "a/b/c", "x")));
        assert_eq!(route("/token"), None);
        assert_eq!(fake_digest("a").len(), 7 + 64);
    }
}
