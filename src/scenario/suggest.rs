//! "Did you mean ...?" for misspelled names: the closest of the valid names, when one is close
//! enough to be the likely intent.
//!
//! Closeness is the Jaro-Winkler similarity of `strsim` (1 for equal strings, rewarding a common
//! prefix), with the Damerau-Levenshtein distance as a second chance for short names whose
//! first letters differ. A name is suggested only when it is clearly close, so a message never
//! suggests something unrelated; ties go to the first candidate, so the result is
//! deterministic.

/// The Jaro-Winkler similarity above which a candidate is suggested.
const MIN_SIMILARITY: f64 = 0.8;

/// The valid name closest to `given`, if one is close enough to be a likely typo of it.
/// Comparison ignores ASCII case, `-` against `_`, and surrounding spaces.
pub fn did_you_mean<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace('-', "_");
    let g = norm(given);
    if g.is_empty() {
        return None;
    }
    let mut best: Option<(&'a str, f64)> = None;
    for &c in candidates {
        let n = norm(c);
        let sim = strsim::jaro_winkler(&g, &n);
        // A typo of one or two edits (a swapped, missing or extra letter) in a short name.
        let edits = strsim::damerau_levenshtein(&g, &n);
        let close = sim >= MIN_SIMILARITY || (edits <= 2 && edits * 3 <= n.len().max(g.len()));
        if close && best.is_none_or(|(_, s)| sim > s) {
            best = Some((c, sim));
        }
    }
    best.map(|(c, _)| c)
}

/// Names as a message lists them: `` `a`, `b` and `c` `` (with `conjunction` "and" or "or").
pub fn list(names: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|c| format!("`{c}`")).collect();
    match quoted.len() {
        0 => "none".to_string(),
        1 => quoted[0].clone(),
        n => format!(
            "{} {conjunction} {}",
            quoted[..n - 1].join(", "),
            quoted[n - 1]
        ),
    }
}

/// `Did you mean `x`? ` when a candidate is close to `given`, else nothing: the middle of a
/// message about an unknown name.
pub fn hint(given: &str, candidates: &[&str]) -> String {
    match did_you_mean(given, candidates) {
        Some(c) => format!("did you mean `{c}`? "),
        None => String::new(),
    }
}

/// `Did you mean "x"? ` for a misspelled value (a type, distribution or balancer name), else
/// nothing.
pub fn hint_value(given: &str, candidates: &[&str]) -> String {
    match did_you_mean(given, candidates) {
        Some(c) => format!("did you mean \"{c}\"? "),
        None => String::new(),
    }
}

/// The names quoted in a list such as `"a", "b" or "c"`.
pub fn quoted(names: &str) -> Vec<&str> {
    names.split('"').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY_KEYS: [&str; 6] = ["horizon", "forecaster", "margin", "alpha", "beta", "gamma"];

    #[test]
    fn suggests_the_key_a_typo_was_meant_to_be() {
        assert_eq!(did_you_mean("forcaster", &POLICY_KEYS), Some("forecaster"));
        assert_eq!(did_you_mean("horizn", &POLICY_KEYS), Some("horizon"));
        assert_eq!(did_you_mean("Margin", &POLICY_KEYS), Some("margin"));
        assert_eq!(
            did_you_mean("max-replicas", &["min_replicas", "max_replicas"]),
            Some("max_replicas")
        );
        assert_eq!(did_you_mean("raet", &["rate", "amplitude"]), Some("rate"));
        assert_eq!(
            did_you_mean("distrib", &["distribution", "mean", "cv"]),
            Some("distribution")
        );
    }

    #[test]
    fn suggests_nothing_unrelated() {
        assert_eq!(did_you_mean("colour", &POLICY_KEYS), None);
        assert_eq!(did_you_mean("x", &POLICY_KEYS), None);
        assert_eq!(did_you_mean("", &POLICY_KEYS), None);
        assert_eq!(did_you_mean("rate", &[]), None);
    }

    #[test]
    fn lists_and_hints_read_as_sentences() {
        assert_eq!(list(&["a"], "and"), "`a`");
        assert_eq!(list(&["a", "b", "c"], "or"), "`a`, `b` or `c`");
        assert_eq!(list(&[], "and"), "none");
        assert_eq!(hint("mena", &["mean", "cv"]), "did you mean `mean`? ");
        assert_eq!(hint("zzz", &["mean", "cv"]), "");
        assert_eq!(
            hint_value("posson", &quoted("\"poisson\", \"diurnal\" or \"step\"")),
            "did you mean \"poisson\"? "
        );
    }
}
