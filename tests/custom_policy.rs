//! The "A policy" recipe of `docs/ARCHITECTURE.md`, followed through the public API: the
//! policy of `examples/custom_policy.rs` decides by its rule and runs in the simulator beside
//! the built-in policies on the same arrivals.

#[path = "../examples/custom_policy.rs"]
#[allow(dead_code)]
mod example;

use autoscale_sim::autoscaler::{Autoscaler, Decision, Observation, Totals};
use autoscale_sim::time::{SimDuration, SimTime};

/// At `now` seconds, with `area` in-flight request-seconds since the start (all counted as
/// busy) and `busy` + `queued` requests in flight at the instant.
fn observation(now: f64, area: f64, busy: u32, queued: u32) -> Observation<'static> {
    Observation {
        now: SimTime::from_secs_f64(now),
        concurrency: 2,
        min_replicas: 1,
        max_replicas: 100,
        desired: 3,
        ready: 3,
        starting: 0,
        draining: 0,
        front_buffer: 0,
        queued,
        busy,
        totals: Totals {
            busy_area: area,
            ..Totals::default()
        },
        containers: &[],
    }
}

#[test]
fn queue_length_sizes_for_the_requests_in_flight() {
    let mut p = example::QueueLength::new(0.7, SimDuration::from_secs(15));
    assert_eq!(p.tick_interval(), SimDuration::from_secs(15));
    // First tick, no history: 14 in flight now over 2 slots × 0.7 = 10 containers exactly.
    assert_eq!(
        p.tick(&observation(15.0, 0.0, 10, 4)),
        Decision::Desired(10)
    );
    // Then the mean over the period: 15 s × (10 + 5.1) request-seconds more = 15.1 in flight
    // on average, which needs an 11th container whatever is in flight at the instant.
    let area = 15.0 * 15.1;
    assert_eq!(
        p.tick(&observation(30.0, area, 0, 0)),
        Decision::Desired(11)
    );
    // An idle period asks for none (the simulator clamps to `min_replicas`).
    assert_eq!(p.tick(&observation(45.0, area, 3, 0)), Decision::Desired(0));
}

/// At 50 requests/s of 100 ms each (5 Erlangs, one slot per container, one shared queue)
/// with containers that start in a second, the mean in flight over 15 s is 5 in service
/// (Little's law) plus a small queue, with a standard deviation of about √(2·5·0.1/15) ≈ 0.26
/// (an M/M/∞ time average): ⌈L̄ / 0.7⌉ is 7 or 8, and 8 most of the time once the queue
/// (≈ 0.3–0.5 requests with 7–8 servers at 5 Erlangs) is counted. And the policy replays
/// the very arrivals the scenario's own policy sees.
#[test]
fn queue_length_runs_beside_a_built_in_policy() {
    let sc = autoscale_sim::scenario::parse(
        std::path::Path::new("custom.toml"),
        r#"name = "custom"
seed = 3
duration = "30m"
warmup = "2m"
replications = 1
interval = "60s"

[workload]
type = "step"
steps = [[0, 50.0]]

[service]
distribution = "exponential"
mean = "100ms"

[cluster]
concurrency = 1
load_balancer = "shared_queue"
startup = "1s"
initial_replicas = 8
min_replicas = 1
max_replicas = 40

[[policy]]
name = "static-9"
type = "static"
replicas = 9
"#,
    )
    .unwrap();
    let runs = example::compare(&sc).unwrap();
    assert_eq!(runs.len(), 2);
    let (fixed, custom) = (&runs[0].summary, &runs[1].summary);
    assert_eq!(runs[1].policy, "queue-length");
    assert_eq!(fixed.requests, custom.requests, "not the same arrivals");
    let measured = sc.duration.as_secs_f64() - sc.warmup.as_secs_f64();
    let mean_replicas = custom.replica_seconds / measured;
    assert!(
        (7.4..8.6).contains(&mean_replicas),
        "mean replicas {mean_replicas}"
    );
    assert!((fixed.replica_seconds / measured - 9.0).abs() < 1e-9);
}
