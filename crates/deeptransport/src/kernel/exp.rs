//! A branch-free `exp` for non-positive arguments, written so that the compiler vectorises it.
//!
//! Why our own: the streaming softmax evaluates one exponential per (query, data) pair, and libm's
//! scalar `exp` is a function call that stops the loop from vectorising. After the running-max
//! shift every argument is `≤ 0`, which removes overflow and lets the scaling by `2^k` be done on
//! the exponent bits with integer shifts only.
//!
//! Method: `x = k ln 2 + r` with `k = round(x / ln 2)` (by the `1.5·2⁵²` shifter, which also leaves
//! `k` in the low mantissa bits), `|r| ≤ ln 2 / 2`, `ln 2` split in a 32-bit head and a tail so
//! that `k ln2_hi` is exact for `|k| < 2²¹`; `e^r` by a near-minimax polynomial of degree 11
//! ([`C`]: relative error `1.6·10⁻¹⁷`, a seventh of an ulp), and `2^k` applied as two factors
//! `2^{k₁}2^{k₂}` so that results in the subnormal range (`x < −708.4`) come out right too. The
//! error against a correctly rounded exp is measured in the tests (`≤ 2 ulp` on `[−745, 0]`).
//! (The AVX2 and portable vectors flush below [`FLUSH_BELOW`] instead, to build `2^k` in two
//! integer operations; here, compiled by the chunked loops, the same change measured 1.5× slower
//! — the select on the result did not vectorise as well as the clamp on the argument.)

pub(super) const LOG2E: f64 = std::f64::consts::LOG2_E;
/// `ln 2` rounded to 32 significant bits, so `k · LN2_HI` is exact for `|k| < 2²¹`.
pub(super) const LN2_HI: f64 = 0.693_147_180_369_123_8;
pub(super) const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `1.5 · 2⁵²`: adding it rounds to an integer (ties to even) and parks it in the low bits.
pub(super) const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// Below this every result underflows to zero (`exp(−745.2) < 2⁻¹⁰⁷⁵`): the scalar and AVX-512
/// exponentials clamp their argument here.
pub(super) const MIN_ARG: f64 = -746.0;
/// The coefficients of `p(r) = 1 + r + r²·q(r) ≈ e^r` on `|r| ≤ ln 2 / 2`, degree 11, highest
/// first (Horner order): `q` is the Chebyshev (near-minimax) fit of degree 9 to
/// `(e^r − 1 − r)/r²` (computed with 50-digit arithmetic), so the two lowest coefficients are
/// exactly 1 and the rounding of the others is damped by `r² ≤ 0.12`. Relative error of `p` with
/// these rounded coefficients, in exact arithmetic: `1.6·10⁻¹⁷` (0.14 ulp) — what the Taylor
/// polynomial needs degree 13 for, two fused multiply-adds more.
pub(super) const C: [f64; 12] = [
    2.510_037_583_256_123_4e-8,
    2.762_007_587_998_336_7e-7,
    2.755_726_848_031_002_4e-6,
    2.480_152_132_236_869_2e-5,
    1.984_126_986_304_054_5e-4,
    1.388_888_891_719_671_9e-3,
    8.333_333_333_330_065e-3,
    4.166_666_666_662_416_4e-2,
    0.166_666_666_666_666_69,
    0.500_000_000_000_000_1,
    1.0,
    1.0,
];

/// The Taylor coefficients `1/j!` of `e^r`, `j = 7, 6, …, 0` (Horner order): the `f32`
/// exponentials' polynomial (truncation `r⁸/8! < 5.2·10⁻⁹ ≈ 0.1` `f32` ulp on `|r| ≤ ln 2 / 2`).
pub(super) const TAYLOR_7: [f64; 8] = [
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `e^x` for `x ≤ 0` (including `−∞ ↦ 0`); arguments above 0 are outside the contract.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let x = if x < MIN_ARG { MIN_ARG } else { x };
    let shifted = x * LOG2E + SHIFTER;
    let k = shifted - SHIFTER;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = C[0];
    for &c in &C[1..] {
        p = p * r + c;
    }
    // −k ∈ [0, 1077] as an integer, read off the shifter's mantissa without a float→int convert.
    let neg_k = SHIFTER.to_bits().wrapping_sub(shifted.to_bits());
    let k1 = neg_k >> 1;
    let k2 = neg_k - k1;
    let s1 = f64::from_bits((1023 - k1) << 52);
    let s2 = f64::from_bits((1023 - k2) << 52);
    p * s1 * s2
}

/// Below this the AVX2 and portable vector exponentials return exactly 0: `e^{−708} ≈ 3·10⁻³⁰⁸`, the bottom of the normal range, so that `2^k` is one normal
/// factor built in two integer operations. In the reductions every argument is a log-weight minus
/// the running maximum, so a flushed term weighs less than `10⁻³⁰⁷` of the largest one: no sum of
/// fewer than `2⁵³` terms can tell. (The AVX-512 exponential keeps the subnormal range: its
/// `vscalefpd` does the scaling at no cost.)
pub(super) const FLUSH_BELOW: f64 = -708.0;

/// `bits(1023) − bits(1.5·2⁵²)`: added to the bits of the shifter's output `1.5·2⁵² + k` it leaves
/// the biased exponent `k + 1023` in the low bits (the shifter's ulp is 1, so `k` sits there as an
/// integer), ready to be shifted into the exponent field.
pub(super) const POW2_BIAS: u64 = 1023u64.wrapping_sub(SHIFTER.to_bits());

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// Against libm's `exp` (correctly rounded to within 1 ulp): ≤ 2 ulp over the normal range and
    /// ≤ 2 ulp of the subnormal spacing below it; 2·10⁶ points cover every binade of `[−745, 0]`.
    #[test]
    fn exp_is_within_two_ulp_of_libm_on_the_whole_range() {
        let n = 2_000_000;
        let mut worst = 0;
        for i in 0..=n {
            let x = -745.0 * (i as f64 / n as f64);
            let got = exp_nonpositive(x);
            let want = x.exp();
            worst = worst.max(ulps(got, want));
            assert!(ulps(got, want) <= 2, "x = {x}: {got:e} vs {want:e}");
        }
        // Small arguments exercise r near 0 and the k = 0 branch.
        for i in 0..100_000 {
            let x = -(i as f64) * 1e-5;
            assert!(ulps(exp_nonpositive(x), x.exp()) <= 2, "x = {x}");
        }
        assert!(worst <= 2);
    }

    #[test]
    fn exp_limits() {
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(-800.0), 0.0);
        assert!(exp_nonpositive(-745.0) > 0.0);
    }
}
