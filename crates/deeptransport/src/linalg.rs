//! Small dense symmetric linear algebra on covariance matrices, on top of `faer`.
//!
//! Covariances here are `d × d` with `d` the data dimension (2 … a few hundred), so these helpers
//! favour clarity; the `O(N·M·d)` work lives in [`crate::kernel`].

use crate::error::{Error, Result, fmt_num};
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

fn to_faer(a: ArrayView2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer(m: faer::MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// Relative asymmetry tolerance: a covariance typed by a user or estimated from data is symmetric
/// to rounding, `|a_ij − a_ji| ≤ 1e-10 · max|a|` is generous for both.
const SYMMETRY_RTOL: f64 = 1e-10;

/// A symmetric positive definite matrix `Σ` with its Cholesky factor `Σ = L Lᵀ`.
#[derive(Debug, Clone)]
pub struct Spd {
    matrix: Array2<f64>,
    lower: Array2<f64>,
    log_det: f64,
}

impl Spd {
    /// Checks symmetry and positive definiteness (a Cholesky factorisation that succeeds with
    /// positive pivots) and keeps the factor. `what` names the matrix in errors.
    pub fn new(what: &str, matrix: Array2<f64>) -> Result<Self> {
        let d = matrix.nrows();
        if d == 0 || matrix.ncols() != d {
            return Err(Error::NotSpd {
                what: what.into(),
                reason: format!("shape {}×{} is not square", matrix.nrows(), matrix.ncols()),
            });
        }
        check_finite_matrix(what, matrix.view())?;
        let scale = matrix.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..d {
            for j in 0..i {
                let (a, b) = (matrix[[i, j]], matrix[[j, i]]);
                if (a - b).abs() > SYMMETRY_RTOL * scale {
                    return Err(Error::NotSpd {
                        what: what.into(),
                        reason: format!(
                            "not symmetric: entry ({},{}) = {} but ({},{}) = {}",
                            i + 1,
                            j + 1,
                            fmt_num(a),
                            j + 1,
                            i + 1,
                            fmt_num(b)
                        ),
                    });
                }
            }
        }
        // Factor the symmetrised matrix so that later formulas see an exactly symmetric Σ.
        let sym = Array2::from_shape_fn((d, d), |(i, j)| 0.5 * (matrix[[i, j]] + matrix[[j, i]]));
        let llt = to_faer(sym.view())
            .llt(Side::Lower)
            .map_err(|_| Error::NotSpd {
                what: what.into(),
                reason: "the Cholesky factorisation met a non-positive pivot".into(),
            })?;
        let lower = from_faer(llt.L());
        let mut log_det = 0.0;
        for i in 0..d {
            let p = lower[[i, i]];
            if !(p > 0.0 && p.is_finite()) {
                return Err(Error::NotSpd {
                    what: what.into(),
                    reason: "the Cholesky factorisation met a non-positive pivot".into(),
                });
            }
            log_det += 2.0 * p.ln();
        }
        Ok(Spd {
            matrix: sym,
            lower,
            log_det,
        })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    /// The matrix `Σ` itself.
    pub fn matrix(&self) -> ArrayView2<'_, f64> {
        self.matrix.view()
    }

    /// The lower Cholesky factor `L`, `Σ = L Lᵀ`.
    pub fn lower(&self) -> ArrayView2<'_, f64> {
        self.lower.view()
    }

    /// `log det Σ`.
    pub fn log_det(&self) -> f64 {
        self.log_det
    }

    /// Solves `L z = v` by forward substitution.
    pub fn solve_lower(&self, v: ArrayView1<f64>) -> Array1<f64> {
        let d = self.dim();
        let mut z = v.to_owned();
        for i in 0..d {
            let mut s = z[i];
            for k in 0..i {
                s -= self.lower[[i, k]] * z[k];
            }
            z[i] = s / self.lower[[i, i]];
        }
        z
    }

    /// Solves `Lᵀ z = v` by back substitution.
    pub fn solve_upper(&self, v: ArrayView1<f64>) -> Array1<f64> {
        let d = self.dim();
        let mut z = v.to_owned();
        for i in (0..d).rev() {
            let mut s = z[i];
            for k in i + 1..d {
                s -= self.lower[[k, i]] * z[k];
            }
            z[i] = s / self.lower[[i, i]];
        }
        z
    }

    /// `Σ⁻¹ v`, by two triangular solves.
    pub fn solve(&self, v: ArrayView1<f64>) -> Array1<f64> {
        self.solve_upper(self.solve_lower(v).view())
    }

    /// The squared Mahalanobis norm `vᵀ Σ⁻¹ v = |L⁻¹ v|²`.
    pub fn mahalanobis_sq(&self, v: ArrayView1<f64>) -> f64 {
        self.solve_lower(v).iter().map(|z| z * z).sum()
    }

    /// `Σ⁻¹` as a dense matrix.
    pub fn inverse(&self) -> Array2<f64> {
        let d = self.dim();
        let mut inv = Array2::zeros((d, d));
        for j in 0..d {
            let mut e = Array1::zeros(d);
            e[j] = 1.0;
            inv.column_mut(j).assign(&self.solve(e.view()));
        }
        inv
    }
}

fn check_finite_matrix(what: &str, a: ArrayView2<f64>) -> Result<()> {
    if let Some(v) = a.iter().find(|v| !v.is_finite()) {
        return Err(Error::NotSpd {
            what: what.into(),
            reason: format!("contains the non-finite entry {}", fmt_num(*v)),
        });
    }
    Ok(())
}

/// Eigen-decomposition of a symmetric matrix: eigenvalues in non-decreasing order and the
/// orthonormal eigenvectors as columns.
pub fn sym_eigen(a: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let evd = to_faer(a)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| Error::NotConverged("symmetric eigen-decomposition".into()))?;
    let s = evd.S();
    let vals = Array1::from_shape_fn(a.nrows(), |i| s[i]);
    Ok((vals, from_faer(evd.U())))
}

/// The eigenvalues of a symmetric matrix, in non-decreasing order (no eigenvectors: about a third
/// of the work of [`sym_eigen`]).
pub fn sym_eigenvalues(a: ArrayView2<f64>) -> Result<Array1<f64>> {
    let vals = to_faer(a)
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|_| Error::NotConverged("symmetric eigenvalues".into()))?;
    Ok(Array1::from(vals))
}

/// Adds `c` to the diagonal: `A + c I`.
pub fn add_diag(a: ArrayView2<f64>, c: f64) -> Array2<f64> {
    let mut b = a.to_owned();
    b.diag_mut().mapv_inplace(|v| v + c);
    b
}

/// The symmetric positive semi-definite square root `A^{1/2} = V diag(√λ) Vᵀ` of a symmetric
/// matrix `A = V diag(λ) Vᵀ` (METHODS §5, used by the Bures–Wasserstein distance).
///
/// Domain: `A` symmetric positive semi-definite; eigenvalues in `[−1e-12·max|λ|, 0)` are taken as
/// rounding and clamped to 0, more negative ones are an [`Error::NotSpd`]. Accuracy: that of the
/// eigen-decomposition, `O(ε·‖A‖)` on `(A^{1/2})²`. The result is exactly symmetric.
pub fn spd_sqrt(a: ArrayView2<f64>) -> Result<Array2<f64>> {
    let d = a.nrows();
    if d == 0 || a.ncols() != d {
        return Err(Error::NotSpd {
            what: "matrix under the square root".into(),
            reason: format!("shape {}×{} is not square", a.nrows(), a.ncols()),
        });
    }
    check_finite_matrix("matrix under the square root", a)?;
    let (vals, vecs) = sym_eigen(a)?;
    let scale = vals.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if let Some(&v) = vals.iter().find(|&&v| v < -1e-12 * scale) {
        return Err(Error::NotSpd {
            what: "matrix under the square root".into(),
            reason: format!("has the negative eigenvalue {}", fmt_num(v)),
        });
    }
    let roots = vals.mapv(|v| v.max(0.0).sqrt());
    Ok(spectral(&roots, vecs.view()))
}

/// `V diag(f) Vᵀ`, computed entry by entry as `Σ_k f_k (V_ik V_jk)` so that it is exactly
/// symmetric.
pub(crate) fn spectral(f: &Array1<f64>, vecs: ArrayView2<f64>) -> Array2<f64> {
    let d = vecs.nrows();
    Array2::from_shape_fn((d, d), |(i, j)| {
        (0..f.len())
            .map(|k| f[k] * (vecs[[i, k]] * vecs[[j, k]]))
            .sum()
    })
}
