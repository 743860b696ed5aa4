//! `lcp`: Lazy Capacity Provisioning, an online algorithm from the literature with a proven
//! competitive ratio, on the same cost model as `dp`.
//!
//! Source: Lin, Wierman, Andrew, Thereska, "Dynamic right-sizing for power-proportional data
//! centers" (INFOCOM 2011; IEEE/ACM ToN 2013); integer version Albers and Quedenfeld,
//! "Optimal algorithms for right-sizing data centers" (SPAA 2018). The algorithm is in
//! [`crate::planner::lazy_capacity`].
//!
//! Rules. Every planning step (its `step`, by default the shorter of the scenario's `interval`
//! and 20 s), at its tick: observe the arrival rate
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
use super::planning::{calibration_needed, planner_model};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, Decision, Observation};
use crate::error::Error;
use crate::error::InputError;
use crate::planner::calibrate::Calibrations;
use crate::planner::calibrate::{CalibrationSetup, ModelKind, PlannerModel};
use crate::planner::lazy_capacity::Lcp;
use crate::scenario::setting::Setting;
use crate::scenario::source::Dur;
use crate::time::SimDuration;
use serde::Deserialize;
use toml::Spanned;

/// Validated `lcp` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LcpParams {
    /// The decision step.
    pub step: SimDuration,
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
    pub fn new(
        params: &LcpParams,
        sc: &Setting<'_>,
        default_initial: u32,
        calibrations: &Calibrations,
    ) -> Result<Self, Error> {
        let planning = Planning::of(sc, params.step);
        let model = planner_model(sc, params.model, calibrations)?;
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

/// A `lcp` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLcp {
    pub step: Option<Spanned<Dur>>,
    pub model: Option<Spanned<String>>,
}

impl PolicyType for LcpParams {
    const TYPE: &'static str = "lcp";
    type Raw = RawLcp;

    fn validate(raw: &RawLcp, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        Ok(LcpParams {
            step: k.step(&raw.step, ctx.interval)?,
            model: k.model(&raw.model)?,
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        vec![
            ("step", secs(self.step)),
            ("model", self.model.name().to_string()),
        ]
    }

    fn decision_step(&self) -> Option<SimDuration> {
        Some(self.step)
    }

    fn calibration(&self, sc: &Setting<'_>) -> Option<CalibrationSetup> {
        calibration_needed(sc, self.model)
    }

    fn build(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, Error> {
        Ok(Box::new(LcpPolicy::new(
            self,
            &ctx.setting,
            self.default_initial_replicas(&PolicyContext::of(&ctx.setting)),
            ctx.calibrations,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;
    use std::path::Path;

    /// On a steady load LCP's bounds close on the count `n*` that minimises the stage cost:
    /// starting above it, the lower bound is `n*` at once (falling is free in its problem)
    /// and the upper bound stays at `n* + 1` while `t · (c(n* + 1) - c(n*)) ≤ β` (its problem
    /// pays `β` for every stop; ties go to the larger count), so LCP holds `n* + 1` for exactly
    /// those steps, then moves.
    #[test]
    fn steady_load_settles_on_the_cheapest_count_lazily() {
        let text = "name = \"t\"\nduration = \"1h\"\ninterval = \"60s\"\n[workload]\ntype = \"poisson\"\nrate = 10.0\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[cluster]\nstartup = \"60s\"\nmax_replicas = 50\ninitial_replicas = 30\n[[policy]]\nname = \"lcp\"\ntype = \"lcp\"\nstep = \"60s\"\n";
        let sc = crate::scenario::parse(Path::new("t.toml"), text).unwrap();
        let crate::autoscaler::PolicySpec::Lcp(params) = &sc.policies[0].spec else {
            panic!("an lcp policy")
        };
        let mut lcp = LcpPolicy::new(params, &sc.setting(), 1, &Calibrations::none()).unwrap();
        let model = crate::planner::queueing::ViolationModel::new(
            &sc.service,
            1,
            crate::planner::queueing::Dispatch::Shared,
            0.5,
        );
        let cost =
            |n: u32| n as f64 * 60.0 * 0.04 / 3600.0 + 1e-4 * 600.0 * model.probability(10.0, n);
        let best = (1..=50u32)
            .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
            .unwrap();
        // β: a start is one minute of billing (the whole-step start-up), a stop is free.
        let beta = 60.0 * 0.04 / 3600.0;
        let gap = cost(best + 1) - cost(best);
        // The first step t with t · gap > β.
        let switch = (beta / gap).floor() as usize + 1;
        assert!((3..200).contains(&switch), "{switch}");
        let mut c = Cluster::new(1, 30);
        c.max_replicas = 50;
        let mut asked = Vec::new();
        for _ in 0..switch {
            c.run_with_queue(60.0, &[], 0.0, 600);
            let Decision::Desired(n) = lcp.tick(&c.obs()) else {
                panic!("lcp decides every step")
            };
            asked.push(n);
            c.apply(Decision::Desired(n));
            c.make_all_ready();
        }
        let mut want = vec![best + 1; switch - 1];
        want.push(best);
        // The first step falls from 30 only as far as its upper bound then allows.
        assert!(asked[0] > best, "{asked:?}");
        assert_eq!(asked[1..], want[1..], "{asked:?}");
    }
}
