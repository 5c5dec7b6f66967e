r"""Standard and NTK parameterisations: one SGD step of a two-layer ReLU network."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from notes import _validate as check
from notes._validate import positive_float, positive_int

__all__ = ["two_layer_sgd_step"]


# --8<-- [start:ntk]
def two_layer_sgd_step(
    x: torch.Tensor,
    width: int,
    *,
    parameterization: str = "standard",
    lr: float = 1e-3,
    nets: int = 1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""One SGD step on $f(x) = v^\top \mathrm{relu}(W^\top x)$ with loss $f$ itself.

    Both parameterisations draw $A_1 \in \mathbb{R}^{d \times m}$, $a_2 \in \mathbb{R}^m$ from
    $\mathcal{N}(0, 1)$ and compute the same $f$: standard trains $W = A_1/\sqrt{d}$,
    $v = a_2/\sqrt{m}$; NTK trains $A_1, a_2$ and multiplies by $1/\sqrt{d}, 1/\sqrt{m}$ in the
    forward pass. The step changes $f$ by $-\eta\,\Theta + O(\eta^2)$ with

    $$ \Theta = \lVert \nabla_\theta f(x) \rVert^2 $$

    in the trained parameters $\theta$.

    Args:
        x: one input, shape `(d,)` with $d \ge 1$, floating and finite.
        width: hidden units $m \ge 1$.
        parameterization: `"standard"` or `"ntk"`.
        lr: the learning rate $\eta > 0$.
        nets: independent networks, computed together.
        generator: source of randomness for the weights.

    Returns:
        `(f, theta, delta)`, each of shape `(nets,)`: the output before the step, the tangent
        kernel $\Theta(x, x)$ and the change of the output after the step.

    Examples:
        >>> x = torch.ones(4, dtype=torch.float64)
        >>> g = torch.Generator().manual_seed(0)
        >>> f, theta, delta = two_layer_sgd_step(x, 8, parameterization="ntk", generator=g)
        >>> bool(torch.allclose(delta, -1e-3 * theta, rtol=1e-2))
        True

    References:
        A. Jacot, F. Gabriel, C. Hongler, "Neural Tangent Kernel", 2018,
        https://arxiv.org/abs/1806.07572. [derivation](../initialization.md#ntk)
    """
    x = check.tensor("x", x, dims="d", min_sizes={"d": 1})
    m, S, eta = positive_int("width", width), positive_int("nets", nets), positive_float("lr", lr)
    check.choice("parameterization", parameterization, ("standard", "ntk"))
    check.generator("generator", generator)
    d = x.numel()
    a1 = torch.randn(S, d, m, generator=generator, dtype=x.dtype)  # A_1 ~ N(0, 1): (S, d, m)
    a2 = torch.randn(S, m, generator=generator, dtype=x.dtype)  # a_2 ~ N(0, 1): (S, m)
    # standard: the scale lives in the parameter; NTK: in the forward pass
    c1, c2 = (d**-0.5, m**-0.5) if parameterization == "ntk" else (1.0, 1.0)
    p1, p2 = (a1, a2) if parameterization == "ntk" else (a1 * d**-0.5, a2 * m**-0.5)

    def forward(p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
        return (F.relu(c1 * (x @ p1)) * p2).sum(-1) * c2  # (S,)

    p1.requires_grad_(True)
    p2.requires_grad_(True)
    f = forward(p1, p2)
    # nets share no parameter, so the gradient of the sum is each net's own gradient
    g1, g2 = torch.autograd.grad(f.sum(), (p1, p2))
    theta = g1.pow(2).sum((1, 2)) + g2.pow(2).sum(1)  # Θ(x, x) = ‖∇θ f‖²
    with torch.no_grad():
        delta = forward(p1 - eta * g1, p2 - eta * g2) - f
    return f.detach(), theta, delta


# --8<-- [end:ntk]
