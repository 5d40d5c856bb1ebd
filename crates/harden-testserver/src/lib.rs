//! A fake GitHub on 127.0.0.1 for tests: git smart HTTP (protocol v2 `ls-refs` and the v0
//! advertisement) and the REST endpoints harden uses, served from recorded ref data
//! (`shared/refs/<owner>__<repo>.json`), with options for latency, authentication and fault
//! injection per repository.
//!
//! ```no_run
//! use harden_testserver::{default_refs_dir, Fault, TestServer};
//!
//! let server = TestServer::start(default_refs_dir()).expect("start test server");
//! server.set_fault("actions/cache", Fault::Status(500));
//! let url = server.url(); // "http://127.0.0.1:PORT": use it as server URL and API URL
//! # drop(url);
//! ```
//!
//! The server is a hand-written HTTP/1.1 server over [`std::net::TcpListener`], with one thread
//! per connection; it stops when the [`TestServer`] is dropped.

pub mod corpus;
mod data;
mod dispatch;
mod files;
mod git;
mod http;
mod options;
pub mod registry;
mod rest;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use corpus::{
    ci_tool, corpus_roots, files_under, full_corpus_dir, sample_corpus_dir, skipped, CorpusRoot,
};
pub use data::{load_refs_dir, repo_key, AdvertisedRef, RecordedRepo, RecordedTag, DEFAULT_DATE};

pub use options::{Fault, FaultRule, FaultScope, RequestRecord, ServerOptions};

use data::ServedRepo;
use dispatch::{handle, Action};
use http::Response;

/// The directory of the recorded refs kept in the repository (`testdata/recorded/refs`, a copy of
/// `../shared/refs`).
pub fn default_refs_dir() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/recorded/refs"
    ));
    path.canonicalize().unwrap_or(path)
}

/// The recorded `action.yml` files and reusable workflows of the repositories in
/// [`default_refs_dir`], as `<owner>__<repo>/<path>` (a copy of `../shared/actions` kept in the
/// repository, so that a fresh clone runs the tests).
pub fn default_actions_dir() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/recorded/actions"
    ));
    path.canonicalize().unwrap_or(path)
}

struct Shared {
    repos: RwLock<BTreeMap<String, Arc<ServedRepo>>>,
    options: Mutex<ServerOptions>,
    faults: Mutex<HashMap<String, FaultRule>>,
    log: Mutex<Vec<RequestRecord>>,
    shutdown: AtomicBool,
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    addr: SocketAddr,
    /// Where the raw form (`/{owner}/{repo}/raw/{ref}/{path}`) reads recorded files, in order.
    actions_dirs: RwLock<Vec<PathBuf>>,
}

/// Counts a request as in flight until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running fake GitHub; stops when dropped.
pub struct TestServer {
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url())
            .finish()
    }
}

impl TestServer {
    /// Starts a server on 127.0.0.1 (a free port) serving the recorded refs of `refs_dir`.
    pub fn start(refs_dir: impl AsRef<Path>) -> io::Result<TestServer> {
        TestServer::start_with(refs_dir, ServerOptions::default())
    }

    /// Like [`TestServer::start`], with options.
    pub fn start_with(
        refs_dir: impl AsRef<Path>,
        options: ServerOptions,
    ) -> io::Result<TestServer> {
        let repos = load_refs_dir(refs_dir.as_ref())?;
        TestServer::start_with_repos(repos.into_values(), options, 0)
    }

    /// Starts a server for the given repositories on 127.0.0.1:`port` (0 for a free port).
    pub fn start_with_repos(
        repos: impl IntoIterator<Item = RecordedRepo>,
        options: ServerOptions,
        port: u16,
    ) -> io::Result<TestServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let repos = repos
            .into_iter()
            .map(|r| {
                (
                    r.full_name.to_ascii_lowercase(),
                    Arc::new(ServedRepo::new(r)),
                )
            })
            .collect();
        let shared = Arc::new(Shared {
            repos: RwLock::new(repos),
            options: Mutex::new(options),
            faults: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            addr,
            actions_dirs: RwLock::new(vec![default_actions_dir()]),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("testserver-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(TestServer {
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The same server under another host name (`http://localhost:PORT`), for redirects that
    /// leave the host.
    pub fn other_host_url(&self) -> String {
        format!("http://localhost:{}", self.shared.addr.port())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// Number of requests received for one repository (`owner/repo`, any case).
    pub fn requests_for(&self, repo: &str) -> usize {
        let key = repo.to_ascii_lowercase();
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.repo.as_deref() == Some(key.as_str()))
            .count()
    }

    /// Number of requests received for one exact path.
    pub fn requests_to(&self, path: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Forgets the request log and resets [`TestServer::max_in_flight`].
    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// The current options.
    pub fn options(&self) -> ServerOptions {
        lock(&self.shared.options).clone()
    }

    /// Replaces the options (applies to the next requests).
    pub fn set_options(&self, options: ServerOptions) {
        *lock(&self.shared.options) = options;
    }

    /// Injects `fault` on every request of `repo` (`owner/repo`, any case).
    pub fn set_fault(&self, repo: &str, fault: Fault) {
        self.set_fault_rule(repo, FaultRule::new(fault));
    }

    /// Injects a fault rule for `repo`, replacing any earlier one.
    pub fn set_fault_rule(&self, repo: &str, rule: FaultRule) {
        lock(&self.shared.faults).insert(repo.to_ascii_lowercase(), rule);
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Adds or replaces a repository.
    pub fn add_repo(&self, repo: RecordedRepo) {
        let mut repos = self.shared.repos.write().unwrap_or_else(|p| p.into_inner());
        repos.insert(
            repo.full_name.to_ascii_lowercase(),
            Arc::new(ServedRepo::new(repo)),
        );
    }

    /// Serves the raw form `/{owner}/{repo}/raw/{ref}/{path}` from `dir` (laid out as
    /// `<owner>__<repo>/<path>`) instead of [`default_actions_dir`].
    pub fn set_actions_dir(&self, dir: impl Into<PathBuf>) {
        *self
            .shared
            .actions_dirs
            .write()
            .unwrap_or_else(|p| p.into_inner()) = vec![dir.into()];
    }

    /// Also serves the recorded files of `dir` (read after the folders already served).
    pub fn add_actions_dir(&self, dir: impl Into<PathBuf>) {
        self.shared
            .actions_dirs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(dir.into());
    }

    /// A served repository (`owner/repo`, any case).
    pub fn repo(&self, name: &str) -> Option<RecordedRepo> {
        let repos = self.shared.repos.read().unwrap_or_else(|p| p.into_inner());
        repos
            .get(&name.to_ascii_lowercase())
            .map(|served| served.repo.clone())
    }

    /// The `owner/repo` names of all served repositories, with their original case.
    pub fn repo_names(&self) -> Vec<String> {
        let repos = self.shared.repos.read().unwrap_or_else(|p| p.into_inner());
        repos
            .values()
            .map(|served| served.repo.full_name.clone())
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.shared.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        for (_, stream) in lock(&self.shared.connections).drain() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("testserver-conn".into())
            .spawn(move || {
                serve_connection(stream, &conn_shared);
                lock(&conn_shared.connections).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.connections).remove(&id);
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let request = match http::read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let keep_alive = request.keep_alive();
        let _in_flight = InFlight::enter(shared);
        match handle(&request, shared) {
            Action::Respond(response) => {
                let response = if request.method == "HEAD" {
                    Response {
                        body: Vec::new(),
                        ..response
                    }
                } else {
                    response
                };
                if response.write_to(&mut writer, keep_alive).is_err() || !keep_alive {
                    return;
                }
            }
            Action::Huge {
                content_type,
                bytes,
                announced,
            } => {
                let _ = http::write_huge(&mut writer, content_type, bytes, announced);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::Stall => {
                // Never answer: wait until the client closes or the server shuts the socket.
                let mut sink = [0u8; 1024];
                while matches!(reader.get_mut().read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
            Action::Reset => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::Trickle(response) => {
                let _ = response.write_trickled(&mut writer);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}
