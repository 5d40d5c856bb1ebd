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
