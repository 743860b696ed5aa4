//! Independent clocks: metrics-server's scrape ticker runs at its own phase relative to the
//! HPA's sync loop, drawn per replication, so a sample is 0–15 s old when a sync reads it, plus
//! `metric_delay`. The SLO violation ratio then grows smoothly with `metric_delay` instead of
//! snapping to the next scrape (with phase-locked clocks every delay in (0, 15] s read the
//! previous scrape and gave the same result).

use autoscale_sim::experiment;
use autoscale_sim::scenario::{self, Scenario};
use std::path::Path;

fn parse(text: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("clocks.toml");
    scenario::parse(&path, text).expect("valid scenario")
}

/// A step from 100/s to 600/s at 5 min; the HPA with Kubernetes' defaults.
fn step(delay_s: f64, phase: Option<&str>) -> Scenario {
    let phase = phase.map_or(String::new(), |p| format!("scrape_phase = \"{p}\"\n"));
    parse(&format!(
        r#"
name = "clocks"
seed = 11
duration = "15m"
interval = "30s"
replications = 24
[workload]
type = "step"
steps = [[0, 100.0], ["5m", 600.0]]
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 8
startup = "30s"
min_replicas = 1
max_replicas = 60
initial_replicas = 2
queue_timeout = "30s"
[cost]
slo_latency = "500ms"
[[policy]]
name = "hpa"
type = "hpa"
metric_delay = "{delay_s}s"
{phase}"#
    ))
}

/// The violation ratio over every replication (violations over requests).
fn violation_ratio(sc: &Scenario) -> f64 {
    let (mut v, mut n) = (0u64, 0u64);
    for rep in 0..sc.replications {
        let r = experiment::simulate(sc, 0, rep).expect("the run succeeds");
        v += r.summary.slo_violations;
        n += r.summary.completed + r.summary.dropped;
    }
    v as f64 / n as f64
}

#[test]
fn violation_ratio_grows_smoothly_with_metric_delay() {
    let delays: Vec<f64> = (0..=12).map(|i| f64::from(i) * 2.5).collect();
    let ratios: Vec<f64> = delays
        .iter()
        .map(|&d| violation_ratio(&step(d, None)))
        .collect();
    eprintln!("{delays:?}\n{ratios:?}");
    // Monotone, and no snapping: every step of 2.5 s makes a later sample, and more
    // violations.
    for (i, w) in ratios.windows(2).enumerate() {
        assert!(
            w[1] > w[0],
            "flat or falling at {} s: {ratios:?}",
            delays[i + 1]
        );
    }
    // With the clocks locked (phase 0) any delay in (0, 15] s reads the previous scrape.
    let locked: Vec<f64> = [2.5, 7.5, 15.0]
        .iter()
        .map(|&d| violation_ratio(&step(d, Some("0s"))))
        .collect();
    assert_eq!(locked[0], locked[1], "{locked:?}");
    assert_eq!(locked[1], locked[2], "{locked:?}");
}
