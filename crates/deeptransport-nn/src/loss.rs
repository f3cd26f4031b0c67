//! Training losses and their gradients with respect to the network's output.

use crate::Real;
use ndarray::ArrayView2;

/// What a network is trained to output.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// Regression to target rows `y_i` (`n × d_L`) under the mean squared error
    /// `L = (1/n) Σ_i |f(x_i) − y_i|²` — the DAE objective (2) when `y_i` is the clean point.
    Values(ArrayView2<'a, f64>),
    /// Classification into `d_L` classes (`c_i < d_L`) under the softmax cross-entropy
    /// `L = (1/n) Σ_i −log softmax(f(x_i))_{c_i}`.
    Classes(&'a [usize]),
}

impl Targets<'_> {
    /// The number of targets.
    pub fn len(&self) -> usize {
        match self {
            Targets::Values(y) => y.nrows(),
            Targets::Classes(c) => c.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The mean loss over a batch of `n` outputs `o` (row-major `n × w`) and writes `∂L/∂o` into `g`.
/// `y` holds the batch's targets: values (`n × w`) or class indices (as `T`, `n × 1`).
pub(crate) fn loss_and_grad<T: Real>(
    classes: bool,
    o: &[T],
    y: &[T],
    n: usize,
    w: usize,
    g: &mut [T],
) -> f64 {
    let inv_n = 1.0 / n as f64;
    let mut total = 0.0;
    if !classes {
        let scale = T::of(2.0 * inv_n);
        for ((g, &o), &y) in g.iter_mut().zip(o).zip(y) {
            let r = o - y;
            total += r.to_f64() * r.to_f64();
            *g = scale * r;
        }
    } else {
        for ((g, o), &c) in g.chunks_exact_mut(w).zip(o.chunks_exact(w)).zip(y) {
            // log-softmax with the max subtracted, so no logit overflows the exponential.
            let c = c.to_f64() as usize;
            let m = o.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.to_f64()));
            let sum: f64 = o.iter().map(|v| (v.to_f64() - m).exp()).sum();
            let log_z = m + sum.ln();
            total += log_z - o[c].to_f64();
            for (k, (g, &v)) in g.iter_mut().zip(o).enumerate() {
                let p = (v.to_f64() - log_z).exp();
                *g = T::of((p - if k == c { 1.0 } else { 0.0 }) * inv_n);
            }
        }
    }
    total * inv_n
}
