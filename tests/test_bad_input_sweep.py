"""A bad-input sweep generated from the public API: every bad argument gets a clear error.

The sweep finds every public callable by itself: each module of `notes` whose dotted name has
no part starting with ``_`` (found with `pkgutil`, so a module merged later is swept too), each
name in its ``__all__`` that is a function or a class, and for a class its constructor and its
public methods defined in `notes`. For each one it takes **one valid call** from `VALID` below
and changes **one argument at a time** to a generic bad value chosen from the valid value's type
and the parameter's annotation (NaN, inf, None, a string, a bool for a number, a float for an
int, an integer-dtype tensor, a tensor of the wrong rank, an empty tensor, a tensor one column
wider, a non-callable for a function, ...) and from the parameter's name (zero and negative
values for the names in `POSITIVE`, out-of-range values for the names in `RANGES`).

Each bad call is classified:

- **clear**: a `ValueError` or `TypeError` whose message names the parameter
  (``"tau must be > 0, got -1.0"``);
- **unclear**: any other exception, or a message that does not name the parameter;
- **accepted**: the call returned, with finite results;
- **nan**: the call returned NaN or inf somewhere in its result.

An empty tensor (zero rows) that comes back as an empty result is a valid row-wise answer
(no rows in, no rows out) and is not counted; any other answer to it is judged as above.

The sweep fails on anything but *clear*, except where `ALLOWED` says that a "bad" kind is a
valid value for that parameter (with the reason).

How to register a valid call (a new public function or class fails
`test_every_public_callable_has_a_valid_call` until it has one):

    VALID["notes.mymodule.my_function"] = lambda: {"x": torch.randn(4, 2), "n": 3}

The key is the public module that lists the name in its ``__all__`` (the first one, in the
order of `pkgutil`) plus the name; for a method, ``"<module>.<Class>.<method>"`` with the
instance under ``"self"``: ``lambda: {"self": MyClass(2), "x": torch.randn(4, 2)}``. The
function must return fresh objects (it is called once per bad input). Then, if a kind of bad
value is in fact valid for a parameter (say a 0-d tensor where any shape is allowed), add it to
``ALLOWED[key][param]``.

Run ``python tests/test_bad_input_sweep.py`` to print the counts and every failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import math
import pkgutil
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

import notes
from notes import attention, checks, diffusion, flows, linear_attention, plotting, receptive_field

# --- discovery -----------------------------------------------------------------------------------


def public_modules() -> Iterator[Any]:
    """Every module of notes with no private part in its name, imported."""
    yield notes
    for info in pkgutil.walk_packages(notes.__path__, "notes."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        yield importlib.import_module(info.name)


@dataclass(frozen=True)
class Target:
    """A public callable: a function, a class (its constructor), or a method of a class."""

    key: str
    obj: Any
    method: str | None = None  # for a method: its name, `obj` being the class


def public_callables() -> list[Target]:
    seen: set[int] = set()
    targets: list[Target] = []
    for module in public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            key = f"{module.__name__}.{name}"
            targets.append(Target(key, obj))
            if inspect.isclass(obj):
                for attr, member in inspect.getmembers(obj):
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    if not getattr(member, "__module__", "").startswith("notes"):
                        continue
                    targets.append(Target(f"{key}.{attr}", obj, attr))
    return targets


# --- valid calls -------------------------------------------------------------------------------
def x2(n: int = 6) -> torch.Tensor:
    """A batch in (0.1, 0.9)^2 (valid for every 2-D layer, Logit included)."""
    return 0.1 + 0.8 * torch.rand(n, 2, generator=torch.Generator().manual_seed(0))


def x2d(d: int, n: int = 6) -> torch.Tensor:
    """A batch in (0.1, 0.9)^d."""
    return 0.1 + 0.8 * torch.rand(n, d, generator=torch.Generator().manual_seed(0))


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def flow2() -> Any:
    return flows.Flow([flows.AffineCoupling(2, hidden=(4,), generator=gen()), flows.Reverse(2)])


def layers() -> dict[str, Callable[[], Any]]:
    return {
        "ActNorm": lambda: flows.ActNorm(2),
        "AdditiveCoupling": lambda: flows.AdditiveCoupling(2, hidden=(4,), generator=gen()),
        "AffineCoupling": lambda: flows.AffineCoupling(2, hidden=(4,), generator=gen()),
        "Chain": lambda: flows.Chain([flows.Scaling(2), flows.Reverse(2)]),
        "InvertibleLinear": lambda: flows.InvertibleLinear(2, generator=gen()),
        "Logit": lambda: flows.Logit(2),
        "Permutation": lambda: flows.Permutation(torch.tensor([1, 0])),
        "Reverse": lambda: flows.Reverse(2),
        "Scaling": lambda: flows.Scaling(2),
    }


def velocity(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return -z * (1 + torch.as_tensor(t).mean())


def mean_grad(w: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
    return w - batch.mean(-2)


def f64(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def figure() -> Any:
    return plotting.figure()[0]


def check_of(v: object) -> Any:
    return checks.close(v, 1.0, atol=0.5, basis="test")


VALID: dict[str, Callable[[], dict[str, Any]]] = {
    # notes.attention
    "notes.attention.attention_entropy": lambda: {"weights": torch.full((2, 4), 0.25)},
    "notes.attention.softmax_jacobian_norm": lambda: {"weights": torch.full((2, 4), 0.25)},
    "notes.attention.attention_logits": lambda: {"q": torch.ones(2, 4), "k": torch.ones(3, 4)},
    "notes.attention.attention_weights": lambda: {"q": torch.ones(2, 4), "k": torch.ones(3, 4)},
    "notes.attention.scaled_dot_product_attention": lambda: {
        "q": torch.ones(2, 4),
        "k": torch.ones(3, 4),
        "v": torch.ones(3, 5),
    },
    "notes.attention.self_attention": lambda: {
        "x": torch.ones(3, 8),
        "w_q": torch.ones(8, 2),
        "w_k": torch.ones(8, 2),
        "w_v": torch.ones(8, 3),
    },
    "notes.attention.projection_stds": lambda: {"d_model": 8, "d_head": 2},
    "notes.attention.init_projections": lambda: {"d_model": 8, "d_head": 2, "generator": gen()},
    # notes.checks
    "notes.checks.Check": lambda: {
        "measured": 1.0,
        "expected": "1",
        "tolerance": 0.1,
        "basis": "exact",
        "passed": True,
    },
    "notes.checks.Check.line": lambda: {"self": check_of(1.0)},
    "notes.checks.standard_error": lambda: {"samples": f64(0.0, 1.0, 2.0)},
    "notes.checks.close": lambda: {"measured": 1.0, "expected": 1.0, "atol": 0.1, "basis": "b"},
    "notes.checks.within_se": lambda: {"measured": 1.0, "expected": 1.0, "se": 0.1, "n": 10},
    "notes.checks.mean": lambda: {"samples": f64(0.9, 1.1, 1.0), "expected": 1.0},
    "notes.checks.at_most": lambda: {"measured": 1.0, "bound": 2.0, "basis": "b"},
    "notes.checks.at_least": lambda: {"measured": 2.0, "bound": 1.0, "basis": "b"},
    "notes.checks.claim": lambda: {
        "statement": "one",
        "check": check_of,
        "value": 1.0,
        "rejects": {"two": 2.0},
    },
    "notes.checks.assert_close": lambda: {"actual": 1.0, "expected": 1.0, "atol": 0.1},
    "notes.checks.assert_mean": lambda: {"samples": f64(0.9, 1.1, 1.0), "expected": 1.0},
    # notes.plotting
    "notes.plotting.figure": dict,
    "notes.plotting.to_svg": lambda: {"fig": figure(), "alt": "a plot"},
    # notes.reparam
    "notes.reparam.gaussian_rsample": lambda: {
        "mu": torch.zeros(2),
        "sigma": torch.ones(2),
        "sample_shape": (3,),
        "generator": gen(),
    },
    "notes.reparam.score_function_gradients": lambda: {
        "f": torch.square,
        "mu": torch.zeros(2),
        "sigma": torch.ones(2),
        "n": 3,
        "generator": gen(),
    },
    "notes.reparam.pathwise_gradients": lambda: {
        "f": torch.square,
        "mu": torch.zeros(2),
        "sigma": torch.ones(2),
        "n": 3,
        "generator": gen(),
    },
    "notes.reparam.probs_to_logits": lambda: {"probs": torch.tensor([0.25, 0.75])},
    "notes.reparam.gumbel": lambda: {"shape": (3,), "generator": gen()},
    "notes.reparam.gumbel_max": lambda: {"logits": torch.zeros(3), "generator": gen()},
    "notes.reparam.gumbel_softmax": lambda: {"logits": torch.zeros(2, 3), "generator": gen()},
    "notes.reparam.concrete_log_prob": lambda: {
        "y": torch.tensor([0.2, 0.3, 0.5]),
        "logits": torch.zeros(3),
        "tau": 1.0,
    },
    "notes.reparam.exact_objective": lambda: {
        "f": lambda y: y @ torch.arange(3.0),
        "logits": torch.zeros(3),
    },
    "notes.reparam.reinforce_gradients": lambda: {
        "f": lambda y: y[:, 1],
        "logits": torch.zeros(3),
        "n": 4,
        "generator": gen(),
    },
    "notes.reparam.relaxed_gradients": lambda: {
        "f": lambda y: y[:, 1],
        "logits": torch.zeros(3),
        "tau": 0.5,
        "n": 4,
        "generator": gen(),
    },
    "notes.reparam.chi_square_gof": lambda: {
        "counts": torch.tensor([4, 6]),
        "probs": torch.tensor([0.5, 0.5]),
    },
    "notes.reparam.chi_square_homogeneity": lambda: {"counts": torch.tensor([[4, 6], [5, 5]])},
    # notes.stochastic_approximation
    "notes.stochastic_approximation.incremental_mean": lambda: {
        "x": f64(1.0, 2.0, 3.0),
        "steps": f64(1.0, 0.5, 0.25),
        "w1": 0.0,
    },
    "notes.stochastic_approximation.power_steps": lambda: {"num_steps": 3, "p": 1.0},
    "notes.stochastic_approximation.harmonic_steps": lambda: {"num_steps": 3},
    "notes.stochastic_approximation.constant_steps": lambda: {"num_steps": 3, "a": 0.1},
    "notes.stochastic_approximation.robbins_monro": lambda: {
        "observe": lambda w, g: w - 1 + 0.1 * torch.randn(w.shape, generator=g, dtype=w.dtype),
        "w1": torch.zeros(3, dtype=torch.float64),
        "steps": f64(1.0, 0.5),
        "generator": gen(),
    },
    "notes.stochastic_approximation.loglog_slope": lambda: {
        "x": f64(1.0, 10.0, 100.0),
        "y": f64(1.0, 0.5, 0.25),
        "rel_se": f64(0.01, 0.01, 0.01),
    },
    "notes.stochastic_approximation.gradient_descent": lambda: {
        "grad": lambda w: w - 3.0,
        "w1": torch.zeros(2, dtype=torch.float64),
        "steps": f64(0.5, 0.5),
    },
    "notes.stochastic_approximation.sample_batches": lambda: {
        "n": 5,
        "num_steps": 2,
        "batch_size": 3,
        "generator": gen(),
    },
    "notes.stochastic_approximation.mbgd": lambda: {
        "grad": mean_grad,
        "data": f64(0.0, 2.0, 4.0).unsqueeze(1),
        "w1": torch.zeros(2, 1, dtype=torch.float64),
        "steps": f64(0.5, 0.5),
        "batch_size": 2,
        "generator": gen(),
    },
    "notes.stochastic_approximation.bgd": lambda: {
        "grad": mean_grad,
        "data": f64(0.0, 2.0, 4.0).unsqueeze(1),
        "w1": torch.zeros(1, dtype=torch.float64),
        "steps": f64(0.5, 0.5),
    },
    "notes.stochastic_approximation.sgd": lambda: {
        "grad": mean_grad,
        "data": f64(0.0, 2.0, 4.0).unsqueeze(1),
        "w1": torch.zeros(1, dtype=torch.float64),
        "steps": f64(0.5, 0.5),
        "generator": gen(),
    },
    "notes.stochastic_approximation.relative_gradient_error": lambda: {
        "stochastic": torch.tensor([[3.0, 4.0]]),
        "full": torch.tensor([[0.0, 2.0]]),
    },
    # notes.initialization
    "notes.initialization.gain": lambda: {"activation": "tanh"},
    "notes.initialization.he_std": lambda: {"fan": 8},
    "notes.initialization.lecun_std": lambda: {"fan_in": 8},
    "notes.initialization.xavier_std": lambda: {"fan_in": 8, "fan_out": 4},
    "notes.initialization.mlp_second_moments": lambda: {
        "depth": 2,
        "width": 4,
        "batch": 2,
        "nets": 2,
        "generator": gen(),
    },
    "notes.initialization.normal": lambda: {"shape": (4,), "std": 0.5, "generator": gen()},
    "notes.initialization.uniform": lambda: {"shape": (4,), "std": 0.5, "generator": gen()},
    "notes.initialization.truncated_normal": lambda: {
        "shape": (4,),
        "std": 0.5,
        "generator": gen(),
    },
    "notes.initialization.truncated_normal_std": lambda: {"bound": 2.0},
    "notes.initialization.relu_log_ratio_moments": lambda: {"width": 8},
    "notes.initialization.second_moment_map": lambda: {"nu": 1.0, "activation": "relu"},
    "notes.initialization.two_layer_sgd_step": lambda: {
        "x": torch.ones(3),
        "width": 4,
        "nets": 2,
        "generator": gen(),
    },
    # notes.flows: functions
    "notes.flows.alternating_mask": lambda: {"dim": 4},
    "notes.flows.checkerboard_mask": lambda: {"height": 2, "width": 3},
    "notes.flows.mlp": lambda: {"in_features": 2, "out_features": 3, "hidden": (4,)},
    "notes.flows.bits_per_dim": lambda: {"log_prob": -1.0, "dim": 4, "levels": 17},
    "notes.flows.normal_log_prob": lambda: {"z": x2()},
    "notes.flows.logistic_log_prob": lambda: {"z": x2()},
    "notes.flows.sample_base": lambda: {"base": "logistic", "n": 3, "dim": 2, "generator": gen()},
    "notes.flows.fit_gaussian": lambda: {"x": x2()},
    "notes.flows.num_threads": lambda: {"n": 1},
    "notes.flows.make_optimizer": lambda: {"model": flow2(), "lr": 0.01},
    "notes.flows.training_step": lambda: {
        "flow": (f := flow2()),
        "optimizer": torch.optim.SGD(f.parameters(), lr=0.01),
        "batch": x2(),
    },
    "notes.flows.fit": lambda: {"flow": flow2(), "x": x2(), "steps": 1, "batch_size": 4},
    "notes.flows.fit_together": lambda: {
        "flows": [flow2(), flow2()],
        "xs": [x2(), x2()],
        "steps": 1,
        "batch_size": 4,
        "generators": [gen(), gen()],
    },
    "notes.flows.two_moons": lambda: {"n": 3, "generator": gen()},
    "notes.flows.two_moons_log_prob": lambda: {"x": x2(), "nodes": 16},
    "notes.flows.eight_gaussians": lambda: {"n": 3, "generator": gen()},
    "notes.flows.eight_gaussians_log_prob": lambda: {"x": x2()},
    "notes.flows.checkerboard": lambda: {"n": 3, "generator": gen()},
    "notes.flows.checkerboard_log_prob": lambda: {"x": x2()},
    "notes.flows.dequantize": lambda: {"q": torch.tensor([[0, 3], [16, 2]]), "levels": 17},
    "notes.flows.load_digits": dict,
    "notes.flows.train_test_split": lambda: {"x": x2(), "test_fraction": 0.5, "generator": gen()},
    "notes.flows.rademacher": lambda: {"shape": (2, 3), "generator": gen()},
    "notes.flows.exact_trace": lambda: {"v": (z := x2().requires_grad_()) ** 2, "z": z},
    "notes.flows.hutchinson_trace": lambda: {
        "v": (z := x2().requires_grad_()) ** 2,
        "z": z,
        "probe": torch.ones(6, 2),
    },
    "notes.flows.divergence": lambda: {"velocity": velocity, "z": x2(), "t": 0.5},
    "notes.flows.odeint": lambda: {
        "velocity": velocity,
        "z": x2(),
        "t0": 0.0,
        "t1": 1.0,
        "steps": 2,
    },
    "notes.flows.cnf_log_prob": lambda: {"velocity": velocity, "x": x2(), "steps": 2},
    "notes.flows.straight_path": lambda: {"x0": x2(), "eps": x2(), "t": torch.rand(6)},
    "notes.flows.flow_matching_loss": lambda: {
        "velocity": velocity,
        "x0": x2(),
        "eps": x2(),
        "t": torch.rand(6),
    },
    "notes.flows.sample_time": lambda: {"n": 3, "generator": gen()},
    "notes.flows.fit_flow_matching": lambda: {
        "velocity": flows.VelocityField(2, (4,), generator=gen()),
        "x0": x2(),
        "steps": 1,
        "batch_size": 4,
        "generator": gen(),
    },
    "notes.flows.euler_sample": lambda: {"velocity": velocity, "eps": x2(), "steps": 2},
    "notes.flows.straightness": lambda: {"velocity": velocity, "eps": x2(), "steps": 2},
    "notes.flows.gaussian_velocity": lambda: {"mean": 1.0, "std": 0.5},
    "notes.flows.energy_distance": lambda: {"x": x2(), "y": x2() + 1},
    # notes.flows: classes
    "notes.flows.ActNorm": lambda: {"dim": 2, "loc": torch.zeros(2), "scale": torch.ones(2)},
    "notes.flows.ActNorm.initialize": lambda: {"self": layers()["ActNorm"](), "x": x2()},
    "notes.flows.AdditiveCoupling": lambda: {"dim": 2, "hidden": (4,), "generator": gen()},
    "notes.flows.AffineCoupling": lambda: {
        "dim": 2,
        "mask": torch.tensor([True, False]),
        "hidden": (4,),
        "generator": gen(),
    },
    "notes.flows.Bijection": lambda: {"dim": 2},
    "notes.flows.BijectionTransform": lambda: {"bijection": layers()["Scaling"]()},
    "notes.flows.BijectionTransform.with_cache": lambda: {
        "self": layers()["Scaling"]().as_transform()
    },
    "notes.flows.BijectionTransform.log_abs_det_jacobian": lambda: {
        "self": layers()["Scaling"]().as_transform(),
        "x": x2(),
        "y": x2(),
    },
    "notes.flows.BijectionTransform.call_and_ladj": lambda: {
        "self": layers()["Scaling"]().as_transform(),
        "x": x2(),
    },
    "notes.flows.Chain": lambda: {"layers": [layers()["Scaling"](), layers()["Reverse"]()]},
    "notes.flows.Flow": lambda: {"layers": [layers()["Scaling"]()], "base": "logistic"},
    "notes.flows.Flow.forward": lambda: {"self": flow2(), "x": x2()},
    "notes.flows.Flow.log_prob": lambda: {"self": flow2(), "x": x2()},
    "notes.flows.Flow.sample": lambda: {"self": flow2(), "n": 3, "generator": gen()},
    "notes.flows.InvertibleLinear": lambda: {"dim": 2, "weight": torch.tensor([[2.0, 1], [0, 1]])},
    "notes.flows.InvertibleLinear.weight": lambda: {"self": layers()["InvertibleLinear"]()},
    "notes.flows.Logit": lambda: {"dim": 2, "alpha": 0.05},
    "notes.flows.Permutation": lambda: {"perm": torch.tensor([2, 0, 1])},
    "notes.flows.Reverse": lambda: {"dim": 3},
    "notes.flows.Scaling": lambda: {"dim": 3},
    "notes.flows.VelocityField": lambda: {"dim": 2, "hidden": (4,), "generator": gen()},
    "notes.flows.VelocityField.forward": lambda: {
        "self": flows.VelocityField(2, (4,), generator=gen()),
        "z": x2(),
        "t": torch.tensor(0.5),
    },
}

# Every Bijection subclass: forward, inverse, call_and_ladj and as_transform on a (6, 2) batch.
for _name in layers():
    _make = layers()[_name]
    VALID[f"notes.flows.{_name}.forward"] = lambda m=_make: {"self": m(), "x": x2()}
    VALID[f"notes.flows.{_name}.call_and_ladj"] = lambda m=_make: {"self": m(), "x": x2()}
    VALID[f"notes.flows.{_name}.inverse"] = lambda m=_make: {"self": m(), "y": x2()}
    VALID[f"notes.flows.{_name}.as_transform"] = lambda m=_make: {"self": m()}

# --- notes.activations, notes.receptive_field, notes.linear_attention, notes.diffusion ---------


def abar8() -> torch.Tensor:
    """A float64 schedule of 8 steps."""
    return diffusion.alpha_bar(diffusion.linear_betas(8, 1e-3, 0.2).double())


def mixture2() -> Any:
    return diffusion.mixture(
        f64(0.5, 0.5),
        f64(-1.0, 1.0).unsqueeze(1),
        torch.full((2, 1, 1), 0.25, dtype=torch.float64),
        torch.tensor([0, 1]),
    )


def denoiser2() -> Any:
    return diffusion.Denoiser(2, 8, "eps", abar8().float(), hidden=4, generator=gen())


def zero_eps(x: torch.Tensor, _t: object) -> torch.Tensor:
    return torch.zeros_like(x)


def edm_denoiser(x: torch.Tensor, sigma: object) -> torch.Tensor:
    return x / (1 + torch.as_tensor(sigma, dtype=x.dtype) ** 2)


def vp_score(x: torch.Tensor, _t: object) -> torch.Tensor:
    return -x


def r64(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def stack3() -> list[Any]:
    return [receptive_field.Layer(3), receptive_field.Layer(2, stride=2, pool=True)]


def gau6() -> Any:
    return linear_attention.init_gau(6, s=4, generator=gen())


VALID.update(
    {
        # notes.activations
        "notes.activations.activation": lambda: {"name": "swish", "x": torch.randn(4), "beta": 1.0},
        "notes.activations.derivative": lambda: {"name": "swish", "x": torch.randn(4), "beta": 1.0},
        "notes.activations.deep_stack": lambda: {
            "phi": "relu",
            "depth": 2,
            "width": 4,
            "gain": 2**0.5,
            "batch": 3,
            "nets": 2,
            "input_mean": 0.0,
            "input_std": 1.0,
            "generator": gen(),
        },
        "notes.activations.ffn_parameter_count": lambda: {"d": 8, "hidden": 16, "gated": True},
        "notes.activations.gain": lambda: {"name": "swish", "beta": 1.0},
        "notes.activations.gated_hidden_width": lambda: {"d": 8, "expansion": 4},
        "notes.activations.gaussian_expectation": lambda: {"f": torch.tanh, "nu": 1.0},
        "notes.activations.glu_ffn": lambda: {
            "x": torch.ones(2, 2),
            "w": torch.zeros(2, 3),
            "v": torch.ones(2, 3),
            "w2": torch.ones(3, 2),
            "gate": "swish",
            "beta": 1.0,
        },
        "notes.activations.gradient_factor": lambda: {
            "name": "swish",
            "nu": 1.0,
            "gain": 1.0,
            "beta": 1.0,
        },
        "notes.activations.mean_field_gradients": lambda: {
            "name": "relu",
            "depth": 3,
            "gain": 2**0.5,
            "input_second_moment": 1.0,
        },
        "notes.activations.scaled_elu": lambda: {"x": torch.randn(4), "lam": 1.05, "alpha": 1.67},
        "notes.activations.scaled_elu_moments": lambda: {"lam": 1.05, "alpha": 1.67, "nu": 1.0},
        "notes.activations.second_moment_map": lambda: {
            "name": "swish",
            "nu": 1.0,
            "gain": 1.0,
            "beta": 1.0,
        },
        "notes.activations.selu_constants": lambda: {
            "mean": 0.0,
            "second_moment": 1.0,
            "steps": 5,
        },
        # notes.receptive_field
        "notes.receptive_field.Field": lambda: {"size": 4, "jump": 2, "start": 0, "centre": 1.5},
        "notes.receptive_field.Layer": lambda: {
            "kernel": 3,
            "stride": 2,
            "padding": 1,
            "dilation": 1,
            "pool": False,
        },
        "notes.receptive_field.effective_width": lambda: {"gradient": torch.tensor([1.0, 0, 1])},
        "notes.receptive_field.field_closed_form": lambda: {"layers": stack3()},
        "notes.receptive_field.field_top_down": lambda: {"layers": stack3()},
        "notes.receptive_field.fit_exponent": lambda: {
            "depths": [1, 4, 16],
            "values": [2.0, 4.0, 8.0],
        },
        "notes.receptive_field.input_gradient": lambda: {
            "layers": stack3(),
            "n": 8,
            "unit": 1,
            "weights": "normal",
            "generator": gen(),
        },
        "notes.receptive_field.output_sizes": lambda: {"layers": stack3(), "n": 8},
        "notes.receptive_field.support": lambda: {"gradient": torch.tensor([0.0, 0.5, 0, 0.2])},
        # notes.linear_attention
        "notes.linear_attention.GAUParameters": lambda: gau6()._asdict(),
        "notes.linear_attention.elu_plus_one": lambda: {"x": torch.randn(3, 2)},
        "notes.linear_attention.linear_attention": lambda: {
            "q": r64(5, 4, seed=1),
            "k": r64(5, 4, seed=2),
            "v": r64(5, 3, seed=3),
            "feature_map": "elu+1",
            "order": "left",
        },
        "notes.linear_attention.linear_attention_weights": lambda: {
            "q": r64(2, 4, seed=1),
            "k": r64(5, 4, seed=2),
            "feature_map": "elu+1",
        },
        "notes.linear_attention.causal_linear_attention": lambda: {
            "q": r64(5, 4, seed=1),
            "k": r64(5, 4, seed=2),
            "v": r64(5, 3, seed=3),
            "feature_map": "elu+1",
        },
        "notes.linear_attention.squared_relu_attention": lambda: {
            "q": r64(5, 4, seed=1),
            "k": r64(5, 4, seed=2),
            "v": r64(5, 3, seed=3),
        },
        "notes.linear_attention.gaussian_projection": lambda: {
            "r": 3,
            "d": 3,
            "orthogonal": True,
            "batch": (2,),
            "generator": gen(),
            "dtype": torch.float64,
        },
        "notes.linear_attention.positive_random_features": lambda: {
            "x": r64(3, 2, seed=1),
            "w": r64(4, 2, seed=2),
        },
        "notes.linear_attention.trigonometric_random_features": lambda: {
            "x": r64(3, 2, seed=1),
            "w": r64(4, 2, seed=2),
        },
        "notes.linear_attention.random_feature_map": lambda: {"w": r64(4, 2), "scale": 1.0},
        "notes.linear_attention.softmax_kernel_variance": lambda: {
            "x": f64(0.5, 0.0),
            "y": f64(0.5, 0.0),
            "r": 2,
            "features": "positive",
        },
        "notes.linear_attention.init_gau": lambda: {
            "d": 6,
            "e": 8,
            "s": 4,
            "generator": gen(),
            "dtype": torch.float64,
        },
        "notes.linear_attention.gated_attention_unit": lambda: {
            "x": torch.randn(8, 6, generator=gen()),
            "params": gau6(),
            "causal": True,
            "chunk": 4,
        },
        "notes.linear_attention.mixed_chunk_attention": lambda: {
            "q": r64(8, 3, seed=1),
            "k": r64(8, 3, seed=2),
            "q_lin": r64(8, 3, seed=3),
            "k_lin": r64(8, 3, seed=4),
            "v": r64(8, 3, seed=5),
            "chunk": 4,
            "causal": True,
        },
        "notes.linear_attention.mixed_chunk_weights": lambda: {
            "q": r64(8, 3, seed=1),
            "k": r64(8, 3, seed=2),
            "q_lin": r64(8, 3, seed=3),
            "k_lin": r64(8, 3, seed=4),
            "chunk": 4,
            "causal": True,
        },
        "notes.linear_attention.interleaved_times": lambda: {
            "steps": {"a": lambda: None, "b": lambda: None},
            "rounds": 2,
            "threads": 1,
        },
        "notes.linear_attention.matmul_flops": lambda: {"fn": lambda: None},
        "notes.linear_attention.growth_exponent": lambda: {
            "n": torch.tensor([1.0, 2.0, 4.0, 8.0]),
            "t": torch.tensor([3.0, 12.0, 48.0, 192.0]),
        },
        "notes.linear_attention.crossover": lambda: {
            "n": torch.tensor([10.0, 100.0, 1000.0]),
            "t_a": torch.tensor([100.0, 1e4, 1e6]),
            "t_b": torch.tensor([500.0, 5e3, 5e4]),
        },
        # notes.diffusion: schedules
        "notes.diffusion.linear_betas": lambda: {"T": 8, "beta_1": 1e-3, "beta_T": 0.2},
        "notes.diffusion.cosine_betas": lambda: {"T": 8, "offset": 0.008, "max_beta": 0.999},
        "notes.diffusion.alpha_bar": lambda: {"betas": f64(0.1, 0.2, 0.3)},
        "notes.diffusion.snr": lambda: {"abar": abar8()},
        "notes.diffusion.ddpm_to_edm": lambda: {"abar": abar8()},
        "notes.diffusion.edm_to_ddpm": lambda: {
            "s": (1 + f64(0.25, 1.0)) ** -0.5,
            "sigma": f64(0.5, 1.0),
        },
        "notes.diffusion.flow_to_edm": lambda: {"t": f64(0.25, 0.5)},
        "notes.diffusion.edm_to_flow": lambda: {"sigma": f64(0.5, 1.0)},
        "notes.diffusion.edm_sigmas": lambda: {
            "n": 3,
            "sigma_min": 1.0,
            "sigma_max": 9.0,
            "rho": 7.0,
        },
        "notes.diffusion.timesteps": lambda: {"T": 8, "n": 4, "spacing": "leading"},
        # notes.diffusion: forward process and conversions
        "notes.diffusion.q_sample": lambda: {"x0": r64(3, 2), "abar_t": 0.25, "eps": r64(3, 2)},
        "notes.diffusion.simulate_chain": lambda: {
            "x0": torch.zeros(4, 2),
            "betas": torch.full((3,), 0.5),
            "t": 2,
            "generator": gen(),
        },
        "notes.diffusion.posterior": lambda: {
            "x0": r64(3, 2, seed=1),
            "xt": r64(3, 2, seed=2),
            "t": 1,
            "betas": f64(0.1, 0.2, 0.3),
        },
        "notes.diffusion.eps_to_x0": lambda: {"xt": r64(3, 2), "eps": r64(3, 2), "abar_t": 0.25},
        "notes.diffusion.x0_to_eps": lambda: {"xt": r64(3, 2), "x0": r64(3, 2), "abar_t": 0.25},
        "notes.diffusion.eps_to_score": lambda: {"eps": r64(3, 2), "abar_t": 0.75},
        "notes.diffusion.score_to_eps": lambda: {"score": r64(3, 2), "abar_t": 0.75},
        "notes.diffusion.v_target": lambda: {"x0": r64(3, 2), "eps": r64(3, 2), "abar_t": 0.5},
        "notes.diffusion.v_to_eps": lambda: {"xt": r64(3, 2), "v": r64(3, 2), "abar_t": 0.5},
        "notes.diffusion.eps_to_v": lambda: {"xt": r64(3, 2), "eps": r64(3, 2), "abar_t": 0.25},
        "notes.diffusion.tweedie": lambda: {"xt": r64(3, 2), "score": r64(3, 2), "abar_t": 0.5},
        # notes.diffusion: the mixture testbed
        "notes.diffusion.mixture": lambda: {
            "weights": f64(0.5, 0.5),
            "means": f64(-1.0, 1.0).unsqueeze(1),
            "covs": torch.full((2, 1, 1), 0.25, dtype=torch.float64),
            "labels": torch.tensor([0, 1]),
        },
        "notes.diffusion.GaussianMixture": lambda: {
            "weights": f64(0.5, 0.5),
            "means": f64(-1.0, 1.0).unsqueeze(1),
            "covs": torch.full((2, 1, 1), 0.25, dtype=torch.float64),
            "labels": torch.tensor([0, 1]),
        },
        "notes.diffusion.GaussianMixture.noised": lambda: {
            "self": mixture2(),
            "s": 0.8,
            "sigma": 0.5,
        },
        "notes.diffusion.GaussianMixture.condition": lambda: {"self": mixture2(), "label": 1},
        "notes.diffusion.GaussianMixture.sample": lambda: {
            "self": mixture2(),
            "n": 3,
            "generator": gen(),
        },
        # notes.diffusion: samplers
        "notes.diffusion.mixture_eps": lambda: {"m": mixture2(), "abar": abar8()},
        "notes.diffusion.ddim_step": lambda: {
            "x": r64(3, 2),
            "eps": r64(3, 2, seed=1),
            "a_t": 0.25,
            "a_prev": 0.5,
            "eta": 0.5,
            "noise": r64(3, 2, seed=2),
        },
        "notes.diffusion.ddim_sample": lambda: {
            "eps_model": zero_eps,
            "abar": abar8(),
            "ts": diffusion.timesteps(8, 3),
            "x": r64(3, 2),
            "eta": 0.5,
            "generator": gen(),
        },
        "notes.diffusion.ddpm_sample": lambda: {
            "eps_model": zero_eps,
            "abar": abar8(),
            "ts": diffusion.timesteps(8, 3),
            "x": r64(3, 2),
            "generator": gen(),
        },
        "notes.diffusion.vp_schedule": lambda: {"t": 0.5, "beta_min": 0.1, "beta_max": 20.0},
        "notes.diffusion.vp_drift": lambda: {
            "score": -r64(3, 2),
            "x": r64(3, 2),
            "beta": 2.0,
            "ode": True,
        },
        "notes.diffusion.vp_reverse_sample": lambda: {
            "score": vp_score,
            "x": r64(3, 2),
            "steps": 3,
            "ode": False,
            "t_min": 1e-3,
            "beta_min": 0.1,
            "beta_max": 20.0,
            "generator": gen(),
            "trajectory": True,
        },
        "notes.diffusion.ode_sample": lambda: {
            "denoiser": edm_denoiser,
            "x": r64(3, 2),
            "sigmas": f64(2.0, 1.0, 0.0),
            "method": "heun",
            "trajectory": True,
        },
        "notes.diffusion.edm_sample": lambda: {
            "denoiser": edm_denoiser,
            "eps": r64(3, 2),
            "n": 3,
            "sigma_min": 0.002,
            "sigma_max": 80.0,
            "rho": 7.0,
            "method": "euler",
        },
        "notes.diffusion.precondition": lambda: {"sigma": f64(0.5, 2.0), "sigma_data": 0.5},
        # notes.diffusion: guidance
        "notes.diffusion.classifier_free_guidance": lambda: {
            "uncond": r64(3, 2),
            "cond": r64(3, 2, seed=1),
            "scale": 3.0,
        },
        "notes.diffusion.classifier_guidance": lambda: {
            "score": r64(3, 2),
            "class_grad": r64(3, 2, seed=1),
            "scale": 2.0,
        },
        # notes.diffusion: the small trained model
        "notes.diffusion.Denoiser": lambda: {
            "dim": 2,
            "T": 8,
            "target": "v",
            "abar": abar8().float(),
            "hidden": 4,
            "generator": gen(),
        },
        "notes.diffusion.Denoiser.forward": lambda: {
            "self": denoiser2(),
            "x": torch.zeros(3, 2),
            "t": torch.tensor([0, 3, 7]),
        },
        "notes.diffusion.Denoiser.eps": lambda: {
            "self": denoiser2(),
            "x": torch.zeros(3, 2),
            "t": 3,
        },
        "notes.diffusion.fit_denoiser": lambda: {
            "net": denoiser2(),
            "x0": torch.randn(8, 2, generator=gen()),
            "steps": 1,
            "batch_size": 4,
            "lr": 0.003,
            "generator": gen(),
        },
    }
)


def bump5() -> torch.Tensor:
    """A 5 x 5 grid with one strict local maximum at its centre."""
    x = torch.linspace(-1, 1, 5)
    return (-(x[:, None] ** 2) - x[None, :] ** 2).exp()


def table2() -> torch.Tensor:
    """A fitted histogram of D = 2 features with Q = 2 levels."""
    return flows.fit_histogram(torch.tensor([[0, 1], [1, 1], [0, 0]]), levels=2)


VALID.update(
    {
        "notes.attention.first_update": lambda: {
            "weight": torch.full((2, 3), 0.5),
            "grad": torch.tensor([[1.0, -2.0, 0.5], [0.25, 4.0, -1.0]]),
            "optimizer": "adafactor",
            "lr": 0.01,
        },
        "notes.initialization.post_norm_input_weight": lambda: {
            "depth": 2,
            "width": 4,
            "init": "he",
            "activation": "relu",
            "batch": 2,
            "nets": 2,
            "generator": gen(),
        },
        "notes.linear_attention.round_exponents": lambda: {
            "n": torch.tensor([1.0, 2.0, 4.0]),
            "times": torch.tensor([[1.0, 1.0], [2.0, 4.0], [4.0, 16.0]]),
        },
        "notes.flows.fit_histogram": lambda: {
            "q": torch.tensor([[0, 1], [1, 1], [0, 0]]),
            "levels": 2,
            "pseudocount": 1.0,
        },
        "notes.flows.histogram_log_prob": lambda: {
            "log_table": table2(),
            "x": torch.tensor([[0.25, 0.75], [0.5, 0.1]]),
        },
        "notes.flows.local_maxima": lambda: {"values": bump5(), "floor": 1e-3},
        "notes.flows.squeeze_permutation": lambda: {"channels": 1, "height": 2, "width": 4},
        "notes.flows.Squeeze": lambda: {"channels": 1, "height": 2, "width": 2},
        "notes.flows.FactorOut": lambda: {"factored": 1, "inner": flows.Scaling(1)},
    }
)
for _name, _make, _dim in (
    ("Squeeze", lambda: flows.Squeeze(1, 2, 2), 4),  # D = 4: one 2 x 2 image
    ("FactorOut", lambda: flows.FactorOut(1, flows.Scaling(1)), 2),
):
    VALID[f"notes.flows.{_name}.forward"] = lambda m=_make, d=_dim: {"self": m(), "x": x2d(d)}
    VALID[f"notes.flows.{_name}.call_and_ladj"] = lambda m=_make, d=_dim: {
        "self": m(),
        "x": x2d(d),
    }
    VALID[f"notes.flows.{_name}.inverse"] = lambda m=_make, d=_dim: {"self": m(), "y": x2d(d)}
    VALID[f"notes.flows.{_name}.as_transform"] = lambda m=_make: {"self": m()}

for _method in ("log_prob", "responsibilities", "score", "denoise"):
    VALID[f"notes.diffusion.GaussianMixture.{_method}"] = lambda: {
        "self": mixture2(),
        "x": r64(3, 1),
        "s": 0.8,
        "sigma": 0.5,
    }
VALID["notes.diffusion.GaussianMixture.class_log_prob"] = lambda: {
    "self": mixture2(),
    "x": r64(3, 1),
    "label": 1,
    "s": 0.8,
    "sigma": 0.5,
}

# Methods of the abstract base, which only raise NotImplementedError.
ABSTRACT = {
    "notes.flows.Bijection.forward",
    "notes.flows.Bijection.inverse",
    "notes.flows.Bijection.call_and_ladj",
    "notes.flows.Bijection.as_transform",
}

# Kinds of "bad" value that are valid for a parameter, with the reason.
ALLOWED: dict[str, dict[str, set[str]]] = {
    # fn is run for the products it performs; what it returns is not used
    "notes.linear_attention.matmul_flops": {"fn": {"returns"}},
    # any shape is allowed: mu and sigma broadcast, w1 of Robbins-Monro is any shape
    "notes.reparam.gaussian_rsample": {"mu": {"rank", "empty"}, "sigma": {"rank", "empty"}},
    "notes.reparam.score_function_gradients": {"mu": {"rank"}, "sigma": {"rank"}},
    "notes.reparam.pathwise_gradients": {"mu": {"rank"}, "sigma": {"rank"}},
    "notes.stochastic_approximation.robbins_monro": {
        "w1": {"rank", "empty", "wider"},
        "steps": {"wider"},
    },
    # counts are integers or floats alike
    "notes.reparam.chi_square_gof": {"counts": {"int-dtype"}},
    # dim is a class dimension, which may be 0 or negative; logits of any batch shape
    "notes.reparam.gumbel_softmax": {"dim": {"zero", "negative"}, "logits": {"rank", "empty"}},
    "notes.reparam.probs_to_logits": {"dim": {"zero", "negative"}},
    # the number of samples K and the width d are free
    "notes.stochastic_approximation.incremental_mean": {"x": {"wider"}},
    "notes.stochastic_approximation.gradient_descent": {"steps": {"wider"}, "w1": {"wider"}},
    "notes.stochastic_approximation.mbgd": {
        "steps": {"wider"},
        "w1": {"wider", "rank", "empty"},  # zero runs
        "data": {"wider"},
    },
    "notes.stochastic_approximation.bgd": {
        "steps": {"wider"},
        "w1": {"wider", "rank"},
        "data": {"wider"},
    },
    "notes.stochastic_approximation.sgd": {
        "steps": {"wider"},
        "w1": {"wider", "rank"},
        "data": {"wider"},
    },
    "notes.stochastic_approximation.loglog_slope": {},
    # v has its own width d_v; attention accepts any batch shape
    "notes.attention.scaled_dot_product_attention": {"v": {"wider"}},
    "notes.attention.self_attention": {"w_v": {"wider"}, "x": {"rank"}},
    # zero rows of weights give zero results
    "notes.attention.attention_entropy": {"weights": {"empty"}},
    "notes.attention.softmax_jacobian_norm": {"weights": {"empty"}},
    # n = 0 draws nothing, as torch.randn(0, D) does; None leaves the thread count alone
    "notes.flows.sample_base": {"n": {"zero"}},
    "notes.flows.num_threads": {"n": {"none"}},
    # log-densities of points of shape (*, D): a 1-D z is one point; any dtype can be split
    "notes.flows.normal_log_prob": {"z": {"rank"}},
    "notes.flows.logistic_log_prob": {"z": {"rank"}},
    "notes.flows.train_test_split": {"x": {"int-dtype"}},
    # a value that fails a check is a measured value like any other
    "notes.checks.Check": {"measured": {"nan", "inf"}},
    "notes.checks.close": {"measured": {"nan", "inf"}},
    "notes.checks.within_se": {"measured": {"nan", "inf"}},
    "notes.checks.at_most": {"measured": {"nan", "inf"}, "bound": {"inf", "zero", "negative"}},
    "notes.checks.at_least": {"measured": {"nan", "inf"}, "bound": {"inf", "zero", "negative"}},
    # the value goes to the caller's check, which answers for it; a failing claim raises
    # AssertionError, which is its job
    "notes.checks.claim": {"value": {"nan", "inf", "none", "str", "bool"}},
    "notes.checks.assert_close": {"actual": {"nan", "inf"}},
    # integer samples (counts) have a mean and a standard error like any others
    "notes.checks.standard_error": {"samples": {"int-dtype"}},
    "notes.checks.mean": {"samples": {"int-dtype"}},
    "notes.checks.assert_mean": {"samples": {"int-dtype"}},
    # activations act entry by entry on a tensor of any shape; the ELU's alpha is any value
    # >= 0 (the "range" values are those of the Logit's alpha, whose 0.5 is valid here)
    "notes.activations.activation": {"x": {"rank"}},
    "notes.activations.derivative": {"x": {"rank"}},
    "notes.activations.scaled_elu": {"x": {"rank"}, "alpha": {"range"}},
    "notes.activations.scaled_elu_moments": {"alpha": {"range"}},
    # the values have their own width d_v; elu + 1 acts entry by entry on any shape
    "notes.linear_attention.linear_attention": {"v": {"wider"}},
    "notes.linear_attention.causal_linear_attention": {"v": {"wider"}},
    "notes.linear_attention.squared_relu_attention": {"v": {"wider"}},
    "notes.linear_attention.mixed_chunk_attention": {"v": {"wider"}},
    "notes.linear_attention.elu_plus_one": {"x": {"rank"}},
    # schedule maps act entry by entry on a tensor of any shape
    "notes.diffusion.snr": {"abar": {"rank"}},
    "notes.diffusion.ddpm_to_edm": {"abar": {"rank"}},
    "notes.diffusion.flow_to_edm": {"t": {"rank"}},
    "notes.diffusion.edm_to_flow": {"sigma": {"rank"}},
    "notes.diffusion.precondition": {"sigma": {"rank"}},
    "notes.diffusion.eps_to_score": {"eps": {"rank"}},
    "notes.diffusion.score_to_eps": {"score": {"rank"}},
    # sigma = 0 is the clean data (the default); any guidance scale is valid (0 unconditional,
    # 1 conditional, > 1 guided, < 0 steered away)
    **{
        f"notes.diffusion.GaussianMixture.{m}": {"sigma": {"zero"}}
        for m in ("noised", "log_prob", "class_log_prob", "responsibilities", "score", "denoise")
    },
    "notes.diffusion.classifier_free_guidance": {"scale": {"zero", "negative"}},
    "notes.diffusion.classifier_guidance": {"scale": {"zero", "negative"}},
    # the data dimension D and the length T of the schedule are free
    "notes.diffusion.simulate_chain": {"x0": {"wider"}, "betas": {"wider"}},
    "notes.diffusion.posterior": {"betas": {"wider"}},
    "notes.diffusion.ddim_sample": {"abar": {"wider"}, "x": {"wider"}},
    "notes.diffusion.ddpm_sample": {"abar": {"wider"}, "x": {"wider"}},
    "notes.diffusion.ode_sample": {"x": {"wider"}},
    # the log-density of a point may be -inf; bits per dim of it is inf
    "notes.flows.bits_per_dim": {},
    # a grid of counts (a 2-D histogram) has modes like a density sampled as floats
    "notes.flows.local_maxima": {"values": {"int-dtype"}},
    # the number of timing rounds R (columns of times) is free
    "notes.linear_attention.round_exponents": {"times": {"wider"}},
}

# Names of numbers that must be > 0 (zero and negative values are bad), and per-name ranges.
POSITIVE = {
    "n", "steps", "num_steps", "batch_size", "depth", "width", "nets", "batch", "levels",
    "nodes", "fan", "fan_in", "fan_out", "d_model", "d_head", "height", "dim", "in_features",
    "out_features", "nrows", "ncols", "tau", "std", "sigma", "lr", "temperature", "scale",
    "noise", "radius", "bound", "gain", "k", "a", "se", "threads",
}  # fmt: skip
NONNEGATIVE = {"p", "offset", "nu", "rtol", "atol", "tolerance", "cache_size"}
RANGES: dict[str, list[object]] = {
    "test_fraction": [0.0, 1.0],
    "alpha": [0.5, -0.1],
    "parity": [2, -1],
}
CHOICES = {
    "method", "base", "schedule", "activation", "init", "norm", "parameterization",
}  # fmt: skip


# --- bad values ----------------------------------------------------------------------------------
def wrong_rank(t: torch.Tensor) -> torch.Tensor:
    if t.dim() == 0:
        return t.expand(2, 3).clone()
    if t.dim() == 1:
        return t[0].clone()
    return t.reshape(-1).clone()


def bad_values(
    name: str, valid: object, annotation: str, default: object, n_tensors: int
) -> list[tuple[str, object]]:
    """Generic bad values for one parameter, as (kind, value)."""
    none_ok = default is None or "None" in annotation
    bad: list[tuple[str, object]] = [] if none_ok else [("none", None)]
    if isinstance(valid, torch.Tensor):
        bad.append(("str", "tensor"))
        if valid.dim() > 0:  # the list of a 0-d tensor is a valid number
            bad.append(("list", valid.tolist()))
        if valid.dtype.is_floating_point:
            if valid.numel():
                for kind, fill in (("nan", math.nan), ("inf", math.inf)):
                    t = valid.detach().clone()
                    t.view(-1)[0] = fill
                    bad.append((kind, t.requires_grad_(valid.requires_grad)))
            bad.append(("int-dtype", valid.detach().long()))
        elif valid.dtype != torch.bool:
            bad.append(("float-dtype", valid.double() + 0.5))
        bad.append(("rank", wrong_rank(valid.detach())))
        if valid.dim() >= 1 and valid.shape[0] > 0:
            bad.append(("empty", valid.detach()[:0].clone()))
        if n_tensors >= 2 and valid.dim() >= 1:
            bad.append(("wider", torch.cat([valid.detach(), valid.detach()[..., :1]], -1)))
        return bad
    if isinstance(valid, bool) or "bool" in annotation.split(" | "):
        return [*bad, ("int", 1), ("str", "yes")]
    if isinstance(valid, int | float) or re.search(r"\b(int|float)\b", annotation):
        bad += [("str", "1"), ("bool", True), ("nan", math.nan), ("inf", math.inf)]
        if isinstance(valid, int) or annotation.startswith("int"):
            bad.append(("float", 1.5))
        if name in POSITIVE:
            bad += [("zero", 0), ("negative", -1)]
        if name in NONNEGATIVE:
            bad.append(("negative", -1))
        bad += [("range", v) for v in RANGES.get(name, [])]
        return bad
    if isinstance(valid, str) or "str" in annotation or "Literal" in annotation:
        if name in CHOICES or "Literal" in annotation:
            bad.append(("choice", "nope"))
        elif name in {"basis", "statement"}:
            bad.append(("empty", ""))
        return [*bad, ("int", 1)]
    if isinstance(valid, torch.Generator) or "Generator" in annotation:
        return [*bad, ("str", "seed"), ("int", 0)]
    if isinstance(valid, torch.dtype) or "dtype" in annotation:
        return [*bad, ("int-dtype", torch.int64), ("str", "float32")]
    if isinstance(valid, tuple | list | torch.Size) or "Sequence" in annotation:
        if name == "layers":
            return [*bad, ("empty", []), ("str", "layers"), ("item", [nn.Linear(2, 2)])]
        return [*bad, ("str", "ab"), ("negative", (-1,)), ("float", (1.5,))]
    if isinstance(valid, dict) or "Mapping" in annotation:
        return [*bad, ("str", "x"), ("int", 1)]
    if callable(valid) and not isinstance(valid, nn.Module | type):
        return [*bad, ("str", "f"), ("float", 1.0), ("returns", lambda *_: torch.zeros(()))]
    # an object of some class: a model, an optimizer, a figure, a layer
    bad += [("str", "x"), ("float", 1.0)]
    if name in {"flow", "bijection"}:
        bad.append(("module", nn.Linear(2, 2)))
    return bad


# --- the sweep -----------------------------------------------------------------------------------
def nonfinite(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(value.dtype.is_floating_point and not torch.isfinite(value).all())
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, tuple | list):
        return any(nonfinite(v) for v in value)
    if isinstance(value, dict):
        return any(nonfinite(v) for v in value.values())
    return False


def names(message: str, param: str) -> bool:
    """Whether an error message names the parameter as ours do ("x must ...", "x and y must")."""
    p = re.escape(param)
    return bool(
        re.search(rf"(?<![\w.]){p}(\[[^\]]*\])*( and \w+)? (must|has|of shape)", message)
        or re.search(rf"\w+ and {p} must", message)
        or re.search(rf"(shape|dtype|rows|columns|dimension) of {p}\b", message)
    )


@dataclass
class Outcome:
    key: str
    param: str
    kind: str
    verdict: str  # clear, unclear, accepted, nan
    detail: str = ""


@dataclass
class Sweep:
    callables: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # a registered valid call that fails
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(o.verdict for o in self.outcomes)

    def summary(self) -> str:
        c = self.counts()
        total = len(self.outcomes)
        share = c["clear"] / total if total else 0.0
        return (
            f"bad-input sweep: {len(self.callables)} callables, {total} bad inputs, "
            f"{c['clear']} clear errors ({share:.1%}), {c['unclear']} unclear, "
            f"{c['accepted']} accepted, {c['nan']} NaN/inf"
        )


def invoke(target: Target, kwargs: dict[str, Any]) -> object:
    kwargs = dict(kwargs)
    fn = getattr(kwargs.pop("self"), target.method) if target.method else target.obj
    result = fn(**kwargs)
    if isinstance(result, contextlib.AbstractContextManager):
        with result as entered:
            return entered
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return None  # a Check may hold a NaN measurement: that is its job
    return result


def parameters(target: Target) -> list[inspect.Parameter]:
    fn = getattr(target.obj, target.method) if target.method else target.obj
    return [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def run_sweep(prefix: str = "notes") -> Sweep:
    sweep = Sweep()
    ledger = list(checks._LEDGER)
    threads = torch.get_num_threads()
    try:
        for target in public_callables():
            if target.key in ABSTRACT or not target.key.startswith(prefix):
                continue
            sweep.callables.append(target.key)
            if target.key not in VALID:
                sweep.missing.append(target.key)
                continue
            make = VALID[target.key]
            try:
                result = invoke(target, make())
            except Exception as error:  # noqa: BLE001 - reported as a broken registry entry
                sweep.broken.append(f"{target.key}: {type(error).__name__}: {error}")
                continue
            if nonfinite(result):
                sweep.broken.append(f"{target.key}: the valid call returns NaN or inf")
            params = parameters(target)
            example = make()
            n_tensors = sum(isinstance(example.get(p.name), torch.Tensor) for p in params)
            for p in params:
                valid = example.get(p.name, p.default)
                if valid is inspect.Parameter.empty:
                    continue
                annotation = str(p.annotation) if p.annotation is not p.empty else ""
                allowed = ALLOWED.get(target.key, {}).get(p.name, set())
                for kind, value in bad_values(p.name, valid, annotation, p.default, n_tensors):
                    if kind in allowed:
                        continue
                    kwargs = make()
                    kwargs[p.name] = value
                    outcome = classify(target, kwargs, p.name, kind)
                    if outcome.verdict != "row-wise":
                        sweep.outcomes.append(outcome)
    finally:
        checks._LEDGER[:] = ledger
        torch.set_num_threads(threads)
        plt.close("all")
    return sweep


def all_empty(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 0
    if isinstance(value, tuple | list):
        return all(all_empty(v) for v in value)
    return False


def classify(target: Target, kwargs: dict[str, Any], param: str, kind: str) -> Outcome:
    try:
        result = invoke(target, kwargs)
    except (ValueError, TypeError) as error:
        message = str(error)
        verdict = "clear" if names(message, param) else "unclear"
        return Outcome(target.key, param, kind, verdict, f"{type(error).__name__}: {message}")
    except Exception as error:  # noqa: BLE001 - the point is to see what escapes
        return Outcome(target.key, param, kind, "unclear", f"{type(error).__name__}: {error}")
    if kind == "empty" and all_empty(result):
        return Outcome(target.key, param, kind, "row-wise")  # no rows in, no rows out: valid
    verdict = "nan" if nonfinite(result) else "accepted"
    return Outcome(target.key, param, kind, verdict)


# --- the tests -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sweep() -> Sweep:
    result = run_sweep()
    print(result.summary())
    return result


def test_every_public_callable_has_a_valid_call(sweep: Sweep) -> None:
    assert not sweep.missing, (
        "register a valid call in VALID of tests/test_bad_input_sweep.py for each of "
        + ", ".join(sweep.missing)
        + ', e.g. VALID["notes.module.function"] = lambda: {"x": torch.randn(4, 2)}'
    )
    assert not sweep.broken, "registered valid calls that fail: " + "; ".join(sweep.broken)


def test_the_sweep_is_large_enough(sweep: Sweep) -> None:
    assert len(sweep.callables) >= 100
    assert len(sweep.outcomes) >= 2000


def test_no_bad_input_returns_nan_or_inf(sweep: Sweep) -> None:
    bad = [o for o in sweep.outcomes if o.verdict == "nan"]
    assert not bad, "\n".join(f"{o.key}({o.param}={o.kind})" for o in bad)


def test_no_bad_input_is_accepted(sweep: Sweep) -> None:
    bad = [o for o in sweep.outcomes if o.verdict == "accepted"]
    assert not bad, "\n".join(f"{o.key}({o.param}={o.kind})" for o in bad)


def test_every_bad_input_gets_an_error_naming_the_parameter(sweep: Sweep) -> None:
    bad = [o for o in sweep.outcomes if o.verdict == "unclear"]
    assert not bad, "\n".join(f"{o.key}({o.param}={o.kind}): {o.detail}" for o in bad)
    counts = sweep.counts()
    assert counts["clear"] >= 0.98 * len(sweep.outcomes)


def test_a_new_public_function_without_a_valid_call_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def new_function(x: torch.Tensor) -> torch.Tensor:
        return x

    monkeypatch.setattr(attention, "new_function", new_function, raising=False)
    monkeypatch.setattr(attention, "__all__", [*attention.__all__, "new_function"])
    result = run_sweep("notes.attention")
    assert result.missing == ["notes.attention.new_function"]


if __name__ == "__main__":
    result = run_sweep(*sys.argv[1:])
    for outcome in result.outcomes:
        if outcome.verdict != "clear":
            print(
                f"{outcome.verdict:9} {outcome.key}({outcome.param}={outcome.kind}) {outcome.detail}"
            )
    for line in result.missing + result.broken:
        print("registry:", line)
    print(result.summary())
    sys.exit(0)
