//! The one file writer: a crash leaves either the old or the new text, never a mix, and harden
//! never writes over what it did not read.
//!
//! Every write goes through a temporary file in the target's folder, created with the target's
//! final mode (never wider), given the target's owner and extended attributes, fsynced, and
//! renamed over the target. Before the rename the target is checked again: it must still hold
//! the bytes harden read, be a regular file with one link, and resolve (through symbolic links)
//! to a place inside the repository root. Anything else leaves the file as it is and says why.

use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why a file was left as it was.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The file no longer holds the text harden read (the user edited it meanwhile).
    Changed,
    /// The file was removed while harden ran.
    Removed,
    /// The path resolves (through symbolic links) to this place outside the repository root.
    OutsideRoot(PathBuf),
    /// Not a regular file (a FIFO, a device, a socket, a folder).
    NotRegular,
    /// The file has this many hard links; replacing it would split them.
    HardLinked(u64),
    /// The file's owner (uid, gid) cannot be given to the new text (not running as root).
    Owner(u32, u32),
    /// An extended attribute could not be copied to the new text.
    Xattr(String, io::Error),
    /// Reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Changed => f.write_str(
                "the file changed while harden ran; your text is kept and harden's edit was not written: run harden again",
            ),
            Refusal::Removed => {
                f.write_str("the file was removed while harden ran; not written back")
            }
            Refusal::OutsideRoot(target) => write!(
                f,
                "resolves through a symbolic link to {}, outside the repository; not written: run harden on the repository that holds the file",
                target.display()
            ),
            Refusal::NotRegular => f.write_str(
                "not a regular file (a FIFO, device or socket); skipped",
            ),
            Refusal::HardLinked(n) => write!(
                f,
                "the file has {n} hard links and replacing it would split them; not written: apply the change by hand (--dry-run shows it) or remove the other links"
            ),
            Refusal::Owner(uid, gid) => write!(
                f,
                "the file belongs to uid {uid} gid {gid} and harden cannot keep that owner (run as root or as the owner); not written"
            ),
            Refusal::Xattr(name, e) => write!(
                f,
                "the extended attribute `{name}` could not be kept ({e}); not written"
            ),
            Refusal::Io(e) => write!(f, "could not write the file (left as it was): {e}"),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Self {
        Refusal::Io(e)
    }
}

/// Replaces the file at `path` of the repository at `root` (already resolved with
/// `fs::canonicalize`, once per batch) by `contents`, when it still holds `before` (the bytes
/// harden read; `None` for a file harden creates, which must not exist).
pub(crate) fn write_checked_in(
    root: &Path,
    path: &Path,
    before: Option<&[u8]>,
    contents: &str,
) -> Result<(), Refusal> {
    let target = resolve(path)?;
    if !target.starts_with(root) {
        return Err(Refusal::OutsideRoot(target));
    }
    let meta = match fs::symlink_metadata(&target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    match (&meta, before) {
        (None, Some(_)) => return Err(Refusal::Removed),
        (Some(_), None) => return Err(Refusal::Changed),
        (Some(m), Some(_)) => check_replaceable(m)?,
        (None, None) => {}
    }
    let unchanged = |now: &Metadata| -> Result<(), Refusal> {
        check_replaceable(now)?;
        if let Some(first) = &meta {
            if !same_file(first, now) {
                return Err(Refusal::Changed);
            }
        }
        if resolve(path)? != target {
            return Err(Refusal::Changed);
        }
        if let Some(expected) = before {
            if fs::read(&target)? != expected {
                return Err(Refusal::Changed);
            }
        }
        Ok(())
    };
    replace(
        &target,
        meta.as_ref(),
        contents,
        |target| match fs::symlink_metadata(target) {
            Ok(now) => unchanged(&now),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match before {
                Some(_) => Err(Refusal::Removed),
                None => Ok(()),
            },
            Err(e) => Err(e.into()),
        },
    )
}

/// Writes `contents` to `path` (a file harden owns, such as a patch), replacing it whole. What
/// is at `path` must be a regular file or nothing: a symbolic link (one planted in the patch
/// folder towards `~/.bashrc`) is refused, never written through, and so is a FIFO or a device;
/// the rename replaces the folder's entry, never the text of another hard link.
pub(crate) fn write_atomic(path: &Path, contents: &str) -> io::Result<()> {
    let unsafe_entry = |meta: &Metadata| -> io::Result<()> {
        if meta.file_type().is_symlink() {
            return Err(io::Error::other(
                "it is a symbolic link, and harden never writes through one: remove it or choose another folder",
            ));
        }
        if !meta.is_file() {
            return Err(io::Error::other(Refusal::NotRegular.to_string()));
        }
        Ok(())
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => {
            unsafe_entry(&meta)?;
            Some(meta)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let check = |target: &Path| match fs::symlink_metadata(target) {
        Ok(now) => unsafe_entry(&now).map_err(Refusal::Io),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    };
    replace(path, meta.as_ref(), contents, check).map_err(|e| match e {
        Refusal::Io(e) => e,
        other => io::Error::other(other.to_string()),
    })
}

/// Undoes harden's own write of the file at `path` (inside `root`, resolved): puts `original`
/// back (or removes the file, for a file harden created) only while the file still holds
/// `written`, harden's text, through the checked writer: an edit the user saved meanwhile, or
/// the text another run committed, is kept ([`Refusal::Changed`]); a link stays a link (its
/// target is restored) and a hard-linked file is not split.
pub(crate) fn restore_checked_in(
    root: &Path,
    path: &Path,
    written: &str,
    original: Option<&str>,
) -> Result<(), Refusal> {
    match original {
        Some(text) => write_checked_in(root, path, Some(written.as_bytes()), text),
        None => {
            let target = resolve(path)?;
            if !target.starts_with(root) {
                return Err(Refusal::OutsideRoot(target));
            }
            match fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(Refusal::NotRegular),
                Ok(meta) => check_replaceable(&meta)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            if fs::read(path)? != written.as_bytes() {
                return Err(Refusal::Changed);
            }
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        }
    }
}

/// The temporary files harden is writing right now (each is renamed over its target or
/// removed): what a signal handler must remove before harden exits.
static LIVE_TEMPORARY_FILES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A temporary file listed in [`LIVE_TEMPORARY_FILES`] for as long as this lives.
struct LiveTemporaryFile(PathBuf);

impl LiveTemporaryFile {
    /// Creates a temporary file in `dir` and lists it, both while holding the list: a signal
    /// handler that holds the list sees every file created, and none is created after it.
    fn create(
        builder: &tempfile::Builder<'_, '_>,
        dir: &Path,
    ) -> io::Result<(tempfile::NamedTempFile, Self)> {
        let mut live = match LIVE_TEMPORARY_FILES.lock() {
            Ok(live) => live,
            Err(poisoned) => poisoned.into_inner(),
        };
        let tmp = builder.tempfile_in(dir)?;
        live.push(tmp.path().to_path_buf());
        let listed = LiveTemporaryFile(tmp.path().to_path_buf());
        Ok((tmp, listed))
    }
}

impl Drop for LiveTemporaryFile {
    fn drop(&mut self) {
        let mut live = match LIVE_TEMPORARY_FILES.lock() {
            Ok(live) => live,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(i) = live.iter().position(|p| *p == self.0) {
            live.swap_remove(i);
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP, removes every temporary file harden is writing (in
/// `.github/workflows/` and beside any other file it replaces) and exits with 128 + the
/// signal's number, as a shell reports it: a later `git add -A` never commits one. The handler
/// runs on a thread of its own (signal-hook), so it may lock and remove files; a file being
/// renamed at that moment is already whole, old or new. `--commit`'s note of a run under way
/// stays, so the next run reports what this one leaves staged.
pub(crate) fn remove_temporary_files_on_signals() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                remove_live_temporary_files();
                std::process::exit(128 + signal);
            }
        });
    }
}

/// Removes every file of [`LIVE_TEMPORARY_FILES`] (and keeps the list locked, so that no new
/// one starts).
fn remove_live_temporary_files() {
    let live = match LIVE_TEMPORARY_FILES.lock() {
        Ok(live) => live,
        Err(poisoned) => poisoned.into_inner(),
    };
    for path in live.iter() {
        let _ = fs::remove_file(path);
    }
    // Held until the process exits: a writer that wants to register a new file waits.
    std::mem::forget(live);
}

/// Threads that write files: a write mostly waits for the disk (fsync), so many at once cost
/// little CPU and let the file system commit them together.
const WRITERS: usize = 32;

/// Runs `work` on every item on at most [`WRITERS`] threads started for this batch (fewer for
/// fewer items), and returns the results in the order of `items`. Plain threads that stop when
/// no item is left: a thread pool's idle workers spin (`sched_yield`) on a machine whose cores
/// the rest of the run needs.
pub(crate) fn on_writers<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = WRITERS.min(items.len());
    if threads <= 1 {
        return items.into_iter().map(work).collect();
    }
    let count = items.len();
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let done = std::sync::Mutex::new(Vec::with_capacity(count));
    let take = || loop {
        let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
        let Some((index, item)) = next else { break };
        let result = work(item);
        if let Ok(mut done) = done.lock() {
            done.push((index, result));
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(take);
        }
    });
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Flushes the folders of renamed files to disk, once per folder (the rename itself is only
/// durable once its folder is). Call after a batch of writes.
pub(crate) fn sync_folders<'a>(paths: impl IntoIterator<Item = &'a Path>) {
    let folders = folders_of(paths);
    for folder in folders {
        // Some file systems cannot sync a folder; the file's own data is already synced.
        if let Ok(dir) = File::open(&folder) {
            let _ = dir.sync_all();
        }
    }
}

/// The real folders that hold `paths` (a symbolic link's target's folder), each once. Each
/// folder is resolved once: the files of a batch share a few folders.
fn folders_of<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = paths
        .into_iter()
        .filter_map(|p| {
            let linked = fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
            let file = if linked {
                resolve(p).ok()?
            } else {
                p.to_path_buf()
            };
            Some(match file.parent() {
                Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
                _ => PathBuf::from("."),
            })
        })
        .collect();
    folders.sort();
    folders.dedup();
    let mut folders: Vec<PathBuf> = folders.iter().filter_map(|f| resolve(f).ok()).collect();
    folders.sort();
    folders.dedup();
    folders
}

/// The real place of `path`: its links resolved; for a file that does not exist yet, its
/// nearest existing folder resolved and the rest appended.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or(e)?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            Ok(resolve(parent)?.join(name))
        }
        Err(e) => Err(e),
    }
}

fn check_replaceable(meta: &Metadata) -> Result<(), Refusal> {
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(Refusal::HardLinked(meta.nlink()));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_a: &Metadata, _b: &Metadata) -> bool {
    true
}

/// Writes a temporary file beside `target` with `meta`'s mode, owner and extended attributes,
/// syncs it, runs `check` on the target, and renames the temporary file over it.
fn replace(
    target: &Path,
    meta: Option<&Metadata>,
    contents: &str,
    check: impl FnOnce(&Path) -> Result<(), Refusal>,
) -> Result<(), Refusal> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        fs::create_dir_all(dir)?;
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.harden-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Created with the final mode (the umask can only narrow it): never readable by more
    // people than the target, not even for a moment.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.map_or(0o666, |m| m.permissions().mode() & 0o777);
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    let (mut tmp, _live) = LiveTemporaryFile::create(&builder, dir)?;
    if let Some(meta) = meta {
        keep_owner(tmp.as_file(), meta)?;
        keep_xattrs(target, tmp.as_file())?;
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    check(target)?;
    tmp.persist(target).map_err(|e| Refusal::Io(e.error))?;
    Ok(())
}

/// Gives `file` the owner of the original; only root (or the owner) can.
#[cfg(unix)]
fn keep_owner(file: &File, original: &Metadata) -> Result<(), Refusal> {
    use std::os::unix::fs::MetadataExt;
    let now = file.metadata()?;
    if now.uid() == original.uid() && now.gid() == original.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()))
        .map_err(|_| Refusal::Owner(original.uid(), original.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_file: &File, _original: &Metadata) -> Result<(), Refusal> {
    Ok(())
}

/// Copies every extended attribute of `original` (SELinux labels, ACLs, user attributes) to
/// `file`.
#[cfg(unix)]
fn keep_xattrs(original: &Path, file: &File) -> Result<(), Refusal> {
    use xattr::FileExt;
    let names = match xattr::list(original) {
        Ok(names) => names,
        // No support on this file system: there is nothing to keep.
        Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for name in names {
        let label = name.to_string_lossy().into_owned();
        let Some(value) = xattr::get(original, &name)? else {
            continue;
        };
        if file.get_xattr(&name).ok().flatten().as_ref() == Some(&value) {
            continue;
        }
        file.set_xattr(&name, &value)
            .map_err(|e| Refusal::Xattr(label, e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn keep_xattrs(_original: &Path, _file: &File) -> Result<(), Refusal> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`write_checked_in`] with `root` resolved first.
    fn write_checked(
        root: &Path,
        path: &Path,
        before: Option<&[u8]>,
        contents: &str,
    ) -> Result<(), Refusal> {
        write_checked_in(&fs::canonicalize(root)?, path, before, contents)
    }

    #[test]
    fn writers_keep_the_order_of_the_items() {
        for n in [0usize, 1, 5, 100] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = on_writers(items, |i| i * 2);
            assert_eq!(doubled, (0..n).map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_folder_of_a_linked_file_is_its_targets() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        fs::create_dir(dir.path().join("real"))?;
        fs::create_dir(dir.path().join("other"))?;
        fs::write(dir.path().join("real/w.yml"), "x")?;
        fs::write(dir.path().join("other/v.yml"), "x")?;
        std::os::unix::fs::symlink(dir.path().join("real/w.yml"), dir.path().join("link.yml"))?;
        let paths = [
            dir.path().join("link.yml"),
            dir.path().join("real/w.yml"),
            dir.path().join("other/v.yml"),
        ];
        let root = fs::canonicalize(dir.path())?;
        assert_eq!(
            folders_of(paths.iter().map(PathBuf::as_path)),
            [root.join("other"), root.join("real")]
        );
        sync_folders(paths.iter().map(PathBuf::as_path));
        Ok(())
    }

    #[test]
    fn replaces_content_and_keeps_mode() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("w.yml");
        fs::write(&p, "old")?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640))?;
        }
        write_checked(dir.path(), &p, Some(b"old"), "new").map_err(io::Error::other)?;
        assert_eq!(fs::read_to_string(&p)?, "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&p)?.permissions().mode() & 0o777, 0o640);
        }
        let leftovers = fs::read_dir(dir.path())?.count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
        Ok(())
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_left() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("w.yml");
        fs::write(&p, "edited by the user")?;
        let result = write_checked(dir.path(), &p, Some(b"old"), "new");
        assert!(matches!(result, Err(Refusal::Changed)), "{result:?}");
        assert_eq!(fs::read_to_string(&p)?, "edited by the user");
        assert_eq!(fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_file_that_appeared_is_not_overwritten() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("sub/new.yml");
        write_checked(dir.path(), &p, None, "created").map_err(io::Error::other)?;
        assert_eq!(fs::read_to_string(&p)?, "created");
        let result = write_checked(dir.path(), &p, None, "again");
        assert!(matches!(result, Err(Refusal::Changed)), "{result:?}");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_patch_is_never_written_through_a_link() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let outside = dir.path().join("bashrc");
        fs::write(&outside, "mine")?;
        let patch = dir.path().join("01-x.patch");
        std::os::unix::fs::symlink(&outside, &patch)?;
        assert!(write_atomic(&patch, "diff").is_err());
        assert_eq!(fs::read_to_string(&outside)?, "mine");
        fs::remove_file(&patch)?;
        write_atomic(&patch, "diff")?;
        assert_eq!(fs::read_to_string(&patch)?, "diff");
        Ok(())
    }

    #[test]
    fn a_restore_puts_back_only_harden_s_own_text() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = fs::canonicalize(dir.path())?;
        let p = root.join("w.yml");
        fs::write(&p, "harden's")?;
        restore_checked_in(&root, &p, "harden's", Some("original")).map_err(io::Error::other)?;
        assert_eq!(fs::read_to_string(&p)?, "original");
        fs::write(&p, "the user's")?;
        let kept = restore_checked_in(&root, &p, "harden's", Some("original"));
        assert!(matches!(kept, Err(Refusal::Changed)), "{kept:?}");
        assert_eq!(fs::read_to_string(&p)?, "the user's");
        let created = root.join("new.yml");
        fs::write(&created, "the user's")?;
        let kept = restore_checked_in(&root, &created, "harden's", None);
        assert!(matches!(kept, Err(Refusal::Changed)), "{kept:?}");
        fs::write(&created, "harden's")?;
        restore_checked_in(&root, &created, "harden's", None).map_err(io::Error::other)?;
        assert!(!created.exists());
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn temp_file_is_never_wider_than_the_target() -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("w.yml");
        fs::write(&p, "old")?;
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600))?;
        let seen = std::sync::Mutex::new(Vec::new());
        let meta = fs::metadata(&p)?;
        replace(&p, Some(&meta), "new", |_| {
            for entry in fs::read_dir(dir.path())? {
                let entry = entry?;
                seen.lock()
                    .map_err(|_| io::Error::other("poisoned"))?
                    .push(entry.metadata()?.permissions().mode() & 0o777);
            }
            Ok(())
        })
        .map_err(io::Error::other)?;
        let seen = seen
            .into_inner()
            .map_err(|_| io::Error::other("poisoned"))?;
        assert_eq!(seen, vec![0o600, 0o600], "target and temp file");
        Ok(())
    }
}
