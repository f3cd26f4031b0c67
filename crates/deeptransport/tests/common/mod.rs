//! What the kernel tests share: the reference log-weight by direct differences.

use deeptransport::kernel::PairKernel;

/// `ℓ(y, x)` of `kernel` from direct differences `y_k − x_k` of the raw coordinates, in plain
/// scalar `f64`: the reference the kernel's log-weights are checked against.
pub fn log_weight(kernel: PairKernel, y: &[f64], x: &[f64]) -> f64 {
    let z = y.iter().zip(x).map(|(a, b)| a - b);
    match kernel {
        PairKernel::Gaussian { inv_two_t } => -z.map(|v| v * v).sum::<f64>() * inv_two_t,
        PairKernel::Laplace { inv_b } => -z.map(f64::abs).sum::<f64>() * inv_b,
        PairKernel::Cube { half_width } => {
            if z.map(f64::abs).fold(0.0, f64::max) <= half_width {
                0.0
            } else {
                f64::NEG_INFINITY
            }
        }
        PairKernel::Student {
            half_nu_plus_d,
            inv_nu_s2,
        } => -half_nu_plus_d * (z.map(|v| v * v).sum::<f64>() * inv_nu_s2).ln_1p(),
    }
}
