//! Properties of the model that hold on every sample path: Little's law on every load
//! balancer, determinism whatever the thread count, common random numbers across policies.

use autoscale_sim::experiment::{self, RunOptions};
use autoscale_sim::output::csv;
use autoscale_sim::scenario::{self, Scenario};
use std::path::Path;

fn parse(text: &str) -> Scenario {
    scenario::parse(Path::new("model.toml"), text).expect("valid scenario")
}

fn balancer_scenario(balancer: &str) -> Scenario {
    parse(&format!(
        r#"
name = "little"
seed = 3
duration = "2h"
interval = "60s"
[workload]
type = "poisson"
rate = 56.0
[service]
distribution = "lognormal"
mean = "100ms"
cv = 1.2
[cluster]
concurrency = 2
load_balancer = "{balancer}"
max_replicas = 4
initial_replicas = 4
[[policy]]
name = "static"
type = "static"
replicas = 4
"#
    ))
}

/// L = λW: the time-average number of requests in the system (in service or waiting) equals
/// the arrival rate times the mean time in the system. On one sample path the two differ only
/// by the requests still in the system at the end, a few in hundreds of thousands.
#[test]
fn littles_law_holds_on_every_balancer() {
    for balancer in [
        "shared_queue",
        "round_robin",
        "least_connections",
        "random",
        "power_of_two",
    ] {
        let sc = balancer_scenario(balancer);
        let exp = experiment::run(&sc, &RunOptions::default()).unwrap();
        let run = &exp.runs[0];
        let t = sc.duration.as_secs_f64();
        let l: f64 = run
            .timeline
            .iter()
            .map(|r| (r.busy + r.queued) * r.length_s)
            .sum::<f64>()
            / t;
        let lambda = run.summary.requests as f64 / t;
        let w = run.summary.mean_latency_s;
        assert!(
            (l - lambda * w).abs() < 0.002 * l,
            "{balancer}: L = {l}, λW = {}",
            lambda * w
        );
        // Utilization = busy / slots = λ E[S] / 8 = 0.7 in expectation.
        let util = run
            .timeline
            .iter()
            .map(|r| r.busy * r.length_s)
            .sum::<f64>()
            / t
            / 8.0;
        assert!((util - 0.7).abs() < 0.02, "{balancer}: utilization {util}");
    }
}

/// The shared queue pools all slots; per-container queues cannot do better on mean wait
/// (M/G/c against c separate queues), and random routing does worst.
#[test]
fn pooling_beats_separate_queues() {
    let wait = |b: &str| {
        let exp = experiment::run(&balancer_scenario(b), &RunOptions::default()).unwrap();
        exp.runs[0].summary.mean_wait_s
    };
    let shared = wait("shared_queue");
    let least = wait("least_connections");
    let random = wait("random");
    assert!(
        shared < least && least < random,
        "{shared} {least} {random}"
    );
}

fn two_policy_scenario() -> Scenario {
    parse(
        r#"
name = "crn"
seed = 11
duration = "30m"
replications = 3
interval = "60s"
[workload]
type = "diurnal"
rate = 40.0
amplitude = 0.8
period = "30m"
[service]
distribution = "gamma"
mean = "150ms"
cv = 1.5
[cluster]
load_balancer = "power_of_two"
concurrency = 2
startup = "30s"
queue_timeout = "2s"
max_replicas = 10
[[policy]]
name = "small"
type = "static"
replicas = 3
[[policy]]
name = "large"
type = "static"
replicas = 6
"#,
    )
}

fn all_csv(sc: &Scenario, opts: &RunOptions) -> Vec<Vec<u8>> {
    let exp = experiment::run(sc, opts).unwrap();
    vec![
        csv::summary_csv(&exp),
        csv::policies_csv(&exp),
        csv::timeline_csv(&exp),
    ]
}

#[test]
fn results_are_byte_identical_whatever_the_thread_count() {
    let sc = two_policy_scenario();
    let one = all_csv(
        &sc,
        &RunOptions {
            threads: Some(1),
            ..Default::default()
        },
    );
    let two = all_csv(
        &sc,
        &RunOptions {
            threads: Some(2),
            ..Default::default()
        },
    );
    let again = all_csv(
        &sc,
        &RunOptions {
            threads: Some(2),
            ..Default::default()
        },
    );
    assert_eq!(one, two);
    assert_eq!(two, again);
    let other_seed = all_csv(
        &sc,
        &RunOptions {
            seed: Some(12),
            ..Default::default()
        },
    );
    assert_ne!(one[0], other_seed[0]);
}

/// Within a replication both policies see the same arrivals (common random numbers); across
/// replications the arrivals differ.
#[test]
fn policies_share_arrivals_within_a_replication() {
    let exp = experiment::run(&two_policy_scenario(), &RunOptions::default()).unwrap();
    let arrivals = |policy: &str, rep: u32| -> Vec<u64> {
        let r = exp
            .runs
            .iter()
            .find(|r| r.policy == policy && r.replication == rep)
            .unwrap();
        r.timeline.iter().map(|t| t.arrivals).collect()
    };
    for rep in 0..3 {
        assert_eq!(arrivals("small", rep), arrivals("large", rep));
    }
    assert_ne!(arrivals("small", 0), arrivals("small", 1));
    // More replicas: fewer drops and lower latency, at a higher replica cost.
    let p = |name: &str| exp.policies.iter().find(|p| p.policy == name).unwrap();
    assert!(p("large").mean("mean_latency_s") < p("small").mean("mean_latency_s"));
    assert!(p("large").mean("replica_seconds") > p("small").mean("replica_seconds"));
    // The paired difference against the baseline (the first policy): its mean is exactly the
    // difference of the means, and the baseline's own difference is zero.
    assert_eq!(exp.baseline, "small");
    assert_eq!(p("small").vs_baseline, (0.0, 0.0));
    let d = p("large").vs_baseline.0;
    let expected = p("large").objective().0 - p("small").objective().0;
    assert!(
        (d - expected).abs() < 1e-9 * expected.abs().max(1.0),
        "{d} vs {expected}"
    );
    assert!(p("large").vs_baseline.1 > 0.0);
}

/// The paired confidence interval of the difference from the baseline, computed by hand from
/// the per-replication objectives: mean ± t(0.975, n−1) · sd / √n of the differences.
#[test]
fn paired_ci_matches_a_hand_computation() {
    let exp = experiment::run(&two_policy_scenario(), &RunOptions::default()).unwrap();
    let obj = |policy: &str| -> Vec<f64> {
        (0..3)
            .map(|rep| {
                exp.runs
                    .iter()
                    .find(|r| r.policy == policy && r.replication == rep)
                    .unwrap()
                    .summary
                    .objective
            })
            .collect()
    };
    let d: Vec<f64> = obj("large")
        .iter()
        .zip(obj("small"))
        .map(|(a, b)| a - b)
        .collect();
    let mean = (d[0] + d[1] + d[2]) / 3.0;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = 4.302_652_729_911_275 * sd / 3f64.sqrt(); // t(0.975, 2)
    let large = exp.policies.iter().find(|p| p.policy == "large").unwrap();
    assert!((large.vs_baseline.0 - mean).abs() < 1e-12 * mean.abs().max(1.0));
    assert!((large.vs_baseline.1 - half).abs() < 1e-9 * half);
}
