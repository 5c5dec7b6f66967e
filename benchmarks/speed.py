"""Speed as ratios: `notes` against a plain-PyTorch reference, timed in turn, round by round.

This machine's speed drifts by half from minute to minute, so an absolute time says little
about the code. Two implementations timed in alternation, round after round, see the same
machine: the ratio of their times in one round is nearly free of the drift, and the spread of
the per-round ratios says how well the ratio is known.

Each case pairs a `notes` call with a reference written here in plain PyTorch:

- ``flow_step``: one maximum-likelihood training step of a 2-D flow of 4 affine couplings
  (alternating masks, MLP 64-64, batch 256, Adam), `notes.flows` against the same model written
  as a textbook RealNVP with `nn.Linear` layers and torch's default Adam;
- ``fit_together``: twenty steps of the training page's three NICEs (4 additive couplings, MLP
  64-64, batch 256), stacked by `notes.flows.fit_together` against three `fit` calls in turn;
- ``gumbel_softmax`` and ``gumbel_softmax_hard``: a soft and a straight-through Gumbel-Softmax
  sample of (1024, 10) logits, `notes.reparam` against `torch.nn.functional.gumbel_softmax`.

Run ``python3 -m nox -s bench`` (or ``python benchmarks/speed.py`` where `notes` is installed):
it prints a table of absolute times and ratios and writes it to ``build/bench.json``.
`tests/test_speed.py` gates on the ratios only.

A second measurement times softmax attention and both orders of linear attention at lengths
512 to 4 096 (width 32), interleaved, and fits each round's growth exponent of time against
length (``attention_exponents``): the page counts their flops, which never change from run to
run; this is the time, which does.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from notes.attention import scaled_dot_product_attention
from notes.flows import (
    AdditiveCoupling,
    AffineCoupling,
    Flow,
    Scaling,
    alternating_mask,
    fit,
    fit_together,
    make_optimizer,
    training_step,
)
from notes.flows.training import num_threads
from notes.linear_attention import interleaved_times, linear_attention, round_exponents
from notes.reparam import gumbel_softmax

Step = Callable[[], object]

# The statistic is the mean of the per-round log-ratios; a gate allows K standard errors of it.
K_STANDARD_ERRORS = 5.0


# --- case 1: a flow's training step -----------------------------------------------------------
class _PlainCoupling(nn.Module):
    """RealNVP's affine coupling written directly: y_B = x_B exp(tanh s(x_A)) + t(x_A)."""

    def __init__(self, mask: torch.Tensor, generator: torch.Generator) -> None:
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.out = nn.Linear(64, 4)
        with torch.no_grad():
            for layer in (self.net[0], self.net[2]):
                bound = 1 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.mask
        s, t = self.out(self.net(x * m)).chunk(2, dim=-1)
        s = torch.tanh(s) * (1 - m)
        t = t * (1 - m)
        return m * x + (1 - m) * (x * torch.exp(s) + t), s.sum(-1)


class _PlainFlow(nn.Module):
    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            _PlainCoupling(alternating_mask(2, k % 2), generator) for k in range(4)
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        ladj = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, step = layer(x)
            ladj = ladj + step
        return -0.5 * (x**2).sum(-1) - math.log(2 * math.pi) + ladj


def flow_step_pair() -> tuple[Step, Step]:
    """One training step each: notes' flow, and the plain-PyTorch flow of the same size."""
    g = torch.Generator().manual_seed(0)
    flow = Flow(
        [AffineCoupling(2, alternating_mask(2, k % 2), (64, 64), generator=g) for k in range(4)]
    )
    optimizer = make_optimizer(flow, lr=1e-3)
    plain = _PlainFlow(g)
    plain_optimizer = torch.optim.Adam(plain.parameters(), lr=1e-3)
    batches = torch.randn(20 * 256, 2, generator=g).split(256)
    counter = {"ours": 0, "reference": 0}

    def ours() -> None:
        counter["ours"] += 1
        training_step(flow, optimizer, batches[counter["ours"] % len(batches)])

    def reference() -> None:
        counter["reference"] += 1
        batch = batches[counter["reference"] % len(batches)]
        plain_optimizer.zero_grad(set_to_none=True)
        loss = -plain.log_prob(batch).mean()
        loss.backward()  # type: ignore[no-untyped-call]
        plain_optimizer.step()

    return ours, reference


def fit_together_pair() -> tuple[Step, Step]:
    """Twenty steps of the training page's three NICEs: stacked by `fit_together`, and by `fit`."""
    g = torch.Generator().manual_seed(0)

    def nice() -> Flow:
        masks = [alternating_mask(2, k % 2) for k in range(4)]
        couplings = [AdditiveCoupling(2, m, (64, 64), generator=g) for m in masks]
        return Flow([*couplings, Scaling(2)], base="logistic")

    flows = [nice() for _ in range(3)]
    xs = [torch.randn(10_000, 2, generator=g) * (k + 1) for k in range(3)]
    generators = [torch.Generator().manual_seed(k) for k in range(3)]
    options: dict[str, float] = {"steps": 20, "batch_size": 256, "lr": 1e-4}

    def ours() -> None:
        fit_together(flows, xs, generators=generators, **options)  # type: ignore[arg-type]

    def reference() -> None:
        for flow, x, generator in zip(flows, xs, generators, strict=True):
            fit(flow, x, generator=generator, **options)  # type: ignore[arg-type]

    return ours, reference


# --- case 2: a Gumbel-Softmax sample ----------------------------------------------------------
def _gumbel_softmax_pair(hard: bool) -> tuple[Step, Step]:
    """A sample each from (1024, 10) logits: notes' `gumbel_softmax`, and torch's."""
    logits = torch.randn(1024, 10, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    torch.manual_seed(1)  # torch's gumbel_softmax draws from the global generator

    def ours() -> None:
        gumbel_softmax(logits, 0.5, hard, generator=g)

    def reference() -> None:
        torch.nn.functional.gumbel_softmax(logits, tau=0.5, hard=hard)

    return ours, reference


def gumbel_softmax_pair() -> tuple[Step, Step]:
    """A soft sample each."""
    return _gumbel_softmax_pair(hard=False)


def gumbel_softmax_hard_pair() -> tuple[Step, Step]:
    """A straight-through (hard) sample each."""
    return _gumbel_softmax_pair(hard=True)


CASES: dict[str, Callable[[], tuple[Step, Step]]] = {
    "flow_step": flow_step_pair,
    "fit_together": fit_together_pair,
    "gumbel_softmax": gumbel_softmax_pair,
    "gumbel_softmax_hard": gumbel_softmax_hard_pair,
}
DEFAULT_ROUNDS = {
    "fit_together": 30,
    "flow_step": 120,
    "gumbel_softmax": 100,
    "gumbel_softmax_hard": 100,
}
DEFAULT_ITERATIONS = {
    "fit_together": 1,
    "flow_step": 20,
    "gumbel_softmax": 50,
    "gumbel_softmax_hard": 50,
}


@dataclass(frozen=True)
class Ratio:
    """Per-call times (seconds) of `notes` and the reference, and their ratio, from one run."""

    case: str
    rounds: int
    iterations: int
    ours_median: float
    reference_median: float
    ratio: float  # exp(mean of per-round log-ratios): the geometric mean of ours / reference
    log_ratio_se: float  # standard error of that mean (from the round-to-round spread)

    @property
    def upper(self) -> float:
        """The ratio's upper bound at `K_STANDARD_ERRORS` standard errors."""
        return math.exp(math.log(self.ratio) + K_STANDARD_ERRORS * self.log_ratio_se)

    def report(self) -> str:
        return (
            f"{self.case}: ours {self.ours_median * 1e6:.1f} us, reference "
            f"{self.reference_median * 1e6:.1f} us per call; ratio {self.ratio:.3f} "
            f"(upper bound {self.upper:.3f} at {K_STANDARD_ERRORS:g} standard errors, "
            f"{self.rounds} interleaved rounds of {self.iterations} calls)"
        )


def _time(step: Step, iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    return (time.perf_counter() - start) / iterations


def measure(case: str, rounds: int | None = None, iterations: int | None = None) -> Ratio:
    """Time `notes` and the reference of `case` in turn, `rounds` times, on one CPU thread.

    Each round times `iterations` calls of one, then of the other; the order alternates from
    round to round so that neither always runs second. Garbage left by earlier work is frozen
    out of the collector first, so that both are timed as in a fresh process.
    """
    rounds = rounds or DEFAULT_ROUNDS[case]
    iterations = iterations or DEFAULT_ITERATIONS[case]
    ours, reference = CASES[case]()
    gc.collect()
    gc.freeze()
    try:
        with num_threads(1):
            for _ in range(5):  # warm-up: allocator, optimizer state
                _time(ours, iterations)
                _time(reference, iterations)
            t_ours, t_ref = [], []
            for r in range(rounds):
                if r % 2:
                    t_ref.append(_time(reference, iterations))
                    t_ours.append(_time(ours, iterations))
                else:
                    t_ours.append(_time(ours, iterations))
                    t_ref.append(_time(reference, iterations))
    finally:
        gc.unfreeze()
    logs = [math.log(a / b) for a, b in zip(t_ours, t_ref, strict=True)]
    return Ratio(
        case=case,
        rounds=rounds,
        iterations=iterations,
        ours_median=statistics.median(t_ours),
        reference_median=statistics.median(t_ref),
        ratio=math.exp(statistics.fmean(logs)),
        log_ratio_se=statistics.stdev(logs) / math.sqrt(rounds),
    )


# --- time exponents of attention ------------------------------------------------------------
ATTENTION_LENGTHS = (512, 1024, 2048, 4096)
ATTENTION_WIDTH = 32


def attention_exponents(rounds: int = 5) -> dict[str, list[float]]:
    """Each round's fitted exponent of CPU time against length, over the three longest lengths.

    Softmax attention and linear attention (elu + 1) in both orders, one call of each length in
    turn, round after round, one thread (`notes.linear_attention.interleaved_times`); a step at
    length n < 2 048 makes 2 048 / n calls, so that no step is short enough for one
    interruption to decide its time.
    """
    g = torch.Generator().manual_seed(1)
    d = ATTENTION_WIDTH
    inputs = {n: [torch.randn(n, d, generator=g) for _ in range(3)] for n in ATTENTION_LENGTHS}
    methods: dict[str, Callable[..., object]] = {
        "softmax": scaled_dot_product_attention,
        "linear, right order": linear_attention,
        "linear, left order": lambda q, k, v: linear_attention(q, k, v, order="left"),
    }
    calls = {n: max(1, 2048 // n) for n in ATTENTION_LENGTHS}

    def step(f: Callable[..., object], n: int) -> Step:
        def run() -> None:
            for _ in range(calls[n]):
                f(*inputs[n])

        return run

    steps = {f"{name} @ {n}": step(f, n) for name, f in methods.items() for n in ATTENTION_LENGTHS}
    times = interleaved_times(steps, rounds=rounds, threads=1)
    n_grid = torch.tensor(ATTENTION_LENGTHS[1:], dtype=torch.float64)
    found = {}
    for name in methods:
        per_call = torch.stack([times[f"{name} @ {n}"] / calls[n] for n in ATTENTION_LENGTHS[1:]])
        found[name] = round_exponents(n_grid, per_call).tolist()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--json", type=Path, default=Path("build/bench.json"))
    args = parser.parse_args()
    results = [measure(case, args.rounds) for case in CASES]
    header = f"{'case':<16}{'ours (us)':>12}{'reference (us)':>16}{'ratio':>8}{'upper':>8}"
    lines = [header, "-" * len(header)]
    lines += [
        f"{r.case:<16}{r.ours_median * 1e6:>12.1f}{r.reference_median * 1e6:>16.1f}"
        f"{r.ratio:>8.3f}{r.upper:>8.3f}"
        for r in results
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    exponents = attention_exponents()
    for name, b in exponents.items():
        shown = " ".join(f"{x:.2f}" for x in b)
        sys.stdout.write(f"time exponent of {name}, n = 1 024 ... 4 096, per round: {shown}\n")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload: list[object] = [{**asdict(r), "upper": r.upper} for r in results]
    payload.append({"attention_time_exponents": exponents})
    args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(f"written to {args.json}\n")


if __name__ == "__main__":
    main()
