r"""Initialisation and parameterisation: keeping the second moment of a deep network in check.

The functions follow the page [Initialisation and attention](../initialization.md): samplers
with a requested standard deviation, the LeCun, Xavier and He standard deviations, activation
gains from the second-moment rule, a deep MLP that reports the second moment at every layer, a
closed form for the log-ratio of that moment under He + ReLU, and one SGD step of a two-layer
network under the standard and the NTK parameterisations.

Examples:
    >>> import torch
    >>> from notes.initialization import he_std, truncated_normal_std
    >>> round(truncated_normal_std(2.0), 4)
    0.8796
    >>> round(he_std(512), 4)
    0.0625
"""

from __future__ import annotations

from notes.initialization._common import ACTIVATIONS
from notes.initialization.depth import (
    gain,
    mlp_second_moments,
    post_norm_input_weight,
    relu_log_ratio_moments,
    second_moment_map,
)
from notes.initialization.ntk import two_layer_sgd_step
from notes.initialization.sampling import (
    he_std,
    lecun_std,
    normal,
    truncated_normal,
    truncated_normal_std,
    uniform,
    xavier_std,
)

__all__ = [
    "ACTIVATIONS",
    "gain",
    "he_std",
    "lecun_std",
    "mlp_second_moments",
    "normal",
    "post_norm_input_weight",
    "relu_log_ratio_moments",
    "second_moment_map",
    "truncated_normal",
    "truncated_normal_std",
    "two_layer_sgd_step",
    "uniform",
    "xavier_std",
]
