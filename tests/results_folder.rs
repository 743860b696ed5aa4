//! Results folders are whole or nothing: the manifest `run.json` written last, a folder
//! replaced by a rename (never a mixture of two runs, even when the process is killed while
//! writing), no special file replaced, and `report` and `merge` refusing incomplete, foreign or
//! malformed folders with exit 2 and a message naming the file, line and column.

use autoscale_sim::output::manifest::{Manifest, sha256_hex};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{BIN, cli_in as cli};

fn temp(name: &str) -> PathBuf {
    support::temp_dir("folder", name)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    support::succeeded(&format!("{args:?}"), &cli(dir, args))
}

/// Runs `args`, expects exit 2, returns standard error.
fn bad(dir: &Path, args: &[&str]) -> String {
    support::refused(&format!("{args:?}"), &cli(dir, args))
}

const SMALL: &str = r#"name = "folder"
seed = 5
duration = "10m"
interval = "60s"
replications = 2
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

const SWEEP: &str = r#"[sweep]
"workload.rate" = [10.0, 20.0, 30.0, 40.0]
"#;

/// The hidden temporary siblings (`.NAME.autoscale-...`) in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".autoscale-"))
        .collect()
}

/// Every file under `dir` but `run.json`, as `/`-separated relative paths, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel != "run.json" {
                    out.push(rel);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn run_json_is_written_last_and_lists_every_file_with_its_size() {
    let dir = temp("manifest");
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    ok(
        &dir,
        &["run", "s.toml", "--out", "out", "--quiet", "--seed", "9"],
    );
    let m = Manifest::read(&dir.join("out")).unwrap();
    assert_eq!(m.tool, "autoscale-sim");
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.command, "run");
    assert_eq!(m.scenario, "folder");
    assert_eq!(m.scenario_sha256, sha256_hex(SMALL.as_bytes()));
    assert_eq!(m.seed, 9);
    assert_eq!(m.policies, ["three", "five"]);
    assert_eq!(m.replications, 2);
    assert_eq!(m.shard, None);
    let mut listed: Vec<String> = m.files.iter().map(|f| f.path.clone()).collect();
    listed.sort();
    assert_eq!(listed, files_under(&dir.join("out")));
    for f in &m.files {
        let len = std::fs::metadata(dir.join("out").join(&f.path))
            .unwrap()
            .len();
        assert_eq!(len, f.bytes, "{}", f.path);
    }
    for f in [
        "summary.csv",
        "timeline.csv",
        "scenario.toml",
        "report.html",
        "plots/timeline.png",
    ] {
        assert!(listed.iter().any(|l| l == f), "{f} not in {listed:?}");
    }
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[test]
fn a_new_run_replaces_the_old_results_and_keeps_what_autoscale_sim_did_not_write() {
    let dir = temp("replace");
    std::fs::write(dir.join("s.toml"), format!("{SMALL}{SWEEP}")).unwrap();
    ok(&dir, &["run", "s.toml", "--out", "out", "--quiet"]);
    assert!(dir.join("out/plots/sweep_1.svg").exists());
    std::fs::write(dir.join("out/notes.txt"), "mine").unwrap();
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    ok(&dir, &["run", "s.toml", "--out", "out", "--quiet"]);
    // The sweep's chart went with the old results; the note stayed.
    assert!(!dir.join("out/plots/sweep_1.svg").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("out/notes.txt")).unwrap(),
        "mine"
    );
    let m = Manifest::read(&dir.join("out")).unwrap();
    assert_eq!(m.scenario_sha256, sha256_hex(SMALL.as_bytes()));
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[test]
fn a_folder_that_holds_no_results_is_not_replaced() {
    let dir = temp("foreign");
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    let err = bad(&dir, &["run", "s.toml", "--out", ".", "--quiet"]);
    assert!(
        err.contains("`--out`: this folder is not empty and holds no results (no run.json; it has s.toml): the results replace the whole folder, so give a new or empty folder, or one autoscale-sim wrote"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("s.toml")).unwrap(), SMALL);
}

/// A scenario whose outputs take a while to write: a day of 1-second intervals (86,400
/// timeline rows per run, 4 runs, charts of as many points).
const LONG: &str = r#"name = "long"
seed = 1
duration = "1d"
interval = "1s"
replications = 2
[workload]
type = "poisson"
rate = 2.0
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
max_replicas = 10
initial_replicas = 2
[[policy]]
name = "two"
type = "static"
replicas = 2
[[policy]]
name = "three"
type = "static"
replicas = 3
"#;

/// Waits until the run's temporary folder appears beside `out` (the run is writing), or the
/// child ends; true if it appeared.
fn wait_for_writing(child: &mut std::process::Child, parent: &Path) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if leftovers(parent)
            .iter()
            .any(|n| n.contains(".autoscale-tmp."))
        {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[test]
fn a_run_killed_while_writing_leaves_the_old_complete_folder_and_the_next_run_removes_its_temporary()
 {
    let dir = temp("kill");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    std::fs::write(dir.join("long.toml"), LONG).unwrap();
    ok(&dir, &["run", "small.toml", "--out", "out", "--quiet"]);
    let old = std::fs::read(dir.join("out/summary.csv")).unwrap();
    let mut killed_mid_write = 0;
    for delay_ms in [0u64, 30, 150] {
        let mut child = Command::new(BIN)
            .current_dir(&dir)
            .args([
                "run",
                "long.toml",
                "--out",
                "out",
                "--quiet",
                "--threads",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if wait_for_writing(&mut child, &dir) {
            std::thread::sleep(Duration::from_millis(delay_ms));
            if child.try_wait().unwrap().is_none() {
                killed_mid_write += 1;
            }
            child.kill().unwrap();
        }
        child.wait().unwrap();
        // The folder is a complete one: the old run's, or the new one if it finished.
        let m = Manifest::read(&dir.join("out")).expect("a complete folder");
        if m.scenario == "folder" {
            assert_eq!(std::fs::read(dir.join("out/summary.csv")).unwrap(), old);
        } else {
            assert_eq!(m.scenario, "long");
            assert_eq!(m.scenario_sha256, sha256_hex(LONG.as_bytes()));
        }
    }
    assert!(
        killed_mid_write > 0,
        "the run was never killed while writing"
    );
    // The next run into the same folder removes what the killed runs left.
    ok(&dir, &["run", "small.toml", "--out", "out", "--quiet"]);
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
    assert_eq!(std::fs::read(dir.join("out/summary.csv")).unwrap(), old);
}

#[cfg(unix)]
#[test]
fn sigterm_while_writing_removes_the_temporary_folder_and_keeps_the_old_one() {
    let dir = temp("sigterm");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    std::fs::write(dir.join("long.toml"), LONG).unwrap();
    ok(&dir, &["run", "small.toml", "--out", "out", "--quiet"]);
    let old = std::fs::read(dir.join("out/summary.csv")).unwrap();
    let mut child = Command::new(BIN)
        .current_dir(&dir)
        .args([
            "run",
            "long.toml",
            "--out",
            "out",
            "--quiet",
            "--threads",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for_writing(&mut child, &dir), "the run never wrote");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let m = Manifest::read(&dir.join("out")).expect("a complete folder");
    if status.code() == Some(128 + 15) {
        assert_eq!(m.scenario, "folder");
        assert_eq!(std::fs::read(dir.join("out/summary.csv")).unwrap(), old);
    } else {
        // The signal came after the swap: the new folder is complete.
        assert_eq!(m.scenario, "long", "{status:?}");
    }
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[cfg(unix)]
#[test]
fn out_never_replaces_a_fifo_or_a_link_to_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = temp("special");
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    std::fs::write(dir.join("t.csv"), "time_s,count\n0,5\n60,7\n").unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("fifo"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/null", dir.join("null")).unwrap();
    let fifo = "`--out`: this is a FIFO (named pipe): autoscale-sim writes whole files and never replaces a special file; give";
    let null = "`--out`: this is a symbolic link to a character device: autoscale-sim writes whole files and never replaces a special file; give";
    for (out, expected) in [("fifo", fifo), ("null", null)] {
        for args in [
            vec!["run", "s.toml", "--quiet", "--out", out],
            vec!["plan", "s.toml", "--policy", "three", "--out", out],
            vec![
                "trace", "convert", "t.csv", "--format", "counts", "--out", out,
            ],
            vec!["trace", "generate", "s.toml", "--out", out],
        ] {
            let err = bad(&dir, &args);
            assert!(
                err.contains(&format!("Error: {out}: {expected}")),
                "{args:?}: {err}"
            );
        }
    }
    assert!(
        std::fs::metadata(dir.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata(dir.join("null"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[test]
fn dash_writes_a_single_file_to_standard_output() {
    let dir = temp("stdout");
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    std::fs::write(dir.join("t.csv"), "time_s,count\n0,5\n60,7\n").unwrap();
    let plan = ok(&dir, &["plan", "s.toml", "--policy", "three", "--out", "-"]);
    ok(
        &dir,
        &["plan", "s.toml", "--policy", "three", "--out", "plan.csv"],
    );
    assert_eq!(plan, std::fs::read_to_string(dir.join("plan.csv")).unwrap());
    assert!(plan.starts_with("time_s,replicas\n"), "{plan}");
    let counts = ok(
        &dir,
        &[
            "trace", "convert", "t.csv", "--format", "counts", "--out", "-",
        ],
    );
    assert_eq!(counts, "time_s,count\n0,5\n60,7\n");
    let generated = ok(&dir, &["trace", "generate", "s.toml", "--out", "-"]);
    assert!(generated.starts_with("time_s,count\n"), "{generated}");
    assert_eq!(generated.lines().count(), 11, "{generated}");
    let err = bad(&dir, &["run", "s.toml", "--quiet", "--out", "-"]);
    assert!(err.contains("a folder"), "{err}");
}

#[test]
fn report_refuses_a_folder_without_its_manifest_or_whose_files_changed() {
    let dir = temp("report");
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    ok(&dir, &["run", "s.toml", "--out", "out", "--quiet"]);
    std::fs::rename(dir.join("out/run.json"), dir.join("run.json.bak")).unwrap();
    let err = bad(&dir, &["report", "out"]);
    assert_eq!(
        err,
        "Error: out: this folder has no run.json, so it is not a complete results folder (a run was interrupted while writing it, or an older autoscale-sim wrote it): write the folder again with `autoscale-sim run SCENARIO.toml --out DIR` (or `merge` for a sweep's shards)\n"
    );
    std::fs::rename(dir.join("run.json.bak"), dir.join("out/run.json")).unwrap();
    ok(&dir, &["report", "out"]);
    // Cut timeline.csv short.
    let t = std::fs::read(dir.join("out/timeline.csv")).unwrap();
    std::fs::write(dir.join("out/timeline.csv"), &t[..t.len() / 2]).unwrap();
    let err = bad(&dir, &["report", "out"]);
    assert!(
        err.contains(&format!(
            "out/run.json: run.json lists \"timeline.csv\" with {} bytes, but it has {} bytes: the folder was changed or cut short after it was written",
            t.len(),
            t.len() / 2
        )),
        "{err}"
    );
}

/// Rewrites a results CSV and its size in `run.json`, as if the run had written it so.
fn tamper(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
    let path = dir.join("run.json");
    let mut m: Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for f in &mut m.files {
        if f.path == file {
            f.bytes = text.len() as u64;
        }
    }
    std::fs::write(&path, m.to_json()).unwrap();
}

#[test]
fn report_refuses_empty_header_only_truncated_and_malformed_csvs() {
    let dir = temp("report-csv");
    std::fs::write(dir.join("s.toml"), SMALL).unwrap();
    ok(&dir, &["run", "s.toml", "--out", "out", "--quiet"]);
    let out = dir.join("out");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap().to_string();
    let cases: Vec<(String, String)> = vec![
        (String::new(), "out/summary.csv: this file is empty".into()),
        (
            format!("{header}\n"),
            "out/summary.csv:2: this file has a header but no rows".into(),
        ),
        (
            summary.trim_end().to_string(),
            format!(
                "out/summary.csv:{}: the last line has no end: the file was cut short",
                summary.lines().count()
            ),
        ),
        (
            format!("{header}\nfolder,three,0\n"),
            "out/summary.csv:2: malformed CSV row".into(),
        ),
        (
            summary.replacen(",0,5,", ",0,five,", 1),
            "out/summary.csv:2:4: `seed`: expected a number (or nothing), found \"five\"".into(),
        ),
    ];
    for (text, expected) in cases {
        tamper(&out, "summary.csv", &text);
        let err = bad(&dir, &["report", "out"]);
        assert!(err.contains(&expected), "expected {expected:?} in {err}");
    }
}

#[test]
fn merge_refuses_shards_of_another_run_and_writing_over_its_inputs() {
    let dir = temp("merge");
    std::fs::write(dir.join("s.toml"), format!("{SMALL}{SWEEP}")).unwrap();
    ok(
        &dir,
        &["run", "s.toml", "--quiet", "--shard", "0/2", "--out", "s0"],
    );
    ok(
        &dir,
        &["run", "s.toml", "--quiet", "--shard", "1/2", "--out", "s1"],
    );
    ok(
        &dir,
        &[
            "run", "s.toml", "--quiet", "--shard", "1/2", "--out", "s1-three", "--policy", "three",
        ],
    );
    ok(
        &dir,
        &[
            "run", "s.toml", "--quiet", "--shard", "1/2", "--out", "s1-seed", "--seed", "6",
        ],
    );
    ok(&dir, &["run", "s.toml", "--quiet", "--out", "whole"]);
    let err = bad(&dir, &["merge", "s0", "s1-three", "--out", "m"]);
    assert!(
        err.contains("s1-three/run.json: this shard ran the policies three, and the shard in s0 ran three, five: merge joins the shards of one run"),
        "{err}"
    );
    let err = bad(&dir, &["merge", "s0", "s1-seed", "--out", "m"]);
    assert!(
        err.contains("this shard ran seed 6, and the shard in s0 ran 5"),
        "{err}"
    );
    let err = bad(&dir, &["merge", "s0", "whole", "--out", "m"]);
    assert!(
        err.contains(
            "whole/run.json: this folder holds a whole run, not a shard (run.json has no shard)"
        ),
        "{err}"
    );
    let err = bad(&dir, &["merge", "s0", "s1", "--out", "s1"]);
    assert!(
        err.contains("`--out`: the output folder is the shard s1: merge writes a new folder and never replaces its inputs"),
        "{err}"
    );
    // Another scenario file (the same sweep, another seed in the file).
    std::fs::write(
        dir.join("t.toml"),
        format!("{SMALL}{SWEEP}").replace("seed = 5", "seed = 5 # same"),
    )
    .unwrap();
    ok(
        &dir,
        &["run", "t.toml", "--quiet", "--shard", "1/2", "--out", "t1"],
    );
    let err = bad(&dir, &["merge", "s0", "t1", "--out", "m"]);
    assert!(
        err.contains("t1/run.json: this shard ran another scenario: folder (SHA-256"),
        "{err}"
    );
    // A value that is not a number, reported with the shard's file, line and column.
    let timeline = std::fs::read_to_string(dir.join("s1/timeline.csv")).unwrap();
    let line3 = timeline.lines().nth(2).unwrap();
    let broken = line3.replacen(",", ",x", 3);
    tamper(
        &dir.join("s1"),
        "timeline.csv",
        &timeline.replacen(line3, &broken, 1),
    );
    let err = bad(&dir, &["merge", "s0", "s1", "--out", "m"]);
    assert!(err.contains("s1/timeline.csv:3:"), "{err}");
    assert!(
        err.contains("expected a number (or nothing), found \"x"),
        "{err}"
    );
    assert!(!dir.join("m").exists());
}
