//! Writing the results folder of an experiment: the CSVs, the scenario's copy, the derived
//! files (the winner's `plan.csv`, plots, reports) and the manifest, whole or not at all.
//! `run`, `merge` and `report` all end in [`finish`], so a merged sweep gives the same files
//! as an unsplit one.

use super::folder::ResultsFolder;
use super::manifest::Manifest;
use super::results::{Results, SCENARIO_COPY};
use super::{csv as out_csv, report};
use crate::error::Error;
use crate::experiment::Experiment;
use std::path::{Path, PathBuf};

/// The results folder when `--out` is not given: `output/<name>/`, and for one shard of a
/// sweep its own folder inside it, `output/<name>/shard-I-of-N/`, so that shards run side by
/// side never write over each other and `merge` (which writes `output/<name>/` by default)
/// finds them next to where it writes.
pub fn default_out(name: &str, shard: Option<(usize, usize)>) -> PathBuf {
    let dir = Path::new("output").join(name);
    match shard {
        Some((i, n)) => dir.join(format!("shard-{i}-of-{n}")),
        None => dir,
    }
}

/// Writes the results folder of an experiment, whole or not at all (see
/// [`super::folder`]): the CSVs, the scenario's copy, the derived files, then `run.json`.
pub fn write_results(exp: &Experiment, out: &Path) -> Result<(), Error> {
    let mut folder = ResultsFolder::create(out)?;
    folder.write("summary.csv", &out_csv::summary_csv(exp))?;
    folder.write("policies.csv", &out_csv::policies_csv(exp))?;
    folder.write("timeline.csv", &out_csv::timeline_csv(exp))?;
    folder.write("latency.csv", &out_csv::latency_csv(exp))?;
    let sc = &exp.scenario;
    let origin = Origin {
        name: &sc.name,
        path: &sc.path,
        text: &sc.text,
        seed: sc.seed,
        replications: sc.replications,
        policies: sc.policies.iter().map(|p| p.name.clone()).collect(),
        shard: exp.shard,
    };
    origin.write_copy(&mut folder)?;
    if let Some((i, n)) = exp.shard {
        folder.write(SHARD_FILE, format!("{i}/{n}\n").as_bytes())?;
    }
    // A shard with no point (more shards than points) has header-only CSVs and nothing to draw.
    if !exp.points.is_empty() {
        finish(&mut folder)?;
    }
    origin.commit(folder)
}

/// Where the results of a run come from: what its folder's scenario copy and manifest say.
pub struct Origin<'a> {
    pub name: &'a str,
    pub path: &'a Path,
    pub text: &'a str,
    pub seed: u64,
    pub replications: u32,
    pub policies: Vec<String>,
    pub shard: Option<(usize, usize)>,
}

impl Origin<'_> {
    /// Writes the copy of the scenario ([`SCENARIO_COPY`]) into `folder`.
    pub fn write_copy(&self, folder: &mut ResultsFolder) -> Result<(), Error> {
        let copy = scenario_copy(self.path, self.text, self.seed, self.replications);
        folder.write(SCENARIO_COPY, copy.as_bytes())
    }

    /// Writes the manifest last and puts the folder in place (see [`ResultsFolder::commit`]).
    pub fn commit(self, folder: ResultsFolder) -> Result<(), Error> {
        folder.commit(Manifest::new(
            "run",
            self.name,
            self.text,
            self.seed,
            self.policies,
            self.replications,
            self.shard,
        ))?;
        Ok(())
    }
}

/// The copy of a scenario written next to its results: a comment saying where it came from,
/// then its text.
pub fn scenario_copy(path: &Path, text: &str, seed: u64, replications: u32) -> String {
    format!(
        "# The scenario of these results, copied from {} by autoscale-sim {} (seed {seed}, {replications} replications).\n{text}",
        path.display(),
        env!("CARGO_PKG_VERSION"),
    )
}

/// The file that marks a folder as one shard of a sweep: `I/N` (`run.json` says it too).
pub const SHARD_FILE: &str = "shard.txt";

/// Writes what is derived from the CSVs of a results folder being written: the winner's
/// `plan.csv`, the plots and the reports. `run`, `merge` and `report` all end here, so a
/// merged sweep gives the same files as an unsplit one.
pub fn finish(folder: &mut ResultsFolder) -> Result<(), Error> {
    let results = Results::load(folder.path())?;
    if let Some(plan) = results.winner_plan() {
        folder.write("plan.csv", &out_csv::plan_csv(&plan))?;
    }
    report::write(&results, folder)
}
