//! The transform's knowledge base, `data/dependabot.yml`: folders whose manifests are not the
//! project's own, and where Renovate keeps its configuration.

use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/dependabot.yml");

/// What `data/dependabot.yml` says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Knowledge {
    /// `.gitignore` patterns of folders that are skipped while looking for manifests.
    pub(crate) skip: Vec<String>,
    /// Renovate's configuration files, in the order Renovate looks for them.
    pub(crate) renovate_files: Vec<String>,
    /// Presets that make Renovate pin GitHub Actions to digests.
    pub(crate) renovate_pin_presets: Vec<String>,
}

/// `renovate:` of the data file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Renovate {
    files: Vec<String>,
    pin_presets: Vec<String>,
}

/// The data file as written (`source:` is for people).
#[derive(serde::Deserialize)]
struct DataFile {
    skip: Vec<String>,
    renovate: Renovate,
}

fn parse(text: &str) -> Result<Knowledge, String> {
    let file: DataFile =
        harden_yaml::de::from_str(text).map_err(|e| format!("data/dependabot.yml:{e}"))?;
    Ok(Knowledge {
        skip: file.skip,
        renovate_files: file.renovate.files,
        renovate_pin_presets: file.renovate.pin_presets,
    })
}

/// The knowledge base, read once. The file is part of the binary and a test checks it, so a
/// broken file only ever shows up as an empty knowledge base.
pub(crate) fn knowledge() -> &'static Knowledge {
    static KB: OnceLock<Knowledge> = OnceLock::new();
    KB.get_or_init(|| parse(DATA).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_reads() {
        let kb = parse(DATA).expect("data/dependabot.yml");
        assert!(kb.skip.iter().any(|s| s == "node_modules/"));
        assert!(kb.skip.iter().any(|s| s == "**/tests/*/"));
        assert_eq!(
            kb.renovate_files.first().map(String::as_str),
            Some("renovate.json")
        );
        assert_eq!(
            kb.renovate_files.last().map(String::as_str),
            Some("package.json")
        );
        assert!(kb
            .renovate_pin_presets
            .iter()
            .any(|p| p == "config:best-practices"));
        assert!(parse("skip: 3\n").is_err());
    }
}
