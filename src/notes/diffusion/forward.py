r"""The forward chain, its closed-form marginal, the posterior, and the four parameterisations.

With $\bar\alpha_t = \prod_{s \le t}(1 - \beta_s)$, the chain
$x_t = \sqrt{1 - \beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t$ has the marginal
$q(x_t \mid x_0) = \mathcal{N}(\sqrt{\bar\alpha_t}\,x_0, (1 - \bar\alpha_t) I)$; the network may
predict $\varepsilon$, $x_0$, the score or $v$, which are affine functions of one another.
"""

from __future__ import annotations

import torch
from torch import Tensor

from notes._validate import generator as check_generator
from notes._validate import integer, real_or_tensor, shapes_match, tensor

__all__ = [
    "eps_to_score",
    "eps_to_v",
    "eps_to_x0",
    "posterior",
    "q_sample",
    "score_to_eps",
    "simulate_chain",
    "tweedie",
    "v_target",
    "v_to_eps",
    "x0_to_eps",
]


def q_sample(x0: Tensor, abar_t: float | Tensor, eps: Tensor) -> Tensor:
    r"""Noise $x_0$ to level $t$ in one draw, the closed-form marginal.

    $$ x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon $$

    Args:
        x0: data, shape `(*, D)`.
        abar_t: $\bar\alpha_t$ in (0, 1], a float or a tensor broadcastable to `(*, 1)`.
        eps: the noise $\varepsilon$, shape of `x0`.

    Returns:
        $x_t$, shape of `x0`.

    Examples:
        >>> round(float(q_sample(torch.tensor([2.0]), 0.25, torch.tensor([1.0]))[0]), 6)
        1.866025

    References:
        Denoising Diffusion Probabilistic Models, J. Ho, A. Jain, P. Abbeel, 2020,
        <https://arxiv.org/abs/2006.11239>. [Page](../diffusion/index.md#forward).
    """
    x0, eps = tensor("x0", x0), tensor("eps", eps)
    shapes_match(["x0", "eps"], [x0, eps])
    real_or_tensor("abar_t", abar_t)
    a = torch.as_tensor(abar_t, dtype=torch.float64)
    if bool((a <= 0).any()) or bool((a > 1).any()):
        raise ValueError("abar_t must lie in (0, 1]")
    return a.sqrt() * x0 + (1 - a).sqrt() * eps


# --8<-- [start:chain]
def simulate_chain(
    x0: Tensor, betas: Tensor, t: int, *, generator: torch.Generator | None = None
) -> Tensor:
    r"""Run the forward chain step by step from $x_0$ to $x_t$ (index $t$, $t + 1$ steps).

    $$ x_t = \sqrt{1 - \beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t $$

    Args:
        x0: data, shape `(N, D)`.
        betas: shape `(T,)`.
        t: last index, in [0, T - 1].
        generator: source of the $\varepsilon_t$.

    Returns:
        $x_t$, shape `(N, D)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = simulate_chain(torch.zeros(4, 2), torch.full((3,), 0.5), 2, generator=g)
        >>> x.shape
        torch.Size([4, 2])
    """
    x = tensor("x0", x0, dims="N D")
    betas = tensor("betas", betas, dims="T", min_numel=1)
    t = integer("t", t, minimum=0, maximum=betas.shape[0] - 1)
    check_generator("generator", generator)
    for beta in betas[: t + 1].to(x.dtype):
        eps = torch.randn(x.shape, dtype=x.dtype, generator=generator)  # eps_t ~ N(0, I)
        x = (1 - beta).sqrt() * x + beta.sqrt() * eps
    return x


# --8<-- [end:chain]


# --8<-- [start:posterior]
def posterior(x0: Tensor, xt: Tensor, t: int, betas: Tensor) -> tuple[Tensor, Tensor]:
    r"""The mean and variance of $q(x_{t-1} \mid x_t, x_0)$, a Gaussian by Bayes' rule.

    $$ \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t} x_0
       + \frac{\sqrt{1 - \beta_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t} x_t, \qquad
       \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t} \beta_t
    $$

    Args:
        x0: shape `(*, D)`.
        xt: shape of `x0`.
        t: index in [1, T - 1] (at $t = 0$ the posterior is a point mass at $x_0$).
        betas: shape `(T,)`.

    Returns:
        $(\tilde\mu_t, \tilde\beta_t)$: shape of `x0`, and a 0-d tensor.

    Examples:
        >>> b = torch.tensor([0.5, 0.5], dtype=torch.float64)
        >>> mu, var = posterior(torch.zeros(1), torch.ones(1), 1, b)
        >>> round(float(mu[0]), 6), round(float(var), 6)
        (0.471405, 0.333333)
    """
    x0, xt = tensor("x0", x0), tensor("xt", xt)
    shapes_match(["x0", "xt"], [x0, xt])
    betas = tensor("betas", betas, dims="T", min_numel=2)
    t = integer("t", t, minimum=1, maximum=betas.shape[0] - 1)
    abar = torch.cumprod(1 - betas, 0)
    beta, a_t, a_prev = betas[t], abar[t], abar[t - 1]
    mean = (a_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - a_prev) * xt) / (1 - a_t)
    return mean, (1 - a_prev) / (1 - a_t) * beta


# --8<-- [end:posterior]


def _ab(abar_t: float | Tensor) -> Tensor:
    real_or_tensor("abar_t", abar_t)
    a = torch.as_tensor(abar_t, dtype=torch.float64)
    if bool((a <= 0).any()) or bool((a >= 1).any()):
        raise ValueError("abar_t must lie in (0, 1)")
    return a


def eps_to_x0(xt: Tensor, eps: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""$\hat x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,\hat\varepsilon)/\sqrt{\bar\alpha_t}$.

    Examples:
        >>> float(eps_to_x0(torch.tensor(1.0), torch.tensor(0.0), 0.25))
        2.0
    """
    shapes_match(["xt", "eps"], [tensor("xt", xt), tensor("eps", eps)])
    a = _ab(abar_t)
    return (xt - (1 - a).sqrt() * eps) / a.sqrt()


def x0_to_eps(xt: Tensor, x0: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""$\hat\varepsilon = (x_t - \sqrt{\bar\alpha_t}\,\hat x_0)/\sqrt{1 - \bar\alpha_t}$.

    Examples:
        >>> float(x0_to_eps(torch.tensor(1.0), torch.tensor(2.0), 0.25))
        0.0
    """
    shapes_match(["xt", "x0"], [tensor("xt", xt), tensor("x0", x0)])
    a = _ab(abar_t)
    return (xt - a.sqrt() * x0) / (1 - a).sqrt()


def eps_to_score(eps: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""$\nabla \log p_t = -\hat\varepsilon / \sqrt{1 - \bar\alpha_t}$.

    Examples:
        >>> float(eps_to_score(torch.tensor(1.0), 0.75))
        -2.0
    """
    tensor("eps", eps)
    return -eps / (1 - _ab(abar_t)).sqrt()


def score_to_eps(score: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""$\hat\varepsilon = -\sqrt{1 - \bar\alpha_t}\,\nabla \log p_t$.

    Examples:
        >>> float(score_to_eps(torch.tensor(-2.0), 0.75))
        1.0
    """
    tensor("score", score)
    return -(1 - _ab(abar_t)).sqrt() * score


def v_target(x0: Tensor, eps: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""The velocity $v = \sqrt{\bar\alpha_t}\,\varepsilon - \sqrt{1 - \bar\alpha_t}\,x_0$.

    References:
        Progressive Distillation for Fast Sampling of Diffusion Models, T. Salimans,
        J. Ho, 2022, <https://arxiv.org/abs/2202.00512>.

    Examples:
        >>> float(v_target(torch.tensor(1.0), torch.tensor(1.0), 0.5))
        0.0
    """
    shapes_match(["x0", "eps"], [tensor("x0", x0), tensor("eps", eps)])
    a = _ab(abar_t)
    return a.sqrt() * eps - (1 - a).sqrt() * x0


def v_to_eps(xt: Tensor, v: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""$\hat\varepsilon = \sqrt{1 - \bar\alpha_t}\,x_t + \sqrt{\bar\alpha_t}\,\hat v$.

    Examples:
        >>> x0, eps = torch.tensor(0.3), torch.tensor(-1.2)
        >>> xt = q_sample(x0, 0.5, eps)
        >>> round(float(v_to_eps(xt, v_target(x0, eps, 0.5), 0.5)), 6)
        -1.2
    """
    shapes_match(["xt", "v"], [tensor("xt", xt), tensor("v", v)])
    a = _ab(abar_t)
    return (1 - a).sqrt() * xt + a.sqrt() * v


def eps_to_v(xt: Tensor, eps: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""$\hat v = (\hat\varepsilon - \sqrt{1 - \bar\alpha_t}\,x_t)/\sqrt{\bar\alpha_t}$.

    Examples:
        >>> float(eps_to_v(torch.tensor(0.0), torch.tensor(1.0), 0.25))
        2.0
    """
    shapes_match(["xt", "eps"], [tensor("xt", xt), tensor("eps", eps)])
    a = _ab(abar_t)
    return (eps - (1 - a).sqrt() * xt) / a.sqrt()


# --8<-- [start:tweedie]
def tweedie(xt: Tensor, score: Tensor, abar_t: float | Tensor) -> Tensor:
    r"""Tweedie's formula: the posterior mean of $x_0$ from the score of the noised marginal.

    $$ \mathbb{E}[x_0 \mid x_t] = \frac{x_t + (1 - \bar\alpha_t)\,\nabla \log p_t(x_t)}
       {\sqrt{\bar\alpha_t}} $$

    Args:
        xt: shape `(*, D)`.
        score: $\nabla \log p_t(x_t)$, shape of `xt`.
        abar_t: $\bar\alpha_t$ in (0, 1).

    Returns:
        Shape of `xt`.

    Examples:
        >>> round(float(tweedie(torch.tensor(1.0), torch.tensor(-1.0), 0.5)), 6)  # x0 ~ N(0, 1)
        0.707107

    References:
        Tweedie's Formula and Selection Bias, B. Efron, 2011,
        <https://doi.org/10.1198/jasa.2011.tm11181>. [Page](../diffusion/index.md#tweedie).
    """
    xt, score = tensor("xt", xt), tensor("score", score)
    shapes_match(["xt", "score"], [xt, score])
    a = _ab(abar_t)
    return (xt + (1 - a) * score) / a.sqrt()


# --8<-- [end:tweedie]
