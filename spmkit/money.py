"""Exact money: integer cents, decimal intermediates, one rounding half away from zero.

Amounts are held as ``int64`` cents.  Arithmetic that produces fractions of a cent
(rates, multiples, curves) runs in 34-digit :class:`decimal.Decimal` on the small
rep x period grid and is rounded once per payout line with :func:`round_cents`.
"""

from __future__ import annotations

import decimal
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Decimal context for intermediate money arithmetic: 34 significant digits and
#: ROUND_HALF_UP, which in :mod:`decimal` means half *away from zero*.
CONTEXT = decimal.Context(prec=34, rounding=ROUND_HALF_UP)

_ONE = Decimal(1)


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


_THOUSANDS_RE = r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*$"


def decimal_text(s: pd.Series) -> pd.Series:
    """A column of amounts as stripped decimal text (``str`` dtype), blank -> missing.

    Object columns (Decimals from Parquet, mixed values from Excel) are formatted one
    value at a time; text columns stay vectorized.
    """
    if s.dtype == object:
        def one(v: object) -> object:
            if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
                return None
            if isinstance(v, Decimal):
                return format(v, "f")
            if isinstance(v, float):
                return format(Decimal(repr(v)), "f")
            return str(v)

        s = s.map(one)
    t = s.astype("str").str.strip()
    return t.mask(t == "")


def parse_fixed(s: pd.Series, places: int, *, exact: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse numbers to int64 units of ``10**-places``, exactly, half away from zero.

    Text is parsed digit by digit (``"1234.565"`` at 2 places -> 123457); floats are
    rounded after removing binary noise. With ``exact``, text with non-zero digits beyond
    ``places`` is bad instead of rounded. Returns ``(values, missing, bad)``; missing and
    bad values are 0.
    """
    scale = 10**places
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(x)
        bad = (~np.isfinite(x) & ~missing) | (np.abs(np.nan_to_num(x)) >= 9e18 / scale)
        y = np.round(np.where(missing | bad, 0.0, x) * scale, 3)
        return (np.sign(y) * np.floor(np.abs(y) + 0.5)).astype(np.int64), missing, bad
    if _is_arrow_decimal(s):
        return _parse_arrow_decimal(pa.chunked_array(s.array._pa_array).combine_chunks(),
                                    places, exact)
    t = decimal_text(s)
    return _parse_text(pa.array(t, type=pa.string(), from_pandas=True), places, exact)


def _is_arrow_decimal(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_decimal(s.dtype.pyarrow_dtype)


_NAMED_RE = r"^\s*(?P<sign>[+-]?)(?P<whole>\d*)(?:\.(?P<frac>\d*))?\s*$"


def _parse_text(arr: pa.Array, places: int, exact: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decimal text -> scaled int64, with Arrow's vectorized string kernels (no Python loop)."""
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    found = pc.extract_regex(arr, _NAMED_RE)
    sign = pc.struct_field(found, "sign")
    whole = pc.struct_field(found, "whole")
    frac = pc.struct_field(found, "frac")
    blank = pc.and_(pc.equal(whole, ""), pc.equal(frac, ""))
    too_long = pc.greater(pc.utf8_length(whole), 18 - places)
    bad = pc.fill_null(pc.or_(pc.or_(blank, too_long), pc.is_null(found)), True)
    bad = bad.to_numpy(zero_copy_only=False) & ~missing
    ok = ~(bad | missing)
    if exact and places >= 0:  # digits beyond ``places`` must be zeros
        beyond = pc.match_substring_regex(pc.utf8_slice_codeunits(frac, places, 10**6), "[1-9]")
        beyond = pc.fill_null(beyond, False).to_numpy(zero_copy_only=False)
        bad = bad | (beyond & ~missing)
        ok = ok & ~beyond
    okm = pa.array(ok)

    def ints(texts: pa.Array) -> np.ndarray:
        filled = pc.if_else(pc.and_(okm, pc.not_equal(pc.fill_null(texts, ""), "")),
                            texts, "0")
        return pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False)

    scale = 10**places
    padded = pc.utf8_rpad(pc.fill_null(frac, ""), places + 1, padding="0")
    w = ints(whole)
    f = ints(pc.utf8_slice_codeunits(padded, 0, places)) if places else 0
    up = ints(pc.utf8_slice_codeunits(padded, places, places + 1)) >= 5
    mag = w * scale + f + up
    neg = pc.fill_null(pc.equal(sign, "-"), False).to_numpy(zero_copy_only=False)
    return np.where(ok, np.where(neg, -mag, mag), 0).astype(np.int64), missing, bad


def _parse_arrow_decimal(arr: pa.Array, places: int, exact: bool
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrow decimals -> scaled int64: round half away from zero, then read the integer."""
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    rounded = pc.round(arr, ndigits=places, round_mode="half_towards_infinity")
    target = pa.decimal128(38, places)
    rounded = rounded.cast(target)
    words = np.frombuffer(rounded.buffers()[1], dtype=np.int64)[2 * rounded.offset:]
    low, high = words[0::2][: len(rounded)], words[1::2][: len(rounded)]
    fits = (high == np.where(low < 0, -1, 0)) & (np.abs(low) < 9 * 10**17)
    bad = ~fits & ~missing
    if exact:
        wide = pa.decimal128(38, max(arr.type.scale, places))
        same = pc.equal(arr.cast(wide), rounded.cast(wide))
        bad = bad | (~pc.fill_null(same, True).to_numpy(zero_copy_only=False) & ~missing)
    ok = ~(bad | missing)
    return np.where(ok, low, 0).astype(np.int64), missing, bad


def parse_cents(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a column of amounts into int64 cents, exactly: ``(cents, missing, bad)``.

    Accepts numbers, Decimals and text; text may use well-formed thousands separators
    (``"1,234.50"``, never ``"1,5"``). Rounds half away from zero to the cent.
    """
    s = values
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("str")
    numeric = pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype)
    if not numeric and not _is_arrow_decimal(s):
        t = decimal_text(s)
        has_comma = t.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)
        if has_comma.any():
            grouped = t.str.match(_THOUSANDS_RE).fillna(False).to_numpy(dtype=bool)
            t = t.where(~grouped, t.str.replace(",", "", regex=False))
        s = t
    return parse_fixed(s, 2)


def mul_div_round(values: np.ndarray, num: int, den: int) -> np.ndarray:
    """``round(values x num / den)`` half away from zero, exactly, for integer ``values``.

    Vectorized int64 arithmetic when the products fit; Python integers otherwise.

    >>> mul_div_round(np.array([5, -5, 3]), 1, 2).tolist()
    [3, -3, 2]
    """
    v = np.asarray(values, dtype=np.int64)
    mag = np.abs(v)
    num, den = int(num), int(den)
    if den <= 0:
        raise ValueError("den must be positive")
    sign = -1 if num < 0 else 1
    num = abs(num)
    if not mag.size or 2 * int(mag.max()) * num + den < 2**63:
        q = (2 * mag * num + den) // (2 * den)
    else:
        q = np.array([(2 * int(m) * num + den) // (2 * den) for m in mag.ravel()],
                     dtype=object).reshape(mag.shape)
    return (np.where(v < 0, -q, q) * sign).astype(np.int64)


def scale_cents(cents: object, factor: object) -> np.ndarray:
    """Cents times an exact factor, rounded to whole cents half away from zero.

    ``factor`` may be a Decimal, int, str or float (floats go through their shortest repr,
    so ``0.1`` is exactly 1/10).

    >>> scale_cents([1000, 5], "1.1").tolist()
    [1100, 6]
    """
    num, den = to_decimal(factor).as_integer_ratio()
    return mul_div_round(np.asarray(cents, dtype=np.int64), num, den)


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
    exact = np.array(
        [CONTEXT.divide(CONTEXT.multiply(Decimal(total_cents), x), total_w) for x in w],
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


def money_text(cents: object) -> str:
    """Cents as a readable amount: ``123456 -> "1,234.56"``, ``-5 -> "-0.05"``; NA -> ``""``.

    Exact for integers (no float arithmetic); floats (e.g. Monte Carlo percentiles in cents)
    are rounded half away from zero to the cent first.
    """
    if cents is None or cents is pd.NA:
        return ""
    if isinstance(cents, float | np.floating):
        if math.isnan(cents):
            return ""
        cents = int(math.copysign(math.floor(abs(float(cents)) + 0.5), float(cents)))
    c = int(cents)  # type: ignore[call-overload]
    sign = "-" if c < 0 else ""
    whole, frac = divmod(abs(c), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def format_money(cents: np.ndarray | pd.Series) -> pd.Series:
    """Cents as readable amounts with thousands separators: 2000000 -> ``"20,000.00"``."""
    return pd.Series([money_text(v) for v in np.asarray(cents, dtype=np.int64).tolist()],
                     dtype="str")
