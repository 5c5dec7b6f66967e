"""Speed, as ratios measured in one run: `notes` against plain-PyTorch references.

No test here asserts an absolute time: this machine's speed drifts by half from minute to
minute. `benchmarks/speed.py` times `notes` and a reference in turn, round by round, and
reports the geometric mean of the per-round ratios with its standard error (from the
round-to-round spread). A test fails when the ratio exceeds its budget by more than
5 standard errors: drift and load widen the bound rather than fail the test, while a real
slowdown past the budget fails it.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _speed_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("notes_speed", ROOT / "benchmarks" / "speed.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["notes_speed"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


speed = _speed_module()

# Budgets: notes must be no slower than the plain-PyTorch reference of the same computation,
# and three flows stacked by fit_together must take clearly less than three separate fits
# (the training page says so). Measured ratios (ours / reference): flow step 0.73-0.84,
# gumbel_softmax 0.46-0.75, fit_together 0.6.
BUDGETS = {"fit_together": 0.8, "flow_step": 1.0, "gumbel_softmax": 1.0, "gumbel_softmax_hard": 1.0}


@pytest.mark.speed
@pytest.mark.parametrize("case", sorted(BUDGETS))
def test_notes_is_no_slower_than_the_plain_pytorch_reference(case: str) -> None:
    result = speed.measure(case)
    print(result.report())
    lower = math.exp(math.log(result.ratio) - speed.K_STANDARD_ERRORS * result.log_ratio_se)
    assert lower <= BUDGETS[case], (
        f"{result.report()}: even {speed.K_STANDARD_ERRORS:g} standard errors below, the "
        f"ratio {lower:.3f} exceeds its budget {BUDGETS[case]}"
    )


def test_the_gate_rejects_a_reference_twice_as_fast() -> None:
    """The gate can fail: against a reference that does half the work, notes is slower."""
    ours, _ = speed.CASES["gumbel_softmax"]()
    speed.CASES["half"] = lambda: (lambda: (ours(), ours()), ours)
    try:
        result = speed.measure("half", rounds=30, iterations=100)
    finally:
        del speed.CASES["half"]
    lower = math.exp(math.log(result.ratio) - speed.K_STANDARD_ERRORS * result.log_ratio_se)
    assert lower > 1.0, result.report()


# Linear growth is exponent 1, quadratic 2: the boundary is halfway, and every round on its own
# must fall on the right side of it (a mean could hide one round that disagrees).
HALFWAY = 1.5


def nearer_linear(exponents: list[float]) -> bool:
    return max(exponents) <= HALFWAY


def nearer_quadratic(exponents: list[float]) -> bool:
    return min(exponents) >= HALFWAY


@pytest.mark.speed
def test_linear_attention_time_grows_nearer_linear_and_softmax_nearer_quadratic() -> None:
    """The page counts flops (exponents exactly 1 and 2); this checks the time follows."""
    exponents = speed.attention_exponents()
    print(exponents)
    right, soft = exponents["linear, right order"], exponents["softmax"]
    assert nearer_linear(right), f"the right order's time exponents per round: {right}"
    assert nearer_quadratic(soft), f"softmax's time exponents per round: {soft}"
    # the same checks reject the wrong answers: softmax is not nearer linear, nor the right
    # order nearer quadratic
    assert not nearer_linear(soft), f"softmax passes as nearer linear: {soft}"
    assert not nearer_quadratic(right), f"the right order passes as nearer quadratic: {right}"
