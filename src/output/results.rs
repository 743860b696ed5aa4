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
    s.trim()
        .parse::<f64>()
        .map_err(|_| serde::de::Error::custom(format!("expected a number, found \"{s}\"")))
}

/// A `policies.csv` row.
#[derive(Clone, Debug, Deserialize)]
pub struct PolicyRow {
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
    pub policy: String,
    pub replication: u32,
    pub seed: u64,
    pub requests: u64,
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
    /// In rank order.
    pub policies: Vec<PolicyRow>,
    pub summary: Vec<SummaryRow>,
    pub timeline: Vec<TimelineRow>,
    pub latency: Vec<LatencyPoint>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, Error> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| {
        InputError::new(format!("cannot read {}: {e}", path.display())).in_file(path)
    })?;
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
        let row: T = rec.deserialize(Some(&headers)).map_err(|e| {
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
        out.push(row);
    }
    Ok(out)
}

impl Results {
    /// Reads the results in `dir` (written by `autoscale-sim run`).
    pub fn load(dir: &Path) -> Result<Results, Error> {
        let scenario_path = dir.join(SCENARIO_COPY);
        let scenario = scenario::load(&scenario_path)?;
        let mut policies: Vec<PolicyRow> = read_csv(&dir.join("policies.csv"))?;
        policies.sort_by_key(|p| p.rank);
        let latency_path = dir.join("latency.csv");
        let latency = if latency_path.exists() {
            read_csv(&latency_path)?
        } else {
            Vec::new()
        };
        Ok(Results {
            dir: dir.to_path_buf(),
            scenario,
            policies,
            summary: read_csv(&dir.join("summary.csv"))?,
            timeline: read_csv(&dir.join("timeline.csv"))?,
            latency,
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

    /// The timeline rows of `policy`'s first replication.
    pub fn first_timeline(&self, policy: &str) -> Vec<&TimelineRow> {
        let first = self
            .timeline
            .iter()
            .filter(|t| t.policy == policy)
            .map(|t| t.replication)
            .min();
        self.timeline
            .iter()
            .filter(|t| t.policy == policy && Some(t.replication) == first)
            .collect()
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
