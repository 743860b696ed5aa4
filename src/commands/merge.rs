//! `autoscale-sim merge DIR... [--out DIR]`: joins the result folders of the shards of a sweep
//! (`run --shard I/N`) into the files an unsplit run writes (by default in
//! `output/<scenario name>/`, where an unsplit run writes them).
//!
//! Each shard ran a contiguous block of the sweep's points and wrote its rows point-major, so
//! the merged CSVs are the shards' CSVs concatenated in shard order (one header). Then
//! `plan.csv`, the plots and the reports are derived from the merged CSVs, as `run` derives
//! them.

use autoscale_sim::error::{Error, InputError};
use autoscale_sim::experiment;
use autoscale_sim::output::folder::ResultsFolder;
use autoscale_sim::output::manifest::{MANIFEST, Manifest};
use autoscale_sim::output::results::{Results, SCENARIO_COPY};
use autoscale_sim::output::write::{default_out, finish as finish_results};
use autoscale_sim::scenario;
use std::path::{Path, PathBuf};

/// Arguments of `autoscale-sim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' result folders, in any order.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged results [default: output/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The CSV files a shard writes, merged by concatenation.
const CSVS: [&str; 4] = ["summary.csv", "policies.csv", "timeline.csv", "latency.csv"];

fn read(path: &Path) -> Result<String, Error> {
    let bytes =
        autoscale_sim::sniff::read_file(path, autoscale_sim::sniff::RESULTS_CAP).map_err(|e| {
            InputError::new(format!("cannot read {}: {e}", path.display())).in_file(path)
        })?;
    Ok(autoscale_sim::sniff::text(path, bytes, "a results CSV")?)
}

/// A shard's folder, read and checked.
struct Shard<'a> {
    dir: &'a PathBuf,
    manifest: Manifest,
    index: usize,
    count: usize,
}

/// Reads the manifest of a shard's folder: it must be a complete folder written by
/// `run --shard I/N`.
fn shard_of(dir: &PathBuf) -> Result<Shard<'_>, Error> {
    let manifest = Manifest::read(dir)?;
    let Some(s) = manifest.shard else {
        return Err(InputError::new(format!(
            "this folder holds a whole run, not a shard ({MANIFEST} has no shard): merge joins the folders of `run --shard I/N`"
        ))
        .in_file(dir.join(MANIFEST))
        .into());
    };
    Ok(Shard {
        dir,
        index: s.index,
        count: s.count,
        manifest,
    })
}

/// Checks that `s` ran what the first shard ran: the same scenario, seed, policies and
/// replications.
fn same_run(first: &Shard, s: &Shard) -> Result<(), Error> {
    let (a, b) = (&first.manifest, &s.manifest);
    let differs = |what: &str, this: String, that: String| -> Error {
        InputError::new(format!(
            "this shard ran {what} {this}, and the shard in {} ran {that}: merge joins the shards of one run (same scenario file, --seed, --policy and --replications); run this shard again",
            first.dir.display()
        ))
        .in_file(s.dir.join(MANIFEST))
        .into()
    };
    if a.scenario_sha256 != b.scenario_sha256 {
        return Err(differs(
            "another scenario:",
            format!("{} (SHA-256 {:.12})", b.scenario, b.scenario_sha256),
            format!("{} (SHA-256 {:.12})", a.scenario, a.scenario_sha256),
        ));
    }
    if a.seed != b.seed {
        return Err(differs("seed", b.seed.to_string(), a.seed.to_string()));
    }
    if a.policies != b.policies {
        return Err(differs(
            "the policies",
            b.policies.join(", "),
            a.policies.join(", "),
        ));
    }
    if a.replications != b.replications {
        return Err(differs(
            "replications",
            b.replications.to_string(),
            a.replications.to_string(),
        ));
    }
    if a.shard.map(|x| x.count) != b.shard.map(|x| x.count) {
        return Err(differs(
            "as a shard of",
            b.shard.map_or(0, |x| x.count).to_string(),
            a.shard.map_or(0, |x| x.count).to_string(),
        ));
    }
    Ok(())
}

/// The same folder, whatever the path's spelling.
fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Checks that shard `s` holds exactly its block of the sweep's points (every point once).
fn check_points(s: &Shard) -> Result<(), Error> {
    let sc = scenario::load_recorded(&s.dir.join(SCENARIO_COPY))?;
    let total = sc.sweep.as_ref().map_or(1, |sw| sw.points.len());
    let expected = experiment::shard_range(total, s.index, s.count);
    if expected.is_empty() {
        // More shards than points: this one ran nothing, and its CSVs are a header alone.
        for name in CSVS {
            let path = s.dir.join(name);
            let text = read(&path)?;
            if text.lines().count() != 1 || !text.ends_with('\n') {
                return Err(InputError::new(format!(
                    "shard {}/{} of a sweep of {total} points holds no point, so this file must be its header alone: run this shard again",
                    s.index, s.count
                ))
                .in_file(&path)
                .into());
            }
        }
        return Ok(());
    }
    let results = Results::load(s.dir)?;
    for (name, points) in [
        (
            "summary.csv",
            results.summary.iter().map(|r| r.point).collect::<Vec<_>>(),
        ),
        (
            "policies.csv",
            results.policies.iter().map(|r| r.point).collect(),
        ),
    ] {
        let mut seen: Vec<usize> = points;
        seen.sort_unstable();
        seen.dedup();
        if seen != expected.clone().collect::<Vec<_>>() {
            let shown = |v: &[usize]| -> String {
                if v.is_empty() {
                    "none".into()
                } else {
                    format!("{} to {}", v[0], v[v.len() - 1])
                }
            };
            return Err(InputError::new(format!(
                "shard {}/{} of a sweep of {total} points must hold points {} (counting from 0), and this file holds points {}: run this shard again",
                s.index,
                s.count,
                shown(&expected.clone().collect::<Vec<_>>()),
                shown(&seen)
            ))
            .in_file(s.dir.join(name))
            .into());
        }
    }
    Ok(())
}

pub fn run(args: &MergeArgs) -> Result<i32, Error> {
    let mut shards: Vec<Shard> = Vec::new();
    for d in &args.dirs {
        shards.push(shard_of(d)?);
    }
    for s in &shards[1..] {
        same_run(&shards[0], s)?;
    }
    let n = shards[0].count;
    shards.sort_by_key(|s| s.index);
    if let Some(w) = shards.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(InputError::new(format!(
            "shard {}/{n} is given twice ({} and {}): merge takes every shard of the sweep once",
            w[0].index,
            w[0].dir.display(),
            w[1].dir.display()
        ))
        .key("DIR")
        .into());
    }
    let missing: Vec<String> = (0..n)
        .filter(|k| !shards.iter().any(|s| s.index == *k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(InputError::new(format!(
            "shard {} missing: merge takes every shard of the sweep once",
            if missing.len() == 1 {
                format!("{} is", missing[0])
            } else {
                format!("{} are", missing.join(", "))
            }
        ))
        .key("DIR")
        .into());
    }
    let scenario = read(&shards[0].dir.join(SCENARIO_COPY))?;
    for s in &shards[1..] {
        let p = s.dir.join(SCENARIO_COPY);
        if read(&p)? != scenario {
            return Err(
                InputError::new("this shard's scenario.toml differs from shard 0's")
                    .in_file(p)
                    .into(),
            );
        }
    }
    for s in &shards {
        check_points(s)?;
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => {
            let name = scenario::load_recorded(&shards[0].dir.join(SCENARIO_COPY))?.name;
            default_out(&name, None)
        }
    };
    if let Some(s) = shards.iter().find(|s| same_folder(s.dir, &out)) {
        return Err(InputError::new(format!(
            "the output folder is the shard {}: merge writes a new folder and never replaces its inputs; give --out another folder",
            s.dir.display()
        ))
        .key("--out")
        .into());
    }
    let mut folder = ResultsFolder::create(&out)?;
    for name in CSVS {
        let mut merged = String::new();
        let mut header: Option<String> = None;
        for s in &shards {
            let path = s.dir.join(name);
            let text = read(&path)?;
            let (head, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
            match &header {
                None => {
                    merged.push_str(head);
                    merged.push('\n');
                    header = Some(head.to_string());
                }
                Some(h) if h != head => {
                    return Err(InputError::new(format!(
                        "expected the header of shard 0's {name}"
                    ))
                    .in_file(&path)
                    .at_line(1)
                    .into());
                }
                Some(_) => {}
            }
            merged.push_str(body);
        }
        folder.write(name, merged.as_bytes())?;
    }
    folder.write(SCENARIO_COPY, scenario.as_bytes())?;
    finish_results(&mut folder)?;
    let mut manifest = shards[0].manifest.clone();
    manifest.command = "merge".into();
    manifest.version = env!("CARGO_PKG_VERSION").into();
    manifest.shard = None;
    folder.commit(manifest)?;
    outln!("merged {n} shards into {}", out.display());
    Ok(0)
}
