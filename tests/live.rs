//! Live mode as users run it: `serve` on 127.0.0.1, and `live` against the machine's Docker
//! engine. The `serve` tests, the dry run and the errors for a missing engine or a bad plan
//! run everywhere. The tests that need an engine (module `engine` and the plans run on it)
//! run when one answers; without one each prints one line saying it is skipped and why, and
//! passes, except under `AUTOSCALE_SIM_REQUIRE=docker` (set by `.ci/run`), where it fails.

#![cfg(feature = "live")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");

/// Sends `signal` (a name such as `TERM`) to a child process.
fn signal(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{signal} failed");
}

/// One HTTP/1.0 GET on a fresh connection; returns the whole response.
fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("response");
    out
}

mod serve {
    use super::*;

    /// `serve --port 0` prints its address, serves, and on SIGTERM drains and exits 0.
    #[test]
    fn serves_and_exits_on_sigterm() {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--distribution",
                "deterministic",
                "--service-mean",
                "20ms",
                "--concurrency",
                "3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("a first line");
        assert!(first.starts_with("serving on http://127.0.0.1:"), "{first}");
        let addr = first
            .trim_start_matches("serving on http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let r = http_get(&addr, "/");
        assert!(
            r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200"),
            "{r}"
        );
        assert!(r.contains("x-service-ns: 20000000"), "{r}");
        let m = http_get(&addr, "/metrics");
        assert!(m.contains("autoscale_sim_served_total 1\n"), "{m}");
        assert!(m.contains("autoscale_sim_concurrency 3\n"), "{m}");
        signal(&child, "TERM");
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "{status}: {err}");
        assert!(err.contains("SIGTERM: draining"), "{err}");
        assert!(err.contains("served 1 of 1 requests"), "{err}");
    }

    #[test]
    fn bad_options_exit_2() {
        for (args, needle) in [
            (vec!["--distribution", "lognormal"], "--cv"),
            (vec!["--service-mean", "fast"], "--service-mean"),
            (vec!["--concurrency", "0"], "--concurrency"),
        ] {
            let out = Command::new(BIN).arg("serve").args(&args).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
}

/// With no engine at DOCKER_HOST, `live image` exits 1 and says so.
#[test]
fn no_engine_is_a_failure_that_says_so() {
    let out = Command::new(BIN)
        .args(["live", "image"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Docker engine"), "{err}");
    assert!(err.contains("/nonexistent/docker.sock"), "{err}");
}

/// Tests against the machine's Docker engine.
mod engine {
    use super::*;
    use autoscale_sim::live::client;
    use autoscale_sim::live::docker::{Engine, LABEL_MANAGED, LABEL_RUN};
    use std::collections::HashMap;
    use std::sync::OnceLock;

    pub const IMAGE: &str = "autoscale-sim-workload:latest";

    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// The engine, or `None` when there is none: the test then says in one line that it is
    /// skipped and why, or fails under `AUTOSCALE_SIM_REQUIRE=docker` (as in CI, whose
    /// machines have an engine).
    pub fn engine() -> Option<Engine> {
        match runtime().block_on(Engine::connect()) {
            Ok(e) => Some(e),
            Err(e) => {
                crate::support::unavailable("docker", &e.to_string());
                None
            }
        }
    }

    /// Builds the workload image once per test run, with `live image` (from the binary under
    /// test, so the build is quick).
    pub fn image() {
        static BUILT: OnceLock<Result<String, String>> = OnceLock::new();
        let r = BUILT.get_or_init(|| {
            let out = Command::new(BIN).args(["live", "image"]).output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if out.status.success() {
                Ok(text)
            } else {
                Err(text)
            }
        });
        if let Err(e) = r {
            panic!("live image failed: {e}");
        }
    }

    /// Docker tests run one at a time: they start containers and measure timing, and the
    /// machine has two cores.
    pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOCK.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A `live` command running in the background, its standard error read line by line.
    pub struct LiveRun {
        pub child: Child,
        lines: std::sync::mpsc::Receiver<(std::time::Instant, String)>,
        pub seen: Vec<String>,
    }

    impl LiveRun {
        pub fn start(args: &[&str]) -> LiveRun {
            let mut child = Command::new(BIN)
                .arg("live")
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("live starts");
            let (tx, rx) = std::sync::mpsc::channel();
            let err = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let _ = tx.send((std::time::Instant::now(), line));
                }
            });
            LiveRun {
                child,
                lines: rx,
                seen: Vec::new(),
            }
        }

        /// Waits (at most `limit`) for a line of standard error that starts with `prefix`;
        /// returns when it was printed.
        pub fn wait_for(&mut self, prefix: &str, limit: Duration) -> std::time::Instant {
            let until = std::time::Instant::now() + limit;
            loop {
                let left = until.saturating_duration_since(std::time::Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok((t, line)) => {
                        let hit = line.starts_with(prefix);
                        self.seen.push(line);
                        if hit {
                            return t;
                        }
                    }
                    Err(_) => panic!(
                        "no line starting with {prefix:?} within {limit:?}; standard error so far:\n{}",
                        self.seen.join("\n")
                    ),
                }
            }
        }

        /// Waits for the command to end; returns its exit code, standard output and the rest
        /// of its standard error.
        pub fn finish(mut self) -> (Option<i32>, String, String) {
            let mut out = String::new();
            self.child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            let status = self.child.wait().unwrap();
            while let Ok((_, line)) = self.lines.recv_timeout(Duration::from_secs(2)) {
                self.seen.push(line);
            }
            (status.code(), out, self.seen.join("\n"))
        }
    }

    impl Drop for LiveRun {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Running containers of a run.
    pub fn running(engine: &Engine, run: &str) -> Vec<String> {
        runtime()
            .block_on(engine.containers_labelled(LABEL_RUN, run))
            .unwrap()
            .into_iter()
            .filter(|c| c.state == "running")
            .map(|c| c.name)
            .collect()
    }

    pub fn write_plan(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("autoscale-sim-live-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A run id unique to this test process and name.
    pub fn run_id(name: &str) -> String {
        format!("test-{}-{name}", std::process::id())
    }

    /// Removes every container of a run when dropped, so a failing test leaves nothing.
    pub struct Cleanup(pub String);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Ok(e) = runtime().block_on(Engine::connect()) {
                let _ = runtime().block_on(e.remove_run(&self.0));
            }
        }
    }

    /// `live image` builds the image from nothing but the binary; a container of it serves
    /// on its published 127.0.0.1 port and is removed with its run.
    #[test]
    fn image_builds_and_its_container_serves() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        let run = run_id("image");
        let _cleanup = Cleanup(run.clone());
        runtime().block_on(async {
            assert!(engine.image_id(IMAGE).await.unwrap().is_some());
            let mut labels = HashMap::new();
            labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
            labels.insert(LABEL_RUN.to_string(), run.clone());
            let cmd = [
                "--port",
                "8080",
                "--distribution",
                "deterministic",
                "--service-mean",
                "5ms",
            ]
            .map(String::from)
            .to_vec();
            let c = engine
                .start_container(&format!("{run}-0"), IMAGE, cmd, labels)
                .await
                .expect("container starts");
            let http = client::new_client();
            let base = format!("http://127.0.0.1:{}", c.host_port);
            let mut healthy = false;
            for _ in 0..100 {
                if let Ok(r) = client::get(&http, &format!("{base}/healthz")).await
                    && r.status == 200
                {
                    healthy = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(healthy, "the container never answered /healthz");
            let r = client::get(&http, &format!("{base}/"))
                .await
                .expect("served");
            assert_eq!(r.status, 200);
            assert_eq!(r.headers["x-service-ns"], "5000000");
            let listed = engine.containers_labelled(LABEL_RUN, &run).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].state, "running");
            assert_eq!(listed[0].host_port, Some(c.host_port));
            assert_eq!(engine.remove_run(&run).await.unwrap(), 1);
            assert!(
                engine
                    .containers_labelled(LABEL_RUN, &run)
                    .await
                    .unwrap()
                    .is_empty()
            );
        });
    }
}

/// `live --plan` against the engine.
mod plan {
    use super::engine::*;
    use super::*;
    use autoscale_sim::live::docker::{LABEL_MANAGED, LABEL_RUN};
    use std::collections::HashMap;

    /// A plan of three steps (1, 3, 2 containers, 6 s each at speed-up 1): at the middle of
    /// each step the engine runs exactly the plan's count of the run's containers; the step
    /// table reports every step reached on time; nothing is left at the end.
    #[test]
    fn container_count_follows_the_plan_step_by_step() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        let run = run_id("steps");
        let _cleanup = Cleanup(run.clone());
        let plan = write_plan("steps.csv", "time_s,replicas\n0,1\n6,3\n12,2\n");
        let mut live = LiveRun::start(&["--plan", plan.to_str().unwrap(), "--run-id", &run]);
        let t0 = live.wait_for("[plan      0.0 s", Duration::from_secs(60));
        for (mid, expected) in [(3.0, 1), (9.0, 3), (15.0, 2)] {
            let at = t0 + Duration::from_secs_f64(mid);
            std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
            let names = running(&engine, &run);
            assert_eq!(names.len(), expected, "at plan time {mid} s: {names:?}");
        }
        let (code, out, err) = live.finish();
        assert_eq!(code, Some(0), "{out}\n{err}");
        let rows: Vec<Vec<&str>> = out
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("time_s"))
            .skip(1)
            .take_while(|l| !l.starts_with("created"))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(rows.len(), 3, "{out}");
        for (row, planned) in rows.iter().zip(["1", "3", "2"]) {
            assert_eq!(row[1], planned, "{out}");
            let lag: f64 = row[3].parse().unwrap_or_else(|_| panic!("{out}"));
            assert!(lag < 0.5, "step reached {lag} s late: {out}");
            assert_eq!((row[4], row[5]), (planned, planned), "{out}");
        }
        assert!(out.contains("created 3 container(s), replaced 0"), "{out}");
        assert!(running(&engine, &run).is_empty());
        assert!(
            runtime()
                .block_on(engine.containers_labelled(LABEL_RUN, &run))
                .unwrap()
                .is_empty()
        );
    }

    fn interrupted_leaves_nothing(sig: &str) {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        let run = run_id(&format!("sig{sig}"));
        let _cleanup = Cleanup(run.clone());
        let plan = write_plan(&format!("{sig}.csv"), "time_s,replicas\n0,3\n300,3\n");
        let mut live = LiveRun::start(&["--plan", plan.to_str().unwrap(), "--run-id", &run]);
        live.wait_for("[plan      0.0 s", Duration::from_secs(60));
        assert_eq!(running(&engine, &run).len(), 3);
        signal(&live.child, sig);
        let (code, out, err) = live.finish();
        assert_eq!(code, Some(1), "{out}\n{err}");
        assert!(err.contains(&format!("interrupted by SIG{sig}")), "{err}");
        assert!(out.contains("removed every container of the run"), "{out}");
        assert!(
            runtime()
                .block_on(engine.containers_labelled(LABEL_RUN, &run))
                .unwrap()
                .is_empty(),
            "containers left after SIG{sig}"
        );
    }

    #[test]
    fn ctrl_c_in_the_middle_leaves_no_container() {
        interrupted_leaves_nothing("INT");
    }

    #[test]
    fn sigterm_in_the_middle_leaves_no_container() {
        interrupted_leaves_nothing("TERM");
    }

    /// A container killed behind the executor's back is replaced within a few seconds.
    #[test]
    fn a_killed_container_is_replaced() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        let run = run_id("kill");
        let _cleanup = Cleanup(run.clone());
        let plan = write_plan("kill.csv", "time_s,replicas\n0,2\n5,2\n");
        let mut live = LiveRun::start(&["--plan", plan.to_str().unwrap(), "--run-id", &run]);
        let t0 = live.wait_for("[plan      0.0 s", Duration::from_secs(60));
        let victim = format!("autoscale-sim-{run}-0");
        runtime()
            .block_on(engine.client().kill_container(
                &victim,
                None::<bollard::query_parameters::KillContainerOptions>,
            ))
            .expect("kill");
        live.wait_for(
            &format!("container {victim} is no longer running"),
            Duration::from_secs(5),
        );
        let back = std::time::Instant::now();
        let mut names = Vec::new();
        while back.elapsed() < Duration::from_secs(5) {
            names = running(&engine, &run);
            if names.len() == 2 && !names.contains(&victim) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            names.len() == 2 && !names.contains(&victim),
            "not replaced: {names:?}"
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
        let (code, out, err) = live.finish();
        assert_eq!(code, Some(0), "{out}\n{err}");
        assert!(
            out.contains("created 3 container(s), replaced 1 that died"),
            "{out}"
        );
        assert!(running(&engine, &run).is_empty());
    }

    /// `--dry-run` prints the timed actions and never contacts the engine (DOCKER_HOST points
    /// nowhere, and it still succeeds).
    #[test]
    fn dry_run_touches_nothing() {
        let plan = write_plan("dry.csv", "time_s,replicas\n0,2\n60,5\n120,1\n");
        let out = Command::new(BIN)
            .args([
                "live",
                "--plan",
                plan.to_str().unwrap(),
                "--dry-run",
                "--speedup",
                "2",
            ])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in [
            "nothing is started",
            "before plan time 0: start 2 container(s)",
            "wall     0.000 s (plan 0 s): 2 in service, 2 in all: put 2 in service",
            "wall    28.000 s (plan 56 s): 2 in service, 5 in all: start 3",
            "wall    30.000 s (plan 60 s): 5 in service, 5 in all: put 3 in service",
            "wall    60.000 s (plan 120 s): 1 in service, 1 in all: take 4 out of service, stop and remove 4 once idle",
            "wall    90.000 s (plan 180 s): end of the plan",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
    }

    /// `live --dry-run | head -1`: the reader goes away after the first line and the rest of
    /// the output meets a closed pipe; the command ends quietly, with status 0.
    #[test]
    fn dry_run_into_a_closed_pipe_exits_quietly() {
        // 5,000 steps print about 400 KB, far more than a pipe holds.
        let mut text = String::from("time_s,replicas\n");
        for i in 0..5000 {
            text.push_str(&format!("{},{}\n", 10 * i, 1 + i % 3));
        }
        let plan = write_plan("long.csv", &text);
        let mut child = Command::new(BIN)
            .args(["live", "--plan", plan.to_str().unwrap(), "--dry-run"])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with("dry run:"), "{first}");
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.is_empty(), "{err}");
    }

    /// A missing image is exit 1 naming it, with no container started.
    #[test]
    fn a_missing_image_fails_before_starting_anything() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        let run = run_id("noimage");
        let _cleanup = Cleanup(run.clone());
        let plan = write_plan("noimage.csv", "time_s,replicas\n0,2\n5,2\n");
        let out = Command::new(BIN)
            .args([
                "live",
                "--plan",
                plan.to_str().unwrap(),
                "--run-id",
                &run,
                "--image",
                "autoscale-sim-no-such-image:latest",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("the image autoscale-sim-no-such-image:latest does not exist"),
            "{err}"
        );
        assert!(
            runtime()
                .block_on(engine.containers_labelled(LABEL_RUN, &run))
                .unwrap()
                .is_empty()
        );
    }

    /// A bad plan is exit 2 with file, line, column and column name; nothing is contacted.
    #[test]
    fn a_bad_plan_is_bad_input() {
        let plan = write_plan("bad.csv", "time_s,replicas\n0,2\n30,two\n");
        let out = Command::new(BIN)
            .args(["live", "--plan", plan.to_str().unwrap()])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bad.csv:3:4: `replicas`: expected a whole number of containers"),
            "{err}"
        );
        let out = Command::new(BIN)
            .args(["live", "--plan", plan.to_str().unwrap(), "--speedup", "0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--speedup"));
    }

    /// `live --cleanup --run-id` removes what a crashed run left, and only that.
    #[test]
    fn cleanup_removes_what_a_crashed_run_left() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        let run = run_id("crashed");
        let other = run_id("other");
        let _cleanup = (Cleanup(run.clone()), Cleanup(other.clone()));
        for (r, n) in [(&run, 0), (&run, 1), (&other, 0)] {
            let mut labels = HashMap::new();
            labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
            labels.insert(LABEL_RUN.to_string(), r.clone());
            runtime()
                .block_on(engine.start_container(
                    &format!("autoscale-sim-{r}-{n}"),
                    IMAGE,
                    vec![],
                    labels,
                ))
                .expect("start");
        }
        let out = Command::new(BIN)
            .args(["live", "--cleanup", "--run-id", &run])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("removed 2 container(s)"));
        let left = |r: &str| {
            runtime()
                .block_on(engine.containers_labelled(LABEL_RUN, r))
                .unwrap()
                .len()
        };
        assert_eq!((left(&run), left(&other)), (0, 1));
    }
}

/// `live --scenario`: the workload replayed against the containers, compared with the
/// simulation of the plan.
mod sim_vs_live {
    use super::engine::*;
    use super::*;
    use autoscale_sim::live::docker::LABEL_RUN;
    use autoscale_sim::output::csv::TIMELINE_COLUMNS;
    use std::collections::HashMap;

    /// The issue's case: 2 minutes of plan time at 50 requests/s, exponential service of
    /// 50 ms, concurrency 2, 4 containers then 3 then 4 (run at speed-up 2: one minute). The
    /// replay sends every arrival of the simulation; the measured median latency is within 15%
    /// of the simulated one overall and in every interval; the replicas serving match the plan.
    #[test]
    fn small_scenario_matches_the_simulation() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        let run = run_id("simvslive");
        let _cleanup = Cleanup(run.clone());
        let scenario = write_plan(
            "small.toml",
            r#"name = "small"
seed = 21
duration = "2m"
interval = "20s"
[workload]
type = "poisson"
rate = 50.0
[service]
distribution = "exponential"
mean = "50ms"
[cluster]
concurrency = 2
[[policy]]
name = "four"
type = "static"
replicas = 4
"#,
        );
        let plan = write_plan("small-plan.csv", "time_s,replicas\n0,4\n40,3\n80,4\n");
        let out = scenario.parent().unwrap().join("small-out");
        let _ = std::fs::remove_dir_all(&out);
        let live = LiveRun::start(&[
            "--plan",
            plan.to_str().unwrap(),
            "--scenario",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--speedup",
            "2",
            "--run-id",
            &run,
        ]);
        let (code, stdout, err) = live.finish();
        assert_eq!(code, Some(0), "{stdout}\n{err}");
        assert!(
            runtime()
                .block_on(engine.containers_labelled(LABEL_RUN, &run))
                .unwrap()
                .is_empty()
        );
        let timeline = std::fs::read_to_string(out.join("live-timeline.csv")).unwrap();
        assert_eq!(
            timeline.lines().next().unwrap(),
            TIMELINE_COLUMNS.join(","),
            "live-timeline.csv has the columns of timeline.csv"
        );
        assert_eq!(timeline.lines().count(), 1 + 6);
        let text = std::fs::read_to_string(out.join("sim-vs-live.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<HashMap<&str, &str>> = lines
            .map(|l| header.iter().copied().zip(l.split(',')).collect())
            .collect();
        assert_eq!(rows.len(), 7, "{text}");
        let f = |r: &HashMap<&str, &str>, k: &str| -> f64 {
            r[k].parse().unwrap_or_else(|_| panic!("{k} in {text}"))
        };
        for (i, r) in rows.iter().enumerate() {
            let scope = if i < 6 { "interval" } else { "overall" };
            assert_eq!(r["scope"], scope);
            assert_eq!(r["sim_arrivals"], r["live_arrivals"], "{text}");
            assert_eq!(r["live_errors"], "0", "{text}");
            let plan = f(r, "plan_replicas");
            assert!((f(r, "sim_replicas") - plan).abs() < 0.05, "{text}");
            assert!((f(r, "live_replicas") - plan).abs() < 0.1, "{text}");
            let p50 = f(r, "p50_latency_rel_diff");
            assert!(p50.abs() < 0.15, "p50 off by {p50}: {text}");
        }
        assert!(stdout.contains("results in"), "{stdout}");
    }

    /// A dry run with a scenario simulates the plan and says what it would replay, without
    /// contacting an engine.
    #[test]
    fn dry_run_with_a_scenario() {
        let scenario = write_plan(
            "dry.toml",
            "duration = \"60s\"\ninterval = \"30s\"\n[workload]\ntype = \"poisson\"\nrate = 10.0\n[service]\ndistribution = \"deterministic\"\nmean = \"20ms\"\n[[policy]]\nname = \"one\"\ntype = \"static\"\nreplicas = 1\n",
        );
        let plan = write_plan("dry-plan.csv", "time_s,replicas\n0,1\n30,2\n");
        let out = Command::new(BIN)
            .args([
                "live",
                "--plan",
                plan.to_str().unwrap(),
                "--scenario",
                scenario.to_str().unwrap(),
                "--out",
                "/nonexistent/never-written",
                "--dry-run",
            ])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("load: replay"), "{text}");
        assert!(text.contains("(plan 60 s): end of the plan"), "{text}");
        assert!(!std::path::Path::new("/nonexistent/never-written").exists());
    }
}

/// A container that never becomes healthy ends the run with exit 1 and its output, and
/// nothing is left.
mod unhealthy {
    use super::engine::*;
    use super::*;
    use autoscale_sim::live::docker::LABEL_RUN;
    use futures_util::StreamExt;

    const BROKEN: &str = "autoscale-sim-test-broken:latest";

    /// An image whose entry point prints its help and exits, built on the workload image.
    fn build_broken(engine: &autoscale_sim::live::docker::Engine) {
        let dockerfile =
            format!("FROM {IMAGE}\nENTRYPOINT [\"/autoscale-sim\", \"validate\", \"--help\"]\n");
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(dockerfile.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "Dockerfile", dockerfile.as_bytes())
            .unwrap();
        let ctx = tar.into_inner().unwrap();
        let opts = bollard::query_parameters::BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(BROKEN)
            .rm(true)
            .build();
        runtime().block_on(async {
            let mut s =
                engine
                    .client()
                    .build_image(opts, None, Some(bollard::body_full(ctx.into())));
            while let Some(item) = s.next().await {
                let info = item.expect("build");
                assert!(info.error_detail.is_none(), "{:?}", info.error_detail);
            }
        });
    }

    #[test]
    fn a_container_that_never_serves_fails_the_run_cleanly() {
        let Some(engine) = engine() else { return };
        let _one = exclusive();
        image();
        build_broken(&engine);
        let run = run_id("broken");
        let _cleanup = Cleanup(run.clone());
        let plan = write_plan("broken.csv", "time_s,replicas\n0,2\n10,2\n");
        let t = std::time::Instant::now();
        let out = Command::new(BIN)
            .args([
                "live",
                "--plan",
                plan.to_str().unwrap(),
                "--image",
                BROKEN,
                "--run-id",
                &run,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("exited (code 0) before it answered GET /healthz"),
            "{err}"
        );
        assert!(err.contains("Usage: autoscale-sim validate"), "{err}");
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "took {:?}",
            t.elapsed()
        );
        assert!(
            runtime()
                .block_on(engine.containers_labelled(LABEL_RUN, &run))
                .unwrap()
                .is_empty()
        );
        let _ = runtime().block_on(engine.client().remove_image(
            BROKEN,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        ));
    }
}
