//! The one door through which harden reads a file of a repository, of its `.git` folder or of a
//! cache: every reader of every crate calls [`read_bytes`] or [`read_text`].
//!
//! A file is read only when
//! - it resolves (through symbolic links) to a place inside `root`, the folder it is read in (a
//!   repository, a git folder, a cache folder): a link out is refused, whatever it points to;
//! - that place is not under `/proc`, `/sys` or `/dev`, whose files lie about their size
//!   (`/proc/self/pagemap` says 0 bytes and gives hundreds of gigabytes) or never end;
//! - the file opened (with `O_NONBLOCK`, so that opening a FIFO never waits for a writer, and
//!   `O_NOFOLLOW`) is a regular file by its own metadata (`fstat`), not by the path's, and is
//!   still inside `root` by the kernel's own name for it (`/proc/self/fd`), so a folder swapped
//!   for a link between the check and the open is caught too;
//! - its size is at most the caller's limit, and the read itself stops at `limit + 1` bytes,
//!   whatever the size said.
//!
//! Everything else is a [`ReadRefusal`] that says what the file is and that it was not read; the
//! caller adds the path and reports it (a cache treats any refusal as a miss).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest workflow, action or other YAML file of a repository harden reads (64 MiB; the
/// largest of 2,430 real workflows is 424,602 bytes).
pub const MAX_REPOSITORY_FILE: u64 = 64 << 20;

/// The largest small file harden reads: configuration (`.github/harden.yml`, `.git/config`,
/// `actions.lock`), `SECURITY.md`, release configurations, manifests (1 MiB).
pub const MAX_SMALL_FILE: u64 = 1 << 20;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadRefusal {
    /// There is no file at the path.
    Missing,
    /// The path resolves (through symbolic links) to `target`, outside `root`.
    OutsideRoot {
        /// Where the path leads.
        target: PathBuf,
        /// The folder the file was to be read in.
        root: PathBuf,
    },
    /// The path resolves to a file under `/proc`, `/sys` or `/dev`.
    SystemFile(PathBuf),
    /// Not a regular file: the kind it is (a FIFO, a device, a socket, a folder).
    NotRegular(&'static str),
    /// Larger than the limit (in bytes).
    TooLarge(u64),
    /// Not UTF-8: the line of the first bad byte.
    NotUtf8 {
        /// 1-based line of the first byte that is not UTF-8.
        line: usize,
    },
    /// Opening or reading failed.
    Io(io::Error),
}

impl ReadRefusal {
    /// True when there simply is no file (readers of optional files go on quietly).
    pub fn is_missing(&self) -> bool {
        matches!(self, ReadRefusal::Missing)
    }
}

impl fmt::Display for ReadRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadRefusal::Missing => f.write_str("the file does not exist"),
            ReadRefusal::OutsideRoot { target, root } => write!(
                f,
                "resolves through a symbolic link to {}, outside the repository (or cache) at {}; \
                 not read: harden reads only the files inside the folder it works on",
                target.display(),
                root.display()
            ),
            ReadRefusal::SystemFile(target) => write!(
                f,
                "resolves to {}, a file of the system (/proc, /sys, /dev), not of the repository; \
                 not read",
                target.display()
            ),
            ReadRefusal::NotRegular(kind) => {
                write!(f, "not a regular file (a {kind}); not read")
            }
            ReadRefusal::TooLarge(limit) => write!(
                f,
                "larger than {limit} bytes, more than harden reads for such a file; not read"
            ),
            ReadRefusal::NotUtf8 { line } => {
                write!(f, "not UTF-8 text (line {line}): re-save the file as UTF-8")
            }
            ReadRefusal::Io(e) => write!(f, "cannot read the file: {e}"),
        }
    }
}

impl std::error::Error for ReadRefusal {}

/// Reads the file at `path`, which must resolve inside `root`, be a regular file outside
/// `/proc`, `/sys` and `/dev`, and hold at most `limit` bytes (see the module's documentation).
pub fn read_bytes(root: &Path, path: &Path, limit: u64) -> Result<Vec<u8>, ReadRefusal> {
    let root = std::fs::canonicalize(root).map_err(refusal_of)?;
    let target = std::fs::canonicalize(path).map_err(refusal_of)?;
    if is_system_path(&target) {
        return Err(ReadRefusal::SystemFile(target));
    }
    if !target.starts_with(&root) {
        return Err(ReadRefusal::OutsideRoot { target, root });
    }
    let file = open_without_waiting(&target).map_err(refusal_of)?;
    let meta = file.metadata().map_err(ReadRefusal::Io)?;
    if !meta.is_file() {
        return Err(ReadRefusal::NotRegular(kind_of(&meta.file_type())));
    }
    if meta.len() > limit {
        return Err(ReadRefusal::TooLarge(limit));
    }
    if let Some(opened) = opened_path(&file) {
        if is_system_path(&opened) {
            return Err(ReadRefusal::SystemFile(opened));
        }
        if !opened.starts_with(&root) {
            return Err(ReadRefusal::OutsideRoot {
                target: opened,
                root,
            });
        }
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadRefusal::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadRefusal::TooLarge(limit));
    }
    Ok(bytes)
}

/// [`read_bytes`], then UTF-8: a file that is not UTF-8 is [`ReadRefusal::NotUtf8`] with the
/// line of its first bad byte.
pub fn read_text(root: &Path, path: &Path, limit: u64) -> Result<String, ReadRefusal> {
    let bytes = read_bytes(root, path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        ReadRefusal::NotUtf8 { line }
    })
}

/// Whether `path` (resolved) lies under `/proc`, `/sys` or `/dev`.
fn is_system_path(path: &Path) -> bool {
    ["/proc", "/sys", "/dev"]
        .iter()
        .any(|system| path.starts_with(system))
}

fn refusal_of(e: io::Error) -> ReadRefusal {
    if e.kind() == io::ErrorKind::NotFound {
        ReadRefusal::Missing
    } else {
        ReadRefusal::Io(e)
    }
}

/// Opens `path` for reading without following a final link and without waiting: a FIFO opens
/// at once (and is then refused from its metadata), a terminal never becomes the controlling one.
#[cfg(unix)]
fn open_without_waiting(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

/// The kernel's name for the opened file (Linux), `None` where there is no such name.
fn opened_path(file: &File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

#[cfg(unix)]
fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "device"
    } else if t.is_socket() {
        "socket"
    } else if t.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn kind_of(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> tempfile::TempDir {
        tempfile::tempdir().expect("temporary folder")
    }

    #[test]
    fn a_file_inside_the_root_is_read() {
        let dir = root();
        std::fs::write(dir.path().join("a.yml"), "on: push\n").expect("write");
        let text = read_text(dir.path(), &dir.path().join("a.yml"), 100).expect("read");
        assert_eq!(text, "on: push\n");
        assert!(
            read_text(dir.path(), &dir.path().join("b.yml"), 100).is_err_and(|e| e.is_missing())
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = root();
        std::fs::write(dir.path().join("a.yml"), "0123456789").expect("write");
        let refused = read_bytes(dir.path(), &dir.path().join("a.yml"), 9);
        assert!(
            matches!(refused, Err(ReadRefusal::TooLarge(9))),
            "{refused:?}"
        );
        assert!(read_bytes(dir.path(), &dir.path().join("a.yml"), 10).is_ok());
    }

    #[test]
    fn not_utf8_is_refused_with_its_line() {
        let dir = root();
        std::fs::write(dir.path().join("a.yml"), b"a\nb\n\xff").expect("write");
        let refused = read_text(dir.path(), &dir.path().join("a.yml"), 100);
        assert!(
            matches!(refused, Err(ReadRefusal::NotUtf8 { line: 3 })),
            "{refused:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_root_and_to_system_files_are_refused() {
        let dir = root();
        let inside = dir.path().join("repo");
        std::fs::create_dir(&inside).expect("mkdir");
        std::fs::write(dir.path().join("secret"), "token").expect("write");
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, inside.join(name)).expect("link");
            inside.join(name)
        };
        let out = link("../secret", "out");
        let refused = read_bytes(&inside, &out, 100);
        assert!(
            matches!(refused, Err(ReadRefusal::OutsideRoot { .. })),
            "{refused:?}"
        );
        assert!(refused.is_err_and(|e| e.to_string().contains("outside")));
        for system in ["/proc/self/pagemap", "/proc/self/environ", "/dev/zero"] {
            let name = system.replace('/', "_");
            let refused = read_bytes(&inside, &link(system, &name), 100);
            assert!(
                matches!(refused, Err(ReadRefusal::SystemFile(_))),
                "{system}: {refused:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting() {
        let dir = root();
        let fifo = dir.path().join("f.yml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here: nothing to test
        }
        let refused = read_bytes(dir.path(), &fifo, 100);
        assert!(
            matches!(refused, Err(ReadRefusal::NotRegular("FIFO"))),
            "{refused:?}"
        );
        let folder = read_bytes(dir.path(), dir.path(), 100);
        assert!(
            matches!(folder, Err(ReadRefusal::NotRegular("folder"))),
            "{folder:?}"
        );
    }
}
