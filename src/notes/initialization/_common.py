"""The activation table shared by the `notes.initialization` modules."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from notes._validate import choice, real

ACTIVATIONS = ("linear", "relu", "leaky_relu", "tanh", "gelu", "selu", "sigmoid")
"""Activation names understood by [`gain`][notes.initialization.gain] and the deep MLP."""


def activation_fn(
    name: str, negative_slope: float = 0.01
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation called `name`, one of `ACTIVATIONS`."""
    choice("activation", name, ACTIVATIONS)
    negative_slope = real("negative_slope", negative_slope)
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
