//! One run: one policy, one replication, one seed — the loop joining the workload, the
//! cluster model ([`crate::cluster::model`]), the policy and the accounting ([`accounting`]).
//!
//! [`run`] is the one entry point. Its caller builds the policy and chooses its initial
//! replica count and its arrivals (see `experiment::simulate` for a policy of the scenario).
//!
//! The run loop merges two time-ordered streams: arrivals, read in batches straight from the
//! [`ArrivalSource`] (they are already in time order, so they never enter the event queue),
//! and everything else (departures, containers becoming ready or stopping, queue time-outs,
//! policy ticks, interval ends) through the [`EventQueue`]. At equal times, queued events go
//! before the arrival, so a request arriving exactly when a slot frees finds it free.
//!
//! Guarantees:
//! - Determinism: the run depends only on the scenario, the policy, its initial replicas, the
//!   arrivals and the replication's seed.
//! - Common random numbers: each request's service time is drawn at its arrival from the
//!   replication's `service` stream, whether or not it is later served, so every policy sees
//!   the same requests with the same service times.
//! - Streaming: per request, nothing outlives the request; per interval, one timeline row.
//! - No allocation, dynamic dispatch or heap operation per request beyond the departure event
//!   (and a queue slot when the request waits).
//! - The policy sees only [`Observation`]s, at its own tick.

pub mod accounting;

use crate::autoscaler::{Autoscaler, ContainerView, Decision, Observation};
use crate::cluster::model::{Cluster, ClusterEvent, Request};
use crate::cluster::service::ServiceSampler;
use crate::engine::EventQueue;
use crate::error::{Error, InputError};
use crate::rng::{self, SimRng};
use crate::scenario::Scenario;
use crate::stats::{LatencyHistogram, RunSummary, TimelineRow};
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::workload::{ArrivalSource, TraceEnd, WorkloadSpec};
use accounting::Accounting;
use std::sync::atomic::{AtomicU64, Ordering};

/// Arrivals read from the source per batch.
const ARRIVAL_BATCH: usize = 4096;

/// The result of one run.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub policy: String,
    pub replication: u32,
    pub summary: RunSummary,
    pub timeline: Vec<TimelineRow>,
    /// Latencies of the completed requests after the warm-up.
    pub latency: LatencyHistogram,
    /// Set when the workload ran out of arrivals before the end of the run: the time of its
    /// last arrival.
    pub workload_ended_at: Option<SimTime>,
    /// Remarks of the arrival source about its input (lines of a log it skipped, ...).
    pub notes: Vec<String>,
    /// Replicas ready at time 0.
    pub initial_replicas: u32,
    /// Every change of the desired replica count the policy made: when, and the new count.
    pub decisions: Vec<(SimTime, u32)>,
    /// The sweep point of the run (0 without a sweep).
    pub point: usize,
}

impl RunResult {
    /// The run's replica plan: for each timeline interval, its start and the desired replica
    /// count in effect as it starts (the initial replicas for the first; then the desired
    /// count at the end of the interval before, which includes the decisions taken at the
    /// boundary). This is the `plan.csv` of the run: what a live executor asks for, when.
    pub fn plan(&self) -> Vec<(f64, u32)> {
        let mut out = Vec::with_capacity(self.timeline.len());
        let mut current = self.initial_replicas;
        for row in &self.timeline {
            out.push((row.time_s, current));
            current = row.desired_replicas;
        }
        out
    }

    /// The run's replica plan at a resolution of its own: one row per `step` from time 0 to
    /// `end`, each with the desired count in effect at that time (the decisions taken at that
    /// very time included). This is the `plan.csv` of a planner at its decision step.
    pub fn plan_every(&self, step: SimDuration, end: SimDuration) -> Vec<(f64, u32)> {
        let step = step.0.max(1);
        let mut out = Vec::with_capacity(end.0.div_ceil(step) as usize);
        let mut current = self.initial_replicas;
        let mut next = self.decisions.iter().peekable();
        let mut t = 0u64;
        while t < end.0 {
            while let Some(&&(at, n)) = next.peek() {
                if at.0 > t {
                    break;
                }
                current = n;
                next.next();
            }
            out.push((SimDuration(t).as_secs_f64(), current));
            t = t.saturating_add(step);
        }
        out
    }
}

/// What a run is given by its caller.
pub struct RunInput<'a> {
    /// The scenario: cluster, service, cost, duration, warm-up, interval and seed.
    pub scenario: &'a Scenario,
    /// The replication: with the scenario's seed, it seeds the service and balancer streams.
    pub replication: u32,
    /// The name that labels the result.
    pub policy_name: String,
    /// The policy, built.
    pub policy: Box<dyn Autoscaler>,
    /// Containers ready at time 0 (brought within the scenario's replica bounds).
    pub initial_replicas: u32,
    /// The arrivals, in time order.
    pub arrivals: Box<dyn ArrivalSource>,
    /// When given, the simulated nanoseconds of each completed interval are added to it as
    /// the run goes (for progress bars).
    pub progress: Option<&'a AtomicU64>,
}

/// Simulates one run.
pub fn run(input: RunInput<'_>) -> Result<RunResult, Error> {
    let RunInput {
        scenario: sc,
        replication,
        policy_name,
        policy,
        initial_replicas,
        arrivals,
        progress,
    } = input;
    let initial = initial_replicas.clamp(sc.cluster.min_replicas, sc.cluster.max_replicas);
    let mut sim = Sim::new(sc, replication, policy, arrivals, initial);
    sim.progress = progress;
    sim.run()?;
    let areas = sim.cluster.areas(sim.end);
    let (summary, timeline, latency) = sim.acct.finish(sc, areas);
    let workload_ended_at = sim
        .source_done
        .then_some(SimTime(sim.last_arrival))
        .filter(|t| t.0 < sim.end)
        .filter(|_| sim.source.covered_until().is_none_or(|c| c.0 < sim.end));
    Ok(RunResult {
        notes: sim.source.notes(),
        initial_replicas: initial,
        decisions: std::mem::take(&mut sim.decisions),
        point: 0,
        policy: policy_name,
        replication,
        summary,
        timeline,
        latency,
        workload_ended_at,
    })
}

#[derive(Clone, Copy, Debug)]
enum Event {
    /// One of the cluster's own events (departures, start-ups, stops, time-outs).
    Cluster(ClusterEvent),
    /// The policy's periodic tick.
    Tick,
    /// An extra tick because a request arrived to no container (activator poke).
    Poke,
    IntervalEnd,
    WarmupEnd,
}

impl From<ClusterEvent> for Event {
    #[inline]
    fn from(ev: ClusterEvent) -> Self {
        Event::Cluster(ev)
    }
}

struct Sim<'a> {
    sc: &'a Scenario,
    progress: Option<&'a AtomicU64>,
    policy: Box<dyn Autoscaler>,
    source: Box<dyn ArrivalSource>,
    service: ServiceSampler,
    service_rng: SimRng,
    events: EventQueue<Event>,
    cluster: Cluster,
    acct: Accounting,

    now: u64,
    end: u64,
    warmup: u64,

    arrivals: Vec<SimTime>,
    arrival_pos: usize,
    /// Arrivals drawn so far, held to `[limits] arrivals` (a trace's count is known only as
    /// it is read).
    drawn: u64,
    source_done: bool,
    last_arrival: u64,
    views: Vec<ContainerView>,
    decisions: Vec<(SimTime, u32)>,
}

impl<'a> Sim<'a> {
    fn new(
        sc: &'a Scenario,
        replication: u32,
        policy: Box<dyn Autoscaler>,
        source: Box<dyn ArrivalSource>,
        initial: u32,
    ) -> Self {
        let mut events = EventQueue::with_capacity(1024);
        let cluster = Cluster::new(
            &sc.cluster,
            rng::stream(sc.seed, replication, rng::BALANCER),
            initial,
        )
        .with_startup_stream(&sc.cluster, rng::stream(sc.seed, replication, rng::STARTUP))
        .with_faults(
            &sc.cluster,
            rng::stream(sc.seed, replication, rng::FAULTS),
            &mut events,
        );
        let mut sim = Sim {
            sc,
            progress: None,
            policy,
            source,
            service: ServiceSampler::new(&sc.service),
            service_rng: rng::stream(sc.seed, replication, rng::SERVICE),
            events,
            cluster,
            acct: Accounting::new(sc),
            now: 0,
            end: sc.duration.0,
            warmup: sc.warmup.0,
            arrivals: Vec::with_capacity(ARRIVAL_BATCH),
            arrival_pos: 0,
            drawn: 0,
            source_done: false,
            last_arrival: 0,
            views: Vec::new(),
            decisions: Vec::new(),
        };
        let tick = sim.policy.next_tick(SimTime::ZERO).0;
        if tick < sim.end {
            sim.events.push(SimTime(tick), Event::Tick);
        }
        let step = sc.interval.0;
        if step < sim.end {
            sim.events.push(SimTime(step), Event::IntervalEnd);
        }
        if sim.warmup > 0 {
            sim.events.push(SimTime(sim.warmup), Event::WarmupEnd);
        }
        sim
    }

    /// The time of the next arrival, refilling the batch when it runs out.
    #[inline]
    fn next_arrival(&mut self) -> Result<u64, InputError> {
        if self.arrival_pos < self.arrivals.len() {
            return Ok(self.arrivals[self.arrival_pos].0);
        }
        if self.source_done {
            return Ok(u64::MAX);
        }
        self.arrivals.clear();
        self.arrival_pos = 0;
        let n = self.source.fill(&mut self.arrivals, ARRIVAL_BATCH)?;
        if n == 0 {
            self.source_done = true;
            return Ok(u64::MAX);
        }
        self.drawn = self.drawn.saturating_add(n as u64);
        let limit = self.sc.limits.arrivals;
        if self.drawn > limit && self.arrivals[0].0 < self.end {
            return Err(crate::scenario::limits::exceeded(
                self.sc,
                "workload",
                "arrivals",
                "the number of arrivals of one run (counted as the workload is read)",
                self.drawn as f64,
                limit,
            ));
        }
        Ok(self.arrivals[0].0)
    }

    fn run(&mut self) -> Result<(), Error> {
        loop {
            let ta = self.next_arrival()?;
            let te = self.events.peek_time().map_or(u64::MAX, |t| t.0);
            if te <= ta {
                if te >= self.end {
                    break;
                }
                let (t, ev) = self.events.pop().expect("peeked");
                self.now = t.0;
                self.handle(ev);
            } else {
                if ta >= self.end {
                    break;
                }
                self.arrival_pos += 1;
                self.now = ta;
                self.last_arrival = ta;
                self.arrive();
            }
        }
        if self.source_done
            && self.source.covered_until().is_none_or(|c| c.0 < self.end)
            && let WorkloadSpec::Trace(t) = &self.sc.workload
            && t.on_end == TraceEnd::Error
        {
            return Err(InputError::new(format!(
                "the trace ends (last arrival at {} s of replay) before the scenario's end at {} s; set `loop = true`, `on_end = \"stop\"`, or a shorter `duration`",
                self.last_arrival as f64 / NANOS_PER_SEC as f64,
                self.end as f64 / NANOS_PER_SEC as f64
            ))
            .in_file(&t.path)
            .key("workload.on_end")
            .into());
        }
        self.now = self.end;
        self.close_interval();
        Ok(())
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Cluster(ev) => {
                if let ClusterEvent::Departure {
                    container,
                    arrival,
                    wait,
                } = ev
                    && self.cluster.completes(container)
                {
                    self.acct.completed(self.now, arrival, wait);
                }
                self.cluster
                    .handle(self.now, ev, &mut self.events, &mut self.acct);
            }
            Event::Tick => {
                let next = self.policy.next_tick(SimTime(self.now)).0.max(self.now + 1);
                if next < self.end {
                    self.events.push(SimTime(next), Event::Tick);
                }
                self.tick();
            }
            Event::Poke => {
                if self.cluster.ready() == 0 && self.cluster.starting() == 0 {
                    self.tick();
                }
            }
            Event::IntervalEnd => {
                self.close_interval();
                let next = self.now.saturating_add(self.sc.interval.0);
                if next < self.end {
                    self.events.push(SimTime(next), Event::IntervalEnd);
                }
            }
            Event::WarmupEnd => {
                let areas = self.cluster.areas(self.now);
                self.acct.warmup_ended(areas);
            }
        }
    }

    #[inline]
    fn arrive(&mut self) {
        let service = self.service.sample(&mut self.service_rng);
        let req = Request {
            arrival: self.now,
            service,
        };
        self.acct.arrived(self.now);
        let buffered = self
            .cluster
            .arrive(self.now, req, &mut self.events, &mut self.acct);
        if buffered
            && self.cluster.ready() == 0
            && self.cluster.starting() == 0
            && self.policy.ticks_on_buffered_request()
        {
            self.events.push(SimTime(self.now), Event::Poke);
        }
    }

    fn close_interval(&mut self) {
        let len = self
            .acct
            .close_interval(self.sc, self.now, &mut self.cluster);
        if let Some(p) = self.progress
            && len > 0
        {
            p.fetch_add(len, Ordering::Relaxed);
        }
    }

    /// The policy observes the cluster and decides; the decision goes through the common
    /// actuation path (bounds, start-up, drain).
    fn tick(&mut self) {
        let now = self.now;
        self.cluster.observe(now, &mut self.views);
        let areas = self.cluster.areas(now);
        let c = &self.cluster;
        let obs = Observation {
            now: SimTime(now),
            concurrency: c.concurrency(),
            min_replicas: self.sc.cluster.min_replicas,
            max_replicas: self.sc.cluster.max_replicas,
            desired: c.desired(),
            ready: c.ready(),
            starting: c.starting(),
            draining: c.draining(),
            front_buffer: c.front_buffer(),
            queued: c.waiting(),
            busy: c.busy(),
            totals: self.acct.totals(&areas),
            containers: &self.views,
        };
        if let Decision::Desired(n) = self.policy.tick(&obs) {
            let old = self.cluster.desired();
            let n = self.cluster.clamp(n);
            let (starts, stops) = self
                .cluster
                .scale_to(now, n, &mut self.events, &mut self.acct);
            self.acct.decided(now, old, n, starts, stops);
            if n != old {
                self.decisions.push((SimTime(now), n));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Tiny scenarios whose every event is computed by hand.
    use super::*;
    use crate::workload::synthetic::Fixed;
    use std::path::Path;

    fn scenario(cluster: &str, extra: &str) -> Scenario {
        let text = format!(
            r#"
name = "t"
duration = 10
interval = 5
[workload]
type = "poisson"
rate = 1
[service]
distribution = "deterministic"
mean = 1
[cluster]
{cluster}
[cost]
replica_hour = 3600
slo_latency = 2
violation_penalty = 0.5
{extra}
"#
        );
        crate::scenario::parse(Path::new("t.toml"), &text).unwrap()
    }

    fn run_input(input: RunInput<'_>) -> RunResult {
        super::run(input).unwrap()
    }

    fn run(sc: &Scenario, times: &[f64]) -> RunResult {
        let src = Fixed::new(times.iter().map(|t| SimTime::from_secs_f64(*t)).collect());
        let (policy_name, policy, initial_replicas) =
            crate::experiment::build_policy(sc, 0, 0).unwrap();
        run_input(RunInput {
            scenario: sc,
            replication: 0,
            policy_name,
            policy,
            initial_replicas,
            arrivals: Box::new(src),
            progress: None,
        })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// One server, deterministic 1 s service, arrivals at 0, 0.5, 0.7 and 3.0 s:
    /// waits 0, 0.5, 1.3 and 0 (the last arrives exactly when the third leaves).
    #[test]
    fn fifo_single_server_by_hand() {
        let sc = scenario(
            "initial_replicas = 1",
            "[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1",
        );
        let r = run(&sc, &[0.0, 0.5, 0.7, 3.0]);
        let s = &r.summary;
        assert_eq!((s.requests, s.completed, s.dropped), (4, 4, 0));
        assert!(close(s.mean_wait_s, 0.45), "{}", s.mean_wait_s);
        assert!(close(s.p_wait, 0.5));
        assert!(close(s.mean_latency_s, 1.45));
        assert_eq!(s.slo_violations, 1); // latency 2.3 s > 2 s
        assert!(close(s.replica_seconds, 10.0));
        assert!(close(s.cost, 10.5));
        assert_eq!(r.timeline.len(), 2);
        let t = &r.timeline[0];
        assert_eq!((t.arrivals, t.completed, t.dropped), (4, 4, 0));
        assert!(close(t.busy, 0.8) && close(t.queued, 0.36) && close(t.utilization, 0.8));
        assert!(close(t.cost, 5.5));
        let t = &r.timeline[1];
        assert_eq!((t.arrivals, t.completed), (0, 0));
        assert!(close(t.busy, 0.0) && close(t.utilization, 0.0) && t.p95_latency_s.is_nan());
        assert!(close(t.cost, 5.0));
    }

    /// No container at first: the request waits in the front buffer, times out before the
    /// container (asked for at the 1 s tick, ready after a 2 s start-up) is ready; the next
    /// one is served when it is.
    #[test]
    fn front_buffer_startup_and_timeout_by_hand() {
        let sc = scenario(
            "min_replicas = 0\ninitial_replicas = 0\nstartup = 2\nqueue_timeout = 2.45",
            "[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1\nperiod = 1",
        );
        let r = run(&sc, &[0.5, 2.9]);
        let s = &r.summary;
        assert_eq!((s.requests, s.completed, s.dropped), (2, 1, 1));
        assert!(close(s.mean_wait_s, 0.1), "{}", s.mean_wait_s);
        assert_eq!(s.slo_violations, 1);
        assert!(close(s.replica_seconds, 9.0));
        assert_eq!(s.scale_ups, 1);
        let t = &r.timeline[0];
        assert_eq!((t.arrivals, t.completed, t.dropped), (2, 1, 1));
        assert_eq!(
            (t.ready_replicas, t.starting_replicas, t.desired_replicas),
            (1, 0, 1)
        );
        assert!(close(t.queued, 0.51), "{}", t.queued);
        assert!(close(t.busy, 0.2) && close(t.utilization, 0.5));
    }

    /// Two round-robin containers; the policy scales to one at 1 s. Both hold one request, so
    /// the newer drains: it finishes its request at 2.1 s and stops 0.5 s later. A request at
    /// 1.5 s queues behind the other container's and waits 0.5 s.
    #[test]
    fn drain_on_scale_down_by_hand() {
        let mut sc = scenario(
            "load_balancer = \"round_robin\"\ninitial_replicas = 2\nshutdown = 0.5",
            "[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1\nperiod = 1",
        );
        sc.service = crate::cluster::service::ServiceSpec::Deterministic {
            mean: crate::time::SimDuration::from_secs(2),
        };
        let r = run(&sc, &[0.0, 0.1, 1.5]);
        let s = &r.summary;
        assert_eq!((s.completed, s.dropped), (3, 0));
        assert!(close(s.mean_wait_s, 0.5 / 3.0));
        assert!(close(s.replica_seconds, 12.6), "{}", s.replica_seconds);
        assert_eq!((s.scale_ups, s.scale_downs), (0, 1));
        assert!(close(s.mean_latency_s, (2.0 + 2.0 + 2.5) / 3.0));
        let t = &r.timeline[0];
        assert_eq!((t.ready_replicas, t.desired_replicas), (1, 1));
    }

    /// `[faults]` by hand: one container (deterministic 1 s service) that fails 3 s after it
    /// becomes ready, replaced after a 1 s restart delay and a 0.5 s start-up. Container 0
    /// serves 0–3 s; replacement 1 is asked for at 3 s, billed from 4 s, ready at 4.5 s and
    /// fails at 7.5 s; replacement 2 is billed from 8.5 s and ready at 9 s. Requests: 0.0
    /// (completes at 1), 2.5 (in service at 3: failed), 3.2 (waits for the replacement:
    /// served 4.5–5.5, latency 2.3 s > 2 s), 7.0 (in service at 7.5: failed), 7.2 and 7.6.
    /// With a shared queue, 7.2 and 7.6 wait in it and are not lost (7.2 is served from 9 s
    /// and is still in service at the end); with round robin, 7.2 waits in the failing
    /// container's own queue and is lost with it, 7.6 waits in the front buffer.
    #[test]
    fn container_failures_by_hand() {
        for (balancer, failed) in [("shared_queue", 2), ("round_robin", 3)] {
            let sc = scenario(
                &format!("initial_replicas = 1\nstartup = 0.5\nload_balancer = \"{balancer}\""),
                "[faults]\ntime_to_failure = 3\nrestart_delay = 1\n[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1\nperiod = 1",
            );
            let r = run(&sc, &[0.0, 2.5, 3.2, 7.0, 7.2, 7.6]);
            let s = &r.summary;
            assert_eq!(
                (s.requests, s.completed, s.dropped, s.failed),
                (6, 2, 0, failed),
                "{balancer}"
            );
            assert_eq!(s.slo_violations, 1 + failed, "{balancer}");
            assert!(close(
                s.slo_violation_ratio,
                (1 + failed) as f64 / (2 + failed) as f64
            ));
            assert!(close(s.mean_wait_s, 1.3 / 2.0), "{}", s.mean_wait_s);
            // Billed 0–3, 4–7.5 and 8.5–10 s: not while waiting out the restart delay.
            assert!(close(s.replica_seconds, 8.0), "{}", s.replica_seconds);
            // The policy decided nothing: the controller replaced the containers.
            assert_eq!((s.scale_ups, s.scale_downs), (0, 0));
            let (a, b) = (&r.timeline[0], &r.timeline[1]);
            assert_eq!((a.arrivals, a.completed, a.failed), (3, 1, 1));
            assert_eq!((b.arrivals, b.completed, b.failed), (3, 1, failed - 1));
            assert!(close(a.replica_seconds, 4.0) && close(b.replica_seconds, 4.0));
            assert_eq!(a.slo_violations, 1);
            assert_eq!(b.slo_violations, 1 + failed - 1);
            assert_eq!(
                (a.ready_replicas, a.starting_replicas, a.desired_replicas),
                (1, 0, 1)
            );
            assert_eq!((b.ready_replicas, b.starting_replicas), (1, 0));
        }
    }

    /// Requests that arrive during the warm-up are excluded from the summary, but the
    /// timeline shows the whole run.
    #[test]
    fn warmup_is_excluded_from_the_summary() {
        let mut sc = scenario(
            "initial_replicas = 1",
            "[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1",
        );
        sc.warmup = crate::time::SimDuration::from_secs(5);
        let r = run(&sc, &[1.0, 6.0, 7.5]);
        let s = &r.summary;
        assert_eq!((s.requests, s.completed), (2, 2));
        assert!(close(s.replica_seconds, 5.0));
        assert_eq!(r.timeline[0].arrivals + r.timeline[1].arrivals, 3);
    }

    /// `start_cost` per container started and `stop_cost` per container stopped, charged
    /// when decided, in the interval of the decision and (after the warm-up) in the summary;
    /// the initial containers are not charged a start.
    #[test]
    fn start_and_stop_costs_are_charged_per_container() {
        let mut sc = scenario(
            "initial_replicas = 1",
            "start_cost = 0.25\nstop_cost = 0.5\n[[policy]]\nname = \"three\"\ntype = \"static\"\nreplicas = 3\nperiod = 1",
        );
        let r = run(&sc, &[]);
        // 1 container for 10 s, 2 more from 1 s (no start-up delay): 28 replica-seconds at
        // 1 per second, and 2 starts.
        assert!(close(r.summary.replica_seconds, 28.0));
        assert!(close(r.summary.cost, 28.0 + 2.0 * 0.25));
        assert!(close(r.summary.objective, r.summary.cost));
        assert!(close(r.timeline[0].cost, 13.0 + 0.5));
        assert!(close(r.timeline[1].cost, 15.0));
        // Down from 3 to 1 at 1 s: two stops; with a warm-up past the decision, none counts
        // in the summary, but the timeline shows it.
        sc.cluster.initial_replicas = Some(3);
        sc.policies[0].spec =
            crate::autoscaler::PolicySpec::Static(crate::autoscaler::fixed::StaticParams {
                replicas: 1,
                period: crate::time::SimDuration::from_secs(1),
            });
        let r = run(&sc, &[]);
        assert!(close(r.summary.cost, 12.0 + 2.0 * 0.5));
        assert!(close(r.timeline[0].cost, 7.0 + 1.0));
        sc.warmup = crate::time::SimDuration::from_secs(5);
        let r = run(&sc, &[]);
        assert!(close(r.summary.cost, 5.0));
        assert!(close(r.timeline[0].cost, 7.0 + 1.0));
    }

    /// One container, deterministic 1 s service, each queue holding at most one request:
    /// of arrivals at 0, 0.1, 0.2 and 1.5 s, the first is served, the second waits, the third
    /// finds the queue full and is dropped at once, the fourth waits 0.5 s.
    #[test]
    fn a_full_queue_drops_at_once_by_hand() {
        for balancer in ["shared_queue", "round_robin", "least_connections"] {
            let sc = scenario(
                &format!(
                    "initial_replicas = 1\nqueue_capacity = 1\nload_balancer = \"{balancer}\""
                ),
                "[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1",
            );
            let r = run(&sc, &[0.0, 0.1, 0.2, 1.5]);
            let s = &r.summary;
            assert_eq!(
                (s.requests, s.completed, s.dropped),
                (4, 3, 1),
                "{balancer}"
            );
            // Waits 0, 0.9 and 0.5 s.
            assert!(
                close(s.mean_wait_s, 1.4 / 3.0),
                "{balancer}: {}",
                s.mean_wait_s
            );
            assert_eq!(r.timeline[0].dropped, 1);
        }
    }

    /// Overload finishes: 200,000 arrivals per second on one container serving one per
    /// second hold at most `queue_capacity` requests; all the others are dropped and counted.
    #[test]
    fn overload_is_shed_and_counted() {
        let mut sc = scenario(
            "initial_replicas = 1\nqueue_capacity = 1000",
            "[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1",
        );
        sc.workload = WorkloadSpec::Piecewise {
            steps: vec![(SimTime::ZERO, 200_000.0)],
        };
        let r = crate::experiment::simulate(&sc, 0, 0).unwrap();
        let s = &r.summary;
        // Request k (from 1) arrives a few microseconds in and completes at about k s: nine
        // complete within the 10 s, of which the 3rd to the 9th took over the 2 s SLO; at
        // the end one is in service and 1000 wait.
        assert_eq!(s.completed, 9);
        assert_eq!(s.requests - s.completed - s.dropped, 1 + 1000);
        assert!(s.dropped > 1_900_000, "{}", s.dropped);
        assert_eq!(s.slo_violations, s.dropped + 7);
    }
}
