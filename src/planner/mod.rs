//! Planning: queueing formulas, forecasting and the dynamic-programming planner.

pub mod calibrate;
pub mod dp;
pub mod forecast;
pub mod lcp;
pub mod queueing;
pub mod uncertainty;
