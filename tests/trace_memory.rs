//! Replay runs in constant memory: a trace of a few hundred megabytes (generated into a
//! temporary folder) is replayed while the process's resident memory is sampled from
//! `/proc/self/status`. This is its own test binary so that no other test allocates meanwhile.

use autoscale_sim::rng;
use autoscale_sim::workload::{TraceFormat, TraceSpec, trace};
use std::io::{BufWriter, Write};

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

#[test]
fn a_large_trace_replays_in_constant_memory() {
    // Release: about 250 MB (6.8 million date-time rows); debug builds: a tenth.
    let rows: u64 = if cfg!(debug_assertions) {
        680_000
    } else {
        6_800_000
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        writeln!(w, "TIMESTAMP,ContextTokens,GeneratedTokens").unwrap();
        // One row every 100 µs, as 2023-11-16 HH:MM:SS.fffffff (100 ns digits).
        for i in 0..rows {
            let tenths_us = i * 1000; // in 100 ns units
            let secs = tenths_us / 10_000_000;
            let frac = tenths_us % 10_000_000;
            writeln!(
                w,
                "2023-11-16 {:02}:{:02}:{:02}.{:07},4808,10",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                frac
            )
            .unwrap();
        }
        w.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let spec = TraceSpec::new(path.clone(), TraceFormat::Timestamps);
    let mut src = trace::open(&spec, rng::stream(1, 0, rng::ARRIVALS)).unwrap();
    let mut batch = Vec::with_capacity(4096);
    // Warm up: the first batches reach the working size of every buffer.
    for _ in 0..4 {
        batch.clear();
        src.fill(&mut batch, 4096).unwrap();
    }
    let base = rss_kib();
    let mut peak = base;
    let mut total = 4 * 4096u64;
    let mut last = None;
    let mut calls = 0u64;
    loop {
        batch.clear();
        let n = src.fill(&mut batch, 4096).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        last = batch.last().copied();
        calls += 1;
        if calls.is_multiple_of(64) {
            peak = peak.max(rss_kib());
        }
    }
    peak = peak.max(rss_kib());
    assert_eq!(total, rows);
    assert_eq!(last.unwrap().0, (rows - 1) * 100_000);
    let growth_kib = peak - base;
    eprintln!(
        "replayed {rows} rows ({} MB): resident memory {} KiB at the start, grew by {growth_kib} KiB",
        size / 1_000_000,
        base
    );
    // The file is hundreds of megabytes; the replay may not grow by more than 1 MiB.
    assert!(
        growth_kib < 1024,
        "resident memory grew by {growth_kib} KiB while replaying a {size}-byte trace"
    );
}
