//! `kpa`: Knative's Pod Autoscaler (concurrency or requests per second), with scale to zero
//! and the activator.
//!
//! Rules reproduced (knative/serving):
//! - Metrics (`pkg/autoscaler/metrics/collector.go`, `stats_scraper.go`,
//!   `aggregation/bucketing.go`): every `metric_resolution` (1 s) the revision's concurrency
//!   (requests in service or queued, summed over the queue-proxies and the activator) or its
//!   request count is recorded into buckets of that size, when there are ready pods to scrape
//!   or the activator holds requests; the stable value is the bucket average over
//!   `stable_window` (60 s), the panic value over the panic window
//!   (`round(stable_window · panic_window_percentage / 100)`, at least one bucket,
//!   `reconciler/autoscaling/resources/metric.go`), both as `TimedFloat64Buckets.WindowAverage`.
//!   With no bucket written in the last stable window there is no data and no decision.
//! - `Scale` (`pkg/autoscaler/scaling/autoscaler.go`), every `tick` (2 s, `multiscaler.go`):
//!   `ready = max(1, ready pods)`, `maxUp = ceil(max_scale_up_rate · ready)`,
//!   `maxDown = floor(ready / max_scale_down_rate)`, desired stable and panic counts
//!   `ceil(value / target)` clamped to `[maxDown, maxUp]`; panic starts (or is extended) when
//!   `ceil(panic / target) / ready >= panic_threshold` and ends at the first tick more than
//!   `stable_window` after it was last extended; while panicking the count never falls (the
//!   maximum of the panic counts so far, `maxPanicPods`); `scale_down_delay` holds the maximum
//!   of the last decisions over that span (`aggregation/max.TimeWindow`). An autoscaler that
//!   starts with more than one ready pod starts in panic.
//! - Target (`reconciler/autoscaling/resources/target.go: ResolveMetricTarget`): the per-pod
//!   total is the `target` key (the `autoscaling.knative.dev/target` annotation), capped at
//!   `cluster.concurrency` for the concurrency metric, else `cluster.concurrency`, else 200
//!   requests per second; the per-pod target is `max(0.01, total · utilization)` with
//!   `target_utilization_percentage` (70). `target_per_pod` sets the per-pod target directly.
//! - Excess burst capacity (`autoscaler.go: Scale`): `floor(ready · total − TBC − panic)`,
//!   0 when `target_burst_capacity` (TBC, 211) is 0 and −1 when it is −1. The activator is
//!   in the request path (the serverless service in proxy mode) unless pods are wanted and
//!   the excess burst capacity is not negative (`kpa.go: ReconcileKind`); the service is
//!   created in proxy mode.
//! - Reconciles (`multiscaler.go: tickScaler`, `kpa.go`): the pod autoscaler is reconciled
//!   when the decider's result (desired count, excess burst capacity) changes, when the
//!   activator pokes it, and when the scaler asked to look again (`enqueueCB`).
//! - Scale to zero (`reconciler/autoscaling/kpa/scaler.go: handleScaleToZero`, `kpa.go:
//!   computeActiveCondition`): bounds (`cluster.min_replicas`, `max_replicas`) first; a desired
//!   count of 0 while the autoscaler is Active holds at 1 until it has been active for
//!   `stable_window`, then marks it Inactive (without scaling), looking again 3 s later if the
//!   activator is already in the path; once Inactive it scales to 0 when it has been inactive
//!   for `scale_to_zero_grace` (30 s) or, the fast path, when the activator has been in the
//!   path for that long. A revision Activating for longer than 600 s + 30 s (progress
//!   deadline) goes back to 0.
//! - The activator (`activator/handler/concurrency_reporter.go`, `multiscaler.go: Poke`): the
//!   first request that finds no container is reported at once as a concurrency of 1 (a request
//!   count of 1) and pokes the autoscaler, which decides immediately: this is what scales from
//!   zero.
//!
//! Modelling choices: the revision's concurrency is read from the cluster's request counters,
//! which equals the sum over every queue-proxy plus the activator (Knative scrapes a sample of
//! the pods when there are more than 3 and scales the mean up, which has the same expectation);
//! requests still finishing on containers being scaled down do not count: a terminating pod
//! leaves the endpoints the scraper reads (`stats_scraper.go` scrapes the ready addresses of
//! the revision's private service). Where the activator
//! stands decides when the last pod goes; requests are routed the same way in or out of the
//! path (the simulation's front buffer holds them only while no container is ready), so its
//! own queueing and load balancing are not modelled. The activator probe always succeeds.
//!
//! Left out: `activation_scale`, `initial_scale` (use `cluster.initial_replicas`), pod
//! retention after scale to zero (`scale-to-zero-pod-retention-period`, 0 by default), the
//! lag between the serverless service's mode change and the activator's endpoints
//! (`ProxyFor` counts from the mode change here).

use super::pipeline::{TimedBuckets, gcd};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, Decision, Observation};
use crate::error::InputError;
use crate::scenario::source::{Dur, Finite, Positive};
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;
use std::collections::VecDeque;
use toml::Spanned;

/// What the KPA scales on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KpaMetric {
    /// Requests in service or queued per pod.
    Concurrency,
    /// Requests per second per pod.
    Rps,
}

impl KpaMetric {
    pub fn name(self) -> &'static str {
        match self {
            KpaMetric::Concurrency => "concurrency",
            KpaMetric::Rps => "rps",
        }
    }
}

/// Validated `kpa` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct KpaParams {
    pub metric: KpaMetric,
    /// Per-pod target value (Knative's `TargetValue`): `total` times the target utilization,
    /// or `target_per_pod` as given.
    pub target: f64,
    /// What one pod can take (Knative's `TotalValue`): the `target` key capped at the
    /// container concurrency, else the concurrency, else 200 requests per second. The excess
    /// burst capacity counts `ready × total`.
    pub total: f64,
    /// `target_burst_capacity`: -1 keeps the activator in the path, 0 never puts it there.
    pub target_burst_capacity: f64,
    pub stable_window: SimDuration,
    pub panic_window: SimDuration,
    /// `panic_window_percentage`: the panic window as a percentage of the stable window.
    pub panic_window_percentage: f64,
    pub panic_threshold: f64,
    pub max_scale_up_rate: f64,
    pub max_scale_down_rate: f64,
    pub scale_to_zero_grace: SimDuration,
    pub tick: SimDuration,
    pub scale_down_delay: SimDuration,
    /// Scrape period and bucket size.
    pub metric_resolution: SimDuration,
    /// A scraped value reaches the autoscaler this long after the scrape.
    pub metric_delay: SimDuration,
}

/// `container-concurrency-target-percentage` (70 %), as a fraction.
pub const DEFAULT_TARGET_UTILIZATION: f64 = 0.7;
/// `target-burst-capacity` (`pkg/autoscaler/config/config.go`).
pub const DEFAULT_TARGET_BURST_CAPACITY: f64 = 211.0;
/// After marking the autoscaler inactive with the activator already in the path, the scaler
/// looks again this much later (`scaler.go: handleScaleToZero`, `enqueueCB(pa, 3*time.Second)`).
pub const PROXY_RECHECK_S: u64 = 3;
/// `container-concurrency-target-default` when a container has no concurrency limit.
pub const DEFAULT_RPS_TOTAL: f64 = 200.0;
/// `autoscaling.TargetMin`.
pub const TARGET_MIN: f64 = 0.01;
pub const DEFAULT_STABLE_WINDOW_S: u64 = 60;
pub const DEFAULT_PANIC_WINDOW_PERCENTAGE: f64 = 10.0;
pub const DEFAULT_PANIC_THRESHOLD: f64 = 2.0;
pub const DEFAULT_MAX_SCALE_UP_RATE: f64 = 1000.0;
pub const DEFAULT_MAX_SCALE_DOWN_RATE: f64 = 2.0;
pub const DEFAULT_SCALE_TO_ZERO_GRACE_S: u64 = 30;
pub const DEFAULT_TICK_S: u64 = 2;
pub const DEFAULT_METRIC_RESOLUTION_S: u64 = 1;
/// Progress deadline (600 s) plus the activation time-out buffer.
pub const ACTIVATION_TIMEOUT_S: u64 = 630;

impl KpaParams {
    /// Knative's panic window: the stable window times the percentage, rounded to whole
    /// seconds, at least one bucket.
    pub fn panic_window_for(
        stable: SimDuration,
        percentage: f64,
        resolution: SimDuration,
    ) -> SimDuration {
        let secs = (stable.as_secs_f64() * percentage / 100.0).round();
        SimDuration::from_secs_f64(secs).max(resolution)
    }
}

/// The autoscaler's Active condition (`PodAutoscalerStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PaState {
    Active { since: SimTime },
    Activating { since: SimTime },
    Inactive { since: SimTime },
}

/// `aggregation/max.TimeWindow`: the maximum value recorded over the last buckets.
#[derive(Clone, Debug)]
struct MaxWindow {
    granularity: u64,
    len: u64,
    slots: VecDeque<(u64, u32)>,
}

impl MaxWindow {
    fn new(window: SimDuration, granularity: SimDuration) -> Self {
        MaxWindow {
            granularity: granularity.0,
            len: window.0.div_ceil(granularity.0).max(1),
            slots: VecDeque::new(),
        }
    }

    fn record(&mut self, now: SimTime, value: u32) {
        let idx = now.0 / self.granularity;
        while self
            .slots
            .front()
            .is_some_and(|&(s, _)| s + self.len <= idx)
        {
            self.slots.pop_front();
        }
        match self.slots.back_mut() {
            Some((s, v)) if *s == idx => *v = (*v).max(value),
            _ => self.slots.push_back((idx, value)),
        }
    }

    fn current(&self) -> u32 {
        self.slots.iter().map(|&(_, v)| v).max().unwrap_or(0)
    }
}

pub struct Kpa {
    p: KpaParams,
    interval: SimDuration,
    next_tick: SimTime,
    stable: TimedBuckets,
    panic: TimedBuckets,
    /// Counters at the last scrape: time, ∫ requests in the system dt, arrivals.
    last: (SimTime, f64, u64),
    /// The activator's scale-from-zero report (1) not yet subtracted from its next one.
    first_report: f64,
    /// Scraped values on their way to the autoscaler: (arrival time, value).
    pending: VecDeque<(SimTime, f64)>,
    panic_time: Option<SimTime>,
    max_panic_pods: u32,
    delay: Option<MaxWindow>,
    pa: Option<PaState>,
    /// The last count the autoscaler wanted (Knative's `pc.want`).
    want: i64,
    /// The decider's last result: desired count and excess burst capacity.
    decider: Option<(u32, i32)>,
    /// Since when the activator has been in the request path (the serverless service in
    /// proxy mode), if it is.
    proxy_since: Option<SimTime>,
    /// When the scaler asked to look again (`enqueueCB`), if it did.
    recheck_at: Option<SimTime>,
}

impl Kpa {
    pub fn new(p: KpaParams) -> Self {
        let interval = gcd(p.tick, p.metric_resolution);
        Kpa {
            interval,
            next_tick: SimTime::ZERO + interval,
            stable: TimedBuckets::new(p.stable_window, p.metric_resolution),
            panic: TimedBuckets::new(p.panic_window, p.metric_resolution),
            last: (SimTime::ZERO, 0.0, 0),
            first_report: 0.0,
            pending: VecDeque::new(),
            panic_time: None,
            max_panic_pods: 0,
            delay: (!p.scale_down_delay.is_zero())
                .then(|| MaxWindow::new(p.scale_down_delay, p.tick)),
            pa: None,
            want: 0,
            decider: None,
            // The serverless service is created in proxy mode (`kpa.go: ReconcileKind`).
            proxy_since: Some(SimTime::ZERO),
            recheck_at: None,
            p,
        }
    }

    fn record(&mut self, t: SimTime, value: f64) {
        self.stable.record(t, value);
        self.panic.record(t, value);
    }

    /// One scrape of the queue-proxies and the activator.
    fn scrape(&mut self, obs: &Observation<'_>) {
        let now = obs.now;
        // Draining pods are terminating: out of the revision's endpoints, so not scraped.
        let area = obs.totals.busy_area + obs.totals.queued_area - obs.totals.draining_area;
        let arrivals = obs.totals.arrivals;
        let (t0, a0, n0) = self.last;
        self.last = (now, area, arrivals);
        let dt = (now - t0).as_secs_f64();
        if dt <= 0.0 {
            return;
        }
        // The activator subtracts the request it reported at once (scale from zero) from its
        // next report: concurrency `max(average − 1, 0)`, request count − 1
        // (`concurrency_reporter.go: computeReport`).
        let first = std::mem::take(&mut self.first_report);
        let value = match self.p.metric {
            KpaMetric::Concurrency => ((area - a0) / dt - first).max(0.0),
            KpaMetric::Rps => ((arrivals - n0) as f64 - first).max(0.0) / dt,
        };
        // The scraper reports when there are ready pods; the activator when it held requests.
        if obs.ready > 0 || value > 0.0 || obs.front_buffer > 0 {
            self.pending.push_back((now + self.p.metric_delay, value));
        }
    }

    fn deliver(&mut self, now: SimTime) {
        while let Some(&(t, v)) = self.pending.front() {
            if t > now {
                break;
            }
            self.pending.pop_front();
            self.record(t, v);
        }
    }

    /// `autoscaler.Scale`: the decider's desired count and excess burst capacity, or `None`
    /// without data.
    fn scale(&mut self, obs: &Observation<'_>) -> Option<(u32, i32)> {
        let now = obs.now;
        if self.stable.is_empty(now) {
            return None;
        }
        let stable = self.stable.window_average(now);
        let panic = self.panic.window_average(now);
        let ready = f64::from(obs.ready.max(1));
        let max_up = (self.p.max_scale_up_rate * ready).ceil();
        let max_down = (ready / self.p.max_scale_down_rate).floor();
        let dspc = (stable / self.p.target).ceil();
        let dppc = (panic / self.p.target).ceil();
        let stable_pods = dspc.max(max_down).min(max_up) as u32;
        let panic_pods = dppc.max(max_down).min(max_up) as u32;
        let over = dppc / ready >= self.p.panic_threshold;
        if over {
            self.panic_time = Some(now);
        } else if let Some(t) = self.panic_time
            && t + self.p.stable_window < now
        {
            self.panic_time = None;
            self.max_panic_pods = 0;
        }
        let mut desired = stable_pods;
        if self.panic_time.is_some() {
            desired = desired.max(panic_pods);
            self.max_panic_pods = self.max_panic_pods.max(desired);
            desired = self.max_panic_pods;
        }
        if let Some(w) = &mut self.delay {
            w.record(now, desired);
            desired = w.current();
        }
        let ebc =
            excess_burst_capacity(obs.ready, self.p.total, self.p.target_burst_capacity, panic);
        Some((desired, ebc))
    }

    /// Asks to be reconciled again at `at` (`enqueueCB`); the earliest request wins.
    fn enqueue(&mut self, at: SimTime) {
        self.recheck_at = Some(self.recheck_at.map_or(at, |t| t.min(at)));
    }

    /// `handleScaleToZero`: what to ask for (`want`, -1 for unknown) and what to apply.
    fn handle_scale_to_zero(&mut self, now: SimTime, desired: u32) -> (i64, Option<u32>) {
        if desired != 0 {
            return (i64::from(desired), Some(desired));
        }
        match self.pa.unwrap_or(PaState::Active {
            since: SimTime::ZERO,
        }) {
            PaState::Activating { since } => {
                let timeout = SimDuration::from_secs(ACTIVATION_TIMEOUT_S);
                if now - since >= timeout {
                    (0, Some(0))
                } else {
                    self.enqueue(since + timeout);
                    (-1, None)
                }
            }
            PaState::Active { since } => {
                if now - since >= self.p.stable_window {
                    // Mark inactive and keep the pods. With the activator already in the path
                    // nothing else would wake the scaler: it looks again 3 s later.
                    if self.proxy_since.is_some() {
                        self.enqueue(now + SimDuration::from_secs(PROXY_RECHECK_S));
                    }
                    (0, None)
                } else {
                    self.enqueue(since + self.p.stable_window);
                    (1, Some(1))
                }
            }
            PaState::Inactive { since } => {
                // The activator is in the path once inactive (want = 0 puts the serverless
                // service in proxy mode), so the activator probe succeeds. Pod retention is 0.
                let grace = self.p.scale_to_zero_grace;
                if now - since >= grace {
                    return (0, Some(0));
                }
                // The fast path: backed by the activator for the grace period already.
                let proxy_for = self.proxy_since.map_or(SimDuration::ZERO, |t| now - t);
                if proxy_for >= grace {
                    (0, Some(0))
                } else {
                    self.enqueue(now + SimDuration(grace.0 - proxy_for.0));
                    (0, None)
                }
            }
        }
    }

    /// `computeActiveCondition`.
    fn update_condition(&mut self, now: SimTime, ready: u32, min_replicas: u32) {
        let min_ready = min_replicas.max(1);
        let pa = self.pa.unwrap_or(PaState::Active {
            since: SimTime::ZERO,
        });
        let inactive = matches!(pa, PaState::Inactive { .. });
        let next = if self.want == 0 {
            match pa {
                PaState::Inactive { .. } => pa,
                _ => PaState::Inactive { since: now },
            }
        } else if ready < min_ready {
            if self.want > 0 || !inactive {
                match pa {
                    PaState::Activating { .. } => pa,
                    _ => PaState::Activating { since: now },
                }
            } else {
                pa
            }
        } else if self.want > 0 || !inactive {
            match pa {
                PaState::Active { .. } => pa,
                _ => PaState::Active { since: now },
            }
        } else {
            pa
        };
        self.pa = Some(next);
    }

    /// One reconcile of the pod autoscaler (`kpa.go: ReconcileKind`) on the decider's last
    /// result: the scaler, then the activator's place in the path, then the Active condition.
    fn reconcile(&mut self, obs: &Observation<'_>) -> Decision {
        let Some((desired, ebc)) = self.decider else {
            return Decision::Keep;
        };
        let now = obs.now;
        let bounded = desired.max(obs.min_replicas).min(obs.max_replicas);
        let (want, apply) = self.handle_scale_to_zero(now, bounded);
        self.want = want;
        // The activator leaves the path only when pods are wanted and the excess burst
        // capacity is not negative.
        let proxy = !(want > 0 && ebc >= 0);
        match (proxy, self.proxy_since) {
            (true, None) => {
                self.proxy_since = Some(now);
                // The serverless service's change triggers a reconcile of its own.
                self.enqueue(now);
            }
            (false, Some(_)) => self.proxy_since = None,
            _ => {}
        }
        self.update_condition(now, obs.ready, obs.min_replicas);
        match apply {
            Some(n) if n != obs.desired => Decision::Desired(n),
            _ => Decision::Keep,
        }
    }

    /// Whether the activator is in the request path now (the serverless service in proxy
    /// mode).
    pub fn activator_in_path(&self) -> bool {
        self.proxy_since.is_some()
    }
}

/// The excess burst capacity (`autoscaler.go: Scale`): `floor(ready · total − TBC − panic)`;
/// 0 when the target burst capacity is 0, −1 when it is −1. Negative puts the activator in
/// the request path.
pub fn excess_burst_capacity(ready: u32, total: f64, tbc: f64, panic: f64) -> i32 {
    if tbc == 0.0 {
        0
    } else if tbc < 0.0 {
        -1
    } else {
        (f64::from(ready) * total - tbc - panic).floor() as i32
    }
}

impl Autoscaler for Kpa {
    fn tick_interval(&self) -> SimDuration {
        self.interval
    }

    fn ticks_on_buffered_request(&self) -> bool {
        true
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        let now = obs.now;
        if self.pa.is_none() {
            // Created at time 0 with the initial pods: more than one ready pod starts in panic.
            if obs.ready > 1 {
                self.panic_time = Some(SimTime::ZERO);
                self.max_panic_pods = obs.ready;
            }
            self.want = i64::from(obs.desired);
            self.pa = Some(if obs.desired > 0 {
                PaState::Active {
                    since: SimTime::ZERO,
                }
            } else {
                PaState::Inactive {
                    since: SimTime::ZERO,
                }
            });
        }
        let periodic = now >= self.next_tick;
        if !periodic {
            // An extra tick: a request found no container. The activator reports it at once
            // and pokes the autoscaler if the revision is at zero.
            if obs.desired != 0 || obs.front_buffer == 0 {
                return Decision::Keep;
            }
            let first = match self.p.metric {
                KpaMetric::Concurrency | KpaMetric::Rps => 1.0,
            };
            self.deliver(now);
            self.record(now, first);
            self.first_report = first;
            return match self.scale(obs) {
                Some(result) => {
                    self.decider = Some(result);
                    self.reconcile(obs)
                }
                None => Decision::Keep,
            };
        }
        while self.next_tick <= now {
            self.next_tick += self.interval;
        }
        if now.0.is_multiple_of(self.p.metric_resolution.0) {
            self.scrape(obs);
        }
        self.deliver(now);
        // The autoscaler's status follows the endpoints between decisions.
        self.update_condition(now, obs.ready, obs.min_replicas);
        let due = self.recheck_at.is_some_and(|t| t <= now);
        if due {
            self.recheck_at = None;
        }
        if now.0.is_multiple_of(self.p.tick.0)
            && let Some(result) = self.scale(obs)
            && self.decider != Some(result)
        {
            self.decider = Some(result);
            return self.reconcile(obs);
        }
        if due {
            self.reconcile(obs)
        } else {
            Decision::Keep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;

    fn params(concurrency: u32) -> KpaParams {
        let stable = SimDuration::from_secs(DEFAULT_STABLE_WINDOW_S);
        let res = SimDuration::from_secs(1);
        KpaParams {
            metric: KpaMetric::Concurrency,
            target: (f64::from(concurrency) * 0.7).max(TARGET_MIN),
            total: f64::from(concurrency),
            target_burst_capacity: DEFAULT_TARGET_BURST_CAPACITY,
            stable_window: stable,
            panic_window: KpaParams::panic_window_for(stable, 10.0, res),
            panic_window_percentage: 10.0,
            panic_threshold: 2.0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            scale_to_zero_grace: SimDuration::from_secs(30),
            tick: SimDuration::from_secs(2),
            scale_down_delay: SimDuration::ZERO,
            metric_resolution: res,
            metric_delay: SimDuration::ZERO,
        }
    }

    /// One second with `in_system` requests in the system and `arrivals` arrivals, then a tick;
    /// new pods become ready at once when `instant` is set.
    fn second(k: &mut Kpa, c: &mut Cluster, in_system: f64, instant: bool) -> Decision {
        c.run_load(1.0, in_system, 0);
        let d = k.tick(&c.obs());
        c.apply(d);
        if instant {
            c.make_all_ready();
        }
        d
    }

    #[test]
    fn panic_window_is_ten_percent_of_the_stable_window() {
        let s = SimDuration::from_secs(1);
        assert_eq!(
            KpaParams::panic_window_for(SimDuration::from_secs(60), 10.0, s),
            SimDuration::from_secs(6)
        );
        assert_eq!(
            KpaParams::panic_window_for(SimDuration::from_secs(6), 10.0, s),
            SimDuration::from_secs(1)
        );
        assert_eq!(
            KpaParams::panic_window_for(SimDuration::from_secs(25), 10.0, s),
            SimDuration::from_secs(3) // 2.5 s rounds half away from zero
        );
    }

    #[test]
    fn stable_mode_targets_seventy_percent_of_the_concurrency() {
        // 1 pod, concurrency 100, target 70: 140 in the system for a while → 2 pods.
        let mut c = Cluster::new(100, 1);
        let mut k = Kpa::new(params(100));
        assert_eq!(k.tick_interval(), SimDuration::from_secs(1));
        assert_eq!(second(&mut k, &mut c, 140.0, true), Decision::Keep); // t=1: scrape only
        // t=2: stable = panic = 140 → 2 pods; 2/1 = 2 ≥ 2: also panicking.
        assert_eq!(second(&mut k, &mut c, 140.0, true), Decision::Desired(2));
    }

    #[test]
    fn panic_starts_at_twice_what_ready_pods_take() {
        for (load, expect_panic) in [(210.0, false), (210.5, true)] {
            // 2 pods with concurrency 100 (target 70). They start in panic (more than one
            // ready pod), which ends once 60 s pass without being over the threshold.
            let mut c = Cluster::new(100, 2);
            let mut k = Kpa::new(params(100));
            for _ in 0..70 {
                assert_eq!(second(&mut k, &mut c, 100.0, true), Decision::Keep);
            }
            assert_eq!(k.panic_time, None);
            // 6 s at `load`: the panic window holds exactly those 6 s. ceil(210/70)/2 = 1.5;
            // ceil(210.5/70)/2 = 4/2 = 2.
            let mut last = Decision::Keep;
            for _ in 0..6 {
                last = second(&mut k, &mut c, load, false);
            }
            if expect_panic {
                assert!(k.panic_time.is_some());
                assert_eq!(last, Decision::Desired(4));
            } else {
                assert_eq!(k.panic_time, None);
                // Stable: (54 · 100 + 6 · 210) / 60 = 111 → ceil(111/70) = 2 = current.
                assert_eq!(last, Decision::Keep);
            }
        }
    }

    #[test]
    fn no_scale_down_in_panic_nor_until_60s_after_it_ends() {
        let mut c = Cluster::new(100, 2);
        let mut k = Kpa::new(params(100));
        for _ in 0..70 {
            second(&mut k, &mut c, 100.0, true);
        }
        // Surge: 6 s at 211 → panic at t = 76, 4 pods (ready at once).
        for _ in 0..5 {
            second(&mut k, &mut c, 211.0, true);
        }
        assert_eq!(second(&mut k, &mut c, 211.0, true), Decision::Desired(4));
        let panic_at = c.now;
        assert_eq!(panic_at, SimTime::from_secs_f64(76.0));
        // Load gone. With 4 ready pods the surge is not over the threshold any more, so panic
        // was last extended at 76 s; it ends at the first tick after 136 s.
        while c.now < SimTime::from_secs_f64(137.0) {
            assert_eq!(
                second(&mut k, &mut c, 0.0, true),
                Decision::Keep,
                "at {}",
                c.now
            );
        }
        // t = 138: out of panic; the stable window (78, 138] is all zeros, but the count may
        // only halve per decision: floor(4 / 2) = 2, then 1.
        assert_eq!(second(&mut k, &mut c, 0.0, true), Decision::Desired(2));
        assert_eq!(c.now, SimTime::from_secs_f64(138.0));
        assert_eq!(second(&mut k, &mut c, 0.0, true), Decision::Keep); // t=139: scrape
        assert_eq!(second(&mut k, &mut c, 0.0, true), Decision::Desired(1));
    }

    #[test]
    fn max_scale_down_rate_halves_at_most() {
        // 10 pods start in panic (maxPanicPods 10); it ends at 62 s and the count halves.
        let mut c = Cluster::new(1, 10);
        let mut k = Kpa::new(params(1));
        for _ in 0..61 {
            assert_eq!(
                second(&mut k, &mut c, 0.5, true),
                Decision::Keep,
                "at {}",
                c.now
            );
        }
        assert_eq!(second(&mut k, &mut c, 0.5, true), Decision::Desired(5));
        second(&mut k, &mut c, 0.5, true);
        // ceil(0.5 / 0.7) = 1 would do; floor(5/2) = 2 is the lowest allowed.
        assert_eq!(second(&mut k, &mut c, 0.5, true), Decision::Desired(2));
        second(&mut k, &mut c, 0.5, true);
        assert_eq!(second(&mut k, &mut c, 0.5, true), Decision::Desired(1));
    }

    /// Seconds until the pod autoscaler scales to 0, from a pod kept idle (`load` until
    /// `silence_from`, then nothing), and when it was marked inactive.
    fn zero_at(tbc: f64, load: f64, silence_from: f64) -> (f64, f64) {
        let mut p = params(1);
        p.target_burst_capacity = tbc;
        let mut c = Cluster::new(1, 1);
        c.min_replicas = 0;
        let mut k = Kpa::new(p);
        while c.desired > 0 {
            let l = if c.now.as_secs_f64() < silence_from {
                load
            } else {
                0.0
            };
            let d = second(&mut k, &mut c, l, true);
            assert!(
                d == Decision::Keep || d == Decision::Desired(0),
                "{d:?} at {}",
                c.now
            );
            assert!(c.now.as_secs_f64() < 1000.0, "never reached zero");
        }
        let Some(PaState::Inactive { since }) = k.pa else {
            panic!("inactive at zero: {:?}", k.pa)
        };
        (c.now.as_secs_f64(), since.as_secs_f64())
    }

    #[test]
    fn scale_to_zero_takes_the_fast_path_when_the_activator_is_already_in_the_path() {
        // No traffic from the start. Desired is 0 at once, but the autoscaler has been active
        // for less than the stable window: held at 1 until 60 s, then Inactive. With the
        // default target burst capacity (211) one pod of concurrency 1 leaves an excess burst
        // capacity of 1 − 211 < 0: the activator has been in the path since the start, so the
        // scaler looks again 3 s later and the fast path scales to 0 at 63 s
        // (`handleScaleToZero`: "Fast path scaling to 0, in proxy mode for" ≥ grace).
        assert_eq!(zero_at(211.0, 0.0, 0.0), (63.0, 60.0));
        // TBC = -1: the activator is always in the path; the same.
        assert_eq!(zero_at(-1.0, 0.0, 0.0), (63.0, 60.0));
        // TBC = 0: the activator is never in the path while pods are wanted. Marking the
        // autoscaler inactive (want = 0) puts it there; 0 after the grace period, at 90 s.
        assert_eq!(zero_at(0.0, 0.0, 0.0), (90.0, 60.0));
    }

    #[test]
    fn scale_to_zero_after_traffic_stops() {
        // Half a request in the system until 100 s, then silence. The stable window holds
        // traffic until it is all zeros: the decision at 160 s sees (100, 160] → desired 0,
        // Inactive; the fast path gives 0 at 163 s (the example: last request at
        // 119.8 s, zero at 183 s in Knative rather than 210 s).
        assert_eq!(zero_at(211.0, 0.5, 100.0), (163.0, 160.0));
        assert_eq!(zero_at(0.0, 0.5, 100.0), (190.0, 160.0));
        // A target burst capacity the pod can cover takes the activator out of the path:
        // floor(1 − 0.25 − 0.5) = 0 ≥ 0 under load, so it enters only when the autoscaler is
        // marked inactive, and the grace period runs from there.
        assert_eq!(zero_at(0.25, 0.5, 100.0), (190.0, 160.0));
    }

    #[test]
    fn excess_burst_capacity_as_knative() {
        // knative/serving pkg/autoscaler/scaling/autoscaler_test.go: expectedEBC(totCap,
        // targetBC, recordedConcurrency, numPods) = floor(totCap / 0.75 · numPods − targetBC −
        // recordedConcurrency), the test's TotalValue being the target over 75 %.
        let ebc = |tot: f64, tbc: f64, panic: f64, pods: u32| {
            excess_burst_capacity(pods, tot / 0.75, tbc, panic)
        };
        // TestAutoscalerStableModeIncreaseWithConcurrencyDefault: 10/0.75 − 101 − 10 → −98.
        assert_eq!(ebc(10.0, 101.0, 10.0, 1), -98);
        // TestAutoscalerStableModeDecrease: 8 pods, 10/0.75 · 8 − 98 − 100 = −91.33 → −92.
        assert_eq!(ebc(10.0, 98.0, 100.0, 8), -92);
        assert_eq!(ebc(10.0, 98.0, 50.0, 8), -42);
        // TestAutoscalerRateLimitScaleDown: 100 pods, 1333.3 − 61 − 1 → 1271.
        assert_eq!(ebc(10.0, 61.0, 1.0, 100), 1271);
        // TestAutoscalerUseOnePodAsMinimumIfEndpointsNotFound: 0 pods → −81 − 888 = −969.
        assert_eq!(ebc(10.0, 81.0, 888.0, 0), -969);
        // TBC 0 and −1 are fixed (`case spec.TargetBurstCapacity == 0` / default −1).
        assert_eq!(excess_burst_capacity(0, 100.0, 0.0, 500.0), 0);
        assert_eq!(excess_burst_capacity(1000, 100.0, -1.0, 0.0), -1);
    }

    #[test]
    fn the_activator_leaves_the_path_with_enough_spare_capacity() {
        // 3 pods of concurrency 100 (total 100 each) under 50 in the system: 300 − 211 − 50
        // = 39 ≥ 0, so the activator leaves the path at the first decision; a surge to 100
        // makes it −11 < 0 and puts it back.
        let mut c = Cluster::new(100, 3);
        let mut k = Kpa::new(params(100));
        assert!(k.activator_in_path());
        for _ in 0..10 {
            second(&mut k, &mut c, 50.0, true);
        }
        assert!(!k.activator_in_path());
        for _ in 0..10 {
            second(&mut k, &mut c, 100.0, true);
        }
        assert!(k.activator_in_path());
    }

    #[test]
    fn never_zero_with_a_minimum_of_one() {
        let mut c = Cluster::new(1, 1);
        let mut k = Kpa::new(params(1));
        for _ in 0..300 {
            assert_eq!(second(&mut k, &mut c, 0.0, true), Decision::Keep);
        }
    }

    #[test]
    fn the_poke_scales_from_zero() {
        let mut c = Cluster::new(1, 1);
        c.min_replicas = 0;
        let mut k = Kpa::new(params(1));
        while c.desired > 0 {
            second(&mut k, &mut c, 0.0, true);
        }
        assert_eq!(c.now, SimTime::from_secs_f64(63.0));
        for _ in 0..47 {
            second(&mut k, &mut c, 0.0, true);
        }
        // A request arrives at 110.5 s and waits in the front buffer: the poke decides at once.
        // The activator reports a concurrency of 1. The stable window still holds the zeros
        // scraped until 63 s: 1/60 → ceil(0.0167 / 0.7) = 1 pod. The 6 s panic window had no
        // write for longer than itself, so it starts afresh at 1 → ceil(1 / 0.7) = 2, which is
        // twice the (at least one) ready pod: Knative panics and asks for 2 pods with a
        // container concurrency of 1.
        c.run_load(0.5, 0.0, 1);
        c.front_buffer = 1;
        assert!(k.ticks_on_buffered_request());
        assert_eq!(k.tick(&c.obs()), Decision::Desired(2));
        c.apply(Decision::Desired(2));
        assert_eq!(
            k.pa,
            Some(PaState::Activating {
                since: SimTime::from_secs_f64(110.5)
            })
        );
        // The pod starts for 5 s while the request waits; nothing scales it back down.
        c.run_load(0.5, 1.0, 0);
        assert_eq!(k.tick(&c.obs()), Decision::Keep); // t = 111: back on the 1 s grid
        for _ in 0..4 {
            assert_eq!(second(&mut k, &mut c, 1.0, false), Decision::Keep);
        }
        assert!(matches!(k.pa, Some(PaState::Activating { .. })));
        c.make_all_ready();
        c.front_buffer = 0;
        assert_eq!(second(&mut k, &mut c, 1.0, false), Decision::Keep);
        assert_eq!(
            k.pa,
            Some(PaState::Active {
                since: SimTime::from_secs_f64(116.0)
            })
        );
    }

    /// The activator's scale-from-zero report is subtracted from its next report, as in
    /// knative/serving's `TestStats` "scale to two" (`concurrency_reporter_test.go`: two
    /// requests in; reports of 1 at once, then 2 − 1 = 1, then 2). Here the two requests
    /// arrive at 110.5 s: the poke records 1; the scrape at 111 s measures 2 × 0.5 s = 1
    /// request on average and reports 1 − 1 = 0; the one at 112 s reports 2. The 6 s panic
    /// window (afresh since the poke) averages 1, then (1 + 0) / 2, then (1 + 0 + 2) / 3.
    #[test]
    fn the_activators_first_report_is_subtracted_from_its_next() {
        let mut c = Cluster::new(1, 1);
        c.min_replicas = 0;
        let mut k = Kpa::new(params(1));
        while c.desired > 0 {
            second(&mut k, &mut c, 0.0, true);
        }
        while c.now < SimTime::from_secs_f64(110.0) {
            second(&mut k, &mut c, 0.0, true);
        }
        c.run_load(0.5, 0.0, 2);
        c.front_buffer = 2;
        assert_eq!(k.tick(&c.obs()), Decision::Desired(2));
        c.apply(Decision::Desired(2));
        assert_eq!(k.panic.window_average(c.now), 1.0);
        c.run_load(0.5, 2.0, 0);
        k.tick(&c.obs());
        assert_eq!(k.panic.window_average(c.now), 0.5);
        c.run_load(1.0, 2.0, 0);
        k.tick(&c.obs());
        assert_eq!(k.panic.window_average(c.now), 1.0);
    }

    /// Terminating pods are not scraped (`pkg/resources/pods.go: PodIPsSplitByAge` keeps
    /// running pods without a deletion timestamp): one ready pod holds 3 requests for a
    /// second while a draining one finishes 1; the KPA records 3, not 4.
    #[test]
    fn draining_pods_are_not_scraped() {
        let mut c = Cluster::new(10, 1);
        let mut k = Kpa::new(params(10));
        c.run_load(1.0, 3.0, 0);
        c.totals.busy_area += 1.0;
        c.totals.draining_area += 1.0;
        k.tick(&c.obs());
        assert_eq!(k.panic.window_average(c.now), 3.0);
    }

    #[test]
    fn a_poke_while_pods_exist_does_nothing() {
        let mut c = Cluster::new(1, 1);
        let mut k = Kpa::new(params(1));
        c.run_load(0.5, 0.0, 1);
        c.front_buffer = 1;
        assert_eq!(k.tick(&c.obs()), Decision::Keep);
    }

    #[test]
    fn scale_down_delay_holds_the_highest_recent_decision() {
        // 10 pods start in panic (10 until it ends at 62 s, then 5 as in the test above); with
        // a 20 s delay the decisions of the last 10 two-second buckets still include a 10 until
        // the one at 60 s leaves the window, at 80 s.
        let mut p = params(1);
        p.scale_down_delay = SimDuration::from_secs(20);
        let mut c = Cluster::new(1, 10);
        let mut k = Kpa::new(p);
        while c.now < SimTime::from_secs_f64(79.0) {
            assert_eq!(
                second(&mut k, &mut c, 0.5, true),
                Decision::Keep,
                "at {}",
                c.now
            );
        }
        assert_eq!(second(&mut k, &mut c, 0.5, true), Decision::Desired(5));

        let mut w = MaxWindow::new(SimDuration::from_secs(10), SimDuration::from_secs(2));
        let at = |s: f64| SimTime::from_secs_f64(s);
        w.record(at(2.0), 4);
        w.record(at(4.0), 1);
        assert_eq!(w.current(), 4);
        w.record(at(10.0), 1);
        assert_eq!(w.current(), 4); // buckets 1..5
        w.record(at(12.0), 1);
        assert_eq!(w.current(), 1); // bucket 1 (t = 2 s) left the 5-bucket window
    }

    #[test]
    fn rps_metric_counts_arrivals() {
        let mut p = params(1);
        p.metric = KpaMetric::Rps;
        p.target = 140.0;
        let mut c = Cluster::new(1, 1);
        let mut k = Kpa::new(p);
        c.run_load(1.0, 0.0, 300);
        assert_eq!(k.tick(&c.obs()), Decision::Keep);
        c.run_load(1.0, 0.0, 300);
        // 300 per second over 140 → 3 pods.
        assert_eq!(k.tick(&c.obs()), Decision::Desired(3));
    }
}

/// A `kpa` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKpa {
    pub metric: Option<Spanned<String>>,
    pub target: Option<Spanned<Positive>>,
    pub target_utilization_percentage: Option<Spanned<Positive>>,
    pub target_per_pod: Option<Spanned<Positive>>,
    pub target_burst_capacity: Option<Spanned<Finite>>,
    pub stable_window: Option<Spanned<Dur>>,
    pub panic_window_percentage: Option<Spanned<Positive>>,
    pub panic_threshold: Option<Spanned<Positive>>,
    pub max_scale_up_rate: Option<Spanned<Positive>>,
    pub max_scale_down_rate: Option<Spanned<Positive>>,
    pub scale_to_zero_grace: Option<Spanned<Dur>>,
    pub tick: Option<Spanned<Dur>>,
    pub scale_down_delay: Option<Spanned<Dur>>,
    pub metric_resolution: Option<Spanned<Dur>>,
    pub metric_delay: Option<Spanned<Dur>>,
}

impl PolicyType for KpaParams {
    const TYPE: &'static str = "kpa";
    type Raw = RawKpa;

    fn validate(raw: &RawKpa, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        use crate::autoscaler::kpa as kp;
        let metric = match &raw.metric {
            None => KpaMetric::Concurrency,
            Some(m) => match m.get_ref().as_str() {
                "concurrency" => KpaMetric::Concurrency,
                "rps" => KpaMetric::Rps,
                other => {
                    return Err(k.err(
                        m.span(),
                        "metric",
                        format!(
                            "unknown metric {other}: expected \"concurrency\" or \"rps\"",
                            other = crate::error::quoted(other)
                        ),
                    ));
                }
            },
        };
        let (target, total) = resolve_target(raw, k, ctx, metric)?;
        let target_burst_capacity = k.number(
            &raw.target_burst_capacity,
            "target_burst_capacity",
            kp::DEFAULT_TARGET_BURST_CAPACITY,
            |v| v == -1.0 || v >= 0.0,
            "-1 (the activator always in the request path), 0 (never) or a number of requests from 0 up",
        )?;
        let resolution = k.period(
            &raw.metric_resolution,
            "metric_resolution",
            SimDuration::from_secs(kp::DEFAULT_METRIC_RESOLUTION_S),
        )?;
        let stable_window = k.bounded(
            &raw.stable_window,
            "stable_window",
            SimDuration::from_secs(kp::DEFAULT_STABLE_WINDOW_S),
            SimDuration::from_secs(6),
            SimDuration::from_secs(3600),
        )?;
        if !stable_window.0.is_multiple_of(resolution.0) {
            let span = raw
                .stable_window
                .as_ref()
                .or(raw.metric_resolution.as_ref())
                .map_or(k.type_span.clone(), |s| s.span());
            return Err(k.err(
                span,
                "stable_window",
                format!(
                    "expected a whole multiple of metric_resolution ({}), found {}",
                    secs(resolution),
                    secs(stable_window)
                ),
            ));
        }
        let percentage = k.number(
            &raw.panic_window_percentage,
            "panic_window_percentage",
            kp::DEFAULT_PANIC_WINDOW_PERCENTAGE,
            |v| (1.0..=100.0).contains(&v),
            "a percentage from 1 to 100",
        )?;
        let panic_threshold = k.number(
            &raw.panic_threshold,
            "panic_threshold",
            kp::DEFAULT_PANIC_THRESHOLD,
            |v| (1.1..=10.0).contains(&v),
            "a ratio from 1.1 to 10 (Knative's 110% to 1000%)",
        )?;
        let max_scale_up_rate = k.number(
            &raw.max_scale_up_rate,
            "max_scale_up_rate",
            kp::DEFAULT_MAX_SCALE_UP_RATE,
            |v| v > 1.0,
            "a rate greater than 1",
        )?;
        let max_scale_down_rate = k.number(
            &raw.max_scale_down_rate,
            "max_scale_down_rate",
            kp::DEFAULT_MAX_SCALE_DOWN_RATE,
            |v| v > 1.0,
            "a rate greater than 1",
        )?;
        Ok(KpaParams {
            metric,
            target,
            total,
            target_burst_capacity,
            stable_window,
            panic_window: KpaParams::panic_window_for(stable_window, percentage, resolution),
            panic_window_percentage: percentage,
            panic_threshold,
            max_scale_up_rate,
            max_scale_down_rate,
            scale_to_zero_grace: k.bounded(
                &raw.scale_to_zero_grace,
                "scale_to_zero_grace",
                SimDuration::from_secs(kp::DEFAULT_SCALE_TO_ZERO_GRACE_S),
                SimDuration::from_secs(6),
                SimDuration::from_secs(3600),
            )?,
            tick: k.period(
                &raw.tick,
                "tick",
                SimDuration::from_secs(kp::DEFAULT_TICK_S),
            )?,
            scale_down_delay: k.bounded(
                &raw.scale_down_delay,
                "scale_down_delay",
                SimDuration::ZERO,
                SimDuration::ZERO,
                SimDuration::from_secs(3600),
            )?,
            metric_resolution: resolution,
            metric_delay: k.duration(&raw.metric_delay, SimDuration::ZERO),
        })
    }

    fn default_initial_replicas(&self, _ctx: &PolicyContext) -> u32 {
        // Knative's initial scale.
        1
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let p = self;
        vec![
            ("metric", p.metric.name().to_string()),
            ("target", p.total.to_string()),
            (
                "target_utilization_percentage",
                (100.0 * p.target / p.total).to_string(),
            ),
            ("target_per_pod", p.target.to_string()),
            ("target_burst_capacity", p.target_burst_capacity.to_string()),
            ("stable_window", secs(p.stable_window)),
            (
                "panic_window_percentage",
                p.panic_window_percentage.to_string(),
            ),
            ("panic_threshold", p.panic_threshold.to_string()),
            ("max_scale_up_rate", p.max_scale_up_rate.to_string()),
            ("max_scale_down_rate", p.max_scale_down_rate.to_string()),
            ("scale_to_zero_grace", secs(p.scale_to_zero_grace)),
            ("tick", secs(p.tick)),
            ("scale_down_delay", secs(p.scale_down_delay)),
            ("metric_resolution", secs(p.metric_resolution)),
            ("metric_delay", secs(p.metric_delay)),
        ]
    }

    fn build(&self, _ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        Ok(Box::new(Kpa::new(self.clone())))
    }
}

/// `ResolveMetricTarget` (`reconciler/autoscaling/resources/target.go`): the per-pod target
/// and the per-pod total. `total` is the `target` key (Knative's `autoscaling.knative.dev/target`
/// annotation), capped at the container concurrency for the concurrency metric, else the
/// concurrency, else 200 requests per second; the target is `max(0.01, total · utilization)`.
/// `target_per_pod` gives the target directly (the total stays the default).
fn resolve_target(
    raw: &RawKpa,
    k: &Keys,
    ctx: &PolicyContext,
    metric: KpaMetric,
) -> Result<(f64, f64), InputError> {
    use crate::autoscaler::kpa as kp;
    if raw.target_per_pod.is_some()
        && let Some(other) = raw
            .target
            .as_ref()
            .or(raw.target_utilization_percentage.as_ref())
    {
        return Err(k.err(
            other.span(),
            if raw.target.is_some() { "target" } else { "target_utilization_percentage" },
            "give `target_per_pod` (the final per-container value the autoscaler aims at) or `target` and `target_utilization_percentage` (Knative's annotations: target x utilization), not both",
        ));
    }
    let default_total = match metric {
        KpaMetric::Concurrency => f64::from(ctx.concurrency),
        KpaMetric::Rps => kp::DEFAULT_RPS_TOTAL,
    };
    if raw.target_per_pod.is_some() {
        let t = k.number(
            &raw.target_per_pod,
            "target_per_pod",
            0.0,
            |v| v >= kp::TARGET_MIN,
            "a target of at least 0.01",
        )?;
        return Ok((t, default_total));
    }
    let percentage = k.number(
        &raw.target_utilization_percentage,
        "target_utilization_percentage",
        kp::DEFAULT_TARGET_UTILIZATION * 100.0,
        |v| v > 0.0 && v <= 100.0,
        "a percentage greater than 0, at most 100",
    )?;
    let total = match (&raw.target, metric) {
        (None, _) => default_total,
        (Some(t), KpaMetric::Concurrency) => t.get_ref().0.min(default_total),
        (Some(t), KpaMetric::Rps) => t.get_ref().0,
    };
    let target = (total * percentage / 100.0).max(kp::TARGET_MIN);
    Ok((target, total))
}
