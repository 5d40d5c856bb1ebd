//! Resolve container image tags to manifest digests over the OCI distribution API, so that
//! `image:tag` can be pinned as `image:tag@sha256:<digest>`.
//!
//! [`Registry::resolve_all`] resolves many references at once (a bounded pool of threads),
//! each with one `HEAD /v2/<name>/manifests/<tag>` asking for image indexes and manifests
//! (plus one anonymous token request per repository when the registry answers with a
//! `WWW-Authenticate: Bearer` challenge), through an on-disk cache shared with the action
//! resolver's folder. `HARDEN_REGISTRY_MIRRORS` sends a registry's requests elsewhere.
//!
//! ```no_run
//! use harden_registry::{ImageRef, Registry, RegistryConfig};
//!
//! let registry = Registry::new(RegistryConfig::from_env()?)?;
//! let image = ImageRef::parse("alpine:3.20")?;
//! let resolved = registry.resolve(&image)?;
//! let _pinned = format!("alpine:3.20@{}", resolved.digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod client;
mod config;
mod credentials;
mod error;
mod reference;
mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use harden_github::plumbing::{is_fresh, on_threads, unix_now};

pub use client::MANIFEST_TYPES;
pub use config::{parse_mirrors, RegistryConfig, ANY_REGISTRY};
pub use credentials::{credential_host, load_docker_config, Credentials};
pub use error::{Error, RegistryError};
pub use reference::{valid_digest, ImageRef, ParseImageError, DOCKER_HUB};
pub use stats::RegistryStats;

use cache::Cache;
use stats::{bump, Counters};

/// What a tag resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `sha256:<64 hex>`: the digest of the manifest or image index the tag names.
    pub digest: String,
    /// The media type the registry gave for it, when it said.
    pub media_type: Option<String>,
}

/// The result of resolving one reference.
pub type DigestResult = Result<Resolved, RegistryError>;

/// Resolves and caches image digests. One per run; shareable between threads.
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    http: client::Http,
    cache: Option<Cache>,
    /// One cell per `registry/repository:tag`: concurrent askers wait for the first one.
    memo: Mutex<HashMap<String, Arc<OnceLock<DigestResult>>>>,
    counters: Counters,
}

impl Registry {
    /// A client with these settings.
    pub fn new(config: RegistryConfig) -> Result<Self, Error> {
        Ok(Registry {
            http: client::Http::new(&config)?,
            cache: config.cache_dir.as_deref().map(Cache::new),
            config,
            memo: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// What the client did so far.
    pub fn stats(&self) -> RegistryStats {
        self.counters.snapshot()
    }

    /// Resolves many references, at most `jobs` at a time; the results are keyed by
    /// [`ImageRef::key`]. A reference asked before (by this client) costs nothing.
    pub fn resolve_all(&self, images: &[ImageRef]) -> HashMap<String, DigestResult> {
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&ImageRef> = images.iter().filter(|i| seen.insert(i.key())).collect();
        on_threads(&unique, self.config.jobs.clamp(1, 64), |image| {
            (image.key(), self.resolve(image))
        })
        .into_iter()
        .collect()
    }

    /// Resolves one reference's tag (`latest` when none is written): memory, then the disk
    /// cache, then the registry.
    pub fn resolve(&self, image: &ImageRef) -> DigestResult {
        let key = image.key();
        let cell = {
            let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(memo.entry(key.clone()).or_default())
        };
        cell.get_or_init(|| self.resolve_uncached(image, &key))
            .clone()
    }

    fn resolve_uncached(&self, image: &ImageRef, key: &str) -> DigestResult {
        // The cache is kept per server: a digest a mirror or a test stand-in gave is never used
        // for the registry itself, nor the other way round.
        let key = &format!("{} {key}", self.config.base_url(&image.registry));
        if let Some(cache) = &self.cache {
            if !self.config.refresh || self.config.offline {
                if let Some((resolved, at)) = cache.load(key) {
                    if self.config.offline || is_fresh(at, self.config.cache_ttl, unix_now()) {
                        bump(&self.counters.cache_hits);
                        return Ok(resolved);
                    }
                }
            }
        }
        if self.config.offline {
            bump(&self.counters.failed);
            return Err(RegistryError::NotCached);
        }
        match self.http.resolve(image, &self.counters) {
            Ok(resolved) => {
                bump(&self.counters.fetched);
                if let Some(cache) = &self.cache {
                    // A cache that cannot be written only costs a request next time.
                    let _ = cache.store(key, &resolved, unix_now());
                }
                Ok(resolved)
            }
            Err(e) => {
                bump(&self.counters.failed);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Registry>();
    }

    #[test]
    fn offline_without_cache_is_not_cached() {
        let registry = Registry::new(RegistryConfig {
            offline: true,
            ..RegistryConfig::default()
        })
        .expect("client");
        let image = ImageRef::parse("alpine:3").expect("valid");
        assert_eq!(registry.resolve(&image), Err(RegistryError::NotCached));
        assert_eq!(registry.stats().requests, 0);
    }
}
