//! `data/shell-tools.yml`: what harden knows about the tools `run:` scripts call (the words
//! before a command, the options of `gh api`, `git`, curl and friends, registry logins, OIDC
//! publishers), loaded once into the typed structures below. `shell.rs` holds the matching.
//!
//! The types derive `Deserialize` (`deny_unknown_fields`); the YAML is read with the parser
//! `commands.yml` uses and handed to serde through `serde_json::Value`.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use super::kb::KbError;
use super::scopes::{Access, Scope};

const FILE: &str = "shell-tools.yml";
const TEXT: &str = include_str!("../../data/shell-tools.yml");

/// Where a section's facts come from (one URL or a list): required, not read.
type Source = IgnoredAny;

/// `data/shell-tools.yml`, loaded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellTools {
    #[serde(rename = "source")]
    _source: Source,
    /// Words before the command word that are not the command.
    pub(crate) prefixes: Prefixes,
    /// `export`, `local`...: their arguments are assignments.
    pub(crate) declarations: Commands,
    /// `[`, `test`: reading the token there passes it to nothing.
    pub(crate) tests: Commands,
    /// `echo`, `printf`...: printing the token is harmless unless it is redirected.
    pub(crate) printers: Commands,
    /// The gh CLI.
    pub(crate) gh: Gh,
    /// git.
    pub(crate) git: Git,
    /// curl, wget and friends.
    pub(crate) http: Http,
    /// `docker login` and friends.
    pub(crate) registry_logins: RegistryLogins,
    /// Publishers and signers that use a GitHub OIDC token.
    pub(crate) oidc: Oidc,
}

/// A list of command names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Commands {
    /// The names.
    pub(crate) commands: Vec<String>,
    #[serde(rename = "source")]
    _source: Source,
}

impl Commands {
    /// True when `name` is one of them.
    pub(crate) fn has(&self, name: &str) -> bool {
        has(&self.commands, name)
    }
}

/// Words before the command word that are not the command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Prefixes {
    /// Skipped alone (`if`, `exec`).
    pub(crate) keywords: Vec<String>,
    /// Skipped with their options (`sudo -E`).
    pub(crate) with_options: Vec<String>,
    /// Skipped with their options and one value (`timeout 10`).
    pub(crate) with_options_and_value: Vec<String>,
    /// Options of those programs that take the next word as their value (`xargs -I X`).
    #[serde(default)]
    pub(crate) option_values: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(rename = "source")]
    _source: Source,
}

/// A scope the job token needs, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolNeed {
    /// The scope.
    #[serde(deserialize_with = "parsed")]
    pub(crate) scope: Scope,
    /// Its access.
    #[serde(deserialize_with = "parsed")]
    pub(crate) access: Access,
    /// The reason comment.
    pub(crate) reason: String,
}

/// The gh CLI, beyond `gh-cli.yml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Gh {
    /// Global options that take a value.
    pub(crate) value_options: Vec<String>,
    /// Subcommand aliases (`ls` -> `list`).
    pub(crate) aliases: BTreeMap<String, String>,
    /// `gh api`.
    pub(crate) api: GhApi,
    /// Arguments that need more than the subcommand.
    pub(crate) arguments: Vec<GhArgument>,
    #[serde(rename = "source")]
    _source: Source,
}

/// The options of `gh api`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GhApi {
    /// The method as the next word.
    pub(crate) method_options: Vec<String>,
    /// The method attached.
    pub(crate) method_prefixes: Vec<String>,
    /// Parameters (the default method becomes POST), with a value.
    pub(crate) field_options: Vec<String>,
    /// Parameters, attached.
    pub(crate) field_prefixes: Vec<String>,
    /// Other options with a value.
    pub(crate) value_options: Vec<String>,
    #[serde(rename = "source")]
    _source: Source,
}

/// An argument of a gh subcommand that needs a scope of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GhArgument {
    /// `<group>` or `<group> <sub>`.
    pub(crate) command: String,
    /// Any of these given (`--x=...` matches `--x`).
    pub(crate) with_args: Vec<String>,
    /// The scope it needs.
    #[serde(deserialize_with = "parsed")]
    pub(crate) scope: Scope,
    /// Its access.
    #[serde(deserialize_with = "parsed")]
    pub(crate) access: Access,
    /// The reason comment, shown as is.
    pub(crate) reason: String,
    #[serde(rename = "source")]
    _source: Source,
}

/// git.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Git {
    /// Global options that take a value.
    pub(crate) value_options: Vec<String>,
    /// What the job token given to a subcommand is for.
    pub(crate) token_subcommands: Vec<GitTokenUse>,
    /// Subcommands that commit.
    pub(crate) commit_commands: Vec<String>,
    /// The subcommand that tags.
    pub(crate) tag_command: String,
    /// Its options that list or delete tags (no tag is made).
    pub(crate) tag_listing_options: Vec<String>,
    /// `git config` keys of the identity that commits.
    pub(crate) identity_keys: Vec<String>,
    /// `git push`.
    pub(crate) push: GitPush,
    #[serde(rename = "source")]
    _source: Source,
}

/// Subcommands given the job token, and what for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GitTokenUse {
    /// The subcommands.
    pub(crate) commands: Vec<String>,
    /// The scope.
    #[serde(deserialize_with = "parsed")]
    pub(crate) scope: Scope,
    /// Its access.
    #[serde(deserialize_with = "parsed")]
    pub(crate) access: Access,
    /// The reason, shown after `git <sub>: `.
    pub(crate) reason: String,
}

/// `git push`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GitPush {
    /// Options that delete a remote ref.
    pub(crate) delete_options: Vec<String>,
    /// A refspec starting with this deletes.
    pub(crate) delete_prefix: String,
    /// The reason for a delete.
    pub(crate) delete_reason: String,
    /// Words that push tags.
    pub(crate) tag_words: Vec<String>,
    /// A refspec starting with this pushes a tag.
    pub(crate) tag_prefix: String,
    /// The reason for tags.
    pub(crate) tag_reason: String,
    /// The reason for any other push.
    pub(crate) reason: String,
    /// The scope a push needs.
    #[serde(deserialize_with = "parsed")]
    pub(crate) scope: Scope,
    /// Its access.
    #[serde(deserialize_with = "parsed")]
    pub(crate) access: Access,
}

/// HTTP clients.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Http {
    /// Their names.
    pub(crate) tools: Vec<String>,
    /// An argument with one of these is an API URL.
    pub(crate) api_markers: Vec<String>,
    /// An argument with one of these is a download of repository files.
    pub(crate) download_markers: Vec<String>,
    /// What a download needs (reason shown after `<tool>: `).
    pub(crate) download: ToolNeed,
    /// The method as the next word.
    pub(crate) method_options: Vec<String>,
    /// The method attached.
    pub(crate) method_prefixes: Vec<String>,
    /// Tools that take the method as a word of its own.
    pub(crate) method_word_tools: Vec<String>,
    /// Those words.
    pub(crate) method_words: Vec<String>,
    /// A body (default method POST).
    pub(crate) data_options: Vec<String>,
    /// A body, attached.
    pub(crate) data_prefixes: Vec<String>,
    /// An upload (default method PUT).
    pub(crate) upload_options: Vec<String>,
    /// Options that make the method GET.
    pub(crate) get_options: Vec<String>,
    #[serde(rename = "source")]
    _source: Source,
}

/// `<tool> login`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryLogins {
    /// The tools.
    pub(crate) tools: Vec<String>,
    /// GitHub's registries.
    pub(crate) hosts: Vec<RegistryHost>,
    /// What logging in to them needs.
    #[serde(deserialize_with = "parsed")]
    pub(crate) scope: Scope,
    /// Its access.
    #[serde(deserialize_with = "parsed")]
    pub(crate) access: Access,
    #[serde(rename = "source")]
    _source: Source,
}

/// One of GitHub's registries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryHost {
    /// An argument containing this names it.
    pub(crate) contains: String,
    /// How reasons name it.
    pub(crate) name: String,
}

/// Publishers and signers that use OIDC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Oidc {
    /// Variables a script reads to request an OIDC token itself.
    pub(crate) request_variables: Vec<String>,
    /// npm and friends.
    pub(crate) npm: Npm,
    /// `uv publish`.
    pub(crate) uv: Uv,
    /// sigstore-python.
    pub(crate) sigstore: Sigstore,
    /// cosign.
    pub(crate) cosign: Cosign,
}

/// `npm publish` and friends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Npm {
    /// The tools.
    pub(crate) tools: Vec<String>,
    /// The option that signs provenance.
    pub(crate) provenance_option: String,
    /// The variable that turns provenance on (`true`).
    pub(crate) provenance_env: String,
    /// The variable holding the registry token.
    pub(crate) token_env: String,
    /// The option of a dry run.
    pub(crate) dry_run_option: String,
    #[serde(rename = "source")]
    _source: Source,
}

/// `uv publish`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Uv {
    /// Options that give credentials.
    pub(crate) credential_options: Vec<String>,
    /// The same, attached.
    pub(crate) credential_prefixes: Vec<String>,
    /// Variables that give credentials.
    pub(crate) credential_env: Vec<String>,
    #[serde(rename = "source")]
    _source: Source,
}

/// sigstore-python.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sigstore {
    /// Interpreters that run it with `-m sigstore`.
    pub(crate) interpreters: Vec<String>,
    #[serde(rename = "source")]
    _source: Source,
}

/// cosign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cosign {
    /// Subcommands that sign.
    pub(crate) subcommands: Vec<String>,
    /// Options that give a key (then it is not keyless).
    pub(crate) key_options: Vec<String>,
    /// The same, attached.
    pub(crate) key_prefixes: Vec<String>,
    #[serde(rename = "source")]
    _source: Source,
}

/// True when `list` holds `word`.
pub(crate) fn has(list: &[String], word: &str) -> bool {
    list.iter().any(|w| w == word)
}

/// The value after an attached option (`-XPOST` -> `POST`, `--method=` -> ``): a prefix
/// ending with `=` may be followed by nothing, another needs something after it.
pub(crate) fn attached<'w>(prefixes: &[String], word: &'w str) -> Option<&'w str> {
    prefixes.iter().find_map(|p| {
        let rest = word.strip_prefix(p.as_str())?;
        (p.ends_with('=') || !rest.is_empty()).then_some(rest)
    })
}

fn parsed<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Parses `data/shell-tools.yml`.
pub(crate) fn load() -> Result<ShellTools, KbError> {
    load_from(TEXT)
}

fn load_from(text: &str) -> Result<ShellTools, KbError> {
    super::kb::read(FILE, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_rejects_unknown_fields() {
        let tools = match load() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert!(has(&tools.http.tools, "curl"));
        assert_eq!(tools.gh.aliases.get("ls").map(String::as_str), Some("list"));
        let bad = TEXT.replacen("prefixes:\n", "prefixes:\n  typo: [x]\n", 1);
        assert!(load_from(&bad).is_err());
        let bad_scope = TEXT.replacen("scope: packages", "scope: pakages", 1);
        assert!(load_from(&bad_scope).is_err());
        let methods = ["--method=".to_owned(), "-X".to_owned()];
        assert_eq!(attached(&methods, "-XPOST"), Some("POST"));
        assert_eq!(attached(&methods, "-X"), None);
        assert_eq!(attached(&methods, "--method="), Some(""));
    }
}
