//! Golden outputs: the CSV files of every example scenario in `scenarios/`, cut to a short
//! duration, must stay byte-identical to the files recorded in `tests/golden/<name>/`.
//!
//! This guards refactors: moving code must not change a single number. A change that is meant
//! to change results regenerates the files with `UPDATE_GOLDEN=1 cargo test --release --test
//! golden` and says why in its commit message.
//!
//! Each scenario is rewritten before it runs: `duration` becomes [`DURATION`], `warmup` at most
//! [`WARMUP`], `replications` at most [`REPLICATIONS`], and a trace `path` is made absolute so the
//! copy can live in a temporary folder. Everything else (seed, policies, cluster) is as written.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");

/// Simulated time of every golden run.
const DURATION: &str = "30m";
/// Largest warm-up kept from the scenario, in seconds.
const WARMUP: f64 = 120.0;
/// Largest replication count kept from the scenario.
const REPLICATIONS: i64 = 2;
/// The files compared, when the run writes them.
const FILES: [&str; 5] = [
    "summary.csv",
    "policies.csv",
    "timeline.csv",
    "latency.csv",
    "plan.csv",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Seconds of a duration value as scenarios write it (a number, or a string with a unit).
fn seconds(v: &toml::Value) -> f64 {
    match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        toml::Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
            let (num, unit) = s.split_at(split);
            let n: f64 = num.trim().parse().expect("a number in a duration");
            n * match unit {
                "" | "s" => 1.0,
                "ms" => 1e-3,
                "us" => 1e-6,
                "ns" => 1e-9,
                "m" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                other => panic!("unexpected unit {other}"),
            }
        }
        other => panic!("unexpected duration {other}"),
    }
}

/// The scenario at `path`, shortened, with its trace path made absolute.
fn shortened(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut doc: toml::Table = text.parse().unwrap();
    doc.insert("duration".into(), toml::Value::String(DURATION.into()));
    if let Some(w) = doc.get("warmup") {
        let w = seconds(w).min(WARMUP);
        doc.insert("warmup".into(), toml::Value::Float(w));
    }
    if let Some(toml::Value::Integer(r)) = doc.get("replications") {
        let r = (*r).min(REPLICATIONS);
        doc.insert("replications".into(), toml::Value::Integer(r));
    }
    if let Some(toml::Value::Table(w)) = doc.get_mut("workload")
        && let Some(toml::Value::String(p)) = w.get("path")
    {
        let abs = path.parent().unwrap().join(p);
        let abs = abs.canonicalize().unwrap();
        w.insert(
            "path".into(),
            toml::Value::String(abs.to_string_lossy().into_owned()),
        );
    }
    // A serverless scenario's trace files ([functions] trace, durations).
    if let Some(toml::Value::Table(f)) = doc.get_mut("functions") {
        for key in ["trace", "durations"] {
            if let Some(toml::Value::String(p)) = f.get(key) {
                let abs = path.parent().unwrap().join(p).canonicalize().unwrap();
                f.insert(
                    key.into(),
                    toml::Value::String(abs.to_string_lossy().into_owned()),
                );
            }
        }
    }
    toml::to_string(&doc).unwrap()
}

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn example_scenarios_match_their_golden_outputs() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let tmp = tempfile::tempdir().unwrap();
    let mut differences = Vec::new();
    let mut compared = 0;
    for scenario in scenarios() {
        let stem = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let short = tmp.path().join(format!("{stem}.toml"));
        std::fs::write(&short, shortened(&scenario)).unwrap();
        let out = tmp.path().join(format!("{stem}-out"));
        let status = Command::new(BIN)
            .args(["run", short.to_str().unwrap(), "--quiet", "--threads", "2"])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{stem}: run failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let golden = root().join("tests/golden").join(&stem);
        let mut written = 0;
        for file in FILES {
            let produced = out.join(file);
            if !produced.exists() {
                continue;
            }
            written += 1;
            let bytes = std::fs::read(&produced).unwrap();
            let expected = golden.join(file);
            if update {
                std::fs::create_dir_all(&golden).unwrap();
                std::fs::write(&expected, &bytes).unwrap();
                continue;
            }
            compared += 1;
            match std::fs::read(&expected) {
                Ok(want) if want == bytes => {}
                Ok(_) => differences.push(format!("{stem}/{file} differs")),
                Err(_) => differences.push(format!("{stem}/{file} has no golden file")),
            }
        }
        assert!(
            written >= 3,
            "{stem}: the run wrote only {written} CSV files"
        );
    }
    assert!(
        differences.is_empty(),
        "golden outputs changed (regenerate with UPDATE_GOLDEN=1 only if the change is meant):\n{}",
        differences.join("\n")
    );
    if !update {
        assert!(compared > 0, "no golden file was compared");
    }
}
