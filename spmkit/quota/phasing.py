"""Phasing an annual quota into periods, and ramps and proration for partial years.

Conventions (see ``docs/quotas.md``):

- **Phasing.** A rep's annual quota is split across the plan year's periods by weights
  (historical seasonality: the company's credited sales per period of the prior year;
  or weights given, e.g. ``[0.2, 0.2, 0.2, 0.4]``), by largest remainder, so the periods
  sum exactly to the annual quota.
- **Proration** (default ``"months"``): a month counts as employed when the rep is
  employed on its 15th (hired on or before the 15th, not terminated before it).  A
  period's quota is its phased quota x employed months / months in the period, rounded to
  the cent half away from zero.  ``"days"`` instead weights each month by the share of its
  days employed (hire and term dates count) and each period by its days.
- **Ramp**: factors such as ``[0.25, 0.5, 0.75]`` apply to consecutive blocks of
  ``ramp_months`` (3) employed months from the first employed month; after the list, 1.
  Ramp and proration multiply, month by month.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from spmkit.errors import InputError
from spmkit.money import CONTEXT, round_cents, to_decimal
from spmkit.periods import MONTHS_PER_PERIOD, Periods
from spmkit.quota.allocation import allocate_rows, integer_weights
from spmkit.quota.history import credit_lines, history_window

__all__ = ["seasonality", "phase", "employment_factors", "apply_factors", "PRORATION"]

PRORATION = ("months", "days", "none")
_DIVIDE = np.frompyfunc(lambda a, b: CONTEXT.divide(Decimal(a), Decimal(int(b))), 2, 1)


def seasonality(deals: pd.DataFrame, periods: Periods) -> np.ndarray:
    """Phasing weights from history: the company's credited sales in each period of the
    year before the plan year (int64 cents, negatives as 0).  Even weights (all 1) when
    that year has no positive sales.

    Parameters
    ----------
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.
    periods : Periods
        The plan year's periods.

    Returns
    -------
    numpy.ndarray of int64, one weight per period.
    """
    year_start = pd.Timestamp(periods.starts[0])
    start, end = history_window(year_start)
    lines = credit_lines(deals)
    d = lines["credit_date"]
    lines = lines[((d >= start) & (d <= end)).to_numpy()]
    shifted = lines["credit_date"] + pd.DateOffset(years=1)
    idx = periods.index_of(shifted)
    sums = np.zeros(periods.count, dtype=np.int64)
    np.add.at(sums, idx[idx >= 0], lines["amount_cents"].to_numpy(np.int64)[idx >= 0])
    sums = np.maximum(sums, 0)
    if sums.sum() == 0:
        return np.ones(periods.count, dtype=np.int64)
    return sums


def _check_weights(weights: Sequence[object] | np.ndarray, periods: Periods) -> np.ndarray:
    w = np.asarray(weights, dtype=object)
    if w.shape != (periods.count,):
        raise InputError(f"settings: phasing has {w.size} weight(s); the plan year has "
                         f"{periods.count} {periods.period} period(s)")
    ints = integer_weights(w)
    if (ints < 0).any() or ints.sum() == 0:
        raise InputError("settings: phasing weights must be non-negative and not all zero")
    return ints


def phase(annual: pd.DataFrame, periods: Periods, weights: Sequence[object] | np.ndarray
          ) -> pd.DataFrame:
    """Split annual quotas into the plan year's periods; each rep's periods sum exactly.

    Parameters
    ----------
    annual : DataFrame
        ``rep_id`` str, ``annual_cents`` int64.
    periods : Periods
        The plan year's periods.
    weights : sequence
        One non-negative weight per period (ints, Decimals or floats; they need not sum
        to 1).

    Returns
    -------
    DataFrame, one row per rep and period (reps in the given order): ``rep_id``,
    ``period_index`` int64, ``period_start`` datetime64, ``quota_cents`` int64.

    Examples
    --------
    >>> from datetime import date
    >>> from spmkit.periods import plan_periods
    >>> a = pd.DataFrame({"rep_id": ["a"], "annual_cents": [100]})
    >>> phase(a, plan_periods(date(2026, 1, 1), "quarter"), [1, 1, 1, 1])["quota_cents"].tolist()
    [25, 25, 25, 25]
    """
    w = _check_weights(weights, periods)
    grid = allocate_rows(annual["annual_cents"].to_numpy(np.int64), w)
    n, p = grid.shape
    return pd.DataFrame({
        "rep_id": np.repeat(annual["rep_id"].astype("str").to_numpy(), p),
        "period_index": np.tile(np.arange(p, dtype=np.int64), n),
        "period_start": np.tile(pd.DatetimeIndex(periods.starts).as_unit("us").to_numpy(), n),
        "quota_cents": grid.ravel(),
    })


def _months(periods: Periods) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    first = pd.Timestamp(periods.starts[0])
    starts = pd.date_range(first, periods=12, freq="MS")
    ends = starts + pd.offsets.MonthEnd(0)
    return starts, ends


def employment_factors(hire_date: pd.Series, term_date: pd.Series, periods: Periods, *,
                       proration: str = "months",
                       ramp: Sequence[object] | None = None, ramp_months: int = 3,
                       ) -> np.ndarray:
    """The share of each period's quota a rep carries, from hire and term dates and a ramp.

    Parameters
    ----------
    hire_date, term_date : Series of datetime64 (NaT when unknown / still employed)
        One per rep, aligned.
    periods : Periods
        The plan year's periods.
    proration : {"months", "days", "none"}
        See the module docstring; ``"none"`` ignores dates (ramps still apply from the
        hire month).
    ramp : sequence of factors, optional
        E.g. ``[0.25, 0.5, 0.75]``: the factor for each block of ``ramp_months``
        employed months from the first; 1 afterwards.
    ramp_months : int
        Months per ramp step.

    Returns
    -------
    numpy.ndarray of Decimal (object), shape (reps, periods), each in [0, 1].
    """
    if proration not in PRORATION:
        raise InputError(f"settings: proration {proration!r} is not one of "
                         f"{', '.join(PRORATION)}")
    ramp_list = [to_decimal(x) for x in (ramp or [])]
    if any(not 0 <= x <= 1 for x in ramp_list):
        raise InputError("settings: ramp factors must be between 0 and 1")
    if ramp_months < 1:
        raise InputError("settings: ramp steps must be at least one month")
    m_start, m_end = _months(periods)
    hire = pd.DatetimeIndex(pd.to_datetime(hire_date)).as_unit("us").to_numpy()[:, None]
    term = pd.DatetimeIndex(pd.to_datetime(term_date)).as_unit("us").to_numpy()[:, None]
    ms = m_start.as_unit("us").to_numpy()[None, :]
    me = m_end.as_unit("us").to_numpy()[None, :]
    no_hire = np.isnat(hire)
    no_term = np.isnat(term)
    mid = ms + np.timedelta64(14, "D")
    if proration == "months":
        num = ((no_hire | (hire <= mid)) & (no_term | (term >= mid))).astype(np.int64)
        den = np.ones_like(num)
    elif proration == "days":
        lo = np.where(no_hire, ms, np.maximum(hire, ms))
        hi = np.where(no_term, me, np.minimum(term, me))
        num = np.maximum((hi - lo) // np.timedelta64(1, "D") + 1, 0).astype(np.int64)
        den = ((me - ms) // np.timedelta64(1, "D") + 1).astype(np.int64) * np.ones_like(num)
    else:
        num = np.ones((len(hire), 12), dtype=np.int64)
        den = np.ones_like(num)
    # month number (0-based) of each month since the rep's first employed month
    hire_ts = pd.DatetimeIndex(pd.to_datetime(hire_date))
    first_month = (np.asarray(hire_ts.year, dtype=np.float64) * 12
                   + np.asarray(hire_ts.month, dtype=np.float64) - 1)
    if proration == "months":
        first_month = first_month + (np.asarray(hire_ts.day, dtype=np.float64) > 15)
    month_no = (np.asarray(m_start.year) * 12 + np.asarray(m_start.month) - 1)[None, :]
    tenure = month_no - first_month[:, None]
    step = np.floor_divide(np.nan_to_num(tenure, nan=1e9), ramp_months).astype(np.int64)
    table = np.array(ramp_list + [Decimal(1)], dtype=object)
    ramp_f = table[np.clip(step, 0, len(ramp_list))]
    # weight of each month inside its period: 1 (months) or its days (days)
    size = MONTHS_PER_PERIOD[periods.period]
    share = (ramp_f * num.astype(object)).reshape(len(hire), periods.count, size)
    top = share.sum(axis=2)
    if proration == "days":
        bottom = den.reshape(len(hire), periods.count, size).sum(axis=2)
    else:
        bottom = np.full(top.shape, size, dtype=np.int64)
    out = _DIVIDE(top.astype(object), bottom.astype(object))
    return out


def apply_factors(quotas: pd.DataFrame, factors: np.ndarray) -> pd.DataFrame:
    """Multiply phased quotas by employment factors, rounding each period half away from 0.

    Parameters
    ----------
    quotas : DataFrame
        From :func:`phase` (reps x periods in order): ``quota_cents`` int64.
    factors : ndarray of Decimal, shape (reps, periods)
        From :func:`employment_factors`.

    Returns
    -------
    A copy of ``quotas`` with ``quota_cents`` prorated and ``full_quota_cents`` (before).
    """
    full = quotas["quota_cents"].to_numpy(np.int64)
    f = np.asarray(factors, dtype=object).ravel()
    if f.size != full.size:
        raise ValueError("factors do not match the quotas' reps x periods")
    exact = full.astype(object) * f
    prorated = round_cents(exact)
    return quotas.assign(full_quota_cents=full, quota_cents=prorated)
