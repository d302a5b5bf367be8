"""Warnings, not silent results: what in a valid run is probably a mistake.

A run can be valid and still answer the wrong question: a filter value that no deal has
pays 0.00, a roster ``plan`` column that never names the plan leaves no payees, a history
of ten months makes every quota a sixth too low.  The functions here look for these and
return :class:`SpmkitWarning` objects; they never print.  The command line prints each as
one line (``spmkit validate: warning: ...``) on stderr, and ``--strict`` turns them into
an error (:func:`emit`).

:func:`run_warnings` checks a plan against its tables (and the engine's result, when
given); :func:`coverage_warnings` checks how much of a year the deals cover.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError

__all__ = ["DealFacts", "SpmkitWarning", "coverage_warnings", "deal_coverage", "emit",
           "run_warnings"]


@dataclass(frozen=True)
class SpmkitWarning(UserWarning):
    """One warning: where it comes from (a file or table), a key when there is one, and
    what is probably wrong."""

    source: str
    message: str
    key: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}, {self.key}" if self.key else self.source
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class DealFacts:
    """What the warnings need to know of the deals, without the deals: their number, the
    reps who own them, the values of the columns plans filter on, and how many close on
    each day.  Facts of slices of the deals add up (:meth:`merge`), so a run that reads the
    deals a slice at a time warns exactly as one that holds them all."""

    rows: int
    reps: frozenset
    values: dict  # column -> frozenset of its values (the columns plans filter on)
    dates: pd.Series  # deals per close date (datetime64 index), sorted

    @classmethod
    def of(cls, deals: pd.DataFrame, columns: Sequence[str] = ()) -> DealFacts:
        dates = pd.to_datetime(deals["close_date"]).value_counts(sort=False).sort_index()
        return cls(rows=len(deals), reps=frozenset(_values_in(deals, "rep_id")),
                   values={c: frozenset(_values_in(deals, c)) for c in columns},
                   dates=dates.astype(np.int64))

    def merge(self, other: DealFacts) -> DealFacts:
        dates = pd.concat([self.dates, other.dates]).groupby(level=0).sum().sort_index()
        return DealFacts(rows=self.rows + other.rows, reps=self.reps | other.reps,
                         values={c: self.values.get(c, frozenset()) | v
                                 for c, v in other.values.items()},
                         dates=dates.astype(np.int64))


def filter_columns(plans: Sequence[Any]) -> tuple[str, ...]:
    """The deal columns the plans' filters and ``when`` rates name (for :class:`DealFacts`)."""
    cols: set[str] = set()
    for plan in plans:
        for comp in plan.components:
            cols.update((getattr(comp, "filter", None) or {}).keys())
            for row in getattr(comp, "rates", None) or ():
                cols.update(row.when.keys())
    cols.discard("role")
    return tuple(sorted(cols))


def _shown(values: Sequence[Any], limit: int = 8) -> str:
    items = [repr(v) for v in list(values)[:limit]]
    more = len(values) - limit
    return ", ".join(items) + (f" and {more} more" if more > 0 else "") if items else "none"


def _values_in(frame: pd.DataFrame | None, column: str) -> set[str]:
    if frame is None or column not in frame.columns:
        return set()
    return set(frame[column].dropna().astype("str").unique().tolist())


def _filter_warnings(plan: Any, inputs: Any, source: str, facts: DealFacts
                     ) -> list[SpmkitWarning]:
    """Component ``filter`` and ``rates:`` ``when`` values that match no deal (or role)."""
    out = []
    found: dict[str, set[str]] = {}

    def values(column: str) -> set[str]:
        if column not in found:
            found[column] = (_values_in(inputs.roster, column) if column == "role"
                             else set(facts.values.get(column, ())))
        return found[column]

    def check(key: str, column: str, wanted: Sequence[str], what: str) -> None:
        have = values(column)
        missing = [v for v in wanted if str(v) not in have]
        if missing:
            table = "roster" if column == "role" else "deal"
            out.append(SpmkitWarning(source, f"{what} {column}: {_shown(missing)} matches no "
                                     f"{table} ({column} values found: "
                                     f"{_shown(sorted(have))})", key))

    for i, comp in enumerate(plan.components):
        for column, wanted in (getattr(comp, "filter", None) or {}).items():
            check(f"components[{i}].filter.{column}", column, wanted,
                  f"component {comp.id!r}: filter")
        for j, row in enumerate(getattr(comp, "rates", None) or ()):
            for column, wanted in row.when.items():
                check(f"components[{i}].rates[{j}].when.{column}", column, wanted,
                      f"component {comp.id!r}: rates[{j}] when")
    return out


def _spif_warnings(plan: Any, source: str) -> list[SpmkitWarning]:
    out = []
    start, end = plan.year_start, plan.year_end
    for i, comp in enumerate(plan.components):
        window = getattr(comp, "window", None)
        if not (isinstance(window, tuple) and len(window) == 2
                and all(isinstance(d, date) for d in window)):
            continue
        first, last = window
        if last < start or first > end:
            how = "lies outside"
        elif first < start or last > end:
            how = "reaches outside"
        else:
            continue
        out.append(SpmkitWarning(source, f"component {comp.id!r}: window {first} .. {last} "
                                 f"{how} the plan year {start} .. {end}; deals outside the "
                                 "plan year are not paid", f"components[{i}].window"))
    return out


def deal_coverage(deals: pd.DataFrame | DealFacts, start: date | pd.Timestamp,
                  end: date | pd.Timestamp) -> dict:
    """How much of the window ``start .. end`` the deals' close dates cover.

    Returns
    -------
    dict with ``first`` and ``last`` (the first and last close date inside the window, or
    None), ``months`` (calendar months from the first month with a deal to the last, both
    counted) and ``window_months`` (months in the window).
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    d = (pd.Series(deals.dates.index) if isinstance(deals, DealFacts)
         else pd.to_datetime(deals["close_date"]))
    inside = d[((d >= start) & (d <= end)).to_numpy()]
    window = (end.year - start.year) * 12 + end.month - start.month + 1
    if inside.empty:
        return {"first": None, "last": None, "months": 0, "window_months": int(window)}
    first, last = inside.min(), inside.max()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return {"first": first, "last": last, "months": int(months), "window_months": int(window)}


def coverage_warnings(deals: pd.DataFrame | DealFacts, start: date | pd.Timestamp,
                      end: date | pd.Timestamp, *, source: str = "deals",
                      what: str = "plan year", periods: Any = None) -> list[SpmkitWarning]:
    """How much of the year ``start .. end`` the deals' close dates cover.

    Warns when the deals cover fewer than its months (from the first month with a deal to
    the last), and when the first or last period with deals (``periods``, a
    :class:`spmkit.periods.Periods`) is only partly covered: a month of it before the
    first month with a deal, or after the last, has none.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    cov = deal_coverage(deals, start, end)
    out: list[SpmkitWarning] = []
    if cov["months"] == 0:
        return out
    first, last = cov["first"], cov["last"]
    if cov["months"] < cov["window_months"]:
        out.append(SpmkitWarning(source, f"the deals cover {cov['months']} of the "
                                 f"{cov['window_months']} months of the {what} "
                                 f"{start.date()} .. {end.date()} ({first.date()} .. "
                                 f"{last.date()})"))
    if periods is None:
        return out
    starts = pd.DatetimeIndex(pd.to_datetime(list(periods.starts)))
    ends = pd.DatetimeIndex(pd.to_datetime(list(periods.ends)))
    labels = list(periods.labels)
    first_month = first.to_period("M").start_time
    last_month_end = last.to_period("M").end_time.normalize()
    i = int(np.searchsorted(ends.to_numpy(), first.to_datetime64()))
    j = int(np.searchsorted(ends.to_numpy(), last.to_datetime64()))
    if i < len(starts) and first_month > max(starts[i], start):
        out.append(SpmkitWarning(source, f"the first period of the {what} with deals, "
                                 f"{labels[i]}, is only partly covered: the deals start on "
                                 f"{first.date()}"))
    if j < len(ends) and last_month_end < min(ends[j], end):
        out.append(SpmkitWarning(source, f"the last period of the {what} with deals, "
                                 f"{labels[j]}, is only partly covered: the deals end on "
                                 f"{last.date()}"))
    return out


def run_warnings(plan: Any, inputs: Any, result: Any = None, *,
                 plan_source: str = "plan", facts: DealFacts | None = None
                 ) -> list[SpmkitWarning]:
    """Everything valid but probably wrong about running ``plan`` on ``inputs``.

    Parameters
    ----------
    plan : spmkit.plan.Plan
    inputs : spmkit.tables.Inputs
    result : spmkit.payout.Result, optional
        The engine's result, for "pays no one".
    plan_source : str
        The plan's file name, for messages.
    facts : DealFacts, optional
        What is known of the deals when ``inputs`` does not hold them (a run that reads
        them a slice at a time); default: taken from ``inputs.deals``.

    Returns
    -------
    list of SpmkitWarning, in this order: the plan's own warnings
    (:meth:`spmkit.plan.Plan.warnings`), filter and ``when`` values matching nothing, SPIF
    windows outside the plan year, a roster ``plan`` column that never names the plan,
    a plan that pays no one, roster reps with no deals and no quota, deals outside the
    plan year, and the plan year's coverage by the deals.
    """
    out = [SpmkitWarning(plan_source, w) for w in plan.warnings()]
    if facts is None:
        facts = DealFacts.of(inputs.deals, filter_columns([plan]))
    out += _filter_warnings(plan, inputs, plan_source, facts)
    out += _spif_warnings(plan, plan_source)
    roster = inputs.roster
    sources = getattr(inputs, "sources", {}) or {}
    roster_name = sources.get("roster", "roster")
    deals_name = sources.get("deals", "deals")
    if roster is not None and "plan" in roster.columns:
        named = roster["plan"].dropna().astype("str")
        if len(named) and not (named == plan.plan).any():
            out.append(SpmkitWarning(roster_name, f"the plan column never names plan "
                                     f"{plan.plan!r} (it names {_shown(sorted(set(named)))}); "
                                     "no rep is on this plan", "plan"))
    if result is not None:
        payees = int(result.summary.get("payees", 0))
        total = int(result.summary.get("total_payout_cents", 0))
        if payees == 0:
            out.append(SpmkitWarning(plan_source, f"plan {plan.plan!r} has no payees: it pays "
                                     "no one"))
        elif total == 0:
            out.append(SpmkitWarning(plan_source, f"plan {plan.plan!r} pays no one: the total "
                                     f"payout of its {payees} payees is 0.00"))
    if roster is not None and len(roster):
        sold = sorted(facts.reps)  # a few thousand reps, not every deal
        quoted = (inputs.quotas.loc[inputs.quotas["quota_cents"].fillna(0) > 0, "rep_id"]
                  .unique().astype("str") if inputs.quotas is not None else [])
        ids = roster["rep_id"].astype("str")
        managers = roster["manager_id"].dropna().unique().astype("str")
        # people who manage someone are not expected to sell or carry a quota of their own
        idle = ids[~ids.isin(sold) & ~ids.isin(quoted) & ~ids.isin(managers)]
        if len(idle):
            out.append(SpmkitWarning(roster_name, f"{len(idle)} rep(s) have no deals and no "
                                     f"quota: {_shown(idle.tolist())}"))
    d, count = facts.dates.index, facts.dates.to_numpy()
    start, end = pd.Timestamp(plan.year_start), pd.Timestamp(plan.year_end)
    outside = int(count[(d < start) | (d > end)].sum())
    if outside:
        before = int(count[d < start].sum())
        out.append(SpmkitWarning(deals_name, f"{outside:,} of {facts.rows:,} deals close outside "
                                 f"the plan year {start.date()} .. {end.date()} ({before:,} "
                                 f"before, {outside - before:,} after); they are not paid"))
    from spmkit.periods import plan_periods

    out += coverage_warnings(facts, start, end, source=deals_name,
                             periods=plan_periods(plan.year_start, plan.period))
    return out


def emit(warnings: Sequence[SpmkitWarning | str], command: str, *, strict: bool = False
         ) -> None:
    """Print each warning as one line on stderr; with ``strict``, then raise.

    Raises
    ------
    InputError
        ``strict`` and at least one warning.
    """
    warnings = list(dict.fromkeys(" ".join(str(w).split()) for w in warnings))  # once each
    for text in warnings:  # one line each
        print(f"spmkit {command}: warning: {text}", file=sys.stderr)
    if strict and warnings:
        raise InputError(f"{len(warnings)} warning(s) and --strict: treating them as errors")
