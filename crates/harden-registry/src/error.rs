//! Error types. Messages say what went wrong and what to do.

use std::time::Duration;

use thiserror::Error;

/// Setting up a [`crate::Registry`] failed.
#[derive(Debug, Error)]
pub enum Error {
    /// An entry of `HARDEN_REGISTRY_MIRRORS` is unusable.
    #[error("HARDEN_REGISTRY_MIRRORS: `{entry}`: {reason}")]
    InvalidMirror {
        /// The entry as written.
        entry: String,
        /// Why it is unusable.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Resolving one image reference failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistryError {
    /// The registry has no such tag (or no such repository).
    #[error(
        "the registry has no manifest for tag `{tag}` (HTTP 404): check the image name and tag"
    )]
    NotFound {
        /// The tag asked for.
        tag: String,
    },
    /// The registry wants credentials harden does not have.
    #[error(
        "the registry wants credentials (HTTP {status}): if the image is private, put them in the \
         `auths` of ~/.docker/config.json, or exempt it (`pin-images: exempt` in .github/harden.yml)"
    )]
    AuthRequired {
        /// 401 or 403.
        status: u16,
    },
    /// `429 Too Many Requests` for longer than harden waits.
    #[error("rate limited by the registry{}: try again later, or set HARDEN_REGISTRY_MIRRORS to a mirror", retry_after.map(|d| format!(" (it asks to wait {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long the registry asked to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    #[error("timed out waiting for the registry: check the network, or raise --timeout")]
    Timeout,
    /// Connecting or talking to the registry failed.
    #[error("network error: {0}; check the network, set HARDEN_REGISTRY_MIRRORS, or run with --skip pin-images")]
    Network(String),
    /// 5xx answers even after retries.
    #[error("registry error (HTTP {status}) after {attempts} attempts: try again later")]
    Server {
        /// The last status.
        status: u16,
        /// Requests made.
        attempts: u32,
    },
    /// Another HTTP status.
    #[error("unexpected HTTP status {0} from the registry")]
    HttpStatus(u16),
    /// An answer harden could not use.
    #[error("bad answer from the registry: {0}")]
    BadResponse(String),
    /// `--offline` and not in the cache.
    #[error("not in the cache and offline: run once without --offline to fill the cache")]
    NotCached,
}
