//! Planning time of the planning policies as they run in the simulator: one `dp` decision
//! (expected stage costs over the forecast-error scenarios, then the receding-horizon plan),
//! the `oracle`'s whole plan (a day of one-minute steps priced pointwise over their seconds),
//! and the measurement of a calibration table.

use autoscale_sim::calibration::{CALIBRATION_REQUESTS, measure};
use autoscale_sim::cluster::Balancer;
use autoscale_sim::cluster::service::ServiceSpec;
use autoscale_sim::planner::calibrate::CalibrationSetup;
use autoscale_sim::planner::queueing::{Dispatch, ViolationModel};
use autoscale_sim::planner::schedule::{PlanInput, Prices, Switching, plan};
use autoscale_sim::planner::uncertainty::{ExpectedCosts, LeadErrors, PointwiseCosts};
use autoscale_sim::time::SimDuration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn model() -> ViolationModel {
    let service = ServiceSpec::Exponential {
        mean: SimDuration::from_millis(100),
    };
    ViolationModel::new(&service, 1, Dispatch::Shared, 0.5)
}

fn prices(step_s: f64) -> Prices {
    Prices {
        interval_s: step_s,
        replica_hour: 0.04,
        violation_penalty: 1e-4,
    }
}

/// An hour of per-second errors around 2,500 requests/s: Poisson-like noise and, once a
/// minute, a surge of 30%.
fn errors() -> LeadErrors {
    let mut e = LeadErrors::new(3600);
    for i in 0..3600u64 {
        e.record(1, 2500.0);
        let noise = 50.0 * ((i * 7919 % 101) as f64 / 50.0 - 1.0);
        let surge = if i % 60 == 0 { 750.0 } else { 0.0 };
        e.observe(2500.0 + noise + surge);
    }
    e
}

fn bench(c: &mut Criterion) {
    let model = model();
    let errors = errors();
    let scenarios = errors.scenarios(2500.0);

    // One dp decision: a flat forecast of 2,500/s (ewma), a backlog in the first controlled
    // step, expected costs over the error scenarios, and the plan from the current state.
    for (name, steps, step_s, r) in [
        ("dp_decision_10x1000", 10usize, 60.0, 1000u32),
        ("dp_decision_120x1000", 120, 5.0, 1000),
        ("dp_decision_60x5000", 60, 60.0, 5000),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(steps as u64 * r as u64));
        let forecast = vec![2500.0; steps];
        let mut extra = vec![0.0; steps];
        extra[1] = 40.0;
        g.bench_function("expected_costs_and_plan", |b| {
            b.iter(|| {
                let mut costs = ExpectedCosts::new(
                    black_box(&forecast),
                    &extra,
                    &scenarios,
                    &model,
                    prices(step_s),
                );
                let input = PlanInput {
                    intervals: steps,
                    min_replicas: 1,
                    max_replicas: r,
                    initial: 300,
                    committed: &[300],
                    switching: Switching {
                        start: 0.04 * step_s / 3600.0,
                        stop: 0.0,
                    },
                };
                plan(&input, &mut costs).unwrap()
            })
        });
        g.bench_function("error_scenarios", |b| {
            b.iter(|| black_box(&errors).scenarios(black_box(2500.0)))
        });
        g.finish();
    }

    // The oracle's plan: a day of one-minute steps, each priced over its 60 seconds.
    const T: usize = 1440;
    const R: u32 = 1000;
    let fine: Vec<f64> = (0..T * 60)
        .map(|i| {
            let x = i as f64 / (T * 60) as f64 * std::f64::consts::TAU;
            (2500.0 * (1.0 + 0.8 * x.sin())).round()
        })
        .collect();
    let mut g = c.benchmark_group("oracle_day_1440x1000");
    g.throughput(Throughput::Elements(T as u64 * R as u64));
    g.sample_size(10);
    g.bench_function("pointwise_costs_and_plan", |b| {
        b.iter(|| {
            let mut costs = PointwiseCosts::new(black_box(&fine), 60, &model, prices(60.0), R);
            let input = PlanInput {
                intervals: T,
                min_replicas: 1,
                max_replicas: R,
                initial: 300,
                committed: &[300],
                switching: Switching {
                    start: 0.04 * 60.0 / 3600.0,
                    stop: 0.0,
                },
            };
            plan(&input, &mut costs).unwrap()
        })
    });
    g.finish();

    // A calibration table: least connections, 4 slots, lognormal service (the dp-web
    // scenario's cluster), up to 60 containers: 11 counts × 9 loads of 110,000 requests.
    let setup = CalibrationSetup {
        service: ServiceSpec::Lognormal {
            mean: SimDuration::from_millis(80),
            cv: 1.0,
        },
        concurrency: 4,
        balancer: Balancer::LeastConnections,
        queue_timeout: Some(SimDuration::from_secs(30)),
        slo: SimDuration::from_millis(500),
        max_replicas: 60,
    };
    let cells = setup.counts().len() * 9;
    let mut g = c.benchmark_group("calibration_lc4_lognormal_60");
    g.throughput(Throughput::Elements(
        (cells as f64 * CALIBRATION_REQUESTS * 1.1) as u64,
    ));
    g.sample_size(10);
    g.bench_function("measure_table", |b| {
        b.iter(|| {
            measure(
                std::slice::from_ref(black_box(&setup)),
                CALIBRATION_REQUESTS,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
