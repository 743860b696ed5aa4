//! The CSV files of a run: `summary.csv`, `policies.csv`, `timeline.csv`.
//!
//! Tidy: one row per fact, one column per variable, units in column names, a header row.
//! Numbers are written in Rust's shortest round-trip form, so the same results give the same
//! bytes; a value that does not exist (a percentile of no requests, a confidence interval of one
//! replication) is an empty field, which pandas and R read as missing.

use crate::experiment::{AGGREGATED, Experiment};
use crate::stats::{RunSummary, TimelineRow};

/// The `summary.csv` columns, in order.
pub const SUMMARY_COLUMNS: [&str; 21] = [
    "scenario",
    "policy",
    "replication",
    "seed",
    "requests",
    "completed",
    "dropped",
    "mean_wait_s",
    "p_wait",
    "mean_latency_s",
    "p50_latency_s",
    "p95_latency_s",
    "p99_latency_s",
    "slo_violations",
    "slo_violation_ratio",
    "replica_seconds",
    "cost",
    "objective",
    "scale_ups",
    "scale_downs",
    "failed",
];

/// The `timeline.csv` columns, in order.
pub const TIMELINE_COLUMNS: [&str; 19] = [
    "policy",
    "replication",
    "time_s",
    "arrivals",
    "completed",
    "dropped",
    "ready_replicas",
    "starting_replicas",
    "desired_replicas",
    "busy",
    "queued",
    "utilization",
    "p95_latency_s",
    "cost",
    "replica_seconds",
    "slo_violations",
    "p50_latency_s",
    "p99_latency_s",
    "failed",
];

/// A number as a CSV field: shortest round-trip form, empty when NaN.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory cannot fail")
}

/// The fields of one `summary.csv` row after the identifying columns.
pub fn summary_fields(s: &RunSummary) -> Vec<String> {
    vec![
        s.requests.to_string(),
        s.completed.to_string(),
        s.dropped.to_string(),
        num(s.mean_wait_s),
        num(s.p_wait),
        num(s.mean_latency_s),
        num(s.p50_latency_s),
        num(s.p95_latency_s),
        num(s.p99_latency_s),
        s.slo_violations.to_string(),
        num(s.slo_violation_ratio),
        num(s.replica_seconds),
        num(s.cost),
        num(s.objective),
        s.scale_ups.to_string(),
        s.scale_downs.to_string(),
        s.failed.to_string(),
    ]
}

/// A header with the swept keys appended.
fn with_sweep<S: AsRef<str>>(columns: &[S], exp: &Experiment) -> Vec<String> {
    columns
        .iter()
        .map(|c| c.as_ref().to_string())
        .chain(exp.sweep_keys.iter().cloned())
        .collect()
}

/// `summary.csv`: one row per (point, policy, replication); the swept values, if any, in
/// columns after the standard ones.
pub fn summary_csv(exp: &Experiment) -> Vec<u8> {
    let mut w = writer();
    w.write_record(with_sweep(&SUMMARY_COLUMNS, exp))
        .expect("in memory");
    for r in &exp.runs {
        let mut row = vec![
            exp.scenario.name.clone(),
            r.policy.clone(),
            r.replication.to_string(),
            exp.scenario.seed.to_string(),
        ];
        row.extend(summary_fields(&r.summary));
        row.extend(exp.labels(r.point).iter().cloned());
        w.write_record(&row).expect("in memory");
    }
    finish(w)
}

/// The `policies.csv` header.
pub fn policies_header() -> Vec<String> {
    let mut h = vec!["policy".to_string()];
    for m in AGGREGATED {
        h.push(m.to_string());
        h.push(format!("{m}_ci95"));
    }
    h.push("rank".into());
    for c in [
        "baseline",
        "objective_vs_baseline",
        "objective_vs_baseline_ci95",
        "significant",
        "regret",
        "regret_ci95",
        "policy_type",
        "failed",
        "failed_ci95",
    ] {
        h.push(c.into());
    }
    h
}

/// `policies.csv`: one row per (point, policy), in rank order within each point.
pub fn policies_csv(exp: &Experiment) -> Vec<u8> {
    let mut w = writer();
    w.write_record(with_sweep(&policies_header(), exp))
        .expect("in memory");
    for p in exp.points.iter().flat_map(|pt| exp.ranked_at(pt.index)) {
        let mut row = vec![p.policy.clone()];
        for (mean, ci) in &p.metrics {
            row.push(num(*mean));
            row.push(num(*ci));
        }
        row.push(p.rank.to_string());
        row.push(exp.baseline.clone());
        row.push(num(p.vs_baseline.0));
        row.push(num(p.vs_baseline.1));
        row.push(match p.differs_from_baseline() {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => String::new(),
        });
        row.push(num(p.regret.0));
        row.push(num(p.regret.1));
        row.push(p.policy_type.clone());
        row.push(num(p.failed.0));
        row.push(num(p.failed.1));
        row.extend(exp.labels(p.point).iter().cloned());
        w.write_record(&row).expect("in memory");
    }
    finish(w)
}

/// The fields of one timeline row after `policy,replication`.
pub fn timeline_fields(t: &TimelineRow) -> Vec<String> {
    vec![
        num(t.time_s),
        t.arrivals.to_string(),
        t.completed.to_string(),
        t.dropped.to_string(),
        t.ready_replicas.to_string(),
        t.starting_replicas.to_string(),
        t.desired_replicas.to_string(),
        num(t.busy),
        num(t.queued),
        num(t.utilization),
        num(t.p95_latency_s),
        num(t.cost),
        num(t.replica_seconds),
        t.slo_violations.to_string(),
        num(t.p50_latency_s),
        num(t.p99_latency_s),
        t.failed.to_string(),
    ]
}

/// `timeline.csv`: one row per (policy, replication, interval).
pub fn timeline_csv(exp: &Experiment) -> Vec<u8> {
    let mut w = writer();
    w.write_record(with_sweep(&TIMELINE_COLUMNS, exp))
        .expect("in memory");
    for r in &exp.runs {
        for t in &r.timeline {
            let mut row = vec![r.policy.clone(), r.replication.to_string()];
            row.extend(timeline_fields(t));
            row.extend(exp.labels(r.point).iter().cloned());
            w.write_record(&row).expect("in memory");
        }
    }
    finish(w)
}

/// `latency.csv`: each policy's latency distribution over all its replications (completed
/// requests after the warm-up), as (quantile, latency) points.
pub fn latency_csv(exp: &Experiment) -> Vec<u8> {
    let mut w = writer();
    w.write_record(with_sweep(&["policy", "quantile", "latency_s"], exp))
        .expect("in memory");
    for pt in &exp.points {
        for p in &pt.scenario.policies {
            let mut pooled = crate::stats::LatencyHistogram::new();
            for r in exp
                .runs
                .iter()
                .filter(|r| r.point == pt.index && r.policy == p.name)
            {
                pooled.merge(&r.latency);
            }
            for (q, x) in pooled.cdf() {
                let mut row = vec![p.name.clone(), num(q), num(x)];
                row.extend(pt.labels.iter().cloned());
                w.write_record(&row).expect("in memory");
            }
        }
    }
    finish(w)
}

/// `plan.csv`: `time_s,replicas`, one row per control interval: the containers that should be
/// ready from that time on.
pub fn plan_csv(plan: &[(f64, u32)]) -> Vec<u8> {
    let mut w = writer();
    w.write_record(["time_s", "replicas"]).expect("in memory");
    for (t, n) in plan {
        w.write_record([num(*t), n.to_string()]).expect("in memory");
    }
    finish(w)
}
