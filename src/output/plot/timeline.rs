//! `timeline`: the arrival rate over time, and below it each policy's ready replicas, with the
//! intervals where at least 5% of requests violated the SLO marked (first replication).

use super::{Chart, DrawResult, FAMILY, color, e, time_unit};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(crate) struct Timeline<'a>(pub &'a Results);

/// Share of an interval's requests that must violate the SLO for it to be marked.
const MARK_SHARE: f64 = 0.05;

impl Chart for Timeline<'_> {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn size(&self) -> (u32, u32) {
        (1000, 720)
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
        let (top, bottom) = root.split_vertically(300);

        // Arrival rate: the same for every policy of a replication (common random numbers).
        let first = names
            .first()
            .map(|n| r.first_timeline(n))
            .unwrap_or_default();
        let rate: Vec<(f64, f64)> = first
            .iter()
            .map(|t| {
                let len = step.min(duration - t.time_s).max(1e-9);
                (t.time_s / div, t.arrivals as f64 / len)
            })
            .collect();
        let max_rate = rate.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
        let x_max = duration / div;
        let mut c = ChartBuilder::on(&top)
            .caption(
                format!(
                    "{}: load and replicas over time (replication 0)",
                    r.scenario.name
                ),
                (FAMILY, 22),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0..max_rate)
            .map_err(e)?;
        c.configure_mesh()
            .x_desc(format!("time ({unit})"))
            .y_desc("arrivals per second")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        c.draw_series(LineSeries::new(rate.iter().copied(), BLACK.stroke_width(2)))
            .map_err(e)?
            .label("arrival rate")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        super::legend(&mut c, SeriesLabelPosition::MiddleRight)?;

        let max_replicas = r
            .timeline
            .iter()
            .map(|t| t.ready_replicas.max(t.desired_replicas))
            .max()
            .unwrap_or(1)
            .max(1) as f64
            * 1.15;
        let mut c = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0..max_replicas)
            .map_err(e)?;
        c.configure_mesh()
            .x_desc(format!("time ({unit})"))
            .y_desc("ready replicas")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        for (i, name) in names.iter().enumerate() {
            let rows = r.first_timeline(name);
            let col = color(i);
            // Replica counts are values at each interval's end: draw them as steps.
            let mut pts = Vec::with_capacity(rows.len() * 2);
            for t in &rows {
                let end = (t.time_s + step).min(duration) / div;
                pts.push((t.time_s / div, t.ready_replicas as f64));
                pts.push((end, t.ready_replicas as f64));
            }
            c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                .map_err(e)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
            let marks: Vec<(f64, f64)> = rows
                .iter()
                .filter(|t| {
                    t.arrivals > 0 && t.slo_violations as f64 >= MARK_SHARE * t.arrivals as f64
                })
                .map(|t| {
                    (
                        (t.time_s + step / 2.0).min(duration) / div,
                        t.ready_replicas as f64,
                    )
                })
                .collect();
            c.draw_series(
                marks
                    .into_iter()
                    .map(|p| Cross::new(p, 5, col.stroke_width(2))),
            )
            .map_err(e)?;
        }
        c.draw_series(std::iter::once(Cross::new(
            (-1.0, -1.0),
            5,
            BLACK.stroke_width(2),
        )))
        .map_err(e)?
        .label("≥5% of requests violate the SLO")
        .legend(|(x, y)| Cross::new((x + 10, y), 5, BLACK.stroke_width(2)));
        super::legend(&mut c, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    }
}
