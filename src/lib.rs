//! autoscale-sim: a discrete-event simulator for elastic scaling policies of containerized
//! services.

pub mod autoscaler;
pub mod calibration;
pub mod cluster;
pub mod engine;
pub mod error;
pub mod experiment;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "live")]
pub mod live;
pub mod output;
pub mod planner;
pub mod rng;
pub mod scenario;
pub mod serverless;
pub mod sim;
pub mod sniff;
pub mod stats;
pub mod time;
pub mod validate;
pub mod workload;
