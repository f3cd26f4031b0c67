//! Weights files found by the fuzz target `network` (`fuzz/`, see fuzz/README.md), kept as
//! regression tests; the files in `tests/fuzz-regressions/` are the fuzzer's inputs.

use deeptransport_nn::Network;

#[test]
fn an_f64_weight_beyond_the_f32_range_is_refused_when_loading_as_f32() {
    let bytes = include_bytes!("fuzz-regressions/f64-beyond-f32.safetensors");
    // Every value is a finite f64, so f64 loads it; one overflows f32.
    let net = Network::<f64>::from_safetensors(bytes).expect("finite in f64");
    assert!(net.stages().iter().all(|s| {
        s.linears()
            .iter()
            .all(|l| l.weight.iter().chain(&l.bias).all(|v| v.is_finite()))
    }));
    let Err(err) = Network::<f32>::from_safetensors(bytes) else {
        panic!("an f32 network with an infinite weight");
    };
    let msg = err.to_string();
    assert!(msg.contains("beyond the range of f32"), "{msg}");
}
