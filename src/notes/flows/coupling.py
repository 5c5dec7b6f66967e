r"""Coupling layers: NICE's additive coupling and RealNVP's affine coupling, with their masks.

A binary mask $m \in \{0, 1\}^D$ splits $x$ into a part that passes unchanged ($m_i = 1$) and
a part that is transformed with parameters computed from the first. The Jacobian is then
triangular (after a permutation), so its determinant is the product of its diagonal.

See the [derivation](../flows/coupling.md#coupling-layers).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from notes import _validate as check
from notes._validate import positive_int
from notes.flows.transforms import Bijection

__all__ = ["AdditiveCoupling", "AffineCoupling", "alternating_mask", "checkerboard_mask", "mlp"]


def alternating_mask(dim: int, parity: int = 0) -> Tensor:
    r"""The mask $m_i = 1$ where $i \bmod 2 =$ `parity`, as a bool tensor of shape `(D,)`.

    $$ m_i = [\, i \bmod 2 = \text{parity} \,], \qquad i = 0, \dots, D - 1 $$

    Args:
        dim: the feature dimension $D \ge 2$.
        parity: 0 or 1; the two parities are complementary.

    Returns:
        A bool tensor of shape `(dim,)`.

    Examples:
        >>> alternating_mask(5)
        tensor([ True, False,  True, False,  True])

    References:
        NICE: Non-linear Independent Components Estimation, L. Dinh, D. Krueger, Y. Bengio,
        2014, <https://arxiv.org/abs/1410.8516>.
        [Derivation](../flows/coupling.md#stacking-and-permutations).
    """
    positive_int("dim", dim, 2)  # a coupling mask needs a kept and a transformed part
    check.choice("parity", parity, (0, 1))
    return torch.arange(dim) % 2 == parity


def checkerboard_mask(height: int, width: int, parity: int = 0) -> Tensor:
    r"""RealNVP's checkerboard mask of an image, flattened row by row: $m_{rc} = 1$ where $(r + c) \bmod 2 =$ `parity`.

    $$ m_{rc} = [\, (r + c) \bmod 2 = \text{parity} \,] $$

    Args:
        height: image rows $\ge 1$.
        width: image columns $\ge 1$, with `height * width >= 2`.
        parity: 0 or 1.

    Returns:
        A bool tensor of shape `(height * width,)`.

    Examples:
        >>> checkerboard_mask(2, 3).view(2, 3)
        tensor([[ True, False,  True],
                [False,  True, False]])

    References:
        Density estimation using Real NVP, L. Dinh, J. Sohl-Dickstein, S. Bengio, 2017,
        <https://arxiv.org/abs/1605.08803>. [Derivation](../flows/coupling.md#masks).
    """
    positive_int("height", height)
    positive_int("width", width)
    if height * width < 2:
        raise ValueError(f"height * width must be >= 2, got {height} * {width}")
    check.choice("parity", parity, (0, 1))
    r, c = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return ((r + c) % 2 == parity).reshape(-1)


def mlp(
    in_features: int,
    out_features: int,
    hidden: Sequence[int] = (64, 64),
    *,
    activation: type[nn.Module] = nn.ReLU,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    r"""A multilayer perceptron whose last layer starts at zero (so a coupling starts as the identity).

    $$ h_0 = x, \quad h_{\ell} = \phi(W_\ell h_{\ell - 1} + b_\ell), \quad
    \text{out} = W_L h_{L-1} + b_L \ \text{ with } W_L = 0,\ b_L = 0 $$

    Hidden layers are drawn as PyTorch's default `nn.Linear` initialisation does,
    $U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})$, but from `generator`; the last layer is
    zero, as in Glow, so that every coupling layer is the identity at initialisation.

    Args:
        in_features: input width.
        out_features: output width.
        hidden: widths of the hidden layers.
        activation: the nonlinearity's class, e.g. `nn.ReLU` (default) or `nn.SiLU`.
        generator: source of the initial weights (default: torch's global one).

    Returns:
        An `nn.Sequential` mapping `(*, in_features)` to `(*, out_features)`.

    Examples:
        >>> net = mlp(2, 4, (8,), generator=torch.Generator().manual_seed(0))
        >>> net(torch.ones(3, 2)).abs().max().item()
        0.0

    References:
        Glow: Generative Flow with Invertible 1x1 Convolutions, D. P. Kingma, P. Dhariwal, 2018,
        <https://arxiv.org/abs/1807.03039> (zero initialisation of the last layer).
        [Derivation](../flows/coupling.md#additive-coupling).
    """
    if not isinstance(hidden, tuple | list):
        raise TypeError(f"hidden must be a tuple or list of ints, got {type(hidden).__name__}")
    widths = [positive_int("in_features", in_features), *hidden]
    for i, w in enumerate(hidden):
        positive_int(f"hidden[{i}]", w)
    act: object = activation
    if not (isinstance(act, type) and issubclass(act, nn.Module)):
        raise TypeError(f"activation must be an nn.Module class, got {activation!r}")
    check.generator("generator", generator)
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(widths):
        linear = nn.Linear(n_in, n_out)
        bound = 1 / math.sqrt(n_in)  # PyTorch's default scale for nn.Linear
        with torch.no_grad():
            linear.weight.uniform_(-bound, bound, generator=generator)
            linear.bias.uniform_(-bound, bound, generator=generator)
        layers += [linear, activation()]
    last = nn.Linear(widths[-1], positive_int("out_features", out_features))
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


def _check_mask(mask: object, dim: int) -> Tensor:
    if mask is None:
        return alternating_mask(dim)
    mask = check.tensor("mask", mask, floating=False)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got {mask.dtype}")
    check.tensor("mask", mask, dims="D", sizes={"D": dim}, floating=False)
    if bool(mask.all()) or not bool(mask.any()):
        raise ValueError("mask must hold both True (kept) and False (transformed) entries")
    return mask


class _MaskedCoupling(Bijection):
    """Shared set-up of a coupling layer: the mask, its complement and the network."""

    mask: Tensor
    complement: Tensor
    outputs_per_feature: int

    def __init__(
        self,
        dim: int,
        mask: Tensor | None = None,
        hidden: Sequence[int] = (64, 64),
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        mask = _check_mask(mask, dim)
        # m and 1 - m as float buffers, made once rather than at every step.
        self.register_buffer("mask", mask.float())
        self.register_buffer("complement", (~mask).float())
        self.net = mlp(dim, self.outputs_per_feature * dim, hidden, generator=generator)


# --8<-- [start:additive]
class AdditiveCoupling(_MaskedCoupling):
    r"""NICE's additive coupling: $y = x + (1 - m) \odot t(m \odot x)$, with $\log|\det J| = 0$.

    $$
    y_{\mathcal{A}} = x_{\mathcal{A}}, \qquad
    y_{\mathcal{B}} = x_{\mathcal{B}} + t(x_{\mathcal{A}}), \qquad
    \log\,|\det J| = 0
    $$

    where $\mathcal{A} = \{i : m_i = 1\}$ and $\mathcal{B}$ is the rest; $t$ is any network.

    Args:
        dim: the feature dimension $D \ge 2$.
        mask: bool tensor of shape `(D,)`, True on the kept part $\mathcal{A}$
            (default: [`alternating_mask`][notes.flows.coupling.alternating_mask]).
        hidden: hidden widths of the network $t$.
        generator: source of the initial weights.

    Examples:
        >>> layer = AdditiveCoupling(2, generator=torch.Generator().manual_seed(0))
        >>> x = torch.tensor([[0.5, -1.0]])
        >>> y, ladj = layer(x)
        >>> bool(torch.equal(layer.inverse(y), x)), ladj
        (True, tensor([0.]))

    References:
        NICE: Non-linear Independent Components Estimation, L. Dinh, D. Krueger, Y. Bengio,
        2014, <https://arxiv.org/abs/1410.8516>.
        [Derivation](../flows/coupling.md#additive-coupling).
    """

    outputs_per_feature = 1  # t

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(x + (1 - m) * t(m * x), 0)`."""
        self._check(x)
        shift = self.complement * self.net(x * self.mask)  # t(x_A), zero on A
        return x + shift, x.new_zeros(x.shape[:-1])

    def inverse(self, y: Tensor) -> Tensor:
        """Return `y - (1 - m) * t(m * y)`: the kept part of y equals that of x."""
        self._check(y, "y")
        x: Tensor = y - self.complement * self.net(y * self.mask)
        return x


# --8<-- [end:additive]


# --8<-- [start:affine]
class AffineCoupling(_MaskedCoupling):
    r"""RealNVP's affine coupling, with log-scale $s = \tanh(\cdot)$ bounded in $(-1, 1)$.

    $$
    y = m \odot x + (1 - m) \odot \bigl(x \odot e^{s(m \odot x)} + t(m \odot x)\bigr),
    \qquad \log\,|\det J| = \sum_{i} (1 - m_i)\, s_i(m \odot x)
    $$

    One network outputs $(s, t)$; $s$ is squashed by $\tanh$ so that one layer scales a
    feature by at most $e^{\pm 1}$, which keeps early training stable.

    Args:
        dim: the feature dimension $D \ge 2$.
        mask: bool tensor of shape `(D,)`, True on the kept part (default: alternating).
        hidden: hidden widths of the network.
        generator: source of the initial weights.

    Examples:
        >>> layer = AffineCoupling(4, generator=torch.Generator().manual_seed(0))
        >>> x = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
        >>> y, ladj = layer(x)
        >>> bool(torch.allclose(layer.inverse(y), x)), ladj.shape
        (True, torch.Size([3]))

    References:
        Density estimation using Real NVP, L. Dinh, J. Sohl-Dickstein, S. Bengio, 2017,
        <https://arxiv.org/abs/1605.08803>. [Derivation](../flows/coupling.md#affine-coupling).
    """

    outputs_per_feature = 2  # (s, t)

    def _scale_shift(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self.net(kept).chunk(2, dim=-1)  # (*, D) each
        return torch.tanh(s) * self.complement, t * self.complement  # zero on the kept part

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(y, sum((1 - m) * s))`."""
        self._check(x)
        s, t = self._scale_shift(x * self.mask)  # s(m ⊙ x), t(m ⊙ x): zero where m = 1
        # m ⊙ x + (1 - m) ⊙ (x e^s + t) in two operations: on the kept part e^s = 1 and t = 0
        return x * s.exp() + t, s.sum(-1)

    def inverse(self, y: Tensor) -> Tensor:
        """Return `m * y + (1 - m) * (y - t) * exp(-s)`, with s, t computed from `m * y`."""
        self._check(y, "y")
        s, t = self._scale_shift(y * self.mask)  # m ⊙ y = m ⊙ x, so the same s and t
        return (y - t) * torch.exp(-s)  # the kept part comes back unchanged: t = 0, s = 0 there


# --8<-- [end:affine]
