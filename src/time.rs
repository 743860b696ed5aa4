//! Simulated time as integer nanoseconds.
//!
//! The clock is never a float: [`SimTime`] is a point in simulated time and [`SimDuration`] a
//! span, both counted in nanoseconds from the start of a run. Scenario files write durations as
//! a number of seconds (`30`, `0.25`) or a string with a unit (`"250ms"`, `"30s"`, `"5m"`,
//! `"2h"`, `"1d"`, also `ns` and `us`, and combinations such as `"1h 30m"`); [`parse_duration`]
//! reads both forms.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The time as seconds (for output only; never feed this back into the clock).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The time `secs` seconds after the start, rounded to the nearest nanosecond.
    pub fn from_secs_f64(secs: f64) -> SimTime {
        SimTime(secs_to_nanos(secs))
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs * NANOS_PER_SEC)
    }

    pub fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    /// `secs` seconds rounded to the nearest nanosecond (saturating at the largest span).
    pub fn from_secs_f64(secs: f64) -> SimDuration {
        SimDuration(secs_to_nanos(secs))
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

fn secs_to_nanos(secs: f64) -> u64 {
    let ns = (secs * NANOS_PER_SEC as f64).round();
    if ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        debug_assert!(earlier <= self, "time went backwards");
        SimDuration(self.0 - earlier.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
    }
}

/// The text every duration error uses to say what was expected.
pub const DURATION_EXPECTED: &str = "a duration: a number of seconds (30, 0.25) or a string with a unit (\"250ms\", \"30s\", \"5m\", \"2h\", \"1d\")";

/// Parses a duration string: `"250ms"`, `"1.5s"`, `"5m"`, `"1h 30m"`, or a bare number of seconds.
///
/// Whole-number forms (with any of the units `ns`, `us`, `ms`, `s`, `m`, `h`, `d` and their long
/// names) are read by `humantime`; a single decimal number with a unit (`"1.5s"`, `"0.5h"`) is
/// read here, since `humantime` takes integers only. Negative, NaN and infinite values are
/// rejected.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!(
            "expected {DURATION_EXPECTED}, found an empty string"
        ));
    }
    if let Ok(secs) = t.parse::<f64>() {
        return duration_from_secs(secs);
    }
    if let Ok(d) = humantime::parse_duration(t) {
        return u64::try_from(d.as_nanos())
            .map(SimDuration)
            .map_err(|_| format!("the duration {t} is too long", t = crate::error::quoted(t)));
    }
    // A single decimal number followed by a unit.
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit_secs = match unit.trim() {
        "ns" | "nsec" => 1e-9,
        "us" | "usec" | "µs" => 1e-6,
        "ms" | "msec" => 1e-3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => {
            return Err(format!(
                "expected {DURATION_EXPECTED}, found {t}",
                t = crate::error::quoted(t)
            ));
        }
    };
    match num.parse::<f64>() {
        Ok(v) => duration_from_secs(v * unit_secs),
        Err(_) => Err(format!(
            "expected {DURATION_EXPECTED}, found {t}",
            t = crate::error::quoted(t)
        )),
    }
}

/// Checks a number of seconds and turns it into a duration.
pub fn duration_from_secs(secs: f64) -> Result<SimDuration, String> {
    if !secs.is_finite() {
        return Err(format!("expected {DURATION_EXPECTED}, found {secs}"));
    }
    if secs < 0.0 {
        return Err(format!(
            "expected a duration that is not negative, found {secs} s"
        ));
    }
    if secs * NANOS_PER_SEC as f64 >= u64::MAX as f64 {
        return Err(format!("the duration {secs} s is too long"));
    }
    Ok(SimDuration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_units() {
        assert_eq!(parse_duration("30").unwrap(), SimDuration::from_secs(30));
        assert_eq!(
            parse_duration("0.25").unwrap(),
            SimDuration::from_millis(250)
        );
        assert_eq!(
            parse_duration("250ms").unwrap(),
            SimDuration::from_millis(250)
        );
        assert_eq!(parse_duration("30s").unwrap(), SimDuration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), SimDuration::from_secs(300));
        assert_eq!(parse_duration("2h").unwrap(), SimDuration::from_secs(7200));
        assert_eq!(parse_duration("1d").unwrap(), SimDuration::from_secs(86400));
        assert_eq!(parse_duration("15us").unwrap(), SimDuration(15_000));
        assert_eq!(parse_duration("7ns").unwrap(), SimDuration(7));
        assert_eq!(
            parse_duration("1h 30m").unwrap(),
            SimDuration::from_secs(5400)
        );
        assert_eq!(
            parse_duration("1.5s").unwrap(),
            SimDuration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("0.5h").unwrap(),
            SimDuration::from_secs(1800)
        );
    }

    #[test]
    fn rejects_garbage_negative_and_non_finite() {
        for bad in ["", "abc", "-5", "-1s", "5 parsecs", "NaN", "inf", "1e400"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(SimTime::MAX + SimDuration(5), SimTime::MAX);
        assert_eq!(SimTime(5).saturating_since(SimTime(9)), SimDuration::ZERO);
        assert_eq!(SimTime(9) - SimTime(5), SimDuration(4));
    }
}
