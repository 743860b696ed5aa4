//! Warnings about a valid scenario that is probably not what its author meant: a load the
//! cluster cannot carry, an SLO shorter than the service itself, a bare number that is
//! implausible in seconds for its key.
//!
//! Warnings are advice printed before a run; they never change a result, and a scenario that
//! draws them runs exactly as it would otherwise. They are computed from the validated scenario
//! and its text only (no trace is read).

use super::Scenario;
use crate::time::SimDuration;
use crate::workload::WorkloadSpec;

/// Bare numbers (seconds) above which a duration key probably meant another unit: the key, the
/// largest plausible number of seconds, and what it is.
const PLAUSIBLE_SECONDS: [(&str, &str, f64, &str); 6] = [
    ("service", "mean", 10.0, "of service per request"),
    ("service", "min", 10.0, "of service per request"),
    ("service", "max", 10.0, "of service per request"),
    (
        "cost",
        "slo_latency",
        60.0,
        "of latency before a request violates the SLO",
    ),
    ("cluster", "startup", 3600.0, "for a container to start"),
    ("cluster", "queue_timeout", 3600.0, "a request may wait"),
];

/// The warnings for `sc`, each one sentence, in a fixed order.
pub fn warnings(sc: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let service = sc.service.mean_s();
    let slots = f64::from(sc.cluster.max_replicas) * f64::from(sc.cluster.concurrency);
    if let Some((mean, peak)) = rates(&sc.workload, sc.duration) {
        let need = mean * service;
        let need_peak = peak * service;
        if need > slots {
            out.push(format!(
                "the offered load needs {} request slots on average ({} requests/s × {} s of service), more than the {} the cluster can have (max_replicas {} × concurrency {}): every policy will be overloaded",
                round(need),
                round(mean),
                round(service),
                slots,
                sc.cluster.max_replicas,
                sc.cluster.concurrency
            ));
        } else if need_peak > slots {
            out.push(format!(
                "at its peak the offered load needs {} request slots ({} requests/s × {} s of service), more than the {} the cluster can have (max_replicas {} × concurrency {}): every policy will be overloaded at the peak",
                round(need_peak),
                round(peak),
                round(service),
                slots,
                sc.cluster.max_replicas,
                sc.cluster.concurrency
            ));
        }
    }
    let slo = sc.cost.slo_latency.as_secs_f64();
    if slo < service {
        out.push(format!(
            "cost.slo_latency ({} s) is shorter than the mean service time ({} s): most requests will violate the SLO whatever the policy",
            round(slo),
            round(service)
        ));
    }
    out.extend(bare_numbers(&sc.text));
    out
}

/// The mean and the highest arrival rate of a synthetic workload over `duration` (none for a
/// trace, which is not read here).
fn rates(w: &WorkloadSpec, duration: SimDuration) -> Option<(f64, f64)> {
    match w {
        WorkloadSpec::Diurnal {
            rate, amplitude, ..
        } => Some((*rate, rate * (1.0 + amplitude))),
        WorkloadSpec::Piecewise { steps } => {
            let end = duration.as_secs_f64();
            let mut total = 0.0;
            let mut peak: f64 = 0.0;
            for (k, (t, r)) in steps.iter().enumerate() {
                let from = t.as_secs_f64().min(end);
                let to = steps.get(k + 1).map_or(end, |n| n.0.as_secs_f64().min(end));
                if to > from {
                    total += r * (to - from);
                    peak = peak.max(*r);
                }
            }
            Some((total / end, peak))
        }
        WorkloadSpec::Mmpp {
            rates,
            mean_durations,
        } => {
            // The state changes to another one chosen uniformly, so in the long run each state
            // is entered equally often and holds its share of time by its mean duration.
            let time: f64 = mean_durations.iter().map(|d| d.as_secs_f64()).sum();
            let mean = rates
                .iter()
                .zip(mean_durations)
                .map(|(r, d)| r * d.as_secs_f64())
                .sum::<f64>()
                / time;
            Some((mean, rates.iter().cloned().fold(0.0, f64::max)))
        }
        WorkloadSpec::Trace(_) => None,
    }
}

/// Duration keys written as bare numbers that are implausible in seconds for their key.
fn bare_numbers(text: &str) -> Vec<String> {
    let Ok(doc) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (table, key, limit, what) in PLAUSIBLE_SECONDS {
        let value = doc.get(table).and_then(|t| t.get(key));
        let secs = match value {
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(toml::Value::Float(f)) => *f,
            _ => continue,
        };
        if secs > limit {
            out.push(format!(
                "{table}.{key} = {secs} is {secs} seconds {what}; a number without a unit is seconds: if you meant milliseconds, write \"{secs}ms\""
            ));
        }
    }
    out
}

/// A figure for a message: at most 4 significant digits, no trailing zeros.
fn round(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(workload: &str, rest: &str) -> Scenario {
        let text = format!(
            "duration = \"1h\"\n[workload]\n{workload}\n{rest}\n[[policy]]\nname = \"s\"\ntype = \"static\"\nreplicas = 1\n"
        );
        super::super::parse(Path::new("w.toml"), &text).unwrap()
    }

    const SERVICE: &str = "[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n";

    #[test]
    fn a_load_beyond_every_slot_is_a_warning() {
        // 1,000/s × 0.1 s = 100 slots; 20 containers × 4 slots = 80.
        let sc = scenario(
            "type = \"poisson\"\nrate = 1000.0",
            &format!("{SERVICE}[cluster]\nmax_replicas = 20\nconcurrency = 4"),
        );
        let w = warnings(&sc);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("needs 100 request slots on average"), "{w:?}");
        assert!(w[0].contains("80 the cluster can have"), "{w:?}");
        assert!(w[0].contains("every policy will be overloaded"), "{w:?}");
        // 25 containers × 4 = 100 slots: exactly enough on average, no warning.
        let sc = scenario(
            "type = \"poisson\"\nrate = 1000.0",
            &format!("{SERVICE}[cluster]\nmax_replicas = 25\nconcurrency = 4"),
        );
        assert!(warnings(&sc).is_empty());
    }

    #[test]
    fn a_peak_beyond_every_slot_is_a_warning_of_its_own() {
        // Steps 100/s for 50 min and 1,000/s for 10 min: mean 250/s (25 slots), peak 100.
        let sc = scenario(
            "type = \"step\"\nsteps = [[0, 100.0], [\"50m\", 1000.0]]",
            &format!("{SERVICE}[cluster]\nmax_replicas = 50"),
        );
        let w = warnings(&sc);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(
                "at its peak the offered load needs 100 request slots (1000 requests/s"
            ),
            "{w:?}"
        );
        // An MMPP at 10/s for 9 min on average and 1,000/s for 1 min: mean 109/s.
        let sc = scenario(
            "type = \"mmpp\"\nrates = [10.0, 1000.0]\nmean_durations = [\"9m\", \"1m\"]",
            &format!("{SERVICE}[cluster]\nmax_replicas = 10"),
        );
        let w = warnings(&sc);
        assert!(
            w[0].contains("needs 10.9 request slots on average (109 requests/s"),
            "{w:?}"
        );
    }

    #[test]
    fn an_slo_shorter_than_the_service_is_a_warning() {
        let sc = scenario(
            "type = \"poisson\"\nrate = 1.0",
            "[service]\ndistribution = \"deterministic\"\nmean = \"2s\"\n[cost]\nslo_latency = \"1s\"",
        );
        let w = warnings(&sc);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("cost.slo_latency (1 s) is shorter than the mean service time (2 s)"),
            "{w:?}"
        );
    }

    #[test]
    fn bare_numbers_implausible_in_seconds_are_warnings() {
        // `mean = 50` is 50 s of service and `slo_latency = 500` is 500 s: both likely meant ms.
        let sc = scenario(
            "type = \"poisson\"\nrate = 0.01",
            "[service]\ndistribution = \"exponential\"\nmean = 50\n[cost]\nslo_latency = 500",
        );
        let w = warnings(&sc);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[0],
            "service.mean = 50 is 50 seconds of service per request; a number without a unit is seconds: if you meant milliseconds, write \"50ms\""
        );
        assert!(
            w[1].starts_with("cost.slo_latency = 500 is 500 seconds"),
            "{w:?}"
        );
        // With units, or plausible as seconds, nothing.
        let sc = scenario(
            "type = \"poisson\"\nrate = 1.0",
            "[service]\ndistribution = \"exponential\"\nmean = 0.05\n[cost]\nslo_latency = \"500s\"",
        );
        assert!(warnings(&sc).is_empty(), "{:?}", warnings(&sc));
    }

    #[test]
    fn figures_are_rounded_for_reading() {
        assert_eq!(round(100.0), "100");
        assert_eq!(round(10.9), "10.9");
        assert_eq!(round(0.123456), "0.1235");
        assert_eq!(round(12345.6), "12346");
    }
}
