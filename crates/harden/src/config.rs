//! The optional configuration file `.github/harden.yml`: settings a repository keeps with its
//! code, so every maintainer and the pre-commit hook run harden the same way. Command-line flags
//! override it. Unknown keys are errors with file:line, so a typo never goes unnoticed.
//!
//! ```yaml
//! pin-actions:
//!   exempt: [my-org/*]          # never pinned
//!   branches: keep              # pin | keep
//!   comment-spacing: 2          # blanks before `#`
//!   tag-only: [my-org/attest/*] # kept on their tag, besides the built-in list
//!   pin-anyway: []              # built-in tag-only entries to pin anyway
//! pin-images:
//!   exempt: [my.registry.example/*]  # images never pinned
//! permissions:
//!   jobs:                       # settle jobs harden cannot infer
//!     release.yml:
//!       publish: {contents: write, id-token: write}
//! dependabot:
//!   schedule: weekly            # daily | weekly | monthly
//!   cooldown: 7                 # days; 0 for none
//!   group: true
//!   ignore-major: false
//!   ecosystems: [github-actions]
//! sign-releases:
//!   enabled: true               # run the opt-in sign-releases transform
//! commit:                       # --commit and --patch-dir
//!   signoff: true               # add `Signed-off-by:` (DCO)
//!   subject: "ci: {summary}"    # subject line template
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harden_transforms::permissions::{self, Scope};
use harden_transforms::{dependabot, pin_actions, pin_images, registry};
use harden_yaml::{Document, Node, NodeKind};

/// Settings read from `.github/harden.yml`; `None` where the file says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Config {
    /// pin-actions: globs of actions never pinned.
    pub exempt: Vec<String>,
    /// pin-actions: `pin` or `keep`.
    pub branches: Option<String>,
    /// pin-actions: blanks before a new `#`.
    pub comment_spacing: Option<usize>,
    /// pin-images: globs of images never pinned.
    pub image_exempt: Vec<String>,
    /// pin-actions: globs of callees kept on their tag, besides the built-in list.
    pub tag_only: Vec<String>,
    /// pin-actions: globs of built-in tag-only entries to pin anyway.
    pub pin_anyway: Vec<String>,
    /// permissions: workflow file name -> job id -> scope -> access.
    pub declared: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// permissions: where each declared workflow (job `""`) and job is written (line, column).
    pub declared_at: BTreeMap<(String, String), (usize, usize)>,
    /// dependabot: schedule interval.
    pub schedule: Option<String>,
    /// dependabot: cooldown days.
    pub cooldown: Option<u32>,
    /// dependabot: group updates.
    pub group: Option<bool>,
    /// dependabot: ignore major updates.
    pub ignore_major: Option<bool>,
    /// dependabot: ecosystems to configure.
    pub ecosystems: Option<Vec<String>>,
    /// commit: add a `Signed-off-by:` trailer.
    pub signoff: Option<bool>,
    /// commit: subject line template (`{transform}`, `{summary}`).
    pub subject: Option<String>,
    /// Opt-in transforms (registry) by name: `<name>: {enabled: true}` runs one without
    /// `--only`.
    pub enabled: BTreeMap<String, bool>,
}

impl Config {
    /// True when the file enables the opt-in transform `name`.
    pub(crate) fn enabled(&self, name: &str) -> bool {
        self.enabled.get(name) == Some(&true)
    }
}

/// A problem in the configuration file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// The configuration file of the repository at `root`, if there is one.
pub(crate) fn config_path(root: &Path) -> Option<PathBuf> {
    ["harden.yml", "harden.yaml"]
        .iter()
        .map(|n| root.join(".github").join(n))
        .find(|p| p.is_file())
}

/// Reads `.github/harden.yml` under `root`; no file gives the default (empty) configuration.
pub(crate) fn load(root: &Path) -> Result<Config, ConfigError> {
    let Some(path) = config_path(root) else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
        path: path.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read the configuration: {e}"),
    })?;
    parse(&path, &text)
}

struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn error(&self, node: &Node, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: node.line,
            column: node.column,
            message: message.into(),
        }
    }

    fn entries<'d>(
        &self,
        node: &'d Node,
        what: &str,
    ) -> Result<Vec<(&'d Node, &'d Node)>, ConfigError> {
        match &node.kind {
            NodeKind::Mapping(m) => Ok(m.entries.iter().map(|e| (&e.key, &e.value)).collect()),
            _ if node.is_empty_scalar() => Ok(Vec::new()),
            _ => Err(self.error(node, format!("`{what}` must be a mapping"))),
        }
    }

    fn string(&self, node: &Node, what: &str) -> Result<String, ConfigError> {
        node.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.error(node, format!("`{what}` must be a single value")))
    }

    fn list(&self, node: &Node, what: &str) -> Result<Vec<String>, ConfigError> {
        match &node.kind {
            NodeKind::Sequence(s) => s.items.iter().map(|i| self.string(i, what)).collect(),
            NodeKind::Scalar(_) => Ok(vec![self.string(node, what)?]),
            _ => Err(self.error(node, format!("`{what}` must be a list"))),
        }
    }

    fn number(&self, node: &Node, what: &str) -> Result<u32, ConfigError> {
        self.string(node, what)?
            .parse()
            .map_err(|_| self.error(node, format!("`{what}` must be a whole number")))
    }

    fn boolean(&self, node: &Node, what: &str) -> Result<bool, ConfigError> {
        match self.string(node, what)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.error(node, format!("`{what}` must be true or false"))),
        }
    }

    fn unknown(&self, key: &Node, section: &str, valid: &[&str]) -> ConfigError {
        self.error(
            key,
            format!(
                "unknown key `{}` in {section}; valid keys: {}",
                key.as_str().unwrap_or("?"),
                valid.join(", ")
            ),
        )
    }
}

/// Declarations of `permissions.jobs` that name no workflow of the repository, or no job of
/// the workflows they name: (line, column, message) each, for warnings. `workflows` holds each
/// workflow's path relative to the root (`/`-separated) and its job ids.
pub(crate) fn unknown_declarations(
    config: &Config,
    workflows: &[(String, Vec<String>)],
) -> Vec<(usize, usize, String)> {
    use harden_transforms::permissions::DeclaredJob;
    let mut out = Vec::new();
    for (workflow, jobs) in &config.declared {
        let probe = DeclaredJob {
            workflow: workflow.clone(),
            job: String::new(),
            permissions: BTreeMap::new(),
        };
        let matching: Vec<&(String, Vec<String>)> = workflows
            .iter()
            .filter(|(path, _)| probe.matches_workflow(path))
            .collect();
        let at = |job: &str| {
            config
                .declared_at
                .get(&(workflow.clone(), job.to_owned()))
                .copied()
                .unwrap_or((1, 1))
        };
        if matching.is_empty() {
            let (line, column) = at("");
            out.push((
                line,
                column,
                format!(
                    "permissions.jobs: no workflow `{workflow}` in .github/workflows; this \
                     declaration does nothing: correct the file name or remove it"
                ),
            ));
            continue;
        }
        for job in jobs.keys() {
            if !matching.iter().any(|(_, ids)| ids.contains(job)) {
                let (line, column) = at(job);
                out.push((
                    line,
                    column,
                    format!(
                        "permissions.jobs.{workflow}: no job `{job}` in that workflow; this \
                         declaration does nothing: correct the job id or remove it"
                    ),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Parses the text of a configuration file.
#[allow(clippy::too_many_lines)] // Rewritten by the `settings` helper (issue 14).
pub(crate) fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let doc = Document::parse(text).map_err(|e| {
        let loc = e.location();
        ConfigError {
            path: path.to_path_buf(),
            line: loc.line,
            column: loc.column,
            message: e.message(),
        }
    })?;
    let r = Reader { path };
    let mut config = Config::default();
    let Some(root) = doc.root() else {
        return Ok(config);
    };
    if let Some(second) = doc.documents().get(1) {
        return Err(r.error(
            second,
            "a second YAML document (after `---`): harden reads only the first; merge them",
        ));
    }
    // Top-level keys: one section per transform of the registry, then `commit`.
    let top: Vec<&str> = registry::names().chain(["commit"]).collect();
    for (key, value) in r.entries(root, "the file")? {
        let opt_in = key.as_str().and_then(registry::find).filter(|t| t.opt_in);
        if let Some(info) = opt_in {
            for (k, v) in r.entries(value, info.name)? {
                if k.as_str() != Some("enabled") {
                    return Err(r.unknown(k, info.name, &["enabled"]));
                }
                config
                    .enabled
                    .insert(info.name.to_owned(), r.boolean(v, "enabled")?);
            }
            continue;
        }
        match key.as_str() {
            Some(k) if k == pin_actions::INFO.name => {
                const KEYS: &[&str] = &[
                    "exempt",
                    "branches",
                    "comment-spacing",
                    "tag-only",
                    "pin-anyway",
                ];
                for (k, v) in r.entries(value, pin_actions::INFO.name)? {
                    match k.as_str() {
                        Some("exempt") => config.exempt = r.list(v, "exempt")?,
                        Some("tag-only") => config.tag_only = r.list(v, "tag-only")?,
                        Some("pin-anyway") => config.pin_anyway = r.list(v, "pin-anyway")?,
                        Some("branches") => {
                            let b = r.string(v, "branches")?;
                            if b != "pin" && b != "keep" {
                                return Err(r.error(v, "`branches` must be pin or keep"));
                            }
                            config.branches = Some(b);
                        }
                        Some("comment-spacing") => {
                            config.comment_spacing =
                                Some(r.number(v, "comment-spacing")?.clamp(1, 8) as usize)
                        }
                        _ => return Err(r.unknown(k, pin_actions::INFO.name, KEYS)),
                    }
                }
            }
            Some(k) if k == pin_images::INFO.name => {
                for (k, v) in r.entries(value, pin_images::INFO.name)? {
                    match k.as_str() {
                        Some("exempt") => config.image_exempt = r.list(v, "exempt")?,
                        _ => return Err(r.unknown(k, pin_images::INFO.name, &["exempt"])),
                    }
                }
            }
            Some(k) if k == permissions::INFO.name => {
                for (k, v) in r.entries(value, permissions::INFO.name)? {
                    if k.as_str() != Some("jobs") {
                        return Err(r.unknown(k, permissions::INFO.name, &["jobs"]));
                    }
                    for (wf, jobs) in r.entries(v, "permissions.jobs")? {
                        let wf_name = r.string(wf, "workflow file name")?;
                        let mut per_job = BTreeMap::new();
                        config
                            .declared_at
                            .insert((wf_name.clone(), String::new()), (wf.line, wf.column));
                        for (job, scopes) in r.entries(jobs, &wf_name)? {
                            let job_id = r.string(job, "job id")?;
                            config
                                .declared_at
                                .insert((wf_name.clone(), job_id.clone()), (job.line, job.column));
                            let mut grants = BTreeMap::new();
                            for (scope, access) in r.entries(scopes, &job_id)? {
                                let scope_name = r.string(scope, "scope")?;
                                if let Err(e) = scope_name.parse::<Scope>() {
                                    return Err(r.error(scope, e.to_string()));
                                }
                                let access_text = r.string(access, "access")?;
                                if !matches!(access_text.as_str(), "read" | "write" | "none") {
                                    return Err(
                                        r.error(access, "access must be read, write or none")
                                    );
                                }
                                grants.insert(r.string(scope, "scope")?, access_text);
                            }
                            per_job.insert(job_id, grants);
                        }
                        config.declared.insert(wf_name, per_job);
                    }
                }
            }
            Some(k) if k == dependabot::INFO.name => {
                const KEYS: &[&str] = &[
                    "schedule",
                    "cooldown",
                    "group",
                    "ignore-major",
                    "ecosystems",
                ];
                for (k, v) in r.entries(value, dependabot::INFO.name)? {
                    match k.as_str() {
                        Some("schedule") => {
                            let text = r.string(v, "schedule")?;
                            if let Err(e) = text.parse::<dependabot::Schedule>() {
                                return Err(r.error(v, e.to_string()));
                            }
                            config.schedule = Some(text);
                        }
                        Some("cooldown") => {
                            let days = r.number(v, "cooldown")?;
                            if days > dependabot::MAX_COOLDOWN_DAYS {
                                return Err(r.error(
                                    v,
                                    format!(
                                        "`cooldown: {days}` is too long: Dependabot accepts 1 to {} \
                                         days (0 leaves cooldown out)",
                                        dependabot::MAX_COOLDOWN_DAYS
                                    ),
                                ));
                            }
                            config.cooldown = Some(days);
                        }
                        Some("group") => config.group = Some(r.boolean(v, "group")?),
                        Some("ignore-major") => {
                            config.ignore_major = Some(r.boolean(v, "ignore-major")?)
                        }
                        Some("ecosystems") => {
                            let list = r.list(v, "ecosystems")?;
                            let items: Vec<&Node> = match &v.kind {
                                NodeKind::Sequence(seq) => seq.items.iter().collect(),
                                _ => vec![v],
                            };
                            for (name, node) in list.iter().zip(items) {
                                if !dependabot::KNOWN_ECOSYSTEMS.contains(&name.as_str()) {
                                    return Err(r.error(
                                        node,
                                        format!(
                                            "unknown ecosystem `{name}` (Dependabot knows {})",
                                            dependabot::KNOWN_ECOSYSTEMS.join(", ")
                                        ),
                                    ));
                                }
                            }
                            config.ecosystems = Some(list);
                        }
                        _ => return Err(r.unknown(k, dependabot::INFO.name, KEYS)),
                    }
                }
            }
            Some("commit") => read_commit(&r, value, &mut config)?,
            _ => return Err(r.unknown(key, "the file", &top)),
        }
    }
    Ok(config)
}

/// The `commit:` section: sign-off and the subject template.
fn read_commit(r: &Reader<'_>, value: &Node, config: &mut Config) -> Result<(), ConfigError> {
    for (k, v) in r.entries(value, "commit")? {
        match k.as_str() {
            Some("signoff") => config.signoff = Some(r.boolean(v, "signoff")?),
            Some("subject") => {
                let template = r.string(v, "subject")?;
                crate::gitops::check_subject(&template)
                    .map_err(|e| r.error(v, format!("`subject`: {e}")))?;
                config.subject = Some(template);
            }
            _ => return Err(r.unknown(k, "commit", &["signoff", "subject"])),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_setting() {
        let text = "pin-actions:\n  exempt: [my-org/*]\n  branches: keep\n  comment-spacing: 2\npermissions:\n  jobs:\n    release.yml:\n      publish: {contents: write, id-token: write}\ndependabot:\n  schedule: monthly\n  cooldown: 3\n  group: false\n  ignore-major: true\n  ecosystems: [github-actions]\n";
        let c = parse(Path::new("h.yml"), text).expect("valid");
        assert_eq!(c.exempt, ["my-org/*"]);
        assert_eq!(c.branches.as_deref(), Some("keep"));
        assert_eq!(c.comment_spacing, Some(2));
        assert_eq!(c.declared["release.yml"]["publish"]["id-token"], "write");
        assert_eq!(c.schedule.as_deref(), Some("monthly"));
        assert_eq!(c.cooldown, Some(3));
        assert_eq!(c.group, Some(false));
        assert_eq!(c.ignore_major, Some(true));
        assert_eq!(c.ecosystems, Some(vec!["github-actions".to_owned()]));
        let c = parse(
            Path::new("h.yml"),
            "pin-actions:\n  tag-only: [a/b/*]\n  pin-anyway: slsa-framework/*\n",
        )
        .expect("valid");
        assert_eq!(c.tag_only, ["a/b/*"]);
        assert_eq!(c.pin_anyway, ["slsa-framework/*"]);
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let e = parse(Path::new("h.yml"), "dependabot:\n  shedule: weekly\n").expect_err("typo");
        assert_eq!((e.line, e.column), (2, 3));
        assert!(
            e.message.contains("unknown key `shedule` in dependabot"),
            "{}",
            e.message
        );
        let e = parse(Path::new("h.yml"), "pin:\n").expect_err("unknown section");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn reads_the_commit_section() {
        let text = "commit:\n  signoff: true\n  subject: 'ci: {summary}'\n";
        let c = parse(Path::new("h.yml"), text).expect("valid");
        assert_eq!(c.signoff, Some(true));
        assert_eq!(c.subject.as_deref(), Some("ci: {summary}"));
        let e = parse(Path::new("h.yml"), "commit:\n  subject: 'ci: {sumary}'\n")
            .expect_err("unknown placeholder");
        assert_eq!((e.line, e.column), (2, 12));
        assert!(e.message.contains("{sumary}"), "{}", e.message);
    }

    #[test]
    fn values_are_checked_where_they_are_written() {
        // Issue 17 point 15: these were checked late, without a line, naming a flag.
        let cases = [
            ("dependabot:\n  schedule: hourly\n", (2, 13), "hourly"),
            (
                "dependabot:\n  cooldown: 400\n",
                (2, 13),
                "`cooldown: 400` is too long",
            ),
            (
                "dependabot:\n  ecosystems: [github-actions, npmm]\n",
                (2, 32),
                "unknown ecosystem `npmm`",
            ),
            (
                "permissions:\n  jobs:\n    a.yml:\n      j: {contentz: write}\n",
                (4, 11),
                "contentz",
            ),
            (
                "pin-actions:\n  branches: keep\n---\nx: 1\n",
                (4, 1),
                "second YAML document",
            ),
        ];
        for (text, at, words) in cases {
            let e = parse(Path::new("h.yml"), text).expect_err(text);
            assert_eq!((e.line, e.column), at, "{text}: {}", e.message);
            assert!(e.message.contains(words), "{}", e.message);
            assert!(!e.message.contains(" --"), "names no flag: {}", e.message);
        }
    }

    #[test]
    fn declarations_for_unknown_workflows_and_jobs_are_found() {
        let text = "permissions:\n  jobs:\n    release.yml:\n      publish: {contents: write}\n      pubilsh: {contents: write}\n    relase.yml:\n      x: {}\n";
        let c = parse(Path::new("h.yml"), text).expect("valid");
        let workflows = vec![(
            ".github/workflows/release.yml".to_owned(),
            vec!["publish".to_owned()],
        )];
        let found = unknown_declarations(&c, &workflows);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (5, 7));
        assert!(found[0].2.contains("no job `pubilsh`"), "{}", found[0].2);
        assert_eq!((found[1].0, found[1].1), (6, 5));
        assert!(
            found[1].2.contains("no workflow `relase.yml`"),
            "{}",
            found[1].2
        );
    }

    #[test]
    fn reads_the_sign_releases_section() {
        let c = parse(Path::new("h.yml"), "sign-releases:\n  enabled: true\n").expect("valid");
        assert!(c.enabled("sign-releases"));
        assert!(parse(Path::new("h.yml"), "sign-releases:\n  enable: true\n").is_err());
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse(Path::new("h.yml"), "pin-actions:\n  branches: sometimes\n").is_err());
        assert!(parse(Path::new("h.yml"), "dependabot:\n  cooldown: soon\n").is_err());
        assert!(parse(
            Path::new("h.yml"),
            "permissions:\n  jobs:\n    a.yml:\n      j: {contents: all}\n"
        )
        .is_err());
    }
}
