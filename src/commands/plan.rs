//! `autoscale-sim plan`: one policy's replica plan as `plan.csv`.

use crate::error::{Error, InputError};
use crate::experiment::{self, RunOptions};
use crate::output::{self, csv as out_csv};
use crate::scenario;
use std::path::PathBuf;

/// Arguments of `autoscale-sim plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The policy whose plan to write.
    #[arg(long, value_name = "NAME")]
    pub policy: String,
    /// Where to write the plan.
    #[arg(long, default_value = "plan.csv")]
    pub out: PathBuf,
    /// Overrides the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Simulates the policy on replication 0 and writes the desired replicas it asked for at each
/// interval: the plan a live executor follows.
pub fn run(args: &PlanArgs) -> Result<i32, Error> {
    let sc = scenario::load(&args.scenario)?;
    let sc = experiment::apply_options(
        &sc,
        &RunOptions {
            seed: args.seed,
            policies: vec![args.policy.clone()],
            ..Default::default()
        },
    )?;
    if args.out.is_dir() {
        return Err(
            InputError::new("expected a file name for the plan, found a folder")
                .in_file(&args.out)
                .key("--out")
                .into(),
        );
    }
    let result = experiment::simulate(&sc, 0, 0)?;
    output::write_atomic(&args.out, &out_csv::plan_csv(&result.plan()))?;
    println!(
        "plan of {} ({} intervals of {} s) written to {}",
        args.policy,
        result.timeline.len(),
        sc.interval.as_secs_f64(),
        args.out.display()
    );
    Ok(0)
}
