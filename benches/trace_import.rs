//! Trace replay throughput, per format: files generated into a temporary folder, then replayed
//! whole through `workload::trace::open` and `ArrivalSource::fill` (batches of 4096), as a run
//! replays them. Per-request formats are measured in lines per second, binned formats in
//! arrivals per second.
//!
//! Run with `cargo bench --bench trace_import`.

use autoscale_sim::rng;
use autoscale_sim::workload::{TraceFormat, TraceSpec, trace};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const LINES: u64 = 1_000_000;

fn write_file(path: &Path, f: impl FnOnce(&mut dyn Write)) {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    f(&mut w);
    w.flush().unwrap();
}

fn spec(path: PathBuf, format: TraceFormat) -> TraceSpec {
    TraceSpec::new(path, format)
}

/// Replays the whole trace; returns the number of arrivals.
fn replay(spec: &TraceSpec, batch: &mut Vec<autoscale_sim::time::SimTime>) -> u64 {
    let mut src = trace::open(spec, rng::stream(1, 0, rng::ARRIVALS)).unwrap();
    let mut n = 0u64;
    loop {
        batch.clear();
        let k = src.fill(batch, 4096).unwrap();
        if k == 0 {
            return n;
        }
        n += k as u64;
    }
}

/// A stand-in for gaps of a realistic trace: a deterministic pseudo-random step.
fn step(i: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 200_000 // below 200 µs, in ns
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut batch = Vec::with_capacity(4096);

    // Timestamps in seconds, 100 ns resolution: "1700158623.9799600".
    let secs = dir.path().join("secs.csv");
    write_file(&secs, |w| {
        writeln!(w, "time_s").unwrap();
        let mut t: u64 = 1_700_158_623_979_960_000;
        for i in 0..LINES {
            t += step(i) / 100 * 100;
            writeln!(w, "{}.{:07}", t / 1_000_000_000, t % 1_000_000_000 / 100).unwrap();
        }
    });
    // Timestamps as date-times, like the Azure LLM trace: "2023-11-16 18:17:03.9799600,4808,10".
    let dates = dir.path().join("dates.csv");
    write_file(&dates, |w| {
        writeln!(w, "TIMESTAMP,ContextTokens,GeneratedTokens").unwrap();
        let mut t: u64 = (18 * 3600 + 17 * 60 + 3) * 1_000_000_000;
        for i in 0..LINES {
            t += step(i) / 100 * 100;
            let s = t / 1_000_000_000;
            writeln!(
                w,
                "2023-11-16 {:02}:{:02}:{:02}.{:07},{},{}",
                s / 3600,
                s / 60 % 60,
                s % 60,
                t % 1_000_000_000 / 100,
                i % 8000,
                i % 300
            )
            .unwrap();
        }
    });
    // Access log lines, one per request.
    let log = dir.path().join("access.log");
    write_file(&log, |w| {
        for i in 0..LINES {
            let s = i / 300; // 300 requests per second
            writeln!(
                w,
                "10.0.{}.{} - - [01/Jul/1995:{:02}:{:02}:{:02} -0400] \"GET /shuttle/countdown/ HTTP/1.0\" 200 {}",
                i / 256 % 256,
                i % 256,
                s / 3600,
                s / 60 % 60,
                s % 60,
                i % 9000
            )
            .unwrap();
        }
    });
    // Counts per second: 100 000 rows of about 100 arrivals (10 million arrivals).
    let counts = dir.path().join("counts.csv");
    let mut count_arrivals = 0u64;
    write_file(&counts, |w| {
        writeln!(w, "time_s,count").unwrap();
        for i in 0..100_000u64 {
            let c = 50 + step(i) % 101;
            count_arrivals += c;
            writeln!(w, "{i},{c}").unwrap();
        }
    });
    // Azure Functions: 500 functions x 1440 minutes.
    let azure = dir.path().join("azure.csv");
    let mut azure_arrivals = 0u64;
    write_file(&azure, |w| {
        write!(w, "HashOwner,HashApp,HashFunction,Trigger").unwrap();
        for m in 1..=1440 {
            write!(w, ",{m}").unwrap();
        }
        writeln!(w).unwrap();
        for f in 0..500u64 {
            write!(w, "o{f},a{f},f{f},http").unwrap();
            for m in 0..1440u64 {
                let c = step(f * 1440 + m) % 30;
                azure_arrivals += c;
                write!(w, ",{c}").unwrap();
            }
            writeln!(w).unwrap();
        }
    });

    let mut g = c.benchmark_group("trace_import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(LINES));
    let s = spec(secs, TraceFormat::Timestamps);
    g.bench_function("timestamps_seconds_lines", |b| {
        b.iter(|| assert_eq!(replay(&s, &mut batch), LINES))
    });
    let s = spec(dates, TraceFormat::Timestamps);
    g.bench_function("timestamps_datetime_lines", |b| {
        b.iter(|| assert_eq!(replay(&s, &mut batch), LINES))
    });
    let s = spec(log, TraceFormat::Clf);
    g.bench_function("clf_lines", |b| {
        b.iter(|| assert_eq!(replay(&s, &mut batch), LINES))
    });
    g.throughput(Throughput::Elements(count_arrivals));
    let s = spec(counts, TraceFormat::Counts);
    g.bench_function("counts_arrivals", |b| {
        b.iter(|| assert_eq!(replay(&s, &mut batch), count_arrivals))
    });
    g.throughput(Throughput::Elements(azure_arrivals));
    let s = spec(azure, TraceFormat::Azure);
    g.bench_function("azure_arrivals", |b| {
        b.iter(|| assert_eq!(replay(&s, &mut batch), azure_arrivals))
    });
    g.finish();
}

criterion_group!(trace_import, benches);
criterion_main!(trace_import);
