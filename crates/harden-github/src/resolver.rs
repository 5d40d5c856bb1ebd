//! The resolver: fetches the refs of many repositories, one request per repository, through
//! an in-memory and an on-disk cache, with a bounded pool of worker threads.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::cache::{unix_now, Cache};
use crate::config::{ResolverConfig, ResolverMode};
use crate::error::{Error, FetchError};
use crate::http::Http;
use crate::recorded::Recorded;
use crate::refs::RepoRefs;
use crate::repo_id::RepoId;
use crate::stats::{bump, Counters, ResolverStats};
use crate::{rest, smart_http};

/// The result of fetching one repository.
pub type FetchResult = Result<Arc<RepoRefs>, FetchError>;

/// Fetches and caches the refs of GitHub repositories.
#[derive(Debug)]
pub struct Resolver {
    config: ResolverConfig,
    server_url: String,
    api_url: String,
    http: Http,
    cache: Option<Cache>,
    /// Recorded data, used instead of the cache and the network when configured.
    recorded: Option<Recorded>,
    memory: Mutex<HashMap<RepoId, Arc<RepoRefs>>>,
    /// Repositories whose fetch failed (missing, refused, timed out, rate limited...), for the
    /// rest of this process: several roots of one run referring to the same failing action
    /// cost one attempt, not one per root.
    missing: Mutex<HashMap<RepoId, FetchError>>,
    /// Per repository, the tag and branch names the server sent that harden refused (see
    /// [`crate::is_safe_ref_name`] and [`crate::is_safe_branch_name`]).
    refused: Mutex<HashMap<RepoId, Vec<String>>>,
    counters: Arc<Counters>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn check_url(what: &'static str, url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/').to_string();
    let invalid = |reason: &str| Error::InvalidUrl {
        what,
        url: crate::redact::redact_userinfo(url),
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(&trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("only http and https are supported"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("put credentials in GITHUB_TOKEN, not in the URL"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("no query or fragment allowed"));
    }
    Ok(trimmed)
}

impl Resolver {
    /// A resolver with these settings.
    pub fn new(config: ResolverConfig) -> Result<Self, Error> {
        let server_url = check_url("server URL", &config.server_url)?;
        let api_url = check_url("API URL", &config.api_url)?;
        let counters = Arc::new(Counters::default());
        let http = Http::new(&config, Arc::clone(&counters))?;
        let source = match config.mode {
            ResolverMode::Git => format!("git {server_url} api {api_url}"),
            ResolverMode::Api => format!("api {api_url}"),
        };
        let cache = config.cache_dir.clone().map(|dir| Cache::new(dir, &source));
        let recorded = config.recorded.as_deref().map(Recorded::new);
        Ok(Resolver {
            config,
            server_url,
            api_url,
            http,
            cache,
            recorded,
            memory: Mutex::new(HashMap::new()),
            missing: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            counters,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// The cache file of `repo` for this resolver's server, if there is a cache.
    pub fn cache_path(&self, repo: &RepoId) -> Option<std::path::PathBuf> {
        self.cache.as_ref().map(|c| c.path(repo))
    }

    /// The tag and branch names of `repo` that the server sent and harden refused because
    /// they hold characters outside [`crate::is_safe_ref_name`]'s set (they are never written
    /// into a file, nor resolved). Empty until the repository was fetched.
    pub fn refused_ref_names(&self, repo: &RepoId) -> Vec<String> {
        lock(&self.refused).get(repo).cloned().unwrap_or_default()
    }

    /// What the resolver did so far.
    pub fn stats(&self) -> ResolverStats {
        self.counters.snapshot()
    }

    /// Fetches the refs of many repositories: one request per unique repository (repositories
    /// already fetched by this resolver or fresh in the cache make none), at most `jobs` at a
    /// time. Repositories that differ only in case are the same.
    pub fn fetch_all(&self, repos: &[RepoId]) -> HashMap<RepoId, FetchResult> {
        let mut seen = HashSet::new();
        let mut results = HashMap::new();
        // Repositories answered without a request (memory, recorded data, a fresh cache entry:
        // `fetch_local`) need no thread: a run that fetched everything up front then asks
        // again per repository at no cost, and a warm run starts none.
        let unique: Vec<&RepoId> = repos
            .iter()
            .filter(|r| seen.insert(*r))
            .filter(|r| match self.fetch_local(r) {
                Some(answer) => {
                    results.insert((*r).clone(), answer);
                    false
                }
                None => true,
            })
            .collect();
        let workers = self.config.jobs.clamp(1, 64);
        let fetched = crate::parallel::on_threads(&unique, workers, |repo| self.fetch(repo));
        results.extend(unique.into_iter().cloned().zip(fetched));
        results
    }

    /// Fetches the refs of one repository (memory, then cache, then network).
    pub fn fetch(&self, repo: &RepoId) -> FetchResult {
        if let Some(answer) = self.fetch_local(repo) {
            return answer;
        }
        if self.config.offline {
            bump(&self.counters.failed);
            return Err(FetchError::NotCached);
        }
        let checked = self
            .fetch_remote(repo)
            .and_then(|refs| match refs.first_invalid_sha() {
                Some(bad) => Err(FetchError::BadResponse(format!(
                    "`{}` is not a 40-character commit SHA",
                    bad.chars().take(60).collect::<String>()
                ))),
                None => Ok(refs),
            });
        match checked {
            Ok(refs) => {
                bump(&self.counters.fetched);
                if let Some(cache) = &self.cache {
                    // A cache that cannot be written only costs a refetch next time. It
                    // holds the answer as sent: every read refuses unsafe names again.
                    if cache.store(repo, &refs, unix_now()).is_ok() {
                        bump(&self.counters.cache_writes);
                    }
                }
                let refs = self.refuse_unsafe_names(repo, refs);
                Ok(self.remember(repo, refs))
            }
            Err(error) => {
                bump(&self.counters.failed);
                lock(&self.missing).insert(repo.clone(), error.clone());
                Err(error)
            }
        }
    }

    /// The answer [`Resolver::fetch`] gives without a request (from memory, the recorded data
    /// or a fresh cache entry), or `None` when it needs the network (or, offline, would fail).
    /// Lets a caller start a fetching thread only for the repositories that need one.
    pub fn fetch_local(&self, repo: &RepoId) -> Option<FetchResult> {
        if let Some(refs) = lock(&self.memory).get(repo) {
            bump(&self.counters.memory_hits);
            return Some(Ok(Arc::clone(refs)));
        }
        if let Some(error) = lock(&self.missing).get(repo) {
            bump(&self.counters.memory_hits);
            return Some(Err(error.clone()));
        }
        if let Some(recorded) = &self.recorded {
            return Some(self.fetch_recorded(recorded, repo));
        }
        let refs = self.cached(repo)?;
        bump(&self.counters.cache_hits);
        let refs = self.refuse_unsafe_names(repo, refs);
        Some(Ok(self.remember(repo, refs)))
    }

    /// Refs from recorded data: no cache, no network.
    fn fetch_recorded(&self, recorded: &Recorded, repo: &RepoId) -> FetchResult {
        match recorded.load(repo) {
            Ok(refs) => {
                bump(&self.counters.cache_hits);
                let refs = self.refuse_unsafe_names(repo, refs);
                Ok(self.remember(repo, refs))
            }
            Err(error) => {
                bump(&self.counters.failed);
                lock(&self.missing).insert(repo.clone(), error.clone());
                Err(error)
            }
        }
    }

    /// Removes tags whose names are not [`crate::is_safe_ref_name`] and branches whose names
    /// are not [`crate::is_safe_branch_name`] (a server's names end up in version comments and
    /// messages), and remembers them for the note
    /// [`Resolver::refused_ref_names`] gives.
    fn refuse_unsafe_names(&self, repo: &RepoId, mut refs: RepoRefs) -> RepoRefs {
        let mut refused: Vec<String> = Vec::new();
        refs.tags.retain(|name, _| {
            let safe = crate::refs::is_safe_ref_name(name);
            if !safe {
                refused.push(name.clone());
            }
            safe
        });
        refs.branches.retain(|name, _| {
            let safe = crate::refs::is_safe_branch_name(name);
            if !safe {
                refused.push(name.clone());
            }
            safe
        });
        if refs
            .default_branch
            .as_deref()
            .is_some_and(|b| !crate::refs::is_safe_branch_name(b))
        {
            refs.default_branch = None;
        }
        if !refused.is_empty() {
            lock(&self.refused).insert(repo.clone(), refused);
        }
        refs
    }

    fn remember(&self, repo: &RepoId, refs: RepoRefs) -> Arc<RepoRefs> {
        let refs = Arc::new(refs);
        lock(&self.memory).insert(repo.clone(), Arc::clone(&refs));
        refs
    }

    fn cached(&self, repo: &RepoId) -> Option<RepoRefs> {
        let cache = self.cache.as_ref()?;
        if self.config.refresh && !self.config.offline {
            return None;
        }
        let entry = cache.load(repo)?;
        if entry.refs.first_invalid_sha().is_some() {
            return None;
        }
        (self.config.offline || entry.is_fresh(self.config.cache_ttl, unix_now()))
            .then_some(entry.refs)
    }

    fn fetch_remote(&self, repo: &RepoId) -> Result<RepoRefs, FetchError> {
        let token = self.config.token.as_deref();
        match self.config.mode {
            ResolverMode::Api => rest::fetch(&self.http, &self.api_url, repo, token),
            ResolverMode::Git => match smart_http::fetch(&self.http, &self.server_url, repo, token)
            {
                Err(FetchError::AuthRequired { .. }) if token.is_some() => {
                    bump(&self.counters.api_fallbacks);
                    rest::fetch(&self.http, &self.api_url, repo, token)
                }
                other => other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Resolver>();
    }

    #[test]
    fn rejects_bad_urls() {
        let bad = |server: &str| {
            let config = ResolverConfig {
                server_url: server.into(),
                ..ResolverConfig::default()
            };
            Resolver::new(config).expect_err("invalid").to_string()
        };
        assert!(bad("ftp://github.com").contains("only http and https"));
        assert!(bad("https://user:secret@github.com").contains("GITHUB_TOKEN"));
        // Issue 17 point 11: the credentials were printed in the error.
        let message = bad("https://user:secret@github.com");
        assert!(
            !message.contains("secret") && !message.contains("user:"),
            "{message}"
        );
        assert!(message.contains("https://***@github.com"), "{message}");
        assert!(bad("not a url").contains("server URL"));
        assert!(bad("https://github.com/?x=1").contains("no query"));
    }

    #[test]
    fn normalises_trailing_slash() {
        let config = ResolverConfig {
            server_url: "https://github.com/".into(),
            ..ResolverConfig::default()
        };
        let resolver = Resolver::new(config).expect("valid");
        assert_eq!(resolver.server_url, "https://github.com");
    }

    #[test]
    fn fetch_local_answers_from_the_cache_and_never_asks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ResolverConfig {
            cache_dir: Some(dir.path().into()),
            ..ResolverConfig::default()
        };
        let resolver = Resolver::new(config).expect("valid");
        let cached = RepoId::new("o", "cached");
        assert!(resolver.fetch_local(&cached).is_none(), "not cached yet");
        let refs = RepoRefs {
            default_branch: Some("main".into()),
            ..RepoRefs::default()
        };
        let cache = resolver.cache.clone().expect("a cache");
        cache.store(&cached, &refs, unix_now()).expect("store");
        assert!(matches!(resolver.fetch_local(&cached), Some(Ok(_))));
        assert!(resolver.fetch_local(&RepoId::new("o", "other")).is_none());
        assert_eq!(resolver.stats().requests, 0);
    }

    #[test]
    fn offline_without_cache_is_not_cached() {
        let config = ResolverConfig {
            offline: true,
            ..ResolverConfig::default()
        };
        let resolver = Resolver::new(config).expect("valid");
        let results = resolver.fetch_all(&[RepoId::new("a", "b"), RepoId::new("A", "B")]);
        assert_eq!(results.len(), 1);
        assert_eq!(
            results
                .get(&RepoId::new("a", "b"))
                .cloned()
                .map(|r| r.err()),
            Some(Some(FetchError::NotCached))
        );
        assert_eq!(resolver.stats().requests, 0);
    }
}
