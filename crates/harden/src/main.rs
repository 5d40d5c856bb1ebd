//! `harden`: a codemod that hardens GitHub Actions workflows. See `harden --help`.

mod audit;
mod cli;
mod config;
mod discover;
mod escape;
mod formats;
mod fsutil;
mod gitops;
mod mailpatch;
mod messages;
mod prefetch;
mod report;
mod run;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use cli::{exit, Args, Color, Format};
use report::{Mode, Style};

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "completions") {
        return ExitCode::from(completions(argv.get(2).and_then(|s| s.to_str())) as u8);
    }
    // `harden audit ...` is the audit; `harden ./audit` or `harden -- audit` hardens a
    // folder named `audit` (docs/audit.md).
    if argv.get(1).is_some_and(|a| a == "audit") {
        return ExitCode::from(audit::main(&argv[2..]) as u8);
    }
    fsutil::remove_temporary_files_on_signals();
    // `harden update ...` is a run of the `update` transform alone, with the run's flags
    // (docs/usage.md, "harden update").
    let update = argv.get(1).is_some_and(|a| a == "update");
    let parsed = if update {
        let rest = argv[..1].iter().chain(&argv[2..]);
        Args::try_parse_from(rest).map(|mut a| {
            a.only = vec![harden_transforms::pin_actions::update::INFO.name.to_owned()];
            a
        })
    } else {
        Args::try_parse()
    };
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
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
    if let Err(msg) = args
        .subject
        .as_deref()
        .map_or(Ok(()), gitops::check_subject)
    {
        return usage_error(&format!("--subject: {msg}"));
    }
    let update = harden_transforms::pin_actions::update::INFO.name;
    if (args.min_age.is_some() || args.major) && !selected.contains(&update) {
        return usage_error("--min-age and --major go with `harden update`");
    }
    if (args.signoff || args.subject.is_some()) && !(args.commit || args.patch_dir.is_some()) {
        return usage_error("--signoff and --subject go with --commit or --patch-dir");
    }
    // Inside a hook of harden's own `--commit`: the transforms still to be committed are not
    // checked yet (see gitops::PENDING_ENV).
    let selected = gitops::without_pending(selected);
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
    let shared = match run::Shared::new(args, selected) {
        Ok(s) => s,
        Err(msg) => return usage_error(&msg),
    };
    let mut reports = run::run(args, &shared, mode);
    messages::drop_notes_on_unnamed_files(&mut reports, &args.paths);
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
    if mode == Mode::Commit && args.no_verify && reports.iter().any(|r| !r.written.is_empty()) {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: --no-verify: the repository's git hooks were not run for harden's commits"
        );
    }
    if printed.is_err() {
        // stdout closed (a pipe to `head`): nothing more to say.
        return code;
    }
    code
}

/// `harden completions bash|zsh|fish|elvish|powershell`: prints a completion script.
fn completions(shell: Option<&str>) -> i32 {
    use clap::CommandFactory;
    let Some(shell) = shell.and_then(|s| s.parse::<clap_complete::Shell>().ok()) else {
        return usage_error("usage: harden completions bash|zsh|fish|elvish|powershell");
    };
    // The completion script offers the registry's names after `--only` and `--skip`
    // (parsing keeps its own check, with its own message).
    let names = || clap::builder::PossibleValuesParser::new(harden_transforms::registry::names());
    let mut cmd = Args::command()
        .mut_arg("only", |a| a.value_parser(names()))
        .mut_arg("skip", |a| a.value_parser(names()));
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "harden", &mut script);
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
    exit::OK
}

fn usage_error(msg: &str) -> i32 {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "error: {}\n\nFor more information, try '--help'.",
        escape::message(msg)
    );
    exit::USAGE
}
