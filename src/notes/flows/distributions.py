r"""A flow as a distribution: base densities, `log_prob` by the change of variables, and baselines.

[`Flow`][notes.flows.distributions.Flow] composes bijections $f = f_K \circ \dots \circ f_1$
from data to latent space with a base density $p_Z$ (standard Gaussian or logistic):

$$
\log p_X(x) = \log p_Z\bigl(f(x)\bigr) + \log\,\Bigl|\det \frac{\partial f}{\partial x}\Bigr|
$$

See the [derivation](../flows/index.md#change-of-variables).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor, nn
from torch.distributions import MultivariateNormal

from notes import _validate as check
from notes._validate import positive_float, positive_int
from notes.flows.transforms import Bijection, Chain

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "Flow",
    "bits_per_dim",
    "fit_gaussian",
    "fit_histogram",
    "histogram_log_prob",
    "logistic_log_prob",
    "normal_log_prob",
    "sample_base",
]

Base = Literal["gaussian", "logistic"]
_LOG_2PI = math.log(2 * math.pi)


def normal_log_prob(z: Tensor) -> Tensor:
    r"""Standard normal log-density summed over the last dimension, shape `(*)`.

    $$ \log \mathcal{N}(z; 0, I) = -\tfrac12 \lVert z \rVert^2 - \tfrac{D}{2} \log 2\pi $$

    Args:
        z: latent points, shape `(*, D)`.

    Returns:
        The log-density, shape `(*)`.

    Examples:
        >>> round(float(normal_log_prob(torch.zeros(1, 2))[0]), 4)  # -log(2 pi)
        -1.8379

    References:
        [Derivation](../flows/index.md#change-of-variables).
    """
    check.tensor("z", z, dims="* D")
    return -0.5 * (z * z).sum(-1) - 0.5 * z.shape[-1] * _LOG_2PI


def logistic_log_prob(z: Tensor) -> Tensor:
    r"""Standard logistic log-density summed over the last dimension (NICE's prior), shape `(*)`.

    $$ \log p(z) = -\sum_{i} \bigl[\operatorname{softplus}(z_i) + \operatorname{softplus}(-z_i)\bigr] $$

    The density $e^{-z}/(1 + e^{-z})^2$ has heavier tails than the Gaussian, so large $|z|$
    costs linearly rather than quadratically.

    Args:
        z: latent points, shape `(*, D)`.

    Returns:
        The log-density, shape `(*)`.

    Examples:
        >>> round(float(logistic_log_prob(torch.zeros(1, 1))[0]), 4)  # log(1/4)
        -1.3863

    References:
        NICE: Non-linear Independent Components Estimation, L. Dinh, D. Krueger, Y. Bengio,
        2014, <https://arxiv.org/abs/1410.8516>. [Derivation](../flows/coupling.md#prior).
    """
    check.tensor("z", z, dims="* D")
    # softplus(z) + softplus(-z) = |z| + 2 log(1 + e^{-|z|}), written so for every z (torch's
    # softplus switches to the identity above z = 20, which would cost 1e-9 in the gradient).
    return -(z.abs() + 2 * torch.log1p(torch.exp(-z.abs()))).sum(-1)


def sample_base(
    base: Base,
    n: int,
    dim: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    r"""Draw `n` points of shape `(n, dim)` from the standard Gaussian or logistic base density.

    $$ z \sim \mathcal{N}(0, I), \qquad \text{or} \qquad z = \log u - \log(1 - u),\ u \sim U(0, 1)^D $$

    The logistic draw inverts its CDF, the sigmoid.

    Args:
        base: `"gaussian"` or `"logistic"`.
        n: number of points, >= 0.
        dim: the dimension $D$.
        generator: source of the randomness.
        dtype: floating dtype of the result (default: torch's default).

    Returns:
        Tensor of shape `(n, dim)`.

    Examples:
        >>> sample_base("logistic", 4, 2, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([4, 2])

    References:
        [Derivation](../flows/coupling.md#prior).
    """
    check.choice("base", base, ("gaussian", "logistic"))
    check.integer("n", n, minimum=0)
    positive_int("dim", dim)
    check.generator("generator", generator)
    if dtype is not None:
        check.dtype("dtype", dtype)
    if base == "gaussian":
        return torch.randn(n, dim, generator=generator, dtype=dtype)
    if base == "logistic":
        u = torch.rand(n, dim, generator=generator, dtype=dtype)
        u = u.clamp(min=torch.finfo(u.dtype).tiny)  # u = 0 would give -inf
        return torch.log(u) - torch.log1p(-u)
    raise ValueError(f"base must be 'gaussian' or 'logistic', got {base!r}")


# --8<-- [start:flow]
class Flow(nn.Module):
    r"""A normalizing flow: bijections from data to latent, and a base density on the latent.

    $$
    \log p_X(x) = \log p_Z(f(x)) + \log\,|\det \partial f/\partial x|, \qquad
    x = f^{-1}(z),\ z \sim p_Z
    $$

    Args:
        layers: the bijections $f_1, \dots, f_K$ applied to data in this order.
        base: `"gaussian"` or `"logistic"` (NICE's choice).

    Examples:
        >>> from notes.flows import AffineCoupling, Reverse
        >>> g = torch.Generator().manual_seed(0)
        >>> flow = Flow([AffineCoupling(2, generator=g), Reverse(2)])
        >>> flow.log_prob(torch.zeros(1, 2))  # identity at initialisation: log N(0; 0, I)
        tensor([-1.8379], grad_fn=<AddBackward0>)
        >>> flow.sample(5, generator=g).shape
        torch.Size([5, 2])

    References:
        Variational Inference with Normalizing Flows, D. J. Rezende, S. Mohamed, 2015,
        <https://arxiv.org/abs/1505.05770>. [Derivation](../flows/index.md#change-of-variables).
    """

    def __init__(self, layers: Sequence[Bijection], base: Base = "gaussian") -> None:
        super().__init__()
        check.choice("base", base, ("gaussian", "logistic"))
        self.chain = Chain(layers)
        self.dim = self.chain.dim
        self.base: Base = base
        # Chosen once here, not at every step: no distribution object is rebuilt per call.
        self._base_log_prob = normal_log_prob if base == "gaussian" else logistic_log_prob

    def forward(self, x: Tensor) -> Tensor:
        """The same as [`log_prob`][notes.flows.distributions.Flow.log_prob]."""
        return self.log_prob(x)

    def log_prob(self, x: Tensor) -> Tensor:
        """$\\log p_X(x)$ for a batch of shape `(N, D)`, returned with shape `(N,)`.

        `x` must be finite and have the dtype of the flow's parameters: a float64 batch into a
        float32 flow is refused with a message naming both dtypes (convert one of them).
        """
        if not Bijection._trusting:  # checked once by `fit`, not at each of its steps
            check.tensor("x", x, dims="N D", sizes={"D": self.dim})
            for p in self.parameters():
                check.same_dtype("x", x, p.dtype, "the flow")
                break
        z, ladj = self.chain(x)
        return self._base_log_prob(z) + ladj  # type: ignore[no-any-return]

    @torch.no_grad()
    def sample(
        self, n: int, *, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> Tensor:
        r"""Draw `n` samples $x = f^{-1}(\tau z)$, $z \sim p_Z$, shape `(n, D)`, without gradient.

        A temperature $\tau < 1$ draws from nearer the mode of the base (Glow, section 5).
        """
        positive_int("n", n)
        temperature = check.real("temperature", temperature, gt=0)
        check.generator("generator", generator)
        dtype = next(self.parameters(), torch.empty(0)).dtype
        z = sample_base(self.base, n, self.dim, generator=generator, dtype=dtype)
        return self.chain.inverse(temperature * z)


# --8<-- [end:flow]


def fit_gaussian(x: Tensor) -> MultivariateNormal:
    r"""The maximum-likelihood full-covariance Gaussian of a data set: the baseline a flow must beat.

    $$ \hat\mu = \frac1N \sum_n x_n, \qquad \hat\Sigma = \frac1N \sum_n (x_n - \hat\mu)(x_n - \hat\mu)^\top $$

    Args:
        x: data of shape `(N, D)` with $N > D$.

    Returns:
        A `torch.distributions.MultivariateNormal` in float64.

    Examples:
        >>> x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
        >>> fit_gaussian(x).covariance_matrix
        tensor([[1., 0.],
                [0., 1.]], dtype=torch.float64)

    References:
        [Training page](../flows/training.md#toy-densities), where it is the baseline.
    """
    check.tensor("x", x, dims="N D")
    n, d = x.shape
    if n <= d:
        raise ValueError(f"x must have more rows than columns to fit a covariance, got {n} x {d}")
    x = x.double()
    mean = x.mean(0)
    centred = x - mean
    cov = centred.T @ centred / n
    return MultivariateNormal(mean, covariance_matrix=cov)


def fit_histogram(q: object, levels: int, *, pseudocount: float = 1.0) -> Tensor:
    r"""The independent-pixel histogram: one categorical per feature, fitted by counting (smoothed).

    $$ \hat P_i(k) = \frac{\#\{n : q_{n,i} = k\} + a}{N + a Q}, \qquad k = 0, \dots, Q - 1 $$

    The baseline a flow on quantised data must beat: it knows each pixel's distribution of
    levels and nothing about how pixels go together. The pseudocount $a > 0$ (add-one
    smoothing by default) keeps a level never seen in training from costing infinitely many
    nats on the test set.

    Args:
        q: integer-valued training data of shape `(N, D)`, entries in $\{0, \dots, Q - 1\}$.
        levels: the number of levels $Q \ge 2$.
        pseudocount: $a > 0$.

    Returns:
        The log-probabilities $\log \hat P_i(k)$, float64 of shape `(D, Q)`.

    Examples:
        >>> table = fit_histogram(torch.tensor([[0], [0], [1]]), levels=2)
        >>> table.exp()  # (2 + 1) / (3 + 2), (1 + 1) / (3 + 2)
        tensor([[0.6000, 0.4000]], dtype=torch.float64)

    References:
        A note on the evaluation of generative models, L. Theis, A. van den Oord, M. Bethge, 2016,
        <https://arxiv.org/abs/1511.01844>. [Training page](../flows/training.md#digits).
    """
    if not isinstance(q, Tensor):
        raise TypeError(f"q must be a torch.Tensor, got {type(q).__name__}")
    check.tensor("q", q.double(), dims="N D", min_sizes={"N": 1})  # no rows: nothing to count
    levels = positive_int("levels", levels, 2)
    a = positive_float("pseudocount", pseudocount)
    index = _levels(q, levels, "q")  # (N, D)
    counts = torch.zeros(q.shape[1], levels, dtype=torch.float64)
    counts.scatter_add_(1, index.T, torch.ones(index.T.shape, dtype=torch.float64))  # (D, Q)
    return ((counts + a) / (q.shape[0] + a * levels)).log()


def histogram_log_prob(log_table: Tensor, x: Tensor) -> Tensor:
    r"""Log-density on $[0, 1)^D$ of the histogram, for dequantised data $x = (q + u)/Q$.

    $$ p(x) = \prod_{i=1}^{D} Q\, \hat P_i\bigl(\lfloor Q x_i \rfloor\bigr), \qquad
    \log p(x) = \log \hat P(q) + D \log Q $$

    The density is constant on every cell of the grid, so the dequantisation bound is tight
    for it: its bits per dimension are exactly those of the discrete model.

    Args:
        log_table: $\log \hat P_i(k)$ from [`fit_histogram`][notes.flows.distributions.fit_histogram],
            shape `(D, Q)`.
        x: points of shape `(N, D)` in $[0, 1)$.

    Returns:
        Float64 tensor of shape `(N,)`.

    Examples:
        >>> table = fit_histogram(torch.tensor([[0], [0], [1]]), levels=2)
        >>> histogram_log_prob(table, torch.tensor([[0.25]])).exp()  # 2 * 0.6
        tensor([1.2000], dtype=torch.float64)

    References:
        [Training page](../flows/training.md#digits).
    """
    check.tensor("log_table", log_table, dims="D Q", min_sizes={"D": 1})
    check.probabilities("log_table", log_table.exp())  # each row a distribution over levels
    dim, levels = log_table.shape
    check.tensor("x", x, dims="N D", sizes={"D": dim})
    if not bool(((x >= 0) & (x < 1)).all()):
        raise ValueError("x must lie in [0, 1) for histogram_log_prob")
    cell = torch.floor(x.double() * levels).long()  # q = floor(Q x), shape (N, D)
    return log_table.gather(1, cell.T).T.sum(-1) + dim * math.log(levels)


def _levels(q: Tensor, levels: int, name: str) -> Tensor:
    qf = q.double()
    if not bool(((qf == qf.round()) & (qf >= 0) & (qf <= levels - 1)).all()):
        raise ValueError(f"{name} must hold integers in [0, {levels - 1}]")
    return qf.long()


def bits_per_dim(log_prob: Tensor | float, dim: int, levels: int) -> float:
    r"""Bits per dimension of data quantised to `levels` values and scaled to $[0, 1]$.

    A density $p$ on $[0, 1]^D$ is a density $p / Q^D$ on the integer scale $[0, Q]^D$, so

    $$ \text{bits/dim} = \frac{-\log p(x) + D \log Q}{D \log 2} $$

    The uniform density on $[0, 1]^D$ scores $\log_2 Q$.

    Args:
        log_prob: mean log-density in nats on the $[0, 1]$ scale.
        dim: $D$.
        levels: the number of levels $Q \ge 2$.

    Returns:
        Bits per dimension, a float.

    Examples:
        >>> bits_per_dim(0.0, dim=64, levels=256)  # uniform density: log2(256)
        8.0

    References:
        A note on the evaluation of generative models, L. Theis, A. van den Oord, M. Bethge, 2016,
        <https://arxiv.org/abs/1511.01844>. [Derivation](../flows/coupling.md#dequantisation).
    """
    positive_int("dim", dim)
    positive_int("levels", levels, 2)
    lp = check.real("log_prob", log_prob)
    return (-lp + dim * math.log(levels)) / (dim * math.log(2))
