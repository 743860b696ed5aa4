//! Simulation against reality: the plan simulated on the scenario, the live measurements as a
//! timeline, and the two side by side.
//!
//! What it guarantees:
//! - The simulated side runs the scenario (replication 0, the replayed arrivals and service
//!   times) with the plan as its only policy ([`PlanFollower`]): containers ready exactly at
//!   the plan's times (start-up 0, as the executor starts containers ahead of their step), no
//!   replica bounds but the plan's, no shutdown delay (billing stops when a drained
//!   container stops, as a live container is removed then), and no `[faults]` (live mode
//!   injects no failures).
//! - `live-timeline.csv` has the columns of `timeline.csv`, measured (policy `live`,
//!   replication 0). Replica counts at an interval's end come from the executor's record, just
//!   after it acted on the changes due at that time (as the simulation counts them);
//!   `replica_seconds` bills every live container from creation to removal (starting and
//!   standby included); `utilization` is busy request-time over the slot-time of serving and
//!   draining containers.
//! - `sim-vs-live.csv` has one row per interval (`scope = interval`) and one for the whole run
//!   (`scope = overall`): the plan's replicas, simulated and measured replicas (time-averaged
//!   containers serving or draining), arrivals, median and 95th percentile latency, and the
//!   relative difference (live − sim) / sim of each; dropped requests on both sides, and the
//!   requests the load generator sent late and those that failed. Overall latencies, arrivals
//!   and drops exclude the warm-up, as `summary.csv` does.

use super::executor::Sample;
use super::plan::Plan;
use super::replay::{Measured, REPLICATION};
use crate::autoscaler::{Autoscaler, Decision, Observation};
use crate::error::{Error, InputError};
use crate::output::csv::{TIMELINE_COLUMNS, num, timeline_fields};
use crate::rng;
use crate::scenario::Scenario;
use crate::sim::{self, RunResult};
use crate::stats::TimelineRow;
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::workload;

/// The name of the simulated run and of the live timeline's policy column.
pub const LIVE_POLICY: &str = "live";
/// The name of the plan as a policy in the simulation.
pub const PLAN_POLICY: &str = "plan";
/// Most control ticks a plan may need in the simulation (see [`PlanFollower::new`]).
const MAX_TICKS: u64 = 10_000_000;

/// A policy that asks for the plan's replicas at every step time.
#[derive(Clone, Debug)]
pub struct PlanFollower {
    steps: Vec<(SimTime, u32)>,
    tick: SimDuration,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl PlanFollower {
    /// Ticks at the greatest common divisor of the step times and the plan's end, so that
    /// every step time is a tick. Plans whose times share no step as long as a
    /// ten-millionth of the plan are refused (too many ticks).
    pub fn new(plan: &Plan) -> Result<Self, InputError> {
        let tick = plan
            .steps
            .iter()
            .map(|s| s.time.0)
            .fold(plan.end.0, gcd)
            .max(1);
        if plan.end.0 / tick > MAX_TICKS {
            return Err(InputError::new(format!(
                "the plan's times have no common step longer than {} s; write them on a grid (whole seconds, or the scenario's interval)",
                tick as f64 / NANOS_PER_SEC as f64
            ))
            .in_file(&plan.path)
            .key("time_s"));
        }
        Ok(PlanFollower {
            steps: plan.steps.iter().map(|s| (s.time, s.replicas)).collect(),
            tick: SimDuration(tick),
        })
    }

    fn at(&self, t: SimTime) -> u32 {
        let i = self.steps.partition_point(|s| s.0 <= t);
        self.steps[i.saturating_sub(1)].1
    }
}

impl Autoscaler for PlanFollower {
    fn tick_interval(&self) -> SimDuration {
        self.tick
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        let want = self.at(obs.now);
        if want == obs.desired {
            Decision::Keep
        } else {
            Decision::Desired(want)
        }
    }
}

/// The scenario as the simulated side runs it (see the module doc).
pub fn sim_scenario(sc: &Scenario, plan: &Plan) -> Scenario {
    let mut s = sc.clone();
    s.cluster.startup = SimDuration::ZERO;
    s.cluster.startup_dist = crate::cluster::startup::StartupDist::Constant(SimDuration::ZERO);
    s.cluster.shutdown = SimDuration::ZERO;
    // Live mode injects no container failures, so neither does its simulated twin.
    s.cluster.faults = None;
    s.cluster.min_replicas = 0;
    s.cluster.max_replicas = plan.max_replicas().max(1);
    s.cluster.initial_replicas = Some(plan.replicas_at(SimTime::ZERO));
    s.replications = 1;
    s
}

/// Simulates the plan on the scenario.
pub fn simulate_plan(sc: &Scenario, plan: &Plan) -> Result<RunResult, Error> {
    let s = sim_scenario(sc, plan);
    let follower = PlanFollower::new(plan)?;
    let arrivals = workload::open(&s.workload, rng::stream(s.seed, REPLICATION, rng::ARRIVALS))?;
    sim::run(sim::RunInput {
        scenario: &s,
        replication: REPLICATION,
        policy_name: PLAN_POLICY.to_string(),
        policy: Box::new(follower),
        initial_replicas: plan.replicas_at(SimTime::ZERO),
        arrivals,
        progress: None,
    })
}

/// The replica counts in effect at plan time `t` (the last sample at or before it).
fn sample_at(samples: &[Sample], t: f64) -> Option<&Sample> {
    let i = samples.partition_point(|s| s.plan_s <= t);
    i.checked_sub(1).map(|i| &samples[i])
}

/// ∫ f(sample) dt over plan time [a, b), in seconds × value.
fn integrate(samples: &[Sample], a: f64, b: f64, f: impl Fn(&Sample) -> f64) -> f64 {
    let mut total = 0.0;
    let mut t = a;
    let mut cur = sample_at(samples, a).map_or(0.0, &f);
    let start = samples.partition_point(|s| s.plan_s <= a);
    for s in &samples[start..] {
        if s.plan_s >= b {
            break;
        }
        total += cur * (s.plan_s - t);
        t = s.plan_s;
        cur = f(s);
    }
    total + cur * (b - t)
}

/// The plan's replicas averaged over plan time [a, b).
fn plan_average(plan: &Plan, a: f64, b: f64) -> f64 {
    let samples: Vec<Sample> = plan
        .steps
        .iter()
        .map(|s| Sample {
            plan_s: s.time.as_secs_f64(),
            desired: s.replicas,
            ready: s.replicas,
            starting: 0,
            draining: 0,
        })
        .collect();
    integrate(&samples, a, b, |s| f64::from(s.ready)) / (b - a)
}

/// How long after an interval's end (wall seconds) the executor's reaction to a step at that
/// time still counts as "at the end": five of its 10 ms control ticks.
const END_REACTION_S: f64 = 0.05;

/// The measured timeline, one row per interval of the scenario. As in the simulation, the
/// replica counts at an interval's end include the changes due at that time: they are read
/// just after the executor acted on it ([`END_REACTION_S`] of wall time later).
pub fn live_timeline(
    sc: &Scenario,
    measured: &Measured,
    samples: &[Sample],
    speedup: f64,
) -> Vec<TimelineRow> {
    let step = measured.interval_ns as f64 / NANOS_PER_SEC as f64;
    let end = sc.duration.as_secs_f64();
    let c = f64::from(sc.cluster.concurrency);
    measured
        .intervals
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let a = i as f64 * step;
            let b = (a + step).min(end);
            let len = b - a;
            let at_end = sample_at(samples, b + END_REACTION_S * speedup)
                .copied()
                .unwrap_or(Sample {
                    plan_s: b,
                    desired: 0,
                    ready: 0,
                    starting: 0,
                    draining: 0,
                });
            let billed = integrate(samples, a, b, |s| {
                f64::from(s.ready + s.starting + s.draining)
            });
            let slots = c * integrate(samples, a, b, |s| f64::from(s.ready + s.draining));
            let busy_s = m.busy_area as f64 / NANOS_PER_SEC as f64;
            TimelineRow {
                time_s: a,
                length_s: len,
                arrivals: m.arrivals,
                completed: m.completed,
                dropped: m.dropped,
                ready_replicas: at_end.ready,
                starting_replicas: at_end.starting,
                desired_replicas: at_end.desired,
                busy: busy_s / len,
                queued: m.queued_area as f64 / NANOS_PER_SEC as f64 / len,
                utilization: if slots > 0.0 {
                    busy_s / slots
                } else {
                    f64::NAN
                },
                p95_latency_s: m.latency.quantile_s(0.95),
                p50_latency_s: m.latency.quantile_s(0.5),
                p99_latency_s: m.latency.quantile_s(0.99),
                cost: sc.cost.objective(billed, m.slo_violations),
                replica_seconds: billed,
                slo_violations: m.slo_violations,
                // Live mode injects no container failures.
                failed: 0,
            }
        })
        .collect()
}

/// `live-timeline.csv`: the measured rows with the columns of `timeline.csv`.
pub fn live_timeline_csv(rows: &[TimelineRow]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(TIMELINE_COLUMNS).expect("writing to memory");
    for r in rows {
        let mut rec = vec![LIVE_POLICY.to_string(), REPLICATION.to_string()];
        rec.extend(timeline_fields(r));
        w.write_record(&rec).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// One row of `sim-vs-live.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    /// `interval` or `overall`.
    pub scope: &'static str,
    /// The interval's start (NaN, an empty field, for `overall`).
    pub time_s: f64,
    pub plan_replicas: f64,
    pub sim_replicas: f64,
    pub live_replicas: f64,
    pub sim_arrivals: u64,
    pub live_arrivals: u64,
    pub sim_p50_latency_s: f64,
    pub live_p50_latency_s: f64,
    pub sim_p95_latency_s: f64,
    pub live_p95_latency_s: f64,
    pub sim_dropped: u64,
    pub live_dropped: u64,
    /// Requests the load generator sent more than 5 ms (wall) after their arrival time.
    pub live_late: u64,
    /// Requests that failed (no answer), counted in `live_dropped` too.
    pub live_errors: u64,
}

/// The columns of `sim-vs-live.csv`, in order.
pub const COMPARE_COLUMNS: [&str; 19] = [
    "scope",
    "time_s",
    "plan_replicas",
    "sim_replicas",
    "live_replicas",
    "replicas_rel_diff",
    "sim_arrivals",
    "live_arrivals",
    "arrivals_rel_diff",
    "sim_p50_latency_s",
    "live_p50_latency_s",
    "p50_latency_rel_diff",
    "sim_p95_latency_s",
    "live_p95_latency_s",
    "p95_latency_rel_diff",
    "sim_dropped",
    "live_dropped",
    "live_late",
    "live_errors",
];

/// (live − sim) / sim, NaN when sim is 0 or either is missing.
pub fn rel_diff(sim: f64, live: f64) -> f64 {
    if sim == 0.0 || sim.is_nan() || live.is_nan() {
        f64::NAN
    } else {
        (live - sim) / sim
    }
}

/// The rows of `sim-vs-live.csv`: one per interval, then the overall one.
pub fn compare(
    sc: &Scenario,
    plan: &Plan,
    sim: &RunResult,
    measured: &Measured,
    samples: &[Sample],
) -> Vec<CompareRow> {
    let step = measured.interval_ns as f64 / NANOS_PER_SEC as f64;
    let end = sc.duration.as_secs_f64();
    let mut rows = Vec::with_capacity(measured.intervals.len() + 1);
    let mut sim_billed = 0.0;
    let mut live_serving = 0.0;
    for (i, m) in measured.intervals.iter().enumerate() {
        let a = i as f64 * step;
        let b = (a + step).min(end);
        let s = sim.timeline.get(i);
        let serving = integrate(samples, a, b, |x| f64::from(x.ready + x.draining));
        live_serving += serving;
        sim_billed += s.map_or(0.0, |r| r.replica_seconds);
        rows.push(CompareRow {
            scope: "interval",
            time_s: a,
            plan_replicas: plan_average(plan, a, b),
            sim_replicas: s.map_or(f64::NAN, |r| r.replica_seconds / (b - a)),
            live_replicas: serving / (b - a),
            sim_arrivals: s.map_or(0, |r| r.arrivals),
            live_arrivals: m.arrivals,
            sim_p50_latency_s: s.map_or(f64::NAN, |r| r.p50_latency_s),
            live_p50_latency_s: m.latency.quantile_s(0.5),
            sim_p95_latency_s: s.map_or(f64::NAN, |r| r.p95_latency_s),
            live_p95_latency_s: m.latency.quantile_s(0.95),
            sim_dropped: s.map_or(0, |r| r.dropped),
            live_dropped: m.dropped,
            live_late: m.late,
            live_errors: m.errors,
        });
    }
    let live_stats = &measured.stats;
    rows.push(CompareRow {
        scope: "overall",
        time_s: f64::NAN,
        plan_replicas: plan_average(plan, 0.0, end),
        sim_replicas: sim_billed / end,
        live_replicas: live_serving / end,
        sim_arrivals: sim.summary.requests,
        live_arrivals: live_stats.requests,
        sim_p50_latency_s: sim.summary.p50_latency_s,
        live_p50_latency_s: live_stats.latency.quantile_s(0.5),
        sim_p95_latency_s: sim.summary.p95_latency_s,
        live_p95_latency_s: live_stats.latency.quantile_s(0.95),
        sim_dropped: sim.summary.dropped,
        live_dropped: live_stats.dropped,
        live_late: measured.generator.late,
        live_errors: measured.errors,
    });
    rows
}

/// `sim-vs-live.csv`.
pub fn comparison_csv(rows: &[CompareRow]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(COMPARE_COLUMNS).expect("writing to memory");
    for r in rows {
        w.write_record([
            r.scope.to_string(),
            num(r.time_s),
            num(r.plan_replicas),
            num(r.sim_replicas),
            num(r.live_replicas),
            num(rel_diff(r.sim_replicas, r.live_replicas)),
            r.sim_arrivals.to_string(),
            r.live_arrivals.to_string(),
            num(rel_diff(r.sim_arrivals as f64, r.live_arrivals as f64)),
            num(r.sim_p50_latency_s),
            num(r.live_p50_latency_s),
            num(rel_diff(r.sim_p50_latency_s, r.live_p50_latency_s)),
            num(r.sim_p95_latency_s),
            num(r.live_p95_latency_s),
            num(rel_diff(r.sim_p95_latency_s, r.live_p95_latency_s)),
            r.sim_dropped.to_string(),
            r.live_dropped.to_string(),
            r.live_late.to_string(),
            r.live_errors.to_string(),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(extra: &str) -> Scenario {
        let text = format!(
            r#"name = "cmp"
seed = 3
duration = "180s"
interval = "60s"
[workload]
type = "poisson"
rate = 20.0
[service]
distribution = "exponential"
mean = "50ms"
[cluster]
concurrency = 2
startup = "20s"
shutdown = "5s"
max_replicas = 3
{extra}
[[policy]]
name = "fixed"
type = "static"
replicas = 3
"#
        );
        crate::scenario::parse(Path::new("cmp.toml"), &text).expect("scenario")
    }

    fn plan(text: &str, end: u64) -> Plan {
        super::super::plan::parse(
            Path::new("plan.csv"),
            text,
            Some(SimDuration::from_secs(end)),
        )
        .expect("plan")
    }

    #[test]
    fn follower_ticks_on_every_step() {
        let p = plan("time_s,replicas\n0,2\n60,4\n150,1\n", 180);
        let f = PlanFollower::new(&p).unwrap();
        assert_eq!(f.tick_interval(), SimDuration::from_secs(30));
        assert_eq!(f.at(SimTime::from_secs_f64(149.0)), 4);
        let odd = plan("time_s,replicas\n0,2\n0.000000001,3\n", 180);
        let e = PlanFollower::new(&odd).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("time_s"));
    }

    /// The simulated side bills exactly the plan (start-up 0, no shutdown delay) up to the
    /// drain of the containers it stops, and sees the scenario's arrivals.
    #[test]
    fn the_plan_simulated_bills_the_plan() {
        let sc = scenario("");
        let p = plan("time_s,replicas\n0,2\n60,4\n120,1\n", 180);
        let r = simulate_plan(&sc, &p).unwrap();
        assert_eq!(r.timeline.len(), 3);
        // Counts at an interval's end include the changes due at that time.
        let ends: Vec<(u32, u32)> = r
            .timeline
            .iter()
            .map(|t| (t.ready_replicas, t.desired_replicas))
            .collect();
        assert_eq!(ends, [(4, 4), (1, 1), (1, 1)]);
        for (row, want) in r.timeline.iter().zip([2.0, 4.0, 1.0]) {
            let avg = row.replica_seconds / row.length_s;
            // Drained containers finish their requests (50 ms each on average) before stopping.
            assert!(avg >= want && avg < want + 0.05, "{avg} vs {want}");
        }
        let again = simulate_plan(&sc, &p).unwrap();
        assert_eq!(r.summary, again.summary);
        let n: u64 = r.timeline.iter().map(|t| t.arrivals).sum();
        // 20/s for 180 s: within 4 standard deviations of 3600.
        assert!((n as f64 - 3600.0).abs() < 4.0 * 60.0, "{n}");
    }

    #[test]
    fn integrals_of_samples() {
        let s = |t: f64, ready: u32| Sample {
            plan_s: t,
            desired: ready,
            ready,
            starting: 0,
            draining: 0,
        };
        let samples = [s(0.0, 0), s(0.0, 2), s(10.0, 4), s(25.0, 1)];
        let f = |x: &Sample| f64::from(x.ready);
        assert_eq!(
            integrate(&samples, 0.0, 30.0, f),
            2.0 * 10.0 + 4.0 * 15.0 + 5.0
        );
        assert_eq!(integrate(&samples, 12.0, 20.0, f), 32.0);
        assert_eq!(integrate(&samples, 24.0, 26.0, f), 4.0 + 1.0);
        assert_eq!(sample_at(&samples, 10.0).unwrap().ready, 4);
        assert_eq!(sample_at(&samples, 9.99).unwrap().ready, 2);
        assert!((rel_diff(2.0, 2.5) - 0.25).abs() < 1e-12);
        assert!(rel_diff(0.0, 1.0).is_nan());
    }
}
