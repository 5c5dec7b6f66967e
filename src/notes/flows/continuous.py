r"""Continuous flows: an ODE $dz/dt = v(z, t)$ and the instantaneous change of variables.

Along a solution of the ODE the log-density changes by minus the divergence of the field,

$$ \frac{d}{dt} \log p_t(z(t)) = -\operatorname{tr}\Bigl(\frac{\partial v}{\partial z}(z(t), t)\Bigr) $$

The trace is computed exactly with $D$ vector-Jacobian products (cheap in 2-D) or estimated
without bias by Hutchinson's $r^\top (\partial v/\partial z)\, r$ with one.
Time runs from data at $t = 0$ to noise at $t = 1$, as in rectified flow.

See the [derivation](../flows/continuous.md#instantaneous-change-of-variables).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from notes import _validate as check
from notes._validate import positive_int
from notes.flows.coupling import mlp
from notes.flows.distributions import normal_log_prob

__all__ = [
    "VelocityField",
    "cnf_log_prob",
    "divergence",
    "exact_trace",
    "hutchinson_trace",
    "odeint",
    "rademacher",
]

Velocity = Callable[[Tensor, Tensor], Tensor]
Trace = Literal["exact", "hutchinson"]


class VelocityField(nn.Module):
    r"""A time-dependent vector field $v_\theta(z, t)$: an MLP on the concatenation $(z, t)$.

    $$ \frac{dz}{dt} = v_\theta(z, t), \qquad v_\theta : \mathbb{R}^D \times [0, 1] \to \mathbb{R}^D $$

    SiLU activations make $v_\theta$ smooth, so its divergence is smooth too; the last layer
    starts at zero, so the field starts at $v = 0$.

    Args:
        dim: the feature dimension $D$.
        hidden: hidden widths.
        generator: source of the initial weights.

    Examples:
        >>> v = VelocityField(2, generator=torch.Generator().manual_seed(0))
        >>> v(torch.zeros(5, 2), torch.tensor(0.5)).shape
        torch.Size([5, 2])

    References:
        Neural Ordinary Differential Equations, R. T. Q. Chen, Y. Rubanova, J. Bettencourt,
        D. Duvenaud, 2018, <https://arxiv.org/abs/1806.07366>.
        [Derivation](../flows/continuous.md#continuous-flows).
    """

    def __init__(
        self,
        dim: int,
        hidden: Sequence[int] = (128, 128),
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.dim = positive_int("dim", dim)
        self.net = mlp(dim + 1, dim, hidden, activation=nn.SiLU, generator=generator)

    def forward(self, z: Tensor, t: Tensor | float) -> Tensor:
        """$v(z, t)$ for `z` of shape `(N, D)` and `t` a scalar or shape `(N,)`; returns `(N, D)`."""
        check.tensor("z", z, dims="N D", sizes={"D": self.dim})
        t = check.real_or_tensor("t", t).to(z.dtype)
        if t.dim() != 0:
            check.tensor("t", t, dims="N", sizes={"N": z.shape[0]})
        t = t.expand(z.shape[0]) if t.dim() == 0 else t
        return self.net(torch.cat([z, t.unsqueeze(1)], dim=1))  # type: ignore[no-any-return]


def rademacher(shape: Sequence[int], *, generator: torch.Generator | None = None) -> Tensor:
    r"""Independent random signs, $r_i = \pm 1$ with probability 1/2 each, so $\mathbb{E}[r r^\top] = I$.

    $$ P(r_i = 1) = P(r_i = -1) = \tfrac12 $$

    Args:
        shape: the output shape, e.g. `(N, D)`.
        generator: source of the signs.

    Returns:
        A float32 tensor of the given shape.

    Examples:
        >>> r = rademacher((2, 3), generator=torch.Generator().manual_seed(0))
        >>> sorted(set(r.flatten().tolist())) in ([-1.0, 1.0], [-1.0], [1.0])
        True

    References:
        A stochastic estimator of the trace of the influence matrix for Laplacian smoothing
        splines, M. F. Hutchinson, 1989, <https://doi.org/10.1080/03610918908812806>.
        [Derivation](../flows/continuous.md#hutchinson).
    """
    shape = check.shape("shape", tuple(shape) if isinstance(shape, list) else shape)
    generator = check.generator("generator", generator)
    return torch.randint(2, shape, generator=generator).float() * 2 - 1


def exact_trace(v: Tensor, z: Tensor, *, create_graph: bool = False) -> Tensor:
    r"""$\operatorname{tr}(\partial v / \partial z)$ per sample, with one vector-Jacobian product per dimension.

    $$ \operatorname{tr} J = \sum_{i=1}^{D} e_i^\top J e_i, \qquad J = \partial v / \partial z $$

    Args:
        v: the field evaluated at `z`, shape `(N, D)`, with a graph back to `z`.
        z: the points, shape `(N, D)`, with `requires_grad=True`.
        create_graph: keep the graph of the result (to differentiate it again).

    Returns:
        Shape `(N,)`; zero where `v` does not depend on `z` (a constant field).

    Examples:
        >>> z = torch.tensor([[1.0, 2.0]], requires_grad=True)
        >>> exact_trace(z**2, z)  # diag(2 z): 2 + 4
        tensor([6.])

    References:
        FFJORD, W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, 2019,
        <https://arxiv.org/abs/1810.01367>.
        [Derivation](../flows/continuous.md#instantaneous-change-of-variables).
    """
    _field_at("v", v, z)
    check.boolean("create_graph", create_graph)
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    if not v.requires_grad:  # v does not depend on z: J = 0
        return trace
    for i in range(z.shape[1]):
        # e_i^T J: the gradient of sum_n v_{n,i} with respect to z (samples do not interact)
        (row,) = torch.autograd.grad(
            v[:, i].sum(), z, retain_graph=True, create_graph=create_graph, allow_unused=True
        )
        if row is not None:  # None: v_i does not depend on z
            trace = trace + row[:, i]
    return trace


def _field_at(name: str, v: object, z: object) -> None:
    # v (N, D) evaluated at the points z (N, D), which require grad
    z = check.tensor("z", z, dims="N D")
    if not z.requires_grad:
        raise ValueError("z must require grad: the points the field was evaluated at")
    check.shapes_match(("z", name), (z, check.tensor(name, v, dims="N D")))


# --8<-- [start:hutchinson]
def hutchinson_trace(v: Tensor, z: Tensor, probe: Tensor, *, create_graph: bool = False) -> Tensor:
    r"""Hutchinson's unbiased estimate $r^\top (\partial v/\partial z)\, r$, one product per sample.

    $$ \mathbb{E}\bigl[r^\top J r\bigr] = \operatorname{tr} J
    \quad \text{when } \mathbb{E}[r r^\top] = I $$

    Args:
        v: the field at `z`, shape `(N, D)`, with a graph back to `z`.
        z: the points, shape `(N, D)`, with `requires_grad=True`.
        probe: the probes $r$, shape `(N, D)` (Rademacher or standard normal).
        create_graph: keep the graph of the result.

    Returns:
        Shape `(N,)`.

    Examples:
        >>> z = torch.tensor([[1.0, 2.0]], requires_grad=True)
        >>> hutchinson_trace(z**2, z, torch.tensor([[1.0, -1.0]]))  # J = diag(2, 4)
        tensor([6.])

    References:
        A stochastic estimator of the trace of the influence matrix for Laplacian smoothing
        splines, M. F. Hutchinson, 1989. FFJORD, W. Grathwohl, R. T. Q. Chen, J. Bettencourt,
        I. Sutskever, D. Duvenaud, 2019, <https://arxiv.org/abs/1810.01367>.
        [Derivation](../flows/continuous.md#hutchinson).
    """
    z = check.tensor("z", z, dims="N D")
    check.shapes_match(("z", "probe"), (z, check.tensor("probe", probe, dims="N D")))
    _field_at("v", v, z)
    check.boolean("create_graph", create_graph)
    if probe.shape != z.shape:
        raise ValueError(
            f"probe must have the shape of z {tuple(z.shape)}, got {tuple(probe.shape)}"
        )
    (vjp,) = torch.autograd.grad(v, z, probe, create_graph=create_graph)  # r^T J, shape (N, D)
    return (vjp * probe).sum(-1)  # r^T J r, shape (N,)


# --8<-- [end:hutchinson]


def divergence(
    velocity: Velocity,
    z: Tensor,
    t: Tensor | float,
    *,
    method: Trace = "exact",
    probe: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Evaluate $v(z, t)$ and its divergence $\operatorname{tr}(\partial v / \partial z)$, both detached.

    $$ \nabla \cdot v = \operatorname{tr} \frac{\partial v}{\partial z} \approx r^\top \frac{\partial v}{\partial z} r $$

    Args:
        velocity: $v(z, t)$, a callable on `(N, D)` and a scalar tensor, returning `(N, D)`;
            a field that does not depend on $z$ has divergence 0.
        z: the points, shape `(N, D)`.
        t: the time, a float or a scalar tensor.
        method: `"exact"` ($D$ vector-Jacobian products) or `"hutchinson"` (one).
        probe: the probes $r$, shape `(N, D)`, for `method="hutchinson"`.

    Returns:
        `(v, div)` of shapes `(N, D)` and `(N,)`.

    Examples:
        >>> v, div = divergence(lambda z, t: 3 * z, torch.ones(4, 2), 0.0)
        >>> div  # tr(3 I) in 2-D
        tensor([6., 6., 6., 6.])

    References:
        FFJORD, W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, 2019,
        <https://arxiv.org/abs/1810.01367>. [Derivation](../flows/continuous.md#hutchinson).
    """
    velocity = check.shape_preserving("velocity", velocity)
    z = check.tensor("z", z, dims="N D")
    t = check.real_or_tensor("t", t)
    if t.dim() != 0:
        raise ValueError(f"t must be a float or a 0-d tensor, got shape {tuple(t.shape)}")
    check.choice("method", method, ("exact", "hutchinson"))
    if probe is not None:
        check.shapes_match(("z", "probe"), (z, check.tensor("probe", probe, dims="N D")))
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        v = velocity(z, t.to(z.dtype)) + 0 * z  # + 0 z: v depends on z even for a constant field
        if method == "exact":
            div = exact_trace(v, z)
        elif method == "hutchinson":
            if probe is None:
                raise ValueError("probe must be given for method='hutchinson'")
            div = hutchinson_trace(v, z, probe)
        else:
            raise ValueError(f"method must be 'exact' or 'hutchinson', got {method!r}")
    return v.detach(), div.detach()


def odeint(
    velocity: Velocity,
    z: Tensor,
    *,
    t0: float,
    t1: float,
    steps: int,
    method: Literal["euler", "rk4"] = "euler",
) -> Tensor:
    r"""Solve $dz/dt = v(z, t)$ from $t_0$ to $t_1$ with fixed steps; return the whole path.

    $$ \text{Euler:}\quad z_{k+1} = z_k + h\, v(z_k, t_k), \qquad h = (t_1 - t_0)/S $$

    RK4 is the classical fourth-order Runge-Kutta rule. No gradient is recorded.

    Args:
        velocity: $v(z, t)$, a callable taking `(N, D)` and a scalar tensor.
        z: the state at $t_0$, shape `(N, D)`.
        t0: start time.
        t1: end time.
        steps: number of steps $S \ge 1$.
        method: `"euler"` or `"rk4"`.

    Returns:
        The states $z_0, \dots, z_S$, shape `(S + 1, N, D)`.

    Examples:
        >>> path = odeint(lambda z, t: -z, torch.ones(1, 1), t0=0.0, t1=1.0, steps=100, method="rk4")
        >>> round(float(path[-1, 0, 0]), 5)  # exp(-1)
        0.36788

    References:
        Neural Ordinary Differential Equations, R. T. Q. Chen, Y. Rubanova, J. Bettencourt,
        D. Duvenaud, 2018, <https://arxiv.org/abs/1806.07366>.
        [Derivation](../flows/continuous.md#continuous-flows).
    """
    velocity = check.shape_preserving("velocity", velocity)  # v(z, t) must have z's shape
    positive_int("steps", steps)
    check.choice("method", method, ("euler", "rk4"))
    z = check.tensor("z", z, dims="N D")
    t0, t1 = check.real("t0", t0), check.real("t1", t1)
    h = (t1 - t0) / steps
    path = [z]
    with torch.no_grad():
        for k in range(steps):
            t = torch.tensor(t0 + k * h, dtype=z.dtype)
            if method == "euler":
                z = z + h * velocity(z, t)
            else:
                k1 = velocity(z, t)
                k2 = velocity(z + h / 2 * k1, t + h / 2)
                k3 = velocity(z + h / 2 * k2, t + h / 2)
                k4 = velocity(z + h * k3, t + h)
                z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            path.append(z)
    return torch.stack(path)


# --8<-- [start:cnf]
def cnf_log_prob(
    velocity: Velocity,
    x: Tensor,
    *,
    steps: int = 32,
    method: Trace = "exact",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""$\log p_0(x)$ of a continuous flow with a standard normal at $t = 1$, by RK4.

    Integrates the augmented ODE from data ($t = 0$) to noise ($t = 1$),

    $$ \frac{d}{dt} \begin{pmatrix} z \\ \ell \end{pmatrix}
    = \begin{pmatrix} v(z, t) \\ \operatorname{tr}(\partial v / \partial z) \end{pmatrix},
    \qquad \log p_0(x) = \log \mathcal{N}(z(1); 0, I) + \ell(1),\ \ z(0) = x,\ \ell(0) = 0 $$

    With `method="hutchinson"` one Rademacher probe per sample is drawn from `generator` and
    kept for the whole path, so the result is an unbiased estimate of the exact one.

    Args:
        velocity: $v(z, t)$.
        x: data of shape `(N, D)`.
        steps: RK4 steps on $[0, 1]$.
        method: `"exact"` or `"hutchinson"`.
        generator: source of the probes.

    Returns:
        Shape `(N,)`.

    Examples:
        >>> a = 0.5  # v(z) = a z: z(1) = e^a x and the divergence is 2a in 2-D
        >>> lp = cnf_log_prob(lambda z, t: a * z, torch.zeros(1, 2), steps=8)
        >>> round(float(lp[0]), 4)  # log N(0; 0, I) + 2a
        -0.8379

    References:
        Neural Ordinary Differential Equations, R. T. Q. Chen, Y. Rubanova, J. Bettencourt,
        D. Duvenaud, 2018, <https://arxiv.org/abs/1806.07366>.
        [Derivation](../flows/continuous.md#instantaneous-change-of-variables).
    """
    check.function("velocity", velocity)
    check.tensor("x", x, dims="N D")
    positive_int("steps", steps)
    check.choice("method", method, ("exact", "hutchinson"))
    check.generator("generator", generator)
    probe = rademacher(x.shape, generator=generator).to(x.dtype) if method == "hutchinson" else None

    def field(z: Tensor, t: float) -> tuple[Tensor, Tensor]:
        return divergence(velocity, z, t, method=method, probe=probe)

    h = 1.0 / steps
    z, ell = x.detach(), torch.zeros(x.shape[0], dtype=x.dtype)
    for k in range(steps):  # RK4 on the pair (z, ell)
        t = k * h
        v1, d1 = field(z, t)
        v2, d2 = field(z + h / 2 * v1, t + h / 2)
        v3, d3 = field(z + h / 2 * v2, t + h / 2)
        v4, d4 = field(z + h * v3, t + h)
        z = z + h / 6 * (v1 + 2 * v2 + 2 * v3 + v4)
        ell = ell + h / 6 * (d1 + 2 * d2 + 2 * d3 + d4)
    return normal_log_prob(z) + ell  # log N(z(1)) + integral of tr(dv/dz) dt


# --8<-- [end:cnf]
