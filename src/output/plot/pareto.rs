//! `pareto`: the trade-off between the two things a policy spends and loses: replica-hours per
//! run (what the replicas cost, penalties excluded) against the share of requests violating the
//! SLO (log scale; a policy with no violation sits at a `0` tick below the lowest decade). One
//! point per policy with 95% confidence whiskers on both axes; the non-dominated front (the
//! policies no other beats on both) drawn as a staircase and ringed. Labels sit next to their
//! points where they overlap nothing (see `labels`); the legend beside the plot names them all.

use super::axis::{LogAxis, Ticked, Unit, nice_ticks, short};
use super::labels::{self, Rect};
use super::legend::{self, Mark};
use super::{Chart, DrawResult, FAMILY, color, e};
use crate::output::results::{PolicyRow, Results};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Pareto<'a>(pub &'a Results);

/// Indices of the points no other point beats on both coordinates (lower is better: another
/// point at most as large on both and smaller on one dominates), sorted by the first
/// coordinate then the second. Points with a NaN coordinate are never on the front.
pub fn front(points: &[(f64, f64)]) -> Vec<usize> {
    let ok = |p: &(f64, f64)| !p.0.is_nan() && !p.1.is_nan();
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let p = points[i];
            ok(&p)
                && !points
                    .iter()
                    .any(|q| ok(q) && q.0 <= p.0 && q.1 <= p.1 && (q.0 < p.0 || q.1 < p.1))
        })
        .collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    idx
}

fn zero_if_nan(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x }
}

/// Radius of a policy's point, in pixels.
const RADIUS: i32 = 6;
/// Font size of point labels.
const LABEL_SIZE: f64 = 13.0;

/// One policy's point: violation ratio and replica-hours, each with its CI half-width.
struct Point<'r> {
    row: &'r PolicyRow,
    colour: RGBColor,
    x: f64,
    dx: f64,
    y: f64,
    dy: f64,
}

impl<'a> Chart<'a> for Pareto<'a> {
    fn of(r: &'a Results) -> Vec<Self> {
        vec![Pareto(r)]
    }

    fn stem(&self) -> String {
        "pareto".into()
    }

    fn caption(&self) -> String {
        "Replica-hours per run against the share of requests violating the SLO (log scale), \
         mean and 95% CI per policy; the non-dominated front is ringed and joined."
            .into()
    }

    fn size(&self) -> (u32, u32) {
        (1000, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let names = r.policy_names();
        let points: Vec<Point> = r
            .first_policies()
            .into_iter()
            .map(|p| Point {
                row: p,
                colour: color(names.iter().position(|n| n == &p.policy).unwrap_or(0)),
                x: zero_if_nan(p.slo_violation_ratio),
                dx: zero_if_nan(p.slo_violation_ratio_ci95),
                y: p.replica_seconds / 3600.0,
                dy: zero_if_nan(p.replica_seconds_ci95) / 3600.0,
            })
            .collect();
        let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.x, p.y)).collect();
        let on_front = front(&xy);

        let min_pos = points
            .iter()
            .flat_map(|p| [p.x, p.x - p.dx])
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let max_x = points.iter().map(|p| p.x + p.dx).fold(0.0, f64::max);
        let has_zero = points.iter().any(|p| p.x - p.dx <= 0.0);
        let xa = LogAxis::new(min_pos, max_x.min(1.0), has_zero, Unit::Percent);
        let lo = points
            .iter()
            .map(|p| p.y - p.dy)
            .fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(|p| p.y + p.dy).fold(0.0, f64::max);
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-6);
        let (yticks, y_range) = nice_ticks((lo - pad).max(0.0), hi + pad);

        let mut entries: Vec<(String, Mark)> = points
            .iter()
            .map(|p| (p.row.policy.clone(), Mark::Dot(p.colour)))
            .collect();
        entries.push(("Pareto front (non-dominated)".into(), Mark::Ring(BLACK)));
        entries.push(("95% confidence interval".into(), Mark::Line(BLACK, 1)));
        let area = super::titled(
            root,
            &format!("{}: replica-hours against SLO violations", r.scenario.name),
            &super::point_note(r),
        )?;
        let (w, _) = area.dim_in_pixel();
        let (plot_area, legend_area) =
            area.split_horizontally(w - legend::column_width(&area, &entries));
        legend::column(&legend_area.margin(40, 0, 0, 0), &entries)?;

        let mut c = ChartBuilder::on(&plot_area)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(xa.coord(), Ticked::new(y_range.clone(), yticks, Vec::new()))
            .map_err(e)?;
        c.configure_mesh()
            .x_label_formatter(&|p| xa.label(*p))
            .y_label_formatter(&|v| short(*v))
            .x_desc("SLO violations (% of requests, log scale)")
            .y_desc("replica-hours per run (penalties excluded)")
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(e)?;
        if let Some(b) = xa.break_pos() {
            // The axis is broken between zero and the lowest decade.
            c.draw_series(std::iter::once(DashedPathElement::new(
                vec![(b, y_range.start), (b, y_range.end)],
                3,
                4,
                BLACK.mix(0.4).stroke_width(1),
            )))
            .map_err(e)?;
        }

        // The front, as the staircase bounding the region its points dominate.
        let mut stairs = Vec::new();
        for (k, &i) in on_front.iter().enumerate() {
            let p = &points[i];
            if k > 0 {
                stairs.push((xa.pos(p.x), points[on_front[k - 1]].y));
            }
            stairs.push((xa.pos(p.x), p.y));
        }
        c.draw_series(std::iter::once(DashedPathElement::new(
            stairs,
            6,
            4,
            BLACK.mix(0.6).stroke_width(1),
        )))
        .map_err(e)?;

        // Whiskers (with caps) then points on top.
        let cap = |x: f64, y: f64, horizontal: bool, col: RGBColor| {
            let seg = if horizontal {
                vec![(-4, 0), (4, 0)]
            } else {
                vec![(0, -4), (0, 4)]
            };
            EmptyElement::at((x, y)) + PathElement::new(seg, col.stroke_width(1))
        };
        for p in &points {
            let (x0, x1) = (xa.pos(p.x - p.dx), xa.pos(p.x + p.dx));
            let px = xa.pos(p.x);
            if p.dx > 0.0 {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(x0, p.y), (x1, p.y)],
                    p.colour.stroke_width(1),
                )))
                .map_err(e)?;
                c.draw_series([cap(x0, p.y, false, p.colour), cap(x1, p.y, false, p.colour)])
                    .map_err(e)?;
            }
            if p.dy > 0.0 {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(px, p.y - p.dy), (px, p.y + p.dy)],
                    p.colour.stroke_width(1),
                )))
                .map_err(e)?;
                c.draw_series([
                    cap(px, p.y - p.dy, true, p.colour),
                    cap(px, p.y + p.dy, true, p.colour),
                ])
                .map_err(e)?;
            }
        }
        for &i in &on_front {
            let p = &points[i];
            c.draw_series(std::iter::once(Circle::new(
                (xa.pos(p.x), p.y),
                RADIUS + 4,
                BLACK.stroke_width(2),
            )))
            .map_err(e)?;
        }
        for p in &points {
            c.draw_series(std::iter::once(Circle::new(
                (xa.pos(p.x), p.y),
                RADIUS,
                p.colour.filled(),
            )))
            .map_err(e)?;
        }

        // Labels where they fit.
        let (xr, yr) = c.plotting_area().get_pixel_range();
        let bounds = Rect {
            x0: f64::from(xr.start),
            y0: f64::from(yr.start),
            x1: f64::from(xr.end),
            y1: f64::from(yr.end),
        };
        let anchors: Vec<(f64, f64)> = points
            .iter()
            .map(|p| {
                let (x, y) = c.backend_coord(&(xa.pos(p.x), p.y));
                (f64::from(x), f64::from(y))
            })
            .collect();
        let style = (FAMILY, LABEL_SIZE).into_font().color(&BLACK);
        let sizes: Vec<(f64, f64)> = points
            .iter()
            .map(|p| {
                let w = root
                    .estimate_text_size(&p.row.policy, &style)
                    .map_or(0, |s| s.0);
                (f64::from(w) + 2.0, LABEL_SIZE + 2.0)
            })
            .collect();
        let ring = f64::from(RADIUS + 5);
        let placed = labels::place(&anchors, &sizes, ring, &[], bounds);
        for ((p, a), place) in points.iter().zip(&anchors).zip(placed) {
            let Some(place) = place else { continue };
            let at = (xa.pos(p.x), p.y);
            let dx = (place.rect.x0 - a.0 + 1.0).round() as i32;
            let dy = (place.rect.y0 - a.1 + 1.0).round() as i32;
            if place.leader {
                let (nx, ny) = place.rect.nearest(a.0, a.1);
                let (nx, ny) = ((nx - a.0).round() as i32, (ny - a.1).round() as i32);
                // From the edge of the marker to the label.
                let len = f64::from(nx * nx + ny * ny).sqrt().max(1.0);
                let start = (
                    (f64::from(nx) * ring / len).round() as i32,
                    (f64::from(ny) * ring / len).round() as i32,
                );
                c.draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + PathElement::new(vec![start, (nx, ny)], BLACK.mix(0.5).stroke_width(1)),
                ))
                .map_err(e)?;
            }
            c.draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Text::new(
                        p.row.policy.clone(),
                        (dx, dy),
                        style.pos(Pos::new(HPos::Left, VPos::Top)),
                    ),
            ))
            .map_err(e)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::front;

    #[test]
    fn front_keeps_the_undominated() {
        let pts = [(1.0, 5.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0), (1.0, 6.0)];
        assert_eq!(front(&pts), vec![0, 1, 3]);
    }

    /// A hand-made case: five policies as (violation ratio, replica-hours).
    /// - `a` (0, 12): no violations, most replicas: on the front (nothing has fewer violations).
    /// - `b` (0.001, 8) and `c` (0.01, 5): each trades violations for replicas: on the front.
    /// - `d` (0.01, 6): as many violations as `c`, more replicas: dominated by `c`.
    /// - `e` (0.02, 5): as many replicas as `c`, more violations: dominated by `c`.
    /// - `f` (0.05, 2): the cheapest: on the front.
    #[test]
    fn front_of_a_hand_made_case() {
        let pts = [
            (0.0, 12.0),
            (0.001, 8.0),
            (0.01, 5.0),
            (0.01, 6.0),
            (0.02, 5.0),
            (0.05, 2.0),
        ];
        assert_eq!(front(&pts), vec![0, 1, 2, 5]);
    }

    #[test]
    fn equal_points_are_both_on_the_front_and_nan_never() {
        let pts = [(1.0, 1.0), (f64::NAN, 0.0), (1.0, 1.0), (2.0, 0.5)];
        assert_eq!(front(&pts), vec![0, 2, 3]);
        assert!(front(&[]).is_empty());
    }
}
