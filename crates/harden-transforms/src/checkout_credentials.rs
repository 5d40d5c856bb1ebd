//! The `checkout-credentials` transform (zizmor's "artipacked" finding): `actions/checkout`
//! leaves the job token in `.git/config` for every later step, and in any artifact that uploads
//! the work tree. In a job that, by the permissions analysis, never pushes nor otherwise uses
//! those credentials, each checkout step gets `with: persist-credentials: false`.
//!
//! A job that worked before still works: jobs that push (git push, or a writer command of
//! `data/commands.yml` that uses git's credentials) keep them; jobs the analysis cannot settle
//! are reported and left; a `run:` step that talks to a remote with git (`fetch`, `pull`,
//! `submodule`, ...) keeps them too (a private repository needs them to read); a step that
//! already sets `persist-credentials` is left as written. The transform is opt-in: a read-only
//! action that fetches with git's credentials in a private repository is invisible to the
//! analysis (docs/design.md, "Adding a transform").

use harden_yaml::{EditSet, InsertAt, NewEntry, NewValue, Node, Path};

use crate::model::Workflow;
use crate::permissions::{credential_use, CredentialUse};
use crate::{
    finish_edits, ChangeNote, FileKind, Finding, Outcome, Repository, Severity, SourceFile,
    Transform,
};

const NAME: &str = "checkout-credentials";

/// checkout-credentials in the registry.
pub static INFO: crate::registry::TransformInfo = crate::registry::TransformInfo {
    name: NAME,
    summary: "stop persisting checkout credentials in jobs that never push",
    rule: "actions/checkout should not persist credentials a job does not use",
    needs: crate::registry::Needs {
        resolver: false,
        prefetch_refs: false,
        files: false,
        images: false,
    },
    opt_in: true,
    configure: |section, _, settings| crate::settings::read_opt_in(NAME, section, settings),
    build: |_, _| Ok(Some(Box::new(CheckoutCredentials))),
};

/// The `checkout-credentials` transform; it has no settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckoutCredentials;

/// git subcommands that talk to a remote with the credentials git holds.
const GIT_REMOTE: &[&str] = &[
    "fetch",
    "pull",
    "push",
    "clone",
    "submodule",
    "ls-remote",
    "remote",
];

/// The first `git <remote subcommand>` of a script, if any (a plain word scan: it may see one
/// that does not run, which only keeps credentials).
fn git_remote_command(script: &str) -> Option<String> {
    let words: Vec<&str> = script
        .split(|c: char| c.is_whitespace() || ";&|()`".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if *w != "git" {
            continue;
        }
        let mut j = i + 1;
        while let Some(a) = words.get(j) {
            match *a {
                "-C" | "-c" => j += 2,
                a if a.starts_with('-') => j += 1,
                _ => break,
            }
        }
        if let Some(sub) = words.get(j).filter(|s| GIT_REMOTE.contains(s)) {
            return Some(format!("git {sub}"));
        }
    }
    None
}

/// Where a checkout step gets `persist-credentials: false`, or `None` when it is left.
enum Plan {
    /// Add the key to the step's `with:` mapping.
    IntoWith,
    /// Add a `with:` mapping to the step.
    NewWith,
}

/// What to do with one step: `Some` for a checkout with the job token that does not say.
fn plan_step(step: &Node) -> Option<Plan> {
    let map = step.as_mapping()?;
    let uses = map.get("uses")?.value.as_str()?;
    if crate::model::name_key(uses) != "actions/checkout" {
        return None;
    }
    let Some(with) = map.get("with") else {
        return Some(Plan::NewWith);
    };
    let with = with.value.as_mapping()?;
    // Another token or an SSH key: not the job token; its own users are not analysed.
    let own_token = with.get("token").is_some_and(|t| {
        t.value.as_str().is_none_or(|v| {
            let v = v.replace(' ', "");
            v != "${{github.token}}" && v != "${{secrets.GITHUB_TOKEN}}"
        })
    });
    if with.get("persist-credentials").is_some() || with.get("ssh-key").is_some() || own_token {
        return None;
    }
    Some(Plan::IntoWith)
}

impl CheckoutCredentials {
    fn workflow(&self, repo: &Repository, file: &SourceFile, out: &mut Outcome) {
        let Some(doc) = file.document() else { return };
        let Some(verdicts) = credential_use(repo, file) else {
            return;
        };
        let model = Workflow::new(doc);
        let jobs = model.jobs();
        let mut edits = EditSet::new(doc);
        let mut notes = Vec::new();
        for (id, verdict) in verdicts {
            // An alias shares its mapping with another job: edit only the original.
            let Some(job) = jobs.iter().find(|j| j.id == id && !j.is_alias()) else {
                continue;
            };
            let steps = model.steps(job);
            let planned: Vec<(&Path, &Node, Plan)> = steps
                .iter()
                .filter(|s| s.editable)
                .filter_map(|s| plan_step(s.node).map(|p| (&s.path, s.node, p)))
                .collect();
            if planned.is_empty() {
                continue;
            }
            let remote = steps.iter().find_map(|s| {
                let run = model.str(s.node, "run")?;
                git_remote_command(run).map(|c| (s.node.line, c))
            });
            let finding = |line: usize, severity, message: String| {
                let at = harden_yaml::Location { line, column: 1 };
                Finding::at(NAME, &file.path, Some(at), severity, message)
            };
            match (verdict, remote) {
                (CredentialUse::Used(why), _) => out.findings.push(finding(
                    job.key.line,
                    Severity::Note,
                    format!("job `{id}` keeps its checkout credentials: {why}"),
                )),
                (_, Some((line, command))) => out.findings.push(finding(
                    line,
                    Severity::Note,
                    format!("job `{id}` keeps its checkout credentials: `{command}` may need them (a private repository does)"),
                )),
                (CredentialUse::Unsettled(why), None) => out.findings.push(finding(
                    job.key.line,
                    Severity::Warning,
                    format!("job `{id}` left unchanged: harden cannot tell whether it uses the checkout credentials ({why}); add `persist-credentials: false` to its checkout if nothing pushes"),
                )),
                (CredentialUse::Unused, None) => {
                    for (path, step, plan) in planned {
                        let done = match plan {
                            Plan::IntoWith => edits.insert_entry(
                                &path.key("with"),
                                InsertAt::Last,
                                NewEntry::new("persist-credentials", NewValue::Plain("false".into())),
                            ),
                            Plan::NewWith => edits.insert_entry(
                                path,
                                InsertAt::After("uses".into()),
                                NewEntry::new(
                                    "with",
                                    NewValue::Mapping(vec![NewEntry::new(
                                        "persist-credentials",
                                        NewValue::Plain("false".into()),
                                    )]),
                                ),
                            ),
                        };
                        match done {
                            Ok(()) => notes.push(ChangeNote {
                                line: step.line,
                                message: format!("job `{id}`: the checkout no longer leaves the job token in .git/config (nothing in the job pushes)"),
                            }),
                            Err(e) => out.findings.push(finding(
                                step.line,
                                Severity::Warning,
                                format!("job `{id}`: left unchanged: {e}"),
                            )),
                        }
                    }
                }
            }
        }
        if let Some(change) = finish_edits(NAME, file, &edits, notes, &mut out.findings) {
            out.changes.push(change);
        }
    }
}

impl Transform for CheckoutCredentials {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "checkout steps keep the job token in .git/config only in jobs that push"
    }

    fn run(&self, repo: &Repository) -> Outcome {
        let mut out = Outcome::default();
        for file in repo.files.iter().filter(|f| f.kind == FileKind::Workflow) {
            self.workflow(repo, file, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_git_commands_are_seen() {
        assert_eq!(
            git_remote_command("git -C x fetch --depth 1"),
            Some("git fetch".into())
        );
        assert_eq!(git_remote_command("echo ok && git status"), None);
        assert_eq!(
            git_remote_command("(git push origin HEAD)"),
            Some("git push".into())
        );
    }
}
