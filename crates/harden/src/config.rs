//! The optional configuration file `.github/harden.yml`: settings a repository keeps with its
//! code, so every maintainer and the pre-commit hook run harden the same way. Command-line flags
//! override it. Unknown keys are errors with file:line, so a typo never goes unnoticed.
//!
//! The file is parsed once (harden-yaml, with its limits); each transform of the registry
//! reads its own section with its serde type ([`registry::settings`]), so this module knows no
//! transform: it only checks the top-level keys and reads `commit:`.
//!
//! ```yaml
//! pin-actions:
//!   exempt: [my-org/*]          # never pinned
//!   branches: keep              # pin | keep
//!   comment-spacing: 2          # blanks before `#`
//!   tag-only: [my-org/attest/*] # kept on their tag, besides the built-in list
//!   pin-anyway: []              # built-in tag-only entries to pin anyway
//! pin-images:
//!   exempt: [my.registry.example/*]  # images never pinned
//! permissions:
//!   jobs:                       # settle jobs harden cannot infer
//!     release.yml:
//!       publish: {contents: write, id-token: write}
//! dependabot:
//!   schedule: weekly            # daily | weekly | monthly
//!   cooldown: 7                 # days; 0 for none
//!   group: true
//!   ignore-major: false
//!   ecosystems: [github-actions]
//! sign-releases:
//!   enabled: true               # run the opt-in sign-releases transform
//! commit:                       # --commit and --patch-dir
//!   signoff: true               # add `Signed-off-by:` (DCO)
//!   subject: "ci: {summary}"    # subject line template
//! ```

use std::path::{Path, PathBuf};

use harden_transforms::registry::{self, Settings};
use harden_transforms::settings::{read_section, Flags};
use harden_yaml::{DeError, Document, Node, NodeKind};
use serde::Deserialize;

/// What `.github/harden.yml` says, with the command-line flags merged over it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// The transforms' settings.
    pub settings: Settings,
    /// commit: add a `Signed-off-by:` trailer.
    pub signoff: Option<bool>,
    /// commit: subject line template (`{transform}`, `{summary}`).
    pub subject: Option<String>,
}

/// A problem in the configuration file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// The `commit:` section (`--commit` and `--patch-dir`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitSection {
    signoff: Option<bool>,
    subject: Option<Subject>,
}

/// A subject template, checked where it is written.
#[derive(Debug)]
struct Subject(String);

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let template = String::deserialize(deserializer)?;
        crate::gitops::check_subject(&template).map_err(serde::de::Error::custom)?;
        Ok(Subject(template))
    }
}

/// The section that is not a transform's.
const COMMIT: &str = "commit";

/// The configuration file of the repository at `root`, if there is one.
pub(crate) fn config_path(root: &Path) -> Option<PathBuf> {
    ["harden.yml", "harden.yaml"]
        .iter()
        .map(|n| root.join(".github").join(n))
        // Whatever is there counts (a FIFO, a link to /proc): reading it refuses it with a
        // located error, rather than the configuration being skipped without a word.
        .find(|p| std::fs::symlink_metadata(p).is_ok())
}

/// The settings of a run without configuration file: the flags over the defaults.
pub(crate) fn without_file(flags: &Flags) -> Config {
    parse(Path::new(""), "", flags).unwrap_or_default()
}

/// Reads `.github/harden.yml` under `root` and merges `flags` over it; no file gives the
/// flags over the defaults.
pub(crate) fn load(root: &Path, flags: &Flags) -> Result<Config, ConfigError> {
    let Some(path) = config_path(root) else {
        return Ok(without_file(flags));
    };
    // Through the one door: a link out of the repository, a FIFO, a device or a file of /proc
    // is a located error, never read.
    let limit = harden_github::safe_read::MAX_SMALL_FILE;
    let text =
        harden_github::safe_read::read_text(root, &path, limit).map_err(|e| ConfigError {
            path: path.clone(),
            line: 1,
            column: 1,
            message: format!("cannot read the configuration: {e}"),
        })?;
    parse(&path, &text, flags)
}

/// The top-level sections: key and value, each key a transform of the registry or `commit`.
type Sections<'d> = Vec<(&'d str, &'d Node)>;

fn sections(root: Option<&Node>) -> Result<Sections<'_>, (&Node, String)> {
    let Some(root) = root else {
        return Ok(Vec::new());
    };
    let entries = match &root.kind {
        NodeKind::Mapping(m) => &m.entries,
        _ if root.is_empty_scalar() => return Ok(Vec::new()),
        _ => return Err((root, "the file must be a mapping of sections".to_owned())),
    };
    let valid: Vec<&str> = registry::names().chain([COMMIT]).collect();
    entries
        .iter()
        .map(|e| match e.key_str() {
            Some(k) if valid.contains(&k) => Ok((k, &e.value)),
            k => Err((
                &e.key,
                format!(
                    "unknown key `{}` in the file; valid keys: {}",
                    k.unwrap_or("?"),
                    valid.join(", ")
                ),
            )),
        })
        .collect()
}

/// Parses the text of a configuration file and merges `flags` over it.
pub(crate) fn parse(path: &Path, text: &str, flags: &Flags) -> Result<Config, ConfigError> {
    let error = |line: usize, column: usize, message: String| ConfigError {
        path: path.to_path_buf(),
        line: line.max(1),
        column: column.max(1),
        message,
    };
    let located = |e: DeError| error(e.line, e.column, e.message());
    let doc = Document::parse(text).map_err(|e| {
        let loc = e.location();
        error(loc.line, loc.column, e.message())
    })?;
    if let Some(second) = doc.documents().get(1) {
        return Err(error(
            second.line,
            second.column,
            "a second YAML document (after `---`): harden reads only the first; merge them"
                .to_owned(),
        ));
    }
    let sections =
        sections(doc.root()).map_err(|(node, message)| error(node.line, node.column, message))?;
    let section = |name: &str| sections.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let settings = registry::settings(section, flags).map_err(located)?;
    let commit: CommitSection =
        read_section(section(COMMIT)).map_err(|e| located(e.under(COMMIT)))?;
    Ok(Config {
        settings,
        signoff: commit.signoff,
        subject: commit.subject.map(|s| s.0),
    })
}

#[cfg(test)]
mod tests {
    use harden_transforms::dependabot::Schedule;
    use harden_transforms::pin_actions::BranchPolicy;

    use super::*;

    fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        super::parse(path, text, &Flags::default())
    }

    #[test]
    fn reads_every_setting() {
        let text = "pin-actions:\n  exempt: [my-org/*]\n  branches: keep\n  comment-spacing: 2\npermissions:\n  jobs:\n    release.yml:\n      publish: {contents: write, id-token: write}\ndependabot:\n  schedule: monthly\n  cooldown: 3\n  group: false\n  ignore-major: true\n  ecosystems: [github-actions]\n";
        let c = parse(Path::new("h.yml"), text).expect("valid").settings;
        assert_eq!(c.pin_actions.exempt, ["my-org/*"]);
        assert_eq!(c.pin_actions.branches, BranchPolicy::Keep);
        assert_eq!(c.pin_actions.comment_spacing, Some(2));
        assert_eq!(
            c.permissions.jobs["release.yml"]["publish"]["id-token"],
            "write"
        );
        assert_eq!(c.dependabot.schedule, Schedule::Monthly);
        assert_eq!(c.dependabot.cooldown_days, 3);
        assert!(!c.dependabot.group);
        assert!(c.dependabot.ignore_major);
        assert_eq!(
            c.dependabot.ecosystems,
            Some(vec!["github-actions".to_owned()])
        );
        let c = parse(
            Path::new("h.yml"),
            "pin-actions:\n  tag-only: [a/b/*]\n  pin-anyway: slsa-framework/*\n",
        )
        .expect("valid")
        .settings;
        assert_eq!(c.pin_actions.tag_only, ["a/b/*"]);
        assert_eq!(c.pin_actions.pin_anyway, ["slsa-framework/*"]);
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let e = parse(Path::new("h.yml"), "dependabot:\n  shedule: weekly\n").expect_err("typo");
        assert_eq!((e.line, e.column), (2, 3));
        assert!(
            e.message.contains("unknown key `shedule` in dependabot"),
            "{}",
            e.message
        );
        let e = parse(Path::new("h.yml"), "pin:\n").expect_err("unknown section");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn reads_the_commit_section() {
        let text = "commit:\n  signoff: true\n  subject: 'ci: {summary}'\n";
        let c = parse(Path::new("h.yml"), text).expect("valid");
        assert_eq!(c.signoff, Some(true));
        assert_eq!(c.subject.as_deref(), Some("ci: {summary}"));
        let e = parse(Path::new("h.yml"), "commit:\n  subject: 'ci: {sumary}'\n")
            .expect_err("unknown placeholder");
        assert_eq!((e.line, e.column), (2, 12));
        assert!(e.message.contains("{sumary}"), "{}", e.message);
    }

    #[test]
    fn values_are_checked_where_they_are_written() {
        // Issue 17 point 15: these were checked late, without a line, naming a flag.
        let cases = [
            ("dependabot:\n  schedule: hourly\n", (2, 13), "hourly"),
            (
                "dependabot:\n  cooldown: 400\n",
                (2, 13),
                "`cooldown: 400` is too long",
            ),
            (
                "dependabot:\n  ecosystems: [github-actions, npmm]\n",
                (2, 32),
                "unknown ecosystem `npmm`",
            ),
            (
                "permissions:\n  jobs:\n    a.yml:\n      j: {contentz: write}\n",
                (4, 11),
                "contentz",
            ),
            (
                "pin-actions:\n  branches: keep\n---\nx: 1\n",
                (4, 1),
                "second YAML document",
            ),
        ];
        for (text, at, words) in cases {
            let e = parse(Path::new("h.yml"), text).expect_err(text);
            assert_eq!((e.line, e.column), at, "{text}: {}", e.message);
            assert!(e.message.contains(words), "{}", e.message);
            assert!(!e.message.contains(" --"), "names no flag: {}", e.message);
        }
    }

    #[test]
    fn declarations_for_unknown_workflows_and_jobs_are_found() {
        let text = "permissions:\n  jobs:\n    release.yml:\n      publish: {contents: write}\n      pubilsh: {contents: write}\n    relase.yml:\n      x: {}\n";
        let c = parse(Path::new("h.yml"), text).expect("valid");
        let workflows = vec![(
            ".github/workflows/release.yml".to_owned(),
            vec!["publish".to_owned()],
        )];
        let found = c.settings.permissions.unknown_declarations(&workflows);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (5, 7));
        assert!(found[0].2.contains("no job `pubilsh`"), "{}", found[0].2);
        assert_eq!((found[1].0, found[1].1), (6, 5));
        assert!(
            found[1].2.contains("no workflow `relase.yml`"),
            "{}",
            found[1].2
        );
    }

    #[test]
    fn reads_the_sign_releases_section() {
        let c = parse(Path::new("h.yml"), "sign-releases:\n  enabled: true\n").expect("valid");
        assert!(c.settings.enabled.contains("sign-releases"));
        assert!(parse(Path::new("h.yml"), "sign-releases:\n  enable: true\n").is_err());
    }

    #[test]
    fn flags_merge_over_the_file() {
        let text = "pin-actions:\n  exempt: [a/*]\n  branches: keep\ndependabot:\n  cooldown: 3\n  group: false\n";
        let flags = Flags {
            exempt: vec!["b/*".to_owned()],
            branches: Some(BranchPolicy::Pin),
            cooldown: Some(5),
            ..Flags::default()
        };
        let c = super::parse(Path::new("h.yml"), text, &flags)
            .expect("valid")
            .settings;
        assert_eq!(c.pin_actions.exempt, ["b/*", "a/*"]);
        assert_eq!(c.pin_actions.branches, BranchPolicy::Pin);
        assert_eq!(c.dependabot.cooldown_days, 5);
        assert!(!c.dependabot.group);
        let none = without_file(&flags).settings;
        assert_eq!(none.pin_actions.exempt, ["b/*"]);
        assert!(none.dependabot.group);
    }

    #[test]
    fn hostile_files_fail_cleanly_with_a_place() {
        let e = parse(
            Path::new("h.yml"),
            "pin-actions:\n  exempt: ['my-org/[x']\n",
        )
        .expect_err("invalid glob");
        assert_eq!((e.line, e.column), (2, 12));
        assert!(e.message.contains("invalid glob"), "{}", e.message);
        let e = parse(
            Path::new("h.yml"),
            "permissions:\n  jobs:\n    'rel[.yml':\n      j: {}\n",
        )
        .expect_err("invalid workflow glob");
        assert_eq!((e.line, e.column), (3, 5));
        assert!(
            e.message.starts_with("permissions.jobs: invalid glob"),
            "{}",
            e.message
        );
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            let refs = vec![format!("*a{p}"); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = parse(Path::new("h.yml"), &bomb).expect_err("alias bomb");
        assert!(e.message.contains("alias"), "{e:?}");
        let e = parse(
            Path::new("h.yml"),
            "pin-actions:\n  exempt: &x [a/*]\npin-images:\n  exempt: *x\n",
        )
        .expect_err("aliases are not read");
        assert_eq!((e.line, e.column), (4, 11));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse(Path::new("h.yml"), "pin-actions:\n  branches: sometimes\n").is_err());
        assert!(parse(Path::new("h.yml"), "dependabot:\n  cooldown: soon\n").is_err());
        assert!(parse(
            Path::new("h.yml"),
            "permissions:\n  jobs:\n    a.yml:\n      j: {contents: all}\n"
        )
        .is_err());
    }

    /// A deterministic stand-in for a fuzz target (this module is out of the fuzz crate's
    /// reach): 20,000 configurations made from valid ones by inserting YAML fragments,
    /// deleting and splicing. Never a panic; an error points inside the text; a subject that
    /// is accepted renders on one line with no control character.
    #[test]
    fn mutated_configurations_give_located_errors_or_settings() {
        const SEEDS: &[&str] = &[
            "pin-actions:\n  exempt: [my-org/*]\n  branches: keep\n  comment-spacing: 2\n",
            "permissions:\n  jobs:\n    release.yml:\n      publish: {contents: write, id-token: write}\n",
            "dependabot:\n  schedule: monthly\n  cooldown: 3\n  group: false\n  ecosystems: [github-actions]\n",
            "commit:\n  signoff: true\n  subject: \"ci: {summary} ({transform})\"\n",
            "sign-releases:\n  enabled: true\n",
        ];
        const FRAGMENTS: &[&str] = &[
            "\n",
            ": ",
            "- ",
            "  ",
            "{",
            "}",
            "[",
            "]",
            "&a ",
            "*a",
            "!!str ",
            "? ",
            "---\n",
            "\"",
            "'",
            "#",
            "\t",
            "\u{1b}",
            "\u{0}",
            "\u{202e}",
            "\u{2028}",
            "{summary}",
            "{transform}",
            "{{",
            "}}",
            "subject: ",
            "commit:\n  ",
            "true",
            "-1",
            "9999999999999",
            "enabled: ",
            "\\",
            "é",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..20_000 {
            let mut text: Vec<char> = SEEDS[next(SEEDS.len())].chars().collect();
            for _ in 0..=next(4) {
                let at = next(text.len() + 1);
                let (end, insert): (usize, Vec<char>) = match next(3) {
                    0 => (at, FRAGMENTS[next(FRAGMENTS.len())].chars().collect()),
                    1 => ((at + next(8)).min(text.len()), Vec::new()),
                    _ => {
                        let other: Vec<char> = SEEDS[next(SEEDS.len())].chars().collect();
                        let from = next(other.len());
                        (at, other[from..].to_vec())
                    }
                };
                text.splice(at..end, insert);
            }
            let text: String = text.into_iter().collect();
            let lines = text.split('\n').count();
            match parse(Path::new("h.yml"), &text) {
                Err(e) => {
                    assert!(e.line >= 1 && e.line <= lines, "{e:?} of {text:?}");
                    assert!(e.column >= 1, "{e:?} of {text:?}");
                }
                Ok(config) => {
                    if let Some(subject) = &config.subject {
                        let line = crate::gitops::check_subject(subject);
                        assert!(line.is_ok(), "{subject:?} of {text:?}");
                    }
                }
            }
        }
    }
}
