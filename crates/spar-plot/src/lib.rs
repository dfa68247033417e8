//! Dependency-free SVG line charts for training curves and experiment results.
//!
//! spar writes its plots (reward and accuracy curves, regret tables, experiment sweeps) as
//! standalone SVG files, so they open in any browser and sit in Markdown files. The chart is
//! deliberately plain: axes with rounded ticks, one coloured polyline per series, a legend.
//! Non-finite points are skipped, so a series with a gap still draws.
//!
//! ```
//! use spar_plot::LinePlot;
//!
//! let svg = LinePlot::new("held-out accuracy")
//!     .x_label("step")
//!     .y_label("accuracy")
//!     .series("GRPO", &[(0.0, 0.1), (100.0, 0.4), (200.0, 0.7)])
//!     .series("Co-Reward", &[(0.0, 0.1), (100.0, 0.3), (200.0, 0.6)])
//!     .to_svg();
//! assert!(svg.starts_with("<svg"));
//! assert_eq!(svg.matches("<polyline").count(), 2);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Series colours, chosen to stay distinguishable for common colour-vision deficiencies.
const PALETTE: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442",
];

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;

/// One named series of `(x, y)` points, drawn as a polyline in the order given.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// The points; non-finite ones (and non-positive x on a log axis) are skipped.
    pub points: Vec<(f64, f64)>,
    /// Draw each point as a dot, unjoined (a scatter), instead of a polyline.
    pub markers: bool,
    /// The series' colour (an SVG colour, e.g. `#d55e00`); `None`: the palette's next.
    pub colour: Option<String>,
}

/// A line chart with a title, axis labels and any number of series.
#[derive(Clone, Debug, Default)]
pub struct LinePlot {
    title: String,
    x_label: String,
    y_label: String,
    log_x: bool,
    log_y: bool,
    series: Vec<Series>,
}

impl LinePlot {
    /// A new, empty chart with this title.
    pub fn new(title: &str) -> Self {
        LinePlot {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the label under the x axis.
    pub fn x_label(mut self, label: &str) -> Self {
        self.x_label = label.into();
        self
    }

    /// Sets the label beside the y axis.
    pub fn y_label(mut self, label: &str) -> Self {
        self.y_label = label.into();
        self
    }

    /// Draws the x axis on a base-10 logarithmic scale (points with x ≤ 0 are skipped).
    pub fn log_x(mut self, on: bool) -> Self {
        self.log_x = on;
        self
    }

    /// Draws the y axis on a base-10 logarithmic scale (points with y ≤ 0 are skipped).
    pub fn log_y(mut self, on: bool) -> Self {
        self.log_y = on;
        self
    }

    /// Adds a series.
    pub fn series(mut self, name: &str, points: &[(f64, f64)]) -> Self {
        self.push_series(name, points);
        self
    }

    /// Adds a series in place (for building charts in a loop).
    pub fn push_series(&mut self, name: &str, points: &[(f64, f64)]) {
        self.series.push(Series {
            name: name.into(),
            points: points.to_vec(),
            markers: false,
            colour: None,
        });
    }

    /// Sets the colour of the series added last (any SVG colour: `#009e73`, `black`), for
    /// charts whose colours carry meaning (green for a win, red for a collapse). Characters
    /// outside `[#A-Za-z0-9]` are dropped.
    ///
    /// ```
    /// let svg = spar_plot::LinePlot::new("outcomes")
    ///     .points("lifts", &[(0.1, 0.2)])
    ///     .colour("#009e73")
    ///     .to_svg();
    /// assert!(svg.contains("fill=\"#009e73\""));
    /// ```
    pub fn colour(mut self, colour: &str) -> Self {
        if let Some(s) = self.series.last_mut() {
            s.colour = Some(
                colour
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '#')
                    .collect(),
            );
        }
        self
    }

    /// Adds a series drawn as unjoined dots (a scatter plot, e.g. outcomes over a plane).
    ///
    /// ```
    /// let svg = spar_plot::LinePlot::new("outcomes")
    ///     .points("lifts", &[(0.1, 0.2), (0.5, 0.1)])
    ///     .points("collapses", &[(0.3, 0.0)])
    ///     .to_svg();
    /// assert_eq!(svg.matches("<circle").count(), 3 + 2); // the points and two legend dots
    /// assert_eq!(svg.matches("<polyline").count(), 0);
    /// ```
    pub fn points(mut self, name: &str, points: &[(f64, f64)]) -> Self {
        self.push_series(name, points);
        if let Some(s) = self.series.last_mut() {
            s.markers = true;
        }
        self
    }

    fn visible(&self, p: (f64, f64)) -> Option<(f64, f64)> {
        let (x, y) = p;
        if !x.is_finite() || !y.is_finite() || (self.log_x && x <= 0.0) || (self.log_y && y <= 0.0)
        {
            return None;
        }
        let tx = if self.log_x { libm::log10(x) } else { x };
        let ty = if self.log_y { libm::log10(y) } else { y };
        Some((tx, ty))
    }

    /// The data range on both axes in transformed (possibly log) units, widened when flat.
    fn bounds(&self) -> ((f64, f64), (f64, f64)) {
        let mut xr = (f64::INFINITY, f64::NEG_INFINITY);
        let mut yr = (f64::INFINITY, f64::NEG_INFINITY);
        for s in &self.series {
            for &p in &s.points {
                if let Some((x, y)) = self.visible(p) {
                    xr = (xr.0.min(x), xr.1.max(x));
                    yr = (yr.0.min(y), yr.1.max(y));
                }
            }
        }
        let widen = |r: (f64, f64)| {
            if !r.0.is_finite() {
                (0.0, 1.0)
            } else if r.1 - r.0 < 1e-12 {
                (r.0 - 0.5, r.1 + 0.5)
            } else {
                r
            }
        };
        (widen(xr), widen(yr))
    }

    /// Renders the chart as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let ((x0, x1), (y0, y1)) = self.bounds();
        let (xt, x0, x1) = ticks(x0, x1, self.log_x);
        let (yt, y0, y1) = ticks(y0, y1, self.log_y);
        let pw = WIDTH - LEFT - RIGHT;
        let ph = HEIGHT - TOP - BOTTOM;
        let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
        let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;

        let mut out = String::new();
        // Writing into a String cannot fail; the results are ignored on purpose.
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        );
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
            LEFT + pw / 2.0,
            escape(&self.title)
        );
        // Grid and tick labels.
        for &t in &xt {
            let x = sx(t);
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#e5e5e5\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                TOP + ph,
                TOP + ph + 16.0,
                label(t, self.log_x)
            );
        }
        for &t in &yt {
            let y = sy(t);
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LEFT + pw,
                LEFT - 6.0,
                y + 4.0,
                label(t, self.log_y)
            );
        }
        let _ = writeln!(
            out,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>"
        );
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            LEFT + pw / 2.0,
            HEIGHT - 12.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            out,
            "<text x=\"16\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">{}</text>",
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            escape(&self.y_label)
        );
        // Series and legend.
        for (i, s) in self.series.iter().enumerate() {
            let colour = s.colour.as_deref().unwrap_or(PALETTE[i % PALETTE.len()]);
            let mut pts = String::new();
            for &p in &s.points {
                if let Some((x, y)) = self.visible(p) {
                    if s.markers {
                        let _ = writeln!(
                            out,
                            "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"4\" fill=\"{colour}\" fill-opacity=\"0.7\"/>",
                            sx(x),
                            sy(y)
                        );
                    } else {
                        let _ = write!(pts, "{:.2},{:.2} ", sx(x), sy(y));
                    }
                }
            }
            if !s.markers {
                let _ = writeln!(
                    out,
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                    pts.trim_end()
                );
            }
            let ly = TOP + 10.0 + 20.0 * i as f64;
            let lx = LEFT + pw + 12.0;
            if s.markers {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{ly}\" r=\"5\" fill=\"{colour}\"/>\
                     <text x=\"{}\" y=\"{}\">{}</text>",
                    lx + 9.0,
                    lx + 24.0,
                    ly + 4.0,
                    escape(&s.name)
                );
                continue;
            }
            let _ = writeln!(
                out,
                "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
                 <text x=\"{}\" y=\"{}\">{}</text>",
                lx + 18.0,
                lx + 24.0,
                ly + 4.0,
                escape(&s.name)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

/// Tick positions covering `[lo, hi]` at a 1-2-5 step (whole decades on a log axis), and the
/// axis range widened to the outer ticks.
fn ticks(lo: f64, hi: f64, log: bool) -> (Vec<f64>, f64, f64) {
    if log {
        let a = libm::floor(lo);
        let b = libm::ceil(hi).max(a + 1.0);
        let mut t = Vec::new();
        let mut v = a;
        while v <= b + 1e-9 {
            t.push(v);
            v += 1.0;
        }
        return (t, a, b);
    }
    let raw = (hi - lo) / 6.0;
    let mag = libm::pow(10.0, libm::floor(libm::log10(raw)));
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let a = libm::floor(lo / step) * step;
    let b = libm::ceil(hi / step) * step;
    let mut t = Vec::new();
    let mut k = 0.0;
    while a + k * step <= b + step * 1e-9 {
        t.push(a + k * step);
        k += 1.0;
    }
    (t, a, b)
}

fn label(t: f64, log: bool) -> String {
    let v = if log { libm::pow(10.0, t) } else { t };
    let mut s = String::new();
    let a = v.abs();
    let _ = if a != 0.0 && !(1e-3..1e6).contains(&a) {
        write!(s, "{v:.0e}")
    } else if a >= 100.0 || v == libm::round(v) {
        write!(s, "{v:.0}")
    } else if a >= 1.0 {
        write!(s, "{v:.1}")
    } else {
        write!(s, "{v:.3}")
    };
    if s.contains('.') && !s.contains('e') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_map_inside_the_plot_area() {
        let svg = LinePlot::new("t")
            .series("a", &[(0.0, 0.0), (10.0, 1.0)])
            .to_svg();
        let start = svg.find("points=\"").unwrap() + 8;
        let end = start + svg[start..].find('"').unwrap();
        for pair in svg[start..end].split(' ') {
            let (x, y) = pair.split_once(',').unwrap();
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((LEFT..=WIDTH - RIGHT).contains(&x), "x {x}");
            assert!((TOP..=HEIGHT - BOTTOM).contains(&y), "y {y}");
        }
    }

    #[test]
    fn non_finite_and_log_invalid_points_are_skipped() {
        let svg = LinePlot::new("t")
            .log_x(true)
            .series(
                "a",
                &[(0.0, 1.0), (f64::NAN, 2.0), (1.0, 1.0), (100.0, 3.0)],
            )
            .to_svg();
        let start = svg.find("points=\"").unwrap() + 8;
        let end = start + svg[start..].find('"').unwrap();
        assert_eq!(svg[start..end].split(' ').count(), 2);
    }

    #[test]
    fn ticks_cover_the_range_with_round_steps() {
        let (t, a, b) = ticks(0.13, 0.87, false);
        assert!(a <= 0.13 && b >= 0.87);
        assert!(t.len() >= 4 && t.len() <= 12, "{t:?}");
        let step = t[1] - t[0];
        assert!((step - 0.1).abs() < 1e-12 || (step - 0.2).abs() < 1e-12);
    }

    #[test]
    fn text_is_escaped() {
        let svg = LinePlot::new("a<b & c").to_svg();
        assert!(svg.contains("a&lt;b &amp; c"));
    }
}
