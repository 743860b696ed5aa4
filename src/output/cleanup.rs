//! Temporary outputs removed when the process is interrupted.
//!
//! Every temporary file or folder the writers create ([`super::atomic`], [`super::folder`]) is
//! registered here until it is renamed into place. [`install_signal_handler`] starts a thread
//! that, on SIGINT, SIGTERM or SIGHUP, removes every registered path and exits with 128 + the
//! signal number, so Ctrl-C leaves no temporary file behind. Renames into place hold the same
//! lock ([`lock`]), so a signal arrives either before a commit (the temporary is removed, the old
//! output stays) or after it (the new output is complete). A SIGKILL cannot be caught: the next
//! write to the same path removes what it left (see [`super::target::remove_stale`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The registry of temporary paths, locked; hold it while renaming outputs into place.
pub(crate) fn lock() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers a temporary path, to be removed if the process is interrupted.
pub(crate) fn register(path: &Path) {
    lock().push(path.to_path_buf());
}

/// Forgets a temporary path (renamed into place, or removed) in a registry already locked.
pub(crate) fn forget(pending: &mut Vec<PathBuf>, path: &Path) {
    pending.retain(|p| p != path);
}

/// Removes a temporary file or folder, ignoring what is already gone.
pub(crate) fn remove(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Removes every registered temporary path and exits with 128 + `signal` when the process
/// receives SIGINT, SIGTERM or SIGHUP. The binary calls this for the commands that write
/// files (not for `live` and `serve`, which handle signals themselves).
#[cfg(unix)]
pub fn install_signal_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let pending = lock();
            for p in pending.iter() {
                remove(p);
            }
            std::process::exit(128 + signal);
        }
    });
}

/// Without Unix signals, an interruption leaves the temporary paths to the next run.
#[cfg(not(unix))]
pub fn install_signal_handler() {}
