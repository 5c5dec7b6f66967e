r"""Gumbel-Max sampling, the Gumbel-Softmax relaxation and its (Concrete) density."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from notes import _validate as check
from notes._validate import positive_float


def _simplex_tolerance(dtype: torch.dtype) -> float:
    # How far from one a sum of probabilities may be: sqrt(machine epsilon) of its own dtype.
    return math.sqrt(torch.finfo(dtype).eps)


__all__ = ["concrete_log_prob", "gumbel", "gumbel_max", "gumbel_softmax", "probs_to_logits"]


def probs_to_logits(probs: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Check that `probs` is a distribution along `dim` and return $\log p$.

    A sum is accepted within $\sqrt{\epsilon_\text{mach}}$ of one ($3.5 \cdot 10^{-4}$ in
    float32, $1.5 \cdot 10^{-8}$ in float64). Every $p_k$ must be $> 0$, so that $\log p$ is
    finite: the relaxations need every class possible.

    Args:
        probs: probabilities $p$, shape `(*, K)` (classes along `dim`).
        dim: the class dimension.

    Returns:
        $\log p$, same shape: logits for every function of this module.

    Examples:
        >>> probs_to_logits(torch.tensor([0.5, 0.25, 0.25])).exp()
        tensor([0.5000, 0.2500, 0.2500])
    """
    p = check.tensor("probs", probs)
    return check.probabilities(
        "probs", p, dim, positive=True, tol=_simplex_tolerance(p.dtype)
    ).log()


def _exponential(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    # E = -log U ~ Exp(1) by inversion, so that g = -log E ~ Gumbel(0, 1). torch.rand draws U on a
    # grid of 2^-24 (float32) or 2^-53 (float64) in [0, 1); U = 0 is moved to the smallest
    # normal number so that E stays finite. The noise is at least float32: a float16 grid of
    # 2^-11 would cut the tails. Inversion of a uniform is also several times faster than
    # Tensor.exponential_ on CPU (measured in tests/test_reparam.py).
    dtype = torch.promote_types(like.dtype, torch.float32)
    u = torch.rand(like.shape, dtype=dtype, device=like.device, generator=generator)
    return u.clamp_min_(torch.finfo(dtype).tiny).log_().neg_()


def gumbel(
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float32,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Standard Gumbel noise, by inversion of its CDF $F(g) = \exp(-e^{-g})$.

    $$ g = -\log(-\log u), \qquad u \sim \mathcal{U}(0, 1) $$

    Args:
        shape: output shape.
        dtype: a floating dtype.
        generator: source of $u$; [`gumbel_max`][notes.reparam.gumbel_max] and
            [`gumbel_softmax`][notes.reparam.gumbel_softmax] draw exactly this noise.

    Returns:
        i.i.d. standard Gumbel draws (mean: Euler's constant $0.5772$, variance $\pi^2/6$).

    Examples:
        >>> g = gumbel((10**6,), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        >>> round(g.mean().item(), 1), round(g.var().item(), 1)
        (0.6, 1.6)

    References:
        [Derivation](../reparameterization.md#gumbel-max).
    """
    shape, dtype = check.shape("shape", shape), check.dtype("dtype", dtype)
    check.generator("generator", generator)
    like = torch.empty(shape, dtype=dtype)
    return _exponential(like, generator).log_().neg_().to(dtype)  # g = -log E


def gumbel_max(
    logits: torch.Tensor,
    sample_shape: Sequence[int] = (),
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Sample classes from $\operatorname{softmax}(\theta)$ by the Gumbel-Max trick.

    $$ k = \arg\max_i\, (\theta_i + g_i), \qquad g_i \sim \operatorname{Gumbel}(0, 1) $$

    Args:
        logits: $\theta$, shape `(*, K)`, finite; unnormalised log-probabilities (use
            [`probs_to_logits`][notes.reparam.probs_to_logits] for probabilities).
        sample_shape: leading shape of independent draws.
        generator: source of the Gumbel noise.

    Returns:
        Class indices, `int64`, shape `(*sample_shape, *)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> k = gumbel_max(torch.tensor([0.5, 0.3, 0.2]).log(), (10**5,), generator=g)
        >>> torch.bincount(k).div(10**5).round(decimals=2)
        tensor([0.5000, 0.3000, 0.2000])

    References:
        The Concrete Distribution: A Continuous Relaxation of Discrete Random Variables,
        C. J. Maddison, A. Mnih and Y. W. Teh, 2017, <https://arxiv.org/abs/1611.00712>
        (section 2 recalls the trick).
        [Derivation and proof](../reparameterization.md#gumbel-max).
    """
    theta, sample_shape = (
        check.categories("logits", logits),
        check.shape("sample_shape", sample_shape),
    )
    check.generator("generator", generator)
    e = _exponential(theta.expand(*sample_shape, *theta.shape), generator)  # (*sample, *, K)
    return (theta - e.log_()).argmax(-1)  # argmax(theta + g), g = -log E


# --8<-- [start:gumbel_softmax]
def gumbel_softmax(
    logits: torch.Tensor,
    tau: float = 1.0,
    hard: bool = False,
    dim: int = -1,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""A relaxed one-hot sample; with `hard=True`, one-hot forward and relaxed gradient.

    $$ \tilde y = \operatorname{softmax}\!\Big(\frac{\theta + g}{\tau}\Big), \qquad
       y_\text{ST} = \operatorname{onehot}(\arg\max \tilde y) - \operatorname{sg}(\tilde y)
       + \tilde y $$

    where $\operatorname{sg}$ stops the gradient (straight-through). The signature is that of
    `torch.nn.functional.gumbel_softmax` (without its unused `eps`), plus `generator`.

    Args:
        logits: $\theta$, classes along `dim`, finite.
        tau: temperature $\tau > 0$.
        hard: return the straight-through one-hot sample $y_\text{ST}$.
        dim: the class dimension.
        generator: source of the Gumbel noise (for `dim=-1`, the draws of
            [`gumbel_max`][notes.reparam.gumbel_max], so that the argmax agrees with it).

    Returns:
        Samples on the simplex, shape and dtype of `logits`.

    Examples:
        >>> theta = torch.tensor([[1.0, 0.0, -1.0]])
        >>> gumbel_softmax(theta, 0.5, hard=True, generator=torch.Generator().manual_seed(0))
        tensor([[1., 0., 0.]])

    References:
        Categorical Reparameterization with Gumbel-Softmax, E. Jang, S. Gu and B. Poole, 2017,
        <https://arxiv.org/abs/1611.01144>. Estimating or Propagating Gradients Through
        Stochastic Neurons for Conditional Computation, Y. Bengio, N. Léonard and
        A. Courville, 2013, <https://arxiv.org/abs/1308.3432>.
        [Derivation](../reparameterization.md#gumbel-softmax).
    """
    theta, tau = check.categories("logits", logits, dim), positive_float("tau", tau)
    check.boolean("hard", hard)
    check.generator("generator", generator)
    e = _exponential(theta, generator)  # E ~ Exp(1), so g = -log E ~ Gumbel(0, 1)
    s = (theta - e.log_()).div_(tau)  # (theta + g) / tau, divided in place
    y = s.softmax(dim).to(theta.dtype)
    if not hard:
        return y
    y_hard = torch.zeros_like(y).scatter_(dim, y.argmax(dim, keepdim=True), 1.0)
    return y_hard.sub_(y.detach()).add_(y)  # value: y_hard; gradient: that of y


# --8<-- [end:gumbel_softmax]


def concrete_log_prob(y: torch.Tensor, logits: torch.Tensor, tau: float) -> torch.Tensor:
    r"""Log-density of the relaxed one-hot (Concrete) distribution of Gumbel-Softmax samples.

    $$ \log p_{\theta,\tau}(y) = \log\,(K-1)! + (K-1)\log\tau
       + \sum_{k=1}^K \big(\theta_k - (\tau + 1)\log y_k\big)
       - K \log \sum_{k=1}^K e^{\theta_k - \tau \log y_k} $$

    Args:
        y: points in the open simplex, shape `(*, K)`.
        logits: $\theta$, shape broadcastable to `y`, finite.
        tau: temperature $\tau > 0$.

    Returns:
        The log-density with respect to Lebesgue measure on $(y_1, \dots, y_{K-1})$,
            shape `(*)`.

    Examples:
        >>> theta = torch.zeros(2)  # K = 2, p = (1/2, 1/2), tau = 1: y_1 is uniform on (0, 1)
        >>> concrete_log_prob(torch.tensor([[0.3, 0.7], [0.9, 0.1]]), theta, 1.0).exp()
        tensor([1., 1.])

    References:
        The Concrete Distribution: A Continuous Relaxation of Discrete Random Variables,
        C. J. Maddison, A. Mnih and Y. W. Teh, 2017, <https://arxiv.org/abs/1611.00712>.
        [Derivation](../reparameterization.md#the-density-of-a-relaxed-sample).
    """
    theta, tau, y = (
        check.categories("logits", logits),
        positive_float("tau", tau),
        check.tensor("y", y),
    )
    k = theta.shape[-1]
    if y.dim() == 0 or y.shape[-1] != k:
        raise ValueError(
            f"y must have K = {k} classes (the last dimension of logits), got {tuple(y.shape)}"
        )
    check.broadcast(("y", "logits"), (y, theta))
    check.probabilities("y", y, positive=True, tol=_simplex_tolerance(y.dtype))  # open simplex
    log_y = y.log()  # (*, K)
    score = theta - tau * log_y  # log alpha_k - tau log y_k
    log_norm = math.lgamma(k) + (k - 1) * math.log(tau)  # log (K-1)! + (K-1) log tau
    return log_norm + (score - log_y).sum(-1) - k * score.logsumexp(-1)
