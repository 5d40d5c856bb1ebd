//! `pinned-dependencies`: what Scorecard's Pinned-Dependencies counts besides actions, in
//! workflows, composite actions and Dockerfiles: container images (`container:`, `services:`,
//! `docker://`, `FROM`), `pip install` without hashes, download-then-run (`curl … | sh`),
//! `npm install` (where `npm ci` installs the lock file), and `go install …@latest`.
//! Reported with places, never rewritten: only the images have a safe rewrite (pin-images).

use harden_transforms::pin_images::dockerfile;
use harden_transforms::pin_images::dockerfiles::{classify_from, FromImage};
use harden_transforms::pin_images::{classify, image_sites, ImageValue};
use harden_transforms::FileKind;
use harden_yaml::{NodeKind, ScalarStyle};

use crate::audit::{Check, RepoFacts, Status};

/// What Scorecard's Pinned-Dependencies counts (besides actions, which `pinned-actions` covers).
pub(super) struct PinnedDependencies;

/// A kind of dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// A container image.
    Image,
    /// `pip install`.
    Pip,
    /// A script downloaded and run at once.
    DownloadThenRun,
    /// `npm install`.
    Npm,
    /// `go install`.
    Go,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Image => "container images",
            Kind::Pip => "pip installs",
            Kind::DownloadThenRun => "download-then-run",
            Kind::Npm => "npm installs",
            Kind::Go => "go installs",
        }
    }
}

/// One dependency found: what, where, pinned or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dependency {
    pub kind: Kind,
    pub pinned: bool,
    /// `file:line`.
    pub place: String,
    /// The text to show.
    pub text: String,
}

/// The shell commands of one logical line that Scorecard counts: (kind, pinned).
pub(crate) fn shell_dependencies(line: &str) -> Vec<(Kind, bool)> {
    let mut out = Vec::new();
    if downloads_then_runs(line) {
        out.push((Kind::DownloadThenRun, false));
    }
    for command in line.split(['&', ';', '|']) {
        let words: Vec<&str> = command.split_whitespace().collect();
        let words = strip_prefixes(&words);
        if let Some(found) = command_dependency(words) {
            out.push(found);
        }
    }
    out
}

/// The command without `sudo`, `env VAR=…`, `VAR=…` and `time` before it.
fn strip_prefixes<'a, 'w>(mut words: &'a [&'w str]) -> &'a [&'w str] {
    while let Some(first) = words.first() {
        let wrapper = matches!(*first, "sudo" | "env" | "time" | "exec" | "-E" | "-H")
            || (first.contains('=') && !first.starts_with('-'));
        if !wrapper {
            break;
        }
        words = &words[1..];
    }
    words
}

/// A pip, npm or go install command: (kind, pinned).
fn command_dependency(words: &[&str]) -> Option<(Kind, bool)> {
    let program = words.first()?.rsplit('/').next().unwrap_or_default();
    let rest = &words[1..];
    let pip_args = match program {
        "pip" | "pip3" => Some(rest),
        p if p.starts_with("python") && rest.starts_with(&["-m", "pip"]) => Some(&rest[2..]),
        _ => None,
    };
    if let Some(args) = pip_args {
        if args.first() != Some(&"install") {
            return None;
        }
        return Some((Kind::Pip, pip_pinned(&args[1..])));
    }
    match (program, rest.first().copied()) {
        ("npm", Some("install" | "i" | "add")) => Some((Kind::Npm, false)),
        ("npm", Some("ci")) => Some((Kind::Npm, true)),
        ("go", Some("install")) => {
            let packages: Vec<&str> = rest[1..]
                .iter()
                .copied()
                .filter(|w| !w.starts_with('-'))
                .collect();
            // `go install` of the module here (no `@`) installs what go.sum pins.
            let remote: Vec<&str> = packages.into_iter().filter(|p| p.contains('@')).collect();
            (!remote.is_empty()).then(|| (Kind::Go, remote.iter().all(|p| go_pinned(p))))
        }
        _ => None,
    }
}

/// `pip install` arguments that pin by hash: `--require-hashes`, or only local files or
/// folders installed with `--no-deps`.
fn pip_pinned(args: &[&str]) -> bool {
    if args.contains(&"--require-hashes") {
        return true;
    }
    let targets: Vec<&&str> = args.iter().filter(|a| !a.starts_with('-')).collect();
    args.contains(&"--no-deps")
        && !targets.is_empty()
        && targets.iter().all(|t| {
            t.starts_with('.') || t.starts_with('/') || t.ends_with(".whl") || t.contains("/dist/")
        })
}

/// `pkg@version` pinned as Scorecard reads it: a full semantic version (checked against
/// go.sum's database) or a commit hash; `@latest`, a branch or `@v1` are not.
fn go_pinned(package: &str) -> bool {
    let version = package.rsplit('@').next().unwrap_or_default();
    let hex = version.len() >= 12 && version.chars().all(|c| c.is_ascii_hexdigit());
    let semver = version
        .strip_prefix('v')
        .map(|v| v.split(['-', '+']).next().unwrap_or_default())
        .is_some_and(|v| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        });
    hex || semver
}

/// `curl …| sh`, `wget -O- … | bash`, `bash <(curl …)`, `sh -c "$(curl …)"`: a script
/// fetched and run without being checked.
fn downloads_then_runs(line: &str) -> bool {
    const FETCH: &[&str] = &["curl", "wget"];
    const SHELLS: &[&str] = &[
        "sh", "bash", "zsh", "dash", "ksh", "python", "python3", "perl", "ruby", "node",
    ];
    let fetches = |s: &str| {
        s.split_whitespace()
            .any(|w| FETCH.contains(&w.rsplit('/').next().unwrap_or_default()))
    };
    let mut pieces = line.split('|');
    let mut fetched = pieces.next().is_some_and(fetches);
    for piece in pieces {
        let words: Vec<&str> = piece.split_whitespace().collect();
        let words = strip_prefixes(&words);
        let runs = words
            .first()
            .is_some_and(|w| SHELLS.contains(&w.rsplit('/').next().unwrap_or_default()));
        if fetched && runs {
            return true;
        }
        fetched = fetched || fetches(piece);
    }
    // `bash <(curl …)`, `sh -c "$(curl …)"`: the fetch is the script a shell runs.
    let words: Vec<&str> = line.split_whitespace().collect();
    words.iter().enumerate().any(|(i, w)| {
        let w = w.trim_start_matches(['"', '\'']);
        let substituted = ["<(", "$(", "`"]
            .iter()
            .any(|open| FETCH.iter().any(|f| w.starts_with(&format!("{open}{f}"))));
        let runner = words[..i]
            .iter()
            .rev()
            .find(|w| !w.starts_with('-'))
            .map(|w| w.rsplit('/').next().unwrap_or_default());
        substituted && runner.is_some_and(|r| SHELLS.contains(&r) || r == "source" || r == ".")
    })
}

/// The logical lines of a shell script (continuations joined), with the index of the first
/// physical line of each.
fn logical_lines(script: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in script.lines().enumerate() {
        let (start, mut text) = current.take().unwrap_or((i, String::new()));
        let trimmed = line.trim_end();
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                text.push_str(head);
                text.push(' ');
                current = Some((start, text));
            }
            None => {
                text.push_str(trimmed);
                out.push((start, text));
            }
        }
    }
    out.extend(current);
    out
}

/// Every dependency Scorecard counts in the repository, in file order.
pub(crate) fn dependencies(repo: &RepoFacts) -> Vec<Dependency> {
    let mut out = Vec::new();
    let workflows = repo.workflows.iter().map(|f| (f, FileKind::Workflow));
    let actions = repo.actions.iter().map(|f| (f, FileKind::Action));
    for (file, kind) in workflows.chain(actions) {
        let Some(doc) = &file.doc else { continue };
        for (_, node, site) in image_sites(kind, doc) {
            let Some(value) = node.as_str() else { continue };
            let pinned = match classify(site, value) {
                ImageValue::Tagged(_) => false,
                ImageValue::Pinned(_) => true,
                _ => continue,
            };
            out.push(Dependency {
                kind: Kind::Image,
                pinned,
                place: format!("{}:{}", file.rel, node.line),
                text: value.trim().to_owned(),
            });
        }
        let pattern = match kind {
            FileKind::Workflow => "jobs.*.steps[*].run",
            _ => "runs.steps[*].run",
        };
        for node in file.query(pattern) {
            let Some(script) = node.as_str() else {
                continue;
            };
            let block = matches!(&node.kind, NodeKind::Scalar(s)
                if matches!(s.style, ScalarStyle::Literal | ScalarStyle::Folded));
            let first = node.line + usize::from(block);
            add_script(&mut out, &file.rel, first, script);
        }
    }
    for (rel, text) in &repo.dockerfiles {
        add_dockerfile(&mut out, rel, text);
    }
    out
}

/// The dependencies of a shell script whose first line is line `first` of `rel`.
fn add_script(out: &mut Vec<Dependency>, rel: &str, first: usize, script: &str) {
    for (i, line) in logical_lines(script) {
        let command = line.split(" #").next().unwrap_or_default();
        for (kind, pinned) in shell_dependencies(command) {
            out.push(Dependency {
                kind,
                pinned,
                place: format!("{rel}:{}", first + i),
                text: command.trim().chars().take(80).collect(),
            });
        }
    }
}

/// The `FROM` images and `RUN` commands of a Dockerfile.
fn add_dockerfile(out: &mut Vec<Dependency>, rel: &str, text: &str) {
    let file = dockerfile::read(text);
    for instruction in &file.instructions {
        if let Some(from) = instruction.from_parts() {
            let pinned = match classify_from(&from.image.text, &file) {
                FromImage::Tagged(_) => false,
                FromImage::Pinned(_) => true,
                _ => continue,
            };
            out.push(Dependency {
                kind: Kind::Image,
                pinned,
                place: format!("{rel}:{}", instruction.line),
                text: format!("FROM {}", from.image.text),
            });
        } else if instruction.is("RUN") {
            let mut script = instruction.text.clone();
            for body in &instruction.heredocs {
                script.push('\n');
                script.push_str(body);
            }
            add_script(out, rel, instruction.line, &script);
        }
    }
}

impl Check for PinnedDependencies {
    fn id(&self) -> &'static str {
        "pinned-dependencies"
    }

    fn check(&self, repo: &RepoFacts) -> (Status, String) {
        let found = dependencies(repo);
        if found.is_empty() {
            return (
                Status::NotApplicable,
                "no container image, pip, npm, go install or download-then-run in workflows, \
                 composite actions or Dockerfiles"
                    .to_owned(),
            );
        }
        let pinned = found.iter().filter(|d| d.pinned).count();
        let mut kinds: Vec<Kind> = found.iter().map(|d| d.kind).collect();
        kinds.sort();
        kinds.dedup();
        let counts: Vec<String> = kinds
            .iter()
            .map(|k| {
                let of: Vec<&Dependency> = found.iter().filter(|d| d.kind == *k).collect();
                let p = of.iter().filter(|d| d.pinned).count();
                format!("{} {p}/{}", k.label(), of.len())
            })
            .collect();
        let summary = format!("{pinned} of {} pinned ({})", found.len(), counts.join(", "));
        let mut unpinned: Vec<&Dependency> = found.iter().filter(|d| !d.pinned).collect();
        // A line with two unpinned commands is shown once.
        unpinned.dedup_by(|a, b| a.place == b.place && a.text == b.text);
        if unpinned.is_empty() {
            return (Status::Pass, summary);
        }
        let shown: Vec<String> = unpinned
            .iter()
            .take(5)
            .map(|d| format!("`{}` at {}", d.text, d.place))
            .collect();
        let more = match unpinned.len() {
            n if n > 5 => format!(" and {} more", n - 5),
            _ => String::new(),
        };
        let fix = if unpinned.iter().any(|d| d.kind == Kind::Image) {
            "fix: harden --only pin-images for the images; the commands by hand (hashes, \
             `npm ci`, a version, a checked download)"
        } else {
            "fix by hand: hashes (`pip install --require-hashes`), `npm ci`, a version, a \
             checked download"
        };
        let status = if pinned == 0 {
            Status::Fail
        } else {
            Status::Partial
        };
        (
            status,
            format!("{summary}; unpinned: {}{more}; {fix}", shown.join(", ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(Kind, bool)> {
        shell_dependencies(line)
    }

    #[test]
    fn commands() {
        assert_eq!(kinds("pip install requests"), [(Kind::Pip, false)]);
        assert_eq!(
            kinds("python3 -m pip install --require-hashes -r req.txt"),
            [(Kind::Pip, true)]
        );
        assert_eq!(
            kinds("pip install --no-deps ./dist/pkg.whl"),
            [(Kind::Pip, true)]
        );
        assert_eq!(kinds("pip --version"), []);
        assert_eq!(
            kinds("npm ci && npm install -g x"),
            [(Kind::Npm, true), (Kind::Npm, false)]
        );
        assert_eq!(
            kinds("go install golang.org/x/tools/cmd/goimports@latest"),
            [(Kind::Go, false)]
        );
        assert_eq!(
            kinds("go install honnef.co/go/tools/cmd/staticcheck@v0.5.1"),
            [(Kind::Go, true)]
        );
        assert_eq!(kinds("go install ./cmd/x"), []);
        assert_eq!(kinds("sudo -E pip3 install x"), [(Kind::Pip, false)]);
    }

    #[test]
    fn download_then_run() {
        for yes in [
            "curl -sSfL https://x.example/install.sh | sh",
            "curl -fsSL https://x.example | sudo -E bash -",
            "wget -qO- https://x.example/get | bash -s -- -y",
            "bash <(curl -s https://x.example/i.sh)",
            "sh -c \"$(curl -fsSL https://x.example/i.sh)\"",
        ] {
            assert!(downloads_then_runs(yes), "{yes}");
        }
        for no in [
            "curl -o x.tgz https://x.example/x.tgz && sha256sum -c x.sha256",
            "cat file | sh",
            "curl https://x.example | jq .",
            "echo curl | grep sh",
            "TAG=$(curl -s https://x.example | jq -r .tag) && bash build.sh",
        ] {
            assert!(!downloads_then_runs(no), "{no}");
        }
    }

    #[test]
    fn continuation_lines() {
        assert_eq!(
            logical_lines("a \\\n  b\nc\n"),
            vec![(0, "a    b".to_owned()), (2, "c".to_owned())]
        );
    }
}
