//! The command line as users run it: exit statuses, output files, and messages for bad input.

mod support;

use std::path::{Path, PathBuf};
use support::{cli as run, stderr, write};

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("cli", name)
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
        "scenario,policy,replication,seed,requests,completed,dropped,mean_wait_s,p_wait,mean_latency_s,p50_latency_s,p95_latency_s,p99_latency_s,slo_violations,slo_violation_ratio,replica_seconds,cost,objective,scale_ups,scale_downs,failed"
    );
    assert!(first("timeline.csv").starts_with(
        "policy,replication,time_s,arrivals,completed,dropped,ready_replicas,starting_replicas,desired_replicas,busy,queued,utilization,p95_latency_s,cost"
    ));
    assert!(first("policies.csv").starts_with("policy,mean_latency_s,mean_latency_s_ci95,p95_latency_s,p95_latency_s_ci95,p99_latency_s,p99_latency_s_ci95,slo_violation_ratio,slo_violation_ratio_ci95,replica_seconds,replica_seconds_ci95,cost,cost_ci95,objective,objective_ci95"));
    assert!(
        first("policies.csv").ends_with(
            ",rank,baseline,objective_vs_baseline,objective_vs_baseline_ci95,significant,regret,regret_ci95,policy_type,failed,failed_ci95"
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
    // Every column names its unit.
    let header = out.lines().next().unwrap();
    for h in [
        "E[W] theory (s)",
        "E[W] sim (s) ± 99.9% CI",
        "P(wait) sim ± 99.9% CI",
    ] {
        assert!(header.contains(h), "{header}");
    }
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

// ---------------------------------------------------------------------------------------------
// Messages that say how to fix a mistake

/// A misspelled key names the closest valid key and lists only the keys valid at that place
/// (for a workload or service table, those of its type or distribution).
#[test]
fn misspelled_keys_suggest_the_fix_and_list_the_keys_of_that_place() {
    let dir = temp_dir("typos");
    let cases: [(&str, String, &[&str], &[&str]); 6] = [
        (
            "workload",
            GOOD.replace("rate = 20.0", "rat = 20.0"),
            &[
                ":8:1: `workload.rat`: unknown key `rat`: did you mean `rate`?",
                "`[workload]` with type = \"poisson\" takes `type` and `rate`",
            ],
            &["amplitude"],
        ),
        (
            "service",
            GOOD.replace(
                "distribution = \"exponential\"\nmean = \"100ms\"",
                "distribution = \"lognormal\"\nmean = \"100ms\"\ncvv = 1.0",
            ),
            &[
                "`service.cvv`: unknown key `cvv`: did you mean `cv`?",
                "`[service]` with distribution = \"lognormal\" takes `distribution`, `mean` and `cv`",
            ],
            &["`max`"],
        ),
        (
            "cluster",
            GOOD.replace("max_replicas = 10", "max_replica = 10"),
            &[
                "did you mean `max_replicas`?",
                "`[cluster]` takes `concurrency`,",
            ],
            &["`replica_hour`"],
        ),
        (
            "cost",
            format!("{GOOD}[cost]\nslo_latncy = \"1s\"\n"),
            &[
                "did you mean `slo_latency`?",
                "`[cost]` takes `replica_hour`,",
            ],
            &["`concurrency`"],
        ),
        (
            "top level",
            GOOD.replace("seed = 5", "sede = 5"),
            &[
                ":2:1: `sede`: unknown key `sede`: did you mean `seed`?",
                "the top level of a scenario takes `name`, `seed`,",
            ],
            &[],
        ),
        (
            "policy",
            GOOD.replace("replicas = 5", "replica = 5"),
            &[
                "`policy.five.replica`: `replica` does not apply to policy \"five\" of type \"static\"",
                "which takes: replicas, period (did you mean `replicas`?)",
            ],
            &["target_utilization"],
        ),
    ];
    for (what, text, expected, absent) in cases {
        let p = write(&dir, "typo.toml", text.as_bytes());
        let o = run(&["run", p.to_str().unwrap(), "--quiet"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        for e in expected {
            assert!(err.contains(e), "{what}: expected {e:?} in {err}");
        }
        for a in absent {
            assert!(!err.contains(a), "{what}: did not expect {a:?} in {err}");
        }
    }
    // Misspelled names of types, distributions and balancers get a suggestion too.
    for (text, expected) in [
        (
            GOOD.replace("\"poisson\"", "\"posson\""),
            "unknown workload type \"posson\": did you mean \"poisson\"?",
        ),
        (
            GOOD.replace("\"exponential\"", "\"exponental\""),
            "did you mean \"exponential\"?",
        ),
        (
            GOOD.replace(
                "max_replicas = 10",
                "max_replicas = 10\nload_balancer = \"round-robin\"",
            ),
            "did you mean \"round_robin\"?",
        ),
    ] {
        let p = write(&dir, "typo.toml", text.as_bytes());
        let err = stderr(&run(&["run", p.to_str().unwrap(), "--quiet"]));
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
}

/// A trace path that does not open is an error at the scenario's line, key `workload.path`,
/// saying that paths are relative to the scenario's folder, before anything runs.
#[test]
fn a_trace_that_cannot_be_opened_names_the_scenario_line_and_key() {
    let dir = temp_dir("trace-path");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    std::fs::write(dir.join("traces/load.csv"), "time_s,count\n0,5\n60,5\n").unwrap();
    let text = GOOD.replace(
        "type = \"poisson\"\nrate = 20.0",
        "type = \"trace\"\npath = \"traces/load.csv\"\nformat = \"counts\"",
    );
    let sc = write(&dir.join("scenarios"), "s.toml", text.as_bytes());
    let o = run(&["run", sc.to_str().unwrap(), "--quiet"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let folder = dir.join("scenarios");
    for e in [
        "s.toml:8:8: `workload.path`: cannot open the trace file",
        &dir.join("scenarios/traces/load.csv").display().to_string(),
        "relative to the scenario's own folder",
        &folder.display().to_string(),
    ] {
        assert!(err.contains(e), "expected {e:?} in {err}");
    }
    // Written relative to the scenario's folder, it runs.
    let fixed = text.replace("traces/load.csv", "../traces/load.csv");
    let sc = write(&dir.join("scenarios"), "s.toml", fixed.as_bytes());
    let out = dir.join("out");
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Moved elsewhere, the results still re-render (their copy of the scenario is not re-checked).
    let moved = dir.join("moved");
    std::fs::rename(&out, &moved).unwrap();
    let o = run(&["report", moved.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn report_of_a_missing_folder_says_it_does_not_exist() {
    let o = run(&["report", "no/such/results"]);
    assert_eq!(o.status.code(), Some(2));
    let abs = std::env::current_dir().unwrap().join("no/such/results");
    let err = stderr(&o);
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains(&abs.display().to_string()), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Warnings for likely mistakes

/// Warnings go to stderr before the run, never change a result, and `--quiet` leaves errors
/// only.
#[test]
fn warnings_are_printed_never_change_results_and_quiet_hides_them() {
    let dir = temp_dir("warnings");
    // 20 requests/s × 50 s of service = 1,000 slots against 10 containers × 1; an SLO of
    // 500 ms against 50 s of service; and `mean = 50` is implausible as seconds.
    let text = GOOD.replace("mean = \"100ms\"", "mean = 50");
    let sc = write(&dir, "s.toml", text.as_bytes());
    let loud = dir.join("loud");
    let quiet = dir.join("quiet");
    let o = run(&["run", sc.to_str().unwrap(), "--out", loud.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 3, "{err}");
    assert!(warnings[0].contains("needs 1000 request slots on average (20 requests/s × 50 s of service), more than the 10 the cluster can have (max_replicas 10 × concurrency 1): every policy will be overloaded"), "{err}");
    assert!(
        warnings[1]
            .contains("cost.slo_latency (0.5 s) is shorter than the mean service time (50 s)"),
        "{err}"
    );
    assert!(
        warnings[2].contains("service.mean = 50 is 50 seconds of service per request"),
        "{err}"
    );
    assert!(warnings[2].contains("write \"50ms\""), "{err}");
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--out",
        quiet.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "--quiet printed {}", stderr(&o));
    assert!(o.stdout.is_empty());
    for f in ["summary.csv", "policies.csv", "timeline.csv"] {
        assert!(
            std::fs::read(loud.join(f)).unwrap() == std::fs::read(quiet.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // The same scenario with the unit written: no warning about the unit.
    let sc = write(
        &dir,
        "ms.toml",
        GOOD.replace("mean = \"100ms\"", "mean = \"50ms\"")
            .as_bytes(),
    );
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        dir.join("ms").to_str().unwrap(),
    ]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------------
// Small things a user notices

#[test]
fn the_table_says_what_its_numbers_are() {
    let dir = temp_dir("table");
    let sc = write(&dir, "s.toml", GOOD.as_bytes());
    let table = |extra: &[&str], out: &str| {
        let out = dir.join(out);
        let mut args = vec!["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        String::from_utf8_lossy(&run(&args).stdout).into_owned()
    };
    let out = table(&["--policy", "five"], "one");
    assert!(
        out.starts_with("cli: 1 policy × 1 replication, 600 s simulated"),
        "{out}"
    );
    assert!(out.contains("objective: replica cost + SLO penalties, lower is better, in the unit of the [cost] prices (0.04 per container-hour, 0.0001 per violating request)"), "{out}");
    assert!(!out.contains("95% confidence"), "{out}");
    let out = table(&["--replications", "3"], "three");
    assert!(out.starts_with("cli: 2 policies × 3 replications"), "{out}");
    assert!(
        out.contains("±: half-width of the 95% confidence interval over the 3 replications"),
        "{out}"
    );
}

/// A trace that ends exactly at the run's end did not run out; one that ends earlier did.
#[test]
fn ran_out_of_arrivals_only_when_the_trace_ends_before_the_run() {
    let dir = temp_dir("ran-out");
    // Ten 60 s bins: the trace covers exactly the 10 minutes of the run.
    let mut counts = String::from("time_s,count\n");
    for i in 0..10 {
        counts.push_str(&format!("{},30\n", 60 * i));
    }
    std::fs::write(dir.join("full.csv"), &counts).unwrap();
    let short: String = counts.lines().take(6).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("short.csv"), short).unwrap();
    for (trace, expect_note) in [("full.csv", false), ("short.csv", true)] {
        let text = GOOD.replace(
            "type = \"poisson\"\nrate = 20.0",
            &format!("type = \"trace\"\npath = \"{trace}\"\nformat = \"counts\""),
        );
        let sc = write(&dir, "s.toml", text.as_bytes());
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("o").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            stderr(&o).contains("ran out of arrivals"),
            expect_note,
            "{trace}: {}",
            stderr(&o)
        );
    }
}
