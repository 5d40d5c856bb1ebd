//! Counters of what a resolver did.

pub(crate) use crate::plumbing::bump;

crate::statistics! {
    /// What a [`crate::Resolver`] did so far.
    pub struct ResolverStats counted by Counters {
        /// HTTP requests sent (retries and pages included).
        requests,
        /// Repositories answered from the disk cache.
        cache_hits,
        /// Repositories answered from memory (fetched earlier by the same resolver).
        memory_hits,
        /// Repositories fetched over the network successfully.
        fetched,
        /// Repositories whose fetch failed.
        failed,
        /// Requests repeated after a 5xx answer or a network failure.
        retries,
        /// Waits for a rate limit.
        rate_limit_waits,
        /// Repositories read from a protocol v0 advertisement (server without protocol v2).
        v0_fallbacks,
        /// Repositories fetched through the REST API after git smart HTTP asked for authentication.
        api_fallbacks,
        /// Cache files written.
        cache_writes,
    }
}
