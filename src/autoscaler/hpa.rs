//! `hpa`: the Kubernetes Horizontal Pod Autoscaler (autoscaling/v2) with a resource
//! utilization target, reading metrics-server.
//!
//! Rules reproduced (kubernetes/kubernetes `pkg/controller/podautoscaler/`, recent main):
//! - Every `sync_period` (15 s) `reconcileAutoscaler` (`horizontal.go`): the current replica count
//!   is the scale's spec (the last desired count); with 0 replicas and a non-zero minimum,
//!   nothing happens; above the maximum or below the minimum it goes to the bound; otherwise the
//!   metric's proposal is normalized and applied if it differs. The first reconcile records the
//!   current count as a recommendation (`recordInitialRecommendation`), so there is no
//!   scale-down during the first stabilization window.
//! - The proposal (`replica_calculator.go: GetResourceReplicas, groupPods`): pods being deleted
//!   (draining) are ignored; a running pod without a metric is missing; within
//!   `cpu_initialization_period` (5 min) of its start a pod is unready if it is not Ready or its
//!   sample does not cover a whole window after its readiness transition, afterwards only if it
//!   is not Ready and its readiness last changed within `initial_readiness_delay` (30 s) of its
//!   start; the rest are ready. Utilization is `floor(100 Σusage / Σrequest)` in integer
//!   percent over the ready pods, `r = utilization / target`; with no missing pods and no
//!   unready pods on a scale-up, `r` within the tolerance keeps the count, else
//!   `ceil(r · ready pods)`. Otherwise missing pods count as `max(100 %, target)` of their
//!   request on a scale-down and 0 on a scale-up, unready pods count as 0 on a scale-up, the
//!   ratio is recomputed, and the count is kept if the new ratio is within tolerance, flips
//!   direction, or its `ceil(r' · pods)` moves against it.
//! - Without `behavior` (`normalizeDesiredReplicas`): the highest recommendation of the last
//!   `stabilization_window` (5 min, `--horizontal-pod-autoscaler-downscale-stabilization`), then
//!   the legacy limit `min(max, max(2 · current, 4))` and the minimum.
//! - With `behavior` (`normalizeDesiredReplicasWithBehaviors`): up- and down-stabilization
//!   windows (min resp. max of the recommendations strictly newer than the cutoff), then the
//!   rate policies over their periods from the scale events (`calculateScaleUpLimitWithScalingRules`,
//!   `calculateScaleDownLimitWithBehaviors`, `storeScaleEvent`), with `selectPolicy` Max, Min or
//!   Disabled. Defaults as `pkg/apis/autoscaling/v2/defaults.go`: up window 0, up policies 4 pods
//!   and 100 % per 15 s (Max); down window `stabilization_window`, 100 % per 15 s (Max).
//! - metrics-server (`pkg/storage/pod.go`): ready containers are scraped every
//!   `metric_resolution` (15 s), each sample is the mean busy slots over `metric_window` (15 s),
//!   a container younger than the window is measured from its start if it is at least 10 s old,
//!   else it has no metric yet; the HPA reads the latest scrape, `metric_delay` after it
//!   (5 s by default: the mean age of the kubelet's cached cAdvisor statistics, which it
//!   refreshes every 10 s).
//! - Independent clocks: metrics-server's scrape ticker and the HPA's sync loop are not
//!   aligned; each replication draws the ticker's phase uniformly in `[0, metric_resolution)`
//!   from the `scrape_phase` random stream (common to every policy of the replication) unless
//!   `scrape_phase` fixes it.
//!
//! Modelling choices: a container's "CPU request" is its request slots (`cluster.concurrency`)
//! and its usage the mean busy slots, in thousandths (millicores). A starting container is a
//! Running pod that is not Ready (its start-up is its own initialization; there is no Pending
//! phase), scraped like any running container from its creation, so it is missing until its
//! first sample and unready afterwards. Kubernetes rejects a `minReplicas` of 0 for a resource
//! metric, so the HPA keeps at least one replica whatever `cluster.min_replicas` says.
//!
//! Left out: several metrics (the maximum of their proposals), Pods/Object/External metrics,
//! per-direction tolerances (1.33+), and CPU used during initialization (a container uses none
//! before it is ready).

use super::pipeline::{Pipeline, ScrapeSpec};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, ContainerState, Decision, Observation};
use crate::error::InputError;
use crate::scenario::source::{Dur, NonNegative, Positive};
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;
use toml::Spanned;

/// How a behavior policy limits the change per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateKind {
    /// At most `value` pods.
    Pods,
    /// At most `value` percent of the replicas at the start of the period.
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatePolicy {
    pub kind: RateKind,
    pub value: u32,
    pub period: SimDuration,
}

/// Which policy's limit applies (`selectPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// The one allowing the largest change (default).
    Max,
    /// The one allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

impl Select {
    pub fn name(self) -> &'static str {
        match self {
            Select::Max => "max",
            Select::Min => "min",
            Select::Disabled => "disabled",
        }
    }
}

/// `HPAScalingRules` of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalingRules {
    pub stabilization: SimDuration,
    pub select: Select,
    pub policies: Vec<RatePolicy>,
}

/// `spec.behavior`, with the defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl Behavior {
    /// Kubernetes' default scale-up rules: no window, 4 pods or 100 % per 15 s, the larger.
    pub fn default_scale_up() -> ScalingRules {
        ScalingRules {
            stabilization: SimDuration::ZERO,
            select: Select::Max,
            policies: vec![
                RatePolicy {
                    kind: RateKind::Pods,
                    value: 4,
                    period: SimDuration::from_secs(15),
                },
                RatePolicy {
                    kind: RateKind::Percent,
                    value: 100,
                    period: SimDuration::from_secs(15),
                },
            ],
        }
    }

    /// Kubernetes' default scale-down rules: the controller's window, 100 % per 15 s.
    pub fn default_scale_down(window: SimDuration) -> ScalingRules {
        ScalingRules {
            stabilization: window,
            select: Select::Max,
            policies: vec![RatePolicy {
                kind: RateKind::Percent,
                value: 100,
                period: SimDuration::from_secs(15),
            }],
        }
    }
}

/// Validated `hpa` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaParams {
    /// Target utilization in whole percent.
    pub target_percent: u32,
    pub sync_period: SimDuration,
    pub tolerance: f64,
    /// Downscale stabilization window (used without behavior, and as the default scale-down
    /// window with it).
    pub stabilization_window: SimDuration,
    /// `None`: no `spec.behavior` (the legacy rules).
    pub behavior: Option<Behavior>,
    /// `scrape.phase` is used as given when `scrape_phase` is set; otherwise each run draws it.
    pub scrape: ScrapeSpec,
    /// `scrape_phase`: the scrape ticker's offset from the sync loop, or `None` to draw it
    /// uniformly from `[0, metric_resolution)` for each replication.
    pub scrape_phase: Option<SimDuration>,
    /// `cpu_initialization_period` (5 min): how long after its start a pod's CPU sample needs
    /// a whole window after its readiness transition to count.
    pub cpu_initialization_period: SimDuration,
    /// `initial_readiness_delay` (30 s): after the initialization period, an unready pod is
    /// left out only if its readiness last changed within this delay of its start.
    pub initial_readiness_delay: SimDuration,
}

/// A pod's phase, as `groupPods` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Failed,
}

/// What `groupPods` reads of a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodStatus {
    /// Has a deletion timestamp.
    pub deleting: bool,
    pub phase: PodPhase,
    pub start_time: Option<SimTime>,
    /// The Ready condition: its status and last transition, if the pod has one.
    pub ready: Option<(bool, SimTime)>,
}

/// A pod's CPU sample as the metrics API returns it: its timestamp and window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    pub timestamp: SimTime,
    pub window: SimDuration,
}

/// Where `groupPods` puts a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodGroup {
    /// Counted with its metric.
    Ready,
    /// Left out, or counted at 0 % on a scale-up.
    Unready,
    /// No metric: 100 % of its request on a scale-down, 0 % on a scale-up.
    Missing,
    /// Deleting or failed: not counted at all.
    Ignored,
}

/// `groupPods` (`replica_calculator.go`) for a CPU metric, one pod.
pub fn group_pod(
    pod: &PodStatus,
    metric: Option<PodMetric>,
    now: SimTime,
    cpu_initialization_period: SimDuration,
    initial_readiness_delay: SimDuration,
) -> PodGroup {
    if pod.deleting || pod.phase == PodPhase::Failed {
        return PodGroup::Ignored;
    }
    if pod.phase == PodPhase::Pending {
        return PodGroup::Unready;
    }
    let Some(metric) = metric else {
        return PodGroup::Missing;
    };
    let (Some((ready, transition)), Some(start)) = (pod.ready, pod.start_time) else {
        return PodGroup::Unready;
    };
    let unready = if start + cpu_initialization_period > now {
        // Within the initialization period: unready, or no whole window of metric since the
        // last transition.
        !ready || metric.timestamp < transition + metric.window
    } else {
        // Afterwards: unready and it has never been ready.
        !ready && start + initial_readiness_delay > transition
    };
    if unready {
        PodGroup::Unready
    } else {
        PodGroup::Ready
    }
}

/// A container as a pod: a starting container is Running (its start-up is its own
/// initialization) and not Ready since its creation; a draining one is being deleted.
pub fn pod_of(c: &super::ContainerView) -> PodStatus {
    let (deleting, ready) = match c.state {
        ContainerState::Starting => (false, (false, c.created)),
        ContainerState::Ready => (false, (true, c.ready_at.unwrap_or(c.created))),
        ContainerState::Draining => (true, (true, c.ready_at.unwrap_or(c.created))),
    };
    PodStatus {
        deleting,
        phase: PodPhase::Running,
        start_time: Some(c.created),
        ready: Some(ready),
    }
}

/// The random stream of the scrape ticker's phase: one draw per replication, the same for
/// every policy of the replication.
pub const SCRAPE_PHASE_STREAM: &str = "scrape_phase";

/// A phase uniform in `[0, resolution)`, whole milliseconds, from the replication's
/// `scrape_phase` stream.
pub fn draw_scrape_phase(seed: u64, replication: u32, resolution: SimDuration) -> SimDuration {
    use rand::RngExt;
    let mut rng = crate::rng::stream(seed, replication, SCRAPE_PHASE_STREAM);
    let u: f64 = rng.random();
    let ms = (u * resolution.as_secs_f64() * 1000.0).floor();
    SimDuration::from_secs_f64(ms / 1000.0).min(SimDuration(resolution.0 - 1))
}

/// Default target utilization: 80 %, what `kubectl autoscale` sets when `--cpu-percent` is not
/// given (`staging/src/k8s.io/kubectl/pkg/cmd/autoscale/autoscale.go`, the HPA API's own
/// default for an HPA without metrics).
pub const DEFAULT_TARGET_UTILIZATION: f64 = 0.8;
/// `--horizontal-pod-autoscaler-cpu-initialization-period` (`config/v1alpha1/defaults.go`).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD_S: u64 = 300;
/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
pub const DEFAULT_INITIAL_READINESS_DELAY_S: u64 = 30;
pub const DEFAULT_SYNC_PERIOD_S: u64 = 15;
pub const DEFAULT_TOLERANCE: f64 = 0.1;
pub const DEFAULT_STABILIZATION_S: u64 = 300;
pub const DEFAULT_METRIC_RESOLUTION_S: u64 = 15;
/// metrics-server's `freshContainerMinMetricsResolution`.
pub const FRESH_CONTAINER_MIN_S: u64 = 10;
/// Default `metric_delay`, the age of the statistics the kubelet serves: the mean of the
/// 0–10 s since cAdvisor's last housekeeping (the kubelet runs cAdvisor with a 10 s
/// housekeeping interval, `pkg/kubelet/cadvisor/cadvisor_linux.go`:
/// `defaultHousekeepingInterval`, and serves its cached statistics to metrics-server's
/// `/metrics/resource` scrape).
pub const DEFAULT_METRIC_DELAY_MS: u64 = 5000;

#[derive(Clone, Copy, Debug)]
struct Recommendation {
    replicas: u32,
    time: SimTime,
}

#[derive(Clone, Copy, Debug)]
struct ScaleEvent {
    change: u32,
    time: SimTime,
    outdated: bool,
}

pub struct Hpa {
    p: HpaParams,
    tick: SimDuration,
    pipeline: Pipeline,
    recommendations: Option<Vec<Recommendation>>,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
}

/// `t` is strictly before `now - span` (Go's `t.Before(now.Add(-span))`); false when the
/// cutoff would be before time zero.
fn before_cutoff(t: SimTime, now: SimTime, span: SimDuration) -> bool {
    now.0.checked_sub(span.0).is_some_and(|cutoff| t.0 < cutoff)
}

/// `t` is strictly after `now - span` (Go's `t.After(now.Add(-span))`).
fn after_cutoff(t: SimTime, now: SimTime, span: SimDuration) -> bool {
    now.0.checked_sub(span.0).is_none_or(|cutoff| t.0 > cutoff)
}

impl Hpa {
    pub fn new(p: HpaParams) -> Self {
        let tick = super::pipeline::gcd(p.sync_period, p.scrape.resolution);
        Hpa {
            pipeline: Pipeline::new(p.scrape),
            tick,
            p,
            recommendations: None,
            up_events: Vec::new(),
            down_events: Vec::new(),
        }
    }

    fn within_tolerance(&self, r: f64) -> bool {
        1.0 - self.p.tolerance <= r && r <= 1.0 + self.p.tolerance
    }

    /// `GetResourceReplicas`: the metric's replica proposal, or `None` when no pod has a
    /// metric (the reconcile then fails and nothing changes).
    fn proposal(&self, obs: &Observation<'_>, current: u32) -> Option<u32> {
        let scrape = self.pipeline.latest()?;
        let request = i64::from(obs.concurrency) * 1000;
        let mut usage_sum: i64 = 0;
        let mut request_sum: i64 = 0;
        let mut ready_count: u32 = 0;
        let mut unready: u32 = 0;
        let mut missing: u32 = 0;
        for c in obs.containers {
            let sample = scrape.sample(c.id);
            let metric = sample.map(|s| PodMetric {
                timestamp: scrape.time,
                window: s.span,
            });
            let group = group_pod(
                &pod_of(c),
                metric,
                obs.now,
                self.p.cpu_initialization_period,
                self.p.initial_readiness_delay,
            );
            match (group, sample) {
                (PodGroup::Ready, Some(s)) => {
                    usage_sum += (s.busy * 1000.0).round() as i64;
                    request_sum += request;
                    ready_count += 1;
                }
                (PodGroup::Unready, _) => unready += 1,
                (PodGroup::Missing, _) => missing += 1,
                _ => {}
            }
        }
        if ready_count == 0 {
            return None;
        }
        let target = i64::from(self.p.target_percent);
        let ratio = |usage: i64, req: i64| ((usage * 100) / req) as f64 / target as f64;
        let r = ratio(usage_sum, request_sum);
        let scale_up_with_unready = unready > 0 && r > 1.0;
        if !scale_up_with_unready && missing == 0 {
            if self.within_tolerance(r) {
                return Some(current);
            }
            return Some(ceil_u32(r * f64::from(ready_count)));
        }
        let mut counted = ready_count;
        if missing > 0 {
            if r < 1.0 {
                let fallback = request * target.max(100) / 100;
                usage_sum += fallback * i64::from(missing);
                request_sum += request * i64::from(missing);
                counted += missing;
            } else if r > 1.0 {
                request_sum += request * i64::from(missing);
                counted += missing;
            }
        }
        if scale_up_with_unready {
            request_sum += request * i64::from(unready);
            counted += unready;
        }
        let r2 = ratio(usage_sum, request_sum);
        if self.within_tolerance(r2) || (r < 1.0 && r2 > 1.0) || (r > 1.0 && r2 < 1.0) {
            return Some(current);
        }
        let n = ceil_u32(r2 * f64::from(counted));
        if (r2 < 1.0 && n > current) || (r2 > 1.0 && n < current) {
            return Some(current);
        }
        Some(n)
    }

    /// `stabilizeRecommendation` + `convertDesiredReplicasWithRules` (no behavior).
    fn normalize_legacy(
        &mut self,
        now: SimTime,
        current: u32,
        desired: u32,
        min: u32,
        max: u32,
    ) -> u32 {
        let window = self.p.stabilization_window;
        let recs = self.recommendations.get_or_insert_with(Vec::new);
        let mut highest = desired;
        let mut old = None;
        for (i, rec) in recs.iter().enumerate() {
            if before_cutoff(rec.time, now, window) {
                old = Some(i);
            } else if rec.replicas > highest {
                highest = rec.replicas;
            }
        }
        let new = Recommendation {
            replicas: desired,
            time: now,
        };
        match old {
            Some(i) => recs[i] = new,
            None => recs.push(new),
        }
        let scale_up_limit = (2 * current).max(4);
        let max_allowed = if max > scale_up_limit {
            scale_up_limit
        } else {
            max
        };
        if highest < min {
            min
        } else if highest > max_allowed {
            max_allowed
        } else {
            highest
        }
    }

    /// `stabilizeRecommendationWithBehaviors` + `convertDesiredReplicasWithBehaviorRate`.
    fn normalize_with_behavior(
        &mut self,
        now: SimTime,
        current: u32,
        desired: u32,
        min: u32,
        max: u32,
    ) -> u32 {
        let b = self.p.behavior.clone().expect("behavior is set");
        let recs = self.recommendations.get_or_insert_with(Vec::new);
        let (up_w, down_w) = (b.scale_up.stabilization, b.scale_down.stabilization);
        let mut up_rec = desired;
        let mut down_rec = desired;
        let mut old = None;
        for (i, rec) in recs.iter().enumerate() {
            if after_cutoff(rec.time, now, up_w) {
                up_rec = up_rec.min(rec.replicas);
            }
            if after_cutoff(rec.time, now, down_w) {
                down_rec = down_rec.max(rec.replicas);
            }
            if before_cutoff(rec.time, now, up_w) && before_cutoff(rec.time, now, down_w) {
                old = Some(i);
            }
        }
        let mut rec = current;
        if rec < up_rec {
            rec = up_rec;
        }
        if rec > down_rec {
            rec = down_rec;
        }
        let new = Recommendation {
            replicas: desired,
            time: now,
        };
        match old {
            Some(i) => recs[i] = new,
            None => recs.push(new),
        }

        if rec > current {
            let limit = rate_limit(
                current,
                &self.up_events,
                &self.down_events,
                &b.scale_up,
                now,
                true,
            )
            .max(i64::from(current));
            let max_allowed = i64::from(max).min(limit);
            if i64::from(rec) > max_allowed {
                return max_allowed as u32;
            }
        } else if rec < current {
            let limit = rate_limit(
                current,
                &self.up_events,
                &self.down_events,
                &b.scale_down,
                now,
                false,
            )
            .min(i64::from(current));
            let min_allowed = i64::from(min).max(limit);
            if i64::from(rec) < min_allowed {
                return min_allowed as u32;
            }
        }
        rec
    }

    /// `storeScaleEvent`: only kept with a behavior; an event older than the longest period of
    /// its direction is marked outdated and the last outdated one is reused.
    fn store_scale_event(&mut self, now: SimTime, previous: u32, new: u32) {
        let Some(b) = &self.p.behavior else { return };
        let (events, rules, change) = if new > previous {
            (&mut self.up_events, &b.scale_up, new - previous)
        } else {
            (&mut self.down_events, &b.scale_down, previous - new)
        };
        let longest = rules
            .policies
            .iter()
            .map(|p| p.period)
            .max()
            .unwrap_or(SimDuration::ZERO);
        let mut reuse = None;
        for (i, e) in events.iter_mut().enumerate() {
            if before_cutoff(e.time, now, longest) {
                e.outdated = true;
            }
            if e.outdated {
                reuse = Some(i);
            }
        }
        let event = ScaleEvent {
            change,
            time: now,
            outdated: false,
        };
        match reuse {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }

    fn reconcile(&mut self, obs: &Observation<'_>) -> Decision {
        let now = obs.now;
        let current = obs.desired;
        if self.recommendations.is_none() {
            self.recommendations = Some(vec![Recommendation {
                replicas: current,
                time: now,
            }]);
        }
        let min = obs.min_replicas.max(1);
        let max = obs.max_replicas.max(min);
        let desired = if current == 0 {
            // "ScalingDisabled": the minimum is never 0 for a resource metric.
            return Decision::Keep;
        } else if current > max {
            max
        } else if current < min {
            min
        } else {
            let Some(proposal) = self.proposal(obs, current) else {
                return Decision::Keep;
            };
            if self.p.behavior.is_none() {
                self.normalize_legacy(now, current, proposal, min, max)
            } else {
                self.normalize_with_behavior(now, current, proposal, min, max)
            }
        };
        if desired != current {
            self.store_scale_event(now, current, desired);
            Decision::Desired(desired)
        } else {
            Decision::Keep
        }
    }
}

/// The replica limit of one direction's rules (`calculateScaleUpLimitWithScalingRules` when
/// `up`, else `calculateScaleDownLimitWithBehaviors`).
fn rate_limit(
    current: u32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
    up: bool,
) -> i64 {
    let current = i64::from(current);
    if rules.select == Select::Disabled {
        return current;
    }
    // For scale-up, Max picks the highest limit; for scale-down the lowest.
    let pick_high = (rules.select == Select::Max) == up;
    let mut result = if pick_high { i64::MIN } else { i64::MAX };
    let change_in = |events: &[ScaleEvent], period: SimDuration| -> i64 {
        events
            .iter()
            .filter(|e| after_cutoff(e.time, now, period))
            .map(|e| i64::from(e.change))
            .sum()
    };
    for p in &rules.policies {
        let start = current - change_in(up_events, p.period) + change_in(down_events, p.period);
        let v = i64::from(p.value);
        let proposed = match (p.kind, up) {
            (RateKind::Pods, true) => start + v,
            (RateKind::Percent, true) => (start as f64 * (1.0 + v as f64 / 100.0)).ceil() as i64,
            (RateKind::Pods, false) => start - v,
            (RateKind::Percent, false) => (start as f64 * (1.0 - v as f64 / 100.0)) as i64,
        };
        result = if pick_high {
            result.max(proposed)
        } else {
            result.min(proposed)
        };
    }
    result
}

fn ceil_u32(x: f64) -> u32 {
    let c = x.ceil();
    if c <= 0.0 {
        0
    } else if c >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        c as u32
    }
}

impl Autoscaler for Hpa {
    fn tick_interval(&self) -> SimDuration {
        self.tick
    }

    /// The next sync (every `sync_period` from time 0) or scrape (every `metric_resolution`
    /// from the phase), whichever comes first.
    fn next_tick(&self, now: SimTime) -> SimTime {
        let sync = SimTime((now.0 / self.p.sync_period.0 + 1) * self.p.sync_period.0);
        sync.min(self.p.scrape.next_after(now))
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        self.pipeline.observe(obs);
        if !obs.now.0.is_multiple_of(self.p.sync_period.0) {
            return Decision::Keep;
        }
        self.reconcile(obs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;

    fn params(target_percent: u32, behavior: Option<Behavior>) -> HpaParams {
        HpaParams {
            target_percent,
            sync_period: SimDuration::from_secs(15),
            tolerance: 0.1,
            stabilization_window: SimDuration::from_secs(300),
            behavior,
            scrape: ScrapeSpec {
                resolution: SimDuration::from_secs(15),
                window: SimDuration::from_secs(15),
                delay: SimDuration::ZERO,
                fresh_min: SimDuration::from_secs(FRESH_CONTAINER_MIN_S),
                phase: SimDuration::ZERO,
                scrape_starting: true,
            },
            scrape_phase: Some(SimDuration::ZERO),
            cpu_initialization_period: SimDuration::from_secs(300),
            initial_readiness_delay: SimDuration::from_secs(30),
        }
    }

    fn default_behavior() -> Behavior {
        Behavior {
            scale_up: Behavior::default_scale_up(),
            scale_down: Behavior::default_scale_down(SimDuration::from_secs(300)),
        }
    }

    /// Runs one 15 s sync with every ready container at `busy` slots, applies and returns the
    /// decision.
    fn sync(hpa: &mut Hpa, c: &mut Cluster, busy: f64) -> Decision {
        let b = vec![busy; c.containers.len()];
        let b: Vec<f64> = c
            .containers
            .iter()
            .zip(b)
            .map(|(k, v)| {
                if k.state == ContainerState::Ready {
                    v
                } else {
                    0.0
                }
            })
            .collect();
        c.run(15.0, &b);
        let d = hpa.tick(&c.obs());
        c.apply(d);
        d
    }

    /// `TestGroupPods` (kubernetes `pkg/controller/podautoscaler/replica_calculator_test.go`),
    /// with its test constants: a 2 min initialization period and a 10 s readiness delay.
    #[test]
    fn group_pods_as_kubernetes_test_group_pods() {
        let now = SimTime::from_secs_f64(3600.0);
        let ago = |s: u64| SimTime(now.0 - s * 1_000_000_000);
        let running = |start: Option<u64>, ready: Option<(bool, u64)>| PodStatus {
            deleting: false,
            phase: PodPhase::Running,
            start_time: start.map(ago),
            ready: ready.map(|(r, t)| (r, ago(t))),
        };
        let m = |ts_ago: u64, window: u64| {
            Some(PodMetric {
                timestamp: ago(ts_ago),
                window: SimDuration::from_secs(window),
            })
        };
        let init = SimDuration::from_secs(120);
        let delay = SimDuration::from_secs(10);
        let g = |pod: PodStatus, metric| group_pod(&pod, metric, now, init, delay);
        // "unready a pod without ready condition - CPU"
        assert_eq!(g(running(Some(0), None), m(0, 0)), PodGroup::Unready);
        // "count in a ready pod with fresh metrics during initialization period - CPU"
        assert_eq!(
            g(running(Some(60), Some((true, 30))), m(0, 30)),
            PodGroup::Ready
        );
        // "unready a ready pod without fresh metrics during initialization period - CPU"
        assert_eq!(
            g(running(Some(60), Some((true, 30))), m(0, 60)),
            PodGroup::Unready
        );
        // "unready an unready pod during initialization period - CPU" (started 10 min ago:
        // past the period, unready since 6 s after its start, never ready)
        assert_eq!(
            g(running(Some(600), Some((false, 594))), m(0, 0)),
            PodGroup::Unready
        );
        // "count in a ready pod without fresh metrics after initialization period - CPU"
        assert_eq!(
            g(running(Some(180), Some((true, 180))), m(120, 60)),
            PodGroup::Ready
        );
        // "count in an unready pod that was ready after initialization period - CPU"
        assert_eq!(
            g(running(Some(600), Some((false, 540))), m(0, 0)),
            PodGroup::Ready
        );
        // "unready pod that has never been ready after initialization period - CPU": its
        // transition 10 s after its start is not within the 10 s delay, so it counts.
        assert_eq!(
            g(running(Some(600), Some((false, 590))), m(0, 0)),
            PodGroup::Ready
        );
        // "a missing pod"
        assert_eq!(g(running(Some(180), None), None), PodGroup::Missing);
        // "pending pods are unreadied"
        let pending = PodStatus {
            phase: PodPhase::Pending,
            ..running(None, None)
        };
        assert_eq!(g(pending, None), PodGroup::Unready);
        // "ignore pods with deletion timestamps", "ignore pods in a failed state"
        let deleted = PodStatus {
            deleting: true,
            ..pending
        };
        assert_eq!(g(deleted, m(0, 0)), PodGroup::Ignored);
        let failed = PodStatus {
            phase: PodPhase::Failed,
            ..running(None, None)
        };
        assert_eq!(g(failed, m(0, 0)), PodGroup::Ignored);
    }

    #[test]
    fn starting_pods_without_a_metric_hold_a_scale_down() {
        // 4 ready pods at 20 % against 50 %: r = 0.4 → 2 pods. With 2 pods still starting and
        // not scraped yet (younger than metrics-server's 10 s), they are missing: 100 % on a
        // scale-down, r2 = (4 · 20 + 2 · 100) / 600 = 46.7 % / 50 % = 0.93, inside the
        // tolerance: the count is kept (Kubernetes holds the scale-down while pods start).
        let mut c = Cluster::new(1, 4);
        let mut hpa = Hpa::new(params(50, None));
        c.run(10.0, &[0.2; 4]);
        c.start_one();
        c.start_one();
        c.desired = 6;
        c.run(5.0, &[0.2; 4]);
        assert_eq!(hpa.tick(&c.obs()), Decision::Keep);
        // 15 s later both are scraped (starting, 0 % busy) and unready: left out on a
        // scale-down, r = 0.4 on the 4 ready ones → ceil(1.6) = 2, held at 6 by the
        // stabilization window (the recommendation of the first sync).
        c.run(15.0, &[0.2; 4]);
        assert_eq!(hpa.tick(&c.obs()), Decision::Keep);
        let scrape = hpa.pipeline.latest().unwrap();
        assert_eq!(scrape.samples.len(), 6);
    }

    #[test]
    fn a_newly_ready_pod_counts_after_a_whole_window() {
        // Within the CPU initialization period a ready pod's sample counts only once a whole
        // metric window (15 s) has passed since it became ready.
        let pod = PodStatus {
            deleting: false,
            phase: PodPhase::Running,
            start_time: Some(SimTime::ZERO),
            ready: Some((true, SimTime::from_secs_f64(30.0))),
        };
        let w = SimDuration::from_secs(15);
        let at = |t: u64| {
            Some(PodMetric {
                timestamp: SimTime::from_secs_f64(t as f64),
                window: w,
            })
        };
        let init = SimDuration::from_secs(300);
        let delay = SimDuration::from_secs(30);
        let now = SimTime::from_secs_f64(60.0);
        assert_eq!(group_pod(&pod, at(44), now, init, delay), PodGroup::Unready);
        assert_eq!(group_pod(&pod, at(45), now, init, delay), PodGroup::Ready);
    }

    #[test]
    fn a_sync_reads_the_scrape_of_its_own_phase() {
        // The scrape ticker runs 5 s after the sync loop: the sync at 15 s reads the scrape of
        // 5 s (10 s old), the sync at 30 s the one of 20 s.
        let mut p = params(50, None);
        p.scrape.phase = SimDuration::from_secs(5);
        let mut hpa = Hpa::new(p);
        let at = SimTime::from_secs_f64;
        assert_eq!(hpa.next_tick(SimTime::ZERO), at(5.0));
        assert_eq!(hpa.next_tick(at(5.0)), at(15.0));
        assert_eq!(hpa.next_tick(at(15.0)), at(20.0));
        let mut c = Cluster::new(1, 10);
        // 5 s at 100 %, scraped at 5 s; then 10 s idle.
        c.run(5.0, &[1.0; 10]);
        assert_eq!(hpa.tick(&c.obs()), Decision::Keep);
        c.run(10.0, &[0.0; 10]);
        // r = 100 / 50 = 2 → 20 pods, from a sample that no longer holds (the truth is 0).
        assert_eq!(hpa.tick(&c.obs()), Decision::Desired(20));
    }

    #[test]
    fn the_scrape_phase_is_one_draw_per_replication() {
        let res = SimDuration::from_secs(15);
        let draws: Vec<SimDuration> = (0..2000).map(|r| draw_scrape_phase(7, r, res)).collect();
        assert_eq!(draws[3], draw_scrape_phase(7, 3, res)); // the same for every policy
        assert!(draws.iter().all(|d| *d < res && d.0 % 1_000_000 == 0));
        // Uniform on [0, 15): mean 7.5 s, standard error 15/√12/√2000 = 0.097 s.
        let mean = draws.iter().map(|d| d.as_secs_f64()).sum::<f64>() / 2000.0;
        assert!((mean - 7.5).abs() < 0.4, "mean {mean}");
    }

    #[test]
    fn a_deviation_inside_the_tolerance_does_nothing() {
        // 10 pods at 54 % against a 50 % target: r = 1.08, inside 1 ± 0.1.
        let mut c = Cluster::new(1, 10);
        let mut hpa = Hpa::new(params(50, None));
        assert_eq!(sync(&mut hpa, &mut c, 0.54), Decision::Keep);
        // 46 % → r = 0.92, also inside.
        assert_eq!(sync(&mut hpa, &mut c, 0.46), Decision::Keep);
        // 56 % → r = 1.12 → ceil(1.12 · 10) = 12.
        assert_eq!(sync(&mut hpa, &mut c, 0.56), Decision::Desired(12));
    }

    #[test]
    fn utilization_is_floored_to_whole_percent() {
        // 10 pods at 76.9 % busy → 76 %; 76/70 = 1.0857 is inside the tolerance.
        let mut c = Cluster::new(1, 10);
        let mut hpa = Hpa::new(params(70, None));
        assert_eq!(sync(&mut hpa, &mut c, 0.769), Decision::Keep);
        // 77.9 % → 77 %: 77/70 = 1.1 exactly, still inside (≤ 1 + tolerance).
        assert_eq!(sync(&mut hpa, &mut c, 0.779), Decision::Keep);
        // 78 %: 1.1143 → ceil(11.14) = 12.
        assert_eq!(sync(&mut hpa, &mut c, 0.78), Decision::Desired(12));
    }

    #[test]
    fn after_a_load_drop_the_count_holds_for_the_window_then_falls() {
        let mut c = Cluster::new(1, 10);
        let mut hpa = Hpa::new(params(50, None));
        // Run at target for the first window so the initial recommendation (10) ages out.
        for _ in 0..20 {
            assert_eq!(sync(&mut hpa, &mut c, 0.5), Decision::Keep);
        }
        // t = 300 s. Load drops to 10 %: the proposal is ceil(0.2 · 10) = 2, but the highest
        // recommendation of the last 5 minutes is 10.
        let drop_at = c.now;
        for _ in 0..20 {
            assert_eq!(sync(&mut hpa, &mut c, 0.1), Decision::Keep, "at {}", c.now);
        }
        // The last recommendation of 10 was recorded at the sync just before the drop was seen
        // (t = 300 s); it leaves the window when it is strictly older than 300 s, at 615 s.
        assert_eq!(c.now.0 - drop_at.0, SimDuration::from_secs(300).0);
        assert_eq!(sync(&mut hpa, &mut c, 0.1), Decision::Desired(2));
    }

    #[test]
    fn no_scale_down_during_the_first_window() {
        // The first reconcile seeds the recommendations with the current count.
        let mut c = Cluster::new(1, 8);
        let mut hpa = Hpa::new(params(50, None));
        for _ in 0..20 {
            assert_eq!(sync(&mut hpa, &mut c, 0.05), Decision::Keep);
        }
        // t = 315: the seed from t = 15 is now 300 s old (not yet strictly before the cutoff).
        assert_eq!(sync(&mut hpa, &mut c, 0.05), Decision::Keep);
        // t = 330: ceil(0.1 · 8) = 1.
        assert_eq!(sync(&mut hpa, &mut c, 0.05), Decision::Desired(1));
    }

    #[test]
    fn legacy_scale_up_is_limited_to_twice_or_four() {
        // 1 pod at 100 % against 10 %: r = 10, proposal 10; limit max(2·1, 4) = 4.
        let mut c = Cluster::new(1, 1);
        let mut hpa = Hpa::new(params(10, None));
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(4));
        // Pods starting, the one ready pod still saturated: unready pods count as 0 on a
        // scale-up: usage 100 over 4 pods → 25 %, r = 2.5 → ceil(2.5 · 4) = 10; the legacy
        // limit from 4 is max(8, 4) = 8.
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(8));
        c.make_all_ready();
        // 8 ready pods at 100 %: proposal 80, limit 16.
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(16));
    }

    #[test]
    fn behavior_scale_up_is_limited_to_4_pods_or_100_percent_per_15s() {
        let mut c = Cluster::new(1, 2);
        let mut hpa = Hpa::new(params(10, Some(default_behavior())));
        // From 2: max(2 + 4, 2 · 2) = 6.
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(6));
        c.make_all_ready();
        // From 6: max(6 + 4, 12) = 12 (the previous event is exactly 15 s old: not counted).
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(12));
        c.make_all_ready();
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(24));
    }

    #[test]
    fn behavior_counts_scale_events_inside_the_period() {
        // A 60 s period: within it, the start is the count before the events.
        let mut b = default_behavior();
        b.scale_up.policies = vec![RatePolicy {
            kind: RateKind::Pods,
            value: 4,
            period: SimDuration::from_secs(60),
        }];
        let mut c = Cluster::new(1, 2);
        let mut hpa = Hpa::new(params(10, Some(b)));
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(6));
        c.make_all_ready();
        // 4 pods added within the last 60 s: the limit is 2 + 4 = 6, so nothing more.
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Keep);
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Keep);
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Keep);
        // The event at 15 s is 60 s old at 75 s: it no longer counts.
        assert_eq!(c.now, SimTime::from_secs_f64(60.0));
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(10));
    }

    #[test]
    fn behavior_scale_down_keeps_the_window_then_removes_up_to_100_percent() {
        let mut b = default_behavior();
        b.scale_down.stabilization = SimDuration::from_secs(60);
        let mut c = Cluster::new(1, 10);
        let mut hpa = Hpa::new(params(50, Some(b)));
        // Seeded with 10 at t = 15; strictly newer than now - 60 until t = 75.
        for _ in 0..4 {
            assert_eq!(sync(&mut hpa, &mut c, 0.1), Decision::Keep);
        }
        // t = 75: the seed (15) is exactly 60 s old, not after the cutoff; the other
        // recommendations are 2.
        assert_eq!(sync(&mut hpa, &mut c, 0.1), Decision::Desired(2));
    }

    #[test]
    fn behavior_scale_down_rate_policy_limits_the_step() {
        let mut b = default_behavior();
        b.scale_down = ScalingRules {
            stabilization: SimDuration::ZERO,
            select: Select::Max,
            policies: vec![RatePolicy {
                kind: RateKind::Percent,
                value: 50,
                period: SimDuration::from_secs(15),
            }],
        };
        let mut c = Cluster::new(1, 16);
        let mut hpa = Hpa::new(params(50, Some(b)));
        // Proposal ceil(0.02 · 16) = 1; at most 50 %: 16 → 8 → 4 → 2 → 1.
        assert_eq!(sync(&mut hpa, &mut c, 0.01), Decision::Desired(8));
        assert_eq!(sync(&mut hpa, &mut c, 0.01), Decision::Desired(4));
        assert_eq!(sync(&mut hpa, &mut c, 0.01), Decision::Desired(2));
        assert_eq!(sync(&mut hpa, &mut c, 0.01), Decision::Desired(1));
    }

    #[test]
    fn disabled_scale_down_never_removes_pods() {
        let mut b = default_behavior();
        b.scale_down.select = Select::Disabled;
        b.scale_down.stabilization = SimDuration::ZERO;
        let mut c = Cluster::new(1, 6);
        let mut hpa = Hpa::new(params(50, Some(b)));
        for _ in 0..10 {
            assert_eq!(sync(&mut hpa, &mut c, 0.0), Decision::Keep);
        }
    }

    #[test]
    fn unready_pods_count_as_zero_on_scale_up() {
        // 2 ready pods at 90 %, 2 starting, target 50 %: r = 1.8 > 1 with unready pods, so the
        // ratio is recomputed over 4 pods: 45 % → r' = 0.9, which flips direction: keep.
        let mut c = Cluster::new(1, 2);
        c.start_one();
        c.start_one();
        c.desired = 4;
        let mut hpa = Hpa::new(params(50, None));
        assert_eq!(sync(&mut hpa, &mut c, 0.9), Decision::Keep);
        // At 100 %: r = 2, r' = 50/50 = 1.0 within tolerance: keep.
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Keep);
        // Target 30 %: r = 100/30 = 3.33, r' = 50/30 = 1.667 → ceil(1.667 · 4) = 7.
        let mut c = Cluster::new(1, 2);
        c.start_one();
        c.start_one();
        c.desired = 4;
        let mut hpa = Hpa::new(params(30, None));
        assert_eq!(sync(&mut hpa, &mut c, 1.0), Decision::Desired(7));
    }

    #[test]
    fn unready_pods_are_ignored_on_scale_down() {
        // 4 ready at 10 % and 2 starting, target 50 %: r = 0.2 < 1, so unready pods do not
        // matter: ceil(0.2 · 4) = 1 (no down-stabilization window here).
        let mut c = Cluster::new(1, 4);
        c.start_one();
        c.start_one();
        c.desired = 6;
        let mut b = default_behavior();
        b.scale_down.stabilization = SimDuration::ZERO;
        let mut hpa = Hpa::new(params(50, Some(b)));
        assert_eq!(sync(&mut hpa, &mut c, 0.1), Decision::Desired(1));
    }

    #[test]
    fn missing_pods_count_as_full_on_scale_down_and_empty_on_scale_up() {
        let mut b = default_behavior();
        b.scale_down.stabilization = SimDuration::ZERO;
        // 3 pods with metrics at 40 %, one started 5 s before the scrape (no metric yet:
        // metrics-server drops containers younger than 10 s), target 50 %: r = 0.8; the
        // missing pod counts as 100 %: (120 + 100) / 4 = 55 % → r' = 1.1, inside the
        // tolerance: keep.
        let one = |busy: f64| {
            let mut c = Cluster::new(1, 3);
            c.run(10.0, &[busy; 3]);
            let id = c.start_one();
            c.desired = 4;
            c.run(2.0, &[busy; 3]);
            c.make_ready(id);
            c.run(3.0, &[busy, busy, busy, 0.0]);
            c
        };
        let c = one(0.4);
        let mut hpa = Hpa::new(params(50, Some(b.clone())));
        assert_eq!(hpa.tick(&c.obs()), Decision::Keep);

        // Scale-up with a missing pod: 3 at 90 % and one missing, target 50 %: r = 1.8;
        // missing counts 0: 270/4 = 67 % → r' = 1.34 → ceil(1.34 · 4) = 6.
        let c = one(0.9);
        let mut hpa = Hpa::new(params(50, Some(b)));
        assert_eq!(hpa.tick(&c.obs()), Decision::Desired(6));
    }

    #[test]
    fn no_metrics_means_no_action_and_bounds_are_enforced() {
        // Nothing scraped yet at an off-grid sync (sync 10 s, resolution 15 s).
        let mut p = params(50, None);
        p.sync_period = SimDuration::from_secs(10);
        let mut hpa = Hpa::new(p);
        assert_eq!(hpa.tick_interval(), SimDuration::from_secs(5));
        let mut c = Cluster::new(1, 3);
        c.run(5.0, &[]);
        assert_eq!(hpa.tick(&c.obs()), Decision::Keep); // t=5: neither
        c.run(5.0, &[]);
        assert_eq!(hpa.tick(&c.obs()), Decision::Keep); // t=10: sync, no scrape yet
        // Above the maximum: straight to it.
        let mut c = Cluster::new(1, 5);
        c.max_replicas = 3;
        let mut hpa = Hpa::new(params(50, None));
        c.run(15.0, &[0.5; 5]);
        assert_eq!(hpa.tick(&c.obs()), Decision::Desired(3));
    }
}

/// A `hpa` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHpa {
    pub target_utilization: Option<Spanned<Positive>>,
    pub sync_period: Option<Spanned<Dur>>,
    pub tolerance: Option<Spanned<NonNegative>>,
    pub stabilization_window: Option<Spanned<Dur>>,
    pub metric_resolution: Option<Spanned<Dur>>,
    pub metric_window: Option<Spanned<Dur>>,
    pub metric_delay: Option<Spanned<Dur>>,
    pub scrape_phase: Option<Spanned<Dur>>,
    pub cpu_initialization_period: Option<Spanned<Dur>>,
    pub initial_readiness_delay: Option<Spanned<Dur>>,
    pub behavior: Option<Spanned<bool>>,
    pub scale_up_policies: Option<Spanned<RawRatePolicies>>,
    pub scale_up_select: Option<Spanned<String>>,
    pub scale_up_stabilization: Option<Spanned<Dur>>,
    pub scale_down_policies: Option<Spanned<RawRatePolicies>>,
    pub scale_down_select: Option<Spanned<String>>,
}

impl PolicyType for HpaParams {
    const TYPE: &'static str = "hpa";
    type Raw = RawHpa;

    fn validate(raw: &RawHpa, k: &Keys, _ctx: &PolicyContext) -> Result<Self, InputError> {
        use crate::autoscaler::hpa as h;
        let target = k.number(
            &raw.target_utilization,
            "target_utilization",
            h::DEFAULT_TARGET_UTILIZATION,
            |v| v > 0.0 && v <= 1.0,
            "a utilization above 0 and at most 1",
        )?;
        let percent = (target * 100.0).round();
        if let Some(t) = &raw.target_utilization
            && ((target * 100.0 - percent).abs() > 1e-9 || percent < 1.0)
        {
            return Err(k.err(
            t.span(),
            "target_utilization",
            format!(
                "Kubernetes takes a whole percentage: expected a value such as 0.7 or 0.85, found {}",
                crate::error::num(target)
            ),
        ));
        }
        let tolerance = k.number(
            &raw.tolerance,
            "tolerance",
            h::DEFAULT_TOLERANCE,
            |v| v < 1.0,
            "a tolerance from 0 to below 1",
        )?;
        let sync_period = k.period(
            &raw.sync_period,
            "sync_period",
            SimDuration::from_secs(h::DEFAULT_SYNC_PERIOD_S),
        )?;
        let stabilization_window = k.duration(
            &raw.stabilization_window,
            SimDuration::from_secs(h::DEFAULT_STABILIZATION_S),
        );
        let resolution = k.period(
            &raw.metric_resolution,
            "metric_resolution",
            SimDuration::from_secs(h::DEFAULT_METRIC_RESOLUTION_S),
        )?;
        let window = k.positive(&raw.metric_window, "metric_window", resolution)?;
        if !window.0.is_multiple_of(resolution.0) {
            let span = raw
                .metric_window
                .as_ref()
                .or(raw.metric_resolution.as_ref())
                .map_or(k.type_span.clone(), |s| s.span());
            return Err(k.err(
                span,
                "metric_window",
                format!(
                    "expected a whole multiple of metric_resolution ({}), found {}",
                    secs(resolution),
                    secs(window)
                ),
            ));
        }
        let scrape_phase = match &raw.scrape_phase {
            Some(ph) if ph.get_ref().0 >= resolution => {
                return Err(k.err(
                    ph.span(),
                    "scrape_phase",
                    format!(
                        "expected a duration shorter than metric_resolution ({}), found {}; leave it out to draw it at random",
                        secs(resolution),
                        secs(ph.get_ref().0)
                    ),
                ));
            }
            Some(ph) => Some(ph.get_ref().0),
            None => None,
        };

        let behavior_keys = [
            raw.scale_up_policies.as_ref().map(|v| v.span()),
            raw.scale_up_select.as_ref().map(|v| v.span()),
            raw.scale_up_stabilization.as_ref().map(|v| v.span()),
            raw.scale_down_policies.as_ref().map(|v| v.span()),
            raw.scale_down_select.as_ref().map(|v| v.span()),
        ];
        let first_behavior_key = behavior_keys.iter().flatten().next().cloned();
        let behavior_on = match (&raw.behavior, &first_behavior_key) {
            (Some(b), Some(_)) if !*b.get_ref() => {
                return Err(k.err(
                b.span(),
                "behavior",
                "`behavior = false` contradicts the scale_up_*/scale_down_* keys, which set a behavior",
            ));
            }
            (Some(b), _) => *b.get_ref(),
            (None, key) => key.is_some(),
        };
        let behavior = if behavior_on {
            let hour = SimDuration::from_secs(3600);
            let up_default = h::Behavior::default_scale_up();
            let down_default = h::Behavior::default_scale_down(stabilization_window);
            Some(h::Behavior {
                scale_up: ScalingRules {
                    stabilization: k.bounded(
                        &raw.scale_up_stabilization,
                        "scale_up_stabilization",
                        up_default.stabilization,
                        SimDuration::ZERO,
                        hour,
                    )?,
                    select: select(k, &raw.scale_up_select, "scale_up_select")?,
                    policies: rate_policy_list(
                        k,
                        &raw.scale_up_policies,
                        "scale_up_policies",
                        up_default.policies,
                    )?,
                },
                scale_down: ScalingRules {
                    stabilization: down_default.stabilization,
                    select: select(k, &raw.scale_down_select, "scale_down_select")?,
                    policies: rate_policy_list(
                        k,
                        &raw.scale_down_policies,
                        "scale_down_policies",
                        down_default.policies,
                    )?,
                },
            })
        } else {
            None
        };
        Ok(HpaParams {
            target_percent: percent as u32,
            sync_period,
            tolerance,
            stabilization_window,
            behavior,
            scrape: ScrapeSpec {
                resolution,
                window,
                delay: k.duration(
                    &raw.metric_delay,
                    SimDuration::from_millis(h::DEFAULT_METRIC_DELAY_MS),
                ),
                fresh_min: SimDuration::from_secs(h::FRESH_CONTAINER_MIN_S),
                phase: scrape_phase.unwrap_or(SimDuration::ZERO),
                scrape_starting: true,
            },
            scrape_phase,
            cpu_initialization_period: k.duration(
                &raw.cpu_initialization_period,
                SimDuration::from_secs(h::DEFAULT_CPU_INITIALIZATION_PERIOD_S),
            ),
            initial_readiness_delay: k.duration(
                &raw.initial_readiness_delay,
                SimDuration::from_secs(h::DEFAULT_INITIAL_READINESS_DELAY_S),
            ),
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let p = self;
        let mut v = vec![
            (
                "target_utilization",
                format!("{}", f64::from(p.target_percent) / 100.0),
            ),
            ("sync_period", secs(p.sync_period)),
            ("tolerance", p.tolerance.to_string()),
            ("stabilization_window", secs(p.stabilization_window)),
            ("metric_resolution", secs(p.scrape.resolution)),
            ("metric_window", secs(p.scrape.window)),
            ("metric_delay", secs(p.scrape.delay)),
            (
                "scrape_phase",
                p.scrape_phase.map_or("random".to_string(), secs),
            ),
            (
                "cpu_initialization_period",
                secs(p.cpu_initialization_period),
            ),
            ("initial_readiness_delay", secs(p.initial_readiness_delay)),
            ("behavior", p.behavior.is_some().to_string()),
        ];
        if let Some(b) = &p.behavior {
            v.extend([
                ("scale_up_policies", rate_policies(&b.scale_up.policies)),
                ("scale_up_select", b.scale_up.select.name().to_string()),
                ("scale_up_stabilization", secs(b.scale_up.stabilization)),
                ("scale_down_policies", rate_policies(&b.scale_down.policies)),
                ("scale_down_select", b.scale_down.select.name().to_string()),
            ]);
        }
        v
    }

    fn build(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        let mut p = self.clone();
        if self.scrape_phase.is_none() {
            p.scrape.phase =
                draw_scrape_phase(ctx.setting.seed, ctx.replication, p.scrape.resolution);
        }
        Ok(Box::new(Hpa::new(p)))
    }
}

fn rate_policy_list(
    k: &Keys,
    v: &Option<Spanned<RawRatePolicies>>,
    key: &str,
    default: Vec<RatePolicy>,
) -> Result<Vec<RatePolicy>, InputError> {
    let Some(list) = v else { return Ok(default) };
    if list.get_ref().is_empty() {
        return Err(k.err(
            list.span(),
            key,
            "expected at least one policy such as [\"pods\", 4, \"15s\"]",
        ));
    }
    let max_period = SimDuration::from_secs(1800);
    list.get_ref()
        .iter()
        .map(|(kind, value, period)| {
            let kind = match kind.as_str() {
                "pods" => RateKind::Pods,
                "percent" => RateKind::Percent,
                other => {
                    return Err(k.err(
                        list.span(),
                        key,
                        format!(
                            "unknown policy kind {other}: expected \"pods\" or \"percent\" (as in [\"pods\", 4, \"15s\"])", other = crate::error::quoted(other)),
                    ));
                }
            };
            if *value == 0 {
                return Err(k.err(list.span(), key, "expected a policy value of at least 1"));
            }
            if period.0.is_zero() || period.0 > max_period {
                return Err(k.err(
                    list.span(),
                    key,
                    format!(
                        "expected a policy period above 0 and at most 30 minutes, found {}",
                        secs(period.0)
                    ),
                ));
            }
            Ok(RatePolicy {
                kind,
                value: *value,
                period: period.0,
            })
        })
        .collect()
}

fn select(k: &Keys, v: &Option<Spanned<String>>, key: &str) -> Result<Select, InputError> {
    match v {
        None => Ok(Select::Max),
        Some(s) => match s.get_ref().as_str() {
            "max" => Ok(Select::Max),
            "min" => Ok(Select::Min),
            "disabled" => Ok(Select::Disabled),
            other => Err(k.err(
                s.span(),
                key,
                format!(
                    "unknown select policy {other}: expected \"max\", \"min\" or \"disabled\"",
                    other = crate::error::quoted(other)
                ),
            )),
        },
    }
}

/// HPA behavior rate policies as written: `[["pods", 4, "15s"], ["percent", 100, "15s"]]`.
pub type RawRatePolicies = Vec<(String, u32, Dur)>;

fn rate_policies(p: &[RatePolicy]) -> String {
    let items: Vec<String> = p
        .iter()
        .map(|r| {
            let kind = match r.kind {
                RateKind::Pods => "pods",
                RateKind::Percent => "percent",
            };
            format!("{kind} {} per {}", r.value, secs(r.period))
        })
        .collect();
    items.join("; ")
}
