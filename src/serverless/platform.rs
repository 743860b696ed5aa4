//! The scale-per-request platform: one function's instances, driven by its arrivals.
//!
//! Model (AWS Lambda, Azure Functions consumption plan, Google Cloud Functions, OpenWhisk):
//! - An instance serves at most `concurrency` requests at once (1 on Lambda).
//! - A request that finds an instance with a free slot runs on it at once (a warm start). The
//!   instance chosen is the most recently created one with a free slot (provisioned instances
//!   first): the rule of SimFaaS and of measurements of AWS Lambda, which keeps the older
//!   instances idle so that they expire.
//! - Otherwise a new instance is created and the request waits for its cold start: either an
//!   initialisation time before its execution (`cold_start`), or a whole cold execution time
//!   in place of the warm one (`cold_service`, SimFaaS's model). A starting instance takes no
//!   other request.
//! - When `max_instances` instances exist (starting, busy and idle, provisioned included), a
//!   request that finds no free slot is throttled (rejected and counted).
//! - An instance that becomes idle follows its function's keep-alive [`Windows`]: it stays
//!   loaded for the keep-alive and is then torn down, or (pre-warm) it is unloaded at once and
//!   a new instance is loaded after the pre-warm window (it takes a cold start's
//!   initialisation to load, and is torn down `keep_alive` after the load began unless a
//!   request finds it). A cold start while pre-warms are pending cancels the earliest one
//!   (the new instance takes its place).
//! - Provisioned concurrency: a schedule of instances kept loaded whatever the load (one count
//!   per report interval); requests go to a free provisioned instance first and spill over to
//!   on-demand instances, which follow the keep-alive windows. When the schedule falls, idle
//!   provisioned instances are torn down at once and busy ones when they finish.
//!
//! Billing both ways: the provider pays for every instance-second an instance exists (busy,
//! idle or starting; split into busy and idle seconds), the user for each request's duration
//! (its cold-start initialisation included, as AWS bills the INIT phase) plus a price per
//! request. Everything is measured over `[warmup, duration)`; requests are counted when they
//! arrive after the warm-up, and their latency is known on arrival (no request ever queues).
//!
//! Determinism and common random numbers: a function's arrivals, its per-request execution
//! times and its per-request cold-start times come from three streams of its own, drawn in
//! arrival order whatever the policy, so every policy sees the same requests with the same
//! durations. Pre-warm loads draw from a fourth stream. Events are ordered by (time, sequence).

use super::keepalive::{KeepAlive, Windows};
use crate::cluster::service::ServiceSampler;
use crate::rng::SimRng;
use crate::stats::LatencyHistogram;
use crate::time::SimDuration;
use hdrhistogram::Histogram;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

/// How a cold start delays its request.
#[derive(Clone, Debug)]
pub enum ColdStart {
    /// An initialisation time drawn from this sampler, then the warm execution time.
    Init(ServiceSampler),
    /// The whole cold execution time drawn from this sampler, in place of the warm one
    /// (SimFaaS's `cold_service_rate`).
    Service(ServiceSampler),
}

/// The platform's parameters, shared by every function.
#[derive(Clone, Debug)]
pub struct PlatformParams {
    pub concurrency: u32,
    pub max_instances: u32,
    pub cold_start: ColdStart,
}

/// The policy of one function: keep-alive windows, and optionally a provisioned schedule.
#[derive(Clone, Debug)]
pub struct FunctionPolicy {
    pub keep_alive: KeepAlive,
    /// Provisioned instances per report interval (empty: none).
    pub provisioned: Vec<u32>,
}

/// The window of a run and its report intervals, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub warmup: u64,
    pub duration: u64,
    pub interval: u64,
}

impl Window {
    pub fn intervals(&self) -> usize {
        self.duration.div_ceil(self.interval.max(1)) as usize
    }
}

/// Per-interval measurements of one function (added up over functions for `timeline.csv`).
#[derive(Clone, Debug, Default)]
pub struct IntervalRow {
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    pub cold_starts: u64,
    /// At the interval's end.
    pub ready: u32,
    pub starting: u32,
    /// Integrals over the interval, in request-seconds or instance-seconds.
    pub busy_slots_s: f64,
    pub waiting_s: f64,
    pub ready_slots_s: f64,
    pub instance_s: f64,
    /// Latencies of the requests that arrived in the interval (one significant digit).
    pub latency: Option<Histogram<u32>>,
}

impl IntervalRow {
    /// Adds another function's row of the same interval to this one.
    pub fn add(&mut self, b: &IntervalRow) {
        self.arrivals += b.arrivals;
        self.completed += b.completed;
        self.dropped += b.dropped;
        self.cold_starts += b.cold_starts;
        self.ready += b.ready;
        self.starting += b.starting;
        self.busy_slots_s += b.busy_slots_s;
        self.waiting_s += b.waiting_s;
        self.ready_slots_s += b.ready_slots_s;
        self.instance_s += b.instance_s;
        if let Some(h) = &b.latency {
            match &mut self.latency {
                Some(x) => x.add(h).expect("histograms of equal bounds add"),
                None => self.latency = Some(h.clone()),
            }
        }
    }
}

/// What one function measured over `[warmup, duration)`.
#[derive(Clone, Debug)]
pub struct FunctionStats {
    pub requests: u64,
    pub completed: u64,
    pub throttles: u64,
    pub cold_starts: u64,
    pub wait_sum_ns: u128,
    pub latency_sum_ns: u128,
    pub latency: LatencyHistogram,
    /// Instance-seconds with at least one request (cold starts included), and without.
    pub busy_instance_s: f64,
    pub idle_instance_s: f64,
    /// Instance-seconds of provisioned instances (also in busy and idle).
    pub provisioned_instance_s: f64,
    /// Time integral of the requests in service or cold start, request-seconds.
    pub running_s: f64,
    /// Sum of the requests' billed durations (initialisation plus execution), seconds.
    pub billed_s: f64,
    /// Instances created (cold starts, pre-warm loads, provisioned) and torn down.
    pub created: u64,
    pub removed: u64,
    pub pre_warms: u64,
    pub peak_instances: u32,
    pub intervals: Vec<IntervalRow>,
}

impl FunctionStats {
    /// Nothing measured yet, over `intervals` report intervals.
    pub fn new(intervals: usize) -> FunctionStats {
        FunctionStats {
            requests: 0,
            completed: 0,
            throttles: 0,
            cold_starts: 0,
            wait_sum_ns: 0,
            latency_sum_ns: 0,
            latency: LatencyHistogram::new(),
            busy_instance_s: 0.0,
            idle_instance_s: 0.0,
            provisioned_instance_s: 0.0,
            running_s: 0.0,
            billed_s: 0.0,
            created: 0,
            removed: 0,
            pre_warms: 0,
            peak_instances: 0,
            intervals: vec![IntervalRow::default(); intervals],
        }
    }

    /// Adds another function's measurements (over the same intervals) to these: counts, sums
    /// and histograms add; the peak is the larger of the two.
    pub fn add(&mut self, s: &FunctionStats) {
        self.requests += s.requests;
        self.completed += s.completed;
        self.throttles += s.throttles;
        self.cold_starts += s.cold_starts;
        self.wait_sum_ns += s.wait_sum_ns;
        self.latency_sum_ns += s.latency_sum_ns;
        self.latency.merge(&s.latency);
        self.busy_instance_s += s.busy_instance_s;
        self.idle_instance_s += s.idle_instance_s;
        self.provisioned_instance_s += s.provisioned_instance_s;
        self.running_s += s.running_s;
        self.billed_s += s.billed_s;
        self.created += s.created;
        self.removed += s.removed;
        self.pre_warms += s.pre_warms;
        self.peak_instances = self.peak_instances.max(s.peak_instances);
        for (a, b) in self.intervals.iter_mut().zip(&s.intervals) {
            a.add(b);
        }
    }

    pub fn instance_s(&self) -> f64 {
        self.busy_instance_s + self.idle_instance_s
    }
}

/// The random streams of one function.
pub struct Streams {
    pub service: SimRng,
    pub cold: SimRng,
    pub prewarm: SimRng,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The cold start of the instance (`token` = its creation order) is over; its request
    /// starts.
    ReadyCold,
    /// The pre-warm load of the instance (`token` = its creation order) is over.
    ReadyWarm,
    /// One request of the instance completes.
    Done,
    /// The instance's keep-alive may have run out (checked against its epoch).
    Expire,
    /// A pending pre-warm load (checked against the pending set).
    Reload,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ev {
    time: u64,
    seq: u64,
    kind: Kind,
    /// Instance slot, or the pre-warm's keep-alive in nanoseconds for `Reload`.
    arg: u64,
    /// Identifies what the event is about: the instance's creation order (`Ready*`), its
    /// epoch (`Expire`), or the pending pre-warm (`Reload`).
    token: u64,
}

#[derive(Clone, Debug)]
struct Instance {
    /// Creation order (routing picks the largest).
    order: u64,
    active: u32,
    starting: bool,
    provisioned: bool,
    /// Renewed whenever a scheduled expiry becomes stale (unique in the run).
    epoch: u64,
    alive: bool,
}

/// Nanoseconds per second as a float.
const NS: f64 = 1e9;

fn interval_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1_000, 10_000_000_000_000, 1).expect("valid histogram bounds")
}

struct Sim<'a> {
    p: &'a PlatformParams,
    w: Window,
    service: &'a ServiceSampler,
    policy: FunctionPolicy,
    streams: Streams,
    inst: Vec<Instance>,
    free_slots: Vec<usize>,
    /// Instances with a free slot: (order, slot), provisioned and on-demand apart.
    avail_prov: BTreeSet<(u64, usize)>,
    avail_od: BTreeSet<(u64, usize)>,
    pending_reloads: BTreeSet<(u64, u64)>,
    heap: BinaryHeap<Reverse<Ev>>,
    seq: u64,
    order: u64,
    // State counters.
    alive: u32,
    starting: u32,
    busy_instances: u32,
    prov_alive: u32,
    prov_excess: u32,
    /// Requests in service (busy slots) and waiting for a cold start.
    serving: u32,
    waiting: u32,
    running_requests: u32,
    idle_since: Option<u64>,
    last: u64,
    s: FunctionStats,
}

/// Simulates one function over its sorted arrival times (nanoseconds) and returns its
/// measurements.
pub fn simulate(
    p: &PlatformParams,
    w: Window,
    service: &ServiceSampler,
    policy: FunctionPolicy,
    streams: Streams,
    arrivals: impl IntoIterator<Item = u64>,
) -> FunctionStats {
    let mut sim = Sim {
        p,
        w,
        service,
        policy,
        streams,
        inst: Vec::new(),
        free_slots: Vec::new(),
        avail_prov: BTreeSet::new(),
        avail_od: BTreeSet::new(),
        pending_reloads: BTreeSet::new(),
        heap: BinaryHeap::new(),
        seq: 0,
        order: 0,
        alive: 0,
        starting: 0,
        busy_instances: 0,
        prov_alive: 0,
        prov_excess: 0,
        serving: 0,
        waiting: 0,
        running_requests: 0,
        idle_since: None,
        last: 0,
        s: FunctionStats::new(w.intervals()),
    };
    sim.run(arrivals);
    sim.s
}

impl Sim<'_> {
    fn run(&mut self, arrivals: impl IntoIterator<Item = u64>) {
        let mut arrivals = arrivals.into_iter().peekable();
        let mut next_boundary = 0u64; // the next interval start where the schedule applies
        let mut k = 0usize;
        let has_schedule = !self.policy.provisioned.is_empty();
        loop {
            let arrival = arrivals.peek().copied().filter(|&a| a < self.w.duration);
            let event = self.heap.peek().map(|e| e.0.time);
            let boundary =
                (has_schedule && k < self.policy.provisioned.len()).then_some(next_boundary);
            // Ties: the schedule, then internal events, then the arrival.
            let t = [boundary, event, arrival].into_iter().flatten().min();
            let Some(t) = t else { break };
            if t >= self.w.duration {
                break;
            }
            if boundary == Some(t) {
                self.advance(t);
                let target = self.policy.provisioned[k];
                self.apply_schedule(t, target);
                k += 1;
                next_boundary = (k as u64 * self.w.interval).min(self.w.duration);
                continue;
            }
            if event == Some(t) {
                let Reverse(ev) = self.heap.pop().expect("peeked");
                self.advance(t);
                self.handle(ev);
                continue;
            }
            arrivals.next();
            self.advance(t);
            self.arrive(t);
        }
        self.advance(self.w.duration);
    }

    /// Integrates the state from the last event up to `t`, clipped to the measured window,
    /// and records the counts at every interval end passed.
    fn advance(&mut self, t: u64) {
        let t = t.min(self.w.duration);
        while self.last < t {
            let k = (self.last / self.w.interval) as usize;
            let end = ((k as u64 + 1) * self.w.interval).min(self.w.duration);
            let stop = end.min(t);
            let from = self.last.max(self.w.warmup);
            if stop > from {
                let dt = (stop - from) as f64 / NS;
                let busy = self.busy_instances as f64 * dt;
                let alive = self.alive as f64 * dt;
                self.s.busy_instance_s += busy;
                self.s.idle_instance_s += alive - busy;
                self.s.provisioned_instance_s += self.prov_alive as f64 * dt;
                self.s.running_s += self.running_requests as f64 * dt;
                let row = &mut self.s.intervals[k];
                row.busy_slots_s += self.serving as f64 * dt;
                row.waiting_s += self.waiting as f64 * dt;
                row.ready_slots_s +=
                    (self.alive - self.starting) as f64 * self.p.concurrency as f64 * dt;
                row.instance_s += alive;
            }
            if stop == end {
                let row = &mut self.s.intervals[k];
                row.ready = self.alive - self.starting;
                row.starting = self.starting;
            }
            self.last = stop;
        }
    }

    fn push(&mut self, time: u64, kind: Kind, arg: u64, token: u64) {
        self.seq += 1;
        self.heap.push(Reverse(Ev {
            time,
            seq: self.seq,
            kind,
            arg,
            token,
        }));
    }

    /// A number never used before in this run (epochs and tokens).
    fn fresh(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn measured(&self, t: u64) -> bool {
        t >= self.w.warmup && t < self.w.duration
    }

    fn interval_of(&self, t: u64) -> usize {
        ((t / self.w.interval) as usize).min(self.s.intervals.len() - 1)
    }

    fn new_instance(&mut self, starting: bool, provisioned: bool) -> usize {
        self.order += 1;
        let epoch = self.fresh();
        let inst = Instance {
            order: self.order,
            active: 0,
            starting,
            provisioned,
            epoch,
            alive: true,
        };
        let slot = match self.free_slots.pop() {
            Some(i) => {
                self.inst[i] = inst;
                i
            }
            None => {
                self.inst.push(inst);
                self.inst.len() - 1
            }
        };
        self.alive += 1;
        if starting {
            self.starting += 1;
        }
        if provisioned {
            self.prov_alive += 1;
        }
        self.s.peak_instances = self.s.peak_instances.max(self.alive);
        if self.last >= self.w.warmup {
            self.s.created += 1;
        }
        slot
    }

    fn remove(&mut self, i: usize) {
        let epoch = self.fresh();
        let (order, provisioned, starting) = {
            let x = &mut self.inst[i];
            x.alive = false;
            x.epoch = epoch;
            (x.order, x.provisioned, x.starting)
        };
        self.avail_prov.remove(&(order, i));
        self.avail_od.remove(&(order, i));
        self.alive -= 1;
        if starting {
            self.starting -= 1;
        }
        if provisioned {
            self.prov_alive -= 1;
        }
        if self.last >= self.w.warmup {
            self.s.removed += 1;
        }
        self.free_slots.push(i);
    }

    fn set_available(&mut self, i: usize) {
        let x = &self.inst[i];
        if x.provisioned {
            self.avail_prov.insert((x.order, i));
        } else {
            self.avail_od.insert((x.order, i));
        }
    }

    fn arrive(&mut self, t: u64) {
        if self.running_requests == 0
            && let Some(since) = self.idle_since
        {
            self.policy
                .keep_alive
                .observe_idle(SimDuration(t.saturating_sub(since)));
        }
        // Every request draws its execution and cold-start times, used or not.
        let exec = self.service.sample(&mut self.streams.service);
        let cold = match &self.p.cold_start {
            ColdStart::Init(s) | ColdStart::Service(s) => s.sample(&mut self.streams.cold),
        };
        let measured = self.measured(t);
        let k = self.interval_of(t);
        if measured {
            self.s.requests += 1;
            self.s.intervals[k].arrivals += 1;
        }
        let chosen = self
            .avail_prov
            .last()
            .or_else(|| self.avail_od.last())
            .copied();
        let (latency, wait, billed) = if let Some((order, i)) = chosen {
            let epoch = self.fresh();
            let x = &mut self.inst[i];
            if x.active == 0 {
                self.busy_instances += 1;
                x.epoch = epoch; // its expiry is stale
            }
            x.active += 1;
            if x.active == self.p.concurrency {
                if x.provisioned {
                    self.avail_prov.remove(&(order, i));
                } else {
                    self.avail_od.remove(&(order, i));
                }
            }
            self.serving += 1;
            self.running_requests += 1;
            self.push(t + exec, Kind::Done, i as u64, 0);
            (exec, 0, exec)
        } else if self.alive >= self.p.max_instances {
            if measured {
                self.s.throttles += 1;
                self.s.intervals[k].dropped += 1;
            }
            return;
        } else {
            if let Some(&first) = self.pending_reloads.first() {
                self.pending_reloads.remove(&first);
            }
            let i = self.new_instance(true, false);
            self.inst[i].active = 1;
            self.busy_instances += 1;
            self.waiting += 1;
            self.running_requests += 1;
            let (ready_at, done_at, wait) = match self.p.cold_start {
                ColdStart::Init(_) => (t + cold, t + cold + exec, cold),
                ColdStart::Service(_) => (t + cold, t + cold, cold.saturating_sub(exec)),
            };
            let order = self.inst[i].order;
            self.push(ready_at, Kind::ReadyCold, i as u64, order);
            self.push(done_at, Kind::Done, i as u64, 0);
            if measured {
                self.s.cold_starts += 1;
                self.s.intervals[k].cold_starts += 1;
            }
            (done_at - t, wait, done_at - t)
        };
        if measured {
            self.s.completed += 1;
            self.s.wait_sum_ns += u128::from(wait);
            self.s.latency_sum_ns += u128::from(latency);
            self.s.latency.record(latency.max(1));
            self.s.billed_s += billed as f64 / NS;
            let row = &mut self.s.intervals[k];
            row.latency
                .get_or_insert_with(interval_histogram)
                .saturating_record(latency.max(1_000));
            let end = t + latency;
            if end < self.w.duration {
                let kc = self.interval_of(end);
                self.s.intervals[kc].completed += 1;
            }
        }
    }

    fn handle(&mut self, ev: Ev) {
        let i = ev.arg as usize;
        match ev.kind {
            Kind::ReadyCold | Kind::ReadyWarm => {
                let x = &self.inst[i];
                if !x.alive || !x.starting || x.order != ev.token {
                    return;
                }
                self.inst[i].starting = false;
                self.starting -= 1;
                if ev.kind == Kind::ReadyCold {
                    // A cold start: its request moves from waiting to service.
                    self.waiting -= 1;
                    self.serving += 1;
                }
                if self.inst[i].active < self.p.concurrency {
                    self.set_available(i);
                }
            }
            Kind::Done => {
                let full = self.inst[i].active == self.p.concurrency;
                self.inst[i].active -= 1;
                self.serving -= 1;
                self.running_requests -= 1;
                if self.running_requests == 0 {
                    self.idle_since = Some(ev.time);
                }
                if full && !self.inst[i].starting {
                    self.set_available(i);
                }
                if self.inst[i].active == 0 {
                    self.busy_instances -= 1;
                    self.on_idle(ev.time, i);
                }
            }
            Kind::Expire => {
                let x = &self.inst[i];
                if x.alive && x.epoch == ev.token && x.active == 0 {
                    self.remove(i);
                }
            }
            Kind::Reload => {
                if !self.pending_reloads.remove(&(ev.time, ev.token)) {
                    return;
                }
                if self.alive >= self.p.max_instances {
                    return;
                }
                let init = match &self.p.cold_start {
                    ColdStart::Init(s) | ColdStart::Service(s) => {
                        s.sample(&mut self.streams.prewarm)
                    }
                };
                let j = self.new_instance(true, false);
                if self.last >= self.w.warmup {
                    self.s.pre_warms += 1;
                }
                let (order, epoch) = (self.inst[j].order, self.inst[j].epoch);
                self.push(ev.time + init, Kind::ReadyWarm, j as u64, order);
                self.push(ev.time + ev.arg, Kind::Expire, j as u64, epoch);
            }
        }
    }

    /// Instance `i` has just become idle at `t`.
    fn on_idle(&mut self, t: u64, i: usize) {
        if self.inst[i].provisioned {
            if self.prov_excess > 0 {
                self.prov_excess -= 1;
                self.remove(i);
            }
            return;
        }
        let Windows {
            prewarm,
            keep_alive,
        } = self.policy.keep_alive.windows();
        if prewarm.is_zero() {
            let epoch = self.fresh();
            self.inst[i].epoch = epoch;
            self.push(
                t.saturating_add(keep_alive.0),
                Kind::Expire,
                i as u64,
                epoch,
            );
        } else {
            self.remove(i);
            let at = t.saturating_add(prewarm.0);
            if at < self.w.duration {
                let token = self.fresh();
                self.pending_reloads.insert((at, token));
                self.push(at, Kind::Reload, keep_alive.0, token);
            }
        }
    }

    fn apply_schedule(&mut self, _t: u64, target: u32) {
        let target = target.min(self.p.max_instances);
        let effective = self.prov_alive - self.prov_excess;
        if target > effective {
            let mut need = target - effective;
            // Cancel pending tear-downs first.
            let cancel = need.min(self.prov_excess);
            self.prov_excess -= cancel;
            need -= cancel;
            for _ in 0..need {
                let i = self.new_instance(false, true);
                self.set_available(i);
            }
        } else {
            let mut extra = effective - target;
            while extra > 0 {
                // Idle provisioned instances go first, the most recently created first.
                let idle = self
                    .avail_prov
                    .iter()
                    .rev()
                    .find(|(_, i)| self.inst[*i].active == 0)
                    .copied();
                match idle {
                    Some((_, i)) => self.remove(i),
                    None => break,
                }
                extra -= 1;
            }
            self.prov_excess += extra;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::service::ServiceSpec;
    use crate::rng;

    const S: u64 = 1_000_000_000;

    fn det(ms: u64) -> ServiceSampler {
        ServiceSampler::new(&ServiceSpec::Deterministic {
            mean: SimDuration::from_millis(ms),
        })
    }

    fn params(max_instances: u32, concurrency: u32) -> PlatformParams {
        PlatformParams {
            concurrency,
            max_instances,
            cold_start: ColdStart::Init(det(500)),
        }
    }

    fn streams() -> Streams {
        Streams {
            service: rng::stream(1, 0, "s"),
            cold: rng::stream(1, 0, "c"),
            prewarm: rng::stream(1, 0, "p"),
        }
    }

    fn window(duration_s: u64) -> Window {
        Window {
            warmup: 0,
            duration: duration_s * S,
            interval: 10 * S,
        }
    }

    fn fixed(keep_s: u64) -> FunctionPolicy {
        FunctionPolicy {
            keep_alive: KeepAlive::Fixed(SimDuration::from_secs(keep_s)),
            provisioned: Vec::new(),
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    /// Execution 1 s, cold start 0.5 s, keep-alive 10 s; arrivals at 0, 5, 20 and 20.2 s:
    /// 0 cold on A (busy to 1.5, expires 11.5); 5 warm on A (busy to 6, expires 16);
    /// 20 cold on B (A is gone; busy to 21.5, expires 31.5); 20.2 cold on C (B is starting;
    /// busy to 21.7, expires 31.7). Instance-seconds 16 + 11.5 + 11.5 = 39, busy 2.5 + 1.5 +
    /// 1.5 = 5.5; latencies 1.5, 1, 1.5, 1.5.
    #[test]
    fn a_hand_computed_day_of_four_requests() {
        let arrivals = [0, 5 * S, 20 * S, 20 * S + S / 5];
        let s = simulate(
            &params(10, 1),
            window(40),
            &det(1000),
            fixed(10),
            streams(),
            arrivals,
        );
        assert_eq!(
            (s.requests, s.completed, s.cold_starts, s.throttles),
            (4, 4, 3, 0)
        );
        close(s.instance_s(), 39.0);
        close(s.busy_instance_s, 5.5);
        close(s.idle_instance_s, 33.5);
        close(s.latency_sum_ns as f64 / 1e9, 5.5);
        close(s.wait_sum_ns as f64 / 1e9, 1.5);
        close(s.billed_s, 5.5);
        assert_eq!((s.created, s.removed, s.peak_instances), (3, 3, 2));
        // Interval 2 (20-30 s): 2 arrivals, both cold; at its end B and C are idle and ready.
        let row = &s.intervals[2];
        assert_eq!(
            (row.arrivals, row.cold_starts, row.ready, row.starting),
            (2, 2, 2, 0)
        );
        close(row.instance_s, 10.0 + 9.8);
        // Busy slots: B serves 20.5-21.5, C 20.7-21.7; waiting: 0.5 s each.
        close(row.busy_slots_s, 2.0);
        close(row.waiting_s, 1.0);
    }

    /// Two idle instances: the next request goes to the most recently created one, so the
    /// older one expires on time. A (created 0) is idle from 1.5, B (created 0.2) from 1.7;
    /// a request at 3 takes B, so A expires at 11.5 and B at 14.
    #[test]
    fn the_newest_idle_instance_takes_the_request() {
        let arrivals = [0, S / 5, 3 * S];
        let s = simulate(
            &params(10, 1),
            window(30),
            &det(1000),
            fixed(10),
            streams(),
            arrivals,
        );
        assert_eq!(s.cold_starts, 2);
        close(s.instance_s(), 11.5 + (14.0 - 0.2));
    }

    /// With at most one instance, a second request while the first runs is throttled; with
    /// two requests per instance it shares the instance once it is ready.
    #[test]
    fn throttles_beyond_max_instances_and_concurrency_per_instance() {
        let arrivals = [0, S / 5, S];
        let s = simulate(
            &params(1, 1),
            window(10),
            &det(1000),
            fixed(60),
            streams(),
            arrivals,
        );
        assert_eq!((s.cold_starts, s.throttles, s.completed), (1, 2, 1));
        // Concurrency 2: the request at 0.2 s finds A starting (no slot), is throttled; the
        // one at 1 s finds A ready with a free slot.
        let s = simulate(
            &params(1, 2),
            window(10),
            &det(1000),
            fixed(60),
            streams(),
            arrivals,
        );
        assert_eq!((s.cold_starts, s.throttles, s.completed), (1, 1, 2));
    }

    /// A function called every 30 minutes: under a 10-minute keep-alive every call is cold;
    /// the hybrid policy learns the idle time and pre-warms, so after its first idle times
    /// the calls are warm, with less idle memory.
    #[test]
    fn the_hybrid_policy_prewarms_a_periodic_function() {
        let arrivals: Vec<u64> = (0..16).map(|i| i * 1800 * S).collect();
        let w = Window {
            warmup: 0,
            duration: 16 * 1800 * S,
            interval: 60 * S,
        };
        let fixed = simulate(
            &params(10, 1),
            w,
            &det(1000),
            fixed(600),
            streams(),
            arrivals.clone(),
        );
        assert_eq!(fixed.cold_starts, 16);
        let hybrid = FunctionPolicy {
            keep_alive: KeepAlive::Hybrid(Box::new(super::super::keepalive::HybridHistogram::new(
                Default::default(),
            ))),
            provisioned: Vec::new(),
        };
        let h = simulate(&params(10, 1), w, &det(1000), hybrid, streams(), arrivals);
        // The first call is cold; the histogram is representative after one idle time, and
        // the second call already finds the instance of the 4-hour fallback keep-alive.
        assert_eq!(h.cold_starts, 1);
        assert!(h.pre_warms >= 13, "{}", h.pre_warms);
        assert!(
            h.idle_instance_s < fixed.idle_instance_s,
            "{} vs {}",
            h.idle_instance_s,
            fixed.idle_instance_s
        );
    }

    /// One provisioned instance serves requests one at a time with no cold start; a request
    /// while it is busy spills over to an on-demand instance (a cold start).
    #[test]
    fn provisioned_instances_take_requests_first() {
        let policy = FunctionPolicy {
            keep_alive: KeepAlive::Fixed(SimDuration::from_secs(600)),
            provisioned: vec![1, 1, 0],
        };
        let arrivals = [S, 5 * S, 5 * S + S / 2];
        let s = simulate(
            &params(10, 1),
            window(30),
            &det(1000),
            policy,
            streams(),
            arrivals,
        );
        assert_eq!((s.cold_starts, s.completed), (1, 3));
        // The provisioned instance lives 0-20 s; the on-demand one from 5.5 s to the end.
        close(s.provisioned_instance_s, 20.0);
        close(s.instance_s(), 20.0 + 24.5);
    }
}
