//! Pointwise nonlinearities `σ` and their derivatives `σ'`.

use crate::Real;

/// A pointwise nonlinearity applied after a linear map, `a = σ(z)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `σ(z) = z`.
    Identity,
    /// `σ(z) = max(z, 0)`; `σ'(0) = 0` (the convention of PyTorch and candle).
    Relu,
    /// `σ(z) = tanh z`.
    Tanh,
    /// `σ(z) = 1/(1 + e^{−z})`.
    Sigmoid,
}

impl Activation {
    /// The name used on the command line and in weight files.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// The Lipschitz constant `sup |σ'|`: 1, 1, 1, ¼.
    pub fn lipschitz(self) -> f64 {
        match self {
            Activation::Sigmoid => 0.25,
            _ => 1.0,
        }
    }

    /// `a ← σ(a)` in place (the buffer holds `z` on entry).
    pub fn apply<T: Real>(self, a: &mut [T]) {
        match self {
            Activation::Identity => {}
            // A select, not a conditional store, so the loop vectorises; NaN stays NaN (the
            // comparison is false), so a diverging run cannot hide behind a ReLU.
            Activation::Relu => a
                .iter_mut()
                .for_each(|v| *v = if *v < T::ZERO { T::ZERO } else { *v }),
            Activation::Tanh => a.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Sigmoid => a
                .iter_mut()
                .for_each(|v| *v = T::ONE / (T::ONE + (-*v).exp())),
        }
    }

    /// `g ← g ⊙ σ'(z)`, from the outputs `a = σ(z)` alone (all four derivatives are functions of
    /// `a`: `1`, `[a > 0]`, `1 − a²`, `a(1 − a)`), so the forward pass keeps only `a`.
    pub fn backward<T: Real>(self, a: &[T], g: &mut [T]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => g
                .iter_mut()
                .zip(a)
                .for_each(|(g, &a)| *g = if a > T::ZERO { *g } else { T::ZERO }),
            Activation::Tanh => g.iter_mut().zip(a).for_each(|(g, &a)| *g *= T::ONE - a * a),
            Activation::Sigmoid => g
                .iter_mut()
                .zip(a)
                .for_each(|(g, &a)| *g *= a * (T::ONE - a)),
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            _ => {
                return Err(format!(
                    "unknown activation '{s}' (expected relu, tanh, sigmoid or identity)"
                ));
            }
        })
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
