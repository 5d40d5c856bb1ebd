//! The on-disk cache: one JSON file per resolved `registry/repository:tag` under
//! `<cache dir>/images/`, holding the digest and when it was fetched. Files are written
//! atomically (`harden_github::plumbing::write_atomically`); an unreadable or foreign file is a miss.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use harden_github::plumbing::{write_atomically, Fsync};

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

/// The `images/` folder of a cache directory.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

/// A file name for a key: `[a-z0-9.-]` kept, every other byte as `_xx` (so two keys never
/// share a file); long names end in a stable hash instead (the key inside the file is
/// checked).
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
        let hash = harden_github::plumbing::stable_hash(key.as_bytes());
        name.truncate(160);
        name.push_str(&format!("_{hash:016x}"));
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
        // An entry is a few hundred bytes: a larger file is not read at all.
        // Through the one door: a link out of the cache folder, a FIFO or a device is a miss.
        let path = self.path(key);
        let bytes = harden_github::safe_read::read_bytes(&self.dir, &path, 64 * 1024).ok()?;
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
        write_atomically(&self.path(key), &json, Fsync::Yes)
    }
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
        let leftovers = fs::read_dir(dir.path().join("images"))
            .expect("list")
            .count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn a_file_holding_another_key_is_a_miss() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path());
        let r = Resolved {
            digest: format!("sha256:{}", "c".repeat(64)),
            media_type: None,
        };
        cache
            .store("docker.io/library/alpine:3", &r, 100)
            .expect("store");
        let other = "docker.io/library/alpine:4";
        fs::copy(cache.path("docker.io/library/alpine:3"), cache.path(other)).expect("copy");
        assert!(cache.load(other).is_none());
    }
}
