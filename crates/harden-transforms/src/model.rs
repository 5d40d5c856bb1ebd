//! The typed model every transform reads a workflow or action through: [`Uses`] (what a
//! `uses:` value names), the `uses:` sites of a file, and [`Workflow`] / [`Job`] / [`Step`]
//! views over the lossless [`Document`].
//!
//! The views borrow the document's nodes, so a transform still edits by path and span; they
//! read through aliases and merge keys by the one rule of [`harden_yaml::Lookup`]. One parser
//! for `uses:` means that pin-actions, pin-images, permissions, checkout-credentials,
//! transitive pins and the audit agree on what a value names (see `docs/design.md`, "The
//! workflow model").

use harden_github::RepoId;
use harden_yaml::{Document, Lookup, Node, NodeKind, Path};

use crate::FileKind;

/// What a `uses:` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uses<'a> {
    /// `owner/repo[/path]@ref`: an action in another repository.
    Action(RemoteUses<'a>),
    /// `owner/repo/path/file.yml@ref`: a reusable workflow in another repository (a job's
    /// `uses:`).
    Workflow(RemoteUses<'a>),
    /// `./path` (or `../`, `.`): an action or workflow of the checked-out repository; the path
    /// as written, without a trailing `/`.
    Local(&'a str),
    /// `$/path`: an action or reusable workflow of the same repository at the running commit
    /// (inherently pinned; GitHub rejects an `@ref` on it). The path after `$/`.
    SelfRepository(&'a str),
    /// `docker://image`: a container image; the image after the scheme.
    Docker(&'a str),
    /// A `${{ }}` expression chooses what runs.
    Expression,
    /// `owner/repo[/path]` with no `@ref`.
    MissingRef,
    /// Not `owner/repo[/path]@ref`: why.
    Malformed(String),
}

/// A reference to another repository's action or workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUses<'a> {
    /// `owner/repo[/path]` as written.
    pub action: &'a str,
    /// The repository to resolve against.
    pub repo: RepoId,
    /// The folder of the action or the workflow's file, when there is one.
    pub path: Option<&'a str>,
    /// The ref after `@`.
    pub git_ref: &'a str,
}

impl<'a> Uses<'a> {
    /// Reads a `uses:` value (blanks around it are ignored). Prefixes decide first (`./`,
    /// `$/`, `docker://`), then an expression anywhere, then `owner/repo[/path]@ref`.
    pub fn parse(value: &'a str) -> Uses<'a> {
        let value = value.trim();
        if value.starts_with("./") || value.starts_with("../") || value == "." {
            return Uses::Local(name(value));
        }
        if let Some(rest) = value.strip_prefix("$/") {
            return Uses::SelfRepository(name(rest));
        }
        if let Some(image) = value.strip_prefix("docker://") {
            return Uses::Docker(image);
        }
        if value.contains("${{") {
            return Uses::Expression;
        }
        let (action, git_ref) = value.split_once('@').unwrap_or((value, ""));
        let (repo, path) = match RepoId::split_action(action) {
            Ok(split) => split,
            Err(e) => return Uses::Malformed(e.to_string()),
        };
        if git_ref.is_empty() {
            return Uses::MissingRef;
        }
        let remote = RemoteUses {
            action,
            repo,
            path,
            git_ref,
        };
        if path.is_some_and(|p| p.ends_with(".yml") || p.ends_with(".yaml")) {
            Uses::Workflow(remote)
        } else {
            Uses::Action(remote)
        }
    }

    /// The remote action or workflow, when the value names one.
    pub fn remote(&self) -> Option<&RemoteUses<'a>> {
        match self {
            Uses::Action(r) | Uses::Workflow(r) => Some(r),
            _ => None,
        }
    }
}

/// The part of a `uses:` value before `@`, trimmed, without a trailing `/`
/// (`actions/checkout`, `./.github/actions/x`): a name to show or to look up.
pub fn name(value: &str) -> &str {
    value
        .split('@')
        .next()
        .unwrap_or(value)
        .trim()
        .trim_end_matches('/')
}

/// [`name`] lower-cased: the key to compare actions by (`actions/checkout`).
pub fn name_key(value: &str) -> String {
    name(value).to_ascii_lowercase()
}

/// A same-repository reference (`$/path`) read as the local one it is (`./path`: both are
/// relative to the repository root); any other value as it is.
pub fn self_repository_as_local(value: &str) -> std::borrow::Cow<'_, str> {
    match value.trim().strip_prefix("$/") {
        Some(rest) => std::borrow::Cow::Owned(format!("./{rest}")),
        None => std::borrow::Cow::Borrowed(value),
    }
}

/// The query patterns of a file kind's `uses:` sites.
pub(crate) fn site_patterns(kind: FileKind) -> &'static [&'static str] {
    match kind {
        FileKind::Workflow => &["jobs.*.steps[*].uses", "jobs.*.uses"],
        FileKind::Action => &["runs.steps[*].uses"],
        FileKind::Dependabot | FileKind::Text => &[],
    }
}

/// Every `uses:` scalar of a workflow (step actions and reusable workflow calls) or of a
/// composite action's steps, in file order, as written (aliases are not followed: the value
/// is edited where it stands).
pub fn uses_sites(kind: FileKind, doc: &Document) -> Vec<(Path, &Node)> {
    let mut sites: Vec<(Path, &Node)> = site_patterns(kind)
        .iter()
        .flat_map(|p| doc.query(p))
        .filter(|(_, node)| node.as_scalar().is_some())
        .collect();
    sites.sort_by_key(|(_, node)| node.span.start);
    sites
}

/// The `uses:` values of a file whose kind is not known (a fetched action or workflow): the
/// sites of a workflow and of a composite action, with their lines, in file order.
pub fn any_uses(doc: &Document) -> Vec<(&str, usize)> {
    let mut sites = uses_sites(FileKind::Workflow, doc);
    sites.extend(uses_sites(FileKind::Action, doc));
    sites.sort_by_key(|(_, node)| node.span.start);
    sites
        .into_iter()
        .filter_map(|(_, node)| node.as_str().map(|s| (s, node.line)))
        .collect()
}

/// A workflow file (its jobs) or an action file (its `runs:`), read through aliases and merge
/// keys: every transform walks jobs and steps, and reads their keys, through this one view.
pub struct Workflow<'d> {
    doc: &'d Document,
    lookup: Lookup<'d>,
}

/// One job of a workflow.
pub struct Job<'d> {
    /// The job's id (its key under `jobs:`).
    pub id: &'d str,
    /// The key node (for its line).
    pub key: &'d Node,
    /// The job's value as written (an alias stays an alias).
    pub written: &'d Node,
    /// The job's mapping, aliases resolved.
    pub node: &'d Node,
    /// `jobs.<id>`.
    pub path: Path,
}

/// One step of a job.
pub struct Step<'d> {
    /// The step's mapping, aliases resolved.
    pub node: &'d Node,
    /// `jobs.<id>.steps[<i>]`.
    pub path: Path,
    /// The step is written at `path` itself (not reached through an alias or a merge key), so
    /// an edit at `path` changes this step only.
    pub editable: bool,
}

impl<'d> Workflow<'d> {
    /// The workflow model of `doc`.
    pub fn new(doc: &'d Document) -> Self {
        Workflow {
            doc,
            lookup: Lookup::of(doc),
        }
    }

    /// The reader the model uses, for keys it does not name.
    pub fn lookup(&self) -> &Lookup<'d> {
        &self.lookup
    }

    /// The jobs, in file order (a `jobs:` that is no mapping has none).
    pub fn jobs(&self) -> Vec<Job<'d>> {
        let Some(jobs) = self
            .doc
            .root()
            .and_then(|r| self.lookup.get(r, "jobs"))
            .and_then(Node::as_mapping)
        else {
            return Vec::new();
        };
        jobs.entries
            .iter()
            .filter_map(|e| {
                // A merge key under `jobs:` is no job (GitHub rejects merge keys).
                let id = e.key_str().filter(|k| *k != "<<")?;
                Some(Job {
                    id,
                    key: &e.key,
                    written: &e.value,
                    node: self.lookup.resolve(&e.value),
                    path: Path::root(0).key("jobs").key(id),
                })
            })
            .collect()
    }

    /// The steps of `job` (none for a job that calls a reusable workflow).
    pub fn steps(&self, job: &Job<'d>) -> Vec<Step<'d>> {
        let steps = job.path.key("steps");
        // Editable only where the job itself stands at its path (not under an aliased `jobs:`).
        let in_place = self
            .doc
            .get(&job.path)
            .is_some_and(|n| std::ptr::eq(n, job.written));
        let written = in_place
            .then_some(job.written)
            .and_then(Node::as_mapping)
            .and_then(|m| m.get("steps"))
            .and_then(|e| e.value.as_sequence());
        self.lookup
            .items(self.lookup.get(job.node, "steps"))
            .into_iter()
            .enumerate()
            .map(|(i, node)| Step {
                node,
                path: steps.index(i),
                editable: written
                    .and_then(|s| s.items.get(i))
                    .is_some_and(|w| std::ptr::eq(w, node)),
            })
            .collect()
    }

    /// The scalar value of `key` in a job's or step's mapping.
    pub fn str(&self, node: &'d Node, key: &str) -> Option<&'d str> {
        self.lookup.str(node, key)
    }

    /// What the `uses:` of a job or step names, when it has one.
    pub fn uses(&self, node: &'d Node) -> Option<Uses<'d>> {
        self.str(node, "uses").map(Uses::parse)
    }

    /// The document the model reads.
    pub fn document(&self) -> &'d Document {
        self.doc
    }

    /// The root mapping of the file, aliases resolved.
    pub fn root(&self) -> Option<&'d Node> {
        self.doc.root().map(|r| self.lookup.resolve(r))
    }

    /// The text of a node as written (for expressions and flow values read as text).
    pub fn raw(&self, node: &Node) -> &'d str {
        self.doc.text().get(node.span.range()).unwrap_or_default()
    }

    /// The node itself, or the anchored node an alias stands for ([`Lookup::resolve`]).
    pub fn resolve(&self, node: &'d Node) -> &'d Node {
        self.lookup.resolve(node)
    }

    /// The value of `key` in a mapping ([`Lookup::get`]), for keys the model does not name.
    pub fn get(&self, node: &'d Node, key: &str) -> Option<&'d Node> {
        self.lookup.get(node, key)
    }

    /// The entries of a mapping, merged keys included ([`Lookup::entries`]).
    pub fn entries(&self, node: Option<&'d Node>) -> Vec<(&'d str, &'d Node)> {
        self.lookup.entries(node)
    }

    /// The items of a sequence, resolved ([`Lookup::items`]).
    pub fn items(&self, node: Option<&'d Node>) -> Vec<&'d Node> {
        self.lookup.items(node)
    }

    /// The `env:` of the workflow (its root), a job or a step.
    pub fn env(&self, node: &'d Node) -> Option<&'d Node> {
        self.get(node, "env")
    }

    /// The `permissions:` of the workflow (its root) or a job.
    pub fn permissions(&self, node: &'d Node) -> Option<&'d Node> {
        self.get(node, "permissions")
    }

    /// The `with:` inputs of a step, or of a job that calls a reusable workflow.
    pub fn with(&self, node: &'d Node) -> Vec<(&'d str, &'d Node)> {
        self.entries(self.get(node, "with"))
    }

    /// The `secrets:` a job passes to the reusable workflow it calls (`inherit` or a mapping).
    pub fn secrets(&self, job: &'d Node) -> Option<&'d Node> {
        self.get(job, "secrets")
    }

    /// The `if:` of a job or step.
    pub fn condition(&self, node: &'d Node) -> Option<&'d Node> {
        self.get(node, "if")
    }

    /// The `runs-on:` of a job.
    pub fn runs_on(&self, job: &'d Node) -> Option<&'d Node> {
        self.get(job, "runs-on")
    }

    /// The script of a `run:` step.
    pub fn run(&self, step: &'d Node) -> Option<&'d str> {
        self.str(step, "run")
    }

    /// The `shell:` of a `run:` step.
    pub fn shell(&self, step: &'d Node) -> Option<&'d str> {
        self.str(step, "shell")
    }

    /// The step mappings of a job, or of an action's `runs:` (a composite action), aliases
    /// resolved, in order; an item that is no mapping is skipped.
    pub fn step_nodes(&self, owner: &'d Node) -> Vec<&'d Node> {
        self.items(self.get(owner, "steps"))
            .into_iter()
            .filter(|s| s.as_mapping().is_some())
            .collect()
    }

    /// The `runs:` of an action file.
    pub fn runs(&self) -> Option<&'d Node> {
        self.root().and_then(|r| self.get(r, "runs"))
    }

    /// What an action's `runs:` runs with (`composite`, `node20`, `docker`), lower-cased;
    /// empty when it does not say.
    pub fn using(&self, runs: &'d Node) -> String {
        self.str(runs, "using")
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

impl Job<'_> {
    /// True when the job is an alias of another job's mapping (`job: *base`).
    pub fn is_alias(&self) -> bool {
        matches!(self.written.kind, NodeKind::Alias(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_uses() {
        fn remote(v: &str) -> Option<(&str, &str)> {
            Uses::parse(v).remote().map(|r| (r.action, r.git_ref))
        }
        assert_eq!(
            remote("actions/checkout@v4"),
            Some(("actions/checkout", "v4"))
        );
        assert!(matches!(
            Uses::parse("o/r/.github/workflows/x.yml@main"),
            Uses::Workflow(_)
        ));
        assert!(matches!(
            Uses::parse("github/codeql-action/init@v3"),
            Uses::Action(RemoteUses {
                path: Some("init"),
                ..
            })
        ));
        assert_eq!(
            Uses::parse(" ./.github/actions/x/ "),
            Uses::Local("./.github/actions/x")
        );
        assert_eq!(
            Uses::parse("$/actions/x"),
            Uses::SelfRepository("actions/x")
        );
        assert_eq!(Uses::parse("docker://alpine:3"), Uses::Docker("alpine:3"));
        assert_eq!(Uses::parse("${{ matrix.a }}@v1"), Uses::Expression);
        assert_eq!(Uses::parse("actions/checkout"), Uses::MissingRef);
        assert!(matches!(Uses::parse("checkout@v4"), Uses::Malformed(_)));
        assert_eq!(name(" actions/checkout/@v4"), "actions/checkout");
        assert_eq!(self_repository_as_local("$/a/b"), "./a/b");
    }

    #[test]
    fn action_files_and_named_keys() {
        let doc = Document::parse(
            "runs:\n  using: Composite\n  steps:\n    - &s\n      run: make\n      shell: bash\n      env: {A: b}\n    - plain\n    - <<: *s\n      if: always()\n",
        )
        .expect("parses");
        let action = Workflow::new(&doc);
        let runs = action.runs().expect("runs");
        assert_eq!(action.using(runs), "composite");
        let steps = action.step_nodes(runs);
        assert_eq!(steps.len(), 2);
        assert_eq!(action.run(steps[1]), Some("make"));
        assert_eq!(action.shell(steps[1]), Some("bash"));
        assert_eq!(action.entries(action.env(steps[1])).len(), 1);
        assert!(action.condition(steps[1]).is_some() && action.condition(steps[0]).is_none());
        assert!(action.jobs().is_empty());
    }

    #[test]
    fn jobs_and_steps_read_through_aliases() {
        let doc = Document::parse(
            "jobs:\n  a: &a\n    steps:\n      - uses: actions/checkout@v4\n  b: *a\n  c:\n    uses: o/r/.github/workflows/w.yml@v1\n",
        )
        .expect("parses");
        let wf = Workflow::new(&doc);
        let jobs = wf.jobs();
        assert_eq!(
            jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert!(jobs[1].is_alias() && !jobs[0].is_alias());
        let steps = wf.steps(&jobs[1]);
        assert_eq!(steps.len(), 1);
        assert!(!steps[0].editable && wf.steps(&jobs[0])[0].editable);
        assert!(matches!(wf.uses(steps[0].node), Some(Uses::Action(_))));
        assert!(matches!(wf.uses(jobs[2].node), Some(Uses::Workflow(_))));
        assert_eq!(
            any_uses(&doc),
            [
                ("actions/checkout@v4", 4),
                ("o/r/.github/workflows/w.yml@v1", 7)
            ]
        );
    }
}
