r"""Measuring cost without absolute times: counted matrix-product flops, interleaved CPU times,
fitted growth exponents, crossovers.

A count of the floating-point operations a call's matrix products perform is the same on every
run and every machine, so the page shows it ([page](../linear-attention.md#cost)). Steps timed in
alternation on one thread see the same machine, so their ratios and the exponents fitted to them
are nearly free of its drift; `tests/test_speed.py` checks those.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable, Iterator, Mapping

import torch
from torch.utils.flop_counter import FlopCounterMode

from notes._validate import agree, function, nonnegative, positive_int, tensor


def matmul_flops(fn: Callable[[], object]) -> int:
    r"""Floating-point operations of the matrix products `fn()` performs, counted as it runs.

    PyTorch's `FlopCounterMode` intercepts every matrix product (`mm`, `bmm`, `addmm`,
    `baddbmm`, attention kernels) and charges an $(m \times k)$ by $(k \times p)$ product
    $2 m k p$ operations. Element-wise work (`exp`, `elu`, divisions, sums) is not counted: the
    count is of the products only, which is the work that grows fastest here. The count does not
    depend on the machine or the run.

    Args:
        fn: a callable taking no arguments; it is called once.

    Returns:
        The number of floating-point operations, an `int`.

    Examples:
        >>> a, b = torch.ones(3, 4), torch.ones(4, 5)
        >>> matmul_flops(lambda: a @ b)  # 2 * 3 * 4 * 5
        120
        >>> matmul_flops(lambda: (a.exp() * 2).sum())
        0

    References:
        [cost](../linear-attention.md#cost)
    """
    function("fn", fn)
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


@contextlib.contextmanager
def _quiet(n: int) -> Iterator[None]:
    """n torch threads and no garbage collection inside; both restored afterwards."""
    before, collecting = torch.get_num_threads(), gc.isenabled()
    gc.collect()  # a collection inside a timed call would charge its cost to that call
    gc.disable()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if collecting:
            gc.enable()


def interleaved_times(
    steps: Mapping[str, Callable[[], object]], *, rounds: int = 5, threads: int = 1
) -> dict[str, torch.Tensor]:
    r"""Time each step once per round, in turn, round after round, on `threads` threads.

    Steps timed in alternation see the same machine, so ratios of their times (and the
    exponents fitted to them) are nearly free of the machine's drift; absolute times are not.
    The clock is CPU time (of this thread when `threads` is 1, of the process otherwise), so
    time taken by other processes is not counted.
    Garbage collection is off during the timing; it and the thread count are restored afterwards.

    Args:
        steps: named callables, each doing one unit of work.
        rounds: rounds, $\ge 1$; the order of the steps rotates from round to round.
        threads: torch threads during the timing, $\ge 1$.

    Returns:
        CPU seconds per call, `{name: tensor of shape (rounds,)}`, float64.

    Examples:
        >>> times = interleaved_times({"a": lambda: None, "b": lambda: None}, rounds=3)
        >>> sorted(times), times["a"].shape
        (['a', 'b'], torch.Size([3]))

    References:
        [cost](../linear-attention.md#cost)
    """
    if not isinstance(steps, Mapping):
        raise TypeError(f"steps must be a mapping of names to callables, got {steps!r}")
    rounds, threads = positive_int("rounds", rounds), positive_int("threads", threads)
    names = list(steps)
    for name in names:
        function(f"steps[{name!r}]", steps[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    # CPU time, not wall time: on a shared machine the time other processes take from this
    # core would be charged to whichever call they interrupt, the long calls most often.
    clock = time.thread_time if threads == 1 else time.process_time
    with _quiet(threads):
        for name in names:  # warm-up, untimed
            steps[name]()
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                start = clock()
                steps[name]()
                times[name].append(clock() - start)
    return {name: torch.tensor(t, dtype=torch.float64) for name, t in times.items()}


def growth_exponent(n: torch.Tensor, t: torch.Tensor) -> tuple[float, float]:
    r"""Least-squares slope $b$ of $\log t = a + b \log n$, with its standard error.

    $$ \hat b = \frac{\sum (x - \bar x)(y - \bar y)}{\sum (x - \bar x)^2}, \qquad
       \operatorname{se}(\hat b) = \sqrt{\frac{\sum \hat\varepsilon^2 / (m - 2)}{\sum (x - \bar x)^2}} $$

    Args:
        n: sizes, shape `(m,)` with $m \ge 3$, every entry $> 0$.
        t: costs, shape `(m,)`, every entry $> 0$.

    Returns:
        `(slope, standard_error)`.

    Examples:
        >>> n = torch.tensor([1.0, 2.0, 4.0, 8.0])
        >>> growth_exponent(n, 3 * n**2)[0]
        2.0

    References:
        [cost](../linear-attention.md#cost)
    """
    tensor("n", n, dims="M", min_numel=3), tensor("t", t, dims="M")
    agree(("n", "t"), (n.shape[0], t.shape[0]), "the number of sizes M")
    tensor("t", t, dims="M", sizes={"M": n.shape[0]})
    nonnegative("n", n, "sizes are positive")
    nonnegative("t", t, "costs are positive")
    x, y = n.double().log(), t.double().log()
    xc = x - x.mean()
    slope = float((xc * (y - y.mean())).sum() / (xc**2).sum())
    resid = y - y.mean() - slope * xc
    se = math.sqrt(float((resid**2).sum()) / (len(x) - 2) / float((xc**2).sum()))
    return round(slope, 12), se


def round_exponents(n: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    r"""The growth exponent of each round on its own: the slope $b_r$ of $\log t_{\cdot r} = a_r + b_r \log n$.

    Each round of [`interleaved_times`][notes.linear_attention.interleaved_times] times every
    size once, so each round gives its own exponent; their spread across rounds is the
    measurement's own error bar (`tests/test_speed.py` checks every round on its own).

    Args:
        n: sizes, shape `(m,)` with $m \ge 3$, every entry $> 0$.
        times: costs, shape `(m, R)`: column $r$ holds round $r$'s time at each size.

    Returns:
        The $R$ least-squares slopes, shape `(R,)`, float64.

    Examples:
        >>> n = torch.tensor([1.0, 2.0, 4.0])
        >>> round_exponents(n, torch.stack([n, n**2], dim=-1))
        tensor([1., 2.], dtype=torch.float64)

    References:
        [cost](../linear-attention.md#cost)
    """
    tensor("n", n, dims="M", min_numel=3), tensor("times", times, dims="M R", min_numel=1)
    agree(("n", "times"), (n.shape[0], times.shape[0]), "the number of sizes M")
    nonnegative("n", n, "sizes are positive")
    nonnegative("times", times, "costs are positive")
    x, y = n.double().log(), times.double().log()  # (m,), (m, R)
    xc = x - x.mean()
    return (xc[:, None] * (y - y.mean(0))).sum(0) / (xc**2).sum()  # (R,)


def crossover(n: torch.Tensor, t_a: torch.Tensor, t_b: torch.Tensor) -> float:
    r"""The length where cost $t_a$ overtakes cost $t_b$, interpolated on log-log axes.

    Finds the first pair of neighbouring sizes where $\log(t_a / t_b)$ changes sign from
    $\le 0$ to $> 0$ and interpolates linearly in $\log n$ between them.

    Args:
        n: increasing sizes, shape `(m,)`, $m \ge 2$.
        t_a: costs of the method that grows faster, shape `(m,)`.
        t_b: costs of the other, shape `(m,)`.

    Returns:
        $n^\ast$ with $t_a(n^\ast) = t_b(n^\ast)$ on the interpolated curves.

    Raises:
        ValueError: if $t_a / t_b$ does not cross 1 upwards within the measured sizes.

    Examples:
        >>> n = torch.tensor([10.0, 100.0, 1000.0])
        >>> round(crossover(n, n**2, 50 * n), 6)  # n^2 = 50 n at n = 50
        50.0

    References:
        [cost](../linear-attention.md#cost)
    """
    tensor("n", n, dims="M", min_numel=2)
    for name, t in (("t_a", t_a), ("t_b", t_b)):
        agree(
            ("n", name), (n.shape[0], tensor(name, t, dims="M").shape[0]), "the number of sizes M"
        )
        tensor(name, t, dims="M", sizes={"M": n.shape[0]})
        nonnegative(name, t, "costs are positive")
    x, y = n.double().log(), (t_a / t_b).double().log()
    for i in range(len(x) - 1):
        if y[i] <= 0 < y[i + 1]:
            frac = float(-y[i] / (y[i + 1] - y[i]))
            return math.exp(float(x[i]) + frac * float(x[i + 1] - x[i]))
    raise ValueError(
        f"t_a / t_b must cross 1 upwards within n = {n.tolist()}, got ratios "
        f"{[round(float(r), 3) for r in (t_a / t_b)]}"
    )
