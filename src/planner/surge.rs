//! Surges: a long, decaying memory of load surges, by phase of the day (or of a shorter
//! period) where the trace has one, and the risk of one within a start-up delay.
//!
//! The online planner's ordinary forecast errors ([`super::uncertainty::LeadErrors`]) cover
//! how the load wanders around its forecast over the last hour. A **surge** is different: the
//! load jumps beyond the forecast's error band (an error in square-root scale above
//! [`Surges::band`]), rarely, and often at the same time of day (timers at :00, :15 and :30, a
//! feed refreshed every two hours). Kept among the ordinary errors, a surge makes the planner
//! hold headroom for exactly as long as the error window remembers it and then forget it,
//! whatever the surge's real rhythm. [`Surges`] keeps them apart:
//!
//! - **Events.** Seconds whose error exceeds the band are surge seconds; a surge event starts at
//!   the first of them and ends after [`GAP_S`] seconds without one. Each event records its
//!   onset, how long the load outran the forecast, and its mean error (square-root scale) over
//!   the first [`Surges::new`]`(.., horizon_s)` seconds.
//! - **Onset rate by phase, decaying.** Onsets and the time at risk (seconds outside an event)
//!   are counted with exponential decay of half-life [`HALF_LIFE_S`] (six hours) in phase bins
//!   of each candidate period of [`PERIODS_S`] (15 minutes, 1 hour, 2 hours, 1 day; [`BINS`]
//!   bins per period, at least [`MIN_BIN_S`] seconds each) and in one bin for all time (no
//!   period). A bin's rate is its decayed onsets over its decayed time at risk, shrunk towards
//!   the overall rate by a prior of [`PRIOR_PERIODS`] passes through the bin. Each model is
//!   scored as it goes by the decayed log-likelihood of the onsets it predicted (a Poisson
//!   process with its rates; prequential, so a model is never scored on what it has learnt
//!   from); the rate used is the best-scoring model's, among the aperiodic one and the periods
//!   seen at least [`MIN_PERIODS_SEEN`] times. So the phase only matters when it has predicted
//!   surges better than no phase.
//! - **Risk.** The probability of an onset in a window is `1 − exp(−∫ rate)`, the integral
//!   taken over the bins it crosses ([`Surges::probability`]).
//!
//! Everything is deterministic; each second costs `O(periods)`.

/// Half-life of the memory of surges, seconds.
pub const HALF_LIFE_S: f64 = 6.0 * 3600.0;
/// Candidate periods of the onsets, seconds.
pub const PERIODS_S: [f64; 4] = [900.0, 3600.0, 7200.0, 86_400.0];
/// Phase bins per period.
pub const BINS: usize = 48;
/// Shortest phase bin, seconds.
pub const MIN_BIN_S: f64 = 60.0;
/// Prior strength of a bin, in passes through it (its rate starts at the overall rate).
pub const PRIOR_PERIODS: f64 = 2.0;
/// A period is used only after it has been observed this many times.
pub const MIN_PERIODS_SEEN: f64 = 2.0;
/// Seconds without a surge second that end a surge event.
pub const GAP_S: f64 = 10.0;
/// Prior time at risk of the overall rate, seconds: before any surge the rate is 0, after the
/// first it is at most one per this long.
pub const PRIOR_EXPOSURE_S: f64 = 600.0;
/// Events kept for their magnitudes.
pub const MAX_EVENTS: usize = 64;
/// The band is at least this many root-mean-square ordinary errors.
pub const BAND_Z: f64 = 4.0;
/// The band is at least this, in square roots of requests per second.
pub const BAND_FLOOR: f64 = 1.0;
/// The band is at least this times the square root of the level forecast: `√2 − 1`, a surge at
/// least doubles the rate.
pub const BAND_RELATIVE: f64 = std::f64::consts::SQRT_2 - 1.0;

/// Decayed sums kept in "boosted" units: a value added at time `t` is stored times
/// `2^{(t − origin)/half-life}`, so that decay is one common factor applied on reading.
#[derive(Clone, Debug)]
struct PhaseModel {
    /// The period, seconds (`0` for the aperiodic model, one bin).
    period_s: f64,
    bin_s: f64,
    /// (boosted onsets, boosted seconds at risk) per bin.
    bins: Vec<(f64, f64)>,
    /// Boosted log-likelihood score.
    score: f64,
}

impl PhaseModel {
    fn new(period_s: f64) -> PhaseModel {
        let (bins, bin_s) = if period_s > 0.0 {
            let bin_s = (period_s / BINS as f64).max(MIN_BIN_S);
            ((period_s / bin_s).round().max(1.0) as usize, bin_s)
        } else {
            (1, f64::INFINITY)
        };
        PhaseModel {
            period_s,
            bin_s: if period_s > 0.0 {
                period_s / bins as f64
            } else {
                bin_s
            },
            bins: vec![(0.0, 0.0); bins],
            score: 0.0,
        }
    }

    fn bin(&self, t: f64) -> usize {
        if self.period_s > 0.0 {
            ((t.rem_euclid(self.period_s) / self.bin_s) as usize).min(self.bins.len() - 1)
        } else {
            0
        }
    }

    /// The onset rate at time `t` (per second), given the overall rate `overall` (same boosted
    /// units cancel in every ratio).
    fn rate(&self, t: f64, overall: f64, boost: f64) -> f64 {
        let (c, e) = self.bins[self.bin(t)];
        if self.period_s <= 0.0 {
            return overall;
        }
        // Prior: PRIOR_PERIODS passes of bin_s seconds at the overall rate, in boosted units.
        let m = PRIOR_PERIODS * self.bin_s * boost;
        (c + m * overall) / (e + m)
    }
}

/// One surge event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// Onset, seconds.
    pub onset_s: f64,
    /// Seconds from the onset to the end of the last surge second.
    pub duration_s: f64,
    /// Mean error (square-root scale) over its surge seconds within the horizon.
    pub root_error: f64,
    sum: f64,
    seconds: f64,
}

/// The memory of surges (module documentation).
#[derive(Clone, Debug)]
pub struct Surges {
    models: Vec<PhaseModel>,
    /// Boosted overall onsets and seconds at risk.
    onsets: f64,
    exposure: f64,
    /// Time origin of the boosted units, seconds.
    origin: f64,
    /// Seconds observed.
    seen_s: f64,
    events: std::collections::VecDeque<Event>,
    /// The open event and the time of its last surge second.
    open: Option<(Event, f64)>,
    /// Seconds after an onset whose errors make an event's magnitude.
    horizon_s: f64,
}

impl Surges {
    /// An empty memory; an event's magnitude is its mean error over its first `horizon_s`
    /// seconds (what outruns a cluster before a reaction to it is ready: the start-up delay).
    pub fn new(horizon_s: f64) -> Surges {
        let mut models = vec![PhaseModel::new(0.0)];
        models.extend(PERIODS_S.iter().map(|&p| PhaseModel::new(p)));
        Surges {
            models,
            onsets: 0.0,
            exposure: 0.0,
            origin: 0.0,
            seen_s: 0.0,
            events: std::collections::VecDeque::new(),
            open: None,
            horizon_s: horizon_s.max(1.0),
        }
    }

    /// The band beyond which an error is a surge, in square-root scale, for a forecast whose
    /// square root is `root_level`, when the ordinary errors have root mean square `rms`:
    /// the largest of [`BAND_Z`]` · rms`, [`BAND_FLOOR`] and [`BAND_RELATIVE`]` · root_level`.
    pub fn band(rms: f64, root_level: f64) -> f64 {
        (BAND_Z * rms)
            .max(BAND_FLOOR)
            .max(BAND_RELATIVE * root_level)
    }

    fn boost(&self, t: f64) -> f64 {
        ((t - self.origin) / HALF_LIFE_S).exp2()
    }

    /// Rebases the boosted units when they grow large (every value times one factor).
    fn rebase(&mut self, t: f64) {
        if t - self.origin < 200.0 * HALF_LIFE_S {
            return;
        }
        let f = 1.0 / self.boost(t);
        for m in &mut self.models {
            for b in &mut m.bins {
                b.0 *= f;
                b.1 *= f;
            }
            m.score *= f;
        }
        self.onsets *= f;
        self.exposure *= f;
        self.origin = t;
    }

    /// The overall onset rate per second.
    fn overall(&self, boost: f64) -> f64 {
        self.onsets / (self.exposure + PRIOR_EXPOSURE_S * boost)
    }

    /// The model in use: the best-scoring among the aperiodic one and the periods seen at
    /// least [`MIN_PERIODS_SEEN`] times.
    fn model(&self) -> &PhaseModel {
        self.models
            .iter()
            .filter(|m| m.period_s <= 0.0 || self.seen_s >= MIN_PERIODS_SEEN * m.period_s)
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .expect("the aperiodic model is always eligible")
    }

    /// The period in use, seconds (`None`: no period has predicted onsets better).
    pub fn period(&self) -> Option<f64> {
        let m = self.model();
        (m.period_s > 0.0).then_some(m.period_s)
    }

    /// Feeds the `dt` seconds from `t` (in order, without overlap), with their error in
    /// square-root scale against the forecast made for them, and the band.
    pub fn observe(&mut self, t: f64, dt: f64, root_error: f64, band: f64) {
        self.rebase(t);
        let surge = root_error > band;
        // Close an event after GAP_S quiet seconds.
        if let Some((ev, last)) = self.open
            && !surge
            && t - last >= GAP_S
        {
            self.close(ev);
        }
        let boost = self.boost(t);
        if self.open.is_none() {
            // At risk: score every model on this second, then count it.
            let overall = self.overall(boost);
            let onset = surge;
            for m in &mut self.models {
                let r = m.rate(t, overall, boost);
                let mut s = -r * dt;
                if onset {
                    s += if r > 0.0 { r.ln() } else { -50.0 };
                }
                m.score += s * boost;
            }
            for m in &mut self.models {
                let b = m.bin(t);
                m.bins[b].1 += boost * dt;
                if onset {
                    m.bins[b].0 += boost;
                }
            }
            self.exposure += boost * dt;
            if onset {
                self.onsets += boost;
                self.open = Some((
                    Event {
                        onset_s: t,
                        duration_s: dt,
                        root_error: 0.0,
                        sum: 0.0,
                        seconds: 0.0,
                    },
                    t,
                ));
            }
        }
        if let Some((ev, last)) = &mut self.open
            && surge
        {
            *last = t;
            ev.duration_s = t - ev.onset_s + dt;
            if t - ev.onset_s < self.horizon_s {
                ev.sum += root_error * dt;
                ev.seconds += dt;
                ev.root_error = ev.sum / ev.seconds;
            }
        }
        self.seen_s = self.seen_s.max(t + dt);
    }

    fn close(&mut self, ev: Event) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(ev);
        self.open = None;
    }

    /// Whether a surge is in progress (an event is open).
    pub fn in_progress(&self) -> bool {
        self.open.is_some()
    }

    /// The probability of an onset in `[from, to)` seconds, by the model in use:
    /// `1 − exp(−∫ rate)`.
    pub fn probability(&self, from: f64, to: f64) -> f64 {
        if to <= from || self.onsets <= 0.0 {
            return 0.0;
        }
        let boost = self.boost(self.seen_s);
        let overall = self.overall(boost);
        let m = self.model();
        if m.period_s <= 0.0 {
            return -(-(overall * (to - from))).exp_m1();
        }
        let mut integral = 0.0;
        let mut t = from;
        while t < to {
            let end = ((t / m.bin_s).floor() + 1.0) * m.bin_s;
            let end = end.min(to).max(t + 1e-9);
            integral += m.rate(t, overall, boost) * (end - t);
            t = end;
        }
        -(-integral).exp_m1()
    }

    /// The decayed mean duration of the events (seconds), `None` before any.
    pub fn mean_duration(&self) -> Option<f64> {
        let (mut w, mut d) = (0.0, 0.0);
        for ev in self.all_events() {
            let x = self.weight(&ev);
            w += x;
            d += x * ev.duration_s;
        }
        (w > 0.0).then(|| d / w)
    }

    fn weight(&self, ev: &Event) -> f64 {
        (-(self.seen_s - ev.onset_s) / HALF_LIFE_S).exp2()
    }

    fn all_events(&self) -> impl Iterator<Item = Event> + '_ {
        self.events.iter().copied().chain(self.open.map(|o| o.0))
    }

    /// The events as scenarios `(root error, weight)`, weights decayed by age and summing to 1
    /// (empty before any event).
    pub fn magnitudes(&self) -> Vec<(f64, f64)> {
        let w: Vec<(f64, f64)> = self
            .all_events()
            .filter(|e| e.seconds > 0.0)
            .map(|e| (e.root_error, self.weight(&e)))
            .collect();
        let total: f64 = w.iter().map(|x| x.1).sum();
        if total <= 0.0 {
            return Vec::new();
        }
        w.into_iter().map(|(e, x)| (e, x / total)).collect()
    }
}

/// The containers that serve `rate` requests per second and drain a `backlog` of waiting
/// requests within `slo_s` seconds, at `per_container` requests per second each (slots over
/// the mean service time): `⌈(rate + backlog / slo_s) / per_container⌉`.
pub fn drain_containers(rate: f64, backlog: f64, per_container: f64, slo_s: f64) -> u32 {
    let need = (rate.max(0.0) + backlog.max(0.0) / slo_s.max(1e-9)) / per_container.max(1e-12);
    need.ceil().min(f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `seconds` seconds from `from`, with an error of 5 (a surge) in each second of
    /// `surge(t)` and 0 otherwise; band 2.
    fn feed(s: &mut Surges, from: u64, seconds: u64, surge: impl Fn(u64) -> bool) {
        for t in from..from + seconds {
            let e = if surge(t) { 5.0 } else { 0.0 };
            s.observe(t as f64, 1.0, e, 2.0);
        }
    }

    #[test]
    fn the_band_is_the_largest_of_its_three_terms() {
        assert_eq!(Surges::band(0.1, 0.0), BAND_FLOOR);
        assert_eq!(Surges::band(0.5, 1.0), 2.0);
        assert!((Surges::band(0.1, 10.0) - 10.0 * BAND_RELATIVE).abs() < 1e-12);
    }

    #[test]
    fn one_surge_gives_the_decayed_rate_of_one_per_time_at_risk() {
        // One surge of 30 s at t = 1800 s, then quiet until t = 7200 s.
        let mut s = Surges::new(60.0);
        assert_eq!(s.probability(0.0, 100.0), 0.0, "no surge seen: no risk");
        feed(&mut s, 0, 7200, |t| (1800..1830).contains(&t));
        assert!(!s.in_progress());
        assert_eq!(s.period(), None);
        // Decayed onsets: 2^{-(7200 - 1800)/h}. Decayed time at risk: every second but those
        // of the open event after its onset (1801 to 1829 surge, 1830 to 1838 within the
        // 10 s gap; the event closes at 1839, which is at risk again).
        let h = HALF_LIFE_S;
        let decay = |t: f64| (-(7200.0 - t) / h).exp2();
        let onsets = decay(1800.0);
        let at_risk: f64 = (0..7200)
            .filter(|&t| !(1801..1839).contains(&t))
            .map(|t| decay(t as f64))
            .sum();
        let rate = onsets / (at_risk + PRIOR_EXPOSURE_S);
        let want = 1.0 - (-rate * 80.0).exp();
        let got = s.probability(7200.0, 7280.0);
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
        // The event's duration and magnitude.
        assert_eq!(s.mean_duration(), Some(30.0));
        assert_eq!(s.magnitudes(), vec![(5.0, 1.0)]);
    }

    #[test]
    fn surges_every_two_hours_are_expected_at_their_phase() {
        // A 2-minute surge at 0:40 of every 2 hours, for 12 hours.
        let period = 7200;
        let mut s = Surges::new(60.0);
        feed(&mut s, 0, 12 * 3600, |t| {
            (2400..2520).contains(&(t % period))
        });
        assert_eq!(s.period(), Some(7200.0));
        // Just before the next onset (at 12 h + 40 min) against half a period later.
        let next = (12 * 3600 + 2400) as f64;
        let before = s.probability(next - 60.0, next + 20.0);
        let between = s.probability(next + 3600.0 - 60.0, next + 3600.0 + 20.0);
        // The onset bin (150 s wide) is at risk about 20 s a pass (the rest is the surge and
        // its gap), so its rate is high; the bins around it saw no onset.
        assert!(before > 0.1, "{before}");
        assert!(between < 0.02, "{between}");
        // The aperiodic rate would spread the six surges evenly: 1 − e^{−80/7200} ≈ 0.011.
        assert!(before > 20.0 * between);
    }

    #[test]
    fn the_memory_decays_with_its_half_life() {
        // The same surge, read half a day later: the risk has fallen, as the decayed count
        // over the decayed time at risk says.
        let mut s = Surges::new(60.0);
        feed(&mut s, 0, 3600, |t| (600..610).contains(&t));
        let early = s.probability(3600.0, 3680.0);
        feed(&mut s, 3600, 12 * 3600, |_| false);
        let late = s.probability(15.0 * 3600.0, 15.0 * 3600.0 + 80.0);
        assert!(late < early / 4.0, "{late} vs {early}");
    }

    #[test]
    fn drain_sizing() {
        // 40 requests/s, 300 waiting, 1 s SLO, 4 slots of 200 ms service (20/s a container):
        // (40 + 300) / 20 = 17 containers.
        assert_eq!(drain_containers(40.0, 300.0, 20.0, 1.0), 17);
        // No backlog: the containers at full load, rounded up.
        assert_eq!(drain_containers(41.0, 0.0, 20.0, 1.0), 3);
        // A longer SLO spreads the drain: (40 + 300 / 5) / 20 = 5.
        assert_eq!(drain_containers(40.0, 300.0, 20.0, 5.0), 5);
    }
}
