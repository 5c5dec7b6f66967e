r"""Noise schedules: DDPM's betas, alpha-bar and the SNR; EDM's $(s, \sigma)$; timestep subsequences.

Every Gaussian noising of the data has the form $x = s\,(x_0 + \sigma \varepsilon)$
[@diffusion-edm]. DDPM is $s = \sqrt{\bar\alpha}$, $\sigma = \sqrt{(1 - \bar\alpha)/\bar\alpha}$;
score matching is $s = 1$; flow matching is $s = 1 - t$, $\sigma = t / (1 - t)$. The functions
here move between the three exactly.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from notes._validate import broadcast, choice, integer, positive_int, real, tensor

__all__ = [
    "alpha_bar",
    "cosine_betas",
    "ddpm_to_edm",
    "edm_sigmas",
    "edm_to_ddpm",
    "edm_to_flow",
    "flow_to_edm",
    "linear_betas",
    "snr",
    "timesteps",
]

SPACINGS = ("leading", "trailing", "linspace")


def linear_betas(T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> Tensor:
    r"""DDPM's linear schedule $\beta_t$, $t = 1, \dots, T$, stored at indices $0, \dots, T - 1$.

    $$ \beta_t = \beta_1 + \tfrac{t - 1}{T - 1} (\beta_T - \beta_1) $$

    Args:
        T: number of training steps, >= 2.
        beta_1: first variance, in (0, 1).
        beta_T: last variance, in [beta_1, 1).

    Returns:
        Shape `(T,)`, float64.

    Examples:
        >>> b = linear_betas(1000)
        >>> float(b[0]), float(b[-1])
        (0.0001, 0.02)

    References:
        Denoising Diffusion Probabilistic Models, J. Ho, A. Jain, P. Abbeel, 2020,
        <https://arxiv.org/abs/2006.11239>. [Page](../diffusion/index.md#forward).
    """
    T = positive_int("T", T, minimum=2)
    beta_1 = real("beta_1", beta_1, gt=0, lt=1)
    beta_T = real("beta_T", beta_T, ge=beta_1, lt=1)
    return torch.linspace(beta_1, beta_T, T, dtype=torch.float64)


def cosine_betas(T: int = 1000, offset: float = 0.008, max_beta: float = 0.999) -> Tensor:
    r"""The cosine schedule: $\bar\alpha_t = f(t)/f(0)$, $f(t) = \cos^2\bigl(\tfrac{t/T + o}{1 + o}\tfrac{\pi}{2}\bigr)$.

    $$ \beta_t = \min\bigl(1 - \bar\alpha_t / \bar\alpha_{t-1},\ \beta_{\max}\bigr) $$

    Args:
        T: number of training steps, >= 2.
        offset: the small shift $o > 0$ that keeps $\beta_1$ away from 0.
        max_beta: the clip $\beta_{\max}$ in (0, 1] that keeps the last step finite.

    Returns:
        Shape `(T,)`, float64.

    Examples:
        >>> b = cosine_betas(1000)
        >>> float(b[-1])
        0.999

    References:
        Improved Denoising Diffusion Probabilistic Models, A. Nichol, P. Dhariwal, 2021,
        <https://arxiv.org/abs/2102.09672>. [Page](../diffusion/index.md#forward).
    """
    T = positive_int("T", T, minimum=2)
    offset = real("offset", offset, gt=0)
    max_beta = real("max_beta", max_beta, gt=0, le=1)
    t = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((t + offset) / (1 + offset) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)


def alpha_bar(betas: Tensor) -> Tensor:
    r"""$\bar\alpha_t = \prod_{s \le t} (1 - \beta_s)$.

    Args:
        betas: shape `(T,)`, each in (0, 1].

    Returns:
        Shape `(T,)`, decreasing.

    Examples:
        >>> alpha_bar(torch.tensor([0.5, 0.5], dtype=torch.float64)).tolist()
        [0.5, 0.25]
    """
    betas = tensor("betas", betas, dims="T", min_numel=1)
    if bool((betas <= 0).any()) or bool((betas > 1).any()):
        raise ValueError("betas must lie in (0, 1]")
    return torch.cumprod(1 - betas, 0)


def snr(abar: Tensor) -> Tensor:
    r"""The signal-to-noise ratio $\mathrm{SNR}_t = \bar\alpha_t / (1 - \bar\alpha_t) = 1/\sigma_t^2$.

    Examples:
        >>> float(snr(torch.tensor(0.5)))
        1.0
    """
    abar = tensor("abar", abar)
    return abar / (1 - abar)


def ddpm_to_edm(abar: Tensor) -> tuple[Tensor, Tensor]:
    r"""DDPM's $x_t = \sqrt{\bar\alpha}\,x_0 + \sqrt{1 - \bar\alpha}\,\varepsilon$ as $s(x_0 + \sigma\varepsilon)$.

    $$ s = \sqrt{\bar\alpha}, \qquad \sigma = \sqrt{(1 - \bar\alpha)/\bar\alpha} $$

    Examples:
        >>> s, sigma = ddpm_to_edm(torch.tensor(0.5, dtype=torch.float64))
        >>> round(float(s**2), 12), round(float(sigma), 12)
        (0.5, 1.0)

    References:
        Elucidating the Design Space of Diffusion-Based Generative Models, T. Karras,
        M. Aittala, T. Aila, S. Laine, 2022, <https://arxiv.org/abs/2206.00364>.
        [Page](../diffusion/edm.md#unification).
    """
    abar = tensor("abar", abar)
    if bool((abar <= 0).any()) or bool((abar > 1).any()):
        raise ValueError("abar must lie in (0, 1]")
    return abar.sqrt(), ((1 - abar) / abar).sqrt()


def edm_to_ddpm(s: Tensor, sigma: Tensor) -> Tensor:
    r"""The inverse map on the variance-preserving family: $\bar\alpha = 1/(1 + \sigma^2)$.

    Raises:
        ValueError: if $s^2 (1 + \sigma^2) \ne 1$ (the schedule does not preserve variance).

    Examples:
        >>> float(edm_to_ddpm(torch.tensor(0.5**0.5), torch.tensor(1.0)))
        0.5
    """
    s, sigma = tensor("s", s), tensor("sigma", sigma)
    broadcast(["s", "sigma"], [s, sigma])
    total = s**2 * (1 + sigma**2)
    if bool(((total - 1).abs() > 1e3 * torch.finfo(total.dtype).eps).any()):
        raise ValueError("s and sigma must satisfy s^2 (1 + sigma^2) = 1 (variance preserving)")
    return 1 / (1 + sigma**2)


def flow_to_edm(t: Tensor) -> tuple[Tensor, Tensor]:
    r"""Flow matching's $x_t = (1 - t)\,x_0 + t\,\varepsilon$ as $s(x_0 + \sigma\varepsilon)$.

    $$ s = 1 - t, \qquad \sigma = t / (1 - t), \qquad t \in [0, 1) $$

    Examples:
        >>> s, sigma = flow_to_edm(torch.tensor(0.5))
        >>> float(s), float(sigma)
        (0.5, 1.0)
    """
    t = tensor("t", t)
    if bool((t < 0).any()) or bool((t >= 1).any()):
        raise ValueError("t must lie in [0, 1)")
    return 1 - t, t / (1 - t)


def edm_to_flow(sigma: Tensor) -> Tensor:
    r"""The flow-matching time of noise level $\sigma$: $t = \sigma / (1 + \sigma)$.

    Examples:
        >>> float(edm_to_flow(torch.tensor(1.0)))
        0.5
    """
    sigma = tensor("sigma", sigma)
    if bool((sigma < 0).any()):
        raise ValueError("sigma must be >= 0")
    return sigma / (1 + sigma)


# --8<-- [start:rho]
def edm_sigmas(
    n: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0
) -> Tensor:
    r"""EDM's noise levels $\sigma_0 > \dots > \sigma_{n-1}$, then $\sigma_n = 0$.

    $$ \sigma_i = \Bigl(\sigma_{\max}^{1/\rho} + \tfrac{i}{n - 1}
       \bigl(\sigma_{\min}^{1/\rho} - \sigma_{\max}^{1/\rho}\bigr)\Bigr)^{\rho} $$

    $\rho = 1$ is uniform in $\sigma$; a larger $\rho$ packs the steps near $\sigma_{\min}$.

    Args:
        n: number of steps, >= 2.
        sigma_min: smallest positive level, > 0.
        sigma_max: largest level, > sigma_min.
        rho: the exponent, > 0.

    Returns:
        Shape `(n + 1,)`, float64, ending in 0.

    Examples:
        >>> edm_sigmas(3, 1.0, 9.0, rho=1.0).tolist()
        [9.0, 5.0, 1.0, 0.0]

    References:
        Elucidating the Design Space of Diffusion-Based Generative Models, T. Karras et al.,
        2022, <https://arxiv.org/abs/2206.00364>. [Page](../diffusion/edm.md#rho).
    """
    n = positive_int("n", n, minimum=2)
    sigma_min = real("sigma_min", sigma_min, gt=0)
    sigma_max = real("sigma_max", sigma_max, gt=sigma_min)
    rho = real("rho", rho, gt=0)
    i = torch.arange(n, dtype=torch.float64) / (n - 1)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + i * (lo - hi)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros(1)])


# --8<-- [end:rho]


# --8<-- [start:timesteps]
def timesteps(T: int, n: int, spacing: str = "trailing") -> Tensor:
    r"""A subsequence of $n$ of the training timesteps $0, \dots, T - 1$, in sampling order.

    - ``"leading"``: $k \lfloor T/n \rfloor$, $k = n - 1, \dots, 0$ (DDIM's code): its first
      step is $(n - 1)\lfloor T/n \rfloor$, short of $T - 1$;
    - ``"trailing"``: $\operatorname{round}(T - kT/n) - 1$, $k = 0, \dots, n - 1$: starts at $T - 1$;
    - ``"linspace"``: $\operatorname{round}$ of $n$ points evenly from $T - 1$ to 0.

    Args:
        T: number of training timesteps, >= 2.
        n: number of sampling steps, in [1, T].
        spacing: ``"leading"``, ``"trailing"`` or ``"linspace"``.

    Returns:
        Shape `(n,)`, int64, strictly decreasing.

    Examples:
        >>> timesteps(1000, 4, "leading").tolist(), timesteps(1000, 4, "trailing").tolist()
        ([750, 500, 250, 0], [999, 749, 499, 249])

    References:
        Common Diffusion Noise Schedules and Sample Steps are Flawed, S. Lin, B. Liu, J. Li,
        X. Yang, 2024, <https://arxiv.org/abs/2305.08891>. [Page](../diffusion/ddim.md#spacing).
    """
    T = positive_int("T", T, minimum=2)
    n = integer("n", n, minimum=1, maximum=T)
    spacing = choice("spacing", spacing, SPACINGS)
    k = torch.arange(n, dtype=torch.float64)
    if spacing == "leading":
        ts = (n - 1 - k) * (T // n)
    elif spacing == "trailing":
        ts = torch.round(T - k * T / n) - 1
    else:
        ts = torch.round(torch.linspace(T - 1, 0, n, dtype=torch.float64))
    return ts.long()


# --8<-- [end:timesteps]
