//! Error types. No error message ever contains the token.

use std::time::Duration;

use thiserror::Error;

/// Setting up a [`crate::Resolver`] failed.
#[derive(Debug, Error)]
pub enum Error {
    /// A configured URL is unusable.
    #[error("invalid {what} {url:?}: {reason}")]
    InvalidUrl {
        /// Which setting (`server URL`, `API URL`).
        what: &'static str,
        /// The URL as configured.
        url: String,
        /// Why it is unusable.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Fetching the refs of one repository failed. The message says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FetchError {
    /// The repository does not exist (or is hidden from us).
    #[error("repository not found: check the owner/repo spelling; if the repository is private, set GITHUB_TOKEN or GH_TOKEN")]
    NotFound,
    /// The server wants credentials, or refused the ones given.
    #[error(
        "authentication required or refused (HTTP {status}): the repository may be private or missing; \
         set GITHUB_TOKEN or GH_TOKEN to a token that can read it"
    )]
    AuthRequired {
        /// 401 or 403.
        status: u16,
    },
    /// GitHub's rate limit was hit and waiting longer was not allowed.
    #[error("{}", rate_limited_message(*retry_after))]
    RateLimited {
        /// How long GitHub asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The server did not answer in time.
    #[error("timed out waiting for the server: check the network, or raise the timeout")]
    Timeout,
    /// Connecting or talking to the server failed.
    #[error("network error: {0}; check the network and the server URL")]
    Network(String),
    /// The server failed (5xx) even after retries.
    #[error("server error (HTTP {status}) after {attempts} attempts: try again later")]
    Server {
        /// The last status.
        status: u16,
        /// How many requests were made.
        attempts: u32,
    },
    /// An HTTP status that has no better meaning here.
    #[error("unexpected HTTP status {0} from the server")]
    HttpStatus(u16),
    /// The server answered something we could not understand.
    #[error("bad response from the server: {0}")]
    BadResponse(String),
    /// The answer was longer than harden reads (see docs/reliability.md for the limits).
    #[error("the server's answer is larger than {} MiB, more than any repository's refs need; refused", limit / (1024 * 1024))]
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The server redirected to another host; we do not follow (credentials could leak).
    #[error(
        "refused to follow a redirect to another host ({0}); if that host is trusted, configure it as the server or API URL"
    )]
    RedirectRefused(String),
    /// Offline mode and the repository is not in the cache.
    #[error("not in the cache and offline: run once without --offline to fill the cache")]
    NotCached,
    /// Recorded-data mode (`--recorded DIR`) and the repository has no recorded refs.
    #[error("not in the recorded data ({path} does not exist): record the repository's refs there, or run without --recorded")]
    NotRecorded {
        /// The file that would hold the repository's refs.
        path: String,
    },
}

fn rate_limited_message(retry_after: Option<Duration>) -> String {
    let wait = match retry_after {
        Some(d) => format!(" (GitHub asks to wait {} s)", d.as_secs().max(1)),
        None => String::new(),
    };
    format!(
        "rate limited by GitHub{wait}: try again later; set GITHUB_TOKEN or GH_TOKEN for a higher limit"
    )
}

/// A ref could not be resolved against a repository's refs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResolveError {
    /// The ref is empty.
    #[error("empty ref: write owner/repo@<tag, branch or full commit SHA>")]
    Empty,
    /// No tag or branch has this name.
    #[error("no tag or branch named {git_ref:?}{}", suggestion.as_ref().map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default())]
    UnknownRef {
        /// The ref as written.
        git_ref: String,
        /// A tag or branch differing only in case, if any.
        suggestion: Option<String>,
    },
    /// A short commit SHA, which GitHub Actions does not accept.
    #[error("{git_ref:?} looks like a short commit SHA: use the full 40-character SHA")]
    ShortSha {
        /// The ref as written.
        git_ref: String,
    },
}

/// A string is not a valid `owner/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid repository {input:?}: {reason} (expected owner/repo)")]
pub struct ParseRepoError {
    /// The input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}
