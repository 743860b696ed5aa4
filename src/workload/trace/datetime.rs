//! Times as traces write them: seconds, date-times, and access-log time stamps.
//!
//! Every parser returns integer nanoseconds (`i64`) on the trace's own clock, or `None` when
//! the text is not a time of that kind; nothing is rounded through a float except numbers
//! written with an exponent (`1.5e3`).
//!
//! - Seconds (`12.5`, `1700158623.97996`, `-3`) are read exactly as a decimal, to the
//!   nanosecond (digits beyond the ninth decimal are dropped); with a [`TimeUnit`] other than
//!   seconds (`time_unit = "ms"`), numbers are milliseconds, microseconds or nanoseconds,
//!   read as exactly. A number too large for the clock (beyond about 292 years from 0) is an
//!   error that suggests the unit it looks like: `1700158623979` is epoch milliseconds.
//! - Date-times are read by `jiff`'s ISO 8601 / RFC 3339 parser: `2023-11-16 18:17:03.9799600`,
//!   `2023-11-16T18:17:03Z`, `2023-11-16T18:17:03.5+01:00`, a date alone (`2023-11-16`, at
//!   midnight), up to nanosecond precision. A date-time with an offset or `Z` is converted to
//!   the UTC instant; one without is taken as UTC (the trace's own wall clock, kept as is).
//! - Access-log time stamps (`01/Jul/1995:00:00:01 -0400`) are converted to UTC instants.

use jiff::fmt::temporal::DateTimeParser;
use jiff::tz::Offset;

/// How a trace writes its times (fixed by its first data row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeKind {
    /// A number of seconds.
    Seconds,
    /// A calendar date and time of day.
    DateTime,
}

/// What a time field may hold, for error messages.
pub const TIME_EXPECTED: &str = "a time: seconds (12.5) or a date-time (2023-11-16 18:17:03.9799600, 2023-11-16T18:17:03Z, 2023-11-16T18:17:03+01:00)";

static PARSER: DateTimeParser = DateTimeParser::new();

/// The unit of a trace's numeric times (`time_unit`; seconds by default). Date-times carry
/// their own units and take none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    #[default]
    S,
    Ms,
    Us,
    Ns,
}

impl TimeUnit {
    /// The units as a message lists them.
    pub const NAMES: &str = "\"s\", \"ms\", \"us\" or \"ns\"";

    pub fn parse(text: &str) -> Option<TimeUnit> {
        Some(match text {
            "s" => TimeUnit::S,
            "ms" => TimeUnit::Ms,
            "us" => TimeUnit::Us,
            "ns" => TimeUnit::Ns,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
            TimeUnit::Ns => "ns",
        }
    }

    /// Decimal digits of nanoseconds in one unit: 9 for seconds, 0 for nanoseconds.
    fn digits(self) -> u32 {
        match self {
            TimeUnit::S => 9,
            TimeUnit::Ms => 6,
            TimeUnit::Us => 3,
            TimeUnit::Ns => 0,
        }
    }

    /// How many of the unit make a second.
    fn per_second(self) -> f64 {
        10f64.powi(9 - self.digits() as i32)
    }
}

/// Reads a number of seconds exactly, as nanoseconds.
pub fn parse_seconds(text: &[u8]) -> Option<i64> {
    parse_number(text, TimeUnit::S)
}

/// Reads a number of `unit`s exactly, as nanoseconds (digits finer than a nanosecond are
/// dropped).
pub fn parse_number(text: &[u8], unit: TimeUnit) -> Option<i64> {
    let scale = 10i64.pow(unit.digits());
    let (neg, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    let plain = (!int.is_empty() || !frac.is_empty())
        && int.iter().all(u8::is_ascii_digit)
        && frac.iter().all(u8::is_ascii_digit);
    if !plain {
        // Exponent forms and the like: through a float, rounded to the nanosecond.
        let s = std::str::from_utf8(text).ok()?;
        if !s.bytes().any(|b| b == b'e' || b == b'E') {
            return None;
        }
        let v: f64 = s.parse().ok()?;
        let ns = (v * scale as f64).round();
        return (v.is_finite() && ns.abs() < i64::MAX as f64).then_some(ns as i64);
    }
    let mut secs: i64 = 0;
    for &d in int {
        secs = secs.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    let mut nanos: i64 = 0;
    for i in 0..unit.digits() as usize {
        nanos = nanos * 10 + frac.get(i).map_or(0, |&d| i64::from(d - b'0'));
    }
    let ns = secs.checked_mul(scale)?.checked_add(nanos)?;
    Some(if neg { -ns } else { ns })
}

/// Whether the UTC offset at the end of a date-time (`+05:30`, `-0400`, `Z`) is a real one:
/// at most 18 hours either way (ISO 8601; real zones stay within ±14 h). `+25:00` is refused.
fn offset_in_range(text: &[u8]) -> bool {
    let Some(p) = text[10.min(text.len())..]
        .iter()
        .rposition(|b| matches!(b, b'+' | b'-'))
        .map(|p| p + 10.min(text.len()))
    else {
        return true;
    };
    let digits: Vec<u8> = text[p + 1..]
        .iter()
        .copied()
        .filter(u8::is_ascii_digit)
        .take(2)
        .collect();
    match digits.as_slice() {
        [a, b] => (a - b'0') * 10 + (b - b'0') <= 18,
        _ => true,
    }
}

/// Reads an ISO 8601 date-time as nanoseconds since the Unix epoch (UTC).
pub fn parse_datetime(text: &[u8]) -> Option<i64> {
    // An offset or `Z` can only follow the date (whose own dashes sit in the first 8 bytes).
    let has_offset = text.len() > 8
        && text[8..]
            .iter()
            .any(|b| matches!(b, b'+' | b'-' | b'Z' | b'z'));
    let ts = if has_offset {
        if !offset_in_range(text) {
            return None;
        }
        PARSER.parse_timestamp(text).ok()?
    } else {
        Offset::UTC
            .to_timestamp(PARSER.parse_datetime(text).ok()?)
            .ok()?
    };
    i64::try_from(ts.as_nanosecond()).ok()
}

/// Reads an access-log time stamp (`01/Jul/1995:00:00:01 -0400`) as nanoseconds since the
/// Unix epoch (UTC).
pub fn parse_clf_time(text: &[u8]) -> Option<i64> {
    if !offset_in_range(text) {
        return None;
    }
    let ts = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", text)
        .ok()?
        .to_timestamp()
        .ok()?;
    i64::try_from(ts.as_nanosecond()).ok()
}

/// Reads a time of either kind (numbers in seconds); `kind`, once known, says which one to
/// expect.
pub fn parse_time(text: &[u8], kind: Option<TimeKind>) -> Option<(i64, TimeKind)> {
    parse_time_in(text, kind, TimeUnit::S)
}

/// Reads a time of either kind, numbers in `unit`; `kind`, once known, says which one to
/// expect.
pub fn parse_time_in(
    text: &[u8],
    kind: Option<TimeKind>,
    unit: TimeUnit,
) -> Option<(i64, TimeKind)> {
    match kind {
        Some(TimeKind::Seconds) => parse_number(text, unit).map(|t| (t, TimeKind::Seconds)),
        Some(TimeKind::DateTime) => parse_datetime(text).map(|t| (t, TimeKind::DateTime)),
        None => parse_number(text, unit)
            .map(|t| (t, TimeKind::Seconds))
            .or_else(|| parse_datetime(text).map(|t| (t, TimeKind::DateTime))),
    }
}

/// Whether `text` is a number (`12`, `-1.5`, `1.7e12`), whether or not it fits the clock.
pub fn is_number(text: &[u8]) -> bool {
    number_value(text).is_some()
}

fn number_value(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    let v: f64 = s.parse().ok()?;
    (plain && v.is_finite() && s.bytes().any(|b| b.is_ascii_digit())).then_some(v)
}

/// Reads the time cell of a row of a trace whose numbers are in `unit` (`kind` once the first
/// row fixed it). `Ok(None)`: the cell is not a time at all (a header, on the first row).
/// `Err`: what is wrong with a number the clock cannot hold (with the unit it looks like, such
/// as epoch milliseconds read as seconds), or with a date-time in a trace given a `time_unit`.
pub fn read_time(
    text: &[u8],
    kind: Option<TimeKind>,
    unit: TimeUnit,
) -> Result<Option<(i64, TimeKind)>, String> {
    match parse_time_in(text, kind, unit) {
        Some((_, TimeKind::DateTime)) if unit != TimeUnit::S => Err(format!(
            "found the date-time {}, but `time_unit = \"{}\"` is for times written as numbers: remove `time_unit` (`--time-unit`)",
            crate::error::quoted(&String::from_utf8_lossy(text)),
            unit.name()
        )),
        Some(t) => Ok(Some(t)),
        None if kind == Some(TimeKind::DateTime) => Ok(None),
        None => match number_value(text) {
            Some(v) => Err(out_of_range(v, unit)),
            None => Ok(None),
        },
    }
}

/// The message for a number `v` (in `unit`) beyond the clock, with the unit it looks like.
fn out_of_range(v: f64, unit: TimeUnit) -> String {
    let secs = v / unit.per_second();
    let years = secs / (365.25 * 86400.0);
    let mut m = format!(
        "found {}, which as a time in {} is {} years from 0, beyond the simulator's clock (about 292 years)",
        crate::error::num(v),
        match unit {
            TimeUnit::S => "seconds",
            TimeUnit::Ms => "milliseconds",
            TimeUnit::Us => "microseconds",
            TimeUnit::Ns => "nanoseconds",
        },
        crate::error::num(years.round())
    );
    // The coarsest unit in which the number is a time of this century since 1970 or earlier
    // (below 1e11 s, the year 5138).
    let fits = [TimeUnit::S, TimeUnit::Ms, TimeUnit::Us, TimeUnit::Ns]
        .into_iter()
        .filter(|u| u.digits() < unit.digits())
        .find(|u| (v / u.per_second()).abs() < 1e11);
    if let Some(u) = fits {
        let what = match u {
            TimeUnit::Ms => "milliseconds",
            TimeUnit::Us => "microseconds",
            _ => "nanoseconds",
        };
        m.push_str(&format!(
            ": the times look like {what} since 1970; set `time_unit = \"{}\"` in the scenario's [workload] table (`--time-unit {}` for `trace inspect` and `convert`)",
            u.name(),
            u.name()
        ));
    }
    m
}

/// What a time cell may hold once `kind` is known, for messages.
pub fn expected_time(kind: Option<TimeKind>) -> &'static str {
    match kind {
        Some(TimeKind::Seconds) => "a time in seconds, like the rows above",
        Some(TimeKind::DateTime) => "a date-time, like the rows above",
        None => TIME_EXPECTED,
    }
}

/// A UTC instant (nanoseconds since the Unix epoch) in RFC 3339 form.
pub fn format_datetime(ns: i64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(ns)) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("{ns} ns since 1970-01-01T00:00:00Z"),
    }
}

/// Nanoseconds as an exact decimal number of seconds, without trailing zeros (`60`, `1.5`,
/// `-0.000000001`).
pub fn format_seconds(ns: i64) -> String {
    let mut s = String::new();
    push_seconds(&mut s, ns);
    s
}

/// Appends [`format_seconds`] of `ns` to `out`.
pub fn push_seconds(out: &mut String, ns: i64) {
    use std::fmt::Write;
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    let (secs, frac) = (abs / 1_000_000_000, abs % 1_000_000_000);
    if frac == 0 {
        let _ = write!(out, "{sign}{secs}");
    } else {
        let digits = format!("{frac:09}");
        let _ = write!(out, "{sign}{secs}.{}", digits.trim_end_matches('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact() {
        assert_eq!(parse_seconds(b"12.5"), Some(12_500_000_000));
        assert_eq!(parse_seconds(b"0"), Some(0));
        assert_eq!(parse_seconds(b".25"), Some(250_000_000));
        assert_eq!(parse_seconds(b"7."), Some(7_000_000_000));
        assert_eq!(parse_seconds(b"-3"), Some(-3_000_000_000));
        // Epoch seconds at 100 ns: beyond what an f64 holds exactly.
        assert_eq!(
            parse_seconds(b"1700158623.9799601"),
            Some(1_700_158_623_979_960_100)
        );
        assert_eq!(parse_seconds(b"1.1234567899"), Some(1_123_456_789));
        assert_eq!(parse_seconds(b"1.5e3"), Some(1_500_000_000_000));
        for bad in [
            &b""[..],
            b".",
            b"-",
            b"abc",
            b"1.2.3",
            b"12s",
            b"1e999",
            b"nan",
            b"1 2",
        ] {
            assert_eq!(
                parse_seconds(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn date_times_with_and_without_offsets() {
        let base = parse_datetime(b"2023-11-16 18:17:03").unwrap();
        assert_eq!(base, 1_700_158_623_000_000_000);
        assert_eq!(
            parse_datetime(b"2023-11-16 18:17:03.9799600"),
            Some(base + 979_960_000)
        );
        assert_eq!(parse_datetime(b"2023-11-16T18:17:03Z"), Some(base));
        assert_eq!(
            parse_datetime(b"2023-11-16T19:17:03+01:00"),
            Some(base),
            "an offset gives the UTC instant"
        );
        assert_eq!(parse_datetime(b"2023-11-16T14:17:03-0400"), Some(base));
        assert_eq!(
            parse_datetime(b"2023-11-16"),
            Some(base - (18 * 3600 + 17 * 60 + 3) * 1_000_000_000)
        );
        for bad in [
            &b"2023-02-30 00:00:00"[..],
            b"12.5",
            b"yesterday",
            b"2023-11-16 25:00:00",
        ] {
            assert_eq!(
                parse_datetime(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn access_log_times_become_utc() {
        let t = parse_clf_time(b"01/Jul/1995:00:00:01 -0400").unwrap();
        assert_eq!(Some(t), parse_datetime(b"1995-07-01T04:00:01Z"));
        assert_eq!(parse_clf_time(b"01/Jul/1995:00:00:01"), None);
        assert_eq!(parse_clf_time(b"32/Jul/1995:00:00:01 -0400"), None);
    }

    #[test]
    fn formats_round_trip() {
        for ns in [0, 1, 1_500_000_000, 60_000_000_000, 123_456_789_012, -1] {
            let s = format_seconds(ns);
            assert_eq!(parse_seconds(s.as_bytes()), Some(ns), "{s}");
        }
        assert_eq!(format_seconds(60_000_000_000), "60");
        assert_eq!(format_seconds(1_500_000_000), "1.5");
        let t = parse_datetime(b"2023-11-16 18:17:03.97996").unwrap();
        assert_eq!(format_datetime(t), "2023-11-16T18:17:03.97996Z");
        assert_eq!(parse_datetime(format_datetime(t).as_bytes()), Some(t));
    }

    #[test]
    fn numbers_in_each_unit_are_exact() {
        let ms = TimeUnit::Ms;
        assert_eq!(
            parse_number(b"1700158623979", ms),
            Some(1_700_158_623_979_000_000)
        );
        assert_eq!(parse_number(b"1.5", ms), Some(1_500_000));
        assert_eq!(parse_number(b"0.0000019", ms), Some(1));
        assert_eq!(parse_number(b"1e3", ms), Some(1_000_000_000));
        assert_eq!(
            parse_number(b"1700158623979960", TimeUnit::Us),
            Some(1_700_158_623_979_960_000)
        );
        assert_eq!(parse_number(b"12.9", TimeUnit::Ns), Some(12));
        assert_eq!(parse_number(b"-7", TimeUnit::Ns), Some(-7));
        assert_eq!(TimeUnit::parse("us"), Some(TimeUnit::Us));
        assert_eq!(TimeUnit::parse("sec"), None);
    }

    #[test]
    fn epoch_milliseconds_read_as_seconds_get_a_hint() {
        let e = read_time(b"1700158623979", None, TimeUnit::S).unwrap_err();
        assert!(
            e.starts_with("found 1700158623979, which as a time in seconds is 53875 years from 0"),
            "{e}"
        );
        assert!(e.ends_with("the times look like milliseconds since 1970; set `time_unit = \"ms\"` in the scenario's [workload] table (`--time-unit ms` for `trace inspect` and `convert`)"), "{e}");
        let e = read_time(b"1700158623979960", None, TimeUnit::S).unwrap_err();
        assert!(e.contains("`time_unit = \"us\"`"), "{e}");
        let e = read_time(b"1700158623979960123", None, TimeUnit::Ms).unwrap_err();
        assert!(e.contains("`time_unit = \"ns\"`"), "{e}");
        // Too large in any unit: no hint.
        let e = read_time(b"1e30", None, TimeUnit::S).unwrap_err();
        assert!(!e.contains("time_unit"), "{e}");
        assert_eq!(read_time(b"time_s", None, TimeUnit::S), Ok(None));
        assert_eq!(
            read_time(b"12", None, TimeUnit::Ms),
            Ok(Some((12_000_000, TimeKind::Seconds)))
        );
        let e = read_time(b"2023-11-16", None, TimeUnit::Ms).unwrap_err();
        assert!(
            e.contains("`time_unit = \"ms\"` is for times written as numbers"),
            "{e}"
        );
    }

    #[test]
    fn kind_is_detected_then_enforced() {
        assert_eq!(parse_time(b"5", None).map(|x| x.1), Some(TimeKind::Seconds));
        assert_eq!(
            parse_time(b"2023-11-16", None).map(|x| x.1),
            Some(TimeKind::DateTime)
        );
        assert_eq!(parse_time(b"5", Some(TimeKind::DateTime)), None);
        assert_eq!(parse_time(b"time", None), None);
    }
}
