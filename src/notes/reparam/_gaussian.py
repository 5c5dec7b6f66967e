r"""The Gaussian case: $z = \mu + \sigma\varepsilon$ and two estimators of $\nabla L$."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from notes import _validate as check
from notes._validate import positive_int

Fn = Callable[[torch.Tensor], torch.Tensor]

__all__ = ["gaussian_rsample", "pathwise_gradients", "score_function_gradients"]


def _gaussian(mu: float | torch.Tensor, sigma: float | torch.Tensor) -> tuple[torch.Tensor, ...]:
    m, s = check.real_or_tensor("mu", mu), check.real_or_tensor("sigma", sigma)
    check.within("sigma", s, gt=0)
    check.broadcast(("mu", "sigma"), (m, s))
    return m, s


def _eps(
    m: torch.Tensor, s: torch.Tensor, lead: Sequence[int], generator: torch.Generator | None
) -> torch.Tensor:
    shape = (*lead, *(m * s).shape)  # broadcast shape of mu and sigma
    return torch.randn(shape, dtype=torch.promote_types(m.dtype, s.dtype), generator=generator)


def gaussian_rsample(
    mu: float | torch.Tensor,
    sigma: float | torch.Tensor,
    sample_shape: Sequence[int] = (),
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Draw $z \sim \mathcal{N}(\mu, \sigma^2)$ as a differentiable function of $\mu, \sigma$.

    $$ z = \mu + \sigma \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, 1) $$

    Args:
        mu: mean $\mu$, a float or a tensor of shape `(*)`.
        sigma: standard deviation $\sigma > 0$, broadcastable with `mu`.
        sample_shape: leading shape of independent draws.
        generator: source of $\varepsilon$.

    Returns:
        $z$ of shape `(*sample_shape, *)`; gradients flow to `mu` and `sigma`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> z = gaussian_rsample(torch.tensor(2.0), torch.tensor(0.5), (100_000,), generator=g)
        >>> round(z.mean().item(), 1), round(z.std().item(), 1)
        (2.0, 0.5)

    References:
        Auto-Encoding Variational Bayes, D. P. Kingma and M. Welling, 2014,
        <https://arxiv.org/abs/1312.6114>.
        [Derivation](../reparameterization.md#the-continuous-case).
    """
    m, s = _gaussian(mu, sigma)
    sample_shape = check.shape("sample_shape", sample_shape)
    check.generator("generator", generator)
    return m + s * _eps(m, s, sample_shape, generator)  # z = mu + sigma eps


# --8<-- [start:estimators]
def score_function_gradients(
    f: Fn,
    mu: float | torch.Tensor,
    sigma: float | torch.Tensor,
    n: int,
    *,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-sample score-function estimates of the gradient of $L(\mu, \sigma)$.

    For $L(\mu, \sigma) = \mathbb{E}_{z \sim \mathcal{N}(\mu, \sigma^2)}[f(z)]$ and
    $z = \mu + \sigma\varepsilon$:

    $$ \hat g_\mu = f(z)\,\frac{\varepsilon}{\sigma}, \qquad
       \hat g_\sigma = f(z)\,\frac{\varepsilon^2 - 1}{\sigma} $$

    Args:
        f: element-wise function, `(n, *) -> (n, *)`; only evaluated, never differentiated.
        mu: mean $\mu$, a float or a tensor of shape `(*)`.
        sigma: standard deviation $\sigma > 0$, broadcastable with `mu`.
        n: number of independent samples, $\ge 1$.
        generator: source of $\varepsilon$; a generator in the same state gives the same
            $\varepsilon$ as [`pathwise_gradients`][notes.reparam.pathwise_gradients].

    Returns:
        `(g_mu, g_sigma)`, each of shape `(n, *)`: one unbiased estimate per sample, so that
            their mean and variance can be measured.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> mu = torch.tensor(1.0, dtype=torch.float64)
        >>> sigma = torch.tensor(0.5, dtype=torch.float64)
        >>> g_mu, g_sigma = score_function_gradients(lambda z: z**2, mu, sigma, 10**6, generator=g)
        >>> round(g_mu.mean().item(), 1), round(g_sigma.mean().item(), 1)  # 2 mu, 2 sigma
        (2.0, 1.0)

    References:
        Simple statistical gradient-following algorithms for connectionist reinforcement
        learning, R. J. Williams, 1992, <https://doi.org/10.1007/BF00992696>.
        [Derivation](../reparameterization.md#the-continuous-case).
    """
    f, (m, s) = check.function("f", f), _gaussian(mu, sigma)
    check.generator("generator", generator)
    eps = _eps(m, s, (positive_int("n", n),), generator)  # (n, *)
    fz = check.returned("f", f(m + s * eps), eps.shape, what="one value per sample")  # f(z)
    # d/dmu log N(z; mu, sigma^2) = eps / sigma,  d/dsigma log N = (eps^2 - 1) / sigma
    return fz * eps / s, fz * (eps**2 - 1) / s


def pathwise_gradients(
    f: Fn,
    mu: float | torch.Tensor,
    sigma: float | torch.Tensor,
    n: int,
    *,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-sample pathwise (reparameterised) estimates of the gradient of $L(\mu, \sigma)$.

    $$ \hat g_\mu = f'(\mu + \sigma\varepsilon), \qquad
       \hat g_\sigma = f'(\mu + \sigma\varepsilon)\,\varepsilon $$

    Autograd differentiates $f(\mu + \sigma\varepsilon)$, with one copy of $(\mu, \sigma)$ per
    sample so that the gradients stay per sample.

    Args:
        f: element-wise differentiable function, `(n, *) -> (n, *)`.
        mu: mean $\mu$, a float or a tensor of shape `(*)`.
        sigma: standard deviation $\sigma > 0$, broadcastable with `mu`.
        n: number of independent samples, $\ge 1$.
        generator: source of $\varepsilon$.

    Returns:
        `(g_mu, g_sigma)`, each of shape `(n, *)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> mu = torch.tensor(1.0, dtype=torch.float64)
        >>> sigma = torch.tensor(0.5, dtype=torch.float64)
        >>> g_mu, g_sigma = pathwise_gradients(lambda z: z**2, mu, sigma, 10**5, generator=g)
        >>> round(g_mu.mean().item(), 1), round(g_sigma.mean().item(), 1)
        (2.0, 1.0)

    References:
        Auto-Encoding Variational Bayes, D. P. Kingma and M. Welling, 2014,
        <https://arxiv.org/abs/1312.6114>.
        [Derivation](../reparameterization.md#the-continuous-case).
    """
    f, (m, s) = check.function("f", f), _gaussian(mu, sigma)
    check.generator("generator", generator)
    eps = _eps(m, s, (positive_int("n", n),), generator)  # (n, *)
    m_i = m.detach().expand(eps.shape).clone().requires_grad_()  # one mu per sample, (n, *)
    s_i = s.detach().expand(eps.shape).clone().requires_grad_()  # one sigma per sample
    fz = check.returned("f", f(m_i + s_i * eps), eps.shape, what="one value per sample")
    g_mu, g_sigma = torch.autograd.grad(fz.sum(), (m_i, s_i))
    return g_mu, g_sigma


# --8<-- [end:estimators]
