//! # deeptransport
//!
//! Transportation analysis of deep neural networks (Sonoda & Murata): a network layer moves data,
//! the optimal denoising autoencoder is the posterior mean
//! `Φ_t(x) = x − E_t[ε | x]` (Theorem 2.1), for Gaussian noise `Φ_t(x) = x + t∇log(W_t * μ₀)(x)`
//! (eq. 7), and its initial velocity is the score (eq. 8).
//!
//! This crate is the pure computation: no terminal, no file formats. The `deeptransport` binary
//! (crate `deeptransport-cli`) reads and writes files on top of it.
//!
//! ```
//! use deeptransport::{dae, measure::{Gaussian, Measure}, noise::Noise};
//! use ndarray::{array, Array2};
//!
//! // μ₀ = N(0, diag[2, 1]); Φ_t at t = 0.5 shrinks x towards the mean by Σ(Σ + tI)⁻¹ (eq. 13).
//! let mu = Measure::Gaussian(Gaussian::new(array![0.0, 0.0], Array2::from_diag(&array![2.0, 1.0]))?);
//! let q = array![[1.0, 1.0]];
//! let phi = dae::optimal(&mu, Noise::Gaussian, 0.5, q.view(), &|_| {})?;
//! assert!((phi[[0, 0]] - 2.0 / 2.5).abs() < 1e-15);
//! assert!((phi[[0, 1]] - 1.0 / 1.5).abs() < 1e-15);
//! # Ok::<(), deeptransport::Error>(())
//! ```

pub mod dae;
pub mod error;
pub mod flow;
pub mod functional;
pub mod kernel;
pub mod linalg;
pub mod map;
pub mod measure;
pub mod noise;
pub mod quadrature;
pub mod sdot;
pub mod topology;
pub mod tracks;
pub mod wasserstein;

pub use error::{Error, Result};
