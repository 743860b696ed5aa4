//! `autoscale-sim merge DIR... [--out DIR]`: joins the result folders of the shards of a sweep
//! (`run --shard I/N`) into the files an unsplit run writes (by default in
//! `output/<scenario name>/`, where an unsplit run writes them).
//!
//! Each shard ran a contiguous block of the sweep's points and wrote its rows point-major, so
//! the merged CSVs are the shards' CSVs concatenated in shard order (one header). Then
//! `plan.csv`, the plots and the reports are derived from the merged CSVs, as `run` derives
//! them.

use super::run::{SHARD_FILE, default_out, finish_results};
use crate::error::{Error, InputError};
use crate::output::{self, results::SCENARIO_COPY};
use crate::scenario;
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
    std::fs::read_to_string(path).map_err(|e| {
        InputError::new(format!("cannot read {}: {e}", path.display()))
            .in_file(path)
            .into()
    })
}

fn shard_of(dir: &Path) -> Result<(usize, usize), Error> {
    let path = dir.join(SHARD_FILE);
    let text = read(&path)?;
    let bad = || {
        InputError::new(format!("expected I/N, found \"{}\"", text.trim()))
            .in_file(&path)
            .at_line(1)
    };
    let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
    let i: usize = i.parse().map_err(|_| bad())?;
    let n: usize = n.parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad().into());
    }
    Ok((i, n))
}

pub fn run(args: &MergeArgs) -> Result<i32, Error> {
    let mut shards: Vec<(usize, usize, &PathBuf)> = Vec::new();
    for d in &args.dirs {
        let (i, n) = shard_of(d)?;
        shards.push((i, n, d));
    }
    let n = shards[0].1;
    if let Some(s) = shards.iter().find(|s| s.1 != n) {
        return Err(InputError::new(format!(
            "this folder is a shard of {}, the first of {n}",
            s.1
        ))
        .in_file(s.2.join(SHARD_FILE))
        .into());
    }
    shards.sort_by_key(|s| s.0);
    if let Some(w) = shards.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(InputError::new(format!(
            "shard {}/{n} is given twice ({} and {}): merge takes every shard of the sweep once",
            w[0].0,
            w[0].2.display(),
            w[1].2.display()
        ))
        .key("DIR")
        .into());
    }
    let missing: Vec<String> = (0..n)
        .filter(|k| !shards.iter().any(|s| s.0 == *k))
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
    let scenario = read(&shards[0].2.join(SCENARIO_COPY))?;
    for s in &shards[1..] {
        let p = s.2.join(SCENARIO_COPY);
        if read(&p)? != scenario {
            return Err(
                InputError::new("this shard ran another scenario than shard 0")
                    .in_file(p)
                    .into(),
            );
        }
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => {
            let name = scenario::load_recorded(&shards[0].2.join(SCENARIO_COPY))?.name;
            default_out(&name, None)
        }
    };
    std::fs::create_dir_all(&out)
        .map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    for name in CSVS {
        let mut merged = String::new();
        let mut header: Option<String> = None;
        for s in &shards {
            let path = s.2.join(name);
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
        output::write_atomic(&out.join(name), merged.as_bytes())?;
    }
    output::write_atomic(&out.join(SCENARIO_COPY), scenario.as_bytes())?;
    finish_results(&out)?;
    outln!("merged {n} shards into {}", out.display());
    Ok(0)
}
