//! `timeline`: one panel per policy (small multiples sharing their axes), first replication.
//! Each panel draws the arrival rate behind (grey, right axis), the policy's ready replicas
//! (a step line, whole-number ticks on the left axis) and its desired replicas (dashed), shades
//! the warm-up and the intervals where at least 5% of requests violated the SLO. The replica
//! axis is scaled to what follows the warm-up, so a start-up transient does not flatten the
//! rest; a panel whose warm-up goes off the axis says its peak in its title.

use super::axis::{Ticked, integer_ticks, nice_ticks, short};
use super::legend::{self, Mark};
use super::{Chart, DrawResult, FAMILY, color, e, time_unit};
use crate::output::results::{Results, TimelineRow};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

pub(crate) struct Timeline<'a>(pub &'a Results);

/// Share of an interval's requests that must violate the SLO for it to be marked.
const MARK_SHARE: f64 = 0.05;
/// Height of one policy's panel, in pixels.
const PANEL_H: u32 = 150;
/// Room for the title and the legend above the panels, and the time axis below.
const HEAD_H: u32 = 84;
const FOOT_H: u32 = 44;

const LOAD: RGBAColor = RGBAColor(90, 90, 90, 0.16);
const VIOLATION: RGBAColor = RGBAColor(214, 39, 40, 0.16);

/// The highest replica count (ready or desired) of any policy once the warm-up is over (of
/// the whole run when nothing follows the warm-up).
pub(crate) fn replica_scale(rows: &[&TimelineRow], warmup_s: f64) -> u32 {
    let peak = |after: bool| {
        rows.iter()
            .filter(|t| !after || t.time_s >= warmup_s)
            .map(|t| t.ready_replicas.max(t.desired_replicas))
            .max()
    };
    peak(true).or_else(|| peak(false)).unwrap_or(1).max(1)
}

impl<'a> Chart<'a> for Timeline<'a> {
    fn of(r: &'a Results) -> Vec<Self> {
        vec![Timeline(r)]
    }

    fn stem(&self) -> String {
        "timeline".into()
    }

    fn caption(&self) -> String {
        "Ready and desired replicas of each policy over time against the arrival rate, one \
         panel per policy with shared axes (first replication); warm-up and intervals with at \
         least 5% SLO violations shaded."
            .into()
    }

    fn size(&self) -> (u32, u32) {
        let n = self.0.policy_names().len().max(1) as u32;
        let sub = if self.0.scenario.sweep.is_some() {
            super::SUBTITLE_H
        } else {
            0
        };
        (1000, HEAD_H + sub + n * PANEL_H + FOOT_H)
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
        let x_max = duration / div;
        let names = r.policy_names();
        let timelines: Vec<Vec<&TimelineRow>> = names.iter().map(|n| r.first_timeline(n)).collect();

        let all: Vec<&TimelineRow> = timelines.iter().flatten().copied().collect();
        let (yticks, top) = integer_ticks(f64::from(replica_scale(&all, warmup)) * 1.05 + 0.5);
        let rate = |t: &TimelineRow| {
            let len = step.min(duration - t.time_s).max(1e-9);
            t.arrivals as f64 / len
        };
        let max_rate = all.iter().map(|t| rate(t)).fold(0.0, f64::max).max(1e-9);
        let (rticks, rrange) = nice_ticks(0.0, max_rate * 1.05);

        let area = super::titled(
            root,
            &format!(
                "{}: replicas and load over time (replication 0)",
                r.scenario.name
            ),
            &super::point_note(r),
        )?;
        let mut entries = vec![
            (
                "ready replicas (left axis)".to_string(),
                Mark::Line(RGBColor(60, 60, 60), 2),
            ),
            (
                "desired replicas".into(),
                Mark::Dashed(RGBColor(60, 60, 60)),
            ),
            ("arrivals per second (right axis)".into(), Mark::Fill(LOAD)),
        ];
        if warmup > 0.0 {
            entries.push(("warm-up (excluded)".into(), Mark::Fill(super::WARMUP)));
        }
        entries.push((
            "≥5% of requests violate the SLO".into(),
            Mark::Fill(VIOLATION),
        ));
        let n = names.len().max(1) as u32;
        // The legend takes what the title leaves of the head room.
        let (_, h) = area.dim_in_pixel();
        let head = h.saturating_sub(n * PANEL_H + FOOT_H).max(40);
        let (legend_area, panels_area) = area.split_vertically(head);
        legend::row(&legend_area.margin(0, 0, 70, 0), &entries)?;
        let breaks: Vec<u32> = (1..n).map(|k| k * PANEL_H).collect();
        let panels = panels_area.split_by_breakpoints([] as [u32; 0], breaks);

        for (i, ((name, rows), panel)) in names.iter().zip(&timelines).zip(&panels).enumerate() {
            let last = i + 1 == names.len();
            let col = color(i);
            let warm_peak = rows
                .iter()
                .map(|t| t.ready_replicas.max(t.desired_replicas))
                .max()
                .unwrap_or(0);
            let title = if f64::from(warm_peak) > top {
                format!("{name} (warm-up peak {warm_peak} replicas, off the axis)")
            } else {
                name.clone()
            };
            let mut c = ChartBuilder::on(panel)
                .caption(title, (FAMILY, 15))
                .margin_left(8)
                .margin_right(8)
                .margin_top(2)
                .margin_bottom(4)
                .x_label_area_size(if last { FOOT_H } else { 0 })
                .y_label_area_size(64)
                .right_y_label_area_size(64)
                .build_cartesian_2d(
                    0.0..x_max,
                    Ticked::new(0.0..top, yticks.clone(), Vec::new()),
                )
                .map_err(e)?
                .set_secondary_coord(
                    0.0..x_max,
                    Ticked::new(rrange.clone(), rticks.clone(), Vec::new()),
                );
            let y_label = |v: &f64| format!("{v:.0}");
            let no_label = |_: &f64| String::new();
            let time_label = |v: &f64| short(*v);
            let mut mesh = c.configure_mesh();
            mesh.y_label_formatter(&y_label)
                .y_desc("replicas")
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 13))
                .light_line_style(TRANSPARENT)
                .bold_line_style(BLACK.mix(0.1));
            if last {
                mesh.x_desc(format!("time ({unit})"))
                    .x_label_formatter(&time_label);
            } else {
                mesh.x_label_formatter(&no_label);
            }
            mesh.draw().map_err(e)?;
            c.configure_secondary_axes()
                .y_label_formatter(&|v| short(*v))
                .y_desc("arrivals/s")
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 13))
                .draw()
                .map_err(e)?;

            super::shade_warmup(&mut c, warmup / div, 0.0..top)?;
            let shade: Vec<Rectangle<(f64, f64)>> = rows
                .iter()
                .filter(|t| {
                    t.arrivals > 0 && t.slo_violations as f64 >= MARK_SHARE * t.arrivals as f64
                })
                .map(|t| {
                    Rectangle::new(
                        [
                            (t.time_s / div, 0.0),
                            ((t.time_s + step).min(duration) / div, top),
                        ],
                        VIOLATION.filled(),
                    )
                })
                .collect();
            c.draw_series(shade).map_err(e)?;

            // Load behind, as steps.
            let mut load = Vec::with_capacity(rows.len() * 2);
            for t in rows {
                let v = rate(t);
                load.push((t.time_s / div, v));
                load.push(((t.time_s + step).min(duration) / div, v));
            }
            if let (Some(first), Some(last)) = (load.first().copied(), load.last().copied()) {
                load.push((last.0, 0.0));
                load.push((first.0, 0.0));
                c.draw_secondary_series(std::iter::once(Polygon::new(load, LOAD.filled())))
                    .map_err(e)?;
            }

            // Replica counts are values at each interval's end: steps, clipped to the axis.
            let steps = |get: fn(&TimelineRow) -> u32| {
                let mut pts = Vec::with_capacity(rows.len() * 2);
                for t in rows {
                    let v = f64::from(get(t)).min(top);
                    pts.push((t.time_s / div, v));
                    pts.push(((t.time_s + step).min(duration) / div, v));
                }
                pts
            };
            c.draw_series(std::iter::once(DashedPathElement::new(
                steps(|t| t.desired_replicas),
                5,
                3,
                col.mix(0.8).stroke_width(1),
            )))
            .map_err(e)?;
            c.draw_series(LineSeries::new(
                steps(|t| t.ready_replicas),
                col.stroke_width(2),
            ))
            .map_err(e)?;
        }
        Ok(())
    }
}
