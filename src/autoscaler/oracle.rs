//! `oracle`: the offline optimal plan. It SEES THE FUTURE: it plans on the true arrivals of
//! the very run it controls, which no real autoscaler can know. It is the lower bound other
//! policies are measured against (their regret), not a policy to deploy.
//!
//! Source: the DP planner of this project (README, "The planner"; [`crate::planner::schedule`]), run
//! once offline, as the offline optimum of Lin, Wierman, Andrew, Thereska, "Dynamic
//! right-sizing for power-proportional data centers" (INFOCOM 2011).
//!
//! Rules. When the run is built, the oracle opens the replication's own arrival stream (the
//! same `arrivals` stream the simulation replays, so the same requests), counts the arrivals
//! of every second of every planning step (its `step`, by default the online planners' default:
//! the shorter of the scenario's `interval` and 20 s, so that regret is measured on equal
//! terms; every step when it is not a whole number of seconds) up to `duration`, and plans the whole run by backward induction
//! on those true rates: replica cost plus expected SLO-violation penalty (calibrated violation
//! model, each step priced by the pointwise stationary approximation over its seconds, see
//! [`PointwiseCosts`]) plus switching costs, from the initial cluster. Its first
//! decision is at the first tick, one step into the run (no policy acts earlier), so the plan
//! covers steps 1 onwards. At the tick of step `t` it asks for the most containers the plan
//! needs over steps `t..=t + d` (`d` the start-up delay in steps, see
//! [`crate::planner::schedule::desired_totals`]), which carries the plan out exactly unless it dips
//! for less than a start-up delay (then it keeps the containers through the dip).
//!
//! Like every policy that scales from zero (Knative's activator), a request that arrives while
//! no container is ready or starting makes it act at once: it carries out its next decision
//! then rather than at the next tick.
//!
//! Optimal under the planner's model, not necessarily in the simulator: the model uses the
//! stationary violation probability of each step's mean rate.

use super::planning::{Planning, initial_replicas, observation_period};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, Decision, Observation};
use crate::error::InputError;
use serde::Deserialize;
use toml::Spanned;
/// A `oracle` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOracle {
    pub step: Option<Spanned<Dur>>,
    pub model: Option<Spanned<String>>,
}

impl PolicyType for OracleParams {
    const TYPE: &'static str = "oracle";
    type Raw = RawOracle;

    fn validate(raw: &RawOracle, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        Ok(OracleParams {
            step: k.step(&raw.step, ctx.interval)?,
            model: k.model(&raw.model)?,
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "sees_the_future",
                "yes: plans on this run's true arrivals (a lower bound, not deployable)"
                    .to_string(),
            ),
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
        Ok(Box::new(Oracle::new(
            self,
            &ctx.setting,
            ctx.replication,
            self.default_initial_replicas(&PolicyContext::of(&ctx.setting)),
            ctx.calibrations,
        )?))
    }
}

use super::planning::{calibration_needed, planner_model};
#[cfg(test)]
use crate::autoscaler::PolicySpec;
use crate::error::Error;
use crate::planner::calibrate::Calibrations;
use crate::planner::calibrate::{CalibrationSetup, ModelKind};
use crate::planner::schedule::{Plan, PlanInput, desired_totals, plan};
use crate::planner::uncertainty::{PointwiseCosts, denoise_parts};
use crate::rng;
use crate::scenario::setting::Setting;
use crate::scenario::source::Dur;
use crate::time::{SimDuration, SimTime};
use crate::workload;

/// Validated `oracle` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct OracleParams {
    /// The decision step (the same default as the online planners').
    pub step: SimDuration,
    pub model: ModelKind,
}

/// The true arrival rates (per second) of replication `replication` of `sc`: the
/// replication's own arrival stream counted per `period` up to `duration` (the last period may
/// be shorter; its rate is over its own length).
pub fn true_rates(
    sc: &Setting<'_>,
    replication: u32,
    period: SimDuration,
) -> Result<Vec<f64>, Error> {
    let step = period.0.max(1);
    let end = sc.duration.0;
    let steps = end.div_ceil(step) as usize;
    let mut counts = vec![0u64; steps];
    let mut source = workload::open(
        sc.workload,
        rng::stream(sc.seed, replication, rng::ARRIVALS),
    )?;
    // Sources that can count whole seconds without generating each arrival (the same counts).
    let sec = crate::time::NANOS_PER_SEC;
    if step.is_multiple_of(sec)
        && end.is_multiple_of(sec)
        && let Some(per_second) = source.counts_per_second(end / sec)
    {
        for (c, chunk) in counts
            .iter_mut()
            .zip(per_second.chunks((step / sec) as usize))
        {
            *c = chunk.iter().sum();
        }
        return Ok(rates_of(&counts, step, end));
    }
    let mut batch: Vec<SimTime> = Vec::with_capacity(4096);
    'read: loop {
        batch.clear();
        if source.fill(&mut batch, 4096)? == 0 {
            break;
        }
        for t in &batch {
            if t.0 >= end {
                break 'read;
            }
            counts[(t.0 / step) as usize] += 1;
        }
    }
    Ok(rates_of(&counts, step, end))
}

/// Rates per second of the counts of steps of `step` ns up to `end` (the last step may be
/// shorter; its rate is over its own length).
fn rates_of(counts: &[u64], step: u64, end: u64) -> Vec<f64> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let len = (end - i as u64 * step).min(step);
            c as f64 / SimDuration(len).as_secs_f64()
        })
        .collect()
}

/// The oracle's plan for replication `replication` of `sc`, and the true rate of every step
/// it planned on: the plan covers steps `1..` (index 0 of `replicas` is step 1).
pub fn oracle_plan(
    params: &OracleParams,
    sc: &Setting<'_>,
    replication: u32,
    initial: u32,
    calibrations: &Calibrations,
) -> Result<(Plan, Vec<f64>), Error> {
    let planning = Planning::of(sc, params.step);
    let (period, parts) = observation_period(planning.step);
    let mut fine = true_rates(sc, replication, period)?;
    // Whole steps only: pad the last one (a step cut short by the end of the run) with its
    // own mean, so that its rate is over its own length.
    let steps = fine.len().div_ceil(parts);
    let cut = steps * parts - fine.len();
    if cut > 0 {
        let have = &fine[(steps - 1) * parts..];
        let mean = have.iter().sum::<f64>() / have.len() as f64;
        fine.extend(std::iter::repeat_n(mean, cut));
    }
    let rates: Vec<f64> = fine
        .chunks(parts)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    for c in fine.chunks_mut(parts) {
        denoise_parts(c, period.as_secs_f64());
    }
    let model = planner_model(sc, params.model, calibrations)?;
    let future = fine.get(parts..).unwrap_or(&[]);
    let committed = vec![initial; planning.delay_steps];
    let input = PlanInput {
        intervals: future.len() / parts,
        min_replicas: planning.min_replicas,
        max_replicas: planning.max_replicas,
        initial,
        committed: &committed,
        switching: planning.switching,
    };
    let mut costs = PointwiseCosts::new(
        future,
        parts,
        &model,
        planning.prices,
        planning.max_replicas,
    );
    let plan = plan(&input, &mut costs)
        .map_err(|e| Error::Other(format!("the oracle cannot plan: {e}")))?;
    Ok((plan, rates))
}

/// The oracle policy: carries out its precomputed plan.
pub struct Oracle {
    step: SimDuration,
    /// Containers ready at time 0.
    initial: u32,
    /// The desired total to ask for at the tick of step `t` is `desired[t - 1]`.
    desired: Vec<u32>,
    /// Containers the plan has ready in each step from step 1.
    plan: Vec<u32>,
    /// When the next regular tick is due (earlier calls are pokes).
    next_tick: u64,
}

impl Oracle {
    /// Plans replication `replication` of `sc` (reads the replication's arrivals).
    pub fn new(
        params: &OracleParams,
        sc: &Setting<'_>,
        replication: u32,
        default_initial: u32,
        calibrations: &Calibrations,
    ) -> Result<Oracle, Error> {
        let planning = Planning::of(sc, params.step);
        let initial = initial_replicas(sc, default_initial);
        let (plan, _) = oracle_plan(params, sc, replication, initial, calibrations)?;
        let mut desired = desired_totals(&plan.replicas, planning.delay_steps);
        if let (Some(first), Some(decision)) = (desired.first_mut(), plan.decision) {
            *first = decision;
        }
        Ok(Oracle {
            step: planning.step,
            initial,
            desired,
            plan: plan.replicas,
            next_tick: planning.step.0,
        })
    }

    /// Containers the plan has ready in each step, from step 1.
    pub fn plan(&self) -> &[u32] {
        &self.plan
    }

    /// The decisions as `plan.csv` rows, one per step up to `end`: the initial replicas at
    /// time 0, then the desired total the tick of each step asks for. No simulation is needed:
    /// the oracle's decisions are fixed before the run (a run differs only where a request
    /// finds no container and pokes it into carrying out its next decision early).
    pub fn rows(&self, end: SimDuration) -> Vec<(f64, u32)> {
        let step = self.step.0.max(1);
        let mut out = vec![(0.0, self.initial)];
        let mut current = self.initial;
        let mut t = 1u64;
        while t.saturating_mul(step) < end.0 {
            if let Some(&n) = self.desired.get(t as usize - 1) {
                current = n;
            }
            out.push((SimDuration(t * step).as_secs_f64(), current));
            t += 1;
        }
        out
    }
}

impl Autoscaler for Oracle {
    fn tick_interval(&self) -> SimDuration {
        self.step
    }

    fn ticks_on_buffered_request(&self) -> bool {
        true
    }

    /// At the tick of step `t`, the plan's decision for it; at a poke during step `t` (a
    /// request found no container), the decision of the next tick, at once.
    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        let step = self.step.0.max(1);
        if obs.now.0 >= self.next_tick {
            self.next_tick = obs.now.0.saturating_add(step);
        }
        // The step whose tick this is (for a poke, the next tick's).
        let t = (self.next_tick / step - 1) as usize;
        match t.checked_sub(1).and_then(|i| self.desired.get(i)) {
            Some(&n) => Decision::Desired(n),
            None => Decision::Keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const STEP: &str = r#"
name = "t"
seed = 5
duration = "20m"
interval = "60s"
[workload]
type = "step"
steps = [[0, 20.0], ["5m", 200.0], ["12m", 20.0]]
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
startup = "60s"
max_replicas = 60
initial_replicas = 3
[[policy]]
name = "oracle"
type = "oracle"
step = "60s"
"#;

    #[test]
    fn true_rates_count_the_replications_own_arrivals() {
        let sc = crate::scenario::parse(Path::new("t.toml"), STEP).unwrap();
        let rates = true_rates(&sc.setting(), 0, SimDuration::from_secs(60)).unwrap();
        assert_eq!(rates.len(), 20);
        let run = crate::experiment::simulate(&sc, 0, 0).unwrap();
        for (r, row) in rates.iter().zip(&run.timeline) {
            assert_eq!((r * 60.0).round() as u64, row.arrivals);
        }
        // Another replication sees other arrivals.
        assert_ne!(
            rates,
            true_rates(&sc.setting(), 1, SimDuration::from_secs(60)).unwrap()
        );
    }

    /// A diurnal workload's counts come per second without generating each arrival, and are
    /// exactly the arrivals the simulation replays.
    #[test]
    fn true_rates_of_a_diurnal_load_are_the_simulated_arrivals() {
        let text = STEP.replace(
            "type = \"step\"\nsteps = [[0, 20.0], [\"5m\", 200.0], [\"12m\", 20.0]]",
            "type = \"diurnal\"\nrate = 80.0\namplitude = 0.9\nperiod = \"7m\"\nphase = 0.3",
        );
        let sc = crate::scenario::parse(Path::new("t.toml"), &text).unwrap();
        let mut source =
            workload::open(&sc.workload, rng::stream(sc.seed, 0, rng::ARRIVALS)).unwrap();
        assert!(source.counts_per_second(1200).is_some());
        for step in [1, 60] {
            let rates = true_rates(&sc.setting(), 0, SimDuration::from_secs(step)).unwrap();
            assert_eq!(rates.len() as u64, 1200 / step);
            let run = crate::experiment::simulate(&sc, 0, 0).unwrap();
            let per_minute: Vec<u64> = rates
                .chunks((60 / step) as usize)
                .map(|c| c.iter().map(|r| (r * step as f64).round() as u64).sum())
                .collect();
            let simulated: Vec<u64> = run.timeline.iter().map(|row| row.arrivals).collect();
            assert_eq!(per_minute, simulated);
        }
    }

    /// The simulation carries out the plan exactly: the containers ready through each step
    /// are the plan's (its start-up delay of one step is whole, and the plan has no dip).
    #[test]
    fn the_run_carries_out_the_plan() {
        let sc = crate::scenario::parse(Path::new("t.toml"), STEP).unwrap();
        let PolicySpec::Oracle(p) = &sc.policies[0].spec else {
            panic!("an oracle")
        };
        let oracle = Oracle::new(p, &sc.setting(), 0, 1, &Calibrations::none()).unwrap();
        let plan = oracle.plan().to_vec();
        assert_eq!(plan.len(), 19);
        // Index t is step t + 1. It has 200/s (20 Erlangs) covered from the step the load
        // rises (step 5, at 5 min), not before, and comes back down at step 12.
        assert!(plan[3] < 10 && plan[4] > 20 && plan[10] > 20, "{plan:?}");
        assert!(plan[11] < 10, "{plan:?}");
        let run = crate::experiment::simulate(&sc, 0, 0).unwrap();
        // Row t holds the count at the end of step t, that is, through step t + 1.
        let ready: Vec<u32> = run.timeline[..19]
            .iter()
            .map(|r| r.ready_replicas)
            .collect();
        assert_eq!(ready, plan);
    }

    /// At the default step (20 s, shorter than the 60 s report interval) the oracle decides
    /// every 20 s, and its plan written without simulating is exactly what the simulated run
    /// asked for at each step (no request ever finds no container here, so nothing pokes it).
    #[test]
    fn decides_at_its_own_step_and_its_plan_needs_no_simulation() {
        let text = STEP.replace("step = \"60s\"\n", "");
        let sc = crate::scenario::parse(Path::new("t.toml"), &text).unwrap();
        let PolicySpec::Oracle(p) = &sc.policies[0].spec else {
            panic!("an oracle")
        };
        assert_eq!(p.step, SimDuration::from_secs(20));
        let oracle = Oracle::new(p, &sc.setting(), 0, 1, &Calibrations::none()).unwrap();
        // 60 steps of 20 s, planned from step 1.
        assert_eq!(oracle.plan().len(), 59);
        let rows = oracle.rows(sc.duration);
        assert_eq!(rows.len(), 60);
        assert_eq!(rows[0], (0.0, 3));
        assert_eq!(rows[7].0, 140.0);
        let run = crate::experiment::simulate(&sc, 0, 0).unwrap();
        assert_eq!(run.plan_every(p.step, sc.duration), rows);
        // The decisions fall at multiples of the step, several per report interval.
        assert!(run.decisions.iter().all(|(t, _)| t.0 % p.step.0 == 0));
        assert!(
            run.decisions
                .iter()
                .any(|(t, _)| t.0 % SimDuration::from_secs(60).0 != 0)
        );
    }
}
