//! An experiment: every policy of a scenario × every replication, run in parallel, then
//! aggregated per policy and ranked by the objective.
//!
//! Runs are independent and seeded from (scenario seed, replication, stream), and results are
//! collected in (policy, replication) order, so the outcome is the same whatever the number of
//! threads.
//!
//! Scheduling: one worker per thread takes the next run from one list sorted by estimated cost
//! (expected arrivals), longest first, so no thread idles while a run remains and the runs
//! that finish last are the short ones. A worker holds one run's state at a time: memory in
//! flight grows with the threads, not the runs (each run keeps only its result).

use crate::autoscaler::Autoscaler;
use crate::calibration;
use crate::error::{Error, InputError};
use crate::planner::calibrate::Calibrations;
use crate::scenario::Scenario;
use crate::sim::{self, RunResult};
use crate::stats::mean_ci95;
use crate::workload::WorkloadSpec;
use crate::{rng, workload};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Command-line overrides of a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenario's replication count.
    pub replications: Option<u32>,
    /// Runs only these policies (all when empty).
    pub policies: Vec<String>,
    /// Worker threads (all cores when absent).
    pub threads: Option<usize>,
    /// Runs only shard `i` of `n` (zero-based) of the sweep's points.
    pub shard: Option<(usize, usize)>,
    /// `--allow-large`: no resource limit ([`crate::scenario::limits`]) is checked.
    pub allow_large: bool,
}

/// Applies the overrides of `opts` to `scenario`: seed, replications, and the policy filter.
pub fn apply_options(scenario: &Scenario, opts: &RunOptions) -> Result<Scenario, InputError> {
    let mut sc = scenario.clone();
    apply_common(
        opts,
        &sc.path,
        &mut sc.seed,
        &mut sc.replications,
        &mut sc.policies,
        |p| &p.name,
    )?;
    if let Some(b) = &sc.baseline
        && !sc.policies.iter().any(|p| &p.name == b)
    {
        sc.baseline = None;
    }
    Ok(sc)
}

/// Applies the overrides every kind of scenario takes (the seed, the replication count and the
/// policy filter) to a scenario's fields; `path` names the scenario in errors, `name` gives a
/// policy's name.
pub fn apply_common<P>(
    opts: &RunOptions,
    path: &std::path::Path,
    seed: &mut u64,
    replications: &mut u32,
    policies: &mut Vec<P>,
    name: impl Fn(&P) -> &String,
) -> Result<(), InputError> {
    if let Some(s) = opts.seed {
        *seed = s;
    }
    if let Some(r) = opts.replications {
        if r == 0 {
            return Err(InputError::new("expected at least 1 replication").key("--replications"));
        }
        *replications = r;
    }
    if !opts.policies.is_empty() {
        for wanted in &opts.policies {
            if !policies.iter().any(|p| name(p) == wanted) {
                let known: Vec<&str> = policies.iter().map(|p| name(p).as_str()).collect();
                return Err(InputError::new(format!(
                    "no policy named {} in the scenario; its policies are: {}",
                    crate::error::quoted(wanted),
                    known.join(", ")
                ))
                .in_file(path)
                .key("--policy"));
            }
        }
        policies.retain(|p| opts.policies.contains(name(p)));
    }
    Ok(())
}

/// One policy's results aggregated over replications: a `policies.csv` row.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyAggregate {
    pub policy: String,
    /// (mean, 95% CI half-width) of each reported metric, in [`AGGREGATED`] order.
    pub metrics: Vec<(f64, f64)>,
    /// 1 = best (lowest mean objective).
    pub rank: usize,
    /// Objective minus the baseline's, paired by replication: (mean, 95% CI half-width).
    /// Zero for the baseline itself.
    pub vs_baseline: (f64, f64),
    /// Regret against the oracle, paired by replication: the mean of
    /// (objective − oracle's objective) / oracle's objective, and its 95% CI half-width.
    /// NaN when the scenario has no oracle.
    pub regret: (f64, f64),
    /// The policy's type (`static`, `hpa`, `oracle`, ...).
    pub policy_type: String,
    /// Requests lost with failed containers (`[faults]`) per replication: (mean, 95% CI
    /// half-width).
    pub failed: (f64, f64),
    /// The sweep point (0 without a sweep).
    pub point: usize,
}

/// The metrics `policies.csv` reports as mean and CI half-width, in column order.
pub const AGGREGATED: [&str; 7] = [
    "mean_latency_s",
    "p95_latency_s",
    "p99_latency_s",
    "slo_violation_ratio",
    "replica_seconds",
    "cost",
    "objective",
];

impl PolicyAggregate {
    /// Mean of the named aggregated metric.
    pub fn mean(&self, metric: &str) -> f64 {
        AGGREGATED
            .iter()
            .position(|m| *m == metric)
            .map_or(f64::NAN, |i| self.metrics[i].0)
    }

    pub fn objective(&self) -> (f64, f64) {
        self.metrics[AGGREGATED.len() - 1]
    }

    /// Whether the paired difference from the baseline is significant at 95% (its confidence
    /// interval excludes zero); `None` when it cannot be told (one replication, or the
    /// baseline itself).
    pub fn differs_from_baseline(&self) -> Option<bool> {
        let (d, ci) = self.vs_baseline;
        if ci.is_nan() || (d == 0.0 && ci == 0.0) {
            None
        } else {
            Some(d.abs() > ci)
        }
    }
}

/// One point of a sweep (the whole scenario when there is no sweep).
#[derive(Clone, Debug)]
pub struct Point {
    /// Index in the sweep's grid.
    pub index: usize,
    /// The swept values, in the order of [`Experiment::sweep_keys`].
    pub labels: Vec<String>,
    /// The scenario of this point (overrides applied).
    pub scenario: Scenario,
}

/// The outcome of an experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The scenario as run (overrides applied).
    pub scenario: Scenario,
    /// The swept keys (empty without a sweep).
    pub sweep_keys: Vec<String>,
    /// The points run (all of them, or one shard's).
    pub points: Vec<Point>,
    /// Every run, point-major, then policy, then replication.
    pub runs: Vec<RunResult>,
    /// One entry per point and policy, point-major, policies in scenario order.
    pub policies: Vec<PolicyAggregate>,
    /// The policy the others are compared with.
    pub baseline: String,
    /// `Some((i, n))` when this is shard i of n.
    pub shard: Option<(usize, usize)>,
}

impl Experiment {
    /// The policies of point `point` in rank order (best first).
    pub fn ranked_at(&self, point: usize) -> Vec<&PolicyAggregate> {
        let mut v: Vec<&PolicyAggregate> =
            self.policies.iter().filter(|p| p.point == point).collect();
        v.sort_by_key(|p| p.rank);
        v
    }

    /// The policies of the first point in rank order (best first).
    pub fn ranked(&self) -> Vec<&PolicyAggregate> {
        self.ranked_at(self.points.first().map_or(0, |p| p.index))
    }

    /// The swept values of `point`, in key order.
    pub fn labels(&self, point: usize) -> &[String] {
        self.points
            .iter()
            .find(|p| p.index == point)
            .map_or(&[], |p| p.labels.as_slice())
    }
}

/// The points of shard `i` of `n` among `total`: a contiguous block, so shards' outputs
/// concatenated in shard order are the outputs of the whole sweep.
pub fn shard_range(total: usize, i: usize, n: usize) -> std::ops::Range<usize> {
    (i * total / n)..((i + 1) * total / n)
}

/// Runs every policy × replication of `scenario` (with `opts` applied), at every point of
/// its sweep (or of the shard `opts.shard` names).
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<Experiment, Error> {
    run_reporting(scenario, opts, &|_| {})
}

/// What an experiment reports while it runs, for a progress display (the command line turns
/// it into a progress bar; [`run`] reports nothing).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress {
    /// This many calibration tables of the planners' model are measured on the simulator
    /// before the runs (they were not in the disk cache).
    Calibrating { tables: usize },
    /// The runs are under way: `simulated_s` of `total_s` simulated seconds are done, over
    /// `runs` runs. Reported about ten times a second, from a thread of its own.
    Simulating {
        simulated_s: u64,
        total_s: u64,
        runs: usize,
    },
    /// Every run has ended (successfully or not); nothing is reported after this.
    Finished,
}

/// How often [`Progress::Simulating`] is reported.
const PROGRESS_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);

/// [`run`], calling `progress` as the experiment goes (see [`Progress`]).
pub fn run_reporting(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Experiment, Error> {
    let mut sc = apply_options(scenario, opts)?;
    if opts.allow_large {
        sc.limits = crate::scenario::limits::Limits::UNLIMITED;
    }
    let (sweep_keys, all_points): (Vec<String>, Vec<Point>) = match &sc.sweep {
        Some(sw) => {
            let mut points = Vec::with_capacity(sw.points.len());
            for (index, p) in sw.points.iter().enumerate() {
                let mut point_sc = apply_options(&p.scenario, opts)?;
                point_sc.sweep = None;
                if opts.allow_large {
                    point_sc.limits = crate::scenario::limits::Limits::UNLIMITED;
                }
                points.push(Point {
                    index,
                    labels: p.labels.clone(),
                    scenario: point_sc,
                });
            }
            (sw.params.iter().map(|p| p.key.clone()).collect(), points)
        }
        None => (
            Vec::new(),
            vec![Point {
                index: 0,
                labels: Vec::new(),
                scenario: sc.clone(),
            }],
        ),
    };
    let points: Vec<Point> = match opts.shard {
        Some((i, n)) => {
            let range = shard_range(all_points.len(), i, n);
            all_points
                .into_iter()
                .filter(|p| range.contains(&p.index))
                .collect()
        }
        None => all_points,
    };
    if !opts.allow_large {
        let key = if opts.replications.is_some() {
            "--replications"
        } else {
            "replications"
        };
        let each: Vec<&Scenario> = points.iter().map(|p| &p.scenario).collect();
        crate::scenario::limits::check_points(&sc, &each, key)?;
    }
    let jobs: Vec<(usize, usize, u32)> = points
        .iter()
        .enumerate()
        .flat_map(|(k, pt)| {
            (0..pt.scenario.policies.len())
                .flat_map(move |p| (0..pt.scenario.replications).map(move |r| (k, p, r)))
        })
        .collect();
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = opts.threads {
        pool = pool.num_threads(t);
    }
    let pool = pool
        .build()
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    // The calibration tables every policy needs, measured (or read from the disk cache) before
    // any run, every cell in parallel on the pool.
    let scenarios: Vec<&Scenario> = points.iter().map(|p| &p.scenario).collect();
    let calibrations = pool.install(|| {
        calibration::prepare(&scenarios, &|tables| {
            progress(Progress::Calibrating { tables })
        })
    })?;
    let simulated = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let total_ns = sc.duration.0.saturating_mul(jobs.len() as u64);
    // Longest runs first: every worker takes the next run in order of decreasing estimated
    // cost, so no worker idles while a run remains and the runs that end last are short.
    let costs: Vec<f64> = points
        .iter()
        .map(|pt| estimated_cost(&pt.scenario))
        .collect();
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| costs[jobs[b].0].total_cmp(&costs[jobs[a].0]));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let done: Vec<OnceLock<Result<RunResult, Error>>> =
        (0..jobs.len()).map(|_| OnceLock::new()).collect();
    let worker = || {
        while !failed.load(Ordering::Relaxed) {
            let Some(&j) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let (k, p, r) = jobs[j];
            let result =
                simulate_reporting(&points[k].scenario, p, r, Some(&simulated), &calibrations).map(
                    |mut run| {
                        run.point = points[k].index;
                        run
                    },
                );
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            let _ = done[j].set(result);
        }
    };
    std::thread::scope(|scope| {
        scope.spawn(|| report_progress(&simulated, &finished, total_ns, jobs.len(), progress));
        let workers = pool.current_num_threads().min(jobs.len()).max(1);
        pool.scope(|s| {
            for _ in 0..workers {
                s.spawn(|_| worker());
            }
        });
        finished.store(true, Ordering::Relaxed);
    });
    // In (point, policy, replication) order; the first error in that order, if any.
    let runs: Vec<RunResult> = done
        .into_iter()
        .filter_map(OnceLock::into_inner)
        .collect::<Result<_, Error>>()?;
    let mut policies = Vec::new();
    for pt in &points {
        let mine: Vec<RunResult> = runs
            .iter()
            .filter(|r| r.point == pt.index)
            .cloned()
            .collect();
        let mut agg = aggregate(&pt.scenario, &mine);
        for a in &mut agg {
            a.point = pt.index;
        }
        policies.extend(agg);
    }
    let baseline = baseline_of(&sc);
    Ok(Experiment {
        scenario: sc,
        sweep_keys,
        points,
        runs,
        policies,
        baseline,
        shard: opts.shard,
    })
}

/// Policy number `policy` of `scenario`, built for `replication`: its name, the policy, and
/// its initial replicas.
pub fn build_policy(
    scenario: &Scenario,
    policy: usize,
    replication: u32,
) -> Result<(String, Box<dyn Autoscaler>, u32), Error> {
    let calibrations = calibration::prepare(&[scenario], &|_| {})?;
    build_policy_with(scenario, policy, replication, &calibrations)
}

/// [`build_policy`] with the calibration tables already prepared.
pub fn build_policy_with(
    scenario: &Scenario,
    policy: usize,
    replication: u32,
    calibrations: &Calibrations,
) -> Result<(String, Box<dyn Autoscaler>, u32), Error> {
    let def = scenario
        .policies
        .get(policy)
        .ok_or_else(|| Error::Other(format!("no policy number {policy} in the scenario")))?;
    let built = def.spec.build(&crate::autoscaler::BuildContext {
        setting: scenario.setting(),
        replication,
        calibrations,
    })?;
    Ok((def.name.clone(), built, initial_replicas(scenario, policy)))
}

/// The replicas ready at time 0 in a run of policy number `policy`: `cluster.initial_replicas`,
/// else the policy's own default, within the scenario's bounds.
pub fn initial_replicas(scenario: &Scenario, policy: usize) -> u32 {
    let ctx = crate::autoscaler::PolicyContext::of(&scenario.setting());
    let own = scenario
        .policies
        .get(policy)
        .map_or(scenario.cluster.min_replicas, |d| {
            d.spec.default_initial_replicas(&ctx)
        });
    crate::autoscaler::planning::initial_replicas(&scenario.setting(), own)
}

/// Simulates policy number `policy` of `scenario` in replication `replication`, on the
/// scenario's workload: one run of an experiment.
pub fn simulate(scenario: &Scenario, policy: usize, replication: u32) -> Result<RunResult, Error> {
    let calibrations = calibration::prepare(&[scenario], &|_| {})?;
    simulate_reporting(scenario, policy, replication, None, &calibrations)
}

/// Like [`simulate`], adding the simulated nanoseconds of each completed interval to
/// `progress`.
fn simulate_reporting(
    scenario: &Scenario,
    policy: usize,
    replication: u32,
    progress: Option<&AtomicU64>,
    calibrations: &Calibrations,
) -> Result<RunResult, Error> {
    let (policy_name, policy, initial_replicas) =
        build_policy_with(scenario, policy, replication, calibrations)?;
    let arrivals = workload::open(
        &scenario.workload,
        rng::stream(scenario.seed, replication, rng::ARRIVALS),
    )?;
    sim::run(sim::RunInput {
        scenario,
        replication,
        policy_name,
        policy,
        initial_replicas,
        arrivals,
        progress,
    })
}

/// A rough cost of one run of `sc`, to start the longest runs first: its expected arrivals
/// (for a trace, whose rate is known only once read, its `scale` per second), plus one per
/// simulated second for ticks and intervals.
fn estimated_cost(sc: &Scenario) -> f64 {
    let secs = sc.duration.as_secs_f64();
    let rate = match &sc.workload {
        WorkloadSpec::Diurnal { rate, .. } => *rate,
        WorkloadSpec::Piecewise { steps } => {
            let end = sc.duration.0;
            let mut area = 0.0;
            for (i, (start, rate)) in steps.iter().enumerate() {
                let stop = steps.get(i + 1).map_or(end, |s| s.0.0.min(end));
                area += rate * stop.saturating_sub(start.0) as f64;
            }
            area / end.max(1) as f64
        }
        WorkloadSpec::Mmpp {
            rates,
            mean_durations,
        } => {
            let total: f64 = mean_durations.iter().map(|d| d.as_secs_f64()).sum();
            let weighted: f64 = rates
                .iter()
                .zip(mean_durations)
                .map(|(r, d)| r * d.as_secs_f64())
                .sum();
            weighted / total.max(f64::MIN_POSITIVE)
        }
        WorkloadSpec::Trace(t) => t.scale,
    };
    (rate + 1.0) * secs
}

/// Whether a policy is an oracle: it sees the future, and is labelled so in every output.
pub fn is_oracle(p: &crate::scenario::PolicyDef) -> bool {
    p.spec.type_name() == "oracle"
}

/// The baseline policy's name: the scenario's `baseline`, else its first policy.
pub fn baseline_of(sc: &Scenario) -> String {
    sc.baseline
        .clone()
        .or_else(|| sc.policies.first().map(|p| p.name.clone()))
        .unwrap_or_default()
}

/// Reports [`Progress::Simulating`] every [`PROGRESS_PERIOD`] until `finished`, then
/// [`Progress::Finished`].
fn report_progress(
    simulated: &AtomicU64,
    finished: &AtomicBool,
    total_ns: u64,
    runs: usize,
    progress: &(dyn Fn(Progress) + Sync),
) {
    let total_s = total_ns / 1_000_000_000;
    while !finished.load(Ordering::Relaxed) {
        progress(Progress::Simulating {
            simulated_s: simulated.load(Ordering::Relaxed) / 1_000_000_000,
            total_s,
            runs,
        });
        std::thread::sleep(PROGRESS_PERIOD);
    }
    progress(Progress::Finished);
}

/// Aggregates runs per policy, ranks policies by mean objective (ties: scenario order), and
/// compares each with the baseline pairwise per replication (common random numbers make the
/// paired difference far tighter than the difference of two means).
pub fn aggregate(sc: &Scenario, runs: &[RunResult]) -> Vec<PolicyAggregate> {
    let baseline = baseline_of(sc);
    let objective_of = |policy: &str| -> Vec<(u32, f64)> {
        runs.iter()
            .filter(|r| r.policy == policy)
            .map(|r| (r.replication, r.summary.objective))
            .collect()
    };
    let base = objective_of(&baseline);
    let oracle = sc
        .policies
        .iter()
        .find(|p| is_oracle(p))
        .map(|p| objective_of(&p.name));
    let mut out: Vec<PolicyAggregate> = sc
        .policies
        .iter()
        .map(|p| {
            let mine: Vec<&RunResult> = runs.iter().filter(|r| r.policy == p.name).collect();
            let metrics = AGGREGATED
                .iter()
                .map(|m| {
                    let xs: Vec<f64> = mine.iter().map(|r| summary_metric(r, m)).collect();
                    mean_ci95(&xs)
                })
                .collect();
            let diffs: Vec<f64> = objective_of(&p.name)
                .iter()
                .filter_map(|(rep, x)| base.iter().find(|(r, _)| r == rep).map(|(_, b)| x - b))
                .collect();
            let vs_baseline = if p.name == baseline {
                (0.0, 0.0)
            } else {
                mean_ci95(&diffs)
            };
            let regret = match &oracle {
                Some(o) => {
                    let rel: Vec<f64> = objective_of(&p.name)
                        .iter()
                        .filter_map(|(rep, x)| {
                            o.iter().find(|(r, _)| r == rep).map(|(_, b)| (x - b) / b)
                        })
                        .collect();
                    mean_ci95(&rel)
                }
                None => (f64::NAN, f64::NAN),
            };
            PolicyAggregate {
                policy: p.name.clone(),
                metrics,
                rank: 0,
                vs_baseline,
                regret,
                policy_type: p.spec.type_name().to_string(),
                failed: mean_ci95(
                    &mine
                        .iter()
                        .map(|r| r.summary.failed as f64)
                        .collect::<Vec<_>>(),
                ),
                point: 0,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        out[a]
            .objective()
            .0
            .total_cmp(&out[b].objective().0)
            .then(a.cmp(&b))
    });
    for (rank, i) in order.into_iter().enumerate() {
        out[i].rank = rank + 1;
    }
    out
}

fn summary_metric(r: &RunResult, name: &str) -> f64 {
    let s = &r.summary;
    match name {
        "mean_latency_s" => s.mean_latency_s,
        "p95_latency_s" => s.p95_latency_s,
        "p99_latency_s" => s.p99_latency_s,
        "slo_violation_ratio" => s.slo_violation_ratio,
        "replica_seconds" => s.replica_seconds,
        "cost" => s.cost,
        "objective" => s.objective,
        _ => f64::NAN,
    }
}
