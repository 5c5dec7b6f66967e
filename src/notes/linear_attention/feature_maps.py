r"""Feature maps $\phi \ge 0$ for linear attention, and the argument checks the subpackage shares.

The private helpers `_qkv` (shapes and dtypes of queries, keys and values), `_chunk_args` (the
arguments of mixed-chunk attention) and `_features` ($\phi(x)$, checked non-negative) serve
every module of [`notes.linear_attention`][notes.linear_attention]; this is the one module
they are imported from.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from notes._validate import boolean, choice, divisor, function, nonnegative, same_dtype, tensor

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

#: The named feature maps: ``"elu+1"`` (strictly positive) and ``"relu"`` (non-negative).
FEATURE_MAPS: dict[str, FeatureMap] = {"elu+1": _elu_plus_one, "relu": torch.relu}
