//! Reading an existing `dependabot.yml`: validation, its `updates` entries, which
//! (ecosystem, directory) pairs they cover, and what to report about them.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use harden_yaml::render::{double_quoted, single_quoted};
use harden_yaml::{Document, Lookup, NewEntry, NewValue, Node, NodeKind, ScalarStyle};
use yaml_rust2::Yaml;

use super::{KNOWN_ECOSYSTEMS, NAME};
use crate::globs::{self, Flavor};
use crate::{Finding, Severity};

/// One entry of `updates`, as far as harden needs it.
#[derive(Debug, Clone)]
pub(crate) struct UpdateEntry {
    /// Position of the entry in `updates`.
    pub(crate) index: usize,
    /// 1-based line of the entry.
    pub(crate) line: usize,
    /// `package-ecosystem`.
    pub(crate) ecosystem: String,
    /// `directory` or `directories`, normalised (may hold globs), with their lines.
    pub(crate) dirs: Vec<(String, usize)>,
    /// `target-branch`, if set.
    pub(crate) target_branch: Option<String>,
    /// Has a `groups` key.
    pub(crate) has_groups: bool,
    /// `groups` and `target-branch` as written, for a new entry that must match this one.
    pub(crate) branch_and_groups: Vec<NewEntry>,
    /// Has a `cooldown` key.
    pub(crate) has_cooldown: bool,
    /// The `cooldown` days as written: (key, days, line) of `default-days` and the
    /// `semver-*-days` that are integers; `default-days` counts as 0 at the `cooldown` line
    /// when the entry has a `cooldown` without it.
    pub(crate) cooldown_days: Vec<(&'static str, i64, usize)>,
    /// Belongs to a `multi-ecosystem-group` (which does the grouping).
    pub(crate) multi_group: bool,
    /// `open-pull-requests-limit`, when it is an integer.
    pub(crate) pr_limit: Option<i64>,
    /// How `package-ecosystem` is quoted.
    pub(crate) quote: Option<ScalarStyle>,
    /// The entry's values of the keys new entries copy ([`POLICY_KEYS`]), as written.
    pub(crate) policy: BTreeMap<&'static str, NewValue>,
    /// Has a `reviewers` key (retired: new entries do not copy it).
    pub(crate) has_reviewers: bool,
}

/// The keys whose values are project policy, which new entries copy from existing ones, in
/// the order of the options reference.
pub(crate) const POLICY_KEYS: &[&str] = &[
    "assignees",
    "commit-message",
    "labels",
    "open-pull-requests-limit",
    "rebase-strategy",
    "schedule",
];

/// A valid configuration's entries.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The `updates` entries in order.
    pub(crate) entries: Vec<UpdateEntry>,
}

/// Normalises a Dependabot directory: leading `/`, no trailing `/`, no `.` or empty segments.
pub(crate) fn normalize_dir(dir: &str) -> String {
    let segs: Vec<&str> = dir
        .trim()
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", segs.join("/"))
}

/// True when the normalised `pattern` (a directory, or a glob from `directories` with `*`
/// within a segment and `**` across segments) covers the normalised directory `dir`. A
/// trailing `/**` also covers the folder itself (`/a/**` covers `/a`).
pub(crate) fn dir_matches(pattern: &str, dir: &str) -> bool {
    let relative = |s: &str| -> String {
        s.split('/')
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    };
    let (pattern, dir) = (relative(pattern), relative(dir));
    let itself = pattern.strip_suffix("/**");
    globs::matches(&pattern, Flavor::Paths, &dir)
        || itself.is_some_and(|p| globs::matches(p, Flavor::Paths, &dir))
}

/// True when an entry of `entry_ecosystem` updates manifests that harden detects as `ecosystem`:
/// `pip` and `uv` entries cover each other's folders, so do `npm` and `bun` (the project chose
/// one; a second entry would update the same manifest twice).
pub(crate) fn ecosystem_covers(entry_ecosystem: &str, ecosystem: &str) -> bool {
    super::manifests::family(entry_ecosystem) == super::manifests::family(ecosystem)
}

/// `node` as a value to write elsewhere: aliases resolved, scalars in their own quoting.
/// `None` for what cannot be copied faithfully (merge keys, complex keys, empty values).
fn copy(reader: &Lookup<'_>, node: &Node, depth: usize) -> Option<NewValue> {
    if depth > 16 {
        return None;
    }
    let node = reader.resolve(node);
    match &node.kind {
        NodeKind::Scalar(s) => copy_scalar(s),
        NodeKind::Mapping(m) => m
            .entries
            .iter()
            .map(|e| {
                let key = e.key_str().filter(|k| *k != "<<")?;
                Some(NewEntry::new(key, copy(reader, &e.value, depth + 1)?))
            })
            .collect::<Option<Vec<_>>>()
            .map(NewValue::Mapping),
        NodeKind::Sequence(seq) => seq
            .items
            .iter()
            .map(|i| copy(reader, i, depth + 1))
            .collect::<Option<Vec<_>>>()
            .map(NewValue::Sequence),
        NodeKind::Alias(_) => None,
    }
}

/// A scalar as written: quoted ones keep their quotes, plain ones their type.
fn copy_scalar(s: &harden_yaml::Scalar) -> Option<NewValue> {
    let one_line = !s.value.contains(['\n', '\r']);
    match s.style {
        _ if s.tag.is_some() => Some(NewValue::String(s.value.clone())),
        ScalarStyle::Plain if s.value.is_empty() => None,
        ScalarStyle::Plain => match Yaml::from_str(&s.value) {
            Yaml::String(_) => Some(NewValue::String(s.value.clone())),
            _ => Some(NewValue::Plain(s.value.clone())),
        },
        ScalarStyle::SingleQuoted if one_line && !s.value.chars().any(char::is_control) => {
            Some(NewValue::Plain(single_quoted(&s.value)))
        }
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            Some(NewValue::Plain(double_quoted(&s.value)))
        }
        ScalarStyle::Literal | ScalarStyle::Folded => Some(NewValue::String(s.value.clone())),
    }
}

/// Reads and validates `doc`. Returns `None` after pushing `Error` findings when the file is not
/// a configuration harden may extend.
pub(crate) fn read(doc: &Document, path: &FsPath, findings: &mut Vec<Finding>) -> Option<Config> {
    let mut errors = Vec::new();
    let config = read_inner(doc, &mut errors);
    if errors.is_empty() {
        return config;
    }
    for (line, message) in errors {
        findings.push(Finding {
            transform: NAME,
            path: path.to_owned(),
            line,
            column: None,
            severity: Severity::Error,
            message: format!("{message}; the file is left unchanged"),
        });
    }
    None
}

type Errors = Vec<(Option<usize>, String)>;

fn read_inner(doc: &Document, errors: &mut Errors) -> Option<Config> {
    let docs = doc.documents();
    let Some(root) = docs.first() else {
        errors.push((
            None,
            "the file is empty: it needs `version: 2` and `updates`".into(),
        ));
        return None;
    };
    if docs.len() > 1 {
        errors.push((
            Some(docs[1].line),
            "the file holds more than one YAML document".into(),
        ));
        return None;
    }
    let reader = Lookup::new(root);
    if reader.resolve(root).as_mapping().is_none() {
        errors.push((Some(root.line), "the top level is not a mapping".into()));
        return None;
    }
    check_version(&reader, root, errors);
    let beta = reader
        .get(root, "enable-beta-ecosystems")
        .and_then(Node::as_str)
        .is_some_and(|v| v == "true");
    let Some(updates) = reader.get(root, "updates") else {
        errors.push((Some(root.line), "`updates` is missing".into()));
        return None;
    };
    let Some(seq) = updates.as_sequence() else {
        errors.push((Some(updates.line), "`updates` is not a list".into()));
        return None;
    };
    let entries = seq
        .items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            let mut entry = read_entry(&reader, reader.resolve(item), beta, errors)?;
            entry.index = index;
            Some(entry)
        })
        .collect();
    Some(Config { entries })
}

/// Reports a `version` that is not the number 2.
fn check_version<'d>(reader: &Lookup<'d>, root: &'d Node, errors: &mut Errors) {
    let Some(v) = reader.get(root, "version") else {
        errors.push((Some(root.line), "`version: 2` is missing".into()));
        return;
    };
    let is_two = v.as_scalar().is_some_and(|s| {
        s.style == harden_yaml::ScalarStyle::Plain && s.value.trim() == "2" && s.tag.is_none()
    });
    if !is_two {
        let shown = v
            .as_str()
            .map_or_else(|| "not a number".to_owned(), |s| format!("`{s}`"));
        errors.push((
            Some(v.line),
            format!("`version` is {shown}, but Dependabot reads only `version: 2` (the number)"),
        ));
    }
}

/// One `updates` item, or `None` after pushing what is wrong with it.
fn read_entry<'d>(
    reader: &Lookup<'d>,
    item: &'d Node,
    beta: bool,
    errors: &mut Errors,
) -> Option<UpdateEntry> {
    if item.as_mapping().is_none() {
        errors.push((Some(item.line), "an `updates` item is not a mapping".into()));
        return None;
    }
    let ecosystem = entry_ecosystem(reader, item, beta, errors)?;
    let dirs = entry_dirs(reader, item, &ecosystem, errors)?;
    let cooldown_days = cooldown_days(reader, item);
    Some(UpdateEntry {
        index: 0,
        line: item.line,
        ecosystem,
        dirs,
        target_branch: reader
            .get(item, "target-branch")
            .and_then(Node::as_str)
            .map(str::to_owned),
        has_groups: reader.get(item, "groups").is_some(),
        branch_and_groups: ["target-branch", "groups"]
            .iter()
            .filter_map(|k| Some(NewEntry::new(*k, copy(reader, reader.get(item, k)?, 0)?)))
            .collect(),
        has_cooldown: reader.get(item, "cooldown").is_some(),
        cooldown_days,
        multi_group: reader.get(item, "multi-ecosystem-group").is_some(),
        pr_limit: reader
            .get(item, "open-pull-requests-limit")
            .and_then(Node::as_scalar)
            .filter(|s| s.style == ScalarStyle::Plain)
            .and_then(|s| s.value.trim().parse().ok()),
        quote: reader
            .get(item, "package-ecosystem")
            .and_then(Node::as_scalar)
            .map(|s| s.style),
        policy: POLICY_KEYS
            .iter()
            .filter_map(|k| Some((*k, copy(reader, reader.get(item, k)?, 0)?)))
            .collect(),
        has_reviewers: reader.get(item, "reviewers").is_some(),
    })
}

/// The days of an entry's `cooldown` (see [`UpdateEntry::cooldown_days`]).
fn cooldown_days<'d>(reader: &Lookup<'d>, item: &'d Node) -> Vec<(&'static str, i64, usize)> {
    let Some(cooldown) = reader.get(item, "cooldown") else {
        return Vec::new();
    };
    let keys = [
        "default-days",
        "semver-major-days",
        "semver-minor-days",
        "semver-patch-days",
    ];
    let mut days: Vec<(&'static str, i64, usize)> = keys
        .iter()
        .filter_map(|k| {
            let node = reader.get(cooldown, k)?;
            Some((*k, node.as_scalar()?.value.trim().parse().ok()?, node.line))
        })
        .collect();
    if reader.get(cooldown, "default-days").is_none() {
        days.insert(0, ("default-days", 0, cooldown.line));
    }
    days
}

/// The `package-ecosystem` of an entry, when it is one Dependabot knows (any, with beta
/// ecosystems enabled).
fn entry_ecosystem<'d>(
    reader: &Lookup<'d>,
    item: &'d Node,
    beta: bool,
    errors: &mut Errors,
) -> Option<String> {
    let Some(n) = reader.get(item, "package-ecosystem") else {
        errors.push((
            Some(item.line),
            "an `updates` entry has no `package-ecosystem`".into(),
        ));
        return None;
    };
    match n.as_str() {
        Some(e) if beta || KNOWN_ECOSYSTEMS.contains(&e) => Some(e.to_owned()),
        Some(e) => {
            errors.push((
                Some(n.line),
                format!(
                    "unknown `package-ecosystem` `{e}` (Dependabot knows {})",
                    KNOWN_ECOSYSTEMS.join(", ")
                ),
            ));
            None
        }
        None => {
            errors.push((Some(n.line), "`package-ecosystem` is not a string".into()));
            None
        }
    }
}

/// The `directory` or `directories` of an entry, normalised, with their lines.
fn entry_dirs<'d>(
    reader: &Lookup<'d>,
    item: &'d Node,
    ecosystem: &str,
    errors: &mut Errors,
) -> Option<Vec<(String, usize)>> {
    let directory = reader.get(item, "directory");
    let directories = reader.get(item, "directories");
    let (line, message) = match (directory, directories) {
        (Some(_), Some(d)) => (
            d.line,
            format!("the `{ecosystem}` entry has both `directory` and `directories`"),
        ),
        (None, None) => (
            item.line,
            format!("the `{ecosystem}` entry has neither `directory` nor `directories`"),
        ),
        (Some(d), None) => match d.as_str() {
            Some(s) => return Some(vec![(normalize_dir(s), d.line)]),
            None => (d.line, "`directory` is not a string".into()),
        },
        (None, Some(d)) => {
            let items: Option<Vec<(String, usize)>> = reader
                .items(Some(d))
                .into_iter()
                .map(|i| i.as_str().map(|v| (normalize_dir(v), i.line)))
                .collect();
            match items {
                Some(v) if !v.is_empty() && d.as_sequence().is_some() => return Some(v),
                _ => (
                    d.line,
                    "`directories` is not a non-empty list of strings".into(),
                ),
            }
        }
    };
    errors.push((Some(line), message));
    None
}

/// Whether the existing entries update a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// An entry lists it, or a glob surely matches it.
    Covered,
    /// Only a glob whose `*` would have to cross a `/` matches it; Dependabot does not say
    /// whether it does, so harden adds nothing (an overlap would break the file) and says so.
    Maybe(String, usize),
    /// Nothing updates it.
    Missing,
}

impl Config {
    /// Whether some entry covers `dir` for `ecosystem`. For `github-actions`, an entry for
    /// `/.github/workflows` covers `/` unless the root also holds an `action.yml`.
    pub(crate) fn coverage(&self, ecosystem: &str, dir: &str, root_action: bool) -> Coverage {
        let patterns = || {
            self.entries
                .iter()
                .filter(|e| ecosystem_covers(&e.ecosystem, ecosystem))
                .flat_map(|e| e.dirs.iter().map(|(d, line)| (d.as_str(), *line)))
        };
        let workflows_for_root = |p: &str| {
            ecosystem == "github-actions"
                && dir == "/"
                && !root_action
                && p == super::detect::WORKFLOWS_DIR
        };
        if patterns().any(|(p, _)| dir_matches(p, dir) || workflows_for_root(p)) {
            return Coverage::Covered;
        }
        let loose = |p: &str| globs::matches(p, Flavor::Loose, dir);
        match patterns().find(|(p, _)| p.contains('*') && loose(p)) {
            Some((p, line)) => Coverage::Maybe(p.to_owned(), line),
            None => Coverage::Missing,
        }
    }

    /// Entries that overlap an earlier one (same ecosystem and target branch, a directory in
    /// common or matched by a glob), and directories listed twice in one entry.
    pub(crate) fn duplicates(&self, path: &FsPath, findings: &mut Vec<Finding>) {
        let overlap = |a: &str, b: &str| dir_matches(a, b) || dir_matches(b, a);
        let branch = |e: &UpdateEntry| match &e.target_branch {
            Some(b) => format!(" for target branch `{b}`"),
            None => String::new(),
        };
        for (j, later) in self.entries.iter().enumerate() {
            for (n, (dir, line)) in later.dirs.iter().enumerate() {
                if later.dirs[..n].iter().any(|(d, _)| d == dir) {
                    findings.push(Finding {
                        transform: NAME,
                        path: path.to_owned(),
                        line: Some(*line),
                        column: None,
                        severity: Severity::Warning,
                        message: format!(
                            "`{}` lists directory `{dir}` twice; Dependabot rejects repeated directories",
                            later.ecosystem
                        ),
                    });
                }
            }
            let earlier = self.entries[..j].iter().find_map(|e| {
                if e.ecosystem != later.ecosystem || e.target_branch != later.target_branch {
                    return None;
                }
                later.dirs.iter().find_map(|(b, _)| {
                    e.dirs
                        .iter()
                        .find(|(a, _)| overlap(a, b))
                        .map(|(a, _)| (e.line, a.clone(), b.clone()))
                })
            });
            if let Some((first_line, a, b)) = earlier {
                let what = if a == b {
                    format!(
                        "directory `{a}` is already configured by the entry at line {first_line}"
                    )
                } else {
                    format!("`{b}` overlaps `{a}` of the entry at line {first_line}")
                };
                findings.push(Finding {
                    transform: NAME,
                    path: path.to_owned(),
                    line: Some(later.line),
                    column: None,
                    severity: Severity::Warning,
                    message: format!(
                        "duplicate `{}` entry{}: {what}; Dependabot rejects overlapping entries \
                         for one ecosystem and branch, remove one",
                        later.ecosystem,
                        branch(later)
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_directories() {
        for (raw, want) in [
            ("/", "/"),
            ("", "/"),
            (".", "/"),
            ("./", "/"),
            ("web", "/web"),
            ("/web/", "/web"),
            (".github/actions/x/", "/.github/actions/x"),
            ("//a//b/", "/a/b"),
            ("/./a", "/a"),
        ] {
            assert_eq!(normalize_dir(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn globs() {
        assert!(dir_matches("/", "/"));
        assert!(!dir_matches("/", "/web"));
        assert!(dir_matches("/**", "/"));
        assert!(dir_matches("/**", "/a/b/c"));
        assert!(dir_matches("/.github/actions/*", "/.github/actions/build"));
        assert!(!dir_matches("/.github/actions/*", "/.github/actions/a/b"));
        assert!(dir_matches("/.github/actions/**", "/.github/actions/a/b"));
        assert!(dir_matches("/packages/*-ui", "/packages/web-ui"));
        assert!(!dir_matches("/packages/*-ui", "/packages/web-api"));
        assert!(dir_matches("/a/**/z", "/a/z"));
        assert!(dir_matches("/a/**/z", "/a/b/c/z"));
        assert!(!dir_matches("/web", "/web/app"));
    }

    #[test]
    fn reads_through_aliases_and_merge_keys() {
        let text = "\
version: 2
x-base: &base
  package-ecosystem: npm
  schedule: {interval: weekly}
dirs: &dirs [/web, ./api/]
updates:
  - <<: *base
    directories: *dirs
  - <<: [*base]
    directory: /
    target-branch: next
    groups: {all: {patterns: ['*']}}
";
        let doc = Document::parse(text).expect("parses");
        let mut findings = Vec::new();
        let config = read(&doc, FsPath::new("d.yml"), &mut findings).expect("valid");
        assert!(findings.is_empty(), "{findings:?}");
        let e = &config.entries;
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].ecosystem, "npm");
        let dirs: Vec<&str> = e[0].dirs.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(dirs, ["/web", "/api"]);
        assert_eq!(e[1].target_branch.as_deref(), Some("next"));
        assert!(e[1].has_groups && !e[0].has_groups);
        assert_eq!(config.coverage("npm", "/api", false), Coverage::Covered);
        assert_eq!(config.coverage("npm", "/docs", false), Coverage::Missing);
    }

    #[test]
    fn invalid_files_are_explained() {
        let cases = [
            ("", "empty"),
            ("- a\n", "not a mapping"),
            ("version: '2'\nupdates: []\n", "`version` is `2`"),
            ("version: 2\n", "`updates` is missing"),
            ("version: 2\nupdates: {}\n", "not a list"),
            (
                "version: 2\nupdates: [{directory: /}]\n",
                "no `package-ecosystem`",
            ),
            (
                "version: 2\nupdates: [{package-ecosystem: npm, directory: /, directories: [/]}]\n",
                "both",
            ),
            (
                "version: 2\nupdates: [{package-ecosystem: npm, directories: []}]\n",
                "non-empty",
            ),
            (
                "version: 2\nupdates: []\n---\nversion: 2\n",
                "more than one",
            ),
        ];
        for (text, want) in cases {
            let doc = Document::parse(text).expect("parses");
            let mut findings = Vec::new();
            assert!(
                read(&doc, FsPath::new("d.yml"), &mut findings).is_none(),
                "{text}"
            );
            assert!(
                findings
                    .iter()
                    .any(|f| f.message.contains(want) && f.severity == Severity::Error),
                "{text}: {findings:?}"
            );
        }
        let beta = "version: 2\nenable-beta-ecosystems: true\nupdates: [{package-ecosystem: new, directory: /}]\n";
        let doc = Document::parse(beta).expect("parses");
        assert!(read(&doc, FsPath::new("d.yml"), &mut Vec::new()).is_some());
    }

    #[test]
    fn ecosystem_aliases() {
        assert!(ecosystem_covers("uv", "pip"));
        assert!(ecosystem_covers("bun", "npm"));
        assert!(ecosystem_covers("pip", "uv"));
        assert!(ecosystem_covers("npm", "bun"));
        assert!(!ecosystem_covers("docker-compose", "docker"));
    }
}
