//! Semi-discrete OT on the line, in closed form (METHODS §8, "exact oracles").
//!
//! With targets sorted, `y_(1) < … < y_(n)`, the upper envelope `max_i (x·y_i + h_i)` has
//! increasing slopes, so the cells are consecutive intervals `[b_{k−1}, b_k]` with
//! `μ([b_{k−1}, b_k]) = ν_(k)`: `b_k = F⁻¹(ν_(1) + … + ν_(k))` for the source's distribution
//! function `F`. Two neighbours are tied at their common boundary,
//! `b_k·y_(k) + h_(k) = b_k·y_(k+1) + h_(k+1)`, which gives `h` up to a constant:
//! `h_(k+1) = h_(k) − b_k·(y_(k+1) − y_(k))`. The transport cost is a sum of interval integrals:
//!
//! ```text
//! cube  [−½, ½]:  ∫_a^b (x − y)² dx = (b − a)·(A² + AB + B²)/3,    A = a − y, B = b − y
//! normal N(0,1):  ∫_a^b (x − y)² φ(x) dx = p·(1 + y²) + (a − 2y)·φ(a) − (b − 2y)·φ(b),  p = Φ(b) − Φ(a)
//! ```

use super::Source;
use ndarray::{Array1, ArrayView1};
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// The exact solution on the line.
#[derive(Debug, Clone)]
pub struct OneD {
    /// The potential (mean zero), in the input order of the targets.
    pub h: Array1<f64>,
    /// Cell masses `F(b_k) − F(b_{k−1})` (equal to `ν` up to rounding).
    pub masses: Array1<f64>,
    /// `∫ |x − T(x)|² dμ`.
    pub transport_cost: f64,
    /// The cell boundaries `b_0 < … < b_n` in sorted target order (`±½` or `±∞` at the ends).
    pub boundaries: Vec<f64>,
}

/// The standard normal density `φ(x)` (`0` at `±∞`).
pub fn normal_pdf(x: f64) -> f64 {
    if x.is_infinite() {
        0.0
    } else {
        (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
    }
}

/// The standard normal distribution function `Φ(x) = ½ erfc(−x/√2)` (relatively accurate in the
/// lower tail).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// The standard normal quantile `Φ⁻¹(p)` for `p ∈ (0, 1)` (`−∞` at 0, `+∞` at 1): Abramowitz &
/// Stegun 26.2.23 as the start (error < 4.5e-4), then Newton steps on `Φ(x) = p` in the lower tail
/// (`p ≤ ½`; the upper tail by symmetry) until the step is below `4ε|x|`.
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    if p > 0.5 {
        return -normal_quantile_lower(1.0 - p);
    }
    normal_quantile_lower(p)
}

/// `Φ⁻¹(p)` for `0 < p ≤ ½`.
fn normal_quantile_lower(p: f64) -> f64 {
    let t = (-2.0 * p.ln()).sqrt();
    let mut x = -(t
        - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    for _ in 0..50 {
        // Newton on ln Φ(x) = ln p: well scaled in the far tail, where Φ and φ underflow together.
        let (cdf, pdf) = (normal_cdf(x), normal_pdf(x));
        if cdf <= 0.0 || pdf <= 0.0 {
            break;
        }
        let step = (cdf.ln() - p.ln()) * cdf / pdf;
        x -= step;
        if step.abs() <= 4.0 * f64::EPSILON * x.abs().max(1e-300) {
            break;
        }
    }
    x
}

/// The exact 1-D solution for targets `y` (distinct) with masses `nu` (positive, summing to 1).
pub fn solve_1d(y: ArrayView1<f64>, nu: ArrayView1<f64>, source: Source) -> OneD {
    let n = y.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
    // Boundaries from the nearer end: the lower cumulative mass while it is at most ½, the upper
    // one beyond (so neither tail loses its digits to 1 − p).
    let mut lower = vec![0.0; n + 1];
    for k in 0..n {
        lower[k + 1] = lower[k] + nu[order[k]];
    }
    let mut upper = vec![0.0; n + 1];
    for k in (0..n).rev() {
        upper[k] = upper[k + 1] + nu[order[k]];
    }
    let quantile = |k: usize| -> f64 {
        if k == 0 {
            return match source {
                Source::Cube => -0.5,
                Source::Normal => f64::NEG_INFINITY,
            };
        }
        if k == n {
            return match source {
                Source::Cube => 0.5,
                Source::Normal => f64::INFINITY,
            };
        }
        match source {
            Source::Cube => {
                if lower[k] <= 0.5 {
                    lower[k] - 0.5
                } else {
                    0.5 - upper[k]
                }
            }
            Source::Normal => {
                if lower[k] <= 0.5 {
                    normal_quantile(lower[k])
                } else {
                    -normal_quantile(upper[k])
                }
            }
        }
    };
    let b: Vec<f64> = (0..=n).map(quantile).collect();
    let mut h_sorted = vec![0.0; n];
    for k in 1..n {
        h_sorted[k] = h_sorted[k - 1] - b[k] * (y[order[k]] - y[order[k - 1]]);
    }
    let mean = h_sorted.iter().sum::<f64>() / n as f64;
    let mut h = Array1::zeros(n);
    let mut masses = Array1::zeros(n);
    let mut cost = 0.0;
    for k in 0..n {
        let (i, a, bb, yk) = (order[k], b[k], b[k + 1], y[order[k]]);
        h[i] = h_sorted[k] - mean;
        match source {
            Source::Cube => {
                masses[i] = bb - a;
                let (p, q) = (a - yk, bb - yk);
                cost += (bb - a) * (p * p + p * q + q * q) / 3.0;
            }
            Source::Normal => {
                // Φ(b) − Φ(a) from the tail where both lie, to keep the digits.
                let p = if bb <= 0.0 {
                    normal_cdf(bb) - normal_cdf(a)
                } else if a >= 0.0 {
                    normal_cdf(-a) - normal_cdf(-bb)
                } else {
                    1.0 - normal_cdf(a) - normal_cdf(-bb)
                };
                masses[i] = p;
                let term = |x: f64| {
                    if x.is_infinite() {
                        0.0
                    } else {
                        (x - 2.0 * yk) * normal_pdf(x)
                    }
                };
                cost += p * (1.0 + yk * yk) + term(a) - term(bb);
            }
        }
    }
    OneD {
        h,
        masses,
        transport_cost: cost,
        boundaries: b,
    }
}
