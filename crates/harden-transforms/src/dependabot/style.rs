//! House style: what new entries copy from the entries already in the file, so that they
//! follow the project's policy (labels its CI requires, when updates run, commit message
//! prefixes, assignees, the pull request limit, rebasing) and its quoting.
//!
//! A new entry copies every policy key of the first existing entry of its own ecosystem
//! (family: `pip`/`uv`, `npm`/`bun`). Without one, it copies what all existing entries agree
//! on: a key every entry has with the same value; for `labels`, the labels every entry
//! carries; for `schedule`, the whole schedule when all entries have the same one, else the
//! `time` and `timezone` they agree on, with the interval from the options.

use harden_yaml::render::scalar_in_style;
use harden_yaml::{NewEntry, NewValue, ScalarStyle};

use super::config::{Config, UpdateEntry, POLICY_KEYS};
use super::manifests::family;
use super::{DependabotOptions, Schedule};

/// The conventions of one configuration file.
#[derive(Debug, Clone, Default)]
pub(crate) struct HouseStyle {
    /// How strings are quoted (by the quoting of `package-ecosystem` in most entries).
    pub(crate) quote: Option<ScalarStyle>,
    entries: Vec<UpdateEntry>,
}

impl HouseStyle {
    /// The style of `config`'s entries.
    pub(crate) fn of(config: &Config) -> Self {
        let count = |style| {
            config
                .entries
                .iter()
                .filter(|e| e.quote == Some(style))
                .count()
        };
        let [plain, single, double] = [
            ScalarStyle::Plain,
            ScalarStyle::SingleQuoted,
            ScalarStyle::DoubleQuoted,
        ]
        .map(count);
        let quote = if double > plain && double >= single {
            ScalarStyle::DoubleQuoted
        } else if single > plain && single > double {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::Plain
        };
        HouseStyle {
            quote: (!config.entries.is_empty()).then_some(quote),
            entries: config.entries.clone(),
        }
    }

    /// `text` as a string value in the file's quoting.
    pub(crate) fn string(&self, text: &str) -> NewValue {
        match self.quote {
            Some(style @ (ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)) => {
                scalar_in_style(text, style).map_or_else(|| NewValue::string(text), NewValue::Plain)
            }
            _ => NewValue::string(text),
        }
    }

    /// The policy values a new `ecosystem` entry copies, by key (schedule included when there
    /// is one to copy).
    pub(crate) fn policy(&self, ecosystem: &str, options: &DependabotOptions) -> Vec<NewEntry> {
        let mut copied = self.copied(ecosystem, options);
        // A limit of 0 turns version updates off: a new entry with it would do nothing.
        copied.retain(|e| {
            !(e.key == "open-pull-requests-limit"
                && e.value.to_yaml() == yaml_rust2::Yaml::Integer(0))
        });
        copied
    }

    fn copied(&self, ecosystem: &str, options: &DependabotOptions) -> Vec<NewEntry> {
        if let Some(same) = self
            .entries
            .iter()
            .find(|e| family(&e.ecosystem) == family(ecosystem))
        {
            return POLICY_KEYS
                .iter()
                .filter_map(|k| same.policy.get(k).map(|v| NewEntry::new(*k, v.clone())))
                .collect();
        }
        POLICY_KEYS
            .iter()
            .filter_map(|k| {
                match *k {
                    "labels" => self.common_labels(),
                    "schedule" => self.common_schedule(options),
                    key => self.unanimous(key),
                }
                .map(|v| NewEntry::new(*k, v))
            })
            .collect()
    }

    /// The value of `key` when every entry has it and all agree.
    fn unanimous(&self, key: &str) -> Option<NewValue> {
        let first = self.entries.first()?.policy.get(key)?;
        self.entries
            .iter()
            .all(|e| {
                e.policy
                    .get(key)
                    .is_some_and(|v| v.to_yaml() == first.to_yaml())
            })
            .then(|| first.clone())
    }

    /// The labels every entry carries, in the first entry's order.
    fn common_labels(&self) -> Option<NewValue> {
        let labels = |e: &UpdateEntry| match e.policy.get("labels") {
            Some(NewValue::Sequence(items)) => Some(items.clone()),
            _ => None,
        };
        let all: Vec<Vec<NewValue>> = self.entries.iter().map(labels).collect::<Option<_>>()?;
        let (first, rest) = all.split_first()?;
        let common: Vec<NewValue> = first
            .iter()
            .filter(|l| {
                rest.iter()
                    .all(|other| other.iter().any(|o| o.to_yaml() == l.to_yaml()))
            })
            .cloned()
            .collect();
        // `labels: []` everywhere means "no labels", which is policy too.
        (!common.is_empty() || first.is_empty()).then_some(NewValue::Sequence(common))
    }

    /// The schedule all entries share, or the options' interval with the `time` and
    /// `timezone` they agree on (`day` too for a weekly interval).
    fn common_schedule(&self, options: &DependabotOptions) -> Option<NewValue> {
        if let Some(whole) = self.unanimous("schedule") {
            return Some(whole);
        }
        let field = |name: &str| -> Option<NewValue> {
            let values: Vec<NewValue> = self
                .entries
                .iter()
                .map(|e| match e.policy.get("schedule") {
                    Some(NewValue::Mapping(m)) => {
                        m.iter().find(|f| f.key == name).map(|f| f.value.clone())
                    }
                    _ => None,
                })
                .collect::<Option<_>>()?;
            let first = values.first()?;
            values
                .iter()
                .all(|v| v.to_yaml() == first.to_yaml())
                .then(|| first.clone())
        };
        let mut fields = vec![NewEntry::new(
            "interval",
            self.string(options.schedule.as_str()),
        )];
        let names: &[&str] = if options.schedule == Schedule::Weekly {
            &["day", "time", "timezone"]
        } else {
            &["time", "timezone"]
        };
        for name in names {
            if let Some(v) = field(name) {
                fields.push(NewEntry::new(*name, v));
            }
        }
        (fields.len() > 1).then_some(NewValue::Mapping(fields))
    }

    /// Entries with the retired `reviewers` key (1-based lines), which new entries do not copy.
    pub(crate) fn reviewer_lines(&self) -> Vec<usize> {
        self.entries
            .iter()
            .filter(|e| e.has_reviewers)
            .map(|e| e.line)
            .collect()
    }
}
