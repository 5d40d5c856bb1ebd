//! Git smart HTTP: protocol v2 `ls-refs` in one POST, with a fallback to the protocol v0
//! advertisement (`GET info/refs?service=git-upload-pack`) for servers without v2.

use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::error::FetchError;
use crate::http::{Http, Reply};
use crate::pktline::{self, Packet, PktReader};
use crate::refs::{RepoRefs, TagRef};
use crate::repo_id::RepoId;
use crate::stats::bump;

const ADVERTISEMENT_TYPE: &str = "application/x-git-upload-pack-advertisement";
const REQUEST_TYPE: &str = "application/x-git-upload-pack-request";
const RESULT_TYPE: &str = "application/x-git-upload-pack-result";

/// The body of the v2 `ls-refs` request: HEAD (for the default branch), branches and tags,
/// with annotated tags peeled.
pub(crate) fn ls_refs_request() -> Vec<u8> {
    let mut body = Vec::new();
    pktline::write_data(&mut body, b"command=ls-refs\n");
    pktline::write_data(
        &mut body,
        concat!("agent=git/harden-", env!("CARGO_PKG_VERSION"), "\n").as_bytes(),
    );
    pktline::write_delim(&mut body);
    for arg in [
        "peel",
        "symrefs",
        "ref-prefix HEAD",
        "ref-prefix refs/heads/",
        "ref-prefix refs/tags/",
    ] {
        pktline::write_data(&mut body, format!("{arg}\n").as_bytes());
    }
    pktline::write_flush(&mut body);
    body
}

/// Fetches the refs of `repo` from the git server at `server_url`.
pub(crate) fn fetch(
    http: &Http,
    server_url: &str,
    repo: &RepoId,
    token: Option<&str>,
) -> Result<RepoRefs, FetchError> {
    let base = format!("{server_url}/{}/{}.git", repo.owner, repo.repo);
    let body = ls_refs_request();
    let post_url = format!("{base}/git-upload-pack");
    let reply = http.execute(&|client| {
        let request = client
            .post(&post_url)
            .header("Git-Protocol", "version=2")
            .header(CONTENT_TYPE, REQUEST_TYPE)
            .header(ACCEPT, RESULT_TYPE)
            .body(body.clone());
        match token {
            Some(token) => request.basic_auth("x-access-token", Some(token)),
            None => request,
        }
    })?;
    match reply.status {
        200..=299 => {
            if is_v0_advertisement(&reply) {
                bump(&http.counters().v0_fallbacks);
                return parse_v0(&reply.body);
            }
            if let Some(refs) = parse_ls_refs(&reply.body)? {
                return Ok(refs);
            }
        }
        // The server rejected the v2 request itself: try v0.
        400 | 405 | 406 | 415 | 422 | 501 => {}
        status => return Err(status_error(status)),
    }
    bump(&http.counters().v0_fallbacks);
    let get_url = format!("{base}/info/refs?service=git-upload-pack");
    let reply = http.execute_bounded(
        &|client| {
            let request = client.get(&get_url).header(ACCEPT, "*/*");
            match token {
                Some(token) => request.basic_auth("x-access-token", Some(token)),
                None => request,
            }
        },
        crate::http::MAX_V0_BODY,
    )?;
    if !(200..300).contains(&reply.status) {
        return Err(status_error(reply.status));
    }
    if !reply.content_type().starts_with(ADVERTISEMENT_TYPE) {
        return Err(FetchError::BadResponse(format!(
            "not a git smart-HTTP server: info/refs answered with content type {:?}",
            reply.content_type()
        )));
    }
    parse_v0(&reply.body)
}

/// The error for an HTTP status that is not a usable answer.
pub(crate) fn status_error(status: u16) -> FetchError {
    match status {
        401 | 403 => FetchError::AuthRequired { status },
        404 | 410 => FetchError::NotFound,
        500..=599 => FetchError::Server {
            status,
            attempts: 1,
        },
        _ => FetchError::HttpStatus(status),
    }
}

fn is_v0_advertisement(reply: &Reply) -> bool {
    reply.content_type().starts_with(ADVERTISEMENT_TYPE)
        || matches!(PktReader::new(&reply.body).next_packet(), Ok(Some(Packet::Data(d))) if d.starts_with(b"# service="))
}

fn shorten(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end();
    if text.chars().count() > 100 {
        format!("{}...", text.chars().take(100).collect::<String>())
    } else {
        text.to_string()
    }
}

fn pkt_error(error: pktline::PktError) -> FetchError {
    FetchError::BadResponse(error.to_string())
}

fn is_oid(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Collects advertised refs into [`RepoRefs`].
#[derive(Default)]
struct Collector {
    refs: RepoRefs,
}

impl Collector {
    fn add(&mut self, name: &str, oid: &str, peeled: Option<&str>) {
        let oid = oid.to_ascii_lowercase();
        if let Some(branch) = name.strip_prefix("refs/heads/") {
            self.refs.branches.insert(branch.to_string(), oid);
        } else if let Some(tag) = name.strip_prefix("refs/tags/") {
            let entry = match peeled {
                Some(commit) => TagRef {
                    commit: commit.to_ascii_lowercase(),
                    tag_object: Some(oid),
                },
                None => TagRef {
                    commit: oid,
                    tag_object: None,
                },
            };
            self.refs.tags.insert(tag.to_string(), entry);
        }
    }

    /// A v0 `refs/tags/X^{}` line: the tag added before is annotated and peels to `commit`.
    fn peel(&mut self, name: &str, commit: &str) {
        if let Some(tag) = name
            .strip_prefix("refs/tags/")
            .and_then(|t| self.refs.tags.get_mut(t))
        {
            if tag.tag_object.is_none() {
                tag.tag_object = Some(std::mem::take(&mut tag.commit));
            }
            tag.commit = commit.to_ascii_lowercase();
        }
    }
}

/// Parses a v2 `ls-refs` answer. `Ok(None)` if the answer is not one (empty, an `ERR` packet, or
/// a capability advertisement): the server does not speak v2 for this request.
pub(crate) fn parse_ls_refs(body: &[u8]) -> Result<Option<RepoRefs>, FetchError> {
    let mut reader = PktReader::new(body);
    let mut collector = Collector::default();
    let mut first = true;
    loop {
        let packet = reader.next_packet().map_err(pkt_error)?;
        let line = match packet {
            None if first => return Ok(None),
            None => {
                return Err(FetchError::BadResponse(
                    "ls-refs answer ended without a flush-pkt (truncated?)".into(),
                ));
            }
            Some(Packet::Flush) => return Ok(Some(collector.refs)),
            Some(Packet::Delim | Packet::ResponseEnd) => {
                return Err(FetchError::BadResponse(
                    "unexpected special packet in ls-refs answer".into(),
                ));
            }
            Some(Packet::Data(data)) => pktline::trim_newline(data),
        };
        let text = std::str::from_utf8(line).map_err(|_| {
            FetchError::BadResponse(format!("ls-refs line is not UTF-8: {:?}", shorten(line)))
        })?;
        if first && (text.starts_with("ERR ") || text == "version 2") {
            return Ok(None);
        }
        first = false;
        if let Some(message) = text.strip_prefix("ERR ") {
            return Err(FetchError::BadResponse(format!(
                "server error: {}",
                shorten(message.as_bytes())
            )));
        }
        let mut parts = text.split(' ');
        let (Some(oid), Some(name)) = (parts.next(), parts.next()) else {
            return Err(FetchError::BadResponse(format!(
                "invalid ls-refs line {:?}",
                shorten(line)
            )));
        };
        if oid == "unborn" {
            continue;
        }
        if !is_oid(oid) || name.is_empty() {
            return Err(FetchError::BadResponse(format!(
                "invalid ls-refs line {:?}",
                shorten(line)
            )));
        }
        let mut peeled = None;
        for attribute in parts {
            if let Some(target) = attribute.strip_prefix("symref-target:") {
                if name == "HEAD" {
                    collector.refs.default_branch =
                        target.strip_prefix("refs/heads/").map(str::to_string);
                }
            } else if let Some(commit) = attribute.strip_prefix("peeled:") {
                if !is_oid(commit) {
                    return Err(FetchError::BadResponse(format!(
                        "invalid peeled oid in {:?}",
                        shorten(line)
                    )));
                }
                peeled = Some(commit);
            }
        }
        collector.add(name, oid, peeled);
    }
}

/// Parses a v0 advertisement (`# service=` header optional) with its `^{}` peeled lines.
pub(crate) fn parse_v0(body: &[u8]) -> Result<RepoRefs, FetchError> {
    let mut reader = PktReader::new(body);
    let mut collector = Collector::default();
    let mut first_ref = true;
    loop {
        let packet = reader.next_packet().map_err(pkt_error)?;
        let line = match packet {
            None => {
                return Err(FetchError::BadResponse(
                    "ref advertisement ended without a flush-pkt (truncated?)".into(),
                ));
            }
            // The flush after the `# service=` line, or the end of the advertisement.
            Some(Packet::Flush) if first_ref => continue,
            Some(Packet::Flush) => return Ok(collector.refs),
            Some(Packet::Delim | Packet::ResponseEnd) => {
                return Err(FetchError::BadResponse(
                    "unexpected special packet in ref advertisement".into(),
                ));
            }
            Some(Packet::Data(data)) => pktline::trim_newline(data),
        };
        if line.starts_with(b"# service=") || line == b"version 1" {
            continue;
        }
        if line == b"version 2" {
            return Err(FetchError::BadResponse(
                "expected a v0 ref advertisement, got protocol v2".into(),
            ));
        }
        if let Some(message) = line.strip_prefix(b"ERR ") {
            return Err(FetchError::BadResponse(format!(
                "server error: {}",
                shorten(message)
            )));
        }
        let (refline, capabilities) = match line.iter().position(|b| *b == 0) {
            Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
            None => (line, None),
        };
        if let Some(capabilities) = capabilities {
            let capabilities = String::from_utf8_lossy(capabilities);
            for capability in capabilities.split(' ') {
                if let Some(target) = capability.strip_prefix("symref=HEAD:refs/heads/") {
                    collector.refs.default_branch = Some(target.to_string());
                }
            }
        }
        first_ref = false;
        let text = std::str::from_utf8(refline).map_err(|_| {
            FetchError::BadResponse(format!("ref line is not UTF-8: {:?}", shorten(line)))
        })?;
        let Some((oid, name)) = text.split_once(' ') else {
            return Err(FetchError::BadResponse(format!(
                "invalid ref line {:?}",
                shorten(line)
            )));
        };
        if !is_oid(oid) {
            return Err(FetchError::BadResponse(format!(
                "invalid ref line {:?}",
                shorten(line)
            )));
        }
        if name == "capabilities^{}" || name == "HEAD" {
            continue;
        }
        match name.strip_suffix("^{}") {
            Some(tag) => collector.peel(tag, oid),
            None => collector.add(name, oid, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(lines: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            match *line {
                "0000" => pktline::write_flush(&mut out),
                _ => pktline::write_data(&mut out, line.as_bytes()),
            }
        }
        out
    }

    fn h(c: char) -> String {
        c.to_string().repeat(40)
    }

    #[test]
    fn request_body_is_a_v2_ls_refs_command() {
        let body = ls_refs_request();
        let text = String::from_utf8(body).expect("utf8");
        assert!(text.starts_with("0014command=ls-refs\n"));
        assert!(text.contains("00010009peel\n000csymrefs\n"));
        assert!(text.contains("ref-prefix refs/tags/\n0000"));
        assert!(text.ends_with("0000"));
    }

    #[test]
    fn parses_ls_refs_answer() {
        let (a, b, c) = (h('a'), h('b'), h('c'));
        let body = packets(&[
            &format!("{a} HEAD symref-target:refs/heads/main\n"),
            &format!("{a} refs/heads/main\n"),
            &format!("{c} refs/tags/v1 peeled:{b}\n"),
            &format!("{b} refs/tags/v1.0.0\n"),
            "0000",
        ]);
        let refs = parse_ls_refs(&body).expect("valid").expect("v2");
        assert_eq!(refs.default_branch.as_deref(), Some("main"));
        assert_eq!(refs.branches["main"], a);
        assert_eq!(
            refs.tags["v1"],
            TagRef {
                commit: b.clone(),
                tag_object: Some(c)
            }
        );
        assert_eq!(
            refs.tags["v1.0.0"],
            TagRef {
                commit: b,
                tag_object: None
            }
        );
    }

    #[test]
    fn ls_refs_answer_of_an_empty_repository() {
        let refs = parse_ls_refs(b"0000").expect("valid").expect("v2");
        assert_eq!(refs, RepoRefs::default());
        let unborn = packets(&["unborn HEAD symref-target:refs/heads/main\n", "0000"]);
        assert!(parse_ls_refs(&unborn)
            .expect("valid")
            .expect("v2")
            .tags
            .is_empty());
    }

    #[test]
    fn non_v2_answers_are_recognised() {
        assert_eq!(parse_ls_refs(b""), Ok(None));
        assert_eq!(
            parse_ls_refs(&packets(&["ERR unknown command\n"])),
            Ok(None)
        );
        assert_eq!(
            parse_ls_refs(&packets(&["version 2\n", "ls-refs\n", "0000"])),
            Ok(None)
        );
    }

    #[test]
    fn truncated_or_garbage_ls_refs_is_an_error() {
        let full = packets(&[&format!("{} refs/tags/v1\n", h('a')), "0000"]);
        let err = parse_ls_refs(&full[..20]).expect_err("truncated");
        assert!(err.to_string().contains("truncated pkt-line"), "{err}");
        let err = parse_ls_refs(&full[..full.len() - 4]).expect_err("no flush");
        assert!(err.to_string().contains("without a flush-pkt"), "{err}");
        let err = parse_ls_refs(b"<html>").expect_err("garbage");
        assert!(err.to_string().contains("invalid pkt-line length"), "{err}");
        let err =
            parse_ls_refs(&packets(&["nonsense refs/tags/v1\n", "0000"])).expect_err("bad oid");
        assert!(err.to_string().contains("invalid ls-refs line"), "{err}");
        let mid_err = packets(&[&format!("{} refs/tags/v1\n", h('a')), "ERR boom\n"]);
        assert!(parse_ls_refs(&mid_err)
            .expect_err("err")
            .to_string()
            .contains("boom"));
    }

    #[test]
    fn parses_v0_advertisement() {
        let (a, b, c) = (h('a'), h('b'), h('c'));
        let body = packets(&[
            "# service=git-upload-pack\n",
            "0000",
            &format!("{a} HEAD\0multi_ack symref=HEAD:refs/heads/trunk agent=x\n"),
            &format!("{a} refs/heads/trunk\n"),
            &format!("{a} refs/pull/1/head\n"),
            &format!("{c} refs/tags/v1\n"),
            &format!("{b} refs/tags/v1^{{}}\n"),
            &format!("{b} refs/tags/v1.0.0\n"),
            "0000",
        ]);
        let refs = parse_v0(&body).expect("valid");
        assert_eq!(refs.default_branch.as_deref(), Some("trunk"));
        assert_eq!(refs.branches.len(), 1);
        assert_eq!(
            refs.tags["v1"],
            TagRef {
                commit: b.clone(),
                tag_object: Some(c)
            }
        );
        assert_eq!(
            refs.tags["v1.0.0"],
            TagRef {
                commit: b,
                tag_object: None
            }
        );
    }

    #[test]
    fn parses_v0_advertisement_of_empty_repository() {
        let body = packets(&[
            &format!("{} capabilities^{{}}\0agent=x\n", "0".repeat(40)),
            "0000",
        ]);
        assert_eq!(parse_v0(&body).expect("valid"), RepoRefs::default());
    }

    #[test]
    fn bad_v0_advertisements_are_errors() {
        let body = packets(&[
            "# service=git-upload-pack\n",
            "0000",
            &format!("{} HEAD\0caps\n", h('a')),
        ]);
        assert!(parse_v0(&body)
            .expect_err("no flush")
            .to_string()
            .contains("without a flush-pkt"));
        assert!(parse_v0(&packets(&["ERR access denied\n"]))
            .expect_err("err")
            .to_string()
            .contains("access denied"));
        assert!(parse_v0(&packets(&["version 2\n", "0000"])).is_err());
        assert!(parse_v0(b"0032zz").is_err());
    }
}
