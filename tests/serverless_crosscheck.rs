//! Cross-check of the per_request platform against SimFaaS (Mahmoudi & Khazaei, "SimFaaS: A
//! Performance Simulator for Serverless Computing Platforms", CLOSER 2021; PyPI `simfaas`
//! 0.2.2).
//!
//! `scripts/crosscheck/simfaas_reference.csv` holds SimFaaS's results on a grid of arrival
//! rates, warm and cold service rates and expiration thresholds (5 replications of 20,000 s
//! each, with 95% confidence half-widths), written by `scripts/crosscheck/run.sh`. For every
//! grid point this test simulates the same model here (Poisson arrivals, exponential warm and
//! cold service times, `cold_service`, a fixed keep-alive equal to the threshold) for 5
//! replications of 20,000 s and checks that the cold-start probability and the time-average
//! instance, running and idle counts agree within the two simulators' joint confidence
//! interval: |difference| ≤ t · sqrt(se_a² + se_b²), with t the two-sided Student quantile at
//! the Bonferroni level 0.05 / (number of comparisons) and 4 degrees of freedom, so that the
//! whole table fails by chance less than 5% of the time. No Python is needed.

use autoscale_sim::serverless::{runner, scenario};
use autoscale_sim::stats::mean_ci95;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;

const REFERENCE: &str = "scripts/crosscheck/simfaas_reference.csv";
const REPLICATIONS: u32 = 5;
const DURATION_S: f64 = 20_000.0;

struct Row {
    rate: f64,
    warm: f64,
    cold: f64,
    threshold: f64,
    /// (mean, 95% half-width) of p_cold, instances, running, idle.
    metrics: [(f64, f64); 4],
}

fn read_reference() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(REFERENCE);
    let mut rdr = csv::Reader::from_path(&path).expect("the committed reference is readable");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("a well-formed reference row");
        let f = |i: usize| rec[i].parse::<f64>().expect("a number");
        out.push(Row {
            rate: f(0),
            warm: f(1),
            cold: f(2),
            threshold: f(3),
            metrics: [(f(6), f(7)), (f(8), f(9)), (f(10), f(11)), (f(12), f(13))],
        });
    }
    out
}

/// This simulator's (mean, 95% half-width) of the four metrics at one grid point.
fn simulate(row: &Row, seed: u64) -> [(f64, f64); 4] {
    let text = format!(
        r#"
name = "crosscheck"
seed = {seed}
duration = {DURATION_S}
replications = {REPLICATIONS}
interval = "1h"
[workload]
type = "poisson"
rate = {rate}
[service]
distribution = "exponential"
mean = {warm_mean}
[platform]
type = "per_request"
max_instances = 100000
cold_service = {{ distribution = "exponential", mean = {cold_mean} }}
[[policy]]
name = "simfaas"
type = "keep_alive_fixed"
keep_alive = {threshold}
"#,
        rate = row.rate,
        warm_mean = 1.0 / row.warm,
        cold_mean = 1.0 / row.cold,
        threshold = row.threshold,
    );
    let sc = scenario::parse(Path::new("crosscheck.toml"), &text).expect("a valid scenario");
    let exp = runner::run(&sc, &runner::FaasOptions::default()).expect("the run succeeds");
    let mut xs: [Vec<f64>; 4] = Default::default();
    for r in &exp.runs {
        xs[0].push(r.stats.cold_starts as f64 / r.stats.requests as f64);
        xs[1].push(r.stats.instance_s() / DURATION_S);
        xs[2].push(r.stats.busy_instance_s / DURATION_S);
        xs[3].push(r.stats.idle_instance_s / DURATION_S);
    }
    xs.map(|v| mean_ci95(&v))
}

fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(p)
}

#[test]
fn the_platform_agrees_with_simfaas_on_every_grid_point() {
    let rows = read_reference();
    assert!(
        rows.len() >= 12,
        "the reference has {} grid points",
        rows.len()
    );
    let names = ["p_cold", "mean instances", "mean running", "mean idle"];
    let comparisons = (rows.len() * names.len()) as f64;
    let t95 = t_quantile(0.975, (REPLICATIONS - 1) as f64);
    let t_joint = t_quantile(1.0 - 0.025 / comparisons, (REPLICATIONS - 1) as f64);
    let mut failures = Vec::new();
    println!("rate warm cold threshold | metric: simfaas ± ci, here ± ci");
    for (i, row) in rows.iter().enumerate() {
        let here = simulate(row, 100 + i as u64);
        for (k, name) in names.iter().enumerate() {
            let (b, bci) = row.metrics[k];
            let (a, aci) = here[k];
            let se = ((aci / t95).powi(2) + (bci / t95).powi(2)).sqrt();
            let ok = (a - b).abs() <= t_joint * se;
            println!(
                "{} {:.4} {:.4} {} | {name}: {b:.5} ± {bci:.5}, {a:.5} ± {aci:.5}{}",
                row.rate,
                row.warm,
                row.cold,
                row.threshold,
                if ok { "" } else { "  <-- differs" }
            );
            if !ok {
                failures.push(format!(
                    "rate {} warm {} cold {} threshold {}: {name} {a} here vs {b} in SimFaaS (allowed ±{})",
                    row.rate,
                    row.warm,
                    row.cold,
                    row.threshold,
                    t_joint * se
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
