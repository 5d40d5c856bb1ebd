//! Counters of what a registry client did.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a [`crate::Registry`] did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// HTTP requests sent (token requests and retries included).
    pub requests: u64,
    /// References answered from the disk cache.
    pub cache_hits: u64,
    /// References resolved over the network.
    pub fetched: u64,
    /// References whose resolution failed.
    pub failed: u64,
    /// Requests repeated after a 5xx answer or a network failure.
    pub retries: u64,
    /// Waits for a `429`.
    pub rate_limit_waits: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub cache_hits: AtomicU64,
    pub fetched: AtomicU64,
    pub failed: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limit_waits: AtomicU64,
}

pub(crate) use harden_github::plumbing::bump;

impl Counters {
    pub(crate) fn snapshot(&self) -> RegistryStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RegistryStats {
            requests: get(&self.requests),
            cache_hits: get(&self.cache_hits),
            fetched: get(&self.fetched),
            failed: get(&self.failed),
            retries: get(&self.retries),
            rate_limit_waits: get(&self.rate_limit_waits),
        }
    }
}
