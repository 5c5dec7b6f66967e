"""Speed: one training step of a 2-D affine-coupling flow takes at most 3 ms on the CPU.

The model of the acceptance criterion: 4 affine couplings with alternating masks, MLP 64-64,
batch 256, Adam. One thread (`num_threads(1)`, as `fit` uses): for matrices this small, a
second thread costs more in hand-off than it saves, and on a busy machine far more.
`benchmarks/bench_flow_step.py` prints the same measurement with wall and CPU time.
"""

from __future__ import annotations

import gc

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from notes.flows import AffineCoupling, Flow, alternating_mask, make_optimizer, training_step
from notes.flows.training import num_threads

BUDGET_SECONDS = 3e-3


def test_affine_coupling_training_step_takes_at_most_3_ms(benchmark: BenchmarkFixture) -> None:
    g = torch.Generator().manual_seed(0)
    flow = Flow(
        [AffineCoupling(2, alternating_mask(2, k % 2), (64, 64), generator=g) for k in range(4)]
    )
    optimizer = make_optimizer(flow, lr=1e-3)
    batches = torch.randn(20 * 256, 2, generator=g).split(256)
    state = {"i": 0}

    def step() -> None:
        state["i"] += 1
        training_step(flow, optimizer, batches[state["i"] % len(batches)])

    # Objects left alive by earlier tests make every cyclic garbage collection slower; move
    # them out of the collector's reach so the step is timed as in a fresh process.
    gc.collect()
    gc.freeze()
    try:
        with num_threads(1):
            # 150 rounds of 20 steps (about 6 s): the median round is robust to slow rounds, as
            # long as fewer than half of them are slowed by whatever else the machine runs.
            benchmark.pedantic(step, rounds=150, iterations=20, warmup_rounds=5)
    finally:
        gc.unfreeze()
    if benchmark.stats is None:  # --benchmark-disable: the step ran, nothing was timed
        pytest.skip("benchmarks disabled")
    median = benchmark.stats.stats.median  # seconds per step
    assert median <= BUDGET_SECONDS, f"median step {median * 1e3:.2f} ms > 3 ms"
