"""Flows as distributions, maximum-likelihood training, and the data sets of the flow pages."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import (
    Independent,
    MultivariateNormal,
    SigmoidTransform,
    TransformedDistribution,
    Uniform,
)

from notes._validate import tensor as check_tensor
from notes.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Flow,
    Logit,
    Reverse,
    Scaling,
    alternating_mask,
    bits_per_dim,
    checkerboard,
    checkerboard_log_prob,
    dequantize,
    eight_gaussians,
    eight_gaussians_log_prob,
    fit,
    fit_gaussian,
    fit_histogram,
    fit_together,
    histogram_log_prob,
    load_digits,
    local_maxima,
    logistic_log_prob,
    make_optimizer,
    normal_log_prob,
    num_threads,
    sample_base,
    train_test_split,
    two_moons,
    two_moons_log_prob,
)
from notes.flows import data as flows_data
from notes.flows import training as flows_training


def _flow(dim: int = 2, base: str = "gaussian", seed: int = 0) -> Flow:
    g = torch.Generator().manual_seed(seed)
    layers = [
        ActNorm(dim),
        AffineCoupling(dim, generator=g),
        Reverse(dim),
        AffineCoupling(dim, generator=g),
    ]
    return Flow(layers, base=base)  # type: ignore[arg-type]


def test_normal_log_prob_matches_torch():
    z = torch.randn(7, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    reference = Independent(torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1)
    torch.testing.assert_close(normal_log_prob(z), reference.log_prob(z))


def test_logistic_log_prob_matches_torch_transformed_uniform():
    # The standard logistic is the image of U(0, 1) under the logit, the inverse of the sigmoid.
    z = 4 * torch.randn(7, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    zero, one = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    reference = Independent(
        TransformedDistribution(Uniform(zero, one), [SigmoidTransform().inv]), 1
    )
    torch.testing.assert_close(logistic_log_prob(z), reference.log_prob(z))


@pytest.mark.parametrize("base", ["gaussian", "logistic"], ids=["gaussian", "logistic"])
def test_base_samples_have_the_base_variance(base: str):
    # Var = 1 for the Gaussian, pi^2 / 3 for the logistic; the sample variance of n draws has
    # standard error sqrt((kurtosis - 1) / n) * Var, kurtosis 3 and 4.2 respectively.
    n = 200_000
    z = sample_base(base, n, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)  # type: ignore[arg-type]
    var, kurtosis = (1.0, 3.0) if base == "gaussian" else (math.pi**2 / 3, 4.2)
    se = math.sqrt((kurtosis - 1) / n) * var
    assert abs(float(z.var()) - var) < 5 * se


def test_flow_log_prob_matches_torch_transformed_distribution():
    flow = _flow(3).double()
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        flow.log_prob(x)  # initialise actnorm
        for p in flow.parameters():
            p.add_(
                0.3
                * torch.randn(p.shape, generator=torch.Generator().manual_seed(4), dtype=p.dtype)
            )
        base = Independent(torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1)
        reference = TransformedDistribution(base, [flow.chain.as_transform().inv])
        torch.testing.assert_close(flow.log_prob(x), reference.log_prob(x))
        torch.testing.assert_close(flow(x), flow.log_prob(x))


def test_flow_density_integrates_to_one_in_1d():
    # A 1-D flow (logit, then scaling): the density on (0, 1) integrates to 1 (midpoint rule).
    layer = Scaling(1)
    with torch.no_grad():
        layer.log_scale.fill_(-0.7)
    flow = Flow([Logit(1, alpha=0.0), layer]).double()
    n = 200_000
    x = ((torch.arange(n, dtype=torch.float64) + 0.5) / n).unsqueeze(1)
    with torch.no_grad():
        mass = float(flow.log_prob(x).exp().mean())
    assert abs(mass - 1) < 1e-6


def test_sampling_inverts_the_flow():
    flow = _flow(2).double()
    flow.log_prob(
        torch.randn(32, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    )
    g1, g2 = torch.Generator().manual_seed(6), torch.Generator().manual_seed(6)
    x = flow.sample(10, generator=g1)
    z = torch.randn(10, 2, generator=g2, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(flow.chain(x)[0], z)
    assert not x.requires_grad
    assert float(flow.sample(1000, temperature=0.1, generator=g1).std()) < float(x.std())


def test_fit_is_deterministic_and_lowers_the_loss():
    data = two_moons(2048, generator=torch.Generator().manual_seed(7))
    runs = []
    for _ in range(2):
        flow = _flow(2, seed=8)
        runs.append(fit(flow, data, steps=60, lr=5e-3, generator=torch.Generator().manual_seed(9)))
    assert torch.equal(runs[0], runs[1])
    assert float(runs[0][-10:].mean()) < float(runs[0][:10].mean())
    assert not flow.training


def test_fit_with_full_batch_and_dequantisation():
    v = torch.randint(17, (40, 2), generator=torch.Generator().manual_seed(10)).float()
    flow = Flow([Logit(2), AdditiveCoupling(2), Scaling(2)], base="logistic")
    losses = fit(
        flow, v, steps=3, batch_size=100, levels=17, generator=torch.Generator().manual_seed(0)
    )
    assert losses.shape == (3,)
    assert bool(torch.isfinite(losses).all())


def test_num_threads_restores_the_previous_setting():
    before = torch.get_num_threads()
    with num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with num_threads(None):
        assert torch.get_num_threads() == before


def test_fit_gaussian_is_the_maximum_likelihood_fit():
    g = torch.Generator().manual_seed(11)
    x = torch.randn(500, 3, generator=g, dtype=torch.float64) @ torch.tensor(
        dtype=torch.float64, data=[[1.0, 0, 0], [0.5, 1, 0], [0, 0.3, 2]]
    )
    fitted = fit_gaussian(x)
    torch.testing.assert_close(fitted.mean, x.mean(0))
    torch.testing.assert_close(fitted.covariance_matrix, torch.cov(x.T, correction=0))
    # The MLE has the highest mean log-likelihood on its own data: any other Gaussian does worse.
    other = MultivariateNormal(fitted.mean + 0.1, fitted.covariance_matrix * 1.1)
    assert float(fitted.log_prob(x).mean()) > float(other.log_prob(x).mean())


def test_bits_per_dim_of_the_uniform_density_is_log2_of_the_levels():
    assert bits_per_dim(0.0, 64, 17) == pytest.approx(math.log2(17))
    assert bits_per_dim(torch.tensor(-64 * math.log(2)), 64, 256) == pytest.approx(9.0)


SAMPLERS: dict[str, tuple[Callable[..., torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "two moons": (two_moons, two_moons_log_prob),
    "eight gaussians": (eight_gaussians, eight_gaussians_log_prob),
    "checkerboard": (checkerboard, checkerboard_log_prob),
}


@pytest.mark.parametrize("name", list(SAMPLERS), ids=list(SAMPLERS))
def test_toy_density_integrates_to_one(name: str):
    # Midpoint rule on a 200 x 200 grid over [-4, 4]^2: the mass outside is below 1e-6, the
    # checkerboard's edges fall on grid lines, and the Gaussians (std >= 0.2) are smooth on
    # the 0.04 grid.
    _, log_prob = SAMPLERS[name]
    h = 8 / 200
    centres = -4 + h * (torch.arange(200, dtype=torch.float64) + 0.5)
    grid = torch.cartesian_prod(centres, centres)
    mass = float(log_prob(grid).exp().sum() * h * h)
    assert abs(mass - 1) < 1e-3


@pytest.mark.parametrize("name", list(SAMPLERS), ids=list(SAMPLERS))
def test_toy_density_is_the_samplers_density(name: str):
    # Gibbs: E_p[log p] >= E_p[log q] for any q; and the sampler's own density is finite on
    # its samples. Compare with a fitted Gaussian q, which must score lower (5 standard errors).
    sampler, log_prob = SAMPLERS[name]
    x = sampler(20_000, generator=torch.Generator().manual_seed(12))
    lp = log_prob(x)
    assert bool(torch.isfinite(lp).all())
    gap = lp - fit_gaussian(x).log_prob(x.double())
    assert float(gap.mean()) > 5 * float(gap.std()) / math.sqrt(len(gap))


def test_two_moons_quadrature_is_converged_on_samples():
    # The midpoint rule's error is O(h^2), largest next to the ends of the arcs.
    x = two_moons(2000, generator=torch.Generator().manual_seed(13))
    error = (two_moons_log_prob(x) - two_moons_log_prob(x, nodes=4096)).abs()
    assert float(error.max()) < 2e-3


@given(seed=st.integers(0, 2**16), n=st.integers(1, 50))
@settings(max_examples=10, deadline=None, derandomize=True)
def test_dequantised_digits_stay_in_their_bins(seed: int, n: int):
    v = torch.randint(17, (n, 3), generator=torch.Generator().manual_seed(seed))
    x = dequantize(v, 17, generator=torch.Generator().manual_seed(seed + 1))
    assert torch.equal(torch.floor(x * 17).long(), v)


def test_load_digits_has_17_levels():
    v = load_digits()
    assert v.shape == (1797, 64)
    assert set(v.unique().tolist()) <= set(range(17))


def test_load_digits_without_scikit_learn_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    def missing(_name: str) -> object:
        return None  # what find_spec says of a package that is not installed

    monkeypatch.setattr(flows_data.importlib.util, "find_spec", missing)
    with pytest.raises(ImportError, match="load_digits needs scikit-learn"):
        load_digits()


def test_load_digits_is_scikit_learns_table():
    datasets = pytest.importorskip("sklearn.datasets")
    reference = torch.as_tensor(datasets.load_digits().data, dtype=torch.float32)
    assert torch.equal(load_digits(), reference)


def test_train_test_split_partitions_the_rows():
    x = torch.arange(20.0).reshape(10, 2)
    train, test = train_test_split(x, 0.3, generator=torch.Generator().manual_seed(0))
    assert sorted(torch.cat([train, test])[:, 0].tolist()) == x[:, 0].tolist()


def test_the_data_check_returns_valid_input():
    x = torch.zeros(3, 2)
    assert check_tensor("x", x, dims="N D", sizes={"D": 2}) is x


BAD_INPUTS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "log_prob wrong dim",
        lambda: _flow(2).log_prob(torch.zeros(4, 3)),
        ValueError,
        r"x must (have D = 2 in|be 2-D with) shape \(N, D\)",
    ),
    (
        "log_prob 1-D",
        lambda: _flow(2).log_prob(torch.zeros(2)),
        ValueError,
        r"x must (have D = 2 in|be 2-D with) shape \(N, D\)",
    ),
    (
        "log_prob NaN",
        lambda: _flow(2).log_prob(torch.tensor([[0.0, math.nan]])),
        ValueError,
        "x must be finite",
    ),
    (
        "log_prob inf",
        lambda: _flow(2).log_prob(torch.tensor([[math.inf, 0.0]])),
        ValueError,
        "x must be finite",
    ),
    (
        "log_prob integers",
        lambda: _flow(2).log_prob(torch.zeros(2, 2, dtype=torch.long)),
        TypeError,
        "floating dtype",
    ),
    (
        "log_prob list",
        lambda: _flow(2).log_prob([[0.0, 0.0]]),
        TypeError,
        "x must be a torch.Tensor",
    ),
    ("flow base", lambda: Flow([Scaling(2)], base="laplace"), ValueError, "base must be"),  # type: ignore[arg-type]
    ("sample n", lambda: _flow(2).sample(0), ValueError, "n must be an int >= 1"),
    (
        "sample temperature",
        lambda: _flow(2).sample(2, temperature=0.0),
        ValueError,
        "temperature must be > 0",
    ),
    ("sample_base base", lambda: sample_base("cauchy", 2, 2), ValueError, "base must be"),  # type: ignore[arg-type]
    ("sample_base n", lambda: sample_base("gaussian", -1, 2), ValueError, "n must be an int >= 0"),
    (
        "fit_gaussian few rows",
        lambda: fit_gaussian(torch.zeros(2, 2)),
        ValueError,
        "more rows than columns",
    ),
    ("bits levels", lambda: bits_per_dim(0.0, 4, 1), ValueError, "levels must be an int >= 2"),
    ("bits dim", lambda: bits_per_dim(0.0, 0, 17), ValueError, "dim must be an int >= 1"),
    (
        "fit not a flow",
        lambda: fit(torch.nn.Linear(2, 2), torch.zeros(4, 2), steps=1),
        TypeError,
        "flow must be a Flow",
    ),
    (
        "fit NaN data",
        lambda: fit(_flow(2), torch.full((4, 2), math.nan), steps=1),
        ValueError,
        "x must be finite",
    ),
    (
        "fit wrong dim",
        lambda: fit(_flow(2), torch.zeros(4, 5), steps=1),
        ValueError,
        r"x must (have D = 2 in shape \(N, D\)|have a dimension of 2 in shape \(N, 2\)|be 2-D)",
    ),
    (
        "fit steps",
        lambda: fit(_flow(2), torch.zeros(4, 2), steps=0),
        ValueError,
        "steps must be an int >= 1",
    ),
    (
        "fit batch",
        lambda: fit(_flow(2), torch.zeros(4, 2), steps=1, batch_size=0),
        ValueError,
        "batch_size",
    ),
    (
        "fit levels",
        lambda: fit(_flow(2), torch.zeros(4, 2), steps=1, levels=1),
        ValueError,
        "levels must be",
    ),
    (
        "fit lr",
        lambda: fit(_flow(2), torch.randn(4, 2), steps=1, lr=-1.0),
        ValueError,
        "lr must be > 0",
    ),
    (
        "optimizer no params",
        lambda: make_optimizer(Flow([Reverse(2)])),
        ValueError,
        "no trainable parameters",
    ),
    ("threads", lambda: num_threads(0).__enter__(), ValueError, "n must be an int >= 1"),
    ("moons n", lambda: two_moons(0), ValueError, "n must be an int >= 1"),
    (
        "moons noise",
        lambda: two_moons(5, noise=-0.1),
        ValueError,
        "noise must be > 0",
    ),
    (
        "moons noise type",
        lambda: two_moons(5, noise="big"),
        TypeError,
        "noise must be a real number",
    ),  # type: ignore[arg-type]
    (
        "gaussians std",
        lambda: eight_gaussians(5, std=math.inf),
        ValueError,
        "std must be finite",
    ),
    ("board n", lambda: checkerboard(2.5), ValueError, "n must be an int"),  # type: ignore[arg-type]
    (
        "moons log_prob dim",
        lambda: two_moons_log_prob(torch.zeros(3, 3)),
        ValueError,
        r"x must (have D = 2 in shape \(N, D\)|have a dimension of 2 in shape \(N, 2\)|be 2-D)",
    ),
    (
        "gaussians log_prob NaN",
        lambda: eight_gaussians_log_prob(torch.tensor([[math.nan, 0.0]])),
        ValueError,
        "finite",
    ),
    (
        "board log_prob dim",
        lambda: checkerboard_log_prob(torch.zeros(3)),
        ValueError,
        r"x must (have D = 2 in shape \(N, D\)|have a dimension of 2 in shape \(N, 2\)|be 2-D)",
    ),
    (
        "dequantize levels",
        lambda: dequantize(torch.zeros(2, 2), 1),
        ValueError,
        "levels must be an int >= 2",
    ),
    (
        "dequantize shape",
        lambda: dequantize(torch.zeros(2), 17),
        ValueError,
        r"q must be 2-D with shape \(N, D\)",
    ),
    (
        "dequantize fraction",
        lambda: dequantize(torch.tensor([[0.5]]), 17),
        ValueError,
        r"whole numbers in \[0, 16\]",
    ),
    (
        "dequantize range",
        lambda: dequantize(torch.tensor([[17]]), 17),
        ValueError,
        r"whole numbers in \[0, 16\]",
    ),
    (
        "split fraction",
        lambda: train_test_split(torch.zeros(4, 2), 1.0),
        ValueError,
        r"test_fraction must be in \(0, 1\)",
    ),
    (
        "split shape",
        lambda: train_test_split(torch.zeros(4), 0.5),
        ValueError,
        r"x must be 2-D with shape \(N, D\)",
    ),
    (
        "split empty",
        lambda: train_test_split(torch.zeros(2, 2), 0.1),
        ValueError,
        "x has too few rows",
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


def test_histogram_is_the_smoothed_frequency_of_each_level():
    q = torch.tensor([[0, 2], [0, 1], [1, 2], [0, 2]])
    table = fit_histogram(q, 3, pseudocount=0.5)
    expected = (torch.tensor([[3, 1, 0], [0, 1, 3]], dtype=torch.float64) + 0.5) / (4 + 1.5)
    torch.testing.assert_close(table.exp(), expected)
    torch.testing.assert_close(table.exp().sum(1), torch.ones(2, dtype=torch.float64))


def test_histogram_density_is_exact_on_cells_and_integrates_to_one():
    # p(x) = prod_i Q P_i(floor(Q x_i)): a density on [0, 1)^D, and its bits/dim are those of
    # the discrete model (the dequantisation bound is tight for a density constant on cells).
    g = torch.Generator().manual_seed(0)
    q = torch.randint(5, (200, 2), generator=g)
    table = fit_histogram(q, 5)
    centres = (torch.arange(5, dtype=torch.float64) + 0.5) / 5
    grid = torch.cartesian_prod(centres, centres)
    mass = float(histogram_log_prob(table, grid).exp().sum()) / 25
    assert abs(mass - 1) < 1e-12
    x = dequantize(q, 5, generator=g)
    discrete = table.gather(1, q.T).T.sum(-1)
    torch.testing.assert_close(histogram_log_prob(table, x) - 2 * math.log(5), discrete)


def test_local_maxima_counts_the_modes_of_the_toy_densities():
    h = torch.linspace(-3.2, 3.2, 121)
    grid = torch.cartesian_prod(h, h)
    assert local_maxima(eight_gaussians_log_prob(grid).exp().reshape(121, 121)) == 8
    assert local_maxima(normal_log_prob(grid).exp().reshape(121, 121)) == 1


def test_a_volume_preserving_flow_peaks_where_its_prior_does():
    # NICE's log-det does not depend on x, so p_X(x) = p_Z(f(x)) e^c, whose one mode is
    # f^{-1}(0), for any parameters: here random ones away from the identity.
    g = torch.Generator().manual_seed(1)
    layers = [AdditiveCoupling(2, alternating_mask(2, k % 2), (32,), generator=g) for k in range(4)]
    flow = Flow([*layers, Scaling(2)], base="logistic")
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
        mode = flow.chain.inverse(torch.zeros(1, 2))[0]  # f^{-1}(0), the one mode
        h = torch.linspace(-2, 2, 161)
        grid = torch.cartesian_prod(mode[0] + h, mode[1] + h)
        _, ladj = flow.chain(grid)
        assert float(ladj.max() - ladj.min()) == 0.0
        log_p = flow.log_prob(grid)
        # p_X(x) = p_Z(f(x)) e^c: its highest point is the grid point next to f^{-1}(0)
        z, _ = flow.chain(grid)
        constant = log_p - logistic_log_prob(z)
        assert float(constant.max() - constant.min()) < 1e-4
        peak = grid[log_p.argmax()]
        assert float((peak - mode).abs().max()) <= 4 / 160


def test_cosine_schedule_decays_the_learning_rate_and_is_deterministic():
    data = two_moons(512, generator=torch.Generator().manual_seed(7))
    runs = [
        fit(
            _flow(2, seed=8),
            data,
            steps=40,
            lr=5e-3,
            schedule="cosine",
            generator=torch.Generator().manual_seed(9),
        )
        for _ in range(2)
    ]
    assert torch.equal(runs[0], runs[1])
    with pytest.raises(ValueError, match="schedule must be one of"):
        fit(_flow(2), data, steps=1, schedule="linear")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: fit_histogram([[0, 1]], 2), TypeError, "q must be a torch.Tensor"),
        (lambda: fit_histogram(torch.tensor([[0, 2]]), 2), ValueError, r"q must hold integers"),
        (lambda: fit_histogram(torch.tensor([[0.5]]), 2), ValueError, r"q must hold integers"),
        (lambda: fit_histogram(torch.tensor([[0]]), 1), ValueError, "levels must be an int >= 2"),
        (
            lambda: fit_histogram(torch.tensor([[0]]), 2, pseudocount=0.0),
            ValueError,
            "pseudocount must be > 0",
        ),
        (
            lambda: histogram_log_prob(fit_histogram(torch.tensor([[0]]), 2), torch.ones(1, 1)),
            ValueError,
            r"x must lie in \[0, 1\)",
        ),
        (
            lambda: histogram_log_prob(fit_histogram(torch.tensor([[0]]), 2), torch.zeros(1, 2)),
            ValueError,
            r"x must have D = 1 in shape \(N, D\)",
        ),
        (
            lambda: fit_histogram(torch.zeros(0, 2, dtype=torch.long), 2),
            ValueError,
            r"q must have N >= 1",
        ),
        (
            lambda: histogram_log_prob(torch.zeros(0, 2), torch.zeros(1, 0)),
            ValueError,
            r"log_table must have D >= 1",
        ),
        (
            lambda: histogram_log_prob(torch.zeros(1, 2), torch.zeros(1, 1)),
            ValueError,
            r"log_table must sum to 1",
        ),
        (lambda: local_maxima(torch.zeros(2, 5)), ValueError, r"values must have H >= 3"),
        (lambda: local_maxima([[0.0] * 3] * 3), TypeError, "values must be a torch.Tensor"),
        (
            lambda: local_maxima(torch.full((3, 3), math.nan)),
            ValueError,
            r"values must be finite",
        ),
        (lambda: local_maxima(torch.zeros(4, 4), floor=1.0), ValueError, r"floor must be in"),
        (lambda: local_maxima(torch.zeros(4, 4), floor="0"), TypeError, "floor must be a real"),
    ],
    ids=[
        "hist list",
        "hist level too high",
        "hist fraction",
        "hist levels",
        "hist pseudocount",
        "hist x outside",
        "hist x shape",
        "hist no rows",
        "hist empty table",
        "hist table not normalised",
        "maxima small grid",
        "maxima list",
        "maxima nan",
        "maxima floor",
        "maxima floor str",
    ],
)
def test_new_baselines_refuse_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --- fit_together: M flows stacked, each trained as fit would ------------------------------------
def _nice(seed: int) -> Flow:
    g = torch.Generator().manual_seed(seed)
    masks = [alternating_mask(2, k % 2) for k in range(4)]
    couplings = [AdditiveCoupling(2, m, (16, 16), generator=g) for m in masks]
    return Flow([*couplings, Scaling(2)], base="logistic")


def _realnvp(seed: int) -> Flow:
    g = torch.Generator().manual_seed(seed)
    masks = [alternating_mask(2, k % 2) for k in range(4)]
    couplings = [AffineCoupling(2, m, (16, 16), generator=g) for m in masks]
    return Flow([ActNorm(2), *couplings, Reverse(2)], base="gaussian")


@pytest.mark.parametrize("make", [_nice, _realnvp], ids=["NICE", "RealNVP"])
def test_fit_together_trains_each_flow_as_fit_does(make: Callable[[int], Flow]):
    # The same seeds for weights and minibatches: the stacked run must retrace each separate
    # one. Only the rounding of the batched products may differ; float32 carries about 7
    # digits, and 20 steps of Adam do not amplify a rounding difference past 1e-4 relative.
    xs = [two_moons(1000, generator=torch.Generator().manual_seed(1)), checkerboard(800)]
    options = {"steps": 20, "batch_size": 128, "lr": 5e-3, "schedule": "cosine"}
    alone = [make(s) for s in (2, 3)]
    expected = torch.stack(
        [
            fit(f, x, generator=torch.Generator().manual_seed(10 + m), **options)  # type: ignore[arg-type]
            for m, (f, x) in enumerate(zip(alone, xs, strict=True))
        ]
    )
    together = [make(s) for s in (2, 3)]
    gens = [torch.Generator().manual_seed(10 + m) for m in range(2)]
    losses = fit_together(together, xs, generators=gens, **options)  # type: ignore[arg-type]
    assert losses.shape == (2, 20)
    torch.testing.assert_close(losses, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(alone, together, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(q, p, rtol=1e-3, atol=1e-4)
        assert not b.training
    # and the comparison has teeth: other minibatches give other losses
    other = [make(s) for s in (2, 3)]
    shuffled = [torch.Generator().manual_seed(20 + m) for m in range(2)]
    wrong = fit_together(other, xs, generators=shuffled, **options)  # type: ignore[arg-type]
    assert not torch.allclose(wrong, expected, rtol=1e-4, atol=1e-5)


def test_fit_together_starts_each_actnorm_on_its_own_data():
    xs = [torch.randn(500, 2) * 0.1 + 3, torch.randn(500, 2) * 10 - 1]
    flows = [Flow([ActNorm(2), AffineCoupling(2)]) for _ in xs]
    fit_together(flows, xs, steps=1, batch_size=1000, lr=1e-9)
    for flow, x in zip(flows, xs, strict=True):
        actnorm = flow.chain.layers[0]
        torch.testing.assert_close(actnorm.loc, x.mean(0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: ([_nice(0), _realnvp(1)], 2), ValueError, r"flows\[1\] has base"),
        (
            lambda: (
                [
                    _realnvp(0),
                    Flow([ActNorm(2), Reverse(2), Reverse(2), Reverse(2), Reverse(2), Reverse(2)]),
                ],
                2,
            ),
            ValueError,
            r"flows\[1\] must have the architecture of flows\[0\]",
        ),
        (
            lambda: (
                [
                    Flow([AffineCoupling(2, alternating_mask(2, 0))]),
                    Flow([AffineCoupling(2, alternating_mask(2, 1))]),
                ],
                2,
            ),
            ValueError,
            r"flows\[1\] must share flows\[0\]'s mask",
        ),
        (
            lambda: (
                [Flow([AffineCoupling(2, hidden=(4,))]), Flow([AffineCoupling(2, hidden=(8,))])],
                2,
            ),
            ValueError,
            "networks of one shape",
        ),
        (
            lambda: ([_realnvp(0), Flow([ActNorm(2), Reverse(2)])], 2),
            ValueError,
            "it has 2 layers, not 6",
        ),
        (lambda: ([Flow([Logit(2)]), Flow([Logit(2)])], 2), TypeError, "cannot stack"),
        (lambda: ([], 0), TypeError, "flows must be a non-empty list"),
        (lambda: ([_nice(0), _nice(1)], 1), TypeError, "xs must be a list of 2 tensors"),
    ],
    ids=["bases", "layers", "masks", "widths", "depth", "layer type", "no flows", "xs length"],
)
def test_fit_together_refuses_flows_it_cannot_stack(make, error, match):
    flows, n = make()
    xs = [torch.rand(16, 2) * 0.8 + 0.1 for _ in range(n)]
    with pytest.raises(error, match=match):
        fit_together(flows, xs, steps=1)


def test_fit_together_refuses_generators_of_the_wrong_number():
    with pytest.raises(TypeError, match="generators must be a list of 2"):
        fit_together([_nice(0), _nice(1)], [torch.randn(8, 2)] * 2, steps=1, generators=[None])


def test_a_diverging_loss_is_an_error_naming_the_step(monkeypatch: pytest.MonkeyPatch):
    calls = {"n": 0}

    def step(*_: object) -> torch.Tensor:  # the third step's loss is NaN
        calls["n"] += 1
        return torch.tensor(math.nan if calls["n"] == 3 else 1.0)

    monkeypatch.setattr(flows_training, "_step", step)
    with pytest.raises(ValueError, match=r"the loss is not finite from step 2 of 5 .*lower lr"):
        fit(_flow(), torch.randn(64, 2), steps=5)
