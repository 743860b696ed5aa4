//! `autoscale-sim report DIR`: plots and reports again from the CSVs of a run.

use autoscale_sim::error::{Error, InputError};
use autoscale_sim::output::folder::ResultsFolder;
use autoscale_sim::output::manifest::{Manifest, is_derived};
use autoscale_sim::output::results::Results;
use autoscale_sim::output::write::finish as finish_results;
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
    let mut manifest = Manifest::read(&args.dir)?;
    // Every value is checked before anything is written.
    Results::load(&args.dir)?;
    let mut folder = ResultsFolder::create(&args.dir)?;
    for f in &manifest.files {
        if !is_derived(&f.path) {
            let from = args.dir.join(&f.path);
            let bytes = autoscale_sim::sniff::read_file(&from, autoscale_sim::sniff::RESULTS_CAP)
                .map_err(|e| {
                InputError::new(format!("cannot read {}: {e}", from.display())).in_file(&from)
            })?;
            folder.write(&f.path, &bytes)?;
        }
    }
    finish_results(&mut folder)?;
    manifest.command = "report".into();
    manifest.version = env!("CARGO_PKG_VERSION").into();
    folder.commit(manifest)?;
    outln!("plots and reports written in {}", args.dir.display());
    Ok(0)
}
