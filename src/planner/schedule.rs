//! The dynamic-programming planner: the replica plan that minimises replica cost plus expected
//! SLO-violation penalty plus switching cost over a finite horizon, exactly for its model.
//!
//! Model. Time is cut into intervals `t = 0..T`. The plan is `x_t`, the number of containers
//! ready in interval `t`, with `min_replicas ≤ x_t ≤ max_replicas`. Running `n` containers in
//! interval `t` costs `c_t(n)`, given by a [`StageCosts`] (usually [`RateCosts`]:
//! `n · interval · price + penalty · rate_t · interval · P(latency > slo | rate_t, n)`).
//! Going from `m` to `n` containers costs `start · (n - m)⁺ + stop · (m - n)⁺`. The objective
//! is `Σ_t c_t(x_t) + Σ_t switch(x_{t-1}, x_t)` with `x_{-1}` the replicas ready before the
//! plan.
//!
//! Start-up delay. A container takes `d` intervals to start. `committed[s]` is what will be
//! ready in interval `s < d` as things stand (ready plus starting containers due by then). A
//! decision is a desired total, actuated as the simulator does: raising it starts containers
//! that are ready `d` intervals later; lowering it cancels starting containers (latest first),
//! then drains ready ones at once. So over the committed intervals a plan either keeps them
//! (`x_s = committed[s]`) or, from the first interval `f < d` where it falls
//! (`x_f ≤ committed[f]`), has cancelled every starting container and cannot rise again
//! through interval `d`: `x_f ≥ x_{f+1} ≥ ... ≥ x_d`. After that, and from interval `d` for a
//! plan that kept everything, `x_t` is free: a rise is asked for `d` intervals ahead, a fall
//! happens at once. The decision to make now is `x_0` if the plan falls at interval 0, else
//! `max(committed[d-1], x_d)` if it keeps everything, else `committed[d-1]` (the fall is
//! decided later). With `d = 0` the decision is `x_0`, free.
//!
//! The free intervals are relaxed in one respect: the planner does not forbid a rise within
//! `d` intervals of a fall, which the actuation cannot carry out (drained containers are gone
//! and new ones take `d` intervals). Optimal plans contain such dips only when switching is
//! nearly free and the load dips briefly. A plan is carried out by asking, at each interval
//! `t` after the first, for `max(x_t, ..., x_{t+d})` ([`desired_totals`]): this realises a
//! plan without dips exactly and keeps the containers through a dip otherwise.
//!
//! Algorithm. Backward induction: `V_T = 0`, and for the previous state `m`,
//! `V_t(m) = min_n [c_t(n) + V_{t+1}(n) + switch(m, n)]`. Because the switching cost is linear
//! on each side of `m`, the minimum splits into a suffix minimum of `W(n) + start·n` over
//! `n ≥ m` and a prefix minimum of `W(n) - stop·n` over `n ≤ m` (with `W = c_t + V_{t+1}`),
//! so each interval costs `O(R)` and a plan `O(T·R)` time, with `R` the number of replica
//! counts. The argmin of each `(t, m)` is kept (4 bytes each) to read the plan forwards.
//! The committed intervals take one more pass of running minima (counts can only fall after a
//! fall there) and a chain over the committed counts, `O(d·R)`.
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

    /// The probability every count comes down to as it grows, at any rate (the service-time
    /// floor `P(S > slo)`), if the model has one: counts whose probability is within a
    /// relative `1e-9` of it are priced as it without being computed. `None` (the default)
    /// prices every count.
    fn floor(&self) -> Option<f64> {
        None
    }

    /// A number of counts from 0 up that violate every request at `rate` (the unstable
    /// ones, or fewer): they are priced at probability 1 without being computed. 0 (the
    /// default) computes every count.
    fn unstable_below(&self, _rate: f64) -> u32 {
        0
    }
}

impl ViolationColumns for ViolationModel {
    fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
        ViolationModel::fill(self, rate, first, out)
    }

    fn floor(&self) -> Option<f64> {
        Some(self.service_tail())
    }

    fn unstable_below(&self, rate: f64) -> u32 {
        self.unstable_below(rate)
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
    /// Containers that will be ready in intervals `0..d` as things stand (ready plus starting
    /// containers due by then, so non-decreasing); its length is the start-up delay `d` in
    /// intervals and may exceed the plan's. Each lies within the bounds. The plan can lower
    /// these intervals but not raise them; see the module documentation.
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
    /// The decision to make now: the desired total number of containers (ready plus
    /// starting); see the module documentation. `None` only for a plan of zero intervals.
    pub decision: Option<u32>,
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
    #[error("committed replicas fall at interval {interval}; what is ready or starting only grows")]
    CommittedDecreasing { interval: usize },
    #[error("a receding-horizon plan needs a forecast of at least one interval")]
    EmptyForecast,
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
    if let Some(interval) = input.committed.windows(2).position(|w| w[1] < w[0]) {
        return Err(PlanError::CommittedDecreasing {
            interval: interval + 1,
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

/// The desired totals that carry out a plan whose containers take `d` intervals to start:
/// at interval `t`, `max(x_t, ..., x_{t+d})` (the window is cut at the end of the plan).
/// Asking for this keeps every container a later interval of the window needs and starts
/// new ones exactly `d` intervals ahead.
pub fn desired_totals(replicas: &[u32], d: usize) -> Vec<u32> {
    (0..replicas.len())
        .map(|t| {
            replicas[t..(t + d + 1).min(replicas.len())]
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Scratch space of one backward-induction stage.
struct Scratch {
    suf_val: Vec<f64>,
    suf_arg: Vec<u32>,
}

/// One backward-induction stage: from `w` (stage cost plus cost-to-go for every count, `+∞`
/// where a count is not allowed) to the cost-to-go `v(m) = min_n [switch(m, n) + w(n)]` for
/// every previous count `m`, with the argmins in `row`. `O(R)`: a suffix minimum of
/// `w(n) + start·n` (ties to the smaller n) and a prefix minimum of `w(n) - stop·n` (ties to
/// the larger n); the prefix side wins ties between the two.
fn stage(w: &[f64], sw: Switching, v: &mut [f64], row: &mut [u32], scratch: &mut Scratch) {
    let r = w.len();
    let (start, stop) = (sw.start, sw.stop);
    let Scratch { suf_val, suf_arg } = scratch;
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

/// A stage where the count can only fall: `v(m) = min_{n ≤ m} [stop·(m - n) + w(n)]`, argmins
/// in `row` (ties to the larger n).
fn down_stage(w: &[f64], stop: f64, v: &mut [f64], row: &mut [u32]) {
    let mut best = f64::INFINITY;
    let mut arg = 0u32;
    for m in 0..w.len() {
        let val = w[m] - stop * m as f64;
        if val <= best {
            best = val;
            arg = m as u32;
        }
        v[m] = best + stop * m as f64;
        row[m] = arg;
    }
}

/// `w = c_t + v` over the range.
fn stage_input(costs: &mut impl StageCosts, t: usize, lo: u32, v: &[f64], w: &mut [f64]) {
    costs.fill(t, lo, w);
    for (wi, vi) in w.iter_mut().zip(v) {
        *wi += *vi;
    }
}

/// The best fall at a committed interval: `min_{n ≤ cap} [switch(from, n) + w(n)]` (ties to
/// the larger n).
fn best_fall(w: &[f64], from: i64, cap: usize, sw: Switching) -> (f64, usize) {
    let mut best = (f64::INFINITY, 0usize);
    for (n, &wn) in w.iter().enumerate().take(cap + 1) {
        let dn = n as i64 - from;
        let s = if dn >= 0 {
            sw.start * dn as f64
        } else {
            sw.stop * (-dn) as f64
        };
        let total = s + wn;
        if total <= best.0 {
            best = (total, n);
        }
    }
    best
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
            decision: None,
        });
    }
    let d = input.committed.len();
    let lo = input.min_replicas;
    let r = (input.max_replicas - lo) as usize + 1;
    let sw = input.switching;
    let cidx = |s: usize| (input.committed[s] - lo) as usize;

    // Backward induction over the free intervals T-1 down to max(d, 1); row t-1 holds the
    // argmins of interval t.
    let mut v = vec![0.0f64; r];
    let mut w = vec![0.0f64; r];
    let mut next = vec![0.0f64; r];
    let mut scratch = Scratch {
        suf_val: vec![0.0; r],
        suf_arg: vec![0; r],
    };
    let mut rows = vec![0u32; (t_len - 1) * r];
    // V_{d+1}: the cost-to-go after the last interval a fall before d constrains.
    let mut after_d = vec![0.0f64; r];
    for t in (d.max(1)..t_len).rev() {
        if t == d {
            after_d.copy_from_slice(&v);
        }
        stage_input(costs, t, lo, &v, &mut w);
        stage(
            &w,
            sw,
            &mut next,
            &mut rows[(t - 1) * r..t * r],
            &mut scratch,
        );
        std::mem::swap(&mut v, &mut next);
    }
    // v is now V_{max(d,1)} (zero if that is past the plan).
    let mut first = vec![0.0f64; r];
    costs.fill(0, lo, &mut first);
    let follow = |mut idx: usize, from: usize, replicas: &mut Vec<u32>| {
        for t in from..t_len {
            idx = rows[(t - 1) * r + idx] as usize;
            replicas.push(lo + idx as u32);
        }
    };
    let mut replicas = Vec::with_capacity(t_len);

    if d == 0 {
        for (wi, (c, vi)) in w.iter_mut().zip(first.iter().zip(&v)) {
            *wi = c + vi;
        }
        let (objective, x0) = best_from(&w, input.initial as i64 - lo as i64, sw);
        replicas.push(lo + x0 as u32);
        follow(x0, 1, &mut replicas);
        return Ok(Plan {
            replicas,
            objective,
            decision: Some(lo + x0 as u32),
        });
    }

    // The committed intervals 0..window. A plan keeps them ("pristine") until it falls at
    // some interval f < window (x_f ≤ committed[f]); a fall cancels every starting container,
    // so the count cannot rise again through interval d. Down-only stages 1..=last_down give
    // D_s(m), the cost-to-go from stage s after a fall, with x_{s-1} = m.
    let window = d.min(t_len);
    let last_down = d.min(t_len - 1);
    let mut down_rows = vec![0u32; last_down * r];
    let mut dv = after_d;
    // fall[s] = (value, x_s) of falling at interval s from a pristine x_{s-1}, for 1 ≤ s < window.
    let mut fall = vec![(f64::INFINITY, 0usize); window];
    for s in (1..=last_down).rev() {
        stage_input(costs, s, lo, &dv, &mut w);
        if s < window {
            fall[s] = best_fall(&w, cidx(s - 1) as i64, cidx(s), sw);
        }
        down_stage(&w, sw.stop, &mut next, &mut down_rows[(s - 1) * r..s * r]);
        std::mem::swap(&mut dv, &mut next);
    }
    // dv is now D_1 (zero for a one-interval plan).

    // Pristine chain, backwards: `after` is the best value from interval s on given a
    // pristine x_{s-1}; `falls[s]` whether that best falls at s (rather than keep).
    let mut after = if window < t_len {
        // Interval d is free: the table's cost-to-go from the last committed count.
        v[cidx(d - 1)]
    } else {
        0.0
    };
    let mut falls = vec![false; window];
    for s in (1..window).rev() {
        let keep = sw.cost(input.committed[s - 1], input.committed[s])
            + costs.cost(s, input.committed[s])
            + after;
        falls[s] = fall[s].0 < keep;
        after = if falls[s] { fall[s].0 } else { keep };
    }
    // Interval 0: keep what is committed, or lower now to y ≤ committed[0].
    let c0 = cidx(0);
    let keep = sw.cost(input.initial, input.committed[0]) + first[c0] + after;
    let mut objective = keep;
    let mut lowered = None;
    for y in (0..=c0).rev() {
        let total = sw.cost(input.initial, lo + y as u32) + first[y] + dv[y];
        if total < objective {
            objective = total;
            lowered = Some(y);
        }
    }

    let fallen_path = |x0: usize, from: usize, replicas: &mut Vec<u32>| {
        let mut idx = x0;
        for s in from..=last_down {
            idx = down_rows[(s - 1) * r + idx] as usize;
            replicas.push(lo + idx as u32);
        }
        follow(idx, last_down + 1, replicas);
    };
    let decision = match lowered {
        Some(y) => {
            replicas.push(lo + y as u32);
            fallen_path(y, 1, &mut replicas);
            lo + y as u32
        }
        None => {
            // Pristine until the first interval whose best choice is to fall.
            let stop_at = (1..window).find(|&s| falls[s]);
            let pristine_end = stop_at.unwrap_or(window);
            replicas.extend_from_slice(&input.committed[..pristine_end]);
            match stop_at {
                Some(f) => {
                    let xf = fall[f].1;
                    replicas.push(lo + xf as u32);
                    fallen_path(xf, f + 1, &mut replicas);
                }
                None => follow(cidx(window - 1), window, &mut replicas),
            }
            let last = input.committed[d - 1];
            if stop_at.is_none() && d < t_len {
                last.max(replicas[d])
            } else {
                last
            }
        }
    };
    Ok(Plan {
        replicas,
        objective,
        decision: Some(decision),
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
/// plan's first decision (receding horizon).
#[derive(Clone, Debug)]
pub struct RecedingHorizon<V> {
    pub violations: V,
    pub prices: Prices,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub switching: Switching,
}

impl<V: ViolationColumns> RecedingHorizon<V> {
    /// Plans over `forecast` (arrival rates for the coming intervals, the one starting now
    /// first) and returns the desired total number of containers to ask for now.
    ///
    /// `previous` is the number of containers ready in the interval that just ended (the
    /// switching costs start from it); `committed[s]` is the number that will be ready in
    /// the `s`-th coming interval as things stand, for the `d` intervals a start takes. The
    /// forecast must not be empty; a forecast shorter than `d + 1` intervals can only lower
    /// the committed containers.
    pub fn decide(
        &self,
        previous: u32,
        committed: &[u32],
        forecast: &[f64],
    ) -> Result<u32, PlanError> {
        let plan = self.plan(previous, committed, forecast)?;
        Ok(plan
            .decision
            .expect("a plan of at least one interval has a decision"))
    }

    /// The whole plan over the forecast horizon (see [`RecedingHorizon::decide`]).
    pub fn plan(
        &self,
        previous: u32,
        committed: &[u32],
        forecast: &[f64],
    ) -> Result<Plan, PlanError> {
        if forecast.is_empty() {
            return Err(PlanError::EmptyForecast);
        }
        let input = PlanInput {
            intervals: forecast.len(),
            min_replicas: self.min_replicas,
            max_replicas: self.max_replicas,
            initial: previous,
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

    /// The modes a plan can be in after moving to `n` at interval `t` from `m` in mode
    /// `fallen` (false: still keeping what is committed; true: fell at a committed interval,
    /// so it cannot rise through interval d). Interval 0 starts from `m = initial` in the
    /// keeping mode.
    fn next_modes(input: &PlanInput, fallen: bool, t: usize, n: u32, m: u32) -> Vec<bool> {
        let d = input.committed.len();
        if d == 0 {
            return vec![false];
        }
        let mut out = Vec::new();
        if fallen {
            if t > d || n <= m {
                out.push(true);
            }
        } else if t >= d {
            out.push(false);
        } else {
            if n == input.committed[t] {
                out.push(false);
            }
            if n <= input.committed[t] {
                out.push(true);
            }
        }
        out
    }

    /// The optimum by forward DP over every pair (m, n) and mode: O(T·R²), no running minima.
    fn brute_force(input: &PlanInput, costs: &mut impl StageCosts) -> f64 {
        let (lo, hi) = (input.min_replicas, input.max_replicas);
        // f[(n, fallen)] = best cost so far.
        let mut f: Vec<(u32, bool, f64)> = Vec::new();
        for n in lo..=hi {
            for mode in next_modes(input, false, 0, n, input.initial) {
                f.push((
                    n,
                    mode,
                    input.switching.cost(input.initial, n) + costs.cost(0, n),
                ));
            }
        }
        for t in 1..input.intervals {
            let mut g: Vec<(u32, bool, f64)> = Vec::new();
            for n in lo..=hi {
                for target in [false, true] {
                    let best = f
                        .iter()
                        .filter(|&&(m, mode, _)| next_modes(input, mode, t, n, m).contains(&target))
                        .map(|&(m, _, fm)| fm + input.switching.cost(m, n))
                        .fold(f64::INFINITY, f64::min);
                    if best < f64::INFINITY {
                        g.push((n, target, best + costs.cost(t, n)));
                    }
                }
            }
            f = g;
        }
        f.iter().map(|p| p.2).fold(f64::INFINITY, f64::min)
    }

    /// Whether `x` is a plan the model allows.
    fn admissible(input: &PlanInput, x: &[u32]) -> bool {
        let mut modes = next_modes(input, false, 0, x[0], input.initial);
        for t in 1..x.len() {
            let mut next: Vec<bool> = modes
                .iter()
                .flat_map(|&mode| next_modes(input, mode, t, x[t], x[t - 1]))
                .collect();
            next.dedup();
            modes = next;
        }
        !modes.is_empty()
    }

    /// Every plan, enumerated.
    fn exhaustive(input: &PlanInput, costs: &mut impl StageCosts) -> f64 {
        let (lo, hi) = (input.min_replicas, input.max_replicas);
        let mut best = f64::INFINITY;
        let mut x = vec![lo; input.intervals];
        loop {
            if admissible(input, &x) {
                best = best.min(evaluate(&x, input.initial, input.switching, costs));
            }
            let mut t = 0;
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
        for case in 0..500 {
            let t = rng.random_range(1..8usize);
            let lo = rng.random_range(0..3u32);
            let hi = lo + rng.random_range(0..6u32);
            let mut m = random_matrix(&mut rng, t, lo, hi);
            // Start-up delays up to one more than the plan; committed counts non-decreasing.
            let d = rng.random_range(0..4usize).min(t + 1);
            let mut committed: Vec<u32> = (0..d).map(|_| rng.random_range(lo..=hi)).collect();
            committed.sort_unstable();
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
            assert!(p.replicas.iter().all(|&x| (lo..=hi).contains(&x)));
            assert_eq!(
                evaluate(&p.replicas, input.initial, switching, &mut m),
                want
            );
            assert!(admissible(&input, &p.replicas), "case {case}");
            let y = p.decision.unwrap();
            let x = &p.replicas;
            if d == 0 || x[0] < committed[0] {
                assert_eq!(y, x[0], "case {case}");
            } else if d < t && x[..d] == committed[..] {
                assert!(y == committed[d - 1].max(x[d]) || y == x[0], "case {case}");
            } else {
                assert!(y == committed[d - 1] || y == x[0], "case {case}");
            }
            if (hi - lo + 1).pow(t as u32) <= 50_000 {
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
        // A start-up delay of one interval, 1 container committed for interval 0. Asking for
        // 0 now gives [0, 0] (4); for 1, [1, then ≤ 1]: best [1, 0] (2); for 2, [1, 2] (4).
        // So keep 1 now and fall at interval 1.
        let input = PlanInput {
            committed: &[1],
            ..free(Switching::default())
        };
        let p = plan(&input, &mut m).unwrap();
        assert_eq!(
            (p.replicas, p.objective, p.decision),
            (vec![1, 0], 2.0, Some(1))
        );
        // Lowering now: 2 committed, both intervals cheapest at 0.
        let mut low = CostMatrix::from_rows(0, &[vec![0.0, 1.0, 2.0], vec![0.0, 1.0, 2.0]]);
        let input = PlanInput {
            initial: 2,
            committed: &[2],
            ..free(Switching::default())
        };
        let p = plan(&input, &mut low).unwrap();
        assert_eq!(
            (p.replicas, p.objective, p.decision),
            (vec![0, 0], 0.0, Some(0))
        );
        // Rising: the containers asked for now are ready in interval 1.
        let mut rise = CostMatrix::from_rows(0, &[vec![0.0, 0.0, 0.0], vec![5.0, 5.0, 0.0]]);
        let input = PlanInput {
            committed: &[0],
            ..free(Switching::default())
        };
        let p = plan(&input, &mut rise).unwrap();
        assert_eq!(
            (p.replicas, p.objective, p.decision),
            (vec![0, 2], 0.0, Some(2))
        );
        // A delay longer than the plan: the decision can only lower what is committed.
        let input = PlanInput {
            initial: 2,
            committed: &[2, 2, 2],
            ..free(Switching::default())
        };
        let p = plan(&input, &mut low).unwrap();
        assert_eq!(
            (p.replicas, p.objective, p.decision),
            (vec![0, 0], 0.0, Some(0))
        );
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
        let p = plan(&full, &mut m).unwrap();
        assert_eq!((p.replicas, p.decision), (vec![1, 2], Some(2)));
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

    /// The simulator's actuation: containers by the interval they are ready from; asking for
    /// more starts them `d` intervals ahead, asking for fewer cancels the latest first.
    fn actuate(due: &mut Vec<usize>, desired: u32, now: usize, d: usize) {
        let total = due.len();
        if desired as usize > total {
            due.extend(std::iter::repeat_n(now + d, desired as usize - total));
        } else {
            due.sort_unstable();
            due.truncate(desired as usize);
        }
    }

    fn ready_at(due: &[usize], t: usize) -> u32 {
        due.iter().filter(|&&u| u <= t).count() as u32
    }

    /// A smooth rate series: optimal plans on it never fall and rise again within a start-up
    /// delay, so the actuation realises them exactly.
    fn smooth_rates(t: usize) -> Vec<f64> {
        (0..t)
            .map(|i| 300.0 + 250.0 * (i as f64 / 12.0).sin())
            .collect()
    }

    #[test]
    fn receding_horizon_with_perfect_forecast_reproduces_the_oracle() {
        let (model, prices) = queueing_setup();
        let rates = smooth_rates(80);
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
            (
                3,
                Switching {
                    start: 0.002,
                    stop: 0.0,
                },
            ),
        ] {
            let initial = 30u32;
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
            let oracle = plan(&input, &mut costs).unwrap();
            let mpc = RecedingHorizon {
                violations: model.clone(),
                prices,
                min_replicas: 1,
                max_replicas: 120,
                switching: sw,
            };
            // The reproduction holds for plans the actuation can carry out: no rise within d
            // intervals of a fall.
            assert!(
                realisable(&oracle.replicas, d),
                "d={d}: {:?}",
                oracle.replicas
            );
            // Run the online planner through the actuation, with the rest of the run as its
            // (perfect) forecast.
            let mut due = vec![0usize; initial as usize];
            let mut previous = initial;
            let mut realised = Vec::new();
            for t in 0..rates.len() {
                let committed: Vec<u32> = (0..d).map(|s| ready_at(&due, t + s)).collect();
                let y = mpc.decide(previous, &committed, &rates[t..]).unwrap();
                actuate(&mut due, y, t, d);
                previous = ready_at(&due, t);
                realised.push(previous);
            }
            assert_eq!(realised, oracle.replicas, "d={d}");
            // Carrying out the oracle's own plan through the same actuation realises it too.
            let desired = desired_totals(&oracle.replicas, d);
            let mut due = vec![0usize; initial as usize];
            let mut carried = Vec::new();
            for (t, &y) in desired.iter().enumerate() {
                if t == 0 && d > 0 {
                    actuate(&mut due, oracle.decision.unwrap(), 0, d);
                } else {
                    actuate(&mut due, y, t, d);
                }
                carried.push(ready_at(&due, t));
            }
            assert_eq!(carried, oracle.replicas, "d={d}");
        }
    }

    /// Whether a plan never rises within `d` intervals of a fall.
    fn realisable(x: &[u32], d: usize) -> bool {
        (1..x.len()).all(|t| {
            x[t] >= x[t - 1] || (t + 1..=(t + d).min(x.len() - 1)).all(|u| x[u] <= x[u - 1])
        })
    }

    #[test]
    fn a_dip_shorter_than_the_start_up_delay_is_carried_out_conservatively() {
        // With free switching the plan may fall and rise again within d intervals; the
        // actuation cannot (the containers drained are gone, new ones take d intervals), so
        // carrying the plan out keeps the containers through the dip.
        let x = [8, 8, 7, 7, 8, 8];
        assert!(!realisable(&x, 3) && realisable(&x, 1));
        let desired = desired_totals(&x, 3);
        let mut due = vec![0usize; 8];
        let carried: Vec<u32> = desired
            .iter()
            .enumerate()
            .map(|(t, &y)| {
                actuate(&mut due, y, t, 3);
                ready_at(&due, t)
            })
            .collect();
        assert_eq!(carried, [8, 8, 8, 8, 8, 8]);
    }

    #[test]
    fn desired_totals_look_ahead_by_the_start_up_delay() {
        let x = [2, 5, 5, 3, 1, 1, 4];
        assert_eq!(desired_totals(&x, 0), x);
        assert_eq!(desired_totals(&x, 1), [5, 5, 5, 3, 1, 4, 4]);
        assert_eq!(desired_totals(&x, 2), [5, 5, 5, 3, 4, 4, 4]);
    }
}
