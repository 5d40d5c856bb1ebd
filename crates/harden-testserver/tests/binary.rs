//! The `harden-testserver` binary prints its URL on the first line and serves until killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use harden_testserver::default_refs_dir;

#[test]
fn binary_prints_its_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harden-testserver"))
        .args([
            "--refs",
            default_refs_dir().to_str().expect("utf-8 path"),
            "--latency-ms",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn harden-testserver");
    let mut first_line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("read URL");
    let url = first_line.trim().to_string();

    let result = (|| {
        let address = url
            .strip_prefix("http://")
            .ok_or("URL starts with http://")?;
        let mut stream = TcpStream::connect(address).map_err(|_| "connect")?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|_| "timeout")?;
        stream
            .write_all(
                b"GET /repos/Actions/Checkout HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .map_err(|_| "write")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).map_err(|_| "read")?;
        Ok::<String, &str>(answer)
    })();
    child.kill().expect("kill the server we started");
    child.wait().expect("reap");

    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let answer = result.expect("HTTP exchange");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("\"default_branch\":\"main\""), "{answer}");
    assert!(
        answer.contains("\"full_name\":\"actions/checkout\""),
        "{answer}"
    );
}

#[test]
fn binary_rejects_unknown_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_harden-testserver"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument"));
}

/// The REST answers pinact needs: the `/api/v3` prefix of GitHub Enterprise Server, a commit
/// by ref (bare SHA with `Accept: application/vnd.github.sha`), an empty release list.
#[test]
fn serves_the_enterprise_prefix_commits_and_releases() {
    let server = harden_testserver::TestServer::start(default_refs_dir()).expect("server");
    let address = server.url().trim_start_matches("http://").to_string();
    let get = |path: &str, accept: &str| {
        let mut stream = TcpStream::connect(&address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    };
    let sha = get(
        "/api/v3/repos/actions/checkout/commits/v4.0.0",
        "application/vnd.github.v3.sha",
    );
    assert!(sha.starts_with("HTTP/1.1 200"), "{sha}");
    let body = sha.rsplit("\r\n\r\n").next().unwrap_or_default();
    assert_eq!(body.len(), 40, "{sha}");
    let json = get(
        "/api/v3/repos/actions/checkout/commits/v4.0.0",
        "application/json",
    );
    assert!(json.contains(&format!("\"sha\":\"{body}\"")), "{json}");
    let missing = get("/repos/actions/checkout/commits/no-such-ref", "*/*");
    assert!(missing.starts_with("HTTP/1.1 422"), "{missing}");
    let releases = get("/api/v3/repos/actions/checkout/releases", "*/*");
    assert!(releases.ends_with("[]"), "{releases}");
}
