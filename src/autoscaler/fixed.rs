//! The `static` policy: a fixed number of replicas for the whole run.
//!
//! At its first tick it asks for `replicas` and never changes its mind. The run starts with
//! `cluster.initial_replicas` (which defaults to this policy's `replicas`, so a static run is
//! at its size from time 0). Static is the null policy every other policy is compared with, and
//! with `load_balancer = "shared_queue"` and `concurrency = 1` it makes the cluster an M/G/c
//! queue.

use super::registry::keys::{Keys, secs};
use super::registry::{BuildContext, PolicyContext, PolicyType};
use super::{Autoscaler, Decision, Observation};
use crate::error::InputError;
use crate::scenario::source::Dur;
use crate::time::SimDuration;
use serde::Deserialize;
use toml::Spanned;

pub struct Static {
    replicas: u32,
    period: SimDuration,
}

impl Static {
    pub fn new(replicas: u32, period: SimDuration) -> Self {
        Static { replicas, period }
    }
}

impl Autoscaler for Static {
    fn tick_interval(&self) -> SimDuration {
        self.period
    }

    fn tick(&mut self, obs: &Observation<'_>) -> Decision {
        if obs.desired == self.replicas {
            Decision::Keep
        } else {
            Decision::Desired(self.replicas)
        }
    }
}

/// The `static` policy's validated keys.
#[derive(Clone, Debug, PartialEq)]
pub struct StaticParams {
    /// `replicas`: the fixed replica count (required).
    pub replicas: u32,
    /// `period`: how often it checks the desired count (the scenario's `interval`).
    pub period: SimDuration,
}

/// A `static` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatic {
    pub replicas: Option<Spanned<u32>>,
    pub period: Option<Spanned<Dur>>,
}

impl PolicyType for StaticParams {
    const TYPE: &'static str = "static";
    type Raw = RawStatic;

    fn validate(raw: &RawStatic, k: &Keys, ctx: &PolicyContext) -> Result<Self, InputError> {
        let Some(r) = &raw.replicas else {
            return Err(k.err_type(
                "replicas",
                format!(
                    "policy {} of type \"static\" needs `replicas`",
                    crate::error::quoted(k.name)
                ),
            ));
        };
        let replicas = *r.get_ref();
        if replicas > ctx.max_replicas || replicas < ctx.min_replicas {
            return Err(k.err(
                r.span(),
                "replicas",
                format!(
                    "expected a replica count from cluster.min_replicas ({}) to cluster.max_replicas ({}), found {replicas}",
                    ctx.min_replicas, ctx.max_replicas
                ),
            ));
        }
        let period = k.period(&raw.period, "period", ctx.interval)?;
        Ok(StaticParams { replicas, period })
    }

    fn default_initial_replicas(&self, _ctx: &PolicyContext) -> u32 {
        self.replicas
    }

    fn parameters(&self) -> Vec<(&'static str, String)> {
        vec![
            ("replicas", self.replicas.to_string()),
            ("period", secs(self.period)),
        ]
    }

    fn build(&self, _ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
        Ok(Box::new(Static::new(self.replicas, self.period)))
    }
}
