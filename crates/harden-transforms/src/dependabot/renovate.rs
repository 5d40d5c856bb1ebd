//! Another bot: when the repository has a Renovate configuration, harden writes no Dependabot
//! configuration (the two would open every update twice) and says instead whether Renovate
//! keeps the SHA pins harden writes up to date.

use std::path::Path as FsPath;

use serde_json::Value;

use super::knowledge::knowledge;
use super::manifests::read_small;
use crate::Severity;

/// What harden makes of a Renovate configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Renovate {
    /// The configuration file, relative to the root (`renovate.json`, `package.json`, ...).
    pub(crate) file: String,
    /// How serious the report is.
    pub(crate) severity: Severity,
    /// What Renovate does with the pins, and what to change.
    pub(crate) message: String,
    /// Renovate's `github-actions` manager is on (or harden cannot tell that it is off).
    pub(crate) manages_actions: bool,
}

/// The Renovate configuration at `root`, in the order Renovate looks for one, if any.
pub(crate) fn find(root: &FsPath) -> Option<Renovate> {
    for name in &knowledge().renovate_files {
        let Some(text) = read_small(&root.join(name)) else {
            continue;
        };
        let parsed = json5::from_str::<Value>(&text);
        if name == "package.json" {
            // Only a package.json with a `renovate` key configures Renovate.
            return match parsed {
                Ok(json) if json.get("renovate").is_some() => Some(assess(name, &json["renovate"])),
                _ => None,
            };
        }
        return Some(match parsed {
            Ok(json) => assess(name, &json),
            Err(e) => Renovate {
                file: name.clone(),
                severity: Severity::Warning,
                message: format!(
                    "Renovate is configured in {name}, so no Dependabot configuration is written, \
                     but harden cannot read the file ({e}); check that Renovate updates the \
                     `github-actions` digests harden pins"
                ),
                manages_actions: true,
            },
        });
    }
    None
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// True when a package rule applies to GitHub Actions (or to everything).
fn rule_targets_actions(rule: &Value) -> bool {
    let managers = strings(&rule["matchManagers"]);
    let dep_types = strings(&rule["matchDepTypes"]);
    let narrowed = rule
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.starts_with("match")));
    managers.contains(&"github-actions")
        || dep_types.iter().any(|t| *t == "action" || *t == "workflow")
        || !narrowed
}

/// Why Renovate does not update actions at all, if it does not.
fn actions_off(config: &Value) -> Option<&'static str> {
    if config["enabled"] == Value::Bool(false) {
        return Some("`enabled: false` turns Renovate off");
    }
    if config["enabledManagers"].is_array()
        && !strings(&config["enabledManagers"]).contains(&"github-actions")
    {
        return Some("`enabledManagers` does not list `github-actions`");
    }
    if config["github-actions"]["enabled"] == Value::Bool(false) {
        return Some("`github-actions.enabled` is false");
    }
    let off_rule = config["packageRules"].as_array().is_some_and(|rules| {
        rules.iter().any(|r| {
            r["enabled"] == Value::Bool(false)
                && strings(&r["matchManagers"]).contains(&"github-actions")
                && r.as_object()
                    .is_some_and(|o| o.keys().filter(|k| k.starts_with("match")).count() == 1)
        })
    });
    off_rule.then_some("a package rule disables the `github-actions` manager")
}

/// How Renovate is told to pin actions to digests, if it is.
fn pins_actions(config: &Value) -> Option<String> {
    let extends = strings(&config["extends"]);
    let presets = &knowledge().renovate_pin_presets;
    if let Some(p) = extends
        .iter()
        .find(|e| presets.iter().any(|p| p == *e || format!(":{p}") == **e))
    {
        return Some(format!("`extends` has `{p}`"));
    }
    if config["pinDigests"] == Value::Bool(true) {
        return Some("`pinDigests: true`".to_owned());
    }
    if config["github-actions"]["pinDigests"] == Value::Bool(true) {
        return Some("`github-actions.pinDigests: true`".to_owned());
    }
    let by_rule = config["packageRules"].as_array().is_some_and(|rules| {
        rules
            .iter()
            .any(|r| r["pinDigests"] == Value::Bool(true) && rule_targets_actions(r))
    });
    by_rule.then(|| "a package rule with `pinDigests: true`".to_owned())
}

/// Presets from other repositories or packages, which harden cannot read.
fn outside_presets(config: &Value) -> Vec<&str> {
    strings(&config["extends"])
        .into_iter()
        .filter(|e| e.contains('>') || e.starts_with('@') || !e.contains(':'))
        .collect()
}

fn assess(file: &str, config: &Value) -> Renovate {
    let head = format!(
        "Renovate is configured in {file}, so harden writes no Dependabot configuration (two \
         bots would open every update twice)"
    );
    let off = actions_off(config);
    let (severity, message) = if let Some(why) = off {
        (
            Severity::Warning,
            format!(
                "{head}, but {why}: nothing will update the SHA pins harden writes. Enable \
                 Renovate's `github-actions` manager"
            ),
        )
    } else if let Some(how) = pins_actions(config) {
        (
            Severity::Note,
            format!(
                "{head}. Renovate updates the SHA pins harden writes (its `github-actions` \
                 manager follows the `# vX.Y.Z` comment) and pins actions added later ({how})"
            ),
        )
    } else {
        let outside = outside_presets(config);
        let hint = if outside.is_empty() {
            String::new()
        } else {
            format!(
                " unless a preset harden cannot read ({}) does so",
                outside.join(", ")
            )
        };
        (
            Severity::Note,
            format!(
                "{head}. Renovate updates the SHA pins harden writes (its `github-actions` \
                 manager follows the `# vX.Y.Z` comment) but does not pin actions added \
                 later{hint}: add \"helpers:pinGitHubActionDigests\" to `extends`"
            ),
        )
    };
    Renovate {
        file: file.to_owned(),
        severity,
        message,
        manages_actions: off.is_none(),
    }
}

/// What to add to the Renovate report when a Dependabot configuration is there too, with the
/// ecosystems its entries update: the two bots already overlap on `github-actions` when both
/// update actions.
pub(crate) fn overlap(renovate: &Renovate, dependabot: &str, ecosystems: &[String]) -> String {
    if ecosystems.is_empty() {
        return String::new();
    }
    if renovate.manages_actions && ecosystems.iter().any(|e| e == "github-actions") {
        return format!(
            ". {dependabot} is there too and harden adds nothing to it, but its `github-actions` \
             entry and Renovate's `github-actions` manager already overlap: both bots propose \
             every action update, twice the pull requests. Keep one: remove the \
             `github-actions` entry from {dependabot}, or disable Renovate's `github-actions` \
             manager"
        );
    }
    format!(". {dependabot} is there too; harden adds nothing to it")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(text: &str) -> Renovate {
        assess(
            "renovate.json",
            &json5::from_str::<Value>(text).expect(text),
        )
    }

    #[test]
    fn pinning_is_recognised() {
        for text in [
            r#"{"extends": ["config:recommended", "helpers:pinGitHubActionDigests"]}"#,
            r#"{extends: ['config:best-practices'], // JSON5
            }"#,
            r#"{"extends": ["helpers:pinGitHubActionDigestsToSemver"]}"#,
            r#"{"pinDigests": true}"#,
            r#"{"packageRules": [{"matchManagers": ["github-actions"], "pinDigests": true}]}"#,
        ] {
            let r = judge(text);
            assert_eq!(r.severity, Severity::Note, "{text}");
            assert!(
                r.message.contains("and pins actions added later"),
                "{text}: {}",
                r.message
            );
        }
    }

    #[test]
    fn missing_pinning_and_disabled_actions_are_said() {
        let r = judge(r#"{"extends": ["config:recommended", "github>my-org/renovate-config"]}"#);
        assert!(r
            .message
            .contains("does not pin actions added later unless a preset"));
        assert!(r.message.contains("github>my-org/renovate-config"));
        for text in [
            r#"{"enabledManagers": ["npm"]}"#,
            r#"{"github-actions": {"enabled": false}}"#,
            r#"{"packageRules": [{"matchManagers": ["github-actions"], "enabled": false}]}"#,
        ] {
            let r = judge(text);
            assert_eq!(r.severity, Severity::Warning, "{text}");
            assert!(r.message.contains("nothing will update"), "{text}");
        }
    }
}
