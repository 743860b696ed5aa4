//! `target_tracking`: AWS target tracking scaling, as documented, with the undocumented parts
//! as named options.
//!
//! Rules reproduced (AWS Application Auto Scaling and EC2 Auto Scaling documentation: "Target
//! tracking scaling policies", "Scaling cooldowns", "Instance warmup"):
//! - AWS manages two CloudWatch alarms on `metric` (one datapoint per `period`, 60 s):
//!   utilization, concurrency or requests per second per ready container. A period without a
//!   datapoint (no reporting container) is INSUFFICIENT_DATA: no scaling, and the alarms'
//!   runs start again.
//! - High alarm: scale out "proportionally to the metric, as fast as it can". Low alarm: scale
//!   in "more gradually", never when `disable_scale_in` is set.
//! - Scale-out cooldown (`scale_out_cooldown`, 300 s): during it, another scale-out happens only
//!   if it asks for more than the current capacity, computed from the capacity before the
//!   scale-out that started it (capacity added during the cooldown counts toward the next
//!   desired value). Scale-in cooldown (`scale_in_cooldown`, 300 s): blocks scale-in; a
//!   scale-out goes ahead immediately and ends it.
//! - Instance warm-up (`warmup`, EC2; 0 = off as for Application Auto Scaling targets): a
//!   container that became ready less than `warmup` ago is left out of the metric, the
//!   scale-out is computed from the containers that count (warming ones count toward the
//!   desired capacity, so it happens only if it exceeds the current capacity), and scale-in
//!   waits while any container is starting or warming. EC2 target tracking has no scale-out
//!   cooldown: with a warm-up, none applies.
//!
//! Modelling choices (AWS publishes no formula; the names are the options):
//! - `scale_out_datapoints` (3) and `scale_in_datapoints` (15): consecutive 1-minute datapoints
//!   above the target resp. below `scale_in_threshold · target` (0.9) that put the high resp.
//!   low alarm in ALARM (third-party observations of the alarms AWS creates, unverified; AWS
//!   tunes them itself since November 2024). While an alarm stays in ALARM its policy is invoked
//!   at every datapoint.
//! - Scale out to `ceil(capacity · metric / target)`.
//! - Scale in to `floor(capacity · metric / target) + 1`, the fewest replicas that keep the
//!   metric below the target afterwards.
//! - The policy never goes below one replica: its metrics are per ready container, so with none
//!   it would have no datapoints to scale out again.
//!
//! Left out: several policies on one target (the one giving the largest capacity wins),
//! predictive scaling, and custom metric math.

use super::pipeline::{ClusterMetric, Pipeline, ScrapeSpec};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, ContainerState, Decision, Observation};
use crate::error::InputError;
use crate::scenario::source::{Dur, Positive};
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;
use toml::Spanned;

/// Validated `target_tracking` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetTrackingParams {
    pub metric: ClusterMetric,
    pub target: f64,
    pub scale_out_cooldown: SimDuration,
    pub scale_in_cooldown: SimDuration,
    pub warmup: SimDuration,
    pub period: SimDuration,
    pub scale_out_datapoints: u32,
    pub scale_in_datapoints: u32,
    /// The low alarm's threshold as a fraction of `target`.
    pub scale_in_threshold: f64,
    pub disable_scale_in: bool,
    pub metric_delay: SimDuration,
    /// `cooldown_capacity`: which capacity a scale-out during the scale-out cooldown starts
    /// from.
    pub cooldown_capacity: CooldownCapacity,
}

/// The two readings of AWS's "capacity added during the cooldown counts toward the next
/// desired value" for target tracking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CooldownCapacity {
    /// `"before_cooldown"` (default): the desired value is computed from the capacity before
    /// the scale-out that started the cooldown, as the documented step example (+2, then +3
    /// during the cooldown adds 1: both counted from the same base).
    BeforeCooldown,
    /// `"reporting"`: from the containers the metric averages over now, so containers added
    /// during the cooldown count once they are ready and report.
    Reporting,
}

impl CooldownCapacity {
    pub const NAMES: &'static str = "\"before_cooldown\" or \"reporting\"";

    pub fn name(self) -> &'static str {
        match self {
            CooldownCapacity::BeforeCooldown => "before_cooldown",
            CooldownCapacity::Reporting => "reporting",
        }
    }
}

pub const DEFAULT_TARGET_FRACTION: f64 = 0.7;
pub const DEFAULT_COOLDOWN_S: u64 = 300;
pub const DEFAULT_PERIOD_S: u64 = 60;
pub const DEFAULT_SCALE_OUT_DATAPOINTS: u32 = 3;
pub const DEFAULT_SCALE_IN_DATAPOINTS: u32 = 15;
pub const DEFAULT_SCALE_IN_THRESHOLD: f64 = 0.9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutCooldown {
    until: SimTime,
    base: u32,
}

pub struct TargetTracking {
    p: TargetTrackingParams,
    pipeline: Pipeline,
    high_run: u32,
    low_run: u32,
    out_cooldown: Option<OutCooldown>,
    in_cooldown_until: Option<SimTime>,
}

fn ceil_u32(x: f64) -> u32 {
    if x <= 0.0 {
        0
    } else if x >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        x.ceil() as u32
    }
}

impl TargetTracking {
    pub fn new(p: TargetTrackingParams) -> Self {
        let pipeline = Pipeline::new(ScrapeSpec {
            resolution: p.period,
            window: p.period,
            delay: p.metric_delay,
            fresh_min: SimDuration::ZERO,
            // CloudWatch datapoints are on the period grid the policy evaluates on.
            phase: SimDuration::ZERO,
            scrape_starting: false,
        });
        TargetTracking {
            p,
            pipeline,
            high_run: 0,
            low_run: 0,
            out_cooldown: None,
            in_cooldown_until: None,
        }
    }

    /// Whether a container is still warming up at `at`. The containers the run starts with
    /// (created at time 0) are warm.
    fn warming(&self, created: SimTime, ready_at: SimTime, at: SimTime) -> bool {
        !self.p.warmup.is_zero() && created > SimTime::ZERO && ready_at + self.p.warmup > at
    }
}

impl Autoscaler for TargetTracking {
    fn tick_interval(&self) -> SimDuration {
        self.p.period
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        if !self.pipeline.new_datapoint(obs) {
            return Decision::Keep;
        }
        let Some(scrape) = self.pipeline.latest() else {
            return Decision::Keep;
        };
        let at = scrape.time;
        let counts =
            |s: &super::pipeline::ContainerSample| !self.warming(s.created, s.ready_at, at);
        let counted = scrape.samples.iter().filter(|s| counts(s)).count() as u32;
        let Some(v) = self.p.metric.value(scrape, obs.concurrency, counts) else {
            self.high_run = 0;
            self.low_run = 0;
            return Decision::Keep;
        };
        self.high_run = if v > self.p.target {
            self.high_run + 1
        } else {
            0
        };
        self.low_run = if v < self.p.target * self.p.scale_in_threshold {
            self.low_run + 1
        } else {
            0
        };

        let now = obs.now;
        let cap = obs.desired;
        let min = obs.min_replicas.max(1);
        let max = obs.max_replicas.max(min);
        let ratio = v / self.p.target;
        if self.high_run >= self.p.scale_out_datapoints {
            let cooling = self.out_cooldown.filter(|c| now < c.until);
            let base = if !self.p.warmup.is_zero() {
                counted
            } else {
                match (cooling, self.p.cooldown_capacity) {
                    (None, _) => cap,
                    (Some(c), CooldownCapacity::BeforeCooldown) => c.base,
                    (Some(_), CooldownCapacity::Reporting) => counted,
                }
            };
            let desired = ceil_u32(f64::from(base) * ratio).min(max);
            if desired <= cap {
                return Decision::Keep;
            }
            if cooling.is_none() {
                self.out_cooldown = Some(OutCooldown {
                    until: now + self.p.scale_out_cooldown,
                    base: cap,
                });
            }
            self.in_cooldown_until = None;
            return Decision::Desired(desired);
        }
        if self.low_run >= self.p.scale_in_datapoints && !self.p.disable_scale_in {
            if self.in_cooldown_until.is_some_and(|t| now < t) {
                return Decision::Keep;
            }
            let any_warming = obs.containers.iter().any(|c| {
                c.state == ContainerState::Starting
                    || (c.state == ContainerState::Ready
                        && self.warming(c.created, c.ready_at.unwrap_or(c.created), now))
            });
            if !self.p.warmup.is_zero() && any_warming {
                return Decision::Keep;
            }
            let desired = ((f64::from(cap) * ratio).floor() as u32 + 1).max(min);
            if desired >= cap {
                return Decision::Keep;
            }
            self.in_cooldown_until = Some(now + self.p.scale_in_cooldown);
            return Decision::Desired(desired);
        }
        Decision::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;

    fn params() -> TargetTrackingParams {
        TargetTrackingParams {
            metric: ClusterMetric::Utilization,
            target: 0.5,
            scale_out_cooldown: SimDuration::from_secs(300),
            scale_in_cooldown: SimDuration::from_secs(300),
            warmup: SimDuration::ZERO,
            period: SimDuration::from_secs(60),
            scale_out_datapoints: 3,
            scale_in_datapoints: 15,
            scale_in_threshold: 0.9,
            disable_scale_in: false,
            metric_delay: SimDuration::ZERO,
            cooldown_capacity: CooldownCapacity::BeforeCooldown,
        }
    }

    #[test]
    fn the_two_readings_of_the_scale_out_cooldown() {
        // 4 containers at 90 % against 50 %: 8 at 180 s, ready at once and as busy. During the
        // cooldown the metric still says 90 %, now over 8 containers.
        for (reading, expect) in [
            (CooldownCapacity::BeforeCooldown, Decision::Keep), // ceil(4 · 1.8) = 8
            (CooldownCapacity::Reporting, Decision::Desired(15)), // ceil(8 · 1.8) = 15
        ] {
            let mut p = params();
            p.cooldown_capacity = reading;
            let mut c = Cluster::new(1, 4);
            let mut t = TargetTracking::new(p);
            minute(&mut t, &mut c, 0.9, true);
            minute(&mut t, &mut c, 0.9, true);
            assert_eq!(minute(&mut t, &mut c, 0.9, true), Decision::Desired(8));
            assert_eq!(minute(&mut t, &mut c, 0.9, true), expect, "{reading:?}");
        }
    }

    /// One minute with every ready container `busy` slots busy; new containers are ready at
    /// once unless `startup` is false.
    fn minute(t: &mut TargetTracking, c: &mut Cluster, busy: f64, ready_at_once: bool) -> Decision {
        let b: Vec<f64> = c
            .containers
            .iter()
            .map(|k| {
                if k.state == ContainerState::Ready {
                    busy
                } else {
                    0.0
                }
            })
            .collect();
        c.run(60.0, &b);
        let d = t.tick(&c.obs());
        c.apply(d);
        if ready_at_once {
            c.make_all_ready();
        }
        d
    }

    #[test]
    fn scales_out_proportionally_after_three_high_minutes() {
        let mut c = Cluster::new(1, 4);
        let mut t = TargetTracking::new(params());
        assert_eq!(minute(&mut t, &mut c, 0.9, true), Decision::Keep);
        assert_eq!(minute(&mut t, &mut c, 0.9, true), Decision::Keep);
        // ceil(4 · 0.9 / 0.5) = ceil(7.2) = 8.
        assert_eq!(minute(&mut t, &mut c, 0.9, true), Decision::Desired(8));
    }

    #[test]
    fn scale_out_cooldown_counts_capacity_already_added() {
        // New containers take 10 minutes to start here, so the metric stays high.
        let mut c = Cluster::new(1, 4);
        let mut t = TargetTracking::new(params());
        minute(&mut t, &mut c, 0.9, false);
        minute(&mut t, &mut c, 0.9, false);
        assert_eq!(minute(&mut t, &mut c, 0.9, false), Decision::Desired(8));
        // During the cooldown (until 480 s): from the 4 before it, ceil(4 · 0.9/0.5) = 8 is
        // not more than 8: nothing; at 1.0 it is ceil(8) = 8: nothing.
        assert_eq!(minute(&mut t, &mut c, 0.9, false), Decision::Keep);
        assert_eq!(minute(&mut t, &mut c, 1.0, false), Decision::Keep);
        // With a higher target ratio the larger scale-out goes ahead, keeping the cooldown:
        // ceil(4 · 1.0 / 0.4) = 10.
        t.p.target = 0.4;
        assert_eq!(minute(&mut t, &mut c, 1.0, false), Decision::Desired(10));
        assert_eq!(minute(&mut t, &mut c, 1.0, false), Decision::Keep); // t = 420
        // t = 480: the cooldown is over: from the current 10, ceil(25) = 25.
        assert_eq!(minute(&mut t, &mut c, 1.0, false), Decision::Desired(25));
    }

    #[test]
    fn scales_in_gradually_after_fifteen_low_minutes() {
        let mut c = Cluster::new(1, 10);
        let mut t = TargetTracking::new(params());
        for _ in 0..14 {
            assert_eq!(minute(&mut t, &mut c, 0.25, true), Decision::Keep);
        }
        // t = 900: floor(10 · 0.25 / 0.5) + 1 = 6: the metric after, 0.42, stays below 0.5.
        assert_eq!(minute(&mut t, &mut c, 0.25, true), Decision::Desired(6));
        // The low alarm stays in ALARM but the scale-in cooldown blocks until 1200 s.
        for _ in 0..4 {
            assert_eq!(minute(&mut t, &mut c, 0.25, true), Decision::Keep);
        }
        // floor(6 · 0.5) + 1 = 4.
        assert_eq!(minute(&mut t, &mut c, 0.25, true), Decision::Desired(4));
    }

    #[test]
    fn no_oscillation_at_a_steady_load() {
        // Scale out to the target, then hold: the metric after a scale-out is at or below the
        // target, and a scale-in from there keeps the count.
        let mut c = Cluster::new(1, 4);
        let mut t = TargetTracking::new(params());
        let load = 3.6; // busy slots in total
        let mut changes = 0;
        for _ in 0..60 {
            let n = c.ready() as f64;
            if minute(&mut t, &mut c, load / n, true) != Decision::Keep {
                changes += 1;
            }
        }
        assert_eq!(changes, 1);
        assert_eq!(c.desired, 8); // ceil(4 · 0.9 / 0.5)
    }

    #[test]
    fn scale_out_ends_the_scale_in_cooldown_and_disable_scale_in() {
        let mut p = params();
        p.scale_out_datapoints = 1;
        p.scale_in_datapoints = 1;
        let mut c = Cluster::new(1, 10);
        let mut t = TargetTracking::new(p.clone());
        // floor(10 · 0.25) + 1 = 3.
        assert_eq!(minute(&mut t, &mut c, 0.125, true), Decision::Desired(3));
        assert_eq!(minute(&mut t, &mut c, 0.125, true), Decision::Keep); // cooldown
        // ceil(3 · 2) = 6, and the scale-in cooldown is over.
        assert_eq!(minute(&mut t, &mut c, 1.0, true), Decision::Desired(6));
        // floor(6 · 0.25) + 1 = 2.
        assert_eq!(minute(&mut t, &mut c, 0.125, true), Decision::Desired(2));

        p.disable_scale_in = true;
        let mut c = Cluster::new(1, 10);
        let mut t = TargetTracking::new(p);
        for _ in 0..5 {
            assert_eq!(minute(&mut t, &mut c, 0.0, true), Decision::Keep);
        }
    }

    #[test]
    fn warming_containers_are_left_out_and_block_scale_in() {
        let mut p = params();
        p.warmup = SimDuration::from_secs(150);
        p.scale_out_datapoints = 1;
        p.scale_in_datapoints = 1;
        p.scale_out_cooldown = SimDuration::ZERO;
        let mut c = Cluster::new(1, 4);
        let mut t = TargetTracking::new(p);
        // t = 60: the 4 initial containers are warm: ceil(4 · 1.8) = 8.
        assert_eq!(minute(&mut t, &mut c, 0.9, true), Decision::Desired(8));
        // t = 120: the 4 new ones (ready at 60, warming until 210) are left out: the 4 old
        // ones at 0.6 → ceil(4 · 1.2) = 5, not more than 8: nothing.
        assert_eq!(minute(&mut t, &mut c, 0.6, true), Decision::Keep);
        // t = 180: low metric, but scale-in waits for the warming containers.
        assert_eq!(minute(&mut t, &mut c, 0.125, true), Decision::Keep);
        // t = 240: all 8 count: floor(8 · 0.25) + 1 = 3.
        assert_eq!(minute(&mut t, &mut c, 0.125, true), Decision::Desired(3));
    }
}

/// A `target_tracking` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetTracking {
    pub metric: Option<Spanned<String>>,
    pub target: Option<Spanned<Positive>>,
    pub scale_out_cooldown: Option<Spanned<Dur>>,
    pub scale_in_cooldown: Option<Spanned<Dur>>,
    pub warmup: Option<Spanned<Dur>>,
    pub period: Option<Spanned<Dur>>,
    pub scale_out_datapoints: Option<Spanned<u32>>,
    pub scale_in_datapoints: Option<Spanned<u32>>,
    pub scale_in_threshold: Option<Spanned<Positive>>,
    pub disable_scale_in: Option<Spanned<bool>>,
    pub metric_delay: Option<Spanned<Dur>>,
    pub cooldown_capacity: Option<Spanned<String>>,
}

impl PolicyType for TargetTrackingParams {
    const TYPE: &'static str = "target_tracking";
    type Raw = RawTargetTracking;

    fn validate(
        raw: &RawTargetTracking,
        k: &Keys,
        ctx: &PolicyContext,
    ) -> Result<Self, InputError> {
        use crate::autoscaler::target_tracking as tt;
        let metric = k.metric(&raw.metric, ClusterMetric::Utilization)?;
        let target = match &raw.target {
            Some(t) => {
                let v = t.get_ref().0;
                if metric == ClusterMetric::Utilization && v > 1.0 {
                    return Err(k.err(
                        t.span(),
                        "target",
                        format!(
                            "expected a utilization above 0 and at most 1, found {}",
                            crate::error::num(v)
                        ),
                    ));
                }
                v
            }
            None => k.level_default(
                metric,
                "target",
                tt::DEFAULT_TARGET_FRACTION,
                ctx.concurrency,
            )?,
        };
        let cooldown = SimDuration::from_secs(tt::DEFAULT_COOLDOWN_S);
        let warmup = k.duration(&raw.warmup, SimDuration::ZERO);
        // EC2 target tracking paces scale-out by the warm-up, not by a cooldown.
        let scale_out_cooldown = match (&raw.scale_out_cooldown, warmup.is_zero()) {
            (Some(c), false) => {
                return Err(k.err(
                c.span(),
                "scale_out_cooldown",
                "with `warmup` (EC2 target tracking) scale-out is paced by the warm-up: give one or the other",
            ));
            }
            (_, false) => SimDuration::ZERO,
            (c, true) => k.duration(c, cooldown),
        };
        Ok(TargetTrackingParams {
            metric,
            target,
            scale_out_cooldown,
            scale_in_cooldown: k.duration(&raw.scale_in_cooldown, cooldown),
            warmup,
            period: k.period(
                &raw.period,
                "period",
                SimDuration::from_secs(tt::DEFAULT_PERIOD_S),
            )?,
            scale_out_datapoints: k.count(
                &raw.scale_out_datapoints,
                "scale_out_datapoints",
                tt::DEFAULT_SCALE_OUT_DATAPOINTS,
            )?,
            scale_in_datapoints: k.count(
                &raw.scale_in_datapoints,
                "scale_in_datapoints",
                tt::DEFAULT_SCALE_IN_DATAPOINTS,
            )?,
            scale_in_threshold: k.number(
                &raw.scale_in_threshold,
                "scale_in_threshold",
                tt::DEFAULT_SCALE_IN_THRESHOLD,
                |v| v <= 1.0,
                "a fraction of the target above 0 and at most 1",
            )?,
            disable_scale_in: raw.disable_scale_in.as_ref().is_some_and(|b| *b.get_ref()),
            metric_delay: k.duration(&raw.metric_delay, SimDuration::ZERO),
            cooldown_capacity: match &raw.cooldown_capacity {
                None => CooldownCapacity::BeforeCooldown,
                Some(v) => match v.get_ref().as_str() {
                    "before_cooldown" => CooldownCapacity::BeforeCooldown,
                    "reporting" => CooldownCapacity::Reporting,
                    other => {
                        return Err(k.err(
                            v.span(),
                            "cooldown_capacity",
                            format!(
                                "expected {}, found {other}",
                                CooldownCapacity::NAMES,
                                other = crate::error::quoted(other)
                            ),
                        ));
                    }
                },
            },
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let p = self;
        vec![
            ("metric", p.metric.name().to_string()),
            ("target", p.target.to_string()),
            ("scale_out_cooldown", secs(p.scale_out_cooldown)),
            ("scale_in_cooldown", secs(p.scale_in_cooldown)),
            ("warmup", secs(p.warmup)),
            ("period", secs(p.period)),
            ("scale_out_datapoints", p.scale_out_datapoints.to_string()),
            ("scale_in_datapoints", p.scale_in_datapoints.to_string()),
            ("scale_in_threshold", p.scale_in_threshold.to_string()),
            ("disable_scale_in", p.disable_scale_in.to_string()),
            ("metric_delay", secs(p.metric_delay)),
            ("cooldown_capacity", p.cooldown_capacity.name().to_string()),
        ]
    }

    fn build(&self, _ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        Ok(Box::new(TargetTracking::new(self.clone())))
    }
}
