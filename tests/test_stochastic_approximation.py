"""Claims of docs/stochastic-approximation.md, checked against closed forms and references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notes.checks import assert_mean
from notes.stochastic_approximation import (
    bgd,
    constant_steps,
    gradient_descent,
    harmonic_steps,
    incremental_mean,
    loglog_slope,
    mbgd,
    power_steps,
    relative_gradient_error,
    robbins_monro,
    sample_batches,
    sgd,
)

F64 = torch.float64
EPS = {torch.float32: torch.finfo(torch.float32).eps, F64: torch.finfo(F64).eps}


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mean_grad(w: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
    """Gradient of the batch mean of |w - x|^2 / 2; w (*, d), batch (*, m, d)."""
    return w - batch.mean(-2)


def tanh_observe(sigma: float, bias: float = 0.0):
    """g~(w) = tanh(w - 1) + bias + N(0, sigma^2) noise."""

    def observe(w: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        noise = torch.randn(w.shape, generator=g, dtype=w.dtype)
        return torch.tanh(w - 1) + bias + sigma * noise

    return observe


def uniform_square(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 2, generator=gen(seed), dtype=F64) * 2 - 1


# --- incremental mean (page section 1 and 2) ------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (3,), (4, 2)], ids=["scalar", "3-streams", "4x2-streams"])
def test_incremental_mean_equals_batch_mean_at_every_k(dtype, shape):
    K = 400
    x = 5.0 + torch.randn(K, *shape, generator=gen(0), dtype=F64)
    w = incremental_mean(x.to(dtype))
    k = torch.arange(1, K + 1, dtype=F64).reshape(K, *([1] * len(shape)))
    batch = torch.cumsum(x, 0) / k  # float64 reference
    # K updates, each rounding numbers no larger than max |x| (page, first check)
    bound = 4 * K * EPS[dtype] * float(x.abs().max())
    assert w.dtype == dtype
    assert w.shape == (K + 1, *shape)
    assert float((w[1:].double() - batch).abs().max()) <= bound


def test_incremental_mean_forgets_the_start_after_one_step():
    x = torch.randn(10, 3, generator=gen(1), dtype=F64)
    a = incremental_mean(x, w1=0.0)
    b = incremental_mean(x, w1=torch.tensor([100.0, -7.0, 3.0], dtype=F64))
    # w_2 = w_1 - (w_1 - x_1) = x_1 up to the rounding of numbers as large as |w_1| = 100
    torch.testing.assert_close(a[1:], b[1:], rtol=0, atol=4 * EPS[F64] * 100)
    assert b[0].tolist() == [100.0, -7.0, 3.0]


@pytest.mark.parametrize(
    "steps",
    [harmonic_steps(30), constant_steps(30, 0.2), power_steps(30, 0.7), power_steps(30, 2.0)],
    ids=["1/k", "constant-0.2", "k^-0.7", "k^-2"],
)
def test_incremental_weights_match_the_unrolled_formula(steps):
    K = steps.numel()
    w1 = 2.5
    weights = incremental_mean(torch.eye(K, dtype=F64), steps=steps, w1=w1)[-1]
    # eq. (4): w_{K+1} = prod_j (1 - a_j) w_1 + sum_i a_i prod_{j > i} (1 - a_j) x_i
    tail = [math.prod(1 - a for a in steps[i:].tolist()) for i in range(1, K + 1)]
    start = math.prod(1 - a for a in steps.tolist()) * w1
    expected = steps * torch.tensor(tail, dtype=F64) + start
    torch.testing.assert_close(weights, expected, rtol=0, atol=4 * K * EPS[F64] * (1 + w1))


def test_constant_step_weights_decay_geometrically():
    K, a = 25, 0.3
    weights = incremental_mean(torch.eye(K, dtype=F64), steps=constant_steps(K, a))[-1]
    i = torch.arange(1, K + 1, dtype=F64)
    torch.testing.assert_close(weights, a * (1 - a) ** (K - i), rtol=0, atol=4 * K * EPS[F64])


# --- step-size rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "scale", "offset"),
    [(1.0, 1.0, 0.0), (0.5, 2.0, 3.0), (2.0, 0.5, 0.0), (0.0, 0.1, 0.0)],
    ids=["1/k", "2/sqrt(k+3)", "0.5/k^2", "p=0-is-constant"],
)
def test_power_steps_match_closed_form(p, scale, offset):
    steps = power_steps(6, p, scale=scale, offset=offset)
    expected = torch.tensor([scale / (k + offset) ** p for k in range(1, 7)], dtype=F64)
    torch.testing.assert_close(steps, expected, rtol=1e-15, atol=0)


def test_harmonic_and_constant_steps_are_special_power_steps():
    assert torch.equal(
        harmonic_steps(9, scale=3.0, offset=2.0), power_steps(9, 1.0, scale=3.0, offset=2.0)
    )
    assert torch.equal(constant_steps(9, 0.25), power_steps(9, 0.0, scale=0.25))
    assert power_steps(3, 1.0, dtype=torch.float32).dtype == torch.float32


# --- Robbins-Monro (page section 3) ----------------------------------------------------------

SIGMA, R, K = 0.3, 2000, 500


@pytest.fixture(scope="module")
def tanh_runs() -> dict[str, torch.Tensor]:
    """R runs of RM on g(w) = tanh(w - 1) from w_1 = 0 under the three step rules; errors."""
    w1 = torch.zeros(R, dtype=F64)
    rules = {
        "1/k": harmonic_steps(K),
        "const": constant_steps(K, 0.05),
        "1/k^2": power_steps(K, 2.0),
    }
    g = gen(11)
    return {n: robbins_monro(tanh_observe(SIGMA), w1, s, generator=g) - 1 for n, s in rules.items()}


def test_rm_with_harmonic_steps_reaches_the_noise_variance_over_k(tanh_runs):
    # eq. (7): E[e_{K+1}^2] ~ sigma^2 / K, since g'(w*) = 1
    assert_mean(K * tanh_runs["1/k"][-1] ** 2, SIGMA**2)


def test_rm_error_with_harmonic_steps_has_log_log_slope_minus_half(tanh_runs):
    e = tanh_runs["1/k"]
    ks = torch.logspace(math.log10(20), math.log10(K), 10, dtype=F64).round().long()
    sq = e[ks] ** 2
    rel_se = 0.5 * sq.std(1) / (sq.mean(1) * R**0.5)
    slope, bound = loglog_slope(ks.double(), sq.mean(1).sqrt(), rel_se=rel_se)
    assert abs(slope + 0.5) <= bound < 0.1


def test_rm_with_constant_step_stalls_at_the_noise_floor(tanh_runs):
    a = 0.05
    floor = a * SIGMA**2 / (2 - a)  # eq. (7)
    assert_mean(tanh_runs["const"][-1] ** 2 / floor, 1.0)
    # the floor is reached by K/2 already: later steps do not improve on it
    assert_mean(tanh_runs["const"][K // 2] ** 2 / floor, 1.0)


def test_rm_with_summable_steps_stops_short_of_the_root():
    # sum_k 1/k^2 < pi^2 / 6 and |tanh| <= 1: E[w_{K+1}] >= w_1 - pi^2 / 6
    w = robbins_monro(
        tanh_observe(SIGMA),
        torch.full((R,), 4.0, dtype=F64),
        power_steps(K, 2.0),
        generator=gen(12),
    )
    last = w[-1]
    se = float(last.std()) / R**0.5
    assert float(last.mean()) + 5 * se >= 4 - math.pi**2 / 6
    assert float(last.mean()) - 5 * se > 1.0  # the root is 1


def test_rm_with_biased_noise_finds_the_shifted_root():
    b = 0.1
    w = robbins_monro(
        tanh_observe(SIGMA, b), torch.zeros(R, dtype=F64), harmonic_steps(K), generator=gen(13)
    )
    assert_mean(w[-1], 1 - math.atanh(b))


def test_rm_on_a_linear_function_is_the_running_mean_of_the_noise():
    # g(w) = w - 2, a_k = 1/k: e_{k+1} = -(1/k) sum_{i <= k} eta_i exactly (page section 3)
    eta = torch.randn(50, 7, generator=gen(14), dtype=F64)
    noise = iter(eta)
    w = robbins_monro(
        lambda w, _: w - 2 + next(noise), torch.zeros(7, dtype=F64), harmonic_steps(50)
    )
    torch.testing.assert_close(w - 2, -incremental_mean(eta, w1=2.0), rtol=0, atol=1e-13)


def test_rm_with_observation_w_minus_x_is_the_incremental_mean():
    x = torch.randn(60, 5, generator=gen(15), dtype=F64)
    samples = iter(x)
    w = robbins_monro(lambda w, _: w - next(samples), torch.zeros(5, dtype=F64), harmonic_steps(60))
    assert torch.equal(w, incremental_mean(x))


def test_rm_runs_are_independent_of_each_other():
    noise = torch.randn(40, 3, generator=gen(16), dtype=F64)
    w1 = torch.tensor([0.0, 2.0, -3.0], dtype=F64)

    def run(start: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
        draws = iter(eta)  # eta_k, one row per step
        return robbins_monro(
            lambda w, _: torch.tanh(w - 1) + next(draws), start, harmonic_steps(40)
        )

    all_runs = run(w1, noise)
    for r in range(3):
        one = run(w1[r : r + 1], noise[:, r : r + 1])
        torch.testing.assert_close(all_runs[:, r], one[:, 0], rtol=0, atol=0)


def test_rm_is_reproducible_with_a_seeded_generator():
    w1 = torch.zeros(10, dtype=F64)
    a = robbins_monro(tanh_observe(1.0), w1, harmonic_steps(20), generator=gen(3))
    b = robbins_monro(tanh_observe(1.0), w1, harmonic_steps(20), generator=gen(3))
    assert torch.equal(a, b)


def test_float32_iterates_stay_float32_with_float64_steps():
    w = robbins_monro(lambda w, _: w - 1, torch.zeros(3), harmonic_steps(5))
    assert w.dtype == torch.float32


# --- corrected statements (issue 10) ----------------------------------------------------------


def _fitted_slope(e: torch.Tensor, lo: int = 20) -> tuple[float, float]:
    """Log-log slope of the RMSE of e_(k+1) on lo <= k <= K and its 5-standard-error bound."""
    runs = e.shape[1]
    ks = torch.logspace(math.log10(lo), math.log10(e.shape[0] - 1), 10, dtype=F64).round().long()
    sq = e[ks] ** 2
    rel_se = 0.5 * sq.std(1) / (sq.mean(1) * runs**0.5)
    return loglog_slope(ks.double(), sq.mean(1).sqrt(), rel_se=rel_se)


LONG = 2000  # steps for the k^-1/2 runs: long enough for a_K to separate them from a constant


def test_rm_with_steps_k_to_minus_half_converges_although_sum_of_squares_diverges():
    # sum a_k^2 = inf is sufficient, not necessary: E[e_{K+1}^2] ~ a_K sigma^2 / 2 -> 0
    e = (
        robbins_monro(
            tanh_observe(SIGMA),
            torch.zeros(R, dtype=F64),
            power_steps(LONG, 0.5),
            generator=gen(21),
        )
        - 1
    )
    level = LONG**-0.5 * SIGMA**2 / 2
    assert_mean(e[-1] ** 2 / level, 1.0)
    slope, bound = _fitted_slope(e)
    assert abs(slope + 0.25) <= bound
    # and it keeps falling: the mean square error at K is below that at K / 10 by many se
    early, late = e[LONG // 10] ** 2, e[-1] ** 2
    se = float((early.var() / R + late.var() / R) ** 0.5)
    assert float(early.mean() - late.mean()) > 5 * se


def test_rm_with_constant_step_is_rejected_by_the_vanishing_level_check():
    # the level a_K sigma^2 / 2 of k^-1/2 steps is not what a constant step reaches
    e = (
        robbins_monro(
            tanh_observe(SIGMA),
            torch.zeros(R, dtype=F64),
            constant_steps(LONG, 0.05),
            generator=gen(22),
        )
        - 1
    )
    ratio = e[-1] ** 2 / (LONG**-0.5 * SIGMA**2 / 2)
    se = float(ratio.std()) / R**0.5
    assert abs(float(ratio.mean()) - 1.0) > 5 * se


@pytest.mark.parametrize("c", [0.2, 0.3], ids=["c=0.2", "c=0.3"])
def test_rm_with_c_over_k_below_one_half_decays_like_k_to_minus_c(c):
    # c g'(w*) < 1/2: the error falls like k^(-c g'(w*)), slower than k^(-1/2); from the root
    e = (
        robbins_monro(
            tanh_observe(SIGMA),
            torch.ones(R, dtype=F64),
            harmonic_steps(K, scale=c),
            generator=gen(23),
        )
        - 1
    )
    slope, bound = _fitted_slope(e)
    assert abs(slope + c) <= bound
    assert abs(slope + 0.5) > bound  # and the k^-1/2 of c g'(w*) > 1/2 is rejected


def _variance_recursion(c: float, h: float, sigma: float, num: int) -> torch.Tensor:
    """v_(k+1) = (1 - c h / k)^2 v_k + c^2 sigma^2 / k^2 from v_1 = 0, for k = 1..num."""
    v, out = 0.0, []
    for k in range(1, num + 1):
        v = (1 - c * h / k) ** 2 * v + (c * sigma / k) ** 2
        out.append(v)
    return torch.tensor(out, dtype=F64)


@pytest.mark.parametrize(("c", "h"), [(1.0, 1.0), (2.0, 0.5), (0.75, 2.0)], ids=str)
def test_linear_variance_is_c2_sigma2_over_2ch_minus_1_over_k_above_one_half(c, h):
    num = 200_000
    v = _variance_recursion(c, h, 1.0, num)
    big_a = c**2 / (2 * c * h - 1)
    k = torch.arange(1, num + 1, dtype=F64)
    # v_(k+1) = A / k (1 + O(1/k)): at k = num the relative error is below 100 / num
    assert abs(float(v[-1] * k[-1]) / big_a - 1) < 100 / num


@pytest.mark.parametrize("ch", [0.1, 0.25, 0.4], ids=str)
def test_linear_variance_decays_like_k_to_minus_2ch_below_one_half(ch):
    num = 200_000
    v = _variance_recursion(ch, 1.0, 1.0, num)
    # k^(2ch) v_k converges; the rest of the sum decays like k^(2ch - 1)
    scaled = v * torch.arange(1, num + 1, dtype=F64) ** (2 * ch)
    drift = abs(float(scaled[-1] / scaled[num // 10 - 1]) - 1)
    assert drift < 5 * (num // 10) ** (2 * ch - 1)
    # and k v_k grows without bound: the k^-1/2 rate is lost
    k_v = v * torch.arange(1, num + 1, dtype=F64)
    assert float(k_v[-1]) > 2 * float(k_v[num // 100])


def test_rm_on_a_cubic_with_harmonic_steps_diverges():
    # condition (a) broken: g(w) = w^3 - 5 has slope 3 w^2, unbounded; from w_1 = 0 with 1/k
    def cubic(w: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        return w**3 - 5 + SIGMA * torch.randn(w.shape, generator=g, dtype=w.dtype)

    w = robbins_monro(cubic, torch.zeros(R, dtype=F64), harmonic_steps(6), generator=gen(24))
    e = (w - 5 ** (1 / 3)).abs()
    assert bool((e[-1] > 1e10).all())
    assert bool((e[3:] > e[2:-1]).all())  # from w_3 on, every step overshoots by more


def test_rm_on_the_cubic_without_noise_lands_at_five_then_overshoots():
    w = robbins_monro(lambda w, _: w**3 - 5, torch.zeros(1, dtype=F64), harmonic_steps(3))
    torch.testing.assert_close(w[:, 0], torch.tensor([0.0, 5.0, -55.0, 55405.0], dtype=F64))


def _stationary_second_moment(a: float, sigma: float, half_width: float, h: float) -> float:
    """E[e^2] of the chain e' = e - a tanh(e) - a eta, eta ~ N(0, sigma^2), on a fine grid."""
    grid = torch.arange(-half_width, half_width + h / 2, h, dtype=F64)
    mean_next = grid - a * torch.tanh(grid)  # (G,)
    kernel = torch.exp(-((grid[None, :] - mean_next[:, None]) ** 2) / (2 * (a * sigma) ** 2))
    kernel = kernel / kernel.sum(1, keepdim=True)  # rows: transition probabilities
    pi = torch.full_like(grid, 1 / grid.numel())
    for _ in range(400):  # power iteration; the chain contracts by (1 - a)^2 per step
        pi = pi @ kernel
    return float((pi * grid**2).sum())


def test_tanh_curvature_raises_the_constant_step_floor_by_2_1_minus_a_v_over_2_minus_a():
    # v = a sigma^2 / (2 - a) (1 + 2 (1 - a) v / (2 - a)) to first order in v (page, check ii);
    # a = 0.5 makes the factor (1 - a) matter: without it the rise would be twice as large
    a, sigma = 0.5, 0.1
    floor = a * sigma**2 / (2 - a)
    v = _stationary_second_moment(a, sigma, half_width=0.6, h=0.004)
    rise = v / floor - 1
    predicted = 2 * (1 - a) * floor / (2 - a)
    wrong = 2 * floor / (2 - a)  # the formula without (1 - a)
    # the first-order formula leaves out terms of relative order v; allow 5 v of the rise
    tolerance = 5 * floor * predicted
    assert abs(rise - predicted) <= tolerance
    assert abs(rise - wrong) > tolerance


# --- gradient descent, SGD, MBGD, BGD (page sections 6-8) ----------------------------------


def test_gd_error_shrinks_by_one_minus_a_per_step():
    mean, a = torch.tensor([0.5, -0.5], dtype=F64), 0.2
    w1 = torch.tensor([3.0, 3.0], dtype=F64)
    w = gradient_descent(lambda w: w - mean, w1, constant_steps(20, a))
    ratio = (w - mean).norm(dim=-1) / (w1 - mean).norm()
    torch.testing.assert_close(ratio, (1 - a) ** torch.arange(21, dtype=F64), rtol=1e-12, atol=0)


def test_gd_with_autograd_gradient_minimises_a_quadratic():
    A = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=F64)
    b = torch.tensor([1.0, -1.0], dtype=F64)

    def grad(w: torch.Tensor) -> torch.Tensor:  # autograd of J(w) = w^T A w / 2 - b^T w
        w = w.detach().requires_grad_(True)
        (0.5 * w @ A @ w - b @ w).backward()
        return w.grad

    w = gradient_descent(grad, torch.zeros(2, dtype=F64), constant_steps(200, 0.4))
    torch.testing.assert_close(w[-1], torch.linalg.solve(A, b), rtol=1e-10, atol=1e-10)


def test_sgd_with_harmonic_steps_reproduces_the_running_mean_exactly():
    data = uniform_square(100, 4)
    w1 = torch.tensor([3.0, 3.0], dtype=F64)
    w = sgd(mean_grad, data, w1, harmonic_steps(300), generator=gen(5))
    drawn = data[sample_batches(100, 300, 1, generator=gen(5))[:, 0]]
    assert torch.equal(w, incremental_mean(drawn, w1=w1))


def test_mbgd_draws_exactly_the_batches_of_sample_batches():
    data = uniform_square(30, 6)
    w = mbgd(mean_grad, data, torch.zeros(4, 2, dtype=F64), harmonic_steps(10), 3, generator=gen(7))
    idx = sample_batches(30, 10, 3, runs=(4,), generator=gen(7))  # (K, 4, 3)
    # with a_k = 1/k, w_{k+1} is the mean of all samples drawn in steps 1..k
    expected = torch.cumsum(data[idx].mean(-2), 0) / torch.arange(1, 11, dtype=F64)[:, None, None]
    torch.testing.assert_close(w[1:], expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("m", [1, 5, 50], ids=["sgd-m1", "mbgd-m5", "mbgd-m50"])
def test_mbgd_mean_square_error_is_trace_sigma_over_k_m(m):
    n, K, R = 100, 100, 320
    data = uniform_square(n, 4)
    x_bar = data.mean(0)
    tr_sigma = float((data - x_bar).pow(2).sum(1).mean())
    w1 = torch.tensor([3.0, 3.0], dtype=F64).expand(R, 2)
    w = mbgd(mean_grad, data, w1, harmonic_steps(K), m, generator=gen(20 + m))
    assert_mean(K * m * (w[-1] - x_bar).pow(2).sum(-1) / tr_sigma, 1.0)  # eq. (17)


def test_bgd_reaches_the_sample_mean_in_one_step_with_harmonic_steps():
    data = uniform_square(100, 4)
    w1 = torch.tensor([3.0, 3.0], dtype=F64)
    w = bgd(mean_grad, data, w1, harmonic_steps(5))
    torch.testing.assert_close(w[1:], data.mean(0).expand(5, 2), rtol=0, atol=8 * EPS[F64] * 3)


def test_bgd_is_gradient_descent_on_the_full_average():
    data = uniform_square(50, 8)
    w1 = torch.zeros(3, 2, dtype=F64)
    steps = constant_steps(15, 0.3)
    full = gradient_descent(lambda w: w - data.mean(0), w1, steps)
    torch.testing.assert_close(bgd(mean_grad, data, w1, steps), full, rtol=0, atol=1e-15)


def test_mbgd_with_m_equal_n_is_not_bgd():
    data = uniform_square(20, 9)
    w1 = torch.zeros(2, dtype=F64)
    steps = harmonic_steps(3)
    assert not torch.allclose(
        mbgd(mean_grad, data, w1, steps, 20, generator=gen(1)), bgd(mean_grad, data, w1, steps)
    )


# --- the relative gradient error (page section 7) ---------------------------------------


def test_relative_gradient_error_matches_its_definition():
    s = torch.randn(6, 3, generator=gen(30), dtype=F64)
    f = torch.randn(6, 3, generator=gen(31), dtype=F64)
    expected = torch.tensor(
        [
            np.linalg.norm(a - b) / np.linalg.norm(b)
            for a, b in zip(s.numpy(), f.numpy(), strict=True)
        ]
    )
    torch.testing.assert_close(relative_gradient_error(s, f), expected.to(F64), rtol=1e-14, atol=0)
    assert torch.isinf(relative_gradient_error(s[:1], torch.zeros(1, 3, dtype=F64))).all()


@pytest.mark.parametrize(
    ("q", "c"), [((1.0, 1.0), 1.0), ((1.0, 0.25), 0.25)], ids=["Q=I-equality", "Q=diag(1,1/4)"]
)
def test_relative_gradient_error_is_within_its_bound_along_an_sgd_run(q, c):
    n, K = 100, 400
    data = uniform_square(n, 4)
    x_bar = data.mean(0)
    Q = torch.diag(torch.tensor(q, dtype=F64))

    def grad(w: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        return (w - batch.mean(-2)) @ Q

    w = sgd(grad, data, x_bar + 10, harmonic_steps(K, scale=2 / c, offset=20), generator=gen(6))[
        :-1
    ]
    x_k = data[sample_batches(n, K, 1, generator=gen(6))[:, 0]]
    stochastic, full = grad(w, x_k[:, None]), grad(w, data.expand(K, n, 2))
    delta = relative_gradient_error(stochastic, full)
    bound = (stochastic - full).norm(dim=-1) / (c * (w - x_bar).norm(dim=-1))  # eq. (13)
    assert bool((delta <= bound * (1 + 1e-12)).all())
    if q == (1.0, 1.0):  # the book's form: |x_k - E X| / |w_k - w*|
        torch.testing.assert_close(delta, (x_k - x_bar).norm(dim=-1) / (w - x_bar).norm(dim=-1))
    assert float(delta[:5].max()) < 1 < float(delta[K // 2 :].median())


# --- log-log slope ---------------------------------------------------------------------------


@pytest.mark.parametrize("power", [-1.0, -0.5, 0.0, 2.0], ids=["k^-1", "k^-1/2", "flat", "k^2"])
def test_loglog_slope_recovers_power_laws_like_numpy_polyfit(power):
    x = torch.logspace(0, 3, 9, dtype=F64)
    y = 0.7 * x**power * (1 + 0.1 * torch.sin(x))  # not an exact power law
    slope, bound = loglog_slope(x, y)
    reference = np.polyfit(np.log(x.numpy()), np.log(y.numpy()), 1)[0]
    assert slope == pytest.approx(reference, rel=1e-12, abs=1e-12)
    assert bound == 0.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1.0, 1.0), min_size=6, max_size=6))
def test_loglog_slope_bound_covers_any_errors_within_k_standard_errors(units):
    x = torch.tensor([1.0, 2.0, 5.0, 10.0, 20.0, 50.0], dtype=F64)
    rel_se = torch.full((6,), 0.02, dtype=F64)
    y = x**-0.5 * torch.exp(
        5 * rel_se * torch.tensor(units, dtype=F64)
    )  # each log y_i off by <= 5 r_i
    slope, bound = loglog_slope(x, y, rel_se=rel_se)
    assert abs(slope + 0.5) <= bound * (1 + 1e-12)


# --- bad input -------------------------------------------------------------------------------

X3 = torch.zeros(3, dtype=F64)
DATA = torch.zeros(4, 2, dtype=F64)
W2 = torch.zeros(2, dtype=F64)


BAD_INPUT = [
    pytest.param(
        lambda: incremental_mean([1.0, 2.0]),
        TypeError,
        "x must be a torch.Tensor",
        id="x-not-a-tensor",
    ),
    pytest.param(
        lambda: incremental_mean(torch.arange(3)),
        TypeError,
        "x must have a floating dtype",
        id="x-integer",
    ),
    pytest.param(
        lambda: incremental_mean(torch.tensor(1.0)),
        ValueError,
        "at least one sample",
        id="x-scalar",
    ),
    pytest.param(
        lambda: incremental_mean(torch.zeros(0, 2)), ValueError, "at least one sample", id="x-empty"
    ),
    pytest.param(
        lambda: incremental_mean(torch.zeros(3, 2), w1=torch.zeros(3)),
        ValueError,
        "w1 of shape",
        id="w1-too-long",
    ),
    pytest.param(
        lambda: incremental_mean(torch.zeros(3, 2), w1=torch.zeros(1, 2)),
        ValueError,
        "broadcast",
        id="w1-too-many-dims",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=harmonic_steps(2)),
        ValueError,
        "one step per sample",
        id="steps-wrong-length",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=torch.tensor([1.0, 0.0, 1.0])),
        ValueError,
        r"steps\[1\] = 0.0",
        id="step-zero",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=torch.tensor([1.0, 1.0, -1.0])),
        ValueError,
        r"steps\[2\] = -1.0",
        id="step-negative",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=torch.tensor([math.nan] * 3)),
        ValueError,
        "steps must be finite",
        id="step-nan",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=torch.tensor([math.inf] * 3)),
        ValueError,
        "steps must be finite",
        id="step-inf",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=torch.ones(3, 1)),
        ValueError,
        r"steps must be 1-D with shape \(K\), got shape \(3, 1\)",
        id="steps-2d",
    ),
    pytest.param(
        lambda: incremental_mean(X3, steps=torch.ones(3, dtype=torch.long)),
        TypeError,
        "steps must have a floating",
        id="steps-integer",
    ),
    pytest.param(
        lambda: power_steps(0, 1.0),
        ValueError,
        "num_steps must be an int >= 1, got 0",
        id="num_steps-zero",
    ),
    pytest.param(
        lambda: power_steps(True, 1.0),
        ValueError,
        "num_steps must be an int >= 1",
        id="num_steps-bool",
    ),
    pytest.param(
        lambda: power_steps(2.0, 1.0),
        ValueError,
        "num_steps must be an int >= 1",
        id="num_steps-float",
    ),
    pytest.param(lambda: power_steps(3, -1.0), ValueError, "p must be >= 0", id="p-negative"),
    pytest.param(
        lambda: power_steps(3, 1.0, scale=0.0),
        ValueError,
        "scale must be > 0, got 0.0",
        id="scale-zero",
    ),
    pytest.param(
        lambda: power_steps(3, 1.0, offset=-1.0),
        ValueError,
        "offset must be >= 0",
        id="offset-negative",
    ),
    pytest.param(
        lambda: power_steps(3, 1.0, dtype=torch.int64),
        TypeError,
        "dtype must be a floating",
        id="power-dtype-int",
    ),
    pytest.param(
        lambda: harmonic_steps(3, scale=-2.0),
        ValueError,
        "scale must be > 0",
        id="harmonic-scale-negative",
    ),
    pytest.param(
        lambda: constant_steps(3, 0.0),
        ValueError,
        "a must be > 0, got 0.0",
        id="constant-a-zero",
    ),
    pytest.param(
        lambda: constant_steps(3, math.nan), ValueError, "a must be finite", id="constant-a-nan"
    ),
    pytest.param(
        lambda: constant_steps(3, 0.1, dtype=torch.int32),
        TypeError,
        "dtype must be a floating",
        id="constant-dtype-int",
    ),
    pytest.param(
        lambda: constant_steps(-1, 0.1),
        ValueError,
        "num_steps must be an int >= 1",
        id="constant-num_steps-negative",
    ),
    pytest.param(
        lambda: robbins_monro(lambda w, _: w, torch.zeros(3, dtype=torch.long), harmonic_steps(2)),
        TypeError,
        "w1 must have a floating",
        id="rm-w1-integer",
    ),
    pytest.param(
        lambda: robbins_monro(lambda w, _: w[:2], X3, harmonic_steps(2)),
        ValueError,
        r"observe must return a tensor of shape \(3,\), got \(2,\)",
        id="rm-observe-wrong-shape",
    ),
    pytest.param(
        lambda: robbins_monro(lambda *_: 1.0, X3, harmonic_steps(2)),
        ValueError,
        "got float",
        id="rm-observe-not-tensor",
    ),
    pytest.param(
        lambda: robbins_monro(lambda w, _: w, X3, constant_steps(2, 0.1) - 1),
        ValueError,
        r"steps\[0\] = -0.9",
        id="rm-step-negative",
    ),
    pytest.param(
        lambda: gradient_descent(lambda w: w, torch.tensor(1.0), harmonic_steps(2)),
        ValueError,
        "w1 must be at least 1-D with shape",
        id="gd-w1-scalar",
    ),
    pytest.param(
        lambda: gradient_descent(lambda w: w.sum(), W2, harmonic_steps(2)),
        ValueError,
        "grad must return a tensor of shape",
        id="gd-grad-wrong-shape",
    ),
    pytest.param(
        lambda: gradient_descent(lambda w: w, W2, torch.zeros(0)),
        ValueError,
        r"steps must have K >= 1 in shape \(K\)",
        id="gd-steps-empty",
    ),
    pytest.param(
        lambda: mbgd(mean_grad, DATA, W2, harmonic_steps(2), 0),
        ValueError,
        "batch_size must be an int >= 1, got 0",
        id="mbgd-batch-zero",
    ),
    pytest.param(
        lambda: mbgd(mean_grad, DATA, W2, harmonic_steps(2), 2.5),
        ValueError,
        "batch_size must be an int",
        id="mbgd-batch-float",
    ),
    pytest.param(
        lambda: mbgd(mean_grad, torch.zeros(0, 2), W2, harmonic_steps(2), 1),
        ValueError,
        "data must have n >= 1",
        id="mbgd-data-empty",
    ),
    pytest.param(
        lambda: mbgd(mean_grad, torch.zeros(4), W2, harmonic_steps(2), 1),
        ValueError,
        r"data must be 2-D with shape \(n, p\), got shape \(4,\)",
        id="mbgd-data-1d",
    ),
    pytest.param(
        lambda: mbgd(mean_grad, DATA.long(), W2, harmonic_steps(2), 1),
        TypeError,
        "data must have a floating",
        id="mbgd-data-integer",
    ),
    pytest.param(
        lambda: mbgd(lambda _, b: b, DATA, W2, harmonic_steps(2), 1),
        ValueError,
        "grad must return",
        id="mbgd-grad-wrong-shape",
    ),
    pytest.param(
        lambda: sgd(mean_grad, DATA, torch.tensor(0.0), harmonic_steps(2)),
        ValueError,
        "w1 must be at least 1-D with shape",
        id="sgd-w1-scalar",
    ),
    pytest.param(
        lambda: bgd(mean_grad, torch.zeros(0, 2), W2, harmonic_steps(2)),
        ValueError,
        "data must have n >= 1",
        id="bgd-data-empty",
    ),
    pytest.param(
        lambda: bgd(mean_grad, DATA, W2, -harmonic_steps(2)),
        ValueError,
        "steps must be > 0",
        id="bgd-steps-negative",
    ),
    pytest.param(
        lambda: sample_batches(0, 2, 1), ValueError, "n must be an int >= 1", id="batches-n-zero"
    ),
    pytest.param(
        lambda: sample_batches(5, 0, 1),
        ValueError,
        "num_steps must be an int >= 1",
        id="batches-num_steps-zero",
    ),
    pytest.param(
        lambda: sample_batches(5, 2, -3),
        ValueError,
        "batch_size must be an int >= 1, got -3",
        id="batches-size-negative",
    ),
    pytest.param(
        lambda: relative_gradient_error(W2, torch.zeros(3, dtype=F64)),
        ValueError,
        "same shape|one shape",
        id="rel-error-shapes-differ",
    ),
    pytest.param(
        lambda: relative_gradient_error(torch.tensor(1.0), torch.tensor(1.0)),
        ValueError,
        "one shape",
        id="rel-error-scalars",
    ),
    pytest.param(
        lambda: relative_gradient_error(W2.numpy(), W2),
        TypeError,
        "stochastic must be a torch.Tensor",
        id="rel-error-not-tensor",
    ),
    pytest.param(
        lambda: loglog_slope(X3 + 1, torch.ones(2, dtype=F64)),
        ValueError,
        "same length|one length",
        id="slope-lengths-differ",
    ),
    pytest.param(
        lambda: loglog_slope(torch.ones(1, dtype=F64), torch.ones(1, dtype=F64)),
        ValueError,
        ">= 2",
        id="slope-one-point",
    ),
    pytest.param(
        lambda: loglog_slope(X3, X3 + 1), ValueError, "must be > 0", id="slope-nonpositive"
    ),
    pytest.param(
        lambda: loglog_slope(X3 + 1, X3 + 1), ValueError, "all equal", id="slope-x-constant"
    ),
    pytest.param(
        lambda: loglog_slope(X3 + torch.arange(1, 4), X3 + 1, k=0.0),
        ValueError,
        "k must be > 0",
        id="slope-k-zero",
    ),
    pytest.param(
        lambda: loglog_slope(X3 + torch.arange(1, 4), X3 + 1, rel_se=torch.ones(2, dtype=F64)),
        ValueError,
        r"rel_se must have N = 3 in shape \(N\)",
        id="slope-rel_se-shape",
    ),
    pytest.param(
        lambda: loglog_slope(X3 + torch.arange(1, 4), X3 + 1, rel_se=-torch.ones(3, dtype=F64)),
        ValueError,
        "rel_se must be >= 0",
        id="slope-rel_se-negative",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_INPUT)
def test_bad_input_raises_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
