"""RealNVP's multi-scale architecture: squeeze and factor-out, against autograd in float64."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd.functional import jacobian

from notes.flows import (
    AffineCoupling,
    Chain,
    FactorOut,
    Flow,
    Scaling,
    Squeeze,
    checkerboard_mask,
    normal_log_prob,
    squeeze_permutation,
)


def _couplings(channels: int, height: int, width: int, squeeze: bool, g: torch.Generator):
    board = checkerboard_mask(height, width).repeat(channels)
    dim = channels * height * width
    layers = [AffineCoupling(dim, m, (8,), generator=g) for m in (board, ~board)]
    if squeeze:
        halves = torch.arange(dim) < dim // 2
        layers += [Squeeze(channels, height, width)]
        layers += [AffineCoupling(dim, m, (8,), generator=g) for m in (halves, ~halves)]
    return layers


def _multiscale(seed: int) -> tuple[Flow, Chain, Chain]:
    g = torch.Generator().manual_seed(seed)
    scale_3 = Chain(_couplings(4, 2, 2, squeeze=False, g=g))
    scale_2 = Chain([*_couplings(2, 4, 4, squeeze=True, g=g), FactorOut(16, scale_3)])
    flow = Flow([*_couplings(1, 8, 8, squeeze=True, g=g), FactorOut(32, scale_2)]).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return flow, scale_2, scale_3


def test_squeeze_moves_each_2x2_block_into_four_channels():
    c, h, w = 2, 4, 6
    x = torch.arange(c * h * w, dtype=torch.float64)
    y = x[squeeze_permutation(c, h, w)].view(4 * c, h // 2, w // 2)
    image = x.view(c, h, w)
    for channel in range(c):
        for a in (0, 1):
            for b in (0, 1):
                torch.testing.assert_close(
                    y[4 * channel + 2 * a + b], image[channel, a::2, b::2], rtol=0, atol=0
                )


def test_squeeze_is_a_permutation_with_zero_log_det():
    layer = Squeeze(1, 8, 8).double()
    x = torch.randn(3, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y, ladj = layer(x)
    assert torch.equal(layer.inverse(y), x)
    assert torch.equal(ladj, torch.zeros(3, dtype=torch.float64))
    assert layer.shape_out == (4, 4, 4)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_multiscale_log_det_equals_autograd_jacobian_in_float64(seed: int):
    flow, _, _ = _multiscale(seed)
    x = torch.randn(3, 64, generator=torch.Generator().manual_seed(10 + seed), dtype=torch.float64)
    with torch.no_grad():
        _, ladj = flow.chain(x)
    for row, value in zip(x, ladj, strict=True):
        J = jacobian(lambda r: flow.chain(r.unsqueeze(0))[0].squeeze(0), row)
        torch.testing.assert_close(value, torch.linalg.slogdet(J).logabsdet, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1], ids=["seed0", "seed1"])
def test_multiscale_inverse_undoes_forward(seed: int):
    flow, _, _ = _multiscale(seed)
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(20 + seed), dtype=torch.float64)
    with torch.no_grad():
        z, _ = flow.chain(x)
        torch.testing.assert_close(flow.chain.inverse(z), x, rtol=0, atol=1e-10)


def test_multiscale_log_likelihood_is_one_prior_term_per_scale_plus_log_dets():
    flow, scale_2, scale_3 = _multiscale(3)
    x = torch.randn(4, 64, generator=torch.Generator().manual_seed(30), dtype=torch.float64)

    def run(layers, h):
        total = torch.zeros(h.shape[0], dtype=h.dtype)
        for layer in layers:
            h, term = layer(h)
            total = total + term
        return h, total

    with torch.no_grad():
        h1, l1 = run(list(flow.chain.layers)[:-1], x)
        h2, l2 = run(list(scale_2.layers)[:-1], h1[:, 32:])
        z3, l3 = run(list(scale_3.layers), h2[:, 16:])
        by_scale = normal_log_prob(h1[:, :32]) + normal_log_prob(h2[:, :16]) + normal_log_prob(z3)
        torch.testing.assert_close(flow.log_prob(x), by_scale + l1 + l2 + l3, rtol=0, atol=1e-10)
        # the factored-out part's prior is not optional: leaving it out changes log p
        assert float((flow.log_prob(x) - (normal_log_prob(z3) + l1 + l2 + l3)).abs().min()) > 1


def test_factor_out_has_block_diagonal_jacobian():
    inner = Scaling(2).double()
    with torch.no_grad():
        inner.log_scale.copy_(torch.tensor([0.3, -0.7], dtype=torch.float64))
    layer = FactorOut(3, inner)
    x = torch.randn(5, dtype=torch.float64)
    J = jacobian(lambda r: layer(r.unsqueeze(0))[0].squeeze(0), x)
    expected = torch.diag(
        torch.tensor([1, 1, 1, math.exp(0.3), math.exp(-0.7)], dtype=torch.float64)
    )
    torch.testing.assert_close(J, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: squeeze_permutation(1, 3, 4), ValueError, "height must be even"),
        (lambda: squeeze_permutation(1, 4, 5), ValueError, "width must be even"),
        (lambda: squeeze_permutation(0, 4, 4), ValueError, "channels must be an int >= 1"),
        (lambda: FactorOut(2, torch.nn.Linear(2, 2)), TypeError, "inner must be a Bijection"),
        (lambda: FactorOut(0, Scaling(2)), ValueError, "factored must be an int >= 1"),
        (lambda: FactorOut(2, Scaling(2))(torch.zeros(1, 3)), ValueError, r"x must have D = 4"),
    ],
    ids=["odd height", "odd width", "no channels", "inner type", "factored", "input shape"],
)
def test_bad_input_raises_a_clear_error(make, error, match):
    with pytest.raises(error, match=match):
        make()
