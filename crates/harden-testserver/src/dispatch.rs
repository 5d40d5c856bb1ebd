//! Answering one request: routing, injected faults, authentication, then the git or REST
//! answer.

use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::data::repo_key;
use crate::http::{self, Request, Response};
use crate::options::{Fault, FaultScope, RequestRecord, ServerOptions};
use crate::{git, lock, rest, Shared};

/// What to do with a request.
pub(crate) enum Action {
    Respond(Response),
    /// A 200 answer of this many filler bytes, with or without `Content-Length`.
    Huge {
        content_type: &'static str,
        bytes: u64,
        announced: bool,
    },
    Stall,
    Reset,
    /// This answer, its body two bytes a second.
    Trickle(Response),
}

/// Which kind of endpoint a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint<'a> {
    InfoRefs,
    UploadPack,
    Rest(&'a str),
    /// GitHub Enterprise Server's raw form: `{ref}/{path}` after `/{owner}/{repo}/raw/`.
    Raw(&'a str),
}

/// Splits a path into (owner, repo, endpoint).
fn route(path: &str) -> Option<(&str, &str, Endpoint<'_>)> {
    // GitHub Enterprise Server serves the REST API under `/api/v3` (clients such as pinact
    // add it to the API URL they are given).
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    if let Some(rest) = path.strip_prefix("/repos/") {
        let (owner, rest) = rest.split_once('/')?;
        let (repo, rest) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        return Some((owner, repo, Endpoint::Rest(rest)));
    }
    let rest = path.strip_prefix('/')?;
    let (owner, rest) = rest.split_once('/')?;
    let (repo, tail) = rest.split_once('/')?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    let endpoint = match tail {
        "info/refs" => Endpoint::InfoRefs,
        "git-upload-pack" => Endpoint::UploadPack,
        _ => Endpoint::Raw(tail.strip_prefix("raw/")?),
    };
    Some((owner, repo, endpoint))
}

pub(crate) fn handle(request: &Request, shared: &Shared) -> Action {
    let routed = route(&request.path);
    let key = routed.map(|(owner, repo, _)| repo_key(owner, repo));
    lock(&shared.log).push(RequestRecord {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        repo: key.clone(),
        git_protocol: request.header("git-protocol").map(str::to_string),
        authorized: request.header("authorization").is_some(),
    });
    let options = lock(&shared.options).clone();
    if !options.latency.is_zero() {
        thread::sleep(options.latency);
    }
    let (Some((_, _, endpoint)), Some(key)) = (routed, key) else {
        return Action::Respond(rest::not_found());
    };
    let is_git = matches!(endpoint, Endpoint::InfoRefs | Endpoint::UploadPack);
    let fault = take_fault(shared, &key, is_git);
    let base = format!(
        "http://{}",
        request
            .header("host")
            .map_or_else(|| shared.addr.to_string(), str::to_string)
    );
    let truncated = fault == Some(Fault::Truncated);
    if fault == Some(Fault::Trickle) {
        return Action::Trickle(answer(request, shared, &options, &key, endpoint, &base));
    }
    if let Some(action) = fault.and_then(|f| fault_action(f, endpoint, is_git)) {
        return action;
    }
    let response = answer(request, shared, &options, &key, endpoint, &base);
    Action::Respond(if truncated {
        truncate(response)
    } else {
        response
    })
}

/// What the server does instead of answering, under `fault` (`None` for a truncated answer,
/// which is made first).
fn fault_action(fault: Fault, endpoint: Endpoint<'_>, is_git: bool) -> Option<Action> {
    match fault {
        Fault::Stall => Some(Action::Stall),
        Fault::Reset => Some(Action::Reset),
        Fault::Status(status) => Some(Action::Respond(status_response(status, is_git))),
        Fault::Malformed => Some(Action::Respond(if is_git {
            let content_type = if endpoint == Endpoint::InfoRefs {
                git::ADVERTISEMENT_TYPE
            } else {
                git::RESULT_TYPE
            };
            Response::new(
                200,
                content_type,
                "<!DOCTYPE html><html><body>Unicorn!</body></html>\n",
            )
        } else {
            Response::new(
                200,
                "application/json; charset=utf-8",
                "{\"message\": this is not JSON",
            )
        })),
        Fault::RateLimited {
            status,
            retry_after,
            reset_after,
        } => {
            let mut response = Response::json(
                status,
                &serde_json::json!({"message": "API rate limit exceeded for 127.0.0.1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}),
            )
            .with_header("X-RateLimit-Limit", "60");
            if let Some(seconds) = retry_after {
                response = response.with_header("Retry-After", seconds.to_string());
            }
            if let Some(seconds) = reset_after {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                response = response
                    .with_header("X-RateLimit-Remaining", "0")
                    .with_header("X-RateLimit-Reset", (now + seconds).to_string());
            }
            Some(Action::Respond(response))
        }
        Fault::HugeBody { bytes, announced } => {
            let content_type = match endpoint {
                Endpoint::InfoRefs => git::ADVERTISEMENT_TYPE,
                Endpoint::UploadPack => git::RESULT_TYPE,
                Endpoint::Rest(_) => "application/json; charset=utf-8",
                Endpoint::Raw(_) => "text/plain; charset=utf-8",
            };
            Some(Action::Huge {
                content_type,
                bytes,
                announced,
            })
        }
        Fault::RateLimitedUntil { status, after_secs } => {
            let when = SystemTime::now() + std::time::Duration::from_secs(after_secs);
            let response = Response::json(
                status,
                &serde_json::json!({"message": "You have exceeded a secondary rate limit."}),
            )
            .with_header("Retry-After", http::date(when));
            Some(Action::Respond(response))
        }
        Fault::Redirect { status, location } => Some(Action::Respond(
            Response::text(status, "").with_header("Location", location),
        )),
        Fault::Truncated | Fault::Trickle => None,
    }
}

/// The fault to apply to this request, consuming one use of a counted rule.
fn take_fault(shared: &Shared, key: &str, is_git: bool) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let rule = faults.get_mut(key)?;
    let applies = match rule.scope {
        FaultScope::All => true,
        FaultScope::Git => is_git,
        FaultScope::Rest => !is_git,
    };
    if !applies {
        return None;
    }
    let fault = rule.fault.clone();
    if let Some(times) = rule.times.as_mut() {
        *times = times.saturating_sub(1);
        if *times == 0 {
            faults.remove(key);
        }
    }
    Some(fault)
}

fn status_response(status: u16, is_git: bool) -> Response {
    let message = match status {
        401 => "Requires authentication",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let response = if is_git {
        Response::text(status, &format!("{message}\n"))
    } else {
        Response::json(
            status,
            &serde_json::json!({"message": message, "status": status.to_string()}),
        )
    };
    if status == 401 {
        response.with_header("WWW-Authenticate", "Basic realm=\"GitHub\"")
    } else {
        response
    }
}

/// Cuts a body in the middle of its first pkt-line or JSON document.
fn truncate(mut response: Response) -> Response {
    let body = &response.body;
    let cut = match body
        .get(..4)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| usize::from_str_radix(h, 16).ok())
    {
        // Keep the first pkt-line's header and half of its payload.
        Some(len) if len > 5 => 4 + (len - 4) / 2,
        _ => body.len() / 2,
    };
    response
        .body
        .truncate(cut.min(response.body.len().saturating_sub(1)));
    response
}

/// Checks the token for a private repository; `None` if access is allowed.
fn check_auth(
    request: &Request,
    options: &ServerOptions,
    key: &str,
    is_git: bool,
) -> Option<Response> {
    if !options
        .private_repos
        .iter()
        .any(|r| r.eq_ignore_ascii_case(key))
    {
        return None;
    }
    let Some(header) = request.header("authorization") else {
        // GitHub hides private repositories from anonymous REST requests.
        return Some(if is_git {
            status_response(401, true)
        } else {
            rest::not_found()
        });
    };
    let presented = if let Some(encoded) = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
    {
        http::base64_decode(encoded)
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(_, password)| password.to_string())
            })
    } else {
        header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("token "))
            .map(str::to_string)
    };
    if presented.is_some() && presented == options.token {
        return None;
    }
    Some(if is_git {
        status_response(401, true)
    } else {
        Response::json(
            401,
            &serde_json::json!({"message": "Bad credentials", "status": "401"}),
        )
    })
}

fn answer(
    request: &Request,
    shared: &Shared,
    options: &ServerOptions,
    key: &str,
    endpoint: Endpoint<'_>,
    base: &str,
) -> Response {
    let is_git = matches!(endpoint, Endpoint::InfoRefs | Endpoint::UploadPack);
    let served = shared
        .repos
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned();
    let Some(served) = served else {
        return if is_git {
            let status = options.missing_repo_status;
            let text = if status == 404 {
                "Repository not found.\n"
            } else {
                "Authentication required\n"
            };
            let response = Response::text(status, text);
            if status == 401 {
                response.with_header("WWW-Authenticate", "Basic realm=\"GitHub\"")
            } else {
                response
            }
        } else {
            rest::not_found()
        };
    };
    if let Some(denied) = check_auth(request, options, key, is_git) {
        return denied;
    }
    let wants_v2 = options.protocol_v2
        && request
            .header("git-protocol")
            .is_some_and(|v| v.split(':').any(|p| p.trim() == "version=2"));
    match endpoint {
        Endpoint::Rest(rest) if rest.starts_with("/contents/") => {
            let dirs = crate::files::actions_dirs(shared);
            crate::files::contents(&dirs, &served.repo, rest, request)
        }
        Endpoint::Rest(rest) => rest::handle(&served, rest, request, base),
        Endpoint::Raw(tail) => {
            let dirs = crate::files::actions_dirs(shared);
            crate::files::raw(&dirs, &served.repo, tail)
        }
        Endpoint::InfoRefs => {
            if request.method != "GET" && request.method != "HEAD" {
                return Response::text(405, "Method Not Allowed\n");
            }
            match request.query_param("service").as_deref() {
                Some("git-upload-pack") => {}
                Some(_) => return Response::text(403, "Service not enabled\n"),
                None => return Response::text(404, "Not Found\n"),
            }
            let body = if wants_v2 {
                git::v2_capabilities()
            } else {
                git::v0_advertisement(&served.repo, &served.refs)
            };
            Response::new(200, git::ADVERTISEMENT_TYPE, body)
                .with_header("Cache-Control", "no-cache")
        }
        Endpoint::UploadPack => {
            if request.method != "POST" {
                return Response::text(405, "Method Not Allowed\n");
            }
            if request.header("content-type") != Some("application/x-git-upload-pack-request") {
                return Response::text(415, "Unsupported Media Type\n");
            }
            if wants_v2 {
                return git::ls_refs(&served.repo, &served.refs, &request.body)
                    .with_header("Cache-Control", "no-cache");
            }
            if options.v0_post_status == 200 {
                Response::new(200, git::RESULT_TYPE, Vec::new())
            } else {
                Response::text(
                    options.v0_post_status,
                    "protocol error: expected a want line\n",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FaultRule, TestServer};

    #[test]
    fn routes_git_and_rest_paths() {
        assert_eq!(
            route("/actions/checkout.git/info/refs"),
            Some(("actions", "checkout", Endpoint::InfoRefs))
        );
        assert_eq!(
            route("/actions/checkout/git-upload-pack"),
            Some(("actions", "checkout", Endpoint::UploadPack))
        );
        assert_eq!(
            route("/repos/actions/checkout/git/matching-refs/tags/"),
            Some((
                "actions",
                "checkout",
                Endpoint::Rest("/git/matching-refs/tags/")
            ))
        );
        assert_eq!(
            route("/repos/actions/checkout"),
            Some(("actions", "checkout", Endpoint::Rest("")))
        );
        assert_eq!(route("/actions/checkout.git/objects/info/packs"), None);
        assert_eq!(route("/"), None);
    }

    #[test]
    fn truncation_cuts_inside_first_packet() {
        let response = Response::new(200, "x", "0010abcdefghijkl0000");
        assert_eq!(truncate(response).body, b"0010abcdef");
    }

    #[test]
    fn counted_fault_expires() {
        let server =
            TestServer::start_with_repos(Vec::new(), ServerOptions::default(), 0).expect("start");
        server.set_fault_rule(
            "O/R",
            FaultRule::new(Fault::Status(500))
                .times(1)
                .scope(FaultScope::Git),
        );
        assert_eq!(take_fault(&server.shared, "o/r", false), None);
        assert_eq!(
            take_fault(&server.shared, "o/r", true),
            Some(Fault::Status(500))
        );
        assert_eq!(take_fault(&server.shared, "o/r", true), None);
    }
}
