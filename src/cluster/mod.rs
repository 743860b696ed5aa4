//! The modelled cluster: its validated parameters ([`ClusterSpec`]), the model of containers,
//! their lifecycle, scaling and queues ([`model`]), routing ([`routing`], shared with live
//! replay) and service-time distributions ([`service`]).

pub mod model;
pub mod routing;
pub mod service;

pub use routing::Balancer;

use crate::time::SimDuration;

/// Validated `[cluster]` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSpec {
    /// Request slots per container.
    pub concurrency: u32,
    pub balancer: Balancer,
    /// Delay from a start decision until the container takes requests.
    pub startup: SimDuration,
    /// Time a drained container takes to stop after its last request (still billed).
    pub shutdown: SimDuration,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Replicas ready at time 0; when absent, each policy's own default.
    pub initial_replicas: Option<u32>,
    /// A request that waited this long without service is dropped.
    pub queue_timeout: Option<SimDuration>,
}
