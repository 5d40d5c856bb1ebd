//! Reading files of action repositories at a commit: `action.yml` files and reusable
//! workflows, for analysing what a remote action or workflow does with the token.
//!
//! Where a file comes from, in order:
//! - a recorded folder (`recorded` setting): `<dir>/actions/<owner>__<repo>/<path>`, nothing is
//!   fetched (tests, demos, the corpus measurement);
//! - the in-memory answers of this reader (a missing file is asked for once per run);
//! - the disk cache, `<cache>/files/<server host>/<owner>__<repo>/<sha>/<path>`, kept forever
//!   (a file at a commit SHA cannot change); `offline` stops here;
//! - the raw form: `https://raw.githubusercontent.com/{owner}/{repo}/{sha}/{path}` for
//!   github.com, `{server}/{owner}/{repo}/raw/{sha}/{path}` for GitHub Enterprise Server, without
//!   a token;
//! - with a token, the REST contents API when the raw form did not answer (private repositories).
//!
//! One request per file; [`FileReader::read_all`] runs them on a bounded pool of threads. Bodies
//! are read up to [`MAX_FILE_BYTES`].

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::config::ResolverConfig;
use crate::error::{Error, FetchError};
use crate::http::Http;
use crate::plumbing::{
    read_bounded, with_retries, write_atomically, Attempt, BodyError, Fsync, RetryCounters,
    RetryPolicy,
};
use crate::refs::is_full_sha;
use crate::repo_id::RepoId;
use crate::smart_http::status_error;
use crate::stats::Counters;

/// The largest file read (an `action.yml` or workflow is a few kB; the largest recorded is
/// under 100 kB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One file of a repository at a commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileRef {
    /// The repository.
    pub repo: RepoId,
    /// The commit: a 40-hex SHA (another ref is read, but never cached on disk).
    pub commit: String,
    /// The path inside the repository, `/`-separated, without a leading `/`.
    pub path: String,
}

impl FileRef {
    /// A file reference.
    pub fn new(repo: RepoId, commit: impl Into<String>, path: impl Into<String>) -> Self {
        FileRef {
            repo,
            commit: commit.into(),
            path: path.into(),
        }
    }
}

/// What reading a file gave: its text, `None` when there is no such file, or why it failed.
pub type FileResult = Result<Option<Arc<str>>, FetchError>;

/// Reads files of repositories at a commit, through a cache. Share it between threads.
#[derive(Debug)]
pub struct FileReader {
    server_url: String,
    api_url: String,
    token: Option<String>,
    offline: bool,
    jobs: usize,
    recorded: Option<PathBuf>,
    /// Lowercase `owner__repo` → folder name as recorded.
    recorded_names: OnceLock<HashMap<String, PathBuf>>,
    cache: Option<PathBuf>,
    http: Http,
    memory: Mutex<HashMap<FileRef, FileResult>>,
    requests: AtomicU64,
    max_retries: u32,
    retry_backoff: Duration,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The path as normal components, or `None` when it could leave the repository.
fn clean_path(path: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let ok = !parts.is_empty()
        && parts.iter().all(|p| {
            *p != ".."
                && !p.contains('\\')
                && !p.contains(':')
                && p.chars().all(|c| !c.is_control())
                && Path::new(p)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
        });
    ok.then_some(parts)
}

impl FileReader {
    /// A reader with the server, API, token, cache, offline, jobs, timeout and recorded settings
    /// of `config`.
    pub fn new(config: &ResolverConfig) -> Result<Self, Error> {
        let check = |what: &'static str, url: &str| {
            let trimmed = url.trim().trim_end_matches('/').to_string();
            match reqwest::Url::parse(&trimmed) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(trimmed),
                _ => Err(Error::InvalidUrl {
                    what,
                    url: url.to_string(),
                    reason: "expected an http or https URL".to_string(),
                }),
            }
        };
        Ok(FileReader {
            server_url: check("server URL", &config.server_url)?,
            api_url: check("API URL", &config.api_url)?,
            token: config.token.clone(),
            offline: config.offline,
            jobs: config.jobs.clamp(1, 64),
            recorded: config.recorded.clone(),
            recorded_names: OnceLock::new(),
            cache: config.cache_dir.as_ref().map(|d| d.join("files")),
            http: Http::new(config, Arc::new(Counters::default()))?,
            memory: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            max_retries: config.max_retries,
            retry_backoff: config.retry_backoff,
        })
    }

    /// HTTP requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// True when files come only from a recorded folder.
    pub fn is_recorded(&self) -> bool {
        self.recorded.is_some()
    }

    /// Reads many files, at most `jobs` requests at a time; each file is asked for once.
    pub fn read_all(&self, wanted: &[FileRef]) -> HashMap<FileRef, FileResult> {
        let mut seen = HashSet::new();
        let unique: Vec<&FileRef> = wanted.iter().filter(|f| seen.insert(*f)).collect();
        let read = crate::parallel::on_threads(&unique, self.jobs, |file| self.read(file));
        unique.into_iter().cloned().zip(read).collect()
    }

    /// Reads one file (recorded folder, memory, disk cache, then the network).
    pub fn read(&self, file: &FileRef) -> FileResult {
        let Some(parts) = clean_path(&file.path) else {
            return Err(FetchError::BadResponse(format!(
                "`{}` is not a path inside a repository",
                file.path
            )));
        };
        if let Some(dir) = &self.recorded {
            return Ok(self.read_recorded(dir, &file.repo, &parts));
        }
        if let Some(answer) = lock(&self.memory).get(file) {
            return answer.clone();
        }
        let result = self.read_uncached(file, &parts);
        lock(&self.memory).insert(file.clone(), result.clone());
        result
    }

    fn read_uncached(&self, file: &FileRef, parts: &[&str]) -> FileResult {
        let cached = self.cache_path(file, parts);
        if let Some(path) = &cached {
            // A bad entry (a link out, a FIFO, too large, not UTF-8) is a miss, replaced below.
            let folder = self.cache.as_deref().unwrap_or(Path::new("."));
            if let Ok(text) = crate::safe_read::read_text(folder, path, MAX_FILE_BYTES) {
                return Ok(Some(Arc::from(text)));
            }
        }
        if self.offline {
            return Err(FetchError::NotCached);
        }
        let fetched = self.fetch(file, parts)?;
        if let (Some(text), Some(path)) = (&fetched, &cached) {
            // A cache that cannot be written only costs a refetch next time.
            let _ = store(path, text.as_bytes());
        }
        Ok(fetched)
    }

    fn read_recorded(&self, dir: &Path, repo: &RepoId, parts: &[&str]) -> Option<Arc<str>> {
        let names = self.recorded_names.get_or_init(|| {
            let mut names = HashMap::new();
            if let Ok(entries) = fs::read_dir(dir.join("actions")) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
                    names.insert(name, entry.path());
                }
            }
            names
        });
        let key = format!(
            "{}__{}",
            repo.owner.to_ascii_lowercase(),
            repo.repo.to_ascii_lowercase()
        );
        let mut path = names.get(&key)?.clone();
        path.extend(parts);
        crate::safe_read::read_text(dir, &path, MAX_FILE_BYTES)
            .ok()
            .map(Arc::from)
    }

    /// `<cache>/files/<host>/<owner>__<repo>/<sha>/<path>`, for a full SHA only.
    fn cache_path(&self, file: &FileRef, parts: &[&str]) -> Option<PathBuf> {
        let dir = self.cache.as_ref()?;
        if !is_full_sha(&file.commit) {
            return None;
        }
        let url = reqwest::Url::parse(&self.server_url).ok()?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}_{p}"),
            (Some(h), None) => h.to_string(),
            _ => return None,
        };
        let host: String = host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let repo = file.repo.cache_file_name();
        let mut path = dir
            .join(host)
            .join(repo.trim_end_matches(".json"))
            .join(file.commit.to_ascii_lowercase());
        path.extend(parts);
        Some(path)
    }

    /// The raw URL of a file: raw.githubusercontent.com for github.com, else the GHES form.
    fn raw_url(&self, file: &FileRef, parts: &[&str]) -> Option<reqwest::Url> {
        let server = reqwest::Url::parse(&self.server_url).ok()?;
        let github = server
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case("github.com"));
        let (mut url, middle): (reqwest::Url, &[&str]) = if github {
            (
                reqwest::Url::parse("https://raw.githubusercontent.com").ok()?,
                &[],
            )
        } else {
            (server, &["raw"])
        };
        {
            let mut segments = url.path_segments_mut().ok()?;
            segments.pop_if_empty();
            segments.push(&file.repo.owner).push(&file.repo.repo);
            segments.extend(middle);
            segments.push(&file.commit);
            segments.extend(parts);
        }
        Some(url)
    }

    fn contents_url(&self, file: &FileRef, parts: &[&str]) -> Option<reqwest::Url> {
        let mut url = reqwest::Url::parse(&self.api_url).ok()?;
        {
            let mut segments = url.path_segments_mut().ok()?;
            segments.pop_if_empty();
            segments
                .push("repos")
                .push(&file.repo.owner)
                .push(&file.repo.repo)
                .push("contents");
            segments.extend(parts);
        }
        url.query_pairs_mut().append_pair("ref", &file.commit);
        Some(url)
    }

    fn fetch(&self, file: &FileRef, parts: &[&str]) -> FileResult {
        let url = self
            .raw_url(file, parts)
            .ok_or_else(|| FetchError::BadResponse("cannot build the file URL".into()))?;
        let raw = self.get(url, None);
        let token = match (&raw, &self.token) {
            (Ok(Some(_)), _) | (_, None) => return raw,
            (Err(FetchError::NotFound | FetchError::AuthRequired { .. }), Some(token))
            | (Ok(None), Some(token)) => token,
            (Err(_), Some(_)) => return raw,
        };
        let url = self
            .contents_url(file, parts)
            .ok_or_else(|| FetchError::BadResponse("cannot build the API URL".into()))?;
        self.get(url, Some(token))
    }

    /// The repository's default token permissions (`default_workflow_permissions` of
    /// `GET /repos/{owner}/{repo}/actions/permissions/workflow`: `read` or `write`). `Ok(None)`
    /// without a token, offline, with a recorded folder, or when the endpoint answers 404 (it
    /// needs a token that may administer the repository).
    pub fn default_workflow_permissions(
        &self,
        repo: &RepoId,
    ) -> Result<Option<String>, FetchError> {
        let Some(token) = &self.token else {
            return Ok(None);
        };
        if self.offline || self.recorded.is_some() {
            return Ok(None);
        }
        let mut url = reqwest::Url::parse(&self.api_url)
            .map_err(|_| FetchError::BadResponse("cannot build the API URL".into()))?;
        url.path_segments_mut()
            .map_err(|()| FetchError::BadResponse("cannot build the API URL".into()))?
            .pop_if_empty()
            .extend([
                "repos",
                &repo.owner,
                &repo.repo,
                "actions",
                "permissions",
                "workflow",
            ]);
        let Some(body) = self.get_json(url, token)? else {
            return Ok(None);
        };
        #[derive(serde::Deserialize)]
        struct Answer {
            default_workflow_permissions: String,
        }
        let answer: Answer = serde_json::from_str(&body)
            .map_err(|e| FetchError::BadResponse(format!("actions/permissions/workflow: {e}")))?;
        Ok(Some(answer.default_workflow_permissions))
    }

    /// One GET of a JSON endpoint with the token (see [`FileReader::get`]).
    fn get_json(&self, url: reqwest::Url, token: &str) -> FileResult {
        self.get_with(url, Some(token), "application/vnd.github+json")
    }

    /// One GET with retries of 5xx answers, timeouts and network failures; 404 is `Ok(None)`.
    fn get(&self, url: reqwest::Url, token: Option<&str>) -> FileResult {
        self.get_with(url, token, "application/vnd.github.raw")
    }

    /// [`FileReader::get`] asking for the media type `accept` when a token is sent.
    fn get_with(&self, url: reqwest::Url, token: Option<&str>, accept: &str) -> FileResult {
        let policy = RetryPolicy {
            max_retries: self.max_retries,
            backoff: self.retry_backoff,
            max_rate_limit_wait: Duration::ZERO,
            max_rate_limit_waits: 0,
        };
        // Only the requests are counted (`FileReader::requests`); retries are not reported.
        let unreported = AtomicU64::new(0);
        let counters = RetryCounters {
            requests: &self.requests,
            retries: &unreported,
            rate_limit_waits: &unreported,
        };
        with_retries(&policy, counters, |attempts| {
            let deadline = self.http.deadline();
            let mut request = self.http.client().get(url.clone());
            if let Some(token) = token {
                request = request
                    .bearer_auth(token)
                    .header("Accept", accept)
                    .header("X-GitHub-Api-Version", "2022-11-28");
            }
            match request.send() {
                Ok(response) => match response.status().as_u16() {
                    // A trickling answer is not tried again: it had its whole timeout.
                    200 => Attempt::Done(read_text(response, deadline).map(Some)),
                    404 => Attempt::Done(Ok(None)),
                    status @ (500 | 502 | 503 | 504) => {
                        Attempt::Transient(FetchError::Server { status, attempts })
                    }
                    status => Attempt::Done(Err(status_error(status))),
                },
                Err(e) if e.is_timeout() => Attempt::Transient(FetchError::Timeout),
                Err(e) if e.is_redirect() => Attempt::Done(Err(FetchError::RedirectRefused(
                    e.url().map(ToString::to_string).unwrap_or_default(),
                ))),
                Err(e) => Attempt::Transient(FetchError::Network(e.to_string())),
            }
        })
    }
}

/// The body of a `200` answer as text, at most [`MAX_FILE_BYTES`].
fn read_text(
    response: reqwest::blocking::Response,
    deadline: std::time::Instant,
) -> Result<Arc<str>, FetchError> {
    let reply = read_bounded(response, MAX_FILE_BYTES, deadline).map_err(|e| match e {
        BodyError::TooLarge => {
            FetchError::BadResponse(format!("the file is larger than {MAX_FILE_BYTES} bytes"))
        }
        BodyError::Read(e) if crate::plumbing::is_timeout(&e) => FetchError::Timeout,
        BodyError::Read(e) => FetchError::Network(e.to_string()),
    })?;
    String::from_utf8(reply.body)
        .map(Arc::from)
        .map_err(|_| FetchError::BadResponse("the file is not UTF-8 text".into()))
}

/// Writes a cache file atomically (temporary file in the same folder, then rename).
fn store(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no folder"))?;
    fs::create_dir_all(dir)?;
    write_atomically(path, data, Fsync::Yes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(server: &str) -> FileReader {
        let config = ResolverConfig {
            server_url: server.into(),
            ..ResolverConfig::default()
        };
        FileReader::new(&config).expect("reader")
    }

    #[test]
    fn raw_urls() {
        let file = FileRef::new(RepoId::new("o", "r"), "a".repeat(40), "sub dir/action.yml");
        let parts = clean_path(&file.path).expect("clean");
        let github = reader("https://github.com").raw_url(&file, &parts);
        assert_eq!(
            github.map(String::from),
            Some(format!(
                "https://raw.githubusercontent.com/o/r/{}/sub%20dir/action.yml",
                "a".repeat(40)
            ))
        );
        let ghes = reader("https://ghe.example.com/").raw_url(&file, &parts);
        assert_eq!(
            ghes.map(String::from),
            Some(format!(
                "https://ghe.example.com/o/r/raw/{}/sub%20dir/action.yml",
                "a".repeat(40)
            ))
        );
        let api = reader("https://github.com").contents_url(&file, &parts);
        assert_eq!(
            api.map(String::from),
            Some(format!(
                "https://api.github.com/repos/o/r/contents/sub%20dir/action.yml?ref={}",
                "a".repeat(40)
            ))
        );
    }

    #[test]
    fn paths_stay_inside_the_repository() {
        assert!(clean_path("../x").is_none());
        assert!(clean_path("a/../../x").is_none());
        assert!(clean_path("").is_none());
        assert!(clean_path("C:/x").is_none());
        assert_eq!(clean_path("./a//b/"), Some(vec!["a", "b"]));
    }

    #[test]
    fn offline_reads_only_the_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ResolverConfig {
            offline: true,
            cache_dir: Some(dir.path().to_owned()),
            ..ResolverConfig::default()
        };
        let reader = FileReader::new(&config).expect("reader");
        let file = FileRef::new(RepoId::new("O", "R"), "b".repeat(40), "action.yml");
        assert_eq!(reader.read(&file), Err(FetchError::NotCached));
        let parts = clean_path(&file.path).expect("clean");
        let path = reader.cache_path(&file, &parts).expect("path");
        assert!(path.ends_with(format!("github.com/o__r/{}/action.yml", "b".repeat(40))));
        store(&path, b"name: x\n").expect("store");
        let other = FileReader::new(&config).expect("reader");
        assert_eq!(
            other.read(&file).ok().flatten().as_deref(),
            Some("name: x\n")
        );
        assert_eq!(other.requests(), 0);
    }

    #[test]
    fn recorded_folder_is_read_case_insensitively() {
        let dir = tempfile::tempdir().expect("tempdir");
        let action = dir.path().join("actions/Some__Action/sub");
        fs::create_dir_all(&action).expect("mkdir");
        fs::write(action.join("action.yml"), "runs: {using: node20}\n").expect("write");
        let config = ResolverConfig {
            recorded: Some(dir.path().to_owned()),
            ..ResolverConfig::default()
        };
        let reader = FileReader::new(&config).expect("reader");
        let file = FileRef::new(RepoId::new("some", "action"), "v1", "sub/action.yml");
        assert!(reader.read(&file).ok().flatten().is_some());
        let missing = FileRef::new(RepoId::new("some", "action"), "v1", "action.yml");
        assert_eq!(reader.read(&missing), Ok(None));
        assert_eq!(reader.requests(), 0);
    }
}
