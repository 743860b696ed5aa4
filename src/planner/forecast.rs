//! Forecasters of per-interval arrival rates, for the online planner.
//!
//! A [`Forecaster`] is fed one observation at a time (the arrival rate of the interval that
//! just ended) and forecasts the next `h` intervals from the past only. Memory is `O(1)` for
//! `last` and `ewma` and `O(period)` for `seasonal_naive` and `holt_winters`; each observation
//! costs `O(1)`. Forecasts are never negative (a negative rate is clamped to 0). `auto` runs
//! several of them side by side and weights them online by their realised losses
//! ([`super::mixture`]).
//!
//! Each forecaster also keeps an error scale: the root mean square of its own past one-step
//! forecast errors, exponentially weighted over about [`DEFAULT_ERROR_WINDOW`] intervals
//! (a plain mean until that many errors exist). The online planner plans for the upper
//! forecast `rate + margin · error_scale` ([`Forecaster::upper`]): `margin` counts error
//! standard deviations (1.645 is the 95% quantile if errors are roughly normal). This margin
//! adapts to how predictable the series is, and is zero on a series the forecaster predicts
//! exactly, so a perfect forecast plans exactly as the oracle does. The same one-step scale is
//! used for every step of the horizon.

use super::mixture::{DEFAULT_ETA, Mixture};
use thiserror::Error;

/// The forecasting methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ForecastMethod {
    /// Persistence: every future interval equals the last observed one.
    Last,
    /// Exponentially weighted moving average with smoothing `alpha` (weight of the newest
    /// observation): a flat forecast at the smoothed level.
    Ewma { alpha: f64 },
    /// The same interval one period (in intervals) earlier; `k` periods earlier for
    /// horizons beyond one period. Persistence until one period has been observed.
    SeasonalNaive { period: usize },
    /// Additive Holt-Winters: level, trend and seasonal components smoothed by `alpha`,
    /// `beta` and `gamma`, with a season of `period` intervals. Initialised at the end of the
    /// first period (level = its mean, trend = 0, seasonal = deviations from the mean);
    /// persistence until then.
    HoltWinters {
        alpha: f64,
        beta: f64,
        gamma: f64,
        period: usize,
    },
    /// Forecasters chosen online ([`super::mixture`]): the experts of
    /// [`Mixture::experts`]`(step_s)` weighted by Fixed Share with the given `share`.
    Auto { share: f64, step_s: f64 },
}

/// Default smoothing of `ewma`.
pub const DEFAULT_EWMA_ALPHA: f64 = 0.5;
/// Default level smoothing of `holt_winters`.
pub const DEFAULT_HW_ALPHA: f64 = 0.5;
/// Default trend smoothing of `holt_winters`.
pub const DEFAULT_HW_BETA: f64 = 0.01;
/// Default seasonal smoothing of `holt_winters`.
pub const DEFAULT_HW_GAMMA: f64 = 0.2;
/// Default number of intervals the error scale averages over.
pub const DEFAULT_ERROR_WINDOW: usize = 60;

/// A forecasting method with parameters out of range.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ForecastError {
    #[error("`{name}` must be in {range}, found {value}")]
    OutOfRange {
        name: &'static str,
        range: &'static str,
        value: f64,
    },
    #[error("`period` must be at least 1 interval")]
    ZeroPeriod,
    #[error("`share` must be in [0, 1), found {0}")]
    Share(f64),
    #[error("the step of `auto` must be positive, found {0} s")]
    Step(f64),
}

impl ForecastMethod {
    /// The method's name as scenarios write it.
    pub fn name(&self) -> &'static str {
        match self {
            ForecastMethod::Last => "last",
            ForecastMethod::Ewma { .. } => "ewma",
            ForecastMethod::SeasonalNaive { .. } => "seasonal_naive",
            ForecastMethod::HoltWinters { .. } => "holt_winters",
            ForecastMethod::Auto { .. } => "auto",
        }
    }

    /// Checks the parameters: `alpha` in (0, 1], `beta` and `gamma` in [0, 1], `period ≥ 1`,
    /// `share` in [0, 1), a positive step.
    pub fn check(&self) -> Result<(), ForecastError> {
        fn unit(name: &'static str, value: f64, open_zero: bool) -> Result<(), ForecastError> {
            let ok = if open_zero {
                value > 0.0 && value <= 1.0
            } else {
                (0.0..=1.0).contains(&value)
            };
            if ok {
                Ok(())
            } else {
                Err(ForecastError::OutOfRange {
                    name,
                    range: if open_zero { "(0, 1]" } else { "[0, 1]" },
                    value,
                })
            }
        }
        match *self {
            ForecastMethod::Last => Ok(()),
            ForecastMethod::Ewma { alpha } => unit("alpha", alpha, true),
            ForecastMethod::SeasonalNaive { period } => {
                if period == 0 {
                    Err(ForecastError::ZeroPeriod)
                } else {
                    Ok(())
                }
            }
            ForecastMethod::HoltWinters {
                alpha,
                beta,
                gamma,
                period,
            } => {
                unit("alpha", alpha, true)?;
                unit("beta", beta, false)?;
                unit("gamma", gamma, false)?;
                if period == 0 {
                    Err(ForecastError::ZeroPeriod)
                } else {
                    Ok(())
                }
            }
            ForecastMethod::Auto { share, step_s } => {
                if !(0.0..1.0).contains(&share) {
                    Err(ForecastError::Share(share))
                } else if !(step_s > 0.0 && step_s.is_finite()) {
                    Err(ForecastError::Step(step_s))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The state of each method.
#[derive(Clone, Debug)]
enum State {
    Last,
    Ewma {
        alpha: f64,
        level: f64,
    },
    /// `history[i]` is the latest observation at phase `i` (time mod period).
    SeasonalNaive {
        history: Vec<f64>,
    },
    HoltWinters {
        alpha: f64,
        beta: f64,
        gamma: f64,
        level: f64,
        trend: f64,
        /// During the first period: the observations; then the seasonal component by phase.
        season: Vec<f64>,
        period: usize,
    },
    Auto(Box<Mixture>),
}

/// A streaming forecaster with its running error scale.
#[derive(Clone, Debug)]
pub struct Forecaster {
    method: ForecastMethod,
    state: State,
    /// Observations so far.
    count: u64,
    /// The last observation.
    last: f64,
    /// Exponentially weighted mean of squared one-step errors.
    mse: f64,
    /// One-step errors so far.
    errors: u64,
    error_window: usize,
}

impl Forecaster {
    /// A forecaster with no observations, whose error scale averages over
    /// [`DEFAULT_ERROR_WINDOW`] intervals.
    pub fn new(method: ForecastMethod) -> Result<Forecaster, ForecastError> {
        method.check()?;
        let state = match method {
            ForecastMethod::Last => State::Last,
            ForecastMethod::Ewma { alpha } => State::Ewma { alpha, level: 0.0 },
            ForecastMethod::SeasonalNaive { period } => State::SeasonalNaive {
                history: vec![0.0; period],
            },
            ForecastMethod::HoltWinters {
                alpha,
                beta,
                gamma,
                period,
            } => State::HoltWinters {
                alpha,
                beta,
                gamma,
                level: 0.0,
                trend: 0.0,
                season: Vec::with_capacity(period),
                period,
            },
            ForecastMethod::Auto { share, step_s } => State::Auto(Box::new(Mixture::new(
                &Mixture::experts(step_s),
                1,
                DEFAULT_ETA,
                share,
            ))),
        };
        Ok(Forecaster {
            method,
            state,
            count: 0,
            last: 0.0,
            mse: 0.0,
            errors: 0,
            error_window: DEFAULT_ERROR_WINDOW,
        })
    }

    /// Sets how many recent intervals the error scale averages over (at least 1; `usize::MAX`
    /// gives the plain mean over all errors).
    pub fn with_error_window(mut self, intervals: usize) -> Forecaster {
        self.error_window = intervals.max(1);
        self
    }

    /// Sets the lead, in steps, at which `auto` scores its experts (at least 1; the lead the
    /// forecasts matter at). No effect on the other methods.
    pub fn scored_at(mut self, lead: usize) -> Forecaster {
        if let State::Auto(m) = &mut self.state {
            m.set_lead(lead);
        }
        self
    }

    /// The weights of `auto`'s experts now, with their methods (empty for the other methods).
    pub fn expert_weights(&self) -> Vec<(ForecastMethod, f64)> {
        match &self.state {
            State::Auto(m) => m.methods().zip(m.weights()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn method(&self) -> ForecastMethod {
        self.method
    }

    /// Observations so far.
    pub fn observations(&self) -> u64 {
        self.count
    }

    /// Root mean square of past one-step forecast errors (0 before the second observation).
    pub fn error_scale(&self) -> f64 {
        self.mse.sqrt()
    }

    /// Feeds the arrival rate of the interval that just ended.
    pub fn observe(&mut self, y: f64) {
        if self.count > 0 {
            let e = y - self.one_step();
            self.errors += 1;
            let w = (1.0 / self.errors as f64).max(1.0 / self.error_window as f64);
            self.mse += w * (e * e - self.mse);
        }
        let t = self.count;
        match &mut self.state {
            State::Last => {}
            State::Ewma { alpha, level } => {
                *level = if t == 0 {
                    y
                } else {
                    *alpha * y + (1.0 - *alpha) * *level
                };
            }
            State::SeasonalNaive { history } => {
                let p = history.len();
                history[(t % p as u64) as usize] = y;
            }
            State::HoltWinters {
                alpha,
                beta,
                gamma,
                level,
                trend,
                season,
                period,
            } => {
                let p = *period;
                if (t as usize) < p {
                    season.push(y);
                    if season.len() == p {
                        *level = season.iter().sum::<f64>() / p as f64;
                        *trend = 0.0;
                        for s in season.iter_mut() {
                            *s -= *level;
                        }
                    }
                } else {
                    let phase = (t % p as u64) as usize;
                    let prev = *level;
                    *level = *alpha * (y - season[phase]) + (1.0 - *alpha) * (prev + *trend);
                    *trend = *beta * (*level - prev) + (1.0 - *beta) * *trend;
                    season[phase] = *gamma * (y - *level) + (1.0 - *gamma) * season[phase];
                }
            }
            State::Auto(m) => m.observe(y),
        }
        self.last = y;
        self.count += 1;
    }

    /// The unclamped point forecast `h ≥ 1` intervals ahead.
    fn point(&self, h: usize) -> f64 {
        let t = self.count; // index of the next interval
        match &self.state {
            State::Last => self.last,
            State::Ewma { level, .. } => *level,
            State::SeasonalNaive { history } => {
                let p = history.len() as u64;
                if t < p {
                    self.last
                } else {
                    history[((t - 1 + h as u64) % p) as usize]
                }
            }
            State::HoltWinters {
                level,
                trend,
                season,
                period,
                ..
            } => {
                let p = *period as u64;
                if t < p {
                    self.last
                } else {
                    level + h as f64 * trend + season[((t - 1 + h as u64) % p) as usize]
                }
            }
            State::Auto(m) => m.forecast_at(h),
        }
    }

    /// The forecast `h ≥ 1` steps ahead (never negative; 0 before any observation).
    pub fn forecast_at(&self, h: usize) -> f64 {
        self.point(h.max(1)).max(0.0)
    }

    fn one_step(&self) -> f64 {
        self.point(1).max(0.0)
    }

    /// Fills `out[i]` with the forecast `i + 1` intervals ahead (0 before any observation).
    pub fn forecast(&self, out: &mut [f64]) {
        if let State::Auto(m) = &self.state {
            return m.forecast(out);
        }
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.point(i + 1).max(0.0);
        }
    }

    /// Fills `out[i]` with the upper forecast `i + 1` intervals ahead:
    /// `max(0, forecast + margin · error_scale)`.
    pub fn upper(&self, margin: f64, out: &mut [f64]) {
        let shift = margin * self.error_scale();
        for (i, v) in out.iter_mut().enumerate() {
            *v = (self.point(i + 1) + shift).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_methods(period: usize) -> Vec<ForecastMethod> {
        vec![
            ForecastMethod::Last,
            ForecastMethod::Ewma { alpha: 0.3 },
            ForecastMethod::SeasonalNaive { period },
            ForecastMethod::HoltWinters {
                alpha: 0.3,
                beta: 0.1,
                gamma: 0.2,
                period,
            },
        ]
    }

    fn fed(method: ForecastMethod, ys: &[f64]) -> Forecaster {
        let mut f = Forecaster::new(method).unwrap();
        for &y in ys {
            f.observe(y);
        }
        f
    }

    #[test]
    fn a_constant_series_is_forecast_exactly_by_all() {
        let ys = vec![42.5; 50];
        for m in all_methods(7) {
            let f = fed(m, &ys);
            let mut out = vec![0.0; 20];
            f.forecast(&mut out);
            assert!(out.iter().all(|&v| v == 42.5), "{m:?}: {out:?}");
            assert_eq!(f.error_scale(), 0.0, "{m:?}");
            f.upper(2.0, &mut out);
            assert!(out.iter().all(|&v| v == 42.5));
        }
    }

    #[test]
    fn a_step_gives_the_textbook_responses() {
        // 10 intervals at 100, then 200.
        let mut ys = vec![100.0; 10];
        ys.extend(vec![200.0; 5]);
        let mut out = [0.0; 3];
        // Persistence follows at once.
        fed(ForecastMethod::Last, &ys).forecast(&mut out);
        assert_eq!(out, [200.0; 3]);
        // EWMA: k observations after the step the level is 200 - 100 (1 - α)^k.
        let alpha = 0.25;
        for k in 1..=5 {
            let f = fed(ForecastMethod::Ewma { alpha }, &ys[..10 + k]);
            f.forecast(&mut out);
            let want = 200.0 - 100.0 * (1.0 - alpha).powi(k as i32);
            assert!((out[0] - want).abs() < 1e-12, "k={k}");
            assert_eq!(out[0], out[2], "flat forecast");
        }
        // Persistence's one-step errors: one error of 100 among 14 (plain mean).
        let mut f = Forecaster::new(ForecastMethod::Last)
            .unwrap()
            .with_error_window(usize::MAX);
        for &y in &ys {
            f.observe(y);
        }
        assert_eq!(f.observations(), 15);
        assert!((f.error_scale() - (100.0f64 * 100.0 / 14.0).sqrt()).abs() < 1e-12);
        // Seasonal naive (period 4) repeats the last period: one step after the jump it
        // still forecasts the old level for the phases it has not seen at 200.
        let f = fed(ForecastMethod::SeasonalNaive { period: 4 }, &ys[..11]);
        let mut out = [0.0; 5];
        f.forecast(&mut out);
        assert_eq!(out, [100.0, 100.0, 100.0, 200.0, 100.0]);
    }

    #[test]
    fn a_pure_seasonal_series() {
        let p = 24;
        let season = |t: usize| 100.0 + 60.0 * (std::f64::consts::TAU * t as f64 / p as f64).sin();
        let ys: Vec<f64> = (0..5 * p + 5).map(season).collect();
        // Seasonal naive is exact after one period.
        let f = fed(ForecastMethod::SeasonalNaive { period: p }, &ys);
        let mut out = vec![0.0; 3 * p];
        f.forecast(&mut out);
        for (i, &v) in out.iter().enumerate() {
            assert!((v - season(ys.len() + i)).abs() < 1e-9, "h={}", i + 1);
        }
        // Holt-Winters, initialised on the first period, is exact from then on.
        let hw = ForecastMethod::HoltWinters {
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.2,
            period: p,
        };
        let f = fed(hw, &ys);
        f.forecast(&mut out);
        for (i, &v) in out.iter().enumerate() {
            assert!((v - season(ys.len() + i)).abs() < 1e-9, "h={}", i + 1);
        }
        // Persistence on a sinusoid of amplitude A and period p: the one-step error is
        // y_t - y_{t-1} = 2A sin(π/p) cos(2π(t - 1/2)/p), whose mean square over whole periods
        // is 2A² sin²(π/p).
        let ys: Vec<f64> = (0..4 * p + 1).map(season).collect();
        let mut f = Forecaster::new(ForecastMethod::Last)
            .unwrap()
            .with_error_window(usize::MAX);
        for &y in &ys {
            f.observe(y);
        }
        let want = 2f64.sqrt() * 60.0 * (std::f64::consts::PI / p as f64).sin();
        assert!((f.error_scale() - want).abs() < 1e-9 * want);
    }

    #[test]
    fn holt_winters_learns_a_trend_under_the_season() {
        // Initialised with trend 0, Holt-Winters learns the slope; its error decays as a
        // damped oscillation (about 1e-4 absolute after 100 periods with these smoothings).
        let p = 12;
        let y = |t: usize| {
            500.0 + 3.0 * t as f64 + 80.0 * (std::f64::consts::TAU * t as f64 / p as f64).cos()
        };
        let ys: Vec<f64> = (0..100 * p).map(y).collect();
        let hw = ForecastMethod::HoltWinters {
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.2,
            period: p,
        };
        let f = fed(hw, &ys);
        let mut out = vec![0.0; p];
        f.forecast(&mut out);
        for (i, &v) in out.iter().enumerate() {
            let want = y(ys.len() + i);
            assert!((v - want).abs() < 1e-6 * want, "h={}: {v} vs {want}", i + 1);
        }
        // Seasonal naive lags the trend by exactly one period: 3 · p below.
        let f = fed(ForecastMethod::SeasonalNaive { period: p }, &ys);
        f.forecast(&mut out);
        for (i, &v) in out.iter().enumerate() {
            assert!((v - (y(ys.len() + i) - 3.0 * p as f64)).abs() < 1e-9);
        }
    }

    #[test]
    fn forecasts_are_never_negative_and_upper_adds_the_margin() {
        // A falling series drives Holt-Winters' trend negative.
        let ys: Vec<f64> = (0..30).map(|t| (100.0 - 8.0 * t as f64).max(0.0)).collect();
        let f = fed(
            ForecastMethod::HoltWinters {
                alpha: 0.9,
                beta: 0.9,
                gamma: 0.1,
                period: 2,
            },
            &ys,
        );
        let mut out = vec![0.0; 10];
        f.forecast(&mut out);
        assert!(out.iter().all(|&v| v >= 0.0));
        // upper = forecast + margin · scale, where positive.
        let g = fed(ForecastMethod::Last, &[10.0, 14.0, 12.0]);
        let scale = g.error_scale();
        assert!((scale - ((16.0 + 4.0) / 2.0f64).sqrt()).abs() < 1e-12);
        let mut up = [0.0; 2];
        g.upper(1.5, &mut up);
        assert_eq!(up, [12.0 + 1.5 * scale; 2]);
        g.upper(-100.0, &mut up);
        assert_eq!(up, [0.0; 2]);
        // No observation: zero.
        let f = Forecaster::new(ForecastMethod::Ewma { alpha: 0.5 }).unwrap();
        f.forecast(&mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn error_scale_is_windowed() {
        // After a burst of errors, the windowed scale decays; the plain mean does not.
        let mut ys = vec![0.0, 100.0, 0.0, 100.0];
        ys.extend(vec![50.0; 300]);
        let mut w = Forecaster::new(ForecastMethod::Last)
            .unwrap()
            .with_error_window(10);
        let mut all = Forecaster::new(ForecastMethod::Last)
            .unwrap()
            .with_error_window(usize::MAX);
        for &y in &ys {
            w.observe(y);
            all.observe(y);
        }
        // Past the first 10 errors each step keeps 9/10 of the mean square: about 0.9^290 of
        // it is left, about 1e-6 of the scale.
        assert!(w.error_scale() < 1e-5 * all.error_scale());
        assert!(all.error_scale() > 10.0);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Forecaster::new(ForecastMethod::Ewma { alpha: 0.0 }).is_err());
        assert!(Forecaster::new(ForecastMethod::Ewma { alpha: 1.5 }).is_err());
        assert_eq!(
            Forecaster::new(ForecastMethod::SeasonalNaive { period: 0 }).unwrap_err(),
            ForecastError::ZeroPeriod
        );
        let e = ForecastMethod::HoltWinters {
            alpha: 0.5,
            beta: -0.1,
            gamma: 0.1,
            period: 3,
        }
        .check()
        .unwrap_err();
        assert_eq!(e.to_string(), "`beta` must be in [0, 1], found -0.1");
    }
}
