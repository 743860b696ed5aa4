//! A scripted cluster for policy tests: containers whose load the test sets, second by second,
//! and the [`Observation`]s a policy would receive from it.
//!
//! Time only moves forward through [`Cluster::run`]; counters grow exactly by load × time, so a
//! test can compute every metric a policy sees by hand. Decisions are applied the way the
//! simulation applies them: scale-up adds starting containers, scale-down cancels starting ones
//! first (newest first), then drains ready ones (newest first).

use super::{ContainerState, ContainerView, Decision, Observation, Totals};
use crate::time::{SimDuration, SimTime};

pub struct Cluster {
    pub now: SimTime,
    pub concurrency: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub desired: u32,
    pub front_buffer: u32,
    pub containers: Vec<ContainerView>,
    pub totals: Totals,
    next_id: u32,
}

impl Cluster {
    /// `ready` containers, ready since time 0.
    pub fn new(concurrency: u32, ready: u32) -> Self {
        let mut c = Cluster {
            now: SimTime::ZERO,
            concurrency,
            min_replicas: 1,
            max_replicas: 1000,
            desired: ready,
            front_buffer: 0,
            containers: Vec::new(),
            totals: Totals::default(),
            next_id: 0,
        };
        for _ in 0..ready {
            let id = c.start_one();
            c.make_ready(id);
        }
        c
    }

    /// Adds a starting container (created now); returns its id.
    pub fn start_one(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        self.containers.push(ContainerView {
            id,
            state: ContainerState::Starting,
            created: self.now,
            ready_at: None,
            busy: 0,
            queued: 0,
            busy_area: 0.0,
            inflight_area: 0.0,
            arrivals: 0,
            completions: 0,
        });
        id
    }

    /// Container `id` becomes ready now.
    pub fn make_ready(&mut self, id: u32) {
        let now = self.now;
        let c = self.get(id);
        c.state = ContainerState::Ready;
        c.ready_at = Some(now);
    }

    /// Every starting container becomes ready now.
    pub fn make_all_ready(&mut self) {
        let ids: Vec<u32> = self
            .containers
            .iter()
            .filter(|c| c.state == ContainerState::Starting)
            .map(|c| c.id)
            .collect();
        for id in ids {
            self.make_ready(id);
        }
    }

    fn get(&mut self, id: u32) -> &mut ContainerView {
        self.containers
            .iter_mut()
            .find(|c| c.id == id)
            .expect("a container of the test cluster")
    }

    /// Advances `secs` seconds with container `i` (in creation order among live containers)
    /// keeping `busy[i]` slots busy; missing entries are 0. Starting containers stay idle.
    pub fn run(&mut self, secs: f64, busy: &[f64]) {
        self.run_with_queue(secs, busy, 0.0, 0);
    }

    /// As [`run`](Cluster::run), with `queued` requests waiting outside the containers
    /// throughout and `arrivals` requests arriving over the span.
    pub fn run_with_queue(&mut self, secs: f64, busy: &[f64], queued: f64, arrivals: u64) {
        let mut total_busy = 0.0;
        for (i, c) in self.containers.iter_mut().enumerate() {
            let b = busy.get(i).copied().unwrap_or(0.0);
            if c.state == ContainerState::Starting {
                assert!(b == 0.0, "a starting container serves nothing");
                continue;
            }
            c.busy_area += b * secs;
            c.inflight_area += b * secs;
            c.busy = b.round() as u32;
            total_busy += b;
        }
        self.totals.busy_area += total_busy * secs;
        self.totals.queued_area += queued * secs;
        self.totals.arrivals += arrivals;
        self.now += SimDuration::from_secs_f64(secs);
    }

    /// Advances `secs` seconds with `in_system` requests in the system in total (spread over
    /// the ready containers as busy slots, the rest queued in front) and `arrivals` arrivals.
    pub fn run_load(&mut self, secs: f64, in_system: f64, arrivals: u64) {
        let ready: Vec<usize> = self
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == ContainerState::Ready)
            .map(|(i, _)| i)
            .collect();
        let slots = ready.len() as f64 * f64::from(self.concurrency);
        let served = in_system.min(slots);
        let mut busy = vec![0.0; self.containers.len()];
        for &i in &ready {
            busy[i] = served / ready.len() as f64;
        }
        self.run_with_queue(secs, &busy, in_system - served, arrivals);
    }

    pub fn ready(&self) -> u32 {
        self.count(ContainerState::Ready)
    }

    pub fn starting(&self) -> u32 {
        self.count(ContainerState::Starting)
    }

    fn count(&self, s: ContainerState) -> u32 {
        self.containers.iter().filter(|c| c.state == s).count() as u32
    }

    /// What the policy sees now.
    pub fn obs(&self) -> Observation<'_> {
        Observation {
            now: self.now,
            concurrency: self.concurrency,
            min_replicas: self.min_replicas,
            max_replicas: self.max_replicas,
            desired: self.desired,
            ready: self.ready(),
            starting: self.starting(),
            draining: self.count(ContainerState::Draining),
            front_buffer: self.front_buffer,
            queued: 0,
            busy: 0,
            totals: self.totals,
            containers: &self.containers,
        }
    }

    /// Applies a decision as the simulation does (clamped; draining containers vanish at once).
    pub fn apply(&mut self, d: Decision) {
        let Decision::Desired(n) = d else { return };
        let n = n.clamp(self.min_replicas, self.max_replicas);
        self.desired = n;
        self.containers
            .retain(|c| c.state != ContainerState::Draining);
        let current = self.ready() + self.starting();
        if n > current {
            for _ in 0..n - current {
                self.start_one();
            }
        } else {
            let mut remove = current - n;
            for state in [ContainerState::Starting, ContainerState::Ready] {
                for c in self.containers.iter_mut().rev() {
                    if remove > 0 && c.state == state {
                        c.state = ContainerState::Draining;
                        remove -= 1;
                    }
                }
            }
            self.containers
                .retain(|c| c.state != ContainerState::Draining);
        }
    }
}
