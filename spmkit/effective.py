"""The days a plan pays each rep: effective-dated roster rows and the plan key ``effective``.

A roster may give a rep several rows that do not overlap (``effective_from`` and
``effective_to``, inclusive, blank is open), each with its own ``plan, role, region,
manager_id, target_incentive, draw``; a plan may say ``effective: [FROM, TO]``.  Then each
plan pays each rep for the days on which the rep's row names the plan (every row, when the
roster has no ``plan`` column) and the plan is in force, as if those days were a plan year
of their own (``docs/semantics.md``, "Changing mid-year"):

- only credit lines dated in those days count (:func:`in_spans`);
- each period's quota is prorated by the days of the period in them, and days employed,
  which prorate the target incentive (rules 4 and 6), are counted in them
  (:func:`day_grids`);
- year-to-date windows start on the first of them: the periods before hold no credit and
  no quota.

Nothing here runs when the roster has no effective dates and the plan no ``effective``
key: the engine then computes exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spmkit.periods import Periods
from spmkit.plan import Plan
from spmkit.tables import EFFECTIVE, Inputs

_DAY = "datetime64[us]"
#: Roster columns a credit line takes from the row in force on its date.
LINE_ATTRIBUTES = ("role", "region")


@dataclass(frozen=True)
class PlanDays:
    """The spans of days a plan pays, per rep.

    ``spans``: ``rep_id, start, end`` (inclusive, datetime64) and the columns of the roster
    row each span comes from; one rep's spans never overlap.  ``roster``: one row per rep
    paid by the plan (the latest of its rows naming the plan; ``hire_date`` the earliest),
    or ``None`` when there is no roster (then every payee is paid on the plan's days).
    """

    first: pd.Timestamp
    last: pd.Timestamp
    spans: pd.DataFrame | None
    roster: pd.DataFrame | None

    def for_payees(self, payees: pd.Index) -> pd.DataFrame:
        """The spans of these payees (without a roster: the plan's days for each)."""
        if self.spans is not None:
            return self.spans[self.spans["rep_id"].isin(payees)]
        return pd.DataFrame({"rep_id": pd.Series(payees.to_numpy(), dtype="str"),
                             "start": np.full(len(payees), self.first.as_unit("us")),
                             "end": np.full(len(payees), self.last.as_unit("us"))}).astype(
                                 {"start": _DAY, "end": _DAY})


def plan_days(plan: Plan, inputs: Inputs) -> PlanDays | None:
    """The days ``plan`` pays each rep, or ``None`` when it pays the whole plan year to
    every payee (no effective-dated roster rows and no ``effective`` key)."""
    rows = inputs.roster_rows
    if rows is None and plan.effective is None:
        return None
    first, last = (pd.Timestamp(d).as_unit("us") for d in plan.days())
    if rows is None:
        rows = inputs.roster
    if rows is None:
        return PlanDays(first, last, None, None)
    if "plan" in rows.columns:
        rows = rows.loc[(rows["plan"].astype("str") == plan.plan).fillna(False).to_numpy(bool)]
    lo = _column(rows, "effective_from").fillna(first).clip(lower=first)
    hi = _column(rows, "effective_to").fillna(last).clip(upper=last)
    keep = (lo <= hi).to_numpy(bool)
    spans = rows.loc[keep].assign(start=lo[keep].astype(_DAY), end=hi[keep].astype(_DAY))
    spans = spans.sort_values(["rep_id", "start"], kind="stable").reset_index(drop=True)
    latest = spans.drop_duplicates("rep_id", keep="last")
    earliest_hire = spans.groupby("rep_id", sort=False)["hire_date"].min()
    roster = latest.assign(hire_date=latest["rep_id"].map(earliest_hire).astype(_DAY)).drop(
        columns=["start", "end", *[c for c in EFFECTIVE if c in latest.columns]])
    return PlanDays(first, last, spans, roster.reset_index(drop=True))


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name].astype(_DAY)
    return pd.Series(pd.NaT, index=rows.index, dtype=_DAY)


def in_spans(lines: pd.DataFrame, spans: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Which credit lines fall in a span of their rep (bool per line), and for each line the
    roster columns :data:`LINE_ATTRIBUTES` of the row in force on its date (aligned with
    ``lines``; missing for lines outside every span)."""
    cols = [c for c in LINE_ATTRIBUTES if c in spans.columns]
    left = pd.DataFrame({"rep_id": lines["rep_id"].astype("str").to_numpy(),
                         "credit_date": lines["credit_date"].to_numpy(_DAY),
                         "_pos": np.arange(len(lines))}).sort_values("credit_date",
                                                                      kind="stable")
    right = spans[["rep_id", "start", "end", *cols]].assign(
        rep_id=spans["rep_id"].astype("str")).sort_values("start", kind="stable")
    found = pd.merge_asof(left, right, left_on="credit_date", right_on="start", by="rep_id",
                          direction="backward").sort_values("_pos", kind="stable")
    inside = (found["end"] >= found["credit_date"]).fillna(False).to_numpy(bool)
    attrs = found[cols].reset_index(drop=True)
    attrs = attrs.where(pd.Series(inside), None).set_axis(lines.index)
    return inside, attrs


def day_grids(spans: pd.DataFrame, payees: pd.Index, periods: Periods
              ) -> tuple[np.ndarray, np.ndarray]:
    """Days in force and days employed per payee and period (R, K) int64: each span's days
    in each period, and the same within the span row's ``hire_date``..``term_date``."""
    r, k = len(payees), periods.count
    starts = pd.DatetimeIndex(periods.starts).to_numpy(_DAY)[None, :]
    ends = pd.DatetimeIndex(periods.ends).to_numpy(_DAY)[None, :]
    lo = spans["start"].to_numpy(_DAY)[:, None]
    hi = spans["end"].to_numpy(_DAY)[:, None]
    rows = payees.get_indexer(spans["rep_id"].astype("str"))

    def days(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        first, last = np.maximum(a, starts), np.minimum(b, ends)
        per = (last - first).astype("timedelta64[D]").astype(np.int64) + 1
        out = np.zeros((r, k), dtype=np.int64)
        np.add.at(out, rows, np.clip(per, 0, None))
        return out

    active = days(lo, hi)
    if "hire_date" in spans.columns:
        hire = spans["hire_date"].to_numpy(_DAY)[:, None]
        term = spans["term_date"].to_numpy(_DAY)[:, None]
        lo = np.where(np.isnat(hire) | (hire < lo), lo, hire)
        hi = np.where(np.isnat(term) | (term > hi), hi, term)
    return active, days(lo, hi)
