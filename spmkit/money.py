"""Exact money: integer cents, decimal intermediates, one rounding half away from zero.

Amounts are held as ``int64`` cents.  Arithmetic that produces fractions of a cent
(rates, multiples, curves) runs in 34-digit :class:`decimal.Decimal` on the small
rep x period grid and is rounded once per payout line with :func:`round_cents`.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

#: Decimal context for intermediate money arithmetic: 34 significant digits and
#: ROUND_HALF_UP, which in :mod:`decimal` means half *away from zero*.
CONTEXT = decimal.Context(prec=34, rounding=ROUND_HALF_UP)

_ONE = Decimal(1)
_DECIMAL_RE = r"^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$"


def to_decimal(value: object) -> Decimal:
    """An exact Decimal for a YAML/CSV number (floats go through their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def decimal_array(values: object) -> np.ndarray:
    """An object array of Decimals from ints/cents/Decimals (exact)."""
    arr = np.asarray(values)
    if arr.dtype == object:
        return np.array([to_decimal(v) for v in arr.ravel()], dtype=object).reshape(arr.shape)
    if np.issubdtype(arr.dtype, np.integer):
        return np.array([Decimal(int(v)) for v in arr.ravel()], dtype=object).reshape(arr.shape)
    return np.array([to_decimal(float(v)) for v in arr.ravel()], dtype=object).reshape(arr.shape)


def round_cents(values: np.ndarray) -> np.ndarray:
    """Round amounts in cents (Decimal or float) to whole cents, half away from zero.

    Floats are first rounded to 6 decimals of a cent to remove binary noise.

    >>> round_cents(np.array([Decimal("500.5"), Decimal("-500.5"), Decimal("1.49")], dtype=object))
    array([ 501, -501,    1])
    """
    arr = np.asarray(values)
    if arr.dtype == object:
        flat = [int(CONTEXT.quantize(to_decimal(v), _ONE)) for v in arr.ravel()]
        return np.array(flat, dtype=np.int64).reshape(arr.shape)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    x = np.round(arr.astype(np.float64), 6)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def parse_cents(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of amounts into int64 cents, exactly.

    Strings are parsed as decimals (``"1234.565"`` -> 123457, half away from zero);
    floats are rounded to whole cents the same way after removing binary noise;
    Decimals exactly.  Returns ``(cents, bad)`` where ``bad`` marks values that are
    missing or not numbers (their cents are 0).
    """
    s = values
    if pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
        return s.to_numpy(dtype=np.int64) * 100, np.zeros(len(s), dtype=bool)
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(x)
        cents = round_cents(np.where(bad, 0.0, x) * 100.0)
        return cents, bad
    text = s.astype("str") if not pd.api.types.is_string_dtype(s.dtype) else s
    text = text.str.replace(",", "", regex=False)
    parts = text.str.extract(_DECIMAL_RE)
    sign, whole, frac = parts[0], parts[1], parts[2]
    bad = (sign.isna() | ((whole.fillna("") == "") & (frac.fillna("") == ""))).to_numpy()
    bad = bad | s.isna().to_numpy()
    whole = whole.fillna("").str.slice(0, 15).replace("", "0")
    frac = frac.fillna("")
    first2 = (frac.str.slice(0, 2) + "00").str.slice(0, 2)
    third = (frac.str.slice(2, 3) + "0").str.slice(0, 1)
    w = pd.to_numeric(whole.where(~bad, "0"), errors="coerce").fillna(0).to_numpy(np.int64)
    f = pd.to_numeric(first2.where(~bad, "0"), errors="coerce").fillna(0).to_numpy(np.int64)
    up = (pd.to_numeric(third.where(~bad, "0"), errors="coerce").fillna(0).to_numpy(np.int64) >= 5)
    magnitude = w * 100 + f + up.astype(np.int64)
    neg = (sign.fillna("") == "-").to_numpy()
    cents = np.where(neg, -magnitude, magnitude)
    cents = np.where(bad, 0, cents).astype(np.int64)
    return cents, bad


def allocate(total_cents: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total_cents`` in proportion to ``weights`` so the parts sum exactly.

    Largest-remainder method: every part gets the floor of its exact share, and the
    cents left over go one each to the largest remainders (ties: the earlier part).
    Weights may be ints, floats or Decimals; they must not all be zero.

    >>> allocate(1000, np.array([1, 1, 1])).tolist()
    [334, 333, 333]
    """
    w = decimal_array(weights)
    total_w = sum(w, Decimal(0))
    if total_w == 0:
        raise ValueError("cannot allocate by weights that sum to zero")
    exact = np.array([CONTEXT.divide(CONTEXT.multiply(Decimal(total_cents), x), total_w) for x in w],
                     dtype=object)
    floors = np.array([int(x.to_integral_value(rounding=decimal.ROUND_FLOOR)) for x in exact],
                      dtype=np.int64)
    remainders = np.array([float(x - int(f)) for x, f in zip(exact, floors, strict=True)])
    left = int(total_cents - floors.sum())
    if left:
        order = np.lexsort((np.arange(len(w)), -remainders))
        floors[order[:left]] += 1
    return floors


def format_cents(cents: np.ndarray | pd.Series) -> pd.Series:
    """Cents as plain decimal strings with two places: 123456 -> ``"1234.56"``, -5 -> ``"-0.05"``.

    Vectorized and exact; used for CSV output.
    """
    c = np.asarray(cents, dtype=np.int64)
    mag = np.abs(c)
    whole = pd.Series(mag // 100).astype("str")
    frac = pd.Series(mag % 100).astype("str").str.zfill(2)
    sign = pd.Series(np.where(c < 0, "-", ""))
    return sign + whole + "." + frac


def format_money(cents: np.ndarray | pd.Series) -> pd.Series:
    """Cents as readable amounts with thousands separators: 2000000 -> ``"20,000.00"``."""
    c = np.asarray(cents, dtype=np.int64)
    return pd.Series([f"{v / 100:,.2f}" if abs(v) < 2**52 else f"{v}" for v in c.tolist()],
                     dtype="str")
