//! Can Dependabot ever update it? Manifests that name dependencies but leave Dependabot
//! nothing to change: a `[build-system] requires` without a pin or an upper bound, a
//! requirements file of bare names, a Dockerfile whose image tag comes from an `ARG`, and
//! hooks that pre-commit.ci already keeps current.

/// True when a PEP 508 requirement limits the version from above or pins it (`==`, `===`,
/// `~=`, `<`, `<=`): only such a requirement changes when a new release comes out. A lower
/// bound (`setuptools>=61`) or a bare name is satisfied by every new release, so Dependabot
/// has nothing to write.
pub(crate) fn requirement_is_bounded(requirement: &str) -> bool {
    // The environment marker (`; python_version < "3.11"`) is not about the version.
    let spec = requirement.split(';').next().unwrap_or_default();
    spec.contains("==") || spec.contains("~=") || spec.contains('<')
}

/// True when `[build-system] requires` holds a requirement Dependabot can update (see
/// [`requirement_is_bounded`]).
pub(crate) fn build_requires_updatable(requires: Option<&toml::Value>) -> bool {
    requires
        .and_then(toml::Value::as_array)
        .is_some_and(|items| {
            items
                .iter()
                .filter_map(toml::Value::as_str)
                .any(requirement_is_bounded)
        })
}

/// True when a requirements line (not a comment, not an option) names a version, a URL or an
/// extra: anything but a bare project name, which Dependabot leaves as it is.
pub(crate) fn requirement_line_updatable(line: &str) -> bool {
    let spec = line.split(" #").next().unwrap_or_default().trim();
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !spec.chars().all(is_name_char)
}

/// The names of the build stages of a Dockerfile (`FROM image AS name`), lowercase.
fn stage_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let from = words.first()?.eq_ignore_ascii_case("FROM");
            let at = words.iter().position(|w| w.eq_ignore_ascii_case("AS"))?;
            from.then(|| words.get(at + 1).map(|n| n.to_ascii_lowercase()))?
        })
        .collect()
}

/// True when a `FROM` image is one Dependabot can update: not `scratch`, not an earlier
/// build stage, and with no `$` anywhere (`golang:${VARIANT}` takes its tag from an `ARG`,
/// which Dependabot does not resolve).
pub(crate) fn from_image_updatable(image: &str, text: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    lower != "scratch" && !image.contains('$') && !stage_names(text).contains(&lower)
}

/// True when a `.pre-commit-config.yaml` (loaded) has a top-level `ci:` section: it is
/// configured for pre-commit.ci, whose autoupdate already proposes the new hook versions
/// (weekly by default, `autoupdate_schedule`), so a Dependabot entry would propose each one a
/// second time.
pub(crate) fn pre_commit_ci(config: &yaml_rust2::Yaml) -> bool {
    matches!(config["ci"], yaml_rust2::Yaml::Hash(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_requirements() {
        for bounded in [
            "setuptools==69.0.0",
            "wheel~=0.42",
            "cython<3",
            "numpy>=1.26,<2.0",
            "x===1",
        ] {
            assert!(requirement_is_bounded(bounded), "{bounded}");
        }
        for open in [
            "setuptools>=61",
            "wheel",
            "tomli; python_version < \"3.11\"",
            "hatchling",
        ] {
            assert!(!requirement_is_bounded(open), "{open}");
        }
        let table: toml::Table = "[build-system]\nrequires = ['setuptools>=61', 'wheel']\n"
            .parse()
            .expect("toml");
        assert!(!build_requires_updatable(
            table["build-system"].get("requires")
        ));
    }

    #[test]
    fn requirement_lines() {
        assert!(!requirement_line_updatable("setuptools"));
        assert!(!requirement_line_updatable(
            "setuptools  # for pkg_resources"
        ));
        assert!(requirement_line_updatable("requests==2.32.3"));
        assert!(requirement_line_updatable("requests>=2"));
        assert!(requirement_line_updatable("black[jupyter]"));
        assert!(requirement_line_updatable(
            "pkg @ https://example.com/pkg.whl"
        ));
    }

    #[test]
    fn from_images() {
        let text = "ARG VARIANT=1.22\nFROM golang:${VARIANT} AS build\nFROM build\n";
        assert!(!from_image_updatable("golang:${VARIANT}", text));
        assert!(!from_image_updatable("build", text));
        assert!(!from_image_updatable("scratch", text));
        assert!(from_image_updatable("debian:12", text));
    }
}
