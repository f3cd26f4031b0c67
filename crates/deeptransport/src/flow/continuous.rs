//! The continuous DAE (Definition 3.1, METHODS §4) for Gaussians, Gaussian mixtures and
//! kernel-smoothed data.
//!
//! The continuous DAE moves points by `dx/dt = ∇log μ_t(x)`, where `μ_t = φ_t♯μ₀` solves the
//! backward heat equation `∂_t μ_t = −Δμ_t` (Theorem 3.1). For the three sources here `μ_t` stays
//! a Gaussian mixture whose covariances shrink by `2tI`:
//!
//! | source | `μ_t` | first singular time `t*` | how `φ_t` is computed |
//! |---|---|---|---|
//! | `N(m, Σ)` | `N(m, Σ − 2tI)` | `λ_min(Σ)/2` | closed form (12), [`gaussian::continuous_map`] |
//! | `Σ_k π_k N(m_k, Σ_k)` | `Σ_k π_k N(m_k, Σ_k − 2tI)` | `min_k λ_min(Σ_k)/2` | [`ode::dopri5`] on the closed-form score |
//! | data `Σ_i w_i δ_{x_i}` smoothed by `N(0, H·I)` | `Σ_i w_i N(x_i, (H − 2t)I)` | `H/2` | [`ode::dopri5`], score through [`crate::kernel`] |
//!
//! At `t*` a covariance of `μ_t` becomes singular (for smoothed data the trajectories reach the
//! atoms), so every time at or past it is refused with [`Error::PastSingularTime`] before any work.
//! The smoothed-data flow is the probability-flow ODE of a variance-exploding diffusion with the
//! exact empirical score.
//!
//! ```
//! use deeptransport::flow::continuous::{FlowSource, SmoothedData, continuous_dae};
//! use deeptransport::flow::ode::OdeOptions;
//! use deeptransport::measure::Empirical;
//! use ndarray::array;
//!
//! // One atom at 0 smoothed with H = 1 is N(0, I): t* = 1/2 and x(t) = √(1 − 2t)·x₀ (eq. 12).
//! let atom = Empirical::new(array![[0.0, 0.0]])?;
//! let src = FlowSource::SmoothedData(SmoothedData::new(atom, 1.0)?);
//! let x0 = array![[1.0, -2.0]];
//! let flow = continuous_dae(&src, x0.view(), &[0.375], &OdeOptions::default(), &mut |_| {})?;
//! assert_eq!(flow.singular_time, 0.5);
//! assert!((flow.trajectory.last()[[0, 0]] - 0.5).abs() < 1e-7); // √(1 − 0.75) = 0.5
//! assert!((flow.trajectory.last()[[0, 1]] + 1.0).abs() < 1e-7);
//! // At or past t* the flow does not exist.
//! assert!(continuous_dae(&src, x0.view(), &[0.5], &OdeOptions::default(), &mut |_| {}).is_err());
//! # Ok::<(), deeptransport::Error>(())
//! ```

use crate::error::{Error, Result, check_points};
use crate::flow::ode::{self, OdeOptions, OdeStats};
use crate::flow::{Trajectory, gaussian};
use crate::kernel::{self, PairKernel};
use crate::linalg::sym_eigen;
use crate::measure::{Empirical, Gaussian, Mixture};
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use rayon::prelude::*;

/// A point cloud smoothed by a Gaussian kernel of variance `H` (the bandwidth):
/// `μ₀ = Σ_i w_i N(x_i, H·I)`, i.e. the data convolved with `W_H`.
#[derive(Debug, Clone)]
pub struct SmoothedData {
    data: Empirical,
    bandwidth: f64,
}

impl SmoothedData {
    /// The data `Σ_i w_i δ_{x_i}` smoothed with bandwidth (variance) `H`.
    ///
    /// Domain: `H` finite and `> 0` ([`Error::InvalidParameter`] naming `bandwidth` otherwise).
    pub fn new(data: Empirical, bandwidth: f64) -> Result<Self> {
        if !(bandwidth.is_finite() && bandwidth > 0.0) {
            return Err(Error::InvalidParameter {
                name: "bandwidth".into(),
                value: crate::error::fmt_num(bandwidth),
                reason: "must be a finite number > 0 (a kernel variance H)".into(),
            });
        }
        Ok(SmoothedData { data, bandwidth })
    }

    /// The atoms and their weights.
    pub fn data(&self) -> &Empirical {
        &self.data
    }

    /// The bandwidth `H` (a variance).
    pub fn bandwidth(&self) -> f64 {
        self.bandwidth
    }
}

/// The initial measure `μ₀` of a continuous DAE.
#[derive(Debug, Clone)]
pub enum FlowSource {
    /// `N(m, Σ)`: the closed form (12).
    Gaussian(Gaussian),
    /// `Σ_k π_k N(m_k, Σ_k)`.
    Mixture(Mixture),
    /// `Σ_i w_i N(x_i, H·I)`.
    SmoothedData(SmoothedData),
}

impl FlowSource {
    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        match self {
            FlowSource::Gaussian(g) => g.dim(),
            FlowSource::Mixture(m) => m.dim(),
            FlowSource::SmoothedData(s) => s.data.dim(),
        }
    }

    /// A short name: `gaussian`, `mixture` or `smoothed data`.
    pub fn kind(&self) -> &'static str {
        match self {
            FlowSource::Gaussian(_) => "gaussian",
            FlowSource::Mixture(_) => "mixture",
            FlowSource::SmoothedData(_) => "smoothed data",
        }
    }
}

/// The first singular time `t*` of the continuous DAE of `source` (METHODS §4): `λ_min(Σ)/2` for
/// a Gaussian (eq. 12), `min_k λ_min(Σ_k)/2` for a mixture, `H/2` for smoothed data. For `t < t*`
/// every covariance of `μ_t` is positive definite.
///
/// Cost: one symmetric eigen-decomposition per covariance, `O(K·d³)`. Errors only if an
/// eigen-decomposition fails ([`Error::NotConverged`]).
pub fn singular_time(source: &FlowSource) -> Result<f64> {
    Ok(Prepared::new(source)?.singular_time(source).0)
}

/// The eigen-decompositions `Σ_k = V_k diag(λ_k) V_kᵀ` of every component, computed once so that
/// `(Σ_k − 2tI)⁻¹ = V_k diag(1/(λ_k − 2t)) V_kᵀ` and `log det(Σ_k − 2tI) = Σ log(λ_k − 2t)` cost
/// `O(d²)` and `O(d)` at any `t`, without refactorising per right-hand-side evaluation.
struct Spectra {
    d: usize,
    log_pi: Vec<f64>,
    means: Vec<Array1<f64>>,
    vals: Vec<Array1<f64>>,
    /// `V_k` row-major, `d × d` (column `j` is the eigenvector of `λ_{k,j}`).
    vecs: Vec<Vec<f64>>,
    /// `(t*, k*)`: the first singular time and the component attaining it.
    star: (f64, usize),
    /// `λ_{k,j} − 2t* ≥ 0`, exactly `0` for the eigenvalue attaining `t*` (halving and doubling
    /// are exact), so that `λ − 2t = (λ − 2t*) + 2(t* − t)` stays positive near `t*`.
    gaps: Vec<Vec<f64>>,
}

impl Spectra {
    /// The spectra of a Gaussian (one component) or a mixture; `None` for smoothed data.
    fn of(source: &FlowSource) -> Result<Option<Self>> {
        let (weights, comps): (Vec<f64>, &[Gaussian]) = match source {
            FlowSource::Gaussian(g) => (vec![1.0], std::slice::from_ref(g)),
            FlowSource::Mixture(m) => (m.weights().to_vec(), m.components()),
            FlowSource::SmoothedData(_) => return Ok(None),
        };
        let d = comps[0].dim();
        let mut sp = Spectra {
            d,
            log_pi: Vec::new(),
            means: Vec::new(),
            vals: Vec::new(),
            vecs: Vec::new(),
            star: (f64::INFINITY, 0),
            gaps: Vec::new(),
        };
        for (w, g) in weights.iter().zip(comps) {
            // A component of weight zero never contributes (log π = −∞), not even to t*.
            if *w <= 0.0 {
                continue;
            }
            let (vals, vecs) = sym_eigen(g.cov())?;
            sp.log_pi.push(w.ln());
            sp.means.push(g.mean().to_owned());
            sp.vals.push(vals);
            sp.vecs
                .push(vecs.as_standard_layout().iter().copied().collect());
        }
        sp.star = sp.find_singular_time();
        let two_t_star = 2.0 * sp.star.0;
        sp.gaps = sp
            .vals
            .iter()
            .map(|v| v.iter().map(|l| l - two_t_star).collect())
            .collect();
        Ok(Some(sp))
    }

    /// `t* = min_k λ_min(Σ_k)/2` and the (0-based) component that attains it.
    fn singular_time(&self) -> (f64, usize) {
        self.star
    }

    fn find_singular_time(&self) -> (f64, usize) {
        let mut best = (f64::INFINITY, 0);
        for (k, v) in self.vals.iter().enumerate() {
            let lo = v.iter().fold(f64::INFINITY, |m, &l| m.min(l));
            if 0.5 * lo < best.0 {
                best = (0.5 * lo, k);
            }
        }
        best
    }

    /// Writes `∇log μ_t(x) = Σ_k r_k(x, t)·(−(Σ_k − 2tI)⁻¹(x − m_k))` for every point of the flat
    /// row-major `y` (`n·d` values) into `dy`; responsibilities `r_k` in log space. The time is
    /// given as its distance `δ = t* − t > 0` to the singular time (eigenvalues of `Σ_k − 2tI`:
    /// `(λ − 2t*) + 2δ`, accurate however close `t` is to `t*`). Cost `O(n·K·d²)`, parallel over
    /// fixed blocks of points (deterministic).
    fn score(&self, delta: f64, y: &[f64], dy: &mut [f64]) {
        let d = self.d;
        let k_count = self.vals.len();
        let inv_s: Vec<Vec<f64>> = self
            .gaps
            .iter()
            .map(|g| g.iter().map(|g| 1.0 / (g + 2.0 * delta)).collect())
            .collect();
        // log π_k − ½ log det(Σ_k − 2tI); the common −(d/2) log 2π cancels in r_k.
        let log_c: Vec<f64> = self
            .gaps
            .iter()
            .zip(&self.log_pi)
            .map(|(g, lp)| lp - 0.5 * g.iter().map(|g| (g + 2.0 * delta).ln()).sum::<f64>())
            .collect();
        const BLOCK: usize = 64;
        dy.par_chunks_mut(BLOCK * d)
            .zip(y.par_chunks(BLOCK * d))
            .for_each(|(out, x)| {
                let mut w = vec![0.0; k_count * d];
                let mut logt = vec![0.0; k_count];
                let mut diff = vec![0.0; d];
                for (o, xi) in out.chunks_mut(d).zip(x.chunks(d)) {
                    for k in 0..k_count {
                        let m = &self.means[k];
                        for j in 0..d {
                            diff[j] = xi[j] - m[j];
                        }
                        let v = &self.vecs[k];
                        let wk = &mut w[k * d..(k + 1) * d];
                        let mut q = 0.0;
                        // z = V_kᵀ(x − m_k), then w = z / (λ − 2t), q = zᵀ w.
                        for j in 0..d {
                            let mut z = 0.0;
                            for i in 0..d {
                                z += v[i * d + j] * diff[i];
                            }
                            wk[j] = z * inv_s[k][j];
                            q += z * wk[j];
                        }
                        logt[k] = log_c[k] - 0.5 * q;
                    }
                    let max = logt.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                    let total: f64 = logt.iter().map(|l| (l - max).exp()).sum();
                    o.fill(0.0);
                    for k in 0..k_count {
                        let r = (logt[k] - max).exp() / total;
                        if r == 0.0 {
                            continue;
                        }
                        let v = &self.vecs[k];
                        let wk = &w[k * d..(k + 1) * d];
                        // −r_k V_k w_k.
                        for i in 0..d {
                            let mut s = 0.0;
                            for j in 0..d {
                                s += v[i * d + j] * wk[j];
                            }
                            o[i] -= r * s;
                        }
                    }
                }
            });
    }
}

/// A source prepared for repeated score evaluations.
enum Prepared<'a> {
    /// Gaussian or mixture.
    Spectral(Spectra),
    /// Smoothed data: atoms, normalised log-weights, bandwidth.
    Data {
        atoms: ArrayView2<'a, f64>,
        log_w: Option<Array1<f64>>,
        bandwidth: f64,
    },
}

impl<'a> Prepared<'a> {
    fn new(source: &'a FlowSource) -> Result<Self> {
        Ok(match source {
            FlowSource::SmoothedData(s) => Prepared::Data {
                atoms: s.data.points(),
                log_w: s.data.weights().map(|w| w.mapv(f64::ln)),
                bandwidth: s.bandwidth,
            },
            _ => Prepared::Spectral(Spectra::of(source)?.expect("Gaussian or mixture")),
        })
    }

    /// `t*` and a description of where it comes from, for error messages.
    fn singular_time(&self, source: &FlowSource) -> (f64, String) {
        match (self, source) {
            (Prepared::Data { bandwidth, .. }, _) => (
                0.5 * bandwidth,
                format!(
                    "the data smoothed with bandwidth H = {} (t* = H/2)",
                    crate::error::fmt_num(*bandwidth)
                ),
            ),
            (Prepared::Spectral(sp), FlowSource::Gaussian(_)) => (
                sp.singular_time().0,
                "the Gaussian μ₀ (t* = λ_min(Σ)/2, eq. 12)".into(),
            ),
            (Prepared::Spectral(sp), _) => {
                let (t, k) = sp.singular_time();
                (
                    t,
                    format!(
                        "the Gaussian mixture μ₀ (t* = min_k λ_min(Σ_k)/2, attained by component \
                         {})",
                        k + 1
                    ),
                )
            }
        }
    }

    /// The score `∇log μ_t` at the `n = y.len()/d` points of the flat row-major `y`, into `dy`.
    /// At `t = t* − δ` (`δ > 0`, see [`Spectra::score`]); `t` itself only names the time in
    /// errors.
    fn score(&self, t: f64, delta: f64, y: &[f64], dy: &mut [f64]) -> Result<()> {
        match self {
            Prepared::Spectral(sp) => {
                sp.score(delta, y, dy);
                Ok(())
            }
            Prepared::Data { atoms, log_w, .. } => {
                let d = atoms.ncols();
                // H − 2t = 2(t* − t): t* = H/2 exactly.
                let s = 2.0 * delta;
                let x = ArrayView2::from_shape((y.len() / d, d), y).expect("n·d state");
                // ∇log Σ_i w_i N(x; x_i, sI) = (Σ_i r_i x_i − x)/s: one kernel softmax pass.
                let r = kernel::softmax_mean(
                    x,
                    *atoms,
                    log_w.as_ref().map(|w| w.view()),
                    PairKernel::Gaussian {
                        inv_two_t: 1.0 / (2.0 * s),
                    },
                    &|_| {},
                );
                if let Some(j) = r.log_normalizer.iter().position(|l| !l.is_finite()) {
                    return Err(Error::NonFinite {
                        what: format!(
                            "the score of the smoothed data at t = {} (the point is too far \
                             from every atom for double precision)",
                            crate::error::fmt_num(t)
                        ),
                        row: j + 1,
                        col: 1,
                        value: r.log_normalizer[j],
                    });
                }
                let inv_s = 1.0 / s;
                for ((o, m), xv) in dy.iter_mut().zip(r.mean.iter()).zip(y) {
                    *o = (m - xv) * inv_s;
                }
                Ok(())
            }
        }
    }
}

fn check_flow_times(times: &[f64], t_star: f64, what: &str) -> Result<()> {
    let mut prev = 0.0;
    for (k, &t) in times.iter().enumerate() {
        if !(t.is_finite() && t >= prev) {
            return Err(Error::InvalidParameter {
                name: format!("time {}", k + 1),
                value: crate::error::fmt_num(t),
                reason: format!(
                    "flow times must be finite, ≥ 0 and non-decreasing (previous {})",
                    crate::error::fmt_num(prev)
                ),
            });
        }
        prev = t;
    }
    if prev >= t_star {
        return Err(Error::PastSingularTime {
            t: prev,
            singular_time: t_star,
            what: what.to_string(),
        });
    }
    Ok(())
}

/// The score `∇log μ_t(x)` of the continuous DAE's `μ_t` at every row of `points` (n × d):
/// `Σ_k r_k(x, t)·(−(Σ_k − 2tI)⁻¹(x − m_k))` for a Gaussian or mixture (responsibilities in log
/// space), `(Σ_i r_i x_i − x)/(H − 2t)` for smoothed data (the kernel's softmax mean with
/// variance `H − 2t`). This is the velocity of the flow at time `t`.
///
/// Domain: `0 ≤ t < t*` ([`Error::PastSingularTime`] otherwise), `points` non-empty, finite, `d`
/// columns. Exact up to rounding. Cost `O(K·d³ + n·K·d²)`, or `O(n·N·d)` for `N` atoms.
pub fn score_at(source: &FlowSource, t: f64, points: ArrayView2<f64>) -> Result<Array2<f64>> {
    check_points("points", points, Some(source.dim()))?;
    let prep = Prepared::new(source)?;
    let (t_star, what) = prep.singular_time(source);
    check_flow_times(&[t], t_star, &what)?;
    let y: Vec<f64> = points.iter().copied().collect();
    let mut dy = vec![0.0; y.len()];
    prep.score(t, t_star - t, &y, &mut dy)?;
    Ok(Array2::from_shape_vec(points.raw_dim(), dy).expect("n × d"))
}

/// The result of [`continuous_dae`].
#[derive(Debug, Clone)]
pub struct ContinuousFlow {
    /// `φ_t(x)` for every input point at `t = 0` (the input itself) and at each requested time.
    pub trajectory: Trajectory,
    /// Integrator statistics (all zero for the closed-form Gaussian flow).
    pub stats: OdeStats,
    /// The first singular time `t*` of the source.
    pub singular_time: f64,
    /// Whether the closed form (12) was used (Gaussian source) rather than the integrator.
    pub closed_form: bool,
}

/// The continuous DAE (Definition 3.1): `dx/dt = ∇log μ_t(x)`, `x(0) = ` each row of `points`,
/// returned at `t = 0` and at each of `times`.
///
/// - Gaussian: the closed form (12), `φ_t(x) = (I − 2tΣ⁻¹)^{1/2}(x − m) + m`, exact up to the
///   eigen-decomposition of `Σ`; no integration.
/// - Mixture and smoothed data: all points as one system of `n·d` equations integrated by
///   [`ode::dopri5`] with `opts` (error control on the whole state, so the step is set by the
///   fastest point; with [`ode::ErrorNorm::Rms`] one point's error may exceed the tolerance by up
///   to `√(n·d)`, [`ode::ErrorNorm::Max`] holds every point to it), the score as in
///   [`score_at`]. The independent variable is the log-time `τ = −log(1 − t/t*)`:
///   `dx/dτ = (t* − t)·∇log μ_t(x)`, `t* − t = t*·e^{−τ}`. Near `t*` the flow collapses like
///   `√(t* − t)` (onto an atom, or along a component's shortest axis), which is smooth in `τ` but
///   not in `t`, so in `τ` the steps stay regular up to `t*` (`O(log(t*/(t* − T)))` steps)
///   instead of alternating accepted and rejected steps. Steps, [`OdeStats`] and
///   [`OdeOptions::initial_step`] therefore refer to `τ`; the tolerances to `x`, unchanged. The
///   global error is typically a small multiple of `rtol·|x| + atol`.
///
/// Domain: `points` non-empty, finite, `d` columns; `times` finite, `≥ 0`, non-decreasing and
/// every one below the singular time `t*` ([`singular_time`]) — a time at or past it is an
/// [`Error::PastSingularTime`] naming both, returned before any integration; `opts` as
/// [`OdeOptions::check`]. `progress` receives the fraction of `[0, max times]` done.
///
/// Cost: per right-hand side `O(n·K·d²)` for a mixture of `K` components, `O(n·N·d)` for `N`
/// atoms (the kernel's streaming softmax); 6 per accepted step. Memory `O((T + 9)·n·d)`.
/// Deterministic: bit-identical for any thread count.
pub fn continuous_dae(
    source: &FlowSource,
    points: ArrayView2<f64>,
    times: &[f64],
    opts: &OdeOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<ContinuousFlow> {
    opts.check()?;
    check_points("points", points, Some(source.dim()))?;
    let prep = Prepared::new(source)?;
    let (t_star, what) = prep.singular_time(source);
    check_flow_times(times, t_star, &what)?;
    let (n, d) = points.dim();
    let mut positions = Array3::zeros((times.len() + 1, n, d));
    positions.index_axis_mut(Axis(0), 0).assign(&points);
    let mut all_times = Vec::with_capacity(times.len() + 1);
    all_times.push(0.0);
    all_times.extend_from_slice(times);

    if let FlowSource::Gaussian(g) = source {
        for (k, &t) in times.iter().enumerate() {
            let mut slab = positions.index_axis_mut(Axis(0), k + 1);
            if t == 0.0 {
                slab.assign(&points);
            } else {
                slab.assign(&gaussian::continuous_map(g, t, points)?);
            }
        }
        progress(1.0);
        return Ok(ContinuousFlow {
            trajectory: Trajectory::new(positions, all_times)?,
            stats: OdeStats::default(),
            singular_time: t_star,
            closed_form: true,
        });
    }

    // Integrate in the log-time τ = −log(1 − t/t*), t = t*(1 − e^{−τ}), t* − t = t* e^{−τ}:
    // dx/dτ = (t* − t)·∇log μ_t(x). Near t* the flow collapses like √(t* − t) = √t*·e^{−τ/2}
    // (onto an atom, or along the shortest axis of a component): smooth in τ, but with an
    // unbounded derivative in t, where the step controller chases a growing error constant
    // (about one rejected step per accepted one); in τ the steps stay regular.
    let tau_of = |t: f64| -(-t / t_star).ln_1p();
    let taus: Vec<f64> = times.iter().map(|&t| tau_of(t)).collect();
    let tau_end = taus.last().copied().unwrap_or(0.0);
    let t_end = times.last().copied().unwrap_or(0.0);
    let y0: Vec<f64> = points.iter().copied().collect();
    let sol = ode::dopri5(
        |tau, y, dy| {
            let delta = t_star * (-tau).exp();
            let t = -t_star * (-tau).exp_m1();
            prep.score(t, delta, y, dy)?;
            dy.iter_mut().for_each(|v| *v *= delta);
            Ok(())
        },
        0.0,
        &y0,
        &taus,
        opts,
        &mut |f| {
            // Report the fraction of [0, T] in t, not in τ.
            let t = -t_star * (-f * tau_end).exp_m1();
            progress(if t_end > 0.0 {
                (t / t_end).min(1.0)
            } else {
                1.0
            });
        },
    )
    .map_err(|e| match e {
        // The integrator speaks of τ; say how that maps to the user's t.
        Error::NotConverged(msg) => Error::NotConverged(format!(
            "{msg} (the continuous DAE is integrated in the log-time τ = −log(1 − t/t*), \
             t* = {t_star}; the final time T = {t_end} is τ = {tau_end})"
        )),
        e => e,
    })?;
    for (k, state) in sol.states.iter().enumerate() {
        let slab = ArrayView2::from_shape((n, d), state).expect("n·d state");
        positions.index_axis_mut(Axis(0), k + 1).assign(&slab);
    }
    Ok(ContinuousFlow {
        trajectory: Trajectory::new(positions, all_times)?,
        stats: sol.stats,
        singular_time: t_star,
        closed_form: false,
    })
}
