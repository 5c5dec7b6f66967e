"""notes.receptive_field: the two formulas against each other, against autograd, and the ERF.

Every claim here is exact (integer arithmetic, or float64 rounding of short sums).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notes.receptive_field import (
    Field,
    Layer,
    effective_width,
    field_closed_form,
    field_top_down,
    fit_exponent,
    input_gradient,
    output_sizes,
    support,
)


@st.composite
def layers(draw: st.DrawFn) -> Layer:
    pool = draw(st.booleans())
    k = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    d = 1 if pool else draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2 if pool else d * (k - 1)))
    return Layer(k, stride=s, padding=p, dilation=d, pool=pool)


stacks = st.lists(layers(), min_size=1, max_size=6)


def interior(stack: list[Layer], field: Field) -> tuple[int, int]:
    unit = math.ceil(max(0, -field.start) / field.jump)
    n = unit * field.jump + field.start + field.size + field.jump
    while output_sizes(stack, n)[-1] <= unit:
        n += field.jump
    return n, unit


@given(stacks)
@settings(max_examples=150, deadline=None)
def test_top_down_recursion_equals_closed_form(stack: list[Layer]) -> None:
    assert field_top_down(stack) == field_closed_form(stack)


@given(stacks, st.sampled_from(["uniform", "normal"]))
@settings(max_examples=100, deadline=None)
def test_autograd_support_is_the_computed_field(stack: list[Layer], weights: str) -> None:
    field = field_top_down(stack)
    n, unit = interior(stack, field)
    grad = input_gradient(stack, n, unit, weights=weights, generator=torch.Generator())
    first, last = support(grad)
    assert last - first + 1 == field.size
    assert first == field.start + unit * field.jump
    assert (first + last) / 2 == field.centre + unit * field.jump


@given(stacks)
@settings(max_examples=50, deadline=None)
def test_neighbouring_units_fields_are_a_jump_apart(stack: list[Layer]) -> None:
    field = field_closed_form(stack)
    n, unit = interior(stack, field)
    n += 2 * field.jump  # room for the next unit
    while output_sizes(stack, n)[-1] <= unit + 1:
        n += field.jump
    first = support(input_gradient(stack, n, unit))[0]
    assert support(input_gradient(stack, n, unit + 1))[0] - first == field.jump


def test_recursion_size_matches_the_unrolled_sum() -> None:
    stack = [Layer(7, 2, 3), Layer(3, 2, 1, pool=True), Layer(3, 1, 1), Layer(3, 1, 2, 2)]
    # r_0 = 1 + 6*1 + 2*2 + 2*4 + 4*4
    assert field_top_down(stack) == Field(35, 4, -17, 0.0)


def test_the_recursion_without_k_minus_s_gives_the_jump_not_the_field() -> None:
    stack = [Layer(3, 2), Layer(5, 2)]
    wrong = 1
    for layer in reversed(stack):
        wrong = layer.stride * wrong
    field = field_top_down(stack)
    assert wrong == field.jump != field.size


def test_dilation_widens_the_span() -> None:
    assert field_top_down([Layer(3, dilation=4)]).size == 9


def test_a_dilated_first_layer_leaves_holes_inside_the_field() -> None:
    grad = input_gradient([Layer(3, dilation=3)], 7, 0)
    assert support(grad) == (0, 6)
    assert (grad != 0).tolist() == [True, False, False, True, False, False, True]


def test_output_sizes_equal_torch() -> None:
    stack = [Layer(7, 2, 3), Layer(3, 2, 1, pool=True), Layer(3, 1, 2, 2), Layer(2, 3)]
    x = torch.zeros(1, 1, 101)
    lengths = []
    for layer in stack:
        if layer.pool:
            x = torch.nn.functional.avg_pool1d(x, layer.kernel, layer.stride, layer.padding)
        else:
            w = torch.zeros(1, 1, layer.kernel)
            x = torch.nn.functional.conv1d(
                x, w, stride=layer.stride, padding=layer.padding, dilation=layer.dilation
            )
        lengths.append(x.shape[-1])
    assert output_sizes(stack, 101) == lengths


# --- the effective receptive field -------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 5], ids=lambda k: f"k={k}")
@pytest.mark.parametrize("depth", [1, 4, 16], ids=lambda d: f"L={d}")
def test_uniform_stack_width_is_sqrt_of_l_times_box_variance(k: int, depth: int) -> None:
    stack = [Layer(k)] * depth
    grad = input_gradient(stack, field_closed_form(stack).size)
    assert effective_width(grad) == pytest.approx(math.sqrt(depth * (k * k - 1) / 12), rel=1e-12)


def test_effective_width_exponent_is_one_half_and_fraction_shrinks() -> None:
    depths = [2, 4, 8, 16, 32]
    widths, fields = [], []
    for depth in depths:
        stack = [Layer(3)] * depth
        fields.append(field_closed_form(stack).size)
        widths.append(effective_width(input_gradient(stack, fields[-1])))
    assert fit_exponent(depths, widths) == pytest.approx(0.5, abs=1e-9)
    fraction = [w / r for w, r in zip(widths, fields, strict=True)]
    assert all(b < a for a, b in itertools.pairwise(fraction))
    assert fit_exponent(depths, fields) > 0.9  # the rejected alternative: linear growth


def test_uniform_gradient_sums_to_one() -> None:
    stack = [Layer(3), Layer(2, 2, pool=True), Layer(5, dilation=2)]
    grad = input_gradient(stack, 64)
    assert float(grad.sum()) == pytest.approx(1.0, abs=1e-12)


def test_fit_exponent_recovers_a_power_law() -> None:
    assert fit_exponent([1, 2, 4, 8], [3 * d**0.7 for d in (1, 2, 4, 8)]) == pytest.approx(0.7)


# --- bad inputs ---------------------------------------------------------------------------------

BAD_INPUTS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: field_top_down([Layer(0)]), ValueError, "kernel must be an int >= 1"),
    (lambda: field_top_down([Layer(-3)]), ValueError, "kernel must be an int >= 1"),
    (lambda: field_closed_form([Layer(3, 0)]), ValueError, "stride must be an int >= 1"),
    (
        lambda: field_closed_form([Layer(3), Layer(3, dilation=0)]),
        ValueError,
        "dilation must be an int >= 1",
    ),
    (lambda: field_top_down([Layer(3, padding=-1)]), ValueError, "padding must be"),
    (
        lambda: field_top_down([Layer(3, padding=3)]),
        ValueError,
        "padding must be an int <= 2",
    ),
    (
        lambda: field_top_down([Layer(3, padding=2, pool=True)]),
        ValueError,
        "padding (of a pooling layer) must be an int <= 1",
    ),
    (
        lambda: field_top_down([Layer(3, dilation=2, pool=True)]),
        ValueError,
        "dilation (of a pooling layer) must be one of 1",
    ),
    (lambda: field_top_down([Layer(3.0)]), ValueError, "kernel must be an int >= 1"),
    (lambda: field_top_down([Layer(3, pool=1)]), TypeError, "pool must be a bool"),
    (
        lambda: field_top_down([Layer(3), Layer(3)._replace(stride=0)]),
        ValueError,
        "layers[1].stride must be an int >= 1",
    ),
    (lambda: Field(4, 1, 0, 2.0), ValueError, "centre must be start + (size - 1) / 2 = 1.5"),
    (lambda: Field(0, 1, 0, -0.5), ValueError, "size must be an int >= 1"),
    (lambda: fit_exponent(None, [1.0]), TypeError, "depths must be a sequence of numbers"),
    (lambda: field_top_down([]), TypeError, "layers must be a non-empty sequence of Layer"),
    (lambda: field_top_down(Layer(3)), TypeError, "layers must be a non-empty sequence"),
    (lambda: field_top_down([(3, 1, 0, 1)]), TypeError, "layers[0] must be a Layer"),
    (
        lambda: output_sizes([Layer(5)], 4),
        ValueError,
        "layers[0] is empty for an input of length 4",
    ),
    (
        lambda: output_sizes([Layer(3), Layer(3, stride=2), Layer(4)], 7),
        ValueError,
        "layers[2] is empty",
    ),
    (lambda: output_sizes([Layer(3)], 0), ValueError, "n must be an int >= 1"),
    (lambda: input_gradient([Layer(3)], 5, unit=3), ValueError, "unit must be an int <= 2"),
    (lambda: input_gradient([Layer(3)], 5, unit=-1), ValueError, "unit must be an int >= 0"),
    (lambda: input_gradient([Layer(3)], 5, weights="ones"), ValueError, "weights must be one of"),
    (lambda: input_gradient([Layer(3)], 5, generator=1), TypeError, "generator must be"),
    (lambda: support(torch.zeros(4)), ValueError, "gradient must be nonzero somewhere"),
    (lambda: support(torch.zeros(2, 2)), ValueError, "gradient must be 1-D"),
    (lambda: effective_width(torch.zeros(3)), ValueError, "gradient must be nonzero somewhere"),
    (lambda: effective_width([1.0, 2.0]), TypeError, "gradient must be a torch.Tensor"),
    (lambda: fit_exponent([1, 1], [1.0, 2.0]), ValueError, "at least 2 distinct depths"),
    (lambda: fit_exponent([1, 2], [1.0]), ValueError, "the same length"),
    (lambda: fit_exponent([0, 2], [1.0, 2.0]), ValueError, "depths[0] must be an int >= 1"),
    (lambda: fit_exponent([1, 2], [1.0, -2.0]), ValueError, "values[1] must be > 0"),
]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    BAD_INPUTS,
    ids=[f"{k}-{case[2]}" for k, case in enumerate(BAD_INPUTS)],
)
def test_bad_inputs_raise_naming_the_parameter(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()
