"""Every flow layer: log|det J| against autograd's Jacobian in float64, and inverse(forward(x)) = x.

Property-based over the feature dimension, the batch size and the seed (hypothesis), then the
Glow-specific claims (actnorm's first batch, LU log-det against slogdet) and every bad input.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd.functional import jacobian
from torch.distributions import Independent, Normal, TransformedDistribution

from notes._validate import positive_int
from notes.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Bijection,
    Chain,
    InvertibleLinear,
    Logit,
    Permutation,
    Reverse,
    Scaling,
    alternating_mask,
    checkerboard_mask,
    mlp,
)

PROPERTY = settings(max_examples=12, deadline=None, derandomize=True)


def _random_mask(dim: int, g: torch.Generator) -> torch.Tensor:
    mask = torch.rand(dim, generator=g) < 0.5
    mask[torch.randint(dim, (1,), generator=g)] = True
    keep = torch.nonzero(mask).flatten()
    if len(keep) == dim:  # make sure some feature is transformed
        mask[keep[0]] = False
    return mask


def _perturb(layer: Bijection, g: torch.Generator) -> Bijection:
    # Couplings start as the identity (zero last layer): move every parameter off it.
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return layer


def _actnorm(dim: int, g: torch.Generator) -> Bijection:
    layer = ActNorm(dim).double()
    layer.initialize(3 * torch.randn(16, dim, generator=g, dtype=torch.float64) + 1)
    return _perturb(layer, g)


LAYERS: dict[str, Callable[[int, torch.Generator], Bijection]] = {
    "additive": lambda d, g: _perturb(
        AdditiveCoupling(d, _random_mask(d, g), (8,), generator=g), g
    ),
    "affine": lambda d, g: _perturb(AffineCoupling(d, _random_mask(d, g), (8, 8), generator=g), g),
    "scaling": lambda d, g: _perturb(Scaling(d), g),
    "permutation": lambda d, g: Permutation(torch.randperm(d, generator=g)),
    "reverse": lambda d, _: Reverse(d),
    "actnorm": _actnorm,
    "lu": lambda d, g: _perturb(InvertibleLinear(d, generator=g), g),
    "logit": lambda d, _: Logit(d, alpha=0.05),
    "chain": lambda d, g: Chain(
        [
            _actnorm(d, g),
            _perturb(AffineCoupling(d, alternating_mask(d), (8,), generator=g), g),
            Reverse(d),
            _perturb(InvertibleLinear(d, generator=g), g),
            _perturb(AdditiveCoupling(d, alternating_mask(d, 1), (8,), generator=g), g),
            _perturb(Scaling(d), g),
        ]
    ),
}


def _inputs(kind: str, batch: int, dim: int, g: torch.Generator) -> torch.Tensor:
    if kind == "logit":  # the logit map is defined on [0, 1]
        return torch.rand(batch, dim, generator=g, dtype=torch.float64)
    return torch.randn(batch, dim, generator=g, dtype=torch.float64)


def _autograd_ladj(layer: Bijection, x: torch.Tensor) -> torch.Tensor:
    def f(row: torch.Tensor) -> torch.Tensor:
        return layer(row.unsqueeze(0))[0].squeeze(0)

    return torch.stack([torch.linalg.slogdet(jacobian(f, row)).logabsdet for row in x])


dims = st.integers(min_value=2, max_value=6)
batches = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**16)


@pytest.mark.parametrize("kind", list(LAYERS), ids=list(LAYERS))
@PROPERTY
@given(dim=dims, batch=batches, seed=seeds)
def test_log_det_equals_autograd_jacobian_in_float64(kind: str, dim: int, batch: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    layer = LAYERS[kind](dim, g).double()
    x = _inputs(kind, batch, dim, g)
    _, ladj = layer(x)
    assert ladj.shape == (batch,)
    torch.testing.assert_close(ladj, _autograd_ladj(layer, x), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", list(LAYERS), ids=list(LAYERS))
@PROPERTY
@given(dim=dims, batch=batches, seed=seeds)
def test_inverse_undoes_forward(kind: str, dim: int, batch: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    layer = LAYERS[kind](dim, g).double()
    x = _inputs(kind, batch, dim, g)
    with torch.no_grad():
        y, _ = layer(x)
        torch.testing.assert_close(layer.inverse(y), x, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", ["affine", "lu", "chain"], ids=["affine", "lu", "chain"])
@PROPERTY
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=2), seed=seeds)
def test_layers_act_on_the_last_dimension_of_any_batch_shape(
    kind: str, shape: list[int], seed: int
):
    g = torch.Generator().manual_seed(seed)
    layer = LAYERS[kind](3, g).double()
    x = torch.randn(*shape, 3, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y, ladj = layer(x)
        assert y.shape == x.shape
        assert ladj.shape == tuple(shape)
        torch.testing.assert_close(layer.inverse(y), x)


def test_torch_transform_adapter_gives_the_flow_density():
    g = torch.Generator().manual_seed(0)
    layer = LAYERS["chain"](3, g).double()
    base = Independent(Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1)
    dist = TransformedDistribution(base, [layer.as_transform().inv])
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    with torch.no_grad():
        z, ladj = layer(x)
        torch.testing.assert_close(dist.log_prob(x), base.log_prob(z) + ladj)
        t = layer.as_transform()
        torch.testing.assert_close(t(x), z)
        torch.testing.assert_close(t.inv(z), x)
        torch.testing.assert_close(t.log_abs_det_jacobian(x, z), ladj)
        torch.testing.assert_close(t.call_and_ladj(x)[1], ladj)
    assert t == layer.as_transform()
    assert hash(t) == hash(layer.as_transform())
    assert t.with_cache()._cache_size == 1


def test_composition_adds_log_dets():
    g = torch.Generator().manual_seed(1)
    a, b = LAYERS["affine"](4, g).double(), LAYERS["lu"](4, g).double()
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    with torch.no_grad():
        h, la = a(x)
        _, lb = b(h)
        torch.testing.assert_close(Chain([a, b])(x)[1], la + lb)


def test_actnorm_first_batch_comes_out_zero_mean_unit_variance():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(500, 5, generator=g) * torch.tensor([0.1, 1.0, 3.0, 10.0, 50.0]) + 7
    layer = ActNorm(5)
    with torch.no_grad():
        y, _ = layer(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(5), atol=1e-5, rtol=0)
    with torch.no_grad():  # the second batch does not re-initialise
        y2, _ = layer(x + 1)
    assert float(y2.mean()) > 0.1


def test_actnorm_with_fixed_parameters_is_the_affine_map_and_skips_initialisation():
    loc = torch.tensor([1.0, -2.0], dtype=torch.float64)
    scale = torch.tensor([0.5, 4.0], dtype=torch.float64)
    layer = ActNorm(2, loc=loc, scale=scale)
    x = torch.tensor([[2.0, 2.0]], dtype=torch.float64)
    with torch.no_grad():
        y, ladj = layer(x)
    torch.testing.assert_close(y, (x - loc) / scale)
    torch.testing.assert_close(ladj, -scale.log().sum().reshape(1))
    assert layer.loc.dtype == torch.float64


@pytest.mark.parametrize("dim", [2, 5, 16], ids=["D=2", "D=5", "D=16"])
def test_lu_log_det_equals_slogdet(dim: int):
    g = torch.Generator().manual_seed(dim)
    layer = _perturb(InvertibleLinear(dim, generator=g), g).double()
    with torch.no_grad():
        w = layer.weight()
        _, ladj = layer(torch.zeros(1, dim, dtype=torch.float64))
    torch.testing.assert_close(float(ladj[0]), float(torch.linalg.slogdet(w).logabsdet))


def test_lu_starts_from_a_given_weight():
    w = torch.tensor([[2.0, 1.0], [0.0, -3.0]], dtype=torch.float64)
    layer = InvertibleLinear(2, w)
    with torch.no_grad():
        torch.testing.assert_close(layer.weight(), w)
        _, ladj = layer(torch.zeros(1, 2, dtype=torch.float64))
    assert math.isclose(float(ladj[0]), math.log(6))


def test_mlp_last_layer_is_zero_and_hidden_layers_follow_default_linear_scale():
    net = mlp(100, 3, (400,), generator=torch.Generator().manual_seed(0))
    w = net[0].weight.detach()
    bound = 1 / math.sqrt(100)
    assert float(w.abs().max()) <= bound
    # U(-b, b) has variance b^2 / 3, and its sample variance a relative standard error of
    # sqrt(Var[X^2] / n) / (b^2 / 3) = sqrt(0.8 / n): check to 5 of them.
    assert abs(float(w.var()) / (bound**2 / 3) - 1) < 5 * math.sqrt(0.8 / w.numel())
    assert float(net[-1].weight.detach().abs().sum()) == 0.0


def test_masks():
    assert alternating_mask(4, 1).tolist() == [False, True, False, True]
    board = checkerboard_mask(8, 8)
    assert int(board.sum()) == 32
    assert torch.equal(board, ~checkerboard_mask(8, 8, 1))


def test_base_class_methods_are_abstract():
    layer = Bijection(2)
    with pytest.raises(NotImplementedError):
        layer(torch.zeros(1, 2))
    with pytest.raises(NotImplementedError):
        layer.inverse(torch.zeros(1, 2))


BAD_INPUTS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("dim not int", lambda: Scaling(2.0), ValueError, "dim must be an int >= 1"),  # type: ignore[arg-type]
    ("dim bool", lambda: Scaling(True), ValueError, "dim must be an int >= 1"),
    ("dim zero", lambda: Scaling(0), ValueError, "dim must be an int >= 1"),
    (
        "positive_int minimum",
        lambda: positive_int("levels", 1, 2),
        ValueError,
        "levels must be an int >= 2",
    ),
    (
        "wrong feature dim",
        lambda: Scaling(3)(torch.zeros(2, 2)),
        ValueError,
        r"x must have D = 3 in shape \(\*, D\)",
    ),
    (
        "scalar input",
        lambda: Scaling(3)(torch.tensor(1.0)),
        ValueError,
        r"x must be at least 1-D with shape \(\*, D\)",
    ),
    ("not a tensor", lambda: Scaling(2)([[0.0, 0.0]]), TypeError, "x must be a torch.Tensor"),
    (
        "inverse wrong dim",
        lambda: Reverse(3).inverse(torch.zeros(2)),
        ValueError,
        "y must have D = 3 in shape",
    ),
    ("empty chain", lambda: Chain([]), ValueError, "at least one"),
    ("chain of non-layers", lambda: Chain([torch.nn.Linear(2, 2)]), TypeError, r"layers\[0\]"),
    (
        "chain dims differ",
        lambda: Chain([Scaling(2), Scaling(3)]),
        ValueError,
        "share one dimension",
    ),
    (
        "perm float",
        lambda: Permutation(torch.tensor([0.0, 1.0])),
        TypeError,
        "perm must have an integer dtype",
    ),
    (
        "perm 2-D",
        lambda: Permutation(torch.zeros(2, 2, dtype=torch.long)),
        ValueError,
        r"perm must be 1-D with shape \(D\)",
    ),
    ("perm repeats", lambda: Permutation(torch.tensor([0, 0, 2])), ValueError, "each of 0..2"),
    ("perm empty", lambda: Permutation(torch.tensor([], dtype=torch.long)), ValueError, "each of"),
    ("logit alpha", lambda: Logit(2, alpha=0.5), ValueError, r"alpha must be in \[0, 0.5\)"),
    ("logit range", lambda: Logit(2)(torch.tensor([[0.5, 1.5]])), ValueError, r"lie in \[0, 1\]"),
    (
        "mask wrong size",
        lambda: AffineCoupling(3, torch.tensor([True, False])),
        ValueError,
        r"mask must have D = 3 in shape \(D\)",
    ),
    (
        "mask not bool",
        lambda: AdditiveCoupling(2, torch.tensor([1, 0])),
        TypeError,
        "mask must be a bool tensor",
    ),
    (
        "mask all kept",
        lambda: AffineCoupling(2, torch.tensor([True, True])),
        ValueError,
        "both True",
    ),
    (
        "mask none kept",
        lambda: AdditiveCoupling(2, torch.tensor([False, False])),
        ValueError,
        "both True",
    ),
    ("mask dim 1", lambda: alternating_mask(1), ValueError, "dim must be an int >= 2"),
    ("mask parity", lambda: alternating_mask(4, 2), ValueError, "parity must be one of 0, 1"),
    ("board parity", lambda: checkerboard_mask(2, 2, -1), ValueError, "parity must be one of 0, 1"),
    ("board size", lambda: checkerboard_mask(1, 1), ValueError, "height \\* width must be >= 2"),
    ("board height", lambda: checkerboard_mask(0, 4), ValueError, "height must be an int >= 1"),
    ("mlp hidden", lambda: mlp(2, 2, (0,)), ValueError, r"hidden\[0\] must be an int >= 1"),
    ("mlp out", lambda: mlp(2, 0), ValueError, "out_features must be an int >= 1"),
    ("actnorm one row", lambda: ActNorm(2)(torch.zeros(1, 2)), ValueError, ">= 2 rows"),
    (
        "actnorm constant feature",
        lambda: ActNorm(2)(torch.tensor([[0.0, 1.0], [1.0, 1.0]])),
        ValueError,
        r"features \[1\] are constant",
    ),
    (
        "actnorm non-finite",
        lambda: ActNorm(1).initialize(torch.tensor([[0.0], [math.nan]])),
        ValueError,
        "finite",
    ),
    (
        "actnorm scale zero",
        lambda: ActNorm(2, scale=torch.tensor([1.0, 0.0])),
        ValueError,
        r"scale must be > 0, got min 0.0",
    ),
    (
        "actnorm scale negative",
        lambda: ActNorm(1, scale=torch.tensor([-1.0])),
        ValueError,
        "scale must be > 0",
    ),
    (
        "actnorm loc shape",
        lambda: ActNorm(2, loc=torch.zeros(3)),
        ValueError,
        r"loc must have D = 2 in shape \(D\), got shape \(3,\)",
    ),
    (
        "actnorm loc integer",
        lambda: ActNorm(2, loc=torch.zeros(2, dtype=torch.long)),
        TypeError,
        "loc must have a floating dtype",
    ),
    (
        "actnorm scale inf",
        lambda: ActNorm(1, scale=torch.tensor([math.inf])),
        ValueError,
        "scale must be finite",
    ),
    (
        "lu singular",
        lambda: InvertibleLinear(2, torch.tensor([[1.0, 2.0], [2.0, 4.0]])),
        ValueError,
        "must be invertible",
    ),
    (
        "lu zero matrix",
        lambda: InvertibleLinear(2, torch.zeros(2, 2)),
        ValueError,
        "must be invertible",
    ),
    (
        "lu shape",
        lambda: InvertibleLinear(3, torch.eye(2)),
        ValueError,
        r"weight must have D = 3 in shape \(D, D\)",
    ),
    (
        "lu not a tensor",
        lambda: InvertibleLinear(2, [[1.0, 0.0], [0.0, 1.0]]),
        TypeError,
        "weight must be a torch.Tensor, got list",
    ),
    (
        "lu non-finite",
        lambda: InvertibleLinear(2, torch.tensor([[1.0, math.inf], [0.0, 1.0]])),
        ValueError,
        "finite",
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
