//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Exit codes, as documented in `--help` and the README.
pub(crate) mod exit {
    /// Nothing to do, or every change applied.
    pub(crate) const OK: i32 = 0;
    /// `--check`: some change would be made.
    pub(crate) const CHANGES_NEEDED: i32 = 1;
    /// Some input could not be processed (the others still were).
    pub(crate) const INPUT_ERROR: i32 = 2;
    /// The command line was wrong.
    pub(crate) const USAGE: i32 = 64;
}

use harden_transforms::registry;

/// The help of `--only`: every transform of the registry, and which are opt-in.
fn only_help() -> String {
    let names: Vec<&str> = registry::names().collect();
    let opt_in: Vec<&str> = registry::TRANSFORMS
        .iter()
        .filter(|t| t.opt_in)
        .map(|t| t.name)
        .collect();
    format!(
        "Run only these transforms (comma-separated: {}; {} run only when named here or enabled in .github/harden.yml)",
        names.join(", "),
        opt_in.join(", ")
    )
}

const AFTER_HELP: &str = "\
Examples:
  harden --only pin-actions --dry-run   show what pinning would change; write nothing
  harden                                apply every transform to the repository here
  harden --check                        for pre-commit and CI: exit 1 if anything would change
  harden .github/workflows/ci.yml       process just these files (what pre-commit does)
  harden ~/src/a ~/src/b                migrate several repositories in one run
  harden --commit --signoff             one signed-off commit per transform (hooks run)
  harden --patch-dir out/               the same commits as patches for `git am out/*.patch`
  harden completions bash               print a shell completion script (bash, zsh, fish)
  harden audit ~/src                    where each repository stands (read-only; `harden audit --help`)
  harden update --dry-run               move SHA pins to the newest release past the cooldown

Exit codes:
  0   nothing to do, or every change applied
  1   --check: changes are needed
  2   some input could not be processed (the other files still were)
  64  usage error

Environment:
  GITHUB_SERVER_URL  git server (default https://github.com)
  GITHUB_API_URL     REST API (default https://api.github.com)
  GITHUB_TOKEN, GH_TOKEN  token for private repositories and the API resolver
  HARDEN_CACHE_DIR   where resolved refs are cached (default: the user cache folder)
  HARDEN_REGISTRY_MIRRORS  container registries to reach through a mirror
                     (`docker.io=https://mirror.example,ghcr.io=...`)
  NO_COLOR           no colour";

/// Harden GitHub Actions workflows: pin actions to commit SHAs and container images to
/// digests, least-privilege token permissions, Dependabot updates. Every change keeps the rest of the file byte for byte.
#[derive(Debug, Parser)]
#[command(name = "harden", version, after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// Repository roots or single files (workflows, action.yml, dependabot.yml). Default: `.`
    pub paths: Vec<PathBuf>,

    /// Run only these transforms (the help lists the registry's names).
    #[arg(long, value_delimiter = ',', value_name = "T,...", help = only_help())]
    pub only: Vec<String>,

    /// Run every transform but these.
    #[arg(long, value_delimiter = ',', value_name = "T,...")]
    pub skip: Vec<String>,

    /// Show the diff of each transform; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write nothing; exit 1 when any change would be made (for pre-commit and CI).
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// In a git work tree: apply each transform as its own commit, with a message that lists
    /// what changed and why.
    #[arg(long, conflicts_with_all = ["check", "dry_run", "patch_dir"])]
    pub commit: bool,

    /// Write one patch per transform into DIR instead of changing files, in `git format-patch`
    /// form: `git am DIR/*.patch` makes the commits `--commit` would; `git apply` also works.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["check", "dry_run"])]
    pub patch_dir: Option<PathBuf>,

    /// --commit, --patch-dir: add a `Signed-off-by:` trailer with git's committer identity, as
    /// `git commit -s` does (for projects that require the DCO).
    #[arg(long)]
    pub signoff: bool,

    /// --commit: do not run the repository's git hooks (pre-commit, commit-msg) for harden's
    /// commits. They run by default.
    #[arg(long, requires = "commit")]
    pub no_verify: bool,

    /// --commit, --patch-dir: the subject line of each commit; placeholders `{transform}` and
    /// `{summary}` [default: "harden: {transform}"].
    #[arg(long, value_name = "TEMPLATE")]
    pub subject: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// pin-actions, pin-images: use only cached refs and digests; report what is not cached.
    #[arg(long)]
    pub offline: bool,

    /// pin-actions: require the version comments of SHA pins to be checked against the server
    /// (exit 2 when the refs cannot be fetched); without it they are accepted with a note.
    #[arg(long)]
    pub verify: bool,

    /// pin-actions, pin-images: ignore cached refs and digests and ask again.
    #[arg(long)]
    pub refresh: bool,

    /// Read refs (DIR/refs/<owner>__<repo>.json) and action files
    /// (DIR/actions/<owner>__<repo>/<path>) from recorded data, never from the network: for
    /// air-gapped machines and the demo [env: HARDEN_RECORDED].
    #[arg(long, value_name = "DIR")]
    pub recorded: Option<PathBuf>,

    /// pin-actions: how to resolve refs (git protocol, or the REST API with a token).
    #[arg(long, value_enum, default_value_t = ResolverKind::Git)]
    pub resolver: ResolverKind,

    /// pin-actions, pin-images: repositories (and images) resolved at once (default: every
    /// repository of the run at once, up to 64; over HTTP/2 they share one connection per host).
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub jobs: usize,

    /// pin-actions, pin-images: seconds to wait for each answer from a server [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,

    /// pin-actions: what to do with branch references (`@main`) [default: pin].
    #[arg(long, value_enum)]
    pub branches: Option<Branches>,

    /// pin-actions: never pin these actions (globs such as `my-org/*`; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exempt: Vec<String>,

    /// permissions: declare a job's permissions, for jobs harden cannot settle
    /// (`release.yml:publish=contents:write,id-token:write`; repeatable).
    #[arg(long, value_name = "WORKFLOW:JOB=SCOPE:ACCESS,...")]
    pub declare: Vec<String>,

    /// permissions: move the write scopes of a top-level `permissions:` block down to the
    /// jobs that need them (the top level keeps read access; what Scorecard rewards).
    #[arg(long)]
    pub move_writes: bool,

    /// permissions: replace a block the maintainers wrote that grants more than harden
    /// settles for a fully settled job (or the jobs inheriting a top-level block) with
    /// harden's block, keeping the comments before it and on its key's line.
    #[arg(long)]
    pub narrow: bool,

    /// permissions: leave a job undetermined when it runs a program harden cannot see into,
    /// even with no sign that it pushes or calls the API (by default such a program is
    /// assumed not to, and the assumption is reported).
    #[arg(long)]
    pub strict: bool,

    /// permissions: the repository's default token permissions ("Workflow permissions" in its
    /// settings): `read` or `write`. Where read, jobs without a block cannot write today and
    /// are settled [default: read from the API with a token, else unknown].
    #[arg(long, value_name = "read|write")]
    pub repository_default: Option<String>,

    /// dependabot: update schedule of new entries [default: weekly].
    #[arg(long, value_enum)]
    pub schedule: Option<Schedule>,

    /// dependabot: do not group action updates into one pull request.
    #[arg(long)]
    pub no_group: bool,

    /// dependabot: days a new release waits before Dependabot proposes it (0: no cooldown)
    /// [default: 7].
    #[arg(long, value_name = "DAYS")]
    pub cooldown: Option<u32>,

    /// dependabot: ignore major version updates.
    #[arg(long)]
    pub ignore_major: bool,

    /// update: days a release must have before a pin moves to it [default: the `cooldown:
    /// default-days` of dependabot.yml's github-actions entry, else 7].
    #[arg(long, value_name = "DAYS")]
    pub min_age: Option<u32>,

    /// update: move to later majors too (never across a dependabot.yml `ignore` rule).
    #[arg(long)]
    pub major: bool,

    /// dependabot: only these ecosystems (e.g. `github-actions`); `all` stands for every
    /// detected one. `gitsubmodule` is configured only when listed (`all,gitsubmodule`).
    #[arg(long, value_delimiter = ',', value_name = "E,...")]
    pub ecosystems: Vec<String>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Diffs and messages for people.
    Text,
    /// One JSON document on stdout (schema in docs/usage.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub workflow commands (`::warning file=…::`), shown as annotations.
    Github,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Resolver choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ResolverKind {
    /// git's smart-HTTP protocol: one request per repository, no token needed.
    Git,
    /// The REST API (GITHUB_TOKEN or GH_TOKEN).
    Api,
}

/// Branch reference policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Branches {
    /// Pin to the branch tip, with a warning.
    Pin,
    /// Leave branch references alone.
    Keep,
}

/// Dependabot schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Schedule {
    /// Every weekday.
    Daily,
    /// Once a week.
    Weekly,
    /// Once a month.
    Monthly,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err("a number of seconds between 0 and 3600".to_owned()),
    }
}

impl Args {
    /// The transforms selected by `--only` and `--skip`, in running order, or the unknown name.
    pub(crate) fn selected_transforms(&self) -> Result<Vec<&'static str>, String> {
        for name in self.only.iter().chain(&self.skip) {
            if registry::find(name).is_none() {
                return Err(format!(
                    "unknown transform `{name}`; valid names: {}",
                    registry::names().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(registry::TRANSFORMS
            .iter()
            .filter(|t| {
                let named = self.only.iter().any(|o| o == t.name);
                named || (self.only.is_empty() && !t.opt_in)
            })
            .map(|t| t.name)
            .filter(|t| !self.skip.iter().any(|s| s == t))
            .collect())
    }

    /// True when an opt-in transform may run because a repository's `.github/harden.yml`
    /// enables it: no `--only`, and not `--skip`ped.
    pub(crate) fn opt_in_allowed(&self, name: &str) -> bool {
        self.only.is_empty() && !self.skip.iter().any(|s| s == name)
    }
}
