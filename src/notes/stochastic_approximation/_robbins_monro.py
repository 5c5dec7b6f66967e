r"""The Robbins-Monro iteration, and the log-log slope that measures how fast it converges."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from notes import _validate as check
from notes.stochastic_approximation._mean import _step_list

#: A noisy observation $\tilde g(w, \eta)$: ``observe(w, generator)`` returns a tensor shaped
#: like ``w`` with fresh noise in every entry, drawn from ``generator``.
Observation = Callable[[Tensor, torch.Generator | None], Tensor]


# --8<-- [start:robbins_monro]
def robbins_monro(
    observe: Observation,
    w1: Tensor,
    steps: Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Find the root of $g(w) = 0$ from noisy observations of $g$ (page eq. 5).

    $$ w_{k+1} = w_k - a_k \tilde g(w_k, \eta_k), \qquad \tilde g(w, \eta) = g(w) + \eta $$

    Args:
        observe: returns $\tilde g(w_k, \eta_k)$ as ``observe(w, generator)``, shaped like ``w``.
        w1: the start $w_1$, any shape; independent runs are independent entries (or rows).
        steps: $a_1, \dots, a_K$, shape (K,), each > 0.
        generator: passed to ``observe`` at every step.

    Returns:
        The iterates $w_1, \dots, w_{K+1}$, shape (K + 1, *w1.shape).

    Examples:
        >>> from notes.stochastic_approximation import harmonic_steps, robbins_monro
        >>> g = torch.Generator().manual_seed(0)
        >>> def observe(w, gen):  # g(w) = tanh(w - 1), noise eta ~ N(0, 1)
        ...     return torch.tanh(w - 1) + torch.randn(w.shape, generator=gen, dtype=w.dtype)
        >>> w = robbins_monro(observe, torch.zeros(4000, dtype=torch.float64),
        ...                   harmonic_steps(400), generator=g)
        >>> w.shape, round(float(w[-1].mean()), 1)  # 4000 runs, each within ~0.05 of the root
        (torch.Size([401, 4000]), 1.0)

    References:
        H. Robbins and S. Monro, "A Stochastic Approximation Method", 1951.
        <https://doi.org/10.1214/aoms/1177729586>;
        [derivation](../stochastic-approximation.md#robbins-monro)
    """
    observe, w1 = check.function("observe", observe), check.tensor("w1", w1)
    a, generator = _step_list(steps), check.generator("generator", generator)
    w = w1.clone()
    trajectory = [w]
    for a_k in a:
        g_tilde = check.returned("observe", observe(w, generator), w.shape)  # g(w_k) + eta_k
        w = w - a_k * g_tilde
        trajectory.append(w)
    return torch.stack(trajectory)  # (K + 1, *w1.shape)


# --8<-- [end:robbins_monro]


def loglog_slope(
    x: Tensor, y: Tensor, *, rel_se: Tensor | None = None, k: float = 5.0
) -> tuple[float, float]:
    r"""Least-squares slope of $\log y$ against $\log x$, and a bound on its statistical error.

    $$ s = \sum_i c_i \log y_i, \qquad
       c_i = \frac{u_i - \bar u}{\sum_j (u_j - \bar u)^2}, \qquad u_i = \log x_i $$

    If every $\log y_i$ is within $k$ standard errors $\sigma_i$ of its expectation, then $s$ is
    within $k \sum_i |c_i| \sigma_i$ of the slope through the expectations, however the errors
    of different points are correlated (they are, when every point comes from the same runs).
    For an estimate $y_i$ with relative standard error $r_i$, $\sigma_i \approx r_i$ (delta
    method).

    Args:
        x: positive abscissae, shape (N,), N >= 2, not all equal.
        y: positive ordinates, shape (N,).
        rel_se: relative standard errors $r_i$ of the $y_i$, shape (N,); omitted, the bound is 0.
        k: the number of standard errors, > 0.

    Returns:
        ``(slope, bound)``.

    Examples:
        >>> x = torch.tensor([1.0, 10.0, 100.0])
        >>> slope, bound = loglog_slope(x, 3 * x**-0.5, rel_se=torch.full((3,), 0.01))
        >>> round(slope, 6), round(bound, 4)
        (-0.5, 0.0217)

    References:
        [derivation](../stochastic-approximation.md#rm-check)
    """
    check.tensor("x", x)
    check.tensor("y", y)
    if x.dim() != 1 or x.shape != y.shape or x.numel() < 2:
        raise ValueError(
            f"x and y must be 1-D of one length >= 2, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if not bool((x > 0).all() and (y > 0).all()):
        raise ValueError("x and y must be > 0 to take logarithms")
    check.real("k", k, gt=0)
    u = x.double().log()
    du = u - u.mean()
    if float(du.abs().max()) == 0:
        raise ValueError("x must not be all equal: the slope is undefined")
    c = du / du.pow(2).sum()  # s = sum_i c_i log y_i
    slope = float((c * y.double().log()).sum())
    if rel_se is None:
        return slope, 0.0
    check.tensor("rel_se", rel_se, dims="N", sizes={"N": x.numel()})
    check.within("rel_se", rel_se, ge=0)
    return slope, float(k * (c.abs() * rel_se.double()).sum())
