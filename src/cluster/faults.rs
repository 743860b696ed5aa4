//! Container failures (`[faults]`): each container fails after a random time and its
//! controller replaces it, as a Kubernetes ReplicaSet (or Deployment) does.
//!
//! Semantics (the cluster model, [`super::model`], applies them):
//! - A container's time to failure counts from the moment it becomes **ready** (a container
//!   that fails while starting is, to its users, a longer start-up; failure rates are measured
//!   on running containers). Containers of the initial cluster are ready at time 0.
//! - At its failure a ready or draining container loses every request it holds: those in
//!   service and those in its own queue (per-container balancers) are counted as `failed`
//!   (a crashed pod's accepted connections are reset; nothing re-routes them). Requests in
//!   the shared queue or the front buffer are not on any container and are not lost. A
//!   draining container that already finished its requests (shutting down) does not fail.
//! - The failed container stops at once and is billed no more.
//! - A failed **ready** container is replaced: the desired count is unchanged, and a new
//!   container is asked for at the failure. It waits `restart_delay` (unbilled: nothing runs),
//!   then starts like any container (billed from then, its start-up drawn from
//!   `cluster.startup`). Policies see it as a starting container from the failure on (a pod
//!   that exists and is not ready, with no metric yet), so the HPA counts it as missing and
//!   then unready, the KPA does not count it (it counts ready pods only), and a scale-down
//!   cancels it first like any starting container. A failed draining container was on its
//!   way out: it is not replaced.
//!
//! Common random numbers: every container created in a replication (the initial ones first,
//! then in the order they are asked for, replacements included) draws its time to failure,
//! then its restart delay when that is random, from the replication's `faults` stream when it
//! is created, so the k-th container gets the same draws whatever the policy.

use super::startup::{StartupDist, StartupSampler};
use crate::rng::SimRng;
use crate::time::SimDuration;

/// Validated `[faults]` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// Time from a container's readiness until it fails.
    pub time_to_failure: StartupDist,
    /// Delay from a failure until the replacement container starts starting.
    pub restart_delay: StartupDist,
}

/// `restart_delay` when `[faults]` does not set it: the kubelet's first crash back-off
/// (10 s; "the kubelet restarts them with an exponential back-off delay (10s, 20s, 40s, …)",
/// Kubernetes documentation, Pod Lifecycle, Container restart policy).
pub const DEFAULT_RESTART_DELAY: SimDuration = SimDuration(10 * crate::time::NANOS_PER_SEC);

impl FaultSpec {
    /// The long-run fraction of time a container slot of a static cluster is ready:
    /// `m / (m + r + s)` with the mean time to failure `m`, mean restart delay `r` and mean
    /// start-up `s` (an alternating renewal process: ready, then waiting, then starting).
    pub fn availability(&self, startup: SimDuration) -> f64 {
        let m = self.time_to_failure.mean().as_secs_f64();
        let r = self.restart_delay.mean().as_secs_f64();
        m / (m + r + startup.as_secs_f64())
    }

    /// A short human description.
    pub fn describe(&self) -> String {
        format!(
            "time to failure {}, restart delay {}",
            self.time_to_failure.describe(),
            self.restart_delay.describe()
        )
    }
}

/// The draws of one run: a container's time to failure and restart delay, in ns.
#[derive(Clone, Debug)]
pub struct FaultDraws {
    ttf: StartupSampler,
    restart: StartupSampler,
    rng: SimRng,
}

impl FaultDraws {
    /// The sampler of `spec` on `rng` (the replication's `faults` stream); `None` when a
    /// distribution cannot be sampled (validation has refused it before).
    pub fn new(spec: &FaultSpec, rng: SimRng) -> Option<Self> {
        Some(FaultDraws {
            ttf: StartupSampler::try_new(&spec.time_to_failure).ok()?,
            restart: StartupSampler::try_new(&spec.restart_delay).ok()?,
            rng,
        })
    }

    /// The draws of the next container created: (time to failure, restart delay) in ns.
    pub fn draw(&mut self) -> (u64, u64) {
        // A constant draws nothing from the stream.
        let ttf = self.ttf.sample(&mut self.rng).0;
        let restart = self.restart.sample(&mut self.rng).0;
        (ttf, restart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_is_the_renewal_ratio() {
        let spec = FaultSpec {
            time_to_failure: StartupDist::Exponential {
                mean: SimDuration::from_secs(100),
            },
            restart_delay: StartupDist::Constant(SimDuration::from_secs(20)),
        };
        assert_eq!(spec.availability(SimDuration::from_secs(30)), 100.0 / 150.0);
    }
}
