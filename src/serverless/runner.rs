//! One serverless experiment: every function × policy × replication, folded into per-run
//! totals, per-function rows and per-interval rows.
//!
//! Functions are read in chunks of [`CHUNK`]; a chunk's (function, policy, replication) jobs run
//! in parallel on the pool and are folded in (function, policy, replication) order, so the
//! totals (floating-point sums included) are the same whatever the number of threads.

use super::functions::{Arrivals, Function, FunctionReader, stream};
use super::keepalive::{HybridHistogram, KeepAlive};
use super::platform::{
    self, ColdStart, FunctionPolicy, FunctionStats, PlatformParams, Streams, Window,
};
use super::provisioned::{PlanPrices, online_schedule, oracle_schedule, schedule_from_plan};
use super::scenario::{ColdSpec, FaasScenario, PlanSource, PolicyKind};
use crate::cluster::service::ServiceSampler;
use crate::error::{Error, InputError};
use rayon::prelude::*;

/// Functions simulated together.
pub const CHUNK: usize = 64;

/// One function's result under one policy and replication (a `functions.csv` row).
#[derive(Clone, Debug)]
pub struct FunctionRow {
    pub policy: usize,
    pub replication: u32,
    pub index: usize,
    pub id: String,
    pub app: String,
    pub trigger: String,
    pub requests: u64,
    pub completed: u64,
    pub throttles: u64,
    pub cold_starts: u64,
    pub latency_sum_s: f64,
    pub busy_instance_s: f64,
    pub idle_instance_s: f64,
    pub provisioned_instance_s: f64,
    pub pre_warms: u64,
    pub peak_instances: u32,
    pub billed_s: f64,
}

impl FunctionRow {
    /// Cold starts over requests (NaN without requests).
    pub fn cold_start_ratio(&self) -> f64 {
        crate::stats::ratio(self.cold_starts as f64, self.requests as f64)
    }
}

/// The totals of one (policy, replication) over every function: their measurements added up
/// (`stats.peak_instances` is the largest of the functions' peaks).
#[derive(Clone, Debug)]
pub struct RunTotals {
    pub policy: usize,
    pub replication: u32,
    pub functions: u64,
    pub stats: FunctionStats,
}

impl RunTotals {
    fn new(policy: usize, replication: u32, intervals: usize) -> RunTotals {
        RunTotals {
            policy,
            replication,
            functions: 0,
            stats: FunctionStats::new(intervals),
        }
    }

    fn add(&mut self, s: &FunctionStats) {
        self.functions += 1;
        self.stats.add(s);
    }
}

/// The outcome of a serverless experiment.
#[derive(Clone, Debug)]
pub struct FaasExperiment {
    pub scenario: FaasScenario,
    /// Policy-major, then replication.
    pub runs: Vec<RunTotals>,
    /// Function-major (trace order), then policy, then replication.
    pub functions: Vec<FunctionRow>,
}

/// Options of a run (the command line's overrides are applied to the scenario before).
#[derive(Clone, Debug, Default)]
pub struct FaasOptions {
    pub threads: Option<usize>,
}

fn sampler_of_cold(c: &ColdSpec) -> ColdStart {
    match c {
        ColdSpec::Init(s) => ColdStart::Init(ServiceSampler::new(s)),
        ColdSpec::Service(s) => ColdStart::Service(ServiceSampler::new(s)),
    }
}

/// Opens the functions of `sc`.
pub fn open_functions(sc: &FaasScenario) -> Result<FunctionReader, Error> {
    Ok(match &sc.functions {
        super::scenario::FunctionSource::One(w) => FunctionReader::One(Some(Function {
            index: 0,
            id: "function".into(),
            app: String::new(),
            trigger: String::new(),
            service: sc.service.clone(),
            arrivals: super::functions::ArrivalPlan::Workload(w.clone()),
        })),
        super::scenario::FunctionSource::Azure(a) => {
            FunctionReader::Azure(super::functions::AzureRows::open(
                &a.trace,
                a.durations.as_deref(),
                sc.service.clone(),
                a.limit,
                a.function.clone(),
            )?)
        }
    })
}

/// Runs every function × policy × replication of `sc`.
pub fn run(sc: &FaasScenario, opts: &FaasOptions) -> Result<FaasExperiment, Error> {
    let w = Window {
        warmup: sc.warmup.0,
        duration: sc.duration.0,
        interval: sc.interval.0,
    };
    let params = PlatformParams {
        concurrency: sc.platform.concurrency,
        max_instances: sc.platform.max_instances,
        cold_start: sampler_of_cold(&sc.platform.cold),
    };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = opts.threads {
        pool = pool.num_threads(t);
    }
    let pool = pool
        .build()
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let mut runs: Vec<RunTotals> = (0..sc.policies.len())
        .flat_map(|p| (0..sc.replications).map(move |r| RunTotals::new(p, r, w.intervals())))
        .collect();
    let mut rows = Vec::new();
    let mut reader = open_functions(sc)?;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            match reader.next_function()? {
                Some(f) => chunk.push(f),
                None => break,
            }
        }
        if chunk.is_empty() {
            break;
        }
        let jobs: Vec<(usize, usize, u32)> = (0..chunk.len())
            .flat_map(|f| {
                (0..sc.policies.len())
                    .flat_map(move |p| (0..sc.replications).map(move |r| (f, p, r)))
            })
            .collect();
        let results: Vec<FunctionStats> = pool.install(|| {
            jobs.par_iter()
                .map(|&(f, p, r)| simulate_one(sc, &params, w, &chunk[f], p, r))
                .collect::<Result<Vec<_>, InputError>>()
        })?;
        for (&(f, p, r), s) in jobs.iter().zip(&results) {
            let k = p * sc.replications as usize + r as usize;
            runs[k].add(s);
            let func = &chunk[f];
            rows.push(FunctionRow {
                policy: p,
                replication: r,
                index: func.index,
                id: func.id.clone(),
                app: func.app.clone(),
                trigger: func.trigger.clone(),
                requests: s.requests,
                completed: s.completed,
                throttles: s.throttles,
                cold_starts: s.cold_starts,
                latency_sum_s: s.latency_sum_ns as f64 / 1e9,
                busy_instance_s: s.busy_instance_s,
                idle_instance_s: s.idle_instance_s,
                provisioned_instance_s: s.provisioned_instance_s,
                pre_warms: s.pre_warms,
                peak_instances: s.peak_instances,
                billed_s: s.billed_s,
            });
        }
    }
    Ok(FaasExperiment {
        scenario: sc.clone(),
        runs,
        functions: rows,
    })
}

/// Simulates function `f` under policy `p` in replication `r`.
pub fn simulate_one(
    sc: &FaasScenario,
    params: &PlatformParams,
    w: Window,
    f: &Function,
    p: usize,
    r: u32,
) -> Result<FunctionStats, InputError> {
    let arrivals = |r: u32| {
        Arrivals::open(
            &f.arrivals,
            stream(sc.seed, r, f.index, "arrivals"),
            w.duration,
        )
    };
    let kind = &sc.policies[p].kind;
    let (keep_alive, provisioned) = match kind {
        PolicyKind::KeepAliveFixed { keep_alive } => (KeepAlive::Fixed(*keep_alive), Vec::new()),
        PolicyKind::HybridHistogram(h) => (
            KeepAlive::Hybrid(Box::new(HybridHistogram::new(*h))),
            Vec::new(),
        ),
        PolicyKind::Provisioned { plan, keep_alive } => {
            let n = w.intervals();
            let schedule = match plan {
                PlanSource::Constant(c) => vec![*c; n],
                PlanSource::File(rows) => schedule_from_plan(rows, n, sc.interval.as_secs_f64()),
                PlanSource::Oracle | PlanSource::Online => {
                    // The function's arrivals per interval: all of them for the oracle; the
                    // online planner reads each interval's only after deciding for it.
                    let mut counts = vec![0u64; n];
                    let mut a = arrivals(r)?;
                    for t in a.by_ref() {
                        counts[(t / w.interval) as usize] += 1;
                    }
                    if let Some(e) = a.error {
                        return Err(e);
                    }
                    let service_s = f.service.mean_s();
                    let prices = PlanPrices {
                        interval_s: sc.interval.as_secs_f64(),
                        instance_hour: sc.cost.instance_hour,
                        cold_start_penalty: sc.cost.cold_start_penalty,
                        service_s,
                        init_s: sc.platform.cold.init_mean_s(service_s),
                        concurrency: sc.platform.concurrency,
                        max_instances: sc.platform.max_instances,
                    };
                    if matches!(plan, PlanSource::Oracle) {
                        oracle_schedule(&counts, &prices)
                    } else {
                        online_schedule(&counts, &prices)
                    }
                }
            };
            (KeepAlive::Fixed(*keep_alive), schedule)
        }
    };
    let service = ServiceSampler::new(&f.service);
    let streams = Streams {
        service: stream(sc.seed, r, f.index, "service"),
        cold: stream(sc.seed, r, f.index, "cold"),
        prewarm: stream(sc.seed, r, f.index, "prewarm"),
    };
    let mut a = arrivals(r)?;
    let stats = platform::simulate(
        params,
        w,
        &service,
        FunctionPolicy {
            keep_alive,
            provisioned,
        },
        streams,
        a.by_ref(),
    );
    match a.error {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}
