//! Plumbing shared by harden's remote clients (this crate's resolver and file reader, and
//! `harden-registry`'s container registry client), so that each piece exists once: the atomic
//! cache writer, cache clock and freshness, the cache folder from the environment, the bounded
//! pool of threads, the retry loop (5xx and network failures with backoff, rate-limit waits
//! within a budget), bounded body reads, and the small helpers around them.
//!
//! What stays in each client: which answers count as rate limits, which errors are transient,
//! its error type, its redirect policy and its counters. The items here take those as
//! arguments and decide nothing about a particular server.

use std::error::Error as StdError;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::blocking::Response;
use reqwest::header::{AsHeaderName, HeaderMap};

pub use crate::parallel::on_threads;

/// Whether [`write_atomically`] syncs the file before it renames it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Synced: after a crash the entry is the old one or the whole new one.
    Yes,
    /// Not synced (the refs cache: an fsync per repository sat on every cold run's path): after
    /// a crash the entry may be missing, empty or cut short, which reads as a miss.
    No,
}

/// Writes a cache file atomically: `tempfile` in the target's folder, synced when asked,
/// persisted over the target; a failed write leaves no temporary file behind (a cache entry
/// needs no folder sync: losing one costs a fetch). The folder must exist.
pub fn write_atomically(path: &Path, data: &[u8], sync: Fsync) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no folder"))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(data)?;
    if sync == Fsync::Yes {
        file.as_file().sync_all()?;
    }
    file.persist(path).map(drop).map_err(|e| e.error)
}

/// A 64-bit FNV-1a hash of `bytes`, for cache file and folder names: stable across runs, Rust
/// versions and machines, unlike the standard library's hasher.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The current unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether a cache entry fetched at unix time `fetched_at` is younger than `ttl` at `now`. An
/// entry from the future (the clock was changed) is stale.
pub fn is_fresh(fetched_at: u64, ttl: Duration, now: u64) -> bool {
    fetched_at <= now && now - fetched_at < ttl.as_secs()
}

/// The cache folder from environment variables read through `var` (empty counts as unset):
/// `HARDEN_CACHE_DIR`, else `$XDG_CACHE_HOME/harden`, else `$HOME/.cache/harden`, else
/// `%LOCALAPPDATA%\harden`; `None` when none is set.
pub fn cache_dir_from_vars(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    get("HARDEN_CACHE_DIR").map(PathBuf::from).or_else(|| {
        let base = get("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| get("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .or_else(|| get("LOCALAPPDATA").map(PathBuf::from))?;
        Some(base.join("harden"))
    })
}

/// Adds one to a statistics counter.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Declares a client's statistics from one list of counters: the public type (`u64` fields,
/// `Copy`, `Default`) and a crate-private twin of atomic counters, bumped with [`bump`] from any
/// thread, whose `snapshot()` reads them into the public type.
///
/// ```
/// harden_github::statistics! {
///     /// What a client did so far.
///     pub struct ClientStats counted by Counters {
///         /// HTTP requests sent.
///         requests,
///     }
/// }
/// let counters = Counters::default();
/// harden_github::plumbing::bump(&counters.requests);
/// assert_eq!(counters.snapshot(), ClientStats { requests: 1 });
/// ```
#[macro_export]
macro_rules! statistics {
    (
        $(#[$meta:meta])*
        $vis:vis struct $stats:ident counted by $counters:ident {
            $( $(#[$field_meta:meta])* $field:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        $vis struct $stats {
            $( $(#[$field_meta])* pub $field: u64, )*
        }

        /// The live counters behind the statistics, one per field.
        #[derive(Debug, Default)]
        pub(crate) struct $counters {
            $( pub(crate) $field: ::std::sync::atomic::AtomicU64, )*
        }

        impl $counters {
            /// The counts so far.
            pub(crate) fn snapshot(&self) -> $stats {
                $stats {
                    $( $field: self.$field.load(::std::sync::atomic::Ordering::Relaxed), )*
                }
            }
        }
    };
}

/// Whether a URL's host is this machine's loopback (`localhost`, `127.0.0.0/8`, `::1`): a proxy
/// from the environment cannot reach it, and tests may send secrets to it over plain http.
pub fn is_loopback(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
    else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An error's message followed by those of its sources that it does not already contain,
/// joined by `: ` (reqwest's own message rarely says what failed underneath).
pub fn error_chain(error: &dyn StdError) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
}

/// An answer with its body read (bounded, see [`read_bounded`]).
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, at most the limit it was read with.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value, if it is present and visible ASCII.
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Content-Type` header, empty when absent.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }
}

/// Why [`read_bounded`] gave no reply.
#[derive(Debug)]
pub enum BodyError {
    /// The body is longer than the limit (announced by `Content-Length` or found while reading).
    TooLarge,
    /// Reading the body failed (the source may be a `reqwest::Error`).
    Read(io::Error),
}

/// Whether reading a body failed for lack of time: the deadline of [`read_bounded`], or the
/// client's own timeout of one read (a `reqwest::Error` inside the I/O error).
pub fn is_timeout(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::TimedOut
        || error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout)
}

/// Reads the answer's body, at most `max_body` bytes, never reading past the limit: a longer one
/// is refused before it can cost memory. Past `deadline` (the request's start plus the
/// timeout) reading stops with a `TimedOut` error: the client's own timeout bounds each read,
/// so a server trickling two bytes a second would otherwise hold the request for hours. The
/// whole answer thus takes at most the timeout, plus one read's timeout when the server stalls
/// just before the deadline.
pub fn read_bounded(
    response: Response,
    max_body: u64,
    deadline: Instant,
) -> Result<Reply, BodyError> {
    if response.content_length().is_some_and(|n| n > max_body) {
        return Err(BodyError::TooLarge);
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let mut limited = response.take(max_body.saturating_add(1));
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if Instant::now() >= deadline {
            return Err(BodyError::Read(io::Error::new(
                io::ErrorKind::TimedOut,
                "the answer took longer than the timeout",
            )));
        }
        match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BodyError::Read(e)),
        }
    }
    if body.len() as u64 > max_body {
        return Err(BodyError::TooLarge);
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 section 10.2.3); a date in the past
/// means now. `None` when the value is neither. Shared by the GitHub and registry clients.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// How often and how long a request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after a transient failure (a 5xx answer or a network failure).
    pub max_retries: u32,
    /// Wait before the first retry, doubled for each further one (at most 64 times).
    pub backoff: Duration,
    /// The longest total wait for rate limits per request.
    pub max_rate_limit_wait: Duration,
    /// How many rate-limit waits per request at the most.
    pub max_rate_limit_waits: u32,
}

/// The counters a retry loop bumps.
#[derive(Debug, Clone, Copy)]
pub struct RetryCounters<'a> {
    /// Every attempt (every request sent).
    pub requests: &'a AtomicU64,
    /// Every retry after a transient failure.
    pub retries: &'a AtomicU64,
    /// Every rate-limit wait.
    pub rate_limit_waits: &'a AtomicU64,
}

/// What one attempt gave, as [`with_retries`] sees it.
#[derive(Debug)]
pub enum Attempt<T, E> {
    /// The final result: returned as it is.
    Done(Result<T, E>),
    /// A transient failure (a 5xx answer, a network failure): tried again after a backoff while
    /// retries are left, else this error is returned.
    Transient(E),
    /// A rate-limit answer: tried again after `wait` while the budget allows, else `refused`
    /// is returned.
    RateLimited {
        /// How long to wait before trying again.
        wait: Duration,
        /// The error when waiting is not allowed.
        refused: E,
    },
}

/// Runs `attempt` (given the number of this attempt, from 1) until it gives a final result,
/// retrying transient failures with exponential backoff and waiting out rate limits within the
/// policy's budget.
pub fn with_retries<T, E>(
    policy: &RetryPolicy,
    counters: RetryCounters<'_>,
    mut attempt: impl FnMut(u32) -> Attempt<T, E>,
) -> Result<T, E> {
    let (mut attempts, mut failures, mut waits) = (0u32, 0u32, 0u32);
    let mut waited = Duration::ZERO;
    loop {
        attempts += 1;
        bump(counters.requests);
        match attempt(attempts) {
            Attempt::Done(result) => return result,
            Attempt::RateLimited { wait, refused } => {
                // The wait comes from the server (`Retry-After`): a huge one must not overflow.
                if waits >= policy.max_rate_limit_waits
                    || waited.saturating_add(wait) > policy.max_rate_limit_wait
                {
                    return Err(refused);
                }
                waits += 1;
                waited += wait;
                bump(counters.rate_limit_waits);
                thread::sleep(wait);
                continue;
            }
            Attempt::Transient(error) if failures >= policy.max_retries => return Err(error),
            Attempt::Transient(_) => {}
        }
        bump(counters.retries);
        thread::sleep(policy.backoff.saturating_mul(1 << failures.min(6)));
        failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("entry.json");
        write_atomically(&path, b"one", Fsync::Yes).expect("write");
        write_atomically(&path, b"two", Fsync::No).expect("overwrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn freshness() {
        let hour = Duration::from_secs(3600);
        assert!(is_fresh(1000, hour, 1000));
        assert!(is_fresh(1000, hour, 4599));
        assert!(!is_fresh(1000, hour, 4600));
        assert!(!is_fresh(1000, hour, 999), "from the future");
        assert!(!is_fresh(1000, Duration::ZERO, 1000));
    }

    #[test]
    fn cache_dir_order() {
        let from = |vars: &[(&str, &str)]| {
            cache_dir_from_vars(|name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(from(&[]), None);
        assert_eq!(
            from(&[("HOME", "/h"), ("LOCALAPPDATA", "/l")]),
            Some(PathBuf::from("/h/.cache/harden"))
        );
        assert_eq!(
            from(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]),
            Some(PathBuf::from("/x/harden"))
        );
        assert_eq!(
            from(&[("HARDEN_CACHE_DIR", "/c"), ("XDG_CACHE_HOME", "/x")]),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            from(&[("HARDEN_CACHE_DIR", " "), ("LOCALAPPDATA", "/l")]),
            Some(PathBuf::from("/l/harden"))
        );
    }

    #[test]
    fn loopback_urls() {
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(is_loopback("http://localhost:1"));
        assert!(is_loopback("http://[::1]:1"));
        assert!(!is_loopback("https://github.com"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn retries_transient_failures_then_gives_up() {
        let (requests, retries, waits) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        let counters = RetryCounters {
            requests: &requests,
            retries: &retries,
            rate_limit_waits: &waits,
        };
        let policy = RetryPolicy {
            max_retries: 2,
            backoff: Duration::ZERO,
            max_rate_limit_wait: Duration::ZERO,
            max_rate_limit_waits: 3,
        };
        let failed: Result<(), u32> = with_retries(&policy, counters, Attempt::Transient);
        assert_eq!(failed, Err(3), "the third attempt's error");
        assert_eq!((requests.into_inner(), retries.into_inner()), (3, 2));
        let (requests, retries) = (AtomicU64::new(0), AtomicU64::new(0));
        let counters = RetryCounters {
            requests: &requests,
            retries: &retries,
            rate_limit_waits: &waits,
        };
        let limited: Result<(), &str> = with_retries(&policy, counters, |_| Attempt::RateLimited {
            wait: Duration::from_millis(1),
            refused: "limited",
        });
        assert_eq!(limited, Err("limited"), "over the budget: no wait");
        assert_eq!(waits.into_inner(), 0);
        let counters = RetryCounters {
            requests: &requests,
            retries: &retries,
            rate_limit_waits: &AtomicU64::new(0),
        };
        let done: Result<u32, ()> = with_retries(&policy, counters, |n| match n {
            1 => Attempt::Transient(()),
            _ => Attempt::Done(Ok(n)),
        });
        assert_eq!(done, Ok(2));
    }

    #[test]
    fn a_huge_rate_limit_wait_after_a_short_one_is_refused() {
        let (requests, retries, waits) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        let counters = RetryCounters {
            requests: &requests,
            retries: &retries,
            rate_limit_waits: &waits,
        };
        let policy = RetryPolicy {
            max_retries: 0,
            backoff: Duration::ZERO,
            max_rate_limit_wait: Duration::from_secs(1),
            max_rate_limit_waits: 3,
        };
        let limited: Result<(), &str> = with_retries(&policy, counters, |n| Attempt::RateLimited {
            wait: match n {
                1 => Duration::from_millis(1),
                _ => Duration::MAX,
            },
            refused: "limited",
        });
        assert_eq!(limited, Err("limited"));
        assert_eq!(waits.into_inner(), 1);
    }
}
