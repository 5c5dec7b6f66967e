"""The "compute, then assert" helpers: they pass true claims, fail false ones, reject bad input."""

from __future__ import annotations

import math

import pytest
import torch

from notes.checks import assert_close, assert_mean, standard_error


def test_standard_error_matches_closed_form() -> None:
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    # sample std of 1..4 is sqrt(5/3); divided by sqrt(4)
    assert standard_error(x) == pytest.approx(math.sqrt(5 / 3) / 2, rel=1e-12)


def test_assert_mean_accepts_a_true_mean_and_rejects_a_shifted_one() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40_000, generator=g, dtype=torch.float64)  # standard error 0.005
    assert "standard errors" in assert_mean(x, 0.0)
    with pytest.raises(AssertionError, match="standard errors off"):
        assert_mean(x, 0.1)  # 20 standard errors away


def test_assert_close_reports_and_fails() -> None:
    assert assert_close(1.0 + 1e-9, 1.0, rtol=1e-6, name="x").startswith("x = 1")
    with pytest.raises(AssertionError, match=r"x = 1\.1, expected 1"):
        assert_close(1.1, 1.0, atol=1e-3, name="x")
    with pytest.raises(AssertionError):
        assert_close(float("nan"), 1.0, atol=1.0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: standard_error([1.0, 2.0]), TypeError, "samples must be a torch.Tensor"),
        (lambda: standard_error(torch.ones(1)), ValueError, "at least 2 draws"),
        (lambda: standard_error(torch.ones(2, 2)), ValueError, "must be 1-D"),
        (lambda: assert_close(1.0, 1.0, rtol=-1.0), ValueError, "rtol and atol must be >= 0"),
        (lambda: assert_close("1", 1.0), TypeError, "actual must be a float"),
        (lambda: assert_close(torch.ones(2), 1.0), ValueError, "actual must be a scalar"),
        (lambda: assert_mean(torch.ones(3), 1.0, k=0), ValueError, "k must be > 0"),
    ],
    ids=["se-list", "se-one-draw", "se-2d", "negative-rtol", "string", "vector", "k-zero"],
)
def test_bad_input_raises_a_clear_error(call, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        call()
