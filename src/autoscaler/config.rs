//! The `[[policy]]` tables of a scenario: raw keys, and their validation into [`PolicySpec`].
//!
//! Every key of every policy type is a field of [`RawPolicy`] (so a typo is an "unknown field"
//! error at its exact line); validation then checks that each key given applies to the
//! policy's type and is in range, and fills in the defaults of the system the policy
//! reproduces. Errors name the file, line, column and key (`policy.<key>`), and say what was
//! expected; after validation nothing is checked again.

use super::Autoscaler;
use super::dp::{self as dp_policy, Dp, DpParams};
use super::fixed::Static;
use super::hpa::{Hpa, HpaParams, RateKind, RatePolicy, ScalingRules, Select};
use super::kpa::{Kpa, KpaMetric, KpaParams};
use super::lcp::{LcpParams, LcpPolicy};
use super::metrics::{ClusterMetric, ScrapeSpec};
use super::oracle::{Oracle, OracleParams};
use super::target_tracking::{TargetTracking, TargetTrackingParams};
use super::threshold::{Step, Threshold, ThresholdParams};
use crate::error::InputError;
use crate::planner::calibrate::ModelKind;
use crate::planner::forecast::{self, ForecastMethod};
use crate::scenario::source::{Dur, NonNegative, Positive, Source};
use crate::time::SimDuration;
use serde::Deserialize;
use toml::Spanned;

/// One `[[policy]]` table as written: every key of every policy type (validation checks that
/// each key given applies to the table's type).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    // static
    pub replicas: Option<Spanned<u32>>,
    // control period (static, threshold, target_tracking)
    pub period: Option<Spanned<Dur>>,
    // what a policy scales on (threshold, kpa, target_tracking)
    pub metric: Option<Spanned<String>>,
    pub target: Option<Spanned<Positive>>,
    pub target_utilization: Option<Spanned<Positive>>,
    // metrics pipeline
    pub metric_resolution: Option<Spanned<Dur>>,
    pub metric_window: Option<Spanned<Dur>>,
    pub metric_delay: Option<Spanned<Dur>>,
    // threshold
    pub upper: Option<Spanned<NonNegative>>,
    pub lower: Option<Spanned<NonNegative>>,
    pub evaluation_periods: Option<Spanned<u32>>,
    pub step: Option<Spanned<StepValue>>,
    pub min_adjustment_magnitude: Option<Spanned<u32>>,
    pub percent_rounding: Option<Spanned<String>>,
    pub cooldown: Option<Spanned<Dur>>,
    // hpa
    pub sync_period: Option<Spanned<Dur>>,
    pub tolerance: Option<Spanned<NonNegative>>,
    pub stabilization_window: Option<Spanned<Dur>>,
    pub behavior: Option<Spanned<bool>>,
    pub scale_up_policies: Option<Spanned<RawRatePolicies>>,
    pub scale_up_select: Option<Spanned<String>>,
    pub scale_up_stabilization: Option<Spanned<Dur>>,
    pub scale_down_policies: Option<Spanned<RawRatePolicies>>,
    pub scale_down_select: Option<Spanned<String>>,
    // kpa
    pub stable_window: Option<Spanned<Dur>>,
    pub panic_window_percentage: Option<Spanned<Positive>>,
    pub panic_threshold: Option<Spanned<Positive>>,
    pub max_scale_up_rate: Option<Spanned<Positive>>,
    pub max_scale_down_rate: Option<Spanned<Positive>>,
    pub scale_to_zero_grace: Option<Spanned<Dur>>,
    pub tick: Option<Spanned<Dur>>,
    pub scale_down_delay: Option<Spanned<Dur>>,
    // target_tracking
    pub scale_out_cooldown: Option<Spanned<Dur>>,
    pub scale_in_cooldown: Option<Spanned<Dur>>,
    pub warmup: Option<Spanned<Dur>>,
    pub scale_out_datapoints: Option<Spanned<u32>>,
    pub scale_in_datapoints: Option<Spanned<u32>>,
    pub scale_in_threshold: Option<Spanned<Positive>>,
    pub disable_scale_in: Option<Spanned<bool>>,
    // dp
    pub horizon: Option<Spanned<Dur>>,
    pub forecaster: Option<Spanned<String>>,
    pub alpha: Option<Spanned<Positive>>,
    pub beta: Option<Spanned<NonNegative>>,
    pub gamma: Option<Spanned<NonNegative>>,
    pub season: Option<Spanned<Dur>>,
    pub margin: Option<Spanned<NonNegative>>,
    // dp, oracle, lcp
    pub model: Option<Spanned<String>>,
}

/// HPA behavior rate policies as written: `[["pods", 4, "15s"], ["percent", 100, "15s"]]`.
pub type RawRatePolicies = Vec<(String, u32, Dur)>;

/// Spans of the optional keys given in a table, by key name.
macro_rules! given_keys {
    ($raw:expr, $($field:ident),* $(,)?) => {
        vec![$( (stringify!($field), $raw.$field.as_ref().map(|v| v.span())) ),*]
    };
}

impl RawPolicy {
    /// Every optional key given, with its span.
    fn given(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let all: Vec<(&'static str, Option<std::ops::Range<usize>>)> = given_keys!(
            self,
            replicas,
            period,
            metric,
            target,
            target_utilization,
            metric_resolution,
            metric_window,
            metric_delay,
            upper,
            lower,
            evaluation_periods,
            step,
            min_adjustment_magnitude,
            percent_rounding,
            cooldown,
            sync_period,
            tolerance,
            stabilization_window,
            behavior,
            scale_up_policies,
            scale_up_select,
            scale_up_stabilization,
            scale_down_policies,
            scale_down_select,
            stable_window,
            panic_window_percentage,
            panic_threshold,
            max_scale_up_rate,
            max_scale_down_rate,
            scale_to_zero_grace,
            tick,
            scale_down_delay,
            scale_out_cooldown,
            scale_in_cooldown,
            warmup,
            scale_out_datapoints,
            scale_in_datapoints,
            scale_in_threshold,
            disable_scale_in,
            horizon,
            forecaster,
            alpha,
            beta,
            gamma,
            season,
            margin,
            model,
        );
        all.into_iter()
            .filter_map(|(k, span)| span.map(|s| (k, s)))
            .collect()
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
                    None => Err(E::custom(format!("expected {EXPECTED}, found \"{v}\""))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// What a policy's validation may read of the rest of the scenario.
#[derive(Clone, Debug)]
pub struct PolicyContext {
    /// `cluster.concurrency`.
    pub concurrency: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// The scenario's `interval`.
    pub interval: SimDuration,
}

impl PolicyContext {
    /// The context of `scenario`'s policies.
    pub fn of(scenario: &crate::scenario::Scenario) -> Self {
        PolicyContext {
            concurrency: scenario.cluster.concurrency,
            min_replicas: scenario.cluster.min_replicas,
            max_replicas: scenario.cluster.max_replicas,
            interval: scenario.interval,
        }
    }
}

/// The policy types this build knows, for error messages.
pub const POLICY_TYPES: &str = "\"static\", \"threshold\", \"hpa\", \"kpa\", \"target_tracking\", \"dp\", \"oracle\" or \"lcp\"";

/// The optional keys each policy type takes (besides `name` and `type`).
fn policy_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "static" => &["replicas", "period"],
        "threshold" => &[
            "metric",
            "upper",
            "lower",
            "evaluation_periods",
            "step",
            "min_adjustment_magnitude",
            "percent_rounding",
            "cooldown",
            "period",
            "metric_delay",
        ],
        "hpa" => &[
            "target_utilization",
            "sync_period",
            "tolerance",
            "stabilization_window",
            "metric_resolution",
            "metric_window",
            "metric_delay",
            "behavior",
            "scale_up_policies",
            "scale_up_select",
            "scale_up_stabilization",
            "scale_down_policies",
            "scale_down_select",
        ],
        "kpa" => &[
            "metric",
            "target",
            "target_utilization",
            "stable_window",
            "panic_window_percentage",
            "panic_threshold",
            "max_scale_up_rate",
            "max_scale_down_rate",
            "scale_to_zero_grace",
            "tick",
            "scale_down_delay",
            "metric_resolution",
            "metric_delay",
        ],
        "target_tracking" => &[
            "metric",
            "target",
            "scale_out_cooldown",
            "scale_in_cooldown",
            "warmup",
            "period",
            "scale_out_datapoints",
            "scale_in_datapoints",
            "scale_in_threshold",
            "disable_scale_in",
            "metric_delay",
        ],
        "dp" => &[
            "horizon",
            "forecaster",
            "alpha",
            "beta",
            "gamma",
            "season",
            "margin",
            "model",
        ],
        "oracle" | "lcp" => &["model"],
        _ => return None,
    })
}

/// A validated policy: its type and parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicySpec {
    Static { replicas: u32, period: SimDuration },
    Threshold(ThresholdParams),
    Hpa(HpaParams),
    Kpa(KpaParams),
    TargetTracking(TargetTrackingParams),
    Dp(DpParams),
    Oracle(OracleParams),
    Lcp(LcpParams),
}

fn secs(d: SimDuration) -> String {
    format!("{}s", d.as_secs_f64())
}

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

impl PolicySpec {
    /// The policy type's name, as written in scenarios.
    pub fn type_name(&self) -> &'static str {
        match self {
            PolicySpec::Static { .. } => "static",
            PolicySpec::Threshold(_) => "threshold",
            PolicySpec::Hpa(_) => "hpa",
            PolicySpec::Kpa(_) => "kpa",
            PolicySpec::TargetTracking(_) => "target_tracking",
            PolicySpec::Dp(_) => "dp",
            PolicySpec::Oracle(_) => "oracle",
            PolicySpec::Lcp(_) => "lcp",
        }
    }

    /// The replicas a run of this policy starts with when `cluster.initial_replicas` is not
    /// given (the simulation clamps it to the scenario's bounds): `static` its count, `kpa`
    /// Knative's initial scale of 1, the others the minimum (at least 1).
    pub fn default_initial_replicas(&self, ctx: &PolicyContext) -> u32 {
        match self {
            PolicySpec::Static { replicas, .. } => *replicas,
            PolicySpec::Kpa(_) => 1,
            PolicySpec::Threshold(_)
            | PolicySpec::Hpa(_)
            | PolicySpec::TargetTracking(_)
            | PolicySpec::Dp(_)
            | PolicySpec::Oracle(_)
            | PolicySpec::Lcp(_) => ctx.min_replicas.max(1),
        }
    }

    /// The policy's parameters as (key, value) pairs, for reports.
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        match self {
            PolicySpec::Static { replicas, period } => vec![
                ("replicas", replicas.to_string()),
                ("period", secs(*period)),
            ],
            PolicySpec::Threshold(p) => {
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
            PolicySpec::Hpa(p) => {
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
            PolicySpec::Kpa(p) => vec![
                ("metric", p.metric.name().to_string()),
                ("target", p.target.to_string()),
                ("stable_window", secs(p.stable_window)),
                ("panic_window", secs(p.panic_window)),
                ("panic_threshold", p.panic_threshold.to_string()),
                ("max_scale_up_rate", p.max_scale_up_rate.to_string()),
                ("max_scale_down_rate", p.max_scale_down_rate.to_string()),
                ("scale_to_zero_grace", secs(p.scale_to_zero_grace)),
                ("tick", secs(p.tick)),
                ("scale_down_delay", secs(p.scale_down_delay)),
                ("metric_resolution", secs(p.metric_resolution)),
                ("metric_delay", secs(p.metric_delay)),
            ],
            PolicySpec::TargetTracking(p) => vec![
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
            ],
            PolicySpec::Dp(p) => {
                let mut v = vec![
                    ("horizon", secs(p.horizon)),
                    ("forecaster", p.forecaster.name().to_string()),
                ];
                match p.forecaster {
                    ForecastMethod::Last => {}
                    ForecastMethod::Ewma { alpha } => v.push(("alpha", alpha.to_string())),
                    ForecastMethod::SeasonalNaive { period } => {
                        v.push(("season_intervals", period.to_string()))
                    }
                    ForecastMethod::HoltWinters {
                        alpha,
                        beta,
                        gamma,
                        period,
                    } => v.extend([
                        ("alpha", alpha.to_string()),
                        ("beta", beta.to_string()),
                        ("gamma", gamma.to_string()),
                        ("season_intervals", period.to_string()),
                    ]),
                }
                v.extend([
                    ("margin", p.margin.to_string()),
                    ("model", p.model.name().to_string()),
                ]);
                v
            }
            PolicySpec::Oracle(p) => vec![
                (
                    "sees_the_future",
                    "yes: plans on this run's true arrivals (a lower bound, not deployable)"
                        .to_string(),
                ),
                ("model", p.model.name().to_string()),
            ],
            PolicySpec::Lcp(p) => vec![("model", p.model.name().to_string())],
        }
    }

    /// A fresh instance of the policy for one run.
    /// A fresh instance of the policy for one run of `ctx.scenario` in replication
    /// `ctx.replication`. Reactive policies ignore the context; planners read the scenario
    /// (and the oracle, labelled as such, the replication's true arrivals).
    pub fn build(
        &self,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        let initial = || self.default_initial_replicas(&PolicyContext::of(ctx.scenario));
        Ok(match self {
            PolicySpec::Static { replicas, period } => Box::new(Static::new(*replicas, *period)),
            PolicySpec::Threshold(p) => Box::new(Threshold::new(p.clone())),
            PolicySpec::Hpa(p) => Box::new(Hpa::new(p.clone())),
            PolicySpec::Kpa(p) => Box::new(Kpa::new(p.clone())),
            PolicySpec::TargetTracking(p) => Box::new(TargetTracking::new(p.clone())),
            PolicySpec::Dp(p) => Box::new(Dp::new(p, ctx.scenario)?),
            PolicySpec::Oracle(p) => {
                Box::new(Oracle::new(p, ctx.scenario, ctx.replication, initial())?)
            }
            PolicySpec::Lcp(p) => Box::new(LcpPolicy::new(p, ctx.scenario, initial())?),
        })
    }
}

/// What a policy may read when it is built for one run.
#[derive(Clone, Copy, Debug)]
pub struct BuildContext<'a> {
    pub scenario: &'a crate::scenario::Scenario,
    pub replication: u32,
}

/// Reads a policy's keys: spans for error messages and the checks every type shares.
struct Keys<'a, 'b> {
    src: &'a Source<'b>,
    raw: &'a RawPolicy,
}

impl Keys<'_, '_> {
    fn err(&self, span: std::ops::Range<usize>, key: &str, msg: impl Into<String>) -> InputError {
        self.src.error(span, &format!("policy.{key}"), msg)
    }

    /// An error about the table as a whole, at its `type`.
    fn err_type(&self, key: &str, msg: impl Into<String>) -> InputError {
        self.err(self.raw.kind.span(), key, msg)
    }

    fn duration(&self, v: &Option<Spanned<Dur>>, default: SimDuration) -> SimDuration {
        v.as_ref().map_or(default, |d| d.get_ref().0)
    }

    fn positive(
        &self,
        v: &Option<Spanned<Dur>>,
        key: &str,
        default: SimDuration,
    ) -> Result<SimDuration, InputError> {
        Ok(positive_duration(self.src, v, &format!("policy.{key}"))?.unwrap_or(default))
    }

    /// A duration from `lo` to `hi` (inclusive).
    fn bounded(
        &self,
        v: &Option<Spanned<Dur>>,
        key: &str,
        default: SimDuration,
        lo: SimDuration,
        hi: SimDuration,
    ) -> Result<SimDuration, InputError> {
        match v {
            Some(d) if d.get_ref().0 < lo || d.get_ref().0 > hi => Err(self.err(
                d.span(),
                key,
                format!(
                    "expected a duration from {} to {}, found {}",
                    secs(lo),
                    secs(hi),
                    secs(d.get_ref().0)
                ),
            )),
            Some(d) => Ok(d.get_ref().0),
            None => Ok(default),
        }
    }

    fn number<T: Number>(
        &self,
        v: &Option<Spanned<T>>,
        key: &str,
        default: f64,
        ok: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<f64, InputError> {
        match v {
            Some(x) => {
                let val = x.get_ref().get();
                if ok(val) {
                    Ok(val)
                } else {
                    Err(self.err(x.span(), key, format!("expected {expected}, found {val}")))
                }
            }
            None => Ok(default),
        }
    }

    fn count(&self, v: &Option<Spanned<u32>>, key: &str, default: u32) -> Result<u32, InputError> {
        match v {
            Some(x) if *x.get_ref() == 0 => Err(self.err(
                x.span(),
                key,
                "expected a whole number of at least 1, found 0",
            )),
            Some(x) => Ok(*x.get_ref()),
            None => Ok(default),
        }
    }

    fn metric(&self, default: ClusterMetric) -> Result<ClusterMetric, InputError> {
        match &self.raw.metric {
            Some(m) => ClusterMetric::parse(m.get_ref()).ok_or_else(|| {
                self.err(
                    m.span(),
                    "metric",
                    format!(
                        "unknown metric \"{}\": expected {}",
                        m.get_ref(),
                        ClusterMetric::NAMES
                    ),
                )
            }),
            None => Ok(default),
        }
    }

    /// `model` (the planners' violation model), calibrated by default.
    fn model(&self) -> Result<ModelKind, InputError> {
        match &self.raw.model {
            Some(m) => ModelKind::parse(m.get_ref()).ok_or_else(|| {
                self.err(
                    m.span(),
                    "model",
                    format!(
                        "unknown model \"{}\": expected {}",
                        m.get_ref(),
                        ModelKind::NAMES
                    ),
                )
            }),
            None => Ok(ModelKind::Calibrated),
        }
    }

    /// `metric_delay`, 0 by default.
    fn delay(&self) -> SimDuration {
        self.duration(&self.raw.metric_delay, SimDuration::ZERO)
    }
}

/// A checked number read from a scenario.
trait Number: Copy {
    fn get(self) -> f64;
}

impl Number for Positive {
    fn get(self) -> f64 {
        self.0
    }
}

impl Number for NonNegative {
    fn get(self) -> f64 {
        self.0
    }
}

/// Validates one policy table.
pub fn validate(
    src: &Source,
    raw: &RawPolicy,
    ctx: &PolicyContext,
) -> Result<PolicySpec, InputError> {
    let kind = raw.kind.get_ref().as_str();
    let Some(allowed) = policy_keys(kind) else {
        return Err(src.error(
            raw.kind.span(),
            "policy.type",
            format!("unknown policy type \"{kind}\": expected one of {POLICY_TYPES}"),
        ));
    };
    for (key, span) in raw.given() {
        if !allowed.contains(&key) {
            return Err(src.error(
                span,
                &format!("policy.{key}"),
                format!(
                    "`{key}` does not apply to policy \"{}\" of type \"{kind}\", which takes: {}",
                    raw.name.get_ref(),
                    allowed.join(", ")
                ),
            ));
        }
    }
    let k = Keys { src, raw };
    match kind {
        "static" => validate_static(&k, ctx),
        "threshold" => validate_threshold(&k, ctx).map(PolicySpec::Threshold),
        "hpa" => validate_hpa(&k).map(PolicySpec::Hpa),
        "kpa" => validate_kpa(&k, ctx).map(PolicySpec::Kpa),
        "target_tracking" => validate_target_tracking(&k, ctx).map(PolicySpec::TargetTracking),
        "dp" => validate_dp(&k, ctx).map(PolicySpec::Dp),
        "oracle" => Ok(PolicySpec::Oracle(OracleParams { model: k.model()? })),
        "lcp" => Ok(PolicySpec::Lcp(LcpParams { model: k.model()? })),
        _ => unreachable!("policy types are checked above"),
    }
}

fn validate_static(k: &Keys, ctx: &PolicyContext) -> Result<PolicySpec, InputError> {
    let replicas = match &k.raw.replicas {
        Some(r) => {
            let v = *r.get_ref();
            if v > ctx.max_replicas || v < ctx.min_replicas {
                return Err(k.err(
                    r.span(),
                    "replicas",
                    format!(
                        "expected a replica count from cluster.min_replicas ({}) to cluster.max_replicas ({}), found {v}",
                        ctx.min_replicas, ctx.max_replicas
                    ),
                ));
            }
            v
        }
        None => {
            return Err(k.err_type(
                "replicas",
                format!(
                    "policy \"{}\" of type \"static\" needs `replicas`",
                    k.raw.name.get_ref()
                ),
            ));
        }
    };
    let period = k.positive(&k.raw.period, "period", ctx.interval)?;
    Ok(PolicySpec::Static { replicas, period })
}

/// The default of a per-container metric level: a fraction of the slots for utilization and
/// concurrency; rps has none (it depends on the service time), so the key is required.
fn level_default(
    k: &Keys,
    metric: ClusterMetric,
    key: &str,
    fraction: f64,
    ctx: &PolicyContext,
) -> Result<f64, InputError> {
    match metric {
        ClusterMetric::Utilization => Ok(fraction),
        ClusterMetric::Concurrency => Ok(fraction * f64::from(ctx.concurrency)),
        ClusterMetric::Rps => Err(k.err_type(
            key,
            format!(
                "policy \"{}\" with metric = \"rps\" needs `{key}` (requests per second per container)",
                k.raw.name.get_ref()
            ),
        )),
    }
}

fn validate_threshold(k: &Keys, ctx: &PolicyContext) -> Result<ThresholdParams, InputError> {
    use crate::autoscaler::threshold as th;
    let raw = k.raw;
    let metric = k.metric(ClusterMetric::Utilization)?;
    let upper = match &raw.upper {
        Some(u) => u.get_ref().0,
        None => level_default(k, metric, "upper", th::DEFAULT_UPPER_FRACTION, ctx)?,
    };
    let lower = match &raw.lower {
        Some(l) => l.get_ref().0,
        None => level_default(k, metric, "lower", th::DEFAULT_LOWER_FRACTION, ctx)?,
    };
    if metric == ClusterMetric::Utilization
        && let Some(u) = &raw.upper
        && upper >= 1.0
    {
        return Err(k.err(
            u.span(),
            "upper",
            format!("expected a utilization below 1 (it can never exceed 1), found {upper}"),
        ));
    }
    if lower >= upper {
        let span = raw
            .lower
            .as_ref()
            .or(raw.upper.as_ref())
            .map_or(raw.kind.span(), |s| s.span());
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
                    "unknown rounding \"{}\": expected {}",
                    r.get_ref(),
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
        period: k.positive(
            &raw.period,
            "period",
            SimDuration::from_secs(th::DEFAULT_PERIOD_S),
        )?,
        metric_delay: k.delay(),
    })
}

/// One direction's `scale_*_policies`.
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
                            "unknown policy kind \"{other}\": expected \"pods\" or \"percent\" (as in [\"pods\", 4, \"15s\"])"
                        ),
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
                    "unknown select policy \"{other}\": expected \"max\", \"min\" or \"disabled\""
                ),
            )),
        },
    }
}

fn validate_hpa(k: &Keys) -> Result<HpaParams, InputError> {
    use crate::autoscaler::hpa as h;
    let raw = k.raw;
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
                "Kubernetes takes a whole percentage: expected a value such as 0.7 or 0.85, found {target}"
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
    let sync_period = k.positive(
        &raw.sync_period,
        "sync_period",
        SimDuration::from_secs(h::DEFAULT_SYNC_PERIOD_S),
    )?;
    let stabilization_window = k.duration(
        &raw.stabilization_window,
        SimDuration::from_secs(h::DEFAULT_STABILIZATION_S),
    );
    let resolution = k.positive(
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
            .map_or(raw.kind.span(), |s| s.span());
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
            delay: k.delay(),
            fresh_min: SimDuration::from_secs(h::FRESH_CONTAINER_MIN_S),
        },
    })
}

fn validate_kpa(k: &Keys, ctx: &PolicyContext) -> Result<KpaParams, InputError> {
    use crate::autoscaler::kpa as kp;
    let raw = k.raw;
    let metric = match &raw.metric {
        None => KpaMetric::Concurrency,
        Some(m) => match m.get_ref().as_str() {
            "concurrency" => KpaMetric::Concurrency,
            "rps" => KpaMetric::Rps,
            other => {
                return Err(k.err(
                    m.span(),
                    "metric",
                    format!("unknown metric \"{other}\": expected \"concurrency\" or \"rps\""),
                ));
            }
        },
    };
    if let (Some(_), Some(u)) = (&raw.target, &raw.target_utilization) {
        return Err(k.err(
            u.span(),
            "target_utilization",
            "give `target` (the per-container value the autoscaler aims at) or `target_utilization` (a fraction of cluster.concurrency, or of 200 requests per second), not both",
        ));
    }
    let utilization = k.number(
        &raw.target_utilization,
        "target_utilization",
        kp::DEFAULT_TARGET_UTILIZATION,
        |v| (0.01..=1.0).contains(&v),
        "a utilization from 0.01 to 1",
    )?;
    let total = match metric {
        KpaMetric::Concurrency => f64::from(ctx.concurrency),
        KpaMetric::Rps => kp::DEFAULT_RPS_TOTAL,
    };
    let target = k.number(
        &raw.target,
        "target",
        (total * utilization).max(kp::TARGET_MIN),
        |v| v >= kp::TARGET_MIN,
        "a target of at least 0.01",
    )?;
    let resolution = k.positive(
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
            .map_or(raw.kind.span(), |s| s.span());
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
        stable_window,
        panic_window: KpaParams::panic_window_for(stable_window, percentage, resolution),
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
        tick: k.positive(
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
        metric_delay: k.delay(),
    })
}

fn validate_target_tracking(
    k: &Keys,
    ctx: &PolicyContext,
) -> Result<TargetTrackingParams, InputError> {
    use crate::autoscaler::target_tracking as tt;
    let raw = k.raw;
    let metric = k.metric(ClusterMetric::Utilization)?;
    let target = match &raw.target {
        Some(t) => {
            let v = t.get_ref().0;
            if metric == ClusterMetric::Utilization && v > 1.0 {
                return Err(k.err(
                    t.span(),
                    "target",
                    format!("expected a utilization above 0 and at most 1, found {v}"),
                ));
            }
            v
        }
        None => level_default(k, metric, "target", tt::DEFAULT_TARGET_FRACTION, ctx)?,
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
        period: k.positive(
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
        metric_delay: k.delay(),
    })
}

/// The forecasters `dp` takes, for error messages.
const FORECASTERS: &str = "\"last\", \"ewma\", \"seasonal_naive\" or \"holt_winters\"";

fn validate_dp(k: &Keys, ctx: &PolicyContext) -> Result<DpParams, InputError> {
    let raw = k.raw;
    let horizon = k.positive(
        &raw.horizon,
        "horizon",
        SimDuration::from_secs(dp_policy::DEFAULT_HORIZON_S),
    )?;
    let name = raw
        .forecaster
        .as_ref()
        .map_or(dp_policy::DEFAULT_FORECASTER, |f| f.get_ref().as_str());
    let (uses_alpha, uses_hw, uses_season) = match name {
        "last" => (false, false, false),
        "ewma" => (true, false, false),
        "seasonal_naive" => (false, false, true),
        "holt_winters" => (true, true, true),
        other => {
            let span = raw
                .forecaster
                .as_ref()
                .map_or(raw.kind.span(), |f| f.span());
            return Err(k.err(
                span,
                "forecaster",
                format!("unknown forecaster \"{other}\": expected {FORECASTERS}"),
            ));
        }
    };
    for (key, span, applies, which) in [
        (
            "alpha",
            raw.alpha.as_ref().map(|v| v.span()),
            uses_alpha,
            "\"ewma\" and \"holt_winters\"",
        ),
        (
            "beta",
            raw.beta.as_ref().map(|v| v.span()),
            uses_hw,
            "\"holt_winters\"",
        ),
        (
            "gamma",
            raw.gamma.as_ref().map(|v| v.span()),
            uses_hw,
            "\"holt_winters\"",
        ),
        (
            "season",
            raw.season.as_ref().map(|v| v.span()),
            uses_season,
            "\"seasonal_naive\" and \"holt_winters\"",
        ),
    ] {
        if let Some(span) = span
            && !applies
        {
            return Err(k.err(
                span,
                key,
                format!("`{key}` applies to forecaster = {which} only, not \"{name}\""),
            ));
        }
    }
    let unit = |v: &Option<Spanned<NonNegative>>, key: &str, default: f64| {
        k.number(v, key, default, |x| x <= 1.0, "a number from 0 to 1")
    };
    let hw_alpha = if name == "ewma" {
        forecast::DEFAULT_EWMA_ALPHA
    } else {
        forecast::DEFAULT_HW_ALPHA
    };
    let alpha = k.number(
        &raw.alpha,
        "alpha",
        hw_alpha,
        |x| x <= 1.0,
        "a smoothing weight above 0 and at most 1",
    )?;
    let period = if uses_season {
        let step = ctx.interval.0.max(1);
        match &raw.season {
            Some(s) => {
                let season = s.get_ref().0;
                if season.0 < step || !season.0.is_multiple_of(step) {
                    return Err(k.err(
                        s.span(),
                        "season",
                        format!(
                            "expected a whole number of planning intervals (interval = {}), found {}",
                            secs(ctx.interval),
                            secs(season)
                        ),
                    ));
                }
                (season.0 / step) as usize
            }
            None => {
                let default = dp_policy::DEFAULT_SEASON_S * crate::time::NANOS_PER_SEC;
                ((default as f64 / step as f64).round() as usize).max(1)
            }
        }
    } else {
        0
    };
    let forecaster = match name {
        "last" => ForecastMethod::Last,
        "ewma" => ForecastMethod::Ewma { alpha },
        "seasonal_naive" => ForecastMethod::SeasonalNaive { period },
        _ => ForecastMethod::HoltWinters {
            alpha,
            beta: unit(&raw.beta, "beta", forecast::DEFAULT_HW_BETA)?,
            gamma: unit(&raw.gamma, "gamma", forecast::DEFAULT_HW_GAMMA)?,
            period,
        },
    };
    let margin = k.number(
        &raw.margin,
        "margin",
        dp_policy::DEFAULT_MARGIN,
        |x| x <= 10.0,
        "a number of forecast-error standard deviations from 0 to 10",
    )?;
    Ok(DpParams {
        horizon,
        forecaster,
        margin,
        model: k.model()?,
    })
}

/// A duration key that must be greater than zero when given.
pub fn positive_duration(
    src: &Source,
    value: &Option<Spanned<Dur>>,
    key: &str,
) -> Result<Option<SimDuration>, InputError> {
    match value {
        Some(v) if v.get_ref().0.is_zero() => Err(src.error(
            v.span(),
            key,
            "expected a duration greater than zero, found 0",
        )),
        Some(v) => Ok(Some(v.get_ref().0)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::hpa::Behavior;
    use crate::autoscaler::threshold::PercentRounding;
    use std::path::Path;

    const HEAD: &str = "name = \"t\"\nduration = \"1h\"\n[workload]\ntype = \"poisson\"\nrate = 10.0\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[cluster]\nconcurrency = 4\n";

    fn parse(policy: &str) -> Result<PolicySpec, InputError> {
        let text = format!("{HEAD}[[policy]]\nname = \"p\"\n{policy}\n");
        crate::scenario::parse(Path::new("s.toml"), &text).map(|s| s.policies[0].spec.clone())
    }

    fn err(policy: &str) -> InputError {
        parse(policy).expect_err("the policy is invalid")
    }

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    #[test]
    fn hpa_defaults_are_kubernetes_defaults() {
        let PolicySpec::Hpa(p) = parse("type = \"hpa\"").unwrap() else {
            panic!("an hpa")
        };
        assert_eq!(p.target_percent, 70);
        assert_eq!(p.sync_period, secs(15));
        assert_eq!(p.tolerance, 0.1);
        assert_eq!(p.stabilization_window, secs(300));
        assert_eq!(p.behavior, None);
        assert_eq!(
            p.scrape,
            ScrapeSpec {
                resolution: secs(15),
                window: secs(15),
                delay: SimDuration::ZERO,
                fresh_min: secs(10)
            }
        );
    }

    #[test]
    fn hpa_behavior_keys_fill_in_the_defaults() {
        let PolicySpec::Hpa(p) = parse("type = \"hpa\"\nbehavior = true").unwrap() else {
            panic!("an hpa")
        };
        assert_eq!(
            p.behavior,
            Some(Behavior {
                scale_up: Behavior::default_scale_up(),
                scale_down: Behavior::default_scale_down(secs(300)),
            })
        );
        let PolicySpec::Hpa(p) = parse(
            "type = \"hpa\"\nstabilization_window = \"1m\"\nscale_up_policies = [[\"pods\", 2, \"1m\"]]\nscale_down_select = \"disabled\"",
        )
        .unwrap() else {
            panic!("an hpa")
        };
        let b = p.behavior.unwrap();
        assert_eq!(
            b.scale_up.policies,
            vec![RatePolicy {
                kind: RateKind::Pods,
                value: 2,
                period: secs(60)
            }]
        );
        assert_eq!(b.scale_down.select, Select::Disabled);
        assert_eq!(b.scale_down.stabilization, secs(60));
    }

    #[test]
    fn kpa_defaults_are_knative_defaults() {
        let PolicySpec::Kpa(p) = parse("type = \"kpa\"").unwrap() else {
            panic!("a kpa")
        };
        assert!((p.target - 2.8).abs() < 1e-12); // 70 % of cluster.concurrency = 4
        assert_eq!(p.stable_window, secs(60));
        assert_eq!(p.panic_window, secs(6));
        assert_eq!(p.panic_threshold, 2.0);
        assert_eq!(p.max_scale_up_rate, 1000.0);
        assert_eq!(p.max_scale_down_rate, 2.0);
        assert_eq!(p.scale_to_zero_grace, secs(30));
        assert_eq!(p.tick, secs(2));
        assert_eq!(p.metric_resolution, secs(1));
        let PolicySpec::Kpa(p) = parse("type = \"kpa\"\nmetric = \"rps\"").unwrap() else {
            panic!("a kpa")
        };
        assert!((p.target - 140.0).abs() < 1e-12);
        let PolicySpec::Kpa(p) = parse("type = \"kpa\"\ntarget = 10").unwrap() else {
            panic!("a kpa")
        };
        assert_eq!(p.target, 10.0);
    }

    #[test]
    fn threshold_and_target_tracking_defaults() {
        let PolicySpec::Threshold(p) = parse("type = \"threshold\"").unwrap() else {
            panic!("a threshold")
        };
        assert_eq!(p.metric, ClusterMetric::Utilization);
        assert_eq!((p.upper, p.lower), (0.8, 0.3));
        assert_eq!(p.step, Step::Percent(50.0));
        assert_eq!(p.percent_rounding, PercentRounding::Truncate);
        assert_eq!(p.evaluation_periods, 1);
        assert_eq!(p.cooldown, SimDuration::ZERO);
        assert_eq!(p.period, secs(60));
        let PolicySpec::Threshold(p) =
            parse("type = \"threshold\"\nmetric = \"concurrency\"\nstep = \"25%\"\npercent_rounding = \"away\"")
                .unwrap()
        else {
            panic!("a threshold")
        };
        assert!((p.upper - 3.2).abs() < 1e-12);
        assert_eq!(p.step, Step::Percent(25.0));
        assert_eq!(p.percent_rounding, PercentRounding::Away);
        let PolicySpec::TargetTracking(p) = parse("type = \"target_tracking\"").unwrap() else {
            panic!("a target tracking")
        };
        assert_eq!(p.target, 0.7);
        assert_eq!(
            (p.scale_out_cooldown, p.scale_in_cooldown),
            (secs(300), secs(300))
        );
        assert_eq!(p.warmup, SimDuration::ZERO);
        assert_eq!((p.scale_out_datapoints, p.scale_in_datapoints), (3, 15));
    }

    #[test]
    fn keys_of_another_type_are_errors_at_their_line() {
        let e = err("type = \"hpa\"\ntick = \"2s\"");
        assert_eq!(e.line, Some(14));
        assert_eq!(e.key.as_deref(), Some("policy[1].tick"));
        assert!(
            e.message
                .contains("does not apply to policy \"p\" of type \"hpa\""),
            "{e}"
        );
        assert!(e.message.contains("sync_period"), "{e}");
        // A typo is an unknown field.
        let e = err("type = \"kpa\"\nstable_windw = \"30s\"");
        assert_eq!(e.line, Some(14));
        assert!(e.message.contains("stable_windw"), "{e}");
        let e = err("type = \"autoscaler\"");
        assert!(e.message.contains("\"target_tracking\""), "{e}");
    }

    #[test]
    fn out_of_range_values_say_what_was_expected() {
        let cases: [(&str, &str, &str); 17] = [
            (
                "type = \"hpa\"\ntarget_utilization = 0.705",
                "policy.target_utilization",
                "whole percentage",
            ),
            (
                "type = \"hpa\"\ntarget_utilization = 1.5",
                "policy.target_utilization",
                "at most 1",
            ),
            (
                "type = \"hpa\"\ntolerance = 1.0",
                "policy.tolerance",
                "below 1",
            ),
            (
                "type = \"hpa\"\nmetric_window = \"20s\"",
                "policy.metric_window",
                "multiple of metric_resolution",
            ),
            (
                "type = \"hpa\"\nbehavior = false\nscale_up_select = \"min\"",
                "policy.behavior",
                "contradicts",
            ),
            (
                "type = \"hpa\"\nscale_up_policies = [[\"nodes\", 4, \"15s\"]]",
                "policy.scale_up_policies",
                "\"pods\" or \"percent\"",
            ),
            (
                "type = \"hpa\"\nscale_down_policies = [[\"pods\", 4, \"1h\"]]",
                "policy.scale_down_policies",
                "30 minutes",
            ),
            (
                "type = \"threshold\"\nmetric = \"rps\"",
                "policy.upper",
                "needs `upper`",
            ),
            (
                "type = \"threshold\"\nlower = 0.9",
                "policy.lower",
                "below `upper`",
            ),
            (
                "type = \"threshold\"\nstep = 2\nmin_adjustment_magnitude = 2",
                "policy.min_adjustment_magnitude",
                "percentage `step`",
            ),
            (
                "type = \"threshold\"\nstep = \"lots\"",
                "policy.step",
                "a percentage of the capacity",
            ),
            (
                "type = \"threshold\"\nevaluation_periods = 0",
                "policy.evaluation_periods",
                "at least 1",
            ),
            (
                "type = \"kpa\"\ntarget = 5\ntarget_utilization = 0.5",
                "policy.target_utilization",
                "not both",
            ),
            (
                "type = \"kpa\"\nstable_window = \"5s\"",
                "policy.stable_window",
                "from 6s to 3600s",
            ),
            (
                "type = \"kpa\"\npanic_threshold = 1.0",
                "policy.panic_threshold",
                "from 1.1 to 10",
            ),
            (
                "type = \"target_tracking\"\nmetric = \"rps\"",
                "policy.target",
                "needs `target`",
            ),
            (
                "type = \"target_tracking\"\nwarmup = \"1m\"\nscale_out_cooldown = \"1m\"",
                "policy.scale_out_cooldown",
                "paced by the warm-up",
            ),
        ];
        for (policy, key, text) in cases {
            let e = err(policy);
            // Type errors found while reading name the table (`policy[1].step`).
            let k = e.key.clone().unwrap_or_default();
            assert!(
                k == key || k == key.replace("policy.", "policy[1]."),
                "{policy}: {e}"
            );
            assert!(e.message.contains(text), "{policy}: {e}");
            assert!(e.line.is_some(), "{policy}: {e}");
            assert_eq!(e.file.as_deref(), Some(Path::new("s.toml")));
        }
    }

    #[test]
    fn every_type_builds_and_reports_its_parameters() {
        for t in [
            "threshold",
            "hpa",
            "kpa",
            "target_tracking",
            "dp",
            "oracle",
            "lcp",
        ] {
            let spec = parse(&format!("type = \"{t}\"")).unwrap();
            assert_eq!(spec.type_name(), t);
            assert!(!spec.parameters().is_empty());
            let text = format!("{HEAD}[[policy]]\nname = \"p\"\ntype = \"{t}\"\n");
            let sc = crate::scenario::parse(Path::new("s.toml"), &text).unwrap();
            let ctx = BuildContext {
                scenario: &sc,
                replication: 0,
            };
            assert!(!spec.build(&ctx).unwrap().tick_interval().is_zero());
        }
    }

    #[test]
    fn planner_defaults_and_keys() {
        let PolicySpec::Dp(p) = parse("type = \"dp\"").unwrap() else {
            panic!("a dp")
        };
        assert_eq!(p.horizon, secs(600));
        assert_eq!(
            p.forecaster,
            ForecastMethod::Ewma {
                alpha: forecast::DEFAULT_EWMA_ALPHA
            }
        );
        assert_eq!(p.margin, 0.0);
        assert_eq!(p.model, ModelKind::Calibrated);
        // The season is a whole number of planning intervals (the scenario's 60 s).
        let PolicySpec::Dp(p) = parse(
            "type = \"dp\"\nforecaster = \"holt_winters\"\nseason = \"2h\"\nalpha = 0.3\nbeta = 0.1\ngamma = 0.4\nmargin = 1.5\nmodel = \"analytic\"\nhorizon = \"30m\"",
        )
        .unwrap() else {
            panic!("a dp")
        };
        assert_eq!(
            p.forecaster,
            ForecastMethod::HoltWinters {
                alpha: 0.3,
                beta: 0.1,
                gamma: 0.4,
                period: 120
            }
        );
        assert_eq!((p.margin, p.model), (1.5, ModelKind::Analytic));
        assert_eq!(p.horizon, secs(1800));
        let PolicySpec::Dp(p) = parse("type = \"dp\"\nforecaster = \"seasonal_naive\"").unwrap()
        else {
            panic!("a dp")
        };
        assert_eq!(p.forecaster, ForecastMethod::SeasonalNaive { period: 1440 });
        let spec = parse("type = \"oracle\"").unwrap();
        assert!(
            spec.parameters()
                .iter()
                .any(|(k, v)| *k == "sees_the_future" && v.starts_with("yes"))
        );
        assert_eq!(
            parse("type = \"lcp\"\nmodel = \"analytic\"").unwrap(),
            PolicySpec::Lcp(LcpParams {
                model: ModelKind::Analytic
            })
        );
    }

    #[test]
    fn planner_keys_out_of_place_or_range_are_located_errors() {
        let cases = [
            (
                "type = \"dp\"\nforecaster = \"arima\"",
                "policy.forecaster",
                "unknown forecaster \"arima\"",
            ),
            (
                "type = \"dp\"\nforecaster = \"last\"\nalpha = 0.5",
                "policy.alpha",
                "applies to forecaster = \"ewma\" and \"holt_winters\" only",
            ),
            (
                "type = \"dp\"\nbeta = 0.5",
                "policy.beta",
                "\"holt_winters\" only, not \"ewma\"",
            ),
            (
                "type = \"dp\"\nforecaster = \"seasonal_naive\"\nseason = \"90s\"",
                "policy.season",
                "whole number of planning intervals (interval = 60s)",
            ),
            ("type = \"dp\"\nalpha = 1.5", "policy.alpha", "at most 1"),
            (
                "type = \"dp\"\nforecaster = \"holt_winters\"\ngamma = 2",
                "policy.gamma",
                "from 0 to 1",
            ),
            (
                "type = \"dp\"\nmargin = 11",
                "policy.margin",
                "from 0 to 10",
            ),
            (
                "type = \"dp\"\nhorizon = 0",
                "policy.horizon",
                "greater than zero",
            ),
            (
                "type = \"oracle\"\nmodel = \"exact\"",
                "policy.model",
                "\"calibrated\" or \"analytic\"",
            ),
            (
                "type = \"oracle\"\nhorizon = \"1h\"",
                "policy.horizon",
                "does not apply to policy \"p\" of type \"oracle\", which takes: model",
            ),
            (
                "type = \"lcp\"\nforecaster = \"last\"",
                "policy.forecaster",
                "does not apply",
            ),
        ];
        for (policy, key, text) in cases {
            let e = err(policy);
            let k = e.key.clone().unwrap_or_default();
            assert!(
                k == key || k == key.replace("policy.", "policy[1]."),
                "{policy}: {e}"
            );
            assert!(e.message.contains(text), "{policy}: {e}");
            assert!(e.line.is_some(), "{policy}: {e}");
        }
    }
}
