"""Tests of notes.linear_attention: every claim of docs/linear-attention.md and every bad-input path.

References are the explicit sums of equation la-linear, notes.attention (softmax attention),
the closed forms of the random-feature variances, and the direct n x n form of mixed-chunk
attention. Monte Carlo claims are checked to within 5 standard errors; float64 identities to a
rounding bound; every random draw has its own seeded generator. No test times anything
absolutely: the cost claims are checked on the page, as fitted exponents of one interleaved run.
"""

from __future__ import annotations

import gc
import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notes.attention import attention_weights, scaled_dot_product_attention
from notes.checks import mean, standard_error, within_se
from notes.linear_attention import (
    FEATURE_MAPS,
    GAUParameters,
    causal_linear_attention,
    crossover,
    elu_plus_one,
    gated_attention_unit,
    gaussian_projection,
    growth_exponent,
    init_gau,
    interleaved_times,
    linear_attention,
    linear_attention_weights,
    matmul_flops,
    mixed_chunk_attention,
    mixed_chunk_weights,
    positive_random_features,
    random_feature_map,
    round_exponents,
    softmax_kernel_variance,
    squared_relu_attention,
    trigonometric_random_features,
)

F64 = torch.float64
EPS = torch.finfo(F64).eps


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def qkv(seed: int, n: int = 32, d: int = 8, d_v: int = 4, batch: tuple[int, ...] = ()):  # type: ignore[no-untyped-def]
    g = gen(seed)
    return tuple(torch.randn(*batch, n, w, generator=g, dtype=F64) for w in (d, d, d_v))


def bound(n: int, r: int, v: torch.Tensor) -> float:
    """4 (n + r) eps max|v|: the rounding bound of the page for non-negative weights."""
    return 4 * (n + r) * EPS * float(v.abs().max())


# --- the two orders ---------------------------------------------------------------------------
@pytest.mark.parametrize("feature_map", ["elu+1", "relu"], ids=["elu+1", "relu"])
@pytest.mark.parametrize("batch", [(), (2, 3)], ids=["2d", "batched"])
def test_both_orders_agree_to_float64_rounding(feature_map: str, batch: tuple[int, ...]) -> None:
    q, k, v = qkv(0, batch=batch)
    left = linear_attention(q, k, v, feature_map=feature_map, order="left")
    right = linear_attention(q, k, v, feature_map=feature_map, order="right")
    assert (left - right).abs().max() <= bound(32, 8, v)


def test_linear_attention_is_the_explicit_weighted_average() -> None:
    q, k, v = qkv(1, n=6)
    phi = FEATURE_MAPS["elu+1"]
    expected = torch.stack(
        [
            sum(float(phi(q[i]) @ phi(k[j])) * v[j] for j in range(6))
            / sum(float(phi(q[i]) @ phi(k[j])) for j in range(6))
            for i in range(6)
        ]
    )
    assert torch.allclose(linear_attention(q, k, v), expected, rtol=1e-12, atol=0)


def test_reordering_softmax_is_not_softmax_attention() -> None:
    """The rejected alternative of the page: exp(Q~)(exp(K~)^T V) differs from softmax."""
    q, k, v = qkv(2)
    softmax = scaled_dot_product_attention(q, k, v)
    reordered = linear_attention(q / 8**0.25, k / 8**0.25, v, feature_map=torch.exp)
    assert (softmax - reordered).abs().max() > 1e3 * bound(32, 8, v)


def test_elu_plus_one_is_positive_and_matches_its_cases() -> None:
    x = torch.linspace(-30, 5, 101, dtype=F64)
    y = elu_plus_one(x)
    assert (y > 0).all()
    assert torch.allclose(y, torch.where(x > 0, x + 1, torch.exp(x)), rtol=1e-12, atol=0)


def test_weights_are_rows_of_probabilities_and_give_the_output() -> None:
    q, k, v = qkv(3)
    w = linear_attention_weights(q, k)
    assert (w >= 0).all()
    assert torch.allclose(w.sum(-1), torch.ones(32, dtype=F64), atol=1e-14)
    assert torch.allclose(w @ v, linear_attention(q, k, v), atol=bound(32, 8, v))


# --- the recurrence ---------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 20),
    d=st.integers(1, 6),
    d_v=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    feature_map=st.sampled_from(["elu+1", "relu"]),
)
def test_recurrence_equals_the_masked_parallel_form(
    n: int, d: int, d_v: int, seed: int, feature_map: str
) -> None:
    q, k, v = qkv(seed, n=n, d=d, d_v=d_v)
    if feature_map == "relu":  # keep every normaliser away from 0: one positive feature each
        q, k = q.abs(), k.abs()
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    recurrent, _, _ = causal_linear_attention(q, k, v, feature_map=feature_map, mask=mask)
    parallel = linear_attention(q, k, v, feature_map=feature_map, order="left", mask=mask)
    assert (recurrent - parallel).abs().max() <= bound(n, d, v)


def test_recurrence_differs_from_the_unmasked_form() -> None:
    q, k, v = qkv(4)
    recurrent, _, _ = causal_linear_attention(q, k, v)
    assert (recurrent - linear_attention(q, k, v)).abs().max() > 1e-3


def test_final_state_is_the_sum_over_all_keys() -> None:
    q, k, v = qkv(5)
    _, S, z = causal_linear_attention(q, k, v)
    phi_k = FEATURE_MAPS["elu+1"](k)
    assert torch.allclose(S, phi_k.T @ v, rtol=1e-12)
    assert torch.allclose(z, phi_k.sum(0), rtol=1e-12)


def test_state_size_does_not_grow_with_length() -> None:
    sizes = set()
    for n in (4, 64, 512):
        _, S, z = causal_linear_attention(*qkv(6, n=n))
        sizes.add(S.numel() + z.numel())
    assert sizes == {8 * 4 + 8}


# --- random features --------------------------------------------------------------------------
def _pair(norm: float = 0.9, d: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = torch.zeros(d, dtype=F64), torch.zeros(d, dtype=F64)
    x[0] = norm
    y[0], y[1] = norm * math.cos(2 * math.pi / 3), norm * math.sin(2 * math.pi / 3)
    return x, y


def _estimates(
    x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, features=positive_random_features
):  # type: ignore[no-untyped-def]
    f = features(torch.stack([x, y]), w)
    return (f[:, 0] * f[:, 1]).sum(-1)


@pytest.mark.parametrize("orthogonal", [False, True], ids=["iid", "orthogonal"])
@pytest.mark.parametrize("r", [3, 16, 40], ids=["r3", "r16", "r40"])
def test_positive_features_are_unbiased(orthogonal: bool, r: int) -> None:
    x, y = _pair()
    w = gaussian_projection(
        r, 16, orthogonal=orthogonal, batch=(4000,), generator=gen(10 + r), dtype=F64
    )
    assert mean(_estimates(x, y, w), math.exp(float(x @ y))).passed


def test_trigonometric_features_are_unbiased() -> None:
    x, y = _pair()
    w = gaussian_projection(8, 16, batch=(4000,), generator=gen(11), dtype=F64)
    assert mean(_estimates(x, y, w, trigonometric_random_features), math.exp(float(x @ y))).passed


def test_dropping_the_norm_factor_or_the_chi_lengths_is_biased() -> None:
    x, y = _pair()
    kernel = math.exp(float(x @ y))
    w = gaussian_projection(16, 16, orthogonal=True, batch=(4000,), generator=gen(12), dtype=F64)
    s = _estimates(x, y, w)
    assert not mean(s * math.exp(0.5 * float(x @ x + y @ y)), kernel).passed
    assert not mean(_estimates(x, y, w / w.norm(dim=-1, keepdim=True)), kernel).passed


@pytest.mark.parametrize("features", ["positive", "trigonometric"], ids=["positive", "trig"])
@pytest.mark.parametrize("r", [1, 8, 32], ids=["r1", "r8", "r32"])
def test_variance_matches_its_closed_form(features: str, r: int) -> None:
    x, y = _pair()
    fn = positive_random_features if features == "positive" else trigonometric_random_features
    w = gaussian_projection(r, 16, batch=(4000,), generator=gen(20 + r), dtype=F64)
    s = _estimates(x, y, w, fn)
    se = standard_error((s - s.mean()) ** 2)
    closed = float(softmax_kernel_variance(x, y, r, features=features))
    assert within_se(float(s.var()), closed, se=se).passed


def test_orthogonal_draws_have_a_smaller_variance_at_r_equal_d() -> None:
    x, y = _pair()
    w = gaussian_projection(16, 16, orthogonal=True, batch=(8000,), generator=gen(30), dtype=F64)
    s = _estimates(x, y, w)
    se = standard_error((s - s.mean()) ** 2)
    assert float(s.var()) + 5 * se < float(softmax_kernel_variance(x, y, 16))


@pytest.mark.parametrize("r", [5, 16, 37], ids=["less_than_d", "d", "several_blocks"])
def test_orthogonal_rows_are_orthogonal_within_blocks_and_gaussian(r: int) -> None:
    d = 16
    w = gaussian_projection(r, d, orthogonal=True, batch=(3000,), generator=gen(31), dtype=F64)
    assert w.shape == (3000, r, d)
    block = w[:, : min(r, d)]
    gram = block @ block.transpose(-2, -1)
    off = gram - torch.diag_embed(torch.diagonal(gram, dim1=-2, dim2=-1))
    assert off.abs().max() < 1e-10
    # each row is N(0, I): E[w_1^2] = 1 and E[|w|^2] = d, to 5 standard errors
    assert mean(w[:, :, 0].flatten() ** 2, 1.0).passed
    assert mean((w**2).sum(-1).flatten(), float(d)).passed


def test_random_feature_attention_estimates_softmax_attention() -> None:
    q, k, v = qkv(32, n=16, d=4, d_v=2)
    q, k = 0.5 * q, 0.5 * k
    exact = scaled_dot_product_attention(q, k, v)
    errors = []
    for r in (16, 1024):
        w = gaussian_projection(r, 4, orthogonal=True, generator=gen(33), dtype=F64)
        errors.append(
            float(
                (linear_attention(q, k, v, feature_map=random_feature_map(w)) - exact).abs().max()
            )
        )
    assert errors[1] < errors[0] / 2  # the error falls like r^{-1/2}: a factor 8 expected


# --- what is lost -----------------------------------------------------------------------------
def _retrieval(seed: int = 5, n: int = 64, d: int = 16) -> torch.Tensor:
    keys = torch.randn(n, d, generator=gen(seed), dtype=F64)
    return keys / keys.norm(dim=-1, keepdim=True) * d**0.5


@pytest.mark.parametrize("feature_map", ["elu+1", "relu"], ids=["elu+1", "relu"])
def test_rank_is_at_most_the_feature_width(feature_map: str) -> None:
    keys = _retrieval()
    assert (
        int(torch.linalg.matrix_rank(linear_attention_weights(keys, keys, feature_map=feature_map)))
        <= 16
    )
    assert int(torch.linalg.matrix_rank(attention_weights(keys, keys, scale=1.0))) > 16


def test_random_feature_weights_have_rank_at_most_r() -> None:
    keys = _retrieval()
    w = gaussian_projection(10, 16, generator=gen(34), dtype=F64)
    phi = random_feature_map(w)
    assert (
        int(torch.linalg.matrix_rank(linear_attention_weights(keys, keys, feature_map=phi))) <= 10
    )


def test_softmax_can_retrieve_and_linear_attention_cannot() -> None:
    keys = _retrieval()
    assert float(attention_weights(keys, keys, scale=1.0).diagonal().mean()) >= 0.9
    for name in ("elu+1", "relu"):
        for c in (0.25, 1.0, 4.0, 16.0, 256.0):
            w = linear_attention_weights(c * keys, keys, feature_map=name)
            assert float(w.diagonal().mean()) <= 0.5


def test_relu_weights_do_not_depend_on_the_query_scale() -> None:
    keys = _retrieval()
    base = linear_attention_weights(keys, keys, feature_map="relu")
    for c in (1e-3, 7.0, 1e3):
        assert torch.allclose(
            linear_attention_weights(c * keys, keys, feature_map="relu"), base, atol=1e-13
        )


# --- GAU and mixed-chunk attention ------------------------------------------------------------
def _chunk_inputs(seed: int, n: int, s: int = 4, e: int = 3, batch: tuple[int, ...] = ()):  # type: ignore[no-untyped-def]
    g = gen(seed)
    return [torch.randn(*batch, n, w, generator=g, dtype=F64) for w in (s, s, s, s, e)]


@settings(max_examples=25, deadline=None)
@given(
    groups=st.integers(1, 6),
    c=st.integers(1, 8),
    causal=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_chunked_equals_direct(groups: int, c: int, causal: bool, seed: int) -> None:
    n = groups * c
    q, k, ql, kl, v = _chunk_inputs(seed, n)
    direct = mixed_chunk_weights(q, k, ql, kl, chunk=c, causal=causal) @ v
    chunked = mixed_chunk_attention(q, k, ql, kl, v, chunk=c, causal=causal)
    scale = float((mixed_chunk_weights(q, k, ql, kl, chunk=c, causal=causal).abs() @ v.abs()).max())
    assert (chunked - direct).abs().max() <= 4 * (n + 4) * EPS * max(scale, 1.0)


def test_chunked_equals_direct_with_batch_dimensions() -> None:
    q, k, ql, kl, v = _chunk_inputs(40, 12, batch=(2, 3))
    direct = mixed_chunk_weights(q, k, ql, kl, chunk=4) @ v
    assert torch.allclose(mixed_chunk_attention(q, k, ql, kl, v, chunk=4), direct, atol=1e-12)


def test_mixed_chunk_with_one_chunk_is_squared_relu_attention() -> None:
    """With c = n the linear part is empty (causal) and the quadratic part covers everything."""
    q, k, ql, kl, v = _chunk_inputs(41, 10)
    mask = torch.ones(10, 10, dtype=torch.bool).tril()
    expected = squared_relu_attention(q, k, v, mask=mask)
    assert torch.allclose(mixed_chunk_attention(q, k, ql, kl, v, chunk=10), expected, atol=1e-12)


def test_dropping_the_linear_term_or_the_mask_changes_the_result() -> None:
    q, k, ql, kl, v = _chunk_inputs(42, 64, s=8, e=6)
    direct = mixed_chunk_weights(q, k, ql, kl, chunk=16) @ v
    no_linear = mixed_chunk_attention(q, k, torch.zeros_like(ql), kl, v, chunk=16)
    non_causal = mixed_chunk_attention(q, k, ql, kl, v, chunk=16, causal=False)
    assert (no_linear - direct).abs().max() > 1e-3
    assert (non_causal - direct).abs().max() > 1e-3


def test_squared_relu_attention_is_the_formula() -> None:
    q, k, v = qkv(43, n=5, d=3, d_v=2)
    expected = torch.relu(q @ k.T / 5) ** 2 @ v
    assert torch.allclose(squared_relu_attention(q, k, v), expected, rtol=1e-14)


def test_gau_is_the_formula() -> None:
    g = gen(44)
    p = init_gau(6, s=4, generator=g, dtype=F64)
    x = torch.randn(7, 6, generator=g, dtype=F64)
    silu = torch.nn.functional.silu
    u, v, z = silu(x @ p.w_u), silu(x @ p.w_v), silu(x @ p.w_z)
    q, k = z * p.gamma[0] + p.beta[0], z * p.gamma[1] + p.beta[1]
    expected = (u * (torch.relu(q @ k.T / 7) ** 2 @ v)) @ p.w_o
    assert torch.allclose(gated_attention_unit(x, p), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("chunk", [None, 4], ids=["gau", "flash"])
def test_causal_gau_ignores_later_inputs(chunk: int | None) -> None:
    g = gen(45)
    p = init_gau(8, s=4, generator=g, dtype=F64)
    x = torch.randn(16, 8, generator=g, dtype=F64)
    later = x.clone()
    later[9:] += torch.randn(7, 8, generator=g, dtype=F64)
    a = gated_attention_unit(x, p, causal=True, chunk=chunk)
    b = gated_attention_unit(later, p, causal=True, chunk=chunk)
    assert torch.equal(a[:9], b[:9])
    non_causal = gated_attention_unit(later, p, causal=False, chunk=chunk)
    assert not torch.allclose(gated_attention_unit(x, p, chunk=chunk)[:9], non_causal[:9])


# --- measuring cost ---------------------------------------------------------------------------
def test_growth_exponent_recovers_a_power_law_and_its_error() -> None:
    n = torch.tensor([10.0, 20.0, 40.0, 80.0], dtype=F64)
    slope, se = growth_exponent(n, 5 * n**1.7)
    assert slope == pytest.approx(1.7, abs=1e-12)
    assert se < 1e-10
    _, se_noisy = growth_exponent(n, 5 * n**1.7 * torch.tensor([1.0, 1.2, 0.9, 1.1], dtype=F64))
    assert se_noisy > 0.01


def test_round_exponents_are_each_rounds_own_growth_exponent() -> None:
    n = torch.tensor([10.0, 20.0, 40.0, 80.0], dtype=F64)
    noise = torch.tensor([[1.0, 1.3], [1.2, 0.8], [0.9, 1.1], [1.1, 1.0]], dtype=F64)
    times = torch.stack([2 * n**1.0, 3 * n**2.0], dim=-1) * noise  # (m, R)
    slopes = round_exponents(n, times)
    expected = [growth_exponent(n, times[:, r])[0] for r in range(2)]
    assert slopes.tolist() == pytest.approx(expected, abs=1e-12)


def test_matmul_flops_counts_each_product_as_2_m_k_p() -> None:
    g = torch.Generator().manual_seed(0)
    n, d = 24, 8
    q, k, v = (torch.randn(n, d, generator=g, dtype=F64) for _ in range(3))
    # softmax: Q K^T and P V, each 2 n n d; the right order: phi(K)^T V and phi(Q) S, each
    # 2 n d d, and phi(Q) z, 2 n d; the left order: phi(Q) phi(K)^T and A V, each 2 n n d
    assert matmul_flops(lambda: scaled_dot_product_attention(q, k, v)) == 4 * n * n * d
    assert matmul_flops(lambda: linear_attention(q, k, v)) == 4 * n * d * d + 2 * n * d
    assert matmul_flops(lambda: linear_attention(q, k, v, order="left")) == 4 * n * n * d
    assert matmul_flops(lambda: torch.einsum("ij,jk->ik", q, k.T)) == 2 * n * d * n
    assert matmul_flops(lambda: q.exp().sum()) == 0


def test_matmul_flops_refuses_what_it_cannot_call() -> None:
    with pytest.raises(TypeError, match="fn"):
        matmul_flops(3)  # type: ignore[arg-type]


def test_crossover_interpolates_on_log_axes() -> None:
    n = torch.tensor([10.0, 100.0, 1000.0], dtype=F64)
    assert crossover(n, n**2, 50 * n) == pytest.approx(50.0, rel=1e-12)


def test_interleaved_times_restore_threads_and_garbage_collection() -> None:
    calls: list[str] = []
    before = torch.get_num_threads()
    times = interleaved_times(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=4
    )
    assert torch.get_num_threads() == before
    assert gc.isenabled()
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]  # warm-up, then rotated
    assert all(t.shape == (4,) and (t >= 0).all() for t in times.values())


# --- bad input --------------------------------------------------------------------------------
def _msg(text: str) -> str:
    return re.escape(text)


def test_mismatched_dimensions_are_refused() -> None:
    q, k, v = qkv(50)
    with pytest.raises(ValueError, match=_msg("same last dimension d, got 8 and 7")):
        linear_attention(q, k[:, :7], v)
    with pytest.raises(ValueError, match=_msg("as many rows T_k, got 32 and 31")):
        linear_attention(q, k, v[:31])
    with pytest.raises(
        TypeError, match=_msg("k has dtype torch.float32 but q has dtype torch.float64")
    ):
        linear_attention(q, k.float(), v)
    with pytest.raises(TypeError, match=_msg("q must be a torch.Tensor")):
        linear_attention([1.0], k, v)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=_msg("at least 2-D")):
        linear_attention(q[0], k, v)


def test_a_feature_map_that_can_go_negative_is_refused() -> None:
    q, k, v = qkv(51)
    with pytest.raises(ValueError, match=_msg("feature_map(q) must be >= 0 everywhere")):
        linear_attention(q, k, v, feature_map=lambda x: x)
    with pytest.raises(ValueError, match=_msg("feature_map(q) must be >= 0")):
        causal_linear_attention(q, k, v, feature_map=torch.sin)
    with pytest.raises(ValueError, match=_msg("feature_map(q) must be >= 0")):
        linear_attention_weights(q, k, feature_map=lambda x: x - 10)
    w = gaussian_projection(4, 8, generator=gen(0), dtype=F64)
    with pytest.raises(ValueError, match=_msg("feature_map(q) must be >= 0")):
        linear_attention(q, k, v, feature_map=lambda x: trigonometric_random_features(x, w))


def test_bad_feature_maps_and_orders_are_refused() -> None:
    q, k, v = qkv(52)
    with pytest.raises(
        ValueError, match=_msg("feature_map must be one of 'elu+1', 'relu', got 'exp'")
    ):
        linear_attention(q, k, v, feature_map="exp")
    with pytest.raises(TypeError, match=_msg("feature_map must be callable")):
        linear_attention(q, k, v, feature_map=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=_msg("must keep every dimension of q but the last")):
        linear_attention(q, k, v, feature_map=lambda x: x.exp()[:-1])
    with pytest.raises(
        ValueError, match=_msg("phi(q) and phi(k) must have one width r, got 16 and 8")
    ):
        linear_attention(q, k, v, feature_map=lambda x: x.exp().repeat(1, 2) if x is q else x.exp())
    with pytest.raises(
        ValueError, match=_msg("order must be one of 'right', 'left', got 'middle'")
    ):
        linear_attention(q, k, v, order="middle")
    with pytest.raises(ValueError, match=_msg("mask needs order='left'")):
        linear_attention(q, k, v, mask=torch.ones(32, 32, dtype=torch.bool))
    with pytest.raises(ValueError, match=_msg("mask must have S = 32")):
        linear_attention(q, k, v, order="left", mask=torch.ones(32, 5, dtype=torch.bool))


def test_non_causal_masks_are_refused_where_a_causal_form_is_asked() -> None:
    q, k, v = qkv(53, n=4)
    full = torch.ones(4, 4, dtype=torch.bool)
    with pytest.raises(
        ValueError, match=_msg("a key after its query is visible at (i, j) = (0, 1)")
    ):
        causal_linear_attention(q, k, v, mask=full)
    strict = full.tril(-1)
    with pytest.raises(ValueError, match=_msg("an earlier key is hidden at (i, j) = (0, 0)")):
        causal_linear_attention(q, k, v, mask=strict)
    with pytest.raises(TypeError, match=_msg("mask must be a bool tensor")):
        causal_linear_attention(q, k, v, mask=full.tril().double())
    with pytest.raises(ValueError, match=_msg("mask must have T = 4")):
        causal_linear_attention(q, k, v, mask=torch.ones(5, 5, dtype=torch.bool).tril())
    with pytest.raises(ValueError, match=_msg("as many queries as keys, got 3 and 4")):
        causal_linear_attention(q[:3], k, v)


def test_chunk_sizes_that_do_not_divide_are_refused() -> None:
    q, k, ql, kl, v = _chunk_inputs(54, 12)
    with pytest.raises(
        ValueError,
        match=_msg("chunk must divide the sequence length n = 12, got 5 (12 = 2 * 5 + 2)"),
    ):
        mixed_chunk_attention(q, k, ql, kl, v, chunk=5)
    with pytest.raises(ValueError, match=_msg("chunk must divide")):
        mixed_chunk_weights(q, k, ql, kl, chunk=7)
    with pytest.raises(ValueError, match=_msg("chunk must be an int >= 1, got 0")):
        mixed_chunk_attention(q, k, ql, kl, v, chunk=0)
    with pytest.raises(ValueError, match=_msg("chunk must be an int >= 1, got 4.0")):
        mixed_chunk_attention(q, k, ql, kl, v, chunk=4.0)  # type: ignore[arg-type]
    p = init_gau(4, s=4, generator=gen(0), dtype=F64)
    with pytest.raises(
        ValueError, match=_msg("chunk must divide the sequence length n = 12, got 5")
    ):
        gated_attention_unit(torch.zeros(12, 4, dtype=F64), p, causal=True, chunk=5)


def test_bad_mixed_chunk_shapes_and_flags_are_refused() -> None:
    q, k, ql, kl, v = _chunk_inputs(55, 12)
    with pytest.raises(
        ValueError, match=_msg("k must have the shape (n, s) of q, (12, 4), got (12, 3)")
    ):
        mixed_chunk_attention(q, k[:, :3], ql, kl, v, chunk=4)
    with pytest.raises(ValueError, match=_msg("v must have N = 12")):
        mixed_chunk_attention(q, k, ql, kl, v[:8], chunk=4)
    with pytest.raises(TypeError, match=_msg("causal must be a bool, got 1")):
        mixed_chunk_attention(q, k, ql, kl, v, chunk=4, causal=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=_msg("q_lin has dtype torch.float32")):
        mixed_chunk_attention(q, k, ql.float(), kl, v, chunk=4)


def test_bad_gau_arguments_are_refused() -> None:
    p = init_gau(4, s=2, generator=gen(0), dtype=F64)
    x = torch.zeros(6, 4, dtype=F64)
    with pytest.raises(TypeError, match=_msg("params must be GAUParameters, got tuple")):
        gated_attention_unit(x, tuple(p))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=_msg("params.w_u must have A = 5")):
        gated_attention_unit(torch.zeros(6, 5, dtype=F64), p)
    with pytest.raises(
        TypeError, match=_msg("params.w_u has dtype torch.float64 but x has dtype torch.float32")
    ):
        gated_attention_unit(x.float(), p)
    with pytest.raises(ValueError, match=_msg("w_z and gamma must agree on their columns s")):
        GAUParameters(*p[:3], torch.zeros(4, 3, dtype=F64), *p[4:])
    bad = p._replace(gamma=p.gamma[:3])  # past the constructor: the unit checks again
    with pytest.raises(ValueError, match=_msg("params.gamma must have A = 4")):
        gated_attention_unit(x, bad)
    with pytest.raises(ValueError, match=_msg("d must be an int >= 1, got 0")):
        init_gau(0)
    with pytest.raises(ValueError, match=_msg("e must be an int >= 1, got -2")):
        init_gau(4, e=-2)
    with pytest.raises(TypeError, match=_msg("generator must be a torch.Generator or None")):
        init_gau(4, generator=0)  # type: ignore[arg-type]


def test_bad_random_feature_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=_msg("r must be an int >= 1, got 0")):
        gaussian_projection(0, 4)
    with pytest.raises(ValueError, match=_msg("d must be an int >= 1, got 2.5")):
        gaussian_projection(3, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=_msg("batch[1] must be an int >= 1, got 0")):
        gaussian_projection(3, 4, batch=(2, 0))
    with pytest.raises(TypeError, match=_msg("orthogonal must be a bool")):
        gaussian_projection(3, 4, orthogonal="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=_msg("generator must be a torch.Generator or None")):
        gaussian_projection(3, 4, generator=1)  # type: ignore[arg-type]
    x, w = torch.zeros(5, 4), torch.zeros(3, 5)
    with pytest.raises(
        ValueError, match=_msg("x and w must agree on the last dimension D, got 4 and 5")
    ):
        positive_random_features(x, w)
    with pytest.raises(
        ValueError, match=_msg("x and w must agree on the last dimension D, got 4 and 5")
    ):
        trigonometric_random_features(x, w)
    with pytest.raises(
        TypeError, match=_msg("w has dtype torch.float64 but x has dtype torch.float32")
    ):
        positive_random_features(x, torch.zeros(3, 4, dtype=F64))
    with pytest.raises(ValueError, match=_msg("scale must be > 0, got -1.0")):
        random_feature_map(torch.zeros(3, 4), scale=-1.0)
    y = torch.zeros(4, dtype=F64)
    with pytest.raises(
        ValueError, match=_msg("features must be one of 'positive', 'trigonometric', got 'cos'")
    ):
        softmax_kernel_variance(y, y, 2, features="cos")
    with pytest.raises(ValueError, match=_msg("r must be an int >= 1, got 0")):
        softmax_kernel_variance(y, y, 0)
    with pytest.raises(
        ValueError, match=_msg("x and y must agree on the last dimension D, got 4 and 3")
    ):
        softmax_kernel_variance(y, y[:3], 1)


def test_bad_cost_arguments_are_refused() -> None:
    n = torch.tensor([1.0, 2.0, 4.0], dtype=F64)
    with pytest.raises(ValueError, match=_msg("n must have at least 3 entries")):
        growth_exponent(n[:2], n[:2])
    with pytest.raises(ValueError, match=_msg("t must be >= 0 everywhere (costs are positive)")):
        growth_exponent(n, -n)
    with pytest.raises(
        ValueError, match=_msg("n and t must agree on the number of sizes M, got 3 and 2")
    ):
        growth_exponent(n, n[:2])
    with pytest.raises(ValueError, match=_msg("n must have at least 3 entries")):
        round_exponents(n[:2], n[:2, None])
    with pytest.raises(
        ValueError, match=_msg("times must be >= 0 everywhere (costs are positive)")
    ):
        round_exponents(n, -n[:, None])
    with pytest.raises(
        ValueError, match=_msg("n and times must agree on the number of sizes M, got 3 and 2")
    ):
        round_exponents(n, n[:2, None])
    with pytest.raises(ValueError, match=_msg("n must be >= 0 everywhere (sizes are positive)")):
        round_exponents(-n, n[:, None])
    with pytest.raises(ValueError, match=_msg("t_a / t_b must cross 1 upwards")):
        crossover(n, n, 10 * n)
    with pytest.raises(TypeError, match=_msg("steps['a'] must be callable")):
        interleaved_times({"a": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=_msg("rounds must be an int >= 1, got 0")):
        interleaved_times({"a": lambda: None}, rounds=0)
    with pytest.raises(ValueError, match=_msg("threads must be an int >= 1, got 0")):
        interleaved_times({"a": lambda: None}, threads=0)


def test_arguments_of_the_wrong_kind_are_refused_by_name() -> None:
    q = torch.zeros(4, 2, dtype=F64)
    with pytest.raises(TypeError, match=_msg("v must be a torch.Tensor, got NoneType")):
        linear_attention(q, q, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=_msg("batch must be a tuple of ints >= 0, got 3")):
        gaussian_projection(2, 2, batch=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=_msg("dtype must be a torch.dtype, got None")):
        init_gau(4, dtype=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=_msg("steps must be a mapping of names to callables")):
        interleaved_times(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=_msg("w must have R >= 1")):
        random_feature_map(torch.zeros(0, 2))
    with pytest.raises(ValueError, match=_msg("q and k_lin must agree")):
        mixed_chunk_weights(q, q, q, q[:2], chunk=2)
