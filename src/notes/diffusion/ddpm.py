r"""Discrete-time samplers: DDPM's ancestral sampler and the DDIM family, at any timestep subsequence.

A sampler takes a noise predictor `eps_model(x, t)` (``t`` a training index) and the schedule
$\bar\alpha$. DDIM with $\eta = 1$ is DDPM on the subsequence; $\eta = 0$ is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from notes._validate import generator as check_generator
from notes._validate import instance, real, shape_preserving, shapes_match, tensor
from notes.diffusion.mixture import GaussianMixture

__all__ = ["ddim_sample", "ddim_step", "ddpm_sample", "mixture_eps"]

EpsModel = Callable[[Tensor, int], Tensor]


def mixture_eps(m: GaussianMixture, abar: Tensor) -> EpsModel:
    r"""The exact noise predictor of the testbed: $\hat\varepsilon = -\sqrt{1 - \bar\alpha_t}\,\nabla\log p_t$.

    Examples:
        >>> from notes.diffusion import mixture
        >>> m = mixture(torch.ones(1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64),
        ...             torch.ones(1, 1, 1, dtype=torch.float64))
        >>> eps = mixture_eps(m, torch.tensor([0.5], dtype=torch.float64))
        >>> round(float(eps(torch.ones(1, 1, dtype=torch.float64), 0)[0, 0]), 6)  # N(0,1) data: x_t sqrt(1-a)
        0.707107
    """
    instance("m", m, GaussianMixture)
    abar = tensor("abar", abar, dims="T", min_numel=1)

    def eps(x: Tensor, t: int) -> Tensor:
        a = float(abar[t])
        s, sigma = a**0.5, ((1 - a) / a) ** 0.5
        out: Tensor = -((1 - a) ** 0.5) * m.score(x, s, sigma)
        return out

    return eps


def _check_sequence(abar: Tensor, ts: object) -> tuple[Tensor, list[int]]:
    abar = tensor("abar", abar, dims="T", min_numel=1)
    if not isinstance(ts, Tensor) or ts.dtype != torch.long or ts.dim() != 1 or ts.numel() < 1:
        raise ValueError("ts must be a non-empty 1-D int64 tensor of timesteps")
    T = abar.shape[0]
    if bool((ts < 0).any()) or bool((ts >= T).any()):
        raise ValueError(f"timesteps must lie in [0, {T - 1}] (the schedule has T = {T})")
    if ts.numel() > 1 and bool((ts[1:] >= ts[:-1]).any()):
        raise ValueError("ts must be strictly decreasing (timesteps in sampling order)")
    return abar, ts.tolist()


# --8<-- [start:ddim]
def ddim_step(
    x: Tensor, eps: Tensor, a_t: float, a_prev: float, eta: float, noise: Tensor | None
) -> Tensor:
    r"""One DDIM step from $\bar\alpha_t$ to $\bar\alpha_{\text{prev}}$.

    $$ x_{\text{prev}} = \sqrt{\bar\alpha_{\text{prev}}}\,\hat x_0
       + \sqrt{1 - \bar\alpha_{\text{prev}} - \varsigma^2}\,\hat\varepsilon + \varsigma z, \quad
       \varsigma = \eta \sqrt{\tfrac{1 - \bar\alpha_{\text{prev}}}{1 - \bar\alpha_t}}
       \sqrt{1 - \tfrac{\bar\alpha_t}{\bar\alpha_{\text{prev}}}} $$

    Args:
        x: $x_t$, shape `(N, D)`.
        eps: $\hat\varepsilon(x_t, t)$, shape of `x`.
        a_t: $\bar\alpha_t$ in (0, 1).
        a_prev: $\bar\alpha_{\text{prev}}$ in (a_t, 1].
        eta: $\eta \ge 0$ ($\eta = 1$: DDPM's posterior variance).
        noise: $z \sim \mathcal{N}(0, I)$, shape of `x`; may be None when $\eta = 0$.

    Returns:
        $x_{\text{prev}}$.

    Examples:
        >>> x = torch.ones(1, 1, dtype=torch.float64)
        >>> ddim_step(x, torch.zeros_like(x), 0.25, 1.0, 0.0, None).item()  # x0 = x / sqrt(a_t)
        2.0

    References:
        Denoising Diffusion Implicit Models, J. Song, C. Meng, S. Ermon, 2021,
        <https://arxiv.org/abs/2010.02502>. [Page](../diffusion/ddim.md#ddim).
    """
    shapes_match(["x", "eps"], [tensor("x", x), tensor("eps", eps)])
    a_t, a_prev = real("a_t", a_t, gt=0, le=1), real("a_prev", a_prev, gt=0, le=1)
    if noise is not None:
        shapes_match(["x", "noise"], [x, tensor("noise", noise)])
    eta = real("eta", eta, ge=0)
    x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t**0.5  # x0_hat
    var = eta**2 * (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)  # varsigma^2
    out = a_prev**0.5 * x0 + max(1 - a_prev - var, 0.0) ** 0.5 * eps
    if var > 0:
        if noise is None:
            raise ValueError("noise must be given when eta > 0")
        out = out + var**0.5 * noise
    result: Tensor = out
    return result


# --8<-- [end:ddim]


def ddim_sample(
    eps_model: EpsModel,
    abar: Tensor,
    ts: Tensor,
    x: Tensor,
    *,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""DDIM from $x$ at timestep `ts[0]` down to $x_0$, stepping through the subsequence `ts`.

    After the last index the step goes to $\bar\alpha = 1$, the clean data.

    Args:
        eps_model: $\hat\varepsilon(x, t)$ for a training index $t$.
        abar: shape `(T,)`.
        ts: strictly decreasing int64 indices in [0, T - 1], e.g. from
            [`timesteps`][notes.diffusion.schedules.timesteps].
        x: the starting point $x_{t_0}$, shape `(N, D)`.
        eta: $\eta \ge 0$.
        generator: source of the noise when $\eta > 0$.

    Returns:
        The samples, shape `(N, D)`.

    Examples:
        >>> from notes.diffusion import linear_betas, alpha_bar, timesteps
        >>> abar = alpha_bar(linear_betas(100))
        >>> x = torch.zeros(3, 2, dtype=torch.float64)
        >>> ddim_sample(lambda x, t: torch.zeros_like(x), abar, timesteps(100, 5), x).abs().max().item()
        0.0
    """
    eps_model = shape_preserving("eps_model", eps_model)
    abar, seq = _check_sequence(abar, ts)
    x = tensor("x", x, dims="N D")
    eta = real("eta", eta, ge=0)
    check_generator("generator", generator)
    for i, t in enumerate(seq):
        a_t = float(abar[t])
        a_prev = float(abar[seq[i + 1]]) if i + 1 < len(seq) else 1.0
        noise = torch.randn(x.shape, dtype=x.dtype, generator=generator) if eta > 0 else None
        x = ddim_step(x, eps_model(x, t), a_t, a_prev, eta, noise)
    return x


def ddpm_sample(
    eps_model: EpsModel,
    abar: Tensor,
    ts: Tensor,
    x: Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""DDPM's ancestral sampler: draw from the posterior with $x_0$ replaced by its prediction.

    $$ x_{\text{prev}} \sim \mathcal{N}\bigl(\tilde\mu(x_t, \hat x_0), \tilde\beta\, I\bigr), \quad
       \beta = 1 - \bar\alpha_t / \bar\alpha_{\text{prev}} $$

    On a subsequence the betas are those of the respaced chain. The last step returns the
    posterior mean $\hat x_0$ (no noise).

    Args:
        eps_model: $\hat\varepsilon(x, t)$.
        abar: shape `(T,)`.
        ts: strictly decreasing int64 indices.
        x: shape `(N, D)`.
        generator: source of the noise.

    Returns:
        Shape `(N, D)`.

    Examples:
        >>> from notes.diffusion import linear_betas, alpha_bar, timesteps
        >>> abar = alpha_bar(linear_betas(100))
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.zeros(3, 2, dtype=torch.float64)
        >>> ddpm_sample(lambda x, t: torch.zeros_like(x), abar, timesteps(100, 5), x, generator=g).shape
        torch.Size([3, 2])

    References:
        Denoising Diffusion Probabilistic Models, J. Ho, A. Jain, P. Abbeel, 2020,
        <https://arxiv.org/abs/2006.11239>. [Page](../diffusion/ddim.md#ddpm).
    """
    eps_model = shape_preserving("eps_model", eps_model)
    abar, seq = _check_sequence(abar, ts)
    x = tensor("x", x, dims="N D")
    check_generator("generator", generator)
    for i, t in enumerate(seq):
        a_t = float(abar[t])
        a_prev = float(abar[seq[i + 1]]) if i + 1 < len(seq) else 1.0
        beta = 1 - a_t / a_prev  # the respaced chain's beta
        x0 = (x - (1 - a_t) ** 0.5 * eps_model(x, t)) / a_t**0.5
        mean = (a_prev**0.5 * beta * x0 + (1 - beta) ** 0.5 * (1 - a_prev) * x) / (1 - a_t)
        if i + 1 < len(seq):
            var = (1 - a_prev) / (1 - a_t) * beta  # tilde beta
            mean = mean + var**0.5 * torch.randn(x.shape, dtype=x.dtype, generator=generator)
        x = mean
    return x
