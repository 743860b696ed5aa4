//! Accounting of one run: per-request statistics after the warm-up, per-interval timeline
//! rows for the whole run, cumulative totals for the policies, and the cost.
//!
//! The cost of a run is its replica cost (billed from a container's start decision until it
//! stops), plus `violation_penalty` per violating request, plus `start_cost` per container
//! the policy starts and `stop_cost` per container it stops (a starting container cancelled
//! or a ready one drained), each charged when the policy decides it; the containers of the
//! initial cluster are not charged a start. After the warm-up only, like everything else in
//! the summary; per interval in the timeline.
//!
//! Guarantees: sums are exact integers (counts, nanoseconds) until a row or the summary is
//! made; a request counts in the summary when it arrived after the warm-up, and in the
//! timeline interval in which its outcome (completion, drop or failure) happened. A failed
//! request (lost with its container, `[faults]`) violates the SLO like a dropped one.

use crate::autoscaler::Totals;
use crate::cluster::model::{Areas, Cluster, RequestLog};
use crate::scenario::Scenario;
use crate::stats::{LatencyHistogram, RequestStats, RunSummary, TimelineRow};
use crate::time::NANOS_PER_SEC;

/// Per-interval counters (all requests, warm-up included: the timeline shows the whole run).
#[derive(Debug, Default)]
struct IntervalCounters {
    arrivals: u64,
    completed: u64,
    dropped: u64,
    failed: u64,
    violations: u64,
    /// Containers started and stopped by the policy (for `start_cost` and `stop_cost`).
    starts: u64,
    stops: u64,
    latency: LatencyHistogram,
}

/// The books of one run.
pub struct Accounting {
    warmup: u64,
    slo: u64,
    stats: RequestStats,
    interval: IntervalCounters,
    interval_start: u64,
    interval_areas: Areas,
    billed_at_warmup: u128,
    timeline: Vec<TimelineRow>,
    scale_ups: u64,
    scale_downs: u64,
    /// Containers started and stopped by the policy after the warm-up.
    starts: u64,
    stops: u64,
    totals_arrivals: u64,
    totals_completions: u64,
    totals_drops: u64,
}

impl Accounting {
    pub fn new(sc: &Scenario) -> Self {
        Accounting {
            warmup: sc.warmup.0,
            slo: sc.cost.slo_latency.0,
            stats: RequestStats::default(),
            interval: IntervalCounters::default(),
            interval_start: 0,
            interval_areas: Areas::default(),
            billed_at_warmup: 0,
            timeline: Vec::new(),
            scale_ups: 0,
            scale_downs: 0,
            starts: 0,
            stops: 0,
            totals_arrivals: 0,
            totals_completions: 0,
            totals_drops: 0,
        }
    }

    /// A request arrives at `now`.
    #[inline]
    pub fn arrived(&mut self, now: u64) {
        self.totals_arrivals += 1;
        self.interval.arrivals += 1;
        if now >= self.warmup {
            self.stats.requests += 1;
        }
    }

    /// A request that arrived at `arrival` and waited `wait` completes at `now`.
    #[inline]
    pub fn completed(&mut self, now: u64, arrival: u64, wait: u64) {
        let latency = now - arrival;
        self.totals_completions += 1;
        self.interval.completed += 1;
        self.interval.latency.record(latency);
        let slow = latency > self.slo;
        if slow {
            self.interval.violations += 1;
        }
        if arrival >= self.warmup {
            let s = &mut self.stats;
            s.completed += 1;
            s.wait_sum_ns += wait as u128;
            s.latency_sum_ns += latency as u128;
            s.waited += u64::from(wait > 0);
            s.slow += u64::from(slow);
            s.latency.record(latency);
        }
    }

    /// The policy changes the desired count from `old` to `new` at `now`, which starts
    /// `starts` containers and stops `stops`.
    pub fn decided(&mut self, now: u64, old: u32, new: u32, starts: u64, stops: u64) {
        let counted = now >= self.warmup;
        if new != old && counted {
            if new > old {
                self.scale_ups += 1;
            } else {
                self.scale_downs += 1;
            }
        }
        self.interval.starts += starts;
        self.interval.stops += stops;
        if counted {
            self.starts += starts;
            self.stops += stops;
        }
    }

    /// The warm-up ends; `areas` are the cluster's integrals at that time.
    pub fn warmup_ended(&mut self, areas: Areas) {
        self.billed_at_warmup = areas.billed;
    }

    /// Cumulative totals since the start of the run, for the policies.
    pub fn totals(&self, areas: &Areas) -> Totals {
        Totals {
            arrivals: self.totals_arrivals,
            completions: self.totals_completions,
            drops: self.totals_drops,
            busy_area: areas.busy as f64 / NANOS_PER_SEC as f64,
            queued_area: areas.waiting as f64 / NANOS_PER_SEC as f64,
            draining_area: areas.draining_load as f64 / NANOS_PER_SEC as f64,
        }
    }

    /// Closes the interval that ends at `now`, if it is not empty; returns its length in ns.
    pub fn close_interval(&mut self, sc: &Scenario, now: u64, cluster: &mut Cluster) -> u64 {
        let len = now - self.interval_start;
        if len == 0 {
            return 0;
        }
        let a = cluster.areas(now);
        let p = self.interval_areas;
        let secs = |x: u128| x as f64 / NANOS_PER_SEC as f64;
        let len_s = len as f64 / NANOS_PER_SEC as f64;
        let replica_seconds = secs(a.billed - p.billed);
        let cost = sc.cost.objective(replica_seconds, self.interval.violations)
            + sc.cost.switching(self.interval.starts, self.interval.stops);
        let slots = a.serving_slots - p.serving_slots;
        self.timeline.push(TimelineRow {
            time_s: self.interval_start as f64 / NANOS_PER_SEC as f64,
            length_s: len_s,
            arrivals: self.interval.arrivals,
            completed: self.interval.completed,
            dropped: self.interval.dropped,
            failed: self.interval.failed,
            ready_replicas: cluster.ready(),
            starting_replicas: cluster.starting(),
            desired_replicas: cluster.desired(),
            busy: secs(a.busy - p.busy) / len_s,
            queued: secs(a.waiting - p.waiting) / len_s,
            utilization: if slots == 0 {
                f64::NAN
            } else {
                (a.busy - p.busy) as f64 / slots as f64
            },
            p95_latency_s: self.interval.latency.quantile_s(0.95),
            p50_latency_s: self.interval.latency.quantile_s(0.5),
            p99_latency_s: self.interval.latency.quantile_s(0.99),
            cost,
            replica_seconds,
            slo_violations: self.interval.violations,
        });
        let latency = std::mem::take(&mut self.interval.latency);
        self.interval = IntervalCounters {
            latency,
            ..IntervalCounters::default()
        };
        self.interval.latency.clear();
        self.interval_start = now;
        self.interval_areas = a;
        len
    }

    /// The summary of the run, its timeline and its latency histogram, once the run is over
    /// and `areas` are the cluster's integrals at its end.
    pub fn finish(
        self,
        sc: &Scenario,
        areas: Areas,
    ) -> (RunSummary, Vec<TimelineRow>, LatencyHistogram) {
        let s = &self.stats;
        let replica_seconds = (areas.billed - self.billed_at_warmup) as f64 / NANOS_PER_SEC as f64;
        let cost = sc.cost.objective(replica_seconds, s.violations())
            + sc.cost.switching(self.starts, self.stops);
        let summary = RunSummary {
            requests: s.requests,
            completed: s.completed,
            dropped: s.dropped,
            failed: s.failed,
            mean_wait_s: s.mean_wait_s(),
            p_wait: s.p_wait(),
            mean_latency_s: s.mean_latency_s(),
            p50_latency_s: s.latency.quantile_s(0.5),
            p95_latency_s: s.latency.quantile_s(0.95),
            p99_latency_s: s.latency.quantile_s(0.99),
            slo_violations: s.violations(),
            slo_violation_ratio: s.violation_ratio(),
            replica_seconds,
            cost,
            objective: cost,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
        };
        (summary, self.timeline, self.stats.latency)
    }
}

impl Accounting {
    /// A request that arrived at `arrival` leaves unserved now (dropped or failed): a
    /// violation. Returns whether it counts in the summary (it arrived after the warm-up).
    #[inline]
    fn unserved(&mut self, arrival: u64) -> bool {
        self.totals_drops += 1;
        self.interval.violations += 1;
        arrival >= self.warmup
    }
}

impl RequestLog for Accounting {
    #[inline]
    fn dropped(&mut self, arrival: u64) {
        self.interval.dropped += 1;
        if self.unserved(arrival) {
            self.stats.dropped += 1;
        }
    }

    #[inline]
    fn failed(&mut self, arrival: u64) {
        self.interval.failed += 1;
        if self.unserved(arrival) {
            self.stats.failed += 1;
        }
    }
}
