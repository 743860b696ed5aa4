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
//! - above the largest measured count `n_J`, only the excess over the service-time floor
//!   `f = P(S > slo)` is scaled, in the square-root (Halfin-Whitt) regime: `n` containers at
//!   load `ρ` are matched with `n_J` containers at the load `ρ'` with the same
//!   `(1 − ρ')√n_J = (1 − ρ)√n`, and the excess shrinks as `1/√n`:
//!   `P(ρ, n) = f + (P(ρ', n_J) − f) · √(n_J / n)`, and `f` once `ρ' ≤ 0`. (Scaling the whole
//!   probability, floor included, by a ratio measured at `n_J` over-estimated violations 1.5 to
//!   2.5 times at 90-95% load above 64 containers.) The test
//!   `extrapolation_matches_simulations_at_256_and_1024_containers` checks it against
//!   simulations;
//! - measured values are made non-decreasing in the load (a running maximum over the grid),
//!   which removes sampling noise against the one shape every queue has.
//!
//! When the analytic model is exact (a shared queue, exponential service, and no time-out
//! shorter than the SLO), [`PlannerModel::new`] is given no table and uses it as it is:
//! simulating would only add noise.
//!
//! This module is pure maths: the tables are measured on the simulator by
//! [`crate::calibration`], before any run, and handed to the policies when they are built.

use super::queueing::{Dispatch, ViolationModel};
use super::schedule::ViolationColumns;
use crate::cluster::Balancer;
use crate::cluster::service::ServiceSpec;
use crate::time::SimDuration;
use std::sync::Arc;

/// Container counts simulated (those up to `max_replicas`, and `max_replicas` itself when it
/// is below the largest).
pub const CALIBRATION_COUNTS: [u32; 12] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
/// Loads per request slot simulated.
pub const CALIBRATION_LOADS: [f64; 9] = [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
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
    /// The table of `setup` from the violation ratios measured in its cells, count by count
    /// (`setup.counts()`), each at every load of [`CALIBRATION_LOADS`]: made non-decreasing in
    /// the load (a running maximum, from the floor `P(S > slo)`).
    pub fn from_cells(setup: &CalibrationSetup, measured: &[f64]) -> Calibration {
        let counts = setup.counts();
        let loads = CALIBRATION_LOADS.to_vec();
        debug_assert_eq!(measured.len(), counts.len() * loads.len());
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
        Calibration {
            counts,
            loads,
            ratios,
        }
    }
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
        CalibratedModel {
            load_per_rate: setup.service.mean_s() / f64::from(setup.concurrency),
            concurrency: setup.concurrency,
            analytic,
            table,
            log_p,
            grid,
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
        let floor = self.analytic.service_tail();
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
            let top = self.log_p.last().expect("rows");
            let p = if n == last {
                self.at_load(top, rho).exp()
            } else if n > last {
                let scale = (f64::from(n) / f64::from(last)).sqrt();
                let matched = 1.0 - (1.0 - rho) * scale;
                if matched <= 0.0 {
                    floor
                } else {
                    floor + (self.at_load(top, matched).exp() - floor).max(0.0) / scale
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
            *slot = p.clamp(floor, 1.0);
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

    /// Both models clamp to the service-time floor and reach it at large counts.
    fn floor(&self) -> Option<f64> {
        Some(self.analytic().service_tail())
    }

    /// Both models give 1 wherever the load per slot is 1 or more.
    fn unstable_below(&self, rate: f64) -> u32 {
        self.analytic().unstable_below(rate.min(self.saturation))
    }
}

impl PlannerModel {
    /// `P(latency > slo)` at arrival rate `rate` with `n` containers.
    pub fn probability(&self, rate: f64, n: u32) -> f64 {
        let mut out = [0.0];
        self.fill(rate, n, &mut out);
        out[0]
    }

    /// The analytic model: the whole model, or the calibrated one's floor and stability.
    fn analytic(&self) -> &ViolationModel {
        match &self.inner {
            Inner::Analytic(m) => m,
            Inner::Calibrated(m) => &m.analytic,
        }
    }

    /// The calibrated model inside, if this is one.
    pub fn calibrated(&self) -> Option<&CalibratedModel> {
        match &self.inner {
            Inner::Calibrated(m) => Some(m),
            Inner::Analytic(_) => None,
        }
    }
}

impl PlannerModel {
    /// The model of a cluster of `setup`: calibrated on `table` when one is given, else the
    /// analytic model, with rates saturated where `max_replicas` containers reach
    /// [`SATURATION_LOAD`].
    pub fn new(setup: &CalibrationSetup, table: Option<Arc<Calibration>>) -> PlannerModel {
        let saturation = setup.rate(SATURATION_LOAD, setup.max_replicas);
        let inner = match table {
            Some(t) => Inner::Calibrated(CalibratedModel::new(setup, t)),
            None => Inner::Analytic(setup.analytic()),
        };
        PlannerModel { inner, saturation }
    }
}

/// The calibration tables a set of runs needs, measured (or read from the disk cache) before
/// any of them starts (by `calibration::prepare`) and handed to the policies.
#[derive(Clone, Debug, Default)]
pub struct Calibrations {
    tables: Vec<(CalibrationSetup, Arc<Calibration>)>,
}

impl Calibrations {
    /// No tables (for policies that need none).
    pub fn none() -> Calibrations {
        Calibrations::default()
    }

    /// The table of `setup`, if prepared.
    pub fn get(&self, setup: &CalibrationSetup) -> Option<Arc<Calibration>> {
        self.tables
            .iter()
            .find(|(s, _)| s == setup)
            .map(|(_, t)| t.clone())
    }

    /// Adds the table of `setup`.
    pub fn insert(&mut self, setup: CalibrationSetup, table: Calibration) {
        self.tables.push((setup, Arc::new(table)));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Least connections over containers of 4 slots, deterministic 100 ms service and a
    /// 150 ms SLO (a request violates when it waits over 50 ms). The analytic model treats
    /// least connections as one shared queue, which it is not: a request joins one container's
    /// queue and waits for that container's slots only.
    pub(crate) fn least_connections() -> CalibrationSetup {
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
        // Above the table (4 containers), the excess over the floor (0: deterministic 100 ms
        // service never exceeds the 150 ms SLO) at the load matched in √n, over √(n / 4):
        // 16 containers at load 0.95 match 4 at 1 − 0.05 · 2 = 0.9 (0.1), halved.
        let p = model.probability(setup.rate(0.95, 16), 16);
        assert!((p - 0.05).abs() < 1e-12, "{p}");
        // At load 0.5 they match load 0: the floor.
        assert_eq!(model.probability(setup.rate(0.5, 16), 16), 0.0);
    }
}
