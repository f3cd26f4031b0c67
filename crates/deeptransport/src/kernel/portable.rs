//! The portable [`Vector`]s: eight `f64` ([`Portable`]) or sixteen `f32` ([`PortableF32`]) lanes
//! as plain arrays, every operation a loop over the lanes that the compiler vectorises for the
//! baseline target — NEON on aarch64 (four or eight 128-bit registers per vector, fused
//! multiply-adds), SSE2 on x86-64 without AVX2. No intrinsics and no `unsafe`: this is the tiled
//! path of every CPU that has no explicit one (the `portable` SIMD path).
//!
//! The lane counts are those of the AVX-512 and AVX2 vectors, so the summation order of the tiled
//! loop — eight (sixteen) lane sums folded in a fixed order — is the same on every path; results
//! still differ in the last bits (exponential, fused or unfused multiply-adds).
//!
//! The exponentials are those of the AVX2 vectors lane by lane: `x = k ln 2 + r`, a
//! polynomial for `e^r` (degree 11 in `f64`, 7 in `f32`) and `2^k` built in the exponent bits;
//! exactly 0 below [`FLUSH_BELOW`] (`f32`: [`FLUSH_BELOW_F32`]). Their accuracy is asserted
//! below against libm (1 ulp, as the others).

use super::exp::{C, FLUSH_BELOW, LN2_HI, LN2_LO, LOG2E, POW2_BIAS, SHIFTER, TAYLOR_7};
use super::simd::{FLUSH_BELOW_F32, POW2_BIAS_F32, SHIFTER_F32, Vector, exp_poly};

/// `ln 2` split for the `f32` exponential without fused multiply-adds (SSE2): the head keeps 16
/// significant bits, so `k·hi` is exact for `|k| < 2⁸` (here `k ≥ −93`) even when rounded on its
/// own; the tail is what it misses, rounded to `f32` (its product's rounding is `< 10⁻¹¹` in `r`).
const LN2_HI_F32: f32 = f32::from_bits(std::f32::consts::LN_2.to_bits() & !0xff);
const LN2_LO_F32: f32 = (std::f64::consts::LN_2 - LN2_HI_F32 as f64) as f32;

/// `a·b + c`: fused where the baseline target has a fused multiply-add instruction (aarch64, or
/// x86-64 built with `fma`), else two roundings — a libm `fma` call per lane would be far slower
/// than the rounding it saves.
#[inline(always)]
fn fused_f64(a: f64, b: f64, c: f64) -> f64 {
    #[cfg(any(target_arch = "aarch64", target_feature = "fma"))]
    return a.mul_add(b, c);
    #[cfg(not(any(target_arch = "aarch64", target_feature = "fma")))]
    return a * b + c;
}

/// [`fused_f64`] in `f32`.
#[inline(always)]
fn fused_f32(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(any(target_arch = "aarch64", target_feature = "fma"))]
    return a.mul_add(b, c);
    #[cfg(not(any(target_arch = "aarch64", target_feature = "fma")))]
    return a * b + c;
}

/// The lane-wise methods of [`Vector`] for an array type: one loop per operation.
macro_rules! lanes {
    ($ty:ident, $s:ty, $n:literal, $fused:ident) => {
        #[inline(always)]
        fn splat(v: f64) -> Self {
            $ty([v as $s; $n])
        }
        #[inline(always)]
        fn load(s: &[$s]) -> Self {
            $ty(s[..$n].try_into().expect("a full vector"))
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            self.zip(b, |x, y| x + y)
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            self.zip(b, |x, y| x - y)
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            self.zip(b, |x, y| x * y)
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            let mut o = c.0;
            for l in 0..$n {
                o[l] = $fused(self.0[l], b.0[l], c.0[l]);
            }
            $ty(o)
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            // The x86 `max` convention (the second operand unless the first is larger), which
            // compiles to one instruction.
            self.zip(b, |x, y| if x > y { x } else { y })
        }
        #[inline(always)]
        fn abs(self) -> Self {
            let mut o = self.0;
            for v in &mut o {
                *v = v.abs();
            }
            $ty(o)
        }
        #[inline(always)]
        fn any_positive<const R: usize>(v: &[Self; R]) -> bool {
            // Non-short-circuit `|`, so the comparisons are vector compares and one reduction.
            let mut any = false;
            for x in v {
                for l in 0..$n {
                    any |= x.0[l] > 0.0;
                }
            }
            any
        }
        #[inline(always)]
        fn select_le(self, bound: Self, then: Self, other: Self) -> Self {
            let mut o = other.0;
            for l in 0..$n {
                if self.0[l] <= bound.0[l] {
                    o[l] = then.0[l];
                }
            }
            $ty(o)
        }
    };
}

/// Eight `f64` lanes as an array.
#[derive(Clone, Copy)]
pub(super) struct Portable([f64; 8]);

impl Portable {
    /// `f` lane by lane.
    #[inline(always)]
    fn zip(self, b: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        let mut o = self.0;
        for l in 0..8 {
            o[l] = f(self.0[l], b.0[l]);
        }
        Portable(o)
    }
}

impl Vector for Portable {
    type Scalar = f64;
    type Wide = [f64; 8];
    const LANES: usize = 8;
    const NARROW: bool = false;
    const LOWEST: f64 = f64::MIN;
    lanes!(Portable, f64, 8, fused_f64);
    #[inline(always)]
    fn to_f64(self) -> [f64; 8] {
        self.0
    }
    /// As the AVX2 vector's: degree-11 polynomial, `2^k` built in the exponent bits,
    /// exactly 0 below [`FLUSH_BELOW`].
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let shifted = self.mul_add(Self::splat(LOG2E), Self::splat(SHIFTER));
        let k = shifted.sub(Self::splat(SHIFTER));
        let r = k.mul_add(Self::splat(-LN2_LO), k.mul_add(Self::splat(-LN2_HI), self));
        let mut e = exp_poly(r, &C);
        for l in 0..8 {
            let scale = f64::from_bits(shifted.0[l].to_bits().wrapping_add(POW2_BIAS) << 52);
            // `!(x ≥ flush)` also zeroes `−∞` and NaN lanes, as the AVX2 mask does.
            e.0[l] = if self.0[l] >= FLUSH_BELOW {
                e.0[l] * scale
            } else {
                0.0
            };
        }
        e
    }
}

/// Sixteen `f32` lanes as an array.
#[derive(Clone, Copy)]
pub(super) struct PortableF32([f32; 16]);

impl PortableF32 {
    /// `f` lane by lane.
    #[inline(always)]
    fn zip(self, b: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        let mut o = self.0;
        for l in 0..16 {
            o[l] = f(self.0[l], b.0[l]);
        }
        PortableF32(o)
    }
}

impl Vector for PortableF32 {
    type Scalar = f32;
    type Wide = [f64; 16];
    const LANES: usize = 16;
    const NARROW: bool = true;
    const LOWEST: f64 = f32::MIN as f64;
    lanes!(PortableF32, f32, 16, fused_f32);
    #[inline(always)]
    fn to_f64(self) -> [f64; 16] {
        let mut a = [0.0; 16];
        for l in 0..16 {
            a[l] = self.0[l] as f64;
        }
        a
    }
    /// As the AVX2 `f32` vector's: degree-7 Taylor polynomial, `2^k` built in the exponent bits,
    /// lanes below [`FLUSH_BELOW_F32`] zeroed.
    #[inline(always)]
    fn exp_nonpositive(self) -> Self {
        let flush = FLUSH_BELOW_F32 as f32;
        let x = self.max(Self::splat(FLUSH_BELOW_F32));
        let shifter = Self::splat(SHIFTER_F32 as f64);
        let shifted = x.mul_add(Self::splat(LOG2E), shifter);
        let k = shifted.sub(shifter);
        let r = k.mul_add(Self::splat(-(LN2_HI_F32 as f64)), x);
        let r = k.mul_add(Self::splat(-(LN2_LO_F32 as f64)), r);
        let mut e = exp_poly(r, &TAYLOR_7);
        for l in 0..16 {
            let scale = f32::from_bits(shifted.0[l].to_bits().wrapping_add(POW2_BIAS_F32) << 23);
            e.0[l] = if self.0[l] >= flush {
                e.0[l] * scale
            } else {
                0.0
            };
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::super::simd::ulp_checks::{worst_ulps, worst_ulps_f32};
    use super::*;

    /// Within 1 ulp of libm on `[−708, 0]` (measured: 1), exactly 0 below, and the limits (the
    /// checks of the x86 vectors' exponentials).
    #[test]
    fn portable_exp_is_within_one_ulp_of_libm() {
        let worst = worst_ulps(|x| Portable(*x).exp_nonpositive().to_f64(), FLUSH_BELOW);
        assert!(worst <= 1, "portable exp: {worst} ulp");
    }

    /// `[−64, 0]` against libm's `f64` exp rounded to `f32`: within 1 ulp; exactly 0 below −64.
    #[test]
    fn portable_f32_exp_is_within_one_ulp_and_flushes_below_minus_64() {
        let worst = worst_ulps_f32(|x| PortableF32(*x).exp_nonpositive().to_f64());
        assert!(worst <= 1, "portable f32 exp: {worst} ulp");
    }
}
