//! The on-disk cache: one JSON file per resolved `registry/repository:tag` under
//! `<cache dir>/images/`, holding the digest and when it was fetched. Files are written
//! atomically (temporary file + rename); an unreadable or foreign file is a miss.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::Resolved;

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    image: String,
    fetched_at: u64,
    digest: String,
    media_type: Option<String>,
}

/// The current unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `images/` folder of a cache directory.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

/// A file name for a key: `[a-z0-9.-]` kept, every other byte as `_xx` (so two keys never
/// share a file); long names end in a hash instead (the key inside the file is checked).
fn file_name(key: &str) -> String {
    let mut name = String::with_capacity(key.len() + 8);
    for b in key.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' {
            name.push(b as char);
        } else {
            name.push_str(&format!("_{b:02x}"));
        }
    }
    if name.len() > 180 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        name.truncate(160);
        name.push_str(&format!("_{:016x}", hasher.finish()));
    }
    name.push_str(".json");
    name
}

impl Cache {
    pub(crate) fn new(dir: &Path) -> Self {
        Cache {
            dir: dir.join("images"),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(file_name(key))
    }

    /// The entry for `key` and its fetch time; any problem is a miss.
    pub(crate) fn load(&self, key: &str) -> Option<(Resolved, u64)> {
        let bytes = fs::read(self.path(key)).ok()?;
        if bytes.len() > 64 * 1024 {
            return None;
        }
        let file: CacheFile = serde_json::from_slice(&bytes).ok()?;
        if file.format != FORMAT
            || file.image != key
            || !crate::reference::valid_digest(&file.digest)
        {
            return None;
        }
        Some((
            Resolved {
                digest: file.digest,
                media_type: file.media_type,
            },
            file.fetched_at,
        ))
    }

    /// Writes the entry for `key` atomically.
    pub(crate) fn store(&self, key: &str, resolved: &Resolved, fetched_at: u64) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let file = CacheFile {
            format: FORMAT,
            image: key.to_owned(),
            fetched_at,
            digest: resolved.digest.clone(),
            media_type: resolved.media_type.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(io::Error::other)?;
        // `tempfile` in the cache folder, synced, persisted over the entry; a failed write
        // leaves no temporary file behind.
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        temp.write_all(&json)?;
        temp.as_file().sync_all()?;
        temp.persist(self.path(key)).map(drop).map_err(|e| e.error)
    }
}

/// Whether an entry fetched at `fetched_at` is younger than `ttl` at `now` (an entry from the
/// future is stale).
pub(crate) fn is_fresh(fetched_at: u64, ttl: Duration, now: u64) -> bool {
    fetched_at <= now && now - fetched_at < ttl.as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path());
        let key = "docker.io/library/alpine:3";
        assert!(cache.load(key).is_none());
        let r = Resolved {
            digest: format!("sha256:{}", "b".repeat(64)),
            media_type: Some("application/vnd.oci.image.index.v1+json".into()),
        };
        cache.store(key, &r, 100).expect("store");
        assert_eq!(cache.load(key), Some((r, 100)));
        assert!(cache.load("docker.io/library/alpine_3").is_none());
        assert_eq!(file_name("a/b:c"), "a_2fb_3ac.json");
        assert_ne!(file_name("a_b"), file_name("a/b"));
        assert!(file_name(&"x".repeat(400)).len() < 200);
        assert!(is_fresh(100, Duration::from_secs(10), 105));
        assert!(!is_fresh(100, Duration::from_secs(10), 110));
        assert!(!is_fresh(100, Duration::from_secs(10), 99));
    }
}
