//! `--narrow` (or `permissions: {narrow: true}`): a `permissions:` block the maintainers
//! wrote that grants more than harden settles for the jobs under it becomes harden's block,
//! one commented line per scope. Only where every job under the block is fully settled (no
//! step harden cannot read, no program taken on trust), never in a called workflow, and
//! never where the block or its job is shared through YAML anchors, aliases or merge keys.
//! A scope is never widened: each new access is at most what the block granted.

use std::collections::BTreeMap;

use harden_yaml::{EditSet, NewEntry, NewValue, Path};

use super::scopes::{summary, Grant, ScopeSet};
use super::{wider, Access, Block, JobPlan, Scope};
use crate::ChangeNote;

/// A block the maintainers wrote that `--narrow` replaces: plain data, decided before any
/// edit.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Narrowed {
    /// The job's id; `None` for the top-level block.
    pub job: Option<String>,
    /// The line where the block starts (its value).
    pub line: usize,
    /// The block is `read-all` or `write-all` (a scalar), not a mapping.
    pub scalar: bool,
    /// The new entry.
    pub entry: NewEntry,
    /// What the new block grants, for the note.
    pub kept: String,
    /// What the old block granted that the new one does not (`issues: write`).
    pub dropped: Vec<String>,
}

/// True when harden can tell everything the job needs, without assuming anything.
fn fully_settled(job: &JobPlan<'_>) -> bool {
    job.settled_fully && job.declared.is_none()
}

/// True when the `permissions:` value `node` can be replaced on its own: not anchored (an
/// alias elsewhere would change too), and a scalar or a block mapping whose every key is a
/// scope harden knows (a newer scope would be dropped unseen).
fn replaceable(node: &harden_yaml::Node) -> bool {
    if node.anchor.is_some() {
        return false;
    }
    if node.as_scalar().is_some() {
        return true;
    }
    node.as_mapping().is_some_and(|m| {
        !m.flow
            && !m.entries.is_empty()
            && m.entries
                .iter()
                .all(|e| e.key_str().is_some_and(|k| k.parse::<Scope>().is_ok()))
    })
}

/// The narrowed block of `job`, when its own block grants more than harden settles.
pub(super) fn job(job: &JobPlan<'_>, jobs: &[JobPlan<'_>]) -> Option<Narrowed> {
    let (node, grant) = job.own.as_ref()?;
    let shared = jobs
        .iter()
        .any(|other| other.id != job.id && other.target == job.target);
    if job.alias || job.merge_key || shared || !replaceable(node) || !fully_settled(job) {
        return None;
    }
    let needs = &job.analysis.needs;
    if !super::lacking(grant, &needs.accesses()).is_empty() {
        return None;
    }
    let dropped_scopes = wider(grant, &needs.accesses());
    if dropped_scopes.is_empty() {
        return None;
    }
    let scopes = narrowed_scopes(grant, needs);
    let new_map: BTreeMap<Scope, Access> = scopes.iter().map(|(s, a, _)| (*s, *a)).collect();
    let dropped_scopes = lowered(grant, &new_map);
    if dropped_scopes.is_empty() {
        return None;
    }
    let kept = shown(&new_map);
    Some(Narrowed {
        job: Some(job.id.clone()),
        line: node.line,
        scalar: node.as_scalar().is_some(),
        entry: entry(&scopes, &job.analysis.settled),
        kept,
        dropped: dropped(node, dropped_scopes),
    })
}

/// The narrowed top-level block, and the blocks of the jobs inheriting it that need more
/// than the new top level (at most what the old one granted them), when it grants more than
/// those jobs need and every one of them is fully settled.
pub(super) fn top<'j>(
    node: &harden_yaml::Node,
    grant: &Grant,
    inheriting: &[&'j JobPlan<'_>],
) -> Option<(Narrowed, Vec<(String, Block<'j>)>)> {
    let writable = |j: &&JobPlan<'_>| !j.alias && !j.merge_key && fully_settled(j);
    if !replaceable(node) || !inheriting.iter().all(writable) {
        return None;
    }
    let old = grant.as_map()?;
    let mut union = ScopeSet::default();
    for j in inheriting {
        union.merge(&j.analysis.needs);
    }
    let dropped_from_top = wider(grant, &union.accesses());
    if dropped_from_top.is_empty() {
        return None;
    }
    // Every job starts from read-only: `contents: read` for `read-all`/`write-all` (or
    // nothing when the block did not grant contents), every scope of a mapping the
    // maintainers wrote lowered to read (writes go to the jobs that need them).
    let base: BTreeMap<Scope, Access> = if node.as_scalar().is_some() {
        old.get(&Scope::Contents)
            .map(|_| (Scope::Contents, Access::Read))
            .into_iter()
            .collect()
    } else {
        old.keys().map(|s| (*s, Access::Read)).collect()
    };
    let base_grant = Grant::Scopes(base.clone());
    let mut blocks = Vec::new();
    for j in inheriting {
        let capped: BTreeMap<Scope, Access> = j
            .analysis
            .needs
            .accesses()
            .into_iter()
            .filter_map(|(s, a)| old.get(&s).map(|g| (s, a.min(*g))))
            .collect();
        if !base_grant.covers(&capped) {
            blocks.push((j.id.clone(), (capped, Some(&j.analysis.needs))));
        }
    }
    let entries = base
        .iter()
        .map(|(s, a)| NewEntry::new(s.as_str(), NewValue::string(a.as_str())))
        .collect();
    Some((
        Narrowed {
            job: None,
            line: node.line,
            scalar: node.as_scalar().is_some(),
            entry: NewEntry::new("permissions", NewValue::Mapping(entries)),
            kept: shown(&base),
            dropped: dropped(node, wider(grant, &base)),
        },
        blocks,
    ))
}

/// What of `grant` the new block `new` lowers or drops (`issues: write`), for the note.
fn lowered(grant: &Grant, new: &BTreeMap<Scope, Access>) -> Vec<String> {
    grant
        .as_map()
        .unwrap_or_default()
        .into_iter()
        .filter(|(s, a)| new.get(s) != Some(a))
        .map(|(s, a)| format!("{s}: {a}"))
        .collect()
}

/// What a note says the new block grants: its scopes, or `{}`.
fn shown(map: &BTreeMap<Scope, Access>) -> String {
    if map.is_empty() {
        "`{}`".to_owned()
    } else {
        summary(map)
    }
}

/// What a note says was dropped: the scopes, or `read-all`/`write-all` as written.
fn dropped(node: &harden_yaml::Node, scopes: Vec<String>) -> Vec<String> {
    match node.as_str() {
        Some(word) => vec![format!("`{}` (every scope)", word.trim())],
        None => scopes,
    }
}

/// What of `grant` a job needing `needs` keeps, with a comment for each scope: needed
/// scopes at the access needed, a scope that serves a need through its alternative
/// (`pull-requests` for `issues`), and `contents: read`.
fn narrowed_scopes(grant: &Grant, needs: &ScopeSet) -> Vec<(Scope, Access, String)> {
    let accesses = needs.accesses();
    let extra = wider(grant, &accesses);
    let mut out = Vec::new();
    for (scope, access) in grant.as_map().unwrap_or_default() {
        let shown = format!("{scope}: {access}");
        // A scope the job needs keeps the access it needs; one harden sees no use for keeps
        // read access: a read the maintainers granted may serve what the knowledge base does
        // not know (a private repository's reads), and it writes nothing.
        let new = if extra.contains(&shown) {
            accesses
                .get(&scope)
                .map_or(Access::Read, |n| *n)
                .min(access)
        } else {
            access
        };
        let alt = match scope {
            Scope::Issues => Some(Scope::PullRequests),
            Scope::PullRequests => Some(Scope::Issues),
            _ => None,
        };
        let comment = needs
            .first_reason(scope)
            .or_else(|| alt.and_then(|a| needs.first_reason(a)))
            .map_or_else(
                || "read access the block granted, kept".to_owned(),
                |r| r.comment(),
            );
        out.push((scope, new, comment));
    }
    out
}

/// The `permissions:` entry for `scopes` (`{}` with the settled steps' comment when empty).
fn entry(scopes: &[(Scope, Access, String)], settled: &[String]) -> NewEntry {
    if scopes.is_empty() {
        return NewEntry::new("permissions", NewValue::Mapping(Vec::new()))
            .with_comment(super::analyze::empty_block_comment(settled));
    }
    let entries = scopes
        .iter()
        .map(|(s, a, c)| NewEntry::new(s.as_str(), NewValue::string(a.as_str())).with_comment(c))
        .collect();
    NewEntry::new("permissions", NewValue::Mapping(entries))
}

/// Replaces the block `n` describes; the note says what was dropped.
pub(super) fn apply(
    n: &Narrowed,
    edits: &mut EditSet<'_>,
    notes: &mut Vec<ChangeNote>,
) -> Result<(), String> {
    let (mapping, who) = match &n.job {
        Some(id) => (Path::root(0).key("jobs").key(id), format!("job {id}")),
        None => (Path::root(0), "workflow".to_owned()),
    };
    let done = if n.scalar {
        edits.replace_entry(&mapping, "permissions", n.entry.clone())
    } else {
        edits.replace_block_entry(&mapping, "permissions", n.entry.clone())
    };
    done.map_err(|e| format!("--narrow: could not replace the `permissions` block: {e}"))?;
    notes.push(ChangeNote {
        line: n.line,
        message: format!(
            "{who}: permissions narrowed to {} (--narrow dropped: {})",
            n.kept,
            n.dropped.join(", ")
        ),
    });
    Ok(())
}
