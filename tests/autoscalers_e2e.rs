//! The autoscalers in the full simulation: the shape of their response to a step up and down,
//! a flash crowd, silence then traffic (synthetic, and a real Azure Functions trace), and a
//! constant load. Each expectation is derived from
//! the policy's documented rules and says where its bound comes from.

use autoscale_sim::experiment;
use autoscale_sim::scenario::{self, Scenario};
use autoscale_sim::sim::RunResult;
use autoscale_sim::stats::TimelineRow;
use std::path::Path;

fn parse(text: &str) -> Scenario {
    // Parsed as a file at the repository root, so relative trace paths resolve from there.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e.toml");
    scenario::parse(&path, text).expect("valid scenario")
}

fn run(sc: &Scenario, name: &str) -> RunResult {
    let i = sc
        .policies
        .iter()
        .position(|p| p.name == name)
        .expect("a policy of the scenario");
    experiment::simulate(sc, i, 0).expect("the run succeeds")
}

/// The rows whose interval ends in `[from, to)` seconds (their values are at the end).
fn ending_in(rows: &[TimelineRow], from: f64, to: f64) -> impl Iterator<Item = &TimelineRow> {
    rows.iter()
        .filter(move |r| r.time_s + r.length_s >= from && r.time_s + r.length_s < to)
}

/// The end time of the first row at or after `from` that satisfies `f`.
fn first_end(rows: &[TimelineRow], from: f64, f: impl Fn(&TimelineRow) -> bool) -> Option<f64> {
    rows.iter()
        .filter(|r| r.time_s + r.length_s >= from)
        .find(|r| f(r))
        .map(|r| r.time_s + r.length_s)
}

/// How often the desired count turns from rising to falling or back.
fn reversals(rows: &[&TimelineRow]) -> usize {
    let mut last_dir = 0i32;
    let mut n = 0;
    for w in rows.windows(2) {
        let d =
            (i64::from(w[1].desired_replicas) - i64::from(w[0].desired_replicas)).signum() as i32;
        if d != 0 {
            if last_dir != 0 && d != last_dir {
                n += 1;
            }
            last_dir = d;
        }
    }
    n
}

const STEP: &str = r#"
name = "step"
seed = 3
duration = "40m"
interval = "15s"
[workload]
type = "step"
steps = [[0, 20.0], ["5m", 100.0], ["17m", 20.0]]
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 1
startup = "20s"
min_replicas = 1
max_replicas = 100
initial_replicas = 4
[[policy]]
name = "hpa"
type = "hpa"
[[policy]]
name = "threshold"
type = "threshold"
[[policy]]
name = "tt"
type = "target_tracking"
metric = "rps"
target = 7.0
[[policy]]
name = "kpa"
type = "kpa"
"#;

#[test]
fn hpa_reacts_to_a_step_holds_it_and_keeps_the_window_after_the_drop() {
    let sc = parse(STEP);
    let r = run(&sc, "hpa");
    let rows = &r.timeline;
    let (up, down) = (300.0, 1020.0);
    // Needed at 100/s with 100 ms per request and Kubernetes' 80 % target: ceil(10 / 0.8) = 13.
    let needed = 13;
    // While saturated the utilization is at most 100 %, so each sync multiplies the count by
    // at most 1/0.8, and pods starting count as 0 on a scale-up, so a sync only builds on
    // ready pods: k = ceil(ln(13/4) / ln(1/0.8)) = 6 rounds of (sync + sample age + start-up),
    // plus one to see the step. metrics-server's scrape ticker runs at its own phase, so the
    // sample a sync reads is up to one resolution (15 s) old.
    let k = ((needed as f64 / 4.0).ln() / (1.0f64 / 0.8).ln()).ceil();
    let bound = (k + 1.0) * (15.0 + 15.0 + 20.0);
    let reached = first_end(rows, up, |row| row.ready_replicas >= needed).expect("reached");
    assert!(
        reached - up <= bound,
        "ready >= {needed} after {} s, bound {bound} s",
        reached - up
    );

    // It carries the peak: in its last five minutes every request finds a slot quickly.
    for row in ending_in(rows, down - 300.0, down) {
        assert!(row.ready_replicas >= needed, "{row:?}");
        assert!(row.queued < 1.0, "{row:?}");
    }
    // No oscillation under the constant load once settled: the count only falls (from the
    // overshoot of the saturated phase, after its own 5-minute window).
    // Settled once the bound on reaching the need has passed.
    let settled: Vec<&TimelineRow> = ending_in(rows, up + bound, down).collect();
    assert_eq!(reversals(&settled), 0);
    assert!(
        settled
            .windows(2)
            .all(|w| w[1].desired_replicas <= w[0].desired_replicas)
    );

    // After the drop the count holds for the 5-minute stabilization window: the last
    // recommendation from the high load is the one of the sync at the drop (1020 s); it
    // leaves the window at the first sync strictly more than 300 s later, at 1335 s.
    let high = ending_in(rows, down, down + 1.0)
        .next()
        .unwrap()
        .desired_replicas;
    assert!(high >= needed);
    for row in ending_in(rows, down, down + 301.0) {
        assert_eq!(row.desired_replicas, high, "{row:?}");
    }
    // Then it comes down: ceil(2 / 0.8) = 3 pods carry 20/s; with utilization noise at most 4.
    // The first sync after the drop (1035 s) may read a sample from partly before it, and its
    // recommendation leaves the window at 1350 s.
    for row in ending_in(rows, down + 345.0, 2400.0) {
        assert!(row.desired_replicas <= 4, "{row:?}");
        assert!(row.ready_replicas <= 4, "{row:?}");
    }
    assert_eq!(r.summary.dropped, 0);
}

#[test]
fn every_policy_carries_the_step_and_comes_back_down() {
    let sc = parse(STEP);
    for name in ["hpa", "threshold", "tt", "kpa"] {
        let r = run(&sc, name);
        let rows = &r.timeline;
        // Carries the peak: before the drop the queue is gone and the slots suffice.
        let tail: Vec<&TimelineRow> = ending_in(rows, 900.0, 1020.0).collect();
        assert!(!tail.is_empty());
        for row in &tail {
            assert!(row.ready_replicas >= 11, "{name}: {row:?}"); // 10 busy slots on average
            assert!(row.queued < 2.0, "{name}: {row:?}");
        }
        // Comes back down, on average over the last 5 minutes, to at most twice the 3
        // containers 20/s needs (target tracking scales in last: 15 minutes after the drop).
        let tail: Vec<f64> = ending_in(rows, 2100.0, 2401.0)
            .map(|r| f64::from(r.ready_replicas))
            .collect();
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        assert!(mean <= 6.0, "{name}: {tail:?}");
    }
}

#[test]
fn target_tracking_scales_out_proportionally_and_in_after_fifteen_minutes() {
    let sc = parse(STEP);
    let r = run(&sc, "tt");
    let rows = &r.timeline;
    // 100/s at 7 per container per second: ceil(4 · (100/4) / 7) = 15, once three 1-minute
    // datapoints above the target have been seen: the alarm's third datapoint after the step
    // at 300 s is the one of 480 s.
    let out = first_end(rows, 300.0, |row| row.desired_replicas >= 15).unwrap();
    assert!((480.0..=495.0).contains(&out), "scaled out at {out} s");
    // At the peak 100/15 = 6.7 per container is above the low alarm (0.9 · 7 = 6.3), so
    // scale-in waits for 15 datapoints after the drop: the one of 1020 + 900 s.
    let high = ending_in(rows, 1019.0, 1021.0)
        .next()
        .unwrap()
        .desired_replicas;
    assert_eq!(high, 15);
    for row in ending_in(rows, 1020.0, 1920.0) {
        assert_eq!(row.desired_replicas, high, "{row:?}");
    }
    // floor(15 · (20/15) / 7) + 1 = 3, the fewest that keep the metric below the target.
    let down = first_end(rows, 1020.0, |row| row.desired_replicas < high).unwrap();
    assert!((1920.0..=1935.0).contains(&down), "scaled in at {down} s");
    let after = ending_in(rows, down, down + 1.0).next().unwrap();
    assert_eq!(after.desired_replicas, 3);
}

const FLASH: &str = r#"
name = "flash"
seed = 5
duration = "12m"
interval = "5s"
[workload]
type = "spike"
rate = 50.0
spike_rate = 500.0
spike_start = "3m"
spike_duration = "2m"
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 10
startup = "5s"
min_replicas = 1
max_replicas = 50
initial_replicas = 1
[[policy]]
name = "kpa"
type = "kpa"
"#;

#[test]
fn kpa_panics_on_a_flash_crowd_then_comes_back_down() {
    let sc = parse(FLASH);
    let r = run(&sc, "kpa");
    let rows = &r.timeline;
    let (start, end) = (180.0, 300.0);
    // Before the crowd: 5 requests in the system over a target of 7: one pod.
    for row in ending_in(rows, 60.0, start) {
        assert_eq!(row.desired_replicas, 1, "{row:?}");
    }
    // Needed: 50 in the system over 7 → 8 pods. The panic window (6 s) sees the crowd within a
    // decision tick (2 s); the pods take 5 s to start; one timeline row of 5 s on top.
    let reached = first_end(rows, start, |row| row.ready_replicas >= 8).unwrap();
    assert!(
        reached - start <= 6.0 + 2.0 + 5.0 + 5.0,
        "after {} s",
        reached - start
    );
    for row in ending_in(rows, start + 30.0, end) {
        assert!(row.queued < 1.0, "{row:?}");
    }
    // Never scales down while panicking: panic is extended at every tick the crowd is above
    // twice the ready capacity, and held 60 s after; the count stays at its peak for at least
    // 60 s after it is reached.
    let peak_at = first_end(rows, start, |row| row.desired_replicas == 50).unwrap();
    for row in ending_in(rows, peak_at, peak_at + 60.0) {
        assert_eq!(row.desired_replicas, 50, "{row:?}");
    }
    // After the crowd the stable window (60 s) forgets it, the count halves at most per tick
    // and reaches 1 pod; no oscillation at the base load afterwards.
    let back = first_end(rows, end, |row| row.desired_replicas == 1).unwrap();
    assert!(
        back - end >= 30.0 && back - end <= 60.0 + 30.0,
        "back after {} s",
        back - end
    );
    let after: Vec<&TimelineRow> = ending_in(rows, back, 720.0).collect();
    assert!(
        after.iter().all(|row| row.desired_replicas <= 2),
        "{after:?}"
    );
    assert_eq!(r.summary.dropped, 0);
    // Everything but the few requests in service at the end completes.
    assert!(r.summary.requests - r.summary.completed < 10);
}

const SILENCE: &str = r#"
name = "silence"
seed = 5
duration = "10m"
interval = "5s"
[workload]
type = "step"
steps = [[0, 5.0], ["2m", 0.0], ["6m", 5.0]]
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 1
startup = "3s"
min_replicas = 0
max_replicas = 50
queue_timeout = "30s"
[[policy]]
name = "kpa"
type = "kpa"
"#;

#[test]
fn kpa_reaches_zero_in_silence_and_serves_the_next_requests_without_loss() {
    let sc = parse(SILENCE);
    let r = run(&sc, "kpa");
    let rows = &r.timeline;
    let (quiet, traffic) = (120.0, 360.0);
    // Zero needs the stable window (60 s) of zeros, which marks the autoscaler inactive. The
    // activator has been in the path all along (excess burst capacity: a few pods of
    // concurrency 1 minus the target burst capacity of 211 is negative), so Knative takes the
    // fast path 3 s later (`scaler.go: handleScaleToZero`) instead of waiting the 30 s grace:
    // the last request at about 119.8 s, the decision at 180 s (window (120, 180]), 0 at 183 s.
    let zero = first_end(rows, quiet, |row| row.desired_replicas == 0).unwrap();
    assert_eq!(zero, 185.0, "the 5 s row holding 183 s");
    for row in ending_in(rows, quiet + 65.0, traffic) {
        assert_eq!(row.ready_replicas, 0, "{row:?}");
        assert_eq!(row.desired_replicas, 0, "{row:?}");
    }
    // The first request after the silence pokes the autoscaler; a pod is ready 3 s later.
    let served = first_end(rows, traffic, |row| row.ready_replicas >= 1).unwrap();
    assert!(
        served - traffic <= 3.0 + 5.0,
        "ready after {} s",
        served - traffic
    );
    // Nothing is lost across scale to zero: every request is served, none waits more than the
    // start-up plus a little.
    assert_eq!(r.summary.dropped, 0);
    assert!(r.summary.requests > 0);
    assert!(rows.iter().all(|row| row.dropped == 0));
    assert!(
        r.latency.quantile_s(1.0) < 3.0 + 1.5,
        "max latency {}",
        r.latency.quantile_s(1.0)
    );
}

#[test]
fn kpa_on_a_real_sparse_function_scales_to_zero_and_drops_nothing() {
    // One function of the Azure Functions 2019 sample: about one invocation every 2 minutes
    // on average, with idle gaps of up to 26 minutes (minutes 480–959 of the day).
    // The slice in traces/real/ (see its README) keeps this function's whole row.
    let text = r#"
name = "azure-sparse"
seed = 9
duration = "8h"
interval = "60s"
[workload]
type = "trace"
path = "traces/real/azure-functions-50.csv"
format = "azure"
function = "68a2df5ec6551dcc6d7a5ab41abed4e353f9e4355be15587fcec8f1d3194652a"
[service]
distribution = "exponential"
mean = "500ms"
[cluster]
concurrency = 1
startup = "5s"
min_replicas = 0
max_replicas = 20
queue_timeout = "60s"
[[policy]]
name = "kpa"
type = "kpa"
"#;
    let sc = parse(text);
    let r = run(&sc, "kpa");
    let rows = &r.timeline;
    let arrivals: u64 = rows.iter().map(|row| row.arrivals).sum();
    assert_eq!(arrivals, 240, "the function's invocations in the sample");
    assert_eq!(r.summary.dropped, 0);
    assert_eq!(r.summary.completed, 240);
    // It sits at zero most of the time: every minute row with no arrival in it and none in
    // the two minutes before ends with no pod.
    let mut idle_rows = 0;
    for w in rows.windows(3) {
        if w.iter().all(|row| row.arrivals == 0) {
            assert_eq!(w[2].ready_replicas, 0, "{:?}", w[2]);
            idle_rows += 1;
        }
    }
    assert!(idle_rows > 100, "{idle_rows} idle minutes");
}

const CONSTANT: &str = r#"
name = "constant"
seed = 11
duration = "40m"
interval = "30s"
[workload]
type = "poisson"
rate = 100.0
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 4
startup = "20s"
min_replicas = 1
max_replicas = 60
initial_replicas = 2
[[policy]]
name = "hpa"
type = "hpa"
[[policy]]
name = "kpa"
type = "kpa"
[[policy]]
name = "threshold"
type = "threshold"
[[policy]]
name = "tt"
type = "target_tracking"
"#;

#[test]
fn no_policy_oscillates_under_a_constant_load() {
    // 10 requests in service on average over 4 slots per container. Every policy settles on 4
    // containers: hpa 62 % of 4 pods against 80 % → ceil(0.78 · 4) = 4, kpa ceil(10/2.8) = 4, threshold
    // 62 % inside its 30–80 % band, target tracking floor(4 · 0.62/0.7) + 1 = 4.
    let sc = parse(CONSTANT);
    for name in ["hpa", "kpa", "threshold", "tt"] {
        let r = run(&sc, name);
        // Target tracking needs 3 minutes per scale-out and a 5-minute cooldown between them.
        let settled: Vec<&TimelineRow> = ending_in(&r.timeline, 900.0, 2401.0).collect();
        assert!(settled.len() >= 40);
        for row in &settled {
            assert_eq!(row.desired_replicas, 4, "{name}: {row:?}");
        }
    }
}
