//! `cost`: each policy's mean cost per run as a horizontal stacked bar, best rank at the top:
//! replica cost, SLO violation penalties, and start/stop costs as their own part when the
//! scenario prices them. Each bar's total is written at its end. A policy costing more than
//! [`OUTLIER`] times the next one would squash every other bar, so its bar is cut at the edge
//! of the axis with a break mark and its total written beside it. The legend sits above the
//! plot.

use super::axis::{Ticked, nice_ticks, short};
use super::legend::{self, Mark};
use super::{Chart, DrawResult, FAMILY, e};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Cost<'a>(pub &'a Results);

/// A bar is cut when its total exceeds this many times the largest of the others.
pub(crate) const OUTLIER: f64 = 2.5;

/// One policy's mean cost per run, in parts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bar {
    pub policy: String,
    pub replicas: f64,
    pub penalties: f64,
    pub switching: f64,
}

impl Bar {
    pub fn total(&self) -> f64 {
        self.replicas + self.penalties + self.switching
    }
}

/// The bars of the first point, in rank order: each part is the mean over replications of
/// that part of `summary.csv`'s cost (`switching`, what remains of the cost once replicas and
/// penalties are taken out, is the start/stop cost).
pub(crate) fn bars(r: &Results) -> Vec<Bar> {
    let point = r.first_point();
    let cost = &r.point_scenario(point).cost;
    r.first_policies()
        .into_iter()
        .map(|p| {
            let runs: Vec<_> = r
                .summary
                .iter()
                .filter(|s| s.point == point && s.policy == p.policy)
                .collect();
            let n = runs.len().max(1) as f64;
            let mean = |f: &dyn Fn(&crate::output::results::SummaryRow) -> f64| {
                runs.iter().map(|s| f(s)).sum::<f64>() / n
            };
            let replicas = mean(&|s| s.replica_seconds * cost.replica_hour / 3600.0);
            let penalties = mean(&|s| s.slo_violations as f64 * cost.violation_penalty);
            let total = mean(&|s| s.cost);
            let rest = total - replicas - penalties;
            // Rounding leaves dust when nothing is priced for starts and stops.
            let switching = if rest > 1e-9 * total.abs().max(1.0) {
                rest
            } else {
                0.0
            };
            Bar {
                policy: p.policy.clone(),
                replicas,
                penalties,
                switching,
            }
        })
        .collect()
}

/// The value at which bars are cut: `None` when no bar is an outlier (more than [`OUTLIER`]
/// times every other bar).
pub(crate) fn cut(totals: &[f64]) -> Option<f64> {
    let mut t: Vec<f64> = totals.iter().copied().filter(|x| x.is_finite()).collect();
    t.sort_by(|a, b| b.total_cmp(a));
    match t.as_slice() {
        [first, second, ..] if *second > 0.0 && *first > OUTLIER * second => Some(1.25 * second),
        _ => None,
    }
}

impl<'a> Chart<'a> for Cost<'a> {
    fn of(r: &'a Results) -> Vec<Self> {
        vec![Cost(r)]
    }

    fn stem(&self) -> String {
        "cost".into()
    }

    fn caption(&self) -> String {
        "Mean cost per run by policy in rank order, split into replica cost, SLO violation \
         penalties and start/stop costs; an outlier's bar is cut, its total written."
            .into()
    }

    fn size(&self) -> (u32, u32) {
        let n = self.0.first_policies().len() as u32;
        (1000, (160 + 44 * n).max(500))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        let sc = r.point_scenario(r.first_point());
        let bars = bars(r);
        let n = bars.len().max(1) as u32;
        let totals: Vec<f64> = bars.iter().map(Bar::total).collect();
        let cut_at = cut(&totals);
        let max_shown = cut_at.unwrap_or_else(|| totals.iter().copied().fold(0.0, f64::max));
        // Room at the right for the totals written after the bars.
        let (xticks, xr) = nice_ticks(0.0, (max_shown * 1.18).max(1e-9));
        let priced_switching = sc.cost.start_cost > 0.0 || sc.cost.stop_cost > 0.0;
        let replica_col = RGBColor(31, 119, 180);
        let penalty_col = RGBColor(214, 39, 40);
        let switch_col = RGBColor(255, 157, 40);
        let mut entries = vec![
            (
                format!("replicas ({} per replica-hour)", sc.cost.replica_hour),
                Mark::Fill(replica_col.to_rgba()),
            ),
            (
                format!(
                    "SLO violation penalties ({} per request)",
                    sc.cost.violation_penalty
                ),
                Mark::Fill(penalty_col.to_rgba()),
            ),
        ];
        if priced_switching {
            entries.push((
                format!(
                    "start/stop costs ({} per start, {} per stop)",
                    sc.cost.start_cost, sc.cost.stop_cost
                ),
                Mark::Fill(switch_col.to_rgba()),
            ));
        }
        let area = super::titled(
            root,
            &format!(
                "{}: mean cost per run by policy (rank order)",
                r.scenario.name
            ),
            &super::point_note(r),
        )?;
        let (legend_area, plot_area) = area.split_vertically(30);
        legend::row(&legend_area.margin(0, 0, 60, 0), &entries)?;

        let label_style: TextStyle = (FAMILY, 13).into();
        let name_w = bars
            .iter()
            .map(|b| {
                root.estimate_text_size(&b.policy, &label_style)
                    .map_or(0, |s| s.0)
            })
            .max()
            .unwrap_or(0);
        let segments = (n - 1).max(1);
        let slots = segments + 1;
        let mut c = ChartBuilder::on(&plot_area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(name_w + 24)
            .build_cartesian_2d(
                Ticked::new(xr.clone(), xticks, Vec::new()),
                (0u32..segments).into_segmented(),
            )
            .map_err(e)?;
        let names: Vec<String> = bars.iter().map(|b| b.policy.clone()).collect();
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(slots as usize)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(k) => names
                    .get((slots - 1 - k) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|v| short(*v))
            .x_desc("mean cost per run")
            .y_desc("")
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(e)?;
        let clip = |v: f64| cut_at.map_or(v, |c| v.min(c));
        let slot = |i: usize| slots - 1 - i as u32;
        let bar = |i: usize, lo: f64, hi: f64, col: RGBColor| {
            let mut rect = Rectangle::new(
                [
                    (clip(lo), SegmentValue::Exact(slot(i))),
                    (clip(hi), SegmentValue::Exact(slot(i) + 1)),
                ],
                col.filled(),
            );
            rect.set_margin(8, 8, 0, 0);
            rect
        };
        let parts = |b: &Bar| {
            [
                (0.0, b.replicas, replica_col),
                (b.replicas, b.replicas + b.penalties, penalty_col),
                (b.replicas + b.penalties, b.total(), switch_col),
            ]
        };
        for (i, b) in bars.iter().enumerate() {
            c.draw_series(
                parts(b)
                    .into_iter()
                    .filter(|(lo, hi, _)| hi > lo)
                    .map(|(lo, hi, col)| bar(i, lo, hi, col)),
            )
            .map_err(e)?;
        }
        // Totals at the bar ends; a cut bar gets a break mark and its true total.
        let text = (FAMILY, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let (_, y0) = c.backend_coord(&(0.0, SegmentValue::Exact(0)));
        let (_, y1) = c.backend_coord(&(0.0, SegmentValue::Exact(1)));
        let half = ((y0 - y1).abs() / 2 - 8).max(2);
        for (i, b) in bars.iter().enumerate() {
            let end = clip(b.total());
            let at = (end, SegmentValue::CenterOf(slot(i)));
            let cut_here = cut_at.is_some_and(|c| b.total() > c);
            if cut_here {
                let mark_at = (end * 0.94, SegmentValue::CenterOf(slot(i)));
                for dx in [-4, 4] {
                    c.draw_series(std::iter::once(
                        EmptyElement::at(mark_at.clone())
                            + PathElement::new(
                                vec![(dx - 5, half + 3), (dx + 5, -half - 3)],
                                WHITE.stroke_width(3),
                            ),
                    ))
                    .map_err(e)?;
                }
            }
            let label = if cut_here {
                format!("{} (bar cut)", short(b.total()))
            } else {
                short(b.total())
            };
            c.draw_series(std::iter::once(
                EmptyElement::at(at) + Text::new(label, (6, 0), text.clone()),
            ))
            .map_err(e)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn one_outlier_is_cut_just_past_the_next_bar() {
        assert_eq!(cut(&[0.78, 49.6, 1.33, 1.0]), Some(1.25 * 1.33));
    }

    #[test]
    fn comparable_bars_are_not_cut() {
        assert_eq!(cut(&[1.0, 2.4, 0.5]), None);
        assert_eq!(cut(&[5.0]), None);
        assert_eq!(cut(&[5.0, 0.0]), None);
    }
}
