//! Seed inputs: the project's `testdata/`, the real-world workflows of `../shared/corpus/`,
//! the recorded refs of `../shared/refs/`, and server answers generated from those refs.

use std::fs;
use std::path::{Path, PathBuf};

use harden_testserver::{load_refs_dir, RecordedRepo};

use crate::mutate::MAX_INPUT;

/// The workspace's `testdata/` folder.
pub fn testdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// `testdata/faults/`: minimized inputs of every finding, replayed as regression tests.
pub fn faults_dir() -> PathBuf {
    testdata_dir().join("faults")
}

/// The shared real-world corpus beside the repository (`../shared/corpus`).
pub fn shared_corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

/// What a YAML seed is, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlKind {
    /// Under `.github/workflows/`.
    Workflow,
    /// `action.yml` / `action.yaml`.
    Action,
    /// `dependabot.yml` / `dependabot.yaml`.
    Dependabot,
    /// Anything else (test fixtures).
    Other,
}

/// Every seed, loaded once per run.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    /// YAML files with their kind.
    pub yaml: Vec<(YamlKind, Vec<u8>)>,
    /// Recorded refs of real repositories.
    pub repos: Vec<RecordedRepo>,
    /// Where the seeds came from, for the report.
    pub sources: Vec<PathBuf>,
}

/// A few inputs that are always there, even without any folder.
const BUILTIN_YAML: &[&str] = &[
    "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4 # keep\n      - uses: 'actions/setup-node@v4'\n      - run: echo hi\n",
    "on: [push]\njobs:\n  a: {runs-on: x, steps: [{uses: actions/checkout@v4}, {uses: \"actions/cache@v4\"}]}\n",
    "x: &a {uses: actions/checkout@v4}\njobs:\n  j:\n    steps:\n      - *a\n      - <<: *a\n        name: n\n",
    "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n",
    "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@v4\n      with:\n        fetch-depth: 0\n",
    "\u{feff}on:\r\n  push:\r\njobs:\r\n  a:\r\n    steps:\r\n      - uses: actions/checkout@v4\r\n",
];

impl Corpus {
    /// Loads the default folders: `testdata/`, `../shared/corpus/` and the recorded refs.
    pub fn load_default() -> Corpus {
        let mut dirs = vec![testdata_dir()];
        let shared = shared_corpus_dir();
        if shared.is_dir() {
            dirs.push(shared);
        }
        Corpus::load(&dirs, &harden_testserver::default_refs_dir())
    }

    /// Loads every `*.yml`/`*.yaml` under `dirs` (symbolic links are not followed) and the
    /// recorded refs of `refs_dir`. Missing folders are skipped.
    pub fn load(dirs: &[PathBuf], refs_dir: &Path) -> Corpus {
        let mut corpus = Corpus::default();
        for dir in dirs {
            let mut files = Vec::new();
            collect_yaml(dir, &mut files);
            files.sort();
            if !files.is_empty() {
                corpus.sources.push(dir.clone());
            }
            for path in files {
                if let Ok(bytes) = fs::read(&path) {
                    if bytes.len() <= MAX_INPUT {
                        corpus.yaml.push((kind_of(&path), bytes));
                    }
                }
            }
        }
        for text in BUILTIN_YAML {
            let kind = if text.starts_with("version: 2") {
                YamlKind::Dependabot
            } else if text.starts_with("runs:") {
                YamlKind::Action
            } else {
                YamlKind::Workflow
            };
            corpus.yaml.push((kind, text.as_bytes().to_vec()));
        }
        if let Ok(repos) = load_refs_dir(refs_dir) {
            corpus.sources.push(refs_dir.to_path_buf());
            corpus.repos = repos.into_values().collect();
        }
        corpus
    }

    /// The YAML seeds of one kind (all of them for `None`).
    pub fn yaml_of(&self, kind: Option<YamlKind>) -> Vec<Vec<u8>> {
        self.yaml
            .iter()
            .filter(|(k, _)| kind.is_none_or(|want| *k == want))
            .map(|(_, b)| b.clone())
            .collect()
    }
}

fn kind_of(path: &Path) -> YamlKind {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let text = path.to_string_lossy().replace('\\', "/");
    if matches!(name, "action.yml" | "action.yaml") {
        YamlKind::Action
    } else if matches!(name, "dependabot.yml" | "dependabot.yaml") {
        YamlKind::Dependabot
    } else if text.contains(".github/workflows/") || text.contains("starter-workflows/") {
        YamlKind::Workflow
    } else {
        YamlKind::Other
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                // `testdata/faults/` holds crash inputs, replayed by the regression tests.
                if entry.file_name() != "faults" {
                    todo.push(path);
                }
            } else if kind.is_file() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(".yml") || name.ends_with(".yaml") {
                    out.push(path);
                }
            }
        }
    }
}

/// Appends one pkt-line data packet.
pub fn pkt(out: &mut Vec<u8>, payload: &str) {
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload.as_bytes());
}

/// The protocol v2 `ls-refs` answer a git server gives for `repo`.
pub fn ls_refs_body(repo: &RecordedRepo) -> Vec<u8> {
    let mut out = Vec::new();
    if let (Some(head), Some(branch)) = (repo.head_commit(), &repo.default_branch) {
        pkt(
            &mut out,
            &format!("{head} HEAD symref-target:refs/heads/{branch}\n"),
        );
    }
    for r in repo.advertised_refs() {
        match &r.peeled {
            Some(p) => pkt(&mut out, &format!("{} {} peeled:{p}\n", r.oid, r.name)),
            None => pkt(&mut out, &format!("{} {}\n", r.oid, r.name)),
        }
    }
    out.extend_from_slice(b"0000");
    out
}

/// The protocol v0 advertisement (`info/refs?service=git-upload-pack`) for `repo`.
pub fn v0_body(repo: &RecordedRepo) -> Vec<u8> {
    let mut out = Vec::new();
    pkt(&mut out, "# service=git-upload-pack\n");
    out.extend_from_slice(b"0000");
    let mut first = true;
    let caps = repo
        .default_branch
        .as_ref()
        .map(|b| format!("multi_ack symref=HEAD:refs/heads/{b} agent=git/2"))
        .unwrap_or_default();
    if let Some(head) = repo.head_commit() {
        pkt(&mut out, &format!("{head} HEAD\0{caps}\n"));
        first = false;
    }
    for r in repo.advertised_refs() {
        if first {
            pkt(&mut out, &format!("{} {}\0{caps}\n", r.oid, r.name));
            first = false;
        } else {
            pkt(&mut out, &format!("{} {}\n", r.oid, r.name));
        }
        if let Some(p) = &r.peeled {
            pkt(&mut out, &format!("{p} {}^{{}}\n", r.name));
        }
    }
    out.extend_from_slice(b"0000");
    out
}

/// The REST answers for `repo`: `(repository, matching-refs/tags, tags listing, branches)`,
/// plus each annotated tag object by its SHA.
pub struct RestBodies {
    /// `GET /repos/{o}/{r}`.
    pub repo: Vec<u8>,
    /// `GET /repos/{o}/{r}/git/matching-refs/tags/`.
    pub tag_refs: Vec<u8>,
    /// `GET /repos/{o}/{r}/tags`.
    pub tags: Vec<u8>,
    /// `GET /repos/{o}/{r}/branches`.
    pub branches: Vec<u8>,
    /// `GET /repos/{o}/{r}/git/tags/{sha}`, one example.
    pub tag_object: Vec<u8>,
}

/// REST answers generated from recorded refs.
pub fn rest_bodies(repo: &RecordedRepo) -> RestBodies {
    use serde_json::{json, Value};
    let info = json!({
        "full_name": repo.full_name,
        "default_branch": repo.default_branch,
    });
    let mut refs = Vec::new();
    let mut listing = Vec::new();
    let mut tag_object = json!({"object": {"sha": "0".repeat(40), "type": "commit"}});
    for (name, tag) in &repo.tags {
        let (sha, kind) = match &tag.tag_object {
            Some(object) => {
                tag_object =
                    json!({"sha": object, "object": {"sha": tag.commit, "type": "commit"}});
                (object.clone(), "tag")
            }
            None => (tag.commit.clone(), "commit"),
        };
        refs.push(
            json!({"ref": format!("refs/tags/{name}"), "object": {"sha": sha, "type": kind}}),
        );
        listing.push(json!({"name": name, "commit": {"sha": tag.commit}}));
    }
    let branches: Vec<Value> = repo
        .branches
        .iter()
        .map(|(name, sha)| json!({"name": name, "commit": {"sha": sha}}))
        .collect();
    let bytes = |v: &Value| serde_json::to_vec(v).unwrap_or_default();
    RestBodies {
        repo: bytes(&info),
        tag_refs: bytes(&Value::Array(refs)),
        tags: bytes(&Value::Array(listing)),
        branches: bytes(&Value::Array(branches)),
        tag_object: bytes(&tag_object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_corpus_has_every_kind() {
        let corpus = Corpus::load_default();
        assert!(!corpus.yaml_of(Some(YamlKind::Workflow)).is_empty());
        assert!(!corpus.yaml_of(Some(YamlKind::Action)).is_empty());
        assert!(!corpus.yaml_of(Some(YamlKind::Dependabot)).is_empty());
    }

    #[test]
    fn generated_bodies_are_framed() {
        let repo = RecordedRepo::new("a/b")
            .with_tag("v1", &"1".repeat(40))
            .with_annotated_tag("v2", &"2".repeat(40), &"3".repeat(40))
            .with_branch("main", &"4".repeat(40));
        for body in [ls_refs_body(&repo), v0_body(&repo)] {
            let mut reader = harden_github::pktline::PktReader::new(&body);
            let mut n = 0;
            while let Ok(Some(_)) = reader.next_packet() {
                n += 1;
            }
            assert!(
                reader.is_empty() && n >= 3,
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        let rest = rest_bodies(&repo);
        let v: serde_json::Value = serde_json::from_slice(&rest.tag_refs).expect("json");
        assert_eq!(v.as_array().map(Vec::len), Some(2));
    }
}
