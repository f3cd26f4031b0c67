//! The `.npz` activations reader of `tracks --activations` (every layer read, `--flatten`).
//! Contract: never a panic, nothing allocated beyond what the file can hold; Ok opens at least
//! two layers and each layer read is `n × d` (n, d ≥ 1) of finite values; an error is a
//! `BadInput` (exit 2) of one or two lines naming the file.
#![no_main]

use deeptransport_fuzz::{activations::Layers, all_finite, check_err, put};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = put("in.npz", data);
    let name = p.display().to_string();
    match Layers::open(None, Some(p), None, None, true) {
        Ok(mut layers) => {
            assert!(layers.len() >= 2, "Ok with {} layers", layers.len());
            for k in 0..layers.len() {
                match layers.read(k) {
                    Ok(a) => {
                        assert!(a.nrows() >= 1 && a.ncols() >= 1, "an empty layer");
                        assert!(all_finite(a.iter()), "a non-finite value");
                    }
                    Err(e) => check_err(&e, &name),
                }
            }
        }
        Err(e) => check_err(&e, &name),
    }
});
