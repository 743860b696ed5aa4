//! The planner's violation model calibrated against the simulator.
//!
//! The analytic model ([`ViolationModel`]) is exact for one shared queue with exponential
//! service, but only approximate for the other load balancers (`least_connections` and
//! `power_of_two` are modelled as a shared queue, `round_robin` as Erlang-`n` arrivals), for
//! non-exponential service and for queue time-outs shorter than the SLO. A [`Calibration`]
//! measures the simulator itself instead: short simulations of a static cluster of `n`
//! containers under Poisson arrivals at a fixed load per request slot `ρ = λ E[S] / (n k)`,
//! on a grid of counts ([`CALIBRATION_COUNTS`], up to `max_replicas`) and loads
//! ([`CALIBRATION_LOADS`]), each reading the fraction of requests that violate the SLO
//! (slower than `slo_latency`, or dropped).
//!
//! [`CalibratedModel`] turns the table into `P(violation | rate, n)`:
//! - between grid loads, `ln P` is linear in `ρ`; at `ρ = 0` it is the exact floor `P(S > slo)`
//!   and at `ρ ≥ 1` every request violates (the queue is unstable), as in the analytic model;
//! - between grid counts, `ln P` is linear in `ln n`;
//! - above the largest measured count `n_J`, the analytic model scaled by the ratio measured at
//!   `n_J` (at the same load), and never above the value measured at `n_J` (more containers at
//!   the same load per slot never wait more): `min(P(ρ, n_J), P_model(λ, n) · R(ρ))` with
//!   `R(ρ) = P(ρ, n_J) / P_model(ρ, n_J)`. This follows the analytic model where it is right
//!   (a shared queue, where the ratio is about 1) and keeps the measured level where it is not
//!   (power of two choices, whose violations tend to a limit as `n` grows);
//! - measured values are made non-decreasing in the load (a running maximum over the grid),
//!   which removes sampling noise against the one shape every queue has.
//!
//! When the analytic model is exact (a shared queue, exponential service, and no time-out
//! shorter than the SLO), [`planner_model`] uses it as it is: simulating would only add noise.
//!
//! Determinism and cost: every cell is simulated with the fixed seed [`CALIBRATION_SEED`]
//! (common random numbers across loads, so the table is smooth in `ρ`), for
//! [`CALIBRATION_REQUESTS`] requests after a warm-up, so a table depends only on the scenario's
//! service distribution, concurrency, load balancer, queue time-out, SLO and `max_replicas`.
//! It is measured once per process for each such combination and cached ([`calibration`]), so
//! every policy and replication of a scenario shares it. A table of 12 counts and 9 loads
//! simulates about 11 million requests (figures in `BENCHMARKS.md`).

use super::dp::ViolationColumns;
use super::queueing::{Dispatch, ViolationModel};
use crate::autoscaler::PolicySpec;
use crate::autoscaler::fixed::StaticParams;
use crate::cluster::service::ServiceSpec;
use crate::cluster::{Balancer, ClusterSpec};
use crate::error::Error;
use crate::scenario::{CostSpec, PolicyDef, Scenario};
use crate::time::{SimDuration, SimTime};
use crate::workload::WorkloadSpec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Container counts simulated (those up to `max_replicas`, and `max_replicas` itself when it
/// is below the largest).
pub const CALIBRATION_COUNTS: [u32; 12] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
/// Loads per request slot simulated.
pub const CALIBRATION_LOADS: [f64; 9] = [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
/// Requests measured per cell (after the warm-up).
pub const CALIBRATION_REQUESTS: f64 = 100_000.0;
/// The seed of every calibration run.
pub const CALIBRATION_SEED: u64 = 0x00ca_1b2a_7e5e_ed00;
/// Smallest probability kept in logarithms (a cell with no violation at all).
const P_MIN: f64 = 1e-12;

/// What a calibration depends on: the parts of a scenario that decide whether a request
/// violates the SLO in a static cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationSetup {
    pub service: ServiceSpec,
    pub concurrency: u32,
    pub balancer: Balancer,
    pub queue_timeout: Option<SimDuration>,
    pub slo: SimDuration,
    /// The largest count the planner may use (the table stops there).
    pub max_replicas: u32,
}

impl CalibrationSetup {
    /// The setup of a scenario.
    pub fn of(sc: &Scenario) -> CalibrationSetup {
        CalibrationSetup {
            service: sc.service.clone(),
            concurrency: sc.cluster.concurrency.max(1),
            balancer: sc.cluster.balancer,
            queue_timeout: sc.cluster.queue_timeout,
            slo: sc.cost.slo_latency,
            max_replicas: sc.cluster.max_replicas,
        }
    }

    /// The analytic model of this setup.
    pub fn analytic(&self) -> ViolationModel {
        ViolationModel::new(
            &self.service,
            self.concurrency,
            Dispatch::for_balancer(self.balancer),
            self.slo.as_secs_f64(),
        )
    }

    /// Whether the analytic model is exact here: one shared queue, exponential service, and
    /// no time-out shorter than the SLO.
    pub fn analytic_is_exact(&self) -> bool {
        self.balancer == Balancer::SharedQueue
            && matches!(self.service, ServiceSpec::Exponential { .. })
            && self.queue_timeout.is_none_or(|t| t >= self.slo)
    }

    /// The counts a table measures.
    pub fn counts(&self) -> Vec<u32> {
        let max = self.max_replicas.max(1);
        let mut counts: Vec<u32> = CALIBRATION_COUNTS
            .iter()
            .copied()
            .filter(|&n| n <= max)
            .collect();
        if max < *CALIBRATION_COUNTS.last().expect("counts") && counts.last() != Some(&max) {
            counts.push(max);
        }
        counts
    }

    /// The arrival rate (per second) that loads each request slot of `n` containers to `rho`.
    pub fn rate(&self, rho: f64, n: u32) -> f64 {
        rho * f64::from(n) * f64::from(self.concurrency) / self.service.mean_s()
    }

    /// A scenario of a static cluster of `n` containers under Poisson arrivals at `rate`,
    /// measuring `requests` requests after a warm-up of a tenth of that.
    pub fn cell_scenario(&self, n: u32, rate: f64, requests: f64) -> Scenario {
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
            service: self.service.clone(),
            cluster: ClusterSpec {
                concurrency: self.concurrency,
                balancer: self.balancer,
                startup: SimDuration::ZERO,
                shutdown: SimDuration::ZERO,
                min_replicas: n,
                max_replicas: n,
                initial_replicas: Some(n),
                queue_timeout: self.queue_timeout,
                queue_capacity: crate::cluster::DEFAULT_QUEUE_CAPACITY,
            },
            cost: CostSpec {
                replica_hour: 0.0,
                slo_latency: self.slo,
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

    /// The simulated violation ratio of `n` containers at load `rho` per slot.
    pub fn measure_cell(&self, n: u32, rho: f64, requests: f64) -> Result<f64, Error> {
        let sc = self.cell_scenario(n, self.rate(rho, n), requests);
        let run = crate::experiment::simulate(&sc, 0, 0)?;
        Ok(run.summary.slo_violation_ratio)
    }
}

/// A measured table of violation ratios by container count and load per slot.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The counts measured, ascending.
    pub counts: Vec<u32>,
    /// The loads measured, ascending, in (0, 1).
    pub loads: Vec<f64>,
    /// `ratios[j][i]`: the violation ratio of `counts[j]` containers at `loads[i]`, after the
    /// running maximum over loads.
    pub ratios: Vec<Vec<f64>>,
}

impl Calibration {
    /// Measures the table of `setup` with `requests` requests per cell, on as many threads as
    /// the calling rayon pool has (plain scoped threads: a rayon task waiting here must not
    /// pick up another run that would wait for this same table). Cells are independent and
    /// seeded alike, so the table does not depend on the number of threads.
    pub fn measure(setup: &CalibrationSetup, requests: f64) -> Result<Calibration, Error> {
        let counts = setup.counts();
        let loads = CALIBRATION_LOADS.to_vec();
        let cells: Vec<(u32, f64)> = counts
            .iter()
            .flat_map(|&n| loads.iter().map(move |&rho| (n, rho)))
            .collect();
        let threads = rayon::current_num_threads().clamp(1, cells.len().max(1));
        let chunk = cells.len().div_ceil(threads).max(1);
        let measured: Vec<f64> = std::thread::scope(|scope| {
            let handles: Vec<_> = cells
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|&(n, rho)| setup.measure_cell(n, rho, requests))
                            .collect::<Result<Vec<f64>, Error>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a calibration thread does not panic"))
                .collect::<Result<Vec<Vec<f64>>, Error>>()
                .map(|v| v.concat())
        })?;
        let floor = setup.analytic().service_tail();
        let ratios = measured
            .chunks(loads.len())
            .map(|row| {
                let mut running = floor;
                row.iter()
                    .map(|&p| {
                        running = running.max(p);
                        running
                    })
                    .collect()
            })
            .collect();
        Ok(Calibration {
            counts,
            loads,
            ratios,
        })
    }
}

/// The calibration table of `setup`, measured on first use and then shared by every caller in
/// the process (concurrent callers with the same setup wait for one measurement).
pub fn calibration(setup: &CalibrationSetup) -> Result<Arc<Calibration>, Error> {
    type Slot = Arc<Mutex<Option<Arc<Calibration>>>>;
    static CACHE: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let key = format!("{setup:?}");
    let slot = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(key).or_default().clone()
    };
    let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = guard.as_ref() {
        return Ok(c.clone());
    }
    let c = Arc::new(Calibration::measure(setup, CALIBRATION_REQUESTS)?);
    *guard = Some(c.clone());
    Ok(c)
}

/// `P(violation | rate, n)` from a [`Calibration`] (see the module documentation).
#[derive(Clone, Debug)]
pub struct CalibratedModel {
    analytic: ViolationModel,
    table: Arc<Calibration>,
    /// Seconds of service per request divided by slots per container: `ρ = rate · this / n`.
    load_per_rate: f64,
    concurrency: u32,
    /// `ln P` per count, on the grid `[0, loads..., 1]`.
    log_p: Vec<Vec<f64>>,
    /// The grid `[0, loads..., 1]`.
    grid: Vec<f64>,
    /// `ln R(ρ)` on the grid: measured over analytic, at the largest count.
    log_ratio: Vec<f64>,
}

impl CalibratedModel {
    pub fn new(setup: &CalibrationSetup, table: Arc<Calibration>) -> CalibratedModel {
        let analytic = setup.analytic();
        let floor = analytic.service_tail().max(P_MIN).ln();
        let mut grid = vec![0.0];
        grid.extend(&table.loads);
        grid.push(1.0);
        let log_p: Vec<Vec<f64>> = table
            .ratios
            .iter()
            .map(|row| {
                let mut v = vec![floor];
                v.extend(row.iter().map(|p| p.max(P_MIN).ln()));
                v.push(0.0);
                v
            })
            .collect();
        let last = *table.counts.last().expect("a calibration has counts");
        let top = log_p.last().expect("a calibration has rows");
        let log_ratio = grid
            .iter()
            .zip(top)
            .map(|(&rho, &lp)| {
                if rho <= 0.0 || rho >= 1.0 {
                    0.0
                } else {
                    let model = analytic.probability(setup.rate(rho, last), last);
                    lp - model.max(P_MIN).ln()
                }
            })
            .collect();
        CalibratedModel {
            load_per_rate: setup.service.mean_s() / f64::from(setup.concurrency),
            concurrency: setup.concurrency,
            analytic,
            table,
            log_p,
            grid,
            log_ratio,
        }
    }

    /// The table behind the model.
    pub fn table(&self) -> &Calibration {
        &self.table
    }

    /// Slots per container.
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// `P(latency > slo)` at arrival rate `rate` with `n` containers.
    pub fn probability(&self, rate: f64, n: u32) -> f64 {
        let mut out = [0.0];
        self.fill(rate, n, &mut out);
        out[0]
    }

    /// Linear interpolation of `values` (on `self.grid`) at load `rho` in [0, 1).
    fn at_load(&self, values: &[f64], rho: f64) -> f64 {
        let g = &self.grid;
        let i = g.partition_point(|&x| x <= rho).clamp(1, g.len() - 1);
        let (x0, x1) = (g[i - 1], g[i]);
        let w = ((rho - x0) / (x1 - x0)).clamp(0.0, 1.0);
        values[i - 1] + w * (values[i] - values[i - 1])
    }
}

impl ViolationColumns for CalibratedModel {
    fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
        let counts = &self.table.counts;
        let last = *counts.last().expect("a calibration has counts");
        // The analytic column, needed above the largest measured count only.
        let beyond_from = (last + 1).max(first);
        let end = first as u64 + out.len() as u64;
        let mut analytic = vec![0.0; (end.saturating_sub(beyond_from as u64)) as usize];
        if !analytic.is_empty() {
            self.analytic.fill(rate, beyond_from, &mut analytic);
        }
        for (i, slot) in out.iter_mut().enumerate() {
            let n = first + i as u32;
            if n == 0 {
                *slot = 1.0;
                continue;
            }
            let rho = rate * self.load_per_rate / f64::from(n);
            if rho >= 1.0 {
                *slot = 1.0;
                continue;
            }
            let j = counts.partition_point(|&c| c <= n);
            let p = if n >= last {
                let measured = self.at_load(self.log_p.last().expect("rows"), rho).exp();
                if n == last {
                    measured
                } else {
                    let ratio = self.at_load(&self.log_ratio, rho).exp();
                    measured.min(analytic[(n - beyond_from) as usize] * ratio)
                }
            } else {
                // counts[j - 1] ≤ n < counts[j] (j ≥ 1 because counts start at 1).
                let (c0, c1) = (counts[j - 1], counts[j]);
                let a = self.at_load(&self.log_p[j - 1], rho);
                if n == c0 {
                    a.exp()
                } else {
                    let b = self.at_load(&self.log_p[j], rho);
                    let w = (f64::from(n).ln() - f64::from(c0).ln())
                        / (f64::from(c1).ln() - f64::from(c0).ln());
                    (a + w * (b - a)).exp()
                }
            };
            *slot = p.clamp(self.analytic.service_tail(), 1.0);
        }
    }
}

/// Which violation model a planner uses (`model` key of `dp`, `oracle` and `lcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// Queueing theory only ([`ViolationModel`]).
    Analytic,
    /// Calibrated against the simulator ([`CalibratedModel`]); the analytic model where that
    /// is exact.
    Calibrated,
}

impl ModelKind {
    pub const NAMES: &'static str = "\"calibrated\" or \"analytic\"";

    pub fn parse(name: &str) -> Option<ModelKind> {
        match name {
            "analytic" => Some(ModelKind::Analytic),
            "calibrated" => Some(ModelKind::Calibrated),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Analytic => "analytic",
            ModelKind::Calibrated => "calibrated",
        }
    }
}

/// Load per request slot of every container at which rates are saturated (see
/// [`PlannerModel`]).
pub const SATURATION_LOAD: f64 = 0.95;

/// The violation model a planner of `sc` uses: the analytic or the calibrated model, with
/// rates beyond what `max_replicas` containers can serve priced as the rate that loads them to
/// [`SATURATION_LOAD`]. Past that rate every count is unstable in both models, so every count
/// would violate every request and the planner would have no reason to prefer more containers
/// over fewer; saturated, the most containers allowed is the best choice, as it is in the
/// simulator (more containers serve more of the surge and drain its backlog sooner).
#[derive(Clone, Debug)]
pub struct PlannerModel {
    inner: Inner,
    saturation: f64,
}

#[derive(Clone, Debug)]
enum Inner {
    Analytic(ViolationModel),
    Calibrated(CalibratedModel),
}

impl ViolationColumns for PlannerModel {
    fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
        let rate = rate.min(self.saturation);
        match &self.inner {
            Inner::Analytic(m) => m.fill(rate, first, out),
            Inner::Calibrated(m) => m.fill(rate, first, out),
        }
    }
}

impl PlannerModel {
    /// `P(latency > slo)` at arrival rate `rate` with `n` containers.
    pub fn probability(&self, rate: f64, n: u32) -> f64 {
        let mut out = [0.0];
        self.fill(rate, n, &mut out);
        out[0]
    }

    /// The calibrated model inside, if this is one.
    pub fn calibrated(&self) -> Option<&CalibratedModel> {
        match &self.inner {
            Inner::Calibrated(m) => Some(m),
            Inner::Analytic(_) => None,
        }
    }
}

/// The model of `kind` for scenario `sc`: the analytic model, or the calibrated one (measured
/// once per process and setup, see [`calibration`]) unless the analytic model is exact.
pub fn planner_model(sc: &Scenario, kind: ModelKind) -> Result<PlannerModel, Error> {
    let setup = CalibrationSetup::of(sc);
    let saturation = setup.rate(SATURATION_LOAD, setup.max_replicas);
    let inner = if kind == ModelKind::Analytic || setup.analytic_is_exact() {
        Inner::Analytic(setup.analytic())
    } else {
        Inner::Calibrated(CalibratedModel::new(&setup, calibration(&setup)?))
    };
    Ok(PlannerModel { inner, saturation })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::mean_ci95;

    /// Least connections over containers of 4 slots, deterministic 100 ms service and a
    /// 150 ms SLO (a request violates when it waits over 50 ms). The analytic model treats
    /// least connections as one shared queue, which it is not: a request joins one container's
    /// queue and waits for that container's slots only.
    fn least_connections() -> CalibrationSetup {
        CalibrationSetup {
            service: ServiceSpec::Deterministic {
                mean: SimDuration::from_millis(100),
            },
            concurrency: 4,
            balancer: Balancer::LeastConnections,
            queue_timeout: Some(SimDuration::from_secs(30)),
            slo: SimDuration::from_millis(150),
            max_replicas: 16,
        }
    }

    /// The simulated violation ratio of `n` containers at load `rho`, over `reps`
    /// replications independent of the calibration's (another seed): (mean, 95% CI).
    fn simulated(setup: &CalibrationSetup, n: u32, rho: f64, reps: u32) -> (f64, f64) {
        let mut sc = setup.cell_scenario(n, setup.rate(rho, n), 100_000.0);
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

    #[test]
    fn the_table_covers_the_counts_up_to_the_maximum() {
        let mut s = least_connections();
        assert_eq!(s.counts(), vec![1, 2, 3, 4, 6, 8, 12, 16]);
        s.max_replicas = 20;
        assert_eq!(s.counts(), vec![1, 2, 3, 4, 6, 8, 12, 16, 20]);
        s.max_replicas = 500;
        assert_eq!(s.counts(), CALIBRATION_COUNTS.to_vec());
        assert!(!s.analytic_is_exact());
        s.balancer = Balancer::SharedQueue;
        s.service = ServiceSpec::Exponential {
            mean: SimDuration::from_millis(100),
        };
        assert!(s.analytic_is_exact());
        s.queue_timeout = Some(SimDuration::from_millis(100));
        assert!(
            !s.analytic_is_exact(),
            "a time-out below the SLO drops requests"
        );
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
        let table = calibration(&setup).unwrap();
        let model = CalibratedModel::new(&setup, table.clone());
        // The second call shares the table.
        assert!(Arc::ptr_eq(&table, &calibration(&setup).unwrap()));
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

    #[test]
    fn the_table_does_not_depend_on_the_number_of_threads() {
        let mut setup = least_connections();
        setup.max_replicas = 3;
        let with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Calibration::measure(&setup, 5_000.0).unwrap())
        };
        let one = with(1);
        assert_eq!(one.counts, vec![1, 2, 3]);
        assert_eq!(one, with(3));
        // Non-decreasing in the load, and never below the floor P(S > slo) = 0.
        for row in &one.ratios {
            assert!(row.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
        }
    }

    /// Above the largest measured count the measured level at that count bounds the model,
    /// and every column is non-increasing in the count and 1 where the queue is unstable.
    #[test]
    fn columns_are_monotone_and_bounded() {
        let mut setup = least_connections();
        setup.max_replicas = 40;
        let table = Calibration {
            counts: vec![1, 2, 4],
            loads: vec![0.5, 0.9],
            ratios: vec![vec![0.02, 0.3], vec![0.01, 0.2], vec![0.005, 0.1]],
        };
        let model = CalibratedModel::new(&setup, Arc::new(table));
        let rate = setup.rate(0.9, 4);
        let mut col = vec![0.0; 40];
        model.fill(rate, 1, &mut col);
        // 4 containers at load 0.9 read the table exactly; 3 and fewer are unstable at this
        // rate (loads 1.2 and up).
        assert_eq!(&col[..3], &[1.0, 1.0, 1.0]);
        assert!((col[3] - 0.1).abs() < 1e-12, "{col:?}");
        for w in col.windows(2) {
            assert!(w[1] <= w[0] + 1e-15, "{col:?}");
        }
        assert_eq!(model.probability(rate, 0), 1.0);
        // Between loads, log-linear: at load 0.7, halfway, the geometric mean.
        let p = model.probability(setup.rate(0.7, 4), 4);
        assert!((p - (0.005f64 * 0.1).sqrt()).abs() < 1e-12, "{p}");
        // Between counts, log-linear in ln n: 3 containers at load 0.5 sit at
        // w = ln(3/2)/ln 2 between 0.01 and 0.005.
        let w = (1.5f64).ln() / 2f64.ln();
        let want = (0.01f64.ln() + w * (0.005f64.ln() - 0.01f64.ln())).exp();
        let p = model.probability(setup.rate(0.5, 3), 3);
        assert!((p - want).abs() < 1e-12, "{p} vs {want}");
    }
}
