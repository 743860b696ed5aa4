//! Command implementations behind the command line: each takes its parsed arguments and
//! returns the exit status, or an error the binary reports. Everything they print to standard
//! output goes through [`print`], so a closed pipe (`autoscale-sim live --dry-run | head`) ends
//! the output quietly instead of panicking.

use autoscale_sim::error::Error;
use std::io::Write;

/// Prints to standard output; a closed pipe (`| head`) is not an error: the rest of the output
/// is dropped, and the command carries on (a live run still cleans up after itself).
pub fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write to standard output", e))
        }
        _ => Ok(()),
    }
}

/// `println!` through [`print`]: returns early with the error if standard output fails for
/// another reason than a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::commands::print(&format!("{}\n", format_args!($($arg)*)))?
    };
}

#[cfg(feature = "live")]
pub mod live;
pub mod merge;
pub mod plan;
mod progress;
pub mod report;
pub mod run;
#[cfg(feature = "live")]
pub mod serve;
pub mod trace;
pub mod validate;
