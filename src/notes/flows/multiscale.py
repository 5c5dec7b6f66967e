r"""RealNVP's multi-scale architecture: squeeze an image, then factor out half of its features.

After a few couplings at full resolution, [`Squeeze`][notes.flows.multiscale.Squeeze] turns
every $2 \times 2 \times C$ block of an image into a $1 \times 1 \times 4C$ pixel, and
[`FactorOut`][notes.flows.multiscale.FactorOut] sets half of the channels aside as final
latents, with their own standard-normal prior, while the rest go through the next scale. The
log-likelihood splits into one term per scale,

$$
\log p_X(x) = \sum_{s=1}^{S} \log \mathcal{N}(z_s; 0, I)
+ \sum_{k} \log\,\Bigl|\det \frac{\partial h_k}{\partial h_{k-1}}\Bigr| .
$$

Layers act on flattened images, channel-major: feature $c H W + r W + w$ is channel $c$, row
$r$, column $w$.

See the [derivation](../flows/coupling.md#multi-scale).
"""

from __future__ import annotations

import torch
from torch import Tensor

from notes._validate import positive_int
from notes.flows.transforms import Bijection, Permutation

__all__ = ["FactorOut", "Squeeze", "squeeze_permutation"]


def squeeze_permutation(channels: int, height: int, width: int) -> Tensor:
    r"""The reordering of a flattened `(C, H, W)` image that squeezes it to `(4C, H/2, W/2)`.

    $$ y_{4c + 2a + b,\ i,\ j} = x_{c,\ 2i + a,\ 2j + b}, \qquad a, b \in \{0, 1\} $$

    Args:
        channels: $C \ge 1$.
        height: $H$, even.
        width: $W$, even.

    Returns:
        A long tensor `perm` of shape `(C H W,)` with `y = x[..., perm]`.

    Examples:
        >>> squeeze_permutation(1, 2, 2)  # one 2x2 block becomes four channels
        tensor([0, 1, 2, 3])
        >>> squeeze_permutation(1, 2, 4)  # two blocks side by side
        tensor([0, 2, 1, 3, 4, 6, 5, 7])

    References:
        Density estimation using Real NVP, L. Dinh, J. Sohl-Dickstein, S. Bengio, 2017,
        <https://arxiv.org/abs/1605.08803>, section 3.6.
        [Derivation](../flows/coupling.md#multi-scale).
    """
    positive_int("channels", channels)
    for name, size in (("height", height), ("width", width)):
        if positive_int(name, size) % 2:
            raise ValueError(f"{name} must be even to squeeze, got {size}")
    index = torch.arange(channels * height * width).view(channels, height, width)
    # (C, H/2, 2, W/2, 2) -> (C, 2, 2, H/2, W/2) -> (4C, H/2, W/2): channel 4c + 2a + b
    blocks = index.view(channels, height // 2, 2, width // 2, 2).permute(0, 2, 4, 1, 3)
    return blocks.reshape(-1)


# --8<-- [start:squeeze]
class Squeeze(Permutation):
    r"""Squeeze a flattened image `(C, H, W)` to `(4C, H/2, W/2)`: a permutation, log-det 0.

    $$ y_{4c + 2a + b,\ i,\ j} = x_{c,\ 2i + a,\ 2j + b}, \qquad \log \lvert \det J \rvert = 0 $$

    Args:
        channels: $C$.
        height: $H$, even.
        width: $W$, even.

    Examples:
        >>> layer = Squeeze(1, 2, 2)
        >>> layer.shape_out
        (4, 1, 1)

    References:
        Density estimation using Real NVP, L. Dinh, J. Sohl-Dickstein, S. Bengio, 2017,
        <https://arxiv.org/abs/1605.08803>. [Derivation](../flows/coupling.md#multi-scale).
    """

    def __init__(self, channels: int, height: int, width: int) -> None:
        super().__init__(squeeze_permutation(channels, height, width))
        self.shape_out = (4 * channels, height // 2, width // 2)


# --8<-- [end:squeeze]


# --8<-- [start:factor]
class FactorOut(Bijection):
    r"""Set the first `factored` features aside and transform only the rest with `inner`.

    $$
    y = \bigl(x_{1:F},\ g(x_{F+1:D})\bigr), \qquad
    \log \lvert \det J \rvert = \log \Bigl\lvert \det \frac{\partial g}{\partial x_{F+1:D}} \Bigr\rvert
    $$

    The Jacobian is block diagonal, $\operatorname{diag}(I_F, J_g)$. With a standard-normal
    base on all of $y$, the factored features $x_{1:F}$ have their own prior
    $\mathcal{N}(0, I_F)$: they are final latents of this scale, and the later layers, inside
    `inner`, work on $D - F$ features only. Nesting `FactorOut` in `inner` gives more scales.

    Args:
        factored: $F$, the number of leading features set aside, $1 \le F < D$.
        inner: the bijection $g$ of the remaining $D - F$ features.

    Examples:
        >>> from notes.flows.transforms import Scaling
        >>> layer = FactorOut(2, Scaling(2))  # D = 4
        >>> y, ladj = layer(torch.ones(1, 4))
        >>> bool(torch.equal(layer.inverse(y), torch.ones(1, 4))), layer.dim
        (True, 4)

    References:
        Density estimation using Real NVP, L. Dinh, J. Sohl-Dickstein, S. Bengio, 2017,
        <https://arxiv.org/abs/1605.08803>, section 3.6.
        [Derivation](../flows/coupling.md#multi-scale).
    """

    def __init__(self, factored: int, inner: Bijection) -> None:
        if not isinstance(inner, Bijection):
            raise TypeError(f"inner must be a Bijection, got {type(inner).__name__}")
        self.factored = positive_int("factored", factored)
        super().__init__(self.factored + inner.dim)
        self.inner = inner

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(cat(x[..., :F], g(x[..., F:])), log|det J_g|)`."""
        self._check(x)
        kept, rest = x[..., : self.factored], x[..., self.factored :]  # (*, F), (*, D - F)
        y, ladj = self.inner(rest)
        return torch.cat([kept, y], dim=-1), ladj

    def inverse(self, y: Tensor) -> Tensor:
        """Return `cat(y[..., :F], g^{-1}(y[..., F:]))`."""
        self._check(y, "y")
        kept, rest = y[..., : self.factored], y[..., self.factored :]
        return torch.cat([kept, self.inner.inverse(rest)], dim=-1)


# --8<-- [end:factor]
