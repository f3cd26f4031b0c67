//! Compositions of optimal DAEs on particles (Section 3.1, METHODS §4).
//!
//! The deep DAE `Φ^t_{0:L} = Φ_{L−1} ∘ … ∘ Φ_0`, `t = τ_0 + … + τ_{L−1}`, whose layer ℓ is the
//! optimal DAE (Theorem 2.1, eq. 3) of the pushforward `μ_ℓ = Φ_{ℓ−1}♯μ_{ℓ−1}` with noise variance
//! `τ_ℓ`. For a point cloud `μ₀ = Σ_i w_i δ_{x_i}` every `μ_ℓ` is again a point cloud with the
//! same weights on the moved particles, so the composition is computed exactly on particles; with
//! Gaussian noise this is Gaussian *blurring mean shift*, which clusters the data.

use crate::dae::{self, Precision};
use crate::error::{Error, Result, check_points, check_time};
use crate::flow::Trajectory;
use crate::map::TransportMap;
use crate::measure::Empirical;
use crate::noise::Noise;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis, s};

/// The largest number of layers `L` accepted by [`deep_dae`] and [`constant_schedule`]: beyond it
/// the request is refused before anything is allocated.
pub const MAX_LAYERS: u64 = 1_000_000;

/// The result of [`deep_dae`]: the particles and the carried queries at the `L + 1` times
/// `0, τ_0, τ_0 + τ_1, …, Σ_ℓ τ_ℓ`.
#[derive(Debug, Clone)]
pub struct DeepDae {
    /// `x_ℓ^{(i)}`, the particles (the data) after ℓ layers, `(L + 1) × n × d`.
    pub particles: Trajectory,
    /// `y_ℓ^{(j)}`, the query points after ℓ layers, `(L + 1) × m × d`, when queries were given.
    pub queries: Option<Trajectory>,
}

/// The schedule `τ_ℓ = τ` for `ℓ = 0, …, L − 1` (total time `t = L·τ`).
///
/// Domain: `τ > 0` finite, `1 ≤ L ≤` [`MAX_LAYERS`]; anything else is an
/// [`Error::InvalidParameter`] returned before allocating. Cost `O(L)`.
pub fn constant_schedule(tau: f64, layers: u64) -> Result<Vec<f64>> {
    check_time("τ", tau)?;
    check_layers(layers)?;
    Ok(vec![tau; layers as usize])
}

fn check_layers(layers: u64) -> Result<()> {
    if layers == 0 || layers > MAX_LAYERS {
        return Err(Error::InvalidParameter {
            name: "L (number of layers)".into(),
            value: format!("{layers}"),
            reason: format!("must be between 1 and {MAX_LAYERS}"),
        });
    }
    Ok(())
}

/// The deep DAE on particles (Section 3.1, METHODS §4): with `x_0 = data`, `y_0 = queries`,
///
/// ```text
/// Φ_ℓ(z) = Σ_i w_i ν_{τ_ℓ}(z − x_ℓ^{(i)}) x_ℓ^{(i)} / Σ_i w_i ν_{τ_ℓ}(z − x_ℓ^{(i)})   (eq. 3 on μ_ℓ)
/// x_{ℓ+1} = Φ_ℓ(x_ℓ),   y_{ℓ+1} = Φ_ℓ(y_ℓ)
/// ```
///
/// so the queries (grid lines, held-out points) are carried by the *same* layer maps, each
/// computed from the particles before their update. For Gaussian noise this is Gaussian blurring
/// mean shift. Times are `t_0 = 0`, `t_{ℓ+1} = t_ℓ + τ_ℓ`.
///
/// Domain: `data` `n × d`, non-empty and finite; `weights` (optional) `n` non-negative numbers
/// with a positive sum (normalised, uniform `1/n` when `None`); `taus` `1 ≤ L ≤` [`MAX_LAYERS`]
/// finite variances `> 0`; `queries` `m × d` finite; any valid noise family. Uniform noise may
/// leave a query with no posterior ([`Error::NoPosterior`]); a particle of positive weight always
/// has one (it is its own atom).
///
/// Each layer is one pass of the kernel's streaming softmax reduction over the `n + m` rows
/// (particles and queries together); `progress` is called with the number of those rows finished,
/// accumulating to `L·(n + m)` over the whole call. Cost `O(L·(n + m)·n·d)` time,
/// `O(L·(n + m)·d)` memory for the trajectories. Deterministic: bit-identical for any thread
/// count. Every layer in `f64`: [`deep_dae_with`] with [`Precision::F64`].
pub fn deep_dae(
    data: ArrayView2<f64>,
    weights: Option<ArrayView1<f64>>,
    noise: Noise,
    taus: &[f64],
    queries: Option<ArrayView2<f64>>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<DeepDae> {
    deep_dae_with(
        data,
        weights,
        noise,
        taus,
        queries,
        Precision::F64,
        progress,
    )
}

/// [`deep_dae`] with every layer's empirical DAE in the given [`Precision`]
/// ([`dae::empirical_with`]). With [`Precision::F32`] (Gaussian noise, `d ≤ 3`; otherwise an
/// [`Error::Unsupported`]) each layer carries the `f32` error bound of
/// [`crate::kernel::softmax_mean_f32`]; the errors of earlier layers are carried through the later
/// layer maps, whose Jacobian `Cov_posterior/τ` can exceed 1 between clusters, so no bound is
/// claimed for the whole trajectory (the benchmark reports the measured difference).
pub fn deep_dae_with(
    data: ArrayView2<f64>,
    weights: Option<ArrayView1<f64>>,
    noise: Noise,
    taus: &[f64],
    queries: Option<ArrayView2<f64>>,
    precision: Precision,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<DeepDae> {
    if taus.is_empty() {
        return Err(Error::Empty {
            what: "τ schedule (L = 0 layers)".into(),
        });
    }
    check_layers(taus.len() as u64)?;
    for (l, &tau) in taus.iter().enumerate() {
        check_time(&format!("τ_{l}"), tau)?;
    }
    let noise = noise.check()?;
    check_points("data", data, None)?;
    let (n, d) = data.dim();
    if let Some(q) = queries {
        check_points("query", q, Some(d))?;
    }
    let m = queries.map_or(0, |q| q.nrows());
    let layers = taus.len();
    // Refuse sizes whose trajectories cannot even be indexed.
    (layers + 1)
        .checked_mul(n + m)
        .and_then(|v| v.checked_mul(d))
        .ok_or_else(|| Error::InvalidParameter {
            name: "L (number of layers)".into(),
            value: format!("{layers}"),
            reason: format!("(L + 1)·(n + m)·d overflows for n = {n}, m = {m}, d = {d}"),
        })?;
    let weights: Option<Array1<f64>> = match weights {
        None => None,
        Some(w) => Empirical::weighted(data.to_owned(), w.to_owned())?
            .weights()
            .map(|w| w.to_owned()),
    };

    let times = cumulative_times(taus);
    let mut p_traj = Array3::zeros((layers + 1, n, d));
    let mut q_traj = queries.map(|_| Array3::zeros((layers + 1, m, d)));
    p_traj.index_axis_mut(Axis(0), 0).assign(&data);
    if let (Some(qt), Some(q)) = (q_traj.as_mut(), queries) {
        qt.index_axis_mut(Axis(0), 0).assign(&q);
    }
    let mut current: Array2<f64> = Array2::zeros((n + m, d));
    current.slice_mut(s![..n, ..]).assign(&data);
    if let Some(q) = queries {
        current.slice_mut(s![n.., ..]).assign(&q);
    }
    for (l, &tau) in taus.iter().enumerate() {
        let particles = current.slice(s![..n, ..]).to_owned();
        let mu = match &weights {
            None => Empirical::new(particles)?,
            Some(w) => Empirical::weighted(particles, w.clone())?,
        };
        current = dae::empirical_with(&mu, noise, tau, current.view(), precision, progress)?;
        p_traj
            .index_axis_mut(Axis(0), l + 1)
            .assign(&current.slice(s![..n, ..]));
        if let Some(qt) = q_traj.as_mut() {
            qt.index_axis_mut(Axis(0), l + 1)
                .assign(&current.slice(s![n.., ..]));
        }
    }
    let queries = match q_traj {
        Some(qt) => Some(Trajectory::new(qt, times.clone())?),
        None => None,
    };
    Ok(DeepDae {
        particles: Trajectory::new(p_traj, times)?,
        queries,
    })
}

/// One layer of a deep DAE as a map: `Φ_ℓ = Φ^{τ}[μ_ℓ]`, the empirical optimal DAE (eq. 3) of
/// the particle cloud `μ_ℓ` with noise variance `τ`, `ℝᵈ → ℝᵈ`. Applying it to `k` points costs
/// `O(k·n·d)`.
#[derive(Debug, Clone)]
pub struct DaeLayer {
    /// The particle cloud `μ_ℓ` the layer is the optimal DAE of.
    pub particles: Empirical,
    /// The noise family ν.
    pub noise: Noise,
    /// The noise variance `τ > 0` of the layer.
    pub tau: f64,
}

impl TransportMap for DaeLayer {
    fn dim_in(&self) -> usize {
        self.particles.dim()
    }
    fn dim_out(&self) -> usize {
        self.particles.dim()
    }
    fn apply(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        dae::empirical(&self.particles, self.noise, self.tau, x, &|_| {})
    }
}

/// The times of a composition: `t_0 = 0`, `t_{ℓ+1} = t_ℓ + τ_ℓ` (`L + 1` values).
pub fn cumulative_times(taus: &[f64]) -> Vec<f64> {
    std::iter::once(0.0)
        .chain(taus.iter().scan(0.0, |t, tau| {
            *t += tau;
            Some(*t)
        }))
        .collect()
}
