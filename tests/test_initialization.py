"""notes.initialization against closed forms, torch.nn.init, autograd and Monte Carlo.

Monte Carlo claims are checked to five standard errors of the estimate (false alarm below one
in a million for a normal estimate); deterministic ones to the precision of the computation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from notes.checks import assert_mean
from notes.initialization import (
    ACTIVATIONS,
    gain,
    he_std,
    lecun_std,
    mlp_second_moments,
    normal,
    post_norm_input_weight,
    relu_log_ratio_moments,
    second_moment_map,
    truncated_normal,
    truncated_normal_std,
    two_layer_sgd_step,
    uniform,
    xavier_std,
)

PHI: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "selu": F.selu,
    "sigmoid": torch.sigmoid,
}


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- sampling ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bound", [0.5, 1.0, 2.0, 3.0], ids=lambda b: f"b={b}")
def test_truncated_normal_std_equals_the_variance_integral(bound: float) -> None:
    z = torch.linspace(-bound, bound, 400_001, dtype=torch.float64)
    pdf = torch.exp(-0.5 * z**2)
    numeric = math.sqrt(float(torch.trapezoid(z**2 * pdf, z) / torch.trapezoid(pdf, z)))
    assert truncated_normal_std(bound) == pytest.approx(numeric, rel=1e-9)


def test_truncated_normal_std_at_two_is_0_8796() -> None:
    assert round(truncated_normal_std(2.0), 4) == 0.8796
    assert truncated_normal_std(40.0) == pytest.approx(1.0, rel=1e-12)  # no truncation left


def test_torch_trunc_normal_has_the_truncated_std() -> None:
    w = torch.nn.init.trunc_normal_(torch.empty(400_000, dtype=torch.float64), generator=gen(0))
    assert_mean(w**2, truncated_normal_std(2.0) ** 2)


def test_torch_trunc_normal_default_bounds_are_absolute_so_small_std_is_not_truncated() -> None:
    s = 0.02 / truncated_normal_std(2.0)
    w = torch.nn.init.trunc_normal_(
        torch.empty(400_000, dtype=torch.float64), std=s, generator=gen(40)
    )
    assert_mean(w**2 / s**2, 1.0)  # a = -2, b = 2 are 88 s away: the full normal, std s
    inflated = torch.sqrt((w**2).mean()) / 0.02
    assert inflated == pytest.approx(1 / truncated_normal_std(2.0), rel=0.01)  # 13.7% too large


def test_torch_trunc_normal_with_bounds_at_two_s_has_std_tau_s() -> None:
    sigma = 0.02
    s = sigma / truncated_normal_std(2.0)
    t = torch.empty(400_000, dtype=torch.float64)
    w = torch.nn.init.trunc_normal_(t, std=s, a=-2 * s, b=2 * s, generator=gen(41))
    assert_mean(w**2 / sigma**2, 1.0)
    assert w.abs().max() <= 2 * s


def test_bounds_at_two_target_sigma_give_the_closed_form_std() -> None:
    tau = truncated_normal_std(2.0)
    sigma, s = 0.02, 0.02 / tau
    t = torch.empty(400_000, dtype=torch.float64)
    w = torch.nn.init.trunc_normal_(t, std=s, a=-2 * sigma, b=2 * sigma, generator=gen(42))
    expected = (truncated_normal_std(2 * tau) / tau) ** 2  # cut at 2 tau(2) of the drawn scale
    assert expected == pytest.approx(0.9346**2, rel=1e-3)
    assert_mean(w**2 / sigma**2, expected)


SAMPLERS = {"normal": normal, "uniform": uniform, "truncated_normal": truncated_normal}


@pytest.mark.parametrize("name", SAMPLERS, ids=str)
@pytest.mark.parametrize("std", [0.02, 1.0, 3.0], ids=lambda s: f"std={s}")
def test_sampler_has_the_requested_second_moment(name: str, std: float) -> None:
    w = SAMPLERS[name]((300_000,), std, generator=gen(1), dtype=torch.float64)
    assert_mean(w**2 / std**2, 1.0)
    assert_mean(w / std, 0.0)


def test_uniform_stays_in_plus_minus_sqrt3_sigma() -> None:
    w = uniform((100_000,), 0.5, generator=gen(2), dtype=torch.float64)
    a = math.sqrt(3) * 0.5
    assert w.abs().max() <= a
    assert w.abs().max() > 0.99 * a


@pytest.mark.parametrize("bound", [1.0, 2.0], ids=lambda b: f"b={b}")
def test_truncated_normal_stays_in_bound_over_tau(bound: float) -> None:
    w = truncated_normal((100_000,), 1.0, bound=bound, generator=gen(3), dtype=torch.float64)
    edge = bound / truncated_normal_std(bound)
    assert w.abs().max() <= edge * (1 + 1e-12)
    assert w.abs().max() > 0.99 * edge
    assert_mean(w**2, 1.0)


def test_samplers_return_the_dtype_and_shape_asked() -> None:
    for sampler in SAMPLERS.values():
        w = sampler((3, 4), 1.0, generator=gen(4), dtype=torch.float16)
        assert w.shape == (3, 4)
        assert w.dtype == torch.float16


# --- LeCun, Xavier, He ------------------------------------------------------------------------

FAN_OUT, FAN_IN = 200, 300  # torch stores a weight as (fan_out, fan_in)
TORCH_INITS: dict[str, tuple[float, Callable[[torch.Tensor], torch.Tensor]]] = {
    "lecun": (
        lecun_std(FAN_IN),
        lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="linear", generator=gen(5)),
    ),
    "xavier": (
        xavier_std(FAN_IN, FAN_OUT),
        lambda w: torch.nn.init.xavier_normal_(w, generator=gen(6)),
    ),
    "xavier_tanh": (
        xavier_std(FAN_IN, FAN_OUT, gain=5 / 3),
        lambda w: torch.nn.init.xavier_normal_(w, gain=5 / 3, generator=gen(7)),
    ),
    "he_fan_in": (
        he_std(FAN_IN),
        lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=gen(8)),
    ),
    "he_fan_out": (
        he_std(FAN_OUT),
        lambda w: torch.nn.init.kaiming_normal_(
            w, nonlinearity="relu", mode="fan_out", generator=gen(9)
        ),
    ),
}


@pytest.mark.parametrize("name", TORCH_INITS, ids=str)
def test_std_matches_torch_nn_init(name: str) -> None:
    std, init = TORCH_INITS[name]
    w = init(torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64))
    assert_mean(w.flatten() ** 2 / std**2, 1.0)


def test_std_closed_forms() -> None:
    assert lecun_std(100) == pytest.approx(0.1)
    assert xavier_std(100, 300) == pytest.approx(math.sqrt(2 / 400))
    assert he_std(50) == pytest.approx(0.2)
    assert xavier_std(64, 64) == pytest.approx(lecun_std(64))  # square layers: Xavier = LeCun


def test_forward_second_moment_is_m_sigma2_times_input_second_moment() -> None:
    m, n = 32, 100_000
    x = F.relu(torch.randn(n, m, generator=gen(10), dtype=torch.float64)) + 0.3  # mean != 0
    w = normal((n, m), 0.7, generator=gen(11), dtype=torch.float64)
    y = (x * w).sum(1)
    expected = m * 0.7**2 * (0.5 + 0.6 * 0.3989422804014327 + 0.09)  # E[(relu z+.3)^2]
    assert_mean(y**2, expected)


# --- gains and the wide-network map -----------------------------------------------------------


@pytest.mark.parametrize(
    ("activation", "slope"),
    [("linear", 0.01), ("relu", 0.01), ("leaky_relu", 0.01), ("leaky_relu", 0.2)],
    ids=["linear", "relu", "leaky_relu_0.01", "leaky_relu_0.2"],
)
def test_gain_equals_calculate_gain_where_torch_uses_the_second_moment(
    activation: str, slope: float
) -> None:
    expected = torch.nn.init.calculate_gain(activation, slope)
    assert gain(activation, negative_slope=slope) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_gain_makes_unit_second_moment_a_fixed_point(activation: str) -> None:
    z = torch.randn(400_000, generator=gen(12), dtype=torch.float64)
    assert_mean((gain(activation) * PHI[activation](z)) ** 2, 1.0)
    assert second_moment_map(1.0, activation, gain=gain(activation)) == pytest.approx(1.0, 1e-9)


@pytest.mark.parametrize("activation", ["tanh", "gelu", "sigmoid"], ids=str)
@pytest.mark.parametrize("nu", [0.25, 4.0], ids=lambda v: f"nu={v}")
def test_second_moment_map_matches_monte_carlo(activation: str, nu: float) -> None:
    z = torch.randn(400_000, generator=gen(13), dtype=torch.float64)
    samples = 1.5**2 * PHI[activation](math.sqrt(nu) * z) ** 2
    assert_mean(samples, second_moment_map(nu, activation, gain=1.5))


def test_second_moment_map_is_linear_for_relu() -> None:
    for nu in (0.0, 0.1, 1.0, 37.0):
        assert second_moment_map(nu, "relu", gain=1.3) == pytest.approx(1.3**2 * nu / 2, abs=1e-12)


LAMBDA, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717  # SELU's


@pytest.mark.parametrize("activation", ["tanh", "gelu", "selu"], ids=str)
def test_zero_is_a_fixed_point_where_phi_of_zero_is_zero(activation: str) -> None:
    assert second_moment_map(0.0, activation, gain=gain(activation)) == 0.0


def test_zero_is_not_a_fixed_point_of_the_sigmoid() -> None:
    assert second_moment_map(0.0, "sigmoid", gain=1.0) == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize(
    ("activation", "phi_prime_0_squared", "rel"),
    [("tanh", 1.0, 1e-6), ("gelu", 0.25, 1e-6), ("selu", LAMBDA**2 * (1 + ALPHA**2) / 2, 1e-3)],
    ids=["tanh", "gelu", "selu"],
)
def test_slope_at_zero_is_gain_squared_times_phi_prime_squared(
    activation: str, phi_prime_0_squared: float, rel: float
) -> None:
    # map(nu) = g^2 phi'(0)^2 nu + O(nu^2) (O(nu^1.5) for SELU's one-sided curvature)
    eps, g = 1e-8, gain(activation)
    slope = second_moment_map(eps, activation, gain=g) / eps
    assert slope == pytest.approx(g**2 * phi_prime_0_squared, rel=rel)


def _slope(activation: str, nu: float, g: float) -> float:
    eps = 1e-5
    up = second_moment_map(nu + eps, activation, gain=g)
    return (up - second_moment_map(nu - eps, activation, gain=g)) / (2 * eps)


def test_gain_corrected_gelu_repels_one_and_attracts_zero() -> None:
    g = gain("gelu")
    assert _slope("gelu", 1.0, g) > 1.1
    assert second_moment_map(1e-8, "gelu", gain=g) / 1e-8 < 0.6
    nu = 0.99
    for _ in range(100):
        nu = second_moment_map(nu, "gelu", gain=g)
    assert nu < 1e-6  # pulled to the stable fixed point 0


@pytest.mark.parametrize("activation", ["tanh", "selu"], ids=str)
def test_gain_makes_one_a_stable_fixed_point_of_tanh_and_selu(activation: str) -> None:
    g = gain(activation)
    assert _slope(activation, 1.0, g) < 0.8
    assert second_moment_map(1e-8, activation, gain=g) / 1e-8 > 2.0  # 0 repels


def test_selu_with_gain_one_is_self_normalising() -> None:
    assert gain("selu") == pytest.approx(1.0, rel=1e-9)
    assert second_moment_map(1.0, "selu", gain=1.0) == pytest.approx(1.0, rel=1e-9)
    z = torch.randn(400_000, generator=gen(43), dtype=torch.float64)
    assert_mean(F.selu(z), 0.0)
    assert second_moment_map(1.0, "selu", gain=0.75) == pytest.approx(0.5625, rel=1e-9)


# --- the deep MLP -----------------------------------------------------------------------------


def test_mlp_second_moments_shape_and_input_moment() -> None:
    nu = mlp_second_moments(7, 16, nets=3, batch=5, generator=gen(14))
    assert nu.shape == (3, 8)
    assert nu.dtype == torch.float64
    assert (nu > 0).all()


def test_mlp_second_moments_is_reproducible_from_the_generator() -> None:
    a = mlp_second_moments(5, 16, activation="tanh", generator=gen(15))
    b = mlp_second_moments(5, 16, activation="tanh", generator=gen(15))
    assert torch.equal(a, b)


def test_xavier_and_lecun_coincide_on_square_layers() -> None:
    a = mlp_second_moments(5, 16, init="xavier", generator=gen(16))
    b = mlp_second_moments(5, 16, init="lecun", generator=gen(16))
    assert torch.allclose(a, b, rtol=1e-6)


def test_lecun_relu_halves_the_second_moment_per_layer() -> None:
    nu = mlp_second_moments(20, 64, init="lecun", activation="relu", nets=50, generator=gen(17))
    assert_mean((nu[:, 1:] / nu[:, :-1]).flatten(), 0.5)


def test_he_relu_keeps_the_second_moment_in_expectation() -> None:
    nu = mlp_second_moments(20, 64, init="he", activation="relu", nets=50, generator=gen(18))
    assert_mean((nu[:, 1:] / nu[:, :-1]).flatten(), 1.0)


@pytest.mark.parametrize("width", [16, 64], ids=lambda m: f"m={m}")
@pytest.mark.parametrize("init", ["lecun", "he"], ids=str)
def test_relu_log_ratio_moments_match_simulation(width: int, init: str) -> None:
    nu = mlp_second_moments(10, width, init=init, activation="relu", nets=300, generator=gen(19))
    log_r = (nu[:, 1:] / nu[:, :-1]).log().flatten()
    log_r = log_r[torch.isfinite(log_r)]  # all units off: probability 2^-m per layer
    mean, var = relu_log_ratio_moments(width, gain=math.sqrt(2.0) if init == "he" else 1.0)
    assert_mean(log_r, mean)
    assert_mean((log_r - mean) ** 2, var)


def test_relu_log_ratio_moments_shrink_like_one_over_width() -> None:
    mean, var = relu_log_ratio_moments(4096)
    assert mean * 4096 == pytest.approx(-2.5, rel=0.01)
    assert var * 4096 == pytest.approx(5.0, rel=0.01)


def test_layer_norm_before_each_layer_fixes_the_second_moment() -> None:
    nu = mlp_second_moments(
        20, 64, init="lecun", activation="relu", norm="pre", nets=40, batch=2, generator=gen(20)
    )
    assert_mean(nu[:, 1:].mean(1), 0.5)


def test_post_norm_residual_keeps_unit_second_moment() -> None:
    nu = mlp_second_moments(20, 64, residual=True, norm="post", nets=4, generator=gen(21))
    assert (nu[:, 1:] - 1).abs().max() < 1e-4


def test_weight_normalisation_keeps_the_second_moment_whatever_sigma_was_drawn() -> None:
    lecun = mlp_second_moments(20, 64, init="lecun", norm="weight", nets=50, generator=gen(44))
    he = mlp_second_moments(20, 64, init="he", norm="weight", nets=50, generator=gen(44))
    assert torch.allclose(lecun, he, rtol=1e-4)  # the draw's scale is normalised away
    assert_mean((lecun[:, 1:] / lecun[:, :-1]).flatten(), 1.0)


def test_post_norm_weight_of_the_input_halves_every_two_blocks() -> None:
    log2_c = post_norm_input_weight(30, 128, nets=40, batch=2, generator=gen(45))
    assert log2_c.shape == (40, 2, 31)
    assert (log2_c[..., 0] == 0).all()
    assert_mean(log2_c[..., -1].mean(1) / 30, -0.5)


def test_post_norm_weight_replays_the_post_norm_stack() -> None:
    # the same generator state gives the stack of mlp_second_moments: recompute s_l by hand
    g = gen(46)
    h = torch.randn(3, 1, 16, generator=g)
    expected = [torch.zeros(3, 1, dtype=torch.float64)]
    for _ in range(4):
        W = torch.randn(3, 16, 16, generator=g) * he_std(16)
        x = h + F.relu(h) @ W
        s = (x.var(-1, unbiased=False) + 1e-5).sqrt()
        h = (x - x.mean(-1, keepdim=True)) / s[..., None]
        expected.append(expected[-1] - s.double().log2())
    ours = post_norm_input_weight(4, 16, nets=3, generator=gen(46))
    assert torch.allclose(ours, torch.stack(expected, -1), rtol=1e-6, atol=1e-6)


def test_plain_residual_first_block_doubles_exactly_in_expectation() -> None:
    nu = mlp_second_moments(1, 32, residual=True, nets=4000, generator=gen(47))
    assert_mean(nu[:, 1] / nu[:, 0], 2.0)


def test_plain_residual_mean_log2_ratio_is_depth_when_depth_is_small_against_width() -> None:
    nu = mlp_second_moments(6, 256, residual=True, nets=64, generator=gen(48))
    bits = torch.log2(nu[:, -1] / nu[:, 0])
    assert_mean(bits, 6.0)
    se = float(bits.std()) / 8
    assert 5 * se < math.log2(1.5) - 0.1  # the tolerance rejects a factor 1.5


def test_pre_norm_residual_grows_linearly() -> None:
    nu = mlp_second_moments(20, 64, residual=True, norm="pre", nets=60, batch=2, generator=gen(22))
    assert_mean(nu[:, -1] - nu[:, 0], 20.0)


def test_plain_residual_doubles_per_block_with_he() -> None:
    nu = mlp_second_moments(10, 64, residual=True, nets=60, batch=2, generator=gen(23))
    assert_mean(nu[:, -1] / 2**10, 1.0)


# --- standard vs NTK parameterisation ---------------------------------------------------------


def test_parameterisations_compute_the_same_function() -> None:
    x = torch.randn(8, generator=gen(24), dtype=torch.float64)
    f_std, *_ = two_layer_sgd_step(x, 32, parameterization="standard", nets=4, generator=gen(25))
    f_ntk, *_ = two_layer_sgd_step(x, 32, parameterization="ntk", nets=4, generator=gen(25))
    assert torch.allclose(f_std, f_ntk, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("parameterization", ["standard", "ntk"], ids=str)
def test_tangent_kernel_equals_the_hand_derived_gradient_norm(parameterization: str) -> None:
    d, m, nets = 6, 20, 3
    x = torch.randn(d, generator=gen(26), dtype=torch.float64)
    _, theta, _ = two_layer_sgd_step(
        x, m, parameterization=parameterization, nets=nets, generator=gen(27)
    )
    g = gen(27)  # replay the draws: A1 (nets, d, m), a2 (nets, m)
    a1 = torch.randn(nets, d, m, generator=g, dtype=torch.float64)
    a2 = torch.randn(nets, m, generator=g, dtype=torch.float64)
    z = x @ a1 / math.sqrt(d)  # pre-activations, the same in both: (nets, m)
    on = (z > 0).double()
    if parameterization == "standard":  # grads w.r.t. W = A1/√d and v = a2/√m
        expected = F.relu(z).pow(2).sum(1) + (a2**2 / m * on).sum(1) * x.pow(2).sum()
    else:  # grads w.r.t. A1 and a2, with 1/√d and 1/√m in the forward pass
        expected = F.relu(z).pow(2).sum(1) / m + (a2**2 * on).sum(1) * x.pow(2).sum() / (d * m)
    assert torch.allclose(theta, expected, rtol=1e-12)


@pytest.mark.parametrize("width", [16, 512], ids=lambda m: f"m={m}")
def test_tangent_kernel_means_match_closed_forms(width: int) -> None:
    d = 16
    x = torch.randn(d, generator=gen(28), dtype=torch.float64)
    x = x * math.sqrt(d) / x.norm()
    for p, expected in (("standard", (width + d) / 2), ("ntk", 1.0)):
        _, theta, _ = two_layer_sgd_step(x, width, parameterization=p, nets=200, generator=gen(29))
        assert_mean(theta, expected)


@pytest.mark.parametrize("parameterization", ["standard", "ntk"], ids=str)
def test_one_sgd_step_changes_f_by_minus_lr_times_theta(parameterization: str) -> None:
    x = torch.randn(16, generator=gen(30), dtype=torch.float64)
    _, theta, delta = two_layer_sgd_step(
        x, 256, parameterization=parameterization, lr=1e-5, nets=8, generator=gen(31)
    )
    assert torch.allclose(delta, -1e-5 * theta, rtol=1e-3)


# --- bad input --------------------------------------------------------------------------------

BAD: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("lecun_zero_fan", lambda: lecun_std(0), ValueError, "fan_in must be an int >= 1, got 0"),
    ("lecun_float_fan", lambda: lecun_std(2.5), ValueError, "fan_in must be an int >= 1"),
    ("lecun_bool_fan", lambda: lecun_std(True), ValueError, "fan_in must be an int >= 1"),
    ("lecun_zero_gain", lambda: lecun_std(4, 0.0), ValueError, "gain must be > 0"),
    ("lecun_str_gain", lambda: lecun_std(4, "1"), TypeError, "gain must be a float"),
    ("xavier_zero_in", lambda: xavier_std(0, 3), ValueError, "fan_in must be an int >= 1"),
    ("xavier_negative_out", lambda: xavier_std(3, -1), ValueError, "fan_out must be an int >= 1"),
    ("he_zero_fan", lambda: he_std(0), ValueError, "fan must be an int >= 1"),
    ("he_nan_gain", lambda: he_std(4, math.nan), ValueError, "gain must be > 0"),
    ("normal_zero_std", lambda: normal((3,), 0.0), ValueError, "std must be > 0"),
    ("uniform_negative_std", lambda: uniform((3,), -1.0), ValueError, "std must be > 0"),
    ("normal_inf_std", lambda: normal((3,), math.inf), ValueError, "std must be > 0"),
    ("normal_bad_shape", lambda: normal((3, -1), 1.0), ValueError, "shape must be a tuple"),
    ("normal_list_shape", lambda: normal([3], 1.0), ValueError, "shape must be a tuple"),
    ("truncated_zero_bound", lambda: truncated_normal((3,), 1.0, bound=0.0), ValueError, "bound must be > 0"),
    ("truncated_negative_bound", lambda: truncated_normal((3,), 1.0, bound=-2.0), ValueError, "bound must be > 0"),
    ("tau_zero_bound", lambda: truncated_normal_std(0.0), ValueError, "bound must be > 0 and finite, got 0.0"),
    ("gain_unknown", lambda: gain("swish"), ValueError, "activation must be one of"),
    ("map_unknown", lambda: second_moment_map(1.0, "softplus"), ValueError, "activation must be one of"),
    ("map_negative_nu", lambda: second_moment_map(-1.0, "relu"), ValueError, "nu must be >= 0"),
    ("map_zero_gain", lambda: second_moment_map(1.0, "relu", gain=0.0), ValueError, "gain must be > 0"),
    ("mlp_unknown_activation", lambda: mlp_second_moments(2, 4, activation="elu"), ValueError, "activation must be one of"),
    ("mlp_zero_depth", lambda: mlp_second_moments(0, 4), ValueError, "depth must be an int >= 1, got 0"),
    ("mlp_zero_width", lambda: mlp_second_moments(2, 0), ValueError, "width must be an int >= 1, got 0"),
    ("mlp_negative_width", lambda: mlp_second_moments(2, -8), ValueError, "width must be an int >= 1"),
    ("mlp_zero_nets", lambda: mlp_second_moments(2, 4, nets=0), ValueError, "nets must be an int >= 1"),
    ("mlp_zero_batch", lambda: mlp_second_moments(2, 4, batch=0), ValueError, "batch must be an int >= 1"),
    ("mlp_unknown_init", lambda: mlp_second_moments(2, 4, init="orthogonal"), ValueError, "init must be"),
    ("mlp_unknown_norm", lambda: mlp_second_moments(2, 4, norm="mid"), ValueError, "norm must be"),
    ("log_ratio_width_one", lambda: relu_log_ratio_moments(1), ValueError, "width must be an int >= 2, got 1"),
    ("log_ratio_zero_width", lambda: relu_log_ratio_moments(0), ValueError, "width must be an int >= 2, got 0"),
    ("post_zero_depth", lambda: post_norm_input_weight(0, 4), ValueError, "depth must be an int >= 1, got 0"),
    ("post_zero_width", lambda: post_norm_input_weight(2, 0), ValueError, "width must be an int >= 1"),
    ("post_zero_nets", lambda: post_norm_input_weight(2, 4, nets=0), ValueError, "nets must be an int >= 1"),
    ("post_zero_batch", lambda: post_norm_input_weight(2, 4, batch=0), ValueError, "batch must be an int >= 1"),
    ("post_unknown_init", lambda: post_norm_input_weight(2, 4, init="orthogonal"), ValueError, "init must be"),
    ("post_unknown_activation", lambda: post_norm_input_weight(2, 4, activation="elu"), ValueError, "activation must be one of"),
    ("post_seed_generator", lambda: post_norm_input_weight(2, 4, generator=0), TypeError, "generator must be a torch.Generator or None"),
    ("log_ratio_zero_gain", lambda: relu_log_ratio_moments(8, 0.0), ValueError, "gain must be > 0"),
    ("sgd_list_x", lambda: two_layer_sgd_step([1.0, 2.0], 4), TypeError, "x must be a torch.Tensor"),
    ("sgd_int_x", lambda: two_layer_sgd_step(torch.ones(3, dtype=torch.int64), 4), TypeError, "x must have a floating dtype"),
    ("sgd_matrix_x", lambda: two_layer_sgd_step(torch.ones(2, 3), 4), ValueError, "x must be 1-D with shape (d), got shape (2, 3)"),
    ("sgd_zero_width", lambda: two_layer_sgd_step(torch.ones(3), 0), ValueError, "width must be an int >= 1"),
    ("sgd_zero_lr", lambda: two_layer_sgd_step(torch.ones(3), 4, lr=0.0), ValueError, "lr must be > 0"),
    ("sgd_zero_nets", lambda: two_layer_sgd_step(torch.ones(3), 4, nets=0), ValueError, "nets must be an int >= 1"),
    ("sgd_unknown_parameterization", lambda: two_layer_sgd_step(torch.ones(3), 4, parameterization="mup"), ValueError, "parameterization must be"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_raises_a_clear_error(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()
