//! Forecast uncertainty for the online planner: the empirical distribution of its own past
//! forecast errors at the lead time that matters, and stage costs averaged over it.
//!
//! A decision taken now changes the number of ready containers `d` steps later (the start-up
//! delay), so what the online planner needs to know is how wrong its forecasts `d + 1` steps
//! ahead of the last observation have been. [`LeadErrors`] keeps those errors over a sliding
//! window, each with the level it was forecast at, and turns them into weighted scenarios
//! ([`LeadErrors::scenarios`]); [`ExpectedCosts`] prices each forecast step as the weighted
//! average stage cost over those scenarios: the expected cost under the recent error
//! distribution (a sample-average approximation of the stochastic problem). Because the
//! penalty grows steeply once a rate exceeds what the containers can serve, this keeps headroom
//! in proportion to how often and by how much the load has recently outrun the forecast, and
//! none on a load that is predicted exactly.
//!
//! Three choices make the error distribution fit the moment it is used at:
//! - **Square-root scale.** Errors are kept as `√y − √f` (observed minus forecast, in square
//!   roots of rates) and applied as `(√f + e)²`. Counting noise is Poisson-like, its spread
//!   grows as `√f`, and the square root makes it about the same at every level: noise seen at
//!   40 requests/s is not applied at full size to a forecast of 0.
//! - **Conditioned on the level.** An error weighs by how close the level it was forecast at
//!   is to the level forecast now (a Gaussian kernel in `√f`, of width
//!   `max(`[`LEVEL_BANDWIDTH_MIN`]`, `[`LEVEL_BANDWIDTH_FRACTION`]` · √f)`, cut off at
//!   [`KERNEL_CUTOFF`] widths): a surge seen from a
//!   low level is a risk at that level, not a reason to expect a second surge on top of the
//!   first. When the errors near the current level weigh less than
//!   [`MIN_EFFECTIVE_INTERVALS`] intervals' worth in total (a level seen rarely or never in the window), every error gets an equal share
//!   of the difference: the less the planner has seen of a level, the more it assumes that
//!   anything it has seen elsewhere may happen there.
//! - **The upper tail kept exactly.** The scenarios are the errors sorted and grouped from the
//!   largest down in groups of 1, 2, 4, 8, ... errors, each represented by its weighted mean:
//!   the largest error of a window of `W` keeps its own weight instead of being averaged away
//!   with smaller ones (averaging a rare surge away would price the planner's worst case, a
//!   surge it has no containers for, as a mild one).
//!
//! Everything is deterministic; each observation costs `O(1)` and each summary `O(W log W)`.

use super::schedule::{Prices, StageCosts, ViolationColumns};
use std::collections::VecDeque;

/// Smallest kernel width, in square roots of requests per second.
pub const LEVEL_BANDWIDTH_MIN: f64 = 0.5;
/// Kernel width relative to `√f`: levels within about ±30% weigh more than half.
pub const LEVEL_BANDWIDTH_FRACTION: f64 = 0.15;
/// The kernel is cut off beyond this many widths (an error from a level that far weighs 0).
pub const KERNEL_CUTOFF: f64 = 3.0;
/// The least total weight (in intervals) the errors near a level must have; short of it,
/// every error gets an equal share of the difference.
pub const MIN_EFFECTIVE_INTERVALS: f64 = 30.0;

/// One forecast error: the square root of the level forecast, and `√y − √f`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Error {
    root_level: f64,
    root_error: f64,
}

/// Forecast errors at a fixed lead time over a sliding window.
#[derive(Clone, Debug)]
pub struct LeadErrors {
    window: usize,
    /// Errors recorded per interval (its parts).
    per_interval: usize,
    /// Forecasts waiting for their observation: (interval index, forecast), in index order.
    pending: VecDeque<(u64, f64)>,
    errors: VecDeque<Error>,
    /// Index of the next observation.
    next: u64,
}

fn root(x: f64) -> f64 {
    x.max(0.0).sqrt()
}

impl LeadErrors {
    /// Keeps the last `window` errors (at least 1).
    pub fn new(window: usize) -> LeadErrors {
        LeadErrors {
            window: window.max(1),
            per_interval: 1,
            pending: VecDeque::new(),
            errors: VecDeque::new(),
            next: 0,
        }
    }

    /// Feeds the observation of the next interval (interval indices count observations from
    /// 0), and records its error if a forecast of it was recorded.
    pub fn observe(&mut self, y: f64) {
        self.observe_parts(&[y]);
    }

    /// Feeds the observation of the next interval as the rates of its equal parts (the
    /// interval's rate is their mean), and records one error per part, each against the
    /// forecast of the whole interval: the errors then also hold how the rate varies within an
    /// interval.
    pub fn observe_parts(&mut self, parts: &[f64]) {
        self.observe_parts_within(parts, |_| f64::INFINITY);
    }

    /// As [`LeadErrors::observe_parts`], but an error above `band(√f)` (`f` the level
    /// forecast) is not kept: it is a surge, for [`super::surge::Surges`]. Returns each part's
    /// `(root error, band)`, or `None` for every part if no forecast of the interval was
    /// recorded.
    pub fn observe_parts_within(
        &mut self,
        parts: &[f64],
        band: impl Fn(f64) -> f64,
    ) -> Option<Vec<(f64, f64)>> {
        self.per_interval = parts.len().max(1);
        let i = self.next;
        let mut out = None;
        while let Some(&(j, f)) = self.pending.front() {
            if j > i {
                break;
            }
            self.pending.pop_front();
            if j == i {
                let b = band(root(f));
                let mut seen = Vec::with_capacity(parts.len());
                for &y in parts {
                    let e = root(y) - root(f);
                    seen.push((e, b));
                    if e > b {
                        continue;
                    }
                    if self.errors.len() == self.window {
                        self.errors.pop_front();
                    }
                    self.errors.push_back(Error {
                        root_level: root(f),
                        root_error: e,
                    });
                }
                out = Some(seen);
            }
        }
        self.next += 1;
        out
    }

    /// Records a forecast of the interval `ahead` intervals after the last observation
    /// (`ahead ≥ 1`; all forecasts recorded should use the same `ahead`).
    pub fn record(&mut self, ahead: usize, forecast: f64) {
        let target = self.next + ahead.max(1) as u64 - 1;
        self.pending.push_back((target, forecast));
    }

    /// Errors in the window as (level forecast, rate observed), oldest first.
    pub fn pairs(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.errors.iter().map(|e| {
            let y = e.root_level + e.root_error;
            (e.root_level * e.root_level, y * y)
        })
    }

    /// Number of errors in the window.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Root mean square of the errors in square-root scale (0 when there are none).
    pub fn root_rms(&self) -> f64 {
        if self.errors.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .errors
            .iter()
            .map(|e| e.root_error * e.root_error)
            .sum();
        (sum / self.errors.len() as f64).sqrt()
    }

    /// The kernel weight of each error for a forecast of `level`, topped up evenly to a total
    /// of [`MIN_EFFECTIVE_INTERVALS`] intervals' worth (or of every error, if fewer) when the
    /// errors near `level` weigh less (see the module documentation).
    fn weights(&self, level: f64) -> Vec<f64> {
        let r = root(level);
        let h = (LEVEL_BANDWIDTH_FRACTION * r).max(LEVEL_BANDWIDTH_MIN);
        let w: Vec<f64> = self
            .errors
            .iter()
            .map(|e| {
                let z = (e.root_level - r) / h;
                if z.abs() > KERNEL_CUTOFF {
                    0.0
                } else {
                    (-0.5 * z * z).exp()
                }
            })
            .collect();
        let target = (MIN_EFFECTIVE_INTERVALS * self.per_interval as f64).min(w.len() as f64);
        let total: f64 = w.iter().sum();
        if total >= target {
            return w;
        }
        let share = (target - total) / w.len() as f64;
        w.into_iter().map(|x| x + share).collect()
    }

    /// The errors, for a forecast of `level`, as weighted scenarios `(root error, weight)`
    /// with weights summing to 1: sorted, then cut from the largest down into groups of 1, 2,
    /// 4, 8, ... errors (the rest, at the bottom, one group), each represented by its weighted
    /// mean and weighing its share of the kernel weight. Errors of zero weight are left out.
    /// `[(0, 1)]` when there are none. A scenario's rate at a forecast `f` is
    /// [`scenario_rate`]`(f, root error)`.
    pub fn scenarios(&self, level: f64) -> Vec<(f64, f64)> {
        let w = self.weights(level);
        let mut sorted: Vec<(f64, f64)> = self
            .errors
            .iter()
            .zip(&w)
            .filter(|&(_, &w)| w > 0.0)
            .map(|(e, &w)| (e.root_error, w))
            .collect();
        let total: f64 = sorted.iter().map(|x| x.1).sum();
        if sorted.is_empty() || total <= 0.0 {
            return vec![(0.0, 1.0)];
        }
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Vec::new();
        let mut end = sorted.len();
        let mut size = 1;
        while end > 0 {
            let take = if end <= 2 * size { end } else { size };
            let group = &sorted[end - take..end];
            let weight: f64 = group.iter().map(|x| x.1).sum();
            if weight > 0.0 {
                let mean = group.iter().map(|x| x.0 * x.1).sum::<f64>() / weight;
                out.push((mean, weight / total));
            }
            end -= take;
            size *= 2;
        }
        out
    }
}

/// The rate of a scenario: the forecast `f` moved by `root_error` in square-root scale,
/// `(√f + e)²`, and 0 when that goes below zero.
pub fn scenario_rate(f: f64, root_error: f64) -> f64 {
    let r = root(f) + root_error;
    if r <= 0.0 { 0.0 } else { r * r }
}

/// Stage costs averaged over forecast scenarios: step `t` costs the weighted mean over
/// `scenarios` `(root error, weight)` of the stage cost at
/// [`scenario_rate`]`(rates[t], e) + extra[t]` (`extra` is load known for certain, such as a
/// backlog; missing entries are 0). With surges ([`ExpectedCosts::with_surges`]), step `t`
/// costs `(1 − p_t)` times that plus `p_t` times the same mean over the surge scenarios, `p_t`
/// the probability that a surge the cluster has not yet reacted to is on in step `t`.
pub struct ExpectedCosts<'a, V> {
    pub rates: &'a [f64],
    pub extra: &'a [f64],
    pub scenarios: &'a [(f64, f64)],
    /// Surge scenarios `(root error, weight)` and their probability per step.
    surges: &'a [(f64, f64)],
    surge_probability: &'a [f64],
    pub violations: &'a V,
    pub prices: Prices,
    /// The last row computed, reused while the rates stay the same (flat forecasts):
    /// (rate, extra, surge probability, first count, row).
    cache: Option<(f64, f64, f64, u32, Vec<f64>)>,
    scratch: Vec<f64>,
}

impl<'a, V: ViolationColumns> ExpectedCosts<'a, V> {
    pub fn new(
        rates: &'a [f64],
        extra: &'a [f64],
        scenarios: &'a [(f64, f64)],
        violations: &'a V,
        prices: Prices,
    ) -> Self {
        ExpectedCosts {
            rates,
            extra,
            scenarios,
            surges: &[],
            surge_probability: &[],
            violations,
            prices,
            cache: None,
            scratch: Vec::new(),
        }
    }

    /// Adds surge scenarios `(root error, weight)` (weights summing to 1), on in step `t` with
    /// probability `probability[t]` (0 where missing).
    pub fn with_surges(mut self, surges: &'a [(f64, f64)], probability: &'a [f64]) -> Self {
        self.surges = surges;
        self.surge_probability = probability;
        self
    }
}

impl<V: ViolationColumns> StageCosts for ExpectedCosts<'_, V> {
    fn fill(&mut self, t: usize, first: u32, out: &mut [f64]) {
        let rate = self.rates[t];
        let extra = self.extra.get(t).copied().unwrap_or(0.0);
        let p = if self.surges.is_empty() {
            0.0
        } else {
            self.surge_probability.get(t).copied().unwrap_or(0.0)
        };
        if let Some((r, x, q, f, row)) = &self.cache
            && *r == rate
            && *x == extra
            && *q == p
            && *f == first
            && row.len() == out.len()
        {
            out.copy_from_slice(row);
            return;
        }
        out.fill(0.0);
        self.scratch.resize(out.len(), 0.0);
        let groups = [(self.scenarios, 1.0 - p), (self.surges, p)];
        for (scenarios, share) in groups {
            if share <= 0.0 {
                continue;
            }
            for &(e, w) in scenarios {
                self.prices.fill_stage(
                    self.violations,
                    scenario_rate(rate, e) + extra,
                    first,
                    &mut self.scratch,
                );
                for (acc, v) in out.iter_mut().zip(&self.scratch) {
                    *acc += share * w * v;
                }
            }
        }
        self.cache = Some((rate, extra, p, first, out.to_vec()));
    }
}

/// Removes the counting noise from the rates of the equal parts of an interval, each of
/// `part_s` seconds: shrinks them towards their mean `m` by the factor
/// `max(0, 1 − (m / part_s) / s²)`, where `s²` is their sample variance and `m / part_s` the
/// variance a Poisson count would give them alone (empirical Bayes). The queueing model already
/// counts Poisson arrivals, so only variation beyond that is kept: parts that vary no more than
/// Poisson counts do all become `m`; a burst that stands far above the noise keeps nearly all
/// of its height. The mean is unchanged.
pub fn denoise_parts(parts: &mut [f64], part_s: f64) {
    let n = parts.len();
    if n < 2 || part_s <= 0.0 {
        return;
    }
    let m = parts.iter().sum::<f64>() / n as f64;
    let s2 = parts.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (n - 1) as f64;
    let keep = if s2 > 0.0 {
        (1.0 - (m / part_s) / s2).max(0.0)
    } else {
        0.0
    };
    for r in parts.iter_mut() {
        *r = m + keep * (*r - m);
    }
}

/// Stage costs of intervals whose rate varies within them, by the pointwise stationary
/// approximation (Green and Kolesar, "The pointwise stationary approximation for queues with
/// nonstationary arrivals", Management Science 1991): interval `t` is cut into `parts` equal
/// parts with known rates `rates[t · parts .. (t + 1) · parts]`, and its stage cost is the mean
/// over its parts of the stage cost at each part's rate, as if the queue settled at each part's
/// rate. Exact when the rate is constant; otherwise it prices each burst at the violations a
/// cluster shows at that rate, which a short burst does not have time to reach (an upper
/// estimate).
///
/// Fast at scale (a day of seconds, thousands of counts):
/// - **Only the useful band of counts is priced.** At a rate `λ`, every count below the
///   model's [`ViolationColumns::unstable_below`] violates every request, and every count from
///   the one where the probability comes within a relative [`BAND_TOLERANCE`] of the model's
///   [`ViolationColumns::floor`] (the service-time floor) on violates at the floor; only the
///   counts in between are read from the model. The two flat parts are added to a stage as
///   ranges (a difference array), so a part costs `O(band)`, not `O(counts)`.
/// - **Rates on a fine log grid.** Violation probabilities are computed at the rates
///   `base · q^i` (`q = 1 +` [`GRID_STEP`]) only, each once, as a band, and a part's rate is
///   priced by linear interpolation in the rate between its two grid neighbours. The
///   interpolation error is tested through the regret of the plans it gives
///   (`grid_interpolation_costs_almost_nothing`).
/// - Parts of an interval with equal rates are priced once (a step whose variation is all
///   counting noise is one rate after [`denoise_parts`]).
///
/// A model without a floor (`floor()` is `None`) is priced over every count, still on the grid.
pub struct PointwiseCosts<'a, V> {
    pub rates: &'a [f64],
    pub parts: usize,
    pub violations: &'a V,
    pub prices: Prices,
    grid: RateGrid,
    /// The largest count priced.
    max_count: u32,
    /// A part's `(rate, weight)`, sorted by rate, merged when equal.
    scratch: Vec<(f64, f64)>,
    /// Difference array of the flat parts of a stage.
    diff: Vec<f64>,
}

/// Relative distance to the floor within which a violation probability counts as the floor.
pub const BAND_TOLERANCE: f64 = 1e-9;
/// Relative spacing of the rate grid of [`PointwiseCosts`].
pub const GRID_STEP: f64 = 1.0 / 512.0;

/// The violation probabilities of one grid rate: 1 below `lo`, `band[n - lo]` for
/// `lo ≤ n < hi`, `tail` from `hi` on.
struct BandColumn {
    lo: u32,
    hi: u32,
    tail: f64,
    band: Vec<f64>,
}

impl BandColumn {
    fn at(&self, n: u32) -> f64 {
        if n < self.lo {
            1.0
        } else if n < self.hi {
            self.band[(n - self.lo) as usize]
        } else {
            self.tail
        }
    }

    fn measure<V: ViolationColumns>(model: &V, rate: f64, max_count: u32) -> BandColumn {
        let lo = model.unstable_below(rate).min(max_count + 1);
        let Some(floor) = model.floor() else {
            let mut band = vec![0.0; (max_count + 1 - lo) as usize];
            model.fill(rate, lo, &mut band);
            return BandColumn {
                lo,
                hi: max_count + 1,
                tail: 1.0,
                band,
            };
        };
        let threshold = floor * (1.0 + BAND_TOLERANCE);
        let remaining = (max_count + 1 - lo) as usize;
        let mut width = (64.0 + 12.0 * f64::from(lo).sqrt()) as usize;
        let mut band = Vec::new();
        loop {
            width = width.min(remaining);
            band.resize(width, 0.0);
            model.fill(rate, lo, &mut band);
            if width == remaining || band.last().is_some_and(|&p| p <= threshold) {
                break;
            }
            width = width.saturating_mul(4);
        }
        let keep = band
            .iter()
            .rposition(|&p| p > threshold)
            .map_or(0, |i| i + 1);
        band.truncate(keep);
        BandColumn {
            lo,
            hi: lo + keep as u32,
            tail: floor,
            band,
        }
    }
}

/// Grid rates `base · q^i` and their columns, computed when first needed.
struct RateGrid {
    base: f64,
    log_q: f64,
    columns: Vec<Option<BandColumn>>,
}

impl RateGrid {
    fn new(rates: &[f64]) -> RateGrid {
        let positive = rates.iter().copied().filter(|&r| r > 0.0 && r.is_finite());
        let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(a, b), r| (a.min(r), b.max(r)));
        let log_q = GRID_STEP.ln_1p();
        let size = if hi > 0.0 {
            ((hi / lo).ln() / log_q).floor() as usize + 2
        } else {
            0
        };
        RateGrid {
            base: if hi > 0.0 { lo } else { 1.0 },
            log_q,
            columns: (0..size).map(|_| None).collect(),
        }
    }

    /// The grid index at or below `rate` and the interpolation weight of the next one.
    fn locate(&self, rate: f64) -> (usize, f64) {
        let x = ((rate / self.base).ln() / self.log_q).max(0.0);
        let i = (x.floor() as usize).min(self.columns.len().saturating_sub(2));
        let (g0, g1) = (self.rate(i), self.rate(i + 1));
        (i, ((rate - g0) / (g1 - g0)).clamp(0.0, 1.0))
    }

    fn rate(&self, i: usize) -> f64 {
        self.base * (self.log_q * i as f64).exp()
    }

    fn column<V: ViolationColumns>(&mut self, i: usize, model: &V, max_count: u32) -> &BandColumn {
        let rate = self.rate(i);
        self.columns[i].get_or_insert_with(|| BandColumn::measure(model, rate, max_count))
    }
}

impl<'a, V: ViolationColumns> PointwiseCosts<'a, V> {
    /// Stage costs of `rates.len() / parts` intervals, for counts up to `max_count`.
    pub fn new(
        rates: &'a [f64],
        parts: usize,
        violations: &'a V,
        prices: Prices,
        max_count: u32,
    ) -> Self {
        PointwiseCosts {
            rates,
            parts: parts.max(1),
            violations,
            prices,
            grid: RateGrid::new(rates),
            max_count,
            scratch: Vec::new(),
            diff: Vec::new(),
        }
    }
}

impl<V: ViolationColumns> StageCosts for PointwiseCosts<'_, V> {
    fn fill(&mut self, t: usize, first: u32, out: &mut [f64]) {
        let len = out.len();
        out.fill(0.0);
        self.diff.clear();
        self.diff.resize(len + 1, 0.0);
        let w = 1.0 / self.parts as f64;
        let per_request = self.prices.violation_penalty * self.prices.interval_s;
        // The parts' rates, sorted and merged when equal.
        self.scratch.clear();
        self.scratch.extend(
            self.rates[t * self.parts..(t + 1) * self.parts]
                .iter()
                .filter(|&&r| r > 0.0)
                .map(|&r| (r, w)),
        );
        self.scratch.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.scratch.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 += b.1;
            }
            same
        });
        let end = first as u64 + len as u64;
        // Adds `v` to every count in [from, to) within the stage's range.
        let range = |diff: &mut Vec<f64>, from: u64, to: u64, v: f64| {
            let (a, b) = (from.max(first as u64), to.min(end));
            if a < b {
                diff[(a - first as u64) as usize] += v;
                diff[(b - first as u64) as usize] -= v;
            }
        };
        for k in 0..self.scratch.len() {
            let (rate, weight) = self.scratch[k];
            let coef = weight * per_request * rate;
            let (i, x) = self.grid.locate(rate);
            let a = self.grid.column(i, self.violations, self.max_count);
            let (a_lo, a_hi, a_tail) = (a.lo, a.hi, a.tail);
            let b = self.grid.column(i + 1, self.violations, self.max_count);
            let (lo, hi) = (a_lo.min(b.lo), a_hi.max(b.hi));
            range(&mut self.diff, 0, u64::from(lo), coef);
            range(
                &mut self.diff,
                u64::from(hi),
                end,
                coef * ((1.0 - x) * a_tail + x * b.tail),
            );
            let from = lo.max(first);
            let to = (u64::from(hi).min(end)) as u32;
            if from < to {
                let a = self.grid.columns[i].as_ref().expect("computed above");
                let b = self.grid.columns[i + 1].as_ref().expect("computed above");
                for n in from..to {
                    out[(n - first) as usize] += coef * ((1.0 - x) * a.at(n) + x * b.at(n));
                }
            }
        }
        let replica = self.prices.interval_s * self.prices.replica_hour / 3600.0;
        let mut running = 0.0;
        for (i, v) in out.iter_mut().enumerate() {
            running += self.diff[i];
            *v += running + (first as f64 + i as f64) * replica;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(e: &mut LeadErrors, pairs: &[(f64, f64)]) {
        for &(f, y) in pairs {
            e.record(1, f);
            e.observe(y);
        }
    }

    #[test]
    fn errors_pair_each_forecast_with_its_observation() {
        let mut e = LeadErrors::new(10);
        // Forecasts two intervals ahead of the last observation.
        e.observe(1.0); // interval 0
        e.record(2, 4.0); // for interval 2
        e.observe(2.0); // interval 1: no forecast of it
        e.record(2, 9.0); // for interval 3
        assert!(e.is_empty());
        e.observe(1.0); // interval 2: forecast 4, observed 1
        e.record(2, 7.0);
        e.observe(16.0); // interval 3: forecast 9, observed 16
        assert_eq!(e.pairs().collect::<Vec<_>>(), vec![(4.0, 1.0), (9.0, 16.0)]);
    }

    #[test]
    fn the_window_keeps_the_latest_errors() {
        let mut e = LeadErrors::new(3);
        let pairs: Vec<(f64, f64)> = (0..10).map(|i| (0.0, (i * i) as f64)).collect();
        feed(&mut e, &pairs);
        let kept: Vec<f64> = e.pairs().map(|p| p.1).collect();
        assert_eq!(kept, vec![49.0, 64.0, 81.0]);
    }

    #[test]
    fn scenarios_keep_the_largest_errors_and_group_the_rest() {
        // Seven errors at the same level (all weigh 1); root errors 3, -1, 2, 0, 5, 1, 1.5.
        let mut e = LeadErrors::new(100);
        let r: [f64; 7] = [3.0, -1.0, 2.0, 0.0, 5.0, 1.0, 1.5];
        let pairs: Vec<(f64, f64)> = r.iter().map(|x| (25.0, (5.0 + x) * (5.0 + x))).collect();
        feed(&mut e, &pairs);
        // Sorted: -1 0 1 1.5 2 3 5; groups from the top: {5}, {3, 2}, {1.5, 1, 0, -1}.
        let w = 1.0 / 7.0;
        let s = e.scenarios(25.0);
        let want = [(5.0, w), (2.5, 2.0 * w), (0.375, 4.0 * w)];
        assert_eq!(s.len(), 3);
        for (a, b) in s.iter().zip(want) {
            assert!(
                (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-12,
                "{s:?}"
            );
        }
        assert_eq!(LeadErrors::new(5).scenarios(3.0), vec![(0.0, 1.0)]);
        // A window of 720 errors gives 9 groups, the last holding the bottom 465.
        let mut e = LeadErrors::new(720);
        let pairs: Vec<(f64, f64)> = (0..720).map(|i| (0.0, (i * i) as f64)).collect();
        feed(&mut e, &pairs);
        let s = e.scenarios(0.0);
        assert_eq!(s.len(), 9);
        assert!((s[0].0 - 719.0).abs() < 1e-9 && (s[0].1 - 1.0 / 720.0).abs() < 1e-15);
        assert!((s.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn errors_weigh_by_how_close_their_level_is() {
        // Noise around 400/s, and surges from 0 to 100/s.
        let mut e = LeadErrors::new(1000);
        let mut pairs = Vec::new();
        for i in 0..100 {
            let noise = if i % 2 == 0 { 21.0 } else { 19.0 };
            pairs.push((400.0, noise * noise));
            pairs.push((0.0, if i % 10 == 0 { 100.0 } else { 0.0 }));
        }
        feed(&mut e, &pairs);
        // At 0/s the scenarios are the surges (10 of 100, root error 10) and zeros; the noise
        // at 400/s (root errors ±1) is too far away to count.
        let s = e.scenarios(0.0);
        assert_eq!(s[0], (10.0, 0.01));
        let mean: f64 = s.iter().map(|x| x.0 * x.1).sum();
        assert!((mean - 1.0).abs() < 1e-9, "{s:?}");
        assert!(s.iter().all(|x| x.0 >= 0.0), "{s:?}");
        // At 400/s only the noise counts: the largest scenario is 21²/s.
        let s = e.scenarios(400.0);
        assert!((scenario_rate(400.0, s[0].0) - 441.0).abs() < 1e-6, "{s:?}");
        // A level never seen uses every error alike.
        let s = e.scenarios(10_000.0);
        let total: f64 = s.iter().map(|x| x.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
        // Its mean is the mean of every error (surges 10 × 10 of 200, noise ±1).
        let mean: f64 = s.iter().map(|x| x.0 * x.1).sum();
        assert!((mean - 0.5).abs() < 1e-9, "{s:?}");
        assert!((s[0].0 - 10.0).abs() < 1e-12 && (s[0].1 - 1.0 / 200.0).abs() < 1e-12);
        // A level seen a little (10 errors at 400/s weigh less than 30): each error gets an
        // equal share of the difference, 20/110, so a surge from 0/s weighs 20/110/30.
        let mut e = LeadErrors::new(1000);
        let mut pairs = vec![(400.0, 400.0); 10];
        pairs.extend(vec![(0.0, 0.0); 90]);
        pairs.extend(vec![(0.0, 100.0); 10]);
        feed(&mut e, &pairs);
        let s = e.scenarios(400.0);
        assert!((s[0].1 - 20.0 / 110.0 / 30.0).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn parts_of_an_interval_are_each_compared_with_its_forecast() {
        let mut e = LeadErrors::new(10);
        e.record(1, 16.0);
        e.observe_parts(&[9.0, 25.0]);
        assert_eq!(
            e.pairs().collect::<Vec<_>>(),
            vec![(16.0, 9.0), (16.0, 25.0)]
        );
    }

    #[test]
    fn denoising_keeps_only_variation_beyond_counting_noise() {
        // Parts of 1 s at a mean of 100/s: Poisson noise alone has variance 100.
        let mut flat = [90.0, 110.0, 100.0, 100.0];
        denoise_parts(&mut flat, 1.0);
        assert_eq!(flat, [100.0; 4]);
        // A burst: variance 30,000 (sample), so 1 - 100/30,000 of each deviation is kept.
        let mut burst = [400.0, 0.0, 0.0, 0.0];
        denoise_parts(&mut burst, 1.0);
        let keep = 1.0 - 100.0 / 40_000.0;
        assert!(
            (burst[0] - (100.0 + keep * 300.0)).abs() < 1e-9,
            "{burst:?}"
        );
        assert!((burst.iter().sum::<f64>() - 400.0).abs() < 1e-9);
        let mut one = [7.0];
        denoise_parts(&mut one, 1.0);
        assert_eq!(one, [7.0]);
    }

    #[test]
    fn pointwise_costs_average_the_parts_of_an_interval() {
        struct Linear;
        impl ViolationColumns for Linear {
            fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
                for (i, v) in out.iter_mut().enumerate() {
                    *v = (rate / 100.0 / (first as f64 + i as f64 + 1.0)).min(1.0);
                }
            }
        }
        let prices = Prices {
            interval_s: 10.0,
            replica_hour: 3.6,
            violation_penalty: 0.5,
        };
        let rates = [10.0, 30.0, 20.0, 20.0];
        let mut costs = PointwiseCosts::new(&rates, 2, &Linear, prices, 4);
        let stage = |r: f64, n: u32| {
            let mut c = [0.0];
            prices.fill_stage(&Linear, r, n, &mut c);
            c[0]
        };
        let mut row = [0.0; 2];
        costs.fill(0, 3, &mut row);
        for (i, &v) in row.iter().enumerate() {
            let n = 3 + i as u32;
            assert!((v - 0.5 * (stage(10.0, n) + stage(30.0, n))).abs() < 1e-12);
        }
        costs.fill(1, 3, &mut row);
        assert!((row[0] - stage(20.0, 3)).abs() < 1e-12);
    }

    /// Pricing on the rate grid, within the band, changes the oracle's plans by almost
    /// nothing: over 6 hours of per-second rates (200 to 1,800 Erlangs, jittered so that
    /// nearly every second has a rate of its own) and 2,000 counts, the plan found on the grid,
    /// priced exactly, costs less than 1e-4 more than the exact optimum.
    #[test]
    fn grid_interpolation_costs_almost_nothing() {
        use crate::cluster::service::ServiceSpec;
        use crate::planner::queueing::{Dispatch, ViolationModel};
        use crate::planner::schedule::{PlanInput, Switching, plan};
        use crate::time::SimDuration;
        let model = ViolationModel::new(
            &ServiceSpec::Exponential {
                mean: SimDuration::from_secs(1),
            },
            1,
            Dispatch::Shared,
            3.0,
        );
        let prices = Prices {
            interval_s: 60.0,
            replica_hour: 0.04,
            violation_penalty: 1e-4,
        };
        let rates: Vec<f64> = (0..360 * 60)
            .map(|t| {
                let x = t as f64 / 21_600.0 * std::f64::consts::TAU;
                1000.0 + 800.0 * x.sin() + 30.0 * (((t * 7919) % 101) as f64 / 101.0 - 0.5)
            })
            .collect();
        let mut exact = |t: usize, first: u32, out: &mut [f64]| {
            out.fill(0.0);
            let mut row = vec![0.0; out.len()];
            for &r in &rates[t * 60..(t + 1) * 60] {
                prices.fill_stage(&model, r, first, &mut row);
                for (a, v) in out.iter_mut().zip(&row) {
                    *a += v / 60.0;
                }
            }
        };
        let switching = Switching {
            start: 0.04 * 60.0 / 3600.0,
            stop: 0.0,
        };
        let input = PlanInput {
            intervals: 360,
            min_replicas: 1,
            max_replicas: 2000,
            initial: 1000,
            committed: &[],
            switching,
        };
        let best = plan(&input, &mut exact).unwrap();
        let mut fast = PointwiseCosts::new(&rates, 60, &model, prices, 2000);
        let found = plan(&input, &mut fast).unwrap();
        let mut evaluate = |xs: &[u32]| {
            let mut prev = input.initial;
            let mut total = 0.0;
            for (t, &n) in xs.iter().enumerate() {
                total += switching.cost(prev, n) + exact.cost(t, n);
                prev = n;
            }
            total
        };
        let at_best = evaluate(&best.replicas);
        assert!((at_best - best.objective).abs() < 1e-9 * best.objective);
        let regret = evaluate(&found.replicas) / best.objective - 1.0;
        assert!((0.0..1e-4).contains(&(regret + 1e-12)), "regret {regret}");
        // The grid's own estimate of its plan is within 1e-4 of the truth too.
        assert!((found.objective / evaluate(&found.replicas) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn scenario_rates_move_in_square_root_scale() {
        assert_eq!(scenario_rate(16.0, 1.0), 25.0);
        assert_eq!(scenario_rate(16.0, -5.0), 0.0);
        assert_eq!(scenario_rate(-3.0, 2.0), 4.0);
    }

    #[test]
    fn expected_costs_average_the_stage_costs_of_each_scenario() {
        struct Linear;
        impl ViolationColumns for Linear {
            fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
                for (i, v) in out.iter_mut().enumerate() {
                    *v = (rate / 100.0 / (first as f64 + i as f64 + 1.0)).min(1.0);
                }
            }
        }
        let prices = Prices {
            interval_s: 10.0,
            replica_hour: 3.6,
            violation_penalty: 0.5,
        };
        let rates = [16.0, 16.0, 49.0];
        let extra = [0.0, 7.0];
        let scenarios = [(-5.0, 0.25), (1.0, 0.75)];
        let mut costs = ExpectedCosts::new(&rates, &extra, &scenarios, &Linear, prices);
        for (t, &rate) in rates.iter().enumerate() {
            let mut row = [0.0; 3];
            costs.fill(t, 1, &mut row);
            for (i, &v) in row.iter().enumerate() {
                let n = 1 + i as u32;
                let stage = |r: f64| {
                    let mut c = [0.0];
                    prices.fill_stage(&Linear, r, n, &mut c);
                    c[0]
                };
                let root = rate.sqrt();
                let x = if t == 1 { 7.0 } else { 0.0 };
                let want = 0.25 * stage(((root - 5.0).max(0.0)).powi(2) + x)
                    + 0.75 * stage((root + 1.0).powi(2) + x);
                assert!((v - want).abs() < 1e-12, "t={t} n={n}: {v} vs {want}");
            }
        }
    }
}
