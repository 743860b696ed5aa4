//! Charts, one file each, written as SVG and PNG.
//!
//! Every chart is drawn by one function generic over the plotters backend, so the SVG and the
//! PNG are the same drawing. Text is set in DejaVu Sans, bundled in the binary and registered
//! with plotters' `ab_glyph` renderer, so no system fonts are needed. Each chart has a title,
//! axis labels with units, and a legend.

pub mod coldstart_memory;
mod cost;
mod latency;
mod pareto;
mod sweep;
mod timeline;

use super::results::Results;
use crate::error::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// The bundled font (DejaVu Sans; licence in `assets/fonts/`).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub(crate) const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let ok = plotters::style::register_font(FAMILY, style, FONT).is_ok();
            assert!(ok, "the bundled font is a valid TrueType font");
        }
    });
}

/// The result of drawing: an error as text.
pub(crate) type DrawResult = Result<(), String>;

/// A chart that can be drawn on any backend.
pub(crate) trait Chart {
    /// File name without extension.
    fn name(&self) -> &'static str;
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// The colour of the i-th policy.
pub(crate) fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    COLORS[i % COLORS.len()]
}

/// Draws a chart's legend at `pos`, in the style every chart shares.
pub(crate) fn legend<'a, DB, CT>(
    c: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    c.configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FAMILY, 13))
        .draw()
        .map_err(e)
}

/// Converts any drawing error into text.
pub(crate) fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// A note for chart titles when the results are a sweep: the charts of times, costs and
/// latencies show its first point.
pub(crate) fn point_note(r: &Results) -> String {
    match &r.scenario.sweep {
        Some(sw) => {
            let p = r.first_point();
            let values: Vec<String> = sw
                .params
                .iter()
                .zip(&sw.points[p].labels)
                .map(|(k, v)| format!("{} = {v}", k.key))
                .collect();
            format!(" [{}]", values.join(", "))
        }
        None => String::new(),
    }
}

/// Time axis scale: (divisor of seconds, unit label).
pub(crate) fn time_unit(duration_s: f64) -> (f64, &'static str) {
    if duration_s <= 2.0 * 3600.0 {
        (60.0, "min")
    } else if duration_s <= 3.0 * 86400.0 {
        (3600.0, "h")
    } else {
        (86400.0, "d")
    }
}

/// Renders a chart as an SVG document.
fn svg<C: Chart>(chart: &C) -> Result<String, Error> {
    register_font();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, chart.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|x| Error::Other(x.to_string()))?;
        chart
            .draw(&root)
            .map_err(|m| Error::Other(format!("drawing {}: {m}", chart.name())))?;
        root.present().map_err(|x| Error::Other(x.to_string()))?;
    }
    Ok(s)
}

/// Renders a chart as a PNG file at `path` (through a temporary file, then a rename).
fn png<C: Chart>(chart: &C, path: &Path) -> Result<(), Error> {
    register_font();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{stem}.tmp{}.png", std::process::id()));
    let result = (|| -> Result<(), String> {
        let root = BitMapBackend::new(&tmp, chart.size()).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        chart.draw(&root)?;
        root.present().map_err(e)
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path)
            .map_err(|x| Error::io(format!("cannot write {}", path.display()), x)),
        Err(m) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::Other(format!("drawing {}: {m}", path.display())))
        }
    }
}

/// Renders `chart` as SVG and PNG into `plots`, returning (file stem, SVG document).
fn both<C: Chart>(chart: &C, stem: String, plots: &Path) -> Result<(String, String), Error> {
    let doc = svg(chart)?;
    super::write_atomic(&plots.join(format!("{stem}.svg")), doc.as_bytes())?;
    png(chart, &plots.join(format!("{stem}.png")))?;
    Ok((stem, doc))
}

/// Writes every chart as `DIR/plots/NAME.svg` and `.png`; returns (file stem, SVG document)
/// in report order: timeline, latency, latency_cdf, pareto, cost, then one `sweep_K` per
/// swept parameter.
pub fn write_all(r: &Results, dir: &Path) -> Result<Vec<(String, String)>, Error> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)
        .map_err(|x| Error::io(format!("cannot create {}", plots.display()), x))?;
    let mut out = vec![
        both(&timeline::Timeline(r), "timeline".into(), &plots)?,
        both(&latency::LatencyOverTime(r), "latency".into(), &plots)?,
        both(&latency::LatencyCdf(r), "latency_cdf".into(), &plots)?,
        both(&pareto::Pareto(r), "pareto".into(), &plots)?,
        both(&cost::Cost(r), "cost".into(), &plots)?,
    ];
    if let Some(sw) = &r.scenario.sweep {
        for k in 0..sw.params.len() {
            out.push(both(
                &sweep::SweepChart { r, param: k },
                format!("sweep_{}", k + 1),
                &plots,
            )?);
        }
    }
    Ok(out)
}
