//! The REST API: the repository (default branch), tags via `git/matching-refs/tags/` with
//! annotated tags peeled via `git/tags/{sha}`, and branches via `/branches`, following `Link`
//! pagination.
//!
//! Peeling costs one request per annotated tag; a repository with more than
//! [`PEEL_EACH_MAX`] annotated tags is peeled from the `/tags` listing instead (which shows
//! each tag's commit, 100 per page), so that it cannot eat the rate limit.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::FetchError;
use crate::http::{Http, Reply};
use crate::refs::{RepoRefs, TagRef};
use crate::repo_id::RepoId;
use crate::smart_http::status_error;

/// Pages followed per listing at most (100 items each).
const MAX_PAGES: usize = 500;
/// Annotated tags peeled one request each at most; above, the `/tags` listing is used.
pub(crate) const PEEL_EACH_MAX: usize = 50;
/// Tags of tags followed at most.
const MAX_TAG_DEPTH: usize = 10;

#[derive(Deserialize)]
struct RepoInfo {
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct GitObject {
    sha: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct GitRef {
    #[serde(rename = "ref")]
    name: String,
    object: GitObject,
}

#[derive(Deserialize)]
struct TagObject {
    object: GitObject,
}

#[derive(Deserialize)]
struct BranchCommit {
    sha: String,
}

#[derive(Deserialize)]
struct RepoTag {
    name: String,
    commit: BranchCommit,
}

#[derive(Deserialize)]
struct Branch {
    name: String,
    commit: BranchCommit,
}

struct Api<'a> {
    http: &'a Http,
    api_url: &'a str,
    token: Option<&'a str>,
}

impl Api<'_> {
    fn get(&self, url: &str) -> Result<Reply, FetchError> {
        let reply = self.http.execute(&|client| {
            let request = client
                .get(url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            match self.token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
        })?;
        if (200..300).contains(&reply.status) {
            Ok(reply)
        } else {
            Err(status_error(reply.status))
        }
    }

    fn get_json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T, FetchError> {
        let reply = self.get(url)?;
        parse_json(&reply.body, what)
    }

    /// All items of a paginated listing, following `Link: <...>; rel="next"` on the same origin.
    fn get_all<T: DeserializeOwned>(
        &self,
        first_url: &str,
        what: &str,
    ) -> Result<Vec<T>, FetchError> {
        let mut items = Vec::new();
        let mut url = first_url.to_string();
        for _ in 0..MAX_PAGES {
            let reply = self.get(&url)?;
            let page: Vec<T> = parse_json(&reply.body, what)?;
            items.extend(page);
            match reply.header("link").and_then(next_link) {
                Some(next) => {
                    if !same_origin(&next, self.api_url) {
                        return Err(FetchError::BadResponse(format!(
                            "pagination link leaves the API host: {}",
                            crate::redact::redact_userinfo(&next)
                        )));
                    }
                    url = next;
                }
                None => return Ok(items),
            }
        }
        Err(FetchError::BadResponse(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }
}

fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, FetchError> {
    serde_json::from_slice(body)
        .map_err(|e| FetchError::BadResponse(format!("invalid JSON for {what}: {e}")))
}

fn same_origin(url: &str, base: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(base)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim().strip_prefix('<')?.strip_suffix('>')?;
        pieces
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\""
                    || p == "rel=next"
                    || (p.starts_with("rel=\"") && p.split(['"', ' ']).any(|r| r == "next"))
            })
            .then(|| url.to_string())
    })
}

/// Fetches the refs of `repo` from the REST API at `api_url`.
pub(crate) fn fetch(
    http: &Http,
    api_url: &str,
    repo: &RepoId,
    token: Option<&str>,
) -> Result<RepoRefs, FetchError> {
    let api = Api {
        http,
        api_url,
        token,
    };
    let base = format!("{api_url}/repos/{}/{}", repo.owner, repo.repo);
    let info: RepoInfo = api.get_json(&base, "the repository")?;
    let mut refs = RepoRefs {
        default_branch: info.default_branch,
        ..RepoRefs::default()
    };

    let tags: Vec<GitRef> = api.get_all(
        &format!("{base}/git/matching-refs/tags/?per_page=100"),
        "tag refs",
    )?;
    let annotated = tags.iter().filter(|t| t.object.kind == "tag").count();
    let listed: HashMap<String, String> = if annotated > PEEL_EACH_MAX {
        let listing: Vec<RepoTag> = api.get_all(&format!("{base}/tags?per_page=100"), "tags")?;
        listing
            .into_iter()
            .map(|t| (t.name, t.commit.sha.to_ascii_lowercase()))
            .collect()
    } else {
        HashMap::new()
    };
    for tag in tags {
        let Some(name) = tag.name.strip_prefix("refs/tags/") else {
            continue;
        };
        let entry = match tag.object.kind.as_str() {
            "commit" => TagRef {
                commit: tag.object.sha.to_ascii_lowercase(),
                tag_object: None,
            },
            "tag" => {
                let object = tag.object.sha.to_ascii_lowercase();
                let commit = match listed.get(name) {
                    Some(commit) => Some(commit.clone()),
                    None => peel(&api, &base, &object)?,
                };
                match commit {
                    Some(commit) => TagRef {
                        commit,
                        tag_object: Some(object),
                    },
                    None => continue,
                }
            }
            // A tag of a tree or blob cannot name an action version.
            _ => continue,
        };
        refs.tags.insert(name.to_string(), entry);
    }

    let branches: Vec<Branch> =
        api.get_all(&format!("{base}/branches?per_page=100"), "branches")?;
    for branch in branches {
        refs.branches
            .insert(branch.name, branch.commit.sha.to_ascii_lowercase());
    }
    Ok(refs)
}

#[derive(Deserialize)]
struct Dated {
    date: String,
}

#[derive(Deserialize)]
struct CommitDetails {
    committer: Dated,
}

#[derive(Deserialize)]
struct CommitAnswer {
    commit: CommitDetails,
}

#[derive(Deserialize)]
struct TagAnswer {
    tagger: Dated,
}

/// The date of a release, as GitHub's REST API gives it: an annotated tag object's
/// `tagger.date` (`GET /repos/{o}/{r}/git/tags/{sha}`), or a commit's `commit.committer.date`
/// (`GET /repos/{o}/{r}/commits/{sha}`). One request.
pub(crate) fn object_date(
    http: &Http,
    api_url: &str,
    repo: &RepoId,
    token: Option<&str>,
    sha: &str,
    tag_object: bool,
) -> Result<String, FetchError> {
    let api = Api {
        http,
        api_url,
        token,
    };
    let base = format!("{api_url}/repos/{}/{}", repo.owner, repo.repo);
    if tag_object {
        let tag: TagAnswer = api.get_json(&format!("{base}/git/tags/{sha}"), "a tag object")?;
        Ok(tag.tagger.date)
    } else {
        let commit: CommitAnswer = api.get_json(&format!("{base}/commits/{sha}"), "a commit")?;
        Ok(commit.commit.committer.date)
    }
}

/// Follows an annotated tag object (and tags of tags) to its commit; `None` if it ends at a
/// tree or blob.
fn peel(api: &Api<'_>, base: &str, tag_sha: &str) -> Result<Option<String>, FetchError> {
    let mut sha = tag_sha.to_string();
    for _ in 0..MAX_TAG_DEPTH {
        let tag: TagObject = api.get_json(&format!("{base}/git/tags/{sha}"), "a tag object")?;
        match tag.object.kind.as_str() {
            "commit" => return Ok(Some(tag.object.sha.to_ascii_lowercase())),
            "tag" => sha = tag.object.sha,
            _ => return Ok(None),
        }
    }
    Err(FetchError::BadResponse(format!(
        "tag {tag_sha} is nested more than {MAX_TAG_DEPTH} deep"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_link() {
        let header = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        let last_page = r#"<https://api.github.com/x?page=1>; rel="first", <https://api.github.com/x?page=4>; rel="prev""#;
        assert_eq!(next_link(last_page), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn same_origin_links_only() {
        assert!(same_origin(
            "http://127.0.0.1:5/repos?page=2",
            "http://127.0.0.1:5"
        ));
        assert!(!same_origin(
            "http://evil.example/repos?page=2",
            "http://127.0.0.1:5"
        ));
    }
}
