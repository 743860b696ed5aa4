//! The per_request platform on the Azure Functions sample: every function of
//! `traces/azure-functions/` (500 functions, 8 hours, 3,037,902 invocations) under one policy,
//! read, simulated and folded as `autoscale-sim run` does, in invocations per second.
//!
//! Run with `cargo bench --bench serverless`.

use autoscale_sim::serverless::{runner, scenario};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

const INVOCATIONS: u64 = 3_037_902;

fn scenario_text(policy: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    format!(
        r#"
name = "bench"
duration = "8h"
interval = "5m"
[functions]
trace = "{root}/traces/azure-functions/invocations-500fn-8h.csv"
durations = "{root}/traces/azure-functions/durations-500fn-8h.csv"
[service]
distribution = "lognormal"
mean = "1s"
cv = 1.0
[platform]
type = "per_request"
cold_start = {{ distribution = "lognormal", mean = "500ms", cv = 0.5 }}
[[policy]]
name = "p"
{policy}
"#
    )
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("azure_500fn_8h");
    g.sample_size(10);
    g.throughput(Throughput::Elements(INVOCATIONS));
    for (name, policy) in [
        (
            "keep_alive_fixed",
            "type = \"keep_alive_fixed\"\nkeep_alive = \"10m\"",
        ),
        ("hybrid_histogram", "type = \"hybrid_histogram\""),
        (
            "provisioned_oracle",
            "type = \"provisioned\"\nplan = \"oracle\"",
        ),
    ] {
        let sc = scenario::parse(Path::new("bench.toml"), &scenario_text(policy)).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| runner::run(&sc, &runner::FaasOptions::default()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
