//! Property: any scenario written within the documented ranges (small sizes: minutes of
//! simulated time, tens of containers) validates, and runs to completion without a panic.
//! proptest draws the scenarios from a fixed seed, so a failure is reproducible; on failure it
//! prints the smallest scenario text it found.

use autoscale_sim::experiment::{self, RunOptions};
use autoscale_sim::scenario;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::Path;

/// A `[workload]` table of any synthetic type.
fn workload() -> impl Strategy<Value = String> {
    prop_oneof![
        (0.1f64..80.0).prop_map(|r| format!("type = \"poisson\"\nrate = {r}\n")),
        (0.1f64..80.0, 0.0f64..1.0, 60u64..3600, 0.0f64..1.0).prop_map(|(r, a, p, ph)| format!(
            "type = \"diurnal\"\nrate = {r}\namplitude = {a}\nperiod = \"{p}s\"\nphase = {ph}\n"
        )),
        (0.1f64..60.0, 0.1f64..60.0, 1u64..600).prop_map(|(a, b, t)| format!(
            "type = \"step\"\nsteps = [[0, {a}], [\"{t}s\", {b}]]\n"
        )),
        (0.1f64..40.0, 0.1f64..120.0, 0u64..600, 1u64..300).prop_map(|(r, s, st, d)| format!(
            "type = \"spike\"\nrate = {r}\nspike_rate = {s}\nspike_start = \"{st}s\"\nspike_duration = \"{d}s\"\n"
        )),
        (0.1f64..40.0, 0.1f64..120.0, 1u64..600, 1u64..600).prop_map(|(a, b, da, db)| format!(
            "type = \"mmpp\"\nrates = [{a}, {b}]\nmean_durations = [\"{da}s\", \"{db}s\"]\n"
        )),
    ]
}

/// A `[service]` table of any distribution.
fn service() -> impl Strategy<Value = String> {
    let dist = prop_oneof![
        Just(String::new()).prop_map(|_| "distribution = \"exponential\"\n".to_string()),
        Just("distribution = \"deterministic\"\n".to_string()),
        Just("distribution = \"uniform\"\n".to_string()),
        (0.05f64..4.0).prop_map(|cv| format!("distribution = \"lognormal\"\ncv = {cv}\n")),
        (0.05f64..4.0).prop_map(|cv| format!("distribution = \"gamma\"\ncv = {cv}\n")),
    ];
    (dist, 1u64..2000).prop_map(|(d, ms)| format!("{d}mean = \"{ms}ms\"\n"))
}

/// A `[cluster]` table, with its minimum and maximum replica counts.
fn cluster() -> impl Strategy<Value = (String, u32, u32)> {
    let lb = prop_oneof![
        Just("shared_queue"),
        Just("round_robin"),
        Just("least_connections"),
        Just("random"),
        Just("power_of_two"),
    ];
    (
        1u32..8,
        lb,
        0u64..120,
        0u64..30,
        1u32..4,
        0u32..20,
        0u32..20,
        proptest::option::of(1u64..60),
    )
        .prop_map(|(c, lb, up, down, min, extra, init, timeout)| {
            let max = min + extra + 1;
            let init = min + init % (max - min + 1);
            let mut t = format!(
                "concurrency = {c}\nload_balancer = \"{lb}\"\nstartup = \"{up}s\"\nshutdown = \"{down}s\"\nmin_replicas = {min}\nmax_replicas = {max}\ninitial_replicas = {init}\n"
            );
            if let Some(s) = timeout {
                t.push_str(&format!("queue_timeout = \"{s}s\"\n"));
            }
            (t, min, max)
        })
}

/// One `[[policy]]` of the reactive types (the planners' calibration is too slow for many
/// cases, and `tests/planner_e2e.rs` runs them).
/// `static`'s `replicas` is written as `REPLICAS`, replaced by a count within the cluster's
/// bounds.
fn policy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type = \"static\"\nreplicas = REPLICAS\n".to_string()),
        // Kubernetes takes a whole percentage.
        (20u32..95).prop_map(|u| format!(
            "type = \"hpa\"\ntarget_utilization = {}\n",
            f64::from(u) / 100.0
        )),
        (0.5f64..10.0).prop_map(|t| format!("type = \"kpa\"\ntarget = {t}\n")),
        (0.2f64..0.95).prop_map(|t| format!("type = \"target_tracking\"\ntarget = {t}\n")),
        Just("type = \"threshold\"\n".to_string()),
    ]
}

/// A whole scenario: 2 to 20 minutes (no interval is longer), 1 or 2 replications, 1 to 3
/// policies.
fn scenario_text() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        2u64..20,
        1u32..3,
        prop_oneof![Just(10u64), Just(30), Just(60), Just(120)],
        workload(),
        service(),
        cluster(),
        proptest::collection::vec(policy(), 1..4),
    )
        .prop_map(|(seed, minutes, reps, interval, w, s, (c, min, max), ps)| {
            let mut t = format!(
                "name = \"prop\"\nseed = {seed}\nduration = \"{minutes}m\"\nreplications = {reps}\ninterval = \"{interval}s\"\n[workload]\n{w}[service]\n{s}[cluster]\n{c}"
            );
            for (i, p) in ps.iter().enumerate() {
                let replicas = min + (seed.wrapping_add(i as u64) % u64::from(max - min + 1)) as u32;
                let p = p.replace("REPLICAS", &replicas.to_string());
                t.push_str(&format!("[[policy]]\nname = \"p{i}\"\n{p}"));
            }
            t
        })
}

#[test]
fn every_scenario_within_the_documented_ranges_validates_and_runs() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 128,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    runner
        .run(&scenario_text(), |text| {
            let sc = scenario::parse(Path::new("prop.toml"), &text)
                .map_err(|e| TestCaseError::fail(format!("does not validate: {e}\n{text}")))?;
            let opts = RunOptions {
                threads: Some(1),
                ..Default::default()
            };
            let exp = experiment::run(&sc, &opts)
                .map_err(|e| TestCaseError::fail(format!("does not run: {e}\n{text}")))?;
            prop_assert_eq!(exp.runs.len(), sc.policies.len() * sc.replications as usize);
            Ok(())
        })
        .unwrap();
}
