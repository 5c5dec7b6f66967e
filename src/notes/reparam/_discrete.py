r"""Gradients of a discrete objective: exact sum, REINFORCE, Gumbel-Softmax, straight-through."""

from __future__ import annotations

import torch

from notes import _validate as check
from notes._validate import positive_int
from notes.reparam._gaussian import Fn
from notes.reparam._gumbel import gumbel_max, gumbel_softmax

__all__ = ["exact_objective", "reinforce_gradients", "relaxed_gradients"]


def exact_objective(f: Fn, logits: torch.Tensor) -> torch.Tensor:
    r"""The discrete objective by exact summation over the $K$ one-hot vectors $e_k$.

    $$ L(\theta) = \sum_{k=1}^K p_k(\theta)\, f(e_k), \qquad p = \operatorname{softmax}\theta $$

    Each row of `logits` is one categorical variable; for a separable objective
    $f(y) = \sum_d f_1(y_d)$ of several independent variables, $L$ is the sum of the rows'
    values.

    Args:
        f: $f_1$, maps the one-hot rows `(K, K)` to values `(K,)`.
        logits: $\theta$, shape `(*, K)`, finite.

    Returns:
        $L(\theta)$ for each row, shape `(*)`, differentiable in `logits`: its gradient is
            exact.

    Examples:
        >>> exact_objective(lambda y: y @ torch.tensor([1.0, 2.0]), torch.zeros(2))
        tensor(1.5000)

    References:
        [Derivation](../reparameterization.md#the-discrete-case).
    """
    f, theta = check.function("f", f), check.categories("logits", logits)
    k = theta.shape[-1]
    f_e = check.returned("f", f(torch.eye(k, dtype=theta.dtype)), (k,), what="one value per sample")
    return (theta.softmax(-1) * f_e).sum(-1)


# --8<-- [start:estimators]
def reinforce_gradients(
    f: Fn,
    logits: torch.Tensor,
    n: int,
    *,
    baseline: float | torch.Tensor = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Per-sample score-function (REINFORCE) estimates of $\nabla_\theta L$, with a baseline.

    $$ \hat g = \big(f(y) - b\big)\,\nabla_\theta \log p_k = \big(f(y) - b\big)(y - p),
       \qquad y = e_k,\ k \sim \operatorname{Categorical}(p) $$

    The rows of `logits` are independent categorical variables and $y$ is one joint sample
    of them all, so that $f$ returns one value per sample.

    Args:
        f: maps joint one-hot samples `(n, *, K)` to values `(n,)`.
        logits: $\theta$, shape `(*, K)`, finite.
        n: number of samples, $\ge 1$.
        baseline: $b$, a float or a tensor of shape `(n,)`, chosen without looking at the
            sample it multiplies; any such $b$ leaves the estimator unbiased.
        generator: source of the Gumbel noise (the samples are those of
            [`gumbel_max`][notes.reparam.gumbel_max]).

    Returns:
        Gradient estimates, shape `(n, *, K)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> f = lambda y: y[:, 1]  # L = p_2: gradient (-1/4, 1/4) at theta = 0
        >>> reinforce_gradients(f, torch.zeros(2), 10**5, generator=g).mean(0).round(decimals=2)
        tensor([-0.2500,  0.2500])

    References:
        Simple statistical gradient-following algorithms for connectionist reinforcement
        learning, R. J. Williams, 1992, <https://doi.org/10.1007/BF00992696>.
        [Derivation](../reparameterization.md#the-discrete-case).
    """
    f, theta, n = check.function("f", f), check.categories("logits", logits), positive_int("n", n)
    if isinstance(baseline, torch.Tensor) and baseline.dim() > 0:
        check.tensor("baseline", baseline, dims="n", sizes={"n": n})
    else:
        check.real("baseline", baseline)
    k = gumbel_max(theta, (n,), generator=generator)  # (n, *)
    y = torch.nn.functional.one_hot(k, theta.shape[-1]).to(theta.dtype)  # e_k, (n, *, K)
    fy = check.returned("f", f(y), (n,), what="one value per sample")  # f(y), (n,)
    weight = (fy - baseline).view(n, *[1] * theta.dim())  # f(y) - b, (n, 1, ..., 1)
    return weight * (y - theta.detach().softmax(-1))  # grad log softmax(theta)_k = e_k - p


def relaxed_gradients(
    f: Fn,
    logits: torch.Tensor,
    tau: float,
    n: int,
    *,
    hard: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Per-sample Gumbel-Softmax (or straight-through) estimates of $\nabla_\theta L$.

    $$ \hat g = \nabla_\theta\, f\big(\tilde y(\theta, g)\big), \qquad
       \tilde y = \operatorname{softmax}\big((\theta + g)/\tau\big) $$

    With `hard=True`, $f$ sees the one-hot sample and the gradient flows through $\tilde y$.

    Args:
        f: differentiable, maps joint samples `(n, *, K)` to values `(n,)`.
        logits: $\theta$, shape `(*, K)`, finite.
        tau: temperature $\tau > 0$.
        n: number of samples, $\ge 1$.
        hard: straight-through instead of the relaxed sample.
        generator: source of the Gumbel noise (the draws of
            [`reinforce_gradients`][notes.reparam.reinforce_gradients]).

    Returns:
        Gradient estimates, shape `(n, *, K)`; biased for $\tau > 0$.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> f = lambda y: y[:, 1]  # the exact gradient is (-1/4, 1/4): biased
        >>> relaxed_gradients(f, torch.zeros(2), 0.5, 10**5, generator=g).mean(0).round(decimals=2)
        tensor([-0.2200,  0.2200])

    References:
        Categorical Reparameterization with Gumbel-Softmax, E. Jang, S. Gu and B. Poole, 2017,
        <https://arxiv.org/abs/1611.01144>.
        [Derivation](../reparameterization.md#a-small-discrete-optimisation).
    """
    f, theta, n = check.function("f", f), check.categories("logits", logits), positive_int("n", n)
    check.positive_float("tau", tau)
    check.boolean("hard", hard)
    theta_i = theta.detach().expand(n, *theta.shape).clone().requires_grad_()  # (n, *, K)
    y = gumbel_softmax(theta_i, tau, hard, generator=generator)
    fy = check.returned("f", f(y), (n,), what="one value per sample")  # f(y), (n,)
    (grad,) = torch.autograd.grad(fy.sum(), theta_i)
    return grad


# --8<-- [end:estimators]
