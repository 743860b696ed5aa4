//! Charts a reviewer would accept, checked on the files `run` writes for a crowded scenario
//! (eleven policies, several with near-identical results, some without any SLO violation,
//! one costing far more than the rest, start and stop costs priced):
//! - no two texts of any chart overlap: each `<text>` box is computed from its SVG attributes
//!   and the bundled font's glyph advances (at the size the PNG is drawn at, the larger one);
//! - the Pareto chart plots replica-hours (not the objective) against violations on a log
//!   axis with a `0` tick, and names every policy;
//! - the cost chart cuts the outlier's bar and writes its total, and shows start/stop costs;
//! - latency ticks read in units at every decade; the timeline has one panel per policy;
//! - `report DIR` redraws every chart byte for byte.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

const SCENARIO: &str = r#"name = "crowded"
seed = 5
duration = "30m"
warmup = "3m"
replications = 2
interval = "60s"

[workload]
type = "step"
steps = [[0, 60.0], ["12m", 140.0], ["20m", 60.0]]

[service]
distribution = "deterministic"
mean = "100ms"

[cluster]
concurrency = 2
startup = "20s"
max_replicas = 30
initial_replicas = 1
queue_timeout = "5s"

[cost]
replica_hour = 0.04
slo_latency = "500ms"
violation_penalty = 0.001
start_cost = 0.002
stop_cost = 0.001

[[policy]]
name = "starved-1"
type = "static"
replicas = 1

[[policy]]
name = "static-10"
type = "static"
replicas = 10

[[policy]]
name = "static-11"
type = "static"
replicas = 11

[[policy]]
name = "static-12"
type = "static"
replicas = 12

[[policy]]
name = "static-12-again"
type = "static"
replicas = 12

[[policy]]
name = "hpa"
type = "hpa"

[[policy]]
name = "hpa-same-but-longer-name"
type = "hpa"

[[policy]]
name = "kpa"
type = "kpa"

[[policy]]
name = "static-9"
type = "static"
replicas = 9

[[policy]]
name = "threshold"
type = "threshold"

[[policy]]
name = "static-8"
type = "static"
replicas = 8
"#;

const POLICIES: usize = 11;

fn run(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "autoscale-sim-charts-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sc = dir.join("s.toml");
    std::fs::write(&sc, SCENARIO).unwrap();
    let out = dir.join("out");
    let o = Command::new(BIN)
        .args(["run", sc.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// A text's box in pixels.
#[derive(Clone, Debug)]
struct TextBox {
    text: String,
    anchor: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// The width of `text` at plotters' font size `size` (the PNG's size; the SVG's `font-size`
/// is `size / 1.24`, so this is the larger of the two).
fn width(font: &FontRef, text: &str, size: f64) -> f64 {
    let f = font.as_scaled(PxScale::from(size as f32));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let g = f.glyph_id(c);
        if let Some(p) = prev {
            w += f.kern(p, g);
        }
        w += f.h_advance(g);
        prev = Some(g);
    }
    f64::from(w)
}

fn attr(n: &roxmltree::Node, name: &str) -> f64 {
    n.attribute(name)
        .unwrap_or_else(|| panic!("<text> without {name}"))
        .parse()
        .unwrap()
}

/// The boxes of every non-empty `<text>` of an SVG document.
fn text_boxes(svg: &str) -> Vec<TextBox> {
    let font = FontRef::try_from_slice(FONT).unwrap();
    let doc = roxmltree::Document::parse(svg).unwrap();
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let text: String = n
            .descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect();
        let text = text.trim().to_string();
        if text.is_empty() {
            continue;
        }
        let (x, y) = (attr(&n, "x"), attr(&n, "y"));
        let size = attr(&n, "font-size") * 1.24;
        let w = width(&font, &text, size);
        let (dx0, dx1) = match n.attribute("text-anchor") {
            Some("middle") => (-w / 2.0, w / 2.0),
            Some("end") => (-w, 0.0),
            _ => (0.0, w),
        };
        let (dy0, dy1) = match n.attribute("dy") {
            Some("0.76em") => (0.0, size),
            Some("0.5ex") => (-size / 2.0, size / 2.0),
            Some("-0.5ex") => (-size, 0.0),
            other => panic!("unexpected dy {other:?} on {text:?}"),
        };
        // Rotation about (x, y) by 90° steps: (a, b) -> (a cos - b sin, a sin + b cos).
        let angle = n
            .attribute("transform")
            .and_then(|t| t.strip_prefix("rotate("))
            .and_then(|t| t.split(',').next())
            .map_or(0.0, |a| a.trim().parse::<f64>().unwrap());
        let (s, c) = angle.to_radians().sin_cos();
        let corners = [(dx0, dy0), (dx1, dy0), (dx0, dy1), (dx1, dy1)]
            .map(|(a, b)| (x + a * c - b * s, y + a * s + b * c));
        out.push(TextBox {
            text,
            anchor: n.attribute("text-anchor").unwrap_or("start").to_string(),
            x0: corners.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
            x1: corners
                .iter()
                .map(|p| p.0)
                .fold(f64::NEG_INFINITY, f64::max),
            y0: corners.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
            y1: corners
                .iter()
                .map(|p| p.1)
                .fold(f64::NEG_INFINITY, f64::max),
        });
    }
    out
}

/// Pairs of texts whose boxes share more than a pixel in both directions.
fn overlaps(boxes: &[TextBox]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let ox = a.x1.min(b.x1) - a.x0.max(b.x0);
            let oy = a.y1.min(b.y1) - a.y0.max(b.y0);
            if ox > 1.0 && oy > 1.0 {
                out.push((a.text.clone(), b.text.clone()));
            }
        }
    }
    out
}

fn read(out: &Path, stem: &str) -> String {
    std::fs::read_to_string(out.join("plots").join(format!("{stem}.svg"))).unwrap()
}

fn texts(svg: &str) -> Vec<String> {
    text_boxes(svg).into_iter().map(|b| b.text).collect()
}

#[test]
fn the_box_computation_finds_an_overlap() {
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg">
<text x="10" y="10" dy="0.76em" text-anchor="start" font-size="10.5">static-10</text>
<text x="40" y="14" dy="0.76em" text-anchor="start" font-size="10.5">static-11</text>
<text x="40" y="40" dy="0.76em" text-anchor="start" font-size="10.5">apart</text>
</svg>"#;
    let boxes = text_boxes(svg);
    // "static-10" at 13 px is about 50 px wide: it runs into the second label, not the third.
    assert!(
        (40.0..60.0).contains(&(boxes[0].x1 - boxes[0].x0)),
        "{boxes:?}"
    );
    assert_eq!(
        overlaps(&boxes),
        vec![("static-10".to_string(), "static-11".to_string())]
    );
}

#[test]
fn charts_of_a_crowded_run_read_well() {
    let out = run("read");
    let stems = ["timeline", "latency", "latency_cdf", "pareto", "cost"];
    for stem in stems {
        let svg = read(&out, stem);
        let bad = overlaps(&text_boxes(&svg));
        assert!(bad.is_empty(), "{stem}.svg: overlapping texts {bad:?}");
    }

    // Pareto: replica-hours against violations, a log axis in percent with a zero tick, every
    // policy named (as a point label or in the legend beside the plot).
    let pareto_boxes = text_boxes(&read(&out, "pareto"));
    // x tick labels are centred under their tick; y tick labels end at theirs.
    assert!(
        pareto_boxes
            .iter()
            .any(|b| b.text == "0" && b.anchor == "middle"),
        "no 0 tick on the violations axis: {pareto_boxes:?}"
    );
    let pareto: Vec<String> = pareto_boxes.into_iter().map(|b| b.text).collect();
    assert!(
        pareto.iter().any(|t| t.contains("replica-hours per run")),
        "{pareto:?}"
    );
    let percent_ticks = pareto
        .iter()
        .filter(|t| t.ends_with('%') && t.len() <= 6)
        .count();
    assert!(percent_ticks >= 2, "{pareto:?}");
    let policies: Vec<String> = SCENARIO
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .skip(1)
        .map(String::from)
        .collect();
    assert_eq!(policies.len(), POLICIES);
    for p in &policies {
        assert!(pareto.contains(p), "pareto.svg does not name {p}");
    }

    // Cost: the starved policy's bar is cut and its total written; start/stop costs shown.
    let cost = texts(&read(&out, "cost"));
    assert_eq!(
        cost.iter().filter(|t| t.ends_with("(bar cut)")).count(),
        1,
        "{cost:?}"
    );
    assert!(
        cost.iter().any(|t| t.starts_with("start/stop costs")),
        "{cost:?}"
    );

    // Latency: every labelled tick of the log axes reads in a unit.
    for stem in ["latency", "latency_cdf"] {
        let t = texts(&read(&out, stem));
        let unit_ticks: Vec<&String> = t
            .iter()
            .filter(|s| s.ends_with(" ms") || s.ends_with(" s") || s.ends_with(" µs"))
            .collect();
        assert!(unit_ticks.len() >= 3, "{stem}: {t:?}");
        // Bare numbers are only the whole minutes of the time axis (or percentages).
        let bare: Vec<&String> = t
            .iter()
            .filter(|s| {
                s.parse::<f64>()
                    .is_ok_and(|v| v.fract() != 0.0 || s.contains(['e', 'E']))
            })
            .collect();
        assert!(bare.is_empty(), "{stem}: ticks without unit {bare:?}");
    }

    // Timeline: a panel per policy.
    let timeline = texts(&read(&out, "timeline"));
    for p in &policies {
        assert!(
            timeline
                .iter()
                .any(|t| t == p || t.starts_with(&format!("{p} ("))),
            "timeline.svg has no panel for {p}"
        );
    }
}

#[test]
fn report_redraws_every_chart_byte_for_byte() {
    let out = run("redraw");
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 10, "{files:?}");
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let o = Command::new(BIN).arg("report").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(before == after, "a chart changed when redrawn");
}
