"""Argument checks shared by the `notes.flows` modules: messages name the parameter, the value and the rule."""

from __future__ import annotations

import torch
from torch import Tensor

from notes._validate import positive_int


def check_dim(dim: object, name: str = "dim") -> int:
    """Validate a feature dimension: an int >= 1."""
    return positive_int(name, dim)


def check_data(x: object, dim: int | None = None, name: str = "x") -> Tensor:
    """Validate a data batch: a floating tensor of shape `(N, D)` with finite entries.

    Args:
        x: the batch.
        dim: the expected $D$, or None for any.
        name: the parameter's name for the error message.

    Returns:
        `x` unchanged.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}")
    if x.dim() != 2 or (dim is not None and x.shape[1] != dim):
        want = f"(N, {dim})" if dim is not None else "(N, D)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite, got {int((~torch.isfinite(x)).sum())} NaN/inf")
    return x
