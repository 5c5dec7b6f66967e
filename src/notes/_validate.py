"""Argument checks for the whole package: each error names the parameter, the value and the rule.

Every public function of every subpackage checks its arguments through this one module, so the
rules and the messages agree everywhere (``ValueError("tau must be > 0, got -1.0")``). A check
returns the validated value (a float for a number, the tensor itself for a tensor), so that a
function can write ``tau = real("tau", tau, gt=0)``.

- numbers: `positive_int`, `integer`, `real`, `positive_float` (finite, never a bool);
- choices and flags: `choice`, `boolean`, `function`, `generator`;
- tensors: `tensor` (type, floating dtype, finiteness, number of dimensions, named sizes),
  `integer_tensor`, `within` (entries in a range), `categories` (classes along a dimension),
  `same_dtype`, `probabilities` (a distribution, to the tolerance of its own dtype),
  `shapes_match`;
- what a caller's function returns (`returned`, `shape_preserving`), dtypes (`dtype`), shapes (`shape`) and
  objects of a class (`instance`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
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
    nan: bool = False,
) -> float:
    """Return `value` as a float if it is a real number (int, float or 0-d tensor, not a bool)
    within the given bounds, and finite unless `finite=False` (which allows inf) or `nan=True`
    (which allows NaN too: a measurement that failed); else raise naming `name`."""
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.dtype.is_complex:
        if value.dtype == torch.bool:
            raise TypeError(f"{name} must be a real number, got a bool tensor")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {_show(value)}")
    x = float(value)
    if math.isnan(x) and nan:
        return x
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


def text(name: str, value: object) -> str:
    """Return `value` if it is a non-empty string, else raise naming `name`."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {_show(value)}")
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
    min_sizes: dict[str, int] | None = None,
    min_numel: int = 0,
) -> torch.Tensor:
    """Return `value` if it is a tensor obeying the rules, else raise naming `name`.

    Args:
        name: the parameter's name, for the message.
        value: the argument.
        dims: the dimensions by name, e.g. ``"N D"`` (exactly 2-D) or ``"* D"`` (at least 1-D,
            any leading batch dimensions); a letter used twice (``"D D"``) must have one size,
            a number (``"N 2"``) is that size; None allows any shape.
        floating: require a floating dtype.
        finite: require every entry finite (no NaN or inf).
        sizes: required sizes by dimension name, e.g. ``{"D": 2}``.
        min_sizes: smallest sizes by dimension name, e.g. ``{"N": 1}`` to refuse zero rows.
        min_numel: the fewest entries allowed (1 to refuse empty tensors).

    Examples:
        >>> tensor("x", torch.zeros(3), dims="N D", sizes={"D": 2})
        Traceback (most recent call last):
        ...
        ValueError: x must be 2-D with shape (N, D), got shape (3,)
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if floating and not value.dtype.is_floating_point:
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
    if dims is not None:
        letters = dims.split()
        batched = bool(letters) and letters[0] == "*"
        named = letters[1:] if batched else letters
        pattern = f"({', '.join(letters)})"
        ok = value.dim() >= len(named) if batched else value.dim() == len(named)
        if not ok:
            rule = f"at least {len(named)}-D" if batched else f"{len(named)}-D"
            raise ValueError(
                f"{name} must be {rule} with shape {pattern}, got shape {tuple(value.shape)}"
            )
        actual: dict[str, int] = {}
        for letter, size in zip(named, value.shape[value.dim() - len(named) :], strict=True):
            want = (
                int(letter) if letter.isdigit() else (sizes or {}).get(letter, actual.get(letter))
            )
            if want is not None and size != want:
                label = f"{letter} = {want}" if not letter.isdigit() else f"a dimension of {want}"
                raise ValueError(
                    f"{name} must have {label} in shape {pattern}, got shape {tuple(value.shape)}"
                )
            actual[letter] = size
        for letter, least in (min_sizes or {}).items():
            if letter in actual and actual[letter] < least:
                raise ValueError(
                    f"{name} must have {letter} >= {least} in shape {pattern}, "
                    f"got shape {tuple(value.shape)}"
                )
    if value.numel() < min_numel:
        raise ValueError(
            f"{name} must have at least {min_numel} entries, got shape {tuple(value.shape)}"
        )
    if finite and value.dtype.is_floating_point and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return value


def integer_tensor(name: str, value: object, *, dims: str | None = None) -> torch.Tensor:
    """Return `value` if it is a tensor of an integer dtype (not bool), else raise naming `name`."""
    t = tensor(name, value, dims=dims, floating=False)
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise TypeError(f"{name} must have an integer dtype, got {t.dtype}")
    return t


def within(
    name: str,
    value: torch.Tensor,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> torch.Tensor:
    """Return the tensor `value` if every entry is within the bounds, else raise naming `name`,
    the rule and the first entry that breaks it."""
    x = value.detach()
    for bound, ok, rule in (
        (gt, torch.gt, ">"),
        (ge, torch.ge, ">="),
        (lt, torch.lt, "<"),
        (le, torch.le, "<="),
    ):
        if bound is None or x.numel() == 0:
            continue
        bad = ~ok(x, bound)
        if bool(bad.any()):
            index = tuple(int(i) for i in bad.nonzero()[0])
            worst = x.min() if rule.startswith(">") else x.max()
            where = "".join(f"[{i}]" for i in index)
            raise ValueError(
                f"{name} must be {rule} {bound:g}, got {'min' if rule[0] == '>' else 'max'} "
                f"{float(worst)!r}; first at {name}{where} = {float(x[index])!r}"
            )
    return value


def categories(name: str, value: object, dim: int = -1) -> torch.Tensor:
    """Return `value` if it is a finite floating tensor with at least one entry (a class) along
    `dim`, else raise naming `name` (or `dim`)."""
    t = tensor(name, value)
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {_show(dim)}")
    if t.dim() == 0:
        raise ValueError(f"{name} must have at least 1 dimension, got a scalar")
    if not -t.dim() <= dim < t.dim():
        raise ValueError(f"dim must index a dimension of {name} {tuple(t.shape)}, got {dim}")
    if t.shape[dim] < 1:
        raise ValueError(f"{name} must have at least one class along dim {dim}, got 0")
    return t


def real_or_tensor(name: str, value: object) -> torch.Tensor:
    """Return `value` as a tensor if it is a real number (not a bool) or a finite floating
    tensor, else raise naming `name`; a number becomes a 0-d tensor of torch's default dtype."""
    if isinstance(value, torch.Tensor):
        return tensor(name, value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number or a torch.Tensor, got {_show(value)}")
    return torch.tensor(real(name, value))


def broadcast(names: Sequence[str], tensors: Sequence[torch.Tensor]) -> torch.Size:
    """Return the broadcast shape of the tensors, or raise naming the first that does not fit."""
    shape = tensors[0].shape
    for name, t in zip(names[1:], tensors[1:], strict=True):
        try:
            shape = torch.broadcast_shapes(shape, t.shape)  # type: ignore[no-untyped-call]
        except RuntimeError:
            raise ValueError(
                f"{name} of shape {tuple(t.shape)} must broadcast with {names[0]} of shape "
                f"{tuple(tensors[0].shape)}"
            ) from None
    return shape


def whole_numbers(
    name: str, value: torch.Tensor, *, minimum: int | None = None, maximum: int | None = None
) -> torch.Tensor:
    """Return the tensor `value` if every entry is a whole number in [minimum, maximum] (any
    dtype, so that float counts and pixel values pass), else raise naming `name`."""
    x = value.detach().double()
    ok = x == x.round()
    if minimum is not None:
        ok &= x >= minimum
    if maximum is not None:
        ok &= x <= maximum
    if not bool(ok.all()):
        if minimum is not None and maximum is not None:
            rule = f" in [{minimum}, {maximum}]"
        else:
            rule = f" >= {minimum}" if minimum is not None else ""
            rule += f" <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must hold whole numbers{rule}, got {float(x[~ok][0])!r}")
    return value


def same_dtype(name: str, value: torch.Tensor, dtype: torch.dtype, owner: str) -> torch.Tensor:
    """Return `value` if its dtype is `dtype` (that of `owner`), else raise naming both."""
    if value.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {value.dtype} but {owner} has dtype {dtype}; convert one "
            f"(e.g. {name}.to({dtype}))"
        )
    return value


def probabilities(
    name: str, value: object, dim: int = -1, *, positive: bool = False, tol: float | None = None
) -> torch.Tensor:
    """Return `value` if it is a floating tensor of probabilities along `dim`: every entry in
    [0, 1] (> 0 if `positive`) and each row summing to 1 within `tol`, by default the rounding
    of a sum in the tensor's own dtype (8 eps K), so float32 input is judged in float32.

    Examples:
        >>> probabilities("p", torch.tensor([0.1, 0.2, 0.7], dtype=torch.float32))
        tensor([0.1000, 0.2000, 0.7000])
    """
    p = categories(name, value, dim)
    if positive:
        if not bool((p > 0).all()):
            raise ValueError(f"{name} must be > 0, got min {float(p.min())!r}")
    elif bool((p < 0).any()):
        raise ValueError(f"{name} must lie in [0, 1], got min {float(p.min())!r}")
    if bool((p > 1).any()):
        raise ValueError(f"{name} must lie in [0, 1], got max {float(p.max())!r}")
    if tol is None:
        tol = 8 * torch.finfo(p.dtype).eps * p.shape[dim]  # rounding of a sum of K terms
    total = p.sum(dim)
    if bool(((total - 1).abs() > tol).any()):
        lo, hi = float(total.min()), float(total.max())
        worst = float((total - 1).abs().max())
        raise ValueError(
            f"{name} must sum to 1 along dim {dim} (within {tol:.2g} for {p.dtype}), "
            f"off by {worst:.3g}: got sums in [{lo:.6g}, {hi:.6g}]"
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


def agree(names: tuple[str, str], sizes: tuple[int, int], what: str) -> None:
    """Raise naming both tensors if they disagree on a size (`what`, e.g. ``"the last dimension
    D"``): ``"x and w must agree on the last dimension D, got 3 and 2"``."""
    if sizes[0] != sizes[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must agree on {what}, got {sizes[0]} and {sizes[1]}"
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


# --- what a caller's function returns, dtypes, shapes, objects ----------------------------------
def returned(
    name: str, value: object, shape: Sequence[int], *, what: str = "a tensor"
) -> torch.Tensor:
    """Return `value`, the result of the caller's function `name`, if it is a tensor of
    `shape`, else raise naming `name` (a velocity field, a gradient, an objective)."""
    if not isinstance(value, torch.Tensor) or value.shape != tuple(shape):
        got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"{name} must return {what} of shape {tuple(shape)}, got {got}")
    return value


def shape_preserving(name: str, fn: Callable[..., object]) -> Callable[..., torch.Tensor]:
    """Wrap the caller's function `fn` (a velocity field) so that each call checks that it
    returns a tensor of the shape of its first argument, naming `name` otherwise."""
    function(name, fn)

    def checked(x: torch.Tensor, *args: object) -> torch.Tensor:
        return returned(name, fn(x, *args), x.shape)

    return checked


def dtype(name: str, value: object) -> torch.dtype:
    """Return `value` if it is a floating `torch.dtype`, else raise naming `name`."""
    if not isinstance(value, torch.dtype):
        raise TypeError(f"{name} must be a torch.dtype, got {_show(value)}")
    if not value.is_floating_point:
        raise TypeError(f"{name} must be a floating dtype, got {value}")
    return value


def shape(name: str, value: object) -> tuple[int, ...]:
    """Return `value` if it is a tuple (or a torch.Size) of ints >= 0, else raise naming `name`."""
    if not isinstance(value, tuple) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value
    ):
        raise ValueError(f"{name} must be a tuple of ints >= 0, got {_show(value)}")
    return tuple(int(s) for s in value)


def instance(name: str, value: object, cls: type[T]) -> T:
    """Return `value` if it is an instance of `cls`, else raise naming `name` and the class."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
    return value


__all__: list[str] = []  # private module: the names above are for the package's own use
