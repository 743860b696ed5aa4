//! Placing a known number of arrivals uniformly at random in an interval, in time order and in
//! constant memory; and rescaling a count.
//!
//! [`Uniform`] yields the order statistics of `n` independent uniform points on `[a, b)` one at
//! a time, by the recursion: given the previous point at fraction `x`, the smallest of the
//! remaining `m` points is at `x + (1 - x) (1 - V^(1/m))` with `V` uniform on (0, 1] (the
//! minimum of `m` uniforms on `[x, 1)`). This is exactly the distribution of `n` sorted
//! uniforms, that is a Poisson process on the interval conditioned on its count, and it needs
//! no buffer however large `n` is. Points are rounded down to the nanosecond, so they never
//! decrease and stay inside `[a, b)`.
//!
//! [`Scale`] applies the rate factor `scale` to recorded arrivals: each one is replayed
//! `floor(scale)` times plus once more with probability `frac(scale)` (so below 1 each arrival
//! is kept with probability `scale`). The number replayed for `N` recorded arrivals is
//! `floor(scale) N + Binomial(N, frac(scale))`: its mean is `scale N`.

use crate::rng::SimRng;
use rand::RngExt;
use rand_distr::{Binomial, Distribution};

/// Sorted uniform points in `[start, start + width)` nanoseconds.
#[derive(Clone, Debug)]
pub struct Uniform {
    start: u64,
    width: u64,
    /// Points still to come.
    left: u64,
    /// Fraction of the width where the previous point fell.
    x: f64,
}

impl Uniform {
    pub fn new(start: u64, width: u64, n: u64) -> Uniform {
        Uniform {
            start,
            width,
            left: n,
            x: 0.0,
        }
    }

    /// Points still to come.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// The next point, or `None` once all `n` have come.
    #[inline]
    pub fn next(&mut self, rng: &mut SimRng) -> Option<u64> {
        if self.left == 0 {
            return None;
        }
        // V in (0, 1]; 1 - V^(1/m) = -expm1(ln(V) / m), accurate for large m.
        let v = 1.0 - rng.random::<f64>();
        let step = -(v.ln() / self.left as f64).exp_m1();
        self.x += (1.0 - self.x) * step;
        self.left -= 1;
        let offset = ((self.x * self.width as f64) as u64).min(self.width.saturating_sub(1));
        Some(self.start + offset)
    }
}

/// The rate factor `scale`, split into its whole and fractional parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub whole: u64,
    pub frac: f64,
}

impl Scale {
    pub fn new(scale: f64) -> Scale {
        let whole = scale.floor();
        Scale {
            whole: whole as u64,
            frac: scale - whole,
        }
    }

    /// Whether the factor is exactly 1 (replay as recorded, drawing nothing).
    pub fn is_one(self) -> bool {
        self.whole == 1 && self.frac == 0.0
    }

    /// How many times to replay one recorded arrival.
    #[inline]
    pub fn copies(self, rng: &mut SimRng) -> u64 {
        self.whole.saturating_add(u64::from(
            self.frac > 0.0 && rng.random::<f64>() < self.frac,
        ))
    }

    /// How many arrivals to replay for `n` recorded ones.
    pub fn count(self, n: u64, rng: &mut SimRng) -> u64 {
        if self.is_one() || n == 0 {
            return n;
        }
        let extra = if self.frac > 0.0 {
            Binomial::new(n, self.frac)
                .expect("n >= 0 and 0 < frac < 1")
                .sample(rng)
        } else {
            0
        };
        self.whole.saturating_mul(n).saturating_add(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn yields_exactly_n_sorted_points_inside() {
        let mut r = rng::stream(1, 0, rng::ARRIVALS);
        for &(start, width, n) in &[
            (0u64, 1u64, 5u64),
            (10, 1_000, 1000),
            (7, 60_000_000_000, 100_000),
        ] {
            let mut u = Uniform::new(start, width, n);
            let mut prev = start;
            let mut got = 0;
            while let Some(t) = u.next(&mut r) {
                assert!(t >= prev && t < start + width);
                prev = t;
                got += 1;
            }
            assert_eq!(got, n);
        }
    }

    #[test]
    fn points_are_uniform() {
        // The fraction of points in each tenth of the interval is 1/10; with 200 000 points
        // each tenth's count is binomial with sd sqrt(n p (1-p)) ≈ 134; allow 5 sd.
        let mut r = rng::stream(2, 0, rng::ARRIVALS);
        let n = 200_000u64;
        let width = 1_000_000_000u64;
        let mut u = Uniform::new(0, width, n);
        let mut tenths = [0u64; 10];
        let mut sum = 0.0;
        while let Some(t) = u.next(&mut r) {
            tenths[(t * 10 / width) as usize] += 1;
            sum += t as f64 / width as f64;
        }
        let sd = (n as f64 * 0.1 * 0.9).sqrt();
        for c in tenths {
            assert!((c as f64 - n as f64 / 10.0).abs() < 5.0 * sd, "{tenths:?}");
        }
        // The mean position is 1/2 with sd sqrt(1/12 / n).
        let mean = sum / n as f64;
        assert!(
            (mean - 0.5).abs() < 5.0 * (1.0 / 12.0 / n as f64).sqrt(),
            "{mean}"
        );
    }

    #[test]
    fn scaled_counts_match_their_mean() {
        let mut r = rng::stream(3, 0, rng::ARRIVALS);
        for scale in [0.3, 1.0, 2.0, 2.5] {
            let s = Scale::new(scale);
            let n = 100_000u64;
            let got = s.count(n, &mut r);
            let sd = (n as f64 * s.frac * (1.0 - s.frac)).sqrt();
            assert!(
                (got as f64 - scale * n as f64).abs() <= 5.0 * sd,
                "scale {scale}: {got}"
            );
            let mut per = 0;
            for _ in 0..n {
                per += s.copies(&mut r);
            }
            assert!((per as f64 - scale * n as f64).abs() <= 5.0 * sd, "{per}");
        }
    }
}
