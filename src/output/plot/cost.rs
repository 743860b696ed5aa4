//! `cost`: each policy's mean cost per run, split into replica cost and SLO penalties, as
//! stacked bars in rank order.

use super::{Chart, DrawResult, FAMILY, e};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(crate) struct Cost<'a>(pub &'a Results);

impl Chart for Cost<'_> {
    fn name(&self) -> &'static str {
        "cost"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let price = r.scenario.cost.replica_hour;
        let bars: Vec<(String, f64, f64)> = r
            .first_policies()
            .into_iter()
            .map(|p| {
                let replica_cost = p.replica_seconds * price / 3600.0;
                (
                    p.policy.clone(),
                    replica_cost,
                    (p.cost - replica_cost).max(0.0),
                )
            })
            .collect();
        let n = bars.len().max(1) as u32;
        let y_hi = bars.iter().map(|b| b.1 + b.2).fold(0.0, f64::max).max(1e-9) * 1.15;
        let mut c = ChartBuilder::on(root)
            .caption(
                format!(
                    "{}: mean cost per run by policy (rank order){}",
                    r.scenario.name,
                    super::point_note(r)
                ),
                (FAMILY, 22),
            )
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0.0..y_hi)
            .map_err(e)?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc("policy")
            .y_desc("cost per run (replica-hours × price + penalties)")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        let replica_col = RGBColor(31, 119, 180);
        let penalty_col = RGBColor(214, 39, 40);
        let bar = |i: usize, lo: f64, hi: f64, col: RGBColor| {
            let mut rect = Rectangle::new(
                [
                    (SegmentValue::Exact(i as u32), lo),
                    (SegmentValue::Exact(i as u32 + 1), hi),
                ],
                col.filled(),
            );
            rect.set_margin(0, 0, 20, 20);
            rect
        };
        c.draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, b)| bar(i, 0.0, b.1, replica_col)),
        )
        .map_err(e)?
        .label(format!("replicas ({price} per replica-hour)"))
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], replica_col.filled()));
        c.draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, b)| bar(i, b.1, b.1 + b.2, penalty_col)),
        )
        .map_err(e)?
        .label("SLO violation penalties")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], penalty_col.filled()));
        super::legend(&mut c, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    }
}
