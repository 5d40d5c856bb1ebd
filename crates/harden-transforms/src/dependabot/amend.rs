//! Changes to the entries already in `dependabot.yml`, in their own style: a `cooldown` for
//! entries that have none, and the folders of composite actions added to the existing
//! `github-actions` entry instead of a second entry beside it.

use harden_yaml::render::scalar_in_style;
use harden_yaml::{
    Document, EditSet, InsertAt, Mapping, NewEntry, NewValue, NodeKind, Path, ScalarStyle,
};

use super::config::{Config, UpdateEntry};
use super::dirs_text;
use crate::ChangeNote;

/// The path of the `index`th entry of `updates`.
fn entry_path(index: usize) -> Path {
    Path::root(0).key("updates").index(index)
}

/// The entry's own mapping in the file (not an alias of one written elsewhere).
fn own_mapping<'d>(doc: &'d Document, entry: &UpdateEntry) -> Option<&'d Mapping> {
    match &doc.get(&entry_path(entry.index))?.kind {
        NodeKind::Mapping(m) => Some(m),
        _ => None,
    }
}

/// Where `cooldown` goes in an entry: after `schedule`, as the options reference lists it
/// (before the key that follows `schedule`, so that comments introducing that key stay with
/// it), or last when the entry has no `schedule` of its own.
fn cooldown_position(map: &Mapping) -> InsertAt {
    let keys: Vec<&str> = map.entries.iter().filter_map(|e| e.key_str()).collect();
    match keys.iter().position(|k| *k == "schedule") {
        Some(i) if i + 1 < keys.len() => InsertAt::Before(keys[i + 1].to_owned()),
        Some(_) => InsertAt::After("schedule".to_owned()),
        None => InsertAt::Last,
    }
}

/// Adds `cooldown: {default-days: days}` to every entry of `config` without a `cooldown`.
/// Returns the entries that could not take one (an entry that is an alias), for a note.
pub(crate) fn add_cooldowns<'c>(
    doc: &Document,
    config: &'c Config,
    days: u32,
    edits: &mut EditSet<'_>,
    notes: &mut Vec<ChangeNote>,
) -> Vec<&'c UpdateEntry> {
    let mut left = Vec::new();
    for entry in config.entries.iter().filter(|e| !e.has_cooldown) {
        let Some(map) = own_mapping(doc, entry) else {
            left.push(entry);
            continue;
        };
        let value = NewValue::Mapping(vec![NewEntry::new(
            "default-days",
            NewValue::Plain(days.to_string()),
        )]);
        let inserted = edits.insert_entry(
            &entry_path(entry.index),
            cooldown_position(map),
            NewEntry::new("cooldown", value),
        );
        if inserted.is_err() {
            left.push(entry);
            continue;
        }
        let dirs: Vec<String> = entry.dirs.iter().map(|(d, _)| d.clone()).collect();
        notes.push(ChangeNote {
            line: entry.line,
            message: format!(
                "add `cooldown: default-days: {days}` to the `{}` entry for {}: without it \
                 Dependabot proposes a release the day it is published, before a compromised or \
                 broken release is usually found and withdrawn (security updates are not delayed)",
                entry.ecosystem,
                dirs_text(&dirs)
            ),
        });
    }
    left
}

/// The `github-actions` entry that new action folders join: the first one for the default
/// branch, else the first one.
pub(crate) fn actions_entry(config: &Config) -> Option<&UpdateEntry> {
    let actions = || {
        config
            .entries
            .iter()
            .filter(|e| e.ecosystem == "github-actions")
    };
    actions()
        .find(|e| e.target_branch.is_none())
        .or_else(|| actions().next())
}

/// `dir` as a list item quoted like `like` (an existing directory of the entry).
fn quoted_like(dir: &str, like: Option<ScalarStyle>) -> NewValue {
    match like {
        Some(style @ (ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)) => {
            scalar_in_style(dir, style).map_or_else(|| NewValue::string(dir), NewValue::Plain)
        }
        _ => NewValue::string(dir),
    }
}

/// Adds `dirs` to the existing `github-actions` entry: appended to its `directories`, or its
/// `directory` turned into a `directories` list holding the old directory first. Returns
/// false (and changes nothing) when the entry cannot take them in place: it is an alias, or
/// its directories come from elsewhere.
pub(crate) fn join_actions_entry(
    doc: &Document,
    config: &Config,
    dirs: &[String],
    edits: &mut EditSet<'_>,
    notes: &mut Vec<ChangeNote>,
) -> bool {
    let Some(entry) = actions_entry(config) else {
        return false;
    };
    let Some(map) = own_mapping(doc, entry) else {
        return false;
    };
    let path = entry_path(entry.index);
    let joined = if let Some(list) = map.get("directories") {
        let NodeKind::Sequence(seq) = &list.value.kind else {
            return false;
        };
        let like = seq
            .items
            .first()
            .and_then(|i| i.as_scalar())
            .map(|s| s.style);
        dirs.iter().all(|d| {
            edits
                .append_item(&path.key("directories"), quoted_like(d, like))
                .is_ok()
        })
    } else if let Some(one) = map.get("directory") {
        let Some(scalar) = one.value.as_scalar() else {
            return false;
        };
        let raw = doc.text()[scalar.token.range()].to_owned();
        let mut items = vec![NewValue::Plain(raw)];
        items.extend(dirs.iter().map(|d| quoted_like(d, Some(scalar.style))));
        edits
            .replace_entry(
                &path,
                "directory",
                NewEntry::new("directories", NewValue::Sequence(items)),
            )
            .is_ok()
    } else {
        false
    };
    if joined {
        notes.push(ChangeNote {
            line: entry.line,
            message: format!(
                "add {} to the existing `github-actions` entry, so that the composite actions \
                 there are updated with the same schedule, group and target branch",
                dirs_text(dirs)
            ),
        });
    }
    joined
}

/// The days under which an explicit cooldown is pointed out: a week, the least zizmor's
/// `dependabot-cooldown` audit accepts, or less when the options ask for less.
pub(crate) fn short_cooldown_limit(days: u32) -> i64 {
    i64::from(days.min(7))
}
