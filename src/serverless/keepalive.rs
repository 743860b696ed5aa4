//! Keep-alive policies of a scale-per-request platform: how long an instance stays loaded after
//! it becomes idle, and whether it is unloaded at once and loaded again later (pre-warmed).
//!
//! Each function has its own policy state. The platform tells it every idle time of the
//! function (the time from the moment no request of the function was running to the next
//! arrival) and asks it, whenever an instance becomes idle, for its [`Windows`]:
//! - `prewarm`: unload the instance now and load it again this long after (zero: keep it);
//! - `keep_alive`: how long the instance stays loaded and idle (after the pre-warm, if any)
//!   before it is torn down.
//!
//! Policies:
//! - [`KeepAlive::Fixed`]: the state of the practice (AWS Lambda keeps an idle instance about
//!   10 minutes, Azure Functions 20 minutes): no pre-warm, a fixed keep-alive.
//! - [`HybridHistogram`]: the hybrid histogram policy of Shahrad et al., "Serverless in the
//!   Wild: Characterizing and Optimizing the Serverless Workload at a Large Cloud Provider",
//!   USENIX ATC 2020, section 4.2. The rules reproduced here (defaults in brackets):
//!   1. A range-limited histogram of the function's idle times, in bins of `bin` [1 minute]
//!      up to `range` [4 hours]; an idle time beyond the range is counted as out of bounds.
//!   2. If the histogram is representative (the coefficient of variation of its bin counts is
//!      at least `cv_threshold` [2]), the pre-warm window is the head (the `head` [5th]
//!      percentile, the lower edge of its bin) shortened by `margin` [10%], and the instance is
//!      kept loaded until the tail (the `tail` [99th] percentile, the upper edge of its bin)
//!      lengthened by `margin`: keep-alive = tail·(1 + margin) − pre-warm. A head in the first
//!      bin means no pre-warm: the instance is simply kept alive until the tail.
//!   3. If it is not representative (too few or too spread idle times; an empty histogram
//!      has a CV of zero), the policy falls back to the standard keep-alive: no pre-warm and
//!      a keep-alive of `fallback_keep_alive` [the range, 4 hours].
//!   4. If too many idle times are out of bounds (at least `oob_threshold` [50%] of them), the
//!      paper forecasts the next idle time with a time-series model (ARIMA) and pre-warms
//!      `forecast_margin` [15%] before the forecast, keeping the instance alive for twice that
//!      margin around it. Here the forecast is the last idle time (the random walk, ARIMA(0,1,0),
//!      the simplest model an ARIMA fit selects), not a fitted ARIMA model.
//!
//! Guarantees: the windows are a pure function of the idle times observed so far (no
//! randomness), recomputed only when an idle time arrives.

use crate::time::SimDuration;

/// What an instance does once it becomes idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// Unload now and load again this much later (zero: stay loaded).
    pub prewarm: SimDuration,
    /// Stay loaded and idle this long (from the end of the pre-warm window) before expiring.
    pub keep_alive: SimDuration,
}

/// Parameters of the hybrid histogram policy (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HybridParams {
    pub range: SimDuration,
    pub bin: SimDuration,
    pub head: f64,
    pub tail: f64,
    pub margin: f64,
    pub cv_threshold: f64,
    pub oob_threshold: f64,
    pub forecast_margin: f64,
    pub fallback_keep_alive: SimDuration,
}

impl Default for HybridParams {
    fn default() -> Self {
        HybridParams {
            range: SimDuration::from_secs(4 * 3600),
            bin: SimDuration::from_secs(60),
            head: 0.05,
            tail: 0.99,
            margin: 0.10,
            cv_threshold: 2.0,
            oob_threshold: 0.5,
            forecast_margin: 0.15,
            fallback_keep_alive: SimDuration::from_secs(4 * 3600),
        }
    }
}

/// Which rule of the hybrid policy is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Rule 2: the histogram's head and tail.
    Histogram,
    /// Rule 3: the standard keep-alive.
    Fallback,
    /// Rule 4: the idle-time forecast.
    Forecast,
}

/// The per-function state of the hybrid histogram policy.
#[derive(Clone, Debug)]
pub struct HybridHistogram {
    params: HybridParams,
    bins: Vec<u64>,
    in_bounds: u64,
    out_of_bounds: u64,
    last_idle: SimDuration,
    windows: Windows,
    pattern: Pattern,
}

impl HybridHistogram {
    pub fn new(params: HybridParams) -> HybridHistogram {
        let n = (params.range.0.div_ceil(params.bin.0.max(1))).max(1) as usize;
        let mut h = HybridHistogram {
            params,
            bins: vec![0; n],
            in_bounds: 0,
            out_of_bounds: 0,
            last_idle: SimDuration::ZERO,
            windows: Windows {
                prewarm: SimDuration::ZERO,
                keep_alive: params.fallback_keep_alive,
            },
            pattern: Pattern::Fallback,
        };
        h.recompute();
        h
    }

    /// Records one idle time of the function.
    pub fn observe(&mut self, idle: SimDuration) {
        self.last_idle = idle;
        if idle >= self.params.range {
            self.out_of_bounds += 1;
        } else {
            let i = ((idle.0 / self.params.bin.0.max(1)) as usize).min(self.bins.len() - 1);
            self.bins[i] += 1;
            self.in_bounds += 1;
        }
        self.recompute();
    }

    pub fn windows(&self) -> Windows {
        self.windows
    }

    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// Coefficient of variation of the bin counts (0 for an empty histogram).
    pub fn cv(&self) -> f64 {
        let n = self.bins.len() as f64;
        if self.in_bounds == 0 || self.bins.len() < 2 {
            return 0.0;
        }
        let mean = self.in_bounds as f64 / n;
        let var = self
            .bins
            .iter()
            .map(|&c| (c as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        var.sqrt() / mean
    }

    /// The bin holding the `p` percentile of the in-bound idle times.
    fn percentile_bin(&self, p: f64) -> usize {
        let need = p * self.in_bounds as f64;
        let mut sum = 0u64;
        for (i, &c) in self.bins.iter().enumerate() {
            sum += c;
            if c > 0 && sum as f64 >= need {
                return i;
            }
        }
        self.bins.len() - 1
    }

    fn recompute(&mut self) {
        let p = self.params;
        let seen = self.in_bounds + self.out_of_bounds;
        let oob_share = if seen == 0 {
            0.0
        } else {
            self.out_of_bounds as f64 / seen as f64
        };
        let secs = |x: f64| SimDuration::from_secs_f64(x.max(0.0));
        if seen > 0 && oob_share >= p.oob_threshold {
            let forecast = self.last_idle.as_secs_f64();
            self.pattern = Pattern::Forecast;
            self.windows = Windows {
                prewarm: secs(forecast * (1.0 - p.forecast_margin)),
                keep_alive: secs(forecast * 2.0 * p.forecast_margin),
            };
        } else if self.cv() >= p.cv_threshold {
            let bin = p.bin.as_secs_f64();
            let head = self.percentile_bin(p.head) as f64 * bin;
            let tail = (self.percentile_bin(p.tail) + 1) as f64 * bin;
            let prewarm = head * (1.0 - p.margin);
            self.pattern = Pattern::Histogram;
            self.windows = Windows {
                prewarm: secs(prewarm),
                keep_alive: secs(tail * (1.0 + p.margin) - prewarm),
            };
        } else {
            self.pattern = Pattern::Fallback;
            self.windows = Windows {
                prewarm: SimDuration::ZERO,
                keep_alive: p.fallback_keep_alive,
            };
        }
    }
}

/// A keep-alive policy with its per-function state.
#[derive(Clone, Debug)]
pub enum KeepAlive {
    Fixed(SimDuration),
    Hybrid(Box<HybridHistogram>),
}

impl KeepAlive {
    /// Records one idle time of the function.
    #[inline]
    pub fn observe_idle(&mut self, idle: SimDuration) {
        if let KeepAlive::Hybrid(h) = self {
            h.observe(idle);
        }
    }

    /// The windows an instance that becomes idle now follows.
    #[inline]
    pub fn windows(&self) -> Windows {
        match self {
            KeepAlive::Fixed(k) => Windows {
                prewarm: SimDuration::ZERO,
                keep_alive: *k,
            },
            KeepAlive::Hybrid(h) => h.windows(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mins(m: f64) -> SimDuration {
        SimDuration::from_secs_f64(m * 60.0)
    }

    #[test]
    fn an_empty_histogram_falls_back_to_the_range() {
        let h = HybridHistogram::new(HybridParams::default());
        assert_eq!(h.pattern(), Pattern::Fallback);
        assert_eq!(
            h.windows(),
            Windows {
                prewarm: SimDuration::ZERO,
                keep_alive: SimDuration::from_secs(4 * 3600)
            }
        );
    }

    /// A function invoked every 30 minutes (idle times 29.5 min): head and tail are both bin
    /// 29, so pre-warm = 29 min × 0.9 = 26.1 min and the instance stays until 30 min × 1.1 =
    /// 33 min after the execution: keep-alive = 33 − 26.1 = 6.9 min.
    #[test]
    fn a_periodic_function_is_prewarmed_before_its_next_call() {
        let mut h = HybridHistogram::new(HybridParams::default());
        for _ in 0..10 {
            h.observe(mins(29.5));
        }
        assert_eq!(h.pattern(), Pattern::Histogram);
        let w = h.windows();
        assert!(
            (w.prewarm.as_secs_f64() - 26.1 * 60.0).abs() < 1e-6,
            "{w:?}"
        );
        assert!(
            (w.keep_alive.as_secs_f64() - 6.9 * 60.0).abs() < 1e-6,
            "{w:?}"
        );
    }

    /// Idle times of a few seconds: head in bin 0, so no pre-warm; tail bin 0, so keep-alive
    /// = 1 min × 1.1.
    #[test]
    fn a_busy_function_is_kept_briefly_without_prewarm() {
        let mut h = HybridHistogram::new(HybridParams::default());
        for _ in 0..100 {
            h.observe(SimDuration::from_secs(3));
        }
        assert_eq!(
            h.windows(),
            Windows {
                prewarm: SimDuration::ZERO,
                keep_alive: SimDuration::from_secs(66)
            }
        );
    }

    /// 5th and 99th percentiles over 100 idle times: 1..=100 minutes (one per bin 1..=100)
    /// gives head bin 5 (the 5th value, 5 min) and tail bin 99 (99 min); but a flat histogram
    /// has a low CV, so the policy must fall back. Concentrating them restores rule 2.
    #[test]
    fn percentiles_and_the_cv_check() {
        let mut flat = HybridHistogram::new(HybridParams::default());
        for m in 1..=100 {
            flat.observe(mins(m as f64 + 0.5));
        }
        // 100 of 240 bins hold one count each: mean 100/240, sd ≈ 0.494, cv ≈ 1.19 < 2.
        assert!((flat.cv() - 1.186).abs() < 0.01, "{}", flat.cv());
        assert_eq!(flat.pattern(), Pattern::Fallback);
        let mut lumpy = HybridHistogram::new(HybridParams::default());
        for m in 1..=100 {
            lumpy.observe(mins(if m <= 5 { 10.5 } else { 20.5 }));
        }
        assert_eq!(lumpy.pattern(), Pattern::Histogram);
        let w = lumpy.windows();
        // Head: the 5th value lies in bin 10; tail: bin 20.
        assert!((w.prewarm.as_secs_f64() - 600.0 * 0.9).abs() < 1e-6);
        assert!((w.keep_alive.as_secs_f64() - (1260.0 * 1.1 - 540.0)).abs() < 1e-6);
    }

    /// Idle times beyond the 4-hour range: the forecast rule, around the last idle time.
    #[test]
    fn out_of_bounds_idle_times_switch_to_the_forecast() {
        let mut h = HybridHistogram::new(HybridParams::default());
        h.observe(mins(10.0));
        h.observe(mins(300.0));
        assert_eq!(h.pattern(), Pattern::Forecast);
        let w = h.windows();
        assert!((w.prewarm.as_secs_f64() - 300.0 * 60.0 * 0.85).abs() < 1e-6);
        assert!((w.keep_alive.as_secs_f64() - 300.0 * 60.0 * 0.3).abs() < 1e-6);
        h.observe(mins(10.0));
        h.observe(mins(10.0));
        assert_eq!(h.pattern(), Pattern::Histogram, "1 of 4 out of bounds");
    }
}
