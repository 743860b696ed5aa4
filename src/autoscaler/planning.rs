//! What the planning policies (`dp`, `oracle`, `lcp`) share: the planning step, the start-up
//! delay in steps, the prices and switching costs of the planner's model, and the state of the
//! cluster as the planner sees it.
//!
//! The planning step `Δ` is the policy's own `step` key, independent of the scenario's report
//! `interval` (by default the shorter of the interval and [`DEFAULT_STEP_S`] seconds); the
//! policies decide once per step, and the decision made at a tick governs the step that
//! starts then. A container asked for at a
//! tick becomes ready `startup` later; the planner counts it from the first step that starts
//! after that, so the start-up delay in steps is `d = ⌈startup / Δ⌉` (conservative: a container
//! ready part-way through a step is not counted in it).
//!
//! The planner's model bills a container only for the steps it counts it as ready, while the
//! simulator bills it from its start decision until it stops. So that the model's objective is
//! the simulator's, the price of one start is the scenario's `start_cost` plus the billing of
//! the `d` steps before the planner counts the container (`d · Δ · replica_hour / 3600`), and
//! the price of one stop is `stop_cost` plus the billing of the `shutdown` delay.

use super::{ContainerState, Observation};
use crate::error::Error;
use crate::planner::calibrate::{CalibrationSetup, Calibrations, ModelKind, PlannerModel};
use crate::planner::schedule::{Prices, Switching};
use crate::scenario::setting::Setting;
use crate::time::SimDuration;

/// The planning parameters of a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Planning {
    /// The planning step (the policy's `step`).
    pub step: SimDuration,
    /// The start-up delay.
    pub startup: SimDuration,
    /// The start-up delay in steps, `⌈startup / step⌉`.
    pub delay_steps: usize,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub prices: Prices,
    pub switching: Switching,
}

/// The longest default planning step, seconds: planners decide every `min(interval, 20 s)`
/// unless their `step` says otherwise. Chosen on the planner benchmark (`docs/planner.md`,
/// "Decision step"): deciding more often than a one-minute report interval is what lets `dp`
/// react within a start-up delay.
pub const DEFAULT_STEP_S: u64 = 20;

/// The default planning step for a scenario whose report interval is `interval`.
pub fn default_step(interval: SimDuration) -> SimDuration {
    interval.min(SimDuration::from_secs(DEFAULT_STEP_S))
}

impl Planning {
    /// The planning parameters of `sc` for a planner that decides every `step`.
    pub fn of(sc: &Setting<'_>, step: SimDuration) -> Planning {
        let startup = sc.cluster.startup;
        let delay_steps = startup.0.div_ceil(step.0.max(1)) as usize;
        let per_second = sc.cost.replica_hour / 3600.0;
        let step_s = step.as_secs_f64();
        Planning {
            step,
            startup,
            delay_steps,
            min_replicas: sc.cluster.min_replicas,
            max_replicas: sc.cluster.max_replicas,
            prices: Prices {
                interval_s: step_s,
                replica_hour: sc.cost.replica_hour,
                violation_penalty: sc.cost.violation_penalty,
            },
            switching: Switching {
                start: sc.cost.start_cost + delay_steps as f64 * step_s * per_second,
                stop: sc.cost.stop_cost + sc.cluster.shutdown.as_secs_f64() * per_second,
            },
        }
    }

    /// What will be ready in each of the next `d` steps as things stand: the ready containers
    /// plus the starting ones due by the start of that step, within the replica bounds
    /// (non-decreasing).
    pub fn committed(&self, obs: &Observation<'_>) -> Vec<u32> {
        let now = obs.now.0;
        let mut due: Vec<u64> = obs
            .containers
            .iter()
            .filter(|c| c.state == ContainerState::Starting)
            .map(|c| c.created.0.saturating_add(self.startup.0))
            .collect();
        due.sort_unstable();
        (0..self.delay_steps)
            .map(|s| {
                let at = now.saturating_add(self.step.0.saturating_mul(s as u64));
                let starting = due.partition_point(|&t| t <= at) as u32;
                (obs.ready + starting).clamp(self.min_replicas, self.max_replicas)
            })
            .collect()
    }
}

/// The calibration table a planner with model `kind` needs in a run of `sc`: none for the
/// analytic model, nor where the analytic model is exact (a shared queue, exponential
/// service, no time-out below the SLO).
pub fn calibration_needed(sc: &Setting<'_>, kind: ModelKind) -> Option<CalibrationSetup> {
    let setup = setup_of(sc);
    (kind == ModelKind::Calibrated && !setup.analytic_is_exact()).then_some(setup)
}

/// The violation model of a planner with model `kind` in a run of `sc`, on the table prepared
/// in `calibrations` where it needs one.
pub fn planner_model(
    sc: &Setting<'_>,
    kind: ModelKind,
    calibrations: &Calibrations,
) -> Result<PlannerModel, Error> {
    let table = match calibration_needed(sc, kind) {
        Some(setup) => Some(calibrations.get(&setup).ok_or_else(|| {
            Error::Other(
                "the calibration table of this cluster was not measured before the run".into(),
            )
        })?),
        None => None,
    };
    Ok(PlannerModel::new(&setup_of(sc), table))
}

/// How often the planners read the arrival counter within a planning step.
pub const OBSERVATION_S: u64 = 1;

/// The observation period within a step of length `step`, and how many fit in a step: one
/// second when the step is a whole number of seconds, else the step itself.
pub fn observation_period(step: SimDuration) -> (SimDuration, usize) {
    let sec = OBSERVATION_S * crate::time::NANOS_PER_SEC;
    if step.0 >= sec && step.0.is_multiple_of(sec) {
        (SimDuration(sec), (step.0 / sec) as usize)
    } else {
        (step, 1)
    }
}

/// The arrival rate (per second) of the step that just ended, from the cumulative arrival
/// counter: what a load balancer can count. `last` holds the counter at the previous tick.
pub fn observed_rate(obs: &Observation<'_>, last: &mut u64, step: SimDuration) -> f64 {
    let count = obs.totals.arrivals.saturating_sub(*last);
    *last = obs.totals.arrivals;
    count as f64 / step.as_secs_f64()
}

/// The replicas a run starts with: `cluster.initial_replicas`, else the policy's default,
/// clamped to the bounds (as the simulation does).
pub fn initial_replicas(sc: &Setting<'_>, default: u32) -> u32 {
    sc.cluster
        .initial_replicas
        .unwrap_or(default)
        .clamp(sc.cluster.min_replicas, sc.cluster.max_replicas)
}

/// The calibration setup of a scenario: the parts of it that decide whether a request violates
/// the SLO in a static cluster.
pub fn setup_of(sc: &Setting<'_>) -> CalibrationSetup {
    CalibrationSetup {
        service: sc.service.clone(),
        concurrency: sc.cluster.concurrency.max(1),
        balancer: sc.cluster.balancer,
        queue_timeout: sc.cluster.queue_timeout,
        slo: sc.cost.slo_latency,
        max_replicas: sc.cluster.max_replicas,
    }
}
