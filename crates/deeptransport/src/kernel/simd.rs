//! Vectors written with explicit intrinsics, for the loops where the compiler's
//! auto-vectorisation of arrays spills registers (the register-tiled direct path): eight `f64`
//! lanes or sixteen `f32` lanes, behind one trait, [`Vector`], so that the tiled loop is written
//! once for both precisions.
//!
//! Four implementations here, for x86-64 ([`super::portable`] has the array-based ones of every
//! CPU): [`Avx512`] (eight `f64` in one `zmm`), [`Avx2`] (eight `f64` in two
//! `ymm`, so the lane structure — hence the summation order — is the same eight lanes),
//! [`Avx512F32`] (sixteen `f32` in one `zmm`) and [`Avx2F32`] (sixteen `f32` in two `ymm`). All use
//! fused multiply-adds, so their results can differ from the portable paths' in the last bits;
//! each is deterministic on its own.
//!
//! **Safety contract**: values of these types are only created inside functions compiled with
//! the matching `#[target_feature]` and called after `is_x86_feature_detected!` said yes (see
//! `tiled::block`); every method is `#[inline(always)]`, so its intrinsics are inlined into that
//! context. The types are private to the kernel module.

#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

#[cfg(target_arch = "x86_64")]
use super::exp::{C, FLUSH_BELOW, LN2_HI, LN2_LO, LOG2E, MIN_ARG, POW2_BIAS, SHIFTER, TAYLOR_7};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The operations the tiled kernel needs on a vector of [`Vector::LANES`] floating-point lanes of
/// type [`Vector::Scalar`].
pub(super) trait Vector: Copy {
    /// The lane type (`f64` or `f32`).
    type Scalar: Copy;
    /// The lanes widened to `f64` (`[f64; LANES]`).
    type Wide: Copy + Default + AsRef<[f64]> + AsMut<[f64]>;
    /// Lanes per vector.
    const LANES: usize;
    /// Whether lane sums are too narrow to accumulate a whole reduction (`f32`): the tiled path
    /// then folds them into `f64` after every chunk of data.
    const NARROW: bool;
    /// The lowest finite lane value, as an `f64` (exact in the lane type): the running maximum of
    /// a lane that has seen no data.
    const LOWEST: f64;
    /// All lanes `v`, rounded to the lane type.
    fn splat(v: f64) -> Self;
    /// Lanes `s[0..LANES]` (unaligned).
    fn load(s: &[Self::Scalar]) -> Self;
    /// The lanes, widened to `f64` (exact).
    fn to_f64(self) -> Self::Wide;
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
    /// Whether some lane of the vectors `v` is `> 0` (NaN-free input).
    fn any_positive<const R: usize>(v: &[Self; R]) -> bool;
    /// Lane-wise `if self ≤ bound { then } else { other }`.
    fn select_le(self, bound: Self, then: Self, other: Self) -> Self;
    /// `e^x` for `x ≤ 0` lane-wise (`−∞ ↦ 0`): `f64` within 1 ulp of libm; `f32` within 1 ulp
    /// of libm's `f64` result rounded to `f32` for `x ≥ −64` and exactly 0 below
    /// ([`FLUSH_BELOW_F32`]) (both measured and asserted below).
    fn exp_nonpositive(self) -> Self;
}

/// The lane-wise methods of [`Vector`] for a type of one AVX-512 register, from its intrinsics
/// (the `f64` and `f32` types differ only in the intrinsics' suffix). `splat` rounds the `f64`
/// argument to the lane type.
#[cfg(target_arch = "x86_64")]
macro_rules! one_register {
    ($ty:ident, $lanes:literal, set1: $set1:ident, loadu: $loadu:ident, add: $add:ident,
     sub: $sub:ident, mul: $mul:ident, fmadd: $fmadd:ident, max: $max:ident, abs: $abs:ident,
     cmp: $cmp:ident, blend: $blend:ident) => {
        #[inline(always)]
        fn splat(v: f64) -> Self {
            // SAFETY (all methods): see the module's safety contract.
            unsafe { $ty($set1(v as Self::Scalar)) }
        }
        #[inline(always)]
        fn load(s: &[Self::Scalar]) -> Self {
            assert!(s.len() >= $lanes);
            unsafe { $ty($loadu(s.as_ptr())) }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            unsafe { $ty($add(self.0, b.0)) }
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            unsafe { $ty($sub(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            unsafe { $ty($mul(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { $ty($fmadd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            unsafe { $ty($max(self.0, b.0)) }
        }
        #[inline(always)]
        fn abs(self) -> Self {
            unsafe { $ty($abs(self.0)) }
        }
        #[inline(always)]
        fn any_positive<const R: usize>(v: &[Self; R]) -> bool {
            let zero = Self::splat(0.0).0;
            let mut any = 0;
            for x in v {
                any |= unsafe { $cmp::<_CMP_GT_OQ>(x.0, zero) };
            }
            any != 0
        }
        #[inline(always)]
        fn select_le(self, bound: Self, then: Self, other: Self) -> Self {
            unsafe {
                let le = $cmp::<_CMP_LE_OQ>(self.0, bound.0);
                $ty($blend(le, other.0, then.0))
            }
        }
    };
}

/// The lane-wise methods of [`Vector`] for a type of two AVX2 registers of `$half` lanes each
/// (lanes `0..$half` in the first), from its intrinsics.
#[cfg(target_arch = "x86_64")]
macro_rules! two_registers {
    ($ty:ident, $half:literal, set1: $set1:ident, loadu: $loadu:ident, add: $add:ident,
     sub: $sub:ident, mul: $mul:ident, fmadd: $fmadd:ident, max: $max:ident,
     andnot: $andnot:ident, icast: $icast:ident, icmpgt: $icmpgt:ident, cmp: $cmp:ident,
     blendv: $blendv:ident) => {
        #[inline(always)]
        fn splat(v: f64) -> Self {
            let v = v as Self::Scalar;
            unsafe { $ty($set1(v), $set1(v)) }
        }
        #[inline(always)]
        fn load(s: &[Self::Scalar]) -> Self {
            assert!(s.len() >= 2 * $half);
            unsafe { $ty($loadu(s.as_ptr()), $loadu(s.as_ptr().add($half))) }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            unsafe { $ty($add(self.0, b.0), $add(self.1, b.1)) }
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            unsafe { $ty($sub(self.0, b.0), $sub(self.1, b.1)) }
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            unsafe { $ty($mul(self.0, b.0), $mul(self.1, b.1)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { $ty($fmadd(self.0, b.0, c.0), $fmadd(self.1, b.1, c.1)) }
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            unsafe { $ty($max(self.0, b.0), $max(self.1, b.1)) }
        }
        #[inline(always)]
        fn abs(self) -> Self {
            let sign = Self::splat(-0.0);
            unsafe { $ty($andnot(sign.0, self.0), $andnot(sign.1, self.1)) }
        }
        #[inline(always)]
        fn any_positive<const R: usize>(v: &[Self; R]) -> bool {
            // A float is > 0 exactly when its bits, read as a signed integer, are > 0 (NaN-free):
            // an integer compare, which runs on a port the floating-point work leaves free.
            unsafe {
                let zero = _mm256_setzero_si256();
                let mut any = zero;
                for x in v {
                    let lo = $icmpgt($icast(x.0), zero);
                    let hi = $icmpgt($icast(x.1), zero);
                    any = _mm256_or_si256(any, _mm256_or_si256(lo, hi));
                }
                _mm256_testz_si256(any, any) == 0
            }
        }
        #[inline(always)]
        fn select_le(self, bound: Self, then: Self, other: Self) -> Self {
            unsafe {
                let lo = $cmp::<_CMP_LE_OQ>(self.0, bound.0);
                let hi = $cmp::<_CMP_LE_OQ>(self.1, bound.1);
                $ty($blendv(other.0, then.0, lo), $blendv(other.1, then.1, hi))
            }
        }
    };
}

/// `e^r` for `|r| ≤ ln 2 / 2` by Horner on `coefficients`, highest first (see `exp`).
#[inline(always)]
pub(super) fn exp_poly<V: Vector>(r: V, coefficients: &[f64]) -> V {
    let mut p = V::splat(coefficients[0]);
    for &c in &coefficients[1..] {
        p = p.mul_add(r, V::splat(c));
    }
    p
}

#[cfg(target_arch = "x86_64")]
/// AVX-512F: one `zmm` register.
#[derive(Clone, Copy)]
pub(super) struct Avx512(__m512d);

#[cfg(target_arch = "x86_64")]
impl Vector for Avx512 {
    type Scalar = f64;
    type Wide = [f64; 8];
    const LANES: usize = 8;
    const NARROW: bool = false;
    const LOWEST: f64 = f64::MIN;
    one_register!(Avx512, 8, set1: _mm512_set1_pd, loadu: _mm512_loadu_pd, add: _mm512_add_pd,
        sub: _mm512_sub_pd, mul: _mm512_mul_pd, fmadd: _mm512_fmadd_pd, max: _mm512_max_pd,
        abs: _mm512_abs_pd, cmp: _mm512_cmp_pd_mask, blend: _mm512_mask_blend_pd);
    #[inline(always)]
    fn to_f64(self) -> [f64; 8] {
        let mut a = [0.0; 8];
        unsafe { _mm512_storeu_pd(a.as_mut_ptr(), self.0) };
        a
    }
    /// Table-driven: `x = (16m + j) ln 2 / 16 + r` with `|r| ≤ ln 2 / 32`, so
    /// `eˣ = 2^m · 2^{j/16} · e^r`; `2^{j/16}` from a 16-entry table held in two registers
    /// (`vpermi2pd` indexed by the low bits the shifter leaves), `e^r − 1` by its Taylor
    /// polynomial of degree 7 (truncation `r⁸/8! < 1.3·10⁻¹⁸`), and `2^m` by `vscalefpd`, which
    /// rounds into the subnormal range and underflows to 0 like IEEE multiplication. Four fewer
    /// operations than the degree-11 polynomial; within 1 ulp of libm (tested below).
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let x = self.max(Self::splat(MIN_ARG));
        let shifted = x.mul_add(Self::splat(16.0 * LOG2E), Self::splat(SHIFTER));
        let k = shifted.sub(Self::splat(SHIFTER));
        // Cody–Waite in two fused steps: `k·ln2_hi/16` is exact, and the second FMA adds the tail
        // with one rounding.
        let r = k.mul_add(
            Self::splat(-LN2_LO / 16.0),
            k.mul_add(Self::splat(-LN2_HI / 16.0), x),
        );
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
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2(__m256d, __m256d);

#[cfg(target_arch = "x86_64")]
impl Vector for Avx2 {
    type Scalar = f64;
    type Wide = [f64; 8];
    const LANES: usize = 8;
    const NARROW: bool = false;
    const LOWEST: f64 = f64::MIN;
    two_registers!(Avx2, 4, set1: _mm256_set1_pd, loadu: _mm256_loadu_pd,
        add: _mm256_add_pd, sub: _mm256_sub_pd, mul: _mm256_mul_pd, fmadd: _mm256_fmadd_pd,
        max: _mm256_max_pd, andnot: _mm256_andnot_pd, icast: _mm256_castpd_si256,
        icmpgt: _mm256_cmpgt_epi64, cmp: _mm256_cmp_pd, blendv: _mm256_blendv_pd);
    #[inline(always)]
    fn to_f64(self) -> [f64; 8] {
        let mut a = [0.0; 8];
        unsafe {
            _mm256_storeu_pd(a.as_mut_ptr(), self.0);
            _mm256_storeu_pd(a.as_mut_ptr().add(4), self.1);
        }
        a
    }
    /// `x = k ln 2 + r` (`|r| ≤ ln 2 / 2`, Cody–Waite in two fused steps), `e^r` by the
    /// degree-11 polynomial of `exp` (relative error `1.6·10⁻¹⁷`), `2^k` built in the exponent bits from
    /// the shifter's low bits in two integer operations, and lanes below [`FLUSH_BELOW`]
    /// zeroed by a mask (also `−∞` and NaN). Twenty operations per register; within 1 ulp
    /// of libm on `[−708, 0]` (tested below).
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let shifted = self.mul_add(Self::splat(LOG2E), Self::splat(SHIFTER));
        let k = shifted.sub(Self::splat(SHIFTER));
        let r = k.mul_add(Self::splat(-LN2_LO), k.mul_add(Self::splat(-LN2_HI), self));
        let p = exp_poly(r, &C);
        let scale = Avx2(pow2_f64(shifted.0), pow2_f64(shifted.1));
        let e = p.mul(scale);
        let flush = Self::splat(FLUSH_BELOW);
        // SAFETY: see the module's safety contract.
        unsafe {
            let keep0 = _mm256_cmp_pd::<_CMP_GE_OQ>(self.0, flush.0);
            let keep1 = _mm256_cmp_pd::<_CMP_GE_OQ>(self.1, flush.1);
            Avx2(_mm256_and_pd(e.0, keep0), _mm256_and_pd(e.1, keep1))
        }
    }
}

/// `2^k` for four lanes of the shifter's output `1.5·2⁵² + k`, `−1022 ≤ k ≤ 0`, built in the
/// exponent bits.
///
/// A function marked `#[inline(always)]`, not a closure: a closure does not inherit the caller's
/// `#[target_feature]` and, called twice, is not inlined, so its AVX2 intrinsics became out-of-line
/// calls (18 ns per pair instead of under 1). The `tests/hot_loops.rs` test checks that no call
/// is left in the tiled loops.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pow2_f64(shifted: __m256d) -> __m256d {
    // SAFETY: see the module's safety contract (only reached from AVX2 code).
    unsafe {
        let biased = _mm256_add_epi64(
            _mm256_castpd_si256(shifted),
            _mm256_set1_epi64x(POW2_BIAS as i64),
        );
        _mm256_castsi256_pd(_mm256_slli_epi64::<52>(biased))
    }
}

/// [`pow2_f64`] for eight `f32` lanes of `1.5·2²³ + k`, `−126 ≤ k ≤ 0`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pow2_f32(shifted: __m256) -> __m256 {
    // SAFETY: see the module's safety contract (only reached from AVX2 code).
    unsafe {
        let biased = _mm256_add_epi32(
            _mm256_castps_si256(shifted),
            _mm256_set1_epi32(POW2_BIAS_F32 as i32),
        );
        _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased))
    }
}

/// `bits(127) − bits(1.5·2²³)`, as `exp::POW2_BIAS` in `f32`.
pub(super) const POW2_BIAS_F32: u32 = 127u32.wrapping_sub(SHIFTER_F32.to_bits());

/// `ln 2 / 16` split for the `f32` reductions: the head is `ln 2 / 16` rounded to `f32`, the tail
/// what it misses; `r = (x − k·hi) − k·lo` by two fused multiply-adds, each rounded once, so `r`
/// carries a relative error of about `2⁻²⁴` (an error `≤ 2⁻²⁴·|r| < 0.03` ulp in `e^r`).
const LN2_16: f64 = std::f64::consts::LN_2 / 16.0;
#[cfg(target_arch = "x86_64")]
const LN2_16_HI: f32 = LN2_16 as f32;
#[cfg(target_arch = "x86_64")]
const LN2_16_LO: f32 = (LN2_16 - LN2_16_HI as f64) as f32;
/// `1.5 · 2²³`: adding it to an `f32` rounds to an integer (ties to even) and parks it in the
/// low mantissa bits, as the `f64` shifter does.
pub(super) const SHIFTER_F32: f32 = 12_582_912.0;
/// Below this the `f32` exponentials return exactly 0 (flush): `e^{−64} ≈ 1.6·10⁻²⁸` relative to
/// the running max is far below `f32` resolution, and flushing keeps every weight, product and
/// sum of the reduction a normal number. Subnormal operands or results cost a microcode assist
/// of ~100 cycles on x86 cores: without the flush, blurring mean shift at `τ = 0.05` on unit data
/// (many pairs with `ℓ − max ∈ [−104, −87]`, subnormal in `f32`) ran 3× slower than `f64`.
pub(super) const FLUSH_BELOW_F32: f64 = -64.0;

#[cfg(target_arch = "x86_64")]
/// AVX-512F: sixteen `f32` lanes in one `zmm` register.
#[derive(Clone, Copy)]
pub(super) struct Avx512F32(__m512);

/// `2^{j/16}`, `j = 0, …, 15`, rounded to `f32` (the rounding of the correctly rounded `f64`
/// values; a double rounding changes nothing here since none lies near an `f32` midpoint).
#[cfg(target_arch = "x86_64")]
const EXP2_SIXTEENTHS_F32: [f32; 16] = {
    let mut t = [0.0f32; 16];
    let mut j = 0;
    while j < 16 {
        t[j] = EXP2_SIXTEENTHS[j] as f32;
        j += 1;
    }
    t
};

#[cfg(target_arch = "x86_64")]
impl Vector for Avx512F32 {
    type Scalar = f32;
    type Wide = [f64; 16];
    const LANES: usize = 16;
    const NARROW: bool = true;
    const LOWEST: f64 = f32::MIN as f64;
    one_register!(Avx512F32, 16, set1: _mm512_set1_ps, loadu: _mm512_loadu_ps, add: _mm512_add_ps,
        sub: _mm512_sub_ps, mul: _mm512_mul_ps, fmadd: _mm512_fmadd_ps, max: _mm512_max_ps,
        abs: _mm512_abs_ps, cmp: _mm512_cmp_ps_mask, blend: _mm512_mask_blend_ps);
    #[inline(always)]
    fn to_f64(self) -> [f64; 16] {
        let mut a = [0.0; 16];
        unsafe {
            _mm512_storeu_pd(
                a.as_mut_ptr(),
                _mm512_cvtps_pd(_mm512_castps512_ps256(self.0)),
            );
            let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
            _mm512_storeu_pd(a.as_mut_ptr().add(8), _mm512_cvtps_pd(hi));
        }
        a
    }
    /// The `f64` method of [`Avx512`] in single precision: `x = (16m + j) ln 2 / 16 + r`,
    /// `|r| ≤ ln 2 / 32`, `2^{j/16}` from a 16-entry table that fits one register
    /// (`vpermps`), `e^r − 1` by its Taylor polynomial of degree 3 (truncation
    /// `r⁴/4! < 9.2·10⁻⁹ ≈ 0.15` ulp), `2^m` by `vscalefps`, zeroing the lanes below
    /// [`FLUSH_BELOW_F32`] in the same instruction. Twelve operations instead of the `f64` path's
    /// fifteen, on twice the lanes.
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let keep = unsafe {
            _mm512_cmp_ps_mask::<_CMP_GE_OQ>(self.0, _mm512_set1_ps(FLUSH_BELOW_F32 as f32))
        };
        let x = self.max(Self::splat(FLUSH_BELOW_F32));
        // Every constant below is exact in f32, so `splat` does not round it.
        let shifter = Self::splat(SHIFTER_F32 as f64);
        let shifted = x.mul_add(Self::splat((16.0 * LOG2E) as f32 as f64), shifter);
        let k = shifted.sub(shifter);
        let r = k.mul_add(Self::splat(-(LN2_16_HI as f64)), x);
        let r = k.mul_add(Self::splat(-(LN2_16_LO as f64)), r);
        let q = r
            .mul_add(Self::splat(1.0 / 6.0), Self::splat(0.5))
            .mul_add(r, Self::splat(1.0))
            .mul(r);
        unsafe {
            let t = Avx512F32(_mm512_permutexvar_ps(
                _mm512_castps_si512(shifted.0),
                _mm512_loadu_ps(EXP2_SIXTEENTHS_F32.as_ptr()),
            ));
            let m = k.mul(Self::splat(1.0 / 16.0));
            Avx512F32(_mm512_maskz_scalef_ps(keep, t.mul_add(q, t).0, m.0))
        }
    }
}

/// AVX2 + FMA: sixteen `f32` lanes in two `ymm` registers (lanes 0–7 and 8–15), so the lane
/// structure — hence the summation order — is that of [`Avx512F32`].
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2F32(__m256, __m256);

#[cfg(target_arch = "x86_64")]
impl Vector for Avx2F32 {
    type Scalar = f32;
    type Wide = [f64; 16];
    const LANES: usize = 16;
    const NARROW: bool = true;
    const LOWEST: f64 = f32::MIN as f64;
    two_registers!(Avx2F32, 8, set1: _mm256_set1_ps, loadu: _mm256_loadu_ps,
        add: _mm256_add_ps, sub: _mm256_sub_ps, mul: _mm256_mul_ps, fmadd: _mm256_fmadd_ps,
        max: _mm256_max_ps, andnot: _mm256_andnot_ps, icast: _mm256_castps_si256,
        icmpgt: _mm256_cmpgt_epi32, cmp: _mm256_cmp_ps, blendv: _mm256_blendv_ps);
    #[inline(always)]
    fn to_f64(self) -> [f64; 16] {
        let mut a = [0.0; 16];
        unsafe {
            for (h, v) in [self.0, self.1].into_iter().enumerate() {
                let p = a.as_mut_ptr().add(8 * h);
                _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
                _mm256_storeu_pd(p.add(4), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v)));
            }
        }
        a
    }
    /// `x = k ln 2 + r`, `|r| ≤ ln 2 / 2` (no 16-entry permute on `ymm`), `e^r` by its Taylor
    /// polynomial of degree 7 (truncation `r⁸/8! < 5.2·10⁻⁹ ≈ 0.1` ulp), and `2^k`, `k ≥ −93`,
    /// built in the exponent bits; the lanes below [`FLUSH_BELOW_F32`] are zeroed by a mask.
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let flush = Self::splat(FLUSH_BELOW_F32);
        let x = self.max(flush);
        let shifter = Self::splat(SHIFTER_F32 as f64);
        let shifted = x.mul_add(Self::splat(LOG2E), shifter);
        let k = shifted.sub(shifter);
        let r = k.mul_add(Self::splat(-16.0 * LN2_16_HI as f64), x);
        let r = k.mul_add(Self::splat(-16.0 * LN2_16_LO as f64), r);
        let p = exp_poly(r, &TAYLOR_7);
        let e = p.mul(Avx2F32(pow2_f32(shifted.0), pow2_f32(shifted.1)));
        // SAFETY: see the module's safety contract.
        unsafe {
            let keep0 = _mm256_cmp_ps::<_CMP_GE_OQ>(self.0, flush.0);
            let keep1 = _mm256_cmp_ps::<_CMP_GE_OQ>(self.1, flush.1);
            Avx2F32(_mm256_and_ps(e.0, keep0), _mm256_and_ps(e.1, keep1))
        }
    }
}

/// The accuracy checks of the vector exponentials (here and in `portable`), against libm.
#[cfg(test)]
pub(super) mod ulp_checks {
    use super::FLUSH_BELOW_F32;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// Worst ulp distance to libm's `exp` over 2·10⁶ points covering every binade of
    /// `[−745, 0]` (normal and subnormal results), 10⁵ points of `[−1, 0]` (small `r`, `k = 0`),
    /// and the limits `0 ↦ 1`, `−∞ ↦ 0`, `−800 ↦ 0`; below `flush` the result must be exactly 0.
    pub fn worst_ulps(exp8: impl Fn(&[f64; 8]) -> [f64; 8], flush: f64) -> u64 {
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
                let want = if *v < flush { 0.0 } else { v.exp() };
                worst = worst.max(ulps(*g, want));
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

    /// Worst ulp distance to libm's `f64` `exp` rounded to `f32` (the correctly rounded `f32`
    /// result but for double-rounding ties, which these points do not hit) over the whole range
    /// the `f32` kernel uses: 2·10⁶ points of `[−64, 0]` (every binade of the results), every
    /// `f32` in `[−2⁻¹⁰, 0]` step 2⁻³⁰ (small `r`, `k = 0`); below `−64` the result must be
    /// exactly 0 (10⁵ points of `[−200, −64)`, the largest `f32` below `−64`, `−∞`, `f32::MIN`),
    /// and `0 ↦ 1`, `−0 ↦ 1`, `−2⁻¹²⁶ ↦ 1`.
    pub fn worst_ulps_f32(exp16: impl Fn(&[f32; 16]) -> [f64; 16]) -> u64 {
        let n = 2_000_000;
        let points = (0..=n)
            .map(|i| (FLUSH_BELOW_F32 * (i as f64 / n as f64)) as f32)
            .chain((0..1 << 20).map(|i| -(i as f32) * 2f32.powi(-30)));
        let points: Vec<f32> = points.collect();
        let mut worst = 0;
        for chunk in points.chunks(16) {
            let mut x = [0.0f32; 16];
            x[..chunk.len()].copy_from_slice(chunk);
            let got = exp16(&x);
            for (g, v) in got.iter().zip(&x) {
                let want = (*v as f64).exp() as f32;
                worst = worst.max((*g as f32).to_bits().abs_diff(want.to_bits()) as u64);
            }
        }
        let below: Vec<f32> = (1..100_000)
            .map(|i| (FLUSH_BELOW_F32 - 136.0 * i as f64 / 1e5) as f32)
            .collect();
        for chunk in below.chunks(16) {
            let mut x = [-1e3f32; 16];
            x[..chunk.len()].copy_from_slice(chunk);
            assert_eq!(exp16(&x), [0.0; 16], "flushed below −64: {x:?}");
        }
        let mut limits = [0.0f32; 16];
        let just_below = f32::from_bits((FLUSH_BELOW_F32 as f32).to_bits() + 1);
        limits[..8].copy_from_slice(&[
            0.0,
            -0.0,
            f32::NEG_INFINITY,
            just_below,
            -110.0,
            -1e30,
            f32::MIN,
            -f32::MIN_POSITIVE,
        ]);
        let got = exp16(&limits);
        assert_eq!(got[..8], [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        worst
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::ulp_checks::{worst_ulps, worst_ulps_f32};
    use super::*;

    #[target_feature(enable = "avx512f,avx2,fma")]
    fn exp_avx512(x: &[f64; 8]) -> [f64; 8] {
        Avx512::load(x).exp_nonpositive().to_f64()
    }

    #[target_feature(enable = "avx2,fma")]
    fn exp_avx2(x: &[f64; 8]) -> [f64; 8] {
        Avx2::load(x).exp_nonpositive().to_f64()
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    fn exp_avx512_f32(x: &[f32; 16]) -> [f64; 16] {
        Avx512F32::load(x).exp_nonpositive().to_f64()
    }

    #[target_feature(enable = "avx2,fma")]
    fn exp_avx2_f32(x: &[f32; 16]) -> [f64; 16] {
        Avx2F32::load(x).exp_nonpositive().to_f64()
    }

    #[test]
    fn f32_vector_exps_are_within_one_ulp_of_libm_rounded_to_f32() {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            let worst = worst_ulps_f32(|x| unsafe { exp_avx512_f32(x) });
            assert!(worst <= 1, "AVX-512 f32 exp: {worst} ulp");
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            let worst = worst_ulps_f32(|x| unsafe { exp_avx2_f32(x) });
            assert!(worst <= 1, "AVX2 f32 exp: {worst} ulp");
        }
    }

    /// The f64 vector exponentials against libm: measured worst 1 ulp on AVX-512 (whole range)
    /// and on AVX2 (above the flush at −708).
    #[test]
    fn vector_exps_are_within_one_ulp_of_libm() {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            let worst = worst_ulps(|x| unsafe { exp_avx512(x) }, f64::NEG_INFINITY);
            assert!(worst <= 1, "AVX-512 exp: {worst} ulp");
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            let worst = worst_ulps(|x| unsafe { exp_avx2(x) }, FLUSH_BELOW);
            assert!(worst <= 1, "AVX2 exp: {worst} ulp");
        }
    }
}
