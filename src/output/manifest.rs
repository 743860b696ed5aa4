//! `run.json`, the manifest of a results folder: what wrote it (tool, version, command), what
//! was run (the scenario's name and SHA-256, seed, policies, replications, shard) and every
//! file with its size. It is written last, so a folder without it is incomplete;
//! `report` and `merge` read it first and refuse a folder without it, or whose files no longer
//! have the sizes it lists.

use crate::error::{Error, InputError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The manifest's file name.
pub const MANIFEST: &str = "run.json";

/// One shard of a sweep: `index` of `count`, from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// A file of the folder, by its path relative to the folder (`/`-separated), and its size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
}

/// The contents of `run.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `autoscale-sim`.
    pub tool: String,
    /// The version of the tool that wrote the folder.
    pub version: String,
    /// The command that wrote it: `run`, `merge` or `report`.
    pub command: String,
    /// The scenario's `name`.
    pub scenario: String,
    /// The SHA-256 of the scenario file's text, in hexadecimal.
    pub scenario_sha256: String,
    /// The seed run (after `--seed`).
    pub seed: u64,
    /// The policies run, in scenario order (after `--policy`).
    pub policies: Vec<String>,
    /// Replications per policy and point (after `--replications`).
    pub replications: u32,
    /// The shard of the sweep, for `run --shard I/N`; absent for a whole run.
    pub shard: Option<Shard>,
    /// Every file of the folder but `run.json`, in the order written.
    pub files: Vec<FileEntry>,
}

/// The SHA-256 of `bytes` in lowercase hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a file of a results folder is drawn from its CSVs (and so written again by
/// `report`): the plan, the plots and the reports.
pub fn is_derived(path: &str) -> bool {
    path == "plan.csv" || path.starts_with("plots/") || path == "report.html" || path == "report.md"
}

impl Manifest {
    /// A manifest for `command` of scenario `name` with text `text`; the files are added by
    /// the folder writer.
    pub fn new(
        command: &str,
        name: &str,
        text: &str,
        seed: u64,
        policies: Vec<String>,
        replications: u32,
        shard: Option<(usize, usize)>,
    ) -> Manifest {
        Manifest {
            tool: "autoscale-sim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            command: command.into(),
            scenario: name.into(),
            scenario_sha256: sha256_hex(text.as_bytes()),
            seed,
            policies,
            replications,
            shard: shard.map(|(index, count)| Shard { index, count }),
            files: Vec::new(),
        }
    }

    /// The manifest as written: pretty JSON and a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    }

    /// Reads the manifest of results folder `dir` and checks that every data file it lists
    /// (all but the [derived](is_derived) ones) is there with its size: a folder without one (interrupted, or written by an older
    /// version) or whose files changed is bad input that says how to write it again.
    pub fn read(dir: &Path) -> Result<Manifest, Error> {
        let path = dir.join(MANIFEST);
        let again = "write the folder again with `autoscale-sim run SCENARIO.toml --out DIR` (or `merge` for a sweep's shards)";
        let text = match crate::sniff::read_file(&path, crate::sniff::TEXT_CAP) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(InputError::new(format!(
                    "this folder has no {MANIFEST}, so it is not a complete results folder (a run was interrupted while writing it, or an older autoscale-sim wrote it): {again}"
                ))
                .in_file(dir)
                .into());
            }
            Err(e) => {
                return Err(
                    InputError::new(format!("cannot read {}: {e}", path.display()))
                        .in_file(&path)
                        .into(),
                );
            }
        };
        if let Some(looks) = crate::sniff::sniff(&text).describe() {
            return Err(InputError::new(format!(
                "this file looks like {looks}, not the manifest autoscale-sim writes: {again}"
            ))
            .in_file(&path)
            .into());
        }
        let m: Manifest = serde_json::from_slice(&text).map_err(|e| {
            InputError::new(format!(
                "expected the manifest autoscale-sim writes: {e}; {again}"
            ))
            .in_file(&path)
            .at(e.line(), e.column())
        })?;
        // The files drawn from the CSVs are not needed: `report` draws them again.
        for f in m.files.iter().filter(|f| !is_derived(&f.path)) {
            // A file of the folder: never an absolute path or one that leaves the folder.
            let inside = Path::new(&f.path)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !inside || f.path.is_empty() {
                return Err(InputError::new(format!(
                    "{MANIFEST} lists the file {}, which is not inside the folder: {again}",
                    crate::error::quoted(&f.path)
                ))
                .in_file(&path)
                .into());
            }
            let p = dir.join(&f.path);
            let size = std::fs::metadata(&p).map(|m| m.len()).ok();
            if size != Some(f.bytes) {
                let found = match size {
                    Some(n) => format!("it has {n} bytes"),
                    None => "it is missing".to_string(),
                };
                return Err(InputError::new(format!(
                    "{MANIFEST} lists {} with {} bytes, but {found}: the folder was changed or cut short after it was written; {again}",
                    crate::error::quoted(&f.path),
                    f.bytes
                ))
                .in_file(&path)
                .into());
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_fips_180_example() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
