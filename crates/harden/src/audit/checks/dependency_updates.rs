//! `dependency-updates`: Dependabot or Renovate is configured and covers GitHub Actions.

use crate::audit::{Check, RepoFacts, Status};

/// Dependabot or Renovate keeps the repository's dependencies, actions included, up to date.
pub(super) struct DependencyUpdates;

/// What Renovate covers, from its configuration text: Renovate updates workflows by default
/// (its `github-actions` manager is on) unless `enabledManagers` leaves it out or the manager
/// is turned off.
fn renovate_covers_actions(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"github-actions\":{\"enabled\":false") {
        return false;
    }
    !compact.contains("enabledManagers") || compact.contains("github-actions")
}

impl Check for DependencyUpdates {
    fn id(&self) -> &'static str {
        "dependency-updates"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        const FIX: &str = "fix: harden --only dependabot";
        if let Some(file) = &repo.dependabot {
            let ecosystems: Vec<&str> = file
                .strings("updates[*].package-ecosystem")
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            if file.doc.is_none() {
                return (
                    Status::Partial,
                    format!("{} is not valid YAML; {FIX}", file.rel),
                );
            }
            if ecosystems.contains(&"github-actions") {
                return (
                    Status::Pass,
                    format!(
                        "Dependabot ({}) updates {}",
                        file.rel,
                        ecosystems.join(", ")
                    ),
                );
            }
            return (
                Status::Partial,
                format!(
                    "Dependabot ({}) does not update github-actions (has: {}); {FIX}",
                    file.rel,
                    if ecosystems.is_empty() {
                        "nothing".to_owned()
                    } else {
                        ecosystems.join(", ")
                    }
                ),
            );
        }
        if let Some((path, text)) = &repo.renovate {
            return if renovate_covers_actions(text) {
                (
                    Status::Pass,
                    format!("Renovate ({path}), github-actions manager enabled"),
                )
            } else {
                (
                    Status::Partial,
                    format!("Renovate ({path}) leaves out the github-actions manager"),
                )
            };
        }
        (
            Status::Fail,
            format!("no Dependabot or Renovate configuration; {FIX}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renovate_managers() {
        assert!(renovate_covers_actions(
            "{\"extends\": [\"config:recommended\"]}"
        ));
        assert!(!renovate_covers_actions(
            "{\"enabledManagers\": [\"cargo\"]}"
        ));
        assert!(renovate_covers_actions(
            "{\"enabledManagers\": [\"cargo\", \"github-actions\"]}"
        ));
        assert!(!renovate_covers_actions(
            "{\"github-actions\": { \"enabled\": false }}"
        ));
    }
}
