//! Image references as written in workflows (`alpine:3.20`, `ghcr.io/o/i:1@sha256:…`), parsed
//! the way `docker pull` reads them: a first component with a `.` or a `:`, or `localhost`, is a
//! registry host; otherwise the image is on Docker Hub, where a one-component name is an
//! official image under `library/`.

use std::fmt;

use thiserror::Error;

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// The registry host (and port), normalised: `docker.io` for Docker Hub.
    pub registry: String,
    /// The repository path on the registry (`library/alpine`, `owner/image`).
    pub repository: String,
    /// The tag, when one is written.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), when one is written.
    pub digest: Option<String>,
}

/// A string that is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{input}` is not an image reference: {reason}")]
pub struct ParseImageError {
    /// The text.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ImageRef {
    /// Parses `[registry/]repository[:tag][@digest]`.
    pub fn parse(input: &str) -> Result<ImageRef, ParseImageError> {
        let fail = |reason| ParseImageError {
            input: input.chars().take(200).collect(),
            reason,
        };
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        if input.len() > 512 {
            return Err(fail("it is longer than 512 characters"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (input, None),
        };
        if let Some(d) = digest {
            if !valid_digest(d) {
                return Err(fail(
                    "the digest is not `algorithm:hex` (e.g. `sha256:<64 hex>`)",
                ));
            }
        }
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(fail(
                    "the tag must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
                ));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
                (normalise_registry(first), path)
            }
            _ => (DOCKER_HUB.to_owned(), name),
        };
        if !valid_host(&registry) {
            return Err(fail(
                "the registry host is not a host name with an optional port",
            ));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        if !repository.split('/').all(valid_component) {
            return Err(fail(
                "the name must be lowercase letters and digits, separated by `/`, `.`, `_` or `-`",
            ));
        }
        Ok(ImageRef {
            registry,
            repository,
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// The tag to resolve: the written one, or `latest`.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// What the manifest is asked for by: the written digest, else the tag (or `latest`).
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .unwrap_or_else(|| self.tag_or_latest())
    }

    /// `registry/repository:tag` (tag `latest` when none is written), or
    /// `registry/repository@digest` for a pinned reference: what is resolved and cached.
    pub fn key(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}/{}@{d}", self.registry, self.repository),
            None => format!(
                "{}/{}:{}",
                self.registry,
                self.repository,
                self.tag_or_latest()
            ),
        }
    }

    /// `registry/repository`, the name exemption globs match.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn normalise_registry(host: &str) -> String {
    let lower = host.to_ascii_lowercase();
    match lower.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        _ => lower,
    }
}

fn valid_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A path component: lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn valid_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `algorithm:hex`; `sha256` needs exactly 64 lowercase hex digits.
pub fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let hex_ok = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match algorithm {
        "sha256" => hex_ok && hex.len() == 64,
        "sha512" => hex_ok && hex.len() == 128,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docker_hub_names() {
        let r = parse("alpine");
        assert_eq!(r.key(), "docker.io/library/alpine:latest");
        assert_eq!(r.tag, None);
        assert_eq!(
            parse("node:20-bookworm").key(),
            "docker.io/library/node:20-bookworm"
        );
        assert_eq!(
            parse("rhysd/actionlint:1.7.1").key(),
            "docker.io/rhysd/actionlint:1.7.1"
        );
        assert_eq!(
            parse("docker.io/alpine:3").key(),
            "docker.io/library/alpine:3"
        );
        assert_eq!(
            parse("index.docker.io/library/alpine:3").key(),
            "docker.io/library/alpine:3"
        );
    }

    #[test]
    fn other_registries() {
        let r = parse("ghcr.io/owner/img/sub:v1.2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("ghcr.io", "owner/img/sub")
        );
        let r = parse("localhost:5000/x:1");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "x")
        );
        let r = parse("mcr.microsoft.com/dotnet/sdk:8.0");
        assert_eq!(r.key(), "mcr.microsoft.com/dotnet/sdk:8.0");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("quay.io/o/i:1@{d}"));
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.tag.as_deref(), Some("1"));
        let r = parse(&format!("alpine@{d}"));
        assert_eq!(r.tag, None);
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "Alpine:3",
            "alpine:",
            "alpine:-x",
            "a//b",
            "alpine@sha256:abc",
            "alpine@md5:00",
            "ghcr.io/",
            "a b",
            "$IMAGE",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
