//! The HTTP client: timeouts, same-host-only redirects, retries of 5xx answers and network
//! failures, and waiting out rate limits within a budget.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::redirect::Policy;

use crate::cache::unix_now;
use crate::config::ResolverConfig;
use crate::error::{Error, FetchError};
pub(crate) use crate::plumbing::Reply;
use crate::plumbing::{
    error_chain, is_loopback, parse_retry_after, with_retries, Attempt, BodyError, RetryCounters,
    RetryPolicy,
};
use crate::stats::Counters;

/// The largest answer body read for a git protocol v2 `ls-refs` or a REST page. The largest
/// recorded repository (gradio-app/gradio: 5,896 tags, 381 branches) answers `ls-refs` in
/// 764,946 bytes, a REST page holds at most 100 refs (about 30 KB); a server sending more is
/// refused before it can cost memory (a 1 GiB answer used to cost 2 GB).
pub(crate) const MAX_BODY: u64 = 8 * 1024 * 1024;
/// The largest v0 advertisement read: it also lists every `refs/pull/*` ref (two per pull
/// request, about 60 bytes each), so a repository with 200,000 pull requests needs 24 MB.
pub(crate) const MAX_V0_BODY: u64 = 64 * 1024 * 1024;

/// Rate-limit waits per request before giving up.
const MAX_RATE_LIMIT_WAITS: u32 = 3;
/// The wait when GitHub says it is rate limiting but not for how long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A redirect to another origin, refused by the redirect policy.
#[derive(Debug)]
struct CrossHostRedirect(String);

impl fmt::Display for CrossHostRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redirect to another host: {}", self.0)
    }
}

impl StdError for CrossHostRedirect {}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The shared HTTP client of a resolver.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: Client,
    retry: RetryPolicy,
    counters: Arc<Counters>,
    /// `--timeout`: the longest one answer may take, headers and body.
    timeout: Duration,
}

impl Http {
    pub(crate) fn new(config: &ResolverConfig, counters: Arc<Counters>) -> Result<Self, Error> {
        let policy = Policy::custom(|attempt| {
            let Some(first) = attempt.previous().first() else {
                return attempt.follow();
            };
            if !same_origin(first, attempt.url()) {
                let target = crate::redact::redact_userinfo(attempt.url().as_str());
                return attempt.error(CrossHostRedirect(target));
            }
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            attempt.follow()
        });
        let mut builder = Client::builder();
        if is_loopback(&config.server_url) && is_loopback(&config.api_url) {
            // A proxy from the environment cannot reach this machine's loopback.
            builder = builder.no_proxy();
        }
        let client = builder
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(policy)
            .user_agent(concat!("git/harden-", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Client(e.to_string()))?;
        Ok(Http {
            client,
            retry: RetryPolicy {
                max_retries: config.max_retries,
                backoff: config.retry_backoff,
                max_rate_limit_wait: config.max_rate_limit_wait,
                max_rate_limit_waits: MAX_RATE_LIMIT_WAITS,
            },
            counters,
            timeout: config.timeout,
        })
    }

    /// The deadline of a request sent now: headers and body must have arrived by then.
    pub(crate) fn deadline(&self) -> std::time::Instant {
        std::time::Instant::now() + self.timeout
    }

    /// The underlying client, for requests that read their body themselves (bounded reads).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Sends the request `build` makes, retrying 5xx answers and network failures with
    /// backoff and waiting out rate limits within the budget. Other answers (2xx, 3xx, 4xx)
    /// are returned for the caller to interpret.
    pub(crate) fn execute(
        &self,
        build: &dyn Fn(&Client) -> RequestBuilder,
    ) -> Result<Reply, FetchError> {
        self.execute_bounded(build, MAX_BODY)
    }

    /// Like [`Http::execute`], refusing an answer whose body is longer than `max_body` bytes
    /// (announced or actual) with [`FetchError::BodyTooLarge`], without reading past the limit.
    pub(crate) fn execute_bounded(
        &self,
        build: &dyn Fn(&Client) -> RequestBuilder,
        max_body: u64,
    ) -> Result<Reply, FetchError> {
        let counters = RetryCounters {
            requests: &self.counters.requests,
            retries: &self.counters.retries,
            rate_limit_waits: &self.counters.rate_limit_waits,
        };
        with_retries(&self.retry, counters, |attempts| {
            let deadline = self.deadline();
            let result = build(&self.client)
                .send()
                .map_err(|e| classify(&e))
                .and_then(|response| read_bounded(response, max_body, deadline));
            match result {
                Err(error @ FetchError::Network(_)) => Attempt::Transient(error),
                Err(error) => Attempt::Done(Err(error)),
                Ok(reply) => match rate_limit_wait(&reply) {
                    Some(wait) => Attempt::RateLimited {
                        wait: wait.unwrap_or(DEFAULT_RATE_LIMIT_WAIT),
                        refused: FetchError::RateLimited { retry_after: wait },
                    },
                    None if matches!(reply.status, 500 | 502 | 503 | 504) => {
                        Attempt::Transient(FetchError::Server {
                            status: reply.status,
                            attempts,
                        })
                    }
                    None => Attempt::Done(Ok(reply)),
                },
            }
        })
    }
}

/// Reads the answer's body, at most `max_body` bytes: a longer one (announced by
/// `Content-Length` or found while reading) is refused.
fn read_bounded(
    response: reqwest::blocking::Response,
    max_body: u64,
    deadline: std::time::Instant,
) -> Result<Reply, FetchError> {
    crate::plumbing::read_bounded(response, max_body, deadline).map_err(|e| match e {
        BodyError::TooLarge => FetchError::BodyTooLarge { limit: max_body },
        BodyError::Read(e) => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        {
            Some(inner) => classify(inner),
            None if e.kind() == std::io::ErrorKind::TimedOut => FetchError::Timeout,
            None => FetchError::Network(e.to_string()),
        },
    })
}

/// If the reply is a rate-limit answer: `Some(how long to wait)`, the wait itself `None` if the
/// server did not say.
fn rate_limit_wait(reply: &Reply) -> Option<Option<Duration>> {
    let retry_after = reply.header("retry-after").map(parse_retry_after);
    let exhausted = reply
        .header("x-ratelimit-remaining")
        .is_some_and(|v| v.trim() == "0");
    let limited =
        reply.status == 429 || (reply.status == 403 && (retry_after.is_some() || exhausted));
    if !limited {
        return None;
    }
    if let Some(Some(wait)) = retry_after {
        return Some(Some(wait));
    }
    let reset = reply
        .header("x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok());
    Some(
        reset
            .filter(|_| exhausted)
            .map(|reset| Duration::from_secs(reset.saturating_sub(unix_now()) + 1)),
    )
}

/// Turns a client error into a fetch error (never containing credentials: they travel in
/// headers, never in URLs).
fn classify(error: &reqwest::Error) -> FetchError {
    if error.is_redirect() {
        let mut source = error.source();
        while let Some(inner) = source {
            if let Some(refused) = inner.downcast_ref::<CrossHostRedirect>() {
                return FetchError::RedirectRefused(refused.0.clone());
            }
            source = inner.source();
        }
        return FetchError::BadResponse("too many redirects".to_string());
    }
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    FetchError::Network(crate::redact::redact_userinfo(&error_chain(error)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    fn reply(status: u16, headers: &[(&'static str, String)]) -> Reply {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header"),
            );
        }
        Reply {
            status,
            headers: map,
            body: Vec::new(),
        }
    }

    #[test]
    fn detects_rate_limits() {
        assert_eq!(
            rate_limit_wait(&reply(429, &[("retry-after", "7".into())])),
            Some(Some(Duration::from_secs(7)))
        );
        assert_eq!(rate_limit_wait(&reply(429, &[])), Some(None));
        assert_eq!(
            rate_limit_wait(&reply(403, &[])),
            None,
            "plain 403 is an auth error"
        );
        let reset = (unix_now() + 9).to_string();
        let primary = rate_limit_wait(&reply(
            403,
            &[
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", reset),
            ],
        ));
        let wait = primary.flatten().expect("wait");
        assert!(
            (Duration::from_secs(8)..=Duration::from_secs(10)).contains(&wait),
            "{wait:?}"
        );
        assert_eq!(
            rate_limit_wait(&reply(403, &[("x-ratelimit-remaining", "5".into())])),
            None
        );
        assert_eq!(
            rate_limit_wait(&reply(200, &[("retry-after", "1".into())])),
            None
        );
    }

    #[test]
    fn origins() {
        let parse = |s: &str| reqwest::Url::parse(s).expect("url");
        assert!(same_origin(
            &parse("https://github.com/a"),
            &parse("https://github.com:443/b")
        ));
        assert!(!same_origin(
            &parse("https://github.com/a"),
            &parse("https://evil.com/a")
        ));
        assert!(!same_origin(
            &parse("http://127.0.0.1:1/a"),
            &parse("http://localhost:1/a")
        ));
        assert!(!same_origin(
            &parse("http://127.0.0.1:1/a"),
            &parse("http://127.0.0.1:2/a")
        ));
    }
}
