//! `threshold`: classic rule-based scaling, as AWS step scaling with CloudWatch alarms runs it.
//!
//! Rules reproduced (AWS Application Auto Scaling and CloudWatch documentation: "Step scaling
//! policies", "Scaling cooldowns", "Using Amazon CloudWatch alarms"):
//! - Every `period` (60 s) a datapoint is the average of `metric` over the period: utilization
//!   (busy slots over the slots of the ready containers), concurrency or requests per second
//!   per ready container; it reaches the alarm `metric_delay` later.
//! - Two alarms: high when the datapoint is greater than `upper`, low when it is less than
//!   `lower`, each going to ALARM after `evaluation_periods` breaching datapoints in a row. A
//!   period without a datapoint (no ready container) is INSUFFICIENT_DATA and breaks the run.
//! - An alarm with an Auto Scaling action invokes its policy at every evaluation while it stays
//!   in ALARM. The policy adds (high) or removes (low) `step`: a number of replicas
//!   (ChangeInCapacity) or a percentage of the current capacity (PercentChangeInCapacity),
//!   rounded as the AWS guide says (more than 1 rounds down, between 0 and 1 becomes 1), at
//!   least `min_adjustment_magnitude`, then clamped to the bounds.
//! - Cooldown (`cooldown`; Application Auto Scaling's default is 300 s): after a scale-out,
//!   another scale-out happens only if it asks for more than the current capacity, counting
//!   from the capacity before the scale-out that started the cooldown (so `+2` then `+3` adds
//!   1); after a scale-in, scale-in is blocked for the cooldown, and a scale-out goes ahead
//!   immediately and ends that cooldown.
//!
//! Modelling choices: one step per direction (no step intervals); a larger scale-out during a
//! scale-out cooldown does not restart it; the percent rounding is an option
//! (`percent_rounding`) because AWS's rule is documented for EC2 only. AWS has no default
//! thresholds or step: here 30 % and 80 % utilization and a 50 % step, with no cooldown (one
//! action per period, like EC2 step scaling, which has none), so that the classic rule carries
//! a step load within minutes. The policy never goes below one replica: its metrics are per
//! ready container, so with none it would have no datapoints to scale out again.
//!
//! Left out: several step intervals per alarm, M-out-of-N alarms, metric math, and the EC2
//! instance warm-up (which replaces the cooldown for EC2 step scaling).

use super::pipeline::{ClusterMetric, Pipeline, ScrapeSpec};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, Decision, Observation};
use crate::error::InputError;
use crate::scenario::source::{Dur, NonNegative};
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;
use toml::Spanned;

/// How much a step changes the capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// This many replicas.
    Change(u32),
    /// This percentage of the current capacity.
    Percent(f64),
}

/// How a percentage step becomes a whole number of replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PercentRounding {
    /// AWS's documented rule: magnitudes above 1 round down, between 0 and 1 become 1.
    Truncate,
    /// Round the magnitude up.
    Away,
    /// Round to the nearest whole number, at least 1.
    Nearest,
}

impl PercentRounding {
    pub const NAMES: &'static str = "\"truncate\", \"away\" or \"nearest\"";

    pub fn parse(name: &str) -> Option<PercentRounding> {
        Some(match name {
            "truncate" => PercentRounding::Truncate,
            "away" => PercentRounding::Away,
            "nearest" => PercentRounding::Nearest,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            PercentRounding::Truncate => "truncate",
            PercentRounding::Away => "away",
            PercentRounding::Nearest => "nearest",
        }
    }
}

/// Validated `threshold` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdParams {
    pub metric: ClusterMetric,
    pub upper: f64,
    pub lower: f64,
    pub evaluation_periods: u32,
    pub step: Step,
    /// 0 when not set.
    pub min_adjustment_magnitude: u32,
    pub percent_rounding: PercentRounding,
    pub cooldown: SimDuration,
    pub period: SimDuration,
    pub metric_delay: SimDuration,
}

pub const DEFAULT_UPPER_FRACTION: f64 = 0.8;
pub const DEFAULT_LOWER_FRACTION: f64 = 0.3;
pub const DEFAULT_EVALUATION_PERIODS: u32 = 1;
/// A classic rule-based autoscaler acts once per period; Application Auto Scaling's own
/// default is 300 s, EC2 step scaling has none.
pub const DEFAULT_COOLDOWN_S: u64 = 0;
/// AWS has no default step; half the capacity carries a step load within minutes and, being
/// symmetric, halves an idle cluster without undershooting a 0.3–0.8 band.
pub const DEFAULT_STEP: Step = Step::Percent(50.0);
pub const DEFAULT_PERIOD_S: u64 = 60;

/// A running scale-out cooldown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutCooldown {
    until: SimTime,
    /// Capacity before the scale-out that started it.
    base: u32,
}

pub struct Threshold {
    p: ThresholdParams,
    pipeline: Pipeline,
    high_run: u32,
    low_run: u32,
    out_cooldown: Option<OutCooldown>,
    in_cooldown_until: Option<SimTime>,
}

impl Threshold {
    pub fn new(p: ThresholdParams) -> Self {
        let pipeline = Pipeline::new(ScrapeSpec {
            resolution: p.period,
            window: p.period,
            delay: p.metric_delay,
            fresh_min: SimDuration::ZERO,
            // CloudWatch datapoints are on the period grid the policy evaluates on.
            phase: SimDuration::ZERO,
            scrape_starting: false,
        });
        Threshold {
            p,
            pipeline,
            high_run: 0,
            low_run: 0,
            out_cooldown: None,
            in_cooldown_until: None,
        }
    }

    /// The step's size in replicas from capacity `cap`.
    fn adjustment(&self, cap: u32) -> u32 {
        let n = match self.p.step {
            Step::Change(n) => n,
            Step::Percent(pct) => {
                percent_adjustment(f64::from(cap) * pct / 100.0, self.p.percent_rounding)
            }
        };
        n.max(self.p.min_adjustment_magnitude)
    }

    fn scale_out(&mut self, now: SimTime, cap: u32, max: u32) -> Decision {
        let cooling = self.out_cooldown.filter(|c| now < c.until);
        let base = cooling.map_or(cap, |c| c.base);
        let target = base.saturating_add(self.adjustment(base)).min(max);
        if target <= cap {
            return Decision::Keep;
        }
        if cooling.is_none() {
            self.out_cooldown = Some(OutCooldown {
                until: now + self.p.cooldown,
                base: cap,
            });
        }
        self.in_cooldown_until = None;
        Decision::Desired(target)
    }

    fn scale_in(&mut self, now: SimTime, cap: u32, min: u32) -> Decision {
        if self.in_cooldown_until.is_some_and(|t| now < t) {
            return Decision::Keep;
        }
        let target = cap.saturating_sub(self.adjustment(cap)).max(min);
        if target >= cap {
            return Decision::Keep;
        }
        self.in_cooldown_until = Some(now + self.p.cooldown);
        Decision::Desired(target)
    }
}

/// A percentage adjustment's magnitude in whole replicas.
pub fn percent_adjustment(raw: f64, rounding: PercentRounding) -> u32 {
    if raw <= 0.0 {
        return 0;
    }
    let n = match rounding {
        PercentRounding::Truncate => raw.floor().max(1.0),
        PercentRounding::Away => raw.ceil(),
        PercentRounding::Nearest => raw.round().max(1.0),
    };
    if n >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        n as u32
    }
}

impl Autoscaler for Threshold {
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
        match self.p.metric.value(scrape, obs.concurrency, |_| true) {
            None => {
                self.high_run = 0;
                self.low_run = 0;
                return Decision::Keep;
            }
            Some(v) => {
                self.high_run = if v > self.p.upper {
                    self.high_run + 1
                } else {
                    0
                };
                self.low_run = if v < self.p.lower {
                    self.low_run + 1
                } else {
                    0
                };
            }
        }
        let min = obs.min_replicas.max(1);
        let max = obs.max_replicas.max(min);
        let cap = obs.desired;
        if self.high_run >= self.p.evaluation_periods {
            self.scale_out(obs.now, cap, max)
        } else if self.low_run >= self.p.evaluation_periods {
            self.scale_in(obs.now, cap, min)
        } else {
            Decision::Keep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;

    fn params(step: Step, evaluation_periods: u32, cooldown_s: u64) -> ThresholdParams {
        ThresholdParams {
            metric: ClusterMetric::Utilization,
            upper: 0.8,
            lower: 0.3,
            evaluation_periods,
            step,
            min_adjustment_magnitude: 0,
            percent_rounding: PercentRounding::Truncate,
            cooldown: SimDuration::from_secs(cooldown_s),
            period: SimDuration::from_secs(60),
            metric_delay: SimDuration::ZERO,
        }
    }

    /// One 60 s period with every ready container `busy` slots busy; new containers are ready
    /// at once.
    fn period(t: &mut Threshold, c: &mut Cluster, busy: f64) -> Decision {
        let b: Vec<f64> = vec![busy; c.containers.len()];
        c.run(60.0, &b);
        let d = t.tick(&c.obs());
        c.apply(d);
        c.make_all_ready();
        d
    }

    #[test]
    fn needs_n_breaching_periods_in_a_row() {
        let mut c = Cluster::new(1, 4);
        let mut t = Threshold::new(params(Step::Change(1), 3, 0));
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.5), Decision::Keep); // run broken
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(5));
        // Still in ALARM: invoked again at the next period (no cooldown here).
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(6));
        // Exactly at the threshold is not a breach.
        let mut c = Cluster::new(1, 2);
        let mut t = Threshold::new(params(Step::Change(1), 1, 0));
        assert_eq!(period(&mut t, &mut c, 0.8), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.3), Decision::Keep);
    }

    #[test]
    fn scale_in_after_low_periods() {
        let mut c = Cluster::new(1, 4);
        let mut t = Threshold::new(params(Step::Change(2), 2, 0));
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Desired(2));
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Desired(1));
        // Never below one replica.
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Keep);
    }

    #[test]
    fn scale_out_cooldown_counts_capacity_already_added() {
        // +2 starts a 300 s cooldown from 10; a later +3 during it goes to 10 + 3 = 13, adding
        // 1; a +2 during it adds nothing.
        let mut c = Cluster::new(1, 10);
        let mut t = Threshold::new(params(Step::Change(2), 1, 300));
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(12));
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep); // 10 + 2 = 12: not larger
        t.p.step = Step::Change(3);
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(13));
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep);
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Keep); // t = 300: cooldown to 360
        // t = 360: the cooldown (60 + 300) is over: +3 from 13.
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(16));
    }

    #[test]
    fn scale_in_cooldown_blocks_scale_in_but_not_scale_out() {
        let mut c = Cluster::new(1, 10);
        let mut t = Threshold::new(params(Step::Change(1), 1, 300));
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Desired(9));
        for _ in 0..4 {
            assert_eq!(period(&mut t, &mut c, 0.1), Decision::Keep);
        }
        // t = 360: the cooldown from 60 s has ended.
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Desired(8));
        // A scale-out during the scale-in cooldown goes ahead and ends it.
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(9));
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Desired(8));
    }

    #[test]
    fn percent_steps_round_as_documented() {
        assert_eq!(percent_adjustment(12.7, PercentRounding::Truncate), 12);
        assert_eq!(percent_adjustment(0.4, PercentRounding::Truncate), 1);
        assert_eq!(percent_adjustment(1.0, PercentRounding::Truncate), 1);
        assert_eq!(percent_adjustment(12.2, PercentRounding::Away), 13);
        assert_eq!(percent_adjustment(12.5, PercentRounding::Nearest), 13);
        assert_eq!(percent_adjustment(0.2, PercentRounding::Nearest), 1);
        // 50 % of 5 is 2.5 → 2 out, 2 in.
        let mut c = Cluster::new(1, 5);
        let mut t = Threshold::new(params(Step::Percent(50.0), 1, 0));
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(7));
        // 50 % of 7 = 3.5 → 3, but at least `min_adjustment_magnitude` 4.
        t.p.min_adjustment_magnitude = 4;
        assert_eq!(period(&mut t, &mut c, 0.9), Decision::Desired(11));
        let mut c = Cluster::new(1, 5);
        let mut t = Threshold::new(params(Step::Percent(50.0), 1, 0));
        assert_eq!(period(&mut t, &mut c, 0.1), Decision::Desired(3));
    }

    #[test]
    fn concurrency_and_rps_metrics_and_missing_data() {
        let mut p = params(Step::Change(1), 1, 0);
        p.metric = ClusterMetric::Rps;
        p.upper = 10.0;
        p.lower = 2.0;
        let mut c = Cluster::new(1, 2);
        let mut t = Threshold::new(p);
        // 1500 arrivals in 60 s over 2 containers: 12.5 per second each.
        c.run_with_queue(60.0, &[0.5, 0.5], 0.0, 1500);
        assert_eq!(t.tick(&c.obs()), Decision::Desired(3));

        let mut p = params(Step::Change(1), 2, 0);
        p.metric = ClusterMetric::Concurrency;
        p.upper = 1.5;
        let mut c = Cluster::new(1, 2);
        let mut t = Threshold::new(p);
        // 2 busy + 2 queued = 4 in the system over 2 containers: 2 > 1.5.
        c.run_with_queue(60.0, &[1.0, 1.0], 2.0, 0);
        assert_eq!(t.tick(&c.obs()), Decision::Keep);
        // No ready container: no datapoint, the run is broken.
        c.min_replicas = 0;
        c.apply(Decision::Desired(0));
        c.run(60.0, &[]);
        assert_eq!(t.tick(&c.obs()), Decision::Keep);
        c.apply(Decision::Desired(2));
        c.make_all_ready();
        c.run_with_queue(60.0, &[1.0, 1.0], 2.0, 0);
        assert_eq!(t.tick(&c.obs()), Decision::Keep);
        c.run_with_queue(60.0, &[1.0, 1.0], 2.0, 0);
        assert_eq!(t.tick(&c.obs()), Decision::Desired(3));
    }

    #[test]
    fn delayed_datapoints_are_evaluated_once() {
        let mut p = params(Step::Change(1), 1, 0);
        p.metric_delay = SimDuration::from_secs(90);
        let mut c = Cluster::new(1, 2);
        let mut t = Threshold::new(p);
        c.run(60.0, &[0.9, 0.9]);
        assert_eq!(t.tick(&c.obs()), Decision::Keep); // scraped at 60, visible at 150
        c.run(60.0, &[0.1, 0.1]);
        assert_eq!(t.tick(&c.obs()), Decision::Keep);
        c.run(60.0, &[0.1, 0.1]);
        // t = 180: the datapoint of 60 s (high) arrives now.
        assert_eq!(t.tick(&c.obs()), Decision::Desired(3));
    }
}

/// A `threshold` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreshold {
    pub metric: Option<Spanned<String>>,
    pub upper: Option<Spanned<NonNegative>>,
    pub lower: Option<Spanned<NonNegative>>,
    pub evaluation_periods: Option<Spanned<u32>>,
    pub step: Option<Spanned<StepValue>>,
    pub min_adjustment_magnitude: Option<Spanned<u32>>,
    pub percent_rounding: Option<Spanned<String>>,
    pub cooldown: Option<Spanned<Dur>>,
    pub period: Option<Spanned<Dur>>,
    pub metric_delay: Option<Spanned<Dur>>,
}

impl PolicyType for ThresholdParams {
    const TYPE: &'static str = "threshold";
    type Raw = RawThreshold;

    fn validate(raw: &RawThreshold, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        use crate::autoscaler::threshold as th;
        let metric = k.metric(&raw.metric, ClusterMetric::Utilization)?;
        let upper = match &raw.upper {
            Some(u) => u.get_ref().0,
            None => {
                k.level_default(metric, "upper", th::DEFAULT_UPPER_FRACTION, ctx.concurrency)?
            }
        };
        let lower = match &raw.lower {
            Some(l) => l.get_ref().0,
            None => {
                k.level_default(metric, "lower", th::DEFAULT_LOWER_FRACTION, ctx.concurrency)?
            }
        };
        if metric == ClusterMetric::Utilization
            && let Some(u) = &raw.upper
            && upper >= 1.0
        {
            return Err(k.err(
                u.span(),
                "upper",
                format!(
                    "expected a utilization below 1 (it can never exceed 1), found {}",
                    crate::error::num(upper)
                ),
            ));
        }
        if lower >= upper {
            let span = raw
                .lower
                .as_ref()
                .or(raw.upper.as_ref())
                .map_or(k.type_span.clone(), |s| s.span());
            return Err(k.err(
                span,
                "lower",
                format!("expected `lower` ({lower}) below `upper` ({upper})"),
            ));
        }
        let step = raw
            .step
            .as_ref()
            .map_or(th::DEFAULT_STEP, |s| s.get_ref().0);
        let is_percent = matches!(step, Step::Percent(_));
        for (key, span) in [
            (
                "min_adjustment_magnitude",
                raw.min_adjustment_magnitude.as_ref().map(|v| v.span()),
            ),
            (
                "percent_rounding",
                raw.percent_rounding.as_ref().map(|v| v.span()),
            ),
        ] {
            if let Some(span) = span
                && !is_percent
            {
                return Err(k.err(
                    span,
                    key,
                    format!("`{key}` applies to a percentage `step` (such as step = \"50%\") only"),
                ));
            }
        }
        let percent_rounding = match &raw.percent_rounding {
            Some(r) => th::PercentRounding::parse(r.get_ref()).ok_or_else(|| {
                k.err(
                    r.span(),
                    "percent_rounding",
                    format!(
                        "unknown rounding {}: expected {}",
                        crate::error::quoted(r.get_ref()),
                        th::PercentRounding::NAMES
                    ),
                )
            })?,
            None => th::PercentRounding::Truncate,
        };
        Ok(ThresholdParams {
            metric,
            upper,
            lower,
            evaluation_periods: k.count(
                &raw.evaluation_periods,
                "evaluation_periods",
                th::DEFAULT_EVALUATION_PERIODS,
            )?,
            step,
            min_adjustment_magnitude: raw
                .min_adjustment_magnitude
                .as_ref()
                .map_or(0, |v| *v.get_ref()),
            percent_rounding,
            cooldown: k.duration(
                &raw.cooldown,
                SimDuration::from_secs(th::DEFAULT_COOLDOWN_S),
            ),
            period: k.period(
                &raw.period,
                "period",
                SimDuration::from_secs(th::DEFAULT_PERIOD_S),
            )?,
            metric_delay: k.duration(&raw.metric_delay, SimDuration::ZERO),
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let p = self;
        let step = match p.step {
            Step::Change(n) => n.to_string(),
            Step::Percent(x) => format!("{x}%"),
        };
        let mut v = vec![
            ("metric", p.metric.name().to_string()),
            ("upper", p.upper.to_string()),
            ("lower", p.lower.to_string()),
            ("evaluation_periods", p.evaluation_periods.to_string()),
            ("step", step),
        ];
        if let Step::Percent(_) = p.step {
            v.push((
                "min_adjustment_magnitude",
                p.min_adjustment_magnitude.to_string(),
            ));
            v.push(("percent_rounding", p.percent_rounding.name().to_string()));
        }
        v.extend([
            ("cooldown", secs(p.cooldown)),
            ("period", secs(p.period)),
            ("metric_delay", secs(p.metric_delay)),
        ]);
        v
    }

    fn build(&self, _ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        Ok(Box::new(Threshold::new(self.clone())))
    }
}

/// A `step` value: a number of replicas (`2`) or a percentage (`"50%"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepValue(pub Step);

impl<'de> Deserialize<'de> for StepValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str =
            "a step: a whole number of replicas (2) or a percentage of the capacity (\"50%\")";
        impl serde::de::Visitor<'_> for V {
            type Value = StepValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<StepValue, E> {
                match u32::try_from(v) {
                    Ok(n) if n > 0 => Ok(StepValue(Step::Change(n))),
                    _ => Err(E::custom(format!("expected {EXPECTED}, found {v}"))),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StepValue, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(-1))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StepValue, E> {
                let pct = v
                    .trim()
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<f64>().ok())
                    .filter(|p| p.is_finite() && *p > 0.0);
                match pct {
                    Some(p) => Ok(StepValue(Step::Percent(p))),
                    None => Err(E::custom(format!(
                        "expected {EXPECTED}, found {v}",
                        v = crate::error::quoted(v)
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}
