//! Autoscaling policies and what they see.
//!
//! A policy implements [`Autoscaler`]. The simulation calls [`Autoscaler::tick`] every
//! [`Autoscaler::tick_interval`] of simulated time (the first call at one interval after the
//! start), passing an [`Observation`]: what a real autoscaler can know at that moment, namely
//! the replica counts the control plane reports, and cumulative counters per container from
//! which the policy's own metrics pipeline computes windowed averages, with whatever scrape
//! resolution and delay it models. A policy never sees the future or per-request truth (the
//! `oracle` planner is the one labelled exception).
//!
//! Every decision is a desired replica count, clamped to `[min_replicas, max_replicas]` and
//! applied by the simulation through the same path for every policy: new containers become
//! ready after the start-up delay; on scale-down, starting containers are cancelled first, then
//! ready containers drain (no new requests, finish their own) and stop.

pub mod dp;
pub mod fixed;
pub mod hpa;
pub mod kpa;
pub mod lcp;
pub mod oracle;
pub mod pipeline;
pub mod planning;
pub mod predictive;
pub mod registry;
pub mod target_tracking;
#[cfg(test)]
pub(crate) mod testkit;
pub mod threshold;

pub use crate::cluster::view::{ContainerState, ContainerView};
pub use registry::{BuildContext, PolicyContext, PolicySpec, PolicyType};

use crate::time::{SimDuration, SimTime};

/// Cluster-wide cumulative counters since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// Requests that arrived.
    pub arrivals: u64,
    /// Requests completed.
    pub completions: u64,
    /// Requests dropped (timed out in a queue or in the front buffer, or refused by a full
    /// queue) or lost with a failed container (`[faults]`).
    pub drops: u64,
    /// ∫ busy slots dt, slot-seconds.
    pub busy_area: f64,
    /// ∫ waiting requests dt (all queues and the front buffer), request-seconds.
    pub queued_area: f64,
    /// ∫ requests on draining containers dt (in service or in their own queues; part of
    /// `busy_area` + `queued_area`), request-seconds: what a scraper that reads only the
    /// ready pods (Knative's) does not see.
    pub draining_area: f64,
}

/// What a policy sees at a tick.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    pub now: SimTime,
    /// Request slots per container (`cluster.concurrency`).
    pub concurrency: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// The current desired replica count (the last decision, after clamping).
    pub desired: u32,
    pub ready: u32,
    pub starting: u32,
    pub draining: u32,
    /// Requests held in the front buffer because no container was ready (Knative's
    /// activator), now.
    pub front_buffer: u32,
    /// Requests waiting for a slot now, in every queue including the front buffer.
    pub queued: u32,
    /// Requests in service now.
    pub busy: u32,
    pub totals: Totals,
    /// Every container that is starting, ready or draining, in creation order.
    pub containers: &'a [ContainerView],
}

/// A policy's answer at a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Leave the desired replica count as it is.
    Keep,
    /// Set the desired replica count (clamped to the scenario's bounds).
    Desired(u32),
}

/// An autoscaling policy.
///
/// Implementations must be deterministic: the same observations give the same decisions.
pub trait Autoscaler: Send {
    /// How often [`tick`](Autoscaler::tick) is called: the control period, or the metric
    /// resolution when the policy samples more often than it decides.
    fn tick_interval(&self) -> SimDuration;

    /// When the next [`tick`](Autoscaler::tick) after one at `now` is due: `now` plus
    /// [`tick_interval`](Autoscaler::tick_interval) unless the policy runs several clocks
    /// that are not on one grid (the HPA's sync loop and metrics-server's scrape ticker).
    fn next_tick(&self, now: SimTime) -> SimTime {
        SimTime(now.0.saturating_add(self.tick_interval().0.max(1)))
    }

    /// Observes the cluster and decides.
    fn tick(&mut self, obs: &Observation<'_>) -> Decision;

    /// Whether a request that arrives while no container is ready or starting triggers an
    /// immediate extra tick (Knative's activator "poke" that scales from zero).
    fn ticks_on_buffered_request(&self) -> bool {
        false
    }
}
