//! Calibration tables of the planners' violation model, measured on the simulator before any
//! run and handed to the policies when they are built.
//!
//! The planner ([`crate::planner::calibrate`]) is pure maths: it turns a table of violation
//! ratios by container count and load into `P(violation | rate, n)`. This module, above both
//! the planner and the simulator, measures those tables: short simulations of a static cluster
//! of `n` containers under Poisson arrivals at a fixed load per request slot, one per cell of
//! the grid [`CALIBRATION_COUNTS`] × [`CALIBRATION_LOADS`], each with the fixed seed
//! [`CALIBRATION_SEED`] (common random numbers: the table is smooth in the load) and
//! [`CALIBRATION_REQUESTS`] requests after a warm-up.
//!
//! [`prepare`] is called by the experiment (and `autoscale-sim plan`) before any
//! run: it asks every policy which table it needs ([`crate::autoscaler::PolicySpec::calibration`]),
//! reads each from the disk cache, and measures the missing ones, every cell of every table in
//! parallel on the calling rayon pool. A table is cached on disk under a key made of everything
//! it depends on: the service distribution, concurrency, load balancer, queue time-out, SLO,
//! the counts measured (`max_replicas` only where it cuts the grid, below 64), the loads, the
//! requests per cell, the seed and the crate version. The cache is the folder
//! `$AUTOSCALE_SIM_CACHE`, else `$XDG_CACHE_HOME/autoscale-sim`, else
//! `$HOME/.cache/autoscale-sim`; a cache that cannot be read or written is measured around
//! (the table is measured again, never wrong).

use crate::autoscaler::fixed::StaticParams;
use crate::autoscaler::{BuildContext, PolicySpec};
use crate::cluster::ClusterSpec;
use crate::error::Error;
use crate::planner::calibrate::{CALIBRATION_LOADS, Calibration, CalibrationSetup, Calibrations};
use crate::scenario::{CostSpec, PolicyDef, Scenario};
use crate::time::{SimDuration, SimTime};
use crate::workload::{self, WorkloadSpec};
use crate::{rng, sim};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Requests measured per cell (after the warm-up).
pub const CALIBRATION_REQUESTS: f64 = 100_000.0;
/// The seed of every calibration run.
pub const CALIBRATION_SEED: u64 = 0x00ca_1b2a_7e5e_ed00;

/// A scenario of a static cluster of `n` containers of `setup` under Poisson arrivals at
/// `rate`, measuring `requests` requests after a warm-up of a tenth of that.
pub fn cell_scenario(setup: &CalibrationSetup, n: u32, rate: f64, requests: f64) -> Scenario {
    let measure = requests / rate;
    let warmup = SimDuration::from_secs_f64(measure / 10.0);
    let duration = SimDuration::from_secs_f64(measure * 1.1);
    Scenario {
        name: "calibration".to_string(),
        path: Default::default(),
        text: String::new(),
        seed: CALIBRATION_SEED,
        duration,
        warmup,
        replications: 1,
        interval: duration,
        workload: WorkloadSpec::Piecewise {
            steps: vec![(SimTime::ZERO, rate)],
        },
        service: setup.service.clone(),
        cluster: ClusterSpec {
            concurrency: setup.concurrency,
            balancer: setup.balancer,
            startup: SimDuration::ZERO,
            startup_dist: crate::cluster::startup::StartupDist::Constant(SimDuration::ZERO),
            shutdown: SimDuration::ZERO,
            min_replicas: n,
            max_replicas: n,
            initial_replicas: Some(n),
            queue_timeout: setup.queue_timeout,
            queue_capacity: crate::cluster::DEFAULT_QUEUE_CAPACITY,
            // The planners' tables measure queueing in a cluster whose containers do not fail.
            faults: None,
        },
        cost: CostSpec {
            replica_hour: 0.0,
            slo_latency: setup.slo,
            violation_penalty: 0.0,
            start_cost: 0.0,
            stop_cost: 0.0,
        },
        policies: vec![PolicyDef {
            name: format!("static-{n}"),
            spec: PolicySpec::Static(StaticParams {
                replicas: n,
                period: duration,
            }),
        }],
        baseline: None,
        sweep: None,
        limits: Default::default(),
    }
}

/// The simulated violation ratio of `n` containers of `setup` at load `rho` per slot.
pub fn measure_cell(
    setup: &CalibrationSetup,
    n: u32,
    rho: f64,
    requests: f64,
) -> Result<f64, Error> {
    let sc = cell_scenario(setup, n, setup.rate(rho, n), requests);
    let def = &sc.policies[0];
    let policy = def.spec.build(&BuildContext {
        setting: sc.setting(),
        replication: 0,
        calibrations: &Calibrations::none(),
    })?;
    let arrivals = workload::open(&sc.workload, rng::stream(sc.seed, 0, rng::ARRIVALS))?;
    let run = sim::run(sim::RunInput {
        scenario: &sc,
        replication: 0,
        policy_name: def.name.clone(),
        policy,
        initial_replicas: n,
        arrivals,
        progress: None,
    })?;
    Ok(run.summary.slo_violation_ratio)
}

/// Measures the tables of `setups` with `requests` requests per cell: every cell of every
/// table in parallel on the calling rayon pool. Cells are independent and seeded alike, so
/// the tables do not depend on the number of threads.
pub fn measure(setups: &[CalibrationSetup], requests: f64) -> Result<Vec<Calibration>, Error> {
    let cells: Vec<(usize, u32, f64)> = setups
        .iter()
        .enumerate()
        .flat_map(|(s, setup)| {
            setup
                .counts()
                .into_iter()
                .flat_map(move |n| CALIBRATION_LOADS.iter().map(move |&rho| (s, n, rho)))
        })
        .collect();
    let measured: Vec<f64> = cells
        .par_iter()
        .map(|&(s, n, rho)| measure_cell(&setups[s], n, rho, requests))
        .collect::<Result<_, Error>>()?;
    let mut at = 0;
    Ok(setups
        .iter()
        .map(|setup| {
            let cells = setup.counts().len() * CALIBRATION_LOADS.len();
            let table = Calibration::from_cells(setup, &measured[at..at + cells]);
            at += cells;
            table
        })
        .collect())
}

/// The tables every policy of `scenarios` needs, before any run: from the disk cache, or
/// measured (all missing cells in parallel on the calling rayon pool) and then cached.
/// `progress` is told how many tables are measured, before they are.
pub fn prepare(scenarios: &[&Scenario], progress: &dyn Fn(usize)) -> Result<Calibrations, Error> {
    let mut needed: Vec<CalibrationSetup> = Vec::new();
    for sc in scenarios {
        for p in &sc.policies {
            if let Some(setup) = p.spec.calibration(&sc.setting())
                && !needed.contains(&setup)
            {
                needed.push(setup);
            }
        }
    }
    let mut out = Calibrations::none();
    let mut missing = Vec::new();
    for setup in needed {
        match read_cached(&setup) {
            Some(table) => out.insert(setup, table),
            None => missing.push(setup),
        }
    }
    if !missing.is_empty() {
        progress(missing.len());
        for (setup, table) in missing.iter().zip(measure(&missing, CALIBRATION_REQUESTS)?) {
            write_cached(setup, &table);
            out.insert(setup.clone(), table);
        }
    }
    Ok(out)
}

/// The key of a table: everything it depends on, in words.
fn cache_key(setup: &CalibrationSetup) -> String {
    format!(
        "autoscale-sim {} calibration: service {:?}, concurrency {}, balancer {:?}, queue_timeout {:?}, slo {:?}, counts {:?}, loads {:?}, requests {}, seed {}",
        env!("CARGO_PKG_VERSION"),
        setup.service,
        setup.concurrency,
        setup.balancer,
        setup.queue_timeout,
        setup.slo,
        setup.counts(),
        CALIBRATION_LOADS,
        CALIBRATION_REQUESTS,
        CALIBRATION_SEED
    )
}

/// FNV-1a, 64 bits: a file name for a key (the key itself is the file's first line).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The cache folder, if the environment names one.
fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("AUTOSCALE_SIM_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("autoscale-sim")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("autoscale-sim")))
}

/// The cache file of `setup` in `dir`.
fn cache_path_in(dir: &Path, setup: &CalibrationSetup) -> PathBuf {
    dir.join(format!("calibration-{:016x}.txt", fnv1a(&cache_key(setup))))
}

fn read_cached(setup: &CalibrationSetup) -> Option<Calibration> {
    read_cached_in(&cache_dir()?, setup)
}

fn write_cached(setup: &CalibrationSetup, table: &Calibration) {
    if let Some(dir) = cache_dir() {
        write_cached_in(&dir, setup, table);
    }
}

/// The cached table of `setup` in `dir`, if a cache file holds it (its first line is the key;
/// then one line per count: the count and its ratios at every load).
fn read_cached_in(dir: &Path, setup: &CalibrationSetup) -> Option<Calibration> {
    let (path, key) = (cache_path_in(dir, setup), cache_key(setup));
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != key {
        return None;
    }
    let counts = setup.counts();
    let mut ratios = Vec::with_capacity(counts.len());
    for &n in &counts {
        let mut fields = lines.next()?.split(',');
        if fields.next()?.parse::<u32>().ok()? != n {
            return None;
        }
        let row: Vec<f64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
        if row.len() != CALIBRATION_LOADS.len() || row.iter().any(|p| !(0.0..=1.0).contains(p)) {
            return None;
        }
        ratios.push(row);
    }
    Some(Calibration {
        counts,
        loads: CALIBRATION_LOADS.to_vec(),
        ratios,
    })
}

/// Writes `table` to the cache (atomically: a reader sees the old file or the whole new one);
/// failures leave the cache as it was.
fn write_cached_in(dir: &Path, setup: &CalibrationSetup, table: &Calibration) {
    let path = cache_path_in(dir, setup);
    let mut text = cache_key(setup);
    text.push('\n');
    for (n, row) in table.counts.iter().zip(&table.ratios) {
        text.push_str(&n.to_string());
        for p in row {
            text.push(',');
            text.push_str(&format!("{p:e}"));
        }
        text.push('\n');
    }
    if let Some(dir) = path.parent()
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = crate::output::write_atomic(&path, text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Balancer;
    use crate::cluster::service::ServiceSpec;
    use crate::planner::calibrate::CalibratedModel;
    use crate::planner::calibrate::tests::least_connections;
    use crate::stats::mean_ci95;
    use std::sync::Arc;

    /// The table of `setup`, measured (no cache: tests do not write outside their folders).
    fn calibration(setup: &CalibrationSetup) -> Arc<Calibration> {
        Arc::new(
            measure(std::slice::from_ref(setup), CALIBRATION_REQUESTS)
                .unwrap()
                .remove(0),
        )
    }

    /// The simulated violation ratio of `n` containers at load `rho`, over `reps`
    /// replications independent of the calibration's (another seed): (mean, 95% CI).
    fn simulated(setup: &CalibrationSetup, n: u32, rho: f64, reps: u32) -> (f64, f64) {
        let mut sc = cell_scenario(setup, n, setup.rate(rho, n), 100_000.0);
        sc.seed = 2024;
        let xs: Vec<f64> = (0..reps)
            .map(|r| {
                crate::experiment::simulate(&sc, 0, r)
                    .unwrap()
                    .summary
                    .slo_violation_ratio
            })
            .collect();
        mean_ci95(&xs)
    }

    /// Between the measured counts and loads, the calibrated model agrees with independent
    /// simulations within their 95% confidence interval widened by the calibration's own
    /// sampling error (each cell measures 100,000 requests; at these loads about 1,000 to
    /// 5,000 violations, a relative standard error near 10% once their clustering in busy
    /// periods is counted, so 20% at 95%), where the analytic model is off by a factor of 4
    /// to 20.
    #[test]
    fn calibrated_model_matches_the_simulator_where_the_analytic_one_does_not() {
        let setup = least_connections();
        let model = CalibratedModel::new(&setup, calibration(&setup));
        let analytic = setup.analytic();
        for (n, rho) in [(5u32, 0.82), (10, 0.88), (7, 0.78)] {
            let rate = setup.rate(rho, n);
            let (mean, ci) = simulated(&setup, n, rho, 6);
            let calibrated = model.probability(rate, n);
            let tolerance = ci + 0.2 * mean;
            assert!(
                (calibrated - mean).abs() <= tolerance,
                "n={n} rho={rho}: calibrated {calibrated:.4e}, simulated {mean:.4e} ± {ci:.1e}"
            );
            let off = analytic.probability(rate, n);
            assert!(
                off < (mean - ci) / 2.0,
                "n={n} rho={rho}: the analytic model ({off:.2e}) should be far below {mean:.2e}"
            );
        }
    }

    /// Above the measured range (64 containers here), scaling the excess over the
    /// service-time floor predicts simulations of 256 and 1,024 containers within 10%: join
    /// the shortest of one-slot queues, exponential 1 s service, 3 s SLO (a floor of e^-3).
    #[test]
    fn extrapolation_matches_simulations_at_256_and_1024_containers() {
        let setup = CalibrationSetup {
            service: ServiceSpec::Exponential {
                mean: SimDuration::from_secs(1),
            },
            concurrency: 1,
            balancer: Balancer::LeastConnections,
            queue_timeout: None,
            slo: SimDuration::from_secs(3),
            max_replicas: 64,
        };
        let model = CalibratedModel::new(&setup, calibration(&setup));
        for (n, rho) in [(256, 0.9), (256, 0.95), (1024, 0.95), (1024, 0.97)] {
            let (sim, ci) = simulated(&setup, n, rho, 3);
            let p = model.probability(setup.rate(rho, n), n);
            assert!(
                (p / sim - 1.0).abs() < 0.10,
                "{n} at {rho}: model {p}, simulated {sim} ± {ci}"
            );
        }
    }

    #[test]
    fn the_table_does_not_depend_on_the_number_of_threads() {
        let mut setup = least_connections();
        setup.max_replicas = 3;
        let with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| measure(std::slice::from_ref(&setup), 5_000.0).unwrap())
        };
        let one = with(1).remove(0);
        assert_eq!(one.counts, vec![1, 2, 3]);
        assert_eq!(one, with(3).remove(0));
        // Non-decreasing in the load, and never below the floor P(S > slo) = 0.
        for row in &one.ratios {
            assert!(row.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
        }
    }

    /// A table written to the cache reads back bit for bit, under its own key only; another
    /// setup, a corrupt file or a missing folder is a miss (measured again), never an error.
    #[test]
    fn tables_are_cached_on_disk_under_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut setup = least_connections();
        setup.max_replicas = 3;
        let table = Calibration {
            counts: vec![1, 2, 3],
            loads: CALIBRATION_LOADS.to_vec(),
            ratios: (0..3)
                .map(|j| (0..9).map(|i| (1 + i + 9 * j) as f64 / 97.0).collect())
                .collect(),
        };
        let path = cache_path_in(dir.path(), &setup);
        assert!(read_cached_in(dir.path(), &setup).is_none());
        write_cached_in(dir.path(), &setup, &table);
        assert!(path.exists());
        assert_eq!(read_cached_in(dir.path(), &setup), Some(table.clone()));
        let mut other = setup.clone();
        other.slo = SimDuration::from_millis(151);
        assert!(read_cached_in(dir.path(), &other).is_none());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(",", ";")).unwrap();
        assert!(read_cached_in(dir.path(), &setup).is_none());
        assert!(read_cached_in(&dir.path().join("missing"), &setup).is_none());
    }
}
