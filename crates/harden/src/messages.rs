//! Fewer, clearer messages: one line per distinct problem with the places it occurs, and no
//! notes about files a run on named files (what pre-commit passes) was not given.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use harden_transforms::{Finding, Severity};

use crate::report::{finding_line, location, RepoReport, Style};

/// Places listed after the first one before the rest is only counted.
const MAX_PLACES: usize = 10;

/// Findings that say the same thing (same transform, severity and message) in several places.
#[derive(Debug)]
pub(crate) struct Group<'a> {
    /// The first place, in the order the findings came.
    pub first: &'a Finding,
    /// The other places.
    pub others: Vec<&'a Finding>,
}

/// Groups identical findings, keeping the order of their first occurrence.
pub(crate) fn group<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut index: HashMap<(&str, Severity, &str), usize> = HashMap::new();
    for f in findings {
        let key = (f.transform, f.severity, f.message.as_str());
        match index.get(&key) {
            Some(&i) => groups[i].others.push(f),
            None => {
                index.insert(key, groups.len());
                groups.push(Group {
                    first: f,
                    others: Vec::new(),
                });
            }
        }
    }
    groups
}

/// A group as one line: the first place as `finding_line` shows it, then the other places.
pub(crate) fn group_line(g: &Group<'_>, style: Style) -> String {
    let mut line = finding_line(g.first, style);
    if g.others.is_empty() {
        return line;
    }
    let places: Vec<String> = g
        .others
        .iter()
        .take(MAX_PLACES)
        .map(|f| location(f))
        .collect();
    line.push_str(&format!(" (also at {}", places.join(", ")));
    if g.others.len() > MAX_PLACES {
        line.push_str(&format!(" and {} more", g.others.len() - MAX_PLACES));
    }
    line.push(')');
    line
}

/// `path` without `.` components, so that `./a/b` and `a/b` compare equal.
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// In a run on named files (what pre-commit passes), drops the notes about files of the same
/// repository that were not named (such as an untouched `dependabot.yml`): that run was not
/// asked about them, and every commit would repeat them. Warnings and errors stay.
pub(crate) fn drop_notes_on_unnamed_files(reports: &mut [RepoReport], paths: &[PathBuf]) {
    let named: HashSet<PathBuf> = paths
        .iter()
        .filter(|p| !p.is_dir())
        .map(|p| normal(p))
        .collect();
    let folders: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.is_dir())
        .map(|p| normal(p))
        .collect();
    if named.is_empty() {
        return;
    }
    for report in reports {
        if folders.contains(&normal(&report.root)) {
            continue;
        }
        for t in &mut report.transforms {
            t.findings
                .retain(|f| f.severity != Severity::Note || named.contains(&normal(&f.path)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, line: usize, message: &str) -> Finding {
        Finding {
            transform: "pin-actions",
            path: PathBuf::from(path),
            line: Some(line),
            column: Some(15),
            severity: Severity::Error,
            message: message.to_owned(),
        }
    }

    #[test]
    fn identical_findings_become_one_line_with_every_place() {
        let fs = [
            finding("a.yml", 6, "cannot resolve x/y"),
            finding("a.yml", 9, "other"),
            finding("b.yml", 7, "cannot resolve x/y"),
        ];
        let groups = group(&fs);
        assert_eq!(groups.len(), 2);
        let line = group_line(&groups[0], Style { color: false });
        assert_eq!(
            line,
            "error: a.yml:6:15: [pin-actions] cannot resolve x/y (also at b.yml:7:15)"
        );
        assert_eq!(
            group_line(&groups[1], Style { color: false }),
            "error: a.yml:9:15: [pin-actions] other"
        );
    }

    #[test]
    fn long_place_lists_are_cut() {
        let fs: Vec<Finding> = (1..=13).map(|l| finding("a.yml", l, "same")).collect();
        let line = group_line(&group(&fs)[0], Style { color: false });
        assert!(line.ends_with("a.yml:11:15 and 2 more)"), "{line}");
    }
}
