//! Provisioned concurrency: a schedule of instances kept loaded whatever the load, with
//! on-demand instances taking the spill-over above it (as AWS Lambda's provisioned
//! concurrency works), and the plans that choose it.
//!
//! A schedule has one count per report interval: the provisioned instances of the function
//! from that interval's start. It comes from one of:
//! - `instances = N`: N in every interval;
//! - `plan = "FILE.csv"`: a `time_s,replicas` file (the `plan.csv` that `autoscale-sim plan`
//!   and `run` write), the count in force at each interval's start;
//! - `plan = "oracle"`: the DP planner ([`crate::planner::dp::plan`]) run once per function on
//!   its true arrivals per interval. It SEES THE FUTURE (the very arrivals it will serve) and is
//!   labelled so: a lower bound, not a deployable policy.
//!
//! The planner's objective, per interval `t` with `n` provisioned instances, arrival rate
//! `λ_t`, mean execution time `s` and `c` requests per instance:
//! `n · interval · instance_hour/3600` (the provisioned instances) plus the expected cost of
//! the spill-over, `λ_t · interval · B(n·c, λ_t·s) · (cold_start_penalty + (init + s) ·
//! instance_hour/3600)`, where `B` is the Erlang loss formula (the share of requests that find
//! every provisioned slot busy, exact for Poisson arrivals whatever the execution-time
//! distribution). Every spilled request is priced as a cold start with its on-demand
//! instance's busy time: an upper bound, since some find a warm on-demand instance.

use crate::planner::dp::{PlanInput, Switching, plan};

/// The inputs of the oracle's plan for one function.
#[derive(Clone, Copy, Debug)]
pub struct PlanPrices {
    pub interval_s: f64,
    pub instance_hour: f64,
    pub cold_start_penalty: f64,
    /// Mean execution time and mean cold-start initialisation, seconds.
    pub service_s: f64,
    pub init_s: f64,
    pub concurrency: u32,
    pub max_instances: u32,
}

/// Erlang B for every server count `0..=max`: `B(0) = 1`,
/// `B(k) = a·B(k-1) / (k + a·B(k-1))`.
fn erlang_b_all(load: f64, max: usize, out: &mut Vec<f64>) {
    out.clear();
    let mut b = 1.0;
    out.push(b);
    for k in 1..=max {
        b = load * b / (k as f64 + load * b);
        out.push(b);
    }
}

/// The oracle's schedule for a function whose arrivals per interval are `counts`: the plan of
/// least expected cost under the model of the module documentation, starting from no
/// provisioned instance.
pub fn oracle_schedule(counts: &[u64], prices: &PlanPrices) -> Vec<u32> {
    let interval = prices.interval_s;
    let c = prices.concurrency.max(1);
    // Enough instances that the loss at the busiest interval is negligible (B < 1e-6), and
    // never more than the platform allows.
    let peak_load = counts.iter().copied().max().unwrap_or(0) as f64 / interval * prices.service_s;
    let mut b = Vec::new();
    let mut max = 1usize;
    let cap = prices.max_instances as usize;
    while max < cap {
        erlang_b_all(peak_load, max * c as usize, &mut b);
        if b[max * c as usize] < 1e-6 {
            break;
        }
        max = (max * 2).min(cap);
    }
    let instance = interval * prices.instance_hour / 3600.0;
    let spill = prices.cold_start_penalty
        + (prices.init_s + prices.service_s) * prices.instance_hour / 3600.0;
    let input = PlanInput {
        intervals: counts.len(),
        min_replicas: 0,
        max_replicas: max as u32,
        initial: 0,
        committed: &[],
        switching: Switching::default(),
    };
    let mut costs = |t: usize, first: u32, out: &mut [f64]| {
        let rate = counts[t] as f64 / interval;
        let mut b = Vec::new();
        erlang_b_all(
            rate * prices.service_s,
            (first as usize + out.len()) * c as usize,
            &mut b,
        );
        for (i, v) in out.iter_mut().enumerate() {
            let n = first as usize + i;
            *v = n as f64 * instance + rate * interval * b[n * c as usize] * spill;
        }
    };
    match plan(&input, &mut costs) {
        Ok(p) => p.replicas,
        // The input is built here within the planner's bounds; an error would be a bug.
        Err(e) => unreachable!("the oracle's plan input is valid: {e}"),
    }
}

/// The schedule of a `plan.csv` (`time_s,replicas` rows in increasing time) over `intervals`
/// intervals of `interval_s` seconds: the count in force at each interval's start (0 before
/// the first row).
pub fn schedule_from_plan(rows: &[(f64, u32)], intervals: usize, interval_s: f64) -> Vec<u32> {
    let mut out = Vec::with_capacity(intervals);
    let mut j = 0;
    let mut current = 0;
    for k in 0..intervals {
        let t = k as f64 * interval_s;
        while j < rows.len() && rows[j].0 <= t + 1e-9 {
            current = rows[j].1;
            j += 1;
        }
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(penalty: f64) -> PlanPrices {
        PlanPrices {
            interval_s: 60.0,
            instance_hour: 0.06,
            cold_start_penalty: penalty,
            service_s: 1.0,
            init_s: 0.5,
            concurrency: 1,
            max_instances: 100,
        }
    }

    #[test]
    fn erlang_b_matches_the_table() {
        let mut b = Vec::new();
        erlang_b_all(2.0, 4, &mut b);
        // B(1, 2) = 2/3, B(2, 2) = 2/5, B(4, 2) = 2/21.
        assert!((b[1] - 2.0 / 3.0).abs() < 1e-12);
        assert!((b[2] - 0.4).abs() < 1e-12);
        assert!((b[4] - 2.0 / 21.0).abs() < 1e-12);
    }

    /// Idle intervals get no instance; a busy interval gets instances only when a cold start
    /// costs more than keeping an instance: with 1 request per second (load 1) one instance
    /// for a minute costs 0.001, and it saves 60·(1 − B(1,1)) = 30 spills.
    #[test]
    fn the_oracle_buys_instances_when_cold_starts_cost_more() {
        let counts = [0, 60, 0];
        assert_eq!(oracle_schedule(&counts, &prices(0.0)), vec![0, 0, 0]);
        let s = oracle_schedule(&counts, &prices(0.01));
        assert_eq!(s[0], 0);
        assert_eq!(s[2], 0);
        assert!(s[1] >= 3, "{s:?}");
    }

    #[test]
    fn a_plan_file_is_read_at_interval_starts() {
        let rows = [(0.0, 2), (90.0, 5), (180.0, 1)];
        assert_eq!(schedule_from_plan(&rows, 4, 60.0), vec![2, 2, 5, 1]);
        assert_eq!(schedule_from_plan(&[(60.0, 3)], 3, 60.0), vec![0, 3, 3]);
    }
}
