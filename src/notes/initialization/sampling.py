r"""Samplers with a requested standard deviation, and the LeCun, Xavier and He scales."""

from __future__ import annotations

import math

import torch

from notes import _validate as check
from notes._validate import positive_float, positive_int

__all__ = [
    "he_std",
    "lecun_std",
    "normal",
    "truncated_normal",
    "truncated_normal_std",
    "uniform",
    "xavier_std",
]


# --8<-- [start:samplers]
def truncated_normal_std(bound: float = 2.0) -> float:
    r"""Standard deviation of $\mathcal{N}(0, 1)$ truncated to $[-b, b]$.

    $$ \tau(b)^2 = 1 - \frac{2 b\, \varphi(b)}{2 \Phi(b) - 1}, \qquad \tau(2) \approx 0.8796 $$

    Args:
        bound: the truncation point $b > 0$, in standard deviations.

    Returns:
        $\tau(b)$; divide by it to get a requested standard deviation after truncation.

    Examples:
        >>> round(1 / truncated_normal_std(2.0), 4)
        1.1368

    References:
        J. Su, "浅谈Transformer的初始化、参数化与标准化", 2021, https://kexue.fm/archives/8620.
        [derivation](../initialization.md#sampling)
    """
    b = positive_float("bound", bound)
    pdf = math.exp(-b * b / 2) / math.sqrt(2 * math.pi)  # φ(b)
    mass = math.erf(b / math.sqrt(2))  # 2Φ(b) - 1
    return math.sqrt(1 - 2 * b * pdf / mass)


def normal(
    shape: tuple[int, ...],
    std: float,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Draw $w \sim \mathcal{N}(0, \sigma^2)$ with $\sigma$ = `std`.

    Args:
        shape: output shape.
        std: the requested standard deviation $\sigma > 0$.
        generator: source of randomness.
        dtype: a floating dtype.

    Returns:
        A tensor of `shape`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> round(float(normal((100_000,), 0.5, generator=g).std()), 2)
        0.5

    References:
        J. Su, "浅谈Transformer的初始化、参数化与标准化", 2021, https://kexue.fm/archives/8620.
        [derivation](../initialization.md#sampling)
    """
    sigma, shape = positive_float("std", std), check.shape("shape", shape)
    dtype, generator = check.dtype("dtype", dtype), check.generator("generator", generator)
    return torch.randn(shape, generator=generator, dtype=dtype) * sigma


def uniform(
    shape: tuple[int, ...],
    std: float,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Draw $w \sim U[-a, a]$ with $a = \sqrt{3}\,\sigma$, so that $\operatorname{Var}[w] = a^2/3 = \sigma^2$.

    Args:
        shape: output shape.
        std: the requested standard deviation $\sigma > 0$.
        generator: source of randomness.
        dtype: a floating dtype.

    Returns:
        A tensor of `shape` with entries in $[-\sqrt{3}\sigma, \sqrt{3}\sigma]$.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> round(float(uniform((100_000,), 0.5, generator=g).std()), 2)
        0.5

    References:
        J. Su, "浅谈Transformer的初始化、参数化与标准化", 2021, https://kexue.fm/archives/8620.
        [derivation](../initialization.md#sampling)
    """
    a = math.sqrt(3.0) * positive_float("std", std)  # Var U[-a, a] = a²/3
    shape, dtype = check.shape("shape", shape), check.dtype("dtype", dtype)
    generator = check.generator("generator", generator)
    return (2 * torch.rand(shape, generator=generator, dtype=dtype) - 1) * a


def truncated_normal(
    shape: tuple[int, ...],
    std: float,
    *,
    bound: float = 2.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Draw a normal truncated at $\pm b$ of its own scale, rescaled to standard deviation `std`.

    $$ w = \frac{\sigma}{\tau(b)}\, \Phi^{-1}(u), \qquad u \sim U[\Phi(-b), \Phi(b)] $$

    Args:
        shape: output shape.
        std: the requested standard deviation $\sigma > 0$ of the result.
        bound: the truncation point $b > 0$ in units of the untruncated scale.
        generator: source of randomness.
        dtype: a floating dtype (an integer dtype would round every draw to 0, so it is
            refused).

    Returns:
        A tensor of `shape` with entries in $[-b\sigma/\tau(b), b\sigma/\tau(b)]$.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> round(float(truncated_normal((100_000,), 0.5, generator=g).std()), 2)
        0.5

    References:
        J. Su, "浅谈Transformer的初始化、参数化与标准化", 2021, https://kexue.fm/archives/8620.
        [derivation](../initialization.md#sampling)
    """
    sigma, b = positive_float("std", std), positive_float("bound", bound)
    shape, dtype = check.shape("shape", shape), check.dtype("dtype", dtype)
    generator = check.generator("generator", generator)
    lo = 0.5 * (1 + math.erf(-b / math.sqrt(2)))  # Φ(-b)
    u = lo + (1 - 2 * lo) * torch.rand(shape, generator=generator, dtype=torch.float64)
    z: torch.Tensor = torch.special.ndtri(u)  # Φ⁻¹(u): z ~ N(0, 1) truncated to [-b, b]
    return (z * (sigma / truncated_normal_std(b))).to(dtype)


# --8<-- [end:samplers]


def lecun_std(fan_in: int, gain: float = 1.0) -> float:
    r"""LeCun's standard deviation $\sigma = g / \sqrt{m}$ (forward second moment kept).

    Args:
        fan_in: inputs per unit, $m \ge 1$.
        gain: the activation's gain $g > 0$.

    Returns:
        $g / \sqrt{m}$.

    Examples:
        >>> lecun_std(256)
        0.0625

    References:
        Y. LeCun, L. Bottou, G. Orr, K.-R. Müller, "Efficient BackProp", 1998.
        [derivation](../initialization.md#second-moment)
    """
    return positive_float("gain", gain) / math.sqrt(positive_int("fan_in", fan_in))


def xavier_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    r"""Glorot and Bengio's compromise of forward and backward: $\sigma = g\sqrt{2/(m + n)}$.

    Args:
        fan_in: inputs per unit, $m \ge 1$.
        fan_out: outputs per input, $n \ge 1$.
        gain: the activation's gain $g > 0$.

    Returns:
        $g \sqrt{2 / (m + n)}$.

    Examples:
        >>> xavier_std(100, 300)
        0.07071067811865475

    References:
        X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
        neural networks", 2010. [derivation](../initialization.md#second-moment)
    """
    m, n = positive_int("fan_in", fan_in), positive_int("fan_out", fan_out)
    return positive_float("gain", gain) * math.sqrt(2.0 / (m + n))


def he_std(fan: int, gain: float = math.sqrt(2.0)) -> float:
    r"""He et al.'s standard deviation for ReLU, $\sigma = \sqrt{2/m}$; other gains allowed.

    Args:
        fan: $m \ge 1$: the fan-in keeps the forward pass, the fan-out the backward pass.
        gain: $g > 0$, by default the ReLU gain $\sqrt{2}$.

    Returns:
        $g / \sqrt{m}$.

    Examples:
        >>> round(he_std(8), 6)
        0.5

    References:
        K. He, X. Zhang, S. Ren, J. Sun, "Delving Deep into Rectifiers", 2015,
        https://arxiv.org/abs/1502.01852. [derivation](../initialization.md#gains)
    """
    return positive_float("gain", gain) / math.sqrt(positive_int("fan", fan))
