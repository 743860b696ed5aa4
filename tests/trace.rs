//! Recorded traces end to end: replay and `trace inspect/convert/generate` on the slices of real
//! traces in `traces/real/`, checked against independent computations; rescaling, windowing and
//! looping; and every class of bad input (exit status 2, file, line and column named).

mod support;

use autoscale_sim::error::InputError;
use autoscale_sim::rng;
use autoscale_sim::time::{SimDuration, SimTime};
use autoscale_sim::workload::{TraceEnd, TraceFormat, TraceSpec, trace};
use std::path::{Path, PathBuf};
use std::process::Output;
use support::{cli, stderr, stdout};

// The slices described in traces/real/README.md: the first 10 minutes of two Azure LLM
// inference traces, and 50 functions of the Azure Functions 2019 sample over 480 minutes.
const LLM_CODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/traces/real/azure-llm-code-10m.csv"
);
const LLM_CONV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/traces/real/azure-llm-conv-10m.csv"
);
const AZURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/traces/real/azure-functions-50.csv"
);
const S: u64 = 1_000_000_000;

// ---------------------------------------------------------------------------------------------
// Helpers

fn spec(path: impl AsRef<Path>, format: TraceFormat) -> TraceSpec {
    TraceSpec::new(path.as_ref().to_path_buf(), format)
}

/// Every arrival of a replay (seed 7, replication 0), up to `limit` simulated time.
fn replay_until(spec: &TraceSpec, limit: SimTime) -> Result<Vec<SimTime>, InputError> {
    let mut src = trace::open(spec, rng::stream(7, 0, rng::ARRIVALS))?;
    let mut all = Vec::new();
    let mut batch = Vec::new();
    loop {
        batch.clear();
        if src.fill(&mut batch, 1000)? == 0 {
            return Ok(all);
        }
        for &t in &batch {
            if t >= limit {
                return Ok(all);
            }
            all.push(t);
        }
    }
}

fn replay(spec: &TraceSpec) -> Vec<SimTime> {
    replay_until(spec, SimTime::MAX).expect("the trace replays")
}

fn sorted(v: &[SimTime]) -> bool {
    v.windows(2).all(|w| w[0] <= w[1])
}

/// A temporary folder holding `files` (name, content).
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The LLM trace's arrival times, parsed without the library: every row is
/// `2023-11-16 HH:MM:SS.fffffff,...` on the same day, so the time of day in 100 ns units is
/// plain arithmetic. Returned as nanoseconds from the first row.
fn llm_times(path: &str) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let stamp = line.split(',').next().unwrap();
        let (date, time) = stamp.split_once(' ').unwrap();
        assert_eq!(date, "2023-11-16");
        let (hms, frac) = time.split_once('.').unwrap();
        let p: Vec<u64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        let frac_ns: u64 = format!("{frac:0<9}").parse().unwrap();
        out.push((p[0] * 3600 + p[1] * 60 + p[2]) * S + frac_ns);
    }
    let t0 = out[0];
    out.iter().map(|t| t - t0).collect()
}

/// The Azure sample's per-minute sums over all rows (and over the first row only), and that
/// row's HashFunction, by splitting lines.
fn azure_sums() -> (Vec<u64>, Vec<u64>, String) {
    let text = std::fs::read_to_string(AZURE).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[4], "480");
    let mut all = vec![0u64; header.len() - 4];
    let mut first_row = Vec::new();
    let mut first_hash = String::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let counts: Vec<u64> = cells[4..].iter().map(|c| c.parse().unwrap()).collect();
        for (a, c) in all.iter_mut().zip(&counts) {
            *a += c;
        }
        if i == 0 {
            first_row = counts;
            first_hash = cells[2].to_string();
        }
    }
    (all, first_row, first_hash)
}

/// Parses `time_s,count` rows written by `trace convert`.
fn read_counts(path: &Path) -> Vec<(f64, Option<u64>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,count"));
    lines
        .map(|l| {
            let (t, c) = l.split_once(',').unwrap();
            (
                t.parse().unwrap(),
                (!c.is_empty()).then(|| c.parse().unwrap()),
            )
        })
        .collect()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("inspect --json prints JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------------------------
// Replay of the real traces

#[test]
fn llm_timestamps_replay_every_arrival_at_its_recorded_time() {
    for path in [LLM_CODE, LLM_CONV] {
        let expected = llm_times(path);
        let got: Vec<u64> = replay(&spec(path, TraceFormat::Timestamps))
            .iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(got.len(), expected.len(), "{path}");
        assert_eq!(got, expected, "{path}: times differ");
    }
}

#[test]
fn azure_replay_gives_exactly_each_minutes_count_inside_that_minute() {
    let (sums, _, _) = azure_sums();
    let got = replay(&spec(AZURE, TraceFormat::Azure));
    assert!(sorted(&got));
    assert_eq!(got.len() as u64, sums.iter().sum::<u64>());
    let mut per_minute = vec![0u64; sums.len()];
    for t in &got {
        per_minute[(t.0 / (60 * S)) as usize] += 1;
    }
    assert_eq!(per_minute, sums);
}

#[test]
fn azure_function_selects_one_row_and_an_unknown_hash_is_an_error() {
    let (_, row, hash) = azure_sums();
    let mut s = spec(AZURE, TraceFormat::Azure);
    s.function = Some(hash);
    let got = replay(&s);
    assert_eq!(got.len() as u64, row.iter().sum::<u64>());

    s.function = Some("no-such-function".to_string());
    let err = trace::open(&s, rng::stream(1, 0, rng::ARRIVALS))
        .err()
        .expect("an unknown function is an error");
    assert!(err.message.contains("no-such-function"), "{err}");
    assert_eq!(err.file.as_deref(), Some(Path::new(AZURE)));
}

#[test]
fn azure_minute_columns_are_found_in_any_layout() {
    // Minute labels 1..3 named minute_N, hash columns reordered, Trigger and HashOwner
    // missing, a minute missing (a gap), and columns out of label order.
    let dir = dir_with(&[(
        "day.csv",
        "minute_2,HashFunction,minute_1,HashApp,minute_4\n\
         5,f1,1,a,7\n\
         0,f2,2,a,1\n",
    )]);
    let path = dir.path().join("day.csv");
    let got = replay(&spec(&path, TraceFormat::Azure));
    let mut per_minute = [0u64; 4];
    for t in &got {
        per_minute[(t.0 / (60 * S)) as usize] += 1;
    }
    assert_eq!(per_minute, [3, 5, 0, 8]);
    let out = json(&cli(&[
        "trace",
        "inspect",
        path.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(out["format"], "azure");
    assert_eq!(out["gaps"], 1);
    assert_eq!(out["gap_s"], 60.0);
    assert_eq!(out["arrivals"], 16);
}

// ---------------------------------------------------------------------------------------------
// Convert

#[test]
fn convert_keeps_every_arrival_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("code.csv");
    let o = cli(&[
        "trace",
        "convert",
        LLM_CODE,
        "--format",
        "timestamps",
        "--out",
        out.to_str().unwrap(),
        "--bin",
        "10s",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let times = llm_times(LLM_CODE);
    let rows = read_counts(&out);
    let mut expected = vec![0u64; (times.last().unwrap() / (10 * S) + 1) as usize];
    for t in &times {
        expected[(t / (10 * S)) as usize] += 1;
    }
    let got: Vec<u64> = rows.iter().map(|r| r.1.unwrap()).collect();
    assert_eq!(got, expected);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.0, i as f64 * 10.0);
    }
    // Replayed back as counts: the same arrivals, each in its 10 s bin.
    let back = replay(&spec(&out, TraceFormat::Counts));
    assert_eq!(back.len(), times.len());
    let mut per_bin = vec![0u64; expected.len()];
    for t in &back {
        per_bin[(t.0 / (10 * S)) as usize] += 1;
    }
    assert_eq!(per_bin, expected);
}

#[test]
fn convert_azure_to_five_minute_counts_keeps_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("az.csv");
    // Format inferred from the header.
    let o = cli(&[
        "trace",
        "convert",
        AZURE,
        "--out",
        out.to_str().unwrap(),
        "--bin",
        "5m",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (sums, _, _) = azure_sums();
    let expected: Vec<u64> = sums.chunks(5).map(|c| c.iter().sum()).collect();
    let got: Vec<u64> = read_counts(&out).iter().map(|r| r.1.unwrap()).collect();
    assert_eq!(got, expected);
    // An unaligned bin (7 min) shares bins out but keeps the total exactly.
    let o = cli(&[
        "trace",
        "convert",
        AZURE,
        "--out",
        out.to_str().unwrap(),
        "--bin",
        "7m",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_counts(&out);
    assert_eq!(rows.len(), 480usize.div_ceil(7));
    assert_eq!(
        rows.iter().map(|r| r.1.unwrap()).sum::<u64>(),
        sums.iter().sum::<u64>()
    );
}

#[test]
fn convert_keeps_gaps_as_empty_counts() {
    let dir = dir_with(&[("c.csv", "time,count\n0,4\n10,\n20,6\n50,1\n")]);
    let out = dir.path().join("out.csv");
    let o = cli(&[
        "trace",
        "convert",
        dir.path().join("c.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text, "time_s,count\n0,4\n10,\n20,6\n30,\n40,\n50,1\n");
}

// ---------------------------------------------------------------------------------------------
// Inspect

#[test]
fn inspect_figures_match_an_independent_computation() {
    for path in [LLM_CODE, LLM_CONV] {
        let times = llm_times(path);
        let bin = 10 * S;
        let out = json(&cli(&["trace", "inspect", path, "--json", "--bin", "10s"]));
        let n = times.len();
        let span = *times.last().unwrap();
        assert_eq!(out["format"], "timestamps");
        assert_eq!(out["arrivals"], n as u64);
        assert_eq!(out["span_s"], span as f64 / 1e9);
        let mean = n as f64 / (span as f64 / 1e9);
        assert!(close(out["mean_rate_per_s"].as_f64().unwrap(), mean));
        assert!(close(
            out["mean_rate_per_min"].as_f64().unwrap(),
            mean * 60.0
        ));
        // Windows from time 0 up to the one holding the last arrival.
        let count_in = |w: u64| {
            let mut c = vec![0u64; (span / w + 1) as usize];
            for t in &times {
                c[(t / w) as usize] += 1;
            }
            c
        };
        let per_s = count_in(S);
        let per_min = count_in(60 * S);
        assert_eq!(out["peak_rate_per_s"], *per_s.iter().max().unwrap() as f64);
        assert_eq!(
            out["peak_rate_per_min"],
            *per_min.iter().max().unwrap() as f64
        );
        let bins = count_in(bin);
        assert_eq!(out["bins"], bins.len() as u64);
        assert_eq!(
            out["empty_bins"],
            bins.iter().filter(|&&c| c == 0).count() as u64
        );
        let m = bins.iter().sum::<u64>() as f64 / bins.len() as f64;
        let var =
            bins.iter().map(|&c| (c as f64 - m).powi(2)).sum::<f64>() / (bins.len() - 1) as f64;
        assert!(close(out["index_of_dispersion"].as_f64().unwrap(), var / m));
        let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let gm = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let gv = gaps.iter().map(|g| (g - gm).powi(2)).sum::<f64>() / (gaps.len() - 1) as f64;
        let cv = out["interarrival_cv"].as_f64().unwrap();
        assert!(
            (cv - gv.sqrt() / gm).abs() < 1e-9,
            "{cv} vs {}",
            gv.sqrt() / gm
        );
        let longest = gaps.iter().cloned().fold(0.0, f64::max) / 1e9;
        assert!(close(out["longest_gap_s"].as_f64().unwrap(), longest));
        assert_eq!(
            out["start"],
            if path == LLM_CODE {
                "2023-11-16T18:17:03.97996Z"
            } else {
                "2023-11-16T18:15:46.68059Z"
            }
        );
        let spark = out["sparkline"].as_str().unwrap().chars().count();
        assert!((30..=60).contains(&spark), "{spark}");
    }
    // The code trace is the bursty one, conv close to Poisson: over these 10 minutes their
    // inter-arrival CVs are 12.15 and 1.10 (sample standard deviation over mean of the gaps,
    // computed from the files by a separate script when the slices were cut).
    let code = json(&cli(&["trace", "inspect", LLM_CODE, "--json"]));
    let conv = json(&cli(&["trace", "inspect", LLM_CONV, "--json"]));
    assert!((12.14..12.16).contains(&code["interarrival_cv"].as_f64().unwrap()));
    assert!((1.09..1.11).contains(&conv["interarrival_cv"].as_f64().unwrap()));
}

#[test]
fn inspect_azure_matches_the_minute_sums() {
    let (sums, _, _) = azure_sums();
    let out = json(&cli(&["trace", "inspect", AZURE, "--json"]));
    let total: u64 = sums.iter().sum();
    assert_eq!(out["format"], "azure");
    assert_eq!(out["start"], "minute 480");
    assert_eq!(out["arrivals"], total);
    assert_eq!(out["span_s"], 480.0 * 60.0);
    assert_eq!(out["bins"], 480);
    assert_eq!(out["peak_rate_per_min"], *sums.iter().max().unwrap() as f64);
    assert!(close(
        out["peak_rate_per_s"].as_f64().unwrap(),
        *sums.iter().max().unwrap() as f64 / 60.0
    ));
    assert!(close(
        out["mean_rate_per_min"].as_f64().unwrap(),
        total as f64 / 480.0
    ));
    let m = total as f64 / 480.0;
    let var = sums.iter().map(|&c| (c as f64 - m).powi(2)).sum::<f64>() / 479.0;
    assert!(close(out["index_of_dispersion"].as_f64().unwrap(), var / m));
    assert_eq!(out["gaps"], 0);
    assert!(out["interarrival_cv"].is_null());
    // The figures of traces/real/README.md: 435 / 584 / 726 invocations per minute.
    assert_eq!(*sums.iter().min().unwrap(), 435);
    assert_eq!(*sums.iter().max().unwrap(), 726);
    assert_eq!((m.round()) as u64, 584);
    assert_eq!(total, 280_466);
}

#[test]
fn inspect_text_names_format_rates_and_sparkline() {
    let o = cli(&["trace", "inspect", LLM_CONV]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for needle in [
        "format              timestamps (inferred",
        "arrivals            2867",
        "mean rate",
        "peak rate",
        "index of dispersion",
        "inter-arrival CV",
        "rate                |",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rescaling, windows, loops

#[test]
fn scale_thins_and_adds_arrivals_within_the_binomial_interval() {
    let n = llm_times(LLM_CONV).len() as f64;
    let (sums, _, _) = azure_sums();
    let n_az = sums.iter().sum::<u64>() as f64;
    for scale in [0.3, 0.5, 1.7, 2.5, 3.0] {
        let frac: f64 = scale - f64::floor(scale);
        // floor(scale) N + Binomial(N, frac): sd sqrt(N frac (1 - frac)); allow 4 sd (+ 0 when
        // the scale is whole, where the count is exact).
        for (path, format, n) in [
            (LLM_CONV, TraceFormat::Timestamps, n),
            (AZURE, TraceFormat::Azure, n_az),
        ] {
            let mut s = spec(path, format);
            s.scale = scale;
            let got = replay(&s);
            assert!(sorted(&got));
            let sd = (n * frac * (1.0 - frac)).sqrt();
            let diff = (got.len() as f64 - scale * n).abs();
            assert!(
                diff <= 4.0 * sd,
                "{format:?} scale {scale}: {} arrivals, expected {} ± {}",
                got.len(),
                scale * n,
                4.0 * sd
            );
        }
    }
}

#[test]
fn copies_fall_between_an_arrival_and_the_next() {
    // Arrivals at 0, 10, 30 s; scale 3: each arrival plus 2 copies, copies of the arrival
    // at 0 in [0, 10), of 10 in [10, 30), of the last in [30, 30 + mean gap 15).
    let dir = dir_with(&[("t.csv", "0\n10\n30\n")]);
    let mut s = spec(dir.path().join("t.csv"), TraceFormat::Timestamps);
    s.scale = 3.0;
    let got = replay(&s);
    assert_eq!(got.len(), 9);
    assert_eq!(got[0], SimTime(0));
    assert!(got[1..3].iter().all(|t| t.0 < 10 * S));
    assert_eq!(got[3], SimTime(10 * S));
    assert!(got[4..6].iter().all(|t| t.0 >= 10 * S && t.0 < 30 * S));
    assert_eq!(got[6], SimTime(30 * S));
    assert!(got[7..9].iter().all(|t| t.0 >= 30 * S && t.0 < 45 * S));
}

#[test]
fn speedup_compresses_time_and_a_window_replays_part_of_the_trace() {
    let times = llm_times(LLM_CONV);
    let mut s = spec(LLM_CONV, TraceFormat::Timestamps);
    s.start = SimDuration::from_secs(120);
    s.duration = Some(SimDuration::from_secs(300));
    s.speedup = 3.0;
    let got = replay(&s);
    let expected: Vec<u64> = times
        .iter()
        .filter(|&&t| (120 * S..420 * S).contains(&t))
        .map(|&t| ((t - 120 * S) as f64 / 3.0).round() as u64)
        .collect();
    assert!(expected.len() > 1000, "{}", expected.len());
    assert_eq!(got.iter().map(|t| t.0).collect::<Vec<_>>(), expected);
    assert!(got.last().unwrap().0 < 100 * S);
}

#[test]
fn loop_repeats_the_trace_back_to_back() {
    // Counts: two 60 s bins, the next copy starts at the end of the last bin (120 s).
    let dir = dir_with(&[("c.csv", "0,3\n60,2\n"), ("t.csv", "0\n1\n3\n")]);
    let mut s = spec(dir.path().join("c.csv"), TraceFormat::Counts);
    s.on_end = TraceEnd::Loop;
    let got = replay_until(&s, SimTime(360 * S)).unwrap();
    assert_eq!(got.len(), 15);
    assert!(sorted(&got));
    for copy in 0..3u64 {
        let base = copy * 120 * S;
        let first = got
            .iter()
            .filter(|t| t.0 >= base && t.0 < base + 60 * S)
            .count();
        let second = got
            .iter()
            .filter(|t| t.0 >= base + 60 * S && t.0 < base + 120 * S)
            .count();
        assert_eq!((first, second), (3, 2), "copy {copy}");
    }
    // Timestamps 0, 1, 3: mean gap 1.5, so each copy lasts 4.5 s.
    let mut s = spec(dir.path().join("t.csv"), TraceFormat::Timestamps);
    s.on_end = TraceEnd::Loop;
    let got = replay_until(&s, SimTime(10 * S)).unwrap();
    let ms: Vec<u64> = got.iter().map(|t| t.0 / 1_000_000).collect();
    assert_eq!(ms, vec![0, 1000, 3000, 4500, 5500, 7500, 9000]);
    // With `duration`, a copy lasts exactly that.
    s.duration = Some(SimDuration::from_secs(2));
    let got = replay_until(&s, SimTime(7 * S)).unwrap();
    let ms: Vec<u64> = got.iter().map(|t| t.0 / 1_000_000).collect();
    assert_eq!(ms, vec![0, 1000, 2000, 3000, 4000, 5000, 6000]);
}

#[test]
fn stop_and_error_end_the_source_with_the_trace() {
    let dir = dir_with(&[("t.csv", "0\n1\n3\n")]);
    for end in [TraceEnd::Stop, TraceEnd::Error] {
        let mut s = spec(dir.path().join("t.csv"), TraceFormat::Timestamps);
        s.on_end = end;
        let mut src = trace::open(&s, rng::stream(1, 0, rng::ARRIVALS)).unwrap();
        let mut out = Vec::new();
        assert_eq!(src.fill(&mut out, 100).unwrap(), 3);
        assert_eq!(src.fill(&mut out, 100).unwrap(), 0);
        assert_eq!(src.fill(&mut out, 100).unwrap(), 0);
    }
}

#[test]
fn a_window_past_the_end_is_an_error() {
    let mut s = spec(LLM_CODE, TraceFormat::Timestamps);
    s.start = SimDuration::from_secs(100_000);
    let err = replay_until(&s, SimTime::MAX).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("start"));
    assert!(err.message.contains("100000 s"), "{err}");
}

#[test]
fn counts_bins_get_exactly_their_count_uniformly_and_deterministically() {
    // 200 bins of 10 s with 50 arrivals each: exactly 50 per bin; the position inside the bin
    // is uniform (mean 5 s, sd of the mean sqrt(100/12 / 10000) ≈ 0.029 s; allow 5 sd).
    let mut text = String::from("time_s,count\n");
    for i in 0..200 {
        text.push_str(&format!("{},50.0\n", i * 10));
    }
    let dir = dir_with(&[("c.csv", &text)]);
    let s = spec(dir.path().join("c.csv"), TraceFormat::Counts);
    let got = replay(&s);
    assert_eq!(got.len(), 10_000);
    assert!(sorted(&got));
    let mut per_bin = [0u32; 200];
    let mut offset_sum = 0.0;
    for t in &got {
        per_bin[(t.0 / (10 * S)) as usize] += 1;
        offset_sum += (t.0 % (10 * S)) as f64 / 1e9;
    }
    assert!(per_bin.iter().all(|&c| c == 50));
    let mean = offset_sum / 10_000.0;
    assert!(
        (mean - 5.0).abs() < 5.0 * (100.0f64 / 12.0 / 10_000.0).sqrt(),
        "{mean}"
    );
    // Same seed, same replay; another seed, another placement with the same counts.
    assert_eq!(replay(&s), got);
    let mut other = trace::open(&s, rng::stream(8, 0, rng::ARRIVALS)).unwrap();
    let mut v = Vec::new();
    while other.fill(&mut v, 4096).unwrap() > 0 {}
    assert_eq!(v.len(), got.len());
    assert_ne!(v, got);
}

#[test]
fn counts_accept_date_times_fractions_gaps_and_given_bins() {
    let dir = dir_with(&[(
        "c.csv",
        "\u{feff}when,n\r\n2024-03-01T00:00:00Z,2.4\r\n2024-03-01T00:01:00Z,\r\n2024-03-01T00:03:00Z,1.5\r\n",
    )]);
    let mut s = spec(dir.path().join("c.csv"), TraceFormat::Counts);
    let got = replay(&s);
    // 2.4 -> 2 in [0, 60), a gap, a missing minute, 1.5 -> 2 in [180, 240).
    assert_eq!(got.len(), 4);
    assert!(got[..2].iter().all(|t| t.0 < 60 * S));
    assert!(got[2..].iter().all(|t| t.0 >= 180 * S && t.0 < 240 * S));
    // A given bin of 30 s: the rows' bins cover only half of each minute.
    s.bin = Some(SimDuration::from_secs(30));
    let got = replay(&s);
    assert!(got[..2].iter().all(|t| t.0 < 30 * S));
    assert!(got[2..].iter().all(|t| t.0 >= 180 * S && t.0 < 210 * S));
}

#[test]
fn timestamps_accept_iso_forms_offsets_and_extra_columns() {
    let dir = dir_with(&[(
        "t.csv",
        "time,user\n2024-03-01T10:00:00Z,a\n2024-03-01T11:00:00.5+01:00,b\n2024-03-01 10:00:01.0000001,c\n",
    )]);
    let got = replay(&spec(dir.path().join("t.csv"), TraceFormat::Timestamps));
    assert_eq!(
        got.iter().map(|t| t.0).collect::<Vec<_>>(),
        vec![0, 500_000_000, 1_000_000_100]
    );
}

// ---------------------------------------------------------------------------------------------
// Access logs

const LOG: &str = "\
199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] \"GET /history/apollo/ HTTP/1.0\" 200 6245
unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] \"GET /shuttle/countdown/ HTTP/1.0\" 200 3985
this line is garbage
burger.letters.com - - [01/Jul/1995:00:00:04 -0400] \"GET /images/NASA-logosmall.gif HTTP/1.0\" 304 0

d104.aa.net - - [01/Jul/1995:06:00:13 +0200] \"GET /shuttle/countdown/ HTTP/1.0\" 200 3985
127.0.0.1 - frank [01/Jul/1995:04:00:20 +0000] \"GET /a.gif HTTP/1.0\" 200 2326 \"http://x/\" \"Mozilla/4.08 [en]\"
truncated.host - - [01/Jul/1995:00:00:2
";

#[test]
fn access_logs_reorder_convert_time_zones_and_skip_garbage() {
    let dir = dir_with(&[("access.log", LOG)]);
    let path = dir.path().join("access.log");
    let mut src = trace::open(
        &spec(&path, TraceFormat::Clf),
        rng::stream(1, 0, rng::ARRIVALS),
    )
    .unwrap();
    let mut got = Vec::new();
    while src.fill(&mut got, 100).unwrap() > 0 {}
    // 00:00:01, :04, :06, :13, :20 at -0400 (the +0200 and +0000 lines are the same instants
    // in other zones), in order although the log has them out of order.
    let secs: Vec<u64> = got.iter().map(|t| t.0 / S).collect();
    assert_eq!(secs, vec![0, 3, 5, 12, 19]);
    let notes = src.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("2 lines") && notes[0].contains("line 3"),
        "{notes:?}"
    );
    // inspect infers clf and reports the skipped lines; convert keeps every request.
    let out = json(&cli(&[
        "trace",
        "inspect",
        path.to_str().unwrap(),
        "--json",
        "--bin",
        "1s",
    ]));
    assert_eq!(out["format"], "clf");
    assert_eq!(out["arrivals"], 5);
    assert_eq!(out["skipped_lines"], 2);
    assert_eq!(out["first_skipped_line"], 3);
    assert_eq!(out["start"], "1995-07-01T04:00:01Z");
    let counts = dir.path().join("counts.csv");
    let o = cli(&[
        "trace",
        "convert",
        path.to_str().unwrap(),
        "--format",
        "clf",
        "--out",
        counts.to_str().unwrap(),
        "--bin",
        "10s",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 lines were not Common Log Format"),
        "{}",
        stderr(&o)
    );
    let rows = read_counts(&counts);
    assert_eq!(
        rows.iter().map(|r| r.1.unwrap()).collect::<Vec<_>>(),
        vec![3, 2]
    );
}

// ---------------------------------------------------------------------------------------------
// Generate and the sample traces

/// The sample traces, each with the scenario and options that made it.
const SAMPLES: [(&str, &str); 4] = [
    ("diurnal-web-day", "counts"),
    ("flash-crowd", "counts"),
    ("bursty-mmpp", "counts"),
    ("serverless-onoff", "timestamps"),
];

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn sample_traces_are_what_their_scenarios_generate() {
    let readme = std::fs::read_to_string(repo("traces/README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, kind) in SAMPLES {
        let out = dir.path().join(format!("{name}.csv"));
        let scenario = repo(&format!("traces/scenarios/{name}.toml"));
        let o = cli(&[
            "trace",
            "generate",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--as",
            kind,
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let committed = std::fs::read(repo(&format!("traces/{name}.csv"))).unwrap();
        assert!(
            std::fs::read(&out).unwrap() == committed,
            "traces/{name}.csv differs from what its scenario generates"
        );
        assert!(
            readme.contains(&format!("traces/scenarios/{name}.toml")),
            "traces/README.md has no line for {name}"
        );
    }
}

#[test]
fn generate_writes_the_scenario_arrivals_exactly() {
    use autoscale_sim::{scenario, workload};
    let path = repo("traces/scenarios/flash-crowd.toml");
    let sc = scenario::load(&path).unwrap();
    // The arrivals of replication 0, drawn directly.
    let mut src = workload::open(&sc.workload, rng::stream(sc.seed, 0, rng::ARRIVALS)).unwrap();
    let mut direct = Vec::new();
    let mut batch = Vec::new();
    'all: loop {
        batch.clear();
        if src.fill(&mut batch, 4096).unwrap() == 0 {
            break;
        }
        for &t in &batch {
            if t.0 >= sc.duration.0 {
                break 'all;
            }
            direct.push(t.0);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts.csv");
    let o = cli(&[
        "trace",
        "generate",
        path.to_str().unwrap(),
        "--out",
        ts.to_str().unwrap(),
        "--as",
        "timestamps",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Replayed, the timestamps are the same nanoseconds, from the first arrival.
    let back = replay(&spec(&ts, TraceFormat::Timestamps));
    let shifted: Vec<u64> = direct.iter().map(|t| t - direct[0]).collect();
    assert_eq!(back.iter().map(|t| t.0).collect::<Vec<_>>(), shifted);
    // As counts per 60 s.
    let counts = dir.path().join("c.csv");
    let o = cli(&[
        "trace",
        "generate",
        path.to_str().unwrap(),
        "--out",
        counts.to_str().unwrap(),
        "--bin",
        "1m",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_counts(&counts);
    assert_eq!(rows.len(), 120);
    let mut expected = vec![0u64; 120];
    for t in &direct {
        expected[(t / (60 * S)) as usize] += 1;
    }
    assert_eq!(
        rows.iter().map(|r| r.1.unwrap()).collect::<Vec<_>>(),
        expected
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit status 2, with the file, line and column

/// Runs `trace inspect` on a file holding `text` and returns its stderr, checking exit 2.
fn inspect_error(name: &str, text: &str, format: &str) -> String {
    let dir = dir_with(&[(name, text)]);
    let path = dir.path().join(name);
    let o = cli(&[
        "trace",
        "inspect",
        path.to_str().unwrap(),
        "--format",
        format,
    ]);
    assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    err
}

#[test]
fn malformed_rows_are_errors_naming_file_line_and_column() {
    let cases: [(&str, &str, &str, &[&str]); 9] = [
        (
            "counts",
            "time,count\n0,4\n60,abc\n",
            ":3:2: `column 2 (count)`",
            &["expected a count", "\"abc\""],
        ),
        (
            "counts",
            "0,4\n60,-3\n",
            ":2:2: `column 2`",
            &["not negative", "-3"],
        ),
        (
            "counts",
            "0,4\n60,5\n120,6,7\n",
            ":3:",
            &["expected 2 columns", "found 3"],
        ),
        (
            "counts",
            "0,4\n60,5\n30,6\n",
            ":3:1: `column 1`",
            &["out of order"],
        ),
        (
            "timestamps",
            "1.0\n2.0\nsoon\n",
            ":3:1: `column 1`",
            &["expected a time in seconds", "\"soon\""],
        ),
        (
            "timestamps",
            "TIMESTAMP,x\n2023-11-16 18:17:03.5,1\n2023-11-16 18:17:03.4,1\n",
            ":3:1: `column 1 (TIMESTAMP)`",
            &["out of order", "0.1 s earlier"],
        ),
        (
            "timestamps",
            "2023-11-16 18:17:03\n2023-11-31 00:00:00\n",
            ":2:1:",
            &["expected a date-time"],
        ),
        (
            "azure",
            "HashFunction,1,2\nf,1,2\ng,1\n",
            ":3:",
            &["expected 3 columns like the header, found 2"],
        ),
        (
            "azure",
            "HashFunction,1,2\nf,1,2\ng,1,x\n",
            ":3:3: `column 3 (2)`",
            &["expected a count"],
        ),
    ];
    for (format, text, location, words) in cases {
        let err = inspect_error("bad.csv", text, format);
        assert!(err.contains(location), "expected {location:?} in {err}");
        for w in words {
            assert!(err.contains(w), "expected {w:?} in {err}");
        }
    }
}

#[test]
fn empty_traces_are_errors() {
    for (format, text) in [
        ("counts", ""),
        ("counts", "time,count\n"),
        ("timestamps", "\n\n"),
        ("azure", "HashFunction,1,2\n"),
        ("clf", "garbage\nmore garbage\n"),
    ] {
        let err = inspect_error("empty.csv", text, format);
        assert!(err.contains("empty"), "{format}: {err}");
    }
    // Inferring the format of an empty file is the same error.
    let dir = dir_with(&[("e.csv", "")]);
    let o = cli(&[
        "trace",
        "inspect",
        dir.path().join("e.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty"));
}

#[test]
fn a_missing_file_names_its_absolute_path() {
    let o = cli(&[
        "trace",
        "inspect",
        "no/such/trace.csv",
        "--format",
        "counts",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let abs = std::env::current_dir().unwrap().join("no/such/trace.csv");
    assert!(stderr(&o).contains(abs.to_str().unwrap()), "{}", stderr(&o));
    // The same through the library, as a scenario's replay would meet it.
    let err = trace::open(
        &spec("no/such/trace.csv", TraceFormat::Timestamps),
        rng::stream(1, 0, rng::ARRIVALS),
    )
    .err()
    .unwrap();
    assert!(err.message.contains(abs.to_str().unwrap()), "{err}");
}

#[test]
fn errors_found_during_replay_are_located() {
    let dir = dir_with(&[("t.csv", "0\n1\n2\n1.5\n")]);
    let path = dir.path().join("t.csv");
    let err = replay_until(&spec(&path, TraceFormat::Timestamps), SimTime::MAX).unwrap_err();
    assert_eq!(err.file.as_deref(), Some(path.as_path()));
    assert_eq!((err.line, err.column), (Some(4), Some(1)));
    assert!(err.message.contains("out of order"));
}

#[test]
fn options_that_do_not_apply_are_refused() {
    let o = cli(&["trace", "inspect", LLM_CODE, "--function", "abc"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--function applies to the azure format only"));
    let o = cli(&["trace", "inspect", LLM_CODE, "--input-bin", "60s"]);
    assert_eq!(o.status.code(), Some(2));
    let o = cli(&["trace", "inspect", LLM_CODE, "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    let o = cli(&["trace", "inspect", LLM_CODE, "--bin", "0s"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_failed_convert_writes_nothing() {
    let dir = dir_with(&[("t.csv", "0\n1\nbad\n")]);
    let out = dir.path().join("out.csv");
    let o = cli(&[
        "trace",
        "convert",
        dir.path().join("t.csv").to_str().unwrap(),
        "--format",
        "timestamps",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
}

#[test]
fn a_scenario_trace_workload_replays_through_workload_open() {
    use autoscale_sim::{scenario, workload};
    let dir = dir_with(&[
        ("load.csv", "time_s,count\n0,5\n10,0\n20,7\n"),
        (
            "s.toml",
            "duration = \"1m\"\n[workload]\ntype = \"trace\"\npath = \"load.csv\"\nformat = \"counts\"\nscale = 2.0\nspeedup = 2.0\non_end = \"loop\"\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1\n",
        ),
    ]);
    let sc = scenario::load(&dir.path().join("s.toml")).unwrap();
    let mut src = workload::open(&sc.workload, rng::stream(sc.seed, 0, rng::ARRIVALS)).unwrap();
    let mut got = Vec::new();
    while got.len() < 96 {
        let want = 96 - got.len();
        src.fill(&mut got, want).unwrap();
    }
    // Scale 2 exactly doubles each bin; speedup 2 halves the 30 s trace to 15 s per copy.
    assert!(sorted(&got));
    for copy in 0..4u64 {
        let base = copy * 15 * S;
        let in_bin = |a: u64, b: u64| {
            got.iter()
                .filter(|t| t.0 >= base + a * S / 2 && t.0 < base + b * S / 2)
                .count()
        };
        assert_eq!((in_bin(0, 10), in_bin(10, 20), in_bin(20, 30)), (10, 0, 14));
    }
}

#[test]
fn a_log_line_later_than_the_reorder_buffer_is_replayed_late_not_lost() {
    // 70 000 lines one second apart, then a line from the first second: more than 65 536
    // lines late, so it is replayed at the latest time already replayed, and counted.
    let mut log = String::new();
    for i in 0..70_000u64 {
        log.push_str(&format!(
            "h - - [01/Jul/1995:{:02}:{:02}:{:02} -0400] \"GET / HTTP/1.0\" 200 1\n",
            i / 3600,
            i / 60 % 60,
            i % 60
        ));
    }
    log.push_str("late - - [01/Jul/1995:00:00:00 -0400] \"GET / HTTP/1.0\" 200 1\n");
    let dir = dir_with(&[("big.log", &log)]);
    let path = dir.path().join("big.log");
    let mut src = trace::open(
        &spec(&path, TraceFormat::Clf),
        rng::stream(1, 0, rng::ARRIVALS),
    )
    .unwrap();
    let mut got = Vec::new();
    while src.fill(&mut got, 4096).unwrap() > 0 {}
    assert_eq!(got.len(), 70_001);
    assert!(sorted(&got));
    let notes = src.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("1 line was more than 65536 lines out of time order"),
        "{notes:?}"
    );
    let out = json(&cli(&[
        "trace",
        "inspect",
        path.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(out["arrivals"], 70_001);
    assert_eq!(out["reordered_lines"], 1);
    assert_eq!(out["skipped_lines"], 0);
}
