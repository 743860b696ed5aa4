//! What several test binaries share: whether a check that needs a program this machine may
//! lack (a headless Chromium, a Docker engine) must run here.
//!
//! By default such a check is skipped when its program is missing, and says so in one line of
//! the test output, with the reason. With `AUTOSCALE_SIM_REQUIRE` naming it (a comma-separated
//! list: `chromium`, `docker`, or `all`), as `.ci/run` sets it, a missing program fails the
//! test instead.

#![allow(dead_code)]

use std::io::Write;

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
