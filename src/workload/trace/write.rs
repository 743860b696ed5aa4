//! Writing traces: any trace converted to per-bin counts, and a synthetic workload written as
//! counts or timestamps. Both stream: memory does not grow with the trace.
//!
//! Output is CSV with a header: `time_s,count` (the `counts` format) or `time_s` (the
//! `timestamps` format), times in seconds from time 0 written exactly (to the nanosecond,
//! without trailing zeros), so that reading the file back gives the same nanoseconds.
//!
//! Conversion keeps every arrival: the counts written add up to the trace's arrivals exactly.
//! Output bins start at trace time 0. An arrival falls in the bin holding its time; a bin of
//! the input that overlaps several output bins is shared out by rounding its cumulative count
//! at each output boundary (`round(N × elapsed / width)`), which is deterministic and keeps
//! the total. An output bin that no input data covers (gaps of a binned trace) gets an empty
//! count, which reads back as a gap; between arrivals of a per-request trace, bins are 0.

use super::datetime::push_seconds;
use super::{Record, RecordReader};
use crate::error::Error;
use crate::rng;
use crate::time::{SimDuration, SimTime};
use crate::workload::{self, WorkloadSpec};
use std::io::Write;

/// What a conversion wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Arrivals in the output.
    pub arrivals: u64,
    /// Data rows written.
    pub rows: u64,
    /// Rows with an empty count (no data).
    pub gap_rows: u64,
}

/// Output rows of `time_s,count`, written as they close.
struct CountsOut<'a> {
    out: &'a mut dyn Write,
    bin: u64,
    line: String,
    written: Written,
    /// The open output bin, its arrivals, and whether any input data covers it.
    cur: u64,
    count: u64,
    data: bool,
    /// The most rows it may write (`trace convert`'s limit).
    max_rows: u64,
}

impl<'a> CountsOut<'a> {
    fn new(out: &'a mut dyn Write, bin: u64, max_rows: u64) -> Result<CountsOut<'a>, Error> {
        out.write_all(b"time_s,count\n").map_err(io_error)?;
        Ok(CountsOut {
            out,
            bin,
            line: String::with_capacity(64),
            written: Written {
                arrivals: 0,
                rows: 0,
                gap_rows: 0,
            },
            cur: 0,
            count: 0,
            data: false,
            max_rows,
        })
    }

    fn row(&mut self, index: u64, count: Option<u64>) -> Result<(), Error> {
        self.line.clear();
        push_seconds(&mut self.line, (index as i128 * self.bin as i128) as i64);
        self.line.push(',');
        match count {
            Some(c) => {
                use std::fmt::Write as _;
                let _ = write!(self.line, "{c}");
                self.written.arrivals += c;
            }
            None => self.written.gap_rows += 1,
        }
        self.line.push('\n');
        self.written.rows += 1;
        self.out.write_all(self.line.as_bytes()).map_err(io_error)
    }

    /// Closes the open bin and opens bin `idx`; bins in between get `between`.
    fn advance_to(&mut self, idx: u64, between: Option<u64>) -> Result<(), Error> {
        if idx >= self.max_rows {
            // Refused before the rows are written: bin `idx` is row `idx + 1`.
            return Err(crate::error::InputError::new(format!(
                "the output would have more than {} rows (bins of {} s up to {} s);                  if that is intended, widen --bin or run with --allow-large (see docs/limits.md)",
                self.max_rows,
                self.bin as f64 / 1e9,
                crate::error::num(idx as f64 * self.bin as f64 / 1e9)
            ))
            .key("--bin")
            .into());
        }
        if self.cur < idx {
            let c = self.data.then_some(self.count);
            self.row(self.cur, c)?;
            for j in self.cur + 1..idx {
                self.row(j, between)?;
            }
            self.cur = idx;
            self.count = 0;
            self.data = false;
        }
        Ok(())
    }

    fn finish(mut self, last: u64) -> Result<Written, Error> {
        self.advance_to(last, Some(0))?;
        let c = self.data.then_some(self.count);
        self.row(self.cur, c)?;
        self.out.flush().map_err(io_error)?;
        Ok(self.written)
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::io("cannot write the output", e)
}

/// Converts every record of `reader` to counts per bin of `bin` nanoseconds, written to `out`.
/// At most `max_rows` rows are written: a conversion that needs more is an input error
/// before they are written.
pub fn to_counts(
    reader: &mut dyn RecordReader,
    bin: u64,
    out: &mut dyn Write,
    max_rows: u64,
) -> Result<Written, Error> {
    let bin = bin.max(1);
    let mut w = CountsOut::new(out, bin, max_rows)?;
    let mut last_arrival: Option<u64> = None;
    let mut end = 0u64;
    while let Some(rec) = reader.next_record()? {
        match rec {
            Record::Arrival(t) => {
                w.advance_to(t / bin, Some(0))?;
                w.count += 1;
                w.data = true;
                last_arrival = Some(t);
            }
            Record::Bin {
                start,
                width,
                count,
            } => {
                end = start.saturating_add(width);
                let Some(n) = count else {
                    w.advance_to(start / bin, None)?;
                    continue;
                };
                // Cumulative arrivals of this bin up to time x, rounded to nearest.
                let cum = |x: u64| -> u64 {
                    let num = 2 * n as u128 * (x - start) as u128 + width as u128;
                    (num / (2 * width as u128)) as u64
                };
                let mut from = start;
                while from < end {
                    let idx = from / bin;
                    w.advance_to(idx, None)?;
                    let to = end.min((idx + 1) * bin);
                    w.count += cum(to) - cum(from);
                    w.data = true;
                    from = to;
                }
            }
        }
    }
    let last = match last_arrival {
        Some(t) => t / bin,
        None => end.div_ceil(bin).max(1) - 1,
    };
    w.finish(last)
}

/// How `trace generate` writes a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenerateAs {
    /// `time_s,count` per bin.
    Counts,
    /// `time_s`, one arrival per row.
    Timestamps,
}

/// Writes the arrivals of `workload` in `[0, duration)`, drawn as replication 0 of a run seeded
/// `seed` draws them (the replication's `arrivals` stream), as counts per `bin` (every bin of
/// the duration, the last possibly shorter) or as timestamps. Returns the number of arrivals.
pub fn generate(
    workload: &WorkloadSpec,
    seed: u64,
    duration: SimDuration,
    kind: GenerateAs,
    bin: SimDuration,
    out: &mut dyn Write,
) -> Result<u64, Error> {
    let mut source = workload::open(workload, rng::stream(seed, 0, rng::ARRIVALS))?;
    let end = SimTime(duration.0);
    let bin = bin.0.max(1);
    let mut batch = Vec::with_capacity(4096);
    let mut line = String::with_capacity(64);
    let mut total = 0u64;
    // Counts: the open bin and its arrivals.
    let mut cur = 0u64;
    let mut count = 0u64;
    let header: &[u8] = match kind {
        GenerateAs::Counts => b"time_s,count\n",
        GenerateAs::Timestamps => b"time_s\n",
    };
    out.write_all(header).map_err(io_error)?;
    let write_bin = |idx: u64, c: u64, out: &mut dyn Write| -> Result<(), Error> {
        let mut l = String::with_capacity(32);
        push_seconds(&mut l, (idx as i128 * bin as i128) as i64);
        l.push(',');
        l.push_str(&c.to_string());
        l.push('\n');
        out.write_all(l.as_bytes()).map_err(io_error)
    };
    'outer: loop {
        batch.clear();
        if source.fill(&mut batch, 4096)? == 0 {
            break;
        }
        for &t in &batch {
            if t >= end {
                break 'outer;
            }
            total += 1;
            match kind {
                GenerateAs::Timestamps => {
                    line.clear();
                    push_seconds(&mut line, t.0 as i64);
                    line.push('\n');
                    out.write_all(line.as_bytes()).map_err(io_error)?;
                }
                GenerateAs::Counts => {
                    let idx = t.0 / bin;
                    while cur < idx {
                        write_bin(cur, count, out)?;
                        cur += 1;
                        count = 0;
                    }
                    count += 1;
                }
            }
        }
    }
    if kind == GenerateAs::Counts {
        let bins = end.0.div_ceil(bin).max(1);
        while cur < bins {
            write_bin(cur, count, out)?;
            cur += 1;
            count = 0;
        }
    }
    out.flush().map_err(io_error)?;
    Ok(total)
}
