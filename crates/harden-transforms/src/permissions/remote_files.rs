//! Where the permissions analysis reads files of other repositories (remote actions' `action.yml`,
//! remote reusable workflows): the [`RemoteFiles`] trait, and [`GithubFiles`], which resolves a
//! ref with the [`Resolver`] and reads the file at that commit with the [`FileReader`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use harden_github::{is_full_sha, FileReader, FileRef, RepoId, Resolver};

/// A file of another repository at a ref, as a workflow names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemoteFile {
    /// The repository.
    pub repo: RepoId,
    /// The ref as written (tag, branch or commit SHA); empty for the default branch.
    pub git_ref: String,
    /// The path in the repository (`action.yml`, `sub/action.yml`,
    /// `.github/workflows/x.yml`).
    pub path: String,
}

/// What reading a [`RemoteFile`] gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteRead {
    /// The file's text, at this commit.
    Found {
        /// The text.
        text: Arc<str>,
        /// The commit the ref resolved to (the ref itself when it could not be resolved).
        commit: String,
    },
    /// The repository has no such file at that commit.
    Missing,
    /// The file could not be read; the text says why.
    Failed(String),
}

/// Reads files of other repositories for the permissions analysis.
pub trait RemoteFiles: Send + Sync + fmt::Debug {
    /// Reads these files (resolving their refs), as concurrently as it can, and remembers the
    /// answers.
    fn fetch(&self, wanted: &[RemoteFile]);
    /// The answer for a file fetched before; `None` if it was not.
    fn get(&self, file: &RemoteFile) -> Option<RemoteRead>;
    /// The repository `owner/repo`'s default token permissions as its settings give them
    /// (`read` or `write`), when they can be read; `None` by default.
    fn default_workflow_permissions(&self, _repo: &RepoId) -> Option<String> {
        None
    }
}

/// [`RemoteFiles`] over GitHub (or the recorded folder of the [`FileReader`]).
pub struct GithubFiles {
    resolver: Arc<Resolver>,
    reader: Arc<FileReader>,
    answers: Mutex<HashMap<RemoteFile, RemoteRead>>,
}

impl fmt::Debug for GithubFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubFiles")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GithubFiles {
    /// Reads with `reader`, resolving refs with `resolver` (the same one pin-actions uses, so
    /// refs are fetched once per run).
    pub fn new(resolver: Arc<Resolver>, reader: Arc<FileReader>) -> Self {
        GithubFiles {
            resolver,
            reader,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// The commit `file.git_ref` names, or why it cannot be told.
    fn commit(&self, file: &RemoteFile) -> Result<String, String> {
        if is_full_sha(&file.git_ref) {
            return Ok(file.git_ref.to_ascii_lowercase());
        }
        if self.reader.is_recorded() {
            // The recorded folder holds one version for every ref: nothing to resolve.
            return Err("recorded".to_owned());
        }
        let refs = self.resolver.fetch(&file.repo).map_err(|e| e.to_string())?;
        let name = if file.git_ref.is_empty() {
            refs.default_branch
                .clone()
                .ok_or_else(|| "the repository has no default branch".to_owned())?
        } else {
            file.git_ref.clone()
        };
        refs.resolve(&name)
            .map(|r| r.sha)
            .map_err(|e| e.to_string())
    }
}

impl RemoteFiles for GithubFiles {
    fn default_workflow_permissions(&self, repo: &RepoId) -> Option<String> {
        self.reader
            .default_workflow_permissions(repo)
            .ok()
            .flatten()
    }

    fn fetch(&self, wanted: &[RemoteFile]) {
        let wanted: Vec<&RemoteFile> = {
            let answers = lock(&self.answers);
            let unique: BTreeSet<&RemoteFile> =
                wanted.iter().filter(|f| !answers.contains_key(f)).collect();
            unique.into_iter().collect()
        };
        // Refs first (one request per repository, concurrently), then the files.
        let repos: Vec<RepoId> = wanted
            .iter()
            .filter(|f| !is_full_sha(&f.git_ref))
            .map(|f| f.repo.clone())
            .collect();
        if !repos.is_empty() && !self.reader.is_recorded() {
            let _ = self.resolver.fetch_all(&repos);
        }
        let mut reads = Vec::new();
        let mut answers = HashMap::new();
        for file in wanted {
            match self.commit(file) {
                Ok(commit) => {
                    reads.push((file, FileRef::new(file.repo.clone(), commit, &file.path)))
                }
                // The recorded folder holds one version for every ref.
                Err(_) if self.reader.is_recorded() => reads.push((
                    file,
                    FileRef::new(file.repo.clone(), file.git_ref.clone(), &file.path),
                )),
                Err(e) => {
                    answers.insert(file.clone(), RemoteRead::Failed(e));
                }
            }
        }
        let refs: Vec<FileRef> = reads.iter().map(|(_, r)| r.clone()).collect();
        let results = self.reader.read_all(&refs);
        for (file, fref) in reads {
            let answer = match results.get(&fref) {
                Some(Ok(Some(text))) => RemoteRead::Found {
                    text: Arc::clone(text),
                    commit: fref.commit.clone(),
                },
                Some(Ok(None)) => RemoteRead::Missing,
                Some(Err(e)) => RemoteRead::Failed(e.to_string()),
                None => RemoteRead::Failed("not read".to_owned()),
            };
            answers.insert(file.clone(), answer);
        }
        lock(&self.answers).extend(answers);
    }

    fn get(&self, file: &RemoteFile) -> Option<RemoteRead> {
        lock(&self.answers).get(file).cloned()
    }
}

/// [`RemoteFiles`] from a map held in memory (tests, and callers that read files their own way).
#[derive(Debug, Default)]
pub struct MemoryFiles {
    files: HashMap<(String, String), Arc<str>>,
}

impl MemoryFiles {
    /// No files.
    pub fn new() -> Self {
        MemoryFiles::default()
    }

    /// Adds a file of `repo` (`owner/repo`) at any ref.
    pub fn with(mut self, repo: &str, path: &str, text: &str) -> Self {
        self.files.insert(
            (repo.to_ascii_lowercase(), path.to_owned()),
            Arc::from(text),
        );
        self
    }
}

impl RemoteFiles for MemoryFiles {
    fn fetch(&self, _wanted: &[RemoteFile]) {}

    fn get(&self, file: &RemoteFile) -> Option<RemoteRead> {
        let key = (file.repo.key(), file.path.clone());
        Some(match self.files.get(&key) {
            Some(text) => RemoteRead::Found {
                text: Arc::clone(text),
                commit: if file.git_ref.is_empty() {
                    "HEAD".to_owned()
                } else {
                    file.git_ref.clone()
                },
            },
            None => RemoteRead::Missing,
        })
    }
}
