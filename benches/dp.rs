//! Planning time of the DP planner: one day at one-minute intervals (T = 1440) with 5,000
//! possible replica counts, M/M/c stage costs built from a diurnal rate series.

use autoscale_sim::cluster::service::ServiceSpec;
use autoscale_sim::planner::queueing::{Dispatch, ViolationModel};
use autoscale_sim::planner::schedule::{
    CostMatrix, PlanInput, Prices, RateCosts, RecedingHorizon, Switching, plan,
};
use autoscale_sim::time::SimDuration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const T: usize = 1440;
const R: u32 = 5000;

/// Arrival rates over a day: mean 25,000 requests/s, ±80% sinusoid, plus a little ripple.
/// With 100 ms mean service the load ranges over about 500..4,500 busy servers.
fn day_rates() -> Vec<f64> {
    (0..T)
        .map(|i| {
            let x = i as f64 / T as f64 * std::f64::consts::TAU;
            25_000.0 * (1.0 + 0.8 * x.sin()) + 500.0 * (7.0 * x).sin()
        })
        .collect()
}

fn setup() -> (Vec<f64>, ViolationModel, Prices) {
    let service = ServiceSpec::Exponential {
        mean: SimDuration::from_millis(100),
    };
    let model = ViolationModel::new(&service, 1, Dispatch::Shared, 0.5);
    let prices = Prices {
        interval_s: 60.0,
        replica_hour: 0.04,
        violation_penalty: 1e-4,
    };
    (day_rates(), model, prices)
}

fn input(committed: &[u32]) -> PlanInput<'_> {
    PlanInput {
        intervals: T,
        min_replicas: 1,
        max_replicas: R,
        initial: 2500,
        committed,
        switching: Switching {
            start: 0.04 * 20.0 / 3600.0,
            stop: 0.0,
        },
    }
}

fn bench(c: &mut Criterion) {
    let (rates, model, prices) = setup();
    let mut g = c.benchmark_group("dp_day_1440x5000");
    g.throughput(Throughput::Elements(T as u64 * R as u64));
    g.sample_size(20);

    // The whole plan, stage costs computed from the queueing model as the DP needs them.
    g.bench_function("plan_with_queueing_costs", |b| {
        b.iter(|| {
            let mut costs = RateCosts {
                rates: black_box(&rates),
                violations: &model,
                prices,
            };
            plan(&input(&[2500]), &mut costs).unwrap()
        })
    });

    // The stage-cost table alone.
    g.bench_function("stage_cost_table", |b| {
        b.iter(|| {
            let mut costs = RateCosts {
                rates: black_box(&rates),
                violations: &model,
                prices,
            };
            CostMatrix::build(&mut costs, T, 1, R as usize)
        })
    });

    // Backward induction alone, on a precomputed table.
    let mut costs = RateCosts {
        rates: &rates,
        violations: &model,
        prices,
    };
    let mut table = CostMatrix::build(&mut costs, T, 1, R as usize);
    g.bench_function("backward_induction_only", |b| {
        b.iter(|| plan(&input(&[2500]), black_box(&mut table)).unwrap())
    });
    g.finish();

    // One receding-horizon decision: an hour ahead (60 intervals), start-up of one interval.
    const H: usize = 60;
    let mut g = c.benchmark_group("mpc_decision_60x5000");
    g.throughput(Throughput::Elements(H as u64 * R as u64));
    let mpc = RecedingHorizon {
        violations: model.clone(),
        prices,
        min_replicas: 1,
        max_replicas: R,
        switching: input(&[]).switching,
    };
    g.bench_function("decide", |b| {
        b.iter(|| {
            mpc.decide(2500, &[2500], black_box(&rates[600..600 + H]))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
