//! Counters of what a resolver did.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a [`crate::Resolver`] did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolverStats {
    /// HTTP requests sent (retries and pages included).
    pub requests: u64,
    /// Repositories answered from the disk cache.
    pub cache_hits: u64,
    /// Repositories answered from memory (fetched earlier by the same resolver).
    pub memory_hits: u64,
    /// Repositories fetched over the network successfully.
    pub fetched: u64,
    /// Repositories whose fetch failed.
    pub failed: u64,
    /// Requests repeated after a 5xx answer or a network failure.
    pub retries: u64,
    /// Waits for a rate limit.
    pub rate_limit_waits: u64,
    /// Repositories read from a protocol v0 advertisement (server without protocol v2).
    pub v0_fallbacks: u64,
    /// Repositories fetched through the REST API after git smart HTTP asked for authentication.
    pub api_fallbacks: u64,
    /// Cache files written.
    pub cache_writes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub cache_hits: AtomicU64,
    pub memory_hits: AtomicU64,
    pub fetched: AtomicU64,
    pub failed: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limit_waits: AtomicU64,
    pub v0_fallbacks: AtomicU64,
    pub api_fallbacks: AtomicU64,
    pub cache_writes: AtomicU64,
}

pub(crate) use crate::plumbing::bump;

impl Counters {
    pub(crate) fn snapshot(&self) -> ResolverStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ResolverStats {
            requests: get(&self.requests),
            cache_hits: get(&self.cache_hits),
            memory_hits: get(&self.memory_hits),
            fetched: get(&self.fetched),
            failed: get(&self.failed),
            retries: get(&self.retries),
            rate_limit_waits: get(&self.rate_limit_waits),
            v0_fallbacks: get(&self.v0_fallbacks),
            api_fallbacks: get(&self.api_fallbacks),
            cache_writes: get(&self.cache_writes),
        }
    }
}
