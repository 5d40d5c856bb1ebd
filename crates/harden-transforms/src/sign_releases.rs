//! The `sign-releases` transform (opt-in): adds `.github/workflows/release-sign.yml`, which
//! signs each published release's source archive with Sigstore (keyless) and attaches the
//! archive, its `.sigstore.json` bundle and its SLSA provenance (`.intoto.jsonl`, from the
//! SLSA generator's generic generator) to the release, and adds a "Verifying a release"
//! section to an existing SECURITY.md.
//!
//! The workflow comes from `data/release-sign.yml` and is written already hardened: its
//! actions are pinned by the same [`PinActions`] transform (SHA and version comment) but the
//! SLSA generator, which stays on its tag (see `tag_only`); the top level grants
//! `contents: read`, and only the signing and provenance jobs get what they need, each with
//! its reason. When a reference cannot be pinned (offline, not
//! cached), nothing is added and the error says why. Running it again changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harden_github::safe_read::{self, ReadRefusal};
use harden_github::Resolver;

use crate::pin_actions::{PinActions, PinOptions};
use crate::{
    ChangeNote, FileChange, FileKind, Finding, Outcome, Repository, Severity, SourceFile, Transform,
};

const NAME: &str = "sign-releases";

/// sign-releases in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "sign each release's source archive with Sigstore and say how to verify it",
    rule: "Releases should be signed, and their verification documented",
    needs: crate::registry::Needs {
        resolver: true,
        prefetch_refs: false,
        files: false,
        images: false,
    },
    opt_in: true,
    configure: |section, _, settings| crate::settings::read_opt_in(NAME, section, settings),
    build: build_from_settings,
};

/// sign-releases pins its new workflow like pin-actions does, branches included.
fn build_from_settings(
    services: &crate::registry::Services,
    settings: &crate::registry::Settings,
) -> Result<Option<Box<dyn Transform>>, String> {
    let Some(resolver) = &services.resolver else {
        return Ok(None);
    };
    let options = PinOptions {
        branches: crate::pin_actions::BranchPolicy::Pin,
        ..settings.pin_actions.clone()
    };
    Ok(Some(Box::new(SignReleases::new(
        Arc::clone(resolver),
        options,
    ))))
}

/// The workflow written, with `@REPOSITORY@` (`owner/repo`) and `@NAME@` (`repo`) to fill in.
const TEMPLATE: &str = include_str!("../data/release-sign.yml");

/// The marker of a workflow this transform wrote.
const MARKER: &str = "Added by harden (sign-releases)";

/// What a SECURITY.md that already explains verification contains.
const VERIFY_WORDS: &[&str] = &[
    "sigstore verify",
    "cosign verify",
    "gh attestation verify",
    "slsa-verifier",
];

/// Workflow steps that create releases: signing belongs there when releases are immutable.
const RELEASE_CREATORS: &[&str] = &[
    "softprops/action-gh-release",
    "ncipollo/release-action",
    "goreleaser/goreleaser-action",
    "gh release create",
];

/// The sign-releases transform.
pub struct SignReleases {
    pin: PinActions,
}

impl SignReleases {
    /// A sign-releases transform that pins the new workflow's actions with `resolver`.
    pub fn new(resolver: Arc<Resolver>, pin: PinOptions) -> Self {
        SignReleases {
            pin: PinActions::new(resolver, pin),
        }
    }
}

impl Transform for SignReleases {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "sign each release's source archive with Sigstore and say how to verify it"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut outcome = Outcome::default();
        let workflows = repo.root.join(".github").join("workflows");
        let existing = ["release-sign.yml", "release-sign.yaml"]
            .iter()
            .map(|n| workflows.join(n))
            .find(|p| {
                std::fs::symlink_metadata(p).is_ok()
                    || repo.files.iter().any(|f| same_file(&f.path, p))
            });
        let remote = git_remote(&repo.root);
        let identity = remote.as_ref().ok().cloned().flatten();
        let wrote_workflow = match &existing {
            Some(path) => {
                let limit = safe_read::MAX_REPOSITORY_FILE;
                let read = safe_read::read_text(&repo.root, path, limit);
                let ours = matches!(&read, Ok(text) if text.contains(MARKER));
                match &read {
                    Err(why) if !why.is_missing() => {
                        outcome.findings.push(refused(&repo.root, path, why));
                    }
                    _ if !ours => outcome.findings.push(Finding::at(
                        NAME,
                        &display_path(&repo.root, path),
                        None,
                        Severity::Note,
                        "the repository has its own release-sign workflow; left as it is",
                    )),
                    _ => {}
                }
                ours
            }
            None => match self.workflow(repo, &workflows, identity.as_deref()) {
                Ok(change) => {
                    outcome.changes.push(change);
                    true
                }
                Err(finding) => {
                    outcome.findings.push(finding);
                    false
                }
            },
        };
        if wrote_workflow {
            match security_section(&repo.root, identity.as_deref()) {
                Ok(Some(change)) => outcome.changes.push(change),
                Ok(None) => {}
                Err((path, why)) => outcome.findings.push(refused(&repo.root, &path, &why)),
            }
            if existing.is_none() {
                immutable_note(repo, &mut outcome.findings);
                if identity.is_none() {
                    let why = if remote.is_err() {
                        ".git/config was not read (see its error)"
                    } else {
                        "no GitHub remote found in .git/config"
                    };
                    outcome.findings.push(Finding::at(
                        NAME,
                        &display_path(&repo.root, &workflows).join("release-sign.yml"),
                        None,
                        Severity::Warning,
                        format!("{why}: replace OWNER/REPO in the verify command (workflow comment and SECURITY.md)"),
                    ));
                }
            }
        }
        outcome
    }
}

impl SignReleases {
    /// The new workflow, pinned; or why it cannot be added.
    fn workflow(
        &self,
        repo: &Repository,
        dir: &Path,
        identity: Option<&str>,
    ) -> Result<FileChange, Finding> {
        let path = display_path(&repo.root, dir).join("release-sign.yml");
        let (full, name) = identity_parts(identity);
        let text = TEMPLATE
            .replace("@REPOSITORY@", &full)
            .replace("@NAME@", &name);
        let draft = Repository {
            root: repo.root.clone(),
            files: vec![SourceFile::new(
                path.clone(),
                FileKind::Workflow,
                text.clone(),
            )],
        };
        let pinned = self.pin.run(&draft);
        let tag_only = crate::tag_only::TagOnlyList::built_in();
        let model_name = crate::model::name;
        let after = pinned.changes.into_iter().next().map_or(text, |c| c.after);
        let unpinned: Vec<String> = match harden_yaml::Document::parse(after.as_str()) {
            Ok(doc) => crate::model::uses_sites(FileKind::Workflow, &doc)
                .into_iter()
                .filter_map(|(_, node)| node.as_str())
                .filter(|u| {
                    !crate::pin_actions::is_pinned(u) && tag_only.find(model_name(u)).is_none()
                })
                .map(|u| u.trim().to_owned())
                .collect(),
            Err(e) => vec![format!("the template ({e})")],
        };
        if !unpinned.is_empty() {
            let why = pinned
                .findings
                .iter()
                .find(|f| f.severity == Severity::Error)
                .map_or_else(String::new, |f| format!(": {}", f.message));
            return Err(Finding::at(
                NAME,
                &path,
                None,
                Severity::Error,
                format!(
                    "release-sign.yml not added: `{}` could not be pinned to a commit{why}; run again online",
                    unpinned.join("`, `")
                ),
            ));
        }
        Ok(FileChange {
            path,
            kind: FileKind::Workflow,
            before: None,
            after,
            notes: vec![ChangeNote {
                line: 1,
                message: "new workflow: sign each published release's source archive with Sigstore (keyless) and attach it with its bundle and SLSA provenance".to_owned(),
            }],
        })
    }
}

/// `path` as the user named the repository: relative roots give relative paths.
fn display_path(root: &Path, dir: &Path) -> PathBuf {
    if root == Path::new(".") {
        dir.strip_prefix(".").unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || a.strip_prefix(".").is_ok_and(|a| a == b) || b.strip_prefix(".").is_ok_and(|b| a == b)
}

/// `(owner/repo, repo)`, or placeholders.
fn identity_parts(identity: Option<&str>) -> (String, String) {
    match identity {
        Some(full) => (
            full.to_owned(),
            full.rsplit('/').next().unwrap_or(full).to_owned(),
        ),
        None => ("OWNER/REPO".to_owned(), "REPO".to_owned()),
    }
}

/// `owner/repo` of the `origin` remote (or the first GitHub remote) in `.git/config`.
pub fn github_repository(root: &Path) -> Option<String> {
    git_remote(root).ok().flatten()
}

/// [`github_repository`], or the one door's refusal of `.git/config` (a missing file is no
/// remote; the run reports a refused one once, as a located error, before the transforms).
fn git_remote(root: &Path) -> Result<Option<String>, ReadRefusal> {
    let path = root.join(".git").join("config");
    let config = match safe_read::read_text(root, &path, safe_read::MAX_SMALL_FILE) {
        Ok(text) => text,
        Err(why) if why.is_missing() || !root.join(".git").is_dir() => return Ok(None),
        Err(why) => return Err(why),
    };
    let mut urls = Vec::new();
    let mut in_origin = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_origin = line == "[remote \"origin\"]";
            continue;
        }
        if let Some(url) = line.strip_prefix("url").map(str::trim_start) {
            if let Some(url) = url.strip_prefix('=') {
                urls.push((in_origin, url.trim().to_owned()));
            }
        }
    }
    urls.sort_by_key(|(origin, _)| !origin);
    Ok(urls.iter().find_map(|(_, url)| owner_repo(url)))
}

fn owner_repo(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("git@github.com:"))
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let (owner, repo) = rest.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    (ok(owner) && ok(repo)).then(|| format!("{owner}/{repo}"))
}

/// A located error for a file the one door refused: never read, so never shown.
fn refused(root: &Path, path: &Path, why: &ReadRefusal) -> Finding {
    Finding::at(
        NAME,
        &display_path(root, path),
        None,
        Severity::Error,
        format!("{why}; sign-releases left it alone"),
    )
}

/// The security policy (root, `.github/`, `docs/`) with a "Verifying a release" section
/// added, unless it has one or there is no policy. A policy the one door refuses (a link out
/// of the repository, such as one to `/proc/self/environ`, a FIFO, a device) is an error with
/// its path: its text is never read, so never shown in a diff, JSON or a patch.
fn security_section(
    root: &Path,
    identity: Option<&str>,
) -> Result<Option<FileChange>, (PathBuf, ReadRefusal)> {
    let found = ["", ".github", "docs"].iter().find_map(|dir| {
        let path = display_path(root, &root.join(dir)).join("SECURITY.md");
        std::fs::symlink_metadata(&path)
            .is_ok()
            .then_some((*dir, path))
    });
    let Some((dir, path)) = found else {
        return Ok(None);
    };
    let before = match safe_read::read_text(root, &path, safe_read::MAX_SMALL_FILE) {
        Ok(text) => text,
        Err(why) if why.is_missing() => return Ok(None),
        Err(why) => return Err((path, why)),
    };
    let lower = before.to_ascii_lowercase();
    if VERIFY_WORDS.iter().any(|w| lower.contains(w)) {
        return Ok(None);
    }
    let link = match dir {
        "" => ".github/workflows/release-sign.yml",
        ".github" => "workflows/release-sign.yml",
        _ => "../.github/workflows/release-sign.yml",
    };
    let (full, name) = identity_parts(identity);
    let eol = if before.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let section = format!(
        "## Verifying a release\n\n\
         The source archive of each release is signed with [Sigstore](https://www.sigstore.dev)\n\
         by [release-sign.yml]({link}), without a long-lived key: the signature is bound to\n\
         that workflow. The archive and its `.sigstore.json` bundle are attached to the release.\n\
         To verify an archive downloaded from release `v1.2.3`:\n\n\
         \x20   python -m pip install sigstore\n\
         \x20   sigstore verify github \\\n\
         \x20     --cert-identity https://github.com/{full}/.github/workflows/release-sign.yml@refs/tags/v1.2.3 \\\n\
         \x20     {name}-v1.2.3.tar.gz\n\n\
         Its SLSA build provenance (which workflow run built it, from which commit) is attached\n\
         as `{name}-v1.2.3.tar.gz.intoto.jsonl`; check it with\n\
         [slsa-verifier](https://github.com/slsa-framework/slsa-verifier):\n\n\
         \x20   slsa-verifier verify-artifact {name}-v1.2.3.tar.gz \\\n\
         \x20     --provenance-path {name}-v1.2.3.tar.gz.intoto.jsonl \\\n\
         \x20     --source-uri github.com/{full} --source-tag v1.2.3\n"
    )
    .replace('\n', eol);
    let mut after = before.clone();
    if !after.is_empty() && !after.ends_with('\n') {
        after.push_str(eol);
    }
    if !after.is_empty() && !after.ends_with(&format!("{eol}{eol}")) {
        after.push_str(eol);
    }
    after.push_str(&section);
    let line = before.lines().count() + 1;
    Ok(Some(FileChange {
        path,
        kind: FileKind::Text,
        before: Some(before),
        after,
        notes: vec![ChangeNote {
            line,
            message: "new section: how to verify a release with `sigstore verify`".to_owned(),
        }],
    }))
}

/// A note when a workflow creates releases: with immutable releases, signing must happen there.
fn immutable_note(repo: &Repository, findings: &mut Vec<Finding>) {
    for file in repo.files.iter().filter(|f| f.kind == FileKind::Workflow) {
        let Some(doc) = file.document() else { continue };
        if let Some(creator) = RELEASE_CREATORS.iter().find(|c| doc.text().contains(*c)) {
            findings.push(Finding::at(
                NAME,
                &file.path,
                None,
                Severity::Note,
                format!(
                    "this workflow creates releases (`{creator}`): if the repository turns on immutable releases, release-sign.yml can no longer attach files; sign in this workflow before publishing instead (docs/audit.md)"
                ),
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes() {
        assert_eq!(
            owner_repo("https://github.com/AcademySoftwareFoundation/openexr.git").as_deref(),
            Some("AcademySoftwareFoundation/openexr")
        );
        assert_eq!(owner_repo("git@github.com:a/b").as_deref(), Some("a/b"));
        assert_eq!(owner_repo("https://gitlab.com/a/b"), None);
        assert_eq!(
            owner_repo("ssh://git@github.com/a/b.git/").as_deref(),
            Some("a/b")
        );
        assert_eq!(owner_repo("https://github.com/a/b c"), None);
    }

    #[test]
    fn the_security_section_keeps_crlf_and_links_from_docs() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
        std::fs::write(
            dir.path().join("docs/SECURITY.md"),
            "# Policy\r\n\r\nMail us.",
        )
        .expect("write");
        let change = security_section(dir.path(), Some("a/tool"))
            .expect("readable")
            .expect("a change");
        assert_eq!(change.kind, FileKind::Text);
        assert!(change
            .after
            .starts_with("# Policy\r\n\r\nMail us.\r\n\r\n## Verifying a release\r\n"));
        assert!(!change.after.replace("\r\n", "").contains('\n'));
        assert!(change
            .after
            .contains("](../.github/workflows/release-sign.yml)"));
        assert!(change.after.contains("tool-v1.2.3.tar.gz"));
        std::fs::write(dir.path().join("docs/SECURITY.md"), &change.after).expect("write");
        assert!(security_section(dir.path(), Some("a/tool"))
            .expect("readable")
            .is_none());
    }

    #[test]
    fn no_policy_no_change() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(security_section(dir.path(), None)
            .expect("readable")
            .is_none());
    }
}
