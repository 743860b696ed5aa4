//! The `clf` format: web server access logs in Common or Combined Log Format.
//!
//! A line is a request when it reads
//! `host ident authuser [dd/Mon/yyyy:HH:MM:SS ±hhmm] "request" status bytes` (the Combined
//! format's referer and user agent may follow): at least three fields before the bracketed
//! time, a valid time with its offset, a quoted request, a three-digit status and a byte count
//! (digits or `-`). The time is converted to its UTC instant. Any other non-blank line is
//! skipped and counted, never fatal; blank lines are ignored.
//!
//! Logs are written in the order requests finish, at one-second resolution, so their times are
//! often slightly out of order. Lines pass through a reorder buffer of [`REORDER_LINES`] lines
//! (a min-heap, constant memory): a line is released once that many later lines have been read,
//! so any line displaced by fewer lines comes out in its right place. A line so late that a
//! later time was already released is replayed at that released time (clamped) and counted.
//! The first arrival (trace time 0) is the earliest time among the first [`REORDER_LINES`]
//! lines.

use super::datetime::parse_clf_time;
use super::{Origin, Record, RecordReader, Skipped, open_file};
use crate::error::InputError;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Lines held back to put out-of-order lines in order (8 bytes each).
pub const REORDER_LINES: usize = 1 << 16;

/// The UTC instant (nanoseconds since the Unix epoch) of an access-log line, or `None` if the
/// line is not a Common or Combined Log Format request.
pub fn parse_line(line: &[u8]) -> Option<i64> {
    parse_line_cached(line, &mut StampCache::default())
}

/// The last time stamp parsed and its instant: consecutive log lines mostly share their
/// second, so most lines are matched against it instead of being parsed again.
#[derive(Debug, Default)]
pub struct StampCache {
    stamp: Vec<u8>,
    time: i64,
}

/// [`parse_line`], reusing the previous line's time stamp when it is the same.
pub fn parse_line_cached(line: &[u8], cache: &mut StampCache) -> Option<i64> {
    let open = find(b'[', line)?;
    // host ident authuser: at least three fields before the time.
    let head = line[..open].trim_ascii();
    if head.split(|&b| b == b' ').filter(|f| !f.is_empty()).count() < 3 {
        return None;
    }
    let close = open + find(b']', &line[open..])?;
    let stamp = &line[open + 1..close];
    let time = if !cache.stamp.is_empty() && cache.stamp == stamp {
        cache.time
    } else {
        let t = parse_clf_time(stamp)?;
        cache.stamp.clear();
        cache.stamp.extend_from_slice(stamp);
        cache.time = t;
        t
    };
    let rest = line[close + 1..].strip_prefix(b" \"")?;
    // The request ends at the quote followed by " status bytes".
    let mut from = 0;
    while let Some(q) = find(b'"', &rest[from..]) {
        let after = &rest[from + q + 1..];
        if status_and_bytes(after) {
            return Some(time);
        }
        from += q + 1;
    }
    None
}

/// ` 200 1234` or ` 404 -`, then the end of the line or a space.
fn status_and_bytes(s: &[u8]) -> bool {
    let Some(s) = s.strip_prefix(b" ") else {
        return false;
    };
    if s.len() < 5 || !s[..3].iter().all(u8::is_ascii_digit) || s[3] != b' ' {
        return false;
    }
    let bytes = &s[4..];
    let end = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
    let field = &bytes[..end];
    field == b"-" || (!field.is_empty() && field.iter().all(u8::is_ascii_digit))
}

#[inline]
fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

pub struct ClfReader {
    path: PathBuf,
    input: BufReader<super::BoundedLines>,
    line: Vec<u8>,
    line_no: u64,
    eof: bool,
    /// Times read and not yet released (a min-heap).
    held: BinaryHeap<Reverse<i64>>,
    /// The last time released.
    released: Option<i64>,
    /// Trace time 0 on the log's clock (UTC nanoseconds).
    t0: i64,
    skipped: Skipped,
    cache: StampCache,
}

impl ClfReader {
    pub fn open(path: &Path) -> Result<ClfReader, InputError> {
        let mut r = ClfReader {
            path: path.to_path_buf(),
            input: BufReader::with_capacity(1 << 16, open_file(path)?),
            line: Vec::with_capacity(512),
            line_no: 0,
            eof: false,
            held: BinaryHeap::with_capacity(REORDER_LINES + 1),
            released: None,
            t0: 0,
            skipped: Skipped::default(),
            cache: StampCache::default(),
        };
        r.start()?;
        Ok(r)
    }

    fn start(&mut self) -> Result<(), InputError> {
        self.top_up()?;
        match self.held.peek() {
            Some(&Reverse(t)) => {
                self.t0 = t;
                Ok(())
            }
            None => {
                let mut message = String::from(
                    "the trace is empty: no line is a Common Log Format request (host ident authuser [01/Jul/1995:00:00:01 -0400] \"GET / HTTP/1.0\" 200 1234)",
                );
                if let Some(first) = self.skipped.first_line {
                    message.push_str(&format!(
                        "; {} lines skipped, the first at line {first}",
                        self.skipped.lines
                    ));
                }
                Err(InputError::new(message).in_file(&self.path))
            }
        }
    }

    /// Reads lines until the buffer holds more than [`REORDER_LINES`] times, or the log ends.
    fn top_up(&mut self) -> Result<(), InputError> {
        while !self.eof && self.held.len() <= REORDER_LINES {
            self.line.clear();
            let n = self.input.read_until(b'\n', &mut self.line).map_err(|e| {
                InputError::new(format!("cannot read the trace: {e}"))
                    .in_file(&self.path)
                    .at_line(self.line_no as usize + 1)
            })?;
            if n == 0 {
                self.eof = true;
                break;
            }
            self.line_no += 1;
            let text = self.line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match parse_line_cached(text, &mut self.cache) {
                Some(t) => {
                    let t = match self.released {
                        Some(r) if t < r => {
                            self.skipped.clamped += 1;
                            r
                        }
                        _ => t,
                    };
                    self.held.push(Reverse(t));
                }
                None => {
                    self.skipped.lines += 1;
                    self.skipped.first_line.get_or_insert(self.line_no);
                }
            }
        }
        Ok(())
    }
}

impl RecordReader for ClfReader {
    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        self.top_up()?;
        match self.held.pop() {
            Some(Reverse(t)) => {
                self.released = Some(t);
                Ok(Some(Record::Arrival((t - self.t0) as u64)))
            }
            None => Ok(None),
        }
    }

    fn rewind(&mut self) -> Result<(), InputError> {
        self.input = BufReader::with_capacity(1 << 16, open_file(&self.path)?);
        self.line_no = 0;
        self.eof = false;
        self.held.clear();
        self.released = None;
        self.skipped = Skipped::default();
        self.start()
    }

    fn origin(&self) -> Origin {
        Origin::DateTime(self.t0)
    }

    fn bin_width(&self) -> Option<u64> {
        None
    }

    fn skipped(&self) -> Skipped {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_combined_lines() {
        let t = parse_line(
            b"199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] \"GET /history/apollo/ HTTP/1.0\" 200 6245",
        );
        assert_eq!(
            t,
            super::super::datetime::parse_datetime(b"1995-07-01T04:00:01Z")
        );
        assert!(parse_line(b"unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] \"GET /shuttle/countdown/ HTTP/1.0\" 304 -").is_some());
        assert!(parse_line(b"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"").is_some());
        assert!(parse_line(b"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"-\" 408 -").is_some());
        // A request with a quote inside.
        assert!(
            parse_line(b"h - - [10/Oct/2000:13:55:36 +0000] \"GET /a\"b HTTP/1.0\" 200 5")
                .is_some()
        );
    }

    #[test]
    fn the_cache_gives_the_same_times() {
        let mut cache = StampCache::default();
        let a = b"h - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.0\" 200 5";
        let b = b"h - - [10/Oct/2000:13:55:37 +0000] \"GET / HTTP/1.0\" 200 5";
        let c = b"h - - [10/Oct/2000:13:55:37 +0000] \"GET / HTTP/1.0\" 2000 5";
        assert_eq!(parse_line_cached(a, &mut cache), parse_line(a));
        assert_eq!(parse_line_cached(a, &mut cache), parse_line(a));
        assert_eq!(parse_line_cached(b, &mut cache), parse_line(b));
        assert_eq!(parse_line_cached(c, &mut cache), None);
        assert_eq!(
            parse_line(b).unwrap() - parse_line(a).unwrap(),
            1_000_000_000
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            &b"this is not a log line"[..],
            b"h - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.0\"",
            b"h - - [10/Oct/2000:13:55:36] \"GET / HTTP/1.0\" 200 5",
            b"h - - [99/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.0\" 200 5",
            b"h - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.0\" 200 5",
            b"h - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.0\" 2000 5",
            b"h - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.0\" 200 five",
            b"h - - [10/Oct/2000:13:55:36 +0000] \"GET / HT",
        ] {
            assert_eq!(parse_line(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
