//! Deep and continuous DAEs (Section 3): compositions of optimal DAEs, closed-form Gaussian flows
//! and pushforwards, and the [`Trajectory`] every analysis of motion takes.

pub mod continuous;
pub mod convergence;
pub mod deep;
pub mod gaussian;
pub mod ode;
mod trajectory;

pub use trajectory::Trajectory;
