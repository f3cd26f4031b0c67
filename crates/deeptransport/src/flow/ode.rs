//! Adaptive embedded Runge–Kutta integration: Dormand–Prince 5(4) with FSAL, step-size control
//! and dense output (Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*,
//! §II.4–II.6), written for the continuous DAE (METHODS §4).
//!
//! The state is one flat `&[f64]` slice (all particles of a flow form one system of length
//! `n·d`), and the right-hand side is a closure `f(t, y, dy) -> Result<()>` that writes `y' = f(t, y)`
//! into `dy`, so that an error (a time past a singularity, a non-finite score) stops the
//! integration instead of producing garbage.
//!
//! One step from `(t, y)` with size `h` evaluates the seven stages `k_1 … k_7` of the
//! Dormand–Prince tableau; the 5th-order solution `y₅ = y + h Σ b_j k_j` is propagated (local
//! extrapolation) and its last stage `k_7 = f(t + h, y₅)` is the first stage of the next step
//! (FSAL: six new evaluations per accepted step). The embedded 4th-order solution gives the local
//! error estimate `err = y₅ − y₄ = h Σ e_j k_j`.

use crate::error::{Error, Result, fmt_num};

/// Nodes `c_i` of the Dormand–Prince 5(4) tableau.
const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;

/// Coupling coefficients `a_ij`.
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
/// 5th-order weights `b_j` (the last row of `a`, `b_2 = b_7 = 0`).
const B1: f64 = 35.0 / 384.0;
const B3: f64 = 500.0 / 1113.0;
const B4: f64 = 125.0 / 192.0;
const B5: f64 = -2187.0 / 6784.0;
const B6: f64 = 11.0 / 84.0;
/// Error weights `e_j = b_j − b̂_j` (5th minus embedded 4th order).
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
/// Coefficients of the 4th-order continuous extension (Hairer–Nørsett–Wanner II.6, DOPRI5's
/// dense output of Shampine's type).
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// Safety factor of the step controller: aim at 90 % of the step the error model allows.
const SAFETY: f64 = 0.9;
/// A step may shrink by at most this factor (`h_new ≥ 0.2 h`) …
const FAC_MIN: f64 = 0.2;
/// … and grow by at most this one (`h_new ≤ 10 h`), as in DOPRI5.
const FAC_MAX: f64 = 10.0;
/// The PI controller's memory exponent β (Hairer–Wanner's recommended 0.04 for DOPRI5); the
/// proportional exponent is `1/5 − 0.75 β`.
const PI_BETA: f64 = 0.04;

/// How the componentwise scaled errors `r_i = err_i / (atol + rtol·max(|y_i|, |y_new,i|))` of a
/// step are combined into the one number that must be ≤ 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorNorm {
    /// Hairer's weighted RMS, `sqrt(mean_i r_i²)`: the standard choice (HNW I, II.4). For a
    /// system of many independent particles it averages over them, so one point's local error
    /// may reach `√(len y)` times the tolerance.
    #[default]
    Rms,
    /// `max_i |r_i|`: every component of every particle within the tolerance at every step (more
    /// steps than RMS on large systems).
    Max,
}

/// Tolerances and limits of [`dopri5`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OdeOptions {
    /// Relative tolerance `rtol > 0` of the weighted error norm.
    pub rtol: f64,
    /// Absolute tolerance `atol ≥ 0` (with `rtol` not both tiny: `atol + rtol·|y|` must be > 0).
    pub atol: f64,
    /// The largest number of attempted steps (accepted + rejected) before giving up with
    /// [`Error::NotConverged`].
    pub max_steps: usize,
    /// The first step size; `None`: Hairer's starting-step heuristic (two RHS evaluations).
    pub initial_step: Option<f64>,
    /// Use the PI step controller (β = 0.04) rather than the plain proportional one: it damps the
    /// oscillation of the step size where stability, not accuracy, limits the step.
    pub pi_control: bool,
    /// The norm of the scaled error estimate ([`ErrorNorm::Rms`] by default).
    pub norm: ErrorNorm,
}

impl Default for OdeOptions {
    /// `rtol = atol = 1e-8`, at most 100 000 steps, automatic first step, PI control, RMS norm.
    fn default() -> Self {
        OdeOptions {
            rtol: 1e-8,
            atol: 1e-8,
            max_steps: 100_000,
            initial_step: None,
            pi_control: true,
            norm: ErrorNorm::Rms,
        }
    }
}

/// The smallest relative tolerance accepted: about 45 ulp. The stages of a Dormand–Prince step
/// are sums of seven rounded terms, so its error estimate carries a rounding floor of a few ulp of
/// `|y|` that no step size removes; below this the controller shrinks the step without end (a
/// `flow --rtol 1e-300` ran ten minutes on two cores before it reached `max_steps`).
pub const MIN_RTOL: f64 = 1e-14;

impl OdeOptions {
    /// Checks the tolerances and limits: `MIN_RTOL ≤ rtol` finite, `atol ≥ 0` finite,
    /// `max_steps ≥ 1`, an initial step (if given) finite and `> 0`.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &str, value: f64, reason: &str| Error::InvalidParameter {
            name: name.into(),
            value: crate::error::fmt_num(value),
            reason: reason.into(),
        };
        if !(self.rtol.is_finite() && self.rtol >= MIN_RTOL) {
            return Err(bad(
                "rtol",
                self.rtol,
                &format!(
                    "must be a finite number ≥ {MIN_RTOL:e}: below that the integrator's \
                     rounding error exceeds the tolerance and no step meets it"
                ),
            ));
        }
        if !(self.atol.is_finite() && self.atol >= 0.0) {
            return Err(bad("atol", self.atol, "must be a finite number ≥ 0"));
        }
        if self.max_steps == 0 {
            return Err(bad("max_steps", 0.0, "must be at least 1"));
        }
        if let Some(h) = self.initial_step
            && !(h.is_finite() && h > 0.0)
        {
            return Err(bad("initial_step", h, "must be a finite number > 0"));
        }
        Ok(())
    }
}

/// What an integration cost and how large its error estimates were.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OdeStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps (error norm > 1, or a non-finite error estimate).
    pub rejected_steps: usize,
    /// Evaluations of the right-hand side, including the two of the starting-step heuristic.
    pub rhs_evaluations: usize,
    /// The largest local error estimate over accepted steps, in the max norm and unscaled:
    /// the maximum over accepted steps of `max_i |y₅,i − y₄,i|`, the difference between the propagated 5th-order and the
    /// embedded 4th-order solutions. It estimates the local error of the 4th-order solution, so
    /// it bounds the local error of the propagated solution from above (to leading order); the
    /// global error is typically of the order of this number times the number of steps or less.
    pub max_error_estimate: f64,
}

/// The solution of [`dopri5`] at the requested output times.
#[derive(Debug, Clone, PartialEq)]
pub struct OdeSolution {
    /// `y(t_k)` for each requested output time `t_k`, in order (each of the system's length).
    pub states: Vec<Vec<f64>>,
    /// Cost and error statistics.
    pub stats: OdeStats,
}

/// Workspace of one Dormand–Prince step: the seven stages and the trial states.
struct Stepper {
    k: [Vec<f64>; 7],
    y_stage: Vec<f64>,
    y_new: Vec<f64>,
    err: Vec<f64>,
}

impl Stepper {
    fn new(n: usize) -> Self {
        Stepper {
            k: std::array::from_fn(|_| vec![0.0; n]),
            y_stage: vec![0.0; n],
            y_new: vec![0.0; n],
            err: vec![0.0; n],
        }
    }

    /// One trial step from `(t, y)` with `k[0] = f(t, y)` already set: fills `k[1..7]`, `y_new`
    /// (5th order) and `err = y₅ − y₄`. Stage times are clamped to `t_max` so that no RHS is ever
    /// evaluated past the final time (rounding of `t + h` could otherwise overshoot by an ulp).
    fn step<F>(&mut self, rhs: &mut F, t: f64, y: &[f64], h: f64, t_max: f64) -> Result<()>
    where
        F: FnMut(f64, &[f64], &mut [f64]) -> Result<()>,
    {
        let [k1, k2, k3, k4, k5, k6, k7] = &mut self.k;
        let ys = &mut self.y_stage;
        let at = |c: f64| (t + c * h).min(t_max);
        for i in 0..y.len() {
            ys[i] = y[i] + h * (A21 * k1[i]);
        }
        rhs(at(C2), ys, k2)?;
        for i in 0..y.len() {
            ys[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
        }
        rhs(at(C3), ys, k3)?;
        for i in 0..y.len() {
            ys[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
        }
        rhs(at(C4), ys, k4)?;
        for i in 0..y.len() {
            ys[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
        }
        rhs(at(C5), ys, k5)?;
        for i in 0..y.len() {
            ys[i] =
                y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
        }
        rhs(at(1.0), ys, k6)?;
        let yn = &mut self.y_new;
        for i in 0..y.len() {
            yn[i] = y[i] + h * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
        }
        rhs(at(1.0), yn, k7)?;
        for i in 0..y.len() {
            self.err[i] =
                h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
        }
        Ok(())
    }

    /// The norm ([`ErrorNorm`]) of the scaled error estimate
    /// `r_i = err_i / (atol + rtol·max(|y_i|, |y_new,i|))`; the step is acceptable when it is
    /// ≤ 1. NaN or ∞ anywhere gives ∞ (the step is rejected).
    fn error_norm(&self, y: &[f64], opts: &OdeOptions) -> f64 {
        let scaled = self.err.iter().zip(y).zip(&self.y_new).map(|((e, a), b)| {
            let scale = opts.atol + opts.rtol * a.abs().max(b.abs());
            e / scale
        });
        let norm = match opts.norm {
            ErrorNorm::Rms => (scaled.map(|r| r * r).sum::<f64>() / y.len().max(1) as f64).sqrt(),
            // `f64::max` skips NaN: test for it so that a NaN error is never accepted.
            ErrorNorm::Max => {
                let mut m = 0.0f64;
                for r in scaled {
                    if r.is_nan() {
                        return f64::INFINITY;
                    }
                    m = m.max(r.abs());
                }
                m
            }
        };
        if norm.is_finite() {
            norm
        } else {
            f64::INFINITY
        }
    }

    /// Dense output of the last step `(t, y) → (t + h, y_new)` at `θ = (t_out − t)/h ∈ [0, 1]`:
    /// the 4th-order continuous extension
    /// `y(t + θh) = y + θ(Δ + (1−θ)(b + θ(Δ − h k_7 − b + (1−θ) h Σ d_j k_j)))`, with
    /// `Δ = y_new − y` and `b = h k_1 − Δ` (exact at θ = 0 and θ = 1 up to rounding).
    fn dense(&self, y: &[f64], h: f64, theta: f64, out: &mut [f64]) {
        let [k1, _, k3, k4, k5, k6, k7] = &self.k;
        let theta1 = 1.0 - theta;
        for i in 0..y.len() {
            let delta = self.y_new[i] - y[i];
            let bspl = h * k1[i] - delta;
            let r4 = delta - h * k7[i] - bspl;
            let r5 =
                h * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i]);
            out[i] = y[i] + theta * (delta + theta1 * (bspl + theta * (r4 + theta1 * r5)));
        }
    }
}

/// The weighted RMS norm of `v` with the scales `atol + rtol·|y_i|` (for the starting step).
fn scaled_norm(v: &[f64], y: &[f64], opts: &OdeOptions) -> f64 {
    let s: f64 = v
        .iter()
        .zip(y)
        .map(|(a, b)| {
            let r = a / (opts.atol + opts.rtol * b.abs());
            r * r
        })
        .sum();
    (s / v.len().max(1) as f64).sqrt()
}

/// Hairer's starting step (HNW I, II.4): `h₀ = 0.01 ‖y₀‖/‖f₀‖`, one explicit Euler step to
/// estimate the second derivative `‖f(t₀ + h₀, y₀ + h₀ f₀) − f₀‖/h₀`, and
/// `h₁ = (0.01 / max(‖f₀‖, ‖y''‖))^{1/5}`; the step is `min(100 h₀, h₁, h_max)`.
fn initial_step<F>(
    rhs: &mut F,
    t0: f64,
    y0: &[f64],
    f0: &[f64],
    h_max: f64,
    opts: &OdeOptions,
    stats: &mut OdeStats,
) -> Result<f64>
where
    F: FnMut(f64, &[f64], &mut [f64]) -> Result<()>,
{
    let d0 = scaled_norm(y0, y0, opts);
    let d1 = scaled_norm(f0, y0, opts);
    let mut h0 = if d0 < 1e-10 || d1 < 1e-10 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    h0 = h0.min(h_max);
    let y1: Vec<f64> = y0.iter().zip(f0).map(|(y, f)| y + h0 * f).collect();
    let mut f1 = vec![0.0; y0.len()];
    rhs((t0 + h0).min(t0 + h_max), &y1, &mut f1)?;
    stats.rhs_evaluations += 1;
    let diff: Vec<f64> = f1.iter().zip(f0).map(|(a, b)| a - b).collect();
    let d2 = scaled_norm(&diff, y0, opts) / h0;
    let dmax = d1.max(d2);
    let h1 = if dmax.is_finite() && dmax > 1e-15 {
        (0.01 / dmax).powf(0.2)
    } else if dmax.is_finite() {
        (h0 * 1e-3).max(1e-6)
    } else {
        h0 * 1e-3
    };
    Ok((100.0 * h0).min(h1).min(h_max))
}

fn check_initial(t0: f64, y0: &[f64]) -> Result<()> {
    if !t0.is_finite() {
        return Err(Error::InvalidParameter {
            name: "t0".into(),
            value: crate::error::fmt_num(t0),
            reason: "the initial time must be finite".into(),
        });
    }
    if let Some((i, &v)) = y0.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "initial state y0".into(),
            row: 1,
            col: i + 1,
            value: v,
        });
    }
    Ok(())
}

/// Integrates `y' = f(t, y)`, `y(t₀) = y₀` with the adaptive Dormand–Prince 5(4) pair and
/// returns `y` at each output time of `t_out` (HNW I, II.4–II.6).
///
/// - **Error control**: a step is accepted when Hairer's weighted RMS norm
///   `sqrt(mean_i (err_i / (atol + rtol·max(|y_i|, |y_new,i|)))²) ≤ 1`, `err = y₅ − y₄` (or the
///   max norm of the same ratios, [`OdeOptions::norm`]).
/// - **Step controller**: `h_new = h · clamp(0.9 · ‖err‖^{−(1/5 − 0.75β)} · ‖err_prev‖^{β}, 0.2, 10)`
///   (β = 0.04 with [`OdeOptions::pi_control`], else 0), no growth right after a rejection; the
///   first step by Hairer's heuristic unless [`OdeOptions::initial_step`] is given.
/// - **Dense output**: output times falling inside a step are interpolated by the 4th-order
///   continuous extension (steps are never shortened to hit them), an output time equal to a step
///   end takes that step's value exactly. The last step is cut to end exactly at the final time
///   `max t_out`; no stage is ever evaluated past it.
///
/// Domain: `t₀` finite, `y₀` finite, `t_out` finite, non-decreasing and `≥ t₀` (output times equal
/// to `t₀` return `y₀`); options as [`OdeOptions::check`]. `progress` receives the fraction of
/// `[t₀, max t_out]` integrated after each accepted step.
///
/// Errors: invalid input as above ([`Error::InvalidParameter`], [`Error::NonFinite`]); any error
/// of `rhs`, returned as is; [`Error::NotConverged`] after [`OdeOptions::max_steps`] attempted
/// steps or when the step size falls below the rounding level of `t`.
///
/// Accuracy: the global error is typically within a small multiple of `rtol` (relative) plus
/// `atol` (absolute) for non-stiff problems, at interior output times that of the 4th-order
/// interpolant. Cost: 6 RHS evaluations per step (FSAL) plus 2 for the starting step, and
/// `O(len(y))` memory per stage (9 vectors).
pub fn dopri5<F>(
    mut rhs: F,
    t0: f64,
    y0: &[f64],
    t_out: &[f64],
    opts: &OdeOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<OdeSolution>
where
    F: FnMut(f64, &[f64], &mut [f64]) -> Result<()>,
{
    opts.check()?;
    check_initial(t0, y0)?;
    let mut prev = t0;
    for (k, &t) in t_out.iter().enumerate() {
        if !t.is_finite() || t < prev {
            return Err(Error::InvalidParameter {
                name: format!("output time {}", k + 1),
                value: fmt_num(t),
                reason: format!(
                    "output times must be finite, non-decreasing and ≥ t0 = {} (previous {})",
                    fmt_num(t0),
                    fmt_num(prev)
                ),
            });
        }
        prev = t;
    }
    let t_end = prev;
    let n = y0.len();
    let mut stats = OdeStats::default();
    let mut states: Vec<Vec<f64>> = Vec::with_capacity(t_out.len());
    // Outputs at t₀ need no integration.
    while states.len() < t_out.len() && t_out[states.len()] == t0 {
        states.push(y0.to_vec());
    }
    if t_end == t0 {
        progress(1.0);
        return Ok(OdeSolution { states, stats });
    }

    let mut st = Stepper::new(n);
    let mut y = y0.to_vec();
    let mut t = t0;
    rhs(t, &y, &mut st.k[0])?;
    stats.rhs_evaluations += 1;
    let h_max = t_end - t0;
    let mut h = match opts.initial_step {
        Some(h) => h.min(h_max),
        None => initial_step(&mut rhs, t0, &y, &st.k[0], h_max, opts, &mut stats)?,
    };
    let beta = if opts.pi_control { PI_BETA } else { 0.0 };
    let expo = 0.2 - 0.75 * beta;
    let mut err_old: f64 = 1e-4;
    let mut last_rejected = false;
    let mut attempts = 0usize;
    loop {
        if attempts >= opts.max_steps {
            return Err(Error::NotConverged(format!(
                "Dormand–Prince reached max_steps = {} attempted steps at t = {} of [{}, {}] \
                 (last step size {h:e}); loosen rtol/atol or raise max_steps",
                opts.max_steps,
                fmt_num(t),
                fmt_num(t0),
                fmt_num(t_end)
            )));
        }
        // Never step past the end; a step within 1 % of it lands on it exactly.
        let last = t + 1.01 * h >= t_end;
        if last {
            h = t_end - t;
        }
        if h.is_nan() || h <= 10.0 * f64::EPSILON * t.abs() || h < f64::MIN_POSITIVE {
            return Err(Error::NotConverged(format!(
                "Dormand–Prince step size {h:e} underflowed at t = {} (the solution may be \
                 singular there)",
                fmt_num(t)
            )));
        }
        attempts += 1;
        st.step(&mut rhs, t, &y, h, t_end)?;
        stats.rhs_evaluations += 6;
        let err = st.error_norm(&y, opts);
        let fac11 = err.powf(expo);
        if err <= 1.0 {
            let fac = (fac11 / err_old.powf(beta) / SAFETY).clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN);
            let mut h_new = h / fac;
            err_old = err.max(1e-4);
            stats.steps += 1;
            let local = st.err.iter().fold(0.0f64, |m, e| m.max(e.abs()));
            stats.max_error_estimate = stats.max_error_estimate.max(local);
            let t_new = if last { t_end } else { t + h };
            // Outputs inside (t, t_new]: interpolate, or take the step's end exactly.
            while states.len() < t_out.len() && t_out[states.len()] <= t_new {
                let to = t_out[states.len()];
                let mut out = vec![0.0; n];
                if to == t_new {
                    out.copy_from_slice(&st.y_new);
                } else {
                    st.dense(&y, h, (to - t) / h, &mut out);
                }
                states.push(out);
            }
            // FSAL: the last stage is f(t_new, y_new), the next step's first.
            std::mem::swap(&mut y, &mut st.y_new);
            let [k1, .., k7] = &mut st.k;
            std::mem::swap(k1, k7);
            t = t_new;
            progress(((t - t0) / (t_end - t0)).min(1.0));
            if last {
                break;
            }
            if last_rejected {
                h_new = h_new.min(h);
            }
            last_rejected = false;
            h = h_new;
        } else {
            stats.rejected_steps += 1;
            last_rejected = true;
            // Shrink by the error model, at most by 1/FAC_MIN (also when err is ∞).
            h /= (fac11 / SAFETY).min(1.0 / FAC_MIN);
        }
    }
    Ok(OdeSolution { states, stats })
}

/// The Dormand–Prince 5th-order solution with `n_steps` equal steps from `t₀` to `t₁`, without
/// error control: a test oracle for the order of the method (its global error is `O(h⁵)`,
/// `h = (t₁ − t₀)/n_steps`, for smooth `f`). Cost `6·n_steps + 1` RHS evaluations.
///
/// Domain: `t₀ < t₁` finite (stages never exceed `t₁`), `n_steps ≥ 1`, `y₀` finite.
pub fn dopri5_fixed<F>(mut rhs: F, t0: f64, y0: &[f64], t1: f64, n_steps: usize) -> Result<Vec<f64>>
where
    F: FnMut(f64, &[f64], &mut [f64]) -> Result<()>,
{
    check_initial(t0, y0)?;
    if !(t1.is_finite() && t1 > t0) || n_steps == 0 {
        return Err(Error::InvalidParameter {
            name: "t1, n_steps".into(),
            value: format!("{}, {n_steps}", fmt_num(t1)),
            reason: format!("need a finite t1 > t0 = {} and n_steps ≥ 1", fmt_num(t0)),
        });
    }
    let mut st = Stepper::new(y0.len());
    let mut y = y0.to_vec();
    rhs(t0, &y, &mut st.k[0])?;
    let h = (t1 - t0) / n_steps as f64;
    for s in 0..n_steps {
        let t = t0 + s as f64 * h;
        st.step(&mut rhs, t, &y, h, t1)?;
        std::mem::swap(&mut y, &mut st.y_new);
        let [k1, .., k7] = &mut st.k;
        std::mem::swap(k1, k7);
    }
    Ok(y)
}
