"""Subcommands of ``spmkit``: one module per group, each with ``register(subparsers)``."""

from __future__ import annotations

from spmkit.errors import InputError


def setting_number(value: object, what: str, *, low: float, high: float) -> float:
    """A command-line setting as a finite number within [low, high]; else one message."""
    from spmkit.money import to_decimal

    try:
        d = to_decimal(str(value).strip())
        ok = d.is_finite()
    except ArithmeticError:
        ok = False
    if not ok:
        raise InputError(f"settings: {what} {value!r} is not a number")
    if not low <= d <= high:
        raise InputError(f"settings: {what} {value} must be between {low:g} and {high:g}")
    return float(d)
