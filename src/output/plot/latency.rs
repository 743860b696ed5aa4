//! `latency`: p50, p95 and p99 latency over time per policy (first replication), three panels
//! sharing their axes; and `latency_cdf`: each policy's latency distribution over all
//! replications. Latency axes are logarithmic with a labelled tick at every decade in plain
//! units (`10 ms`, `100 ms`, `1 s`); the SLO is drawn on both, the warm-up shaded.

use super::axis::{LogAxis, Unit, short};
use super::legend::Mark;
use super::{Chart, DrawResult, FAMILY, color, e, time_unit};
use crate::output::results::{Results, TimelineRow};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Reads one latency percentile of a timeline row.
type Percentile = fn(&TimelineRow) -> f64;

const PERCENTILES: [(&str, Percentile); 3] = [
    ("p50", |t| t.p50_latency_s),
    ("p95", |t| t.p95_latency_s),
    ("p99", |t| t.p99_latency_s),
];

pub(crate) struct LatencyOverTime<'a>(pub &'a Results);
pub(crate) struct LatencyCdf<'a>(pub &'a Results);

fn finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// The SLO's line colour.
const SLO: RGBColor = RGBColor(200, 0, 0);

fn entries(r: &Results, warmup: bool) -> Vec<(String, Mark)> {
    let slo = r.scenario.cost.slo_latency.as_secs_f64();
    let mut v: Vec<(String, Mark)> = r
        .policy_names()
        .into_iter()
        .enumerate()
        .map(|(i, n)| (n, Mark::Line(color(i), 2)))
        .collect();
    v.push((
        format!("SLO {}", super::axis::format_value(slo, Unit::Seconds)),
        Mark::Dashed(SLO),
    ));
    if warmup {
        v.push(("warm-up (excluded)".into(), Mark::Fill(super::WARMUP)));
    }
    v
}

impl<'a> Chart<'a> for LatencyOverTime<'a> {
    fn of(r: &'a Results) -> Vec<Self> {
        vec![LatencyOverTime(r)]
    }

    fn stem(&self) -> String {
        "latency".into()
    }

    fn caption(&self) -> String {
        "Latency percentiles (p50, p95, p99) per report interval and policy, first replication, \
         log scale, with the SLO."
            .into()
    }

    fn size(&self) -> (u32, u32) {
        (1000, 900)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let duration = r.scenario.duration.as_secs_f64();
        let step = r.scenario.interval.as_secs_f64();
        let warmup = r.scenario.warmup.as_secs_f64();
        let (div, unit) = time_unit(duration);
        let names = r.policy_names();
        let slo = r.scenario.cost.slo_latency.as_secs_f64();
        let area = super::titled(
            root,
            &format!(
                "{}: latency percentiles over time (replication 0)",
                r.scenario.name
            ),
            &super::point_note(r),
        )?;
        let plot = super::beside_legend(&area, &entries(r, warmup > 0.0), 10)?;
        // One latency axis for the three panels, so they compare at a glance.
        let rows: Vec<&TimelineRow> = names.iter().flat_map(|n| r.first_timeline(n)).collect();
        let values = rows
            .iter()
            .flat_map(|t| PERCENTILES.map(|(_, get)| get(t)))
            .filter(|x| finite(*x));
        let (lo, hi) = values.fold((slo, slo), |(lo, hi), x| (lo.min(x), hi.max(x)));
        let ya = LogAxis::new(lo, hi, false, Unit::Seconds);
        let (_, h) = plot.dim_in_pixel();
        let panel_h = (h - 40) / 3;
        let panels = plot.split_by_breakpoints([] as [u32; 0], [panel_h, 2 * panel_h]);
        for (k, (panel, (label, get))) in panels.iter().zip(PERCENTILES).enumerate() {
            let last = k == PERCENTILES.len() - 1;
            let mut c = ChartBuilder::on(panel)
                .margin(8)
                .margin_right(16)
                .x_label_area_size(if last { 44 } else { 0 })
                .y_label_area_size(78)
                .build_cartesian_2d(0.0..duration / div, ya.coord())
                .map_err(e)?;
            let y_label = |p: &f64| ya.label(*p);
            let no_label = |_: &f64| String::new();
            let time_label = |v: &f64| short(*v);
            let mut mesh = c.configure_mesh();
            mesh.y_label_formatter(&y_label)
                .y_desc(format!("{label} latency"))
                .label_style((FAMILY, 13))
                .axis_desc_style((FAMILY, 14))
                .light_line_style(BLACK.mix(0.04))
                .bold_line_style(BLACK.mix(0.12));
            if last {
                mesh.x_desc(format!("time ({unit})"))
                    .x_label_formatter(&time_label);
            } else {
                mesh.x_label_formatter(&no_label);
            }
            mesh.draw().map_err(e)?;
            let y = ya.range();
            super::shade_warmup(&mut c, warmup / div, y.clone())?;
            c.draw_series(std::iter::once(DashedPathElement::new(
                vec![(0.0, slo.log10()), (duration / div, slo.log10())],
                6,
                4,
                SLO.stroke_width(2),
            )))
            .map_err(e)?;
            for (i, name) in names.iter().enumerate() {
                let col = color(i);
                // Consecutive intervals with a value are joined; a gap breaks the line.
                let mut run: Vec<(f64, f64)> = Vec::new();
                let mut runs = Vec::new();
                for t in r.first_timeline(name) {
                    let v = get(t);
                    if finite(v) {
                        run.push(((t.time_s + step / 2.0).min(duration) / div, v.log10()));
                    } else if !run.is_empty() {
                        runs.push(std::mem::take(&mut run));
                    }
                }
                runs.push(run);
                for pts in runs {
                    c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                        .map_err(e)?;
                }
            }
        }
        Ok(())
    }
}

impl<'a> Chart<'a> for LatencyCdf<'a> {
    fn of(r: &'a Results) -> Vec<Self> {
        vec![LatencyCdf(r)]
    }

    fn stem(&self) -> String {
        "latency_cdf".into()
    }

    fn caption(&self) -> String {
        "Each policy's latency distribution over all replications after the warm-up \
         (log scale), with the SLO."
            .into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let slo = r.scenario.cost.slo_latency.as_secs_f64();
        let first = r.first_point();
        let (lo, hi) = r
            .latency
            .iter()
            .filter(|p| p.point == first && finite(p.latency_s))
            .fold((slo, slo), |(lo, hi), p| {
                (lo.min(p.latency_s), hi.max(p.latency_s))
            });
        let xa = LogAxis::new(lo, hi, false, Unit::Seconds);
        let area = super::titled(
            root,
            &format!(
                "{}: latency distribution (all replications, after warm-up)",
                r.scenario.name
            ),
            &super::point_note(r),
        )?;
        let plot = super::beside_legend(&area, &entries(r, false), 10)?;
        let mut c = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(xa.coord(), 0.0..1.0)
            .map_err(e)?;
        c.configure_mesh()
            .x_label_formatter(&|p| xa.label(*p))
            .y_label_formatter(&|v: &f64| format!("{}%", (v * 100.0).round()))
            .x_desc("latency (log scale)")
            .y_desc("requests at or below")
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(e)?;
        c.draw_series(std::iter::once(DashedPathElement::new(
            vec![(slo.log10(), 0.0), (slo.log10(), 1.0)],
            6,
            4,
            SLO.stroke_width(2),
        )))
        .map_err(e)?;
        for (i, name) in r.policy_names().iter().enumerate() {
            let pts: Vec<(f64, f64)> = r
                .latency
                .iter()
                .filter(|p| p.point == first && &p.policy == name && finite(p.latency_s))
                .map(|p| (p.latency_s.log10(), p.quantile))
                .collect();
            c.draw_series(LineSeries::new(pts, color(i).stroke_width(2)))
                .map_err(e)?;
        }
        Ok(())
    }
}
