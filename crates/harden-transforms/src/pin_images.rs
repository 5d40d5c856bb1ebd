//! `pin-images`: every literal container image of a workflow or action becomes
//! `image:tag@sha256:<digest>`: `jobs.<id>.container` (a string, or `image:` in a mapping),
//! `jobs.<id>.services.<name>.image`, steps' `uses: docker://image:tag`, and a Docker action's
//! `runs.image: docker://image:tag`.
//!
//! The tag stays, for people and for update tools; the digest is the one the registry gives
//! for the tag's manifest, an image index for a multi-platform image (see `harden-registry`).
//! References are collected from all files first and resolved in one concurrent batch; then
//! each file gets one edit set that replaces each value in its own quote style, so comments
//! and the rest of the line stay. An expression (`${{ matrix.image }}`) is reported, never
//! touched, unless it is `${{ matrix.<name> }}` with the images listed literally in the job's
//! matrix: those values are pinned where they are written (see `matrix`). An image that
//! already carries a digest is left as it is.
//!
//! A digest pinned to a tag its publisher moves on purpose (`latest`, `dev`, `nightly`, the
//! repository's own untagged image) is warned about: it never moves by itself. Where digests
//! are written in `container:` and `services:`, a note says that Dependabot does not update
//! them.
//!
//! The `FROM` images of the repository's Dockerfiles and Containerfiles are pinned the same
//! way (see `dockerfiles`), unless `pin-images: {dockerfiles: false}`.

pub mod dockerfile;
pub mod dockerfiles;
mod matrix;

use std::collections::HashMap;
use std::sync::Arc;

use harden_registry::{DigestResult, ImageRef, Registry, RegistryError};
use harden_yaml::{Document, EditSet, Node, NodeKind, Path, ScalarStyle};

use self::matrix::MatrixImages;
use crate::globs::{Flavor, Globs};
use crate::settings::{name_globs, read_section, Flags, NameGlob, OneOrMany};
use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, SourceFile,
    Transform,
};

const NAME: &str = "pin-images";

/// pin-images in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "pin container images to digests",
    rule: "Container images should be pinned to a digest",
    needs: crate::registry::Needs {
        resolver: false,
        prefetch_refs: false,
        files: false,
        images: true,
    },
    opt_in: false,
    configure,
    build: build_from_settings,
};

/// `pin-images:` in `.github/harden.yml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageSection {
    /// Images never pinned.
    #[serde(default)]
    exempt: OneOrMany<NameGlob>,
    /// Pin the `FROM` images of Dockerfiles and Containerfiles (default true).
    dockerfiles: Option<bool>,
}

/// The section, with `--verify` over it.
fn configure(
    section: Option<&Node>,
    flags: &Flags,
    settings: &mut crate::registry::Settings,
) -> Result<(), harden_yaml::DeError> {
    let file: ImageSection = read_section(section)?;
    settings.pin_images = ImageOptions {
        exempt: name_globs(file.exempt),
        verify: flags.verify,
        dockerfiles: file.dockerfiles.unwrap_or(true),
    };
    Ok(())
}

fn build_from_settings(
    services: &crate::registry::Services,
    settings: &crate::registry::Settings,
) -> Result<Option<Box<dyn Transform>>, String> {
    Ok(services.images.as_ref().map(|registry| {
        Box::new(PinImages::new(
            Arc::clone(registry),
            settings.pin_images.clone(),
        )) as Box<dyn Transform>
    }))
}

/// Options of the pin-images transform.
#[derive(Debug, Clone)]
pub struct ImageOptions {
    /// Images never pinned: globs over the name as written (`my-registry.example/*`) or in full
    /// (`docker.io/library/alpine`); `*` matches any run of characters, case-insensitively.
    pub exempt: Vec<String>,
    /// Check images that already carry a digest: the registry must still serve that manifest
    /// (`--verify`). Without it they are left unchecked.
    pub verify: bool,
    /// Pin the `FROM` images of the repository's Dockerfiles and Containerfiles.
    pub dockerfiles: bool,
}

impl Default for ImageOptions {
    fn default() -> Self {
        ImageOptions {
            exempt: Vec::new(),
            verify: false,
            dockerfiles: true,
        }
    }
}

/// Where an image reference sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// `jobs.<id>.container` or `jobs.<id>.container.image`.
    Container,
    /// `jobs.<id>.services.<name>.image`.
    Service,
    /// `uses: docker://…` of a step.
    StepUses,
    /// `runs.image: docker://…` of a Docker container action.
    ActionImage,
}

impl SiteKind {
    /// Whether the value carries the `docker://` scheme.
    fn has_scheme(self) -> bool {
        matches!(self, SiteKind::StepUses | SiteKind::ActionImage)
    }
}

/// What an image value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageValue {
    /// An empty value (a service switched off by an empty expression result), or a
    /// `uses`/`runs.image` that is no `docker://` image.
    NotAnImage,
    /// A `${{ }}` expression.
    Expression,
    /// Not a valid image reference.
    Invalid(String),
    /// Already `…@sha256:…`.
    Pinned(ImageRef),
    /// To pin.
    Tagged(ImageRef),
}

/// Classifies the value of a site: the image text after the `docker://` scheme where one is
/// needed.
pub fn classify(kind: SiteKind, value: &str) -> ImageValue {
    let value = value.trim();
    let image = if kind.has_scheme() {
        match crate::model::Uses::parse(value) {
            crate::model::Uses::Docker(rest) => rest,
            _ => return ImageValue::NotAnImage,
        }
    } else {
        value
    };
    if image.is_empty() {
        return ImageValue::NotAnImage;
    }
    if image.contains("${{") {
        return ImageValue::Expression;
    }
    match ImageRef::parse(image) {
        Ok(r) if r.digest.is_some() => ImageValue::Pinned(r),
        Ok(r) => ImageValue::Tagged(r),
        Err(e) => ImageValue::Invalid(e.reason.to_owned()),
    }
}

fn site_patterns(kind: FileKind) -> &'static [(&'static str, SiteKind)] {
    match kind {
        FileKind::Workflow => &[
            ("jobs.*.container", SiteKind::Container),
            ("jobs.*.container.image", SiteKind::Container),
            ("jobs.*.services.*.image", SiteKind::Service),
            ("jobs.*.steps[*].uses", SiteKind::StepUses),
        ],
        FileKind::Action => &[
            ("runs.steps[*].uses", SiteKind::StepUses),
            ("runs.image", SiteKind::ActionImage),
        ],
        FileKind::Dependabot | FileKind::Text => &[],
    }
}

/// Every image site of a file that holds a scalar or an alias, in file order.
pub fn image_sites(kind: FileKind, doc: &Document) -> Vec<(Path, &Node, SiteKind)> {
    let mut sites: Vec<(Path, &Node, SiteKind)> = site_patterns(kind)
        .iter()
        .flat_map(|(pattern, site)| {
            doc.query(pattern)
                .into_iter()
                .map(move |(path, node)| (path, node, *site))
        })
        .filter(|(_, node, _)| {
            node.as_scalar().is_some() || matches!(node.kind, NodeKind::Alias(_))
        })
        .collect();
    let behind = matrix_sites(doc, &sites);
    sites.extend(behind);
    sites.sort_by_key(|(_, node, _)| node.span.start);
    sites
}

/// The literal matrix values behind `${{ matrix.<name> }}` container and service images,
/// once each (see `matrix`).
fn matrix_sites<'d>(
    doc: &'d Document,
    sites: &[(Path, &'d Node, SiteKind)],
) -> Vec<(Path, &'d Node, SiteKind)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (path, node, kind) in sites {
        if !matches!(kind, SiteKind::Container | SiteKind::Service) {
            continue;
        }
        let Some(name) = node.as_str().and_then(matrix::matrix_variable) else {
            continue;
        };
        let Some(job) = matrix::job_of(path) else {
            continue;
        };
        if let MatrixImages::Literal(values) = matrix::matrix_values(doc, &job, name) {
            for (p, n) in values {
                if seen.insert(n.span.start) {
                    out.push((p, n, *kind));
                }
            }
        }
    }
    out
}

/// Tags their publishers move to each new build on purpose: a digest pinned to one of them
/// stays on the build of the day it was pinned.
const MOVING_TAGS: &[&str] = &[
    "canary", "dev", "devel", "develop", "edge", "latest", "main", "master", "nightly", "rolling",
    "snapshot", "unstable",
];

/// The owner part of `owner/repo`, lowercase.
fn owner_of(repository: &str) -> Option<String> {
    let owner = repository.split('/').next()?.trim();
    (!owner.is_empty()).then(|| owner.to_ascii_lowercase())
}

/// `options.exempt`, compiled (case-insensitive, `*` = any text, `/` included).
pub(crate) fn exempt_globs(options: &ImageOptions) -> Globs {
    Globs::lenient(&options.exempt, Flavor::Names)
}

/// Whether an image is exempt: its name as written or in full matches a glob.
pub(crate) fn exempt(written: &str, image: &ImageRef, globs: &Globs) -> bool {
    let name = written.split('@').next().unwrap_or(written);
    let name = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    globs.is_match(name) || globs.is_match(&image.name())
}

/// The images of `repos` to resolve (literal, tagged, not exempt), once each.
pub fn wanted_images<'a>(
    repos: impl IntoIterator<Item = &'a Repository>,
    options: &ImageOptions,
) -> Vec<ImageRef> {
    let mut wanted: Vec<ImageRef> = Vec::new();
    for repo in repos {
        add_wanted(&repo.files, options, &mut wanted);
    }
    wanted
}

/// Adds the images of `files` to resolve (literal, tagged, not exempt) to `wanted`, once each.
pub fn add_wanted(files: &[SourceFile], options: &ImageOptions, wanted: &mut Vec<ImageRef>) {
    let mut seen: std::collections::HashSet<String> = wanted.iter().map(ImageRef::key).collect();
    let globs = exempt_globs(options);
    for file in files {
        let Some(doc) = file.document() else { continue };
        for (_, node, kind) in image_sites(file.kind, doc) {
            let value = node.as_str().unwrap_or_default();
            let image = match classify(kind, value) {
                ImageValue::Tagged(image) => image,
                ImageValue::Pinned(image) if options.verify => image,
                _ => continue,
            };
            if !exempt(value, &image, &globs) && seen.insert(image.key()) {
                wanted.push(image);
            }
        }
    }
}

/// What to say about an image whose tag moves on purpose, or that has none: its pinned
/// digest stays on today's build. `owner` is the repository's owner (lowercase), when known.
fn moving_tag_warning(owner: Option<&str>, value: &str, image: &ImageRef) -> Option<String> {
    let own = owner.is_some_and(|o| owner_of(&image.repository).as_deref() == Some(o));

    let never = "the pinned digest stays on today's build and never moves by itself";
    let exempt = "or exempt the image (`pin-images: {exempt: [...]}` in .github/harden.yml) \
                  if the job should always run the newest build";
    match image.tag.as_deref() {
        None if own => Some(format!(
            "`{value}` is this repository's own image, with no tag: each build pushed \
             replaces `latest`, and {never}, so jobs stop following your rebuilds. Push a \
             version or date tag and write it before the digest, {exempt}"
        )),
        None => Some(format!(
            "`{value}` names no tag: pinned to the digest `latest` has today, which never \
             moves by itself; write a version tag before the digest so that people and \
             update tools can tell which image it is"
        )),
        Some(tag) if MOVING_TAGS.contains(&tag.to_ascii_lowercase().as_str()) => {
            let whose = if own {
                " (this repository's own image)"
            } else {
                ""
            };
            Some(format!(
                "`{value}`{whose} follows `{tag}`, a tag its publisher moves to each new \
                 build on purpose: {never}. Prefer a version tag, {exempt}"
            ))
        }
        Some(_) => None,
    }
}

/// The pin-images transform.
pub struct PinImages {
    registry: Arc<Registry>,
    options: ImageOptions,
    own_repository: Option<String>,
}

impl PinImages {
    /// A pin-images transform that resolves digests with `registry`.
    pub fn new(registry: Arc<Registry>, options: ImageOptions) -> Self {
        PinImages {
            registry,
            options,
            own_repository: None,
        }
    }

    /// Names the repository `owner/repo` instead of reading its `origin` remote: images of
    /// its owner are the project's own, whose untagged builds are warned about.
    pub fn with_own_repository(mut self, own: impl Into<String>) -> Self {
        self.own_repository = Some(own.into());
        self
    }
}

impl Transform for PinImages {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "pin every container image (job containers, services, docker:// steps) to its digest, keeping the tag"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut outcome = Outcome::default();
        let mut wanted = wanted_images(std::iter::once(repo), &self.options);
        let exempt = exempt_globs(&self.options);
        let docker_files = if self.options.dockerfiles {
            dockerfiles::load(&repo.root)
        } else {
            Vec::new()
        };
        dockerfiles::add_wanted(&docker_files, &exempt, self.options.verify, &mut wanted);
        let resolved = if wanted.is_empty() {
            HashMap::new()
        } else {
            self.registry.resolve_all(&wanted)
        };
        let owner = self
            .own_repository
            .clone()
            .or_else(|| crate::permissions::own_repo::from_git_config(&repo.root))
            .and_then(|r| owner_of(&r));
        for file in &repo.files {
            let Some(doc) = file.document() else { continue };
            let sites = image_sites(file.kind, doc);
            let mut pinner = FilePinner {
                doc,
                file_path: &file.path,
                edits: EditSet::new(doc),
                notes: Vec::new(),
                findings: &mut outcome.findings,
                exempt: &exempt,
                owner: owner.as_deref(),
                first_frozen: None,
            };
            for (path, node, kind) in &sites {
                pinner.pin(path, node, *kind, &self.options, &resolved);
            }
            pinner.report_aliases(&sites);
            pinner.report_frozen();
            let FilePinner { edits, notes, .. } = pinner;
            if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut outcome.findings) {
                outcome.changes.push(change);
            }
        }
        let cx = dockerfiles::Context {
            exempt: &exempt,
            owner: owner.as_deref(),
            resolved: &resolved,
            verify: self.options.verify,
        };
        for file in &docker_files {
            if let Some(change) = dockerfiles::pin_file(file, &cx, &mut outcome.findings) {
                outcome.changes.push(change);
            }
        }
        outcome
    }
}

/// The pinning of one file.
struct FilePinner<'a, 'd> {
    doc: &'d Document,
    file_path: &'a std::path::Path,
    edits: EditSet<'d>,
    notes: Vec<ChangeNote>,
    findings: &'a mut Vec<Finding>,
    /// Images never pinned.
    exempt: &'a Globs,
    /// The repository's owner (lowercase), when known.
    owner: Option<&'a str>,
    /// The first `container:`/`services:` value pinned (for the note on updates).
    first_frozen: Option<&'d Node>,
}

impl<'d> FilePinner<'_, 'd> {
    fn report(&mut self, node: &Node, severity: Severity, message: String) {
        let finding = Finding::at_node(NAME, self.file_path, self.doc, node, severity, message);
        self.findings.push(finding);
    }

    fn pin(
        &mut self,
        path: &Path,
        node: &'d Node,
        kind: SiteKind,
        options: &ImageOptions,
        resolved: &HashMap<String, DigestResult>,
    ) {
        let Some(value) = node.as_str() else { return };
        let image = match classify(kind, value) {
            ImageValue::NotAnImage => return,
            ImageValue::Pinned(image) => {
                return self.verify(node, value, &image, options, resolved)
            }
            ImageValue::Expression => return self.report_expression(path, node, value),
            ImageValue::Invalid(why) => {
                return self.report(
                    node,
                    Severity::Warning,
                    format!("`{value}` not pinned: it is not an image reference ({why})"),
                )
            }
            ImageValue::Tagged(image) => image,
        };
        if exempt(value, &image, self.exempt) {
            return;
        }
        let digest = match resolved.get(&image.key()) {
            Some(Ok(r)) => r.digest.clone(),
            // The same text for every use of the image, so that the report shows one line
            // listing the places.
            Some(Err(e)) => {
                return self.report(
                    node,
                    Severity::Error,
                    format!("cannot pin image `{}`: {e}", image.key()),
                )
            }
            None => return,
        };
        let trimmed = value.trim_end();
        let new_value = format!("{trimmed}@{digest}{}", &value[trimmed.len()..]);
        if let Some(ScalarStyle::Literal | ScalarStyle::Folded) = node.as_scalar().map(|s| s.style)
        {
            return self.report(
                node,
                Severity::Error,
                format!(
                    "cannot pin `{value}`: a block scalar (`|` or `>`) cannot be rewritten in \
                     place; write `{}`",
                    new_value.trim()
                ),
            );
        }
        if let Err(e) = self.edits.replace_scalar(path, &new_value) {
            return self.report(node, Severity::Error, format!("cannot pin `{value}`: {e}"));
        }
        if let Some(warning) = self.moving_tag(value.trim(), &image) {
            self.report(node, Severity::Warning, warning);
        }
        if matches!(kind, SiteKind::Container | SiteKind::Service) && self.first_frozen.is_none() {
            self.first_frozen = Some(node);
        }
        self.notes.push(ChangeNote {
            line: node.line,
            message: format!("{} -> {}", value.trim(), new_value.trim()),
        });
    }

    /// What to say about an image whose tag moves on purpose, or that has none.
    fn moving_tag(&self, value: &str, image: &ImageRef) -> Option<String> {
        moving_tag_warning(self.owner, value, image)
    }

    /// Reports an expression: a matrix variable whose literal images are pinned where the
    /// matrix lists them, or why it is left as it is.
    fn report_expression(&mut self, path: &Path, node: &Node, value: &str) {
        let shown = value.trim();
        let matrix = matrix::matrix_variable(value)
            .zip(matrix::job_of(path))
            .map(|(name, job)| (name, matrix::matrix_values(self.doc, &job, name)));
        let (severity, message) = match matrix {
            Some((name, MatrixImages::Literal(values))) => {
                let mut lines: Vec<usize> = values.iter().map(|(_, n)| n.line).collect();
                lines.dedup();
                let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
                (
                    Severity::Note,
                    format!(
                        "`{shown}`: the images of `matrix.{name}` are pinned where the matrix \
                         lists them ({} {}). Check names that show the matrix values change \
                         with them: update a required status check that names one",
                        if lines.len() > 1 { "lines" } else { "line" },
                        lines.join(", ")
                    ),
                )
            }
            Some((_, MatrixImages::Held(why))) => (
                Severity::Warning,
                format!(
                    "`{shown}` not pinned: it is an expression, and {why}; pin the images it can \
                     take where they are written, as image:tag@sha256:<digest>"
                ),
            ),
            None => (
                Severity::Warning,
                format!(
                    "`{shown}` not pinned: it is an expression; pin the images it can take \
                     where they are written, as image:tag@sha256:<digest>"
                ),
            ),
        };
        self.report(node, severity, message);
    }

    /// Where digests were written in `container:` or `services:`, says once per file that
    /// Dependabot does not update them.
    fn report_frozen(&mut self) {
        let Some(node) = self.first_frozen else {
            return;
        };
        self.report(
            node,
            Severity::Note,
            "Dependabot does not update the images of `container:` and `services:` (its \
             `github-actions` updates read `uses:` only), so the digests pinned in this file \
             stay as they are until someone changes them: refresh them with `harden update` \
             (planned), or let Renovate's `github-actions` manager update them (it reads these \
             images)"
                .to_owned(),
        );
    }

    /// `--verify`: an image pinned by digest must still be served by its registry.
    fn verify(
        &mut self,
        node: &Node,
        value: &str,
        image: &ImageRef,
        options: &ImageOptions,
        resolved: &HashMap<String, DigestResult>,
    ) {
        if !options.verify || exempt(value, image, self.exempt) {
            return;
        }
        let value = value.trim();
        match resolved.get(&image.key()) {
            Some(Ok(_)) | None => {}
            Some(Err(RegistryError::NotFound { .. })) => self.report(
                node,
                Severity::Error,
                format!(
                    "`{value}`: the registry has no manifest with this digest, so the job cannot \
                     pull it; correct the digest, or remove `@sha256:…` and run harden again"
                ),
            ),
            Some(Err(e)) => self.report(
                node,
                Severity::Error,
                format!("cannot verify image `{}`: {e}", image.key()),
            ),
        }
    }

    /// Warns about image values that are aliases of an anchor defined elsewhere.
    fn report_aliases(&mut self, sites: &[(Path, &Node, SiteKind)]) {
        let anchors: Vec<&str> = sites
            .iter()
            .filter_map(|(_, n, _)| n.anchor.as_deref())
            .collect();
        for (_, node, _) in sites {
            if let NodeKind::Alias(name) = &node.kind {
                if !anchors.contains(&name.as_str()) {
                    self.report(
                        node,
                        Severity::Warning,
                        format!(
                            "`*{name}` not pinned: the anchor `&{name}` is not itself an image \
                             value; pin it where it is defined"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_values() {
        let tagged = |kind, v| matches!(classify(kind, v), ImageValue::Tagged(_));
        assert!(tagged(SiteKind::Container, "node:20"));
        assert!(tagged(SiteKind::StepUses, "docker://alpine"));
        assert_eq!(
            classify(SiteKind::StepUses, "actions/checkout@v4"),
            ImageValue::NotAnImage
        );
        assert_eq!(
            classify(SiteKind::ActionImage, "Dockerfile"),
            ImageValue::NotAnImage
        );
        assert_eq!(classify(SiteKind::Service, ""), ImageValue::NotAnImage);
        assert_eq!(
            classify(SiteKind::Container, "${{ matrix.image }}"),
            ImageValue::Expression
        );
        assert!(matches!(
            classify(
                SiteKind::Container,
                &format!("a:1@sha256:{}", "0".repeat(64))
            ),
            ImageValue::Pinned(_)
        ));
        assert!(matches!(
            classify(SiteKind::Service, "Redis:7"),
            ImageValue::Invalid(_)
        ));
    }

    #[test]
    fn exemptions() {
        let globs = Globs::new(
            &["my.registry/*", "docker.io/library/alpine"],
            Flavor::Names,
        )
        .expect("valid");
        let check = |v: &str| exempt(v, &ImageRef::parse(v).expect("valid"), &globs);
        assert!(check("my.registry/x/y:1"));
        assert!(check("alpine:3"));
        assert!(!check("node:20"));
        assert!(!check("localhost:5000/x:1"));
    }
}
