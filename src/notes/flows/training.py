r"""Maximum-likelihood training of a flow: short, seeded, deterministic loops on the CPU.

The loss is the mean negative log-likelihood of a minibatch,

$$ \mathcal{L}(\theta) = -\frac{1}{B} \sum_{b=1}^{B} \log p_\theta(x_b) $$

minimised with Adam. One step does no more work than it must: the model and the optimizer are
built once, the minibatch is an index into the data, and PyTorch's fused Adam updates every
parameter in one kernel. For the tiny 2-D models on these pages one CPU thread is faster than
two (thread hand-off costs more than the small matrix products gain), and it leaves the
second core to other work; [`num_threads`][notes.flows.training.num_threads] sets it for the
duration of a loop and restores it afterwards.

See the [derivation](../flows/training.md#maximum-likelihood).
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor

from notes import _validate as check
from notes._validate import choice, positive_int
from notes.flows.data import _dequantize
from notes.flows.distributions import Flow

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["fit", "make_optimizer", "num_threads", "training_step"]


@contextlib.contextmanager
def num_threads(n: object) -> Iterator[None]:
    r"""Run the block with `torch.set_num_threads(n)`, then restore the previous count.

    $$ \text{threads} \leftarrow n \ \text{ inside the block}, \qquad \text{restored afterwards} $$

    Args:
        n: threads for the block, >= 1; None leaves the setting alone.

    Yields:
        Nothing; the setting holds inside the `with` block.

    Examples:
        >>> before = torch.get_num_threads()
        >>> with num_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True

    References:
        [Training page](../flows/training.md#maximum-likelihood): for these small models a
        second thread saves little, and is much slower when the other core is busy.
    """
    if n is None:
        yield
        return
    count = positive_int("n", n)
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def make_optimizer(model: torch.nn.Module, lr: float = 1e-3) -> torch.optim.Adam:
    r"""Adam over the model's trainable parameters, fused into one kernel per step (CPU supports it).

    $$ \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon} $$

    Args:
        model: the module whose parameters to train.
        lr: the learning rate $\eta > 0$.

    Returns:
        A `torch.optim.Adam` with `fused=True`.

    Examples:
        >>> from notes.flows.transforms import Scaling
        >>> make_optimizer(Scaling(2), lr=0.01).defaults["fused"]
        True

    References:
        Adam: A Method for Stochastic Optimization, D. P. Kingma, J. Ba, 2015,
        <https://arxiv.org/abs/1412.6980>. [Training page](../flows/training.md#maximum-likelihood).
    """
    check.instance("model", model, torch.nn.Module)
    lr = check.real("lr", lr, gt=0)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    return torch.optim.Adam(params, lr=lr, fused=True)


# --8<-- [start:step]
def training_step(flow: Flow, optimizer: torch.optim.Optimizer, batch: Tensor) -> Tensor:
    r"""One step of maximum likelihood: returns the batch's mean negative log-likelihood (nats).

    $$ \mathcal{L} = -\frac{1}{B} \sum_{b=1}^{B} \log p_\theta(x_b), \qquad \theta \leftarrow \text{Adam}(\theta, \nabla_\theta \mathcal{L}) $$

    Args:
        flow: the model.
        optimizer: built once for the model, e.g. by `make_optimizer`.
        batch: data of shape `(B, D)` with $B \ge 1$, in the flow's dtype.

    Returns:
        The loss before the update, a detached scalar tensor.

    Examples:
        >>> from notes.flows import AffineCoupling, Flow
        >>> flow = Flow([AffineCoupling(2, generator=torch.Generator().manual_seed(0))])
        >>> loss = training_step(flow, make_optimizer(flow), torch.zeros(4, 2))
        >>> round(float(loss), 4)  # -log N(0; 0, I) in 2-D: log(2 pi)
        1.8379

    References:
        [Training page](../flows/training.md#maximum-likelihood).
    """
    check.instance("flow", flow, Flow)
    check.instance("optimizer", optimizer, torch.optim.Optimizer)
    # the mean of no rows is NaN; D and the dtype are the flow's
    check.tensor("batch", batch, dims="B D", sizes={"D": flow.dim}, min_sizes={"B": 1})
    _check_dtype("batch", batch, flow)
    return _step(flow, optimizer, batch)


def _step(flow: Flow, optimizer: torch.optim.Optimizer, batch: Tensor) -> Tensor:
    # The step itself, on arguments already checked (by `training_step`, or once by `fit`).
    optimizer.zero_grad(set_to_none=True)
    loss = -flow.log_prob(batch).mean()  # L = -(1/B) sum_b log p(x_b)
    loss.backward()  # type: ignore[no-untyped-call]
    optimizer.step()
    return loss.detach()


# --8<-- [end:step]


def _check_dtype(name: str, x: Tensor, flow: Flow) -> None:
    for p in flow.parameters():  # the first parameter gives the flow's dtype
        check.same_dtype(name, x, p.dtype, "the flow")
        break


def fit(
    flow: object,
    x: Tensor,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    levels: int | None = None,
    schedule: Literal["constant", "cosine"] = "constant",
    generator: torch.Generator | None = None,
    threads: int | None = 1,
) -> Tensor:
    r"""Train `flow` by maximum likelihood on `x` with Adam; return the loss of every step.

    $$ \min_\theta\ -\frac{1}{B} \sum_{b=1}^{B} \log p_\theta(x_b) \quad \text{over minibatches } \{x_b\} $$

    Minibatches are drawn with replacement by `torch.randint` from `generator`; when
    `batch_size >= N` every step uses the full data set. With `levels` set, `x` holds
    integers in $\{0, \dots, Q - 1\}$ and every minibatch is dequantised afresh by
    [`dequantize`][notes.flows.data.dequantize], so the model never sees the same noise twice.
    With `schedule="cosine"` the learning rate decays from `lr` to 0 along a half cosine,
    $\eta_i = \tfrac12 \eta\,(1 + \cos(\pi i / S))$ (SGDR without restarts), so the last
    steps average out the minibatch noise instead of jumping around the optimum.

    The arguments are checked once, here, not again at every step.

    Args:
        flow: the model, trained in place.
        x: training data, shape `(N, D)` with $N \ge 1$, in the flow's dtype.
        steps: number of steps, >= 1.
        batch_size: minibatch size $B \\ge 1$.
        lr: Adam's learning rate.
        levels: $Q$, to dequantise integer data at every step (None: use `x` as it is).
        schedule: `"constant"` or `"cosine"` learning rate.
        generator: source of the minibatch indices (and of the dequantisation noise).
        threads: CPU threads during the loop (None: leave torch's setting).

    Returns:
        The loss (mean negative log-likelihood in nats) at each step, shape `(steps,)`.

    Examples:
        >>> from notes.flows import AffineCoupling, Flow, Reverse
        >>> g = torch.Generator().manual_seed(0)
        >>> x = 3 + 0.5 * torch.randn(512, 2, generator=g)  # N((3, 3), 0.25 I)
        >>> flow = Flow([AffineCoupling(2, generator=g), Reverse(2), AffineCoupling(2, generator=g)])
        >>> losses = fit(flow, x, steps=300, lr=1e-2, generator=g)
        >>> bool(losses[-20:].mean() < losses[:20].mean() - 2)
        True

    References:
        Adam: A Method for Stochastic Optimization, D. P. Kingma, J. Ba, 2015,
        <https://arxiv.org/abs/1412.6980>. SGDR: Stochastic Gradient Descent with Warm
        Restarts, I. Loshchilov, F. Hutter, 2017, <https://arxiv.org/abs/1608.03983>.
        [Derivation](../flows/training.md#maximum-likelihood).
    """
    flow = check.instance("flow", flow, Flow)
    check.tensor("x", x, dims="N D", sizes={"D": flow.dim}, min_sizes={"N": 1})
    _check_dtype("x", x, flow)
    positive_int("steps", steps)
    positive_int("batch_size", batch_size)
    if levels is not None:
        positive_int("levels", levels, 2)
        check.whole_numbers("x", x, minimum=0, maximum=levels - 1)  # once, not at every step
    if threads is not None:
        positive_int("threads", threads)
    check.generator("generator", generator)
    choice("schedule", schedule, ("constant", "cosine"))
    n = x.shape[0]
    optimizer = make_optimizer(flow, lr)
    losses = torch.empty(steps)
    flow.train()
    with num_threads(threads):
        for i in range(steps):
            if schedule == "cosine":  # eta_i = eta (1 + cos(pi i / S)) / 2
                optimizer.param_groups[0]["lr"] = 0.5 * lr * (1 + math.cos(math.pi * i / steps))
            if batch_size >= n:
                batch = x
            else:
                batch = x[torch.randint(n, (batch_size,), generator=generator)]
            if levels is not None:
                batch = _dequantize(batch, levels, generator)  # fresh u ~ U(0, 1)^D
            losses[i] = _step(flow, optimizer, batch)
    flow.eval()
    return losses
