"""Tests of notes.diffusion: each named after the claim it checks, against closed forms and autograd."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notes.attention import attention_logits
from notes.diffusion import (
    Denoiser,
    GaussianMixture,
    alpha_bar,
    classifier_free_guidance,
    classifier_guidance,
    cosine_betas,
    ddim_sample,
    ddim_step,
    ddpm_sample,
    ddpm_to_edm,
    edm_sample,
    edm_sigmas,
    edm_to_ddpm,
    edm_to_flow,
    eps_to_score,
    eps_to_v,
    eps_to_x0,
    fit_denoiser,
    flow_to_edm,
    linear_betas,
    mixture,
    mixture_eps,
    ode_sample,
    posterior,
    precondition,
    q_sample,
    score_to_eps,
    simulate_chain,
    snr,
    timesteps,
    tweedie,
    v_target,
    v_to_eps,
    vp_reverse_sample,
    vp_schedule,
    x0_to_eps,
)

D = torch.float64


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def three_modes():
    return mixture(
        torch.tensor([0.3, 0.3, 0.4], dtype=D),
        torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], dtype=D),
        torch.stack(
            [
                torch.diag(torch.tensor([0.3, 0.1], dtype=D)),
                torch.diag(torch.tensor([0.1, 0.3], dtype=D)),
                torch.tensor([[0.2, 0.1], [0.1, 0.2]], dtype=D),
            ]
        ),
        torch.tensor([0, 0, 1]),
    )


def five_se(x: torch.Tensor) -> float:
    return 5 * float(x.std()) / math.sqrt(x.numel())


# --- the forward chain and the posterior ------------------------------------------------------
@pytest.mark.parametrize("schedule", [linear_betas, cosine_betas], ids=["linear", "cosine"])
def test_chain_matches_closed_form_marginal(schedule):
    betas = schedule(200)
    abar = alpha_bar(betas)
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((20_000, 1), 1.2, dtype=D)
    t = 120
    xt = simulate_chain(x0, betas, t, generator=g)[:, 0]
    mu = 1.2 * float(abar[t]).__pow__(0.5)
    assert abs(float(xt.mean()) - mu) < five_se(xt)
    dev = (xt - mu) ** 2
    assert abs(float(dev.mean()) - (1 - float(abar[t]))) < five_se(dev)


def test_posterior_equals_product_of_gaussians():
    betas = linear_betas(100)
    abar = alpha_bar(betas)
    x0, xt = torch.tensor([0.4, -1.0], dtype=D), torch.tensor([1.1, 0.2], dtype=D)
    for t in (1, 50, 99):
        b, a_prev = betas[t], abar[t - 1]
        # q(x_t | x_{t-1}) N(sqrt(1-b) x_{t-1}, b) times q(x_{t-1} | x_0) N(sqrt(a_prev) x0, 1 - a_prev)
        precision = (1 - b) / b + 1 / (1 - a_prev)
        mean = ((1 - b).sqrt() * xt / b + a_prev.sqrt() * x0 / (1 - a_prev)) / precision
        mu, var = posterior(x0, xt, t, betas)
        torch.testing.assert_close(mu, mean, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(var, 1 / precision, rtol=1e-12, atol=1e-12)


def test_parameterisations_invert_each_other():
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(50, 2, generator=g, dtype=D), torch.randn(50, 2, generator=g, dtype=D)
    a = 0.37
    xt = q_sample(x0, a, eps)
    torch.testing.assert_close(eps_to_x0(xt, eps, a), x0)
    torch.testing.assert_close(x0_to_eps(xt, x0, a), eps)
    torch.testing.assert_close(score_to_eps(eps_to_score(eps, a), a), eps)
    v = v_target(x0, eps, a)
    torch.testing.assert_close(v_to_eps(xt, v, a), eps)
    torch.testing.assert_close(eps_to_v(xt, eps, a), v)


def test_tweedie_equals_exact_posterior_mean():
    m = three_modes()
    abar = alpha_bar(linear_betas(1000))
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(2), dtype=D) * 2
    for t in (10, 400, 900):
        a = float(abar[t])
        s, sigma = a**0.5, ((1 - a) / a) ** 0.5
        torch.testing.assert_close(tweedie(x, m.score(x, s, sigma), a), m.denoise(x, s, sigma))


def test_snr_of_cosine_schedule_decreases():
    r = snr(alpha_bar(cosine_betas(1000)))
    assert bool((r[1:] < r[:-1]).all())


# --- the testbed ----------------------------------------------------------------------------
@st.composite
def mixtures(draw):
    k = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 10_000))
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(k, generator=g, dtype=D) + 0.1
    means = torch.randn(k, d, generator=g, dtype=D) * 2
    a = torch.randn(k, d, d, generator=g, dtype=D)
    covs = a @ a.mT + 0.1 * torch.eye(d, dtype=D)
    return mixture(w / w.sum(), means, covs), g


@settings(max_examples=40, deadline=None)
@given(mixtures(), st.floats(0.05, 1.0), st.floats(0.0, 5.0))
def test_score_equals_autograd_of_log_density(mg, s, sigma):
    m, g = mg
    x = (torch.randn(7, m.means.shape[1], generator=g, dtype=D) * 2).requires_grad_(True)
    (auto,) = torch.autograd.grad(m.log_prob(x, s, sigma).sum(), x)
    torch.testing.assert_close(m.score(x, s, sigma), auto, rtol=1e-9, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(mixtures(), st.floats(0.05, 1.0), st.floats(0.01, 5.0))
def test_denoiser_is_tweedie_in_edm_form(mg, s, sigma):
    m, g = mg
    x = torch.randn(5, m.means.shape[1], generator=g, dtype=D)
    via_score = (x + s**2 * sigma**2 * m.score(x, s, sigma)) / s
    torch.testing.assert_close(m.denoise(x, s, sigma), via_score, rtol=1e-8, atol=1e-8)


def test_log_density_matches_torch_distributions():
    m = three_modes()
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(3), dtype=D)
    s, sigma = 0.7, 0.4
    comps = torch.distributions.MultivariateNormal(
        s * m.means, covariance_matrix=s**2 * (m.covs + sigma**2 * torch.eye(2, dtype=D))
    )
    ref = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(m.weights), comps)
    torch.testing.assert_close(m.log_prob(x, s, sigma), ref.log_prob(x))


# --- samplers -------------------------------------------------------------------------------
def test_ddim_eta0_is_euler_step_in_scaled_variables():
    m = three_modes()
    abar = alpha_bar(linear_betas(1000))
    eps_model = mixture_eps(m, abar)
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(4), dtype=D)
    a_t, a_p = float(abar[700]), float(abar[500])
    e = eps_model(x, 700)
    sig = lambda a: ((1 - a) / a) ** 0.5
    euler = (x / a_t**0.5 + (sig(a_p) - sig(a_t)) * e) * a_p**0.5
    torch.testing.assert_close(ddim_step(x, e, a_t, a_p, 0.0, None), euler, rtol=0, atol=1e-12)


def test_ddim_eta1_is_ddpm_ancestral():
    m = three_modes()
    abar = alpha_bar(linear_betas(1000))
    eps_model = mixture_eps(m, abar)
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(5), dtype=D)
    ts = timesteps(1000, 10)
    a = ddim_sample(eps_model, abar, ts, x, eta=1.0, generator=torch.Generator().manual_seed(6))
    b = ddpm_sample(eps_model, abar, ts, x, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0], ids=["eta0", "eta0.5", "eta1"])
def test_ddim_step_keeps_the_marginal(eta):
    abar = alpha_bar(linear_betas(1000))
    a_t, a_p = float(abar[600]), float(abar[300])
    g = torch.Generator().manual_seed(7)
    n = 50_000
    eps = torch.randn(n, 1, generator=g, dtype=D)
    xt = a_t**0.5 * 0.5 + (1 - a_t) ** 0.5 * eps
    out = ddim_step(xt, eps, a_t, a_p, eta, torch.randn(n, 1, generator=g, dtype=D))[:, 0]
    dev = (out - a_p**0.5 * 0.5) ** 2
    assert abs(float(out.mean()) - a_p**0.5 * 0.5) < five_se(out)
    assert abs(float(dev.mean()) - (1 - a_p)) < five_se(dev)


@pytest.mark.parametrize("n", [1, 5, 10, 50, 333, 1000], ids=lambda n: f"n{n}")
def test_trailing_and_linspace_start_at_last_training_step(n):
    for spacing in ("trailing", "linspace"):
        ts = timesteps(1000, n, spacing)
        assert int(ts[0]) == 999
        assert ts.numel() == n
        assert bool((ts[1:] < ts[:-1]).all())
    lead = timesteps(1000, n, "leading")
    assert int(lead[0]) == (n - 1) * (1000 // n)
    assert int(lead[-1]) == 0


def test_exact_sde_and_ode_recover_the_data_moments():
    m = mixture(
        torch.tensor([0.3, 0.7], dtype=D),
        torch.tensor([[-2.0], [1.5]], dtype=D),
        torch.tensor([[[0.1]], [[0.3]]], dtype=D),
    )

    def score(x, t):
        _, a = vp_schedule(t)
        return m.score(x, a**0.5, ((1 - a) / a) ** 0.5)

    g = torch.Generator().manual_seed(8)
    x1 = torch.randn(4000, 1, generator=g, dtype=D)
    m2 = float((m.weights * (m.means[:, 0] ** 2 + m.covs[:, 0, 0])).sum())
    for ode in (True, False):
        out = vp_reverse_sample(score, x1, 200, ode=ode, generator=g)[:, 0] ** 2
        assert abs(float(out.mean()) - m2) < five_se(out)


def test_euler_first_and_heun_second_order():
    m = three_modes()
    den = lambda x, s: m.denoise(x, 1.0, s)
    e = torch.randn(100, 2, generator=torch.Generator().manual_seed(9), dtype=D)
    ref = edm_sample(den, e, 256)
    ns = (16, 32, 64)
    for method, order in (("euler", 1.0), ("heun", 2.0)):
        err = [float((edm_sample(den, e, k, method=method) - ref).norm(dim=1).mean()) for k in ns]
        slope = -np.polyfit(np.log(ns), np.log(err), 1)[0]
        assert abs(slope - order) < 0.3


def test_rho7_beats_uniform_at_equal_evaluations():
    m = three_modes()
    den = lambda x, s: m.denoise(x, 1.0, s)
    e = torch.randn(100, 2, generator=torch.Generator().manual_seed(10), dtype=D)
    ref = edm_sample(den, e, 256)
    err7 = (edm_sample(den, e, 32) - ref).norm(dim=1).mean()
    err1 = (edm_sample(den, e, 32, rho=1.0) - ref).norm(dim=1).mean()
    assert err7 < 0.1 * err1


def test_edm_sigmas_endpoints_and_uniform_case():
    s = edm_sigmas(10, 0.002, 80.0, 7.0)
    torch.testing.assert_close(s[[0, 9, 10]], torch.tensor([80.0, 0.002, 0.0], dtype=D))
    torch.testing.assert_close(edm_sigmas(5, 1.0, 5.0, 1.0)[:-1], torch.linspace(5, 1, 5, dtype=D))


def test_three_families_map_onto_each_other():
    abar = alpha_bar(linear_betas(1000))
    s, sigma = ddpm_to_edm(abar)
    torch.testing.assert_close(edm_to_ddpm(s, sigma), abar)
    torch.testing.assert_close(s**2 * (1 + sigma**2), torch.ones_like(s))
    t = torch.linspace(0, 0.99, 50, dtype=D)
    sf, sigf = flow_to_edm(t)
    torch.testing.assert_close(edm_to_flow(sigf), t)
    x0, eps = torch.tensor(0.3, dtype=D), torch.tensor(-1.1, dtype=D)
    torch.testing.assert_close(sf * (x0 + sigf * eps), (1 - t) * x0 + t * eps)


@pytest.mark.parametrize("sigma", [0.002, 0.5, 80.0], ids=["small", "mid", "large"])
def test_preconditioned_target_has_unit_variance(sigma):
    sd = 0.5
    c_skip, c_out, c_in, _ = precondition(torch.tensor(sigma, dtype=D), sd)
    var = (
        (1 - c_skip) ** 2 * sd**2 + c_skip**2 * sigma**2
    ) / c_out**2  # Var[(x0 - c_skip y)/c_out]
    torch.testing.assert_close(var, torch.tensor(1.0, dtype=D))
    torch.testing.assert_close(c_in**2 * (sd**2 + sigma**2), torch.tensor(1.0, dtype=D))


def test_ode_sample_heun_skips_correction_at_zero():
    calls = []

    def den(x, s):
        calls.append(s)
        return x / (1 + s**2)

    ode_sample(den, torch.ones(1, 1, dtype=D), edm_sigmas(4), method="heun")
    assert len(calls) == 2 * 4 - 1


# --- guidance --------------------------------------------------------------------------------
def test_guidance_at_scale_one_is_the_conditional_score():
    m = three_modes()
    x = torch.randn(40, 2, generator=torch.Generator().manual_seed(11), dtype=D).requires_grad_(
        True
    )
    (grad_y,) = torch.autograd.grad(m.class_log_prob(x, 1, 1.0, 0.8).sum(), x)
    uncond = m.score(x, 1.0, 0.8).detach()
    cond = m.condition(1).score(x, 1.0, 0.8).detach()
    torch.testing.assert_close(classifier_guidance(uncond, grad_y, 1.0), cond)
    torch.testing.assert_close(classifier_free_guidance(uncond, cond, 1.0), cond)
    torch.testing.assert_close(
        classifier_free_guidance(uncond, cond, 4.0), classifier_guidance(uncond, grad_y, 4.0)
    )


# --- latent diffusion and QK-normalisation (edm page) -----------------------------------------
@pytest.mark.parametrize("t", [100, 300, 600], ids=lambda t: f"t={t}")
def test_latent_scaling_factor_keeps_the_unit_second_moment(t):
    data = three_modes()
    g = torch.Generator().manual_seed(21)
    q, _ = torch.linalg.qr(torch.randn(2, 2, generator=g, dtype=D))
    c, n = 5.0, 20_000
    x0, _ = data.sample(n, generator=g)
    m_closed = (
        c**2
        * float(
            (
                data.weights
                * ((data.means**2).sum(-1) + data.covs.diagonal(dim1=-2, dim2=-1).sum(-1))
            ).sum()
        )
        / 2
    )
    abar = alpha_bar(linear_betas(1000))
    moment = lambda f: (
        (
            abar[t].sqrt() * f * c * x0 @ q.T
            + (1 - abar[t]).sqrt() * torch.randn(n, 2, generator=g, dtype=D)
        )
        ** 2
    ).mean(-1)
    scaled, unscaled = moment(m_closed**-0.5), moment(1.0)
    se = float(scaled.std()) / n**0.5
    assert abs(float(scaled.mean()) - 1.0) < 5 * se
    expected_unscaled = float(abar[t]) * m_closed + 1 - float(abar[t])  # the closed form
    assert abs(float(unscaled.mean()) - expected_unscaled) < 5 * float(unscaled.std()) / n**0.5
    assert abs(float(unscaled.mean()) - 1.0) > 5 * float(unscaled.std()) / n**0.5


@pytest.mark.parametrize("lam", [0.5, 2.0, 8.0], ids=lambda v: f"lambda={v}")
def test_qk_normalised_logits_ignore_weight_growth_and_stay_within_sqrt_d(lam):
    g = torch.Generator().manual_seed(22)
    dim = 32
    x = torch.randn(10, dim, generator=g, dtype=D)
    wq, wk = (torch.randn(dim, dim, generator=g, dtype=D) / dim**0.5 for _ in range(2))
    rms = lambda v: v * dim**0.5 / v.norm(dim=-1, keepdim=True)
    plain = lambda a: attention_logits(x @ (a * wq).T, x @ (a * wk).T)
    normed = lambda a: attention_logits(rms(x @ (a * wq).T), rms(x @ (a * wk).T))
    torch.testing.assert_close(plain(lam), lam**2 * plain(1.0), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(normed(lam), normed(1.0), rtol=1e-12, atol=1e-12)
    assert float(normed(lam).abs().max()) <= dim**0.5 * (1 + 1e-12)
    # the bound is attained for a query parallel to its key (cosine 1)
    same = attention_logits(rms(x[:1]), rms(x[:1]))
    torch.testing.assert_close(same, torch.full((1, 1), dim**0.5, dtype=D), rtol=1e-12, atol=0)


# --- the trained model -----------------------------------------------------------------------
@pytest.mark.parametrize("target", ["eps", "v"])
def test_training_is_deterministic_and_lowers_the_loss(target):
    abar = alpha_bar(linear_betas(100))
    x0, _ = three_modes().sample(1000, generator=torch.Generator().manual_seed(12))
    runs = []
    for _ in range(2):
        net = Denoiser(2, 100, target, abar, hidden=16, generator=torch.Generator().manual_seed(13))
        runs.append(fit_denoiser(net, x0, steps=150, generator=torch.Generator().manual_seed(14)))
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)
    assert float(runs[0][-30:].mean()) < float(runs[0][:30].mean())


def test_cosine_schedule_starts_at_the_peak_rate_then_lowers_it_deterministically():
    abar = alpha_bar(linear_betas(100))
    x0, _ = three_modes().sample(500, generator=torch.Generator().manual_seed(12))
    steps, lr = 40, 1e-2
    runs = []
    for _ in range(2):
        net = Denoiser(2, 100, "eps", abar, hidden=16, generator=torch.Generator().manual_seed(13))
        g = torch.Generator().manual_seed(14)
        runs.append(fit_denoiser(net, x0, steps=steps, lr=lr, schedule="cosine", generator=g))
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)
    # step 0 runs at the peak lr = (1 + cos 0) / 2 * lr, so the first two losses match the
    # constant schedule's exactly; from step 1 on the rate is lower and the runs part
    constant = Denoiser(2, 100, "eps", abar, hidden=16, generator=torch.Generator().manual_seed(13))
    other = fit_denoiser(
        constant, x0, steps=steps, lr=lr, generator=torch.Generator().manual_seed(14)
    )
    torch.testing.assert_close(other[:2], runs[0][:2], rtol=0, atol=0)
    assert not torch.equal(other[2:], runs[0][2:])


def test_v_network_returns_the_converted_eps():
    abar = alpha_bar(linear_betas(100))
    net = Denoiser(2, 100, "v", abar, generator=torch.Generator().manual_seed(15))
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(16))
    with torch.no_grad():
        v = net(x, torch.full((6,), 40, dtype=torch.long))
    torch.testing.assert_close(net.eps(x, 40), v_to_eps(x, v, abar[40]).float())


# --- bad inputs ------------------------------------------------------------------------------
def _mix_args():
    return (
        torch.tensor([0.5, 0.5], dtype=D),
        torch.zeros(2, 1, dtype=D),
        torch.ones(2, 1, 1, dtype=D),
    )


ABAR = alpha_bar(linear_betas(100))
EPS0 = lambda x, _t: torch.zeros_like(x)
X = torch.zeros(3, 2, dtype=D)

BAD = [
    (
        "weights not summing to 1",
        lambda: mixture(torch.tensor([0.5, 0.6], dtype=D), *_mix_args()[1:]),
        ValueError,
        "weights must sum to 1",
    ),
    (
        "negative weight",
        lambda: mixture(torch.tensor([1.5, -0.5], dtype=D), *_mix_args()[1:]),
        ValueError,
        "weights must lie in [0, 1]",
    ),
    (
        "covariance not PD",
        lambda: mixture(*_mix_args()[:2], torch.tensor([[[1.0]], [[-1.0]]], dtype=D)),
        ValueError,
        "covs must be positive definite",
    ),
    (
        "covariance not symmetric",
        lambda: mixture(
            torch.ones(1, dtype=D),
            torch.zeros(1, 2, dtype=D),
            torch.tensor([[[1.0, 0.5], [0.0, 1.0]]], dtype=D),
        ),
        ValueError,
        "covs must be symmetric",
    ),
    (
        "means of wrong K",
        lambda: mixture(_mix_args()[0], torch.zeros(3, 1, dtype=D), _mix_args()[2]),
        ValueError,
        "means must have K = 2",
    ),
    (
        "labels wrong",
        lambda: mixture(*_mix_args(), labels=torch.tensor([0.0, 1.0])),
        ValueError,
        "labels must be an int64 tensor",
    ),
    (
        "timestep beyond the schedule",
        lambda: ddim_sample(EPS0, ABAR, torch.tensor([100, 50]), X),
        ValueError,
        "timesteps must lie in [0, 99]",
    ),
    (
        "negative timestep",
        lambda: ddpm_sample(EPS0, ABAR, torch.tensor([50, -1]), X),
        ValueError,
        "timesteps must lie in [0, 99]",
    ),
    (
        "timesteps not decreasing",
        lambda: ddim_sample(EPS0, ABAR, torch.tensor([10, 50]), X),
        ValueError,
        "strictly decreasing",
    ),
    (
        "posterior t outside",
        lambda: posterior(X, X, 100, linear_betas(100)),
        ValueError,
        "t must be an int <= 99",
    ),
    (
        "posterior at t = 0",
        lambda: posterior(X, X, 0, linear_betas(100)),
        ValueError,
        "t must be an int >= 1",
    ),
    (
        "chain t outside",
        lambda: simulate_chain(X, linear_betas(10), 10),
        ValueError,
        "t must be an int <= 9",
    ),
    ("vp time outside [0, 1]", lambda: vp_schedule(1.5), ValueError, "t must be <= 1"),
    ("zero sampling steps", lambda: timesteps(1000, 0), ValueError, "n must be an int >= 1"),
    ("more steps than T", lambda: timesteps(10, 11), ValueError, "n must be an int <= 10"),
    (
        "unknown spacing",
        lambda: timesteps(1000, 10, "uniform"),
        ValueError,
        "spacing must be one of",
    ),
    (
        "zero SDE steps",
        lambda: vp_reverse_sample(lambda x, _t: x, X, 0),
        ValueError,
        "steps must be an int >= 1",
    ),
    (
        "one EDM step",
        lambda: edm_sample(lambda x, _s: x, X, 1),
        ValueError,
        "n must be an int >= 2",
    ),
    (
        "zero training steps",
        lambda: fit_denoiser(Denoiser(2, 100, "eps", ABAR), X.float(), steps=0),
        ValueError,
        "steps must be an int >= 1",
    ),
    (
        "unknown learning-rate schedule",
        lambda: fit_denoiser(Denoiser(2, 100, "eps", ABAR), X.float(), steps=2, schedule="linear"),
        ValueError,
        "schedule must be one of 'constant', 'cosine', got 'linear'",
    ),
    (
        "negative eta (sampler)",
        lambda: ddim_sample(EPS0, ABAR, timesteps(100, 5), X, eta=-0.1),
        ValueError,
        "eta must be >= 0",
    ),
    (
        "negative eta (step)",
        lambda: ddim_step(X, X, 0.5, 0.9, -1.0, None),
        ValueError,
        "eta must be >= 0",
    ),
    (
        "eta > 0 without noise",
        lambda: ddim_step(X, X, 0.5, 0.9, 0.5, None),
        ValueError,
        "noise must be given",
    ),
    (
        "guidance shapes differ",
        lambda: classifier_free_guidance(torch.zeros(3, 2), torch.zeros(3, 1), 2.0),
        ValueError,
        "cond must have the shape of uncond",
    ),
    (
        "classifier grad shape differs",
        lambda: classifier_guidance(torch.zeros(3, 2), torch.zeros(2, 2), 2.0),
        ValueError,
        "class_grad must have the shape of score",
    ),
    (
        "infinite guidance scale",
        lambda: classifier_free_guidance(torch.zeros(1), torch.zeros(1), math.inf),
        ValueError,
        "scale must be finite",
    ),
    (
        "unknown ODE method",
        lambda: ode_sample(lambda x, _s: x, X, edm_sigmas(3), method="rk4"),
        ValueError,
        "method must be one of",
    ),
    (
        "increasing sigmas",
        lambda: ode_sample(lambda x, _s: x, X, torch.tensor([1.0, 2.0], dtype=D)),
        ValueError,
        "strictly decreasing",
    ),
    ("rho not positive", lambda: edm_sigmas(5, rho=0.0), ValueError, "rho must be > 0"),
    (
        "sigma_max below sigma_min",
        lambda: edm_sigmas(5, 1.0, 0.5),
        ValueError,
        "sigma_max must be > 1",
    ),
    (
        "abar outside (0, 1]",
        lambda: ddpm_to_edm(torch.tensor([0.0, 0.5])),
        ValueError,
        "abar must lie in (0, 1]",
    ),
    (
        "not variance preserving",
        lambda: edm_to_ddpm(torch.tensor(1.0), torch.tensor(1.0)),
        ValueError,
        "variance preserving",
    ),
    (
        "flow time at 1",
        lambda: flow_to_edm(torch.tensor([1.0])),
        ValueError,
        "t must lie in [0, 1)",
    ),
    ("unknown target", lambda: Denoiser(2, 100, "x0", ABAR), ValueError, "target must be one of"),
    (
        "wrong data dimension",
        lambda: three_modes().score(torch.zeros(4, 3, dtype=D)),
        ValueError,
        "x must have D = 2",
    ),
    ("unknown label", lambda: three_modes().condition(5), ValueError, "label must be one of"),
    (
        "precondition at sigma 0",
        lambda: precondition(torch.tensor(0.0)),
        ValueError,
        "sigma must be > 0",
    ),
    (
        "betas above 1",
        lambda: alpha_bar(torch.tensor([0.5, 1.5])),
        ValueError,
        "betas must lie in (0, 1]",
    ),
    (
        "not a generator",
        lambda: simulate_chain(X, linear_betas(10), 3, generator=0),
        TypeError,
        "generator must be a torch.Generator",
    ),
    (
        "conversion of tensors of two shapes",
        lambda: eps_to_x0(X, X[:, :1], 0.5),
        ValueError,
        "eps must have the shape of xt (3, 2), got (3, 1)",
    ),
    ("abar_t a string", lambda: v_target(X, X, "0.5"), TypeError, "abar_t must be a real number"),
    ("abar_t NaN", lambda: q_sample(X, math.nan, X), ValueError, "abar_t must be finite"),
    ("DDIM a_t = 0", lambda: ddim_step(X, X, 0.0, 0.5, 0.0, None), ValueError, "a_t must be > 0"),
    (
        "DDIM noise of another shape",
        lambda: ddim_step(X, X, 0.25, 0.5, 0.5, X[:2]),
        ValueError,
        "noise must have the shape of x (3, 2), got (2, 2)",
    ),
    ("timesteps a list", lambda: ddim_sample(EPS0, ABAR, [9, 5], X), ValueError, "ts must be"),
    (
        "noise model returning a scalar",
        lambda: ddpm_sample(lambda *_: torch.zeros(()), ABAR, timesteps(100, 3), X),
        ValueError,
        "eps_model must return a tensor of shape (3, 2), got ()",
    ),
    (
        "trajectory not a bool",
        lambda: ode_sample(lambda x, _s: x, X, torch.tensor([1.0, 0.0], dtype=D), trajectory=1),
        TypeError,
        "trajectory must be a bool",
    ),
    ("mixture_eps of a tensor", lambda: mixture_eps(X, ABAR), TypeError, "m must be a"),
    (
        "mixture built directly with weights off 1",
        lambda: GaussianMixture(
            torch.tensor([0.5, 0.6], dtype=D), *_mix_args()[1:], torch.zeros(2, dtype=torch.long)
        ),
        ValueError,
        "weights must sum to 1",
    ),
    (
        "label a bool",
        lambda: mixture(*_mix_args()).condition(True),
        TypeError,
        "label must be an int",
    ),
    (
        "denoiser times of a float dtype",
        lambda: Denoiser(2, 100, "eps", ABAR.float())(X.float(), torch.zeros(3)),
        TypeError,
        "t must have an integer dtype",
    ),
    (
        "denoiser time beyond T",
        lambda: Denoiser(2, 100, "eps", ABAR.float()).eps(X.float(), 100),
        ValueError,
        "t must be an int <= 99",
    ),
    ("fit a non-denoiser", lambda: fit_denoiser(None, X, steps=1), TypeError, "net must be a"),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_inputs_raise_naming_the_rule(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def _two_classes():
    return mixture(
        torch.tensor([0.5, 0.25, 0.25], dtype=D),
        torch.tensor([[-1.0], [0.5], [2.0]], dtype=D),
        torch.tensor([[[0.6]], [[0.3]], [[0.3]]], dtype=D),
        torch.tensor([0, 1, 1]),
    )


def _guided(m, scale, eps):
    cond = m.condition(1)

    def den(y, sigma):
        return classifier_free_guidance(
            m.denoise(y, 1.0, sigma), cond.denoise(y, 1.0, sigma), scale
        )

    return edm_sample(den, eps, 16, sigma_max=40.0)[:, 0]


def test_guidance_raises_class_probability():
    m = _two_classes()
    eps = torch.randn(2000, 1, generator=torch.Generator().manual_seed(17), dtype=D)
    p1 = m.class_log_prob(_guided(m, 1.0, eps)[:, None], 1).exp()
    p3 = m.class_log_prob(_guided(m, 3.0, eps)[:, None], 1).exp()
    se = float((p1.var() / p1.numel() + p3.var() / p3.numel()) ** 0.5)
    assert float(p3.mean() - p1.mean()) > 5 * se


def test_guided_samples_are_not_the_tilted_density():
    m = _two_classes()
    eps = torch.randn(2000, 1, generator=torch.Generator().manual_seed(18), dtype=D)
    x = _guided(m, 3.0, eps)
    grid = torch.linspace(-6, 8, 4001, dtype=D)[:, None]
    w = torch.softmax(3.0 * m.condition(1).log_prob(grid) - 2.0 * m.log_prob(grid), 0)
    tilted_mean = float((w * grid[:, 0]).sum())
    assert abs(float(x.mean()) - tilted_mean) > 5 * float(x.std()) / x.numel() ** 0.5


def test_probability_flow_solves_the_continuity_equation():
    m = mixture(
        torch.tensor([0.3, 0.7], dtype=D),
        torch.tensor([[-2.0], [1.5]], dtype=D),
        torch.tensor([[[0.1]], [[0.3]]], dtype=D),
    )

    def marginal(t):
        _, a = vp_schedule(t)
        return a**0.5, ((1 - a) / a) ** 0.5

    t, h = 0.3, 1e-4
    x = torch.linspace(-4, 4, 101, dtype=D)[:, None]
    dp = (m.log_prob(x, *marginal(t + h)).exp() - m.log_prob(x, *marginal(t - h)).exp()) / (2 * h)
    x.requires_grad_(True)
    beta, _ = vp_schedule(t)
    u = -0.5 * beta * (x + m.score(x, *marginal(t)))  # the probability-flow velocity
    (div,) = torch.autograd.grad((u[:, 0] * m.log_prob(x, *marginal(t)).exp()).sum(), x)
    assert float((dp + div[:, 0]).abs().max()) < 1e-5 * float(dp.abs().max())
