//! Figures: a small plotting layer over plotters ([`plot`]: SVG + PNG, written atomically, bundled
//! font) and the paper's Figures 1–3 ([`paper`]) with the numbers behind them.

pub mod paper;
pub mod plot;
