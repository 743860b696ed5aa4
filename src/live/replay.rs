//! The load replay: the scenario's requests sent as real HTTP requests, through a load balancer
//! of the scenario's kind, to the containers the executor keeps serving.
//!
//! What it guarantees:
//! - The same requests as the simulation: the arrivals come from the scenario's workload on the
//!   `arrivals` stream of replication 0, and each request carries the service time the
//!   simulation draws for it (the `service` stream, one draw per arrival in order), as
//!   `service_ns`. So simulation and reality serve identical requests, and what differs between
//!   them is the system, not the sample.
//! - Open loop: each request is sent at its arrival time (wall time = plan time / speed-up),
//!   whether or not earlier ones were answered; its latency is measured from that scheduled
//!   time, so a late generator cannot hide queueing. How late the generator was is reported.
//! - The balancer is the simulation's: `shared_queue` holds requests in one FIFO queue and sends
//!   one only to a container with a free slot (at most `concurrency` in flight per container);
//!   the others send every request at once to a container chosen in turn (`round_robin`), with
//!   the fewest requests in flight (`least_connections`, lowest number on ties), at random, or
//!   the better of two at random (`power_of_two`), from the `balancer` stream; requests queue
//!   in the container. With no container serving, requests wait in a front buffer. With
//!   `queue_timeout`, a request that waited that long without service is dropped, by the
//!   balancer or by the container (which gets the time left as `timeout_ns`).
//! - Times are recorded in plan time (wall time × speed-up), per interval of the scenario:
//!   arrivals by arrival time, completions and drops by the time they happen, busy and queued
//!   request-time split exactly across intervals. Nothing after the scenario's end is counted.
//!   Memory is per interval, not per request.

use super::client::{self, HttpClient};
use super::executor::{Backend, Traffic};
use super::timer::PreciseTimer;
use crate::cluster::Balancer;
use crate::cluster::routing::{Backends, Router};
use crate::cluster::service::ServiceSampler;
use crate::error::Error;
use crate::rng;
use crate::scenario::Scenario;
use crate::stats::{LatencyHistogram, RequestStats};
use crate::time::SimTime;
use crate::workload;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// The replication whose arrivals and service times are replayed.
pub const REPLICATION: u32 = 0;
/// A request sent more than this (wall time) after its arrival time counts as late.
pub const LATE: Duration = Duration::from_millis(5);

/// What was measured in one interval of the scenario.
#[derive(Clone, Debug, Default)]
pub struct IntervalMeasure {
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    pub slo_violations: u64,
    pub latency: LatencyHistogram,
    /// ∫ requests in service dt, in request·ns of plan time.
    pub busy_area: u128,
    /// ∫ requests waiting dt (balancer queue, front buffer, container queues).
    pub queued_area: u128,
    /// Arrivals the load generator sent more than [`LATE`] after their time.
    pub late: u64,
    /// Requests that failed (no answer, or an unexpected status), by the time they failed.
    pub errors: u64,
}

/// How far behind its schedule the load generator was.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GeneratorStats {
    pub sent: u64,
    /// Requests sent more than [`LATE`] after their arrival time.
    pub late: u64,
    /// Largest and mean lateness, wall seconds.
    pub max_late_s: f64,
    pub mean_late_s: f64,
}

/// Everything the replay measured.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Interval length, plan nanoseconds.
    pub interval_ns: u64,
    pub intervals: Vec<IntervalMeasure>,
    /// Requests that arrived after the warm-up: counts, waits and latencies, as in the
    /// simulation's summary.
    pub stats: RequestStats,
    pub generator: GeneratorStats,
    /// Requests that failed (no answer, or an unexpected status), counted as dropped.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Requests without an outcome when the scenario ended.
    pub unfinished: u64,
}

/// Per-interval accumulation, shared by the request tasks.
struct Recorder {
    interval_ns: u64,
    end_ns: u64,
    warmup_ns: u64,
    slo_ns: u64,
    intervals: Vec<IntervalMeasure>,
    stats: RequestStats,
    errors: u64,
    first_error: Option<String>,
    finished: u64,
}

impl Recorder {
    fn new(sc: &Scenario) -> Self {
        let interval_ns = sc.interval.0.max(1);
        let n = sc.duration.0.div_ceil(interval_ns) as usize;
        Recorder {
            interval_ns,
            end_ns: sc.duration.0,
            warmup_ns: sc.warmup.0,
            slo_ns: sc.cost.slo_latency.0,
            intervals: vec![IntervalMeasure::default(); n],
            stats: RequestStats::default(),
            errors: 0,
            first_error: None,
            finished: 0,
        }
    }

    fn slot(&mut self, t: u64) -> Option<&mut IntervalMeasure> {
        if t >= self.end_ns {
            return None;
        }
        let i = (t / self.interval_ns) as usize;
        self.intervals.get_mut(i)
    }

    /// Adds `[a, b)` (clipped to the run) to an area of every interval it overlaps.
    fn spread(&mut self, a: u64, b: u64, busy: bool) {
        let b = b.min(self.end_ns);
        let mut t = a;
        while t < b {
            let i = (t / self.interval_ns) as usize;
            let next = ((i as u64 + 1) * self.interval_ns).min(b);
            if let Some(m) = self.intervals.get_mut(i) {
                let d = u128::from(next - t);
                if busy {
                    m.busy_area += d;
                } else {
                    m.queued_area += d;
                }
            }
            t = next;
        }
    }

    fn arrival(&mut self, at: u64, late: bool) {
        if let Some(m) = self.slot(at) {
            m.arrivals += 1;
            m.late += u64::from(late);
        }
        if at >= self.warmup_ns && at < self.end_ns {
            self.stats.requests += 1;
        }
    }

    fn completed(&mut self, arrival: u64, start: u64, end: u64) {
        self.finished += 1;
        let start = start.clamp(arrival, end);
        self.spread(arrival, start, false);
        self.spread(start, end, true);
        let latency = end - arrival;
        let slow = latency > self.slo_ns;
        let Some(m) = self.slot(end) else { return };
        m.completed += 1;
        m.latency.record(latency);
        if slow {
            m.slo_violations += 1;
        }
        if arrival >= self.warmup_ns {
            let wait = start - arrival;
            let s = &mut self.stats;
            s.completed += 1;
            s.wait_sum_ns += u128::from(wait);
            s.latency_sum_ns += u128::from(latency);
            s.waited += u64::from(wait > 0);
            s.slow += u64::from(slow);
            s.latency.record(latency);
        }
    }

    fn dropped(&mut self, arrival: u64, at: u64) {
        self.finished += 1;
        self.spread(arrival, at.max(arrival), false);
        let Some(m) = self.slot(at) else { return };
        m.dropped += 1;
        m.slo_violations += 1;
        if arrival >= self.warmup_ns {
            self.stats.dropped += 1;
        }
    }

    fn failed(&mut self, arrival: u64, at: u64, error: String) {
        if let Some(m) = self.slot(at) {
            m.errors += 1;
            self.errors += 1;
            if self.first_error.is_none() {
                self.first_error = Some(error);
            }
        }
        self.dropped(arrival, at);
    }
}

/// One request on its way.
#[derive(Clone, Copy, Debug)]
struct Req {
    /// Arrival, plan nanoseconds.
    arrival: u64,
    /// Service time, plan nanoseconds.
    service: u64,
    /// Arrival, wall clock.
    scheduled: Instant,
}

enum Msg {
    Arrive(Req),
    /// A request to some container ended.
    Done,
}

/// Shared by the balancer and the request tasks.
struct Ctx {
    t0: Instant,
    speedup: f64,
    http: HttpClient,
    recorder: Mutex<Recorder>,
    traffic: Arc<Traffic>,
    done: mpsc::UnboundedSender<Msg>,
    /// The queue time-out in wall time.
    timeout: Option<Duration>,
}

impl Ctx {
    fn plan_ns(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.t0).as_nanos() as f64 * self.speedup).round() as u64
    }

    fn record(&self, f: impl FnOnce(&mut Recorder)) {
        let mut r = self.recorder.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut r);
    }
}

/// The load balancer: one task that owns the queue and the routing state.
struct Lb {
    ctx: Arc<Ctx>,
    kind: Balancer,
    concurrency: u32,
    serving: Vec<Arc<Backend>>,
    /// The shared queue (`shared_queue`) or the front buffer (the other balancers).
    queue: VecDeque<Req>,
    router: Router,
}

/// The serving containers as routing candidates: their requests in flight.
struct Serving<'a>(&'a [Arc<Backend>]);

impl Backends for Serving<'_> {
    type Item = usize;
    fn item(&self, i: usize) -> usize {
        i
    }
    fn count(&self) -> usize {
        self.0.len()
    }
    fn load(&self, i: usize) -> u64 {
        u64::from(self.0[i].in_flight.load(Ordering::SeqCst))
    }
}

impl Lb {
    /// Drops queued requests that have waited the time-out.
    fn expire(&mut self) {
        let Some(to) = self.ctx.timeout else { return };
        let now = Instant::now();
        while let Some(head) = self.queue.front() {
            if head.scheduled + to > now {
                break;
            }
            let r = self.queue.pop_front().expect("a head");
            self.ctx
                .record(|rec| rec.dropped(r.arrival, self.ctx.plan_ns(now)));
            self.ctx.traffic.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Claims a slot of `b` for one request, unless the executor has retired it. The increment
    /// comes before the check, and the executor sets `retired` before it reads `in_flight`
    /// (both sequentially consistent), so a retired container never gets a request it would
    /// not wait for.
    fn claim(b: &Backend) -> bool {
        b.in_flight.fetch_add(1, Ordering::SeqCst);
        if b.retired.load(Ordering::SeqCst) {
            b.in_flight.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Sends `req` to `b` (a slot already claimed).
    fn send(&self, b: Arc<Backend>, req: Req) {
        b.sent.fetch_add(1, Ordering::Relaxed);
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            let svc_wall = (req.service as f64 / ctx.speedup).round() as u64;
            let mut uri = format!("http://{}/?service_ns={svc_wall}", b.addr);
            if let Some(to) = ctx.timeout {
                let left = to.saturating_sub(req.scheduled.elapsed());
                uri.push_str(&format!("&timeout_ns={}", left.as_nanos().max(1)));
            }
            let result = client::get(&ctx.http, &uri).await;
            let now = Instant::now();
            b.in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = ctx.done.send(Msg::Done);
            let end = ctx.plan_ns(now);
            let header = |r: &client::Reply, name: &str| -> Option<u64> {
                r.headers.get(name)?.to_str().ok()?.parse().ok()
            };
            match result {
                Ok(r) if r.status == 200 => {
                    let held = header(&r, "x-held-ns").unwrap_or(svc_wall);
                    let start = end.saturating_sub((held as f64 * ctx.speedup).round() as u64);
                    ctx.record(|rec| rec.completed(req.arrival, start, end));
                }
                Ok(r) if r.status == 503 && r.headers.contains_key("x-dropped") => {
                    ctx.record(|rec| rec.dropped(req.arrival, end));
                }
                Ok(r) => ctx.record(|rec| {
                    rec.failed(
                        req.arrival,
                        end,
                        format!(
                            "{} answered {}: {}",
                            b.name,
                            r.status,
                            String::from_utf8_lossy(&r.body).trim()
                        ),
                    )
                }),
                Err(e) => {
                    ctx.record(|rec| rec.failed(req.arrival, end, format!("{}: {e}", b.name)))
                }
            }
            ctx.traffic.pending.fetch_sub(1, Ordering::Relaxed);
        });
    }

    /// Shared queue: hands queued requests to free slots, first come, first served.
    fn dispatch_shared(&mut self) {
        self.expire();
        while !self.queue.is_empty() {
            let c = self.concurrency;
            let Some(i) = self
                .serving
                .iter()
                .position(|b| b.in_flight.load(Ordering::SeqCst) < c)
            else {
                return;
            };
            let b = self.serving[i].clone();
            if !Self::claim(&b) {
                self.serving.remove(i);
                continue;
            }
            let req = self.queue.pop_front().expect("not empty");
            self.send(b, req);
        }
    }

    /// Per-container balancers: picks a container for a request (the list is not empty),
    /// by the rule the simulation uses.
    fn choose(&mut self) -> usize {
        self.kind.choose(&mut self.router, &Serving(&self.serving))
    }

    /// Per-container balancers: routes a request, or buffers it when no container serves.
    fn route(&mut self, req: Req) {
        while !self.serving.is_empty() {
            let i = self.choose();
            let b = self.serving[i].clone();
            if Self::claim(&b) {
                self.send(b, req);
                return;
            }
            self.serving.remove(i);
        }
        self.queue.push_back(req);
    }

    fn arrive(&mut self, req: Req) {
        if self.kind == Balancer::SharedQueue {
            self.queue.push_back(req);
            self.dispatch_shared();
        } else if self.serving.is_empty() {
            self.queue.push_back(req);
        } else {
            self.route(req);
        }
    }

    fn serving_changed(&mut self, serving: Vec<Arc<Backend>>) {
        self.serving = serving;
        self.router.restart();
        if self.kind == Balancer::SharedQueue {
            self.dispatch_shared();
        } else if !self.serving.is_empty() {
            self.expire();
            let buffered: Vec<Req> = self.queue.drain(..).collect();
            for r in buffered {
                self.route(r);
            }
        }
    }

    async fn run(
        mut self,
        mut msgs: mpsc::UnboundedReceiver<Msg>,
        mut serving: watch::Receiver<Vec<Arc<Backend>>>,
    ) {
        self.serving_changed(serving.borrow_and_update().clone());
        loop {
            let head_deadline = match (self.ctx.timeout, self.queue.front()) {
                (Some(to), Some(h)) => Some(h.scheduled + to),
                _ => None,
            };
            tokio::select! {
                m = msgs.recv() => match m {
                    Some(Msg::Arrive(req)) => self.arrive(req),
                    Some(Msg::Done) => {
                        if self.kind == Balancer::SharedQueue {
                            self.dispatch_shared();
                        }
                    }
                    None => break,
                },
                changed = serving.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let list = serving.borrow_and_update().clone();
                    self.serving_changed(list);
                }
                _ = async {
                    match head_deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                } => self.expire(),
            }
        }
        // Requests still queued get no container any more.
        let left = self.queue.len() as u64;
        self.ctx.traffic.pending.fetch_sub(left, Ordering::Relaxed);
    }
}

/// Replays the scenario's workload against the serving containers. Waits for the plan to
/// start (`started`); returns `None` if it never does. Ends once the workload is sent and the
/// executor stops publishing (it closes `serving` when it ends).
pub async fn run(
    sc: &Scenario,
    speedup: f64,
    started: oneshot::Receiver<Instant>,
    serving: watch::Receiver<Vec<Arc<Backend>>>,
    traffic: Arc<Traffic>,
) -> Result<Option<Measured>, Error> {
    let mut arrivals = workload::open(
        &sc.workload,
        rng::stream(sc.seed, REPLICATION, rng::ARRIVALS),
    )?;
    let sampler = ServiceSampler::new(&sc.service);
    let mut service_rng = rng::stream(sc.seed, REPLICATION, rng::SERVICE);
    let Ok(t0) = started.await else {
        return Ok(None);
    };
    let timer = PreciseTimer::new().map_err(|e| Error::io("cannot start the timer thread", e))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let ctx = Arc::new(Ctx {
        t0,
        speedup,
        http: client::new_client(),
        recorder: Mutex::new(Recorder::new(sc)),
        traffic: traffic.clone(),
        done: tx.clone(),
        timeout: sc
            .cluster
            .queue_timeout
            .map(|d| Duration::from_secs_f64(d.as_secs_f64() / speedup)),
    });
    let lb = Lb {
        ctx: ctx.clone(),
        kind: sc.cluster.balancer,
        concurrency: sc.cluster.concurrency,
        serving: Vec::new(),
        queue: VecDeque::new(),
        router: Router::new(rng::stream(sc.seed, REPLICATION, rng::BALANCER)),
    };
    let mut closed = serving.clone();
    let balancer = tokio::spawn(lb.run(rx, serving));

    // The generator: open loop, on schedule.
    let mut gen_stats = GeneratorStats::default();
    let mut late_sum = 0.0;
    let mut batch: Vec<SimTime> = Vec::with_capacity(4096);
    let end = sc.duration.0;
    'outer: loop {
        batch.clear();
        if arrivals.fill(&mut batch, 4096)? == 0 {
            break;
        }
        for &a in &batch {
            if a.0 >= end {
                break 'outer;
            }
            let service = sampler.sample(&mut service_rng);
            let target = t0 + Duration::from_secs_f64(a.0 as f64 / 1e9 / speedup);
            tokio::select! {
                _ = timer.sleep_until(target.into_std()) => {}
                _ = async { while closed.changed().await.is_ok() {} } => break 'outer,
            }
            let late = Instant::now().saturating_duration_since(target);
            gen_stats.sent += 1;
            late_sum += late.as_secs_f64();
            gen_stats.max_late_s = gen_stats.max_late_s.max(late.as_secs_f64());
            let is_late = late > LATE;
            gen_stats.late += u64::from(is_late);
            ctx.record(|rec| rec.arrival(a.0, is_late));
            traffic.pending.fetch_add(1, Ordering::Relaxed);
            let req = Req {
                arrival: a.0,
                service,
                scheduled: target,
            };
            if tx.send(Msg::Arrive(req)).is_err() {
                traffic.pending.fetch_sub(1, Ordering::Relaxed);
                break 'outer;
            }
        }
    }
    gen_stats.mean_late_s = if gen_stats.sent > 0 {
        late_sum / gen_stats.sent as f64
    } else {
        0.0
    };
    drop(tx);
    balancer
        .await
        .map_err(|e| Error::Other(format!("the load balancer failed: {e}")))?;
    // Requests still on their way end when their containers go; wait for them briefly.
    let until = Instant::now() + Duration::from_secs(5);
    while traffic.pending.load(Ordering::Relaxed) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let rec = ctx.recorder.lock().unwrap_or_else(|p| p.into_inner());
    Ok(Some(Measured {
        interval_ns: rec.interval_ns,
        intervals: rec.intervals.clone(),
        stats: rec.stats.clone(),
        generator: gen_stats,
        errors: rec.errors,
        first_error: rec.first_error.clone(),
        unfinished: gen_stats.sent.saturating_sub(rec.finished),
    }))
}
