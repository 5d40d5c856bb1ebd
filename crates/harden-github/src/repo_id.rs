//! `owner/repo` names, compared case-insensitively as GitHub does.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::ParseRepoError;

/// A GitHub repository, `owner/repo`. Equality, hashing and ordering ignore ASCII case;
/// `Display` keeps the case as written.
#[derive(Debug, Clone)]
pub struct RepoId {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository name.
    pub repo: String,
}

fn check_part(input: &str, part: &str, what: &'static str) -> Result<(), ParseRepoError> {
    let error = |reason| {
        Err(ParseRepoError {
            input: input.to_string(),
            reason,
        })
    };
    if part.is_empty() {
        return error(if what == "owner" {
            "empty owner"
        } else {
            "empty repository name"
        });
    }
    if part == "." || part == ".." {
        return error("`.` and `..` are not names");
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return error("names may contain only letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}

impl RepoId {
    /// A repository id from its parts (not validated; see [`RepoId::parse`]).
    pub fn new(owner: impl Into<String>, repo: impl Into<String>) -> Self {
        RepoId {
            owner: owner.into(),
            repo: repo.into(),
        }
    }

    /// Parses exactly `owner/repo`.
    pub fn parse(text: &str) -> Result<Self, ParseRepoError> {
        match RepoId::split_action(text)? {
            (id, None) => Ok(id),
            (_, Some(_)) => Err(ParseRepoError {
                input: text.to_string(),
                reason: "too many `/`",
            }),
        }
    }

    /// Splits an action path such as `github/codeql-action/init` into the repository and the
    /// path inside it (`Some("init")`), or `None` for a plain `owner/repo`.
    pub fn split_action(text: &str) -> Result<(Self, Option<&str>), ParseRepoError> {
        let mut parts = text.splitn(3, '/');
        let owner = parts.next().unwrap_or_default();
        let repo = parts.next().ok_or_else(|| ParseRepoError {
            input: text.to_string(),
            reason: "missing `/`",
        })?;
        check_part(text, owner, "owner")?;
        check_part(text, repo, "repo")?;
        let path = parts.next();
        if path.is_some_and(|p| p.is_empty() || p.split('/').any(|s| s.is_empty() || s == "..")) {
            return Err(ParseRepoError {
                input: text.to_string(),
                reason: "invalid path after owner/repo",
            });
        }
        Ok((RepoId::new(owner, repo), path))
    }

    /// Lowercase `owner/repo`, the identity used for comparison.
    pub fn key(&self) -> String {
        format!(
            "{}/{}",
            self.owner.to_ascii_lowercase(),
            self.repo.to_ascii_lowercase()
        )
    }

    /// The cache file name, `owner__repo.json` in lowercase.
    pub fn cache_file_name(&self) -> String {
        format!(
            "{}__{}.json",
            self.owner.to_ascii_lowercase(),
            self.repo.to_ascii_lowercase()
        )
    }

    fn cmp_key(&self) -> impl Iterator<Item = u8> + '_ {
        self.owner
            .bytes()
            .chain([b'/'])
            .chain(self.repo.bytes())
            .map(|b| b.to_ascii_lowercase())
    }
}

impl PartialEq for RepoId {
    fn eq(&self, other: &Self) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner) && self.repo.eq_ignore_ascii_case(&other.repo)
    }
}

impl Eq for RepoId {}

impl Hash for RepoId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.cmp_key() {
            state.write_u8(b);
        }
    }
}

impl Ord for RepoId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_key().cmp(other.cmp_key())
    }
}

impl PartialOrd for RepoId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)
    }
}

impl FromStr for RepoId {
    type Err = ParseRepoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RepoId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn parses_and_displays() {
        let id = RepoId::parse("Actions/Checkout").expect("valid");
        assert_eq!(id.to_string(), "Actions/Checkout");
        assert_eq!(id.key(), "actions/checkout");
        assert_eq!(id.cache_file_name(), "actions__checkout.json");
        assert_eq!(
            "a/b.c".parse::<RepoId>().expect("valid"),
            RepoId::new("A", "B.C")
        );
    }

    #[test]
    fn compares_case_insensitively() {
        let a = RepoId::new("Actions", "Checkout");
        let b = RepoId::new("actions", "checkout");
        assert_eq!(a, b);
        let set: HashSet<RepoId> = [a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_eq!(a.cmp(&RepoId::new("actions", "CACHE")), Ordering::Greater);
    }

    #[test]
    fn splits_action_paths() {
        let (id, path) = RepoId::split_action("github/codeql-action/init").expect("valid");
        assert_eq!(
            (id.to_string().as_str(), path),
            ("github/codeql-action", Some("init"))
        );
        assert_eq!(
            RepoId::split_action("a/b/c/d").expect("valid").1,
            Some("c/d")
        );
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "", "a", "/b", "a/", "a/b/", "../b", "a/..", "a b/c", "a/b/../c", "a/b?x",
        ] {
            assert!(
                RepoId::split_action(bad).is_err() || RepoId::parse(bad).is_err(),
                "{bad:?}"
            );
            assert!(RepoId::parse(bad).is_err(), "{bad:?}");
        }
        let err = RepoId::parse("a/b/c").expect_err("path");
        assert!(err.to_string().contains("expected owner/repo"));
    }
}
