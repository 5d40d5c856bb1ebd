//! The knowledge base: `data/actions.yml`, `data/rest-endpoints.yml` and `data/gh-cli.yml`,
//! loaded once into typed structures.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::OnceLock;

use harden_yaml::Entries;
use serde::de::{self, DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};

use super::scopes::{Access, Scope};
use crate::settings::Parsed;

const ACTIONS: &str = include_str!("../../data/actions.yml");
const REST: &str = include_str!("../../data/rest-endpoints.yml");
const GH: &str = include_str!("../../data/gh-cli.yml");

/// A knowledge-base file holds something harden cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/{file}:{line}:{column}: {message}")]
pub(crate) struct KbError {
    /// The file under `data/`.
    pub(crate) file: &'static str,
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
    /// What is wrong, with the keys leading to it.
    pub(crate) message: String,
}

/// Reads the data file `file` (under `data/`) as `T`, with serde over harden-yaml: every
/// error names its line and column. Each entry type checks its fields (`deny_unknown_fields`)
/// and its invariants (`try_from`), so a wrong entry is reported where it is written.
pub(crate) fn read<T: DeserializeOwned>(file: &'static str, text: &str) -> Result<T, KbError> {
    harden_yaml::de::from_str(text).map_err(|e| KbError {
        file,
        line: e.line.max(1),
        column: e.column.max(1),
        message: e.message(),
    })
}

/// What an action (or remote reusable workflow) needs, from `actions.yml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawAction")]
pub(crate) struct ActionFact {
    pub(crate) token: bool,
    pub(crate) token_inputs: Vec<String>,
    pub(crate) token_env: Option<String>,
    pub(crate) permissions: BTreeMap<Scope, Access>,
    pub(crate) reason: String,
    /// Reasons for single scopes, when `reason` would not say why that scope is needed.
    pub(crate) reasons: BTreeMap<Scope, String>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) undetermined: Option<String>,
    /// Runner workflows: `NAME=value` lines the workflow writes to `$GITHUB_ENV` before it
    /// runs the caller's `script` input (`CONDA_RUN`), as `env_file.rs` reads them.
    pub(crate) script_env_file: BTreeMap<String, String>,
    /// ... unless the caller gives one of these inputs (`name`), or gives `name` another
    /// value than the one the facts were read at (`name!=value`).
    pub(crate) script_env_file_unless: Vec<String>,
}

impl ActionFact {
    /// The reason comment for `scope`.
    pub(crate) fn reason_for(&self, scope: Scope) -> &str {
        self.reasons.get(&scope).unwrap_or(&self.reason)
    }
}

/// Extra needs of an action that depend on its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawCondition")]
pub(crate) struct Condition {
    pub(crate) input: Option<String>,
    pub(crate) equals: Option<String>,
    pub(crate) unless_inputs: Vec<String>,
    pub(crate) token_input: Option<String>,
    /// The input's value does not mention this word (`process-only` without `prs`).
    pub(crate) lacks: Option<String>,
    /// Only on these workflow triggers.
    pub(crate) on_events: Vec<String>,
    pub(crate) permissions: BTreeMap<Scope, Access>,
    /// Scopes of the base (or of earlier conditions) that the condition takes away.
    pub(crate) remove: Vec<Scope>,
    pub(crate) reason: String,
}

/// What an API call or `gh` command needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// A scope the `GITHUB_TOKEN` can be given.
    Scope(Scope, Access),
    /// Only metadata read (every token has it) or no permission at all.
    Nothing,
    /// A permission the `GITHUB_TOKEN` can never have.
    NotGrantable(String, Access),
    /// Depends on the endpoint (`gh api`).
    Endpoint,
}

/// A REST endpoint, from `rest-endpoints.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) name: String,
    pub(crate) need: Need,
    pub(crate) method: String,
    pub(crate) path: String,
}

/// A `gh` subcommand, from `gh-cli.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GhCommand {
    pub(crate) need: Need,
    pub(crate) reason: String,
    pub(crate) also: BTreeMap<Scope, Access>,
    pub(crate) undetermined: bool,
}

/// The three data files.
#[derive(Debug, Clone)]
pub(crate) struct Kb {
    pub(crate) actions: HashMap<String, ActionFact>,
    pub(crate) rest: Vec<Endpoint>,
    pub(crate) gh: HashMap<String, GhCommand>,
    /// `commands.yml`: writers, read-only commands, write events.
    pub(crate) commands: super::commands::Commands,
    /// `shell-tools.yml`: what `run:` scripts' tools do with the token.
    pub(crate) tools: super::tools::ShellTools,
}

impl Kb {
    /// The fact for a `uses:` reference (`owner/repo[/path]`, compared in lowercase).
    pub(crate) fn action(&self, key: &str) -> Option<&ActionFact> {
        self.actions.get(&key.to_ascii_lowercase())
    }

    /// The endpoint called `namespace.method` (octokit's name).
    pub(crate) fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.rest.iter().find(|e| e.name == name)
    }
}

/// The knowledge base, parsed on first use.
pub(crate) fn kb() -> Result<&'static Kb, &'static KbError> {
    static KB: OnceLock<Result<Kb, KbError>> = OnceLock::new();
    KB.get_or_init(load).as_ref()
}

fn load() -> Result<Kb, KbError> {
    Ok(Kb {
        actions: load_actions(ACTIONS)?,
        rest: load_rest(REST)?,
        gh: load_gh(GH)?,
        commands: super::commands::load()?,
        tools: super::tools::load()?,
    })
}

/// Scopes and their access; `id-token` only ever with `write`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "BTreeMap<Parsed<Scope>, Parsed<Access>>")]
pub(crate) struct Grants(BTreeMap<Scope, Access>);

impl TryFrom<BTreeMap<Parsed<Scope>, Parsed<Access>>> for Grants {
    type Error = &'static str;

    fn try_from(map: BTreeMap<Parsed<Scope>, Parsed<Access>>) -> Result<Self, Self::Error> {
        let map: BTreeMap<Scope, Access> = map.into_iter().map(|(s, a)| (s.0, a.0)).collect();
        if map
            .get(&Scope::IdToken)
            .is_some_and(|a| *a != Access::Write)
        {
            return Err("id-token can only be write");
        }
        Ok(Grants(map))
    }
}

impl Grants {
    /// The scopes and their access.
    pub(crate) fn into_map(self) -> BTreeMap<Scope, Access> {
        self.0
    }
}

/// A key of a knowledge-base table, checked as it is read: `R` says what the table's keys
/// look like, and its `RULE` is the error for one that does not.
pub(super) struct Key<R>(pub(super) String, PhantomData<R>);

/// What the keys of one knowledge-base table look like.
pub(super) trait KeyRule {
    /// The error for a key that does not fit (`keys are ...`).
    const RULE: &'static str;

    /// True when `key` fits.
    fn fits(key: &str) -> bool;
}

impl<'de, R: KeyRule> Deserialize<'de> for Key<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        if R::fits(&key) {
            Ok(Key(key, PhantomData))
        } else {
            Err(de::Error::custom(R::RULE))
        }
    }
}

/// The keys of `actions.yml`: lowercase `owner/repo[/path]` without `@ref`.
struct ActionRule;

impl KeyRule for ActionRule {
    const RULE: &'static str = "keys are lowercase owner/repo[/path] without @ref";

    fn fits(key: &str) -> bool {
        key == key.to_ascii_lowercase() && !key.contains('@') && key.split('/').count() >= 2
    }
}

/// An entry of `actions.yml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    token: bool,
    #[serde(default)]
    token_inputs: Vec<String>,
    token_env: Option<String>,
    permissions: Grants,
    reason: String,
    #[serde(default)]
    reasons: BTreeMap<Parsed<Scope>, String>,
    #[serde(default)]
    conditions: Vec<Condition>,
    undetermined: Option<String>,
    #[serde(default)]
    script_env_file: BTreeMap<String, String>,
    #[serde(default)]
    script_env_file_unless: Vec<String>,
    #[serde(rename = "note")]
    _note: Option<IgnoredAny>,
    #[serde(rename = "source")]
    _source: Option<IgnoredAny>,
}

impl From<RawAction> for ActionFact {
    fn from(raw: RawAction) -> Self {
        ActionFact {
            token: raw.token,
            token_inputs: raw.token_inputs,
            token_env: raw.token_env,
            permissions: raw.permissions.into_map(),
            reason: raw.reason,
            reasons: raw.reasons.into_iter().map(|(s, r)| (s.0, r)).collect(),
            conditions: raw.conditions,
            undetermined: raw.undetermined,
            script_env_file: raw.script_env_file,
            script_env_file_unless: raw.script_env_file_unless,
        }
    }
}

/// A condition of `actions.yml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    input: Option<String>,
    equals: Option<String>,
    #[serde(default)]
    unless_inputs: Vec<String>,
    token_input: Option<String>,
    lacks: Option<String>,
    #[serde(default)]
    on_events: Vec<String>,
    #[serde(default)]
    permissions: Grants,
    #[serde(default)]
    remove: Vec<Parsed<Scope>>,
    reason: String,
}

impl TryFrom<RawCondition> for Condition {
    type Error = &'static str;

    fn try_from(raw: RawCondition) -> Result<Self, Self::Error> {
        if raw.input.is_none() && raw.unless_inputs.is_empty() && raw.on_events.is_empty() {
            return Err("a condition needs `input`, `unless_inputs` or `on_events`");
        }
        if raw.lacks.is_some() && raw.input.is_none() {
            return Err("`lacks` without `input`");
        }
        if raw.equals.is_some() && raw.input.is_none() {
            return Err("`equals` without `input`");
        }
        Ok(Condition {
            input: raw.input,
            equals: raw.equals,
            unless_inputs: raw.unless_inputs,
            token_input: raw.token_input,
            lacks: raw.lacks,
            on_events: raw.on_events,
            permissions: raw.permissions.into_map(),
            remove: raw.remove.into_iter().map(|s| s.0).collect(),
            reason: raw.reason,
        })
    }
}

/// `actions.yml`.
#[derive(Deserialize)]
struct ActionsFile {
    actions: Entries<Key<ActionRule>, ActionFact>,
}

fn load_actions(text: &str) -> Result<HashMap<String, ActionFact>, KbError> {
    let file: ActionsFile = read("actions.yml", text)?;
    Ok(file.actions.0.into_iter().map(|(k, v)| (k.0, v)).collect())
}

/// `scope` + `access` (+ `grantable`) as a [`Need`]; `endpoint` for both when allowed.
fn need(scope: &str, access: &str, grantable: bool, allow_endpoint: bool) -> Result<Need, String> {
    if allow_endpoint && scope == "endpoint" && access == "endpoint" {
        return Ok(Need::Endpoint);
    }
    let access = access.parse::<Access>().map_err(|e| e.to_string())?;
    if !grantable {
        if scope.parse::<Scope>().is_ok() {
            return Err(format!(
                "`{scope}` is grantable to the GITHUB_TOKEN but the entry says grantable: false"
            ));
        }
        return Ok(Need::NotGrantable(scope.to_owned(), access));
    }
    match scope {
        "metadata" | "none" => Ok(Need::Nothing),
        s => {
            let scope = s
                .parse::<Scope>()
                .map_err(|e| format!("{e} (use grantable: false for other permissions)"))?;
            if scope == Scope::IdToken && access != Access::Write {
                return Err("id-token can only be write".to_owned());
            }
            Ok(Need::Scope(scope, access))
        }
    }
}

/// The keys of `rest-endpoints.yml`: octokit's `namespace.method`.
struct EndpointRule;

impl KeyRule for EndpointRule {
    const RULE: &'static str = "keys are `namespace.method`";

    fn fits(key: &str) -> bool {
        key.split('.').count() == 2
    }
}

/// An entry of `rest-endpoints.yml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    scope: String,
    access: String,
    method: String,
    path: String,
    /// Checked, not used: the scope a fine-grained token would need instead.
    #[serde(rename = "alt")]
    _alt: Option<Parsed<Scope>>,
    grantable: Option<bool>,
    #[serde(rename = "note")]
    _note: Option<IgnoredAny>,
}

/// An entry of `rest-endpoints.yml`, checked.
#[derive(Deserialize)]
#[serde(try_from = "RawEndpoint")]
struct EndpointFact {
    need: Need,
    method: String,
    path: String,
}

impl TryFrom<RawEndpoint> for EndpointFact {
    type Error = String;

    fn try_from(raw: RawEndpoint) -> Result<Self, Self::Error> {
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&raw.method.as_str()) {
            return Err(format!("unknown method `{}`", raw.method));
        }
        if !raw.path.starts_with('/') {
            return Err("path must start with /".to_owned());
        }
        let need = need(
            &raw.scope,
            &raw.access,
            raw.grantable.unwrap_or(true),
            false,
        )?;
        Ok(EndpointFact {
            need,
            method: raw.method,
            path: raw.path,
        })
    }
}

/// `rest-endpoints.yml`.
#[derive(Deserialize)]
struct RestFile {
    rest: Entries<Key<EndpointRule>, EndpointFact>,
}

fn load_rest(text: &str) -> Result<Vec<Endpoint>, KbError> {
    let file: RestFile = read("rest-endpoints.yml", text)?;
    Ok(file
        .rest
        .0
        .into_iter()
        .map(|(name, e)| Endpoint {
            name: name.0,
            need: e.need,
            method: e.method,
            path: e.path,
        })
        .collect())
}

/// The keys of `gh-cli.yml`: `group` or `group subcommand`.
struct GhRule;

impl KeyRule for GhRule {
    const RULE: &'static str = "keys are `group` or `group subcommand`";

    fn fits(key: &str) -> bool {
        !key.is_empty() && key.split(' ').count() <= 2
    }
}

/// An entry of `gh-cli.yml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGh {
    scope: String,
    access: String,
    reason: String,
    #[serde(default)]
    also: Grants,
    /// Checked, not used: the scope a fine-grained token would need instead.
    #[serde(rename = "alt")]
    _alt: Option<Parsed<Scope>>,
    grantable: Option<bool>,
    #[serde(default)]
    undetermined: bool,
    #[serde(rename = "note")]
    _note: Option<IgnoredAny>,
}

impl<'de> Deserialize<'de> for GhCommand {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawGh::deserialize(deserializer)?;
        let need = need(&raw.scope, &raw.access, raw.grantable.unwrap_or(true), true)
            .map_err(serde::de::Error::custom)?;
        if need == Need::Endpoint && !raw.undetermined {
            return Err(serde::de::Error::custom(
                "scope `endpoint` needs undetermined: true",
            ));
        }
        Ok(GhCommand {
            need,
            reason: raw.reason,
            also: raw.also.into_map(),
            undetermined: raw.undetermined,
        })
    }
}

/// `gh-cli.yml`.
#[derive(Deserialize)]
struct GhFile {
    commands: Entries<Key<GhRule>, GhCommand>,
}

fn load_gh(text: &str) -> Result<HashMap<String, GhCommand>, KbError> {
    let file: GhFile = read("gh-cli.yml", text)?;
    Ok(file.commands.0.into_iter().map(|(k, v)| (k.0, v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_as_they_are_read() {
        let Err(e) = load_actions("actions:\n  Actions/Checkout: {}\n") else {
            panic!("an uppercase key was accepted")
        };
        assert!(
            e.to_string().contains("keys are lowercase owner/repo"),
            "{e}"
        );
        let Err(e) = load_gh("commands:\n  a b c: {}\n") else {
            panic!("a three-word key was accepted")
        };
        assert!(e.to_string().contains("keys are `group`"), "{e}");
    }

    #[test]
    fn every_entry_parses_and_names_valid_scopes() {
        let kb = match kb() {
            Ok(kb) => kb,
            Err(e) => panic!("{e}"),
        };
        assert!(kb.actions.len() > 200, "{}", kb.actions.len());
        assert!(kb.rest.len() > 200, "{}", kb.rest.len());
        assert!(kb.gh.len() > 100, "{}", kb.gh.len());
        // Every token input named by a condition is a declared input of the action.
        for (key, fact) in &kb.actions {
            for c in &fact.conditions {
                if let Some(t) = &c.token_input {
                    assert!(fact.token_inputs.contains(t), "{key}: token_input {t}");
                }
            }
            assert!(!fact.reason.is_empty(), "{key}");
            for scope in fact.reasons.keys() {
                assert!(
                    fact.permissions.contains_key(scope),
                    "{key}: a reason for {scope}, which it does not need"
                );
            }
        }
        // Octokit names are unique and every gh `also` is a valid scope (checked at load).
        let mut names: Vec<&str> = kb.rest.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate endpoint names");
        assert!(matches!(
            kb.gh.get("api").map(|c| &c.need),
            Some(Need::Endpoint)
        ));
        assert_eq!(
            kb.gh.get("release create").map(|c| &c.need),
            Some(&Need::Scope(Scope::Contents, Access::Write))
        );
    }

    #[test]
    fn invalid_entries_are_rejected() {
        let bad_scope =
            "actions:\n  a/b:\n    token: true\n    permissions: {content: read}\n    reason: x\n";
        assert!(load_actions(bad_scope).is_err());
        let bad_access = "actions:\n  a/b:\n    token: true\n    permissions: {contents: admin}\n    reason: x\n";
        assert!(load_actions(bad_access).is_err());
        let unknown_field =
            "actions:\n  a/b:\n    token: true\n    permisions: {}\n    reason: x\n";
        assert!(load_actions(unknown_field).is_err());
        let id_read =
            "actions:\n  a/b:\n    token: true\n    permissions: {id-token: read}\n    reason: x\n";
        assert!(load_actions(id_read).is_err());
        let rest = "rest:\n  a.b: {scope: secrets, access: read, method: GET, path: /x}\n";
        assert!(load_rest(rest).is_err());
        let rest = "rest:\n  a.b: {scope: secrets, access: read, method: GET, path: /x, grantable: false}\n";
        assert!(load_rest(rest).is_ok());
        let gh = "commands:\n  \"x y\": {scope: contents, access: writ, reason: r}\n";
        assert!(load_gh(gh).is_err());
    }
}
