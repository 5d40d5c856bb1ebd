//! Git smart-HTTP answers: the v0 and v2 advertisements and the v2 `ls-refs` command.

use crate::data::{AdvertisedRef, RecordedRepo};
use crate::http::Response;

/// Content type of an `info/refs` answer.
pub(crate) const ADVERTISEMENT_TYPE: &str = "application/x-git-upload-pack-advertisement";
/// Content type of a `git-upload-pack` POST answer.
pub(crate) const RESULT_TYPE: &str = "application/x-git-upload-pack-result";

const AGENT: &str = "agent=git/harden-testserver";

/// Appends one data pkt-line.
pub(crate) fn pkt(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:04x}", data.len() + 4).as_bytes());
    out.extend_from_slice(data);
}

/// Appends a flush-pkt.
pub(crate) fn flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// The v0 advertisement for `GET info/refs?service=git-upload-pack`.
pub(crate) fn v0_advertisement(repo: &RecordedRepo, refs: &[AdvertisedRef]) -> Vec<u8> {
    let mut out = Vec::new();
    pkt(&mut out, b"# service=git-upload-pack\n");
    flush(&mut out);
    let mut caps = String::from(
        "multi_ack thin-pack side-band side-band-64k ofs-delta shallow deepen-since deepen-not \
         deepen-relative no-progress include-tag multi_ack_detailed allow-tip-sha1-in-want \
         allow-reachable-sha1-in-want no-done",
    );
    if let Some(branch) = &repo.default_branch {
        if repo.branches.contains_key(branch) {
            caps.push_str(&format!(" symref=HEAD:refs/heads/{branch}"));
        }
    }
    caps.push_str(&format!(" filter object-format=sha1 {AGENT}"));
    let mut lines: Vec<(String, String)> = Vec::new();
    if let Some(head) = repo.head_commit() {
        lines.push((head.to_string(), "HEAD".to_string()));
    }
    for r in refs {
        lines.push((r.oid.clone(), r.name.clone()));
        if let Some(peeled) = r.peeled.clone() {
            lines.push((peeled, format!("{}^{{}}", r.name)));
        }
    }
    if lines.is_empty() {
        lines.push(("0".repeat(40), "capabilities^{}".to_string()));
    }
    for (i, (oid, name)) in lines.iter().enumerate() {
        let line = if i == 0 {
            format!("{oid} {name}\0{caps}\n")
        } else {
            format!("{oid} {name}\n")
        };
        pkt(&mut out, line.as_bytes());
    }
    flush(&mut out);
    out
}

/// The v2 capability advertisement for `GET info/refs` with `Git-Protocol: version=2`.
pub(crate) fn v2_capabilities() -> Vec<u8> {
    let mut out = Vec::new();
    for line in [
        "version 2\n",
        &format!("{AGENT}\n"),
        "ls-refs=unborn\n",
        "fetch=shallow wait-for-done filter\n",
        "server-option\n",
        "object-format=sha1\n",
    ] {
        pkt(&mut out, line.as_bytes());
    }
    flush(&mut out);
    out
}

/// A parsed v2 command request: the command, its capabilities and arguments.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CommandRequest {
    pub command: String,
    pub capabilities: Vec<String>,
    pub args: Vec<String>,
}

/// Parses a v2 request body: `command=X`, capabilities, delim-pkt, arguments, flush-pkt.
pub(crate) fn parse_command_request(body: &[u8]) -> Result<CommandRequest, String> {
    let mut request = CommandRequest::default();
    let mut pos = 0;
    let mut in_args = false;
    loop {
        let header = body.get(pos..pos + 4).ok_or("truncated pkt-line header")?;
        let header = std::str::from_utf8(header).map_err(|_| "bad pkt-line header")?;
        let len = usize::from_str_radix(header, 16)
            .map_err(|_| format!("bad pkt-line length {header:?}"))?;
        pos += 4;
        match len {
            0 => break,
            1 => {
                in_args = true;
                continue;
            }
            2 | 3 => return Err(format!("unexpected special packet {len:04x}")),
            _ => {}
        }
        let data = body.get(pos..pos + len - 4).ok_or("truncated pkt-line")?;
        pos += len - 4;
        let line = String::from_utf8_lossy(data)
            .trim_end_matches('\n')
            .to_string();
        if request.command.is_empty() && !in_args {
            request.command = line
                .strip_prefix("command=")
                .ok_or_else(|| format!("expected command=, got {line:?}"))?
                .to_string();
        } else if in_args {
            request.args.push(line);
        } else {
            request.capabilities.push(line);
        }
    }
    if request.command.is_empty() {
        return Err("no command".to_string());
    }
    Ok(request)
}

/// Answers a v2 `ls-refs` request body.
pub(crate) fn ls_refs(repo: &RecordedRepo, refs: &[AdvertisedRef], body: &[u8]) -> Response {
    let request = match parse_command_request(body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    if request.command != "ls-refs" {
        return error_response(&format!("unknown command {:?}", request.command));
    }
    let peel = request.args.iter().any(|a| a == "peel");
    let symrefs = request.args.iter().any(|a| a == "symrefs");
    let prefixes: Vec<&str> = request
        .args
        .iter()
        .filter_map(|a| a.strip_prefix("ref-prefix "))
        .collect();
    let matches = |name: &str| prefixes.is_empty() || prefixes.iter().any(|p| name.starts_with(p));
    let mut out = Vec::new();
    if let Some(head) = repo.head_commit() {
        if matches("HEAD") {
            let mut line = format!("{head} HEAD");
            if let (true, Some(branch)) = (symrefs, &repo.default_branch) {
                line.push_str(&format!(" symref-target:refs/heads/{branch}"));
            }
            line.push('\n');
            pkt(&mut out, line.as_bytes());
        }
    }
    for r in refs {
        if !matches(&r.name) {
            continue;
        }
        let mut line = format!("{} {}", r.oid, r.name);
        if let (true, Some(peeled)) = (peel, &r.peeled) {
            line.push_str(&format!(" peeled:{peeled}"));
        }
        line.push('\n');
        pkt(&mut out, line.as_bytes());
    }
    flush(&mut out);
    Response::new(200, RESULT_TYPE, out)
}

fn error_response(message: &str) -> Response {
    let mut out = Vec::new();
    pkt(&mut out, format!("ERR {message}\n").as_bytes());
    Response::new(200, RESULT_TYPE, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordedRepo {
        RecordedRepo::new("o/r")
            .with_branch("main", &"a".repeat(40))
            .with_tag("v1.0.0", &"b".repeat(40))
            .with_annotated_tag("v1", &"c".repeat(40), &"b".repeat(40))
    }

    fn request(args: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        pkt(&mut body, b"command=ls-refs\n");
        pkt(&mut body, b"agent=test\n");
        body.extend_from_slice(b"0001");
        for arg in args {
            pkt(&mut body, format!("{arg}\n").as_bytes());
        }
        flush(&mut body);
        body
    }

    #[test]
    fn ls_refs_honours_prefixes_peel_and_symrefs() {
        let response = ls_refs(
            &sample(),
            &sample().advertised_refs(),
            &request(&[
                "peel",
                "symrefs",
                "ref-prefix HEAD",
                "ref-prefix refs/tags/",
            ]),
        );
        let text = String::from_utf8(response.body).expect("utf8");
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let c = "c".repeat(40);
        let mut expected = Vec::new();
        pkt(
            &mut expected,
            format!("{a} HEAD symref-target:refs/heads/main\n").as_bytes(),
        );
        pkt(
            &mut expected,
            format!("{c} refs/tags/v1 peeled:{b}\n").as_bytes(),
        );
        pkt(&mut expected, format!("{b} refs/tags/v1.0.0\n").as_bytes());
        flush(&mut expected);
        let expected = String::from_utf8(expected).expect("utf8");
        assert_eq!(text, expected);
    }

    #[test]
    fn ls_refs_without_prefix_lists_pull_refs() {
        let response = ls_refs(&sample(), &sample().advertised_refs(), &request(&[]));
        let text = String::from_utf8(response.body).expect("utf8");
        assert!(text.contains("refs/pull/1/head"));
        assert!(!text.contains("peeled:"));
        let filtered = ls_refs(
            &sample(),
            &sample().advertised_refs(),
            &request(&["ref-prefix refs/heads/"]),
        );
        let text = String::from_utf8(filtered.body).expect("utf8");
        assert!(!text.contains("refs/pull/"));
        assert!(text.contains("refs/heads/main"));
    }

    #[test]
    fn v0_advertisement_has_peeled_lines() {
        let text = String::from_utf8(v0_advertisement(&sample(), &sample().advertised_refs()))
            .expect("utf8");
        assert!(text.starts_with("001e# service=git-upload-pack\n0000"));
        assert!(text.contains(" HEAD\0multi_ack"));
        assert!(text.contains("symref=HEAD:refs/heads/main"));
        let b = "b".repeat(40);
        assert!(text.contains(&format!("{b} refs/tags/v1^{{}}\n")));
        assert!(text.ends_with("0000"));
    }

    #[test]
    fn bad_request_gets_err_packet() {
        let response = ls_refs(&sample(), &[], b"00");
        assert!(String::from_utf8_lossy(&response.body).contains("ERR "));
    }
}
