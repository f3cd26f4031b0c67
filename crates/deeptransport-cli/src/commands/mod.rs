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
/// `--seed`: the default query of a measure. Refuses `N = 0` and sizes that cannot be held.
pub fn sample_queries(
    samples: usize,
    d: usize,
    seed: u64,
    draw: impl FnOnce(usize, &mut rand_chacha::ChaCha8Rng) -> ndarray::Array2<f64>,
) -> anyhow::Result<ndarray::Array2<f64>> {
    use rand::SeedableRng as _;
    if samples == 0 {
        return Err(crate::BadInput::new("--samples must be at least 1"));
    }
    // n × d values must be addressable; larger requests are a usage error, not a panic.
    if samples
        .checked_mul(d)
        .is_none_or(|v| v > isize::MAX as usize / 8)
    {
        return Err(crate::BadInput::new(format!(
            "--samples {samples}: too many points to hold in memory"
        )));
    }
    Ok(draw(
        samples,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed),
    ))
}

/// Parses `--noise` (gaussian, laplace, uniform, student:NU), naming the flag in errors.
pub fn parse_noise(s: &str) -> anyhow::Result<deeptransport::noise::Noise> {
    s.parse()
        .map_err(|e| crate::BadInput::new(format!("--noise {s}: {e}")))
}
