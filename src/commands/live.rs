//! `autoscale-sim live`: live mode on a Docker engine (see [`crate::live`]).

use crate::commands::serve::duration_arg;
use crate::error::{Error, InputError};
use crate::live::docker::{Engine, LABEL_MANAGED, LABEL_RUN};
use crate::live::executor::{self, ExecOptions, Links};
use crate::live::image::{self, DEFAULT_IMAGE};
use crate::live::plan;
use crate::time::SimDuration;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `autoscale-sim live`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LiveArgs {
    #[command(subcommand)]
    pub command: Option<LiveCommand>,
    #[command(flatten)]
    pub run: PlanArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum LiveCommand {
    /// Build the workload image autoscale-sim-workload:latest (no registry needed).
    Image(ImageArgs),
}

/// Arguments of `autoscale-sim live image`.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The autoscale-sim executable to put in the image [default: this one]. A statically
    /// linked one goes in alone; a dynamically linked one with its shared libraries.
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
}

/// Arguments of `autoscale-sim live --plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The plan to apply: a CSV file `time_s,replicas` (containers ready from each time on).
    #[arg(long, value_name = "plan.csv", required_unless_present = "cleanup")]
    pub plan: Option<PathBuf>,
    /// The image whose containers serve the load.
    #[arg(long, default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// Plan seconds per wall-clock second (wall time = plan time / speedup).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speedup: f64,
    /// Print the actions with their times, and touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave the containers running at the end (remove them later with --cleanup).
    #[arg(long)]
    pub keep: bool,
    /// Where the plan ends, in plan time [default: one interval after its last row].
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub duration: Option<SimDuration>,
    /// Wall time by which containers start ahead of the step that needs them.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = duration_arg)]
    pub lead: SimDuration,
    /// Wall time a new container has to answer /healthz before the run fails.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration_arg)]
    pub ready_timeout: SimDuration,
    /// Wall time a container taken out of service has to finish its requests.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration_arg)]
    pub drain_timeout: SimDuration,
    /// The run's id, in the label autoscale-sim.run and the container names [default: from
    /// the clock and the process id]. With --cleanup: remove only that run's containers.
    #[arg(long, value_name = "ID", value_parser = run_id_arg)]
    pub run_id: Option<String>,
    /// Remove the containers left by earlier runs (label autoscale-sim.managed=true), and
    /// nothing else.
    #[arg(long, conflicts_with_all = ["plan", "dry_run", "keep", "duration"])]
    pub cleanup: bool,
}

/// A run id: letters, digits, `_`, `.` and `-`, starting with a letter or digit (it becomes
/// part of container names).
fn run_id_arg(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(text.to_string())
    } else {
        Err(format!(
            "expected up to 64 letters, digits, '_', '.' or '-', starting with a letter or digit, found \"{text}\""
        ))
    }
}

pub fn run(args: &LiveArgs) -> Result<i32, Error> {
    match &args.command {
        Some(LiveCommand::Image(a)) => build_image(a),
        None if args.run.cleanup => cleanup(&args.run),
        None => run_plan(&args.run),
    }
}

/// A runtime for the engine's API calls.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the tokio runtime", e))
}

fn build_image(args: &ImageArgs) -> Result<i32, Error> {
    let binary = match &args.binary {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| Error::io("cannot find the running executable", e))?,
    };
    let built = runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        image::build(&engine, &binary, DEFAULT_IMAGE).await
    })?;
    println!(
        "built {} ({}) from {} ({})",
        built.tag,
        built.id,
        built.binary.display(),
        built.linking.describe()
    );
    Ok(0)
}

fn cleanup(args: &PlanArgs) -> Result<i32, Error> {
    let removed = runtime()?.block_on(async {
        let engine = Engine::connect().await?;
        let list = match &args.run_id {
            Some(run) => engine.containers_labelled(LABEL_RUN, run).await?,
            None => engine.containers_labelled(LABEL_MANAGED, "true").await?,
        };
        for c in &list {
            engine.remove_container(&c.id).await?;
        }
        Ok::<_, Error>(list)
    })?;
    for c in &removed {
        println!(
            "removed {} (run {}, {})",
            c.name,
            c.labels.get(LABEL_RUN).map_or("?", String::as_str),
            c.state
        );
    }
    println!("removed {} container(s)", removed.len());
    Ok(0)
}

fn wall(d: SimDuration) -> Duration {
    Duration::from_nanos(d.0)
}

fn check_speedup(speedup: f64) -> Result<f64, InputError> {
    if speedup.is_finite() && speedup > 0.0 {
        Ok(speedup)
    } else {
        Err(InputError::new(format!(
            "expected a speed-up greater than 0 (plan seconds per wall second), found {speedup}"
        ))
        .key("--speedup"))
    }
}

fn run_plan(args: &PlanArgs) -> Result<i32, Error> {
    let path = args
        .plan
        .as_ref()
        .ok_or_else(|| InputError::new("expected a plan file").key("--plan"))?;
    let speedup = check_speedup(args.speedup)?;
    let plan = plan::load(path, args.duration)?;
    if args.dry_run {
        println!(
            "dry run: {} ({} steps, {} s of plan time, {} s of wall time at speed-up {speedup}); image {}; nothing is started",
            path.display(),
            plan.spans().count(),
            plan.end.as_secs_f64(),
            plan.end.as_secs_f64() / speedup,
            args.image
        );
        for line in executor::dry_run(&plan, speedup, wall(args.lead)) {
            println!("{line}");
        }
        return Ok(0);
    }
    let run_id = args.run_id.clone().unwrap_or_else(default_run_id);
    let opts = ExecOptions {
        image: args.image.clone(),
        speedup,
        lead: wall(args.lead),
        ready_timeout: wall(args.ready_timeout),
        drain_timeout: wall(args.drain_timeout),
        end_linger: wall(args.drain_timeout),
        keep: args.keep,
        serve_args: Vec::new(),
        run_id: run_id.clone(),
        progress: true,
    };
    let report = runtime()?.block_on(async {
        let signal = crate::live::shutdown_signal()?;
        let engine = Engine::connect().await?;
        println!(
            "run {run_id}: {} ({} steps, {} s of plan time at speed-up {speedup}), image {}, Docker engine {} (API {})",
            path.display(),
            plan.spans().count(),
            plan.end.as_secs_f64(),
            opts.image,
            engine.engine_version,
            engine.api_version
        );
        executor::execute(&engine, &plan, &opts, Links::none(), signal).await
    })?;
    println!(
        "{:>10} {:>9} {:>14} {:>8} {:>10} {:>10}",
        "time_s", "replicas", "ready_at_step", "lag_s", "min_ready", "max_ready"
    );
    for s in &report.steps {
        let (lag, lo, hi) = match s.lag_s {
            Some(l) => (
                format!("{l:.3}"),
                s.min_ready.to_string(),
                s.max_ready.to_string(),
            ),
            None => ("never".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>10} {:>9} {:>14} {lag:>8} {lo:>10} {hi:>10}",
            s.time_s, s.replicas, s.ready_at_step
        );
    }
    let ending = if report.kept.is_empty() {
        "removed every container of the run".to_string()
    } else {
        format!(
            "kept {} container(s) running: {} (remove them with `autoscale-sim live --cleanup --run-id {run_id}`)",
            report.kept.len(),
            report.kept.join(", ")
        )
    };
    println!(
        "created {} container(s), replaced {} that died; {ending}",
        report.created, report.replaced
    );
    if let Some(sig) = report.interrupted {
        eprintln!("interrupted by {sig} before the end of the plan");
        return Ok(crate::error::EXIT_FAILURE);
    }
    Ok(0)
}

/// `r<unix seconds>-<process id>`: unique on one machine.
fn default_run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("r{secs}-{}", std::process::id())
}
