//! A small plotting layer over plotters: one drawing description rendered to both SVG and PNG,
//! written atomically, with the bundled DejaVu Sans font (no system fonts are ever looked up).
//!
//! A figure is a value that implements [`Draw`]: a [`LineChart`] (labelled series, legend,
//! notes), a [`TrajectoryPanel`] (point paths of a [`Trajectory`]: grey grid lines, coloured
//! sample lines, markers at chosen slices) or a [`Figure`] (a grid of such panels). [`render`]
//! draws it twice — once into an SVG string, once into an RGB bitmap at [`SUPERSAMPLE`]× the size,
//! box-filtered down (anti-aliased lines) — and moves both files into place only when both
//! succeeded. Everything drawn in data coordinates is clipped to the panel's frame.
//!
//! ```ignore
//! use crate::figures::plot::{Axes, Figure, LineChart, Panel, Series, render, palette};
//! let chart = LineChart::new(Axes::new("Entropy along the flow", "t", "H [nats]"))
//!     .series(Series::line("continuous DAE", vec![(0.0, 3.2), (0.4, 2.1)], palette::BLUE))
//!     .series(Series::line("DAE Φ_t", vec![(0.0, 3.2), (0.4, 2.6)], palette::GREEN).dashed());
//! let written = render(Path::new("out/entropy"), 800, 600, &chart)?; // out/entropy.{svg,png}
//! ```
//!
//! Cost: linear in the number of drawn segments; the paper's figures (≈ 10⁴ segments) render in
//! a few tens of milliseconds per format.

// Part of this layer is there for the demo's figures (other panels, legends, colourings) and is
// not used by `deeptransport figure` itself.
#![allow(dead_code)]

use crate::interrupt::Live;
use anyhow::{Context, Result, anyhow, bail};
use deeptransport::flow::Trajectory;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The font family every text uses: the bundled DejaVu Sans, registered once by [`init_font`].
pub const FONT: &str = "DejaVu Sans";

/// The bundled font (Bitstream Vera derived licence, see `assets/DejaVuSans-LICENSE.txt`).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The largest width or height [`render`] accepts, in pixels (the supersampled 12000² RGB
/// canvas of the PNG is 432 MB).
pub const MAX_PIXELS: u32 = 6_000;

/// Registers the bundled font under [`FONT`] and under `sans-serif` (the family plotters falls
/// back to for any text whose style we do not set), once per process. Idempotent and thread-safe.
pub fn init_font() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for name in [FONT, "sans-serif"] {
            plotters::style::register_font(name, FontStyle::Normal, FONT_BYTES)
                .map_err(|_| format!("the bundled font {FONT} could not be parsed"))?;
        }
        Ok(())
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// Colours used across the figures (the paper's Fig. 3 colour code: flow blue, DAE green).
pub mod palette {
    use plotters::style::RGBColor;
    /// Gradient flow / continuous DAE.
    pub const BLUE: RGBColor = RGBColor(31, 100, 180);
    /// DAE Φ_t.
    pub const GREEN: RGBColor = RGBColor(30, 140, 60);
    /// A second green (compositions with a large τ).
    pub const LIGHT_GREEN: RGBColor = RGBColor(120, 190, 60);
    /// Accent.
    pub const ORANGE: RGBColor = RGBColor(230, 120, 20);
    /// Accent.
    pub const RED: RGBColor = RGBColor(200, 40, 40);
    /// Accent.
    pub const PURPLE: RGBColor = RGBColor(120, 60, 160);
    /// Grid trajectories and contours.
    pub const GREY: RGBColor = RGBColor(150, 150, 150);
    /// Text and markers on grey lines.
    pub const DARK_GREY: RGBColor = RGBColor(80, 80, 80);
    /// Series colours in order, for charts that do not choose their own.
    pub const CYCLE: [RGBColor; 6] = [BLUE, GREEN, ORANGE, RED, PURPLE, LIGHT_GREEN];

    /// Viridis at `s ∈ [0, 1]` (clamped), by linear interpolation between 9 stops of the
    /// matplotlib table (within 1 unit of 255 of the full table).
    pub fn viridis(s: f64) -> RGBColor {
        const STOPS: [(u8, u8, u8); 9] = [
            (68, 1, 84),
            (71, 44, 122),
            (59, 81, 139),
            (44, 113, 142),
            (33, 144, 141),
            (39, 173, 129),
            (92, 200, 99),
            (170, 220, 50),
            (253, 231, 37),
        ];
        let s = if s.is_finite() {
            s.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let x = s * (STOPS.len() - 1) as f64;
        let i = (x.floor() as usize).min(STOPS.len() - 2);
        let f = x - i as f64;
        let lerp = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
        let (a, b) = (STOPS[i], STOPS[i + 1]);
        RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
    }
}

/// Anything that can draw itself into a plotters drawing area, whatever the backend.
///
/// A generic method rather than a closure, because [`render`] draws the same figure into two
/// backend types (SVG and bitmap) and a Rust closure cannot be generic over them. Implement it
/// for a custom figure to get [`render`]'s SVG + PNG + atomic write for free.
pub trait Draw {
    /// Draws into `area` (already filled white). Every length in pixels (line widths, marker
    /// radii, font sizes, margins) must be multiplied by `px`: [`render`] draws the PNG at
    /// [`SUPERSAMPLE`] times its size and averages down, which anti-aliases lines. Errors from
    /// plotters convert with `?`.
    fn draw<DB>(&self, area: &DrawingArea<DB, Shift>, px: Px) -> Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static;
}

/// The two files [`render`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `STEM.svg`.
    pub svg: PathBuf,
    /// `STEM.png`.
    pub png: PathBuf,
}

/// `stem` with `.ext` appended (not `with_extension`, which would eat the `.5` of `tau0.5`).
pub fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Draws `figure` at `width × height` pixels into `STEM.svg` and `STEM.png`.
///
/// Both are rendered into temporary files in the destination folder first and renamed into
/// place only when both drawings succeeded, so an error leaves no new or partial file (an
/// existing file at either path stays untouched). The folder must exist. Text uses the bundled
/// [`FONT`]; the SVG names it as its `font-family`.
pub fn render(stem: &Path, width: u32, height: u32, figure: &impl Draw) -> Result<Rendered> {
    init_font()?;
    if width == 0 || height == 0 || width > MAX_PIXELS || height > MAX_PIXELS {
        bail!("figure size {width}×{height}: each side must be between 1 and {MAX_PIXELS} pixels");
    }
    let svg_path = with_suffix(stem, "svg");
    let png_path = with_suffix(stem, "png");
    let dir = match stem.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Registered with the interrupt handler, which removes them on Ctrl-C (crate::interrupt).
    let tmp = |suffix: &str| {
        Live::create(
            || {
                tempfile::Builder::new()
                    .prefix(".deeptransport-fig-")
                    .suffix(suffix)
                    .tempfile_in(&dir)
            },
            |t| t.path(),
        )
        .with_context(|| format!("cannot write in folder {}", dir.display()))
    };

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root, Px(1.0))?;
        root.present()?;
    }
    let (mut svg_tmp, svg_live) = tmp(".svg")?;
    std::io::Write::write_all(svg_tmp.as_file_mut(), svg.as_bytes())
        .with_context(|| format!("{}: cannot write", svg_path.display()))?;

    // Supersampled: drawn at SUPERSAMPLE× the size and box-filtered down, because the bitmap
    // backend draws lines without anti-aliasing (2 px curves look like staircases otherwise).
    let (sw, sh) = (width * SUPERSAMPLE, height * SUPERSAMPLE);
    let mut big = vec![255u8; sw as usize * sh as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut big, (sw, sh)).into_drawing_area();
        figure.draw(&root, Px(SUPERSAMPLE as f64))?;
        root.present()?;
    }
    let small = downsample(&big, width, height, SUPERSAMPLE);
    drop(big);
    // The bitmap backend encodes by the file's extension, hence the `.png` suffix.
    let (png_tmp, png_live) = tmp(".png")?;
    {
        let root = BitMapBackend::new(png_tmp.path(), (width, height)).into_drawing_area();
        let image = BitMapElement::<(i32, i32)>::with_owned_buffer((0, 0), (width, height), small)
            .ok_or_else(|| anyhow!("internal: bitmap buffer of the wrong size"))?;
        root.draw(&image)?;
        root.present()
            .with_context(|| format!("{}: cannot encode the PNG", png_path.display()))?;
    }
    // Figures are for sharing: readable by all like any file the user writes (temporary files
    // are created private).
    #[cfg(unix)]
    for t in [svg_tmp.path(), png_tmp.path()] {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(t, std::fs::Permissions::from_mode(0o644));
    }

    svg_live
        .finish(|| svg_tmp.persist(&svg_path))
        .with_context(|| format!("{}: cannot move into place", svg_path.display()))?;
    if let Err(e) = png_live.finish(|| png_tmp.persist(&png_path)) {
        // Keep the pair consistent: no SVG without its PNG.
        let _ = std::fs::remove_file(&svg_path);
        return Err(anyhow!(e.error))
            .context(format!("{}: cannot move into place", png_path.display()));
    }
    Ok(Rendered {
        svg: svg_path,
        png: png_path,
    })
}

/// The PNG is drawn at this many times its size in each direction, then averaged down.
pub const SUPERSAMPLE: u32 = 2;

/// Box-filters an RGB image of `(w·k) × (h·k)` pixels down to `w × h`.
fn downsample(big: &[u8], w: u32, h: u32, k: u32) -> Vec<u8> {
    let (w, h, k) = (w as usize, h as usize, k as usize);
    let stride = w * k * 3;
    let mut out = vec![0u8; w * h * 3];
    let area = (k * k) as u32;
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..k {
                    let row = (y * k + dy) * stride;
                    for dx in 0..k {
                        sum += big[row + (x * k + dx) * 3 + c] as u32;
                    }
                }
                out[(y * w + x) * 3 + c] = ((sum + area / 2) / area) as u8;
            }
        }
    }
    out
}

/// Text sizes of one panel, scaled with its height so that a panel stays readable when the
/// figure is shrunk to a column width (≈ 19 px labels on a 450 px panel).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    title: f64,
    label: f64,
    tick: f64,
    px: Px,
}

impl Sizes {
    fn of(height: u32, px: Px) -> Self {
        let base = (height as f64 / px.0 / 24.0).clamp(13.0, 24.0) * px.0;
        Sizes {
            title: 1.15 * base,
            label: base,
            tick: 0.85 * base,
            px,
        }
    }
}

/// The size of one output pixel in drawing pixels: 1 for the SVG, [`SUPERSAMPLE`] for the
/// PNG's oversized canvas. [`Draw`] implementations multiply every pixel length by it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Px(pub f64);

impl Px {
    /// `v` output pixels as drawing pixels (widths, radii).
    pub fn u(self, v: u32) -> u32 {
        (v as f64 * self.0).round() as u32
    }

    /// `v` output pixels as a signed drawing offset.
    pub fn i(self, v: i32) -> i32 {
        (v as f64 * self.0).round() as i32
    }

    /// `v` output pixels as a font size.
    pub fn f(self, v: f64) -> f64 {
        v * self.0
    }
}

/// Where a legend sits inside the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendAt {
    /// Upper right corner (default).
    #[default]
    UpperRight,
    /// Upper left corner.
    UpperLeft,
    /// Lower left corner.
    LowerLeft,
    /// Lower right corner.
    LowerRight,
    /// No legend even when series are labelled.
    Hidden,
}

impl LegendAt {
    fn position(self) -> Option<SeriesLabelPosition> {
        match self {
            LegendAt::UpperRight => Some(SeriesLabelPosition::UpperRight),
            LegendAt::UpperLeft => Some(SeriesLabelPosition::UpperLeft),
            LegendAt::LowerLeft => Some(SeriesLabelPosition::LowerLeft),
            LegendAt::LowerRight => Some(SeriesLabelPosition::LowerRight),
            LegendAt::Hidden => None,
        }
    }
}

/// Draws `text` centred horizontally at height `y` of `area`, shrinking the font below `size`
/// when the text would not fit the width (a long title is never clipped).
fn centred_text<DB>(area: &DrawingArea<DB, Shift>, text: &str, size: f64, y: i32) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let style = |s: f64| {
        TextStyle::from((FONT, s).into_font())
            .pos(Pos::new(HPos::Center, VPos::Center))
            .color(&BLACK)
    };
    let (tw, _) = area.estimate_text_size(text, &style(size))?;
    let room = 0.96 * w as f64;
    let size = if tw as f64 > room {
        size * room / tw as f64
    } else {
        size
    };
    area.draw_text(text, &style(size), ((w / 2) as i32, y))?;
    Ok(())
}

/// The frame of one panel: title, axis labels, ranges and aspect.
#[derive(Debug, Clone, PartialEq)]
pub struct Axes {
    /// Panel title (drawn above the plotting area); empty for none.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Horizontal range; `None`: the data's range plus 4 % on each side.
    pub x_range: Option<(f64, f64)>,
    /// Vertical range; `None`: the data's range plus 4 % on each side.
    pub y_range: Option<(f64, f64)>,
    /// One data unit has the same length in pixels on both axes: the ranges above (or the data's)
    /// are widened symmetrically about their centres until the units match.
    pub equal_aspect: bool,
    /// Where the legend goes (drawn only when a series or layer has a label).
    pub legend: LegendAt,
}

impl Axes {
    /// A titled frame with axis labels, automatic ranges, free aspect, legend upper right.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Axes {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: None,
            y_range: None,
            equal_aspect: false,
            legend: LegendAt::default(),
        }
    }

    /// Sets the horizontal range.
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Sets the vertical range.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Equal units on both axes.
    pub fn equal_aspect(mut self) -> Self {
        self.equal_aspect = true;
        self
    }

    /// Sets the legend position.
    pub fn legend(mut self, at: LegendAt) -> Self {
        self.legend = at;
        self
    }
}

/// The min/max of finite values, or `None` when there is none.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A usable range: the given one, or the data's padded by 4 %, never empty.
fn resolve_range(given: Option<(f64, f64)>, data: Option<(f64, f64)>) -> Result<(f64, f64)> {
    if let Some((lo, hi)) = given {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            bail!("axis range [{lo}, {hi}]: expected finite bounds with lo < hi");
        }
        return Ok((lo, hi));
    }
    let (lo, hi) = data.unwrap_or((0.0, 1.0));
    let span = hi - lo;
    // A degenerate extent (one point, a constant series) still needs a visible range.
    let pad = if span > 0.0 {
        0.04 * span
    } else {
        0.5 * lo.abs().max(1.0)
    };
    Ok((lo - pad, hi + pad))
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the title and the mesh of a panel and returns its chart. `data_x`/`data_y` are the data
/// extents used when `axes` fixes no range.
fn frame<'a, DB>(
    area: &'a DrawingArea<DB, Shift>,
    axes: &Axes,
    data_x: Option<(f64, f64)>,
    data_y: Option<(f64, f64)>,
    px: Px,
) -> Result<(Chart<'a, DB>, Sizes, Clip)>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let sz = Sizes::of(h, px);
    // Title drawn by hand (not ChartBuilder::caption) so that the plotting area's pixel size is
    // known exactly before the chart is built: equal aspect needs it.
    let title_h = if axes.title.is_empty() {
        (0.6 * sz.label) as u32
    } else {
        (1.9 * sz.title) as u32
    };
    let (top, body) = area.split_vertically(title_h.min(h / 3));
    if !axes.title.is_empty() {
        centred_text(&top, &axes.title, sz.title, (title_h / 2) as i32)?;
    }
    let (ml, mr, mt, mb) = (px.u(6), (1.2 * sz.tick) as u32, px.u(4), px.u(6));
    let x_area = (2.9 * sz.label) as u32;
    let y_area = (3.7 * sz.label) as u32;
    let (bw, bh) = body.dim_in_pixel();
    let pw = bw.saturating_sub(ml + mr + y_area).max(1) as f64;
    let ph = bh.saturating_sub(mt + mb + x_area).max(1) as f64;

    let (mut x0, mut x1) = resolve_range(axes.x_range, data_x)?;
    let (mut y0, mut y1) = resolve_range(axes.y_range, data_y)?;
    if axes.equal_aspect {
        let scale = ((x1 - x0) / pw).max((y1 - y0) / ph);
        let (cx, cy) = (0.5 * (x0 + x1), 0.5 * (y0 + y1));
        (x0, x1) = (cx - 0.5 * scale * pw, cx + 0.5 * scale * pw);
        (y0, y1) = (cy - 0.5 * scale * ph, cy + 0.5 * scale * ph);
    }

    let mut chart = ChartBuilder::on(&body)
        .margin_left(ml)
        .margin_right(mr)
        .margin_top(mt)
        .margin_bottom(mb)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(axes.x_label.as_str())
        .y_desc(axes.y_label.as_str())
        .axis_desc_style((FONT, sz.label))
        .label_style((FONT, sz.tick))
        .x_labels(7)
        .y_labels(7)
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(60, 60, 60).stroke_width(px.u(1)))
        .set_all_tick_mark_size(px.u(5))
        .draw()?;
    Ok((chart, sz, Clip { x0, x1, y0, y1 }))
}

/// One legend row: a label and the glyph that stands for its series.
#[derive(Debug, Clone)]
struct Entry {
    label: String,
    colour: RGBColor,
    width: u32,
    dashed: bool,
    dot: Option<u32>,
    fill: Option<f64>,
}

impl Entry {
    fn of(s: &Series) -> Option<Entry> {
        s.label.as_ref().map(|label| Entry {
            label: label.clone(),
            colour: s.colour,
            width: s.width,
            dashed: s.dashed,
            dot: (!s.markers.is_empty()).then_some(s.marker_size),
            fill: s.fill,
        })
    }
}

/// Draws a legend box in a corner of the plotting area.
///
/// Drawn by hand in pixel coordinates rather than with plotters' series labels: those take the
/// glyph as an element generic over the backend, which cannot be written once for both backends
/// of [`render`].
fn legend<'a, DB>(chart: &Chart<'a, DB>, entries: &[Entry], at: LegendAt, sz: Sizes) -> Result<()>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
{
    let Some(_) = at.position() else {
        return Ok(());
    };
    if entries.is_empty() {
        return Ok(());
    }
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let font = TextStyle::from((FONT, sz.tick).into_font())
        .pos(Pos::new(HPos::Left, VPos::Center))
        .color(&BLACK);
    let px = sz.px;
    let row = (1.45 * sz.tick) as i32;
    let glyph = px.i(30);
    let pad = px.i(8);
    let mut text_w = 0;
    for e in entries {
        let (tw, _) = area.estimate_text_size(&e.label, &font)?;
        text_w = text_w.max(tw as i32);
    }
    let box_w = pad + glyph + pad + text_w + pad;
    let box_h = pad + row * entries.len() as i32 + pad / 2;
    let (x0, y0) = match at {
        LegendAt::UpperLeft => (pad, pad),
        LegendAt::UpperRight | LegendAt::Hidden => (w as i32 - box_w - pad, pad),
        LegendAt::LowerLeft => (pad, h as i32 - box_h - pad),
        LegendAt::LowerRight => (w as i32 - box_w - pad, h as i32 - box_h - pad),
    };
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        RGBColor(160, 160, 160).stroke_width(px.u(1)),
    ))?;
    for (k, e) in entries.iter().enumerate() {
        let y = y0 + pad + row * k as i32 + row / 2;
        let (gx0, gx1) = (x0 + pad, x0 + pad + glyph);
        if let Some(alpha) = e.fill {
            let r = [(gx0, y - px.i(7)), (gx1, y + px.i(7))];
            area.draw(&Rectangle::new(
                r,
                e.colour.mix(alpha.clamp(0.0, 1.0)).filled(),
            ))?;
            area.draw(&Rectangle::new(r, e.colour.stroke_width(px.u(1))))?;
        } else if e.width > 0 {
            let st = e.colour.stroke_width(px.u(e.width));
            if e.dashed {
                area.draw(&PathElement::new(vec![(gx0, y), (gx0 + px.i(10), y)], st))?;
                area.draw(&PathElement::new(vec![(gx0 + px.i(16), y), (gx1, y)], st))?;
            } else {
                area.draw(&PathElement::new(vec![(gx0, y), (gx1, y)], st))?;
            }
        }
        if let Some(r) = e.dot {
            area.draw(&Circle::new(
                ((gx0 + gx1) / 2, y),
                px.u(r.max(3)),
                e.colour.filled(),
            ))?;
        }
        area.draw_text(&e.label, &font, (gx1 + pad, y))?;
    }
    Ok(())
}

/// One (x, y) series of a [`LineChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry; `None` keeps the series out of the legend.
    pub label: Option<String>,
    /// The points, joined in order. Non-finite points break the line.
    pub points: Vec<(f64, f64)>,
    /// Line (and marker, and fill) colour.
    pub colour: RGBColor,
    /// Line width in pixels; 0 draws no line (markers only).
    pub width: u32,
    /// Dashed line.
    pub dashed: bool,
    /// Indices into `points` that get a filled dot.
    pub markers: Vec<usize>,
    /// Marker radius in pixels.
    pub marker_size: u32,
    /// Fill the polygon the points enclose, with this opacity in `(0, 1]`.
    pub fill: Option<f64>,
}

impl Series {
    /// A labelled solid line, 2 px wide.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>, colour: RGBColor) -> Self {
        Series {
            label: Some(label.into()),
            points,
            colour,
            width: 2,
            dashed: false,
            markers: Vec::new(),
            marker_size: 4,
            fill: None,
        }
    }

    /// An unlabelled solid line (kept out of the legend).
    pub fn unlabelled(points: Vec<(f64, f64)>, colour: RGBColor) -> Self {
        Series {
            label: None,
            ..Series::line("", points, colour)
        }
    }

    /// Dashed.
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    /// Line width in pixels (0: markers only).
    pub fn width(mut self, w: u32) -> Self {
        self.width = w;
        self
    }

    /// Dots at these point indices.
    pub fn markers(mut self, idx: Vec<usize>, radius: u32) -> Self {
        self.markers = idx;
        self.marker_size = radius;
        self
    }

    /// Dots at every point.
    pub fn all_markers(mut self, radius: u32) -> Self {
        self.markers = (0..self.points.len()).collect();
        self.marker_size = radius;
        self
    }

    /// Fills the enclosed polygon with opacity `alpha`.
    pub fn filled(mut self, alpha: f64) -> Self {
        self.fill = Some(alpha);
        self
    }
}

/// A text placed at data coordinates (left-centre anchored).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Data x.
    pub x: f64,
    /// Data y.
    pub y: f64,
    /// The text.
    pub text: String,
    /// Its colour.
    pub colour: RGBColor,
}

/// A chart of (x, y) series: curves along trajectories (entropy, W₂), densities, paths in a
/// parameter plane. Implements [`Draw`] alone or as a [`Panel`] of a [`Figure`].
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title, labels, ranges, legend position.
    pub axes: Axes,
    /// Drawn in order (later on top).
    pub series: Vec<Series>,
    /// Texts at data coordinates, drawn last.
    pub notes: Vec<Note>,
}

impl LineChart {
    /// An empty chart in this frame.
    pub fn new(axes: Axes) -> Self {
        LineChart {
            axes,
            series: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a series.
    pub fn series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// Adds a note.
    pub fn note(mut self, x: f64, y: f64, text: impl Into<String>, colour: RGBColor) -> Self {
        self.notes.push(Note {
            x,
            y,
            text: text.into(),
            colour,
        });
        self
    }
}

/// The data rectangle of a chart. plotters does not clip to the plotting area, so everything
/// drawn in data coordinates goes through it: lines are cut at the frame (Liang–Barsky), dots and
/// notes outside it are left out. Filled polygons are not clipped (give them a range that holds
/// them).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Clip {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Clip {
    fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }

    /// The part of the segment `a → b` inside the rectangle (Liang–Barsky), `None` when none
    /// or when an end is not finite. An end inside is returned unchanged (bit for bit), which
    /// [`Clip::polyline`] relies on to join consecutive segments.
    fn segment(&self, a: (f64, f64), b: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
        if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
            return None;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.0 - self.x0),
            (dx, self.x1 - a.0),
            (-dy, a.1 - self.y0),
            (dy, self.y1 - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return None;
        }
        let at = |t: f64| {
            if t == 0.0 {
                a
            } else if t == 1.0 {
                b
            } else {
                (a.0 + t * dx, a.1 + t * dy)
            }
        };
        Some((at(t0), at(t1)))
    }

    /// The runs of a polyline inside the rectangle; non-finite points break it too.
    fn polyline(&self, points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut open = false;
        if let [p] = points {
            if self.contains(*p) {
                runs.push(vec![*p]);
            }
            return runs;
        }
        for w in points.windows(2) {
            match self.segment(w[0], w[1]) {
                Some((a, b)) => {
                    let joined = open && runs.last().and_then(|r| r.last()) == Some(&a);
                    if joined {
                        runs.last_mut().expect("open run").push(b);
                    } else {
                        runs.push(vec![a, b]);
                    }
                    // The run stays open only if the segment ended inside, not cut at the frame.
                    open = b == w[1];
                }
                None => open = false,
            }
        }
        runs
    }
}

impl Draw for LineChart {
    fn draw<DB>(&self, area: &DrawingArea<DB, Shift>, px: Px) -> Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let pts = || self.series.iter().flat_map(|s| s.points.iter());
        let (mut chart, sz, clip) = frame(
            area,
            &self.axes,
            extent(pts().map(|p| p.0)),
            extent(pts().map(|p| p.1)),
            px,
        )?;
        for s in &self.series {
            let colour = s.colour;
            let style = colour.stroke_width(px.u(s.width.max(1)));
            if let Some(alpha) = s.fill {
                let poly: Vec<_> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    poly,
                    colour.mix(alpha.clamp(0.0, 1.0)).filled(),
                )))?;
            }
            if s.width > 0 {
                for run in clip.polyline(&s.points) {
                    if s.dashed {
                        let dash = px.u(3 * s.width.max(2));
                        chart.draw_series(DashedLineSeries::new(run, dash + 4, dash, style))?;
                    } else {
                        chart.draw_series(LineSeries::new(run, style))?;
                    }
                }
            }
            if !s.markers.is_empty() {
                let mut dots = Vec::with_capacity(s.markers.len());
                for &i in &s.markers {
                    let &(x, y) = s.points.get(i).ok_or_else(|| {
                        anyhow!(
                            "marker index {i} is past the series' {} points",
                            s.points.len()
                        )
                    })?;
                    if clip.contains((x, y)) {
                        dots.push(Circle::new((x, y), px.u(s.marker_size), colour.filled()));
                    }
                }
                chart.draw_series(dots)?;
            }
        }
        for n in self.notes.iter().filter(|n| clip.contains((n.x, n.y))) {
            let style = TextStyle::from((FONT, sz.tick).into_font())
                .pos(Pos::new(HPos::Left, VPos::Center))
                .color(&n.colour);
            chart.draw_series(std::iter::once(Text::new(
                n.text.clone(),
                (n.x, n.y),
                style,
            )))?;
        }
        let entries: Vec<Entry> = self.series.iter().filter_map(Entry::of).collect();
        legend(&chart, &entries, self.axes.legend, sz)?;
        Ok(())
    }
}

/// How the lines of a [`TrajectoryLayer`] are coloured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Colouring {
    /// One colour for every line.
    Fixed(RGBColor),
    /// Line `i` of `n` in viridis at `i/(n−1)` (purple → yellow-green; the pale yellow end is
    /// left out so that every line stays visible on white).
    ByPoint,
    /// Each segment in viridis at its time index `k/(T−1)`: the colour tells when a point was
    /// there.
    AlongTime,
}

/// One set of point paths in a [`TrajectoryPanel`]: the `n` points of a [`Trajectory`] joined
/// across its `T` slices, in the plane of the first two coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryLayer {
    /// The paths (`T × n × d`, `d ≥ 2`; coordinates 0 and 1 are drawn).
    pub trajectory: Trajectory,
    /// Line colours.
    pub colouring: Colouring,
    /// Line width in pixels.
    pub width: u32,
    /// Opacity of the lines in `(0, 1]`.
    pub opacity: f64,
    /// Slice indices `k` at which every path gets a dot (e.g. every 0.2 in t). Out of range is an
    /// error.
    pub markers: Vec<usize>,
    /// Dot radius in pixels.
    pub marker_size: u32,
    /// Colour of the dots; `None`: the line's colour.
    pub marker_colour: Option<RGBColor>,
    /// An open circle at each path's start (slice 0), so that the direction of motion reads.
    pub start: bool,
    /// Legend entry.
    pub label: Option<String>,
}

impl TrajectoryLayer {
    /// Thin grey paths with dark grey dots (e.g. trajectories from a regular grid).
    pub fn grey(trajectory: Trajectory) -> Self {
        TrajectoryLayer {
            trajectory,
            colouring: Colouring::Fixed(palette::GREY),
            width: 1,
            opacity: 1.0,
            markers: Vec::new(),
            marker_size: 2,
            marker_colour: Some(palette::DARK_GREY),
            start: false,
            label: None,
        }
    }

    /// Paths in one viridis colour per point, 2 px (e.g. trajectories of samples).
    pub fn coloured(trajectory: Trajectory) -> Self {
        TrajectoryLayer {
            trajectory,
            colouring: Colouring::ByPoint,
            width: 2,
            opacity: 1.0,
            markers: Vec::new(),
            marker_size: 3,
            marker_colour: None,
            start: true,
            label: None,
        }
    }

    /// Sets the colouring.
    pub fn colouring(mut self, c: Colouring) -> Self {
        self.colouring = c;
        self
    }

    /// Dots at these slice indices.
    pub fn markers(mut self, k: Vec<usize>) -> Self {
        self.markers = k;
        self
    }

    /// Open circles at the starts (or not).
    pub fn start(mut self, on: bool) -> Self {
        self.start = on;
        self
    }

    /// Sets the legend entry.
    pub fn label(mut self, l: impl Into<String>) -> Self {
        self.label = Some(l.into());
        self
    }

    /// Sets the line width.
    pub fn width(mut self, w: u32) -> Self {
        self.width = w;
        self
    }

    /// Sets the line opacity.
    pub fn opacity(mut self, a: f64) -> Self {
        self.opacity = a;
        self
    }

    fn check(&self) -> Result<()> {
        let t = self.trajectory.len_times();
        if self.trajectory.dim() < 2 {
            bail!(
                "a trajectory panel draws 2-D paths; this trajectory has dimension {}",
                self.trajectory.dim()
            );
        }
        if let Some(&k) = self.markers.iter().find(|&&k| k >= t) {
            bail!("marker slice {k} is past the trajectory's {t} slices");
        }
        Ok(())
    }

    fn colour_of(&self, i: usize, k: usize) -> RGBColor {
        let frac = |a: usize, n: usize| {
            if n > 1 {
                a as f64 / (n - 1) as f64
            } else {
                0.0
            }
        };
        match self.colouring {
            Colouring::Fixed(c) => c,
            Colouring::ByPoint => palette::viridis(0.9 * frac(i, self.trajectory.n_points())),
            Colouring::AlongTime => palette::viridis(0.9 * frac(k, self.trajectory.len_times())),
        }
    }
}

/// Point paths in the plane: layers of trajectories drawn in order (grey grid first, coloured
/// samples on top), with markers and an optional legend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryPanel {
    /// Title (method and τ), labels, ranges, aspect, legend position.
    pub axes: Axes,
    /// Drawn in order.
    pub layers: Vec<TrajectoryLayer>,
    /// Extra series drawn on top (e.g. a reference curve or an ellipse).
    pub overlays: Vec<Series>,
}

impl TrajectoryPanel {
    /// An empty panel in this frame.
    pub fn new(axes: Axes) -> Self {
        TrajectoryPanel {
            axes,
            layers: Vec::new(),
            overlays: Vec::new(),
        }
    }

    /// Adds a layer.
    pub fn layer(mut self, l: TrajectoryLayer) -> Self {
        self.layers.push(l);
        self
    }

    /// Adds an overlay series.
    pub fn overlay(mut self, s: Series) -> Self {
        self.overlays.push(s);
        self
    }
}

impl Draw for TrajectoryPanel {
    fn draw<DB>(&self, area: &DrawingArea<DB, Shift>, px: Px) -> Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        for l in &self.layers {
            l.check()?;
        }
        let coord = |c: usize| {
            let layers = self.layers.iter().flat_map(move |l| {
                l.trajectory
                    .positions()
                    .index_axis(ndarray::Axis(2), c)
                    .to_owned()
                    .into_iter()
            });
            let over = self
                .overlays
                .iter()
                .flat_map(move |s| s.points.iter().map(move |p| if c == 0 { p.0 } else { p.1 }));
            extent(layers.chain(over))
        };
        let (mut chart, sz, clip) = frame(area, &self.axes, coord(0), coord(1), px)?;
        let mut entries = Vec::new();
        for l in &self.layers {
            let p = l.trajectory.positions();
            let (t_len, n) = (l.trajectory.len_times(), l.trajectory.n_points());
            let alpha = l.opacity.clamp(0.0, 1.0);
            let path = |i: usize| (0..t_len).map(move |k| (p[[k, i, 0]], p[[k, i, 1]]));
            match l.colouring {
                Colouring::AlongTime => {
                    let mut segs = Vec::with_capacity(n * t_len.saturating_sub(1));
                    for i in 0..n {
                        for k in 1..t_len {
                            let style = l.colour_of(i, k).mix(alpha).stroke_width(px.u(l.width));
                            let seg = clip.segment(
                                (p[[k - 1, i, 0]], p[[k - 1, i, 1]]),
                                (p[[k, i, 0]], p[[k, i, 1]]),
                            );
                            if let Some((a, b)) = seg {
                                segs.push(PathElement::new(vec![a, b], style));
                            }
                        }
                    }
                    chart.draw_series(segs)?;
                }
                _ => {
                    let mut lines = Vec::with_capacity(n);
                    for i in 0..n {
                        let style = l.colour_of(i, 0).mix(alpha).stroke_width(px.u(l.width));
                        let pts: Vec<_> = path(i).collect();
                        for run in clip.polyline(&pts) {
                            lines.push(PathElement::new(run, style));
                        }
                    }
                    chart.draw_series(lines)?;
                }
            }
            let mut dots = Vec::with_capacity(n * l.markers.len());
            for i in 0..n {
                for &k in &l.markers {
                    let c = l.marker_colour.unwrap_or_else(|| l.colour_of(i, k));
                    let at = (p[[k, i, 0]], p[[k, i, 1]]);
                    if clip.contains(at) {
                        dots.push(Circle::new(at, px.u(l.marker_size), c.filled()));
                    }
                }
            }
            if l.start {
                for i in 0..n {
                    let at = (p[[0, i, 0]], p[[0, i, 1]]);
                    if clip.contains(at) {
                        dots.push(Circle::new(
                            at,
                            px.u(l.marker_size + 2),
                            l.colour_of(i, 0).stroke_width(px.u(2)),
                        ));
                    }
                }
            }
            chart.draw_series(dots)?;
            if let Some(label) = &l.label {
                entries.push(Entry {
                    label: label.clone(),
                    colour: l.colour_of(n / 2, t_len / 2),
                    width: l.width,
                    dashed: false,
                    dot: (!l.markers.is_empty()).then_some(l.marker_size),
                    fill: None,
                });
            }
        }
        for s in &self.overlays {
            for run in clip.polyline(&s.points) {
                let style = s.colour.stroke_width(px.u(s.width.max(1)));
                if s.dashed {
                    chart.draw_series(DashedLineSeries::new(run, px.u(10), px.u(6), style))?;
                } else {
                    chart.draw_series(LineSeries::new(run, style))?;
                }
            }
            entries.extend(Entry::of(s));
        }
        legend(&chart, &entries, self.axes.legend, sz)?;
        Ok(())
    }
}

/// One panel of a [`Figure`].
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// A [`LineChart`].
    Lines(LineChart),
    /// A [`TrajectoryPanel`].
    Trajectories(TrajectoryPanel),
}

impl Draw for Panel {
    fn draw<DB>(&self, area: &DrawingArea<DB, Shift>, px: Px) -> Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        match self {
            Panel::Lines(c) => c.draw(area, px),
            Panel::Trajectories(t) => t.draw(area, px),
        }
    }
}

impl From<LineChart> for Panel {
    fn from(c: LineChart) -> Self {
        Panel::Lines(c)
    }
}

impl From<TrajectoryPanel> for Panel {
    fn from(t: TrajectoryPanel) -> Self {
        Panel::Trajectories(t)
    }
}

/// Panels side by side, row by row (`cols` per row), under an optional figure title.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title over all panels; empty for none.
    pub title: String,
    /// Panels per row (≥ 1).
    pub cols: usize,
    /// The panels, filled row by row.
    pub panels: Vec<Panel>,
}

impl Figure {
    /// A grid with `cols` panels per row.
    pub fn grid(title: impl Into<String>, cols: usize, panels: Vec<Panel>) -> Self {
        Figure {
            title: title.into(),
            cols,
            panels,
        }
    }
}

impl Draw for Figure {
    fn draw<DB>(&self, area: &DrawingArea<DB, Shift>, px: Px) -> Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        if self.cols == 0 {
            bail!("a figure needs at least one panel per row (cols = 0)");
        }
        let rows = self.panels.len().div_ceil(self.cols).max(1);
        let (_, h) = area.dim_in_pixel();
        let body = if self.title.is_empty() {
            area.clone()
        } else {
            let size = (h as f64 / px.0 / rows as f64 / 20.0).clamp(15.0, 28.0) * px.0;
            let strip = (2.0 * size) as u32;
            let (top, body) = area.split_vertically(strip);
            centred_text(&top, &self.title, size, (strip / 2) as i32)?;
            body
        };
        for (panel, cell) in self.panels.iter().zip(body.split_evenly((rows, self.cols))) {
            panel.draw(&cell, px)?;
        }
        Ok(())
    }
}

/// A histogram as one filled step outline: the finite `values` in `bins` equal bins over
/// `[lo, hi]` (a value equal to `hi` goes in the last bin; values outside are left out), drawn
/// from the baseline 0, labelled `label` in the legend. Give the chart a y range from 0.
pub fn histogram(
    label: impl Into<String>,
    values: &[f64],
    lo: f64,
    hi: f64,
    bins: usize,
    colour: RGBColor,
) -> Series {
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values
        .iter()
        .filter(|v| v.is_finite() && **v >= lo && **v <= hi)
    {
        let k = if width > 0.0 {
            (((v - lo) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[k] += 1;
    }
    let mut points = vec![(lo, 0.0)];
    for (k, &c) in counts.iter().enumerate() {
        let (a, b) = (lo + k as f64 * width, lo + (k + 1) as f64 * width);
        points.push((a, c as f64));
        points.push((b, c as f64));
    }
    points.push((hi, 0.0));
    Series::line(label, points, colour).width(1).filled(0.35)
}

/// Tableau's ten categorical colours (distinguishable in print and for the common colour
/// vision deficiencies better than a rainbow).
pub const TAB10: [RGBColor; 10] = [
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A figure whose drawing fails halfway, after it has drawn something.
    struct Failing;
    impl Draw for Failing {
        fn draw<DB>(&self, area: &DrawingArea<DB, Shift>, _px: Px) -> Result<()>
        where
            DB: DrawingBackend,
            DB::ErrorType: 'static,
        {
            area.fill(&palette::BLUE)?;
            bail!("drawing failed on purpose")
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// An error while drawing leaves neither file nor a temporary behind, and an existing file
    /// at the destination untouched.
    #[test]
    fn a_failed_render_leaves_no_file_and_keeps_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.svg"), "old").unwrap();
        assert!(render(&dir.path().join("f"), 200, 100, &Failing).is_err());
        assert_eq!(names(dir.path()), ["f.svg"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("f.svg")).unwrap(),
            "old"
        );

        // A marker past the end of its series is an error too, found while drawing.
        let chart = LineChart::new(Axes::new("t", "x", "y")).series(
            Series::line("s", vec![(0.0, 0.0), (1.0, 1.0)], palette::RED).markers(vec![2], 3),
        );
        let e = render(&dir.path().join("g"), 200, 100, &chart).unwrap_err();
        assert!(e.to_string().contains("marker index 2"), "{e}");
        assert_eq!(names(dir.path()), ["f.svg"]);

        assert!(render(&dir.path().join("no/such/dir/f"), 200, 100, &chart).is_err());
        assert!(render(&dir.path().join("h"), 0, 100, &chart).is_err());
        assert!(render(&dir.path().join("h"), MAX_PIXELS + 1, 100, &chart).is_err());
        assert_eq!(names(dir.path()), ["f.svg"]);
    }

    /// A successful render writes exactly STEM.svg and STEM.png (a stem with a dot keeps it).
    #[test]
    fn render_writes_both_files_for_a_stem_with_a_dot() {
        let dir = tempfile::tempdir().unwrap();
        let traj = Trajectory::new(
            ndarray::Array3::from_shape_fn((3, 2, 2), |(k, i, c)| (k + i + c) as f64),
            vec![0.0, 0.5, 1.0],
        )
        .unwrap();
        let fig = Figure::grid(
            "two panels",
            2,
            vec![
                TrajectoryPanel::new(Axes::new("paths", "x₁", "x₂").equal_aspect())
                    .layer(TrajectoryLayer::grey(traj.clone()).markers(vec![1]))
                    .layer(
                        TrajectoryLayer::coloured(traj)
                            .colouring(Colouring::AlongTime)
                            .label("samples"),
                    )
                    .into(),
                LineChart::new(Axes::new("H", "t", "H").legend(LegendAt::LowerLeft))
                    .series(Series::line(
                        "a",
                        vec![(0.0, 1.0), (1.0, 0.5)],
                        palette::BLUE,
                    ))
                    .series(
                        Series::line(
                            "b",
                            vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 0.2)],
                            palette::GREEN,
                        )
                        .dashed(),
                    )
                    .into(),
            ],
        );
        let out = render(&dir.path().join("fig_tau0.5"), 400, 200, &fig).unwrap();
        assert_eq!(out.svg, dir.path().join("fig_tau0.5.svg"));
        assert_eq!(out.png, dir.path().join("fig_tau0.5.png"));
        assert_eq!(names(dir.path()), ["fig_tau0.5.png", "fig_tau0.5.svg"]);
        let png = std::fs::read(&out.png).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 400);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 200);
        let svg = std::fs::read_to_string(&out.svg).unwrap();
        assert!(svg.contains("two panels") && svg.contains("samples"));
        // A 1-D trajectory cannot be drawn in the plane.
        let one_d = Trajectory::new(ndarray::Array3::zeros((2, 3, 1)), vec![0.0, 1.0]).unwrap();
        let bad = TrajectoryPanel::new(Axes::new("", "x", "y")).layer(TrajectoryLayer::grey(one_d));
        assert!(render(&dir.path().join("bad"), 100, 100, &bad).is_err());
    }

    /// The 2×2 box filter averages each block (rounding half up).
    #[test]
    fn downsample_averages_blocks() {
        // 4×2 RGB image → 2×1; block 1 has red values 0, 1, 2, 3 (mean 1.5 → 2).
        let mut big = vec![0u8; 4 * 2 * 3];
        for (i, v) in [0u8, 1, 10, 10, 2, 3, 10, 10].iter().enumerate() {
            big[i * 3] = *v;
        }
        let small = downsample(&big, 2, 1, 2);
        assert_eq!(small, [2, 0, 0, 10, 0, 0]);
    }

    /// Lines are cut at the frame and split where they leave it; points inside are kept bit for
    /// bit; non-finite points break a line.
    #[test]
    fn clipping_cuts_lines_at_the_frame() {
        let c = Clip {
            x0: 0.0,
            x1: 1.0,
            y0: 0.0,
            y1: 1.0,
        };
        assert_eq!(
            c.segment((-1.0, 0.5), (2.0, 0.5)),
            Some(((0.0, 0.5), (1.0, 0.5)))
        );
        assert_eq!(c.segment((2.0, 2.0), (3.0, 0.5)), None);
        assert_eq!(
            c.segment((0.2, 0.3), (0.4, 0.5)),
            Some(((0.2, 0.3), (0.4, 0.5)))
        );
        assert_eq!(c.segment((0.5, 0.5), (f64::NAN, 0.5)), None);
        // In, out through the right edge, back in through the top edge, in.
        let runs = c.polyline(&[(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 0.9), (0.2, 0.2)]);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0], [(0.5, 0.5), (1.0, 0.5)]);
        assert_eq!(runs[1].last(), Some(&(0.2, 0.2)));
        assert_eq!(runs[1][runs[1].len() - 2], (0.5, 0.9));
        // (1.5, 1.5) → (0.5, 0.9) enters through the top edge at t = 5/6: (2/3, 1).
        assert!((runs[1][0].0 - 2.0 / 3.0).abs() < 1e-12 && (runs[1][0].1 - 1.0).abs() < 1e-12);
        let broken = c.polyline(&[
            (0.1, 0.1),
            (0.2, 0.2),
            (f64::NAN, 0.0),
            (0.3, 0.3),
            (0.4, 0.4),
        ]);
        assert_eq!(
            broken,
            [vec![(0.1, 0.1), (0.2, 0.2)], vec![(0.3, 0.3), (0.4, 0.4)]]
        );
    }

    #[test]
    fn viridis_hits_its_end_stops_and_clamps() {
        assert_eq!(palette::viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(palette::viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(palette::viridis(2.0), palette::viridis(1.0));
        assert_eq!(palette::viridis(f64::NAN), palette::viridis(0.0));
    }
}
