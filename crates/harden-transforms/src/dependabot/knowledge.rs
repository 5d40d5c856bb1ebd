//! The transform's knowledge base, `data/dependabot.yml`: folders whose manifests are not the
//! project's own, and where Renovate keeps its configuration.

use std::sync::OnceLock;

use yaml_rust2::{Yaml, YamlLoader};

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

fn strings(node: &Yaml, what: &str) -> Result<Vec<String>, String> {
    let items = node
        .as_vec()
        .ok_or_else(|| format!("data/dependabot.yml: `{what}` is not a list"))?;
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("data/dependabot.yml: an item of `{what}` is not a string"))
        })
        .collect()
}

fn parse(text: &str) -> Result<Knowledge, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("data/dependabot.yml: {e}"))?;
    let root = docs
        .first()
        .ok_or("data/dependabot.yml: the file is empty")?;
    Ok(Knowledge {
        skip: strings(&root["skip"], "skip")?,
        renovate_files: strings(&root["renovate"]["files"], "renovate.files")?,
        renovate_pin_presets: strings(&root["renovate"]["pin-presets"], "renovate.pin-presets")?,
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
