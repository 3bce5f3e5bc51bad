//! The pictures: `--format chrome` read back and checked open by open against the trace, and
//! `--heatmap` checked as XML, as counts, and as pixels in a screenshot by headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::common::{in_ci, trace_merge, TempDir};
use crate::opens_corpus::{fleet_trace, Open};

#[test]
fn chrome_trace_holds_every_open_as_it_was_traced() {
    let dir = TempDir::new("chrome");
    let (trace, mut opens) = fleet_trace("web1", 3000, 11);
    let file = dir.path("web1.trace");
    std::fs::write(&file, trace).unwrap();
    let out = trace_merge()
        .args(["--format", "chrome"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    let us_to_ns = |v: &Value| (v.as_f64().expect("a number") * 1000.0).round() as u64;
    let mut got: Vec<Open> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| Open {
            tid: e["tid"].as_u64().unwrap() as u32,
            start_ns: us_to_ns(&e["ts"]),
            pid: e["pid"].as_u64().unwrap() as u32,
            duration_ns: us_to_ns(&e["dur"]),
            ret: e["args"]["ret"].as_i64().unwrap(),
            comm: ["nginx", "php-fpm", "cat", "sshd"]
                .into_iter()
                .find(|c| e["args"]["comm"] == *c)
                .expect("a comm of the corpus"),
            path: e["name"].as_str().unwrap().to_string(),
        })
        .collect();
    assert_eq!(got.len(), opens.len());
    got.sort();
    opens.sort();
    for (g, o) in got.iter().zip(&opens) {
        assert_eq!(g, o);
    }
    // Failures are named and categorised.
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let failed = e["args"]["ret"].as_i64().unwrap() < 0;
        assert_eq!(e["cat"] == "open,failed", failed, "{e}");
        assert_eq!(e["args"]["errno"].is_string(), failed, "{e}");
    }
    // Every process and thread track is named after its comm.
    for o in &opens {
        let named = |what: &str, tid: u32| {
            events.iter().any(|e| {
                e["ph"] == "M"
                    && e["name"] == what
                    && e["pid"] == o.pid
                    && e["tid"] == tid
                    && e["args"]["name"] == o.comm
            })
        };
        assert!(named("process_name", o.pid), "process {}", o.pid);
        assert!(
            o.tid == o.pid || named("thread_name", o.tid),
            "thread {}",
            o.tid
        );
    }
}

/// Runs `trace-merge --heatmap OUT.svg ARGS TRACE` and returns the SVG.
fn heatmap(dir: &TempDir, trace: &Path, args: &[&str]) -> String {
    let svg = dir.path("map.svg");
    let out = trace_merge()
        .arg("--heatmap")
        .arg(&svg)
        .args(args)
        .arg(trace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&svg).expect("the SVG was written")
}

/// The opens counted in the cells' tooltips: (successful, failed).
fn tooltip_counts(svg: &str) -> (u64, u64) {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let mut counts = (0, 0);
    for title in doc.descendants().filter(|n| n.has_tag_name("title")) {
        let text = title.text().unwrap();
        let mut words = text.split(' ');
        let n: u64 = words.next().unwrap().parse().unwrap();
        match words.next() {
            Some("successful") => counts.0 += n,
            Some("failed") => counts.1 += n,
            other => panic!("tooltip {text:?}: {other:?}"),
        }
    }
    counts
}

#[test]
fn heatmap_counts_every_open_and_follows_the_filters() {
    let dir = TempDir::new("heatmap-counts");
    let (trace, opens) = fleet_trace("web1", 5000, 12);
    let file = dir.path("web1.trace");
    std::fs::write(&file, trace).unwrap();
    let failed = opens.iter().filter(|o| o.ret < 0).count() as u64;
    let all = heatmap(&dir, &file, &[]);
    assert_eq!(tooltip_counts(&all), (opens.len() as u64 - failed, failed));
    // Only nginx's failures.
    let nginx_failed = opens
        .iter()
        .filter(|o| o.ret < 0 && o.comm == "nginx")
        .count() as u64;
    assert!(nginx_failed > 0);
    let filtered = heatmap(&dir, &file, &["--comm", "nginx", "-x"]);
    assert_eq!(tooltip_counts(&filtered), (0, nginx_failed));
    assert!(!filtered.contains("successful opens:"));
}

/// Chromium's binary, or None (outside CI only: there the test must fail instead).
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| {
            let out = StdCommand::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
    if found.is_none() {
        assert!(
            !in_ci(),
            "chromium is required in CI for the heat-map screenshot test \
             (scripts/install-deps.sh installs it)"
        );
        eprintln!("SKIPPED: chromium not found (scripts/install-deps.sh installs it)");
    }
    found
}

/// An RGB screenshot.
struct Screenshot {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Screenshot {
    fn at(&self, x: f64, y: f64) -> [u8; 3] {
        let (x, y) = (x as usize, y as usize);
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels darker than mid-grey (text is black) in a rectangle.
    fn dark_pixels(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> usize {
        let mut n = 0;
        for y in y0 as usize..(y1 as usize).min(self.height) {
            for x in x0 as usize..(x1 as usize).min(self.width) {
                let [r, g, b] = self.at(x as f64, y as f64);
                n += usize::from(u32::from(r) + u32::from(g) + u32::from(b) < 3 * 100);
            }
        }
        n
    }
}

/// Renders `svg` at its own size in headless Chromium.
fn screenshot(chromium: &Path, dir: &TempDir, svg: &Path, width: u32, height: u32) -> Screenshot {
    let png = dir.path("shot.png");
    let profile = dir.path("chromium-profile");
    let out = StdCommand::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("file://{}", svg.display()))
        .output()
        .unwrap();
    assert!(
        png.exists(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Screenshot {
        width: info.width as usize,
        height: info.height as usize,
        rgb,
    }
}

fn hex_colour(fill: &str) -> [u8; 3] {
    let v = u32::from_str_radix(fill.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn heatmap_renders_in_chromium_with_cells_axes_and_legend() {
    let Some(chromium) = chromium() else { return };
    let dir = TempDir::new("heatmap-render");
    let (trace, _) = fleet_trace("web1", 20_000, 13);
    let file = dir.path("web1.trace");
    std::fs::write(&file, trace).unwrap();
    let svg_text = heatmap(&dir, &file, &[]);
    let svg_path = dir.path("map.svg");
    let doc = roxmltree::Document::parse(&svg_text).unwrap();
    let root = doc.root_element();
    let attr = |n: roxmltree::Node, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
    let (width, height) = (attr(root, "width"), attr(root, "height"));
    let shot = screenshot(&chromium, &dir, &svg_path, width as u32, height as u32);
    assert!(shot.width >= width as usize && shot.height >= height as usize);

    // Every cell is drawn where the SVG puts it, in its colour: its centre pixel.
    let cells: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.children().any(|c| c.has_tag_name("title")))
        .collect();
    assert!(cells.len() > 100, "{} cells", cells.len());
    let mut colours = std::collections::HashSet::new();
    for cell in &cells {
        let (x, y, w, h) = (
            attr(*cell, "x"),
            attr(*cell, "y"),
            attr(*cell, "width"),
            attr(*cell, "height"),
        );
        let fill = cell.attribute("fill").unwrap();
        colours.insert(fill);
        assert_eq!(
            shot.at(x + w / 2.0, y + h / 2.0),
            hex_colour(fill),
            "cell at ({x}, {y}) {fill}"
        );
    }
    // Both panels, several colour steps each.
    assert!(colours.len() >= 6, "{colours:?}");

    // Text where the labels are: the title, the latency labels left of the plot, the time
    // labels under it, the axis titles, and the legend on the right.
    let texts: Vec<(f64, f64, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("x").is_some())
        .map(|n| (attr(n, "x"), attr(n, "y"), n.text().unwrap_or("")))
        .collect();
    let plot_left = cells.iter().map(|c| attr(*c, "x")).fold(f64::MAX, f64::min);
    let plot_right = cells
        .iter()
        .map(|c| attr(*c, "x") + attr(*c, "width"))
        .fold(0.0, f64::max);
    let find = |pred: &dyn Fn(&str) -> bool| {
        texts
            .iter()
            .find(|t| pred(t.2))
            .unwrap_or_else(|| panic!("no such text in {texts:?}"))
    };
    let title = find(&|t| t.starts_with("Latency heat map"));
    assert!(shot.dark_pixels(title.0, title.1 - 16.0, title.0 + 300.0, title.1 + 4.0) > 200);
    let y_label = find(&|t| t.starts_with("[1K, 2K)"));
    assert!(shot.dark_pixels(0.0, y_label.1 - 10.0, plot_left - 1.0, y_label.1 + 3.0) > 40);
    let x_label = find(&|t| t == "0");
    assert!(
        shot.dark_pixels(
            plot_left - 20.0,
            x_label.1 - 12.0,
            plot_right,
            x_label.1 + 4.0
        ) > 100
    );
    let legend = find(&|t| t == "opens per cell");
    assert!(shot.dark_pixels(legend.0, legend.1 - 12.0, width, legend.1 + 180.0) > 150);
    // The plot area behind the cells (#f2f2f2) shows where no open fell.
    let empty = shot
        .rgb
        .chunks(3)
        .filter(|p| p == &[0xf2, 0xf2, 0xf2])
        .count();
    assert!(empty > 1000, "{empty} empty-cell pixels");
}
