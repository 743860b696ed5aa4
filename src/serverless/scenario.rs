//! Serverless scenarios: a scenario file with a `[platform]` table of `type = "per_request"`.
//!
//! It shares the top-level keys of every scenario (`name`, `seed`, `duration`, `warmup`,
//! `replications`, `interval`), its `[workload]` table (one function) and the duration syntax;
//! it adds `[functions]` (many functions from an Azure Functions trace), `[platform]`, its own
//! `[cost]` keys and its own policy types. Reading goes raw (unknown keys rejected), then
//! validated, and every error names the file, line, column and key. See `docs/serverless.md`.

use super::keepalive::HybridParams;
use crate::cluster::service::ServiceSpec;
use crate::error::{InputError, line_col, quoted};
use crate::scenario::limits::{self, Limits, RawLimits};
use crate::scenario::source::{Dur, NonNegative, Positive, Source};
use crate::scenario::{RawWorkload, validate_workload};
use crate::time::SimDuration;
use crate::workload::WorkloadSpec;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A validated serverless scenario.
#[derive(Clone, Debug)]
pub struct FaasScenario {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub warmup: SimDuration,
    pub replications: u32,
    pub interval: SimDuration,
    pub functions: FunctionSource,
    pub service: ServiceSpec,
    pub platform: PlatformSpec,
    pub cost: FaasCost,
    pub policies: Vec<FaasPolicy>,
    /// The resource limits: the defaults, or the `[limits]` table's (see `docs/limits.md`).
    pub limits: Limits,
}

/// Where the functions and their arrivals come from.
#[derive(Clone, Debug)]
pub enum FunctionSource {
    /// One function driven by the `[workload]` table.
    One(WorkloadSpec),
    /// Every row of an Azure Functions invocation-count trace (`[functions]`).
    Azure(AzureFunctions),
}

/// The `[functions]` table.
#[derive(Clone, Debug)]
pub struct AzureFunctions {
    pub trace: PathBuf,
    /// Per-function execution times (`HashFunction`, `Average` in milliseconds).
    pub durations: Option<PathBuf>,
    /// Only the first `limit` functions.
    pub limit: Option<usize>,
    /// Only this function (`HashFunction`).
    pub function: Option<String>,
}

/// How a cold start delays its request.
#[derive(Clone, Debug, PartialEq)]
pub enum ColdSpec {
    /// `cold_start`: an initialisation time before the execution.
    Init(ServiceSpec),
    /// `cold_service`: the whole execution time of a cold request (SimFaaS's model).
    Service(ServiceSpec),
}

impl ColdSpec {
    /// Mean initialisation time in seconds (the mean cold execution minus the mean warm one
    /// for `cold_service`, at least 0).
    pub fn init_mean_s(&self, service_mean_s: f64) -> f64 {
        match self {
            ColdSpec::Init(s) => s.mean_s(),
            ColdSpec::Service(s) => (s.mean_s() - service_mean_s).max(0.0),
        }
    }
}

/// The `[platform]` table.
#[derive(Clone, Debug)]
pub struct PlatformSpec {
    pub concurrency: u32,
    pub max_instances: u32,
    pub cold: ColdSpec,
}

/// The `[cost]` table of a serverless scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaasCost {
    /// The provider's price of one instance kept loaded (busy or idle) for an hour.
    pub instance_hour: f64,
    /// The user's price per second of request duration, and per request.
    pub request_second: f64,
    pub request: f64,
    /// Objective prices of one cold start and of one throttled request.
    pub cold_start_penalty: f64,
    pub throttle_penalty: f64,
}

impl FaasCost {
    /// The objective: the provider's instance cost plus the penalties.
    pub fn objective(&self, instance_s: f64, cold_starts: u64, throttles: u64) -> f64 {
        instance_s * self.instance_hour / 3600.0
            + cold_starts as f64 * self.cold_start_penalty
            + throttles as f64 * self.throttle_penalty
    }
}

/// A named policy.
#[derive(Clone, Debug)]
pub struct FaasPolicy {
    pub name: String,
    pub kind: PolicyKind,
}

#[derive(Clone, Debug)]
pub enum PolicyKind {
    KeepAliveFixed {
        keep_alive: SimDuration,
    },
    HybridHistogram(HybridParams),
    Provisioned {
        plan: PlanSource,
        keep_alive: SimDuration,
    },
}

impl PolicyKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            PolicyKind::KeepAliveFixed { .. } => "keep_alive_fixed",
            PolicyKind::HybridHistogram(_) => "hybrid_histogram",
            PolicyKind::Provisioned { .. } => "provisioned",
        }
    }
}

/// Where a provisioned schedule comes from.
#[derive(Clone, Debug)]
pub enum PlanSource {
    Constant(u32),
    /// `time_s,replicas` rows.
    File(Vec<(f64, u32)>),
    /// The DP planner on the function's true arrivals: it sees the future.
    Oracle,
    /// The online planner: forecasts from the arrivals so far.
    Online,
}

/// Default keep-alive: AWS Lambda's, about 10 minutes.
pub const DEFAULT_KEEP_ALIVE_S: u64 = 600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaas {
    name: Option<Spanned<String>>,
    seed: Option<u64>,
    duration: Spanned<Dur>,
    warmup: Option<Spanned<Dur>>,
    replications: Option<Spanned<u32>>,
    interval: Option<Spanned<Dur>>,
    workload: Option<Spanned<RawWorkload>>,
    functions: Option<Spanned<RawFunctions>>,
    service: Spanned<RawDist>,
    platform: Spanned<RawPlatform>,
    #[serde(default)]
    cost: RawCost,
    #[serde(default)]
    policy: Vec<RawPolicy>,
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunctions {
    trace: Spanned<String>,
    durations: Option<Spanned<String>>,
    limit: Option<Spanned<u64>>,
    function: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDist {
    distribution: Spanned<String>,
    mean: Spanned<Dur>,
    cv: Option<Spanned<Positive>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    concurrency: Option<Spanned<u32>>,
    max_instances: Option<Spanned<u32>>,
    cold_start: Option<Spanned<RawDist>>,
    cold_service: Option<Spanned<RawDist>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    instance_hour: Option<NonNegative>,
    request_second: Option<NonNegative>,
    request: Option<NonNegative>,
    cold_start_penalty: Option<NonNegative>,
    throttle_penalty: Option<NonNegative>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    keep_alive: Option<Spanned<Dur>>,
    range: Option<Spanned<Dur>>,
    bin: Option<Spanned<Dur>>,
    head: Option<Spanned<f64>>,
    tail: Option<Spanned<f64>>,
    margin: Option<Spanned<f64>>,
    cv_threshold: Option<Spanned<NonNegative>>,
    oob_threshold: Option<Spanned<f64>>,
    forecast_margin: Option<Spanned<f64>>,
    fallback_keep_alive: Option<Spanned<Dur>>,
    plan: Option<Spanned<String>>,
    instances: Option<Spanned<u32>>,
}

/// Default `[cost]`: AWS Lambda's prices for 1 GB (about $0.06 per GB-hour, $0.20 per
/// million requests), a hundredth of a cent per cold start and per throttled request.
pub const DEFAULT_INSTANCE_HOUR: f64 = 0.06;
pub const DEFAULT_REQUEST_SECOND: f64 = 0.000_016_666_7;
pub const DEFAULT_REQUEST: f64 = 0.000_000_2;
pub const DEFAULT_PENALTY: f64 = 0.000_1;
/// Default `platform.max_instances` (AWS Lambda's default account concurrency).
pub const DEFAULT_MAX_INSTANCES: u32 = 1000;

/// Whether `text` is a serverless scenario: its TOML has a top-level `[platform]` table.
pub fn is_serverless(text: &str) -> bool {
    text.parse::<toml::Table>()
        .is_ok_and(|t| t.get("platform").is_some_and(|p| p.is_table()))
}

/// Reads and validates a serverless scenario file.
pub fn load(path: &Path) -> Result<FaasScenario, InputError> {
    parse(path, &crate::scenario::read(path)?)
}

/// Validates serverless scenario `text`, attributing errors to `path`.
pub fn parse(path: &Path, text: &str) -> Result<FaasScenario, InputError> {
    let src = Source::new(path, text);
    let raw: RawFaas = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    validate(&src, raw)
}

fn positive(
    src: &Source,
    v: &Option<Spanned<Dur>>,
    key: &str,
) -> Result<Option<SimDuration>, InputError> {
    match v {
        Some(d) if d.get_ref().0.is_zero() => Err(src.error(
            d.span(),
            key,
            "expected a duration greater than zero, found 0",
        )),
        Some(d) => Ok(Some(d.get_ref().0)),
        None => Ok(None),
    }
}

fn validate(src: &Source, raw: RawFaas) -> Result<FaasScenario, InputError> {
    let name = match &raw.name {
        Some(n)
            if n.get_ref().trim().is_empty()
                || n.get_ref().contains(['/', '\\'])
                || n.get_ref().chars().any(char::is_control)
                || n.get_ref().chars().count() > crate::scenario::MAX_NAME =>
        {
            return Err(src.error(
                n.span(),
                "name",
                format!(
                    "expected a non-empty name usable as a folder name (at most {} characters, no '/', '\\' or control characters), found {}",
                    crate::scenario::MAX_NAME,
                    quoted(n.get_ref())
                ),
            ));
        }
        Some(n) => n.get_ref().clone(),
        None => src
            .path
            .file_stem()
            .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned()),
    };
    let duration =
        positive(src, &Some(raw.duration.clone()), "duration")?.expect("duration is required");
    let warmup = raw
        .warmup
        .as_ref()
        .map_or(SimDuration::ZERO, |w| w.get_ref().0);
    if let Some(w) = &raw.warmup
        && warmup >= duration
    {
        return Err(src.error(
            w.span(),
            "warmup",
            "expected a warm-up shorter than the duration",
        ));
    }
    let replications = match &raw.replications {
        Some(r) if *r.get_ref() == 0 => {
            return Err(src.error(r.span(), "replications", "expected at least 1 replication"));
        }
        Some(r) => *r.get_ref(),
        None => 1,
    };
    let interval = crate::scenario::source::period(src, &raw.interval, "interval")?
        .unwrap_or(SimDuration::from_secs(60));
    if interval > duration {
        let span = raw.interval.as_ref().map_or(0..0, |i| i.span());
        return Err(src.error(
            span,
            "interval",
            "expected an interval no longer than the duration",
        ));
    }
    let base = src.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let functions = match (&raw.workload, &raw.functions) {
        (Some(_), Some(f)) => {
            return Err(src.error(
                f.span(),
                "functions",
                "a scenario has either [workload] (one function) or [functions] (a trace of many), not both",
            ));
        }
        (Some(w), None) => FunctionSource::One(validate_workload(src, w.get_ref())?),
        (None, Some(f)) => {
            let f = f.get_ref();
            if let Some(l) = &f.limit
                && *l.get_ref() == 0
            {
                return Err(src.error(l.span(), "functions.limit", "expected at least 1 function"));
            }
            if let (Some(l), Some(_)) = (&f.limit, &f.function) {
                return Err(src.error(
                    l.span(),
                    "functions.limit",
                    "`limit` and `function` exclude each other: choose one function or the first N",
                ));
            }
            FunctionSource::Azure(AzureFunctions {
                trace: base.join(f.trace.get_ref()),
                durations: f.durations.as_ref().map(|d| base.join(d.get_ref())),
                limit: f.limit.as_ref().map(|l| *l.get_ref() as usize),
                function: f.function.as_ref().map(|x| x.get_ref().clone()),
            })
        }
        (None, None) => {
            return Err(InputError::new(
                "expected a [workload] table (one function) or a [functions] table (trace = \"an Azure Functions trace\")",
            )
            .in_file(&src.path)
            .key("functions"));
        }
    };
    let service = validate_dist(src, &raw.service, "service")?;
    let platform = validate_platform(src, &raw.platform)?;
    let cost = FaasCost {
        instance_hour: raw
            .cost
            .instance_hour
            .map_or(DEFAULT_INSTANCE_HOUR, |v| v.0),
        request_second: raw
            .cost
            .request_second
            .map_or(DEFAULT_REQUEST_SECOND, |v| v.0),
        request: raw.cost.request.map_or(DEFAULT_REQUEST, |v| v.0),
        cold_start_penalty: raw.cost.cold_start_penalty.map_or(DEFAULT_PENALTY, |v| v.0),
        throttle_penalty: raw.cost.throttle_penalty.map_or(DEFAULT_PENALTY, |v| v.0),
    };
    if raw.policy.is_empty() {
        return Err(InputError::new(
            "expected at least one [[policy]] table (for example: [[policy]] name = \"fixed-10m\" type = \"keep_alive_fixed\" keep_alive = \"10m\")",
        )
        .in_file(&src.path)
        .key("policy"));
    }
    let mut policies: Vec<FaasPolicy> = Vec::new();
    for p in &raw.policy {
        crate::scenario::check_policy_name(src, &p.name, policies.iter().map(|q| q.name.as_str()))?;
        let pname = p.name.get_ref();
        policies.push(FaasPolicy {
            name: pname.clone(),
            kind: validate_policy(src, p, &base, platform.max_instances)?,
        });
    }
    let limits = limits::validate(src, &raw.limits)?;
    Ok(FaasScenario {
        limits,
        name,
        path: src.path.clone(),
        text: src.text.to_string(),
        seed: raw.seed.unwrap_or(1),
        duration,
        warmup,
        replications,
        interval,
        functions,
        service,
        platform,
        cost,
        policies,
    })
}

fn validate_dist(src: &Source, d: &Spanned<RawDist>, key: &str) -> Result<ServiceSpec, InputError> {
    let raw = d.get_ref();
    let mean = raw.mean.get_ref().0;
    if mean.is_zero() {
        return Err(src.error(
            raw.mean.span(),
            &format!("{key}.mean"),
            "expected a mean greater than zero",
        ));
    }
    let kind = raw.distribution.get_ref().as_str();
    let cv = raw.cv.as_ref().map(|c| (c.get_ref().0, c.span()));
    let spec = match (kind, cv) {
        ("exponential", None) => ServiceSpec::Exponential { mean },
        ("deterministic", None) => ServiceSpec::Deterministic { mean },
        ("lognormal", Some((cv, _))) => ServiceSpec::Lognormal { mean, cv },
        ("gamma", Some((cv, _))) => ServiceSpec::Gamma { mean, cv },
        ("exponential" | "deterministic", Some((_, span))) => {
            return Err(src.error(
                span,
                &format!("{key}.cv"),
                format!(
                    "`cv` does not apply to distribution {kind}",
                    kind = crate::error::quoted(kind)
                ),
            ));
        }
        ("lognormal" | "gamma", None) => {
            return Err(src.error(
                raw.distribution.span(),
                &format!("{key}.cv"),
                format!(
                    "distribution {kind} needs `cv` (standard deviation / mean, greater than 0)",
                    kind = crate::error::quoted(kind)
                ),
            ));
        }
        _ => {
            return Err(src.error(
                raw.distribution.span(),
                &format!("{key}.distribution"),
                format!(
                    "unknown distribution {kind}: expected \"exponential\", \"deterministic\", \"lognormal\" or \"gamma\"", kind = crate::error::quoted(kind)),
            ));
        }
    };
    // Build the sampler now, so a scenario that validates never fails to sample.
    spec.check().map_err(|m| {
        let span = raw
            .cv
            .as_ref()
            .map_or(raw.distribution.span(), |c| c.span());
        src.error(span, &format!("{key}.cv"), m)
    })?;
    Ok(spec)
}

fn validate_platform(src: &Source, p: &Spanned<RawPlatform>) -> Result<PlatformSpec, InputError> {
    let raw = p.get_ref();
    if raw.kind.get_ref() != "per_request" {
        return Err(src.error(
            raw.kind.span(),
            "platform.type",
            format!(
                "unknown platform type {}: expected \"per_request\" (instances created per request, kept alive while idle)",
                quoted(raw.kind.get_ref())
            ),
        ));
    }
    let at_least_one = |v: &Option<Spanned<u32>>, key: &str, default: u32| match v {
        Some(x) if *x.get_ref() == 0 => Err(src.error(x.span(), key, "expected at least 1")),
        Some(x) => Ok(*x.get_ref()),
        None => Ok(default),
    };
    let concurrency = at_least_one(&raw.concurrency, "platform.concurrency", 1)?;
    let max_instances = at_least_one(
        &raw.max_instances,
        "platform.max_instances",
        DEFAULT_MAX_INSTANCES,
    )?;
    let cold = match (&raw.cold_start, &raw.cold_service) {
        (Some(_), Some(s)) => {
            return Err(src.error(
                s.span(),
                "platform.cold_service",
                "give `cold_start` (an initialisation before the execution) or `cold_service` (the whole cold execution), not both",
            ));
        }
        (Some(c), None) => ColdSpec::Init(validate_dist(src, c, "platform.cold_start")?),
        (None, Some(s)) => ColdSpec::Service(validate_dist(src, s, "platform.cold_service")?),
        (None, None) => {
            return Err(src.error(
                p.span(),
                "platform.cold_start",
                "expected `cold_start = { distribution = \"exponential\", mean = \"500ms\" }` (or `cold_service`)",
            ));
        }
    };
    Ok(PlatformSpec {
        concurrency,
        max_instances,
        cold,
    })
}

/// The keys each policy type takes (besides `name` and `type`).
fn policy_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "keep_alive_fixed" => &["keep_alive"],
        "hybrid_histogram" => &[
            "range",
            "bin",
            "head",
            "tail",
            "margin",
            "cv_threshold",
            "oob_threshold",
            "forecast_margin",
            "fallback_keep_alive",
        ],
        "provisioned" => &["plan", "instances", "keep_alive"],
        _ => return None,
    })
}

fn validate_policy(
    src: &Source,
    p: &RawPolicy,
    base: &Path,
    max_instances: u32,
) -> Result<PolicyKind, InputError> {
    let kind = p.kind.get_ref().as_str();
    let Some(allowed) = policy_keys(kind) else {
        return Err(src.error(
            p.kind.span(),
            "policy.type",
            format!(
                "unknown policy type {kind} for a per_request platform: expected \"keep_alive_fixed\", \"hybrid_histogram\" or \"provisioned\"", kind = crate::error::quoted(kind)),
        ));
    };
    let given = [
        ("keep_alive", p.keep_alive.as_ref().map(|v| v.span())),
        ("range", p.range.as_ref().map(|v| v.span())),
        ("bin", p.bin.as_ref().map(|v| v.span())),
        ("head", p.head.as_ref().map(|v| v.span())),
        ("tail", p.tail.as_ref().map(|v| v.span())),
        ("margin", p.margin.as_ref().map(|v| v.span())),
        ("cv_threshold", p.cv_threshold.as_ref().map(|v| v.span())),
        ("oob_threshold", p.oob_threshold.as_ref().map(|v| v.span())),
        (
            "forecast_margin",
            p.forecast_margin.as_ref().map(|v| v.span()),
        ),
        (
            "fallback_keep_alive",
            p.fallback_keep_alive.as_ref().map(|v| v.span()),
        ),
        ("plan", p.plan.as_ref().map(|v| v.span())),
        ("instances", p.instances.as_ref().map(|v| v.span())),
    ];
    for (key, span) in given {
        if let Some(span) = span
            && !allowed.contains(&key)
        {
            return Err(src.error(
                span,
                &format!("policy.{key}"),
                format!(
                    "`{key}` does not apply to policy type {kind}, which takes: {}",
                    allowed.join(", "),
                    kind = crate::error::quoted(kind)
                ),
            ));
        }
    }
    let keep_alive = positive(src, &p.keep_alive, "policy.keep_alive")?
        .unwrap_or(SimDuration::from_secs(DEFAULT_KEEP_ALIVE_S));
    let fraction = |v: &Option<Spanned<f64>>, key: &str, default: f64, open: bool| match v {
        Some(x) => {
            let f = *x.get_ref();
            let ok = if open {
                f > 0.0 && f < 1.0
            } else {
                (0.0..=1.0).contains(&f)
            };
            if ok {
                Ok(f)
            } else {
                Err(src.error(
                    x.span(),
                    &format!("policy.{key}"),
                    format!(
                        "expected a number {}, found {f}",
                        if open {
                            "between 0 and 1 (exclusive)"
                        } else {
                            "from 0 to 1"
                        }
                    ),
                ))
            }
        }
        None => Ok(default),
    };
    Ok(match kind {
        "keep_alive_fixed" => PolicyKind::KeepAliveFixed { keep_alive },
        "hybrid_histogram" => {
            let d = HybridParams::default();
            let range = positive(src, &p.range, "policy.range")?.unwrap_or(d.range);
            let bin = positive(src, &p.bin, "policy.bin")?.unwrap_or(d.bin);
            if bin > range {
                let span = p
                    .bin
                    .as_ref()
                    .or(p.range.as_ref())
                    .map_or(0..0, |v| v.span());
                return Err(src.error(
                    span,
                    "policy.bin",
                    "expected a bin no wider than the range",
                ));
            }
            if range.0 / bin.0 > 100_000 {
                let span = p
                    .bin
                    .as_ref()
                    .or(p.range.as_ref())
                    .map_or(0..0, |v| v.span());
                return Err(src.error(
                    span,
                    "policy.bin",
                    "expected at most 100000 bins in the range (widen `bin` or shorten `range`)",
                ));
            }
            let head = fraction(&p.head, "head", d.head, true)?;
            let tail = fraction(&p.tail, "tail", d.tail, true)?;
            if head >= tail {
                let span = p
                    .head
                    .as_ref()
                    .or(p.tail.as_ref())
                    .map_or(0..0, |v| v.span());
                return Err(src.error(span, "policy.head", "expected head below tail"));
            }
            PolicyKind::HybridHistogram(HybridParams {
                range,
                bin,
                head,
                tail,
                margin: fraction(&p.margin, "margin", d.margin, false)?,
                cv_threshold: p
                    .cv_threshold
                    .as_ref()
                    .map_or(d.cv_threshold, |v| v.get_ref().0),
                oob_threshold: fraction(&p.oob_threshold, "oob_threshold", d.oob_threshold, false)?,
                forecast_margin: fraction(
                    &p.forecast_margin,
                    "forecast_margin",
                    d.forecast_margin,
                    false,
                )?,
                fallback_keep_alive: positive(
                    src,
                    &p.fallback_keep_alive,
                    "policy.fallback_keep_alive",
                )?
                .unwrap_or(range),
            })
        }
        "provisioned" => {
            let plan = match (&p.plan, &p.instances) {
                (Some(_), Some(i)) => {
                    return Err(src.error(
                        i.span(),
                        "policy.instances",
                        "give `instances` (a constant count) or `plan`, not both",
                    ));
                }
                (None, Some(i)) if *i.get_ref() > max_instances => {
                    return Err(src.error(
                        i.span(),
                        "policy.instances",
                        format!("expected at most platform.max_instances ({max_instances})"),
                    ));
                }
                (None, Some(i)) => PlanSource::Constant(*i.get_ref()),
                (Some(pl), None) if pl.get_ref() == "oracle" => PlanSource::Oracle,
                (Some(pl), None) if pl.get_ref() == "dp" => PlanSource::Online,
                (Some(pl), None) => PlanSource::File(read_plan(src, pl, &base.join(pl.get_ref()))?),
                (None, None) => {
                    return Err(src.error(
                        p.kind.span(),
                        "policy.plan",
                        "a provisioned policy needs `plan = \"dp\"`, `plan = \"oracle\"`, `plan = \"plan.csv\"` or `instances = N`",
                    ));
                }
            };
            PolicyKind::Provisioned { plan, keep_alive }
        }
        _ => unreachable!("policy types are checked above"),
    })
}

/// Checks what running every policy and replication of `sc` will hold and do against its
/// limits (the `[limits]` table of docs/limits.md), before anything runs:
/// - `runs`: policies × replications;
/// - `timeline_rows`: `duration / interval` × policies × replications (the timeline is summed
///   over functions);
/// - `replicas`: `platform.max_instances`, the instances one function may hold at once;
/// - `arrivals`: the invocations of every run together: the `[workload]`'s mean rate ×
///   `duration`, or the sum of the `[functions]` trace's counts (read before the run; with
///   `limit`, not estimated) × policies × replications.
///
/// `replications_key` names what set the replications (`replications` or `--replications`).
pub fn check_limits(sc: &FaasScenario, replications_key: &str) -> Result<(), InputError> {
    let lim = &sc.limits;
    let exceeded = |key: &str, limit_key: &str, what: &str, estimate: f64, limit: u64| {
        limits::exceeded_in(&sc.path, &sc.text, key, limit_key, what, estimate, limit)
    };
    let n = sc.policies.len() as f64 * f64::from(sc.replications);
    if n > lim.runs as f64 {
        return Err(exceeded(
            replications_key,
            "runs",
            "the number of runs (policies × replications)",
            n,
            lim.runs,
        ));
    }
    let rows = (sc.duration.as_secs_f64() / sc.interval.as_secs_f64()).ceil() * n;
    if rows > lim.timeline_rows as f64 {
        return Err(exceeded(
            "interval",
            "timeline_rows",
            "the number of timeline rows (duration / interval × policies × replications)",
            rows,
            lim.timeline_rows,
        ));
    }
    if u64::from(sc.platform.max_instances) > lim.replicas {
        return Err(exceeded(
            "platform.max_instances",
            "replicas",
            "the number of instances a function may hold (`platform.max_instances`)",
            f64::from(sc.platform.max_instances),
            lim.replicas,
        ));
    }
    let (arrivals, key) = match &sc.functions {
        FunctionSource::One(w) => {
            let a = limits::workload_arrivals(w, sc.duration).or_else(|| match w {
                WorkloadSpec::Trace(spec) => crate::workload::trace::estimate::Sample::read(spec)
                    .map(|s| s.replayed(spec, sc.duration)),
                _ => None,
            });
            (a, "workload.rate")
        }
        FunctionSource::Azure(f) if f.limit.is_none() => {
            let spec = crate::workload::TraceSpec {
                path: f.trace.clone(),
                format: crate::workload::TraceFormat::Azure,
                bin: None,
                scale: 1.0,
                speedup: 1.0,
                start: SimDuration::ZERO,
                duration: None,
                on_end: crate::workload::TraceEnd::Stop,
                function: f.function.clone(),
                time_unit: Default::default(),
            };
            let a = crate::workload::trace::estimate::Sample::read(&spec)
                .map(|s| s.replayed(&spec, sc.duration));
            (a, "functions.trace")
        }
        FunctionSource::Azure(_) => (None, "functions.trace"),
    };
    if let Some(a) = arrivals
        && a * n > lim.arrivals as f64
    {
        return Err(exceeded(
            key,
            "arrivals",
            "the expected number of invocations (the workload's or the trace's rate × duration × policies × replications)",
            a * n,
            lim.arrivals,
        ));
    }
    Ok(())
}

/// Reads a `time_s,replicas` plan file.
fn read_plan(
    src: &Source,
    key: &Spanned<String>,
    path: &Path,
) -> Result<Vec<(f64, u32)>, InputError> {
    let bytes = crate::sniff::read_file(path, crate::sniff::TEXT_CAP).map_err(|e| {
        src.error(
            key.span(),
            "policy.plan",
            format!(
                "cannot read the plan {}: {e}; expected \"dp\", \"oracle\" or a time_s,replicas file (relative to the scenario's folder)",
                path.display()
            ),
        )
    })?;
    let text = crate::sniff::text(path, bytes, "a time_s,replicas plan")?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.starts_with("time_s")) {
            continue;
        }
        let bad = |what: &str| {
            InputError::new(format!(
                "expected time_s,replicas (seconds, a whole count), {what}"
            ))
            .in_file(path)
            .at_line(n + 1)
        };
        let (t, r) = line.split_once(',').ok_or_else(|| bad("found no comma"))?;
        let t: f64 = t
            .trim()
            .parse()
            .map_err(|_| bad(&format!("found time {}", quoted(t.trim()))))?;
        let r: u32 = r
            .trim()
            .parse()
            .map_err(|_| bad(&format!("found replicas {}", quoted(r.trim()))))?;
        if !t.is_finite() || t < 0.0 || rows.last().is_some_and(|&(p, _)| t <= p) {
            return Err(bad("with times increasing from 0"));
        }
        rows.push((t, r));
    }
    if rows.is_empty() {
        let (line, col) = line_col(src.text, key.span().start);
        return Err(
            InputError::new(format!("the plan {} has no rows", path.display()))
                .in_file(&src.path)
                .at(line, col)
                .key("policy.plan"),
        );
    }
    Ok(rows)
}
