//! What a policy may read of its scenario when it is validated and built: the run's clock,
//! workload, service, cluster and cost, and nothing of the other policies. Policies take a
//! [`Setting`] instead of the whole [`Scenario`](super::Scenario), so the scenario (which
//! holds the validated policies) and the policies depend on each other through this file only
//! in one direction.

use crate::cluster::ClusterSpec;
use crate::cluster::service::ServiceSpec;
use crate::time::SimDuration;
use crate::workload::WorkloadSpec;

/// The parts of a scenario a policy sees, borrowed from it ([`super::Scenario::setting`]).
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    pub seed: u64,
    pub duration: SimDuration,
    pub warmup: SimDuration,
    /// The report interval.
    pub interval: SimDuration,
    pub workload: &'a WorkloadSpec,
    pub service: &'a ServiceSpec,
    pub cluster: &'a ClusterSpec,
    pub cost: &'a CostSpec,
}

/// Validated `[cost]` parameters: the one objective every policy is ranked by.
#[derive(Clone, Debug, PartialEq)]
pub struct CostSpec {
    /// Price of one container for one hour.
    pub replica_hour: f64,
    /// A request slower than this, or dropped, violates the SLO.
    pub slo_latency: SimDuration,
    /// Price of one violating request.
    pub violation_penalty: f64,
    /// Price of starting one container (`start_cost`, 0 by default), on top of the replica
    /// cost it accrues while it starts.
    pub start_cost: f64,
    /// Price of stopping one container (`stop_cost`, 0 by default): a starting container
    /// cancelled or a ready one drained.
    pub stop_cost: f64,
}

impl CostSpec {
    /// The objective of a run: replica cost plus violation penalties.
    pub fn objective(&self, replica_seconds: f64, violations: u64) -> f64 {
        replica_seconds * self.replica_hour / 3600.0 + violations as f64 * self.violation_penalty
    }

    /// The switching cost of `starts` container starts and `stops` container stops.
    pub fn switching(&self, starts: u64, stops: u64) -> f64 {
        starts as f64 * self.start_cost + stops as f64 * self.stop_cost
    }
}
