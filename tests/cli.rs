//! The command line as users run it: exit statuses, output files, and messages for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("autoscale-sim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const GOOD: &str = r#"name = "cli"
seed = 5
duration = "10m"
interval = "60s"

[workload]
type = "poisson"
rate = 20.0

[service]
distribution = "exponential"
mean = "100ms"

[cluster]
max_replicas = 10
initial_replicas = 3

[[policy]]
name = "three"
type = "static"
replicas = 3

[[policy]]
name = "five"
type = "static"
replicas = 5
"#;

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn run_writes_the_three_csvs_with_their_headers() {
    let dir = temp_dir("run");
    let sc = write(&dir, "s.toml", GOOD.as_bytes());
    let out = dir.join("out");
    let o = run(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("three") && stdout.contains("five"),
        "{stdout}"
    );
    let first = |f: &str| {
        std::fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        first("summary.csv"),
        "scenario,policy,replication,seed,requests,completed,dropped,mean_wait_s,p_wait,mean_latency_s,p50_latency_s,p95_latency_s,p99_latency_s,slo_violations,slo_violation_ratio,replica_seconds,cost,objective,scale_ups,scale_downs"
    );
    assert!(first("timeline.csv").starts_with(
        "policy,replication,time_s,arrivals,completed,dropped,ready_replicas,starting_replicas,desired_replicas,busy,queued,utilization,p95_latency_s,cost"
    ));
    assert!(first("policies.csv").starts_with("policy,mean_latency_s,mean_latency_s_ci95,p95_latency_s,p95_latency_s_ci95,p99_latency_s,p99_latency_s_ci95,slo_violation_ratio,slo_violation_ratio_ci95,replica_seconds,replica_seconds_ci95,cost,cost_ci95,objective,objective_ci95"));
    assert!(
        first("policies.csv").ends_with(
            ",rank,baseline,objective_vs_baseline,objective_vs_baseline_ci95,significant,regret,regret_ci95,policy_type"
        )
    );
    // 10 intervals x 2 policies, one replication.
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert_eq!(timeline.lines().count(), 1 + 20);
}

#[test]
fn same_seed_same_bytes_across_thread_counts_and_policy_filter() {
    let dir = temp_dir("threads");
    let sc = write(&dir, "s.toml", GOOD.as_bytes());
    let read = |out: &Path| {
        ["summary.csv", "policies.csv", "timeline.csv"].map(|f| std::fs::read(out.join(f)).unwrap())
    };
    let mut outs = Vec::new();
    for t in ["1", "2"] {
        let out = dir.join(format!("t{t}"));
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--threads",
            t,
            "--replications",
            "3",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(o.stdout.is_empty(), "--quiet prints nothing");
        outs.push(read(&out));
    }
    assert_eq!(outs[0], outs[1]);
    let out = dir.join("one");
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--policy",
        "five",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 2);
    assert!(summary.contains(",five,"));
}

/// Each bad scenario exits with status 2 and a message naming the file, the line and what
/// is wrong.
#[test]
fn bad_scenarios_exit_2_naming_file_line_and_key() {
    let dir = temp_dir("bad");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown key",
            GOOD.replace("seed = 5", "sede = 5"),
            ":2:1: `sede`",
        ),
        (
            "bad type",
            GOOD.replace("rate = 20.0", "rate = \"fast\""),
            ":8:8: `workload.rate`",
        ),
        (
            "bad duration",
            GOOD.replace("\"10m\"", "\"10 parsecs\""),
            ":3:12: `duration`",
        ),
        (
            "negative rate",
            GOOD.replace("rate = 20.0", "rate = -3.0"),
            ":8:8: `workload.rate`",
        ),
        (
            "zero rate",
            GOOD.replace("rate = 20.0", "rate = 0"),
            ":8:8: `workload.rate`",
        ),
        (
            "nan",
            GOOD.replace("rate = 20.0", "rate = nan"),
            ":8:8: `workload.rate`",
        ),
        (
            "inf mean",
            GOOD.replace("mean = \"100ms\"", "mean = inf"),
            ":12:8: `service.mean`",
        ),
        (
            "zero mean",
            GOOD.replace("mean = \"100ms\"", "mean = 0"),
            ":12:8: `service.mean`",
        ),
        (
            "min > max",
            GOOD.replace("max_replicas = 10", "max_replicas = 10\nmin_replicas = 11"),
            "`cluster.min_replicas`",
        ),
        (
            "duplicate policy",
            GOOD.replace("name = \"five\"", "name = \"three\""),
            ":24:8: `policy.three.name`",
        ),
        (
            "unknown workload",
            GOOD.replace("type = \"poisson\"", "type = \"poison\""),
            ":7:8: `workload.type`",
        ),
        (
            "unknown distribution",
            GOOD.replace("\"exponential\"", "\"normal\""),
            ":11:16: `service.distribution`",
        ),
        (
            "unknown balancer",
            GOOD.replace(
                "max_replicas = 10",
                "max_replicas = 10\nload_balancer = \"magic\"",
            ),
            "`cluster.load_balancer`",
        ),
        (
            "unknown policy",
            GOOD.replace("type = \"static\"\nreplicas = 5", "type = \"magic\""),
            ":25:8: `policy.five.type`",
        ),
        ("toml syntax", GOOD.replace("seed = 5", "seed = = 5"), ":2:"),
        (
            "missing policy",
            GOOD.split("[[policy]]").next().unwrap().to_string(),
            "`policy`",
        ),
        (
            "zero replications",
            format!("replications = 0\n{GOOD}"),
            ":1:16: `replications`",
        ),
        (
            "warmup too long",
            GOOD.replace("duration = \"10m\"", "duration = \"10m\"\nwarmup = \"1h\""),
            "`warmup`",
        ),
        (
            "key of another type",
            GOOD.replace("rate = 20.0", "rate = 20.0\namplitude = 0.5"),
            "`workload.amplitude`",
        ),
        (
            "static over max",
            GOOD.replace("replicas = 5", "replicas = 50"),
            ":26:12: `policy.five.replicas`",
        ),
    ];
    for (what, text, expected) in cases {
        let p = write(&dir, "bad.toml", text.as_bytes());
        let o = run(&[
            "run",
            p.to_str().unwrap(),
            "--out",
            dir.join("o").to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("bad.toml"), "{what}: no file in {err}");
        assert!(
            err.contains(expected),
            "{what}: expected {expected:?} in {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}

#[test]
fn unreadable_and_binary_input_exit_2() {
    let dir = temp_dir("garbage");
    let o = run(&["run", dir.join("missing.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.toml"), "{}", stderr(&o));
    let p = write(
        &dir,
        "garbage.toml",
        &[0xff, 0xfe, 0x00, 0x13, 0x80, 0x81, b'\n', 0xc3],
    );
    let o = run(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("garbage.toml:1:1"), "{}", stderr(&o));
    let p = write(&dir, "nul.toml", b"name = \"x\"\0\0\0");
    let o = run(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn bad_arguments_exit_2() {
    let dir = temp_dir("args");
    let sc = write(&dir, "s.toml", GOOD.as_bytes());
    for args in [
        vec!["run", sc.to_str().unwrap(), "--threads", "0"],
        vec!["run", sc.to_str().unwrap(), "--replications", "zero"],
        vec!["run", sc.to_str().unwrap(), "--policy", "nope"],
        vec!["run"],
        vec!["frobnicate"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    assert!(
        stderr(&run(&["run", sc.to_str().unwrap(), "--policy", "nope"])).contains("three, five")
    );
}

#[test]
fn validate_agrees_with_theory() {
    let o = run(&["validate", "--replications", "6"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("10 of 10 cases agree"), "{out}");
}

/// `plan` writes the desired replicas in effect at the start of each interval: the initial
/// three, then the static policy's five from its first tick at the end of the first interval.
#[test]
fn plan_writes_the_policy_plan_and_run_writes_the_winners() {
    let dir = temp_dir("plan");
    let sc = write(&dir, "s.toml", GOOD.as_bytes());
    let plan = dir.join("plan.csv");
    let o = run(&[
        "plan",
        sc.to_str().unwrap(),
        "--policy",
        "five",
        "--out",
        plan.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&plan).unwrap();
    let mut expected = String::from("time_s,replicas\n0,3\n");
    for k in 1..10 {
        expected.push_str(&format!("{},5\n", 60 * k));
    }
    assert_eq!(text, expected);
    let o = run(&["plan", sc.to_str().unwrap(), "--policy", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    let out = dir.join("out");
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let winner_plan = std::fs::read_to_string(out.join("plan.csv")).unwrap();
    assert!(winner_plan.starts_with("time_s,replicas\n0,3\n"));
    assert_eq!(winner_plan.lines().count(), 11);
}
