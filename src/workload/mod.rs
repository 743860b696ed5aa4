//! Arrival processes: where requests come from.
//!
//! An [`ArrivalSource`] yields arrival times in non-decreasing order, lazily, in batches: a run
//! never holds more than one batch, whatever the length of the workload. Synthetic generators
//! live in [`synthetic`], recorded traces in [`trace`]. Every source draws from the `arrivals`
//! random stream of its replication only, so every policy of a replication sees the very same
//! arrivals (common random numbers).

pub mod synthetic;
pub mod trace;

use crate::error::InputError;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

use std::path::PathBuf;

/// A lazily generated, time-ordered stream of arrivals.
pub trait ArrivalSource: Send {
    /// Appends up to `max` further arrival times, in non-decreasing order and no earlier than
    /// any time returned before, to `out`. Returns how many were appended; 0 means the source
    /// is exhausted and will yield nothing more.
    ///
    /// A recorded trace may find a malformed line only when it reaches it: that is an
    /// [`InputError`] naming the file, line and column.
    fn fill(&mut self, out: &mut Vec<SimTime>, max: usize) -> Result<usize, InputError>;

    /// Remarks about the input to show the user once the source has been read, such as lines
    /// of an access log that were skipped. None for synthetic sources.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Once [`fill`](Self::fill) has returned 0: the simulated time up to which the input
    /// covered, when the source knows it. For a trace, the end of its replayed window: the end
    /// of its last bin, or one mean inter-arrival gap after its last arrival. `None` for
    /// sources that do not end on their own.
    fn covered_until(&self) -> Option<SimTime> {
        None
    }

    /// The arrivals of each whole second `0..seconds`, counted without generating each
    /// arrival, and exactly those [`fill`](Self::fill) would yield, when the source can; `None`
    /// otherwise, and once anything has been read. A source that answers is left as it was.
    fn counts_per_second(&mut self, _seconds: u64) -> Option<Vec<u64>> {
        None
    }
}

/// A validated workload of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadSpec {
    /// Non-homogeneous Poisson with rate(t) = rate (1 + amplitude sin(2π (t/period + phase))).
    Diurnal {
        rate: f64,
        amplitude: f64,
        period: SimDuration,
        phase: f64,
    },
    /// Piecewise-constant Poisson rate: from each start time on, that rate (per second).
    /// `poisson`, `step` and `spike` workloads all take this form after validation.
    Piecewise { steps: Vec<(SimTime, f64)> },
    /// Markov-modulated Poisson process: in state i arrivals come at `rates[i]`, and the
    /// state lasts an exponential time of mean `mean_durations[i]`.
    Mmpp {
        rates: Vec<f64>,
        mean_durations: Vec<SimDuration>,
    },
    /// A recorded trace replayed from a file.
    Trace(TraceSpec),
}

/// The file formats of recorded traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// Two columns, bin start time and arrival count.
    Counts,
    /// One arrival per line, its time in the first column.
    Timestamps,
    /// Azure Functions 2019 per-minute invocation counts.
    Azure,
    /// Common or Combined Log Format access logs.
    Clf,
}

impl TraceFormat {
    pub const NAMES: &'static str = "\"counts\", \"timestamps\", \"azure\" or \"clf\"";

    pub fn parse(name: &str) -> Option<TraceFormat> {
        match name {
            "counts" => Some(TraceFormat::Counts),
            "timestamps" => Some(TraceFormat::Timestamps),
            "azure" => Some(TraceFormat::Azure),
            "clf" => Some(TraceFormat::Clf),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Counts => "counts",
            TraceFormat::Timestamps => "timestamps",
            TraceFormat::Azure => "azure",
            TraceFormat::Clf => "clf",
        }
    }
}

/// What a replay does when the scenario lasts longer than the (windowed, rescaled) trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEnd {
    /// No more arrivals; the run goes on to its end with an empty workload (a note is printed).
    Stop,
    /// Replay the trace again from its start, as many times as needed.
    Loop,
    /// Fail with a bad-input error.
    Error,
}

/// A validated `type = "trace"` workload.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpec {
    /// The trace file, resolved against the scenario file's folder.
    pub path: PathBuf,
    pub format: TraceFormat,
    /// Bin width of a `counts` trace; inferred from the first two rows when absent.
    pub bin: Option<SimDuration>,
    /// Multiplies the arrival rate (thinning below 1, added arrivals above 1).
    pub scale: f64,
    /// Compresses time: an arrival at trace time t is replayed at t / speedup.
    pub speedup: f64,
    /// Start of the replayed window, in trace time from the trace's first record.
    pub start: SimDuration,
    /// Length of the replayed window, in trace time; the whole rest of the trace when absent.
    pub duration: Option<SimDuration>,
    /// What happens when the scenario outlasts the replayed window.
    pub on_end: TraceEnd,
    /// The Azure function (HashFunction) to replay; all rows summed when absent.
    pub function: Option<String>,
    /// The unit of numeric times (`counts` and `timestamps`; seconds by default).
    pub time_unit: trace::datetime::TimeUnit,
}

impl TraceSpec {
    /// The whole trace at `path`, replayed as recorded: no rescaling, speed-up or window, one
    /// pass, times in seconds.
    pub fn new(path: PathBuf, format: TraceFormat) -> TraceSpec {
        TraceSpec {
            path,
            format,
            bin: None,
            scale: 1.0,
            speedup: 1.0,
            start: SimDuration::ZERO,
            duration: None,
            on_end: TraceEnd::Stop,
            function: None,
            time_unit: Default::default(),
        }
    }
}

/// Opens the arrival stream of `spec` for one replication, drawing from `rng` (the
/// replication's `arrivals` stream).
pub fn open(spec: &WorkloadSpec, rng: SimRng) -> Result<Box<dyn ArrivalSource>, InputError> {
    Ok(match spec {
        WorkloadSpec::Diurnal {
            rate,
            amplitude,
            period,
            phase,
        } => Box::new(synthetic::Diurnal::new(
            *rate, *amplitude, *period, *phase, rng,
        )),
        WorkloadSpec::Piecewise { steps } => {
            Box::new(synthetic::Piecewise::new(steps.clone(), rng))
        }
        WorkloadSpec::Mmpp {
            rates,
            mean_durations,
        } => Box::new(synthetic::Mmpp::new(
            rates.clone(),
            mean_durations.clone(),
            rng,
        )),
        WorkloadSpec::Trace(t) => trace::open(t, rng)?,
    })
}
