//! `autoscale-sim run`: simulate every policy of a scenario and write the results.

use autoscale_sim::error::Error;
use autoscale_sim::experiment::{self, RunOptions};
use autoscale_sim::output::table;
use autoscale_sim::output::write::{default_out, write_results};
use autoscale_sim::scenario;
use std::path::PathBuf;

/// Arguments of `autoscale-sim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder [default: output/<scenario name>/, and output/<scenario name>/shard-I-of-N/
    /// with --shard].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overrides the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Overrides the scenario's number of replications.
    #[arg(long)]
    pub replications: Option<u32>,
    /// Runs only this policy (repeat for several).
    #[arg(long = "policy", value_name = "NAME")]
    pub policies: Vec<String>,
    /// Worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Prints nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Runs only slice I of N of the sweep's points (I from 0 to N-1); `merge` joins the slices.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Lifts the resource limits (expected arrivals, runs, timeline rows, sweep points,
    /// planner tables, containers; see docs/limits.md) for a scenario that is meant to be large.
    #[arg(long)]
    pub allow_large: bool,
}

/// Parses `I/N` with 0 <= I < N.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/N (such as 0/4), found \"{s}\""))?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("expected a shard number, found \"{i}\""))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("expected a shard count, found \"{n}\""))?;
    if n == 0 || i >= n {
        return Err(format!("expected 0 <= I < N, found {i}/{n}"));
    }
    Ok((i, n))
}

pub fn run(args: &RunArgs) -> Result<i32, Error> {
    let opts = RunOptions {
        seed: args.seed,
        replications: args.replications,
        policies: args.policies.clone(),
        threads: args.threads.map(usize::from),
        shard: args.shard,
        allow_large: args.allow_large,
    };
    if autoscale_sim::serverless::is_serverless_file(&args.scenario) {
        return autoscale_sim::serverless::run(&serverless_request(args, opts));
    }
    let sc = scenario::load_allowing(&args.scenario, args.allow_large)?;
    if !args.quiet {
        for w in scenario::warnings::warnings(&sc) {
            eprintln!("warning: {w}");
        }
    }
    if let Some(out) = &args.out {
        autoscale_sim::output::folder::check(out)?;
    }
    let exp = if args.quiet {
        experiment::run(&sc, &opts)?
    } else {
        let bar = super::progress::Bar::new();
        experiment::run_reporting(&sc, &opts, &|p| bar.update(p))?
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&exp.scenario.name, args.shard));
    write_results(&exp, &out)?;
    if args.quiet {
        return Ok(0);
    }
    let mut notes: Vec<&String> = exp.runs.iter().flat_map(|r| &r.notes).collect();
    notes.sort();
    notes.dedup();
    for n in notes {
        eprintln!("note: {n}");
    }
    if let Some(t) = exp.runs.iter().filter_map(|r| r.workload_ended_at).max() {
        eprintln!(
            "note: the workload ran out of arrivals at {} s, before the end of the run at {} s; the rest of the run had no arrivals",
            t.as_secs_f64(),
            exp.scenario.duration.as_secs_f64()
        );
    }
    super::print(&table::comparison(&exp))?;
    outln!("results in {}", out.display());
    Ok(0)
}

/// The serverless run of `args` (a scenario with a `[platform]` table).
fn serverless_request(
    args: &RunArgs,
    options: RunOptions,
) -> autoscale_sim::serverless::RunRequest {
    autoscale_sim::serverless::RunRequest {
        scenario: args.scenario.clone(),
        out: args.out.clone(),
        options,
        quiet: args.quiet,
    }
}
