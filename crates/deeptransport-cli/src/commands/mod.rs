//! One module per subcommand.

pub mod dae;
pub mod deep;
pub mod demo;
pub mod entropy;
pub mod experiment;
pub mod figure;
pub mod flow;
pub mod recon;
pub mod sdot;
pub mod tracks;
pub mod w2;

/// `--samples N` points of dimension `d` drawn by `draw` from a ChaCha8 generator seeded with
/// `--seed`: the default query of a measure. `N ≥ 1` is checked by the flag's parser, and the
/// caller checks the memory of its whole run (`limits::check_memory`) before drawing.
pub fn sample_queries(
    samples: usize,
    seed: u64,
    draw: impl FnOnce(usize, &mut rand_chacha::ChaCha8Rng) -> ndarray::Array2<f64>,
) -> ndarray::Array2<f64> {
    use rand::SeedableRng as _;
    draw(samples, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))
}

/// A noise variance given as `flag` (`--t`, `--tau`), checked by the library's rule
/// ([`deeptransport::error::check_time`]: finite, at least the smallest normal double).
pub fn check_variance(flag: &str, t: f64) -> anyhow::Result<f64> {
    deeptransport::error::check_time(flag, t).map_err(|e| crate::BadInput::new(e.to_string()))
}

/// Parses `--noise` (gaussian, laplace, uniform, student:NU), naming the flag in errors.
pub fn parse_noise(s: &str) -> anyhow::Result<deeptransport::noise::Noise> {
    s.parse()
        .map_err(|e| crate::BadInput::new(format!("--noise {s}: {e}")))
}
