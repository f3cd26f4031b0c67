//! The JSON measure spec (`--measure`). Contract: never a panic; Ok is a Gaussian or a mixture of
//! dimension ≥ 1 whose means and covariances are finite, covariances symmetric with a Cholesky
//! factor of positive finite pivots and a finite log-determinant, mixture weights finite, ≥ 0,
//! one per component, summing to 1, every component of the same dimension; an error is a
//! `BadInput` (exit 2) of one or two lines naming the file.
#![no_main]

use deeptransport::measure::{Gaussian, Measure};
use deeptransport_fuzz::{all_finite, check_err, io, put};
use libfuzzer_sys::fuzz_target;

fn check_gaussian(g: &Gaussian, d: usize) {
    assert!(d >= 1);
    assert_eq!(g.dim(), d, "components of different dimensions");
    assert!(all_finite(g.mean().iter()), "a non-finite mean");
    let c = g.cov();
    assert_eq!(c.shape(), [d, d]);
    assert!(all_finite(c.iter()), "a non-finite covariance");
    for i in 0..d {
        for j in 0..i {
            assert_eq!(
                c[[i, j]].to_bits(),
                c[[j, i]].to_bits(),
                "an unsymmetric covariance"
            );
        }
    }
    let l = g.spd().lower();
    assert!(all_finite(l.iter()), "a non-finite Cholesky factor");
    assert!((0..d).all(|i| l[[i, i]] > 0.0), "a non-positive pivot");
    assert!(
        g.spd().log_det().is_finite(),
        "a non-finite log-determinant"
    );
}

fuzz_target!(|data: &[u8]| {
    let p = put("in.json", data);
    let name = p.display().to_string();
    match io::read_measure(&p) {
        Ok(Measure::Gaussian(g)) => check_gaussian(&g, g.dim()),
        Ok(Measure::Mixture(m)) => {
            let w = m.weights();
            assert_eq!(w.len(), m.components().len());
            assert!(w.iter().all(|&x| x.is_finite() && x >= 0.0), "a bad weight");
            let s = w.sum();
            assert!(
                (s - 1.0).abs() <= 1e-12 * w.len() as f64,
                "weights summing to {s}"
            );
            let d = m.dim();
            for c in m.components() {
                check_gaussian(c, d);
            }
        }
        Ok(Measure::Empirical(_)) => panic!("a measure spec read as an empirical measure"),
        Err(e) => check_err(&e, &name),
    }
});
