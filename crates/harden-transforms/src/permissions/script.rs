//! `actions/github-script`: the REST calls of the script, mapped with `rest-endpoints.yml`.

use super::endpoints::{match_endpoint, normalise_path};
use super::kb::{Kb, Need};
use super::scopes::ScopeSet;

/// What a github-script step needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScriptResult {
    pub(crate) needs: ScopeSet,
    pub(crate) unsure: Vec<String>,
    pub(crate) notes: Vec<String>,
}

/// Octokit namespaces, for scripts written for github-script v4 and older (`github.issues.x`).
const NAMESPACES: &[&str] = &[
    "actions",
    "checks",
    "git",
    "issues",
    "pulls",
    "repos",
    "reactions",
    "packages",
    "codeScanning",
    "dependabot",
    "secretScanning",
    "dependencyGraph",
    "users",
    "search",
    "orgs",
    "teams",
    "rateLimit",
    "meta",
    "markdown",
];

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The string literal starting at `s` (after blanks), without its quotes.
fn string_literal(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let quote = s.chars().next()?;
    if !matches!(quote, '"' | '\'' | '`') {
        return None;
    }
    let rest = &s[1..];
    let end = rest.find(quote)?;
    let lit = &rest[..end];
    if quote == '`' && lit.contains("${") {
        return None;
    }
    Some(lit)
}

/// Analyses the `script` input of actions/github-script.
pub(crate) fn analyze_script(kb: &Kb, script: &str, label: &str) -> ScriptResult {
    let mut scan = Scan {
        kb,
        label,
        out: ScriptResult::default(),
    };
    scan.rest_calls(script);
    scan.legacy_calls(script);
    if script.contains("getIDToken(") {
        scan.out.needs.add(
            super::scopes::Scope::IdToken,
            super::scopes::Access::Write,
            label,
            "requests a GitHub OIDC token",
        );
    }
    if script.contains(".graphql") {
        scan.unsure("the script calls the GraphQL API, which harden cannot map".into());
    }
    scan.route_calls(script);
    scan.unread_code(script);
    scan.out
}

/// The analysis of one github-script `script`, under way.
struct Scan<'a> {
    kb: &'a Kb,
    label: &'a str,
    out: ScriptResult,
}

impl Scan<'_> {
    fn unsure(&mut self, reason: String) {
        if !self.out.unsure.contains(&reason) {
            self.out.unsure.push(reason);
        }
    }

    /// What calling the endpoint `name` needs.
    fn add(&mut self, name: &str, need: &Need) {
        match need {
            Need::Scope(s, a) => self
                .out
                .needs
                .add(*s, *a, self.label, &format!("calls {name}")),
            Need::NotGrantable(perm, a) => {
                let note = format!("the script calls {name}, which needs {perm} {a}; the GITHUB_TOKEN cannot be given it");
                if !self.out.notes.contains(&note) {
                    self.out.notes.push(note);
                }
            }
            Need::Nothing | Need::Endpoint => {}
        }
    }

    /// The endpoint `ns.method` as written in the script (`shown` prefixes it in reasons).
    fn endpoint(&mut self, name: &str, shown: &str) {
        match self.kb.endpoint(name) {
            Some(e) => self.add(name, &e.need),
            None => self.unsure(format!(
                "the script calls {shown}{name}, which is not in rest-endpoints.yml"
            )),
        }
    }

    /// `github.rest.ns.method`, `octokit.rest.ns.method`, any `x.rest.ns.method`.
    fn rest_calls(&mut self, script: &str) {
        let computed = "the script calls the REST API with a computed method name";
        let mut from = 0;
        while let Some(i) = script[from..].find(".rest") {
            let at = from + i + ".rest".len();
            from = at;
            let rest = &script[at..];
            if rest.starts_with('[') {
                self.unsure(computed.into());
                continue;
            }
            let Some(rest) = rest.strip_prefix('.') else {
                continue;
            };
            let ns = ident_at(rest);
            let after = &rest[ns.len()..];
            if after.starts_with('[') {
                self.unsure(computed.into());
                continue;
            }
            let Some(after) = after.strip_prefix('.') else {
                continue;
            };
            let method = ident_at(after);
            if ns.is_empty() || method.is_empty() {
                continue;
            }
            self.endpoint(&format!("{ns}.{method}"), "github.rest.");
        }
    }

    /// Legacy `github.issues.createComment(...)`.
    fn legacy_calls(&mut self, script: &str) {
        let mut from = 0;
        while let Some(i) = script[from..].find("github.") {
            let start = from + i;
            let at = start + "github.".len();
            from = at;
            let before_ok = script[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
            if !before_ok {
                continue;
            }
            let rest = &script[at..];
            let ns = ident_at(rest);
            if !NAMESPACES.contains(&ns) {
                continue;
            }
            let Some(after) = rest[ns.len()..].strip_prefix('.') else {
                continue;
            };
            let method = ident_at(after);
            self.endpoint(&format!("{ns}.{method}"), "github.");
        }
    }

    /// `github.request('POST /repos/...')` and `github.paginate('GET ...')`.
    fn route_calls(&mut self, script: &str) {
        for call in [".request(", ".paginate("] {
            let mut from = 0;
            while let Some(i) = script[from..].find(call) {
                let at = from + i + call.len();
                from = at;
                let arg = &script[at..];
                if call == ".paginate("
                    && arg.trim_start().contains(".rest.")
                    && !arg.trim_start().starts_with(['"', '\'', '`'])
                {
                    continue;
                }
                match string_literal(arg) {
                    Some(route) => self.route(route.trim()),
                    None => self.unsure(format!(
                        "the script calls `{}` with a route harden cannot read",
                        call.trim_matches(['.', '('])
                    )),
                }
            }
        }
    }

    /// A route as `request` reads it: `METHOD /path`, or `/path` for GET.
    fn route(&mut self, route: &str) {
        let (method, path) = match route.split_once(' ') {
            Some((m, p)) if m.chars().all(|c| c.is_ascii_uppercase()) => (m, p),
            _ => ("GET", route),
        };
        let path = normalise_path(path);
        let matches = match_endpoint(self.kb, method, &path);
        if matches.is_empty() {
            self.unsure(format!(
                "the script requests `{method} {path}`, which is not in rest-endpoints.yml"
            ));
        }
        for e in matches {
            self.add(&e.name, &e.need);
        }
    }

    /// Code harden does not read: local modules, commands run, `fetch` to the API.
    fn unread_code(&mut self, script: &str) {
        for dynamic in ["require(", "import("] {
            if script.contains(dynamic) {
                let local = script.match_indices(dynamic).any(|(i, _)| {
                    string_literal(&script[i + dynamic.len()..]).is_none_or(|m| {
                        m.starts_with('.') || m.starts_with('/') || m.contains("${")
                    })
                });
                if local {
                    self.unsure("the script loads code from a file harden does not read".into());
                }
            }
        }
        if script.contains("exec.exec")
            || script.contains("getExecOutput")
            || script.contains("execSync")
            || script.contains("spawnSync")
        {
            self.unsure("the script runs commands harden does not read".into());
        }
        if script.contains("fetch(") && script.contains("api.github.com") {
            self.unsure("the script calls the API with fetch".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::kb::kb;

    fn run(script: &str) -> ScriptResult {
        let Ok(kb) = kb() else { panic!("kb") };
        analyze_script(kb, script, "actions/github-script")
    }

    #[test]
    fn maps_rest_calls() {
        let r = run(
            "await github.rest.issues.createComment({owner, repo, issue_number: 1, body: 'x'})",
        );
        assert_eq!(r.needs.summary(), "issues: write");
        assert!(r.unsure.is_empty());
        let r = run(
            "const pr = await github.rest.pulls.get({}); await github.rest.repos.createRelease({})",
        );
        assert_eq!(r.needs.summary(), "contents: write, pull-requests: read");
        let r = run("github.issues.addLabels({})");
        assert_eq!(r.needs.summary(), "issues: write");
        let r = run("await github.paginate(github.rest.actions.listWorkflowRuns, {})");
        assert_eq!(r.needs.summary(), "actions: read");
        let r = run("await github.request('POST /repos/{owner}/{repo}/statuses/{sha}', {})");
        assert_eq!(r.needs.summary(), "statuses: write");
        let r = run("return await core.getIDToken('sts.amazonaws.com')");
        assert_eq!(r.needs.summary(), "id-token: write");
        let r = run("core.setOutput('x', context.payload.pull_request.number)");
        assert!(r.needs.is_empty() && r.unsure.is_empty());
    }

    #[test]
    fn cannot_map_graphql_or_dynamic_calls() {
        assert_eq!(
            run("await github.graphql(`query { viewer { login } }`)")
                .unsure
                .len(),
            1
        );
        assert_eq!(run("await github.rest[ns][m]({})").unsure.len(), 1);
        assert_eq!(run("await github.request(route)").unsure.len(), 1);
        assert_eq!(
            run("const s = require('./.github/scripts/x.js'); await s({github})")
                .unsure
                .len(),
            1
        );
        assert!(run("const fs = require('fs')").unsure.is_empty());
    }
}
