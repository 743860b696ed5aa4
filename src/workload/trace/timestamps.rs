//! The `timestamps` format: one arrival per row, its time in the first column.
//!
//! Times are numbers (seconds, or the trace's `time_unit`) or date-times (see
//! [`super::datetime`]), all rows of one kind, in
//! non-decreasing order (an earlier time than the row before is an error naming the line);
//! further columns are ignored, and a first row whose first field is not a time is a header.
//! The first arrival is trace time 0.
//!
//! Memory: one row.

use super::csvrows::CsvRows;
use super::datetime::{TimeKind, TimeUnit, expected_time, format_seconds, read_time};
use super::{Origin, Record, RecordReader};
use crate::error::InputError;
use std::path::Path;

pub struct TimestampsReader {
    rows: CsvRows,
    kind: Option<TimeKind>,
    /// The unit of numeric times.
    unit: TimeUnit,
    /// Time of the first arrival (trace time 0), on the trace's clock in nanoseconds.
    t0: i64,
    /// Time of the previous arrival.
    last: i64,
    /// The first arrival, read while opening and not yet returned.
    first_pending: bool,
}

impl TimestampsReader {
    pub fn open(path: &Path, unit: TimeUnit) -> Result<TimestampsReader, InputError> {
        let mut r = TimestampsReader {
            rows: CsvRows::open(path)?,
            kind: None,
            unit,
            t0: 0,
            last: 0,
            first_pending: false,
        };
        r.start()?;
        Ok(r)
    }

    fn start(&mut self) -> Result<(), InputError> {
        let t0 = self.read_time()?.ok_or_else(|| {
            InputError::new(
                "the trace is empty: expected one arrival time per row, such as \"12.5\" or \"2023-11-16 18:17:03.9799600\"",
            )
            .in_file(self.rows.path())
        })?;
        self.t0 = t0;
        self.last = t0;
        self.first_pending = true;
        Ok(())
    }

    /// The next row's time (the header, if any, is skipped).
    #[inline]
    fn read_time(&mut self) -> Result<Option<i64>, InputError> {
        loop {
            if !self.rows.next()? {
                return Ok(None);
            }
            let cell = self.rows.field(0);
            match read_time(cell, self.kind, self.unit) {
                Ok(Some((t, kind))) => {
                    self.kind = Some(kind);
                    return Ok(Some(t));
                }
                Ok(None) if self.rows.is_first() => self.rows.take_header(),
                Ok(None) => return Err(self.time_error()),
                Err(m) => return Err(self.rows.error_at(0, m)),
            }
        }
    }

    #[cold]
    fn time_error(&self) -> InputError {
        self.rows.error_at(
            0,
            format!(
                "expected {}, found {}",
                expected_time(self.kind),
                self.rows.shown(0)
            ),
        )
    }

    #[cold]
    fn order_error(&self, t: i64) -> InputError {
        self.rows.error_at(
            0,
            format!(
                "out of order: this arrival is {} s earlier than the one on the row before (arrivals must be in time order)",
                format_seconds(self.last - t)
            ),
        )
    }
}

impl RecordReader for TimestampsReader {
    #[inline]
    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        if self.first_pending {
            self.first_pending = false;
            return Ok(Some(Record::Arrival(0)));
        }
        match self.read_time()? {
            Some(t) if t < self.last => Err(self.order_error(t)),
            Some(t) => {
                self.last = t;
                Ok(Some(Record::Arrival((t - self.t0) as u64)))
            }
            None => Ok(None),
        }
    }

    fn rewind(&mut self) -> Result<(), InputError> {
        self.rows.rewind()?;
        self.kind = None;
        self.start()
    }

    fn origin(&self) -> Origin {
        match self.kind {
            Some(TimeKind::DateTime) => Origin::DateTime(self.t0),
            _ => Origin::Seconds(self.t0),
        }
    }

    fn bin_width(&self) -> Option<u64> {
        None
    }
}
