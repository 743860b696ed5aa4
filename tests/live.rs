//! Live mode as users run it: `serve` on 127.0.0.1, and `live` against the machine's Docker
//! engine. Tests that need the engine say so and fail when it is absent (CI has one).

#![cfg(feature = "live")]

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

    /// The engine, or `None` (with a note) when there is none and this is not CI. On CI
    /// (`CI` set) a missing engine fails the test: CI machines have one.
    pub fn engine() -> Option<Engine> {
        match runtime().block_on(Engine::connect()) {
            Ok(e) => Some(e),
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: this test needs a Docker engine, and there is none: {e}");
                None
            }
            Err(e) => panic!("this test needs a Docker engine (CI has one): {e}"),
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
