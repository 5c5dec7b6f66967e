r"""Activation functions from the threshold unit to SwiGLU, with what a deep network does to them.

The functions follow the page [Activation functions](../activations.md): each activation by
name with its derivative in closed form, the scaled ELU whose constants $\lambda, \alpha$ make
SELU self-normalising (solved from the two fixed-point conditions), the Gaussian expectations
behind gains and gradient factors, the gated feed-forward blocks (GLU, GEGLU, SwiGLU) with their
parameter counts, and a deep stack that reports, layer by layer, the gradient norm and the
mean and variance of the activations.

Examples:
    >>> import torch
    >>> from notes.activations import activation, selu_constants
    >>> activation("relu", torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> [round(c, 6) for c in selu_constants()]
    [1.050701, 1.673263]
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from notes._validate import choice, function, positive_int, real, returned, tensor
from notes._validate import generator as _generator

__all__ = [
    "ACTIVATIONS",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "activation",
    "deep_stack",
    "derivative",
    "ffn_parameter_count",
    "gain",
    "gated_hidden_width",
    "gaussian_expectation",
    "glu_ffn",
    "gradient_factor",
    "mean_field_gradients",
    "scaled_elu",
    "scaled_elu_moments",
    "second_moment_map",
    "selu_constants",
]

ACTIVATIONS = (
    "step",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "swish",
)
"""Activation names understood by [`activation`][notes.activations.activation] and the rest."""

SELU_LAMBDA = 1.0507009873554804934193349852946
r"""SELU's scale $\lambda$ as Klambauer et al. publish it (and `torch.nn.functional.selu` uses)."""
SELU_ALPHA = 1.6732632423543772848170429916717
r"""SELU's negative saturation $\alpha$ as published (and used by torch)."""

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715  # Hendrycks and Gimpel's tanh fit
_LEAKY_SLOPE = 0.01  # torch's default negative slope


def _normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x / math.sqrt(2.0))  # Φ(x), accurate in both tails


def _normal_pdf(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)  # φ(x)


def scaled_elu(x: torch.Tensor, lam: float, alpha: float) -> torch.Tensor:
    r"""The scaled ELU, SELU at $(\lambda, \alpha)$ = ([`SELU_LAMBDA`][notes.activations.SELU_LAMBDA], [`SELU_ALPHA`][notes.activations.SELU_ALPHA]).

    $$ f(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases} $$

    Args:
        x: input of any shape `(*)`, floating.
        lam: the scale $\lambda > 0$.
        alpha: the negative saturation $\alpha \ge 0$ (ELU is $\lambda = \alpha = 1$).

    Returns:
        $f(x)$, shape `(*)`.

    Examples:
        >>> scaled_elu(torch.tensor([1.0, -30.0]), 2.0, 1.5)
        tensor([ 2., -3.])

    References:
        G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter, "Self-Normalizing Neural
        Networks", 2017, https://arxiv.org/abs/1706.02515. [derivation](../activations.md#selu)
    """
    x = tensor("x", x)
    lam, alpha = real("lam", lam, gt=0), real("alpha", alpha, ge=0)
    return lam * torch.where(x > 0, x, alpha * torch.expm1(x))


# the activations and their derivatives, x -> (phi(x), phi'(x)); beta is Swish's slope
def _table(beta: float) -> dict[str, Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]]:
    def step(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x > 0).to(x.dtype), torch.zeros_like(x)  # derivative 0 almost everywhere

    def sigmoid(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = torch.sigmoid(x)
        return s, s * (1 - s)  # σ' = σ(1 - σ) ≤ 1/4

    def tanh(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.tanh(x)
        return t, 1 - t * t  # tanh' = 1 - tanh² ≤ 1

    def relu(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.where(x > 0, x, 0.0), (x > 0).to(x.dtype)  # relu'(0) = 0, as torch

    def leaky_relu(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        slope = torch.where(x > 0, torch.ones_like(x), torch.full_like(x, _LEAKY_SLOPE))
        return x * slope, slope

    def elu(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return scaled_elu(x, 1.0, 1.0), torch.where(x > 0, 1.0, torch.exp(x.clamp_max(0)))

    def selu(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = torch.where(x > 0, 1.0, SELU_ALPHA * torch.exp(x.clamp_max(0)))
        return scaled_elu(x, SELU_LAMBDA, SELU_ALPHA), SELU_LAMBDA * d

    def gelu(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cdf = _normal_cdf(x)
        return x * cdf, cdf + x * _normal_pdf(x)  # (x Φ)' = Φ + x φ

    def gelu_tanh(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3)  # Φ(x) ≈ (1 + tanh u) / 2
        t = torch.tanh(u)
        du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
        return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du

    def swish(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = torch.sigmoid(beta * x)
        return x * s, s + beta * x * s * (1 - s)  # (x σ(βx))' = σ + βx σ(1 - σ)

    return {
        "step": step,
        "sigmoid": sigmoid,
        "tanh": tanh,
        "relu": relu,
        "leaky_relu": leaky_relu,
        "elu": elu,
        "selu": selu,
        "gelu": gelu,
        "gelu_tanh": gelu_tanh,
        "swish": swish,
    }


def _pair(name: str, x: object, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    name = choice("name", name, ACTIVATIONS)
    x = tensor("x", x)
    beta = real("beta", beta, ge=0)
    return _table(beta)[name](x)


def activation(name: str, x: torch.Tensor, *, beta: float = 1.0) -> torch.Tensor:
    r"""The activation called `name` (one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS]).

    $$ \operatorname{gelu}(x) = x\,\Phi(x), \qquad
       \operatorname{gelu}_{\tanh}(x) = \tfrac{x}{2}\Big(1 + \tanh\big(\sqrt{2/\pi}\,
       (x + 0.044715\, x^3)\big)\Big), \qquad \operatorname{swish}_\beta(x) = x\,\sigma(\beta x) $$

    and the step $H(x) = [x > 0]$, $\sigma$, $\tanh$, ReLU, leaky ReLU (slope 0.01), ELU and SELU
    ([`scaled_elu`][notes.activations.scaled_elu]).

    Args:
        name: one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        x: input of any shape `(*)`, floating.
        beta: Swish's slope $\beta \ge 0$ (ignored by the others); $\beta = 1$ is SiLU.

    Returns:
        $\phi(x)$, shape `(*)`.

    Examples:
        >>> activation("swish", torch.tensor([0.0, 1.0]), beta=0.0)  # beta = 0: x / 2
        tensor([0.0000, 0.5000])

    References:
        D. Hendrycks, K. Gimpel, "Gaussian Error Linear Units (GELUs)", 2016,
        https://arxiv.org/abs/1606.08415; P. Ramachandran, B. Zoph, Q. V. Le, "Searching for
        Activation Functions", 2017, https://arxiv.org/abs/1710.05941.
        [derivation](../activations.md#gelu)
    """
    return _pair(name, x, beta)[0]


def derivative(name: str, x: torch.Tensor, *, beta: float = 1.0) -> torch.Tensor:
    r"""The derivative $\phi'(x)$ in closed form, e.g. $\sigma' = \sigma(1 - \sigma)$.

    At a kink (ReLU, leaky ReLU, ELU and SELU at 0) it takes the left derivative, as torch does;
    the step's derivative is 0 wherever it exists.

    Args:
        name: one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        x: input of any shape `(*)`, floating.
        beta: Swish's slope $\beta \ge 0$.

    Returns:
        $\phi'(x)$, shape `(*)`.

    Examples:
        >>> derivative("sigmoid", torch.tensor([0.0]))  # the maximum, 1/4
        tensor([0.2500])

    References:
        [derivation](../activations.md#sigmoid-and-tanh)
    """
    return _pair(name, x, beta)[1]


def _nu(nu: object) -> float:
    return real("nu", nu, ge=0)


def gaussian_expectation(f: Callable[[torch.Tensor], torch.Tensor], nu: float = 1.0) -> float:
    r"""$\mathbb{E}_{z \sim \mathcal{N}(0, 1)}[f(\sqrt{\nu}\, z)]$ by quadrature.

    Composite Simpson on $[0, 12]$ applied to $f(s) + f(-s)$, so that a kink or a jump at 0
    (ReLU, its derivative, SELU) falls on the edge of both halves, where $f$ takes its one-sided
    limits; the tail beyond 12 carries less than $10^{-32}$.

    Args:
        f: maps a float64 tensor to a tensor of the same shape.
        nu: the variance $\nu \ge 0$.

    Returns:
        The expectation, float.

    Examples:
        >>> round(gaussian_expectation(lambda s: s.clamp_min(0) ** 2), 12)  # E relu(z)^2
        0.5
    """
    f, nu = function("f", f), _nu(nu)
    z = torch.linspace(0.0, 12.0, 4001, dtype=torch.float64)
    w = torch.ones_like(z)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0  # Simpson weights 1, 4, 2, ..., 4, 1
    s = math.sqrt(nu) * z
    s[0] = torch.finfo(torch.float64).tiny  # f(0+) and f(0-): one-sided limits at a jump
    values = returned("f", f(s), s.shape) + returned("f", f(-s), s.shape)
    return float((w * values * _normal_pdf(z)).sum() * (z[1] - z[0]) / 3)


def second_moment_map(name: str, nu: float, *, gain: float = 1.0, beta: float = 1.0) -> float:
    r"""The wide-layer map of the pre-activation second moment, $\nu \mapsto g^2\,
    \mathbb{E}[\phi(\sqrt{\nu} z)^2]$ .

    Args:
        name: one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        nu: $\nu \ge 0$, the second moment of the pre-activations $h = xW$.
        gain: $g > 0$ in $W \sim \mathcal{N}(0, g^2/m)$.
        beta: Swish's slope.

    Returns:
        The next layer's $\nu$.

    Examples:
        >>> round(second_moment_map("selu", 1.0), 9)  # SELU's fixed point
        1.0

    References:
        [derivation](../activations.md#depth)
    """
    choice("name", name, ACTIVATIONS)
    g = real("gain", gain, gt=0)
    return g * g * gaussian_expectation(lambda s: activation(name, s, beta=beta) ** 2, nu)


def gain(name: str, *, beta: float = 1.0) -> float:
    r"""The gain $g_\phi = \mathbb{E}[\phi(z)^2]^{-1/2}$ that makes $\nu = 1$ a fixed point.

    The same rule as the [initialisation page's gains](../initialization.md#gains), here for
    every activation of this module.

    Args:
        name: one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        beta: Swish's slope.

    Returns:
        $g_\phi$.

    Examples:
        >>> round(gain("relu") ** 2, 9), round(gain("selu"), 9)
        (2.0, 1.0)

    References:
        K. He et al., "Delving Deep into Rectifiers", 2015, https://arxiv.org/abs/1502.01852.
        [derivation](../activations.md#gains)
    """
    return 1.0 / math.sqrt(second_moment_map(name, 1.0, beta=beta))


def gradient_factor(name: str, nu: float, *, gain: float = 1.0, beta: float = 1.0) -> float:
    r"""The wide-layer factor by which backpropagation scales the gradient's norm per layer.

    $$ \rho = g\, \mathbb{E}_{z \sim \mathcal{N}(0, 1)}\big[\phi'(\sqrt{\nu}\, z)^2\big]^{1/2}
       \le g \sup_x |\phi'(x)| $$

    Args:
        name: one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        nu: the pre-activations' second moment $\nu \ge 0$ (at the forward fixed point, for a
            rate that holds through depth).
        gain: $g > 0$ in $W \sim \mathcal{N}(0, g^2/m)$.
        beta: Swish's slope.

    Returns:
        $\rho$.

    Examples:
        >>> round(gradient_factor("relu", 1.0, gain=2**0.5), 9)  # He + ReLU: flat
        1.0

    References:
        X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural
        networks", 2010. [derivation](../activations.md#sigmoid-and-tanh)
    """
    choice("name", name, ACTIVATIONS)
    g = real("gain", gain, gt=0)
    return g * math.sqrt(gaussian_expectation(lambda s: derivative(name, s, beta=beta) ** 2, nu))


def mean_field_gradients(
    name: str, depth: int, *, gain: float = 1.0, input_second_moment: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The wide-network prediction for [`deep_stack`][notes.activations.deep_stack].

    $$ \nu_1 = g^2 \mathbb{E}[x_0^2], \quad \nu_{l+1} = g^2\, \mathbb{E}[\phi(\sqrt{\nu_l} z)^2],
       \qquad \lVert \partial \ell / \partial h_l \rVert_{\mathrm{rms}}
       = \frac{1}{g} \prod_{j=l}^{L} \rho(\nu_j) $$

    with $\rho$ the factor of [`gradient_factor`][notes.activations.gradient_factor]: the top
    layer's gradient is $u \odot \phi'(h_L)$, and each layer below multiplies its mean square by
    $g^2\,\mathbb{E}[\phi'(h_l)^2]$.

    Args:
        name: one of [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        depth: layers $L \ge 1$.
        gain: $g > 0$.
        input_second_moment: $\mathbb{E}[x_0^2] \ge 0$.

    Returns:
        `(nu, rms)`, float64 of shape `(depth,)`: $\nu_l$ and the gradient's root mean square
        for $l = 1, \dots, L$.

    Examples:
        >>> nu, rms = mean_field_gradients("relu", 3, gain=2**0.5)
        >>> [round(v, 6) for v in rms.tolist()]
        [0.707107, 0.707107, 0.707107]

    References:
        [derivation](../activations.md#depth)
    """
    L = positive_int("depth", depth)
    g = real("gain", gain, gt=0)
    nu = [g * g * real("input_second_moment", input_second_moment, ge=0)]
    for _ in range(L - 1):
        nu.append(second_moment_map(name, nu[-1], gain=g))
    rho = torch.tensor([gradient_factor(name, n, gain=g) for n in nu], dtype=torch.float64)
    rms = rho.flip(0).cumprod(0).flip(0) / g  # (1/g) prod_{j >= l} rho_j
    return torch.tensor(nu, dtype=torch.float64), rms


def scaled_elu_moments(lam: float, alpha: float, nu: float = 1.0) -> tuple[float, float]:
    r"""Mean and second moment of the scaled ELU $f$ of $h \sim \mathcal{N}(0, \nu)$.

    $$ \mathbb{E} f = \lambda\Big(\sqrt{\tfrac{\nu}{2\pi}} + \alpha\big(e^{\nu/2}\Phi(-\sqrt\nu)
       - \tfrac12\big)\Big), \quad
       \mathbb{E} f^2 = \lambda^2\Big(\tfrac{\nu}{2} + \alpha^2\big(e^{2\nu}\Phi(-2\sqrt\nu)
       - 2e^{\nu/2}\Phi(-\sqrt\nu) + \tfrac12\big)\Big) $$

    Args:
        lam: $\lambda > 0$.
        alpha: $\alpha \ge 0$.
        nu: the input variance $\nu \ge 0$.

    Returns:
        $(\mathbb{E} f, \mathbb{E} f^2)$.

    Examples:
        >>> [round(m, 12) for m in scaled_elu_moments(SELU_LAMBDA, SELU_ALPHA)]
        [0.0, 1.0]

    References:
        [derivation](../activations.md#selu)
    """
    lam, alpha, nu = real("lam", lam, gt=0), real("alpha", alpha, ge=0), _nu(nu)
    lam_t, alpha_t = (torch.tensor(c, dtype=torch.float64) for c in (lam, alpha))
    m1, m2 = _moments(lam_t, alpha_t, nu)
    return float(m1), float(m2)


def _moments(lam: torch.Tensor, alpha: torch.Tensor, nu: float) -> tuple[torch.Tensor, ...]:
    r = torch.tensor(math.sqrt(nu), dtype=torch.float64)
    e1 = torch.exp(r * r / 2) * _normal_cdf(-r)  # E[e^h; h < 0]
    e2 = torch.exp(2 * r * r) * _normal_cdf(-2 * r)  # E[e^{2h}; h < 0]
    m1 = lam * (r / math.sqrt(2 * math.pi) + alpha * (e1 - 0.5))
    m2 = lam**2 * (r * r / 2 + alpha**2 * (e2 - 2 * e1 + 0.5))
    return m1, m2


# --8<-- [start:selu_constants]
def selu_constants(
    mean: float = 0.0, second_moment: float = 1.0, *, steps: int = 50
) -> tuple[float, float]:
    r"""Solve the fixed-point conditions for $(\lambda, \alpha)$ by Newton's method.

    $$ \mathbb{E}_{h \sim \mathcal{N}(0, 1)} f(h) = \mu^*, \qquad
       \mathbb{E}_{h \sim \mathcal{N}(0, 1)} f(h)^2 = 1 $$

    with $f$ the scaled ELU and the moments of `scaled_elu_moments`; SELU's
    conditions are $\mu^* = 0$ (so that the second moment is the variance).

    Args:
        mean: the target mean $\mu^*$.
        second_moment: the target second moment, $> 0$.
        steps: Newton steps, $\ge 1$.

    Returns:
        $(\lambda, \alpha)$.

    Raises:
        ValueError: if the iteration leaves $\lambda, \alpha > 0$ or does not reach the targets
            to $10^{-12}$ (no solution near the start).

    Examples:
        >>> lam, alpha = selu_constants()
        >>> abs(lam - SELU_LAMBDA) < 1e-14, abs(alpha - SELU_ALPHA) < 1e-14
        (True, True)

    References:
        G. Klambauer et al., "Self-Normalizing Neural Networks", 2017,
        https://arxiv.org/abs/1706.02515. [derivation](../activations.md#selu)
    """
    target = torch.tensor(
        [real("mean", mean), real("second_moment", second_moment, gt=0)], dtype=torch.float64
    )
    theta = torch.tensor([1.0, 1.0], dtype=torch.float64)  # start at ELU: λ = α = 1
    for _ in range(positive_int("steps", steps)):
        t = theta.clone().requires_grad_()
        moments = torch.stack(_moments(t[0], t[1], 1.0))  # (E f, E f²) at ν = 1
        rows = [torch.autograd.grad(moments[i], t, retain_graph=True)[0] for i in range(2)]
        jac = torch.stack(rows)  # (2, 2): d(E f, E f²)/d(λ, α)
        residual = moments.detach() - target
        theta = theta - torch.linalg.lstsq(jac, residual[:, None]).solution[:, 0]  # Newton step
        if not bool((theta > 0).all()) or not bool(theta.isfinite().all()):
            break
    residual = torch.stack(_moments(theta[0], theta[1], 1.0)) - target
    if not bool((theta > 0).all()) or not float(residual.abs().max()) <= 1e-12:
        raise ValueError(f"no solution with lambda, alpha > 0 for targets {target.tolist()}")
    return float(theta[0]), float(theta[1])


# --8<-- [end:selu_constants]


# --- the gated feed-forward blocks -------------------------------------------------------------
def glu_ffn(
    x: torch.Tensor,
    w: torch.Tensor,
    v: torch.Tensor,
    w2: torch.Tensor,
    gate: str = "sigmoid",
    *,
    beta: float = 1.0,
) -> torch.Tensor:
    r"""A gated feed-forward block: GLU (`"sigmoid"`), GEGLU (`"gelu"`), SwiGLU (`"swish"`).

    $$ \operatorname{FFN}_\phi(x) = \big(\phi(xW) \odot xV\big) W_2 $$

    Args:
        x: inputs, shape `(*, d)`.
        w: gate weights $W$, shape `(d, h)`.
        v: value weights $V$, shape `(d, h)`.
        w2: output weights $W_2$, shape `(h, d)`.
        gate: the gate's activation $\phi$, one of
            [`ACTIVATIONS`][notes.activations.ACTIVATIONS].
        beta: Swish's slope.

    Returns:
        Shape `(*, d)`.

    Examples:
        >>> x, w = torch.ones(1, 2), torch.zeros(2, 3)  # gate sigma(0) = 1/2 everywhere
        >>> glu_ffn(x, w, torch.ones(2, 3), torch.ones(3, 2))
        tensor([[3., 3.]])

    References:
        N. Shazeer, "GLU Variants Improve Transformer", 2020, https://arxiv.org/abs/2002.05202.
        [derivation](../activations.md#glu)
    """
    gate = choice("gate", gate, ACTIVATIONS)
    x = tensor("x", x, dims="* d")
    w = tensor("w", w, dims="d h")
    if w.shape[0] != x.shape[-1]:
        raise ValueError(
            f"x and w must share d (x of shape (*, d), w of shape (d, h)), got shapes "
            f"{tuple(x.shape)} and {tuple(w.shape)}"
        )
    v = tensor("v", v, dims="d h")
    if v.shape != w.shape:
        raise ValueError(
            f"w and v must have one shape (d, h), got {tuple(w.shape)} and {tuple(v.shape)}"
        )
    d, hidden = w.shape
    w2 = tensor("w2", w2, dims="h d", sizes={"h": hidden, "d": d})
    return (activation(gate, x @ w, beta=beta) * (x @ v)) @ w2  # (*, h) ⊙ (*, h) -> (*, d)


def ffn_parameter_count(d: int, hidden: int, *, gated: bool) -> int:
    r"""Weights of a bias-free feed-forward block: $2dh$, or $3dh$ with a gate.

    Args:
        d: model width $d \ge 1$.
        hidden: hidden width $h \ge 1$.
        gated: whether the block has the gate matrix $V$ of `glu_ffn`.

    Returns:
        The number of weights.

    Examples:
        >>> ffn_parameter_count(768, 4 * 768, gated=False) == ffn_parameter_count(768, 2048, gated=True)
        True

    References:
        [derivation](../activations.md#glu)
    """
    d, hidden = positive_int("d", d), positive_int("hidden", hidden)
    if not isinstance(gated, bool):
        raise TypeError(f"gated must be a bool, got {gated!r}")
    return (3 if gated else 2) * d * hidden


def gated_hidden_width(d: int, expansion: int = 4) -> float:
    r"""The gated block's hidden width at the parameters of an ungated one of width $ed$.

    $$ 3 d h = 2 d (e d) \iff h = \tfrac{2e}{3} d = \tfrac{8d}{3} \text{ for } e = 4 $$

    Args:
        d: model width $d \ge 1$.
        expansion: the ungated block's ratio $e \ge 1$.

    Returns:
        $h$ (a float: round it to a multiple of what the hardware likes).

    Examples:
        >>> gated_hidden_width(768)
        2048.0

    References:
        [derivation](../activations.md#glu)
    """
    return 2 * positive_int("expansion", expansion) * positive_int("d", d) / 3


# --- a deep stack -------------------------------------------------------------------------------
# --8<-- [start:deep_stack]
def deep_stack(
    phi: str | Callable[[torch.Tensor], torch.Tensor],
    depth: int,
    width: int,
    *,
    gain: float = 1.0,
    batch: int = 32,
    nets: int = 1,
    input_mean: float = 0.0,
    input_std: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Run `nets` deep MLPs forward and backward; report every layer.

    $$ x_0 \sim \mathcal{N}(\mu_0, s_0^2 I), \quad h_l = x_{l-1} W_l, \quad x_l = \phi(h_l),
       \quad W_l \sim \mathcal{N}(0, g^2/m), \quad \ell = \langle x_L, u \rangle,
       \ u \sim \mathcal{N}(0, I) $$

    Args:
        phi: an activation name of [`ACTIVATIONS`][notes.activations.ACTIVATIONS], or a
            callable (a scaled ELU with other constants, say).
        depth: layers $L \ge 1$.
        width: units per layer $m \ge 1$.
        gain: $g > 0$.
        batch: inputs per network, $\ge 2$.
        nets: independent networks, computed together.
        input_mean: $\mu_0$.
        input_std: $s_0 > 0$.
        generator: source of the inputs, weights and $u$.

    Returns:
        `(grad, mean, var)`, each float64 of shape `(nets, depth)`: the root mean square of
        $\partial \ell / \partial h_l$, and the mean and variance of $x_l$ over the batch and
        the width, for $l = 1, \dots, L$.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> grad, mean, var = deep_stack("relu", 5, 64, gain=2**0.5, nets=2, generator=g)
        >>> grad.shape
        torch.Size([2, 5])

    References:
        [derivation](../activations.md#depth)
    """
    f = _activation_fn(phi)
    L, m = positive_int("depth", depth), positive_int("width", width)
    B, S = positive_int("batch", batch, minimum=2), positive_int("nets", nets)
    sigma = real("gain", gain, gt=0) / math.sqrt(m)  # W ~ N(0, g²/m)
    mu0, s0 = real("input_mean", input_mean), real("input_std", input_std, gt=0)
    gen = _generator("generator", generator)
    with torch.enable_grad():
        x = mu0 + s0 * torch.randn(S, B, m, generator=gen)  # x_0: (S, B, m)
        hs, means, variances = [], [], []
        for _ in range(L):
            h = x @ (sigma * torch.randn(S, m, m, generator=gen))  # h_l: (S, B, m)
            if not h.requires_grad:  # layer 1: x_0 is data, so h_1 is a leaf
                h.requires_grad_()
            hs.append(h)
            x = f(h)
            means.append(x.detach().double().mean((1, 2)))
            variances.append(x.detach().double().var((1, 2)))
        u = torch.randn(x.shape, generator=gen)
        grads = torch.autograd.grad((x * u).sum(), hs)  # ∂ℓ/∂h_l, each (S, B, m)
    rms = torch.stack([gr.double().pow(2).mean((1, 2)).sqrt() for gr in grads], dim=1)
    return rms, torch.stack(means, dim=1), torch.stack(variances, dim=1)


# --8<-- [end:deep_stack]


def _activation_fn(
    phi: str | Callable[[torch.Tensor], torch.Tensor],
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A name of `ACTIVATIONS` as a callable; a callable as is."""
    if isinstance(phi, str):
        name = choice("phi", phi, ACTIVATIONS)
        return lambda x: activation(name, x)
    return function("phi", phi)
