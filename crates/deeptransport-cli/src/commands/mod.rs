//! One module per subcommand.

pub mod dae;
pub mod deep;
pub mod demo;
