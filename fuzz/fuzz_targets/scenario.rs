//! Fuzzes autoscale_sim::fuzzing::scenario (see docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| autoscale_sim::fuzzing::scenario(data));
