//! `sweep_K`: how the objective moves with the K-th swept parameter: for each of its values,
//! each policy's mean objective averaged over the points with that value.

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

impl Chart for SweepChart<'_> {
    fn name(&self) -> &'static str {
        "sweep"
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
        let y_hi = series
            .iter()
            .flat_map(|(_, ys)| ys.iter().copied())
            .filter(|y| y.is_finite())
            .fold(0.0, f64::max)
            .max(1e-9)
            * 1.15;
        let x_hi = (n.max(2) - 1) as f64;
        let mut c = ChartBuilder::on(root)
            .caption(
                format!(
                    "{}: objective against {} (mean over the other parameters)",
                    r.scenario.name, param.key
                ),
                (FAMILY, 20),
            )
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.3..x_hi + 0.3, 0.0..y_hi)
            .map_err(e)?;
        let labels = param.labels.clone();
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n.max(2))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(param.key.clone())
            .y_desc("mean objective per run")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        for (i, (name, ys)) in series.iter().enumerate() {
            let col = color(i);
            let pts: Vec<(f64, f64)> = ys
                .iter()
                .enumerate()
                .filter(|(_, y)| y.is_finite())
                .map(|(k, y)| (k as f64, *y))
                .collect();
            c.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
                .map_err(e)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
            c.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, col.filled())))
                .map_err(e)?;
        }
        super::legend(&mut c, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    }
}
