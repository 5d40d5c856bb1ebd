//! The knowledge base: `data/actions.yml`, `data/rest-endpoints.yml` and `data/gh-cli.yml`,
//! loaded once into typed structures.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use yaml_rust2::{Yaml, YamlLoader};

use super::scopes::{Access, Scope};

const ACTIONS: &str = include_str!("../../data/actions.yml");
const REST: &str = include_str!("../../data/rest-endpoints.yml");
const GH: &str = include_str!("../../data/gh-cli.yml");

/// A knowledge-base file holds something harden cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/{file}: `{entry}`: {message}")]
pub(crate) struct KbError {
    /// The file under `data/`.
    pub(crate) file: &'static str,
    /// The entry (or `(file)` for the file itself).
    pub(crate) entry: String,
    /// What is wrong.
    pub(crate) message: String,
}

/// What an action (or remote reusable workflow) needs, from `actions.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

fn root(file: &'static str, text: &str, key: &str) -> Result<yaml_rust2::yaml::Hash, KbError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| KbError {
        file,
        entry: "(file)".into(),
        message: e.to_string(),
    })?;
    let section = docs.first().map(|d| &d[key]);
    match section {
        Some(Yaml::Hash(h)) => Ok(h.clone()),
        _ => Err(KbError {
            file,
            entry: "(file)".into(),
            message: format!("no `{key}` mapping"),
        }),
    }
}

/// Reads one entry's fields, checking that every field is known.
struct Fields<'y> {
    file: &'static str,
    entry: String,
    hash: &'y yaml_rust2::yaml::Hash,
}

impl<'y> Fields<'y> {
    fn new(
        file: &'static str,
        entry: &str,
        value: &'y Yaml,
        allowed: &[&str],
    ) -> Result<Self, KbError> {
        let Yaml::Hash(hash) = value else {
            return Err(KbError {
                file,
                entry: entry.to_owned(),
                message: "not a mapping".into(),
            });
        };
        let fields = Fields {
            file,
            entry: entry.to_owned(),
            hash,
        };
        for k in hash.keys() {
            match k.as_str() {
                Some(name) if allowed.contains(&name) => {}
                _ => return Err(fields.error(format!("unknown field {k:?}"))),
            }
        }
        Ok(fields)
    }

    fn error(&self, message: impl Into<String>) -> KbError {
        KbError {
            file: self.file,
            entry: self.entry.clone(),
            message: message.into(),
        }
    }

    fn get(&self, key: &str) -> Option<&'y Yaml> {
        self.hash.get(&Yaml::String(key.to_owned()))
    }

    fn string(&self, key: &str) -> Result<Option<String>, KbError> {
        match self.get(key) {
            None => Ok(None),
            Some(Yaml::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(format!("`{key}` is not a string: {other:?}"))),
        }
    }

    fn required_string(&self, key: &str) -> Result<String, KbError> {
        self.string(key)?
            .ok_or_else(|| self.error(format!("`{key}` is missing")))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, KbError> {
        match self.get(key) {
            None => Ok(None),
            Some(Yaml::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(format!("`{key}` is not a boolean: {other:?}"))),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, KbError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Yaml::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.error(format!("`{key}` holds a non-string")))
                })
                .collect(),
            Some(other) => Err(self.error(format!("`{key}` is not a list: {other:?}"))),
        }
    }

    fn permissions(&self, key: &str) -> Result<BTreeMap<Scope, Access>, KbError> {
        match self.get(key) {
            None => Ok(BTreeMap::new()),
            Some(Yaml::Hash(h)) => {
                let mut map = BTreeMap::new();
                for (k, v) in h {
                    let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                        return Err(self.error(format!("`{key}` holds a non-string")));
                    };
                    let scope = k.parse::<Scope>().map_err(|e| self.error(e.to_string()))?;
                    let access = v.parse::<Access>().map_err(|e| self.error(e.to_string()))?;
                    if scope == Scope::IdToken && access != Access::Write {
                        return Err(self.error("id-token can only be write"));
                    }
                    map.insert(scope, access);
                }
                Ok(map)
            }
            Some(other) => Err(self.error(format!("`{key}` is not a mapping: {other:?}"))),
        }
    }

    /// `scope` + `access` (+ `grantable`) as a [`Need`].
    fn need(&self, allow_endpoint: bool) -> Result<Need, KbError> {
        let scope = self.required_string("scope")?;
        let access = self.required_string("access")?;
        let grantable = self.bool("grantable")?.unwrap_or(true);
        if allow_endpoint && scope == "endpoint" && access == "endpoint" {
            return Ok(Need::Endpoint);
        }
        let access = access
            .parse::<Access>()
            .map_err(|e| self.error(e.to_string()))?;
        if !grantable {
            if scope.parse::<Scope>().is_ok() {
                return Err(self.error(format!(
                    "`{scope}` is grantable to the GITHUB_TOKEN but the entry says grantable: false"
                )));
            }
            return Ok(Need::NotGrantable(scope, access));
        }
        match scope.as_str() {
            "metadata" | "none" => Ok(Need::Nothing),
            s => {
                let scope = s.parse::<Scope>().map_err(|e| {
                    self.error(format!("{e} (use grantable: false for other permissions)"))
                })?;
                if scope == Scope::IdToken && access != Access::Write {
                    return Err(self.error("id-token can only be write"));
                }
                Ok(Need::Scope(scope, access))
            }
        }
    }
}

#[allow(clippy::too_many_lines)] // Rewritten by the `settings` helper (issue 14).
fn load_actions(text: &str) -> Result<HashMap<String, ActionFact>, KbError> {
    const FILE: &str = "actions.yml";
    let mut out = HashMap::new();
    for (key, value) in root(FILE, text, "actions")? {
        let Some(key) = key.as_str() else {
            return Err(KbError {
                file: FILE,
                entry: format!("{key:?}"),
                message: "key is not a string".into(),
            });
        };
        let f = Fields::new(
            FILE,
            key,
            &value,
            &[
                "token",
                "token_inputs",
                "token_env",
                "permissions",
                "reason",
                "reasons",
                "conditions",
                "undetermined",
                "script_env_file",
                "script_env_file_unless",
                "note",
                "source",
            ],
        )?;
        if key != key.to_ascii_lowercase() || key.contains('@') || key.split('/').count() < 2 {
            return Err(f.error("keys are lowercase owner/repo[/path] without @ref"));
        }
        let token = f
            .bool("token")?
            .ok_or_else(|| f.error("`token` is missing"))?;
        if f.get("permissions").is_none() {
            return Err(f.error("`permissions` is missing"));
        }
        let token_inputs = f.strings("token_inputs")?;
        let mut conditions = Vec::new();
        match f.get("conditions") {
            None => {}
            Some(Yaml::Array(items)) => {
                for item in items {
                    let c = Fields::new(
                        FILE,
                        &format!("{key} (condition)"),
                        item,
                        &[
                            "input",
                            "equals",
                            "unless_inputs",
                            "token_input",
                            "lacks",
                            "on_events",
                            "permissions",
                            "remove",
                            "reason",
                        ],
                    )?;
                    let equals = match c.get("equals") {
                        None => None,
                        Some(Yaml::String(s)) => Some(s.clone()),
                        Some(Yaml::Boolean(b)) => Some(b.to_string()),
                        Some(other) => {
                            return Err(c.error(format!("`equals` is not a string: {other:?}")))
                        }
                    };
                    let condition = Condition {
                        input: c.string("input")?,
                        equals,
                        unless_inputs: c.strings("unless_inputs")?,
                        token_input: c.string("token_input")?,
                        lacks: c.string("lacks")?,
                        on_events: c.strings("on_events")?,
                        permissions: c.permissions("permissions")?,
                        remove: c
                            .strings("remove")?
                            .iter()
                            .map(|r| r.parse::<Scope>().map_err(|e| c.error(e.to_string())))
                            .collect::<Result<_, _>>()?,
                        reason: c.required_string("reason")?,
                    };
                    if condition.input.is_none()
                        && condition.unless_inputs.is_empty()
                        && condition.on_events.is_empty()
                    {
                        return Err(
                            c.error("a condition needs `input`, `unless_inputs` or `on_events`")
                        );
                    }
                    if condition.lacks.is_some() && condition.input.is_none() {
                        return Err(c.error("`lacks` without `input`"));
                    }
                    if condition.equals.is_some() && condition.input.is_none() {
                        return Err(c.error("`equals` without `input`"));
                    }
                    conditions.push(condition);
                }
            }
            Some(_) => return Err(f.error("`conditions` is not a list")),
        }
        let fact = ActionFact {
            token,
            token_inputs,
            token_env: f.string("token_env")?,
            permissions: f.permissions("permissions")?,
            reason: f.required_string("reason")?,
            reasons: match f.get("reasons") {
                None => BTreeMap::new(),
                Some(Yaml::Hash(h)) => {
                    let mut m = BTreeMap::new();
                    for (k, v) in h {
                        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                            return Err(f.error("`reasons` holds a non-string"));
                        };
                        m.insert(
                            k.parse::<Scope>().map_err(|e| f.error(e.to_string()))?,
                            v.to_owned(),
                        );
                    }
                    m
                }
                Some(_) => return Err(f.error("`reasons` is not a mapping")),
            },
            conditions,
            undetermined: f.string("undetermined")?,
            script_env_file: match f.get("script_env_file") {
                None => BTreeMap::new(),
                Some(Yaml::Hash(h)) => {
                    let mut m = BTreeMap::new();
                    for (k, v) in h {
                        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                            return Err(f.error("`script_env_file` holds a non-string"));
                        };
                        m.insert(k.to_owned(), v.to_owned());
                    }
                    m
                }
                Some(_) => return Err(f.error("`script_env_file` is not a mapping")),
            },
            script_env_file_unless: f.strings("script_env_file_unless")?,
        };
        if out.insert(key.to_owned(), fact).is_some() {
            return Err(f.error("duplicate entry"));
        }
    }
    Ok(out)
}

fn load_rest(text: &str) -> Result<Vec<Endpoint>, KbError> {
    const FILE: &str = "rest-endpoints.yml";
    let mut out: Vec<Endpoint> = Vec::new();
    for (key, value) in root(FILE, text, "rest")? {
        let name = key.as_str().unwrap_or_default().to_owned();
        let f = Fields::new(
            FILE,
            &name,
            &value,
            &[
                "scope",
                "access",
                "method",
                "path",
                "alt",
                "grantable",
                "note",
            ],
        )?;
        if name.split('.').count() != 2 {
            return Err(f.error("keys are `namespace.method`"));
        }
        let method = f.required_string("method")?;
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            return Err(f.error(format!("unknown method `{method}`")));
        }
        let path = f.required_string("path")?;
        if !path.starts_with('/') {
            return Err(f.error("path must start with /"));
        }
        if let Some(alt) = f.string("alt")? {
            alt.parse::<Scope>().map_err(|e| f.error(e.to_string()))?;
        }
        out.push(Endpoint {
            need: f.need(false)?,
            name,
            method,
            path,
        });
    }
    Ok(out)
}

fn load_gh(text: &str) -> Result<HashMap<String, GhCommand>, KbError> {
    const FILE: &str = "gh-cli.yml";
    let mut out = HashMap::new();
    for (key, value) in root(FILE, text, "commands")? {
        let name = key.as_str().unwrap_or_default().to_owned();
        let f = Fields::new(
            FILE,
            &name,
            &value,
            &[
                "scope",
                "access",
                "reason",
                "also",
                "alt",
                "grantable",
                "undetermined",
                "note",
            ],
        )?;
        if name.is_empty() || name.split(' ').count() > 2 {
            return Err(f.error("keys are `group` or `group subcommand`"));
        }
        if let Some(alt) = f.string("alt")? {
            alt.parse::<Scope>().map_err(|e| f.error(e.to_string()))?;
        }
        let undetermined = f.bool("undetermined")?.unwrap_or(false);
        let need = f.need(true)?;
        if need == Need::Endpoint && !undetermined {
            return Err(f.error("scope `endpoint` needs undetermined: true"));
        }
        out.insert(
            name,
            GhCommand {
                need,
                reason: f.required_string("reason")?,
                also: f.permissions("also")?,
                undetermined,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
