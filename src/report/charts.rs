//! Charts of a sweep and of one run, drawn with plotters.
//!
//! Every chart is one drawing routine written against plotters' backend
//! trait and rendered twice: as SVG text (crisp in a browser, diff-able) and
//! as PNG (for viewers that cannot show SVG). Both are deterministic: the
//! font is bundled and registered in-process rather than looked up on the
//! machine, colours are handed out in first-appearance order from a fixed
//! palette, and nothing reads the clock or iterates a hash map, so the same
//! input gives the same bytes.
//!
//! Nothing here panics on bad input: non-finite values are skipped, inputs
//! with nothing to draw give a chart saying "no data", and every coordinate
//! is clamped into its axis, so no shape is ever drawn far off the canvas
//! (the bitmap rasterizer walks every pixel of a line, clipped or not).

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::write_atomic;
use crate::record::TimelineRow;
use crate::strategy::Phase;

/// One rendered chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File stem, e.g. `blast_vs_ttd`; also the chart's id in the HTML page.
    pub name: String,
    /// Human title, drawn on the chart and used as the figure caption.
    pub title: String,
    /// The chart as a standalone SVG document.
    pub svg: String,
    /// The chart as PNG bytes (8-bit RGB).
    pub png: Vec<u8>,
    /// A paragraph the report shows under the title, explaining the chart;
    /// empty (as every chart here makes it) for none.
    pub caption: String,
}

/// One sweep cell as a point: x = TTD, y = blast radius, whiskers p50..p95
/// on both axes.
#[derive(Clone, Debug, PartialEq)]
pub struct CellPoint {
    /// Strategy of the cell; chooses the colour and the legend entry.
    pub strategy: String,
    /// Short cell label drawn next to the point when there are few points.
    pub label: String,
    /// Median time to detect, seconds.
    pub ttd_p50_s: f64,
    /// 95th percentile time to detect, seconds.
    pub ttd_p95_s: f64,
    /// Median blast radius.
    pub blast_p50: f64,
    /// 95th percentile blast radius.
    pub blast_p95: f64,
}

/// A line: (x, y) points in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points, drawn in the given order.
    pub points: Vec<(f64, f64)>,
}

/// A trigger setting as a point: x = false rollback rate %, y = detection
/// power %.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerPoint {
    /// Group (strategy); chooses the colour and the legend entry.
    pub group: String,
    /// Trigger setting, drawn next to the point.
    pub label: String,
    /// Share of good releases rolled back, percent.
    pub false_rollback_pct: f64,
    /// Share of bad releases caught, percent.
    pub power_pct: f64,
}

/// A candidate as a point on two objectives (`deploysim tune`).
#[derive(Clone, Debug, PartialEq)]
pub struct TradeoffPoint {
    /// Group (e.g. Pareto front or dominated); chooses the colour and the
    /// legend entry.
    pub group: String,
    /// Drawn next to the point when there are few points.
    pub label: String,
    /// The x objective.
    pub x: f64,
    /// The y objective.
    pub y: f64,
}

/// An axis of a tradeoff chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeoffAxis<'a> {
    /// The axis title.
    pub label: &'a str,
    /// A percentage: drawn 0..100 (values outside that range refit).
    pub percent: bool,
}

/// A vertical marker on the timeline (e.g. "trigger fired: error_rate").
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// When, in seconds since the run began.
    pub t_s: f64,
    /// Text drawn next to the line.
    pub label: String,
}

/// One sweep cell in the gaming comparison: a row across its panels.
#[derive(Clone, Debug, PartialEq)]
pub struct GamingRow {
    /// Group (strategy variant); chooses the colour of the row's marks.
    pub group: String,
    /// Row label, e.g. `canary-plain / bad`.
    pub label: String,
    /// Mean players harmed per trial (blast radius in players).
    pub players_harmed: f64,
    /// Mean games disrupted per trial.
    pub games_disrupted: f64,
    /// Mean bets lost per trial.
    pub bets_lost: f64,
    /// Mean session continuity, percent.
    pub session_continuity_pct: f64,
    /// Median time to detect, seconds; `None` when nothing was detected.
    pub ttd_p50_s: Option<f64>,
}

/// Size of the sweep charts, pixels.
const CHART_SIZE: (u32, u32) = (900, 560);
/// Size of the run timeline, pixels: taller, it has three panels.
const TIMELINE_SIZE: (u32, u32) = (1000, 800);
/// Font family name the bundled font is registered under. SVG output names
/// the same family, which every browser maps to a local sans-serif font.
const FONT: &str = "sans-serif";
/// The bundled font, so PNG text never depends on the machine's fonts.
static DEJAVU_SANS: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans.ttf"));
/// Width of the legend column right of each plot, pixels.
const LEGEND_WIDTH: i32 = 180;
/// Height of one legend row, pixels.
const LEGEND_ROW: i32 = 17;
/// Points are labelled only up to this many; beyond it labels just pile up.
const MAX_POINT_LABELS: usize = 12;
/// Tick count an axis aims for.
const TARGET_TICKS: f64 = 6.0;
/// Hard cap on ticks, whatever the range, so tick loops always end.
const MAX_TICKS: usize = 64;

/// Width of the gaming comparison, pixels: five panels beside the labels.
const GAMING_WIDTH: u32 = 1100;
/// Height of one row of the gaming comparison, pixels.
const GAMING_ROW: u32 = 28;
/// Height of the gaming comparison without its rows (title, panel headings,
/// axes), pixels.
const GAMING_CHROME: u32 = 150;
/// Height limits of the gaming comparison, pixels: a few rows still get a
/// normal-looking chart, and a huge sweep does not get an endless one.
const GAMING_HEIGHT: (u32, u32) = (360, 1600);
/// Width limits of the row label column of the gaming comparison, pixels:
/// the column fits the longest label within them, and longer labels lose
/// their middle (the end names the release, which matters most).
const GAMING_LABEL_WIDTH: (i32, i32) = (160, 380);
/// Where a row label's text starts in its column, after the swatch, pixels.
const GAMING_LABEL_INDENT: i32 = 24;
/// Tick count the narrow axes of the gaming comparison aim for.
const GAMING_TICKS: f64 = 3.0;
/// Rows closer than this many pixels get only every k-th label and value,
/// so text never overlaps.
const GAMING_MIN_TEXT_PITCH: i32 = 14;

const TEXT: RGBColor = RGBColor(36, 41, 47);
const MUTED: RGBColor = RGBColor(110, 118, 129);
const GRID: RGBColor = RGBColor(225, 228, 232);
const STABLE_COLOUR: RGBColor = RGBColor(31, 119, 180);
const NEW_COLOUR: RGBColor = RGBColor(255, 127, 14);
const MARK_COLOUR: RGBColor = RGBColor(200, 30, 60);
/// Background of every other row in the gaming comparison.
const BAND: RGBColor = RGBColor(243, 245, 248);

/// Tableau 10: distinct and readable for most colour-blind viewers.
const PALETTE: [RGBColor; 10] = [
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

// ---------------------------------------------------------------------------
// Public charts
// ---------------------------------------------------------------------------

/// Blast radius against time to detect, one point per sweep cell (p50) with
/// whiskers to p95 on both axes, one colour per strategy. Each axis turns
/// symmetric-logarithmic when its values spread over more than two decades
/// (zero stays representable, unlike a plain log axis).
pub fn blast_vs_ttd(points: &[CellPoint]) -> Chart {
    const NAME: &str = "blast_vs_ttd";
    const TITLE: &str = "Blast radius vs time to detect (p50, whiskers to p95)";
    let usable: Vec<&CellPoint> = points
        .iter()
        .filter(|p| p.ttd_p50_s.is_finite() && p.blast_p50.is_finite())
        .collect();
    if usable.is_empty() {
        return no_data_chart(NAME, TITLE, CHART_SIZE);
    }
    render(
        NAME,
        TITLE,
        CHART_SIZE,
        &BlastPlot {
            title: TITLE,
            points: usable,
        },
    )
}

/// Cumulative distribution curves drawn as steps, y from 0 to 1, one colour
/// (and past ten series, a dash pattern) per series in input order. Series
/// with no finite points stay in the legend, marked "(no data)".
pub fn cdf(name: &str, title: &str, x_label: &str, series: &[Series]) -> Chart {
    let cleaned: Vec<CleanSeries> = series
        .iter()
        .map(|s| CleanSeries {
            label: s.label.as_str(),
            points: s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect(),
        })
        .collect();
    if cleaned.iter().all(|s| s.points.is_empty()) {
        return no_data_chart(name, title, CHART_SIZE);
    }
    let plot = CdfPlot {
        title,
        x_label,
        series: cleaned,
    };
    render(name, title, CHART_SIZE, &plot)
}

/// Detection power against false rollback rate, one point per trigger
/// setting, labelled with the setting and coloured by group; a group's
/// points are joined in order of false rollback rate, like an ROC curve.
pub fn power_vs_false_rollback(points: &[PowerPoint]) -> Chart {
    const NAME: &str = "power_vs_false_rollback";
    const TITLE: &str = "Detection power vs false rollback rate";
    let usable: Vec<&PowerPoint> = points
        .iter()
        .filter(|p| p.false_rollback_pct.is_finite() && p.power_pct.is_finite())
        .collect();
    if usable.is_empty() {
        return no_data_chart(NAME, TITLE, CHART_SIZE);
    }
    render(
        NAME,
        TITLE,
        CHART_SIZE,
        &PowerPlot {
            title: TITLE,
            points: usable,
        },
    )
}

/// A scatter of candidates over two objectives, one colour and marker per
/// group, points not joined (a candidate's neighbours on one plane are not
/// its neighbours on the others). Axes fit the values, turning
/// symmetric-logarithmic when they spread over more than two decades.
pub fn tradeoff(name: &str, title: &str, axes: [TradeoffAxis; 2], points: &[TradeoffPoint]) -> Chart {
    let usable: Vec<&TradeoffPoint> = points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()).collect();
    if usable.is_empty() {
        return no_data_chart(name, title, CHART_SIZE);
    }
    render(
        name,
        title,
        CHART_SIZE,
        &TradeoffPlot {
            title,
            axes,
            points: usable,
        },
    )
}

/// What a rollout broke in games, one row per sweep cell (in input order)
/// across five panels that share the rows: bars for the mean players
/// harmed, games disrupted and bets lost per trial, dots for the mean
/// session continuity and the median time to detect. Each value is written
/// beside its mark, and a row's colour follows its group. The canvas grows
/// with the number of rows so the labels keep their room.
pub fn gaming_comparison(rows: &[GamingRow]) -> Chart {
    const NAME: &str = "gaming_comparison";
    const TITLE: &str = "Games: what the rollout broke, per cell (means per trial)";
    let size = gaming_size(rows.len());
    if rows.is_empty() {
        return no_data_chart(NAME, TITLE, size);
    }
    render(NAME, TITLE, size, &GamingPlot { title: TITLE, rows })
}

/// One run over time in three stacked panels sharing the time axis: the
/// traffic split with the controller phases as labelled background bands,
/// the error rate per version, and p99 latency per version. Each mark is a
/// vertical line through all panels, labelled in the top one; marks outside
/// the rows' time range are left out.
pub fn run_timeline(title: &str, rows: &[TimelineRow], marks: &[Mark]) -> Chart {
    const NAME: &str = "run_timeline";
    if rows.is_empty() {
        return no_data_chart(NAME, title, TIMELINE_SIZE);
    }
    let marks: Vec<&Mark> = marks.iter().filter(|m| m.t_s.is_finite()).collect();
    render(NAME, title, TIMELINE_SIZE, &TimelinePlot { title, rows, marks })
}

/// Writes `dir/<name>.svg` and `dir/<name>.png`, each atomically.
///
/// The name must pass the one name rule for paths ([`crate::names`]), so
/// a chart can never write outside `dir`.
pub fn write_chart(dir: &Path, chart: &Chart) -> std::io::Result<()> {
    if let Err(e) = crate::names::check_name(&chart.name, crate::names::NameUse::Path) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("chart name {}\n  allowed: {}", e.problem, e.allowed),
        ));
    }
    write_atomic(&dir.join(format!("{}.svg", chart.name)), chart.svg.as_bytes())?;
    write_atomic(&dir.join(format!("{}.png", chart.name)), &chart.png)
}

// ---------------------------------------------------------------------------
// Rendering: one drawing routine, two backends
// ---------------------------------------------------------------------------

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type AreaResult<DB> = Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// A chart that can draw itself on any backend. A trait rather than a
/// closure because the drawing code is generic over the backend, which a
/// closure cannot be.
trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Registers the bundled font once per process; plotters keeps fonts in a
/// global table.
fn register_bundled_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // Cannot fail for the bundled file (a unit test checks it). If it
        // ever did, text drawing would fail and `render` would fall back to
        // a blank chart rather than panic.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS);
    });
}

fn render(name: &str, title: &str, size: (u32, u32), plot: &impl Plot) -> Chart {
    register_bundled_font();
    match render_svg(size, plot).and_then(|svg| Ok((svg, render_png(size, plot)?))) {
        Ok((svg, png)) => Chart {
            name: name.to_string(),
            title: title.to_string(),
            svg,
            png,
            caption: String::new(),
        },
        Err(error) => render_fallback(name, title, size, &format!("chart could not be drawn: {error}")),
    }
}

fn no_data_chart(name: &str, title: &str, size: (u32, u32)) -> Chart {
    render(
        name,
        title,
        size,
        &NoDataPlot {
            title,
            message: "no data",
        },
    )
}

/// Draws the message in place of the chart; if even that fails, a blank
/// canvas, so callers always get both files.
fn render_fallback(name: &str, title: &str, size: (u32, u32), message: &str) -> Chart {
    let plot = NoDataPlot { title, message };
    let svg = render_svg(size, &plot).unwrap_or_else(|_| blank_svg(size));
    let png = render_png(size, &plot)
        .or_else(|_| encode_png(&white_canvas(size), size))
        .unwrap_or_default();
    Chart {
        name: name.to_string(),
        title: title.to_string(),
        svg,
        png,
        caption: String::new(),
    }
}

fn render_svg(size: (u32, u32), plot: &impl Plot) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        plot.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn render_png(size: (u32, u32), plot: &impl Plot) -> Result<Vec<u8>, String> {
    let mut rgb = white_canvas(size);
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        plot.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    encode_png(&rgb, size)
}

fn white_canvas((width, height): (u32, u32)) -> Vec<u8> {
    vec![255; width as usize * height as usize * 3]
}

fn blank_svg((width, height): (u32, u32)) -> String {
    format!(
        r#"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><rect width="{width}" height="{height}" fill="white"/></svg>"#
    )
}

/// Encodes an RGB buffer. The compression level is pinned so the bytes do
/// not change if the crate's default ever does.
fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// Shared drawing pieces
// ---------------------------------------------------------------------------

fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&TEXT)
}

fn left_centre() -> Pos {
    Pos::new(HPos::Left, VPos::Center)
}

/// Cuts `text` to at most `max` characters, marking the cut with an
/// ellipsis. Counts characters, not bytes, so it never splits a UTF-8
/// sequence.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Cuts the middle out of `text`, marked with an ellipsis, leaving at most
/// `max` characters: the start and the end of a label (strategy and
/// release) usually say the most.
fn truncate_middle(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let kept = max.saturating_sub(1);
    let tail = kept * 2 / 5;
    let head: String = text.chars().take(kept - tail).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{head}…{end}")
}

/// `text`, shortened in the middle until it is at most `max_width` pixels
/// wide in `style` (at worst to the ellipsis alone).
fn fit_middle<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    max_width: i32,
    style: &TextStyle,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    let text = truncate_middle(text, 120);
    let count = text.chars().count();
    for keep in (1..=count).rev() {
        let candidate = truncate_middle(&text, keep);
        let (width, _) = area.estimate_text_size(&candidate, style)?;
        if i64::from(width) <= i64::from(max_width) {
            return Ok(candidate);
        }
    }
    Ok("…".to_string())
}

/// Fills the canvas white, draws the title and returns the area below it.
fn framed<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> AreaResult<DB> {
    root.fill(&WHITE)?;
    root.margin(6, 6, 10, 10).titled(&truncate_chars(title, 90), font(20.0))
}

/// Splits off the legend column on the right.
fn split_legend<DB: DrawingBackend>(body: &DrawingArea<DB, Shift>) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let (width, _) = body.dim_in_pixel();
    let width = i32::try_from(width).unwrap_or(i32::MAX);
    body.split_horizontally((width - LEGEND_WIDTH).max(0))
}

fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: Axis,
    y: Axis,
    x_label_area: u32,
) -> Result<Chart2d<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    ChartBuilder::on(area)
        .margin_top(10)
        .margin_right(14)
        .x_label_area_size(x_label_area)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
}

/// Grid, axes and tick labels. Upper panels of the timeline share the
/// bottom panel's time labels, so theirs are left blank.
fn draw_mesh<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    x_desc: &str,
    y_desc: &str,
    x_labels: bool,
) -> DrawResult<DB> {
    let blank = |_: &f64| String::new();
    let mut mesh = chart.configure_mesh();
    mesh.max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .label_style(font(12.0))
        .axis_desc_style(font(13.0))
        // The axes choose their own ticks; these caps only stop plotters
        // from thinning them.
        .x_labels(12)
        .y_labels(12)
        .y_desc(y_desc);
    if x_labels {
        mesh.x_desc(x_desc);
    } else {
        mesh.x_label_formatter(&blank);
    }
    mesh.draw()
}

/// Axis title with the scale spelled out when it is not linear.
fn axis_desc(text: &str, axis: &Axis) -> String {
    match axis.scale {
        Scale::Linear => text.to_string(),
        Scale::SymLog => format!("{text}, log scale"),
    }
}

/// Palette colour `index`: the ten base colours, then darker, then lighter
/// variants, so up to thirty series get distinct colours.
fn palette(index: usize) -> RGBColor {
    let RGBColor(r, g, b) = PALETTE[index % PALETTE.len()];
    match variant(index) {
        0 => RGBColor(r, g, b),
        1 => RGBColor(scale_channel(r, 0.6), scale_channel(g, 0.6), scale_channel(b, 0.6)),
        _ => RGBColor(lighten_channel(r), lighten_channel(g), lighten_channel(b)),
    }
}

/// Which pass through the palette `index` is on; selects marker shape and
/// dash pattern so series sharing a hue still differ.
fn variant(index: usize) -> usize {
    (index / PALETTE.len()) % 3
}

fn scale_channel(c: u8, factor: f64) -> u8 {
    (f64::from(c) * factor).round().clamp(0.0, 255.0) as u8
}

fn lighten_channel(c: u8) -> u8 {
    (f64::from(c) + (255.0 - f64::from(c)) * 0.45).round().clamp(0.0, 255.0) as u8
}

/// Legend entries for point series: group i in colour i with marker i.
fn marker_legend(groups: &[&str]) -> Vec<LegendEntry> {
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| LegendEntry {
            label: g.to_string(),
            colour: palette(i),
            swatch: Swatch::Marker(variant(i)),
        })
        .collect()
}

/// Distinct names in order of first appearance; a name's position is its
/// colour index, so colours follow the input, not a hash.
fn first_appearance<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

fn position_of(names: &[&str], name: &str) -> usize {
    names.iter().position(|n| *n == name).unwrap_or(0)
}

/// A filled marker whose shape follows the palette variant.
fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    variant: usize,
    colour: RGBColor,
) -> DrawResult<DB> {
    let style = colour.filled();
    match variant {
        0 => area.draw(&Circle::new(at, 4, style)),
        1 => area.draw(&TriangleMarker::new(at, 5, style)),
        _ => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], style))),
    }
}

/// A line whose dash pattern follows the palette variant.
fn draw_line<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    points: Vec<CT::From>,
    variant: usize,
    style: ShapeStyle,
) -> DrawResult<DB>
where
    CT::From: Clone,
{
    match variant {
        0 => area.draw(&PathElement::new(points, style)),
        1 => area.draw(&DashedPathElement::new(points, 7, 4, style)),
        _ => area.draw(&DashedPathElement::new(points, 2, 3, style)),
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    /// A line with the variant's dash pattern.
    Line(usize),
    /// A marker with the variant's shape.
    Marker(usize),
    /// A filled block, for background bands.
    Block,
}

struct LegendEntry {
    label: String,
    colour: RGBColor,
    swatch: Swatch,
}

/// Draws the legend as a column of rows. Drawn by hand rather than with
/// plotters' series labels so it sits beside the plot, never on the data,
/// and so a long list ends in "+N more" instead of running off the canvas.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[LegendEntry]) -> DrawResult<DB> {
    const TOP: i32 = 12;
    let (width, height) = area.dim_in_pixel();
    let (width, height) = (i32::try_from(width).unwrap_or(0), i32::try_from(height).unwrap_or(0));
    let capacity = usize::try_from(((height - TOP) / LEGEND_ROW).max(1)).unwrap_or(1);
    let shown = if entries.len() > capacity {
        capacity - 1
    } else {
        entries.len()
    };
    let max_chars = usize::try_from(((width - 36) / 7).max(4)).unwrap_or(4);
    for (row, entry) in entries.iter().take(shown).enumerate() {
        let y = TOP + i32::try_from(row).unwrap_or(0) * LEGEND_ROW + LEGEND_ROW / 2;
        draw_swatch(area, (4, y), entry)?;
        let label = truncate_chars(&entry.label, max_chars);
        area.draw(&Text::new(label, (30, y), font(12.0).pos(left_centre())))?;
    }
    if shown < entries.len() {
        let y = TOP + i32::try_from(shown).unwrap_or(0) * LEGEND_ROW + LEGEND_ROW / 2;
        let more = format!("+{} more", entries.len() - shown);
        area.draw(&Text::new(more, (30, y), font(12.0).color(&MUTED).pos(left_centre())))?;
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    entry: &LegendEntry,
) -> DrawResult<DB> {
    match entry.swatch {
        Swatch::Line(variant) => draw_line(area, vec![(x, y), (x + 20, y)], variant, entry.colour.stroke_width(2)),
        Swatch::Marker(variant) => draw_marker(area, (x + 10, y), variant, entry.colour),
        Swatch::Block => {
            area.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], entry.colour.filled()))?;
            area.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], GRID.stroke_width(1)))
        }
    }
}

/// A label next to a point, offset so it does not cover the marker.
fn draw_point_label<DB: DrawingBackend>(chart: &Chart2d<DB>, at: (f64, f64), label: &str) -> DrawResult<DB> {
    let text = Text::new(truncate_chars(label, 24), (7, -13), font(11.0).color(&MUTED));
    chart.plotting_area().draw(&(EmptyElement::at(at) + text))
}

/// The finite values, in order.
fn finite(values: impl Iterator<Item = f64>) -> Vec<f64> {
    values.filter(|v| v.is_finite()).collect()
}

// ---------------------------------------------------------------------------
// Axis: linear or symmetric-log, with its own ticks and clamping
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    Linear,
    /// sign(v)·log10(1 + |v|): logarithmic for large values, linear near
    /// zero, so counts of zero stay on the chart.
    SymLog,
}

/// One axis. Invariant: `lo < hi`, both finite (every constructor ensures
/// it, falling back to 0..1), so mapping never divides by zero.
#[derive(Clone, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    scale: Scale,
    ticks: Vec<f64>,
}

impl Axis {
    /// 0..1 with ticks every 0.2; the fallback for unusable ranges.
    fn unit() -> Axis {
        Axis {
            lo: 0.0,
            hi: 1.0,
            scale: Scale::Linear,
            ticks: (0..=5).map(|k| f64::from(k) * 0.2).collect(),
        }
    }

    /// Linear over exactly `lo..hi`.
    fn linear(lo: f64, hi: f64) -> Axis {
        Axis::linear_aiming(lo, hi, TARGET_TICKS)
    }

    /// Linear over exactly `lo..hi`, aiming at `target` ticks.
    fn linear_aiming(lo: f64, hi: f64, target: f64) -> Axis {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Axis::unit();
        }
        let step = nice_step((hi - lo) / target);
        Axis {
            lo,
            hi,
            scale: Scale::Linear,
            ticks: linear_ticks(lo, hi, step),
        }
    }

    /// Linear around `values`, ends rounded out to whole steps, starting at
    /// zero when `from_zero` and no value is negative.
    fn fit_linear(values: &[f64], from_zero: bool) -> Axis {
        Axis::fit_linear_aiming(values, from_zero, TARGET_TICKS)
    }

    /// [`Axis::fit_linear`] aiming at `target` ticks, for narrow panels.
    fn fit_linear_aiming(values: &[f64], from_zero: bool, target: f64) -> Axis {
        let Some((min, max)) = min_max(values) else {
            return Axis::unit();
        };
        let mut lo = if from_zero && min >= 0.0 { 0.0 } else { min };
        let mut hi = max;
        if hi <= lo {
            // One distinct value: give it room either side (or above zero).
            let pad = if hi != 0.0 { hi.abs() * 0.5 } else { 1.0 };
            if !(from_zero && lo == 0.0) {
                lo -= pad;
            }
            hi += pad;
        }
        // A little headroom so the largest point does not sit on the frame.
        hi += (hi - lo) * 0.02;
        let step = nice_step((hi - lo) / target);
        Axis::linear_aiming((lo / step).floor() * step, (hi / step).ceil() * step, target)
    }

    /// Linear over exactly the values' span, for time: a run's rows cover
    /// the whole run, so rounding out would only add empty space.
    fn fit_exact(values: &[f64]) -> Axis {
        match min_max(values) {
            Some((min, max)) if max > min => Axis::linear(min, max),
            _ => Axis::fit_linear(values, false),
        }
    }

    /// Symmetric-log when the non-negative values spread over more than two
    /// decades, linear from zero otherwise.
    fn fit_auto(values: &[f64]) -> Axis {
        let Some((min, max)) = min_max(values) else {
            return Axis::unit();
        };
        let min_positive = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        if min >= 0.0 && max > 0.0 && max / min_positive >= 100.0 {
            Axis::symlog(max)
        } else {
            Axis::fit_linear(values, true)
        }
    }

    /// Symmetric-log from zero to a little above `max`, ticks at 0 and at
    /// every power of ten.
    fn symlog(max: f64) -> Axis {
        let hi = symlog_inverse(symlog_forward(max) * 1.05);
        if !(hi.is_finite() && hi > 0.0) {
            return Axis::unit();
        }
        let mut ticks = vec![0.0];
        let mut decade = 1.0;
        while decade <= hi && ticks.len() < MAX_TICKS {
            ticks.push(decade);
            decade *= 10.0;
        }
        Axis {
            lo: 0.0,
            hi,
            scale: Scale::SymLog,
            ticks,
        }
    }

    fn forward(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::SymLog => symlog_forward(v),
        }
    }
}

fn symlog_forward(v: f64) -> f64 {
    v.signum() * v.abs().ln_1p() / std::f64::consts::LN_10
}

fn symlog_inverse(u: f64) -> f64 {
    u.signum() * (u.abs() * std::f64::consts::LN_10).exp_m1()
}

fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// 1, 2 or 5 times a power of ten, at least `raw`; 1 for unusable input.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let fraction = raw / base;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    let step = nice * base;
    if step.is_finite() && step > 0.0 {
        step
    } else {
        1.0
    }
}

/// Multiples of `step` within `lo..=hi`, computed by multiplication so
/// rounding errors do not accumulate.
fn linear_ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil();
    (0..MAX_TICKS)
        .map(|k| (first + k as f64) * step)
        .take_while(|t| *t <= hi + step * 1e-9)
        .collect()
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    /// Clamps into the axis first: nothing is drawn outside the plot, and
    /// NaN lands on the low end instead of an arbitrary pixel.
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (from, to) = (self.forward(self.lo), self.forward(self.hi));
        let v = self.forward(value.max(self.lo).min(self.hi));
        let fraction = if to > from { (v - from) / (to - from) } else { 0.0 };
        let pixel = f64::from(limit.0) + (f64::from(limit.1) - f64::from(limit.0)) * fraction;
        pixel.round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let max = hint.max_num_points();
        if max == 0 || self.ticks.is_empty() {
            return Vec::new();
        }
        let stride = self.ticks.len().div_ceil(max);
        self.ticks.iter().step_by(stride).copied().collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        format_number(*value)
    }
}

/// A tick label: at most three significant decimals, trailing zeros
/// trimmed, k/M/G for large values.
fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "G")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let decimals = if scaled.abs() >= 1.0 || scaled == 0.0 {
        3
    } else {
        // Enough decimals for small steps such as 0.0002.
        ((-scaled.abs().log10()).ceil() as usize + 2).min(9)
    };
    let mut text = format!("{scaled:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".to_string();
    }
    text + suffix
}

// ---------------------------------------------------------------------------
// The plots
// ---------------------------------------------------------------------------

struct NoDataPlot<'a> {
    title: &'a str,
    message: &'a str,
}

impl Plot for NoDataPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?.margin(10, 10, 10, 10);
        let (width, height) = body.dim_in_pixel();
        let (width, height) = (i32::try_from(width).unwrap_or(0), i32::try_from(height).unwrap_or(0));
        body.draw(&Rectangle::new([(0, 0), (width - 1, height - 1)], GRID.stroke_width(1)))?;
        let style = font(16.0).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center));
        body.draw(&Text::new(
            truncate_chars(self.message, 100),
            (width / 2, height / 2),
            style,
        ))
    }
}

struct BlastPlot<'a> {
    title: &'a str,
    points: Vec<&'a CellPoint>,
}

impl Plot for BlastPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?;
        let (plot_area, legend_area) = split_legend(&body);
        let x_values = finite(self.points.iter().flat_map(|p| [p.ttd_p50_s, p.ttd_p95_s]));
        let y_values = finite(self.points.iter().flat_map(|p| [p.blast_p50, p.blast_p95]));
        let (x_axis, y_axis) = (Axis::fit_auto(&x_values), Axis::fit_auto(&y_values));
        let x_desc = axis_desc("time to detect (s)", &x_axis);
        let y_desc = axis_desc("blast radius", &y_axis);
        let mut chart = build_chart(&plot_area, x_axis, y_axis, 44)?;
        draw_mesh(&mut chart, &x_desc, &y_desc, true)?;

        let strategies = first_appearance(self.points.iter().map(|p| p.strategy.as_str()));
        for point in &self.points {
            let index = position_of(&strategies, &point.strategy);
            draw_cell_point(&chart, point, index)?;
        }
        if self.points.len() <= MAX_POINT_LABELS {
            for point in &self.points {
                draw_point_label(&chart, (point.ttd_p50_s, point.blast_p50), &point.label)?;
            }
        }
        draw_legend(&legend_area, &marker_legend(&strategies))
    }
}

/// The p50 marker with whiskers to p95 along each axis that has one.
fn draw_cell_point<DB: DrawingBackend>(chart: &Chart2d<DB>, point: &CellPoint, index: usize) -> DrawResult<DB> {
    let colour = palette(index);
    let centre = (point.ttd_p50_s, point.blast_p50);
    let whisker = colour.mix(0.6).stroke_width(2);
    let area = chart.plotting_area();
    if point.ttd_p95_s.is_finite() {
        area.draw(&PathElement::new(
            vec![centre, (point.ttd_p95_s, point.blast_p50)],
            whisker,
        ))?;
    }
    if point.blast_p95.is_finite() {
        area.draw(&PathElement::new(
            vec![centre, (point.ttd_p50_s, point.blast_p95)],
            whisker,
        ))?;
    }
    draw_marker(area, centre, variant(index), colour)
}

struct CleanSeries<'a> {
    label: &'a str,
    points: Vec<(f64, f64)>,
}

struct CdfPlot<'a> {
    title: &'a str,
    x_label: &'a str,
    series: Vec<CleanSeries<'a>>,
}

impl Plot for CdfPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?;
        let (plot_area, legend_area) = split_legend(&body);
        let x_values = finite(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        let x_axis = Axis::fit_auto(&x_values);
        let x_desc = axis_desc(self.x_label, &x_axis);
        let mut chart = build_chart(&plot_area, x_axis, Axis::linear(0.0, 1.0), 44)?;
        draw_mesh(&mut chart, &x_desc, "cumulative fraction", true)?;

        for (index, series) in self.series.iter().enumerate() {
            draw_cdf_series(&chart, &series.points, index)?;
        }
        let entries: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                label: if s.points.is_empty() {
                    format!("{} (no data)", s.label)
                } else {
                    s.label.to_string()
                },
                colour: palette(i),
                swatch: Swatch::Line(variant(i)),
            })
            .collect();
        draw_legend(&legend_area, &entries)
    }
}

/// A CDF as a step line: each value holds until the next point. A lone
/// point gets a marker, a line through it would be invisible.
fn draw_cdf_series<DB: DrawingBackend>(chart: &Chart2d<DB>, points: &[(f64, f64)], index: usize) -> DrawResult<DB> {
    let colour = palette(index);
    match points {
        [] => Ok(()),
        [only] => draw_marker(chart.plotting_area(), *only, variant(index), colour),
        _ => draw_line(
            chart.plotting_area(),
            step_points(points),
            variant(index),
            colour.stroke_width(2),
        ),
    }
}

/// Turns points into a post-step path: horizontal to the next x, then
/// vertical to its y.
fn step_points(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut path = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            path.push((x, points[i - 1].1));
        }
        path.push((x, y));
    }
    path
}

struct TradeoffPlot<'a> {
    title: &'a str,
    axes: [TradeoffAxis<'a>; 2],
    points: Vec<&'a TradeoffPoint>,
}

impl Plot for TradeoffPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?;
        let (plot_area, legend_area) = split_legend(&body);
        let xs: Vec<f64> = self.points.iter().map(|p| p.x).collect();
        let ys: Vec<f64> = self.points.iter().map(|p| p.y).collect();
        let fit = |a: &TradeoffAxis, values: &[f64]| {
            if a.percent {
                percent_axis(values, false)
            } else {
                Axis::fit_auto(values)
            }
        };
        let (x_axis, y_axis) = (fit(&self.axes[0], &xs), fit(&self.axes[1], &ys));
        let (x_desc, y_desc) = (
            axis_desc(self.axes[0].label, &x_axis),
            axis_desc(self.axes[1].label, &y_axis),
        );
        let mut chart = build_chart(&plot_area, x_axis, y_axis, 44)?;
        draw_mesh(&mut chart, &x_desc, &y_desc, true)?;
        let groups = first_appearance(self.points.iter().map(|p| p.group.as_str()));
        for point in &self.points {
            let index = position_of(&groups, &point.group);
            draw_marker(
                chart.plotting_area(),
                (point.x, point.y),
                variant(index),
                palette(index),
            )?;
        }
        if self.points.len() <= MAX_POINT_LABELS {
            for point in &self.points {
                draw_point_label(&chart, (point.x, point.y), &point.label)?;
            }
        }
        draw_legend(&legend_area, &marker_legend(&groups))
    }
}

struct PowerPlot<'a> {
    title: &'a str,
    points: Vec<&'a PowerPoint>,
}

impl Plot for PowerPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?;
        let (plot_area, legend_area) = split_legend(&body);
        let xs: Vec<f64> = self.points.iter().map(|p| p.false_rollback_pct).collect();
        let ys: Vec<f64> = self.points.iter().map(|p| p.power_pct).collect();
        let mut chart = build_chart(&plot_area, percent_axis(&xs, true), percent_axis(&ys, false), 44)?;
        draw_mesh(
            &mut chart,
            "false rollback rate (% of good releases rolled back)",
            "detection power (% of bad releases caught)",
            true,
        )?;

        let groups = first_appearance(self.points.iter().map(|p| p.group.as_str()));
        for (index, group) in groups.iter().enumerate() {
            draw_power_group(&chart, &self.points, group, index)?;
        }
        if self.points.len() <= MAX_POINT_LABELS {
            for point in &self.points {
                draw_point_label(&chart, (point.false_rollback_pct, point.power_pct), &point.label)?;
            }
        }
        draw_legend(&legend_area, &marker_legend(&groups))
    }
}

/// A percent axis: 0..100 when the values are valid percentages, except
/// that false rollback rates (`tight`) are usually small and get a range
/// fitted to them so the points do not huddle at the left edge.
fn percent_axis(values: &[f64], tight: bool) -> Axis {
    let in_range = values.iter().all(|v| (0.0..=100.0).contains(v));
    let max = values.iter().copied().fold(0.0, f64::max);
    if !in_range {
        Axis::fit_linear(values, true)
    } else if tight && max < 50.0 {
        Axis::fit_linear(&[0.0, max.max(1.0)], true)
    } else {
        Axis::linear(0.0, 100.0)
    }
}

/// One group's points, joined in order of false rollback rate.
fn draw_power_group<DB: DrawingBackend>(
    chart: &Chart2d<DB>,
    points: &[&PowerPoint],
    group: &str,
    index: usize,
) -> DrawResult<DB> {
    let colour = palette(index);
    let mut members: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.group == group)
        .map(|p| (p.false_rollback_pct, p.power_pct))
        .collect();
    members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let area = chart.plotting_area();
    if members.len() > 1 {
        area.draw(&PathElement::new(members.clone(), colour.mix(0.5).stroke_width(1)))?;
    }
    for at in members {
        draw_marker(area, at, variant(index), colour)?;
    }
    Ok(())
}

/// Canvas size of the gaming comparison with `rows` rows.
fn gaming_size(rows: usize) -> (u32, u32) {
    let rows = u32::try_from(rows).unwrap_or(u32::MAX);
    let height = rows
        .saturating_mul(GAMING_ROW)
        .saturating_add(GAMING_CHROME)
        .clamp(GAMING_HEIGHT.0, GAMING_HEIGHT.1);
    (GAMING_WIDTH, height)
}

/// One panel of the gaming comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GamingMetric {
    PlayersHarmed,
    GamesDisrupted,
    BetsLost,
    Continuity,
    Ttd,
}

impl GamingMetric {
    /// The panels, left to right: what broke first, then the context.
    const ALL: [GamingMetric; 5] = [
        GamingMetric::PlayersHarmed,
        GamingMetric::GamesDisrupted,
        GamingMetric::BetsLost,
        GamingMetric::Continuity,
        GamingMetric::Ttd,
    ];

    fn heading(self) -> &'static str {
        match self {
            GamingMetric::PlayersHarmed => "Players harmed",
            GamingMetric::GamesDisrupted => "Games disrupted",
            GamingMetric::BetsLost => "Bets lost",
            GamingMetric::Continuity => "Session continuity",
            GamingMetric::Ttd => "Time to detect",
        }
    }

    /// The x axis title, naming the unit.
    fn unit(self) -> &'static str {
        match self {
            GamingMetric::PlayersHarmed => "players per trial",
            GamingMetric::GamesDisrupted => "games per trial",
            GamingMetric::BetsLost => "bets per trial",
            GamingMetric::Continuity => "% of sessions kept",
            GamingMetric::Ttd => "median, seconds",
        }
    }

    /// The row's value; `None` when it has none (no rollback to time).
    fn value(self, row: &GamingRow) -> Option<f64> {
        match self {
            GamingMetric::PlayersHarmed => Some(row.players_harmed),
            GamingMetric::GamesDisrupted => Some(row.games_disrupted),
            GamingMetric::BetsLost => Some(row.bets_lost),
            GamingMetric::Continuity => Some(row.session_continuity_pct),
            GamingMetric::Ttd => row.ttd_p50_s,
        }
    }

    /// Counts of harm are bars from zero, so their lengths compare; the
    /// context panels mark values with dots.
    fn is_bar(self) -> bool {
        !matches!(self, GamingMetric::Continuity | GamingMetric::Ttd)
    }

    /// A finite value as written beside its mark.
    fn text(self, value: f64) -> String {
        match self {
            GamingMetric::Continuity => format!("{value:.2}%"),
            GamingMetric::Ttd => format!("{value:.0} s"),
            // A decimal matters only while the mean is small.
            _ if value.abs() >= 100.0 => format!("{value:.0}"),
            _ => format!("{value:.1}"),
        }
    }

    /// The panel's x axis: from zero with room on the right for the value
    /// text, except continuity, see [`continuity_axis`].
    fn axis(self, values: &[f64]) -> Axis {
        if self == GamingMetric::Continuity {
            return continuity_axis(values);
        }
        let mut with_room = values.to_vec();
        with_room.extend(min_max(values).map(|(_, max)| max * 1.35));
        Axis::fit_linear_aiming(&with_room, true, GAMING_TICKS)
    }
}

/// Continuity sits near 100% and differs in the decimals, so its axis ends
/// at 100 and starts a little below the lowest value rather than at zero.
/// Its marks are dots, not bars, so the cut axis exaggerates no length.
fn continuity_axis(values: &[f64]) -> Axis {
    let Some((min, max)) = min_max(values) else {
        return Axis::linear_aiming(0.0, 100.0, GAMING_TICKS);
    };
    if min < 0.0 || max > 100.0 {
        return Axis::fit_linear_aiming(values, false, GAMING_TICKS);
    }
    let span = (100.0 - min).max(1.0);
    let step = nice_step(span / 4.0);
    let lo = (((min - span * 0.3) / step).floor() * step).max(0.0);
    Axis::linear_aiming(lo, 100.0, GAMING_TICKS)
}

struct GamingPlot<'a> {
    title: &'a str,
    rows: &'a [GamingRow],
}

impl Plot for GamingPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?;
        let (label_area, panels_area) = body.split_horizontally(self.label_width(&body)?);
        let panel_areas = panels_area.split_evenly((1, GamingMetric::ALL.len()));
        // Row i sits at n - i - 0.5, so the first row is on top.
        let y_axis = Axis::linear(0.0, self.rows.len() as f64);
        let mut charts = Vec::with_capacity(panel_areas.len());
        for (area, metric) in panel_areas.iter().zip(GamingMetric::ALL) {
            let values = finite(self.rows.iter().filter_map(|r| metric.value(r)));
            let chart = ChartBuilder::on(area)
                .margin_top(4)
                .margin_left(10)
                .margin_right(22)
                .caption(metric.heading(), font(14.0))
                .x_label_area_size(44)
                .build_cartesian_2d(metric.axis(&values), y_axis.clone())?;
            charts.push((metric, chart));
        }
        let Some((_, first)) = charts.first() else {
            return Ok(());
        };
        let stride = self.text_stride(first);
        self.draw_bands(root, &body, first)?;
        self.draw_labels(&label_area, first, stride)?;

        let groups = first_appearance(self.rows.iter().map(|r| r.group.as_str()));
        for (metric, chart) in &mut charts {
            draw_gaming_mesh(chart, metric.unit())?;
            for (i, row) in self.rows.iter().enumerate() {
                let colour = palette(position_of(&groups, &row.group));
                let show_text = i % stride == 0;
                draw_gaming_mark(chart, *metric, row, self.row_y(i), colour, show_text)?;
            }
        }
        Ok(())
    }
}

impl GamingPlot<'_> {
    /// The y coordinate of row `i`'s centre.
    fn row_y(&self, i: usize) -> f64 {
        self.rows.len() as f64 - i as f64 - 0.5
    }

    /// Width of the label column: the longest label and its swatch, within
    /// [`GAMING_LABEL_WIDTH`].
    fn label_width<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
        let mut widest = 0;
        for row in self.rows {
            let (width, _) = area.estimate_text_size(&truncate_chars(&row.label, 120), &font(12.0))?;
            widest = widest.max(i32::try_from(width).unwrap_or(i32::MAX));
        }
        let padded = widest.saturating_add(GAMING_LABEL_INDENT + 10);
        Ok(padded.clamp(GAMING_LABEL_WIDTH.0, GAMING_LABEL_WIDTH.1))
    }

    /// Every how many rows text is written: every row unless the rows are
    /// packed too tightly for text to fit.
    fn text_stride<DB: DrawingBackend>(&self, chart: &Chart2d<DB>) -> usize {
        let pitch = row_pitch(chart);
        usize::try_from((GAMING_MIN_TEXT_PITCH + pitch - 1) / pitch)
            .unwrap_or(1)
            .max(1)
    }

    /// A pale band behind every other row, across the labels and all panels,
    /// so the eye can follow a row from its label to its last value.
    fn draw_bands<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        chart: &Chart2d<DB>,
    ) -> DrawResult<DB> {
        let (left, _) = body.get_base_pixel();
        let (width, _) = body.dim_in_pixel();
        let right = left.saturating_add(i32::try_from(width).unwrap_or(0));
        for i in (1..self.rows.len()).step_by(2) {
            let centre = self.row_y(i);
            let (_, top) = chart.backend_coord(&(0.0, centre + 0.5));
            let (_, bottom) = chart.backend_coord(&(0.0, centre - 0.5));
            root.draw(&Rectangle::new([(left, top), (right, bottom)], BAND.filled()))?;
        }
        Ok(())
    }

    /// Row labels in the left column, each after a swatch of its group's
    /// colour, level with the row in the panels.
    fn draw_labels<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        chart: &Chart2d<DB>,
        stride: usize,
    ) -> DrawResult<DB> {
        let groups = first_appearance(self.rows.iter().map(|r| r.group.as_str()));
        let (_, base_y) = area.get_base_pixel();
        let (width, _) = area.dim_in_pixel();
        let room = i32::try_from(width).unwrap_or(0) - GAMING_LABEL_INDENT - 6;
        let style = font(12.0).pos(left_centre());
        for (i, row) in self.rows.iter().enumerate().step_by(stride) {
            let (_, y) = chart.backend_coord(&(0.0, self.row_y(i)));
            let y = y - base_y;
            let colour = palette(position_of(&groups, &row.group));
            area.draw(&Rectangle::new([(4, y - 6), (16, y + 6)], colour.filled()))?;
            let label = fit_middle(area, &row.label, room, &style)?;
            area.draw(&Text::new(label, (GAMING_LABEL_INDENT, y), style.clone()))?;
        }
        Ok(())
    }
}

/// Distance between neighbouring rows, pixels (at least 1).
fn row_pitch<DB: DrawingBackend>(chart: &Chart2d<DB>) -> i32 {
    let (_, top) = chart.backend_coord(&(0.0, 1.0));
    let (_, next) = chart.backend_coord(&(0.0, 0.0));
    (next - top).abs().max(1)
}

/// Vertical grid and the x axis of one panel; rows need no y axis, their
/// labels are in the left column.
fn draw_gaming_mesh<DB: DrawingBackend>(chart: &mut Chart2d<DB>, unit: &str) -> DrawResult<DB> {
    chart
        .configure_mesh()
        .disable_y_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .label_style(font(12.0))
        .axis_desc_style(font(12.0))
        // The axes choose their own (few) ticks; this cap only stops
        // plotters from thinning them.
        .x_labels(12)
        .x_desc(unit)
        .draw()?;
    let (lo, hi) = (chart.x_range().start, chart.y_range().end);
    chart
        .plotting_area()
        .draw(&PathElement::new(vec![(lo, 0.0), (lo, hi)], MUTED.stroke_width(1)))
}

/// One row's mark in one panel (a bar or a dot) with its value beside it;
/// a row without a value gets a note instead.
fn draw_gaming_mark<DB: DrawingBackend>(
    chart: &Chart2d<DB>,
    metric: GamingMetric,
    row: &GamingRow,
    y: f64,
    colour: RGBColor,
    show_text: bool,
) -> DrawResult<DB> {
    let lo = chart.x_range().start;
    let area = chart.plotting_area();
    let value = match metric.value(row) {
        Some(v) if v.is_finite() => v,
        other => {
            let note = if other.is_some() { "n/a" } else { "no rollback" };
            return match show_text {
                true => draw_gaming_text(chart, (lo, y), note, 4, MUTED),
                false => Ok(()),
            };
        }
    };
    if metric.is_bar() {
        area.draw(&Rectangle::new(
            [(lo, y - 0.32), (value, y + 0.32)],
            colour.mix(0.75).filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(lo, y - 0.32), (value, y + 0.32)],
            colour.stroke_width(1),
        ))?;
    } else {
        // Dots shrink when rows are packed, so neighbours stay apart.
        let radius = (row_pitch(chart) / 2 - 1).clamp(2, 5);
        area.draw(&Circle::new((value, y), radius, colour.filled()))?;
    }
    if !show_text {
        return Ok(());
    }
    let gap = if metric.is_bar() { 4 } else { 8 };
    draw_gaming_text(chart, (value, y), &metric.text(value), gap, TEXT)
}

/// `text` right of `at`, or left of it when it would cross the panel's
/// right edge.
fn draw_gaming_text<DB: DrawingBackend>(
    chart: &Chart2d<DB>,
    at: (f64, f64),
    text: &str,
    gap: i32,
    colour: RGBColor,
) -> DrawResult<DB> {
    let style = font(12.0).color(&colour).pos(left_centre());
    let (width, _) = chart.plotting_area().estimate_text_size(text, &style)?;
    let width = i32::try_from(width).unwrap_or(0);
    let (x, _) = chart.backend_coord(&at);
    let right_edge = chart.plotting_area().get_pixel_range().0.end;
    let dx = if x + gap + width > right_edge {
        -(gap + width)
    } else {
        gap
    };
    chart
        .plotting_area()
        .draw(&(EmptyElement::at(at) + Text::new(text.to_string(), (dx, 0), style)))
}

struct TimelinePlot<'a> {
    title: &'a str,
    rows: &'a [TimelineRow],
    marks: Vec<&'a Mark>,
}

/// Version index into the per-version arrays of a timeline row.
const STABLE: usize = 0;
const NEW: usize = 1;

impl Plot for TimelinePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = framed(root, self.title)?;
        let (_, height) = body.dim_in_pixel();
        let height = f64::from(height);
        let (top, rest) = body.split_vertically(height * 0.32);
        let (middle, bottom) = rest.split_vertically(height * 0.31);
        let times = finite(self.rows.iter().map(|r| r.t.as_secs_f64()));
        let time_axis = Axis::fit_exact(&times);

        self.draw_traffic_panel(&top, time_axis.clone())?;
        let error_rates = [STABLE, NEW].map(|v| line_segments(self.rows, |row| error_rate_pct(row, v)));
        self.draw_version_panel(&middle, time_axis.clone(), "error rate (%)", &error_rates, false)?;
        let latencies = [STABLE, NEW].map(|v| line_segments(self.rows, |row| p99_ms(row, v)));
        self.draw_version_panel(&bottom, time_axis, "p99 latency (ms)", &latencies, true)
    }
}

impl TimelinePlot<'_> {
    /// Traffic split over phase bands, with the marks labelled.
    fn draw_traffic_panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, time_axis: Axis) -> DrawResult<DB> {
        let (plot_area, legend_area) = split_legend(area);
        let mut chart = build_chart(&plot_area, time_axis, Axis::linear(0.0, 100.0), 8)?;
        let spans = phase_spans(self.rows);
        for span in &spans {
            chart.plotting_area().draw(&Rectangle::new(
                [(span.start_s, 100.0), (span.end_s, 0.0)],
                phase_colour(span.phase).filled(),
            ))?;
        }
        draw_mesh(&mut chart, "", "traffic (%)", false)?;
        for span in &spans {
            draw_phase_label(&chart, span)?;
        }
        let new_weight = step_segments(self.rows, |row| Some(row.weight_pct));
        let stable_weight = step_segments(self.rows, |row| Some(100.0 - row.weight_pct));
        draw_segments(&chart, &stable_weight, STABLE_COLOUR)?;
        draw_segments(&chart, &new_weight, NEW_COLOUR)?;
        self.draw_marks(&chart, (0.0, 100.0))?;
        for (i, mark) in self.marks.iter().enumerate() {
            draw_mark_label(&chart, mark, i)?;
        }

        let mut entries = vec![
            LegendEntry {
                label: "new version".into(),
                colour: NEW_COLOUR,
                swatch: Swatch::Line(0),
            },
            LegendEntry {
                label: "stable version".into(),
                colour: STABLE_COLOUR,
                swatch: Swatch::Line(0),
            },
        ];
        if !self.marks.is_empty() {
            entries.push(LegendEntry {
                label: "marks".into(),
                colour: MARK_COLOUR,
                swatch: Swatch::Line(0),
            });
        }
        let phases = first_appearance(spans.iter().map(|s| s.phase.as_str()));
        entries.extend(phases.iter().map(|name| {
            LegendEntry {
                label: format!("phase: {name}"),
                colour: spans
                    .iter()
                    .find(|s| s.phase.as_str() == *name)
                    .map_or(GRID, |s| phase_colour(s.phase)),
                swatch: Swatch::Block,
            }
        }));
        draw_legend(&legend_area, &entries)
    }

    /// One measure per version over time; the bottom panel carries the
    /// time labels.
    fn draw_version_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        time_axis: Axis,
        y_desc: &str,
        segments: &[Vec<Vec<(f64, f64)>>; 2],
        bottom: bool,
    ) -> DrawResult<DB> {
        let (plot_area, legend_area) = split_legend(area);
        let values = finite(segments.iter().flatten().flatten().map(|p| p.1));
        let y_axis = Axis::fit_linear(&values, true);
        let mut chart = build_chart(&plot_area, time_axis, y_axis.clone(), if bottom { 44 } else { 8 })?;
        draw_mesh(&mut chart, "time (s)", y_desc, bottom)?;
        if values.is_empty() {
            let style = font(13.0).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center));
            let (width, height) = chart.plotting_area().dim_in_pixel();
            let centre = (
                i32::try_from(width / 2).unwrap_or(0),
                i32::try_from(height / 2).unwrap_or(0),
            );
            chart
                .plotting_area()
                .strip_coord_spec()
                .draw(&Text::new("no data", centre, style))?;
        }
        draw_segments(&chart, &segments[STABLE], STABLE_COLOUR)?;
        draw_segments(&chart, &segments[NEW], NEW_COLOUR)?;
        self.draw_marks(&chart, (y_axis.lo, y_axis.hi))?;
        let entries = [
            LegendEntry {
                label: "stable version".into(),
                colour: STABLE_COLOUR,
                swatch: Swatch::Line(0),
            },
            LegendEntry {
                label: "new version".into(),
                colour: NEW_COLOUR,
                swatch: Swatch::Line(0),
            },
        ];
        draw_legend(&legend_area, &entries)
    }

    /// Vertical lines for the marks inside the time range.
    fn draw_marks<DB: DrawingBackend>(&self, chart: &Chart2d<DB>, (y_lo, y_hi): (f64, f64)) -> DrawResult<DB> {
        let range = chart.x_range();
        for mark in self.marks.iter().filter(|m| range.contains(&m.t_s)) {
            let line = vec![(mark.t_s, y_lo), (mark.t_s, y_hi)];
            chart
                .plotting_area()
                .draw(&PathElement::new(line, MARK_COLOUR.stroke_width(2)))?;
        }
        Ok(())
    }
}

/// A run of consecutive rows in one phase.
struct PhaseSpan {
    phase: Phase,
    start_s: f64,
    end_s: f64,
}

/// Consecutive rows with the same phase; a span runs from its first row to
/// the first row of the next phase (the last one to the last row).
fn phase_spans(rows: &[TimelineRow]) -> Vec<PhaseSpan> {
    let mut spans: Vec<PhaseSpan> = Vec::new();
    for row in rows {
        let t = row.t.as_secs_f64();
        match spans.last_mut() {
            Some(last) if last.phase == row.phase => last.end_s = t,
            Some(last) => {
                last.end_s = t;
                spans.push(PhaseSpan {
                    phase: row.phase,
                    start_s: t,
                    end_s: t,
                });
            }
            None => spans.push(PhaseSpan {
                phase: row.phase,
                start_s: t,
                end_s: t,
            }),
        }
    }
    spans
}

/// Pale background per phase: cool while rolling out, green when done,
/// red when going back.
fn phase_colour(phase: Phase) -> RGBColor {
    match phase {
        Phase::Preparing => RGBColor(240, 240, 240),
        Phase::Deploying => RGBColor(225, 236, 248),
        Phase::Validating => RGBColor(255, 245, 214),
        Phase::Promoting => RGBColor(230, 244, 224),
        Phase::Completed => RGBColor(212, 238, 212),
        Phase::RollingBack => RGBColor(252, 222, 222),
        Phase::Failed => RGBColor(238, 208, 208),
    }
}

/// The phase name at the top of its band, only when the band is wide
/// enough to hold it.
fn draw_phase_label<DB: DrawingBackend>(chart: &Chart2d<DB>, span: &PhaseSpan) -> DrawResult<DB> {
    let style = font(11.0).color(&MUTED);
    let name = span.phase.as_str();
    let (text_width, _) = chart.plotting_area().estimate_text_size(name, &style)?;
    let (left, _) = chart.backend_coord(&(span.start_s, 100.0));
    let (right, _) = chart.backend_coord(&(span.end_s, 100.0));
    if i64::from(right) - i64::from(left) < i64::from(text_width) + 6 {
        return Ok(());
    }
    chart
        .plotting_area()
        .draw(&(EmptyElement::at((span.start_s, 100.0)) + Text::new(name, (3, 3), style)))
}

/// A mark's label beside its line, on a white box so it stays readable over
/// the bands; successive labels step down so neighbours do not collide, and
/// labels flip to the left of the line near the right edge.
fn draw_mark_label<DB: DrawingBackend>(chart: &Chart2d<DB>, mark: &Mark, index: usize) -> DrawResult<DB> {
    if !chart.x_range().contains(&mark.t_s) {
        return Ok(());
    }
    let style = font(11.0);
    let label = truncate_chars(&mark.label, 48);
    let (text_width, _) = chart.plotting_area().estimate_text_size(&label, &style)?;
    let text_width = i32::try_from(text_width).unwrap_or(0);
    let (x, _) = chart.backend_coord(&(mark.t_s, 100.0));
    let right_edge = chart.plotting_area().get_pixel_range().0.end;
    let dx = if x + text_width + 8 > right_edge {
        -(text_width + 6)
    } else {
        4
    };
    let dy = 18 + i32::try_from(index % 4).unwrap_or(0) * 15;
    let boxed = EmptyElement::at((mark.t_s, 100.0))
        + Rectangle::new(
            [(dx - 2, dy - 1), (dx + text_width + 2, dy + 13)],
            WHITE.mix(0.85).filled(),
        )
        + Text::new(label, (dx, dy), style);
    chart.plotting_area().draw(&boxed)
}

fn error_rate_pct(row: &TimelineRow, version: usize) -> Option<f64> {
    let requests = row.requests[version];
    (requests > 0).then(|| row.errors[version] as f64 / requests as f64 * 100.0)
}

fn p99_ms(row: &TimelineRow, version: usize) -> Option<f64> {
    row.p99_s[version].map(|s| s * 1000.0)
}

/// Straight lines between the rows' values, broken where a row has none.
fn line_segments(rows: &[TimelineRow], value: impl Fn(&TimelineRow) -> Option<f64>) -> Vec<Vec<(f64, f64)>> {
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for row in rows {
        match value(row).filter(|v| v.is_finite()) {
            Some(v) => push_to_last(&mut segments, (row.t.as_secs_f64(), v)),
            None => segments.push(Vec::new()),
        }
    }
    segments.retain(|s| !s.is_empty());
    segments
}

/// Like [`line_segments`] but each value holds until the next row, which is
/// how a traffic weight behaves: it changes in steps.
fn step_segments(rows: &[TimelineRow], value: impl Fn(&TimelineRow) -> Option<f64>) -> Vec<Vec<(f64, f64)>> {
    line_segments(rows, value).iter().map(|s| step_points(s)).collect()
}

fn push_to_last(segments: &mut Vec<Vec<(f64, f64)>>, point: (f64, f64)) {
    match segments.last_mut() {
        Some(last) => last.push(point),
        None => segments.push(vec![point]),
    }
}

/// Draws each segment as a line; a lone point as a small dot.
fn draw_segments<DB: DrawingBackend>(
    chart: &Chart2d<DB>,
    segments: &[Vec<(f64, f64)>],
    colour: RGBColor,
) -> DrawResult<DB> {
    for segment in segments {
        if let [only] = segment.as_slice() {
            chart.plotting_area().draw(&Circle::new(*only, 2, colour.filled()))?;
        } else {
            chart
                .plotting_area()
                .draw(&PathElement::new(segment.clone(), colour.stroke_width(2)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::strategy::VersionFleet;

    fn cell(strategy: &str, label: &str, ttd: f64, blast: f64) -> CellPoint {
        CellPoint {
            strategy: strategy.into(),
            label: label.into(),
            ttd_p50_s: ttd,
            ttd_p95_s: ttd * 2.0,
            blast_p50: blast,
            blast_p95: blast * 3.0,
        }
    }

    fn sample_cells() -> Vec<CellPoint> {
        vec![
            cell("canary", "canary 5%", 60.0, 120.0),
            cell("canary", "canary 25%", 45.0, 900.0),
            cell("rolling", "rolling", 90.0, 4000.0),
            cell("recreate", "recreate", 30.0, 0.0),
        ]
    }

    fn row(t: u64, phase: Phase, weight: f64, requests: [u64; 2], errors: [u64; 2]) -> TimelineRow {
        TimelineRow {
            t: SimTime::from_secs(t),
            phase,
            weight_pct: weight,
            fleet: [VersionFleet::default(); 2],
            requests,
            errors,
            p99_s: [Some(0.120), (requests[1] > 0).then_some(0.250)],
            queue: [None; 2],
            active_faults: String::new(),
        }
    }

    fn sample_rows() -> Vec<TimelineRow> {
        vec![
            row(0, Phase::Preparing, 0.0, [1000, 0], [2, 0]),
            row(10, Phase::Deploying, 0.0, [1000, 0], [1, 0]),
            row(20, Phase::Validating, 5.0, [950, 50], [1, 5]),
            row(30, Phase::Validating, 5.0, [950, 50], [2, 9]),
            row(40, Phase::RollingBack, 0.0, [1000, 0], [1, 0]),
            row(50, Phase::Failed, 0.0, [1000, 0], [1, 0]),
        ]
    }

    fn gaming_row(group: &str, release: &str, harmed: f64, ttd: Option<f64>) -> GamingRow {
        GamingRow {
            group: group.into(),
            label: format!("{group} / {release}"),
            players_harmed: harmed,
            games_disrupted: harmed / 5.0,
            bets_lost: harmed / 2.0,
            session_continuity_pct: 100.0 - harmed / 25.0,
            ttd_p50_s: ttd,
        }
    }

    fn sample_gaming_rows() -> Vec<GamingRow> {
        vec![
            gaming_row("canary-plain", "good", 11.0, None),
            gaming_row("canary-plain", "bad", 41.2, Some(570.0)),
            gaming_row("canary-gaming-aware", "good", 0.0, None),
            gaming_row("canary-gaming-aware", "bad", 13.1, Some(510.0)),
        ]
    }

    fn decoded_size(png_bytes: &[u8]) -> (u32, u32) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().expect("valid PNG");
        (reader.info().width, reader.info().height)
    }

    fn assert_valid(chart: &Chart, size: (u32, u32)) {
        assert!(chart.png.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
        assert_eq!(decoded_size(&chart.png), size);
        assert!(chart.svg.contains("<svg"), "SVG root element");
        assert!(!chart.svg.contains("could not be drawn"), "drawn, not the fallback");
    }

    #[test]
    fn bundled_font_registers() {
        assert!(plotters::style::register_font("deploysim-test", FontStyle::Normal, DEJAVU_SANS).is_ok());
    }

    /// Text reaches the PNG only through the bundled font, so dark pixels
    /// in the title band show the font was found and rasterized.
    #[test]
    fn png_title_text_is_rasterized() {
        let chart = blast_vs_ttd(&[]);
        let mut reader = png::Decoder::new(std::io::Cursor::new(&chart.png))
            .read_info()
            .expect("valid PNG");
        let mut rgb = vec![0; reader.output_buffer_size().expect("buffer size")];
        reader.next_frame(&mut rgb).expect("decode");
        let title_band = &rgb[..(CHART_SIZE.0 * 36 * 3) as usize];
        let dark = title_band.chunks(3).filter(|px| px.iter().all(|&c| c < 100)).count();
        assert!(dark > 200, "title pixels drawn: {dark}");
    }

    #[test]
    fn blast_chart_renders_both_formats_with_legend() {
        let chart = blast_vs_ttd(&sample_cells());
        assert_eq!(chart.name, "blast_vs_ttd");
        assert_valid(&chart, CHART_SIZE);
        for strategy in ["canary", "rolling", "recreate"] {
            assert!(chart.svg.contains(strategy), "legend has {strategy}");
        }
        assert!(
            chart.svg.contains("log scale"),
            "blast spans decades, so the axis is symlog"
        );
    }

    #[test]
    fn rendering_is_byte_identical() {
        let cells = sample_cells();
        assert_eq!(blast_vs_ttd(&cells), blast_vs_ttd(&cells));
        let rows = sample_rows();
        let marks = [Mark {
            t_s: 35.0,
            label: "trigger fired: error_rate".into(),
        }];
        assert_eq!(run_timeline("run", &rows, &marks), run_timeline("run", &rows, &marks));
    }

    #[test]
    fn cdf_handles_thirty_series_and_empty_ones() {
        let mut series: Vec<Series> = (0..30)
            .map(|i| Series {
                label: format!("series {i}"),
                points: (0..=10)
                    .map(|k| (f64::from(k * (i + 1)), f64::from(k) / 10.0))
                    .collect(),
            })
            .collect();
        series.push(Series {
            label: "empty one".into(),
            points: vec![],
        });
        let chart = cdf("ttd_cdf", "TTD distribution", "time to detect (s)", &series);
        assert_valid(&chart, CHART_SIZE);
        assert!(chart.svg.contains("series 0"));
        assert!(chart.svg.contains("more"), "legend overflow is summarised");
        assert_eq!(chart, cdf("ttd_cdf", "TTD distribution", "time to detect (s)", &series));
    }

    #[test]
    fn power_chart_labels_points_and_groups() {
        let points = vec![
            PowerPoint {
                group: "canary".into(),
                label: "err>1%".into(),
                false_rollback_pct: 2.0,
                power_pct: 80.0,
            },
            PowerPoint {
                group: "canary".into(),
                label: "err>5%".into(),
                false_rollback_pct: 0.5,
                power_pct: 60.0,
            },
            PowerPoint {
                group: "rolling".into(),
                label: "p99>2x".into(),
                false_rollback_pct: 1.0,
                power_pct: 100.0,
            },
        ];
        let chart = power_vs_false_rollback(&points);
        assert_valid(&chart, CHART_SIZE);
        for text in ["canary", "rolling", "err&gt;1%", "p99&gt;2x"] {
            assert!(chart.svg.contains(text), "svg has {text}");
        }
    }

    #[test]
    fn gaming_comparison_labels_every_cell_and_panel() {
        let rows = sample_gaming_rows();
        let chart = gaming_comparison(&rows);
        assert_eq!(chart.name, "gaming_comparison");
        assert_valid(&chart, gaming_size(rows.len()));
        for row in &rows {
            assert!(chart.svg.contains(&row.label), "svg has {}", row.label);
        }
        for text in [
            "Players harmed",
            "players per trial",
            "Bets lost",
            "% of sessions kept",
            "41.2",
            "98.35%",
            "570 s",
            "no rollback",
        ] {
            assert!(chart.svg.contains(text), "svg has {text}");
        }
        assert_eq!(chart, gaming_comparison(&rows), "byte-identical");
    }

    #[test]
    fn gaming_comparison_of_nothing_says_no_data() {
        let chart = gaming_comparison(&[]);
        assert_valid(&chart, gaming_size(0));
        assert!(chart.svg.contains("no data"));
    }

    #[test]
    fn gaming_comparison_survives_odd_values_and_many_rows() {
        let odd = vec![
            GamingRow {
                players_harmed: f64::NAN,
                bets_lost: f64::INFINITY,
                session_continuity_pct: -3.0,
                ttd_p50_s: Some(f64::NAN),
                ..gaming_row("a", "bad", 1.0, None)
            },
            GamingRow {
                label: "a very long label ".repeat(20) + "/ good",
                session_continuity_pct: 250.0,
                ..gaming_row("b", "good", 1e300, Some(1e300))
            },
        ];
        assert_valid(&gaming_comparison(&odd), gaming_size(odd.len()));
        let many: Vec<GamingRow> = (0..200)
            .map(|i| {
                gaming_row(
                    &format!("s{}", i % 30),
                    &format!("r{i}"),
                    f64::from(i),
                    Some(f64::from(i)),
                )
            })
            .collect();
        let (_, height) = gaming_size(many.len());
        assert_eq!(height, GAMING_HEIGHT.1, "height is capped");
        let chart = gaming_comparison(&many);
        assert_valid(&chart, gaming_size(many.len()));
        assert!(chart.svg.contains("s0 / r0"));
        assert!(!chart.svg.contains("s1 / r1<"), "packed rows label every k-th row only");
    }

    #[test]
    fn middle_truncation_keeps_both_ends() {
        assert_eq!(
            truncate_middle("canary / long-fault-name / bad", 16),
            "canary / … / bad"
        );
        assert_eq!(truncate_middle("short", 16), "short");
        assert_eq!(truncate_middle("ééééé", 1), "…");
    }

    #[test]
    fn timeline_shows_phases_and_marks() {
        let marks = [Mark {
            t_s: 35.0,
            label: "trigger fired: error_rate".into(),
        }];
        let chart = run_timeline("Canary, bad release", &sample_rows(), &marks);
        assert_valid(&chart, TIMELINE_SIZE);
        for text in [
            "validating",
            "trigger fired: error_rate",
            "p99 latency",
            "error rate",
            "traffic",
        ] {
            assert!(chart.svg.contains(text), "svg has {text}");
        }
    }

    #[test]
    fn empty_and_non_finite_inputs_draw_no_data() {
        let nan = f64::NAN;
        let charts = [
            blast_vs_ttd(&[]),
            blast_vs_ttd(&[cell("x", "x", nan, 1.0)]),
            cdf("c", "t", "x", &[]),
            cdf(
                "c",
                "t",
                "x",
                &[Series {
                    label: "a".into(),
                    points: vec![(nan, 0.5), (1.0, f64::INFINITY)],
                }],
            ),
            power_vs_false_rollback(&[]),
            run_timeline("t", &[], &[]),
        ];
        for chart in &charts {
            assert!(chart.svg.contains("no data"), "{} says no data", chart.name);
            assert!(chart.png.starts_with(b"\x89PNG"));
        }
    }

    #[test]
    fn odd_values_do_not_panic() {
        let cells = [
            cell("a", "huge", 1e300, 1e300),
            cell("a", "negative", -5.0, -1.0),
            CellPoint {
                ttd_p95_s: nan(),
                blast_p95: f64::INFINITY,
                ..cell("b", "nan whiskers", 1.0, 1.0)
            },
        ];
        assert_valid(&blast_vs_ttd(&cells), CHART_SIZE);
        assert_valid(&blast_vs_ttd(&[cell("a", "same", 0.0, 0.0)]), CHART_SIZE);
        let single = Series {
            label: "one point".into(),
            points: vec![(3.0, 2.0)],
        };
        assert_valid(&cdf("c", "t", "x", &[single]), CHART_SIZE);
        let points = [PowerPoint {
            group: "g".into(),
            label: "l".into(),
            false_rollback_pct: 250.0,
            power_pct: -3.0,
        }];
        assert_valid(&power_vs_false_rollback(&points), CHART_SIZE);
        let mut rows = vec![row(5, Phase::Completed, f64::NAN, [0, 0], [0, 0])];
        rows[0].p99_s = [Some(f64::INFINITY), None];
        let marks = [
            Mark {
                t_s: f64::NAN,
                label: "nan".into(),
            },
            Mark {
                t_s: 1e12,
                label: "far".into(),
            },
        ];
        assert_valid(&run_timeline("t", &rows, &marks), TIMELINE_SIZE);
    }

    fn nan() -> f64 {
        f64::NAN
    }

    #[test]
    fn axis_choice_and_ticks() {
        assert_eq!(Axis::fit_auto(&[0.0, 3.0, 12_000.0]).scale, Scale::SymLog);
        assert_eq!(Axis::fit_auto(&[500.0, 1200.0]).scale, Scale::Linear);
        let linear = Axis::fit_linear(&[0.0, 97.0], true);
        assert_eq!((linear.lo, linear.hi), (0.0, 100.0));
        assert_eq!(Axis::linear(0.0, 1.0).ticks.len(), 6);
        let axis = Axis::linear(0.0, 10.0);
        assert_eq!(axis.map(&f64::NAN, (0, 100)), 0);
        assert_eq!(axis.map(&1e9, (0, 100)), 100);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(0.30000000000000004), "0.3");
        assert_eq!(format_number(0.0002), "0.0002");
        assert_eq!(format_number(2500.0), "2500");
        assert_eq!(format_number(100_000.0), "100k");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(f64::NAN), "");
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("ééééé", 3), "éé…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }

    #[test]
    fn write_chart_refuses_paths_and_writes_both_files() {
        let dir = std::env::temp_dir().join(format!("deploysim-charts-{}", std::process::id()));
        let mut chart = blast_vs_ttd(&sample_cells());
        write_chart(&dir, &chart).expect("write");
        assert!(dir.join("blast_vs_ttd.svg").is_file());
        assert!(dir.join("blast_vs_ttd.png").is_file());
        chart.name = "../escape".into();
        assert!(write_chart(&dir, &chart).is_err());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
