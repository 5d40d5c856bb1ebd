//! `pin-actions`: every `uses: owner/repo[/path]@ref` becomes `@<commit SHA> # <version>`.
//!
//! References are collected from all files first, so each repository is asked once (the
//! resolver fetches every tag and branch of a repository in one request); then each file gets
//! one edit set: the `uses` scalar is replaced in its own quote style and the version comment is
//! set after it. Nothing else on the line changes.

use std::collections::HashMap;
use std::sync::Arc;

use harden_github::{RefKind, RepoId, RepoRefs, Resolver};
use harden_yaml::{Document, EditError, EditSet, Node, Path};

use crate::{finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, Transform};

const NAME: &str = "pin-actions";

/// What to do with a reference to a branch (`@main`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BranchPolicy {
    /// Pin to the branch's current tip, with the branch name as comment and a warning.
    #[default]
    Pin,
    /// Leave branch references as they are (reported as a note).
    Keep,
}

/// Options of the pin-actions transform.
#[derive(Debug, Clone, Default)]
pub struct PinOptions {
    /// What to do with branch references.
    pub branches: BranchPolicy,
    /// Actions never pinned: globs over `owner/repo[/path]` (`*` matches any run of characters,
    /// case-insensitively), e.g. `my-org/*`.
    pub exempt: Vec<String>,
    /// Blanks before a new `#` comment; `None` follows the file (one, or two if its comments use two).
    pub comment_spacing: Option<usize>,
}

/// The pin-actions transform.
pub struct PinActions {
    resolver: Arc<Resolver>,
    options: PinOptions,
}

impl PinActions {
    /// A pin-actions transform that resolves references with `resolver`.
    pub fn new(resolver: Arc<Resolver>, options: PinOptions) -> Self {
        PinActions { resolver, options }
    }
}

/// A `uses:` reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsesRef {
    /// `owner/repo[/path]` as written.
    pub action: String,
    /// The repository to resolve against.
    pub repo: RepoId,
    /// The ref after `@`.
    pub git_ref: String,
}

/// Why a `uses:` value is not something to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPinnable {
    /// `./path`: a local action or workflow, pinned by the repository itself.
    Local,
    /// `docker://image`: image digests are not handled yet.
    Docker,
    /// A `${{ }}` expression.
    Expression,
    /// No `@ref`.
    MissingRef,
    /// Not `owner/repo[/path]`.
    Malformed(String),
}

/// Splits a `uses:` value into the action and its ref.
pub fn parse_uses(value: &str) -> Result<UsesRef, NotPinnable> {
    let value = value.trim();
    if value.starts_with("./") || value.starts_with("../") || value == "." {
        return Err(NotPinnable::Local);
    }
    if value.starts_with("docker://") {
        return Err(NotPinnable::Docker);
    }
    if value.contains("${{") {
        return Err(NotPinnable::Expression);
    }
    let Some((action, git_ref)) = value.split_once('@') else {
        return Err(NotPinnable::MissingRef);
    };
    if git_ref.is_empty() {
        return Err(NotPinnable::MissingRef);
    }
    let (repo, _) = RepoId::split_action(action).map_err(|e| NotPinnable::Malformed(e.to_string()))?;
    Ok(UsesRef {
        action: action.to_owned(),
        repo,
        git_ref: git_ref.to_owned(),
    })
}

/// Every `uses:` scalar of a workflow (step actions and reusable workflow calls) or of a
/// composite action's steps.
pub fn uses_sites(kind: FileKind, doc: &Document) -> Vec<(Path, &Node)> {
    let patterns: &[&str] = match kind {
        FileKind::Workflow => &["jobs.*.steps[*].uses", "jobs.*.uses"],
        FileKind::Action => &["runs.steps[*].uses"],
        FileKind::Dependabot => &[],
    };
    let mut sites: Vec<(Path, &Node)> = patterns
        .iter()
        .flat_map(|p| doc.query(p))
        .filter(|(_, node)| node.as_scalar().is_some())
        .collect();
    sites.sort_by_key(|(_, node)| node.span.start);
    sites
}

/// True when `action` matches one of the exemption globs (case-insensitive, `*` = any text).
pub fn is_exempt(action: &str, globs: &[String]) -> bool {
    let action = action.to_ascii_lowercase();
    globs.iter().any(|g| glob_match(&g.to_ascii_lowercase(), &action))
}

fn glob_match(glob: &str, text: &str) -> bool {
    let Some((head, rest)) = glob.split_once('*') else {
        return glob == text;
    };
    let Some(tail) = text.strip_prefix(head) else {
        return false;
    };
    (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob_match(rest, &tail[i..]))
}

/// What an existing comment says about the version.
fn first_word(comment: &str) -> &str {
    comment.split_whitespace().next().unwrap_or_default()
}

fn looks_like_version(word: &str) -> bool {
    let w = word.strip_prefix("tag=").unwrap_or(word);
    let w = w.rsplit(['/', '@']).next().unwrap_or(w);
    let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
    w.starts_with(|c: char| c.is_ascii_digit())
}

/// The comment text to write after a pin: the version, followed by an existing comment that is
/// not a version.
fn merged_comment(version: &str, existing: Option<&str>) -> String {
    match existing {
        Some(old) if !old.is_empty() && !looks_like_version(first_word(old)) => {
            format!("{version} # {old}")
        }
        Some(old) if !old.is_empty() => {
            // Replace the version word, keep what follows it.
            let rest = old[first_word(old).len()..].trim_start();
            if rest.is_empty() {
                version.to_owned()
            } else {
                format!("{version} {rest}")
            }
        }
        _ => version.to_owned(),
    }
}

impl Transform for PinActions {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "pin every action and reusable workflow to a full commit SHA, with its version as a comment"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut outcome = Outcome::default();
        // Gather every repository to ask about, once.
        let mut wanted: Vec<RepoId> = Vec::new();
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            for (_, node) in uses_sites(file.kind, doc) {
                if let Ok(u) = parse_uses(node.as_str().unwrap_or_default()) {
                    if !is_exempt(&u.action, &self.options.exempt) && !wanted.contains(&u.repo) {
                        wanted.push(u.repo);
                    }
                }
            }
        }
        let fetched = if wanted.is_empty() {
            HashMap::new()
        } else {
            self.resolver.fetch_all(&wanted)
        };
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            let mut edits = EditSet::new(doc);
            if let Some(spaces) = self.options.comment_spacing {
                edits.set_comment_spacing(spaces);
            }
            let mut notes = Vec::new();
            for (path, node) in uses_sites(file.kind, doc) {
                let mut ctx = SiteContext {
                    doc,
                    file_path: &file.path,
                    path: &path,
                    node,
                    edits: &mut edits,
                    notes: &mut notes,
                    findings: &mut outcome.findings,
                };
                ctx.pin(&self.options, &fetched);
            }
            if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut outcome.findings) {
                outcome.changes.push(change);
            }
        }
        outcome
    }
}

struct SiteContext<'a, 'd> {
    doc: &'d Document,
    file_path: &'a std::path::Path,
    path: &'a Path,
    node: &'d Node,
    edits: &'a mut EditSet<'d>,
    notes: &'a mut Vec<ChangeNote>,
    findings: &'a mut Vec<Finding>,
}

impl SiteContext<'_, '_> {
    fn report(&mut self, severity: Severity, message: String) {
        let location = Some(self.doc.location(self.node.span.start));
        self.findings
            .push(Finding::at(NAME, self.file_path, location, severity, message));
    }

    fn pin(
        &mut self,
        options: &PinOptions,
        fetched: &HashMap<RepoId, harden_github::FetchResult>,
    ) {
        let value = self.node.as_str().unwrap_or_default().to_owned();
        let uses = match parse_uses(&value) {
            Ok(u) => u,
            Err(NotPinnable::Local) => return,
            Err(NotPinnable::Docker) => {
                return self.report(
                    Severity::Note,
                    format!("`{value}` is a container image; harden does not pin image digests yet"),
                )
            }
            Err(NotPinnable::Expression) => {
                return self.report(
                    Severity::Warning,
                    format!("`{value}` is an expression; it cannot be pinned"),
                )
            }
            Err(NotPinnable::MissingRef) => {
                return self.report(
                    Severity::Error,
                    format!("`{value}` has no `@ref`; GitHub requires one: write `{value}@<tag>`"),
                )
            }
            Err(NotPinnable::Malformed(why)) => {
                return self.report(Severity::Error, format!("`{value}` is not owner/repo[/path]@ref: {why}"))
            }
        };
        if is_exempt(&uses.action, &options.exempt) {
            return;
        }
        let refs: &RepoRefs = match fetched.get(&uses.repo) {
            Some(Ok(refs)) => refs,
            Some(Err(e)) => {
                return self.report(Severity::Error, format!("cannot pin `{value}`: {}: {e}", uses.repo))
            }
            None => return,
        };
        let resolved = match refs.resolve(&uses.git_ref) {
            Ok(r) => r,
            Err(e) => return self.report(Severity::Error, format!("cannot pin `{value}`: {e}")),
        };
        let existing = self
            .doc
            .comment_after(self.node)
            .map(|c| self.doc.text()[c.span.range()].trim_start_matches('#').trim().to_owned());
        match resolved.kind {
            RefKind::Commit => self.check_comment(&uses, refs, existing.as_deref()),
            RefKind::Branch if options.branches == BranchPolicy::Keep => self.report(
                Severity::Note,
                format!("`{value}` follows branch `{}`; left as it is (--branches=keep)", uses.git_ref),
            ),
            RefKind::Tag | RefKind::Branch => {
                let version = resolved.comment.clone().unwrap_or_else(|| uses.git_ref.clone());
                let new_value = format!("{}@{}", uses.action, resolved.sha);
                let comment = merged_comment(&version, existing.as_deref());
                if resolved.kind == RefKind::Branch {
                    self.report(
                        Severity::Warning,
                        format!(
                            "`{value}` follows branch `{}`: pinned to its current tip {}; \
                             prefer a release tag, or keep branch references with --branches=keep",
                            uses.git_ref, resolved.sha
                        ),
                    );
                }
                if let Err(e) = self.edits.replace_scalar(self.path, &new_value) {
                    return self.report(Severity::Error, format!("cannot pin `{value}`: {e}"));
                }
                let commented = self.set_comment(&comment);
                let line = self.node.line;
                let shown = if commented { format!(" # {comment}") } else { String::new() };
                self.notes.push(ChangeNote {
                    line,
                    message: format!("{value} -> {new_value}{shown}"),
                });
            }
        }
    }

    /// An already pinned SHA: add the version comment if missing, correct a wrong one.
    fn check_comment(&mut self, uses: &UsesRef, refs: &RepoRefs, existing: Option<&str>) {
        let sha = uses.git_ref.to_ascii_lowercase();
        let tags = refs.tags_at(&sha);
        if tags.is_empty() {
            if !refs.branches.values().any(|b| b.eq_ignore_ascii_case(&sha)) && existing.is_none() {
                self.report(
                    Severity::Note,
                    format!("`{}@{}`: no tag points at this commit; no version comment added", uses.action, uses.git_ref),
                );
            }
            return;
        }
        let mentions_tag = existing.is_some_and(|c| {
            c.split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '(' || ch == ')')
                .map(|w| w.strip_prefix("tag=").unwrap_or(w))
                .any(|w| tags.contains(&w))
        });
        if mentions_tag {
            return;
        }
        let version_hint = existing.map(first_word).filter(|w| looks_like_version(w));
        let Some(version) = refs.version_for_commit(&sha, version_hint) else {
            return;
        };
        let comment = merged_comment(&version, existing);
        if let Some(old) = version_hint {
            self.report(
                Severity::Warning,
                format!("`{}`: the comment says {old} but that commit is {version}; comment corrected", uses.action),
            );
        }
        if self.set_comment(&comment) {
            self.notes.push(ChangeNote {
                line: self.node.line,
                message: format!("{}@{}: version comment # {comment}", uses.action, uses.git_ref),
            });
        }
    }

    fn set_comment(&mut self, comment: &str) -> bool {
        match self.edits.set_comment(self.path, comment) {
            Ok(()) => true,
            Err(EditError::CommentNotAllowed { .. }) => {
                self.report(
                    Severity::Warning,
                    format!("version comment `{comment}` left out: YAML allows no comment at this place (flow style)"),
                );
                false
            }
            Err(e) => {
                self.report(Severity::Error, format!("could not write the comment: {e}"));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uses_values() {
        let u = parse_uses("actions/checkout@v4").expect("valid");
        assert_eq!(u.action, "actions/checkout");
        assert_eq!(u.git_ref, "v4");
        let u = parse_uses("github/codeql-action/init@v3").expect("valid");
        assert_eq!(u.repo, RepoId::new("github", "codeql-action"));
        assert_eq!(parse_uses("./.github/actions/x"), Err(NotPinnable::Local));
        assert_eq!(parse_uses("docker://alpine:3"), Err(NotPinnable::Docker));
        assert_eq!(parse_uses("${{ matrix.action }}@v1"), Err(NotPinnable::Expression));
        assert_eq!(parse_uses("actions/checkout"), Err(NotPinnable::MissingRef));
        assert!(matches!(parse_uses("checkout@v4"), Err(NotPinnable::Malformed(_))));
    }

    #[test]
    fn globs() {
        assert!(is_exempt("My-Org/thing", &["my-org/*".to_owned()]));
        assert!(!is_exempt("other/thing", &["my-org/*".to_owned()]));
        assert!(is_exempt("a/b/c", &["a/*/c".to_owned()]));
    }

    #[test]
    fn comments_merge() {
        assert_eq!(merged_comment("v4.2.2", None), "v4.2.2");
        assert_eq!(merged_comment("v4.2.2", Some("v4")), "v4.2.2");
        assert_eq!(merged_comment("v4.2.2", Some("pinned on purpose")), "v4.2.2 # pinned on purpose");
        assert_eq!(merged_comment("v4.2.2", Some("v4.1.0 (security)")), "v4.2.2 (security)");
    }
}
