//! `--heatmap FILE.svg`: a latency heat map (Brendan Gregg's), written as one self-contained
//! SVG file without a browser, in memory that does not grow with the trace.
//!
//! Time runs along x, latency up y in the log2 buckets of `--summary`'s histogram
//! ([`crate::latency::log2_bucket`]), and each cell's colour is how many opens started in that
//! time column with that latency. Failed opens are drawn apart, in a second panel with blue
//! shades under the successful ones in yellow to red, on the same axes.
//!
//! **Bounded memory, any length.** Input streams and its time span is unknown until the end,
//! so the map keeps [`COLUMNS`] time columns of a width that is a power of two times 1 µs.
//! When an open falls past the last column, the width doubles and each pair of neighbouring
//! columns merges into one (all counts stay exact); an open earlier than the first column
//! shifts the columns right, or doubles the width if there is no room. So 10 opens or 20
//! million give a map between half and all of [`COLUMNS`] wide, in the same 130 KB.
//!
//! **Colour.** Counts per cell span orders of magnitude, so the scale is logarithmic, in up
//! to eight steps per panel, each labelled with its range of counts in the legend. Each cell
//! carries a `<title>` tooltip: its count, time range and latency range.

use std::io::{self, Write};
use std::path::PathBuf;

use super::{Context, EndCounts, Print};
use crate::duration::human_time;
use crate::event::{OpenEvent, Outcome};
use crate::latency::{log2_bucket, log2_bucket_label};
use crate::users::UserDb;

/// Time columns kept (and drawn at most).
pub const COLUMNS: usize = 128;
const ROWS: usize = 65;
/// The first column width tried, ns.
const FIRST_WIDTH_NS: u128 = 1_000;

/// Colour steps of successful opens, light to dark (ColorBrewer YlOrRd).
pub const OK_COLOURS: [&str; 8] = [
    "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026",
];
/// Colour steps of failed opens, light to dark (ColorBrewer Blues).
pub const FAILED_COLOURS: [&str; 8] = [
    "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b",
];
/// The plot area behind the cells (an empty cell).
pub const EMPTY_COLOUR: &str = "#f2f2f2";

/// `--heatmap FILE`: counts each open into a [`HeatMap`] and writes the SVG to the file at
/// the end. Nothing goes to stdout.
#[derive(Debug)]
pub struct HeatmapPrinter {
    map: HeatMap,
    path: PathBuf,
    /// What the map shows, under its title: the command line and the traced hosts.
    caption: Vec<u8>,
    hosts: Vec<Vec<u8>>,
    /// Opens whose process was killed during the call: they have no latency to draw, and
    /// the caption says how many.
    killed: u64,
}

/// Hosts named in the caption at most.
const CAPTION_HOSTS: usize = 4;

impl HeatmapPrinter {
    /// A printer writing to `path`, with `command` (the command line, any bytes) as caption.
    pub fn new(path: PathBuf, command: &[u8]) -> HeatmapPrinter {
        let mut caption = command.to_vec();
        if caption.len() > 160 {
            caption.truncate(157);
            caption.extend_from_slice(b"...");
        }
        HeatmapPrinter {
            map: HeatMap::new(),
            path,
            caption,
            hosts: Vec::new(),
            killed: 0,
        }
    }
}

impl Print for HeatmapPrinter {
    fn begin<W: Write>(&mut self, _out: &mut W, _time_base: Option<u64>) -> io::Result<()> {
        Ok(())
    }

    #[inline(never)]
    fn event<W: Write>(
        &mut self,
        _out: &mut W,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        match event.outcome {
            Outcome::Returned { ret, .. } => {
                let ns = event.duration_ns().unwrap_or(0);
                self.map.add(event.start_ns, ns, ret < 0);
            }
            Outcome::Killed { .. } => self.killed += 1,
            Outcome::Unfinished => {}
        }
        if let Some(host) = &ctx.info.host {
            if self.hosts.len() < CAPTION_HOSTS && !self.hosts.contains(host) {
                self.hosts.push(host.clone());
            }
        }
        Ok(())
    }

    /// Writes the SVG file.
    fn end<W: Write>(
        &mut self,
        _out: &mut W,
        _users: &mut UserDb,
        counts: &EndCounts,
    ) -> io::Result<()> {
        let mut caption = std::mem::take(&mut self.caption);
        if !self.hosts.is_empty() {
            caption.extend_from_slice(b"  |  host ");
            caption.extend_from_slice(&self.hosts.join(&b", "[..]));
        }
        if counts.unfinished > 0 {
            caption.extend_from_slice(
                format!("  |  {} unfinished opens not drawn", counts.unfinished).as_bytes(),
            );
        }
        if self.killed > 0 {
            caption.extend_from_slice(
                format!("  |  {} killed opens not drawn", self.killed).as_bytes(),
            );
        }
        if counts.lost > 0 {
            caption.extend_from_slice(
                format!("  |  the tracer lost {} events: incomplete", counts.lost).as_bytes(),
            );
        }
        let named = |e: io::Error| {
            io::Error::new(e.kind(), format!("--heatmap {}: {e}", self.path.display()))
        };
        let file = std::fs::File::create(&self.path).map_err(named)?;
        let mut file = io::BufWriter::new(file);
        self.map.write_svg(&mut file, &caption).map_err(named)?;
        file.flush().map_err(named)
    }
}

/// Counts of opens per (time column, latency bucket), successful and failed apart.
#[derive(Debug, Clone)]
pub struct HeatMap {
    /// Start of column 0, ns (signed: shifting left may pass 0).
    origin: i128,
    /// Column width, ns.
    width: u128,
    /// `cells[col * ROWS + row]`: [successful, failed].
    cells: Vec<[u64; 2]>,
    /// First and last column holding an open.
    used: Option<(usize, usize)>,
    /// Earliest start seen, ns.
    first_ns: u64,
    totals: [u64; 2],
}

impl Default for HeatMap {
    fn default() -> Self {
        HeatMap::new()
    }
}

impl HeatMap {
    /// An empty map.
    pub fn new() -> HeatMap {
        HeatMap {
            origin: 0,
            width: FIRST_WIDTH_NS,
            cells: vec![[0; 2]; COLUMNS * ROWS],
            used: None,
            first_ns: 0,
            totals: [0; 2],
        }
    }

    /// Counts one open that started at `start_ns` and took `duration_ns`.
    pub fn add(&mut self, start_ns: u64, duration_ns: u64, failed: bool) {
        let col = self.column(start_ns);
        let kind = usize::from(failed);
        self.cells[col * ROWS + log2_bucket(duration_ns)][kind] += 1;
        self.totals[kind] += 1;
    }

    /// Opens counted: [successful, failed].
    #[cfg(test)]
    pub fn totals(&self) -> [u64; 2] {
        self.totals
    }

    /// Column width, ns.
    #[cfg(test)]
    pub fn column_width_ns(&self) -> u128 {
        self.width
    }

    /// How many columns hold opens, from the first to the last.
    #[cfg(test)]
    pub fn columns_used(&self) -> usize {
        self.used.map_or(0, |(a, b)| b - a + 1)
    }

    /// The count of one cell: column `col` among the used ones, log2 bucket `row`.
    #[cfg(test)]
    pub fn cell(&self, col: usize, row: usize, failed: bool) -> u64 {
        let (first, _) = self.used.unwrap_or((0, 0));
        self.cells[(first + col) * ROWS + row][usize::from(failed)]
    }

    /// The column of `t`, widening or shifting the columns until it fits.
    fn column(&mut self, t: u64) -> usize {
        let Some(_) = self.used else {
            self.origin = i128::from(t);
            self.first_ns = t;
            self.used = Some((0, 0));
            return 0;
        };
        self.first_ns = self.first_ns.min(t);
        let t = i128::from(t);
        loop {
            let (first, last) = self.used.expect("set above");
            let width = self.width as i128;
            if t >= self.origin {
                let col = ((t - self.origin) / width) as usize;
                if col < COLUMNS {
                    self.used = Some((first.min(col), last.max(col)));
                    return col;
                }
            } else {
                let shift = ((self.origin - t + width - 1) / width) as usize;
                if last + shift < COLUMNS {
                    self.shift_right(shift);
                    self.origin -= shift as i128 * width;
                    let col = ((t - self.origin) / width) as usize;
                    let (first, last) = self.used.expect("set above");
                    self.used = Some((first.min(col), last));
                    return col;
                }
            }
            self.double();
        }
    }

    fn shift_right(&mut self, shift: usize) {
        let (first, last) = self.used.expect("only called with opens");
        for col in (first..=last).rev() {
            for row in 0..ROWS {
                self.cells[(col + shift) * ROWS + row] = self.cells[col * ROWS + row];
                self.cells[col * ROWS + row] = [0; 2];
            }
        }
        self.used = Some((first + shift, last + shift));
    }

    /// Doubles the column width: columns 2i and 2i+1 become column i.
    fn double(&mut self) {
        let (first, last) = self.used.expect("only called with opens");
        for col in 0..COLUMNS {
            for row in 0..ROWS {
                let merged = if 2 * col + 1 < COLUMNS {
                    let a = self.cells[2 * col * ROWS + row];
                    let b = self.cells[(2 * col + 1) * ROWS + row];
                    [a[0] + b[0], a[1] + b[1]]
                } else {
                    [0; 2]
                };
                self.cells[col * ROWS + row] = merged;
            }
        }
        self.width *= 2;
        self.used = Some((first / 2, last / 2));
    }

    /// Writes the SVG. `caption` (what was traced and filtered; any bytes) goes under the
    /// title, escaped.
    pub fn write_svg(&self, out: &mut dyn Write, caption: &[u8]) -> io::Result<()> {
        let mut svg = Svg::default();
        self.render(&mut svg, caption);
        out.write_all(svg.0.as_bytes())
    }

    fn render(&self, svg: &mut Svg, caption: &[u8]) {
        let (first, last) = self.used.unwrap_or((0, 0));
        let ncols = last - first + 1;
        let cell_rows = |kind: usize| {
            (0..ROWS)
                .filter(move |&row| (first..=last).any(|c| self.cells[c * ROWS + row][kind] > 0))
        };
        let lo = cell_rows(0).chain(cell_rows(1)).min().unwrap_or(0);
        let hi = cell_rows(0).chain(cell_rows(1)).max().unwrap_or(0);
        let nrows = hi - lo + 1;
        let row_h = (320 / nrows).clamp(12, 24) as f64;
        let plot_w = 800.0;
        let col_w = plot_w / ncols as f64;
        let left = 120.0;
        let panels: Vec<usize> = (0..2).filter(|&k| self.totals[k] > 0).collect();
        let panel_h = row_h * nrows as f64;
        // Room for the x axis under each panel, and for the legend beside it.
        let block_h = panel_h.max(180.0) + 90.0;
        let top = 70.0;
        let height = top + panels.len().max(1) as f64 * block_h + 10.0;
        let width = left + plot_w + 200.0;

        svg.open(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, Verdana, sans-serif\" \
             font-size=\"12\" shape-rendering=\"crispEdges\">"
        ));
        svg.raw(&format!(
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
        ));
        let [ok, failed] = self.totals;
        svg.text(
            left,
            24.0,
            "font-size=\"16\" font-weight=\"bold\"",
            &format!(
                "Latency heat map: {} opens ({} failed)",
                ok + failed,
                failed
            ),
        );
        svg.text_bytes(left, 44.0, "fill=\"#444444\"", caption);
        if panels.is_empty() {
            svg.text(left, top + 30.0, "", "no completed opens to show");
        }

        for (i, &kind) in panels.iter().enumerate() {
            let y0 = top + i as f64 * block_h + 20.0;
            let colours = if kind == 0 {
                &OK_COLOURS
            } else {
                &FAILED_COLOURS
            };
            let what = if kind == 0 { "successful" } else { "failed" };
            svg.text(
                left,
                y0 - 6.0,
                "font-weight=\"bold\"",
                &format!("{what} opens: {}", self.totals[kind]),
            );
            svg.raw(&format!(
                "<rect x=\"{left}\" y=\"{y0}\" width=\"{plot_w}\" height=\"{panel_h}\" \
                 fill=\"{EMPTY_COLOUR}\"/>"
            ));
            let max = (first..=last)
                .flat_map(|c| (lo..=hi).map(move |r| (c, r)))
                .map(|(c, r)| self.cells[c * ROWS + r][kind])
                .max()
                .unwrap_or(0);
            let scale = ColourScale::new(max);
            // Cells.
            for c in first..=last {
                for r in lo..=hi {
                    let n = self.cells[c * ROWS + r][kind];
                    if n == 0 {
                        continue;
                    }
                    let x = left + (c - first) as f64 * col_w;
                    let y = y0 + (hi - r) as f64 * row_h;
                    let t0 = (c as i128 * self.width as i128 + self.origin
                        - i128::from(self.first_ns))
                    .max(0) as u64;
                    let t1 = t0.saturating_add(self.width as u64);
                    svg.raw(&format!(
                        "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{row_h}\" \
                         fill=\"{}\"><title>{n} {what} open{} started {}..{} after the first, \
                         latency {} ns</title></rect>",
                        col_w,
                        colours[scale.colour(n)],
                        if n == 1 { "" } else { "s" },
                        human_time(t0),
                        human_time(t1),
                        log2_bucket_label(r)
                    ));
                }
            }
            // Y axis: one label per bucket.
            for r in lo..=hi {
                let y = y0 + (hi - r) as f64 * row_h + row_h / 2.0 + 4.0;
                svg.text_anchor(
                    left - 6.0,
                    y,
                    "end",
                    "font-size=\"10\"",
                    &log2_bucket_label(r),
                );
            }
            svg.raw(&format!(
                "<text transform=\"translate(18,{:.2}) rotate(-90)\" text-anchor=\"middle\">\
                 latency (ns, log2 buckets)</text>",
                y0 + panel_h / 2.0
            ));
            // X axis: nice ticks over the span.
            let span = ncols as u128 * self.width;
            let base = first as i128 * self.width as i128 + self.origin - i128::from(self.first_ns);
            let step = nice_step(span / 8);
            let mut tick: u128 = 0;
            let axis_y = y0 + panel_h;
            svg.raw(&format!(
                "<line x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#000000\"/>",
                left + plot_w
            ));
            while tick <= span {
                // Tick at time `tick` after the first open.
                let offset = tick as i128 - base;
                if offset >= 0 && offset as u128 <= span {
                    let x = left + offset as f64 / span as f64 * plot_w;
                    svg.raw(&format!(
                        "<line x1=\"{x:.2}\" y1=\"{axis_y}\" x2=\"{x:.2}\" y2=\"{}\" \
                         stroke=\"#000000\"/>",
                        axis_y + 5.0
                    ));
                    svg.text_anchor(x, axis_y + 18.0, "middle", "", &short_duration(tick));
                }
                tick += step;
            }
            svg.text_anchor(
                left + plot_w / 2.0,
                axis_y + 38.0,
                "middle",
                "",
                &format!(
                    "time since the first open (one column = {})",
                    human_time(self.width.min(u128::from(u64::MAX)) as u64)
                ),
            );
            // Legend.
            let lx = left + plot_w + 24.0;
            svg.text(lx, y0 + 10.0, "font-weight=\"bold\"", "opens per cell");
            for (k, (from, to)) in scale.steps().enumerate() {
                let ly = y0 + 20.0 + k as f64 * 20.0;
                svg.raw(&format!(
                    "<rect x=\"{lx}\" y=\"{ly}\" width=\"16\" height=\"16\" fill=\"{}\" \
                     stroke=\"#888888\" stroke-width=\"0.5\"/>",
                    colours[scale.colour(from)]
                ));
                let label = if from == to {
                    from.to_string()
                } else {
                    format!("{from}\u{2013}{to}")
                };
                svg.text(lx + 24.0, ly + 12.0, "", &label);
            }
        }
        svg.raw("</svg>\n");
    }
}

/// A logarithmic scale of counts 1..=max onto up to 8 colour steps.
#[derive(Debug, Clone)]
struct ColourScale {
    /// The smallest count of each step, increasing.
    lows: Vec<u64>,
    max: u64,
}

impl ColourScale {
    fn new(max: u64) -> ColourScale {
        let max = max.max(1);
        let steps = max.min(OK_COLOURS.len() as u64) as u32;
        let mut lows: Vec<u64> = Vec::new();
        for k in 0..steps {
            let low = ((max as f64).powf(f64::from(k) / f64::from(steps)).ceil() as u64).max(1);
            let low = lows.last().map_or(low, |&prev| low.max(prev + 1));
            if low <= max {
                lows.push(low);
            }
        }
        ColourScale { lows, max }
    }

    /// The step of `n` (>= 1), as an index into the 8 colours (spread when fewer steps).
    fn colour(&self, n: u64) -> usize {
        let step = self.lows.partition_point(|&low| low <= n).saturating_sub(1);
        let steps = self.lows.len();
        if steps <= 1 {
            OK_COLOURS.len() - 1
        } else {
            step * (OK_COLOURS.len() - 1) / (steps - 1)
        }
    }

    /// Each step's range of counts.
    fn steps(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.lows.iter().enumerate().map(|(k, &low)| {
            let high = self.lows.get(k + 1).map_or(self.max, |&next| next - 1);
            (low, high)
        })
    }
}

/// A tick step of 1, 2 or 5 times a power of ten, ns, at least `rough`.
fn nice_step(rough: u128) -> u128 {
    let mut p: u128 = 1;
    loop {
        for m in [1, 2, 5] {
            if m * p >= rough.max(1) {
                return m * p;
            }
        }
        p *= 10;
    }
}

/// `0`, `500 ms`, `1.5 s`, `20 us`: a tick label.
fn short_duration(ns: u128) -> String {
    if ns == 0 {
        return "0".to_string();
    }
    for (unit, scale) in [("s", 1_000_000_000u128), ("ms", 1_000_000), ("us", 1_000)] {
        if ns >= scale {
            let whole = ns / scale;
            let frac = ns % scale;
            if frac == 0 {
                return format!("{whole} {unit}");
            }
            let digits = format!("{:0width$}", frac, width = scale.ilog10() as usize);
            return format!("{whole}.{} {unit}", digits.trim_end_matches('0'));
        }
    }
    format!("{ns} ns")
}

/// An SVG document being written.
#[derive(Debug, Default)]
struct Svg(String);

impl Svg {
    fn open(&mut self, tag: &str) {
        self.0
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.0.push_str(tag);
        self.0.push('\n');
    }

    fn raw(&mut self, s: &str) {
        self.0.push_str(s);
        self.0.push('\n');
    }

    fn text(&mut self, x: f64, y: f64, attrs: &str, body: &str) {
        self.text_anchor(x, y, "start", attrs, body);
    }

    fn text_anchor(&mut self, x: f64, y: f64, anchor: &str, attrs: &str, body: &str) {
        self.0.push_str(&format!(
            "<text x=\"{x:.2}\" y=\"{y:.2}\" text-anchor=\"{anchor}\" {attrs}>"
        ));
        push_xml_text(&mut self.0, body.as_bytes());
        self.0.push_str("</text>\n");
    }

    fn text_bytes(&mut self, x: f64, y: f64, attrs: &str, body: &[u8]) {
        self.0
            .push_str(&format!("<text x=\"{x:.2}\" y=\"{y:.2}\" {attrs}>"));
        push_xml_text(&mut self.0, body);
        self.0.push_str("</text>\n");
    }
}

/// Appends `bytes` as XML character data: invalid UTF-8 and the characters XML 1.0 forbids
/// (C0 controls but tab, newline and carriage return; U+FFFE and U+FFFF) become U+FFFD, the
/// five markup characters are escaped. Names in a trace come from whoever ran the traced
/// program: nothing in them may end the text element or break the document.
pub fn push_xml_text(out: &mut String, bytes: &[u8]) {
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svg_of(map: &HeatMap, caption: &[u8]) -> String {
        let mut out = Vec::new();
        map.write_svg(&mut out, caption).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The sum of all cells, by kind.
    fn cell_sum(map: &HeatMap, failed: bool) -> u64 {
        (0..map.columns_used())
            .flat_map(|c| (0..ROWS).map(move |r| (c, r)))
            .map(|(c, r)| map.cell(c, r, failed))
            .sum()
    }

    #[test]
    fn columns_double_and_shift_keeping_every_count() {
        let mut map = HeatMap::new();
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut n = [0u64; 2];
        for i in 0..200_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Mostly increasing start times with some earlier ones (long opens end late).
            let start = 1_000_000_000 + i * 5_000 - (seed % 3_000_000).min(i * 5_000);
            let failed = seed % 8 == 0;
            map.add(start, seed % 1_000_000, failed);
            n[usize::from(failed)] += 1;
        }
        assert_eq!(map.totals(), n);
        assert_eq!(cell_sum(&map, false), n[0]);
        assert_eq!(cell_sum(&map, true), n[1]);
        // 1 s of opens: the column width is the power of two times 1 us that fits.
        let used = map.columns_used();
        assert!(used > COLUMNS / 2 - 2 && used <= COLUMNS, "{used}");
        assert_eq!(map.column_width_ns(), 8_192_000);
    }

    #[test]
    fn an_earlier_open_shifts_the_columns() {
        let mut map = HeatMap::new();
        map.add(10_000_000, 5, false);
        map.add(10_000_500, 5, false);
        map.add(9_990_000, 3000, true);
        assert_eq!(map.column_width_ns(), 1_000);
        assert_eq!(map.columns_used(), 11);
        assert_eq!(map.cell(0, log2_bucket(3000), true), 1);
        assert_eq!(map.cell(10, log2_bucket(5), false), 2);
        // Far earlier than the room to the right allows: the width doubles.
        map.add(0, 1, false);
        assert!(map.column_width_ns() >= 10_000_000 / COLUMNS as u128);
        assert_eq!(cell_sum(&map, false), 3);
        assert_eq!(cell_sum(&map, true), 1);
    }

    #[test]
    fn one_open_and_no_open_still_draw() {
        let mut map = HeatMap::new();
        let empty = svg_of(&map, b"");
        assert!(empty.contains("no completed opens"), "{empty}");
        map.add(42, 1500, false);
        let one = svg_of(&map, b"");
        assert_eq!(one.matches("<title>").count(), 1, "{one}");
        assert!(one.contains("<title>1 successful open started 0.00 ns..1.00 us after the first, latency [1K, 2K) ns</title>"), "{one}");
        assert!(!one.contains("failed opens:"));
    }

    #[test]
    fn cells_colours_legend_and_axes() {
        let mut map = HeatMap::new();
        for i in 0..1000u64 {
            map.add(i * 1_000_000, 1000 + i, i % 10 == 0);
        }
        let svg = svg_of(&map, b"-c nginx");
        assert!(svg.contains("successful opens: 900"), "{svg}");
        assert!(svg.contains("failed opens: 100"), "{svg}");
        assert!(svg.contains("latency (ns, log2 buckets)"));
        assert!(svg.contains("time since the first open"));
        assert!(svg.contains("opens per cell"));
        assert!(svg.contains(">[1K, 2K)</text>"));
        assert!(svg.contains(">400 ms</text>"), "{svg}");
        assert!(svg.contains(FAILED_COLOURS[7]) && svg.contains(OK_COLOURS[7]));
        // One tooltip per non-empty cell.
        let cells = (0..map.columns_used())
            .flat_map(|c| (0..ROWS).map(move |r| (c, r)))
            .map(|(c, r)| {
                usize::from(map.cell(c, r, false) > 0) + usize::from(map.cell(c, r, true) > 0)
            })
            .sum::<usize>();
        assert_eq!(svg.matches("<title>").count(), cells);
    }

    #[test]
    fn svg_is_well_formed_xml_with_hostile_caption() {
        let mut map = HeatMap::new();
        for i in 0..50u64 {
            map.add(i * 7_919, i * i * 1000, i % 3 == 0);
        }
        let caption = b"-c '</text><script>alert(1)</script>' \x01\x1b[31m \xff\xfe &amp; \"q\"";
        let svg = svg_of(&map, caption);
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert!(!svg.contains("<script"));
        let texts: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").to_string())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("</text><script>alert(1)</script>")),
            "{texts:?}"
        );
        let titles = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .count();
        assert!(titles > 0);
    }

    #[test]
    fn colour_scale_steps() {
        let s = ColourScale::new(1);
        assert_eq!(s.steps().collect::<Vec<_>>(), [(1, 1)]);
        assert_eq!(s.colour(1), 7);
        let s = ColourScale::new(3);
        assert_eq!(s.steps().collect::<Vec<_>>(), [(1, 1), (2, 2), (3, 3)]);
        assert_eq!([1, 2, 3].map(|n| s.colour(n)), [0, 3, 7]);
        let s = ColourScale::new(1_000_000);
        let steps: Vec<_> = s.steps().collect();
        assert_eq!(steps.len(), 8);
        assert_eq!(steps[0].0, 1);
        assert_eq!(steps[7].1, 1_000_000);
        assert_eq!(s.colour(1_000_000), 7);
        assert_eq!(s.colour(1), 0);
        assert_eq!(short_duration(1_500_000_000), "1.5 s");
        assert_eq!(short_duration(20_000), "20 us");
        assert_eq!(nice_step(123_000_000), 200_000_000);
    }
}
