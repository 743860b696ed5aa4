//! `latency`: p50, p95 and p99 latency over time per policy (first replication), and
//! `latency_cdf`: each policy's latency distribution over all replications, with the SLO.

use super::{Chart, DrawResult, FAMILY, color, e, time_unit};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Reads one latency percentile of a timeline row.
type Percentile = fn(&crate::output::results::TimelineRow) -> f64;

pub(crate) struct LatencyOverTime<'a>(pub &'a Results);
pub(crate) struct LatencyCdf<'a>(pub &'a Results);

fn finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

impl Chart for LatencyOverTime<'_> {
    fn name(&self) -> &'static str {
        "latency"
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
        let (div, unit) = time_unit(duration);
        let names = r.policy_names();
        let slo = r.scenario.cost.slo_latency.as_secs_f64();
        let title = root
            .titled(
                &format!(
                    "{}: latency percentiles over time (replication 0)",
                    r.scenario.name
                ),
                (FAMILY, 22),
            )
            .map_err(e)?;
        let panels = title.split_evenly((3, 1));
        let percentiles: [(&str, Percentile); 3] = [
            ("p50", |t| t.p50_latency_s),
            ("p95", |t| t.p95_latency_s),
            ("p99", |t| t.p99_latency_s),
        ];
        for (panel, (label, get)) in panels.iter().zip(percentiles) {
            let values: Vec<f64> = r.timeline.iter().map(get).filter(|x| finite(*x)).collect();
            let lo = values
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .min(slo)
                * 0.8;
            let hi = values.iter().copied().fold(0.0, f64::max).max(slo) * 1.25;
            let (lo, hi) = if lo.is_finite() && hi > lo {
                (lo, hi)
            } else {
                (1e-3, 1.0)
            };
            let mut c = ChartBuilder::on(panel)
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..duration / div, (lo..hi).log_scale())
                .map_err(e)?;
            c.configure_mesh()
                .x_desc(format!("time ({unit})"))
                .y_desc(format!("{label} latency (s)"))
                .label_style((FAMILY, 12))
                .draw()
                .map_err(e)?;
            for (i, name) in names.iter().enumerate() {
                let col = color(i);
                let pts: Vec<(f64, f64)> = r
                    .first_timeline(name)
                    .iter()
                    .filter(|t| finite(get(t)))
                    .map(|t| ((t.time_s + step / 2.0).min(duration) / div, get(t)))
                    .collect();
                c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                    .map_err(e)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                    });
            }
            c.draw_series(LineSeries::new(
                vec![(0.0, slo), (duration / div, slo)],
                RED.stroke_width(1),
            ))
            .map_err(e)?
            .label(format!("SLO {slo} s"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(1)));
            super::legend(&mut c, SeriesLabelPosition::MiddleRight)?;
        }
        Ok(())
    }
}

impl Chart for LatencyCdf<'_> {
    fn name(&self) -> &'static str {
        "latency_cdf"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let slo = r.scenario.cost.slo_latency.as_secs_f64();
        let first = r.first_point();
        let xs: Vec<f64> = r
            .latency
            .iter()
            .filter(|p| p.point == first)
            .map(|p| p.latency_s)
            .filter(|x| finite(*x))
            .collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min).min(slo) * 0.8;
        let hi = xs.iter().copied().fold(0.0, f64::max).max(slo) * 1.25;
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (1e-3, 1.0)
        };
        let mut c = ChartBuilder::on(root)
            .caption(
                format!(
                    "{}: latency distribution (all replications, after warm-up){}",
                    r.scenario.name,
                    super::point_note(r)
                ),
                (FAMILY, 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
            .map_err(e)?;
        c.configure_mesh()
            .x_desc("latency (s, log scale)")
            .y_desc("fraction of requests at or below")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        for (i, name) in r.policy_names().iter().enumerate() {
            let col = color(i);
            let pts: Vec<(f64, f64)> = r
                .latency
                .iter()
                .filter(|p| p.point == first && &p.policy == name && finite(p.latency_s))
                .map(|p| (p.latency_s, p.quantile))
                .collect();
            c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                .map_err(e)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
        }
        c.draw_series(LineSeries::new(
            vec![(slo, 0.0), (slo, 1.0)],
            RED.stroke_width(1),
        ))
        .map_err(e)?
        .label(format!("SLO {slo} s"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(1)));
        super::legend(&mut c, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}
