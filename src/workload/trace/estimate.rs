//! A trace's arrivals estimated before a run, for the `[limits] arrivals` guard.
//!
//! The trace is read from its start, through the same reader a replay uses, for at most
//! [`SAMPLE_RECORDS`] records (a fraction of a second): a trace that ends within them is known
//! exactly (its arrivals and span); a longer one by the rate of what was read, assumed to go
//! on. A replay of `duration` then holds about `scale × rate × speedup × duration` arrivals,
//! and no more than the trace holds (times `scale`) unless it loops. A trace that cannot be
//! read gives no estimate: the run reports why when it opens it.

use super::{ReadOptions, Record, open_reader};
use crate::time::SimDuration;
use crate::workload::{TraceEnd, TraceSpec};

/// The most records read for an estimate.
pub const SAMPLE_RECORDS: u64 = 1_000_000;

/// What the start of a trace says about it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Arrivals read.
    pub arrivals: f64,
    /// Trace time read, in seconds (to the end of the last bin; to the last arrival for a
    /// per-request trace).
    pub span_s: f64,
    /// Whether the whole trace was read.
    pub complete: bool,
}

impl Sample {
    /// Reads the start of the trace of `spec` (`None` if it cannot be read).
    pub fn read(spec: &TraceSpec) -> Option<Sample> {
        let opts = ReadOptions {
            format: spec.format,
            bin: spec.bin,
            function: spec.function.clone(),
            time_unit: spec.time_unit,
        };
        let mut reader = open_reader(&spec.path, &opts).ok()?;
        let mut arrivals = 0.0;
        let mut end = 0u64;
        for _ in 0..SAMPLE_RECORDS {
            match reader.next_record() {
                Ok(Some(Record::Arrival(t))) => {
                    arrivals += 1.0;
                    end = end.max(t);
                }
                Ok(Some(Record::Bin {
                    start,
                    width,
                    count,
                })) => {
                    arrivals += count.unwrap_or(0) as f64;
                    end = end.max(start.saturating_add(width));
                }
                Ok(None) => {
                    return Some(Sample {
                        arrivals,
                        span_s: end as f64 / 1e9,
                        complete: true,
                    });
                }
                Err(_) => return None,
            }
        }
        Some(Sample {
            arrivals,
            span_s: end as f64 / 1e9,
            complete: false,
        })
    }

    /// The arrivals a replay of `spec` over `duration` of simulated time is expected to hold.
    pub fn replayed(&self, spec: &TraceSpec, duration: SimDuration) -> f64 {
        let sim_s = duration.as_secs_f64();
        // Trace time the run covers: its duration sped up, within the window if one is given.
        let mut covered = sim_s * spec.speedup;
        if spec.on_end != TraceEnd::Loop
            && let Some(d) = spec.duration
        {
            covered = covered.min(d.as_secs_f64());
        }
        let by_rate = if self.span_s > 0.0 {
            self.arrivals / self.span_s * covered
        } else {
            // Every arrival read at one instant: the whole sample, again each time it loops.
            self.arrivals
        };
        let recorded = if self.complete && spec.on_end != TraceEnd::Loop {
            by_rate.min(self.arrivals)
        } else {
            by_rate
        };
        spec.scale * recorded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::TraceFormat;

    fn spec(text: &str, format: TraceFormat) -> TraceSpec {
        let path = std::env::temp_dir().join(format!(
            "autoscale-sim-estimate-{}-{}.csv",
            std::process::id(),
            format.name()
        ));
        std::fs::write(&path, text).unwrap();
        TraceSpec::new(path, format)
    }

    #[test]
    fn a_short_trace_is_counted_exactly_and_scaled() {
        // Three bins of 60 s: 180 s, 1e15 arrivals.
        let mut s = spec("0,1000000000000000\n60,0\n120,\n", TraceFormat::Counts);
        let sample = Sample::read(&s).unwrap();
        assert_eq!(
            sample,
            Sample {
                arrivals: 1e15,
                span_s: 180.0,
                complete: true
            }
        );
        // Stopping at its end: all of it once, however long the run.
        assert_eq!(sample.replayed(&s, SimDuration::from_secs(3600)), 1e15);
        // Half of it in 90 s.
        assert_eq!(sample.replayed(&s, SimDuration::from_secs(90)), 5e14);
        // Looped for an hour: 20 copies; scaled by 2: 40.
        s.on_end = TraceEnd::Loop;
        s.scale = 2.0;
        assert_eq!(sample.replayed(&s, SimDuration::from_secs(3600)), 4e16);
    }

    #[test]
    fn a_long_trace_is_estimated_by_its_rate() {
        // Arrivals every 10 ms, more than the sample reads: 100 per second.
        let text: String = (0..SAMPLE_RECORDS + 10)
            .map(|i| format!("{}\n", i as f64 / 100.0))
            .collect();
        let mut s = spec(&text, TraceFormat::Timestamps);
        let sample = Sample::read(&s).unwrap();
        assert!(!sample.complete);
        let per_s = sample.replayed(&s, SimDuration::from_secs(1));
        assert!((per_s - 100.0).abs() < 1e-3, "{per_s}");
        s.speedup = 1000.0;
        let sped = sample.replayed(&s, SimDuration::from_secs(1));
        assert!((sped - 1e5).abs() < 1.0, "{sped}");
    }

    #[test]
    fn an_unreadable_trace_gives_no_estimate() {
        let s = spec("time_s\n1\n0\n", TraceFormat::Timestamps);
        assert_eq!(Sample::read(&s), None);
    }
}
