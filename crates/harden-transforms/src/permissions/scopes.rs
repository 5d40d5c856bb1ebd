//! Token scopes, access levels, the scopes a job needs (with the steps that need them) and
//! the grants written in `permissions:` blocks.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use harden_yaml::{Node, NodeKind};

/// A permission scope of the `GITHUB_TOKEN`, as written in a `permissions:` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `actions`: workflow runs, artifacts of other runs, caches.
    Actions,
    /// `artifact-metadata`: artifact metadata records (storage and deployment records).
    ArtifactMetadata,
    /// `attestations`: artifact attestations.
    Attestations,
    /// `checks`: check runs and suites.
    Checks,
    /// `contents`: code, commits, branches, tags, releases.
    Contents,
    /// `deployments`: deployments and their statuses.
    Deployments,
    /// `discussions`: GitHub Discussions.
    Discussions,
    /// `id-token`: the OIDC token (write only).
    IdToken,
    /// `issues`: issues, labels, milestones.
    Issues,
    /// `models`: GitHub Models inference.
    Models,
    /// `packages`: GitHub Packages (ghcr.io, npm.pkg.github.com...).
    Packages,
    /// `pages`: GitHub Pages builds and deployments.
    Pages,
    /// `pull-requests`: pull requests and their reviews.
    PullRequests,
    /// `security-events`: code scanning alerts and SARIF uploads.
    SecurityEvents,
    /// `statuses`: commit statuses.
    Statuses,
}

impl Scope {
    /// Every scope, in the order blocks are written.
    pub const ALL: [Scope; 15] = [
        Scope::Actions,
        Scope::ArtifactMetadata,
        Scope::Attestations,
        Scope::Checks,
        Scope::Contents,
        Scope::Deployments,
        Scope::Discussions,
        Scope::IdToken,
        Scope::Issues,
        Scope::Models,
        Scope::Packages,
        Scope::Pages,
        Scope::PullRequests,
        Scope::SecurityEvents,
        Scope::Statuses,
    ];

    /// The name used in `permissions:` blocks.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Actions => "actions",
            Scope::ArtifactMetadata => "artifact-metadata",
            Scope::Attestations => "attestations",
            Scope::Checks => "checks",
            Scope::Contents => "contents",
            Scope::Deployments => "deployments",
            Scope::Discussions => "discussions",
            Scope::IdToken => "id-token",
            Scope::Issues => "issues",
            Scope::Models => "models",
            Scope::Packages => "packages",
            Scope::Pages => "pages",
            Scope::PullRequests => "pull-requests",
            Scope::SecurityEvents => "security-events",
            Scope::Statuses => "statuses",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope or access name that harden does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not one of the `GITHUB_TOKEN` scopes.
    #[error("`{0}` is not a GITHUB_TOKEN permission scope")]
    Scope(String),
    /// Not `read` or `write`.
    #[error("`{0}` is not an access level (read or write)")]
    Access(String),
}

impl FromStr for Scope {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .iter()
            .find(|scope| scope.as_str() == s)
            .copied()
            .ok_or_else(|| NameError::Scope(s.to_owned()))
    }
}

/// How much of a scope: `read` is included in `write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// `read`
    Read,
    /// `write`
    Write,
}

impl Access {
    /// The name used in `permissions:` blocks.
    pub fn as_str(&self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Access {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Access::Read),
            "write" => Ok(Access::Write),
            _ => Err(NameError::Access(s.to_owned())),
        }
    }
}

/// Why a step needs a scope: the step's label and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reason {
    pub(crate) access: Access,
    pub(crate) label: String,
    pub(crate) text: String,
}

impl Reason {
    /// `label: text` for a YAML comment, always whole phrases: the label is left out when
    /// the line would be long, then a trailing parenthesis; the phrase itself is never cut.
    pub(crate) fn comment(&self) -> String {
        let text = self.text.trim();
        let labelled = format!("{}: {text}", self.label);
        if !self.label.is_empty() && labelled.chars().count() <= 72 {
            return labelled;
        }
        if text.chars().count() > 72 && text.ends_with(')') {
            if let Some(open) = text.rfind(" (") {
                return text[..open].to_owned();
            }
        }
        text.to_owned()
    }
}

/// Scope names that GitHub retired: accepted in old workflows, granting nothing now.
const RETIRED: &[&str] = &["repository-projects"];

/// Newer scope names seen in real workflows that harden accepts without inferring them.
const NOT_MODELLED: &[&str] = &["code-quality", "copilot-requests"];

/// Scopes that only take `read` (or `none`).
const READ_ONLY: &[Scope] = &[Scope::Models];

/// A problem with one line of a `permissions:` block as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockProblem {
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
    /// True when GitHub rejects the workflow (an unknown scope or access name).
    pub(crate) fatal: bool,
    /// What is wrong and the fix.
    pub(crate) message: String,
}

/// The closest scope name to a misspelt one (at most two edits away).
fn closest(name: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    Scope::ALL
        .iter()
        .map(|s| (distance(name, s.as_str()), s.as_str()))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, s)| s)
}

/// Checks the names and access levels of a `permissions:` mapping as written.
pub(crate) fn check_block(node: &Node) -> Vec<BlockProblem> {
    let NodeKind::Mapping(m) = &node.kind else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in &m.entries {
        let Some(key) = e.key_str() else { continue };
        let at = |fatal, message: String| BlockProblem {
            line: e.key.line,
            column: e.key.column,
            fatal,
            message,
        };
        let access = e.value.as_str().map(str::trim);
        match key.parse::<Scope>() {
            Err(_) if NOT_MODELLED.contains(&key) => {}
            Err(_) if RETIRED.contains(&key) => out.push(at(
                false,
                format!("`{key}` is a retired permission (Projects classic); it grants nothing: remove the line"),
            )),
            Err(_) => {
                let hint = closest(key).map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"));
                out.push(at(
                    true,
                    format!("`{key}` is not a GITHUB_TOKEN permission{hint}: GitHub rejects this workflow; fix the name"),
                ));
            }
            Ok(scope) if READ_ONLY.contains(&scope) && access == Some("write") => out.push(at(
                false,
                format!("`{key}` can only be `read` (or `none`): write it as `{key}: read`"),
            )),
            Ok(_) => {}
        }
        if let Some(a) = access {
            if !["read", "write", "none"].contains(&a) && !a.contains("${{") {
                out.push(at(
                    true,
                    format!("`{key}: {a}`: the access is `read`, `write` or `none`: GitHub rejects this workflow"),
                ));
            }
        }
    }
    out
}

/// The scopes a job (or step) needs, each with the steps that need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScopeSet {
    entries: BTreeMap<Scope, Vec<Reason>>,
}

impl ScopeSet {
    /// Adds a need.
    pub(crate) fn add(&mut self, scope: Scope, access: Access, label: &str, text: &str) {
        let reasons = self.entries.entry(scope).or_default();
        let reason = Reason {
            access,
            label: label.to_owned(),
            text: text.to_owned(),
        };
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }

    /// Adds every need of `other`.
    pub(crate) fn merge(&mut self, other: &ScopeSet) {
        for (scope, reasons) in &other.entries {
            for r in reasons {
                self.add(*scope, r.access, &r.label, &r.text);
            }
        }
    }

    /// Adds every need of `other` under a new label (what a composite action or a called
    /// workflow needs, seen from the step or job that uses it).
    pub(crate) fn merge_as(&mut self, other: &ScopeSet, label: &str) {
        for (scope, reasons) in &other.entries {
            for r in reasons {
                self.add(*scope, r.access, label, &r.text);
            }
        }
    }

    /// True when nothing is needed.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The access needed on `scope`, if any.
    pub(crate) fn access(&self, scope: Scope) -> Option<Access> {
        self.entries
            .get(&scope)
            .and_then(|r| r.iter().map(|r| r.access).max())
    }

    /// Scope and access, in block order.
    pub(crate) fn accesses(&self) -> BTreeMap<Scope, Access> {
        self.entries
            .keys()
            .filter_map(|s| self.access(*s).map(|a| (*s, a)))
            .collect()
    }

    /// The first reason that needs the highest access of `scope`.
    pub(crate) fn first_reason(&self, scope: Scope) -> Option<&Reason> {
        let max = self.access(scope)?;
        self.entries.get(&scope)?.iter().find(|r| r.access == max)
    }

    /// `contents: write, id-token: write`
    pub(crate) fn summary(&self) -> String {
        summary(&self.accesses())
    }
}

/// `contents: write, id-token: write`, or `nothing` for an empty map.
pub(crate) fn summary(map: &BTreeMap<Scope, Access>) -> String {
    if map.is_empty() {
        return "nothing".to_owned();
    }
    map.iter()
        .map(|(s, a)| format!("{s}: {a}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a `permissions:` block grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    /// `read-all`
    ReadAll,
    /// `write-all`
    WriteAll,
    /// A mapping (`{}` grants nothing); scopes set to `none` are left out. Unknown scope
    /// names (`repository-projects`...) are ignored.
    Scopes(BTreeMap<Scope, Access>),
    /// Something harden cannot read (an expression, an unknown word, an alias).
    Unreadable,
}

impl Grant {
    /// Reads a `permissions:` value.
    pub(crate) fn parse(node: &Node) -> Grant {
        match &node.kind {
            NodeKind::Scalar(s) => match s.value.trim() {
                "read-all" => Grant::ReadAll,
                "write-all" => Grant::WriteAll,
                _ => Grant::Unreadable,
            },
            NodeKind::Mapping(m) => {
                let mut map = BTreeMap::new();
                for e in &m.entries {
                    let (Some(k), Some(v)) = (e.key_str(), e.value.as_str()) else {
                        return Grant::Unreadable;
                    };
                    let Ok(scope) = k.parse::<Scope>() else {
                        continue;
                    };
                    match v.trim() {
                        "none" => {}
                        other => match other.parse::<Access>() {
                            Ok(a) => {
                                map.insert(scope, a);
                            }
                            Err(_) => return Grant::Unreadable,
                        },
                    }
                }
                Grant::Scopes(map)
            }
            _ => Grant::Unreadable,
        }
    }

    /// The access granted on `scope` (`None` when not granted), or `None` overall when the
    /// grant cannot be read.
    pub(crate) fn access(&self, scope: Scope) -> Option<Option<Access>> {
        match self {
            Grant::ReadAll => Some(if scope == Scope::IdToken {
                None
            } else {
                Some(Access::Read)
            }),
            Grant::WriteAll => Some(Some(Access::Write)),
            Grant::Scopes(m) => Some(m.get(&scope).copied()),
            Grant::Unreadable => None,
        }
    }

    /// True when the grant gives at least `access` on every scope of `needs`.
    pub(crate) fn covers(&self, needs: &BTreeMap<Scope, Access>) -> bool {
        needs
            .iter()
            .all(|(scope, access)| match self.access(*scope) {
                Some(Some(granted)) => granted >= *access,
                Some(None) => false,
                None => true,
            })
    }

    /// As a scope map (every scope for `read-all`/`write-all`); `None` when unreadable.
    pub(crate) fn as_map(&self) -> Option<BTreeMap<Scope, Access>> {
        match self {
            Grant::Unreadable => None,
            _ => Some(
                Scope::ALL
                    .iter()
                    .filter_map(|s| self.access(*s).flatten().map(|a| (*s, a)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert!("metadata".parse::<Scope>().is_err());
        assert_eq!("write".parse::<Access>(), Ok(Access::Write));
        assert!("none".parse::<Access>().is_err());
    }

    #[test]
    fn comments_are_whole_phrases() {
        let r = |label: &str, text: &str| Reason {
            access: Access::Write,
            label: label.into(),
            text: text.into(),
        };
        assert_eq!(
            r("gh", "creates a release").comment(),
            "gh: creates a release"
        );
        let long = "creates or updates the release and uploads every asset of the build to it";
        assert_eq!(r("softprops/action-gh-release", long).comment(), long);
        assert!(!r("x", &"word ".repeat(30)).comment().ends_with("..."));
    }

    #[test]
    fn block_names_are_checked() {
        let doc = match harden_yaml::Document::parse(
            "permissions:\n  contnets: write\n  repository-projects: read\n  models: write\n  issues: wirte\n",
        ) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let Some(root) = doc.root() else {
            panic!("root")
        };
        let Some(block) = root.as_mapping().and_then(|m| m.get("permissions")) else {
            panic!("block")
        };
        let problems = check_block(&block.value);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].fatal && problems[0].line == 2);
        assert!(problems[0].message.contains("did you mean `contents`"));
        assert!(!problems[1].fatal && !problems[2].fatal && problems[3].fatal);
    }

    #[test]
    fn scope_set_keeps_the_first_reason_of_the_highest_access() {
        let mut set = ScopeSet::default();
        set.add(
            Scope::Contents,
            Access::Read,
            "actions/checkout",
            "checks out",
        );
        set.add(Scope::Contents, Access::Write, "gh", "creates a release");
        set.add(Scope::Contents, Access::Write, "git", "pushes");
        assert_eq!(set.access(Scope::Contents), Some(Access::Write));
        assert_eq!(
            set.first_reason(Scope::Contents).map(|r| r.label.as_str()),
            Some("gh")
        );
        assert_eq!(set.summary(), "contents: write");
    }
}
