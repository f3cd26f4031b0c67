//! The tiled loops of every SIMD path call no function in their inner loops: every vector
//! operation (an intrinsic, a method of a vector type, the exponential, a closure) is inlined
//! into the `#[target_feature]` function that runs it.
//!
//! Why a test: a helper that is not inlined into a `#[target_feature]` function cannot inline the
//! intrinsics it calls either, so each vector operation becomes a function call. It happened
//! twice (an `array::from_fn` closure at d = 3, a closure in the AVX2 exponential) and cost
//! 14× and 25× in speed without changing a single result, so no other test could see it (this
//! test, run on the code before the fix, names the AVX2 exponential's closures).
//!
//! How: this test binary links the kernel; `objdump` disassembles the three tiled functions
//! (`tiled::avx512`, `tiled::avx2`, `tiled::portable`, each monomorphised for `f64` and `f32`)
//! and every `call` target in them is checked against what may be called outside the pair
//! loop (allocation, iterator set-up, the final `log`, the `f32` totals' finish). A target that
//! names an intrinsic (`core_arch`), a vector type or its module (`simd`, `portable`), the
//! exponential, the lane state or a closure fails the test.

#![cfg(target_arch = "x86_64")]

use deeptransport::kernel::{self, PairKernel};
use ndarray::Array2;
use std::process::Command;

/// Runs both precisions once, so that the linker keeps every tiled function.
fn link_the_kernels() {
    let x = Array2::from_shape_fn((40, 2), |(i, k)| (i * (k + 2)) as f64 * 0.01);
    let kernel = PairKernel::Gaussian { inv_two_t: 1.0 };
    let wide = kernel::softmax_mean(x.view(), x.view(), None, kernel, &|_| {});
    let narrow = kernel::softmax_mean_f32(x.view(), x.view(), None, kernel, &|_| {});
    assert!(wide.mean.iter().all(|v| v.is_finite()));
    assert!(narrow.is_ok());
}

/// Mangled-name fragments (legacy Rust mangling: length-prefixed path segments, `..` inside the
/// `<T as Trait>` of a trait method) that must not be called from a tiled function.
const FORBIDDEN: [&str; 10] = [
    "core_arch",
    "closure",
    "6kernel4simd",
    "6kernel8portable",
    "kernel..simd",
    "kernel..portable",
    "5tiled4tile",
    "5tiled5Lanes",
    "exp_nonpositive",
    "Vector",
];

#[test]
fn tiled_loops_call_no_vector_operation() {
    link_the_kernels();
    let exe = std::env::current_exe().expect("the test binary");
    let Ok(nm) = Command::new("nm").arg(&exe).output() else {
        panic!("`nm` (binutils) is needed for this test and was not found");
    };
    let symbols = String::from_utf8_lossy(&nm.stdout);
    let tiled: Vec<&str> = symbols
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| {
            ["5tiled6avx512", "5tiled4avx2", "5tiled8portable"]
                .iter()
                .any(|f| s.contains(f))
        })
        .collect();
    // Each of the three, for f64 and f32.
    for f in ["avx512", "avx2", "portable"] {
        let n = tiled
            .iter()
            .filter(|s| s.contains(&format!("5tiled{}{f}17h", f.len())))
            .count();
        assert!(
            n >= 2,
            "tiled::{f}: {n} monomorphisations linked, expected 2"
        );
    }
    for sym in tiled {
        let out = Command::new("objdump")
            .args(["-d", "--no-show-raw-insn", &format!("--disassemble={sym}")])
            .arg(&exe)
            .output()
            .expect("`objdump` (binutils) is needed for this test");
        let asm = String::from_utf8_lossy(&out.stdout);
        let calls: Vec<&str> = asm
            .lines()
            .filter(|l| l.contains("\tcall"))
            .filter_map(|l| l.split('<').nth(1))
            .collect();
        assert!(asm.lines().count() > 100, "{sym}: not disassembled");
        let bad: Vec<&&str> = calls
            .iter()
            .filter(|c| FORBIDDEN.iter().any(|f| c.contains(f)))
            .collect();
        assert!(
            bad.is_empty(),
            "{sym} calls vector code out of line: {bad:?}"
        );
    }
}
