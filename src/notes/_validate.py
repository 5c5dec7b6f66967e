"""Argument checks shared by the `notes` subpackages: each error names the parameter, the value and the rule."""

from __future__ import annotations

import math


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return `value` if it is an int (not a bool) >= `minimum`, else raise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def positive_float(name: str, value: object) -> float:
    """Return `value` as a float if it is a finite number > 0, else raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be > 0 and finite, got {value!r}")
    return float(value)
