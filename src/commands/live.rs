//! `autoscale-sim live`: live mode on a Docker engine (see [`crate::live`]).

use crate::error::Error;
use crate::live::docker::Engine;
use crate::live::image::{self, DEFAULT_IMAGE};
use std::path::PathBuf;

/// Arguments of `autoscale-sim live`.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    #[command(subcommand)]
    pub command: LiveCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LiveCommand {
    /// Build the workload image autoscale-sim-workload:latest (no registry needed).
    Image(ImageArgs),
}

/// Arguments of `autoscale-sim live image`.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The autoscale-sim executable to put in the image [default: this one]. A statically
    /// linked one goes in alone; a dynamically linked one with its shared libraries.
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
}

pub fn run(args: &LiveArgs) -> Result<i32, Error> {
    match &args.command {
        LiveCommand::Image(a) => build_image(a),
    }
}

/// A runtime for the engine's API calls.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the tokio runtime", e))
}

fn build_image(args: &ImageArgs) -> Result<i32, Error> {
    let binary = match &args.binary {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| Error::io("cannot find the running executable", e))?,
    };
    let built = runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        image::build(&engine, &binary, DEFAULT_IMAGE).await
    })?;
    println!(
        "built {} ({}) from {} ({})",
        built.tag,
        built.id,
        built.binary.display(),
        built.linking.describe()
    );
    Ok(0)
}
