"""Subcommands of ``spmkit``: one module per group, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse

from spmkit.errors import InputError

#: Seeds numpy's generators take (``np.random.default_rng``): 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1


def seed(text: str) -> int:
    """An argparse ``type`` for ``--seed``: a whole number in 0 .. MAX_SEED (argparse then
    prints one usage error and exits 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and {MAX_SEED}")
    return value


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
