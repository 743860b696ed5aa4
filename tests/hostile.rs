//! Hostile and extreme input (issue 14, the input side): every case ends in exit status 2
//! with a message naming the key (or file and row), the value and what is accepted, before
//! anything large is allocated or run. Each test is named after what broke.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "autoscale-sim-hostile-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
    let o = run(&all);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert!(
        !out.exists(),
        "{name}: nothing is written for refused input"
    );
    err
}

/// Runs `run` on `text` and asserts it succeeds.
fn accepted_run(name: &str, text: &str) {
    let dir = temp_dir(name);
    let sc = write(&dir, "s.toml", text.as_bytes());
    let out = dir.join("out");
    let o = run(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
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
