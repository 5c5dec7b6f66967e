r"""Continuous time: the VP SDE, its reverse, the probability-flow ODE, and EDM's samplers.

The VP SDE $dx = -\tfrac12\beta(t) x\,dt + \sqrt{\beta(t)}\,dw$ is DDPM's limit. Its reverse
$dx = [-\tfrac12\beta x - \beta\nabla\log p_t]\,dt + \sqrt\beta\,d\bar w$ and the probability-flow
ODE $dx/dt = -\tfrac12\beta(x + \nabla\log p_t)$ share its marginals. In EDM's variables with
$s = 1$ the ODE is $dx/d\sigma = (x - D(x; \sigma))/\sigma$, which `ode_sample` solves.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor

from notes._validate import (
    boolean,
    choice,
    positive_int,
    real,
    shape_preserving,
    shapes_match,
    tensor,
)
from notes._validate import generator as check_generator
from notes.diffusion.schedules import edm_sigmas

__all__ = [
    "edm_sample",
    "ode_sample",
    "precondition",
    "vp_drift",
    "vp_reverse_sample",
    "vp_schedule",
]

Score = Callable[[Tensor, float], Tensor]
Denoiser = Callable[[Tensor, float], Tensor]


def vp_schedule(t: float, beta_min: float = 0.1, beta_max: float = 20.0) -> tuple[float, float]:
    r"""$\beta(t) = \beta_{\min} + t(\beta_{\max} - \beta_{\min})$ and $\bar\alpha(t) = e^{-\int_0^t \beta}$.

    Examples:
        >>> vp_schedule(0.0)
        (0.1, 1.0)
    """
    t = real("t", t, ge=0, le=1)
    beta_min = real("beta_min", beta_min, gt=0)
    beta_max = real("beta_max", beta_max, ge=beta_min)
    integral = beta_min * t + 0.5 * t**2 * (beta_max - beta_min)
    return beta_min + t * (beta_max - beta_min), math.exp(-integral)


def vp_drift(score: Tensor, x: Tensor, beta: float, *, ode: bool) -> Tensor:
    r"""The reverse-time drift: $-\tfrac12\beta x - \beta\nabla\log p_t$ (SDE) or $-\tfrac12\beta(x + \nabla\log p_t)$ (ODE).

    Examples:
        >>> x = torch.ones(1, 1)
        >>> float(vp_drift(-x, x, 2.0, ode=True)[0, 0]), float(vp_drift(-x, x, 2.0, ode=False)[0, 0])
        (0.0, 1.0)
    """
    shapes_match(["x", "score"], [tensor("x", x), tensor("score", score)])
    beta = real("beta", beta, gt=0)
    half = 0.5 if boolean("ode", ode) else 1.0
    return -0.5 * beta * x - half * beta * score


# --8<-- [start:reverse]
def vp_reverse_sample(
    score: Score,
    x: Tensor,
    steps: int,
    *,
    ode: bool = False,
    t_min: float = 1e-3,
    beta_min: float = 0.1,
    beta_max: float = 20.0,
    generator: torch.Generator | None = None,
    trajectory: bool = False,
) -> Tensor:
    r"""Integrate the reverse VP SDE (Euler-Maruyama) or the probability-flow ODE (Euler) from $t = 1$ to `t_min`.

    $$ x_{t - h} = x_t - h\, f(x_t, t) + \sqrt{h\beta(t)}\, z, \qquad z \sim \mathcal{N}(0, I)
       \ (\text{SDE only}) $$

    with $f$ the drift of [`vp_drift`][notes.diffusion.sde.vp_drift].

    Args:
        score: $\nabla\log p_t(x)$ as `score(x, t)`.
        x: the start $x_1$, shape `(N, D)`.
        steps: number of steps, >= 1.
        ode: follow the ODE instead of the SDE.
        t_min: where to stop, in (0, 1).
        beta_min: $\beta(0) > 0$.
        beta_max: $\beta(1) \ge \beta(0)$.
        generator: source of $z$.
        trajectory: return every step, shape `(steps + 1, N, D)`.

    Returns:
        $x_{t_{\min}}$, shape `(N, D)`, or the trajectory.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(2000, 1, generator=g, dtype=torch.float64)
        >>> y = vp_reverse_sample(lambda x, t: -x, x, 100, ode=True)  # N(0, 1) data stays N(0, 1)
        >>> torch.allclose(y, x)
        True

    References:
        Score-Based Generative Modeling through Stochastic Differential Equations, Y. Song et al.,
        2021, <https://arxiv.org/abs/2011.13456>. [Page](../diffusion/sde.md#reverse).
    """
    score = shape_preserving("score", score)
    boolean("trajectory", trajectory)
    x = tensor("x", x, dims="N D")
    steps = positive_int("steps", steps)
    t_min = real("t_min", t_min, gt=0, lt=1)
    ode = boolean("ode", ode)
    check_generator("generator", generator)
    h = (1 - t_min) / steps
    path = [x]
    for i in range(steps):
        t = 1 - i * h
        beta, _ = vp_schedule(t, beta_min, beta_max)
        x = x - h * vp_drift(score(x, t), x, beta, ode=ode)  # dt = -h
        if not ode:
            x = x + (h * beta) ** 0.5 * torch.randn(x.shape, dtype=x.dtype, generator=generator)
        path.append(x)
    return torch.stack(path) if trajectory else x


# --8<-- [end:reverse]


# --8<-- [start:ode]
def ode_sample(
    denoiser: Denoiser, x: Tensor, sigmas: Tensor, *, method: str = "heun", trajectory: bool = False
) -> Tensor:
    r"""Solve $dx/d\sigma = (x - D(x; \sigma))/\sigma$ through the levels `sigmas` (Euler or Heun).

    $$ d_i = \frac{x_i - D(x_i; \sigma_i)}{\sigma_i}, \quad
       x_{i+1} = x_i + (\sigma_{i+1} - \sigma_i)\, d_i, \quad
       \text{Heun: } x_{i+1} = x_i + (\sigma_{i+1} - \sigma_i)\tfrac12 (d_i + d'_{i+1})
    $$

    Heun's correction is skipped on a last step to $\sigma = 0$, so $n$ steps cost $2n - 1$
    evaluations of $D$.

    Args:
        denoiser: $D(x; \sigma)$ as `denoiser(x, sigma)`.
        x: the start, $x \sim \mathcal{N}(0, \sigma_0^2 I)$ approximately, shape `(N, D)`.
        sigmas: decreasing levels, shape `(n + 1,)`, every one > 0 except possibly the last.
        method: ``"euler"`` or ``"heun"``.
        trajectory: return every step, shape `(n + 1, N, D)`.

    Returns:
        Shape `(N, D)`, or the trajectory.

    Examples:
        >>> x = torch.ones(1, 1, dtype=torch.float64) * 3
        >>> s = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
        >>> ode_sample(lambda x, sigma: x / (1 + sigma**2), x, s, method="euler").item()  # N(0,1) data
        0.9

    References:
        Elucidating the Design Space of Diffusion-Based Generative Models, T. Karras et al.,
        2022, <https://arxiv.org/abs/2206.00364>. [Page](../diffusion/edm.md#rho).
    """
    denoiser = shape_preserving("denoiser", denoiser)
    boolean("trajectory", trajectory)
    x = tensor("x", x, dims="N D")
    sigmas = tensor("sigmas", sigmas, dims="S", min_numel=2)
    method = choice("method", method, ("euler", "heun"))
    if bool((sigmas[:-1] <= 0).any()) or bool((sigmas[-1] < 0).any()):
        raise ValueError("sigmas must be > 0 (the last may be 0)")
    if bool((sigmas[1:] >= sigmas[:-1]).any()):
        raise ValueError("sigmas must be strictly decreasing")
    levels = sigmas.tolist()
    path = [x]
    for s_i, s_next in itertools.pairwise(levels):
        d = (x - denoiser(x, s_i)) / s_i
        x_next = x + (s_next - s_i) * d  # Euler
        if method == "heun" and s_next > 0:
            d_next = (x_next - denoiser(x_next, s_next)) / s_next
            x_next = x + (s_next - s_i) * 0.5 * (d + d_next)  # trapezoidal correction
        x = x_next
        path.append(x)
    return torch.stack(path) if trajectory else x


# --8<-- [end:ode]


def edm_sample(
    denoiser: Denoiser,
    eps: Tensor,
    n: int,
    *,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    rho: float = 7.0,
    method: str = "heun",
) -> Tensor:
    r"""EDM's deterministic sampler: Heun on the $\rho$ schedule, from $x = \sigma_{\max}\varepsilon$.

    Args:
        denoiser: $D(x; \sigma)$.
        eps: standard normal noise, shape `(N, D)`.
        n: number of steps, >= 2 ($2n - 1$ evaluations with Heun).
        sigma_min: smallest positive level.
        sigma_max: largest level.
        rho: the schedule's exponent (7 in the paper; 1 is uniform in $\sigma$).
        method: ``"heun"`` or ``"euler"``.

    Returns:
        Shape `(N, D)`.

    Examples:
        >>> eps = torch.ones(1, 1, dtype=torch.float64)
        >>> y = edm_sample(lambda x, s: x / (1 + s**2), eps, 64)  # N(0,1) data: exact answer 80/sqrt(6401)
        >>> round(y.item(), 2)
        1.0

    References:
        Elucidating the Design Space of Diffusion-Based Generative Models, T. Karras et al.,
        2022, <https://arxiv.org/abs/2206.00364>. [Page](../diffusion/edm.md#rho).
    """
    eps = tensor("eps", eps, dims="N D")
    sigmas = edm_sigmas(n, sigma_min, sigma_max, rho).to(eps.dtype)
    return ode_sample(denoiser, sigma_max * eps, sigmas, method=method)


# --8<-- [start:precondition]
def precondition(sigma: Tensor, sigma_data: float = 0.5) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""EDM's preconditioning $D(x; \sigma) = c_{\text{skip}} x + c_{\text{out}} F(c_{\text{in}} x; c_{\text{noise}})$.

    $$ c_{\text{in}} = \frac{1}{\sqrt{\sigma^2 + \sigma_d^2}}, \quad
       c_{\text{skip}} = \frac{\sigma_d^2}{\sigma^2 + \sigma_d^2}, \quad
       c_{\text{out}} = \frac{\sigma\sigma_d}{\sqrt{\sigma^2 + \sigma_d^2}}, \quad
       c_{\text{noise}} = \tfrac14 \log\sigma $$

    so that the network's input $c_{\text{in}} x$ and its target
    $(x_0 - c_{\text{skip}} x)/c_{\text{out}}$ both have unit variance when the data do
    have variance $\sigma_d^2$.

    Args:
        sigma: noise levels, > 0, any shape.
        sigma_data: $\sigma_d > 0$, the data's standard deviation.

    Returns:
        $(c_{\text{skip}}, c_{\text{out}}, c_{\text{in}}, c_{\text{noise}})$, each the shape of `sigma`.

    Examples:
        >>> [round(float(c), 4) for c in precondition(torch.tensor(0.5))]
        [0.5, 0.3536, 1.4142, -0.1733]
    """
    sigma = tensor("sigma", sigma)
    if bool((sigma <= 0).any()):
        raise ValueError("sigma must be > 0")
    sd = real("sigma_data", sigma_data, gt=0)
    total = sigma**2 + sd**2
    return sd**2 / total, sigma * sd / total.sqrt(), 1 / total.sqrt(), sigma.log() / 4


# --8<-- [end:precondition]
