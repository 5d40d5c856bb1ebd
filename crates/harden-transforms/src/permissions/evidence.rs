//! Signs that a program writes with the job token (docs/permissions.md, "Evidence").
//!
//! A program harden cannot see into is only held against a job when something says it
//! writes: the token handed to it, a git push, a GitHub API client or a name that says it
//! deploys. These functions look for such signs in text harden reads but does not model
//! (the code of a Python or JavaScript program, a local action's entry file, a script
//! nested too deep). The test is on the whole text, strings and comments included: a
//! command line such as `git push` usually sits in a string literal.

use super::commands::{command_name, Commands};

/// Words that name a GitHub API client or the job token in program code (lowercase).
const API_WORDS: &[(&str, &str)] = &[
    ("api.github.com", "calls the GitHub API"),
    ("octokit", "calls the GitHub API (Octokit)"),
    ("@actions/github", "calls the GitHub API (@actions/github)"),
    ("from github import", "calls the GitHub API (PyGithub)"),
    ("import github", "calls the GitHub API (PyGithub)"),
    ("ghapi", "calls the GitHub API (ghapi)"),
    ("github3", "calls the GitHub API (github3.py)"),
    ("github_token", "reads `GITHUB_TOKEN`"),
    ("gh_token", "reads `GH_TOKEN`"),
    ("github.token", "reads the job token"),
    ("github-token", "reads a `github-token` input"),
    ("getinput('token'", "reads a `token` input"),
    ("getinput(\"token\"", "reads a `token` input"),
    ("input_token", "reads a `token` input"),
];

/// Libraries that push from code (`repo.remote().push()`, `git.push()`).
const GIT_LIBRARIES: &[&str] = &[
    "simple-git",
    "isomorphic-git",
    "nodegit",
    "import git",
    "from git import",
    "pygit2",
    "dulwich",
];

/// The first sign in program code that it writes with the job token: a git push (`git push`
/// in a command line, `["git", "push"]`, a git library's `.push(`), a GitHub API client or
/// a mention of the token. `None` when the text shows none.
pub(super) fn code_sign(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if git_push(&lower) {
        return Some("runs `git push`");
    }
    if git_command(&lower, &["commit", "tag"]) {
        return Some("commits or tags with git (a push is expected)");
    }
    if has_word(&lower, "gh")
        && ["release", "pr", "api", "issue", "workflow"]
            .iter()
            .any(|sub| lower.contains(&format!("gh {sub}")) || quoted_pair(&lower, "gh", sub))
    {
        return Some("runs `gh`");
    }
    API_WORDS
        .iter()
        .find(|(w, _)| lower.contains(w))
        .map(|(_, why)| *why)
}

/// True when lowercase `text` pushes with git: `git push` (any blanks between, also
/// `git -C dir push`), `'git', 'push'` as separate quoted words, or a git library's `.push(`.
fn git_push(lower: &str) -> bool {
    git_command(lower, &["push"])
        || (GIT_LIBRARIES.iter().any(|l| lower.contains(l)) && lower.contains(".push("))
}

/// True when lowercase `text` runs `git` with one of `subs` as its subcommand, within two
/// words of options (`git -C dir push`), in a command line or as quoted words.
fn git_command(lower: &str, subs: &[&str]) -> bool {
    let words: Vec<&str> = lower
        .split(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | '[' | '(' | ')' | ']')
        })
        .filter(|w| !w.is_empty())
        .collect();
    let is_git = |w: &str| w == "git" || w.ends_with("/git") || w == "git.exe";
    (0..words.len()).any(|i| {
        is_git(words[i])
            && (1..=3).any(|k| {
                words.get(i + k).is_some_and(|w| subs.contains(w))
                    && (k == 1 || words[i + 1].starts_with('-'))
            })
    })
}

/// A sign in an action's `action.yml` (lowercase) that it pushes with the credentials git
/// holds: a word starting with `push` (`Pushes the changes`, `push: true`). Actions that take
/// the token are judged on their inputs; this is for those the token reaches only through git.
pub(super) fn action_pushes(lower: &str) -> bool {
    lower.match_indices("push").any(|(i, _)| {
        !lower[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// True when `a` and `b` appear as neighbouring quoted words (`"gh", "release"`).
fn quoted_pair(lower: &str, a: &str, b: &str) -> bool {
    ['"', '\''].iter().any(|q| {
        [", ", ","]
            .iter()
            .any(|sep| lower.contains(&format!("{q}{a}{q}{sep}{q}{b}{q}")))
    })
}

/// True when `word` occurs in `lower` between non-word characters.
fn has_word(lower: &str, word: &str) -> bool {
    lower.match_indices(word).any(|(i, w)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + w.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// True when the words from `from` on (the command behind a wrapper option harden does not
/// know) show a sign of writing: a known writer, `git ... push`, or a word that says it
/// deploys (`mkdocs gh-deploy`, `twine upload` is a writer, `npm run release`).
pub(super) fn words_sign(commands: &Commands, words: &[String], from: usize) -> bool {
    (from..words.len()).any(|i| {
        let option = words[i].starts_with('-') || words[i].contains('=');
        commands.writer(words, i).is_some()
            || (!option && commands.names_deploy(&words[i]))
            || (command_name(&words[i]) == "git" && words[i + 1..].iter().any(|w| w == "push"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_are_signs_wherever_they_are_written() {
        for text in [
            "subprocess.run(['git', 'push', 'origin', 'main'])",
            "execSync(`git push origin HEAD`)",
            "os.system('git -C docs push')",
            "const git = require('simple-git'); await git().push()",
            "await exec.exec('git', ['push', '--tags'])",
        ] {
            assert_eq!(code_sign(text), Some("runs `git push`"), "{text}");
        }
        assert_eq!(
            code_sign("subprocess.run(['gh', 'release', 'create', tag])"),
            Some("runs `gh`")
        );
        assert!(code_sign("const o = new Octokit({ auth })").is_some());
        assert!(code_sign("token = os.environ['GITHUB_TOKEN']").is_some());
    }

    #[test]
    fn actions_that_say_they_push() {
        assert!(action_pushes(
            "description: commits and pushes changed files"
        ));
        assert!(action_pushes("inputs:\n  push:\n    default: true"));
        assert!(!action_pushes(
            "description: builds on every non-push event"
        ));
        assert!(!action_pushes("description: formats the code"));
    }

    #[test]
    fn ordinary_code_shows_no_sign() {
        for text in [
            "items.push(x); console.log(items)",
            "import subprocess\nsubprocess.run(['cmake', '--build', '.'])",
            "git rev-parse HEAD",
            "print('see https://github.com/o/r for the licence')",
        ] {
            assert_eq!(code_sign(text), None, "{text}");
        }
    }
}
