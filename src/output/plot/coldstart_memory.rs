//! `coldstart_memory`: for a serverless run, the 75th percentile over functions of the
//! per-function cold-start ratio against the wasted memory (idle instance-hours), one point
//! per policy: the trade-off chart of Shahrad et al. (USENIX ATC 2020, Figure 15), where
//! lower-left is better.

use super::{Chart, DrawResult, FAMILY, color, e};
use crate::error::Error;
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

/// (policy, wasted memory in instance-hours, 75th-percentile cold-start ratio in percent).
pub(crate) struct ColdStartMemory<'a>(pub &'a [(String, f64, f64)]);

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

impl<'a> Chart<'a> for ColdStartMemory<'a> {
    /// Drawn by a serverless run from its own per-function figures, not from a results
    /// folder of the replica-count model.
    fn of(_r: &'a Results) -> Vec<Self> {
        Vec::new()
    }

    fn stem(&self) -> String {
        "coldstart_memory".to_string()
    }

    fn caption(&self) -> String {
        "Per policy: the 75th percentile over functions of the cold-start ratio against the idle instance-hours; lower left is better.".to_string()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let pts = self.0;
        let x_hi = pts
            .iter()
            .map(|p| finite(p.1))
            .fold(0.0, f64::max)
            .max(1e-6)
            * 1.2;
        let y_hi = pts.iter().map(|p| finite(p.2)).fold(0.0, f64::max).max(1.0) * 1.2;
        let mut c = ChartBuilder::on(root)
            .caption(
                "cold starts against wasted memory, per policy",
                (FAMILY, 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_hi, 0.0..y_hi)
            .map_err(e)?;
        c.configure_mesh()
            .x_desc("wasted memory (idle instance-hours)")
            .y_desc("75th pct. of per-function cold-start ratio (%)")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        for (i, (name, x, y)) in pts.iter().enumerate() {
            let col = color(i);
            let (x, y) = (finite(*x), finite(*y));
            c.draw_series(std::iter::once(Circle::new((x, y), 6, col.filled())))
                .map_err(e)?;
            c.draw_series(std::iter::once(Text::new(
                name.clone(),
                (x, y),
                (FAMILY, 13).into_font().color(&BLACK),
            )))
            .map_err(e)?;
        }
        Ok(())
    }
}

/// Writes `plots/coldstart_memory.svg` and `.png` into a results folder being written.
pub fn write(
    points: &[(String, f64, f64)],
    folder: &mut crate::output::folder::ResultsFolder,
) -> Result<(), Error> {
    super::write_one(&ColdStartMemory(points), folder)
}
