//! The dynamic-programming planner: the replica plan that minimises replica cost plus expected
//! SLO-violation penalty plus switching cost over a finite horizon, exactly for its model.
//!
//! Model. Time is cut into intervals `t = 0..T`. The plan is `x_t`, the number of containers
//! ready in interval `t`, with `min_replicas ≤ x_t ≤ max_replicas`. Running `n` containers in
//! interval `t` costs `c_t(n)`, given by a [`StageCosts`] (usually [`RateCosts`]:
//! `n · interval · price + penalty · rate_t · interval · P(latency > slo | rate_t, n)`).
//! Going from `m` to `n` containers costs `start · (n - m)⁺ + stop · (m - n)⁺`. A container
//! takes `d` intervals to start, so the first `d` intervals of a plan are fixed by what is
//! already ready or starting (`committed`), and the first free decision is `x_d`, made now and
//! effective `d` intervals later. The objective is
//! `Σ_t c_t(x_t) + Σ_t switch(x_{t-1}, x_t)` with `x_{-1}` the replicas ready before the plan.
//!
//! Algorithm. Backward induction: `V_T = 0`, and for the previous state `m`,
//! `V_t(m) = min_n [c_t(n) + V_{t+1}(n) + switch(m, n)]`. Because the switching cost is linear
//! on each side of `m`, the minimum splits into a suffix minimum of `W(n) + start·n` over
//! `n ≥ m` and a prefix minimum of `W(n) - stop·n` over `n ≤ m` (with `W = c_t + V_{t+1}`),
//! so each interval costs `O(R)` and a plan `O(T·R)` time, with `R` the number of replica
//! counts. The argmin of each `(t, m)` is kept (4 bytes each) to read the plan forwards.
//!
//! Determinism and ties: the same input gives the same plan. Among equally good choices the
//! planner keeps the nearest count at or below the previous one, else the nearest above it.

use super::queueing::ViolationModel;
use thiserror::Error;

/// Stage costs `c_t(n)`: the cost of running `n` ready containers during interval `t`.
///
/// Costs may be `+∞` (an infeasible count) but never NaN.
pub trait StageCosts {
    /// Fills `out[i]` with the cost of `first + i` containers in interval `t`.
    fn fill(&mut self, t: usize, first: u32, out: &mut [f64]);

    /// The cost of `n` containers in interval `t`.
    fn cost(&mut self, t: usize, n: u32) -> f64 {
        let mut out = [0.0];
        self.fill(t, n, &mut out);
        out[0]
    }
}

impl<F: FnMut(usize, u32, &mut [f64])> StageCosts for F {
    fn fill(&mut self, t: usize, first: u32, out: &mut [f64]) {
        self(t, first, out)
    }
}

/// A precomputed table of stage costs, one row per interval, for replica counts
/// `first..first + width`.
#[derive(Clone, Debug, PartialEq)]
pub struct CostMatrix {
    first: u32,
    width: usize,
    values: Vec<f64>,
}

impl CostMatrix {
    /// Builds the table from rows (all of the same length) for counts starting at `first`.
    pub fn from_rows(first: u32, rows: &[Vec<f64>]) -> CostMatrix {
        let width = rows.first().map_or(0, Vec::len);
        assert!(
            rows.iter().all(|r| r.len() == width),
            "every row of a cost matrix has the same length"
        );
        CostMatrix {
            first,
            width,
            values: rows.concat(),
        }
    }

    /// Builds the table for intervals `0..intervals` from any [`StageCosts`].
    pub fn build(
        costs: &mut impl StageCosts,
        intervals: usize,
        first: u32,
        width: usize,
    ) -> CostMatrix {
        let mut values = vec![0.0; intervals * width];
        if width > 0 {
            for (t, row) in values.chunks_exact_mut(width).enumerate() {
                costs.fill(t, first, row);
            }
        }
        CostMatrix {
            first,
            width,
            values,
        }
    }

    /// Number of intervals.
    pub fn intervals(&self) -> usize {
        self.values.len().checked_div(self.width).unwrap_or(0)
    }

    /// The cost of `n` containers in interval `t`.
    pub fn get(&self, t: usize, n: u32) -> f64 {
        self.values[t * self.width + (n - self.first) as usize]
    }
}

impl StageCosts for CostMatrix {
    /// Panics if the requested counts are outside the table.
    fn fill(&mut self, t: usize, first: u32, out: &mut [f64]) {
        let start = t * self.width + (first - self.first) as usize;
        out.copy_from_slice(&self.values[start..start + out.len()]);
    }
}

/// `P(latency > slo)` for every container count of a range at a given arrival rate: the queueing
/// model ([`ViolationModel`]) or a table calibrated against the simulator.
pub trait ViolationColumns {
    /// Fills `out[i]` with the violation probability at `rate` (requests per second) with
    /// `first + i` containers.
    fn fill(&self, rate: f64, first: u32, out: &mut [f64]);
}

impl ViolationColumns for ViolationModel {
    fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
        ViolationModel::fill(self, rate, first, out)
    }
}

/// The prices of the objective, as the scenario's `[cost]` table gives them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prices {
    /// Width of one planning interval, seconds.
    pub interval_s: f64,
    /// Price of one container for one hour.
    pub replica_hour: f64,
    /// Price of one request that violates the SLO.
    pub violation_penalty: f64,
}

impl Prices {
    /// Fills `out[i]` with the stage cost of `first + i` containers in an interval whose
    /// arrival rate is `rate`: `n · interval · replica_hour / 3600` plus
    /// `penalty · rate · interval · P(violation)`.
    pub fn fill_stage(
        &self,
        violations: &impl ViolationColumns,
        rate: f64,
        first: u32,
        out: &mut [f64],
    ) {
        violations.fill(rate, first, out);
        let replica = self.interval_s * self.replica_hour / 3600.0;
        let expected = self.violation_penalty * rate * self.interval_s;
        for (i, v) in out.iter_mut().enumerate() {
            *v = (first as f64 + i as f64) * replica + expected * *v;
        }
    }
}

/// Stage costs from per-interval arrival rates (true ones for the oracle, forecast ones for
/// the online planner), a violation model and prices.
#[derive(Clone, Copy, Debug)]
pub struct RateCosts<'a, V> {
    pub rates: &'a [f64],
    pub violations: &'a V,
    pub prices: Prices,
}

impl<V: ViolationColumns> StageCosts for RateCosts<'_, V> {
    fn fill(&mut self, t: usize, first: u32, out: &mut [f64]) {
        self.prices
            .fill_stage(self.violations, self.rates[t], first, out);
    }
}

/// Switching costs, per container started and per container stopped (zero by default).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Switching {
    pub start: f64,
    pub stop: f64,
}

impl Switching {
    /// The cost of going from `from` to `to` containers.
    pub fn cost(&self, from: u32, to: u32) -> f64 {
        if to >= from {
            self.start * (to - from) as f64
        } else {
            self.stop * (from - to) as f64
        }
    }
}

/// What a plan is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanInput<'a> {
    /// Number of intervals `T` to plan.
    pub intervals: usize,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Containers ready just before the plan starts (`x_{-1}`); may lie outside the bounds.
    pub initial: u32,
    /// Containers ready in intervals `0..d`, fixed by what is already ready or starting; its
    /// length is the start-up delay `d` in intervals. Each lies within the bounds.
    pub committed: &'a [u32],
    pub switching: Switching,
}

/// A plan and its objective under the planner's model.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Containers ready in each interval, `T` entries.
    pub replicas: Vec<u32>,
    /// Total stage and switching cost of `replicas`.
    pub objective: f64,
}

/// A plan request the planner cannot honour (a caller's bug, not user input: scenarios are
/// validated before they reach the planner).
#[derive(Clone, Debug, Error, PartialEq)]
pub enum PlanError {
    #[error("min_replicas {min} is above max_replicas {max}")]
    EmptyRange { min: u32, max: u32 },
    #[error("committed replicas {replicas} in interval {interval} lie outside [{min}, {max}]")]
    CommittedOutOfRange {
        interval: usize,
        replicas: u32,
        min: u32,
        max: u32,
    },
    #[error("{committed} committed intervals do not fit in a plan of {intervals}")]
    NoDecision { committed: usize, intervals: usize },
    #[error(
        "the switching costs must be finite and non-negative, found start {start}, stop {stop}"
    )]
    BadSwitching { start: f64, stop: f64 },
}

fn check(input: &PlanInput) -> Result<(), PlanError> {
    let (min, max) = (input.min_replicas, input.max_replicas);
    if min > max {
        return Err(PlanError::EmptyRange { min, max });
    }
    let sw = input.switching;
    if !(sw.start >= 0.0 && sw.stop >= 0.0 && sw.start.is_finite() && sw.stop.is_finite()) {
        return Err(PlanError::BadSwitching {
            start: sw.start,
            stop: sw.stop,
        });
    }
    for (interval, &replicas) in input.committed.iter().enumerate() {
        if replicas < min || replicas > max {
            return Err(PlanError::CommittedOutOfRange {
                interval,
                replicas,
                min,
                max,
            });
        }
    }
    if input.committed.len() > input.intervals {
        return Err(PlanError::NoDecision {
            committed: input.committed.len(),
            intervals: input.intervals,
        });
    }
    Ok(())
}

/// The best choice of `n` (an index into `w`) from a previous state with index `p` (which may
/// lie outside `0..w.len()`), by the same arithmetic and tie rule as the table of
/// [`plan`]: `min(prefix, suffix)` where the prefix side wins ties.
fn best_from(w: &[f64], p: i64, sw: Switching) -> (f64, usize) {
    let r = w.len() as i64;
    let pf = p as f64;
    // Suffix side: n ≥ p, value (w[n] + start·n) - start·p, ties to the smaller n.
    let mut up = (f64::INFINITY, usize::MAX);
    let lo = p.clamp(0, r);
    for n in (lo..r).rev() {
        let v = w[n as usize] + sw.start * n as f64;
        if v <= up.0 {
            up = (v, n as usize);
        }
    }
    // Prefix side: n ≤ p, value (w[n] - stop·n) + stop·p, ties to the larger n.
    let mut down = (f64::INFINITY, usize::MAX);
    let hi = (p + 1).clamp(0, r);
    for n in 0..hi {
        let v = w[n as usize] - sw.stop * n as f64;
        if v <= down.0 {
            down = (v, n as usize);
        }
    }
    let up_total = up.0 - sw.start * pf;
    let down_total = down.0 + sw.stop * pf;
    if down.1 != usize::MAX && (down_total <= up_total || up.1 == usize::MAX) {
        (down_total, down.1)
    } else {
        (up_total, up.1)
    }
}

/// The optimal plan for `input` under `costs`, by backward induction in `O(T·R)` time and
/// `O(T·R)` memory (4 bytes per cell), `R = max_replicas - min_replicas + 1`.
pub fn plan(input: &PlanInput, costs: &mut impl StageCosts) -> Result<Plan, PlanError> {
    check(input)?;
    let t_len = input.intervals;
    if t_len == 0 {
        return Ok(Plan {
            replicas: Vec::new(),
            objective: 0.0,
        });
    }
    let d = input.committed.len();
    let lo = input.min_replicas;
    let r = (input.max_replicas - lo) as usize + 1;
    let sw = input.switching;
    let (start, stop) = (sw.start, sw.stop);

    // Cost-to-go V_{t+1}(n) for n in the range, starting from V_T = 0.
    let mut v = vec![0.0f64; r];
    let mut w = vec![0.0f64; r];
    let mut suf_val = vec![0.0f64; r];
    let mut suf_arg = vec![0u32; r];
    // Decisions for the free intervals after the first one: row t - d - 1 for t in d+1..T.
    let rows = t_len.saturating_sub(d + 1);
    let mut decision = vec![0u32; rows * r];

    for t in (d + 1..t_len).rev() {
        costs.fill(t, lo, &mut w);
        for (wi, vi) in w.iter_mut().zip(&v) {
            *wi += *vi;
        }
        // Suffix minima of w[n] + start·n, ties to the smaller n.
        let mut best = f64::INFINITY;
        let mut arg = (r - 1) as u32;
        for n in (0..r).rev() {
            let val = w[n] + start * n as f64;
            if val <= best {
                best = val;
                arg = n as u32;
            }
            suf_val[n] = best;
            suf_arg[n] = arg;
        }
        // Prefix minima of w[n] - stop·n (ties to the larger n), combined with the suffix.
        let row = &mut decision[(t - d - 1) * r..(t - d) * r];
        let mut best = f64::INFINITY;
        let mut arg = 0u32;
        for m in 0..r {
            let val = w[m] - stop * m as f64;
            if val <= best {
                best = val;
                arg = m as u32;
            }
            let mf = m as f64;
            let down_total = best + stop * mf;
            let up_total = suf_val[m] - start * mf;
            if down_total <= up_total {
                v[m] = down_total;
                row[m] = arg;
            } else {
                v[m] = up_total;
                row[m] = suf_arg[m];
            }
        }
    }

    // The first free interval d, from its single previous state.
    let mut replicas = Vec::with_capacity(t_len);
    replicas.extend_from_slice(input.committed);
    let mut objective = 0.0;
    let mut prev = input.initial;
    for (t, &x) in input.committed.iter().enumerate() {
        objective += sw.cost(prev, x) + costs.cost(t, x);
        prev = x;
    }
    if d < t_len {
        costs.fill(d, lo, &mut w);
        for (wi, vi) in w.iter_mut().zip(&v) {
            *wi += *vi;
        }
        let (value, first) = best_from(&w, prev as i64 - lo as i64, sw);
        objective += value;
        let mut idx = first as u32;
        replicas.push(lo + idx);
        for row in decision.chunks_exact(r) {
            idx = row[idx as usize];
            replicas.push(lo + idx);
        }
    }
    Ok(Plan {
        replicas,
        objective,
    })
}

/// The objective of any plan under the planner's model (stage plus switching costs, starting
/// from `initial`). Used to compare plans and to check the planner.
pub fn evaluate(
    replicas: &[u32],
    initial: u32,
    switching: Switching,
    costs: &mut impl StageCosts,
) -> f64 {
    let mut total = 0.0;
    let mut prev = initial;
    for (t, &x) in replicas.iter().enumerate() {
        total += switching.cost(prev, x) + costs.cost(t, x);
        prev = x;
    }
    total
}

/// Model-predictive control: at each interval, plan over a forecast horizon and apply the
/// first free decision (receding horizon).
#[derive(Clone, Debug)]
pub struct RecedingHorizon<V> {
    pub violations: V,
    pub prices: Prices,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub switching: Switching,
}

impl<V: ViolationColumns> RecedingHorizon<V> {
    /// Plans over `forecast` (arrival rates for the next intervals, the current one first)
    /// from `ready` containers now, with `committed` the containers that will be ready in the
    /// next `d` intervals as things stand (`d` = start-up delay in intervals), and returns the
    /// plan's first free decision: the containers that should be ready `d` intervals from now.
    ///
    /// The forecast must cover more than `d` intervals.
    pub fn decide(
        &self,
        ready: u32,
        committed: &[u32],
        forecast: &[f64],
    ) -> Result<u32, PlanError> {
        Ok(self.plan(ready, committed, forecast)?.replicas[committed.len()])
    }

    /// The whole plan over the forecast horizon (see [`RecedingHorizon::decide`]).
    pub fn plan(&self, ready: u32, committed: &[u32], forecast: &[f64]) -> Result<Plan, PlanError> {
        if forecast.len() <= committed.len() {
            return Err(PlanError::NoDecision {
                committed: committed.len(),
                intervals: forecast.len(),
            });
        }
        let input = PlanInput {
            intervals: forecast.len(),
            min_replicas: self.min_replicas,
            max_replicas: self.max_replicas,
            initial: ready,
            committed,
            switching: self.switching,
        };
        let mut costs = RateCosts {
            rates: forecast,
            violations: &self.violations,
            prices: self.prices,
        };
        plan(&input, &mut costs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::service::ServiceSpec;
    use crate::planner::queueing::Dispatch;
    use crate::rng;
    use crate::time::SimDuration;
    use rand::RngExt;

    /// The optimum by forward DP over every pair (m, n): O(T·R²), no running minima.
    fn brute_force(input: &PlanInput, costs: &mut impl StageCosts) -> f64 {
        let (lo, hi) = (input.min_replicas, input.max_replicas);
        let mut f: Vec<(u32, f64)> = vec![(input.initial, 0.0)];
        for t in 0..input.intervals {
            let allowed: Vec<u32> = match input.committed.get(t) {
                Some(&x) => vec![x],
                None => (lo..=hi).collect(),
            };
            f = allowed
                .iter()
                .map(|&n| {
                    let best = f
                        .iter()
                        .map(|&(m, fm)| fm + input.switching.cost(m, n))
                        .fold(f64::INFINITY, f64::min);
                    (n, best + costs.cost(t, n))
                })
                .collect();
        }
        f.iter().map(|p| p.1).fold(f64::INFINITY, f64::min)
    }

    /// Every plan, enumerated.
    fn exhaustive(input: &PlanInput, costs: &mut impl StageCosts) -> f64 {
        let (lo, hi) = (input.min_replicas, input.max_replicas);
        let mut best = f64::INFINITY;
        let mut x: Vec<u32> = (0..input.intervals)
            .map(|t| input.committed.get(t).copied().unwrap_or(lo))
            .collect();
        loop {
            best = best.min(evaluate(&x, input.initial, input.switching, costs));
            // Next plan in odometer order over the free intervals.
            let mut t = input.committed.len();
            loop {
                if t == input.intervals {
                    return best;
                }
                if x[t] < hi {
                    x[t] += 1;
                    break;
                }
                x[t] = lo;
                t += 1;
            }
        }
    }

    /// Random costs that are multiples of 1/8 below 64, so every sum is exact in f64 and
    /// different summation orders give equal objectives.
    fn random_matrix(rng: &mut rng::SimRng, t: usize, lo: u32, hi: u32) -> CostMatrix {
        let rows: Vec<Vec<f64>> = (0..t)
            .map(|_| {
                (lo..=hi)
                    .map(|_| rng.random_range(0..512) as f64 / 8.0)
                    .collect()
            })
            .collect();
        CostMatrix::from_rows(lo, &rows)
    }

    #[test]
    fn equals_brute_force_on_random_instances() {
        let mut rng = rng::stream(5, 0, "dp-test");
        for case in 0..400 {
            let t = rng.random_range(1..9usize);
            let lo = rng.random_range(0..3u32);
            let hi = lo + rng.random_range(0..7u32);
            let mut m = random_matrix(&mut rng, t, lo, hi);
            let d = rng.random_range(0..3usize).min(t);
            let committed: Vec<u32> = (0..d).map(|_| rng.random_range(lo..=hi)).collect();
            let switching = match case % 3 {
                0 => Switching::default(),
                1 => Switching {
                    start: rng.random_range(0..16) as f64 / 4.0,
                    stop: rng.random_range(0..16) as f64 / 4.0,
                },
                _ => Switching {
                    start: rng.random_range(0..64) as f64,
                    stop: 0.0,
                },
            };
            let input = PlanInput {
                intervals: t,
                min_replicas: lo,
                max_replicas: hi,
                initial: rng.random_range(0..hi + 3),
                committed: &committed,
                switching,
            };
            let p = plan(&input, &mut m).unwrap();
            let want = brute_force(&input, &mut m);
            assert_eq!(p.objective, want, "case {case}: {input:?}");
            assert_eq!(p.replicas.len(), t);
            assert_eq!(&p.replicas[..d], &committed[..]);
            assert!(p.replicas.iter().all(|&x| (lo..=hi).contains(&x)));
            assert_eq!(
                evaluate(&p.replicas, input.initial, switching, &mut m),
                want
            );
            if (hi - lo + 1).pow((t - d) as u32) <= 50_000 {
                assert_eq!(exhaustive(&input, &mut m), want, "case {case}");
            }
        }
    }

    #[test]
    fn hand_computed_cases() {
        // Two intervals, counts 0..=2; interval 0 wants 2 (cost 0), interval 1 wants 0.
        let mut m = CostMatrix::from_rows(0, &[vec![4.0, 2.0, 0.0], vec![0.0, 1.0, 2.0]]);
        let free = |sw| PlanInput {
            intervals: 2,
            min_replicas: 0,
            max_replicas: 2,
            initial: 0,
            committed: &[],
            switching: sw,
        };
        // No switching cost: follow each interval's best count.
        let p = plan(&free(Switching::default()), &mut m).unwrap();
        assert_eq!((p.replicas, p.objective), (vec![2, 0], 0.0));
        // Starting costs 1 each: still worth going to 2 (saves 4 for 2), then down for free.
        let sw = Switching {
            start: 1.0,
            stop: 0.0,
        };
        let p = plan(&free(sw), &mut m).unwrap();
        assert_eq!((p.replicas, p.objective), (vec![2, 0], 2.0));
        // Starting costs 3 each: staying at 0 costs 4; going to 1 costs 3 + 2 + 0 = 5;
        // to 2: 6 + 0 + 0 = 6. Stay at 0.
        let sw = Switching {
            start: 3.0,
            stop: 0.0,
        };
        let p = plan(&free(sw), &mut m).unwrap();
        assert_eq!((p.replicas, p.objective), (vec![0, 0], 4.0));
        // Stopping costs 1.5 each: 2 then 2 costs 0 + 2 = 2; 2 then 1 costs 1.5 + 1 = 2.5;
        // 2 then 0 costs 3. Keep 2.
        let sw = Switching {
            start: 0.0,
            stop: 1.5,
        };
        let p = plan(&free(sw), &mut m).unwrap();
        assert_eq!((p.replicas, p.objective), (vec![2, 2], 2.0));
        // A start-up delay of one interval: interval 0 is fixed at 1 (cost 2), then 0.
        let input = PlanInput {
            committed: &[1],
            ..free(Switching::default())
        };
        let p = plan(&input, &mut m).unwrap();
        assert_eq!((p.replicas, p.objective), (vec![1, 0], 2.0));
        // Bounds: with min 1, interval 1 cannot go to 0.
        let mut m1 = CostMatrix::from_rows(1, &[vec![2.0, 0.0], vec![1.0, 2.0]]);
        let input = PlanInput {
            min_replicas: 1,
            ..free(Switching::default())
        };
        let p = plan(&input, &mut m1).unwrap();
        assert_eq!((p.replicas, p.objective), (vec![2, 1], 1.0));
    }

    #[test]
    fn rejects_requests_it_cannot_honour() {
        let mut m = CostMatrix::from_rows(0, &vec![vec![0.0; 3]; 2]);
        let base = PlanInput {
            intervals: 2,
            min_replicas: 0,
            max_replicas: 2,
            initial: 0,
            committed: &[],
            switching: Switching::default(),
        };
        let bad = PlanInput {
            min_replicas: 3,
            ..base
        };
        assert_eq!(
            plan(&bad, &mut m),
            Err(PlanError::EmptyRange { min: 3, max: 2 })
        );
        let bad = PlanInput {
            committed: &[1, 5],
            ..base
        };
        assert!(matches!(
            plan(&bad, &mut m),
            Err(PlanError::CommittedOutOfRange { interval: 1, .. })
        ));
        let bad = PlanInput {
            switching: Switching {
                start: -1.0,
                stop: 0.0,
            },
            ..base
        };
        assert!(matches!(
            plan(&bad, &mut m),
            Err(PlanError::BadSwitching { .. })
        ));
        // Fully committed plans are fine; an empty plan is empty.
        let full = PlanInput {
            committed: &[1, 2],
            ..base
        };
        assert_eq!(plan(&full, &mut m).unwrap().replicas, vec![1, 2]);
        let empty = PlanInput {
            intervals: 0,
            ..base
        };
        assert_eq!(plan(&empty, &mut m).unwrap().replicas, Vec::<u32>::new());
    }

    fn queueing_setup() -> (ViolationModel, Prices) {
        let service = ServiceSpec::Exponential {
            mean: SimDuration::from_millis(100),
        };
        (
            ViolationModel::new(&service, 1, Dispatch::Shared, 0.5),
            Prices {
                interval_s: 60.0,
                replica_hour: 0.04,
                violation_penalty: 1e-4,
            },
        )
    }

    /// A diurnal-looking rate series, in requests per second.
    fn rates(t: usize) -> Vec<f64> {
        (0..t)
            .map(|i| 300.0 + 250.0 * (i as f64 / 20.0).sin() + 40.0 * ((i * 7 % 5) as f64))
            .collect()
    }

    #[test]
    fn queueing_plan_beats_perturbed_plans() {
        // The oracle's plan is at least as good as any other plan under its own model.
        let (model, prices) = queueing_setup();
        let rates = rates(60);
        let sw = Switching {
            start: 0.002,
            stop: 0.001,
        };
        let input = PlanInput {
            intervals: rates.len(),
            min_replicas: 1,
            max_replicas: 150,
            initial: 40,
            committed: &[40],
            switching: sw,
        };
        let mut costs = RateCosts {
            rates: &rates,
            violations: &model,
            prices,
        };
        let p = plan(&input, &mut costs).unwrap();
        let own = evaluate(&p.replicas, 40, sw, &mut costs);
        assert!((own - p.objective).abs() <= 1e-9 * own);
        assert!(
            (own - brute_force(&input, &mut costs)).abs() <= 1e-9 * own,
            "matches the O(T·R²) optimum"
        );
        let mut rng = rng::stream(9, 0, "dp-perturb");
        for _ in 0..200 {
            let mut other = p.replicas.clone();
            let t = rng.random_range(1..other.len());
            let delta = rng.random_range(-3i64..=3);
            let len = rng.random_range(1..=5usize);
            for x in other.iter_mut().skip(t).take(len) {
                *x = (*x as i64 + delta).clamp(1, 150) as u32;
            }
            assert!(evaluate(&other, 40, sw, &mut costs) >= own - 1e-9 * own);
        }
        // A plan that follows the load keeps the violation term small but not zero.
        assert!(
            p.replicas
                .iter()
                .zip(&rates)
                .all(|(&n, &r)| n as f64 > r / 10.0)
        );
    }

    #[test]
    fn receding_horizon_with_perfect_forecast_reproduces_the_oracle() {
        let (model, prices) = queueing_setup();
        let rates = rates(80);
        for (d, sw) in [
            (0usize, Switching::default()),
            (
                1,
                Switching {
                    start: 0.003,
                    stop: 0.0,
                },
            ),
            (
                2,
                Switching {
                    start: 0.001,
                    stop: 0.002,
                },
            ),
        ] {
            let initial = 30;
            let committed0 = vec![initial; d];
            let input = PlanInput {
                intervals: rates.len(),
                min_replicas: 1,
                max_replicas: 120,
                initial,
                committed: &committed0,
                switching: sw,
            };
            let mut costs = RateCosts {
                rates: &rates,
                violations: &model,
                prices,
            };
            let oracle = plan(&input, &mut costs).unwrap().replicas;
            let mpc = RecedingHorizon {
                violations: model.clone(),
                prices,
                min_replicas: 1,
                max_replicas: 120,
                switching: sw,
            };
            // Walk the run: at interval t the pipeline holds the oracle's next d values.
            for t in 0..rates.len() - d {
                let ready = if t == 0 { initial } else { oracle[t - 1] };
                let committed = &oracle[t..t + d];
                let x = mpc.decide(ready, committed, &rates[t..]).unwrap();
                assert_eq!(x, oracle[t + d], "d={d} t={t}");
            }
        }
    }
}
