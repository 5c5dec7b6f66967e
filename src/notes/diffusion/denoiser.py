r"""A small noise-prediction network and its deterministic CPU training loop (eps or v targets).

The network $\hat\varepsilon_\theta(x_t, t)$ is an MLP on $x_t$ and sinusoidal features of
$t / T$. Training minimises DDPM's simplified loss
$\mathbb{E}\lVert \varepsilon - \hat\varepsilon_\theta(x_t, t)\rVert^2$, or the same regression
on $v = \sqrt{\bar\alpha}\,\varepsilon - \sqrt{1 - \bar\alpha}\,x_0$; either way the sampler
receives $\hat\varepsilon$.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from notes._validate import (
    agree,
    choice,
    instance,
    integer,
    integer_tensor,
    positive_int,
    real,
    tensor,
)
from notes._validate import generator as check_generator

__all__ = ["Denoiser", "fit_denoiser"]

TARGETS = ("eps", "v")


@contextmanager
def _threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --8<-- [start:denoiser]
class Denoiser(nn.Module):
    r"""An MLP $\hat y_\theta(x_t, t)$ predicting $\varepsilon$ or $v$ for $D$-dimensional data.

    Args:
        dim: data dimension $D$.
        T: number of training timesteps (times enter as $t / T$).
        target: ``"eps"`` or ``"v"``: what the network predicts.
        abar: the schedule $\bar\alpha$, shape `(T,)`, for converting $v$ to $\varepsilon$.
        hidden: width of the two hidden layers.
        generator: source of the initial weights (no global seed).

    Examples:
        >>> from notes.diffusion import alpha_bar, linear_betas
        >>> net = Denoiser(2, 100, "eps", alpha_bar(linear_betas(100)),
        ...                generator=torch.Generator().manual_seed(0))
        >>> net.eps(torch.zeros(5, 2), 10).shape
        torch.Size([5, 2])
    """

    abar: Tensor

    def __init__(
        self,
        dim: int,
        T: int,
        target: str,
        abar: Tensor,
        hidden: int = 64,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.dim, self.T = positive_int("dim", dim), positive_int("T", T)
        self.target = choice("target", target, TARGETS)
        self.register_buffer("abar", tensor("abar", abar, dims="T", sizes={"T": T}).float())
        hidden = positive_int("hidden", hidden)
        check_generator("generator", generator)
        self.freqs = 8  # sin/cos features of t/T at 8 frequencies
        self.l1 = nn.Linear(dim + 2 * self.freqs, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.l3 = nn.Linear(hidden, dim)
        with torch.no_grad():
            for layer in (self.l1, self.l2, self.l3):
                # PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from our own generator
                bound = 1 / math.sqrt(layer.in_features)
                for p in (layer.weight, layer.bias):
                    p.copy_((torch.rand(tuple(p.shape), generator=generator) * 2 - 1) * bound)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """The raw prediction ($\\varepsilon$ or $v$), `x` shape `(B, D)`, `t` int64 shape `(B,)`."""
        tensor("x", x, dims="B D", sizes={"D": self.dim})
        agree(("x", "t"), (x.shape[0], integer_tensor("t", t, dims="B").shape[0]), "the batch B")
        k = torch.arange(self.freqs, dtype=x.dtype)
        angle = (t.to(x.dtype) / self.T)[:, None] * math.pi * 2.0**k  # (B, F)
        h = torch.cat([x, angle.sin(), angle.cos()], -1)  # (B, D + 2F)
        h = nn.functional.silu(self.l2(nn.functional.silu(self.l1(h))))
        out: Tensor = self.l3(h)
        return out

    def eps(self, x: Tensor, t: int) -> Tensor:
        r"""$\hat\varepsilon(x, t)$ for a sampler, without gradients; $v$ is converted exactly."""
        tensor("x", x, dims="B D", sizes={"D": self.dim})
        integer("t", t, minimum=0, maximum=self.T - 1)
        with torch.no_grad():
            xf = x.float()
            out = self.forward(xf, torch.full((x.shape[0],), t, dtype=torch.long))
            if self.target == "v":
                a = self.abar[t]
                out = (1 - a).sqrt() * xf + a.sqrt() * out  # eps = sqrt(1-a) x_t + sqrt(a) v
        return out.to(x.dtype)


# --8<-- [end:denoiser]


# --8<-- [start:fit]
def fit_denoiser(
    net: Denoiser,
    x0: Tensor,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 3e-3,
    schedule: str = "constant",
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Train `net` with Adam on the simplified loss, on one CPU thread; return the loss per step.

    $$ L = \mathbb{E}_{t, x_0, \varepsilon}\,\lVert y - \hat y_\theta(x_t, t)\rVert^2, \quad
       y = \varepsilon \text{ or } v, \quad t \sim U\{0, \dots, T - 1\} $$

    With `schedule="cosine"` the learning rate of step $i$ of $K$ is
    $\eta_i = \tfrac{\eta}{2}(1 + \cos(\pi i / K))$, from $\eta$ down towards 0.

    Args:
        net: the [`Denoiser`][notes.diffusion.denoiser.Denoiser], trained in place.
        x0: data, shape `(N, D)`.
        steps: number of Adam steps, >= 1.
        batch_size: minibatch size, >= 1 (rows drawn with replacement).
        lr: learning rate, > 0 (the peak one under `"cosine"`).
        schedule: `"constant"` or `"cosine"` (decay to 0 over `steps`).
        generator: source of rows, times and noise.

    Returns:
        Shape `(steps,)`.

    Examples:
        >>> from notes.diffusion import alpha_bar, linear_betas
        >>> g = torch.Generator().manual_seed(0)
        >>> net = Denoiser(2, 100, "v", alpha_bar(linear_betas(100)), generator=g)
        >>> fit_denoiser(net, torch.randn(64, 2, generator=g), steps=2, generator=g).shape
        torch.Size([2])

    References:
        Denoising Diffusion Probabilistic Models, J. Ho, A. Jain, P. Abbeel, 2020,
        <https://arxiv.org/abs/2006.11239>. [Page](../diffusion/training.md#training).
    """
    instance("net", net, Denoiser)
    x0 = tensor("x0", x0, dims="N D", sizes={"D": net.dim}, min_numel=1).float()
    steps = positive_int("steps", steps)
    batch_size = positive_int("batch_size", batch_size)
    lr = real("lr", lr, gt=0)
    schedule = choice("schedule", schedule, ("constant", "cosine"))
    check_generator("generator", generator)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, fused=True)  # one kernel per step
    losses = torch.empty(steps)
    abar = net.abar
    with _threads(1):
        for i in range(steps):
            if schedule == "cosine":
                optimizer.param_groups[0]["lr"] = 0.5 * lr * (1 + math.cos(math.pi * i / steps))
            rows = torch.randint(x0.shape[0], (batch_size,), generator=generator)
            t = torch.randint(net.T, (batch_size,), generator=generator)
            eps = torch.randn(batch_size, net.dim, generator=generator)  # eps ~ N(0, I)
            a = abar[t][:, None]  # (B, 1)
            xt = a.sqrt() * x0[rows] + (1 - a).sqrt() * eps
            y = eps if net.target == "eps" else a.sqrt() * eps - (1 - a).sqrt() * x0[rows]
            loss = ((net.forward(xt, t) - y) ** 2).sum(-1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            losses[i] = loss.detach()
    return losses


# --8<-- [end:fit]
