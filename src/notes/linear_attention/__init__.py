r"""Attention without the softmax: linear attention, its recurrence, random features, GAU and FLASH.

The functions follow the page [Attention without the softmax](../linear-attention.md):
attention as a normalised weighted average with a similarity $\operatorname{sim}(q, k)$;
with $\operatorname{sim}(q, k) = \phi(q) \cdot \phi(k)$ for a non-negative feature map $\phi$
the product can be computed in either order, $(\phi(Q)\phi(K)^\top) V$ in $O(n^2 r)$ or
$\phi(Q)(\phi(K)^\top V)$ in $O(n r d_v)$; the causal form is a recurrence with an
$r \times d_v$ state; positive random features make $\phi(q)\cdot\phi(k)$ an unbiased estimate
of the softmax kernel; the gated attention unit (GAU) uses squared-ReLU attention, and FLASH's
mixed-chunk attention is quadratic within chunks and linear across them. Softmax attention
itself is [`notes.attention`][notes.attention].

One module per idea, everything importable from here:

- [`feature_maps`][notes.linear_attention.feature_maps]: elu + 1 and ReLU, checked non-negative;
- [`orders`][notes.linear_attention.orders]: the two orders of linear attention, its weight
  matrix and the causal recurrence;
- [`random_features`][notes.linear_attention.random_features]: positive and trigonometric
  random features for the softmax kernel, independent or orthogonal draws, their variances;
- [`gau`][notes.linear_attention.gau]: the gated attention unit and mixed-chunk attention;
- [`cost`][notes.linear_attention.cost]: counted matrix-product flops, interleaved CPU times,
  growth exponents, crossovers.

Examples:
    >>> import torch
    >>> from notes.linear_attention import linear_attention
    >>> g = torch.Generator().manual_seed(0)
    >>> q, k, v = (torch.randn(5, 4, generator=g, dtype=torch.float64) for _ in range(3))
    >>> left = linear_attention(q, k, v, order="left")
    >>> bool(torch.allclose(left, linear_attention(q, k, v, order="right")))
    True
"""

from __future__ import annotations

# In the order of the page.
# isort: off
from notes.linear_attention.feature_maps import FEATURE_MAPS, elu_plus_one
from notes.linear_attention.orders import (
    causal_linear_attention,
    linear_attention,
    linear_attention_weights,
)
from notes.linear_attention.cost import (
    crossover,
    growth_exponent,
    interleaved_times,
    matmul_flops,
    round_exponents,
)
from notes.linear_attention.random_features import (
    gaussian_projection,
    positive_random_features,
    random_feature_map,
    softmax_kernel_variance,
    trigonometric_random_features,
)
from notes.linear_attention.gau import (
    GAUParameters,
    gated_attention_unit,
    init_gau,
    mixed_chunk_attention,
    mixed_chunk_weights,
    squared_relu_attention,
)
# isort: on

__all__ = [
    "FEATURE_MAPS",
    "GAUParameters",
    "causal_linear_attention",
    "crossover",
    "elu_plus_one",
    "gated_attention_unit",
    "gaussian_projection",
    "growth_exponent",
    "init_gau",
    "interleaved_times",
    "linear_attention",
    "linear_attention_weights",
    "matmul_flops",
    "mixed_chunk_attention",
    "mixed_chunk_weights",
    "positive_random_features",
    "random_feature_map",
    "round_exponents",
    "softmax_kernel_variance",
    "squared_relu_attention",
    "trigonometric_random_features",
]
