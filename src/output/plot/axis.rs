//! Axis ticks every chart shares.
//!
//! A log axis is drawn on a linear coordinate of log10 values, so the ticks are where this
//! module puts them: one at every decade, labelled in plain units (`1 ms`, `100 ms`, `1 s`;
//! `0.1%`, `1%`), with 2× and 5× ticks labelled too when the axis spans at most two decades.
//! A log axis can also show zero: it sits one decade-width below the lowest decade, labelled
//! `0`, with a break between. Counts get whole-number ticks. Everything here is a pure function
//! of its inputs, so charts stay byte-identical for the same results.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

/// A linear f64 coordinate whose ticks (bold) and grid lines (light) are given, not chosen by
/// plotters; labels come from the chart's formatter.
pub(crate) struct Ticked {
    inner: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ticked {
    /// `range` with ticks at `bold` and light grid lines at `light`.
    pub fn new(range: Range<f64>, bold: Vec<f64>, light: Vec<f64>) -> Ticked {
        Ticked {
            inner: range.into(),
            bold,
            light,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// What the values of a log axis are, for their labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Seconds, labelled in µs, ms or s.
    Seconds,
    /// A fraction, labelled as a percentage.
    Percent,
}

/// A number with at most three significant digits and no trailing zeros (`0.25`, `100`).
pub(crate) fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `v` (in `unit`) as a tick label.
pub(crate) fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{}%", short(100.0 * v)),
        Unit::Seconds if v == 0.0 => "0".into(),
        Unit::Seconds if v >= 1.0 => format!("{} s", short(v)),
        Unit::Seconds if v >= 1e-3 => format!("{} ms", short(v * 1e3)),
        Unit::Seconds => format!("{} µs", short(v * 1e6)),
    }
}

/// A log10 axis with ticks at decades.
#[derive(Clone, Debug)]
pub(crate) struct LogAxis {
    /// log10 of the lowest and highest decade shown.
    lo: i32,
    hi: i32,
    /// Whether zero is shown (one decade below `lo`).
    zero: bool,
    unit: Unit,
}

impl LogAxis {
    /// An axis from the decade at or below `min_positive` to the decade at or above `max`
    /// (at least one decade wide); with `zero`, values at or below zero are drawn at a `0`
    /// tick one decade below. Non-finite or non-positive bounds fall back to 1 ms..1 s
    /// (seconds) or 0.1%..100% (fractions).
    pub fn new(min_positive: f64, max: f64, zero: bool, unit: Unit) -> LogAxis {
        let (dlo, dhi) = match unit {
            Unit::Seconds => (-3, 0),
            Unit::Percent => (-3, 0),
        };
        let lo = if min_positive.is_finite() && min_positive > 0.0 {
            // A value a hair off a decade (rounding) stays within that decade.
            (min_positive * 1.001).log10().floor() as i32
        } else {
            dlo
        };
        let hi = if max.is_finite() && max > 0.0 {
            (max * 0.999).log10().ceil() as i32
        } else {
            dhi
        };
        let hi = hi.max(lo + 1);
        LogAxis { lo, hi, zero, unit }
    }

    /// Where zero is drawn (when shown).
    fn zero_pos(&self) -> f64 {
        f64::from(self.lo) - 1.0
    }

    /// The position of value `v` on the axis: its log10, or the zero tick (the lowest decade
    /// without one) for values at or below zero.
    pub fn pos(&self, v: f64) -> f64 {
        if v > 0.0 && v.is_finite() {
            v.log10()
        } else if self.zero {
            self.zero_pos()
        } else {
            f64::from(self.lo)
        }
    }

    /// The position where the break between zero and the lowest decade is drawn.
    pub fn break_pos(&self) -> Option<f64> {
        self.zero.then(|| f64::from(self.lo) - 0.5)
    }

    /// The range of positions the axis covers.
    pub fn range(&self) -> Range<f64> {
        let start = if self.zero {
            self.zero_pos() - 0.25
        } else {
            f64::from(self.lo)
        };
        start..f64::from(self.hi)
    }

    /// Labelled tick positions: every decade (and zero); 2× and 5× too within two decades.
    pub fn ticks(&self) -> Vec<f64> {
        let fine = self.hi - self.lo <= 2;
        let mut t = Vec::new();
        if self.zero {
            t.push(self.zero_pos());
        }
        for d in self.lo..=self.hi {
            t.push(f64::from(d));
            if fine && d < self.hi {
                t.push(f64::from(d) + 2f64.log10());
                t.push(f64::from(d) + 5f64.log10());
            }
        }
        t
    }

    /// Light grid positions: 2× to 9× every decade.
    pub fn minor(&self) -> Vec<f64> {
        (self.lo..self.hi)
            .flat_map(|d| (2..10).map(move |k| f64::from(d) + f64::from(k).log10()))
            .collect()
    }

    /// The coordinate to build a chart on.
    pub fn coord(&self) -> Ticked {
        Ticked::new(self.range(), self.ticks(), self.minor())
    }

    /// The label of the tick at position `p`.
    pub fn label(&self, p: f64) -> String {
        if self.zero && (p - self.zero_pos()).abs() < 1e-9 {
            return "0".into();
        }
        // Round to the exact 1, 2 or 5 × 10^k the tick stands for.
        let d = p.floor();
        let m = 10f64.powf(p - d).round();
        format_value(m * 10f64.powf(d), self.unit)
    }
}

/// Whole-number ticks from 0 to at least `max` (about five of them, at 1, 2 or 5 × 10^k
/// steps), and the top of the axis (the last tick).
pub(crate) fn integer_ticks(max: f64) -> (Vec<f64>, f64) {
    let max = if max.is_finite() { max.max(1.0) } else { 1.0 };
    let mut step = 1.0;
    'outer: loop {
        for m in [1.0, 2.0, 5.0] {
            if max / (m * step) <= 5.0 {
                step *= m;
                break 'outer;
            }
        }
        step *= 10.0;
    }
    let top = (max / step).ceil() * step;
    let n = (top / step) as usize;
    ((0..=n).map(|k| k as f64 * step).collect(), top)
}

/// Linear ticks covering `lo..hi` at 1, 2 or 5 × 10^k steps (about five of them), and the
/// rounded-out range they span.
pub(crate) fn nice_ticks(lo: f64, hi: f64) -> (Vec<f64>, Range<f64>) {
    let (lo, hi) = if hi > lo && lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 0.5 - lo.abs() * 0.1, lo + 0.5 + lo.abs() * 0.1)
    } else {
        (0.0, 1.0)
    };
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let a = (lo / step).floor();
    let b = (hi / step).ceil();
    let ticks = (0..=((b - a) as usize))
        .map(|k| (a + k as f64) * step)
        .collect();
    (ticks, a * step..b * step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_as_units_at_every_decade() {
        let a = LogAxis::new(0.004, 3.0, false, Unit::Seconds);
        let labels: Vec<String> = a
            .ticks()
            .iter()
            .filter(|p| p.fract() == 0.0)
            .map(|p| a.label(*p))
            .collect();
        assert_eq!(labels, ["1 ms", "10 ms", "100 ms", "1 s", "10 s"]);
        assert_eq!(a.range(), -3.0..1.0);
    }

    #[test]
    fn narrow_axes_get_two_and_five_ticks() {
        let a = LogAxis::new(0.05, 0.9, false, Unit::Seconds);
        let labels: Vec<String> = a.ticks().iter().map(|p| a.label(*p)).collect();
        assert_eq!(
            labels,
            [
                "10 ms", "20 ms", "50 ms", "100 ms", "200 ms", "500 ms", "1 s"
            ]
        );
    }

    #[test]
    fn zero_sits_one_decade_below_with_a_break() {
        let a = LogAxis::new(0.002, 0.3, true, Unit::Percent);
        assert_eq!(a.pos(0.0), -4.0);
        assert_eq!(a.break_pos(), Some(-3.5));
        assert_eq!(a.label(-4.0), "0");
        assert_eq!(a.label(-3.0), "0.1%");
        assert_eq!(a.label(0.0), "100%");
        assert!(a.range().start < -4.0);
        assert!((a.pos(0.01) + 2.0).abs() < 1e-12);
    }

    #[test]
    fn integer_ticks_are_whole_and_cover_the_maximum() {
        assert_eq!(integer_ticks(7.0), (vec![0.0, 2.0, 4.0, 6.0, 8.0], 8.0));
        assert_eq!(integer_ticks(3.0), (vec![0.0, 1.0, 2.0, 3.0], 3.0));
        let (t, top) = integer_ticks(43.0);
        assert_eq!(top, 50.0);
        assert!(t.iter().all(|x| x.fract() == 0.0));
    }

    #[test]
    fn short_numbers_have_three_significant_digits() {
        assert_eq!(short(49.6123), "49.6");
        assert_eq!(short(0.78), "0.78");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(1234.6), "1235");
        assert_eq!(format_value(0.0005, Unit::Seconds), "500 µs");
    }

    #[test]
    fn nice_ticks_round_out() {
        let (t, r) = nice_ticks(3.2, 11.7);
        assert_eq!(r, 2.0..12.0);
        assert_eq!(t, vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
    }
}
