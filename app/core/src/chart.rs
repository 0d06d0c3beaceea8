//! Traffic charts: a few series of points over a time window as plain SVG, drawn on the server
//! (readable without JavaScript, printable, with a title and a text alternative). A window
//! with no points says so instead of drawing an empty frame.

use crate::diagram::svg::esc;
use std::fmt::Write;

/// The drawing's size and the plot area inside it (SVG user units).
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 170.0;
pub const PLOT_LEFT: f64 = 56.0;
pub const PLOT_RIGHT: f64 = WIDTH - 110.0;
pub const PLOT_TOP: f64 = 12.0;
pub const PLOT_BOTTOM: f64 = HEIGHT - 24.0;

/// One line: its name in the legend, its colour, whether it is dashed (a second family of
/// lines beside the first), and (time in unix seconds, value) points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub colour: &'static str,
    pub dashed: bool,
    pub points: Vec<(i64, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub title: String,
    /// What the values are in, for the axis ("requests", "ms").
    pub unit: String,
    /// The window, unix seconds.
    pub from: i64,
    pub to: i64,
    pub series: Vec<Series>,
    /// What an empty window says ("No traffic in this window.").
    pub empty: &'static str,
}

/// A chart is a document of its own (a page shows it as an image, which the page's stylesheet
/// does not reach), so it sets its text and axis colour (`currentColor`) itself: the
/// stylesheet's `--text`, light and dark.
const TEXT_COLOURS: &str =
    "svg{color:#1b1f24}@media (prefers-color-scheme:dark){svg{color:#e6e8eb}}";

/// What a traffic chart's empty window says.
pub const NO_TRAFFIC: &str = "No traffic in this window.";

/// What a chart says while CloudWatch could not be read and nothing has been: not "no
/// traffic", which it does not know.
pub const NOT_READ: &str = "Not read: CloudWatch could not be read (see the note above).";

impl LineChart {
    /// The top of the value axis: the largest value rounded up to 1, 2 or 5 × a power of 10.
    pub fn top(&self) -> f64 {
        let max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(at, _)| (self.from..=self.to).contains(at))
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        if max <= 0.0 {
            return 1.0;
        }
        let power = 10f64.powf(max.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * power)
            .find(|top| *top >= max)
            .unwrap_or(10.0 * power)
    }

    /// Where a point is drawn.
    pub fn xy(&self, at: i64, value: f64) -> (f64, f64) {
        let span = (self.to - self.from).max(1) as f64;
        let x = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * ((at - self.from) as f64 / span);
        let y = PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * (value / self.top());
        (x, y)
    }

    fn has_points(&self) -> bool {
        self.series.iter().any(|s| !s.points.is_empty())
    }

    pub fn svg(&self) -> String {
        let mut out = String::new();
        let title = esc(&self.title);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" class="traffic-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"><title>{title}</title><style>{TEXT_COLOURS}</style>"#
        );
        if !self.has_points() {
            let _ = write!(
                out,
                r#"<rect x="{PLOT_LEFT}" y="{PLOT_TOP}" width="{}" height="{}" fill="none" stroke="currentColor" stroke-opacity="0.2"/><text x="{}" y="{}" text-anchor="middle" font-size="13" fill="currentColor" class="no-traffic">{}</text></svg>"#,
                PLOT_RIGHT - PLOT_LEFT,
                PLOT_BOTTOM - PLOT_TOP,
                (PLOT_LEFT + PLOT_RIGHT) / 2.0,
                (PLOT_TOP + PLOT_BOTTOM) / 2.0 + 4.0,
                esc(self.empty),
            );
            return out;
        }
        let top = self.top();
        for (i, value) in [0.0, top / 2.0, top].iter().enumerate() {
            let (_, y) = self.xy(self.from, *value);
            let _ = write!(
                out,
                r#"<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y:.1}" y2="{y:.1}" stroke="currentColor" stroke-opacity="{}"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="currentColor">{}</text>"#,
                if i == 0 { 0.5 } else { 0.15 },
                PLOT_LEFT - 6.0,
                y + 4.0,
                number(*value),
            );
        }
        let _ = write!(
            out,
            r#"<text x="{PLOT_LEFT}" y="{}" font-size="11" fill="currentColor" opacity="0.7">{}</text>"#,
            HEIGHT - 6.0,
            esc(&format!("{} UTC", self.clock(self.from))),
        );
        let _ = write!(
            out,
            r#"<text x="{PLOT_RIGHT}" y="{}" text-anchor="end" font-size="11" fill="currentColor" opacity="0.7">{}</text>"#,
            HEIGHT - 6.0,
            esc(&format!("{} UTC", self.clock(self.to))),
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="currentColor" opacity="0.7">{}</text>"#,
            (PLOT_LEFT + PLOT_RIGHT) / 2.0,
            HEIGHT - 6.0,
            esc(&self.unit),
        );
        for (i, s) in self.series.iter().enumerate() {
            let mut points: Vec<(i64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(at, v)| v.is_finite() && (self.from..=self.to).contains(at))
                .collect();
            points.sort_by_key(|p| p.0);
            let coords: Vec<String> = points
                .iter()
                .map(|(at, v)| {
                    let (x, y) = self.xy(*at, *v);
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let label = esc(&s.label);
            let dash = if s.dashed {
                r#" stroke-dasharray="4 3""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<polyline data-series="{label}" points="{}" fill="none" stroke="{}" stroke-width="1.5"{dash}><title>{label}</title></polyline>"#,
                coords.join(" "),
                s.colour,
            );
            let y = PLOT_TOP + 8.0 + 16.0 * i as f64;
            let _ = write!(
                out,
                r#"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="{}" stroke-width="3"{dash}/><text x="{}" y="{}" font-size="11" fill="currentColor">{label}</text>"#,
                PLOT_RIGHT + 10.0,
                PLOT_RIGHT + 24.0,
                s.colour,
                PLOT_RIGHT + 28.0,
                y + 4.0,
            );
        }
        out.push_str("</svg>");
        out
    }
}

impl LineChart {
    /// HH:MM of a unix time, UTC; with the date when the window is longer than a day.
    fn clock(&self, at: i64) -> String {
        if self.to - self.from > 86_400 {
            return crate::model::keys::format_time(at);
        }
        let day = at.rem_euclid(86_400);
        format!("{:02}:{:02}", day / 3600, day % 3600 / 60)
    }
}

/// An axis value: whole numbers as such, thousands as "k", millions "M", billions "G" (one
/// decimal under 10), small ones with a decimal.
fn number(v: f64) -> String {
    let short = |scaled: f64, suffix: &str| {
        if scaled < 10.0 && scaled != scaled.round() {
            format!("{scaled:.1}{suffix}")
        } else {
            format!("{}{suffix}", scaled.round())
        }
    };
    if v >= 1e9 {
        short(v / 1e9, "G")
    } else if v >= 1e6 {
        short(v / 1e6, "M")
    } else if v >= 10_000.0 {
        short(v / 1e3, "k")
    } else if v >= 10.0 || v == v.round() {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}

const SPARK_W: f64 = 120.0;
const SPARK_H: f64 = 24.0;

/// A sparkline's place holding `words` instead of a line, `words` its text alternative too.
fn sparkline_words(title: &str, words: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" class="sparkline" viewBox="0 0 {SPARK_W} {SPARK_H}" width="{SPARK_W}" height="{SPARK_H}"><title>{}: {words}</title><text x="0" y="16" font-size="11" fill="currentColor" opacity="0.6">{words}</text></svg>"#,
        esc(title)
    )
}

/// A sparkline's place for a gateway whose traffic CloudWatch has not answered for yet (the
/// gateway's health section says why).
pub fn sparkline_not_read(title: &str) -> String {
    sparkline_words(title, "not read")
}

/// A sparkline for a table cell: one series over [`from`, `to`], with its title (and the
/// total, for a text alternative); a window without points says so in words.
pub fn sparkline(title: &str, points: &[(i64, f64)], from: i64, to: i64) -> String {
    let mut inside: Vec<(i64, f64)> = points
        .iter()
        .copied()
        .filter(|(at, v)| v.is_finite() && (from..=to).contains(at))
        .collect();
    inside.sort_by_key(|p| p.0);
    let total: f64 = inside.iter().map(|p| p.1).sum();
    if inside.is_empty() {
        return sparkline_words(title, "no traffic");
    }
    let max = inside.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1.0);
    let span = (to - from).max(1) as f64;
    let coords: Vec<String> = inside
        .iter()
        .map(|(at, v)| {
            let x = SPARK_W * ((at - from) as f64 / span);
            let y = SPARK_H - 2.0 - (SPARK_H - 4.0) * (v / max);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" class="sparkline" viewBox="0 0 {SPARK_W} {SPARK_H}" width="{SPARK_W}" height="{SPARK_H}"><title>{}: {} in all</title><polyline points="{}" fill="none" stroke="#2754c5" stroke-width="1.5"/></svg>"##,
        esc(title),
        number(total),
        coords.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(i64, f64)>) -> LineChart {
        LineChart {
            title: "Requests <prod>".into(),
            unit: "requests per 5 minutes".into(),
            from: 0,
            to: 3600,
            series: vec![Series {
                label: "5xx".into(),
                colour: "#c62828",
                dashed: false,
                points,
            }],
            empty: NO_TRAFFIC,
        }
    }

    /// The polyline's points read back from the SVG, mapped back to (time, value).
    fn read_back(c: &LineChart, svg: &str) -> Vec<(i64, f64)> {
        let start = svg.find(r#"data-series="5xx" points=""#).unwrap() + 26;
        let end = start + svg[start..].find('"').unwrap();
        svg[start..end]
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|xy| {
                let (x, y) = xy.split_once(',').unwrap();
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                let at = (x - PLOT_LEFT) / (PLOT_RIGHT - PLOT_LEFT) * (c.to - c.from) as f64;
                let value = (PLOT_BOTTOM - y) / (PLOT_BOTTOM - PLOT_TOP) * c.top();
                (at.round() as i64, (value * 10.0).round() / 10.0)
            })
            .collect()
    }

    #[test]
    fn the_points_drawn_are_the_data_in_time_order() {
        let c = chart(vec![(600, 30.0), (0, 12.0), (300, 0.0)]);
        let svg = c.svg();
        assert_eq!(c.top(), 50.0);
        assert_eq!(
            read_back(&c, &svg),
            vec![(0, 12.0), (300, 0.0), (600, 30.0)]
        );
        assert!(
            svg.contains("<title>Requests &lt;prod&gt;</title>"),
            "{svg}"
        );
        assert!(
            svg.contains(">00:00 UTC<") && svg.contains(">01:00 UTC<"),
            "{svg}"
        );
    }

    #[test]
    fn points_outside_the_window_or_not_finite_are_left_out() {
        let c = chart(vec![(-300, 5.0), (0, 1.0), (900, f64::NAN), (7200, 9.0)]);
        assert_eq!(read_back(&c, &c.svg()), vec![(0, 1.0)]);
    }

    #[test]
    fn a_chart_is_a_document_of_its_own_with_its_size_and_colours() {
        let svg = chart(vec![(0, 1.0)]).svg();
        assert!(svg.starts_with("<svg xmlns="), "{svg}");
        assert!(svg.contains(r#"width="640" height="170""#), "{svg}");
        assert!(svg.contains("prefers-color-scheme:dark"), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
    }

    #[test]
    fn a_window_without_traffic_says_so() {
        let svg = chart(vec![]).svg();
        assert!(svg.contains("No traffic in this window."), "{svg}");
        assert!(!svg.contains("<polyline"), "{svg}");
    }

    #[test]
    fn the_axis_top_is_a_round_number_above_the_largest_value() {
        for (max, top) in [
            (0.0, 1.0),
            (0.3, 0.5),
            (7.0, 10.0),
            (120.0, 200.0),
            (4000.0, 5000.0),
        ] {
            assert_eq!(chart(vec![(0, max)]).top(), top, "{max}");
        }
    }

    #[test]
    fn a_window_longer_than_a_day_is_labelled_with_dates_and_large_values_shortened() {
        let mut c = chart(vec![(0, 2.5e9), (30 * 86_400, 1e9)]);
        c.to = 30 * 86_400;
        let svg = c.svg();
        assert!(
            svg.contains(">1970-01-01 00:00 UTC<") && svg.contains(">1970-01-31 00:00 UTC<"),
            "{svg}"
        );
        assert!(svg.contains(">5G<") && svg.contains(">2.5G<"), "{svg}");
    }

    #[test]
    fn a_sparkline_draws_the_points_in_order_and_names_the_total() {
        let svg = sparkline(
            "Requests <24 h>",
            &[(3600, 10.0), (0, 30.0), (9999, 5.0)],
            0,
            7200,
        );
        assert!(
            svg.contains("<title>Requests &lt;24 h&gt;: 40 in all</title>"),
            "{svg}"
        );
        assert!(svg.contains(r#"points="0.0,2.0 60.0,15.3""#), "{svg}");
        let empty = sparkline("Requests", &[], 0, 7200);
        assert!(
            empty.contains("no traffic") && !empty.contains("polyline"),
            "{empty}"
        );
    }
}
