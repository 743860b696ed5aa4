//! The `[[policy]]` tables of a scenario: raw keys, and their validation into [`PolicySpec`].
//!
//! Every key of every policy type is a field of [`RawPolicy`] (so a typo is an "unknown field"
//! error at its exact line); validation then checks that each key given applies to the
//! policy's type and is in range, and fills in the defaults of the system the policy
//! reproduces.

use super::Autoscaler;
use super::fixed::Static;
use crate::error::InputError;
use crate::scenario::source::{Dur, Source};
use crate::time::SimDuration;
use serde::Deserialize;
use toml::Spanned;

/// One `[[policy]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    // static
    pub replicas: Option<Spanned<u32>>,
    // common to policies with a control period
    pub period: Option<Spanned<Dur>>,
}

/// The policy types this build knows, for error messages.
pub const POLICY_TYPES: &str = "\"static\"";

/// What a policy's validation may read of the rest of the scenario.
#[derive(Clone, Debug)]
pub struct PolicyContext {
    /// `cluster.concurrency`.
    pub concurrency: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// The scenario's `interval`.
    pub interval: SimDuration,
}

impl PolicyContext {
    /// The context of `scenario`'s policies.
    pub fn of(scenario: &crate::scenario::Scenario) -> Self {
        PolicyContext {
            concurrency: scenario.cluster.concurrency,
            min_replicas: scenario.cluster.min_replicas,
            max_replicas: scenario.cluster.max_replicas,
            interval: scenario.interval,
        }
    }
}

/// A validated policy: its type and parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicySpec {
    Static { replicas: u32, period: SimDuration },
}

impl PolicySpec {
    /// The policy type's name, as written in scenarios.
    pub fn type_name(&self) -> &'static str {
        match self {
            PolicySpec::Static { .. } => "static",
        }
    }

    /// The replicas a run of this policy starts with when `cluster.initial_replicas` is not
    /// given.
    pub fn default_initial_replicas(&self, _ctx: &PolicyContext) -> u32 {
        match self {
            PolicySpec::Static { replicas, .. } => *replicas,
        }
    }

    /// The policy's parameters as (key, value) pairs, for reports.
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        match self {
            PolicySpec::Static { replicas, period } => vec![
                ("replicas", replicas.to_string()),
                ("period", format!("{}s", period.as_secs_f64())),
            ],
        }
    }

    /// A fresh instance of the policy for one run.
    pub fn build(&self) -> Box<dyn Autoscaler> {
        match self {
            PolicySpec::Static { replicas, period } => Box::new(Static::new(*replicas, *period)),
        }
    }
}

/// Fails if `value` is given for a policy type it does not apply to.
#[allow(dead_code)] // used as policy types with their own keys are added
fn reject<T>(
    src: &Source,
    raw: &RawPolicy,
    key: &str,
    value: &Option<Spanned<T>>,
) -> Result<(), InputError> {
    if let Some(v) = value {
        return Err(src.error(
            v.span(),
            &format!("policy.{key}"),
            format!(
                "`{key}` does not apply to policy \"{}\" of type \"{}\"",
                raw.name.get_ref(),
                raw.kind.get_ref()
            ),
        ));
    }
    Ok(())
}

/// Validates one policy table.
pub fn validate(
    src: &Source,
    raw: &RawPolicy,
    ctx: &PolicyContext,
) -> Result<PolicySpec, InputError> {
    let kind = raw.kind.get_ref().as_str();
    match kind {
        "static" => {
            let replicas = match &raw.replicas {
                Some(r) => {
                    let v = *r.get_ref();
                    if v > ctx.max_replicas || v < ctx.min_replicas {
                        return Err(src.error(
                            r.span(),
                            "policy.replicas",
                            format!(
                                "expected a replica count from cluster.min_replicas ({}) to cluster.max_replicas ({}), found {v}",
                                ctx.min_replicas, ctx.max_replicas
                            ),
                        ));
                    }
                    v
                }
                None => {
                    return Err(src.error(
                        raw.kind.span(),
                        "policy.replicas",
                        format!(
                            "policy \"{}\" of type \"static\" needs `replicas`",
                            raw.name.get_ref()
                        ),
                    ));
                }
            };
            let period =
                positive_duration(src, &raw.period, "policy.period")?.unwrap_or(ctx.interval);
            Ok(PolicySpec::Static { replicas, period })
        }
        other => Err(src.error(
            raw.kind.span(),
            "policy.type",
            format!("unknown policy type \"{other}\": expected one of {POLICY_TYPES}"),
        )),
    }
}

/// A duration key that must be greater than zero when given.
pub fn positive_duration(
    src: &Source,
    value: &Option<Spanned<Dur>>,
    key: &str,
) -> Result<Option<SimDuration>, InputError> {
    match value {
        Some(v) if v.get_ref().0.is_zero() => Err(src.error(
            v.span(),
            key,
            "expected a duration greater than zero, found 0",
        )),
        Some(v) => Ok(Some(v.get_ref().0)),
        None => Ok(None),
    }
}
