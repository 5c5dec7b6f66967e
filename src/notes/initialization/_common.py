"""Validation and activation table shared by the `notes.initialization` modules."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

ACTIVATIONS = ("linear", "relu", "leaky_relu", "tanh", "gelu", "selu", "sigmoid")
"""Activation names understood by [`gain`][notes.initialization.gain] and the deep MLP."""


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
