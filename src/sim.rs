//! One run: one policy, one replication, one seed.
//!
//! The run loop merges two time-ordered streams: arrivals, read in batches straight from the
//! [`ArrivalSource`] (they are already in time order, so they never enter the heap), and
//! everything else (departures, containers becoming ready or stopping, queue time-outs, policy
//! ticks, interval ends) through the [`EventQueue`]. At equal times, queued events go before the
//! arrival, so a request arriving exactly when a slot frees finds it free.
//!
//! Guarantees:
//! - Determinism: the run depends only on the scenario, the policy and the replication's seed.
//! - Common random numbers: the arrivals come from the replication's `arrivals` stream and each
//!   request's service time is drawn at its arrival from the `service` stream, whether or not
//!   it is later served, so every policy sees the same requests with the same service times.
//! - Streaming: per request, nothing outlives the request; per interval, one timeline row.
//! - No allocation, dynamic dispatch or heap operation per request beyond the departure event
//!   (and a queue slot when the request waits).
//!
//! The cluster model: containers are Starting (for `startup`), then Ready, then, when scaled
//! down, Draining (no new requests; they finish what they hold, then stop after `shutdown`).
//! Billing runs from the start decision until the container stops. With the `shared_queue`
//! balancer one FIFO queue feeds every slot of every ready container (M/G/c); with the other
//! balancers each container has its own FIFO queue. A request that arrives while no container is
//! ready waits in a front buffer (Knative's activator) and is routed when one becomes ready.
//! With `queue_timeout`, a request that has waited that long without service is dropped.
//!
//! The cost of a run is its replica cost (billed from a container's start decision until it
//! stops), plus `violation_penalty` per violating request, plus `start_cost` per container
//! the policy starts and `stop_cost` per container it stops (a starting container cancelled
//! or a ready one drained), each charged when the policy decides it; the containers of the
//! initial cluster are not charged a start. After the warm-up only, like everything else in
//! the summary; per interval in the timeline.

use crate::autoscaler::{Autoscaler, ContainerState, ContainerView, Decision, Observation, Totals};
use crate::cluster::Balancer;
use crate::cluster::service::ServiceSampler;
use crate::engine::EventQueue;
use crate::error::{Error, InputError};
use crate::metrics::{LatencyHistogram, RequestStats, RunSummary, TimelineRow};
use crate::rng::{self, SimRng};
use crate::scenario::Scenario;
use crate::time::{NANOS_PER_SEC, SimTime};
use crate::workload::{self, ArrivalSource, TraceEnd, WorkloadSpec};
use rand::RngExt;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// Arrivals read from the source per batch.
const ARRIVAL_BATCH: usize = 4096;
/// The queue id of the shared queue / front buffer in time-out events.
const FRONT: u32 = u32::MAX;

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
}

/// Simulates policy `policy` (an index into `scenario.policies`) in replication `replication`.
pub fn simulate(scenario: &Scenario, policy: usize, replication: u32) -> Result<RunResult, Error> {
    simulate_reporting(scenario, policy, replication, None)
}

/// Like [`simulate`], adding the simulated nanoseconds of each completed interval to
/// `progress` as the run goes (for progress bars).
pub fn simulate_reporting(
    scenario: &Scenario,
    policy: usize,
    replication: u32,
    progress: Option<&AtomicU64>,
) -> Result<RunResult, Error> {
    let arrivals = workload::open(
        &scenario.workload,
        rng::stream(scenario.seed, replication, rng::ARRIVALS),
    )?;
    run_sim(scenario, policy, replication, arrivals, progress)
}

/// The replicas ready at time 0 in a run of policy number `policy`: `cluster.initial_replicas`,
/// else the policy's own default, within the scenario's bounds.
pub fn initial_replicas(scenario: &Scenario, policy: usize) -> u32 {
    let ctx = crate::autoscaler::config::PolicyContext::of(scenario);
    let own = scenario
        .policies
        .get(policy)
        .map_or(scenario.cluster.min_replicas, |d| {
            d.spec.default_initial_replicas(&ctx)
        });
    crate::autoscaler::planning::initial_replicas(scenario, own)
}

/// Like [`simulate`], with the arrivals taken from `arrivals` instead of the scenario's
/// workload (for replaying a given sequence of arrival times).
pub fn simulate_with(
    scenario: &Scenario,
    policy: usize,
    replication: u32,
    arrivals: Box<dyn ArrivalSource>,
) -> Result<RunResult, Error> {
    run_sim(scenario, policy, replication, arrivals, None)
}

fn run_sim(
    scenario: &Scenario,
    policy: usize,
    replication: u32,
    arrivals: Box<dyn ArrivalSource>,
    progress: Option<&AtomicU64>,
) -> Result<RunResult, Error> {
    let def = scenario
        .policies
        .get(policy)
        .ok_or_else(|| Error::Other(format!("no policy number {policy} in the scenario")))?;
    let autoscaler = def.spec.build(&crate::autoscaler::config::BuildContext {
        scenario,
        replication,
    })?;
    let initial = initial_replicas(scenario, policy);
    let mut sim = Sim::new(scenario, replication, autoscaler, arrivals, initial);
    sim.progress = progress;
    sim.run()?;
    let mut result = sim.finish(def.name.clone());
    result.initial_replicas = initial;
    Ok(result)
}

/// Simulates `scenario` driven by `autoscaler` instead of one of the scenario's policies, with
/// `initial` replicas ready at time 0 (within the scenario's bounds) and the arrivals from
/// `arrivals`; `name` labels the result. Live mode uses it to simulate a given replica plan.
pub fn simulate_autoscaler(
    scenario: &Scenario,
    name: &str,
    replication: u32,
    arrivals: Box<dyn ArrivalSource>,
    autoscaler: Box<dyn Autoscaler>,
    initial: u32,
) -> Result<RunResult, Error> {
    let initial = initial.clamp(scenario.cluster.min_replicas, scenario.cluster.max_replicas);
    let mut sim = Sim::new(scenario, replication, autoscaler, arrivals, initial);
    sim.run()?;
    let mut result = sim.finish(name.to_string());
    result.initial_replicas = initial;
    Ok(result)
}

#[derive(Clone, Copy, Debug)]
enum Event {
    /// A request finishes service on a container.
    Departure {
        container: u32,
        arrival: u64,
        wait: u64,
    },
    ContainerReady {
        container: u32,
    },
    /// A drained container's shutdown delay has passed.
    ContainerStop {
        container: u32,
    },
    /// The head of a queue may have waited `queue_timeout` (`FRONT` or a container id).
    QueueTimeout {
        queue: u32,
    },
    /// The policy's periodic tick.
    Tick,
    /// An extra tick because a request arrived to no container (activator poke).
    Poke,
    IntervalEnd,
    WarmupEnd,
}

#[derive(Clone, Copy, Debug)]
struct Waiting {
    arrival: u64,
    service: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Starting,
    Ready,
    Draining,
    Stopped,
}

#[derive(Debug)]
struct Container {
    state: State,
    created: u64,
    ready_at: Option<u64>,
    busy: u32,
    queue: VecDeque<Waiting>,
    timer_pending: bool,
    stop_scheduled: bool,
    busy_area: u128,
    inflight_area: u128,
    last: u64,
    arrivals: u64,
    completions: u64,
}

impl Container {
    fn new(now: u64, state: State) -> Self {
        Container {
            state,
            created: now,
            ready_at: None,
            busy: 0,
            queue: VecDeque::new(),
            timer_pending: false,
            stop_scheduled: false,
            busy_area: 0,
            inflight_area: 0,
            last: now,
            arrivals: 0,
            completions: 0,
        }
    }

    #[inline]
    fn advance(&mut self, now: u64) {
        let dt = (now - self.last) as u128;
        self.busy_area += self.busy as u128 * dt;
        self.inflight_area += (self.busy as u128 + self.queue.len() as u128) * dt;
        self.last = now;
    }

    fn load(&self) -> usize {
        self.busy as usize + self.queue.len()
    }
}

/// Cumulative integrals over time, in count·ns.
#[derive(Clone, Copy, Debug, Default)]
struct Areas {
    busy: u128,
    queued: u128,
    serving_slots: u128,
    billed: u128,
}

/// Per-interval counters (all requests, warm-up included: the timeline shows the whole run).
#[derive(Debug, Default)]
struct IntervalCounters {
    arrivals: u64,
    completed: u64,
    dropped: u64,
    violations: u64,
    /// Containers started and stopped by the policy (for `start_cost` and `stop_cost`).
    starts: u64,
    stops: u64,
    latency: LatencyHistogram,
}

struct Sim<'a> {
    sc: &'a Scenario,
    progress: Option<&'a AtomicU64>,
    replication: u32,
    policy: Box<dyn Autoscaler>,
    source: Box<dyn ArrivalSource>,
    service: ServiceSampler,
    service_rng: SimRng,
    balancer_rng: SimRng,
    queue: EventQueue<Event>,

    now: u64,
    end: u64,
    warmup: u64,
    concurrency: u32,
    timeout: Option<u64>,
    slo: u64,
    startup: u64,
    shutdown: u64,
    shared: bool,

    containers: Vec<Container>,
    /// Containers that are starting, ready or draining, in creation order.
    live: Vec<u32>,
    /// Ready containers, in the order they became ready (the balancers' view).
    ready_list: Vec<u32>,
    /// Free slots of ready containers (shared queue only); may hold stale entries of
    /// containers that have since started draining, skipped when popped.
    free_slots: Vec<u32>,
    free_count: u64,
    /// The shared queue (shared_queue balancer) or the front buffer (other balancers).
    front: VecDeque<Waiting>,
    front_timer: bool,
    rr_next: usize,

    ready: u32,
    starting: u32,
    draining: u32,
    desired: u32,
    busy: u32,
    queued: u32,
    serving_slots: u64,
    billed: u32,

    areas: Areas,
    area_last: u64,
    totals_arrivals: u64,
    totals_completions: u64,
    totals_drops: u64,

    stats: RequestStats,
    interval: IntervalCounters,
    interval_start: u64,
    interval_areas: Areas,
    billed_at_warmup: u128,
    timeline: Vec<TimelineRow>,
    scale_ups: u64,
    scale_downs: u64,
    /// Containers started and stopped by the policy after the warm-up.
    starts: u64,
    stops: u64,

    arrivals: Vec<SimTime>,
    arrival_pos: usize,
    source_done: bool,
    last_arrival: u64,
    views: Vec<ContainerView>,
}

impl<'a> Sim<'a> {
    fn new(
        sc: &'a Scenario,
        replication: u32,
        policy: Box<dyn Autoscaler>,
        source: Box<dyn ArrivalSource>,
        initial: u32,
    ) -> Self {
        let c = &sc.cluster;
        let mut sim = Sim {
            sc,
            progress: None,
            replication,
            policy,
            source,
            service: ServiceSampler::new(&sc.service),
            service_rng: rng::stream(sc.seed, replication, rng::SERVICE),
            balancer_rng: rng::stream(sc.seed, replication, rng::BALANCER),
            queue: EventQueue::with_capacity(1024),
            now: 0,
            end: sc.duration.0,
            warmup: sc.warmup.0,
            concurrency: c.concurrency,
            timeout: c.queue_timeout.map(|d| d.0),
            slo: sc.cost.slo_latency.0,
            startup: c.startup.0,
            shutdown: c.shutdown.0,
            shared: c.balancer == Balancer::SharedQueue,
            containers: Vec::new(),
            live: Vec::new(),
            ready_list: Vec::new(),
            free_slots: Vec::new(),
            free_count: 0,
            front: VecDeque::new(),
            front_timer: false,
            rr_next: 0,
            ready: 0,
            starting: 0,
            draining: 0,
            desired: initial,
            busy: 0,
            queued: 0,
            serving_slots: 0,
            billed: 0,
            areas: Areas::default(),
            area_last: 0,
            totals_arrivals: 0,
            totals_completions: 0,
            totals_drops: 0,
            stats: RequestStats::default(),
            interval: IntervalCounters::default(),
            interval_start: 0,
            interval_areas: Areas::default(),
            billed_at_warmup: 0,
            timeline: Vec::new(),
            scale_ups: 0,
            scale_downs: 0,
            starts: 0,
            stops: 0,
            arrivals: Vec::with_capacity(ARRIVAL_BATCH),
            arrival_pos: 0,
            source_done: false,
            last_arrival: 0,
            views: Vec::new(),
        };
        for _ in 0..initial {
            let id = sim.new_container(State::Ready);
            sim.make_ready(id);
        }
        let tick = sim.policy.tick_interval().0.max(1);
        if tick < sim.end {
            sim.queue.push(SimTime(tick), Event::Tick);
        }
        let step = sc.interval.0;
        if step < sim.end {
            sim.queue.push(SimTime(step), Event::IntervalEnd);
        }
        if sim.warmup > 0 {
            sim.queue.push(SimTime(sim.warmup), Event::WarmupEnd);
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
        Ok(self.arrivals[0].0)
    }

    fn run(&mut self) -> Result<(), Error> {
        loop {
            let ta = self.next_arrival()?;
            let te = self.queue.peek_time().map_or(u64::MAX, |t| t.0);
            if te <= ta {
                if te >= self.end {
                    break;
                }
                let (t, ev) = self.queue.pop().expect("peeked");
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
        self.advance_areas();
        self.close_interval();
        Ok(())
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Departure {
                container,
                arrival,
                wait,
            } => self.depart(container, arrival, wait),
            Event::ContainerReady { container } => {
                if self.containers[container as usize].state == State::Starting {
                    self.advance_areas();
                    self.make_ready(container);
                }
            }
            Event::ContainerStop { container } => self.stop(container),
            Event::QueueTimeout { queue } => self.expire(queue),
            Event::Tick => {
                let next = self
                    .now
                    .saturating_add(self.policy.tick_interval().0.max(1));
                if next < self.end {
                    self.queue.push(SimTime(next), Event::Tick);
                }
                self.tick();
            }
            Event::Poke => {
                if self.ready == 0 && self.starting == 0 {
                    self.tick();
                }
            }
            Event::IntervalEnd => {
                self.advance_areas();
                self.close_interval();
                let next = self.now.saturating_add(self.sc.interval.0);
                if next < self.end {
                    self.queue.push(SimTime(next), Event::IntervalEnd);
                }
            }
            Event::WarmupEnd => {
                self.advance_areas();
                self.billed_at_warmup = self.areas.billed;
            }
        }
    }

    // ---- time integrals ----

    #[inline]
    fn advance_areas(&mut self) {
        let dt = (self.now - self.area_last) as u128;
        if dt > 0 {
            self.areas.busy += self.busy as u128 * dt;
            self.areas.queued += self.queued as u128 * dt;
            self.areas.serving_slots += self.serving_slots as u128 * dt;
            self.areas.billed += self.billed as u128 * dt;
            self.area_last = self.now;
        }
    }

    // ---- requests ----

    #[inline]
    fn arrive(&mut self) {
        let service = self.service.sample(&mut self.service_rng);
        let req = Waiting {
            arrival: self.now,
            service,
        };
        self.advance_areas();
        self.totals_arrivals += 1;
        self.interval.arrivals += 1;
        if self.now >= self.warmup {
            self.stats.requests += 1;
        }
        if self.shared {
            if let Some(c) = self.pop_free_slot() {
                self.start_service(c, req);
            } else {
                self.enqueue_front(req);
            }
        } else if self.ready_list.is_empty() {
            self.enqueue_front(req);
        } else {
            let c = self.choose();
            self.route(c, req);
        }
    }

    fn enqueue_front(&mut self, req: Waiting) {
        self.front.push_back(req);
        self.queued += 1;
        if let Some(to) = self.timeout
            && !self.front_timer
        {
            self.front_timer = true;
            self.queue.push(
                SimTime(req.arrival.saturating_add(to)),
                Event::QueueTimeout { queue: FRONT },
            );
        }
        if self.ready == 0 && self.starting == 0 && self.policy.ticks_on_buffered_request() {
            self.queue.push(SimTime(self.now), Event::Poke);
        }
    }

    /// Pops a free slot of a ready container (shared queue), skipping stale entries.
    #[inline]
    fn pop_free_slot(&mut self) -> Option<u32> {
        if self.free_count == 0 {
            return None;
        }
        while let Some(c) = self.free_slots.pop() {
            if self.containers[c as usize].state == State::Ready {
                self.free_count -= 1;
                return Some(c);
            }
        }
        unreachable!("free_count counts the free slots of ready containers")
    }

    /// Routes a request to container `c` (per-container balancers).
    fn route(&mut self, c: u32, req: Waiting) {
        let con = &mut self.containers[c as usize];
        con.advance(self.now);
        con.arrivals += 1;
        if con.busy < self.concurrency {
            self.start_service(c, req);
        } else {
            con.queue.push_back(req);
            self.queued += 1;
            if let Some(to) = self.timeout
                && !con.timer_pending
            {
                con.timer_pending = true;
                self.queue.push(
                    SimTime(req.arrival.saturating_add(to)),
                    Event::QueueTimeout { queue: c },
                );
            }
        }
    }

    /// Starts serving `req` on container `c`, which has a free slot.
    #[inline]
    fn start_service(&mut self, c: u32, req: Waiting) {
        let now = self.now;
        let con = &mut self.containers[c as usize];
        con.advance(now);
        if self.shared {
            con.arrivals += 1;
        }
        con.busy += 1;
        self.busy += 1;
        self.queue.push(
            SimTime(now.saturating_add(req.service)),
            Event::Departure {
                container: c,
                arrival: req.arrival,
                wait: now - req.arrival,
            },
        );
    }

    #[inline]
    fn depart(&mut self, c: u32, arrival: u64, wait: u64) {
        let latency = self.now - arrival;
        self.advance_areas();
        self.totals_completions += 1;
        self.interval.completed += 1;
        self.interval.latency.record(latency);
        let slow = latency > self.slo;
        if slow {
            self.interval.violations += 1;
        }
        if arrival >= self.warmup {
            let s = &mut self.stats;
            s.completed += 1;
            s.wait_sum_ns += wait as u128;
            s.latency_sum_ns += latency as u128;
            s.waited += u64::from(wait > 0);
            s.slow += u64::from(slow);
            s.latency.record(latency);
        }
        let now = self.now;
        let con = &mut self.containers[c as usize];
        con.advance(now);
        con.busy -= 1;
        con.completions += 1;
        self.busy -= 1;
        self.serve_next(c);
    }

    /// Container `c` has a free slot: give it the next waiting request, or release the slot.
    fn serve_next(&mut self, c: u32) {
        let state = self.containers[c as usize].state;
        if self.shared {
            if state == State::Ready {
                self.drop_expired_front();
                if let Some(req) = self.front.pop_front() {
                    self.queued -= 1;
                    self.start_service(c, req);
                } else {
                    self.free_slots.push(c);
                    self.free_count += 1;
                }
                return;
            }
        } else {
            self.drop_expired_own(c);
            if let Some(req) = self.containers[c as usize].queue.pop_front() {
                self.queued -= 1;
                self.start_service(c, req);
                return;
            }
        }
        if state == State::Draining {
            self.maybe_stop(c);
        }
    }

    /// Chooses a ready container for a request (per-container balancers; `ready_list` is
    /// not empty).
    fn choose(&mut self) -> u32 {
        let list = &self.ready_list;
        let n = list.len();
        match self.sc.cluster.balancer {
            Balancer::RoundRobin => {
                let i = self.rr_next % n;
                self.rr_next = (i + 1) % n;
                list[i]
            }
            Balancer::LeastConnections => {
                let mut best = list[0];
                let mut best_load = self.containers[best as usize].load();
                for &c in &list[1..] {
                    let l = self.containers[c as usize].load();
                    if l < best_load {
                        best = c;
                        best_load = l;
                    }
                }
                best
            }
            Balancer::Random => list[self.balancer_rng.random_range(0..n)],
            Balancer::PowerOfTwo => {
                if n == 1 {
                    return list[0];
                }
                let i = self.balancer_rng.random_range(0..n);
                let mut j = self.balancer_rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                let (a, b) = (list[i], list[j]);
                if self.containers[b as usize].load() < self.containers[a as usize].load() {
                    b
                } else {
                    a
                }
            }
            Balancer::SharedQueue => unreachable!("the shared queue does not route"),
        }
    }

    // ---- time-outs ----

    fn drop_request(&mut self, arrival: u64) {
        self.queued -= 1;
        self.totals_drops += 1;
        self.interval.dropped += 1;
        self.interval.violations += 1;
        if arrival >= self.warmup {
            self.stats.dropped += 1;
        }
    }

    fn drop_expired_front(&mut self) {
        let Some(to) = self.timeout else { return };
        while let Some(head) = self.front.front() {
            if head.arrival.saturating_add(to) > self.now {
                break;
            }
            let a = head.arrival;
            self.front.pop_front();
            self.drop_request(a);
        }
    }

    fn drop_expired_own(&mut self, c: u32) {
        let Some(to) = self.timeout else { return };
        loop {
            let con = &mut self.containers[c as usize];
            let Some(head) = con.queue.front() else { break };
            if head.arrival.saturating_add(to) > self.now {
                break;
            }
            let a = head.arrival;
            con.advance(self.now);
            con.queue.pop_front();
            self.drop_request(a);
        }
    }

    fn expire(&mut self, queue: u32) {
        let to = self
            .timeout
            .expect("time-outs are scheduled only with queue_timeout");
        self.advance_areas();
        if queue == FRONT {
            self.drop_expired_front();
            match self.front.front() {
                Some(head) => {
                    let t = head.arrival.saturating_add(to);
                    self.queue
                        .push(SimTime(t), Event::QueueTimeout { queue: FRONT });
                }
                None => self.front_timer = false,
            }
        } else {
            self.drop_expired_own(queue);
            let head = self.containers[queue as usize]
                .queue
                .front()
                .map(|h| h.arrival);
            match head {
                Some(a) => self
                    .queue
                    .push(SimTime(a.saturating_add(to)), Event::QueueTimeout { queue }),
                None => {
                    self.containers[queue as usize].timer_pending = false;
                    if self.containers[queue as usize].state == State::Draining {
                        self.maybe_stop(queue);
                    }
                }
            }
        }
    }

    // ---- containers ----

    fn new_container(&mut self, state: State) -> u32 {
        let id = u32::try_from(self.containers.len()).expect("fewer than 2^32 containers");
        self.containers.push(Container::new(self.now, state));
        self.live.push(id);
        self.billed += 1;
        if state == State::Starting {
            self.starting += 1;
        }
        id
    }

    /// Container `id` becomes ready (it was created Ready at time 0, or was Starting).
    fn make_ready(&mut self, id: u32) {
        let now = self.now;
        let con = &mut self.containers[id as usize];
        if con.state == State::Starting {
            self.starting -= 1;
        }
        con.state = State::Ready;
        con.ready_at = Some(now);
        con.last = now;
        self.ready += 1;
        self.serving_slots += u64::from(self.concurrency);
        self.ready_list.push(id);
        if self.shared {
            for _ in 0..self.concurrency {
                self.drop_expired_front();
                match self.front.pop_front() {
                    Some(req) => {
                        self.queued -= 1;
                        self.start_service(id, req);
                    }
                    None => {
                        self.free_slots.push(id);
                        self.free_count += 1;
                    }
                }
            }
        } else {
            self.drop_expired_front();
            while let Some(req) = self.front.pop_front() {
                self.queued -= 1;
                let c = self.choose();
                self.route(c, req);
            }
        }
    }

    /// Scale-down of a ready container: it takes nothing new and stops once empty.
    fn drain(&mut self, id: u32) {
        let con = &mut self.containers[id as usize];
        con.advance(self.now);
        con.state = State::Draining;
        let free = u64::from(self.concurrency - con.busy);
        self.ready -= 1;
        self.draining += 1;
        self.ready_list.retain(|&c| c != id);
        if self.shared {
            // Its free slots in `free_slots` are now stale.
            self.free_count -= free;
        }
        self.maybe_stop(id);
    }

    fn maybe_stop(&mut self, id: u32) {
        let con = &mut self.containers[id as usize];
        if con.busy > 0 || !con.queue.is_empty() || con.stop_scheduled {
            return;
        }
        con.stop_scheduled = true;
        if self.shutdown == 0 {
            self.stop(id);
        } else {
            self.queue.push(
                SimTime(self.now.saturating_add(self.shutdown)),
                Event::ContainerStop { container: id },
            );
        }
    }

    /// The container stops: it is no longer billed or serving.
    fn stop(&mut self, id: u32) {
        self.advance_areas();
        let con = &mut self.containers[id as usize];
        con.advance(self.now);
        match con.state {
            State::Starting => self.starting -= 1,
            State::Draining => {
                self.draining -= 1;
                self.serving_slots -= u64::from(self.concurrency);
            }
            State::Ready | State::Stopped => {
                unreachable!("only starting or draining containers stop")
            }
        }
        con.state = State::Stopped;
        self.billed -= 1;
        self.live.retain(|&c| c != id);
    }

    // ---- the policy ----

    fn tick(&mut self) {
        self.advance_areas();
        let now = self.now;
        self.views.clear();
        for &id in &self.live {
            let con = &mut self.containers[id as usize];
            con.advance(now);
            let state = match con.state {
                State::Starting => ContainerState::Starting,
                State::Ready => ContainerState::Ready,
                State::Draining => ContainerState::Draining,
                State::Stopped => unreachable!("stopped containers are not live"),
            };
            self.views.push(ContainerView {
                id,
                state,
                created: SimTime(con.created),
                ready_at: con.ready_at.map(SimTime),
                busy: con.busy,
                queued: con.queue.len() as u32,
                busy_area: con.busy_area as f64 / NANOS_PER_SEC as f64,
                inflight_area: con.inflight_area as f64 / NANOS_PER_SEC as f64,
                arrivals: con.arrivals,
                completions: con.completions,
            });
        }
        let front_buffer = if self.shared && self.ready > 0 {
            0
        } else {
            self.front.len() as u32
        };
        let obs = Observation {
            now: SimTime(now),
            concurrency: self.concurrency,
            min_replicas: self.sc.cluster.min_replicas,
            max_replicas: self.sc.cluster.max_replicas,
            desired: self.desired,
            ready: self.ready,
            starting: self.starting,
            draining: self.draining,
            front_buffer,
            queued: self.queued,
            busy: self.busy,
            totals: Totals {
                arrivals: self.totals_arrivals,
                completions: self.totals_completions,
                drops: self.totals_drops,
                busy_area: self.areas.busy as f64 / NANOS_PER_SEC as f64,
                queued_area: self.areas.queued as f64 / NANOS_PER_SEC as f64,
            },
            containers: &self.views,
        };
        if let Decision::Desired(n) = self.policy.tick(&obs) {
            self.set_desired(n);
        }
    }

    /// Applies a desired replica count through the common actuation path.
    fn set_desired(&mut self, n: u32) {
        let c = &self.sc.cluster;
        let n = n.clamp(c.min_replicas, c.max_replicas);
        if n != self.desired && self.now >= self.warmup {
            if n > self.desired {
                self.scale_ups += 1;
            } else {
                self.scale_downs += 1;
            }
        }
        self.desired = n;
        let current = self.ready + self.starting;
        // Switching: charged per container started or stopped, when decided.
        let (starts, stops) = (
            u64::from(n.saturating_sub(current)),
            u64::from(current.saturating_sub(n)),
        );
        self.interval.starts += starts;
        self.interval.stops += stops;
        if self.now >= self.warmup {
            self.starts += starts;
            self.stops += stops;
        }
        if n > current {
            for _ in 0..n - current {
                let id = self.new_container(State::Starting);
                if self.startup == 0 {
                    self.make_ready(id);
                } else {
                    self.queue.push(
                        SimTime(self.now.saturating_add(self.startup)),
                        Event::ContainerReady { container: id },
                    );
                }
            }
        } else if n < current {
            let mut remove = current - n;
            // Cancel starting containers first, newest first.
            let starting: Vec<u32> = self
                .live
                .iter()
                .rev()
                .copied()
                .filter(|&id| self.containers[id as usize].state == State::Starting)
                .take(remove as usize)
                .collect();
            for id in starting {
                self.stop(id);
                remove -= 1;
            }
            if remove > 0 {
                // Then drain the least loaded ready containers, newest first on ties.
                let mut ready: Vec<u32> = self.ready_list.clone();
                ready.sort_by_key(|&id| {
                    (self.containers[id as usize].load(), std::cmp::Reverse(id))
                });
                for id in ready.into_iter().take(remove as usize) {
                    self.drain(id);
                }
            }
        }
    }

    // ---- intervals ----

    fn close_interval(&mut self) {
        let len = self.now - self.interval_start;
        if len == 0 {
            return;
        }
        if let Some(p) = self.progress {
            p.fetch_add(len, Ordering::Relaxed);
        }
        let a = self.areas;
        let p = self.interval_areas;
        let secs = |x: u128| x as f64 / NANOS_PER_SEC as f64;
        let len_s = len as f64 / NANOS_PER_SEC as f64;
        let replica_seconds = secs(a.billed - p.billed);
        let cost = self
            .sc
            .cost
            .objective(replica_seconds, self.interval.violations)
            + self
                .sc
                .cost
                .switching(self.interval.starts, self.interval.stops);
        let slots = a.serving_slots - p.serving_slots;
        self.timeline.push(TimelineRow {
            time_s: self.interval_start as f64 / NANOS_PER_SEC as f64,
            length_s: len_s,
            arrivals: self.interval.arrivals,
            completed: self.interval.completed,
            dropped: self.interval.dropped,
            ready_replicas: self.ready,
            starting_replicas: self.starting,
            desired_replicas: self.desired,
            busy: secs(a.busy - p.busy) / len_s,
            queued: secs(a.queued - p.queued) / len_s,
            utilization: if slots == 0 {
                f64::NAN
            } else {
                (a.busy - p.busy) as f64 / slots as f64
            },
            p95_latency_s: self.interval.latency.quantile_s(0.95),
            p50_latency_s: self.interval.latency.quantile_s(0.5),
            p99_latency_s: self.interval.latency.quantile_s(0.99),
            cost,
            replica_seconds,
            slo_violations: self.interval.violations,
        });
        self.interval.arrivals = 0;
        self.interval.completed = 0;
        self.interval.dropped = 0;
        self.interval.violations = 0;
        self.interval.starts = 0;
        self.interval.stops = 0;
        self.interval.latency.clear();
        self.interval_start = self.now;
        self.interval_areas = a;
    }

    fn finish(self, policy: String) -> RunResult {
        let s = &self.stats;
        let replica_seconds =
            (self.areas.billed - self.billed_at_warmup) as f64 / NANOS_PER_SEC as f64;
        let cost = self.sc.cost.objective(replica_seconds, s.violations())
            + self.sc.cost.switching(self.starts, self.stops);
        let summary = RunSummary {
            requests: s.requests,
            completed: s.completed,
            dropped: s.dropped,
            mean_wait_s: s.mean_wait_s(),
            p_wait: s.p_wait(),
            mean_latency_s: s.mean_latency_s(),
            p50_latency_s: s.latency.quantile_s(0.5),
            p95_latency_s: s.latency.quantile_s(0.95),
            p99_latency_s: s.latency.quantile_s(0.99),
            slo_violations: s.violations(),
            slo_violation_ratio: s.violation_ratio(),
            replica_seconds,
            cost,
            objective: cost,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
        };
        let workload_ended_at = self
            .source_done
            .then_some(SimTime(self.last_arrival))
            .filter(|t| t.0 < self.end)
            .filter(|_| self.source.covered_until().is_none_or(|c| c.0 < self.end));
        let notes = self.source.notes();
        RunResult {
            notes,
            initial_replicas: 0,
            point: 0,
            policy,
            replication: self.replication,
            summary,
            timeline: self.timeline,
            latency: self.stats.latency,
            workload_ended_at,
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

    fn run(sc: &Scenario, times: &[f64]) -> RunResult {
        let src = Fixed::new(times.iter().map(|t| SimTime::from_secs_f64(*t)).collect());
        simulate_with(sc, 0, 0, Box::new(src)).unwrap()
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
        sc.policies[0].spec = crate::autoscaler::PolicySpec::Static {
            replicas: 1,
            period: crate::time::SimDuration::from_secs(1),
        };
        let r = run(&sc, &[]);
        assert!(close(r.summary.cost, 12.0 + 2.0 * 0.5));
        assert!(close(r.timeline[0].cost, 7.0 + 1.0));
        sc.warmup = crate::time::SimDuration::from_secs(5);
        let r = run(&sc, &[]);
        assert!(close(r.summary.cost, 5.0));
        assert!(close(r.timeline[0].cost, 7.0 + 1.0));
    }
}
