//! `report.html` (one self-contained file: charts inline as SVG, no scripts, no network) and
//! `report.md` (for pasting into issues and wikis; charts linked as PNG files).

use super::plot::{self, ChartFile};
use super::results::{PolicyRow, Results};
use crate::workload::{TraceEnd, WorkloadSpec};
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn f(x: f64, digits: usize) -> String {
    if x.is_nan() {
        "–".into()
    } else {
        format!("{x:.digits$}")
    }
}

fn ci(mean: f64, half: f64, digits: usize) -> String {
    if half.is_nan() {
        f(mean, digits)
    } else {
        format!("{} ± {}", f(mean, digits), f(half, digits))
    }
}

/// One line describing the workload.
pub fn describe_workload(w: &WorkloadSpec) -> String {
    match w {
        WorkloadSpec::Diurnal {
            rate,
            amplitude,
            period,
            phase,
        } => format!(
            "diurnal Poisson, mean {rate}/s, amplitude {amplitude}, period {} s, phase {phase}",
            period.as_secs_f64()
        ),
        WorkloadSpec::Piecewise { steps } if steps.len() == 1 => {
            format!("Poisson at {}/s", steps[0].1)
        }
        WorkloadSpec::Piecewise { steps } => {
            let parts: Vec<String> = steps
                .iter()
                .map(|(t, r)| format!("{}/s from {} s", r, t.as_secs_f64()))
                .collect();
            format!("piecewise Poisson: {}", parts.join(", "))
        }
        WorkloadSpec::Mmpp {
            rates,
            mean_durations,
        } => {
            let parts: Vec<String> = rates
                .iter()
                .zip(mean_durations)
                .map(|(r, d)| format!("{r}/s for {} s on average", d.as_secs_f64()))
                .collect();
            format!("Markov-modulated Poisson: {}", parts.join("; "))
        }
        WorkloadSpec::Trace(t) => format!(
            "trace {} ({}), scale {}, speedup {}, start {} s{}, {}",
            t.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            t.format.name(),
            t.scale,
            t.speedup,
            t.start.as_secs_f64(),
            t.duration
                .map(|d| format!(", window {} s", d.as_secs_f64()))
                .unwrap_or_default(),
            match t.on_end {
                TraceEnd::Loop => "looped",
                TraceEnd::Stop => "stops at its end",
                TraceEnd::Error => "must cover the run",
            }
        ),
    }
}

/// (label, value) lines of the scenario summary.
fn scenario_lines(r: &Results) -> Vec<(&'static str, String)> {
    let sc = &r.scenario;
    let c = &sc.cluster;
    vec![
        (
            "duration",
            format!(
                "{} s (warm-up {} s, excluded)",
                sc.duration.as_secs_f64(),
                sc.warmup.as_secs_f64()
            ),
        ),
        (
            "replications",
            format!("{} (seed {})", r.replications(), r.seed()),
        ),
        ("interval", format!("{} s", sc.interval.as_secs_f64())),
        ("workload", describe_workload(&sc.workload)),
        ("service time", sc.service.describe()),
        (
            "cluster",
            format!(
                "{} slot(s) per container, {} balancer, start-up {} s, shutdown {} s, {}..{} replicas{}",
                c.concurrency,
                c.balancer.name(),
                c.startup.as_secs_f64(),
                c.shutdown.as_secs_f64(),
                c.min_replicas,
                c.max_replicas,
                c.queue_timeout
                    .map(|t| format!(", queue time-out {} s", t.as_secs_f64()))
                    .unwrap_or_default()
            ),
        ),
        (
            "objective",
            format!(
                "replica-hours × {} + {} per request slower than {} s or dropped (lower is better)",
                sc.cost.replica_hour,
                sc.cost.violation_penalty,
                sc.cost.slo_latency.as_secs_f64()
            ),
        ),
    ]
}

fn vs_baseline(p: &PolicyRow) -> String {
    if p.policy == p.baseline {
        return "baseline".into();
    }
    let d = ci(p.objective_vs_baseline, p.objective_vs_baseline_ci95, 4);
    match p.significant.as_str() {
        "no" => format!("{d} (not significant)"),
        _ => d,
    }
}

const COLUMNS: [&str; 10] = [
    "rank",
    "policy",
    "objective (95% CI)",
    "vs baseline (paired 95% CI)",
    "replica-hours",
    "SLO violations",
    "mean latency (s)",
    "p95 latency (s)",
    "p99 latency (s)",
    "regret vs oracle",
];

/// The swept values of a point as `key = value` pairs.
fn point_label(r: &Results, point: usize) -> Option<String> {
    let sw = r.scenario.sweep.as_ref()?;
    let values: Vec<String> = sw
        .params
        .iter()
        .zip(&sw.points.get(point)?.labels)
        .map(|(k, v)| format!("{} = {v}", k.key))
        .collect();
    Some(values.join(", "))
}

/// Rows of the ranking table: every policy of every point, point-major; with a sweep, each
/// point's rows come after a header row naming its values (`None` marks a header).
fn table_rows(r: &Results) -> Vec<(Option<String>, Option<[String; 10]>)> {
    let mut out = Vec::new();
    let mut last_point = None;
    for p in &r.policies {
        if r.scenario.sweep.is_some() && last_point != Some(p.point) {
            out.push((point_label(r, p.point), None));
            last_point = Some(p.point);
        }
        out.push((None, Some(policy_cells(p))));
    }
    out
}

fn policy_cells(p: &PolicyRow) -> [String; 10] {
    {
        {
            [
                p.rank.to_string(),
                if p.policy_type == "oracle" {
                    format!("{} (oracle: sees the future)", p.policy)
                } else {
                    p.policy.clone()
                },
                ci(p.objective, p.objective_ci95, 4),
                vs_baseline(p),
                ci(
                    p.replica_seconds / 3600.0,
                    p.replica_seconds_ci95 / 3600.0,
                    2,
                ),
                format!(
                    "{}%",
                    ci(
                        100.0 * p.slo_violation_ratio,
                        100.0 * p.slo_violation_ratio_ci95,
                        3
                    )
                ),
                f(p.mean_latency_s, 4),
                f(p.p95_latency_s, 4),
                f(p.p99_latency_s, 4),
                if p.regret.is_nan() {
                    "–".into()
                } else {
                    format!("{}%", ci(100.0 * p.regret, 100.0 * p.regret_ci95, 1))
                },
            ]
        }
    }
}

fn not_significant_note(r: &Results) -> Option<String> {
    let ns: Vec<&str> = r
        .policies
        .iter()
        .filter(|p| p.significant == "no")
        .map(|p| p.policy.as_str())
        .collect();
    (!ns.is_empty()).then(|| {
        format!(
            "The difference from the baseline is not significant at 95% for: {}. More replications would tell them apart.",
            ns.join(", ")
        )
    })
}

const CSS: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
td:nth-child(2),th{text-align:left}tr:first-child td{font-weight:bold}\
figure{margin:1.5em 0}svg{max-width:100%;height:auto;border:1px solid #eee}\
dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px}dt{font-weight:bold}dd{margin:0}\
.note{color:#555}figcaption{color:#555;font-size:90%}";

/// The self-contained HTML report; `charts` are the charts of [`plot::list`] with their SVG
/// documents.
pub fn html(r: &Results, charts: &[(ChartFile, String)]) -> String {
    let sc = &r.scenario;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} — autoscale-sim report</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"note\">Policy comparison by autoscale-sim {}. Lower objective is better.</p>\n",
        esc(&sc.name),
        esc(&sc.name),
        env!("CARGO_PKG_VERSION")
    );
    o.push_str("<h2>Scenario</h2>\n<dl>\n");
    for (k, v) in scenario_lines(r) {
        let _ = writeln!(o, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    o.push_str("</dl>\n<h2>Ranking</h2>\n<table>\n<thead><tr>");
    for c in COLUMNS {
        let _ = write!(o, "<th>{}</th>", esc(c));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for (header, row) in table_rows(r) {
        if let Some(h) = header {
            let _ = writeln!(
                o,
                "<tr><th colspan=\"{}\">{}</th></tr>",
                COLUMNS.len(),
                esc(&h)
            );
        }
        if let Some(row) = row {
            o.push_str("<tr>");
            for cell in &row {
                let _ = write!(o, "<td>{}</td>", esc(cell));
            }
            o.push_str("</tr>\n");
        }
    }
    o.push_str("</tbody>\n</table>\n");
    if let Some(b) = r
        .policies
        .first()
        .map(|p| p.baseline.clone())
        .filter(|b| !b.is_empty())
    {
        let _ = writeln!(
            o,
            "<p class=\"note\">Differences are paired by replication against the baseline <b>{}</b>: every policy of a replication sees the same requests, so the paired interval is tight.</p>",
            esc(&b)
        );
    }
    if let Some(n) = not_significant_note(r) {
        let _ = writeln!(o, "<p><b>{}</b></p>", esc(&n));
    }
    o.push_str("<h2>Charts</h2>\n");
    for (chart, svg) in charts {
        let body = svg.trim_start_matches(|c: char| c != '<');
        let body = if body.starts_with("<?xml") {
            body.split_once("?>")
                .map_or(body, |(_, rest)| rest.trim_start())
        } else {
            body
        };
        let _ = writeln!(
            o,
            "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            esc(&chart.stem),
            body,
            esc(&chart.caption)
        );
    }
    o.push_str("<h2>Policies</h2>\n<table>\n<thead><tr><th>policy</th><th>type</th><th>parameters</th></tr></thead>\n<tbody>\n");
    for p in &sc.policies {
        if !r.policies.iter().any(|q| q.policy == p.name) {
            continue;
        }
        let params: Vec<String> = p
            .spec
            .parameters()
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.name),
            esc(p.spec.type_name()),
            esc(&params.join(", "))
        );
    }
    o.push_str("</tbody>\n</table>\n<p class=\"note\">Data: summary.csv, policies.csv, timeline.csv and latency.csv in this folder.</p>\n</body>\n</html>\n");
    o
}

/// The Markdown report.
pub fn markdown(r: &Results) -> String {
    let sc = &r.scenario;
    let mut o = format!(
        "# {}\n\nPolicy comparison by autoscale-sim {}. Lower objective is better.\n\n",
        sc.name,
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in scenario_lines(r) {
        let _ = writeln!(o, "- **{k}**: {v}");
    }
    o.push_str("\n| ");
    o.push_str(&COLUMNS.join(" | "));
    o.push_str(" |\n|");
    for _ in COLUMNS {
        o.push_str("---|");
    }
    o.push('\n');
    for (header, row) in table_rows(r) {
        if let Some(h) = header {
            let _ = writeln!(
                o,
                "| **{}** |{}",
                h.replace('|', "\\|"),
                " |".repeat(COLUMNS.len() - 1)
            );
        }
        if let Some(row) = row {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(o, "| {} |", cells.join(" | "));
        }
    }
    if let Some(n) = not_significant_note(r) {
        let _ = writeln!(o, "\n{n}");
    }
    o.push_str("\n## Charts\n\n");
    for chart in plot::list(r) {
        let _ = writeln!(
            o,
            "![{}](plots/{}.png)\n\n{}\n",
            chart.stem, chart.stem, chart.caption
        );
    }
    o.push_str("## Policies\n\n| policy | type | parameters |\n|---|---|---|\n");
    for p in &sc.policies {
        if !r.policies.iter().any(|q| q.policy == p.name) {
            continue;
        }
        let params: Vec<String> = p
            .spec
            .parameters()
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            p.name,
            p.spec.type_name(),
            params.join(", ")
        );
    }
    o
}

/// Draws every chart and writes `plots/`, `report.html` and `report.md` of the results `r`
/// into `folder`, the results folder being written.
pub fn write(
    r: &Results,
    folder: &mut super::folder::ResultsFolder,
) -> Result<(), crate::error::Error> {
    let charts = plot::write_all(r, folder)?;
    folder.write("report.html", html(r, &charts).as_bytes())?;
    folder.write("report.md", markdown(r).as_bytes())?;
    Ok(())
}
