//! The modelled metrics pipeline: what an autoscaler reads instead of the cluster's true state.
//!
//! Real autoscalers never see the instantaneous truth. A metrics agent samples every container
//! at a fixed resolution, each sample is an average over a window that ends at the scrape, the
//! sample reaches the autoscaler some time later, and containers that are still starting report
//! nothing. Two aggregators model this:
//!
//! - [`Pipeline`] scrapes per-container samples (busy slots, the analogue of CPU usage) and the
//!   cluster-wide request counters, at every multiple of [`ScrapeSpec::resolution`], each an
//!   average over [`ScrapeSpec::window`], published [`ScrapeSpec::delay`] after the scrape. It
//!   serves `hpa` (metrics-server), `threshold` and `target_tracking` (CloudWatch datapoints).
//! - [`TimedBuckets`] keeps per-second values and averages them over a sliding window exactly as
//!   Knative's `aggregation.TimedFloat64Buckets` does (partial windows at the start and after a
//!   gap, empty after a whole window without data). It serves `kpa`.
//!
//! Guarantees:
//! - Deterministic: the samples depend only on the observations, never on iteration order of a
//!   hash map (samples come out in the observation's container order).
//! - Exact averages: per-container counters are cumulative, so the mean over a window is a
//!   difference of two counters divided by the span; a container's counters are zero until it
//!   becomes ready (it serves nothing while starting), so a window that starts before the
//!   container became ready is measured from `ready_at`.
//! - Only `Ready` containers report. Starting containers have no metrics yet; draining ones are
//!   being deleted and, like pods with a deletion timestamp, are not scraped.
//! - Bounded memory: a container's history holds at most `window / resolution + 1` points, and
//!   containers that stop reporting are forgotten.

use super::{ContainerState, Observation};
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};
use std::collections::{BTreeMap, VecDeque};

/// When samples are taken and when the policy sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScrapeSpec {
    /// Samples are taken at every multiple of this (metrics-server's `--metric-resolution`).
    pub resolution: SimDuration,
    /// Each sample averages the span of this length that ends at its scrape; a whole multiple of
    /// `resolution`.
    pub window: SimDuration,
    /// A sample scraped at `t` reaches the policy at `t + delay`.
    pub delay: SimDuration,
    /// A container ready for less than this at a scrape gives no sample (metrics-server's
    /// `freshContainerMinMetricsResolution`, 10 s); zero elsewhere.
    pub fresh_min: SimDuration,
    /// Scrapes happen at `phase + k · resolution`: the scrape ticker's offset from the
    /// policy's own loop (less than `resolution`; 0 puts both on one grid).
    pub phase: SimDuration,
    /// Starting containers are scraped too, and every container is measured from its
    /// creation (metrics-server reads every running container, ready or not; a container
    /// serves nothing before it is ready). Otherwise only ready containers report, measured
    /// from their readiness.
    pub scrape_starting: bool,
}

impl ScrapeSpec {
    /// Whether a scrape is due at `now`.
    pub fn is_due(&self, now: SimTime) -> bool {
        now.0 >= self.phase.0 && (now.0 - self.phase.0).is_multiple_of(self.resolution.0)
    }

    /// The first scrape strictly after `now`.
    pub fn next_after(&self, now: SimTime) -> SimTime {
        if now.0 < self.phase.0 {
            return SimTime(self.phase.0);
        }
        let k = (now.0 - self.phase.0) / self.resolution.0 + 1;
        SimTime(self.phase.0 + k * self.resolution.0)
    }
}

/// One container's averages over the span a sample covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContainerSample {
    pub id: u32,
    /// When the container was asked for.
    pub created: SimTime,
    /// When it became ready.
    pub ready_at: SimTime,
    /// The span the average covers: the window, or less for a container that became ready
    /// inside it.
    pub span: SimDuration,
    /// Mean busy request slots over the span.
    pub busy: f64,
}

/// One scrape: the per-container samples and the cluster-wide averages over the window.
#[derive(Clone, Debug, PartialEq)]
pub struct Scrape {
    /// When it was taken (the end of every sample's span).
    pub time: SimTime,
    /// One per reporting container, sorted by container id.
    pub samples: Vec<ContainerSample>,
    /// Mean number of requests in the system (in service or waiting anywhere) over the window:
    /// the concurrency the proxies in front of the containers see.
    pub in_system: f64,
    /// Arrivals per second over the window (what the load balancer counts).
    pub arrival_rate: f64,
}

impl Scrape {
    /// The sample of container `id`, if it reported.
    pub fn sample(&self, id: u32) -> Option<&ContainerSample> {
        self.samples
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.samples[i])
    }
}

/// A per-container metric averaged over the reporting containers of a scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterMetric {
    /// Busy slots over the slots of the reporting containers (the analogue of CPU
    /// utilization, as ECS's service `CPUUtilization`).
    Utilization,
    /// Requests in the system per reporting container (in service or waiting anywhere).
    Concurrency,
    /// Arrivals per second per reporting container (as ALB's `RequestCountPerTarget`, per
    /// second).
    Rps,
}

impl ClusterMetric {
    pub const NAMES: &'static str = "\"utilization\", \"concurrency\" or \"rps\"";

    pub fn parse(name: &str) -> Option<ClusterMetric> {
        Some(match name {
            "utilization" => ClusterMetric::Utilization,
            "concurrency" => ClusterMetric::Concurrency,
            "rps" => ClusterMetric::Rps,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ClusterMetric::Utilization => "utilization",
            ClusterMetric::Concurrency => "concurrency",
            ClusterMetric::Rps => "rps",
        }
    }

    /// The metric's value over the samples that `counts` keeps, or `None` (no datapoint) when
    /// none reports.
    pub fn value(
        self,
        scrape: &Scrape,
        concurrency: u32,
        counts: impl Fn(&ContainerSample) -> bool,
    ) -> Option<f64> {
        let mut n = 0u32;
        let mut busy = 0.0;
        for s in scrape.samples.iter().filter(|s| counts(s)) {
            n += 1;
            busy += s.busy;
        }
        if n == 0 {
            return None;
        }
        let n = f64::from(n);
        Some(match self {
            ClusterMetric::Utilization => busy / (n * f64::from(concurrency)),
            ClusterMetric::Concurrency => scrape.in_system / n,
            ClusterMetric::Rps => scrape.arrival_rate / n,
        })
    }
}

/// Cluster-wide counters at a scrape.
#[derive(Clone, Copy, Debug)]
struct TotalsPoint {
    time: SimTime,
    /// ∫ (busy + queued) dt, request-seconds.
    in_system_area: f64,
    arrivals: u64,
}

/// Scrapes containers at a resolution and publishes the samples after a delay.
#[derive(Clone, Debug)]
pub struct Pipeline {
    spec: ScrapeSpec,
    /// Busy-area counter of each reporting container at recent scrapes.
    history: BTreeMap<u32, VecDeque<(SimTime, f64)>>,
    totals: VecDeque<TotalsPoint>,
    last_scrape: Option<SimTime>,
    /// Scrapes taken but not yet visible.
    pending: VecDeque<Scrape>,
    latest: Option<Scrape>,
    /// Time of the scrape [`Pipeline::new_datapoint`] last reported.
    delivered: Option<SimTime>,
}

impl Pipeline {
    pub fn new(spec: ScrapeSpec) -> Self {
        debug_assert!(!spec.resolution.is_zero());
        debug_assert!(spec.window.0.is_multiple_of(spec.resolution.0) && !spec.window.is_zero());
        Pipeline {
            spec,
            history: BTreeMap::new(),
            totals: VecDeque::new(),
            last_scrape: None,
            pending: VecDeque::new(),
            latest: None,
            delivered: None,
        }
    }

    pub fn spec(&self) -> &ScrapeSpec {
        &self.spec
    }

    /// Takes a scrape if one is due at `obs.now` (once per instant), then publishes every
    /// scrape whose delay has passed.
    pub fn observe(&mut self, obs: &Observation<'_>) {
        if self.spec.is_due(obs.now) && self.last_scrape != Some(obs.now) {
            self.last_scrape = Some(obs.now);
            let s = self.scrape(obs);
            self.pending.push_back(s);
        }
        while self
            .pending
            .front()
            .is_some_and(|s| s.time + self.spec.delay <= obs.now)
        {
            self.latest = self.pending.pop_front();
        }
    }

    /// Observes `obs`, then says whether a scrape is visible that this method has not
    /// reported before: a new datapoint for policies that act once per datapoint (a CloudWatch
    /// alarm evaluates each datapoint once). The scrape is [`Pipeline::latest`].
    pub fn new_datapoint(&mut self, obs: &Observation<'_>) -> bool {
        self.observe(obs);
        let time = self.latest.as_ref().map(|s| s.time);
        if time.is_none() || time == self.delivered {
            return false;
        }
        self.delivered = time;
        true
    }

    /// The newest scrape the policy can see, if any.
    pub fn latest(&self) -> Option<&Scrape> {
        self.latest.as_ref()
    }

    fn scrape(&mut self, obs: &Observation<'_>) -> Scrape {
        let t = obs.now;
        let from = SimTime(t.0.saturating_sub(self.spec.window.0));

        // Cluster-wide averages over [from, t] (or since the start of the run).
        let now_point = TotalsPoint {
            time: t,
            in_system_area: obs.totals.busy_area + obs.totals.queued_area,
            arrivals: obs.totals.arrivals,
        };
        while self.totals.front().is_some_and(|p| p.time < from) {
            self.totals.pop_front();
        }
        let base = match self.totals.front() {
            Some(p) if p.time == from => *p,
            Some(p) if from.0 > 0 => *p,
            _ => TotalsPoint {
                time: SimTime::ZERO,
                in_system_area: 0.0,
                arrivals: 0,
            },
        };
        let span = (t.0 - base.time.0) as f64 / NANOS_PER_SEC as f64;
        let (in_system, arrival_rate) = if span > 0.0 {
            (
                (now_point.in_system_area - base.in_system_area) / span,
                (now_point.arrivals - base.arrivals) as f64 / span,
            )
        } else {
            (0.0, 0.0)
        };
        self.totals.push_back(now_point);

        // Per-container samples.
        let mut samples = Vec::with_capacity(obs.containers.len());
        let mut reporting: Vec<u32> = Vec::with_capacity(obs.containers.len());
        for c in obs.containers {
            let reports = c.state == ContainerState::Ready
                || (self.spec.scrape_starting && c.state == ContainerState::Starting);
            if !reports {
                continue;
            }
            let ready_at = c.ready_at.unwrap_or(c.created);
            let begin = if self.spec.scrape_starting {
                c.created
            } else {
                ready_at
            };
            reporting.push(c.id);
            let hist = self.history.entry(c.id).or_default();
            while hist.front().is_some_and(|&(time, _)| time < from) {
                hist.pop_front();
            }
            // The counter at the start of the span: zero at (or before) readiness.
            let start = if begin >= from {
                Some((begin, 0.0))
            } else {
                hist.front().filter(|&&(time, _)| time == from).copied()
            };
            hist.push_back((t, c.busy_area));
            let Some((start_time, start_busy)) = start else {
                continue;
            };
            if start_time >= t {
                continue;
            }
            let span = t - start_time;
            if start_time > from && span < self.spec.fresh_min {
                continue;
            }
            samples.push(ContainerSample {
                id: c.id,
                created: c.created,
                ready_at,
                span,
                busy: (c.busy_area - start_busy) / span.as_secs_f64(),
            });
        }
        reporting.sort_unstable();
        self.history
            .retain(|id, _| reporting.binary_search(id).is_ok());
        samples.sort_unstable_by_key(|s| s.id);
        Scrape {
            time: t,
            samples,
            in_system,
            arrival_rate,
        }
    }
}

/// Per-bucket values averaged over a sliding window, as Knative's
/// `aggregation.TimedFloat64Buckets` (`pkg/autoscaler/aggregation/bucketing.go`).
///
/// Values recorded in the same bucket add up (the scraper's and the activator's reports of one
/// second make the revision's total). The average over the window divides by the number of
/// buckets since the first write when that is shorter than the window, and leaves out trailing
/// buckets without writes; after a whole window without writes it starts afresh.
#[derive(Clone, Debug)]
pub struct TimedBuckets {
    granularity: u64,
    /// Buckets in the window.
    len: u64,
    /// (bucket index, sum) for the buckets written in the last window, oldest first.
    buckets: VecDeque<(u64, f64)>,
    first_write: Option<u64>,
    last_write: u64,
}

impl TimedBuckets {
    /// Buckets of `granularity` over `window` (rounded up to whole buckets).
    pub fn new(window: SimDuration, granularity: SimDuration) -> Self {
        debug_assert!(!granularity.is_zero());
        TimedBuckets {
            granularity: granularity.0,
            len: window.0.div_ceil(granularity.0).max(1),
            buckets: VecDeque::new(),
            first_write: None,
            last_write: 0,
        }
    }

    fn index(&self, t: SimTime) -> u64 {
        t.0 / self.granularity
    }

    /// Adds `value` to the bucket of time `t`.
    pub fn record(&mut self, t: SimTime, value: f64) {
        let idx = self.index(t);
        match self.first_write {
            None => {
                self.first_write = Some(idx);
                self.last_write = idx;
            }
            Some(_) if idx + self.len <= self.last_write => return, // older than a window
            Some(_) if idx > self.last_write => {
                if idx - self.last_write >= self.len {
                    // A whole window without writes: start afresh.
                    self.buckets.clear();
                    self.first_write = Some(idx);
                }
                self.last_write = idx;
            }
            Some(first) if idx < first => self.first_write = Some(idx),
            Some(_) => {}
        }
        while self
            .buckets
            .front()
            .is_some_and(|&(b, _)| b + self.len <= self.last_write)
        {
            self.buckets.pop_front();
        }
        match self.buckets.iter_mut().find(|(b, _)| *b == idx) {
            Some((_, sum)) => *sum += value,
            None => {
                let pos = self.buckets.partition_point(|&(b, _)| b < idx);
                self.buckets.insert(pos, (idx, value));
            }
        }
    }

    /// Whether nothing was recorded within the window before `now` (Knative's `IsEmpty`:
    /// `now - lastWrite > window`).
    pub fn is_empty(&self, now: SimTime) -> bool {
        match self.first_write {
            None => true,
            Some(_) => {
                let now_idx = self.index(now);
                now_idx > self.last_write && (now_idx - self.last_write) > self.len
            }
        }
    }

    /// The window average at `now`, rounded to 6 decimal places (half away from zero) as
    /// Knative does (`bucketing.go: roundToNDigits(precision, ...)`, `math.Round`).
    pub fn window_average(&self, now: SimTime) -> f64 {
        let Some(first) = self.first_write else {
            return 0.0;
        };
        let now_idx = self.index(now);
        let since_first = self.last_write - first + 1;
        let (total, n) = if now_idx <= self.last_write {
            let total: f64 = self.buckets.iter().map(|&(_, v)| v).sum();
            (total, since_first.min(self.len))
        } else {
            let d = now_idx - self.last_write;
            if d >= self.len {
                return 0.0;
            }
            // Buckets that fell out of the window ending at `now`.
            let total: f64 = self
                .buckets
                .iter()
                .filter(|&&(b, _)| b + self.len > now_idx)
                .map(|&(_, v)| v)
                .sum();
            (total, since_first.min(self.len - d))
        };
        let avg = total / n as f64;
        (avg * 1e6).round() / 1e6
    }
}

/// Greatest common divisor of two spans (the tick that serves two periods).
pub fn gcd(a: SimDuration, b: SimDuration) -> SimDuration {
    let (mut x, mut y) = (a.0, b.0);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    SimDuration(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn spec(res: u64, window: u64, delay: u64, fresh: u64) -> ScrapeSpec {
        ScrapeSpec {
            resolution: secs(res),
            window: secs(window),
            delay: secs(delay),
            fresh_min: secs(fresh),
            phase: SimDuration::ZERO,
            scrape_starting: false,
        }
    }

    #[test]
    fn scrapes_follow_their_phase() {
        let mut s = spec(15, 15, 0, 0);
        s.phase = SimDuration::from_secs_f64(4.5);
        let at = SimTime::from_secs_f64;
        assert!(!s.is_due(at(0.0)) && !s.is_due(at(15.0)));
        assert!(s.is_due(at(4.5)) && s.is_due(at(19.5)));
        assert_eq!(s.next_after(at(0.0)), at(4.5));
        assert_eq!(s.next_after(at(4.5)), at(19.5));
        assert_eq!(s.next_after(at(15.0)), at(19.5));
        s.phase = SimDuration::ZERO;
        assert_eq!(s.next_after(at(15.0)), at(30.0));
    }

    #[test]
    fn samples_are_window_averages_of_ready_containers_only() {
        let mut c = Cluster::new(1, 2);
        c.start_one(); // starting: does not report
        let mut p = Pipeline::new(spec(15, 15, 0, 0));
        c.run(15.0, &[0.5, 1.0, 0.0]);
        p.observe(&c.obs());
        let s = p.latest().unwrap();
        assert_eq!(s.time, SimTime::from_secs_f64(15.0));
        assert_eq!(s.samples.len(), 2);
        assert!((s.samples[0].busy - 0.5).abs() < 1e-12);
        assert!((s.samples[1].busy - 1.0).abs() < 1e-12);
        c.run(15.0, &[0.2, 0.4, 0.0]);
        p.observe(&c.obs());
        let s = p.latest().unwrap();
        assert!((s.samples[0].busy - 0.2).abs() < 1e-12);
        assert!((s.samples[1].busy - 0.4).abs() < 1e-12);
        assert_eq!(s.samples[0].span, secs(15));
    }

    #[test]
    fn off_grid_ticks_do_not_scrape_and_delay_holds_samples_back() {
        let mut c = Cluster::new(1, 1);
        let mut p = Pipeline::new(spec(10, 10, 5, 0));
        c.run(5.0, &[1.0]);
        p.observe(&c.obs()); // t=5: not a multiple of 10
        assert!(p.latest().is_none());
        c.run(5.0, &[1.0]);
        p.observe(&c.obs()); // t=10: scraped, visible at 15
        assert!(p.latest().is_none());
        c.run(5.0, &[0.0]);
        p.observe(&c.obs()); // t=15
        let s = p.latest().unwrap();
        assert_eq!(s.time, SimTime::from_secs_f64(10.0));
        assert!((s.samples[0].busy - 1.0).abs() < 1e-12);
    }

    #[test]
    fn fresh_containers_report_from_readiness_after_fresh_min() {
        // metrics-server: a container started 10 s to one resolution before the scrape is
        // measured from its start; a younger one is missing.
        let mut c = Cluster::new(1, 0);
        let mut p = Pipeline::new(spec(15, 15, 0, 10));
        c.start_one();
        c.start_one();
        c.run(3.0, &[0.0, 0.0]);
        c.make_ready(0); // ready at 3 s: 12 s before the scrape at 15
        c.run(6.0, &[0.0, 0.0]);
        c.make_ready(1); // ready at 9 s: 6 s before the scrape
        c.run(6.0, &[0.5, 0.5]);
        p.observe(&c.obs());
        let s = p.latest().unwrap();
        assert_eq!(s.samples.len(), 1);
        assert_eq!(s.samples[0].id, 0);
        assert_eq!(s.samples[0].span, secs(12));
        // 6 s at 0 busy then 6 s at 0.5 → mean 0.25.
        assert!((s.samples[0].busy - 0.25).abs() < 1e-12);
        c.run(15.0, &[1.0, 1.0]);
        p.observe(&c.obs());
        let s = p.latest().unwrap();
        assert_eq!(s.samples.len(), 2);
        assert!((s.samples[1].busy - 1.0).abs() < 1e-12);
    }

    #[test]
    fn cluster_metrics_count_the_reporting_containers() {
        let mut c = Cluster::new(2, 2);
        let mut p = Pipeline::new(spec(60, 60, 0, 0));
        c.run_with_queue(60.0, &[1.0, 2.0], 3.0, 120);
        p.observe(&c.obs());
        let s = p.latest().unwrap();
        // Busy 3 slots of 4: utilization 0.75; in the system 3 + 3 queued = 6, per container 3;
        // 120 arrivals in 60 s over 2 containers: 1 per second each.
        let all = |_: &ContainerSample| true;
        let u = ClusterMetric::Utilization.value(s, 2, all).unwrap();
        assert!((u - 0.75).abs() < 1e-12);
        let q = ClusterMetric::Concurrency.value(s, 2, all).unwrap();
        assert!((q - 3.0).abs() < 1e-12);
        let r = ClusterMetric::Rps.value(s, 2, all).unwrap();
        assert!((r - 1.0).abs() < 1e-12);
        assert_eq!(ClusterMetric::Rps.value(s, 2, |_| false), None);
    }

    #[test]
    fn buckets_average_over_elapsed_time_then_the_window() {
        let mut b = TimedBuckets::new(secs(4), secs(1));
        let at = |s: u64| SimTime::from_secs_f64(s as f64);
        assert!(b.is_empty(at(0)));
        b.record(at(1), 4.0);
        assert_eq!(b.window_average(at(1)), 4.0); // one bucket so far
        b.record(at(2), 2.0);
        assert_eq!(b.window_average(at(2)), 3.0);
        b.record(at(3), 0.0);
        b.record(at(4), 2.0);
        b.record(at(5), 0.0);
        // Window of 4 buckets ending at 5: 2 + 0 + 2 + 0 → 1.
        assert_eq!(b.window_average(at(5)), 1.0);
        // Same-bucket values add up.
        b.record(at(5), 4.0);
        assert_eq!(b.window_average(at(5)), 2.0);
        // Two seconds without writes: buckets 2 and 3 fall out, the average is over the
        // buckets of 4..5 (n = 4 - 2).
        assert_eq!(b.window_average(at(7)), 3.0);
        assert!(!b.is_empty(at(9)));
        assert!(b.is_empty(at(10)));
        assert_eq!(b.window_average(at(9)), 0.0);
        // After a whole window without writes the average starts afresh.
        b.record(at(12), 1.0);
        assert_eq!(b.window_average(at(12)), 1.0);
    }

    /// `WindowAverage` rounds to 6 digits as `roundToNDigits` (`TestRoundToNDigits`: 1.2345
    /// to 3 digits is 1.235): 2/3 is 0.666667 (flooring gave 0.666666), 1/3 is 0.333333.
    #[test]
    fn window_averages_round_to_six_digits() {
        let at = |s: u64| SimTime::from_secs_f64(s as f64);
        let mut b = TimedBuckets::new(secs(3), secs(1));
        b.record(at(1), 1.0);
        b.record(at(2), 1.0);
        b.record(at(3), 0.0);
        assert_eq!(b.window_average(at(3)), 0.666667);
        let mut b = TimedBuckets::new(secs(3), secs(1));
        b.record(at(1), 1.0);
        b.record(at(2), 0.0);
        b.record(at(3), 0.0);
        assert_eq!(b.window_average(at(3)), 0.333333);
        // Half a millionth rounds away from zero.
        let mut b = TimedBuckets::new(secs(1), secs(1));
        b.record(at(1), 0.0000125);
        assert_eq!(b.window_average(at(1)), 0.000013);
    }

    #[test]
    fn gcd_of_periods() {
        assert_eq!(gcd(secs(15), secs(10)), secs(5));
        assert_eq!(gcd(secs(2), secs(1)), secs(1));
    }
}
