//! Hostile and extreme input (issue 14, the input side): every case ends in exit status 2
//! with a message naming the key (or file and row), the value and what is accepted, before
//! anything large is allocated or run. Each test is named after what broke.

mod support;

use std::path::{Path, PathBuf};
use support::{cli as run, refused, stderr, write};

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("hostile", name)
}

/// A small scenario; `service`, `workload` and `extra` replace its parts.
fn scenario(workload: &str, service: &str, extra: &str) -> String {
    format!(
        "name = \"hostile\"\nseed = 3\nduration = \"10m\"\ninterval = \"60s\"\n{extra}\n\
         [workload]\n{workload}\n\n[service]\n{service}\n\n\
         [cluster]\nmax_replicas = 10\ninitial_replicas = 2\n\n\
         [[policy]]\nname = \"two\"\ntype = \"static\"\nreplicas = 2\n"
    )
}

const POISSON: &str = "type = \"poisson\"\nrate = 5.0";

/// Runs `run` on `text` (written to `dir/s.toml`) with `args` after it; asserts exit 2 and no
/// panic, and returns the message.
fn refused_run(name: &str, text: &str, args: &[&str]) -> String {
    let dir = temp_dir(name);
    let sc = write(&dir, "s.toml", text.as_bytes());
    let out = dir.join("out");
    let mut all = vec!["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let err = refused(name, &run(&all));
    assert!(
        !out.exists(),
        "{name}: nothing is written for refused input"
    );
    err
}

/// Runs `run` on `text` and asserts it succeeds.
fn accepted_run(name: &str, text: &str) {
    accepted_run_in(&temp_dir(name), text);
}

/// Runs `run` on `text` (written to `dir/s.toml`) and asserts it succeeds; returns the
/// results folder.
fn accepted_run_in(dir: &Path, text: &str) -> PathBuf {
    let sc = write(dir, "s.toml", text.as_bytes());
    let out = dir.join("out");
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}: {}", dir.display(), stderr(&o));
    out
}

mod distributions {
    use super::*;

    /// gamma with cv = 1e-300 has an infinite shape, and cv = 1e200 a zero one: both used to
    /// validate and then panic in the sampler ("validated gamma parameters: ScaleTooSmall").
    #[test]
    fn gamma_cv_out_of_range_is_refused_at_validation() {
        for cv in ["1e-300", "1e200"] {
            let service = format!("distribution = \"gamma\"\nmean = \"100ms\"\ncv = {cv}");
            let err = refused_run("gamma-cv", &scenario(POISSON, &service, ""), &[]);
            assert!(err.contains("s.toml:"), "{err}");
            assert!(err.contains("`service.cv`"), "{err}");
            assert!(
                err.contains("expected a coefficient of variation from 0.001 to 100, found"),
                "{err}"
            );
        }
    }

    #[test]
    fn lognormal_cv_out_of_range_is_refused_at_validation() {
        let service = "distribution = \"lognormal\"\nmean = \"100ms\"\ncv = 1e200";
        let err = refused_run("lognormal-cv", &scenario(POISSON, service, ""), &[]);
        assert!(
            err.contains(
                "`service.cv`: expected a coefficient of variation from 0.001 to 100, found 1e200"
            ),
            "{err}"
        );
    }

    /// The ends of the range are accepted and run, with a planner that builds the queueing
    /// model of the distribution too.
    #[test]
    fn cv_at_the_ends_of_the_range_runs() {
        for (dist, cv) in [
            ("gamma", "0.001"),
            ("gamma", "100"),
            ("lognormal", "0.001"),
            ("lognormal", "100"),
        ] {
            let service = format!("distribution = \"{dist}\"\nmean = \"100ms\"\ncv = {cv}");
            let text = scenario(POISSON, &service, "")
                + "\n[[policy]]\nname = \"oracle\"\ntype = \"oracle\"\n";
            accepted_run("cv-ends", &text);
        }
    }

    /// The serverless scenario's distributions are checked the same way.
    #[test]
    fn serverless_gamma_cv_is_refused() {
        let dir = temp_dir("faas-cv");
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/serverless-simfaas.toml"),
        )
        .unwrap();
        let bad = text.replacen(
            "distribution = \"exponential\"",
            "distribution = \"gamma\"\ncv = 1e-300",
            1,
        );
        assert_ne!(bad, text, "the example has an exponential distribution");
        let sc = write(&dir, "s.toml", bad.as_bytes());
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(
                ".cv`: expected a coefficient of variation from 0.001 to 100, found 1e-300"
            ),
            "{err}"
        );
    }

    #[cfg(feature = "live")]
    #[test]
    fn serve_gamma_cv_out_of_range_is_refused() {
        for cv in ["1e-300", "1e200"] {
            let o = run(&[
                "serve",
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--distribution",
                "gamma",
                "--cv",
                cv,
            ]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(
                err.contains("`--cv`: expected a coefficient of variation from 0.001 to 100"),
                "{err}"
            );
        }
    }
}

mod limits {
    use super::*;

    fn one(key_value: &str) -> String {
        scenario(
            POISSON,
            "distribution = \"exponential\"\nmean = \"100ms\"",
            key_value,
        )
    }

    /// `rate = 1e12` used to fill the front queue until the process died; it is now refused
    /// by the arrival estimate: 1e12/s × 600 s × 1 policy × 1 replication.
    #[test]
    fn a_rate_of_1e12_is_refused_by_the_arrival_estimate() {
        let text = scenario(
            "type = \"poisson\"\nrate = 1e12",
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        );
        let err = refused_run("rate-1e12", &text, &[]);
        assert!(
            err.contains("s.toml:8: `workload.rate`: the expected number of arrivals (mean rate × duration × policies × replications) is 600000000000000, above the limit of 1000000000; if that is intended, raise it with `[limits] arrivals = N` in the scenario or run with --allow-large"),
            "{err}"
        );
    }

    #[test]
    fn replications_beyond_the_limit_are_refused_in_the_file_and_on_the_command_line() {
        let err = refused_run("reps", &one("replications = 1000000000"), &[]);
        assert!(
            err.contains("`replications`: the number of runs (policies × replications) is 1000000000, above the limit of 100000"),
            "{err}"
        );
        let err = refused_run("reps-flag", &one(""), &["--replications", "4000000000"]);
        assert!(
            err.contains("`--replications`: the number of runs (policies × replications) is 4000000000, above the limit of 100000"),
            "{err}"
        );
    }

    #[test]
    fn validate_with_4e9_replications_is_refused() {
        let o = run(&["validate", "--replications", "4000000000"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`--replications`: the number of replications per case is 4000000000, above the limit of 10000; if that is intended, run with --allow-large"),
            "{err}"
        );
    }

    /// 100 years at the default 60 s interval: 52,596,000 timeline rows.
    #[test]
    fn a_century_of_timeline_rows_is_refused() {
        let text = one("")
            .replace("duration = \"10m\"", "duration = \"36525d\"")
            .replace("rate = 5.0", "rate = 0.0001");
        let err = refused_run("century", &text, &[]);
        assert!(
            err.contains("`interval`: the number of timeline rows (duration / interval × policies × replications) is 52596000, above the limit of 10000000"),
            "{err}"
        );
    }

    /// The oracle with max_replicas = 1e7 used to allocate 3.5 GB; dp with a horizon of a
    /// century 210 GB.
    #[test]
    fn planner_tables_and_container_counts_are_refused() {
        let text = one("").replace("max_replicas = 10", "max_replicas = 10000000")
            + "\n[[policy]]\nname = \"oracle\"\ntype = \"oracle\"\n";
        let err = refused_run("oracle", &text, &[]);
        assert!(
            err.contains("`cluster.max_replicas`: the number of containers a run may hold (`cluster.max_replicas`) is 10000000, above the limit of 1000000; if that is intended, raise it with `[limits] replicas = N`"),
            "{err}"
        );
        // 100 years / 20 s (dp's default step) = 157,788,000 steps × 10 replicas (1 to 10).
        let text = one("") + "\n[[policy]]\nname = \"dp\"\ntype = \"dp\"\nhorizon = \"36525d\"\n";
        let err = refused_run("dp", &text, &[]);
        assert!(
            err.contains("`policy.dp.horizon`: the size of the planner's table (planning steps × replica band, in cells) is 1577880000, above the limit of 20000000; if that is intended, raise it with `[limits] planner_cells = N`"),
            "{err}"
        );
    }

    /// 316 × 316 = 99,856 points, refused before one point is expanded.
    #[test]
    fn a_sweep_of_99856_points_is_refused_before_expanding() {
        let values: Vec<String> = (1..=316).map(|i| format!("\"{i}s\"")).collect();
        let list = values.join(", ");
        let text = one("")
            + &format!(
                "\n[sweep]\n\"cluster.startup\" = [{list}]\n\"cluster.shutdown\" = [{list}]\n"
            );
        let err = refused_run("sweep", &text, &[]);
        assert!(
            err.contains("`sweep`: the number of sweep points (the product of the lists' lengths) is 99856, above the limit of 10000; if that is intended, raise it with `[limits] sweep_points = N`"),
            "{err}"
        );
    }

    /// A `[limits]` table raises a limit; `--allow-large` lifts them all.
    #[test]
    fn limits_table_and_allow_large_let_a_large_run_through() {
        let text = one("replications = 3\n[limits]\nruns = 2");
        let err = refused_run("runs-2", &text, &[]);
        assert!(
            err.contains(
                "is 3, above the limit of 2; if that is intended, raise it with `[limits] runs = N`"
            ),
            "{err}"
        );
        let dir = temp_dir("allow");
        let sc = write(&dir, "s.toml", text.as_bytes());
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
            "--quiet",
            "--allow-large",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let bad = one("[limits]\nruns = 0");
        let err = refused_run("runs-0", &bad, &[]);
        assert!(
            err.contains("`limits.runs`: expected a limit of at least 1"),
            "{err}"
        );
        let unknown = one("[limits]\nrun = 5");
        let err = refused_run("runs-typo", &unknown, &[]);
        assert!(err.contains("unknown key `run`"), "{err}");
    }

    /// Periods of 1 ns made runs spin on their own clock.
    #[test]
    fn periods_below_one_millisecond_are_refused() {
        for (text, key) in [
            (
                one("").replace("interval = \"60s\"", "interval = \"1ns\""),
                "`interval`",
            ),
            (
                one("") + "\n[[policy]]\nname = \"k\"\ntype = \"kpa\"\ntick = \"1ns\"\n",
                "`policy.k.tick`",
            ),
            (
                one("") + "\n[[policy]]\nname = \"h\"\ntype = \"hpa\"\nsync_period = \"999us\"\n",
                "`policy.h.sync_period`",
            ),
            (
                one("")
                    + "\n[[policy]]\nname = \"h\"\ntype = \"hpa\"\nmetric_resolution = \"1ns\"\n",
                "`policy.h.metric_resolution`",
            ),
            (
                one("") + "\n[[policy]]\nname = \"t\"\ntype = \"threshold\"\nperiod = \"1ns\"\n",
                "`policy.t.period`",
            ),
            (
                scenario(
                    "type = \"mmpp\"\nrates = [1.0, 2.0]\nmean_durations = [\"1ns\", \"1s\"]",
                    "distribution = \"exponential\"\nmean = \"100ms\"",
                    "",
                ),
                "`workload.mean_durations`",
            ),
        ] {
            let err = refused_run("period", &text, &[]);
            assert!(err.contains(key), "{key}: {err}");
            assert!(err.contains("at least 1ms"), "{key}: {err}");
        }
        // Exactly 1 ms is accepted.
        accepted_run(
            "period-1ms",
            &(one("") + "\n[[policy]]\nname = \"k\"\ntype = \"kpa\"\ntick = \"1ms\"\n"),
        );
    }

    #[test]
    fn a_speedup_outside_its_range_or_a_looped_copy_shorter_than_1ms_is_refused() {
        let dir = temp_dir("speedup");
        write(&dir, "t.csv", b"time_s,count\n0,5\n60,7\n120,3\n");
        let trace = |extra: &str| {
            scenario(
                &format!("type = \"trace\"\npath = \"t.csv\"\nformat = \"counts\"\n{extra}"),
                "distribution = \"exponential\"\nmean = \"100ms\"",
                "",
            )
        };
        let go = |text: String| {
            let sc = write(&dir, "s.toml", text.as_bytes());
            let o = run(&[
                "run",
                sc.to_str().unwrap(),
                "--out",
                dir.join("out").to_str().unwrap(),
            ]);
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            stderr(&o)
        };
        let err = go(trace("loop = true\nspeedup = 1e300"));
        assert!(
            err.contains("`workload.speedup`: expected a speedup from 0.000001 to 1000000 (see docs/limits.md), found 1e300"),
            "{err}"
        );
        // Three bins of 60 s loop as 180 s of trace; at a speedup of 1e6 one copy is 0.18 ms.
        let err = go(trace("loop = true\nspeedup = 1e6"));
        assert!(
            err.contains("one replayed copy lasts 0.00018 s of simulated time (its length 180 s / speedup 1000000), less than 1ms"),
            "{err}"
        );
    }

    /// `trace convert --bin 1ns` of three rows would write 1.2e11 rows; it is refused before
    /// any row is written, and no file is left.
    #[test]
    fn trace_convert_to_too_many_rows_is_refused() {
        let dir = temp_dir("convert");
        let t = write(&dir, "t.csv", b"time_s,count\n0,5\n60,7\n120,3\n");
        let out = dir.join("c.csv");
        let o = run(&[
            "trace",
            "convert",
            t.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--bin",
            "1ns",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`--bin`: the output would have more than 100000000 rows"),
            "{err}"
        );
        assert!(!out.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no stray file");
    }

    #[test]
    fn trace_generate_refuses_an_unbounded_workload() {
        let dir = temp_dir("generate");
        let sc = write(
            &dir,
            "s.toml",
            scenario(
                "type = \"poisson\"\nrate = 1e12",
                "distribution = \"exponential\"\nmean = \"100ms\"",
                "",
            )
            .as_bytes(),
        );
        let out = dir.join("g.csv");
        let o = run(&[
            "trace",
            "generate",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`workload.rate`: the expected number of arrivals"),
            "{err}"
        );
        let o = run(&[
            "trace",
            "generate",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--bin",
            "1ms",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(!out.exists());
    }

    /// Overload is a result: 1,000 requests per second at 2 containers of 1 s each (2 per
    /// second) with a queue of 10 finishes, and almost every request is dropped.
    #[test]
    fn an_overloaded_cluster_finishes_and_counts_its_drops() {
        let dir = temp_dir("overload");
        let text = scenario(
            "type = \"poisson\"\nrate = 1000.0",
            "distribution = \"deterministic\"\nmean = \"1s\"",
            "",
        )
        .replace(
            "initial_replicas = 2",
            "initial_replicas = 2\nqueue_capacity = 10",
        );
        let sc = write(&dir, "s.toml", text.as_bytes());
        let out = dir.join("out");
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
        let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
        let col = |name: &str| -> u64 {
            row[header.iter().position(|h| *h == name).unwrap()]
                .parse()
                .unwrap()
        };
        // 2 slots × 600 s of 1 s service: at most 1,200 completions (minus the last ones).
        assert!(
            col("completed") <= 1200 && col("completed") >= 1190,
            "{summary}"
        );
        // Every arrival is completed, dropped or still held (2 in service + 10 queued).
        let held = col("requests") - col("completed") - col("dropped");
        assert!(held <= 12, "{summary}");
    }
}

mod sweeps {
    use super::*;

    /// `cluster.startup` set directly and through a `cluster` table: every point ran with one
    /// value but was labelled with the other.
    #[test]
    fn overlapping_sweep_keys_are_refused() {
        let text = scenario(
            POISSON,
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        ) + "\n[sweep]\n\"cluster\" = [{ startup = \"5s\" }, { startup = \"9s\" }]\n\"cluster.startup\" = [\"1s\", \"2s\"]\n";
        let err = refused_run("overlap", &text, &[]);
        assert!(
            err.contains("`sweep.cluster.startup`: \"cluster.startup\" overlaps \"cluster\", which sets the whole table it is in: sweep one or the other"),
            "{err}"
        );
    }

    /// Sweeping `seed` wrote two `seed` columns and then failed on its own output.
    #[test]
    fn sweeping_seed_is_refused() {
        let text = scenario(
            POISSON,
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        ) + "\n[sweep]\n\"seed\" = [1, 2]\n";
        let err = refused_run("seed", &text, &[]);
        assert!(
            err.contains(
                "`sweep.seed`: `seed` cannot be swept: every run already has its own seed"
            ),
            "{err}"
        );
    }
}

#[cfg(feature = "live")]
mod live {
    use super::*;

    /// `live --plan --dry-run` accepted a plan of 10^9 containers and `--speedup 1e-300`.
    #[test]
    fn huge_plans_and_extreme_speedups_are_refused_even_in_a_dry_run() {
        let dir = temp_dir("live");
        let plan = write(
            &dir,
            "plan.csv",
            b"time_s,replicas\n0,2\n60,1000000000\n120,3\n",
        );
        let o = run(&["live", "--plan", plan.to_str().unwrap(), "--dry-run"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`replicas`: the plan asks for 1000000000 containers (step 2 at 60 s), more than the limit of 256; if that is intended, raise it with --max-containers"),
            "{err}"
        );
        let o = run(&[
            "live",
            "--plan",
            plan.to_str().unwrap(),
            "--dry-run",
            "--max-containers",
            "1000000000",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let small = write(&dir, "small.csv", b"time_s,replicas\n0,2\n60,3\n");
        for speedup in ["1e-300", "1e300", "0.001"] {
            let o = run(&[
                "live",
                "--plan",
                small.to_str().unwrap(),
                "--dry-run",
                "--speedup",
                speedup,
            ]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(
                err.contains("`--speedup`: expected a speed-up from 0.01 to 1000"),
                "{err}"
            );
        }
    }
}

mod arithmetic {
    use super::*;

    /// Two bins of 2^53 used to be summed with wrap-around, and `trace inspect` printed a
    /// wrong total with exit 0; the sum is now refused at the row where it passes 2^53.
    #[test]
    fn counts_adding_up_past_2_pow_53_are_refused_at_their_row() {
        let dir = temp_dir("sum");
        let t = write(
            &dir,
            "t.csv",
            b"time_s,count\n0,9007199254740992\n60,1\n120,5\n",
        );
        let o = run(&[
            "trace",
            "inspect",
            t.to_str().unwrap(),
            "--format",
            "counts",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("t.csv:3:"), "{err}");
        assert!(
            err.contains(
                "the counts up to this row add up to more than 2^53 = 9007199254740992 arrivals"
            ),
            "{err}"
        );
        let azure = write(
            &dir,
            "a.csv",
            b"HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,9007199254740992,0\no,a,g,http,0,1\n",
        );
        let o = run(&[
            "trace",
            "inspect",
            azure.to_str().unwrap(),
            "--format",
            "azure",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("a.csv:3:"), "{err}");
    }

    #[test]
    fn a_scale_above_1000_is_refused() {
        let dir = temp_dir("scale");
        write(&dir, "t.csv", b"time_s,count\n0,5\n60,7\n");
        let text = scenario(
            "type = \"trace\"\npath = \"t.csv\"\nformat = \"counts\"\nscale = 1e9",
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        );
        let sc = write(&dir, "s.toml", text.as_bytes());
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`workload.scale`: expected a scale greater than 0 and at most 1000 (see docs/limits.md), found 1000000000"),
            "{err}"
        );
    }
}

mod messages {
    use super::*;

    /// `name = "a\u0000b"` exited 1 (the folder could not be made); it is bad input.
    #[test]
    fn a_name_with_a_nul_character_is_refused() {
        let text = scenario(
            POISSON,
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        )
        .replace("name = \"hostile\"", "name = \"a\\u0000b\"");
        let err = refused_run("nul", &text, &[]);
        assert!(
            err.contains("`name`: expected a name usable as a folder name, of at most 100 characters and without control characters, found \"a\\u{0}b\""),
            "{err}"
        );
    }

    /// A `+25:00` offset was accepted; an ANSI escape sequence in a field reached the
    /// terminal; a long field (10 MB then, 500 KB here: below the 1 MB line limit) was echoed
    /// whole.
    #[test]
    fn trace_fields_are_quoted_short_and_escaped_and_offsets_checked() {
        let dir = temp_dir("fields");
        let t = write(
            &dir,
            "t.csv",
            b"time\n2023-11-16T18:17:03+01:00\n2023-11-16T18:17:04+25:00\n",
        );
        let o = run(&[
            "trace",
            "inspect",
            t.to_str().unwrap(),
            "--format",
            "timestamps",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("t.csv:3:"), "{err}");
        let mut ansi = b"time_s\n0\n1\n\x1b[31mred".to_vec();
        ansi.extend(std::iter::repeat_n(b'x', 500_000));
        ansi.push(b'\n');
        let t = write(&dir, "ansi.csv", &ansi);
        let o = run(&[
            "trace",
            "inspect",
            t.to_str().unwrap(),
            "--format",
            "timestamps",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(!err.contains('\x1b'), "{err}");
        assert!(err.contains("\\u{1b}[31mred"), "{err}");
        assert!(err.len() < 1000, "{} bytes", err.len());
    }

    /// `--out` a folder exited 1 in `trace` but 2 in `plan`: both are bad input.
    #[test]
    fn out_a_folder_is_bad_input_in_trace_too() {
        let dir = temp_dir("out-dir");
        let t = write(&dir, "t.csv", b"time_s,count\n0,5\n60,7\n");
        let o = run(&[
            "trace",
            "convert",
            t.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`--out`: expected a file name for the output, found the folder"),
            "{err}"
        );
    }
}

mod line_length {
    use super::*;

    /// A 900 MB trace with no line break was read whole by `trace inspect`; every reader now
    /// stops at the first line longer than 1 MB, whatever the format.
    #[test]
    fn a_line_longer_than_1_mb_is_refused_by_every_reader() {
        let dir = temp_dir("long");
        let mut text = vec![b'7'; 3 << 20];
        text.push(b'\n');
        let t = write(&dir, "t.csv", &text);
        for format in ["timestamps", "counts", "clf", "azure"] {
            let o = run(&["trace", "inspect", t.to_str().unwrap(), "--format", format]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{format}: {err}");
            assert!(
                err.contains("t.csv:1: cannot read the trace: a line is longer than 1 MB"),
                "{format}: {err}"
            );
            assert!(err.len() < 1000, "{format}: {} bytes", err.len());
        }
    }
}

mod compressed {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn zstd(bytes: &[u8]) -> Vec<u8> {
        zstd::stream::encode_all(bytes, 3).unwrap()
    }

    /// `trace inspect --json` of `path`, without its `path` field.
    fn inspect_json(path: &Path, format: &str) -> serde_json::Value {
        let o = run(&[
            "trace",
            "inspect",
            path.to_str().unwrap(),
            "--format",
            format,
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_object_mut().unwrap().remove("path");
        v
    }

    /// Public traces ship as `.gz` or `.zst`: every reader decompresses them as it reads,
    /// told by the magic bytes, so a compressed file with any name reads exactly as the plain
    /// one.
    #[test]
    fn gzip_and_zstd_traces_read_exactly_as_the_plain_trace_whatever_their_name() {
        let dir = temp_dir("gz-traces");
        let cases: [(&str, &[u8]); 4] = [
            ("counts", b"time_s,count\n0,42\n60,40\n120,\n180,38.6\n"),
            ("timestamps", b"time_s\n0.5\n0.7\n1.25\n9\n"),
            (
                "azure",
                b"HashOwner,HashApp,HashFunction,Trigger,1,2,3\no,a,f,http,1,2,3\no,a,g,http,4,0,6\n",
            ),
            (
                "clf",
                b"h - - [01/Jul/1995:00:00:01 -0400] \"GET / HTTP/1.0\" 200 1\nh - - [01/Jul/1995:00:00:09 -0400] \"GET / HTTP/1.0\" 200 1\n",
            ),
        ];
        for (format, text) in cases {
            let plain = inspect_json(&write(&dir, &format!("{format}.csv"), text), format);
            for (name, bytes) in [
                (format!("{format}.csv.gz"), gzip(text)),
                (format!("{format}.zst"), zstd(text)),
                (format!("{format}-gzip.csv"), gzip(text)),
                (format!("{format}-zstd.txt"), zstd(text)),
            ] {
                let p = write(&dir, &name, &bytes);
                assert_eq!(inspect_json(&p, format), plain, "{name}");
            }
        }
        // Without --format, the format is detected on the decompressed lines, and a run
        // replays a compressed trace.
        let gz = write(&dir, "load.gz", &gzip(cases[0].1));
        let o = run(&["trace", "inspect", gz.to_str().unwrap()]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("format              counts"),
            "{}",
            stderr(&o)
        );
        let text = scenario(
            "type = \"trace\"\npath = \"load.gz\"\nformat = \"counts\"",
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        );
        accepted_run_in(&dir, &text);
    }

    /// A gzip scenario, plan or results file was echoed as raw bytes; each is now named for
    /// what it looks like, with exit 2, and the message is plain text.
    #[test]
    fn compressed_or_binary_files_where_text_is_expected_are_named_not_echoed() {
        let dir = temp_dir("binary-text");
        let toml = scenario(
            POISSON,
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "",
        );
        let clean = |err: &str| {
            assert!(
                !err.chars()
                    .any(|c| c.is_control() && c != '\n' || c == '\u{fffd}'),
                "{err:?}"
            );
        };
        for (name, bytes, looks) in [
            ("gz.toml", gzip(toml.as_bytes()), "gzip-compressed data"),
            ("zst.toml", zstd(toml.as_bytes()), "zstd-compressed data"),
            (
                "xz.toml",
                b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F".to_vec(),
                "xz-compressed data",
            ),
            (
                "nul.toml",
                toml.replace("seed = 3", "seed = 3\0\0").into_bytes(),
                "binary data (it holds NUL bytes)",
            ),
        ] {
            let sc = write(&dir, name, &bytes);
            let out = dir.join("out");
            for args in [
                vec!["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()],
                vec!["trace", "generate", sc.to_str().unwrap(), "--out", "-"],
            ] {
                let o = run(&args);
                let err = stderr(&o);
                assert_eq!(o.status.code(), Some(2), "{name}: {err}");
                assert!(
                    err.contains(name)
                        && err.contains(&format!(
                            "this file looks like {looks}, not text: expected a TOML scenario"
                        )),
                    "{name}: {err}"
                );
                clean(&err);
            }
        }
        // A trace that is neither text nor gzip/zstd, whatever its extension.
        let xz = write(
            &dir,
            "t.csv",
            b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F\x02\x00!\x01",
        );
        let o = run(&["trace", "inspect", xz.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("t.csv: this file looks like xz-compressed data, not a text trace"),
            "{err}"
        );
        clean(&err);
        // A .tar.gz: gzip that holds an archive, not a trace.
        let mut tar = vec![0u8; 2048];
        tar[..5].copy_from_slice(b"t.csv");
        tar[257..262].copy_from_slice(b"ustar");
        let tgz = write(&dir, "t.tar.gz", &gzip(&tar));
        let o = run(&["trace", "convert", tgz.to_str().unwrap(), "--out", "-"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("is gzip-compressed data that decompresses to a tar archive, not a text trace: extract the trace from it first"),
            "{err}"
        );
        clean(&err);
    }

    /// A results folder whose CSV was replaced by gzip is refused by `report` by name.
    #[test]
    fn a_compressed_results_csv_is_refused_by_report() {
        let dir = temp_dir("gz-results");
        let out = accepted_run_in(
            &dir,
            &scenario(
                POISSON,
                "distribution = \"exponential\"\nmean = \"100ms\"",
                "",
            ),
        );
        let csv = out.join("summary.csv");
        let gz = gzip(&std::fs::read(&csv).unwrap());
        // Padded to the size the manifest records, so only the content is wrong.
        let size = std::fs::metadata(&csv).unwrap().len() as usize;
        assert!(gz.len() <= size);
        let mut padded = gz.clone();
        padded.resize(size, 0);
        std::fs::write(&csv, &padded).unwrap();
        let o = run(&["report", out.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(
                "summary.csv: this file looks like gzip-compressed data, not a results CSV"
            ),
            "{err}"
        );
    }

    /// A decompression bomb: 200 MB of one line in a 200 KB gzip file is refused at its first
    /// line after 1 MB, never decompressed whole; a zstd trace whose counts pass 2^53 is
    /// refused at the row, as the plain one.
    #[test]
    fn the_line_and_count_limits_hold_on_the_decompressed_stream() {
        let dir = temp_dir("bomb");
        let bomb = gzip(&vec![b'7'; 200 << 20]);
        assert!(bomb.len() < 1 << 20);
        let t = write(&dir, "bomb.csv.gz", &bomb);
        for format in ["timestamps", "counts", "clf", "azure"] {
            let o = run(&["trace", "inspect", t.to_str().unwrap(), "--format", format]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{format}: {err}");
            assert!(
                err.contains("bomb.csv.gz:1: cannot read the trace: a line is longer than 1 MB"),
                "{format}: {err}"
            );
        }
        let sum = write(
            &dir,
            "sum.zst",
            &zstd(b"time_s,count\n0,9007199254740992\n60,1\n120,5\n"),
        );
        let o = run(&[
            "trace",
            "inspect",
            sum.to_str().unwrap(),
            "--format",
            "counts",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("sum.zst:3:"), "{err}");
        // A gzip file cut short is an error that says so, at the line it reached.
        let long: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let gz = gzip(&long);
        let cut = write(&dir, "cut.gz", &gz[..gz.len() / 2]);
        let o = run(&[
            "trace",
            "inspect",
            cut.to_str().unwrap(),
            "--format",
            "timestamps",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(
                "cannot decompress the gzip-compressed data (is the file truncated or corrupt?)"
            ),
            "{err}"
        );
    }
}

mod time_units {
    use super::*;

    const EPOCH_MS: &[u8] = b"time_ms\n1700158623979\n1700158624479\n1700158625979\n";

    /// Epoch milliseconds read as seconds used to be refused as "not a time" (or read as a
    /// header) with no hint: the message now names the column and line, and the unit they look
    /// like.
    #[test]
    fn epoch_milliseconds_get_a_hint_and_time_unit_reads_them() {
        let dir = temp_dir("epoch-ms");
        let t = write(&dir, "t.csv", EPOCH_MS);
        let hint = "t.csv:2:1: `column 1 (time_ms)`: found 1700158623979, which as a time in seconds is 53875 years from 0, beyond the simulator's clock (about 292 years): the times look like milliseconds since 1970; set `time_unit = \"ms\"`";
        let o = run(&["trace", "inspect", t.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(hint), "{err}");
        let workload = "type = \"trace\"\npath = \"t.csv\"\nformat = \"timestamps\"";
        let service = "distribution = \"exponential\"\nmean = \"100ms\"";
        let err = refused_run(
            "epoch-ms-s",
            &scenario(workload, service, "").replace("t.csv", t.to_str().unwrap()),
            &[],
        );
        assert!(err.contains(hint), "{err}");
        // Read in milliseconds: three arrivals over 2 s, from the command line and a scenario.
        let o = run(&[
            "trace",
            "inspect",
            t.to_str().unwrap(),
            "--time-unit",
            "ms",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["arrivals"], 3);
        assert_eq!(v["span_s"], 2.0);
        assert_eq!(v["start"], "1700158623.979 s");
        let ms = format!("{workload}\ntime_unit = \"ms\"");
        accepted_run(
            "epoch-ms-run",
            &scenario(&ms, service, "").replace("t.csv", t.to_str().unwrap()),
        );
        // Counts take it too: bins of 500 ms.
        let c = write(&dir, "c.csv", b"0,4\n500,5\n1000,6\n");
        let o = run(&[
            "trace",
            "inspect",
            c.to_str().unwrap(),
            "--format",
            "counts",
            "--time-unit",
            "ms",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["trace_bin_s"], 0.5);
        assert_eq!(v["span_s"], 1.5);
    }

    /// `time_unit` is refused where it would be ignored, and a unit that is not one is named.
    #[test]
    fn time_unit_is_refused_where_it_does_not_apply() {
        let dir = temp_dir("time-unit-bad");
        write(&dir, "t.csv", EPOCH_MS);
        write(
            &dir,
            "d.csv",
            b"time\n2023-11-16 18:17:03\n2023-11-16 18:17:04\n",
        );
        write(&dir, "a.csv", b"HashFunction,1,2\nf,1,2\n");
        let service = "distribution = \"exponential\"\nmean = \"100ms\"";
        for (workload, want) in [
            (
                "path = \"t.csv\"\nformat = \"timestamps\"\ntime_unit = \"sec\"",
                "`workload.time_unit`: expected \"s\", \"ms\", \"us\" or \"ns\", found \"sec\"",
            ),
            (
                "path = \"a.csv\"\nformat = \"azure\"\ntime_unit = \"ms\"",
                "`workload.time_unit`: `time_unit` applies to the \"timestamps\" and \"counts\" formats only",
            ),
            (
                "path = \"d.csv\"\nformat = \"timestamps\"\ntime_unit = \"ms\"",
                "found the date-time \"2023-11-16 18:17:03\", but `time_unit = \"ms\"` is for times written as numbers",
            ),
        ] {
            let text = scenario(&format!("type = \"trace\"\n{workload}"), service, "");
            let sc = write(&dir, "s.toml", text.as_bytes());
            let o = run(&[
                "run",
                sc.to_str().unwrap(),
                "--out",
                dir.join("out").to_str().unwrap(),
            ]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(err.contains(want), "{err}");
        }
        let o = run(&[
            "trace",
            "inspect",
            dir.join("a.csv").to_str().unwrap(),
            "--time-unit",
            "ms",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("--time-unit applies to the counts and timestamps formats only, and this trace is read as azure"),
            "{err}"
        );
    }
}

mod hostile_fields {
    use super::*;
    use std::process::Output;

    /// The three fields every kind of input is tried with: 10 MB of text (900 KB in a trace,
    /// below its 1 MB line bound), ANSI escape sequences, and NUL bytes. Each is written as a
    /// TOML string would hold it (`\u001b`) and as raw bytes.
    fn payloads() -> Vec<(&'static str, String, Vec<u8>)> {
        vec![
            ("10MB", "x".repeat(10 << 20), vec![b'x'; 10 << 20]),
            (
                "ansi",
                "\\u001b[2J\\u001b[31mred\\u001b[0m".to_string(),
                b"\x1b[2J\x1b[31mred\x1b[0m".to_vec(),
            ),
            (
                "nul",
                "a\\u0000b\\u0000".to_string(),
                b"a\x00b\x00".to_vec(),
            ),
        ]
    }

    /// What every message must be, whatever it quotes: exit 2, no panic, no control character
    /// but line breaks, and short.
    fn safe(what: &str, o: &Output) {
        let err = stderr(o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{what}: {}",
            &err[..err.len().min(2000)]
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(
            !err.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: {err:?}"
        );
        assert!(
            err.len() < 2000,
            "{what}: {} bytes: {}",
            err.len(),
            &err[..2000]
        );
    }

    fn run_scenario(dir: &Path, text: &str) -> Output {
        let sc = write(dir, "s.toml", text.as_bytes());
        run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ])
    }

    /// Scenario strings (a workload type, a trace format, a duration, a policy type, a
    /// policy name, the scenario name, a sweep value), each hostile.
    #[test]
    fn scenario_strings_are_quoted_short_and_escaped() {
        let dir = temp_dir("fields-scenario");
        let service = "distribution = \"exponential\"\nmean = \"100ms\"";
        for (what, toml, _) in payloads() {
            let cases = [
                scenario(&format!("type = \"{toml}\""), service, ""),
                scenario(
                    &format!("type = \"trace\"\npath = \"s.toml\"\nformat = \"{toml}\""),
                    service,
                    "",
                ),
                scenario(
                    POISSON,
                    &format!("distribution = \"{toml}\"\nmean = \"1s\""),
                    "",
                ),
                scenario(
                    POISSON,
                    &format!("distribution = \"exponential\"\nmean = \"{toml}\""),
                    "",
                ),
                scenario(POISSON, service, "")
                    .replace("type = \"static\"", &format!("type = \"{toml}\"")),
                scenario(POISSON, service, "")
                    .replace("name = \"two\"", &format!("name = \"{toml}\"")),
                scenario(POISSON, service, "")
                    .replace("name = \"hostile\"", &format!("name = \"{toml}\"")),
                scenario(POISSON, service, "")
                    + &format!("\n[sweep]\n\"workload.rate\" = [\"{toml}\"]\n"),
                scenario(POISSON, service, "") + &format!("\n[sweep]\n\"{toml}\" = [1]\n"),
                scenario(POISSON, service, &format!("\"{toml}\" = 1")),
            ];
            for (i, text) in cases.iter().enumerate() {
                safe(&format!("{what} case {i}"), &run_scenario(&dir, text));
            }
        }
    }

    /// Trace fields of each format, and `trace inspect` of each.
    #[test]
    fn trace_fields_are_quoted_short_and_escaped() {
        let dir = temp_dir("fields-trace");
        for (what, _, raw) in payloads() {
            // Below the 1 MB line bound, so that the field itself is read.
            let raw = &raw[..raw.len().min(900_000)];
            for (format, before, after) in [
                ("timestamps", &b"time_s\n0\n1\n"[..], &b"\n"[..]),
                ("counts", b"time_s,count\n0,1\n60,", b"\n"),
                ("counts", b"time_s,count\n0,1\n", b",4\n"),
                ("azure", b"HashFunction,1,2\nf,1,", b"\n"),
            ] {
                let t = write(&dir, "t.csv", &[before, raw, after].concat());
                let o = run(&["trace", "inspect", t.to_str().unwrap(), "--format", format]);
                safe(&format!("{what} {format} {}", before.len()), &o);
            }
            let o = run(&[
                "trace",
                "inspect",
                dir.join("t.csv").to_str().unwrap(),
                "--format",
                "azure",
                "--function",
                "nope",
            ]);
            safe(&format!("{what} azure function"), &o);
        }
    }

    /// A results folder whose CSV holds a hostile value (the manifest's sizes kept right,
    /// so the value itself is read) and whose manifest lists a hostile or outside path.
    #[test]
    fn results_values_and_manifest_paths_are_quoted_short_and_escaped() {
        let dir = temp_dir("fields-results");
        let out = accepted_run_in(
            &dir,
            &scenario(
                POISSON,
                "distribution = \"exponential\"\nmean = \"100ms\"",
                "",
            ),
        );
        let csv = out.join("summary.csv");
        let good = std::fs::read_to_string(&csv).unwrap();
        let manifest = std::fs::read_to_string(out.join("run.json")).unwrap();
        for (what, _, raw) in payloads() {
            // The last field of the first data row replaced.
            let mut lines: Vec<&str> = good.lines().collect();
            let row = lines[1].rsplit_once(',').unwrap().0.to_string();
            let hostile = [row.as_bytes(), b",", &raw].concat();
            let text = String::from_utf8_lossy(&hostile).into_owned();
            lines[1] = &text;
            let bytes = (lines.join("\n") + "\n").into_bytes();
            std::fs::write(&csv, &bytes).unwrap();
            let mut m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
            for f in m["files"].as_array_mut().unwrap() {
                if f["path"] == "summary.csv" {
                    f["bytes"] = bytes.len().into();
                }
            }
            std::fs::write(out.join("run.json"), m.to_string()).unwrap();
            safe(
                &format!("{what} summary.csv"),
                &run(&["report", out.to_str().unwrap()]),
            );
            // A file name in the manifest.
            let mut m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
            m["files"][0]["path"] = String::from_utf8_lossy(&raw).into_owned().into();
            std::fs::write(out.join("run.json"), m.to_string()).unwrap();
            safe(
                &format!("{what} run.json"),
                &run(&["report", out.to_str().unwrap()]),
            );
        }
        std::fs::write(&csv, &good).unwrap();
        let mut m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        m["files"][0]["path"] = "../../etc/passwd".into();
        std::fs::write(out.join("run.json"), m.to_string()).unwrap();
        let o = run(&["report", out.to_str().unwrap()]);
        safe("outside path", &o);
        assert!(
            stderr(&o)
                .contains("lists the file \"../../etc/passwd\", which is not inside the folder"),
            "{}",
            stderr(&o)
        );
    }

    /// A live plan with a hostile field (read by `live --plan --dry-run`, which needs no
    /// engine).
    #[cfg(feature = "live")]
    #[test]
    fn plan_fields_are_quoted_short_and_escaped() {
        let dir = temp_dir("fields-plan");
        for (what, _, raw) in payloads() {
            for (before, after) in [
                (&b"time_s,replicas\n0,"[..], &b"\n"[..]),
                (b"time_s,replicas\n", b",2\n"),
            ] {
                let p = write(&dir, "plan.csv", &[before, &raw, after].concat());
                let o = run(&["live", "--plan", p.to_str().unwrap(), "--dry-run"]);
                safe(&format!("{what} plan"), &o);
            }
        }
    }
}

mod trace_estimates {
    use super::*;

    const SERVICE: &str = "distribution = \"exponential\"\nmean = \"100ms\"";

    /// A trace bin of 1e15 arrivals, or a small trace looped at a speedup of a million, used
    /// to be found only while replaying; the arrivals are now estimated from the trace before
    /// the run and refused under `[limits] arrivals`.
    #[test]
    fn absurd_trace_arrivals_are_refused_before_the_run() {
        let dir = temp_dir("trace-estimate");
        write(
            &dir,
            "huge.csv",
            b"time_s,count\n0,1000000000000000\n60,0\n",
        );
        let text = scenario(
            "type = \"trace\"\npath = \"huge.csv\"\nformat = \"counts\"",
            SERVICE,
            "",
        );
        let sc = write(&dir, "s.toml", text.as_bytes());
        let out = dir.join("out");
        let o = run(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`workload.scale`: the expected number of arrivals (the trace's rate × scale × speedup × duration × policies × replications) is 1e15, above the limit of 1000000000; if that is intended, raise it with `[limits] arrivals = N` in the scenario or run with --allow-large"),
            "{err}"
        );
        assert!(!out.exists());
        // 100,001 arrivals over 10 s, looped 10,000 times faster (each copy lasts 1 ms).
        let rows: String = (0..=100_000)
            .map(|i| format!("{}.{:04}\n", i / 10_000, i % 10_000))
            .collect();
        write(&dir, "dense.csv", format!("time_s\n{rows}").as_bytes());
        let looped = scenario(
            "type = \"trace\"\npath = \"dense.csv\"\nformat = \"timestamps\"\nloop = true\nspeedup = 10000",
            SERVICE,
            "",
        );
        let sc = write(&dir, "s.toml", looped.as_bytes());
        let o = run(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        // 10,000.1 arrivals a second, 10,000 times faster, for 600 s.
        assert!(
            err.contains("is 60000600000, above the limit of 1000000000"),
            "{err}"
        );
    }

    /// `[limits] arrivals` lowers and raises the limit for traces as for any workload.
    #[test]
    fn the_limits_table_applies_to_trace_estimates() {
        let dir = temp_dir("trace-estimate-limits");
        write(&dir, "t.csv", b"time_s,count\n0,2000\n60,2000\n");
        let workload = "type = \"trace\"\npath = \"t.csv\"\nformat = \"counts\"\nloop = true";
        // 4000 arrivals per 120 s, looped over 600 s: 20,000.
        let low = scenario(workload, SERVICE, "[limits]\narrivals = 19999");
        let sc = write(&dir, "s.toml", low.as_bytes());
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("is 20000, above the limit of 19999"), "{err}");
        // The replay reads a batch ahead of the run's end: a margin above the estimate.
        accepted_run_in(
            &dir,
            &scenario(workload, SERVICE, "[limits]\narrivals = 25000"),
        );
    }
}

mod serverless_limits {
    use super::*;

    /// A small serverless scenario; `extra` goes at the top, `workload` and `platform` replace
    /// their tables' bodies.
    fn faas(extra: &str, workload: &str, platform: &str) -> String {
        format!(
            "name = \"faas\"\nseed = 1\nduration = \"1h\"\n{extra}\n\n[workload]\n{workload}\n\n\
             [service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\n\
             [platform]\ntype = \"per_request\"\n{platform}\n\
             cold_start = {{ distribution = \"exponential\", mean = \"500ms\" }}\n\n\
             [[policy]]\nname = \"ka\"\ntype = \"keep_alive_fixed\"\nkeep_alive = \"10m\"\n"
        )
    }

    const POISSON_1: &str = "type = \"poisson\"\nrate = 1.0";

    /// A serverless scenario had no resource guard: 1e9 replications, a 1 ms interval over a
    /// century, 4e9 instances or a rate of 1e12 ran out of memory or never finished.
    #[test]
    fn serverless_scenarios_are_refused_by_the_same_limits() {
        for (extra, workload, platform, args, want) in [
            (
                "replications = 200000",
                POISSON_1,
                "",
                &[][..],
                "s.toml:4: `replications`: the number of runs (policies × replications) is 200000, above the limit of 100000",
            ),
            (
                "",
                POISSON_1,
                "",
                &["--replications", "200000"][..],
                "`--replications`: the number of runs (policies × replications) is 200000, above the limit of 100000",
            ),
            (
                "interval = \"1ms\"\nduration = \"5h\"",
                POISSON_1,
                "",
                &[][..],
                "`interval`: the number of timeline rows (duration / interval × policies × replications) is 18000000, above the limit of 10000000",
            ),
            (
                "",
                POISSON_1,
                "max_instances = 4000000000",
                &[][..],
                "`platform.max_instances`: the number of instances a function may hold (`platform.max_instances`) is 4000000000, above the limit of 1000000",
            ),
            (
                "",
                "type = \"poisson\"\nrate = 1e12",
                "",
                &[][..],
                "`workload.rate`: the expected number of invocations (the workload's or the trace's rate × duration × policies × replications) is 3.6e15, above the limit of 1000000000",
            ),
        ] {
            let text =
                faas(extra, workload, platform).replace("duration = \"1h\"\ninterval", "interval");
            let err = refused_run("faas-limits", &text, args);
            assert!(err.contains(want), "{want}\n{err}");
            assert!(err.contains("raise it with `[limits]"), "{err}");
        }
    }

    /// `[limits]` raises them and `--allow-large` lifts them, as for any scenario.
    #[test]
    fn limits_and_allow_large_let_a_serverless_run_through() {
        let text = faas("replications = 3\n[limits]\nruns = 2", POISSON_1, "");
        let err = refused_run("faas-limits-low", &text, &[]);
        assert!(err.contains("is 3, above the limit of 2"), "{err}");
        let dir = temp_dir("faas-allow-large");
        let sc = write(&dir, "s.toml", text.as_bytes());
        let o = run(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
            "--quiet",
            "--allow-large",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        accepted_run("faas-limits-high", &text.replace("runs = 2", "runs = 3"));
    }
}

/// `run /dev/zero` once read until memory ran out, and a FIFO no one writes to hung the reader:
/// every input file must be a regular file of sane size, told before it is opened or read.
#[test]
fn devices_fifos_and_huge_files_are_refused_before_they_are_read() {
    let dir = temp_dir("special-inputs");
    let err = refused("/dev/zero", &run(&["run", "/dev/zero"]));
    assert!(err.contains("not a regular file"), "{err}");
    let fifo = dir.join("scenario.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let err = refused("a FIFO", &run(&["run", fifo.to_str().unwrap()]));
    assert!(err.contains("not a regular file"), "{err}");
    let err = refused(
        "a FIFO plan",
        &run(&["live", "--plan", fifo.to_str().unwrap(), "--dry-run"]),
    );
    assert!(err.contains("not a regular file"), "{err}");
    // A sparse file of 65 MiB: larger than any scenario, and cheap to make.
    let huge = dir.join("huge.toml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let err = refused("a 65 MiB scenario", &run(&["run", huge.to_str().unwrap()]));
    assert!(err.contains("more than 64 MiB"), "{err}");
}
