//! Wasserstein-2 distances (Section 4): Bures–Wasserstein between Gaussians.

pub mod bures;
