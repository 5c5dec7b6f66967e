r"""Reparameterisation: gradients of $L(\theta) = \mathbb{E}_{z \sim p_\theta}[f(z)]$.

The page [Reparameterisation](../reparameterization.md) derives every function here, in the
same order:

1. the Gaussian case: a reparameterised sampler and two per-sample gradient estimators,
   score-function and pathwise;
2. the Gumbel-Max trick, its relaxation Gumbel-Softmax with the straight-through option, and
   the density of the relaxed (Concrete) distribution;
3. the discrete estimators of a small optimisation problem: exact sum, REINFORCE with a
   baseline, Gumbel-Softmax and straight-through;
4. Pearson's chi-square tests, which check the samplers.

Randomness comes in as `generator`; nothing here reads or sets a global seed (with
`generator=None`, torch's global generator is used, as in torch itself). Every function is
importable from `notes.reparam`; the private submodules only keep files short.

Examples:
    >>> import torch
    >>> from notes.reparam import gumbel_max, gumbel_softmax
    >>> theta = torch.tensor([[2.0, 0.0, -1.0]])
    >>> y = gumbel_softmax(theta, tau=0.5, generator=torch.Generator().manual_seed(0))
    >>> k = gumbel_max(theta, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(y.sum(-1), torch.ones(1))), bool((y.argmax(-1) == k).all())
    (True, True)
"""

from __future__ import annotations

# In the order of the page, which mkdocstrings follows in the API reference.
# isort: off
from notes.reparam._gaussian import gaussian_rsample, score_function_gradients, pathwise_gradients
from notes.reparam._gumbel import (
    probs_to_logits,
    gumbel,
    gumbel_max,
    gumbel_softmax,
    concrete_log_prob,
)
from notes.reparam._discrete import exact_objective, reinforce_gradients, relaxed_gradients
from notes.reparam._chi_square import chi_square_gof, chi_square_homogeneity
# isort: on

__all__ = [
    "chi_square_gof",
    "chi_square_homogeneity",
    "concrete_log_prob",
    "exact_objective",
    "gaussian_rsample",
    "gumbel",
    "gumbel_max",
    "gumbel_softmax",
    "pathwise_gradients",
    "probs_to_logits",
    "reinforce_gradients",
    "relaxed_gradients",
    "score_function_gradients",
]
