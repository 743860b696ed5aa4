//! `autoscale-sim run`: simulate every policy of a scenario and write the results.

use crate::error::Error;
use crate::experiment::{self, Experiment, RunOptions};
use crate::output::folder::ResultsFolder;
use crate::output::manifest::Manifest;
use crate::output::results::{Results, SCENARIO_COPY};
use crate::output::{csv as out_csv, report, table};
use crate::scenario;
use std::path::{Path, PathBuf};

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
    if crate::serverless::is_serverless_file(&args.scenario) {
        return crate::serverless::run(&serverless_request(args));
    }
    let sc = scenario::load_allowing(&args.scenario, args.allow_large)?;
    if !args.quiet {
        for w in scenario::warnings::warnings(&sc) {
            eprintln!("warning: {w}");
        }
    }
    if let Some(out) = &args.out {
        crate::output::folder::check(out)?;
    }
    let opts = RunOptions {
        seed: args.seed,
        replications: args.replications,
        policies: args.policies.clone(),
        threads: args.threads.map(usize::from),
        progress: !args.quiet,
        shard: args.shard,
        allow_large: args.allow_large,
    };
    let exp = experiment::run(&sc, &opts)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&exp.scenario.name, args.shard));
    write_outputs(&exp, &out)?;
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

/// The results folder when `--out` is not given: `output/<name>/`, and for one shard of a
/// sweep its own folder inside it, `output/<name>/shard-I-of-N/`, so that shards run side by
/// side never write over each other and `merge` (which writes `output/<name>/` by default)
/// finds them next to where it writes.
pub fn default_out(name: &str, shard: Option<(usize, usize)>) -> PathBuf {
    let dir = Path::new("output").join(name);
    match shard {
        Some((i, n)) => dir.join(format!("shard-{i}-of-{n}")),
        None => dir,
    }
}

/// The serverless run of `args` (a scenario with a `[platform]` table).
fn serverless_request(args: &RunArgs) -> crate::serverless::RunRequest {
    crate::serverless::RunRequest {
        scenario: args.scenario.clone(),
        out: args.out.clone(),
        seed: args.seed,
        replications: args.replications,
        policies: args.policies.clone(),
        threads: args.threads.map(usize::from),
        quiet: args.quiet,
        shard: args.shard,
    }
}

/// Writes the results folder of an experiment, whole or not at all (see
/// [`crate::output::folder`]): the CSVs, the scenario's copy, the derived files, then `run.json`.
pub fn write_outputs(exp: &Experiment, out: &Path) -> Result<(), Error> {
    let mut folder = ResultsFolder::create(out)?;
    folder.write("summary.csv", &out_csv::summary_csv(exp))?;
    folder.write("policies.csv", &out_csv::policies_csv(exp))?;
    folder.write("timeline.csv", &out_csv::timeline_csv(exp))?;
    folder.write("latency.csv", &out_csv::latency_csv(exp))?;
    let sc = &exp.scenario;
    folder.write(
        SCENARIO_COPY,
        scenario_copy(&sc.path, &sc.text, sc.seed, sc.replications).as_bytes(),
    )?;
    if let Some((i, n)) = exp.shard {
        folder.write(SHARD_FILE, format!("{i}/{n}\n").as_bytes())?;
    }
    // A shard with no point (more shards than points) has header-only CSVs and nothing to draw.
    if !exp.points.is_empty() {
        finish_results(&mut folder)?;
    }
    let manifest = Manifest::new(
        "run",
        &sc.name,
        &sc.text,
        sc.seed,
        sc.policies.iter().map(|p| p.name.clone()).collect(),
        sc.replications,
        exp.shard,
    );
    folder.commit(manifest)?;
    Ok(())
}

/// The copy of a scenario written next to its results: a comment saying where it came from,
/// then its text.
pub fn scenario_copy(path: &Path, text: &str, seed: u64, replications: u32) -> String {
    format!(
        "# The scenario of these results, copied from {} by autoscale-sim {} (seed {seed}, {replications} replications).\n{text}",
        path.display(),
        env!("CARGO_PKG_VERSION"),
    )
}

/// The file that marks a folder as one shard of a sweep: `I/N` (`run.json` says it too).
pub const SHARD_FILE: &str = "shard.txt";

/// Writes what is derived from the CSVs of a results folder being written: the winner's
/// `plan.csv`, the plots and the reports. `run`, `merge` and `report` all end here, so a
/// merged sweep gives the same files as an unsplit one.
pub fn finish_results(folder: &mut ResultsFolder) -> Result<(), Error> {
    let results = Results::load(folder.path())?;
    if let Some(plan) = results.winner_plan() {
        folder.write("plan.csv", &out_csv::plan_csv(&plan))?;
    }
    report::write(&results, folder)
}
