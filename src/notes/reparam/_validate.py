"""Checks at the public boundary of `notes.reparam`: errors name the parameter, value and rule."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]


def floating(x: object, name: str) -> torch.Tensor:
    """Return `x` if it is a floating-point tensor, else raise `TypeError`."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}")
    return x


def finite(x: torch.Tensor, name: str) -> None:
    """Raise `ValueError` if `x` holds a nan or an infinity."""
    # One reduction: a sum of finite numbers is finite unless it overflows (inf + x = inf,
    # inf - inf = nan, nan propagates), so the element-wise check runs only when it must.
    x = x.detach()
    if not math.isfinite(float(x.sum())) and not bool(torch.isfinite(x).all()):
        bad = x[~torch.isfinite(x)][0].item()
        raise ValueError(f"{name} must be finite (no nan or inf), got an element {bad}")


def classes(x: object, name: str, dim: int = -1) -> torch.Tensor:
    """A finite floating tensor with at least one class along `dim`."""
    t = floating(x, name)
    if t.dim() == 0 or not -t.dim() <= dim < t.dim():
        raise ValueError(f"dim must index a dimension of {name} {tuple(t.shape)}, got {dim}")
    if t.shape[dim] < 1:
        raise ValueError(f"{name} must have at least one class along dim {dim}, got 0")
    finite(t, name)
    return t


def simplex_tolerance(dtype: torch.dtype) -> float:
    """How far from one a sum of probabilities may be: sqrt(machine epsilon)."""
    return math.sqrt(torch.finfo(dtype).eps)


def per_sample(f: Fn, x: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Evaluate `f(x)` and check that it returns one value per sample."""
    fx: object = f(x)  # a user's callable: check what it returns
    if not isinstance(fx, torch.Tensor) or fx.shape != shape:
        got = tuple(fx.shape) if isinstance(fx, torch.Tensor) else type(fx).__name__
        raise ValueError(f"f must return one value per sample, shape {tuple(shape)}, got {got}")
    return fx
