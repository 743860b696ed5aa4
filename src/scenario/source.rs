//! Locating errors in a scenario file, and the checked value types its fields deserialize to.
//!
//! Values that can be wrong on their own (a duration that does not parse, a negative rate) are
//! rejected while deserializing, so the TOML parser attaches the value's exact position to the
//! error. Checks across fields use `toml::Spanned` to point at the key at fault.

use crate::error::{InputError, line_col};
use crate::time::{DURATION_EXPECTED, SimDuration, parse_duration};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The text of a scenario file and its path, for turning byte spans into messages.
pub struct Source<'a> {
    pub path: PathBuf,
    pub text: &'a str,
    /// Whether validation checks that the files the scenario names (traces) can be opened:
    /// true for a scenario about to run, false for the copy a results folder keeps.
    pub check_files: bool,
    /// `--allow-large`: the resource limits ([`super::limits`]) are lifted.
    pub allow_large: bool,
}

impl<'a> Source<'a> {
    pub fn new(path: &Path, text: &'a str) -> Self {
        Source {
            path: path.to_path_buf(),
            text,
            check_files: true,
            allow_large: false,
        }
    }

    /// An error at `span`, naming `key`. When the text at `span` belongs to the same key in
    /// a `[[policy]]` table, the key names the policy (`policy.hpa.target`, the path a sweep
    /// uses; `policy[2].target` when the table has no plain name).
    pub fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> InputError {
        let (line, col) = line_col(self.text, span.start);
        let leaf = key.rsplit('.').next().unwrap_or(key);
        let located = key_at(self.text, span.start).filter(|k| {
            (k.contains('[') || k.starts_with("policy."))
                && k.rsplit('.').next() == Some(leaf)
                && k.len() > key.len()
        });
        InputError::new(message)
            .in_file(&self.path)
            .at(line, col)
            .key(located.unwrap_or_else(|| key.to_string()))
    }

    /// Turns a TOML syntax or type error into an [`InputError`] with the line, column and key.
    /// An unknown key lists the keys valid at that place and suggests the closest.
    pub fn toml_error(&self, e: &toml::de::Error) -> InputError {
        let message = match unknown_key_message(self.text, e) {
            Some(m) => m,
            None => e.message().trim().to_string(),
        };
        let mut err = InputError::new(message).in_file(&self.path);
        if let Some(span) = e.span() {
            let (line, col) = line_col(self.text, span.start);
            err = err.at(line, col);
            let missing = e
                .message()
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next());
            let key = match missing {
                // The span is the table that lacks the field: name the field within it.
                Some(field) => Some(match table_at(self.text, span.start) {
                    Some(t) => format!("{t}.{field}"),
                    None => field.to_string(),
                }),
                None => key_at(self.text, span.start),
            };
            if let Some(key) = key {
                err = err.key(key);
            }
        }
        err
    }
}

/// The shortest control period, tick, scrape resolution, report interval or state duration a
/// scenario may give: below it a run would spend its time on its own clock (a period of 1 ns
/// is a billion ticks per simulated second). Documented in `docs/limits.md`.
pub const MIN_PERIOD: SimDuration = SimDuration(1_000_000);

/// A period key (a control period, tick, scrape resolution, interval or state duration): at
/// least [`MIN_PERIOD`] when given.
pub fn period(
    src: &Source,
    value: &Option<toml::Spanned<Dur>>,
    key: &str,
) -> Result<Option<SimDuration>, InputError> {
    match value {
        Some(v) => check_period(src, v, key).map(Some),
        None => Ok(None),
    }
}

/// One period value: at least [`MIN_PERIOD`].
pub fn check_period(
    src: &Source,
    v: &toml::Spanned<Dur>,
    key: &str,
) -> Result<SimDuration, InputError> {
    let d = v.get_ref().0;
    if d < MIN_PERIOD {
        return Err(src.error(
            v.span(),
            key,
            format!(
                "expected a period of at least 1ms (the shortest period a scenario may give, see docs/limits.md), found {d}"
            ),
        ));
    }
    Ok(d)
}

/// A duration key that must be greater than zero when given (`key` is its dotted name).
pub fn positive_duration(
    src: &Source,
    value: &Option<toml::Spanned<Dur>>,
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

/// The message for serde's "unknown field `x`, expected one of `a`, `b`" (None for any other
/// error): the table the key is in, the closest valid key, and the keys valid there. For a
/// workload or service table the keys are those of its `type` or `distribution`, not every key
/// any type takes.
fn unknown_key_message(text: &str, e: &toml::de::Error) -> Option<String> {
    let msg = e.message();
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    // Serde quotes every expected field in backticks: `a`, `b` or `c`.
    let mut valid: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let place = e
        .span()
        .and_then(|span| key_at(text, span.start))
        .and_then(|k| k.rsplit_once('.').map(|(table, _)| table.to_string()));
    let mut what = match &place {
        Some(t) => format!("`[{t}]`"),
        None => "the top level of a scenario".to_string(),
    };
    if let Some(table) = &place
        && let Some((kind, keys)) = super::keys_of_kind(text, table)
    {
        valid.retain(|k| keys.contains(k));
        what = format!("`[{table}]` with {kind}");
    }
    Some(format!(
        "unknown key `{field}`: {}{what} takes {}",
        super::suggest::hint(field, &valid),
        super::suggest::list(&valid, "and")
    ))
}

/// The dotted key whose value sits at byte `offset`, from the nearest table header above it and
/// the `key =` at the start of its line (`cluster.startup`, `policy[2].target`).
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    let line = &text[line_start..line_end];
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    // Nearest table header above (or on this line); a [[policy]] table is named by its
    // `name` (`policy.NAME`, the path a sweep uses), else by its position (`policy[2]`).
    let mut table: Option<String> = None;
    let mut policy_index = 0usize;
    let mut offset_of_line = 0usize;
    for l in text[..line_end].lines() {
        let t = l.trim();
        if let Some(name) = t
            .strip_prefix("[[")
            .and_then(|r| r.split_once("]]"))
            .map(|(n, _)| n.trim())
        {
            if name == "policy" {
                policy_index += 1;
                let body = &text[(offset_of_line + l.len()).min(text.len())..];
                table = Some(match policy_name(body) {
                    Some(n) => format!("policy.{n}"),
                    None => format!("policy[{policy_index}]"),
                });
            } else {
                table = Some(name.to_string());
            }
        } else if let Some(name) = t
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(n, _)| n.trim())
        {
            table = Some(name.to_string());
        }
        offset_of_line += l.len() + 1;
    }
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(t), None) => Some(t),
        (None, None) => None,
    }
}

/// The `name = "..."` of the table whose body starts `body` (up to the next table header).
fn policy_name(body: &str) -> Option<String> {
    for l in body.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            return None;
        }
        if let Some((k, v)) = t.split_once('=')
            && k.trim() == "name"
        {
            let v = v.trim();
            let v = v.split('#').next().unwrap_or(v).trim();
            let n = v.strip_prefix('"')?.strip_suffix('"')?;
            let plain = !n.is_empty()
                && n.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
            return plain.then(|| n.to_string());
        }
    }
    None
}

/// The table whose header is on the line at byte `offset` (`cluster`, `policy[2]`), if any.
fn table_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    if !line.starts_with('[') {
        return None;
    }
    key_at(text, offset)
}

/// A duration value: seconds as a number, or a string with a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                crate::time::duration_from_secs(v)
                    .map(Dur)
                    .map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

macro_rules! checked_f64 {
    ($name:ident, $doc:literal, $ok:expr, $expected:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
        pub struct $name(pub f64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expected)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        self.visit_f64(v as f64)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        self.visit_f64(v as f64)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        let ok: fn(f64) -> bool = $ok;
                        if v.is_finite() && ok(v) {
                            Ok($name(v))
                        } else {
                            Err(E::custom(format!(
                                "expected {}, found {}",
                                $expected,
                                crate::error::num(v)
                            )))
                        }
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

checked_f64!(
    Positive,
    "A finite number greater than zero.",
    |v| v > 0.0,
    "a finite number greater than 0"
);
checked_f64!(
    NonNegative,
    "A finite number that is not negative.",
    |v| v >= 0.0,
    "a finite number that is not negative"
);
checked_f64!(
    Fraction,
    "A number from 0 to 1.",
    |v| (0.0..=1.0).contains(&v),
    "a number from 0 to 1"
);
checked_f64!(Finite, "Any finite number.", |_| true, "a finite number");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_at_names_table_and_key() {
        let text = "name = \"x\"\n[cluster]\nstartup = \"bad\"\n[[policy]]\nname = \"a\"\n[[policy]]\ntarget = -1\n";
        let at = |needle: &str| key_at(text, text.find(needle).unwrap());
        assert_eq!(at("\"x\"").as_deref(), Some("name"));
        assert_eq!(at("\"bad\"").as_deref(), Some("cluster.startup"));
        assert_eq!(at("\"a\"").as_deref(), Some("policy.a.name"));
        assert_eq!(at("-1").as_deref(), Some("policy[2].target"));
    }
}
