//! Output files. Exporters return bytes; this module is the one place files are written:
//! [`atomic`] for single files (whole or not at all: a temporary sibling, then a rename) and
//! [`folder`] for results folders (a temporary sibling folder, the manifest `run.json`
//! written last, then swapped into place). [`target`] checks every `--out` (never a device,
//! FIFO or socket) and [`cleanup`] removes temporary outputs on SIGINT/SIGTERM.

pub mod atomic;
pub mod cleanup;
pub mod csv;
pub mod folder;
pub mod manifest;
pub mod plot;
pub mod report;
pub mod results;
pub mod table;
pub mod target;
pub mod write;

use crate::error::Error;
use std::path::Path;

/// Writes `bytes` to `path` atomically: readers see the old file or the whole new one (see
/// [`atomic::write_file`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    atomic::write_file(path, bytes)
}
