//! The recorded-data backend: refs read from `DIR/refs/<owner>__<repo>.json` (the format of
//! `testdata/recorded/refs/README.md`), never from the network. For air-gapped machines, and
//! for a demonstration that must run anywhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::FetchError;
use crate::refs::RepoRefs;
use crate::repo_id::RepoId;

/// The largest recorded refs file read (the largest real one is under 1 MB).
const MAX_FILE: u64 = 32 * 1024 * 1024;

/// The recorded refs of a folder, indexed once by lowercase file name (GitHub names are
/// case-insensitive; the files keep the repositories' own case).
#[derive(Debug)]
pub(crate) struct Recorded {
    refs_dir: PathBuf,
    index: OnceLock<HashMap<String, PathBuf>>,
}

impl Recorded {
    /// The recorded data in `dir` (refs in `dir/refs`).
    pub(crate) fn new(dir: &Path) -> Self {
        Recorded {
            refs_dir: dir.join("refs"),
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &HashMap<String, PathBuf> {
        self.index.get_or_init(|| {
            let Ok(entries) = std::fs::read_dir(&self.refs_dir) else {
                return HashMap::new();
            };
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_ascii_lowercase();
                    name.ends_with(".json").then(|| (name, e.path()))
                })
                .collect()
        })
    }

    /// The refs recorded for `repo`.
    pub(crate) fn load(&self, repo: &RepoId) -> Result<RepoRefs, FetchError> {
        let not_recorded = || FetchError::NotRecorded {
            path: self.refs_dir.join(file_name(repo)).display().to_string(),
        };
        let path = self
            .index()
            .get(&repo.cache_file_name())
            .ok_or_else(not_recorded)?;
        let bad = |what: String| FetchError::BadResponse(format!("{}: {what}", path.display()));
        let text = crate::safe_read::read_bytes(&self.refs_dir, path, MAX_FILE)
            .map_err(|e| bad(e.to_string()))?;
        let refs: RepoRefs =
            serde_json::from_slice(&text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        match refs.first_invalid_sha() {
            Some(sha) => Err(bad(format!(
                "`{}` is not a 40-character commit SHA",
                sha.chars().take(60).collect::<String>()
            ))),
            None => Ok(refs),
        }
    }
}

/// `<owner>__<repo>.json`, as the recorded data names a repository's file.
fn file_name(repo: &RepoId) -> String {
    format!("{}__{}.json", repo.owner, repo.repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join("refs")).expect("mkdir");
        std::fs::write(dir.join("refs").join(name), text).expect("write");
    }

    #[test]
    fn reads_a_recorded_file_whatever_the_case() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sha = "0123456789abcdef0123456789abcdef01234567";
        write(
            dir.path(),
            "Owner__Repo.json",
            &format!(
                r#"{{"default_branch":"main","head":"{sha}","branches":{{"main":"{sha}"}},"tags":{{"v1":{{"commit":"{sha}","tag_object":null}}}},"extra":1}}"#
            ),
        );
        let recorded = Recorded::new(dir.path());
        let refs = recorded.load(&RepoId::new("owner", "REPO")).expect("found");
        assert_eq!(refs.branches["main"], sha);
        assert_eq!(refs.tags["v1"].commit, sha);
    }

    #[test]
    fn a_missing_repository_names_the_file_to_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let recorded = Recorded::new(dir.path());
        let err = recorded.load(&RepoId::new("a", "b")).expect_err("missing");
        assert!(matches!(&err, FetchError::NotRecorded { path } if path.ends_with("a__b.json")));
        assert!(err.to_string().contains("--recorded"), "{err}");
    }

    #[test]
    fn a_bad_file_is_a_located_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "a__b.json", "{not json");
        write(
            dir.path(),
            "a__c.json",
            r#"{"tags":{"v1":{"commit":"main"}}}"#,
        );
        let recorded = Recorded::new(dir.path());
        let err = recorded.load(&RepoId::new("a", "b")).expect_err("bad");
        assert!(err.to_string().contains("a__b.json: invalid JSON"), "{err}");
        let err = recorded.load(&RepoId::new("a", "c")).expect_err("bad sha");
        assert!(err.to_string().contains("not a 40-character"), "{err}");
    }
}
