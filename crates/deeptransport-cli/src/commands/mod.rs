//! One module per subcommand.

pub mod dae;
pub mod deep;
pub mod demo;
pub mod entropy;
pub mod figure;
pub mod flow;
pub mod w2;

/// Parses `--noise` (gaussian, laplace, uniform, student:NU), naming the flag in errors.
pub fn parse_noise(s: &str) -> anyhow::Result<deeptransport::noise::Noise> {
    s.parse()
        .map_err(|e| crate::BadInput::new(format!("--noise {s}: {e}")))
}
