//! Recognising the job's `GITHUB_TOKEN` in expressions, `env:` blocks and scripts.

use std::collections::{BTreeMap, BTreeSet};

use harden_yaml::{Node, NodeKind};

/// Which expressions stand for the job's token in the file being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenCtx {
    /// `secrets.<name>` holding the job token (lowercase): `github_token`, plus secrets a
    /// caller passed it as.
    pub(crate) secrets: BTreeSet<String>,
    /// `inputs.<name>` holding the job token (lowercase): composite action inputs defaulting
    /// to it, or reusable workflow inputs a caller passed it in.
    pub(crate) inputs: BTreeSet<String>,
}

impl TokenCtx {
    /// The context of a workflow run directly by an event.
    pub(crate) fn workflow() -> Self {
        TokenCtx {
            secrets: BTreeSet::from(["github_token".to_owned()]),
            inputs: BTreeSet::new(),
        }
    }
}

/// Is a value the job's token?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenValue {
    /// The job's `GITHUB_TOKEN` (possibly among other things: `secrets.PAT || github.token`).
    Job,
    /// Something else (a PAT, an app token, a literal).
    Other,
    /// Not set, or empty.
    Absent,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvVar {
    pub(crate) value: String,
    pub(crate) token: TokenValue,
}

/// Environment variables visible to a step (workflow, job, step levels merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Env {
    pub(crate) vars: BTreeMap<String, EnvVar>,
}

impl Env {
    /// This environment extended by an `env:` mapping (later levels win). Returns the new
    /// environment and whether that mapping itself holds the job token.
    pub(crate) fn child(&self, node: Option<&Node>, ctx: &TokenCtx) -> (Env, bool) {
        let mut out = self.clone();
        let mut holds_token = false;
        if let Some(NodeKind::Mapping(m)) = node.map(|n| &n.kind) {
            for e in &m.entries {
                let Some(k) = e.key_str() else { continue };
                let value = scalar_text(&e.value);
                let token = classify(&value, ctx, self);
                holds_token |= token == TokenValue::Job;
                out.vars.insert(k.to_owned(), EnvVar { value, token });
            }
        }
        (out, holds_token)
    }

    /// The variable's classification (absent when unset).
    pub(crate) fn token(&self, name: &str) -> TokenValue {
        self.vars.get(name).map_or(TokenValue::Absent, |v| v.token)
    }

    /// The literal value, when set.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// Names of the variables that hold the job token.
    pub(crate) fn token_names(&self) -> impl Iterator<Item = &str> {
        self.vars
            .iter()
            .filter(|(_, v)| v.token == TokenValue::Job)
            .map(|(k, _)| k.as_str())
    }

    /// True when any variable holds the job token.
    pub(crate) fn has_token(&self) -> bool {
        self.token_names().next().is_some()
    }
}

/// The text of a scalar node (empty for anything else).
pub(crate) fn scalar_text(node: &Node) -> String {
    node.as_str().map(str::to_owned).unwrap_or_default()
}

/// Classifies a value written in a workflow (`with:` input, `env:` value).
pub(crate) fn classify(value: &str, ctx: &TokenCtx, env: &Env) -> TokenValue {
    if value.trim().is_empty() {
        TokenValue::Absent
    } else if mentions_job_token(value, ctx, env) {
        TokenValue::Job
    } else {
        TokenValue::Other
    }
}

/// The bodies of the `${{ ... }}` expressions in `text`.
pub(crate) fn expressions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        match after.find("}}") {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 2..];
            }
            None => {
                out.push(after);
                break;
            }
        }
    }
    out
}

/// True when an expression in `text` evaluates to (or may evaluate to) the job token.
pub(crate) fn mentions_job_token(text: &str, ctx: &TokenCtx, env: &Env) -> bool {
    expressions(text)
        .into_iter()
        .any(|body| expression_is_token(body, ctx, env))
}

fn expression_is_token(body: &str, ctx: &TokenCtx, env: &Env) -> bool {
    let lower: String = body
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // `github['token']` and `secrets["X"]` written with an index.
    let lower = lower
        .replace("['", ".")
        .replace("[\"", ".")
        .replace("']", "")
        .replace("\"]", "");
    if has_property(&lower, "github", "token") {
        return true;
    }
    if ctx
        .secrets
        .iter()
        .any(|s| has_property(&lower, "secrets", s))
    {
        return true;
    }
    if ctx.inputs.iter().any(|i| has_property(&lower, "inputs", i)) {
        return true;
    }
    env.token_names()
        .any(|name| has_property(&lower, "env", &name.to_ascii_lowercase()))
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `object.property` in a lowercased expression, as whole names.
fn has_property(expr: &str, object: &str, property: &str) -> bool {
    let needle = format!("{object}.{property}");
    let mut from = 0;
    while let Some(i) = expr[from..].find(&needle) {
        let start = from + i;
        let end = start + needle.len();
        let before_ok = expr[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident_char(c) && c != '.');
        let after_ok = expr[end..].chars().next().is_none_or(|c| !is_ident_char(c));
        if before_ok && after_ok {
            return true;
        }
        from = end;
    }
    false
}

/// True when `text` names the variable `name` as a whole word (`$NAME`, `${NAME}`,
/// `$env:NAME`, `%NAME%`, `os.environ["NAME"]`...).
pub(crate) fn mentions_word(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let start = from + i;
        let end = start + name.len();
        let before_ok = text[..start].chars().next_back().is_none_or(|c| !word(c));
        let after_ok = text[end..].chars().next().is_none_or(|c| !word(c));
        if before_ok && after_ok {
            return true;
        }
        from = end;
    }
    false
}

/// Names of the shell variables a word refers to: `$A`, `${A}`, `${A:-x}`, `$env:A`, `%A%`.
pub(crate) fn variable_refs(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = word.chars().collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '$' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'{') {
                    j += 1;
                }
                let rest: String = chars[j..].iter().take(4).collect();
                if rest.eq_ignore_ascii_case("env:") {
                    j += 4;
                }
                let start = j;
                while j < chars.len() && ident(chars[j]) {
                    j += 1;
                }
                if j > start {
                    out.push(chars[start..j].iter().collect());
                }
                i = j.max(i + 1);
            }
            '%' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && ident(chars[j]) {
                    j += 1;
                }
                if j > start && chars.get(j) == Some(&'%') {
                    out.push(chars[start..j].iter().collect());
                    i = j + 1;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_job_token() {
        let ctx = TokenCtx::workflow();
        let env = Env::default();
        for yes in [
            "${{ github.token }}",
            "${{ secrets.GITHUB_TOKEN }}",
            "${{secrets.github_token}}",
            "${{ secrets.PAT || github.token }}",
            "token ${{ github['token'] }}",
        ] {
            assert_eq!(classify(yes, &ctx, &env), TokenValue::Job, "{yes}");
        }
        for no in [
            "${{ secrets.GITHUB_TOKEN_PAT }}",
            "${{ secrets.PAT }}",
            "${{ steps.app.outputs.token }}",
            "github.token",
            "${{ github.token_x }}",
        ] {
            assert_eq!(classify(no, &ctx, &env), TokenValue::Other, "{no}");
        }
        assert_eq!(classify("", &ctx, &env), TokenValue::Absent);
    }

    #[test]
    fn finds_variable_references() {
        assert_eq!(variable_refs("Bearer ${GH_TOKEN}"), vec!["GH_TOKEN"]);
        assert_eq!(variable_refs("$env:GITHUB_TOKEN"), vec!["GITHUB_TOKEN"]);
        assert_eq!(variable_refs("%TOKEN%x$A"), vec!["TOKEN", "A"]);
        assert!(mentions_word("os.environ['GH_TOKEN']", "GH_TOKEN"));
        assert!(!mentions_word("MY_GH_TOKEN", "GH_TOKEN"));
    }
}
