//! Places the diagram on a grid: one column per kind, left to right, each node a fixed-size box,
//! every column centred on the tallest. Boxes never overlap by construction (one column per x
//! range, one row per y range); labels are cut to their box's width (a monospace font makes the
//! width of a label a function of its length), so no label runs into another.

use super::{Column, Diagram};
use std::collections::BTreeMap;

pub const MARGIN: i32 = 24;
/// Where the column headings sit, below the title and legend.
pub const HEADINGS_Y: i32 = 132;
pub const NODES_TOP: i32 = 148;
pub const NODE_H: i32 = 56;
pub const GAP_Y: i32 = 14;
pub const GAP_X: i32 = 56;
/// Inside a box: the change halo, then the box itself, then the text.
pub const HALO: i32 = 4;
pub const PAD: i32 = 12;
pub const LABEL_PX: i32 = 13;
pub const DETAIL_PX: i32 = 11;
/// A monospace glyph is 0.6 em wide (DejaVu Sans Mono 0.602, Menlo 0.602, Consolas 0.55):
/// widths are counted in tenths of a pixel.
const GLYPH_TENTHS_PER_PX: i32 = 6;
/// Room kept at the right of the label for the plan's +/~/− badge.
pub const BADGE_ROOM: i32 = 18;

pub fn width_of(column: Column) -> i32 {
    match column {
        Column::Clients => 124,
        Column::Api => 168,
        Column::Stages => 156,
        Column::Routes => 208,
        Column::Link => 168,
        Column::Nlb => 184,
        Column::Listeners => 124,
        Column::TargetGroups => 164,
        Column::Instances => 216,
    }
}

/// How many characters of a `px`-sized font fit in `width` pixels.
pub fn chars_fitting(width: i32, px: i32) -> usize {
    ((width * 10) / (px * GLYPH_TENTHS_PER_PX)).max(1) as usize
}

/// The text width of `chars` characters at `px`.
pub fn text_width(chars: usize, px: i32) -> i32 {
    (chars as i32 * px * GLYPH_TENTHS_PER_PX + 9) / 10
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    pub fn right(&self) -> i32 {
        self.x + self.w
    }

    pub fn middle(&self) -> i32 {
        self.y + self.h / 2
    }
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub width: i32,
    pub height: i32,
    /// Each column's x and width.
    pub columns: Vec<(Column, i32, i32)>,
    /// Each node's box, by id.
    pub boxes: BTreeMap<String, Rect>,
}

impl Layout {
    /// The widest label and detail line a node of `column` can show.
    pub fn label_chars(column: Column) -> usize {
        chars_fitting(width_of(column) - 2 * (HALO + PAD) - BADGE_ROOM, LABEL_PX)
    }

    pub fn detail_chars(column: Column) -> usize {
        chars_fitting(width_of(column) - 2 * (HALO + PAD), DETAIL_PX)
    }
}

pub fn layout(d: &Diagram) -> Layout {
    let columns: Vec<(Column, i32, i32)> = Column::ALL
        .iter()
        .scan(MARGIN, |x, c| {
            let at = *x;
            *x += width_of(*c) + GAP_X;
            Some((*c, at, width_of(*c)))
        })
        .collect();
    let tallest = Column::ALL
        .iter()
        .map(|c| d.column(*c).len() as i32)
        .max()
        .unwrap_or(1)
        .max(1);
    let span = |n: i32| n * NODE_H + (n - 1).max(0) * GAP_Y;
    let mut boxes = BTreeMap::new();
    for (c, x, w) in &columns {
        let nodes = d.column(*c);
        let top = NODES_TOP + (span(tallest) - span(nodes.len() as i32)) / 2;
        for (i, n) in nodes.iter().enumerate() {
            boxes.insert(
                n.id.clone(),
                Rect {
                    x: *x,
                    y: top + i as i32 * (NODE_H + GAP_Y),
                    w: *w,
                    h: NODE_H,
                },
            );
        }
    }
    let (last, x, w) = columns[columns.len() - 1];
    debug_assert_eq!(last, Column::Instances);
    Layout {
        width: x + w + MARGIN,
        height: NODES_TOP + span(tallest) + MARGIN + 24,
        columns,
        boxes,
    }
}
