//! `autoscale-sim validate`: the simulator against queueing theory.
//!
//! A fixed grid of cases whose answer is known exactly: M/M/c (Erlang C) for several numbers of
//! servers and loads, and M/G/1 (Pollaczek-Khinchine) for deterministic, lognormal, gamma and
//! uniform service. Each case runs independent replications; a case passes when the analytic
//! mean wait and P(wait) both lie within the 99.9% confidence interval (Student t) of the
//! simulated means.

use crate::error::Error;
use crate::experiment::{self, RunOptions};
use crate::planner::queueing::{MG1, MMc};
use crate::scenario;
use crate::stats::RunSummary;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;

/// One validation case.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub servers: u32,
    pub arrival_rate: f64,
    /// The `[service]` table's body.
    pub service: String,
    pub duration_s: f64,
    pub expected_wait: f64,
    pub expected_p_wait: f64,
}

/// A case's outcome.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: Case,
    /// Mean over replications and the 99.9% CI half-width.
    pub wait: (f64, f64),
    pub p_wait: (f64, f64),
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        let ok = |(m, h): (f64, f64), e: f64| (m - e).abs() <= h;
        ok(self.wait, self.case.expected_wait) && ok(self.p_wait, self.case.expected_p_wait)
    }
}

/// The grid of cases.
pub fn cases() -> Vec<Case> {
    let mean = 0.1;
    let mut out = Vec::new();
    for (c, rho, duration_s) in [
        (1u32, 0.5, 20_000.0),
        (1, 0.8, 60_000.0),
        (2, 0.7, 20_000.0),
        (8, 0.9, 20_000.0),
        (32, 0.8, 12_000.0),
        (64, 0.9, 6_000.0),
    ] {
        let rate = rho * f64::from(c) / mean;
        let q = MMc::new(rate, 1.0 / mean, u64::from(c));
        out.push(Case {
            name: format!("M/M/{c} rho={rho}"),
            servers: c,
            arrival_rate: rate,
            service: format!("distribution = \"exponential\"\nmean = {mean}"),
            duration_s,
            expected_wait: q.mean_wait(),
            expected_p_wait: q.p_wait(),
        });
    }
    for (label, service, scv, rho, duration_s) in [
        (
            "M/D/1",
            "distribution = \"deterministic\"\nmean = 0.1",
            0.0,
            0.7,
            20_000.0,
        ),
        (
            "M/G/1 lognormal cv=1.5",
            "distribution = \"lognormal\"\nmean = 0.1\ncv = 1.5",
            2.25,
            0.6,
            60_000.0,
        ),
        (
            "M/G/1 gamma cv=2",
            "distribution = \"gamma\"\nmean = 0.1\ncv = 2.0",
            4.0,
            0.5,
            60_000.0,
        ),
        (
            "M/G/1 uniform 50-150ms",
            "distribution = \"uniform\"\nmin = 0.05\nmax = 0.15",
            1.0 / 12.0,
            0.8,
            20_000.0,
        ),
    ] {
        let rate = rho / mean;
        let q = MG1::new(rate, mean, scv);
        out.push(Case {
            name: format!("{label} rho={rho}"),
            servers: 1,
            arrival_rate: rate,
            service: service.to_string(),
            duration_s,
            expected_wait: q.mean_wait(),
            expected_p_wait: q.p_wait(),
        });
    }
    out
}

fn scenario_text(case: &Case) -> String {
    format!(
        "name = \"validate\"\nseed = 20261127\nduration = {d}\nwarmup = {w}\ninterval = {d}\n\
         [workload]\ntype = \"poisson\"\nrate = {rate}\n[service]\n{service}\n\
         [cluster]\nload_balancer = \"shared_queue\"\nmax_replicas = {c}\ninitial_replicas = {c}\n\
         [[policy]]\nname = \"static\"\ntype = \"static\"\nreplicas = {c}\n",
        d = case.duration_s,
        w = case.duration_s / 20.0,
        rate = case.arrival_rate,
        service = case.service,
        c = case.servers,
    )
}

/// Runs one case with `replications` replications (at least 2).
pub fn run_case(
    case: &Case,
    replications: u32,
    threads: Option<usize>,
) -> Result<CaseResult, Error> {
    let sc = scenario::parse(Path::new("validate.toml"), &scenario_text(case))?;
    let exp = experiment::run(
        &sc,
        &RunOptions {
            replications: Some(replications.max(2)),
            threads,
            // The command checks its own limit on replications.
            allow_large: true,
            ..Default::default()
        },
    )?;
    let t = StudentsT::new(0.0, 1.0, f64::from(replications.max(2) - 1))
        .expect("positive degrees of freedom")
        .inverse_cdf(0.9995);
    let ci = |f: fn(&RunSummary) -> f64| {
        let xs: Vec<f64> = exp.runs.iter().map(|r| f(&r.summary)).collect();
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, t * (v / n).sqrt())
    };
    Ok(CaseResult {
        case: case.clone(),
        wait: ci(|s| s.mean_wait_s),
        p_wait: ci(|s| s.p_wait),
    })
}

/// The results as a table: waits in seconds, ± the half-width of the 99.9% confidence
/// interval over the replications.
pub fn table(results: &[CaseResult]) -> String {
    let mut out = format!(
        "{:<31} {:>15} {:>23} {:>8} {:>14} {:>22} {:>4}\n",
        "case",
        "E[W] theory (s)",
        "E[W] sim (s) ± 99.9% CI",
        "diff",
        "P(wait) theory",
        "P(wait) sim ± 99.9% CI",
        "ok"
    );
    for r in results {
        let c = &r.case;
        out.push_str(&format!(
            "{:<31} {:>15.6} {:>14.6} ±{:>7.6} {:>+7.2}% {:>14.5} {:>13.5} ±{:>7.5} {:>4}\n",
            c.name,
            c.expected_wait,
            r.wait.0,
            r.wait.1,
            100.0 * (r.wait.0 - c.expected_wait) / c.expected_wait,
            c.expected_p_wait,
            r.p_wait.0,
            r.p_wait.1,
            if r.passed() { "yes" } else { "OFF" }
        ));
    }
    out
}
