use super::mixture::{cumulative, pick};
use crate::error::{Error, Result, check_points};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::Rng;

/// The weighted point cloud `Σ_i w_i δ_{x_i}`: the data set a user loads.
#[derive(Debug, Clone)]
pub struct Empirical {
    points: Array2<f64>,
    weights: Option<Array1<f64>>,
}

impl Empirical {
    /// Uniform weights `1/n` on the rows of `points` (finite, at least one row and column).
    pub fn new(points: Array2<f64>) -> Result<Self> {
        check_points("data", points.view(), None)?;
        Ok(Empirical {
            points,
            weights: None,
        })
    }

    /// Weights `w_i ≥ 0` with a positive sum, one per row (normalised here).
    pub fn weighted(points: Array2<f64>, weights: Array1<f64>) -> Result<Self> {
        check_points("data", points.view(), None)?;
        let w = normalise_weights(weights.view(), points.nrows())?;
        Ok(Empirical {
            points,
            weights: Some(w),
        })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.points.ncols()
    }

    /// The number of atoms `n`.
    pub fn len(&self) -> usize {
        self.points.nrows()
    }

    /// Always false: an empirical measure has at least one atom.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The atoms `x_i`, one per row.
    pub fn points(&self) -> ArrayView2<'_, f64> {
        self.points.view()
    }

    /// The normalised weights, `None` for uniform.
    pub fn weights(&self) -> Option<ArrayView1<'_, f64>> {
        self.weights.as_ref().map(|w| w.view())
    }

    /// The mean `Σ w_i x_i`.
    pub fn mean(&self) -> Array1<f64> {
        match &self.weights {
            None => self.points.mean_axis(Axis(0)).expect("non-empty"),
            Some(w) => w.dot(&self.points),
        }
    }

    /// The (biased, maximum-likelihood) covariance `Σ w_i (x_i − m)(x_i − m)ᵀ`.
    pub fn covariance(&self) -> Array2<f64> {
        let n = self.len();
        let centred = &self.points - &self.mean();
        let w = match &self.weights {
            None => Array1::from_elem(n, 1.0 / n as f64),
            Some(w) => w.clone(),
        };
        let weighted = &centred * &w.insert_axis(Axis(1));
        weighted.t().dot(&centred)
    }

    /// `n` draws with replacement, atom `i` with probability `w_i`.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Array2<f64> {
        let m = self.len();
        let mut out = Array2::zeros((n, self.dim()));
        let cdf = self.weights.as_ref().map(cumulative);
        for mut row in out.rows_mut() {
            let i = match &cdf {
                None => rng.random_range(0..m),
                Some(c) => pick(c, rng.random::<f64>()),
            };
            row.assign(&self.points.row(i));
        }
        out
    }
}

/// Checks weights (right length, finite, non-negative, positive sum) and divides by their sum.
pub(crate) fn normalise_weights(w: ArrayView1<f64>, n: usize) -> Result<Array1<f64>> {
    if w.len() != n {
        return Err(Error::InvalidWeights(format!(
            "{} weights given for {} points",
            w.len(),
            n
        )));
    }
    for (i, &v) in w.iter().enumerate() {
        if !v.is_finite() || v < 0.0 {
            return Err(Error::InvalidWeights(format!(
                "weight at row {} is {v}; weights must be finite and non-negative",
                i + 1
            )));
        }
    }
    let s = w.sum();
    if !(s > 0.0 && s.is_finite()) {
        return Err(Error::InvalidWeights(format!(
            "weights sum to {s}; they must have a positive finite sum"
        )));
    }
    Ok(w.mapv(|v| v / s))
}

/// [`normalise_weights`] for optional weights named `what` in errors (`"a"`, `"b"`): `None`
/// gives the uniform `1/n`.
pub(crate) fn weights_or_uniform(
    what: &str,
    w: Option<ArrayView1<f64>>,
    n: usize,
) -> Result<Vec<f64>> {
    match w {
        None => Ok(vec![1.0 / n as f64; n]),
        Some(w) => normalise_weights(w, n)
            .map(|w| w.to_vec())
            .map_err(|e| match e {
                Error::InvalidWeights(m) => Error::InvalidWeights(format!("{what}: {m}")),
                e => e,
            }),
    }
}
