//! What the control plane reports of each container: its lifecycle state and cumulative
//! counters. The cluster model fills these in ([`super::model`]); policies sample them through
//! their metrics pipeline (`autoscaler::pipeline`), never the cluster's own state.

use crate::time::SimTime;

/// Lifecycle state of a container, as the control plane reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Asked for, not yet taking requests (start-up delay).
    Starting,
    /// Taking requests.
    Ready,
    /// Scaled down: takes no new requests, finishes the ones it has, then stops.
    Draining,
}

/// One container as the metrics pipeline can sample it.
///
/// Counters are cumulative since the container was created, so a policy that keeps the
/// previous sample gets exact averages over any window by difference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContainerView {
    /// Unique within a run; never reused.
    pub id: u32,
    pub state: ContainerState,
    /// When the container was asked for.
    pub created: SimTime,
    /// When it became ready, if it has.
    pub ready_at: Option<SimTime>,
    /// Requests in service now.
    pub busy: u32,
    /// Requests waiting in this container's own queue now (per-container balancers only).
    pub queued: u32,
    /// ∫ busy dt since creation, in slot-seconds (busy_area / window / concurrency is the
    /// utilization over a window).
    pub busy_area: f64,
    /// ∫ (busy + queued) dt since creation, in request-seconds (the concurrency Knative's
    /// queue-proxy reports, averaged over a window).
    pub inflight_area: f64,
    /// Requests routed to this container since creation.
    pub arrivals: u64,
    /// Requests it has completed since creation.
    pub completions: u64,
}
