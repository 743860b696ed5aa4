//! The `counts` format: CSV rows of (bin start time, arrival count).
//!
//! - Times are numbers (seconds, or the trace's `time_unit`) or date-times (see
//!   [`super::datetime`]), all rows of one kind, strictly
//!   increasing; the first row's time is trace time 0. A first row whose time field is not a
//!   time is a header.
//! - The bin width is given (`bin`), or else the difference of the first two rows' times.
//!   Each row covers `[time, time + bin)`; a row that starts before the previous one ends is an
//!   error. Time not covered by any row (missing rows) is a gap without data, as is a row with
//!   an empty count.
//! - Counts are non-negative numbers; `42.0` is 42 and a fractional count is rounded to the
//!   nearest integer (halves away from zero).
//!
//! Memory: the reader holds one row and at most one pending record.

use super::csvrows::CsvRows;
use super::datetime::{TimeKind, TimeUnit, expected_time, read_time};
use super::{Origin, Record, RecordReader};
use crate::error::InputError;
use crate::time::SimDuration;
use std::path::Path;

/// Largest count accepted in one cell (2^53, the largest integer an f64 holds exactly).
const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

/// Largest total of a binned trace's counts (2^53): every sum of its counts, however the
/// arrivals are later binned, scaled or inspected, then fits a u64 and an f64 exactly.
pub(crate) const MAX_TOTAL: u64 = 1 << 53;

/// Adds `count` to the running `total` of a trace, or says why it cannot (the caller locates
/// the error at the row).
pub(crate) fn add_to_total(total: &mut u64, count: u64) -> Result<(), String> {
    match total.checked_add(count) {
        Some(t) if t <= MAX_TOTAL => {
            *total = t;
            Ok(())
        }
        _ => Err(format!(
            "the counts up to this row add up to more than 2^53 = {MAX_TOTAL} arrivals, the most a trace may hold"
        )),
    }
}

/// What a count cell may hold, for error messages.
pub(crate) const COUNT_EXPECTED: &str =
    "a count: a number that is not negative (42, 42.0), or an empty cell for a gap without data";

/// Reads a count cell: `None` for an empty cell (a gap), the rounded count otherwise.
pub(crate) fn parse_count(cell: &[u8]) -> Result<Option<u64>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    // Plain digits: the common case, without a float.
    if cell.len() <= 15 && cell.iter().all(u8::is_ascii_digit) {
        return Ok(Some(
            cell.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')),
        ));
    }
    let text = String::from_utf8_lossy(cell);
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v < 0.0 => Err(format!(
            "expected a count that is not negative, found {text}"
        )),
        Ok(v) if v.is_finite() && v <= MAX_COUNT => Ok(Some(v.round() as u64)),
        Ok(_) => Err(format!(
            "expected {COUNT_EXPECTED}, found {text} (too large or not finite)",
            text = crate::error::quoted(&text)
        )),
        Err(_) => Err(format!(
            "expected {COUNT_EXPECTED}, found {text}",
            text = crate::error::quoted(&text)
        )),
    }
}

/// One data row, parsed.
#[derive(Clone, Copy, Debug)]
struct Row {
    /// Time on the trace's clock, in nanoseconds.
    time: i64,
    count: Option<u64>,
    line: usize,
}

pub struct CountsReader {
    rows: CsvRows,
    kind: Option<TimeKind>,
    /// The unit of numeric times.
    unit: TimeUnit,
    given_bin: Option<SimDuration>,
    /// Bin width in nanoseconds.
    width: u64,
    /// Time of the first row (trace time 0).
    t0: i64,
    /// Rows read ahead while opening (the first two, when the width is inferred).
    ahead: [Option<Row>; 2],
    /// The bin to return after the gap just returned.
    pending: Option<Record>,
    /// End of the last bin returned, in trace time.
    prev_end: Option<u64>,
    prev_line: usize,
    /// The counts read so far in this pass (at most [`MAX_TOTAL`]).
    total: u64,
}

impl CountsReader {
    pub fn open(
        path: &Path,
        bin: Option<SimDuration>,
        unit: TimeUnit,
    ) -> Result<CountsReader, InputError> {
        let mut r = CountsReader {
            rows: CsvRows::open(path)?,
            kind: None,
            unit,
            given_bin: bin,
            width: 0,
            t0: 0,
            ahead: [None, None],
            pending: None,
            prev_end: None,
            prev_line: 0,
            total: 0,
        };
        r.start()?;
        Ok(r)
    }

    /// Reads the first rows: the origin, and the bin width if it is inferred.
    fn start(&mut self) -> Result<(), InputError> {
        let first = self.read_row()?.ok_or_else(|| {
            InputError::new("the trace is empty: expected rows of (time, count), such as \"0,42\"")
                .in_file(self.rows.path())
        })?;
        self.t0 = first.time;
        self.ahead[0] = Some(first);
        self.width = match self.given_bin {
            Some(b) => b.0,
            None => {
                let second = self.read_row()?.ok_or_else(|| {
                    InputError::new(
                        "cannot infer the bin width from a trace of one row: give the width (`bin` in the scenario, `--input-bin` on the command line)",
                    )
                    .in_file(self.rows.path())
                    .at_line(first.line)
                })?;
                if second.time <= first.time {
                    return Err(self.rows.error_at(
                        0,
                        "expected the second row's time to be later than the first's (the bin width is their difference)",
                    ));
                }
                self.ahead[1] = Some(second);
                (second.time - first.time) as u64
            }
        };
        Ok(())
    }

    /// The next data row (the header, if any, is skipped).
    fn read_row(&mut self) -> Result<Option<Row>, InputError> {
        loop {
            if !self.rows.next()? {
                return Ok(None);
            }
            let time_cell = self.rows.field(0);
            let parsed =
                read_time(time_cell, self.kind, self.unit).map_err(|m| self.rows.error_at(0, m))?;
            if parsed.is_none() && self.rows.is_first() {
                self.rows.take_header();
                continue;
            }
            if self.rows.len() != 2 {
                return Err(self.rows.error_row(format!(
                    "expected 2 columns (time, count), found {}",
                    self.rows.len()
                )));
            }
            let Some((time, kind)) = parsed else {
                return Err(self.rows.error_at(
                    0,
                    format!(
                        "expected {}, found {}",
                        expected_time(self.kind),
                        self.rows.shown(0)
                    ),
                ));
            };
            self.kind = Some(kind);
            let count = parse_count(self.rows.field(1)).map_err(|m| self.rows.error_at(1, m))?;
            if let Some(c) = count {
                add_to_total(&mut self.total, c).map_err(|m| self.rows.error_at(1, m))?;
            }
            return Ok(Some(Row {
                time,
                count,
                line: self.rows.line(),
            }));
        }
    }

    /// Turns a row into its bin, checking order; a hole before it becomes a gap record.
    fn bin_of(&mut self, row: Row) -> Result<Record, InputError> {
        if row.time < self.t0 {
            return Err(self.rows.error_at_line(
                row.line,
                0,
                "out of order: this row's time is earlier than the first row's (rows must be in increasing time)",
            ));
        }
        let start = (row.time - self.t0) as u64;
        let bin = Record::Bin {
            start,
            width: self.width,
            count: row.count,
        };
        let out = match self.prev_end {
            Some(end) if start < end => return Err(self.order_error(row, end)),
            Some(end) if start > end => {
                self.pending = Some(bin);
                Record::Bin {
                    start: end,
                    width: start - end,
                    count: None,
                }
            }
            _ => bin,
        };
        self.prev_end = Some(start.saturating_add(self.width));
        self.prev_line = row.line;
        Ok(out)
    }

    fn order_error(&self, row: Row, end: u64) -> InputError {
        self.rows.error_at_line(row.line, 0, format!(
            "out of order: this bin starts at {} s (from the first row), before the bin of line {} ends at {} s (bins are {} s wide)",
            (row.time - self.t0) as f64 / 1e9,
            self.prev_line,
            end as f64 / 1e9,
            self.width as f64 / 1e9
        ))
    }
}

impl RecordReader for CountsReader {
    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        if let Some(r) = self.pending.take() {
            return Ok(Some(r));
        }
        let row = match self.ahead[0].take() {
            Some(r) => {
                self.ahead.swap(0, 1);
                r
            }
            None => match self.read_row()? {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        self.bin_of(row).map(Some)
    }

    fn rewind(&mut self) -> Result<(), InputError> {
        self.rows.rewind()?;
        self.kind = None;
        self.ahead = [None, None];
        self.pending = None;
        self.prev_end = None;
        self.total = 0;
        self.start()
    }

    fn origin(&self) -> Origin {
        match self.kind {
            Some(TimeKind::DateTime) => Origin::DateTime(self.t0),
            _ => Origin::Seconds(self.t0),
        }
    }

    fn bin_width(&self) -> Option<u64> {
        Some(self.width)
    }
}
