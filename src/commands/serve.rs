//! `autoscale-sim serve`: runs the workload server of live mode (see [`autoscale_sim::live::server`]).

use autoscale_sim::error::Error;
use autoscale_sim::live::{self, server};
use autoscale_sim::time::{SimDuration, parse_duration};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Arguments of `autoscale-sim serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TCP port to listen on (0 picks a free one and prints it).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on (the default takes connections on every interface, as a container
    /// needs; use 127.0.0.1 to stay local).
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Mean service time.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = duration_arg)]
    pub service_mean: SimDuration,
    /// Service-time distribution: exponential, deterministic, lognormal, gamma or uniform.
    #[arg(long, value_name = "D", default_value = "exponential")]
    pub distribution: String,
    /// Coefficient of variation (standard deviation / mean): required for lognormal and gamma;
    /// for uniform at most 1/√3, the default.
    #[arg(long)]
    pub cv: Option<f64>,
    /// Requests in service at once; the others wait in a first-come, first-served queue.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// Seed of the service-time stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A request that waits this long for a free slot is answered 503, unserved.
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub queue_timeout: Option<SimDuration>,
    /// On SIGTERM or Ctrl-C, how long to wait for the requests held to finish.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration_arg)]
    pub drain_timeout: SimDuration,
}

/// Parses a duration option (`"250ms"`, `"30s"`, `0.5`).
pub fn duration_arg(text: &str) -> Result<SimDuration, String> {
    parse_duration(text)
}

pub fn run(args: &ServeArgs) -> Result<i32, Error> {
    let service = server::service_spec(&args.distribution, args.service_mean, args.cv)?;
    let config = server::ServeConfig {
        service,
        concurrency: args.concurrency,
        seed: args.seed,
        drain_timeout: Duration::from_nanos(args.drain_timeout.0),
        queue_timeout: args.queue_timeout.map(|d| Duration::from_nanos(d.0)),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the tokio runtime", e))?;
    let addr = SocketAddr::new(args.bind, args.port);
    runtime.block_on(async {
        let signal = live::shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                Error::Other(format!(
                    "cannot listen on {addr}: the port is taken by another program; choose another with --port"
                ))
            } else {
                Error::io(format!("cannot listen on {addr}"), e)
            }
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the listening address", e))?;
        outln!(
            "serving on http://{local}/ ({}, concurrency {}); /healthz, /metrics",
            config.service.describe(),
            config.concurrency
        );
        let report = server::run(listener, config, async move {
            let name = signal.await;
            eprintln!("{name}: draining");
        })
        .await?;
        eprintln!(
            "served {} of {} requests ({} dropped after their queue time-out){}",
            report.served,
            report.received,
            report.dropped,
            if report.abandoned > 0 {
                format!(
                    "; {} still held when the drain time-out ran out",
                    report.abandoned
                )
            } else {
                String::new()
            }
        );
        Ok::<_, Error>(())
    })?;
    Ok(0)
}
