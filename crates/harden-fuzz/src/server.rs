//! A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with whatever the running
//! case set for that kind of request: how fuzzed server answers reach the resolver's parsers.
//! One connection at a time, `Connection: close` on every answer; it stops when dropped.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Which endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST /{o}/{r}.git/git-upload-pack`
    UploadPack,
    /// `GET /{o}/{r}.git/info/refs`
    InfoRefs,
    /// `GET /repos/{o}/{r}`
    Repo,
    /// `GET /repos/{o}/{r}/git/matching-refs/tags/`
    TagRefs,
    /// `GET /repos/{o}/{r}/git/tags/{sha}`
    TagObject,
    /// `GET /repos/{o}/{r}/tags`
    Tags,
    /// `GET /repos/{o}/{r}/branches`
    Branches,
    /// A second page of a listing (`page=2` in the query).
    NextPage,
    /// Anything else.
    Other,
}

impl Route {
    /// The route of a request path.
    pub fn of(path: &str) -> Route {
        if path.contains("page=2") {
            return Route::NextPage;
        }
        let path = path.split('?').next().unwrap_or_default();
        if path.ends_with("/git-upload-pack") {
            Route::UploadPack
        } else if path.ends_with("/info/refs") {
            Route::InfoRefs
        } else if path.contains("/git/matching-refs/tags") {
            Route::TagRefs
        } else if path.contains("/git/tags/") {
            Route::TagObject
        } else if path.starts_with("/repos/") && path.ends_with("/tags") {
            Route::Tags
        } else if path.starts_with("/repos/") && path.ends_with("/branches") {
            Route::Branches
        } else if path.starts_with("/repos/") && path.matches('/').count() == 3 {
            Route::Repo
        } else {
            Route::Other
        }
    }
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A 200 answer with a content type.
    pub fn ok(content_type: &str, body: Vec<u8>) -> Self {
        Answer {
            status: 200,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body,
        }
    }
}

struct Shared {
    script: Mutex<HashMap<Route, Answer>>,
    requests: AtomicU64,
    stop: AtomicBool,
}

/// The scripted server.
pub struct ScriptServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl ScriptServer {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            script: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fuzz-script-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if serving.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = serve(stream, &serving);
                    }
                }
            })?;
        Ok(ScriptServer {
            shared,
            addr,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the answers of the next requests; routes without one get a 404.
    pub fn set_script(&self, script: HashMap<Route, Answer>) {
        if let Ok(mut s) = self.shared.script.lock() {
            *s = script;
        }
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let answer = shared
        .script
        .lock()
        .ok()
        .and_then(|s| s.get(&Route::of(&path)).cloned())
        .unwrap_or(Answer {
            status: 404,
            headers: Vec::new(),
            body: b"not found".to_vec(),
        });
    let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        answer.body.len()
    ));
    writer.write_all(head.as_bytes())?;
    writer.write_all(&answer.body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of("/a/b.git/git-upload-pack"), Route::UploadPack);
        assert_eq!(
            Route::of("/a/b.git/info/refs?service=git-upload-pack"),
            Route::InfoRefs
        );
        assert_eq!(Route::of("/repos/a/b"), Route::Repo);
        assert_eq!(
            Route::of("/repos/a/b/git/matching-refs/tags/?per_page=100"),
            Route::TagRefs
        );
        assert_eq!(Route::of("/repos/a/b/git/tags/abc"), Route::TagObject);
        assert_eq!(Route::of("/repos/a/b/tags?per_page=100"), Route::Tags);
        assert_eq!(
            Route::of("/repos/a/b/branches?per_page=100"),
            Route::Branches
        );
        assert_eq!(Route::of("/x"), Route::Other);
        assert_eq!(Route::of("/repos/a/b/branches?page=2"), Route::NextPage);
    }
}
