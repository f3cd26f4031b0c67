"""Type stubs of the extension module ``deeptransport._core`` (Rust, PyO3). The public API is
``deeptransport`` itself; these are its building blocks."""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

class DeepTransportError(ValueError):
    """Bad input to a deeptransport function: the message is the library's."""

def simd_path() -> str: ...
def set_simd_path(name: str) -> None: ...
def dae(
    data: npt.ArrayLike,
    t: float,
    queries: Optional[npt.ArrayLike] = None,
    *,
    noise: str = "gaussian",
    weights: Optional[npt.ArrayLike] = None,
    precision: str = "f64",
) -> npt.NDArray[np.float64]: ...
def _shard_dae(
    data: npt.ArrayLike,
    t: float,
    queries: npt.ArrayLike,
    noise: str,
    weights: Optional[npt.ArrayLike],
    data_offset: int,
    query_offset: int,
) -> Tuple[npt.NDArray[np.float64], float, npt.NDArray[np.float64]]:
    """One data shard's partial Φ_t for one query block: ``(log_z, log_w, mean)``."""

def _no_posterior_message(row: int, noise: str, t: float) -> str: ...
def _schedule(tau: Union[float, Sequence[float]], layers: Optional[int] = None) -> List[float]: ...
def deep(
    data: npt.ArrayLike,
    tau: Union[float, Sequence[float]],
    layers: Optional[int] = None,
    queries: Optional[npt.ArrayLike] = None,
    *,
    noise: str = "gaussian",
    weights: Optional[npt.ArrayLike] = None,
    precision: str = "f64",
) -> Tuple[npt.NDArray[np.float64], List[float]]: ...
def flow(
    data: npt.ArrayLike,
    bandwidth: float,
    t: float,
    queries: Optional[npt.ArrayLike] = None,
    *,
    times: Optional[Sequence[float]] = None,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
    weights: Optional[npt.ArrayLike] = None,
    error_norm: str = "rms",
    max_steps: int = 100000,
) -> Tuple[npt.NDArray[np.float64], Dict[str, Any]]: ...
def entropy(
    x: npt.ArrayLike, *, k: int = 3, estimator: str = "kl"
) -> Union[float, npt.NDArray[np.float64]]: ...
def w2(
    a: npt.ArrayLike,
    b: Optional[npt.ArrayLike] = None,
    *,
    method: str = "exact",
    eps: Optional[float] = None,
    a_weights: Optional[npt.ArrayLike] = None,
    b_weights: Optional[npt.ArrayLike] = None,
    tol: Optional[float] = None,
    max_iter: Optional[int] = None,
    plan: bool = False,
) -> Dict[str, Any]: ...
def tracks(
    layers: Any,
    *,
    embed: str = "pad",
    start: int = 0,
    stop: Optional[int] = None,
    max_samples: int = 10000,
    seed: int = 0,
    flatten: bool = False,
) -> Dict[str, Any]: ...

class _Sdot:
    def generate(
        self, m: int, max_angle: float = 0.0, seed: int = 0
    ) -> Tuple[npt.NDArray[np.float64], float]: ...

def _sdot(
    target: npt.ArrayLike,
    *,
    weights: Optional[npt.ArrayLike] = None,
    source: str = "cube",
    tol: float = 1e-3,
    method: str = "auto",
    max_iter: int = 20000,
    seed: int = 0,
) -> Tuple[_Sdot, Dict[str, Any], npt.NDArray[np.float64]]: ...
def recon(
    x: npt.ArrayLike,
    xhat: npt.ArrayLike,
    latent: Optional[npt.ArrayLike] = None,
    *,
    eps: Sequence[float] = (),
    homology: bool = False,
    max_samples: int = 2000,
) -> Dict[str, Any]: ...
