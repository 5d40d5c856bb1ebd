//! The `FROM` images of the repository's Dockerfiles and Containerfiles: found with the walk
//! that finds Dependabot's manifests (same depth, `.gitignore` and skip rules), read with
//! [`super::dockerfile`], pinned by inserting `@sha256:…` right after the image word, so that
//! flags (`--platform=…`), `AS name`, case, spacing, comments and continuations stay byte for
//! byte. Build stages, `scratch` and images with a digest are left; an image taken from an
//! `ARG` (`FROM ${BASE}`) is reported, never guessed.
//!
//! Dockerfiles are not YAML: a change is checked by reading the new text again, which must
//! hold the same instructions with only the pinned images changed. The change is a
//! [`FileKind::Text`] change, which the binary writes like the others (only over the text it
//! read, never half-written).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use harden_registry::{DigestResult, ImageRef};

use super::dockerfile::{self, Dockerfile};
use super::{exempt, moving_tag_warning, NAME};
use crate::globs::Globs;
use crate::{ChangeNote, FileChange, FileKind, Finding, Severity};

/// Whether a file name is a Dockerfile or Containerfile: `Dockerfile`, `Dockerfile.<suffix>`,
/// `<name>.Dockerfile` (any case), `Containerfile`, `Containerfile.<suffix>`; not the
/// per-Dockerfile ignore files (`Dockerfile.dockerignore`).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") {
        return false;
    }
    name == "Dockerfile"
        || name.starts_with("Dockerfile.")
        || lower.ends_with(".dockerfile")
        || name == "Containerfile"
        || name.starts_with("Containerfile.")
}

/// The Dockerfiles of the repository at `root`, in a stable order, as paths to show (no
/// leading `./` when the root is `.`).
pub fn find(root: &Path) -> Vec<PathBuf> {
    let walked = crate::dependabot::detect::walk(root);
    let mut out = Vec::new();
    for (dir, names) in &walked.folders {
        for name in names.iter().filter(|n| is_dockerfile_name(n)) {
            let path = dir.join(name);
            let shown = if root == Path::new(".") {
                path.strip_prefix(".")
                    .map(Path::to_path_buf)
                    .unwrap_or(path)
            } else {
                path
            };
            out.push(shown);
        }
    }
    out
}

/// One Dockerfile as read, or why it could not be.
pub struct DockerfileText {
    /// The path to show.
    pub path: PathBuf,
    /// Its text, or what to say about it.
    pub text: Result<String, String>,
}

/// Reads the Dockerfiles of the repository at `root` (at most 1 MiB each, UTF-8).
pub fn load(root: &Path) -> Vec<DockerfileText> {
    find(root)
        .into_iter()
        .map(|path| {
            let text = crate::dependabot::manifests::read_small(&path).ok_or_else(|| {
                "not read: a Dockerfile larger than 1 MiB, not UTF-8, or gone".to_owned()
            });
            DockerfileText { path, text }
        })
        .collect()
}

/// What a `FROM` image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromImage {
    /// `scratch`, or an earlier build stage: nothing to pin.
    Local,
    /// Taken from an `ARG` (`$`): reported.
    Variable,
    /// Not a valid image reference.
    Invalid(String),
    /// Already `…@sha256:…`.
    Pinned(ImageRef),
    /// To pin.
    Tagged(ImageRef),
}

/// Classifies the image word of a `FROM` of `file`.
pub fn classify_from(image: &str, file: &Dockerfile) -> FromImage {
    let lower = image.to_ascii_lowercase();
    if lower == "scratch" || file.is_stage(&lower) {
        return FromImage::Local;
    }
    if image.contains('$') {
        return FromImage::Variable;
    }
    match ImageRef::parse(image) {
        Ok(r) if r.digest.is_some() => FromImage::Pinned(r),
        Ok(r) => FromImage::Tagged(r),
        Err(e) => FromImage::Invalid(e.reason.to_owned()),
    }
}

/// Adds the images of `files` to resolve (tagged, or pinned under `verify`; not exempt) to
/// `wanted`, once each.
pub(super) fn add_wanted(
    files: &[DockerfileText],
    exempt_globs: &Globs,
    verify: bool,
    wanted: &mut Vec<ImageRef>,
) {
    let mut seen: std::collections::HashSet<String> = wanted.iter().map(ImageRef::key).collect();
    for text in files.iter().filter_map(|f| f.text.as_ref().ok()) {
        let file = dockerfile::read(text);
        for (_, from) in file.froms() {
            let image = match classify_from(&from.image.text, &file) {
                FromImage::Tagged(image) => image,
                FromImage::Pinned(image) if verify => image,
                _ => continue,
            };
            if !exempt(&from.image.text, &image, exempt_globs) && seen.insert(image.key()) {
                wanted.push(image);
            }
        }
    }
}

/// What pinning a Dockerfile needs.
pub(super) struct Context<'a> {
    /// Images never pinned.
    pub(super) exempt: &'a Globs,
    /// The repository's owner (lowercase), when known.
    pub(super) owner: Option<&'a str>,
    /// The registry's answers.
    pub(super) resolved: &'a HashMap<String, DigestResult>,
    /// `--verify`: images with a digest must still be served.
    pub(super) verify: bool,
}

/// Pins the `FROM` images of one Dockerfile: the change, if any; findings go to `findings`.
pub(super) fn pin_file(
    entry: &DockerfileText,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Option<FileChange> {
    let path = &entry.path;
    let text = match &entry.text {
        Ok(text) => text,
        Err(why) => {
            findings.push(Finding::at(
                NAME,
                path,
                None,
                Severity::Warning,
                why.clone(),
            ));
            return None;
        }
    };
    let file = dockerfile::read(text);
    let locator = dockerfile::Locator::new(text);
    let report = |findings: &mut Vec<Finding>, at: usize, severity, message: String| {
        let (line, column) = locator.locate(at);
        let location = Some(harden_yaml::Location { line, column });
        findings.push(Finding::at(NAME, path, location, severity, message));
    };
    if let Some(line) = file.unterminated_heredoc {
        report(
            findings,
            locator.line_start(line),
            Severity::Warning,
            "a here-document opened here has no line that ends it: the lines after it are \
             its body, and no `FROM` there is pinned"
                .to_owned(),
        );
    }
    let mut inserts: Vec<(usize, String, String)> = Vec::new();
    let mut notes = Vec::new();
    for (instruction, from) in file.froms() {
        let word = from.image;
        let value = word.text.as_str();
        let image = match classify_from(value, &file) {
            FromImage::Tagged(image) => image,
            FromImage::Pinned(image) if cx.verify && !exempt(value, &image, cx.exempt) => {
                if let Some(message) = unverified(value, &image, cx) {
                    report(findings, word.span.start, Severity::Error, message);
                }
                continue;
            }
            other => {
                if let Some(message) = left_as_it_is(value, other) {
                    report(findings, word.span.start, Severity::Warning, message);
                }
                continue;
            }
        };
        if exempt(value, &image, cx.exempt) {
            continue;
        }
        let digest = match cx.resolved.get(&image.key()) {
            Some(Ok(r)) => r.digest.clone(),
            Some(Err(e)) => {
                report(
                    findings,
                    word.span.start,
                    Severity::Error,
                    format!("cannot pin image `{}`: {e}", image.key()),
                );
                continue;
            }
            None => continue,
        };
        if !word.contiguous() {
            report(
                findings,
                word.span.start,
                Severity::Warning,
                format!(
                    "`FROM {value}` not pinned: the image is split over a line continuation; \
                     write it on one line and run harden again"
                ),
            );
            continue;
        }
        if let Some(warning) = moving_tag_warning(cx.owner, value, &image) {
            report(findings, word.span.start, Severity::Warning, warning);
        }
        notes.push(ChangeNote {
            line: instruction.line,
            message: format!("FROM {value} -> {value}@{digest}"),
        });
        inserts.push((word.span.end, value.to_owned(), format!("@{digest}")));
    }
    finish(path, text, &file, &inserts, notes, findings)
}

/// `--verify`: what to say when the registry does not serve an image's digest.
fn unverified(value: &str, image: &ImageRef, cx: &Context<'_>) -> Option<String> {
    match cx.resolved.get(&image.key())? {
        Ok(_) => None,
        Err(harden_registry::RegistryError::NotFound { .. }) => Some(format!(
            "`FROM {value}`: the registry has no manifest with this digest, so the build cannot \
             pull it; correct the digest, or remove `@sha256:…` and run harden again"
        )),
        Err(e) => Some(format!("cannot verify image `{}`: {e}", image.key())),
    }
}

/// Why a `FROM` image that is not to pin is left, when it is worth saying.
fn left_as_it_is(value: &str, image: FromImage) -> Option<String> {
    match image {
        FromImage::Local | FromImage::Pinned(_) | FromImage::Tagged(_) => None,
        FromImage::Variable => Some(format!(
            "`FROM {value}` not pinned: the image comes from a build argument (`ARG`), which \
             harden does not guess; pin the values it takes where they are written (the `ARG` \
             default, `--build-arg`), as image:tag@sha256:<digest>"
        )),
        FromImage::Invalid(why) => Some(format!(
            "`FROM {value}` not pinned: it is not an image reference ({why})"
        )),
    }
}

/// Makes the new text from the insertions and checks it; `None` when nothing changes or the
/// check fails (reported).
fn finish(
    path: &Path,
    text: &str,
    before: &Dockerfile,
    inserts: &[(usize, String, String)],
    notes: Vec<ChangeNote>,
    findings: &mut Vec<Finding>,
) -> Option<FileChange> {
    if inserts.is_empty() {
        return None;
    }
    let mut after = String::with_capacity(text.len() + inserts.len() * 72);
    let mut from = 0;
    for (at, _, digest) in inserts {
        after.push_str(&text[from..*at]);
        after.push_str(digest);
        from = *at;
    }
    after.push_str(&text[from..]);
    let pinned: HashMap<usize, String> = inserts
        .iter()
        .map(|(at, value, digest)| (*at, format!("{value}{digest}")))
        .collect();
    if let Err(why) = same_instructions(before, &dockerfile::read(&after), &pinned) {
        findings.push(Finding::at(
            NAME,
            path,
            None,
            Severity::Error,
            format!(
                "left unchanged: the pinned Dockerfile would read differently ({why}); this is \
                 a bug in harden, please report it with the file"
            ),
        ));
        return None;
    }
    Some(FileChange {
        path: path.to_owned(),
        kind: FileKind::Text,
        before: Some(text.to_owned()),
        after,
        notes,
    })
}

/// The guard of a Dockerfile change: `after` holds the instructions of `before`, word for word
/// and heredoc for heredoc, but for the image words that end at the offsets of `pinned`, which
/// must read as their pinned text.
fn same_instructions(
    before: &Dockerfile,
    after: &Dockerfile,
    pinned: &HashMap<usize, String>,
) -> Result<(), String> {
    if before.instructions.len() != after.instructions.len() || before.escape != after.escape {
        return Err("the number of instructions changed".to_owned());
    }
    let mut seen = 0;
    for (b, a) in before.instructions.iter().zip(&after.instructions) {
        let same_shape = b.keyword.text == a.keyword.text
            && b.line == a.line
            && b.args.len() == a.args.len()
            && b.heredocs == a.heredocs;
        if !same_shape {
            return Err(format!("the instruction of line {} changed", b.line));
        }
        for (bw, aw) in b.args.iter().zip(&a.args) {
            let expected = match pinned.get(&bw.span.end) {
                Some(new) => {
                    seen += 1;
                    new
                }
                None => &bw.text,
            };
            if &aw.text != expected {
                return Err(format!("`{}` on line {} changed", bw.text, b.line));
            }
        }
    }
    if seen != pinned.len() {
        return Err("an image was not where it was read".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for yes in [
            "Dockerfile",
            "Dockerfile.dev",
            "web.Dockerfile",
            "web.dockerfile",
            "Containerfile",
            "Containerfile.ci",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "dockerfile-notes.md",
            "Dockerfile.dockerignore",
            "Makefile",
            "Dockerfiles",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }

    #[test]
    fn classes() {
        let file = dockerfile::read("FROM golang:1.22 AS build\nFROM build\n");
        assert_eq!(classify_from("build", &file), FromImage::Local);
        assert_eq!(classify_from("Scratch", &file), FromImage::Local);
        assert_eq!(classify_from("${BASE}", &file), FromImage::Variable);
        assert_eq!(classify_from("node:${V}", &file), FromImage::Variable);
        assert!(matches!(
            classify_from("node:20", &file),
            FromImage::Tagged(_)
        ));
        assert!(matches!(
            classify_from(&format!("node:20@sha256:{}", "a".repeat(64)), &file),
            FromImage::Pinned(_)
        ));
        assert!(matches!(
            classify_from("Node:20", &file),
            FromImage::Invalid(_)
        ));
    }

    #[test]
    fn the_guard_catches_a_moved_insertion() {
        let text = "FROM a:1\nRUN x\n";
        let before = dockerfile::read(text);
        let pinned: HashMap<usize, String> = [(8, "a:1@sha256:0".to_owned())].into();
        let good = dockerfile::read("FROM a:1@sha256:0\nRUN x\n");
        assert!(same_instructions(&before, &good, &pinned).is_ok());
        let bad = dockerfile::read("FROM a:1\nRUN x@sha256:0\n");
        assert!(same_instructions(&before, &bad, &pinned).is_err());
    }
}
