//! Trainable networks for transportation analysis: the maps whose tracks deeptransport measures.
//!
//! - [`Network`]: a sequence of [`Stage`]s — dense layers `x ↦ σ(Wx + b)` and residual blocks
//!   `x ↦ x + W₂σ(W₁x + b₁) + b₂` — built as an MLP ([`Network::mlp`]), a residual MLP
//!   ([`Network::residual_mlp`]) or an autoencoder ([`Network::autoencoder`]), in `f32` or `f64`.
//! - [`Network::trace`]: every layer's output on a batch as a core
//!   [`Trajectory`](deeptransport::flow::Trajectory), so the core's analyses (tracks, entropy, W₂)
//!   apply to a trained network unchanged.
//! - [`fit`]: mini-batch training on the mean squared error or the softmax cross-entropy
//!   ([`Targets`]) plus the L2 penalty `γ Σ|W|²` (the seeds' weight decay), by SGD or Adam
//!   ([`Optimizer`]), deterministic from a seed; optional fresh Gaussian input noise per step, which
//!   makes it DAE training on objective (2) of Sonoda & Murata.
//! - [`Network::save`] / [`Network::load`]: `.safetensors` files with PyTorch's `nn.Linear` layout.
//!
//! Forward and backward passes are written out by hand over faer's matrix products rather than
//! run through a tensor framework: for the small networks of these experiments a framework's
//! per-operation overhead, not arithmetic, sets the speed (BENCHMARKS.md compares this crate with
//! candle and PyTorch on the same networks). Back-propagation is tested against candle's
//! autograd and against finite differences (`tests/gradients.rs`).

mod activation;
mod error;
mod linear;
mod loss;
mod network;
mod optim;
mod real;
mod train;
mod weights;

pub use activation::Activation;
pub use error::{Error, Result};
pub use linear::Linear;
pub use loss::Targets;
pub use network::{Kind, MAX_PARAMETERS, MAX_STAGES, MAX_WIDTH, Network, Stage};
pub use optim::Optimizer;
pub use real::Real;
pub use train::{
    EpochStats, Gradients, MAX_EPOCHS, MAX_SAMPLE_PASSES, TrainOptions, fit, gradients,
};
pub use weights::METADATA_KEY;

/// The README's Rust examples (core and networks), compiled and run as doctests here — the one
/// crate that depends on both — so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
