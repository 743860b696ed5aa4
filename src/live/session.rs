//! A live session: the plan carried out on the Docker engine and, with a scenario, the
//! scenario's load replayed against the containers as they serve, both on one tokio runtime;
//! then the measurements compared with the simulation and written. The command line parses
//! arguments and prints; this is the orchestration it calls.

use super::compare::{self, CompareRow};
use super::docker::Engine;
use super::executor::{self, ExecOptions, ExecReport, Links, Traffic};
use super::plan::Plan;
use super::replay::{self, Measured};
use crate::cluster::service::ServiceSpec;
use crate::error::Error;
use crate::output;
use crate::scenario::Scenario;
use crate::sim::RunResult;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{oneshot, watch};

/// A runtime for the engine's API calls and the load replay.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the tokio runtime", e))
}

/// The options of `serve` that make a container serve like the scenario's model, with times
/// divided by the speed-up.
pub fn serve_args(sc: &Scenario, speedup: f64) -> Vec<String> {
    let (name, mean, cv) = match &sc.service {
        ServiceSpec::Exponential { mean } => ("exponential", mean.as_secs_f64(), None),
        ServiceSpec::Deterministic { mean } => ("deterministic", mean.as_secs_f64(), None),
        ServiceSpec::Lognormal { mean, cv } => ("lognormal", mean.as_secs_f64(), Some(*cv)),
        ServiceSpec::Gamma { mean, cv } => ("gamma", mean.as_secs_f64(), Some(*cv)),
        ServiceSpec::Uniform { .. } => (
            "uniform",
            sc.service.mean_s(),
            Some(sc.service.scv().sqrt()),
        ),
    };
    let mut args = vec![
        "--distribution".to_string(),
        name.to_string(),
        "--service-mean".to_string(),
        format!("{}", mean / speedup),
        "--concurrency".to_string(),
        sc.cluster.concurrency.to_string(),
    ];
    if let Some(cv) = cv.filter(|c| *c > 0.0) {
        args.extend(["--cv".to_string(), format!("{cv}")]);
    }
    if let Some(t) = sc.cluster.queue_timeout {
        args.extend([
            "--queue-timeout".to_string(),
            format!("{}", t.as_secs_f64() / speedup),
        ]);
    }
    args
}

/// Carries out `plan` on `engine` until it ends or `stop` resolves; with a scenario, replays
/// its load at `speedup` against the containers that serve (through a load balancer of the
/// scenario's kind) and returns what it measured. A failure of the replay stops the plan.
pub async fn run(
    engine: &Engine,
    plan: &Plan,
    opts: &ExecOptions,
    scenario: Option<&Scenario>,
    stop: impl Future<Output = &'static str>,
) -> Result<(ExecReport, Option<Measured>), Error> {
    let Some(sc) = scenario else {
        let report = executor::execute(engine, plan, opts, Links::none(), stop).await?;
        return Ok((report, None));
    };
    let (started_tx, started_rx) = oneshot::channel();
    let (serving_tx, serving_rx) = watch::channel(Vec::new());
    let traffic = Arc::new(Traffic::default());
    let links = Links {
        serving: serving_tx,
        traffic: traffic.clone(),
        started: Some(started_tx),
    };
    let (failed_tx, failed_rx) = oneshot::channel::<()>();
    let stop = async move {
        tokio::select! {
            name = stop => name,
            Ok(()) = failed_rx => "a failure of the load replay",
        }
    };
    let replay = async {
        let r = replay::run(sc, opts.speedup, started_rx, serving_rx, traffic.clone()).await;
        if r.is_err() {
            let _ = failed_tx.send(());
        }
        r
    };
    let (report, measured) =
        tokio::join!(executor::execute(engine, plan, opts, links, stop), replay);
    let report = report?;
    Ok((report, measured?))
}

/// Compares what a session measured with the simulation of the same plan (`sim`) and writes
/// `live-timeline.csv` and `sim-vs-live.csv` into `out`; returns the comparison's rows.
pub fn write_comparison(
    out: &Path,
    sc: &Scenario,
    plan: &Plan,
    sim: &RunResult,
    measured: &Measured,
    report: &ExecReport,
    speedup: f64,
) -> Result<Vec<CompareRow>, Error> {
    let rows = compare::live_timeline(sc, measured, &report.samples, speedup);
    let cmp = compare::compare(sc, plan, sim, measured, &report.samples);
    std::fs::create_dir_all(out).map_err(|e| {
        Error::io(
            format!("cannot create the output folder {}", out.display()),
            e,
        )
    })?;
    output::write_atomic(
        &out.join("live-timeline.csv"),
        &compare::live_timeline_csv(&rows),
    )?;
    output::write_atomic(&out.join("sim-vs-live.csv"), &compare::comparison_csv(&cmp))?;
    Ok(cmp)
}
