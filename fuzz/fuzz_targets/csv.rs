//! The CSV point reader (`--data`, `--queries`, `--layers` files) and the CSV weight reader.
//! Contract: never a panic; Ok is `n × d` (n, d ≥ 1) of finite values that the CLI's own CSV
//! and NPY writers round-trip bit for bit, and weights are `n` finite values ≥ 0 with a positive
//! finite sum; an error is a `BadInput` (exit 2) of one or two lines naming the file.
#![no_main]

use deeptransport_fuzz::{check_err, check_points, check_weights, io, put};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = put("in.csv", data);
    let name = p.display().to_string();
    let n = match io::read_points(&p) {
        Ok(a) => {
            check_points(&a);
            a.nrows()
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
});
