r"""Invertible maps with their log-Jacobian-determinants: the interface every flow layer shares.

A flow layer is a bijection $y = f(x)$ of the last dimension of a tensor of shape `(*, D)`.
Its `forward(x)` returns, in one pass, the output and the per-sample log-absolute-determinant
of the Jacobian,

$$
\bigl(f(x),\ \log\,\bigl|\det \partial f / \partial x\bigr|\bigr),
\qquad \text{shapes } (*, D) \text{ and } (*),
$$

and `inverse(y)` returns $f^{-1}(y)$. [`as_transform`][notes.flows.transforms.Bijection.as_transform]
wraps a layer as a `torch.distributions.Transform` (`_call`, `_inverse`,
`log_abs_det_jacobian`), so it drops into `torch.distributions.TransformedDistribution`.

See the [derivation](../flows/index.md#change-of-variables).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import cast

import torch
from torch import Tensor, nn
from torch.distributions import constraints
from torch.distributions.transforms import Transform

from notes import _validate as check
from notes._validate import positive_int

__all__ = ["Bijection", "BijectionTransform", "Chain", "Logit", "Permutation", "Reverse", "Scaling"]


@contextlib.contextmanager
def _trust_inputs() -> Iterator[None]:
    # Inside `fit`'s loop (notes.flows.training) the data were checked once, as a whole, and
    # each layer sees only what the layer before it made, so the per-call checks of every
    # layer are skipped there (about a tenth of a small model's step). Divergence is still
    # caught: the base density refuses a non-finite z, and `fit` a non-finite loss.
    previous = Bijection._trusting
    Bijection._trusting = True
    try:
        yield
    finally:
        Bijection._trusting = previous


class Bijection(nn.Module):
    r"""Base class of flow layers: `forward(x) -> (y, ladj)` and `inverse(y) -> x`.

    $$ y = f(x), \qquad \text{ladj} = \log \Bigl\lvert \det \frac{\partial f}{\partial x} \Bigr\rvert, \qquad x = f^{-1}(y) $$

    Subclasses implement both methods for inputs of shape `(*, D)`; `ladj` has shape `(*)`.
    The inverse's log-determinant is never written twice: it is minus the forward one at
    $x = f^{-1}(y)$.

    Args:
        dim: the feature dimension $D \ge 1$.

    Examples:
        >>> layer = Reverse(2)  # a Bijection
        >>> y, ladj = layer(torch.tensor([[1.0, 2.0]]))
        >>> layer.inverse(y), ladj
        (tensor([[1., 2.]]), tensor([0.]))

    References:
        Normalizing Flows for Probabilistic Modeling and Inference, G. Papamakarios,
        E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan, 2021,
        <https://arxiv.org/abs/1912.02762>. [Derivation](../flows/index.md#composition).
    """

    _trusting = False  # True only inside a training loop that checked its data once

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = positive_int("dim", dim)

    def _check(self, x: object, name: str = "x") -> None:
        # Every layer checks its input on every call: a floating, finite tensor of shape
        # (*, D), in the dtype of the layer's parameters (a float64 batch into a float32 layer
        # is refused, naming both dtypes, rather than failing inside torch).
        if Bijection._trusting:  # inside `fit`, which checked the data once
            return
        x = check.tensor(name, x, dims="* D", sizes={"D": self.dim})
        for p in self.parameters():  # the first one gives the layer's dtype
            check.same_dtype(name, x, p.dtype, f"this {type(self).__name__}")
            break

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(f(x), log|det df/dx|)`, shapes `(*, D)` and `(*)`."""
        raise NotImplementedError

    def inverse(self, y: Tensor) -> Tensor:
        """Return $f^{-1}(y)$, shape `(*, D)`."""
        raise NotImplementedError

    def call_and_ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The output and the log-determinant in one pass (the same as calling the layer)."""
        y, ladj = self(x)
        return y, ladj

    def as_transform(self) -> BijectionTransform:
        """This layer as a `torch.distributions.Transform` with event dimension 1."""
        return BijectionTransform(self)


class BijectionTransform(Transform):
    r"""A [`Bijection`][notes.flows.transforms.Bijection] seen through torch's `Transform` contract.

    $$ \text{\_call}(x) = f(x), \quad \text{\_inverse}(y) = f^{-1}(y), \quad
    \text{log\_abs\_det\_jacobian}(x, y) = \log \lvert \det \partial f / \partial x \rvert $$

    Args:
        bijection: the layer to wrap.
        cache_size: torch's cache of the last `(x, y)` pair, 0 or 1.

    Examples:
        >>> import torch
        >>> from torch.distributions import Independent, Normal, TransformedDistribution
        >>> layer = Scaling(2)
        >>> with torch.no_grad():
        ...     _ = layer.log_scale.fill_(0.5)
        >>> base = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
        >>> p = TransformedDistribution(base, [layer.as_transform().inv])  # x = f^{-1}(z)
        >>> x = torch.tensor([[1.0, -1.0]])
        >>> z, ladj = layer(x)
        >>> bool(torch.allclose(p.log_prob(x), base.log_prob(z) + ladj))
        True

    References:
        PyTorch's `torch.distributions.transforms.Transform`,
        <https://pytorch.org/docs/stable/distributions.html#module-torch.distributions.transforms>.
        [Derivation](../flows/index.md#change-of-variables).
    """

    domain = constraints.independent(constraints.real, 1)  # type: ignore[no-untyped-call]
    codomain = constraints.independent(constraints.real, 1)  # type: ignore[no-untyped-call]
    bijective = True

    def __init__(self, bijection: Bijection, cache_size: int = 0) -> None:
        check.instance("bijection", bijection, Bijection)
        check.integer("cache_size", cache_size, minimum=0, maximum=1)
        super().__init__(cache_size=cache_size)
        self.bijection = bijection

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BijectionTransform) and other.bijection is self.bijection

    def __hash__(self) -> int:
        return id(self.bijection)

    def with_cache(self, cache_size: int = 1) -> BijectionTransform:
        """The same transform with torch's one-entry cache of `(x, y)` pairs."""
        check.integer("cache_size", cache_size, minimum=0, maximum=1)
        return BijectionTransform(self.bijection, cache_size=cache_size)

    def _call(self, x: Tensor) -> Tensor:
        return self.bijection(x)[0]  # type: ignore[no-any-return]

    def _inverse(self, y: Tensor) -> Tensor:
        return self.bijection.inverse(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |det J| at `x`; `y` is unused (the layer recomputes it in the same pass)."""
        check.tensor("y", y)
        check.shapes_match(("x", "y"), (check.tensor("x", x), y))
        return self.bijection(x)[1]  # type: ignore[no-any-return]

    def call_and_ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Output and log-determinant in one pass."""
        return self.bijection.call_and_ladj(x)


# --8<-- [start:chain]
class Chain(Bijection):
    r"""The composition $f = f_K \circ \dots \circ f_1$: log-determinants add.

    $$
    \log\,\Bigl|\det \frac{\partial f}{\partial x}\Bigr|
    = \sum_{k=1}^{K} \log\,\Bigl|\det \frac{\partial f_k}{\partial h_{k-1}}\Bigr|,
    \qquad h_0 = x,\ h_k = f_k(h_{k-1})
    $$

    Args:
        layers: the bijections $f_1, \dots, f_K$, in the order they apply to $x$, all of the
            same dimension $D$.

    Examples:
        >>> chain = Chain([Scaling(3), Reverse(3)])
        >>> y, ladj = chain(torch.ones(4, 3))
        >>> y.shape, ladj.shape
        (torch.Size([4, 3]), torch.Size([4]))

    References:
        Normalizing Flows for Probabilistic Modeling and Inference, G. Papamakarios,
        E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan, 2021,
        <https://arxiv.org/abs/1912.02762>. [Derivation](../flows/index.md#composition).
    """

    def __init__(self, layers: Iterable[Bijection]) -> None:
        if not isinstance(layers, Iterable):
            raise TypeError(f"layers must be an iterable of Bijections, got {layers!r}")
        layers = list(layers)
        if not layers:
            raise ValueError("layers must hold at least one Bijection, got none")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Bijection):
                raise TypeError(f"layers[{i}] must be a Bijection, got {type(layer).__name__}")
        dims = {layer.dim for layer in layers}
        if len(dims) != 1:
            raise ValueError(f"layers must share one dimension, got dims {sorted(dims)}")
        super().__init__(layers[0].dim)
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Apply $f_1, \\dots, f_K$ in turn and add their log-determinants."""
        self._check(x)
        ladj = x.new_zeros(x.shape[:-1])  # (*)
        for layer in self.layers:
            x, term = layer(x)
            ladj = ladj + term
        return x, ladj

    def inverse(self, y: Tensor) -> Tensor:
        """Undo the layers in reverse order."""
        self._check(y, "y")
        for layer in reversed(self.layers):
            y = cast("Bijection", layer).inverse(y)
        return y


# --8<-- [end:chain]


class Permutation(Bijection):
    r"""Reorder the features, $y_i = x_{\pi(i)}$; a permutation has $|\det J| = 1$.

    $$ y = P_\pi x, \qquad \log \lvert \det P_\pi \rvert = 0 $$

    Coupling layers leave some features unchanged; a permutation between them lets every
    feature be transformed by some layer.

    Args:
        perm: a 1-D integer tensor holding each of $0, \dots, D - 1$ once.

    Examples:
        >>> layer = Permutation(torch.tensor([2, 0, 1]))
        >>> y, ladj = layer(torch.tensor([[10.0, 11.0, 12.0]]))
        >>> y, ladj
        (tensor([[12., 10., 11.]]), tensor([0.]))
        >>> layer.inverse(y)
        tensor([[10., 11., 12.]])

    References:
        NICE: Non-linear Independent Components Estimation, L. Dinh, D. Krueger, Y. Bengio,
        2014, <https://arxiv.org/abs/1410.8516>.
        [Derivation](../flows/coupling.md#stacking-and-permutations).
    """

    perm: Tensor
    inverse_perm: Tensor

    def __init__(self, perm: object) -> None:
        perm = check.integer_tensor("perm", perm, dims="D")
        n = perm.numel()
        if n == 0 or not torch.equal(perm.sort().values, torch.arange(n)):
            raise ValueError(f"perm must hold each of 0..{n - 1} once, got {perm.tolist()}")
        super().__init__(n)
        self.register_buffer("perm", perm.clone().long())
        self.register_buffer("inverse_perm", torch.argsort(perm).long())

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(x[..., perm], 0)`."""
        self._check(x)
        return x[..., self.perm], x.new_zeros(x.shape[:-1])

    def inverse(self, y: Tensor) -> Tensor:
        """Return `y[..., argsort(perm)]`."""
        self._check(y, "y")
        return y[..., self.inverse_perm]


class Reverse(Permutation):
    r"""Reverse the order of the features: in two dimensions, swap them.

    $$ y_i = x_{D - 1 - i}, \qquad \log \lvert \det J \rvert = 0 $$

    Args:
        dim: the feature dimension $D \ge 1$.

    Examples:
        >>> Reverse(2)(torch.tensor([[1.0, 2.0]]))[0]
        tensor([[2., 1.]])

    References:
        NICE: Non-linear Independent Components Estimation, L. Dinh, D. Krueger, Y. Bengio,
        2014, <https://arxiv.org/abs/1410.8516>.
        [Derivation](../flows/coupling.md#stacking-and-permutations).
    """

    def __init__(self, dim: int) -> None:
        super().__init__(torch.arange(positive_int("dim", dim) - 1, -1, -1))


class Scaling(Bijection):
    r"""NICE's diagonal scaling layer, $y = x \odot e^{s}$, with $\log|\det J| = \sum_i s_i$.

    $$
    y = x \odot \exp(s), \qquad \log\,|\det J| = \sum_{i=1}^{D} s_i
    $$

    The parameter is the log-scale $s \in \mathbb{R}^D$, so the layer is invertible for every
    value; it starts at $s = 0$, the identity.

    Args:
        dim: the feature dimension $D$.

    Examples:
        >>> layer = Scaling(2)
        >>> with torch.no_grad():
        ...     _ = layer.log_scale.copy_(torch.tensor([1.0, -1.0]))
        >>> with torch.no_grad():
        ...     y, ladj = layer(torch.ones(1, 2))
        >>> y, ladj  # e^1, e^-1 and log|det J| = 1 - 1
        (tensor([[2.7183, 0.3679]]), tensor([0.]))

    References:
        NICE: Non-linear Independent Components Estimation, L. Dinh, D. Krueger, Y. Bengio,
        2014, <https://arxiv.org/abs/1410.8516>. [Derivation](../flows/coupling.md#scaling).
    """

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.log_scale = nn.Parameter(torch.zeros(dim))  # s, shape (D,)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(x * exp(s), sum(s))`."""
        self._check(x)
        return x * self.log_scale.exp(), self.log_scale.sum(-1).expand(x.shape[:-1])

    def inverse(self, y: Tensor) -> Tensor:
        """Return `y * exp(-s)`."""
        self._check(y, "y")
        return y * torch.exp(-self.log_scale)


class Logit(Bijection):
    r"""Map data in $[0, 1]^D$ to $\mathbb{R}^D$: $y = \operatorname{logit}(\alpha + (1 - 2\alpha) x)$.

    $$
    \log\,|\det J| = \sum_{i=1}^{D} \Bigl[\log(1 - 2\alpha) - \log w_i - \log(1 - w_i)\Bigr],
    \qquad w = \alpha + (1 - 2\alpha)\, x
    $$

    The margin $\alpha$ keeps $w$ away from 0 and 1, where the logit is infinite. Used in
    front of a flow for dequantised images (RealNVP, section 4.1).

    Args:
        dim: the feature dimension $D$.
        alpha: the margin, $0 \le \alpha < 1/2$.

    Examples:
        >>> layer = Logit(1, alpha=0.0)
        >>> y, ladj = layer(torch.tensor([[0.5]]))
        >>> y, round(float(ladj), 4)  # logit(1/2) = 0, log|dy/dx| = log 4
        (tensor([[0.]]), 1.3863)

    References:
        Density estimation using Real NVP, L. Dinh, J. Sohl-Dickstein, S. Bengio, 2017,
        <https://arxiv.org/abs/1605.08803>.
        [Derivation](../flows/coupling.md#dequantisation).
    """

    def __init__(self, dim: int, alpha: float = 0.05) -> None:
        super().__init__(dim)
        if not 0.0 <= check.real("alpha", alpha) < 0.5:
            raise ValueError(f"alpha must be in [0, 0.5), got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return `(logit(w), log|det J|)` with `w = alpha + (1 - 2 alpha) x`."""
        self._check(x)
        if x.numel() and not bool(((x >= 0) & (x <= 1)).all()):
            raise ValueError(
                f"x must lie in [0, 1] for Logit, got values in "
                f"[{float(x.min()):.4g}, {float(x.max()):.4g}]"
            )
        if self.alpha == 0 and x.numel() and not bool(((x > 0) & (x < 1)).all()):
            raise ValueError("x must lie in (0, 1) for Logit with alpha = 0 (logit(0) is -inf)")
        a = self.alpha
        w = a + (1 - 2 * a) * x
        log_w, log_1mw = torch.log(w), torch.log1p(-w)
        ladj = (torch.log(torch.as_tensor(1 - 2 * a, dtype=x.dtype)) - log_w - log_1mw).sum(-1)
        return log_w - log_1mw, ladj  # logit(w) = log w - log(1 - w)

    def inverse(self, y: Tensor) -> Tensor:
        r"""Return `(sigmoid(y) - alpha) / (1 - 2 alpha)`, clamped to [0, 1].

        The forward map's image is $[\operatorname{logit}\alpha, \operatorname{logit}(1 - \alpha)]$;
        a `y` beyond it (a base sample far in the tails) maps to the nearest end, 0 or 1, so
        that the inverse stays in the forward map's domain and a flow's own samples pass its
        `log_prob`.
        """
        self._check(y, "y")
        return ((torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)).clamp(0, 1)
