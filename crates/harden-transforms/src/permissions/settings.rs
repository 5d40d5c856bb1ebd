//! `permissions:` in `.github/harden.yml`: jobs whose permissions the maintainers declare,
//! and the warnings for declarations that name no workflow or job of the repository.

use std::collections::BTreeMap;

use harden_yaml::{DeError, Located, Node};
use serde::Deserialize;

use super::{Access, DeclaredJob, DefaultSource, PermissionsSettings, RepositoryDefault, Scope};
use crate::registry::Settings;
use crate::settings::{read_section, Flags, Parsed};

/// `read`, `write` or `none`, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AccessText(String);

impl<'de> Deserialize<'de> for AccessText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "read" | "write" | "none" => Ok(AccessText(text)),
            _ => Err(serde::de::Error::custom(
                "access must be read, write or none",
            )),
        }
    }
}

/// The scopes of one declared job: scope (checked) -> access.
type Grants = BTreeMap<Located<Parsed<Scope>>, AccessText>;

/// The jobs declared for one workflow: job id -> grants (empty: `permissions: {}`).
type Jobs = BTreeMap<Located<String>, Option<Grants>>;

/// The section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsSection {
    /// Workflow file name (or glob) -> job id -> scope -> access.
    #[serde(default)]
    jobs: BTreeMap<Located<String>, Option<Jobs>>,
    /// A program harden cannot see into makes its job undetermined even without a sign.
    #[serde(default)]
    strict: bool,
    /// Replace blocks the maintainers wrote that grant more than harden settles.
    #[serde(default)]
    narrow: bool,
    /// The repository's default token permissions: `read` or `write`.
    #[serde(default, rename = "repository-default")]
    repository_default: Option<DefaultText>,
}

/// `read` or `write`, as `repository-default` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DefaultText(Access);

impl<'de> Deserialize<'de> for DefaultText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_default(&text)
            .map(DefaultText)
            .map_err(serde::de::Error::custom)
    }
}

/// `read` or `write` (GitHub's names `restricted` / `permissive` too, and the API's field
/// values), as the repository's default token permissions.
pub(super) fn parse_default(text: &str) -> Result<Access, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "read" | "restricted" => Ok(Access::Read),
        "write" | "permissive" => Ok(Access::Write),
        _ => Err(format!(
            "repository-default must be read or write, not `{text}`"
        )),
    }
}

/// The section, with `--declare`, `--move-writes` and `--narrow`.
pub(super) fn configure(
    section: Option<&Node>,
    flags: &Flags,
    settings: &mut Settings,
) -> Result<(), DeError> {
    let file: PermissionsSection = read_section(section)?;
    let flag_default = match &flags.repository_default {
        Some(text) => Some(RepositoryDefault {
            access: parse_default(text)
                .map_err(|e| serde::de::Error::custom(format!("--repository-default: {e}")))?,
            source: DefaultSource::Flag,
        }),
        None => None,
    };
    let file_default = file.repository_default.map(|d| RepositoryDefault {
        access: d.0,
        source: DefaultSource::Config,
    });
    let mut out = PermissionsSettings {
        declare: flags.declare.clone(),
        move_writes: flags.move_writes,
        narrow: flags.narrow || file.narrow,
        strict: flags.strict || file.strict,
        repository_default: flag_default.or(file_default),
        ..PermissionsSettings::default()
    };
    for (workflow, jobs) in file.jobs {
        let pattern = workflow.value.trim_start_matches("./");
        if let Err(e) = crate::globs::check(pattern, crate::globs::Flavor::Paths) {
            let e = DeError {
                line: workflow.line,
                column: workflow.column,
                ..serde::de::Error::custom(e)
            };
            return Err(e.under("jobs"));
        }
        let at = |l: &Located<String>| (l.line, l.column);
        out.declared_at
            .insert((workflow.value.clone(), String::new()), at(&workflow));
        let mut per_job = BTreeMap::new();
        for (job, grants) in jobs.unwrap_or_default() {
            out.declared_at
                .insert((workflow.value.clone(), job.value.clone()), at(&job));
            let grants = grants
                .unwrap_or_default()
                .into_iter()
                .map(|(scope, access)| (scope.value.0.to_string(), access.0))
                .collect();
            per_job.insert(job.value, grants);
        }
        out.jobs.insert(workflow.value, per_job);
    }
    settings.permissions = out;
    Ok(())
}

impl PermissionsSettings {
    /// Declarations of `permissions.jobs` that name no workflow of the repository, or no job
    /// of the workflows they name: (line, column, message) each, for warnings. `workflows`
    /// holds each workflow's path relative to the root (`/`-separated) and its job ids.
    pub fn unknown_declarations(
        &self,
        workflows: &[(String, Vec<String>)],
    ) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        for (workflow, jobs) in &self.jobs {
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
                self.declared_at
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
}
