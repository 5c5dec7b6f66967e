r"""Compute, then assert: the helpers every page block uses to state a checked claim.

A page block on this site has three parts, in this order:

1. **compute** the quantity with `notes` code;
2. **print** what the reader should see (the page shows this output);
3. **assert** the claim against a closed form or an independent computation, so that a
   broken claim fails the build (`mkdocs build --strict` stops on an exception in a block).

The helpers below make step 3 one line and give a message that names what failed and by how
much. Tolerances are derived, never tuned: for a Monte-Carlo estimate of a mean from $n$
independent samples, the standard error is $s/\sqrt{n}$ and a claim is checked to within
`k` standard errors (5 by default, a false alarm rate below one in a million for a normal
estimate).

Examples:
    >>> import torch
    >>> from notes.checks import assert_close, assert_mean
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(100_000, generator=g, dtype=torch.float64)
    >>> print(assert_mean(x, 0.0, name="E[x]"))
    E[x] = -0.0005 (expected 0, |error| 0.15 standard errors)
    >>> print(assert_close(torch.tensor(2.0).sqrt() ** 2, 2.0, rtol=1e-6, name="sqrt(2)^2"))
    sqrt(2)^2 = 2 (expected 2, rtol 1e-06)
"""

from __future__ import annotations

import math

import torch

__all__ = ["assert_close", "assert_mean", "standard_error"]


def _as_float(value: float | torch.Tensor, name: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got shape {tuple(value.shape)}")
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float or a scalar tensor, got {type(value).__name__}")
    return float(value)


def standard_error(samples: torch.Tensor) -> float:
    r"""Standard error of the sample mean, $s / \sqrt{n}$.

    Args:
        samples: a 1-D tensor of $n \ge 2$ independent draws.

    Returns:
        The sample standard deviation divided by $\sqrt{n}$.

    Examples:
        >>> round(standard_error(torch.tensor([0.0, 2.0, 0.0, 2.0])), 4)
        0.5774
    """
    if not isinstance(samples, torch.Tensor):
        raise TypeError(f"samples must be a torch.Tensor, got {type(samples).__name__}")
    if samples.dim() != 1 or samples.numel() < 2:
        raise ValueError(f"samples must be 1-D with at least 2 draws, got {tuple(samples.shape)}")
    return float(samples.double().std() / math.sqrt(samples.numel()))


def assert_close(
    actual: float | torch.Tensor,
    expected: float | torch.Tensor,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    name: str = "value",
) -> str:
    r"""Assert $|a - e| \le \text{atol} + \text{rtol}\,|e|$ and return a one-line report.

    Use it for deterministic claims (a closed form, autograd, a reference implementation);
    `rtol` and `atol` should come from the floating-point precision of the computation.

    Args:
        actual: the computed scalar.
        expected: the value the page claims.
        rtol: relative tolerance, $\ge 0$.
        atol: absolute tolerance, $\ge 0$.
        name: what the value is, used in the report and in the error.

    Returns:
        A line such as ``"E[z^2] = 1.25 (expected 1.25, rtol 1e-06)"``.

    Raises:
        AssertionError: if the claim does not hold.
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    a, e = _as_float(actual, "actual"), _as_float(expected, "expected")
    bound = atol + rtol * abs(e)
    if not abs(a - e) <= bound:  # also catches NaN
        raise AssertionError(f"{name} = {a:.6g}, expected {e:.6g} within {bound:.3g}")
    tolerance = f"rtol {rtol:g}" if rtol else f"atol {atol:g}"
    return f"{name} = {a:.6g} (expected {e:.6g}, {tolerance})"


def assert_mean(
    samples: torch.Tensor, expected: float | torch.Tensor, *, k: float = 5.0, name: str = "mean"
) -> str:
    r"""Assert that the mean of i.i.d. samples is within `k` standard errors of `expected`.

    $$ |\bar{x} - \mu| \le k\, s / \sqrt{n} $$

    Args:
        samples: a 1-D tensor of independent draws of the estimator.
        expected: the claimed expectation $\mu$.
        k: how many standard errors to allow (> 0).
        name: what the mean estimates.

    Returns:
        A one-line report with the estimate and its distance in standard errors.

    Raises:
        AssertionError: if the claim does not hold.
    """
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")
    se = standard_error(samples)
    mean = float(samples.double().mean())
    e = _as_float(expected, "expected")
    z = abs(mean - e) / se if se > 0 else (0.0 if mean == e else math.inf)
    if not z <= k:
        raise AssertionError(f"{name} = {mean:.6g}, expected {e:.6g}: {z:.2f} standard errors off")
    return f"{name} = {mean:.4f} (expected {e:.6g}, |error| {z:.2f} standard errors)"
