//! `lcp`: Lazy Capacity Provisioning, an online algorithm from the literature with a proven
//! competitive ratio, on the same cost model as `dp`.
//!
//! Source: Lin, Wierman, Andrew, Thereska, "Dynamic right-sizing for power-proportional data
//! centers" (INFOCOM 2011; IEEE/ACM ToN 2013); integer version Albers and Quedenfeld,
//! "Optimal algorithms for right-sizing data centers" (SPAA 2018). The algorithm is in
//! [`crate::planner::lcp`].
//!
//! Rules. Every planning step (the scenario's `interval`), at its tick: observe the arrival rate
//! of the step that just ended (from the cluster's arrival counter, nothing about the future),
//! turn it into that step's stage costs for every replica count (replica cost plus expected
//! SLO-violation penalty, from the calibrated violation model), and let LCP take its step:
//! keep the previous count if it lies between the bounds `x^L` and `x^U` of the optimal
//! schedules of the past, else move to the nearest bound. Ask for that count (the simulation
//! actuates it with the start-up delay, as for every policy). The switching price `β` is the
//! price of a start plus the price of a stop (see [`super::planning`]).
//!
//! LCP has no forecast and no notion of a start-up delay: what it decides for the step that
//! just ended is what it asks for now.

use super::planning::{Planning, initial_replicas, observed_rate};
use super::{Autoscaler, Decision, Observation};
use crate::error::Error;
use crate::planner::calibrate::{ModelKind, PlannerModel, planner_model};
use crate::planner::lcp::Lcp;
use crate::scenario::Scenario;
use crate::time::SimDuration;

/// Validated `lcp` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LcpParams {
    pub model: ModelKind,
}

/// The LCP policy.
pub struct LcpPolicy {
    planning: Planning,
    lcp: Lcp,
    model: PlannerModel,
    column: Vec<f64>,
    last_arrivals: u64,
}

impl LcpPolicy {
    /// LCP for a run of `sc` starting from its initial cluster.
    pub fn new(params: &LcpParams, sc: &Scenario, default_initial: u32) -> Result<Self, Error> {
        let planning = Planning::of(sc);
        let model = planner_model(sc, params.model)?;
        let lcp = Lcp::new(
            planning.min_replicas,
            planning.max_replicas,
            planning.switching,
            initial_replicas(sc, default_initial),
        )
        .map_err(|e| Error::Other(format!("lcp: {e}")))?;
        Ok(LcpPolicy {
            column: vec![0.0; (planning.max_replicas - planning.min_replicas) as usize + 1],
            planning,
            lcp,
            model,
            last_arrivals: 0,
        })
    }
}

impl Autoscaler for LcpPolicy {
    fn tick_interval(&self) -> SimDuration {
        self.planning.step
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        let rate = observed_rate(obs, &mut self.last_arrivals, self.planning.step);
        self.planning.prices.fill_stage(
            &self.model,
            rate,
            self.planning.min_replicas,
            &mut self.column,
        );
        Decision::Desired(self.lcp.step(&self.column))
    }
}
