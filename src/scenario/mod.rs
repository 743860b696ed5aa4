//! Scenario files: the TOML schema, and its validation into the typed model the simulation runs.
//!
//! Reading goes in two steps (raw, then validated): the file is deserialized into `Raw*`
//! structs that reject unknown keys and values that are wrong on their own, then [`load`]
//! checks everything that spans several keys and fills in defaults. Every error names the file,
//! the line and column, the key, and what was expected. After validation nothing re-checks user
//! input.

pub mod limits;
pub mod setting;
pub mod source;
pub mod suggest;
pub mod sweep;
pub mod warnings;

use crate::autoscaler::{PolicyContext, PolicySpec, registry};
use crate::cluster::service::ServiceSpec;
use crate::cluster::{Balancer, ClusterSpec};
use crate::error::{InputError, quoted};
use crate::time::{SimDuration, SimTime};
use crate::workload::trace::datetime::TimeUnit;
use crate::workload::{TraceEnd, TraceFormat, TraceSpec, WorkloadSpec};
use serde::Deserialize;
pub use setting::{CostSpec, Setting};
use source::{Dur, Finite, Fraction, NonNegative, Positive, Source};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// The file it was read from (empty for scenarios built in code).
    pub path: PathBuf,
    /// The text it was read from.
    pub text: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub warmup: SimDuration,
    pub replications: u32,
    pub interval: SimDuration,
    pub workload: WorkloadSpec,
    pub service: ServiceSpec,
    pub cluster: ClusterSpec,
    pub cost: CostSpec,
    pub policies: Vec<PolicyDef>,
    /// The policy every other is compared with, pairwise per replication (`baseline`; the
    /// first policy when absent).
    pub baseline: Option<String>,
    /// The `[sweep]` grid, when the scenario has one.
    pub sweep: Option<sweep::Sweep>,
    /// The resource limits ([`limits`]): the defaults, or the `[limits]` table's.
    pub limits: limits::Limits,
}

/// A named policy of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDef {
    pub name: String,
    pub spec: PolicySpec,
}

impl Scenario {
    /// What its policies may read of it (everything but the policies, the sweep and the
    /// limits).
    pub fn setting(&self) -> Setting<'_> {
        Setting {
            seed: self.seed,
            duration: self.duration,
            warmup: self.warmup,
            interval: self.interval,
            workload: &self.workload,
            service: &self.service,
            cluster: &self.cluster,
            cost: &self.cost,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<Spanned<String>>,
    seed: Option<u64>,
    duration: Spanned<Dur>,
    warmup: Option<Spanned<Dur>>,
    replications: Option<Spanned<u32>>,
    interval: Option<Spanned<Dur>>,
    baseline: Option<Spanned<String>>,
    workload: Spanned<RawWorkload>,
    service: Spanned<RawService>,
    #[serde(default)]
    cluster: RawCluster,
    #[serde(default)]
    cost: RawCost,
    /// The `[[policy]]` tables: accepted here, read and validated by the policy registry
    /// from the document itself (each type's keys into its own struct).
    #[serde(default, rename = "policy")]
    _policy: Option<serde::de::IgnoredAny>,
    sweep: Option<Spanned<toml::Table>>,
    #[serde(default)]
    limits: limits::RawLimits,
    faults: Option<Spanned<RawFaults>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkload {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    rate: Option<Spanned<NonNegative>>,
    amplitude: Option<Spanned<Fraction>>,
    period: Option<Spanned<Dur>>,
    phase: Option<Spanned<Finite>>,
    steps: Option<Spanned<Vec<(Dur, NonNegative)>>>,
    spike_rate: Option<Spanned<NonNegative>>,
    spike_start: Option<Spanned<Dur>>,
    spike_duration: Option<Spanned<Dur>>,
    rates: Option<Spanned<Vec<NonNegative>>>,
    mean_durations: Option<Spanned<Vec<Dur>>>,
    path: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    bin: Option<Spanned<Dur>>,
    scale: Option<Spanned<Positive>>,
    speedup: Option<Spanned<Positive>>,
    start: Option<Spanned<Dur>>,
    duration: Option<Spanned<Dur>>,
    #[serde(rename = "loop")]
    loop_: Option<Spanned<bool>>,
    on_end: Option<Spanned<String>>,
    function: Option<Spanned<String>>,
    time_unit: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    distribution: Spanned<String>,
    mean: Option<Spanned<Dur>>,
    cv: Option<Spanned<Positive>>,
    min: Option<Spanned<Dur>>,
    max: Option<Spanned<Dur>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    concurrency: Option<Spanned<u32>>,
    load_balancer: Option<Spanned<String>>,
    startup: Option<Spanned<toml::Value>>,
    shutdown: Option<Spanned<Dur>>,
    min_replicas: Option<Spanned<u32>>,
    max_replicas: Option<Spanned<u32>>,
    initial_replicas: Option<Spanned<u32>>,
    queue_timeout: Option<Spanned<Dur>>,
    queue_capacity: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    replica_hour: Option<NonNegative>,
    slo_latency: Option<Spanned<Dur>>,
    violation_penalty: Option<NonNegative>,
    start_cost: Option<NonNegative>,
    stop_cost: Option<NonNegative>,
}

/// Default `[cost]`: the example prices of the interface (4 cents per container-hour,
/// 500 ms SLO, a hundredth of a cent per violating request).
pub const DEFAULT_REPLICA_HOUR: f64 = 0.04;
pub const DEFAULT_SLO_LATENCY_MS: u64 = 500;
pub const DEFAULT_VIOLATION_PENALTY: f64 = 0.0001;
/// The range of a trace's `speedup`: beyond it a replayed second is shorter than a
/// microsecond or longer than eleven days, and a looped copy of a trace takes no time.
pub const MIN_SPEEDUP: f64 = 1e-6;
pub const MAX_SPEEDUP: f64 = 1e6;
/// The largest `scale` of a trace: each recorded arrival replayed up to a thousand times.
pub const MAX_SCALE: f64 = 1000.0;
/// Default `cluster.max_replicas`.
pub const DEFAULT_MAX_REPLICAS: u32 = 1000;

/// Reads and validates a scenario file, and checks that the trace it names can be opened.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    load_allowing(path, false)
}

/// [`load`], with the resource limits lifted when `allow_large` (`--allow-large`): a sweep
/// larger than `[limits] sweep_points` is expanded.
pub fn load_allowing(path: &Path, allow_large: bool) -> Result<Scenario, InputError> {
    let text = read(path)?;
    let mut src = Source::new(path, &text);
    src.allow_large = allow_large;
    parse_source(&src)
}

/// Reads and validates the copy of a scenario that a results folder keeps (`scenario.toml`),
/// without opening the files it names: their paths are relative to the original scenario's
/// folder, not to the copy's.
pub fn load_recorded(path: &Path) -> Result<Scenario, InputError> {
    let text = read(path)?;
    let mut src = Source::new(path, &text);
    src.check_files = false;
    parse_source(&src)
}

/// The text of a scenario file (a compressed or binary file is named as such, never echoed).
pub(crate) fn read(path: &Path) -> Result<String, InputError> {
    let bytes = crate::sniff::read_file(path, crate::sniff::TEXT_CAP).map_err(|e| {
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        InputError::new(format!(
            "cannot read the scenario file {}: {e}",
            shown.display()
        ))
        .in_file(path)
    })?;
    crate::sniff::text(path, bytes, "a TOML scenario")
}

/// Validates scenario `text`, attributing errors to `path` (trace paths are relative to its
/// folder, and must open).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, InputError> {
    parse_source(&Source::new(path, text))
}

fn parse_source(src: &Source) -> Result<Scenario, InputError> {
    let mut raw: RawScenario = toml::from_str(src.text).map_err(|e| src.toml_error(&e))?;
    let sweep_table = raw.sweep.take();
    let mut scenario = validate(src, raw)?;
    if let Some(t) = &sweep_table {
        scenario.sweep = Some(sweep::expand(src, t, &scenario.limits)?);
    }
    Ok(scenario)
}

/// Validates one point of a sweep (a scenario without `[sweep]`).
fn parse_single(path: &Path, text: &str, check_files: bool) -> Result<Scenario, InputError> {
    let mut src = Source::new(path, text);
    src.check_files = check_files;
    src.allow_large = true;
    let raw: RawScenario = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    validate(&src, raw)
}

/// Checks a policy's `name`: not empty, no commas, quotes or line breaks (it is a CSV field
/// and a folder-safe label), and not the name of an earlier policy (`taken`).
/// The longest scenario or policy name, in characters: a name becomes a folder name (at most
/// 255 bytes on most file systems) and a label in every table and chart.
pub const MAX_NAME: usize = 100;

pub(crate) fn check_policy_name<'a>(
    src: &Source,
    name: &Spanned<String>,
    mut taken: impl Iterator<Item = &'a str>,
) -> Result<(), InputError> {
    let pname = name.get_ref();
    if pname.trim().is_empty()
        || pname.contains([',', '"'])
        || pname.chars().any(char::is_control)
        || pname.chars().count() > MAX_NAME
    {
        return Err(src.error(
            name.span(),
            "policy.name",
            format!(
                "expected a non-empty policy name of at most {MAX_NAME} characters, without commas, quotes, line breaks or control characters, found {}",
                crate::error::quoted(pname)
            ),
        ));
    }
    if taken.any(|q| q == pname) {
        return Err(src.error(
            name.span(),
            "policy.name",
            format!(
                "duplicate policy name {pname}: every policy needs its own name",
                pname = crate::error::quoted(pname)
            ),
        ));
    }
    Ok(())
}

fn validate(src: &Source, raw: RawScenario) -> Result<Scenario, InputError> {
    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(src.error(n.span(), "name", "expected a non-empty name"));
        }
        Some(n)
            if n.get_ref().chars().any(char::is_control)
                || n.get_ref().chars().count() > MAX_NAME =>
        {
            return Err(src.error(
                n.span(),
                "name",
                format!(
                    "expected a name usable as a folder name, of at most {MAX_NAME} characters and without control characters, found {}",
                    crate::error::quoted(n.get_ref())
                ),
            ));
        }
        Some(n)
            if n.get_ref().contains(['/', '\\']) || n.get_ref() == "." || n.get_ref() == ".." =>
        {
            return Err(src.error(
                n.span(),
                "name",
                "expected a name usable as a folder name (no '/' or '\\')",
            ));
        }
        Some(n) => n.get_ref().clone(),
        None => src
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".to_string()),
    };
    let duration = raw.duration.get_ref().0;
    if duration.is_zero() {
        return Err(src.error(
            raw.duration.span(),
            "duration",
            "expected a duration greater than zero",
        ));
    }
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
            format!(
                "expected a warm-up shorter than the duration ({} s)",
                duration.as_secs_f64()
            ),
        ));
    }
    let replications = match &raw.replications {
        Some(r) if *r.get_ref() == 0 => {
            return Err(src.error(r.span(), "replications", "expected at least 1 replication"));
        }
        Some(r) => *r.get_ref(),
        None => 1,
    };
    let interval =
        source::period(src, &raw.interval, "interval")?.unwrap_or(SimDuration::from_secs(60));
    if let Some(i) = &raw.interval
        && interval > duration
    {
        return Err(src.error(
            i.span(),
            "interval",
            "expected an interval no longer than the duration",
        ));
    }

    let workload = validate_workload(src, raw.workload.get_ref())?;
    let service = validate_service(src, &raw.service)?;
    let mut cluster = validate_cluster(src, &raw.cluster)?;
    cluster.faults = validate_faults(src, &raw.faults)?;
    let cost = validate_cost(src, &raw.cost)?;
    let limits = limits::validate(src, &raw.limits)?;

    let ctx = PolicyContext {
        concurrency: cluster.concurrency,
        min_replicas: cluster.min_replicas,
        max_replicas: cluster.max_replicas,
        interval,
    };
    let parsed = registry::validate_policies(src, &ctx)?;
    if parsed.is_empty() {
        return Err(InputError::new(
            "expected at least one [[policy]] table (for example: [[policy]] name = \"fixed\" type = \"static\" replicas = 4)",
        )
        .in_file(&src.path)
        .key("policy"));
    }
    let mut policies: Vec<PolicyDef> = Vec::with_capacity(parsed.len());
    for p in parsed {
        check_policy_name(src, &p.name, policies.iter().map(|q| q.name.as_str()))?;
        policies.push(PolicyDef {
            name: p.name.into_inner(),
            spec: p.spec,
        });
    }

    if let Some(b) = &raw.baseline
        && !policies.iter().any(|p| &p.name == b.get_ref())
    {
        let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
        return Err(src.error(
            b.span(),
            "baseline",
            format!(
                "expected the name of a policy of this scenario ({}), found {}",
                names.join(", "),
                quoted(b.get_ref())
            ),
        ));
    }

    Ok(Scenario {
        name,
        path: src.path.clone(),
        text: src.text.to_string(),
        seed: raw.seed.unwrap_or(1),
        duration,
        warmup,
        replications,
        interval,
        workload,
        service,
        cluster,
        cost,
        policies,
        baseline: raw.baseline.map(|b| b.into_inner()),
        sweep: None,
        limits,
    })
}

/// For an unknown key in `[workload]` or `[service]`: the table's kind as a message names it
/// (`type = "poisson"`) and the keys that kind takes, read from the scenario's text. `None`
/// for other tables, or when the kind is missing or unknown (then every key of the table is
/// listed).
fn keys_of_kind(text: &str, table: &str) -> Option<(String, Vec<&'static str>)> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let section = doc.get(table)?.as_table()?;
    let (field, keys) = match table {
        "workload" => ("type", workload_keys(section.get("type")?.as_str()?)?),
        "service" => (
            "distribution",
            service_keys(section.get("distribution")?.as_str()?)?,
        ),
        _ => return None,
    };
    let kind = section.get(field)?.as_str()?;
    let mut all = vec![field];
    all.extend_from_slice(keys);
    Some((
        format!("{field} = {kind}", kind = crate::error::quoted(kind)),
        all,
    ))
}

/// The keys each service distribution takes (besides `distribution`).
fn service_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "exponential" | "deterministic" => &["mean"],
        "lognormal" | "gamma" => &["mean", "cv"],
        "uniform" => &["min", "max", "mean", "cv"],
        _ => return None,
    })
}

/// The workload types, as messages list them.
const WORKLOAD_TYPES: &str = "\"poisson\", \"diurnal\", \"step\", \"spike\", \"mmpp\" or \"trace\"";
/// The service distributions, as messages list them.
const DISTRIBUTIONS: &str =
    "\"exponential\", \"deterministic\", \"lognormal\", \"gamma\" or \"uniform\"";

/// The keys each workload type takes (besides `type`).
fn workload_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "poisson" => &["rate"],
        "diurnal" => &["rate", "amplitude", "period", "phase"],
        "step" => &["steps"],
        "spike" => &["rate", "spike_rate", "spike_start", "spike_duration"],
        "mmpp" => &["rates", "mean_durations"],
        "trace" => &[
            "path",
            "format",
            "bin",
            "scale",
            "speedup",
            "start",
            "duration",
            "loop",
            "on_end",
            "function",
            "time_unit",
        ],
        _ => return None,
    })
}

pub(crate) fn validate_workload(src: &Source, w: &RawWorkload) -> Result<WorkloadSpec, InputError> {
    let kind = w.kind.get_ref().as_str();
    let Some(allowed) = workload_keys(kind) else {
        return Err(src.error(
            w.kind.span(),
            "workload.type",
            format!(
                "unknown workload type {kind}: {}expected {WORKLOAD_TYPES}",
                suggest::hint_value(kind, &suggest::quoted(WORKLOAD_TYPES)),
                kind = crate::error::quoted(kind)
            ),
        ));
    };
    // Every key given must apply to this type.
    let given: [(&str, Option<std::ops::Range<usize>>); 22] = [
        ("rate", w.rate.as_ref().map(|v| v.span())),
        ("amplitude", w.amplitude.as_ref().map(|v| v.span())),
        ("period", w.period.as_ref().map(|v| v.span())),
        ("phase", w.phase.as_ref().map(|v| v.span())),
        ("steps", w.steps.as_ref().map(|v| v.span())),
        ("spike_rate", w.spike_rate.as_ref().map(|v| v.span())),
        ("spike_start", w.spike_start.as_ref().map(|v| v.span())),
        (
            "spike_duration",
            w.spike_duration.as_ref().map(|v| v.span()),
        ),
        ("rates", w.rates.as_ref().map(|v| v.span())),
        (
            "mean_durations",
            w.mean_durations.as_ref().map(|v| v.span()),
        ),
        ("path", w.path.as_ref().map(|v| v.span())),
        ("format", w.format.as_ref().map(|v| v.span())),
        ("bin", w.bin.as_ref().map(|v| v.span())),
        ("scale", w.scale.as_ref().map(|v| v.span())),
        ("speedup", w.speedup.as_ref().map(|v| v.span())),
        ("start", w.start.as_ref().map(|v| v.span())),
        ("duration", w.duration.as_ref().map(|v| v.span())),
        ("loop", w.loop_.as_ref().map(|v| v.span())),
        ("on_end", w.on_end.as_ref().map(|v| v.span())),
        ("function", w.function.as_ref().map(|v| v.span())),
        ("time_unit", w.time_unit.as_ref().map(|v| v.span())),
        ("type", None),
    ];
    for (key, span) in given {
        if let Some(span) = span
            && !allowed.contains(&key)
        {
            return Err(src.error(
                span,
                &format!("workload.{key}"),
                format!(
                    "`{key}` does not apply to workload type {kind}, which takes: {}",
                    allowed.join(", "),
                    kind = crate::error::quoted(kind)
                ),
            ));
        }
    }
    let missing = |key: &str| {
        src.error(
            w.kind.span(),
            &format!("workload.{key}"),
            format!(
                "workload type {kind} needs `{key}`",
                kind = crate::error::quoted(kind)
            ),
        )
    };
    let positive_rate = |r: &Option<Spanned<NonNegative>>, key: &str| -> Result<f64, InputError> {
        let r = r.as_ref().ok_or_else(|| missing(key))?;
        if r.get_ref().0 <= 0.0 {
            return Err(src.error(
                r.span(),
                &format!("workload.{key}"),
                "expected a rate greater than 0 (arrivals per second)",
            ));
        }
        Ok(r.get_ref().0)
    };
    Ok(match kind {
        "poisson" => WorkloadSpec::Piecewise {
            steps: vec![(SimTime::ZERO, positive_rate(&w.rate, "rate")?)],
        },
        "diurnal" => {
            let period = source::positive_duration(src, &w.period, "workload.period")?
                .unwrap_or(SimDuration::from_secs(86_400));
            WorkloadSpec::Diurnal {
                rate: positive_rate(&w.rate, "rate")?,
                amplitude: w.amplitude.as_ref().map_or(0.5, |a| a.get_ref().0),
                period,
                phase: w.phase.as_ref().map_or(0.0, |p| p.get_ref().0),
            }
        }
        "step" => {
            let steps = w.steps.as_ref().ok_or_else(|| missing("steps"))?;
            let list = steps.get_ref();
            if list.is_empty() {
                return Err(src.error(
                    steps.span(),
                    "workload.steps",
                    "expected at least one [time, rate] step",
                ));
            }
            let mut out: Vec<(SimTime, f64)> = Vec::with_capacity(list.len() + 1);
            for (i, (t, r)) in list.iter().enumerate() {
                let t = SimTime(t.0.0);
                if let Some(prev) = out.last()
                    && t <= prev.0
                {
                    return Err(src.error(
                        steps.span(),
                        "workload.steps",
                        format!(
                            "expected step times in increasing order; step {} is not after step {}",
                            i + 1,
                            i
                        ),
                    ));
                }
                out.push((t, r.0));
            }
            if out[0].0 != SimTime::ZERO {
                out.insert(0, (SimTime::ZERO, 0.0));
            }
            WorkloadSpec::Piecewise { steps: out }
        }
        "spike" => {
            let rate = positive_rate(&w.rate, "rate")?;
            let spike_rate = w
                .spike_rate
                .as_ref()
                .ok_or_else(|| missing("spike_rate"))?
                .get_ref()
                .0;
            let start = SimTime(
                w.spike_start
                    .as_ref()
                    .ok_or_else(|| missing("spike_start"))?
                    .get_ref()
                    .0
                    .0,
            );
            let len = source::positive_duration(src, &w.spike_duration, "workload.spike_duration")?
                .ok_or_else(|| missing("spike_duration"))?;
            let mut steps = vec![(SimTime::ZERO, rate)];
            if start == SimTime::ZERO {
                steps[0].1 = spike_rate;
            } else {
                steps.push((start, spike_rate));
            }
            steps.push((start + len, rate));
            WorkloadSpec::Piecewise { steps }
        }
        "mmpp" => {
            let rates = w.rates.as_ref().ok_or_else(|| missing("rates"))?;
            let durs = w
                .mean_durations
                .as_ref()
                .ok_or_else(|| missing("mean_durations"))?;
            if rates.get_ref().len() < 2 {
                return Err(src.error(
                    rates.span(),
                    "workload.rates",
                    "expected at least two rates, one per state",
                ));
            }
            if durs.get_ref().len() != rates.get_ref().len() {
                return Err(src.error(
                    durs.span(),
                    "workload.mean_durations",
                    format!(
                        "expected one mean duration per rate ({} rates, {} durations)",
                        rates.get_ref().len(),
                        durs.get_ref().len()
                    ),
                ));
            }
            if let Some(d) = durs.get_ref().iter().find(|d| d.0 < source::MIN_PERIOD) {
                return Err(src.error(
                    durs.span(),
                    "workload.mean_durations",
                    format!(
                        "expected mean durations of at least 1ms (the shortest state duration, see docs/limits.md), found {}",
                        d.0
                    ),
                ));
            }
            if rates.get_ref().iter().all(|r| r.0 == 0.0) {
                return Err(src.error(
                    rates.span(),
                    "workload.rates",
                    "expected at least one rate greater than 0",
                ));
            }
            WorkloadSpec::Mmpp {
                rates: rates.get_ref().iter().map(|r| r.0).collect(),
                mean_durations: durs.get_ref().iter().map(|d| d.0).collect(),
            }
        }
        "trace" => WorkloadSpec::Trace(validate_trace(src, w, &missing)?),
        _ => unreachable!("workload types are checked above"),
    })
}

fn validate_trace(
    src: &Source,
    w: &RawWorkload,
    missing: &dyn Fn(&str) -> InputError,
) -> Result<TraceSpec, InputError> {
    let path = w.path.as_ref().ok_or_else(|| missing("path"))?;
    if path.get_ref().trim().is_empty() {
        return Err(src.error(
            path.span(),
            "workload.path",
            "expected the path of a trace file",
        ));
    }
    let base = src.path.parent().unwrap_or(Path::new(""));
    let resolved = base.join(path.get_ref());
    if src.check_files
        && let Err(e) = std::fs::File::open(&resolved)
    {
        let shown = std::path::absolute(&resolved).unwrap_or_else(|_| resolved.clone());
        let folder = std::env::current_dir()
            .map(|cwd| cwd.join(base))
            .unwrap_or_else(|_| base.to_path_buf());
        return Err(src.error(
            path.span(),
            "workload.path",
            format!(
                "cannot open the trace file {}: {e}; a path in a scenario is relative to the scenario's own folder ({})",
                shown.display(),
                folder.display()
            ),
        ));
    }
    let format = w.format.as_ref().ok_or_else(|| missing("format"))?;
    let fmt = TraceFormat::parse(format.get_ref()).ok_or_else(|| {
        src.error(
            format.span(),
            "workload.format",
            format!(
                "unknown trace format {}: {}expected {}",
                quoted(format.get_ref()),
                suggest::hint_value(format.get_ref(), &suggest::quoted(TraceFormat::NAMES)),
                TraceFormat::NAMES
            ),
        )
    })?;
    if let Some(b) = &w.bin
        && fmt != TraceFormat::Counts
    {
        return Err(src.error(
            b.span(),
            "workload.bin",
            "`bin` applies to the \"counts\" format only",
        ));
    }
    if let Some(f) = &w.function
        && fmt != TraceFormat::Azure
    {
        return Err(src.error(
            f.span(),
            "workload.function",
            "`function` applies to the \"azure\" format only",
        ));
    }
    let time_unit = match &w.time_unit {
        None => TimeUnit::S,
        Some(u) if !matches!(fmt, TraceFormat::Counts | TraceFormat::Timestamps) => {
            return Err(src.error(
                u.span(),
                "workload.time_unit",
                "`time_unit` applies to the \"timestamps\" and \"counts\" formats only (their times written as numbers)",
            ));
        }
        Some(u) => TimeUnit::parse(u.get_ref()).ok_or_else(|| {
            src.error(
                u.span(),
                "workload.time_unit",
                format!(
                    "expected {}, found {}",
                    TimeUnit::NAMES,
                    quoted(u.get_ref())
                ),
            )
        })?,
    };
    let bin = source::positive_duration(src, &w.bin, "workload.bin")?;
    let duration = source::positive_duration(src, &w.duration, "workload.duration")?;
    if let Some(s) = &w.scale
        && s.get_ref().0 > MAX_SCALE
    {
        return Err(src.error(
            s.span(),
            "workload.scale",
            format!(
                "expected a scale greater than 0 and at most {MAX_SCALE} (see docs/limits.md), found {}",
                crate::error::num(s.get_ref().0)
            ),
        ));
    }
    if let Some(s) = &w.speedup
        && !(MIN_SPEEDUP..=MAX_SPEEDUP).contains(&s.get_ref().0)
    {
        return Err(src.error(
            s.span(),
            "workload.speedup",
            format!(
                "expected a speedup from {MIN_SPEEDUP} to {MAX_SPEEDUP} (see docs/limits.md), found {}",
                crate::error::num(s.get_ref().0)
            ),
        ));
    }
    let mut on_end = match &w.on_end {
        Some(e) => match e.get_ref().as_str() {
            "stop" => TraceEnd::Stop,
            "loop" => TraceEnd::Loop,
            "error" => TraceEnd::Error,
            other => {
                return Err(src.error(
                    e.span(),
                    "workload.on_end",
                    format!(
                        "expected \"stop\", \"loop\" or \"error\", found {other}",
                        other = crate::error::quoted(other)
                    ),
                ));
            }
        },
        None => TraceEnd::Stop,
    };
    if let Some(l) = &w.loop_ {
        if *l.get_ref() {
            if w.on_end.is_some() && on_end != TraceEnd::Loop {
                return Err(src.error(
                    l.span(),
                    "workload.loop",
                    "`loop = true` contradicts `on_end`",
                ));
            }
            on_end = TraceEnd::Loop;
        } else if on_end == TraceEnd::Loop {
            return Err(src.error(
                l.span(),
                "workload.loop",
                "`loop = false` contradicts `on_end = \"loop\"`",
            ));
        }
    }
    Ok(TraceSpec {
        path: resolved,
        format: fmt,
        bin,
        scale: w.scale.as_ref().map_or(1.0, |s| s.get_ref().0),
        speedup: w.speedup.as_ref().map_or(1.0, |s| s.get_ref().0),
        start: w
            .start
            .as_ref()
            .map_or(SimDuration::ZERO, |s| s.get_ref().0),
        duration,
        on_end,
        function: w.function.as_ref().map(|f| f.get_ref().clone()),
        time_unit,
    })
}

fn validate_service(src: &Source, s: &Spanned<RawService>) -> Result<ServiceSpec, InputError> {
    let raw = s.get_ref();
    let kind = raw.distribution.get_ref().as_str();
    let mean = || -> Result<SimDuration, InputError> {
        let m = raw.mean.as_ref().ok_or_else(|| {
            src.error(
                raw.distribution.span(),
                "service.mean",
                format!(
                    "service distribution {kind} needs `mean`",
                    kind = crate::error::quoted(kind)
                ),
            )
        })?;
        if m.get_ref().0.is_zero() {
            return Err(src.error(
                m.span(),
                "service.mean",
                "expected a mean service time greater than zero",
            ));
        }
        Ok(m.get_ref().0)
    };
    let reject = |key: &str, span: Option<std::ops::Range<usize>>| -> Result<(), InputError> {
        match span {
            Some(sp) => Err(src.error(
                sp,
                &format!("service.{key}"),
                format!(
                    "`{key}` does not apply to service distribution {kind}",
                    kind = crate::error::quoted(kind)
                ),
            )),
            None => Ok(()),
        }
    };
    let cv_span = raw.cv.as_ref().map(|c| c.span());
    let min_span = raw.min.as_ref().map(|c| c.span());
    let max_span = raw.max.as_ref().map(|c| c.span());
    if let Some(allowed) = service_keys(kind) {
        let given = [
            ("mean", raw.mean.as_ref().map(|m| m.span())),
            ("cv", cv_span.clone()),
            ("min", min_span.clone()),
            ("max", max_span.clone()),
        ];
        for (key, span) in given {
            if let Some(span) = span
                && !allowed.contains(&key)
            {
                return Err(src.error(
                    span,
                    &format!("service.{key}"),
                    format!(
                        "`{key}` does not apply to service distribution {kind}, which takes {}",
                        suggest::list(allowed, "and"),
                        kind = crate::error::quoted(kind)
                    ),
                ));
            }
        }
    }
    let spec = match kind {
        "exponential" | "deterministic" => {
            let mean = mean()?;
            if kind == "exponential" {
                ServiceSpec::Exponential { mean }
            } else {
                ServiceSpec::Deterministic { mean }
            }
        }
        "lognormal" | "gamma" => {
            let mean = mean()?;
            let cv = raw
                .cv
                .as_ref()
                .ok_or_else(|| {
                    src.error(
                        raw.distribution.span(),
                        "service.cv",
                        format!("service distribution {kind} needs `cv` (standard deviation / mean, greater than 0)", kind = crate::error::quoted(kind)),
                    )
                })?
                .get_ref()
                .0;
            if kind == "lognormal" {
                ServiceSpec::Lognormal { mean, cv }
            } else {
                ServiceSpec::Gamma { mean, cv }
            }
        }
        "uniform" => {
            match (&raw.min, &raw.max) {
                (Some(lo), Some(hi)) => {
                    reject("mean", raw.mean.as_ref().map(|m| m.span()))?;
                    reject("cv", cv_span)?;
                    if hi.get_ref().0 <= lo.get_ref().0 {
                        return Err(src.error(
                            hi.span(),
                            "service.max",
                            "expected `max` greater than `min`",
                        ));
                    }
                    ServiceSpec::Uniform {
                        min: lo.get_ref().0,
                        max: hi.get_ref().0,
                    }
                }
                (None, None) => {
                    // Mean and cv: a uniform of half-width mean·cv·√3 (cv at most 1/√3).
                    let mean = mean()?;
                    let cv = raw.cv.as_ref().map_or(1.0 / 3f64.sqrt(), |c| c.get_ref().0);
                    if cv > 1.0 / 3f64.sqrt() + 1e-12 {
                        return Err(src.error(
                        cv_span.expect("cv above the limit was given"),
                        "service.cv",
                        format!("a uniform service time has a cv of at most 1/√3 ≈ 0.577, found {cv}"),
                    ));
                    }
                    let half = mean.as_secs_f64() * cv * 3f64.sqrt();
                    ServiceSpec::Uniform {
                        min: SimDuration::from_secs_f64(mean.as_secs_f64() - half),
                        max: SimDuration::from_secs_f64(mean.as_secs_f64() + half),
                    }
                }
                (Some(x), None) | (None, Some(x)) => {
                    return Err(src.error(
                    x.span(),
                    "service.min",
                    "a uniform service time takes both `min` and `max`, or `mean` (and optionally `cv`)",
                ));
                }
            }
        }
        other => {
            return Err(src.error(
                raw.distribution.span(),
                "service.distribution",
                format!(
                    "unknown service distribution {other}: {}expected {DISTRIBUTIONS}",
                    suggest::hint_value(other, &suggest::quoted(DISTRIBUTIONS)),
                    other = crate::error::quoted(other)
                ),
            ));
        }
    };
    // Build the sampler now, so a scenario that validates never fails to sample.
    spec.check().map_err(|m| {
        let span = raw
            .cv
            .as_ref()
            .map_or(raw.distribution.span(), |c| c.span());
        src.error(span, "service.cv", m)
    })?;
    Ok(spec)
}

/// A distribution table as written (`cluster.startup`, `faults.time_to_failure`,
/// `faults.restart_delay`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDurationDist {
    distribution: String,
    value: Option<Dur>,
    min: Option<Dur>,
    max: Option<Dur>,
    mean: Option<Dur>,
    cv: Option<Positive>,
    path: Option<String>,
}

const DURATION_DISTRIBUTIONS: &str =
    "\"constant\", \"uniform\", \"exponential\", \"lognormal\" or \"empirical\"";

/// `cluster.startup`: a duration, or a table naming a distribution.
fn validate_startup(
    src: &Source,
    v: &Option<Spanned<toml::Value>>,
) -> Result<crate::cluster::startup::StartupDist, InputError> {
    use crate::cluster::startup::StartupDist;
    match v {
        None => Ok(StartupDist::Constant(SimDuration::ZERO)),
        Some(v) => validate_duration_dist(src, v, "cluster.startup", "start-up", "startup_s"),
    }
}

/// A duration (constant) or a table naming a distribution of durations, at `key`; `what`
/// names the time in messages ("start-up"), `column` the column of an empirical CSV.
fn validate_duration_dist(
    src: &Source,
    v: &Spanned<toml::Value>,
    key: &str,
    what: &str,
    column: &str,
) -> Result<crate::cluster::startup::StartupDist, InputError> {
    use crate::cluster::startup::{StartupDist, StartupSampler, read_empirical};
    let span = v.span();
    let err = |msg: String| src.error(span.clone(), key, msg);
    let dist = match v.get_ref() {
        toml::Value::Table(_) => {
            let raw = RawDurationDist::deserialize(v.get_ref().clone()).map_err(|e| {
                err(format!(
                    "{}; a {what} table takes `distribution` (constant, uniform, exponential, lognormal or empirical) with `value`, `min` and `max`, `mean` (and `cv`), or `path`",
                    e.to_string().trim_end()
                ))
            })?;
            let need = |d: Option<Dur>, name: &str| {
                d.map(|d| d.0)
                    .ok_or_else(|| err(format!("a {} {what} takes `{name}`", raw.distribution)))
            };
            match raw.distribution.as_str() {
                "constant" => StartupDist::Constant(need(raw.value, "value")?),
                "uniform" => {
                    let (min, max) = (need(raw.min, "min")?, need(raw.max, "max")?);
                    if min > max {
                        return Err(err(format!(
                            "expected min at most max, found min {} s and max {} s",
                            min.as_secs_f64(),
                            max.as_secs_f64()
                        )));
                    }
                    StartupDist::Uniform { min, max }
                }
                "exponential" => {
                    let mean = need(raw.mean, "mean")?;
                    if mean.is_zero() {
                        return Err(err("expected a mean above 0, found 0 s".to_string()));
                    }
                    StartupDist::Exponential { mean }
                }
                "lognormal" => {
                    let mean = need(raw.mean, "mean")?;
                    let cv = raw
                        .cv
                        .map(|c| c.0)
                        .ok_or_else(|| err(format!("a lognormal {what} takes `mean` and `cv`")))?;
                    if mean.is_zero()
                        || !(crate::cluster::service::MIN_CV..=crate::cluster::service::MAX_CV)
                            .contains(&cv)
                    {
                        return Err(err(format!(
                            "expected a mean above 0 and a cv from {} to {}, found mean {} s and cv {cv}",
                            crate::cluster::service::MIN_CV,
                            crate::cluster::service::MAX_CV,
                            mean.as_secs_f64()
                        )));
                    }
                    StartupDist::Lognormal { mean, cv }
                }
                "empirical" => {
                    let Some(path) = &raw.path else {
                        return Err(err(format!(
                            "an empirical {what} takes `path`, a CSV of observed {what} times in seconds"
                        )));
                    };
                    let base = src.path.parent().unwrap_or(Path::new(""));
                    let resolved = base.join(path);
                    let bytes = crate::sniff::read_file(&resolved, crate::sniff::TEXT_CAP).map_err(|e| {
                        err(format!(
                            "cannot open the {what} times file {}: {e}; a path in a scenario is relative to the scenario's own folder",
                            resolved.display()
                        ))
                    })?;
                    let text = crate::sniff::text(
                        &resolved,
                        bytes,
                        &format!("a CSV of {what} times in seconds"),
                    )?;
                    let times = read_empirical(&text, column)
                        .map_err(|m| err(format!("{}: {m}", resolved.display())))?;
                    StartupDist::Empirical(times)
                }
                other => {
                    return Err(err(format!(
                        "unknown {what} distribution {}: {}expected {DURATION_DISTRIBUTIONS}",
                        quoted(other),
                        suggest::hint_value(other, &suggest::quoted(DURATION_DISTRIBUTIONS))
                    )));
                }
            }
        }
        other => {
            let d = Dur::deserialize(other.clone()).map_err(|e| {
                err(format!(
                    "{}; or a table such as {{ distribution = \"lognormal\", mean = \"30s\", cv = 0.5 }}",
                    e.to_string().trim_end()
                ))
            })?;
            StartupDist::Constant(d.0)
        }
    };
    StartupSampler::try_new(&dist).map_err(err)?;
    Ok(dist)
}

/// The `[faults]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaults {
    time_to_failure: Option<Spanned<toml::Value>>,
    restart_delay: Option<Spanned<toml::Value>>,
}

/// `[faults]`: `time_to_failure` (required; a mean of at least [`source::MIN_PERIOD`]) and
/// `restart_delay` (default [`crate::cluster::faults::DEFAULT_RESTART_DELAY`]).
fn validate_faults(
    src: &Source,
    raw: &Option<Spanned<RawFaults>>,
) -> Result<Option<crate::cluster::faults::FaultSpec>, InputError> {
    use crate::cluster::faults::{DEFAULT_RESTART_DELAY, FaultSpec};
    use crate::cluster::startup::StartupDist;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let f = raw.get_ref();
    let Some(ttf) = &f.time_to_failure else {
        return Err(src.error(
            raw.span(),
            "faults.time_to_failure",
            "a [faults] table takes `time_to_failure`, the time from a container's readiness to its failure: a duration or a distribution such as { distribution = \"exponential\", mean = \"2h\" }",
        ));
    };
    let key = "faults.time_to_failure";
    let time_to_failure =
        validate_duration_dist(src, ttf, key, "time to failure", "time_to_failure_s")?;
    if time_to_failure.mean() < source::MIN_PERIOD {
        return Err(src.error(
            ttf.span(),
            key,
            format!(
                "expected a mean time to failure of at least {} s (the shortest period, see docs/limits.md), found {} s",
                source::MIN_PERIOD.as_secs_f64(),
                time_to_failure.mean().as_secs_f64()
            ),
        ));
    }
    let restart_delay = match &f.restart_delay {
        Some(v) => validate_duration_dist(
            src,
            v,
            "faults.restart_delay",
            "restart delay",
            "restart_delay_s",
        )?,
        None => StartupDist::Constant(DEFAULT_RESTART_DELAY),
    };
    Ok(Some(FaultSpec {
        time_to_failure,
        restart_delay,
    }))
}

fn validate_cluster(src: &Source, c: &RawCluster) -> Result<ClusterSpec, InputError> {
    let startup = validate_startup(src, &c.startup)?;
    let concurrency = match &c.concurrency {
        Some(v) if *v.get_ref() == 0 => {
            return Err(src.error(
                v.span(),
                "cluster.concurrency",
                "expected at least 1 request slot per container",
            ));
        }
        Some(v) => *v.get_ref(),
        None => 1,
    };
    let balancer = match &c.load_balancer {
        Some(b) => Balancer::parse(b.get_ref()).ok_or_else(|| {
            src.error(
                b.span(),
                "cluster.load_balancer",
                format!(
                    "unknown load balancer {}: {}expected {}",
                    quoted(b.get_ref()),
                    suggest::hint_value(b.get_ref(), &suggest::quoted(Balancer::NAMES)),
                    Balancer::NAMES
                ),
            )
        })?,
        None => Balancer::SharedQueue,
    };
    let min_replicas = c.min_replicas.as_ref().map_or(1, |v| *v.get_ref());
    let max_replicas = match &c.max_replicas {
        Some(v) if *v.get_ref() == 0 => {
            return Err(src.error(v.span(), "cluster.max_replicas", "expected at least 1"));
        }
        Some(v) => *v.get_ref(),
        None => DEFAULT_MAX_REPLICAS.max(min_replicas),
    };
    if min_replicas > max_replicas {
        let span = c
            .min_replicas
            .as_ref()
            .map(|v| v.span())
            .or(c.max_replicas.as_ref().map(|v| v.span()))
            .unwrap_or(0..0);
        return Err(src.error(
            span,
            "cluster.min_replicas",
            format!("min_replicas ({min_replicas}) is greater than max_replicas ({max_replicas})"),
        ));
    }
    let initial_replicas = match &c.initial_replicas {
        Some(v) if *v.get_ref() < min_replicas || *v.get_ref() > max_replicas => {
            return Err(src.error(
                v.span(),
                "cluster.initial_replicas",
                format!(
                    "expected a count from min_replicas ({min_replicas}) to max_replicas ({max_replicas}), found {}",
                    v.get_ref()
                ),
            ));
        }
        Some(v) => Some(*v.get_ref()),
        None => None,
    };
    Ok(ClusterSpec {
        concurrency,
        balancer,
        startup: startup.mean(),
        startup_dist: startup,
        shutdown: c
            .shutdown
            .as_ref()
            .map_or(SimDuration::ZERO, |d| d.get_ref().0),
        min_replicas,
        max_replicas,
        initial_replicas,
        queue_timeout: source::positive_duration(src, &c.queue_timeout, "cluster.queue_timeout")?,
        queue_capacity: match &c.queue_capacity {
            Some(v) if *v.get_ref() == 0 => {
                return Err(src.error(
                    v.span(),
                    "cluster.queue_capacity",
                    "expected at least 1 request per queue",
                ));
            }
            Some(v) => *v.get_ref(),
            None => crate::cluster::DEFAULT_QUEUE_CAPACITY,
        },
        faults: None,
    })
}

fn validate_cost(src: &Source, c: &RawCost) -> Result<CostSpec, InputError> {
    Ok(CostSpec {
        replica_hour: c.replica_hour.map_or(DEFAULT_REPLICA_HOUR, |v| v.0),
        slo_latency: source::positive_duration(src, &c.slo_latency, "cost.slo_latency")?
            .unwrap_or(SimDuration::from_millis(DEFAULT_SLO_LATENCY_MS)),
        violation_penalty: c
            .violation_penalty
            .map_or(DEFAULT_VIOLATION_PENALTY, |v| v.0),
        start_cost: c.start_cost.map_or(0.0, |v| v.0),
        stop_cost: c.stop_cost.map_or(0.0, |v| v.0),
    })
}
