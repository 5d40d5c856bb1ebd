//! `harden-testserver --refs DIR [--actions DIR] [--latency-ms N] [--port P] [--no-v2]`: serves
//! the recorded refs of DIR (and the recorded action files of `--actions` in the raw form
//! `/{owner}/{repo}/raw/{ref}/{path}`) as a fake GitHub on 127.0.0.1, prints its URL on the first
//! line of stdout and serves until killed.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use harden_testserver::{default_refs_dir, ServerOptions, TestServer};

const USAGE: &str =
    "usage: harden-testserver [--refs DIR] [--actions DIR] [--latency-ms N] [--port P] [--no-v2]";

struct Args {
    refs: PathBuf,
    actions: PathBuf,
    latency_ms: u64,
    port: u16,
    v2: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        refs: default_refs_dir(),
        actions: harden_testserver::default_actions_dir(),
        latency_ms: 0,
        port: 0,
        v2: true,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| iter.next())
                .ok_or_else(|| format!("{what} needs a value"))
        };
        match name.as_str() {
            "--refs" => args.refs = PathBuf::from(value("--refs")?),
            "--actions" => args.actions = PathBuf::from(value("--actions")?),
            "--latency-ms" => {
                args.latency_ms = value("--latency-ms")?
                    .parse()
                    .map_err(|_| "--latency-ms needs a number")?;
            }
            "--port" => {
                args.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port needs a port number")?
            }
            "--no-v2" => args.v2 = false,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let mut stderr = io::stderr().lock();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(stderr, "{message}");
            return ExitCode::from(2);
        }
    };
    let repos = match harden_testserver::load_refs_dir(&args.refs) {
        Ok(repos) => repos,
        Err(e) => {
            let _ = writeln!(
                stderr,
                "harden-testserver: cannot read {}: {e}",
                args.refs.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let mut options = ServerOptions::default().latency(Duration::from_millis(args.latency_ms));
    if !args.v2 {
        options = options.without_v2();
    }
    let server = match TestServer::start_with_repos(repos.into_values(), options, args.port) {
        Ok(server) => server,
        Err(e) => {
            let _ = writeln!(stderr, "harden-testserver: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    server.set_actions_dir(&args.actions);
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "{}", server.url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    loop {
        std::thread::park();
    }
}
