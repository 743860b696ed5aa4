//! The plan executor: keeps the number of ready containers on a Docker engine equal to a plan.
//!
//! It works like a controller: every 10 ms of wall time it compares what the plan asks for at
//! the current plan time (wall time × speedup) with the containers it has, and acts:
//! - A container is *starting* from its creation until it answers `GET /healthz` with 200,
//!   then *standby* (ready, not yet in service), then *serving* from the plan step that needs
//!   it, then *draining* (out of service; stopped once its requests in flight are done).
//! - Containers for a step start `lead` of wall time before the step, so that they are ready
//!   when it begins; the plan's clock starts when the containers of its first step are ready.
//!   So the serving count follows the plan's steps exactly, as long as a container starts in
//!   less than `lead`.
//! - On a scale-down, serving containers leave service least loaded first, newest first on
//!   ties (as in the simulation); starting containers are cancelled before ready ones stop.
//! - Once a second it lists the run's containers; one that is no longer running (killed,
//!   crashed) is removed, reported, and replaced.
//! - A container that does not answer `/healthz` within `ready_timeout` ends the run with an
//!   error that quotes its last output.
//! - At the end of the plan, on Ctrl-C or SIGTERM, and on any error, it removes every container
//!   labelled with its run id (unless `keep`), and checks that none is left.
//!
//! The serving set is published on a `watch` channel, so a load balancer can follow it; each
//! [`Backend`] carries the count of requests the balancer has in flight to it, which the
//! executor reads to drain a container before stopping it.

use super::client::{self, HttpClient};
use super::docker::{Engine, LABEL_MANAGED, LABEL_RUN};
use super::plan::Plan;
use crate::error::Error;
use crate::time::{NANOS_PER_SEC, SimTime};
use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Label with a container's number within its run.
pub const LABEL_SEQ: &str = "autoscale-sim.seq";
/// The control loop's period.
const TICK: Duration = Duration::from_millis(10);
/// How often the run's containers are listed to find dead ones.
const MONITOR_EVERY: Duration = Duration::from_secs(1);

/// A ready container as the load balancer sees it.
#[derive(Debug)]
pub struct Backend {
    /// The container's number within its run (0, 1, ...).
    pub seq: u32,
    pub name: String,
    pub id: String,
    /// Where its workload port is published (on 127.0.0.1).
    pub addr: SocketAddr,
    /// Requests the load balancer has sent to it and not yet seen answered.
    pub in_flight: AtomicU32,
    /// Requests sent to it in all.
    pub sent: AtomicU64,
    /// Set (before its in-flight count is read) when the executor takes it out of service to
    /// stop it: the balancer sends it nothing more.
    pub retired: AtomicBool,
}

/// Load-side counters the executor reads.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Requests accepted by the load balancer and not yet finished (queued or in flight).
    pub pending: AtomicU64,
}

/// How to execute a plan.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    pub image: String,
    /// Plan seconds per wall second.
    pub speedup: f64,
    /// Wall time by which containers start before the step that needs them.
    pub lead: Duration,
    /// Wall time a container has to answer `/healthz` after it is created.
    pub ready_timeout: Duration,
    /// Wall time a draining container has to finish its requests before it is stopped
    /// (and the grace period `docker stop` gives it).
    pub drain_timeout: Duration,
    /// After the plan's end, wall time allowed for the requests still pending to finish.
    pub end_linger: Duration,
    /// Leave the containers running at the end.
    pub keep: bool,
    /// Options appended to each container's `serve` command.
    pub serve_args: Vec<String>,
    /// The run id (label `autoscale-sim.run`, and part of the container names).
    pub run_id: String,
    /// Print progress lines on standard error.
    pub progress: bool,
}

/// Replica counts at a moment of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Plan time, seconds.
    pub plan_s: f64,
    /// What the plan asks for now.
    pub desired: u32,
    /// Serving containers (ready and in service).
    pub ready: u32,
    /// Containers asked for and not yet in service (starting, or ready on standby).
    pub starting: u32,
    /// Containers out of service, finishing their requests or stopping.
    pub draining: u32,
}

/// How one plan step was followed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    pub time_s: f64,
    pub replicas: u32,
    /// Serving containers at the step's first control tick.
    pub ready_at_step: u32,
    /// Plan seconds from the step's start until the serving count equalled the plan (`None`:
    /// never during the step).
    pub lag_s: Option<f64>,
    /// Fewest and most serving containers seen from then until the step's end (a dip below
    /// the plan means a container died and was replaced).
    pub min_ready: u32,
    pub max_ready: u32,
}

/// What a run of the executor did.
#[derive(Clone, Debug, Default)]
pub struct ExecReport {
    pub run_id: String,
    /// Replica counts at every change, in time order.
    pub samples: Vec<Sample>,
    pub steps: Vec<StepReport>,
    /// Containers created.
    pub created: u32,
    /// Containers that died and were replaced.
    pub replaced: u32,
    /// The signal that ended the run early, if one did.
    pub interrupted: Option<&'static str>,
    /// Containers left running (`keep`).
    pub kept: Vec<String>,
}

/// Connections to a load replay running beside the executor.
pub struct Links {
    /// The serving containers, republished at every change.
    pub serving: watch::Sender<Vec<Arc<Backend>>>,
    pub traffic: Arc<Traffic>,
    /// Receives the wall instant at which plan time 0 begins.
    pub started: Option<oneshot::Sender<Instant>>,
}

impl Links {
    /// Links to nothing (a plan run without load).
    pub fn none() -> Links {
        Links {
            serving: watch::Sender::new(Vec::new()),
            traffic: Arc::new(Traffic::default()),
            started: None,
        }
    }
}

/// A finished background task.
enum Done {
    Started {
        seq: u32,
        result: Result<Arc<Backend>, Error>,
    },
    Stopped {
        name: String,
        result: Result<(), Error>,
    },
}

struct Pending {
    seq: u32,
    cancelled: bool,
}

struct Executor<'a> {
    engine: Engine,
    http: HttpClient,
    plan: &'a Plan,
    opts: &'a ExecOptions,
    links: Links,
    stopping: Arc<AtomicBool>,
    tasks: JoinSet<Done>,
    next_seq: u32,
    starting: Vec<Pending>,
    standby: Vec<Arc<Backend>>,
    serving: Vec<Arc<Backend>>,
    draining: Vec<Arc<Backend>>,
    t0: Option<Instant>,
    report: ExecReport,
    step: usize,
    last_sample: Option<(u32, u32, u32, u32)>,
}

/// Runs `plan` on `engine` until its end or until `shutdown` completes (with the name of the
/// signal), then removes the run's containers (unless `keep`).
pub async fn execute(
    engine: &Engine,
    plan: &Plan,
    opts: &ExecOptions,
    links: Links,
    shutdown: impl Future<Output = &'static str>,
) -> Result<ExecReport, Error> {
    if engine.image_id(&opts.image).await?.is_none() {
        return Err(Error::Other(format!(
            "the image {} does not exist on this engine; build it with `autoscale-sim live image`",
            opts.image
        )));
    }
    let mut ex = Executor {
        engine: engine.clone(),
        http: client::new_client(),
        plan,
        opts,
        links,
        stopping: Arc::new(AtomicBool::new(false)),
        tasks: JoinSet::new(),
        next_seq: 0,
        starting: Vec::new(),
        standby: Vec::new(),
        serving: Vec::new(),
        draining: Vec::new(),
        t0: None,
        report: ExecReport {
            run_id: opts.run_id.clone(),
            ..Default::default()
        },
        step: 0,
        last_sample: None,
    };
    let outcome = ex.run(shutdown).await;
    let cleaned = ex.cleanup().await;
    match (outcome, cleaned) {
        (Ok(()), Ok(())) => Ok(ex.report),
        (Err(e), Ok(())) => Err(e),
        (Ok(()), Err(c)) => Err(c),
        (Err(e), Err(c)) => Err(Error::Other(format!("{e}\nand then: {c}"))),
    }
}

fn secs(t: SimTime) -> f64 {
    t.0 as f64 / NANOS_PER_SEC as f64
}

impl Executor<'_> {
    /// Plan time now (0 until the plan starts).
    fn plan_time(&self) -> SimTime {
        match self.t0 {
            None => SimTime::ZERO,
            Some(t0) => SimTime::from_secs_f64(t0.elapsed().as_secs_f64() * self.opts.speedup),
        }
    }

    /// Containers wanted at plan time `p`: those of the current step, or of a step that
    /// begins within `lead`, whichever is more.
    fn wanted_total(&self, p: SimTime) -> u32 {
        wanted_total(
            self.plan,
            p,
            crate::time::SimDuration::from_secs_f64(
                self.opts.lead.as_secs_f64() * self.opts.speedup,
            ),
        )
    }

    fn active_starting(&self) -> usize {
        self.starting.iter().filter(|s| !s.cancelled).count()
    }

    fn publish(&self) {
        self.links.serving.send_replace(self.serving.clone());
    }

    async fn run(&mut self, shutdown: impl Future<Output = &'static str>) -> Result<(), Error> {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_monitor = Instant::now();
        loop {
            tokio::select! {
                name = &mut shutdown => {
                    self.report.interrupted = Some(name);
                    if self.opts.progress {
                        eprintln!("{name}: stopping the run");
                    }
                    return Ok(());
                }
                Some(done) = self.tasks.join_next() => {
                    let done = done.map_err(|e| Error::Other(format!("a container task failed: {e}")))?;
                    self.finished(done)?;
                }
                _ = tick.tick() => {
                    if last_monitor.elapsed() >= MONITOR_EVERY {
                        last_monitor = Instant::now();
                        self.monitor().await?;
                    }
                    if self.t0.is_none() {
                        let first = self.plan.replicas_at(SimTime::ZERO) as usize;
                        if self.standby.len() >= first {
                            let t0 = Instant::now();
                            self.t0 = Some(t0);
                            if let Some(tx) = self.links.started.take() {
                                let _ = tx.send(t0);
                            }
                        }
                    }
                    let p = self.plan_time();
                    if p >= self.plan.end {
                        self.sample(self.plan.end);
                        return self.linger(&mut shutdown).await;
                    }
                    self.reconcile(p);
                    if self.t0.is_some() {
                        self.track_step(p);
                    }
                    self.sample(p);
                }
            }
        }
    }

    /// After the plan's end: keep serving until the load's pending requests are done.
    async fn linger(
        &mut self,
        shutdown: &mut std::pin::Pin<&mut impl Future<Output = &'static str>>,
    ) -> Result<(), Error> {
        let until = Instant::now() + self.opts.end_linger;
        while self.links.traffic.pending.load(Ordering::Relaxed) > 0 && Instant::now() < until {
            tokio::select! {
                name = shutdown.as_mut() => {
                    self.report.interrupted = Some(name);
                    return Ok(());
                }
                _ = tokio::time::sleep(TICK) => {}
            }
        }
        Ok(())
    }

    fn finished(&mut self, done: Done) -> Result<(), Error> {
        match done {
            Done::Started { seq, result } => {
                let pos = self.starting.iter().position(|p| p.seq == seq);
                let cancelled = pos.is_some_and(|i| self.starting[i].cancelled);
                if let Some(i) = pos {
                    self.starting.remove(i);
                }
                match result {
                    Ok(b) if cancelled => self.stop(b),
                    Ok(b) => self.standby.push(b),
                    Err(_) if self.stopping.load(Ordering::Relaxed) => {}
                    Err(e) => return Err(e),
                }
            }
            Done::Stopped { name, result } => {
                self.draining.retain(|b| b.name != name);
                if let Err(e) = result {
                    eprintln!("warning: {e}; it is removed with its run at the end");
                }
            }
        }
        Ok(())
    }

    fn reconcile(&mut self, p: SimTime) {
        let target_serving = if self.t0.is_some() {
            self.plan.replicas_at(p) as usize
        } else {
            0
        };
        let target_total = self.wanted_total(p) as usize;
        let mut changed = false;
        while self.serving.len() < target_serving && !self.standby.is_empty() {
            self.serving.push(self.standby.remove(0));
            changed = true;
        }
        if self.serving.len() > target_serving {
            let excess = self.serving.len() - target_serving;
            let alive = self.active_starting() + self.standby.len() + self.serving.len();
            let to_drain = excess.min(alive.saturating_sub(target_total));
            // Least loaded first, newest first on ties.
            let mut order: Vec<usize> = (0..self.serving.len()).collect();
            order.sort_by_key(|&i| {
                let b = &self.serving[i];
                (
                    b.in_flight.load(Ordering::Relaxed),
                    std::cmp::Reverse(b.seq),
                )
            });
            let victims: Vec<u32> = order[..excess]
                .iter()
                .map(|&i| self.serving[i].seq)
                .collect();
            for (k, seq) in victims.into_iter().enumerate() {
                let i = self
                    .serving
                    .iter()
                    .position(|b| b.seq == seq)
                    .expect("a victim is serving");
                let b = self.serving.remove(i);
                if k < to_drain {
                    self.stop(b);
                } else {
                    self.standby.push(b);
                }
            }
            changed = true;
        }
        let alive = self.active_starting() + self.standby.len() + self.serving.len();
        if alive < target_total {
            for _ in 0..target_total - alive {
                self.start_one();
            }
        } else if alive > target_total {
            let mut extra = alive - target_total;
            for p in self.starting.iter_mut().rev() {
                if extra == 0 {
                    break;
                }
                if !p.cancelled {
                    p.cancelled = true;
                    extra -= 1;
                }
            }
            while extra > 0 {
                let Some(b) = self.standby.pop() else { break };
                self.stop(b);
                extra -= 1;
            }
        }
        if changed {
            self.publish();
        }
    }

    fn start_one(&mut self) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.report.created += 1;
        self.starting.push(Pending {
            seq,
            cancelled: false,
        });
        let engine = self.engine.clone();
        let http = self.http.clone();
        let stopping = self.stopping.clone();
        let opts = self.opts.clone();
        self.tasks.spawn(async move {
            let result = start_container(&engine, &http, &opts, seq, &stopping).await;
            Done::Started {
                seq,
                result: result.map(Arc::new),
            }
        });
    }

    /// Takes a container out of everything and stops it once its requests are done.
    fn stop(&mut self, b: Arc<Backend>) {
        b.retired.store(true, Ordering::SeqCst);
        self.draining.push(b.clone());
        let engine = self.engine.clone();
        let stopping = self.stopping.clone();
        let drain = self.opts.drain_timeout;
        self.tasks.spawn(async move {
            let until = Instant::now() + drain;
            while b.in_flight.load(Ordering::SeqCst) > 0
                && Instant::now() < until
                && !stopping.load(Ordering::Relaxed)
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let grace = i32::try_from(drain.as_secs().max(1)).unwrap_or(i32::MAX);
            let mut result = engine.stop_container(&b.id, grace).await;
            if result.is_ok() {
                result = engine.remove_container(&b.id).await;
            }
            Done::Stopped {
                name: b.name.clone(),
                result,
            }
        });
    }

    /// Finds containers of the run that stopped running and replaces them.
    async fn monitor(&mut self) -> Result<(), Error> {
        let listed = self
            .engine
            .containers_labelled(LABEL_RUN, &self.opts.run_id)
            .await?;
        let states: HashMap<&str, &str> = listed
            .iter()
            .map(|c| (c.id.as_str(), c.state.as_str()))
            .collect();
        let dead = |b: &Arc<Backend>| states.get(b.id.as_str()) != Some(&"running");
        let mut gone: Vec<Arc<Backend>> = Vec::new();
        for list in [&mut self.serving, &mut self.standby] {
            let mut i = 0;
            while i < list.len() {
                if dead(&list[i]) {
                    gone.push(list.remove(i));
                } else {
                    i += 1;
                }
            }
        }
        if gone.is_empty() {
            return Ok(());
        }
        self.publish();
        for b in gone {
            let state = states.get(b.id.as_str()).copied().unwrap_or("removed");
            eprintln!(
                "container {} is no longer running (state: {state}); replacing it",
                b.name
            );
            self.report.replaced += 1;
            self.stop(b);
        }
        let p = self.plan_time();
        self.reconcile(p);
        Ok(())
    }

    fn track_step(&mut self, p: SimTime) {
        while self.step + 1 < self.plan.steps.len() && self.plan.steps[self.step + 1].time <= p {
            self.step += 1;
        }
        let step = self.plan.steps[self.step];
        let ready = self.serving.len() as u32;
        match self.report.steps.last_mut() {
            Some(r) if r.time_s == secs(step.time) => {
                if r.lag_s.is_none() {
                    if ready == step.replicas {
                        r.lag_s = Some(secs(p) - r.time_s);
                        r.min_ready = ready;
                        r.max_ready = ready;
                    }
                } else {
                    r.min_ready = r.min_ready.min(ready);
                    r.max_ready = r.max_ready.max(ready);
                }
            }
            _ => self.report.steps.push(StepReport {
                time_s: secs(step.time),
                replicas: step.replicas,
                ready_at_step: ready,
                lag_s: (ready == step.replicas).then(|| secs(p) - secs(step.time)),
                min_ready: ready,
                max_ready: ready,
            }),
        }
    }

    fn sample(&mut self, p: SimTime) {
        let desired = if self.t0.is_some() {
            self.plan
                .replicas_at(p.min(SimTime(self.plan.end.0.saturating_sub(1))))
        } else {
            self.plan.replicas_at(SimTime::ZERO)
        };
        let now = (
            desired,
            self.serving.len() as u32,
            (self.active_starting() + self.standby.len()) as u32,
            self.draining.len() as u32,
        );
        if self.last_sample == Some(now) {
            return;
        }
        self.last_sample = Some(now);
        let s = Sample {
            plan_s: secs(p),
            desired: now.0,
            ready: now.1,
            starting: now.2,
            draining: now.3,
        };
        self.report.samples.push(s);
        if self.opts.progress {
            let phase = if self.t0.is_some() {
                format!("plan {:>8.1} s of {:.1} s", s.plan_s, secs(self.plan.end))
            } else {
                "preparing the first step".to_string()
            };
            eprintln!(
                "[{phase}] desired {} ready {} starting {} draining {}",
                s.desired, s.ready, s.starting, s.draining
            );
        }
    }

    /// Removes every container of the run (unless `keep`) and checks that none is left.
    async fn cleanup(&mut self) -> Result<(), Error> {
        self.stopping.store(true, Ordering::Relaxed);
        self.links.serving.send_replace(Vec::new());
        // Start tasks see `stopping` and end; stop tasks skip their drain.
        while let Some(done) = self.tasks.join_next().await {
            if let Ok(Done::Started { result: Ok(b), .. }) = done {
                self.standby.push(b);
            }
        }
        if self.opts.keep {
            let left = self
                .engine
                .containers_labelled(LABEL_RUN, &self.opts.run_id)
                .await?;
            self.report.kept = left.into_iter().map(|c| c.name).collect();
            return Ok(());
        }
        for _ in 0..5 {
            self.engine.remove_run(&self.opts.run_id).await?;
            let left = self
                .engine
                .containers_labelled(LABEL_RUN, &self.opts.run_id)
                .await?;
            if left.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Error::Other(format!(
            "containers of run {} are still there after removal; remove them with `autoscale-sim live --cleanup`",
            self.opts.run_id
        )))
    }
}

/// Creates and starts container `seq` and waits until it answers `/healthz`.
async fn start_container(
    engine: &Engine,
    http: &HttpClient,
    opts: &ExecOptions,
    seq: u32,
    stopping: &AtomicBool,
) -> Result<Backend, Error> {
    let name = format!("autoscale-sim-{}-{seq}", opts.run_id);
    let mut labels = HashMap::new();
    labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
    labels.insert(LABEL_RUN.to_string(), opts.run_id.clone());
    labels.insert(LABEL_SEQ.to_string(), seq.to_string());
    let mut cmd: Vec<String> = vec![
        "--port".into(),
        super::docker::CONTAINER_PORT.to_string(),
        "--seed".into(),
        seq.to_string(),
    ];
    cmd.extend(opts.serve_args.iter().cloned());
    let started = engine
        .start_container(&name, &opts.image, cmd, labels)
        .await?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, started.host_port));
    let health = format!("http://{addr}/healthz");
    let until = Instant::now() + opts.ready_timeout;
    let mut attempts = 0u32;
    loop {
        if stopping.load(Ordering::Relaxed) {
            return Err(Error::Other(format!("{name}: cancelled")));
        }
        if let Ok(r) = client::get(http, &health).await
            && r.status == 200
        {
            break;
        }
        attempts += 1;
        // Every 200 ms: a container that already stopped will never answer.
        if attempts.is_multiple_of(10)
            && let Some((false, code)) = engine.container_state(&started.id).await?
        {
            let log = engine.logs_tail(&started.id, 20).await;
            return Err(Error::Other(format!(
                "container {name} of {} exited (code {code}) before it answered GET /healthz; check that the image runs `autoscale-sim serve` (rebuild it with `autoscale-sim live image`). Its last output:\n{}",
                opts.image,
                log.trim_end()
            )));
        }
        if Instant::now() >= until {
            let log = engine.logs_tail(&started.id, 20).await;
            return Err(Error::Other(format!(
                "container {name} did not answer GET /healthz within {} s; check that the image {} runs `autoscale-sim serve` (rebuild it with `autoscale-sim live image`) or allow more time with --ready-timeout. Its last output:\n{}",
                opts.ready_timeout.as_secs_f64(),
                opts.image,
                log.trim_end()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Backend {
        seq,
        name,
        id: started.id,
        addr,
        in_flight: AtomicU32::new(0),
        sent: AtomicU64::new(0),
        retired: AtomicBool::new(false),
    })
}

/// Containers wanted at plan time `p`: those of the current step, or of a step that begins
/// within `lead` (plan time) and before the plan's end, whichever is more.
pub fn wanted_total(plan: &Plan, p: SimTime, lead: crate::time::SimDuration) -> u32 {
    let horizon = p + lead;
    let ahead = plan
        .steps
        .iter()
        .filter(|s| s.time > p && s.time <= horizon && s.time < plan.end)
        .map(|s| s.replicas)
        .max()
        .unwrap_or(0);
    plan.replicas_at(p).max(ahead)
}

/// The actions a run of `plan` takes, in time order, without doing any of them (`--dry-run`):
/// the executor's rule evaluated at every time it changes its mind (each step, and `lead`
/// before each step), assuming containers start at once.
pub fn dry_run(plan: &Plan, speedup: f64, lead: Duration) -> Vec<String> {
    let lead_plan = crate::time::SimDuration::from_secs_f64(lead.as_secs_f64() * speedup);
    let mut times: Vec<SimTime> = plan
        .steps
        .iter()
        .flat_map(|s| [s.time, SimTime(s.time.0.saturating_sub(lead_plan.0))])
        .filter(|t| *t < plan.end)
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut out = Vec::new();
    let mut total = wanted_total(plan, SimTime::ZERO, lead_plan);
    out.push(format!(
        "before plan time 0: start {total} container(s) and wait until they answer /healthz; plan time 0 (wall time 0) begins when they do"
    ));
    let mut serving = 0;
    for t in times {
        let want_serving = plan.replicas_at(t);
        let want_total = wanted_total(plan, t, lead_plan);
        let mut actions = Vec::new();
        if want_total > total {
            actions.push(format!("start {}", want_total - total));
        }
        if want_serving > serving {
            actions.push(format!("put {} in service", want_serving - serving));
        } else if want_serving < serving {
            actions.push(format!("take {} out of service", serving - want_serving));
        }
        if want_total < total {
            actions.push(format!("stop and remove {} once idle", total - want_total));
        }
        if actions.is_empty() {
            continue;
        }
        out.push(format!(
            "wall {:>9.3} s (plan {} s): {want_serving} in service, {want_total} in all: {}",
            secs(t) / speedup,
            secs(t),
            actions.join(", ")
        ));
        serving = want_serving;
        total = want_total;
    }
    out.push(format!(
        "wall {:>9.3} s (plan {} s): end of the plan: stop and remove every container of the run",
        secs(plan.end) / speedup,
        secs(plan.end)
    ));
    out
}
