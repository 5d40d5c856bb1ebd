//! Resolve GitHub Actions references (`owner/repo@ref`) to commit SHAs and version tags.
//!
//! [`Resolver::fetch_all`] fetches the tags and branches of many repositories, one request per
//! repository (git protocol v2 `ls-refs` over smart HTTP, falling back to the v0 advertisement
//! or the REST API), through a cache. [`RepoRefs::resolve`] then applies the rules of the
//! Actions runner: a full SHA is a commit, a tag wins over a branch, and the comment written
//! beside a pinned SHA is the most precise version tag on the same commit (`v4` → `v4.2.2`).
//!
//! ```no_run
//! use harden_github::{RepoId, Resolver, ResolverConfig};
//!
//! let resolver = Resolver::new(ResolverConfig::from_env())?;
//! let repo = RepoId::parse("actions/checkout")?;
//! let refs = resolver.fetch_all(std::slice::from_ref(&repo));
//! let refs = refs[&repo].as_ref().map_err(|e| format!("{repo}: {e}"))?;
//! let pinned = refs.resolve("v4")?;
//! // e.g. `uses: actions/checkout@<pinned.sha> # <comment, such as v4.2.2>`
//! let _line = format!("actions/checkout@{} # {}", pinned.sha, pinned.comment.unwrap_or_default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod config;
mod dates;
mod error;
mod files;
mod http;
mod parallel;
pub mod pktline;
pub mod plumbing;
mod recorded;
mod redact;
mod refs;
mod repo_id;
mod resolver;
mod rest;
pub mod safe_read;
mod smart_http;
mod stats;
mod version;

pub use config::{ResolverConfig, ResolverMode};
pub use dates::{parse_rfc3339, ReleaseDates, UNAUTHENTICATED_QUOTA};
pub use error::{Error, FetchError, ParseRepoError, ResolveError};
pub use files::{FileReader, FileRef, FileResult, MAX_FILE_BYTES};
pub use redact::redact_userinfo;
pub use refs::{
    is_full_sha, is_safe_branch_name, is_safe_ref_name, RefKind, RepoRefs, Resolved, TagRef,
};
pub use repo_id::RepoId;
pub use resolver::{FetchResult, Resolver};
pub use stats::ResolverStats;
