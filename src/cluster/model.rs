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
//! Scaling to `n` desired containers: more than are ready or starting starts new ones; fewer
//! cancels starting containers first (newest first), then drains the least loaded ready ones
//! (newest first on ties).
//!
//! Guarantees:
//! - The model knows no policy and no run: it is driven by its methods, schedules its own
//!   future events ([`ClusterEvent`]) in the run's event queue, and reports dropped requests to
//!   a [`RequestLog`]; the run records completions when it handles a departure.
//! - Its time integrals ([`Areas`]) are exact integer sums of count × nanoseconds.
//! - Deterministic: the only randomness is the balancer's stream.

use crate::autoscaler::{ContainerState, ContainerView};
use crate::cluster::ClusterSpec;
use crate::cluster::routing::{Backends, Balancer, Router};
use crate::engine::EventQueue;
use crate::rng::SimRng;
use crate::time::{NANOS_PER_SEC, SimTime};
use std::collections::VecDeque;

/// Which queue a request waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueId {
    /// The shared queue (`shared_queue`) or the front buffer (the other balancers).
    Central,
    /// A container's local queue (per-container balancers).
    Local(u32),
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
    /// A starting container's start-up delay has passed.
    ContainerReady { container: u32 },
    /// A drained container's shutdown delay has passed.
    ContainerStop { container: u32 },
    /// The head of a queue may have waited `queue_timeout`.
    QueueTimeout { queue: QueueId },
}

/// Where the cluster reports the requests it drops.
pub trait RequestLog {
    /// A request that arrived at `arrival` (ns) is dropped now.
    fn dropped(&mut self, arrival: u64);
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
    Stopped,
}

#[derive(Debug)]
struct Container {
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
}

impl Container {
    fn new(now: u64, state: State) -> Self {
        Container {
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
}

/// The ready containers as routing candidates, in the order they became ready.
struct ReadyView<'a> {
    ready: &'a [u32],
    containers: &'a [Container],
}

impl Backends for ReadyView<'_> {
    #[inline]
    fn count(&self) -> usize {
        self.ready.len()
    }
    #[inline]
    fn load(&self, i: usize) -> u64 {
        self.containers[self.ready[i] as usize].load() as u64
    }
}

/// The modelled cluster.
pub struct Cluster {
    concurrency: u32,
    timeout: Option<u64>,
    startup: u64,
    shutdown: u64,
    min_replicas: u32,
    max_replicas: u32,
    balancer: Balancer,
    shared: bool,
    router: Router,

    now: u64,
    containers: Vec<Container>,
    /// Containers that are starting, ready or draining, in creation order.
    live: Vec<u32>,
    /// Ready containers, in the order they became ready (the balancers' candidates).
    ready_list: Vec<u32>,
    /// Free slots of ready containers (shared queue only); may hold stale entries of
    /// containers that have since started draining, skipped when popped.
    free_slots: Vec<u32>,
    free_count: u64,
    /// The shared queue (`shared_queue`) or the front buffer (the other balancers).
    central_queue: VecDeque<Request>,
    central_timer: bool,

    ready: u32,
    starting: u32,
    draining: u32,
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
    /// A cluster of `initial` ready containers at time 0 (`initial` within the bounds).
    pub fn new(spec: &ClusterSpec, balancer_rng: SimRng, initial: u32) -> Self {
        let mut cluster = Cluster {
            concurrency: spec.concurrency,
            timeout: spec.queue_timeout.map(|d| d.0),
            startup: spec.startup.0,
            shutdown: spec.shutdown.0,
            min_replicas: spec.min_replicas,
            max_replicas: spec.max_replicas,
            balancer: spec.balancer,
            shared: spec.balancer == Balancer::SharedQueue,
            router: Router::new(balancer_rng),
            now: 0,
            containers: Vec::new(),
            live: Vec::new(),
            ready_list: Vec::new(),
            free_slots: Vec::new(),
            free_count: 0,
            central_queue: VecDeque::new(),
            central_timer: false,
            ready: 0,
            starting: 0,
            draining: 0,
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
            let id = cluster.new_container(State::Ready);
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
        views.clear();
        for &id in &self.live {
            let con = &mut self.containers[id as usize];
            con.advance(now);
            let state = match con.state {
                State::Starting => ContainerState::Starting,
                State::Ready => ContainerState::Ready,
                State::Draining => ContainerState::Draining,
                State::Stopped => unreachable!("stopped containers are not live"),
            };
            views.push(ContainerView {
                id,
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
            ClusterEvent::Departure { container, .. } => self.depart(container, events, log),
            ClusterEvent::ContainerReady { container } => {
                if self.containers[container as usize].state == State::Starting {
                    self.make_ready(container, events, log);
                }
            }
            ClusterEvent::ContainerStop { container } => self.stop(container),
            ClusterEvent::QueueTimeout { queue } => self.expire(queue, events, log),
        }
    }

    // ---- requests ----

    /// A request arrives at `now`. Returns whether it waits in the central queue.
    #[inline]
    pub fn arrive<E: From<ClusterEvent>>(
        &mut self,
        now: u64,
        req: Request,
        events: &mut EventQueue<E>,
    ) -> bool {
        self.advance(now);
        if self.shared {
            if let Some(c) = self.pop_free_slot() {
                self.start_service(c, req, events);
                false
            } else {
                self.enqueue_central(req, events);
                true
            }
        } else if self.ready_list.is_empty() {
            self.enqueue_central(req, events);
            true
        } else {
            let c = self.choose();
            self.route(c, req, events);
            false
        }
    }

    fn enqueue_central<E: From<ClusterEvent>>(&mut self, req: Request, events: &mut EventQueue<E>) {
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

    /// The ready container a request goes to (per-container balancers; some are ready).
    #[inline]
    fn choose(&mut self) -> u32 {
        let view = ReadyView {
            ready: &self.ready_list,
            containers: &self.containers,
        };
        let i = self.balancer.choose(&mut self.router, &view);
        self.ready_list[i]
    }

    /// Routes a request to container `c` (per-container balancers).
    fn route<E: From<ClusterEvent>>(&mut self, c: u32, req: Request, events: &mut EventQueue<E>) {
        let con = &mut self.containers[c as usize];
        con.advance(self.now);
        con.arrivals += 1;
        if con.busy < self.concurrency {
            self.start_service(c, req, events);
        } else {
            con.local_queue.push_back(req);
            self.waiting += 1;
            if let Some(to) = self.timeout
                && !con.timer_pending
            {
                con.timer_pending = true;
                events.push(
                    SimTime(req.arrival.saturating_add(to)),
                    ClusterEvent::QueueTimeout {
                        queue: QueueId::Local(c),
                    }
                    .into(),
                );
            }
        }
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
        events: &mut EventQueue<E>,
        log: &mut impl RequestLog,
    ) {
        let now = self.now;
        let con = &mut self.containers[c as usize];
        con.advance(now);
        con.busy -= 1;
        con.completions += 1;
        self.busy -= 1;
        self.serve_next(c, events, log);
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
                    self.free_slots.push(c);
                    self.free_count += 1;
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
            QueueId::Local(c) => {
                self.drop_expired_local(c, log);
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
                let id = self.new_container(State::Starting);
                if self.startup == 0 {
                    self.make_ready(id, events, log);
                } else {
                    events.push(
                        SimTime(self.now.saturating_add(self.startup)),
                        ClusterEvent::ContainerReady { container: id }.into(),
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
                    self.drain(id, events);
                }
            }
        }
        (starts, stops)
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
        if self.shared {
            for _ in 0..self.concurrency {
                self.drop_expired_central(log);
                match self.central_queue.pop_front() {
                    Some(req) => {
                        self.waiting -= 1;
                        self.start_service(id, req, events);
                    }
                    None => {
                        self.free_slots.push(id);
                        self.free_count += 1;
                    }
                }
            }
        } else {
            self.drop_expired_central(log);
            while let Some(req) = self.central_queue.pop_front() {
                self.waiting -= 1;
                let c = self.choose();
                self.route(c, req, events);
            }
        }
    }

    /// Scale-down of a ready container: it takes nothing new and stops once empty.
    fn drain<E: From<ClusterEvent>>(&mut self, id: u32, events: &mut EventQueue<E>) {
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
        self.maybe_stop(id, events);
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
            State::Ready | State::Stopped => {
                unreachable!("only starting or draining containers stop")
            }
        }
        con.state = State::Stopped;
        self.billed -= 1;
        self.live.retain(|&c| c != id);
    }
}

/// A log for the initial containers, which find no request to drop.
struct NoDrops;

impl RequestLog for NoDrops {
    fn dropped(&mut self, _: u64) {
        unreachable!("the initial cluster holds no request")
    }
}
