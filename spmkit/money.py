"""Exact money: integer cents, decimal intermediates, one rounding half away from zero.

Amounts are held as ``int64`` cents.  Arithmetic that produces fractions of a cent
(rates, multiples, curves) runs in 34-digit :class:`decimal.Decimal` on the small
rep x period grid and is rounded once per payout line with :func:`round_cents`.

A sum of cents that does not fit in ``int64`` (about 92 quadrillion) is an error
(:class:`CentsOverflowError`), never a wrapped number: :func:`checked_sum`,
:func:`checked_cumsum` and :func:`checked_group_sum` add in plain ``int64`` when the
largest amount times the row count cannot overflow, and otherwise add the high and low
32 bits of each amount separately, which is exact and still vectorized.

Split credit (:func:`split_cents`) and allocation by weights (:func:`allocate`) live
here too, so rounding and allocation each have one home.
"""

from __future__ import annotations

import decimal
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spmkit.errors import InputError, Problem

#: Decimal context for intermediate money arithmetic: 34 significant digits and
#: ROUND_HALF_UP, which in :mod:`decimal` means half *away from zero*.
CONTEXT = decimal.Context(prec=34, rounding=ROUND_HALF_UP)

_ONE = Decimal(1)

#: The largest magnitude of cents spmkit holds (``int64``): 92,233,720,368,547,758.07.
MAX_CENTS = 2**63 - 1
_WORD = 32
_LOW = (1 << _WORD) - 1


class CentsOverflowError(InputError):
    """An amount, or a sum of amounts, too large for the ``int64`` cents spmkit holds money in.

    An :class:`~spmkit.errors.InputError`: such a figure comes from input that cannot be
    right (a misplaced decimal point, an id in the amount column).
    """


def overflow_problem(source: str, what: str, *, where: str | None = None,
                     column: str | None = None) -> Problem:
    """The message for a figure beyond :data:`MAX_CENTS`: ``what`` names it."""
    return Problem(source, f"{what} is beyond plus or minus {money_text(MAX_CENTS)}, the "
                   "largest amount spmkit can hold; check the amounts (a misplaced decimal "
                   "point?)", where, column)


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
        if flat and max(max(flat), -min(flat)) > MAX_CENTS:
            raise CentsOverflowError(overflow_problem("payouts", "an amount to pay"))
        return np.array(flat, dtype=np.int64).reshape(arr.shape)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    x = np.round(arr.astype(np.float64), 6)
    out = np.sign(x) * np.floor(np.abs(x) + 0.5)
    if (np.abs(out) >= 2.0**63).any():  # never cast to a wrapped number
        raise CentsOverflowError(overflow_problem("payouts", "an amount to pay"))
    return out.astype(np.int64)


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
        if q.size and max(q.ravel().tolist()) > MAX_CENTS:
            raise CentsOverflowError(overflow_problem(
                "amounts", f"an amount times {num}/{den}"))
    return (np.where(v < 0, -q, q) * sign).astype(np.int64)


def prorate_cents(cents: object, days: object, of_days: object) -> np.ndarray:
    """``round(cents x days / of_days)`` element by element, half away from zero, exactly:
    the one home of proration by days (a quota for the days of a period a plan applies).

    >>> prorate_cents([9000, 100, -5], [30, 1, 1], [90, 3, 2]).tolist()
    [3000, 33, -3]
    """
    c, d, n = np.broadcast_arrays(np.asarray(cents, dtype=np.int64),
                                  np.asarray(days, dtype=np.int64),
                                  np.asarray(of_days, dtype=np.int64))
    if (n <= 0).any() or (d < 0).any():
        raise ValueError("days must be >= 0 and of_days > 0")
    mag = np.abs(c)
    if not mag.size or 2 * int(mag.max()) * int(d.max(initial=0)) + int(n.max()) < 2**63:
        q = (2 * mag * d + n) // (2 * n)
    else:  # Python integers: exact at any size, the result is at most the cents given
        q = (2 * mag.astype(object) * d.astype(object) + n) // (2 * n)
    return np.where(c < 0, -q, q).astype(np.int64)


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


def share_cents(amounts: np.ndarray, shares_ppb: np.ndarray) -> np.ndarray:
    """``round(amount x share / 1e9)`` half away from zero, exactly, for each line (a
    share in parts per billion, at most 1e9): an overlay's credit, or a split line before
    its residue.

    >>> share_cents(np.array([10001, -10001]), np.array([500_000_000] * 2)).tolist()
    [5001, -5001]
    """
    amount = np.asarray(amounts, dtype=np.int64)
    share = np.asarray(shares_ppb, dtype=np.int64)
    ppb = 1_000_000_000
    mag = np.abs(amount)
    hi, lo = np.divmod(mag, ppb)  # amount x share / 1e9 exactly, without int64 overflow
    prod = lo * share
    part = hi * share + prod // ppb + (2 * (prod % ppb) >= ppb)
    return np.where(amount < 0, -part, part).astype(np.int64)


def split_cents(amounts: np.ndarray, shares_ppb: np.ndarray, groups: object,
                tiebreak: object) -> np.ndarray:
    """Each line's share of its group's amount in whole cents, summing exactly per group.

    ``amounts`` is the group's (deal's) amount on every line of the group, ``shares_ppb``
    the line's share in parts per billion (a group's shares sum to 1e9).  Each line gets
    ``round(amount x share)`` half away from zero; the rounding residue (a few cents at
    most) goes to the line with the largest share, ties to the smallest ``tiebreak``
    (the rep_id), so the result never depends on the order of the lines.

    >>> split_cents(np.array([10001, 10001]), np.array([500_000_000] * 2),
    ...             ["D1", "D1"], ["B", "A"]).tolist()
    [5001, 5000]
    """
    amount = np.asarray(amounts, dtype=np.int64)
    share = np.asarray(shares_ppb, dtype=np.int64)
    part = share_cents(amount, share)
    if not len(part):
        return part.astype(np.int64)
    group, _ = pd.factorize(np.asarray(groups, dtype=object))
    rank, _ = pd.factorize(np.asarray(tiebreak, dtype=object), sort=True)
    keys, sums, over = checked_group_sum(group, part)
    if over.any():  # each part is at most the amount: only near MAX_CENTS itself
        raise CentsOverflowError(overflow_problem("splits", "the split credit of a deal"))
    total = np.zeros(int(group.max()) + 1, dtype=np.int64)
    total[keys] = sums
    first = np.lexsort((rank, -share, group))  # by group, largest share, smallest tiebreak
    head = first[np.r_[True, group[first][1:] != group[first][:-1]]]
    part[head] += amount[head] - total[group[head]]
    return part.astype(np.int64)


# --------------------------------------------------------------------------- checked sums


def _fits(values: np.ndarray, count: int) -> bool:
    """Whether adding ``count`` of these values can never leave int64."""
    if not values.size or not count:
        return True
    return max(int(values.max()), -int(values.min())) * count <= MAX_CENTS


def _join(high: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``high x 2**32 + low`` as int64 and a mask of results beyond int64 (set to 0)."""
    high = np.asarray(high, dtype=np.int64) + (np.asarray(low, dtype=np.int64) >> _WORD)
    low = np.asarray(low, dtype=np.int64) & _LOW
    over = (high < -(1 << (_WORD - 1))) | (high >= 1 << (_WORD - 1))
    over |= (high == -(1 << (_WORD - 1))) & (low == 0)  # -2**63: no positive twin
    return np.where(over, 0, (np.where(over, 0, high) << _WORD) | low), over


def _words(values: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    if count >= 1 << (_WORD - 1):  # the low words' sum could itself leave int64
        raise ValueError("checked sums take at most 2**31 - 1 values at a time")
    return values >> _WORD, values & _LOW


def checked_sum(values: object, axis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact int64 sums of int64 cents and a mask of sums beyond int64 (those read 0).

    >>> checked_sum(np.array([2**62, 2**62, -5]))[1].tolist()
    True
    """
    v = np.asarray(values, dtype=np.int64)
    count = v.size if axis is None else v.shape[axis]
    if _fits(v, count):
        total = np.asarray(np.sum(v, axis=axis), dtype=np.int64)
        return total, np.zeros(total.shape, dtype=bool)
    high, low = _words(v, count)
    return _join(np.sum(high, axis=axis), np.sum(low, axis=axis))


def checked_cumsum(values: object, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Exact running int64 sums along ``axis`` and a mask of those beyond int64 (read 0)."""
    v = np.asarray(values, dtype=np.int64)
    count = v.shape[axis] if v.ndim else 1
    if _fits(v, count):
        return np.cumsum(v, axis=axis), np.zeros(v.shape, dtype=bool)
    high, low = _words(v, count)
    return _join(np.cumsum(high, axis=axis), np.cumsum(low, axis=axis))


def checked_group_sum(keys: object, values: object
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact int64 sums of ``values`` per key: ``(keys, sums, beyond int64)``, keys sorted.

    One pandas group-by (two, on the high and low words, only when the largest value
    times the row count could leave int64).
    """
    v = np.asarray(values, dtype=np.int64)
    k = np.asarray(keys)
    if _fits(v, len(v)):
        sums = pd.Series(v).groupby(k, sort=True).sum()
        out = sums.to_numpy(np.int64)
        return sums.index.to_numpy(), out, np.zeros(len(out), dtype=bool)
    high, low = _words(v, len(v))
    sums = pd.DataFrame({"high": high, "low": low}).groupby(k, sort=True).sum()
    total, over = _join(sums["high"].to_numpy(np.int64), sums["low"].to_numpy(np.int64))
    return sums.index.to_numpy(), total, over


def sum_cents(values: object, axis: int | None = None, *, source: str, what: str,
              column: str | None = None) -> np.ndarray:
    """:func:`checked_sum` that raises :class:`CentsOverflowError` naming ``source``."""
    total, over = checked_sum(values, axis)
    if over.any():
        raise CentsOverflowError(overflow_problem(source, what, column=column))
    return total


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
    """Cents as readable amounts with thousands separators: 2000000 -> ``"20,000.00"``.

    Vectorized (the same text as :func:`money_text` for each value): the whole part is
    built group of three digits by group, from the top, with Arrow string kernels.
    """
    c = np.asarray(cents, dtype=np.int64).ravel()
    if not len(c):
        return pd.Series([], dtype="str")
    # |int64 min| does not fit int64: take the magnitude as uint64
    mag = np.where(c < 0, (-(c + 1)).astype(np.uint64) + np.uint64(1), c.astype(np.uint64))
    whole, frac = mag // np.uint64(100), mag % np.uint64(100)
    top = int(whole.max())
    groups = max(1, (len(str(top)) + 2) // 3)
    text = pd.Series((whole // np.uint64(1000) ** np.uint64(groups - 1)).astype(np.int64)
                     if groups > 1 else whole.astype(np.int64)).astype("str")
    for i in range(groups - 2, -1, -1):  # groups of digits, at most seven
        unit = np.uint64(1000) ** np.uint64(i)
        started = pd.Series(whole >= unit * np.uint64(1000))
        leading = pd.Series(whole // unit)
        piece = pd.Series((leading.to_numpy() % 1000).astype(np.int64)).astype("str")
        text = text.where(~started, text + "," + piece.str.zfill(3))
        text = text.where(started, leading.astype(np.int64).astype("str"))
    sign = pd.Series(np.where(c < 0, "-", ""), dtype="str")
    frac_text = pd.Series(frac.astype(np.int64)).astype("str").str.zfill(2)
    return (sign + text + "." + frac_text).astype("str")
