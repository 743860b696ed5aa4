//! The comparison table `run` prints: policies in rank order with the objective's 95% CI, and a
//! legend saying what the objective is, in which unit, and what ± means.

use crate::experiment::Experiment;
use std::fmt::Write;

fn fmt_ci(mean: f64, ci: f64) -> String {
    if ci.is_nan() {
        format!("{mean:.4}")
    } else {
        format!("{mean:.4} ± {ci:.4}")
    }
}

/// The comparison table as text: one table per sweep point.
pub fn comparison(exp: &Experiment) -> String {
    let sc = &exp.scenario;
    let mut out = format!(
        "{}: {} × {}, {} s simulated, seed {}{}\n",
        sc.name,
        count(sc.policies.len(), "policy", "policies"),
        count(sc.replications as usize, "replication", "replications"),
        sc.duration.as_secs_f64(),
        sc.seed,
        match (exp.sweep_keys.is_empty(), exp.shard) {
            (true, _) => String::new(),
            (false, None) => format!(", {} sweep points", exp.points.len()),
            (false, Some((i, n))) =>
                format!(", {} sweep points of shard {i}/{n}", exp.points.len()),
        }
    );
    for pt in &exp.points {
        if !exp.sweep_keys.is_empty() {
            let values: Vec<String> = exp
                .sweep_keys
                .iter()
                .zip(&pt.labels)
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            let _ = writeln!(out, "\n{}", values.join(", "));
        }
        out.push_str(&point_table(exp, pt.index));
    }
    out.push_str(&legend(exp));
    out
}

/// `1 policy`, `3 policies`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the columns mean: the objective and its unit, and ± (when there is one).
fn legend(exp: &Experiment) -> String {
    let cost = &exp.scenario.cost;
    let mut out = format!(
        "objective: replica cost + SLO penalties, lower is better, in the unit of the [cost] prices ({} per container-hour, {} per violating request)",
        cost.replica_hour, cost.violation_penalty
    );
    if cost.start_cost > 0.0 || cost.stop_cost > 0.0 {
        out.push_str(", with start and stop costs");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "vs {}: the policy's objective minus the baseline's, paired by replication",
        exp.baseline
    );
    if exp.scenario.replications > 1 {
        let _ = writeln!(
            out,
            "±: half-width of the 95% confidence interval over the {} replications",
            exp.scenario.replications
        );
    }
    out
}

fn point_table(exp: &Experiment, point: usize) -> String {
    let mut rows: Vec<[String; 8]> = vec![[
        "rank".into(),
        "policy".into(),
        "objective".into(),
        "replica-hours".into(),
        "mean latency s".into(),
        "p95 latency s".into(),
        "SLO violations".into(),
        format!("vs {}", exp.baseline),
    ]];
    for p in exp.ranked_at(point) {
        let (obj, ci) = p.objective();
        rows.push([
            p.rank.to_string(),
            if p.policy_type == "oracle" {
                format!("{} (oracle, sees the future)", p.policy)
            } else {
                p.policy.clone()
            },
            fmt_ci(obj, ci),
            format!("{:.2}", p.mean("replica_seconds") / 3600.0),
            format!("{:.4}", p.mean("mean_latency_s")),
            format!("{:.4}", p.mean("p95_latency_s")),
            format!("{:.3}%", 100.0 * p.mean("slo_violation_ratio")),
            if p.policy == exp.baseline {
                "baseline".to_string()
            } else {
                let (d, ci) = p.vs_baseline;
                match p.differs_from_baseline() {
                    Some(true) => format!("{d:+.4} ± {ci:.4}"),
                    Some(false) => format!("{d:+.4} ± {ci:.4} (n.s.)"),
                    None => format!("{d:+.4}"),
                }
            },
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (k, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i] - c.chars().count();
                if i == 1 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if k == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            let _ = writeln!(out, "{}", "-".repeat(total));
        }
    }
    if exp
        .ranked()
        .iter()
        .any(|p| p.differs_from_baseline() == Some(false))
    {
        let _ = writeln!(
            out,
            "(n.s.: the paired 95% confidence interval of the difference includes 0, so it is not significant)"
        );
    }
    out
}
