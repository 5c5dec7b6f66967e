r"""Data for the flow pages: three 2-D toy densities made in code, and dequantised digits.

Each toy sampler has a companion `*_log_prob` with the exact density, so a trained flow can be
compared with the truth: by Gibbs' inequality $\mathbb{E}_p[\log q(x)] \le \mathbb{E}_p[\log p(x)]$.
[`load_digits`][notes.flows.data.load_digits] reads scikit-learn's bundled 8x8 digits
(no download) and [`dequantize`][notes.flows.data.dequantize] adds uniform noise.

See the [training page](../flows/training.md#toy-densities).
"""

from __future__ import annotations

import gzip
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from notes import _validate as check
from notes._validate import positive_int

__all__ = [
    "checkerboard",
    "checkerboard_log_prob",
    "dequantize",
    "eight_gaussians",
    "eight_gaussians_log_prob",
    "load_digits",
    "local_maxima",
    "train_test_split",
    "two_moons",
    "two_moons_log_prob",
]

_LOG_2PI = math.log(2 * math.pi)


def _check_n(n: object) -> int:
    return positive_int("n", n)


def _check_scale(value: object, name: str) -> float:
    return check.real(name, value, gt=0)


def _check_points(x: object) -> Tensor:
    return check.tensor("x", x, dims="N 2")


def _isotropic_log_prob(x: Tensor, centres: Tensor, std: float) -> Tensor:
    # log N(x; c, std^2 I) for every x (N, 2) and centre c (M, 2): shape (N, M)
    sq = torch.cdist(x.double(), centres.double()) ** 2
    return -0.5 * sq / std**2 - 2 * math.log(std) - _LOG_2PI


def _log_sum_over_centres(x: Tensor, centres: Tensor, std: float) -> Tensor:
    # log sum_c N(x; c, std^2 I), shape (N,), by blocks of 128 rows: a (128, M) block of
    # float64 terms stays in cache, where all N rows at once (N M of them) would not
    blocks = torch.split(x, 128)
    return torch.cat([torch.logsumexp(_isotropic_log_prob(b, centres, std), dim=1) for b in blocks])


def _moon_curve(theta: Tensor) -> Tensor:
    # upper moon (2 cos θ - 1, 2 sin θ - 1/2), θ in [0, π]; the lower moon is its reflection -c
    return torch.stack([2 * torch.cos(theta) - 1, 2 * torch.sin(theta) - 0.5], dim=-1)


def two_moons(n: int, *, noise: float = 0.2, generator: torch.Generator | None = None) -> Tensor:
    r"""Two interleaved half circles of radius 2 blurred by $\mathcal{N}(0, \sigma^2 I)$, shape `(n, 2)`.

    $$ x = \pm\bigl(2\cos\theta - 1,\ 2\sin\theta - \tfrac12\bigr) + \sigma\varepsilon,
    \qquad \theta \sim U(0, \pi),\ \pm \text{ with probability } \tfrac12 $$

    Args:
        n: number of points, >= 1.
        noise: the standard deviation $\sigma > 0$ of the blur.
        generator: source of the randomness.

    Returns:
        Float32 tensor of shape `(n, 2)`.

    Examples:
        >>> two_moons(4, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([4, 2])

    References:
        FFJORD, W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, 2019,
        <https://arxiv.org/abs/1810.01367> (the toy densities of its figures).
        [Training page](../flows/training.md#toy-densities).
    """
    n, noise = _check_n(n), _check_scale(noise, "noise")
    check.generator("generator", generator)
    theta = math.pi * torch.rand(n, generator=generator)
    sign = torch.where(torch.rand(n, generator=generator) < 0.5, 1.0, -1.0).unsqueeze(1)
    eps = torch.randn(n, 2, generator=generator)
    return sign * _moon_curve(theta) + noise * eps


def two_moons_log_prob(x: Tensor, *, noise: float = 0.2, nodes: int = 512) -> Tensor:
    r"""Exact log-density of [`two_moons`][notes.flows.data.two_moons], by quadrature over $\theta$.

    $$ p(x) = \frac{1}{2\pi} \int_0^\pi \bigl[\mathcal{N}(x; c(\theta), \sigma^2 I)
    + \mathcal{N}(x; -c(\theta), \sigma^2 I)\bigr]\, d\theta $$

    The midpoint rule with `nodes` points spaces the centres $2\pi/\text{nodes}$ apart along the
    arc (0.012 for 512 nodes), far below $\sigma$; its $O(h^2)$ error from the arc's end points
    stays below $2 \cdot 10^{-3}$ nats on samples (checked in the tests).

    Args:
        x: points of shape `(N, 2)`, finite.
        noise: the $\sigma$ of the samples.
        nodes: quadrature nodes per half circle.

    Returns:
        Float64 tensor of shape `(N,)`.

    Examples:
        >>> x = two_moons(3, generator=torch.Generator().manual_seed(0))
        >>> two_moons_log_prob(x).shape
        torch.Size([3])

    References:
        [Training page](../flows/training.md#toy-densities).
    """
    _check_points(x)
    noise = _check_scale(noise, "noise")
    positive_int("nodes", nodes)
    theta = (torch.arange(nodes, dtype=torch.float64) + 0.5) * math.pi / nodes
    centres = torch.cat([_moon_curve(theta), -_moon_curve(theta)])  # (2 nodes, 2)
    return _log_sum_over_centres(x, centres, noise) - math.log(2 * nodes)


def _eight_centres(radius: float) -> Tensor:
    angle = torch.arange(8, dtype=torch.float64) * math.pi / 4
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)  # (8, 2)


def eight_gaussians(
    n: int, *, radius: float = 2.0, std: float = 0.3, generator: torch.Generator | None = None
) -> Tensor:
    r"""An equal mixture of eight $\mathcal{N}(c_k, \sigma^2 I)$ with centres on a circle, shape `(n, 2)`.

    $$ c_k = r\,(\cos(k\pi/4), \sin(k\pi/4)), \qquad k = 0, \dots, 7 $$

    Args:
        n: number of points, >= 1.
        radius: the radius $r > 0$ of the circle of centres.
        std: the standard deviation $\sigma > 0$ of each component.
        generator: source of the randomness.

    Returns:
        Float32 tensor of shape `(n, 2)`.

    Examples:
        >>> eight_gaussians(3, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3, 2])

    References:
        FFJORD, W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, 2019,
        <https://arxiv.org/abs/1810.01367> (the toy densities of its figures).
        [Training page](../flows/training.md#toy-densities).
    """
    n = _check_n(n)
    radius, std = _check_scale(radius, "radius"), _check_scale(std, "std")
    check.generator("generator", generator)
    k = torch.randint(8, (n,), generator=generator)
    eps = torch.randn(n, 2, generator=generator)
    return _eight_centres(radius).float()[k] + std * eps


def eight_gaussians_log_prob(x: Tensor, *, radius: float = 2.0, std: float = 0.3) -> Tensor:
    r"""Exact log-density of [`eight_gaussians`][notes.flows.data.eight_gaussians].

    $$ \log p(x) = \log \frac18 \sum_{k=0}^{7} \mathcal{N}(x; c_k, \sigma^2 I) $$

    Args:
        x: points of shape `(N, 2)`, finite.
        radius: the $r$ of the samples.
        std: the $\sigma$ of the samples.

    Returns:
        Float64 tensor of shape `(N,)`.

    Examples:
        >>> round(float(eight_gaussians_log_prob(torch.tensor([[2.0, 0.0]]))[0]), 3)  # log(1/8) - log(2 pi 0.09)
        -1.509

    References:
        [Training page](../flows/training.md#toy-densities).
    """
    _check_points(x)
    radius, std = _check_scale(radius, "radius"), _check_scale(std, "std")
    return _log_sum_over_centres(x, _eight_centres(radius), std) - math.log(8)


def checkerboard(n: int, *, generator: torch.Generator | None = None) -> Tensor:
    r"""Uniform on the eight dark squares of a 4x4 board on $[-2, 2]^2$, shape `(n, 2)`.

    $$ p(x) = \tfrac18 \ \text{ if } \lfloor x_1 \rfloor + \lfloor x_2 \rfloor \text{ is even and } x \in [-2, 2)^2, \quad 0 \text{ otherwise} $$

    A unit square with lower-left corner $(i - 2, j - 2)$ is dark when $i + j$ is even.

    Args:
        n: number of points, >= 1.
        generator: source of the randomness.

    Returns:
        Float32 tensor of shape `(n, 2)`.

    Examples:
        >>> x = checkerboard(1000, generator=torch.Generator().manual_seed(0))
        >>> bool((checkerboard_log_prob(x) > -math.inf).all())
        True

    References:
        FFJORD, W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, 2019,
        <https://arxiv.org/abs/1810.01367> (the toy densities of its figures).
        [Training page](../flows/training.md#toy-densities).
    """
    n = _check_n(n)
    check.generator("generator", generator)
    i = torch.randint(4, (n,), generator=generator)  # column
    j = 2 * torch.randint(2, (n,), generator=generator) + i % 2  # a row with i + j even
    u = torch.rand(n, 2, generator=generator)
    return torch.stack([i, j], dim=-1).float() - 2 + u


def checkerboard_log_prob(x: Tensor) -> Tensor:
    r"""Exact log-density of [`checkerboard`][notes.flows.data.checkerboard]: $\log\frac18$ on dark squares, $-\infty$ elsewhere.

    $$ \log p(x) = -\log 8 \ \text{ on the dark squares}, \quad -\infty \text{ elsewhere} $$

    Args:
        x: points of shape `(N, 2)`, finite.

    Returns:
        Float64 tensor of shape `(N,)`.

    Examples:
        >>> checkerboard_log_prob(torch.tensor([[-1.5, -1.5], [-0.5, -1.5]]))  # dark, light
        tensor([-2.0794,    -inf], dtype=torch.float64)

    References:
        [Training page](../flows/training.md#toy-densities).
    """
    _check_points(x)
    inside = ((x >= -2) & (x < 2)).all(dim=1)
    cell = torch.floor(x).long() + 2
    dark = (cell.sum(dim=1) % 2 == 0) & inside
    out = torch.full(x.shape[:1], -math.inf, dtype=torch.float64)
    return out.masked_fill(dark, -math.log(8))


def dequantize(q: object, levels: int, *, generator: torch.Generator | None = None) -> Tensor:
    r"""Uniform dequantisation: integers $q \in \{0, \dots, Q - 1\}$ become $x = (q + u) / Q \in [0, 1)$.

    $$ x = \frac{q + u}{Q}, \qquad u \sim U(0, 1)^D $$

    A density fitted to $x$ gives a lower bound on the discrete log-likelihood:
    $\log P(q) \ge \mathbb{E}_u[\log p(x)] - D \log Q$.

    Args:
        q: integer-valued data of shape `(N, D)` (any dtype), entries in $[0, Q - 1]$.
        levels: the number of levels $Q \ge 2$.
        generator: source of $u$.

    Returns:
        Float32 tensor of shape `(N, D)`.

    Examples:
        >>> x = dequantize(torch.tensor([[0, 16]]), 17, generator=torch.Generator().manual_seed(0))
        >>> bool(((x >= 0) & (x < 1)).all())
        True

    References:
        A note on the evaluation of generative models, L. Theis, A. van den Oord, M. Bethge, 2016,
        <https://arxiv.org/abs/1511.01844>. [Derivation](../flows/coupling.md#dequantisation).
    """
    positive_int("levels", levels, 2)
    q = check.tensor("q", q, dims="N D", floating=False)
    check.whole_numbers("q", q, minimum=0, maximum=levels - 1)
    check.generator("generator", generator)
    return _dequantize(q, levels, generator)


def _dequantize(q: Tensor, levels: int, generator: torch.Generator | None) -> Tensor:
    # x = (q + u) / Q on checked arguments: `fit` checks its data once, then calls this per step
    u = torch.rand(q.shape, generator=generator, dtype=torch.float64)  # u ~ U(0, 1)^D
    return ((q.double() + u) / levels).float()


def load_digits() -> Tensor:
    r"""scikit-learn's bundled 8x8 digits (1797 images, no download), pixel values 0..16, shape `(1797, 64)`.

    $$ q \in \{0, \dots, Q - 1\}^{64}, \qquad Q = 17 $$

    Returns:
        Float32 tensor of integer values: $Q = 17$ levels.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:
        >>> q = load_digits()
        >>> q.shape, int(q.max())
        (torch.Size([1797, 64]), 16)

    References:
        Optical Recognition of Handwritten Digits, E. Alpaydin, C. Kaynak, 1998,
        <https://doi.org/10.24432/C50P49>. [Training page](../flows/training.md#digits).
    """
    # The file that sklearn.datasets.load_digits reads, found without importing scikit-learn
    # (whose import, with SciPy's, costs seconds for a 100 kB table).
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        # scikit-learn is the `digits` extra (and in the docs and test groups), not a dependency
        raise ImportError(
            "load_digits needs scikit-learn, the `digits` extra: pip install 'notes[digits]'"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    with gzip.open(package / "datasets" / "data" / "digits.csv.gz", "rt") as table:
        rows = np.loadtxt(table, delimiter=",")  # (1797, 65): 64 pixels, then the label
    return torch.as_tensor(rows[:, :-1], dtype=torch.float32)


def train_test_split(
    x: object, test_fraction: float = 0.2, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    r"""Shuffle the rows of `x` with `generator` and split them into train and test parts.

    $$ \{1, \dots, N\} = \mathcal{T}_\text{train} \cup \mathcal{T}_\text{test}, \qquad |\mathcal{T}_\text{test}| = \operatorname{round}(f N) $$

    Args:
        x: data of shape `(N, D)`.
        test_fraction: share of rows for the test part, in (0, 1).
        generator: source of the permutation.

    Returns:
        `(train, test)`, with `round(test_fraction * N)` test rows.

    Examples:
        >>> train, test = train_test_split(torch.zeros(10, 2), 0.3)
        >>> train.shape, test.shape
        (torch.Size([7, 2]), torch.Size([3, 2]))

    References:
        [Training page](../flows/training.md#digits).
    """
    if not 0 < check.real("test_fraction", test_fraction) < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    x = check.tensor("x", x, dims="N D", floating=False)
    check.generator("generator", generator)
    n_test = round(test_fraction * x.shape[0])
    if not 0 < n_test < x.shape[0]:
        raise ValueError(
            f"x has too few rows ({x.shape[0]}) for test_fraction {test_fraction}: "
            "it leaves an empty part"
        )
    order = torch.randperm(x.shape[0], generator=generator)
    return x[order[n_test:]], x[order[:n_test]]


def local_maxima(values: object, *, floor: float = 1e-3) -> int:
    r"""Count the strict local maxima of a function sampled on a grid: the modes of a density.

    $$ \#\bigl\{(i, j) : v_{ij} > v_{kl} \text{ for the 8 neighbours } (k, l),\
    v_{ij} \ge \text{floor} \cdot \max v \bigr\} $$

    Points on the border of the grid are never counted (they have no full neighbourhood), and
    neither are maxima below `floor` times the largest value, where a density is flat to
    rounding and ties make spurious maxima.

    Args:
        values: the function on a grid, shape `(H, W)`, finite.
        floor: relative threshold in $[0, 1)$.

    Returns:
        The number of local maxima.

    Examples:
        >>> x = torch.linspace(-3, 3, 61)
        >>> bumps = (-(x[:, None] ** 2) - (x[None, :] - 1.5) ** 2).exp() + (
        ...     -(x[:, None] ** 2) - (x[None, :] + 1.5) ** 2).exp()
        >>> local_maxima(bumps)
        2

    References:
        [Training page](../flows/training.md#nice-is-unimodal).
    """
    v = check.tensor("values", values, dims="H W", floating=False, min_sizes={"H": 3, "W": 3})
    if not 0 <= check.real("floor", floor) < 1:
        raise ValueError(f"floor must be in [0, 1), got {floor!r}")
    v = v.double()
    centre = v[1:-1, 1:-1]
    peak = torch.ones_like(centre, dtype=torch.bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                h, w = v.shape
                peak &= centre > v[1 + di : h - 1 + di, 1 + dj : w - 1 + dj]
    return int((peak & (centre >= floor * v.max())).sum())
