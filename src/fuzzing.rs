//! Entry points for fuzzing: each takes arbitrary bytes, reads them as one kind of input the
//! way the command line does, and must return (an error is fine) without panicking, hanging
//! or allocating without bound. The `cargo fuzz` targets in `fuzz/` call these, and
//! `tests/fuzz_corpus.rs` replays the kept corpus through them on stable Rust (see
//! `docs/fuzzing.md`).

use crate::workload::TraceFormat;
use crate::workload::trace::datetime::TimeUnit;
use crate::workload::trace::{self, ReadOptions, detect, inspect};
use std::path::{Path, PathBuf};

/// The folder a scenario is read from: one that does not exist, so trace paths relative to
/// it name no file.
const NOWHERE: &str = "fuzz-input-folder-that-does-not-exist";

/// A scenario file: parsed and validated (replica-count and serverless scenarios).
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new(NOWHERE).join("scenario.toml");
    if crate::serverless::scenario::is_serverless(text) {
        let _ = crate::serverless::scenario::parse(&path, text);
    } else {
        let _ = crate::scenario::parse(&path, text);
    }
}

/// Most records read from one fuzzed trace.
const MAX_RECORDS: usize = 100_000;

/// A scratch file for this process's fuzzed traces.
fn scratch(ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("autoscale-sim-fuzz-{}.{ext}", std::process::id()))
}

/// A trace file: the first byte picks the format (and options), the rest is the file. Its
/// format is detected, it is read record by record, and inspected.
pub fn trace(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let format = match pick % 4 {
        0 => TraceFormat::Counts,
        1 => TraceFormat::Timestamps,
        2 => TraceFormat::Azure,
        _ => TraceFormat::Clf,
    };
    let ext = match pick / 4 % 4 {
        0 => "csv",
        1 => "log",
        2 => "txt",
        _ => "gz",
    };
    let path = scratch(ext);
    // A `.gz` file holds the rest gzip-compressed, so that the readers see it through the
    // decompressor (raw bytes that start as gzip or zstd reach it too).
    let bytes = if ext == "gz" {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if std::io::Write::write_all(&mut e, body).is_err() {
            return;
        }
        match e.finish() {
            Ok(b) => b,
            Err(_) => return,
        }
    } else {
        body.to_vec()
    };
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let _ = detect::detect(&path);
    let time_unit = match pick >> 4 & 3 {
        0 => TimeUnit::S,
        1 => TimeUnit::Ms,
        2 => TimeUnit::Us,
        _ => TimeUnit::Ns,
    };
    let opts = ReadOptions {
        format,
        bin: (pick & 0x40 != 0).then(|| crate::time::SimDuration::from_secs(1)),
        function: (pick & 0x80 != 0).then(|| "f".to_string()),
        time_unit: if matches!(format, TraceFormat::Counts | TraceFormat::Timestamps) {
            time_unit
        } else {
            TimeUnit::S
        },
    };
    if let Ok(mut reader) = trace::open_reader(&path, &opts) {
        for _ in 0..MAX_RECORDS {
            match reader.next_record() {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        let _ = reader.rewind();
        let _ = reader.next_record();
    }
    if let Ok(mut reader) = trace::open_reader(&path, &opts) {
        let _ = inspect::inspect(reader.as_mut(), None, "fuzz", format.name(), "fuzz");
    }
    let _ = std::fs::remove_file(&path);
}

/// A `plan.csv` for live mode, with and without an end given.
#[cfg(feature = "live")]
pub fn plan(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("plan.csv");
    let _ = crate::live::plan::parse(path, text, None);
    let _ = crate::live::plan::parse(path, text, Some(crate::time::SimDuration::from_secs(3600)));
}

/// The results CSVs `report` and `merge` read, and `run.json`: the bytes are read as each of
/// `summary.csv`, `policies.csv`, `timeline.csv` and `latency.csv`, and as a manifest.
pub fn results(data: &[u8]) {
    crate::output::results::parse_any(Path::new("results.csv"), data);
    let _ = serde_json::from_slice::<crate::output::manifest::Manifest>(data);
}
