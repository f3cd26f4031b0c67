//! Figures: a small plotting layer over plotters ([`plot`]: SVG + PNG, written atomically, bundled
//! font), the paper's Figures 1–3 ([`paper`]) with the numbers behind them, and the figures of
//! `deeptransport tracks --report` ([`tracks`]).

pub mod paper;
pub mod plot;
pub mod tracks;
