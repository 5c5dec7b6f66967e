"""Time one maximum-likelihood training step of a 2-D affine-coupling flow.

The model of the acceptance criterion: 4 affine couplings (alternating masks), MLP 64-64,
batch 256, Adam. Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_flow_step.py [--threads 1] [--repeats 30]

It prints the median and the minimum over `repeats` timings of 100 steps each (milliseconds
per step), for the wall clock and for this process's CPU time. The median on an idle machine
is the figure to compare with the 3 ms budget; on a shared machine the minimum is the better
estimate of the idle cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from notes.flows import AffineCoupling, Flow, alternating_mask, make_optimizer, training_step
from notes.flows.training import num_threads


def build(generator: torch.Generator) -> Flow:
    """4 affine couplings with alternating masks, MLP 64-64, standard normal base."""
    return Flow(
        [
            AffineCoupling(2, alternating_mask(2, k % 2), (64, 64), generator=generator)
            for k in range(4)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()

    g = torch.Generator().manual_seed(0)
    flow = build(g)
    optimizer = make_optimizer(flow, lr=1e-3)
    data = torch.randn(50 * 256, 2, generator=g)
    batches = data.split(256)
    wall, cpu = [], []
    with num_threads(args.threads):
        for i in range(100):  # warm-up: allocator, fused Adam state
            training_step(flow, optimizer, batches[i % len(batches)])
        for _ in range(args.repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            for i in range(args.steps):
                training_step(flow, optimizer, batches[i % len(batches)])
            wall.append((time.perf_counter() - w0) / args.steps * 1e3)
            cpu.append((time.process_time() - c0) / args.steps * 1e3)
    sys.stdout.write(
        f"threads={args.threads} steps/timing={args.steps} timings={args.repeats}\n"
        f"wall ms/step: median {statistics.median(wall):.3f}  min {min(wall):.3f}\n"
        f"cpu  ms/step: median {statistics.median(cpu):.3f}  min {min(cpu):.3f}\n"
    )


if __name__ == "__main__":
    main()
