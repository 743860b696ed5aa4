//! Reports and plots: files exist and are valid (SVG parses as XML, PNG decodes), the HTML
//! report is self-contained and names every policy, `report DIR` redraws the same bytes, the
//! report parses as HTML and each of its charts rasterises to a picture that is not blank
//! (resvg, no browser needed), and it renders in a real headless Chromium when one is present
//! (required under `AUTOSCALE_SIM_REQUIRE=chromium`, as in CI).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_autoscale-sim");

const SCENARIO: &str = r#"name = "report-test"
seed = 9
duration = "20m"
warmup = "2m"
replications = 3
interval = "60s"

[workload]
type = "step"
steps = [[0, 40.0], ["8m", 120.0], ["14m", 40.0]]

[service]
distribution = "exponential"
mean = "100ms"

[cluster]
concurrency = 2
startup = "20s"
max_replicas = 20
initial_replicas = 3

[[policy]]
name = "small <3>"
type = "static"
replicas = 3

[[policy]]
name = "large"
type = "static"
replicas = 8

[[policy]]
name = "hpa"
type = "hpa"
"#;

fn run_scenario(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "autoscale-sim-report-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sc = dir.join("s.toml");
    std::fs::write(&sc, SCENARIO).unwrap();
    let out = dir.join("out");
    let o = Command::new(BIN)
        .args([
            "run",
            sc.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

const CHARTS: [&str; 5] = ["timeline", "latency", "latency_cdf", "pareto", "cost"];

/// Width, height and the fraction of pixels darker than light grey, of a PNG file.
fn png_size_and_ink(path: &Path) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let px = bytes.chunks(channels);
    let total = px.len() as f64;
    let inked = bytes
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count() as f64;
    (info.width, info.height, inked / total)
}

#[test]
fn charts_are_valid_svg_and_png() {
    let out = run_scenario("charts");
    for name in CHARTS {
        let svg = std::fs::read_to_string(out.join("plots").join(format!("{name}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: String = doc.descendants().filter_map(|n| n.text()).collect();
        for policy in ["small <3>", "large", "hpa"] {
            assert!(texts.contains(policy), "{name}.svg does not name {policy}");
        }
        let (w, h, ink) = png_size_and_ink(&out.join("plots").join(format!("{name}.png")));
        assert!(w >= 800 && h >= 500, "{name}.png is {w}x{h}");
        assert!(ink > 0.01, "{name}.png is nearly blank ({ink})");
    }
    // Titles and axis units.
    let timeline = std::fs::read_to_string(out.join("plots/timeline.svg")).unwrap();
    assert!(timeline.contains("time (min)") && timeline.contains("arrivals per second"));
    let pareto = std::fs::read_to_string(out.join("plots/pareto.svg")).unwrap();
    assert!(
        pareto.contains("SLO violations (% of requests, log scale)")
            && pareto.contains("Pareto front")
    );
}

#[test]
fn html_report_is_self_contained_and_redrawn_identically() {
    let out = run_scenario("html");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for policy in ["small &lt;3&gt;", "large", "hpa"] {
        assert!(html.contains(policy), "report.html does not name {policy}");
    }
    assert_eq!(html.matches("<svg").count(), CHARTS.len());
    for external in ["<script", "<link", "src=\"http", "href=\"http", "url(http"] {
        assert!(
            !html.contains(external),
            "report.html is not self-contained: {external}"
        );
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| rank | policy |") && md.contains("plots/pareto.png"));
    // `report DIR` draws the same files again from the CSVs.
    let before: Vec<Vec<u8>> = ["report.html", "report.md", "plots/timeline.svg"]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    std::fs::remove_file(out.join("report.html")).unwrap();
    let o = Command::new(BIN)
        .args(["report", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after: Vec<Vec<u8>> = ["report.html", "report.md", "plots/timeline.svg"]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn report_of_a_missing_or_broken_folder_is_bad_input() {
    let o = Command::new(BIN)
        .args(["report", "/nonexistent/results"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let out = run_scenario("broken");
    let path = out.join("policies.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    // The same size, so that run.json still matches and the value itself is at fault.
    std::fs::write(&path, text.replacen(",1,", ",x,", 1)).unwrap();
    let o = Command::new(BIN)
        .args(["report", out.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("policies.csv:2"), "{err}");
}

/// The report without a browser: it parses as an HTML document with the scenario's title, a
/// ranking row per policy and one captioned figure per chart, and each inline chart, drawn by
/// resvg with the font the charts are made with, is a full-size picture with ink on it.
#[test]
fn report_parses_and_every_chart_rasterises() {
    let out = run_scenario("resvg");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "report.html: {:?}", doc.errors);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let h1: Vec<String> = doc
        .select(&select("h1"))
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(h1, ["report-test"]);
    let ranked: Vec<String> = doc
        .select(&select("table tbody tr td:nth-child(2)"))
        .map(|e| e.text().collect::<String>())
        .collect();
    for policy in ["small <3>", "large", "hpa"] {
        assert!(
            ranked.iter().any(|p| p == policy),
            "no ranking row for {policy}: {ranked:?}"
        );
    }
    let figures: Vec<_> = doc.select(&select("figure")).collect();
    assert_eq!(figures.len(), CHARTS.len());
    for figure in &figures {
        assert_eq!(figure.select(&select("svg")).count(), 1);
        let caption: String = figure
            .select(&select("figcaption"))
            .flat_map(|c| c.text())
            .collect();
        assert!(!caption.trim().is_empty(), "a figure has no caption");
    }

    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_font_data(
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts/DejaVuSans.ttf"))
            .unwrap(),
    );
    // The charts ask for `sans-serif`: the font they were measured with.
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let mut rest = html.as_str();
    let mut drawn = 0;
    while let Some(start) = rest.find("<svg") {
        let len = rest[start..]
            .find("</svg>")
            .expect("an <svg> is not closed")
            + "</svg>".len();
        let svg = &rest[start..start + len];
        rest = &rest[start + len..];
        let tree = resvg::usvg::Tree::from_str(svg, &options)
            .unwrap_or_else(|e| panic!("chart {drawn} of report.html: {e}"));
        let size = tree.size().to_int_size();
        assert!(
            size.width() >= 800 && size.height() >= 500,
            "chart {drawn}: {size:?}"
        );
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        pixmap.fill(resvg::tiny_skia::Color::WHITE);
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::default(),
            &mut pixmap.as_mut(),
        );
        let pixels = pixmap.pixels();
        let inked = pixels
            .iter()
            .filter(|p| p.red() < 200 || p.green() < 200 || p.blue() < 200)
            .count();
        let ink = inked as f64 / pixels.len() as f64;
        assert!(
            ink > 0.01,
            "chart {drawn} of report.html is nearly blank ({ink})"
        );
        assert!(
            ink < 0.9,
            "chart {drawn} of report.html is nearly all ink ({ink})"
        );
        drawn += 1;
    }
    assert_eq!(drawn, CHARTS.len());
}

/// The report as a browser shows it: Debian's `chromium` in headless mode (installed by
/// `.ci/run`) prints the rendered DOM and takes a screenshot, which must not be blank.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        support::unavailable(
            "chromium",
            "neither `chromium` nor `chromium-browser` runs (apt-get install chromium)",
        );
        return;
    };
    let out = run_scenario("chromium");
    let url = format!(
        "file://{}",
        out.join("report.html").canonicalize().unwrap().display()
    );
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ];
    let dom = Command::new(chromium)
        .args(common)
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<h1>report-test</h1>"),
        "{}",
        &dom[..dom.len().min(500)]
    );
    for policy in ["small &lt;3&gt;", "large", "hpa"] {
        assert!(
            dom.contains(policy),
            "rendered report does not name {policy}"
        );
    }
    let shot = out.join("screenshot.png");
    let o = Command::new(chromium)
        .args(common)
        .args([
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,2400",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (w, h, ink) = png_size_and_ink(&shot);
    assert_eq!((w, h), (1200, 2400));
    assert!(ink > 0.02, "the rendered report is nearly blank ({ink})");
}
