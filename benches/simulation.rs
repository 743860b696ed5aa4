//! Throughput of the simulation loop on the reference model: M/M/64 at load 0.9 (Poisson
//! arrivals at 576/s, exponential service with mean 0.1 s, one shared queue, 64 static
//! replicas), measured in simulated requests per second of wall time on one core, metrics,
//! histograms and timeline included. The whole-command figure (20 million requests, CSVs
//! written) is measured with the command in BENCHMARKS.md.

use autoscale_sim::experiment;
use autoscale_sim::scenario;
use autoscale_sim::time::SimDuration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

fn reference_model(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/benchmark.toml");
    let mut sc = scenario::load(&path).expect("the benchmark scenario is valid");
    // 2 million requests per iteration: 576/s for 3,472 s.
    sc.duration = SimDuration::from_secs(3472);
    let requests = experiment::simulate(&sc, 0, 0).unwrap().summary.requests;
    let mut g = c.benchmark_group("simulation");
    g.sample_size(10);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("mm64_load_0.9_shared_queue", |b| {
        b.iter(|| experiment::simulate(&sc, 0, 0).unwrap())
    });
    g.finish();
}

fn balancers(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/benchmark.toml");
    let base = scenario::load(&path).expect("the benchmark scenario is valid");
    let mut g = c.benchmark_group("balancers");
    g.sample_size(10);
    for b in [
        autoscale_sim::cluster::Balancer::RoundRobin,
        autoscale_sim::cluster::Balancer::LeastConnections,
        autoscale_sim::cluster::Balancer::PowerOfTwo,
    ] {
        let mut sc = base.clone();
        sc.duration = SimDuration::from_secs(868);
        sc.cluster.balancer = b;
        let requests = experiment::simulate(&sc, 0, 0).unwrap().summary.requests;
        g.throughput(Throughput::Elements(requests));
        g.bench_function(b.name(), |bench| {
            bench.iter(|| experiment::simulate(&sc, 0, 0).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, reference_model, balancers);
criterion_main!(benches);
