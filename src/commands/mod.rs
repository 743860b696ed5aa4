//! Command implementations behind the command line: each takes its parsed arguments and
//! returns the exit status, or an error the binary reports.

#[cfg(feature = "live")]
pub mod live;
pub mod merge;
pub mod plan;
pub mod report;
pub mod run;
#[cfg(feature = "live")]
pub mod serve;
pub mod trace;
pub mod validate;
