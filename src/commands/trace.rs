//! `autoscale-sim trace ...`: inspect, convert and generate traces.
//!
//! Arguments are checked before anything is read: an option that does not apply to the trace's
//! format is an error, never silently ignored. Output files go through
//! [`autoscale_sim::output::atomic`]: whole or not at all, never over a special file, `-` for standard
//! output.

use autoscale_sim::error::{EXIT_OK, Error, InputError};
use autoscale_sim::output::atomic;
use autoscale_sim::output::target::{self, Kind};
use autoscale_sim::scenario;
use autoscale_sim::time::{SimDuration, parse_duration};
use autoscale_sim::workload::TraceFormat;
use autoscale_sim::workload::trace::datetime::TimeUnit;
use autoscale_sim::workload::trace::{self, ReadOptions, RecordReader, detect, inspect, write};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `autoscale-sim trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub command: TraceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TraceCommand {
    /// Summarise a trace: span, arrivals, mean and peak rates, gaps, burstiness, and a
    /// sparkline of the rate.
    Inspect(InspectArgs),
    /// Convert a trace to per-bin counts (the `counts` format), keeping every arrival.
    Convert(ConvertArgs),
    /// Write the synthetic workload of a scenario as a trace (replication 0, seeded as a run).
    Generate(GenerateArgs),
}

/// Which trace to read and how.
#[derive(Debug, clap::Args)]
pub struct TraceInput {
    /// The trace file.
    pub trace: PathBuf,
    /// Its format: counts, timestamps, azure or clf (inferred from the content and extension
    /// when absent).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<TraceFormat>,
    /// Bin width of a `counts` trace (default: the difference of its first two rows' times).
    #[arg(long = "input-bin", value_name = "DURATION", value_parser = parse_positive_duration)]
    pub input_bin: Option<SimDuration>,
    /// The Azure function (HashFunction) to read (default: all rows summed).
    #[arg(long, value_name = "HASH")]
    pub function: Option<String>,
    /// The unit of a counts or timestamps trace's numeric times: s, ms, us or ns (default s).
    #[arg(long = "time-unit", value_name = "UNIT", value_parser = parse_time_unit)]
    pub time_unit: Option<TimeUnit>,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub input: TraceInput,
    /// Width of the statistics bins (default: the trace's own bin, or 60s for per-request
    /// traces).
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub bin: Option<SimDuration>,
    /// Print the statistics as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub input: TraceInput,
    /// The counts file to write (`-` for standard output).
    #[arg(long)]
    pub out: PathBuf,
    /// Width of the output bins (default: the trace's own bin, or 60s for per-request traces).
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub bin: Option<SimDuration>,
    /// Lifts the limit on output rows (see docs/limits.md).
    #[arg(long)]
    pub allow_large: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GenerateKind {
    /// `time_s,count` per bin.
    Counts,
    /// `time_s`, one arrival per row.
    Timestamps,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The scenario whose workload to write.
    pub scenario: PathBuf,
    /// The trace file to write (`-` for standard output).
    #[arg(long)]
    pub out: PathBuf,
    /// Write counts per bin or one timestamp per arrival.
    #[arg(long = "as", value_enum, default_value = "counts")]
    pub kind: GenerateKind,
    /// Bin width for counts (default: the scenario's `interval`).
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub bin: Option<SimDuration>,
    /// Lifts the limit on output rows (see docs/limits.md).
    #[arg(long)]
    pub allow_large: bool,
}

fn parse_format(s: &str) -> Result<TraceFormat, String> {
    TraceFormat::parse(s).ok_or_else(|| format!("expected {}", TraceFormat::NAMES))
}

fn parse_time_unit(s: &str) -> Result<TimeUnit, String> {
    TimeUnit::parse(s).ok_or_else(|| format!("expected {}", TimeUnit::NAMES))
}

fn parse_positive_duration(s: &str) -> Result<SimDuration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err("expected a duration greater than zero".to_string()),
        d => Ok(d),
    }
}

/// Runs a `trace` subcommand; returns the exit status.
pub fn run(args: &TraceArgs) -> Result<i32, Error> {
    match &args.command {
        TraceCommand::Inspect(a) => run_inspect(a),
        TraceCommand::Convert(a) => run_convert(a),
        TraceCommand::Generate(a) => run_generate(a),
    }
}

/// Opens the input trace, with its format and why that format.
fn open_input(input: &TraceInput) -> Result<(Box<dyn RecordReader>, TraceFormat, String), Error> {
    let (format, reason) = match input.format {
        Some(f) => (f, "given by --format".to_string()),
        None => {
            let d = detect::detect(&input.trace)?;
            (
                d.format,
                format!("inferred: {}; --format overrides", d.reason),
            )
        }
    };
    if input.input_bin.is_some() && format != TraceFormat::Counts {
        return Err(InputError::new(format!(
            "--input-bin applies to the counts format only, and this trace is read as {}",
            format.name()
        ))
        .into());
    }
    if input.function.is_some() && format != TraceFormat::Azure {
        return Err(InputError::new(format!(
            "--function applies to the azure format only, and this trace is read as {}",
            format.name()
        ))
        .into());
    }
    if input.time_unit.is_some() && !matches!(format, TraceFormat::Counts | TraceFormat::Timestamps)
    {
        return Err(InputError::new(format!(
            "--time-unit applies to the counts and timestamps formats only, and this trace is read as {}",
            format.name()
        ))
        .into());
    }
    let reader = trace::open_reader(
        &input.trace,
        &ReadOptions {
            format,
            bin: input.input_bin,
            function: input.function.clone(),
            time_unit: input.time_unit.unwrap_or_default(),
        },
    )?;
    Ok((reader, format, reason))
}

fn run_inspect(a: &InspectArgs) -> Result<i32, Error> {
    let (mut reader, format, reason) = open_input(&a.input)?;
    let stats = inspect::inspect(
        reader.as_mut(),
        a.bin.map(|b| b.0),
        &a.input.trace.display().to_string(),
        format.name(),
        &reason,
    )?;
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&stats)
            .map_err(|e| Error::Other(format!("cannot write JSON: {e}")))?;
        s.push('\n');
        s
    } else {
        inspect::render_text(&stats)
    };
    super::print(&text)?;
    Ok(EXIT_OK)
}

fn run_convert(a: &ConvertArgs) -> Result<i32, Error> {
    check_out(&a.out)?;
    let (mut reader, _, _) = open_input(&a.input)?;
    let bin = a
        .bin
        .map(|b| b.0)
        .or(reader.bin_width())
        .unwrap_or(inspect::DEFAULT_BIN_NS);
    let written = write_atomically(&a.out, |out| {
        let max_rows = if a.allow_large {
            u64::MAX
        } else {
            scenario::limits::MAX_TRACE_ROWS
        };
        write::to_counts(reader.as_mut(), bin, out, max_rows)
    })?;
    eprintln!(
        "wrote {}: {} arrivals in {} bins of {} s{}",
        a.out.display(),
        written.arrivals,
        written.rows,
        bin as f64 / 1e9,
        if written.gap_rows > 0 {
            format!(" ({} without data)", written.gap_rows)
        } else {
            String::new()
        }
    );
    for note in reader.skipped().notes(&a.input.trace) {
        eprintln!("note: {note}");
    }
    Ok(EXIT_OK)
}

fn run_generate(a: &GenerateArgs) -> Result<i32, Error> {
    check_out(&a.out)?;
    let sc = scenario::load_allowing(&a.scenario, a.allow_large)?;
    let kind = match a.kind {
        GenerateKind::Counts => write::GenerateAs::Counts,
        GenerateKind::Timestamps => {
            if a.bin.is_some() {
                return Err(InputError::new(
                    "--bin applies to --as counts only (timestamps have no bins)",
                )
                .into());
            }
            write::GenerateAs::Timestamps
        }
    };
    let bin = a.bin.unwrap_or(sc.interval);
    if !a.allow_large {
        let (rows, what, key) = match kind {
            write::GenerateAs::Counts => (
                (sc.duration.as_secs_f64() / bin.as_secs_f64()).ceil(),
                "the number of rows (duration / bin)",
                "--bin",
            ),
            write::GenerateAs::Timestamps => (
                scenario::limits::expected_arrivals(&sc).unwrap_or(0.0),
                "the expected number of rows (one per arrival: mean rate × duration)",
                "duration",
            ),
        };
        if let Some(arrivals) = scenario::limits::expected_arrivals(&sc)
            && arrivals > sc.limits.arrivals as f64
        {
            let key = match &sc.workload {
                autoscale_sim::workload::WorkloadSpec::Mmpp { .. } => "workload.rates",
                autoscale_sim::workload::WorkloadSpec::Piecewise { steps } if steps.len() > 1 => {
                    "workload.steps"
                }
                _ => "workload.rate",
            };
            return Err(scenario::limits::exceeded(
                &sc,
                key,
                "arrivals",
                "the expected number of arrivals (mean rate × duration)",
                arrivals,
                sc.limits.arrivals,
            )
            .into());
        }
        if rows > scenario::limits::MAX_TRACE_ROWS as f64 {
            return Err(InputError::new(format!(
                "{what} is {}, above the limit of {}; if that is intended, run with --allow-large (see docs/limits.md)",
                autoscale_sim::error::num(rows),
                scenario::limits::MAX_TRACE_ROWS
            ))
            .in_file(&a.scenario)
            .key(key)
            .into());
        }
    }
    let n = write_atomically(&a.out, |out| {
        write::generate(&sc.workload, sc.seed, sc.duration, kind, bin, out)
    })?;
    eprintln!(
        "wrote {}: {n} arrivals over {} s of scenario {} (seed {}, replication 0)",
        a.out.display(),
        sc.duration.as_secs_f64(),
        sc.name,
        sc.seed
    );
    Ok(EXIT_OK)
}

/// Writes `--out` through `f`: standard output for `-`, else a file written whole or not at
/// all (see [`atomic`]). The path is checked before `f` runs.
fn write_atomically<T>(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> Result<T, Error>,
) -> Result<T, Error> {
    atomic::write_out(path, f)
}

/// Refuses an `--out` that cannot be written (a special file, a folder) before any input is
/// read.
fn check_out(path: &Path) -> Result<(), Error> {
    if path != Path::new("-") {
        target::resolve(path, Kind::File, "--out")?;
    }
    Ok(())
}
