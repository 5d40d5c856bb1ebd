//! The one way harden walks a repository's folders: [`repository`], an `ignore` walk that
//! honours the repository's `.gitignore` files and `.git/info/exclude` (not the user's global
//! excludes, so every machine sees the same files), shows hidden folders (`.github`!), never
//! follows symbolic links (they may leave the repository or loop) and lists names in order.

use std::path::Path;

pub use ignore::{DirEntry, WalkBuilder};

/// A walk of the repository at `root`, down to `max_depth` levels below it; add a
/// `filter_entry` for the folders to pass over.
pub fn repository(root: &Path, max_depth: usize) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_global(false)
        .git_exclude(true)
        .git_ignore(true)
        .require_git(false)
        .follow_links(false)
        .max_depth(Some(max_depth))
        .sort_by_file_name(|a, b| a.cmp(b));
    builder
}

/// The path an error of a walk is about (a folder that could not be read), if it names one.
pub fn error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errors) => errors.iter().find_map(error_path),
        _ => None,
    }
}
