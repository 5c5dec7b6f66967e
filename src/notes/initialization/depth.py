r"""The second moment through depth: the wide-network map, gains, a deep MLP, and ReLU's log-ratio."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from notes import _validate as check
from notes._validate import positive_float, positive_int
from notes.initialization._common import activation_fn
from notes.initialization.sampling import lecun_std, xavier_std

__all__ = [
    "gain",
    "mlp_second_moments",
    "post_norm_input_weight",
    "relu_log_ratio_moments",
    "second_moment_map",
]


def _gaussian_expectation(f: Callable[[torch.Tensor], torch.Tensor], nu: float) -> float:
    # E f(√ν z), z ~ N(0, 1), by composite Simpson on [0, 12] applied to f(s) + f(-s):
    # each half is smooth even when f has a kink at 0 (ReLU, SELU); φ(12) ~ 1e-32.
    z = torch.linspace(0.0, 12.0, 4001, dtype=torch.float64)
    w = torch.ones_like(z)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0  # Simpson weights 1, 4, 2, 4, ..., 4, 1
    pdf = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    s = math.sqrt(nu) * z
    return float((w * (f(s) + f(-s)) * pdf).sum() * (z[1] - z[0]) / 3)


def second_moment_map(
    nu: float, activation: str, *, gain: float = 1.0, negative_slope: float = 0.01
) -> float:
    r"""The wide-network map of the pre-activation second moment through one layer.

    $$ \nu_{l+1} = g^2\, \mathbb{E}_{z \sim \mathcal{N}(0, 1)}\big[\phi(\sqrt{\nu_l}\, z)^2\big] $$

    Args:
        nu: the second moment $\nu_l \ge 0$ of the pre-activations.
        activation: one of [`ACTIVATIONS`][notes.initialization.ACTIVATIONS].
        gain: $g > 0$, so that the weights have variance $g^2 / m$.
        negative_slope: the slope of `leaky_relu` for negative inputs.

    Returns:
        $\nu_{l+1}$.

    Examples:
        >>> round(second_moment_map(3.0, "relu", gain=2**0.5), 9)
        3.0

    References:
        J. Su, "浅谈Transformer的初始化、参数化与标准化", 2021, https://kexue.fm/archives/8620.
        [derivation](../initialization.md#gains)
    """
    nu = check.real("nu", nu, ge=0)
    phi = activation_fn(activation, negative_slope)
    return positive_float("gain", gain) ** 2 * _gaussian_expectation(lambda s: phi(s) ** 2, nu)


def gain(activation: str, *, negative_slope: float = 0.01) -> float:
    r"""The gain that makes $\nu = 1$ a fixed point of the second-moment map.

    $$ g_\phi = \mathbb{E}_{z \sim \mathcal{N}(0, 1)}\big[\phi(z)^2\big]^{-1/2} $$

    It equals `torch.nn.init.calculate_gain` for linear, ReLU and leaky ReLU; torch's tanh (5/3),
    SELU (3/4) and sigmoid (1) are other conventions, compared on the page.

    Args:
        activation: one of [`ACTIVATIONS`][notes.initialization.ACTIVATIONS].
        negative_slope: the slope of `leaky_relu` for negative inputs.

    Returns:
        $g_\phi$.

    Examples:
        >>> round(gain("relu") ** 2, 9), round(gain("tanh"), 4)
        (2.0, 1.5925)

    References:
        K. He et al., "Delving Deep into Rectifiers", 2015, https://arxiv.org/abs/1502.01852.
        [derivation](../initialization.md#gains)
    """
    return 1.0 / math.sqrt(second_moment_map(1.0, activation, negative_slope=negative_slope))


# --8<-- [start:mlp]
def mlp_second_moments(
    depth: int,
    width: int,
    *,
    init: str = "he",
    activation: str = "relu",
    residual: bool = False,
    norm: str = "none",
    batch: int = 1,
    nets: int = 1,
    negative_slope: float = 0.01,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Push $h_0 \sim \mathcal{N}(0, I)$ through `nets` independent deep MLPs; return $\nu_l$.

    $$ h_l = \phi(h_{l-1}) W_l, \quad h_l = h_{l-1} + \phi(\mathrm{LN}(h_{l-1})) W_l,
       \quad h_l = \mathrm{LN}(h_{l-1} + \phi(h_{l-1}) W_l) $$

    (plain, Pre-Norm residual, Post-Norm residual), with $W_l \sim \mathcal{N}(0, \sigma^2)$,
    $\sigma$ from `init` and $\nu_l$ the mean of $h_l^2$ over the batch and the width. With
    `norm="weight"` (weight normalisation) each column of $W_l$ is rescaled to norm $g_\phi$
    after it is drawn, $w_j \leftarrow g_\phi\, w_j / \lVert w_j \rVert$, so `init` no longer
    matters.

    Args:
        depth: number of layers $L \ge 1$.
        width: units per layer $m \ge 1$ (square layers, so Xavier equals LeCun).
        init: `"lecun"` ($1/\sqrt{m}$), `"xavier"` or `"he"` ($g_\phi / \sqrt{m}$, with the
            gain of [`gain`][notes.initialization.gain]).
        activation: one of [`ACTIVATIONS`][notes.initialization.ACTIVATIONS].
        residual: add the identity path $h_{l-1}$.
        norm: `"none"`, `"pre"` (normalise the branch input), `"post"` (normalise the sum;
            LN is a layer norm without affine parameters) or `"weight"` (unit-norm columns of
            $W_l$ times the gain).
        batch: inputs per network.
        nets: independent networks, computed together.
        negative_slope: the slope of `leaky_relu` for negative inputs.
        generator: source of randomness for the inputs and the weights.

    Returns:
        Second moments $\nu_0, \dots, \nu_L$, float64 of shape `(nets, depth + 1)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> nu = mlp_second_moments(10, 64, norm="post", residual=True, nets=2, generator=g)
        >>> nu.shape, round(float(nu[:, 1:].mean()), 3)
        (torch.Size([2, 11]), 1.0)

    References:
        J. Su, "浅谈Transformer的初始化、参数化与标准化", 2021, https://kexue.fm/archives/8620.
        [derivation](../initialization.md#depth), [residuals](../initialization.md#residual),
        [standardisation](../initialization.md#standardisation)
    """
    L, m = positive_int("depth", depth), positive_int("width", width)
    S, B = positive_int("nets", nets), positive_int("batch", batch)
    phi = activation_fn(activation, negative_slope)
    check.choice("init", init, ("lecun", "xavier", "he"))
    check.choice("norm", norm, ("none", "pre", "post", "weight"))
    check.boolean("residual", residual)
    check.generator("generator", generator)
    g = gain(activation, negative_slope=negative_slope) if init == "he" else 1.0
    g_phi = gain(activation, negative_slope=negative_slope)  # weight norm: column norm g_φ
    sigma = xavier_std(m, m) if init == "xavier" else lecun_std(m, g)  # σ = g/√m

    def ln(x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (m,))  # zero mean, unit second moment per row

    h = torch.randn(S, B, m, generator=generator)  # h_0: (S, B, m)
    nu = [h.double().pow(2).mean((1, 2))]  # ν_0: (S,)
    for _ in range(L):
        W = torch.randn(S, m, m, generator=generator) * sigma  # (S, m, m), one per net
        if norm == "weight":  # column j (the weights into unit j) rescaled to norm g_φ
            W = g_phi * W / W.norm(dim=1, keepdim=True)
        branch_in = ln(h) if norm == "pre" else h
        f = phi(branch_in) @ W  # (S, B, m)
        h = h + f if residual else f
        if norm == "post":
            h = ln(h)
        nu.append(h.double().pow(2).mean((1, 2)))  # ν_l = mean of h_l² over batch and width
    return torch.stack(nu, dim=1)


# --8<-- [end:mlp]


def post_norm_input_weight(
    depth: int,
    width: int,
    *,
    init: str = "he",
    activation: str = "relu",
    batch: int = 1,
    nets: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""The weight $c_l$ of the input $h_0$ in $h_l$ of a Post-Norm residual stack.

    $\mathrm{LN}(x) = P x / s(x)$ with $P$ the centring projection and $s(x)$ the standard
    deviation over the width, so $h_l = \mathrm{LN}(h_{l-1} + F(h_{l-1}))$ unrolls to

    $$ h_l = c_l\, P h_0 + \sum_{k=1}^{l} \frac{c_l}{c_{k-1}}\, P F(h_{k-1}),
       \qquad c_l = \prod_{k=1}^{l} \frac{1}{s_k}, $$

    with $s_k$ the scale the $k$-th layer norm divides by; $c_l \approx 2^{-l/2}$ when each
    sum has second moment about 2. The draws are those of
    [`mlp_second_moments`][notes.initialization.mlp_second_moments] with `residual=True,
    norm="post"` and the same generator state.

    Args:
        depth: number of blocks $L \ge 1$.
        width: units per layer $m \ge 1$.
        init: `"lecun"`, `"xavier"` or `"he"`, as in `mlp_second_moments`.
        activation: one of [`ACTIVATIONS`][notes.initialization.ACTIVATIONS].
        batch: inputs per network.
        nets: independent networks, computed together.
        generator: source of randomness for the inputs and the weights.

    Returns:
        $\log_2 c_0, \dots, \log_2 c_L$ (with $c_0 = 1$) for every input, float64 of shape
        `(nets, batch, depth + 1)`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> log2_c = post_norm_input_weight(20, 256, nets=4, generator=g)
        >>> round(float(log2_c[..., -1].mean() / 20), 1)  # about half a bit per block
        -0.5

    References:
        R. Xiong et al., "On Layer Normalization in the Transformer Architecture", 2020,
        https://arxiv.org/abs/2002.04745. [derivation](../initialization.md#residual)
    """
    L, m = positive_int("depth", depth), positive_int("width", width)
    S, B = positive_int("nets", nets), positive_int("batch", batch)
    phi = activation_fn(activation)
    if init not in ("lecun", "xavier", "he"):
        raise ValueError(f"init must be 'lecun', 'xavier' or 'he', got {init!r}")
    check.generator("generator", generator)
    g = gain(activation) if init == "he" else 1.0
    sigma = xavier_std(m, m) if init == "xavier" else lecun_std(m, g)  # σ = g/√m
    eps = 1e-5  # F.layer_norm's default

    h = torch.randn(S, B, m, generator=generator)  # h_0: (S, B, m)
    log2_c = [torch.zeros(S, B, dtype=torch.float64)]  # c_0 = 1
    for _ in range(L):
        W = torch.randn(S, m, m, generator=generator) * sigma  # (S, m, m)
        x = h + phi(h) @ W  # the sum the layer norm sees: (S, B, m)
        s = (x.var(dim=-1, unbiased=False) + eps).sqrt()  # s_l, what LN divides by: (S, B)
        h = F.layer_norm(x, (m,))
        log2_c.append(log2_c[-1] - s.double().log2())  # c_l = c_{l-1} / s_l
    return torch.stack(log2_c, dim=-1)


def relu_log_ratio_moments(width: int, gain: float = math.sqrt(2.0)) -> tuple[float, float]:
    r"""Mean and variance of $\ln(\nu_{l+1} / \nu_l)$ for one input through a ReLU layer.

    With batch 1 and $W \sim \mathcal{N}(0, g^2/m)$, $\nu_{l+1}/\nu_l = g^2 F C / m$ with
    $C \sim \chi^2_m$ and, given $K \sim \mathrm{Bin}(m, 1/2)$ active units,
    $F \sim \mathrm{Beta}(K/2, (m - K)/2)$, all independent and independent across layers:

    $$ \mathbb{E} \ln \frac{\nu_{l+1}}{\nu_l} = \ln \frac{2 g^2}{m}
       + \mathbb{E}_K\Big[\psi\Big(\frac{K}{2}\Big)\Big] $$

    (conditioned on $K \ge 1$; every unit is off with probability $2^{-m}$).

    Args:
        width: units per layer $m \ge 2$.
        gain: $g > 0$; $\sqrt{2}$ is He's, 1 is LeCun's.

    Returns:
        `(mean, variance)` of the natural log of the per-layer ratio.

    Examples:
        >>> mean, var = relu_log_ratio_moments(512)
        >>> round(mean * 512, 2), round(var * 512, 2)
        (-2.51, 5.04)

    References:
        K. He et al., "Delving Deep into Rectifiers", 2015, https://arxiv.org/abs/1502.01852.
        [derivation](../initialization.md#relu)
    """
    m, g = positive_int("width", width, 2), positive_float("gain", gain)
    k = torch.arange(1, m + 1, dtype=torch.float64)  # K = 1..m active units
    # P(K = k) = C(m, k) / 2^m, conditioned on K >= 1
    log_c = math.lgamma(m + 1) - torch.lgamma(k + 1) - torch.lgamma(m - k + 1)
    p = torch.exp(log_c - m * math.log(2.0))
    p = p / p.sum()
    half = torch.tensor(m / 2, dtype=torch.float64)
    # ln F | K ~ ln Beta(K/2, (m-K)/2): mean ψ(K/2) - ψ(m/2), variance ψ'(K/2) - ψ'(m/2);
    # F = 1 exactly when K = m.
    inner = k < m
    mean_f = torch.where(inner, torch.digamma(k / 2) - torch.digamma(half), 0.0)
    var_f = torch.where(inner, torch.polygamma(1, k / 2) - torch.polygamma(1, half), 0.0)
    e_ln_f = float((p * mean_f).sum())
    var_ln_f = float((p * var_f).sum() + (p * mean_f**2).sum()) - e_ln_f**2  # total variance
    # ln(C/m), C ~ χ²_m: mean ψ(m/2) + ln 2 - ln m, variance ψ'(m/2)
    e_ln_c = float(torch.digamma(half)) + math.log(2.0 / m)
    var_ln_c = float(torch.polygamma(1, half))
    return math.log(g * g) + e_ln_f + e_ln_c, var_ln_f + var_ln_c
