//! `autoscale-sim plan`: one policy's replica plan as `plan.csv`.

use autoscale_sim::autoscaler::PolicySpec;
use autoscale_sim::autoscaler::oracle::Oracle;
use autoscale_sim::calibration;
use autoscale_sim::error::Error;
use autoscale_sim::experiment::{self, RunOptions};
use autoscale_sim::output::target::{self, Kind};
use autoscale_sim::output::{atomic, csv as out_csv};
use autoscale_sim::scenario;
use std::path::{Path, PathBuf};

/// Arguments of `autoscale-sim plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The policy whose plan to write.
    #[arg(long, value_name = "NAME")]
    pub policy: String,
    /// Where to write the plan (`-` for standard output).
    #[arg(long, default_value = "plan.csv")]
    pub out: PathBuf,
    /// Overrides the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Lifts the resource limits (expected arrivals, runs, timeline rows, sweep points,
    /// planner tables, containers; see docs/limits.md) for a scenario that is meant to be large.
    #[arg(long)]
    pub allow_large: bool,
}

/// Writes the desired replicas the policy asks for on replication 0: the plan a live executor
/// follows. A planner's plan has one row per decision `step`; the oracle's comes straight from
/// its plan, without simulating (its decisions are fixed before the run); every other policy
/// is simulated and its plan has one row per report `interval`.
pub fn run(args: &PlanArgs) -> Result<i32, Error> {
    let mut sc = scenario::load_allowing(&args.scenario, args.allow_large)?;
    if args.allow_large {
        sc.limits = scenario::limits::Limits::UNLIMITED;
    }
    let sc = experiment::apply_options(
        &sc,
        &RunOptions {
            seed: args.seed,
            policies: vec![args.policy.clone()],
            ..Default::default()
        },
    )?;
    if args.out != Path::new("-") {
        target::resolve(&args.out, Kind::File, "--out")?;
    }
    if !args.allow_large {
        // One policy, one replication: the base scenario, not its sweep.
        let mut one = sc.clone();
        one.replications = 1;
        one.sweep = None;
        scenario::limits::check(&one, "replications")?;
    }
    let spec = &sc.policies[0].spec;
    let (rows, step) = match (spec, spec.decision_step()) {
        (PolicySpec::Oracle(params), Some(step)) => {
            let initial = experiment::initial_replicas(&sc, 0);
            let calibrations = calibration::prepare(&[&sc], &|_| {})?;
            let oracle = Oracle::new(params, &sc.setting(), 0, initial, &calibrations)?;
            (oracle.rows(sc.duration), step)
        }
        (_, Some(step)) => {
            let result = experiment::simulate(&sc, 0, 0)?;
            (result.plan_every(step, sc.duration), step)
        }
        (_, None) => (experiment::simulate(&sc, 0, 0)?.plan(), sc.interval),
    };
    atomic::write_out(&args.out, |w| {
        w.write_all(&out_csv::plan_csv(&rows))
            .map_err(|e| Error::io(format!("cannot write {}", args.out.display()), e))
    })?;
    let line = format!(
        "plan of {} ({} steps of {} s) written to {}",
        args.policy,
        rows.len(),
        step.as_secs_f64(),
        args.out.display()
    );
    // With the plan on standard output, the line goes to standard error.
    if args.out == Path::new("-") {
        eprintln!("{line}");
    } else {
        outln!("{line}");
    }
    Ok(0)
}
