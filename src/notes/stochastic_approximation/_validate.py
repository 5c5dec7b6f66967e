"""Checks at the public boundary; each error names the parameter, the value and the rule."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def floating(name: str, value: object) -> Tensor:
    """Return ``value`` if it is a floating-point tensor, else raise ``TypeError``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
    return value


def real(name: str, value: float, *, minimum: float = 0.0, strict: bool = True) -> float:
    """Return ``value`` if it is finite and > ``minimum`` (>= if not strict)."""
    ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        raise ValueError(
            f"{name} must be finite and {'>' if strict else '>='} {minimum:g}, got {value}"
        )
    return float(value)


def step_list(steps: Tensor, num_steps: int | None = None) -> list[float]:
    """Check step sizes $(a_1, \\dots, a_K)$ and return them as Python floats.

    Python floats keep the iterate's dtype: a float64 step does not promote a float32 w.
    """
    floating("steps", steps)
    if steps.dim() != 1 or steps.numel() == 0:
        raise ValueError(f"steps must be a non-empty 1-D tensor, got shape {tuple(steps.shape)}")
    bad = ~(torch.isfinite(steps) & (steps > 0))
    if bool(bad.any()):
        k = int(bad.nonzero()[0, 0])
        raise ValueError(f"steps must be finite and > 0, got a_{k + 1} = {float(steps[k])}")
    if num_steps is not None and steps.numel() != num_steps:
        raise ValueError(f"steps must hold one step per sample ({num_steps}), got {steps.numel()}")
    return [float(a) for a in steps.tolist()]


def same_shape(name: str, value: object, shape: torch.Size) -> Tensor:
    """Return ``value`` if it is a tensor of ``shape``: what a user's callable must give back."""
    if not isinstance(value, Tensor) or value.shape != shape:
        got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"{name} must return a tensor of shape {tuple(shape)}, got {got}")
    return value


def start(w1: Tensor) -> Tensor:
    """A start point of shape (*, d) for the descent methods."""
    floating("w1", w1)
    if w1.dim() == 0:
        raise ValueError("w1 must have shape (*, d), got a scalar")
    return w1


def data_set(data: Tensor) -> Tensor:
    """A finite data set of shape (n, p), n >= 1."""
    floating("data", data)
    if data.dim() != 2 or data.shape[0] == 0:
        raise ValueError(f"data must have shape (n, p) with n >= 1, got {tuple(data.shape)}")
    return data
