//! Callees that refuse to run from a commit SHA (the SLSA generator's reusable workflows and
//! actions verify their own ref): pin-actions leaves them on their tag and says why.
//!
//! The built-in list is data (`data/tag-only.yml`, each entry with its source); a repository
//! extends it and drops entries in `.github/harden.yml` (see [`TagOnlyList::with`]).

use std::sync::OnceLock;

use crate::globs::{Flavor, Globs};
use crate::settings::OneOrMany;

const BUILT_IN: &str = include_str!("../data/tag-only.yml");

/// One callee that must stay on a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagOnly {
    /// Glob over `owner/repo[/path]` (`*` = any text, case-insensitive).
    pub glob: String,
    /// Why it must stay on its tag (one sentence).
    pub reason: String,
    /// Where the fact comes from (empty for entries of a configuration file).
    pub source: Vec<String>,
}

/// The callees kept on their tag: the built-in list, plus and minus a repository's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagOnlyList {
    entries: Vec<TagOnly>,
    /// The globs of `entries`, in the same order.
    globs: Globs,
}

/// The built-in list, parsed once. A broken data file is a bug caught by the tests; at run
/// time it gives an empty list rather than a crash.
pub fn built_in() -> &'static [TagOnly] {
    static LIST: OnceLock<Vec<TagOnly>> = OnceLock::new();
    LIST.get_or_init(|| parse(BUILT_IN).unwrap_or_default())
}

/// An entry of the data file as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTagOnly {
    glob: String,
    reason: String,
    source: OneOrMany<String>,
}

/// The data file.
#[derive(serde::Deserialize)]
struct TagOnlyFile {
    #[serde(default)]
    callees: Vec<RawTagOnly>,
}

/// Parses a tag-only data file (`callees: [{glob, reason, source}]`); an error names its line
/// and column.
pub fn parse(text: &str) -> Result<Vec<TagOnly>, String> {
    let file: TagOnlyFile = harden_yaml::de::from_str(text).map_err(|e| e.to_string())?;
    Ok(file
        .callees
        .into_iter()
        .map(|raw| TagOnly {
            glob: raw.glob.trim().to_owned(),
            reason: raw.reason.trim().to_owned(),
            source: raw.source.0,
        })
        .collect())
}

impl TagOnlyList {
    /// The built-in list.
    pub fn built_in() -> Self {
        TagOnlyList::from_entries(built_in().to_vec())
    }

    fn from_entries(entries: Vec<TagOnly>) -> Self {
        let globs: Vec<&str> = entries.iter().map(|e| e.glob.as_str()).collect();
        TagOnlyList {
            globs: Globs::lenient(&globs, Flavor::Names),
            entries,
        }
    }

    /// This list plus `extra` globs (from `tag-only:` in `.github/harden.yml`), minus the
    /// entries whose glob matches one of `pin_anyway` or is written the same as one of them
    /// (`pin-anyway:`).
    pub fn with(self, extra: &[String], pin_anyway: &[String]) -> Self {
        let anyway = Globs::lenient(pin_anyway, Flavor::Names);
        let mut entries = self.entries;
        entries.retain(|e| {
            !(pin_anyway.iter().any(|p| p.eq_ignore_ascii_case(&e.glob))
                || anyway.is_match(&e.glob))
        });
        for glob in extra {
            entries.push(TagOnly {
                glob: glob.clone(),
                reason: "listed under `pin-actions: tag-only` in .github/harden.yml".to_owned(),
                source: Vec::new(),
            });
        }
        TagOnlyList::from_entries(entries)
    }

    /// The entry that keeps `action` (`owner/repo[/path]`) on its tag, if any.
    pub fn find(&self, action: &str) -> Option<&TagOnly> {
        self.globs
            .first_match(action)
            .and_then(|i| self.entries.get(i))
    }

    /// Every entry.
    pub fn entries(&self) -> &[TagOnly] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_parses_and_cites_its_sources() {
        let list = parse(BUILT_IN).expect("data/tag-only.yml parses");
        assert!(list.len() >= 3);
        for entry in &list {
            assert!(!entry.reason.is_empty(), "{entry:?}");
            assert!(
                entry.source.iter().all(|s| s.starts_with("https://")) && !entry.source.is_empty(),
                "{entry:?}"
            );
        }
        assert_eq!(built_in(), list.as_slice());
    }

    #[test]
    fn finds_the_slsa_generator() {
        let list = TagOnlyList::built_in();
        assert!(list
            .find("slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml")
            .is_some());
        assert!(list
            .find("SLSA-framework/slsa-github-generator/actions/delegator/setup-generic")
            .is_some());
        assert!(list.find("actions/checkout").is_none());
        assert!(list
            .find("slsa-framework/slsa-verifier/actions/installer")
            .is_none());
    }

    #[test]
    fn a_configuration_extends_and_overrides_it() {
        let list = TagOnlyList::built_in().with(
            &["my-org/attest/*".to_owned()],
            &["slsa-framework/slsa-github-generator/actions/*".to_owned()],
        );
        assert!(list.find("my-org/attest/.github/workflows/x.yml").is_some());
        assert!(list
            .find("slsa-framework/slsa-github-generator/actions/delegator/setup-generic")
            .is_none());
        assert!(list
            .find("slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml")
            .is_some());
        let none = TagOnlyList::built_in().with(&[], &["slsa-framework/*".to_owned()]);
        assert!(none.entries().is_empty());
    }
}
