//! The affine layer `z = W x + b` on a batch of row vectors, its gradients, and the dense
//! products behind both (faer's GEMM, sequential, so results do not depend on the thread count).

use crate::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rand::Rng;

/// An affine map `ℝ^{in} → ℝ^{out}`, `z = W x + b`, applied to the rows of a batch:
/// `Z = X Wᵀ + 1 bᵀ`. `W` is stored row-major `out × in` (PyTorch's `nn.Linear` layout, so weight
/// files exchange with PyTorch state dicts without a transpose).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear<T> {
    /// Input width.
    pub fan_in: usize,
    /// Output width.
    pub fan_out: usize,
    /// `W`, row-major `fan_out × fan_in`.
    pub weight: Vec<T>,
    /// `b`, length `fan_out`.
    pub bias: Vec<T>,
}

/// Gradients of a loss with respect to one [`Linear`]'s `W` and `b`.
#[derive(Debug, Clone)]
pub(crate) struct LinearGrad<T> {
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

fn view<T: Real>(s: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_row_major_slice(s, rows, cols)
}

fn view_mut<T: Real>(s: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::from_row_major_slice_mut(s, rows, cols)
}

impl<T: Real> Linear<T> {
    /// PyTorch's default initialisation: every entry of `W` and `b` uniform on
    /// `[−1/√in, 1/√in]` (Kaiming-uniform with `a = √5`), drawn in row-major order from `rng`.
    pub fn init(fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let mut draw = |k: usize| -> Vec<T> {
            (0..k)
                .map(|_| T::of(rng.random_range(-bound..=bound)))
                .collect()
        };
        let weight = draw(fan_in * fan_out);
        let bias = draw(fan_out);
        Linear {
            fan_in,
            fan_out,
            weight,
            bias,
        }
    }

    /// `Z = X Wᵀ + 1 bᵀ` for the `n` rows of `x` (row-major `n × in`), into `z` (`n × out`).
    pub fn forward(&self, x: &[T], n: usize, z: &mut [T]) {
        for row in z.chunks_exact_mut(self.fan_out) {
            row.copy_from_slice(&self.bias);
        }
        matmul(
            view_mut(z, n, self.fan_out),
            Accum::Add,
            view(x, n, self.fan_in),
            view(&self.weight, self.fan_out, self.fan_in).transpose(),
            T::ONE,
            Par::Seq,
        );
    }

    /// Given `G = ∂L/∂Z` (`n × out`) and the layer's input `X`: `∂L/∂W = Gᵀ X`, `∂L/∂b = 1ᵀ G`
    /// into `grad`, and, when `dx` is given, `∂L/∂X = G W` added to it (`Accum::Add`, so a residual
    /// branch's gradient can be accumulated onto the skip path's).
    pub(crate) fn backward(
        &self,
        x: &[T],
        g: &[T],
        n: usize,
        grad: &mut LinearGrad<T>,
        dx: Option<&mut [T]>,
    ) {
        matmul(
            view_mut(&mut grad.weight, self.fan_out, self.fan_in),
            Accum::Replace,
            view(g, n, self.fan_out).transpose(),
            view(x, n, self.fan_in),
            T::ONE,
            Par::Seq,
        );
        grad.bias.iter_mut().for_each(|b| *b = T::ZERO);
        for row in g.chunks_exact(self.fan_out) {
            for (b, &v) in grad.bias.iter_mut().zip(row) {
                *b += v;
            }
        }
        if let Some(dx) = dx {
            matmul(
                view_mut(dx, n, self.fan_in),
                Accum::Add,
                view(g, n, self.fan_out),
                view(&self.weight, self.fan_out, self.fan_in),
                T::ONE,
                Par::Seq,
            );
        }
    }

    /// Zero gradients of this layer's shape.
    pub(crate) fn zero_grad(&self) -> LinearGrad<T> {
        LinearGrad {
            weight: vec![T::ZERO; self.weight.len()],
            bias: vec![T::ZERO; self.bias.len()],
        }
    }

    /// `|W|²` (the Frobenius norm squared; biases are not penalised).
    pub fn weight_norm_sq(&self) -> f64 {
        self.weight.iter().map(|w| w.to_f64() * w.to_f64()).sum()
    }

    /// The spectral norm `‖W‖₂ = σ_max(W)` (faer's SVD in f64), the Lipschitz constant of the
    /// map; rounded up by a relative `1e-12`, far above the SVD's backward error `O(ε·‖W‖₂)`, so
    /// it is an upper bound. `+∞` if the SVD fails.
    pub fn spectral_norm(&self) -> f64 {
        let w: Vec<f64> = self.weight.iter().map(|w| w.to_f64()).collect();
        MatRef::from_row_major_slice(&w, self.fan_out, self.fan_in)
            .singular_values()
            .map_or(f64::INFINITY, |s| {
                s.first().copied().unwrap_or(0.0) * (1.0 + 1e-12)
            })
    }
}
