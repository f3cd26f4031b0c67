"""deeptransport: transportation analysis of deep neural networks, from Python.

Every function here calls the Rust library behind the ``deeptransport`` command (the same call the
command makes; nothing is reimplemented in Python). Arrays go in as NumPy arrays (``float64``;
``float32``, integers and booleans are converted, any strides or memory order), are copied into
Rust-owned buffers, and the GIL is released while the computation runs, so other Python threads
keep going. Results are NumPy arrays or small result objects whose attributes are the keys of the
command's ``--json`` summary (``to_dict()`` returns exactly those keys). Bad input raises
:class:`DeepTransportError`, a :class:`ValueError`, with the library's message.

>>> import numpy as np, deeptransport as dt
>>> x = np.array([[0.0, 0.0], [1.0, 0.0]])
>>> dt.dae(x, 0.5, np.array([[0.5, 0.0]])).tolist()   # Φ_t of the midpoint: the atoms' mean
[[0.5, 0.0]]

Submodules (imported on first use): :mod:`deeptransport.torch` (``record``: a PyTorch model's
activations, ready for :func:`tracks`) and :mod:`deeptransport.dask` (``dae`` and ``deep`` on Dask
arrays, on any Dask cluster).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._core import DeepTransportError

__version__: str = _core.__version__

__all__ = [
    "DeepTransportError",
    "ReconResult",
    "SdotResult",
    "TracksResult",
    "W2Result",
    "__version__",
    "dae",
    "deep",
    "entropy",
    "flow",
    "recon",
    "sdot",
    "set_simd_path",
    "simd_path",
    "tracks",
    "w2",
]

ArrayLike = Any


def simd_path() -> str:
    """The SIMD path the kernels run in this process: ``avx512``, ``avx2``, ``portable`` or
    ``scalar`` (the environment variable ``DEEPTRANSPORT_SIMD``, read at import, forces one)."""
    return _core.simd_path()


def set_simd_path(name: str) -> None:
    """Force the SIMD path of every later call in this process (``avx512``, ``avx2``,
    ``portable``, ``scalar``); a :class:`DeepTransportError` if this CPU cannot run it. Paths
    agree to rounding; each is bit-identical for any thread count."""
    _core.set_simd_path(name)


# --------------------------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


class _Summary:
    """A summary: the command's ``--json`` keys as attributes, plus per-item arrays."""

    _keys: Tuple[str, ...] = ()

    def __init__(self, summary: Dict[str, Any], extra: Optional[Dict[str, Any]] = None):
        object.__setattr__(self, "_summary", dict(summary))
        object.__setattr__(self, "_extra", dict(extra or {}))

    def __getattr__(self, name: str) -> Any:
        for store in ("_summary", "_extra"):
            d = object.__getattribute__(self, store)
            if name in d:
                return d[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self) -> list:
        return sorted(set(super().__dir__()) | set(self._summary) | set(self._extra))

    def __getitem__(self, key: str) -> Any:
        return self._summary[key]

    def to_dict(self) -> Dict[str, Any]:
        """The summary as the command's ``--json`` prints it: the same keys, JSON-ready values
        (arrays as lists). Per-item arrays (e.g. ``lss``, ``plan``) are attributes only."""
        return {k: _jsonable(v) for k, v in self._summary.items()}

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v!r}" for k, v in self._summary.items() if not isinstance(v, (list, dict))
        )
        return f"{type(self).__name__}({shown})"


class W2Result(_Summary):
    """The result of :func:`w2`. Attributes: ``method``, ``simd``, ``n``, ``m``, ``dim``,
    ``w2_squared``, ``w2``; exact: ``iterations`` (pivots), ``duality_gap``; sinkhorn: ``eps``,
    ``iterations`` (sweeps), ``converged``, ``marginal_error``, ``sinkhorn_divergence``; with
    ``plan=True``: ``plan`` (exact and 1-D: rows ``i, j, mass``; sinkhorn: the dense ``n × m``
    matrix). For a trajectory, ``w2`` and ``w2_squared`` are arrays, one value per slice."""

    method: str
    n: int
    m: int
    dim: int
    w2_squared: Any
    w2: Any


class TracksResult(_Summary):
    """The result of :func:`tracks`: the keys of ``deeptransport tracks --json`` (``n``,
    ``layers``, ``widths``, ``embed``, ``from``/``to`` — also as ``start``/``stop`` —,
    ``lss_mean``, ``lss_median``, ``lss_undefined``, ``ots``, ``ots_cost_ratio``, ``ots_n``,
    ``w2_steps``, ``w2_end_to_end``, ``geodesic_ratio``, ``action``, ``action_ratio``) and per
    input ``lss`` (NaN where undefined: no motion), ``path_length``, ``chord`` and
    ``fixed_point`` (1.0 if the optimal assignment keeps the input in place, 0.0 if not, NaN
    outside the OT subsample)."""

    n: int
    layers: int
    lss_mean: Optional[float]
    lss_median: Optional[float]
    ots: float
    action_ratio: float
    geodesic_ratio: float
    lss: np.ndarray
    path_length: np.ndarray
    chord: np.ndarray
    fixed_point: np.ndarray

    @property
    def start(self) -> int:
        return self._summary["from"]

    @property
    def stop(self) -> int:
        return self._summary["to"]


class SdotResult(_Summary):
    """The result of :func:`sdot`: the keys of ``deeptransport sdot --json`` (``n_target``,
    ``distinct_targets``, ``dim``, ``source``, ``method``, ``iterations``, ``converged``,
    ``max_mass_error``, ``empty_cells``, ``transport_cost``, ``samples``), the potential ``h`` per
    target row as ``potential``, and :meth:`generate`."""

    potential: np.ndarray
    converged: bool
    max_mass_error: float

    def __init__(self, solution: Any, summary: Dict[str, Any], potential: np.ndarray):
        super().__init__(summary, {"potential": potential})
        object.__setattr__(self, "_solution", solution)

    def generate(self, m: int, max_angle: float = 0.0, seed: int = 0) -> np.ndarray:
        """``m`` points from ``m`` seeded source samples: with ``max_angle = 0`` each sample's
        cell target ``T(x) = y_{argmax_i ⟨x, y_i⟩ + h_i}`` (the OT map); with a positive angle
        (radians) the AE-OT extended map, which interpolates between two targets near a cell
        boundary whose dihedral angle is below ``max_angle``, never across a larger one."""
        points, _ = self._solution.generate(int(m), float(max_angle), int(seed))
        return points


class ReconResult(_Summary):
    """The result of :func:`recon`: the keys of ``deeptransport recon --json`` (``n``, ``dim``,
    ``latent_dim``, ``error_max``, ``error_mean``, ``error_rms``, ``error_quantiles`` (levels
    ``"0.5"``, ``"0.9"``, ``"0.99"``), ``eps``, ``exceptional_fraction``; with homology
    ``betti_input``, ``betti_recon``, ``betti_latent``, ``homology_n``, ``homology_delta``) and
    the per-row errors as ``errors``."""

    errors: np.ndarray
    error_max: float
    exceptional_fraction: list


# --------------------------------------------------------------------------------------------
# Maps
# --------------------------------------------------------------------------------------------


def dae(
    data: ArrayLike,
    t: float,
    queries: Optional[ArrayLike] = None,
    *,
    noise: str = "gaussian",
    weights: Optional[ArrayLike] = None,
    precision: str = "f64",
) -> np.ndarray:
    r"""The optimal denoising autoencoder Φ_t of a point cloud (Theorem 2.1, eq. 3).

    .. math::  Φ_t(q) = \frac{\sum_i w_i\, ν_t(q - x_i)\, x_i}{\sum_i w_i\, ν_t(q - x_i)}

    the posterior mean ``E[x | x + ε = q]`` under the empirical measure ``Σ_i w_i δ_{x_i}`` of
    ``data`` (``n × d``; weights ``1/n`` unless ``weights`` gives one non-negative weight per row)
    and noise ``ε`` of covariance ``t·I`` — ``t`` is the noise *variance*. ``noise``:
    ``"gaussian"``, ``"laplace"``, ``"uniform"`` or ``"student:NU"`` (NU > 2).

    Returns ``Φ_t`` of every query row (default: the data itself), shape ``(m, d)``. Exact up to
    rounding (a streaming log-sum-exp: no underflow for any t > 0), ``O(m·n·d)``, multi-threaded,
    bit-identical for any thread count. ``precision="f32"``: the f32 kernel (Gaussian noise,
    d ≤ 3, AVX2/AVX-512), about twice as fast within a stated bound (typically 1e-6).
    Under uniform noise a query whose cube holds no atom has no posterior: an error naming it.
    """
    return _core.dae(data, t, queries, noise=noise, weights=weights, precision=precision)


def deep(
    data: ArrayLike,
    tau: Union[float, Sequence[float]],
    layers: Optional[int] = None,
    queries: Optional[ArrayLike] = None,
    *,
    noise: str = "gaussian",
    weights: Optional[ArrayLike] = None,
    precision: str = "f64",
    return_times: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    r"""The deep DAE: compositions of optimal DAEs on particles (Section 3.1).

    .. math::  x_{ℓ+1} = Φ_ℓ(x_ℓ), \quad y_{ℓ+1} = Φ_ℓ(y_ℓ), \quad
               Φ_ℓ = \text{the optimal DAE (3) of } μ_ℓ = \textstyle\sum_i w_i δ_{x_ℓ^{(i)}}
               \text{ with variance } τ_ℓ

    — Gaussian blurring mean shift for Gaussian noise. ``tau``: one variance for ``layers``
    layers (default 1), or one per layer. Returns the trajectory ``(L + 1, n, d)`` of the queries
    (or of the data when there are none); with ``return_times=True`` also the times
    ``0, τ_0, τ_0 + τ_1, …``. ``O(L·(n + m)·n·d)``.
    """
    traj, times = _core.deep(
        data, tau, layers, queries, noise=noise, weights=weights, precision=precision
    )
    return (traj, np.asarray(times)) if return_times else traj


def flow(
    data: ArrayLike,
    bandwidth: float,
    t: float,
    queries: Optional[ArrayLike] = None,
    *,
    times: Optional[Sequence[float]] = None,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
    weights: Optional[ArrayLike] = None,
    error_norm: str = "rms",
    max_steps: int = 100_000,
    return_info: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, Dict[str, Any]]]:
    r"""The continuous DAE (Definition 3.1) of the data smoothed with variance ``bandwidth`` = H.

    .. math::  \frac{dx}{dt} = ∇\log μ_t(x), \qquad μ_t = \textstyle\sum_i w_i\,
               N(x_i, (H - 2t) I)

    integrated by adaptive Dormand–Prince 5(4) (relative tolerance ``rtol``, default 1e-8;
    ``atol`` defaults to ``rtol``) up to ``t``, which must lie below the singular time
    ``t* = H/2``. Returns the positions of the queries (default: the data) at ``0``, each of
    ``times`` and ``t``: ``(T, n, d)``; with ``return_info=True`` also the summary of
    ``deeptransport flow --json`` (steps, error estimate, singular time, …).
    """
    traj, info = _core.flow(
        data,
        bandwidth,
        t,
        queries,
        times=None if times is None else [float(s) for s in times],
        rtol=rtol,
        atol=atol,
        weights=weights,
        error_norm=error_norm,
        max_steps=max_steps,
    )
    return (traj, info) if return_info else traj


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def entropy(x: ArrayLike, *, k: int = 3, estimator: str = "kl") -> Union[float, np.ndarray]:
    r"""Differential entropy (nats) of the distribution ``x`` (``n × d``) was sampled from.

    ``estimator="kl"``: Kozachenko–Leonenko,
    ``Ĥ = ψ(n) − ψ(k) + log V_d + (d/n) Σ_i log ε_i`` with ``ε_i`` the distance to the k-th
    nearest neighbour; ``"renyi:ALPHA"`` / ``"tsallis:ALPHA"``: Leonenko–Pronzato–Savani (2008),
    ``0 < α < k + 1``, ``α ≠ 1``. A trajectory ``(T, n, d)`` gives one entropy per slice (an
    array). Exact neighbour search; repeated points (a zero k-th distance) are refused.
    """
    return _core.entropy(x, k=k, estimator=estimator)


def w2(
    a: ArrayLike,
    b: Optional[ArrayLike] = None,
    *,
    method: str = "exact",
    eps: Optional[float] = None,
    a_weights: Optional[ArrayLike] = None,
    b_weights: Optional[ArrayLike] = None,
    tol: Optional[float] = None,
    max_iter: Optional[int] = None,
    plan: bool = False,
) -> W2Result:
    r"""Wasserstein-2 distance between two point clouds, cost ``c(x, y) = |x − y|²``.

    .. math::  W_2^2(a, b) = \min_{P \ge 0,\ P1 = a,\ P^T 1 = b} \textstyle\sum_{ij} P_{ij}
               |x_i - y_j|^2

    ``method``: ``"exact"`` (network simplex; exact to ``2⁻⁴⁶·D²``), ``"1d"`` (sorting, d = 1),
    ``"sinkhorn"`` (entropic, regularisation ``eps`` (default 0.05) · KL(P | a⊗b), marginal
    tolerance ``tol`` (default 1e-6); ``w2_squared`` is the entropic plan's cost, plus the
    debiased ``sinkhorn_divergence``) or ``"gaussian"`` (Bures–Wasserstein between the fitted
    Gaussians). Uniform weights unless ``a_weights``/``b_weights`` are given. ``plan=True`` adds
    the plan. With ``b=None`` and a trajectory ``(T, n, d)`` as ``a``: the exact ``W₂`` from the
    first slice to every slice. Returns a :class:`W2Result` (``.w2``, ``.w2_squared``, …).
    """
    r = W2Result(
        *_split(
            _core.w2(
                a,
                b,
                method=method,
                eps=eps,
                a_weights=a_weights,
                b_weights=b_weights,
                tol=tol,
                max_iter=max_iter,
                plan=plan,
            ),
            ("plan",),
        )
    )
    if method == "sinkhorn" and b is not None and not r.converged:
        warnings.warn(
            f"Sinkhorn stopped at the iteration limit with marginal error {r.marginal_error:e}; "
            "raise max_iter or eps",
            RuntimeWarning,
            stacklevel=2,
        )
    return r


def _split(d: Dict[str, Any], extra_keys: Sequence[str]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    summary = {k: v for k, v in d.items() if k not in extra_keys}
    extra = {k: d[k] for k in extra_keys if k in d}
    return summary, extra


def tracks(
    layers: Union[Sequence[ArrayLike], ArrayLike],
    *,
    embed: str = "pad",
    start: int = 0,
    stop: Optional[int] = None,
    max_samples: int = 10_000,
    seed: int = 0,
    flatten: bool = False,
) -> TracksResult:
    r"""How a network moves its inputs: scores of the tracks ``x_i⁽⁰⁾ → x_i⁽¹⁾ → …`` (METHODS §7).

    ``layers``: a sequence of arrays ``(n, width_ℓ)``, the input first, row i of every layer
    belonging to input i (``deeptransport.torch.record`` makes one), or one array ``(T, n, d)``.
    Widths are zero-padded to the widest (``embed="pad"``) or must agree (``"none"``); arrays of
    more than two dimensions are flattened per row with ``flatten=True``. Scored from layer
    ``start`` to ``stop`` (default: the last):

    - line-shape score ``LSS_i = m_i / |Σ_ℓ Δ_ℓx_i / |Δ_ℓx_i||`` ≥ 1 (1 for a straight track),
      path length and chord per input;
    - OTS: the fraction of inputs that the exact optimal assignment between the first and last
      layers keeps in place, and the cost ratio ``W₂² / mean |x⁽ᴶ⁾ − x⁽ᴵ⁾|²``;
    - ``W₂`` per step, the geodesic ratio ``Σ_ℓ W₂(μ_ℓ₋₁, μ_ℓ) / W₂(μ_I, μ_J)`` ≥ 1 and the action
      ratio ``A / W₂²(μ_I, μ_J)`` ≥ 1 (1 iff the tracks are a constant-speed W₂ geodesic),

    the OT quantities on at most ``max_samples`` inputs (a subsample seeded by ``seed``). Layers
    are converted and scored one at a time. Returns a :class:`TracksResult`.
    """
    d = _core.tracks(
        layers,
        embed=embed,
        start=start,
        stop=stop,
        max_samples=max_samples,
        seed=seed,
        flatten=flatten,
    )
    return TracksResult(*_split(d, ("lss", "path_length", "chord", "fixed_point")))


def sdot(
    target: ArrayLike,
    *,
    weights: Optional[ArrayLike] = None,
    source: str = "cube",
    tol: float = 1e-3,
    method: str = "auto",
    max_iter: int = 20_000,
    seed: int = 0,
) -> SdotResult:
    r"""Semi-discrete optimal transport from a source measure to the points ``target`` (METHODS §8).

    Finds the potential ``h`` (mean zero) whose power cells
    ``W_i = {x : ⟨x, y_i⟩ + h_i ≥ ⟨x, y_j⟩ + h_j ∀j}`` carry the source mass ``μ(W_i) = ν_i``
    (``ν``: ``weights`` normalised, default uniform) to the relative tolerance ``tol``; the OT map
    sends ``x`` to the target of its cell. ``source``: ``"cube"`` (uniform on ``[−½, ½]ᵈ``) or
    ``"normal"`` (``N(0, I)``). ``method``: ``"newton"`` (exact cells: d = 1, or d = 2 with the
    cube), ``"adam"`` (quasi-Monte-Carlo masses + Adam, any d) or ``"auto"``. Duplicate targets
    are merged (weights summed; they share one ``h``). Returns an :class:`SdotResult`
    (``.potential``, ``.generate(m, max_angle=0, seed=0)``, …).
    """
    solution, summary, potential = _core._sdot(
        target,
        weights=weights,
        source=source,
        tol=tol,
        method=method,
        max_iter=max_iter,
        seed=seed,
    )
    r = SdotResult(solution, summary, potential)
    if not r.converged:
        warnings.warn(
            f"sdot stopped after {r.iterations} iterations with max relative mass error "
            f"{r.max_mass_error:e} (target {tol:e}); raise max_iter or tol",
            RuntimeWarning,
            stacklevel=2,
        )
    return r


def recon(
    x: ArrayLike,
    xhat: ArrayLike,
    latent: Optional[ArrayLike] = None,
    *,
    eps: Sequence[float] = (),
    homology: bool = False,
    max_samples: int = 2000,
) -> ReconResult:
    r"""What an autoencoder loses (METHODS §9): the reconstruction errors ``e_i = |x̂_i − x_i|``.

    Returns their maximum, mean, RMS and quantiles, and for each threshold ε in ``eps`` the
    fraction ``#{i : e_i ≥ ε} / n`` (the measure of the exceptional set, where an autoencoder
    with a too-small bottleneck is allowed to fail). With ``homology=True``, the Betti numbers
    ``[b₀, b₁]`` of the inputs, the reconstructions and the codes ``latent`` (row i encodes
    input i): the Vietoris–Rips classes whose persistence exceeds 10 % of that cloud's diameter,
    computed on at most ``max_samples`` max–min landmarks of the inputs (the same rows in every
    cloud). Returns a :class:`ReconResult` (``.errors`` per row).
    """
    d = _core.recon(
        x,
        xhat,
        latent,
        eps=[float(e) for e in eps],
        homology=homology,
        max_samples=max_samples,
    )
    note = d.pop("_note", None)
    if note is not None:
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    return ReconResult(*_split(d, ("errors",)))


def __getattr__(name: str) -> Any:
    # `dt.torch` and `dt.dask` without importing PyTorch or Dask with the package.
    if name in ("torch", "dask"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'deeptransport' has no attribute {name!r}")
