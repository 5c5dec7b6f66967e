r"""Gradient descent and its batch, mini-batch and stochastic forms on a finite data set."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from notes import _validate as check
from notes._validate import positive_int
from notes.stochastic_approximation._mean import _step_list


def _start(w1: object) -> Tensor:
    # a finite start point of shape (*, d), d >= 1
    return check.tensor("w1", w1, dims="* d", min_sizes={"d": 1})


def _data_set(data: object) -> Tensor:
    # a finite data set of shape (n, p), n >= 1
    return check.tensor("data", data, dims="n p", min_sizes={"n": 1})


#: A mini-batch gradient: ``grad(w, batch)`` with ``w`` (*, d) and ``batch`` (*, m, p) returns
#: $\frac{1}{m}\sum_{j} \nabla_w f(w, x_j)$, shape (*, d).
Gradient = Callable[[Tensor, Tensor], Tensor]


def gradient_descent(grad: Callable[[Tensor], Tensor], w1: Tensor, steps: Tensor) -> Tensor:
    r"""Deterministic gradient descent on $J$ (page eq. 10).

    $$ w_{k+1} = w_k - a_k \nabla J(w_k) $$

    Args:
        grad: $w \mapsto \nabla J(w)$, shape (*, d) to (*, d).
        w1: the start, shape (*, d).
        steps: $a_1, \dots, a_K$, shape (K,), each > 0.

    Returns:
        The iterates $w_1, \dots, w_{K+1}$, shape (K + 1, *, d).

    Examples:
        >>> from notes.stochastic_approximation import constant_steps, gradient_descent
        >>> w = gradient_descent(lambda w: w - 3.0, torch.zeros(1), constant_steps(3, 0.5))
        >>> w.squeeze(-1)  # J = (w - 3)^2 / 2: the error halves every step
        tensor([0.0000, 1.5000, 2.2500, 2.6250])

    References:
        [derivation](../stochastic-approximation.md#sgd)
    """
    grad, w1, a = check.function("grad", grad), _start(w1), _step_list(steps)
    w = w1.clone()
    trajectory = [w]
    for a_k in a:
        w = w - a_k * check.returned("grad", grad(w), w.shape)  # w - a_k grad J(w_k)
        trajectory.append(w)
    return torch.stack(trajectory)  # (K + 1, *, d)


def sample_batches(
    n: int,
    num_steps: int,
    batch_size: int,
    *,
    runs: tuple[int, ...] = (),
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Indices of $K$ mini-batches, each of $m$ draws made uniformly with replacement.

    This is the one random draw of [`mbgd`][notes.stochastic_approximation.mbgd] and
    [`sgd`][notes.stochastic_approximation.sgd]: a generator seeded alike gives the same batches.

    Args:
        n: the data set size, $\ge 1$.
        num_steps: $K \ge 1$.
        batch_size: $m \ge 1$ (it may exceed $n$: the draws are with replacement).
        runs: the shape (*) of independent runs.
        generator: the source of randomness.

    Returns:
        Indices in $\{0, \dots, n - 1\}$, shape (K, *runs, m).

    Examples:
        >>> sample_batches(10, 3, 2, runs=(5,), generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3, 5, 2])

    References:
        [derivation](../stochastic-approximation.md#finite-data)
    """
    for name, value in (("n", n), ("num_steps", num_steps), ("batch_size", batch_size)):
        positive_int(name, value)
    runs, generator = check.shape("runs", runs), check.generator("generator", generator)
    return torch.randint(n, (num_steps, *runs, batch_size), generator=generator)


# --8<-- [start:mbgd]
def mbgd(
    grad: Gradient,
    data: Tensor,
    w1: Tensor,
    steps: Tensor,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Mini-batch gradient descent on $J(w) = \frac{1}{n}\sum_{i=1}^n f(w, x_i)$ (page eq. 16).

    $$ w_{k+1} = w_k - \frac{a_k}{m} \sum_{j \in I_k} \nabla_w f(w_k, x_j) $$

    $I_k$ holds $m$ indices drawn uniformly with replacement by
    [`sample_batches`][notes.stochastic_approximation.sample_batches].

    Args:
        grad: ``grad(w, batch)`` $= \frac{1}{m}\sum_j \nabla_w f(w, x_j)$ for w (*, d) and a
            batch (*, m, p), returning (*, d).
        data: the data set $x_1, \dots, x_n$, shape (n, p).
        w1: the start, shape (*, d); the rows of * are independent runs.
        steps: $a_1, \dots, a_K$, shape (K,), each > 0.
        batch_size: $m \ge 1$.
        generator: the source of the batch indices.

    Returns:
        The iterates $w_1, \dots, w_{K+1}$, shape (K + 1, *, d).

    Examples:
        >>> from notes.stochastic_approximation import harmonic_steps, mbgd
        >>> data = torch.tensor([[0.0], [2.0], [4.0], [6.0]])
        >>> w = mbgd(lambda w, x: w - x.mean(-2), data, torch.zeros(3, 1), harmonic_steps(4), 2,
        ...          generator=torch.Generator().manual_seed(0))
        >>> w.shape  # K + 1 = 5 iterates of 3 runs in d = 1
        torch.Size([5, 3, 1])

    References:
        [derivation](../stochastic-approximation.md#finite-data)
    """
    grad, data, w1 = check.function("grad", grad), _data_set(data), _start(w1)
    positive_int("batch_size", batch_size)
    a = _step_list(steps)
    idx = sample_batches(data.shape[0], len(a), batch_size, runs=w1.shape[:-1], generator=generator)
    w = w1.clone()
    trajectory = [w]
    for k, a_k in enumerate(a):
        # x_j for j in I_k, (*, m, p); index_select is much faster than data[idx[k]] here
        batch = data.index_select(0, idx[k].reshape(-1)).view(*idx.shape[1:], data.shape[1])
        w = w - a_k * check.returned("grad", grad(w, batch), w.shape)
        trajectory.append(w)
    return torch.stack(trajectory)  # (K + 1, *, d)


# --8<-- [end:mbgd]


def bgd(grad: Gradient, data: Tensor, w1: Tensor, steps: Tensor) -> Tensor:
    r"""Batch gradient descent: every step averages over all $n$ samples (page eq. 15).

    $$ w_{k+1} = w_k - \frac{a_k}{n} \sum_{i=1}^{n} \nabla_w f(w_k, x_i) $$

    Args:
        grad: as in [`mbgd`][notes.stochastic_approximation.mbgd], called with the whole data
            set as the batch, shape (*, n, p).
        data: shape (n, p).
        w1: the start, shape (*, d).
        steps: $a_1, \dots, a_K$, shape (K,), each > 0.

    Returns:
        The iterates $w_1, \dots, w_{K+1}$, shape (K + 1, *, d).

    Examples:
        >>> from notes.stochastic_approximation import bgd, harmonic_steps
        >>> data = torch.tensor([[0.0], [2.0], [4.0], [6.0]])
        >>> bgd(lambda w, x: w - x.mean(-2), data, torch.zeros(1), harmonic_steps(2)).squeeze(-1)
        tensor([0., 3., 3.])

    References:
        [derivation](../stochastic-approximation.md#finite-data)
    """
    grad, data, w1 = check.function("grad", grad), _data_set(data), _start(w1)
    everything = data.expand(*w1.shape[:-1], *data.shape)  # (*, n, p), a view
    return gradient_descent(lambda w: grad(w, everything), w1, steps)


def sgd(
    grad: Gradient,
    data: Tensor,
    w1: Tensor,
    steps: Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Stochastic gradient descent: one sample per step (page eq. 11).

    $$ w_{k+1} = w_k - a_k \nabla_w f(w_k, x_{i_k}), \qquad i_k \sim \mathrm{Uniform}\{1, \dots, n\} $$

    It is [`mbgd`][notes.stochastic_approximation.mbgd] with $m = 1$.

    Args:
        grad: as in [`mbgd`][notes.stochastic_approximation.mbgd]; the batch is (*, 1, p).
        data: shape (n, p).
        w1: the start, shape (*, d).
        steps: $a_1, \dots, a_K$, shape (K,), each > 0.
        generator: the source of the sample indices.

    Returns:
        The iterates $w_1, \dots, w_{K+1}$, shape (K + 1, *, d).

    Examples:
        >>> from notes.stochastic_approximation import harmonic_steps, sgd
        >>> data = torch.tensor([[0.0], [2.0], [4.0], [6.0]])
        >>> w = sgd(lambda w, x: w - x.mean(-2), data, torch.zeros(1), harmonic_steps(3),
        ...         generator=torch.Generator().manual_seed(0))
        >>> bool(((w >= 0) & (w <= 6)).all())  # with a_k = 1/k: a running mean of data points
        True

    References:
        [derivation](../stochastic-approximation.md#sgd)
    """
    return mbgd(grad, data, w1, steps, 1, generator=generator)


def relative_gradient_error(stochastic: Tensor, full: Tensor) -> Tensor:
    r"""The relative error of a stochastic gradient (page eq. 12).

    $$ \delta_k = \frac{\lVert \nabla_w f(w_k, x_k) - \nabla J(w_k) \rVert}
                       {\lVert \nabla J(w_k) \rVert} $$

    Args:
        stochastic: $\nabla_w f(w_k, x_k)$, shape (*, d).
        full: $\nabla J(w_k)$, the same shape; a zero row gives ``inf``.

    Returns:
        $\delta_k$, shape (*).

    Examples:
        >>> relative_gradient_error(torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 2.0]]))
        tensor([1.8028])

    References:
        [derivation](../stochastic-approximation.md#sgd-convergence)
    """
    check.tensor("stochastic", stochastic)
    check.tensor("full", full)
    if stochastic.shape != full.shape or stochastic.dim() == 0:
        raise ValueError(
            "stochastic and full must have one shape (*, d), got "
            f"{tuple(stochastic.shape)} and {tuple(full.shape)}"
        )
    delta: Tensor = (stochastic - full).norm(dim=-1) / full.norm(dim=-1)  # (*)
    return delta
