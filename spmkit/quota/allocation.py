"""Exact integer-cent arithmetic for quotas: scaling by a rate and largest-remainder splits.

Everything here works on whole cents held as Python integers inside numpy object arrays
(vectorized, no overflow), and returns ``int64`` cents.  Rounding is half away from zero,
as everywhere in spmkit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from spmkit.money import allocate, scale_cents, to_decimal

__all__ = ["allocate", "allocate_rows", "integer_weights", "scale_cents", "median_cents"]


def _as_int_objects(values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object:
        return np.array([int(v) for v in arr.ravel()], dtype=object).reshape(arr.shape)
    return arr.astype(np.int64).astype(object)


def _round_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """``numerator / denominator`` rounded half away from zero (Python ints, exact)."""
    num = np.asarray(numerator, dtype=object)
    mag = (np.abs(num) * 2 + denominator) // (2 * denominator)
    return np.where(num < 0, -mag, mag)


def median_cents(cents: np.ndarray) -> int:
    """The median of amounts in cents, as whole cents (a half cent rounds away from zero)."""
    c = np.sort(np.asarray(cents, dtype=np.int64))
    if c.size == 0:
        raise ValueError("median of no amounts")
    mid = c.size // 2
    if c.size % 2:
        return int(c[mid])
    return int(_round_div(np.array([int(c[mid - 1]) + int(c[mid])], dtype=object), 2)[0])


def integer_weights(weights: Sequence[object] | np.ndarray) -> np.ndarray:
    """Exact non-negative integer weights proportional to decimal ``weights`` (object array).

    ``[0.2, 0.2, 0.2, 0.4]`` -> ``[2, 2, 2, 4]``; integers are kept as they are.
    """
    arr = np.asarray(weights)
    if arr.dtype != object and np.issubdtype(arr.dtype, np.integer):
        return arr.astype(object)
    decimals = [to_decimal(v) for v in arr.ravel().tolist()]
    places = max((max(0, -d.as_tuple().exponent) for d in decimals if d.is_finite()), default=0)
    scale = Decimal(10) ** places
    ints = [int(d * scale) for d in decimals]
    return np.array(ints, dtype=object).reshape(arr.shape)


def allocate_rows(totals: np.ndarray | Sequence[int], weights: np.ndarray) -> np.ndarray:
    """Split each total in proportion to its row of weights; each row sums exactly.

    The same largest-remainder rule as :func:`spmkit.money.allocate` (every part gets the
    floor of its exact share; the cents left go one each to the largest remainders, ties to
    the earlier part), vectorized over rows.

    Parameters
    ----------
    totals : array of int, shape (R,)
        Amounts in cents.
    weights : array, shape (P,) or (R, P)
        Non-negative weights (ints, Decimals or floats, made exact by
        :func:`integer_weights`); a row of zeros is allowed only for a zero total.

    Returns
    -------
    numpy.ndarray of int64, shape (R, P).

    Examples
    --------
    >>> allocate_rows([1000, 7], [1, 1, 1]).tolist()
    [[334, 333, 333], [3, 2, 2]]
    """
    t = _as_int_objects(totals).reshape(-1, 1)
    w = integer_weights(weights)
    if w.ndim == 1:
        w = np.broadcast_to(w, (t.shape[0], w.shape[0]))
    if (w < 0).any():
        raise ValueError("weights must not be negative")
    w_total = w.sum(axis=1, keepdims=True)
    if ((w_total == 0) & (t != 0)).any():
        raise ValueError("cannot allocate by weights that sum to zero")
    safe = np.where(w_total == 0, 1, w_total)
    product = t * w
    floors = product // safe
    remainders = (product - floors * safe).astype(np.float64) / safe.astype(np.float64)
    left = (t[:, 0] - floors.sum(axis=1)).astype(np.int64)
    order = np.argsort(-remainders, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :].repeat(len(order), 0), 1)
    bump = rank < left[:, None]
    return floors.astype(np.int64) + bump.astype(np.int64)
