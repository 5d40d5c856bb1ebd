//! Recorded files of action repositories in GitHub Enterprise Server's raw form,
//! `GET /{owner}/{repo}/raw/{ref}/{path}`: the file recorded under
//! `<actions dir>/<owner>__<repo>/<path>` for any ref the repository has (a tag, a branch, or a
//! 40-hex commit), 404 otherwise. One recorded version stands for every ref. The REST contents
//! API (`/repos/{owner}/{repo}/contents/{path}?ref=`) answers the same file raw.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::data::RecordedRepo;
use crate::http::{Request, Response};
use crate::Shared;

/// The folders the raw form serves from, in order.
pub(crate) fn actions_dirs(shared: &Shared) -> Vec<PathBuf> {
    shared
        .actions_dirs
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The recorded folder of a repository, found without regard to case.
fn repo_dir(dir: &Path, repo: &RecordedRepo) -> Option<PathBuf> {
    let wanted = format!("{}__{}", repo.owner(), repo.name()).to_ascii_lowercase();
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().to_ascii_lowercase() == wanted)
        .map(|e| e.path())
}

/// Answers `{ref}/{path}` for `repo` from the first of `dirs` that holds the file.
pub(crate) fn raw(dirs: &[PathBuf], repo: &RecordedRepo, tail: &str) -> Response {
    let not_found = || Response::text(404, "404: Not Found");
    // A ref may hold `/` (`release/v1`): try every split, the longest known ref first.
    let splits = tail.match_indices('/').map(|(i, _)| i).collect::<Vec<_>>();
    let found = splits.iter().rev().find_map(|&i| {
        let (git_ref, path) = (&tail[..i], &tail[i + 1..]);
        let known = repo.tags.contains_key(git_ref)
            || repo.branches.contains_key(git_ref)
            || is_full_sha(git_ref);
        known.then_some(path)
    });
    let Some(path) = found else {
        return not_found();
    };
    let safe = !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return not_found();
    }
    dirs.iter()
        .filter_map(|dir| repo_dir(dir, repo))
        .find_map(|base| fs::read(base.join(path)).ok())
        .map_or_else(not_found, |bytes| {
            Response::new(200, "text/plain; charset=utf-8", bytes)
        })
}

/// Answers `/contents/{path}?ref={ref}` (the raw media type) for `repo` from `dir`.
pub(crate) fn contents(
    dirs: &[PathBuf],
    repo: &RecordedRepo,
    rest: &str,
    request: &Request,
) -> Response {
    let path = rest.trim_start_matches("/contents/");
    let git_ref = request
        .query_param("ref")
        .or_else(|| repo.default_branch.clone())
        .unwrap_or_default();
    let response = raw(dirs, repo, &format!("{git_ref}/{path}"));
    if response.status == 404 {
        return crate::rest::not_found();
    }
    response
}
