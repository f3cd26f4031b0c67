//! Compositions of DAEs converge to the continuous DAE at first order in τ (METHODS §4), on the
//! Gaussian closed forms and on a Gaussian mixture (grid particles against the Dormand–Prince
//! flow of the mixture's score). See `flow::convergence` for the method and `docs/convergence.md`
//! for the tables.

use deeptransport::flow::convergence::{gaussian_convergence, grid_measure, mixture_convergence};
use deeptransport::measure::{Gaussian, Mixture};
use ndarray::{Array2, array};

/// N(0, [[2, 0.3], [0.3, 1]]) at t = 0.25: from L = 64 on (τ ≤ 0.004) the O(τ²) correction is
/// below 1 % of the leading term, so the observed order is 1 within 0.02.
#[test]
fn gaussian_compositions_converge_at_first_order() {
    let mu = Gaussian::new(array![0.5, -1.0], array![[2.0, 0.3], [0.3, 1.0]]).unwrap();
    let q = Array2::from_shape_fn((25, 2), |(i, j)| {
        if j == 0 {
            -2.0 + (i % 5) as f64
        } else {
            -2.0 + (i / 5) as f64
        }
    });
    let rows =
        gaussian_convergence(&mu, 0.25, q.view(), &[1, 2, 4, 8, 16, 32, 64, 128, 256]).unwrap();
    for r in &rows[1..] {
        assert!(r.max_error < rows[0].max_error, "{rows:?}");
    }
    for r in rows.iter().filter(|r| r.layers >= 128) {
        let p = r.observed_order.unwrap();
        assert!(
            (p - 1.0).abs() < 0.02,
            "observed order {p} at L = {}",
            r.layers
        );
    }
}

/// A two-component mixture in d = 1 (t* = 0.25) at t = 0.1: grid of 4001 particles on [−8, 8]
/// (h = 4e-3 ≤ √τ/8 down to τ = 0.003; truncated mass < 1e-20), queries away from the separatrix
/// between the modes (x ≤ −2 and x ≥ 0.5; see `mixture_convergence`). Errors halve with τ: the
/// observed orders from L = 8 on are 1 within 0.1 (measured 0.95–0.98).
#[test]
fn mixture_compositions_converge_at_first_order() {
    let mix = Mixture::new(
        array![0.4, 0.6],
        vec![
            Gaussian::new(array![-1.5], array![[0.5]]).unwrap(),
            Gaussian::new(array![1.0], array![[0.8]]).unwrap(),
        ],
    )
    .unwrap();
    let grid = grid_measure(&mix, -8.0, 8.0, 4001).unwrap();
    let q = Array2::from_shape_fn((12, 1), |(i, _)| {
        if i < 5 {
            -4.0 + 0.5 * i as f64
        } else {
            0.5 + 0.5 * (i - 5) as f64
        }
    });
    let rows = mixture_convergence(&mix, &grid, 0.1, q.view(), &[4, 8, 16, 32]).unwrap();
    for w in rows.windows(2) {
        assert!(w[1].max_error < w[0].max_error, "{rows:?}");
    }
    for r in &rows[2..] {
        let p = r.observed_order.unwrap();
        assert!((p - 1.0).abs() < 0.1, "observed order {p}: {rows:?}");
    }
    // A grid too coarse for the step is refused rather than measured.
    let coarse = grid_measure(&mix, -8.0, 8.0, 101).unwrap();
    assert!(mixture_convergence(&mix, &coarse, 0.1, q.view(), &[64]).is_err());
}
