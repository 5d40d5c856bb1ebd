//! The on-disk cache: one JSON file per repository (`owner__repo.json`, lowercase) holding the
//! refs and the time they were fetched. Files are written atomically (temp file + rename); an
//! unreadable file counts as a miss.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::refs::RepoRefs;
use crate::repo_id::RepoId;

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
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

impl CacheEntry {
    /// Whether the entry is younger than `ttl` at unix time `now`.
    pub fn is_fresh(&self, ttl: Duration, now: u64) -> bool {
        // An entry from the future (clock changes) is treated as stale.
        self.fetched_at <= now && now - self.fetched_at < ttl.as_secs()
    }
}

/// The current unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A cache directory.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The file of one repository.
    pub fn path(&self, repo: &RepoId) -> PathBuf {
        self.dir.join(repo.cache_file_name())
    }

    /// Reads an entry; any error (missing, unreadable, other format, other repo) is a miss.
    pub fn load(&self, repo: &RepoId) -> Option<CacheEntry> {
        let text = fs::read(self.path(repo)).ok()?;
        let file: CacheFile = serde_json::from_slice(&text).ok()?;
        if file.format != FORMAT || !file.repo.eq_ignore_ascii_case(&repo.key()) {
            return None;
        }
        Some(CacheEntry {
            refs: file.refs,
            fetched_at: file.fetched_at,
        })
    }

    /// Writes an entry atomically.
    pub fn store(&self, repo: &RepoId, refs: &RepoRefs, fetched_at: u64) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let file = CacheFile {
            format: FORMAT,
            repo: repo.key(),
            fetched_at,
            refs: refs.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(io::Error::other)?;
        let temp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            repo.cache_file_name(),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = write_and_rename(&temp, &self.path(repo), &json);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

fn write_and_rename(temp: &Path, target: &Path, data: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(temp)?;
    file.write_all(data)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, target)
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
        let cache = Cache::new(dir.path().join("nested"));
        let repo = RepoId::new("Actions", "Checkout");
        assert!(cache.load(&repo).is_none());
        cache.store(&repo, &refs(), 1000).expect("store");
        assert!(dir.path().join("nested/actions__checkout.json").is_file());
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
        let leftovers = fs::read_dir(dir.path().join("nested"))
            .expect("list")
            .count();
        assert_eq!(leftovers, 1, "no temp files left behind");
    }

    #[test]
    fn corrupt_or_foreign_files_are_misses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path());
        let repo = RepoId::new("o", "r");
        fs::write(cache.path(&repo), "{not json").expect("write");
        assert!(cache.load(&repo).is_none());
        cache
            .store(&RepoId::new("o", "other"), &refs(), 1)
            .expect("store");
        fs::copy(cache.path(&RepoId::new("o", "other")), cache.path(&repo)).expect("copy");
        assert!(cache.load(&repo).is_none(), "entry for another repository");
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
