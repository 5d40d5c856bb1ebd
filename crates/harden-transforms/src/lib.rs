//! The transforms of harden, one module each, behind one [`Transform`] trait: documents in,
//! changed texts and findings out.
//!
//! A transform never writes files: it returns [`FileChange`]s whose new text already passed
//! the semantic guard of `harden-yaml`, and [`Finding`]s for what it could not or would not do.
//! The binary shows, checks or writes the changes.

use std::path::{Path as FsPath, PathBuf};

use harden_yaml::{ApplyError, Document, EditSet, Location, ParseError};

pub mod actions_lock;
pub mod checkout_credentials;
pub mod dependabot;
pub mod globs;
pub mod model;
pub mod permissions;
pub mod pin_actions;
pub mod pin_images;
pub mod registry;
pub mod script_injection;
pub mod settings;
pub mod sign_releases;
pub mod tag_only;
pub mod transitive_pins;
pub mod walk;

/// What kind of file a source file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `.github/workflows/*.yml`
    Workflow,
    /// A composite action's `action.yml`.
    Action,
    /// `.github/dependabot.yml`
    Dependabot,
    /// A text file that is not YAML (SECURITY.md): changed only as a whole new text.
    Text,
}

/// One YAML file of a repository, read and parsed.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown to the user (relative to the working directory when possible).
    pub path: PathBuf,
    /// What the file is.
    pub kind: FileKind,
    /// The parsed document, or why it could not be parsed.
    pub doc: Result<Document, ParseError>,
}

impl SourceFile {
    /// Parses `text` as a file of `kind` at `path`.
    pub fn new(path: impl Into<PathBuf>, kind: FileKind, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            kind,
            doc: Document::parse(text),
        }
    }

    /// The parsed document, when the file parsed.
    pub fn document(&self) -> Option<&Document> {
        self.doc.as_ref().ok()
    }
}

/// A repository as the transforms see it: its root folder and its YAML files.
#[derive(Debug, Clone)]
pub struct Repository {
    /// The repository's root folder (where `.github/` is).
    pub root: PathBuf,
    /// Workflows, composite actions and the Dependabot configuration, as found.
    pub files: Vec<SourceFile>,
}

impl Repository {
    /// Makes a change visible to what runs next: the file's text is replaced (and parsed
    /// again), or the new file is added.
    pub fn apply(&mut self, change: &FileChange) {
        let new = SourceFile::new(change.path.clone(), change.kind, change.after.clone());
        match self.files.iter_mut().find(|f| f.path == change.path) {
            Some(f) => *f = new,
            None => self.files.push(new),
        }
    }

    /// This repository with every change of `outcome` applied.
    pub fn applied(&self, outcome: &Outcome) -> Repository {
        let mut next = self.clone();
        for change in &outcome.changes {
            next.apply(change);
        }
        next
    }

    /// Files of the given kind that parsed.
    pub fn documents(&self, kind: FileKind) -> impl Iterator<Item = (&SourceFile, &Document)> {
        self.files
            .iter()
            .filter(move |f| f.kind == kind)
            .filter_map(|f| f.document().map(|d| (f, d)))
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information: what was done or left as it is on purpose.
    Note,
    /// Something the user should look at (a branch pin, an undetermined job).
    Warning,
    /// Something failed: a reference did not resolve, a file could not be changed safely.
    Error,
}

/// Something a transform reports about a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The transform's name.
    pub transform: &'static str,
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when the finding is about one place.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// How serious it is.
    pub severity: Severity,
    /// What happened and what to do.
    pub message: String,
}

impl Finding {
    /// A finding at a location of `path`.
    pub fn at(
        transform: &'static str,
        path: &FsPath,
        location: Option<Location>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            transform,
            path: path.to_owned(),
            line: location.map(|l| l.line),
            column: location.map(|l| l.column),
            severity,
            message: message.into(),
        }
    }

    /// A finding at the start of `node`, a node of `doc`, the text of the file at `path`.
    pub fn at_node(
        transform: &'static str,
        path: &FsPath,
        doc: &Document,
        node: &harden_yaml::Node,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        let location = Some(doc.location(node.span.start));
        Finding::at(transform, path, location, severity, message)
    }
}

/// One line of what a change does, for `--check` lists and commit messages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeNote {
    /// 1-based line in the original file (the line of the key an insertion goes before or after).
    pub line: usize,
    /// What changes there.
    pub message: String,
}

/// A new text for one file (or a new file), already checked by the semantic guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The file.
    pub path: PathBuf,
    /// The kind of file.
    pub kind: FileKind,
    /// The text before, or `None` when the file is created.
    pub before: Option<String>,
    /// The text after.
    pub after: String,
    /// What changed, line by line.
    pub notes: Vec<ChangeNote>,
}

/// What one transform produced for a repository.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Files to change or create.
    pub changes: Vec<FileChange>,
    /// What to tell the user.
    pub findings: Vec<Finding>,
}

/// A transform pass. Each is its own reviewable diff and can be applied alone.
pub trait Transform {
    /// The name used with `--only` and `--skip` (`pin-actions`).
    fn name(&self) -> &'static str;
    /// One line on what the transform does, for headers and commit messages.
    fn summary(&self) -> &'static str;
    /// Works out the changes for one repository. Must not panic on any input and must not
    /// write files.
    fn run(&self, repo: &Repository) -> Outcome;
}

/// Applies an edit set with the guard and turns the result into a change, or into an error
/// finding that leaves the file untouched. Returns `None` when nothing changes.
pub fn finish_edits(
    transform: &'static str,
    file: &SourceFile,
    edits: &EditSet<'_>,
    notes: Vec<ChangeNote>,
    findings: &mut Vec<Finding>,
) -> Option<FileChange> {
    if edits.is_empty() {
        return None;
    }
    let doc = edits.document();
    match edits.apply_verified() {
        Ok(after) if after == doc.text() => None,
        Ok(after) => Some(FileChange {
            path: file.path.clone(),
            kind: file.kind,
            before: Some(doc.text().to_owned()),
            after,
            notes,
        }),
        Err(e) => {
            let message = match &e {
                ApplyError::Edit(e) => format!("left unchanged: the edit could not be made: {e}"),
                ApplyError::Guard(e) => format!(
                    "left unchanged: {e}; this is a bug in harden, please report it with the file"
                ),
            };
            findings.push(Finding::at(
                transform,
                &file.path,
                None,
                Severity::Error,
                message,
            ));
            None
        }
    }
}
