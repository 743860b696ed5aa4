//! Resource guards: what a scenario will hold and do, estimated before anything runs.
//!
//! Before a run starts, [`check`] estimates from the validated scenario (after `--seed`,
//! `--replications` and `--policy`):
//! - `arrivals`: the expected arrivals of every run together (the workload's mean rate ×
//!   `duration`, summed over policies × replications × sweep points), which bounds the time a
//!   run takes (about 13 million requests per second per core); for a trace, the rate and
//!   length of the trace as read from its start ([`crate::workload::trace::estimate`]), times
//!   `scale` and `speedup`;
//! - `runs`: policies × replications × sweep points (each run's results are kept);
//! - `timeline_rows`: `duration / interval` rows per run, over every run;
//! - `sweep_points`: the points of the `[sweep]` grid (checked before the grid is expanded);
//! - `planner_cells`: the largest table a planner builds, decision steps × the replica band
//!   (`max_replicas - min_replicas + 1`): the oracle plans the whole run, `dp` its `horizon`
//!   (and keeps a `season` of history);
//! - `replicas`: `cluster.max_replicas`, the containers a run may hold state for.
//!
//! An estimate above its limit is an input error (exit 2) naming the scenario key that drives
//! it, the estimate, the limit, and the two ways to raise it: a `[limits]` table in the
//! scenario (`[limits] arrivals = 5e9` is written `arrivals = 5_000_000_000`) or
//! `--allow-large`, which lifts every limit of this module. The defaults keep any accepted
//! scenario within a few minutes and a few GB; `docs/limits.md` documents them. Minimum periods
//! ([`super::source::MIN_PERIOD`]) are validity, not size, and `--allow-large` does not lift them.

use super::Scenario;
use super::source::Source;
use crate::error::{InputError, num};
use crate::workload::WorkloadSpec;
use crate::workload::trace::estimate::Sample;
use serde::Deserialize;
use toml::Spanned;

/// The most rows `trace convert` and `trace generate` write without `--allow-large` (about
/// 1.5 GB of CSV).
pub const MAX_TRACE_ROWS: u64 = 100_000_000;

/// The limits of a scenario: the defaults, or those its `[limits]` table raises or lowers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub arrivals: u64,
    pub runs: u64,
    pub timeline_rows: u64,
    pub sweep_points: u64,
    pub planner_cells: u64,
    pub replicas: u64,
}

impl Limits {
    /// No limit: what `--allow-large` sets.
    pub const UNLIMITED: Limits = Limits {
        arrivals: u64::MAX,
        runs: u64::MAX,
        timeline_rows: u64::MAX,
        sweep_points: u64::MAX,
        planner_cells: u64::MAX,
        replicas: u64::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            arrivals: 1_000_000_000,
            runs: 100_000,
            timeline_rows: 10_000_000,
            sweep_points: 10_000,
            planner_cells: 20_000_000,
            replicas: 1_000_000,
        }
    }
}

/// The `[limits]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    arrivals: Option<Spanned<u64>>,
    runs: Option<Spanned<u64>>,
    timeline_rows: Option<Spanned<u64>>,
    sweep_points: Option<Spanned<u64>>,
    planner_cells: Option<Spanned<u64>>,
    replicas: Option<Spanned<u64>>,
}

/// Validates a `[limits]` table: each limit at least 1.
pub(crate) fn validate(src: &Source, raw: &RawLimits) -> Result<Limits, InputError> {
    let d = Limits::default();
    let get = |v: &Option<Spanned<u64>>, key: &str, default: u64| -> Result<u64, InputError> {
        match v {
            Some(x) if *x.get_ref() == 0 => Err(src.error(
                x.span(),
                &format!("limits.{key}"),
                "expected a limit of at least 1",
            )),
            Some(x) => Ok(*x.get_ref()),
            None => Ok(default),
        }
    };
    Ok(Limits {
        arrivals: get(&raw.arrivals, "arrivals", d.arrivals)?,
        runs: get(&raw.runs, "runs", d.runs)?,
        timeline_rows: get(&raw.timeline_rows, "timeline_rows", d.timeline_rows)?,
        sweep_points: get(&raw.sweep_points, "sweep_points", d.sweep_points)?,
        planner_cells: get(&raw.planner_cells, "planner_cells", d.planner_cells)?,
        replicas: get(&raw.replicas, "replicas", d.replicas)?,
    })
}

/// The error for an estimate above its limit. `key` is the scenario key (or option) that
/// drives the estimate, `what` says what was estimated and how.
pub fn exceeded(
    sc: &Scenario,
    key: &str,
    limit_key: &str,
    what: &str,
    estimate: f64,
    limit: u64,
) -> InputError {
    exceeded_in(&sc.path, &sc.text, key, limit_key, what, estimate, limit)
}

/// [`exceeded`] for the scenario file `path` of text `text` (a serverless scenario too).
pub fn exceeded_in(
    path: &std::path::Path,
    text: &str,
    key: &str,
    limit_key: &str,
    what: &str,
    estimate: f64,
    limit: u64,
) -> InputError {
    let mut e = InputError::new(format!(
        "{what} is {}, above the limit of {limit}; if that is intended, raise it with \
         `[limits] {limit_key} = N` in the scenario or run with --allow-large (see docs/limits.md)",
        num(estimate.round()),
    ))
    .key(key);
    if !path.as_os_str().is_empty() {
        e = e.in_file(path);
        if let Some(line) = line_of(text, key) {
            e = e.at_line(line);
        }
    }
    e
}

/// The 1-based line where the dotted `key` is set in `text`, if it is (scenario texts over
/// 1 MB are not searched).
fn line_of(text: &str, key: &str) -> Option<usize> {
    if text.len() > 1 << 20 || key.starts_with('-') {
        return None;
    }
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        if !t.is_empty()
            && !t.starts_with('#')
            && t.contains('=')
            && super::source::key_at(text, offset + (line.len() - t.len())).as_deref() == Some(key)
        {
            return Some(i + 1);
        }
        offset += line.len();
    }
    None
}

/// The expected number of arrivals of one run of `sc` (`None` for a trace, whose readers check
/// their own counts as they read).
pub fn expected_arrivals(sc: &Scenario) -> Option<f64> {
    workload_arrivals(&sc.workload, sc.duration)
}

/// The expected number of arrivals of `workload` over `duration` (`None` for a trace).
pub fn workload_arrivals(
    workload: &WorkloadSpec,
    duration: crate::time::SimDuration,
) -> Option<f64> {
    let t = duration.as_secs_f64();
    Some(match workload {
        WorkloadSpec::Piecewise { steps } => {
            let mut total = 0.0;
            for (i, (start, rate)) in steps.iter().enumerate() {
                let from = start.as_secs_f64().min(t);
                let to = steps.get(i + 1).map_or(t, |s| s.0.as_secs_f64().min(t));
                total += rate * (to - from).max(0.0);
            }
            total
        }
        WorkloadSpec::Diurnal { rate, .. } => rate * t,
        WorkloadSpec::Mmpp {
            rates,
            mean_durations,
        } => {
            let d: Vec<f64> = mean_durations.iter().map(|d| d.as_secs_f64()).collect();
            let total: f64 = d.iter().sum();
            rates.iter().zip(&d).map(|(r, d)| r * d).sum::<f64>() / total * t
        }
        WorkloadSpec::Trace(_) => return None,
    })
}

/// The key a message names for the workload's rate.
fn rate_key(sc: &Scenario) -> &'static str {
    match &sc.workload {
        WorkloadSpec::Piecewise { steps } if steps.len() == 1 => "workload.rate",
        WorkloadSpec::Piecewise { .. } => "workload.steps",
        WorkloadSpec::Diurnal { .. } => "workload.rate",
        WorkloadSpec::Mmpp { .. } => "workload.rates",
        WorkloadSpec::Trace(_) => "workload.scale",
    }
}

/// The largest planner table of `sc`'s policies, in cells, and the key that drives it.
fn planner_cells(sc: &Scenario) -> Option<(f64, String)> {
    use crate::autoscaler::PolicySpec;
    let band = f64::from(sc.cluster.max_replicas - sc.cluster.min_replicas) + 1.0;
    let mut best: Option<(f64, String)> = None;
    for p in &sc.policies {
        // The planner's own decision `step`, else the report interval.
        let step = p
            .spec
            .decision_step()
            .unwrap_or(sc.interval)
            .as_secs_f64()
            .max(1e-9);
        let (cells, key) = match &p.spec {
            PolicySpec::Oracle(_) => {
                // The whole run planned at once, and the arrivals counted per second.
                let steps = (sc.duration.as_secs_f64() / step).ceil();
                (
                    (steps * band).max(sc.duration.as_secs_f64()),
                    "cluster.max_replicas".to_string(),
                )
            }
            PolicySpec::Dp(d) => {
                let steps = (d.horizon.as_secs_f64() / step).ceil();
                let season = (d.season.as_secs_f64() / step).ceil();
                if season > steps * band {
                    (season, format!("policy.{}.season", p.name))
                } else {
                    (steps * band, format!("policy.{}.horizon", p.name))
                }
            }
            _ => continue,
        };
        if best.as_ref().is_none_or(|(c, _)| cells > *c) {
            best = Some((cells, key));
        }
    }
    best
}

/// Checks the estimates of running every policy and replication of `sc` (and every point of
/// its sweep) against its limits. `replications_key` is the key that set the replication
/// count (`replications`, or `--replications` when the command line overrode it).
pub fn check(sc: &Scenario, replications_key: &str) -> Result<(), InputError> {
    let points: Vec<&Scenario> = match &sc.sweep {
        Some(sw) => sw.points.iter().map(|p| p.scenario.as_ref()).collect(),
        None => vec![sc],
    };
    check_points(sc, &points, replications_key)
}

/// [`check`] for the points a run will simulate (each with the command line's overrides
/// applied; one shard's points with `--shard`); `sc` is the scenario they come from.
pub fn check_points(
    sc: &Scenario,
    points: &[&Scenario],
    replications_key: &str,
) -> Result<(), InputError> {
    let lim = &sc.limits;
    let point_count = points.len() as f64;
    let mut runs = 0.0;
    let mut arrivals = 0.0;
    let mut rows = 0.0;
    // Each trace is sampled once, whatever the points that replay it.
    let mut samples: Vec<(String, Option<Sample>)> = Vec::new();
    for p in points {
        let n = p.policies.len() as f64 * f64::from(p.replications);
        runs += n;
        if let Some(a) = expected_arrivals(p) {
            arrivals += a * n;
        } else if let WorkloadSpec::Trace(spec) = &p.workload
            && lim.arrivals < u64::MAX
        {
            let key = format!(
                "{:?} {:?} {:?} {:?} {:?}",
                spec.path, spec.format, spec.bin, spec.function, spec.time_unit
            );
            let sample = match samples.iter().find(|(k, _)| *k == key) {
                Some((_, s)) => *s,
                None => {
                    let s = Sample::read(spec);
                    samples.push((key, s));
                    s
                }
            };
            if let Some(s) = sample {
                arrivals += s.replayed(spec, p.duration) * n;
            }
        }
        rows += (p.duration.as_secs_f64() / p.interval.as_secs_f64()).ceil() * n;
    }
    let per = |x: &str| {
        if point_count > 1.0 {
            format!("{x} × {point_count} sweep points")
        } else {
            x.to_string()
        }
    };
    if runs > lim.runs as f64 {
        return Err(exceeded(
            sc,
            replications_key,
            "runs",
            &format!("the number of runs ({})", per("policies × replications")),
            runs,
            lim.runs,
        ));
    }
    if arrivals > lim.arrivals as f64 {
        let how = if matches!(sc.workload, WorkloadSpec::Trace(_)) {
            "the trace's rate × scale × speedup × duration × policies × replications"
        } else {
            "mean rate × duration × policies × replications"
        };
        return Err(exceeded(
            sc,
            rate_key(sc),
            "arrivals",
            &format!("the expected number of arrivals ({})", per(how)),
            arrivals,
            lim.arrivals,
        ));
    }
    if rows > lim.timeline_rows as f64 {
        return Err(exceeded(
            sc,
            "interval",
            "timeline_rows",
            &format!(
                "the number of timeline rows ({})",
                per("duration / interval × policies × replications")
            ),
            rows,
            lim.timeline_rows,
        ));
    }
    for p in points {
        if f64::from(p.cluster.max_replicas) > lim.replicas as f64 {
            return Err(exceeded(
                sc,
                "cluster.max_replicas",
                "replicas",
                "the number of containers a run may hold (`cluster.max_replicas`)",
                f64::from(p.cluster.max_replicas),
                lim.replicas,
            ));
        }
        if let Some((cells, key)) = planner_cells(p)
            && cells > lim.planner_cells as f64
        {
            return Err(exceeded(
                sc,
                &key,
                "planner_cells",
                "the size of the planner's table (planning steps × replica band, in cells)",
                cells,
                lim.planner_cells,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(extra: &str, workload: &str) -> Scenario {
        let text = format!(
            "duration = \"1h\"\n{extra}\n[workload]\n{workload}\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[[policy]]\nname = \"a\"\ntype = \"static\"\nreplicas = 1\n"
        );
        crate::scenario::parse(Path::new("t.toml"), &text).unwrap()
    }

    #[test]
    fn expected_arrivals_integrate_the_rate() {
        let p = parse("", "type = \"poisson\"\nrate = 10.0");
        assert_eq!(expected_arrivals(&p), Some(36_000.0));
        // 0..30m at 0 (implicit), 30m..1h at 4/s; a step past the end adds nothing.
        let s = parse(
            "",
            "type = \"step\"\nsteps = [[\"30m\", 4.0], [\"2h\", 100.0]]",
        );
        assert_eq!(expected_arrivals(&s), Some(1800.0 * 4.0));
        // Stationary mean (2·10 + 8·1) / 11 over 3600 s.
        let m = parse(
            "",
            "type = \"mmpp\"\nrates = [2.0, 8.0]\nmean_durations = [\"10s\", \"1s\"]",
        );
        let want = (2.0 * 10.0 + 8.0 * 1.0) / 11.0 * 3600.0;
        assert!((expected_arrivals(&m).unwrap() - want).abs() < 1e-6);
    }

    #[test]
    fn estimates_above_a_limit_name_key_estimate_and_limit() {
        let p = parse("", "type = \"poisson\"\nrate = 1e12");
        let e = check(&p, "replications").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("workload.rate"));
        assert!(
            e.message
                .contains("is 3.6e15, above the limit of 1000000000"),
            "{e}"
        );
        let raised = parse(
            "[limits]\narrivals = 4_000_000_000_000_000",
            "type = \"poisson\"\nrate = 1e12",
        );
        assert!(check(&raised, "replications").is_ok());
        let rows = parse(
            "interval = \"1ms\"\n[limits]\ntimeline_rows = 1000",
            "type = \"poisson\"\nrate = 1.0",
        );
        let e = check(&rows, "replications").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("interval"));
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("is 3600000, above the limit of"), "{e}");
    }
}
