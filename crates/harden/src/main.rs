//! `harden`: a codemod that hardens GitHub Actions workflows. See `harden --help`.

mod cli;
mod discover;
mod formats;
mod fsutil;
mod gitops;
mod report;
mod run;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use cli::{exit, Args, Color, Format};
use report::{Mode, Style};

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    ExitCode::from(run_main(&args) as u8)
}

fn run_main(args: &Args) -> i32 {
    let selected = match args.selected_transforms() {
        Ok(s) => s,
        Err(msg) => return usage_error(&msg),
    };
    if args.jobs == 0 {
        return usage_error("--jobs must be at least 1");
    }
    let mode = if args.check {
        Mode::Check
    } else if args.patch_dir.is_some() {
        Mode::Patch
    } else if args.commit {
        Mode::Commit
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    let transforms = match run::build_transforms(args, &selected) {
        Ok(t) => t,
        Err(msg) => return usage_error(&msg),
    };
    let reports = run::run(args, &transforms, mode);
    let code = if reports.iter().any(report::RepoReport::has_errors) {
        exit::INPUT_ERROR
    } else if mode == Mode::Check && reports.iter().any(report::RepoReport::has_changes) {
        exit::CHANGES_NEEDED
    } else {
        exit::OK
    };
    let printed = match args.format {
        Format::Text => report::print_text(&reports, mode, Style { color }),
        Format::Json => report::print_json(&reports, code),
        Format::Sarif => formats::print_sarif(&reports),
        Format::Github => formats::print_github(&reports),
    };
    if printed.is_err() {
        // stdout closed (a pipe to `head`): nothing more to say.
        return code;
    }
    code
}

fn usage_error(msg: &str) -> i32 {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error: {msg}\n\nFor more information, try '--help'.");
    exit::USAGE
}
