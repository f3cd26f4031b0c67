"""Activations of a PyTorch model, layer by layer, ready for :func:`deeptransport.tracks`.

>>> import torch, deeptransport as dt
>>> model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
>>> acts = dt.torch.record(model, torch.randn(100, 2))      # input + 3 children
>>> [a.shape for a in acts]
[(100, 2), (100, 8), (100, 8), (100, 2)]
>>> scores = dt.tracks(acts)

PyTorch is an optional dependency: importing this module without it raises ImportError.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Sequence, Union

import numpy as np

try:
    import torch as _torch
except ImportError as e:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "deeptransport.torch needs PyTorch, which is not installed: `pip install torch` "
        "(deeptransport itself works without it)"
    ) from e

__all__ = ["Activations", "default_modules", "record"]


class Activations(list):
    """A list of 2-D ``float64`` arrays, one per recorded layer (the input first), each
    ``(n, width)`` with row i belonging to input i; ``names`` holds the module path of each
    (``"input"`` for the input). Pass it to :func:`deeptransport.tracks` as it is."""

    names: List[str]

    def __init__(self, arrays: Iterable[np.ndarray], names: Sequence[str]):
        super().__init__(arrays)
        self.names = list(names)


_RESNET_STAGES = ("layer1", "layer2", "layer3", "layer4")


def default_modules(model: "_torch.nn.Module") -> List[str]:
    """The modules :func:`record` hooks when none are named: the residual blocks of a ResNet in
    the torchvision layout (children ``layer1`` … ``layer4`` that are ``nn.Sequential`` of
    blocks: every block, ``layer1.0``, ``layer1.1``, …), otherwise the model's direct children
    (an ``nn.Sequential``'s layers, a module's attributes in definition order)."""
    children = dict(model.named_children())
    stages = [s for s in _RESNET_STAGES if isinstance(children.get(s), _torch.nn.Sequential)]
    if stages:
        return [f"{s}.{name}" for s in stages for name, _ in children[s].named_children()]
    return list(children)


def _to_numpy(name: str, value: Any, n: int, flatten: bool) -> np.ndarray:
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], _torch.Tensor):
        value = value[0]  # e.g. nn.LSTM: (output, state); the output is the representation
    if not isinstance(value, _torch.Tensor):
        raise TypeError(
            f"module {name!r} returned {type(value).__name__}, not a tensor; hook a module whose "
            "output is a tensor (or a tuple whose first item is one)"
        )
    a = value.detach().to(device="cpu", dtype=_torch.float64).numpy()
    if a.ndim == 0 or a.shape[0] != n:
        raise ValueError(
            f"module {name!r} output has shape {tuple(a.shape)}: its first dimension must be the "
            f"batch of {n} inputs (one row per input)"
        )
    if a.ndim == 1:
        return a.reshape(n, 1)
    if a.ndim > 2:
        if not flatten:
            raise ValueError(
                f"module {name!r} output has shape {tuple(a.shape)}: tracks need one row per "
                "input; pass flatten=True to flatten feature maps (n, C, H, W) per input"
            )
        a = a.reshape(n, -1)
    return np.ascontiguousarray(a)


def record(
    model: "_torch.nn.Module",
    x: "_torch.Tensor",
    modules: Optional[Sequence[Union[str, "_torch.nn.Module"]]] = None,
    flatten: bool = False,
) -> Activations:
    """Run ``model(x)`` once and return the input and the output of each chosen module.

    ``modules``: module paths as in ``model.named_modules()`` (``"layer1.0"``, ``"fc"``) or the
    modules themselves; default :func:`default_modules` (the direct children, or a ResNet's
    residual blocks). A forward hook on each records its output, detached and copied to a
    ``float64`` NumPy array; the hooks are always removed afterwards, even when the forward pass
    fails. The forward pass runs under ``torch.no_grad()`` and does not change the model's mode
    (call ``model.eval()`` first for inference behaviour of dropout and batch norm).

    Outputs are recorded in the order the forward pass produces them (a module called twice is
    recorded twice). Outputs of more than two dimensions (conv feature maps) are flattened per
    input with ``flatten=True``, and refused otherwise. The input ``x`` (its first dimension the
    batch of ``n`` inputs) is the first layer. Returns :class:`Activations`, a list of ``(n, ·)``
    arrays with their module names in ``.names``.
    """
    if not isinstance(x, _torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, not {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError("x must have a batch dimension: one row per input")
    n = int(x.shape[0])
    by_name = dict(model.named_modules())
    names_of = {id(m): name for name, m in model.named_modules()}
    chosen: List[tuple] = []
    for m in default_modules(model) if modules is None else modules:
        if isinstance(m, str):
            if m not in by_name or m == "":
                raise ValueError(
                    f"the model has no module named {m!r}; its modules are: "
                    + ", ".join(repr(k) for k in by_name if k)
                )
            chosen.append((m, by_name[m]))
        elif isinstance(m, _torch.nn.Module):
            if id(m) not in names_of:
                raise ValueError(f"module {type(m).__name__} is not part of the model")
            chosen.append((names_of[id(m)], m))
        else:
            raise TypeError(f"modules must be names or nn.Module objects, not {type(m).__name__}")
    if not chosen:
        raise ValueError("no module to record: the model has no children; name the modules")

    recorded: List[tuple] = []

    def hook_for(name: str):
        def hook(_module, _inputs, output):
            recorded.append((name, _to_numpy(name, output, n, flatten)))

        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in chosen]
    try:
        with _torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    first = _to_numpy("input", x, n, flatten)
    return Activations([first] + [a for _, a in recorded], ["input"] + [k for k, _ in recorded])
