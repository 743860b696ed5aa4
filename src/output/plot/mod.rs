//! Charts, one file each, written as SVG and PNG.
//!
//! Every chart is drawn by one function generic over the plotters backend, so the SVG and the
//! PNG are the same drawing. Text is set in DejaVu Sans, bundled in the binary and registered
//! with plotters' `ab_glyph` renderer, so no system fonts are needed. Each chart has a title,
//! axis labels with units, and a legend drawn outside the data. Drawing is a pure function of
//! the results: the same results give byte-identical files.
//!
//! [`charts!`] below is the one list of charts: `run`, `report` and both reports
//! ([`list`], [`write_all`]) take the charts, their file names and their captions from it.
//! A new chart is one file implementing [`Chart`] plus one line in that list.

mod axis;
pub mod coldstart_memory;
mod cost;
mod labels;
mod latency;
mod legend;
mod pareto;
mod sweep;
mod timeline;

use super::folder::ResultsFolder;
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
pub(crate) trait Chart<'a>: Sized {
    /// The charts of this kind the results have (none, one, or one per swept key).
    fn of(r: &'a Results) -> Vec<Self>;
    /// File name without extension (`plots/STEM.svg`, `plots/STEM.png`).
    fn stem(&self) -> String;
    /// One sentence saying what the chart shows, for the reports.
    fn caption(&self) -> String;
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// The list of charts, in report order: each entry is `module::Type`, a [`Chart`]. Generates
/// `AnyChart`, one enum over them, and [`AnyChart::all`].
macro_rules! charts {
    ($($m:ident :: $t:ident),* $(,)?) => {
        /// Any chart of the list.
        pub(crate) enum AnyChart<'a> {
            $($t($m::$t<'a>)),*
        }

        impl<'a> Chart<'a> for AnyChart<'a> {
            fn of(r: &'a Results) -> Vec<Self> {
                let mut v = Vec::new();
                $(v.extend($m::$t::of(r).into_iter().map(AnyChart::$t));)*
                v
            }
            fn stem(&self) -> String {
                match self { $(AnyChart::$t(c) => c.stem()),* }
            }
            fn caption(&self) -> String {
                match self { $(AnyChart::$t(c) => c.caption()),* }
            }
            fn size(&self) -> (u32, u32) {
                match self { $(AnyChart::$t(c) => c.size()),* }
            }
            fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
            where
                DB::ErrorType: 'static,
            {
                match self { $(AnyChart::$t(c) => c.draw(area)),* }
            }
        }
    };
}

charts!(
    timeline::Timeline,
    latency::LatencyOverTime,
    latency::LatencyCdf,
    pareto::Pareto,
    cost::Cost,
    sweep::SweepChart,
);

/// A chart file of a results folder: `plots/STEM.svg` and `plots/STEM.png`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartFile {
    pub stem: String,
    /// What the chart shows, in one sentence.
    pub caption: String,
}

/// The charts of `r`, in report order.
pub fn list(r: &Results) -> Vec<ChartFile> {
    AnyChart::of(r)
        .iter()
        .map(|c| ChartFile {
            stem: c.stem(),
            caption: c.caption(),
        })
        .collect()
}

/// The colour of the i-th policy: the ten Tableau colours (the grey darkened, as the timeline
/// draws the load in light grey), then their light variants, so twenty policies get twenty
/// colours.
pub(crate) fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 20] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(50, 50, 50),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(174, 199, 232),
        RGBColor(255, 187, 120),
        RGBColor(152, 223, 138),
        RGBColor(255, 152, 150),
        RGBColor(197, 176, 213),
        RGBColor(196, 156, 148),
        RGBColor(247, 182, 210),
        RGBColor(110, 110, 110),
        RGBColor(219, 219, 141),
        RGBColor(158, 218, 229),
    ];
    COLORS[i % COLORS.len()]
}

/// Draws `entries` as a legend column on the right of `area`, below `top` pixels, and returns
/// the rest of `area` for the plot: the legend never covers data.
pub(crate) fn beside_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, legend::Mark)],
    top: u32,
) -> Result<DrawingArea<DB, Shift>, String>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let (plot, side) = area.split_horizontally(w - legend::column_width(area, entries));
    legend::column(&side.margin(top, 0, 0, 0), entries)?;
    Ok(plot)
}

/// Draws the chart's title at the top of `root`, and `subtitle` under it when not empty, each
/// shrunk to fit the width; returns the area below them.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String>
where
    DB::ErrorType: 'static,
{
    let (w, _) = root.dim_in_pixel();
    let fitted = |text: &str, size: f64| {
        let style: TextStyle = (FAMILY, size).into();
        let tw = root.estimate_text_size(text, &style).map_or(0, |s| s.0);
        let room = f64::from(w.saturating_sub(24));
        if f64::from(tw) > room {
            (size * room / f64::from(tw)).floor().max(10.0)
        } else {
            size
        }
    };
    let area = root
        .margin(8, 0, 0, 0)
        .titled(title, (FAMILY, fitted(title, 22.0)))
        .map_err(e)?;
    if subtitle.is_empty() {
        return Ok(area);
    }
    area.titled(subtitle, (FAMILY, fitted(subtitle, 14.0)))
        .map_err(e)
}

/// The height a subtitle takes (see [`titled`]), for charts that size themselves.
pub(crate) const SUBTITLE_H: u32 = 22;

/// Colour of the warm-up shading.
pub(crate) const WARMUP: RGBAColor = RGBAColor(60, 110, 220, 0.13);

/// Shades the warm-up `0..end` (in the chart's time unit) over the chart's whole height.
pub(crate) fn shade_warmup<DB, Y>(
    c: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    end: f64,
    y: std::ops::Range<Y::ValueType>,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    Y: plotters::coord::ranged1d::Ranged,
{
    if end <= 0.0 {
        return Ok(());
    }
    c.draw_series(std::iter::once(Rectangle::new(
        [(0.0, y.start), (end, y.end)],
        WARMUP.filled(),
    )))
    .map_err(e)?;
    Ok(())
}

/// Converts any drawing error into text.
pub(crate) fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// The subtitle of charts that show one sweep point (the first): its swept values; empty
/// without a sweep.
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
            format!("first sweep point: {}", values.join(", "))
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
fn svg<'a, C: Chart<'a>>(chart: &C) -> Result<String, Error> {
    register_font();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, chart.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|x| Error::Other(x.to_string()))?;
        chart
            .draw(&root)
            .map_err(|m| Error::Other(format!("drawing {}: {m}", chart.stem())))?;
        root.present().map_err(|x| Error::Other(x.to_string()))?;
    }
    Ok(s)
}

/// Renders a chart as a PNG file at `path` (in a results folder being written).
fn png<'a, C: Chart<'a>>(chart: &C, path: &Path) -> Result<(), Error> {
    register_font();
    let result = (|| -> Result<(), String> {
        let root = BitMapBackend::new(path, chart.size()).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        chart.draw(&root)?;
        root.present().map_err(e)
    })();
    result.map_err(|m| Error::Other(format!("drawing {}: {m}", path.display())))
}

/// Writes `plots/STEM.svg` and `.png` of one chart into a results folder being written;
/// returns the SVG document.
fn write_chart<'a, C: Chart<'a>>(chart: &C, folder: &mut ResultsFolder) -> Result<String, Error> {
    let stem = chart.stem();
    let doc = svg(chart)?;
    folder.write(&format!("plots/{stem}.svg"), doc.as_bytes())?;
    folder.write_with(&format!("plots/{stem}.png"), |p| png(chart, p))?;
    Ok(doc)
}

/// Writes one chart that is not drawn from a results folder (such as a serverless run's
/// `coldstart_memory`) as `plots/STEM.svg` and `.png` of `folder`.
pub(crate) fn write_one<'a, C: Chart<'a>>(
    chart: &C,
    folder: &mut ResultsFolder,
) -> Result<(), Error> {
    write_chart(chart, folder).map(|_| ())
}

/// Writes every chart of the list as `plots/STEM.svg` and `.png` of `folder`; returns each
/// chart's file and SVG document, in report order (see [`list`]).
pub fn write_all(
    r: &Results,
    folder: &mut ResultsFolder,
) -> Result<Vec<(ChartFile, String)>, Error> {
    let mut out = Vec::new();
    for chart in AnyChart::of(r) {
        let doc = write_chart(&chart, folder)?;
        out.push((
            ChartFile {
                stem: chart.stem(),
                caption: chart.caption(),
            },
            doc,
        ));
    }
    Ok(out)
}
