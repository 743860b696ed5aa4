//! `predictive`: AWS EC2 Auto Scaling predictive scaling in forecast-and-scale mode, with the
//! AWS target tracking of [`super::target_tracking`] on top, as AWS recommends running them.
//!
//! Rules reproduced (AWS documentation: EC2 Auto Scaling User Guide "Predictive scaling for
//! Amazon EC2 Auto Scaling" and "How predictive scaling works"; API reference
//! `PredictiveScalingConfiguration` and `GetPredictiveScalingForecast`):
//! - The load metric is the group's total of the scaling metric (the `ASGCPUUtilization` and
//!   `ALBRequestCount` metric pairs: the sum over the group for the load, the average per
//!   instance for the scaling metric): one datapoint per `period` (60 s), the mean of `metric`
//!   over the reporting containers times their number. A period without a reporting container
//!   has no datapoint.
//! - Forecasts need at least 24 hours of metric history; they use up to the last 14 days; each
//!   is an hourly load forecast for the next 48 hours, renewed every 6 hours.
//! - The capacity forecast of an hour is its load forecast divided by the target value of the
//!   scaling metric, rounded up ("the minimum capacity that is needed on an hourly basis").
//! - Forecast and scale: the capacity of each forecast hour is put in place
//!   `scheduling_buffer_time` (`SchedulingBufferTime`, 300 s by default, 0 to 3600 s) before the
//!   hour starts (AWS's example: capacity for 10:00 launched at 9:55). It is a minimum: the
//!   policy never scales in by itself ("if the forecast expects a decrease in load, predictive
//!   scaling will not scale in"); target tracking does the rest, and while both are active
//!   the capacity is the larger of the two ("each policy determines the desired capacity
//!   independently, and the desired capacity is set to the maximum of those").
//! - `max_capacity_breach_behavior` (`MaxCapacityBreachBehavior`): `"honor_max_capacity"`
//!   (default) caps the forecast at the group's `max_capacity`; `"increase_max_capacity"` raises
//!   the group's maximum to the forecast capacity plus `max_capacity_buffer` percent
//!   (`MaxCapacityBuffer`, 0 to 100, required with it; AWS's example: forecast 50, maximum 40,
//!   buffer 10 gives 55) whenever that exceeds it, and the raised maximum stays (AWS: it
//!   "becomes the new normal maximum capacity"). The cluster's `max_replicas` stays the hard
//!   limit of the simulation.
//!
//! Not public, so a documented guess (AWS says only that it "uses machine learning" and finds
//! daily and weekly patterns): the load forecast of an hour is the mean of the hourly loads
//! (mean of the hour's datapoints) at the same hour of the week in the history once the history
//! holds a whole week, else at the same hour of the day, over the days in the history (at most
//! 14). A repeating daily (or weekly) shape is forecast exactly; a trend is not. Forecasts are
//! made at every multiple of 6 hours of the run once 24 hours of history exist (the first at
//! 24 h); a policy created on a group with history would forecast from the start, but a run has
//! no history before time 0. `ForecastOnly` mode, which scales nothing, is `target_tracking`.
//!
//! Everything comes from what the cluster reports (the same datapoints target tracking reads);
//! nothing of the future.

use super::pipeline::{Pipeline, ScrapeSpec};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::target_tracking::{RawTargetTracking, TargetTracking, TargetTrackingParams};
use super::{Autoscaler, Decision, Observation};
use crate::error::InputError;
use crate::scenario::source::{Dur, NonNegative, Positive};
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;
use std::collections::VecDeque;
use toml::Spanned;

/// Seconds in an hour: the forecast's resolution.
const HOUR_S: u64 = 3600;
const HOUR_NS: u64 = HOUR_S * crate::time::NANOS_PER_SEC;
/// History needed before the first forecast (AWS: "at least 24 hours of data").
pub const MIN_HISTORY_HOURS: u64 = 24;
/// History a forecast uses at most (AWS: "up to the past 14 days").
pub const MAX_HISTORY_HOURS: u64 = 14 * 24;
/// Hours each forecast covers (AWS: "the next 48 hours").
pub const FORECAST_HOURS: u64 = 48;
/// How often forecasts are renewed (AWS: "updated every 6 hours").
pub const UPDATE_HOURS: u64 = 6;
/// `SchedulingBufferTime` default and maximum, seconds.
pub const DEFAULT_SCHEDULING_BUFFER_S: u64 = 300;
pub const MAX_SCHEDULING_BUFFER_S: u64 = 3600;

/// `MaxCapacityBreachBehavior`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxCapacityBreach {
    /// `"honor_max_capacity"`: the forecast is capped at the group's maximum.
    Honor,
    /// `"increase_max_capacity"`: the maximum rises to the forecast plus this many percent.
    Increase { buffer_percent: f64 },
}

impl MaxCapacityBreach {
    pub const NAMES: &'static str = "\"honor_max_capacity\" or \"increase_max_capacity\"";

    pub fn name(self) -> &'static str {
        match self {
            MaxCapacityBreach::Honor => "honor_max_capacity",
            MaxCapacityBreach::Increase { .. } => "increase_max_capacity",
        }
    }
}

/// Validated `predictive` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictiveParams {
    /// The target tracking policy on top; its `metric` and `target` are also predictive
    /// scaling's scaling metric and target value.
    pub tracking: TargetTrackingParams,
    /// `scheduling_buffer_time`.
    pub scheduling_buffer: SimDuration,
    pub breach: MaxCapacityBreach,
    /// `max_capacity`: the group's maximum (at most the cluster's `max_replicas`).
    pub max_capacity: u32,
}

/// The load of each hour since the start of the run: sum and number of datapoints.
#[derive(Clone, Copy, Debug, Default)]
struct HourLoad {
    sum: f64,
    datapoints: u32,
}

impl HourLoad {
    fn mean(self) -> Option<f64> {
        (self.datapoints > 0).then(|| self.sum / f64::from(self.datapoints))
    }
}

/// One forecast: the capacity of hours `first_hour..first_hour + capacity.len()`.
#[derive(Clone, Debug, PartialEq)]
struct Forecast {
    first_hour: u64,
    /// `None` for an hour the history says nothing about.
    capacity: Vec<Option<u32>>,
}

pub struct Predictive {
    p: PredictiveParams,
    tracking: TargetTracking,
    pipeline: Pipeline,
    /// Hourly loads; `hours[i]` is hour `first_hour + i` of the run.
    hours: VecDeque<HourLoad>,
    first_hour: u64,
    forecast: Option<Forecast>,
    /// The next time a forecast is due.
    next_update: SimTime,
    /// The group's maximum now (raised by `increase_max_capacity`).
    group_max: u32,
}

impl Predictive {
    pub fn new(p: PredictiveParams) -> Self {
        let t = &p.tracking;
        let pipeline = Pipeline::new(ScrapeSpec {
            resolution: t.period,
            window: t.period,
            delay: t.metric_delay,
            fresh_min: SimDuration::ZERO,
            phase: SimDuration::ZERO,
            scrape_starting: false,
        });
        Predictive {
            tracking: TargetTracking::new(p.tracking.clone()),
            pipeline,
            hours: VecDeque::new(),
            first_hour: 0,
            forecast: None,
            next_update: SimTime::ZERO + SimDuration::from_secs(MIN_HISTORY_HOURS * HOUR_S),
            group_max: p.max_capacity,
            p,
        }
    }

    /// Records the newest datapoint, if there is one, in the hour its period starts in.
    fn record(&mut self, obs: &Observation<'_>) {
        if !self.pipeline.new_datapoint(obs) {
            return;
        }
        let Some(scrape) = self.pipeline.latest() else {
            return;
        };
        let reporting = scrape.samples.len() as f64;
        let Some(v) = self
            .p
            .tracking
            .metric
            .value(scrape, obs.concurrency, |_| true)
        else {
            return;
        };
        let start = scrape.time.0.saturating_sub(self.p.tracking.period.0);
        let hour = start / HOUR_NS;
        if hour < self.first_hour {
            return;
        }
        let i = (hour - self.first_hour) as usize;
        if i >= self.hours.len() {
            self.hours.resize(i + 1, HourLoad::default());
        }
        self.hours[i].sum += v * reporting;
        self.hours[i].datapoints += 1;
        // Keep the hours a forecast can use, and the one being filled.
        while self.hours.len() as u64 > MAX_HISTORY_HOURS + 1 {
            self.hours.pop_front();
            self.first_hour += 1;
        }
    }

    /// The load of hour `h`, if the history holds it.
    fn load(&self, h: u64) -> Option<f64> {
        let i = h.checked_sub(self.first_hour)?;
        self.hours.get(i as usize).and_then(|l| l.mean())
    }

    /// A forecast made at `now`: the complete hours before `now` are the history.
    fn make_forecast(&self, now: SimTime) -> Forecast {
        let now_hour = now.0 / HOUR_NS;
        let oldest = now_hour
            .saturating_sub(MAX_HISTORY_HOURS)
            .max(self.first_hour);
        let span = now_hour - oldest;
        let season = if span >= 7 * 24 { 7 * 24 } else { 24 };
        let capacity = (now_hour..now_hour + FORECAST_HOURS)
            .map(|h| {
                let mut sum = 0.0;
                let mut n = 0u32;
                let mut past = h;
                while past >= oldest + season {
                    past -= season;
                    if past < now_hour
                        && let Some(l) = self.load(past)
                    {
                        sum += l;
                        n += 1;
                    }
                }
                (n > 0).then(|| capacity_for(sum / f64::from(n), self.p.tracking.target))
            })
            .collect();
        Forecast {
            first_hour: now_hour,
            capacity,
        }
    }

    /// The capacity forecast for the hour that contains `at`, if any.
    fn forecast_at(&self, at: SimTime) -> Option<u32> {
        let f = self.forecast.as_ref()?;
        let h = at.0 / HOUR_NS;
        let i = h.checked_sub(f.first_hour)?;
        f.capacity.get(i as usize).copied().flatten()
    }

    /// The minimum capacity predictive scaling puts in place at `now`, and the group's
    /// maximum after it.
    fn floor(&mut self, now: SimTime, cluster_max: u32) -> u32 {
        let Some(c) = self.forecast_at(now + self.p.scheduling_buffer) else {
            return 0;
        };
        if let MaxCapacityBreach::Increase { buffer_percent } = self.p.breach {
            let wanted = ceil_u32(f64::from(c) * (1.0 + buffer_percent / 100.0));
            self.group_max = self.group_max.max(wanted).min(cluster_max);
        }
        c.min(self.group_max)
    }
}

/// The capacity forecast of a load forecast: load over the target, rounded up (a hair below a
/// whole number, from rounding, counts as that number).
fn capacity_for(load: f64, target: f64) -> u32 {
    ceil_u32(load / target - 1e-9)
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

impl Autoscaler for Predictive {
    fn tick_interval(&self) -> SimDuration {
        self.p.tracking.period
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        let now = obs.now;
        self.record(obs);
        while now >= self.next_update {
            self.forecast = Some(self.make_forecast(now));
            self.next_update += SimDuration::from_secs(UPDATE_HOURS * HOUR_S);
        }
        let floor = self.floor(now, obs.max_replicas);
        // Target tracking sees the group as it is with the forecast as its minimum and the
        // group's maximum: it scales in no further than the forecast.
        let mut view = *obs;
        view.max_replicas = self.group_max.max(obs.min_replicas);
        view.min_replicas = obs.min_replicas.max(floor).min(view.max_replicas);
        let tracked = self.tracking.tick(&view);
        let wanted = match tracked {
            Decision::Keep => obs.desired,
            Decision::Desired(n) => n,
        };
        if floor > wanted {
            Decision::Desired(floor)
        } else {
            tracked
        }
    }
}

/// A `predictive` table as written: predictive scaling's keys, then those of the target
/// tracking policy on top (the same as `target_tracking`'s).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPredictive {
    pub scheduling_buffer_time: Option<Spanned<Dur>>,
    pub max_capacity_breach_behavior: Option<Spanned<String>>,
    pub max_capacity_buffer: Option<Spanned<NonNegative>>,
    pub max_capacity: Option<Spanned<u32>>,
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

impl RawPredictive {
    /// The keys of the target tracking policy on top.
    fn tracking(&self) -> RawTargetTracking {
        RawTargetTracking {
            metric: self.metric.clone(),
            target: self.target.clone(),
            scale_out_cooldown: self.scale_out_cooldown.clone(),
            scale_in_cooldown: self.scale_in_cooldown.clone(),
            warmup: self.warmup.clone(),
            period: self.period.clone(),
            scale_out_datapoints: self.scale_out_datapoints.clone(),
            scale_in_datapoints: self.scale_in_datapoints.clone(),
            scale_in_threshold: self.scale_in_threshold.clone(),
            disable_scale_in: self.disable_scale_in.clone(),
            metric_delay: self.metric_delay.clone(),
            cooldown_capacity: self.cooldown_capacity.clone(),
        }
    }
}

impl PolicyType for PredictiveParams {
    const TYPE: &'static str = "predictive";
    type Raw = RawPredictive;

    fn validate(raw: &RawPredictive, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        let tracking = TargetTrackingParams::validate(&raw.tracking(), k, ctx)?;
        if !HOUR_NS.is_multiple_of(tracking.period.0) {
            return Err(k.err(
                raw.period.as_ref().map_or(k.type_span.clone(), |p| p.span()),
                "period",
                format!(
                    "predictive scaling sums datapoints per hour: expected a period that divides 1 hour, found {}",
                    secs(tracking.period)
                ),
            ));
        }
        let scheduling_buffer = k.bounded(
            &raw.scheduling_buffer_time,
            "scheduling_buffer_time",
            SimDuration::from_secs(DEFAULT_SCHEDULING_BUFFER_S),
            SimDuration::ZERO,
            SimDuration::from_secs(MAX_SCHEDULING_BUFFER_S),
        )?;
        let breach = match &raw.max_capacity_breach_behavior {
            None => None,
            Some(v) => Some(match v.get_ref().as_str() {
                "honor_max_capacity" => false,
                "increase_max_capacity" => true,
                other => {
                    return Err(k.err(
                        v.span(),
                        "max_capacity_breach_behavior",
                        format!(
                            "expected {}, found {}",
                            MaxCapacityBreach::NAMES,
                            crate::error::quoted(other)
                        ),
                    ));
                }
            }),
        };
        let breach = match (breach, &raw.max_capacity_buffer) {
            (Some(true), Some(_)) => MaxCapacityBreach::Increase {
                buffer_percent: k.number(
                    &raw.max_capacity_buffer,
                    "max_capacity_buffer",
                    0.0,
                    |v| v <= 100.0,
                    "a percentage from 0 to 100",
                )?,
            },
            (Some(true), None) => {
                return Err(k.err_type(
                    "max_capacity_buffer",
                    "max_capacity_breach_behavior = \"increase_max_capacity\" needs `max_capacity_buffer` (a percentage from 0 to 100 above the forecast capacity, as AWS requires)",
                ));
            }
            (_, Some(b)) => {
                return Err(k.err(
                    b.span(),
                    "max_capacity_buffer",
                    "applies only with max_capacity_breach_behavior = \"increase_max_capacity\": remove it or set that",
                ));
            }
            (_, None) => MaxCapacityBreach::Honor,
        };
        let max_capacity = match &raw.max_capacity {
            None => ctx.max_replicas,
            Some(m) => {
                let v = *m.get_ref();
                if v < ctx.min_replicas.max(1) || v > ctx.max_replicas {
                    return Err(k.err(
                        m.span(),
                        "max_capacity",
                        format!(
                            "expected the group's maximum, from cluster.min_replicas (at least 1) to cluster.max_replicas ({} to {}), found {v}",
                            ctx.min_replicas.max(1),
                            ctx.max_replicas
                        ),
                    ));
                }
                v
            }
        };
        Ok(PredictiveParams {
            tracking,
            scheduling_buffer,
            breach,
            max_capacity,
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("scheduling_buffer_time", secs(self.scheduling_buffer)),
            (
                "max_capacity_breach_behavior",
                self.breach.name().to_string(),
            ),
        ];
        if let MaxCapacityBreach::Increase { buffer_percent } = self.breach {
            v.push(("max_capacity_buffer", buffer_percent.to_string()));
        }
        v.push(("max_capacity", self.max_capacity.to_string()));
        v.extend(self.tracking.parameters());
        v
    }

    fn build(&self, _ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        Ok(Box::new(Predictive::new(self.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::pipeline::ClusterMetric;
    use crate::autoscaler::target_tracking::CooldownCapacity;
    use crate::autoscaler::testkit::Cluster;

    const DAY: u64 = 86_400;
    const STARTUP_S: u64 = 120;

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn tracking() -> TargetTrackingParams {
        TargetTrackingParams {
            metric: ClusterMetric::Rps,
            target: 10.0,
            scale_out_cooldown: secs(300),
            scale_in_cooldown: secs(300),
            warmup: SimDuration::ZERO,
            period: secs(60),
            scale_out_datapoints: 3,
            scale_in_datapoints: 15,
            scale_in_threshold: 0.9,
            disable_scale_in: false,
            metric_delay: SimDuration::ZERO,
            cooldown_capacity: CooldownCapacity::BeforeCooldown,
        }
    }

    fn params() -> PredictiveParams {
        PredictiveParams {
            tracking: tracking(),
            scheduling_buffer: secs(300),
            breach: MaxCapacityBreach::Honor,
            max_capacity: 1000,
        }
    }

    /// Requests per second of a load that repeats daily: 200/s from 12:00 to 13:00, else 20/s.
    fn rate(t: u64) -> u64 {
        if (t % DAY) / 3600 == 12 { 200 } else { 20 }
    }

    /// One tick a minute for `days` days: the minute's arrivals, then the decision, applied;
    /// containers are ready `STARTUP_S` after they were asked for. Returns, per tick, the time
    /// (s), the decision and the ready containers after it.
    fn drive(policy: &mut dyn Autoscaler, days: u64) -> Vec<(u64, Decision, u32)> {
        let mut c = Cluster::new(1, 3);
        c.desired = 3;
        let mut log = Vec::new();
        for m in 0..days * 1440 {
            let t = m * 60;
            c.run_with_queue(60.0, &[], 0.0, rate(t) * 60);
            let now = c.now;
            let due: Vec<u32> = c
                .containers
                .iter()
                .filter(|k| {
                    k.state == crate::autoscaler::ContainerState::Starting
                        && k.created + secs(STARTUP_S) <= now
                })
                .map(|k| k.id)
                .collect();
            for id in due {
                c.make_ready(id);
            }
            let d = policy.tick(&c.obs());
            c.apply(d);
            log.push((t + 60, d, c.ready()));
        }
        log
    }

    fn at(log: &[(u64, Decision, u32)], t: u64) -> (Decision, u32) {
        let i = log.iter().position(|e| e.0 == t).expect("a tick at t");
        (log[i].1, log[i].2)
    }

    #[test]
    fn capacity_is_in_place_before_the_daily_peak_from_day_two() {
        let mut p = Predictive::new(params());
        let log = drive(&mut p, 2);
        // Day 1: no forecast (24 hours of history needed): exactly target tracking.
        let mut t = TargetTracking::new(tracking());
        let bare = drive(&mut t, 1);
        assert_eq!(&log[..1440], &bare[..]);
        // Day 1's 12:00 hour averaged 200/s: 200 / 10 per container = 20 containers for day 2's
        // 12:00 hour, asked for the scheduling buffer (300 s) before it.
        let peak = DAY + 12 * 3600;
        assert_eq!(at(&log, peak - 360), (Decision::Keep, 3));
        assert_eq!(at(&log, peak - 300).0, Decision::Desired(20));
        // Ready one start-up (120 s) later, 180 s before the peak.
        assert_eq!(at(&log, peak - 300 + STARTUP_S - 60).1, 3);
        assert_eq!(at(&log, peak - 300 + STARTUP_S).1, 20);
        assert_eq!(at(&log, peak).1, 20);
        // Nothing more during the peak: 200/s over 20 containers is the target.
        assert!(
            log.iter()
                .filter(|e| e.0 > peak - 300 && e.0 <= peak + 3600)
                .all(|e| e.1 == Decision::Keep)
        );
        // The next hour's forecast (2) is below: predictive scaling scales nothing in. Target
        // tracking does, after 15 low datapoints (13:01 to 13:15): floor(20 · 1/10) + 1 = 3.
        assert_eq!(at(&log, peak + 3600 + 900).0, Decision::Desired(3));
        assert!(
            log.iter()
                .filter(|e| e.0 > peak && e.0 < peak + 3600 + 900)
                .all(|e| e.1 == Decision::Keep)
        );
    }

    #[test]
    fn scale_in_only_through_target_tracking() {
        // With target tracking's scale-in disabled nothing ever scales in, though the
        // forecast falls from 20 to 2 every day.
        let mut q = params();
        q.tracking.disable_scale_in = true;
        let mut p = Predictive::new(q);
        let log = drive(&mut p, 3);
        let mut desired = 3;
        for &(t, d, _) in &log {
            if let Decision::Desired(n) = d {
                assert!(n > desired, "scaled in to {n} from {desired} at {t} s");
                desired = n;
            }
        }
        assert_eq!(desired, 20);
    }

    #[test]
    fn max_capacity_is_honoured_or_raised_with_its_buffer() {
        let peak = DAY + 12 * 3600;
        let mut q = params();
        q.max_capacity = 15;
        let mut p = Predictive::new(q.clone());
        let log = drive(&mut p, 2);
        assert_eq!(at(&log, peak - 300).0, Decision::Desired(15));

        // Raised to ceil(20 · 1.1) = 22; the forecast itself, 20, is put in place.
        q.breach = MaxCapacityBreach::Increase {
            buffer_percent: 10.0,
        };
        let mut p = Predictive::new(q);
        let log = drive(&mut p, 2);
        assert_eq!(at(&log, peak - 300).0, Decision::Desired(20));
        assert_eq!(p.group_max, 22);
    }

    #[test]
    fn forecast_is_the_mean_of_the_same_hour_of_the_day_or_of_the_week() {
        let mut p = Predictive::new(params());
        // Three days: hour 5 had 10, 20 and 30 requests/s: a mean of 20 gives 2 containers.
        p.hours.resize(72, HourLoad::default());
        for (day, load) in [(0, 10.0), (1, 20.0), (2, 30.0)] {
            p.hours[day * 24 + 5] = HourLoad {
                sum: load * 2.0,
                datapoints: 2,
            };
        }
        let f = p.make_forecast(SimTime::ZERO + secs(3 * DAY));
        assert_eq!(f.first_hour, 72);
        assert_eq!(f.capacity.len(), 48);
        assert_eq!(f.capacity[5], Some(2));
        assert_eq!(f.capacity[24 + 5], Some(2));
        // Hours without any datapoint in the history forecast nothing.
        assert_eq!(f.capacity[4], None);

        // Eight days: a whole week of history, so the same hour of the week: only day 1's
        // 95 requests/s counts for day 8 (10 containers), not the other days' 5.
        let mut p = Predictive::new(params());
        p.hours.resize(8 * 24, HourLoad::default());
        for day in 0..8 {
            p.hours[day * 24 + 5] = HourLoad {
                sum: if day == 1 { 95.0 } else { 5.0 },
                datapoints: 1,
            };
        }
        let f = p.make_forecast(SimTime::ZERO + secs(8 * DAY));
        assert_eq!(f.capacity[5], Some(10));
        assert_eq!(f.capacity[24 + 5], Some(1));
    }
}
