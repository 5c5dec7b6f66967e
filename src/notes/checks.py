r"""Compute, then check: every number a page states is compared here, and says what it is worth.

A page block on this site computes a quantity with `notes`, prints what the reader should see,
and checks the claim, so that a broken claim fails the build. A check is a
[`Check`][notes.checks.Check]: the measured value, the expected value, the tolerance, and the
tolerance's **basis** (why that tolerance: "5 standard errors, n = 10 000", "float64 rounding
bound for K updates", "exact"). Build one with

- [`close`][notes.checks.close]: $|m - e| \le \text{atol} + \text{rtol}\,|e|$, for closed forms;
- [`mean`][notes.checks.mean]: a sample mean within $k$ standard errors $s/\sqrt{n}$;
- [`within_se`][notes.checks.within_se]: an estimate with a known standard error;
- [`at_most`][notes.checks.at_most] and [`at_least`][notes.checks.at_least]: one-sided bounds.

[`claim`][notes.checks.claim] runs a check on the value the page computed and, for a headline
claim, **the same check on named wrong alternatives** (the uncorrected sampler, the unscaled
logits, ...): the claim must hold and every alternative must be rejected, otherwise the build
fails with a message naming the claim. The reader sees both lines. Every claim is recorded in
a ledger, from which the site builds its [claims ledger](../claims.md) page.

Tolerances are derived, never tuned: for a mean of $n$ independent samples the standard error
is $s/\sqrt{n}$ and 5 standard errors give a false alarm rate below one in a million for a
normal estimate.

Examples:
    >>> import torch
    >>> from notes.checks import claim, close, mean
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(10_000, generator=g, dtype=torch.float64)
    >>> print(claim("E[x] = 0", lambda s: mean(s, 0.0), x, rejects={"a shift of 0.1": x + 0.1}))
    E[x] = 0
      holds: measured -0.0199427, expected 0, tolerance 0.0504 (5 standard errors, n = 10 000)
      rejects a shift of 0.1: measured 0.0800573, expected 0, tolerance 0.0504 (5 standard errors, n = 10 000)
    >>> print(claim("sqrt(2)^2 = 2", lambda v: close(v, 2.0, rtol=1e-6, basis="float32 rounding"),
    ...             torch.tensor(2.0).sqrt() ** 2))
    sqrt(2)^2 = 2
      holds: measured 2, expected 2, tolerance 2e-06 (float32 rounding)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import torch

from notes import _validate as check_arg

__all__ = [
    "Check",
    "assert_close",
    "assert_mean",
    "at_least",
    "at_most",
    "claim",
    "close",
    "mean",
    "standard_error",
    "within_se",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    """The outcome of comparing one measured number with what a page expects.

    Attributes:
        measured: the computed value.
        expected: the claimed value, or a bound such as ``"<= 0.1"``.
        tolerance: the allowed distance (0 for exact and one-sided checks).
        basis: why that tolerance, e.g. ``"5 standard errors, n = 10 000"``.
        passed: whether the measured value satisfies the check.
    """

    measured: float
    expected: str
    tolerance: float
    basis: str
    passed: bool

    def __post_init__(self) -> None:
        check_arg.real("measured", self.measured, finite=False, nan=True)  # NaN never passes
        check_arg.text("expected", self.expected)
        check_arg.real("tolerance", self.tolerance, ge=0)
        check_arg.text("basis", self.basis)
        check_arg.boolean("passed", self.passed)

    def line(self) -> str:
        """``measured m, expected e, tolerance t (basis)``."""
        return (
            f"measured {self.measured:.6g}, expected {self.expected}, "
            f"tolerance {self.tolerance:.3g} ({self.basis})"
        )


def _as_float(value: object, name: str, *, nan: bool = True, inf: bool = True) -> float:
    # A measured value may be NaN or inf (the check then fails); an expected value may not.
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got shape {tuple(value.shape)}")
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float or a scalar tensor, got {type(value).__name__}")
    x = float(value)
    if (not nan and math.isnan(x)) or (not inf and math.isinf(x)):
        raise ValueError(
            f"{name} must be {'finite' if not inf else 'a number, not NaN'}, got {x!r}"
        )
    return x


def _basis(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"basis must be a non-empty string saying why, got {value!r}")
    return value


def _group(n: int) -> str:
    return f"{n:,}".replace(",", " ")


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
    check_arg.tensor("samples", samples, floating=False, finite=True)
    if samples.dtype == torch.bool or samples.dtype.is_complex:
        raise TypeError(f"samples must have a real dtype, got {samples.dtype}")
    if samples.dim() != 1 or samples.numel() < 2:
        raise ValueError(f"samples must be 1-D with at least 2 draws, got {tuple(samples.shape)}")
    return float(samples.double().std() / math.sqrt(samples.numel()))


def close(
    measured: object, expected: object, *, rtol: float = 0.0, atol: float = 0.0, basis: str
) -> Check:
    r"""Check $|m - e| \le \text{atol} + \text{rtol}\,|e|$ (a closed form, autograd, a reference).

    Args:
        measured: the computed scalar $m$.
        expected: the claimed value $e$.
        rtol: relative tolerance, $\ge 0$.
        atol: absolute tolerance, $\ge 0$.
        basis: why that tolerance ("exact", "float64 rounding", ...).

    Returns:
        The [`Check`][notes.checks.Check]; NaN never passes.

    Examples:
        >>> close(0.1 + 0.2, 0.3, rtol=1e-15, basis="float64 rounding").passed
        True
    """
    rtol, atol = check_arg.real("rtol", rtol, ge=0), check_arg.real("atol", atol, ge=0)
    m, e = _as_float(measured, "measured"), _as_float(expected, "expected", nan=False, inf=False)
    bound = atol + rtol * abs(e)
    return Check(m, f"{e:.6g}", bound, _basis(basis), abs(m - e) <= bound)


def within_se(
    measured: object,
    expected: object,
    *,
    se: float,
    k: float = 5.0,
    n: int | None = None,
    basis: str | None = None,
) -> Check:
    r"""Check an estimate with standard error `se`: $|m - e| \le k \cdot \text{se}$.

    Args:
        measured: the estimate $m$.
        expected: the claimed value $e$.
        se: the estimate's standard error, $> 0$ (from the sample size or repeats).
        k: how many standard errors to allow, $> 0$.
        n: the sample size, quoted in the basis.
        basis: the basis to quote instead of ``"k standard errors, n = ..."``.

    Returns:
        The [`Check`][notes.checks.Check].

    Examples:
        >>> within_se(1.02, 1.0, se=0.01, n=400).line()
        'measured 1.02, expected 1, tolerance 0.05 (5 standard errors, n = 400)'
    """
    k = check_arg.real("k", k, gt=0)
    s = _as_float(se, "se")
    if not (s > 0 and math.isfinite(s)):
        raise ValueError(f"se must be finite and > 0, got {se!r}")
    if n is not None:
        check_arg.integer("n", n, minimum=1)
    if basis is not None:
        _basis(basis)
    m, e = _as_float(measured, "measured"), _as_float(expected, "expected", nan=False, inf=False)
    if basis is None:
        basis = f"{k:g} standard errors" + (f", n = {_group(n)}" if n is not None else "")
    return Check(m, f"{e:.6g}", k * s, _basis(basis), abs(m - e) <= k * s)


def mean(samples: torch.Tensor, expected: object, *, k: float = 5.0) -> Check:
    r"""Check that the mean of i.i.d. samples is within `k` standard errors of `expected`.

    $$ |\bar{x} - \mu| \le k\, s / \sqrt{n} $$

    Args:
        samples: a 1-D tensor of independent draws of the estimator.
        expected: the claimed expectation $\mu$.
        k: how many standard errors to allow, $> 0$.

    Returns:
        The [`Check`][notes.checks.Check], its basis ``"k standard errors, n = ..."``.

    Examples:
        >>> mean(torch.tensor([0.9, 1.1, 1.0, 1.0]), 1.0).passed
        True
    """
    se = standard_error(samples)
    m = float(samples.double().mean())
    check_arg.real("k", k, gt=0)
    e = _as_float(expected, "expected", nan=False, inf=False)
    if se == 0:  # constant samples: the mean is exact
        return Check(m, f"{e:.6g}", 0.0, f"exact, n = {_group(samples.numel())}", m == e)
    return within_se(m, expected, se=se, k=k, n=samples.numel())


def at_most(measured: object, bound: object, *, basis: str) -> Check:
    """Check the one-sided claim $m \\le b$.

    Examples:
        >>> at_most(0.08, 0.10, basis="target of the training page").line()
        'measured 0.08, expected <= 0.1, tolerance 0 (target of the training page)'
    """
    m, b = _as_float(measured, "measured"), _as_float(bound, "bound", nan=False)
    return Check(m, f"<= {b:.6g}", 0.0, _basis(basis), m <= b)


def at_least(measured: object, bound: object, *, basis: str) -> Check:
    """Check the one-sided claim $m \\ge b$.

    Examples:
        >>> at_least(3.0, 2.0, basis="exact").passed
        True
    """
    m, b = _as_float(measured, "measured"), _as_float(bound, "bound", nan=False)
    return Check(m, f">= {b:.6g}", 0.0, _basis(basis), m >= b)


# --- the ledger: every claim checked in this process, with where it was checked ---------------
_LEDGER: list[dict[str, Any]] = []
_WHERE: dict[str, Any] = {"page": None, "block": None}


def _at(page: str | None, block: int | None) -> None:
    """Say which page and block the next claims come from (called by the site's build hook)."""
    _WHERE.update(page=page, block=block)


def _record(statement: str, check: Check, alternative: str | None) -> None:
    _LEDGER.append({**_WHERE, "claim": statement, "alternative": alternative, **asdict(check)})


def claim(
    statement: str,
    check: Callable[[T], Check],
    value: T,
    *,
    rejects: Mapping[str, T] | None = None,
) -> str:
    r"""Check a claim on the computed value and show the same check rejecting wrong alternatives.

    Args:
        statement: the claim as the page states it.
        check: maps a value to its [`Check`][notes.checks.Check], the same for every value.
        value: what the page computed.
        rejects: named wrong alternatives (the uncorrected estimator, the unscaled logits, a
            step size that breaks a condition), each of which the check must reject.

    Returns:
        The report to print: the claim, the line that holds and one line per rejection.

    Raises:
        AssertionError: if the claim fails, or if an alternative passes (the check has no
            teeth at this scale); the message names the claim.

    Examples:
        >>> exact = lambda v: close(v, 0.5, atol=1e-12, basis="float64 rounding")
        >>> print(claim("1/2 = 0.5", exact, 1 / 2, rejects={"1/3": 1 / 3}))
        1/2 = 0.5
          holds: measured 0.5, expected 0.5, tolerance 1e-12 (float64 rounding)
          rejects 1/3: measured 0.333333, expected 0.5, tolerance 1e-12 (float64 rounding)
    """
    check_arg.text("statement", statement)
    if not callable(check):
        raise TypeError(f"check must be callable, got {type(check).__name__}")
    if rejects is not None:
        if not isinstance(rejects, Mapping):
            raise TypeError(f"rejects must be a mapping of names to values, got {rejects!r}")
        for name in rejects:
            check_arg.text("rejects' keys", name)
    result = check(value)
    if not isinstance(result, Check):
        raise TypeError(f"check must return a Check, got {type(result).__name__}")
    _record(statement, result, None)
    if not result.passed:
        raise AssertionError(f"claim {statement!r} fails: {result.line()}")
    lines = [statement, f"  holds: {result.line()}"]
    for name, wrong in (rejects or {}).items():
        outcome = check(wrong)
        _record(statement, outcome, name)
        if outcome.passed:
            raise AssertionError(
                f"claim {statement!r}: its check also accepts the wrong alternative {name!r} "
                f"({outcome.line()}), so it cannot tell the claim from it"
            )
        lines.append(f"  rejects {name}: {outcome.line()}")
    return "\n".join(lines)


def assert_close(
    actual: object,
    expected: object,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    name: str = "value",
    basis: str = "stated tolerance",
) -> str:
    r"""[`claim`][notes.checks.claim] with [`close`][notes.checks.close], in one line.

    Returns:
        A line such as ``"E[z^2] = 1.25 (expected 1.25, tolerance 1e-06, float64 rounding)"``.

    Raises:
        AssertionError: if the claim does not hold.

    Examples:
        >>> print(assert_close(2.0**0.5 * 2.0**0.5, 2.0, rtol=1e-15, name="sqrt2^2",
        ...                    basis="float64 rounding"))
        sqrt2^2 = 2 (expected 2, tolerance 2e-15, float64 rounding)
    """
    check_arg.text("name", name)
    result = close(_as_float(actual, "actual"), expected, rtol=rtol, atol=atol, basis=basis)
    _record(name, result, None)
    if not result.passed:
        raise AssertionError(
            f"{name} = {result.measured:.6g}, expected {result.expected} within "
            f"{result.tolerance:.3g} ({result.basis})"
        )
    return (
        f"{name} = {result.measured:.6g} (expected {result.expected}, tolerance "
        f"{result.tolerance:.3g}, {result.basis})"
    )


def assert_mean(
    samples: torch.Tensor, expected: object, *, k: float = 5.0, name: str = "mean"
) -> str:
    r"""[`claim`][notes.checks.claim] with [`mean`][notes.checks.mean], in one line.

    Returns:
        A line with the estimate, the tolerance and its basis.

    Raises:
        AssertionError: if the claim does not hold.

    Examples:
        >>> print(assert_mean(torch.tensor([0.9, 1.1, 1.0, 1.0]), 1.0, name="E[x]"))
        E[x] = 1 (expected 1, tolerance 0.204, 5 standard errors, n = 4)
    """
    check_arg.text("name", name)
    result = mean(samples, expected, k=k)
    _record(name, result, None)
    if not result.passed:
        raise AssertionError(
            f"{name} = {result.measured:.6g}, expected {result.expected}: more than "
            f"{result.tolerance:.3g} off ({result.basis})"
        )
    return (
        f"{name} = {result.measured:.6g} (expected {result.expected}, tolerance "
        f"{result.tolerance:.3g}, {result.basis})"
    )
