//! `$GITHUB_ENV` within a job: a run step that writes `NAME=value` there
//! (`echo "NAME=value" >> "$GITHUB_ENV"`) defines `$NAME` for the later steps of the job, so
//! a later `${CONDA_RUN} python -m pytest` is the command written there, not an opaque one.
//!
//! Only plain lines are understood: `echo` without options, and `printf` with a format that
//! is the line itself (or `%s\n` and one argument). Any other mention of `GITHUB_ENV` (a
//! heredoc, `cat`, `tee`, a script) is a write harden cannot read, which forgets every value
//! read so far.

use std::collections::BTreeMap;

use super::expr::mentions_word;

/// What one command does to `$GITHUB_ENV`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvWrite {
    /// Appends `NAME=value`.
    Defines(String, String),
    /// Touches the file in a way harden does not read.
    Unknown,
}

fn is_env_file(word: &str) -> bool {
    matches!(word, "$GITHUB_ENV" | "${GITHUB_ENV}")
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What the command `words` (its command word at `ci`) writes to `$GITHUB_ENV`, if it
/// mentions the file at all.
pub(crate) fn write_of(words: &[String], ci: usize) -> Option<EnvWrite> {
    if !words.iter().any(|w| w.contains("GITHUB_ENV")) {
        return None;
    }
    Some(defines(words, ci).map_or(EnvWrite::Unknown, |(n, v)| EnvWrite::Defines(n, v)))
}

fn defines(words: &[String], ci: usize) -> Option<(String, String)> {
    // `... >> "$GITHUB_ENV"` or `... >>"$GITHUB_ENV"`, last on the line.
    let (args_end, target) = match words.len().checked_sub(ci)? {
        n if n >= 3 && words[words.len() - 2] == ">>" => (words.len() - 2, words.last()?),
        n if n >= 2 => (words.len() - 1, words.last()?),
        _ => return None,
    };
    let target = if args_end == words.len() - 1 {
        target.strip_prefix(">>")?
    } else {
        target.as_str()
    };
    if !is_env_file(target) {
        return None;
    }
    let args = &words[ci + 1..args_end];
    let line = match words[ci].as_str() {
        "echo" if args.first().is_some_and(|a| !a.starts_with('-')) => args.join(" "),
        "printf" => match args {
            [format] => format.strip_suffix("\\n")?.to_owned(),
            [format, value] if format == "%s\\n" => value.clone(),
            _ => return None,
        },
        _ => return None,
    };
    // Escapes, other format directives and expressions could make it something else.
    if line.contains(['\\', '%', '\n']) || line.contains("${{") {
        return None;
    }
    let (name, value) = line.split_once('=')?;
    is_name(name).then(|| (name.to_owned(), value.to_owned()))
}

/// The words a value written to `$GITHUB_ENV` gives when it is expanded as a command
/// (unquoted, so split at blanks), when harden can tell: no quotes, backslashes or shell
/// operators (they would be literal characters, not syntax), and a first word that is not
/// itself a variable.
pub(crate) fn command_words(value: &str) -> Option<Vec<String>> {
    if value.contains([
        '\'', '"', '\\', '`', ';', '|', '&', '<', '>', '(', ')', '*', '?', '[',
    ]) {
        return None;
    }
    let words: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
    words
        .first()
        .is_some_and(|w| !w.contains('$') && !w.starts_with('~'))
        .then_some(words)
}

/// The name `word` expands, when it is exactly `$NAME` or `${NAME}`.
pub(crate) fn expanded_name(word: &str) -> Option<&str> {
    let name = word
        .strip_prefix("${")
        .and_then(|w| w.strip_suffix('}'))
        .or_else(|| word.strip_prefix('$'))?;
    is_name(name).then_some(name)
}

/// `${PREFIX}mkdocs` or `$BIN/tool`: a variable that starts the word, and the rest of the
/// word (no other expansion in it).
pub(crate) fn prefix_variable(word: &str) -> Option<(&str, &str)> {
    let (name, suffix) = match word.strip_prefix("${") {
        Some(rest) => {
            let end = rest.find('}')?;
            (&rest[..end], &rest[end + 1..])
        }
        None => {
            let rest = word.strip_prefix('$')?;
            let end = rest.find('/')?;
            (&rest[..end], &rest[end..])
        }
    };
    (is_name(name) && !suffix.is_empty() && !suffix.contains(['$', '`'])).then_some((name, suffix))
}

/// True when `script` mentions `name` only as `$name` or `${name}` (never sets, reads or
/// unsets it).
fn only_expanded(script: &str, name: &str) -> bool {
    if !mentions_word(script, name) {
        return true;
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    script.match_indices(name).all(|(i, _)| {
        let head = &script[..i];
        let next = script[i + name.len()..].chars().next();
        let whole = !head.chars().last().is_some_and(ident) && !next.is_some_and(ident);
        !whole || head.ends_with('$') || (head.ends_with("${") && next == Some('}'))
    })
}

/// The values of `known` that `script` can expand as a command: the ones it does not set
/// itself, as words.
pub(crate) fn command_values(
    known: &BTreeMap<String, String>,
    script: &str,
) -> BTreeMap<String, Vec<String>> {
    known
        .iter()
        .filter(|(name, _)| only_expanded(script, name))
        .filter_map(|(name, value)| Some((name.clone(), command_words(value)?)))
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_variable_can_start_a_command_word() {
        assert_eq!(
            prefix_variable("${PREFIX}mkdocs"),
            Some(("PREFIX", "mkdocs"))
        );
        assert_eq!(prefix_variable("$BIN/tool"), Some(("BIN", "/tool")));
        assert_eq!(prefix_variable("${PREFIX}"), None);
        assert_eq!(prefix_variable("$PREFIX"), None);
        assert_eq!(prefix_variable("${A}${B}"), None);
        assert_eq!(prefix_variable("${1x}y"), None);
    }
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn reads_plain_lines() {
        let line = vec![
            "echo".to_owned(),
            "CONDA_RUN=conda run -p ${CONDA_ENV} --no-capture-output".to_owned(),
            ">>".to_owned(),
            "${GITHUB_ENV}".to_owned(),
        ];
        assert_eq!(
            write_of(&line, 0),
            Some(EnvWrite::Defines(
                "CONDA_RUN".into(),
                "conda run -p ${CONDA_ENV} --no-capture-output".into()
            ))
        );
        assert_eq!(
            write_of(&w("echo A=1 >>$GITHUB_ENV"), 0),
            Some(EnvWrite::Defines("A".into(), "1".into()))
        );
        assert_eq!(
            write_of(&w("printf %s\\n B=x >> $GITHUB_ENV"), 0),
            Some(EnvWrite::Defines("B".into(), "x".into()))
        );
        assert_eq!(
            write_of(&w("echo -n A=1 >> $GITHUB_ENV"), 0),
            Some(EnvWrite::Unknown)
        );
        assert_eq!(
            write_of(&w("cat x >> $GITHUB_ENV"), 0),
            Some(EnvWrite::Unknown)
        );
        assert_eq!(
            write_of(&w("echo A<<EOF >> $GITHUB_ENV"), 0),
            Some(EnvWrite::Unknown)
        );
        assert_eq!(
            write_of(&w("echo A=1 > $GITHUB_ENV"), 0),
            Some(EnvWrite::Unknown)
        );
        assert_eq!(write_of(&w("echo A=1 >> $GITHUB_OUTPUT"), 0), None);
    }

    #[test]
    fn expands_only_what_the_script_does_not_set() {
        let known: BTreeMap<String, String> = [
            ("RUN".to_owned(), "conda run -n x".to_owned()),
            ("TOOL".to_owned(), "$HOME/bin/tool".to_owned()),
        ]
        .into_iter()
        .collect();
        let got = command_values(&known, "${RUN} pytest\n$TOOL build");
        assert_eq!(got.get("RUN"), Some(&w("conda run -n x")));
        assert!(!got.contains_key("TOOL"));
        assert!(command_values(&known, "RUN=x\n$RUN").is_empty());
        assert!(command_values(&known, "unset RUN; $RUN").is_empty());
        assert_eq!(expanded_name("${RUN}"), Some("RUN"));
        assert_eq!(expanded_name("${RUN:-x}"), None);
    }
}
