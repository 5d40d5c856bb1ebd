//! The on-disk cache: one JSON file per repository (`owner__repo.json`, lowercase) holding the
//! refs, the time they were fetched and where from, in one folder per source (resolver mode and
//! server URLs, `github.com-git-<hash>`): refs from a GHES, a test server or a tampered answer
//! are never used for another server. Files are written atomically (temp file + rename, no
//! fsync: a lost entry only costs a refetch); an unreadable file, or one from another source,
//! counts as a miss.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::refs::RepoRefs;
use crate::repo_id::RepoId;

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    /// The source the refs came from (see [`Cache::new`]); entries without one are misses.
    #[serde(default)]
    server: Option<String>,
    repo: String,
    fetched_at: u64,
    refs: RepoRefs,
}

/// A cache entry that was read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheEntry {
    pub refs: RepoRefs,
    /// Unix time of the fetch.
    pub fetched_at: u64,
}

/// The largest cache entry read: the refs of the largest answer (64 MiB, the v0 advertisement's
/// limit) fit.
const MAX_ENTRY: u64 = 64 << 20;

impl CacheEntry {
    /// Whether the entry is younger than `ttl` at unix time `now`.
    pub(crate) fn is_fresh(&self, ttl: Duration, now: u64) -> bool {
        crate::plumbing::is_fresh(self.fetched_at, ttl, now)
    }
}

pub(crate) use crate::plumbing::unix_now;

/// A cache directory, for one source.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
    source: String,
}

/// The folder of one source under the cache directory: its host (for people looking at the
/// folder) and a hash of the whole source text (so that two sources never share a folder).
fn source_folder(source: &str) -> String {
    let host = source
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ' ']).next())
        .unwrap_or("server");
    let host: String = host
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mode = source.split(' ').next().unwrap_or("git");
    let hash = crate::plumbing::stable_hash(source.as_bytes());
    format!("{host}-{mode}-{hash:016x}")
}

impl Cache {
    /// The cache under `dir` for `source`: the resolver mode and the server URLs it asks,
    /// such as `git https://github.com api https://api.github.com`.
    pub(crate) fn new(dir: impl Into<PathBuf>, source: &str) -> Self {
        Cache {
            dir: dir.into().join(source_folder(source)),
            source: source.to_owned(),
        }
    }

    /// The file of one repository.
    pub(crate) fn path(&self, repo: &RepoId) -> PathBuf {
        self.dir.join(repo.cache_file_name())
    }

    /// Reads an entry through [`crate::safe_read`] (a link out of the cache folder, a FIFO, a
    /// device or an entry over 64 MiB is never read); any error (missing, refused, unreadable,
    /// other format, other repo) is a miss, and the entry is replaced when the answer is stored.
    pub(crate) fn load(&self, repo: &RepoId) -> Option<CacheEntry> {
        let text = crate::safe_read::read_bytes(&self.dir, &self.path(repo), MAX_ENTRY).ok()?;
        let file: CacheFile = serde_json::from_slice(&text).ok()?;
        if file.format != FORMAT
            || !file.repo.eq_ignore_ascii_case(&repo.key())
            || file.server.as_deref() != Some(self.source.as_str())
        {
            return None;
        }
        Some(CacheEntry {
            refs: file.refs,
            fetched_at: file.fetched_at,
        })
    }

    /// Writes an entry atomically.
    pub(crate) fn store(&self, repo: &RepoId, refs: &RepoRefs, fetched_at: u64) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let file = CacheFile {
            format: FORMAT,
            server: Some(self.source.clone()),
            repo: repo.key(),
            fetched_at,
            refs: refs.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(io::Error::other)?;
        // No fsync (it cost a disk flush per repository on the path of every cold run): after a
        // crash an entry may be missing, empty or cut short, and such a file fails to parse or
        // to match its repository and server in `load`, so it is a miss and costs one refetch.
        crate::plumbing::write_atomically(&self.path(repo), &json, crate::plumbing::Fsync::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::TagRef;

    fn refs() -> RepoRefs {
        let mut refs = RepoRefs {
            default_branch: Some("main".into()),
            ..RepoRefs::default()
        };
        refs.tags.insert(
            "v1".into(),
            TagRef {
                commit: "a".repeat(40),
                tag_object: None,
            },
        );
        refs
    }

    #[test]
    fn stores_and_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path().join("nested"), "git https://github.com");
        let repo = RepoId::new("Actions", "Checkout");
        assert!(cache.load(&repo).is_none());
        cache.store(&repo, &refs(), 1000).expect("store");
        assert!(cache.path(&repo).is_file());
        assert!(cache.path(&repo).ends_with("actions__checkout.json"));
        let entry = cache
            .load(&RepoId::new("actions", "checkout"))
            .expect("hit");
        assert_eq!(
            entry,
            CacheEntry {
                refs: refs(),
                fetched_at: 1000
            }
        );
        let leftovers = fs::read_dir(&cache.dir).expect("list").count();
        assert_eq!(leftovers, 1, "no temp files left behind");
    }

    #[test]
    fn corrupt_or_foreign_files_are_misses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path(), "git https://github.com");
        let repo = RepoId::new("o", "r");
        fs::create_dir_all(&cache.dir).expect("mkdir");
        fs::write(cache.path(&repo), "{not json").expect("write");
        assert!(cache.load(&repo).is_none());
        cache
            .store(&RepoId::new("o", "other"), &refs(), 1)
            .expect("store");
        fs::copy(cache.path(&RepoId::new("o", "other")), cache.path(&repo)).expect("copy");
        assert!(cache.load(&repo).is_none(), "entry for another repository");
    }

    #[test]
    fn entries_of_another_server_are_misses() {
        // Issue 17 point 6: refs from one server were used for github.com.
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = RepoId::new("actions", "checkout");
        let ghes = Cache::new(
            dir.path(),
            "git https://ghes.example api https://ghes.example/api",
        );
        ghes.store(&repo, &refs(), 1).expect("store");
        let github = Cache::new(
            dir.path(),
            "git https://github.com api https://api.github.com",
        );
        assert!(github.load(&repo).is_none());
        assert_ne!(ghes.path(&repo), github.path(&repo));
        // The same file moved into github.com's folder is still refused: it names its server.
        fs::create_dir_all(&github.dir).expect("mkdir");
        fs::copy(ghes.path(&repo), github.path(&repo)).expect("copy");
        assert!(github.load(&repo).is_none());
        let text = fs::read_to_string(ghes.path(&repo)).expect("read");
        assert!(
            text.contains("\"server\":\"git https://ghes.example"),
            "{text}"
        );
        assert!(ghes.load(&repo).is_some());
    }

    #[test]
    fn freshness() {
        let entry = CacheEntry {
            refs: RepoRefs::default(),
            fetched_at: 1000,
        };
        let hour = Duration::from_secs(3600);
        assert!(entry.is_fresh(hour, 1000));
        assert!(entry.is_fresh(hour, 4599));
        assert!(!entry.is_fresh(hour, 4600));
        assert!(!entry.is_fresh(hour, 999), "from the future");
        assert!(!entry.is_fresh(Duration::ZERO, 1000));
    }
}
