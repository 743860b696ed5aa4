//! Serverless platforms that scale per request (AWS Lambda, Azure Functions, Google Cloud
//! Functions, OpenWhisk): on-demand instances with keep-alive, many functions per trace,
//! keep-alive policies (fixed, hybrid histogram) and provisioned concurrency.
//!
//! A scenario with a `[platform]` table of `type = "per_request"` is run by `autoscale-sim run`
//! through this module instead of the replica-count simulation: [`scenario`] reads it,
//! [`runner`] simulates every function ([`functions`]) on the platform model ([`platform`])
//! under each policy ([`keepalive`], [`provisioned`]), and [`output`] writes the results.
//! The model, the policies and their sources, and the cross-check against SimFaaS are in
//! `docs/serverless.md`.
//!
//! Guarantees: the same scenario, seed and binary give byte-identical files whatever the
//! number of threads; memory grows with the number of functions (one result row each), not
//! with the number of invocations.

pub mod functions;
pub mod keepalive;
pub mod output;
pub mod platform;
pub mod provisioned;
pub mod runner;
pub mod scenario;

use crate::error::{Error, InputError};
use crate::experiment::{RunOptions, apply_common};
use crate::output::folder::ResultsFolder;
use crate::output::write::Origin;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What `autoscale-sim run` passes on for a serverless scenario.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    pub scenario: PathBuf,
    pub out: Option<PathBuf>,
    /// The command line's overrides; `shard` is refused (a serverless scenario has no sweep
    /// to split).
    pub options: RunOptions,
    pub quiet: bool,
}

/// Whether the file at `path` is a serverless scenario (false when it cannot be read: the
/// ordinary scenario reader then reports why).
pub fn is_serverless_file(path: &Path) -> bool {
    crate::sniff::read_file(path, crate::sniff::TEXT_CAP)
        .is_ok_and(|b| scenario::is_serverless(&String::from_utf8_lossy(&b)))
}

/// Loads a serverless scenario and applies the command line's overrides.
pub fn load_with(req: &RunRequest) -> Result<scenario::FaasScenario, InputError> {
    let mut sc = scenario::load(&req.scenario)?;
    apply_common(
        &req.options,
        &req.scenario,
        &mut sc.seed,
        &mut sc.replications,
        &mut sc.policies,
        |p| &p.name,
    )?;
    if !req.options.allow_large {
        let key = if req.options.replications.is_some() {
            "--replications"
        } else {
            "replications"
        };
        scenario::check_limits(&sc, key)?;
    }
    Ok(sc)
}

/// `autoscale-sim run` for a serverless scenario: simulates, writes the results folder, prints
/// the comparison table.
pub fn run(req: &RunRequest) -> Result<i32, Error> {
    if req.options.shard.is_some() {
        return Err(InputError::new(
            "--shard splits the points of a [sweep], and a serverless scenario ([platform]) has none: run it without --shard",
        )
        .in_file(&req.scenario)
        .key("--shard")
        .into());
    }
    let sc = load_with(req)?;
    let exp = runner::run(
        &sc,
        &runner::FaasOptions {
            threads: req.options.threads,
        },
    )?;
    let out = req
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&sc.name));
    write_results(&exp, &out)?;
    if !req.quiet {
        print!("{}", table(&exp));
        println!("results in {}", out.display());
    }
    Ok(0)
}

/// Writes every file of a serverless run into the results folder `dir`, whole or not at all
/// (see [`crate::output::folder`]).
pub fn write_results(exp: &runner::FaasExperiment, dir: &Path) -> Result<(), Error> {
    let mut folder = ResultsFolder::create(dir)?;
    folder.write("summary.csv", &output::summary_csv(exp))?;
    folder.write("policies.csv", &output::policies_csv(exp))?;
    folder.write("timeline.csv", &output::timeline_csv(exp))?;
    folder.write("functions.csv", &output::functions_csv(exp))?;
    folder.write("function_cdf.csv", &output::function_cdf_csv(exp))?;
    let sc = &exp.scenario;
    let origin = Origin {
        name: &sc.name,
        path: &sc.path,
        text: &sc.text,
        seed: sc.seed,
        replications: sc.replications,
        policies: sc.policies.iter().map(|p| p.name.clone()).collect(),
        shard: None,
    };
    origin.write_copy(&mut folder)?;
    crate::output::plot::coldstart_memory::write(&chart_points(exp), &mut folder)?;
    origin.commit(folder)
}

/// One point per policy of the cold-start/wasted-memory chart: (policy, wasted memory in
/// instance-hours, 75th percentile of the per-function cold-start ratio in percent), means
/// over replications.
pub fn chart_points(exp: &runner::FaasExperiment) -> Vec<(String, f64, f64)> {
    let table = output::policy_table(exp);
    let idle = output::POLICY_METRICS
        .iter()
        .position(|m| *m == "idle_instance_seconds")
        .expect("listed");
    let p75 = output::POLICY_METRICS
        .iter()
        .position(|m| *m == "function_cold_start_ratio_p75")
        .expect("listed");
    exp.scenario
        .policies
        .iter()
        .zip(&table)
        .map(|(p, (cols, _))| (p.name.clone(), cols[idle].0 / 3600.0, cols[p75].0 * 100.0))
        .collect()
}

/// The comparison table printed after a run.
pub fn table(exp: &runner::FaasExperiment) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<20} {:>10} {:>11} {:>12} {:>10} {:>14} {:>12} {:>5}",
        "policy",
        "requests",
        "cold start",
        "fn p75 cold",
        "throttled",
        "idle inst-h",
        "objective",
        "rank"
    );
    let table = output::policy_table(exp);
    let col = |name: &str| {
        output::POLICY_METRICS
            .iter()
            .position(|m| *m == name)
            .expect("listed")
    };
    for (i, (p, (cols, rank))) in exp.scenario.policies.iter().zip(&table).enumerate() {
        let requests: u64 = exp
            .runs
            .iter()
            .filter(|r| r.policy == i)
            .map(|r| r.stats.requests)
            .sum::<u64>()
            / u64::from(exp.scenario.replications);
        let _ = writeln!(
            s,
            "{:<20} {:>10} {:>10.2}% {:>11.2}% {:>10.0} {:>14.2} {:>12.4} {:>5}",
            p.name,
            requests,
            cols[col("cold_start_ratio")].0 * 100.0,
            cols[col("function_cold_start_ratio_p75")].0 * 100.0,
            cols[col("throttles")].0,
            cols[col("idle_instance_seconds")].0 / 3600.0,
            cols[col("objective")].0,
            rank
        );
    }
    s
}
