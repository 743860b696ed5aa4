//! The per_request platform end to end: the paper's result on the Azure Functions sample, the
//! command line, determinism across threads, and bad input.

use autoscale_sim::serverless::{output, runner, scenario};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
}

/// The scenario text of the Azure sample with the given policies (and optionally a limit).
fn azure(policies: &str, limit: Option<usize>) -> String {
    let limit = limit.map_or(String::new(), |l| format!("limit = {l}\n"));
    format!(
        r#"
name = "azure"
seed = 3
duration = "8h"
interval = "10m"
[functions]
trace = "traces/azure-functions/invocations-500fn-8h.csv"
durations = "traces/azure-functions/durations-500fn-8h.csv"
{limit}
[service]
distribution = "lognormal"
mean = "1s"
cv = 1.0
[platform]
type = "per_request"
cold_start = {{ distribution = "lognormal", mean = "500ms", cv = 0.5 }}
{policies}
"#
    )
}

const FIXED_AND_HYBRID: &str = r#"
[[policy]]
name = "fixed-10m"
type = "keep_alive_fixed"
keep_alive = "10m"
[[policy]]
name = "hybrid"
type = "hybrid_histogram"
"#;

/// Shahrad et al. (USENIX ATC 2020), Figure 15: on the Azure trace, the hybrid histogram
/// policy has fewer cold starts than a fixed 10-minute keep-alive while wasting no more memory.
/// Checked here on the 500-function, 8-hour sample with the paper's measures: the 75th
/// percentile over functions of the per-function cold-start ratio, and the wasted memory
/// (idle instance-seconds). (Weighted by invocations the hybrid policy has more cold starts on
/// this sample: its short keep-alive for busy functions lets their extra instances expire
/// between bursts; see docs/serverless.md.)
#[test]
fn hybrid_beats_a_fixed_10_minute_keep_alive_on_the_azure_sample() {
    let sc = scenario::parse(&root().join("sample.toml"), &azure(FIXED_AND_HYBRID, None))
        .expect("a valid scenario");
    let exp = runner::run(&sc, &runner::FaasOptions::default()).expect("the run succeeds");
    assert_eq!(exp.runs.len(), 2);
    let (fixed, hybrid) = (&exp.runs[0], &exp.runs[1]);
    assert_eq!(fixed.functions, 500);
    assert_eq!(
        fixed.stats.requests, hybrid.stats.requests,
        "both policies see the same invocations"
    );
    assert_eq!(
        fixed.stats.requests, 3_037_902,
        "every invocation of the sample is replayed"
    );
    let (fm, hm) = (output::metrics(&exp, fixed), output::metrics(&exp, hybrid));
    println!(
        "fixed-10m: cold {:.4}, p75 per function {:.4}, idle {:.0} s; hybrid: cold {:.4}, p75 {:.4}, idle {:.0} s",
        fm.cold_start_ratio,
        fm.function_p75,
        fixed.stats.idle_instance_s,
        hm.cold_start_ratio,
        hm.function_p75,
        hybrid.stats.idle_instance_s
    );
    assert!(hm.function_p75 < fm.function_p75);
    assert!(hybrid.stats.idle_instance_s <= fixed.stats.idle_instance_s);
}

fn run_cli(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("the binary runs")
}

#[test]
fn run_writes_every_file_and_the_same_bytes_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = azure(
        &format!(
            "{FIXED_AND_HYBRID}\n[[policy]]\nname = \"provisioned\"\ntype = \"provisioned\"\nplan = \"oracle\"\n[[policy]]\nname = \"provisioned-dp\"\ntype = \"provisioned\"\nplan = \"dp\"\n"
        ),
        Some(40),
    )
    .replace("\"traces/", &format!("\"{}/traces/", root().display()))
    .replace("seed = 3", "seed = 3\nreplications = 2");
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, text).expect("written");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let ra = run_cli(&scenario, &a, &["--threads", "1"]);
    assert!(
        ra.status.success(),
        "{}",
        String::from_utf8_lossy(&ra.stderr)
    );
    let rb = run_cli(&scenario, &b, &["--threads", "3"]);
    assert!(
        rb.status.success(),
        "{}",
        String::from_utf8_lossy(&rb.stderr)
    );
    for f in [
        "summary.csv",
        "policies.csv",
        "timeline.csv",
        "functions.csv",
        "function_cdf.csv",
    ] {
        let x = std::fs::read(a.join(f)).expect("written");
        assert_eq!(x, std::fs::read(b.join(f)).expect("written"), "{f} differs");
    }
    assert!(a.join("plots/coldstart_memory.svg").exists());
    let summary = std::fs::read_to_string(a.join("summary.csv")).expect("written");
    assert!(summary.starts_with(
        "scenario,policy,replication,seed,requests,completed,dropped,mean_wait_s,p_wait,mean_latency_s,p50_latency_s,p95_latency_s,p99_latency_s,slo_violations,slo_violation_ratio,replica_seconds,cost,objective,scale_ups,scale_downs,"
    ));
    assert_eq!(summary.lines().count(), 1 + 4 * 2);
    let functions = std::fs::read_to_string(a.join("functions.csv")).expect("written");
    assert_eq!(functions.lines().count(), 1 + 40 * 4 * 2);
    let cdf = std::fs::read_to_string(a.join("function_cdf.csv")).expect("written");
    assert_eq!(cdf.lines().count(), 1 + 4 * 2 * 101);
}

fn expect_bad(text: &str, key: &str, words: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).expect("written");
    let out = bin()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml") && err.contains(key) && err.contains(words),
        "{err}"
    );
}

const ONE: &str = r#"
name = "one"
duration = "1h"
[workload]
type = "poisson"
rate = 1.0
[service]
distribution = "exponential"
mean = "100ms"
[platform]
type = "per_request"
cold_start = { distribution = "deterministic", mean = "1s" }
"#;

#[test]
fn bad_input_names_the_key_and_exits_2() {
    expect_bad(
        &format!("{ONE}[[policy]]\nname = \"x\"\ntype = \"keep_alive_fixd\"\n"),
        "policy.x.type",
        "keep_alive_fixed",
    );
    expect_bad(
        &format!("{ONE}[[policy]]\nname = \"x\"\ntype = \"keep_alive_fixed\"\nrange = \"4h\"\n"),
        "policy.x.range",
        "does not apply",
    );
    expect_bad(
        &format!(
            "{ONE}[[policy]]\nname = \"x\"\ntype = \"hybrid_histogram\"\nhead = 0.99\ntail = 0.5\n"
        ),
        "policy.x.head",
        "below tail",
    );
    expect_bad(
        &format!("{ONE}[[policy]]\nname = \"x\"\ntype = \"provisioned\"\nplan = \"missing.csv\"\n"),
        "policy.x.plan",
        "cannot read the plan",
    );
    expect_bad(
        &(ONE.replace("per_request", "per_minute")
            + "[[policy]]\nname = \"x\"\ntype = \"keep_alive_fixed\"\n"),
        "platform.type",
        "per_request",
    );
}

/// One function at 1 request per second, executions of 100 ms (load 0.1), a 1-second cold
/// start and a 10-minute keep-alive, for an hour. Routing to the newest idle instance keeps two
/// instances warm almost all the time (the second is used whenever the first is busy, 10% of
/// the requests), so a cold start needs both busy: about λT·B(2, 0.1) = 3600 · 0.0045 ≈ 16,
/// plus the first requests. The bound is 45 (against 3600 without keep-alive).
#[test]
fn a_steady_function_keeps_its_instances_warm() {
    let text = format!("{ONE}[[policy]]\nname = \"x\"\ntype = \"keep_alive_fixed\"\n");
    let sc = scenario::parse(Path::new("one.toml"), &text).expect("valid");
    let exp = runner::run(&sc, &runner::FaasOptions::default()).expect("runs");
    let r = &exp.runs[0];
    assert!(
        r.stats.requests > 3300 && r.stats.requests < 3900,
        "{}",
        r.stats.requests
    );
    assert!(
        r.stats.cold_starts >= 1 && r.stats.cold_starts < 20,
        "{}",
        r.stats.cold_starts
    );
    assert_eq!(r.stats.throttles, 0);
}
