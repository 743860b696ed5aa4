//! Parameter sweeps: every point equals the same scenario run on its own, shards merge into
//! the unsplit run's files byte for byte, and bad sweeps are located errors.

mod support;

use autoscale_sim::experiment::{self, RunOptions};
use autoscale_sim::output::csv;
use autoscale_sim::scenario;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::BIN;

const BASE: &str = r#"name = "sweep-test"
seed = 3
duration = "15m"
replications = 2
interval = "60s"
[workload]
type = "poisson"
rate = 50.0
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 2
startup = "10s"
max_replicas = 20
initial_replicas = 3
[[policy]]
name = "hpa"
type = "hpa"
[[policy]]
name = "fixed"
type = "static"
replicas = 4
"#;

const SWEEP: &str = r#"[sweep]
"policy.hpa.target_utilization" = [0.5, 0.9]
"workload.rate" = [30.0, 60.0]
"cluster.startup" = ["10s", "60s"]
"#;

fn temp(name: &str) -> PathBuf {
    support::temp_dir("sweep", name)
}

/// The summary rows of a sweep point are the rows of the scenario with those values written
/// in, run alone (the swept columns aside).
#[test]
fn each_point_equals_the_scenario_run_alone() {
    let text = format!("{BASE}{SWEEP}");
    let sc = scenario::parse(Path::new("s.toml"), &text).unwrap();
    let sweep = sc.sweep.as_ref().unwrap();
    assert_eq!(sweep.points.len(), 8);
    let exp = experiment::run(&sc, &RunOptions::default()).unwrap();
    let all = String::from_utf8(csv::summary_csv(&exp)).unwrap();
    // Point 5 of the grid (last key fastest): target 0.9, rate 30, startup 60s.
    assert_eq!(sweep.points[5].labels, ["0.9", "30", "60s"]);
    let alone_text = BASE
        .replace("type = \"hpa\"", "type = \"hpa\"\ntarget_utilization = 0.9")
        .replace("rate = 50.0", "rate = 30.0")
        .replace("startup = \"10s\"", "startup = \"60s\"");
    let alone_sc = scenario::parse(Path::new("s.toml"), &alone_text).unwrap();
    let alone = experiment::run(&alone_sc, &RunOptions::default()).unwrap();
    let alone_rows = String::from_utf8(csv::summary_csv(&alone)).unwrap();
    let swept: Vec<&str> = all
        .lines()
        .filter(|l| l.ends_with(",0.9,30,60s"))
        .map(|l| l.trim_end_matches(",0.9,30,60s"))
        .collect();
    let single: Vec<&str> = alone_rows.lines().skip(1).collect();
    assert_eq!(swept, single);
    // One column per swept key, after the standard ones.
    assert!(all.lines().next().unwrap().ends_with(
        ",scale_downs,failed,policy.hpa.target_utilization,workload.rate,cluster.startup"
    ));
    let policies = String::from_utf8(csv::policies_csv(&exp)).unwrap();
    assert_eq!(policies.lines().count(), 1 + 8 * 2);
}

#[test]
fn merged_shards_equal_the_unsplit_run() {
    let dir = temp("shards");
    let sc = dir.join("s.toml");
    std::fs::write(&sc, format!("{BASE}{SWEEP}")).unwrap();
    let run = |extra: &[&str], out: &Path| {
        let o = Command::new(BIN)
            .args([
                "run",
                sc.to_str().unwrap(),
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[], &dir.join("all"));
    for i in 0..3 {
        run(&["--shard", &format!("{i}/3")], &dir.join(format!("s{i}")));
    }
    let merged = dir.join("merged");
    let o = Command::new(BIN)
        .args(["merge"])
        .args([2, 0, 1].map(|i| dir.join(format!("s{i}")).to_str().unwrap().to_string()))
        .args(["--out", merged.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "summary.csv",
        "policies.csv",
        "timeline.csv",
        "latency.csv",
        "plan.csv",
        "report.html",
        "report.md",
    ] {
        let a = std::fs::read(dir.join("all").join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(a == b, "{f} differs after merge");
    }
    // A missing shard is bad input.
    let o = Command::new(BIN)
        .args([
            "merge",
            dir.join("s0").to_str().unwrap(),
            "--out",
            dir.join("x").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard 1/3, 2/3 are missing"));
}

#[test]
fn bad_sweeps_name_the_sweep_key() {
    for (sweep, expected) in [
        (
            "\"policy.nope.target\" = [1, 2]",
            "no policy named \"nope\"",
        ),
        ("\"workload.rate\" = 5", "expected a non-empty list"),
        ("\"workload.rate\" = [10.0, -1.0]", "workload.rate = -1.0"),
        ("\"cluster.startup\" = [\"soon\"]", "at the sweep point"),
    ] {
        let text = format!("{BASE}[sweep]\n{sweep}\n");
        let e = scenario::parse(Path::new("s.toml"), &text).unwrap_err();
        assert_eq!(e.line, Some(24), "{sweep}: {e}");
        assert!(
            e.key.as_deref().unwrap_or("").starts_with("sweep."),
            "{sweep}: {e}"
        );
        assert!(e.message.contains(expected), "{sweep}: {e}");
    }
}

/// Without `--out`, each shard writes its own folder, `output/<name>/shard-I-of-N/`, and
/// `merge` without `--out` writes `output/<name>/`: the README's sweep example, run with only
/// the `--shard` flags, gives the files of an unsplit run and keeps the shards' folders.
#[test]
fn shards_without_out_write_their_own_folders_and_merge_finds_its_own() {
    let dir = temp("default-folders");
    std::fs::write(dir.join("s.toml"), format!("{BASE}{SWEEP}")).unwrap();
    let cli = |args: &[&str]| {
        let o = Command::new(BIN)
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    cli(&["run", "s.toml", "--quiet", "--out", "all"]);
    for i in 0..2 {
        cli(&["run", "s.toml", "--quiet", "--shard", &format!("{i}/2")]);
    }
    let base = dir.join("output/sweep-test");
    for i in 0..2 {
        let shard = base.join(format!("shard-{i}-of-2"));
        assert_eq!(
            std::fs::read_to_string(shard.join("shard.txt")).unwrap(),
            format!("{i}/2\n")
        );
    }
    // The two shards ran different points: their summaries share no row.
    let rows = |i: usize| -> Vec<String> {
        let text =
            std::fs::read_to_string(base.join(format!("shard-{i}-of-2/summary.csv"))).unwrap();
        text.lines().skip(1).map(String::from).collect()
    };
    let (a, b) = (rows(0), rows(1));
    assert_eq!(a.len() + b.len(), 8 * 2 * 2);
    assert!(a.iter().all(|r| !b.contains(r)));
    let said = cli(&[
        "merge",
        "output/sweep-test/shard-0-of-2",
        "output/sweep-test/shard-1-of-2",
    ]);
    assert!(said.contains("into output/sweep-test"), "{said}");
    for f in ["summary.csv", "policies.csv", "timeline.csv", "plan.csv"] {
        let unsplit = std::fs::read(dir.join("all").join(f)).unwrap();
        let merged = std::fs::read(base.join(f)).unwrap();
        assert!(unsplit == merged, "{f} differs after merge");
    }
    assert!(base.join("shard-0-of-2/summary.csv").exists());
    assert!(!base.join("shard.txt").exists());
}

/// The README's tutorial scenario and sweep example are the files in `docs/tutorial/`, as
/// written in the README, and they are valid (6 sweep points).
#[test]
fn the_readme_tutorial_files_are_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let web = std::fs::read_to_string(root.join("docs/tutorial/web.toml")).unwrap();
    let sweep = std::fs::read_to_string(root.join("docs/tutorial/web-sweep.toml")).unwrap();
    assert!(
        blocks.contains(&web.as_str()),
        "README.md does not show docs/tutorial/web.toml"
    );
    let table = blocks
        .iter()
        .find(|b| b.starts_with("[sweep]"))
        .expect("README.md shows a [sweep] table");
    assert_eq!(sweep, format!("{web}\n{table}"));
    let sc = scenario::load(&root.join("docs/tutorial/web-sweep.toml")).unwrap();
    assert_eq!(sc.name, "web");
    assert_eq!(sc.sweep.unwrap().points.len(), 6);
    assert_eq!(sc.policies.len(), 3);
}

/// A results folder reused by a run without a sweep keeps no chart of the earlier sweep.
#[test]
fn a_reused_folder_keeps_no_stale_sweep_chart() {
    let dir = temp("reused");
    let out = dir.join("out");
    for (name, text) in [
        ("sweep.toml", format!("{BASE}{SWEEP}")),
        ("plain.toml", BASE.to_string()),
    ] {
        let sc = dir.join(name);
        std::fs::write(&sc, text).unwrap();
        let o = Command::new(BIN)
            .args([
                "run",
                sc.to_str().unwrap(),
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let sweeps = std::fs::read_dir(out.join("plots"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("sweep_")
            })
            .count();
        // Three swept keys, SVG and PNG each; then none.
        assert_eq!(sweeps, if name == "sweep.toml" { 6 } else { 0 }, "{name}");
    }
}
