//! Guessing a trace's format from its content (and extension), for `trace inspect` and
//! `trace convert` without `--format`.
//!
//! The first 32 non-blank lines are read (at most 1 MiB), and the first rule that matches wins:
//! 1. `clf` if at least half of them (and at least one) are Common Log Format requests, or if
//!    the file name ends in `.log`;
//! 2. `azure` if the first row names minute columns the Azure way: a `HashFunction`, `HashApp`
//!    or `HashOwner` column, a `minute_N` column, or three or more whole-number column names
//!    that count up by one;
//! 3. `counts` if the first data row (after a header, if any) has exactly two fields and the
//!    second is a count (a number that is not negative, or empty), unless a header's second
//!    column name says otherwise: a two-column header is `counts` only if its second name
//!    contains `count`, `arrival`, `request` or `invocation`;
//! 4. `timestamps` otherwise.
//!
//! The reason is returned with the format so that `inspect` can show it; `--format` overrides.

use super::clf::parse_line;
use super::counts::parse_count;
use super::datetime::{is_number, parse_time};
use super::open_file;
use crate::error::InputError;
use crate::workload::TraceFormat;
use std::io::{BufRead, BufReader};
use std::path::Path;

const SAMPLE_LINES: usize = 32;
const SAMPLE_BYTES: u64 = 1 << 20;

/// A guessed format and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Detected {
    pub format: TraceFormat,
    pub reason: String,
}

/// Guesses the format of the trace at `path`.
pub fn detect(path: &Path) -> Result<Detected, InputError> {
    let file = open_file(path)?;
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut input = BufReader::new(std::io::Read::take(file, SAMPLE_BYTES));
    let mut buf = Vec::new();
    while lines.len() < SAMPLE_LINES {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| InputError::new(format!("cannot read the trace: {e}")).in_file(path))?;
        if n == 0 {
            break;
        }
        let line = buf.trim_ascii();
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if !line.is_empty() {
            lines.push(line.to_vec());
        }
    }
    if lines.is_empty() {
        return Err(
            InputError::new("the trace is empty: it has no line that is not blank").in_file(path),
        );
    }
    Ok(guess(&lines, path))
}

fn guess(lines: &[Vec<u8>], path: &Path) -> Detected {
    let found = |format, reason: String| Detected { format, reason };
    let clf = lines.iter().filter(|l| parse_line(l).is_some()).count();
    if clf > 0 && 2 * clf >= lines.len() {
        return found(
            TraceFormat::Clf,
            format!(
                "{clf} of its first {} lines are Common Log Format requests",
                lines.len()
            ),
        );
    }
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("log"))
    {
        return found(TraceFormat::Clf, "its name ends in .log".to_string());
    }
    let first = cells(&lines[0]);
    if let Some(why) = azure_header(&first) {
        return found(TraceFormat::Azure, why);
    }
    // A number the clock cannot hold in seconds (epoch milliseconds) is data, not a header.
    let header = parse_time(&first[0], None).is_none() && !is_number(&first[0]);
    let data = if header {
        lines.get(1).map(|l| cells(l))
    } else {
        Some(first.clone())
    };
    if header && first.len() == 2 {
        let name = String::from_utf8_lossy(&first[1]).to_ascii_lowercase();
        let countish = ["count", "arrival", "request", "invocation"]
            .iter()
            .any(|w| name.contains(w));
        return if countish {
            found(
                TraceFormat::Counts,
                format!(
                    "its header names two columns, the second {name}",
                    name = crate::error::quoted(&name)
                ),
            )
        } else {
            found(
                TraceFormat::Timestamps,
                format!(
                    "its header's second column {name} is not a count",
                    name = crate::error::quoted(&name)
                ),
            )
        };
    }
    if let Some(row) = data
        && row.len() == 2
        && parse_count(&row[1]).is_ok()
    {
        return found(
            TraceFormat::Counts,
            "its rows have two fields, a time and a count".to_string(),
        );
    }
    found(
        TraceFormat::Timestamps,
        "its rows start with a time and are not (time, count) pairs".to_string(),
    )
}

/// The trimmed CSV fields of one line.
fn cells(line: &[u8]) -> Vec<Vec<u8>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(|f| f.trim_ascii().to_vec()).collect(),
        _ => vec![line.to_vec()],
    }
}

fn azure_header(cells: &[Vec<u8>]) -> Option<String> {
    let names: Vec<String> = cells
        .iter()
        .map(|c| String::from_utf8_lossy(c).to_ascii_lowercase())
        .collect();
    if let Some(n) = names
        .iter()
        .find(|n| matches!(n.as_str(), "hashfunction" | "hashapp" | "hashowner"))
    {
        return Some(format!(
            "its header has a {n} column",
            n = crate::error::quoted(n)
        ));
    }
    if names.iter().any(|n| n.starts_with("minute_")) {
        return Some("its header has minute_N columns".to_string());
    }
    let labels: Vec<u64> = names.iter().filter_map(|n| n.parse().ok()).collect();
    let run = labels.windows(2).filter(|w| w[1] == w[0] + 1).count();
    (labels.len() >= 3 && run + 1 == labels.len()).then(|| {
        format!(
            "its header names {} consecutive minute columns",
            labels.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(text: &str, name: &str) -> TraceFormat {
        let lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        guess(&lines, Path::new(name)).format
    }

    #[test]
    fn guesses_each_format() {
        use TraceFormat::*;
        assert_eq!(g("time_s,count\n0,4\n60,5", "a.csv"), Counts);
        assert_eq!(g("0,4\n60,5", "a.csv"), Counts);
        assert_eq!(g("0,4.0\n60,", "a.csv"), Counts);
        assert_eq!(g("time,latency\n0.5,4\n0.7,5", "a.csv"), Timestamps);
        assert_eq!(
            g(
                "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,4808,10",
                "a.csv"
            ),
            Timestamps
        );
        assert_eq!(g("12.5\n13", "a.csv"), Timestamps);
        assert_eq!(g("12,4808,10\n13,5,6", "a.csv"), Timestamps);
        assert_eq!(
            g(
                "HashOwner,HashApp,HashFunction,Trigger,1,2,3\na,b,c,http,1,2,3",
                "a.csv"
            ),
            Azure
        );
        assert_eq!(g("480,481,482,483\n1,2,3,4", "a.csv"), Azure);
        assert_eq!(g("minute_1,minute_2\n1,2", "a.csv"), Azure);
        assert_eq!(
            g(
                "h - - [01/Jul/1995:00:00:01 -0400] \"GET / HTTP/1.0\" 200 1\ngarbage",
                "a.txt"
            ),
            Clf
        );
        assert_eq!(g("garbage", "access.log"), Clf);
    }
}
