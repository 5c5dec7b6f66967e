"""Tests of notes.reparam: every claim of docs/reparameterization.md and every bad-input path.

References are closed forms (checked against Gauss-Hermite quadrature where they are ours),
autograd, torch.distributions, torch.nn.functional.gumbel_softmax and, for the chi-square
tests, scipy.stats (scipy is installed as a dependency of scikit-learn, in the test group).
Monte Carlo claims are checked to within 5 standard errors; hypothesis tests reject at a
p-value below 1e-3, fixed before running; every random draw has its own seeded generator.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Gumbel, Normal, RelaxedOneHotCategorical

from notes.checks import assert_mean
from notes.reparam import (
    chi_square_gof,
    chi_square_homogeneity,
    concrete_log_prob,
    exact_objective,
    gaussian_rsample,
    gumbel,
    gumbel_max,
    gumbel_softmax,
    pathwise_gradients,
    probs_to_logits,
    reinforce_gradients,
    relaxed_gradients,
    score_function_gradients,
)

F64 = torch.float64
ALPHA = 1e-3  # significance level of every hypothesis test, fixed in advance
EULER = 0.5772156649015329


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def square(z: torch.Tensor) -> torch.Tensor:
    return z**2


# --- the Gaussian case ---------------------------------------------------------------------------
GAUSSIANS = [(1.0, 0.5), (0.0, 1.0), (-2.0, 0.3)]
GAUSSIAN_IDS = ["mu=1,sigma=0.5", "mu=0,sigma=1", "mu=-2,sigma=0.3"]


def closed_form_variances(mu: float, sigma: float) -> dict[str, float]:
    """The page's variances of the four one-sample estimators for f(z) = z^2."""
    return {
        "pw_mu": 4 * sigma**2,
        "pw_sigma": 4 * mu**2 + 8 * sigma**2,
        "sf_mu": mu**4 / sigma**2 + 14 * mu**2 + 15 * sigma**2,
        "sf_sigma": 2 * mu**4 / sigma**2 + 60 * mu**2 + 74 * sigma**2,
    }


@pytest.mark.parametrize(("mu", "sigma"), GAUSSIANS, ids=GAUSSIAN_IDS)
def test_closed_form_variances_match_gauss_hermite_quadrature(mu: float, sigma: float) -> None:
    # 40-point Gauss-Hermite is exact for polynomials of degree < 80: these are of degree 8.
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    z = mu + sigma * x
    estimates = {
        "pw_mu": 2 * z,
        "pw_sigma": 2 * z * x,
        "sf_mu": z**2 * x / sigma,
        "sf_sigma": z**2 * (x**2 - 1) / sigma,
    }
    for name, g in estimates.items():
        mean = (w * g).sum()
        assert mean == pytest.approx(2 * mu if name.endswith("mu") else 2 * sigma, abs=1e-10)
        var = (w * g**2).sum() - mean**2
        assert var == pytest.approx(closed_form_variances(mu, sigma)[name], rel=1e-10)


@pytest.mark.parametrize(("mu", "sigma"), GAUSSIANS, ids=GAUSSIAN_IDS)
def test_gaussian_estimators_are_unbiased_with_closed_form_variances(
    mu: float, sigma: float
) -> None:
    m, s, n = torch.tensor(mu, dtype=F64), torch.tensor(sigma, dtype=F64), 400_000
    sf = score_function_gradients(square, m, s, n, generator=gen(0))
    pw = pathwise_gradients(square, m, s, n, generator=gen(1))
    var = closed_form_variances(mu, sigma)
    for name, g_hat in zip(("sf_mu", "sf_sigma", "pw_mu", "pw_sigma"), (*sf, *pw), strict=True):
        exact = 2 * mu if name.endswith("mu") else 2 * sigma
        assert_mean(g_hat, exact, name=name)
        assert_mean((g_hat - exact) ** 2, var[name], name=f"variance of {name}")


def test_score_function_estimates_equal_f_times_the_autograd_score_per_sample() -> None:
    m, s = torch.tensor(0.3, dtype=F64), torch.tensor(1.7, dtype=F64)
    g_mu, g_sigma = score_function_gradients(torch.sin, m, s, 50, generator=gen(2))
    z = m + s * torch.randn(50, dtype=F64, generator=gen(2))  # the same eps
    m_i = m.expand(50).clone().requires_grad_()  # one copy per sample: per-sample scores
    s_i = s.expand(50).clone().requires_grad_()
    score_mu, score_sigma = torch.autograd.grad(Normal(m_i, s_i).log_prob(z).sum(), (m_i, s_i))
    assert torch.allclose(g_mu, torch.sin(z) * score_mu, rtol=1e-12, atol=1e-15)
    assert torch.allclose(g_sigma, torch.sin(z) * score_sigma, rtol=1e-12, atol=1e-15)


def test_pathwise_estimates_equal_analytic_derivative_per_sample() -> None:
    m, s = torch.tensor([0.0, 1.0, -1.0], dtype=F64), torch.tensor(0.5, dtype=F64)
    g_mu, g_sigma = pathwise_gradients(torch.sin, m, s, 20, generator=gen(3))
    eps = torch.randn(20, 3, dtype=F64, generator=gen(3))
    assert g_mu.shape == (20, 3)
    assert torch.allclose(g_mu, torch.cos(m + s * eps), rtol=1e-12)
    assert torch.allclose(g_sigma, torch.cos(m + s * eps) * eps, rtol=1e-12)


def test_gaussian_rsample_is_normal_and_differentiable() -> None:
    m = torch.tensor(2.0, dtype=F64, requires_grad=True)
    s = torch.tensor(0.5, dtype=F64, requires_grad=True)
    z = gaussian_rsample(m, s, (200_000,), generator=gen(4))
    assert_mean(z.detach(), 2.0, name="E[z]")
    assert_mean((z.detach() - 2.0) ** 2, 0.25, name="Var[z]")
    d_mu, d_sigma = torch.autograd.grad(z.sum(), (m, s))
    eps = torch.randn(200_000, dtype=F64, generator=gen(4))
    assert d_mu.item() == 200_000  # dz/dmu = 1
    assert d_sigma.item() == pytest.approx(eps.sum().item(), rel=1e-9)  # dz/dsigma = eps


# --- Gumbel noise and Gumbel-Max -----------------------------------------------------------------
def test_gumbel_noise_has_euler_mean_and_pi2_over_6_variance() -> None:
    g = gumbel((10**6,), dtype=F64, generator=gen(5))
    assert_mean(g, EULER, name="E[g]")
    assert_mean((g - EULER) ** 2, math.pi**2 / 6, name="Var[g]")


@pytest.mark.parametrize("dtype", [torch.float32, F64, torch.float16], ids=["f32", "f64", "f16"])
def test_gumbel_noise_follows_the_gumbel_cdf(dtype: torch.dtype) -> None:
    # 20 bins of equal probability under F(x) = exp(-exp(-x)): edges x = -log(-log(q)).
    q = torch.arange(1, 20, dtype=F64) / 20
    edges = -torch.log(-torch.log(q))
    g = gumbel((200_000,), dtype=dtype, generator=gen(6))
    assert g.dtype == dtype
    counts = torch.bincount(torch.bucketize(g.double(), edges), minlength=20)
    _, p_value = chi_square_gof(counts, torch.full((20,), 0.05, dtype=F64))
    assert p_value > ALPHA


def test_gumbel_noise_matches_torch_distributions_gumbel() -> None:
    ours = gumbel((100_000,), dtype=F64, generator=gen(7))
    with torch.random.fork_rng():
        torch.manual_seed(7)
        theirs = Gumbel(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)).sample(
            (100_000,)
        )
    edges = torch.linspace(-2.0, 6.0, 15, dtype=F64)
    table = torch.stack(
        [torch.bincount(torch.bucketize(x, edges), minlength=16) for x in (ours, theirs)]
    )
    assert chi_square_homogeneity(table)[1] > ALPHA


PROBS = [
    [0.5, 0.5],
    [0.05, 0.10, 0.15, 0.20, 0.22, 0.28],
    [0.001, 0.009, 0.99],
]
PROB_IDS = ["fair-coin", "six-classes", "one-rare-class"]


@pytest.mark.parametrize("p", PROBS, ids=PROB_IDS)
def test_gumbel_max_frequencies_pass_chi_square_against_p(p: list[float]) -> None:
    probs = torch.tensor(p, dtype=F64)
    k = gumbel_max(probs_to_logits(probs), (10**6,), generator=gen(8))
    counts = torch.bincount(k, minlength=len(p))
    assert chi_square_gof(counts, probs)[1] > ALPHA


def test_chi_square_gof_rejects_gumbel_max_against_a_shifted_p() -> None:
    probs = torch.tensor(PROBS[1], dtype=F64)
    counts = torch.bincount(gumbel_max(probs.log(), (10**6,), generator=gen(9)), minlength=6)
    shifted = probs + torch.tensor([0.002, 0, 0, 0, 0, -0.002], dtype=F64)
    assert chi_square_gof(counts, shifted)[1] < ALPHA


def test_gumbel_max_matches_torch_categorical_in_distribution() -> None:
    theta = torch.tensor([1.0, -0.5, 0.0, 2.0], dtype=F64)
    ours = gumbel_max(theta, (200_000,), generator=gen(10))
    with torch.random.fork_rng():
        torch.manual_seed(10)
        theirs = Categorical(logits=theta).sample((200_000,))
    table = torch.stack([torch.bincount(k, minlength=4) for k in (ours, theirs)])
    assert chi_square_homogeneity(table)[1] > ALPHA


def test_gumbel_max_ignores_a_common_shift_of_the_logits() -> None:
    theta = torch.randn(5, 4, generator=gen(11), dtype=F64)
    a = gumbel_max(theta, (100,), generator=gen(12))
    b = gumbel_max(theta + 3.0, (100,), generator=gen(12))
    assert a.shape == (100, 5)
    assert a.dtype == torch.int64
    assert torch.equal(a, b)


def test_gumbel_max_is_the_argmax_of_logits_plus_gumbel_noise() -> None:
    theta = torch.randn(7, generator=gen(13), dtype=F64)
    g = gumbel((30, 7), dtype=F64, generator=gen(14))
    assert torch.equal(gumbel_max(theta, (30,), generator=gen(14)), (theta + g).argmax(-1))


# --- Gumbel-Softmax ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, F64, torch.bfloat16], ids=["f32", "f64", "bf16"])
def test_gumbel_softmax_returns_points_of_the_simplex_in_the_input_dtype(
    dtype: torch.dtype,
) -> None:
    theta = torch.randn(100, 6, generator=gen(15)).to(dtype)
    y = gumbel_softmax(theta, 0.7, generator=gen(16))
    assert y.dtype == dtype
    assert y.shape == theta.shape
    assert (y >= 0).all()
    tol = 8 * torch.finfo(dtype).eps * 6
    assert torch.allclose(y.sum(-1).double(), torch.ones(100, dtype=F64), atol=tol)


@pytest.mark.parametrize("dim", [0, 1, -1, 2], ids=["dim0", "dim1", "dim-1", "dim2"])
def test_gumbel_softmax_is_softmax_of_logits_plus_noise_along_dim(dim: int) -> None:
    theta = torch.randn(4, 5, 3, generator=gen(17), dtype=F64)
    g = gumbel(theta.shape, dtype=F64, generator=gen(18))
    y = gumbel_softmax(theta, 0.3, dim=dim, generator=gen(18))
    assert torch.allclose(y, torch.softmax((theta + g) / 0.3, dim), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("tau", [0.01, 0.3, 1.0, 10.0], ids=["tau0.01", "tau0.3", "tau1", "tau10"])
def test_gumbel_softmax_argmax_is_the_gumbel_max_sample(tau: float) -> None:
    theta = torch.randn(3, generator=gen(19), dtype=F64)
    y = gumbel_softmax(theta.expand(1000, 3), tau, generator=gen(20))
    assert torch.equal(y.argmax(-1), gumbel_max(theta, (1000,), generator=gen(20)))


def test_gumbel_softmax_obeys_both_temperature_limit_bounds() -> None:
    theta = torch.tensor([0.1, 0.5, -0.3, 0.0], dtype=F64)
    s = theta + gumbel((5000, 4), dtype=F64, generator=gen(21))
    top2 = s.topk(2, -1).values
    gap, spread = top2[:, 0] - top2[:, 1], s.max(-1).values - s.min(-1).values
    for tau in (0.01, 0.1, 1.0, 100.0, 1e4):
        y = gumbel_softmax(theta.expand(5000, 4), tau, generator=gen(21))
        slack = 1e-15
        assert (1 - y.max(-1).values <= 3 * torch.exp(-gap / tau) + slack).all()
        assert ((y - 0.25).abs().max(-1).values <= (torch.exp(spread / tau) - 1) / 4 + slack).all()


def _binned(y: torch.Tensor) -> torch.Tensor:
    """Counts of (class of the largest coordinate) x (5 bins of its size)."""
    edges = torch.tensor([0.5, 0.7, 0.9, 0.99], dtype=y.dtype)
    k = y.shape[-1]
    index = y.argmax(-1) * 5 + torch.bucketize(y.max(-1).values.contiguous(), edges)
    return torch.bincount(index, minlength=5 * k)


TAUS = [0.1, 0.5, 2.0]
TAU_IDS = ["tau0.1", "tau0.5", "tau2"]


@pytest.mark.parametrize("tau", TAUS, ids=TAU_IDS)
def test_gumbel_softmax_matches_relaxed_one_hot_categorical_in_distribution(tau: float) -> None:
    probs = torch.tensor([0.2, 0.3, 0.5], dtype=F64)
    ours = gumbel_softmax(probs.log().expand(100_000, 3), tau, generator=gen(22))
    with torch.random.fork_rng():
        torch.manual_seed(22)
        theirs = RelaxedOneHotCategorical(torch.tensor(tau, dtype=F64), probs=probs).sample(
            (100_000,)
        )
    table = torch.stack([_binned(ours), _binned(theirs)])
    table = table[:, table.sum(0) > 0]  # bins that neither sample reaches carry no information
    assert chi_square_homogeneity(table)[1] > ALPHA


def test_chi_square_homogeneity_rejects_gumbel_softmax_at_the_wrong_temperature() -> None:
    probs = torch.tensor([0.2, 0.3, 0.5], dtype=F64)
    ours = gumbel_softmax(probs.log().expand(100_000, 3), 0.55, generator=gen(23))
    with torch.random.fork_rng():
        torch.manual_seed(23)
        theirs = RelaxedOneHotCategorical(torch.tensor(0.5, dtype=F64), probs=probs).sample(
            (100_000,)
        )
    assert chi_square_homogeneity(torch.stack([_binned(ours), _binned(theirs)]))[1] < ALPHA


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
@pytest.mark.parametrize("tau", TAUS, ids=TAU_IDS)
def test_gumbel_softmax_matches_torch_functional_in_distribution(tau: float, hard: bool) -> None:
    theta = torch.tensor([0.3, -1.0, 0.0, 1.2], dtype=torch.float32).expand(100_000, 4)
    ours = gumbel_softmax(theta, tau, hard, generator=gen(24))
    with torch.random.fork_rng():
        torch.manual_seed(24)
        theirs = F.gumbel_softmax(theta, tau, hard)
    table = torch.stack([_binned(ours.double()), _binned(theirs.double())])
    table = table[:, table.sum(0) > 0]
    assert chi_square_homogeneity(table)[1] > ALPHA


@pytest.mark.parametrize("dim", [0, -1], ids=["dim0", "dim-1"])
def test_straight_through_is_one_hot_forward_with_the_soft_gradient(dim: int) -> None:
    logits = torch.randn(32, 6, generator=gen(25), dtype=F64)
    weights = torch.randn(32, 6, generator=gen(26), dtype=F64)
    theta_st, theta_soft = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    y_st = gumbel_softmax(theta_st, 0.5, hard=True, dim=dim, generator=gen(27))
    y_soft = gumbel_softmax(theta_soft, 0.5, dim=dim, generator=gen(27))
    index = y_soft.detach().argmax(dim, keepdim=True)
    one_hot = torch.zeros_like(logits).scatter_(dim, index, 1.0)
    assert torch.equal(y_st.detach(), one_hot)
    (grad_st,) = torch.autograd.grad((weights * y_st).sum(), theta_st)
    (grad_soft,) = torch.autograd.grad((weights * y_soft).sum(), theta_soft)
    assert torch.equal(grad_st, grad_soft)


def test_gumbel_softmax_accepts_huge_finite_logits_whose_sum_overflows() -> None:
    theta = torch.tensor([3e38, 3e38, 0.0], dtype=torch.float32)  # the sum is inf in float32
    y = gumbel_softmax(theta, 1.0, generator=gen(28))
    assert torch.isfinite(y).all()


# --- the Concrete density ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("k", "tau"),
    [(2, 0.5), (3, 0.2), (3, 1.0), (5, 2.0)],
    ids=["K2-tau0.5", "K3-tau0.2", "K3-tau1", "K5-tau2"],
)
def test_concrete_log_prob_matches_relaxed_one_hot_categorical(k: int, tau: float) -> None:
    theta = torch.randn(7, k, generator=gen(29), dtype=F64)  # a batch of 7 distributions
    y = gumbel_softmax(theta.expand(100, 7, k), tau, generator=gen(30))
    reference = RelaxedOneHotCategorical(torch.tensor(tau, dtype=F64), logits=theta).log_prob(y)
    assert torch.allclose(concrete_log_prob(y, theta, tau), reference, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0], ids=["tau0.5", "tau1", "tau3"])
def test_concrete_density_integrates_to_one_on_the_3_class_simplex(tau: float) -> None:
    # y = softmax(u1, u2, 0): d(y1, y2) = y1 y2 y3 d(u1, u2). The density decays like
    # exp(-tau |u|), so [-40/tau, 40/tau]^2 holds all but e^-40 of the mass.
    theta = torch.tensor([0.4, -0.2, 0.0], dtype=F64)
    u = torch.linspace(-40 / tau, 40 / tau, 1201, dtype=F64)
    u1, u2 = torch.meshgrid(u, u, indexing="ij")
    y = torch.softmax(torch.stack([u1, u2, torch.zeros_like(u1)], -1), -1)
    integrand = concrete_log_prob(y, theta, tau).exp() * y.prod(-1)
    mass = torch.trapezoid(torch.trapezoid(integrand, u, dim=1), u)
    assert mass.item() == pytest.approx(1.0, rel=1e-6)


def test_concrete_density_of_two_fair_classes_at_tau_one_is_uniform() -> None:
    y1 = torch.linspace(0.01, 0.99, 99, dtype=F64)
    y = torch.stack([y1, 1 - y1], -1)
    log_p = concrete_log_prob(y, torch.zeros(2, dtype=F64), 1.0)
    assert torch.allclose(log_p, torch.zeros(99, dtype=F64), atol=1e-12)


# --- discrete estimators -------------------------------------------------------------------------
T = torch.tensor([0.2, 0.3, 0.5], dtype=F64)


def distance(y: torch.Tensor) -> torch.Tensor:
    return ((y - T) ** 2).sum(-1)


def joint_distance(y: torch.Tensor) -> torch.Tensor:
    return ((y - T) ** 2).sum((-1, -2))


def test_exact_objective_gradient_is_p_times_f_minus_l() -> None:
    p = torch.tensor([0.5, 0.3, 0.2], dtype=F64)
    theta = p.log().requires_grad_()
    big_l = exact_objective(distance, theta)
    f_e = distance(torch.eye(3, dtype=F64))
    assert big_l.item() == pytest.approx((p * f_e).sum().item(), rel=1e-14)
    (grad,) = torch.autograd.grad(big_l, theta)
    assert torch.allclose(grad, p * (f_e - big_l.detach()), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("baseline", [0.0, 0.8, 5.0], ids=["b=0", "b=L", "b=5"])
def test_reinforce_is_unbiased_for_any_baseline_with_closed_form_variance(baseline: float) -> None:
    p = torch.tensor([0.5, 0.3, 0.2], dtype=F64)
    f_e = distance(torch.eye(3, dtype=F64))
    grad = p * (f_e - (p * f_e).sum())
    eye = torch.eye(3, dtype=F64)
    var = (p[:, None] * (f_e[:, None] - baseline) ** 2 * (eye - p) ** 2).sum(0) - grad**2
    g_hat = reinforce_gradients(distance, p.log(), 400_000, baseline=baseline, generator=gen(31))
    for j in range(3):
        assert_mean(g_hat[:, j], grad[j].item(), name=f"g_{j}")
        assert_mean((g_hat[:, j] - grad[j]) ** 2, var[j].item(), name=f"Var g_{j}")


def test_reinforce_on_a_joint_sample_is_unbiased_for_a_separable_objective() -> None:
    theta = torch.randn(4, 3, generator=gen(32), dtype=F64)
    theta_req = theta.clone().requires_grad_()
    (grad,) = torch.autograd.grad(exact_objective(distance, theta_req).sum(), theta_req)
    g_hat = reinforce_gradients(joint_distance, theta, 200_000, generator=gen(33))
    assert g_hat.shape == (200_000, 4, 3)
    for d in range(4):
        for j in range(3):
            assert_mean(g_hat[:, d, j], grad[d, j].item(), name=f"g_{d}{j}")


def test_reinforce_samples_are_the_gumbel_max_samples() -> None:
    theta = torch.tensor([0.2, 0.0, -0.4], dtype=F64)
    g_hat = reinforce_gradients(
        lambda y: torch.ones(len(y), dtype=F64), theta, 50, generator=gen(34)
    )
    k = gumbel_max(theta, (50,), generator=gen(34))
    expected = F.one_hot(k, 3).double() - theta.softmax(-1)  # f = 1: g = e_k - p
    assert torch.allclose(g_hat, expected, rtol=1e-14)


def _relaxed_gradient_by_quadrature(delta: float, tau: float) -> float:
    """d/d theta_1 of E[y~_1] for K = 2: y~_1 = sigmoid((delta + l) / tau), l ~ Logistic(0, 1)."""
    # The difference of two independent standard Gumbels is standard logistic.
    l = torch.linspace(-60.0, 60.0, 400_001, dtype=F64)
    pdf = torch.sigmoid(l) * torch.sigmoid(-l)
    x = (delta + l) / tau
    slope = torch.sigmoid(x) * torch.sigmoid(-x) / tau
    return torch.trapezoid(slope * pdf, l).item()


@pytest.mark.parametrize("tau", [0.2, 0.5, 2.0], ids=["tau0.2", "tau0.5", "tau2"])
def test_relaxed_gradients_are_unbiased_for_the_relaxed_objective(tau: float) -> None:
    theta = torch.tensor([0.3, -0.2], dtype=F64)
    g_hat = relaxed_gradients(lambda y: y[:, 0], theta, tau, 400_000, generator=gen(35))
    expected = _relaxed_gradient_by_quadrature(0.5, tau)
    assert_mean(g_hat[:, 0], expected, name="dE[y1]/dtheta1")
    assert_mean(g_hat[:, 1], -expected, name="dE[y1]/dtheta2")


def test_relaxed_gradients_are_biased_for_the_discrete_objective() -> None:
    # exact: d p_1 / d theta_1 = p_1 p_2; the relaxation at tau = 2 is far from it.
    theta = torch.tensor([0.3, -0.2], dtype=F64)
    p = theta.softmax(-1)
    g_hat = relaxed_gradients(lambda y: y[:, 0], theta, 2.0, 200_000, generator=gen(36))
    se = g_hat[:, 0].std().item() / math.sqrt(200_000)
    assert abs(g_hat[:, 0].mean().item() - (p[0] * p[1]).item()) > 5 * se


def test_straight_through_gradient_equals_soft_gradient_for_a_linear_objective() -> None:
    theta = torch.randn(5, 3, generator=gen(37), dtype=F64)
    w = torch.randn(5, 3, generator=gen(38), dtype=F64)

    def linear(y: torch.Tensor) -> torch.Tensor:
        return (w * y).sum((-1, -2))

    soft = relaxed_gradients(linear, theta, 0.4, 100, generator=gen(39))
    hard = relaxed_gradients(linear, theta, 0.4, 100, hard=True, generator=gen(39))
    assert torch.equal(soft, hard)


def test_relaxed_gradients_equal_autograd_sample_by_sample() -> None:
    theta = torch.tensor([0.5, -0.1, 0.2], dtype=F64)
    g_hat = relaxed_gradients(distance, theta, 0.7, 4, generator=gen(40))
    noise = gumbel((4, 3), dtype=F64, generator=gen(40))
    for i in range(4):
        th = theta.clone().requires_grad_()
        (expected,) = torch.autograd.grad(distance(torch.softmax((th + noise[i]) / 0.7, -1)), th)
        assert torch.allclose(g_hat[i], expected, rtol=1e-12, atol=1e-15)


# --- chi-square tests ----------------------------------------------------------------------------
def test_chi_square_gof_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    counts = torch.tensor([18, 25, 31, 26])
    probs = torch.tensor([0.2, 0.25, 0.3, 0.25], dtype=F64)
    statistic, p_value = chi_square_gof(counts, probs)
    reference = stats.chisquare(counts.numpy(), (probs * counts.sum()).numpy())
    assert statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_chi_square_homogeneity_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    table = torch.tensor([[12, 30, 9, 20], [18, 22, 14, 31], [7, 11, 5, 10]])
    statistic, p_value = chi_square_homogeneity(table)
    reference = stats.chi2_contingency(table.numpy(), correction=False)
    assert statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_chi_square_gof_p_values_are_uniform_under_the_null() -> None:
    # P(p-value < 0.1) = 0.1 under H0 (asymptotically); 2000 tests of n = 1000 draws each.
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=F64)
    draws = torch.multinomial(probs, 2000 * 1000, replacement=True, generator=gen(41))
    counts = F.one_hot(draws.view(2000, 1000), 4).sum(1)
    small = torch.tensor([float(chi_square_gof(c, probs)[1] < 0.1) for c in counts], dtype=F64)
    assert_mean(small, 0.1, name="P(p < 0.1)")


# --- bad input -----------------------------------------------------------------------------------
THETA = torch.zeros(3)
BAD_LOGITS = [
    (torch.tensor([0.0, float("nan"), 1.0]), ValueError, "logits must be finite"),
    (torch.tensor([0.0, float("inf"), 1.0]), ValueError, "logits must be finite"),
    (torch.tensor([0.0, -float("inf"), 1.0]), ValueError, "logits must be finite"),
    (torch.tensor([1, 2, 3]), TypeError, "logits must have a floating dtype"),
    ([0.0, 1.0], TypeError, "logits must be a torch.Tensor"),
    (torch.tensor(1.0), ValueError, "logits must have at least 1 dimension"),
    (torch.zeros(2, 0), ValueError, "logits must have at least one class"),
]
BAD_LOGIT_IDS = ["nan", "inf", "-inf", "int", "list", "0-d", "no-classes"]
USERS_OF_LOGITS = {
    "gumbel_softmax": lambda x: gumbel_softmax(x, 1.0),
    "gumbel_max": gumbel_max,
    "concrete_log_prob": lambda x: concrete_log_prob(torch.full((3,), 1 / 3), x, 1.0),
    "exact_objective": lambda x: exact_objective(lambda y: y.sum(-1), x),
    "reinforce_gradients": lambda x: reinforce_gradients(lambda y: y.sum(-1), x, 2),
    "relaxed_gradients": lambda x: relaxed_gradients(lambda y: y.sum(-1), x, 1.0, 2),
}


@pytest.mark.parametrize("user", list(USERS_OF_LOGITS), ids=list(USERS_OF_LOGITS))
@pytest.mark.parametrize(("logits", "error", "message"), BAD_LOGITS, ids=BAD_LOGIT_IDS)
def test_bad_logits_raise_a_clear_error(
    user: str, logits: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        USERS_OF_LOGITS[user](logits)


@pytest.mark.parametrize(
    ("tau", "error", "message"),
    [
        (0.0, ValueError, r"tau must be > 0 and finite, got 0.0"),
        (-1.0, ValueError, r"tau must be > 0 and finite, got -1.0"),
        (float("nan"), ValueError, "tau must be > 0 and finite"),
        (float("inf"), ValueError, "tau must be > 0 and finite"),
        (torch.tensor(1.0), TypeError, "tau must be a float"),
        (True, TypeError, "tau must be a float"),
    ],
    ids=["zero", "negative", "nan", "inf", "tensor", "bool"],
)
@pytest.mark.parametrize("user", ["gumbel_softmax", "concrete_log_prob", "relaxed_gradients"])
def test_bad_temperature_raises_a_clear_error(
    user: str, tau: object, error: type[Exception], message: str
) -> None:
    calls = {
        "gumbel_softmax": lambda: gumbel_softmax(THETA, tau),
        "concrete_log_prob": lambda: concrete_log_prob(torch.full((3,), 1 / 3), THETA, tau),
        "relaxed_gradients": lambda: relaxed_gradients(lambda y: y.sum(-1), THETA, tau, 2),
    }
    with pytest.raises(error, match=message):
        calls[user]()


@pytest.mark.parametrize(
    ("probs", "error", "message"),
    [
        (
            torch.tensor([0.5, 0.4]),
            ValueError,
            r"probs must sum to 1 along dim -1 .* got sums in \[0.9",
        ),
        (torch.tensor([[0.5, 0.5], [0.6, 0.6]]), ValueError, r"probs must sum to 1 .*1.2\]"),
        (torch.tensor([1.0, 0.0]), ValueError, "probs must be > 0, got min 0.0"),
        (torch.tensor([1.5, -0.5]), ValueError, "probs must be > 0"),
        (torch.tensor([float("nan"), 1.0]), ValueError, "probs must be finite"),
        (torch.tensor([1, 0]), TypeError, "probs must have a floating dtype"),
    ],
    ids=["sum-0.9", "one-row-1.2", "zero", "negative", "nan", "int"],
)
def test_bad_probabilities_raise_a_clear_error(
    probs: torch.Tensor, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        probs_to_logits(probs)


def test_probabilities_within_sqrt_eps_of_one_are_accepted() -> None:
    p = torch.tensor([0.2, 0.3, 0.5 + 1e-9], dtype=F64)
    assert torch.allclose(probs_to_logits(p).exp(), p)
    with pytest.raises(ValueError, match="probs must sum to 1"):
        probs_to_logits(torch.tensor([0.2, 0.3, 0.5 + 1e-6], dtype=F64))


@pytest.mark.parametrize(
    "estimator",
    [score_function_gradients, pathwise_gradients, None],
    ids=["score-function", "pathwise", "rsample"],
)
@pytest.mark.parametrize(
    ("mu", "sigma", "error", "message"),
    [
        (0.0, 0.0, ValueError, "sigma must be > 0, got min 0.0"),
        (0.0, torch.tensor([1.0, -1.0]), ValueError, "sigma must be > 0, got min -1.0"),
        (float("nan"), 1.0, ValueError, "mu must be finite"),
        (0.0, float("inf"), ValueError, "sigma must be finite"),
        (torch.tensor(1), 1.0, TypeError, "mu must have a floating dtype"),
    ],
    ids=["sigma-zero", "sigma-negative", "mu-nan", "sigma-inf", "mu-int"],
)
def test_bad_gaussian_parameters_raise_a_clear_error(
    estimator: object, mu: object, sigma: object, error: type[Exception], message: str
) -> None:
    def call() -> object:
        if estimator is None:
            return gaussian_rsample(mu, sigma, (3,))
        return estimator(square, mu, sigma, 3)

    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("n", [0, -3, 2.5, True], ids=["zero", "negative", "float", "bool"])
@pytest.mark.parametrize(
    "call",
    [
        lambda n: score_function_gradients(square, 0.0, 1.0, n),
        lambda n: pathwise_gradients(square, 0.0, 1.0, n),
        lambda n: reinforce_gradients(lambda y: y.sum(-1), THETA, n),
        lambda n: relaxed_gradients(lambda y: y.sum(-1), THETA, 1.0, n),
    ],
    ids=["score-function", "pathwise", "reinforce", "relaxed"],
)
def test_bad_sample_count_raises_a_clear_error(call: object, n: object) -> None:
    with pytest.raises(ValueError, match=r"n must be an int >= 1, got"):
        call(n)


@pytest.mark.parametrize(
    "call",
    [
        lambda f: score_function_gradients(f, 0.0, 1.0, 4),
        lambda f: pathwise_gradients(f, 0.0, 1.0, 4),
        lambda f: reinforce_gradients(f, THETA, 4),
        lambda f: relaxed_gradients(f, THETA, 1.0, 4),
        lambda f: exact_objective(f, THETA),
    ],
    ids=["score-function", "pathwise", "reinforce", "relaxed", "exact"],
)
@pytest.mark.parametrize(
    "f", [lambda y: y.sum(), lambda _: 1.0], ids=["wrong-shape", "not-a-tensor"]
)
def test_f_with_the_wrong_output_raises_a_clear_error(call: object, f: object) -> None:
    with pytest.raises(ValueError, match="f must return one value per sample"):
        call(f)


def test_gumbel_rejects_an_integer_dtype() -> None:
    with pytest.raises(TypeError, match=r"dtype must be a floating dtype, got torch\.int64"):
        gumbel((3,), dtype=torch.int64)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (torch.full((2,), 0.5), r"y must have K = 3 classes .* got \(2,\)"),
        (torch.tensor([0.0, 0.5, 0.5]), "y must be > 0, got min 0.0"),
        (torch.tensor([0.2, 0.2, 0.2]), "y must sum to 1"),
        (torch.tensor(1.0), "y must have K = 3 classes"),
    ],
    ids=["wrong-K", "zero-coordinate", "sum-0.6", "0-d"],
)
def test_points_outside_the_open_simplex_raise_a_clear_error(y: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        concrete_log_prob(y, THETA, 1.0)


def test_concrete_log_prob_rejects_integer_points() -> None:
    with pytest.raises(TypeError, match="y must have a floating dtype"):
        concrete_log_prob(torch.tensor([1, 0, 0]), THETA, 1.0)


P2 = torch.tensor([0.5, 0.5])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: chi_square_gof([5, 5], P2), TypeError, "counts must be a torch.Tensor"),
        (
            lambda: chi_square_gof(torch.tensor([[5, 5]]), P2),
            ValueError,
            r"counts must be 1-D with shape \(K\)",
        ),
        (
            lambda: chi_square_gof(torch.tensor([5, -1]), P2),
            ValueError,
            "counts must hold whole numbers >= 0, got -1.0",
        ),
        (
            lambda: chi_square_gof(torch.tensor([5, 5, 5]), P2),
            ValueError,
            "counts must have the shape of probs",
        ),
        (lambda: chi_square_gof(torch.tensor([0, 0]), P2), ValueError, "positive total, got shape"),
        (lambda: chi_square_gof(torch.tensor([5]), torch.tensor([1.0])), ValueError, "K >= 2"),
        (
            lambda: chi_square_gof(torch.tensor([5, 5]), torch.tensor([0.6, 0.6])),
            ValueError,
            "probs must sum to 1",
        ),
        (
            lambda: chi_square_homogeneity(torch.tensor([5, 5])),
            ValueError,
            r"counts must be 2-D with shape \(R, B\)",
        ),
        (lambda: chi_square_homogeneity(torch.tensor([[5, 5]])), ValueError, "at least 2 x 2"),
        (
            lambda: chi_square_homogeneity(torch.tensor([[5, 0], [5, 0]])),
            ValueError,
            "positive total in every row and column",
        ),
        (
            lambda: chi_square_homogeneity(torch.tensor([[5.0, float("nan")], [1.0, 1.0]])),
            ValueError,
            "counts must be finite",
        ),
    ],
    ids=[
        "gof-list",
        "gof-2d",
        "gof-negative",
        "gof-shape",
        "gof-empty",
        "gof-one-class",
        "gof-probs",
        "homogeneity-1d",
        "homogeneity-one-row",
        "homogeneity-empty-column",
        "homogeneity-nan",
    ],
)
def test_bad_counts_raise_a_clear_error(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# --- corrected statements (issue 10) ----------------------------------------------------------


def sine_variances(omega: float, mu: float, sigma: float) -> tuple[float, float, float]:
    """d/dmu E[sin(omega z)] and the per-sample variances of its PW and SF estimators."""
    damp = math.exp(-2 * omega**2 * sigma**2)
    grad = omega * math.cos(omega * mu) * math.exp(-(omega**2) * sigma**2 / 2)
    var_pw = omega**2 / 2 * (1 + math.cos(2 * omega * mu) * damp) - grad**2
    var_sf = (1 - math.cos(2 * omega * mu) * (1 - 4 * omega**2 * sigma**2) * damp) / (
        2 * sigma**2
    ) - grad**2
    return grad, var_pw, var_sf


@pytest.mark.parametrize(
    ("omega", "mu", "sigma"), [(10.0, 1.0, 1.0), (2.0, 0.3, 0.4), (1.0, -0.5, 1.5)], ids=str
)
def test_sine_variances_match_their_closed_forms(omega: float, mu: float, sigma: float) -> None:
    grad, var_pw, var_sf = sine_variances(omega, mu, sigma)

    def f(z: torch.Tensor) -> torch.Tensor:
        return torch.sin(omega * z)

    m, s = torch.tensor(mu, dtype=F64), torch.tensor(sigma, dtype=F64)
    pw = pathwise_gradients(f, m, s, 200_000, generator=gen(40))[0]
    sf = score_function_gradients(f, m, s, 200_000, generator=gen(40))[0]
    assert_mean(pw, grad)
    assert_mean(sf, grad)
    assert_mean((pw - grad) ** 2, var_pw)
    assert_mean((sf - grad) ** 2, var_sf)


def test_score_function_wins_by_omega_sigma_squared_for_a_fast_sine() -> None:
    # the pathwise estimator is not less noisy in general: sin(10 z), sigma = 1 -> SF 100x better
    _, var_pw, var_sf = sine_variances(10.0, 1.0, 1.0)
    assert var_pw / var_sf == pytest.approx(100.0, rel=1e-12)
    _, var_pw, var_sf = sine_variances(0.5, 1.0, 0.2)  # slow on the scale sigma: PW wins
    assert var_pw < var_sf


def test_score_function_is_wrong_when_the_support_moves_with_theta() -> None:
    # z ~ U(0, theta), f(z) = z: dL/dtheta = 1/2; the score estimate -z/theta has mean -1/2
    theta, n = 1.5, 100_000
    u = torch.rand(n, generator=gen(41), dtype=F64)
    theta_i = torch.full((n,), theta, dtype=F64, requires_grad=True)
    (pathwise,) = torch.autograd.grad((theta_i * u).sum(), theta_i)
    assert_mean(pathwise, 0.5)
    score = theta * u * (-1 / theta)
    se = float(score.std()) / n**0.5
    assert abs(float(score.mean()) - 0.5) > 5 * se
    assert_mean(score, -0.5)


def test_inverse_cdf_slope_is_minus_dF_dtheta_over_the_density() -> None:
    # exponential(rate): z = -log(1 - u) / rate, dz/drate = -(dF/drate) / p(z) = -z / rate
    u = torch.rand(1000, generator=gen(42), dtype=F64)
    rate = torch.full((1000,), 2.0, dtype=F64, requires_grad=True)
    z = -torch.log1p(-u) / rate
    (slope,) = torch.autograd.grad(z.sum(), rate)
    zd = z.detach()
    implicit = -(zd * torch.exp(-2.0 * zd)) / (2.0 * torch.exp(-2.0 * zd))
    torch.testing.assert_close(slope, implicit, rtol=1e-12, atol=1e-15)


def relaxed_mean_k2(p1: float, tau: float) -> float:
    """E[y~_1] for K = 2 by quadrature over the logistic difference of two Gumbels."""
    diff = torch.linspace(-40.0, 40.0, 160_001, dtype=F64)  # g_1 - g_2, standard logistic
    d = math.log(p1) - math.log(1 - p1)
    weight = torch.sigmoid(diff) * torch.sigmoid(-diff)
    return float(torch.trapezoid(torch.sigmoid((d + diff) / tau) * weight, diff))


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0], ids=str)
def test_relaxed_sample_mean_is_not_p_and_matches_quadrature(tau: float) -> None:
    theta = torch.log(torch.tensor([0.3, 0.7], dtype=F64))
    y = gumbel_softmax(theta.expand(100_000, 2), tau, generator=gen(43))[:, 0]
    assert_mean(y, relaxed_mean_k2(0.3, tau))
    se = float(y.std()) / 100_000**0.5
    assert abs(float(y.mean()) - 0.3) > 5 * se  # biased even for the linear f(y) = y_1


def test_relaxed_bias_grows_with_tau_and_vanishes_as_tau_falls() -> None:
    bias = [relaxed_mean_k2(0.3, tau) - 0.3 for tau in (0.05, 0.2, 1.0, 5.0, 50.0)]
    assert all(b2 > b1 for b1, b2 in itertools.pairwise(bias))
    assert abs(bias[0]) < 1e-3  # the limit p_1 as tau -> 0
    assert abs(bias[-1] - 0.2) < 0.01  # and 1/2 as tau -> inf


def test_straight_through_gradient_equals_soft_gradient_for_a_linear_loss_only() -> None:
    logits = torch.randn(32, 4, generator=gen(44), dtype=F64)
    w = torch.randn(32, 4, generator=gen(45), dtype=F64)

    def grad(loss, hard: bool) -> torch.Tensor:
        theta = logits.clone().requires_grad_()
        y = gumbel_softmax(theta, 0.7, hard=hard, generator=gen(46))
        return torch.autograd.grad(loss(y), theta)[0]

    def linear(y: torch.Tensor) -> torch.Tensor:
        return (w * y).sum()

    def quadratic(y: torch.Tensor) -> torch.Tensor:
        return ((y - 0.25) ** 2).sum()

    assert torch.equal(grad(linear, True), grad(linear, False))
    assert not torch.allclose(grad(quadratic, True), grad(quadratic, False))


def test_whole_vector_binning_tells_a_swap_of_the_smaller_coordinates() -> None:
    theta = torch.log(torch.tensor([0.2, 0.3, 0.5], dtype=F64))
    y = gumbel_softmax(theta.expand(50_000, 3), 0.5, generator=gen(47))
    ref = RelaxedOneHotCategorical(torch.tensor(0.5, dtype=F64), logits=theta)
    torch.manual_seed(48)
    y_ref = ref.sample((50_000,))
    order = y.argsort(-1)
    swapped = y.clone()
    swapped.scatter_(-1, order[:, :2], y.gather(-1, order[:, [1, 0]]))
    assert torch.equal(swapped.max(-1).values, y.max(-1).values)  # the largest is untouched
    edges = torch.tensor([0.001, 0.05, 0.3, 0.7, 0.95, 0.999], dtype=F64)

    def counts(a: torch.Tensor) -> torch.Tensor:
        c1 = torch.bucketize(a[:, 0].contiguous(), edges)
        c2 = torch.bucketize(a[:, 1].contiguous(), edges)
        return torch.bincount(c1 * 7 + c2, minlength=49)

    def p_value(a: torch.Tensor) -> float:
        table = torch.stack([counts(a), counts(y_ref)])
        keep = table.sum(0) >= 20
        return chi_square_homogeneity(table[:, keep])[1]

    assert p_value(y) > 1e-3
    assert p_value(swapped) < 1e-3
