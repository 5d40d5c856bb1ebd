//! GitHub REST API answers for the endpoints harden uses, shaped as GitHub documents them.

use serde_json::{json, Value};

use crate::data::{AdvertisedRef, RecordedRepo, ServedRepo};
use crate::http::{Request, Response};

/// Default and maximum `per_page` of GitHub's paginated endpoints.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

/// GitHub's 404 answer.
pub(crate) fn not_found() -> Response {
    Response::json(
        404,
        &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
    )
}

/// Answers `GET /repos/{owner}/{repo}{rest}`; `base` is `http://host:port`.
pub(crate) fn handle(served: &ServedRepo, rest: &str, request: &Request, base: &str) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        return Response::json(405, &json!({"message": "Method Not Allowed"}));
    }
    let repo = &served.repo;
    let api = format!("{base}/repos/{}", repo.full_name);
    if rest.is_empty() || rest == "/" {
        return Response::json(200, &repo_json(repo, base));
    }
    if let Some(pattern) = rest
        .strip_prefix("/git/matching-refs")
        .map(|p| p.trim_start_matches('/'))
    {
        let prefix = format!("refs/{pattern}");
        let matching: Vec<&AdvertisedRef> = served
            .refs
            .iter()
            .filter(|r| is_branch_or_tag(r) && r.name.starts_with(&prefix))
            .collect();
        return paginate(matching.len(), request, base, |range| {
            matching[range].iter().map(|r| ref_json(r, &api)).collect()
        });
    }
    if let Some(name) = rest
        .strip_prefix("/git/ref/")
        .or_else(|| rest.strip_prefix("/git/refs/"))
    {
        let full = format!("refs/{name}");
        return match served.refs.binary_search_by(|r| r.name.as_str().cmp(&full)) {
            Ok(i) if is_branch_or_tag(&served.refs[i]) => {
                Response::json(200, &ref_json(&served.refs[i], &api))
            }
            _ => not_found(),
        };
    }
    if let Some(sha) = rest.strip_prefix("/git/tags/") {
        return tag_object(served, sha, &api);
    }
    if rest == "/tags" {
        // GitHub's tag listing shows the commit each tag finally points to.
        let tags: Vec<(&String, &String)> = repo
            .tags
            .iter()
            .map(|(name, tag)| (name, &tag.commit))
            .collect();
        return paginate(tags.len(), request, base, |range| {
            tags[range]
                .iter()
                .map(|(name, sha)| {
                    json!({
                        "name": name,
                        "zipball_url": format!("{api}/zipball/refs/tags/{name}"),
                        "tarball_url": format!("{api}/tarball/refs/tags/{name}"),
                        "commit": {"sha": sha, "url": format!("{api}/commits/{sha}")},
                        "node_id": format!("REF_refs/tags/{name}")
                    })
                })
                .collect()
        });
    }
    if rest == "/branches" {
        let branches: Vec<(&String, &String)> = repo.branches.iter().collect();
        return paginate(branches.len(), request, base, |range| {
            branches[range]
                .iter()
                .map(|(name, sha)| branch_json(name, sha, &api))
                .collect()
        });
    }
    if let Some(reference) = rest.strip_prefix("/commits/") {
        return commit(repo, reference, request, &api);
    }
    if rest == "/actions/permissions/workflow" {
        // https://docs.github.com/en/rest/actions/permissions#get-default-workflow-permissions-for-a-repository
        return match &repo.workflow_permissions {
            Some(access) => Response::json(
                200,
                &json!({
                    "default_workflow_permissions": access,
                    "can_approve_pull_request_reviews": false
                }),
            ),
            None => not_found(),
        };
    }
    if rest == "/releases" {
        // Recorded data has no releases: an empty list, as for a repository without any.
        return Response::json(200, &json!([]));
    }
    if let Some(name) = rest.strip_prefix("/branches/") {
        return match repo.branches.get(name) {
            Some(sha) => Response::json(200, &branch_json(name, sha, &api)),
            None => Response::json(
                404,
                &json!({"message": "Branch not found", "status": "404"}),
            ),
        };
    }
    not_found()
}

/// `GET /repos/{owner}/{repo}/git/tags/{sha}`: an annotated tag object.
fn tag_object(served: &ServedRepo, sha: &str, api: &str) -> Response {
    let repo = &served.repo;
    let found = served
        .tag_objects
        .get(&sha.to_ascii_lowercase())
        .and_then(|name| repo.tags.get_key_value(name));
    match found {
        Some((name, tag)) => {
            let object = tag.tag_object.clone().unwrap_or_default();
            Response::json(
                200,
                &json!({
                    "node_id": format!("TAG_{object}"),
                    "tag": name,
                    "sha": object,
                    "url": format!("{api}/git/tags/{object}"),
                    "message": format!("Release {name}\n"),
                    "tagger": {"name": "Recorder", "email": "recorder@example.com", "date": repo.date_of(&object)},
                    "object": {"type": "commit", "sha": tag.commit, "url": format!("{api}/git/commits/{}", tag.commit)},
                    "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
                }),
            )
        }
        None => not_found(),
    }
}

/// `GET /repos/{owner}/{repo}/commits/{ref}`.
fn commit(repo: &RecordedRepo, reference: &str, request: &Request, api: &str) -> Response {
    // The commit a tag, branch or SHA names (used by pinact; only the fields it reads).
    let sha = repo
        .tags
        .get(reference)
        .map(|t| t.commit.clone())
        .or_else(|| repo.branches.get(reference).cloned())
        .or_else(|| {
            (reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| reference.to_ascii_lowercase())
        });
    let wants_sha = request
        .header("accept")
        .is_some_and(|a| a.contains("application/vnd.github.v3.sha"));
    match sha {
        // `Accept: application/vnd.github.sha` asks for the bare SHA (go-github's
        // `GetCommitSHA1`).
        Some(sha) if wants_sha => Response::new(200, "application/vnd.github.sha", sha),
        // GitHub's answer carries the author and committer with their dates (what
        // `harden update` reads as a release date).
        Some(sha) => {
            let date = repo.date_of(&sha);
            let person = json!({"name": "Recorder", "email": "recorder@example.com", "date": date});
            Response::json(
                200,
                &json!({
                    "sha": sha,
                    "node_id": format!("C_{sha}"),
                    "url": format!("{api}/commits/{sha}"),
                    "commit": {"message": "", "author": person, "committer": person},
                    "parents": []
                }),
            )
        }
        None => Response::json(
            422,
            &json!({"message": format!("No commit found for SHA: {reference}"), "status": "422"}),
        ),
    }
}

fn is_branch_or_tag(r: &AdvertisedRef) -> bool {
    r.name.starts_with("refs/heads/") || r.name.starts_with("refs/tags/")
}

fn branch_json(name: &str, sha: &str, api: &str) -> Value {
    json!({"name": name, "commit": {"sha": sha, "url": format!("{api}/commits/{sha}")}, "protected": false})
}

/// A ref as GitHub's git refs endpoints show it: annotated tags point at a `tag` object.
fn ref_json(r: &AdvertisedRef, api: &str) -> Value {
    let (kind, path) = if r.peeled.is_some() {
        ("tag", "tags")
    } else {
        ("commit", "commits")
    };
    json!({
        "ref": r.name,
        "node_id": format!("REF_{}", r.name),
        "url": format!("{api}/git/{}", r.name),
        "object": {"sha": r.oid, "type": kind, "url": format!("{api}/git/{path}/{}", r.oid)}
    })
}

fn repo_json(repo: &RecordedRepo, base: &str) -> Value {
    json!({
        "id": stable_id(&repo.full_name),
        "node_id": format!("R_{}", repo.full_name),
        "name": repo.name(),
        "full_name": repo.full_name,
        "private": false,
        "owner": {"login": repo.owner(), "type": "Organization"},
        "html_url": format!("{base}/{}", repo.full_name),
        "url": format!("{base}/repos/{}", repo.full_name),
        "default_branch": repo.default_branch,
        "archived": false,
        "disabled": false,
        "visibility": "public"
    })
}

fn stable_id(text: &str) -> u64 {
    text.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    }) % 1_000_000_000
}

/// One page of `total` items (built by `page_items` for the page's range) with GitHub's
/// `Link` header (`per_page` default 30, at most 100).
fn paginate(
    total: usize,
    request: &Request,
    base: &str,
    page_items: impl FnOnce(std::ops::Range<usize>) -> Vec<Value>,
) -> Response {
    let per_page = request
        .query_param("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_PER_PAGE)
        .min(MAX_PER_PAGE);
    let page = request
        .query_param("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let last = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page).min(total);
    let end = (start + per_page).min(total);
    let mut response = Response::json(200, &Value::Array(page_items(start..end)));
    let link_to = |p: usize| format!("<{base}{}?per_page={per_page}&page={p}>", request.path);
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if !links.is_empty() {
        response = response.with_header("Link", links.join(", "));
    }
    response
}
