//! Version tags: parsing names like `v4`, `v1.6`, `4.2.2`, `codeql-bundle-v2.20.1`, `save/v1`,
//! `@scope/pkg@1.2.3`, `v2.0.0-rc.1`, and ranking several tags of one commit.

use std::cmp::Ordering;

use semver::{BuildMetadata, Prerelease, Version};

/// A tag name read as a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagVersion<'a> {
    /// Everything before the version (the "family"), e.g. `codeql-bundle-`, `save/`, or empty.
    pub prefix: &'a str,
    /// Whether the version is written with a `v`.
    pub v: bool,
    /// The numeric components, e.g. `[4, 2, 2]`.
    pub numbers: Vec<u64>,
    /// Anything after the numbers (`-rc.1`, `+build`, `b1`), empty for a plain version.
    pub suffix: &'a str,
    /// The version for ordering: missing components are 0.
    pub semver: Version,
}

impl TagVersion<'_> {
    /// How many numeric components are written: `v4` is 1, `v4.2.2` is 3.
    pub(crate) fn precision(&self) -> usize {
        self.numbers.len()
    }

    /// A plain version with fewer than three components, which names a moving release line
    /// (`v4`, `v1.6`) rather than one release.
    pub(crate) fn is_partial(&self) -> bool {
        self.suffix.is_empty() && self.precision() < 3
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b'-' | b'/' | b'_' | b'@')
}

/// Reads `name` as a version tag, or `None` if it is not one (`main`, `nightly`).
///
/// The version starts at the beginning or right after a separator (`-`, `/`, `_`, `@`),
/// with an optional `v`, then numbers separated by dots; what follows must be empty, a `-`/`+`
/// suffix, or a short letters-and-digits suffix such as `b1` or `rc2`.
pub(crate) fn parse(name: &str) -> Option<TagVersion<'_>> {
    let bytes = name.as_bytes();
    (0..bytes.len())
        .filter(|&i| i == 0 || is_separator(bytes[i - 1]))
        .find_map(|start| parse_at(name, start))
}

fn parse_at(name: &str, start: usize) -> Option<TagVersion<'_>> {
    let bytes = name.as_bytes();
    let mut pos = start;
    let v = matches!(bytes.get(pos), Some(b'v' | b'V'));
    if v {
        pos += 1;
    }
    let mut numbers = Vec::new();
    loop {
        let digits_start = pos;
        while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == digits_start {
            return None;
        }
        numbers.push(name[digits_start..pos].parse::<u64>().ok()?);
        if bytes.get(pos) == Some(&b'.') && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        } else {
            break;
        }
    }
    let suffix = &name[pos..];
    let suffix_ok = match suffix.as_bytes().first() {
        None => true,
        Some(b'-' | b'+') => suffix.len() > 1,
        Some(c) if c.is_ascii_alphabetic() => {
            suffix.len() <= 10 && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        Some(_) => false,
    };
    if !suffix_ok {
        return None;
    }
    let semver = to_semver(&numbers, suffix);
    Some(TagVersion {
        prefix: &name[..start],
        v,
        numbers,
        suffix,
        semver,
    })
}

fn to_semver(numbers: &[u64], suffix: &str) -> Version {
    let part = |i: usize| numbers.get(i).copied().unwrap_or(0);
    let mut version = Version::new(part(0), part(1), part(2));
    let (pre, build) = match suffix.split_once('+') {
        Some((pre, build)) => (pre, build),
        None => (suffix, ""),
    };
    let pre = pre.strip_prefix('-').unwrap_or(pre);
    if !pre.is_empty() {
        // Not every suffix is valid semver (`beta-01` is, `01` is not): fall back to a
        // sanitised form so that a pre-release still orders before the release.
        version.pre = Prerelease::new(pre).unwrap_or_else(|_| {
            let cleaned: String = pre
                .split('.')
                .map(|id| {
                    if id.bytes().all(|b| b.is_ascii_digit()) {
                        format!("n{id}")
                    } else {
                        id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
                    }
                })
                .collect::<Vec<_>>()
                .join(".");
            Prerelease::new(&cleaned)
                .unwrap_or_else(|_| Prerelease::new("pre").unwrap_or(Prerelease::EMPTY))
        });
    }
    if !build.is_empty() {
        version.build = BuildMetadata::new(build).unwrap_or(BuildMetadata::EMPTY);
    }
    version
}

/// Orders two versions of one family: higher version first by semver, then more components
/// (`v4.2.2` over `v4.2`), then the extra components of 4-part versions.
fn compare_versions(a: &TagVersion<'_>, b: &TagVersion<'_>) -> Ordering {
    a.semver
        .cmp_precedence(&b.semver)
        .then_with(|| a.precision().cmp(&b.precision()))
        .then_with(|| a.numbers.cmp(&b.numbers))
        .then_with(|| a.semver.build.cmp(&b.semver.build))
}

/// What the wanted comment should look like.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Preference<'a> {
    /// Only tags of this family (`Some("")` for unprefixed tags); `None` for any family, with
    /// unprefixed tags preferred.
    pub prefix: Option<&'a str>,
    /// Prefer tags written with (or without) a `v`.
    pub v: Option<bool>,
}

/// The best of `names` as a version comment: the most precise, highest version, honouring the
/// preference. Names that are not versions are ignored; `None` if none is a version.
pub(crate) fn best_version_tag<'n>(
    names: &[&'n str],
    preference: Preference<'_>,
) -> Option<&'n str> {
    let mut best: Option<(&'n str, TagVersion<'n>)> = None;
    for &name in names {
        let Some(version) = parse(name) else { continue };
        if preference.prefix.is_some_and(|p| p != version.prefix) {
            continue;
        }
        let better = match &best {
            None => true,
            Some((best_name, best_version)) => {
                rank(&version, best_version, preference).then_with(|| best_name.cmp(&name))
                    == Ordering::Greater
            }
        };
        if better {
            best = Some((name, version));
        }
    }
    best.map(|(name, _)| name)
}

/// Compares two candidates: unprefixed family first (when any family is allowed), then more
/// components (a full release over a moving line), then the preferred `v` style, then the
/// higher version.
fn rank(a: &TagVersion<'_>, b: &TagVersion<'_>, preference: Preference<'_>) -> Ordering {
    let family = |t: &TagVersion<'_>| preference.prefix.is_some() || t.prefix.is_empty();
    let style = |t: &TagVersion<'_>| preference.v.is_none_or(|v| v == t.v);
    family(a)
        .cmp(&family(b))
        .then_with(|| a.precision().min(3).cmp(&b.precision().min(3)))
        .then_with(|| style(a).cmp(&style(b)))
        .then_with(|| compare_versions(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(name: &str) -> Option<(&str, bool, Vec<u64>, &str)> {
        parse(name).map(|t| (t.prefix, t.v, t.numbers, t.suffix))
    }

    #[test]
    fn parses_plain_versions() {
        assert_eq!(parts("v4"), Some(("", true, vec![4], "")));
        assert_eq!(parts("v1.6"), Some(("", true, vec![1, 6], "")));
        assert_eq!(parts("4.2.2"), Some(("", false, vec![4, 2, 2], "")));
        assert_eq!(parts("v1.2.3.4"), Some(("", true, vec![1, 2, 3, 4], "")));
        assert!(parse("v4").is_some_and(|t| t.is_partial()));
        assert!(parse("v4.2.2").is_some_and(|t| !t.is_partial()));
    }

    #[test]
    fn parses_prefixed_versions() {
        assert_eq!(
            parts("codeql-bundle-v2.20.1"),
            Some(("codeql-bundle-", true, vec![2, 20, 1], ""))
        );
        assert_eq!(
            parts("codeql-bundle-20200427"),
            Some(("codeql-bundle-", false, vec![20200427], ""))
        );
        assert_eq!(parts("save/v1"), Some(("save/", true, vec![1], "")));
        assert_eq!(
            parts("@gradio/chatbot@0.1.0"),
            Some(("@gradio/chatbot@", false, vec![0, 1, 0], ""))
        );
        assert_eq!(
            parts("login-to-gar-v0.1"),
            Some(("login-to-gar-", true, vec![0, 1], ""))
        );
        assert_eq!(
            parts("ciflow/rocm/6003"),
            Some(("ciflow/rocm/", false, vec![6003], ""))
        );
    }

    #[test]
    fn parses_suffixes() {
        assert_eq!(
            parts("v2.0.0-rc.1"),
            Some(("", true, vec![2, 0, 0], "-rc.1"))
        );
        assert_eq!(parts("v2.0.0b1"), Some(("", true, vec![2, 0, 0], "b1")));
        assert_eq!(parts("v3-node20"), Some(("", true, vec![3], "-node20")));
        assert_eq!(
            parts("v1.5.14+202602041059"),
            Some(("", true, vec![1, 5, 14], "+202602041059"))
        );
        assert_eq!(
            parts("4.0.0-beta-01"),
            Some(("", false, vec![4, 0, 0], "-beta-01"))
        );
        assert!(parse("v3-node20").is_some_and(|t| !t.is_partial()));
    }

    #[test]
    fn rejects_non_versions() {
        for name in [
            "main", "nightly", "TEST", "fa", "v", "vx1", "release-", "v1.", "v1..2", "1.2.3~x",
            "a.1", "",
        ] {
            assert!(parse(name).is_none(), "{name} is not a version");
        }
        assert!(parse("99999999999999999999999").is_none());
    }

    #[test]
    fn prerelease_orders_before_release() {
        let names = ["v2.0.0-rc.1", "v2.0.0", "v2.0.0-beta.2"];
        assert_eq!(
            best_version_tag(&names, Preference::default()),
            Some("v2.0.0")
        );
        let odd = ["v1.0.0-01", "v1.0.0"];
        assert_eq!(
            best_version_tag(&odd, Preference::default()),
            Some("v1.0.0")
        );
    }

    #[test]
    fn most_precise_then_highest() {
        assert_eq!(
            best_version_tag(&["v4", "v4.2", "v4.2.2"], Preference::default()),
            Some("v4.2.2")
        );
        assert_eq!(
            best_version_tag(&["v4.2.1", "v4.2.2", "v4"], Preference::default()),
            Some("v4.2.2")
        );
        assert_eq!(
            best_version_tag(&["v5", "v4.9.9"], Preference::default()),
            Some("v4.9.9")
        );
        assert_eq!(
            best_version_tag(&["v1.2.3.4", "v1.2.3"], Preference::default()),
            Some("v1.2.3.4")
        );
    }

    #[test]
    fn prefers_v_style_and_unprefixed_family() {
        let names = ["1.0.0", "v1.0.0"];
        assert_eq!(
            best_version_tag(
                &names,
                Preference {
                    prefix: None,
                    v: Some(true)
                }
            ),
            Some("v1.0.0")
        );
        assert_eq!(
            best_version_tag(
                &names,
                Preference {
                    prefix: None,
                    v: Some(false)
                }
            ),
            Some("1.0.0")
        );
        let partial = ["v1", "1.0.0"];
        assert_eq!(
            best_version_tag(
                &partial,
                Preference {
                    prefix: Some(""),
                    v: Some(true)
                }
            ),
            Some("1.0.0")
        );
        let mixed = ["codeql-bundle-v2.20.1", "v3.28.0"];
        assert_eq!(
            best_version_tag(&mixed, Preference::default()),
            Some("v3.28.0")
        );
        let family = Preference {
            prefix: Some("codeql-bundle-"),
            v: Some(true),
        };
        assert_eq!(
            best_version_tag(&mixed, family),
            Some("codeql-bundle-v2.20.1")
        );
        assert_eq!(
            best_version_tag(&["main", "nightly"], Preference::default()),
            None
        );
    }
}
