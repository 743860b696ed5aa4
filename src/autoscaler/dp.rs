//! `dp`: the online dynamic-programming planner (receding horizon, model-predictive control).
//!
//! Source: the DP planner of this project (README, "The planner"; [`crate::planner::schedule`]), in the
//! model-predictive form of Kusic et al., "Power and performance management of virtualized
//! computing environments via lookahead control" (ICAC 2008) and Roy, Dubey, Gokhale,
//! "Efficient autoscaling in the cloud using predictive models for workload forecasting"
//! (IEEE CLOUD 2011): forecast the load over a horizon, plan the cheapest capacity for it,
//! apply the first step, repeat.
//!
//! Rules. The planner reads the cluster's arrival counter (what a load balancer counts; nothing
//! about the future) every second ([`super::planning::OBSERVATION_S`]; every step if the step
//! is not a whole number of seconds) and decides once per planning step (its `step`, by
//! default the shorter of the scenario's `interval` and 20 s), at its tick:
//! 1. feed the arrival rate of the step that just ended to the forecaster, and compare the
//!    rate of each second of it with the forecast made for it (see 3);
//! 2. forecast the next `horizon` steps; add to the first step the plan controls (the
//!    start-up delay `d` steps ahead) the backlog it will find, spread over that step: the
//!    requests waiting now (`Observation::queued`, what a load balancer or activator
//!    reports) plus, for each committed step, the forecast arrivals the committed containers
//!    cannot serve (`n · concurrency / mean service time` per second). The backlog is never
//!    assumed to drain before then: with per-container queues it stays on the containers
//!    that hold it, whatever joins them;
//! 3. price each step as the expected stage cost over the recent forecast errors at the lead
//!    time `d + 1` ([`crate::planner::uncertainty`]: the last hour of errors, one per second,
//!    so that they hold how the rate varies within a step as well as between steps; in
//!    square-root scale, weighted by how close the level they were made at is to the level
//!    forecast now, the largest kept individually), with the forecast first raised by `margin` times the
//!    root mean square of those errors (in square-root scale); the stage cost is replica cost
//!    plus expected SLO-violation penalty from the calibrated violation model;
//! 4. plan by backward induction over those steps from the current state (the containers
//!    ready now and those starting, with the step each will be ready from), with the switching
//!    costs of [`super::planning`], and ask for the plan's first decision (a desired total; the
//!    simulation actuates it with the start-up delay and drains on scale-down, as for every
//!    policy).
//!
//!
//! Between steps the planner plans again at once (event-triggered model-predictive control)
//! in two cases, without feeding the forecaster:
//! - a request arrives while no container is ready or starting (Knative's activator "poke"):
//!   it plans on its current forecast with that request in the backlog; this is what scales
//!   from zero;
//! - at an observation, more requests are waiting than the ready containers have slots (a
//!   surge the step's plan did not expect): it plans on its forecast raised to the rate of the
//!   last [`SURGE_WINDOW`] seconds, with the backlog. Without this a surge would wait up to a
//!   whole step to be seen.
//!
//! With `surges = true` (surge-aware hedging, off by default: see docs/planner.md, "Surges"),
//! errors beyond the forecast's band are kept out of the error window and in a decaying memory
//! of surges by phase ([`crate::planner::surge`]); each step of a plan is priced with the
//! probability of an unanswered surge in it, and at a surge trigger the forecast follows the
//! ramp's slope and the decision is at least what drains the movable backlog within the SLO.
//!
//! Defaults (and why, with the figures, in the README's planner section): see [`DEFAULT_FORECASTER`],
//! [`DEFAULT_HORIZON_S`] and [`DEFAULT_MARGIN`].

use super::planning::{Planning, observation_period, observed_rate};
use super::planning::{calibration_needed, planner_model};
use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, Decision, Observation};
use crate::cluster::routing::Balancer;
use crate::error::Error;
use crate::error::InputError;
use crate::planner::calibrate::Calibrations;
use crate::planner::calibrate::{CalibrationSetup, ModelKind, PlannerModel};
use crate::planner::forecast;
use crate::planner::forecast::{ForecastMethod, Forecaster};
use crate::planner::mixture;
use crate::planner::schedule::{PlanInput, plan};
use crate::planner::surge::{Surges, drain_containers};
use crate::planner::uncertainty::{ExpectedCosts, LeadErrors, denoise_parts, scenario_rate};
use crate::scenario::setting::Setting;
use crate::scenario::source::{Dur, NonNegative, Positive};
use crate::time::SimDuration;
use serde::Deserialize;
use toml::Spanned;

/// Default forecaster name.
pub const DEFAULT_FORECASTER: &str = "ewma";
/// Default horizon, seconds.
pub const DEFAULT_HORIZON_S: u64 = 600;
/// Default safety margin, in root-mean-square forecast errors (square-root scale) added to
/// the forecast.
pub const DEFAULT_MARGIN: f64 = 0.0;
/// Default season of the seasonal forecasters, seconds (one day).
pub const DEFAULT_SEASON_S: u64 = 86_400;
/// Seconds of arrivals that estimate the current rate when a surge triggers a plan between
/// steps.
pub const SURGE_WINDOW: usize = 5;
/// How far back the forecast errors are kept, seconds.
pub const ERROR_WINDOW_S: u64 = 3600;
/// Seconds of arrivals whose trend (least squares) extrapolates a ramp at a surge.
pub const SLOPE_WINDOW: usize = 10;

/// Validated `dp` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct DpParams {
    /// The decision step.
    pub step: SimDuration,
    /// How far ahead each plan looks (at least the start-up delay plus one step).
    pub horizon: SimDuration,
    pub forecaster: ForecastMethod,
    /// Root-mean-square forecast errors (square-root scale) added to the forecast.
    pub margin: f64,
    pub model: ModelKind,
    /// `season` of the seasonal forecasters, as a duration (zero for the others).
    pub season: SimDuration,
    /// Surge-aware hedging: surges kept apart from the ordinary errors, in a long decaying
    /// memory by phase ([`crate::planner::surge`]).
    pub surges: bool,
}

impl DpParams {
    /// The horizon in planning steps: `⌈horizon / step⌉`, at least `delay_steps + 1`.
    pub fn horizon_steps(&self, planning: &Planning) -> usize {
        (self.horizon.0.div_ceil(planning.step.0.max(1)) as usize).max(planning.delay_steps + 1)
    }
}

/// The online planner.
pub struct Dp {
    planning: Planning,
    margin: f64,
    forecaster: Forecaster,
    errors: LeadErrors,
    /// The memory of surges, when surge-aware hedging is on.
    surges: Option<Surges>,
    model: PlannerModel,
    /// Whether waiting requests can move to any container (one shared queue), so that new
    /// containers can drain them; else only the front buffer's can.
    shared_queue: bool,
    slo_s: f64,
    /// Surge probabilities per step of the horizon, and the surge scenarios.
    surge_p: Vec<f64>,
    /// Requests per second one container can serve: concurrency / mean service time.
    container_rate: f64,
    /// Load known for certain per step (the backlog), requests per second.
    extra: Vec<f64>,
    /// How often the arrival counter is read.
    observe: SimDuration,
    /// The arrival rates of the observation periods of the current step so far.
    parts: Vec<f64>,
    last_arrivals: u64,
    /// When the next observation is due (earlier calls are activator pokes).
    next_observation: u64,
    /// When the next planning step starts.
    next_step: u64,
    forecast: Vec<f64>,
}

impl Dp {
    /// The planner for a run of `sc`, its model calibrated on the tables prepared for it.
    pub fn new(
        params: &DpParams,
        sc: &Setting<'_>,
        calibrations: &Calibrations,
    ) -> Result<Dp, Error> {
        let planning = Planning::of(sc, params.step);
        let model = planner_model(sc, params.model, calibrations)?;
        let forecaster = Forecaster::new(params.forecaster)
            .map_err(|e| Error::Other(format!("dp forecaster: {e}")))?
            .scored_at(planning.delay_steps + 1);
        let (observe, parts) = observation_period(planning.step);
        let window = (ERROR_WINDOW_S as f64 / observe.as_secs_f64())
            .ceil()
            .max(1.0) as usize;
        let startup_s = planning.startup.as_secs_f64();
        Ok(Dp {
            margin: params.margin,
            forecaster,
            errors: LeadErrors::new(window),
            surges: params.surges.then(|| Surges::new(startup_s)),
            model,
            shared_queue: sc.cluster.balancer == Balancer::SharedQueue,
            slo_s: sc.cost.slo_latency.as_secs_f64(),
            surge_p: vec![0.0; params.horizon_steps(&planning)],
            container_rate: f64::from(sc.cluster.concurrency.max(1)) / sc.service.mean_s(),
            observe,
            parts: Vec::with_capacity(parts),
            last_arrivals: 0,
            next_observation: observe.0,
            next_step: planning.step.0,
            forecast: vec![0.0; params.horizon_steps(&planning)],
            extra: vec![0.0; params.horizon_steps(&planning)],
            planning,
        })
    }
}

impl Autoscaler for Dp {
    fn tick_interval(&self) -> SimDuration {
        self.observe
    }

    fn ticks_on_buffered_request(&self) -> bool {
        true
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        let d = self.planning.delay_steps;
        let now = obs.now.0;
        if now >= self.next_observation {
            self.next_observation = now.saturating_add(self.observe.0);
            let rate = observed_rate(obs, &mut self.last_arrivals, self.observe);
            self.parts.push(rate);
            if now < self.next_step {
                // Between planning steps: plan again at once only if requests pile up.
                if obs.queued <= obs.ready.saturating_mul(obs.concurrency) {
                    return Decision::Keep;
                }
                self.forecaster.forecast(&mut self.forecast);
                let recent = &self.parts[self.parts.len().saturating_sub(SURGE_WINDOW)..];
                let now_rate = recent.iter().sum::<f64>() / recent.len() as f64;
                if self.surges.is_none() {
                    for f in &mut self.forecast {
                        *f = f.max(now_rate);
                    }
                    return self.plan(obs);
                }
                // Surge-aware: follow the ramp's slope up to when new containers are ready,
                // and provision to drain the backlog new containers can take within the SLO.
                let slope = ramp_slope(
                    &self.parts[self.parts.len().saturating_sub(SLOPE_WINDOW)..],
                    self.observe.as_secs_f64(),
                );
                let step_s = self.planning.step.as_secs_f64();
                let ready_s = self.planning.startup.as_secs_f64() + step_s;
                for (j, f) in self.forecast.iter_mut().enumerate() {
                    let ahead = ((j as f64 + 0.5) * step_s).min(ready_s);
                    *f = f.max(now_rate + slope.max(0.0) * ahead);
                }
                let movable = if self.shared_queue {
                    obs.queued
                } else {
                    obs.front_buffer
                };
                let d = self.planning.delay_steps.min(self.forecast.len() - 1);
                let floor = drain_containers(
                    self.forecast[d],
                    f64::from(movable),
                    self.container_rate,
                    self.slo_s,
                )
                .min(self.planning.max_replicas);
                return match self.plan(obs) {
                    Decision::Desired(n) => Decision::Desired(n.max(floor)),
                    Decision::Keep => Decision::Keep,
                };
            }
            // A planning step: observe the step that just ended.
            self.next_step = now.saturating_add(self.planning.step.0);
            let mean = self.parts.iter().sum::<f64>() / self.parts.len() as f64;
            self.forecaster.observe(mean);
            denoise_parts(&mut self.parts, self.observe.as_secs_f64());
            if let Some(surges) = &mut self.surges {
                let rms = self.errors.root_rms();
                let seen = self
                    .errors
                    .observe_parts_within(&self.parts, |root_level| Surges::band(rms, root_level));
                let dt = self.observe.as_secs_f64();
                let start = now.saturating_sub(self.planning.step.0) as f64 / 1e9;
                for (i, (e, band)) in seen.into_iter().flatten().enumerate() {
                    surges.observe(start + i as f64 * dt, dt, e, band);
                }
            } else {
                self.errors.observe_parts(&self.parts);
            }
            self.parts.clear();
            self.forecaster.forecast(&mut self.forecast);
            self.errors.record(d + 1, self.forecast[d]);
        } else {
            // A poke: a request found no container. Plan again now on the same forecast.
            self.forecaster.forecast(&mut self.forecast);
        }
        self.plan(obs)
    }
}

impl Dp {
    /// Plans from the current state on `self.forecast` and returns the first decision.
    fn plan(&mut self, obs: &Observation<'_>) -> Decision {
        let d = self.planning.delay_steps;
        let committed = self.planning.committed(obs);
        let step_s = self.planning.step.as_secs_f64();
        let backlog = committed
            .iter()
            .zip(&self.forecast)
            .fold(f64::from(obs.queued), |q, (&n, &rate)| {
                q + (rate - f64::from(n) * self.container_rate).max(0.0) * step_s
            });
        if self.margin > 0.0 {
            let shift = self.margin * self.errors.root_rms();
            for f in &mut self.forecast {
                *f = scenario_rate(*f, shift);
            }
        }
        let scenarios = self.errors.scenarios(self.forecast[d]);
        self.extra.fill(0.0);
        self.extra[d] = backlog / step_s;
        let magnitudes = match &self.surges {
            Some(s) if !s.in_progress() => {
                // A surge is on, unanswered, in step j if it began within the shorter of its
                // usual length and the start-up delay before the step, or during the step.
                let now_s = obs.now.0 as f64 / 1e9;
                let startup_s = self.planning.startup.as_secs_f64();
                let lasts = s.mean_duration().unwrap_or(startup_s).min(startup_s);
                for (j, p) in self.surge_p.iter_mut().enumerate() {
                    let begin = now_s + j as f64 * step_s;
                    *p = s.probability((begin - lasts).max(now_s), begin + step_s);
                }
                s.magnitudes()
            }
            _ => Vec::new(),
        };
        let mut costs = ExpectedCosts::new(
            &self.forecast,
            &self.extra,
            &scenarios,
            &self.model,
            self.planning.prices,
        )
        .with_surges(&magnitudes, &self.surge_p);
        let input = PlanInput {
            intervals: self.forecast.len(),
            min_replicas: self.planning.min_replicas,
            max_replicas: self.planning.max_replicas,
            initial: obs.ready,
            committed: &committed,
            switching: self.planning.switching,
        };
        let plan = plan(&input, &mut costs)
            .expect("the plan's inputs are valid by construction (bounds, committed, forecast)");
        Decision::Desired(plan.decision.expect("a plan of at least one step decides"))
    }
}

/// The least-squares slope of `rates` observed every `dt` seconds (requests per second per
/// second; 0 for fewer than two).
fn ramp_slope(rates: &[f64], dt: f64) -> f64 {
    let n = rates.len();
    if n < 2 || dt <= 0.0 {
        return 0.0;
    }
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = rates.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &y) in rates.iter().enumerate() {
        let x = i as f64 - mean_x;
        sxy += x * (y - mean_y);
        sxx += x * x;
    }
    sxy / sxx / dt
}

/// A `dp` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDp {
    pub step: Option<Spanned<Dur>>,
    pub horizon: Option<Spanned<Dur>>,
    pub forecaster: Option<Spanned<String>>,
    pub alpha: Option<Spanned<Positive>>,
    pub beta: Option<Spanned<NonNegative>>,
    pub gamma: Option<Spanned<NonNegative>>,
    pub season: Option<Spanned<Dur>>,
    pub share: Option<Spanned<NonNegative>>,
    pub surges: Option<Spanned<bool>>,
    pub margin: Option<Spanned<NonNegative>>,
    pub model: Option<Spanned<String>>,
}

/// The forecasters `dp` takes, for error messages.
const FORECASTERS: &str = "\"auto\", \"last\", \"ewma\", \"seasonal_naive\" or \"holt_winters\"";

impl PolicyType for DpParams {
    const TYPE: &'static str = "dp";
    type Raw = RawDp;

    fn validate(raw: &RawDp, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        let step = k.step(&raw.step, ctx.interval)?;
        let horizon = k.positive(
            &raw.horizon,
            "horizon",
            SimDuration::from_secs(DEFAULT_HORIZON_S),
        )?;
        let name = raw
            .forecaster
            .as_ref()
            .map_or(DEFAULT_FORECASTER, |f| f.get_ref().as_str());
        let (uses_alpha, uses_hw, uses_season) = match name {
            "auto" | "last" => (false, false, false),
            "ewma" => (true, false, false),
            "seasonal_naive" => (false, false, true),
            "holt_winters" => (true, true, true),
            other => {
                let span = raw
                    .forecaster
                    .as_ref()
                    .map_or(k.type_span.clone(), |f| f.span());
                return Err(k.err(
                    span,
                    "forecaster",
                    format!(
                        "unknown forecaster {other}: expected {FORECASTERS}",
                        other = crate::error::quoted(other)
                    ),
                ));
            }
        };
        for (key, span, applies, which) in [
            (
                "alpha",
                raw.alpha.as_ref().map(|v| v.span()),
                uses_alpha,
                "\"ewma\" and \"holt_winters\"",
            ),
            (
                "beta",
                raw.beta.as_ref().map(|v| v.span()),
                uses_hw,
                "\"holt_winters\"",
            ),
            (
                "gamma",
                raw.gamma.as_ref().map(|v| v.span()),
                uses_hw,
                "\"holt_winters\"",
            ),
            (
                "season",
                raw.season.as_ref().map(|v| v.span()),
                uses_season,
                "\"seasonal_naive\" and \"holt_winters\"",
            ),
            (
                "share",
                raw.share.as_ref().map(|v| v.span()),
                name == "auto",
                "\"auto\"",
            ),
        ] {
            if let Some(span) = span
                && !applies
            {
                return Err(k.err(
                    span,
                    key,
                    format!(
                        "`{key}` applies to forecaster = {which} only, not {name}",
                        name = crate::error::quoted(name)
                    ),
                ));
            }
        }
        let unit = |v: &Option<Spanned<NonNegative>>, key: &str, default: f64| {
            k.number(v, key, default, |x| x <= 1.0, "a number from 0 to 1")
        };
        let hw_alpha = if name == "ewma" {
            forecast::DEFAULT_EWMA_ALPHA
        } else {
            forecast::DEFAULT_HW_ALPHA
        };
        let alpha = k.number(
            &raw.alpha,
            "alpha",
            hw_alpha,
            |x| x <= 1.0,
            "a smoothing weight above 0 and at most 1",
        )?;
        let period = if uses_season {
            let step_ns = step.0.max(1);
            match &raw.season {
                Some(s) => {
                    let season = s.get_ref().0;
                    if season.0 < step_ns || !season.0.is_multiple_of(step_ns) {
                        return Err(k.err(
                            s.span(),
                            "season",
                            format!(
                                "expected a whole number of planning steps (step = {}), found {}",
                                secs(step),
                                secs(season)
                            ),
                        ));
                    }
                    (season.0 / step_ns) as usize
                }
                None => {
                    let default = DEFAULT_SEASON_S * crate::time::NANOS_PER_SEC;
                    ((default as f64 / step_ns as f64).round() as usize).max(1)
                }
            }
        } else {
            0
        };
        let forecaster = match name {
            "auto" => ForecastMethod::Auto {
                share: k.number(
                    &raw.share,
                    "share",
                    mixture::DEFAULT_SHARE,
                    |x| x < 1.0,
                    "a fraction from 0 to below 1",
                )?,
                step_s: step.as_secs_f64(),
            },
            "last" => ForecastMethod::Last,
            "ewma" => ForecastMethod::Ewma { alpha },
            "seasonal_naive" => ForecastMethod::SeasonalNaive { period },
            _ => ForecastMethod::HoltWinters {
                alpha,
                beta: unit(&raw.beta, "beta", forecast::DEFAULT_HW_BETA)?,
                gamma: unit(&raw.gamma, "gamma", forecast::DEFAULT_HW_GAMMA)?,
                period,
            },
        };
        let margin = k.number(
            &raw.margin,
            "margin",
            DEFAULT_MARGIN,
            |x| x <= 10.0,
            "a number of forecast-error standard deviations from 0 to 10",
        )?;
        let season = match forecaster {
            ForecastMethod::SeasonalNaive { period }
            | ForecastMethod::HoltWinters { period, .. } => {
                SimDuration(step.0.saturating_mul(period as u64))
            }
            ForecastMethod::Last | ForecastMethod::Ewma { .. } | ForecastMethod::Auto { .. } => {
                SimDuration::ZERO
            }
        };
        Ok(DpParams {
            step,
            horizon,
            forecaster,
            margin,
            model: k.model(&raw.model)?,
            season,
            surges: raw.surges.as_ref().is_some_and(|v| *v.get_ref()),
        })
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let p = self;
        let mut v = vec![
            ("step", secs(p.step)),
            ("horizon", secs(p.horizon)),
            ("forecaster", p.forecaster.name().to_string()),
        ];
        match p.forecaster {
            ForecastMethod::Auto { share, .. } => v.push(("share", share.to_string())),
            ForecastMethod::Last => {}
            ForecastMethod::Ewma { alpha } => v.push(("alpha", alpha.to_string())),
            ForecastMethod::SeasonalNaive { .. } => v.push(("season", secs(p.season))),
            ForecastMethod::HoltWinters {
                alpha, beta, gamma, ..
            } => v.extend([
                ("alpha", alpha.to_string()),
                ("beta", beta.to_string()),
                ("gamma", gamma.to_string()),
                ("season", secs(p.season)),
            ]),
        }
        v.extend([
            ("margin", p.margin.to_string()),
            ("model", p.model.name().to_string()),
            ("surges", p.surges.to_string()),
        ]);
        v
    }

    fn decision_step(&self) -> Option<SimDuration> {
        Some(self.step)
    }

    fn calibration(&self, sc: &Setting<'_>) -> Option<CalibrationSetup> {
        calibration_needed(sc, self.model)
    }

    fn build(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, Error> {
        Ok(Box::new(Dp::new(self, &ctx.setting, ctx.calibrations)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::testkit::Cluster;
    use crate::scenario::Scenario;
    use std::path::Path;

    fn scenario(extra: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\nduration = \"1h\"\ninterval = \"60s\"\n[workload]\ntype = \"poisson\"\nrate = 10.0\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[cluster]\nstartup = \"90s\"\nmax_replicas = 50\n{extra}\n[[policy]]\nname = \"dp\"\ntype = \"dp\"\nstep = \"60s\"\n"
        );
        crate::scenario::parse(Path::new("t.toml"), &text).unwrap()
    }

    #[test]
    fn start_up_delay_is_counted_in_whole_steps() {
        let sc = scenario("");
        let p = Planning::of(&sc.setting(), SimDuration::from_secs(60));
        assert_eq!(p.delay_steps, 2);
        // Two starts priced at their two unserved minutes of billing (0.04/h default).
        assert!((p.switching.start - 120.0 * 0.04 / 3600.0).abs() < 1e-15);
        assert_eq!(p.switching.stop, 0.0);
    }

    #[test]
    fn committed_counts_starting_containers_from_the_step_they_are_ready() {
        let sc = scenario("");
        let p = Planning::of(&sc.setting(), SimDuration::from_secs(60));
        // 3 ready; one started 30 s ago (ready in 60 s), one started now (ready in 90 s).
        let mut c = Cluster::new(1, 3);
        c.run(30.0, &[]);
        c.start_one();
        c.run(30.0, &[]);
        c.start_one();
        let obs = c.obs();
        // Step 0 starts now, step 1 in 60 s: the first starting container is due exactly then.
        assert_eq!(p.committed(&obs), vec![3, 4]);
    }

    #[test]
    fn steady_load_settles_on_the_cheapest_count() {
        // At 10/s with 100 ms exponential service the load is 1 Erlang; on a load it forecasts
        // exactly, the planner settles on the count that minimises replica cost plus expected
        // penalty under the M/M/c model (exact here: shared queue, exponential service).
        let sc = scenario("initial_replicas = 1");
        let crate::autoscaler::PolicySpec::Dp(params) = &sc.policies[0].spec else {
            panic!("a dp policy")
        };
        let mut dp = Dp::new(
            params,
            &sc.setting(),
            &crate::calibration::prepare(&[&sc], &|_| {}).unwrap(),
        )
        .unwrap();
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
        let mut c = Cluster::new(1, 1);
        c.max_replicas = 50;
        let mut asked = Vec::new();
        for second in 1..=600 {
            c.run_with_queue(1.0, &[], 0.0, 10);
            match dp.tick(&c.obs()) {
                Decision::Desired(n) => {
                    assert_eq!(second % 60, 0, "decides only at planning steps");
                    asked.push(n);
                    c.apply(Decision::Desired(n));
                    c.make_all_ready();
                }
                Decision::Keep => assert_ne!(second % 60, 0),
            }
        }
        assert_eq!(asked.len(), 10);
        assert!(asked.iter().all(|&n| n == best), "{asked:?}, best {best}");
    }

    #[test]
    fn requests_piling_up_between_steps_trigger_a_plan_at_once() {
        let sc = scenario("initial_replicas = 2");
        let crate::autoscaler::PolicySpec::Dp(params) = &sc.policies[0].spec else {
            panic!("a dp policy")
        };
        let mut dp = Dp::new(
            params,
            &sc.setting(),
            &crate::calibration::prepare(&[&sc], &|_| {}).unwrap(),
        )
        .unwrap();
        let mut c = Cluster::new(1, 2);
        c.max_replicas = 50;
        // A quiet first step, then 100/s with a queue building 5 s into the second step.
        for _ in 0..60 {
            c.run_with_queue(1.0, &[], 0.0, 1);
            let _ = dp.tick(&c.obs());
        }
        for second in 1..=5 {
            c.run_with_queue(1.0, &[1.0, 1.0], 0.0, 100);
            assert_eq!(dp.tick(&c.obs()), Decision::Keep, "second {second}");
        }
        c.run_with_queue(1.0, &[1.0, 1.0], 3.0, 100);
        let mut obs = c.obs();
        obs.queued = 3;
        // 100/s is 10 Erlangs: the plan asks for well over 10 containers now.
        match dp.tick(&obs) {
            Decision::Desired(n) => assert!(n > 10, "{n}"),
            Decision::Keep => panic!("a surge is planned for at once"),
        }
    }

    /// The decision step is the policy's own: with `step = "20s"` under a 60 s report
    /// interval, `dp` decides every 20 s.
    #[test]
    fn decides_at_its_own_step() {
        let text = "name = \"t\"\nduration = \"1h\"\ninterval = \"60s\"\n[workload]\ntype = \"poisson\"\nrate = 10.0\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[cluster]\nstartup = \"30s\"\nmax_replicas = 50\ninitial_replicas = 1\n[[policy]]\nname = \"dp\"\ntype = \"dp\"\nstep = \"20s\"\n";
        let sc = crate::scenario::parse(Path::new("t.toml"), text).unwrap();
        let crate::autoscaler::PolicySpec::Dp(params) = &sc.policies[0].spec else {
            panic!("a dp policy")
        };
        let mut dp = Dp::new(
            params,
            &sc.setting(),
            &crate::calibration::prepare(&[&sc], &|_| {}).unwrap(),
        )
        .unwrap();
        let mut c = Cluster::new(1, 1);
        c.max_replicas = 50;
        let mut at = Vec::new();
        for second in 1..=120 {
            c.run_with_queue(1.0, &[], 0.0, 10);
            if let Decision::Desired(n) = dp.tick(&c.obs()) {
                at.push(second);
                c.apply(Decision::Desired(n));
                c.make_all_ready();
            }
        }
        assert_eq!(at, vec![20, 40, 60, 80, 100, 120]);
    }
}
