//! `autoscale-sim report DIR`: plots and reports again from the CSVs of a run.

use crate::error::{Error, InputError};
use crate::output::{report, results::Results};
use std::path::PathBuf;

/// Arguments of `autoscale-sim report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A folder written by `autoscale-sim run`.
    pub dir: PathBuf,
}

pub fn run(args: &ReportArgs) -> Result<i32, Error> {
    if !args.dir.exists() {
        let shown = match std::path::absolute(&args.dir) {
            Ok(abs) if abs != args.dir => format!(" ({})", abs.display()),
            _ => String::new(),
        };
        return Err(InputError::new(format!(
            "this folder{shown} does not exist: give the results folder of a run (`run` writes output/<scenario name>/ unless --out says otherwise)"
        ))
        .in_file(&args.dir)
        .into());
    }
    if !args.dir.is_dir() {
        return Err(InputError::new(
            "expected a results folder written by `autoscale-sim run`, found a file",
        )
        .in_file(&args.dir)
        .into());
    }
    let results = Results::load(&args.dir)?;
    report::write(&results)?;
    outln!("plots and reports written in {}", args.dir.display());
    Ok(0)
}
