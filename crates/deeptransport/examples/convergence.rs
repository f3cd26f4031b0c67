//! Prints the convergence tables of `docs/convergence.md`: compositions of DAEs against the
//! continuous DAE as τ → 0 (METHODS §4), on a Gaussian (closed forms) and a 1-D Gaussian mixture
//! (grid particles against the Dormand–Prince flow).
//!
//! ```text
//! cargo run --release -p deeptransport --example convergence
//! ```

use deeptransport::flow::convergence::{
    ConvergenceRow, gaussian_convergence, grid_measure, mixture_convergence,
};
use deeptransport::measure::{Gaussian, Mixture};
use ndarray::{Array2, array};

fn print(title: &str, rows: &[ConvergenceRow]) {
    println!("\n{title}\n\n| L | τ | max error | observed order |\n|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.5} | {:.3e} | {} |",
            r.layers,
            r.tau,
            r.max_error,
            r.observed_order
                .map_or(String::new(), |p| format!("{p:.3}"))
        );
    }
}

fn main() -> Result<(), deeptransport::Error> {
    let g = Gaussian::new(array![0.0, 0.0], array![[2.0, 0.0], [0.0, 1.0]])?;
    let q = Array2::from_shape_fn((63, 2), |(i, j)| {
        if j == 0 {
            -3.0 + 0.75 * (i % 9) as f64
        } else {
            -2.25 + 0.75 * (i / 9) as f64
        }
    });
    let layers = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
    print(
        "Gaussian N(0, diag[2, 1]), t = 0.25, 63 grid points of [−3, 3] × [−2.25, 2.25]",
        &gaussian_convergence(&g, 0.25, q.view(), &layers)?,
    );
    let mix = Mixture::new(
        array![0.4, 0.6],
        vec![
            Gaussian::new(array![-1.5], array![[0.5]])?,
            Gaussian::new(array![1.0], array![[0.8]])?,
        ],
    )?;
    let grid = grid_measure(&mix, -8.0, 8.0, 4001)?;
    let outer = Array2::from_shape_fn((12, 1), |(i, _)| {
        if i < 5 {
            -4.0 + 0.5 * i as f64
        } else {
            0.5 + 0.5 * (i - 5) as f64
        }
    });
    let valley = Array2::from_shape_fn((7, 1), |(i, _)| -1.0 + 0.125 * i as f64);
    let layers = [2, 4, 8, 16, 32];
    print(
        "Mixture 0.4 N(−1.5, 0.5) + 0.6 N(1, 0.8), t = 0.1, queries x ∈ {−4, …, −2} ∪ {0.5, …, 3}",
        &mixture_convergence(&mix, &grid, 0.1, outer.view(), &layers)?,
    );
    print(
        "Same mixture and t, queries at the separatrix x ∈ {−1, −0.875, …, −0.25}",
        &mixture_convergence(&mix, &grid, 0.1, valley.view(), &layers)?,
    );
    Ok(())
}
