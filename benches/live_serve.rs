//! Request throughput of live mode's HTTP path on loopback: the pooled client of the load
//! replay against `serve` in the same process (two tokio worker threads), with a service time
//! of zero, so that what is measured is the cost of a request itself. It bounds the request
//! rate the replay can drive on this machine (the Docker port hop comes on top). Each iteration
//! sends 2,000 requests, at most 64 in flight.

use autoscale_sim::cluster::service::ServiceSpec;
use autoscale_sim::live::{client, server};
use autoscale_sim::time::SimDuration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;

const REQUESTS: u64 = 2_000;
const IN_FLIGHT: usize = 64;

fn loopback_requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (addr, stop) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let config = server::ServeConfig {
            service: ServiceSpec::Deterministic {
                mean: SimDuration::from_millis(1),
            },
            concurrency: IN_FLIGHT as u32,
            seed: 1,
            drain_timeout: Duration::from_secs(5),
            queue_timeout: None,
        };
        tokio::spawn(server::run(listener, config, async move {
            let _ = rx.await;
        }));
        (addr, tx)
    });
    let http = client::new_client();
    let uri = format!("http://{addr}/?service_ns=0");
    let mut g = c.benchmark_group("live");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("loopback_requests_service_0", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
                let mut tasks = Vec::with_capacity(REQUESTS as usize);
                for _ in 0..REQUESTS {
                    let permit = sem.clone().acquire_owned().await.unwrap();
                    let (http, uri) = (http.clone(), uri.clone());
                    tasks.push(tokio::spawn(async move {
                        let r = client::get(&http, &uri).await.expect("answered");
                        drop(permit);
                        assert_eq!(r.status, 200);
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    g.finish();
    let _ = stop.send(());
}

criterion_group!(benches, loopback_requests);
criterion_main!(benches);
