//! `[faults]`: container failures and their replacement. Parsing and located errors, the
//! availability of a static cluster against renewal theory, billing, and common random
//! numbers across policies.

use autoscale_sim::cluster::faults::FaultSpec;
use autoscale_sim::cluster::startup::StartupDist;
use autoscale_sim::experiment;
use autoscale_sim::scenario::{self, Scenario};
use autoscale_sim::time::SimDuration;
use std::path::Path;

fn scenario_with(faults: &str, rest: &str) -> Result<Scenario, String> {
    let text = format!(
        r#"name = "faults"
seed = 11
duration = "20000s"
warmup = "1500s"
interval = "10s"
{rest}
[workload]
type = "poisson"
rate = 2.0
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 4
startup = "30s"
min_replicas = 1
max_replicas = 40
initial_replicas = 10
{faults}
[[policy]]
name = "static-10"
type = "static"
replicas = 10
"#
    );
    scenario::parse(Path::new("dir/f.toml"), &text).map_err(|e| format!("{e}"))
}

#[test]
fn faults_tables_parse_with_defaults() {
    let s = SimDuration::from_secs;
    let sc = scenario_with(
        "[faults]\ntime_to_failure = { distribution = \"exponential\", mean = \"2h\" }",
        "",
    )
    .unwrap();
    assert_eq!(
        sc.cluster.faults,
        Some(FaultSpec {
            time_to_failure: StartupDist::Exponential { mean: s(7200) },
            // The kubelet's first crash back-off.
            restart_delay: StartupDist::Constant(s(10)),
        })
    );
    let sc = scenario_with(
        "[faults]\ntime_to_failure = \"1h\"\nrestart_delay = { distribution = \"uniform\", min = \"5s\", max = \"15s\" }",
        "",
    )
    .unwrap();
    let f = sc.cluster.faults.unwrap();
    assert_eq!(f.time_to_failure, StartupDist::Constant(s(3600)));
    assert_eq!(f.restart_delay.mean(), s(10));
    assert_eq!(scenario_with("", "").unwrap().cluster.faults, None);
}

#[test]
fn bad_faults_tables_name_the_key_the_line_and_the_fix() {
    for (faults, key, says) in [
        (
            "[faults]\nrestart_delay = \"5s\"",
            "faults.time_to_failure",
            "takes `time_to_failure`",
        ),
        (
            "[faults]\ntime_to_failure = \"0s\"",
            "faults.time_to_failure",
            "at least 0.001 s",
        ),
        (
            "[faults]\ntime_to_failure = { distribution = \"exponential\" }",
            "faults.time_to_failure",
            "takes `mean`",
        ),
        (
            "[faults]\ntime_to_failure = { distribution = \"exponentail\", mean = \"1h\" }",
            "faults.time_to_failure",
            "did you mean \"exponential\"",
        ),
        (
            "[faults]\ntime_to_failure = \"1h\"\nrestart_delay = \"later\"",
            "faults.restart_delay",
            "distribution = \"lognormal\"",
        ),
        (
            "[faults]\ntime_to_failure = \"1h\"\nrestart = \"5s\"",
            "faults.restart",
            "did you mean `restart_delay`",
        ),
    ] {
        let e = scenario_with(faults, "").expect_err(faults);
        assert!(e.contains(key), "{faults}: {e}");
        assert!(e.contains("f.toml:"), "{faults}: {e}");
        assert!(e.contains(says), "{faults}: {e}");
    }
}

/// A static cluster of N containers, each failing after an exponential time of mean m from
/// its readiness, replaced after a restart delay r and a start-up s: each container slot is
/// an alternating renewal process, ready for a fraction m / (m + r + s) of the time and
/// billed for (m + s) / (m + r + s). With m = 100 s, r = 20 s, s = 30 s and N = 10, the mean
/// ready replicas is 6.667 and the billed replicas 8.667. Each replication's mean (after a
/// warm-up of 10 cycles) is one observation; the analytic values lie within the 99.9%
/// confidence interval of the mean over 20 replications (Student t, 19 degrees of freedom:
/// 3.883), which is itself narrow (below 1% of the value).
#[test]
fn availability_matches_renewal_theory() {
    let sc = scenario_with(
        "[faults]\ntime_to_failure = { distribution = \"exponential\", mean = \"100s\" }\nrestart_delay = \"20s\"",
        "replications = 20",
    )
    .unwrap();
    let n = 10.0;
    let (m, r, s) = (100.0, 20.0, 30.0);
    let f = sc.cluster.faults.as_ref().unwrap();
    assert_eq!(f.availability(sc.cluster.startup), m / (m + r + s));
    let warmup = sc.warmup.as_secs_f64();
    let measured = sc.duration.as_secs_f64() - warmup;
    let mut ready = Vec::new();
    let mut billed = Vec::new();
    let mut failed = 0;
    for rep in 0..sc.replications {
        let run = experiment::simulate(&sc, 0, rep).unwrap();
        let rows: Vec<_> = run.timeline.iter().filter(|t| t.time_s >= warmup).collect();
        ready.push(
            rows.iter()
                .map(|t| f64::from(t.ready_replicas))
                .sum::<f64>()
                / rows.len() as f64,
        );
        billed.push(run.summary.replica_seconds / measured);
        failed += run.summary.failed;
        // The desired count never moves: the controller replaces, the policy does nothing.
        assert!(run.timeline.iter().all(|t| t.desired_replicas == 10));
        assert_eq!(run.summary.scale_ups + run.summary.scale_downs, 0);
    }
    // Some requests (2 per second, 0.1 s each) were on a failing container.
    assert!(failed > 0);
    for (xs, expected, what) in [
        (&ready, n * m / (m + r + s), "ready replicas"),
        (&billed, n * (m + s) / (m + r + s), "billed replicas"),
    ] {
        let k = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / k;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
        let half = 3.883 * sd / k.sqrt();
        eprintln!("{what}: measured {mean:.4} ± {half:.4} (99.9%), theory {expected:.4}");
        assert!(
            (mean - expected).abs() <= half,
            "{what}: {mean} ± {half}, expected {expected}"
        );
        assert!(half < 0.01 * expected, "{what}: interval {half} too wide");
    }
}

/// Common random numbers: within a replication every policy's k-th container draws the same
/// time to failure, so two policies that keep the same containers see the same failures at
/// the same times, request for request; another replication sees others.
#[test]
fn policies_of_a_replication_see_the_same_failures() {
    let policies =
        "[[policy]]\nname = \"static-10-slow\"\ntype = \"static\"\nreplicas = 10\nperiod = \"7s\"";
    let text_faults = "[faults]\ntime_to_failure = { distribution = \"lognormal\", mean = \"300s\", cv = 1 }\nrestart_delay = { distribution = \"exponential\", mean = \"20s\" }";
    let sc = scenario_with(&format!("{text_faults}\n{policies}"), "").unwrap();
    let a = experiment::simulate(&sc, 0, 0).unwrap();
    let b = experiment::simulate(&sc, 1, 0).unwrap();
    assert_eq!(a.summary.failed, b.summary.failed);
    assert!(a.summary.failed > 0);
    let ready = |r: &autoscale_sim::sim::RunResult| -> Vec<(u32, u32, u64)> {
        r.timeline
            .iter()
            .map(|t| (t.ready_replicas, t.starting_replicas, t.failed))
            .collect()
    };
    assert_eq!(ready(&a), ready(&b));
    assert!(ready(&a).iter().any(|x| x.0 < 10), "some container failed");
    let c = experiment::simulate(&sc, 0, 1).unwrap();
    assert_ne!(ready(&a), ready(&c));
}
