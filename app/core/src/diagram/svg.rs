//! Writes the laid-out diagram as one self-contained SVG document: colours as attributes (no
//! stylesheet, so the download and print look like the page), a `<title>` on every node for the
//! hover text, and `aria-label`s and focus stops for keyboard and screen-reader users. Colour is
//! never the only signal: each node also says its health in words, and the plan's changes carry
//! a +, ~ or − badge (removals are dashed as well).

use super::layout::{self, layout, Layout, Rect};
use super::{Change, Column, Diagram, Node};
use crate::health::Level;
use std::fmt::Write;

const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const INK: &str = "#1f2328";
const MUTED: &str = "#4b5563";
const EDGE: &str = "#8c959f";

/// (fill, stroke) for a health level; None is "AWS says nothing about this".
fn level_colours(level: Option<Level>) -> (&'static str, &'static str) {
    match level {
        Some(Level::Healthy) => ("#e6f4ea", "#1e7e34"),
        Some(Level::Pending) => ("#e8f0fe", "#1a5fb4"),
        Some(Level::Degraded) => ("#fff4e0", "#a05a00"),
        Some(Level::Unhealthy) => ("#fdecea", "#b3261e"),
        Some(Level::Unknown) | None => ("#f4f5f7", "#6b7280"),
    }
}

fn change_colour(c: Change) -> &'static str {
    match c {
        Change::Added => "#188038",
        Change::Changed => "#d97706",
        Change::Removed => "#c5221f",
    }
}

fn change_sign(c: Change) -> &'static str {
    match c {
        Change::Added => "+",
        Change::Changed => "~",
        Change::Removed => "−",
    }
}

fn marker_id(c: Option<Change>) -> &'static str {
    match c {
        None => "pd-arrow",
        Some(Change::Added) => "pd-arrow-added",
        Some(Change::Changed) => "pd-arrow-changed",
        Some(Change::Removed) => "pd-arrow-removed",
    }
}

/// XML-escaped text (labels come from users).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A stable, valid XML id from a node id.
fn dom_id(id: &str) -> String {
    let mut out = String::from("pd-n-");
    for ch in id.chars() {
        if ch.is_ascii_alphanumeric() || ch == '-' {
            out.push(ch);
        } else {
            let _ = write!(out, "_{:x}_", ch as u32);
        }
    }
    out
}

/// The sentence a screen reader says for a node.
pub fn spoken(n: &Node) -> String {
    let mut s = format!("{}: {}", n.column.heading(), n.label);
    for line in &n.about {
        s.push_str(". ");
        s.push_str(line);
    }
    if let Some(c) = n.change {
        s.push_str(". ");
        s.push_str(c.words());
    }
    s
}

pub fn render(d: &Diagram) -> String {
    let l = layout(d);
    let mut s = String::with_capacity(16 * 1024);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="group" aria-labelledby="pd-title pd-desc" font-family="{FONT}">"#,
        w = l.width,
        h = l.height
    );
    let _ = write!(
        s,
        r#"<title id="pd-title">Topology of gateway {}</title><desc id="pd-desc">{}. {}</desc>"#,
        esc(&d.gateway),
        esc(&d.subtitle),
        esc(&summary(d))
    );
    defs(&mut s);
    let _ = write!(
        s,
        r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
        l.width, l.height
    );
    let _ = write!(
        s,
        r#"<text x="{m}" y="34" font-size="18" font-weight="700" fill="{INK}">{}</text><text x="{m}" y="56" font-size="12" fill="{MUTED}">{}</text>"#,
        esc(&format!("Gateway {}", d.gateway)),
        esc(&d.subtitle),
        m = layout::MARGIN
    );
    legend(&mut s);
    for (c, x, _) in &l.columns {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{}" font-size="12" font-weight="700" fill="{MUTED}">{}</text>"#,
            layout::HEADINGS_Y,
            esc(c.heading())
        );
        if d.column(*c).is_empty() {
            let _ = write!(
                s,
                r#"<text x="{x}" y="{}" font-size="11" fill="{MUTED}">none yet</text>"#,
                layout::NODES_TOP + 20
            );
        }
    }
    edges(&mut s, d, &l);
    for n in &d.nodes {
        if let Some(r) = l.boxes.get(&n.id) {
            node(&mut s, n, *r);
        }
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="11" fill="{MUTED}">Monthly costs are estimates; hover or focus a box for its health reason and cost formula.</text>"#,
        layout::MARGIN,
        l.height - layout::MARGIN + 8
    );
    s.push_str("</svg>");
    s
}

/// "3 stages, 3 routes, 3 ports, 1 instance."
fn summary(d: &Diagram) -> String {
    let count = |c: Column, one: &str, many: &str| {
        let n = d.column(c).len();
        format!("{n} {}", if n == 1 { one } else { many })
    };
    format!(
        "{}, {}, {}, {}",
        count(Column::Stages, "stage", "stages"),
        count(Column::Routes, "route", "routes"),
        count(Column::TargetGroups, "backend port", "backend ports"),
        count(Column::Instances, "instance", "instances"),
    )
}

fn defs(s: &mut String) {
    s.push_str("<defs>");
    for c in [
        None,
        Some(Change::Added),
        Some(Change::Changed),
        Some(Change::Removed),
    ] {
        let colour = c.map(change_colour).unwrap_or(EDGE);
        let _ = write!(
            s,
            r#"<marker id="{}" viewBox="0 0 8 8" refX="8" refY="4" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="{colour}"/></marker>"#,
            marker_id(c)
        );
    }
    s.push_str("</defs>");
}

fn legend(s: &mut String) {
    let y = 80;
    let mut x = layout::MARGIN;
    let _ = write!(
        s,
        r#"<g aria-hidden="true" font-size="11" fill="{INK}"><text x="{x}" y="{}" fill="{MUTED}">Health</text>"#,
        y + 12
    );
    x += 56;
    for level in [
        Some(Level::Healthy),
        Some(Level::Pending),
        Some(Level::Degraded),
        Some(Level::Unhealthy),
        None,
    ] {
        let word = level.map_or("none reported", |l| l.words().0);
        let (fill, stroke) = level_colours(level);
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{y}" width="16" height="16" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/><text x="{}" y="{}">{word}</text>"#,
            x + 22,
            y + 12
        );
        x += 22 + layout::text_width(word.len(), 11) + 18;
    }
    x += 24;
    let _ = write!(
        s,
        r#"<text x="{x}" y="{}" fill="{MUTED}">Plan</text>"#,
        y + 12
    );
    x += 44;
    for c in [Change::Added, Change::Changed, Change::Removed] {
        let colour = change_colour(c);
        let dash = if c == Change::Removed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let word = match c {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        };
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{y}" width="16" height="16" rx="3" fill="#ffffff" stroke="{colour}" stroke-width="2.5"{dash}/><text x="{}" y="{}" font-weight="700" fill="{colour}">{}</text><text x="{}" y="{}">{word}</text>"##,
            x + 4,
            y + 12,
            change_sign(c),
            x + 22,
            y + 12
        );
        x += 22 + layout::text_width(word.len(), 11) + 18;
    }
    s.push_str("</g>");
}

/// Between neighbouring columns the edges run right, down the gap's middle, then right (a bus:
/// every stage to every route reads as one trunk); from target groups to instances they curve
/// straight to their instance, so each registration can be followed.
fn edges(s: &mut String, d: &Diagram, l: &Layout) {
    s.push_str(r#"<g fill="none" aria-hidden="true">"#);
    // Unchanged first, so the plan's edges are drawn on top.
    let mut ordered: Vec<_> = d.edges.iter().collect();
    ordered.sort_by_key(|e| e.change.is_some());
    for e in ordered {
        let (Some(a), Some(b)) = (l.boxes.get(&e.from), l.boxes.get(&e.to)) else {
            continue;
        };
        let (x1, y1, x2, y2) = (
            a.right() - layout::HALO,
            a.middle(),
            b.x + layout::HALO,
            b.middle(),
        );
        let from_column = d.node(&e.from).map(|n| n.column);
        let path = if from_column == Some(Column::TargetGroups) || y1 == y2 {
            let mx = (x1 + x2) / 2;
            format!("M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}")
        } else {
            let mx = x1 + (x2 - x1) / 2;
            format!("M{x1},{y1} H{mx} V{y2} H{x2}")
        };
        let (colour, width, dash) = match e.change {
            None => (EDGE, "1.2", ""),
            Some(c @ Change::Removed) => (change_colour(c), "2", r#" stroke-dasharray="6 4""#),
            Some(c) => (change_colour(c), "2", ""),
        };
        let _ = write!(
            s,
            r#"<path d="{path}" stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#{})"/>"#,
            marker_id(e.change)
        );
    }
    s.push_str("</g>");
}

fn node(s: &mut String, n: &Node, r: Rect) {
    let (fill, stroke) = level_colours(n.level);
    let title = {
        let mut lines = vec![format!("{} {}", n.column.heading(), n.label)];
        lines.extend(n.about.iter().cloned());
        if let Some(c) = n.change {
            lines.push(format!("Plan: {}", c.words()));
        }
        lines.join("\n")
    };
    let _ = write!(
        s,
        r#"<g class="node" id="{}" tabindex="0" role="img" aria-label="{}"><title>{}</title>"#,
        dom_id(&n.id),
        esc(&spoken(n)),
        esc(&title)
    );
    let h = layout::HALO;
    if let Some(c) = n.change {
        let dash = if c == Change::Removed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r##"<rect class="halo" x="{}" y="{}" width="{}" height="{}" rx="9" fill="none" stroke="{}" stroke-width="2.5"{dash}/>"##,
            r.x + 1,
            r.y + 1,
            r.w - 2,
            r.h - 2,
            change_colour(c)
        );
    }
    let (bx, by, bw, bh) = (r.x + h, r.y + h, r.w - 2 * h, r.h - 2 * h);
    let dash = if n.change == Some(Change::Removed) {
        r#" stroke-dasharray="4 3""#
    } else {
        ""
    };
    let _ = write!(
        s,
        r#"<rect class="box" x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/><rect x="{bx}" y="{by}" width="5" height="{bh}" rx="2" fill="{stroke}"/>"#
    );
    let tx = bx + layout::PAD;
    let _ = write!(
        s,
        r#"<text x="{tx}" y="{}" font-size="{}" font-weight="700" fill="{INK}">{}</text>"#,
        by + 17,
        layout::LABEL_PX,
        esc(&fit(&n.label, Layout::label_chars(n.column)))
    );
    for (i, line) in n
        .details
        .iter()
        .filter(|l| !l.is_empty())
        .take(2)
        .enumerate()
    {
        let _ = write!(
            s,
            r#"<text x="{tx}" y="{}" font-size="{}" fill="{MUTED}">{}</text>"#,
            by + 32 + 13 * i as i32,
            layout::DETAIL_PX,
            esc(&fit(line, Layout::detail_chars(n.column)))
        );
    }
    if let Some(c) = n.change {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="15" font-weight="700" text-anchor="middle" fill="{}">{}</text>"##,
            bx + bw - 11,
            by + 17,
            change_colour(c),
            change_sign(c)
        );
    }
    s.push_str("</g>");
}
