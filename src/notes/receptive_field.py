r"""Receptive fields of convolutional stacks: computed two ways, measured by autograd.

The functions follow the page [Receptive fields](../receptive-fields.md). A stack is a sequence
of [`Layer`][notes.receptive_field.Layer]s (convolutions and average poolings, each with a
kernel, stride, padding and dilation), in one dimension: a 2-D layer whose kernel and stride
act on each axis separately has the product of two 1-D fields. The receptive field of a unit
of the last layer, its jump (the distance in input positions between neighbouring units) and
its centre come from the top-down recursion
([`field_top_down`][notes.receptive_field.field_top_down]) and from the bottom-up closed form
([`field_closed_form`][notes.receptive_field.field_closed_form]); the empirical field is the
support of the gradient of one output unit with respect to the input
([`input_gradient`][notes.receptive_field.input_gradient]); the effective receptive field is
that gradient's spread ([`effective_width`][notes.receptive_field.effective_width]).

Examples:
    >>> from notes.receptive_field import Layer, field_closed_form, field_top_down
    >>> stack = [Layer(3), Layer(2, stride=2, pool=True), Layer(3, dilation=2)]
    >>> field_top_down(stack) == field_closed_form(stack)
    True
    >>> field_top_down(stack).size
    12
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, Self

import torch
import torch.nn.functional as F

from notes._validate import boolean, choice, integer, positive_int, real, tensor
from notes._validate import generator as _generator

__all__ = [
    "Field",
    "Layer",
    "effective_width",
    "field_closed_form",
    "field_top_down",
    "fit_exponent",
    "input_gradient",
    "output_sizes",
    "support",
]


class _LayerFields(NamedTuple):
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    pool: bool = False


def _check_layer(prefix: str, layer: _LayerFields) -> None:
    k = positive_int(f"{prefix}kernel", layer.kernel)
    positive_int(f"{prefix}stride", layer.stride)
    d = positive_int(f"{prefix}dilation", layer.dilation)
    span = d * (k - 1) + 1
    integer(f"{prefix}padding", layer.padding, minimum=0, maximum=span - 1)
    if boolean(f"{prefix}pool", layer.pool):
        choice(f"{prefix}dilation (of a pooling layer)", d, [1])
        integer(f"{prefix}padding (of a pooling layer)", layer.padding, maximum=k // 2)


class Layer(_LayerFields):
    r"""One layer of a stack: a convolution, or an average pooling if `pool`.

    Its effective kernel is $k' = d(k - 1) + 1$: a dilated kernel spans that many inputs.
    Build it with positional or keyword arguments; the constructor checks the rules below,
    and every stack function checks each layer again (naming it, ``layers[1].stride``), so a
    tuple edited with ``_replace`` cannot slip through.

    Attributes:
        kernel: $k \ge 1$.
        stride: $s \ge 1$.
        padding: $p \ge 0$ zeros added at each end, $p < k'$ (else an edge unit sees only
            padding); at most $\lfloor k/2 \rfloor$ for a pooling layer.
        dilation: $d \ge 1$ (1 for a pooling layer).
        pool: an average pooling (no weights) instead of a convolution.
    """

    __slots__ = ()

    def __new__(
        cls, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, pool: bool = False
    ) -> Self:
        layer = super().__new__(cls, kernel, stride, padding, dilation, pool)
        _check_layer("", layer)
        return layer


class _FieldFields(NamedTuple):
    size: int
    jump: int
    start: int
    centre: float


class Field(_FieldFields):
    r"""The receptive field of the last layer's units, in input positions.

    Attributes:
        size: $r_0 \ge 1$, the number of input positions a unit depends on.
        jump: $j_L \ge 1$, the distance between the fields of neighbouring units.
        start: the first input position of unit 0's field (negative: into the padding).
        centre: the centre of unit 0's field, $\text{start} + (r_0 - 1)/2$; unit $u$'s is
            $u\, j_L$ further.
    """

    __slots__ = ()

    def __new__(cls, size: int, jump: int, start: int, centre: float) -> Self:
        size, jump = positive_int("size", size), positive_int("jump", jump)
        start = integer("start", start)
        centre = real("centre", centre)
        if centre != start + (size - 1) / 2:
            raise ValueError(
                f"centre must be start + (size - 1) / 2 = {start + (size - 1) / 2!r}, got {centre!r}"
            )
        return super().__new__(cls, size, jump, start, centre)


def _check(layers: object) -> list[Layer]:
    if isinstance(layers, Layer) or not isinstance(layers, Sequence) or len(layers) == 0:
        raise TypeError(f"layers must be a non-empty sequence of Layer, got {layers!r}")
    checked = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer, got {layer!r}")
        _check_layer(f"layers[{i}].", layer)
        checked.append(layer)
    return checked


def _span(layer: Layer) -> int:
    return layer.dilation * (layer.kernel - 1) + 1  # k' = d (k - 1) + 1


# --8<-- [start:top_down]
def field_top_down(layers: Sequence[Layer]) -> Field:
    r"""The field by the top-down recursion, from one output unit back to the input.

    $$ [a_L, b_L] = [0, 0], \qquad a_{l-1} = s_l a_l - p_l, \quad
       b_{l-1} = s_l b_l - p_l + k'_l - 1, $$

    so that $r_{l-1} = b_{l-1} - a_{l-1} + 1 = s_l r_l + (k'_l - s_l)$; the jump is
    $\prod_l s_l$.

    Args:
        layers: the stack, first layer first.

    Returns:
        The [`Field`][notes.receptive_field.Field] of unit 0 of the last layer.

    Examples:
        >>> field_top_down([Layer(3), Layer(3)])  # two 3-tap convolutions see 5 inputs
        Field(size=5, jump=1, start=0, centre=2.0)

    References:
        A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional Neural
        Networks", Distill, 2019, https://distill.pub/2019/computing-receptive-fields/.
        [derivation](../receptive-fields.md#top-down)
    """
    a, b, jump = 0, 0, 1  # the unit's own position in the last layer
    for layer in reversed(_check(layers)):
        a = layer.stride * a - layer.padding  # first input of the first window
        b = layer.stride * b - layer.padding + _span(layer) - 1  # last input of the last
        jump *= layer.stride
    return Field(b - a + 1, jump, a, (a + b) / 2)


# --8<-- [end:top_down]


# --8<-- [start:closed_form]
def field_closed_form(layers: Sequence[Layer]) -> Field:
    r"""The field by the bottom-up closed form, with the products of strides.

    $$ r_0 = 1 + \sum_{l=1}^{L} (k'_l - 1) \prod_{i=1}^{l-1} s_i, \qquad
       j_L = \prod_{l=1}^{L} s_l, \qquad
       a_0 = -\sum_{l=1}^{L} p_l \prod_{i=1}^{l-1} s_i $$

    Args:
        layers: the stack, first layer first.

    Returns:
        The [`Field`][notes.receptive_field.Field] of unit 0 of the last layer.

    Examples:
        >>> field_closed_form([Layer(7, stride=2, padding=3), Layer(3, stride=2, padding=1)])
        Field(size=11, jump=4, start=-5, centre=0.0)

    References:
        A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional Neural
        Networks", Distill, 2019, https://distill.pub/2019/computing-receptive-fields/.
        [derivation](../receptive-fields.md#closed-form)
    """
    size, start, jump = 1, 0, 1  # jump = prod_{i < l} s_i while at layer l
    for layer in _check(layers):
        size += (_span(layer) - 1) * jump
        start -= layer.padding * jump
        jump *= layer.stride
    return Field(size, jump, start, start + (size - 1) / 2)


# --8<-- [end:closed_form]


def output_sizes(layers: Sequence[Layer], n: int) -> list[int]:
    r"""The length of every layer's output for an input of length $n$.

    $$ n_l = \Big\lfloor \frac{n_{l-1} + 2p_l - k'_l}{s_l} \Big\rfloor + 1 $$

    Args:
        layers: the stack, first layer first.
        n: the input length, $\ge 1$.

    Returns:
        $[n_1, \dots, n_L]$.

    Raises:
        ValueError: if a layer would be empty ($n_l \le 0$), naming it.

    Examples:
        >>> output_sizes([Layer(3, stride=2, padding=1), Layer(3)], 8)
        [4, 2]
    """
    sizes: list[int] = []
    length = positive_int("n", n)
    for i, layer in enumerate(_check(layers)):
        length = (length + 2 * layer.padding - _span(layer)) // layer.stride + 1
        if length <= 0:
            raise ValueError(
                f"layers[{i}] is empty for an input of length {n}: its windows of "
                f"{_span(layer)} (kernel {layer.kernel}, dilation {layer.dilation}) do not fit "
                f"{sizes[-1] if sizes else n} inputs with padding {layer.padding}"
            )
        sizes.append(length)
    return sizes


# --8<-- [start:input_gradient]
def input_gradient(
    layers: Sequence[Layer],
    n: int,
    unit: int | None = None,
    *,
    weights: str = "uniform",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""$\partial y_u / \partial x$ for one unit $u$ of the last layer, by autograd.

    The stack is linear (no activation): convolutions with one channel and no bias, and average
    poolings, so that the gradient does not depend on $x$ and is nonzero exactly where a path of
    nonzero weights joins $x_i$ to $y_u$.

    Args:
        layers: the stack, first layer first.
        n: the input length, $\ge 1$.
        unit: the output unit $u$; by default the middle one.
        weights: `"uniform"` (every tap $1/k$, as pooling) or `"normal"` (independent
            $\mathcal{N}(0, 1/k)$ taps).
        generator: source of the normal weights.

    Returns:
        The gradient, float64 of shape `(n,)`.

    Examples:
        >>> input_gradient([Layer(3), Layer(3)], 7)  # a box convolved with a box
        tensor([0.0000, 0.1111, 0.2222, 0.3333, 0.2222, 0.1111, 0.0000], dtype=torch.float64)

    References:
        W. Luo, Y. Li, R. Urtasun, R. Zemel, "Understanding the Effective Receptive Field in
        Deep Convolutional Neural Networks", 2016, https://arxiv.org/abs/1701.04128.
        [derivation](../receptive-fields.md#autograd)
    """
    stack = _check(layers)
    last = output_sizes(stack, n)[-1]
    u = last // 2 if unit is None else integer("unit", unit, minimum=0, maximum=last - 1)
    choice("weights", weights, ["uniform", "normal"])
    gen = _generator("generator", generator)
    x = torch.zeros(1, 1, n, dtype=torch.float64, requires_grad=True)  # (batch, channel, n)
    h = x
    for layer in stack:
        if layer.pool:
            h = F.avg_pool1d(h, layer.kernel, layer.stride, layer.padding)
            continue
        if weights == "uniform":
            w = torch.full((1, 1, layer.kernel), 1.0 / layer.kernel, dtype=torch.float64)
        else:
            w = torch.randn(1, 1, layer.kernel, generator=gen, dtype=torch.float64)
            w = w / math.sqrt(layer.kernel)
        h = F.conv1d(h, w, stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
    (grad,) = torch.autograd.grad(h[0, 0, u], x)
    return grad[0, 0]


# --8<-- [end:input_gradient]


def support(gradient: torch.Tensor) -> tuple[int, int]:
    r"""The first and last positions where the gradient is nonzero: the field's hull.

    Args:
        gradient: shape `(n,)`.

    Returns:
        `(first, last)`.

    Raises:
        ValueError: if the gradient is zero everywhere.

    Examples:
        >>> support(torch.tensor([0.0, 0.5, 0.0, 0.2, 0.0]))
        (1, 3)
    """
    g = tensor("gradient", gradient, dims="n", min_numel=1)
    nonzero = torch.nonzero(g).flatten()
    if nonzero.numel() == 0:
        raise ValueError("gradient must be nonzero somewhere")
    return int(nonzero[0]), int(nonzero[-1])


def effective_width(gradient: torch.Tensor) -> float:
    r"""The effective receptive field's width: the standard deviation of $|g|$ as a distribution.

    $$ w = \Big(\sum_i \pi_i (i - \bar\imath)^2\Big)^{1/2}, \qquad
       \pi_i = \frac{|g_i|}{\sum_j |g_j|}, \quad \bar\imath = \sum_i \pi_i\, i $$

    Args:
        gradient: shape `(n,)`, not all zero.

    Returns:
        $w$, in input positions.

    Examples:
        >>> effective_width(torch.tensor([1.0, 0.0, 1.0]))
        1.0

    References:
        W. Luo et al., "Understanding the Effective Receptive Field in Deep Convolutional
        Neural Networks", 2016, https://arxiv.org/abs/1701.04128.
        [derivation](../receptive-fields.md#effective)
    """
    g = tensor("gradient", gradient, dims="n", min_numel=1).double().abs()
    total = g.sum()
    if not float(total) > 0:
        raise ValueError("gradient must be nonzero somewhere")
    pi = g / total
    i = torch.arange(g.numel(), dtype=torch.float64)
    mean = (pi * i).sum()
    return float((pi * (i - mean) ** 2).sum().sqrt())


def fit_exponent(depths: Sequence[int], values: Sequence[float]) -> float:
    r"""The least-squares slope of $\log v$ against $\log L$: $v \propto L^{\gamma}$.

    Args:
        depths: at least two distinct depths $L \ge 1$.
        values: the same number of positive values.

    Returns:
        $\gamma$.

    Examples:
        >>> fit_exponent([1, 4, 16], [2.0, 4.0, 8.0])
        0.5
    """
    pairs: tuple[tuple[str, object], ...] = (("depths", depths), ("values", values))
    for name, seq in pairs:
        if isinstance(seq, str | torch.Tensor) or not isinstance(seq, Sequence):
            raise TypeError(f"{name} must be a sequence of numbers, got {seq!r}")
    if len(depths) != len(values) or len(set(depths)) < 2:
        raise ValueError(
            f"depths and values must have the same length with at least 2 distinct depths, "
            f"got {len(depths)} and {len(values)}"
        )
    for i, (depth, value) in enumerate(zip(depths, values, strict=True)):
        positive_int(f"depths[{i}]", depth)
        real(f"values[{i}]", value, gt=0)
    x = torch.tensor([math.log(d) for d in depths], dtype=torch.float64)
    y = torch.tensor([math.log(float(v)) for v in values], dtype=torch.float64)
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc * xc).sum())
