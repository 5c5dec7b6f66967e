r"""Linear attention in its two orders, its weight matrix, and the causal recurrence.

$(\phi(Q)\phi(K)^\top) V$ costs $O(n^2 r)$, $\phi(Q)(\phi(K)^\top V)$ costs $O(n r d_v)$; the
causal form is a recurrence with an $r \times d_v$ state
([page](../linear-attention.md#linear)).
"""

from __future__ import annotations

import torch

from notes._validate import causal_mask, choice, tensor
from notes.linear_attention.feature_maps import FeatureMap, _features, _qkv


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
