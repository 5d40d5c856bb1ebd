//! Server options, injected faults and the request log.

use std::time::Duration;

/// A fault the server injects for a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status (e.g. 404, 500, 401, 403) and a short body.
    Status(u16),
    /// Read the request and never answer (until the client gives up or the server stops).
    Stall,
    /// Read the request and close the connection without any response.
    Reset,
    /// Answer 200 with the normal body cut in the middle (a truncated pkt-line or JSON document).
    Truncated,
    /// Answer 200 with a body that is neither pkt-lines nor JSON.
    Malformed,
    /// Answer with a rate-limit error like GitHub's primary (403, `X-RateLimit-Remaining: 0`,
    /// `X-RateLimit-Reset`) or secondary (429 or 403 with `Retry-After`) limits.
    RateLimited {
        /// 403 or 429.
        status: u16,
        /// `Retry-After` in seconds, if sent.
        retry_after: Option<u64>,
        /// Seconds from now for `X-RateLimit-Reset` (with `X-RateLimit-Remaining: 0`), if sent.
        reset_after: Option<u64>,
    },
    /// Answer 200 with a body of `bytes` filler bytes (`a` lines), sent in chunks and never
    /// held whole in memory; with `announced`, a `Content-Length` says the size up front,
    /// without it the body simply runs until the connection closes.
    HugeBody {
        /// The body's length.
        bytes: u64,
        /// Whether `Content-Length` announces it.
        announced: bool,
    },
    /// Answer with a secondary rate limit (429 or 403) whose `Retry-After` is an HTTP date
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`) `after_secs` from now.
    RateLimitedUntil {
        /// 403 or 429.
        status: u16,
        /// Seconds from now of the date in `Retry-After`.
        after_secs: u64,
    },
    /// Answer normally, the headers at once and then the body two bytes a second, as a slow
    /// or hostile server might: a client's per-read timeout never fires.
    Trickle,
    /// Answer with a redirect.
    Redirect {
        /// 301, 302, 307 or 308.
        status: u16,
        /// The `Location` header.
        location: String,
    },
}

/// Which endpoints of a repository a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultScope {
    /// Git smart HTTP and REST.
    #[default]
    All,
    /// Only git smart HTTP (`info/refs`, `git-upload-pack`).
    Git,
    /// Only the REST API (`/repos/...`).
    Rest,
}

/// A fault with its scope and how many requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What to do.
    pub fault: Fault,
    /// Which endpoints.
    pub scope: FaultScope,
    /// How many more requests it applies to; `None` for all of them.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule applying `fault` to every request of the repository.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            fault,
            scope: FaultScope::All,
            times: None,
        }
    }

    /// Restricts the rule to git or REST endpoints.
    pub fn scope(mut self, scope: FaultScope) -> Self {
        self.scope = scope;
        self
    }

    /// Applies the rule to the next `n` matching requests only.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// Server behaviour; change it with the builder methods or [`TestServer::set_options`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Added before answering each request.
    pub latency: Duration,
    /// Whether git protocol v2 is spoken; if not, only the v0 advertisement is served.
    pub protocol_v2: bool,
    /// Without v2: the status answering a `git-upload-pack` POST. 200 means an empty
    /// `application/x-git-upload-pack-result` body, as `git http-backend` gives when its v0
    /// `upload-pack` dies on a v2 request.
    pub v0_post_status: u16,
    /// Git smart-HTTP status for an unknown repository: 404 (default), or 401 as GitHub answers
    /// without credentials.
    pub missing_repo_status: u16,
    /// The token the server accepts (as basic-auth password, `Bearer` or `token`).
    pub token: Option<String>,
    /// Repositories (`owner/repo`, any case) that need the token.
    pub private_repos: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            latency: Duration::ZERO,
            protocol_v2: true,
            v0_post_status: 200,
            missing_repo_status: 404,
            token: None,
            private_repos: Vec::new(),
        }
    }
}

impl ServerOptions {
    /// Adds `latency` to every request.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Serves only git protocol v0.
    pub fn without_v2(mut self) -> Self {
        self.protocol_v2 = false;
        self
    }

    /// Without v2, answers `git-upload-pack` POSTs with this status.
    pub fn v0_post_status(mut self, status: u16) -> Self {
        self.v0_post_status = status;
        self
    }

    /// The git smart-HTTP status for unknown repositories (404 or 401).
    pub fn missing_repo_status(mut self, status: u16) -> Self {
        self.missing_repo_status = status;
        self
    }

    /// Requires `token` for the given repositories.
    pub fn require_token(mut self, token: &str, repos: &[&str]) -> Self {
        self.token = Some(token.to_string());
        self.private_repos
            .extend(repos.iter().map(|r| r.to_ascii_lowercase()));
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Decoded path, e.g. `/actions/checkout.git/git-upload-pack`.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Lowercase `owner/repo`, if the path names one.
    pub repo: Option<String>,
    /// The `Git-Protocol` header, if sent.
    pub git_protocol: Option<String>,
    /// Whether an `Authorization` header was sent.
    pub authorized: bool,
}
