//! The command knowledge base (`data/commands.yml`): commands that push or publish with
//! credentials they find by themselves, commands known to be read-only, the events whose
//! token can write, and the wrappers that run another command (`bundle exec`, `npx`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use harden_yaml::Entries;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, IgnoredAny, Visitor};
use serde::Deserialize;

use super::kb::{read, Grants, KbError, Key, KeyRule};
use super::scopes::{Access, Scope};

const FILE: &str = "commands.yml";
const TEXT: &str = include_str!("../../data/commands.yml");

/// Which credentials a writer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Credentials {
    /// What git holds (the checkout's persisted job token).
    Git,
    /// `GITHUB_TOKEN` / `GH_TOKEN` from the environment.
    Token,
    /// Either of them.
    Either,
}

/// A command that writes with credentials it finds by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Writer {
    /// `mkdocs gh-deploy`
    pub(crate) key: String,
    pub(crate) credentials: Credentials,
    pub(crate) with_args: Vec<String>,
    pub(crate) permissions: BTreeMap<Scope, Access>,
    pub(crate) reason: String,
    pub(crate) commits: bool,
    pub(crate) undetermined: Option<String>,
}

/// Words that run the words after them as the command (`bundle exec`, `conda run -n X`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Wrapper {
    /// `[conda, run]`
    words: Vec<String>,
    /// When set, the wrapper's options are all known: these take a value (`-n NAME`), the
    /// `flags` do not, and any other option stops the unwrapping (the command is unknown).
    value_options: Option<BTreeSet<String>>,
    flags: BTreeSet<String>,
    /// Prefixes of the wrapper's own one-word arguments (`hatch run +py=3.9`).
    selections: Vec<String>,
}

/// Where unwrapping stopped at an option of a wrapper that harden does not know (its value,
/// if it takes one, could be taken for the command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownWrapperOption {
    /// The index of the option.
    pub(crate) at: usize,
}

/// `data/commands.yml`, loaded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Commands {
    pub(crate) write_events: BTreeSet<String>,
    wrappers: Vec<Wrapper>,
    writers: HashMap<String, Writer>,
    read_only: BTreeSet<String>,
    opaque_words: Vec<String>,
    goal_runners: BTreeSet<String>,
    build_variables: BTreeSet<String>,
}

/// The keys of `writers`: lowercase `name` or `name sub`.
struct WriterRule;

impl KeyRule for WriterRule {
    const RULE: &'static str = "keys are lowercase `name` or `name sub`";

    fn fits(key: &str) -> bool {
        key.split(' ').count() <= 2 && key == key.to_ascii_lowercase()
    }
}

/// A writer as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWriter {
    credentials: Credentials,
    #[serde(default)]
    with_args: Vec<String>,
    permissions: Grants,
    #[serde(deserialize_with = "whole_phrase")]
    reason: String,
    #[serde(default)]
    commits: bool,
    undetermined: Option<String>,
    #[serde(rename = "source")]
    _source: IgnoredAny,
}

impl RawWriter {
    fn into_writer(self, key: String) -> Writer {
        Writer {
            key,
            credentials: self.credentials,
            with_args: self.with_args,
            permissions: self.permissions.into_map(),
            reason: self.reason,
            commits: self.commits,
            undetermined: self.undetermined,
        }
    }
}

/// A reason that is a whole phrase.
fn whole_phrase<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let reason = String::deserialize(deserializer)?;
    if reason.ends_with("...") {
        return Err(serde::de::Error::custom("reasons are whole phrases"));
    }
    Ok(reason)
}

/// A wrapper with its options, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrapper {
    run: Vec<String>,
    #[serde(default)]
    value_options: BTreeSet<String>,
    #[serde(default)]
    flags: BTreeSet<String>,
    #[serde(default)]
    selections: Vec<String>,
    #[serde(rename = "source")]
    _source: IgnoredAny,
}

impl<'de> Deserialize<'de> for Wrapper {
    /// Either the words (`[bundle, exec]`) or `{run, value_options, flags, source}`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WrapperVisitor;

        impl<'de> Visitor<'de> for WrapperVisitor {
            type Value = Wrapper;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of words, or a mapping with `run`")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Wrapper, A::Error> {
                let words = Vec::<String>::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(Wrapper {
                    words,
                    ..Wrapper::default()
                })
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Wrapper, A::Error> {
                let raw = RawWrapper::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Wrapper {
                    words: raw.run,
                    value_options: Some(raw.value_options),
                    flags: raw.flags,
                    selections: raw.selections,
                })
            }
        }

        let wrapper = deserializer.deserialize_any(WrapperVisitor)?;
        if wrapper.words.is_empty() {
            return Err(de::Error::custom("an empty wrapper"));
        }
        Ok(wrapper)
    }
}

/// `commands.yml` as written.
#[derive(Deserialize)]
struct CommandsFile {
    write_events: BTreeSet<String>,
    #[serde(default)]
    wrappers: Vec<Wrapper>,
    writers: Entries<Key<WriterRule>, RawWriter>,
    read_only: BTreeSet<String>,
    #[serde(default)]
    opaque_words: Vec<String>,
    #[serde(default)]
    goal_runners: BTreeSet<String>,
    #[serde(default)]
    build_variables: BTreeSet<String>,
}

/// Parses `data/commands.yml`.
pub(crate) fn load() -> Result<Commands, KbError> {
    load_from(TEXT)
}

fn load_from(text: &str) -> Result<Commands, KbError> {
    let file: CommandsFile = read(FILE, text)?;
    if file.write_events.is_empty() || file.read_only.is_empty() {
        return Err(KbError {
            file: FILE,
            line: 1,
            column: 1,
            message: "`write_events` and `read_only` must not be empty".to_owned(),
        });
    }
    Ok(Commands {
        write_events: file.write_events,
        wrappers: file.wrappers,
        writers: file
            .writers
            .0
            .into_iter()
            .map(|(k, w)| (k.0.clone(), w.into_writer(k.0)))
            .collect(),
        read_only: file.read_only,
        opaque_words: file.opaque_words,
        goal_runners: file.goal_runners,
        build_variables: file.build_variables,
    })
}

/// The lowercase name of a command word (`./bin/Tool.exe` -> `tool`), without the version a
/// package runner takes (`npx prettier@3.5`, `uvx ruff@0.6` -> `prettier`, `ruff`).
pub(crate) fn command_name(word: &str) -> String {
    let name = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let name = match name.split_once('@') {
        Some((package, _)) if !package.is_empty() => package,
        _ => name,
    };
    name.to_ascii_lowercase()
        .trim_end_matches(".exe")
        .to_owned()
}

/// The first word after `from` that is not an option.
fn first_positional(words: &[String], from: usize) -> Option<&str> {
    words
        .get(from..)?
        .iter()
        .map(String::as_str)
        .find(|w| !w.starts_with('-'))
}

impl Wrapper {
    /// The index after the wrapper's options starting at `ci`.
    fn skip_options(&self, words: &[String], mut ci: usize) -> Result<usize, UnknownWrapperOption> {
        let Some(value_options) = &self.value_options else {
            // Options of the wrapper (`npx --yes x`).
            while words.get(ci).is_some_and(|w| w.starts_with('-')) && ci + 1 < words.len() {
                ci += 1;
            }
            return Ok(ci);
        };
        let selection = |w: &str| self.selections.iter().any(|p| w.starts_with(p.as_str()));
        while let Some(word) = words.get(ci).filter(|w| w.starts_with('-') || selection(w)) {
            if word == "--" {
                ci += 1;
                break;
            }
            if selection(word) {
                ci += 1;
                continue;
            }
            let (name, inline_value) = match word.split_once('=') {
                Some((n, _)) => (n, true),
                None => (word.as_str(), false),
            };
            if value_options.contains(name) {
                ci += if inline_value { 1 } else { 2 };
            } else if self.flags.contains(name) && !inline_value {
                ci += 1;
            } else {
                return Err(UnknownWrapperOption { at: ci });
            }
        }
        if ci >= words.len() {
            return Err(UnknownWrapperOption {
                at: ci.min(words.len() - 1),
            });
        }
        Ok(ci)
    }
}

impl Commands {
    /// The index of the command word once wrappers (`bundle exec`, `python -m`) are skipped;
    /// an option of a wrapper whose options are all listed (`conda run --unknown x`) is an
    /// error: harden cannot tell where the command starts.
    pub(crate) fn unwrap_checked(
        &self,
        words: &[String],
        mut ci: usize,
    ) -> Result<usize, UnknownWrapperOption> {
        'outer: for _ in 0..4 {
            for w in &self.wrappers {
                let matches = w.words.iter().enumerate().all(|(k, part)| {
                    words
                        .get(ci + k)
                        .is_some_and(|word| command_name(word) == *part || word == part)
                });
                if matches && ci + w.words.len() < words.len() {
                    ci += w.words.len();
                    ci = w.skip_options(words, ci)?;
                    continue 'outer;
                }
            }
            break;
        }
        Ok(ci)
    }

    /// The writer the command at `ci` is, if any.
    pub(crate) fn writer(&self, words: &[String], ci: usize) -> Option<&Writer> {
        let name = command_name(words.get(ci)?);
        let sub = first_positional(words, ci + 1).unwrap_or_default();
        let w = self
            .writers
            .get(&format!("{name} {}", sub.to_ascii_lowercase()))
            .or_else(|| self.writers.get(&name))?;
        if w.with_args.is_empty() {
            return Some(w);
        }
        let given = words[ci + 1..].iter().any(|a| {
            let flag = a.split('=').next().unwrap_or(a);
            w.with_args.iter().any(|x| x == flag)
        });
        given.then_some(w)
    }

    /// True when the command at `ci` is known not to write with credentials it finds.
    pub(crate) fn is_read_only(&self, words: &[String], ci: usize) -> bool {
        let Some(word) = words.get(ci) else {
            return true;
        };
        let name = command_name(word);
        if !self.read_only.contains(&name) {
            return false;
        }
        if !self.goal_runners.contains(&name) {
            return true;
        }
        // A goal or package script named like a deployment: `npm run deploy`, `mvn deploy`.
        !words[ci + 1..].iter().any(|a| {
            let a = a.to_ascii_lowercase();
            !a.starts_with('-')
                && !a.contains(['/', '$', ' ', '.'])
                && a.split([':', '-', '_'])
                    .any(|part| self.opaque_words.iter().any(|o| part == o))
        })
    }

    /// True when a part of `word` (split at `/`, `.`, `:`, `-`, `_`) is one of
    /// `opaque_words` or `push`: a name that says it deploys (`deploy-docs`, `./publish.sh`).
    pub(crate) fn names_deploy(&self, word: &str) -> bool {
        word.to_ascii_lowercase()
            .split(['/', '\\', '.', ':', '-', '_'])
            .any(|part| part == "push" || self.opaque_words.iter().any(|o| part == o))
    }

    /// True when `$name` run as a command is a build tool the environment names (`$CC`).
    pub(crate) fn is_build_variable(&self, name: &str) -> bool {
        self.build_variables.contains(name)
    }

    /// True when `name` is in the read-only list (whatever its arguments).
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.read_only.contains(name)
    }

    /// True when `event` can give the job token write access.
    pub(crate) fn can_write(&self, event: &str) -> bool {
        self.write_events.contains(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unwrapped(c: &Commands, words: &[String]) -> usize {
        match c.unwrap_checked(words, 0) {
            Ok(ci) => ci,
            Err(u) => panic!("unknown wrapper option at {}", u.at),
        }
    }

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn loads_and_matches() {
        let c = match load() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert!(c.can_write("push") && !c.can_write("pull_request"));
        let words = w("mkdocs gh-deploy --force");
        assert!(c
            .writer(&words, 0)
            .is_some_and(|w| w.key == "mkdocs gh-deploy"));
        assert!(c.writer(&w("mkdocs build"), 0).is_none());
        assert!(c.writer(&w("mike deploy 1.0"), 0).is_none());
        assert!(c.writer(&w("mike deploy --push 1.0"), 0).is_some());
        let words = w("bundle exec rake release");
        let ci = unwrapped(&c, &words);
        assert_eq!(ci, 2);
        assert!(c.writer(&words, ci).is_some());
        let words = w("python -m mkdocs gh-deploy");
        assert!(c.writer(&words, unwrapped(&c, &words)).is_some());
        let words = w("conda run -p /x --no-capture-output mkdocs gh-deploy");
        assert!(c.writer(&words, unwrapped(&c, &words)).is_some());
        let words = w("micromamba run --cwd=docs -n docs mkdocs gh-deploy");
        assert_eq!(c.unwrap_checked(&words, 0), Ok(5));
        let words = w("conda run --unknown x mkdocs gh-deploy");
        assert_eq!(c.unwrap_checked(&words, 0).map_err(|u| u.at), Err(2));
        assert!(c.unwrap_checked(&w("conda run -n x"), 0).is_err());
        assert_eq!(c.unwrap_checked(&w("pipenv run pytest"), 0), Ok(2));
        let words = w("uv run --with pytest --frozen -- mkdocs gh-deploy");
        assert!(c.writer(&words, unwrapped(&c, &words)).is_some());
        let words = w("uv run -m mkdocs gh-deploy");
        assert!(c.writer(&words, unwrapped(&c, &words)).is_some());
        let words = w("hatch run +py=3.9 mkdocs gh-deploy --force");
        assert_eq!(c.unwrap_checked(&words, 0), Ok(3));
        assert!(c.writer(&words, 3).is_some());
        assert_eq!(
            c.unwrap_checked(&w("hatch run -py=3.9,3.10 -- git push"), 0),
            Ok(4)
        );
        assert_eq!(c.unwrap_checked(&w("pdm run -v git push"), 0), Ok(3));
        assert_eq!(c.unwrap_checked(&w("pipx run --spec x git push"), 0), Ok(4));
        assert_eq!(c.unwrap_checked(&w("conda run -n x git push"), 0), Ok(4));
        assert!(c
            .unwrap_checked(&w("pdm run --unknown x git push"), 0)
            .is_err());
        let words = w("npx semantic-release@24");
        assert!(c.writer(&words, unwrapped(&c, &words)).is_some());
        assert!(c.is_read_only(&w("npx prettier@3.5 --check ."), 1));
        assert_eq!(command_name("@scope/tool@1.2"), "tool");
        assert!(c.is_read_only(&w("npm run build"), 0));
        assert!(!c.is_read_only(&w("npm run deploy"), 0));
        assert!(c.is_read_only(&w("cargo build --release"), 0));
        assert!(c.is_read_only(&w("pytest tests/test_release.py"), 0));
        assert!(!c.is_read_only(&w("my-tool"), 0));
    }

    #[test]
    fn invalid_entries_are_rejected() {
        let base = "write_events: [push]\nread_only: [ls]\n";
        let bad = format!("{base}writers:\n  x:\n    credentials: git\n    permissions: {{contnets: write}}\n    reason: r\n    source: s\n");
        let e = load_from(&bad).expect_err("unknown scope");
        assert_eq!((e.line, e.column), (6, 19), "{e}");
        assert!(
            e.to_string()
                .starts_with("data/commands.yml:6:19: writers.x.permissions"),
            "{e}"
        );
        let no_source = format!(
            "{base}writers:\n  x:\n    credentials: git\n    permissions: {{}}\n    reason: r\n"
        );
        assert!(load_from(&no_source).is_err());
        let cut = format!("{base}writers:\n  x:\n    credentials: git\n    permissions: {{}}\n    reason: r...\n    source: s\n");
        assert!(load_from(&cut).is_err());
        let ok = format!("{base}writers:\n  x:\n    credentials: git\n    permissions: {{}}\n    reason: r\n    source: s\n");
        assert!(load_from(&ok).is_ok());
    }
}
