//! Results folders, written whole or not at all.
//!
//! [`ResultsFolder::create`] makes a fresh hidden sibling of the target folder
//! (`.NAME.autoscale-tmp.HOST.PID`); every file of the run is written into it, then
//! [`ResultsFolder::commit`] writes the manifest `run.json` last and swaps the folders: the old
//! one is renamed aside (`.NAME.autoscale-old.HOST.PID`), the new one renamed into place, and
//! the old one removed. An interruption therefore leaves the old complete folder or the new
//! complete one, never a mixture: before the swap, SIGINT/SIGTERM remove the temporary folder
//! (see [`super::cleanup`]), and a SIGKILL leaves it to the next run into the same folder,
//! which removes it.
//!
//! Replacing a folder replaces the files autoscale-sim writes ([`WRITTEN`]); anything else in
//! it (a sweep's shard folders, job logs, notes) is moved into the new folder. A folder that
//! is neither empty nor a results folder (no `run.json`, no `summary.csv`, no subfolder with a
//! `run.json`) is not replaced: `--out .` in a project folder is refused rather than emptied.

use super::cleanup;
use super::manifest::{FileEntry, MANIFEST, Manifest};
use super::target::{self, Kind};
use crate::error::{Error, InputError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files and folders autoscale-sim writes in a results folder: what a new run replaces.
pub const WRITTEN: [&str; 15] = [
    "summary.csv",
    "policies.csv",
    "timeline.csv",
    "latency.csv",
    "plan.csv",
    "functions.csv",
    "function_cdf.csv",
    "scenario.toml",
    "shard.txt",
    "plots",
    "report.html",
    "report.md",
    "live-timeline.csv",
    "sim-vs-live.csv",
    MANIFEST,
];

/// A results folder being written (see the module doc).
#[derive(Debug)]
pub struct ResultsFolder {
    target: PathBuf,
    tmp: PathBuf,
    files: Vec<FileEntry>,
    committed: bool,
}

/// Refuses to replace a folder that is not empty and holds no results.
fn check_replaceable(dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot read the folder {}", dir.display()), e))?;
    let entries: Vec<std::fs::DirEntry> = entries.flatten().collect();
    let names: Vec<String> = entries
        .iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // Empty, a results folder, or a folder of results folders (such as a sweep's shards).
    if names.is_empty()
        || names.iter().any(|n| n == MANIFEST || n == "summary.csv")
        || entries.iter().any(|e| e.path().join(MANIFEST).is_file())
    {
        return Ok(());
    }
    let mut shown: Vec<&String> = names.iter().collect();
    shown.sort();
    Err(InputError::new(format!(
        "this folder is not empty and holds no results (no {MANIFEST}; it has {}{}): the results replace the whole folder, so give a new or empty folder, or one autoscale-sim wrote",
        shown[0],
        if shown.len() > 1 {
            format!(" and {} more", shown.len() - 1)
        } else {
            String::new()
        }
    ))
    .in_file(dir)
    .key("--out")
    .into())
}

/// Moves what the replaced folder `old` holds that autoscale-sim does not write (and the new
/// folder `new` does not have) into `new`.
pub(crate) fn carry_over(old: &Path, new: &Path) {
    let Ok(entries) = std::fs::read_dir(old) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if WRITTEN.contains(&text.as_ref()) || text.contains(".autoscale-") {
            continue;
        }
        let to = new.join(&name);
        if std::fs::symlink_metadata(&to).is_err() {
            let _ = std::fs::rename(entry.path(), to);
        }
    }
}

/// Checks the `--out` of a results folder before anything runs: not `-`, not a special file,
/// not a file, and empty or a results folder if it exists.
pub fn check(out: &Path) -> Result<(), Error> {
    if out == Path::new("-") {
        return Err(InputError::new(
            "expected a folder for the results, found - (standard output takes one file: plan, trace convert and trace generate write to it)",
        )
        .key("--out")
        .into());
    }
    let target = target::resolve(out, Kind::Folder, "--out")?;
    if target.is_dir() {
        check_replaceable(&target)?;
    }
    Ok(())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(format!("cannot write {}", path.display()), e)
}

impl ResultsFolder {
    /// Starts writing the results folder `out` (the `--out` of a command): checks it, removes
    /// what a killed run left beside it, and creates the temporary folder.
    pub fn create(out: &Path) -> Result<ResultsFolder, Error> {
        check(out)?;
        let mut target = target::resolve(out, Kind::Folder, "--out")?;
        if target.is_dir() {
            check_replaceable(&target)?;
            // An absolute path, so that `.` or `..` can be renamed.
            target = std::fs::canonicalize(&target)
                .map_err(|e| Error::io(format!("cannot resolve {}", out.display()), e))?;
        }
        let parent = target::parent(&target);
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::io(
                format!("cannot create the output folder {}", parent.display()),
                e,
            )
        })?;
        target::remove_stale(&target, &carry_over);
        let tmp = target::sibling(&target, "tmp");
        cleanup::remove(&tmp);
        cleanup::register(&tmp);
        if let Err(e) = std::fs::create_dir(&tmp) {
            let mut pending = cleanup::lock();
            cleanup::forget(&mut pending, &tmp);
            return Err(Error::io(
                format!("cannot create the output folder {}", target.display()),
                e,
            ));
        }
        Ok(ResultsFolder {
            target,
            tmp,
            files: Vec::new(),
            committed: false,
        })
    }

    /// The folder being written (temporary until [`commit`](Self::commit)): read what was
    /// written back from here.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The path of `rel` in the temporary folder, its parent folders created.
    fn prepare(&self, rel: &str) -> Result<PathBuf, Error> {
        let path = self.tmp.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io(p))?;
        }
        Ok(path)
    }

    /// Writes file `rel` (relative, `/`-separated, such as `plots/cost.svg`) of the folder.
    pub fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.prepare(rel)?;
        let mut f = std::fs::File::create(&path).map_err(io(&path))?;
        f.write_all(bytes).map_err(io(&path))?;
        self.record(rel, bytes.len() as u64);
        Ok(())
    }

    /// Writes file `rel` of the folder with `f`, given the path to create (for writers that
    /// take a path, such as the PNG encoder).
    pub fn write_with(
        &mut self,
        rel: &str,
        f: impl FnOnce(&Path) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let path = self.prepare(rel)?;
        f(&path)?;
        let size = std::fs::metadata(&path).map_err(io(&path))?.len();
        self.record(rel, size);
        Ok(())
    }

    fn record(&mut self, rel: &str, bytes: u64) {
        self.files.retain(|f| f.path != rel);
        self.files.push(FileEntry {
            path: rel.to_string(),
            bytes,
        });
    }

    /// Writes the manifest (with the files written) last, then puts the folder in place of
    /// the old one; returns the final folder.
    pub fn commit(mut self, mut manifest: Manifest) -> Result<PathBuf, Error> {
        manifest.files = self.files.clone();
        let path = self.tmp.join(MANIFEST);
        let mut f = std::fs::File::create(&path).map_err(io(&path))?;
        f.write_all(&manifest.to_json()).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))?;
        drop(f);
        // The files' data reach the disk before the rename that publishes them.
        for file in &self.files {
            if let Ok(f) = std::fs::File::open(self.tmp.join(&file.path)) {
                let _ = f.sync_all();
            }
        }
        let mut pending = cleanup::lock();
        let old = target::sibling(&self.target, "old");
        let had_old = std::fs::symlink_metadata(&self.target).is_ok();
        if had_old {
            cleanup::remove(&old);
            std::fs::rename(&self.target, &old)
                .map_err(|e| Error::io(format!("cannot replace {}", self.target.display()), e))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if had_old {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(Error::io(
                format!("cannot write {}", self.target.display()),
                e,
            ));
        }
        cleanup::forget(&mut pending, &self.tmp);
        self.committed = true;
        if had_old {
            carry_over(&old, &self.target);
            cleanup::remove(&old);
        }
        Ok(self.target.clone())
    }
}

impl Drop for ResultsFolder {
    /// An uncommitted folder (an error while writing) is removed: the old folder stays.
    fn drop(&mut self) {
        if !self.committed {
            let mut pending = cleanup::lock();
            cleanup::remove(&self.tmp);
            cleanup::forget(&mut pending, &self.tmp);
        }
    }
}
