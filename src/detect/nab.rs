//! The Numenta Anomaly Benchmark's score, for binary detections on a
//! labelled series. The detection bench scores kemala and its reference
//! detectors with it on real series.
//!
//! Implemented from its published description (Lavin & Ahmad, "Evaluating
//! Real-time Anomaly Detection Algorithms – the Numenta Anomaly Benchmark",
//! IEEE ICMLA 2015, and the NAB wiki), as NAB 1.x scores:
//!
//! * A series is a sequence of rows; labelled **windows** are inclusive row
//!   ranges. The first 15% of the rows (at most 750) are **probationary**: a
//!   detection there counts for nothing, and a window wholly inside is not
//!   scored.
//! * The **scaled sigmoid** of a relative position `y` is
//!   `σ(y) = 2 / (1 + e^{5y}) - 1`, and `-1` from `y = 3` on.
//! * In a window of width `w` ending at row `r`, a detection at row `i` sits
//!   at `y = -(r - i + 1) / w` (from `-1` at its first row to nearly `0` at
//!   its last) and is worth `A_TP · σ(y) / σ(-1)`: a detection at a window's
//!   first row is worth exactly `A_TP`. Only the best (the earliest)
//!   detection of a window counts; a window without one costs `A_FN`.
//! * A detection outside every window costs `A_FP · σ(y)` with
//!   `y = |i - r| / (w - 1)` measured from the end `r` of the closest
//!   preceding window of width `w`: nearly nothing right after a window, up
//!   to the full `A_FP` far from one; a detection before the first window
//!   costs the full `A_FP`.
//! * The **standard profile** weighs `A_TP = 1`, `A_FP = 0.11`, `A_FN = 1`.
//! * Scores are normalized over a corpus as
//!   `100 · (raw - null) / (perfect - null)`, where the null detector never
//!   detects (`-A_FN` per window) and the perfect one detects every window at
//!   its first row and nothing else (`+A_TP` per window).

/// The weights of an application profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

/// NAB's standard profile.
pub const STANDARD: Profile = Profile {
    tp: 1.0,
    fp: 0.11,
    fn_: 1.0,
};

/// NAB's scaled sigmoid of a relative position.
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y >= 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// The probationary rows at the start of a series of `rows` rows.
pub fn probation(rows: usize) -> usize {
    ((rows as f64 * 0.15).floor() as usize).min(750)
}

/// The score of one series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scored {
    /// The raw score: the sum of the windows' and the false detections' parts.
    pub raw: f64,
    /// What the null and the perfect detector score on the same windows.
    pub null: f64,
    pub perfect: f64,
    /// Per window: the row of its first (scored) detection, if any; `None`
    /// also for a window that is not scored (wholly probationary).
    pub first: Vec<Option<usize>>,
    /// Whether each window is scored.
    pub scored: Vec<bool>,
    /// Detections outside every window, after the probation.
    pub false_positives: usize,
}

/// Scores binary `detections` (row indices, any order, repeats ignored) on a
/// series of `rows` rows with `windows` (inclusive row ranges, sorted and
/// disjoint).
pub fn score(rows: usize, windows: &[(usize, usize)], detections: &[usize], p: &Profile) -> Scored {
    debug_assert!(windows.windows(2).all(|w| w[0].1 < w[1].0));
    debug_assert!(windows.iter().all(|&(a, b)| a <= b && b < rows.max(1)));
    let probation = probation(rows);
    let mut det: Vec<usize> = detections
        .iter()
        .copied()
        .filter(|&i| i >= probation && i < rows)
        .collect();
    det.sort_unstable();
    det.dedup();
    let max_tp = scaled_sigmoid(-1.0);
    let mut out = Scored {
        first: vec![None; windows.len()],
        scored: windows.iter().map(|&(_, end)| end >= probation).collect(),
        ..Scored::default()
    };
    for (k, &(start, end)) in windows.iter().enumerate() {
        if !out.scored[k] {
            continue;
        }
        out.null -= p.fn_;
        out.perfect += p.tp;
        let width = (end - start + 1) as f64;
        let first = det.iter().copied().find(|&i| i >= start && i <= end);
        out.first[k] = first;
        out.raw += match first {
            Some(i) => p.tp * scaled_sigmoid(-((end - i + 1) as f64) / width) / max_tp,
            None => -p.fn_,
        };
    }
    for &i in &det {
        if windows.iter().any(|&(start, end)| i >= start && i <= end) {
            continue;
        }
        out.false_positives += 1;
        let preceding = windows.iter().rev().find(|&&(_, end)| end < i);
        let y = match preceding {
            Some(&(start, end)) if end > start => (i - end) as f64 / (end - start) as f64,
            // A one-row window has no width to measure by: far away.
            Some(_) | None => 3.0,
        };
        out.raw += p.fp * scaled_sigmoid(y);
    }
    out
}

/// `100 · (raw - null) / (perfect - null)`, or 0 without any scored window.
pub fn normalized(raw: f64, null: f64, perfect: f64) -> f64 {
    if perfect > null {
        100.0 * (raw - null) / (perfect - null)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn the_scaled_sigmoid_at_its_landmarks() {
        close(scaled_sigmoid(-1.0), 0.986_614_298_151_430_5);
        close(scaled_sigmoid(-0.5), 0.848_283_639_957_513_1);
        close(scaled_sigmoid(0.0), 0.0);
        close(scaled_sigmoid(1.0), -0.986_614_298_151_430_5);
        close(scaled_sigmoid(3.0), -1.0);
        close(scaled_sigmoid(10.0), -1.0);
    }

    #[test]
    fn probation_is_fifteen_percent_up_to_750_rows() {
        assert_eq!(probation(1000), 150);
        assert_eq!(probation(999), 149);
        assert_eq!(probation(20_000), 750);
        assert_eq!(probation(0), 0);
    }

    /// 1000 rows (150 probationary), one window over rows 400..=499.
    fn one(detections: &[usize]) -> Scored {
        score(1000, &[(400, 499)], detections, &STANDARD)
    }

    #[test]
    fn a_detection_at_the_window_start_scores_one_and_later_ones_less() {
        close(one(&[400]).raw, 1.0);
        // y = -(499 - 449 + 1) / 100 = -0.51: σ = 0.855150…, over σ(-1).
        close(one(&[449]).raw, 0.866_749_073_958_496_7);
        close(one(&[499]).raw, 0.025_333_905_068_325_228);
        // Only the first detection of a window counts.
        close(one(&[449, 420, 499]).raw, one(&[420]).raw);
        assert_eq!(one(&[449, 420]).first, vec![Some(420)]);
    }

    #[test]
    fn misses_and_false_detections_cost_their_weights() {
        let none = one(&[]);
        close(none.raw, -1.0);
        close(none.null, -1.0);
        close(none.perfect, 1.0);
        // Before any window: the full A_FP.
        close(one(&[300, 400]).raw, 1.0 - 0.11);
        // 50 rows after a window of width 100: y = 50 / 99.
        close(one(&[400, 549]).raw, 1.0 - 0.093_696_518_008_489_6);
        // Far after it: the full A_FP.
        close(one(&[400, 800]).raw, 1.0 - 0.11);
        assert_eq!(one(&[300, 400, 549, 549]).false_positives, 2);
    }

    #[test]
    fn probationary_rows_count_for_nothing() {
        // A detection in the probation is ignored, even inside a window.
        close(one(&[100]).raw, -1.0);
        let s = score(1000, &[(10, 60), (400, 499)], &[20, 400], &STANDARD);
        assert_eq!(s.scored, vec![false, true]);
        close(s.raw, 1.0);
        close(s.null, -1.0);
        assert_eq!(s.first, vec![None, Some(400)]);
    }

    #[test]
    fn normalization_puts_null_at_zero_and_perfect_at_hundred() {
        close(normalized(-3.0, -3.0, 3.0), 0.0);
        close(normalized(3.0, -3.0, 3.0), 100.0);
        close(normalized(0.0, -3.0, 3.0), 50.0);
        close(normalized(1.0, 0.0, 0.0), 0.0);
    }
}
