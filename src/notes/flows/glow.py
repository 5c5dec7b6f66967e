r"""Glow's layers: actnorm with data-dependent initialisation, and the invertible linear map in LU form.

See the [derivation](../flows/coupling.md#glow).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from notes import _validate as check
from notes.flows.transforms import Bijection

__all__ = ["ActNorm", "InvertibleLinear"]


# --8<-- [start:actnorm]
class ActNorm(Bijection):
    r"""Per-feature affine normalisation, $y = (x - \mu) \odot e^{-\log\sigma}$.

    $$
    y = \frac{x - \mu}{\sigma}, \qquad \log\,|\det J| = -\sum_{i=1}^{D} \log \sigma_i
    $$

    On its first call the layer sets $\mu$ and $\log\sigma$ to the mean and the log of the
    (biased) standard deviation of that batch, so the first batch comes out with zero mean and
    unit variance per feature; afterwards both are ordinary parameters.

    Args:
        dim: the feature dimension $D$.
        loc: a fixed initial $\mu$, shape `(D,)`; with `loc` or `scale` given, the layer
            skips the data-dependent initialisation (a plain affine map).
        scale: a fixed initial $\sigma$, shape `(D,)`, every entry finite and > 0.

    Raises:
        ValueError: if `scale` has an entry <= 0 or a non-finite entry; at the first call, if
            the batch has fewer than 2 rows or a feature is constant (its scale $1/\sigma$ would
            be infinite: no invertible initialisation).

    Examples:
        >>> layer = ActNorm(2)
        >>> x = torch.tensor([[0.0, 10.0], [2.0, 30.0]])
        >>> with torch.no_grad():  # the first batch sets mu = (1, 20), sigma = (1, 10)
        ...     y, ladj = layer(x)
        >>> y.round(decimals=4)
        tensor([[-1., -1.],
                [ 1.,  1.]])
        >>> round(float(ladj[0]), 4)  # -log(1) - log(10)
        -2.3026

    References:
        Glow: Generative Flow with Invertible 1x1 Convolutions, D. P. Kingma, P. Dhariwal, 2018,
        <https://arxiv.org/abs/1807.03039>. [Derivation](../flows/coupling.md#actnorm).
    """

    def __init__(self, dim: int, *, loc: object = None, scale: object = None) -> None:
        super().__init__(dim)
        mu = torch.zeros(dim) if loc is None else _vector(loc, dim, "loc")
        sigma = torch.ones(dim, dtype=mu.dtype) if scale is None else _vector(scale, dim, "scale")
        check.within("scale", sigma, gt=0)  # invertible
        dtype = torch.promote_types(mu.dtype, sigma.dtype)  # given values keep their precision
        self.loc = nn.Parameter(mu.detach().clone().to(dtype))  # mu, shape (D,)
        self.log_scale = nn.Parameter(sigma.detach().log().to(dtype))  # log sigma, shape (D,)
        self.initialized = loc is not None or scale is not None

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Set $\\mu$ and $\\log\\sigma$ from a batch `x` of shape `(*, D)` with >= 2 rows."""
        self._check(x)
        flat = x.reshape(-1, self.dim)  # (N, D)
        if flat.shape[0] < 2:
            raise ValueError(f"x must have >= 2 rows to initialise ActNorm, got {flat.shape[0]}")
        std = flat.std(dim=0, unbiased=False)
        if bool((std == 0).any()):
            bad = torch.nonzero(std == 0).flatten().tolist()
            raise ValueError(
                f"x must not have constant features to initialise ActNorm: features {bad} are "
                "constant in the first batch, so the scale 1/sigma would be infinite"
            )
        self.loc.copy_(flat.mean(dim=0))
        self.log_scale.copy_(std.log())
        self.initialized = True

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `((x - mu) / sigma, -sum(log sigma))`; the first call initialises."""
        self._check(x)
        if not self.initialized:
            self.initialize(x)
        y = (x - self.loc) * torch.exp(-self.log_scale)
        return y, (-self.log_scale.sum(-1)).expand(x.shape[:-1])

    def inverse(self, y: Tensor) -> Tensor:
        """Return `y * sigma + mu`."""
        self._check(y, "y")
        return y * self.log_scale.exp() + self.loc


# --8<-- [end:actnorm]


def random_rotation(dim: int, *, generator: torch.Generator | None = None) -> Tensor:
    r"""A random orthogonal matrix: the QR factor of a Gaussian matrix, with the signs fixed.

    $$ A = QR,\ A_{ij} \sim \mathcal{N}(0, 1) \ \Rightarrow\ Q \operatorname{diag}(\operatorname{sign} R_{ii}) \sim \text{Haar} $$

    Glow starts its invertible linear maps from such a rotation, so that $\log|\det W| = 0$.

    Args:
        dim: the size $D$.
        generator: source of the Gaussian matrix.

    Returns:
        A float32 tensor of shape `(D, D)` with $Q^\top Q = I$.

    Examples:
        >>> q = random_rotation(3, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.allclose(q.T @ q, torch.eye(3), atol=1e-6))
        True

    References:
        Glow: Generative Flow with Invertible 1x1 Convolutions, D. P. Kingma, P. Dhariwal, 2018,
        <https://arxiv.org/abs/1807.03039>. [Derivation](../flows/coupling.md#lu).
    """
    a = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    rotation: Tensor = q * torch.sign(torch.diagonal(r))  # Haar-distributed with the sign fix
    return rotation.float()


# --8<-- [start:lu]
class InvertibleLinear(Bijection):
    r"""Glow's invertible 1x1 convolution as a linear map $y = W x$ with $W = P L (U + \operatorname{diag} s)$.

    $$
    W = P\, L\, \bigl(U + \operatorname{diag}(\operatorname{sign}(s) \odot e^{\log|s|})\bigr),
    \qquad \log\,|\det J| = \log|\det W| = \sum_{i=1}^{D} \log|s_i|
    $$

    $P$ is a fixed permutation, $L$ unit lower triangular and $U$ strictly upper triangular
    (both learned), and the signs of $s$ are fixed: the log-determinant costs $O(D)$ instead of
    the $O(D^3)$ of a determinant. On images, the map acts on each pixel's channel vector, which
    is what a 1x1 convolution does.

    Args:
        dim: the feature dimension $D$.
        weight: the initial $W$, shape `(D, D)`, invertible (default: a random rotation).
        generator: source of the random rotation.

    Raises:
        ValueError: if `weight` has the wrong shape, is not finite, or is singular.

    Examples:
        >>> layer = InvertibleLinear(3, generator=torch.Generator().manual_seed(0))
        >>> w = layer.weight().detach().double()
        >>> round(abs(float(torch.linalg.det(w))), 4)  # a rotation: |det W| = 1
        1.0

    References:
        Glow: Generative Flow with Invertible 1x1 Convolutions, D. P. Kingma, P. Dhariwal, 2018,
        <https://arxiv.org/abs/1807.03039>. [Derivation](../flows/coupling.md#lu).
    """

    permutation: Tensor
    sign: Tensor

    def __init__(
        self,
        dim: int,
        weight: object = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        check.generator("generator", generator)
        if weight is None:
            weight = random_rotation(dim, generator=generator)
        weight = check.tensor("weight", weight, dims="D D", sizes={"D": dim})
        p, lower, upper = torch.linalg.lu(weight.detach().double())
        diagonal = torch.diagonal(upper)  # s
        if bool((diagonal.abs() <= torch.finfo(torch.float64).eps * diagonal.abs().max()).any()):
            raise ValueError(
                f"weight must be invertible; its LU factor has diagonal {diagonal.tolist()}"
            )
        dtype = weight.dtype if weight.dtype.is_floating_point else torch.get_default_dtype()
        self.register_buffer("permutation", p.to(dtype))
        self.register_buffer("sign", torch.sign(diagonal).to(dtype))
        self.lower = nn.Parameter(torch.tril(lower, -1).to(dtype))  # strict part of L
        self.upper = nn.Parameter(torch.triu(upper, 1).to(dtype))  # strict part of U
        self.log_abs_s = nn.Parameter(diagonal.abs().log().to(dtype))  # log|s|

    def _factors(self) -> tuple[Tensor, Tensor]:
        eye = torch.eye(self.dim, dtype=self.lower.dtype)
        lower = torch.tril(self.lower, -1) + eye  # L, unit diagonal
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign * self.log_abs_s.exp())  # U
        return lower, upper

    def weight(self) -> Tensor:
        """The matrix $W = P L U$, shape `(D, D)`."""
        lower, upper = self._factors()
        return self.permutation @ lower @ upper

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(x @ W.T, sum(log|s|))`."""
        self._check(x)
        return x @ self.weight().T, self.log_abs_s.sum().expand(x.shape[:-1])

    def inverse(self, y: Tensor) -> Tensor:
        """Solve $W x = y$ with two triangular solves: $x = U^{-1} L^{-1} P^\\top y$."""
        self._check(y, "y")
        lower, upper = self._factors()
        rows = y.reshape(-1, self.dim) @ self.permutation  # row form of P^T y, shape (N, D)
        # Row vectors: x^T U^T L^T = y^T P, solved from the right in two triangular steps.
        b = torch.linalg.solve_triangular(lower.T, rows, upper=True, left=False)
        x = torch.linalg.solve_triangular(upper.T, b, upper=False, left=False)
        out: Tensor = x.reshape(y.shape)
        return out


# --8<-- [end:lu]


def _vector(value: object, dim: int, name: str) -> Tensor:
    return check.tensor(name, value, dims="D", sizes={"D": dim})
