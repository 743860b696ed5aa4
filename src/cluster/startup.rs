//! Container start-up time as a distribution: `cluster.startup` is a duration (constant) or a
//! table (`constant`, `uniform`, `exponential` or `lognormal` by mean (and cv), `empirical`
//! from observed times). The same distributions give the time to failure and the restart
//! delay of `[faults]` ([`super::faults`]).
//!
//! Draws come from the replication's `startup` random stream, one per container started, in
//! the order containers are started: the k-th container started in a replication gets the
//! same draw whatever the policy (common random numbers). Containers ready at time 0 draw
//! nothing.

use crate::rng::SimRng;
use crate::time::SimDuration;
use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal};

/// How long a container takes from the start decision until it takes requests.
#[derive(Clone, Debug, PartialEq)]
pub enum StartupDist {
    Constant(SimDuration),
    /// Uniform on `[min, max]`.
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    /// Exponential with this mean (memoryless: a constant failure rate).
    Exponential {
        mean: SimDuration,
    },
    /// Lognormal with this mean and coefficient of variation.
    Lognormal {
        mean: SimDuration,
        cv: f64,
    },
    /// Each draw is one of the observed times, with equal probability (the empirical
    /// distribution). Never empty.
    Empirical(Vec<SimDuration>),
}

impl StartupDist {
    /// The mean start-up time (what planners that assume a fixed delay use).
    pub fn mean(&self) -> SimDuration {
        match self {
            StartupDist::Constant(d) => *d,
            StartupDist::Uniform { min, max } => SimDuration((min.0 + max.0) / 2),
            StartupDist::Exponential { mean } => *mean,
            StartupDist::Lognormal { mean, .. } => *mean,
            StartupDist::Empirical(v) => {
                let sum: u128 = v.iter().map(|d| u128::from(d.0)).sum();
                SimDuration((sum / v.len() as u128) as u64)
            }
        }
    }

    /// Whether every draw is the same (no random stream needed).
    pub fn is_constant(&self) -> bool {
        matches!(self, StartupDist::Constant(_))
    }

    /// A short human description, e.g. `lognormal(mean 30 s, cv 0.5)`.
    pub fn describe(&self) -> String {
        match self {
            StartupDist::Constant(d) => format!("{} s", d.as_secs_f64()),
            StartupDist::Uniform { min, max } => {
                format!(
                    "uniform({} s to {} s)",
                    min.as_secs_f64(),
                    max.as_secs_f64()
                )
            }
            StartupDist::Exponential { mean } => {
                format!("exponential(mean {} s)", mean.as_secs_f64())
            }
            StartupDist::Lognormal { mean, cv } => {
                format!("lognormal(mean {} s, cv {cv})", mean.as_secs_f64())
            }
            StartupDist::Empirical(v) => format!("empirical({} observed times)", v.len()),
        }
    }
}

/// A sampler built once per run.
#[derive(Clone, Debug)]
pub enum StartupSampler {
    Constant(u64),
    Uniform { min_ns: u64, width_ns: u64 },
    Exponential(Exp<f64>),
    Lognormal(LogNormal<f64>),
    Empirical(Vec<u64>),
}

impl StartupSampler {
    /// The sampler of `dist`; `Err` names what is wrong (callers add the key).
    pub fn try_new(dist: &StartupDist) -> Result<Self, String> {
        Ok(match dist {
            StartupDist::Constant(d) => StartupSampler::Constant(d.0),
            StartupDist::Uniform { min, max } => StartupSampler::Uniform {
                min_ns: min.0,
                width_ns: max.0 - min.0,
            },
            StartupDist::Exponential { mean } => StartupSampler::Exponential(
                Exp::new(1.0 / mean.0 as f64).map_err(|e| format!("{e}"))?,
            ),
            StartupDist::Lognormal { mean, cv } => {
                // A lognormal with mean m and cv c has σ² = ln(1 + c²), μ = ln m − σ²/2
                // (means in nanoseconds).
                let s2 = (1.0 + cv * cv).ln();
                let mu = (mean.0 as f64).ln() - s2 / 2.0;
                StartupSampler::Lognormal(
                    LogNormal::new(mu, s2.sqrt()).map_err(|e| format!("{e}"))?,
                )
            }
            StartupDist::Empirical(v) => StartupSampler::Empirical(v.iter().map(|d| d.0).collect()),
        })
    }

    /// One start-up time.
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        SimDuration(match self {
            StartupSampler::Constant(ns) => *ns,
            StartupSampler::Uniform { min_ns, width_ns } => {
                let u: f64 = rng.random();
                min_ns + (u * *width_ns as f64) as u64
            }
            StartupSampler::Exponential(d) => to_ns(d.sample(rng)),
            StartupSampler::Lognormal(d) => to_ns(d.sample(rng)),
            StartupSampler::Empirical(v) => v[rng.random_range(0..v.len())],
        })
    }
}

/// A drawn number of nanoseconds, rounded; a draw beyond the clock's range is a quarter of
/// it (about 146 years: never reached by a run).
fn to_ns(x: f64) -> u64 {
    if x.is_finite() && x < u64::MAX as f64 {
        x.round() as u64
    } else {
        u64::MAX / 4
    }
}

/// Observed times from a CSV: one number of seconds per line, or the column named `column`
/// (`startup_s` for start-up times; else the first column) of a file with a header. Errors
/// name the line.
pub fn read_empirical(text: &str, column_name: &str) -> Result<Vec<SimDuration>, String> {
    let mut out = Vec::new();
    let mut column = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if out.is_empty() && i == first_data_line(text) && fields[0].parse::<f64>().is_err() {
            column = fields.iter().position(|f| *f == column_name).unwrap_or(0);
            continue;
        }
        let Some(field) = fields.get(column) else {
            return Err(format!("line {}: expected a column {}", i + 1, column + 1));
        };
        match field.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => out.push(SimDuration::from_secs_f64(v)),
            _ => {
                return Err(format!(
                    "line {}: expected a time in seconds (a number from 0 up), found {}",
                    i + 1,
                    crate::error::quoted(field)
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("expected at least one time, found none".to_string());
    }
    Ok(out)
}

fn first_data_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_of(dist: &StartupDist, n: usize) -> (f64, f64) {
        let s = StartupSampler::try_new(dist).unwrap();
        let mut rng = crate::rng::stream(1, 0, crate::rng::STARTUP);
        let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut rng).as_secs_f64()).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, var)
    }

    #[test]
    fn sample_means_match_the_analytic_means() {
        let s = SimDuration::from_secs;
        let n = 200_000;
        // Each within 4 standard errors of its analytic mean.
        for (dist, mean, sd) in [
            (StartupDist::Constant(s(30)), 30.0, 0.0),
            // Uniform on [10, 50]: mean 30, sd 40/√12.
            (
                StartupDist::Uniform {
                    min: s(10),
                    max: s(50),
                },
                30.0,
                40.0 / 12f64.sqrt(),
            ),
            // Exponential: sd = mean.
            (StartupDist::Exponential { mean: s(30) }, 30.0, 30.0),
            // Lognormal: the mean and cv as given.
            (
                StartupDist::Lognormal {
                    mean: s(30),
                    cv: 1.5,
                },
                30.0,
                45.0,
            ),
            // Empirical {5, 10, 45}: mean 20, sd √((225 + 100 + 625) / 3).
            (
                StartupDist::Empirical(vec![s(5), s(10), s(45)]),
                20.0,
                (950.0f64 / 3.0).sqrt(),
            ),
        ] {
            let (m, var) = mean_of(&dist, n);
            let se = sd / (n as f64).sqrt();
            assert!(
                (m - mean).abs() <= 4.0 * se + 1e-9,
                "{}: mean {m}, expected {mean} ± {}",
                dist.describe(),
                4.0 * se
            );
            assert!(
                (var.sqrt() - sd).abs() <= 0.05 * sd + 1e-9,
                "{}",
                dist.describe()
            );
            assert_eq!(dist.mean().as_secs_f64(), mean);
        }
    }

    #[test]
    fn empirical_csv() {
        let v = read_empirical("startup_s\n1.5\n# comment\n\n3\n", "startup_s").unwrap();
        assert_eq!(
            v,
            vec![SimDuration::from_secs_f64(1.5), SimDuration::from_secs(3)]
        );
        let v = read_empirical("image,startup_s\na,2\nb,4\n", "startup_s").unwrap();
        assert_eq!(
            v,
            vec![SimDuration::from_secs(2), SimDuration::from_secs(4)]
        );
        assert_eq!(read_empirical("2.5\n7\n", "startup_s").unwrap().len(), 2);
        let e = read_empirical("startup_s\n1\nfast\n", "startup_s").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        assert!(read_empirical("startup_s\n", "startup_s").is_err());
        assert!(read_empirical("1\n-2\n", "startup_s").is_err());
    }
}
