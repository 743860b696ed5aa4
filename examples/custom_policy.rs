//! A policy of your own, run through the library against a built-in one.
//!
//! `QueueLength` keeps enough containers for the requests in flight (in service or waiting),
//! averaged over its last period, to fill `target` of each container's slots, deciding once
//! every 15 s: the rule of a KEDA queue-length scaler fed by an averaged metric. It sees only what a real autoscaler sees (the [`Observation`]), and
//! the simulator runs it exactly as it runs `hpa`: same arrivals, same service times (common
//! random numbers), same accounting.
//!
//! ```text
//! cargo run --release --example custom_policy [SCENARIO]
//! ```
//!
//! SCENARIO defaults to `scenarios/quickstart.toml`; its first replication is run once with
//! each of its own policies and once with `QueueLength`, and the table is printed.
//!
//! To make such a policy a scenario `type` (keys in `[[policy]]` tables, validation, the
//! parameter report), put it in `src/autoscaler/` and add one line to the registry: see
//! "A policy" in `docs/ARCHITECTURE.md`.

use std::path::Path;

use autoscale_sim::autoscaler::{Autoscaler, Decision, Observation, planning};
use autoscale_sim::experiment;
use autoscale_sim::rng;
use autoscale_sim::scenario::{self, Scenario};
use autoscale_sim::sim::{self, RunResult};
use autoscale_sim::time::SimDuration;
use autoscale_sim::workload;

/// Desired replicas = ⌈mean in-flight requests over the last period / (slots per container ×
/// target)⌉, every `period`.
pub struct QueueLength {
    /// Fraction of each container's slots the policy aims to keep busy, in (0, 1].
    target: f64,
    /// How often it looks and decides.
    period: SimDuration,
    /// The cluster's cumulative in-flight request-seconds and the time, at the last tick.
    last: Option<(f64, f64)>,
}

impl QueueLength {
    pub fn new(target: f64, period: SimDuration) -> QueueLength {
        QueueLength {
            target,
            period,
            last: None,
        }
    }
}

impl Autoscaler for QueueLength {
    fn tick_interval(&self) -> SimDuration {
        self.period
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        // Cumulative counters give the exact mean over the period by difference (the first
        // tick, with no earlier sample, uses the requests in flight now).
        let area = obs.totals.busy_area + obs.totals.queued_area;
        let now = obs.now.as_secs_f64();
        let in_flight = match self.last.replace((area, now)) {
            Some((before, then)) if now > then => (area - before) / (now - then),
            _ => f64::from(obs.busy + obs.queued),
        };
        let per_container = f64::from(obs.concurrency) * self.target;
        // The simulator clamps the answer to the scenario's min/max replicas.
        Decision::Desired((in_flight / per_container).ceil() as u32)
    }
}

/// Runs `policy` on the scenario's workload in replication `replication`, labelled `name`.
pub fn run_custom(
    sc: &Scenario,
    name: &str,
    policy: Box<dyn Autoscaler>,
    replication: u32,
) -> Result<RunResult, Box<dyn std::error::Error>> {
    let arrivals = workload::open(
        &sc.workload,
        rng::stream(sc.seed, replication, rng::ARRIVALS),
    )?;
    Ok(sim::run(sim::RunInput {
        scenario: sc,
        replication,
        policy_name: name.to_string(),
        policy,
        // `cluster.initial_replicas` when the scenario sets it, else `min_replicas`.
        initial_replicas: planning::initial_replicas(&sc.setting(), sc.cluster.min_replicas),
        arrivals,
        progress: None,
    })?)
}

/// The scenario's own policies and `QueueLength`, one replication each.
pub fn compare(sc: &Scenario) -> Result<Vec<RunResult>, Box<dyn std::error::Error>> {
    let mut runs = Vec::new();
    for i in 0..sc.policies.len() {
        runs.push(experiment::simulate(sc, i, 0)?);
    }
    let custom = QueueLength::new(0.7, SimDuration::from_secs(15));
    runs.push(run_custom(sc, "queue-length", Box::new(custom), 0)?);
    Ok(runs)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "scenarios/quickstart.toml".into());
    let sc = scenario::load(Path::new(&path))?;
    println!(
        "{:<14} {:>10} {:>14} {:>12} {:>14}",
        "policy", "objective", "replica-hours", "p95 (s)", "SLO violations"
    );
    for r in compare(&sc)? {
        let s = &r.summary;
        println!(
            "{:<14} {:>10.4} {:>14.2} {:>12.4} {:>13.3}%",
            r.policy,
            s.objective,
            s.replica_seconds / 3600.0,
            s.p95_latency_s,
            100.0 * s.slo_violation_ratio
        );
    }
    Ok(())
}
