"""Φ_t and deep DAEs on Dask arrays, on any Dask cluster (ARCHITECTURE.md, "Scale-out").

>>> import dask.array as da, deeptransport as dt
>>> x = da.random.normal(size=(200_000, 2), chunks=(50_000, 2))
>>> phi = dt.dask.dae(x, 0.1)               # lazy, (200 000, 2), chunked like x
>>> phi = phi.compute()                      # equal to dt.dae(x.compute(), 0.1) to ~1e-15

How it splits. The posterior mean (eq. 3) is a ratio of two sums over the data,

    Φ_t(q) = Σ_i w_i e^{ℓ(q, x_i)} x_i / Σ_i w_i e^{ℓ(q, x_i)},    ℓ = log ν_t(q − x),

so it splits over queries (independent rows) and over data shards: shard s returns, per query,
its log-normaliser ``log Z_s = log Σ_{i∈s} w_i e^ℓ`` and its normalised weighted sum
``M_s = Σ_{i∈s} w_i e^ℓ x_i / Z_s`` (one call of the library's streaming kernel, Rust, GIL
released). Partials merge associatively and exactly,

    log Z = max_s log Z_s + log Σ_s e^{log Z_s − max},    Φ = Σ_s e^{log Z_s − log Z} M_s,

so a tree reduction of any shape over any number of shards gives the single-machine Φ_t up to
rounding (tested: 1e-12 relative; typically 1e-15). No task holds an N × M matrix: a task holds
one query block, one data shard and an (m_block × (d + 3)) partial.

Scaling model. With Q query blocks and S data shards the graph has Q·S kernel tasks of
``m_q · n_s · d`` pair evaluations each, plus Q tree reductions over S partials of
``m_q · (d + 3)`` numbers. Compute is ``M·N·d / (P · r)`` for P cores at the kernel's rate r
(≈ 1.4·10⁹ pairs/s per core in d = 2 on AVX-512); communication is each data shard sent to Q
tasks and each query block to S tasks: ``(Q·N + S·M)·d·8`` bytes, plus ``S·M·(d + 3)·8`` bytes
of partials. Choose blocks so that each task runs ≥ 0.1 s (the scheduler's overhead is
~1 ms per task) and few shards (S = 1 when the data fit one worker: then only queries split).
The deep DAE repeats this per layer, every layer depending on all particles of the previous one
(an all-to-all barrier per layer). Give each worker process ``RAYON_NUM_THREADS`` = its cores
(the kernel's own threads), and one Dask thread per process.
"""

from __future__ import annotations

import functools
from typing import Any, Optional, Sequence, Union

import numpy as np

try:
    import dask.array as _da
except ImportError as e:  # pragma: no cover - exercised only without dask
    raise ImportError(
        "deeptransport.dask needs Dask: `pip install 'dask[array]' distributed` "
        "(deeptransport itself works without it)"
    ) from e

from . import _core

__all__ = ["dae", "deep"]

# Columns of a partial: query row (global, 0-based), log Z_s (+ log of the shard's weight sum,
# so that shards compare), log W_s, then the d coordinates of M_s.
_ROW, _LOGZ, _LOGW, _MEAN = 0, 1, 2, 3


def _as_dask(name: str, a: Any, rows_per_chunk: Optional[int] = None) -> "_da.Array":
    if isinstance(a, _da.Array):
        arr = a
    else:
        arr = np.asarray(a)
        arr = _da.from_array(arr, chunks=(rows_per_chunk or arr.shape[0] or 1,) + arr.shape[1:])
    if arr.ndim != 2:
        raise _core.DeepTransportError(
            f"{name} must be a 2-D array of shape (n, d), one point per row; got shape "
            f"{tuple(arr.shape)}"
        )
    if arr.dtype.kind not in "fiub":
        raise _core.DeepTransportError(
            f"{name}: dtype {arr.dtype} is not a real number type; give float64 values"
        )
    # A point is never split across chunks.
    return arr.rechunk({1: -1})


def _weights(weights: Any, n: int) -> Optional["_da.Array"]:
    """One weight per data row as a 1-D dask array (its chunks are aligned with the data's)."""
    if weights is None:
        return None
    w = weights if isinstance(weights, _da.Array) else _da.from_array(np.asarray(weights))
    w = w.reshape(-1) if w.ndim == 2 and w.shape[1] == 1 else w
    if w.ndim != 1 or w.shape[0] != n:
        raise _core.DeepTransportError(
            f"invalid weights: weights of shape {tuple(w.shape)} given for {n} points; give "
            "one weight per data row"
        )
    return w


def _rows(a: "_da.Array") -> "_da.Array":
    """The global row index of every row of `a`, chunked like its rows: a block's first entry
    is its offset in the whole array (for the row numbers of error messages)."""
    return _da.arange(a.shape[0], chunks=(a.chunks[0],), dtype=np.int64)


def _partial(q, x, w, q_rows, x_rows, *, t, noise, d):
    """The partial of data shard x for query block q (their global row indices alongside)."""
    m = q.shape[0]
    out = np.empty((m, 1, _MEAN + d))
    if m == 0:
        return out
    if x.shape[0] == 0:  # an empty shard: no mass
        out[:, 0, _ROW] = q_rows
        out[:, 0, _LOGZ] = out[:, 0, _LOGW] = -np.inf
        out[:, 0, _MEAN:] = np.nan
        return out
    log_z, log_w, mean = _core._shard_dae(x, t, q, noise, w, int(x_rows[0]), int(q_rows[0]))
    out[:, 0, _ROW] = q_rows
    out[:, 0, _LOGZ] = log_z
    out[:, 0, _LOGW] = log_w
    out[:, 0, _MEAN:] = mean
    return out


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        s = np.log(np.sum(np.exp(a - safe), axis=axis, keepdims=True)) + safe
    return np.squeeze(s, axis=axis)


def _merge(x: np.ndarray, axis: Any = None, keepdims: bool = True) -> np.ndarray:
    """Merges the partials along axis 1 (associative: any grouping gives the same result)."""
    lz = x[:, :, _LOGZ]
    total = _logsumexp(lz, axis=1)  # (m,)
    with np.errstate(invalid="ignore", over="ignore"):
        share = np.exp(lz - total[:, None])
    share = np.where(np.isfinite(lz), share, 0.0)  # shards without mass (or no posterior there)
    means = np.where(share[:, :, None] > 0.0, x[:, :, _MEAN:], 0.0)
    out = np.empty((x.shape[0], 1, x.shape[2]))
    out[:, 0, _ROW] = x[:, 0, _ROW]
    out[:, 0, _LOGZ] = total
    out[:, 0, _LOGW] = _logsumexp(x[:, :, _LOGW], axis=1)
    out[:, 0, _MEAN:] = np.einsum("ms,msd->md", share, means)
    out[~np.isfinite(total), 0, _MEAN:] = np.nan
    return out if keepdims else out[:, 0, :]


def _finish(x: np.ndarray, axis: Any = None, keepdims: bool = False, *, t, noise) -> np.ndarray:
    """The last merge: checks the weights' total and every row's posterior."""
    merged = _merge(x)[:, 0, :]
    if merged.shape[0] and not np.all(np.isfinite(merged[:, _LOGW])):
        raise _core.DeepTransportError(
            "invalid weights: weights sum to 0; they must have a positive finite sum"
        )
    bad = ~np.isfinite(merged[:, _LOGZ])
    if np.any(bad):
        row = int(merged[np.argmax(bad), _ROW]) + 1
        raise _core.DeepTransportError(_core._no_posterior_message(row, noise, t))
    return merged


def _identity(x: np.ndarray, axis: Any = None, keepdims: bool = True) -> np.ndarray:
    return x


def _phi(
    data: "_da.Array",
    queries: "_da.Array",
    weights: Optional["_da.Array"],
    t: float,
    noise: str,
    split_every: Optional[int],
) -> "_da.Array":
    d = data.shape[1]
    if queries.shape[1] != d:
        raise _core.DeepTransportError(
            f"dimension mismatch: query has dimension {queries.shape[1]}, expected {d}"
        )
    args = [queries, "qk", data, "sk"]
    if weights is None:
        args += [None, None]
    else:
        args += [weights.rechunk((data.chunks[0],)), "s"]
    args += [_rows(queries), "q", _rows(data), "s"]
    parts = _da.blockwise(
        _partial,
        "qsc",
        *args,
        new_axes={"c": _MEAN + d},
        adjust_chunks={"s": 1},
        concatenate=True,
        dtype=np.float64,
        meta=np.empty((0, 0, 0)),
        t=float(t),
        noise=noise,
        d=d,
    )
    merged = _da.reduction(
        parts,
        chunk=_identity,
        combine=_merge,
        aggregate=functools.partial(_finish, t=float(t), noise=noise),
        axis=1,
        keepdims=False,
        concatenate=True,
        split_every=split_every,
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    return merged[:, _MEAN:]


def dae(
    data: Any,
    t: float,
    queries: Any = None,
    *,
    noise: str = "gaussian",
    weights: Any = None,
    split_every: Optional[int] = None,
) -> "_da.Array":
    """:func:`deeptransport.dae` on Dask arrays: Φ_t of every query row, as a lazy
    ``dask.array`` chunked like the queries (default: the data), equal to the single-machine
    result up to rounding. ``data`` (n × d) is split into shards by its row chunks, ``queries``
    into blocks by theirs (NumPy inputs are one chunk); ``weights`` (one per data row) follow the
    data's chunks. ``split_every``: the fan-in of the tree that merges the shards' partials.
    Errors (the library's messages, naming rows of the whole arrays) are raised on compute."""
    _core._no_posterior_message(1, noise, 1.0)  # refuse a bad noise name now, not on compute
    x = _as_dask("data", data)
    q = x if queries is None else _as_dask("queries", queries)
    return _phi(x, q, _weights(weights, x.shape[0]), t, noise, split_every)


def deep(
    data: Any,
    tau: Union[float, Sequence[float]],
    layers: Optional[int] = None,
    queries: Any = None,
    *,
    noise: str = "gaussian",
    weights: Any = None,
    split_every: Optional[int] = None,
) -> "_da.Array":
    """:func:`deeptransport.deep` on Dask arrays: the trajectory ``(L + 1, n, d)`` of the queries
    (or of the data) under the deep DAE, as a lazy ``dask.array``. Each layer is one sharded
    Φ_τ of the current particles (:func:`dae`), applied to the particles and the queries
    together, exactly as the single-machine composition."""
    taus = _core._schedule(tau, layers)
    _core._no_posterior_message(1, noise, 1.0)
    x = _as_dask("data", data)
    q = None if queries is None else _as_dask("queries", queries)
    w = _weights(weights, x.shape[0])
    n = x.shape[0]
    particles, carried = [x], [q]
    for tau_l in taus:
        cur_x, cur_q = particles[-1], carried[-1]
        rows = cur_x if cur_q is None else _da.concatenate([cur_x, cur_q], axis=0)
        moved = _phi(cur_x, rows, w, tau_l, noise, split_every)
        particles.append(moved[:n])
        carried.append(None if cur_q is None else moved[n:])
    return _da.stack(particles if q is None else carried, axis=0)
