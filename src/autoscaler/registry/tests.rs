//! Validation of every policy type's keys: defaults, ranges, and located errors.

use super::*;
use crate::autoscaler::hpa::Behavior;
use crate::autoscaler::hpa::{RateKind, RatePolicy, Select};
use crate::autoscaler::lcp::LcpParams;
use crate::autoscaler::pipeline::{ClusterMetric, ScrapeSpec};
use crate::autoscaler::threshold::PercentRounding;
use crate::autoscaler::threshold::Step;
use crate::planner::calibrate::ModelKind;
use crate::planner::forecast::{self, ForecastMethod};
use std::path::Path;

const HEAD: &str = "name = \"t\"\nduration = \"1h\"\n[workload]\ntype = \"poisson\"\nrate = 10.0\n[service]\ndistribution = \"exponential\"\nmean = \"100ms\"\n[cluster]\nconcurrency = 4\n";

fn parse(policy: &str) -> Result<PolicySpec, InputError> {
    let text = format!("{HEAD}[[policy]]\nname = \"p\"\n{policy}\n");
    crate::scenario::parse(Path::new("s.toml"), &text).map(|s| s.policies[0].spec.clone())
}

fn err(policy: &str) -> InputError {
    parse(policy).expect_err("the policy is invalid")
}

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

#[test]
fn hpa_defaults_are_kubernetes_defaults() {
    let PolicySpec::Hpa(p) = parse("type = \"hpa\"").unwrap() else {
        panic!("an hpa")
    };
    assert_eq!(p.target_percent, 80); // kubectl autoscale's default
    assert_eq!(p.cpu_initialization_period, secs(300));
    assert_eq!(p.initial_readiness_delay, secs(30));
    assert_eq!(p.sync_period, secs(15));
    assert_eq!(p.tolerance, 0.1);
    assert_eq!(p.stabilization_window, secs(300));
    assert_eq!(p.behavior, None);
    assert_eq!(
        p.scrape,
        ScrapeSpec {
            resolution: secs(15),
            window: secs(15),
            // The mean age of the kubelet's cAdvisor statistics (10 s housekeeping).
            delay: secs(5),
            fresh_min: secs(10),
            phase: SimDuration::ZERO,
            scrape_starting: true,
        }
    );
    // Drawn per replication at build unless given.
    assert_eq!(p.scrape_phase, None);
}

#[test]
fn hpa_behavior_keys_fill_in_the_defaults() {
    let PolicySpec::Hpa(p) = parse("type = \"hpa\"\nbehavior = true").unwrap() else {
        panic!("an hpa")
    };
    assert_eq!(
        p.behavior,
        Some(Behavior {
            scale_up: Behavior::default_scale_up(),
            scale_down: Behavior::default_scale_down(secs(300)),
        })
    );
    let PolicySpec::Hpa(p) = parse(
        "type = \"hpa\"\nstabilization_window = \"1m\"\nscale_up_policies = [[\"pods\", 2, \"1m\"]]\nscale_down_select = \"disabled\"",
    )
    .unwrap() else {
        panic!("an hpa")
    };
    let b = p.behavior.unwrap();
    assert_eq!(
        b.scale_up.policies,
        vec![RatePolicy {
            kind: RateKind::Pods,
            value: 2,
            period: secs(60)
        }]
    );
    assert_eq!(b.scale_down.select, Select::Disabled);
    assert_eq!(b.scale_down.stabilization, secs(60));
}

#[test]
fn kpa_defaults_are_knative_defaults() {
    let PolicySpec::Kpa(p) = parse("type = \"kpa\"").unwrap() else {
        panic!("a kpa")
    };
    assert!((p.target - 2.8).abs() < 1e-12); // 70 % of cluster.concurrency = 4
    assert_eq!(p.stable_window, secs(60));
    assert_eq!(p.panic_window, secs(6));
    assert_eq!(p.panic_threshold, 2.0);
    assert_eq!(p.max_scale_up_rate, 1000.0);
    assert_eq!(p.max_scale_down_rate, 2.0);
    assert_eq!(p.scale_to_zero_grace, secs(30));
    assert_eq!(p.tick, secs(2));
    assert_eq!(p.metric_resolution, secs(1));
    let PolicySpec::Kpa(p) = parse("type = \"kpa\"\nmetric = \"rps\"").unwrap() else {
        panic!("a kpa")
    };
    assert!((p.target - 140.0).abs() < 1e-12);
    // `target` is Knative's annotation: times the utilization, capped at the concurrency.
    let PolicySpec::Kpa(p) = parse("type = \"kpa\"\ntarget = 10").unwrap() else {
        panic!("a kpa")
    };
    assert!((p.target - 2.8).abs() < 1e-12);
    assert_eq!(p.total, 4.0);
    let PolicySpec::Kpa(p) = parse("type = \"kpa\"\ntarget_per_pod = 10").unwrap() else {
        panic!("a kpa")
    };
    assert_eq!((p.target, p.total), (10.0, 4.0));
    assert_eq!(p.target_burst_capacity, 211.0);
}

/// `ResolveMetricTarget`, the cases of knative/serving
/// `pkg/reconciler/autoscaling/resources/target_test.go: TestResolveMetricTarget` that a
/// scenario can express (the container concurrency is `cluster.concurrency`; Knative's own
/// test configuration uses a utilization of 100 % unless a case sets it).
#[test]
fn kpa_target_resolves_as_knative() {
    let cases = [
        // (concurrency, policy keys, target, total)
        (100, "", 100.0, 100.0),                                  // defaults
        (100, "target_utilization_percentage = 80", 80.0, 100.0), // default CC + 80% TU
        (12, "target_utilization_percentage = 75", 9.0, 12.0),    // CC 12, TU annotation 75%
        (10, "target_utilization_percentage = 80", 8.0, 10.0),    // CC 10 and TU=80%
        (1, "target_utilization_percentage = 80", 0.8, 1.0),      // CC 1 and TU=80%
        (1, "", 1.0, 1.0),                                        // CC 1
        (100, "target = 1", 1.0, 1.0),                            // target annotation 1
        (
            100,
            "target = 1\ntarget_utilization_percentage = 0.1",
            0.01,
            1.0,
        ), // TU=0.1% -> TargetMin
        (
            100,
            "target = 1\ntarget_utilization_percentage = 75",
            0.75,
            1.0,
        ),
        (
            100,
            "target = 10\ntarget_utilization_percentage = 75",
            7.5,
            10.0,
        ),
        (10, "target = 1", 1.0, 1.0), // CC greater than the annotation (ok)
        (1000, "target = 500", 500.0, 500.0), // annotation greater than the default (ok)
        (1, "target = 10", 1.0, 1.0), // annotation greater than CC: capped for safety
        (
            1,
            "metric = \"rps\"\ntarget_utilization_percentage = 70",
            140.0,
            200.0,
        ), // RPS defaults
        (
            100,
            "metric = \"rps\"\ntarget = 1\ntarget_utilization_percentage = 70",
            0.7,
            1.0,
        ),
        (
            100,
            "metric = \"rps\"\ntarget_utilization_percentage = 75",
            150.0,
            200.0,
        ),
        (
            1,
            "metric = \"rps\"\ntarget = 300\ntarget_utilization_percentage = 70",
            210.0,
            300.0,
        ),
    ];
    for (concurrency, keys, target, total) in cases {
        // Knative's test configuration has a utilization of 100 % unless the case sets one.
        let keys = if keys.contains("utilization") {
            keys.to_string()
        } else {
            format!("{keys}\ntarget_utilization_percentage = 100")
        };
        let text = format!(
            "{}[[policy]]\nname = \"p\"\ntype = \"kpa\"\n{keys}\n",
            HEAD.replace("concurrency = 4", &format!("concurrency = {concurrency}"))
        );
        let s = crate::scenario::parse(Path::new("s.toml"), &text).unwrap();
        let PolicySpec::Kpa(p) = &s.policies[0].spec else {
            panic!("a kpa")
        };
        assert!(
            (p.target - target).abs() < 1e-9 && p.total == total,
            "{keys} with concurrency {concurrency}: got ({}, {}), want ({target}, {total})",
            p.target,
            p.total
        );
    }
}

#[test]
fn threshold_and_target_tracking_defaults() {
    let PolicySpec::Threshold(p) = parse("type = \"threshold\"").unwrap() else {
        panic!("a threshold")
    };
    assert_eq!(p.metric, ClusterMetric::Utilization);
    assert_eq!((p.upper, p.lower), (0.8, 0.3));
    assert_eq!(p.step, Step::Percent(50.0));
    assert_eq!(p.percent_rounding, PercentRounding::Truncate);
    assert_eq!(p.evaluation_periods, 1);
    assert_eq!(p.cooldown, SimDuration::ZERO);
    assert_eq!(p.period, secs(60));
    let PolicySpec::Threshold(p) =
        parse("type = \"threshold\"\nmetric = \"concurrency\"\nstep = \"25%\"\npercent_rounding = \"away\"")
            .unwrap()
    else {
        panic!("a threshold")
    };
    assert!((p.upper - 3.2).abs() < 1e-12);
    assert_eq!(p.step, Step::Percent(25.0));
    assert_eq!(p.percent_rounding, PercentRounding::Away);
    let PolicySpec::TargetTracking(p) = parse("type = \"target_tracking\"").unwrap() else {
        panic!("a target tracking")
    };
    assert_eq!(p.target, 0.7);
    assert_eq!(
        (p.scale_out_cooldown, p.scale_in_cooldown),
        (secs(300), secs(300))
    );
    assert_eq!(p.warmup, SimDuration::ZERO);
    assert_eq!((p.scale_out_datapoints, p.scale_in_datapoints), (3, 15));
}

#[test]
fn predictive_defaults_are_aws_defaults() {
    use crate::autoscaler::predictive::MaxCapacityBreach;
    let PolicySpec::Predictive(p) = parse("type = \"predictive\"").unwrap() else {
        panic!("a predictive")
    };
    assert_eq!(p.scheduling_buffer, secs(300));
    assert_eq!(p.breach, MaxCapacityBreach::Honor);
    assert_eq!(p.max_capacity, 1000);
    // The target tracking on top has target_tracking's own defaults.
    let PolicySpec::TargetTracking(t) = parse("type = \"target_tracking\"").unwrap() else {
        panic!("a target tracking")
    };
    assert_eq!(p.tracking, t);
    let PolicySpec::Predictive(p) = parse(
        "type = \"predictive\"\nscheduling_buffer_time = \"1h\"\nmax_capacity_breach_behavior = \"increase_max_capacity\"\nmax_capacity_buffer = 10\nmax_capacity = 40\nmetric = \"rps\"\ntarget = 25.0",
    )
    .unwrap() else {
        panic!("a predictive")
    };
    assert_eq!(p.scheduling_buffer, secs(3600));
    assert_eq!(
        p.breach,
        MaxCapacityBreach::Increase {
            buffer_percent: 10.0
        }
    );
    assert_eq!(p.max_capacity, 40);
    assert_eq!(
        (p.tracking.metric, p.tracking.target),
        (ClusterMetric::Rps, 25.0)
    );
}

#[test]
fn keys_of_another_type_are_errors_at_their_line() {
    let e = err("type = \"hpa\"\ntick = \"2s\"");
    assert_eq!(e.line, Some(14));
    assert_eq!(e.key.as_deref(), Some("policy.p.tick"));
    assert!(
        e.message
            .contains("does not apply to policy \"p\" of type \"hpa\""),
        "{e}"
    );
    assert!(e.message.contains("sync_period"), "{e}");
    // A typo is an unknown field.
    let e = err("type = \"kpa\"\nstable_windw = \"30s\"");
    assert_eq!(e.line, Some(14));
    assert!(e.message.contains("stable_windw"), "{e}");
    let e = err("type = \"autoscaler\"");
    assert!(e.message.contains("\"target_tracking\""), "{e}");
}

#[test]
fn out_of_range_values_say_what_was_expected() {
    let cases: [(&str, &str, &str); 26] = [
        (
            "type = \"predictive\"\nscheduling_buffer_time = \"61m\"",
            "policy.scheduling_buffer_time",
            "from 0s to 3600s",
        ),
        (
            "type = \"predictive\"\nmax_capacity_breach_behavior = \"increase\"",
            "policy.max_capacity_breach_behavior",
            "\"honor_max_capacity\" or \"increase_max_capacity\"",
        ),
        (
            "type = \"predictive\"\nmax_capacity_breach_behavior = \"increase_max_capacity\"",
            "policy.max_capacity_buffer",
            "needs `max_capacity_buffer`",
        ),
        (
            "type = \"predictive\"\nmax_capacity_buffer = 5",
            "policy.max_capacity_buffer",
            "applies only with",
        ),
        (
            "type = \"predictive\"\nmax_capacity_breach_behavior = \"increase_max_capacity\"\nmax_capacity_buffer = 101",
            "policy.max_capacity_buffer",
            "from 0 to 100",
        ),
        (
            "type = \"predictive\"\nmax_capacity = 1001",
            "policy.max_capacity",
            "1 to 1000",
        ),
        (
            "type = \"predictive\"\nperiod = \"7m\"",
            "policy.period",
            "divides 1 hour",
        ),
        (
            "type = \"predictive\"\nmetric = \"rps\"",
            "policy.target",
            "needs `target`",
        ),
        (
            "type = \"hpa\"\ntarget_utilization = 0.705",
            "policy.target_utilization",
            "whole percentage",
        ),
        (
            "type = \"hpa\"\ntarget_utilization = 1.5",
            "policy.target_utilization",
            "at most 1",
        ),
        (
            "type = \"hpa\"\ntolerance = 1.0",
            "policy.tolerance",
            "below 1",
        ),
        (
            "type = \"hpa\"\nmetric_window = \"20s\"",
            "policy.metric_window",
            "multiple of metric_resolution",
        ),
        (
            "type = \"hpa\"\nbehavior = false\nscale_up_select = \"min\"",
            "policy.behavior",
            "contradicts",
        ),
        (
            "type = \"hpa\"\nscale_up_policies = [[\"nodes\", 4, \"15s\"]]",
            "policy.scale_up_policies",
            "\"pods\" or \"percent\"",
        ),
        (
            "type = \"hpa\"\nscale_down_policies = [[\"pods\", 4, \"1h\"]]",
            "policy.scale_down_policies",
            "30 minutes",
        ),
        (
            "type = \"threshold\"\nmetric = \"rps\"",
            "policy.upper",
            "needs `upper`",
        ),
        (
            "type = \"threshold\"\nlower = 0.9",
            "policy.lower",
            "below `upper`",
        ),
        (
            "type = \"threshold\"\nstep = 2\nmin_adjustment_magnitude = 2",
            "policy.min_adjustment_magnitude",
            "percentage `step`",
        ),
        (
            "type = \"threshold\"\nstep = \"lots\"",
            "policy.step",
            "a percentage of the capacity",
        ),
        (
            "type = \"threshold\"\nevaluation_periods = 0",
            "policy.evaluation_periods",
            "at least 1",
        ),
        (
            "type = \"kpa\"\ntarget_per_pod = 5\ntarget_utilization_percentage = 50",
            "policy.target_utilization_percentage",
            "not both",
        ),
        (
            "type = \"kpa\"\ntarget_burst_capacity = -2",
            "policy.target_burst_capacity",
            "-1 (the activator always in the request path)",
        ),
        (
            "type = \"kpa\"\nstable_window = \"5s\"",
            "policy.stable_window",
            "from 6s to 3600s",
        ),
        (
            "type = \"kpa\"\npanic_threshold = 1.0",
            "policy.panic_threshold",
            "from 1.1 to 10",
        ),
        (
            "type = \"target_tracking\"\nmetric = \"rps\"",
            "policy.target",
            "needs `target`",
        ),
        (
            "type = \"target_tracking\"\nwarmup = \"1m\"\nscale_out_cooldown = \"1m\"",
            "policy.scale_out_cooldown",
            "paced by the warm-up",
        ),
    ];
    for (policy, key, text) in cases {
        let e = err(policy);
        // Type errors found while reading name the policy (`policy.p.step`).
        let k = e.key.clone().unwrap_or_default();
        assert!(
            k == key || k == key.replace("policy.", "policy.p."),
            "{policy}: {e}"
        );
        assert!(e.message.contains(text), "{policy}: {e}");
        assert!(e.line.is_some(), "{policy}: {e}");
        assert_eq!(e.file.as_deref(), Some(Path::new("s.toml")));
    }
}

#[test]
fn every_type_builds_and_reports_its_parameters() {
    for t in [
        "threshold",
        "hpa",
        "kpa",
        "target_tracking",
        "predictive",
        "dp",
        "oracle",
        "lcp",
    ] {
        let spec = parse(&format!("type = \"{t}\"")).unwrap();
        assert_eq!(spec.type_name(), t);
        assert!(!spec.parameters().is_empty());
        let text = format!("{HEAD}[[policy]]\nname = \"p\"\ntype = \"{t}\"\n");
        let sc = crate::scenario::parse(Path::new("s.toml"), &text).unwrap();
        let calibrations = crate::calibration::prepare(&[&sc], &|_| {}).unwrap();
        let ctx = BuildContext {
            setting: sc.setting(),
            replication: 0,
            calibrations: &calibrations,
        };
        assert!(!spec.build(&ctx).unwrap().tick_interval().is_zero());
    }
}

#[test]
fn planner_defaults_and_keys() {
    let PolicySpec::Dp(p) = parse("type = \"dp\"").unwrap() else {
        panic!("a dp")
    };
    assert_eq!(p.horizon, secs(600));
    assert_eq!(
        p.forecaster,
        ForecastMethod::Ewma {
            alpha: forecast::DEFAULT_EWMA_ALPHA
        }
    );
    assert_eq!(p.margin, 0.0);
    assert_eq!(p.model, ModelKind::Calibrated);
    // The decision step: the shorter of the scenario's interval (60 s by default) and 20 s.
    assert_eq!(p.step, secs(20));
    // The season is a whole number of planning steps.
    let PolicySpec::Dp(p) = parse(
        "type = \"dp\"\nstep = \"60s\"\nforecaster = \"holt_winters\"\nseason = \"2h\"\nalpha = 0.3\nbeta = 0.1\ngamma = 0.4\nmargin = 1.5\nmodel = \"analytic\"\nhorizon = \"30m\"",
    )
    .unwrap() else {
        panic!("a dp")
    };
    assert_eq!(
        p.forecaster,
        ForecastMethod::HoltWinters {
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.4,
            period: 120
        }
    );
    assert_eq!((p.margin, p.model), (1.5, ModelKind::Analytic));
    assert_eq!(p.horizon, secs(1800));
    let PolicySpec::Dp(p) = parse("type = \"dp\"\nforecaster = \"seasonal_naive\"").unwrap() else {
        panic!("a dp")
    };
    assert_eq!(p.forecaster, ForecastMethod::SeasonalNaive { period: 4320 });
    let PolicySpec::Dp(p) = parse("type = \"dp\"\nforecaster = \"auto\"\nshare = 0.01").unwrap()
    else {
        panic!("a dp")
    };
    assert_eq!(
        p.forecaster,
        ForecastMethod::Auto {
            share: 0.01,
            step_s: 20.0
        }
    );
    let spec = parse("type = \"oracle\"").unwrap();
    assert!(
        spec.parameters()
            .iter()
            .any(|(k, v)| *k == "sees_the_future" && v.starts_with("yes"))
    );
    assert_eq!(
        parse("type = \"lcp\"\nmodel = \"analytic\"").unwrap(),
        PolicySpec::Lcp(LcpParams {
            step: secs(20),
            model: ModelKind::Analytic
        })
    );
    // The step is the policy's own, independent of the report interval, for every planner.
    for t in ["dp", "oracle", "lcp"] {
        let spec = parse(&format!("type = \"{t}\"\nstep = \"20s\"")).unwrap();
        assert_eq!(spec.decision_step(), Some(secs(20)), "{t}");
        assert!(
            spec.parameters().contains(&("step", "20s".to_string())),
            "{t}"
        );
    }
    // A report interval shorter than 20 s is the default step.
    let head = HEAD.replace(
        "duration = \"1h\"\n",
        "duration = \"1h\"\ninterval = \"5s\"\n",
    );
    let text = format!("{head}[[policy]]\nname = \"p\"\ntype = \"oracle\"\n");
    let sc = crate::scenario::parse(Path::new("s.toml"), &text).unwrap();
    assert_eq!(sc.policies[0].spec.decision_step(), Some(secs(5)));
}

#[test]
fn planner_keys_out_of_place_or_range_are_located_errors() {
    let cases = [
        (
            "type = \"dp\"\nforecaster = \"arima\"",
            "policy.forecaster",
            "unknown forecaster \"arima\"",
        ),
        (
            "type = \"dp\"\nforecaster = \"last\"\nalpha = 0.5",
            "policy.alpha",
            "applies to forecaster = \"ewma\" and \"holt_winters\" only",
        ),
        (
            "type = \"dp\"\nbeta = 0.5",
            "policy.beta",
            "\"holt_winters\" only, not \"ewma\"",
        ),
        (
            "type = \"dp\"\nforecaster = \"seasonal_naive\"\nseason = \"95s\"",
            "policy.season",
            "whole number of planning steps (step = 20s)",
        ),
        (
            "type = \"lcp\"\nstep = 0",
            "policy.step",
            "expected a period of at least 1ms",
        ),
        ("type = \"dp\"\nalpha = 1.5", "policy.alpha", "at most 1"),
        (
            "type = \"dp\"\nshare = 0.1",
            "policy.share",
            "applies to forecaster = \"auto\" only, not \"ewma\"",
        ),
        (
            "type = \"dp\"\nforecaster = \"auto\"\nshare = 1",
            "policy.share",
            "from 0 to below 1",
        ),
        (
            "type = \"dp\"\nforecaster = \"holt_winters\"\ngamma = 2",
            "policy.gamma",
            "from 0 to 1",
        ),
        (
            "type = \"dp\"\nmargin = 11",
            "policy.margin",
            "from 0 to 10",
        ),
        (
            "type = \"dp\"\nhorizon = 0",
            "policy.horizon",
            "greater than zero",
        ),
        (
            "type = \"oracle\"\nmodel = \"exact\"",
            "policy.model",
            "\"calibrated\" or \"analytic\"",
        ),
        (
            "type = \"oracle\"\nhorizon = \"1h\"",
            "policy.horizon",
            "does not apply to policy \"p\" of type \"oracle\", which takes: step, model",
        ),
        (
            "type = \"lcp\"\nforecaster = \"last\"",
            "policy.forecaster",
            "does not apply",
        ),
    ];
    for (policy, key, text) in cases {
        let e = err(policy);
        let k = e.key.clone().unwrap_or_default();
        assert!(
            k == key || k == key.replace("policy.", "policy.p."),
            "{policy}: {e}"
        );
        assert!(e.message.contains(text), "{policy}: {e}");
        assert!(e.line.is_some(), "{policy}: {e}");
    }
}

#[test]
fn a_misspelled_key_names_the_policy_and_suggests_the_key() {
    let e = err("type = \"dp\"\nforcaster = \"ewma\"");
    assert_eq!(e.key.as_deref(), Some("policy.p.forcaster"));
    assert_eq!(e.line, Some(14));
    assert!(
        e.message
            .contains("`forcaster` does not apply to policy \"p\" of type \"dp\""),
        "{e}"
    );
    assert!(e.message.contains("(did you mean `forecaster`?)"), "{e}");
    // A key of another type lists this type's keys, and suggests nothing far from it.
    let e = err("type = \"static\"\nreplicas = 1\ntick = \"2s\"");
    assert!(e.message.contains("which takes: replicas, period"), "{e}");
    assert!(!e.message.contains("did you mean"), "{e}");
    // A misspelled type.
    let e = err("type = \"hpaa\"");
    assert_eq!(e.key.as_deref(), Some("policy.p.type"));
    assert!(e.message.contains("(did you mean \"hpa\"?)"), "{e}");
}

#[test]
fn every_registered_type_is_reachable_by_its_name() {
    assert_eq!(POLICY_TYPES.len(), 9);
    for kind in POLICY_TYPES {
        // Each type validates with only `name` and `type`, or says which key it needs.
        match parse(&format!("type = \"{kind}\"")) {
            Ok(spec) => assert_eq!(spec.type_name(), *kind),
            Err(e) => assert!(e.message.contains("needs `replicas`"), "{kind}: {e}"),
        }
    }
}
