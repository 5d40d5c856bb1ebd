//! Recorded ref data: loading `<owner>__<repo>.json` files and listing refs.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One recorded tag: the commit it finally points to and, for an annotated tag, the tag object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordedTag {
    /// The commit the tag finally points to (annotated tags and tags of tags are peeled).
    pub commit: String,
    /// The SHA of the annotated tag object, or `None` for a lightweight tag.
    #[serde(default)]
    pub tag_object: Option<String>,
}

/// The recorded refs of one repository, as stored in `shared/refs/<owner>__<repo>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordedRepo {
    /// `owner/repo` with its original case (from the `repo` key or the file name).
    #[serde(default, rename = "repo")]
    pub full_name: String,
    /// The default branch (HEAD's target), e.g. `main`.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// The commit of HEAD.
    #[serde(default)]
    pub head: Option<String>,
    /// Branch name (without `refs/heads/`) to commit.
    #[serde(default)]
    pub branches: BTreeMap<String, String>,
    /// Tag name (without `refs/tags/`) to tag.
    #[serde(default)]
    pub tags: BTreeMap<String, RecordedTag>,
    /// The repository's default token permissions (`read` or `write`), served at
    /// `/repos/{owner}/{repo}/actions/permissions/workflow`; absent: that endpoint answers
    /// 404, as GitHub does for a token that cannot administer the repository.
    #[serde(default)]
    pub workflow_permissions: Option<String>,
    /// Commit or annotated tag object SHA (lowercase) to its date (RFC 3339, such as
    /// `2024-05-01T12:00:00Z`): the committer and author date of a commit, the tagger date of a
    /// tag object. Objects not listed are dated [`DEFAULT_DATE`].
    #[serde(default)]
    pub dates: BTreeMap<String, String>,
}

/// The date of a commit or tag object that [`RecordedRepo::dates`] does not list.
pub const DEFAULT_DATE: &str = "2024-01-01T00:00:00Z";

/// One advertised ref: full name, the object it points to, and the peeled commit for annotated tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertisedRef {
    /// Full ref name, e.g. `refs/tags/v1`.
    pub name: String,
    /// The object the ref points to (a tag object for annotated tags).
    pub oid: String,
    /// For annotated tags: the commit the tag peels to.
    pub peeled: Option<String>,
}

impl RecordedRepo {
    /// A new empty repository with the given `owner/repo` name and default branch `main`.
    pub fn new(full_name: &str) -> Self {
        RecordedRepo {
            full_name: full_name.to_string(),
            default_branch: Some("main".to_string()),
            head: None,
            branches: BTreeMap::new(),
            tags: BTreeMap::new(),
            workflow_permissions: None,
            dates: BTreeMap::new(),
        }
    }

    /// Sets the default token permissions the Actions settings endpoint answers.
    pub fn with_workflow_permissions(mut self, access: &str) -> Self {
        self.workflow_permissions = Some(access.to_string());
        self
    }

    /// Dates a commit or annotated tag object (RFC 3339, such as `2024-05-01T12:00:00Z`).
    pub fn with_date(mut self, sha: &str, date: &str) -> Self {
        self.dates
            .insert(sha.to_ascii_lowercase(), date.to_string());
        self
    }

    /// The date of a commit or annotated tag object (see [`RecordedRepo::dates`]).
    pub fn date_of(&self, sha: &str) -> &str {
        self.dates
            .get(&sha.to_ascii_lowercase())
            .map_or(DEFAULT_DATE, String::as_str)
    }

    /// Adds (or replaces) a branch.
    pub fn with_branch(mut self, name: &str, commit: &str) -> Self {
        self.branches.insert(name.to_string(), commit.to_string());
        self
    }

    /// Adds (or replaces) a lightweight tag.
    pub fn with_tag(mut self, name: &str, commit: &str) -> Self {
        let tag = RecordedTag {
            commit: commit.to_string(),
            tag_object: None,
        };
        self.tags.insert(name.to_string(), tag);
        self
    }

    /// Adds (or replaces) an annotated tag.
    pub fn with_annotated_tag(mut self, name: &str, tag_object: &str, commit: &str) -> Self {
        let tag = RecordedTag {
            commit: commit.to_string(),
            tag_object: Some(tag_object.to_string()),
        };
        self.tags.insert(name.to_string(), tag);
        self
    }

    /// The owner part of `full_name`.
    pub fn owner(&self) -> &str {
        self.full_name.split('/').next().unwrap_or_default()
    }

    /// The repository part of `full_name`.
    pub fn name(&self) -> &str {
        self.full_name.split('/').nth(1).unwrap_or_default()
    }

    /// The commit HEAD points to: the default branch's tip, else the recorded `head`.
    pub fn head_commit(&self) -> Option<&str> {
        self.default_branch
            .as_deref()
            .and_then(|b| self.branches.get(b))
            .or(self.head.as_ref())
            .map(String::as_str)
    }

    /// All refs as a smart-HTTP server advertises them, sorted by name: branches, tags, and a
    /// few fake `refs/pull/*` refs (GitHub has those too), without HEAD.
    pub fn advertised_refs(&self) -> Vec<AdvertisedRef> {
        let mut refs = Vec::new();
        for (name, commit) in &self.branches {
            refs.push(AdvertisedRef {
                name: format!("refs/heads/{name}"),
                oid: commit.clone(),
                peeled: None,
            });
        }
        for (name, tag) in &self.tags {
            let (oid, peeled) = match &tag.tag_object {
                Some(object) => (object.clone(), Some(tag.commit.clone())),
                None => (tag.commit.clone(), None),
            };
            refs.push(AdvertisedRef {
                name: format!("refs/tags/{name}"),
                oid,
                peeled,
            });
        }
        if let Some(head) = self.head_commit() {
            for name in ["refs/pull/1/head", "refs/pull/1/merge", "refs/pull/2/head"] {
                refs.push(AdvertisedRef {
                    name: name.to_string(),
                    oid: head.to_string(),
                    peeled: None,
                });
            }
        }
        refs.sort_by(|a, b| a.name.cmp(&b.name));
        refs
    }
}

/// A repository as served, with its refs listed and indexed once.
#[derive(Debug)]
pub(crate) struct ServedRepo {
    pub repo: RecordedRepo,
    /// [`RecordedRepo::advertised_refs`], sorted by name.
    pub refs: Vec<AdvertisedRef>,
    /// Lowercase annotated tag object SHA to tag name.
    pub tag_objects: HashMap<String, String>,
}

impl ServedRepo {
    pub(crate) fn new(repo: RecordedRepo) -> Self {
        let refs = repo.advertised_refs();
        let tag_objects = repo
            .tags
            .iter()
            .filter_map(|(name, tag)| {
                tag.tag_object
                    .as_ref()
                    .map(|o| (o.to_ascii_lowercase(), name.clone()))
            })
            .collect();
        ServedRepo {
            repo,
            refs,
            tag_objects,
        }
    }
}

/// The key under which a repository is stored: lowercase `owner/repo`.
pub fn repo_key(owner: &str, repo: &str) -> String {
    format!(
        "{}/{}",
        owner.to_ascii_lowercase(),
        repo.to_ascii_lowercase()
    )
}

/// Loads every `<owner>__<repo>.json` file of `dir`, keyed by lowercase `owner/repo`.
pub fn load_refs_dir(dir: &Path) -> io::Result<BTreeMap<String, RecordedRepo>> {
    let mut repos = BTreeMap::new();
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some((owner, name)) = stem.split_once("__") else {
            continue;
        };
        let text = fs::read_to_string(&path)?;
        let mut repo: RecordedRepo = serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        if repo.full_name.is_empty()
            || !repo
                .full_name
                .eq_ignore_ascii_case(&format!("{owner}/{name}"))
        {
            repo.full_name = format!("{owner}/{name}");
        }
        repos.insert(repo_key(owner, name), repo);
    }
    Ok(repos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertised_refs_are_sorted_and_peeled() {
        let repo = RecordedRepo::new("o/r")
            .with_branch("main", "c1")
            .with_tag("v1", "c1")
            .with_annotated_tag("v0", "t0", "c0");
        let refs = repo.advertised_refs();
        let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "refs/heads/main",
                "refs/pull/1/head",
                "refs/pull/1/merge",
                "refs/pull/2/head",
                "refs/tags/v0",
                "refs/tags/v1"
            ]
        );
        assert_eq!(refs[4].oid, "t0");
        assert_eq!(refs[4].peeled.as_deref(), Some("c0"));
        assert_eq!(repo.head_commit(), Some("c1"));
    }
}
