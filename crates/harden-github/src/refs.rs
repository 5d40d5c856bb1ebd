//! A repository's refs and the resolution rules: which commit a ref names and which version
//! comment to write beside the pinned SHA.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ResolveError;
use crate::version::{self, best_version_tag, Preference};

/// A tag: the commit it finally points to, and its annotated tag object if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    /// The commit the tag points to, after peeling annotated tags (and tags of tags).
    pub commit: String,
    /// The annotated tag object's SHA, `None` for a lightweight tag.
    #[serde(default)]
    pub tag_object: Option<String>,
}

/// The tags and branches of one repository (also the cache format; unknown keys are ignored,
/// so the recorded `shared/refs` files read as `RepoRefs` too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoRefs {
    /// The default branch (HEAD's target), if known.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Tag name (without `refs/tags/`) to tag.
    #[serde(default)]
    pub tags: BTreeMap<String, TagRef>,
    /// Branch name (without `refs/heads/`) to commit.
    #[serde(default)]
    pub branches: BTreeMap<String, String>,
}

/// What a resolved ref was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// A tag.
    Tag,
    /// A branch.
    Branch,
    /// A full commit SHA.
    Commit,
}

/// A resolved ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The 40-hex commit SHA (lowercase).
    pub sha: String,
    /// Whether the ref was a tag, a branch or a commit.
    pub kind: RefKind,
    /// The version text to put after `#`, e.g. `v4.2.2`; `None` for a commit no tag points at.
    pub comment: Option<String>,
}

/// The longest tag or branch name harden accepts from a server; the 12,443 recorded tags are
/// at most 42 characters.
pub(crate) const MAX_REF_NAME: usize = 128;

/// Whether a tag or branch name from a server may be used: 1 to [`MAX_REF_NAME`] ASCII
/// letters, digits and `. _ - + / @`, not starting with `-` (every one of the 12,443 recorded
/// tags). Anything else (spaces, `#`, quotes, control characters, U+0085, U+2028, U+2029,
/// non-ASCII look-alikes) could end a version comment and start YAML in some parser, or reach
/// a terminal, so such refs are refused at the boundary.
pub fn is_safe_ref_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_REF_NAME
        && !name.starts_with('-')
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'/' | b'@')
        })
}

/// Whether a branch name from a server may be used. Branches never become version comments
/// unless the workflow names them itself, and real ones hold `#`, `]` or `)` and run past 128
/// characters, so the rule is looser than for tags: 1 to 255 characters, none of them a
/// control character, a blank, U+0085, U+2028, U+2029 or a bidirectional control.
pub fn is_safe_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        })
}

/// Whether `text` is a full (40 hex digits) commit SHA.
pub fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn looks_like_short_sha(text: &str) -> bool {
    (4..40).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b.is_ascii_digit())
}

impl RepoRefs {
    /// The first SHA that is not 40 hexadecimal digits, if any: a server's answer with such a
    /// value must not be used (a pin to `main` would look pinned and not be).
    pub fn first_invalid_sha(&self) -> Option<&str> {
        self.tags
            .values()
            .flat_map(|t| std::iter::once(t.commit.as_str()).chain(t.tag_object.as_deref()))
            .chain(self.branches.values().map(String::as_str))
            .find(|sha| !is_full_sha(sha))
    }

    /// Resolves a ref as the GitHub Actions runner does: a full SHA is a commit; otherwise a
    /// tag wins over a branch of the same name (`refs/tags/X` and `refs/heads/X` pick one).
    /// Tag and branch names are case-sensitive.
    pub fn resolve(&self, git_ref: &str) -> Result<Resolved, ResolveError> {
        if git_ref.is_empty() {
            return Err(ResolveError::Empty);
        }
        if is_full_sha(git_ref) {
            let sha = git_ref.to_ascii_lowercase();
            let comment = self.version_for_commit(&sha, None);
            return Ok(Resolved {
                sha,
                kind: RefKind::Commit,
                comment,
            });
        }
        let (try_tag, try_branch, name) = if let Some(name) = git_ref.strip_prefix("refs/tags/") {
            (true, false, name)
        } else if let Some(name) = git_ref.strip_prefix("refs/heads/") {
            (false, true, name)
        } else {
            (true, true, git_ref)
        };
        if let Some(tag) = self.tags.get(name).filter(|_| try_tag) {
            let sha = tag.commit.to_ascii_lowercase();
            let comment = Some(self.comment_for_tag(name, &sha));
            return Ok(Resolved {
                sha,
                kind: RefKind::Tag,
                comment,
            });
        }
        if let Some(commit) = self.branches.get(name).filter(|_| try_branch) {
            let sha = commit.to_ascii_lowercase();
            return Ok(Resolved {
                sha,
                kind: RefKind::Branch,
                comment: Some(name.to_string()),
            });
        }
        if looks_like_short_sha(git_ref) {
            return Err(ResolveError::ShortSha {
                git_ref: git_ref.to_string(),
            });
        }
        let suggestion = self
            .tags
            .keys()
            .filter(|_| try_tag)
            .chain(self.branches.keys().filter(|_| try_branch))
            .find(|candidate| candidate.eq_ignore_ascii_case(name))
            .cloned();
        Err(ResolveError::UnknownRef {
            git_ref: git_ref.to_string(),
            suggestion,
        })
    }

    /// The comment for tag `name` (pointing at `sha`): a moving version (`v4`, `v1.6`) becomes
    /// the most precise, highest version tag of the same family on the same commit (`v4.2.2`);
    /// any other tag (`v4.2.2`, `v2.0.0-rc.1`, `nightly`) stays as written.
    fn comment_for_tag(&self, name: &str, sha: &str) -> String {
        let Some(parsed) = version::parse(name).filter(version::TagVersion::is_partial) else {
            return name.to_string();
        };
        let at = self.tags_at(sha);
        let preference = Preference {
            prefix: Some(parsed.prefix),
            v: Some(parsed.v),
        };
        best_version_tag(&at, preference)
            .unwrap_or(name)
            .to_string()
    }

    /// For an already pinned SHA: the version comment to write, given the existing comment.
    ///
    /// If the existing comment names a tag that points at `sha`, it is kept unchanged. Otherwise
    /// the most precise, highest version tag at `sha` (of the existing comment's family, such as
    /// `codeql-bundle-`, when there is one), else any tag at `sha`, else `None`.
    pub fn version_for_commit(&self, sha: &str, existing_comment: Option<&str>) -> Option<String> {
        let at = self.tags_at(sha);
        if at.is_empty() {
            return None;
        }
        let mut preference = Preference {
            prefix: None,
            v: Some(true),
        };
        if let Some(existing) = existing_comment {
            let trimmed = existing.trim();
            let first = trimmed.split_whitespace().next().unwrap_or_default();
            let first = first.strip_prefix("tag=").unwrap_or(first);
            if at.contains(&trimmed) || at.contains(&first) {
                return Some(existing.to_string());
            }
            if let Some(parsed) = version::parse(first) {
                let family = Preference {
                    prefix: Some(parsed.prefix),
                    v: Some(parsed.v),
                };
                if let Some(best) = best_version_tag(&at, family) {
                    return Some(best.to_string());
                }
                preference.v = Some(parsed.v);
            }
        }
        let best = best_version_tag(&at, preference).or_else(|| at.first().copied());
        best.map(str::to_string)
    }

    /// The names of all tags pointing at `sha` (compared case-insensitively), sorted.
    pub fn tags_at(&self, sha: &str) -> Vec<&str> {
        self.tags
            .iter()
            .filter(|(_, tag)| tag.commit.eq_ignore_ascii_case(sha))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(c: char) -> String {
        c.to_string().repeat(40)
    }

    fn sample() -> RepoRefs {
        let mut refs = RepoRefs {
            default_branch: Some("main".into()),
            ..RepoRefs::default()
        };
        let mut tag = |name: &str, commit: char, object: Option<char>| {
            refs.tags.insert(
                name.into(),
                TagRef {
                    commit: sha(commit),
                    tag_object: object.map(sha),
                },
            );
        };
        tag("v1", 'a', Some('e'));
        tag("v1.0.0", 'b', None);
        tag("v1.1.0", 'a', Some('f'));
        tag("v1.1", 'a', None);
        tag("release", 'c', None);
        tag("nightly", 'd', None);
        tag("save/v1", 'c', None);
        tag("save/v1.0.3", 'c', None);
        tag("save/v1.0.2", 'c', None);
        refs.branches.insert("main".into(), sha('1'));
        refs.branches.insert("release".into(), sha('2'));
        refs.branches.insert("releases/v1".into(), sha('a'));
        refs
    }

    #[test]
    fn moving_tag_gets_most_precise_comment() {
        let resolved = sample().resolve("v1").expect("resolves");
        assert_eq!(
            resolved,
            Resolved {
                sha: sha('a'),
                kind: RefKind::Tag,
                comment: Some("v1.1.0".into())
            }
        );
        assert_eq!(
            sample()
                .resolve("v1.1")
                .expect("resolves")
                .comment
                .as_deref(),
            Some("v1.1.0")
        );
    }

    #[test]
    fn exact_and_non_version_tags_stay_as_written() {
        assert_eq!(
            sample()
                .resolve("v1.0.0")
                .expect("resolves")
                .comment
                .as_deref(),
            Some("v1.0.0")
        );
        assert_eq!(
            sample()
                .resolve("nightly")
                .expect("resolves")
                .comment
                .as_deref(),
            Some("nightly")
        );
    }

    #[test]
    fn prefixed_tags_compare_within_their_family() {
        let resolved = sample().resolve("save/v1").expect("resolves");
        assert_eq!(resolved.sha, sha('c'));
        assert_eq!(resolved.comment.as_deref(), Some("save/v1.0.3"));
    }

    #[test]
    fn tag_wins_over_branch_of_same_name() {
        let refs = sample();
        let resolved = refs.resolve("release").expect("resolves");
        assert_eq!(
            (resolved.kind, resolved.sha.as_str()),
            (RefKind::Tag, sha('c').as_str())
        );
        let branch = refs.resolve("refs/heads/release").expect("resolves");
        assert_eq!(
            branch,
            Resolved {
                sha: sha('2'),
                kind: RefKind::Branch,
                comment: Some("release".into())
            }
        );
        assert_eq!(
            refs.resolve("refs/tags/release").expect("resolves").kind,
            RefKind::Tag
        );
        assert!(refs.resolve("refs/tags/main").is_err());
    }

    #[test]
    fn branch_is_pinned_to_tip_with_branch_comment() {
        let resolved = sample().resolve("releases/v1").expect("resolves");
        assert_eq!(
            resolved,
            Resolved {
                sha: sha('a'),
                kind: RefKind::Branch,
                comment: Some("releases/v1".into())
            }
        );
    }

    #[test]
    fn full_sha_is_a_commit() {
        let refs = sample();
        let upper = sha('A');
        let resolved = refs.resolve(&upper).expect("resolves");
        assert_eq!(
            resolved,
            Resolved {
                sha: sha('a'),
                kind: RefKind::Commit,
                comment: Some("v1.1.0".into())
            }
        );
        let unknown = refs.resolve(&sha('9')).expect("any full sha resolves");
        assert_eq!(unknown.comment, None);
    }

    #[test]
    fn tag_names_are_case_sensitive() {
        let err = sample().resolve("V1").expect_err("case-sensitive");
        assert_eq!(
            err,
            ResolveError::UnknownRef {
                git_ref: "V1".into(),
                suggestion: Some("v1".into())
            }
        );
        assert!(err.to_string().contains("did you mean \"v1\""));
        assert_eq!(sample().resolve(""), Err(ResolveError::Empty));
        assert!(matches!(
            sample().resolve("abc1234"),
            Err(ResolveError::ShortSha { .. })
        ));
        assert!(matches!(
            sample().resolve("nope"),
            Err(ResolveError::UnknownRef {
                suggestion: None,
                ..
            })
        ));
    }

    #[test]
    fn version_for_commit_keeps_a_correct_comment() {
        let refs = sample();
        assert_eq!(
            refs.version_for_commit(&sha('a'), Some("v1")).as_deref(),
            Some("v1")
        );
        assert_eq!(
            refs.version_for_commit(&sha('a'), Some("v1.1 ")).as_deref(),
            Some("v1.1 ")
        );
        assert_eq!(
            refs.version_for_commit(&sha('a'), Some("tag=v1.1.0"))
                .as_deref(),
            Some("tag=v1.1.0")
        );
    }

    #[test]
    fn version_for_commit_replaces_a_stale_comment() {
        let refs = sample();
        assert_eq!(
            refs.version_for_commit(&sha('a'), Some("v0.9.0"))
                .as_deref(),
            Some("v1.1.0")
        );
        assert_eq!(
            refs.version_for_commit(&sha('a'), None).as_deref(),
            Some("v1.1.0")
        );
        assert_eq!(
            refs.version_for_commit(&sha('c'), Some("save/v0.1"))
                .as_deref(),
            Some("save/v1.0.3")
        );
        // Without a family hint, plain tags beat prefixed ones; non-versions come last.
        assert_eq!(
            refs.version_for_commit(&sha('c'), None).as_deref(),
            Some("save/v1.0.3")
        );
        assert_eq!(
            refs.version_for_commit(&sha('d'), Some("whatever"))
                .as_deref(),
            Some("nightly")
        );
        assert_eq!(refs.version_for_commit(&sha('9'), Some("v1")), None);
    }

    #[test]
    fn tags_at_lists_sorted_names() {
        assert_eq!(sample().tags_at(&sha('A')), ["v1", "v1.1", "v1.1.0"]);
        assert!(sample().tags_at(&sha('9')).is_empty());
    }

    #[test]
    fn serde_round_trip_ignores_unknown_keys() {
        let json = r#"{"repo":"o/r","default_branch":"main","head":"x","tags":{"v1":{"commit":"c","tag_object":null}},"branches":{"main":"c"}}"#;
        let refs: RepoRefs = serde_json::from_str(json).expect("parses");
        assert_eq!(
            refs.tags["v1"],
            TagRef {
                commit: "c".into(),
                tag_object: None
            }
        );
        let again: RepoRefs =
            serde_json::from_str(&serde_json::to_string(&refs).expect("serializes"))
                .expect("parses");
        assert_eq!(again, refs);
    }
}
