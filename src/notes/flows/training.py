r"""Maximum-likelihood training of a flow: short, seeded, deterministic loops on the CPU.

The loss is the mean negative log-likelihood of a minibatch,

$$ \mathcal{L}(\theta) = -\frac{1}{B} \sum_{b=1}^{B} \log p_\theta(x_b) $$

minimised with Adam. One step does no more work than it must: the model and the optimizer are
built once, the minibatch is an index into the data, and PyTorch's fused Adam updates every
parameter in one kernel. For the tiny 2-D models on these pages one CPU thread is faster than
two (thread hand-off costs more than the small matrix products gain), and it leaves the
second core to other work; [`num_threads`][notes.flows.training.num_threads] sets it for the
duration of a loop and restores it afterwards. For the same reason several small flows train
faster side by side than one after another:
[`fit_together`][notes.flows.training.fit_together] stacks them.

See the [derivation](../flows/training.md#maximum-likelihood).
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

from notes import _validate as check
from notes._validate import choice, positive_int
from notes.flows.data import _dequantize
from notes.flows.distributions import Flow
from notes.flows.transforms import _trust_inputs

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["fit", "fit_together", "make_optimizer", "num_threads", "training_step"]


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
    optimizer = make_optimizer(flow, lr)
    losses = torch.empty(steps)
    flow.train()
    with num_threads(threads), _trust_inputs():
        for i in range(steps):
            _schedule(optimizer, lr, i, steps, schedule)
            batch = _minibatch(x, batch_size, generator)
            if levels is not None:
                batch = _dequantize(batch, levels, generator)  # fresh u ~ U(0, 1)^D
            losses[i] = _step(flow, optimizer, batch)
    flow.eval()
    _check_finite(losses, lr)
    return losses


def _schedule(optimizer: torch.optim.Optimizer, lr: float, i: int, steps: int, kind: str) -> None:
    if kind == "cosine":  # eta_i = eta (1 + cos(pi i / S)) / 2
        optimizer.param_groups[0]["lr"] = 0.5 * lr * (1 + math.cos(math.pi * i / steps))


def _minibatch(x: Tensor, batch_size: int, generator: torch.Generator | None) -> Tensor:
    # B rows drawn with replacement, or the whole set when B >= N
    n = x.shape[0]
    if batch_size >= n:
        return x
    return x[torch.randint(n, (batch_size,), generator=generator)]


def _check_finite(losses: Tensor, lr: float) -> None:
    finite = torch.isfinite(losses)
    if not bool(finite.all()):
        step = int((~finite).reshape(-1, finite.shape[-1]).any(0).nonzero()[0])  # earliest
        raise ValueError(
            f"the loss is not finite from step {step} of {losses.shape[-1]} (lr={lr}): training"
            " diverged; lower lr"
        )


# Layers the stacked path runs with their own code: every parameter outside a coupling's
# network is a vector of shape (D,) used elementwise (stacked as (M, 1, D)), and a coupling's
# network is an `mlp` (stacked as batched matrix products).
_STACKABLE = ("ActNorm", "AdditiveCoupling", "AffineCoupling", "Permutation", "Reverse", "Scaling")


class _StackedMLP(torch.nn.Module):
    # M copies of one `mlp` as batched products: h (M, B, n_in) -> (M, B, n_out)
    def __init__(self, nets: list[Any]) -> None:
        super().__init__()
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        self.activations: list[torch.nn.Module | None] = []
        for i, module in enumerate(nets[0]):
            if isinstance(module, torch.nn.Linear):
                layers = [net[i] for net in nets]
                w = torch.stack([layer.weight.detach().T for layer in layers])  # (M, in, out)
                b = torch.stack([layer.bias.detach() for layer in layers]).unsqueeze(1)
                self.weights.append(torch.nn.Parameter(w.contiguous()))
                self.biases.append(torch.nn.Parameter(b))
                self.activations.append(None)
            elif not any(True for _ in module.parameters()):
                self.activations[-1] = module  # an elementwise nonlinearity after the product
            else:
                raise TypeError(f"a coupling network must hold Linear layers, got {module}")

    def forward(self, h: Tensor) -> Tensor:
        for w, b, act in zip(self.weights, self.biases, self.activations, strict=True):
            h = torch.baddbmm(b, h, w)  # b + h W, one product per copy
            if act is not None:
                h = act(h)
        return h

    def unstack(self, nets: list[Any]) -> None:
        with torch.no_grad():
            for m, net in enumerate(nets):
                linears = [module for module in net if isinstance(module, torch.nn.Linear)]
                for layer, w, b in zip(linears, self.weights, self.biases, strict=True):
                    layer.weight.copy_(w[m].T)
                    layer.bias.copy_(b[m, 0])


def _stack(flows: list[Flow]) -> tuple[Flow, list[tuple[torch.nn.Module, str, list[Any]]]]:
    # One Flow object whose parameters hold the M flows side by side, run by the layers' own
    # forward code on inputs of shape (M, B, D); and the map back to each flow's parameters.
    reference = flows[0]
    layer_sets = [list(flow.chain.layers) for flow in flows]
    for m, layers in enumerate(layer_sets):
        if len(layers) != len(layer_sets[0]):
            raise ValueError(
                f"flows[{m}] must have the architecture of flows[0]: it has {len(layers)} "
                f"layers, not {len(layer_sets[0])}"
            )
    stacked = copy.deepcopy(reference)
    owners: list[tuple[torch.nn.Module, str, list[Any]]] = []
    for k, layer in enumerate(stacked.chain.layers):
        name = type(layer).__name__
        if name not in _STACKABLE:
            raise TypeError(
                f"flows[0] has a layer of type {name}, which fit_together cannot stack; "
                f"it stacks {', '.join(_STACKABLE)}"
            )
        copies = [layers[k] for layers in layer_sets]
        for m, other in enumerate(copies):
            if type(other) is not type(layer):
                raise ValueError(
                    f"flows[{m}] must have the architecture of flows[0]: its layer {k} is a "
                    f"{type(other).__name__}, not a {name}"
                )
            for (key, a), (_, b) in zip(layer.named_buffers(), other.named_buffers(), strict=True):
                if not torch.equal(a, b):
                    raise ValueError(f"flows[{m}] must share flows[0]'s {key} in layer {k}")
        if hasattr(layer, "net"):
            nets: list[Any] = [other.net for other in copies]
            shapes = [[p.shape for p in net.parameters()] for net in nets]
            if any(s != shapes[0] for s in shapes):
                raise ValueError(f"flows must have networks of one shape in layer {k}")
            layer.net = _StackedMLP(nets)
            owners.append((layer.net, "net", nets))
        for key, _ in list(layer.named_parameters(recurse=False)):
            values = [dict(other.named_parameters(recurse=False))[key] for other in copies]
            stacked_value = torch.stack([v.detach() for v in values]).unsqueeze(1)  # (M, 1, D)
            setattr(layer, key, torch.nn.Parameter(stacked_value))
            owners.append((layer, key, values))
    return stacked, owners


def _unstack(owners: list[tuple[torch.nn.Module, str, list[Any]]]) -> None:
    with torch.no_grad():
        for module, key, targets in owners:
            if isinstance(module, _StackedMLP):
                module.unstack(targets)
                continue
            value = getattr(module, key)
            for m, target in enumerate(targets):
                target.copy_(value[m, 0])


def fit_together(
    flows: object,
    xs: object,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    schedule: Literal["constant", "cosine"] = "constant",
    generators: Sequence[torch.Generator | None] | None = None,
    threads: int | None = 1,
) -> Tensor:
    r"""Train $M$ flows of one architecture side by side, each on its own data; return their losses.

    $$ \min_{\theta_1, \dots, \theta_M}\ \sum_{m=1}^{M} \Bigl(-\frac{1}{B} \sum_{b=1}^{B} \log p_{\theta_m}(x_{m,b})\Bigr) $$

    Each flow's term depends on its own parameters only, so the gradient of the sum with
    respect to $\theta_m$ is the gradient of flow $m$'s own loss, and Adam, which works
    element by element, moves each flow as [`fit`][notes.flows.training.fit] would. What
    changes is the arithmetic: the $M$ flows' parameters are stacked, every layer runs once on
    a batch of shape `(M, B, D)`, and a coupling's network runs as $M$ batched matrix products
    (`torch.baddbmm`). For small models most of a step is the fixed cost of each operation, so
    $M$ flows train in much less than $M$ times the time of one. Results equal `fit`'s up to
    floating-point rounding (the batched products round differently), not bit for bit.

    Each flow draws its minibatches from its own generator, exactly as `fit` does, and its
    ActNorm layers (if any) are initialised on its own first minibatch. Stacked are the layers
    ActNorm, AdditiveCoupling, AffineCoupling, Permutation, Reverse and Scaling.

    Args:
        flows: $M \ge 1$ flows with the same layers, shapes and masks, trained in place.
        xs: $M$ training sets, each of shape `(N_m, D)` in the flows' dtype.
        steps: number of steps, >= 1.
        batch_size: minibatch size $B \ge 1$ (the whole set for a flow with $N_m \le B$).
        lr: Adam's learning rate, the same for every flow.
        schedule: `"constant"` or `"cosine"` learning rate, as in `fit`.
        generators: one source of minibatch indices per flow (None: torch's global one).
        threads: CPU threads during the loop (None: leave torch's setting).

    Returns:
        The loss of each flow at each step, shape `(M, steps)`.

    Examples:
        >>> from notes.flows import AffineCoupling, Flow, Reverse
        >>> g = torch.Generator().manual_seed(0)
        >>> def flow():
        ...     return Flow([AffineCoupling(2, generator=g), Reverse(2), AffineCoupling(2, generator=g)])
        >>> flows, xs = [flow(), flow()], [3 + 0.5 * torch.randn(512, 2, generator=g), torch.randn(512, 2, generator=g)]
        >>> losses = fit_together(flows, xs, steps=300, lr=1e-2, generators=[g, g])
        >>> losses.shape
        torch.Size([2, 300])
        >>> bool(losses[0, -20:].mean() < losses[0, :20].mean() - 2)
        True

    References:
        [Training page](../flows/training.md#toy-densities).
    """
    if not isinstance(flows, list | tuple) or not flows:
        raise TypeError(f"flows must be a non-empty list of Flows, got {flows!r:.60}")
    for m, flow in enumerate(flows):
        check.instance(f"flows[{m}]", flow, Flow)
    flows = list(flows)
    if not isinstance(xs, list | tuple) or len(xs) != len(flows):
        raise TypeError(f"xs must be a list of {len(flows)} tensors, one per flow, got {xs!r:.60}")
    for m, (flow, x) in enumerate(zip(flows, xs, strict=True)):
        if flow.base != flows[0].base:
            raise ValueError(f"flows[{m}] has base {flow.base!r}, flows[0] {flows[0].base!r}")
        check.tensor(f"xs[{m}]", x, dims="N D", sizes={"D": flow.dim}, min_sizes={"N": 1})
        _check_dtype(f"xs[{m}]", x, flow)
    positive_int("steps", steps)
    positive_int("batch_size", batch_size)
    lr = check.real("lr", lr, gt=0)
    choice("schedule", schedule, ("constant", "cosine"))
    if generators is None:
        generators = [None] * len(flows)
    if not isinstance(generators, list | tuple) or len(generators) != len(flows):
        raise TypeError(f"generators must be a list of {len(flows)}, one per flow, or None")
    for m, g in enumerate(generators):
        check.generator(f"generators[{m}]", g)
    if threads is not None:
        positive_int("threads", threads)
    losses = torch.empty(len(flows), steps)
    with num_threads(threads), _trust_inputs():
        first = [_minibatch(x, batch_size, g) for x, g in zip(xs, generators, strict=True)]
        with torch.no_grad():
            for flow, batch in zip(flows, first, strict=True):
                flow.log_prob(batch)  # ActNorm's data-dependent start, on the flow's own batch
        stacked, owners = _stack(flows)
        optimizer = make_optimizer(stacked, lr)
        stacked.train()
        for i in range(steps):
            _schedule(optimizer, lr, i, steps, schedule)
            batches = (
                first
                if i == 0
                else [_minibatch(x, batch_size, g) for x, g in zip(xs, generators, strict=True)]
            )
            optimizer.zero_grad(set_to_none=True)
            per_flow = -stacked.log_prob(torch.stack(batches)).mean(-1)  # (M,)
            per_flow.sum().backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            losses[:, i] = per_flow.detach()
    _unstack(owners)
    for flow in flows:
        flow.eval()
    _check_finite(losses, lr)
    return losses
