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
