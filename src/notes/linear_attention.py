r"""Attention without the softmax: linear attention, its recurrence, random features, GAU and FLASH.

The functions follow the page [Attention without the softmax](../linear-attention.md):
attention as a normalised weighted average with a similarity $\operatorname{sim}(q, k)$;
with $\operatorname{sim}(q, k) = \phi(q) \cdot \phi(k)$ for a non-negative feature map $\phi$
the product can be computed in either order, $(\phi(Q)\phi(K)^\top) V$ in $O(n^2 r)$ or
$\phi(Q)(\phi(K)^\top V)$ in $O(n r d_v)$; the causal form is a recurrence with an
$r \times d_v$ state; positive random features make $\phi(q)\cdot\phi(k)$ an unbiased estimate
of the softmax kernel; the gated attention unit (GAU) uses squared-ReLU attention, and FLASH's
mixed-chunk attention is quadratic within chunks and linear across them. Softmax attention
itself is [`notes.attention`][notes.attention].

Examples:
    >>> import torch
    >>> from notes.linear_attention import linear_attention
    >>> g = torch.Generator().manual_seed(0)
    >>> q, k, v = (torch.randn(5, 4, generator=g, dtype=torch.float64) for _ in range(3))
    >>> left = linear_attention(q, k, v, order="left")
    >>> bool(torch.allclose(left, linear_attention(q, k, v, order="right")))
    True
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple, Self

import torch
import torch.nn.functional as F

from notes._validate import (
    agree,
    boolean,
    causal_mask,
    choice,
    divisor,
    function,
    nonnegative,
    positive_int,
    real,
    same_dtype,
    shape,
    tensor,
)
from notes._validate import dtype as check_dtype
from notes._validate import (
    generator as check_generator,
)

__all__ = [
    "FEATURE_MAPS",
    "GAUParameters",
    "causal_linear_attention",
    "crossover",
    "elu_plus_one",
    "gated_attention_unit",
    "gaussian_projection",
    "growth_exponent",
    "init_gau",
    "interleaved_times",
    "linear_attention",
    "linear_attention_weights",
    "mixed_chunk_attention",
    "mixed_chunk_weights",
    "positive_random_features",
    "random_feature_map",
    "softmax_kernel_variance",
    "squared_relu_attention",
    "trigonometric_random_features",
]

FeatureMap = Callable[[torch.Tensor], torch.Tensor]
_WHY = "phi(q) . phi(k) is an attention weight, and weights must not be negative"


def _qkv(q: object, k: object, v: object | None = None) -> None:
    tensor("q", q, dims="* T D")
    tensor("k", k, dims="* S D")
    assert isinstance(q, torch.Tensor)
    assert isinstance(k, torch.Tensor)
    same_dtype("k", k, q.dtype, "q")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension d, got {q.shape[-1]} and {k.shape[-1]}"
        )
    if v is not None:
        tensor("v", v, dims="* S E")
        assert isinstance(v, torch.Tensor)
        same_dtype("v", v, q.dtype, "q")
        if v.shape[-2] != k.shape[-2]:
            raise ValueError(
                f"k and v must have as many rows T_k, got {k.shape[-2]} and {v.shape[-2]}"
            )


# --8<-- [start:feature_maps]
def elu_plus_one(x: torch.Tensor) -> torch.Tensor:
    r"""The feature map of Katharopoulos et al., $\phi(x) = \operatorname{elu}(x) + 1 > 0$.

    $$ \phi(x) = \begin{cases} x + 1 & x > 0 \\ e^{x} & x \le 0 \end{cases} $$

    Args:
        x: any floating tensor, shape `(*, d)`.

    Returns:
        $\phi(x)$, entrywise, shape `(*, d)`; every entry $> 0$.

    Examples:
        >>> elu_plus_one(torch.tensor([-1.0, 0.0, 2.0]))
        tensor([0.3679, 1.0000, 3.0000])

    References:
        A. Katharopoulos, A. Vyas, N. Pappas, F. Fleuret, "Transformers are RNNs: Fast
        Autoregressive Transformers with Linear Attention", 2020,
        https://arxiv.org/abs/2006.16236. [derivation](../linear-attention.md#linear)
    """
    return _elu_plus_one(tensor("x", x))


def _elu_plus_one(x: torch.Tensor) -> torch.Tensor:
    # Not F.elu(x) + 1: that is (e^x - 1) + 1, which loses e^x's relative precision for x < 0
    # and rounds to exactly 0 below x = -37 (float64), where a normaliser could then vanish.
    return torch.where(x > 0, x + 1.0, torch.exp(x.clamp(max=0.0)))


#: The named feature maps: ``"elu+1"`` (strictly positive) and ``"relu"`` (non-negative).
FEATURE_MAPS: dict[str, FeatureMap] = {"elu+1": _elu_plus_one, "relu": torch.relu}


def _features(name: str, x: torch.Tensor, feature_map: str | FeatureMap) -> torch.Tensor:
    """phi(x), checked: a tensor of shape (*, T, r) with no negative entry."""
    if isinstance(feature_map, str):
        phi = FEATURE_MAPS[choice("feature_map", feature_map, list(FEATURE_MAPS))]
    else:
        phi = function("feature_map", feature_map)
    out = tensor(f"feature_map({name})", phi(x), dims="* T R")
    if out.shape[:-1] != x.shape[:-1]:
        raise ValueError(
            f"feature_map({name}) must keep every dimension of {name} but the last, "
            f"got {tuple(out.shape)} from {tuple(x.shape)}"
        )
    return nonnegative(f"feature_map({name})", out, _WHY)


# --8<-- [end:feature_maps]


# --8<-- [start:linear_attention]
def linear_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    feature_map: str | FeatureMap = "elu+1",
    order: str = "right",
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Linear attention $o_i = \phi(q_i)^\top \sum_j \phi(k_j) v_j^\top \big/ \phi(q_i)^\top \sum_j \phi(k_j)$.

    $$ O = \frac{(\phi(Q)\phi(K)^\top) V}{(\phi(Q)\phi(K)^\top) \mathbf{1}}
         = \frac{\phi(Q)\,(\phi(K)^\top V)}{\phi(Q)\,(\phi(K)^\top \mathbf{1})} $$

    (equation `la-orders` of the page). The left order builds the $T_q \times T_k$ matrix,
    $O(T_q T_k r)$; the right order never does, $O((T_q + T_k)\, r\, d_v)$.

    Args:
        q: queries, shape `(*, T_q, d)`.
        k: keys, shape `(*, T_k, d)`.
        v: values, shape `(*, T_k, d_v)`.
        feature_map: `"elu+1"`, `"relu"`, or a callable mapping `(*, T, d)` to `(*, T, r)`
            whose values must be $\ge 0$ (see [`random_feature_map`][notes.linear_attention.random_feature_map]).
        order: `"right"` for $\phi(Q)(\phi(K)^\top V)$, `"left"` for $(\phi(Q)\phi(K)^\top)V$.
        mask: optional bool `(T_q, T_k)`, True where query $i$ may see key $j$; only with
            `order="left"` (the right order sums over every key; for the causal mask use
            [`causal_linear_attention`][notes.linear_attention.causal_linear_attention]).

    Returns:
        Outputs of shape `(*, T_q, d_v)`.

    Examples:
        >>> q, k = torch.zeros(1, 3), torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
        >>> v = torch.arange(4.0)[:, None]  # phi(0) = 1: equal-ish weights, no sharpening
        >>> linear_attention(q, k, v, feature_map=lambda x: torch.ones_like(x))
        tensor([[1.5000]])

    References:
        A. Katharopoulos, A. Vyas, N. Pappas, F. Fleuret, "Transformers are RNNs", 2020,
        https://arxiv.org/abs/2006.16236. [derivation](../linear-attention.md#linear)
    """
    tensor("v", v)
    _qkv(q, k, v)
    choice("order", order, ["right", "left"])
    if mask is not None and order != "left":
        raise ValueError(
            "mask needs order='left': the right order phi(Q)(phi(K)^T V) sums over every key; "
            "for the causal mask use causal_linear_attention"
        )
    pq, pk = (
        _features("q", q, feature_map),
        _features("k", k, feature_map),
    )  # (*, T_q, r), (*, T_k, r)
    if pq.shape[-1] != pk.shape[-1]:
        raise ValueError(
            f"phi(q) and phi(k) must have one width r, got {pq.shape[-1]} and {pk.shape[-1]}"
        )
    if order == "left":
        a = pq @ pk.transpose(-2, -1)  # (*, T_q, T_k): the n x n matrix
        if mask is not None:
            tensor(
                "mask", mask, dims="T S", floating=False, sizes={"T": q.shape[-2], "S": k.shape[-2]}
            )
            a = a * mask
        return (a @ v) / a.sum(-1, keepdim=True)  # (*, T_q, d_v) / (*, T_q, 1)
    kv = pk.transpose(-2, -1) @ v  # (*, r, d_v): sum_j phi(k_j) v_j^T
    z = pk.sum(-2)  # (*, r): sum_j phi(k_j)
    return (pq @ kv) / (pq @ z.unsqueeze(-1))  # (*, T_q, d_v) / (*, T_q, 1)


def linear_attention_weights(
    q: torch.Tensor, k: torch.Tensor, *, feature_map: str | FeatureMap = "elu+1"
) -> torch.Tensor:
    r"""The weight matrix of linear attention, $a_{ij} = \phi(q_i)\cdot\phi(k_j) / \sum_l \phi(q_i)\cdot\phi(k_l)$.

    $$ A = D^{-1} \phi(Q)\phi(K)^\top, \qquad \operatorname{rank} A \le r $$

    Args:
        q: queries, shape `(*, T_q, d)`.
        k: keys, shape `(*, T_k, d)`.
        feature_map: as in [`linear_attention`][notes.linear_attention.linear_attention].

    Returns:
        Rows summing to 1, shape `(*, T_q, T_k)`.

    Examples:
        >>> linear_attention_weights(torch.ones(1, 2), torch.tensor([[1.0, 1.0], [-9.0, 1.0]]),
        ...                          feature_map="relu")
        tensor([[0.6667, 0.3333]])

    References:
        [derivation](../linear-attention.md#lost)
    """
    _qkv(q, k)
    a = _features("q", q, feature_map) @ _features("k", k, feature_map).transpose(-2, -1)
    return a / a.sum(-1, keepdim=True)  # (*, T_q, T_k)


# --8<-- [end:linear_attention]


# --8<-- [start:recurrence]
def causal_linear_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    feature_map: str | FeatureMap = "elu+1",
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Causal linear attention as a recurrence with an $r \times d_v$ state.

    $$ S_i = S_{i-1} + \phi(k_i) v_i^\top, \quad z_i = z_{i-1} + \phi(k_i), \quad
       o_i = \frac{S_i^\top \phi(q_i)}{z_i^\top \phi(q_i)} $$

    (equation `la-recurrence`), which equals the parallel form with the causal mask.

    Args:
        q: queries, shape `(*, T, d)`.
        k: keys, shape `(*, T, d)`.
        v: values, shape `(*, T, d_v)`.
        feature_map: as in [`linear_attention`][notes.linear_attention.linear_attention].
        mask: optional; if given it must be the `(T, T)` bool causal mask (key $j$ visible
            to query $i$ exactly when $j \le i$), the only mask a recurrence computes.

    Returns:
        `(o, S, z)`: outputs `(*, T, d_v)`, the last state $S_T$ `(*, r, d_v)` and
        normaliser $z_T$ `(*, r)`.

    Examples:
        >>> v = torch.tensor([[1.0], [3.0]])
        >>> o, S, z = causal_linear_attention(torch.zeros(2, 2), torch.zeros(2, 2), v)
        >>> o  # phi(0) = 1: the running mean of v
        tensor([[1.],
                [2.]])

    References:
        A. Katharopoulos et al., "Transformers are RNNs", 2020,
        https://arxiv.org/abs/2006.16236. [derivation](../linear-attention.md#causal)
    """
    tensor("v", v)
    _qkv(q, k, v)
    t = q.shape[-2]
    if k.shape[-2] != t:
        raise ValueError(
            f"q and k must have as many rows: the causal form needs as many queries as keys, "
            f"got {t} and {k.shape[-2]}"
        )
    if mask is not None:
        causal_mask("mask", mask, t)
    pq, pk = _features("q", q, feature_map), _features("k", k, feature_map)  # (*, T, r)
    S = pk.new_zeros(*pk.shape[:-2], pk.shape[-1], v.shape[-1])  # (*, r, d_v)
    z = pk.new_zeros(*pk.shape[:-2], pk.shape[-1])  # (*, r)
    out = []
    for i in range(t):
        S = S + pk[..., i, :, None] * v[..., i, None, :]  # S_i = S_{i-1} + phi(k_i) v_i^T
        z = z + pk[..., i, :]  # z_i = z_{i-1} + phi(k_i)
        num = (pq[..., i, :, None] * S).sum(-2)  # S_i^T phi(q_i): (*, d_v)
        out.append(num / (pq[..., i, :] * z).sum(-1, keepdim=True))
    return torch.stack(out, dim=-2), S, z


# --8<-- [end:recurrence]


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


# --8<-- [start:gau]
def squared_relu_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, mask: torch.Tensor | None = None
) -> torch.Tensor:
    r"""GAU's attention, $A = \operatorname{relu}^2(Q K^\top / T_k)$, not normalised, times $V$.

    $$ o_i = \sum_j \operatorname{relu}\!\Big(\frac{q_i \cdot k_j}{T_k}\Big)^2 v_j $$

    Args:
        q: queries, shape `(*, T_q, s)`.
        k: keys, shape `(*, T_k, s)`.
        v: values, shape `(*, T_k, e)`.
        mask: optional bool `(T_q, T_k)`, True where query $i$ may see key $j$.

    Returns:
        Outputs of shape `(*, T_q, e)`.

    Examples:
        >>> squared_relu_attention(torch.ones(1, 2), torch.tensor([[1.0, 1.0], [-1.0, 0.0]]),
        ...                        torch.tensor([[1.0], [5.0]]))  # relu(2/2)^2 * 1 + 0 * 5
        tensor([[1.]])

    References:
        W. Hua, Z. Dai, H. Liu, Q. Le, "Transformer Quality in Linear Time", 2022,
        https://arxiv.org/abs/2202.10447. [derivation](../linear-attention.md#gau)
    """
    tensor("v", v)
    _qkv(q, k, v)
    a = torch.relu(q @ k.transpose(-2, -1) / k.shape[-2]) ** 2  # (*, T_q, T_k)
    if mask is not None:
        tensor("mask", mask, dims="T S", floating=False, sizes={"T": q.shape[-2], "S": k.shape[-2]})
        a = a * mask
    return a @ v


class _GAUFields(NamedTuple):
    w_u: torch.Tensor
    w_v: torch.Tensor
    w_z: torch.Tensor
    gamma: torch.Tensor
    beta: torch.Tensor
    w_o: torch.Tensor


class GAUParameters(_GAUFields):
    r"""The weights of one gated attention unit (shapes for width $d$, expansion $e$, key size $s$).

    The constructor checks that each is a finite floating 2-D tensor with at least one entry, of
    one dtype, and that the shapes agree; `gated_attention_unit` checks them against its input.

    Attributes:
        w_u: gate projection, `(d, e)`.
        w_v: value projection, `(d, e)`.
        w_z: the shared query-key projection, `(d, s)`.
        gamma: per-dimension scales of $Z$ for $Q$, $K$, $Q_{\text{lin}}$, $K_{\text{lin}}$, `(4, s)`.
        beta: per-dimension offsets, `(4, s)`.
        w_o: output projection, `(e, d)`.
    """

    __slots__ = ()

    def __new__(
        cls,
        w_u: torch.Tensor,
        w_v: torch.Tensor,
        w_z: torch.Tensor,
        gamma: torch.Tensor,
        beta: torch.Tensor,
        w_o: torch.Tensor,
    ) -> Self:
        p = super().__new__(cls, w_u, w_v, w_z, gamma, beta, w_o)
        for name, w in zip(p._fields, p, strict=True):
            tensor(name, w, dims="A B", min_numel=1)
            same_dtype(name, w, w_u.dtype, "w_u")
        d, e = w_u.shape
        for (a, b), (m, n), what in (
            (("w_u", "w_v"), (w_u.shape, w_v.shape), "their shape (d, e)"),
            (("w_u", "w_z"), (d, w_z.shape[0]), "their rows d"),
            (("w_z", "gamma"), (w_z.shape[1], gamma.shape[1]), "their columns s"),
            (("gamma", "beta"), (gamma.shape, beta.shape), "their shape (4, s)"),
            (("w_u", "w_o"), (e, w_o.shape[0]), "e (the rows of w_o)"),
            (("w_u", "w_o"), (d, w_o.shape[1]), "d (the columns of w_o)"),
        ):
            if m != n:
                raise ValueError(
                    f"{a} and {b} must agree on {what}, got {tuple(m) if isinstance(m, torch.Size) else m} and {tuple(n) if isinstance(n, torch.Size) else n}"
                )
        tensor("gamma", gamma, dims="4 S")
        return p


def init_gau(
    d: int,
    *,
    e: int | None = None,
    s: int = 128,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> GAUParameters:
    r"""Random GAU weights: projections $\mathcal{N}(0, 1/\text{fan-in})$, $\gamma \sim \mathcal{N}(0, 1)$, $\beta = 0$.

    Args:
        d: model width, $\ge 1$.
        e: expanded width, $\ge 1$; `None` means $2d$ as in the paper.
        s: shared query-key width, $\ge 1$ (128 in the paper).
        generator: source of randomness.
        dtype: a floating dtype.

    Returns:
        [`GAUParameters`][notes.linear_attention.GAUParameters].

    Examples:
        >>> p = init_gau(8, s=4, generator=torch.Generator().manual_seed(0))
        >>> p.w_u.shape, p.gamma.shape
        (torch.Size([8, 16]), torch.Size([4, 4]))

    References:
        W. Hua et al., "Transformer Quality in Linear Time", 2022,
        https://arxiv.org/abs/2202.10447. [derivation](../linear-attention.md#gau)
    """
    d = positive_int("d", d)
    e = 2 * d if e is None else positive_int("e", e)
    s = positive_int("s", s)
    check_generator("generator", generator), check_dtype("dtype", dtype)

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=dtype)

    return GAUParameters(
        w_u=draw(d, e) / math.sqrt(d),
        w_v=draw(d, e) / math.sqrt(d),
        w_z=draw(d, s) / math.sqrt(d),
        gamma=draw(4, s),
        beta=torch.zeros(4, s, dtype=dtype),
        w_o=draw(e, d) / math.sqrt(e),
    )


def gated_attention_unit(
    x: torch.Tensor, params: GAUParameters, *, causal: bool = False, chunk: int | None = None
) -> torch.Tensor:
    r"""The gated attention unit: one head, shared $Z$, squared-ReLU attention, a gate.

    $$ U = \operatorname{silu}(X W_u),\ V = \operatorname{silu}(X W_v),\
       Z = \operatorname{silu}(X W_z),\ Q = \gamma_q \odot Z + \beta_q,\
       K = \gamma_k \odot Z + \beta_k,\ O = \big(U \odot A V\big) W_o $$

    with $A V$ from [`squared_relu_attention`][notes.linear_attention.squared_relu_attention]
    (`chunk=None`, GAU) or [`mixed_chunk_attention`][notes.linear_attention.mixed_chunk_attention]
    (FLASH). Residual connection and normalisation are left to the caller.

    Args:
        x: inputs, shape `(*, n, d)`.
        params: [`GAUParameters`][notes.linear_attention.GAUParameters].
        causal: each position sees only itself and earlier ones.
        chunk: chunk size $c$ dividing $n$ for mixed-chunk attention; `None` for full GAU.

    Returns:
        Outputs of shape `(*, n, d)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(8, 6, generator=g)
        >>> gated_attention_unit(x, init_gau(6, s=4, generator=g), causal=True, chunk=4).shape
        torch.Size([8, 6])

    References:
        W. Hua et al., "Transformer Quality in Linear Time", 2022,
        https://arxiv.org/abs/2202.10447. [derivation](../linear-attention.md#gau)
    """
    tensor("x", x, dims="* N D")
    if not isinstance(params, GAUParameters):
        raise TypeError(f"params must be GAUParameters, got {type(params).__name__}")
    d, n = x.shape[-1], x.shape[-2]
    e, s = params.w_u.shape[-1], params.w_z.shape[-1]
    for name, w, rows, cols in (
        ("w_u", params.w_u, d, e),
        ("w_v", params.w_v, d, e),
        ("w_z", params.w_z, d, s),
        ("gamma", params.gamma, 4, s),
        ("beta", params.beta, 4, s),
        ("w_o", params.w_o, e, d),
    ):
        tensor(f"params.{name}", w, dims="A B", sizes={"A": rows, "B": cols})
        same_dtype(f"params.{name}", w, x.dtype, "x")
    boolean("causal", causal)
    u = F.silu(x @ params.w_u)  # (*, n, e): the gate
    v = F.silu(x @ params.w_v)  # (*, n, e)
    z = F.silu(x @ params.w_z)  # (*, n, s): shared by queries and keys
    qk = z.unsqueeze(-2) * params.gamma + params.beta  # (*, n, 4, s)
    q, k, q_lin, k_lin = qk.unbind(-2)  # each (*, n, s)
    if chunk is None:
        mask = torch.ones(n, n, dtype=torch.bool).tril() if causal else None
        av = squared_relu_attention(q, k, v, mask=mask)  # (*, n, e)
    else:
        av = mixed_chunk_attention(q, k, q_lin, k_lin, v, chunk=chunk, causal=causal)
    return (u * av) @ params.w_o  # (*, n, d)


# --8<-- [end:gau]


def _chunk_args(
    q: object, k: object, q_lin: object, k_lin: object, v: object, chunk: object, causal: object
) -> int:
    for name, t in (("q", q), ("k", k), ("q_lin", q_lin), ("k_lin", k_lin)):
        tensor(name, t, dims="* N S")
    assert isinstance(q, torch.Tensor)
    for name, t in (("k", k), ("q_lin", q_lin), ("k_lin", k_lin)):
        assert isinstance(t, torch.Tensor)
        if t.shape[-2:] != q.shape[-2:]:
            raise ValueError(
                f"q and {name} must agree: {name} must have the shape (n, s) of q, "
                f"{tuple(q.shape[-2:])}, got {tuple(t.shape)}"
            )
        same_dtype(name, t, q.dtype, "q")
    tensor("v", v, dims="* N E", sizes={"N": q.shape[-2]})
    assert isinstance(v, torch.Tensor)
    same_dtype("v", v, q.dtype, "q")
    boolean("causal", causal)
    return divisor("chunk", chunk, q.shape[-2], "the sequence length n")


# --8<-- [start:mixed_chunk]
def mixed_chunk_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    q_lin: torch.Tensor,
    k_lin: torch.Tensor,
    v: torch.Tensor,
    *,
    chunk: int,
    causal: bool = True,
) -> torch.Tensor:
    r"""FLASH's mixed-chunk attention: squared-ReLU within chunks of size $c$, linear across.

    $$ o_i = \sum_{j \in G(i),\, j \le i} \operatorname{relu}\!\Big(\frac{q_i \cdot k_j}{c}\Big)^2 v_j
       + \frac{1}{n}\, \tilde q_i^\top \sum_{h < g(i)} \sum_{j \in G_h} \tilde k_j v_j^\top $$

    (equation `la-mixed-chunk`, causal form; non-causal: every key of the chunk, and the
    linear term over every chunk). Cost $O(n c s + n s e)$: linear in $n$ for fixed $c$.

    Args:
        q: queries of the quadratic part, shape `(*, n, s)`.
        k: keys of the quadratic part, shape `(*, n, s)`.
        q_lin: queries $\tilde q$ of the linear part, shape `(*, n, s)`.
        k_lin: keys $\tilde k$ of the linear part, shape `(*, n, s)`.
        v: values, shape `(*, n, e)`.
        chunk: chunk size $c$, which must divide $n$.
        causal: each position sees only itself and earlier ones.

    Returns:
        Outputs of shape `(*, n, e)`; equal to `mixed_chunk_weights(...) @ v`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> q, k, ql, kl, v = (torch.randn(8, 3, generator=g, dtype=torch.float64) for _ in range(5))
        >>> direct = mixed_chunk_weights(q, k, ql, kl, chunk=4) @ v
        >>> bool(torch.allclose(mixed_chunk_attention(q, k, ql, kl, v, chunk=4), direct))
        True

    References:
        W. Hua et al., "Transformer Quality in Linear Time", 2022,
        https://arxiv.org/abs/2202.10447. [derivation](../linear-attention.md#gau)
    """
    c = _chunk_args(q, k, q_lin, k_lin, v, chunk, causal)
    n, s, e = q.shape[-2], q.shape[-1], v.shape[-1]
    batch = q.shape[:-2]

    def split(t: torch.Tensor, width: int) -> torch.Tensor:
        return t.reshape(*batch, n // c, c, width)  # (*, G, c, width)

    qg, kg, qlg, klg, vg = split(q, s), split(k, s), split(q_lin, s), split(k_lin, s), split(v, e)
    a = torch.relu(qg @ kg.transpose(-2, -1) / c) ** 2  # (*, G, c, c): within each chunk
    if causal:
        a = a * torch.ones(c, c, dtype=torch.bool).tril()
    kv = klg.transpose(-2, -1) @ vg / n  # (*, G, s, e): one chunk's sum of k~ v^T, over n
    if causal:  # exclusive running sum: the chunks h < g only
        kv = torch.cat([torch.zeros_like(kv[..., :1, :, :]), kv[..., :-1, :, :].cumsum(-3)], -3)
    else:  # (*, 1, s, e): every chunk
        kv = kv.sum(-3, keepdim=True)
    out = a @ vg + qlg @ kv  # (*, G, c, e)
    return out.reshape(*batch, n, e)


def mixed_chunk_weights(
    q: torch.Tensor,
    k: torch.Tensor,
    q_lin: torch.Tensor,
    k_lin: torch.Tensor,
    *,
    chunk: int,
    causal: bool = True,
) -> torch.Tensor:
    r"""The $n \times n$ matrix that mixed-chunk attention applies to $V$, built directly.

    $$ a_{ij} = [g(j) = g(i)]\,[j \le i]\, \operatorname{relu}(q_i \cdot k_j / c)^2
              + [g(j) < g(i)]\, \tilde q_i \cdot \tilde k_j / n $$

    (causal; non-causal drops $[j \le i]$ and takes the linear term over every chunk, the
    query's own included).

    Args:
        q: shape `(*, n, s)`.
        k: shape `(*, n, s)`.
        q_lin: shape `(*, n, s)`.
        k_lin: shape `(*, n, s)`.
        chunk: chunk size $c$ dividing $n$.
        causal: as in [`mixed_chunk_attention`][notes.linear_attention.mixed_chunk_attention].

    Returns:
        The weights, shape `(*, n, n)`, in $O(n^2 s)$.

    Examples:
        >>> w = mixed_chunk_weights(*(torch.ones(4, 1),) * 4, chunk=2)
        >>> w  # relu(1/2)^2 = 0.25 in the chunk, 1/4 from earlier chunks
        tensor([[0.2500, 0.0000, 0.0000, 0.0000],
                [0.2500, 0.2500, 0.0000, 0.0000],
                [0.2500, 0.2500, 0.2500, 0.0000],
                [0.2500, 0.2500, 0.2500, 0.2500]])

    References:
        [derivation](../linear-attention.md#gau)
    """
    tensor("q", q, dims="* N S")
    v = q[..., :1]  # a stand-in for the values' shape check
    c = _chunk_args(q, k, q_lin, k_lin, v, chunk, causal)
    n = q.shape[-2]
    g = torch.arange(n) // c  # chunk index of each position
    same = g[:, None] == g[None, :]  # (n, n)
    past = torch.ones(n, n, dtype=torch.bool).tril()
    quad = torch.relu(q @ k.transpose(-2, -1) / c) ** 2 * same * (past if causal else True)
    across = g[None, :] < g[:, None] if causal else torch.ones(n, n, dtype=torch.bool)
    return quad + (q_lin @ k_lin.transpose(-2, -1)) / n * across


# --8<-- [end:mixed_chunk]


# --- measuring cost: ratios and exponents from one interleaved run --------------------------
@contextlib.contextmanager
def _quiet(n: int) -> Iterator[None]:
    """n torch threads and no garbage collection inside; both restored afterwards."""
    before, collecting = torch.get_num_threads(), gc.isenabled()
    gc.collect()  # a collection inside a timed call would charge its cost to that call
    gc.disable()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if collecting:
            gc.enable()


def interleaved_times(
    steps: Mapping[str, Callable[[], object]], *, rounds: int = 5, threads: int = 1
) -> dict[str, torch.Tensor]:
    r"""Time each step once per round, in turn, round after round, on `threads` threads.

    Steps timed in alternation see the same machine, so ratios of their times (and the
    exponents fitted to them) are nearly free of the machine's drift; absolute times are not.
    The clock is CPU time (of this thread when `threads` is 1, of the process otherwise), so
    time taken by other processes is not counted.
    Garbage collection is off during the timing; it and the thread count are restored afterwards.

    Args:
        steps: named callables, each doing one unit of work.
        rounds: rounds, $\ge 1$; the order of the steps rotates from round to round.
        threads: torch threads during the timing, $\ge 1$.

    Returns:
        CPU seconds per call, `{name: tensor of shape (rounds,)}`, float64.

    Examples:
        >>> times = interleaved_times({"a": lambda: None, "b": lambda: None}, rounds=3)
        >>> sorted(times), times["a"].shape
        (['a', 'b'], torch.Size([3]))

    References:
        [cost](../linear-attention.md#cost)
    """
    if not isinstance(steps, Mapping):
        raise TypeError(f"steps must be a mapping of names to callables, got {steps!r}")
    rounds, threads = positive_int("rounds", rounds), positive_int("threads", threads)
    names = list(steps)
    for name in names:
        function(f"steps[{name!r}]", steps[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    # CPU time, not wall time: on a shared machine the time other processes take from this
    # core would be charged to whichever call they interrupt, the long calls most often.
    clock = time.thread_time if threads == 1 else time.process_time
    with _quiet(threads):
        for name in names:  # warm-up, untimed
            steps[name]()
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                start = clock()
                steps[name]()
                times[name].append(clock() - start)
    return {name: torch.tensor(t, dtype=torch.float64) for name, t in times.items()}


def growth_exponent(n: torch.Tensor, t: torch.Tensor) -> tuple[float, float]:
    r"""Least-squares slope $b$ of $\log t = a + b \log n$, with its standard error.

    $$ \hat b = \frac{\sum (x - \bar x)(y - \bar y)}{\sum (x - \bar x)^2}, \qquad
       \operatorname{se}(\hat b) = \sqrt{\frac{\sum \hat\varepsilon^2 / (m - 2)}{\sum (x - \bar x)^2}} $$

    Args:
        n: sizes, shape `(m,)` with $m \ge 3$, every entry $> 0$.
        t: costs, shape `(m,)`, every entry $> 0$.

    Returns:
        `(slope, standard_error)`.

    Examples:
        >>> n = torch.tensor([1.0, 2.0, 4.0, 8.0])
        >>> growth_exponent(n, 3 * n**2)[0]
        2.0

    References:
        [cost](../linear-attention.md#cost)
    """
    tensor("n", n, dims="M", min_numel=3), tensor("t", t, dims="M")
    agree(("n", "t"), (n.shape[0], t.shape[0]), "the number of sizes M")
    tensor("t", t, dims="M", sizes={"M": n.shape[0]})
    nonnegative("n", n, "sizes are positive")
    nonnegative("t", t, "costs are positive")
    x, y = n.double().log(), t.double().log()
    xc = x - x.mean()
    slope = float((xc * (y - y.mean())).sum() / (xc**2).sum())
    resid = y - y.mean() - slope * xc
    se = math.sqrt(float((resid**2).sum()) / (len(x) - 2) / float((xc**2).sum()))
    return round(slope, 12), se


def crossover(n: torch.Tensor, t_a: torch.Tensor, t_b: torch.Tensor) -> float:
    r"""The length where cost $t_a$ overtakes cost $t_b$, interpolated on log-log axes.

    Finds the first pair of neighbouring sizes where $\log(t_a / t_b)$ changes sign from
    $\le 0$ to $> 0$ and interpolates linearly in $\log n$ between them.

    Args:
        n: increasing sizes, shape `(m,)`, $m \ge 2$.
        t_a: costs of the method that grows faster, shape `(m,)`.
        t_b: costs of the other, shape `(m,)`.

    Returns:
        $n^\ast$ with $t_a(n^\ast) = t_b(n^\ast)$ on the interpolated curves.

    Raises:
        ValueError: if $t_a / t_b$ does not cross 1 upwards within the measured sizes.

    Examples:
        >>> n = torch.tensor([10.0, 100.0, 1000.0])
        >>> round(crossover(n, n**2, 50 * n), 6)  # n^2 = 50 n at n = 50
        50.0

    References:
        [cost](../linear-attention.md#cost)
    """
    tensor("n", n, dims="M", min_numel=2)
    for name, t in (("t_a", t_a), ("t_b", t_b)):
        agree(
            ("n", name), (n.shape[0], tensor(name, t, dims="M").shape[0]), "the number of sizes M"
        )
        tensor(name, t, dims="M", sizes={"M": n.shape[0]})
        nonnegative(name, t, "costs are positive")
    x, y = n.double().log(), (t_a / t_b).double().log()
    for i in range(len(x) - 1):
        if y[i] <= 0 < y[i + 1]:
            frac = float(-y[i] / (y[i + 1] - y[i]))
            return math.exp(float(x[i]) + frac * float(x[i + 1] - x[i]))
    raise ValueError(
        f"t_a / t_b must cross 1 upwards within n = {n.tolist()}, got ratios "
        f"{[round(float(r), 3) for r in (t_a / t_b)]}"
    )
