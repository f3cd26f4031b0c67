//! One module per subcommand.

pub mod dae;
pub mod demo;
