//! The reconstruction-error field of an autoencoder on a sample (METHODS §9): per input
//! `e_i = |G(F(x_i)) − x_i|`, its summary, the measure of the exceptional set
//! `P(e ≥ ε)` against ε, and where the bad set lies.

use super::persistence::{PersistenceOptions, rips};
use crate::error::{Error, Result, check_finite};
use ndarray::{Array2, ArrayView2, Axis};

/// The quantile levels of [`ErrorSummary::quantiles`] (the CLI's `error_quantiles`).
pub const QUANTILE_LEVELS: [f64; 3] = [0.5, 0.9, 0.99];

/// `e_i = |x̂_i − x_i|` for every row (Euclidean norm of the difference).
///
/// Each norm is scaled by the row's largest `|x̂_ik − x_ik|` before squaring, so it is correct
/// to rounding for any finite input (no overflow above 1e154, no underflow below 1e-154).
/// Errors: different shapes (naming `xhat_name`), a non-finite entry (naming the array, 1-based
/// row and column).
pub fn errors(
    x: ArrayView2<f64>,
    xhat: ArrayView2<f64>,
    x_name: &str,
    xhat_name: &str,
) -> Result<Vec<f64>> {
    if x.nrows() != xhat.nrows() {
        return Err(Error::DimensionMismatch {
            what: format!("{xhat_name} (rows; {x_name} has {})", x.nrows()),
            got: xhat.nrows(),
            expected: x.nrows(),
        });
    }
    if x.ncols() != xhat.ncols() {
        return Err(Error::DimensionMismatch {
            what: format!("{xhat_name} (columns; {x_name} has {})", x.ncols()),
            got: xhat.ncols(),
            expected: x.ncols(),
        });
    }
    if x.nrows() == 0 {
        return Err(Error::Empty {
            what: x_name.to_string(),
        });
    }
    check_finite(x_name, x)?;
    check_finite(xhat_name, xhat)?;
    Ok(x.outer_iter()
        .zip(xhat.outer_iter())
        .map(|(a, b)| scaled_norm(a.iter().zip(b.iter()).map(|(a, b)| b - a)))
        .collect())
}

/// `|v|` with `v` scaled by `max |v_k|` first, so no square overflows or underflows; finite for
/// every finite input whose norm is representable (the norm itself can exceed `f64::MAX` only for
/// entries within a factor √d of it).
fn scaled_norm(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    m * v.map(|x| (x / m) * (x / m)).sum::<f64>().sqrt()
}

/// The summary of an error field (the CLI's `error_*` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSummary {
    /// Number of inputs `n`.
    pub n: usize,
    /// `max_i e_i`.
    pub max: f64,
    /// `(1/n) Σ_i e_i`.
    pub mean: f64,
    /// `√((1/n) Σ_i e_i²)` (scaled by the maximum, so it never overflows).
    pub rms: f64,
    /// The quantiles at [`QUANTILE_LEVELS`], by linear interpolation between order statistics
    /// (NumPy's default: position `(n − 1) q` in the sorted errors).
    pub quantiles: [f64; 3],
}

/// Summarises an error field (non-empty, finite, non-negative — as [`errors`] returns).
pub fn summarize(errors: &[f64]) -> ErrorSummary {
    let sorted = sorted(errors);
    let n = sorted.len();
    let max = sorted[n - 1];
    // Neumaier-compensated sums, so the mean is correct to rounding for any n.
    let mean = compensated_sum(sorted.iter().copied()) / n as f64;
    let rms = if max == 0.0 {
        0.0
    } else {
        max * (compensated_sum(sorted.iter().map(|e| (e / max) * (e / max))) / n as f64).sqrt()
    };
    ErrorSummary {
        n,
        max,
        mean,
        rms,
        quantiles: QUANTILE_LEVELS.map(|q| quantile_sorted(&sorted, q)),
    }
}

/// The quantile at level `q ∈ [0, 1]` of ascending `sorted` values: linear interpolation at the
/// position `h = (n − 1) q` (Hyndman & Fan type 7, NumPy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let f = h - lo as f64;
    if f == 0.0 {
        sorted[lo]
    } else {
        sorted[lo] + f * (sorted[hi] - sorted[lo])
    }
}

fn compensated_sum(v: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in v {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

fn sorted(errors: &[f64]) -> Vec<f64> {
    let mut s = errors.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// The measure of the exceptional set at ε on the sample: `#{i : e_i ≥ ε} / n`.
pub fn exceptional_fraction(errors: &[f64], eps: f64) -> f64 {
    errors.iter().filter(|&&e| e >= eps).count() as f64 / errors.len() as f64
}

/// `P(e ≥ ε)` as a function of ε on the sample: a non-increasing step function, right-continuous
/// from the left (`ε ↦ #{e_i ≥ ε}/n` jumps down just after each `e_i`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exceedance {
    sorted: Vec<f64>,
}

impl Exceedance {
    /// The curve of an error field.
    pub fn new(errors: &[f64]) -> Self {
        Exceedance {
            sorted: sorted(errors),
        }
    }

    /// `P(e ≥ ε)`, by binary search (equal to [`exceptional_fraction`]).
    pub fn at(&self, eps: f64) -> f64 {
        let below = self.sorted.partition_point(|&e| e < eps);
        (self.sorted.len() - below) as f64 / self.sorted.len() as f64
    }

    /// The curve's corners `(e_(k), (n − k)/n)` for the ascending errors `e_(0) ≤ … ≤ e_(n−1)`,
    /// thinned to at most `max_points` (always keeping the first and the last), for plotting.
    pub fn points(&self, max_points: usize) -> Vec<(f64, f64)> {
        let n = self.sorted.len();
        let stride = n.div_ceil(max_points.max(2) - 1).max(1);
        let mut ks: Vec<usize> = (0..n).step_by(stride).collect();
        if ks.last() != Some(&(n - 1)) {
            ks.push(n - 1);
        }
        ks.into_iter()
            .map(|k| (self.sorted[k], self.at(self.sorted[k])))
            .collect()
    }
}

/// Where the exceptional set `B_ε = {i : e_i ≥ ε}` lies.
#[derive(Debug, Clone, PartialEq)]
pub struct BadSet {
    /// The inputs of `B_ε`, ascending.
    pub indices: Vec<usize>,
    /// `|B_ε| / n`.
    pub fraction: f64,
    /// `Σ_{i∈B_ε} e_i² / Σ_i e_i²`: the share of the squared error the bad set carries (0 when
    /// every error is 0).
    pub error_share: f64,
    /// Connected pieces of `B_ε` when bad inputs closer than `link` are joined (single linkage:
    /// the H₀ classes of its Rips complex alive at `link`); 0 for an empty bad set.
    pub components: usize,
    /// The linking distance used.
    pub link: f64,
}

/// The bad set at ε of the error field `errors` on the sample `points` (rows aligned), its
/// pieces joined at distance `link` (e.g. a few times the sample's typical spacing).
///
/// The pieces are counted on at most `max_points` bad inputs (every `⌈|B|/max_points⌉`-th one
/// otherwise), since single linkage needs their pairwise distances.
pub fn bad_set(
    points: ArrayView2<f64>,
    errors: &[f64],
    eps: f64,
    link: f64,
    max_points: usize,
) -> Result<BadSet> {
    if points.nrows() != errors.len() {
        return Err(Error::DimensionMismatch {
            what: "error field (rows of the points)".into(),
            got: errors.len(),
            expected: points.nrows(),
        });
    }
    if !(link.is_finite() && link >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "link".into(),
            value: format!("{link:e}"),
            reason: "must be finite and non-negative".into(),
        });
    }
    let indices: Vec<usize> = (0..errors.len()).filter(|&i| errors[i] >= eps).collect();
    let emax = errors.iter().fold(0.0f64, |m, &e| m.max(e));
    let share = |ix: &mut dyn Iterator<Item = usize>| -> f64 {
        compensated_sum(ix.map(|i| (errors[i] / emax) * (errors[i] / emax)))
    };
    let error_share = if emax == 0.0 {
        0.0
    } else {
        share(&mut indices.iter().copied()) / share(&mut (0..errors.len()))
    };
    let components = if indices.is_empty() {
        0
    } else {
        let stride = indices.len().div_ceil(max_points.max(1));
        let kept: Vec<usize> = indices.iter().copied().step_by(stride).collect();
        let sub: Array2<f64> = points.select(Axis(0), &kept);
        let d = rips(
            sub.view(),
            &PersistenceOptions {
                max_dim: 0,
                threshold: Some(link),
            },
        )?;
        d.h0.iter().filter(|p| p.1.is_infinite()).count()
    };
    Ok(BadSet {
        fraction: indices.len() as f64 / errors.len() as f64,
        indices,
        error_share,
        components,
        link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn norms_are_exact_at_extreme_scales() {
        let x = array![[0.0, 0.0], [0.0, 0.0], [1e300, 0.0]];
        let xh = array![[3e200, 4e200], [3e-200, 4e-200], [1e300, 1.0]];
        let e = errors(x.view(), xh.view(), "X", "XHAT").unwrap();
        // 3e200 and 4e200 are rounded on input: the norm is 5e200 to a few ulps, not inf or 0.
        for (got, want) in e.iter().zip([5e200, 5e-200, 1.0]) {
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn quantiles_follow_numpy() {
        // np.quantile([3, 1, 4, 1, 5], [0.5, 0.9, 0.99]) = [3.0, 4.6, 4.96]
        let s = summarize(&[3.0, 1.0, 4.0, 1.0, 5.0]);
        assert_eq!(s.quantiles[0], 3.0);
        assert!((s.quantiles[1] - 4.6).abs() < 1e-15);
        assert!((s.quantiles[2] - 4.96).abs() < 1e-15);
        assert_eq!(s.max, 5.0);
        assert!((s.mean - 2.8).abs() < 1e-15);
        assert!((s.rms - (52.0f64 / 5.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn exceedance_is_the_fraction() {
        let e = [0.5, 0.1, 0.9, 0.5];
        let c = Exceedance::new(&e);
        for eps in [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0] {
            assert_eq!(c.at(eps), exceptional_fraction(&e, eps));
        }
        assert_eq!(c.at(0.5), 0.75);
        assert_eq!(c.points(10).first(), Some(&(0.1, 1.0)));
    }
}
