r"""Diffusion models, checked against exact scores.

One module per idea (each documented in the [API reference](../reference/diffusion.md)):

- [`schedules`][notes.diffusion.schedules]: betas, $\bar\alpha$, the SNR, EDM's $(s, \sigma)$ and
  the maps between the DDPM, score-matching and flow-matching families; timestep subsequences;
- [`forward`][notes.diffusion.forward]: the forward chain, its marginal, the posterior, and the
  $\varepsilon$ / $x_0$ / score / $v$ conversions with Tweedie's formula;
- [`mixture`][notes.diffusion.mixture]: the exact-score testbed;
- [`ddpm`][notes.diffusion.ddpm]: DDPM's ancestral sampler and DDIM;
- [`sde`][notes.diffusion.sde]: the reverse SDE, the probability-flow ODE, EDM's samplers and
  preconditioning;
- [`guidance`][notes.diffusion.guidance]: classifier and classifier-free guidance;
- [`denoiser`][notes.diffusion.denoiser]: a small trained model.
"""

from __future__ import annotations

from notes.diffusion.ddpm import ddim_sample, ddim_step, ddpm_sample, mixture_eps
from notes.diffusion.denoiser import Denoiser, fit_denoiser
from notes.diffusion.forward import (
    eps_to_score,
    eps_to_v,
    eps_to_x0,
    posterior,
    q_sample,
    score_to_eps,
    simulate_chain,
    tweedie,
    v_target,
    v_to_eps,
    x0_to_eps,
)
from notes.diffusion.guidance import classifier_free_guidance, classifier_guidance
from notes.diffusion.mixture import GaussianMixture, mixture
from notes.diffusion.schedules import (
    alpha_bar,
    cosine_betas,
    ddpm_to_edm,
    edm_sigmas,
    edm_to_ddpm,
    edm_to_flow,
    flow_to_edm,
    linear_betas,
    snr,
    timesteps,
)
from notes.diffusion.sde import (
    edm_sample,
    ode_sample,
    precondition,
    vp_drift,
    vp_reverse_sample,
    vp_schedule,
)

__all__ = [
    "Denoiser",
    "GaussianMixture",
    "alpha_bar",
    "classifier_free_guidance",
    "classifier_guidance",
    "cosine_betas",
    "ddim_sample",
    "ddim_step",
    "ddpm_sample",
    "ddpm_to_edm",
    "edm_sample",
    "edm_sigmas",
    "edm_to_ddpm",
    "edm_to_flow",
    "eps_to_score",
    "eps_to_v",
    "eps_to_x0",
    "fit_denoiser",
    "flow_to_edm",
    "linear_betas",
    "mixture",
    "mixture_eps",
    "ode_sample",
    "posterior",
    "precondition",
    "q_sample",
    "score_to_eps",
    "simulate_chain",
    "snr",
    "timesteps",
    "tweedie",
    "v_target",
    "v_to_eps",
    "vp_drift",
    "vp_reverse_sample",
    "vp_schedule",
    "x0_to_eps",
]
