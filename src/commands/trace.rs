//! `autoscale-sim trace ...` (inspect, convert, generate).

use crate::error::{Error, InputError};

/// Arguments of `autoscale-sim trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub command: TraceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TraceCommand {
    /// Summarise a trace: span, arrivals, rates, gaps, burstiness.
    Inspect { trace: std::path::PathBuf },
}

pub fn run(_args: &TraceArgs) -> Result<i32, Error> {
    Err(InputError::new("the trace commands are not available yet").into())
}
