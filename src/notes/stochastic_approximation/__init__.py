r"""Stochastic approximation: the running mean, Robbins-Monro, and gradient descent in its forms.

Every iteration returns the whole trajectory $w_1, \dots, w_{K+1}$ as one tensor whose first
dimension is the iteration, so that a page can plot it and a test can compare it step by step.
The dimensions after the first hold independent runs, computed at once.

The order follows the page [Stochastic approximation](../stochastic-approximation.md):

- the incremental mean and the step-size rules;
- the Robbins-Monro iteration, and the log-log slope that measures its rate;
- gradient descent (GD) and its batch (BGD), mini-batch (MBGD) and stochastic (SGD) forms on a
  finite data set, and the relative error of a stochastic gradient.

The code lives in three private files (`_mean.py`, `_robbins_monro.py`, `_sgd.py`), one per idea;
import everything from here.

References:
    S. Zhao, *Mathematical Foundations of Reinforcement Learning*, chapter 6 "Stochastic
    Approximation", 2025.
    <https://github.com/MathFoundationRL/Book-Mathematical-Foundation-of-Reinforcement-Learning>
"""

from __future__ import annotations

from notes.stochastic_approximation._mean import (
    constant_steps,
    harmonic_steps,
    incremental_mean,
    power_steps,
)
from notes.stochastic_approximation._robbins_monro import Observation, loglog_slope, robbins_monro
from notes.stochastic_approximation._sgd import (
    Gradient,
    bgd,
    gradient_descent,
    mbgd,
    relative_gradient_error,
    sample_batches,
    sgd,
)

__all__ = [
    "Gradient",
    "Observation",
    "bgd",
    "constant_steps",
    "gradient_descent",
    "harmonic_steps",
    "incremental_mean",
    "loglog_slope",
    "mbgd",
    "power_steps",
    "relative_gradient_error",
    "robbins_monro",
    "sample_batches",
    "sgd",
]
