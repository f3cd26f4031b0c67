//! Autoencoder topology (METHODS §9; Kvalheim & Sontag, seed 004): what an autoencoder with a
//! k-dimensional bottleneck must lose on data that lie on a k-manifold not embeddable in ℝᵏ, and
//! where it loses it.
//!
//! - [`error_field`]: the reconstruction errors `e_i = |G(F(x_i)) − x_i|`, their summary,
//!   `P(e ≥ ε)` against ε (the measure of the exceptional set) and where the bad set lies;
//! - [`manifolds`]: closed manifolds with exact reach τ, samples and grids on them, and the
//!   bound `sup_K |G(F(x)) − x| ≥ τ` every continuous autoencoder obeys;
//! - [`persistence`]: Vietoris–Rips persistent homology in degrees 0 and 1, to compare the
//!   topology of the data, the codes and the reconstructions.

pub mod error_field;
pub mod manifolds;
pub mod persistence;

pub use error_field::{
    BadSet, ErrorSummary, Exceedance, bad_set, errors, exceptional_fraction, summarize,
};
pub use manifolds::{Manifold, ManifoldSample};

use crate::error::{Error, Result};
use ndarray::ArrayView2;

/// The Betti numbers `[b₀, b₁]` of a point cloud read off its Vietoris–Rips persistence: the
/// number of H₀ and H₁ classes whose persistence `death − birth` exceeds `fraction` × the
/// cloud's diameter (the essential H₀ class always counts). The CLI's `betti_*` use
/// `fraction = 0.1`.
pub fn betti(points: ArrayView2<f64>, fraction: f64) -> Result<[usize; 2]> {
    if !(fraction.is_finite() && fraction >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "persistence fraction".into(),
            value: format!("{fraction:e}"),
            reason: "must be finite and non-negative".into(),
        });
    }
    let d = persistence::rips(
        points,
        &persistence::PersistenceOptions {
            max_dim: 1,
            threshold: None,
        },
    )?;
    let min = fraction * persistence::diameter(points);
    Ok([
        persistence::significant_classes(&d.h0, min),
        persistence::significant_classes(&d.h1, min),
    ])
}
