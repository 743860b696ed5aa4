//! Reading one `[[policy]]` table's keys: located errors and the checks every policy type shares.
//!
//! A policy type deserializes its table into its own `Raw` struct (`deny_unknown_fields`, so a
//! key of another type or a typo is an error at its line that lists the type's keys), then
//! validates it with [`Keys`]: every error names the file, line, column and `policy.<key>`, and
//! says what was expected.

use crate::autoscaler::pipeline::ClusterMetric;
use crate::error::InputError;
use crate::planner::calibrate::ModelKind;
use crate::scenario::source::{Dur, Finite, NonNegative, Positive, Source, positive_duration};
use crate::time::SimDuration;
use std::ops::Range;
use toml::Spanned;

/// A policy table being validated: where it is, its name and the span of its `type`.
pub struct Keys<'a, 'b> {
    pub src: &'a Source<'b>,
    /// The policy's `name`.
    pub name: &'a str,
    /// Where its `type` is written (errors about the table as a whole point there).
    pub type_span: Range<usize>,
}

impl Keys<'_, '_> {
    /// An error at `span` about `policy.<key>`.
    pub fn err(&self, span: Range<usize>, key: &str, msg: impl Into<String>) -> InputError {
        self.src.error(span, &format!("policy.{key}"), msg)
    }

    /// An error about the table as a whole, at its `type`.
    pub fn err_type(&self, key: &str, msg: impl Into<String>) -> InputError {
        self.err(self.type_span.clone(), key, msg)
    }

    /// The span of the first key given among `keys`, else of `type`.
    pub fn span_of(&self, keys: &[Option<Range<usize>>]) -> Range<usize> {
        keys.iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| self.type_span.clone())
    }

    /// A duration, `default` when absent.
    pub fn duration(&self, v: &Option<Spanned<Dur>>, default: SimDuration) -> SimDuration {
        v.as_ref().map_or(default, |d| d.get_ref().0)
    }

    /// A duration greater than zero, `default` when absent.
    pub fn positive(
        &self,
        v: &Option<Spanned<Dur>>,
        key: &str,
        default: SimDuration,
    ) -> Result<SimDuration, InputError> {
        Ok(positive_duration(self.src, v, &format!("policy.{key}"))?.unwrap_or(default))
    }

    /// A control period, tick or scrape resolution: at least
    /// [`MIN_PERIOD`](crate::scenario::source::MIN_PERIOD), `default` when absent.
    pub fn period(
        &self,
        v: &Option<Spanned<Dur>>,
        key: &str,
        default: SimDuration,
    ) -> Result<SimDuration, InputError> {
        Ok(
            crate::scenario::source::period(self.src, v, &format!("policy.{key}"))?
                .unwrap_or(default),
        )
    }

    /// A duration from `lo` to `hi` (inclusive), `default` when absent.
    pub fn bounded(
        &self,
        v: &Option<Spanned<Dur>>,
        key: &str,
        default: SimDuration,
        lo: SimDuration,
        hi: SimDuration,
    ) -> Result<SimDuration, InputError> {
        match v {
            Some(d) if d.get_ref().0 < lo || d.get_ref().0 > hi => Err(self.err(
                d.span(),
                key,
                format!(
                    "expected a duration from {} to {}, found {}",
                    secs(lo),
                    secs(hi),
                    secs(d.get_ref().0)
                ),
            )),
            Some(d) => Ok(d.get_ref().0),
            None => Ok(default),
        }
    }

    /// A number accepted by `ok` (`expected` says which), `default` when absent.
    pub fn number<T: Number>(
        &self,
        v: &Option<Spanned<T>>,
        key: &str,
        default: f64,
        ok: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<f64, InputError> {
        match v {
            Some(x) => {
                let val = x.get_ref().get();
                if ok(val) {
                    Ok(val)
                } else {
                    Err(self.err(
                        x.span(),
                        key,
                        format!("expected {expected}, found {}", crate::error::num(val)),
                    ))
                }
            }
            None => Ok(default),
        }
    }

    /// A whole number of at least 1, `default` when absent.
    pub fn count(
        &self,
        v: &Option<Spanned<u32>>,
        key: &str,
        default: u32,
    ) -> Result<u32, InputError> {
        match v {
            Some(x) if *x.get_ref() == 0 => Err(self.err(
                x.span(),
                key,
                "expected a whole number of at least 1, found 0",
            )),
            Some(x) => Ok(*x.get_ref()),
            None => Ok(default),
        }
    }

    /// `metric`: a cluster metric, `default` when absent.
    pub fn metric(
        &self,
        v: &Option<Spanned<String>>,
        default: ClusterMetric,
    ) -> Result<ClusterMetric, InputError> {
        match v {
            Some(m) => ClusterMetric::parse(m.get_ref()).ok_or_else(|| {
                self.err(
                    m.span(),
                    "metric",
                    format!(
                        "unknown metric {}: expected {}",
                        crate::error::quoted(m.get_ref()),
                        ClusterMetric::NAMES
                    ),
                )
            }),
            None => Ok(default),
        }
    }

    /// `model` (the planners' violation model), calibrated by default.
    pub fn model(&self, v: &Option<Spanned<String>>) -> Result<ModelKind, InputError> {
        match v {
            Some(m) => ModelKind::parse(m.get_ref()).ok_or_else(|| {
                self.err(
                    m.span(),
                    "model",
                    format!(
                        "unknown model {}: expected {}",
                        crate::error::quoted(m.get_ref()),
                        ModelKind::NAMES
                    ),
                )
            }),
            None => Ok(ModelKind::Calibrated),
        }
    }

    /// `step` (the planners' decision step), by default the shorter of the scenario's
    /// `interval` and [`crate::autoscaler::planning::DEFAULT_STEP_S`] seconds.
    pub fn step(
        &self,
        v: &Option<Spanned<Dur>>,
        interval: SimDuration,
    ) -> Result<SimDuration, InputError> {
        self.period(
            v,
            "step",
            crate::autoscaler::planning::default_step(interval),
        )
    }

    /// The default of a per-container metric level: a fraction of the slots for utilization
    /// and concurrency; rps has none (it depends on the service time), so the key is required.
    pub fn level_default(
        &self,
        metric: ClusterMetric,
        key: &str,
        fraction: f64,
        concurrency: u32,
    ) -> Result<f64, InputError> {
        match metric {
            ClusterMetric::Utilization => Ok(fraction),
            ClusterMetric::Concurrency => Ok(fraction * f64::from(concurrency)),
            ClusterMetric::Rps => Err(self.err_type(
                key,
                format!(
                    "policy {} with metric = \"rps\" needs `{key}` (requests per second per container)",
                    crate::error::quoted(self.name)
                ),
            )),
        }
    }
}

/// A checked number read from a scenario.
pub trait Number: Copy {
    fn get(self) -> f64;
}

impl Number for Positive {
    fn get(self) -> f64 {
        self.0
    }
}

impl Number for NonNegative {
    fn get(self) -> f64 {
        self.0
    }
}

impl Number for Finite {
    fn get(self) -> f64 {
        self.0
    }
}

/// A duration as reports write it: `15s`, `0.5s`.
pub fn secs(d: SimDuration) -> String {
    format!("{}s", d.as_secs_f64())
}
