//! Many functions in one run: the functions of an Azure Functions trace (or the one function
//! of a `[workload]`), each replayed with its own instances and its own policy state.
//!
//! The trace is read one row (one function) at a time, in chunks; each chunk's functions are
//! simulated in parallel for every policy and replication, and their results are folded into
//! the run's totals in trace order. Memory is one chunk of functions and one result row per
//! function, whatever the number of invocations; the results do not depend on the number of
//! threads.
//!
//! Azure format (as `workload.format = "azure"` reads it): a header naming the minute columns
//! (`480`, or `minute_480`; labels may start anywhere), optional `HashOwner`, `HashApp`,
//! `HashFunction` and `Trigger` columns; one row per function; a count per minute (empty = 0).
//! A minute's N invocations are placed uniformly at random in it (a Poisson process
//! conditioned on its count), from the function's own random stream. The durations file
//! (`HashOwner,HashApp,HashFunction,Average,...`, Average in milliseconds) gives each
//! function's mean execution time; a function it lacks keeps `[service] mean`.

use crate::cluster::service::ServiceSpec;
use crate::error::{Error, InputError};
use crate::rng::{self, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::workload::trace::placement::Uniform;
use crate::workload::{self, WorkloadSpec};
use std::collections::HashMap;
use std::path::Path;

/// One function of a run.
#[derive(Clone, Debug)]
pub struct Function {
    /// Position in the trace (0-based), which seeds its random streams.
    pub index: usize,
    /// `HashFunction` (or `function` for a single-function scenario).
    pub id: String,
    pub app: String,
    pub trigger: String,
    /// Its execution-time distribution.
    pub service: ServiceSpec,
    pub arrivals: ArrivalPlan,
}

/// Where a function's arrivals come from.
#[derive(Clone, Debug)]
pub enum ArrivalPlan {
    /// (start of the minute in nanoseconds, invocations in it), in time order.
    Minutes(Vec<(u64, u32)>),
    Workload(WorkloadSpec),
}

/// The random stream `what` of function `index` in replication `replication`.
pub fn stream(seed: u64, replication: u32, index: usize, what: &str) -> SimRng {
    rng::stream(seed, replication, &format!("faas/{index}/{what}"))
}

/// A function's arrival times in nanoseconds, in order, up to `end`.
pub struct Arrivals {
    inner: Inner,
    end: u64,
    /// The first error of a trace read lazily (then the arrivals stop).
    pub error: Option<InputError>,
}

enum Inner {
    Minutes {
        counts: Vec<(u64, u32)>,
        next: usize,
        current: Option<Uniform>,
        rng: SimRng,
    },
    Source {
        source: Box<dyn workload::ArrivalSource>,
        batch: Vec<SimTime>,
        pos: usize,
    },
}

impl Arrivals {
    pub fn open(plan: &ArrivalPlan, rng: SimRng, end: u64) -> Result<Arrivals, InputError> {
        let inner = match plan {
            ArrivalPlan::Minutes(c) => Inner::Minutes {
                counts: c.clone(),
                next: 0,
                current: None,
                rng,
            },
            ArrivalPlan::Workload(spec) => Inner::Source {
                source: workload::open(spec, rng)?,
                batch: Vec::new(),
                pos: 0,
            },
        };
        Ok(Arrivals {
            inner,
            end,
            error: None,
        })
    }
}

const MINUTE_NS: u64 = 60_000_000_000;

impl Iterator for Arrivals {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let t = match &mut self.inner {
            Inner::Minutes {
                counts,
                next,
                current,
                rng,
            } => loop {
                if let Some(u) = current
                    && let Some(t) = u.next(rng)
                {
                    break Some(t);
                }
                let &(start, n) = counts.get(*next)?;
                *next += 1;
                *current = Some(Uniform::new(start, MINUTE_NS, u64::from(n)));
            },
            Inner::Source { source, batch, pos } => {
                if *pos == batch.len() {
                    batch.clear();
                    *pos = 0;
                    match source.fill(batch, 4096) {
                        Ok(0) => return None,
                        Ok(_) => {}
                        Err(e) => {
                            self.error = Some(e);
                            return None;
                        }
                    }
                }
                *pos += 1;
                Some(batch[*pos - 1].0)
            }
        }?;
        (t < self.end).then_some(t)
    }
}

/// Reads the functions of a trace one row at a time.
pub struct AzureRows {
    rdr: csv::Reader<crate::workload::trace::BoundedLines>,
    path: std::path::PathBuf,
    /// (column, minute start in nanoseconds).
    minutes: Vec<(usize, u64)>,
    cols: [Option<usize>; 4],
    width: usize,
    durations: HashMap<String, f64>,
    base: ServiceSpec,
    limit: Option<usize>,
    function: Option<String>,
    index: usize,
    matched: bool,
    rec: csv::StringRecord,
}

const OWNER: usize = 0;
const APP: usize = 1;
const FUNCTION: usize = 2;
const TRIGGER: usize = 3;

fn header_columns(header: &csv::StringRecord) -> [Option<usize>; 4] {
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    [
        find("HashOwner"),
        find("HashApp"),
        find("HashFunction"),
        find("Trigger"),
    ]
}

fn minute_label(name: &str) -> Option<u64> {
    let name = name.trim();
    let digits = match name.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("minute_") => &name[7..],
        _ => name,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return None;
    }
    digits.parse().ok()
}

/// Opens a trace or durations CSV the way every trace is opened: gzip and zstd decompressed,
/// other binary data refused, lines at most 1 MB (see `workload/trace/input.rs`).
fn open_csv(path: &Path) -> Result<csv::Reader<crate::workload::trace::BoundedLines>, InputError> {
    Ok(csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(crate::workload::trace::open_file(path)?))
}

fn row_key(rec: &csv::StringRecord, cols: &[Option<usize>; 4]) -> String {
    [OWNER, APP, FUNCTION]
        .iter()
        .map(|&c| cols[c].and_then(|i| rec.get(i)).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads a durations file: function key -> mean execution time in milliseconds.
fn read_durations(
    path: &Path,
    trace_cols: &[Option<usize>; 4],
) -> Result<HashMap<String, f64>, InputError> {
    let mut rdr = open_csv(path)?;
    let header = rdr
        .headers()
        .map_err(|e| InputError::new(format!("cannot read the header: {e}")).in_file(path))?
        .clone();
    let cols = header_columns(&header);
    let avg = header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("Average"))
        .ok_or_else(|| {
            InputError::new(
                "expected a header with an `Average` column (mean execution time in milliseconds)",
            )
            .in_file(path)
            .at_line(1)
        })?;
    if cols[FUNCTION].is_none() {
        return Err(
            InputError::new("expected a header with a `HashFunction` column")
                .in_file(path)
                .at_line(1),
        );
    }
    // Match on the hash columns both files have.
    let mut used = cols;
    for c in [OWNER, APP, FUNCTION] {
        if trace_cols[c].is_none() {
            used[c] = None;
        }
    }
    let mut out = HashMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n + 2;
        let rec = rec.map_err(|e| {
            InputError::new(format!("malformed CSV row: {e}"))
                .in_file(path)
                .at_line(line)
        })?;
        let cell = rec.get(avg).unwrap_or("");
        let ms: f64 = cell
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                InputError::new(format!(
                    "expected a mean execution time in milliseconds (a number ≥ 0), found {cell}",
                    cell = crate::error::quoted(cell)
                ))
                .in_file(path)
                .at(line, avg + 1)
                .key("Average")
            })?;
        out.insert(row_key(&rec, &used), ms);
    }
    Ok(out)
}

/// `spec` with its mean replaced by `mean` (the shape kept).
fn with_mean(spec: &ServiceSpec, mean: SimDuration) -> ServiceSpec {
    match spec {
        ServiceSpec::Exponential { .. } => ServiceSpec::Exponential { mean },
        ServiceSpec::Deterministic { .. } => ServiceSpec::Deterministic { mean },
        ServiceSpec::Lognormal { cv, .. } => ServiceSpec::Lognormal { mean, cv: *cv },
        ServiceSpec::Gamma { cv, .. } => ServiceSpec::Gamma { mean, cv: *cv },
        ServiceSpec::Uniform { .. } => spec.clone(),
    }
}

impl AzureRows {
    pub fn open(
        trace: &Path,
        durations: Option<&Path>,
        base: ServiceSpec,
        limit: Option<usize>,
        function: Option<String>,
    ) -> Result<AzureRows, InputError> {
        let mut rdr = open_csv(trace)?;
        let header = rdr
            .headers()
            .map_err(|e| InputError::new(format!("cannot read the header: {e}")).in_file(trace))?
            .clone();
        let mut labels: Vec<(u64, usize)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| minute_label(h).map(|m| (m, i)))
            .collect();
        if labels.is_empty() {
            return Err(InputError::new(
                "expected an Azure Functions trace: a header naming the minute columns (480,481,... or minute_1,minute_2,...)",
            )
            .in_file(trace)
            .at_line(1));
        }
        labels.sort_unstable();
        if let Some(w) = labels.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(
                InputError::new(format!("minute {} has two columns", w[0].0))
                    .in_file(trace)
                    .at(1, w[1].1 + 1),
            );
        }
        let first = labels[0].0;
        let minutes = labels
            .iter()
            .map(|&(m, i)| (i, (m - first) * MINUTE_NS))
            .collect();
        let cols = header_columns(&header);
        if function.is_some() && cols[FUNCTION].is_none() {
            return Err(InputError::new(
                "a function is selected (`functions.function`), but the trace has no HashFunction column",
            )
            .in_file(trace)
            .at_line(1));
        }
        let durations = match durations {
            Some(d) => read_durations(d, &cols)?,
            None => HashMap::new(),
        };
        Ok(AzureRows {
            rdr,
            path: trace.to_path_buf(),
            minutes,
            cols,
            width: header.len(),
            durations,
            base,
            limit,
            function,
            index: 0,
            matched: false,
            rec: csv::StringRecord::new(),
        })
    }

    /// The next function, or `None` at the end (or past `limit`).
    pub fn next_function(&mut self) -> Result<Option<Function>, InputError> {
        loop {
            if self.limit.is_some_and(|l| self.index >= l) {
                return Ok(None);
            }
            let more = self.rdr.read_record(&mut self.rec).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line() as usize);
                InputError::new(format!("malformed CSV row: {e}"))
                    .in_file(&self.path)
                    .at_line(line)
            })?;
            if !more {
                if let Some(f) = &self.function
                    && !self.matched
                {
                    return Err(InputError::new(format!(
                        "no row of the trace has HashFunction {f}",
                        f = crate::error::quoted(f)
                    ))
                    .in_file(&self.path)
                    .key("functions.function"));
                }
                return Ok(None);
            }
            let line = self.rec.position().map_or(0, |p| p.line() as usize);
            if self.rec.len() != self.width {
                return Err(InputError::new(format!(
                    "expected {} columns like the header, found {}",
                    self.width,
                    self.rec.len()
                ))
                .in_file(&self.path)
                .at_line(line));
            }
            let cell = |c: usize| {
                self.cols[c]
                    .and_then(|i| self.rec.get(i))
                    .unwrap_or("")
                    .to_string()
            };
            let id = cell(FUNCTION);
            if let Some(f) = &self.function
                && &id != f
            {
                continue;
            }
            self.matched = true;
            let mut counts = Vec::new();
            for &(col, start) in &self.minutes {
                let text = self.rec.get(col).unwrap_or("");
                if text.is_empty() {
                    continue;
                }
                let v: f64 = text
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite() && *v >= 0.0 && *v < 4e9)
                    .ok_or_else(|| {
                        InputError::new(format!(
                            "expected an invocation count (a whole number ≥ 0), found {text}",
                            text = crate::error::quoted(text)
                        ))
                        .in_file(&self.path)
                        .at(line, col + 1)
                    })?;
                let n = v.round() as u32;
                if n > 0 {
                    counts.push((start, n));
                }
            }
            let key = row_key(&self.rec, &self.cols);
            let service = match self.durations.get(&key) {
                Some(&ms) => with_mean(
                    &self.base,
                    SimDuration::from_secs_f64((ms / 1000.0).max(0.001)),
                ),
                None => self.base.clone(),
            };
            let f = Function {
                index: self.index,
                id: if id.is_empty() {
                    format!("row{}", self.index + 1)
                } else {
                    id
                },
                app: cell(APP),
                trigger: cell(TRIGGER),
                service,
                arrivals: ArrivalPlan::Minutes(counts),
            };
            self.index += 1;
            return Ok(Some(f));
        }
    }
}

/// The functions of a scenario, read lazily.
pub enum FunctionReader {
    One(Option<Function>),
    Azure(AzureRows),
}

impl FunctionReader {
    pub fn next_function(&mut self) -> Result<Option<Function>, Error> {
        Ok(match self {
            FunctionReader::One(f) => f.take(),
            FunctionReader::Azure(r) => r.next_function()?,
        })
    }
}
