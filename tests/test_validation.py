"""The one validation module, `notes._validate`, and one test per finding of issue 12.

The first half checks each rule of `notes._validate` on a valid value (returned unchanged or
converted as documented) and on the values it must refuse, matching the message: it names the
parameter, the value and the rule. The second half has one test per finding of the bad-input
sweep in issue 12, each named after the behaviour it pins down.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from notes import _validate as v
from notes.flows import (
    AffineCoupling,
    BijectionTransform,
    Flow,
    Logit,
    Reverse,
    Scaling,
    cnf_log_prob,
    divergence,
    euler_sample,
    exact_trace,
    fit,
    flow_matching_loss,
    make_optimizer,
    odeint,
    straight_path,
    training_step,
)
from notes.initialization import truncated_normal, two_layer_sgd_step
from notes.reparam import chi_square_gof, gumbel_softmax
from notes.stochastic_approximation import incremental_mean

F32, F64 = torch.float32, torch.float64


def raises(error: type[Exception], message: str) -> pytest.RaisesExc[Exception]:
    return pytest.raises(error, match=re.escape(message))


# --- numbers -------------------------------------------------------------------------------------
def test_real_returns_a_float_and_accepts_a_zero_dim_tensor() -> None:
    assert v.real("tau", 2) == 2.0
    assert isinstance(v.real("tau", 2), float)
    assert v.real("tau", torch.tensor(0.5)) == 0.5


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (True, TypeError, "tau must be a real number, got True"),
        (None, TypeError, "tau must be a real number, got None"),
        ("1", TypeError, "tau must be a real number, got '1'"),
        (torch.tensor(True), TypeError, "tau must be a real number, got a bool tensor"),
        (math.nan, ValueError, "tau must be finite, got nan"),
        (math.inf, ValueError, "tau must be finite, got inf"),
        (0.0, ValueError, "tau must be > 0, got 0.0"),
    ],
    ids=["bool", "none", "str", "bool-tensor", "nan", "inf", "zero"],
)
def test_real_refuses_bools_strings_non_finite_and_out_of_range(
    value: object, error: type[Exception], message: str
) -> None:
    with raises(error, message):
        v.real("tau", value, gt=0)


def test_real_allows_inf_or_nan_only_when_asked() -> None:
    assert v.real("bound", math.inf, finite=False) == math.inf
    with raises(ValueError, "bound must be finite, got nan"):
        v.real("bound", math.nan, finite=False)
    assert math.isnan(v.real("measured", math.nan, finite=False, nan=True))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: v.integer("n", 1.0), TypeError, "n must be an int, got 1.0"),
        (lambda: v.integer("n", True), TypeError, "n must be an int, got True"),
        (lambda: v.integer("n", -1, minimum=0), ValueError, "n must be an int >= 0, got -1"),
        (lambda: v.integer("n", 2, maximum=1), ValueError, "n must be an int <= 1, got 2"),
        (lambda: v.positive_int("n", 0), ValueError, "n must be an int >= 1, got 0"),
        (lambda: v.positive_float("tau", True), TypeError, "tau must be a float, got bool"),
        (lambda: v.positive_float("tau", -1.0), ValueError, "tau must be > 0 and finite"),
    ],
    ids=["int-float", "int-bool", "int-min", "int-max", "positive-int", "pf-bool", "pf-neg"],
)
def test_integer_rules(call: object, error: type[Exception], message: str) -> None:
    with raises(error, message):
        call()  # type: ignore[operator]


# --- choices, flags, text, callables, objects ----------------------------------------------------
def test_choice_compares_type_and_value() -> None:
    assert v.choice("parity", 1, (0, 1)) == 1
    with raises(ValueError, "parity must be one of 0, 1, got True"):
        v.choice("parity", True, (0, 1))
    with raises(ValueError, "method must be one of 'exact', 'hutchinson', got 'trace'"):
        v.choice("method", "trace", ("exact", "hutchinson"))


def test_flags_text_callables_generators_and_instances() -> None:
    with raises(TypeError, "hard must be a bool, got 1"):
        v.boolean("hard", 1)
    with raises(ValueError, "basis must be a non-empty string, got ''"):
        v.text("basis", "")
    with raises(TypeError, "f must be callable, got 1.0"):
        v.function("f", 1.0)
    with raises(TypeError, "generator must be a torch.Generator or None, got 'seed'"):
        v.generator("generator", "seed")
    assert v.generator("generator", None) is None
    with raises(TypeError, "flow must be a Flow, got Linear"):
        v.instance("flow", nn.Linear(2, 2), Flow)


def test_dtype_and_shape_rules() -> None:
    assert v.dtype("dtype", F64) is F64
    with raises(TypeError, "dtype must be a floating dtype, got torch.int64"):
        v.dtype("dtype", torch.int64)
    with raises(TypeError, "dtype must be a torch.dtype, got 'float32'"):
        v.dtype("dtype", "float32")
    assert v.shape("shape", torch.Size([2, 3])) == (2, 3)
    with raises(ValueError, "shape must be a tuple of ints >= 0, got (-1,)"):
        v.shape("shape", (-1,))


# --- tensors -------------------------------------------------------------------------------------
def test_tensor_returns_its_input() -> None:
    x = torch.zeros(3, 2)
    assert v.tensor("x", x, dims="N D", sizes={"D": 2}) is x


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        ([1.0], {}, TypeError, "x must be a torch.Tensor, got list"),
        (torch.zeros(2, dtype=torch.long), {}, TypeError, "x must have a floating dtype, got torch.int64"),
        (torch.tensor([0.0, math.nan]), {}, ValueError, "x must be finite (no NaN or inf)"),
        (torch.zeros(3), {"dims": "N D"}, ValueError, "x must be 2-D with shape (N, D), got shape (3,)"),
        (torch.zeros(3, 3), {"dims": "N D", "sizes": {"D": 2}}, ValueError, "x must have D = 2 in shape (N, D), got shape (3, 3)"),
        (torch.zeros(3, 3), {"dims": "N 2"}, ValueError, "x must have a dimension of 2 in shape (N, 2), got shape (3, 3)"),
        (torch.zeros(2, 3), {"dims": "D D"}, ValueError, "x must have D = 2 in shape (D, D), got shape (2, 3)"),
        (torch.zeros(()), {"dims": "* D"}, ValueError, "x must be at least 1-D with shape (*, D), got shape ()"),
        (torch.zeros(0, 2), {"dims": "N D", "min_sizes": {"N": 1}}, ValueError, "x must have N >= 1 in shape (N, D), got shape (0, 2)"),
        (torch.zeros(0), {"min_numel": 1}, ValueError, "x must have at least 1 entries"),
    ],
    ids=["list", "integer", "nan", "rank", "size", "number", "square", "batched", "rows", "numel"],
)  # fmt: skip
def test_tensor_rules(
    value: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with raises(error, message):
        v.tensor("x", value, **kwargs)  # type: ignore[arg-type]


def test_within_names_the_first_entry_that_breaks_the_rule() -> None:
    with raises(ValueError, "steps must be > 0, got min -1.0; first at steps[2] = -1.0"):
        v.within("steps", torch.tensor([1.0, 0.5, -1.0]), gt=0)
    with raises(ValueError, "t must be <= 1, got max 2.0; first at t[1] = 2.0"):
        v.within("t", torch.tensor([0.5, 2.0]), ge=0, le=1)


def test_integer_tensors_whole_numbers_and_categories() -> None:
    with raises(TypeError, "perm must have an integer dtype, got torch.float32"):
        v.integer_tensor("perm", torch.zeros(2))
    with raises(ValueError, "q must hold whole numbers in [0, 16], got 0.5"):
        v.whole_numbers("q", torch.tensor([0.5]), minimum=0, maximum=16)
    with raises(ValueError, "logits must have at least 1 dimension"):
        v.categories("logits", torch.tensor(1.0))
    with raises(ValueError, "dim must index a dimension of logits (3,), got 1"):
        v.categories("logits", torch.zeros(3), dim=1)
    with raises(ValueError, "logits must have at least one class along dim -1, got 0"):
        v.categories("logits", torch.zeros(2, 0))


def test_probabilities_use_the_tolerance_of_their_own_dtype() -> None:
    third = torch.full((3,), 1 / 3, dtype=F32)  # sums to 1 in float32, to 1 + 3e-8 in float64
    assert v.probabilities("p", third) is third
    assert float(third.double().sum() - 1) > 1.5e-8  # what the float64 tolerance would refuse
    with raises(ValueError, "p must sum to 1 along dim -1"):
        v.probabilities("p", torch.tensor([0.5, 0.4]))
    with raises(ValueError, "p must be > 0, got min 0.0"):
        v.probabilities("p", torch.tensor([1.0, 0.0]), positive=True)
    with raises(ValueError, "p must lie in [0, 1], got min -0.5"):
        v.probabilities("p", torch.tensor([1.5, -0.5]))


def test_real_or_tensor_broadcast_and_shapes() -> None:
    assert v.real_or_tensor("mu", 1.5).dim() == 0
    with raises(TypeError, "mu must be a real number or a torch.Tensor, got [0.0]"):
        v.real_or_tensor("mu", [0.0])
    with raises(ValueError, "sigma of shape (3,) must broadcast with mu of shape (2,)"):
        v.broadcast(("mu", "sigma"), (torch.zeros(2), torch.zeros(3)))
    with raises(ValueError, "eps must have the shape of x0 (2, 1), got (2, 2)"):
        v.shapes_match(("x0", "eps"), (torch.zeros(2, 1), torch.zeros(2, 2)))


def test_dtypes_must_agree_and_the_message_names_both() -> None:
    with raises(TypeError, "x has dtype torch.float64 but the flow has dtype torch.float32"):
        v.same_dtype("x", torch.zeros(1, dtype=F64), F32, "the flow")


def test_returned_values_and_shape_preserving_functions() -> None:
    with raises(ValueError, "grad must return a tensor of shape (2,), got ()"):
        v.returned("grad", torch.zeros(()), (2,))
    with raises(ValueError, "f must return one value per sample of shape (3,), got float"):
        v.returned("f", 1.0, (3,), what="one value per sample")
    field = v.shape_preserving("velocity", lambda z, t: z[:, :1] * t)
    with raises(ValueError, "velocity must return a tensor of shape (4, 2), got (4, 1)"):
        field(torch.zeros(4, 2), 1.0)


# --- one test per finding of issue 12 ------------------------------------------------------------
def test_straight_path_refuses_times_of_shape_n_by_1() -> None:
    x0, eps = torch.zeros(4, 2), torch.ones(4, 2)
    with raises(ValueError, "t must be 1-D with shape (N), got shape (4, 1)"):
        straight_path(x0, eps, torch.rand(4, 1))


def test_flow_matching_loss_refuses_times_of_shape_n_by_1() -> None:
    x0, eps = torch.zeros(4, 2), torch.ones(4, 2)
    with raises(ValueError, "t must be 1-D with shape (N), got shape (4, 1)"):
        flow_matching_loss(lambda _x, _t: eps - x0, x0, eps, torch.rand(4, 1))


def test_exact_trace_refuses_v_wider_than_z() -> None:
    z = torch.zeros(3, 2, requires_grad=True)
    v_wide = torch.cat([z, z[:, :1]], dim=1) * 2
    with raises(ValueError, "v must have the shape of z (3, 2), got (3, 3)"):
        exact_trace(v_wide, z)


def test_divergence_refuses_three_dimensional_z() -> None:
    with raises(ValueError, "z must be 2-D with shape (N, D), got shape (2, 3, 2)"):
        divergence(lambda z, _t: z, torch.zeros(2, 3, 2), 0.0)


def test_odeint_refuses_a_velocity_of_the_wrong_shape() -> None:
    with raises(ValueError, "velocity must return a tensor of shape (4, 2), got (4, 1)"):
        odeint(lambda z, _t: z[:, :1], torch.zeros(4, 2), t0=0.0, t1=1.0, steps=2)


@pytest.mark.parametrize("name", ["t0", "t1"])
def test_odeint_refuses_nan_times(name: str) -> None:
    times = {"t0": 0.0, "t1": 1.0, name: math.nan}
    with raises(ValueError, f"{name} must be finite, got nan"):
        odeint(lambda z, _t: -z, torch.zeros(4, 2), steps=2, **times)


def test_bijection_transform_wraps_only_bijections() -> None:
    with raises(TypeError, "bijection must be a Bijection, got Linear"):
        BijectionTransform(nn.Linear(2, 2))  # type: ignore[arg-type]


def test_logit_refuses_integer_input_instead_of_an_infinite_log_det() -> None:
    with raises(TypeError, "x must have a floating dtype, got torch.int64"):
        Logit(2)(torch.tensor([[0, 1]]))


def test_logit_inverse_stays_in_the_unit_interval_so_samples_pass_log_prob() -> None:
    layer = Logit(1, alpha=0.05)
    x = layer.inverse(torch.tensor([[-40.0], [0.0], [40.0]]))
    assert bool(((x >= 0) & (x <= 1)).all())
    flow = Flow([Logit(2, alpha=0.05), Scaling(2)])
    with torch.no_grad():
        flow.chain.layers[1].log_scale.fill_(-3.0)  # z = e^-3 y: base samples land far out in y
        samples = flow.sample(2000, generator=torch.Generator().manual_seed(0))
        assert bool(torch.isfinite(flow.log_prob(samples)).all())


def test_truncated_normal_refuses_an_integer_dtype_instead_of_returning_zeros() -> None:
    with raises(TypeError, "dtype must be a floating dtype, got torch.int64"):
        truncated_normal((3,), 1.0, dtype=torch.int64)


def test_incremental_mean_refuses_an_infinite_start_instead_of_returning_nan() -> None:
    # a_1 = 1 discards w_1 from w_2 on, but w_1 itself is the first estimate returned
    with raises(ValueError, "w1 must be finite, got inf"):
        incremental_mean(torch.tensor([1.0, 2.0]), w1=math.inf)


def test_an_infinite_learning_rate_is_refused() -> None:
    with raises(ValueError, "lr must be finite, got inf"):
        make_optimizer(Scaling(2), lr=math.inf)
    with raises(ValueError, "lr must be > 0 and finite, got inf"):
        two_layer_sgd_step(torch.ones(3), 4, lr=math.inf)


def test_an_infinite_temperature_is_refused() -> None:
    flow = Flow([Scaling(2)])
    with raises(ValueError, "temperature must be finite, got inf"):
        flow.sample(3, temperature=math.inf)
    with raises(ValueError, "tau must be > 0 and finite, got inf"):
        gumbel_softmax(torch.zeros(3), math.inf)


def test_chi_square_gof_accepts_float32_probabilities_that_sum_to_one() -> None:
    probs = torch.full((3,), 1 / 3, dtype=F32)  # off by 3e-8 once cast to float64
    statistic, p_value = chi_square_gof(torch.tensor([10, 10, 10]), probs)
    assert statistic == pytest.approx(0.0, abs=1e-9)
    assert p_value == pytest.approx(1.0)


def test_a_constant_velocity_field_has_zero_divergence() -> None:
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    v, div = divergence(lambda z, _t: torch.ones_like(z), x, 0.5)
    assert torch.equal(div, torch.zeros(5))
    assert torch.equal(v, torch.ones(5, 2))
    _, div_h = divergence(
        lambda z, _t: torch.ones_like(z), x, 0.5, method="hutchinson", probe=torch.ones(5, 2)
    )
    assert torch.equal(div_h, torch.zeros(5))


def test_cnf_log_prob_of_a_constant_field_is_the_shifted_gaussian() -> None:
    # dz/dt = c moves x to x + c at t = 1 with zero divergence: log p_0(x) = log N(x + c)
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(1), dtype=F64)
    c = torch.tensor([0.5, -1.0], dtype=F64)
    lp = cnf_log_prob(lambda z, _t: c.expand_as(z), x, steps=4)
    expected = -0.5 * ((x + c) ** 2).sum(-1) - math.log(2 * math.pi)
    torch.testing.assert_close(lp, expected, rtol=0, atol=1e-12)


def _flow32() -> Flow:
    return Flow([AffineCoupling(2, hidden=(4,), generator=torch.Generator().manual_seed(0))])


def test_a_float64_batch_into_a_float32_flow_names_both_dtypes() -> None:
    message = "x has dtype torch.float64 but the flow has dtype torch.float32"
    with raises(TypeError, message):
        _flow32().log_prob(torch.zeros(3, 2, dtype=F64))
    with raises(TypeError, message):
        fit(_flow32(), torch.zeros(3, 2, dtype=F64), steps=1)
    with raises(TypeError, "x has dtype torch.float64 but this AffineCoupling has dtype"):
        _flow32().chain.layers[0](torch.zeros(3, 2, dtype=F64))


def test_training_step_refuses_a_batch_of_zero_rows() -> None:
    flow = _flow32()
    with raises(ValueError, "batch must have B >= 1 in shape (B, D), got shape (0, 2)"):
        training_step(flow, make_optimizer(flow), torch.zeros(0, 2))


def test_fit_refuses_data_of_zero_rows() -> None:
    with raises(ValueError, "x must have N >= 1 in shape (N, D), got shape (0, 2)"):
        fit(_flow32(), torch.zeros(0, 2), steps=1)


def test_euler_sample_names_eps_not_z() -> None:
    with raises(ValueError, "eps must be 2-D with shape (N, D), got shape (3,)"):
        euler_sample(lambda x, _t: x, torch.zeros(3), steps=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: gumbel_softmax(torch.zeros(3), True),
        lambda: make_optimizer(Scaling(2), lr=True),
        lambda: Flow([Reverse(2)]).sample(2, temperature=True),
        lambda: odeint(lambda z, _t: z, torch.zeros(1, 1), t0=True, t1=1.0, steps=1),
    ],
    ids=["tau", "lr", "temperature", "t0"],
)
def test_a_bool_is_not_a_float(call: object) -> None:
    with pytest.raises(TypeError, match=r"must be a (real number|float), got (True|bool)"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("value", [None, "big"], ids=["none", "str"])
def test_none_or_a_string_gets_our_message(value: object) -> None:
    with raises(TypeError, f"lr must be a real number, got {value!r}"):
        make_optimizer(Scaling(2), lr=value)  # type: ignore[arg-type]
    with raises(TypeError, f"velocity must be callable, got {value!r}"):
        odeint(value, torch.zeros(1, 1), t0=0.0, t1=1.0, steps=1)  # type: ignore[arg-type]
