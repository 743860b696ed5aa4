//! Recorded traces: streaming importers for four formats, and their replay.
//!
//! Guarantees:
//! - **Streaming.** Every format is read through a fixed-size buffer, one row or line at a time;
//!   a reader holds no state per line read, so memory does not grow with the file. (`azure`
//!   sums its rows while opening into one counter per minute column: the width of one row.
//!   `clf` holds a reorder buffer of a fixed number of lines.)
//! - **Relative time.** A trace's first record is trace time 0: the first arrival of a
//!   `timestamps` or `clf` trace, the first bin's start of a `counts` or `azure` trace. Times
//!   are integer nanoseconds throughout.
//! - **Exact counts.** A bin of count N is replayed as exactly N arrivals (before `scale`), and
//!   every arrival of a per-request trace once.
//! - **Located errors.** A malformed row is an [`InputError`] naming the file, the line, and the
//!   column (the CSV field number, 1-based, with its header name if there is one); a missing
//!   file names its absolute path. Access-log lines that do not parse are skipped and counted
//!   instead (see [`clf`]).
//! - **Compressed or not.** gzip and zstd files are decompressed as they are read, told by
//!   their magic bytes; other binary files are refused by what they look like, and no line
//!   may be longer than [`MAX_LINE_BYTES`] (see `input.rs`).
//!
//! Formats: [`counts`], [`timestamps`], [`azure`], [`clf`]. Windowing, rescaling and looping:
//! [`replay`]. Statistics: [`inspect`]. Conversion to counts and writing traces: [`write`](mod@write).

pub mod azure;
pub mod clf;
pub mod counts;
mod csvrows;
pub mod datetime;
pub mod detect;
pub mod estimate;
mod input;
pub mod inspect;
pub mod placement;
pub mod replay;
pub mod timestamps;
pub mod write;

pub use input::MAX_LINE_BYTES;
pub(crate) use input::{BoundedLines, open_file};
pub use replay::Replay;

use super::{ArrivalSource, TraceFormat, TraceSpec};
use crate::error::InputError;
use crate::rng::SimRng;
use crate::time::SimDuration;
use std::path::Path;

/// One record of a trace, in trace time (nanoseconds since the trace's first record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// One arrival.
    Arrival(u64),
    /// The bin `[start, start + width)` with `count` arrivals, or without data (`None`: an
    /// empty count, or time no row covers).
    Bin {
        start: u64,
        width: u64,
        count: Option<u64>,
    },
}

/// Where trace time 0 is on the trace's own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A time in seconds (as nanoseconds).
    Seconds(i64),
    /// A UTC instant, nanoseconds since the Unix epoch.
    DateTime(i64),
    /// An Azure Functions minute label.
    Minute(u64),
}

impl Origin {
    /// The origin as the trace would write it.
    pub fn describe(self) -> String {
        match self {
            Origin::Seconds(ns) => format!("{} s", datetime::format_seconds(ns)),
            Origin::DateTime(ns) => datetime::format_datetime(ns),
            Origin::Minute(m) => format!("minute {m}"),
        }
    }
}

/// Lines of an access log that were not replayed as read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Non-blank lines that are not Common Log Format requests.
    pub lines: u64,
    /// The first such line (1-based).
    pub first_line: Option<u64>,
    /// Lines so far out of order that they were moved to a later time.
    pub clamped: u64,
}

impl Skipped {
    /// What to tell the user about these lines of the trace at `path`.
    pub fn notes(&self, path: &Path) -> Vec<String> {
        let mut notes = Vec::new();
        if self.lines > 0 {
            let what = if self.lines == 1 {
                "1 line was not a Common Log Format request and was skipped".to_string()
            } else {
                format!(
                    "{} lines were not Common Log Format requests and were skipped",
                    self.lines
                )
            };
            notes.push(format!(
                "{}: {what} (the first at line {})",
                path.display(),
                self.first_line.unwrap_or(0)
            ));
        }
        if self.clamped > 0 {
            let what = if self.clamped == 1 {
                "1 line was".to_string()
            } else {
                format!("{} lines were", self.clamped)
            };
            notes.push(format!(
                "{}: {what} more than {} lines out of time order and replayed at the latest time already replayed",
                path.display(),
                clf::REORDER_LINES
            ));
        }
        notes
    }
}

/// A trace format's reader: its records in time order, from trace time 0.
pub trait RecordReader: Send {
    /// The next record, or `None` at the end of the trace.
    fn next_record(&mut self) -> Result<Option<Record>, InputError>;
    /// Goes back to the first record (for looping).
    fn rewind(&mut self) -> Result<(), InputError>;
    /// Where trace time 0 is on the trace's clock.
    fn origin(&self) -> Origin;
    /// The width of the trace's bins in nanoseconds (binned formats), `None` for per-request
    /// traces.
    fn bin_width(&self) -> Option<u64>;
    /// Lines skipped so far (access logs only).
    fn skipped(&self) -> Skipped {
        Skipped::default()
    }
}

/// How to read a trace file.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadOptions {
    pub format: TraceFormat,
    /// Bin width of a `counts` trace (inferred from its first two rows when absent).
    pub bin: Option<SimDuration>,
    /// The Azure function (HashFunction) to read; all rows summed when absent.
    pub function: Option<String>,
    /// The unit of numeric times (`counts` and `timestamps`).
    pub time_unit: datetime::TimeUnit,
}

/// Opens the reader of `path` in `opts.format`.
pub fn open_reader(path: &Path, opts: &ReadOptions) -> Result<Box<dyn RecordReader>, InputError> {
    Ok(match opts.format {
        TraceFormat::Counts => {
            Box::new(counts::CountsReader::open(path, opts.bin, opts.time_unit)?)
        }
        TraceFormat::Timestamps => {
            Box::new(timestamps::TimestampsReader::open(path, opts.time_unit)?)
        }
        TraceFormat::Azure => Box::new(azure::AzureReader::open(path, opts.function.as_deref())?),
        TraceFormat::Clf => Box::new(clf::ClfReader::open(path)?),
    })
}

/// Opens the replay of `spec` for one replication, drawing from `rng` (the replication's
/// `arrivals` stream). The file is opened and its first records read here, so a missing or
/// empty trace is reported before the run starts.
pub fn open(spec: &TraceSpec, rng: SimRng) -> Result<Box<dyn ArrivalSource>, InputError> {
    let path = spec.path.as_path();
    Ok(match spec.format {
        TraceFormat::Counts => Box::new(Replay::new(
            counts::CountsReader::open(path, spec.bin, spec.time_unit)?,
            spec,
            rng,
        )),
        TraceFormat::Timestamps => Box::new(Replay::new(
            timestamps::TimestampsReader::open(path, spec.time_unit)?,
            spec,
            rng,
        )),
        TraceFormat::Azure => Box::new(Replay::new(
            azure::AzureReader::open(path, spec.function.as_deref())?,
            spec,
            rng,
        )),
        TraceFormat::Clf => Box::new(Replay::new(clf::ClfReader::open(path)?, spec, rng)),
    })
}
