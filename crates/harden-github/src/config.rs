//! Resolver settings and how they are read from the environment.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How refs are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResolverMode {
    /// Git smart HTTP (`ls-refs`, one request per repository), falling back to the REST API for
    /// a repository that needs authentication when a token is set.
    #[default]
    Git,
    /// The REST API only.
    Api,
}

/// Settings of a [`crate::Resolver`]. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// The git server, e.g. `https://github.com`.
    pub server_url: String,
    /// The REST API, e.g. `https://api.github.com`.
    pub api_url: String,
    /// A token for private repositories and higher rate limits.
    pub token: Option<String>,
    /// Git smart HTTP or REST.
    pub mode: ResolverMode,
    /// Where fetched refs are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// How long a cache entry is used without refetching.
    pub cache_ttl: Duration,
    /// Ignore cache entries (but still write them).
    pub refresh: bool,
    /// Use only the cache, whatever its age; repositories not in it fail with `NotCached`.
    pub offline: bool,
    /// How many repositories are fetched at the same time.
    pub jobs: usize,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
    /// Retries after a 5xx answer or a network failure.
    pub max_retries: u32,
    /// Wait before the first retry (doubled for each further one).
    pub retry_backoff: Duration,
    /// The longest total wait for rate limits per request; a longer wait fails with
    /// `RateLimited` instead.
    pub max_rate_limit_wait: Duration,
    /// Recorded data instead of the network: refs come from `DIR/refs/<owner>__<repo>.json`
    /// (see `testdata/recorded/refs/README.md`) and files of action repositories from
    /// `DIR/actions/<owner>__<repo>/<path>` (read by [`crate::FileReader`]); no request is made
    /// and the cache is not used.
    pub recorded: Option<PathBuf>,
}

impl fmt::Debug for ResolverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolverConfig")
            .field("server_url", &self.server_url)
            .field("api_url", &self.api_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("mode", &self.mode)
            .field("cache_dir", &self.cache_dir)
            .field("cache_ttl", &self.cache_ttl)
            .field("refresh", &self.refresh)
            .field("offline", &self.offline)
            .field("jobs", &self.jobs)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("max_rate_limit_wait", &self.max_rate_limit_wait)
            .field("recorded", &self.recorded)
            .finish()
    }
}

impl Default for ResolverConfig {
    /// github.com, no token, Git mode, no cache, TTL 1 h, 8 jobs, 30 s timeout, 2 retries,
    /// at most 60 s of rate-limit waiting.
    fn default() -> Self {
        ResolverConfig {
            server_url: "https://github.com".to_string(),
            api_url: "https://api.github.com".to_string(),
            token: None,
            mode: ResolverMode::Git,
            cache_dir: None,
            cache_ttl: Duration::from_secs(3600),
            refresh: false,
            offline: false,
            jobs: 8,
            timeout: Duration::from_secs(30),
            max_retries: 2,
            retry_backoff: Duration::from_millis(500),
            max_rate_limit_wait: Duration::from_secs(60),
            recorded: None,
        }
    }
}

impl ResolverConfig {
    /// Defaults, with `GITHUB_SERVER_URL`, `GITHUB_API_URL`, the token from `GITHUB_TOKEN` then
    /// `GH_TOKEN`, and the cache in `HARDEN_CACHE_DIR`, else `$XDG_CACHE_HOME/harden`, else
    /// `~/.cache/harden` (`%LOCALAPPDATA%\harden` on Windows), and recorded data from
    /// `HARDEN_RECORDED`. Empty variables count as unset.
    pub fn from_env() -> Self {
        ResolverConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`ResolverConfig::from_env`], reading variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut config = ResolverConfig::default();
        if let Some(url) = get("GITHUB_SERVER_URL") {
            config.server_url = url.trim_end_matches('/').to_string();
        }
        if let Some(url) = get("GITHUB_API_URL") {
            config.api_url = url.trim_end_matches('/').to_string();
        }
        config.token = get("GITHUB_TOKEN")
            .or_else(|| get("GH_TOKEN"))
            .map(|t| t.trim().to_string());
        config.cache_dir = crate::plumbing::cache_dir_from_vars(&var);
        config.recorded = get("HARDEN_RECORDED").map(PathBuf::from);
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> ResolverConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ResolverConfig::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_without_environment() {
        let config = from(&[]);
        assert_eq!(config.server_url, "https://github.com");
        assert_eq!(config.api_url, "https://api.github.com");
        assert_eq!(config.token, None);
        assert_eq!(config.cache_dir, None);
        assert_eq!(config.cache_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn reads_urls_token_and_cache_dir() {
        let config = from(&[
            ("GITHUB_SERVER_URL", "https://ghe.example.com/"),
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3"),
            ("GITHUB_TOKEN", ""),
            ("GH_TOKEN", "gh-token"),
            ("HOME", "/home/u"),
        ]);
        assert_eq!(config.server_url, "https://ghe.example.com");
        assert_eq!(config.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(config.token.as_deref(), Some("gh-token"));
        assert_eq!(
            config.cache_dir,
            Some(PathBuf::from("/home/u/.cache/harden"))
        );
        let first = from(&[
            ("GITHUB_TOKEN", "a"),
            ("GH_TOKEN", "b"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(first.token.as_deref(), Some("a"));
        assert_eq!(first.cache_dir, Some(PathBuf::from("/x/harden")));
        let explicit = from(&[("HARDEN_CACHE_DIR", "/c"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(explicit.cache_dir, Some(PathBuf::from("/c")));
        assert_eq!(explicit.recorded, None);
        let recorded = from(&[("HARDEN_RECORDED", "/r")]);
        assert_eq!(recorded.recorded, Some(PathBuf::from("/r")));
    }

    #[test]
    fn debug_hides_the_token() {
        let config = ResolverConfig {
            token: Some("ghp_secret".into()),
            ..ResolverConfig::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("ghp_secret"));
        assert!(text.contains("<redacted>"));
    }
}
