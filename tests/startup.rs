//! `cluster.startup` as a distribution: parsing, located errors, the mean planners use, and
//! common random numbers across policies.

use autoscale_sim::cluster::startup::StartupDist;
use autoscale_sim::experiment;
use autoscale_sim::scenario::{self, Scenario};
use autoscale_sim::time::SimDuration;
use std::path::{Path, PathBuf};

fn scenario_with(startup: &str, dir: &Path) -> Result<Scenario, String> {
    let text = format!(
        r#"name = "startup"
seed = 4
duration = "20m"
interval = "30s"
[workload]
type = "step"
steps = [[0, 20.0], ["5m", 120.0]]
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
concurrency = 4
startup = {startup}
min_replicas = 1
max_replicas = 40
initial_replicas = 2
[[policy]]
name = "hpa"
type = "hpa"
[[policy]]
name = "kpa"
type = "kpa"
"#
    );
    scenario::parse(&dir.join("s.toml"), &text).map_err(|e| format!("{e}"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "autoscale-sim-startup-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn startup_tables_parse_and_planners_see_the_mean() {
    let dir = temp_dir("parse");
    let s = |x: u64| SimDuration::from_secs(x);
    let sc = scenario_with("\"30s\"", &dir).unwrap();
    assert_eq!(sc.cluster.startup_dist, StartupDist::Constant(s(30)));
    let sc = scenario_with(
        "{ distribution = \"lognormal\", mean = \"40s\", cv = 0.5 }",
        &dir,
    )
    .unwrap();
    assert_eq!(sc.cluster.startup, s(40));
    let sc = scenario_with(
        "{ distribution = \"uniform\", min = \"10s\", max = \"50s\" }",
        &dir,
    )
    .unwrap();
    assert_eq!(sc.cluster.startup, s(30));
    std::fs::write(
        dir.join("starts.csv"),
        "image,startup_s\ncached,2\ncold,20\ncold,35\n",
    )
    .unwrap();
    let sc = scenario_with(
        "{ distribution = \"empirical\", path = \"starts.csv\" }",
        &dir,
    )
    .unwrap();
    assert_eq!(sc.cluster.startup, s(19));
    assert_eq!(
        sc.cluster.startup_dist,
        StartupDist::Empirical(vec![s(2), s(20), s(35)])
    );
}

#[test]
fn bad_startup_tables_name_the_key_and_the_fix() {
    let dir = temp_dir("bad");
    for (startup, says) in [
        (
            "{ distribution = \"lognormall\", mean = \"30s\", cv = 1 }",
            "did you mean \"lognormal\"",
        ),
        (
            "{ distribution = \"lognormal\", meen = \"30s\", cv = 1 }",
            "meen",
        ),
        (
            "{ distribution = \"lognormal\", mean = \"30s\" }",
            "`mean` and `cv`",
        ),
        (
            "{ distribution = \"uniform\", min = \"50s\", max = \"10s\" }",
            "min at most max",
        ),
        (
            "{ distribution = \"empirical\", path = \"nowhere.csv\" }",
            "cannot open",
        ),
        ("\"soon\"", "distribution = \"lognormal\""),
    ] {
        let e = scenario_with(startup, &dir).expect_err(startup);
        assert!(e.contains("cluster.startup"), "{startup}: {e}");
        assert!(e.contains("s.toml:"), "{startup}: {e}");
        assert!(
            e.to_lowercase().contains(&says.to_lowercase()),
            "{startup}: {e}"
        );
    }
}

#[test]
fn random_startups_are_reproducible_and_change_the_results() {
    let dir = temp_dir("run");
    let fixed = scenario_with("\"30s\"", &dir).unwrap();
    let random = scenario_with(
        "{ distribution = \"lognormal\", mean = \"30s\", cv = 1.5 }",
        &dir,
    )
    .unwrap();
    let a = experiment::simulate(&random, 0, 0).unwrap();
    let b = experiment::simulate(&random, 0, 0).unwrap();
    assert_eq!(a.summary.slo_violations, b.summary.slo_violations);
    assert_eq!(a.summary.replica_seconds, b.summary.replica_seconds);
    let c = experiment::simulate(&fixed, 0, 0).unwrap();
    assert_ne!(a.summary.replica_seconds, c.summary.replica_seconds);
}
