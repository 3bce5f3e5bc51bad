//! Files trace-merge writes besides stdout (`--heatmap FILE`), written so that no user's file
//! is ever destroyed.
//!
//! - **Checked before any input is read**, in [`OutputFile::check`]: the file may not be one
//!   of the inputs (compared by device and inode, so another name, a hard link or a symlink
//!   to an input is caught too, and stdin when it is a file), and an existing file must look
//!   like this option's own output (its first bytes) unless `--force` is given.
//! - **Nothing is created or truncated before the output is complete**: the output is
//!   written to a temporary file beside the target (same directory, so same file system) and
//!   renamed over it at the end. An error removes the temporary file; SIGINT, SIGTERM, SIGHUP
//!   and SIGQUIT are held back while the temporary file exists, so an interrupted run leaves
//!   the old file as it was and no temporary file behind. (SIGKILL cannot be held back: it
//!   may leave a `.NAME.trace-merge-PID.tmp` file, never a damaged NAME.)
//!
//! A target that exists and is not a regular file (a FIFO, `/dev/stdout`, a terminal) is
//! written directly, at the end: renaming over it would replace the device, not write to it.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::input::InputSpec;

/// How many first bytes of an existing file [`OutputFile::check`] reads to recognise it.
pub const SNIFF_BYTES: usize = 4096;

/// A checked output file: where it goes and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// The flag that names it, for messages (`--heatmap`).
    flag: &'static str,
    /// As given, for messages.
    given: PathBuf,
    /// Where the bytes go: the given path, or the file a symlink names.
    target: PathBuf,
    /// The target exists and is not a regular file: written directly.
    direct: bool,
}

/// Why an output file is refused (exit status 2, before any input is read).
#[derive(Debug, thiserror::Error)]
pub enum OutputFileError {
    /// The file is one of the inputs.
    #[error("{flag} {name}: is also an input (the file would be replaced by its own picture); give another file name")]
    IsInput {
        /// The flag.
        flag: &'static str,
        /// The path, escaped.
        name: String,
    },
    /// The file exists and is not this option's output.
    #[error("{flag} {name}: exists and is not {kind} written by trace-merge; not replaced (--force replaces it)")]
    NotOurs {
        /// The flag.
        flag: &'static str,
        /// The path, escaped.
        name: String,
        /// What this option writes (`an SVG heat map`).
        kind: &'static str,
    },
    /// A directory, or a directory that cannot hold the file.
    #[error("{flag} {name}: {reason}")]
    Unusable {
        /// The flag.
        flag: &'static str,
        /// The path, escaped.
        name: String,
        /// Why.
        reason: String,
    },
}

/// What kind of file an option writes, and how to recognise one it wrote before.
pub struct Kind {
    /// For messages: `an SVG heat map`.
    pub name: &'static str,
    /// True when these first bytes (at most [`SNIFF_BYTES`]) are this kind's output.
    pub looks_like: fn(&[u8]) -> bool,
}

fn escaped(path: &Path) -> String {
    let mut out = Vec::new();
    crate::escape::escape_into(&mut out, path.as_os_str().as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// (device, inode): the same file under any name.
fn identity(meta: &fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// The identities of the inputs that exist (stdin: the file or pipe on descriptor 0).
fn input_identities(inputs: &[InputSpec]) -> Vec<(u64, u64)> {
    let mut ids = Vec::new();
    for input in inputs {
        let meta = match input {
            InputSpec::Path(p) => fs::metadata(p).ok(),
            InputSpec::Stdin => stdin_metadata(),
        };
        if let Some(meta) = meta {
            ids.push(identity(&meta));
        }
    }
    ids
}

fn stdin_metadata() -> Option<fs::Metadata> {
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    File::from(fd).metadata().ok()
}

impl OutputFile {
    /// Checks `path` for `flag` against the inputs and what it holds now (see the module
    /// documentation). Creates nothing.
    pub fn check(
        flag: &'static str,
        path: &Path,
        inputs: &[InputSpec],
        force: bool,
        kind: &Kind,
    ) -> Result<OutputFile, OutputFileError> {
        let name = escaped(path);
        let unusable = |reason: String| OutputFileError::Unusable {
            flag,
            name: name.clone(),
            reason,
        };
        if path.as_os_str().is_empty() {
            return Err(unusable("empty file name".into()));
        }
        // A symlink is followed: its target is replaced, not the link.
        let target = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(path) {
                Ok(t) => t,
                // A dangling link: the file it names is created.
                Err(_) => match fs::read_link(path) {
                    Ok(t) if t.is_absolute() => t,
                    Ok(t) => path.parent().unwrap_or(Path::new("")).join(t),
                    Err(e) => return Err(unusable(e.to_string())),
                },
            },
            _ => path.to_owned(),
        };
        let mut direct = false;
        match fs::metadata(&target) {
            Ok(meta) => {
                if meta.is_dir() {
                    return Err(unusable("is a directory".into()));
                }
                if input_identities(inputs).contains(&identity(&meta)) {
                    return Err(OutputFileError::IsInput { flag, name });
                }
                let ft = meta.file_type();
                if ft.is_fifo() || ft.is_char_device() || ft.is_socket() || ft.is_block_device() {
                    if ft.is_block_device() && !force {
                        return Err(OutputFileError::NotOurs {
                            flag,
                            name,
                            kind: kind.name,
                        });
                    }
                    direct = true;
                } else if !force {
                    let mut head = Vec::with_capacity(SNIFF_BYTES);
                    File::open(&target)
                        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
                        .map_err(|e| unusable(format!("cannot read it to check it: {e}")))?;
                    if !(kind.looks_like)(&head) {
                        return Err(OutputFileError::NotOurs {
                            flag,
                            name,
                            kind: kind.name,
                        });
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(unusable(e.to_string())),
        }
        if !direct {
            let dir = parent_dir(&target);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(unusable(format!("{} is not a directory", escaped(&dir)))),
                Err(e) => return Err(unusable(format!("directory {}: {e}", escaped(&dir)))),
            }
            if !writable(&dir) {
                return Err(unusable(format!(
                    "directory {} is not writable",
                    escaped(&dir)
                )));
            }
        }
        Ok(OutputFile {
            flag,
            given: path.to_owned(),
            target,
            direct,
        })
    }

    /// Writes the whole output with `write`, then puts it in place (see the module
    /// documentation). Errors name the flag and the file.
    pub fn write(&self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
        let named = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("{} {}: {e}", self.flag, escaped(&self.given)),
            )
        };
        if self.direct {
            let mut out = BufWriter::new(File::create(&self.target).map_err(named)?);
            write(&mut out).map_err(named)?;
            return out.flush().map_err(named);
        }
        let _held = HeldSignals::hold();
        let temp = self.temp_path();
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(named)?;
        let result = (|| {
            // The replaced file's permissions are kept.
            if let Ok(old) = fs::metadata(&self.target) {
                file.set_permissions(old.permissions())?;
            }
            let mut out = BufWriter::new(&file);
            write(&mut out)?;
            out.flush()?;
            drop(out);
            fs::rename(&temp, &self.target)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(named)
    }

    /// `DIR/.NAME.trace-merge-PID.tmp` beside the target.
    fn temp_path(&self) -> PathBuf {
        let mut name = OsString::from(".");
        name.push(self.target.file_name().unwrap_or_default());
        name.push(format!(".trace-merge-{}.tmp", std::process::id()));
        parent_dir(&self.target).join(name)
    }
}

/// The directory a file goes in (`.` for a bare name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn writable(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// The signals that end a run, blocked for this thread while a temporary file exists, and
/// unblocked (so delivered, if one came) when dropped. trace-merge writes its files on the
/// main thread; the reader thread has ended by then.
struct HeldSignals {
    old: libc::sigset_t,
}

impl HeldSignals {
    fn hold() -> HeldSignals {
        // SAFETY: sigset_t is plain data initialised by sigemptyset; pthread_sigmask only
        // reads `set` and writes `old`.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::sigaddset(&mut set, sig);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            HeldSignals { old }
        }
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `hold`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// The second line of every heat map (`printer/heatmap.rs`), after the XML declaration, and
/// what [`HEATMAP_FILE`] looks for.
pub const HEATMAP_MARKER: &str = "<!-- latency heat map by trace-merge -->";

/// What `--heatmap` writes (`printer/heatmap.rs`; defined here so that `config` checks the
/// file without importing a printer): an existing file is replaced only when it is one (its first
/// bytes: the XML declaration, then the marker comment, or for maps from trace-merge 0.1.0,
/// the `<svg` element and the title).
pub const HEATMAP_FILE: Kind = Kind {
    name: "an SVG heat map",
    looks_like: |head| {
        let Some(rest) = head.strip_prefix(XML_DECLARATION.as_bytes()) else {
            return false;
        };
        rest.starts_with(HEATMAP_MARKER.as_bytes())
            || (rest.starts_with(b"<svg xmlns=\"http://www.w3.org/2000/svg\"")
                && memchr::memmem::find(rest, b">Latency heat map: ").is_some())
    },
};

/// The first line of every heat map.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: Kind = Kind {
        name: "an SVG test file",
        looks_like: |head| head.starts_with(b"<svg"),
    };

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tm-output-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn refuses_an_input_by_identity_not_name() {
        let dir = temp_dir("input");
        let input = dir.join("app.trace");
        fs::write(&input, "<svg but an input").unwrap();
        let link = dir.join("other-name.svg");
        fs::hard_link(&input, &link).unwrap();
        let inputs = [InputSpec::Path(input.clone())];
        for path in [&input, &link] {
            let err = OutputFile::check("--heatmap", path, &inputs, true, &SVG).unwrap_err();
            assert!(matches!(err, OutputFileError::IsInput { .. }), "{err}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_a_foreign_file_unless_forced_and_writes_through_a_temp_file() {
        let dir = temp_dir("foreign");
        let path = dir.join("notes.txt");
        fs::write(&path, "my notes").unwrap();
        let err = OutputFile::check("--heatmap", &path, &[], false, &SVG).unwrap_err();
        assert!(matches!(err, OutputFileError::NotOurs { .. }), "{err}");
        assert!(!err.to_string().contains('\n'));
        let out = OutputFile::check("--heatmap", &path, &[], true, &SVG).unwrap();
        // A failing writer leaves the old file and no temporary file.
        let failed = out.write(|w: &mut dyn Write| {
            w.write_all(b"<svg half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.unwrap_err().to_string().contains("disk full"));
        assert_eq!(fs::read(&path).unwrap(), b"my notes");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        out.write(|w: &mut dyn Write| w.write_all(b"<svg/>"))
            .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"<svg/>");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Its own kind of file is replaced without --force.
        OutputFile::check("--heatmap", &path, &[], false, &SVG).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
