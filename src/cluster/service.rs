//! Service-time distributions.
//!
//! Each is parameterised the way users think about service times: by its mean, and for
//! `lognormal` and `gamma` by its coefficient of variation (standard deviation / mean). A draw
//! is rounded to the nearest nanosecond. One draw is made per request, in arrival order, from
//! the replication's `service` stream, so every policy serves request k with the same time.
//!
//! A coefficient of variation must lie in [`MIN_CV`, `MAX_CV`]: outside it the distributions
//! cannot be built (a gamma with cv = 1e-300 has an infinite shape) or put all their mass on
//! zero. [`ServiceSpec::check`] builds the sampler once at validation, so a spec that passes
//! it is never refused later.

use crate::rng::SimRng;
use crate::time::SimDuration;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal};

/// A validated service-time distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum ServiceSpec {
    Exponential {
        mean: SimDuration,
    },
    Deterministic {
        mean: SimDuration,
    },
    /// Lognormal with the given mean and coefficient of variation.
    Lognormal {
        mean: SimDuration,
        cv: f64,
    },
    /// Gamma with the given mean and coefficient of variation (shape 1/cv², scale mean·cv²).
    Gamma {
        mean: SimDuration,
        cv: f64,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
}

/// The smallest coefficient of variation `lognormal` and `gamma` accept.
pub const MIN_CV: f64 = 0.001;
/// The largest coefficient of variation `lognormal` and `gamma` accept.
pub const MAX_CV: f64 = 100.0;

impl ServiceSpec {
    /// Checks that the distribution can be built and sampled: `cv` from [`MIN_CV`] to
    /// [`MAX_CV`] for lognormal and gamma, and the sampler constructs. The message names the
    /// valid range; callers add the key (`service.cv`, `--cv`).
    pub fn check(&self) -> Result<(), String> {
        if let ServiceSpec::Lognormal { cv, .. } | ServiceSpec::Gamma { cv, .. } = self
            && !(cv.is_finite() && (MIN_CV..=MAX_CV).contains(cv))
        {
            return Err(format!(
                "expected a coefficient of variation from {MIN_CV} to {MAX_CV}, found {}",
                crate::error::num(*cv)
            ));
        }
        ServiceSampler::try_new(self).map(|_| ())
    }

    /// Mean service time in seconds.
    pub fn mean_s(&self) -> f64 {
        match self {
            ServiceSpec::Exponential { mean }
            | ServiceSpec::Deterministic { mean }
            | ServiceSpec::Lognormal { mean, .. }
            | ServiceSpec::Gamma { mean, .. } => mean.as_secs_f64(),
            ServiceSpec::Uniform { min, max } => (min.as_secs_f64() + max.as_secs_f64()) / 2.0,
        }
    }

    /// Squared coefficient of variation of the service time.
    pub fn scv(&self) -> f64 {
        match self {
            ServiceSpec::Exponential { .. } => 1.0,
            ServiceSpec::Deterministic { .. } => 0.0,
            ServiceSpec::Lognormal { cv, .. } | ServiceSpec::Gamma { cv, .. } => cv * cv,
            ServiceSpec::Uniform { min, max } => {
                let (a, b) = (min.as_secs_f64(), max.as_secs_f64());
                let m = (a + b) / 2.0;
                if m == 0.0 {
                    0.0
                } else {
                    (b - a).powi(2) / 12.0 / (m * m)
                }
            }
        }
    }

    /// A short human description, e.g. `lognormal(mean 0.1 s, cv 1.5)`.
    pub fn describe(&self) -> String {
        match self {
            ServiceSpec::Exponential { mean } => {
                format!("exponential(mean {} s)", mean.as_secs_f64())
            }
            ServiceSpec::Deterministic { mean } => {
                format!("deterministic({} s)", mean.as_secs_f64())
            }
            ServiceSpec::Lognormal { mean, cv } => {
                format!("lognormal(mean {} s, cv {cv})", mean.as_secs_f64())
            }
            ServiceSpec::Gamma { mean, cv } => {
                format!("gamma(mean {} s, cv {cv})", mean.as_secs_f64())
            }
            ServiceSpec::Uniform { min, max } => {
                format!(
                    "uniform({} s to {} s)",
                    min.as_secs_f64(),
                    max.as_secs_f64()
                )
            }
        }
    }
}

/// A sampler built once per run from a [`ServiceSpec`].
#[derive(Clone, Debug)]
pub enum ServiceSampler {
    Exponential { mean_ns: f64 },
    Deterministic { ns: u64 },
    Lognormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
    Uniform { min_ns: f64, width_ns: f64 },
}

impl ServiceSampler {
    /// Builds the sampler of a spec that passed [`ServiceSpec::check`] (every validated
    /// scenario's).
    pub fn new(spec: &ServiceSpec) -> Self {
        Self::try_new(spec).expect("ServiceSpec::check passed at validation")
    }

    /// Builds the sampler, or says why the parameters cannot be sampled.
    pub fn try_new(spec: &ServiceSpec) -> Result<Self, String> {
        let ns = |d: &SimDuration| d.0 as f64;
        Ok(match spec {
            ServiceSpec::Exponential { mean } => ServiceSampler::Exponential { mean_ns: ns(mean) },
            ServiceSpec::Deterministic { mean } => ServiceSampler::Deterministic { ns: mean.0 },
            ServiceSpec::Lognormal { mean, cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let mu = ns(mean).ln() - sigma2 / 2.0;
                ServiceSampler::Lognormal(LogNormal::new(mu, sigma2.sqrt()).map_err(|e| {
                    format!("a lognormal of mean {mean} and cv {cv} cannot be sampled ({e})")
                })?)
            }
            ServiceSpec::Gamma { mean, cv } => {
                let shape = 1.0 / (cv * cv);
                ServiceSampler::Gamma(Gamma::new(shape, ns(mean) / shape).map_err(|e| {
                    format!("a gamma of mean {mean} and cv {cv} cannot be sampled ({e})")
                })?)
            }
            ServiceSpec::Uniform { min, max } => ServiceSampler::Uniform {
                min_ns: ns(min),
                width_ns: ns(max) - ns(min),
            },
        })
    }

    /// One service time in nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> u64 {
        let x = match self {
            ServiceSampler::Exponential { mean_ns } => {
                let e: f64 = Exp1.sample(rng);
                e * mean_ns
            }
            ServiceSampler::Deterministic { ns } => return *ns,
            ServiceSampler::Lognormal(d) => d.sample(rng),
            ServiceSampler::Gamma(d) => d.sample(rng),
            ServiceSampler::Uniform { min_ns, width_ns } => min_ns + width_ns * rng.random::<f64>(),
        };
        let r = x.round();
        if r >= u64::MAX as f64 {
            u64::MAX
        } else {
            r as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn moments(spec: &ServiceSpec, n: usize) -> (f64, f64) {
        let s = ServiceSampler::new(spec);
        let mut r = rng::stream(11, 0, rng::SERVICE);
        let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut r) as f64 / 1e9).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, v.sqrt() / m)
    }

    /// Sample mean within 4 standard errors of the mean; sample cv within 3%.
    #[test]
    fn mean_and_cv_match_their_parameters() {
        let mean = SimDuration::from_millis(100);
        let n = 400_000;
        for (spec, cv) in [
            (ServiceSpec::Exponential { mean }, 1.0),
            (ServiceSpec::Lognormal { mean, cv: 0.5 }, 0.5),
            (ServiceSpec::Gamma { mean, cv: 2.0 }, 2.0),
            (
                ServiceSpec::Uniform {
                    min: SimDuration::from_millis(50),
                    max: SimDuration::from_millis(150),
                },
                (1.0f64 / 12.0).sqrt(),
            ),
        ] {
            let (m, c) = moments(&spec, n);
            let se = 0.1 * cv / (n as f64).sqrt();
            assert!((m - 0.1).abs() < 4.0 * se, "{spec:?}: mean {m}");
            assert!((c - cv).abs() < 0.03 * cv, "{spec:?}: cv {c}");
            assert!((spec.scv() - cv * cv).abs() < 1e-12, "{spec:?}");
        }
        let d = ServiceSampler::new(&ServiceSpec::Deterministic { mean });
        let mut r = rng::stream(11, 0, rng::SERVICE);
        assert!((0..10).all(|_| d.sample(&mut r) == 100_000_000));
    }
}
