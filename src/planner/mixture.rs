//! Forecasters chosen online: a set of forecasters run side by side, weighted by the losses
//! each would have realised (exponential weights with a fixed share).
//!
//! [`FixedShare`] is the weighting rule of Herbster and Warmuth, "Tracking the best expert"
//! (Machine Learning 32, 1998), with sleeping experts (Freund, Schapire, Singer, Warmuth,
//! "Using and combining predictors that specialize", STOC 1997): at each round every awake
//! expert's weight is multiplied by `exp(−η · loss)`, the awake experts' weights are scaled
//! back to the total they had before (a sleeping expert's weight is left as it was), and a
//! fraction `share` of that total is then spread evenly over the awake experts. The share is
//! what lets the weights switch when the best expert changes: no awake expert's weight falls
//! below `share / awake` of the awake total, so one that becomes best overtakes the previous
//! best within `⌈ln(awake / share) / (η δ)⌉` rounds if it loses `δ` less per round
//! ([`FixedShare::switch_bound`]).
//!
//! [`Mixture`] is the `auto` forecaster: the experts of [`Mixture::experts`] (last value,
//! EWMA, Holt-Winters at several seasons, seasonal naive at a day) observe every rate; each
//! forecast an expert makes `lead` steps ahead is scored, once its step has been observed, by
//! its squared error in square-root scale `(√y − √f)²`, relative to a running scale of the
//! experts' losses (the exponentially weighted mean, over [`LOSS_SCALE_ROUNDS`] rounds, of the
//! median awake expert's loss), so that the learning rate [`DEFAULT_ETA`] means the same at
//! every rate and on every trace, and capped at [`LOSS_CAP`] so that one surge cannot hand
//! every weight to whichever expert happened to be high. A seasonal expert sleeps (has no
//! weight, and is not scored) until one whole season has been observed, then wakes at the
//! least weight the share leaves any expert ([`FixedShare::wake`]): a noisy season learnt from
//! one pass has to earn its weight. The mixture forecasts the weighted mean of the awake
//! experts' forecasts.
//!
//! Everything is deterministic; each observation costs `O(experts)` plus the experts' own
//! work.

use super::forecast::{ForecastMethod, Forecaster};
use std::collections::VecDeque;

/// Default learning rate `η`, per unit of relative loss.
pub const DEFAULT_ETA: f64 = 0.5;
/// Default share `α` of the fixed-share step.
pub const DEFAULT_SHARE: f64 = 0.005;
/// The largest relative loss of one round: one surge cannot swing the weights by more than
/// `exp(η · LOSS_CAP)`.
pub const LOSS_CAP: f64 = 4.0;
/// Rounds over which the loss scale is averaged (a plain mean before that many).
pub const LOSS_SCALE_ROUNDS: usize = 100;
/// The seasons of the Holt-Winters experts, seconds: 15 minutes, 1 hour, 2 hours, 1 day.
pub const SEASONS_S: [f64; 4] = [900.0, 3600.0, 7200.0, 86_400.0];
/// The season of the seasonal naive expert, seconds (one day).
pub const NAIVE_SEASON_S: f64 = 86_400.0;
/// A season of more steps than this is left out (memory: one number per step of a season).
pub const MAX_PERIOD: usize = 1 << 18;

/// Exponential weights with a fixed share over experts that may sleep (module documentation).
#[derive(Clone, Debug)]
pub struct FixedShare {
    weights: Vec<f64>,
    eta: f64,
    share: f64,
}

impl FixedShare {
    /// `n` experts of equal weight `1 / n`; learning rate `eta > 0`, `share` in `[0, 1)`.
    pub fn new(n: usize, eta: f64, share: f64) -> FixedShare {
        FixedShare {
            weights: vec![1.0 / n.max(1) as f64; n],
            eta,
            share,
        }
    }

    /// The weights (sleeping experts included; they sum to 1 until an expert wakes).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// One round: `losses[i]` is the loss of expert `i`, `None` if it sleeps. A round with no
    /// awake expert changes nothing.
    pub fn update(&mut self, losses: &[Option<f64>]) {
        let awake = losses.iter().filter(|l| l.is_some()).count();
        let Some(least) = losses.iter().flatten().copied().reduce(f64::min) else {
            return;
        };
        let mut before = 0.0;
        let mut after = 0.0;
        for (w, l) in self.weights.iter_mut().zip(losses) {
            if let Some(l) = l {
                before += *w;
                // Relative to the least loss, so the largest factor is 1 (no overflow).
                *w *= (-self.eta * (l - least)).exp();
                after += *w;
            }
        }
        if after <= 0.0 || before <= 0.0 {
            return;
        }
        let scale = before / after;
        let floor = self.share * before / awake as f64;
        for (w, l) in self.weights.iter_mut().zip(losses) {
            if l.is_some() {
                *w = (1.0 - self.share) * *w * scale + floor;
            }
        }
    }

    /// Wakes expert `i`: its weight becomes `share / awake` of the total of the other awake
    /// experts (`awake[j]`), the least weight the share step leaves any awake expert, so a new
    /// expert has to earn its weight. With no other expert awake its weight is left as it was.
    pub fn wake(&mut self, i: usize, awake: &[bool]) {
        let others: Vec<usize> = (0..self.weights.len())
            .filter(|&j| j != i && awake[j])
            .collect();
        if others.is_empty() {
            return;
        }
        let total: f64 = others.iter().map(|&j| self.weights[j]).sum();
        self.weights[i] = self.share * total / others.len() as f64;
    }

    /// The rounds within which an expert that loses `gap` less than every other awake expert
    /// per round has the largest weight, from any weights: `⌈ln(awake / share) / (η · gap)⌉`.
    /// (After any round it has at least `share / awake` of the awake total, so its weight is at
    /// least that fraction of any other's; while below another's, the ratio grows by at least
    /// `exp(η · gap)` per round, since mixing in an equal amount raises a ratio below 1.)
    pub fn switch_bound(&self, awake: usize, gap: f64) -> usize {
        ((awake as f64 / self.share).ln() / (self.eta * gap)).ceil() as usize
    }
}

/// A forecast waiting for its step: the step's index and each expert's forecast (`None` for
/// an expert asleep when it was made).
#[derive(Clone, Debug)]
struct Pending {
    target: u64,
    forecasts: Vec<Option<f64>>,
}

/// The `auto` forecaster: experts weighted online (module documentation).
#[derive(Clone, Debug)]
pub struct Mixture {
    experts: Vec<Forecaster>,
    /// Observations each expert needs before it is awake (its season; 1 for the others).
    wake: Vec<u64>,
    weights: FixedShare,
    /// Lead, in steps, of the forecasts that are scored.
    lead: usize,
    pending: VecDeque<Pending>,
    /// Running scale of the losses and the rounds it has seen.
    scale: f64,
    rounds: u64,
    /// Observations so far.
    count: u64,
}

impl Mixture {
    /// The experts of the `auto` forecaster for a step of `step_s` seconds: last value, EWMA
    /// (`α` 0.5), Holt-Winters at each season of [`SEASONS_S`] and seasonal naive at
    /// [`NAIVE_SEASON_S`] (default smoothings), a season being rounded to whole steps and left
    /// out if that is under 2 steps, over [`MAX_PERIOD`], or a season already in the list.
    pub fn experts(step_s: f64) -> Vec<ForecastMethod> {
        let mut out = vec![
            ForecastMethod::Last,
            ForecastMethod::Ewma {
                alpha: super::forecast::DEFAULT_EWMA_ALPHA,
            },
        ];
        let period = |s: f64| {
            let p = (s / step_s).round();
            (p >= 2.0 && p <= MAX_PERIOD as f64).then_some(p as usize)
        };
        let mut seen = Vec::new();
        for s in SEASONS_S {
            if let Some(p) = period(s)
                && !seen.contains(&p)
            {
                seen.push(p);
                out.push(ForecastMethod::HoltWinters {
                    alpha: super::forecast::DEFAULT_HW_ALPHA,
                    beta: super::forecast::DEFAULT_HW_BETA,
                    gamma: super::forecast::DEFAULT_HW_GAMMA,
                    period: p,
                });
            }
        }
        if let Some(p) = period(NAIVE_SEASON_S) {
            out.push(ForecastMethod::SeasonalNaive { period: p });
        }
        out
    }

    /// A mixture of `methods` (none of them `auto`), scored at `lead ≥ 1` steps ahead.
    pub fn new(methods: &[ForecastMethod], lead: usize, eta: f64, share: f64) -> Mixture {
        let experts: Vec<Forecaster> = methods
            .iter()
            .filter_map(|&m| Forecaster::new(m).ok())
            .collect();
        let wake = experts
            .iter()
            .map(|f| match f.method() {
                ForecastMethod::SeasonalNaive { period }
                | ForecastMethod::HoltWinters { period, .. } => period as u64,
                _ => 1,
            })
            .collect();
        Mixture {
            weights: FixedShare::new(experts.len(), eta, share),
            experts,
            wake,
            lead: lead.max(1),
            pending: VecDeque::new(),
            scale: 0.0,
            rounds: 0,
            count: 0,
        }
    }

    /// Sets the lead of the forecasts that are scored (at least 1), before any observation.
    pub fn set_lead(&mut self, lead: usize) {
        self.lead = lead.max(1);
    }

    /// The experts' methods.
    pub fn methods(&self) -> impl Iterator<Item = ForecastMethod> + '_ {
        self.experts.iter().map(|f| f.method())
    }

    /// Whether expert `i` is awake (has seen its whole season).
    fn awake(&self, i: usize) -> bool {
        self.count >= self.wake[i]
    }

    /// The weights of the experts for a forecast now: their fixed-share weights over the awake
    /// ones, summing to 1 (0 for the sleeping ones; all 0 before any observation).
    pub fn weights(&self) -> Vec<f64> {
        let w = self.weights.weights();
        let total: f64 = (0..w.len()).filter(|&i| self.awake(i)).map(|i| w[i]).sum();
        (0..w.len())
            .map(|i| {
                if self.awake(i) && total > 0.0 {
                    w[i] / total
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Feeds the rate of the step that just ended: scores the forecasts made for it, then
    /// passes it to every expert.
    pub fn observe(&mut self, y: f64) {
        while let Some(p) = self.pending.front() {
            if p.target > self.count {
                break;
            }
            let p = self.pending.pop_front().expect("a front entry");
            if p.target == self.count {
                self.score(&p.forecasts, y);
            }
        }
        for e in &mut self.experts {
            e.observe(y);
        }
        self.count += 1;
        // A seasonal expert that has just seen its first whole season wakes at the least weight.
        let awake: Vec<bool> = (0..self.experts.len()).map(|i| self.awake(i)).collect();
        for i in 0..self.experts.len() {
            if self.wake[i] > 1 && self.wake[i] == self.count {
                self.weights.wake(i, &awake);
            }
        }
        let forecasts = (0..self.experts.len())
            .map(|i| {
                self.awake(i)
                    .then(|| self.experts[i].forecast_at(self.lead))
            })
            .collect();
        self.pending.push_back(Pending {
            target: self.count - 1 + self.lead as u64,
            forecasts,
        });
    }

    fn score(&mut self, forecasts: &[Option<f64>], y: f64) {
        let ry = y.max(0.0).sqrt();
        let raw: Vec<Option<f64>> = forecasts
            .iter()
            .map(|f| f.map(|f| (ry - f.max(0.0).sqrt()).powi(2)))
            .collect();
        let mut awake: Vec<f64> = raw.iter().flatten().copied().collect();
        if awake.is_empty() {
            return;
        }
        awake.sort_by(f64::total_cmp);
        let median = awake[awake.len() / 2];
        self.rounds += 1;
        let w = (1.0 / self.rounds as f64).max(1.0 / LOSS_SCALE_ROUNDS as f64);
        self.scale += w * (median - self.scale);
        if self.scale <= 0.0 {
            // Every loss so far is 0 (at the median): nothing to tell the experts apart by yet.
            return;
        }
        let losses: Vec<Option<f64>> = raw
            .iter()
            .map(|l| l.map(|l| (l / self.scale).min(LOSS_CAP)))
            .collect();
        self.weights.update(&losses);
    }

    /// Fills `out[i]` with the forecast `i + 1` steps ahead: the weighted mean of the awake
    /// experts' forecasts (each never negative), written as the first awake expert's forecast
    /// plus the weighted differences, so that experts that agree give their common forecast
    /// exactly. 0 before any observation.
    pub fn forecast(&self, out: &mut [f64]) {
        let w = self.weights();
        out.fill(0.0);
        let Some(base) = (0..self.experts.len()).find(|&i| self.awake(i)) else {
            return;
        };
        self.experts[base].forecast(out);
        let mut other = vec![0.0; out.len()];
        let mut sum = out.to_vec();
        for (i, e) in self.experts.iter().enumerate() {
            if i != base && w[i] > 0.0 {
                e.forecast(&mut other);
                for ((s, o), b) in sum.iter_mut().zip(&other).zip(out.iter()) {
                    *s += w[i] * (o - b);
                }
            }
        }
        for (o, s) in out.iter_mut().zip(sum) {
            *o = s.max(0.0);
        }
    }

    /// The forecast `h ≥ 1` steps ahead (as [`Mixture::forecast`]).
    pub fn forecast_at(&self, h: usize) -> f64 {
        let mut out = vec![0.0; h.max(1)];
        self.forecast(&mut out);
        out[out.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index of the largest weight.
    fn best(w: &[f64]) -> usize {
        (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap()
    }

    #[test]
    fn fixed_share_switches_within_its_bound_and_hedge_does_not() {
        // Five experts; expert 0 is best by a loss of 1 for 300 rounds, then expert 3 is.
        let n = 5;
        let (eta, share) = (DEFAULT_ETA, DEFAULT_SHARE);
        let round = |good: usize| -> Vec<Option<f64>> {
            (0..n)
                .map(|i| Some(if i == good { 0.0 } else { 1.0 }))
                .collect()
        };
        let mut fs = FixedShare::new(n, eta, share);
        let mut hedge = FixedShare::new(n, eta, 0.0);
        for _ in 0..300 {
            fs.update(&round(0));
            hedge.update(&round(0));
        }
        assert_eq!(best(fs.weights()), 0);
        // Every awake weight keeps at least share / n of the total.
        assert!(fs.weights().iter().all(|&w| w >= share / n as f64 - 1e-15));
        // ⌈ln(5 / 0.005) / 0.5⌉ = ⌈13.8⌉ = 14 rounds.
        let bound = fs.switch_bound(n, 1.0);
        assert_eq!(bound, 14);
        let mut switched = None;
        for k in 1..=bound {
            fs.update(&round(3));
            if best(fs.weights()) == 3 {
                switched = Some(k);
                break;
            }
        }
        let k = switched.expect("fixed share switches within its bound");
        // The bound is not loose by much: the ratio starts near share / n · (1 − share) and
        // grows by e^η per round, so it needs more than half the bound.
        assert!(k > bound / 2, "switched after {k} rounds, bound {bound}");
        // Plain Hedge (no share) has let expert 3's weight fall by e^{-150} and needs about
        // as many rounds again: it has not switched after ten times the bound.
        for _ in 0..10 * bound {
            hedge.update(&round(3));
        }
        assert_eq!(best(hedge.weights()), 0);
        let total: f64 = fs.weights().iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sleeping_experts_keep_their_weight() {
        let mut fs = FixedShare::new(4, 1.0, 0.1);
        for _ in 0..20 {
            fs.update(&[Some(0.0), Some(2.0), None, None]);
        }
        // Asleep all along: their prior 1/4 each; the awake pair shares the other half.
        assert_eq!(fs.weights()[2], 0.25);
        assert_eq!(fs.weights()[3], 0.25);
        assert!((fs.weights()[0] + fs.weights()[1] - 0.5).abs() < 1e-12);
        assert!(fs.weights()[0] > 0.9 * 0.5);
        // No awake expert: nothing changes.
        let before = fs.weights().to_vec();
        fs.update(&[None; 4]);
        assert_eq!(fs.weights(), &before[..]);
    }

    fn auto(step_s: f64, lead: usize) -> Forecaster {
        Forecaster::new(ForecastMethod::Auto {
            share: DEFAULT_SHARE,
            step_s,
        })
        .unwrap()
        .scored_at(lead)
    }

    #[test]
    fn the_experts_at_a_20_s_step() {
        let hw = |period| ForecastMethod::HoltWinters {
            alpha: super::super::forecast::DEFAULT_HW_ALPHA,
            beta: super::super::forecast::DEFAULT_HW_BETA,
            gamma: super::super::forecast::DEFAULT_HW_GAMMA,
            period,
        };
        assert_eq!(
            Mixture::experts(20.0),
            vec![
                ForecastMethod::Last,
                ForecastMethod::Ewma { alpha: 0.5 },
                hw(45),
                hw(180),
                hw(360),
                hw(4320),
                ForecastMethod::SeasonalNaive { period: 4320 },
            ]
        );
        // At a 10-minute step the 15-minute season rounds to 2 steps; at 1 h it is gone.
        assert_eq!(Mixture::experts(600.0).len(), 7);
        assert_eq!(Mixture::experts(3600.0).len(), 5);
    }

    #[test]
    fn a_pure_one_hour_sinusoid_goes_to_the_one_hour_season() {
        // One-minute steps; a season of 60 steps. Fed 110 steps, the 2-hour and 1-day
        // experts still sleep; the 1-hour Holt-Winters is exact from step 60 on.
        let y = |t: usize| 100.0 + 60.0 * (std::f64::consts::TAU * t as f64 / 60.0).sin();
        let mut f = auto(60.0, 3);
        for t in 0..110 {
            f.observe(y(t));
        }
        let w = f.expert_weights();
        let one_hour = w
            .iter()
            .position(|(m, _)| matches!(m, ForecastMethod::HoltWinters { period: 60, .. }))
            .unwrap();
        // Four experts awake (last, ewma, 15 min, 1 h): the best keeps at most
        // 1 − share · 3/4 of the weight.
        assert!(w[one_hour].1 > 0.95, "{w:?}");
        assert!(w[one_hour].1 <= 1.0 - DEFAULT_SHARE * 0.75 + 1e-12);
        for (m, weight) in &w {
            if let ForecastMethod::HoltWinters { period, .. }
            | ForecastMethod::SeasonalNaive { period } = m
                && *period > 60
            {
                assert_eq!(*weight, 0.0, "{m:?} sleeps");
            }
        }
        // The forecast follows the sinusoid within the others' 5% of the weight.
        let mut out = vec![0.0; 10];
        f.forecast(&mut out);
        for (h, v) in out.iter().enumerate() {
            let want = y(110 + h);
            assert!((v - want).abs() < 0.05 * 120.0, "h={h}: {v} vs {want}");
        }
    }

    #[test]
    fn a_constant_is_forecast_exactly() {
        let mut f = auto(20.0, 4);
        let mut out = vec![0.0; 30];
        f.forecast(&mut out);
        assert!(out.iter().all(|&v| v == 0.0), "nothing observed: 0");
        for _ in 0..500 {
            f.observe(42.5);
        }
        f.forecast(&mut out);
        assert!(out.iter().all(|&v| v == 42.5), "{out:?}");
        // Every expert exact: no loss, so last and ewma keep equal weights, and the seasons that
        // woke (15 minutes, 1 hour, 2 hours: 500 steps of 20 s) keep the least weight.
        let w = f.expert_weights();
        assert_eq!(w[0].1, w[1].1);
        assert!(w[2].1 > 0.0 && w[2].1 < DEFAULT_SHARE, "{w:?}");
        assert_eq!(w[5].1, 0.0, "the 1-day season sleeps");
    }

    #[test]
    fn a_level_shift_moves_the_weight_from_the_season_to_persistence() {
        // A 15-minute season for 3 hours, then a flat level: Holt-Winters at 15 minutes keeps
        // forecasting the old season for a while; persistence and the EWMA are right at once.
        let step = 60.0;
        let y = |t: usize| {
            if t < 180 {
                50.0 + 30.0 * (std::f64::consts::TAU * t as f64 / 15.0).sin()
            } else {
                80.0
            }
        };
        let mut f = auto(step, 1);
        for t in 0..180 {
            f.observe(y(t));
        }
        // Every Holt-Winters season awake is a multiple of 15 minutes, so all are exact.
        let season = |f: &Forecaster| -> f64 {
            f.expert_weights()
                .iter()
                .filter(|(m, _)| matches!(m, ForecastMethod::HoltWinters { .. }))
                .map(|x| x.1)
                .sum()
        };
        assert!(season(&f) > 0.95, "{:?}", f.expert_weights());
        for t in 180..240 {
            f.observe(y(t));
        }
        assert!(season(&f) < 0.2, "{:?}", f.expert_weights());
        assert!(
            (f.forecast_at(1) - 80.0).abs() < 2.0,
            "{}",
            f.forecast_at(1)
        );
    }
}
