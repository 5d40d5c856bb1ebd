//! The entries harden writes, as [`NewValue`]s, and the text of a new `dependabot.yml`.

use harden_yaml::render::sequence_item_lines;
use harden_yaml::{NewEntry, NewValue};

use super::style::HouseStyle;
use super::DependabotOptions;

/// The first lines of a file harden creates.
pub(crate) const HEADER: &str = "\
# Written by harden (dependabot transform): keeps pinned actions and dependencies up to date.
# Options: https://docs.github.com/en/code-security/dependabot/working-with-dependabot/dependabot-options-reference
";

/// One `updates` entry for `ecosystem` over `dirs` (normalised, at least one). Keys follow the
/// options reference: the required `package-ecosystem`, `directory`/`directories` and
/// `schedule` first, then the optional ones in the reference's (alphabetical) order. The
/// policy keys and the quoting come from the file's existing entries (`style`).
pub(crate) fn entry(
    ecosystem: &str,
    dirs: &[String],
    options: &DependabotOptions,
    style: &HouseStyle,
) -> NewValue {
    let mut policy = style.policy(ecosystem, options);
    let mut take = |key: &str| {
        policy
            .iter()
            .position(|e| e.key == key)
            .map(|i| policy.remove(i))
    };
    let mut keys = vec![NewEntry::new("package-ecosystem", style.string(ecosystem))];
    match dirs {
        [one] => keys.push(NewEntry::new("directory", style.string(one))),
        many => keys.push(NewEntry::new(
            "directories",
            NewValue::Sequence(many.iter().map(|d| style.string(d)).collect()),
        )),
    }
    keys.push(take("schedule").unwrap_or_else(|| {
        NewEntry::new(
            "schedule",
            NewValue::Mapping(vec![NewEntry::new(
                "interval",
                style.string(options.schedule.as_str()),
            )]),
        )
    }));
    keys.extend(take("assignees"));
    keys.extend(take("commit-message"));
    if options.cooldown_days > 0 {
        keys.push(NewEntry::new(
            "cooldown",
            NewValue::Mapping(vec![NewEntry::new(
                "default-days",
                NewValue::Plain(options.cooldown_days.to_string()),
            )]),
        ));
    }
    if options.group {
        keys.push(NewEntry::new(
            "groups",
            NewValue::Mapping(vec![NewEntry::new(
                ecosystem,
                NewValue::Mapping(vec![NewEntry::new(
                    "patterns",
                    NewValue::Sequence(vec![style.string("*")]),
                )]),
            )]),
        ));
    }
    if options.ignore_major {
        keys.push(NewEntry::new(
            "ignore",
            NewValue::Sequence(vec![NewValue::Mapping(vec![
                NewEntry::new("dependency-name", style.string("*")),
                NewEntry::new(
                    "update-types",
                    NewValue::Sequence(vec![style.string("version-update:semver-major")]),
                ),
            ])]),
        ));
    }
    keys.extend(take("labels"));
    keys.extend(take("open-pull-requests-limit"));
    keys.extend(take("rebase-strategy"));
    NewValue::Mapping(keys)
}

/// Gives a new `entry` the `target-branch` and `groups` of an existing one (`taken`): the
/// branch after the directories, the groups in place of harden's own.
pub(crate) fn take_over(entry: &mut NewValue, taken: &[NewEntry]) {
    let NewValue::Mapping(keys) = entry else {
        return;
    };
    for new in taken {
        if let Some(at) = keys.iter().position(|k| k.key == new.key) {
            keys[at] = new.clone();
        } else if new.key == "target-branch" {
            let after = keys
                .iter()
                .position(|k| k.key == "directory" || k.key == "directories")
                .map_or(keys.len(), |i| i + 1);
            keys.insert(after, new.clone());
        } else if let Some(at) = keys.iter().position(|k| {
            k.key.as_str() > new.key.as_str()
                && k.key != "schedule"
                && !k.key.starts_with("director")
                && k.key != "package-ecosystem"
        }) {
            keys.insert(at, new.clone());
        } else {
            keys.push(new.clone());
        }
    }
}

/// The whole top-level value of a new file (what [`file_text`] must load as).
#[cfg(test)]
pub(crate) fn file_value(entries: &[NewValue]) -> NewValue {
    NewValue::Mapping(vec![
        NewEntry::new("version", NewValue::Plain("2".into())),
        NewEntry::new("updates", NewValue::Sequence(entries.to_vec())),
    ])
}

/// The text of a new `dependabot.yml` (LF line endings) holding `entries`, and the 1-based
/// line where each entry starts.
pub(crate) fn file_text(entries: &[NewValue]) -> (String, Vec<usize>) {
    let mut text = String::from(HEADER);
    text.push_str("version: 2\nupdates:\n");
    let mut starts = Vec::new();
    for (n, value) in entries.iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        starts.push(text.lines().count() + 1);
        // Two-space steps, sequences indented under their key, as in Dependabot's documentation.
        for line in sequence_item_lines(value, 2, 2, 2) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    (text, starts)
}

#[cfg(test)]
mod tests {
    use super::super::{DependabotOptions, Schedule};
    use super::*;
    use yaml_rust2::YamlLoader;

    fn all_on() -> DependabotOptions {
        DependabotOptions {
            schedule: Schedule::Monthly,
            group: true,
            cooldown_days: 3,
            ignore_major: true,
            ecosystems: None,
        }
    }

    #[test]
    fn text_loads_as_the_intended_data() {
        let options = [
            DependabotOptions::default(),
            all_on(),
            DependabotOptions {
                group: false,
                cooldown_days: 0,
                ..DependabotOptions::default()
            },
        ];
        for o in &options {
            let entries = vec![
                entry(
                    "github-actions",
                    &["/".into(), "/.github/actions/a b".into()],
                    o,
                    &HouseStyle::default(),
                ),
                entry("npm", &["/web".into()], o, &HouseStyle::default()),
                entry("docker", &["/".into()], o, &HouseStyle::default()),
            ];
            let (text, starts) = file_text(&entries);
            let loaded = YamlLoader::load_from_str(&text).expect("loads");
            assert_eq!(loaded.len(), 1);
            assert_eq!(loaded[0], file_value(&entries).to_yaml(), "{text}");
            let doc = harden_yaml::Document::parse(text.as_str()).expect("parses");
            let items = doc
                .get(&harden_yaml::Path::root(0).key("updates"))
                .and_then(|n| n.as_sequence())
                .expect("updates");
            let lines: Vec<usize> = items.items.iter().map(|i| i.line).collect();
            assert_eq!(lines, starts);
            assert!(text.starts_with("# Written by harden"));
            assert!(!text.contains('\r'));
        }
    }

    #[test]
    fn key_order_and_layout() {
        let (text, _) = file_text(&[entry(
            "github-actions",
            &["/".into()],
            &all_on(),
            &HouseStyle::default(),
        )]);
        let body: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(
            body,
            [
                "version: 2",
                "updates:",
                "  - package-ecosystem: github-actions",
                "    directory: /",
                "    schedule:",
                "      interval: monthly",
                "    cooldown:",
                "      default-days: 3",
                "    groups:",
                "      github-actions:",
                "        patterns:",
                "          - '*'",
                "    ignore:",
                "      - dependency-name: '*'",
                "        update-types:",
                "          - version-update:semver-major",
            ]
        );
    }
}
