//! The modelled cluster: its validated parameters ([`ClusterSpec`]), the model of containers,
//! their lifecycle, scaling and queues ([`model`]), routing ([`routing`], shared with live
//! replay) and service-time distributions ([`service`]).

pub mod faults;
pub mod model;
pub mod routing;
pub mod service;
pub mod startup;
pub mod view;

pub use routing::Balancer;

use crate::time::SimDuration;

/// Validated `[cluster]` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSpec {
    /// Request slots per container.
    pub concurrency: u32,
    pub balancer: Balancer,
    /// Delay from a start decision until the container takes requests: the mean of
    /// `startup_dist` (what planners assuming a fixed delay use).
    pub startup: SimDuration,
    /// The start-up time's distribution, drawn per container started.
    pub startup_dist: startup::StartupDist,
    /// Time a drained container takes to stop after its last request (still billed).
    pub shutdown: SimDuration,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Replicas ready at time 0; when absent, each policy's own default.
    pub initial_replicas: Option<u32>,
    /// A request that waited this long without service is dropped.
    pub queue_timeout: Option<SimDuration>,
    /// The most requests one queue (the central queue, or a container's own) holds; a
    /// request that finds its queue full is dropped.
    pub queue_capacity: u32,
    /// Container failures and their replacement (`[faults]`); `None`: containers never fail.
    pub faults: Option<faults::FaultSpec>,
}

/// `queue_capacity` when the scenario does not set it: deep enough that no cluster that
/// keeps up with its load ever fills it, small enough that an overloaded one holds at most
/// a few megabytes of requests per queue.
pub const DEFAULT_QUEUE_CAPACITY: u32 = 100_000;
