//! The modelled cluster: containers, their lifecycle, load balancing and service times.
//!
//! The state machine and the request path are in [`crate::sim`]; this module holds their
//! validated parameters and the service-time distributions.

pub mod service;

use crate::time::SimDuration;

/// How requests are spread over containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    /// One FIFO queue in front of every slot of every ready container (M/G/c).
    SharedQueue,
    /// Each container has its own FIFO queue; containers are chosen in turn.
    RoundRobin,
    /// The container with the fewest requests in service or queued (lowest id on ties).
    LeastConnections,
    /// A container chosen uniformly at random.
    Random,
    /// Two containers chosen at random; the one with fewer requests (power of two choices).
    PowerOfTwo,
}

impl Balancer {
    pub const NAMES: &'static str =
        "\"shared_queue\", \"round_robin\", \"least_connections\", \"random\" or \"power_of_two\"";

    pub fn parse(name: &str) -> Option<Balancer> {
        Some(match name {
            "shared_queue" => Balancer::SharedQueue,
            "round_robin" => Balancer::RoundRobin,
            "least_connections" => Balancer::LeastConnections,
            "random" => Balancer::Random,
            "power_of_two" => Balancer::PowerOfTwo,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Balancer::SharedQueue => "shared_queue",
            Balancer::RoundRobin => "round_robin",
            Balancer::LeastConnections => "least_connections",
            Balancer::Random => "random",
            Balancer::PowerOfTwo => "power_of_two",
        }
    }
}

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
