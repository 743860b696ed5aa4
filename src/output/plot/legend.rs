//! Legends drawn in their own area beside or above the plot, so a legend never covers data.
//! Entries are laid out in pixels from measured text widths (the bundled font), so two
//! entries never overlap.

use super::{DrawResult, FAMILY, e};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// How an entry is marked.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mark {
    /// A line of this width.
    Line(RGBColor, u32),
    /// A thin dashed line.
    Dashed(RGBColor),
    /// A filled dot.
    Dot(RGBColor),
    /// A filled box (bars, shaded areas).
    Fill(RGBAColor),
    /// A hollow ring (highlighted points).
    Ring(RGBColor),
}

/// Font size of legend text.
pub(crate) const SIZE: f64 = 13.0;
/// Width of the mark before each entry's text, gap included.
const MARK_W: i32 = 30;
/// Height of one entry.
const ROW_H: i32 = 20;

fn style() -> TextStyle<'static> {
    (FAMILY, SIZE).into_font().color(&BLACK)
}

/// The width an entry's text takes on `area`.
fn text_w<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> i32 {
    area.estimate_text_size(text, &style())
        .map_or(text.chars().count() as i32 * 8, |(w, _)| w as i32)
}

/// The width of a column legend holding `entries` (clamped to 120..=320 pixels).
pub(crate) fn column_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Mark)],
) -> u32 {
    let w = entries
        .iter()
        .map(|(t, _)| text_w(area, t))
        .max()
        .unwrap_or(0);
    (w + MARK_W + 24).clamp(120, 320) as u32
}

fn draw_mark<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mark: Mark,
    x: i32,
    y: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let w = MARK_W - 8;
    match mark {
        Mark::Line(c, width) => area
            .draw(&PathElement::new(
                vec![(x, y), (x + w, y)],
                c.stroke_width(width),
            ))
            .map_err(e),
        Mark::Dashed(c) => area
            .draw(&DashedPathElement::new(
                vec![(x, y), (x + w, y)],
                4,
                3,
                c.stroke_width(1),
            ))
            .map_err(e),
        Mark::Dot(c) => area
            .draw(&Circle::new((x + w / 2, y), 5, c.filled()))
            .map_err(e),
        Mark::Fill(c) => area
            .draw(&Rectangle::new([(x, y - 6), (x + w, y + 6)], c.filled()))
            .map_err(e),
        Mark::Ring(c) => area
            .draw(&Circle::new((x + w / 2, y), 8, c.stroke_width(2)))
            .map_err(e),
    }
}

/// Draws `entries` one under the other from the top of `area`.
pub(crate) fn column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Mark)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_w = area.dim_in_pixel().0 as i32 - MARK_W - 12;
    for (i, (text, mark)) in entries.iter().enumerate() {
        let y = 12 + i as i32 * ROW_H;
        draw_mark(area, *mark, 4, y)?;
        let text = fit(area, text, max_w);
        area.draw(&Text::new(
            text,
            (4 + MARK_W, y),
            style().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(e)?;
    }
    Ok(())
}

/// Draws `entries` left to right, wrapping onto a new line when the width is used up;
/// returns the number of lines.
pub(crate) fn row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Mark)],
) -> Result<usize, String>
where
    DB::ErrorType: 'static,
{
    let width = area.dim_in_pixel().0 as i32;
    let (mut x, mut line) = (8, 0);
    for (text, mark) in entries {
        let w = MARK_W + text_w(area, text) + 24;
        if x > 8 && x + w > width {
            x = 8;
            line += 1;
        }
        let y = 10 + line * ROW_H;
        draw_mark(area, *mark, x, y)?;
        area.draw(&Text::new(
            text.clone(),
            (x + MARK_W, y),
            style().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(e)?;
        x += w;
    }
    Ok(line as usize + 1)
}

/// `text`, shortened with an ellipsis to fit `max_w` pixels.
fn fit<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, max_w: i32) -> String {
    if text_w(area, text) <= max_w {
        return text.to_string();
    }
    let mut s: Vec<char> = text.chars().collect();
    while !s.is_empty() {
        s.pop();
        let t: String = s.iter().collect::<String>() + "…";
        if text_w(area, &t) <= max_w {
            return t;
        }
    }
    String::new()
}
