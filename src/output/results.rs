//! The results of a run as read back from its output folder.
//!
//! Plots and reports are drawn from these, never from the in-memory experiment, so `run` and
//! `autoscale-sim report DIR` (which re-renders from the CSVs) draw exactly the same thing. A
//! malformed file is bad input naming the file, the line and the column.

use crate::error::{Error, InputError};
use crate::scenario::{self, Scenario};
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};

/// The copy of the scenario a run writes next to its results.
pub const SCENARIO_COPY: &str = "scenario.toml";

fn nan_if_empty<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Ok(f64::NAN);
    }
    s.trim().parse::<f64>().map_err(|_| {
        serde::de::Error::custom(format!(
            "expected a number, found {s}",
            s = crate::error::quoted(&s)
        ))
    })
}

/// A `policies.csv` row.
#[derive(Clone, Debug, Deserialize)]
pub struct PolicyRow {
    /// The sweep point (from the swept columns; 0 without a sweep).
    #[serde(skip)]
    pub point: usize,
    pub policy: String,
    #[serde(deserialize_with = "nan_if_empty")]
    pub mean_latency_s: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub p95_latency_s: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub p99_latency_s: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub slo_violation_ratio: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub slo_violation_ratio_ci95: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub replica_seconds: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub replica_seconds_ci95: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub cost: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub cost_ci95: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub objective: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub objective_ci95: f64,
    pub rank: usize,
    #[serde(default)]
    pub baseline: String,
    #[serde(default, deserialize_with = "nan_if_empty")]
    pub objective_vs_baseline: f64,
    #[serde(default, deserialize_with = "nan_if_empty")]
    pub objective_vs_baseline_ci95: f64,
    #[serde(default)]
    pub significant: String,
    #[serde(default, deserialize_with = "nan_if_empty")]
    pub regret: f64,
    #[serde(default, deserialize_with = "nan_if_empty")]
    pub regret_ci95: f64,
    #[serde(default)]
    pub policy_type: String,
}

/// A `summary.csv` row (the columns the reports use).
#[derive(Clone, Debug, Deserialize)]
pub struct SummaryRow {
    /// The sweep point (from the swept columns; 0 without a sweep).
    #[serde(skip)]
    pub point: usize,
    pub policy: String,
    pub replication: u32,
    pub seed: u64,
    pub requests: u64,
    /// Requests slower than the SLO or dropped (0 when the file has no such column).
    #[serde(default)]
    pub slo_violations: u64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub slo_violation_ratio: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub replica_seconds: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub cost: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub objective: f64,
}

/// A `timeline.csv` row (the columns the plots use).
#[derive(Clone, Debug, Deserialize)]
pub struct TimelineRow {
    /// The sweep point (from the swept columns; 0 without a sweep).
    #[serde(skip)]
    pub point: usize,
    pub policy: String,
    pub replication: u32,
    #[serde(deserialize_with = "nan_if_empty")]
    pub time_s: f64,
    pub arrivals: u64,
    pub ready_replicas: u32,
    pub desired_replicas: u32,
    #[serde(deserialize_with = "nan_if_empty")]
    pub p95_latency_s: f64,
    #[serde(default, deserialize_with = "nan_if_empty")]
    pub p50_latency_s: f64,
    #[serde(default, deserialize_with = "nan_if_empty")]
    pub p99_latency_s: f64,
    #[serde(default)]
    pub slo_violations: u64,
}

/// A `latency.csv` row.
#[derive(Clone, Debug, Deserialize)]
pub struct LatencyPoint {
    /// The sweep point (from the swept columns; 0 without a sweep).
    #[serde(skip)]
    pub point: usize,
    pub policy: String,
    #[serde(deserialize_with = "nan_if_empty")]
    pub quantile: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub latency_s: f64,
}

/// Everything the plots and reports need.
#[derive(Clone, Debug)]
pub struct Results {
    pub dir: PathBuf,
    pub scenario: Scenario,
    /// Point-major, in rank order within a point.
    pub policies: Vec<PolicyRow>,
    pub summary: Vec<SummaryRow>,
    pub timeline: Vec<TimelineRow>,
    pub latency: Vec<LatencyPoint>,
}

/// Rows that know their sweep point.
trait HasPoint {
    fn set_point(&mut self, point: usize);
}

macro_rules! has_point {
    ($($t:ty),*) => {$(
        impl HasPoint for $t {
            fn set_point(&mut self, point: usize) {
                self.point = point;
            }
        }
    )*};
}
has_point!(PolicyRow, SummaryRow, TimelineRow, LatencyPoint);

/// The columns of the results CSVs that hold text; every other column (but a swept key's)
/// holds a number, or nothing for a value that does not exist.
pub const TEXT_COLUMNS: [&str; 5] = [
    "scenario",
    "policy",
    "baseline",
    "significant",
    "policy_type",
];

/// Checks a results CSV as written by autoscale-sim: not empty, a header and at least one row,
/// every row with the header's number of fields and ending with a newline (not cut short),
/// every number a number. `swept` are the swept keys' columns (labels, checked against the
/// sweep by [`Results::load`]).
pub fn check_csv(path: &Path, text: &[u8], swept: &[&str]) -> Result<(), InputError> {
    let again = "write the folder again (`autoscale-sim run`, or `merge` for a sweep's shards)";
    if text.is_empty() {
        return Err(InputError::new(format!("this file is empty: {again}")).in_file(path));
    }
    if let Some(looks) = crate::sniff::sniff(text).describe() {
        return Err(InputError::new(format!(
            "this file looks like {looks}, not a results CSV: {again}"
        ))
        .in_file(path));
    }
    if !text.ends_with(b"\n") {
        let line = text.iter().filter(|b| **b == b'\n').count() + 1;
        return Err(InputError::new(format!(
            "the last line has no end: the file was cut short; {again}"
        ))
        .in_file(path)
        .at_line(line));
    }
    let mut rdr = csv::ReaderBuilder::new().from_reader(text);
    let headers = rdr
        .headers()
        .map_err(|e| {
            InputError::new(format!("cannot read the header: {e}"))
                .in_file(path)
                .at_line(1)
        })?
        .clone();
    let numeric: Vec<bool> = headers
        .iter()
        .map(|h| !TEXT_COLUMNS.contains(&h) && !swept.contains(&h))
        .collect();
    let mut rows = 0usize;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            InputError::new(format!("malformed CSV row: {e}"))
                .in_file(path)
                .at_line(line)
        })?;
        rows += 1;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        for (i, field) in rec.iter().enumerate() {
            if numeric[i] && !field.is_empty() && field.trim().parse::<f64>().is_err() {
                return Err(InputError::new(format!(
                    "expected a number (or nothing), found {}",
                    crate::error::quoted(field)
                ))
                .in_file(path)
                .at(line, i + 1)
                .key(&headers[i]));
            }
        }
    }
    if rows == 0 {
        return Err(
            InputError::new(format!("this file has a header but no rows: {again}"))
                .in_file(path)
                .at_line(2),
        );
    }
    Ok(())
}

/// Reads a results CSV; with a sweep, each row's point comes from its swept columns.
fn read_csv<T: for<'de> Deserialize<'de> + HasPoint>(
    path: &Path,
    sweep: Option<&crate::scenario::sweep::Sweep>,
) -> Result<Vec<T>, Error> {
    let text = crate::sniff::read_file(path, crate::sniff::RESULTS_CAP).map_err(|e| {
        InputError::new(format!("cannot read {}: {e}", path.display())).in_file(path)
    })?;
    parse_csv(path, &text, sweep)
}

/// Reads `text` as each kind of results CSV (for fuzzing: every error must be an error, never
/// a panic).
pub fn parse_any(path: &Path, text: &[u8]) {
    let _ = parse_csv::<PolicyRow>(path, text, None);
    let _ = parse_csv::<SummaryRow>(path, text, None);
    let _ = parse_csv::<TimelineRow>(path, text, None);
    let _ = parse_csv::<LatencyPoint>(path, text, None);
}

/// Parses the results CSV `text` read from `path`, checked by [`check_csv`] first.
fn parse_csv<T: for<'de> Deserialize<'de> + HasPoint>(
    path: &Path,
    text: &[u8],
    sweep: Option<&crate::scenario::sweep::Sweep>,
) -> Result<Vec<T>, Error> {
    let swept: Vec<&str> = sweep.map_or(Vec::new(), |s| {
        s.params.iter().map(|p| p.key.as_str()).collect()
    });
    check_csv(path, text, &swept)?;
    let mut rdr = csv::Reader::from_reader(text);
    let headers = rdr
        .headers()
        .map_err(|e| InputError::new(format!("cannot read the header: {e}")).in_file(path))?
        .clone();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            InputError::new(format!("malformed CSV row: {e}"))
                .in_file(path)
                .at_line(line)
        })?;
        let mut row: T = rec.deserialize(Some(&headers)).map_err(|e| {
            let line = rec.position().map_or(0, |p| p.line() as usize);
            let mut err = InputError::new(e.to_string()).in_file(path).at_line(line);
            let field = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => err.field(),
                _ => None,
            };
            if let Some(f) = field {
                err = err
                    .key(headers.get(f as usize).unwrap_or("?"))
                    .at(line, f as usize + 1);
            }
            err
        })?;
        if let Some(sw) = sweep {
            let line = rec.position().map_or(0, |p| p.line() as usize);
            let mut labels = Vec::with_capacity(sw.params.len());
            for p in &sw.params {
                let i = headers.iter().position(|h| h == p.key).ok_or_else(|| {
                    InputError::new(format!("expected a column for the swept key {}", p.key))
                        .in_file(path)
                        .at_line(1)
                })?;
                labels.push(rec.get(i).unwrap_or_default().to_string());
            }
            let point = sw
                .points
                .iter()
                .position(|pt| pt.labels == labels)
                .ok_or_else(|| {
                    InputError::new(format!(
                        "the swept values {} are not a point of the scenario's sweep",
                        labels.join(", ")
                    ))
                    .in_file(path)
                    .at_line(line)
                })?;
            row.set_point(point);
        }
        out.push(row);
    }
    Ok(out)
}

impl Results {
    /// Reads the results in `dir` (written by `autoscale-sim run`).
    pub fn load(dir: &Path) -> Result<Results, Error> {
        let scenario_path = dir.join(SCENARIO_COPY);
        let scenario = scenario::load_recorded(&scenario_path)?;
        let sw = scenario.sweep.as_ref();
        let mut policies: Vec<PolicyRow> = read_csv(&dir.join("policies.csv"), sw)?;
        policies.sort_by_key(|p| (p.point, p.rank));
        let latency_path = dir.join("latency.csv");
        let latency = if latency_path.exists() {
            read_csv(&latency_path, sw)?
        } else {
            Vec::new()
        };
        Ok(Results {
            dir: dir.to_path_buf(),
            policies,
            summary: read_csv(&dir.join("summary.csv"), sw)?,
            timeline: read_csv(&dir.join("timeline.csv"), sw)?,
            latency,
            scenario,
        })
    }

    /// Policy names in scenario order (the order colours are given in).
    pub fn policy_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .scenario
            .policies
            .iter()
            .map(|p| p.name.clone())
            .filter(|n| self.policies.iter().any(|p| &p.policy == n))
            .collect();
        for p in &self.policies {
            if !names.contains(&p.policy) {
                names.push(p.policy.clone());
            }
        }
        names
    }

    /// The first sweep point present (0 without a sweep): the one the time charts show.
    pub fn first_point(&self) -> usize {
        self.policies.iter().map(|p| p.point).min().unwrap_or(0)
    }

    /// The policies of the first point, in rank order.
    pub fn first_policies(&self) -> Vec<&PolicyRow> {
        let p = self.first_point();
        self.policies.iter().filter(|r| r.point == p).collect()
    }

    /// The timeline rows of `policy`'s first replication at the first point.
    pub fn first_timeline(&self, policy: &str) -> Vec<&TimelineRow> {
        self.timeline_of(self.first_point(), policy)
    }

    /// The timeline rows of `policy`'s first replication at `point`.
    pub fn timeline_of(&self, point: usize, policy: &str) -> Vec<&TimelineRow> {
        let first = self
            .timeline
            .iter()
            .filter(|t| t.point == point && t.policy == policy)
            .map(|t| t.replication)
            .min();
        self.timeline
            .iter()
            .filter(|t| t.point == point && t.policy == policy && Some(t.replication) == first)
            .collect()
    }

    /// The scenario of `point` (the scenario itself without a sweep).
    pub fn point_scenario(&self, point: usize) -> &Scenario {
        self.scenario
            .sweep
            .as_ref()
            .and_then(|s| s.points.get(point))
            .map_or(&self.scenario, |p| &p.scenario)
    }

    /// The plan of the overall winner (the lowest mean objective over every point and
    /// policy; the first on ties), from its first replication's timeline: the initial
    /// replicas, then the desired count in effect at the start of each interval.
    pub fn winner_plan(&self) -> Option<Vec<(f64, u32)>> {
        let winner = self
            .policies
            .iter()
            .min_by(|a, b| a.objective.total_cmp(&b.objective))?;
        let sc = self.point_scenario(winner.point);
        let index = sc.policies.iter().position(|p| p.name == winner.policy)?;
        let mut current = crate::experiment::initial_replicas(sc, index);
        let mut plan = Vec::new();
        for row in self.timeline_of(winner.point, &winner.policy) {
            plan.push((row.time_s, current));
            current = row.desired_replicas;
        }
        Some(plan)
    }

    pub fn replications(&self) -> u32 {
        self.summary
            .iter()
            .map(|s| s.replication + 1)
            .max()
            .unwrap_or(0)
    }

    pub fn seed(&self) -> u64 {
        self.summary.first().map_or(self.scenario.seed, |s| s.seed)
    }
}
