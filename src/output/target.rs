//! Where an output goes: checking `--out`, naming temporary siblings, removing stale ones.
//!
//! An output is written beside its final path, under a hidden name that says whose it is
//! (`.NAME.autoscale-tmp.HOST.PID`), then renamed into place. A device, FIFO or socket (or a
//! symbolic link to one) is never replaced: `--out` naming one is bad input. A symbolic link to
//! a regular file or folder is followed, so the file or folder it points to is replaced and the
//! link is kept.

use crate::error::{Error, InputError};
use std::path::{Path, PathBuf};

/// What an output path must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A single file (`plan.csv`, a converted trace).
    File,
    /// A results folder.
    Folder,
}

/// The name of a special file type, if `ft` is one.
fn special(ft: &std::fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return Some("a character device");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
        if ft.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
    }
    let _ = ft;
    None
}

/// Checks an output path given as `key` (such as `--out`) and returns the path to write: the
/// path itself, or the file or folder a symbolic link points to. Refuses (bad input) a device,
/// FIFO or socket or a link to one, a link to nothing, a folder where a file is expected and a
/// file where a folder is expected.
pub fn resolve(path: &Path, kind: Kind, key: &str) -> Result<PathBuf, Error> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => return Err(Error::io(format!("cannot inspect {}", path.display()), e)),
    };
    let bad = |what: String| -> Error { InputError::new(what).in_file(path).key(key).into() };
    let (meta, link) = if meta.file_type().is_symlink() {
        match std::fs::metadata(path) {
            Ok(m) => (m, " a symbolic link to"),
            Err(_) => {
                return Err(bad(
                    "expected a path to write, found a symbolic link to nothing: give the path itself, or remove the link"
                        .into(),
                ));
            }
        }
    } else {
        (meta, "")
    };
    if let Some(what) = special(&meta.file_type()) {
        let alt = match kind {
            Kind::File => "a regular file's path, or - for standard output",
            Kind::Folder => "a folder's path",
        };
        return Err(bad(format!(
            "this is{link} {what}: autoscale-sim writes whole files and never replaces a special file; give {alt}"
        )));
    }
    match kind {
        Kind::File if meta.is_dir() => {
            return Err(bad(format!(
                "expected a file name for the output, found{} the folder {}: give a file path such as {}",
                if link.is_empty() {
                    ""
                } else {
                    " a symbolic link to"
                },
                path.display(),
                path.join("out.csv").display()
            )));
        }
        Kind::Folder if !meta.is_dir() => {
            return Err(bad(format!(
                "expected a folder for the results, found{link} a file: give a folder path (it is created)"
            )));
        }
        _ => {}
    }
    if link.is_empty() {
        Ok(path.to_path_buf())
    } else {
        std::fs::canonicalize(path)
            .map_err(|e| Error::io(format!("cannot resolve {}", path.display()), e))
    }
}

/// The folder that holds `path` (`.` for a bare name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The file name of `path` as text (`output` when it has none, such as `..`).
fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into())
}

/// This machine's name, so temporary names from other machines sharing a file system are
/// told apart (and left alone).
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// The hidden sibling of `path` this process writes through: `stage` is `tmp` (the output
/// being written) or `old` (the output it replaces, until removed).
pub fn sibling(path: &Path, stage: &str) -> PathBuf {
    parent(path).join(format!(
        ".{}.autoscale-{stage}.{}.{}",
        name(path),
        host(),
        std::process::id()
    ))
}

/// Whether process `pid` of this machine is running (true when that cannot be known).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// Removes the temporary siblings of `path` that a process of this machine that is no longer
/// running left behind (killed while writing). An `old` sibling is a replaced output whose
/// removal was cut short: when the new output is a folder, `carry_over(old, new)` moves into
/// it first what the replaced folder still holds that it lacks.
pub fn remove_stale(path: &Path, carry_over: &dyn Fn(&Path, &Path)) {
    let prefix = format!(".{}.autoscale-", name(path));
    let host = host();
    let Ok(entries) = std::fs::read_dir(parent(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let mut parts = rest.splitn(3, '.');
        let (Some(stage), Some(h), Some(pid)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if h != host || pid == std::process::id() || alive(pid) {
            continue;
        }
        let stale = entry.path();
        if stage == "old" {
            if std::fs::symlink_metadata(path).is_err() {
                // Killed between the two renames: the old folder goes back in place.
                let _ = std::fs::rename(&stale, path);
                continue;
            }
            if path.is_dir() {
                carry_over(&stale, path);
            }
        }
        if stage == "tmp" || stage == "old" {
            super::cleanup::remove(&stale);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_are_hidden_beside_the_output_and_name_this_process() {
        let s = sibling(Path::new("out/results"), "tmp");
        assert_eq!(s.parent(), Some(Path::new("out")));
        let n = s.file_name().unwrap().to_string_lossy().into_owned();
        assert!(n.starts_with(".results.autoscale-tmp."), "{n}");
        assert!(n.ends_with(&format!(".{}", std::process::id())), "{n}");
        assert_eq!(parent(Path::new("plan.csv")), Path::new("."));
    }
}
