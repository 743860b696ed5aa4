//! Statistics of a trace for `trace inspect`, computed in one streaming pass (constant memory,
//! no random numbers: a binned trace's counts are spread evenly over each bin).
//!
//! Definitions (all times are trace times from the first record):
//! - **span**: first to last arrival (per-request traces), or the first bin's start to the last
//!   bin's end (binned traces). **mean rate** = arrivals / span.
//! - **windows**: the trace is cut into windows of a fixed width from time 0; the last window,
//!   possibly partial, is the one holding the last arrival (per-request), or reaching the end of
//!   the last bin (binned). A bin's count is spread over the windows it overlaps in proportion
//!   to the overlap.
//! - **peak rate per second / per minute**: the largest number of arrivals in a 1 s / 60 s
//!   window. For a binned trace coarser than the window this is the busiest bin's rate.
//! - **bins** (the statistics bin, `--bin`, by default the trace's own bin, or 60 s for
//!   per-request traces): their number, the number with no arrival (**empty bins**), and the
//!   **index of dispersion** of the arrivals per bin: sample variance / mean (1 for a Poisson
//!   process; larger is burstier).
//! - **inter-arrival CV** (per-request traces): sample standard deviation / mean of the gaps
//!   between consecutive arrivals (1 for a Poisson process).
//! - **gaps**: for binned traces, the runs of time without data (empty counts or time no row
//!   covers), their number and total length; the **longest gap** is the longest such run, or
//!   for a per-request trace the longest time between consecutive arrivals.
//! - **sparkline**: arrivals per statistics bin over the whole span, at most 60 characters,
//!   each the mean of the bins it covers, scaled so that the busiest is `█` (a blank is zero).

use super::{Record, RecordReader};
use crate::error::InputError;
use crate::time::NANOS_PER_SEC;
use serde::Serialize;

/// Statistics bin of per-request traces when none is given.
pub const DEFAULT_BIN_NS: u64 = 60 * NANOS_PER_SEC;
/// Most characters in the sparkline.
pub const SPARK_WIDTH: usize = 60;

/// What `trace inspect` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceStats {
    pub path: String,
    pub format: String,
    /// Why the format was chosen (inferred, or given).
    pub format_reason: String,
    /// Whether the trace lists single arrivals (`timestamps`, `clf`) rather than bins.
    pub per_request: bool,
    /// Trace time 0 on the trace's own clock.
    pub start: String,
    pub span_s: f64,
    pub arrivals: u64,
    /// Records read: arrivals (per-request traces), or bins including the gaps between rows
    /// (binned traces).
    pub records: u64,
    pub mean_rate_per_s: Option<f64>,
    pub mean_rate_per_min: Option<f64>,
    pub peak_rate_per_s: f64,
    pub peak_rate_per_min: f64,
    /// Width of the trace's own bins (binned traces).
    pub trace_bin_s: Option<f64>,
    /// Width of the statistics bins.
    pub bin_s: f64,
    pub bins: u64,
    pub empty_bins: u64,
    pub index_of_dispersion: Option<f64>,
    pub interarrival_cv: Option<f64>,
    /// Runs of time without data (binned traces).
    pub gaps: Option<u64>,
    pub gap_s: Option<f64>,
    pub longest_gap_s: f64,
    pub skipped_lines: u64,
    pub first_skipped_line: Option<u64>,
    pub reordered_lines: u64,
    pub sparkline: String,
}

/// Mean and sum of squared deviations of values added in groups of equal values (Welford,
/// with Chan et al.'s rule for merging a group).
#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add_many(&mut self, v: f64, k: u64) {
        if k == 0 {
            return;
        }
        let n = self.n + k;
        let delta = v - self.mean;
        self.mean += delta * k as f64 / n as f64;
        self.m2 += delta * delta * self.n as f64 * k as f64 / n as f64;
        self.n = n;
    }

    fn variance(&self) -> Option<f64> {
        (self.n >= 2).then(|| self.m2 / (self.n - 1) as f64)
    }
}

/// Arrivals per window of fixed width, streamed in time order.
#[derive(Debug)]
struct Windows {
    width: u64,
    /// Index of the open window and its arrivals so far.
    cur: u64,
    mass: f64,
    max: f64,
    moments: Moments,
    empty: u64,
    spark: Option<Spark>,
}

impl Windows {
    fn new(width: u64, spark: bool) -> Windows {
        Windows {
            width,
            cur: 0,
            mass: 0.0,
            max: 0.0,
            moments: Moments::default(),
            empty: 0,
            spark: spark.then(Spark::default),
        }
    }

    /// Closes `k` windows of `v` arrivals each.
    fn close_many(&mut self, v: f64, k: u64) {
        if k == 0 {
            return;
        }
        self.max = self.max.max(v);
        if v == 0.0 {
            self.empty += k;
        }
        self.moments.add_many(v, k);
        if let Some(s) = &mut self.spark {
            s.push_many(v, k);
        }
    }

    /// Moves to window `idx`, closing the open one and any in between (empty).
    fn advance_to(&mut self, idx: u64) {
        if idx > self.cur {
            self.close_many(self.mass, 1);
            self.close_many(0.0, idx - self.cur - 1);
            self.cur = idx;
            self.mass = 0.0;
        }
    }

    fn add_point(&mut self, t: u64) {
        self.advance_to(t / self.width);
        self.mass += 1.0;
    }

    /// Spreads `c` arrivals evenly over `[a, b)`.
    fn add_spread(&mut self, a: u64, b: u64, c: u64) {
        if b <= a {
            return;
        }
        let density = c as f64 / (b - a) as f64;
        let (first, last) = (a / self.width, (b - 1) / self.width);
        self.advance_to(first);
        if first == last {
            self.mass += c as f64;
            return;
        }
        self.mass += density * ((first + 1) * self.width - a) as f64;
        let full = last - first - 1;
        self.close_many(self.mass, 1);
        self.close_many(density * self.width as f64, full);
        self.cur = last;
        self.mass = density * (b - last * self.width) as f64;
    }

    /// Closes every window up to and including `last`.
    fn finish(&mut self, last: u64) {
        self.advance_to(last);
        self.close_many(self.mass, 1);
        self.mass = 0.0;
    }
}

/// A fixed number of buckets of consecutive windows, merged pairwise as the trace goes on.
#[derive(Debug, Default)]
struct Spark {
    /// Sum of arrivals of each bucket.
    sums: Vec<f64>,
    /// Windows per full bucket (a power of two).
    per: u64,
    /// Windows in the last bucket.
    in_last: u64,
}

impl Spark {
    fn push_many(&mut self, v: f64, mut k: u64) {
        if self.per == 0 {
            self.per = 1;
        }
        while k > 0 {
            if self.sums.is_empty() || self.in_last == self.per {
                if self.sums.len() == 2 * SPARK_WIDTH {
                    self.sums = self.sums.chunks(2).map(|p| p.iter().sum()).collect();
                    self.per *= 2;
                }
                if self.sums.is_empty() || self.in_last == self.per {
                    self.sums.push(0.0);
                    self.in_last = 0;
                }
            }
            let take = k.min(self.per - self.in_last);
            *self.sums.last_mut().expect("a bucket was pushed") += v * take as f64;
            self.in_last += take;
            k -= take;
        }
    }

    /// Mean arrivals per window of each character's buckets.
    fn render(&self) -> String {
        let mut means: Vec<(f64, u64)> = self
            .sums
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let n = if i + 1 == self.sums.len() {
                    self.in_last
                } else {
                    self.per
                };
                (s, n)
            })
            .collect();
        while means.len() > SPARK_WIDTH {
            means = means
                .chunks(2)
                .map(|p| p.iter().fold((0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1)))
                .collect();
        }
        let values: Vec<f64> = means
            .iter()
            .map(|&(s, n)| if n == 0 { 0.0 } else { s / n as f64 })
            .collect();
        let max = values.iter().cloned().fold(0.0, f64::max);
        const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        values
            .iter()
            .map(|&v| {
                if v <= 0.0 || max <= 0.0 {
                    ' '
                } else {
                    let level = (v / max * 8.0).ceil() as usize;
                    LEVELS[level.clamp(1, 8) - 1]
                }
            })
            .collect()
    }
}

/// Computes the statistics of every record of `reader`, with statistics bins of `bin_ns`
/// (the trace's own bin, or [`DEFAULT_BIN_NS`], when `None`).
pub fn inspect(
    reader: &mut dyn RecordReader,
    bin_ns: Option<u64>,
    path: &str,
    format: &str,
    format_reason: &str,
) -> Result<TraceStats, InputError> {
    let trace_bin = reader.bin_width();
    let bin = bin_ns.or(trace_bin).unwrap_or(DEFAULT_BIN_NS).max(1);
    let mut stats_w = Windows::new(bin, true);
    let mut second = Windows::new(NANOS_PER_SEC, false);
    let mut minute = Windows::new(60 * NANOS_PER_SEC, false);
    let mut arrivals = 0u64;
    let mut records = 0u64;
    // Per-request.
    let mut last: Option<u64> = None;
    let mut gaps_m = Moments::default();
    let mut longest = 0u64;
    // Binned.
    let mut end = 0u64;
    let mut gap_runs = 0u64;
    let mut gap_total = 0u64;
    let mut gap_run = 0u64;
    let mut in_gap = false;

    while let Some(rec) = reader.next_record()? {
        records += 1;
        match rec {
            Record::Arrival(t) => {
                arrivals += 1;
                if let Some(p) = last {
                    let g = t - p;
                    gaps_m.add_many(g as f64, 1);
                    longest = longest.max(g);
                }
                last = Some(t);
                stats_w.add_point(t);
                second.add_point(t);
                minute.add_point(t);
            }
            Record::Bin {
                start,
                width,
                count,
            } => {
                end = start.saturating_add(width);
                match count {
                    Some(c) => {
                        in_gap = false;
                        arrivals += c;
                        stats_w.add_spread(start, end, c);
                        second.add_spread(start, end, c);
                        minute.add_spread(start, end, c);
                    }
                    None => {
                        if !in_gap {
                            gap_runs += 1;
                            gap_run = 0;
                        }
                        in_gap = true;
                        gap_total += width;
                        gap_run += width;
                        longest = longest.max(gap_run);
                    }
                }
            }
        }
    }
    let per_request = trace_bin.is_none();
    let span = if per_request { last.unwrap_or(0) } else { end };
    // The last window: the one holding the last arrival, or reaching the end of the last bin.
    let last_window = |w: u64| {
        if per_request {
            span / w
        } else {
            span.div_ceil(w).max(1) - 1
        }
    };
    stats_w.finish(last_window(bin));
    second.finish(last_window(NANOS_PER_SEC));
    minute.finish(last_window(60 * NANOS_PER_SEC));

    let span_s = span as f64 / 1e9;
    let mean_rate = (span > 0).then(|| arrivals as f64 / span_s);
    let dispersion = match (stats_w.moments.variance(), stats_w.moments.mean) {
        (Some(v), m) if m > 0.0 => Some(v / m),
        _ => None,
    };
    let cv = match gaps_m.variance() {
        Some(v) if gaps_m.mean > 0.0 => Some(v.sqrt() / gaps_m.mean),
        _ => None,
    };
    let skipped = reader.skipped();
    Ok(TraceStats {
        path: path.to_string(),
        format: format.to_string(),
        format_reason: format_reason.to_string(),
        per_request,
        start: reader.origin().describe(),
        span_s,
        arrivals,
        records,
        mean_rate_per_s: mean_rate,
        mean_rate_per_min: mean_rate.map(|r| r * 60.0),
        peak_rate_per_s: second.max,
        peak_rate_per_min: minute.max,
        trace_bin_s: trace_bin.map(|b| b as f64 / 1e9),
        bin_s: bin as f64 / 1e9,
        bins: stats_w.moments.n,
        empty_bins: stats_w.empty,
        index_of_dispersion: dispersion,
        interarrival_cv: cv,
        gaps: (!per_request).then_some(gap_runs),
        gap_s: (!per_request).then_some(gap_total as f64 / 1e9),
        longest_gap_s: longest as f64 / 1e9,
        skipped_lines: skipped.lines,
        first_skipped_line: skipped.first_line,
        reordered_lines: skipped.clamped,
        sparkline: stats_w
            .spark
            .as_ref()
            .map(Spark::render)
            .unwrap_or_default(),
    })
}

/// A number for people: whole numbers as they are, others to 4 significant digits (at least
/// one decimal), without an exponent.
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(1, 12) as usize;
    format!("{v:.decimals$}")
}

/// The statistics as text for a terminal.
pub fn render_text(s: &TraceStats) -> String {
    let mut out = String::new();
    let opt = |v: Option<f64>| v.map_or("n/a".to_string(), num);
    let mut line = |k: &str, v: String| {
        out.push_str(&format!("{k:<20}{v}\n"));
    };
    line("trace", s.path.clone());
    line("format", format!("{} ({})", s.format, s.format_reason));
    line("time 0", s.start.clone());
    line("span", format!("{} s", num(s.span_s)));
    line("arrivals", s.arrivals.to_string());
    if let Some(b) = s.trace_bin_s {
        line(
            "trace bin",
            format!("{} s ({} bins with the gaps)", num(b), s.records),
        );
    }
    line(
        "mean rate",
        format!(
            "{} /s, {} /min",
            opt(s.mean_rate_per_s),
            opt(s.mean_rate_per_min)
        ),
    );
    line(
        "peak rate",
        format!(
            "{} /s, {} /min (busiest 1 s and 60 s windows)",
            num(s.peak_rate_per_s),
            num(s.peak_rate_per_min)
        ),
    );
    line(
        "bins",
        format!("{} of {} s, {} empty", s.bins, num(s.bin_s), s.empty_bins),
    );
    match (s.gaps, s.gap_s) {
        (Some(g), Some(t)) => line(
            "gaps (no data)",
            format!(
                "{g}, {} s in all, longest {} s",
                num(t),
                num(s.longest_gap_s)
            ),
        ),
        _ => line(
            "longest gap",
            format!("{} s between arrivals", num(s.longest_gap_s)),
        ),
    }
    line(
        "burstiness",
        format!(
            "index of dispersion {} (per {} s bin), inter-arrival CV {}",
            opt(s.index_of_dispersion),
            num(s.bin_s),
            opt(s.interarrival_cv)
        ),
    );
    if s.skipped_lines > 0 || s.reordered_lines > 0 {
        line(
            "skipped lines",
            format!(
                "{} not Common Log Format{}; {} replayed late (out of order)",
                s.skipped_lines,
                s.first_skipped_line
                    .map_or(String::new(), |l| format!(" (first at line {l})")),
                s.reordered_lines
            ),
        );
    }
    line("rate", format!("|{}|", s.sparkline));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::trace::Origin;

    /// A reader over a fixed list of records.
    struct List(Vec<Record>, usize, Option<u64>);
    impl RecordReader for List {
        fn next_record(&mut self) -> Result<Option<Record>, InputError> {
            self.1 += 1;
            Ok(self.0.get(self.1 - 1).copied())
        }
        fn rewind(&mut self) -> Result<(), InputError> {
            self.1 = 0;
            Ok(())
        }
        fn origin(&self) -> Origin {
            Origin::Seconds(0)
        }
        fn bin_width(&self) -> Option<u64> {
            self.2
        }
    }

    const S: u64 = NANOS_PER_SEC;

    #[test]
    fn per_request_figures_by_hand() {
        // Arrivals at 0, 0.5, 1, 4 s; 1 s bins: [3, 0, 0, 0, 1] (the last holds t = 4).
        let mut r = List(
            vec![
                Record::Arrival(0),
                Record::Arrival(S / 2),
                Record::Arrival(S),
                Record::Arrival(4 * S),
            ],
            0,
            None,
        );
        let s = inspect(&mut r, Some(S), "x", "timestamps", "given").unwrap();
        assert_eq!(s.arrivals, 4);
        assert_eq!(s.span_s, 4.0);
        assert_eq!(s.mean_rate_per_s, Some(1.0));
        // Per 1 s window: [2, 1, 0, 0, 1] (t = 1 s opens the second window, t = 4 s the fifth).
        assert_eq!(s.bins, 5);
        assert_eq!(s.empty_bins, 2);
        assert_eq!(s.peak_rate_per_s, 2.0);
        assert_eq!(s.peak_rate_per_min, 4.0);
        // Mean 0.8, sample variance 2.8 / 4.
        assert!((s.index_of_dispersion.unwrap() - 0.7 / 0.8).abs() < 1e-12);
        // Gaps 0.5, 0.5, 3 s: mean 4/3, sample variance 25/12.
        let cv = (25.0f64 / 12.0).sqrt() / (4.0 / 3.0);
        assert!((s.interarrival_cv.unwrap() - cv).abs() < 1e-12);
        assert_eq!(s.longest_gap_s, 3.0);
        assert_eq!(s.gaps, None);
    }

    #[test]
    fn binned_counts_spread_evenly() {
        // Two 60 s bins of 60 and 120, a missing minute, then 0.
        let m = 60 * S;
        let mut r = List(
            vec![
                Record::Bin {
                    start: 0,
                    width: m,
                    count: Some(60),
                },
                Record::Bin {
                    start: m,
                    width: m,
                    count: Some(120),
                },
                Record::Bin {
                    start: 2 * m,
                    width: m,
                    count: None,
                },
                Record::Bin {
                    start: 3 * m,
                    width: m,
                    count: Some(0),
                },
            ],
            0,
            Some(m),
        );
        let s = inspect(&mut r, None, "x", "counts", "given").unwrap();
        assert_eq!(s.arrivals, 180);
        assert_eq!(s.span_s, 240.0);
        assert_eq!(s.bins, 4);
        assert_eq!(s.empty_bins, 2);
        assert_eq!(s.peak_rate_per_min, 120.0);
        assert_eq!(s.peak_rate_per_s, 2.0);
        assert_eq!(s.gaps, Some(1));
        assert_eq!(s.gap_s, Some(60.0));
        // Counts per bin 60, 120, 0, 0: mean 45, sample variance 3300.
        assert!((s.index_of_dispersion.unwrap() - 3300.0 / 45.0).abs() < 1e-9);
        assert_eq!(s.sparkline.chars().count(), 4);
        assert!(s.sparkline.starts_with("▄█"));
    }

    #[test]
    fn moments_merge_groups_exactly() {
        let mut m = Moments::default();
        m.add_many(3.0, 2);
        m.add_many(0.0, 3);
        m.add_many(5.0, 1);
        // Values 3 3 0 0 0 5: mean 11/6.
        let vals = [3.0, 3.0, 0.0, 0.0, 0.0, 5.0];
        let mean = vals.iter().sum::<f64>() / 6.0;
        let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 5.0;
        assert!((m.mean - mean).abs() < 1e-12);
        assert!((m.variance().unwrap() - var).abs() < 1e-12);
    }

    #[test]
    fn sparkline_keeps_its_width() {
        let mut s = Spark::default();
        s.push_many(1.0, 1_000_000_007);
        s.push_many(5.0, 3);
        let r = s.render();
        assert!(
            r.chars().count() <= SPARK_WIDTH && r.chars().count() >= SPARK_WIDTH / 2,
            "{r}"
        );
    }
}
