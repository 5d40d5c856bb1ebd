//! Registry client settings, read from the environment: `HARDEN_REGISTRY_MIRRORS` and the
//! cache folder shared with the action resolver.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use harden_github::ResolverConfig;

use crate::credentials::{load_docker_config, Credentials};
use crate::error::Error;
use crate::reference::DOCKER_HUB;

/// The mirror key that applies to every registry not named on its own.
pub const ANY_REGISTRY: &str = "*";

/// Settings of a [`crate::Registry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// Registry host (`docker.io`, `ghcr.io`, `*`) -> base URL its requests go to instead. A
    /// `{registry}` in the URL is replaced by the registry host.
    pub mirrors: BTreeMap<String, String>,
    /// Credentials by the host they are for (the host harden contacts: `registry-1.docker.io`
    /// for Docker Hub, a mirror's host for a mirror), from Docker's `config.json`.
    pub credentials: BTreeMap<String, Credentials>,
    /// Where resolved digests are cached (an `images/` folder inside); `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// How long a cache entry is used without asking again.
    pub cache_ttl: Duration,
    /// Ignore cache entries (but still write them).
    pub refresh: bool,
    /// Use only the cache, whatever its age.
    pub offline: bool,
    /// How many references are resolved at the same time.
    pub jobs: usize,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
    /// Retries after a 5xx answer or a network failure.
    pub max_retries: u32,
    /// Wait before the first retry (doubled for each further one).
    pub retry_backoff: Duration,
    /// The longest total wait for `429 Too Many Requests` per request.
    pub max_rate_limit_wait: Duration,
    /// The largest response body read (token answers, error documents).
    pub max_body: usize,
}

impl Default for RegistryConfig {
    /// No mirrors, no credentials, no cache, 1 MiB bodies, and the cache, concurrency, time and
    /// retry settings of [`ResolverConfig::default`] (one hour TTL, 8 jobs, 30 s timeout,
    /// 2 retries, at most 60 s of rate-limit waiting): the binary sets both from the same flags.
    fn default() -> Self {
        let shared = ResolverConfig::default();
        RegistryConfig {
            mirrors: BTreeMap::new(),
            credentials: BTreeMap::new(),
            cache_dir: None,
            cache_ttl: shared.cache_ttl,
            refresh: shared.refresh,
            offline: shared.offline,
            jobs: shared.jobs,
            timeout: shared.timeout,
            max_retries: shared.max_retries,
            retry_backoff: shared.retry_backoff,
            max_rate_limit_wait: shared.max_rate_limit_wait,
            max_body: 1 << 20,
        }
    }
}

impl RegistryConfig {
    /// Defaults with `HARDEN_REGISTRY_MIRRORS` and the cache folder of `HARDEN_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/harden`, else `~/.cache/harden`.
    pub fn from_env() -> Result<Self, Error> {
        RegistryConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`RegistryConfig::from_env`], reading variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut config = RegistryConfig::default();
        if let Some(text) = get("HARDEN_REGISTRY_MIRRORS") {
            config.mirrors = parse_mirrors(&text)?;
        }
        let docker_dir = get("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| get("HOME").map(|home| PathBuf::from(home).join(".docker")));
        if let Some(dir) = docker_dir {
            config.credentials = load_docker_config(&dir.join("config.json"));
        }
        config.cache_dir = harden_github::plumbing::cache_dir_from_vars(&var);
        Ok(config)
    }

    /// The base URL requests for `registry` go to (no trailing slash).
    pub fn base_url(&self, registry: &str) -> String {
        let mirror = self
            .mirrors
            .get(registry)
            .or_else(|| self.mirrors.get(ANY_REGISTRY));
        match mirror {
            Some(url) => url.replace("{registry}", registry),
            None if registry == DOCKER_HUB => "https://registry-1.docker.io".to_owned(),
            None => format!("https://{registry}"),
        }
    }
}

/// Parses `docker.io=https://mirror.example,ghcr.io=http://127.0.0.1:5000`.
pub fn parse_mirrors(text: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let invalid = |reason: &str| Error::InvalidMirror {
            entry: entry.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        let (registry, url) = entry
            .split_once('=')
            .ok_or_else(|| invalid("write registry=URL"))?;
        let registry = registry.trim().to_ascii_lowercase();
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
            _ => registry,
        };
        if registry.is_empty() || registry.contains(['/', ' ']) {
            return Err(invalid(
                "the registry is a host name such as docker.io, or *",
            ));
        }
        let url = url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(&url.replace("{registry}", "registry"))
            .map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("only http and https are supported"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("no credentials in the URL"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("no query or fragment allowed"));
        }
        if out.insert(registry, url.to_owned()).is_some() {
            return Err(invalid("this registry is named twice"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors() {
        let config = RegistryConfig::from_vars(|name| {
            (name == "HARDEN_REGISTRY_MIRRORS")
                .then(|| "docker.io=https://m.example/,*=http://127.0.0.1:9/{registry}".to_owned())
        })
        .expect("valid");
        assert_eq!(config.base_url("docker.io"), "https://m.example");
        assert_eq!(config.base_url("ghcr.io"), "http://127.0.0.1:9/ghcr.io");
        let plain = RegistryConfig::default();
        assert_eq!(
            (
                plain.jobs,
                plain.timeout,
                plain.max_retries,
                plain.cache_ttl
            ),
            (8, Duration::from_secs(30), 2, Duration::from_secs(3600))
        );
        assert_eq!(plain.base_url("docker.io"), "https://registry-1.docker.io");
        assert_eq!(plain.base_url("quay.io"), "https://quay.io");
        for bad in [
            "docker.io",
            "x=ftp://a",
            "x=https://u:p@a",
            "x=https://a?q",
            "a=http://x,a=http://y",
        ] {
            assert!(parse_mirrors(bad).is_err(), "{bad}");
        }
    }
}
