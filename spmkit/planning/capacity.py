"""Capacity planning: how much the sales team can sell in each quarter of the plan year,
the gap to target, and the hires (and when to open the requisitions) that close it.

The model, month by month for every selling rep (``docs/planning.md`` has worked examples)::

    ramped rep equivalents (RRE) = heads x employed share x ramp(tenure) x survival
    capacity                     = RRE x productivity of a ramped rep (per month)

- **productivity**: per role, the median annual credit of *ramped* reps in the year before
  the plan year (employed all year with at least ``ramped_after_months`` of tenure at its
  start), or given; its 10th and 90th percentiles give the capacity range (P10-P90): the
  capacity if every ramped rep sold like the 10th (90th) percentile rep.
- **ramp**: a factor per month or quarter of tenure, counted from the hire month (month 0),
  then 1; estimated from the reps hired in the history, or given.
- **attrition**: an annual rate per role (leavers / rep-years employed in the history
  window, from the roster's term dates), or given; a rep without a known term date is
  still employed after ``t`` years with probability ``(1 - rate) ** t``.  Known term dates
  are used as they are.
- **hires**: the fewest new reps (of ``hire_role``), starting on the first day of a quarter,
  that close the gap to target (the year's gap when the target is annual, each quarter's
  when it is given by quarter), found with :func:`scipy.optimize.milp`; each cohort's
  requisitions open ``lead_time_months`` before its start.

Money is int64 cents, rounded once per role and month (half away from zero), so months sum
to quarters and quarters to the year exactly.  Nothing here loops over reps in Python.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem
from spmkit.money import allocate, round_cents, to_decimal

__all__ = [
    "KELLBLOG_RAMP", "RAMP_NORM_MONTHS", "CapacityPlan", "RampCurve", "attrition_from_history",
    "capacity_cents", "parse_target", "plan_capacity", "plan_capacity_from_files",
    "plot_capacity",
    "productivity_from_history", "ramp_from_history", "rep_equivalents", "selling_reps",
]

#: Months a new hire takes to reach full productivity, by the usual norm (QuotaPath:
#: "9 to 13 months"); a ramp outside it gets a note.
RAMP_NORM_MONTHS: tuple[int, int] = (9, 13)

UNIT_MONTHS = {"month": 1, "quarter": 3}

#: Quarters a rep must have been employed on the reps hired in the history to estimate
#: each step of the ramp.
MIN_RAMP_REPS = 3

_SETTINGS = "settings"


# --------------------------------------------------------------------------- the ramp


@dataclass(frozen=True)
class RampCurve:
    """Productivity of a new hire by month or quarter of tenure, as a fraction of a ramped
    rep's; after the last factor, 1.

    Tenure month 0 is the hire month (tenure quarter 0 the hire month and the two after).

    Attributes
    ----------
    factors : tuple of Decimal
        One factor in [0, 1] per step of tenure (exact: ``"0.25"`` stays 1/4).
    unit : {"month", "quarter"}
    source : str
        ``given``, ``history`` or ``default`` (for notes and reports).
    evidence : DataFrame or None
        For a ramp estimated from history: one row per step with ``step``, ``reps``,
        ``credit_cents``, ``expected_cents``, ``observed`` (credit / expected) and
        ``factor``.

    Examples
    --------
    >>> RampCurve(("0", "0.25", "0.5"), unit="quarter").months_to_full
    9
    >>> RampCurve(("0", "0.25", "0.5", "0.75"), unit="month").at([0, 1, 3, 4, 30]).tolist()
    [0.0, 0.25, 0.75, 1.0, 1.0]
    """

    factors: tuple[Any, ...]
    unit: str = "quarter"
    source: str = "given"
    evidence: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.unit not in UNIT_MONTHS:
            raise InputError(f"{_SETTINGS}: ramp unit {self.unit!r} must be month or quarter")
        values = []
        for f in self.factors:
            try:
                d = to_decimal(str(f).strip()) if not isinstance(f, float) else to_decimal(f)
            except decimal.InvalidOperation:
                raise InputError(f"{_SETTINGS}: ramp factor {f!r} is not a number") from None
            if not d.is_finite() or not 0 <= d <= 1:
                raise InputError(f"{_SETTINGS}: ramp factor {f} must be between 0 and 1 "
                                 "(a fraction of a ramped rep's productivity)")
            values.append(d)
        if len(values) > 120:
            raise InputError(f"{_SETTINGS}: a ramp of {len(values)} steps is too long")
        object.__setattr__(self, "factors", tuple(values))

    @property
    def step_months(self) -> int:
        """Months per step (1 or 3)."""
        return UNIT_MONTHS[self.unit]

    @property
    def months_to_full(self) -> int:
        """Months of tenure before the factor stays at 1."""
        f = list(self.factors)
        while f and f[-1] == 1:
            f.pop()
        return len(f) * self.step_months

    def monthly(self) -> np.ndarray:
        """The factor of each tenure month until full productivity (float64)."""
        f = np.array([float(x) for x in self.factors], dtype=np.float64)
        return np.repeat(f, self.step_months)

    def at(self, tenure_months: object) -> np.ndarray:
        """The factor at each tenure month (float64): 0 before the hire month, 1 after the
        ramp, 1 for an unknown (NaN) tenure."""
        t = np.asarray(tenure_months, dtype=np.float64)
        table = np.append(self.monthly(), 1.0)
        k = np.clip(np.floor(np.nan_to_num(t, nan=len(table))), 0, len(table) - 1)
        return np.where(t < 0, 0.0, table[k.astype(np.int64)])

    def frame(self) -> pd.DataFrame:
        """One row per step: ``tenure`` (e.g. ``months 0-2``), ``factor`` (float)."""
        step = self.step_months
        n = len(self.factors)
        first = np.arange(n) * step
        labels = [f"month {a}" if step == 1 else f"months {a}-{a + step - 1}"
                  for a in first.tolist()]
        labels.append(f"month {n * step}+" if n else "month 0+")
        return pd.DataFrame({"tenure": pd.Series(labels, dtype="str"),
                             "factor": np.append([float(x) for x in self.factors], 1.0)})

    def describe(self) -> str:
        """``"0%, 25%, 50% by quarter of tenure, then 100% (9 months to full)"``."""
        pct = ", ".join(f"{float(x):.0%}" for x in self.factors) or "none"
        return (f"{pct} by {self.unit} of tenure, then 100% ({self.months_to_full} months "
                "to full productivity)")


#: The norm for reports: 0%, 25%, 50% and then 100% by quarter of tenure (kellblog).
KELLBLOG_RAMP = RampCurve(("0", "0.25", "0.5"), unit="quarter", source="default")


def _ramp(ramp: RampCurve | Sequence[object], unit: str) -> RampCurve:
    if isinstance(ramp, RampCurve):
        return ramp
    if isinstance(ramp, str):
        ramp = [p for p in ramp.split(",") if p.strip()]
    return RampCurve(tuple(ramp), unit=unit)


# --------------------------------------------------------------------------- small pieces


def capacity_cents(heads: object, factors: object, productivity_cents: int) -> int:
    """Capacity of groups of reps, in cents: ``sum(heads x factor) x productivity``, exact,
    rounded once (half away from zero).

    Parameters
    ----------
    heads : sequence of numbers
        Reps in each group.
    factors : sequence of numbers (Decimal, str, float)
        Each group's productivity as a fraction of the reference (ramp, attainment).
    productivity_cents : int
        The reference productivity (e.g. a ramped rep's annual quota or credit), cents.

    Examples
    --------
    The metrickittools guide: 7 ramped reps at 85% and 3 ramping at 40% of 150,000:

    >>> capacity_cents([7, 3], ["0.85", "0.40"], 150_000_00) / 100
    1072500.0
    """
    h = [to_decimal(x) for x in np.asarray(heads, dtype=object).ravel().tolist()]
    f = [to_decimal(x) for x in np.asarray(factors, dtype=object).ravel().tolist()]
    if len(h) != len(f):
        raise ValueError("heads and factors differ in length")
    rre = sum((a * b for a, b in zip(h, f, strict=True)), Decimal(0))
    exact = np.array([rre * Decimal(int(productivity_cents))], dtype=object)
    return int(round_cents(exact)[0])


def _dates(s: pd.Series | None, n: int) -> pd.Series:
    if s is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    return pd.to_datetime(s).astype("datetime64[us]").reset_index(drop=True)


def selling_reps(roster: pd.DataFrame, *, start: pd.Timestamp | date,
                 end: pd.Timestamp | date, roles: Sequence[str] | None = None) -> pd.DataFrame:
    """The selling reps employed at some time from ``start`` to ``end`` (inclusive).

    Managers (anyone who is another row's ``manager_id``) are not selling reps.

    Parameters
    ----------
    roster : DataFrame
        As from :func:`spmkit.tables.load_roster` (``rep_id``; optional ``role``,
        ``region``, ``manager_id``, ``hire_date``, ``term_date``).
    start, end : dates
    roles : sequence of str, optional
        Keep only these roles.

    Returns
    -------
    DataFrame sorted by ``rep_id``: ``rep_id``, ``role`` (``"(no role)"`` when blank),
    ``region`` (str or NA), ``hire_date``, ``term_date`` (datetime64, NaT when unknown).
    """
    n = len(roster)
    r = roster.reset_index(drop=True)
    ids = r["rep_id"].astype("str")
    role = (r["role"].astype("str") if "role" in r else pd.Series("", index=r.index, dtype="str"))
    role = role.fillna("").str.strip()
    role = role.mask(role == "", "(no role)")
    region = (r["region"].astype("str") if "region" in r
              else pd.Series(pd.NA, index=r.index, dtype="str"))
    hire = _dates(r.get("hire_date"), n)
    term = _dates(r.get("term_date"), n)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    keep = ((hire.isna() | (hire <= end)) & (term.isna() | (term >= start))).to_numpy()
    if "manager_id" in r:
        keep = keep & ~ids.isin(r["manager_id"].dropna().astype("str")).to_numpy()
    if roles is not None:
        keep = keep & role.isin(list(roles)).to_numpy()
    out = pd.DataFrame({"rep_id": ids, "role": role, "region": region, "hire_date": hire,
                        "term_date": term})[keep]
    return out.sort_values("rep_id", kind="stable").reset_index(drop=True)


def _month_no(d: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Months since year 0 (float; NaN for NaT)."""
    x = pd.DatetimeIndex(d)
    return (np.asarray(x.year, dtype=np.float64) * 12 + np.asarray(x.month, dtype=np.float64)
            - 1)


def rep_equivalents(roster: pd.DataFrame, as_of: date | str | pd.Timestamp,
                    ramp: RampCurve | Sequence[object], *, unit: str = "quarter",
                    roles: Sequence[str] | None = None) -> pd.DataFrame:
    """Each selling rep's ramped rep equivalent on a date: the ramp factor of their tenure.

    Tenure is counted in calendar months from the hire month (a rep hired in November is
    in tenure month 2 in January); a rep without a hire date counts as ramped.

    Parameters
    ----------
    roster : DataFrame
        As from :func:`spmkit.tables.load_roster`.
    as_of : date
    ramp : RampCurve or sequence of factors (with ``unit``)
    roles : sequence of str, optional

    Returns
    -------
    DataFrame: ``rep_id``, ``role``, ``hire_date``, ``tenure_months`` (float; NaN when
    unknown), ``factor`` (float).  ``factor.sum()`` is the team's RRE.

    Examples
    --------
    >>> roster = pd.DataFrame({"rep_id": ["a", "b"], "hire_date": ["2025-12-01", "2020-01-01"]})
    >>> rep_equivalents(roster, "2026-01-15", ["0.25", "0.6", "0.85"])["factor"].tolist()
    [0.25, 1.0]
    """
    curve = _ramp(ramp, unit)
    day = pd.Timestamp(as_of)
    reps = selling_reps(roster, start=day, end=day, roles=roles)
    tenure = _month_no(pd.DatetimeIndex([day]))[0] - _month_no(reps["hire_date"])
    return reps[["rep_id", "role", "hire_date"]].assign(
        tenure_months=tenure, factor=curve.at(tenure))


# --------------------------------------------------------------------------- history


def _window(year: int, start_month: int) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    from spmkit.quota.history import history_window, plan_year_start

    year_start = plan_year_start(year, start_month)
    h_start, h_end = history_window(year_start)
    return year_start, h_start, h_end


def productivity_from_history(deals: pd.DataFrame, roster: pd.DataFrame, year: int, *,
                              ramped_after_months: int = 12, fx: pd.DataFrame | None = None,
                              currency: str = "USD", roles: Sequence[str] | None = None,
                              start_month: int = 1) -> pd.DataFrame:
    """Annual productivity of a ramped rep, by role, from the year before the plan year.

    A rep counts as ramped when employed the whole history year (hired at least
    ``ramped_after_months`` before it starts; no term date inside it).  Their credit is
    owner credit (:func:`spmkit.quota.history.rep_history`; cancellations reversed, deals
    in other currencies at the fx plan rates).

    Returns
    -------
    DataFrame, one row per role: ``role``, ``ramped_reps`` int, ``productivity_cents``
    (median), ``p10_cents``, ``p90_cents`` (int64; percentiles interpolated linearly,
    rounded half away from zero), ``source`` (``"history"``).

    Raises
    ------
    InputError
        No ramped rep in the history year.
    """
    from spmkit.quota.history import rep_history, to_plan_currency

    year_start, h_start, h_end = _window(year, start_month)
    reps = selling_reps(roster, start=h_start, end=h_end, roles=roles)
    ramped_from = h_start - pd.DateOffset(months=int(ramped_after_months))
    ramped = ((reps["hire_date"].isna() | (reps["hire_date"] <= ramped_from))
              & (reps["term_date"].isna() | (reps["term_date"] > h_end))).to_numpy()
    if not ramped.any():
        raise InputError(f"roster: no selling rep was employed all of {h_start.date()} .. "
                         f"{h_end.date()} with {ramped_after_months} months of tenure; give "
                         "the productivity of a ramped rep instead")
    credit = rep_history(to_plan_currency(deals, fx, currency), year_start,
                         pd.Index(reps.loc[ramped, "rep_id"], dtype="str"))
    frame = pd.DataFrame({"role": reps.loc[ramped, "role"].to_numpy(),
                          "annual_cents": credit.to_numpy(np.int64).astype(np.float64)})
    g = frame.groupby("role", sort=True)["annual_cents"]
    q = g.quantile([0.1, 0.5, 0.9]).unstack()
    return pd.DataFrame({
        "role": pd.Series(q.index.astype("str"), dtype="str"),
        "ramped_reps": g.size().to_numpy(np.int64),
        "productivity_cents": round_cents(q[0.5].to_numpy()),
        "p10_cents": round_cents(q[0.1].to_numpy()),
        "p90_cents": round_cents(q[0.9].to_numpy()),
        "source": "history",
    })


def ramp_from_history(deals: pd.DataFrame, roster: pd.DataFrame, year: int,
                      productivity: pd.DataFrame, *, unit: str = "quarter",
                      horizon_months: int = 12, min_reps: int = MIN_RAMP_REPS,
                      fx: pd.DataFrame | None = None, currency: str = "USD",
                      roles: Sequence[str] | None = None, start_month: int = 1) -> RampCurve:
    """Estimate the ramp from the reps hired during the deals' history.

    For every rep hired on or after the first month with deals and before the plan year,
    each month of tenure up to ``horizon_months`` (hire month = 0; partial months by days
    employed) is compared with a ramped rep of the same role: the factor of a step is
    ``sum(credit) / sum(productivity / 12 x employed share)`` over the rep-months in it,
    clipped to [0, 1] and made non-decreasing (a rep does not un-ramp).  Seasonality is
    not removed: a step observed mostly in strong months reads high.

    Parameters
    ----------
    productivity : DataFrame
        ``role``, ``productivity_cents`` (as from :func:`productivity_from_history`).
    unit : {"month", "quarter"}
    horizon_months : int
        Tenure after which a rep is taken as ramped (a multiple of the unit).
    min_reps : int
        Fewest distinct reps a step needs.

    Returns
    -------
    RampCurve with ``source="history"`` and its ``evidence``.

    Raises
    ------
    InputError
        A step has fewer than ``min_reps`` reps (give the ramp instead).
    """
    from spmkit.quota.history import credit_lines, to_plan_currency

    if unit not in UNIT_MONTHS:
        raise InputError(f"{_SETTINGS}: ramp unit {unit!r} must be month or quarter")
    step = UNIT_MONTHS[unit]
    if horizon_months < step or horizon_months % step:
        raise InputError(f"{_SETTINGS}: the ramp horizon {horizon_months} months must be a "
                         f"positive multiple of a {unit}")
    year_start, _, _ = _window(year, start_month)
    lines = credit_lines(to_plan_currency(deals, fx, currency))
    lines = lines[(lines["credit_date"] < year_start).to_numpy()]
    if lines.empty:
        raise InputError(f"history: no deals before plan year {year} to estimate the ramp from")
    first = pd.Timestamp(lines["credit_date"].min()).to_period("M").to_timestamp()
    reps = selling_reps(roster, start=first, end=year_start - pd.Timedelta(days=1), roles=roles)
    reps = reps[(reps["hire_date"] >= first).to_numpy()
                & (reps["hire_date"] < year_start).to_numpy()].reset_index(drop=True)
    prod = productivity.set_index("role")["productivity_cents"]
    reps = reps[reps["role"].isin(prod.index).to_numpy()].reset_index(drop=True)
    n_steps = horizon_months // step
    last_month = _month_no(pd.DatetimeIndex([year_start]))[0] - 1
    hire_m = _month_no(reps["hire_date"])
    term_m = np.where(reps["term_date"].isna(), np.inf, _month_no(reps["term_date"]))
    end_m = np.minimum(np.minimum(hire_m + horizon_months - 1, last_month), term_m)
    count = np.maximum(end_m - hire_m + 1, 0).astype(np.int64)
    row = np.repeat(np.arange(len(reps)), count)
    tenure = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    month = hire_m[row] + tenure
    starts = pd.to_datetime(pd.DataFrame({"year": (month // 12).astype(np.int64),
                                          "month": (month % 12 + 1).astype(np.int64),
                                          "day": 1}))
    share = _employed_share(reps["hire_date"].to_numpy()[row], reps["term_date"].to_numpy()[row],
                            starts.to_numpy())
    expected = prod.reindex(reps["role"]).to_numpy(np.float64)[row] / 12 * share
    ids = reps["rep_id"].to_numpy()[row]
    got = lines.assign(month=_month_no(lines["credit_date"])).groupby(
        ["rep_id", "month"], sort=False)["amount_cents"].sum()
    key = pd.MultiIndex.from_arrays([pd.Index(ids, dtype="str"), month])
    credit = got.reindex(key, fill_value=0).to_numpy(np.float64)
    obs = pd.DataFrame({"step": tenure // step, "rep_id": ids, "credit": credit,
                        "expected": expected})
    g = obs.groupby("step")
    ev = pd.DataFrame({"step": np.arange(n_steps)})
    ev["reps"] = g["rep_id"].nunique().reindex(ev["step"], fill_value=0).to_numpy(np.int64)
    ev["credit_cents"] = round_cents(g["credit"].sum().reindex(ev["step"], fill_value=0)
                                     .to_numpy())
    ev["expected_cents"] = round_cents(g["expected"].sum().reindex(ev["step"], fill_value=0)
                                       .to_numpy())
    thin = ev[ev["reps"] < min_reps]
    if not thin.empty:
        steps = ", ".join(f"{unit} {s} ({r} reps)" for s, r in
                          zip(thin["step"].tolist(), thin["reps"].tolist(), strict=True))
        raise InputError(f"history: too few reps hired between {first.date()} and "
                         f"{year_start.date()} to estimate the ramp (need {min_reps} per "
                         f"{unit} of tenure; {steps}); give the ramp instead (e.g. "
                         "0,0.25,0.5 by quarter)")
    observed = ev["credit_cents"] / ev["expected_cents"].where(ev["expected_cents"] > 0)
    ev["observed"] = observed.fillna(0.0).to_numpy(np.float64)
    factor = np.maximum.accumulate(np.clip(ev["observed"].to_numpy(), 0.0, 1.0))
    ev["factor"] = np.round(factor, 2)
    factors = tuple(format(Decimal(repr(float(f))).quantize(Decimal("0.01")), "f")
                    for f in ev["factor"].tolist())
    return RampCurve(factors, unit=unit, source="history", evidence=ev)


def attrition_from_history(roster: pd.DataFrame, year: int, *,
                           roles: Sequence[str] | None = None,
                           start_month: int = 1) -> pd.DataFrame:
    """Annual attrition by role from the roster's term dates in the year before the plan.

    ``rate = leavers / rep-years employed`` in the history window (days employed / 365.25),
    capped at 1.  A role with no one employed has rate 0.

    Returns
    -------
    DataFrame, one row per role: ``role``, ``leavers`` int, ``rep_years`` float, ``rate``
    float, ``source`` (``"history"``).
    """
    _, h_start, h_end = _window(year, start_month)
    reps = selling_reps(roster, start=h_start, end=h_end, roles=roles)
    lo = reps["hire_date"].where(reps["hire_date"] > h_start, h_start)
    hi = reps["term_date"].where(reps["term_date"] < h_end, h_end).fillna(h_end)
    lo = lo.fillna(h_start)
    days = ((hi - lo).dt.days + 1).clip(lower=0).to_numpy(np.float64)
    left = (reps["term_date"].notna() & (reps["term_date"] >= h_start)
            & (reps["term_date"] < h_end)).to_numpy()
    frame = pd.DataFrame({"role": reps["role"], "years": days / 365.25, "left": left})
    g = frame.groupby("role", sort=True)
    years = g["years"].sum()
    leavers = g["left"].sum().astype(np.int64)
    rate = np.minimum(np.where(years > 0, leavers / years.where(years > 0, 1.0), 0.0), 1.0)
    return pd.DataFrame({"role": pd.Series(years.index.astype("str"), dtype="str"),
                         "leavers": leavers.to_numpy(np.int64),
                         "rep_years": years.to_numpy(np.float64),
                         "rate": np.asarray(rate, dtype=np.float64), "source": "history"})


# --------------------------------------------------------------------------- the month grid


def _employed_share(hire: np.ndarray, term: np.ndarray, month_starts: np.ndarray
                    ) -> np.ndarray:
    """Share of days employed in each month (broadcasting ``hire``/``term`` against
    ``month_starts``; NaT hire = employed before, NaT term = still employed)."""
    ms = np.asarray(month_starts, dtype="datetime64[D]")
    me = (ms.astype("datetime64[M]") + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    h = np.asarray(hire, dtype="datetime64[D]")
    t = np.asarray(term, dtype="datetime64[D]")
    lo = np.maximum(np.where(np.isnat(h), ms, h), ms)
    hi = np.minimum(np.where(np.isnat(t), me, t), me)
    days = ((hi - lo) // np.timedelta64(1, "D") + 1).clip(0)
    return days / ((me - ms) // np.timedelta64(1, "D") + 1)


@dataclass(frozen=True)
class _Grid:
    """Per rep-row x month: employed share, ramp factor, survival; rows carry heads."""

    roles: np.ndarray        # role code per row
    heads: np.ndarray        # float per row
    share: np.ndarray        # (R, 12)
    ramp: np.ndarray         # (R, 12)
    survival: np.ndarray     # (R, 12)

    def rre(self, *, ramp: bool = True, attrition: bool = True) -> np.ndarray:
        x = self.heads[:, None] * self.share
        if ramp:
            x = x * self.ramp
        if attrition:
            x = x * self.survival
        return x

    def by_role(self, values: np.ndarray, n_roles: int) -> np.ndarray:
        out = np.zeros((n_roles, values.shape[1]))
        np.add.at(out, self.roles, values)
        return out


def _grid(rows: pd.DataFrame, role_codes: np.ndarray, months: pd.DatetimeIndex,
          curve: RampCurve, rates: np.ndarray) -> _Grid:
    """``rows``: ``hire_date``, ``term_date``, ``heads``; ``rates``: annual attrition per row."""
    hire = rows["hire_date"].to_numpy(dtype="datetime64[D]")
    term = rows["term_date"].to_numpy(dtype="datetime64[D]")
    ms = months.to_numpy(dtype="datetime64[D]")
    share = _employed_share(hire[:, None], term[:, None], ms[None, :])
    m_no = _month_no(months)[None, :]
    h_no = _month_no(rows["hire_date"])[:, None]
    tenure = m_no - h_no                                   # NaN when the hire date is unknown
    ramp = curve.at(tenure)
    origin = np.fmax(np.nan_to_num(h_no, nan=-np.inf), m_no[:, :1])
    years = np.clip(m_no - origin + 0.5, 0, None) / 12
    rate = np.where(rows["term_date"].notna().to_numpy(), 0.0, rates)[:, None]
    survival = (1.0 - rate) ** years
    return _Grid(roles=role_codes, heads=rows["heads"].to_numpy(np.float64), share=share,
                 ramp=ramp, survival=survival)


def _cents(role_month: np.ndarray, per_year: np.ndarray) -> np.ndarray:
    """RRE per role x month times annual productivity / 12, rounded once per cell."""
    return round_cents(role_month * (per_year.astype(np.float64)[:, None] / 12.0))


# --------------------------------------------------------------------------- settings


def _amount_map(value: object, roles: Sequence[str], what: str) -> dict[str, int]:
    """Cents by role from an int, a mapping role -> cents or a DataFrame."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            out[str(k)] = _whole_cents(v, f"{what} of {k}")
        return out
    return dict.fromkeys(roles, _whole_cents(value, what))


def _whole_cents(v: object, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise InputError(f"{_SETTINGS}: {what} must be whole cents (an integer), got {v!r}")
    if v < 0:
        raise InputError(f"{_SETTINGS}: {what} must not be negative")
    return int(v)


def _rate(v: object, what: str) -> float:
    try:
        d = to_decimal(v if isinstance(v, float) else str(v).strip())
    except decimal.InvalidOperation:
        raise InputError(f"{_SETTINGS}: {what} {v!r} is not a number") from None
    if not d.is_finite() or not 0 <= d < 1:
        raise InputError(f"{_SETTINGS}: {what} {v} must be at least 0 and below 1 "
                         "(an annual rate such as 0.15)")
    return float(d)


def parse_target(text: object) -> int | list[int]:
    """A target as typed by a person: one amount in currency units for the year
    (``"1,000,000"`` -> whole cents) or four separated by ``;`` for the quarters.

    Raises
    ------
    InputError
        Not one or four amounts, or a negative amount.

    Examples
    --------
    >>> parse_target("1,072,500.00")
    107250000
    >>> parse_target("100;100;100;150.5")
    [10000, 10000, 10000, 15050]
    """
    from spmkit.quota.proposal import parse_amount

    parts = [p for p in str(text).split(";") if p.strip()]
    if len(parts) not in (1, 4):
        raise InputError(f"{_SETTINGS}: target {text!r} must be one amount (the year) or four "
                         "separated by ';' (the quarters)")
    amounts = [parse_amount(p, "target") for p in parts]
    if any(a < 0 for a in amounts):
        raise InputError(f"{_SETTINGS}: target {text!r} must not be negative")
    return amounts[0] if len(amounts) == 1 else amounts


def _targets(target_cents: object, phasing: Sequence[object] | None
             ) -> tuple[np.ndarray, str]:
    if isinstance(target_cents, int | np.integer) and not isinstance(target_cents, bool):
        if target_cents < 0:
            raise InputError(f"{_SETTINGS}: the target must not be negative")
        weights = np.ones(4, dtype=np.int64) if phasing is None else np.asarray(phasing,
                                                                                 dtype=object)
        if len(weights) != 4:
            raise InputError(f"{_SETTINGS}: phasing needs 4 weights (one per quarter), "
                             f"got {len(weights)}")
        try:
            parts = allocate(int(target_cents), weights)
        except (ValueError, decimal.InvalidOperation):
            raise InputError(f"{_SETTINGS}: phasing weights {list(phasing or [])} must be "
                             "non-negative numbers, not all zero") from None
        if (parts < 0).any():
            raise InputError(f"{_SETTINGS}: phasing weights must not be negative")
        return parts.astype(np.int64), "year"
    values = list(target_cents) if isinstance(target_cents, Sequence | np.ndarray) else None
    if values is None or len(values) != 4:
        raise InputError(f"{_SETTINGS}: the target is one amount for the year or four, one per "
                         f"quarter (cents); got {target_cents!r}")
    return np.array([_whole_cents(v, f"the Q{i + 1} target") for i, v in enumerate(values)],
                    dtype=np.int64), "quarter"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class CapacityPlan:
    """The capacity of the team in each quarter of a plan year, and the hiring plan.

    Attributes
    ----------
    settings : dict
        The settings used (JSON-safe).
    quarters : DataFrame
        One row per quarter: ``quarter`` (label), ``period_start``, ``heads`` (expected
        average heads, float), ``rre`` (ramped rep equivalents, float), ``capacity_cents``,
        ``capacity_p10_cents``, ``capacity_p90_cents``, ``target_cents``, ``gap_cents``
        (target - capacity; negative = surplus), ``ramp_loss_cents`` (capacity lost to
        ramping reps), ``attrition_loss_cents`` (lost to expected leavers), ``hires``
        (new reps starting on the quarter's first day), ``recruit_by`` (date the
        requisitions must open), ``hire_capacity_cents`` (what all planned hires add in the
        quarter), ``capacity_with_hires_cents``, ``gap_after_hires_cents``; money int64.
    months : DataFrame
        One row per month: ``month`` (first day), ``quarter``, ``heads``, ``rre``,
        ``capacity_cents``, ``full_capacity_cents`` (everyone ramped), ``ramp_loss_cents``,
        ``attrition_loss_cents``, ``capacity_with_hires_cents``.
    hiring : DataFrame
        One row per cohort with hires: ``start_date``, ``role``, ``hires`` int,
        ``recruit_by``, ``capacity_cents`` (what the cohort adds in the plan year).
    reps : DataFrame
        The selling reps: ``rep_id``, ``role``, ``region``, ``hire_date``, ``term_date``,
        ``tenure_months`` (at the year start), ``ramp_factor`` (at the year start),
        ``attrition_rate``, ``rre`` (average over the year), ``capacity_cents`` (the year,
        for display; the quarter totals are rounded per role, not per rep).
    productivity : DataFrame
        Per role: ``role``, ``productivity_cents``, ``p10_cents``, ``p90_cents``,
        ``ramped_reps`` (history) and ``source``.
    ramp : RampCurve
    attrition : DataFrame
        Per role: ``role``, ``rate`` and ``source`` (history adds ``leavers``,
        ``rep_years``).
    notes : tuple of str
    """

    settings: dict
    quarters: pd.DataFrame = field(repr=False)
    months: pd.DataFrame = field(repr=False)
    hiring: pd.DataFrame = field(repr=False)
    reps: pd.DataFrame = field(repr=False)
    productivity: pd.DataFrame = field(repr=False)
    ramp: RampCurve = field(repr=False)
    attrition: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    def totals(self) -> dict[str, Any]:
        """The year: heads and RRE (averages), money sums (cents) and total hires."""
        q = self.quarters
        out: dict[str, Any] = {"heads": float(q["heads"].mean()), "rre": float(q["rre"].mean())}
        for col in q.columns:
            if col.endswith("_cents"):
                out[col] = int(q[col].sum())
        out["hires"] = int(q["hires"].sum())
        return out

    def metrics(self) -> dict[str, Any]:
        """JSON-safe headline numbers (money in cents)."""
        t = self.totals()
        first = self.hiring["recruit_by"].min() if len(self.hiring) else None
        return {
            "year": self.settings["year"], "basis": self.settings["basis"],
            "reps": int(len(self.reps)), **t,
            "first_recruit_by": None if first is None else str(pd.Timestamp(first).date()),
            "ramp": [str(f) for f in self.ramp.factors], "ramp_unit": self.ramp.unit,
            "ramp_source": self.ramp.source, "months_to_full": self.ramp.months_to_full,
            "notes": list(self.notes),
        }


def _cohort_rows(starts: Sequence[pd.Timestamp], heads: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"hire_date": pd.DatetimeIndex(starts).as_unit("us"),
                         "term_date": pd.Series(pd.NaT, index=range(len(starts)),
                                                dtype="datetime64[us]").to_numpy(),
                         "heads": np.asarray(heads, dtype=np.float64)})


def _solve_hires(contrib: np.ndarray, need: np.ndarray, basis: str, allowed: np.ndarray,
                 max_per_quarter: int | None) -> np.ndarray:
    """Fewest hires per cohort (integers) so that added capacity covers ``need``.

    ``contrib``: cents one hire of each cohort adds in each quarter (4 x 4); ``need``:
    cents to cover per quarter (>= 0).  Lexicographic via weights: uncovered need first,
    then the number of hires, then later starts (cheaper).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    unit = max(float(contrib.max()), 1.0)
    c_mat = contrib / unit
    if basis == "year":
        rows = c_mat.sum(axis=1)[None, :]
        rhs = np.array([need.sum() / unit])
    else:
        rows = c_mat.T
        rhs = need / unit
    k = rows.shape[0]
    n = 4 + k
    big = 1e4
    c = np.concatenate([1 + 1e-3 * (3 - np.arange(4)), np.full(k, big)])
    a = np.hstack([rows, np.eye(k)])
    upper = np.where(allowed, np.inf if max_per_quarter is None else float(max_per_quarter), 0)
    bounds = Bounds(np.zeros(n), np.concatenate([upper, np.full(k, np.inf)]))
    integrality = np.concatenate([np.ones(4), np.zeros(k)])
    res = milp(c, constraints=[LinearConstraint(a, rhs, np.inf)], integrality=integrality,
               bounds=bounds, options={"time_limit": 10.0})
    if res.x is None:  # pragma: no cover - the model is always feasible (slack)
        raise InputError(f"{_SETTINGS}: the hiring plan could not be solved ({res.message})")
    return np.rint(res.x[:4]).astype(np.int64)


def plan_capacity(roster: pd.DataFrame, *, year: int, target_cents: int | Sequence[int],
                  deals: pd.DataFrame | None = None, fx: pd.DataFrame | None = None,
                  currency: str = "USD",
                  productivity: int | Mapping[str, int] | pd.DataFrame | None = None,
                  ramp: RampCurve | Sequence[object] | str | None = None,
                  ramp_unit: str = "quarter",
                  attrition: float | str | Mapping[str, object] | None = None,
                  lead_time_months: int = 3, hire_role: str | None = None,
                  as_of: date | str | pd.Timestamp | None = None,
                  phasing: Sequence[object] | None = None,
                  max_hires_per_quarter: int | None = None,
                  roles: Sequence[str] | None = None, start_month: int = 1,
                  ramped_after_months: int | None = None) -> CapacityPlan:
    """Capacity, gap to target and hiring plan for a plan year.

    Parameters
    ----------
    roster : DataFrame
        As from :func:`spmkit.tables.load_roster`: the selling reps (managers excluded),
        with ``role``, ``hire_date`` (tenure) and ``term_date`` (known leavers, and the
        history of attrition).
    year : int
        The plan year (the calendar year in which it starts).
    target_cents : int or sequence of 4 ints
        The year's target (gap and hires on the year; shown by quarter split by
        ``phasing``, even by default) or one target per quarter (each quarter's gap
        closed on its own).
    deals : DataFrame, optional
        As from :func:`spmkit.tables.load_deals`: the history for productivity and ramp.
    fx, currency :
        Fx plan rates for deals in other currencies, and the plan currency.
    productivity : int, mapping role -> int, DataFrame or None
        Annual productivity of a ramped rep in cents (one for all roles, or by role; a
        DataFrame with ``role``, ``productivity_cents`` and optional ``p10_cents``,
        ``p90_cents``).  None: from the history (:func:`productivity_from_history`).  A
        given productivity takes its P10/P90 spread from the history when there is one,
        and roles not given come from the history.
    ramp : RampCurve, sequence of factors, ``"history"`` or None
        A given ramp (factors per ``ramp_unit`` of tenure); ``"history"`` to estimate it
        (:func:`ramp_from_history`); None: from history when there are deals and enough
        hires in them, else :data:`KELLBLOG_RAMP` (0/25/50/100% by quarter), with a note.
    ramp_unit : {"quarter", "month"}
    attrition : float, mapping role -> rate, or None
        Annual attrition (0 <= rate < 1); None: from the roster's term dates in the year
        before the plan year (:func:`attrition_from_history`).
    lead_time_months : int
        Months from opening a requisition to the hire's first day.
    hire_role : str, optional
        The role hired (default: the role with the most selling reps).
    as_of : date, optional
        Today: cohorts whose requisitions would have to open before it are not planned.
    phasing : sequence of 4 weights, optional
        Split of an annual target into quarters (default even).
    max_hires_per_quarter : int, optional
        Most new reps a cohort can have (recruiting capacity).
    roles : sequence of str, optional
        Only these roles count.
    start_month : int
        First month of the plan year.
    ramped_after_months : int, optional
        Tenure from which a rep counts as ramped when measuring productivity (default:
        the ramp's months to full productivity when the ramp is given, else 12).

    Returns
    -------
    CapacityPlan

    Raises
    ------
    InputError
        Bad settings, no selling reps, a role without productivity, or history needed
        but missing.
    """
    from spmkit.periods import plan_periods
    from spmkit.quota.history import plan_year_start

    if isinstance(lead_time_months, bool) or not isinstance(lead_time_months, int | np.integer) \
            or not 0 <= lead_time_months <= 36:
        raise InputError(f"{_SETTINGS}: lead time {lead_time_months!r} must be 0 to 36 months")
    if max_hires_per_quarter is not None and (
            isinstance(max_hires_per_quarter, bool) or not isinstance(max_hires_per_quarter, int)
            or max_hires_per_quarter < 0):
        raise InputError(f"{_SETTINGS}: max hires per quarter must be a whole number >= 0")
    targets, basis = _targets(target_cents, phasing)
    year_start = plan_year_start(year, start_month)
    periods = plan_periods(year_start.date(), "quarter")
    months = pd.date_range(year_start, periods=12, freq="MS")
    year_end = periods.year_end
    reps = selling_reps(roster, start=year_start, end=year_end, roles=roles)
    if reps.empty:
        raise InputError(f"roster: no selling reps employed in plan year {year}")
    role_names = sorted(reps["role"].unique().tolist())
    notes: list[str] = []

    # -- ramp -----------------------------------------------------------------------------
    given_ramp: RampCurve | None = None
    if ramp is not None and not (isinstance(ramp, str) and ramp == "history"):
        given_ramp = _ramp(ramp, ramp_unit)
    ramped_after = (ramped_after_months if ramped_after_months is not None else
                    (given_ramp.months_to_full if given_ramp is not None else 12))
    ramped_after = max(int(ramped_after), 0)

    # -- productivity ---------------------------------------------------------------------
    hist_prod = None
    if deals is not None:
        try:
            hist_prod = productivity_from_history(
                deals, roster, year, ramped_after_months=ramped_after, fx=fx,
                currency=currency, roles=roles, start_month=start_month)
        except InputError:
            if productivity is None:
                raise
    if productivity is None:
        if hist_prod is None:
            raise InputError(f"{_SETTINGS}: give the productivity of a ramped rep, or the "
                             "deals history to measure it")
        prod = hist_prod
    elif isinstance(productivity, pd.DataFrame):
        if not {"role", "productivity_cents"} <= set(productivity.columns):
            raise InputError("productivity: needs columns 'role' and 'productivity_cents'")
        prod = productivity.copy()
        prod["source"] = "given"
    else:
        given = _amount_map(productivity, role_names, "productivity")
        prod = pd.DataFrame({"role": pd.Series(list(given), dtype="str"),
                             "productivity_cents": np.array(list(given.values()), np.int64),
                             "source": "given"})
    prod = prod.reset_index(drop=True)
    prod["role"] = prod["role"].astype("str")
    if "p10_cents" not in prod or "p90_cents" not in prod:
        if hist_prod is not None:
            h = hist_prod.set_index("role").reindex(prod["role"])
            med = h["productivity_cents"].to_numpy(np.float64)
            ok = np.isfinite(med) & (med > 0)
            base = prod["productivity_cents"].to_numpy(np.float64)
            ratio10 = np.where(ok, h["p10_cents"].to_numpy(np.float64) / np.where(ok, med, 1), 1)
            ratio90 = np.where(ok, h["p90_cents"].to_numpy(np.float64) / np.where(ok, med, 1), 1)
            prod["p10_cents"] = round_cents(base * ratio10)
            prod["p90_cents"] = round_cents(base * ratio90)
            if not ok.all():
                notes.append("no history spread for role(s) "
                              + ", ".join(prod.loc[~ok, "role"]) + ": their range is a point")
        else:
            prod["p10_cents"] = prod["productivity_cents"].to_numpy(np.int64)
            prod["p90_cents"] = prod["productivity_cents"].to_numpy(np.int64)
            notes.append("no history: the capacity range (P10-P90) is a single point; give "
                         "deals to measure the spread of rep productivity")
    if hist_prod is not None and productivity is not None:  # roles not given: from history
        rest = hist_prod[~hist_prod["role"].isin(prod["role"])]
        prod = pd.concat([prod, rest], ignore_index=True)
    missing = sorted(set(role_names) - set(prod["role"]))
    if missing:
        raise InputError([Problem("roster", f"no productivity for role {r!r} (no ramped rep of "
                                  "this role in the history); give it (e.g. --productivity "
                                  f"\"{r}=150000\")", column="role") for r in missing])
    prod = prod[prod["role"].isin(role_names)].sort_values("role").reset_index(drop=True)
    for col in ("productivity_cents", "p10_cents", "p90_cents"):
        prod[col] = prod[col].to_numpy(np.int64)

    # -- ramp (after productivity: the history ramp compares with it) -----------------------
    if given_ramp is not None:
        curve = given_ramp
    elif deals is not None:
        try:
            curve = ramp_from_history(deals, roster, year, prod, unit=ramp_unit, fx=fx,
                                      currency=currency, roles=roles, start_month=start_month,
                                      horizon_months=12)
        except InputError as exc:
            if ramp == "history":
                raise
            curve = KELLBLOG_RAMP
            notes.append(f"ramp: the default {curve.describe()} (kellblog), because {exc}")
    elif ramp == "history":
        raise InputError(f"{_SETTINGS}: a ramp from history needs the deals history")
    else:
        curve = KELLBLOG_RAMP
        notes.append(f"ramp: the default {curve.describe()} (kellblog); give the ramp or the "
                     "deals history to estimate it")
    lo, hi = RAMP_NORM_MONTHS
    full = curve.months_to_full
    verdict = ("within" if lo <= full <= hi else "shorter than" if full < lo else "longer than")
    notes.append(f"ramp: {full} months to full productivity, {verdict} the {lo}-{hi} month "
                 "norm for new hires (QuotaPath)")

    # -- attrition ------------------------------------------------------------------------
    if attrition is None:
        attr = attrition_from_history(roster, year, roles=roles, start_month=start_month)
        attr = attr.set_index("role").reindex(role_names)
        attr["leavers"] = attr["leavers"].fillna(0).astype(np.int64)
        attr["rep_years"] = attr["rep_years"].fillna(0.0)
        attr["rate"] = attr["rate"].fillna(0.0)
        attr["source"] = "history"
        attr = attr.rename_axis("role").reset_index()
        if not (attr["leavers"] > 0).any():
            notes.append("attrition: no leavers in the roster's term dates in the year before "
                         "the plan year, so none is assumed; give a rate to plan for it")
    elif isinstance(attrition, Mapping):
        rates = {str(k): _rate(v, f"attrition of {k}") for k, v in attrition.items()}
        attr = pd.DataFrame({"role": pd.Series(role_names, dtype="str"),
                             "rate": [rates.get(r, 0.0) for r in role_names],
                             "source": ["given" if r in rates else "none" for r in role_names]})
    else:
        rate = _rate(attrition, "attrition")
        attr = pd.DataFrame({"role": pd.Series(role_names, dtype="str"),
                             "rate": rate, "source": "given"})
    attr["role"] = attr["role"].astype("str")

    # -- the month grid of the team -------------------------------------------------------
    role_index = pd.Index(role_names, dtype="str")
    codes = role_index.get_indexer(reps["role"])
    rate_by_role = attr.set_index("role")["rate"].reindex(role_index).to_numpy(np.float64)
    rows = reps[["hire_date", "term_date"]].assign(heads=1.0)
    grid = _grid(rows, codes, months, curve, rate_by_role[codes])
    per_year = prod.set_index("role").reindex(role_index)
    p50 = per_year["productivity_cents"].to_numpy(np.int64)
    p10 = per_year["p10_cents"].to_numpy(np.int64)
    p90 = per_year["p90_cents"].to_numpy(np.int64)
    n_roles = len(role_names)
    rre = grid.rre()
    rre_role = grid.by_role(rre, n_roles)
    cap = _cents(rre_role, p50).sum(axis=0)
    cap10 = _cents(rre_role, p10).sum(axis=0)
    cap90 = _cents(rre_role, p90).sum(axis=0)
    full_cap = _cents(grid.by_role(grid.rre(ramp=False), n_roles), p50).sum(axis=0)
    no_attr = _cents(grid.by_role(grid.rre(attrition=False), n_roles), p50).sum(axis=0)
    heads = (grid.heads[:, None] * grid.share * grid.survival).sum(axis=0)
    quarter_of = np.arange(12) // 3

    def by_quarter(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, [0, 3, 6, 9])

    cap_q = by_quarter(cap)
    gap_q = targets - cap_q

    # -- hiring ---------------------------------------------------------------------------
    if hire_role is None:
        counts = reps["role"].value_counts()
        hire_role = str(sorted(counts.index[counts == counts.max()].tolist())[0])
    if hire_role not in role_index:
        raise InputError(f"{_SETTINGS}: hire role {hire_role!r} is not a role of the selling "
                         f"reps ({', '.join(role_names)})")
    h_code = int(role_index.get_loc(hire_role))
    starts = list(periods.starts)
    recruit_by = [s - pd.DateOffset(months=int(lead_time_months)) for s in starts]
    allowed = np.ones(4, dtype=bool)
    if as_of is not None:
        today = pd.Timestamp(as_of)
        allowed = np.array([r >= today for r in recruit_by])
        if not allowed.any():
            notes.append(f"hiring: with a {lead_time_months}-month lead time from {today.date()}"
                         " no new hire can start within the plan year")
    cohorts = _grid(_cohort_rows(starts, np.ones(4)), np.full(4, h_code), months, curve,
                    np.full(4, rate_by_role[h_code]))
    one_hire = _cents(cohorts.rre(), np.full(4, p50[h_code])).astype(np.float64)
    contrib = np.stack([by_quarter(row) for row in one_hire])          # cohort x quarter
    if basis == "year":
        need = np.full(4, max(int(gap_q.sum()), 0) / 4.0)
    else:
        need = np.maximum(gap_q, 0).astype(np.float64)
    hires = (np.zeros(4, dtype=np.int64) if need.sum() <= 0 or p50[h_code] <= 0
             else _solve_hires(contrib, need, basis, allowed, max_hires_per_quarter))
    if hires.any():
        with_rows = pd.concat([rows, _cohort_rows(starts, hires)], ignore_index=True)
        g2 = _grid(with_rows, np.concatenate([codes, np.full(4, h_code)]), months, curve,
                   np.concatenate([rate_by_role[codes], np.full(4, rate_by_role[h_code])]))
        cap_with = _cents(g2.by_role(g2.rre(), n_roles), p50).sum(axis=0)
        per_cohort = _cents(cohorts.rre() * hires[:, None], np.full(4, p50[h_code])).sum(axis=1)
    else:
        cap_with = cap.copy()
        per_cohort = np.zeros(4, dtype=np.int64)
    cap_with_q = by_quarter(cap_with)
    if basis == "year":
        short = int(targets.sum() - cap_with_q.sum())
    else:
        short = int(np.maximum(targets - cap_with_q, 0).sum())
    if short > 0 and need.sum() > 0:
        notes.append("hiring: the planned hires do not close the whole gap (ramp, lead time "
                     "or the recruiting limit); the rest is in gap_after_hires")

    # -- frames ---------------------------------------------------------------------------
    month_frame = pd.DataFrame({
        "month": months.as_unit("us"),
        "quarter": np.array(periods.labels, dtype=object)[quarter_of].astype(str),
        "heads": heads, "rre": rre.sum(axis=0),
        "capacity_cents": cap.astype(np.int64),
        "full_capacity_cents": full_cap.astype(np.int64),
        "ramp_loss_cents": (full_cap - cap).astype(np.int64),
        "attrition_loss_cents": (no_attr - cap).astype(np.int64),
        "capacity_with_hires_cents": cap_with.astype(np.int64),
    })
    month_frame["quarter"] = month_frame["quarter"].astype("str")
    q = pd.DataFrame({
        "quarter": pd.Series(periods.labels, dtype="str"),
        "period_start": pd.DatetimeIndex(starts).as_unit("us"),
        "heads": by_quarter(heads) / 3, "rre": by_quarter(rre.sum(axis=0)) / 3,
        "capacity_cents": cap_q.astype(np.int64),
        "capacity_p10_cents": by_quarter(cap10).astype(np.int64),
        "capacity_p90_cents": by_quarter(cap90).astype(np.int64),
        "target_cents": targets.astype(np.int64),
        "gap_cents": gap_q.astype(np.int64),
        "ramp_loss_cents": by_quarter(full_cap - cap).astype(np.int64),
        "attrition_loss_cents": by_quarter(no_attr - cap).astype(np.int64),
        "hires": hires,
        "recruit_by": pd.DatetimeIndex(recruit_by).as_unit("us"),
        "hire_capacity_cents": (cap_with_q - cap_q).astype(np.int64),
        "capacity_with_hires_cents": cap_with_q.astype(np.int64),
        "gap_after_hires_cents": (targets - cap_with_q).astype(np.int64),
    })
    planned = hires > 0
    hiring = pd.DataFrame({
        "start_date": pd.DatetimeIndex(starts).as_unit("us")[planned],
        "role": pd.Series([hire_role] * int(planned.sum()), dtype="str"),
        "hires": hires[planned],
        "recruit_by": pd.DatetimeIndex(recruit_by).as_unit("us")[planned],
        "capacity_cents": per_cohort[planned].astype(np.int64),
    })
    start_no = _month_no(pd.DatetimeIndex([year_start]))[0]
    tenure0 = start_no - _month_no(reps["hire_date"])
    rep_rre = rre.mean(axis=1)
    rep_frame = reps.assign(
        tenure_months=tenure0, ramp_factor=curve.at(tenure0),
        attrition_rate=np.where(reps["term_date"].notna().to_numpy(), 0.0, rate_by_role[codes]),
        rre=rep_rre, capacity_cents=round_cents(rre.sum(axis=1) * p50[codes] / 12.0))
    no_hire = int(reps["hire_date"].isna().sum())
    if no_hire:
        notes.append(f"{no_hire} rep(s) without a hire date are taken as ramped")
    settings = {
        "year": int(year), "start_month": int(start_month), "basis": basis,
        "target_cents": [int(t) for t in targets], "currency": currency,
        "lead_time_months": int(lead_time_months), "hire_role": hire_role,
        "as_of": None if as_of is None else str(pd.Timestamp(as_of).date()),
        "ramp": [str(f) for f in curve.factors], "ramp_unit": curve.unit,
        "ramp_source": curve.source, "ramped_after_months": ramped_after,
        "max_hires_per_quarter": max_hires_per_quarter,
        "roles": None if roles is None else list(roles),
        "productivity_source": sorted(set(prod["source"].astype(str))),
        "attrition_source": sorted(set(attr["source"].astype(str))),
    }
    return CapacityPlan(settings=settings, quarters=q, months=month_frame, hiring=hiring,
                        reps=rep_frame, productivity=prod, ramp=curve, attrition=attr,
                        notes=tuple(notes))


def plan_capacity_from_files(roster: str | Path | pd.DataFrame, *,
                             history: str | Path | pd.DataFrame | None = None,
                             fx: str | Path | pd.DataFrame | None = None,
                             **settings: Any) -> CapacityPlan:
    """Load the roster (and deals history, fx) with :mod:`spmkit.tables` and run
    :func:`plan_capacity` with ``settings``."""
    from spmkit.tables import load_deals, load_fx, load_roster

    r = load_roster(roster)
    d = load_deals(history) if history is not None else None
    f = load_fx(fx) if fx is not None else None
    return plan_capacity(r, deals=d, fx=f, **settings)


# --------------------------------------------------------------------------- figure


def plot_capacity(plan: CapacityPlan, ax: Any = None) -> Any:
    """Capacity by quarter (bars, with the P10-P90 range), capacity with the planned hires
    and the target (lines).  Reads ``plan.quarters`` only; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    q = plan.quarters
    x = np.arange(len(q))
    cap = q["capacity_cents"].to_numpy(np.float64) / 100
    err = np.vstack([cap - q["capacity_p10_cents"].to_numpy(np.float64) / 100,
                     q["capacity_p90_cents"].to_numpy(np.float64) / 100 - cap])
    ax.bar(x, cap, color="C0", alpha=0.8, label="capacity (P10-P90)")
    ax.errorbar(x, cap, yerr=err, fmt="none", ecolor="0.2", capsize=4)
    ax.plot(x, q["capacity_with_hires_cents"].to_numpy(np.float64) / 100, "o--", color="C2",
            label="with planned hires")
    ax.plot(x, q["target_cents"].to_numpy(np.float64) / 100, "s-", color="C3", label="target")
    ax.set_xticks(x, q["quarter"].tolist())
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.set_ylabel("sales per quarter")
    ax.legend(loc="lower right")
    return ax
