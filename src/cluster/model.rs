//! The cluster model: containers, their lifecycle, scaling, drain, and the queues requests
//! wait in.
//!
//! Containers are Starting (for `startup`), then Ready, then, when scaled down, Draining (no
//! new requests; they finish what they hold, then stop after `shutdown`). Billing runs from the
//! start decision until the container stops. With the `shared_queue` balancer one FIFO queue,
//! the *central queue*, feeds every slot of every ready container (M/G/c); with the other
//! balancers each container has its own FIFO *local queue*, and the central queue is the front
//! buffer (Knative's activator) where a request that arrives while no container is ready waits
//! until one is, and is then routed. With `queue_timeout`, a request that has waited that long
//! without service is dropped.
//!
//! Each queue (the central queue, and every local queue) holds at most `queue_capacity`
//! requests: a request that finds its queue full is dropped at once (counted as dropped and as
//! an SLO violation), so an overloaded cluster sheds load instead of holding it without bound.
//!
//! With `[faults]` ([`super::faults`]) a ready container fails its drawn time after it became
//! ready: the requests it holds (in service, and in its local queue) are counted as failed, it
//! stops being billed, and a replacement is asked for at once (a Starting container, billed
//! from the end of its restart delay). A failed container's slot is kept until the departures
//! of its lost requests, still in the event queue, have passed.
//!
//! Scaling to `n` desired containers: more than are ready or starting starts new ones; fewer
//! cancels starting containers first (newest first), then drains the least loaded ready ones
//! (newest first on ties).
//!
//! Guarantees:
//! - The model knows no policy and no run: it is driven by its methods, schedules its own
//!   future events ([`ClusterEvent`]) in the run's event queue, and reports dropped requests to
//!   a [`RequestLog`]; the run records completions when it handles a departure.
//! - Its time integrals ([`Areas`]) are exact integer sums of count × nanoseconds.
//! - Deterministic: the only randomness is the balancer's, start-up and faults streams.
//! - Memory bounded by live containers: a stopped container's slot (and its buffers) is
//!   reused by the next one started; the views give every container a creation id that is
//!   never reused. Per request, routing costs O(1) (`least_connections`: O(log n) per
//!   change of a container's load, O(1) per choice).

use super::view::{ContainerState, ContainerView};
use crate::cluster::ClusterSpec;
use crate::cluster::routing::{Backends, Balancer, LeastLoaded, Router};
use crate::engine::EventQueue;
use crate::rng::SimRng;
use crate::time::{NANOS_PER_SEC, SimTime};
use std::collections::VecDeque;

/// Which queue a request waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueId {
    /// The shared queue (`shared_queue`) or the front buffer (the other balancers).
    Central,
    /// A container's local queue (per-container balancers): its slot and its creation id.
    Local { slot: u32, id: u32 },
}

/// What the cluster schedules for itself.
#[derive(Clone, Copy, Debug)]
pub enum ClusterEvent {
    /// A request finishes service on a container.
    Departure {
        container: u32,
        arrival: u64,
        wait: u64,
    },
    /// A starting container's start-up delay has passed (its slot and creation id).
    ContainerReady { container: u32, id: u32 },
    /// A drained container's shutdown delay has passed.
    ContainerStop { container: u32 },
    /// A ready (or draining) container's time to failure has passed (`[faults]`).
    ContainerFail { container: u32, id: u32 },
    /// A replacement's restart delay has passed: it starts starting (`[faults]`).
    ReplacementStart { container: u32, id: u32 },
    /// The head of a queue may have waited `queue_timeout`.
    QueueTimeout { queue: QueueId },
}

/// Where the cluster reports the requests it drops.
pub trait RequestLog {
    /// A request that arrived at `arrival` (ns) is dropped now.
    fn dropped(&mut self, arrival: u64);
    /// A request that arrived at `arrival` (ns) is lost now with the container that held it
    /// (`[faults]`).
    fn failed(&mut self, arrival: u64);
}

/// A request: its arrival time and the service time drawn for it, in ns.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub arrival: u64,
    pub service: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Starting,
    Ready,
    Draining,
    /// Failed with requests in service: their departures are still in the event queue and
    /// are discarded as they come (`orphans` of them); then the container is Stopped.
    Failed,
    Stopped,
}

#[derive(Debug)]
struct Container {
    /// Creation id: unique within a run, never reused (the slot is).
    id: u32,
    /// Position among the ready containers (`least_connections` only).
    ready_pos: u32,
    state: State,
    created: u64,
    ready_at: Option<u64>,
    busy: u32,
    local_queue: VecDeque<Request>,
    timer_pending: bool,
    stop_scheduled: bool,
    busy_area: u128,
    inflight_area: u128,
    last: u64,
    arrivals: u64,
    completions: u64,
    /// Whether it is billed now (a replacement waiting out its restart delay is not).
    billed: bool,
    /// Its start-up time, drawn when it was created (used by a replacement once its restart
    /// delay has passed).
    startup: u64,
    /// Its time to failure from readiness and its restart delay (`[faults]`), in ns.
    ttf: u64,
    restart: u64,
    /// Arrival times of the requests in service (tracked only with `[faults]`, so that a
    /// failure knows whom it fails).
    in_service: Vec<u64>,
    /// Departures still due of a failed container's lost requests.
    orphans: u32,
}

impl Container {
    fn new(now: u64, state: State, id: u32) -> Self {
        Container {
            id,
            ready_pos: 0,
            state,
            created: now,
            ready_at: None,
            busy: 0,
            local_queue: VecDeque::new(),
            timer_pending: false,
            stop_scheduled: false,
            busy_area: 0,
            inflight_area: 0,
            last: now,
            arrivals: 0,
            completions: 0,
            billed: true,
            startup: 0,
            ttf: 0,
            restart: 0,
            in_service: Vec::new(),
            orphans: 0,
        }
    }

    #[inline]
    fn advance(&mut self, now: u64) {
        let dt = (now - self.last) as u128;
        self.busy_area += self.busy as u128 * dt;
        self.inflight_area += (self.busy as u128 + self.local_queue.len() as u128) * dt;
        self.last = now;
    }

    #[inline]
    fn load(&self) -> usize {
        self.busy as usize + self.local_queue.len()
    }
}

/// Cumulative integrals over time of the cluster's counts, in count·ns.
#[derive(Clone, Copy, Debug, Default)]
pub struct Areas {
    /// Requests in service.
    pub busy: u128,
    /// Requests waiting in any queue.
    pub waiting: u128,
    /// Request slots of ready and draining containers.
    pub serving_slots: u128,
    /// Containers billed (starting, ready or draining).
    pub billed: u128,
    /// Requests on draining containers (in service or in their own queues).
    pub draining_load: u128,
}

/// The ready containers as routing candidates, in the order they became ready.
struct ReadyView<'a> {
    ready: &'a [u32],
    containers: &'a [Container],
    least: Option<&'a LeastLoaded>,
}

impl Backends for ReadyView<'_> {
    type Item = u32;
    #[inline]
    fn count(&self) -> usize {
        self.ready.len()
    }
    #[inline]
    fn item(&self, i: usize) -> u32 {
        self.ready[i]
    }
    #[inline]
    fn load(&self, i: usize) -> u64 {
        self.containers[self.ready[i] as usize].load() as u64
    }
    #[inline]
    fn least_loaded(&self) -> u32 {
        match self.least {
            Some(tree) => tree.least().expect("a ready container"),
            None => self.ready[crate::cluster::routing::scan_least(self)],
        }
    }
}

/// The modelled cluster.
pub struct Cluster {
    concurrency: u32,
    timeout: Option<u64>,
    startup: u64,
    /// Draws start-up times when they are not constant (`None`: every one is `startup`).
    startup_draw: Option<(super::startup::StartupSampler, SimRng)>,
    /// Draws each container's time to failure and restart delay (`None`: no `[faults]`).
    faults: Option<super::faults::FaultDraws>,
    shutdown: u64,
    min_replicas: u32,
    max_replicas: u32,
    balancer: Balancer,
    shared: bool,
    router: Router,
    /// The most requests one queue holds.
    capacity: usize,
    /// The ready containers by load (`least_connections` only).
    least: Option<LeastLoaded>,

    now: u64,
    /// Container slots; a stopped container's slot goes to `free_list` for reuse.
    containers: Vec<Container>,
    free_list: Vec<u32>,
    next_id: u32,
    /// Slots of containers that are starting, ready or draining, in creation order, and of
    /// `stopped_in_live` stopped ones not yet swept out (their slots are not reused before).
    live: Vec<u32>,
    stopped_in_live: usize,
    /// Ready containers, in the order they became ready (the balancers' candidates).
    ready_list: Vec<u32>,
    /// Free request slots of ready containers (shared queue only), as (container slot,
    /// creation id); may hold stale entries of containers that have since started draining
    /// or stopped, skipped when popped and swept when they outnumber the valid ones.
    free_slots: Vec<(u32, u32)>,
    free_count: u64,
    /// The shared queue (`shared_queue`) or the front buffer (the other balancers).
    central_queue: VecDeque<Request>,
    central_timer: bool,

    ready: u32,
    starting: u32,
    draining: u32,
    /// Requests on draining containers (in service or in their own queues).
    draining_load: u32,
    desired: u32,
    busy: u32,
    /// Requests waiting in any queue, central or local.
    waiting: u32,
    serving_slots: u64,
    billed: u32,

    areas: Areas,
    area_last: u64,
}

impl Cluster {
    /// Draws each container's start-up time from `spec.startup_dist` with `rng` (the
    /// replication's `startup` stream), one draw per container started, in order. A constant
    /// start-up draws nothing.
    pub fn with_startup_stream(mut self, spec: &ClusterSpec, rng: SimRng) -> Self {
        if !spec.startup_dist.is_constant()
            && let Ok(sampler) = super::startup::StartupSampler::try_new(&spec.startup_dist)
        {
            self.startup_draw = Some((sampler, rng));
        }
        self
    }

    /// Makes containers fail as `spec.faults` says (nothing without it), with `rng` (the
    /// replication's `faults` stream): the initial containers draw first, in order, and their
    /// failures are scheduled in `events`; every container created later draws when created.
    pub fn with_faults<E: From<ClusterEvent>>(
        mut self,
        spec: &ClusterSpec,
        rng: SimRng,
        events: &mut EventQueue<E>,
    ) -> Self {
        let Some(draws) = spec
            .faults
            .as_ref()
            .and_then(|f| super::faults::FaultDraws::new(f, rng))
        else {
            return self;
        };
        self.faults = Some(draws);
        for i in 0..self.live.len() {
            let slot = self.live[i];
            self.draw_faults(slot);
            self.schedule_failure(slot, events);
        }
        self
    }

    /// A cluster of `initial` ready containers at time 0 (`initial` within the bounds).
    pub fn new(spec: &ClusterSpec, balancer_rng: SimRng, initial: u32) -> Self {
        let mut cluster = Cluster {
            concurrency: spec.concurrency,
            timeout: spec.queue_timeout.map(|d| d.0),
            startup: spec.startup.0,
            startup_draw: None,
            faults: None,
            shutdown: spec.shutdown.0,
            min_replicas: spec.min_replicas,
            max_replicas: spec.max_replicas,
            balancer: spec.balancer,
            shared: spec.balancer == Balancer::SharedQueue,
            router: Router::new(balancer_rng),
            capacity: spec.queue_capacity as usize,
            least: (spec.balancer == Balancer::LeastConnections).then(LeastLoaded::new),
            now: 0,
            containers: Vec::new(),
            free_list: Vec::new(),
            next_id: 0,
            live: Vec::new(),
            stopped_in_live: 0,
            ready_list: Vec::new(),
            free_slots: Vec::new(),
            free_count: 0,
            central_queue: VecDeque::new(),
            central_timer: false,
            ready: 0,
            starting: 0,
            draining: 0,
            draining_load: 0,
            desired: initial,
            busy: 0,
            waiting: 0,
            serving_slots: 0,
            billed: 0,
            areas: Areas::default(),
            area_last: 0,
        };
        let mut none = EventQueue::<ClusterEvent>::new();
        for _ in 0..initial {
            let id = cluster.new_container(State::Ready, true);
            cluster.make_ready(id, &mut none, &mut NoDrops);
        }
        debug_assert!(none.is_empty());
        cluster
    }

    // ---- what the run and the policies see ----

    pub fn ready(&self) -> u32 {
        self.ready
    }
    pub fn starting(&self) -> u32 {
        self.starting
    }
    pub fn draining(&self) -> u32 {
        self.draining
    }
    pub fn desired(&self) -> u32 {
        self.desired
    }
    pub fn busy(&self) -> u32 {
        self.busy
    }
    /// Requests waiting in any queue.
    pub fn waiting(&self) -> u32 {
        self.waiting
    }
    /// Requests in the front buffer because no container was ready (0 with a shared queue
    /// while some container is ready: then the central queue is the shared queue).
    pub fn front_buffer(&self) -> u32 {
        if self.shared && self.ready > 0 {
            0
        } else {
            self.central_queue.len() as u32
        }
    }
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }
    /// `n` within the scenario's replica bounds.
    pub fn clamp(&self, n: u32) -> u32 {
        n.clamp(self.min_replicas, self.max_replicas)
    }

    /// The time integrals up to `now`.
    pub fn areas(&mut self, now: u64) -> Areas {
        self.advance(now);
        self.areas
    }

    /// Every live container as a policy sees it, in creation order, into `views`.
    pub fn observe(&mut self, now: u64, views: &mut Vec<ContainerView>) {
        self.advance(now);
        self.sweep_live();
        views.clear();
        for &slot in &self.live {
            let con = &mut self.containers[slot as usize];
            con.advance(now);
            let state = match con.state {
                State::Starting => ContainerState::Starting,
                State::Ready => ContainerState::Ready,
                State::Draining => ContainerState::Draining,
                // Gone for the control plane; kept only until its lost departures pass.
                State::Failed => continue,
                State::Stopped => unreachable!("stopped containers are not live"),
            };
            views.push(ContainerView {
                id: con.id,
                state,
                created: SimTime(con.created),
                ready_at: con.ready_at.map(SimTime),
                busy: con.busy,
                queued: con.local_queue.len() as u32,
                busy_area: con.busy_area as f64 / NANOS_PER_SEC as f64,
                inflight_area: con.inflight_area as f64 / NANOS_PER_SEC as f64,
                arrivals: con.arrivals,
                completions: con.completions,
            });
        }
    }

    // ---- time integrals ----

    #[inline]
    fn advance(&mut self, now: u64) {
        self.now = now;
        let dt = (now - self.area_last) as u128;
        if dt > 0 {
            self.areas.busy += self.busy as u128 * dt;
            self.areas.waiting += self.waiting as u128 * dt;
            self.areas.serving_slots += self.serving_slots as u128 * dt;
            self.areas.billed += self.billed as u128 * dt;
            self.areas.draining_load += self.draining_load as u128 * dt;
            self.area_last = now;
        }
    }

    // ---- events ----

    /// Handles one of the cluster's own events at `now`. A departure is recorded by the
    /// caller before it comes here.
    pub fn handle<E: From<ClusterEvent>>(
        &mut self,
        now: u64,
        ev: ClusterEvent,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        self.advance(now);
        match ev {
            ClusterEvent::Departure {
                container, arrival, ..
            } => self.depart(container, arrival, events, log),
            ClusterEvent::ContainerReady { container, id } => {
                let con = &self.containers[container as usize];
                if con.id == id && con.state == State::Starting {
                    self.make_ready(container, events, log);
                }
            }
            ClusterEvent::ContainerStop { container } => self.stop(container),
            ClusterEvent::QueueTimeout { queue } => self.expire(queue, events, log),
            ClusterEvent::ContainerFail { container, id } => {
                self.fail(container, id, events, log);
            }
            ClusterEvent::ReplacementStart { container, id } => {
                let con = &mut self.containers[container as usize];
                if con.id == id && con.state == State::Starting && !con.billed {
                    con.billed = true;
                    self.billed += 1;
                    let startup = con.startup;
                    self.begin_startup(container, startup, events, log);
                }
            }
        }
    }

    /// Whether a departure from `container` completes its request: not when the container
    /// failed with the request in service (the request was counted as failed then).
    #[inline]
    pub fn completes(&self, container: u32) -> bool {
        self.containers[container as usize].state != State::Failed
    }

    // ---- requests ----

    /// A request arrives at `now`. Returns whether it waits in the central queue.
    #[inline]
    pub fn arrive<E: From<ClusterEvent>>(
        &mut self,
        now: u64,
        req: Request,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) -> bool {
        self.advance(now);
        if self.shared {
            if let Some(c) = self.pop_free_slot() {
                self.start_service(c, req, events);
                false
            } else {
                self.enqueue_central(req, events, log)
            }
        } else if self.ready_list.is_empty() {
            self.enqueue_central(req, events, log)
        } else {
            let c = self.choose();
            self.route(c, req, events, log);
            false
        }
    }

    /// Puts `req` in the central queue, or drops it when the queue is full; returns whether
    /// it waits.
    fn enqueue_central<E: From<ClusterEvent>>(
        &mut self,
        req: Request,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) -> bool {
        if self.central_queue.len() >= self.capacity {
            log.dropped(req.arrival);
            return false;
        }
        self.central_queue.push_back(req);
        self.waiting += 1;
        if let Some(to) = self.timeout
            && !self.central_timer
        {
            self.central_timer = true;
            events.push(
                SimTime(req.arrival.saturating_add(to)),
                ClusterEvent::QueueTimeout {
                    queue: QueueId::Central,
                }
                .into(),
            );
        }
        true
    }

    /// Pops a free slot of a ready container (shared queue), skipping stale entries.
    #[inline]
    fn pop_free_slot(&mut self) -> Option<u32> {
        if self.free_count == 0 {
            return None;
        }
        while let Some((c, id)) = self.free_slots.pop() {
            let con = &self.containers[c as usize];
            if con.id == id && con.state == State::Ready {
                self.free_count -= 1;
                return Some(c);
            }
        }
        unreachable!("free_count counts the free slots of ready containers")
    }

    /// The ready container a request goes to (per-container balancers; some are ready).
    #[inline]
    fn choose(&mut self) -> u32 {
        let view = ReadyView {
            ready: &self.ready_list,
            containers: &self.containers,
            least: self.least.as_ref(),
        };
        self.balancer.choose(&mut self.router, &view)
    }

    /// Container `c`'s load changed: keep `least_connections`' index up to date.
    #[inline]
    fn load_changed(&mut self, c: u32) {
        if let Some(tree) = &mut self.least {
            let con = &self.containers[c as usize];
            if con.state == State::Ready {
                tree.set(con.ready_pos, con.load() as u64);
            }
        }
    }

    /// Routes a request to container `c` (per-container balancers).
    fn route<E: From<ClusterEvent>>(
        &mut self,
        c: u32,
        req: Request,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        let con = &mut self.containers[c as usize];
        con.advance(self.now);
        con.arrivals += 1;
        if con.busy < self.concurrency {
            self.start_service(c, req, events);
        } else if con.local_queue.len() >= self.capacity {
            log.dropped(req.arrival);
            return;
        } else {
            con.local_queue.push_back(req);
            self.waiting += 1;
            if let Some(to) = self.timeout
                && !con.timer_pending
            {
                con.timer_pending = true;
                let id = con.id;
                events.push(
                    SimTime(req.arrival.saturating_add(to)),
                    ClusterEvent::QueueTimeout {
                        queue: QueueId::Local { slot: c, id },
                    }
                    .into(),
                );
            }
        }
        self.load_changed(c);
    }

    /// Starts serving `req` on container `c`, which has a free slot.
    #[inline]
    fn start_service<E: From<ClusterEvent>>(
        &mut self,
        c: u32,
        req: Request,
        events: &mut EventQueue<E>,
    ) {
        let now = self.now;
        let con = &mut self.containers[c as usize];
        con.advance(now);
        if self.shared {
            con.arrivals += 1;
        }
        con.busy += 1;
        if self.faults.is_some() {
            con.in_service.push(req.arrival);
        }
        self.busy += 1;
        events.push(
            SimTime(now.saturating_add(req.service)),
            ClusterEvent::Departure {
                container: c,
                arrival: req.arrival,
                wait: now - req.arrival,
            }
            .into(),
        );
    }

    #[inline]
    fn depart<E: From<ClusterEvent>>(
        &mut self,
        c: u32,
        arrival: u64,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        let now = self.now;
        let con = &mut self.containers[c as usize];
        if con.state == State::Failed {
            // A request lost with its container: counted as failed already.
            con.orphans -= 1;
            if con.orphans == 0 {
                con.state = State::Stopped;
                self.stopped_in_live += 1;
            }
            return;
        }
        if self.faults.is_some()
            && let Some(i) = con.in_service.iter().position(|&a| a == arrival)
        {
            con.in_service.swap_remove(i);
        }
        con.advance(now);
        con.busy -= 1;
        con.completions += 1;
        if con.state == State::Draining {
            self.draining_load -= 1;
        }
        self.busy -= 1;
        self.serve_next(c, events, log);
        self.load_changed(c);
    }

    /// Container `c` has a free slot: give it the next waiting request, or release the slot.
    fn serve_next<E: From<ClusterEvent>>(
        &mut self,
        c: u32,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        let state = self.containers[c as usize].state;
        if self.shared {
            if state == State::Ready {
                self.drop_expired_central(log);
                if let Some(req) = self.central_queue.pop_front() {
                    self.waiting -= 1;
                    self.start_service(c, req, events);
                } else {
                    self.release_slot(c);
                }
                return;
            }
        } else {
            self.drop_expired_local(c, log);
            if let Some(req) = self.containers[c as usize].local_queue.pop_front() {
                self.waiting -= 1;
                self.start_service(c, req, events);
                return;
            }
        }
        if state == State::Draining {
            self.maybe_stop(c, events);
        }
    }

    // ---- time-outs ----

    fn drop_request(&mut self, arrival: u64, log: &mut impl RequestLog) {
        self.waiting -= 1;
        log.dropped(arrival);
    }

    fn drop_expired_central(&mut self, log: &mut impl RequestLog) {
        let Some(to) = self.timeout else { return };
        while let Some(head) = self.central_queue.front() {
            if head.arrival.saturating_add(to) > self.now {
                break;
            }
            let a = head.arrival;
            self.central_queue.pop_front();
            self.drop_request(a, log);
        }
    }

    fn drop_expired_local(&mut self, c: u32, log: &mut impl RequestLog) {
        let Some(to) = self.timeout else { return };
        loop {
            let con = &mut self.containers[c as usize];
            let Some(head) = con.local_queue.front() else {
                break;
            };
            if head.arrival.saturating_add(to) > self.now {
                break;
            }
            let a = head.arrival;
            con.advance(self.now);
            con.local_queue.pop_front();
            if con.state == State::Draining {
                self.draining_load -= 1;
            }
            self.drop_request(a, log);
        }
    }

    fn expire<E: From<ClusterEvent>>(
        &mut self,
        queue: QueueId,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        let to = self
            .timeout
            .expect("time-outs are scheduled only with queue_timeout");
        match queue {
            QueueId::Central => {
                self.drop_expired_central(log);
                match self.central_queue.front() {
                    Some(head) => {
                        let t = head.arrival.saturating_add(to);
                        events.push(SimTime(t), ClusterEvent::QueueTimeout { queue }.into());
                    }
                    None => self.central_timer = false,
                }
            }
            QueueId::Local { slot: c, id } => {
                if self.containers[c as usize].id != id {
                    // The container stopped and its slot went to another: nothing to do.
                    return;
                }
                self.drop_expired_local(c, log);
                self.load_changed(c);
                let head = self.containers[c as usize]
                    .local_queue
                    .front()
                    .map(|h| h.arrival);
                match head {
                    Some(a) => events.push(
                        SimTime(a.saturating_add(to)),
                        ClusterEvent::QueueTimeout { queue }.into(),
                    ),
                    None => {
                        self.containers[c as usize].timer_pending = false;
                        if self.containers[c as usize].state == State::Draining {
                            self.maybe_stop(c, events);
                        }
                    }
                }
            }
        }
    }

    // ---- scaling ----

    /// Scales to `n` desired containers (within the bounds: see [`Cluster::clamp`]) at `now`.
    /// Returns the containers started and stopped.
    pub fn scale_to<E: From<ClusterEvent>>(
        &mut self,
        now: u64,
        n: u32,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) -> (u64, u64) {
        self.advance(now);
        debug_assert_eq!(n, self.clamp(n));
        self.desired = n;
        let current = self.ready + self.starting;
        let (starts, stops) = (
            u64::from(n.saturating_sub(current)),
            u64::from(current.saturating_sub(n)),
        );
        if n > current {
            for _ in 0..n - current {
                let id = self.new_container(State::Starting, true);
                let startup = self.draw_startup();
                self.begin_startup(id, startup, events, log);
            }
        } else if n < current {
            let mut remove = current - n;
            // Cancel starting containers first, newest first.
            let starting: Vec<u32> = self
                .live
                .iter()
                .rev()
                .copied()
                .filter(|&c| self.containers[c as usize].state == State::Starting)
                .take(remove as usize)
                .collect();
            for id in starting {
                self.stop(id);
                remove -= 1;
            }
            if remove > 0 {
                // Then drain the least loaded ready containers, newest first on ties.
                let mut ready: Vec<u32> = self.ready_list.clone();
                ready.sort_by_key(|&c| {
                    let con = &self.containers[c as usize];
                    (con.load(), std::cmp::Reverse(con.id))
                });
                for c in ready.into_iter().take(remove as usize) {
                    self.drain(c, events);
                }
                let containers = &self.containers;
                self.ready_list
                    .retain(|&c| containers[c as usize].state == State::Ready);
            }
        }
        (starts, stops)
    }

    // ---- containers ----

    /// The next start-up time.
    fn draw_startup(&mut self) -> u64 {
        match &mut self.startup_draw {
            Some((sampler, rng)) => sampler.sample(rng).0,
            None => self.startup,
        }
    }

    /// Starting container `id` starts its start-up of `startup` ns now.
    fn begin_startup<E: From<ClusterEvent>>(
        &mut self,
        id: u32,
        startup: u64,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        if startup == 0 {
            self.make_ready(id, events, log);
        } else {
            events.push(
                SimTime(self.now.saturating_add(startup)),
                ClusterEvent::ContainerReady {
                    container: id,
                    id: self.containers[id as usize].id,
                }
                .into(),
            );
        }
    }

    /// Container `slot` draws its time to failure and restart delay (with `[faults]`).
    fn draw_faults(&mut self, slot: u32) {
        if let Some(f) = &mut self.faults {
            let (ttf, restart) = f.draw();
            let con = &mut self.containers[slot as usize];
            con.ttf = ttf;
            con.restart = restart;
        }
    }

    /// Schedules the failure of container `slot`, ready now (with `[faults]`).
    fn schedule_failure<E: From<ClusterEvent>>(&mut self, slot: u32, events: &mut EventQueue<E>) {
        if self.faults.is_some() {
            let con = &self.containers[slot as usize];
            events.push(
                SimTime(self.now.saturating_add(con.ttf)),
                ClusterEvent::ContainerFail {
                    container: slot,
                    id: con.id,
                }
                .into(),
            );
        }
    }

    /// Container `c` (creation id `id`) fails now, if it is still the one scheduled to: a
    /// ready one, or a draining one still holding requests. Its requests are lost; a ready
    /// one is replaced after its restart delay.
    fn fail<E: From<ClusterEvent>>(
        &mut self,
        c: u32,
        id: u32,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        let now = self.now;
        let concurrency = self.concurrency;
        let con = &mut self.containers[c as usize];
        let was_ready = match con.state {
            _ if con.id != id => return,
            State::Ready => true,
            State::Draining if !con.stop_scheduled => false,
            // Shutting down with nothing left, or gone already.
            _ => return,
        };
        con.advance(now);
        let queued = std::mem::take(&mut con.local_queue);
        let in_service = std::mem::take(&mut con.in_service);
        let busy = con.busy;
        let pos = con.ready_pos;
        let restart = con.restart;
        con.busy = 0;
        con.orphans = busy;
        con.billed = false;
        con.timer_pending = false;
        con.state = if busy > 0 {
            State::Failed
        } else {
            State::Stopped
        };
        self.busy -= busy;
        self.waiting -= queued.len() as u32;
        self.billed -= 1;
        self.serving_slots -= u64::from(concurrency);
        if was_ready {
            self.ready -= 1;
            if let Some(tree) = &mut self.least {
                tree.remove(pos);
            }
            if self.shared {
                self.free_count -= u64::from(concurrency - busy);
                self.sweep_free_slots();
            }
            self.ready_list.retain(|&x| x != c);
        } else {
            self.draining -= 1;
            self.draining_load -= busy + queued.len() as u32;
        }
        if busy == 0 {
            self.stopped_in_live += 1;
        }
        for a in in_service {
            log.failed(a);
        }
        for r in queued {
            log.failed(r.arrival);
        }
        if was_ready {
            // The controller replaces it: asked for now, starting after the restart delay.
            let slot = self.new_container(State::Starting, restart == 0);
            let startup = self.draw_startup();
            self.containers[slot as usize].startup = startup;
            if restart == 0 {
                self.begin_startup(slot, startup, events, log);
            } else {
                events.push(
                    SimTime(now.saturating_add(restart)),
                    ClusterEvent::ReplacementStart {
                        container: slot,
                        id: self.containers[slot as usize].id,
                    }
                    .into(),
                );
            }
        }
    }

    /// A new container in a free slot, billed from now or (`billed` false) once its restart
    /// delay has passed; returns the slot.
    fn new_container(&mut self, state: State, billed: bool) -> u32 {
        let id = self.next_id;
        self.next_id = id
            .checked_add(1)
            .expect("fewer than 2^32 containers in a run");
        let mut con = Container::new(self.now, state, id);
        con.billed = billed;
        let slot = match self.free_list.pop() {
            Some(slot) => {
                self.containers[slot as usize] = con;
                slot
            }
            None => {
                self.containers.push(con);
                (self.containers.len() - 1) as u32
            }
        };
        self.live.push(slot);
        if billed {
            self.billed += 1;
        }
        if state == State::Starting {
            self.starting += 1;
        }
        self.draw_faults(slot);
        slot
    }

    /// Removes stopped containers from `live` and frees their slots.
    fn sweep_live(&mut self) {
        if self.stopped_in_live == 0 {
            return;
        }
        let containers = &self.containers;
        let free = &mut self.free_list;
        self.live.retain(|&c| {
            let stopped = containers[c as usize].state == State::Stopped;
            if stopped {
                free.push(c);
            }
            !stopped
        });
        self.stopped_in_live = 0;
    }

    /// A free request slot of ready container `c` (shared queue).
    #[inline]
    fn release_slot(&mut self, c: u32) {
        self.free_slots.push((c, self.containers[c as usize].id));
        self.free_count += 1;
    }

    /// Container `id` becomes ready (it was created Ready at time 0, or was Starting).
    fn make_ready<E: From<ClusterEvent>>(
        &mut self,
        id: u32,
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
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
        self.schedule_failure(id, events);
        if let Some(tree) = &mut self.least {
            let containers = &mut self.containers;
            let load = containers[id as usize].load() as u64;
            let pos = tree.insert(id, load, |c, p| containers[c as usize].ready_pos = p);
            containers[id as usize].ready_pos = pos;
        }
        if self.shared {
            for _ in 0..self.concurrency {
                self.drop_expired_central(log);
                match self.central_queue.pop_front() {
                    Some(req) => {
                        self.waiting -= 1;
                        self.start_service(id, req, events);
                    }
                    None => self.release_slot(id),
                }
            }
        } else {
            self.drop_expired_central(log);
            while let Some(req) = self.central_queue.pop_front() {
                self.waiting -= 1;
                let c = self.choose();
                self.route(c, req, events, log);
            }
        }
    }

    /// Scale-down of a ready container: it takes nothing new and stops once empty. The
    /// caller removes it from `ready_list`.
    fn drain<E: From<ClusterEvent>>(&mut self, id: u32, events: &mut EventQueue<E>) {
        let con = &mut self.containers[id as usize];
        con.advance(self.now);
        con.state = State::Draining;
        self.draining_load += con.load() as u32;
        let free = u64::from(self.concurrency - con.busy);
        let pos = con.ready_pos;
        self.ready -= 1;
        self.draining += 1;
        if let Some(tree) = &mut self.least {
            tree.remove(pos);
        }
        if self.shared {
            self.free_count -= free;
            self.sweep_free_slots();
        }
        self.maybe_stop(id, events);
    }

    /// A container's free slots in `free_slots` went stale (it drained or failed): sweep
    /// them when they outnumber the valid ones, so the list stays bounded by the live slots.
    fn sweep_free_slots(&mut self) {
        if self.free_slots.len() as u64 > 2 * self.free_count + 64 {
            let containers = &self.containers;
            self.free_slots.retain(|&(c, cid)| {
                let con = &containers[c as usize];
                con.id == cid && con.state == State::Ready
            });
        }
    }

    fn maybe_stop<E: From<ClusterEvent>>(&mut self, id: u32, events: &mut EventQueue<E>) {
        let con = &mut self.containers[id as usize];
        if con.busy > 0 || !con.local_queue.is_empty() || con.stop_scheduled {
            return;
        }
        con.stop_scheduled = true;
        if self.shutdown == 0 {
            self.stop(id);
        } else {
            events.push(
                SimTime(self.now.saturating_add(self.shutdown)),
                ClusterEvent::ContainerStop { container: id }.into(),
            );
        }
    }

    /// The container stops: it is no longer billed or serving.
    fn stop(&mut self, id: u32) {
        let con = &mut self.containers[id as usize];
        con.advance(self.now);
        match con.state {
            State::Starting => self.starting -= 1,
            State::Draining => {
                self.draining -= 1;
                self.serving_slots -= u64::from(self.concurrency);
            }
            State::Ready | State::Failed | State::Stopped => {
                unreachable!("only starting or draining containers stop")
            }
        }
        con.state = State::Stopped;
        // Release its buffers; the slot is reused once swept out of `live`.
        con.local_queue = VecDeque::new();
        if con.billed {
            con.billed = false;
            self.billed -= 1;
        }
        self.stopped_in_live += 1;
        if self.stopped_in_live > 32 && self.stopped_in_live * 2 > self.live.len() {
            self.sweep_live();
        }
    }
}

/// A log for the initial containers, which find no request to drop.
struct NoDrops;

impl RequestLog for NoDrops {
    fn dropped(&mut self, _: u64) {
        unreachable!("the initial cluster holds no request")
    }
    fn failed(&mut self, _: u64) {
        unreachable!("the initial cluster holds no request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    struct Drops(u64);
    impl RequestLog for Drops {
        fn dropped(&mut self, _: u64) {
            self.0 += 1;
        }
        fn failed(&mut self, _: u64) {
            self.0 += 1;
        }
    }

    fn spec(balancer: Balancer) -> ClusterSpec {
        ClusterSpec {
            concurrency: 2,
            balancer,
            startup: SimDuration::ZERO,
            startup_dist: crate::cluster::startup::StartupDist::Constant(SimDuration::ZERO),
            shutdown: SimDuration::ZERO,
            min_replicas: 0,
            max_replicas: 1000,
            initial_replicas: None,
            queue_timeout: None,
            queue_capacity: 10,
            faults: None,
        }
    }

    /// Common random numbers: the k-th container started in a replication gets the same
    /// start-up draw whatever the policy (here: 3 then 3 more a second later, or 6 at once).
    #[test]
    fn the_kth_container_started_gets_the_same_startup_draw() {
        let mut sp = spec(Balancer::SharedQueue);
        sp.startup_dist = crate::cluster::startup::StartupDist::Lognormal {
            mean: SimDuration::from_secs(30),
            cv: 1.0,
        };
        let delays = |steps: &[(u64, u32)]| {
            let stream = crate::rng::stream(9, 2, crate::rng::STARTUP);
            let mut c = Cluster::new(&sp, crate::rng::stream(9, 2, crate::rng::BALANCER), 0)
                .with_startup_stream(&sp, stream);
            let mut events = EventQueue::<ClusterEvent>::new();
            let mut log = Drops(0);
            let mut created = Vec::new();
            for &(at, n) in steps {
                let before = created.len() as u32;
                c.scale_to(at, n, &mut events, &mut log);
                created.extend((before..n).map(|_| at));
            }
            let mut out = vec![0u64; created.len()];
            while let Some((t, ev)) = events.pop() {
                if let ClusterEvent::ContainerReady { id, .. } = ev {
                    out[id as usize] = t.0 - created[id as usize];
                }
            }
            out
        };
        let a = delays(&[(0, 3), (1_000_000_000, 6)]);
        let b = delays(&[(0, 6)]);
        assert_eq!(a, b);
        assert!(a.windows(2).any(|w| w[0] != w[1]), "draws vary: {a:?}");
    }

    /// Common random numbers for `[faults]`: the k-th container created in a replication
    /// (the initial ones first) draws the same time to failure whatever the policy (here: 2
    /// initial containers, then 1 more and 3 more a second later, or 4 at once), and fails
    /// that long after it becomes ready.
    #[test]
    fn the_kth_container_gets_the_same_time_to_failure() {
        let mut sp = spec(Balancer::SharedQueue);
        sp.faults = Some(crate::cluster::faults::FaultSpec {
            time_to_failure: crate::cluster::startup::StartupDist::Exponential {
                mean: SimDuration::from_secs(100),
            },
            restart_delay: crate::cluster::startup::StartupDist::Constant(SimDuration::ZERO),
        });
        let ttfs = |steps: &[(u64, u32)]| {
            let mut events = EventQueue::<ClusterEvent>::new();
            let mut c = Cluster::new(&sp, crate::rng::stream(3, 1, crate::rng::BALANCER), 2)
                .with_faults(
                    &sp,
                    crate::rng::stream(3, 1, crate::rng::FAULTS),
                    &mut events,
                );
            let mut log = Drops(0);
            let mut ready_at = vec![0u64; 2];
            for &(at, n) in steps {
                let before = ready_at.len() as u32;
                c.scale_to(at, n, &mut events, &mut log);
                ready_at.extend((before..n).map(|_| at));
            }
            let mut out = vec![0u64; ready_at.len()];
            while let Some((t, ev)) = events.pop() {
                if let ClusterEvent::ContainerFail { id, .. } = ev
                    && (id as usize) < out.len()
                    && out[id as usize] == 0
                {
                    out[id as usize] = t.0 - ready_at[id as usize];
                }
            }
            out
        };
        let a = ttfs(&[(0, 3), (1_000_000_000, 6)]);
        let b = ttfs(&[(0, 6)]);
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| x > 0));
        assert!(a.windows(2).any(|w| w[0] != w[1]), "draws vary: {a:?}");
    }

    /// The load of draining containers is integrated apart (what Knative's scraper, which
    /// reads only running pods without a deletion timestamp, does not see): two round-robin
    /// containers each serve a 2 s request from 0 s; scaled to one at 1 s, the newer drains
    /// with its request until 2 s: 1 request-second.
    #[test]
    fn draining_load_is_integrated_apart() {
        let rng = crate::rng::stream(1, 0, crate::rng::BALANCER);
        let mut c = Cluster::new(&spec(Balancer::RoundRobin), rng, 2);
        let mut events = EventQueue::<ClusterEvent>::new();
        let mut log = Drops(0);
        let req = Request {
            arrival: 0,
            service: 2_000_000_000,
        };
        c.arrive(0, req, &mut events, &mut log);
        c.arrive(0, req, &mut events, &mut log);
        c.scale_to(1_000_000_000, 1, &mut events, &mut log);
        assert_eq!((c.ready(), c.draining()), (1, 1));
        while let Some((t, ev)) = events.pop() {
            c.handle(t.0, ev, &mut events, &mut log);
        }
        let a = c.areas(3_000_000_000);
        assert_eq!(a.draining_load, 1_000_000_000);
        assert_eq!(a.busy, 4_000_000_000);
        assert_eq!((c.ready(), c.draining()), (1, 0));
    }

    /// A million container starts and stops reuse the slots of the stopped ones: the slots
    /// never outnumber the most containers live at once (with the sweep's slack), and the
    /// views keep creation ids that are never reused.
    #[test]
    fn stopped_containers_slots_are_reused() {
        for balancer in [Balancer::SharedQueue, Balancer::LeastConnections] {
            let rng = crate::rng::stream(1, 0, crate::rng::BALANCER);
            let mut c = Cluster::new(&spec(balancer), rng, 5);
            let mut events = EventQueue::<ClusterEvent>::new();
            let mut log = Drops(0);
            let mut views = Vec::new();
            let mut now = 0;
            for cycle in 0..100_000u64 {
                now += 1;
                c.scale_to(now, 15, &mut events, &mut log);
                now += 1;
                c.scale_to(now, 5, &mut events, &mut log);
                if cycle % 1000 == 0 {
                    c.observe(now, &mut views);
                    assert_eq!(views.len(), 5);
                }
            }
            assert!(c.containers.len() <= 2 * 15 + 33, "{}", c.containers.len());
            assert_eq!((c.ready(), c.starting(), c.draining()), (5, 0, 0));
            c.observe(now, &mut views);
            let ids: Vec<u32> = views.iter().map(|v| v.id).collect();
            // The first 5 were never stopped (newest are drained first).
            assert_eq!(ids, [0, 1, 2, 3, 4]);
            assert!(c.free_slots.len() as u64 <= 2 * c.free_count + 64 + 20);
            assert_eq!(log.0, 0);
        }
    }
}
