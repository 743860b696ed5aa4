//! Live mode: the real counterpart of the simulation, on a Docker engine.
//!
//! - [`server`]: `autoscale-sim serve`, an HTTP server that behaves like one modelled container
//!   (a service time per request drawn from a distribution, at most `concurrency` requests in
//!   service, the rest queued first come, first served).
//! - [`timer`]: a timer precise to tens of microseconds (tokio's rounds to milliseconds).
//! - [`client`]: the small HTTP client the executor and the load replay share.
//! - [`docker`]: the Docker Engine API calls (through `bollard`), and the labels of a run.
//! - [`image`]: `autoscale-sim live image`, the `FROM scratch` workload image.
//! - [`plan`]: the `plan.csv` file, `time_s,replicas`.
//! - [`executor`]: keeps the ready containers equal to the plan, like a controller.
//! - [`replay`]: the scenario's requests as real HTTP requests, through a load balancer of the
//!   scenario's kind.
//! - [`compare`]: the plan simulated, the measured timeline, and the two side by side.
//!
//! This module is compiled with the cargo feature `live` (on by default). Everything in it
//! talks only to addresses on this machine: the loopback interface and the local Docker engine.

pub mod client;
pub mod compare;
pub mod docker;
pub mod executor;
pub mod image;
pub mod plan;
pub mod replay;
pub mod server;
pub mod session;
pub mod timer;

use crate::error::Error;

/// Installs handlers for Ctrl-C (SIGINT) and SIGTERM, and returns a future that completes with
/// the name of the first of them to arrive. Call it inside a tokio runtime, before the work the
/// signals should stop, so that a signal that comes early is not lost.
pub fn shutdown_signal() -> Result<impl std::future::Future<Output = &'static str>, Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::io("cannot install the SIGTERM handler", e))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::io("cannot install the SIGINT handler", e))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}
