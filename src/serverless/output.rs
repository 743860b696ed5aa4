//! The files a serverless run writes, as bytes (the caller writes them atomically).
//!
//! - `summary.csv`: one row per (policy, replication): the columns every run writes, in the
//!   interface's order, then the serverless ones (see `docs/serverless.md` for the mapping).
//! - `policies.csv`: one row per policy: mean and 95% confidence half-width over replications.
//! - `timeline.csv`: one row per (policy, replication, interval), summed over functions.
//! - `functions.csv`: one row per (policy, replication, function).
//! - `function_cdf.csv`: the distributions over functions of the cold-start ratio and of the
//!   wasted memory (idle instance-seconds): one row per (policy, replication, percentile).
//!
//! Numbers are written with Rust's shortest round-trip formatting; NaN is an empty cell.

use super::runner::{FaasExperiment, FunctionRow, RunTotals};
use crate::stats::{mean_ci95, ratio};
use std::fmt::Write;

fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// The measured length of a run, seconds.
fn measured_s(e: &FaasExperiment) -> f64 {
    (e.scenario.duration.0 - e.scenario.warmup.0) as f64 / 1e9
}

/// Percentiles written to `function_cdf.csv`: 0, 1, ..., 100.
pub const CDF_PERCENTILES: usize = 101;

/// The `q` quantile (nearest rank) of sorted values; NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// The per-function cold-start ratios (functions with requests only) and idle
/// instance-seconds of one (policy, replication), each sorted.
pub fn distributions(e: &FaasExperiment, policy: usize, replication: u32) -> (Vec<f64>, Vec<f64>) {
    let mine = e
        .functions
        .iter()
        .filter(|f| f.policy == policy && f.replication == replication);
    let mut cold: Vec<f64> = mine
        .clone()
        .map(FunctionRow::cold_start_ratio)
        .filter(|x| !x.is_nan())
        .collect();
    let mut idle: Vec<f64> = mine.map(|f| f.idle_instance_s).collect();
    cold.sort_by(f64::total_cmp);
    idle.sort_by(f64::total_cmp);
    (cold, idle)
}

/// The derived metrics of one run, in `SUMMARY_EXTRA` order after the interface's columns.
pub struct RunMetrics {
    pub mean_wait_s: f64,
    pub p_wait: f64,
    pub mean_latency_s: f64,
    pub violations: u64,
    pub violation_ratio: f64,
    pub instance_s: f64,
    pub objective: f64,
    pub provider_cost: f64,
    pub user_cost: f64,
    pub cold_start_ratio: f64,
    pub function_p50: f64,
    pub function_p75: f64,
}

pub fn metrics(e: &FaasExperiment, r: &RunTotals) -> RunMetrics {
    let c = &e.scenario.cost;
    let instance_s = r.stats.instance_s();
    let (cold, _) = distributions(e, r.policy, r.replication);
    RunMetrics {
        mean_wait_s: ratio(r.stats.wait_sum_ns as f64 / 1e9, r.stats.completed as f64),
        p_wait: ratio(r.stats.cold_starts as f64, r.stats.completed as f64),
        mean_latency_s: ratio(
            r.stats.latency_sum_ns as f64 / 1e9,
            r.stats.completed as f64,
        ),
        violations: r.stats.cold_starts + r.stats.throttles,
        violation_ratio: ratio(
            (r.stats.cold_starts + r.stats.throttles) as f64,
            r.stats.requests as f64,
        ),
        instance_s,
        objective: c.objective(instance_s, r.stats.cold_starts, r.stats.throttles),
        provider_cost: instance_s * c.instance_hour / 3600.0,
        user_cost: r.stats.billed_s * c.request_second + r.stats.completed as f64 * c.request,
        cold_start_ratio: ratio(r.stats.cold_starts as f64, r.stats.requests as f64),
        function_p50: quantile(&cold, 0.5),
        function_p75: quantile(&cold, 0.75),
    }
}

pub const SUMMARY_HEADER: &str = "scenario,policy,replication,seed,requests,completed,dropped,mean_wait_s,p_wait,mean_latency_s,p50_latency_s,p95_latency_s,p99_latency_s,slo_violations,slo_violation_ratio,replica_seconds,cost,objective,scale_ups,scale_downs,policy_type,functions,cold_starts,cold_start_ratio,throttles,busy_instance_seconds,idle_instance_seconds,provisioned_instance_seconds,mean_instances,mean_running,mean_idle,pre_warms,billed_duration_s,provider_cost,user_cost,function_cold_start_ratio_p50,function_cold_start_ratio_p75\n";

pub fn summary_csv(e: &FaasExperiment) -> Vec<u8> {
    let sc = &e.scenario;
    let t = measured_s(e);
    let mut s = String::from(SUMMARY_HEADER);
    for r in &e.runs {
        let m = metrics(e, r);
        let pol = &sc.policies[r.policy];
        let q = |x: f64| num(r.stats.latency.quantile_s(x));
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            sc.name,
            pol.name,
            r.replication,
            sc.seed,
            r.stats.requests,
            r.stats.completed,
            r.stats.throttles,
            num(m.mean_wait_s),
            num(m.p_wait),
            num(m.mean_latency_s),
            q(0.5),
            q(0.95),
            q(0.99),
            m.violations,
            num(m.violation_ratio),
            num(m.instance_s),
            num(m.objective),
            num(m.objective),
            r.stats.created,
            r.stats.removed,
            pol.kind.type_name(),
            r.functions,
            r.stats.cold_starts,
            num(m.cold_start_ratio),
            r.stats.throttles,
            num(r.stats.busy_instance_s),
            num(r.stats.idle_instance_s),
            num(r.stats.provisioned_instance_s),
            num(m.instance_s / t),
            num(r.stats.busy_instance_s / t),
            num(r.stats.idle_instance_s / t),
            r.stats.pre_warms,
            num(r.stats.billed_s),
            num(m.provider_cost),
            num(m.user_cost),
            num(m.function_p50),
            num(m.function_p75),
        );
    }
    s.into_bytes()
}

/// The metrics `policies.csv` aggregates, in column order (each with a `_ci95` column).
pub const POLICY_METRICS: [&str; 11] = [
    "mean_latency_s",
    "p95_latency_s",
    "p99_latency_s",
    "slo_violation_ratio",
    "replica_seconds",
    "cost",
    "objective",
    "cold_start_ratio",
    "idle_instance_seconds",
    "throttles",
    "function_cold_start_ratio_p75",
];

fn policy_metric(e: &FaasExperiment, r: &RunTotals, name: &str) -> f64 {
    let m = metrics(e, r);
    match name {
        "mean_latency_s" => m.mean_latency_s,
        "p95_latency_s" => r.stats.latency.quantile_s(0.95),
        "p99_latency_s" => r.stats.latency.quantile_s(0.99),
        "slo_violation_ratio" => m.violation_ratio,
        "replica_seconds" => m.instance_s,
        "cost" | "objective" => m.objective,
        "cold_start_ratio" => m.cold_start_ratio,
        "idle_instance_seconds" => r.stats.idle_instance_s,
        "throttles" => r.stats.throttles as f64,
        "function_cold_start_ratio_p75" => m.function_p75,
        _ => f64::NAN,
    }
}

/// Per policy (scenario order): (mean, CI half-width) of every [`POLICY_METRICS`] entry, and
/// the rank by mean objective (1 = best; ties keep scenario order).
pub fn policy_table(e: &FaasExperiment) -> Vec<(Vec<(f64, f64)>, usize)> {
    let mut out: Vec<(Vec<(f64, f64)>, usize)> = (0..e.scenario.policies.len())
        .map(|p| {
            let mine: Vec<&RunTotals> = e.runs.iter().filter(|r| r.policy == p).collect();
            let cols = POLICY_METRICS
                .iter()
                .map(|m| {
                    let xs: Vec<f64> = mine.iter().map(|r| policy_metric(e, r, m)).collect();
                    mean_ci95(&xs)
                })
                .collect();
            (cols, 0)
        })
        .collect();
    let objective = POLICY_METRICS
        .iter()
        .position(|m| *m == "objective")
        .expect("listed");
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        out[a].0[objective]
            .0
            .total_cmp(&out[b].0[objective].0)
            .then(a.cmp(&b))
    });
    for (rank, i) in order.into_iter().enumerate() {
        out[i].1 = rank + 1;
    }
    out
}

pub fn policies_csv(e: &FaasExperiment) -> Vec<u8> {
    let mut s = String::from("policy");
    for m in POLICY_METRICS {
        let _ = write!(s, ",{m},{m}_ci95");
    }
    s.push_str(",rank,policy_type\n");
    for (p, (cols, rank)) in policy_table(e).iter().enumerate() {
        let pol = &e.scenario.policies[p];
        s.push_str(&pol.name);
        for (m, h) in cols {
            let _ = write!(s, ",{},{}", num(*m), num(*h));
        }
        let _ = writeln!(s, ",{rank},{}", pol.kind.type_name());
    }
    s.into_bytes()
}

pub fn timeline_csv(e: &FaasExperiment) -> Vec<u8> {
    let sc = &e.scenario;
    let c = &sc.cost;
    let mut s = String::from(
        "policy,replication,time_s,arrivals,completed,dropped,ready_replicas,starting_replicas,desired_replicas,busy,queued,utilization,p95_latency_s,cost,cold_starts,instance_seconds\n",
    );
    let interval = sc.interval.as_secs_f64();
    let duration = sc.duration.as_secs_f64();
    for r in &e.runs {
        for (k, row) in r.stats.intervals.iter().enumerate() {
            let start = k as f64 * interval;
            let len = (duration - start).min(interval);
            let p95 = row.latency.as_ref().map_or(f64::NAN, |h| {
                h.median_equivalent(h.value_at_quantile(0.95)) as f64 / 1e9
            });
            let cost = c.objective(row.instance_s, row.cold_starts, row.dropped);
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                sc.policies[r.policy].name,
                r.replication,
                num(start),
                row.arrivals,
                row.completed,
                row.dropped,
                row.ready,
                row.starting,
                row.ready + row.starting,
                num(row.busy_slots_s / len),
                num(row.waiting_s / len),
                num(ratio(row.busy_slots_s, row.ready_slots_s)),
                num(p95),
                num(cost),
                row.cold_starts,
                num(row.instance_s),
            );
        }
    }
    s.into_bytes()
}

pub fn functions_csv(e: &FaasExperiment) -> Vec<u8> {
    let sc = &e.scenario;
    let c = &sc.cost;
    let mut s = String::from(
        "policy,replication,function,app,trigger,invocations,completed,throttles,cold_starts,cold_start_ratio,mean_latency_s,busy_instance_seconds,idle_instance_seconds,instance_seconds,provisioned_instance_seconds,pre_warms,peak_instances,billed_duration_s,user_cost\n",
    );
    for f in &e.functions {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            sc.policies[f.policy].name,
            f.replication,
            f.id,
            f.app,
            f.trigger,
            f.requests,
            f.completed,
            f.throttles,
            f.cold_starts,
            num(f.cold_start_ratio()),
            num(ratio(f.latency_sum_s, f.completed as f64)),
            num(f.busy_instance_s),
            num(f.idle_instance_s),
            num(f.busy_instance_s + f.idle_instance_s),
            num(f.provisioned_instance_s),
            f.pre_warms,
            f.peak_instances,
            num(f.billed_s),
            num(f.billed_s * c.request_second + f.completed as f64 * c.request),
        );
    }
    s.into_bytes()
}

pub fn function_cdf_csv(e: &FaasExperiment) -> Vec<u8> {
    let mut s = String::from("policy,replication,percentile,cold_start_ratio,wasted_memory_s\n");
    for r in &e.runs {
        let (cold, idle) = distributions(e, r.policy, r.replication);
        for i in 0..CDF_PERCENTILES {
            let q = i as f64 / 100.0;
            let _ = writeln!(
                s,
                "{},{},{i},{},{}",
                e.scenario.policies[r.policy].name,
                r.replication,
                num(quantile(&cold, q)),
                num(quantile(&idle, q)),
            );
        }
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 0.25), 1.0);
        assert_eq!(quantile(&xs, 0.26), 2.0);
        assert_eq!(quantile(&xs, 0.75), 3.0);
        assert_eq!(quantile(&xs, 1.0), 4.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
