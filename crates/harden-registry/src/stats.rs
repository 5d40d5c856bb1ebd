//! Counters of what a registry client did.

pub(crate) use harden_github::plumbing::bump;

harden_github::statistics! {
    /// What a [`crate::Registry`] did so far.
    pub struct RegistryStats counted by Counters {
        /// HTTP requests sent (token requests and retries included).
        requests,
        /// References answered from the disk cache.
        cache_hits,
        /// References resolved over the network.
        fetched,
        /// References whose resolution failed.
        failed,
        /// Requests repeated after a 5xx answer or a network failure.
        retries,
        /// Waits for a `429`.
        rate_limit_waits,
    }
}
