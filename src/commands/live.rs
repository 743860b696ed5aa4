//! `autoscale-sim live`: live mode on a Docker engine (see [`autoscale_sim::live`]).

use crate::commands::serve::duration_arg;
use autoscale_sim::error::{Error, InputError};
use autoscale_sim::live::docker::{Engine, LABEL_MANAGED, LABEL_RUN};
use autoscale_sim::live::executor::{self, ExecOptions};
use autoscale_sim::live::image::{self, DEFAULT_IMAGE};
use autoscale_sim::live::session::{self, runtime};
use autoscale_sim::live::{compare, plan, replay};
use autoscale_sim::scenario;
use autoscale_sim::time::SimDuration;
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
    /// The most containers the plan may ask for at once (a plan above it is refused, dry run
    /// included).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONTAINERS)]
    pub max_containers: u32,
    /// Leave the containers running at the end (remove them later with --cleanup).
    #[arg(long)]
    pub keep: bool,
    /// Also replay this scenario's workload as real HTTP requests, through a load balancer of
    /// its kind, and compare the measurements with the plan simulated on it.
    #[arg(long, value_name = "SCENARIO.toml", requires = "out")]
    pub scenario: Option<PathBuf>,
    /// Folder for live-timeline.csv and sim-vs-live.csv (with --scenario).
    #[arg(long, value_name = "DIR", requires = "scenario")]
    pub out: Option<PathBuf>,
    /// Where the plan ends, in plan time [default: the scenario's duration, else one interval
    /// after the plan's last row].
    #[arg(long, value_name = "DURATION", value_parser = duration_arg, conflicts_with = "scenario")]
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
    #[arg(long, conflicts_with_all = ["plan", "dry_run", "keep", "duration", "scenario"])]
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
    outln!(
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
        outln!(
            "removed {} (run {}, {})",
            c.name,
            c.labels.get(LABEL_RUN).map_or("?", String::as_str),
            c.state
        );
    }
    outln!("removed {} container(s)", removed.len());
    Ok(0)
}

fn wall(d: SimDuration) -> Duration {
    Duration::from_nanos(d.0)
}

/// The most containers `live --plan` starts without `--max-containers`: more than one
/// machine's Docker engine runs comfortably.
pub const DEFAULT_MAX_CONTAINERS: u32 = 256;
/// The range of `live --speedup`: slower than a hundredth a plan hour takes four days of wall
/// time; faster than a thousand the engine cannot start containers within a plan step.
pub const MIN_LIVE_SPEEDUP: f64 = 0.01;
pub const MAX_LIVE_SPEEDUP: f64 = 1000.0;

fn check_speedup(speedup: f64) -> Result<f64, InputError> {
    if speedup.is_finite() && (MIN_LIVE_SPEEDUP..=MAX_LIVE_SPEEDUP).contains(&speedup) {
        Ok(speedup)
    } else {
        Err(InputError::new(format!(
            "expected a speed-up from {MIN_LIVE_SPEEDUP} to {MAX_LIVE_SPEEDUP} (plan seconds per wall second), found {}",
            autoscale_sim::error::num(speedup)
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
    let sc = args.scenario.as_deref().map(scenario::load).transpose()?;
    let plan = plan::load(path, sc.as_ref().map(|s| s.duration).or(args.duration))?;
    if let Some((i, step)) = plan
        .steps
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (s.replicas, std::cmp::Reverse(*i)))
        && step.replicas > args.max_containers
    {
        return Err(InputError::new(format!(
            "the plan asks for {} containers (step {} at {} s), more than the limit of {}; if that is intended, raise it with --max-containers",
            step.replicas,
            i + 1,
            step.time.as_secs_f64(),
            args.max_containers
        ))
        .in_file(path)
        .key("replicas")
        .into());
    }
    if let Some(out) = &args.out
        && out.exists()
        && !out.is_dir()
    {
        return Err(
            InputError::new("expected a folder for the results, found a file")
                .in_file(out)
                .key("--out")
                .into(),
        );
    }
    // The simulated side first: it checks the whole workload before anything starts.
    let sim = match &sc {
        Some(sc) => Some(compare::simulate_plan(sc, &plan)?),
        None => None,
    };
    if args.dry_run {
        outln!(
            "dry run: {} ({} steps, {} s of plan time, {} s of wall time at speed-up {speedup}); image {}; nothing is started",
            path.display(),
            plan.spans().count(),
            plan.end.as_secs_f64(),
            plan.end.as_secs_f64() / speedup,
            args.image
        );
        for line in executor::dry_run(&plan, speedup, wall(args.lead)) {
            outln!("{line}");
        }
        if let (Some(sc), Some(sim)) = (&sc, &sim) {
            let n: u64 = sim.timeline.iter().map(|r| r.arrivals).sum();
            outln!(
                "load: replay {n} requests of {} ({} balancer, {} s on average per request in plan time), and write live-timeline.csv and sim-vs-live.csv",
                sc.path.display(),
                sc.cluster.balancer.name(),
                sc.service.mean_s()
            );
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
        serve_args: sc
            .as_ref()
            .map_or_else(Vec::new, |s| session::serve_args(s, speedup)),
        run_id: run_id.clone(),
        progress: true,
    };
    let (report, measured) = runtime()?.block_on(async {
        let signal = autoscale_sim::live::shutdown_signal()?;
        let engine = Engine::connect().await?;
        outln!(
            "run {run_id}: {} ({} steps, {} s of plan time at speed-up {speedup}), image {}, Docker engine {} (API {})",
            path.display(),
            plan.spans().count(),
            plan.end.as_secs_f64(),
            opts.image,
            engine.engine_version,
            engine.api_version
        );
        session::run(&engine, &plan, &opts, sc.as_ref(), signal).await
    })?;
    print_steps(&report)?;
    let ending = if report.kept.is_empty() {
        "removed every container of the run".to_string()
    } else {
        format!(
            "kept {} container(s) running: {} (remove them with `autoscale-sim live --cleanup --run-id {run_id}`)",
            report.kept.len(),
            report.kept.join(", ")
        )
    };
    outln!(
        "created {} container(s), replaced {} that died; {ending}",
        report.created,
        report.replaced
    );
    if let Some(sig) = report.interrupted {
        eprintln!("interrupted by {sig} before the end of the plan; no results written");
        return Ok(autoscale_sim::error::EXIT_FAILURE);
    }
    if let (Some(sc), Some(sim), Some(out)) = (&sc, &sim, &args.out) {
        let measured = measured.ok_or_else(|| {
            Error::Other("the plan ended before its first step began; nothing was measured".into())
        })?;
        let cmp = session::write_comparison(out, sc, &plan, sim, &measured, &report, speedup)?;
        print_comparison(&cmp, &measured)?;
        outln!(
            "results in {} (live-timeline.csv, sim-vs-live.csv)",
            out.display()
        );
    }
    Ok(0)
}

fn print_steps(report: &executor::ExecReport) -> Result<(), Error> {
    outln!(
        "{:>10} {:>9} {:>14} {:>8} {:>10} {:>10}",
        "time_s",
        "replicas",
        "ready_at_step",
        "lag_s",
        "min_ready",
        "max_ready"
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
        outln!(
            "{:>10} {:>9} {:>14} {lag:>8} {lo:>10} {hi:>10}",
            s.time_s,
            s.replicas,
            s.ready_at_step
        );
    }
    Ok(())
}

fn ms(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1}", x * 1e3)
    }
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:+.1}%", x * 100.0)
    }
}

fn print_comparison(rows: &[compare::CompareRow], m: &replay::Measured) -> Result<(), Error> {
    outln!(
        "{:>8} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7}",
        "time_s",
        "plan",
        "sim",
        "live",
        "sim",
        "live",
        "sim p50",
        "live p50",
        "diff",
        "sim p95",
        "live p95",
        "diff"
    );
    outln!(
        "{:>8} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7}",
        "",
        "repl.",
        "repl.",
        "repl.",
        "arriv.",
        "arriv.",
        "ms",
        "ms",
        "",
        "ms",
        "ms",
        ""
    );
    for r in rows {
        let t = if r.scope == "overall" {
            "overall".to_string()
        } else {
            format!("{}", r.time_s)
        };
        outln!(
            "{t:>8} {:>6.2} {:>6.2} {:>6.2} {:>7} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7}",
            r.plan_replicas,
            r.sim_replicas,
            r.live_replicas,
            r.sim_arrivals,
            r.live_arrivals,
            ms(r.sim_p50_latency_s),
            ms(r.live_p50_latency_s),
            pct(compare::rel_diff(r.sim_p50_latency_s, r.live_p50_latency_s)),
            ms(r.sim_p95_latency_s),
            ms(r.live_p95_latency_s),
            pct(compare::rel_diff(r.sim_p95_latency_s, r.live_p95_latency_s)),
        );
    }
    let g = &m.generator;
    outln!(
        "load generator: sent {} requests, {} more than {} ms late (largest delay {:.1} ms, mean {:.2} ms of wall time)",
        g.sent,
        g.late,
        replay::LATE.as_millis(),
        g.max_late_s * 1e3,
        g.mean_late_s * 1e3
    );
    if g.sent > 0 && g.late as f64 > 0.01 * g.sent as f64 {
        eprintln!(
            "warning: the load generator fell behind: {:.1}% of the requests left late; their latencies include that delay. Lower the load or the speed-up.",
            100.0 * g.late as f64 / g.sent as f64
        );
    }
    if m.errors > 0 {
        eprintln!(
            "warning: {} request(s) failed and count as dropped; the first: {}",
            m.errors,
            m.first_error.as_deref().unwrap_or("?")
        );
    }
    if m.unfinished > 0 {
        eprintln!(
            "note: {} request(s) had no outcome by the end of the run (not counted, as in the simulation)",
            m.unfinished
        );
    }
    Ok(())
}

/// `r<unix seconds>-<process id>`: unique on one machine.
fn default_run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("r{secs}-{}", std::process::id())
}
