//! Replaying a trace: windowing, time compression, rate scaling and looping on top of a
//! format's records.
//!
//! In the order they apply (all trace times are from the trace's first record):
//! 1. **Window**: only trace time `[start, start + duration)` is replayed (to the end of the
//!    trace without `duration`), and `start` becomes simulated time 0. A bin that straddles an
//!    edge has its arrivals placed over the whole bin and those outside dropped. A `start` at
//!    or after the end of the trace is an error.
//! 2. **Bins to arrivals**: a bin of count N gives exactly N arrivals (before scaling), placed
//!    uniformly at random inside the bin, in time order (see [`super::placement`]).
//! 3. **Scale** (the rate factor): each recorded arrival is replayed `floor(scale)` times plus
//!    once more with probability `frac(scale)`; below 1 this keeps each arrival with
//!    probability `scale`. A bin of N gives `floor(scale) N + Binomial(N, frac(scale))`
//!    arrivals, placed uniformly in the bin. For per-request traces the arrival itself stays
//!    where it is and its extra copies are placed uniformly at random between it and the next
//!    recorded arrival (the last arrival's copies within one mean inter-arrival gap after it),
//!    so the added load follows the trace's own rate at the resolution of its gaps rather than
//!    arriving in simultaneous batches. Scale 1 replays the trace as recorded and draws nothing.
//! 4. **Speedup**: trace time t (from the window start) is replayed at t / speedup, rounded to
//!    the nanosecond.
//! 5. **End of the trace**: with `on_end = "loop"` the windowed trace is replayed again, back to
//!    back, as often as needed; each copy draws its own placements and scaling. A copy lasts
//!    `duration` when given; otherwise, for a binned trace, until the end of its last bin, and
//!    for a per-request trace, until one mean inter-arrival gap after its last arrival (the
//!    mean over the window: (last - first) / (n - 1)). A window that holds no recorded arrival
//!    is not repeated. With `"stop"` and `"error"` the source is exhausted at the end of the
//!    trace ([`ArrivalSource::fill`] returns 0); the simulation decides what that means.
//!
//! Every random choice comes from the `rng` given to [`Replay::new`] (the replication's
//! `arrivals` stream), in trace order, so every policy of a replication sees the same replay.
//! Memory: the format reader's (constant), one pending arrival and one placement in progress.

use super::placement::{Scale, Uniform};
use super::{Record, RecordReader, Skipped};
use crate::error::InputError;
use crate::rng::SimRng;
use crate::time::SimTime;
use crate::workload::{ArrivalSource, TraceEnd, TraceSpec};
use rand::RngExt;
use std::path::PathBuf;

/// Arrivals still to be put out: one fixed arrival, then uniform points (absolute trace time).
struct Pending {
    first: Option<u64>,
    rest: Uniform,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Reading,
    /// The pass is over; the next step starts another or finishes.
    Ended,
    Finished,
}

/// What one pass over the window has seen.
#[derive(Clone, Copy, Debug, Default)]
struct Pass {
    /// Whether any record reached into the window.
    seen: bool,
    /// Recorded (unscaled) arrivals in the window.
    recorded: u64,
    /// First and last recorded arrival (per-request traces), from the window start.
    first: Option<u64>,
    last: u64,
    /// End of the last bin (binned traces), from the window start.
    end: u64,
}

/// A trace replayed as an [`ArrivalSource`].
pub struct Replay<R: RecordReader> {
    reader: R,
    path: PathBuf,
    rng: SimRng,
    win_start: u64,
    win_len: Option<u64>,
    speedup: f64,
    scale: Scale,
    looping: bool,
    /// Trace time, from the first pass's window start, at which the current pass begins.
    base: u64,
    phase: Phase,
    pass: Pass,
    passes: u64,
    /// Per-request traces scaled above 1: the last arrival read, not yet put out.
    held: Option<u64>,
    pending: Option<Pending>,
    /// Lines the first pass skipped (access logs).
    first_pass_skipped: Option<Skipped>,
}

impl<R: RecordReader> Replay<R> {
    pub fn new(reader: R, spec: &TraceSpec, rng: SimRng) -> Replay<R> {
        Replay {
            reader,
            path: spec.path.clone(),
            rng,
            win_start: spec.start.0,
            win_len: spec.duration.map(|d| d.0),
            speedup: spec.speedup,
            scale: Scale::new(spec.scale),
            looping: spec.on_end == TraceEnd::Loop,
            base: 0,
            phase: Phase::Reading,
            pass: Pass::default(),
            passes: 0,
            held: None,
            pending: None,
            first_pass_skipped: None,
        }
    }

    /// Simulated time of window time `x` in the current pass.
    #[inline]
    fn sim_time(&self, x: u64) -> SimTime {
        let t = self.base.saturating_add(x);
        if self.speedup == 1.0 {
            SimTime(t)
        } else {
            SimTime((t as f64 / self.speedup).round() as u64)
        }
    }

    /// Window time of absolute trace time `t`, if it is inside the window.
    #[inline]
    fn in_window(&self, t: u64) -> Option<u64> {
        let x = t.checked_sub(self.win_start)?;
        match self.win_len {
            Some(len) if x >= len => None,
            _ => Some(x),
        }
    }

    /// Reads one record; may push arrivals, start a placement, or end the pass.
    #[inline]
    fn read_one(&mut self, out: &mut Vec<SimTime>, n: &mut usize) -> Result<(), InputError> {
        match self.reader.next_record()? {
            Some(Record::Arrival(t)) => {
                if t < self.win_start {
                    return Ok(());
                }
                let x = t - self.win_start;
                if self.win_len.is_some_and(|len| x >= len) {
                    return self.end_pass(Some(x));
                }
                self.pass.seen = true;
                self.pass.recorded += 1;
                self.pass.first.get_or_insert(x);
                self.pass.last = x;
                if self.scale.is_one() {
                    out.push(self.sim_time(x));
                    *n += 1;
                } else if self.scale.whole == 0 {
                    if self.rng.random::<f64>() < self.scale.frac {
                        out.push(self.sim_time(x));
                        *n += 1;
                    }
                } else if let Some(h) = self.held.replace(x) {
                    self.copies_of(h, x);
                }
                Ok(())
            }
            Some(Record::Bin {
                start,
                width,
                count,
            }) => {
                let end = start.saturating_add(width);
                if end <= self.win_start {
                    return Ok(());
                }
                if self
                    .win_len
                    .is_some_and(|len| start >= self.win_start.saturating_add(len))
                {
                    return self.end_pass(None);
                }
                self.pass.seen = true;
                self.pass.end = end - self.win_start;
                if let Some(c) = count.filter(|&c| c > 0) {
                    self.pass.recorded += c;
                    let m = self.scale.count(c, &mut self.rng);
                    self.pending = Some(Pending {
                        first: None,
                        rest: Uniform::new(start, width, m),
                    });
                }
                Ok(())
            }
            None => self.end_pass(None),
        }
    }

    /// Puts out held arrival `h` (window time) and its extra copies, placed in `[h, upto)`.
    fn copies_of(&mut self, h: u64, upto: u64) {
        let extra = self.scale.copies(&mut self.rng) - 1;
        let at = self.win_start + h;
        self.pending = Some(Pending {
            first: Some(at),
            rest: Uniform::new(at, upto.saturating_sub(h), extra),
        });
    }

    /// The mean gap between recorded arrivals of the pass (0 with fewer than two).
    fn mean_gap(&self) -> u64 {
        match self.pass.first {
            Some(f) if self.pass.recorded >= 2 => (self.pass.last - f) / (self.pass.recorded - 1),
            _ => 0,
        }
    }

    /// Length of the current pass, in window time: where the next copy starts when looping.
    fn pass_length(&self) -> u64 {
        if let Some(len) = self.win_len {
            return len;
        }
        if self.pass.first.is_some() {
            self.pass.last + self.mean_gap()
        } else {
            self.pass.end
        }
    }

    /// Ends the pass at the window's end (`beyond`: the first arrival past it) or the trace's.
    fn end_pass(&mut self, beyond: Option<u64>) -> Result<(), InputError> {
        if self.passes == 0 {
            if !self.pass.seen && beyond.is_none() {
                return Err(InputError::new(format!(
                    "the replay window starts at {} s of trace time (`start`), at or after the end of the trace",
                    self.win_start as f64 / 1e9
                ))
                .in_file(&self.path)
                .key("start"));
            }
            self.first_pass_skipped = Some(self.reader.skipped());
        }
        if let Some(h) = self.held.take() {
            let upto = beyond
                .unwrap_or(h + self.mean_gap())
                .min(self.pass_length());
            self.copies_of(h, upto);
        }
        self.phase = Phase::Ended;
        Ok(())
    }

    /// Starts the next pass when looping, or finishes.
    fn next_pass(&mut self) -> Result<(), InputError> {
        if !self.looping || self.pass.recorded == 0 {
            self.phase = Phase::Finished;
            return Ok(());
        }
        let length = self.pass_length();
        if length == 0 {
            return Err(InputError::new(
                "cannot loop this trace: its replayed window spans no time (all its arrivals are at one instant); give `duration` to set the length of one copy",
            )
            .in_file(&self.path)
            .key("on_end"));
        }
        let copy_s = length as f64 / self.speedup / 1e9;
        if copy_s < 1e-3 {
            return Err(InputError::new(format!(
                "cannot loop this trace: one replayed copy lasts {} s of simulated time (its length {} s / speedup {}), less than 1ms; lower `speedup` or give a longer `duration` (see docs/limits.md)",
                crate::error::num(copy_s),
                length as f64 / 1e9,
                crate::error::num(self.speedup)
            ))
            .in_file(&self.path)
            .key("speedup"));
        }
        self.base = self.base.saturating_add(length);
        self.reader.rewind()?;
        self.pass = Pass::default();
        self.passes += 1;
        self.phase = Phase::Reading;
        Ok(())
    }
}

impl<R: RecordReader> ArrivalSource for Replay<R> {
    fn fill(&mut self, out: &mut Vec<SimTime>, max: usize) -> Result<usize, InputError> {
        let mut n = 0;
        while n < max {
            if let Some(p) = &mut self.pending {
                let next = match p.first.take() {
                    Some(t) => Some(t),
                    None => p.rest.next(&mut self.rng),
                };
                match next {
                    Some(t) => {
                        if let Some(x) = self.in_window(t) {
                            out.push(self.sim_time(x));
                            n += 1;
                        }
                        continue;
                    }
                    None => self.pending = None,
                }
            }
            match self.phase {
                Phase::Reading => self.read_one(out, &mut n)?,
                Phase::Ended => self.next_pass()?,
                Phase::Finished => break,
            }
        }
        Ok(n)
    }

    fn covered_until(&self) -> Option<SimTime> {
        (self.phase == Phase::Finished).then(|| self.sim_time(self.pass_length()))
    }

    fn notes(&self) -> Vec<String> {
        self.first_pass_skipped
            .unwrap_or_else(|| self.reader.skipped())
            .notes(&self.path)
    }
}
