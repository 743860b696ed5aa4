//! Label placement for point charts: each label goes next to its point, at the first of a
//! fixed list of places (right, left, above, below, the diagonals, then the same further
//! out with a leader line) where its box overlaps no label placed before it, no point marker,
//! and stays inside the plot. A label with no free place is left out (the chart's legend still
//! names every point). Pure geometry in pixels, so it is tested without drawing.

/// A box in pixels, `x0 <= x1`, `y0 <= y1` (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    /// The square of half-side `r` around `(x, y)`.
    pub fn around(x: f64, y: f64, r: f64) -> Rect {
        Rect {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }

    /// Whether the two boxes share any area (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    /// Whether `self` lies inside `o`.
    pub fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }

    /// The point of `self` closest to `(x, y)`.
    pub fn nearest(&self, x: f64, y: f64) -> (f64, f64) {
        (x.clamp(self.x0, self.x1), y.clamp(self.y0, self.y1))
    }
}

/// Where a label went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Placed {
    /// The label's box.
    pub rect: Rect,
    /// Whether it is far enough from its point to need a line to it.
    pub leader: bool,
}

/// Rings of candidate places: the gap between the marker and the label grows by this much.
const RING_STEP: f64 = 12.0;
const RINGS: usize = 5;

/// Places labels of size `sizes[i]` (width, height) next to the points `anchors[i]`, whose
/// markers have half-size `radius`, inside `bounds`, avoiding `obstacles` and each other.
pub(crate) fn place(
    anchors: &[(f64, f64)],
    sizes: &[(f64, f64)],
    radius: f64,
    obstacles: &[Rect],
    bounds: Rect,
) -> Vec<Option<Placed>> {
    let mut taken: Vec<Rect> = obstacles.to_vec();
    taken.extend(anchors.iter().map(|&(x, y)| Rect::around(x, y, radius)));
    let mut out = Vec::with_capacity(anchors.len());
    for (&(x, y), &(w, h)) in anchors.iter().zip(sizes) {
        let mut found = None;
        'rings: for ring in 0..RINGS {
            let g = radius + 3.0 + ring as f64 * RING_STEP;
            let d = g * std::f64::consts::FRAC_1_SQRT_2;
            // (left edge, top edge) of each candidate, in order of preference.
            let candidates = [
                (x + g, y - h / 2.0),
                (x - g - w, y - h / 2.0),
                (x - w / 2.0, y - g - h),
                (x - w / 2.0, y + g),
                (x + d, y - d - h),
                (x - d - w, y - d - h),
                (x + d, y + d),
                (x - d - w, y + d),
            ];
            for (x0, y0) in candidates {
                let r = Rect {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                };
                if r.inside(&bounds) && !taken.iter().any(|t| t.overlaps(&r)) {
                    found = Some(Placed {
                        rect: r,
                        leader: ring > 0,
                    });
                    break 'rings;
                }
            }
        }
        if let Some(p) = found {
            taken.push(p.rect);
        }
        out.push(found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Rect = Rect {
        x0: 0.0,
        y0: 0.0,
        x1: 400.0,
        y1: 300.0,
    };

    #[test]
    fn a_lone_label_goes_to_the_right_of_its_point() {
        let p = place(&[(100.0, 100.0)], &[(50.0, 10.0)], 5.0, &[], BOUNDS);
        let r = p[0].unwrap();
        assert_eq!(
            r.rect,
            Rect {
                x0: 108.0,
                y0: 95.0,
                x1: 158.0,
                y1: 105.0
            }
        );
        assert!(!r.leader);
    }

    #[test]
    fn labels_of_coincident_points_never_overlap() {
        let anchors = vec![(200.0, 150.0); 8];
        let sizes = vec![(60.0, 12.0); 8];
        let placed = place(&anchors, &sizes, 5.0, &[], BOUNDS);
        let rects: Vec<Rect> = placed.iter().flatten().map(|p| p.rect).collect();
        assert_eq!(rects.len(), 8, "eight labels fit around one point");
        for (i, a) in rects.iter().enumerate() {
            assert!(a.inside(&BOUNDS));
            assert!(!a.overlaps(&Rect::around(200.0, 150.0, 5.0)));
            for b in &rects[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn a_label_at_the_right_edge_goes_left_and_one_with_no_room_is_left_out() {
        let p = place(&[(395.0, 150.0)], &[(50.0, 10.0)], 5.0, &[], BOUNDS);
        assert_eq!(p[0].unwrap().rect.x1, 387.0);
        let p = place(&[(10.0, 10.0)], &[(500.0, 10.0)], 5.0, &[], BOUNDS);
        assert_eq!(p, vec![None]);
    }
}
