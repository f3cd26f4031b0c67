//! The NPY readers: points (2-D), weights (`(n,)` or `(n, 1)`), activations (any rank ≥ 1) and
//! trajectories (3-D, no sidecar). Contract: never a panic, nothing allocated beyond what the
//! file can hold; Ok arrays have the announced shape and (points, weights, trajectories) only
//! finite values, points round-trip through the CLI's writers; an error is a `BadInput` (exit 2)
//! of one or two lines naming the file.
#![no_main]

use deeptransport_fuzz::{all_finite, check_err, check_points, check_weights, io, put};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = put("in.npy", data);
    let name = p.display().to_string();
    match io::read_points(&p) {
        Ok(a) => check_points(&a),
        Err(e) => check_err(&e, &name),
    }
    let n = match io::read_npy_array(&p) {
        Ok(a) => {
            assert!(a.ndim() >= 1, "Ok with a scalar");
            assert_eq!(a.len(), a.shape().iter().product::<usize>());
            assert!(a.is_standard_layout());
            a.shape()[0]
        }
        Err(e) => {
            check_err(&e, &name);
            1
        }
    };
    match io::read_weights(&p, n) {
        Ok(w) => check_weights(&w, n),
        Err(e) => check_err(&e, &name),
    }
    match io::read_trajectory(&p) {
        Ok((t, from_sidecar)) => {
            assert!(!from_sidecar, "a sidecar that does not exist");
            let pos = t.positions();
            assert!(
                pos.shape().iter().all(|&s| s >= 1),
                "Ok with an empty trajectory"
            );
            assert_eq!(t.times().len(), pos.shape()[0]);
            assert!(all_finite(pos.iter()), "Ok with a non-finite position");
        }
        Err(e) => check_err(&e, &name),
    }
});
