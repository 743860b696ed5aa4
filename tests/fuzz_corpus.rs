//! Replays the fuzz corpus (`fuzz/corpus/TARGET/`) and the inputs of past findings
//! (`fuzz/regressions/TARGET/`) through the entry points the `cargo fuzz` targets call, on
//! stable Rust: every input must be read without a panic (see `docs/fuzzing.md`).

use std::path::Path;

/// Runs `f` on every file of `fuzz/corpus/TARGET/` and `fuzz/regressions/TARGET/`; returns
/// how many were replayed.
fn replay(target: &str, f: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let data = std::fs::read(&p).unwrap();
            let outcome = std::panic::catch_unwind(|| f(&data));
            assert!(outcome.is_ok(), "{} panicked", p.display());
            n += 1;
        }
    }
    n
}

#[test]
fn the_scenario_corpus_reads_without_panic() {
    assert!(replay("scenario", autoscale_sim::fuzzing::scenario) >= 10);
}

#[test]
fn the_trace_corpus_reads_without_panic() {
    assert!(replay("trace", autoscale_sim::fuzzing::trace) >= 8);
}

#[cfg(feature = "live")]
#[test]
fn the_plan_corpus_reads_without_panic() {
    assert!(replay("plan", autoscale_sim::fuzzing::plan) >= 3);
}

#[test]
fn the_results_corpus_reads_without_panic() {
    assert!(replay("results", autoscale_sim::fuzzing::results) >= 4);
}
