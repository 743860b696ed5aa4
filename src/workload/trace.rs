//! Recorded traces (to be filled in by the trace importers).

use super::{ArrivalSource, TraceSpec};
use crate::error::InputError;
use crate::rng::SimRng;

pub fn open(spec: &TraceSpec, _rng: SimRng) -> Result<Box<dyn ArrivalSource>, InputError> {
    Err(InputError::new("trace replay is not available yet").in_file(&spec.path))
}
