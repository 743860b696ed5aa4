//! `autoscale-sim run`: simulate every policy of a scenario and write the results.

use crate::error::{Error, InputError};
use crate::experiment::{self, Experiment, RunOptions};
use crate::output::results::{Results, SCENARIO_COPY};
use crate::output::{self, csv as out_csv, report, table};
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

/// Writes the CSV files of an experiment into `dir` (created if needed).
pub fn write_outputs(exp: &Experiment, dir: &Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(
            InputError::new("expected a folder for the results, found a file")
                .in_file(dir)
                .key("--out")
                .into(),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            format!("cannot create the output folder {}", dir.display()),
            e,
        )
    })?;
    output::write_atomic(&dir.join("summary.csv"), &out_csv::summary_csv(exp))?;
    output::write_atomic(&dir.join("policies.csv"), &out_csv::policies_csv(exp))?;
    output::write_atomic(&dir.join("timeline.csv"), &out_csv::timeline_csv(exp))?;
    output::write_atomic(&dir.join("latency.csv"), &out_csv::latency_csv(exp))?;
    let copy = format!(
        "# The scenario of these results, copied from {} by autoscale-sim {} (seed {}, {} replications).\n{}",
        exp.scenario.path.display(),
        env!("CARGO_PKG_VERSION"),
        exp.scenario.seed,
        exp.scenario.replications,
        exp.scenario.text
    );
    output::write_atomic(&dir.join(SCENARIO_COPY), copy.as_bytes())?;
    match exp.shard {
        Some((i, n)) => {
            output::write_atomic(&dir.join(SHARD_FILE), format!("{i}/{n}\n").as_bytes())?
        }
        None => remove_stale(&dir.join(SHARD_FILE))?,
    }
    finish_results(dir)
}

/// The file that marks a folder as one shard of a sweep: `I/N`.
pub const SHARD_FILE: &str = "shard.txt";

fn remove_stale(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io(format!("cannot remove {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

/// Writes what is derived from the CSVs of a results folder: the winner's `plan.csv`, the
/// plots and the reports. `run` and `merge` both end here, so a merged sweep gives the same
/// files as an unsplit one.
pub fn finish_results(dir: &Path) -> Result<(), Error> {
    let results = Results::load(dir)?;
    match results.winner_plan() {
        Some(plan) => output::write_atomic(&dir.join("plan.csv"), &out_csv::plan_csv(&plan))?,
        None => remove_stale(&dir.join("plan.csv"))?,
    }
    remove_stale_charts(dir)?;
    report::write(&results)?;
    Ok(())
}

/// Removes the per-sweep-key charts (`plots/sweep_K.svg`, `.png`) an earlier run left in a
/// reused folder: the report draws those the current results have, so none is left over from
/// another sweep (or from a sweep when this run has none).
fn remove_stale_charts(dir: &Path) -> Result<(), Error> {
    let plots = dir.join("plots");
    let Ok(entries) = std::fs::read_dir(&plots) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("sweep_") && (name.ends_with(".svg") || name.ends_with(".png")) {
            remove_stale(&entry.path())?;
        }
    }
    Ok(())
}
