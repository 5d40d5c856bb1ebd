//! The raw form `/{owner}/{repo}/raw/{ref}/{path}` serves recorded action files.

use std::io::{Read, Write};
use std::net::TcpStream;

use harden_testserver::{default_refs_dir, RecordedRepo, TestServer};

fn get(server: &TestServer, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serves_recorded_files_for_any_ref() {
    let server = TestServer::start(default_refs_dir()).expect("start");
    let (status, body) = get(&server, "/actions/checkout/raw/v4/action.yml");
    assert_eq!(status, 200);
    assert!(body.contains("persist-credentials"), "{body}");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let (status, _) = get(&server, &format!("/Actions/Checkout/raw/{sha}/action.yml"));
    assert_eq!(status, 200, "any 40-hex commit, any case");
    let (status, body) = get(&server, "/github/codeql-action/raw/v3/init/action.yml");
    assert_eq!(status, 200, "subdirectory action");
    assert!(body.contains("runs:"));
    for missing in [
        "/actions/checkout/raw/no-such-tag/action.yml",
        "/actions/checkout/raw/v4/no/such/file.yml",
        "/actions/checkout/raw/v4/../checkout/action.yml",
        "/nobody/nothing/raw/v1/action.yml",
    ] {
        assert_eq!(get(&server, missing).0, 404, "{missing}");
    }
}

#[test]
fn serves_from_another_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("o__r/sub")).expect("mkdir");
    std::fs::write(dir.path().join("o__r/sub/action.yml"), "name: x\n").expect("write");
    let server = TestServer::start_with_repos(
        [RecordedRepo::new("o/r").with_branch("release/v1", &"a".repeat(40))],
        Default::default(),
        0,
    )
    .expect("start");
    server.set_actions_dir(dir.path());
    let (status, body) = get(&server, "/o/r/raw/release/v1/sub/action.yml");
    assert_eq!((status, body.as_str()), (200, "name: x\n"));
}
