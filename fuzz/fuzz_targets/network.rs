//! `Network::from_safetensors` (deeptransport-nn's weights files), in both precisions.
//! Contract: never a panic; Ok is a network whose every weight and bias is finite in the
//! precision it was loaded in, with consistent widths (a forward pass on one zero input gives one
//! row of the output width, or refuses an output that overflowed); an error has a non-empty
//! message. (The CLI does not load networks, so the contract's one-or-two-line rule for messages
//! is not asserted here.)
#![no_main]

use deeptransport_nn::{Network, Real};
use libfuzzer_sys::fuzz_target;

fn check<T: Real>(bytes: &[u8]) {
    match Network::<T>::from_safetensors(bytes) {
        Ok(net) => {
            for s in net.stages() {
                for l in s.linears() {
                    assert_eq!(l.weight.len(), l.fan_in * l.fan_out);
                    assert_eq!(l.bias.len(), l.fan_out);
                    assert!(
                        l.weight
                            .iter()
                            .chain(&l.bias)
                            .all(|&v| v.to_f64().is_finite()),
                        "a non-finite parameter in {}",
                        T::NAME
                    );
                }
            }
            let x = ndarray::Array2::<f64>::zeros((1, net.input_dim()));
            // Finite weights can still overflow: forward then refuses the non-finite output.
            match net.forward(x.view()) {
                Ok(y) => assert_eq!(y.shape(), [1, net.output_dim()]),
                Err(deeptransport_nn::Error::NonFinite { .. }) => {}
                Err(e) => panic!("a forward pass on a zero input: {e}"),
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.trim().is_empty(), "an empty message");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<f64>(data);
    check::<f32>(data);
});
