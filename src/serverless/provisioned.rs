//! Provisioned concurrency: a schedule of instances kept loaded whatever the load, with
//! on-demand instances taking the spill-over above it (as AWS Lambda's provisioned
//! concurrency works), and the plans that choose it.
//!
//! A schedule has one count per report interval: the provisioned instances of the function
//! from that interval's start. It comes from one of:
//! - `instances = N`: N in every interval;
//! - `plan = "FILE.csv"`: a `time_s,replicas` file (the `plan.csv` that `autoscale-sim plan`
//!   and `run` write), the count in force at each interval's start;
//! - `plan = "oracle"`: the DP planner ([`crate::planner::schedule::plan`]) run once per function on
//!   its true arrivals per interval. It SEES THE FUTURE (the very arrivals it will serve) and is
//!   labelled so: a lower bound, not a deployable policy.
//! - `plan = "dp"`: the online planner, deployable: at the start of each interval it knows only
//!   the function's arrivals in the intervals before, forecasts the coming interval's rate
//!   (EWMA, [`DP_EWMA_ALPHA`]), and chooses the count of least cost *expected over its own
//!   recent forecast errors* (the last [`DP_ERROR_WINDOW`] one-step errors, in square-root
//!   scale, where Poisson noise has a constant spread). The objective is the oracle's; with no
//!   switching cost the receding-horizon program's first decision is this one-interval
//!   minimum, so no longer horizon is planned. Nothing is provisioned before the first
//!   interval has been observed.
//!
//! The planner's objective, per interval `t` with `n` provisioned instances, arrival rate
//! `λ_t`, mean execution time `s` and `c` requests per instance:
//! `n · interval · instance_hour/3600` (the provisioned instances) plus the expected cost of
//! the spill-over, `λ_t · interval · B(n·c, λ_t·s) · (cold_start_penalty + (init + s) ·
//! instance_hour/3600)`, where `B` is the Erlang loss formula (the share of requests that find
//! every provisioned slot busy, exact for Poisson arrivals whatever the execution-time
//! distribution). Every spilled request is priced as a cold start with its on-demand
//! instance's busy time: an upper bound, since some find a warm on-demand instance.

use std::collections::VecDeque;

use crate::planner::forecast::{ForecastMethod, Forecaster};
use crate::planner::schedule::{PlanInput, Switching, plan};

/// Smoothing of the online planner's EWMA forecast (weight of the newest interval).
pub const DP_EWMA_ALPHA: f64 = 0.5;
/// One-step forecast errors the online planner keeps, per function.
pub const DP_ERROR_WINDOW: usize = 60;
/// The Erlang loss below which more instances are not worth pricing.
const NEGLIGIBLE_LOSS: f64 = 1e-6;

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
    let peak = counts.iter().copied().max().unwrap_or(0) as f64 / interval;
    let max = prices.enough_instances(peak);
    let input = PlanInput {
        intervals: counts.len(),
        min_replicas: 0,
        max_replicas: max,
        initial: 0,
        committed: &[],
        switching: Switching::default(),
    };
    let mut b = Vec::new();
    let mut costs = |t: usize, first: u32, out: &mut [f64]| {
        let rate = counts[t] as f64 / interval;
        prices.stage_costs(rate, 1.0, first, out, &mut b, false);
    };
    match plan(&input, &mut costs) {
        Ok(p) => p.replicas,
        // The input is built here within the planner's bounds; an error would be a bug.
        Err(e) => unreachable!("the oracle's plan input is valid: {e}"),
    }
}

impl PlanPrices {
    /// Enough instances that the Erlang loss at `rate` is negligible (below 1e-6), and never
    /// more than the platform allows (at least 1).
    fn enough_instances(&self, rate: f64) -> u32 {
        let c = self.concurrency.max(1) as usize;
        let load = rate * self.service_s;
        let cap = (self.max_instances as usize).max(1);
        let mut b = Vec::new();
        let mut max = 1usize;
        while max < cap {
            erlang_b_all(load, max * c, &mut b);
            if b[max * c] < NEGLIGIBLE_LOSS {
                break;
            }
            max = (max * 2).min(cap);
        }
        max as u32
    }

    /// Sets (`add = false`) or adds to (`add = true`) `out[i]` the cost of `first + i`
    /// provisioned instances over one interval at arrival rate `rate`, times `weight`: the
    /// instances plus the expected spill-over (module documentation). `b` is scratch space.
    fn stage_costs(
        &self,
        rate: f64,
        weight: f64,
        first: u32,
        out: &mut [f64],
        b: &mut Vec<f64>,
        add: bool,
    ) {
        let c = self.concurrency.max(1) as usize;
        let interval = self.interval_s;
        let instance = interval * self.instance_hour / 3600.0;
        let spill =
            self.cold_start_penalty + (self.init_s + self.service_s) * self.instance_hour / 3600.0;
        erlang_b_all(rate * self.service_s, (first as usize + out.len()) * c, b);
        for (i, v) in out.iter_mut().enumerate() {
            let n = first as usize + i;
            let cost = weight * (n as f64 * instance + rate * interval * b[n * c] * spill);
            *v = if add { *v + cost } else { cost };
        }
    }
}

/// The online planner's schedule for a function whose arrivals per interval are `counts`
/// (module documentation): the count for interval `k` depends on `counts[..k]` only.
pub fn online_schedule(counts: &[u64], prices: &PlanPrices) -> Vec<u32> {
    let interval = prices.interval_s;
    let mut forecaster = match Forecaster::new(ForecastMethod::Ewma {
        alpha: DP_EWMA_ALPHA,
    }) {
        Ok(f) => f,
        Err(e) => unreachable!("the online planner's EWMA smoothing is valid: {e}"),
    };
    // One-step errors, in square-root scale: √(observed rate) − √(forecast rate).
    let mut errors: VecDeque<f64> = VecDeque::with_capacity(DP_ERROR_WINDOW);
    let mut out = Vec::with_capacity(counts.len());
    let mut forecast = [0.0];
    let mut costs = Vec::new();
    let mut b = Vec::new();
    for (k, &count) in counts.iter().enumerate() {
        if k == 0 {
            out.push(0);
        } else {
            forecaster.forecast(&mut forecast);
            let f = forecast[0];
            let root = f.sqrt();
            // The rates the coming interval may have: the forecast moved by each past error.
            let weight = 1.0 / errors.len().max(1) as f64;
            let scenarios: Vec<f64> = if errors.is_empty() {
                vec![f]
            } else {
                errors.iter().map(|e| (root + e).max(0.0).powi(2)).collect()
            };
            let highest = scenarios.iter().copied().fold(0.0, f64::max);
            let max = prices.enough_instances(highest);
            costs.clear();
            costs.resize(max as usize + 1, 0.0);
            for &rate in &scenarios {
                prices.stage_costs(rate, weight, 0, &mut costs, &mut b, true);
            }
            // The fewest instances of least expected cost.
            let best = costs
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
                .map_or(0, |(n, _)| n);
            out.push(best as u32);
            if errors.len() == DP_ERROR_WINDOW {
                errors.pop_front();
            }
            let observed = count as f64 / interval;
            errors.push_back(observed.sqrt() - root);
        }
        forecaster.observe(count as f64 / interval);
    }
    out
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

    /// The online planner decides interval `k` from `counts[..k]` alone: changing the future
    /// never changes a decision already taken.
    #[test]
    fn the_online_plan_sees_only_the_past() {
        let counts: Vec<u64> = (0..40).map(|k| (k * 37 % 23) as u64 * 10).collect();
        let full = online_schedule(&counts, &prices(0.01));
        for cut in [1, 5, 17, 39] {
            let mut other = counts.clone();
            for c in &mut other[cut..] {
                *c = 500 - *c;
            }
            assert_eq!(online_schedule(&other, &prices(0.01))[..=cut], full[..=cut]);
        }
        assert_eq!(full[0], 0, "nothing is known before the first interval");
    }

    /// On a load it forecasts exactly (a constant count, so every error is 0) the online plan
    /// is the oracle's from the second interval on.
    #[test]
    fn a_perfect_forecast_plans_as_the_oracle() {
        for per_minute in [30, 60, 600, 3000] {
            let counts = vec![per_minute; 12];
            for penalty in [0.0, 0.001, 0.01] {
                let oracle = oracle_schedule(&counts, &prices(penalty));
                let online = online_schedule(&counts, &prices(penalty));
                assert_eq!(online[1..], oracle[1..], "{per_minute}/min, {penalty}");
            }
        }
        // And at a price that makes instances worth it, it does provision.
        let online = online_schedule(&[600; 4], &prices(0.01));
        assert!(online[1] > 0, "{online:?}");
    }

    /// Forecast errors make it hedge: on a load alternating between 0 and 120 requests a
    /// minute, the EWMA forecasts 40–80 and the errors say either may come, so it holds
    /// more instances than the mean load alone would need and never none.
    #[test]
    fn forecast_errors_buy_headroom() {
        let counts: Vec<u64> = (0..60).map(|k| if k % 2 == 0 { 0 } else { 120 }).collect();
        let online = online_schedule(&counts, &prices(0.01));
        let mean_only = oracle_schedule(&[60], &prices(0.01))[0];
        assert!(
            online[10..].iter().all(|&n| n > mean_only),
            "{online:?} vs {mean_only}"
        );
    }

    #[test]
    fn a_plan_file_is_read_at_interval_starts() {
        let rows = [(0.0, 2), (90.0, 5), (180.0, 1)];
        assert_eq!(schedule_from_plan(&rows, 4, 60.0), vec![2, 2, 5, 1]);
        assert_eq!(schedule_from_plan(&[(60.0, 3)], 3, 60.0), vec![0, 3, 3]);
    }
}
