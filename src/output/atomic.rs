//! Single output files, written whole or not at all.
//!
//! A file is written into a hidden temporary sibling (see [`super::target::sibling`]), flushed
//! to disk, then renamed over its final path: a reader sees the old file or the whole new one,
//! and an interruption leaves no temporary file (removed on error and on SIGINT/SIGTERM; after
//! a SIGKILL, by the next write to the same path). `-` writes to standard output instead,
//! for the commands that write one file (`plan`, `trace convert`, `trace generate`).

use super::cleanup;
use super::target::{self, Kind};
use crate::error::{Error, InputError};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `bytes` to `path` whole or not at all (see the module doc).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_file_with(path, |w| {
        w.write_all(bytes)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })
}

/// Writes the output `out` of a command (its `--out`) through `f`: standard output for `-`,
/// else a file written whole or not at all.
pub fn write_out<T>(
    out: &Path,
    f: impl FnOnce(&mut dyn Write) -> Result<T, Error>,
) -> Result<T, Error> {
    if out == Path::new("-") {
        let stdout = std::io::stdout();
        let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
        let value = f(&mut w)?;
        return match w.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Error::io("cannot write to standard output", e))
            }
            _ => Ok(value),
        };
    }
    write_file_with(out, f)
}

/// Writes `path` through `f` into a temporary sibling, renamed into place only once `f` has
/// succeeded and the bytes are on disk.
pub fn write_file_with<T>(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> Result<T, Error>,
) -> Result<T, Error> {
    let path = target::resolve(path, Kind::File, "--out")?;
    let dir = target::parent(&path);
    if !dir.is_dir() {
        let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        return Err(InputError::new(format!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            shown.display()
        ))
        .key("--out")
        .into());
    }
    // A single file carries nothing over from the one it replaced.
    target::remove_stale(&path, &|_, _| {});
    let tmp = target::sibling(&path, "tmp");
    cleanup::register(&tmp);
    let written = (|| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| Error::io(format!("cannot create a file in {}", dir.display()), e))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let value = f(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        let mut pending = cleanup::lock();
        std::fs::rename(&tmp, &path)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        cleanup::forget(&mut pending, &tmp);
        Ok(value)
    })();
    if written.is_err() {
        let mut pending = cleanup::lock();
        cleanup::remove(&tmp);
        cleanup::forget(&mut pending, &tmp);
    }
    written
}
