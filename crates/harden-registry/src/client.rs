//! The OCI distribution API client: `HEAD /v2/<name>/manifests/<tag>`, anonymous bearer tokens
//! from the `WWW-Authenticate` challenge, retries of 5xx answers and network failures, waits
//! for `429` within a budget, and bounded bodies.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use harden_github::plumbing::{
    error_chain, parse_retry_after, read_bounded, with_retries, Attempt, BodyError, Reply,
    RetryCounters, RetryPolicy,
};
use reqwest::blocking::{Client, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};

use crate::config::RegistryConfig;
use crate::credentials::Credentials;
use crate::error::{Error, RegistryError};
use crate::reference::{valid_digest, ImageRef};
use crate::stats::Counters;
use crate::Resolved;

/// The manifest media types asked for, image indexes first: the digest of a multi-platform
/// image is the digest of its index, as `docker pull` sees it.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Waits for `429` per request before giving up.
const MAX_RATE_LIMIT_WAITS: u32 = 3;

/// The HTTP side of a registry client.
#[derive(Debug)]
pub(crate) struct Http {
    client: Client,
    config: RegistryConfig,
    /// Bearer tokens by realm, service and scope.
    tokens: Mutex<HashMap<String, String>>,
    /// What each host (`host[:port]`) did this run: see [`HostState`].
    hosts: Mutex<HashMap<String, HostState>>,
}

/// What one registry host did this run, so that one slow or rate-limited registry costs one
/// wait budget and one failure, not one per image.
#[derive(Debug, Default)]
struct HostState {
    /// Rate-limit waits spent on this host, all images together (at most the budget).
    waited: Duration,
    /// The failure that ends this host for the run (rate limited beyond the budget, timed out,
    /// unreachable, 5xx after retries): every later request gets it at once.
    failed: Option<RegistryError>,
}

/// Whether a failure is the host's (remembered for the run) rather than one image's.
fn is_host_failure(error: &RegistryError) -> bool {
    matches!(
        error,
        RegistryError::RateLimited { .. }
            | RegistryError::Timeout
            | RegistryError::Network(_)
            | RegistryError::Server { .. }
    )
}

/// Whether a URL (a mirror's may hold `{registry}`) names this machine's loopback.
fn is_loopback(url: &str) -> bool {
    harden_github::plumbing::is_loopback(&url.replace("{registry}", "r"))
}

impl Http {
    pub(crate) fn new(config: &RegistryConfig) -> Result<Self, Error> {
        let mut builder = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // reqwest drops the Authorization header on a redirect to another host.
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("harden/", env!("CARGO_PKG_VERSION")));
        if !config.mirrors.is_empty() && config.mirrors.values().all(|u| is_loopback(u)) {
            // A proxy from the environment cannot reach this machine's loopback.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| Error::Client(e.to_string()))?;
        Ok(Http {
            client,
            config: config.clone(),
            tokens: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Resolves the tag of `image` to the digest of its manifest (or index).
    pub(crate) fn resolve(
        &self,
        image: &ImageRef,
        counters: &Counters,
    ) -> Result<Resolved, RegistryError> {
        let base = self.config.base_url(&image.registry);
        let url = format!(
            "{base}/v2/{}/manifests/{}",
            image.repository,
            image.manifest_reference()
        );
        let scope = format!("repository:{}:pull", image.repository);
        let host = host_of(&base);
        let credentials = self.config.credentials.get(&host);
        let mut auth = match self.cached_token(&base, &scope) {
            Some(token) => Auth::Bearer(token),
            None => Auth::Anonymous,
        };
        let mut challenged = false;
        let mut method = reqwest::Method::HEAD;
        loop {
            let reply = self.send(&host, counters, || {
                let request = self
                    .client
                    .request(method.clone(), &url)
                    .header(ACCEPT, MANIFEST_TYPES.join(", "));
                match (&auth, credentials) {
                    (Auth::Bearer(t), _) => request.header(AUTHORIZATION, format!("Bearer {t}")),
                    (Auth::Basic, Some(c)) => request.basic_auth(&c.user, Some(&c.secret)),
                    _ => request,
                }
            })?;
            let head = method == reqwest::Method::HEAD;
            match reply.status {
                // A registry that answers HEAD without the digest (or refuses HEAD) is asked
                // with GET; the digest is then that of the manifest's bytes.
                200 | 405 if head && reply.header("docker-content-digest").is_none() => {
                    method = reqwest::Method::GET;
                }
                200 => {
                    let resolved = digest_of(&reply)?;
                    return match &image.digest {
                        Some(d) if *d != resolved.digest => Err(RegistryError::BadResponse(
                            format!("asked for {d}, the registry answered {}", resolved.digest),
                        )),
                        _ => Ok(resolved),
                    };
                }
                401 if !challenged => {
                    challenged = true;
                    let challenge = reply.header(WWW_AUTHENTICATE).unwrap_or_default();
                    let basic = challenge.trim().to_ascii_lowercase().starts_with("basic");
                    auth = match credentials {
                        Some(_) if basic && safe_for_secrets(&base) => Auth::Basic,
                        _ if basic => {
                            return Err(RegistryError::AuthRequired { status: 401 });
                        }
                        _ => Auth::Bearer(self.fetch_token(
                            &base,
                            challenge,
                            &scope,
                            credentials,
                            counters,
                        )?),
                    };
                }
                401 | 403 => {
                    return Err(RegistryError::AuthRequired {
                        status: reply.status,
                    })
                }
                404 => {
                    return Err(RegistryError::NotFound {
                        tag: image.manifest_reference().to_owned(),
                    })
                }
                status => return Err(RegistryError::HttpStatus(status)),
            }
        }
    }

    fn cached_token(&self, base: &str, scope: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(&format!("{base} {scope}")).cloned()
    }

    /// Answers a `Bearer realm=…,service=…,scope=…` challenge with a token: anonymous, or with
    /// the host's credentials when the realm belongs to the same domain and is https.
    fn fetch_token(
        &self,
        base: &str,
        challenge: &str,
        scope: &str,
        credentials: Option<&Credentials>,
        counters: &Counters,
    ) -> Result<String, RegistryError> {
        let Some(params) = challenge
            .trim()
            .strip_prefix("Bearer ")
            .or_else(|| challenge.trim().strip_prefix("bearer "))
            .map(parse_challenge)
        else {
            return Err(RegistryError::AuthRequired { status: 401 });
        };
        let Some(realm) = params.get("realm").filter(|r| r.starts_with("http")) else {
            return Err(RegistryError::BadResponse(
                "a Bearer challenge without an http(s) realm".to_owned(),
            ));
        };
        let asked = params.get("scope").map_or(scope, String::as_str);
        let mut query: Vec<(&str, &str)> = vec![("scope", asked)];
        if let Some(service) = params.get("service") {
            query.push(("service", service));
        }
        let credentials = credentials.filter(|_| realm_trusted(realm, base));
        let reply = self.send(&host_of(realm), counters, || {
            let request = self.client.get(realm.as_str()).query(&query);
            match credentials {
                Some(c) => request.basic_auth(&c.user, Some(&c.secret)),
                None => request,
            }
        })?;
        match reply.status {
            200 => {}
            401 | 403 => {
                return Err(RegistryError::AuthRequired {
                    status: reply.status,
                })
            }
            status => return Err(RegistryError::HttpStatus(status)),
        }
        let answer: serde_json::Value = serde_json::from_slice(&reply.body).map_err(|e| {
            RegistryError::BadResponse(format!("the token answer is not JSON: {e}"))
        })?;
        let token = answer
            .get("token")
            .or_else(|| answer.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| RegistryError::BadResponse("the token answer has no token".to_owned()))?
            .to_owned();
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.insert(format!("{base} {scope}"), token.clone());
        Ok(token)
    }

    /// Sends the request `build` makes to `host`, retrying 5xx answers and network failures
    /// with backoff and waiting out `429` (`Retry-After` in seconds or as an HTTP date) within
    /// the host's budget for the run. A host that failed this run fails at once.
    fn send(
        &self,
        host: &str,
        counters: &Counters,
        build: impl Fn() -> reqwest::blocking::RequestBuilder,
    ) -> Result<Reply, RegistryError> {
        if let Some(failed) = self.host_failure(host) {
            return Err(failed);
        }
        let policy = RetryPolicy {
            max_retries: self.config.max_retries,
            backoff: self.config.retry_backoff,
            max_rate_limit_wait: self.config.max_rate_limit_wait,
            max_rate_limit_waits: MAX_RATE_LIMIT_WAITS,
        };
        let counters = RetryCounters {
            requests: &counters.requests,
            retries: &counters.retries,
            rate_limit_waits: &counters.rate_limit_waits,
        };
        let result = with_retries(&policy, counters, |attempts| {
            let deadline = std::time::Instant::now() + self.config.timeout;
            match build().send() {
                Err(e) if e.is_timeout() => Attempt::Done(Err(RegistryError::Timeout)),
                Err(e) => Attempt::Transient(RegistryError::Network(error_chain(&e))),
                Ok(response) => match self.read(response, deadline) {
                    Err(error) => Attempt::Done(Err(error)),
                    Ok(reply) if reply.status == 429 => self.rate_limited(host, &reply),
                    Ok(reply) if matches!(reply.status, 500 | 502 | 503 | 504) => {
                        Attempt::Transient(RegistryError::Server {
                            status: reply.status,
                            attempts,
                        })
                    }
                    Ok(reply) => Attempt::Done(Ok(reply)),
                },
            }
        });
        if let Err(error) = &result {
            if is_host_failure(error) {
                let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
                hosts.entry(host.to_owned()).or_default().failed = Some(error.clone());
            }
        }
        result
    }

    /// The failure `host` gave earlier in the run, if any.
    fn host_failure(&self, host: &str) -> Option<RegistryError> {
        let hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts.get(host).and_then(|h| h.failed.clone())
    }

    /// A `429`: a wait taken from the host's budget for the run, or, when the registry asks
    /// for more than is left, the failure at once.
    fn rate_limited(&self, host: &str, reply: &Reply) -> Attempt<Reply, RegistryError> {
        let asked = reply.header("retry-after").and_then(parse_retry_after);
        let wait = asked.unwrap_or(Duration::from_secs(10));
        let refused = RegistryError::RateLimited { retry_after: asked };
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let state = hosts.entry(host.to_owned()).or_default();
        if state.waited.saturating_add(wait) > self.config.max_rate_limit_wait {
            return Attempt::Done(Err(refused));
        }
        state.waited += wait;
        Attempt::RateLimited { wait, refused }
    }

    /// Reads the body, at most `max_body` bytes, by `deadline`.
    fn read(
        &self,
        response: Response,
        deadline: std::time::Instant,
    ) -> Result<Reply, RegistryError> {
        let limit = self.config.max_body;
        read_bounded(response, limit as u64, deadline).map_err(|e| match e {
            BodyError::TooLarge => {
                RegistryError::BadResponse(format!("an answer larger than {limit} bytes"))
            }
            BodyError::Read(e) if harden_github::plumbing::is_timeout(&e) => RegistryError::Timeout,
            BodyError::Read(e) => RegistryError::Network(e.to_string()),
        })
    }
}

/// The digest of a `200` manifest answer, checked.
fn digest_of(reply: &Reply) -> Result<Resolved, RegistryError> {
    let media_type = reply
        .header(reqwest::header::CONTENT_TYPE)
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_owned())
        .filter(|t| !t.is_empty());
    if let Some(t) = &media_type {
        if t.contains("manifest.v1") {
            return Err(RegistryError::BadResponse(format!(
                "the registry answered a schema 1 manifest ({t}), which has no stable digest"
            )));
        }
    }
    // With the manifest in hand, its digest is computed from it: a header that disagrees (a
    // mirror's or proxy's mistake, or a tampered answer) would pin an image other than the one
    // the registry showed, so it is refused. A HEAD answer has only the header.
    let computed = (!reply.body.is_empty()).then(|| {
        let sum = ring::digest::digest(&ring::digest::SHA256, &reply.body);
        let hex: String = sum.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    });
    let digest = match (
        reply.header("docker-content-digest").map(str::trim),
        &computed,
    ) {
        (Some(d), Some(c)) if d.starts_with("sha256:") && d != c => {
            return Err(RegistryError::BadResponse(format!(
                "the Docker-Content-Digest header (`{}`) is not the digest of the manifest sent ({c})",
                d.chars().take(80).collect::<String>()
            )));
        }
        (Some(d), _) => d,
        (None, Some(c)) => c,
        (None, None) => {
            return Err(RegistryError::BadResponse(
                "no Docker-Content-Digest header and no manifest in the answer".to_owned(),
            ))
        }
    };
    if !valid_digest(digest) || !digest.starts_with("sha256:") {
        return Err(RegistryError::BadResponse(format!(
            "`{}` is not a sha256 digest",
            digest.chars().take(80).collect::<String>()
        )));
    }
    Ok(Resolved {
        digest: digest.to_owned(),
        media_type,
    })
}

/// How manifest requests authenticate.
enum Auth {
    Anonymous,
    Bearer(String),
    Basic,
}

/// `host[:port]` of a URL, lowercase, as credentials are keyed.
pub(crate) fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        }
        Err(_) => String::new(),
    }
}

/// Secrets travel over https only (or to this machine's loopback, for tests).
fn safe_for_secrets(url: &str) -> bool {
    url.starts_with("https://") || is_loopback(url)
}

/// Registry domains where every host is a different tenant (`<name>.azurecr.io` is one
/// customer's registry): a realm there gets credentials only on the registry's own host. The
/// public-suffix list does not name them (checked against psl 2.1.261).
const SHARED_REGISTRY_DOMAINS: &[&str] = &["azurecr.io", "pkg.dev", "amazonaws.com"];

/// Whether a token realm may receive the registry's credentials: https (or loopback), the same
/// port, and the registry's own host or a host of the same registrable domain by the
/// public-suffix list (`auth.docker.io` for `registry-1.docker.io`; never `evil.github.io` for
/// `me.github.io`), except under the shared registry domains above.
fn realm_trusted(realm: &str, base: &str) -> bool {
    if !safe_for_secrets(realm) {
        return false;
    }
    let (Ok(realm), Ok(base)) = (reqwest::Url::parse(realm), reqwest::Url::parse(base)) else {
        return false;
    };
    let host = |u: &reqwest::Url| u.host_str().unwrap_or_default().to_ascii_lowercase();
    let (realm_host, base_host) = (host(&realm), host(&base));
    if realm_host.is_empty() || realm.port_or_known_default() != base.port_or_known_default() {
        return false;
    }
    if realm_host == base_host {
        return true;
    }
    let is_ip = |h: &str| {
        h.trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
    };
    if is_ip(&realm_host) || is_ip(&base_host) {
        return false;
    }
    let domain = |h: &str| psl::domain_str(h.trim_end_matches('.')).map(str::to_owned);
    match (domain(&realm_host), domain(&base_host)) {
        (Some(r), Some(b)) => r == b && !SHARED_REGISTRY_DOMAINS.contains(&b.as_str()),
        _ => false,
    }
}

/// `realm="https://auth.docker.io/token",service="registry.docker.io"` as a map.
fn parse_challenge(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_owned());
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(c["realm"], "https://auth.docker.io/token");
        assert_eq!(c["service"], "registry.docker.io");
        assert_eq!(c["scope"], "repository:library/alpine:pull");
        assert!(realm_trusted(
            "https://auth.docker.io/token",
            "https://registry-1.docker.io"
        ));
        assert!(realm_trusted("https://ghcr.io/token", "https://ghcr.io"));
        assert!(!realm_trusted("http://ghcr.io/token", "https://ghcr.io"));
        assert!(!realm_trusted(
            "https://evil.example/token",
            "https://ghcr.io"
        ));
        assert!(realm_trusted(
            "http://127.0.0.1:5/t",
            "http://127.0.0.1:5/docker.io"
        ));
        assert!(!realm_trusted("http://127.0.0.2:5/t", "http://127.0.0.1:5"));
        assert_eq!(host_of("http://127.0.0.1:5/x"), "127.0.0.1:5");
        // Issue 28: another tenant of a shared domain, another port, a public suffix.
        assert!(realm_trusted(
            "https://myreg.azurecr.io/oauth2/token",
            "https://myreg.azurecr.io"
        ));
        assert!(!realm_trusted(
            "https://evil.azurecr.io/oauth2/token",
            "https://myreg.azurecr.io"
        ));
        assert!(!realm_trusted(
            "https://evil.github.io/t",
            "https://me.github.io"
        ));
        assert!(!realm_trusted(
            "https://ghcr.io:8443/token",
            "https://ghcr.io"
        ));
        assert!(!realm_trusted(
            "http://127.0.0.1:6/t",
            "http://127.0.0.1:5/docker.io"
        ));
        assert!(realm_trusted(
            "https://auth.docker.io:443/token",
            "https://registry-1.docker.io"
        ));
        assert!(!realm_trusted("https://co.uk/t", "https://reg.co.uk"));
        let c = parse_challenge("realm=https://x/t, service=s");
        assert_eq!(
            (c["realm"].as_str(), c["service"].as_str()),
            ("https://x/t", "s")
        );
    }
}
