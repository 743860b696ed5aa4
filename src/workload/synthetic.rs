//! Synthetic arrival processes, generated lazily.
//!
//! - [`Piecewise`]: Poisson arrivals at a rate that is constant between given change points
//!   (`poisson`, `step` and `spike` workloads). Because the exponential distribution is
//!   memoryless, a gap that would cross a change point is discarded and drawing restarts at the
//!   change point with the new rate: the result is exactly the non-homogeneous Poisson process.
//! - [`Diurnal`]: a sinusoidal rate, second by second: each second's Poisson count from a
//!   stream of its own, then its arrival times given the count (so counts per second can be
//!   read without generating the arrivals).
//! - [`Mmpp`]: a Markov-modulated Poisson process.
//!
//! Times are kept as integer nanoseconds; each exponential gap is rounded to the nearest
//! nanosecond, which biases nothing.

use super::ArrivalSource;
use crate::error::InputError;
use crate::rng::SimRng;
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Poisson};

/// An exponential gap at `rate` per second, in nanoseconds (rounded to nearest).
#[inline]
fn exp_gap_ns(rng: &mut SimRng, rate: f64) -> u64 {
    let e: f64 = Exp1.sample(rng);
    let ns = (e / rate * NANOS_PER_SEC as f64).round();
    if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

/// A given list of arrival times, replayed as they are (for tests and programs that build
/// their own arrivals). The times must be in non-decreasing order.
pub struct Fixed {
    times: std::vec::IntoIter<SimTime>,
}

impl Fixed {
    pub fn new(times: Vec<SimTime>) -> Self {
        debug_assert!(times.windows(2).all(|w| w[0] <= w[1]), "times out of order");
        Fixed {
            times: times.into_iter(),
        }
    }
}

impl ArrivalSource for Fixed {
    fn fill(&mut self, out: &mut Vec<SimTime>, max: usize) -> Result<usize, InputError> {
        let before = out.len();
        out.extend(self.times.by_ref().take(max));
        Ok(out.len() - before)
    }
}

/// Poisson arrivals with a piecewise-constant rate.
pub struct Piecewise {
    /// (start, rate per second), sorted by start; the first starts at 0.
    steps: Vec<(SimTime, f64)>,
    /// Index of the current step.
    step: usize,
    /// Time of the last arrival (or of the last change point crossed).
    now: u64,
    rng: SimRng,
}

impl Piecewise {
    pub fn new(steps: Vec<(SimTime, f64)>, rng: SimRng) -> Self {
        Piecewise {
            steps,
            step: 0,
            now: 0,
            rng,
        }
    }

    fn next_change(&self) -> u64 {
        self.steps.get(self.step + 1).map_or(u64::MAX, |s| s.0.0)
    }
}

impl ArrivalSource for Piecewise {
    fn fill(&mut self, out: &mut Vec<SimTime>, max: usize) -> Result<usize, InputError> {
        let mut n = 0;
        while n < max && self.step < self.steps.len() {
            let rate = self.steps[self.step].1;
            let change = self.next_change();
            if rate <= 0.0 {
                if change == u64::MAX {
                    self.step = self.steps.len();
                    break;
                }
                self.now = change;
                self.step += 1;
                continue;
            }
            let t = self.now.saturating_add(exp_gap_ns(&mut self.rng, rate));
            if t >= change {
                self.now = change;
                self.step += 1;
                continue;
            }
            if t == u64::MAX {
                self.step = self.steps.len();
                break;
            }
            self.now = t;
            out.push(SimTime(t));
            n += 1;
        }
        Ok(n)
    }
}

/// Non-homogeneous Poisson arrivals with a sinusoidal rate, generated second by second.
///
/// Each whole second `k` has a random stream of its own, [`crate::rng::substream`] `k` of a seed drawn
/// once from the replication's `arrivals` stream. From it the second first draws its count,
/// Poisson with mean `∫ rate` over the second (in closed form), then that many arrival times,
/// independent with density `rate(t) / mean` within the second (by rejection under a bound of
/// the rate over the second), sorted. Given their number, the points of a Poisson process in
/// an interval are independent with that density, so this is exactly the non-homogeneous
/// Poisson process. And a second's count can be drawn without its times
/// ([`ArrivalSource::counts_per_second`]): the oracle reads a day of arrivals that way, the
/// very counts the simulation replays, without generating each arrival.
pub struct Diurnal {
    rate: f64,
    amplitude: f64,
    period_s: f64,
    phase: f64,
    /// Seed of the per-second streams.
    base: u64,
    /// The next second to generate.
    second: u64,
    /// The arrivals of the second generated last, sorted, and how many were handed out.
    pending: Vec<SimTime>,
    cursor: usize,
}

/// Seconds a nanosecond clock can hold.
const LAST_SECOND: u64 = u64::MAX / NANOS_PER_SEC;

impl Diurnal {
    pub fn new(
        rate: f64,
        amplitude: f64,
        period: SimDuration,
        phase: f64,
        mut rng: SimRng,
    ) -> Self {
        Diurnal {
            rate,
            amplitude,
            period_s: period.as_secs_f64(),
            phase,
            base: rng.random(),
            second: 0,
            pending: Vec::new(),
            cursor: 0,
        }
    }

    /// The arrival rate at time `t` (seconds).
    pub fn rate_at(&self, t: f64) -> f64 {
        diurnal_rate(self.rate, self.amplitude, self.period_s, self.phase, t)
    }

    /// The sine's angle at time `t` (seconds).
    fn angle(&self, t: f64) -> f64 {
        std::f64::consts::TAU * (t / self.period_s + self.phase)
    }

    /// The expected arrivals of second `k`: `rate (1 + a (cos θ(k) − cos θ(k+1)) / w)` with
    /// `w = 2π / period`, the difference of cosines written as a product (no cancellation).
    fn mean_in_second(&self, k: u64) -> f64 {
        let w = std::f64::consts::TAU / self.period_s;
        let mid = self.angle(k as f64 + 0.5);
        let m = self.rate * (1.0 + self.amplitude * 2.0 * mid.sin() * (w / 2.0).sin() / w);
        m.max(0.0)
    }

    /// Second `k`'s stream, and its count drawn from it (the stream's first draw).
    fn count(&self, k: u64) -> (SimRng, u64) {
        let mut rng = crate::rng::substream(self.base, k);
        let mean = self.mean_in_second(k);
        let n = match Poisson::new(mean) {
            Ok(p) => p.sample(&mut rng) as u64,
            // A mean of 0 (or beyond Poisson::MAX_LAMBDA, 1.8e19 a second).
            Err(_) => 0,
        };
        (rng, n)
    }

    /// Generates second `k` into `pending`.
    fn generate(&mut self, k: u64) {
        let (mut rng, n) = self.count(k);
        self.pending.clear();
        self.cursor = 0;
        // The rate over the second is at most its larger end plus half the sine's largest
        // change over a second (its slope is at most w); a hair above, against rounding.
        let w = std::f64::consts::TAU / self.period_s;
        let (s0, s1) = (self.angle(k as f64).sin(), self.angle(k as f64 + 1.0).sin());
        let top = (s0.max(s1) + w / 2.0).min(1.0);
        let bound = self.rate * (1.0 + self.amplitude * top) * (1.0 + 1e-9);
        let start = k * NANOS_PER_SEC;
        for _ in 0..n {
            loop {
                let u: f64 = rng.random();
                let v: f64 = rng.random();
                if v * bound < self.rate_at(k as f64 + u) {
                    let ns = ((u * NANOS_PER_SEC as f64) as u64).min(NANOS_PER_SEC - 1);
                    self.pending.push(SimTime(start + ns));
                    break;
                }
            }
        }
        self.pending.sort_unstable();
    }
}

/// rate (1 + amplitude sin(2π (t / period + phase))).
pub fn diurnal_rate(rate: f64, amplitude: f64, period_s: f64, phase: f64, t: f64) -> f64 {
    rate * (1.0 + amplitude * (std::f64::consts::TAU * (t / period_s + phase)).sin())
}

impl ArrivalSource for Diurnal {
    fn fill(&mut self, out: &mut Vec<SimTime>, max: usize) -> Result<usize, InputError> {
        if self.rate * (1.0 + self.amplitude) <= 0.0 {
            return Ok(0);
        }
        let mut n = 0;
        while n < max {
            if self.cursor == self.pending.len() {
                if self.second >= LAST_SECOND {
                    break;
                }
                let k = self.second;
                self.second += 1;
                self.generate(k);
                continue;
            }
            let take = (max - n).min(self.pending.len() - self.cursor);
            out.extend_from_slice(&self.pending[self.cursor..self.cursor + take]);
            self.cursor += take;
            n += take;
        }
        Ok(n)
    }

    fn counts_per_second(&mut self, seconds: u64) -> Option<Vec<u64>> {
        if self.second != 0 {
            return None;
        }
        Some(
            (0..seconds.min(LAST_SECOND))
                .map(|k| self.count(k).1)
                .collect(),
        )
    }
}

/// A Markov-modulated Poisson process.
///
/// State i emits Poisson arrivals at `rates[i]` and lasts an exponential time of mean
/// `mean_durations[i]`; the next state is drawn uniformly among the other states (with two
/// states, they alternate). The first state is drawn from the stationary distribution, which
/// is proportional to the mean durations, so the process is stationary from time 0 and its mean
/// rate is Σ rate_i d_i / Σ d_i.
pub struct Mmpp {
    rates: Vec<f64>,
    mean_durations_s: Vec<f64>,
    state: usize,
    state_end: u64,
    now: u64,
    rng: SimRng,
}

impl Mmpp {
    pub fn new(rates: Vec<f64>, mean_durations: Vec<SimDuration>, mut rng: SimRng) -> Self {
        let mean_durations_s: Vec<f64> = mean_durations.iter().map(|d| d.as_secs_f64()).collect();
        let total: f64 = mean_durations_s.iter().sum();
        let mut u: f64 = rng.random::<f64>() * total;
        let mut state = mean_durations_s.len() - 1;
        for (i, d) in mean_durations_s.iter().enumerate() {
            if u < *d {
                state = i;
                break;
            }
            u -= d;
        }
        let mut m = Mmpp {
            rates,
            mean_durations_s,
            state,
            state_end: 0,
            now: 0,
            rng,
        };
        m.state_end = m.sojourn_ns();
        m
    }

    fn sojourn_ns(&mut self) -> u64 {
        exp_gap_ns(&mut self.rng, 1.0 / self.mean_durations_s[self.state])
    }

    fn switch_state(&mut self) {
        let k = self.rates.len();
        if k > 1 {
            let r = self.rng.random_range(0..k - 1);
            self.state = if r >= self.state { r + 1 } else { r };
        }
        self.now = self.state_end;
        self.state_end = self.state_end.saturating_add(self.sojourn_ns());
    }
}

impl ArrivalSource for Mmpp {
    fn fill(&mut self, out: &mut Vec<SimTime>, max: usize) -> Result<usize, InputError> {
        if self.rates.iter().all(|r| *r <= 0.0) {
            return Ok(0);
        }
        let mut n = 0;
        while n < max {
            let rate = self.rates[self.state];
            if rate <= 0.0 {
                self.switch_state();
                continue;
            }
            let t = self.now.saturating_add(exp_gap_ns(&mut self.rng, rate));
            if t >= self.state_end {
                if self.state_end == u64::MAX {
                    return Ok(n);
                }
                self.switch_state();
                continue;
            }
            self.now = t;
            out.push(SimTime(t));
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn collect_until(src: &mut dyn ArrivalSource, end: SimTime) -> Vec<SimTime> {
        let mut all = Vec::new();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = src.fill(&mut buf, 1024).unwrap();
            if n == 0 {
                break;
            }
            let done = buf.last().is_some_and(|t| *t >= end);
            all.extend(buf.iter().copied().filter(|t| *t < end));
            if done {
                break;
            }
        }
        all
    }

    /// Count in [0, T) of a Poisson process is Poisson(λT): mean λT, sd sqrt(λT).
    #[test]
    fn poisson_count_matches_rate() {
        let mut src = Piecewise::new(vec![(SimTime::ZERO, 100.0)], rng::stream(1, 0, "arrivals"));
        let a = collect_until(&mut src, SimTime::from_secs_f64(10_000.0));
        let expected = 1_000_000.0;
        assert!(
            ((a.len() as f64) - expected).abs() < 4.0 * expected.sqrt(),
            "{}",
            a.len()
        );
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn steps_change_rate_at_their_times() {
        let steps = vec![
            (SimTime::ZERO, 10.0),
            (SimTime::from_secs_f64(1000.0), 0.0),
            (SimTime::from_secs_f64(2000.0), 50.0),
        ];
        let mut src = Piecewise::new(steps, rng::stream(2, 0, "arrivals"));
        let a = collect_until(&mut src, SimTime::from_secs_f64(3000.0));
        let first = a.iter().filter(|t| t.as_secs_f64() < 1000.0).count() as f64;
        let silent = a
            .iter()
            .filter(|t| (1000.0..2000.0).contains(&t.as_secs_f64()))
            .count();
        let last = a.iter().filter(|t| t.as_secs_f64() >= 2000.0).count() as f64;
        assert_eq!(silent, 0);
        assert!((first - 10_000.0).abs() < 4.0 * 100.0, "{first}");
        assert!((last - 50_000.0).abs() < 4.0 * 50_000f64.sqrt(), "{last}");
    }

    #[test]
    fn a_final_zero_rate_exhausts_the_source() {
        let steps = vec![(SimTime::ZERO, 5.0), (SimTime::from_secs_f64(10.0), 0.0)];
        let mut src = Piecewise::new(steps, rng::stream(3, 0, "arrivals"));
        let a = collect_until(&mut src, SimTime::MAX);
        assert!(a.iter().all(|t| t.as_secs_f64() < 10.0));
        let mut buf = Vec::new();
        assert_eq!(src.fill(&mut buf, 10).unwrap(), 0);
    }

    /// Over whole periods the diurnal mean rate is `rate`; in the peak quarter it is higher.
    #[test]
    fn diurnal_follows_the_sine() {
        let period = SimDuration::from_secs(1000);
        let mut src = Diurnal::new(100.0, 0.5, period, 0.0, rng::stream(4, 0, "arrivals"));
        let a = collect_until(&mut src, SimTime::from_secs_f64(100_000.0));
        let n = a.len() as f64;
        assert!((n - 1e7).abs() < 4.0 * 1e7f64.sqrt(), "{n}");
        // Expected count in the first quarter of each period: rate*(T/4 + a*T/(2π)).
        let q = a
            .iter()
            .filter(|t| (t.as_secs_f64() % 1000.0) < 250.0)
            .count() as f64;
        let expected_q = 100.0 * 100.0 * (250.0 + 0.5 * 1000.0 / std::f64::consts::TAU);
        assert!(
            (q - expected_q).abs() < 4.0 * expected_q.sqrt(),
            "{q} vs {expected_q}"
        );
    }

    /// Counts per second, drawn without the arrivals, are the arrivals `fill` yields, also
    /// with a period of a few seconds (the rate bound's slope term) and a rate touching 0.
    #[test]
    fn diurnal_counts_per_second_are_its_arrivals() {
        for (rate, amplitude, period, phase) in [(50.0, 0.8, 600, 0.0), (7.0, 1.0, 3, 0.25)] {
            let make = || {
                Diurnal::new(
                    rate,
                    amplitude,
                    SimDuration::from_secs(period),
                    phase,
                    rng::stream(6, 0, "arrivals"),
                )
            };
            let counts = make().counts_per_second(1800).unwrap();
            let a = collect_until(&mut make(), SimTime::from_secs_f64(1800.0));
            let mut from_fill = vec![0u64; 1800];
            for t in &a {
                from_fill[(t.0 / NANOS_PER_SEC) as usize] += 1;
            }
            assert_eq!(counts, from_fill);
            assert!(a.windows(2).all(|w| w[0] <= w[1]));
            // Over whole periods the mean is `rate`: 1800 s hold whole periods of both.
            let n = a.len() as f64;
            let expected = rate * 1800.0;
            assert!((n - expected).abs() < 4.0 * expected.sqrt(), "{n}");
        }
        // Once read, a source does not count.
        let mut src = Diurnal::new(
            5.0,
            0.5,
            SimDuration::from_secs(60),
            0.0,
            rng::stream(6, 0, "a"),
        );
        let mut buf = Vec::new();
        src.fill(&mut buf, 1).unwrap();
        assert_eq!(src.counts_per_second(10), None);
    }

    /// The long-run MMPP rate is Σ rate_i d_i / Σ d_i.
    #[test]
    fn mmpp_mean_rate() {
        let mut src = Mmpp::new(
            vec![20.0, 300.0],
            vec![SimDuration::from_secs(600), SimDuration::from_secs(60)],
            rng::stream(5, 0, "arrivals"),
        );
        let horizon = 2_000_000.0;
        let a = collect_until(&mut src, SimTime::from_secs_f64(horizon));
        let expected = (20.0 * 600.0 + 300.0 * 60.0) / 660.0 * horizon;
        // The count's variance comes mostly from the state durations: per on/off cycle the
        // count has mean 30,000 and sd sqrt(20²·600² + 300²·60²) ≈ 21,600, so over ~3,030
        // cycles the total has a relative sd of about 1.3%; 5% is about 4 sd.
        assert!(
            ((a.len() as f64) - expected).abs() < 0.05 * expected,
            "{}",
            a.len()
        );
    }
}
