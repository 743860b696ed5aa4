//! `sweep_K`: how the objective moves with the K-th swept parameter: for each of its values,
//! each policy's mean objective averaged over the points with that value.

use super::axis::{Ticked, nice_ticks, short};
use super::legend::Mark;
use super::{Chart, DrawResult, FAMILY, color, e};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(crate) struct SweepChart<'a> {
    pub r: &'a Results,
    /// Index of the swept parameter.
    pub param: usize,
}

impl SweepChart<'_> {
    /// (policy, mean objective per value of the parameter; NaN where no point has it).
    pub fn series(&self) -> Vec<(String, Vec<f64>)> {
        let Some(sw) = &self.r.scenario.sweep else {
            return Vec::new();
        };
        let values = &sw.params[self.param].labels;
        self.r
            .policy_names()
            .into_iter()
            .map(|name| {
                let ys = values
                    .iter()
                    .map(|v| {
                        let xs: Vec<f64> = self
                            .r
                            .policies
                            .iter()
                            .filter(|p| {
                                p.policy == name && &sw.points[p.point].labels[self.param] == v
                            })
                            .map(|p| p.objective)
                            .collect();
                        if xs.is_empty() {
                            f64::NAN
                        } else {
                            xs.iter().sum::<f64>() / xs.len() as f64
                        }
                    })
                    .collect();
                (name, ys)
            })
            .collect()
    }
}

impl<'a> Chart<'a> for SweepChart<'a> {
    fn of(r: &'a Results) -> Vec<Self> {
        let n = r.scenario.sweep.as_ref().map_or(0, |s| s.params.len());
        (0..n).map(|param| SweepChart { r, param }).collect()
    }

    fn stem(&self) -> String {
        format!("sweep_{}", self.param + 1)
    }

    fn caption(&self) -> String {
        let key = self
            .r
            .scenario
            .sweep
            .as_ref()
            .map_or("", |s| s.params[self.param].key.as_str());
        format!(
            "Each policy's mean objective per run against the swept {key}, averaged over the \
             other swept values."
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let Some(sw) = &r.scenario.sweep else {
            return Ok(());
        };
        let param = &sw.params[self.param];
        let n = param.labels.len();
        let series = self.series();
        let finite = series
            .iter()
            .flat_map(|(_, ys)| ys.iter().copied())
            .filter(|y| y.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-9);
        let (yticks, yr) = nice_ticks((lo - pad).max(0.0).min(hi), hi + pad);
        let x_hi = (n.max(2) - 1) as f64;
        let area = super::titled(
            root,
            &format!(
                "{}: objective against {} (mean over the other parameters)",
                r.scenario.name, param.key
            ),
            "",
        )?;
        let entries: Vec<(String, Mark)> = series
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), Mark::Line(color(i), 2)))
            .collect();
        let plot = super::beside_legend(&area, &entries, 10)?;
        let mut c = ChartBuilder::on(&plot)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(
                Ticked::new(
                    -0.3..x_hi + 0.3,
                    (0..n).map(|k| k as f64).collect::<Vec<_>>(),
                    Vec::new(),
                ),
                Ticked::new(yr, yticks, Vec::new()),
            )
            .map_err(e)?;
        let labels = param.labels.clone();
        c.configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| short(*v))
            .x_desc(param.key.clone())
            .y_desc("mean objective per run")
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(e)?;
        for (i, (_, ys)) in series.iter().enumerate() {
            let col = color(i);
            let pts: Vec<(f64, f64)> = ys
                .iter()
                .enumerate()
                .filter(|(_, y)| y.is_finite())
                .map(|(k, y)| (k as f64, *y))
                .collect();
            c.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
                .map_err(e)?;
            c.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, col.filled())))
                .map_err(e)?;
        }
        Ok(())
    }
}
