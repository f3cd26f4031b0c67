//! Eight-lane `f64` vectors written with explicit intrinsics, for the loops where the compiler's
//! auto-vectorisation of `[f64; 8]` arrays spills registers (the register-tiled direct path).
//!
//! Two implementations: [`Avx512`] (one `zmm` register) and [`Avx2`] (two `ymm` registers, so the
//! lane structure — hence the summation order — is the same eight lanes). Both use fused
//! multiply-adds, so their results can differ from the portable paths' in the last bits; each
//! is deterministic on its own.
//!
//! **Safety contract**: values of these types are only created inside functions compiled with
//! the matching `#[target_feature]` and called after `is_x86_feature_detected!` said yes (see
//! `tiled::block`); every method is `#[inline(always)]`, so its intrinsics are inlined into that
//! context. The types are private to the kernel module.

#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use super::exp::C;
#[cfg(target_arch = "x86_64")]
use super::exp::{LN2_HI, LN2_LO, LOG2E, MIN_ARG, SHIFTER};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The operations the tiled kernel needs on eight `f64` lanes.
pub(super) trait F64x8: Copy {
    /// All lanes `v`.
    fn splat(v: f64) -> Self;
    /// Lanes `s[0..8]` (unaligned).
    fn load(s: &[f64]) -> Self;
    /// The lanes as an array.
    fn to_array(self) -> [f64; 8];
    /// `self + b`.
    fn add(self, b: Self) -> Self;
    /// `self − b`.
    fn sub(self, b: Self) -> Self;
    /// `self · b`.
    fn mul(self, b: Self) -> Self;
    /// `self · b + c`, fused (one rounding).
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// Lane-wise maximum.
    fn max(self, b: Self) -> Self;
    /// `|self|`.
    fn abs(self) -> Self;
    /// Whether some lane has `self > b`.
    fn any_gt(self, b: Self) -> bool;
    /// Lane-wise `if self ≤ bound { then } else { other }`.
    fn select_le(self, bound: Self, then: Self, other: Self) -> Self;
    /// `e^x` for `x ≤ 0` lane-wise (`−∞ ↦ 0`), within 2 ulp of libm (tested in `exp`).
    fn exp_nonpositive(self) -> Self;
}

/// `e^r` for `|r| ≤ ln 2 / 2` by Horner on the Taylor coefficients (see `exp`).
#[inline(always)]
fn exp_poly<V: F64x8>(r: V) -> V {
    let mut p = V::splat(C[0]);
    for &c in &C[1..] {
        p = p.mul_add(r, V::splat(c));
    }
    p
}

#[cfg(target_arch = "x86_64")]
/// AVX-512F: one `zmm` register.
#[derive(Clone, Copy)]
pub(super) struct Avx512(__m512d);

#[cfg(target_arch = "x86_64")]
impl F64x8 for Avx512 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        // SAFETY (all methods): see the module's safety contract.
        unsafe { Avx512(_mm512_set1_pd(v)) }
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        assert!(s.len() >= 8);
        unsafe { Avx512(_mm512_loadu_pd(s.as_ptr())) }
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 8] {
        let mut a = [0.0; 8];
        unsafe { _mm512_storeu_pd(a.as_mut_ptr(), self.0) };
        a
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_add_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_sub_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_mul_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        unsafe { Avx512(_mm512_fmadd_pd(self.0, b.0, c.0)) }
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_max_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn abs(self) -> Self {
        unsafe { Avx512(_mm512_abs_pd(self.0)) }
    }
    #[inline(always)]
    fn any_gt(self, b: Self) -> bool {
        unsafe { _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, b.0) != 0 }
    }
    #[inline(always)]
    fn select_le(self, bound: Self, then: Self, other: Self) -> Self {
        unsafe {
            let le = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, bound.0);
            Avx512(_mm512_mask_blend_pd(le, other.0, then.0))
        }
    }
    /// Table-driven: `x = (16m + j) ln 2 / 16 + r` with `|r| ≤ ln 2 / 32`, so
    /// `eˣ = 2^m · 2^{j/16} · e^r`; `2^{j/16}` from a 16-entry table held in two registers
    /// (`vpermi2pd` indexed by the low bits the shifter leaves), `e^r − 1` by its Taylor
    /// polynomial of degree 7 (truncation `r⁸/8! < 1.3·10⁻¹⁸`), and `2^m` by `vscalefpd`, which
    /// rounds into the subnormal range and underflows to 0 like IEEE multiplication. Four fewer
    /// operations than the degree-13 polynomial; within 2 ulp of libm (tested below).
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let x = self.max(Self::splat(MIN_ARG));
        let shifted = x.mul_add(Self::splat(16.0 * LOG2E), Self::splat(SHIFTER));
        let k = shifted.sub(Self::splat(SHIFTER));
        let r = k
            .mul_add(Self::splat(-LN2_HI / 16.0), x)
            .add(k.mul(Self::splat(-LN2_LO / 16.0)));
        let mut q = Self::splat(1.0 / 5040.0);
        for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0] {
            q = q.mul_add(r, Self::splat(c));
        }
        let q = q.mul(r);
        unsafe {
            let t = Avx512(_mm512_permutex2var_pd(
                _mm512_loadu_pd(EXP2_SIXTEENTHS.as_ptr()),
                _mm512_castpd_si512(shifted.0),
                _mm512_loadu_pd(EXP2_SIXTEENTHS.as_ptr().add(8)),
            ));
            let m = k.mul(Self::splat(1.0 / 16.0));
            Avx512(_mm512_scalef_pd(t.mul_add(q, t).0, m.0))
        }
    }
}

/// `2^{j/16}`, `j = 0, …, 15`, correctly rounded.
#[cfg(target_arch = "x86_64")]
const EXP2_SIXTEENTHS: [f64; 16] = [
    1.0,
    1.044_273_782_427_413_8,
    1.090_507_732_665_257_7,
    1.138_788_634_756_691_6,
    1.189_207_115_002_721,
    1.241_857_812_073_484,
    1.296_839_554_651_009_6,
    1.354_255_546_936_892_7,
    std::f64::consts::SQRT_2,
    1.476_826_145_939_499_3,
    1.542_210_825_407_940_7,
    1.610_490_331_949_254_3,
    1.681_792_830_507_429,
    1.756_252_160_373_299_5,
    1.834_008_086_409_342_4,
    1.915_206_561_397_147_4,
];

/// AVX2 + FMA: two `ymm` registers (lanes 0–3 and 4–7).
#[derive(Clone, Copy)]
pub(super) struct Avx2(__m256d, __m256d);

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    #[inline(always)]
    fn map(self, b: Self, f: impl Fn(__m256d, __m256d) -> __m256d) -> Self {
        Avx2(f(self.0, b.0), f(self.1, b.1))
    }
}

#[cfg(target_arch = "x86_64")]
impl F64x8 for Avx2 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        unsafe { Avx2(_mm256_set1_pd(v), _mm256_set1_pd(v)) }
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        assert!(s.len() >= 8);
        unsafe {
            Avx2(
                _mm256_loadu_pd(s.as_ptr()),
                _mm256_loadu_pd(s.as_ptr().add(4)),
            )
        }
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 8] {
        let mut a = [0.0; 8];
        unsafe {
            _mm256_storeu_pd(a.as_mut_ptr(), self.0);
            _mm256_storeu_pd(a.as_mut_ptr().add(4), self.1);
        }
        a
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        self.map(b, |x, y| unsafe { _mm256_add_pd(x, y) })
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        self.map(b, |x, y| unsafe { _mm256_sub_pd(x, y) })
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        self.map(b, |x, y| unsafe { _mm256_mul_pd(x, y) })
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        unsafe {
            Avx2(
                _mm256_fmadd_pd(self.0, b.0, c.0),
                _mm256_fmadd_pd(self.1, b.1, c.1),
            )
        }
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        self.map(b, |x, y| unsafe { _mm256_max_pd(x, y) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        let sign = Self::splat(-0.0);
        sign.map(self, |s, x| unsafe { _mm256_andnot_pd(s, x) })
    }
    #[inline(always)]
    fn any_gt(self, b: Self) -> bool {
        unsafe {
            let g = _mm256_or_pd(
                _mm256_cmp_pd::<_CMP_GT_OQ>(self.0, b.0),
                _mm256_cmp_pd::<_CMP_GT_OQ>(self.1, b.1),
            );
            _mm256_movemask_pd(g) != 0
        }
    }
    #[inline(always)]
    fn select_le(self, bound: Self, then: Self, other: Self) -> Self {
        unsafe {
            let lo = _mm256_cmp_pd::<_CMP_LE_OQ>(self.0, bound.0);
            let hi = _mm256_cmp_pd::<_CMP_LE_OQ>(self.1, bound.1);
            Avx2(
                _mm256_blendv_pd(other.0, then.0, lo),
                _mm256_blendv_pd(other.1, then.1, hi),
            )
        }
    }
    /// As [`super::exp_nonpositive`]: `2^k` as two factors `2^{k₁} 2^{k₂}` built in the exponent
    /// bits, so that subnormal results come out right.
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let x = self.max(Self::splat(MIN_ARG));
        let shifted = x.mul_add(Self::splat(LOG2E), Self::splat(SHIFTER));
        let k = shifted.sub(Self::splat(SHIFTER));
        let r = k
            .mul_add(Self::splat(-LN2_HI), x)
            .add(k.mul(Self::splat(-LN2_LO)));
        let p = exp_poly(r);
        let scale = |s: __m256d| unsafe {
            let neg_k = _mm256_sub_epi64(
                _mm256_castpd_si256(_mm256_set1_pd(SHIFTER)),
                _mm256_castpd_si256(s),
            );
            let k1 = _mm256_srli_epi64::<1>(neg_k);
            let k2 = _mm256_sub_epi64(neg_k, k1);
            let bias = _mm256_set1_epi64x(1023);
            let s1 = _mm256_slli_epi64::<52>(_mm256_sub_epi64(bias, k1));
            let s2 = _mm256_slli_epi64::<52>(_mm256_sub_epi64(bias, k2));
            (_mm256_castsi256_pd(s1), _mm256_castsi256_pd(s2))
        };
        let (a1, a2) = scale(shifted.0);
        let (b1, b2) = scale(shifted.1);
        p.mul(Avx2(a1, b1)).mul(Avx2(a2, b2))
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    fn exp_avx512(x: &[f64; 8]) -> [f64; 8] {
        Avx512::load(x).exp_nonpositive().to_array()
    }

    #[target_feature(enable = "avx2,fma")]
    fn exp_avx2(x: &[f64; 8]) -> [f64; 8] {
        Avx2::load(x).exp_nonpositive().to_array()
    }

    /// Worst ulp distance to libm's `exp` over 2·10⁶ points covering every binade of
    /// `[−745, 0]` (normal and subnormal results), 10⁵ points of `[−1, 0]` (small `r`, `k = 0`),
    /// and the limits `0 ↦ 1`, `−∞ ↦ 0`, `−800 ↦ 0`.
    fn worst_ulps(exp8: impl Fn(&[f64; 8]) -> [f64; 8]) -> u64 {
        let n = 2_000_000;
        let points = (0..=n)
            .map(|i| -745.0 * (i as f64 / n as f64))
            .chain((0..100_000).map(|i| -(i as f64) * 1e-5));
        let points: Vec<f64> = points.collect();
        let mut worst = 0;
        for chunk in points.chunks(8) {
            let mut x = [0.0; 8];
            x[..chunk.len()].copy_from_slice(chunk);
            let got = exp8(&x);
            for (g, v) in got.iter().zip(&x) {
                worst = worst.max(ulps(*g, v.exp()));
            }
        }
        let limits = exp8(&[
            0.0,
            -0.0,
            f64::NEG_INFINITY,
            -800.0,
            -746.0,
            -1e300,
            f64::MIN,
            -0.0,
        ]);
        assert_eq!(limits, [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        worst
    }

    #[test]
    fn vector_exps_are_within_two_ulp_of_libm() {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            let worst = worst_ulps(|x| unsafe { exp_avx512(x) });
            eprintln!("avx512 worst {worst}");
            assert!(worst <= 2, "AVX-512 exp: {worst} ulp");
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            let worst = worst_ulps(|x| unsafe { exp_avx2(x) });
            eprintln!("avx2 worst {worst}");
            assert!(worst <= 2, "AVX2 exp: {worst} ulp");
        }
    }
}
