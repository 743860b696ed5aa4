//! What a run measures: per-request statistics, per-interval timeline rows, the run summary,
//! and confidence intervals over replications.
//!
//! Latency percentiles come from an HDR histogram with two significant digits: every recorded
//! value lands in a bucket whose width is at most 1/128 of its value, and a percentile is
//! reported as the middle of its bucket, so its relative error is at most 0.4% (well inside
//! the 1% the README promises). Means, counts and SLO violations are exact: they are computed
//! per request, not from the histogram.

use crate::time::NANOS_PER_SEC;
use hdrhistogram::Histogram;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Largest latency the histograms hold without saturating: 10^14 ns, about 28 hours.
pub const HISTOGRAM_MAX_NS: u64 = 100_000_000_000_000;

/// A latency histogram in nanoseconds with at most 1% relative error.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    h: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        LatencyHistogram {
            h: Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 2).expect("valid histogram bounds"),
        }
    }

    /// Records one value in nanoseconds (values above the maximum are clamped to it).
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.h.saturating_record(ns);
    }

    pub fn len(&self) -> u64 {
        self.h.len()
    }

    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    /// The `q`-quantile (0 < q <= 1) in seconds, or NaN when empty.
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.h.is_empty() {
            return f64::NAN;
        }
        let v = self.h.value_at_quantile(q);
        self.h.median_equivalent(v) as f64 / NANOS_PER_SEC as f64
    }

    /// Fraction of recorded values at or below `ns` (for CDF plots), from the buckets.
    pub fn fraction_at_or_below(&self, ns: u64) -> f64 {
        if self.h.is_empty() {
            return f64::NAN;
        }
        self.h.count_between(0, ns) as f64 / self.h.len() as f64
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.h
            .add(&other.h)
            .expect("histograms of equal bounds add");
    }

    pub fn clear(&mut self) {
        self.h.reset();
    }

    /// Points of the latency distribution function: (quantile, latency in seconds) for the
    /// quantiles of [`CDF_QUANTILES`]; empty when nothing was recorded.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        if self.h.is_empty() {
            return Vec::new();
        }
        CDF_QUANTILES
            .iter()
            .map(|&q| (q, self.quantile_s(q)))
            .collect()
    }
}

/// The quantiles at which `latency.csv` samples each policy's latency distribution: every
/// percent, then the tail.
pub const CDF_QUANTILES: [f64; 106] = {
    let mut q = [0.0; 106];
    let mut i = 0;
    while i < 100 {
        q[i] = (i as f64 + 1.0) / 100.0;
        i += 1;
    }
    q[99] = 0.995;
    q[100] = 0.999;
    q[101] = 0.9995;
    q[102] = 0.9999;
    q[103] = 0.99995;
    q[104] = 0.99999;
    q[105] = 1.0;
    q
};

/// One row of `timeline.csv`: one interval of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    /// Start of the interval, seconds.
    pub time_s: f64,
    /// Length of the interval, seconds (the last one may be shorter).
    pub length_s: f64,
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    /// At the interval's end.
    pub ready_replicas: u32,
    pub starting_replicas: u32,
    pub desired_replicas: u32,
    /// Time averages over the interval.
    pub busy: f64,
    pub queued: f64,
    /// Busy slots over the slots of serving (ready or draining) containers, time-averaged
    /// as a ratio of the two integrals; NaN when no container served.
    pub utilization: f64,
    /// 95th percentile latency of the requests completed in the interval; NaN if none.
    pub p95_latency_s: f64,
    /// Median and 99th percentile likewise.
    pub p50_latency_s: f64,
    pub p99_latency_s: f64,
    /// Replica cost of the interval plus the penalty of the violations in it.
    pub cost: f64,
    /// Replica-seconds billed in the interval.
    pub replica_seconds: f64,
    /// SLO violations (slow completions, drops and failures) in the interval.
    pub slo_violations: u64,
    /// Requests lost with a failed container in the interval (`[faults]`).
    pub failed: u64,
}

/// The measured outcome of one run (after the warm-up), before it becomes a `summary.csv` row.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Arrivals after the warm-up.
    pub requests: u64,
    pub completed: u64,
    pub dropped: u64,
    pub mean_wait_s: f64,
    /// Fraction of completed requests that waited for a free slot.
    pub p_wait: f64,
    pub mean_latency_s: f64,
    pub p50_latency_s: f64,
    pub p95_latency_s: f64,
    pub p99_latency_s: f64,
    /// Completed requests slower than the SLO plus dropped and failed requests.
    pub slo_violations: u64,
    /// Violations over requests whose outcome is known (completed + dropped + failed).
    pub slo_violation_ratio: f64,
    pub replica_seconds: f64,
    pub cost: f64,
    pub objective: f64,
    pub scale_ups: u64,
    pub scale_downs: u64,
    /// Requests lost with a failed container (`[faults]`), after the warm-up.
    pub failed: u64,
}

/// Running per-request sums of a run (exact integers).
#[derive(Clone, Debug, Default)]
pub struct RequestStats {
    pub requests: u64,
    pub completed: u64,
    pub dropped: u64,
    /// Lost with a failed container (`[faults]`).
    pub failed: u64,
    pub waited: u64,
    pub wait_sum_ns: u128,
    pub latency_sum_ns: u128,
    pub slow: u64,
    pub latency: LatencyHistogram,
}

impl RequestStats {
    pub fn mean_wait_s(&self) -> f64 {
        ratio(
            self.wait_sum_ns as f64 / NANOS_PER_SEC as f64,
            self.completed as f64,
        )
    }

    pub fn mean_latency_s(&self) -> f64 {
        ratio(
            self.latency_sum_ns as f64 / NANOS_PER_SEC as f64,
            self.completed as f64,
        )
    }

    pub fn p_wait(&self) -> f64 {
        ratio(self.waited as f64, self.completed as f64)
    }

    pub fn violations(&self) -> u64 {
        self.slow + self.dropped + self.failed
    }

    pub fn violation_ratio(&self) -> f64 {
        ratio(
            self.violations() as f64,
            (self.completed + self.dropped + self.failed) as f64,
        )
    }
}

/// `a / b`, or NaN when `b` is zero.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// Mean and half-width of the two-sided 95% confidence interval (Student t with n-1 degrees of
/// freedom) of `xs`. The half-width is NaN with fewer than two values; NaN values are skipped.
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, t_quantile_975(n - 1) * (var / n as f64).sqrt())
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile_975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("degrees of freedom are positive")
        .inverse_cdf(0.975)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Standard table values of t_{0.975, df}.
        for (df, t) in [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045)] {
            assert!((t_quantile_975(df) - t).abs() < 1e-3, "df {df}");
        }
    }

    #[test]
    fn ci_of_known_sample() {
        let (m, h) = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        // sd = sqrt(2.5), se = sqrt(0.5), t_{0.975,4} = 2.7764.
        assert!((h - 2.776_445 * 0.5f64.sqrt()).abs() < 1e-5);
        assert!(mean_ci95(&[7.0]).1.is_nan());
    }

    /// Every percentile from the histogram is within 1% of the exact order statistic.
    #[test]
    fn histogram_percentiles_within_one_percent() {
        use rand::RngExt;
        let mut rng = crate::rng::stream(3, 0, "test");
        let mut h = LatencyHistogram::new();
        let mut xs: Vec<u64> = (0..200_000)
            .map(|_| {
                // Log-uniform from 1 µs to 100 s: exercises every magnitude.
                let e: f64 = rng.random_range(3.0..11.0);
                10f64.powf(e) as u64
            })
            .collect();
        for x in &xs {
            h.record(*x);
        }
        xs.sort_unstable();
        for q in [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999] {
            let exact = xs[((q * xs.len() as f64).ceil() as usize).max(1) - 1] as f64 / 1e9;
            let got = h.quantile_s(q);
            assert!(
                (got - exact).abs() <= 0.01 * exact,
                "q {q}: {got} vs {exact}"
            );
        }
    }
}
