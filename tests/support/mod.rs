//! What several test binaries share: running the binary and reading what it says, temporary
//! folders, and whether a check that needs a program this machine may lack (a headless
//! Chromium, a Docker engine) must run here.
//!
//! By default such a check is skipped when its program is missing, and says so in one line of
//! the test output, with the reason. With `AUTOSCALE_SIM_REQUIRE` naming it (a comma-separated
//! list: `chromium`, `docker`, or `all`), as `.ci/run` sets it, a missing program fails the
//! test instead.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `autoscale-sim` binary this test build goes with.
pub const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");

/// Runs the binary with `args`.
pub fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the binary with `args` in the folder `dir`.
pub fn cli_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// What a run printed on standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What a run printed on standard output.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts that a run ended with exit status 2 (bad input) and no panic; returns its message.
pub fn refused(what: &str, o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

/// Asserts that a run succeeded; returns its standard output.
pub fn succeeded(what: &str, o: &Output) -> String {
    assert!(o.status.success(), "{what}: {}", stderr(o));
    stdout(o)
}

/// An empty folder of its own for one test: `<temp>/autoscale-sim-<group>-<pid>-<name>`.
pub fn temp_dir(group: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "autoscale-sim-{group}-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The variable that makes checks required: `AUTOSCALE_SIM_REQUIRE=chromium,docker`.
pub const REQUIRE_VAR: &str = "AUTOSCALE_SIM_REQUIRE";

/// Whether the check needing `what` (`"chromium"`, `"docker"`) must run on this machine.
pub fn required(what: &str) -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|w| w.eq_ignore_ascii_case(what) || w.eq_ignore_ascii_case("all"))
    })
}

/// Called when the program a check needs is missing: fails the test when the check is
/// required, else prints one line naming the test, what it needs and why it cannot run,
/// past the test harness's output capture (so it shows even when the test passes).
pub fn unavailable(what: &str, reason: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("this test");
    if required(what) {
        panic!("{test} needs {what}, which {REQUIRE_VAR} requires, but: {reason}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: no {what} here ({reason}); set {REQUIRE_VAR}={what} to require it"
    );
}
