//! Queueing formulas: Erlang B and C, M/M/c, M/G/1 (Pollaczek-Khinchine), an M/G/c
//! approximation, and the SLO-violation probability the planner's stage cost needs.
//!
//! Units: rates are per second, times are seconds (`f64`; this is analysis, not the clock).
//! Every function is deterministic and never overflows: Erlang B runs the stable recursion
//! `1/B(k) = 1 + (k/a) / B(k-1)` (the reciprocal of `B(k) = a B(k-1) / (k + a B(k-1))`), whose
//! terms are all positive, so `c` can be in the tens of thousands. An unstable queue
//! (`λ ≥ cμ`) is handled explicitly: everybody waits (probability 1) and the mean wait is
//! infinite.
//!
//! What is exact and what is approximate:
//! - [`erlang_b`], [`erlang_c`], [`MMc`] and [`MG1`] are the textbook closed forms.
//! - [`MGc`] is the Allen-Cunneen approximation (exact for exponential service and for `c = 1`).
//! - [`ViolationModel`] gives `P(latency > slo)` for every replica count of a range in one pass
//!   over the Erlang recursion. With one shared queue and exponential service it is exact
//!   M/M/c; the other cases are documented approximations (see the type).

use crate::cluster::Balancer;
use crate::cluster::service::ServiceSpec;
use statrs::distribution::{Continuous, ContinuousCDF, Gamma, LogNormal};

/// Erlang B: the blocking probability of an M/G/c/c loss system with `servers` servers and
/// offered load `load = λ/μ` (Erlangs).
///
/// `erlang_b(0, a) = 1`; with `a = 0` and at least one server it is 0.
pub fn erlang_b(servers: u64, load: f64) -> f64 {
    let inv_a = 1.0 / load;
    let mut inv_b = 1.0;
    for k in 1..=servers {
        inv_b = 1.0 + inv_b * (k as f64 * inv_a);
        if inv_b == f64::INFINITY {
            return 0.0;
        }
    }
    1.0 / inv_b
}

/// Erlang C from `1/B`: `C = c / (c/B - a (1/B - 1))`, for a stable system (`a < c`).
#[inline]
fn erlang_c_from_inv_b(servers: f64, load: f64, inv_b: f64) -> f64 {
    if inv_b == f64::INFINITY {
        return 0.0;
    }
    servers / (inv_b * (servers - load) + load)
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with `servers` servers
/// and offered load `load = λ/μ`. It is 1 when the queue is unstable (`load ≥ servers`).
pub fn erlang_c(servers: u64, load: f64) -> f64 {
    let c = servers as f64;
    if load >= c {
        return 1.0;
    }
    if load <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(servers, load);
    if b == 0.0 {
        return 0.0;
    }
    erlang_c_from_inv_b(c, load, 1.0 / b)
}

/// `(1 - e^{-z}) / z`, with its limit 1 at `z = 0`, accurate for small `z`.
#[inline]
fn phi(z: f64) -> f64 {
    if z == 0.0 { 1.0 } else { -(-z).exp_m1() / z }
}

/// `E[e^{-r2 (x - E1)}; E1 ≤ x]` for `E1 ~ Exp(r1)`: the probability that `E1 ≤ x` but
/// `E1 + E2 > x` for an independent `E2 ~ Exp(r2)` (see [`MMc::latency_tail`]).
#[inline]
fn exp_conv_term(r1: f64, r2: f64, x: f64) -> f64 {
    // ∫_0^x r1 e^{-r1 s} e^{-r2 (x-s)} ds = r1 x e^{-min(r1,r2) x} φ(|r1 - r2| x)
    r1 * x * (-(r1.min(r2)) * x).exp() * phi((r1 - r2).abs() * x)
}

/// An M/M/c queue: Poisson arrivals at `arrival_rate`, `servers` servers each serving at
/// `service_rate` (exponential service times of mean `1/service_rate`), one FIFO queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MMc {
    pub arrival_rate: f64,
    pub service_rate: f64,
    pub servers: u64,
}

impl MMc {
    pub fn new(arrival_rate: f64, service_rate: f64, servers: u64) -> MMc {
        MMc {
            arrival_rate,
            service_rate,
            servers,
        }
    }

    /// Offered load `a = λ/μ` in Erlangs.
    pub fn offered_load(&self) -> f64 {
        self.arrival_rate / self.service_rate
    }

    /// Utilization `ρ = λ/(cμ)`; at least 1 means unstable.
    pub fn utilization(&self) -> f64 {
        self.offered_load() / self.servers as f64
    }

    /// Whether the queue has a steady state (`λ < cμ`).
    pub fn is_stable(&self) -> bool {
        self.arrival_rate < self.servers as f64 * self.service_rate
    }

    /// `P(W > 0)`, the Erlang C formula (1 when unstable).
    pub fn p_wait(&self) -> f64 {
        erlang_c(self.servers, self.offered_load())
    }

    /// `cμ - λ`, the rate of the exponential conditional wait.
    fn drain_rate(&self) -> f64 {
        self.servers as f64 * self.service_rate - self.arrival_rate
    }

    /// Mean wait in queue `E[W] = C / (cμ - λ)`; infinite when unstable.
    pub fn mean_wait(&self) -> f64 {
        if !self.is_stable() {
            return f64::INFINITY;
        }
        self.p_wait() / self.drain_rate()
    }

    /// `P(W > t) = C e^{-(cμ-λ) t}` for `t ≥ 0`; 1 when unstable.
    pub fn wait_tail(&self, t: f64) -> f64 {
        if !self.is_stable() {
            return 1.0;
        }
        self.p_wait() * (-self.drain_rate() * t.max(0.0)).exp()
    }

    /// Mean latency (wait plus service) `E[W] + 1/μ`.
    pub fn mean_latency(&self) -> f64 {
        self.mean_wait() + 1.0 / self.service_rate
    }

    /// Mean number waiting `L_q = λ E[W]` (Little's law).
    pub fn mean_queue_length(&self) -> f64 {
        self.arrival_rate * self.mean_wait()
    }

    /// `P(W + S > x)`, the latency tail, exact for M/M/c.
    ///
    /// The service time `S ~ Exp(μ)` is independent of the wait `W`, which is 0 with
    /// probability `1 - C` and otherwise `Exp(θ)` with `θ = cμ - λ`. So
    /// `P(W + S > x) = P(S > x) + C · P(S ≤ x, W' > x - S)` with `W' ~ Exp(θ)`, and
    /// `P(S ≤ x, W' > x - S) = ∫_0^x μ e^{-μs} e^{-θ(x-s)} ds = μ x e^{-min(μ,θ) x} φ(|μ-θ| x)`
    /// where `φ(z) = (1 - e^{-z})/z` (φ(0) = 1). Equivalently, for `θ ≠ μ`,
    /// `P = (1-C) e^{-μx} + C (θ e^{-μx} - μ e^{-θx}) / (θ - μ)`; the form used here has no
    /// cancellation when `θ` is close to `μ`. It is 1 when unstable.
    pub fn latency_tail(&self, x: f64) -> f64 {
        if !self.is_stable() {
            return 1.0;
        }
        let x = x.max(0.0);
        let mu = self.service_rate;
        (-mu * x).exp() + self.p_wait() * exp_conv_term(mu, self.drain_rate(), x)
    }
}

/// An M/G/1 queue: Poisson arrivals, one server, service time of mean `mean_service` seconds
/// and squared coefficient of variation `scv` (`Var[S] / E[S]²`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MG1 {
    pub arrival_rate: f64,
    pub mean_service: f64,
    pub scv: f64,
}

impl MG1 {
    pub fn new(arrival_rate: f64, mean_service: f64, scv: f64) -> MG1 {
        MG1 {
            arrival_rate,
            mean_service,
            scv,
        }
    }

    /// M/D/1: deterministic service (`scv = 0`).
    pub fn deterministic(arrival_rate: f64, service: f64) -> MG1 {
        MG1::new(arrival_rate, service, 0.0)
    }

    /// `ρ = λ E[S]`.
    pub fn utilization(&self) -> f64 {
        self.arrival_rate * self.mean_service
    }

    pub fn is_stable(&self) -> bool {
        self.utilization() < 1.0
    }

    /// `P(W > 0) = ρ` (PASTA: an arrival waits iff the server is busy); 1 when unstable.
    pub fn p_wait(&self) -> f64 {
        self.utilization().min(1.0)
    }

    /// Pollaczek-Khinchine: `E[W] = λ E[S²] / (2(1-ρ)) = ρ E[S] (1 + cs²) / (2(1-ρ))`;
    /// infinite when unstable.
    pub fn mean_wait(&self) -> f64 {
        if !self.is_stable() {
            return f64::INFINITY;
        }
        let rho = self.utilization();
        rho * self.mean_service * (1.0 + self.scv) / (2.0 * (1.0 - rho))
    }

    /// `E[W] + E[S]`.
    pub fn mean_latency(&self) -> f64 {
        self.mean_wait() + self.mean_service
    }

    /// `L_q = λ E[W]`.
    pub fn mean_queue_length(&self) -> f64 {
        self.arrival_rate * self.mean_wait()
    }
}

/// An M/G/c queue under the Allen-Cunneen approximation (an approximation, not exact):
/// the probability of waiting is taken from M/M/c (Erlang C) and the conditional wait is
/// exponential with its M/M/c mean scaled by `(1 + cs²)/2`, so
/// `E[W] ≈ E[W_M/M/c] (1 + cs²)/2` and `P(W > t) ≈ C e^{-2(cμ-λ) t / (1 + cs²)}`.
/// It is exact for exponential service (`cs² = 1`), and for `c = 1` its mean equals
/// Pollaczek-Khinchine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MGc {
    pub arrival_rate: f64,
    pub mean_service: f64,
    pub scv: f64,
    pub servers: u64,
}

impl MGc {
    pub fn new(arrival_rate: f64, mean_service: f64, scv: f64, servers: u64) -> MGc {
        MGc {
            arrival_rate,
            mean_service,
            scv,
            servers,
        }
    }

    fn mmc(&self) -> MMc {
        MMc::new(self.arrival_rate, 1.0 / self.mean_service, self.servers)
    }

    pub fn is_stable(&self) -> bool {
        self.mmc().is_stable()
    }

    /// `P(W > 0) ≈ C` (Erlang C).
    pub fn p_wait(&self) -> f64 {
        self.mmc().p_wait()
    }

    /// `E[W] ≈ E[W_M/M/c] (1 + cs²)/2`; infinite when unstable.
    pub fn mean_wait(&self) -> f64 {
        self.mmc().mean_wait() * (1.0 + self.scv) / 2.0
    }

    /// `E[W] + E[S]`.
    pub fn mean_latency(&self) -> f64 {
        self.mean_wait() + self.mean_service
    }

    /// Rate of the approximate exponential conditional wait, `2(cμ-λ)/(1+cs²)`.
    fn wait_rate(&self) -> f64 {
        self.mmc().drain_rate() * 2.0 / (1.0 + self.scv)
    }

    /// `P(W > t) ≈ C e^{-2(cμ-λ) t / (1 + cs²)}`; 1 when unstable.
    pub fn wait_tail(&self, t: f64) -> f64 {
        if !self.is_stable() {
            return 1.0;
        }
        self.p_wait() * (-self.wait_rate() * t.max(0.0)).exp()
    }
}

/// The waiting probability below which the planner treats the wait as zero: past it, the
/// waiting part of `P(latency > slo)` is below `1e-16` and the recursion stops early.
pub const NEGLIGIBLE_WAIT: f64 = 1e-16;

/// How many equal-width cells of `[0, slo]` [`ViolationModel`] integrates over for lognormal
/// and gamma service. Each cell has its exact probability and a density interpolated
/// log-linearly between the cell's ends (exact for an exponential density).
pub const SERVICE_CELLS: usize = 64;

/// One cell `[right - width, right]` of the service distribution below the SLO.
#[derive(Clone, Debug, PartialEq)]
struct Cell {
    right: f64,
    /// `P(S in cell)`.
    mass: f64,
    /// `κ·width` where the density is `∝ e^{κ s}` inside the cell.
    slope_w: f64,
}

/// The service-time tail at the SLO and the wait-service convolution term, per distribution.
#[derive(Clone, Debug, PartialEq)]
enum ServiceAtSlo {
    /// Rate `μ`, and `e^{-μ·slo}`.
    Exponential { rate: f64, tail: f64 },
    /// Constant service time.
    Deterministic { time: f64 },
    /// Uniform on `[min, max]`, `min < max`.
    Uniform { min: f64, max: f64 },
    /// Cells of `[0, slo]` (those with positive probability), all of width `width`.
    Cells { width: f64, cells: Vec<Cell> },
}

impl ServiceAtSlo {
    /// `E[e^{-η(x - S)}; S ≤ x]`: the probability that an exponential wait of rate `η` plus
    /// the service time exceeds `x` while the service time alone does not.
    #[inline]
    fn conv(&self, eta: f64, x: f64) -> f64 {
        match self {
            ServiceAtSlo::Exponential { rate, tail } => {
                let z = (eta - rate) * x;
                if z.abs() < 1e-3 {
                    exp_conv_term(*rate, eta, x)
                } else {
                    // μ (e^{-μx} - e^{-ηx}) / (η - μ): one exponential, with a relative
                    // cancellation error below 1e-13 at |η - μ| x ≥ 1e-3.
                    rate * (tail - (-eta * x).exp()) / (eta - rate)
                }
            }
            ServiceAtSlo::Deterministic { time } => {
                if *time <= x {
                    (-eta * (x - time)).exp()
                } else {
                    0.0
                }
            }
            ServiceAtSlo::Uniform { min, max } => {
                if x <= *min {
                    return 0.0;
                }
                let u = max.min(x);
                // (1/(b-a)) ∫_a^u e^{-η(x-s)} ds
                (-eta * (x - u)).exp() * ((u - min) / (max - min)) * phi(eta * (u - min))
            }
            ServiceAtSlo::Cells { width, cells } => {
                // In a cell with density m e^{κ(s-r)} / (w φ(κw)):
                // ∫ e^{-η(x-s)} = m e^{-η(x-r)} φ((κ+η)w) / φ(κw).
                let mut sum = 0.0;
                for cell in cells.iter().rev() {
                    let decay = eta * (x - cell.right);
                    if decay > 40.0 {
                        break; // every cell further left adds less than e^{-40} of its mass
                    }
                    sum += cell.mass * (-decay).exp() * phi(cell.slope_w + eta * width)
                        / phi(cell.slope_w);
                }
                sum
            }
        }
    }
}

/// How arrivals reach the request slots, as far as the queueing model is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// One FIFO queue in front of all `n·k` slots: M/G/(n·k).
    Shared,
    /// Each container has its own queue and receives a random share: `n` independent
    /// M/G/k queues with arrival rate `λ/n`.
    Random,
    /// Each container has its own queue and receives every `n`-th arrival: `n` GI/G/k queues
    /// whose interarrival times are Erlang-`n` (squared coefficient of variation `1/n`).
    RoundRobin,
}

impl Dispatch {
    /// The model used for each load balancer. `least_connections` and `power_of_two` join the
    /// shortest of the queues they look at, which keeps slots nearly as busy as one shared
    /// queue; they are modelled as [`Dispatch::Shared`] (an approximation that calibration
    /// against the simulator corrects).
    pub fn for_balancer(balancer: Balancer) -> Dispatch {
        match balancer {
            Balancer::SharedQueue | Balancer::LeastConnections | Balancer::PowerOfTwo => {
                Dispatch::Shared
            }
            Balancer::Random => Dispatch::Random,
            Balancer::RoundRobin => Dispatch::RoundRobin,
        }
    }
}

/// `P(latency > slo)` as a function of the arrival rate and the number of containers.
///
/// Latency is wait plus service. The model: containers have `concurrency` slots each; the
/// probability of waiting is Erlang C for the slots that share a queue ([`Dispatch`]); the
/// conditional wait is exponential with rate `2(cμ - λ)/(ca² + cs²)` (Allen-Cunneen; `ca² = 1`
/// for Poisson arrivals, `1/n` for round-robin); the service time `S` is independent of the
/// wait and has the scenario's distribution, so
/// `P(W + S > x) = P(S > x) + C · E[e^{-η(x - S)}; S ≤ x]`.
/// The last expectation is in closed form for exponential, deterministic and uniform service,
/// and integrated over [`SERVICE_CELLS`] cells of `[0, x]` for lognormal and gamma.
///
/// Exact for one shared queue with exponential service (M/M/c) and for random dispatch with
/// exponential service (independent M/M/k). Otherwise an approximation: the probability of
/// waiting of M/G/c is not exactly Erlang C, nor is its conditional wait exactly exponential.
/// Queue timeouts are not modelled (a timed-out request waited longer than the timeout, so when
/// the timeout is at least the SLO it is a violation either way). With zero containers, or an
/// unstable queue, every request violates (probability 1).
#[derive(Clone, Debug, PartialEq)]
pub struct ViolationModel {
    /// Mean service time, seconds.
    mean_service: f64,
    /// Squared coefficient of variation of the service time.
    scv: f64,
    /// Slots per container.
    concurrency: u32,
    dispatch: Dispatch,
    /// The SLO latency, seconds.
    slo: f64,
    /// `P(S > slo)`.
    service_tail: f64,
    service: ServiceAtSlo,
}

impl ViolationModel {
    /// The model for a scenario's service distribution, container concurrency, load balancer
    /// and SLO (seconds). `spec` is validated (positive mean, positive cv where it applies);
    /// `concurrency` is at least 1.
    pub fn new(spec: &ServiceSpec, concurrency: u32, dispatch: Dispatch, slo: f64) -> Self {
        let mean = spec.mean_s();
        let x = slo.max(0.0);
        let (service_tail, service) = match spec {
            ServiceSpec::Exponential { .. } => (
                (-x / mean).exp(),
                ServiceAtSlo::Exponential {
                    rate: 1.0 / mean,
                    tail: (-x / mean).exp(),
                },
            ),
            ServiceSpec::Deterministic { .. } => (
                if mean > x { 1.0 } else { 0.0 },
                ServiceAtSlo::Deterministic { time: mean },
            ),
            ServiceSpec::Uniform { min, max } => {
                let (a, b) = (min.as_secs_f64(), max.as_secs_f64());
                if b <= a {
                    (
                        if a > x { 1.0 } else { 0.0 },
                        ServiceAtSlo::Deterministic { time: a },
                    )
                } else {
                    (
                        ((b - x) / (b - a)).clamp(0.0, 1.0),
                        ServiceAtSlo::Uniform { min: a, max: b },
                    )
                }
            }
            ServiceSpec::Lognormal { cv, .. } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let d = LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt())
                    .expect("validated lognormal parameters");
                cells(&d, |s| d.pdf(s), x)
            }
            ServiceSpec::Gamma { cv, .. } => {
                let shape = 1.0 / (cv * cv);
                let d = Gamma::new(shape, shape / mean).expect("validated gamma parameters");
                cells(&d, |s| d.pdf(s), x)
            }
        };
        ViolationModel {
            mean_service: mean,
            scv: spec.scv(),
            concurrency: concurrency.max(1),
            dispatch,
            slo: x,
            service_tail,
            service,
        }
    }

    /// The SLO latency in seconds.
    pub fn slo(&self) -> f64 {
        self.slo
    }

    /// Slots per container.
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// `P(S > slo)`: the violation probability with no waiting at all (the floor of every
    /// column).
    pub fn service_tail(&self) -> f64 {
        self.service_tail
    }

    /// How many counts from 0 up are unstable at `rate` (every request violates): those
    /// below `⌊λ E[S] / k⌋`, whose `n · k` slots are fewer than the offered load.
    pub fn unstable_below(&self, rate: f64) -> u32 {
        let a = rate * self.mean_service / f64::from(self.concurrency.max(1));
        if a.is_finite() && a > 0.0 {
            a.floor().min(f64::from(u32::MAX)) as u32
        } else {
            0
        }
    }

    /// `P(latency > slo)` at arrival rate `rate` with `n` containers.
    pub fn probability(&self, rate: f64, n: u32) -> f64 {
        let mut out = [0.0];
        self.fill(rate, n, &mut out);
        out[0]
    }

    /// Fills `out[i]` with `P(latency > slo)` at arrival rate `rate` (per second) with
    /// `first + i` containers.
    ///
    /// For a shared queue this is one pass of the Erlang B recursion up to the largest slot
    /// count needed, `O(first + out.len())` times the concurrency at most, and it stops early
    /// once the probability of waiting falls below [`NEGLIGIBLE_WAIT`] (past that point
    /// every entry is `P(S > slo)`). Per-container dispatch costs `O(k)` per entry.
    pub fn fill(&self, rate: f64, first: u32, out: &mut [f64]) {
        match self.dispatch {
            Dispatch::Shared => self.fill_shared(rate, first, out),
            Dispatch::Random | Dispatch::RoundRobin => self.fill_split(rate, first, out),
        }
    }

    /// The violation probability given the waiting probability `c` and the drain rate
    /// `cμ - λ` of the slots that share a queue, and the arrival squared cv.
    #[inline]
    fn tail(&self, c: f64, drain: f64, arrival_scv: f64) -> f64 {
        let eta = drain * 2.0 / (arrival_scv + self.scv);
        (self.service_tail + c * self.service.conv(eta, self.slo)).min(1.0)
    }

    fn fill_shared(&self, rate: f64, first: u32, out: &mut [f64]) {
        let mu = 1.0 / self.mean_service;
        let a = rate * self.mean_service;
        let inv_a = 1.0 / a;
        let k = self.concurrency as u64;
        let mut inv_b = 1.0; // 1/B(0)
        let mut servers = 0u64;
        for (i, slot) in out.iter_mut().enumerate() {
            let n = first as u64 + i as u64;
            let c = n * k;
            while servers < c {
                servers += 1;
                inv_b = 1.0 + inv_b * (servers as f64 * inv_a);
            }
            let cf = c as f64;
            if a >= cf {
                *slot = 1.0;
                continue;
            }
            let p_wait = erlang_c_from_inv_b(cf, a, inv_b);
            if p_wait < NEGLIGIBLE_WAIT {
                // C decreases with the number of servers: every later entry is the floor.
                out[i..].fill(self.service_tail);
                return;
            }
            *slot = self.tail(p_wait, cf * mu - rate, 1.0);
        }
    }

    fn fill_split(&self, rate: f64, first: u32, out: &mut [f64]) {
        let mu = 1.0 / self.mean_service;
        let k = self.concurrency as u64;
        let kf = k as f64;
        for (i, slot) in out.iter_mut().enumerate() {
            let n = first as u64 + i as u64;
            if n == 0 {
                *slot = 1.0;
                continue;
            }
            let each = rate / n as f64;
            let a = each * self.mean_service;
            if a >= kf {
                *slot = 1.0;
                continue;
            }
            let p_wait = erlang_c(k, a);
            if p_wait < NEGLIGIBLE_WAIT {
                out[i..].fill(self.service_tail);
                return;
            }
            let arrival_scv = match self.dispatch {
                Dispatch::RoundRobin => 1.0 / n as f64,
                _ => 1.0,
            };
            *slot = self.tail(p_wait, kf * mu - each, arrival_scv);
        }
    }
}

/// `P(S > x)` and the cells of `[0, x]` for a continuous distribution `d` with density `pdf`.
fn cells<D: ContinuousCDF<f64, f64>>(
    d: &D,
    pdf: impl Fn(f64) -> f64,
    x: f64,
) -> (f64, ServiceAtSlo) {
    let k = SERVICE_CELLS;
    let width = x / k as f64;
    let mut cells = Vec::with_capacity(k);
    let mut prev_cdf = 0.0;
    for j in 0..k {
        let (l, r) = (j as f64 * width, (j + 1) as f64 * width);
        let cdf = if j + 1 == k { d.cdf(x) } else { d.cdf(r) };
        let mass = (cdf - prev_cdf).max(0.0);
        prev_cdf = cdf;
        let (fl, fr) = (pdf(l), pdf(r));
        let slope = if fl > 0.0 && fr > 0.0 && fl.is_finite() && fr.is_finite() {
            (fr / fl).ln() / width
        } else {
            0.0
        };
        if mass > 0.0 {
            cells.push(Cell {
                right: r,
                mass,
                // A steeper cell has its mass at one end either way; the clamp keeps φ finite.
                slope_w: (slope * width).clamp(-500.0, 500.0),
            });
        }
    }
    (d.sf(x), ServiceAtSlo::Cells { width, cells })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// Erlang C straight from its definition, for small c (factorials fit in f64).
    fn erlang_c_direct(c: u64, a: f64) -> f64 {
        let mut sum = 0.0;
        let mut term = 1.0; // a^k / k!
        for k in 0..c {
            sum += term;
            term *= a / (k + 1) as f64;
        }
        let top = term * c as f64 / (c as f64 - a);
        top / (sum + top)
    }

    #[test]
    fn erlang_c_textbook_values() {
        // c = 2, a = 1: C = 1/3.
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-15));
        // c = 1: C = ρ.
        assert!(close(erlang_c(1, 0.7), 0.7, 1e-15));
        // Erlang B(10, 5) = 0.01838 (standard table value, 4 figures).
        assert!((erlang_b(10, 5.0) - 0.01838).abs() < 5e-6);
        // Reference values computed with mpmath at 50 digits from the definitions.
        assert!(close(erlang_b(100, 80.0), 0.003_992_028_604_553_197, 1e-12));
        assert!(close(erlang_c(100, 80.0), 0.019_646_426_634_359_51, 1e-12));
        assert!(close(erlang_c(10, 8.0), 0.409_180_150_796_443_5, 1e-12));
    }

    #[test]
    fn erlang_c_matches_the_direct_sum_for_small_c() {
        for c in 1..=30u64 {
            for a in [0.1, 0.5 * c as f64, 0.9 * c as f64, c as f64 - 0.01] {
                let want = erlang_c_direct(c, a);
                assert!(close(erlang_c(c, a), want, 1e-12), "c={c} a={a}");
            }
        }
    }

    #[test]
    fn erlang_for_tens_of_thousands_of_servers() {
        // Reference values computed with mpmath at 60 digits.
        assert!(close(
            erlang_c(20_000, 19_800.0),
            0.100_588_987_492_739_09,
            1e-10
        ));
        assert!(close(
            erlang_b(50_000, 49_000.0),
            7.074_443_901_312_938e-8,
            1e-10
        ));
        // Far from the load, B underflows to exactly 0 rather than producing NaN.
        assert_eq!(erlang_b(50_000, 100.0), 0.0);
        assert_eq!(erlang_c(50_000, 100.0), 0.0);
        assert!(erlang_c(50_000, 49_999.9).is_finite());
    }

    #[test]
    fn limits_and_instability() {
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        assert_eq!(erlang_c(5, 0.0), 0.0);
        assert_eq!(erlang_c(5, 5.0), 1.0);
        assert_eq!(erlang_c(5, 7.0), 1.0);
        let q = MMc::new(10.0, 1.0, 10);
        assert!(!q.is_stable());
        assert_eq!(q.p_wait(), 1.0);
        assert_eq!(q.mean_wait(), f64::INFINITY);
        assert_eq!(q.wait_tail(3.0), 1.0);
        assert_eq!(q.latency_tail(3.0), 1.0);
        assert_eq!(MG1::new(2.0, 0.5, 1.0).mean_wait(), f64::INFINITY);
        // Approaching saturation, C rises to 1 and the wait grows without bound.
        let near = MMc::new(9.999, 1.0, 10);
        assert!(near.p_wait() > 0.99 && near.mean_wait() > 900.0);
    }

    #[test]
    fn mm1_closed_forms() {
        // M/M/1, λ = 3, μ = 4: C = ρ = 0.75, E[W] = ρ/(μ-λ) = 0.75, latency ~ Exp(μ - λ).
        let q = MMc::new(3.0, 4.0, 1);
        assert!(close(q.p_wait(), 0.75, 1e-15));
        assert!(close(q.mean_wait(), 0.75, 1e-15));
        assert!(close(q.mean_latency(), 1.0, 1e-15));
        for x in [0.0, 0.1, 1.0, 5.0] {
            assert!(close(q.latency_tail(x), (-x).exp(), 1e-14), "x={x}");
        }
        // P-K with cs² = 1 is the same M/M/1 mean.
        assert!(close(MG1::new(3.0, 0.25, 1.0).mean_wait(), 0.75, 1e-15));
    }

    #[test]
    fn consistency_little_and_tails() {
        let q = MMc::new(45.0, 1.0 / 0.2, 10);
        // P(W > 0) = C.
        assert!(close(q.wait_tail(0.0), q.p_wait(), 1e-15));
        // L_q = λ E[W] and the textbook L_q = C ρ / (1 - ρ).
        let rho = q.utilization();
        assert!(close(
            q.mean_queue_length(),
            q.p_wait() * rho / (1.0 - rho),
            1e-12
        ));
        // E[W] = ∫ P(W > t) dt (trapezoid on a fine grid).
        let h = 1e-4;
        let mut integral = 0.0;
        let mut t = 0.0;
        while t < 20.0 {
            integral += h * (q.wait_tail(t) + q.wait_tail(t + h)) / 2.0;
            t += h;
        }
        assert!(close(integral, q.mean_wait(), 1e-6));
        // Latency tail at 0 is 1; E[latency] = ∫ P(T > x) dx.
        assert!(close(q.latency_tail(0.0), 1.0, 1e-15));
        let mut integral = 0.0;
        let mut x = 0.0;
        while x < 20.0 {
            integral += h * (q.latency_tail(x) + q.latency_tail(x + h)) / 2.0;
            x += h;
        }
        assert!(close(integral, q.mean_latency(), 1e-6));
    }

    #[test]
    fn latency_tail_when_drain_rate_equals_service_rate() {
        // θ = cμ - λ = μ: the hypoexponential degenerates to Erlang-2; the tail is
        // (1-C) e^{-μx} + C (1 + μx) e^{-μx}. Check the neighbourhood has no cancellation.
        let (mu, c) = (2.0, 3u64);
        let lambda = (c as f64 - 1.0) * mu; // θ = μ
        let q = MMc::new(lambda, mu, c);
        let cw = q.p_wait();
        for x in [0.1, 1.0, 3.0] {
            let want = (1.0 - cw) * (-mu * x).exp() + cw * (1.0 + mu * x) * (-mu * x).exp();
            assert!(close(q.latency_tail(x), want, 1e-13));
            let near = MMc::new(lambda * (1.0 + 1e-12), mu, c).latency_tail(x);
            assert!(close(near, want, 1e-9));
        }
        // θ ≠ μ: compare with the textbook form (θ e^{-μx} - μ e^{-θx}) / (θ - μ).
        let q = MMc::new(7.0, 1.0, 10);
        let theta = 3.0;
        let cw = q.p_wait();
        for x in [0.2f64, 1.0, 4.0] {
            let mix = (theta * (-x).exp() - (-theta * x).exp()) / (theta - 1.0);
            let want = (1.0 - cw) * (-x).exp() + cw * mix;
            assert!(close(q.latency_tail(x), want, 1e-13));
        }
    }

    #[test]
    fn md1_and_allen_cunneen() {
        // M/D/1, λ = 0.5, S = 1: E[W] = ρ S / (2(1-ρ)) = 0.5.
        let q = MG1::deterministic(0.5, 1.0);
        assert!(close(q.mean_wait(), 0.5, 1e-15));
        assert!(close(q.p_wait(), 0.5, 1e-15));
        assert!(close(q.mean_queue_length(), 0.25, 1e-15));
        // Allen-Cunneen with c = 1 equals Pollaczek-Khinchine for every cs².
        for scv in [0.0, 0.5, 1.0, 2.25] {
            let pk = MG1::new(0.6, 1.0, scv).mean_wait();
            assert!(close(MGc::new(0.6, 1.0, scv, 1).mean_wait(), pk, 1e-14));
        }
        // With cs² = 1 it is M/M/c.
        let mg = MGc::new(45.0, 0.2, 1.0, 10);
        let mm = MMc::new(45.0, 5.0, 10);
        assert!(close(mg.mean_wait(), mm.mean_wait(), 1e-14));
        assert!(close(mg.wait_tail(0.3), mm.wait_tail(0.3), 1e-14));
        // Deterministic service halves the M/M/c mean wait.
        let md = MGc::new(45.0, 0.2, 0.0, 10);
        assert!(close(md.mean_wait(), mm.mean_wait() / 2.0, 1e-14));
        assert!(close(md.wait_tail(0.0), mm.p_wait(), 1e-14));
    }

    fn exp_spec(mean_ms: u64) -> ServiceSpec {
        ServiceSpec::Exponential {
            mean: SimDuration::from_millis(mean_ms),
        }
    }

    #[test]
    fn shared_column_is_exact_mmc() {
        let m = ViolationModel::new(&exp_spec(100), 1, Dispatch::Shared, 0.5);
        let rate = 576.0;
        let mut col = vec![0.0; 200];
        m.fill(rate, 1, &mut col);
        for (i, &p) in col.iter().enumerate() {
            let n = i as u64 + 1;
            let q = MMc::new(rate, 10.0, n);
            let want = q.latency_tail(0.5);
            if q.is_stable() && q.p_wait() >= NEGLIGIBLE_WAIT {
                assert!(close(p, want, 1e-10), "n={n}: {p} vs {want}");
            } else {
                assert!((p - want).abs() <= NEGLIGIBLE_WAIT, "n={n}: {p} vs {want}");
            }
        }
        // The floor is P(S > slo) = e^{-5}.
        assert!(close(col[199], (-5.0f64).exp(), 1e-15));
        assert_eq!(col[0], 1.0);
        // One entry equals the same entry of a column.
        assert_eq!(m.probability(rate, 60), col[59]);
        // Zero containers always violate.
        assert_eq!(m.probability(rate, 0), 1.0);
    }

    #[test]
    fn concurrency_multiplies_the_servers() {
        let m4 = ViolationModel::new(&exp_spec(100), 4, Dispatch::Shared, 0.3);
        let m1 = ViolationModel::new(&exp_spec(100), 1, Dispatch::Shared, 0.3);
        let mut c4 = vec![0.0; 30];
        m4.fill(100.0, 0, &mut c4);
        for (n, &p) in c4.iter().enumerate() {
            assert_eq!(p, m1.probability(100.0, 4 * n as u32), "n={n}");
        }
    }

    #[test]
    fn random_dispatch_is_independent_mmk() {
        let m = ViolationModel::new(&exp_spec(100), 2, Dispatch::Random, 0.4);
        let rate = 150.0;
        let mut col = vec![0.0; 40];
        m.fill(rate, 1, &mut col);
        for (i, &p) in col.iter().enumerate() {
            let n = i as f64 + 1.0;
            let q = MMc::new(rate / n, 10.0, 2);
            let want = q.latency_tail(0.4);
            assert!(
                (p - want).abs() <= 1e-12 + 1e-10 * want,
                "n={n}: {p} vs {want}"
            );
        }
        // Splitting the queue is worse than sharing it.
        let shared = ViolationModel::new(&exp_spec(100), 2, Dispatch::Shared, 0.4);
        assert!(m.probability(rate, 10) > shared.probability(rate, 10));
        // Round-robin smooths arrivals: between shared and random.
        let rr = ViolationModel::new(&exp_spec(100), 2, Dispatch::RoundRobin, 0.4);
        let p = rr.probability(rate, 10);
        assert!(p < m.probability(rate, 10) && p > shared.probability(rate, 10));
    }

    #[test]
    fn deterministic_and_uniform_service() {
        let det = ServiceSpec::Deterministic {
            mean: SimDuration::from_millis(100),
        };
        // SLO below the service time: everything violates.
        let m = ViolationModel::new(&det, 1, Dispatch::Shared, 0.05);
        assert_eq!(m.probability(1.0, 10), 1.0);
        // Otherwise P = C e^{-η (x - D)} with η = 2(cμ - λ)/(1 + 0).
        let m = ViolationModel::new(&det, 1, Dispatch::Shared, 0.3);
        let c = erlang_c(10, 8.0);
        let eta = 2.0 * (100.0 - 80.0);
        assert!(close(
            m.probability(80.0, 10),
            c * (-eta * 0.2f64).exp(),
            1e-12
        ));
        // Uniform with min = max behaves as deterministic.
        let uni = ServiceSpec::Uniform {
            min: SimDuration::from_millis(100),
            max: SimDuration::from_millis(100),
        };
        let mu = ViolationModel::new(&uni, 1, Dispatch::Shared, 0.3);
        assert!(close(
            mu.probability(80.0, 10),
            m.probability(80.0, 10),
            1e-12
        ));
        // Uniform 50..150 ms, SLO 120 ms: P(S > x) = 0.3; the wait term against a numeric
        // integral of the density.
        let uni = ServiceSpec::Uniform {
            min: SimDuration::from_millis(50),
            max: SimDuration::from_millis(150),
        };
        let m = ViolationModel::new(&uni, 1, Dispatch::Shared, 0.12);
        assert!(close(m.service_tail(), 0.3, 1e-12));
        let scv = uni.scv();
        let cw = erlang_c(10, 8.0);
        let eta = 2.0 * (100.0 - 80.0) / (1.0 + scv);
        let steps = 100_000;
        let h = 0.07 / steps as f64;
        let integral: f64 = (0..steps)
            .map(|j| {
                let s = 0.05 + (j as f64 + 0.5) * h;
                10.0 * (-eta * (0.12 - s)).exp() * h
            })
            .sum();
        assert!(close(m.probability(80.0, 10), 0.3 + cw * integral, 1e-8));
    }

    #[test]
    fn gamma_and_lognormal_service() {
        // Gamma with cv = 1 is exponential, whose density the cells interpolate exactly.
        let g = ServiceSpec::Gamma {
            mean: SimDuration::from_millis(100),
            cv: 1.0,
        };
        let mg = ViolationModel::new(&g, 1, Dispatch::Shared, 0.5);
        let me = ViolationModel::new(&exp_spec(100), 1, Dispatch::Shared, 0.5);
        assert!(close(mg.service_tail(), me.service_tail(), 1e-9));
        for n in [58u32, 60, 62, 65, 70] {
            let (pg, pe) = (mg.probability(576.0, n), me.probability(576.0, n));
            assert!(close(pg, pe, 1e-8), "n={n}: {pg} vs {pe}");
        }
        // Gamma shape 2 and lognormal cv 1.5: the wait term against a fine midpoint rule.
        let specs = [
            ServiceSpec::Gamma {
                mean: SimDuration::from_millis(100),
                cv: 0.5f64.sqrt(),
            },
            ServiceSpec::Lognormal {
                mean: SimDuration::from_millis(100),
                cv: 1.5,
            },
        ];
        for spec in &specs {
            let m = ViolationModel::new(spec, 1, Dispatch::Shared, 0.3);
            let pdf: Box<dyn Fn(f64) -> f64> = match spec {
                ServiceSpec::Gamma { cv, .. } => {
                    let shape = 1.0 / (cv * cv);
                    let d = Gamma::new(shape, shape / 0.1).unwrap();
                    Box::new(move |s| d.pdf(s))
                }
                ServiceSpec::Lognormal { cv, .. } => {
                    let s2 = (1.0 + cv * cv).ln();
                    let d = LogNormal::new(0.1f64.ln() - s2 / 2.0, s2.sqrt()).unwrap();
                    Box::new(move |s| d.pdf(s))
                }
                _ => unreachable!(),
            };
            for n in [60u32, 61, 63, 66] {
                let drain = n as f64 * 10.0 - 576.0;
                let eta = 2.0 * drain / (1.0 + spec.scv());
                let steps = 200_000;
                let h = 0.3 / steps as f64;
                let integral: f64 = (0..steps)
                    .map(|j| {
                        let s = (j as f64 + 0.5) * h;
                        pdf(s) * (-eta * (0.3 - s)).exp() * h
                    })
                    .sum();
                let want = m.service_tail() + erlang_c(n as u64, 57.6) * integral;
                let got = m.probability(576.0, n);
                assert!(close(got, want, 2e-3), "{spec:?} n={n}: {got} vs {want}");
            }
            // Monotone in n, down to the floor.
            let mut col = vec![0.0; 300];
            m.fill(576.0, 1, &mut col);
            assert!(col.windows(2).all(|w| w[1] <= w[0]));
            assert_eq!(col[299], m.service_tail());
        }
    }

    /// The violation probability is convex in the number of containers wherever the queue is
    /// stable (the only kink is where it drops from 1), for every service distribution.
    #[test]
    fn columns_are_convex_on_the_stable_side() {
        let ms = SimDuration::from_millis(100);
        let specs = [
            ServiceSpec::Exponential { mean: ms },
            ServiceSpec::Deterministic { mean: ms },
            ServiceSpec::Lognormal { mean: ms, cv: 2.0 },
            ServiceSpec::Gamma { mean: ms, cv: 0.5 },
        ];
        for spec in &specs {
            for k in [1u32, 4] {
                for slo in [0.15, 0.5, 2.0] {
                    let m = ViolationModel::new(spec, k, Dispatch::Shared, slo);
                    for rate in [1.0, 10.0, 57.6, 300.0, 5000.0] {
                        let mut col = vec![0.0; 2000];
                        m.fill(rate, 0, &mut col);
                        for (n, w) in col.windows(3).enumerate() {
                            if w[0] < 1.0 {
                                let d2 = w[2] - 2.0 * w[1] + w[0];
                                assert!(d2 >= -1e-15, "{spec:?} k={k} slo={slo} n={n}");
                            }
                        }
                    }
                }
            }
        }
    }
}
