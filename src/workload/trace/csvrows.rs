//! CSV rows of a trace file, read one at a time with the `csv` crate into a reused record, and
//! located errors for them.
//!
//! Memory is one record and the reader's fixed buffer, whatever the file size. Blank lines are
//! skipped (by the `csv` crate), fields are trimmed of ASCII white space, a UTF-8 byte-order
//! mark at the start of the file is dropped, and quoted fields (`"a,b"`) are read as CSV
//! defines them. Rows may have any number of fields: each format checks the count itself so
//! that it can say what it expected.

use super::open_file;
use crate::error::InputError;
use std::path::{Path, PathBuf};

/// Capacity of the reader's buffer.
const BUFFER: usize = 1 << 16;

pub(crate) struct CsvRows {
    path: PathBuf,
    rdr: csv::Reader<super::BoundedLines>,
    rec: csv::ByteRecord,
    /// Column names, when the file has a header row.
    header: Option<Vec<String>>,
    /// Rows read so far (header included).
    rows: u64,
}

impl CsvRows {
    pub fn open(path: &Path) -> Result<CsvRows, InputError> {
        let file = open_file(path)?;
        Ok(CsvRows {
            path: path.to_path_buf(),
            rdr: reader(file),
            rec: csv::ByteRecord::new(),
            header: None,
            rows: 0,
        })
    }

    /// Goes back to the start of the file (the header, if any, is kept and skipped again by
    /// the caller).
    pub fn rewind(&mut self) -> Result<(), InputError> {
        self.rdr = reader(open_file(&self.path)?);
        self.rows = 0;
        Ok(())
    }

    /// Reads the next row; `false` at the end of the file.
    #[inline]
    pub fn next(&mut self) -> Result<bool, InputError> {
        match self.rdr.read_byte_record(&mut self.rec) {
            Ok(more) => {
                self.rows += u64::from(more);
                Ok(more)
            }
            Err(e) => {
                let line = e.position().map_or(self.line(), |p| p.line() as usize);
                Err(InputError::new(format!("cannot read the trace: {e}"))
                    .in_file(&self.path)
                    .at_line(line))
            }
        }
    }

    /// 1-based line of the current row.
    #[inline]
    pub fn line(&self) -> usize {
        self.rec.position().map_or(0, |p| p.line() as usize)
    }

    /// Whether the current row is the first of the file.
    pub fn is_first(&self) -> bool {
        self.rows == 1
    }

    /// Number of fields of the current row.
    #[inline]
    pub fn len(&self) -> usize {
        self.rec.len()
    }

    /// Field `i` (0-based) of the current row, trimmed; empty if the row is shorter.
    #[inline]
    pub fn field(&self, i: usize) -> &[u8] {
        let f = self.rec.get(i).unwrap_or(b"");
        let f = if i == 0 && self.rows == 1 {
            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
        } else {
            f
        };
        f.trim_ascii()
    }

    /// Field `i` as text, for messages.
    pub fn shown(&self, i: usize) -> String {
        shown(self.field(i))
    }

    /// Keeps the current row as the header (column names).
    pub fn take_header(&mut self) {
        self.header = Some(
            (0..self.len())
                .map(|i| String::from_utf8_lossy(self.field(i)).into_owned())
                .collect(),
        );
    }

    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An error at the current row, in column `i` (0-based): the key names the column by its
    /// number and, if the file has a header, its name.
    pub fn error_at(&self, i: usize, message: impl Into<String>) -> InputError {
        self.error_at_line(self.line(), i, message)
    }

    /// An error at line `line`, in column `i` (0-based).
    pub fn error_at_line(&self, line: usize, i: usize, message: impl Into<String>) -> InputError {
        let key = match self.header.as_ref().and_then(|h| h.get(i)) {
            Some(name) if !name.is_empty() => format!("column {} ({name})", i + 1),
            _ => format!("column {}", i + 1),
        };
        InputError::new(message)
            .in_file(&self.path)
            .at(line, i + 1)
            .key(key)
    }

    /// An error about the current row as a whole.
    pub fn error_row(&self, message: impl Into<String>) -> InputError {
        InputError::new(message)
            .in_file(&self.path)
            .at_line(self.line())
    }
}

fn reader(file: super::BoundedLines) -> csv::Reader<super::BoundedLines> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(BUFFER)
        .from_reader(file)
}

/// Bytes of a trace as text for a message, shortened if long.
pub(crate) fn shown(bytes: &[u8]) -> String {
    crate::error::quoted(&String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]))
}
