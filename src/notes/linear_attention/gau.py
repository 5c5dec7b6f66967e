r"""The gated attention unit (GAU) with squared-ReLU attention, and FLASH's mixed-chunk attention.

Quadratic within chunks of size $c$, linear across them: $O(n c s + n s e)$
([page](../linear-attention.md#gau)).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Self

import torch
import torch.nn.functional as F

from notes._validate import boolean, positive_int, same_dtype, tensor
from notes._validate import dtype as check_dtype
from notes._validate import generator as check_generator
from notes.linear_attention.feature_maps import _chunk_args, _qkv


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
