"""Continuous flows (traces, ODE solvers, the CNF log-density) and flow matching."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd.functional import jacobian
from torch.distributions import MultivariateNormal

from notes.flows import (
    VelocityField,
    cnf_log_prob,
    divergence,
    energy_distance,
    euler_sample,
    exact_trace,
    fit_flow_matching,
    flow_matching_loss,
    gaussian_velocity,
    hutchinson_trace,
    odeint,
    rademacher,
    sample_time,
    straight_path,
    straightness,
)


def _field(dim: int, seed: int) -> VelocityField:
    g = torch.Generator().manual_seed(seed)
    v = VelocityField(dim, (16, 16), generator=g).double()
    with torch.no_grad():  # the last layer starts at zero: move it
        for p in v.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return v


@given(dim=st.integers(1, 5), seed=st.integers(0, 2**16))
@settings(max_examples=10, deadline=None, derandomize=True)
def test_exact_trace_equals_the_trace_of_autograds_jacobian(dim: int, seed: int):
    v = _field(dim, seed)
    z = torch.randn(3, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    t = torch.tensor(0.3, dtype=torch.float64)
    _, div = divergence(v, z, t)
    expected = torch.stack(
        [torch.trace(jacobian(lambda row: v(row.unsqueeze(0), t).squeeze(0), row)) for row in z]
    )
    torch.testing.assert_close(div, expected)


def _matrix() -> torch.Tensor:
    return torch.tensor([[0.5, 2.0, 0.0], [-1.0, -0.2, 0.3], [0.4, 0.0, 1.0]], dtype=torch.float64)


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"], ids=["rademacher", "gaussian"])
def test_hutchinson_is_unbiased_with_the_closed_form_variance(probe: str):
    # For J = A: E[eps^T A eps] = tr A; Var = 2 |A_s|_F^2 for Gaussian probes and
    # 2 (|A_s|_F^2 - sum_i A_ii^2) for Rademacher ones, with A_s = (A + A^T) / 2.
    a = _matrix()
    n = 100_000
    g = torch.Generator().manual_seed(0)
    z = torch.zeros(n, 3, dtype=torch.float64, requires_grad=True)
    v = (z + 1) @ a.T
    eps = (
        rademacher((n, 3), generator=g).double()
        if probe == "rademacher"
        else torch.randn(n, 3, generator=g, dtype=torch.float64)
    )
    estimates = hutchinson_trace(v, z, eps)
    sym = (a + a.T) / 2
    var = 2 * float((sym**2).sum()) - (
        2 * float((a.diagonal() ** 2).sum()) if probe == "rademacher" else 0
    )
    se = math.sqrt(var / n)
    assert abs(float(estimates.mean()) - float(torch.trace(a))) < 5 * se
    # the sample variance of (eps^T A eps) has a relative standard error below 2 % at this n
    assert abs(float(estimates.var()) / var - 1) < 0.05


def test_exact_trace_of_a_linear_field_is_the_matrix_trace():
    z = torch.randn(
        4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64, requires_grad=True
    )
    torch.testing.assert_close(
        exact_trace(z @ _matrix().T, z),
        torch.full((4,), float(torch.trace(_matrix())), dtype=torch.float64),
    )


def test_cnf_log_prob_of_a_linear_field_matches_the_gaussian_it_defines():
    # v(z) = A z carries x at t = 0 to e^A x at t = 1 ~ N(0, I), so x ~ N(0, e^-A e^-A^T).
    a = _matrix() / 2
    inverse = torch.linalg.matrix_exp(-a)
    truth = MultivariateNormal(
        torch.zeros(3, dtype=torch.float64), covariance_matrix=inverse @ inverse.T
    )
    x = truth.sample((50,))
    lp = cnf_log_prob(lambda z, _t: z @ a.T, x, steps=32)
    # RK4's global error is O(h^4 |A|^5): about 1e-7 here.
    torch.testing.assert_close(lp, truth.log_prob(x), rtol=0, atol=1e-6)


def test_cnf_hutchinson_log_prob_is_an_unbiased_estimate_of_the_exact_one():
    v = _field(2, 3)
    x = torch.randn(1, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64).expand(
        4000, 2
    )
    exact = cnf_log_prob(v, x[:1], steps=8)
    estimates = cnf_log_prob(
        v, x, steps=8, method="hutchinson", generator=torch.Generator().manual_seed(5)
    )
    se = float(estimates.std()) / math.sqrt(len(estimates))
    assert abs(float(estimates.mean() - exact)) < 5 * se


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("rk4", 4)], ids=["euler", "rk4"])
def test_ode_solver_has_its_order_of_accuracy(method: str, order: int):
    # dz/dt = -z: z(1) = e^-1. Halving the step divides the global error by 2^order.
    z0 = torch.ones(1, 1, dtype=torch.float64)
    errors = [
        float(
            (
                odeint(lambda z, _t: -z, z0, t0=0.0, t1=1.0, steps=k, method=method)[-1]
                - math.exp(-1)
            ).abs()
        )
        for k in (16, 32)
    ]  # type: ignore[arg-type]
    assert errors[0] / errors[1] == pytest.approx(2**order, rel=0.1)


def test_velocity_field_takes_per_sample_times():
    v = _field(2, 6)
    z = torch.randn(3, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    rows = torch.cat([v(z[i : i + 1], t[i]) for i in range(3)])
    torch.testing.assert_close(v(z, t), rows)


def test_straight_path_ends_at_data_and_noise():
    x0, eps = torch.zeros(2, 2), torch.ones(2, 2)
    assert torch.equal(straight_path(x0, eps, torch.zeros(2))[0], x0)
    assert torch.equal(straight_path(x0, eps, torch.ones(2))[0], eps)


def test_gaussian_velocity_transports_noise_to_the_data_gaussian():
    # The ODE of the exact field is the monotone map eps -> m + s eps (RK4, 200 steps).
    m, s = 1.5, 0.4
    eps = torch.linspace(-3, 3, 7, dtype=torch.float64).unsqueeze(1)
    x = odeint(gaussian_velocity(m, s), eps, t0=1.0, t1=0.0, steps=200, method="rk4")[-1]
    torch.testing.assert_close(x, m + s * eps, rtol=0, atol=1e-8)
    # One Euler step sends every point to the mean.
    torch.testing.assert_close(
        euler_sample(gaussian_velocity(m, s), eps, 1), torch.full_like(eps, m)
    )


def test_gaussian_velocity_minimises_the_flow_matching_loss():
    # The conditional mean beats any other field in expected squared error (5 standard errors).
    m, s, n = 1.0, 0.5, 200_000
    g = torch.Generator().manual_seed(8)
    x0 = m + s * torch.randn(n, 1, generator=g, dtype=torch.float64)
    eps = torch.randn(n, 1, generator=g, dtype=torch.float64)
    t = torch.rand(n, generator=g, dtype=torch.float64)
    best = gaussian_velocity(m, s)
    xt, u = straight_path(x0, eps, t)
    gap = ((0.9 * best(xt, t) - u) ** 2).sum(-1) - ((best(xt, t) - u) ** 2).sum(-1)
    assert float(gap.mean()) > 5 * float(gap.std()) / math.sqrt(n)
    assert float(flow_matching_loss(best, x0, eps, t)) < float(
        flow_matching_loss(lambda x, tt: 0.9 * best(x, tt), x0, eps, t)
    )


def test_fit_flow_matching_is_deterministic_and_learns():
    data = torch.randn(1024, 2, generator=torch.Generator().manual_seed(9)) * 0.5 + 2
    runs = []
    for _ in range(2):
        v = VelocityField(2, (32, 32), generator=torch.Generator().manual_seed(10))
        runs.append(
            fit_flow_matching(v, data, steps=80, generator=torch.Generator().manual_seed(11))
        )
    assert torch.equal(runs[0], runs[1])
    assert float(runs[0][-10:].mean()) < float(runs[0][:10].mean())
    noise = torch.randn(1024, 2, generator=torch.Generator().manual_seed(12))
    paired = fit_flow_matching(
        v,
        data,
        steps=5,
        noise=noise,
        schedule="logit-normal",
        generator=torch.Generator().manual_seed(13),
    )
    assert paired.shape == (5,)


def test_energy_distance_closed_form_and_zero_for_equal_laws():
    x = torch.tensor([[0.0], [1.0]])
    assert float(energy_distance(x, x + 10)) == pytest.approx(18.0)
    g = torch.Generator().manual_seed(14)
    values = torch.stack(
        [
            energy_distance(torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g))
            for _ in range(200)
        ]
    )
    # unbiased U-statistics: mean zero under P = Q
    assert abs(float(values.mean())) < 5 * float(values.std()) / math.sqrt(len(values))


def test_straightness_is_zero_for_a_constant_field_only():
    eps = torch.randn(10, 2, generator=torch.Generator().manual_seed(15), dtype=torch.float64)
    constant = straightness(lambda x, _t: torch.ones_like(x), eps)
    assert float(constant.abs().max()) < 1e-12
    assert float(straightness(gaussian_velocity(1.0, 0.3), eps).min()) > 0


def test_logit_normal_times_are_symmetric_about_one_half():
    t = sample_time(100_000, schedule="logit-normal", generator=torch.Generator().manual_seed(16))
    assert bool(((t > 0) & (t < 1)).all())
    assert abs(float(t.mean()) - 0.5) < 5 * float(t.std()) / math.sqrt(len(t))


BAD_INPUTS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "field wrong dim",
        lambda: VelocityField(2)(torch.zeros(3, 3), 0.5),
        ValueError,
        r"z must have D = 2 in shape \(N, D\)",
    ),
    (
        "hutchinson eps shape",
        lambda: hutchinson_trace(torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 3)),
        ValueError,
        "probe must have the shape of z",
    ),
    (
        "divergence method",
        lambda: divergence(lambda z, _t: z, torch.zeros(2, 2), 0.0, method="trace"),
        ValueError,
        "method must be one of 'exact', 'hutchinson'",
    ),  # type: ignore[arg-type]
    (
        "divergence eps",
        lambda: divergence(lambda z, _t: z, torch.zeros(2, 2), 0.0, method="hutchinson"),
        ValueError,
        "probe must be given",
    ),
    (
        "odeint steps",
        lambda: odeint(lambda z, _t: z, torch.zeros(1, 1), t0=0.0, t1=1.0, steps=0),
        ValueError,
        "steps must be an int >= 1",
    ),
    (
        "odeint method",
        lambda: odeint(
            lambda z, _t: z, torch.zeros(1, 1), t0=0.0, t1=1.0, steps=1, method="midpoint"
        ),
        ValueError,
        "method must be one of 'euler', 'rk4'",
    ),  # type: ignore[arg-type]
    (
        "odeint NaN",
        lambda: odeint(lambda z, _t: z, torch.tensor([[math.nan]]), t0=0.0, t1=1.0, steps=1),
        ValueError,
        "z must be finite",
    ),
    (
        "cnf steps",
        lambda: cnf_log_prob(lambda z, _t: z, torch.zeros(1, 2), steps=-1),
        ValueError,
        "steps must be an int >= 1",
    ),
    (
        "cnf method",
        lambda: cnf_log_prob(lambda z, _t: z, torch.zeros(1, 2), method="exakt"),
        ValueError,
        "method must be",
    ),  # type: ignore[arg-type]
    (
        "cnf non-finite",
        lambda: cnf_log_prob(lambda z, _t: z, torch.tensor([[math.inf, 0.0]])),
        ValueError,
        "x must be finite",
    ),
    ("schedule", lambda: sample_time(3, schedule="cosine"), ValueError, "schedule must be"),  # type: ignore[arg-type]
    (
        "fm noise shape",
        lambda: fit_flow_matching(
            VelocityField(2), torch.zeros(4, 2), steps=1, noise=torch.zeros(3, 2)
        ),
        ValueError,
        r"noise must have the shape of x0 \(4, 2\)",
    ),
    (
        "fm noise dim",
        lambda: fit_flow_matching(
            VelocityField(2), torch.zeros(4, 2), steps=1, noise=torch.zeros(4, 3)
        ),
        ValueError,
        r"noise must have D = 2 in shape \(N, D\)",
    ),
    (
        "fm steps",
        lambda: fit_flow_matching(VelocityField(2), torch.zeros(4, 2), steps=0),
        ValueError,
        "steps must be an int >= 1",
    ),
    (
        "fm batch",
        lambda: fit_flow_matching(VelocityField(2), torch.zeros(4, 2), steps=1, batch_size=0),
        ValueError,
        "batch_size",
    ),
    (
        "fm NaN data",
        lambda: fit_flow_matching(VelocityField(2), torch.full((4, 2), math.nan), steps=1),
        ValueError,
        "x0 must be finite",
    ),
    (
        "fm schedule",
        lambda: fit_flow_matching(VelocityField(2), torch.zeros(4, 2), steps=1, schedule="beta"),
        ValueError,
        "schedule must be",
    ),  # type: ignore[arg-type]
    ("gaussian std", lambda: gaussian_velocity(0.0, 0.0), ValueError, "std must be > 0"),
    (
        "energy rows",
        lambda: energy_distance(torch.zeros(1, 2), torch.zeros(3, 2)),
        ValueError,
        ">= 2 rows",
    ),
    (
        "energy dims",
        lambda: energy_distance(torch.zeros(3, 2), torch.zeros(3, 1)),
        ValueError,
        r"x and y must have one dimension D, got 2 and 1",
    ),
]


@pytest.mark.parametrize(
    ("make", "error", "match"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_raises_a_clear_error(
    make: Callable[[], object], error: type[Exception], match: str
):
    with pytest.raises(error, match=match):
        make()
