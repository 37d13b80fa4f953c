//! The report's expiry chart: how many certificates expire in each coming month, as bars, with lines where
//! the CA certificate and the CRLs run out; inline SVG, drawn from numbers only (labels escaped).

use std::fmt::Write;

use super::escape;

/// One month's bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Month {
    /// Its label (`2027-03`).
    pub label: String,
    /// How many certificates expire in it.
    pub count: usize,
}

/// A line across the chart at a moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Where, in months from the start of the first month (0.0 to the number of months).
    pub at: f64,
    /// What runs out there.
    pub label: String,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

/// The chart as an `<svg>` element.
pub fn expiry_chart(months: &[Month], markers: &[Marker]) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-label=\"Certificates expiring per month\">"
    );
    let n = months.len().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n;
    let max = months.iter().map(|m| m.count).max().unwrap_or(0).max(1) as f64;
    let base = TOP + plot_h;
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#8c959f\"/>",
        WIDTH - RIGHT
    );
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
        LEFT - 6.0,
        TOP + 4.0,
        max as usize
    );
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{base}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">0</text>",
        LEFT - 6.0
    );
    for (i, month) in months.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let h = plot_h * month.count as f64 / max;
        let label = escape(&month.label);
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#54aeff\"><title>{label}: {} certificate(s)</title></rect>",
            x + slot * 0.15,
            base - h,
            slot * 0.7,
            h,
            month.count
        );
        if month.count > 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                x + slot / 2.0,
                base - h - 4.0,
                month.count
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-45 {:.1} {:.1})\" fill=\"#57606a\">{label}</text>",
            x + slot / 2.0,
            base + 14.0,
            x + slot / 2.0,
            base + 14.0
        );
    }
    for (i, marker) in markers.iter().enumerate() {
        let x = LEFT + slot * marker.at.clamp(0.0, n);
        let y = 12.0 + 13.0 * (i % 2) as f64;
        let label = escape(&marker.label);
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{base}\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"><title>{label}</title></line>",
            y + 3.0
        );
        let anchor = if x > WIDTH / 2.0 { "end" } else { "start" };
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{y}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#cf222e\">{label}</text>"
        );
    }
    svg.push_str("</svg>");
    svg
}
