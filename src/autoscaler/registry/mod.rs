//! The policy registry: every policy type this build knows, listed once.
//!
//! A policy type is one file that implements [`PolicyType`]: its `type` name, the struct its
//! `[[policy]]` table deserializes into (so the keys it accepts are the fields of that struct,
//! and a key of another type is an "unknown field" error listing the right ones), its
//! validation and defaults, its parameter report (named exactly as its keys) and how it builds
//! an [`Autoscaler`] for one run. [`registry!`] turns the list at the bottom of this file into
//! [`PolicySpec`] and its dispatch; adding a policy is one new file and one line there.

pub mod keys;
#[cfg(test)]
mod tests;

use super::Autoscaler;
use crate::error::InputError;
use crate::planner::calibrate::Calibrations;
use crate::scenario::setting::Setting;
use crate::scenario::source::Source;
use crate::time::SimDuration;
use keys::Keys;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

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
    /// The context of the policies of a scenario with this setting.
    pub fn of(setting: &Setting<'_>) -> Self {
        PolicyContext {
            concurrency: setting.cluster.concurrency,
            min_replicas: setting.cluster.min_replicas,
            max_replicas: setting.cluster.max_replicas,
            interval: setting.interval,
        }
    }
}

/// What a policy may read when it is built for one run.
#[derive(Clone, Copy, Debug)]
pub struct BuildContext<'a> {
    /// What the policy may read of the scenario it runs in.
    pub setting: Setting<'a>,
    pub replication: u32,
    /// The calibration tables measured before the runs (see [`PolicyType::calibration`]).
    pub calibrations: &'a Calibrations,
}

/// One policy type: its keys, defaults, validation, parameter report and construction.
pub trait PolicyType: Sized {
    /// The `type` value that selects it in a scenario.
    const TYPE: &'static str;
    /// The table as written, without `name` and `type`: one optional field per key, with
    /// `#[serde(deny_unknown_fields)]`.
    type Raw: DeserializeOwned;

    /// Checks the keys given and fills in the defaults of the system the policy reproduces.
    fn validate(raw: &Self::Raw, keys: &Keys, ctx: &PolicyContext) -> Result<Self, InputError>;

    /// The replicas a run starts with when `cluster.initial_replicas` is not given (clamped to
    /// the scenario's bounds by the simulation): the minimum, at least 1, unless the system
    /// reproduced starts otherwise.
    fn default_initial_replicas(&self, ctx: &PolicyContext) -> u32 {
        ctx.min_replicas.max(1)
    }

    /// The parameters as (key, value) pairs for reports, each named exactly as its key.
    fn parameters(&self) -> Vec<(&'static str, String)>;

    /// The calibration table the policy's model needs in a run of `setting`, if any: the
    /// experiment measures every such table before any run (or reads it from the disk cache)
    /// and hands it over in [`BuildContext::calibrations`].
    fn calibration(
        &self,
        _setting: &Setting<'_>,
    ) -> Option<crate::planner::calibrate::CalibrationSetup> {
        None
    }

    /// The step at which a planner decides (its `step` key), for the resolution of its
    /// `plan.csv`; `None` for policies that decide at their own control period.
    fn decision_step(&self) -> Option<SimDuration> {
        None
    }

    /// A fresh instance of the policy for one run.
    fn build(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Autoscaler>, crate::error::Error>;
}

/// Deserializes `table` into `T::Raw` and validates it.
fn typed<T: PolicyType>(
    table: Spanned<DeValue<'_>>,
    keys: &Keys,
    ctx: &PolicyContext,
) -> Result<T, InputError> {
    let raw = T::Raw::deserialize(ValueDeserializer::from(table)).map_err(|e| {
        let mut err = keys.src.toml_error(&e);
        if let Some(message) = unknown_key_message(e.message(), keys.name, T::TYPE) {
            err.message = message;
        }
        err
    })?;
    T::validate(&raw, keys, ctx)
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" for a policy table: the key
/// does not apply to this policy's type, the keys it takes, and the closest one when `x` looks
/// like a misspelling of it.
fn unknown_key_message(message: &str, name: &str, kind: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, expected) = rest.split_once('`')?;
    let valid: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| !k.is_empty())
        .collect();
    let mut text = format!(
        "`{key}` does not apply to policy {name} of type {kind}",
        name = crate::error::quoted(name),
        kind = crate::error::quoted(kind)
    );
    if valid.is_empty() {
        text.push_str(", which takes no keys besides `name` and `type`");
        return Some(text);
    }
    text.push_str(&format!(", which takes: {}", valid.join(", ")));
    if let Some(v) = closest(key, &valid) {
        text.push_str(&format!(" (did you mean `{v}`?)"));
    }
    Some(text)
}

/// The candidate `given` is most likely a misspelling of: within about a third of its length
/// in edits (transpositions count as one).
fn closest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), *c))
        .min()
        .filter(|(distance, _)| *distance <= (given.chars().count() / 3).max(1))
        .map(|(_, c)| c)
}

/// Generates [`PolicySpec`] (one variant per policy type) and its dispatch from the list of
/// policy types.
macro_rules! registry {
    ($($variant:ident => $params:ty),* $(,)?) => {
        /// A validated policy: its type and parameters.
        #[derive(Clone, Debug, PartialEq)]
        pub enum PolicySpec {
            $($variant($params)),*
        }

        /// The `type` names of every policy type, in registry order.
        pub const POLICY_TYPES: &[&str] = &[$(<$params as PolicyType>::TYPE),*];

        impl PolicySpec {
            /// The policy type's name, as written in scenarios.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(PolicySpec::$variant(_) => <$params as PolicyType>::TYPE),*
                }
            }

            /// See [`PolicyType::default_initial_replicas`].
            pub fn default_initial_replicas(&self, ctx: &PolicyContext) -> u32 {
                match self {
                    $(PolicySpec::$variant(p) => p.default_initial_replicas(ctx)),*
                }
            }

            /// See [`PolicyType::parameters`].
            pub fn parameters(&self) -> Vec<(&'static str, String)> {
                match self {
                    $(PolicySpec::$variant(p) => p.parameters()),*
                }
            }

            /// See [`PolicyType::calibration`].
            pub fn calibration(
                &self,
                setting: &Setting<'_>,
            ) -> Option<crate::planner::calibrate::CalibrationSetup> {
                match self {
                    $(PolicySpec::$variant(p) => p.calibration(setting)),*
                }
            }

            /// See [`PolicyType::decision_step`].
            pub fn decision_step(&self) -> Option<SimDuration> {
                match self {
                    $(PolicySpec::$variant(p) => p.decision_step()),*
                }
            }

            /// A fresh instance of the policy for one run in `ctx.setting` in replication
            /// `ctx.replication`.
            pub fn build(
                &self,
                ctx: &BuildContext<'_>,
            ) -> Result<Box<dyn Autoscaler>, crate::error::Error> {
                match self {
                    $(PolicySpec::$variant(p) => p.build(ctx)),*
                }
            }
        }

        /// Validates a table of type `kind`, or `None` when no policy type has that name.
        fn validate_kind(
            kind: &str,
            table: Spanned<DeValue<'_>>,
            keys: &Keys,
            ctx: &PolicyContext,
        ) -> Option<Result<PolicySpec, InputError>> {
            $(
                if kind == <$params as PolicyType>::TYPE {
                    return Some(typed::<$params>(table, keys, ctx).map(PolicySpec::$variant));
                }
            )*
            None
        }
    };
}

registry! {
    Static => super::fixed::StaticParams,
    Threshold => super::threshold::ThresholdParams,
    Hpa => super::hpa::HpaParams,
    Kpa => super::kpa::KpaParams,
    TargetTracking => super::target_tracking::TargetTrackingParams,
    Predictive => super::predictive::PredictiveParams,
    Dp => super::dp::DpParams,
    Oracle => super::oracle::OracleParams,
    Lcp => super::lcp::LcpParams,
}

/// The policy types as a message lists them: `"static", "threshold", … or "lcp"`.
pub fn policy_types_text() -> String {
    let quoted: Vec<String> = POLICY_TYPES.iter().map(|t| format!("\"{t}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// One `[[policy]]` table, validated: its name (with the span of the name) and its spec.
pub struct ParsedPolicy {
    pub name: Spanned<String>,
    pub spec: PolicySpec,
}

/// Validates every `[[policy]]` table of the scenario in `src`, in order.
///
/// The tables are read from the document with their spans, so each type's keys deserialize
/// into that type's own struct and errors point at the exact key.
pub fn validate_policies(
    src: &Source,
    ctx: &PolicyContext,
) -> Result<Vec<ParsedPolicy>, InputError> {
    let doc = DeTable::parse(src.text).map_err(|e| src.toml_error(&e))?;
    let doc_span = doc.span();
    let mut doc = doc.into_inner();
    let Some(list) = doc.remove("policy") else {
        return Ok(Vec::new());
    };
    let list_span = list.span();
    let DeValue::Array(items) = list.into_inner() else {
        return Err(src.error(
            list_span,
            "policy",
            "expected [[policy]] tables (for example: [[policy]] name = \"fixed\" type = \"static\" replicas = 4)",
        ));
    };
    let _ = doc_span;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let span = item.span();
        let DeValue::Table(mut table) = item.into_inner() else {
            return Err(src.error(span, "policy", "expected a [[policy]] table"));
        };
        let name = take_string(src, &mut table, "name", span.clone())?;
        let kind = take_string(src, &mut table, "type", span.clone())?;
        let keys = Keys {
            src,
            name: name.get_ref(),
            type_span: kind.span(),
        };
        let rest = Spanned::new(span, DeValue::Table(table));
        let spec = validate_kind(kind.get_ref(), rest, &keys, ctx).unwrap_or_else(|| {
            let hint = closest(kind.get_ref(), POLICY_TYPES)
                .map(|t| format!(" (did you mean \"{t}\"?)"))
                .unwrap_or_default();
            Err(src.error(
                kind.span(),
                "policy.type",
                format!(
                    "unknown policy type {} for policy {}: expected one of {}{hint}",
                    crate::error::quoted(kind.get_ref()),
                    crate::error::quoted(name.get_ref()),
                    policy_types_text()
                ),
            ))
        })?;
        out.push(ParsedPolicy { name, spec });
    }
    Ok(out)
}

/// Removes the string key `key` from a policy table.
fn take_string(
    src: &Source,
    table: &mut DeTable<'_>,
    key: &str,
    table_span: std::ops::Range<usize>,
) -> Result<Spanned<String>, InputError> {
    let Some(v) = table.remove(key) else {
        return Err(src.error(
            table_span,
            &format!("policy.{key}"),
            format!("missing field `{key}`: every [[policy]] table needs a `name` and a `type`"),
        ));
    };
    let span = v.span();
    match v.into_inner() {
        DeValue::String(s) => Ok(Spanned::new(span, s.into_owned())),
        other => Err(src.error(
            span,
            &format!("policy.{key}"),
            format!("expected a string, found {}", other.type_str()),
        )),
    }
}
