r"""The incremental mean and the step-size rules $a_k$."""

from __future__ import annotations

import torch
from torch import Tensor

from notes import _validate as check
from notes._validate import positive_int


def _step_list(steps: object, num_steps: int | None = None) -> list[float]:
    # Step sizes (a_1, ..., a_K), each finite and > 0, as Python floats: a Python float keeps
    # the iterate's dtype, where a float64 step would promote a float32 w.
    a = check.within("steps", check.tensor("steps", steps, dims="K", min_sizes={"K": 1}), gt=0)
    if num_steps is not None and a.numel() != num_steps:
        raise ValueError(f"steps must hold one step per sample ({num_steps}), got {a.numel()}")
    return [float(a_k) for a_k in a.tolist()]


# --8<-- [start:incremental_mean]
def incremental_mean(x: Tensor, *, steps: Tensor | None = None, w1: Tensor | float = 0.0) -> Tensor:
    r"""Estimate a mean one sample at a time (page eqs. 2 and 3).

    $$ w_{k+1} = w_k - a_k (w_k - x_k), \qquad k = 1, \dots, K $$

    With the default $a_k = 1/k$ the first step discards $w_1$ and
    $w_{k+1} = \frac{1}{k} \sum_{i=1}^{k} x_i$, the batch mean of the first $k$ samples.
    Other step sizes give a weighted average (page eq. 4).

    Args:
        x: the samples $x_1, \dots, x_K$, shape (K, *); * indexes independent streams.
        steps: the step sizes $a_1, \dots, a_K$, shape (K,), each > 0; default $1/k$.
        w1: the initial estimate, finite, broadcastable to (*) (a number or a tensor).

    Returns:
        The estimates $w_1, \dots, w_{K+1}$, shape (K + 1, *), in the dtype of `x`.

    Examples:
        >>> incremental_mean(torch.tensor([2.0, 4.0, 9.0]))
        tensor([0., 2., 3., 5.])

    References:
        S. Zhao, *Mathematical Foundations of Reinforcement Learning*, section 6.1, 2025.
        <https://github.com/MathFoundationRL/Book-Mathematical-Foundation-of-Reinforcement-Learning>;
        [derivation](../stochastic-approximation.md#incremental-mean)
    """
    check.tensor("x", x)
    if x.dim() == 0 or x.shape[0] == 0:
        raise ValueError(f"x must hold at least one sample along dim 0, got {tuple(x.shape)}")
    num = x.shape[0]
    a = _step_list(steps, num) if steps is not None else [1 / k for k in range(1, num + 1)]
    w = check.real_or_tensor("w1", w1).to(x.dtype)  # finite: w_1 is the first estimate
    trailing = zip(reversed(w.shape), reversed(x.shape[1:]), strict=False)
    if w.dim() > x.dim() - 1 or any(s not in (1, t) for s, t in trailing):
        raise ValueError(f"w1 of shape {tuple(w.shape)} must broadcast to {tuple(x.shape[1:])}")
    w = w.expand(x.shape[1:])  # (*)
    trajectory = [w]
    for k in range(num):
        w = w - a[k] * (w - x[k])  # w_{k+1} = w_k - a_k (w_k - x_k)
        trajectory.append(w)
    return torch.stack(trajectory)  # (K + 1, *)


# --8<-- [end:incremental_mean]


def power_steps(
    num_steps: int,
    p: float,
    *,
    scale: float = 1.0,
    offset: float = 0.0,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    r"""Step sizes that decay as a power of the iteration count (page eq. 6).

    $$ a_k = \frac{c}{(k + k_0)^p}, \qquad k = 1, \dots, K $$

    $\sum_k a_k = \infty$ needs $p \le 1$; $\sum_k a_k^2 < \infty$ needs $p > 1/2$.

    Args:
        num_steps: $K \ge 1$.
        p: the power, $\ge 0$ ($p = 0$ is a constant step).
        scale: $c > 0$.
        offset: $k_0 \ge 0$, which tames the first, largest steps.
        dtype: a floating dtype.

    Returns:
        $(a_1, \dots, a_K)$, shape (K,).

    Examples:
        >>> power_steps(4, 2.0)
        tensor([1.0000, 0.2500, 0.1111, 0.0625], dtype=torch.float64)

    References:
        [derivation](../stochastic-approximation.md#rm-conditions)
    """
    positive_int("num_steps", num_steps)
    p, scale = check.real("p", p, ge=0), check.real("scale", scale, gt=0)
    offset, dtype = check.real("offset", offset, ge=0), check.dtype("dtype", dtype)
    k = torch.arange(1, num_steps + 1, dtype=dtype)
    return scale / (k + offset) ** p


def harmonic_steps(
    num_steps: int, *, scale: float = 1.0, offset: float = 0.0, dtype: torch.dtype = torch.float64
) -> Tensor:
    r"""The classic Robbins-Monro steps, [`power_steps`][notes.stochastic_approximation.power_steps] with $p = 1$.

    $$ a_k = \frac{c}{k + k_0}, \qquad \sum_k a_k = \infty, \qquad \sum_k a_k^2 < \infty $$

    Args:
        num_steps: $K \ge 1$.
        scale: $c > 0$.
        offset: $k_0 \ge 0$.
        dtype: a floating dtype.

    Returns:
        $(a_1, \dots, a_K)$, shape (K,).

    Examples:
        >>> harmonic_steps(4)
        tensor([1.0000, 0.5000, 0.3333, 0.2500], dtype=torch.float64)

    References:
        [derivation](../stochastic-approximation.md#rm-conditions)
    """
    return power_steps(num_steps, 1.0, scale=scale, offset=offset, dtype=dtype)


def constant_steps(num_steps: int, a: float, *, dtype: torch.dtype = torch.float64) -> Tensor:
    r"""A constant step: $\sum_k a_k^2 = \infty$, so the noise is never averaged away.

    $$ a_k = a, \qquad k = 1, \dots, K $$

    Args:
        num_steps: $K \ge 1$.
        a: the step size, > 0.
        dtype: a floating dtype.

    Returns:
        $(a, \dots, a)$, shape (K,).

    Examples:
        >>> constant_steps(3, 0.1)
        tensor([0.1000, 0.1000, 0.1000], dtype=torch.float64)

    References:
        [derivation](../stochastic-approximation.md#rm-conditions)
    """
    positive_int("num_steps", num_steps)
    a, dtype = check.real("a", a, gt=0), check.dtype("dtype", dtype)
    return torch.full((num_steps,), a, dtype=dtype)
