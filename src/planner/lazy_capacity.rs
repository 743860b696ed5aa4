//! Lazy Capacity Provisioning (LCP): an online algorithm with a proven competitive ratio, as a
//! baseline from the literature.
//!
//! Source: Lin, Wierman, Andrew, Thereska, "Dynamic right-sizing for power-proportional data
//! centers" (INFOCOM 2011; IEEE/ACM ToN 2013), for the problem
//! `min Σ_t g_t(x_t) + β Σ_t (x_t - x_{t-1})⁺` with convex `g_t`; the integer version is
//! Albers & Quedenfeld, "Optimal algorithms for right-sizing data centers" (SPAA 2018,
//! arXiv 1807.05112), who show LCP is 3-competitive there too.
//!
//! Rules reproduced. At each interval `τ`, once `g_τ` is known:
//! - `x^L_τ` is the smallest final state of an optimal schedule for intervals `0..=τ` when
//!   switching costs `β` per container started (`Σ β (x_t - x_{t-1})⁺`);
//! - `x^U_τ` is the largest final state of an optimal schedule for the same intervals when
//!   switching costs `β` per container stopped (`Σ β (x_{t-1} - x_t)⁺`; this differs from the
//!   first by the cost of powering the final state down, hence "with the final-state switching
//!   cost");
//! - LCP moves lazily: `x_τ = min(max(x_{τ-1}, x^L_τ), x^U_τ)`, the previous state projected
//!   onto `[x^L_τ, x^U_τ]` (for convex costs `x^L_τ ≤ x^U_τ`).
//!
//! Both bounds come from forward dynamic programs over the truncated problem, updated in
//! `O(R)` per interval with the same prefix/suffix minima as [`super::schedule`]. With separate start
//! and stop prices, `β = start + stop`: over a schedule the stops equal the starts minus the net
//! change, so the two models differ only by a term in the final state, which is exactly the
//! difference between the two truncated problems above.
//!
//! LCP sees each interval's costs when it decides that interval; in the simulator those are
//! the costs of the interval that just ended (it has no forecast). The queueing stage costs
//! are convex in the number of containers wherever the queue is stable, but not at the onset
//! of stability, where the violation probability drops from 1: there the 3-competitive
//! guarantee holds only approximately (LCP itself is well defined for any costs; if the
//! bounds ever cross, `x^U` wins).

use super::schedule::{PlanError, StageCosts, Switching};

/// The online LCP state.
#[derive(Clone, Debug)]
pub struct Lcp {
    min: u32,
    beta: f64,
    /// `F^L(n)`: the cheapest truncated schedule ending at `n`, β per start (minus a constant).
    lower: Vec<f64>,
    /// `F^U(n)`: the same with β per stop.
    upper: Vec<f64>,
    scratch: Vec<f64>,
    initial: u32,
    x: u32,
    steps: usize,
    bounds: (u32, u32),
}

impl Lcp {
    /// LCP over counts `min..=max`, starting from `initial` containers (which may lie outside
    /// the bounds), with `β = switching.start + switching.stop`.
    pub fn new(min: u32, max: u32, switching: Switching, initial: u32) -> Result<Lcp, PlanError> {
        if min > max {
            return Err(PlanError::EmptyRange { min, max });
        }
        let beta = switching.start + switching.stop;
        if !(switching.start >= 0.0 && switching.stop >= 0.0 && beta.is_finite()) {
            return Err(PlanError::BadSwitching {
                start: switching.start,
                stop: switching.stop,
            });
        }
        let r = (max - min) as usize + 1;
        Ok(Lcp {
            min,
            beta,
            lower: vec![0.0; r],
            upper: vec![0.0; r],
            scratch: vec![0.0; r],
            initial,
            x: initial,
            steps: 0,
            bounds: (initial, initial),
        })
    }

    /// The current state (the initial one before the first step).
    pub fn current(&self) -> u32 {
        self.x
    }

    /// `(x^L, x^U)` of the last step.
    pub fn bounds(&self) -> (u32, u32) {
        self.bounds
    }

    /// Takes the next interval's stage costs for counts `min..=max` and returns the number of
    /// containers LCP runs in it.
    pub fn step(&mut self, costs: &[f64]) -> u32 {
        assert_eq!(costs.len(), self.lower.len(), "one cost per replica count");
        let beta = self.beta;
        if self.steps == 0 {
            let p = self.initial as f64 - self.min as f64;
            for (n, (l, u)) in self.lower.iter_mut().zip(&mut self.upper).enumerate() {
                let d = n as f64 - p;
                *l = costs[n] + beta * d.max(0.0);
                *u = costs[n] + beta * (-d).max(0.0);
            }
        } else {
            relax(&mut self.lower, &mut self.scratch, beta, 0.0);
            relax(&mut self.upper, &mut self.scratch, 0.0, beta);
            for (n, &c) in costs.iter().enumerate() {
                self.lower[n] += c;
                self.upper[n] += c;
            }
        }
        normalise(&mut self.lower);
        normalise(&mut self.upper);
        // Smallest argmin of F^L, largest argmin of F^U.
        let lo = argmin_first(&self.lower);
        let hi = argmin_last(&self.upper);
        let (xl, xu) = (self.min + lo as u32, self.min + hi as u32);
        self.bounds = (xl, xu);
        self.x = self.x.max(xl).min(xu);
        self.steps += 1;
        self.x
    }

    /// Runs LCP over intervals `0..intervals` of a cost table and returns its states.
    pub fn run(&mut self, costs: &mut impl StageCosts, intervals: usize) -> Vec<u32> {
        let mut column = vec![0.0; self.lower.len()];
        (0..intervals)
            .map(|t| {
                costs.fill(t, self.min, &mut column);
                self.step(&column)
            })
            .collect()
    }
}

/// `f(n) ← min_m [f(m) + up·(n - m)⁺ + down·(m - n)⁺]` in `O(R)`.
fn relax(f: &mut [f64], suffix: &mut [f64], up: f64, down: f64) {
    let r = f.len();
    let mut best = f64::INFINITY;
    for n in (0..r).rev() {
        best = best.min(f[n] + down * n as f64);
        suffix[n] = best;
    }
    let mut best = f64::INFINITY;
    for n in 0..r {
        best = best.min(f[n] - up * n as f64);
        let nf = n as f64;
        f[n] = (best + up * nf).min(suffix[n] - down * nf);
    }
}

/// Subtracts the minimum (keeps the values small; argmins are unchanged).
fn normalise(f: &mut [f64]) {
    let m = f.iter().copied().fold(f64::INFINITY, f64::min);
    if m.is_finite() {
        for v in f.iter_mut() {
            *v -= m;
        }
    }
}

fn argmin_first(f: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in f.iter().enumerate() {
        if v < f[best] {
            best = i;
        }
    }
    best
}

fn argmin_last(f: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in f.iter().enumerate() {
        if v <= f[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::schedule::{CostMatrix, PlanInput, evaluate, plan};
    use crate::rng;
    use rand::RngExt;

    /// Random convex rows over counts lo..=hi: nondecreasing differences. Values are
    /// multiples of 1/8 with small magnitude, so every sum is exact.
    fn convex_matrix(rng: &mut rng::SimRng, t: usize, lo: u32, hi: u32) -> CostMatrix {
        let rows: Vec<Vec<f64>> = (0..t)
            .map(|_| {
                let r = (hi - lo) as usize + 1;
                let mut diffs: Vec<i64> = (1..r).map(|_| rng.random_range(-40..40)).collect();
                diffs.sort_unstable();
                let mut v = rng.random_range(0..200i64);
                let mut row = vec![v as f64 / 8.0];
                for d in diffs {
                    v += d;
                    row.push(v as f64 / 8.0);
                }
                row
            })
            .collect();
        CostMatrix::from_rows(lo, &rows)
    }

    /// The final states of all optimal schedules of intervals 0..=tau, by enumeration, with
    /// `up` per start and `down` per stop.
    fn optimal_finals(
        m: &mut CostMatrix,
        tau: usize,
        lo: u32,
        hi: u32,
        initial: u32,
        sw: Switching,
    ) -> Vec<u32> {
        let len = tau + 1;
        let mut x = vec![lo; len];
        let mut best = f64::INFINITY;
        let mut finals = Vec::new();
        loop {
            let c = evaluate(&x, initial, sw, m);
            if c < best {
                best = c;
                finals.clear();
            }
            if c == best && !finals.contains(&x[tau]) {
                finals.push(x[tau]);
            }
            let mut i = 0;
            loop {
                if i == len {
                    return finals;
                }
                if x[i] < hi {
                    x[i] += 1;
                    break;
                }
                x[i] = lo;
                i += 1;
            }
        }
    }

    #[test]
    fn follows_its_definition_on_small_instances() {
        let mut rng = rng::stream(3, 0, "lcp-definition");
        for case in 0..150 {
            let t = rng.random_range(1..6usize);
            let lo = rng.random_range(0..2u32);
            let hi = lo + rng.random_range(0..4u32);
            let mut m = convex_matrix(&mut rng, t, lo, hi);
            let beta = rng.random_range(0..40) as f64 / 4.0;
            let initial = rng.random_range(0..hi + 2);
            // Start and stop prices that add up to β.
            let split = rng.random_range(0..=4) as f64 / 4.0;
            let sw = Switching {
                start: beta * split,
                stop: beta * (1.0 - split),
            };
            let mut lcp = Lcp::new(lo, hi, sw, initial).unwrap();
            let mut prev = initial;
            for tau in 0..t {
                let mut col = vec![0.0; (hi - lo) as usize + 1];
                m.fill(tau, lo, &mut col);
                let x = lcp.step(&col);
                let up_only = Switching {
                    start: beta,
                    stop: 0.0,
                };
                let down_only = Switching {
                    start: 0.0,
                    stop: beta,
                };
                let xl = *optimal_finals(&mut m, tau, lo, hi, initial, up_only)
                    .iter()
                    .min()
                    .unwrap();
                let xu = *optimal_finals(&mut m, tau, lo, hi, initial, down_only)
                    .iter()
                    .max()
                    .unwrap();
                assert_eq!(lcp.bounds(), (xl, xu), "case {case} tau {tau}");
                assert!(xl <= xu, "convex costs keep the bounds ordered");
                assert_eq!(x, prev.clamp(xl, xu), "case {case} tau {tau}");
                prev = x;
            }
        }
    }

    #[test]
    fn is_within_three_times_the_offline_optimum() {
        let mut rng = rng::stream(4, 0, "lcp-ratio");
        let mut worst: f64 = 0.0;
        for case in 0..300 {
            let t = rng.random_range(5..60usize);
            let hi = rng.random_range(1..40u32);
            let mut m = convex_matrix(&mut rng, t, 0, hi);
            // Shift rows to be non-negative, as the competitive analysis assumes.
            let rows: Vec<Vec<f64>> = (0..t)
                .map(|i| {
                    let row: Vec<f64> = (0..=hi).map(|n| m.get(i, n)).collect();
                    let min = row.iter().copied().fold(f64::INFINITY, f64::min);
                    row.iter().map(|v| v - min + 1.0).collect()
                })
                .collect();
            m = CostMatrix::from_rows(0, &rows);
            let sw = Switching {
                start: rng.random_range(0..200) as f64 / 8.0,
                stop: 0.0,
            };
            let mut lcp = Lcp::new(0, hi, sw, 0).unwrap();
            let xs = lcp.run(&mut m, t);
            let online = evaluate(&xs, 0, sw, &mut m);
            let input = PlanInput {
                intervals: t,
                min_replicas: 0,
                max_replicas: hi,
                initial: 0,
                committed: &[],
                switching: sw,
            };
            let opt = plan(&input, &mut m).unwrap().objective;
            assert!(online >= opt, "case {case}");
            assert!(online <= 3.0 * opt, "case {case}: {online} vs {opt}");
            worst = worst.max(online / opt);
        }
        assert!(worst > 1.0, "LCP is not optimal on every instance");
    }

    #[test]
    fn stays_put_when_switching_is_expensive_and_follows_when_free() {
        // Counts 0..=3; the cheapest count alternates between 0 and 3.
        let rows = vec![
            vec![0.0, 1.0, 2.0, 3.0],
            vec![3.0, 2.0, 1.0, 0.0],
            vec![0.0, 1.0, 2.0, 3.0],
            vec![3.0, 2.0, 1.0, 0.0],
        ];
        let mut m = CostMatrix::from_rows(0, &rows);
        let free = Switching::default();
        assert_eq!(
            Lcp::new(0, 3, free, 0).unwrap().run(&mut m, 4),
            [0, 3, 0, 3]
        );
        // β = 10: powering up never pays within four intervals; LCP stays at 0.
        let dear = Switching {
            start: 10.0,
            stop: 0.0,
        };
        assert_eq!(
            Lcp::new(0, 3, dear, 0).unwrap().run(&mut m, 4),
            [0, 0, 0, 0]
        );
        // From 3 with β = 10: in the lower problem (β per start) the best final state is 0;
        // in the upper one (β per stop) it is 3. LCP lazily stays at 3, inside [0, 3].
        let dear_stop = Switching {
            start: 0.0,
            stop: 10.0,
        };
        let mut lcp = Lcp::new(0, 3, dear_stop, 3).unwrap();
        assert_eq!(lcp.step(&rows[0]), 3);
        assert_eq!(lcp.bounds(), (0, 3));
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Lcp::new(3, 2, Switching::default(), 0).is_err());
        let bad = Switching {
            start: -1.0,
            stop: 0.0,
        };
        assert!(Lcp::new(0, 2, bad, 0).is_err());
    }
}
