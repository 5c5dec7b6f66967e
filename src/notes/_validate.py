"""Argument checks for the whole package: each error names the parameter, the value and the rule.

Every public function of every subpackage checks its arguments through this one module, so the
rules and the messages agree everywhere (``ValueError("tau must be > 0, got -1.0")``). A check
returns the validated value (a float for a number, the tensor itself for a tensor), so that a
function can write ``tau = real("tau", tau, gt=0)``.

- numbers: `positive_int`, `integer`, `real`, `positive_float` (finite, never a bool);
- choices and flags: `choice`, `boolean`, `function`, `generator`;
- tensors: `tensor` (type, floating dtype, finiteness, number of dimensions, named sizes),
  `same_dtype`, `probabilities` (a distribution, to the tolerance of its own dtype).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from typing import TypeVar

import torch

T = TypeVar("T")


def _show(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return repr(value)


# --- numbers --------------------------------------------------------------------------------
def integer(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return `value` if it is an int (not a bool) in [minimum, maximum], else raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {_show(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an int <= {maximum}, got {value!r}")
    return value


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return `value` if it is an int (not a bool) >= `minimum`, else raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def real(
    name: str,
    value: object,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    finite: bool = True,
) -> float:
    """Return `value` as a float if it is a real number (int, float or 0-d tensor, not a bool)
    within the given bounds, and finite unless `finite=False`; else raise naming `name`."""
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.dtype.is_complex:
        if value.dtype == torch.bool:
            raise TypeError(f"{name} must be a real number, got a bool tensor")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {_show(value)}")
    x = float(value)
    if math.isnan(x) or (finite and not math.isfinite(x)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    for bound, ok, rule in (
        (gt, operator.gt, ">"),
        (ge, operator.ge, ">="),
        (lt, operator.lt, "<"),
        (le, operator.le, "<="),
    ):
        if bound is not None and not ok(x, bound):
            raise ValueError(f"{name} must be {rule} {bound:g}, got {value!r}")
    return x


def positive_float(name: str, value: object) -> float:
    """Return `value` as a float if it is a finite number > 0, else raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be > 0 and finite, got {value!r}")
    return float(value)


# --- choices, flags, callables ----------------------------------------------------------------
def choice(name: str, value: T, options: Iterable[T]) -> T:
    """Return `value` if it is one of `options`, else raise naming `name` and the options."""
    options = list(options)
    if not any(value == option and type(value) is type(option) for option in options):
        shown = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {shown}, got {_show(value)}")
    return value


def boolean(name: str, value: object) -> bool:
    """Return `value` if it is a bool, else raise naming `name`."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {_show(value)}")
    return value


def function(name: str, value: T) -> T:
    """Return `value` if it is callable, else raise naming `name`."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {_show(value)}")
    return value


def generator(name: str, value: object) -> torch.Generator | None:
    """Return `value` if it is None or a `torch.Generator`, else raise naming `name`."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {_show(value)}")
    return value


# --- tensors ------------------------------------------------------------------------------------
def tensor(
    name: str,
    value: object,
    *,
    dims: str | None = None,
    floating: bool = True,
    finite: bool = True,
    sizes: dict[str, int] | None = None,
    min_numel: int = 0,
) -> torch.Tensor:
    """Return `value` if it is a tensor obeying the rules, else raise naming `name`.

    Args:
        name: the parameter's name, for the message.
        value: the argument.
        dims: the dimensions by name, e.g. ``"N D"`` (exactly 2-D) or ``"* D"`` (at least 1-D,
            any leading batch dimensions); None allows any shape.
        floating: require a floating dtype.
        finite: require every entry finite (no NaN or inf).
        sizes: required sizes by dimension name, e.g. ``{"D": 2}``.
        min_numel: the fewest entries allowed (1 to refuse empty tensors).
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if floating and not value.dtype.is_floating_point:
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
    if dims is not None:
        letters = dims.split()
        batched = bool(letters) and letters[0] == "*"
        named = letters[1:] if batched else letters
        ok = value.dim() >= len(named) if batched else value.dim() == len(named)
        if not ok:
            rule = f"at least {len(named)}-D" if batched else f"{len(named)}-D"
            raise ValueError(
                f"{name} must be {rule} with shape ({', '.join(letters)}), "
                f"got shape {tuple(value.shape)}"
            )
        actual = dict(zip(named, value.shape[value.dim() - len(named) :], strict=True))
        for letter, size in (sizes or {}).items():
            if letter in actual and actual[letter] != size:
                raise ValueError(
                    f"{name} must have {letter} = {size} in shape ({', '.join(letters)}), "
                    f"got shape {tuple(value.shape)}"
                )
    if value.numel() < min_numel:
        raise ValueError(
            f"{name} must have at least {min_numel} entries, got shape {tuple(value.shape)}"
        )
    if finite and value.dtype.is_floating_point and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return value


def same_dtype(name: str, value: torch.Tensor, dtype: torch.dtype, owner: str) -> torch.Tensor:
    """Return `value` if its dtype is `dtype` (that of `owner`), else raise naming both."""
    if value.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {value.dtype} but {owner} has dtype {dtype}; convert one "
            f"(e.g. {name}.to({dtype}))"
        )
    return value


def probabilities(name: str, value: object, dim: int = -1) -> torch.Tensor:
    """Return `value` if it is a floating tensor of probabilities along `dim`: every entry in
    [0, 1] and each row summing to 1 within the rounding of the tensor's own dtype."""
    p = tensor(name, value, min_numel=1)
    if p.dim() == 0:
        raise ValueError(f"{name} must have at least 1 dimension, got a scalar")
    if bool((p < 0).any()) or bool((p > 1).any()):
        raise ValueError(f"{name} must lie in [0, 1]")
    eps = torch.finfo(p.dtype).eps
    tol = 8 * eps * p.shape[dim]  # rounding of a sum of K terms, each within eps of exact
    total = p.sum(dim)
    if bool(((total - 1).abs() > tol).any()):
        worst = float((total - 1).abs().max())
        raise ValueError(
            f"{name} must sum to 1 along dim {dim} (within {tol:.2g} for {p.dtype}), "
            f"off by {worst:.3g}"
        )
    return p


def shapes_match(names: Sequence[str], tensors: Sequence[torch.Tensor]) -> None:
    """Raise naming both if the tensors do not all have the same shape."""
    first = tensors[0].shape
    for name, t in zip(names[1:], tensors[1:], strict=True):
        if t.shape != first:
            raise ValueError(
                f"{name} must have the shape of {names[0]} {tuple(first)}, got {tuple(t.shape)}"
            )


def nonnegative(name: str, value: torch.Tensor, why: str) -> torch.Tensor:
    """Return `value` if no entry is negative, else raise naming `name`, the worst entry and
    why the rule holds (``why``, e.g. "attention weights must be >= 0")."""
    if bool((value < 0).any()):
        raise ValueError(
            f"{name} must be >= 0 everywhere ({why}), got a minimum of {float(value.min()):.3g}"
        )
    return value


def divisor(name: str, value: object, n: int, of: str) -> int:
    """Return `value` if it is an int >= 1 dividing `n` (the size called `of`), else raise."""
    c = positive_int(name, value)
    if n % c:
        raise ValueError(f"{name} must divide {of} = {n}, got {c} ({n} = {n // c} * {c} + {n % c})")
    return c


def causal_mask(name: str, value: object, t: int) -> torch.Tensor:
    """Return `value` if it is the (t, t) boolean causal mask (query i sees keys j <= i), else
    raise naming the first pair that breaks it."""
    m = tensor(name, value, dims="T S", floating=False, sizes={"T": t, "S": t})
    if m.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor, got dtype {m.dtype}")
    wrong = (m != torch.ones(t, t, dtype=torch.bool, device=m.device).tril()).nonzero()
    if len(wrong):
        i, j = (int(x) for x in wrong[0])
        rule = "a key after its query is visible" if j > i else "an earlier key is hidden"
        raise ValueError(
            f"{name} must be the causal mask (query i sees exactly the keys j <= i): "
            f"{rule} at (i, j) = ({i}, {j})"
        )
    return m


__all__: list[str] = []  # private module: the names above are for the package's own use
