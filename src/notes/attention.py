r"""Dot-product attention with the scale as a parameter, and what the scale does to the softmax.

The functions follow the page [Initialisation and attention](../initialization.md#attention):
attention logits, weights and outputs for any scale; the entropy of each row of weights and the
Frobenius norm of the softmax Jacobian, which both collapse when the logits grow with $d$; and
the two ways of getting unit-variance logits, dividing by $\sqrt{d}$ (Vaswani et al.) or
folding that factor into the initialisation of the query projection (T5).

Examples:
    >>> import torch
    >>> from notes.attention import attention_weights, attention_entropy
    >>> q, k = torch.zeros(1, 4), torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    >>> round(float(attention_entropy(attention_weights(q, k))), 4)  # uniform: ln 3
    1.0986
"""

from __future__ import annotations

import math

import torch

from notes import _validate as check
from notes._validate import choice, positive_float, positive_int

__all__ = [
    "attention_entropy",
    "attention_logits",
    "attention_weights",
    "first_update",
    "init_projections",
    "projection_stds",
    "scaled_dot_product_attention",
    "self_attention",
    "softmax_jacobian_norm",
]


def _queries_keys(q: object, k: object) -> tuple[torch.Tensor, torch.Tensor]:
    # q (*, T_q, d) and k (*, T_k, d): finite, floating, at least one query, key and feature
    q = check.tensor("q", q, dims="* T_q d", min_sizes={"T_q": 1, "d": 1})
    k = check.tensor("k", k, dims="* T_k d", min_sizes={"T_k": 1, "d": 1})
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension d, got {q.shape[-1]} and {k.shape[-1]}"
        )
    check.broadcast(("q", "k"), (q[..., :1, :1], k[..., :1, :1]))  # batch dimensions
    return q, k


def _weights(weights: object) -> torch.Tensor:
    # rows of probabilities along the last axis, to sqrt(eps) of their own dtype
    w = check.tensor("weights", weights)
    return check.probabilities("weights", w, tol=math.sqrt(torch.finfo(w.dtype).eps))


# --8<-- [start:attention]
def attention_logits(
    q: torch.Tensor, k: torch.Tensor, *, scale: float | None = None
) -> torch.Tensor:
    r"""Logits $s_{ij} = c\, q_i \cdot k_j$ with $c = 1/\sqrt{d}$ unless `scale` is given.

    For $q, k$ with independent zero-mean, unit-variance components,
    $\operatorname{Var}[q \cdot k] = d$; the factor $1/\sqrt{d}$ brings it back to 1.

    Args:
        q: queries, shape `(*, T_q, d)`.
        k: keys, shape `(*, T_k, d)`.
        scale: $c > 0$; `None` means $1/\sqrt{d}$, `1.0` means unscaled.

    Returns:
        Logits of shape `(*, T_q, T_k)`.

    Examples:
        >>> attention_logits(torch.ones(1, 4), torch.ones(2, 4))
        tensor([[2., 2.]])

    References:
        A. Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762.
        [derivation](../initialization.md#attention)
    """
    q, k = _queries_keys(q, k)
    c = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check.real("scale", scale, gt=0)
    # c = 1/√d: Var[q·k/√d] = 1
    return c * (q @ k.transpose(-2, -1))  # (*, T_q, d) @ (*, d, T_k) -> (*, T_q, T_k)


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, *, scale: float | None = None
) -> torch.Tensor:
    r"""Attention weights $p_{ij} = \operatorname{softmax}_j(s_{ij})$.

    Args:
        q: queries, shape `(*, T_q, d)`.
        k: keys, shape `(*, T_k, d)`.
        scale: as in [`attention_logits`][notes.attention.attention_logits].

    Returns:
        Rows summing to 1, shape `(*, T_q, T_k)`.

    Examples:
        >>> attention_weights(torch.ones(1, 4), torch.ones(2, 4))
        tensor([[0.5000, 0.5000]])

    References:
        A. Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762.
        [derivation](../initialization.md#attention)
    """
    return torch.softmax(attention_logits(q, k, scale=scale), dim=-1)


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: float | None = None
) -> torch.Tensor:
    r"""Attention output $\operatorname{softmax}(c\, Q K^\top) V$.

    $$ \mathrm{Attention}(Q, K, V) = \operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt{d}}\Big) V $$

    Args:
        q: queries, shape `(*, T_q, d)`.
        k: keys, shape `(*, T_k, d)`.
        v: values, shape `(*, T_k, d_v)`.
        scale: as in [`attention_logits`][notes.attention.attention_logits].

    Returns:
        Outputs of shape `(*, T_q, d_v)`; equals `torch.nn.functional.scaled_dot_product_attention`.

    Examples:
        >>> v = torch.tensor([[1.0], [3.0]])
        >>> scaled_dot_product_attention(torch.ones(1, 4), torch.ones(2, 4), v)
        tensor([[2.]])

    References:
        A. Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762.
        [derivation](../initialization.md#attention)
    """
    q, k = _queries_keys(q, k)
    v = check.tensor("v", v, dims="* T_k d_v")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"k and v must have as many rows T_k, got {k.shape[-2]} and {v.shape[-2]}")
    return attention_weights(q, k, scale=scale) @ v  # (*, T_q, T_k) @ (*, T_k, d_v)


# --8<-- [end:attention]


# --8<-- [start:saturation]
def attention_entropy(weights: torch.Tensor) -> torch.Tensor:
    r"""Entropy of each row of attention weights, in nats.

    $$ H(p) = -\sum_j p_j \ln p_j, \qquad 0 \le H \le \ln T_k $$

    Args:
        weights: probabilities along the last axis, shape `(*, T_k)`, each row summing to 1
            within $\sqrt{\epsilon}$ of its dtype.

    Returns:
        Entropies of shape `(*)`.

    Examples:
        >>> attention_entropy(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))  # 0 and ln 2
        tensor([0.0000, 0.6931])

    References:
        A. Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762.
        [derivation](../initialization.md#attention)
    """
    weights = _weights(weights)
    plogp: torch.Tensor = torch.special.xlogy(weights, weights)  # p ln p, with 0 ln 0 = 0
    return -plogp.sum(-1) + 0.0  # + 0.0 turns -0.0 into 0.0


def softmax_jacobian_norm(weights: torch.Tensor) -> torch.Tensor:
    r"""Frobenius norm of the softmax Jacobian $J = \operatorname{diag}(p) - p p^\top$.

    $$ \lVert J \rVert_F^2 = \sum_j p_j^2 - 2 \sum_j p_j^3 + \Big(\sum_j p_j^2\Big)^2
       \le 4 \Big(1 - \sum_j p_j^2\Big)^2 $$

    It vanishes as $p$ approaches a one-hot vector: a saturated softmax passes no gradient.

    Args:
        weights: probabilities along the last axis, shape `(*, T_k)`.

    Returns:
        Norms of shape `(*)`.

    Examples:
        >>> round(float(softmax_jacobian_norm(torch.tensor([0.5, 0.5]))), 4)
        0.5

    References:
        [derivation](../initialization.md#attention)
    """
    weights = _weights(weights)
    # ‖J‖² = Σ_i p_i² ((1 - p_i)² + Σ_{j≠i} p_j²): J_ii = p_i(1 - p_i), J_ij = -p_i p_j.
    # Near one-hot the expanded sum cancels catastrophically, so at the largest weight both
    # 1 - p_i and Σ_{j≠i} p_j² are summed over the other entries instead of subtracted.
    p2 = weights.pow(2)  # (*, T_k)
    top = weights.argmax(-1, keepdim=True)  # (*, 1)
    others = torch.ones_like(weights, dtype=torch.bool).scatter(-1, top, False)
    rest = torch.where(others, 1 - weights, (weights * others).sum(-1, keepdim=True))
    rest2 = torch.where(others, p2.sum(-1, keepdim=True) - p2, (p2 * others).sum(-1, keepdim=True))
    return (p2 * (rest.pow(2) + rest2)).sum(-1).sqrt()


# --8<-- [end:saturation]


def projection_stds(
    d_model: int, d_head: int, *, parameterization: str = "scaled"
) -> tuple[float, float, float]:
    r"""Standard deviations of the query, key and value projections at initialisation.

    `"scaled"`: all $1/\sqrt{d_{\text{model}}}$, used with logits divided by $\sqrt{d}$.
    `"t5"`: the query gets $1/\sqrt{d_{\text{model}}\, d}$ and the logits are not divided, so
    $(x W_q^{\text{T5}}) \cdot (x W_k) = (x W_q) \cdot (x W_k) / \sqrt{d}$.

    Args:
        d_model: width of the input, $\ge 1$.
        d_head: width $d$ of a query or key, $\ge 1$.
        parameterization: `"scaled"` or `"t5"`.

    Returns:
        `(std_q, std_k, std_v)`.

    Examples:
        >>> projection_stds(64, 16, parameterization="t5")
        (0.03125, 0.125, 0.125)

    References:
        C. Raffel et al., "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
        Transformer", 2020, https://jmlr.org/papers/v21/20-074.html.
        [derivation](../initialization.md#t5)
    """
    m, d = positive_int("d_model", d_model), positive_int("d_head", d_head)
    check.choice("parameterization", parameterization, ("scaled", "t5"))
    std = 1.0 / math.sqrt(m)
    return (std / math.sqrt(d) if parameterization == "t5" else std), std, std


def init_projections(
    d_model: int,
    d_head: int,
    *,
    parameterization: str = "scaled",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Draw $W_q, W_k, W_v \in \mathbb{R}^{d_{\text{model}} \times d}$ with [`projection_stds`][notes.attention.projection_stds].

    The same generator state gives the same standard normals under both parameterisations, so
    the T5 query matrix is the scaled one divided by $\sqrt{d}$.

    Args:
        d_model: width of the input, $\ge 1$.
        d_head: width $d$ of a query or key, $\ge 1$.
        parameterization: `"scaled"` or `"t5"`.
        generator: source of randomness.
        dtype: a floating dtype.

    Returns:
        `(w_q, w_k, w_v)`, each of shape `(d_model, d_head)`.

    Examples:
        >>> w_q, w_k, w_v = init_projections(64, 16, generator=torch.Generator().manual_seed(0))
        >>> w_q.shape
        torch.Size([64, 16])

    References:
        C. Raffel et al., "Exploring the Limits of Transfer Learning with a Unified
        Text-to-Text Transformer", 2020, https://jmlr.org/papers/v21/20-074.html.
        [derivation](../initialization.md#t5)
    """
    stds = projection_stds(d_model, d_head, parameterization=parameterization)
    dtype, generator = check.dtype("dtype", dtype), check.generator("generator", generator)
    z = torch.randn(3, d_model, d_head, generator=generator, dtype=dtype)  # (3, d_model, d)
    return z[0] * stds[0], z[1] * stds[1], z[2] * stds[2]


def self_attention(
    x: torch.Tensor,
    w_q: torch.Tensor,
    w_k: torch.Tensor,
    w_v: torch.Tensor,
    *,
    scale: float | None = None,
) -> torch.Tensor:
    r"""Single-head self-attention $\operatorname{softmax}(c\, x W_q (x W_k)^\top)\, x W_v$.

    Args:
        x: inputs, shape `(*, T, d_model)`.
        w_q: query projection, shape `(d_model, d)`.
        w_k: key projection, shape `(d_model, d)`.
        w_v: value projection, shape `(d_model, d_v)`.
        scale: as in [`attention_logits`][notes.attention.attention_logits]; T5 uses `1.0`.

    Returns:
        Outputs of shape `(*, T, d_v)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(5, 8, generator=g)
        >>> self_attention(x, *init_projections(8, 4, generator=g)).shape
        torch.Size([5, 4])

    References:
        A. Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762.
        [derivation](../initialization.md#t5)
    """
    x = check.tensor("x", x, dims="* T d_model", min_sizes={"T": 1, "d_model": 1})
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        check.tensor(name, w, dims="d_model d", min_sizes={"d": 1})
        if w.shape[0] != x.shape[-1]:
            raise ValueError(
                f"{name} must have shape (d_model={x.shape[-1]}, *), the last dimension of x, "
                f"got {tuple(w.shape)}"
            )
    check.shapes_match(("w_q", "w_k"), (w_q, w_k))
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (*, T, d), (*, T, d), (*, T, d_v)
    return scaled_dot_product_attention(q, k, v, scale=scale)


def first_update(
    weight: torch.Tensor, grad: torch.Tensor, *, optimizer: str = "sgd", lr: float = 1e-3
) -> torch.Tensor:
    r"""The first step $\Delta W$ of SGD, Adam or Adafactor (PyTorch's defaults) from `grad`.

    $$ \Delta W_{\text{SGD}} = -\eta\, G, \qquad
       \Delta W_{\text{Adam}} = -\eta\, \frac{G}{|G| + \epsilon}, \qquad
       \Delta W_{\text{Adafactor}} = -\min(\eta, 1)\, \max(\epsilon_2, \mathrm{RMS}(W))\,
       \frac{U}{\max(1, \mathrm{RMS}(U))}, \quad U = \frac{G}{\sqrt{\hat V}} $$

    with Adam's bias-corrected moments equal to $G$ and $G^2$ at the first step, and
    Adafactor's factored second moment $\hat V = r c^\top / \bar r$ from the row and column
    means $r, c$ of $G^2$. Adafactor's step is proportional to $\mathrm{RMS}(W)$ and does not
    change when $G$ is scaled, so it is the same relative to $W$ whatever the scale of $W$;
    SGD's relative step scales with $\lVert G \rVert / \lVert W \rVert$, Adam's with
    $1/\lVert W \rVert$.

    Args:
        weight: the parameter $W$ before the step, shape `(n, m)`.
        grad: its gradient $G$, shape `(n, m)`.
        optimizer: `"sgd"`, `"adam"` (betas (0.9, 0.999), eps 1e-8) or `"adafactor"` (eps
            (machine epsilon, 1e-3), d = 1, no weight decay), as `torch.optim` defaults.
        lr: the learning rate $\eta > 0$.

    Returns:
        $\Delta W$, the shape of `weight`; equals the change `torch.optim` makes in one step.

    Examples:
        >>> w, g = torch.full((2, 2), 0.5), torch.full((2, 2), 4.0)
        >>> first_update(w, g, optimizer="adafactor", lr=0.01)
        tensor([[-0.0050, -0.0050],
                [-0.0050, -0.0050]])

    References:
        N. Shazeer, M. Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost",
        2018, https://arxiv.org/abs/1804.04235. [derivation](../initialization.md#t5)
    """
    check.tensor("weight", weight, dims="m n")
    check.tensor("grad", grad, dims="m n")
    if weight.shape != grad.shape:
        raise ValueError(
            f"weight and grad must be matrices of one shape, got {tuple(weight.shape)} "
            f"and {tuple(grad.shape)}"
        )
    name = choice("optimizer", optimizer, ("sgd", "adam", "adafactor"))
    eta = positive_float("lr", lr)
    if name == "sgd":
        return -eta * grad
    if name == "adam":  # m_hat = G, v_hat = G^2 after bias correction
        return -eta * grad / (grad.abs() + 1e-8)
    eps1 = torch.finfo(weight.dtype).eps
    rms_w = float(weight.norm() / math.sqrt(weight.numel()))
    alpha = max(1e-3, rms_w) * min(eta, 1.0)  # relative step: proportional to RMS(W)
    r = grad.pow(2).mean(dim=-1, keepdim=True)  # row means of G^2: (n, 1)
    c = grad.pow(2).mean(dim=-2, keepdim=True)  # column means: (1, m)
    v_hat = (r @ c / r.mean().clamp(min=eps1)).clamp(min=eps1 * eps1)  # factored V: (n, m)
    u = grad / v_hat.sqrt()
    rms_u = float(u.norm() / math.sqrt(u.numel()))
    return -alpha * u / max(1.0, rms_u)
