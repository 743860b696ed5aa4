//! The `azure` format: Azure Functions 2019 invocation counts, one row per function and one
//! column per minute.
//!
//! - The first row is the header. A column whose name is a whole number (`480`) or
//!   `minute_N` (any case) holds the counts of minute N; labels may start anywhere
//!   (`480..959`, `minute_1..minute_1440`) and come in any order, and a missing label is a gap
//!   without data. The column named `HashFunction` (any case), if present, identifies the
//!   function; every other column (`HashOwner`, `HashApp`, `Trigger`, ...) is ignored, wherever
//!   it is and whether or not it is there.
//! - Every row has as many fields as the header. Cells are counts as in the `counts` format
//!   (`42`, `42.0`, an empty cell for no data).
//! - All rows are summed, or only those whose `HashFunction` equals `function` (naming a
//!   function that no row has is an error). Minute N becomes the 60 s bin starting at
//!   (N - first label) minutes of trace time.
//!
//! The sums per minute are gathered while opening, in one pass over the file: memory is one
//! counter per minute column (the width of one row), whatever the number of rows.

use super::counts::parse_count;
use super::csvrows::{CsvRows, shown};
use super::{Origin, Record, RecordReader};
use crate::error::InputError;
use std::path::Path;

/// Width of one minute, in nanoseconds.
const MINUTE: u64 = 60_000_000_000;
/// Largest distance between minute labels (about 190 years, so times fit in nanoseconds).
const MAX_MINUTES: u64 = 100_000_000;

pub struct AzureReader {
    /// (minute label, summed count or `None` without data), sorted by label.
    minutes: Vec<(u64, Option<u64>)>,
    /// Next minute to return.
    next: usize,
    /// End of the last bin returned, in trace time.
    prev_end: u64,
}

/// Reads a minute label: `480` or `minute_480`.
fn minute_label(name: &str) -> Option<u64> {
    let digits = match name.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("minute_") => &name[7..],
        _ => name,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl AzureReader {
    pub fn open(path: &Path, function: Option<&str>) -> Result<AzureReader, InputError> {
        let mut rows = CsvRows::open(path)?;
        if !rows.next()? {
            return Err(InputError::new(
                "the trace is empty: expected a header row (HashOwner,HashApp,HashFunction,Trigger,1,2,...) and one row per function",
            )
            .in_file(path));
        }
        rows.take_header();
        let header: Vec<String> = rows.header().map(<[String]>::to_vec).unwrap_or_default();
        let width = header.len();
        // (label, column), sorted by label.
        let mut columns: Vec<(u64, usize)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, name)| minute_label(name).map(|m| (m, i)))
            .collect();
        if columns.is_empty() {
            return Err(InputError::new(format!(
                "expected a header row naming the minute columns (480,481,... or minute_1,minute_2,...), found {}",
                shown(header.join(",").as_bytes())
            ))
            .in_file(path)
            .at_line(rows.line()));
        }
        columns.sort_unstable();
        let (first, last) = (columns[0].0, columns[columns.len() - 1].0);
        if last - first > MAX_MINUTES {
            return Err(InputError::new(format!(
                "the minute columns run from {first} to {last}: expected labels less than {MAX_MINUTES} minutes apart"
            ))
            .in_file(path)
            .at_line(rows.line()));
        }
        if let Some(w) = columns.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(rows.error_at(
                w[1].1,
                format!(
                    "minute {} has two columns (columns {} and {})",
                    w[0].0,
                    w[0].1 + 1,
                    w[1].1 + 1
                ),
            ));
        }
        let function_column = header
            .iter()
            .position(|n| n.eq_ignore_ascii_case("HashFunction"));
        let wanted = match (function, function_column) {
            (Some(f), Some(col)) => Some((f.as_bytes(), col)),
            (Some(_), None) => {
                return Err(InputError::new(
                    "a function is selected (`function`), but the header has no HashFunction column",
                )
                .in_file(path)
                .at_line(rows.line()));
            }
            (None, _) => None,
        };

        let mut sums: Vec<Option<u64>> = vec![None; columns.len()];
        let mut data_rows = 0u64;
        let mut matched = 0u64;
        let mut total = 0u64;
        while rows.next()? {
            if rows.len() != width {
                return Err(rows.error_row(format!(
                    "expected {width} columns like the header, found {}",
                    rows.len()
                )));
            }
            data_rows += 1;
            let selected = match wanted {
                Some((f, col)) => rows.field(col) == f,
                None => true,
            };
            matched += u64::from(selected);
            for (k, &(_, col)) in columns.iter().enumerate() {
                let count = parse_count(rows.field(col)).map_err(|m| rows.error_at(col, m))?;
                if let (true, Some(c)) = (selected, count) {
                    super::counts::add_to_total(&mut total, c)
                        .map_err(|m| rows.error_at(col, m))?;
                    let sum = sums[k].get_or_insert(0);
                    *sum = sum.checked_add(c).ok_or_else(|| {
                        rows.error_at(col, "the sum of this minute's counts is too large")
                    })?;
                }
            }
        }
        if data_rows == 0 {
            return Err(InputError::new(
                "the trace is empty: the header is not followed by any row of counts",
            )
            .in_file(path));
        }
        if let (Some(f), 0) = (function, matched) {
            return Err(InputError::new(format!(
                "no row has HashFunction = {f} ({data_rows} rows read)",
                f = crate::error::quoted(f)
            ))
            .in_file(path)
            .key("function"));
        }
        Ok(AzureReader {
            minutes: columns
                .iter()
                .zip(sums)
                .map(|(&(label, _), sum)| (label, sum))
                .collect(),
            next: 0,
            prev_end: 0,
        })
    }
}

impl RecordReader for AzureReader {
    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        let Some(&(label, count)) = self.minutes.get(self.next) else {
            return Ok(None);
        };
        let start = (label - self.minutes[0].0) * MINUTE;
        if start > self.prev_end {
            let gap = Record::Bin {
                start: self.prev_end,
                width: start - self.prev_end,
                count: None,
            };
            self.prev_end = start;
            return Ok(Some(gap));
        }
        self.next += 1;
        self.prev_end = start + MINUTE;
        Ok(Some(Record::Bin {
            start,
            width: MINUTE,
            count,
        }))
    }

    fn rewind(&mut self) -> Result<(), InputError> {
        self.next = 0;
        self.prev_end = 0;
        Ok(())
    }

    fn origin(&self) -> Origin {
        Origin::Minute(self.minutes[0].0)
    }

    fn bin_width(&self) -> Option<u64> {
        Some(MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::minute_label;

    #[test]
    fn minute_labels() {
        assert_eq!(minute_label("480"), Some(480));
        assert_eq!(minute_label("minute_1"), Some(1));
        assert_eq!(minute_label("Minute_1440"), Some(1440));
        assert_eq!(minute_label("HashFunction"), None);
        assert_eq!(minute_label("minute_"), None);
        assert_eq!(minute_label("-1"), None);
        assert_eq!(minute_label("1.5"), None);
    }
}
