"""The checks: they pass true claims, fail false ones, reject bad input, and say what they are worth."""

from __future__ import annotations

import math

import pytest
import torch

import notes.checks
from notes.checks import (
    assert_close,
    assert_mean,
    at_least,
    at_most,
    claim,
    close,
    mean,
    standard_error,
    within_se,
)


def test_standard_error_matches_closed_form() -> None:
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    # sample std of 1..4 is sqrt(5/3); divided by sqrt(4)
    assert standard_error(x) == pytest.approx(math.sqrt(5 / 3) / 2, rel=1e-12)


def test_mean_accepts_a_true_mean_and_rejects_a_shifted_one() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40_000, generator=g, dtype=torch.float64)  # standard error 0.005
    check = mean(x, 0.0)
    assert check.passed
    assert check.tolerance == pytest.approx(5 * standard_error(x))
    assert check.basis == "5 standard errors, n = 40 000"
    assert not mean(x, 0.1).passed  # 20 standard errors away
    with pytest.raises(AssertionError, match="more than"):
        assert_mean(x, 0.1)


def test_close_reports_measured_expected_tolerance_and_basis() -> None:
    line = close(1.0 + 1e-9, 1.0, rtol=1e-6, basis="float64 rounding").line()
    assert line == "measured 1, expected 1, tolerance 1e-06 (float64 rounding)"
    assert not close(float("nan"), 1.0, atol=1.0, basis="b").passed
    with pytest.raises(AssertionError, match=r"x = 1\.1, expected 1 within 0\.001"):
        assert_close(1.1, 1.0, atol=1e-3, name="x")


def test_one_sided_and_standard_error_checks() -> None:
    assert at_most(1.0, 1.0, basis="b").passed
    assert not at_most(1.0 + 1e-12, 1.0, basis="b").passed
    assert at_least(2.0, 1.0, basis="b").passed
    assert not at_least(0.0, 1.0, basis="b").passed
    assert within_se(1.04, 1.0, se=0.01).passed
    assert not within_se(1.06, 1.0, se=0.01).passed
    assert within_se(1.0, 1.0, se=0.1, k=2, n=100).basis == "2 standard errors, n = 100"


def test_claim_shows_the_claim_holding_and_the_alternative_rejected() -> None:
    check = lambda v: close(v, 0.5, atol=1e-12, basis="exact")
    report = claim("half", check, 0.5, rejects={"a third": 1 / 3})
    assert report.splitlines() == [
        "half",
        "  holds: measured 0.5, expected 0.5, tolerance 1e-12 (exact)",
        "  rejects a third: measured 0.333333, expected 0.5, tolerance 1e-12 (exact)",
    ]


def test_claim_fails_when_an_alternative_passes_naming_the_claim() -> None:
    loose = lambda v: close(v, 0.5, atol=0.5, basis="far too loose")
    with pytest.raises(AssertionError, match=r"claim 'half'.*wrong alternative 'a third'"):
        claim("half", loose, 0.5, rejects={"a third": 1 / 3})


def test_claim_fails_when_the_claim_fails() -> None:
    with pytest.raises(AssertionError, match=r"claim 'half' fails: measured 0\.4"):
        claim("half", lambda v: close(v, 0.5, atol=1e-3, basis="b"), 0.4)


def test_every_check_is_recorded_in_the_ledger_with_where_it_ran() -> None:
    notes.checks._LEDGER.clear()
    notes.checks._at("page.md", 3)
    try:
        claim("c", lambda v: at_most(v, 1.0, basis="b"), 0.5, rejects={"two": 2.0})
        assert_close(1.0, 1.0, atol=0.0, name="one", basis="exact")
    finally:
        notes.checks._at(None, None)
    records = [
        (r["page"], r["block"], r["claim"], r["alternative"], r["passed"])
        for r in notes.checks._LEDGER
    ]
    assert records == [
        ("page.md", 3, "c", None, True),
        ("page.md", 3, "c", "two", False),
        ("page.md", 3, "one", None, True),
    ]
    notes.checks._LEDGER.clear()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: standard_error([1.0, 2.0]), TypeError, "samples must be a torch.Tensor"),
        (lambda: standard_error(torch.ones(1)), ValueError, "at least 2 draws"),
        (lambda: standard_error(torch.ones(2, 2)), ValueError, "must be 1-D"),
        (lambda: close(1.0, 1.0, rtol=-1.0, basis="b"), ValueError, "rtol must be >= 0"),
        (lambda: close(1.0, 1.0, atol=True, basis="b"), TypeError, "atol must be a real number"),
        (lambda: close(1.0, 1.0, basis=""), ValueError, "basis must be a non-empty string"),
        (lambda: close("1", 1.0, basis="b"), TypeError, "measured must be a float"),
        (lambda: close(torch.ones(2), 1.0, basis="b"), ValueError, "measured must be a scalar"),
        (lambda: mean(torch.randn(3), 1.0, k=0), ValueError, "k must be > 0"),
        (lambda: within_se(1.0, 1.0, se=0.0), ValueError, "se must be finite and > 0"),
        (lambda: claim("", lambda v: v, 1.0), ValueError, "statement must be a non-empty"),
        (lambda: claim("c", 1.0, 1.0), TypeError, "check must be callable"),
        (lambda: claim("c", lambda v: v, 1.0), TypeError, "check must return a Check"),
    ],
    ids=[
        "se-list",
        "se-one-draw",
        "se-2d",
        "negative-rtol",
        "bool-atol",
        "empty-basis",
        "string",
        "vector",
        "k-zero",
        "se-zero",
        "empty-statement",
        "check-not-callable",
        "check-not-a-check",
    ],
)
def test_bad_input_raises_a_clear_error(call, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        call()
