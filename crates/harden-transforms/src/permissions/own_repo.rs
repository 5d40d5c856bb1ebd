//! The repository's own `owner/repo` on GitHub, so that a local reusable workflow
//! (`uses: ./.github/workflows/linux_job.yml` in `pytorch/test-infra`) is known to be the
//! knowledge base's `pytorch/test-infra/.github/workflows/linux_job.yml`: the same file,
//! which other repositories call by name and the knowledge base describes.
//!
//! It comes from the `origin` remote in the checkout's git configuration (what
//! `actions/checkout` and `git clone` write), only when its host is `github.com` or the
//! host of `GITHUB_SERVER_URL` (GitHub Enterprise Server). Without it (no `.git`, another
//! host, no `origin`) local workflows are read as before.

use std::path::{Path, PathBuf};

/// `owner/repo` (lowercase) of the `origin` remote of the git checkout at `root`.
pub(crate) fn from_git_config(root: &Path) -> Option<String> {
    let git_dir = git_dir(root)?;
    let config = read_git_file(&git_dir, &git_dir.join("config"))?;
    let url = origin_url(&config)?;
    let server = std::env::var("GITHUB_SERVER_URL").ok();
    let mut hosts = vec!["github.com".to_owned()];
    if let Some(host) = server.as_deref().and_then(url_host) {
        hosts.push(host);
    }
    repository_of_url(&url, &hosts)
}

/// The folder holding the repository's `config`: `.git`, or for a worktree (`.git` is a
/// file `gitdir: ...`) the common folder its `commondir` names.
fn git_dir(root: &Path) -> Option<PathBuf> {
    let dot_git = root.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = read_git_file(root, &dot_git)?;
    let gitdir = root.join(text.trim().strip_prefix("gitdir:")?.trim());
    match read_git_file(&gitdir, &gitdir.join("commondir")) {
        Some(common) => Some(gitdir.join(common.trim())),
        None => Some(gitdir),
    }
}

/// A small file of git's through the one door, inside `folder` (a worktree's git folder lies
/// outside the checkout, so each file is read inside the folder git itself uses): a FIFO, a
/// device or a file of `/proc` is never read.
fn read_git_file(folder: &Path, path: &Path) -> Option<String> {
    let limit = harden_github::safe_read::MAX_SMALL_FILE;
    harden_github::safe_read::read_text(folder, path, limit).ok()
}

/// The `url` of `[remote "origin"]` in a git config file.
fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let section: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            in_origin = section == "[remote\"origin\"]";
            continue;
        }
        if !in_origin {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim().eq_ignore_ascii_case("url") {
                return Some(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    None
}

/// The host of `https://host[:port]/...` (lowercase, port dropped).
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    // `https://evil.example#@github.com/a/b` is evil.example to git: no guessing.
    if authority.contains(['#', '?', '\\', ' ']) {
        return None;
    }
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `owner/repo` (lowercase) of a clone URL on one of `hosts`: `https://host/owner/repo(.git)`
/// (with or without credentials), `ssh://git@host/owner/repo`, `git@host:owner/repo.git`.
fn repository_of_url(url: &str, hosts: &[String]) -> Option<String> {
    let (host, path) = if url.contains("://") {
        let host = url_host(url)?;
        let rest = url.split_once("://")?.1;
        (host, rest.split_once('/')?.1.to_owned())
    } else {
        // scp-like syntax: [user@]host:path
        let (authority, path) = url.split_once(':')?;
        let host = authority.rsplit('@').next()?.to_ascii_lowercase();
        (host, path.to_owned())
    };
    if !hosts.contains(&host) {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.split('/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    // GitHub's rules: an owner is letters, digits and `-`; a repository adds `_` and `.`
    // but is not `.` or `..`.
    let valid_owner =
        !owner.is_empty() && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let valid_repo = !repo.is_empty()
        && !repo.chars().all(|c| c == '.')
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if parts.next().is_some() || !valid_owner || !valid_repo {
        return None;
    }
    Some(format!("{owner}/{repo}").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github(url: &str) -> Option<String> {
        repository_of_url(url, &["github.com".to_owned()])
    }

    #[test]
    fn clone_urls_give_owner_and_repo() {
        let want = Some("pytorch/test-infra".to_owned());
        assert_eq!(github("https://github.com/pytorch/test-infra"), want);
        assert_eq!(github("https://github.com/pytorch/test-infra.git"), want);
        assert_eq!(github("https://github.com/PyTorch/Test-Infra/"), want);
        assert_eq!(
            github("https://x-access-token:abc@github.com/pytorch/test-infra"),
            want
        );
        assert_eq!(github("git@github.com:pytorch/test-infra.git"), want);
        assert_eq!(github("ssh://git@github.com/pytorch/test-infra.git"), want);
        // Other hosts, other shapes: unknown.
        assert_eq!(github("https://gitlab.com/pytorch/test-infra"), None);
        assert_eq!(github("https://github.com/pytorch"), None);
        assert_eq!(github("https://github.com/a/b/c"), None);
        assert_eq!(github("/srv/git/test-infra"), None);
        assert_eq!(
            github("https://github.com:443/pytorch/test-infra.git"),
            want
        );
        // Odd or hostile URLs: never a wrong name.
        for odd in [
            "https://evil.example#@github.com/pytorch/test-infra",
            "https://evil.example?@github.com/pytorch/test-infra",
            "https://evil.example\\@github.com/pytorch/test-infra",
            "https://github.com.evil.example/pytorch/test-infra",
            "https://github.com/../test-infra",
            "https://github.com/pytorch/..",
            "https://github.com/py.torch/test-infra",
            "https://github.com/pytorch/test-infra?ref=x",
            "git@evil.example:pytorch/test-infra.git",
        ] {
            assert_eq!(github(odd), None, "{odd}");
        }
        let ghes = repository_of_url(
            "https://ghe.example.com/team/tool.git",
            &["github.com".to_owned(), "ghe.example.com".to_owned()],
        );
        assert_eq!(ghes.as_deref(), Some("team/tool"));
    }

    #[test]
    fn origin_is_read_from_the_git_config() {
        let config = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/a/b\n[remote \"origin\"]\n\turl = https://github.com/pytorch/test-infra\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";
        assert_eq!(
            origin_url(config).as_deref(),
            Some("https://github.com/pytorch/test-infra")
        );
        assert_eq!(origin_url("[remote \"fork\"]\n\turl = x\n"), None);
        let dir = std::env::temp_dir().join(format!("harden-own-repo-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".git")).expect("temp dir");
        std::fs::write(dir.join(".git/config"), config).expect("config");
        assert_eq!(from_git_config(&dir).as_deref(), Some("pytorch/test-infra"));
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(from_git_config(&dir), None);
    }
}
