//! `dependabot:` in `.github/harden.yml`: how new `updates` entries are written.

use harden_yaml::{DeError, Node};
use serde::Deserialize;

use super::{DependabotOptions, Schedule, KNOWN_ECOSYSTEMS, MAX_COOLDOWN_DAYS};
use crate::registry::Settings;
use crate::settings::{read_section, Flags, OneOrMany, Parsed};

/// Days of `cooldown`, at most what Dependabot accepts.
#[derive(Debug, Clone, Copy)]
struct CooldownDays(u32);

impl<'de> Deserialize<'de> for CooldownDays {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let days = u32::deserialize(deserializer)?;
        if days > MAX_COOLDOWN_DAYS {
            return Err(serde::de::Error::custom(format!(
                "`cooldown: {days}` is too long: Dependabot accepts 1 to {MAX_COOLDOWN_DAYS} \
                 days (0 leaves cooldown out)"
            )));
        }
        Ok(CooldownDays(days))
    }
}

/// A `package-ecosystem` Dependabot knows.
#[derive(Debug, Clone)]
struct Ecosystem(String);

impl<'de> Deserialize<'de> for Ecosystem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if !KNOWN_ECOSYSTEMS.contains(&name.as_str()) {
            return Err(serde::de::Error::custom(format!(
                "unknown ecosystem `{name}` (Dependabot knows {})",
                KNOWN_ECOSYSTEMS.join(", ")
            )));
        }
        Ok(Ecosystem(name))
    }
}

/// The section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DependabotSection {
    /// daily, weekly or monthly.
    schedule: Option<Parsed<Schedule>>,
    /// Days; 0 for none (`cooldown-days` is the same key, as the issue tracker and zizmor's
    /// audit name it).
    #[serde(alias = "cooldown-days")]
    cooldown: Option<CooldownDays>,
    /// One group for all updates.
    group: Option<bool>,
    /// An ignore rule for major updates.
    ignore_major: Option<bool>,
    /// Only these ecosystems.
    ecosystems: Option<OneOrMany<Ecosystem>>,
}

/// The section, with the flags over it.
pub(super) fn configure(
    section: Option<&Node>,
    flags: &Flags,
    settings: &mut Settings,
) -> Result<(), DeError> {
    let file: DependabotSection = read_section(section)?;
    let defaults = DependabotOptions::default();
    let ecosystems = if flags.ecosystems.is_empty() {
        file.ecosystems
            .map(|list| list.0.into_iter().map(|e| e.0).collect())
    } else {
        Some(flags.ecosystems.clone())
    };
    settings.dependabot = DependabotOptions {
        schedule: flags
            .schedule
            .or(file.schedule.map(|s| s.0))
            .unwrap_or(defaults.schedule),
        group: !flags.no_group && file.group.unwrap_or(defaults.group),
        cooldown_days: flags
            .cooldown
            .or(file.cooldown.map(|c| c.0))
            .unwrap_or(defaults.cooldown_days),
        ignore_major: flags.ignore_major || file.ignore_major.unwrap_or(defaults.ignore_major),
        ecosystems,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(text: &str) -> u32 {
        let doc = harden_yaml::Document::parse(text).expect("parses");
        let mut settings = Settings::default();
        configure(doc.documents().first(), &Flags::default(), &mut settings).expect("reads");
        settings.dependabot.cooldown_days
    }

    #[test]
    fn cooldown_days_is_the_cooldown() {
        assert_eq!(days("cooldown: 10\n"), 10);
        assert_eq!(days("cooldown-days: 14\n"), 14);
        assert_eq!(days("schedule: weekly\n"), 7);
    }
}
