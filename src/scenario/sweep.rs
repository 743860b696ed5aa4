//! Parameter sweeps: the `[sweep]` table of a scenario.
//!
//! Each key of `[sweep]` is a dotted path to a scenario key and its value a list of values:
//! `"policy.hpa.target_utilization" = [0.5, 0.7]` (the key of the policy named `hpa`),
//! `"workload.scale" = [0.5, 1, 2]`, `"cluster.startup" = ["10s", "60s"]`, or a top-level key
//! such as `"duration"`. Every combination (the grid, in key order, the last key varying fastest)
//! is a point of the sweep: the scenario with those values set, validated like any scenario.
//! A value that makes a point invalid is an error at the sweep key's line. Two keys that
//! overlap (`cluster` and `cluster.startup`) are an error, and so is `seed`: each run's seed
//! comes from the scenario's seed and its replication.

use super::source::Source;
use crate::error::InputError;
use std::path::Path;
use toml::{Spanned, Table, Value};

/// One swept parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepParam {
    /// The dotted path, as written.
    pub key: String,
    /// The values, as written in TOML (strings without quotes).
    pub labels: Vec<String>,
}

/// A validated sweep: its parameters and every point of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub params: Vec<SweepParam>,
    /// One per combination: the index of each parameter's value, and the scenario.
    pub points: Vec<SweepPoint>,
}

/// One combination of swept values.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// The value label of each parameter, in parameter order.
    pub labels: Vec<String>,
    pub scenario: Box<super::Scenario>,
}

/// A value as a short label for outputs (`0.5`, `10s`, `true`).
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Sets `path` in the scenario document `doc` to `value`. `policy.NAME.KEY` addresses the
/// policy named NAME.
fn set(doc: &mut Table, path: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "{path} is not a dotted key path",
            path = crate::error::quoted(path)
        ));
    }
    if parts[0] == "policy" {
        if parts.len() != 3 {
            return Err(format!(
                "a policy key is written \"policy.NAME.KEY\", found {path}",
                path = crate::error::quoted(path)
            ));
        }
        let policies = doc
            .get_mut("policy")
            .and_then(Value::as_array_mut)
            .ok_or("the scenario has no [[policy]] tables")?;
        let policy = policies
            .iter_mut()
            .filter_map(Value::as_table_mut)
            .find(|t| t.get("name").and_then(Value::as_str) == Some(parts[1]))
            .ok_or_else(|| format!("no policy named {}", crate::error::quoted(parts[1])))?;
        policy.insert(parts[2].to_string(), value);
        return Ok(());
    }
    if parts[0] == "sweep" {
        return Err("a sweep cannot sweep itself".into());
    }
    let mut table = doc;
    for p in &parts[..parts.len() - 1] {
        let entry = table
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        table = entry.as_table_mut().ok_or_else(|| {
            format!(
                "{p} in {path} is not a table",
                path = crate::error::quoted(path),
                p = crate::error::quoted(p)
            )
        })?;
    }
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// Expands the `[sweep]` table of the scenario in `src` into its points.
pub fn expand(
    src: &Source,
    sweep: &Spanned<Table>,
    limits: &super::limits::Limits,
) -> Result<Sweep, InputError> {
    let mut doc: Table = toml::from_str(src.text).map_err(|e| src.toml_error(&e))?;
    doc.remove("sweep");
    let mut params: Vec<(String, Vec<Value>)> = Vec::new();
    for (key, value) in sweep.get_ref() {
        let err = |m: String| src.error(key_span(src, sweep, key), &format!("sweep.{key}"), m);
        let values = match value {
            Value::Array(a) if !a.is_empty() => a.clone(),
            _ => return Err(err("expected a non-empty list of values".into())),
        };
        params.push((key.clone(), values));
    }
    if params.is_empty() {
        return Err(src.error(sweep.span(), "sweep", "expected at least one swept key"));
    }
    for (i, (key, _)) in params.iter().enumerate() {
        let err = |m: String| src.error(key_span(src, sweep, key), &format!("sweep.{key}"), m);
        if key == "seed" {
            return Err(err(
                "`seed` cannot be swept: every run already has its own seed (the `seed` column of summary.csv, from the scenario's seed and the replication); use `replications` for more seeds, or `--seed` for another base seed".into(),
            ));
        }
        // A key and a table that contains it would set the same value twice, and label the
        // points by a value that is not the one run.
        if let Some((other, _)) = params
            .iter()
            .enumerate()
            .find_map(|(j, (o, v))| (j != i && key.starts_with(&format!("{o}."))).then_some((o, v)))
        {
            return Err(err(format!(
                "{key} overlaps {other}, which sets the whole table it is in: sweep one or the other",
                key = crate::error::quoted(key),
                other = crate::error::quoted(other)
            )));
        }
    }
    // Counted before anything is expanded: each point keeps a whole scenario.
    let limit = if src.allow_large {
        usize::MAX
    } else {
        usize::try_from(limits.sweep_points).unwrap_or(usize::MAX)
    };
    let total = params
        .iter()
        .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()))
        .filter(|n| *n <= limit)
        .ok_or_else(|| {
            let count = params
                .iter()
                .fold(1.0f64, |n, (_, v)| n * v.len() as f64);
            src.error(
                sweep.span(),
                "sweep",
                format!(
                    "the number of sweep points (the product of the lists' lengths) is {}, above the limit of {}; if that is intended, raise it with `[limits] sweep_points = N` in the scenario or run with --allow-large (see docs/limits.md)",
                    crate::error::num(count),
                    limits.sweep_points
                ),
            )
        })?;
    let mut points = Vec::with_capacity(total);
    for index in 0..total {
        // Mixed radix, the last parameter fastest.
        let mut rest = index;
        let mut choice = vec![0usize; params.len()];
        for (i, (_, values)) in params.iter().enumerate().rev() {
            choice[i] = rest % values.len();
            rest /= values.len();
        }
        let mut d = doc.clone();
        for (i, (key, values)) in params.iter().enumerate() {
            set(&mut d, key, values[choice[i]].clone())
                .map_err(|m| src.error(key_span(src, sweep, key), &format!("sweep.{key}"), m))?;
        }
        let text = toml::to_string(&d).map_err(|e| {
            src.error(
                sweep.span(),
                "sweep",
                format!("cannot apply the sweep: {e}"),
            )
        })?;
        let scenario =
            super::parse_single(Path::new(&src.path), &text, src.check_files).map_err(|e| {
                let key = e.key.clone().unwrap_or_default();
                let culprit = params
                    .iter()
                    .find(|(k, _)| key.ends_with(k.rsplit('.').next().unwrap_or(k)))
                    .map_or_else(|| params[0].0.clone(), |(k, _)| k.clone());
                let values: Vec<String> = params
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v))| {
                        format!(
                            "{} = {}",
                            crate::error::shortened(k),
                            crate::error::shortened(&v[choice[i]].to_string())
                        )
                    })
                    .collect();
                src.error(
                    key_span(src, sweep, &culprit),
                    &format!("sweep.{culprit}"),
                    format!("at the sweep point {}: {}", values.join(", "), e.message),
                )
            })?;
        points.push(SweepPoint {
            labels: params
                .iter()
                .enumerate()
                .map(|(i, (_, v))| label(&v[choice[i]]))
                .collect(),
            scenario: Box::new(scenario),
        });
    }
    Ok(Sweep {
        params: params
            .into_iter()
            .map(|(key, values)| SweepParam {
                key,
                labels: values.iter().map(label).collect(),
            })
            .collect(),
        points,
    })
}

/// The span of `key`'s line inside the `[sweep]` table (the table's own span if not found).
fn key_span(src: &Source, sweep: &Spanned<Table>, key: &str) -> std::ops::Range<usize> {
    let span = sweep.span();
    let body = &src.text[span.clone()];
    let quoted = format!("\"{key}\"");
    body.find(&quoted)
        .or_else(|| body.find(key))
        .map_or(span.clone(), |i| span.start + i..span.start + i + key.len())
}
