r"""Random features for the softmax kernel $e^{x \cdot y}$: positive and trigonometric, independent or orthogonal draws.

Positive features make $\phi(x) \cdot \phi(y)$ an unbiased, non-negative estimate of the
kernel, so they can serve as attention features (Performer's FAVOR+)
([page](../linear-attention.md#random-features)).
"""

from __future__ import annotations

import math

import torch

from notes._validate import agree, boolean, choice, positive_int, real, same_dtype, shape, tensor
from notes._validate import dtype as check_dtype
from notes._validate import generator as check_generator
from notes.linear_attention.feature_maps import FeatureMap


# --8<-- [start:random_features]
def gaussian_projection(
    r: int,
    d: int,
    *,
    orthogonal: bool = False,
    batch: tuple[int, ...] = (),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Draw $r$ projections $w_l \sim \mathcal{N}(0, I_d)$, independent or orthogonal in blocks of $d$.

    Orthogonal draws: each block of $d$ rows is $\operatorname{diag}(\rho) Q$ with $Q$ a
    Haar-random orthogonal matrix (Gram-Schmidt of Gaussian rows, by QR) and $\rho_l \sim \chi_d$ the norms of Gaussian vectors,
    so every row is still exactly $\mathcal{N}(0, I_d)$ (equation `la-orthogonal`).

    Args:
        r: number of features, $\ge 1$.
        d: dimension, $\ge 1$.
        orthogonal: rows orthogonal within each block of $d$ (blocks are independent).
        batch: leading shape, for many independent draws at once.
        generator: source of randomness.
        dtype: a floating dtype.

    Returns:
        $W$ of shape `(*batch, r, d)`.

    Examples:
        >>> w = gaussian_projection(3, 3, orthogonal=True, generator=torch.Generator().manual_seed(0),
        ...                         dtype=torch.float64)
        >>> g = w @ w.T
        >>> bool(torch.allclose(g, torch.diag(g.diag()), atol=1e-12))  # rows orthogonal
        True

    References:
        K. Choromanski et al., "Rethinking Attention with Performers", 2021,
        https://arxiv.org/abs/2009.14794. [derivation](../linear-attention.md#random-features)
    """
    r, d = positive_int("r", r), positive_int("d", d)
    boolean("orthogonal", orthogonal)
    check_generator("generator", generator)
    shape("batch", batch), check_dtype("dtype", dtype)
    batch = tuple(positive_int(f"batch[{i}]", b) for i, b in enumerate(batch))
    if not orthogonal:
        return torch.randn(*batch, r, d, generator=generator, dtype=dtype)  # (*batch, r, d)
    blocks = -(-r // d)  # ceil(r / d) blocks of d orthogonal rows
    a = torch.randn(*batch, blocks, d, d, generator=generator, dtype=dtype)  # Gaussian rows
    # Q from the QR factorisation of a^T with R's diagonal made positive is the Gram-Schmidt
    # orthonormalisation of the rows a_j (Householder: orthogonal to rounding), a Haar-random
    # orthogonal matrix. It depends only on the rows' directions, which are independent of
    # their lengths |a_j| ~ chi_d: so w_j = |a_j| Q_j ~ N(0, I).
    qm, rm = torch.linalg.qr(a.transpose(-2, -1))  # columns of a^T are the rows a_j
    qm = qm * torch.sign(torch.diagonal(rm, dim1=-2, dim2=-1)).unsqueeze(-2)
    q = qm.transpose(-2, -1) * a.norm(dim=-1, keepdim=True)  # row j: |a_j| Q_j
    w: torch.Tensor = q.reshape(*batch, blocks * d, d)[..., :r, :]  # (*batch, r, d)
    return w


def positive_random_features(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    r"""Positive random features of the softmax kernel $e^{x \cdot y}$.

    $$ \phi(x) = \frac{e^{-\lVert x \rVert^2/2}}{\sqrt{r}}
       \big(e^{w_1 \cdot x}, \dots, e^{w_r \cdot x}\big), \qquad
       \mathbb{E}_w[\phi(x) \cdot \phi(y)] = e^{x \cdot y} $$

    Args:
        x: points, shape `(*, T, d)`.
        w: projections from [`gaussian_projection`][notes.linear_attention.gaussian_projection],
            shape `(*, r, d)` (batch dimensions broadcast with `x`'s).

    Returns:
        $\phi(x) > 0$, shape `(*, T, r)`.

    Examples:
        >>> positive_random_features(torch.zeros(1, 2), torch.ones(4, 2))  # e^0 / sqrt(4)
        tensor([[0.5000, 0.5000, 0.5000, 0.5000]])

    References:
        K. Choromanski et al., "Rethinking Attention with Performers", 2021,
        https://arxiv.org/abs/2009.14794. [derivation](../linear-attention.md#random-features)
    """
    tensor("x", x, dims="* T D"), tensor("w", w, dims="* R D")
    agree(("x", "w"), (x.shape[-1], w.shape[-1]), "the last dimension D")
    tensor("w", w, dims="* R D", sizes={"D": x.shape[-1]})
    same_dtype("w", w, x.dtype, "x")
    # No max subtraction: this page keeps |x| small; Performer subtracts a max for stability.
    logits = x @ w.transpose(-2, -1) - 0.5 * (x * x).sum(-1, keepdim=True)  # (*, T, r)
    return torch.exp(logits) / math.sqrt(w.shape[-2])


def trigonometric_random_features(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    r"""Trigonometric random features of the softmax kernel (Rahimi and Recht), for comparison.

    $$ \phi(x) = \frac{e^{\lVert x \rVert^2/2}}{\sqrt{r}}
       \big(\cos(w_l \cdot x), \sin(w_l \cdot x)\big)_{l=1}^{r}, \qquad
       \mathbb{E}_w[\phi(x) \cdot \phi(y)] = e^{x \cdot y} $$

    Their products can be negative, so they cannot serve as attention features.

    Args:
        x: points, shape `(*, T, d)`.
        w: projections, shape `(*, r, d)`.

    Returns:
        $\phi(x)$ of shape `(*, T, 2r)`.

    Examples:
        >>> trigonometric_random_features(torch.zeros(1, 2), torch.ones(1, 2))
        tensor([[1., 0.]])

    References:
        A. Rahimi, B. Recht, "Random Features for Large-Scale Kernel Machines", 2007.
        [derivation](../linear-attention.md#random-features)
    """
    tensor("x", x, dims="* T D"), tensor("w", w, dims="* R D")
    agree(("x", "w"), (x.shape[-1], w.shape[-1]), "the last dimension D")
    tensor("w", w, dims="* R D", sizes={"D": x.shape[-1]})
    same_dtype("w", w, x.dtype, "x")
    proj = x @ w.transpose(-2, -1)  # (*, T, r)
    scale = torch.exp(0.5 * (x * x).sum(-1, keepdim=True)) / math.sqrt(w.shape[-2])
    return scale * torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)


def softmax_kernel_variance(
    x: torch.Tensor, y: torch.Tensor, r: int, *, features: str = "positive"
) -> torch.Tensor:
    r"""Variance of the $r$-feature estimate of $e^{x \cdot y}$ with independent projections.

    $$ \operatorname{Var}^{+} = \frac{e^{2 x \cdot y}}{r}\big(e^{\lVert x + y \rVert^2} - 1\big),
       \qquad
       \operatorname{Var}^{\mathrm{trig}} = \frac{e^{\lVert x \rVert^2 + \lVert y \rVert^2}}{2r}
       \big(1 - e^{-\lVert x - y \rVert^2}\big)^2 $$

    (equations `la-variance` and `la-variance-trig`).

    Args:
        x: shape `(*, d)`.
        y: shape `(*, d)`.
        r: number of projections $w_l$, $\ge 1$.
        features: `"positive"` or `"trigonometric"`.

    Returns:
        The variance, shape `(*)`.

    Examples:
        >>> x = torch.tensor([0.5, 0.0], dtype=torch.float64)
        >>> round(float(softmax_kernel_variance(x, x, 1)), 4)  # e^{0.5} (e^1 - 1)
        2.833

    References:
        K. Choromanski et al., "Rethinking Attention with Performers", 2021, Lemmas 1 and 2,
        https://arxiv.org/abs/2009.14794. [derivation](../linear-attention.md#random-features)
    """
    tensor("x", x, dims="* D"), tensor("y", y, dims="* D")
    agree(("x", "y"), (x.shape[-1], y.shape[-1]), "the last dimension D")
    tensor("y", y, dims="* D", sizes={"D": x.shape[-1]})
    r = positive_int("r", r)
    choice("features", features, ["positive", "trigonometric"])
    if features == "positive":
        return torch.exp(2 * (x * y).sum(-1)) * torch.expm1(((x + y) ** 2).sum(-1)) / r
    s = torch.exp((x * x).sum(-1) + (y * y).sum(-1))
    return s * (-torch.expm1(-((x - y) ** 2).sum(-1))) ** 2 / (2 * r)


def random_feature_map(w: torch.Tensor, *, scale: float | None = None) -> FeatureMap:
    r"""The feature map $x \mapsto \phi^{+}(c^{1/2} x)$, so that $\phi(q)\cdot\phi(k)$ estimates $e^{c\, q \cdot k}$.

    With $c = 1/\sqrt{d}$ (the default) linear attention with this map estimates softmax
    attention, Performer's FAVOR+.

    Args:
        w: projections, shape `(r, d)`.
        scale: $c > 0$; `None` means $1/\sqrt{d}$.

    Returns:
        A feature map for [`linear_attention`][notes.linear_attention.linear_attention].

    Examples:
        >>> phi = random_feature_map(torch.ones(4, 2), scale=1.0)
        >>> phi(torch.zeros(1, 2))
        tensor([[0.5000, 0.5000, 0.5000, 0.5000]])

    References:
        K. Choromanski et al., "Rethinking Attention with Performers", 2021,
        https://arxiv.org/abs/2009.14794. [derivation](../linear-attention.md#random-features)
    """
    tensor("w", w, dims="R D", min_sizes={"R": 1})
    c = 1.0 / math.sqrt(w.shape[-1]) if scale is None else real("scale", scale, gt=0)
    root = math.sqrt(c)

    def phi(x: torch.Tensor) -> torch.Tensor:
        return positive_random_features(root * x, w)

    return phi


# --8<-- [end:random_features]
