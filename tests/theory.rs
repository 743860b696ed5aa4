//! The simulator against queueing theory.
//!
//! Each case runs independent replications (fixed seeds) and compares the mean over
//! replications of the simulated mean wait and P(wait) with the analytic value. The tolerance
//! is the replications' 99.9% confidence interval (Student t, 9 degrees of freedom: 4.78
//! standard errors), and each case is sized so that interval is within a few percent of the
//! value, so the test has the power to see a bias of that size. The analytic formulas are
//! written out here, independently of the planner's queueing module.

use autoscale_sim::experiment::{self, RunOptions};
use autoscale_sim::scenario;
use std::path::Path;

const REPLICATIONS: u32 = 10;
const T_999_DF9: f64 = 4.781;

/// Erlang C: probability that an arrival waits in M/M/c with offered load `a` = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// Simulates and returns (mean, standard error) over replications of mean wait and P(wait).
fn simulate(toml: &str) -> ((f64, f64), (f64, f64)) {
    let sc = scenario::parse(Path::new("theory.toml"), toml).expect("valid scenario");
    let exp = experiment::run(
        &sc,
        &RunOptions {
            replications: Some(REPLICATIONS),
            ..Default::default()
        },
    )
    .expect("runs");
    let stat = |f: &dyn Fn(&autoscale_sim::stats::RunSummary) -> f64| {
        let xs: Vec<f64> = exp.runs.iter().map(|r| f(&r.summary)).collect();
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, (v / n).sqrt())
    };
    (stat(&|s| s.mean_wait_s), stat(&|s| s.p_wait))
}

fn scenario_text(rate: f64, servers: u32, service: &str, duration_s: f64) -> String {
    format!(
        r#"
name = "theory"
seed = 20261127
duration = {duration_s}
warmup = {warmup}
interval = {duration_s}
[workload]
type = "poisson"
rate = {rate}
[service]
{service}
[cluster]
load_balancer = "shared_queue"
max_replicas = {servers}
initial_replicas = {servers}
[[policy]]
name = "static"
type = "static"
replicas = {servers}
"#,
        warmup = duration_s / 20.0
    )
}

fn check(name: &str, got: (f64, f64), expected: f64) {
    let (m, se) = got;
    let tol = T_999_DF9 * se;
    assert!(
        tol < 0.05 * expected,
        "{name}: too few samples for a useful check (±{tol} around {expected})"
    );
    assert!(
        (m - expected).abs() <= tol,
        "{name}: simulated {m} ± {tol}, theory {expected}"
    );
}

/// M/M/c for several c and loads: Erlang C gives P(wait) and E[W] = C / (cμ - λ).
#[test]
fn mmc_mean_wait_and_p_wait_match_erlang_c() {
    let mean = 0.1;
    for (c, rho, duration) in [
        (1u32, 0.5, 20_000.0),
        (1, 0.8, 60_000.0),
        (2, 0.7, 20_000.0),
        (8, 0.9, 20_000.0),
        (32, 0.8, 12_000.0),
        (64, 0.9, 6_000.0),
    ] {
        let rate = rho * f64::from(c) / mean;
        let service = format!("distribution = \"exponential\"\nmean = {mean}");
        let (wait, p_wait) = simulate(&scenario_text(rate, c, &service, duration));
        let pc = erlang_c(c, rate * mean);
        let w = pc / (f64::from(c) / mean - rate);
        check(&format!("M/M/{c} at {rho}: mean wait"), wait, w);
        check(&format!("M/M/{c} at {rho}: P(wait)"), p_wait, pc);
    }
}

/// M/G/1: Pollaczek-Khinchine, E[W] = ρ E[S] (1 + cv²) / (2 (1 - ρ)), and P(wait) = ρ.
#[test]
fn mg1_mean_wait_matches_pollaczek_khinchine() {
    let mean = 0.1;
    for (service, scv, rho, duration) in [
        (
            "distribution = \"deterministic\"\nmean = 0.1",
            0.0,
            0.7,
            20_000.0,
        ),
        (
            "distribution = \"lognormal\"\nmean = 0.1\ncv = 1.5",
            2.25,
            0.6,
            60_000.0,
        ),
        (
            "distribution = \"gamma\"\nmean = 0.1\ncv = 2.0",
            4.0,
            0.5,
            60_000.0,
        ),
        (
            "distribution = \"uniform\"\nmin = 0.05\nmax = 0.15",
            1.0 / 12.0,
            0.8,
            20_000.0,
        ),
    ] {
        let rate = rho / mean;
        let (wait, p_wait) = simulate(&scenario_text(rate, 1, service, duration));
        let w = rho * mean * (1.0 + scv) / (2.0 * (1.0 - rho));
        check(&format!("M/G/1 {service}: mean wait"), wait, w);
        check(&format!("M/G/1 {service}: P(wait)"), p_wait, rho);
    }
}
