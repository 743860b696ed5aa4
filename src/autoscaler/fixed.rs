//! The `static` policy: a fixed number of replicas for the whole run.
//!
//! At its first tick it asks for `replicas` and never changes its mind. The run starts with
//! `cluster.initial_replicas` (which defaults to this policy's `replicas`, so a static run is
//! at its size from time 0). Static is the null policy every other policy is compared with, and
//! with `load_balancer = "shared_queue"` and `concurrency = 1` it makes the cluster an M/G/c
//! queue.

use super::{Autoscaler, Decision, Observation};
use crate::time::SimDuration;

pub struct Static {
    replicas: u32,
    period: SimDuration,
}

impl Static {
    pub fn new(replicas: u32, period: SimDuration) -> Self {
        Static { replicas, period }
    }
}

impl Autoscaler for Static {
    fn tick_interval(&self) -> SimDuration {
        self.period
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        if obs.desired == self.replicas {
            Decision::Keep
        } else {
            Decision::Desired(self.replicas)
        }
    }
}
