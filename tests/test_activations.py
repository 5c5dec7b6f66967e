"""notes.activations against torch.nn.functional, autograd, closed forms and Monte Carlo.

Deterministic claims are checked to the precision of the computation (float64 rounding, or the
quadrature's error); Monte Carlo ones to five standard errors of the estimate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from notes.activations import (
    ACTIVATIONS,
    SELU_ALPHA,
    SELU_LAMBDA,
    activation,
    deep_stack,
    derivative,
    ffn_parameter_count,
    gain,
    gated_hidden_width,
    gaussian_expectation,
    glu_ffn,
    gradient_factor,
    mean_field_gradients,
    scaled_elu,
    scaled_elu_moments,
    second_moment_map,
    selu_constants,
)
from notes.checks import assert_mean
from notes.initialization import gain as initialization_gain

X = torch.linspace(-8.0, 8.0, 3201, dtype=torch.float64)
EPS = torch.finfo(torch.float64).eps

TORCH: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "step": lambda x: torch.heaviside(x, torch.zeros(1, dtype=x.dtype)),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "swish": F.silu,
}


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the functions and their derivatives -------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVATIONS, ids=str)
def test_each_activation_equals_torch_functional(name: str) -> None:
    torch.testing.assert_close(activation(name, X), TORCH[name](X), rtol=0, atol=32 * EPS * 8)


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "step"], ids=str)
def test_each_derivative_equals_autograd(name: str) -> None:
    x = X.clone().requires_grad_()
    (auto,) = torch.autograd.grad(activation(name, x).sum(), x)
    torch.testing.assert_close(derivative(name, X), auto, rtol=0, atol=32 * EPS * 8)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.702, 10.0], ids=lambda b: f"beta={b}")
def test_swish_derivative_equals_autograd_for_every_beta(beta: float) -> None:
    x = X.clone().requires_grad_()
    (auto,) = torch.autograd.grad(activation("swish", x, beta=beta).sum(), x)
    torch.testing.assert_close(derivative("swish", X, beta=beta), auto, rtol=0, atol=1e-12)


def test_the_step_has_zero_derivative() -> None:
    assert bool((derivative("step", X) == 0).all())


def test_sigmoid_derivative_is_at_most_a_quarter_attained_at_zero() -> None:
    d = derivative("sigmoid", X)
    assert float(d.max()) <= 0.25
    assert float(derivative("sigmoid", torch.zeros(1, dtype=torch.float64))) == 0.25


@given(st.floats(-30.0, 30.0, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_sigmoid_and_tanh_derivative_bounds_hold_everywhere(x: float) -> None:
    t = torch.tensor([x], dtype=torch.float64)
    assert float(derivative("sigmoid", t)) <= 0.25
    assert float(derivative("tanh", t)) <= 1.0


@given(st.floats(-20.0, 20.0, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_gelu_and_swish_forms_are_odd_plus_identity(x: float) -> None:
    # f(x) - f(-x) = x for x Phi(x), its tanh form and x sigma(beta x)
    t = torch.tensor([x, -x], dtype=torch.float64)
    for name in ("gelu", "gelu_tanh", "swish"):
        f = activation(name, t)
        assert float(f[0] - f[1]) == pytest.approx(x, abs=1e-12)


def test_gelu_tanh_form_within_5e_4_of_the_exact_one() -> None:
    grid = torch.linspace(-10.0, 10.0, 200_001, dtype=torch.float64)
    gap = (activation("gelu_tanh", grid) - activation("gelu", grid)).abs()
    assert float(gap.max()) <= 5e-4
    assert abs(float(grid[gap.argmax()].abs()) - 2.70) < 0.01
    sigmoid_form = (activation("swish", grid, beta=1.702) - activation("gelu", grid)).abs()
    assert float(sigmoid_form.max()) > 0.02  # the rejected alternative of the page


@pytest.mark.parametrize("beta", [1.0, 3.0, 10.0], ids=lambda b: f"beta={b}")
def test_swish_distance_to_relu_is_c_over_beta(beta: float) -> None:
    u = 1.0
    for _ in range(100):
        u = 1 + math.exp(-u)
    grid = torch.linspace(-10.0, 10.0, 200_001, dtype=torch.float64)
    gap = (activation("swish", grid, beta=beta) - activation("relu", grid)).abs().max()
    assert float(gap) * beta == pytest.approx(u - 1, abs=1e-6)


def test_swish_at_beta_zero_is_half_the_identity() -> None:
    torch.testing.assert_close(activation("swish", X, beta=0.0), X / 2, rtol=0, atol=0)


# --- SELU ---------------------------------------------------------------------------------------


def test_selu_constants_solve_to_the_published_ones() -> None:
    lam, alpha = selu_constants()
    assert lam == pytest.approx(SELU_LAMBDA, rel=4 * EPS)
    assert alpha == pytest.approx(SELU_ALPHA, rel=4 * EPS)


def test_selu_constants_of_another_condition_differ() -> None:
    lam, alpha = selu_constants(mean=0.1)
    assert abs(alpha - SELU_ALPHA) > 0.1
    m1, m2 = scaled_elu_moments(lam, alpha)
    assert (m1, m2) == pytest.approx((0.1, 1.0), abs=1e-12)


@pytest.mark.parametrize("nu", [0.0, 0.3, 1.0, 2.5], ids=lambda n: f"nu={n}")
def test_scaled_elu_moments_equal_quadrature(nu: float) -> None:
    closed = scaled_elu_moments(1.3, 1.7, nu)
    numeric = [
        gaussian_expectation(lambda s, p=p: scaled_elu(s, 1.3, 1.7) ** p, nu) for p in (1, 2)
    ]
    assert closed == pytest.approx(numeric, abs=1e-10)


def test_scaled_elu_moments_equal_monte_carlo() -> None:
    z = torch.randn(400_000, generator=gen(0), dtype=torch.float64) * math.sqrt(1.5)
    f = scaled_elu(z, SELU_LAMBDA, SELU_ALPHA)
    m1, m2 = scaled_elu_moments(SELU_LAMBDA, SELU_ALPHA, 1.5)
    assert_mean(f, m1)
    assert_mean(f**2, m2)


def test_selu_fixed_point_attracts_on_a_deep_network() -> None:
    _, m, v = deep_stack("selu", 30, 192, nets=4, input_mean=1.0, input_std=2.0, generator=gen(1))
    assert_mean(m[:, -1], 0.0)
    assert_mean(v[:, -1], 1.0)
    _, _, v_elu = deep_stack("elu", 30, 192, nets=4, generator=gen(1))
    assert float(v_elu[:, -1].max()) < 0.1  # ELU's constants have no such fixed point


def test_selu_second_moment_map_contracts_at_one() -> None:
    eps = 1e-4
    slope = (second_moment_map("selu", 1 + eps) - second_moment_map("selu", 1 - eps)) / (2 * eps)
    assert 0 < slope < 1
    assert second_moment_map("selu", 1.0) == pytest.approx(1.0, abs=1e-10)


# --- gains and gradients through depth ----------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "gelu", "selu", "sigmoid"], ids=str)
def test_gains_equal_the_initialisation_pages(name: str) -> None:
    assert gain(name) == pytest.approx(initialization_gain(name), rel=1e-9)


@pytest.mark.parametrize("name", ACTIVATIONS, ids=str)
def test_gain_makes_unit_second_moment(name: str) -> None:
    z = torch.randn(200_000, generator=gen(2), dtype=torch.float64)
    assert_mean((gain(name) * activation(name, z)) ** 2, 1.0)


def test_relu_gradient_factor_is_gain_over_root_two() -> None:
    assert gradient_factor("relu", 0.7, gain=1.0) == pytest.approx(math.sqrt(0.5), rel=1e-12)


def test_sigmoid_gradient_decays_at_the_wide_network_rate() -> None:
    grad, _, _ = deep_stack("sigmoid", 30, 128, nets=8, generator=gen(3))
    nu, _ = mean_field_gradients("sigmoid", 30)
    rho = gradient_factor("sigmoid", float(nu[-1]))
    assert rho < 0.25
    layers = torch.arange(5, 31, dtype=torch.float64)
    log_rms = grad.log()[:, 4:]
    c = layers - layers.mean()
    rates = torch.exp(-(c * (log_rms - log_rms.mean(1, keepdim=True))).sum(1) / c.pow(2).sum())
    assert_mean(rates, rho)
    assert float(rates.max()) <= 0.25


def test_mean_field_gradients_equal_the_product_of_factors() -> None:
    nu, rms = mean_field_gradients("tanh", 4, gain=1.2, input_second_moment=0.5)
    assert float(nu[0]) == pytest.approx(1.44 * 0.5)
    assert float(nu[1]) == pytest.approx(second_moment_map("tanh", float(nu[0]), gain=1.2))
    top = gradient_factor("tanh", float(nu[-1]), gain=1.2) / 1.2
    assert float(rms[-1]) == pytest.approx(top)
    assert float(rms[-2] / rms[-1]) == pytest.approx(
        gradient_factor("tanh", float(nu[-2]), gain=1.2)
    )


def test_deep_stack_gradients_equal_autograd_of_one_network() -> None:
    g = gen(4)
    grad, _, var = deep_stack("tanh", 3, 16, batch=4, generator=g)
    # rebuild the same draws in the same order and differentiate by hand
    g = gen(4)
    x = torch.randn(1, 4, 16, generator=g).requires_grad_()
    ws = [torch.randn(1, 16, 16, generator=g) / 4.0 for _ in range(3)]
    hs, h = [], None
    for w in ws:
        h = (x if h is None else torch.tanh(h)) @ w
        h.retain_grad()
        hs.append(h)
    u = torch.randn(1, 4, 16, generator=g)
    (torch.tanh(hs[-1]) * u).sum().backward()
    expected = torch.stack([hh.grad.pow(2).mean().sqrt() for hh in hs]).double()
    torch.testing.assert_close(grad[0], expected, rtol=1e-6, atol=0)
    torch.testing.assert_close(var[0, -1], torch.tanh(hs[-1]).double().var(), rtol=1e-6, atol=0)


# --- the GLU family -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gate", "reference"),
    [
        ("sigmoid", lambda a, b: F.glu(torch.cat([b, a], -1), -1)),  # (xV) * sigma(xW)
        ("gelu", lambda a, b: F.gelu(a) * b),
        ("swish", lambda a, b: F.silu(a) * b),
    ],
    ids=["GLU", "GEGLU", "SwiGLU"],
)
def test_glu_ffn_equals_torch(gate: str, reference: Callable) -> None:
    g = gen(5)
    x = torch.randn(3, 2, 6, generator=g, dtype=torch.float64)
    w, v = (
        torch.randn(6, 10, generator=g, dtype=torch.float64),
        torch.randn(6, 10, generator=g, dtype=torch.float64),
    )
    w2 = torch.randn(10, 6, generator=g, dtype=torch.float64)
    expected = reference(x @ w, x @ v) @ w2
    torch.testing.assert_close(glu_ffn(x, w, v, w2, gate), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [3, 512, 768, 4096], ids=lambda d: f"d={d}")
def test_gated_width_8d_over_3_matches_the_4d_parameter_count(d: int) -> None:
    h = gated_hidden_width(d)
    assert h == pytest.approx(8 * d / 3)
    assert 3 * d * h == pytest.approx(ffn_parameter_count(d, 4 * d, gated=False))
    if h.is_integer():
        assert ffn_parameter_count(d, int(h), gated=True) == ffn_parameter_count(
            d, 4 * d, gated=False
        )


def test_ffn_parameter_count_equals_torch_linear() -> None:
    layers = [torch.nn.Linear(8, 20, bias=False, device="meta") for _ in range(2)]
    layers.append(torch.nn.Linear(20, 8, bias=False, device="meta"))
    assert ffn_parameter_count(8, 20, gated=True) == sum(
        p.numel() for m in layers for p in m.parameters()
    )


# --- bad inputs ---------------------------------------------------------------------------------


BAD_INPUTS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: activation("softsign", X), ValueError, "name must be one of"),
    (lambda: derivative("swishy", X), ValueError, "name must be one of"),
    (lambda: gain("mish"), ValueError, "name must be one of"),
    (lambda: deep_stack("mish", 2, 4), ValueError, "phi must be one of"),
    (lambda: deep_stack(3, 2, 4), TypeError, "phi must be callable"),
    (lambda: activation("relu", [1.0]), TypeError, "x must be a torch.Tensor"),
    (lambda: activation("relu", torch.tensor([1, 2])), TypeError, "x must have a floating"),
    (lambda: activation("swish", X, beta=-1.0), ValueError, "beta must be >= 0"),
    (lambda: scaled_elu(X, 0.0, 1.0), ValueError, "lam must be > 0"),
    (lambda: scaled_elu(X, 1.0, -1.0), ValueError, "alpha must be >= 0"),
    (lambda: scaled_elu_moments(1.0, 1.0, -0.5), ValueError, "nu must be >= 0"),
    (lambda: second_moment_map("relu", 1.0, gain=0.0), ValueError, "gain must be > 0"),
    (lambda: gradient_factor("relu", float("nan")), ValueError, "nu must be finite"),
    (lambda: gaussian_expectation(3.0), TypeError, "f must be callable"),
    (
        lambda: gaussian_expectation(lambda _s: torch.tensor(1.0)),
        ValueError,
        "f must return a tensor of shape (4001,), got ()",
    ),
    (lambda: selu_constants(second_moment=0.0), ValueError, "second_moment must be > 0"),
    (lambda: selu_constants(steps=0), ValueError, "steps must be an int >= 1"),
    (lambda: selu_constants(mean=5.0), ValueError, "no solution"),
    (lambda: mean_field_gradients("relu", 0), ValueError, "depth must be an int >= 1"),
    (lambda: deep_stack("relu", 0, 4), ValueError, "depth must be an int >= 1"),
    (lambda: deep_stack("relu", 2, 0), ValueError, "width must be an int >= 1"),
    (lambda: deep_stack("relu", 2, 4, batch=1), ValueError, "batch must be an int >= 2"),
    (lambda: deep_stack("relu", 2, 4, gain=-1.0), ValueError, "gain must be > 0"),
    (lambda: deep_stack("relu", 2, 4, input_std=0.0), ValueError, "input_std must be > 0"),
    (lambda: deep_stack("relu", 2, 4, generator=0), TypeError, "generator must be"),
    (lambda: ffn_parameter_count(0, 4, gated=True), ValueError, "d must be an int >= 1"),
    (lambda: ffn_parameter_count(4, 4, gated=1), TypeError, "gated must be a bool"),
    (lambda: gated_hidden_width(768, expansion=0), ValueError, "expansion must be"),
    (
        lambda: glu_ffn(torch.ones(2, 3), torch.ones(4, 5), torch.ones(3, 5), torch.ones(5, 3)),
        ValueError,
        "x and w must share d",
    ),
    (
        lambda: glu_ffn(torch.ones(2, 3), torch.ones(3, 5), torch.ones(3, 4), torch.ones(5, 3)),
        ValueError,
        "w and v must have one shape (d, h), got (3, 5) and (3, 4)",
    ),
    (
        lambda: glu_ffn(
            torch.ones(2, 3), torch.ones(3, 5), torch.ones(3, 5), torch.ones(5, 3), "mish"
        ),
        ValueError,
        "gate must be one of",
    ),
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
