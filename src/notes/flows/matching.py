r"""Flow matching with straight paths (rectified flow): regress a velocity, then sample by Euler steps.

Data $x_0$ and noise $\varepsilon \sim \mathcal{N}(0, I)$ are joined by the straight path

$$ x_t = (1 - t)\, x_0 + t\, \varepsilon, \qquad \frac{d x_t}{dt} = \varepsilon - x_0 $$

and a network $v_\theta(x, t)$ is fitted by least squares to the path's velocity. Its
minimiser is the conditional mean $\mathbb{E}[\varepsilon - x_0 \mid x_t = x]$, whose ODE moves
noise at $t = 1$ to data at $t = 0$.

See the [derivation](../flows/continuous.md#flow-matching).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

from notes import _validate as check
from notes._validate import positive_int
from notes.flows.continuous import odeint
from notes.flows.training import make_optimizer, num_threads

__all__ = [
    "energy_distance",
    "euler_sample",
    "fit_flow_matching",
    "flow_matching_loss",
    "gaussian_velocity",
    "sample_time",
    "straight_path",
    "straightness",
]

Velocity = Callable[[Tensor, Tensor], Tensor]


# --8<-- [start:path]
def straight_path(x0: Tensor, eps: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
    r"""The point $x_t = (1 - t) x_0 + t \varepsilon$ and its velocity $\varepsilon - x_0$.

    $$ x_t = (1 - t)\, x_0 + t\, \varepsilon, \qquad u = \frac{d x_t}{dt} = \varepsilon - x_0 $$

    Args:
        x0: data, shape `(N, D)`.
        eps: noise, shape `(N, D)`.
        t: times in $[0, 1]$, shape `(N,)` (not `(N, 1)`, which would broadcast).

    Returns:
        `(x_t, u)`, both of shape `(N, D)`.

    Examples:
        >>> straight_path(torch.ones(1, 2), torch.zeros(1, 2), torch.tensor([0.25]))
        (tensor([[0.7500, 0.7500]]), tensor([[-1., -1.]]))

    References:
        Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow,
        X. Liu, C. Gong, Q. Liu, 2023, <https://arxiv.org/abs/2209.03003>.
        [Derivation](../flows/continuous.md#flow-matching).
    """
    x0 = check.tensor("x0", x0, dims="N D")
    check.shapes_match(("x0", "eps"), (x0, check.tensor("eps", eps, dims="N D")))
    check.tensor("t", t, dims="N", sizes={"N": x0.shape[0]})
    check.within("t", t, ge=0, le=1)
    tt = t.unsqueeze(-1)  # (N, 1)
    return (1 - tt) * x0 + tt * eps, eps - x0  # x_t and its velocity


# --8<-- [end:path]


# --8<-- [start:loss]
def flow_matching_loss(velocity: Velocity, x0: Tensor, eps: Tensor, t: Tensor) -> Tensor:
    r"""The flow-matching loss: mean squared error between the field and the straight path's velocity.

    $$ \mathcal{L}(\theta) = \frac1N \sum_{n=1}^{N} \bigl\lVert v_\theta(x_{t_n}, t_n) - (\varepsilon_n - x_{0,n}) \bigr\rVert^2 $$

    Args:
        velocity: $v_\theta(x, t)$, taking `(N, D)` and times of shape `(N,)`.
        x0: data, shape `(N, D)`.
        eps: noise, shape `(N, D)`.
        t: times, shape `(N,)`.

    Returns:
        A scalar tensor (with gradient if `velocity` has parameters).

    Examples:
        >>> x0, eps, t = torch.zeros(2, 1), torch.ones(2, 1), torch.tensor([0.2, 0.7])
        >>> float(flow_matching_loss(lambda x, tt: eps - x0, x0, eps, t))  # the true velocity
        0.0

    References:
        Flow Matching for Generative Modeling, Y. Lipman, R. T. Q. Chen, H. Ben-Hamu,
        M. Nickel, M. Le, 2023, <https://arxiv.org/abs/2210.02747>.
        [Derivation](../flows/continuous.md#flow-matching).
    """
    velocity = check.shape_preserving("velocity", velocity)  # v(x_t, t) must have x_t's shape
    xt, u = straight_path(x0, eps, t)
    return ((velocity(xt, t) - u) ** 2).sum(-1).mean()  # mean over the batch of |v - u|^2


# --8<-- [end:loss]


def sample_time(
    n: int,
    *,
    schedule: Literal["uniform", "logit-normal"] = "uniform",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Training times: uniform, or Stable Diffusion 3's logit-normal.

    $$ t \sim U(0, 1) \qquad \text{or} \qquad t = \frac{1}{1 + e^{-\xi}},\ \xi \sim \mathcal{N}(0, 1) $$

    The logit-normal puts more weight on the middle of the path, where the conditional mean
    is hardest to learn.

    Args:
        n: number of times.
        schedule: `"uniform"` or `"logit-normal"`.
        generator: source of the randomness.

    Returns:
        Times in $(0, 1)$, shape `(n,)`.

    Examples:
        >>> sample_time(3, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3])

    References:
        Scaling Rectified Flow Transformers for High-Resolution Image Synthesis, P. Esser et al.,
        2024, <https://arxiv.org/abs/2403.03206>. [Derivation](../flows/continuous.md#diffusion).
    """
    positive_int("n", n)
    check.choice("schedule", schedule, ("uniform", "logit-normal"))
    check.generator("generator", generator)
    if schedule == "uniform":
        return torch.rand(n, generator=generator)
    if schedule == "logit-normal":
        return torch.sigmoid(torch.randn(n, generator=generator))
    raise ValueError(f"schedule must be 'uniform' or 'logit-normal', got {schedule!r}")


def fit_flow_matching(
    velocity: nn.Module,
    x0: Tensor,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    noise: Tensor | None = None,
    schedule: Literal["uniform", "logit-normal"] = "uniform",
    generator: torch.Generator | None = None,
    threads: int | None = 1,
) -> Tensor:
    r"""Fit $v_\theta$ by flow matching with Adam; return the loss of every step.

    $$ \min_\theta\ \mathbb{E}_{x_0, \varepsilon, t} \bigl\lVert v_\theta(x_t, t) - (\varepsilon - x_0) \bigr\rVert^2 $$

    With `noise=None` every step pairs its minibatch with fresh $\varepsilon \sim \mathcal{N}(0, I)$
    (independent coupling). With `noise` given, row $n$ of `x0` stays paired with row $n$ of
    `noise`: that is rectified flow's *reflow*, trained on pairs produced by a previous flow.

    Args:
        velocity: the network $v_\theta(x, t)$, trained in place.
        x0: data, shape `(N, D)`.
        steps: number of steps.
        batch_size: minibatch size (with replacement).
        lr: Adam's learning rate.
        noise: optional paired noise, shape `(N, D)`.
        schedule: how to draw $t$ (see [`sample_time`][notes.flows.matching.sample_time]).
        generator: source of indices, times and noise.
        threads: CPU threads during the loop (None: leave torch's setting).

    Returns:
        Loss per step, shape `(steps,)`.

    Examples:
        >>> from notes.flows.continuous import VelocityField
        >>> g = torch.Generator().manual_seed(0)
        >>> v = VelocityField(1, (16,), generator=g)
        >>> losses = fit_flow_matching(v, torch.randn(256, 1, generator=g), steps=3, generator=g)
        >>> losses.shape
        torch.Size([3])

    References:
        Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow,
        X. Liu, C. Gong, Q. Liu, 2023, <https://arxiv.org/abs/2209.03003>. Flow Matching for
        Generative Modeling, Y. Lipman, R. T. Q. Chen, H. Ben-Hamu, M. Nickel, M. Le, 2023,
        <https://arxiv.org/abs/2210.02747>. [Derivation](../flows/continuous.md#flow-matching).
    """
    check.instance("velocity", velocity, nn.Module)
    check.tensor("x0", x0, dims="N D", min_sizes={"N": 1})
    for p in velocity.parameters():  # x0 in the dtype of the network
        check.same_dtype("x0", x0, p.dtype, "velocity")
        break
    if noise is not None:
        check.tensor("noise", noise, dims="N D", sizes={"D": x0.shape[1]})
        check.shapes_match(("x0", "noise"), (x0, noise))
    positive_int("steps", steps)
    positive_int("batch_size", batch_size)
    check.choice("schedule", schedule, ("uniform", "logit-normal"))
    check.generator("generator", generator)
    if threads is not None:
        positive_int("threads", threads)
    optimizer = make_optimizer(velocity, lr)
    n, d = x0.shape
    losses = torch.empty(steps)
    with num_threads(threads):
        for i in range(steps):
            index = torch.randint(n, (batch_size,), generator=generator)
            batch = x0[index]
            # independent coupling: fresh noise; reflow: the noise paired with each row
            eps = torch.randn(batch_size, d, generator=generator) if noise is None else noise[index]
            t = sample_time(batch_size, schedule=schedule, generator=generator)
            optimizer.zero_grad(set_to_none=True)
            loss = flow_matching_loss(velocity, batch, eps, t)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            losses[i] = loss.detach()
    return losses


def euler_sample(velocity: Velocity, eps: Tensor, steps: int) -> Tensor:
    r"""Generate data by integrating $dx/dt = v(x, t)$ from noise at $t = 1$ to $t = 0$ in `steps` Euler steps.

    $$ x_{t - h} = x_t - h\, v(x_t, t), \qquad h = 1/S $$

    Args:
        velocity: $v(x, t)$.
        eps: noise, shape `(N, D)`.
        steps: $S \ge 1$.

    Returns:
        Samples of shape `(N, D)`.

    Examples:
        >>> euler_sample(lambda x, t: x, torch.ones(1, 1), steps=1)  # one step: 1 - 1 * 1
        tensor([[0.]])

    References:
        Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow,
        X. Liu, C. Gong, Q. Liu, 2023, <https://arxiv.org/abs/2209.03003>.
        [Derivation](../flows/continuous.md#euler-steps).
    """
    check.function("velocity", velocity)
    check.tensor("eps", eps, dims="N D")  # named here, not as odeint's z
    positive_int("steps", steps)
    return odeint(velocity, eps, t0=1.0, t1=0.0, steps=steps, method="euler")[-1]


def straightness(velocity: Velocity, eps: Tensor, steps: int = 64) -> Tensor:
    r"""Per-sample straightness of the ODE path from $\varepsilon$: how far it is from its chord.

    $$ \mathcal{S} = \int_0^1 \bigl\lVert (z_1 - z_0) - v(z_t, t) \bigr\rVert^2\, dt $$

    Zero exactly when every path is a straight line run at constant speed, which one Euler
    step then integrates without error. Estimated on the Euler path with `steps` steps.

    Args:
        velocity: $v(x, t)$.
        eps: starting noise at $t = 1$, shape `(N, D)`.
        steps: Euler steps of the path.

    Returns:
        Shape `(N,)`.

    Examples:
        >>> straightness(lambda x, t: torch.ones_like(x), torch.zeros(3, 2))  # a constant field
        tensor([0., 0., 0.])

    References:
        Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow,
        X. Liu, C. Gong, Q. Liu, 2023, <https://arxiv.org/abs/2209.03003>.
        [Derivation](../flows/continuous.md#straight-paths).
    """
    velocity = check.shape_preserving("velocity", velocity)
    check.tensor("eps", eps, dims="N D")
    positive_int("steps", steps)
    path = odeint(velocity, eps, t0=1.0, t1=0.0, steps=steps, method="euler")  # (S+1, N, D)
    chord = path[0] - path[-1]  # z_1 - z_0: noise end minus data end
    h = 1.0 / steps
    total = torch.zeros(eps.shape[0], dtype=eps.dtype)
    with torch.no_grad():
        for k in range(steps):
            t = torch.tensor(1.0 - k * h, dtype=eps.dtype)
            total = total + h * ((chord - velocity(path[k], t)) ** 2).sum(-1)
    return total


def gaussian_velocity(mean: float, std: float) -> Velocity:
    r"""The exact flow-matching field when data is $\mathcal{N}(m, s^2 I)$: $\mathbb{E}[\varepsilon - x_0 \mid x_t]$.

    With $\operatorname{Var} x_t = (1 - t)^2 s^2 + t^2 =: \sigma_t^2$ and $\mathbb{E}\, x_t = (1 - t) m$,

    $$ v(x, t) = \frac{t - (1 - t) s^2}{\sigma_t^2}\, \bigl(x - (1 - t) m\bigr) - m $$

    Args:
        mean: the data mean $m$.
        std: the data standard deviation $s > 0$.

    Returns:
        A callable $v(x, t)$ for `x` of shape `(N, D)` and `t` a scalar or of shape `(N,)`.

    Examples:
        >>> v = gaussian_velocity(2.0, 1.0)
        >>> v(torch.tensor([[3.0]]), torch.tensor(1.0))  # at t = 1: x - m
        tensor([[1.]])

    References:
        Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow,
        X. Liu, C. Gong, Q. Liu, 2023, <https://arxiv.org/abs/2209.03003>.
        [Derivation](../flows/continuous.md#flow-matching).
    """
    mean, std = check.real("mean", mean), check.positive_float("std", std)

    def v(x: Tensor, t: Tensor) -> Tensor:
        t = t.unsqueeze(-1) if t.dim() == 1 else t  # per-sample times (N,) -> (N, 1)
        var_t = (1 - t) ** 2 * std**2 + t**2
        return (t - (1 - t) * std**2) / var_t * (x - (1 - t) * mean) - mean

    return v


def energy_distance(x: Tensor, y: Tensor) -> Tensor:
    r"""The energy distance between two samples (unbiased U-statistics), zero in expectation iff $P = Q$.

    $$ \mathcal{E}(P, Q) = 2\,\mathbb{E}\lVert X - Y \rVert - \mathbb{E}\lVert X - X' \rVert
    - \mathbb{E}\lVert Y - Y' \rVert $$

    Args:
        x: shape `(N, D)`, $N \ge 2$.
        y: shape `(M, D)`, $M \ge 2$.

    Returns:
        A scalar tensor (float64).

    Examples:
        >>> x = torch.tensor([[0.0], [1.0]])
        >>> float(energy_distance(x, x + 10))  # 2 * 10 - 1 - 1
        18.0

    References:
        Energy statistics: A class of statistics based on distances, G. J. Székely,
        M. L. Rizzo, 2013, <https://doi.org/10.1016/j.jspi.2013.03.018>.
        [Use on the page](../flows/continuous.md#euler-steps).
    """
    x, y = check.tensor("x", x, dims="N D"), check.tensor("y", y, dims="M D")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have one dimension D, got {x.shape[1]} and {y.shape[1]}")
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError(f"x and y must have >= 2 rows each, got {x.shape[0]} and {y.shape[0]}")
    x, y = x.double(), y.double()
    n, m = x.shape[0], y.shape[0]
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).sum() / (n * (n - 1))  # the diagonal is zero: U-statistic
    yy = torch.cdist(y, y).sum() / (m * (m - 1))
    return 2 * xy - xx - yy
