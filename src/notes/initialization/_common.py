"""Validation and activation table shared by the `notes.initialization` modules."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

ACTIVATIONS = ("linear", "relu", "leaky_relu", "tanh", "gelu", "selu", "sigmoid")
"""Activation names understood by [`gain`][notes.initialization.gain] and the deep MLP."""


def positive_int(name: str, value: object) -> int:
    """Return `value` if it is an int >= 1, else raise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def positive_float(name: str, value: object) -> float:
    """Return `value` as a float if it is a finite number > 0, else raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not value > 0 or math.isinf(value):  # also rejects NaN
        raise ValueError(f"{name} must be > 0 and finite, got {value!r}")
    return float(value)


def floating_tensor(name: str, x: object, dim: int) -> torch.Tensor:
    """Return `x` if it is a floating tensor with `dim` dimensions, else raise naming `name`."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating, got dtype {x.dtype}")
    if x.dim() != dim:
        raise ValueError(f"{name} must have {dim} dimension(s), got shape {tuple(x.shape)}")
    return x


def check_shape(shape: object) -> tuple[int, ...]:
    """Return `shape` if it is a tuple (or torch.Size) of ints >= 0."""
    if not isinstance(shape, tuple) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise ValueError(f"shape must be a tuple of ints >= 0, got {shape!r}")
    return tuple(int(s) for s in shape)


def activation_fn(
    name: str, negative_slope: float = 0.01
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation called `name`, one of `ACTIVATIONS`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    table: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "linear": lambda x: x,
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, negative_slope),
        "tanh": torch.tanh,
        "gelu": F.gelu,  # the exact x Φ(x), not the tanh approximation
        "selu": F.selu,
        "sigmoid": torch.sigmoid,
    }
    return table[name]
