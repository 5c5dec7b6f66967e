r"""Normalizing flows: invertible layers with log-determinants, flows, and flow matching.

The public API, one module per idea (each documented in the [API reference](../reference/flows.md)):

- [`transforms`][notes.flows.transforms]: the `Bijection` interface, composition, permutations,
  NICE's scaling layer and the logit map for dequantised data;
- [`coupling`][notes.flows.coupling]: NICE's additive and RealNVP's affine coupling, masks;
- [`glow`][notes.flows.glow]: actnorm and the invertible linear map in LU form;
- [`multiscale`][notes.flows.multiscale]: RealNVP's squeeze and factor-out, for several scales;
- [`distributions`][notes.flows.distributions]: `Flow` (base density plus layers) and baselines;
- [`training`][notes.flows.training]: maximum-likelihood training loops;
- [`data`][notes.flows.data]: toy 2-D densities and dequantised digits;
- [`continuous`][notes.flows.continuous]: continuous flows and the instantaneous change of
  variables, with exact and Hutchinson traces;
- [`matching`][notes.flows.matching]: flow matching and rectified flow.
"""

from __future__ import annotations

from notes.flows.continuous import (
    VelocityField,
    cnf_log_prob,
    divergence,
    exact_trace,
    hutchinson_trace,
    odeint,
    rademacher,
)
from notes.flows.coupling import (
    AdditiveCoupling,
    AffineCoupling,
    alternating_mask,
    checkerboard_mask,
    mlp,
)
from notes.flows.data import (
    checkerboard,
    checkerboard_log_prob,
    dequantize,
    eight_gaussians,
    eight_gaussians_log_prob,
    load_digits,
    local_maxima,
    train_test_split,
    two_moons,
    two_moons_log_prob,
)
from notes.flows.distributions import (
    Flow,
    bits_per_dim,
    fit_gaussian,
    fit_histogram,
    histogram_log_prob,
    logistic_log_prob,
    normal_log_prob,
    sample_base,
)
from notes.flows.glow import ActNorm, InvertibleLinear
from notes.flows.matching import (
    energy_distance,
    euler_sample,
    fit_flow_matching,
    flow_matching_loss,
    gaussian_velocity,
    sample_time,
    straight_path,
    straightness,
)
from notes.flows.multiscale import FactorOut, Squeeze, squeeze_permutation
from notes.flows.training import fit, fit_together, make_optimizer, num_threads, training_step
from notes.flows.transforms import (
    Bijection,
    BijectionTransform,
    Chain,
    Logit,
    Permutation,
    Reverse,
    Scaling,
)

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "Bijection",
    "BijectionTransform",
    "Chain",
    "FactorOut",
    "Flow",
    "InvertibleLinear",
    "Logit",
    "Permutation",
    "Reverse",
    "Scaling",
    "Squeeze",
    "VelocityField",
    "alternating_mask",
    "bits_per_dim",
    "checkerboard",
    "checkerboard_log_prob",
    "checkerboard_mask",
    "cnf_log_prob",
    "dequantize",
    "divergence",
    "eight_gaussians",
    "eight_gaussians_log_prob",
    "energy_distance",
    "euler_sample",
    "exact_trace",
    "fit",
    "fit_flow_matching",
    "fit_gaussian",
    "fit_histogram",
    "fit_together",
    "flow_matching_loss",
    "gaussian_velocity",
    "histogram_log_prob",
    "hutchinson_trace",
    "load_digits",
    "local_maxima",
    "logistic_log_prob",
    "make_optimizer",
    "mlp",
    "normal_log_prob",
    "num_threads",
    "odeint",
    "rademacher",
    "sample_base",
    "sample_time",
    "squeeze_permutation",
    "straight_path",
    "straightness",
    "train_test_split",
    "training_step",
    "two_moons",
    "two_moons_log_prob",
]
