//! The `.safetensors` activations reader of `tracks --activations` (every layer read, `--flatten`).
//! Contract: never a panic, nothing allocated beyond what the file can hold; Ok opens at least
//! two layers and each layer read is `n × d` (n, d ≥ 1) of finite values; an error is a
//! `BadInput` (exit 2) of one or two lines naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| deeptransport_fuzz::check_activations("in.safetensors", data));
