//! Planning: queueing formulas, forecasting and the dynamic-programming planner.

pub mod calibrate;
pub mod forecast;
pub mod lazy_capacity;
pub mod mixture;
pub mod queueing;
pub mod schedule;
pub mod surge;
pub mod uncertainty;
