"""notes.attention against F.scaled_dot_product_attention, autograd, torch.distributions and
closed forms; Monte Carlo claims to five standard errors."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from notes.attention import (
    attention_entropy,
    attention_logits,
    attention_weights,
    first_update,
    init_projections,
    projection_stds,
    scaled_dot_product_attention,
    self_attention,
    softmax_jacobian_norm,
)
from notes.checks import assert_mean


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("scale", [None, 1.0, 0.3], ids=["default", "unscaled", "0.3"])
@pytest.mark.parametrize(
    "shapes",
    [((5, 8), (7, 8), (7, 3)), ((2, 4, 5, 8), (2, 4, 6, 8), (2, 4, 6, 8))],
    ids=["2d", "batched_heads"],
)
def test_attention_equals_torch_sdpa(
    scale: float | None, shapes: tuple[tuple[int, ...], ...]
) -> None:
    g = gen(0)
    q, k, v = (torch.randn(s, generator=g, dtype=torch.float64) for s in shapes)
    ours = scaled_dot_product_attention(q, k, v, scale=scale)
    reference = F.scaled_dot_product_attention(q, k, v, scale=scale)
    assert torch.allclose(ours, reference, rtol=1e-12, atol=1e-12)


def test_default_scale_is_one_over_sqrt_d() -> None:
    g = gen(1)
    q, k = torch.randn(3, 16, generator=g), torch.randn(4, 16, generator=g)
    assert torch.allclose(attention_logits(q, k), (q @ k.T) / 4.0)
    assert torch.allclose(attention_logits(q, k, scale=1.0), q @ k.T)


def test_attention_weights_are_probabilities() -> None:
    g = gen(2)
    p = attention_weights(torch.randn(2, 3, 8, generator=g), torch.randn(2, 5, 8, generator=g))
    assert p.shape == (2, 3, 5)
    assert (p >= 0).all()
    assert torch.allclose(p.sum(-1), torch.ones(2, 3))


@pytest.mark.parametrize("d", [1, 16, 256], ids=lambda d: f"d={d}")
def test_dot_product_of_unit_variance_vectors_has_variance_d(d: int) -> None:
    g = gen(3)
    q, k = torch.randn(2, 20_000, d, generator=g, dtype=torch.float64)
    dots = (q * k).sum(-1)
    assert_mean(dots**2 / d, 1.0)
    scaled = attention_logits(q[:, None], k[:, None])[:, 0, 0]  # (n,) one logit per pair
    assert_mean(scaled**2, 1.0)


def test_entropy_equals_torch_distributions_categorical() -> None:
    logits = 3 * torch.randn(10, 7, generator=gen(4), dtype=torch.float64)
    p = torch.softmax(logits, -1)
    expected = torch.distributions.Categorical(probs=p).entropy()
    assert torch.allclose(attention_entropy(p), expected, rtol=1e-12)


def test_entropy_limits_uniform_and_one_hot() -> None:
    assert attention_entropy(torch.full((8,), 1 / 8)).item() == pytest.approx(math.log(8))
    assert attention_entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0.0


@pytest.mark.parametrize("temperature", [0.1, 1.0, 10.0, 40.0], ids=lambda t: f"sd={t}")
def test_jacobian_norm_equals_autograd(temperature: float) -> None:
    s = temperature * torch.randn(9, generator=gen(5), dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, -1), s)
    ours = softmax_jacobian_norm(torch.softmax(s, -1))
    assert ours.item() == pytest.approx(torch.linalg.norm(jacobian).item(), rel=1e-10)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=1, max_size=12))
def test_jacobian_norm_obeys_the_bound_and_vanishes_at_one_hot(logits: list[float]) -> None:
    p = torch.softmax(torch.tensor(logits, dtype=torch.float64), -1)
    norm = softmax_jacobian_norm(p)
    assert norm <= 2 * (1 - p.pow(2).sum()) + 1e-12
    assert softmax_jacobian_norm(torch.tensor([0.0, 1.0], dtype=torch.float64)) == 0


def test_unscaled_logits_saturate_and_scaled_do_not() -> None:
    g = gen(6)
    d, n, T = 1024, 200, 16
    q, k = torch.randn(n, 1, d, generator=g), torch.randn(n, T, d, generator=g)
    entropy = {c: attention_entropy(attention_weights(q, k, scale=c)).mean() for c in (None, 1.0)}
    assert entropy[1.0] < 0.5 * entropy[None]


@pytest.mark.parametrize(
    ("parameterization", "expected"),
    [("scaled", (0.125, 0.125, 0.125)), ("t5", (0.03125, 0.125, 0.125))],
    ids=["scaled", "t5"],
)
def test_projection_stds(parameterization: str, expected: tuple[float, float, float]) -> None:
    assert projection_stds(64, 16, parameterization=parameterization) == pytest.approx(expected)


@pytest.mark.parametrize("parameterization", ["scaled", "t5"], ids=str)
def test_init_projections_have_the_stated_stds(parameterization: str) -> None:
    weights = init_projections(
        256, 64, parameterization=parameterization, generator=gen(7), dtype=torch.float64
    )
    stds = projection_stds(256, 64, parameterization=parameterization)
    for w, std in zip(weights, stds, strict=True):
        assert_mean(w.flatten() ** 2 / std**2, 1.0)


def test_t5_parameterisation_gives_the_scaled_outputs() -> None:
    x = torch.randn(3, 10, 64, generator=gen(8), dtype=torch.float64)
    scaled = init_projections(64, 16, parameterization="scaled", generator=gen(9), dtype=x.dtype)
    t5 = init_projections(64, 16, parameterization="t5", generator=gen(9), dtype=x.dtype)
    assert torch.allclose(self_attention(x, *scaled), self_attention(x, *t5, scale=1.0), atol=1e-12)
    # and dividing twice is not the same thing
    assert not torch.allclose(self_attention(x, *scaled), self_attention(x, *t5), atol=1e-3)


def test_entropy_depends_on_d_unless_the_query_length_is_normalised() -> None:
    g = gen(10)
    n, T = 8_000, 32
    q = torch.randn(n, 1, 1, generator=g, dtype=torch.float64)  # d = 1: |q|^2 ~ chi^2_1
    k = torch.randn(n, T, 1, generator=g, dtype=torch.float64)
    free = attention_entropy(attention_weights(q, k))[:, 0]
    fixed = attention_entropy(attention_weights(q / q.abs(), k))[:, 0]  # |q|^2 = d = 1
    reference = attention_entropy(
        torch.softmax(torch.randn(n, T, generator=g, dtype=torch.float64), -1)
    )
    assert_mean(fixed - reference, 0.0)  # N(0, 1) logits
    se = math.sqrt(free.var() / n + reference.var() / n)
    assert abs(free.mean() - reference.mean()) > 5 * se


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "Adafactor"], ids=str)
@pytest.mark.parametrize("shape", [(5, 7), (16, 3)], ids=["5x7", "16x3"])
def test_first_update_equals_torch_optim(optimizer: str, shape: tuple[int, int]) -> None:
    g = gen(11)
    w = 0.03 * torch.randn(shape, generator=g, dtype=torch.float64)
    grad = 1e-2 * torch.randn(shape, generator=g, dtype=torch.float64)
    p = w.clone().requires_grad_()
    p.grad = grad.clone()
    getattr(torch.optim, optimizer)([p], lr=1e-2).step()
    ours = first_update(w, grad, optimizer=optimizer.lower(), lr=1e-2)
    assert torch.allclose(p.detach() - w, ours, rtol=1e-10, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.floats(1e-2, 1e2), st.floats(1e-3, 1e3))
def test_adafactor_relative_step_ignores_the_scale_of_weight_and_gradient(
    c: float, k: float
) -> None:
    g = gen(12)
    w = torch.randn(6, 4, generator=g, dtype=torch.float64)
    grad = torch.randn(6, 4, generator=g, dtype=torch.float64)
    base = first_update(w, grad, optimizer="adafactor", lr=1e-2).norm() / w.norm()
    scaled = first_update(c * w, k * grad, optimizer="adafactor", lr=1e-2).norm() / (c * w).norm()
    assert float(scaled) == pytest.approx(float(base), rel=1e-9)


def test_t5_query_moves_d_times_more_under_sgd_sqrt_d_under_adam_same_under_adafactor() -> None:
    d_model, d = 64, 16
    x = torch.randn(10, d_model, generator=gen(13), dtype=torch.float64)
    target = torch.randn(10, d, generator=gen(15), dtype=torch.float64)
    rel = {}
    for p, scale in (("scaled", None), ("t5", 1.0)):
        w_q, w_k, w_v = init_projections(
            d_model, d, parameterization=p, generator=gen(14), dtype=x.dtype
        )
        w_q.requires_grad_()
        (self_attention(x, w_q, w_k, w_v, scale=scale) * target).sum().backward()
        for opt in ("sgd", "adam", "adafactor"):
            step = first_update(w_q.detach(), w_q.grad, optimizer=opt)
            rel[opt, p] = float(step.norm() / w_q.detach().norm())
    assert rel["sgd", "t5"] / rel["sgd", "scaled"] == pytest.approx(d, rel=1e-10)
    assert rel["adam", "t5"] / rel["adam", "scaled"] == pytest.approx(math.sqrt(d), rel=1e-4)
    assert rel["adafactor", "t5"] / rel["adafactor", "scaled"] == pytest.approx(1.0, rel=1e-10)


BAD: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("qk_last_dim_differ", lambda: attention_logits(torch.ones(2, 4), torch.ones(3, 5)), ValueError, "q and k must have the same last dimension d, got 4 and 5"),
    ("kv_rows_differ", lambda: scaled_dot_product_attention(torch.ones(2, 4), torch.ones(3, 4), torch.ones(2, 4)), ValueError, "k and v must have as many rows"),
    ("scale_zero", lambda: attention_logits(torch.ones(2, 4), torch.ones(3, 4), scale=0.0), ValueError, "scale must be > 0, got 0.0"),
    ("scale_negative", lambda: attention_logits(torch.ones(2, 4), torch.ones(3, 4), scale=-1.0), ValueError, "scale must be > 0, got -1.0"),
    ("scale_inf", lambda: attention_logits(torch.ones(2, 4), torch.ones(3, 4), scale=math.inf), ValueError, "scale must be finite, got inf"),
    ("scale_bool", lambda: attention_logits(torch.ones(2, 4), torch.ones(3, 4), scale=True), TypeError, "scale must be a real number, got True"),
    ("q_not_tensor", lambda: attention_logits([[1.0]], torch.ones(1, 1)), TypeError, "q must be a torch.Tensor"),
    ("k_integer", lambda: attention_logits(torch.ones(1, 2), torch.ones(1, 2, dtype=torch.int64)), TypeError, "k must have a floating dtype"),
    ("q_one_dim", lambda: attention_logits(torch.ones(4), torch.ones(3, 4)), ValueError, "q must be at least 2-D with shape (*, T_q, d), got shape (4,)"),
    ("v_one_dim", lambda: scaled_dot_product_attention(torch.ones(2, 4), torch.ones(3, 4), torch.ones(3)), ValueError, "v must be at least 2-D with shape (*, T_k, d_v), got shape (3,)"),
    ("entropy_integer", lambda: attention_entropy(torch.ones(3, dtype=torch.int64)), TypeError, "weights must have a floating dtype"),
    ("entropy_scalar", lambda: attention_entropy(torch.tensor(1.0)), ValueError, "weights must have at least 1 dimension"),
    ("jacobian_empty", lambda: softmax_jacobian_norm(torch.ones(2, 0)), ValueError, "weights must have at least one class along dim -1"),
    ("stds_zero_d_model", lambda: projection_stds(0, 4), ValueError, "d_model must be an int >= 1, got 0"),
    ("stds_zero_d_head", lambda: projection_stds(4, 0), ValueError, "d_head must be an int >= 1, got 0"),
    ("stds_unknown", lambda: projection_stds(4, 4, parameterization="mup"), ValueError, "parameterization must be one of 'scaled', 't5'"),
    ("init_unknown", lambda: init_projections(4, 4, parameterization="xavier"), ValueError, "parameterization must be"),
    ("self_attention_wrong_w_q", lambda: self_attention(torch.ones(3, 8), torch.ones(4, 2), torch.ones(8, 2), torch.ones(8, 2)), ValueError, "w_q must have shape"),
    ("update_shapes_differ", lambda: first_update(torch.ones(2, 3), torch.ones(3, 2)), ValueError, "weight and grad must be matrices of one shape"),
    ("update_vector", lambda: first_update(torch.ones(3), torch.ones(3)), ValueError, "weight must be 2-D with shape (m, n), got shape (3,)"),
    ("update_integer_grad", lambda: first_update(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.int64)), TypeError, "grad must have a floating dtype"),
    ("update_unknown_optimizer", lambda: first_update(torch.ones(2, 2), torch.ones(2, 2), optimizer="lion"), ValueError, "optimizer must be one of 'sgd', 'adam', 'adafactor'"),
    ("update_zero_lr", lambda: first_update(torch.ones(2, 2), torch.ones(2, 2), lr=0.0), ValueError, "lr must be > 0"),
    ("self_attention_1d_x", lambda: self_attention(torch.ones(8), torch.ones(8, 2), torch.ones(8, 2), torch.ones(8, 2)), ValueError, "x must be at least 2-D with shape (*, T, d_model), got shape (8,)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_raises_a_clear_error(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()
