//! `pareto`: cost against SLO-violation ratio, one point per policy with 95% confidence
//! whiskers on both axes, and the Pareto front (policies no other beats on both).

use super::{Chart, DrawResult, FAMILY, color, e};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(crate) struct Pareto<'a>(pub &'a Results);

/// Indices of the points no other point beats on both coordinates (lower is better), sorted
/// by the first coordinate.
pub fn front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| {
            !points.iter().enumerate().any(|(j, q)| {
                j != i
                    && q.0 <= points[i].0
                    && q.1 <= points[i].1
                    && (q.0 < points[i].0 || q.1 < points[i].1)
            })
        })
        .collect();
    idx.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
    idx
}

fn zero_if_nan(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x }
}

impl Chart for Pareto<'_> {
    fn name(&self) -> &'static str {
        "pareto"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let names = r.policy_names();
        let rows: Vec<_> = names
            .iter()
            .filter_map(|n| r.first_policies().into_iter().find(|p| &p.policy == n))
            .collect();
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .map(|p| (100.0 * zero_if_nan(p.slo_violation_ratio), p.cost))
            .collect();
        let x_hi = rows
            .iter()
            .map(|p| {
                100.0
                    * (zero_if_nan(p.slo_violation_ratio) + zero_if_nan(p.slo_violation_ratio_ci95))
            })
            .fold(0.0, f64::max)
            .max(0.01)
            * 1.15;
        let y_hi = rows
            .iter()
            .map(|p| p.cost + zero_if_nan(p.cost_ci95))
            .fold(0.0, f64::max)
            .max(1e-9)
            * 1.15;
        let mut c = ChartBuilder::on(root)
            .caption(
                format!(
                    "{}: cost against SLO violations (mean, 95% CI){}",
                    r.scenario.name,
                    super::point_note(r)
                ),
                (FAMILY, 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_hi, 0.0..y_hi)
            .map_err(e)?;
        c.configure_mesh()
            .x_desc("SLO violations (% of requests)")
            .y_desc("cost (replicas + penalties, per run)")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        let f = front(&pts);
        let line: Vec<(f64, f64)> = f.iter().map(|&i| pts[i]).collect();
        c.draw_series(LineSeries::new(line, BLACK.mix(0.5).stroke_width(1)))
            .map_err(e)?
            .label("Pareto front")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
        for (i, p) in rows.iter().enumerate() {
            let col = color(names.iter().position(|n| n == &p.policy).unwrap_or(i));
            let (x, y) = pts[i];
            let dx = 100.0 * zero_if_nan(p.slo_violation_ratio_ci95);
            let dy = zero_if_nan(p.cost_ci95);
            c.draw_series([
                PathElement::new(
                    vec![((x - dx).max(0.0), y), (x + dx, y)],
                    col.stroke_width(1),
                ),
                PathElement::new(
                    vec![(x, (y - dy).max(0.0)), (x, y + dy)],
                    col.stroke_width(1),
                ),
            ])
            .map_err(e)?;
            c.draw_series(std::iter::once(Circle::new((x, y), 6, col.filled())))
                .map_err(e)?
                .label(p.policy.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, col.filled()));
            c.draw_series(std::iter::once(Text::new(
                p.policy.clone(),
                (x, y),
                (FAMILY, 13).into_font().color(&BLACK),
            )))
            .map_err(e)?;
        }
        super::legend(&mut c, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn front_keeps_the_undominated() {
        let pts = [(1.0, 5.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0), (1.0, 6.0)];
        assert_eq!(super::front(&pts), vec![0, 1, 3]);
    }
}
