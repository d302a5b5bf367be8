"""Credit lines + quotas + roster + plan -> payouts, each with an explanation.

The flow: :func:`measure` credits the deals and executes every component's measure
descriptions (``Component.measures()``) into dense rep x period grids (integer cents,
vectorized over deals); each component's own ``earn`` turns the grid into earnings to date
and payouts (vectorized over reps; the only loops run over periods and bands), and its
``explain`` says why; :func:`calculate` assembles the payout rows.  Nothing here knows a
component type by name: see :mod:`spmkit.components`.

The earners work on any numeric array: exact 34-digit :class:`~decimal.Decimal` object
arrays for payroll figures (:func:`calculate`), or float64 arrays with extra leading axes
for thousands of what-ifs at once (:class:`Prepared`, used by sensitivity and Monte Carlo).
"""

from __future__ import annotations

import decimal
import errno
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.components import Component, MeasureSpec
from spmkit.crediting import credit_lines
from spmkit.effective import day_grids, in_spans, plan_days
from spmkit.errors import InputError, Problem, SpmkitError
from spmkit.grid import EXACT, FAST, Earned, Grid, Num, cap_cents, money_grid
from spmkit.money import (
    CONTEXT,
    CentsOverflowError,
    checked_cumsum,
    checked_group_sum,
    format_cents,
    format_money,
    money_text,
    overflow_problem,
    prorate_cents,
    round_cents,
    sum_cents,
)
from spmkit.outputs import atomic_dir
from spmkit.periods import Periods, plan_periods
from spmkit.plan import Plan
from spmkit.progress import step as progress_step
from spmkit.tables import Inputs, measure_column

__all__ = ["EXACT", "FAST", "Earned", "Grid", "Prepared", "Result", "apply_draws", "calculate",
           "calculate_plans", "earn", "measure", "output_frames", "prepare", "write_outputs"]

# ----------------------------------------------------------------------------- holdbacks


@dataclass(frozen=True)
class Held:
    """One component's holdback on the grid: ``held`` (cents kept back from each period's
    payout), ``released`` (cents paid out per period), ``still_held`` (per payee, released
    after the plan year), and the (R, K) sentences for both rows."""

    held: np.ndarray
    released: np.ndarray
    still_held: np.ndarray
    note: np.ndarray
    released_note: np.ndarray


def holdbacks(grid: Grid, earned: dict[str, Earned]) -> dict[str, Held]:
    """Of each positive period payout, the component's ``holdback.share`` is held (rounded
    once, half away from zero) and released in the period holding the date ``months`` after
    the end of the period it was held in, or in the last period (``release: year_end``).
    A negative payout is not held."""
    out = {}
    periods = grid.periods
    r, k = grid.shape
    for comp in grid.plan.components:  # components, not reps
        hb = comp.holdback
        if hb is None:
            continue
        payout = earned[comp.id].payout
        with decimal.localcontext(CONTEXT):
            held = round_cents(EXACT.arr(np.maximum(payout, 0)) * hb.share)
        if hb.release == "year_end":
            when = np.full(k, k - 1)
            dates = [periods.ends[-1]] * k
        else:
            dates = [(pd.Timestamp(end) + pd.DateOffset(months=hb.months)).date()
                     for end in periods.ends]
            when = periods.index_of(pd.Series(pd.to_datetime(dates)))
        released = np.zeros_like(held)
        note = np.full((r, k), "", dtype=object)
        released_note = np.full((r, k), "", dtype=object)
        share = f"{float(hb.share) * 100:g}%"
        for j in range(k):  # periods, not reps
            until = f"{dates[j]:%Y-%m}" + ("" if when[j] >= 0 else " (after the plan year)")
            note[:, j] = (f"{share} held back until {until} ("
                          + money_grid(held[:, j], (r,)) + ")")
            if when[j] >= 0:
                released[:, when[j]] += held[:, j]
                text = (f"released {comp.id} held in {periods.labels[j]}: "
                        + money_grid(held[:, j], (r,)))
                col = released_note[:, when[j]]
                released_note[:, when[j]] = np.where(
                    held[:, j] == 0, col, np.where(col == "", text, col + "; " + text))
        still = held[:, when < 0].sum(axis=1)
        out[comp.id] = Held(held, released, still, note, released_note)
    return out


# ----------------------------------------------------------------------------- draws


def apply_draws(grid: Grid, earnings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rule 9: the draw adjustment per period (cents) and the recoverable balance after it.

    ``earnings`` is the sum of a payee's rounded component payouts per period, shape (..., R, K).
    """
    draw = grid.draw
    employed = grid.days_employed > 0
    balance = np.zeros(earnings.shape[:-1], dtype=np.int64)
    adjust = np.zeros_like(earnings)
    balances = np.zeros_like(earnings)
    for k in range(earnings.shape[-1]):  # periods, not reps
        e = earnings[..., k]
        on = employed[:, k] & (draw > 0)
        top_up = np.where(on, np.maximum(draw - e, 0), 0)
        recover = np.where(on & grid.draw_recoverable, np.minimum(np.maximum(e - draw, 0),
                                                                  balance), 0)
        adjust[..., k] = top_up - recover
        balance = balance + np.where(grid.draw_recoverable, top_up, 0) - recover
        balances[..., k] = balance
    return adjust, balances


# ----------------------------------------------------------------------------- measuring


def _payees(plan: Plan, inputs: Inputs, lines: pd.DataFrame, periods: Periods,
            roster: pd.DataFrame | None) -> pd.Index:
    if roster is not None and "plan" in roster.columns:
        ids = roster.loc[roster["plan"].astype("str") == plan.plan, "rep_id"]
        return pd.Index(ids.astype("str").unique()).sort_values()
    inside = lines.loc[periods.index_of(lines["credit_date"]) >= 0, "rep_id"]
    quota_reps = pd.Series([], dtype="str")
    if inputs.quotas is not None:
        quota_reps = _quotas_in_year(inputs.quotas, plan, periods)["rep_id"]
    ids = pd.Index(pd.concat([inside.astype("str"), quota_reps.astype("str")]).unique())
    return ids.sort_values()


def _quotas_in_year(quotas: pd.DataFrame, plan: Plan, periods: Periods) -> pd.DataFrame:
    by_period = quotas["period_start"].notna()
    in_year = pd.Series(False, index=quotas.index)
    in_year |= by_period & (periods.index_of(quotas["period_start"]) >= 0)
    if "year" in quotas.columns:
        in_year |= ~by_period & (quotas["year"] == plan.year_start.year)
    return quotas.loc[in_year]


def _quota_grid(plan: Plan, quotas: pd.DataFrame | None, payees: pd.Index,
                periods: Periods, source: str = "quotas") -> np.ndarray:
    """Quota per payee and period in cents; annual quotas phased exactly (largest remainder)."""
    r, k = len(payees), periods.count
    grid = np.zeros((r, k), dtype=np.int64)
    if quotas is None or not len(quotas):
        return grid
    q = _quotas_in_year(quotas, plan, periods)
    q = q[q["rep_id"].isin(payees)]
    rows = payees.get_indexer(q["rep_id"])
    by_period = q["period_start"].notna().to_numpy()
    if by_period.any():
        starts = q.loc[by_period, "period_start"]
        idx = periods.index_of_start(starts)
        if (idx < 0).any():
            bad = starts[idx < 0].iloc[0]
            raise InputError(Problem(
                source, f"period_start {bad:%Y-%m-%d} is not the first day of a "
                f"{plan.period} of plan {plan.plan!r} (periods start "
                f"{', '.join(f'{s:%Y-%m-%d}' for s in periods.starts[:4])}...)",
                column="period_start"))
        np.add.at(grid, (rows[by_period], idx), q.loc[by_period, "quota_cents"].to_numpy())
    if (~by_period).any():
        annual = q.loc[~by_period, "quota_cents"].to_numpy(np.int64)
        weights = plan.phasing
        if weights is None:
            base, extra = np.divmod(annual, k)
            parts = base[:, None] + (np.arange(k)[None, :] < extra[:, None])
        else:
            den = 10**12
            nums = np.array([int(CONTEXT.quantize(w * den, Decimal(1))) for w in weights])
            exact = annual[:, None].astype(object) * nums[None, :]
            floors = (exact // den).astype(np.int64)
            rem = (exact % den).astype(np.float64)
            left = annual - floors.sum(axis=1)
            order = np.argsort(-rem, axis=1, kind="stable")
            rank = np.argsort(order, axis=1, kind="stable")
            parts = floors + (rank < left[:, None])
        np.add.at(grid, rows[~by_period], parts.astype(np.int64))
    return grid


class _Lines:
    """Credit lines as numpy arrays, with the per-line facts measure descriptions select on
    (computed once per run, and only when some description needs them).

    ``codes``/``periods``: each line's payee row and period index on the grid; ``quota``
    the grid's quotas (cents; ``None`` for the unnamed one) for running bands; ``kinds``
    which kinds of line the run can hold (``rollup``, ``overlay``, ``collection``)."""

    def __init__(self, lines: pd.DataFrame, roster: pd.DataFrame | None, codes: np.ndarray,
                 periods: np.ndarray, quota: dict[str | None, np.ndarray],
                 kinds: dict[str, bool] | None = None, attrs: pd.DataFrame | None = None):
        self.frame = lines
        self.roster = roster
        self.attrs = attrs  # roster columns of the row in force on each line's date
        self.codes, self.periods, self.quota = codes, periods, quota
        self.kinds = dict(kinds or {})
        self.amount = lines["amount_cents"].to_numpy(np.int64)
        self.clawback = lines["clawback"].to_numpy(bool)
        self._cache: dict[Any, np.ndarray] = {}

    def get(self, key: Any) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = self._compute(key)
        return self._cache[key]

    def _compute(self, key: Any) -> np.ndarray:
        f = self.frame
        if key == "sign":
            return np.where(self.clawback, -1, 1).astype(np.int64)
        if key == "credit_memo":  # a line of a deal that is no sale (amount <= 0), or its reversal
            return (self.amount <= 0) != self.clawback
        if key == "rollup":  # rule text is only scanned when the run has such lines
            if not self.kinds.get("rollup"):
                return np.zeros(len(f), dtype=bool)
            return f["rule"].str.contains("rollup", regex=False).to_numpy(bool)
        if key == "overlay":
            if not self.kinds.get("overlay"):
                return np.zeros(len(f), dtype=bool)
            return f["rule"].str.contains("overlay", regex=False).to_numpy(bool) & ~self.get(
                "rollup")
        if key == "collection":  # lines from the payments table (only when one is given)
            if not self.kinds.get("collection"):
                return np.zeros(len(f), dtype=bool)
            return f["rule"].str.startswith("collection").to_numpy(bool)
        if key == "share":
            return f["share_ppb"].to_numpy(np.int64) * self.get("sign")
        if key == "order":  # credit_date, then deal_id (rule of tiers.scope: running)
            return np.lexsort((f["deal_id"].to_numpy(), f["credit_date"].to_numpy()))
        if isinstance(key, tuple) and key[0] == "column":
            return self._column(key[1])
        raise KeyError(key)

    def _column(self, col: str) -> pd.Series:
        """A deal column, or the payee's roster ``role``; ``region`` is the deal's, else the
        payee's."""
        f = self.frame
        own = f[col] if col in f.columns else pd.Series(pd.NA, index=f.index, dtype="str")
        if self.attrs is not None and col in self.attrs.columns:
            theirs = self.attrs[col].astype("str")
            return own.fillna(theirs) if col == "region" else theirs
        if col not in ("role", "region") or self.roster is None or col not in self.roster:
            return own
        theirs = f["rep_id"].map(self.roster.drop_duplicates("rep_id").set_index("rep_id")[col])
        return own.fillna(theirs) if col == "region" else theirs

    def _matches(self, pairs: tuple) -> np.ndarray:
        mask = np.ones(len(self.frame), dtype=bool)
        for col, values in pairs:
            mask &= self.get(("column", col)).isin(values).to_numpy()
        return mask

    def select(self, spec: MeasureSpec) -> np.ndarray:
        """The lines a measure description takes (bool mask)."""
        f = self.frame
        mask = self._matches(spec.filter)
        mask &= self.get("collection") == spec.collections
        for other in spec.unless:
            mask &= ~self._matches(other)
        if spec.deal_window is not None:
            lo, hi = (pd.Timestamp(d) for d in spec.deal_window)
            mask &= ((f["deal_date"] >= lo) & (f["deal_date"] <= hi)).to_numpy()
        if not spec.clawback:
            mask &= ~self.clawback
        if not spec.credit_memos:
            mask &= ~self.get("credit_memo")
        if spec.roles is not None:
            rollup, overlay = self.get("rollup"), self.get("overlay")
            role_ok = np.zeros(len(f), dtype=bool)
            if "rollup" in spec.roles:
                role_ok |= rollup
            if "overlay" in spec.roles:
                role_ok |= overlay
            if "seller" in spec.roles:
                role_ok |= ~rollup & ~overlay
            mask &= role_ok
        return mask

    def values(self, spec: MeasureSpec, mask: np.ndarray) -> np.ndarray:
        """What each line adds to a measure (int64)."""
        if spec.value == "column":
            name = measure_column(spec.column)
            if name not in self.frame.columns:
                raise InputError(Problem("deals", f"the plan measures column {spec.column!r}, "
                                         "which the deals were not loaded with (load_inputs"
                                         "(..., measure_columns=plan.measure_columns()))",
                                         column=spec.column))
            base = self.frame[name].to_numpy(np.int64)
        else:
            base = {"amount": self.amount, "share": None, "lines": None}[spec.value]
            if base is None:
                base = self.get("share") if spec.value == "share" else self.get("sign")
        if spec.band is not None:
            lo, hi = spec.band
            size = np.abs(base)
            if spec.band_whole:
                inside = (size >= lo) & ((size < hi) if hi is not None else True)
                base = np.where(inside, base, 0)
            else:
                top = size if hi is None else np.minimum(size, hi)
                base = np.sign(base) * np.maximum(top - lo, 0)
        if spec.running is not None:
            base = np.where(self._running_in(spec, base, mask), base, 0)
        return base

    def _running_in(self, spec: MeasureSpec, values: np.ndarray, mask: np.ndarray
                    ) -> np.ndarray:
        """Whether each line's running total after it lies in the spec's running band."""
        order = self.get("order")
        keep = order[mask[order]]
        rep, k, v = self.codes[keep], self.periods[keep], values[keep]
        group = rep if spec.running_window == "ytd" else rep * 10_000 + k
        after = pd.Series(v).groupby(group).cumsum().to_numpy()
        if spec.running_basis == "attainment":
            grid_quota = self.quota[spec.running_quota]
            quota = (np.cumsum(grid_quota, axis=1) if spec.running_window == "ytd"
                     else grid_quota)
            q = quota[rep, k].astype(np.float64) * spec.unit / 100
            position = np.where(q > 0, after / np.where(q > 0, q, 1), 0.0)
        else:
            position = after.astype(np.float64)
        lo, hi = spec.running
        inside = position >= float(lo)
        if hi is not None:
            inside &= position < float(hi)
        out = np.zeros(len(values), dtype=bool)
        out[keep] = inside
        return out


def _sum_grid(codes: np.ndarray, k: np.ndarray, values: np.ndarray, shape: tuple[int, int],
              mask: np.ndarray, overflow: Callable[[int, int], Problem] | None = None
              ) -> np.ndarray:
    """Sum int64 values into a dense (R, K) grid, exactly; a sum beyond int64 is an error
    (``overflow(rep, period)`` says which)."""
    keys = codes[mask] * shape[1] + k[mask]
    at, sums, over = checked_group_sum(keys, values[mask])
    if over.any():
        r, p = divmod(int(at[over][0]), shape[1])
        raise CentsOverflowError(overflow(r, p) if overflow is not None else overflow_problem(
            "credit lines", "the sum of a rep's credit in a period"))
    out = np.zeros(shape[0] * shape[1], dtype=np.int64)
    out[at.astype(np.int64)] = sums
    return out.reshape(shape)


def _employment(roster: pd.DataFrame | None, payees: pd.Index, periods: Periods) -> np.ndarray:
    days = np.broadcast_to(periods.days(), (len(payees), periods.count)).copy()
    if roster is None:
        return days
    info = roster.set_index("rep_id").reindex(payees)
    starts = pd.DatetimeIndex(periods.starts).to_numpy()[None, :]
    ends = pd.DatetimeIndex(periods.ends).to_numpy()[None, :]
    hire = info["hire_date"].to_numpy("datetime64[us]")[:, None]
    term = info["term_date"].to_numpy("datetime64[us]")[:, None]
    first = np.where(np.isnat(hire) | (hire < starts), starts, hire)
    last = np.where(np.isnat(term) | (term > ends), ends, term)
    span = (last - first).astype("timedelta64[D]").astype(np.int64) + 1
    return np.clip(span, 0, None)


def measure(plan: Plan, inputs: Inputs, *, credited: dict | None = None
            ) -> tuple[Grid, pd.DataFrame, dict[str, int]]:
    """Credit the deals and measure every component on the rep x period grid.

    Returns the grid, the credit lines and counts for the run summary.  ``credited`` (a
    dict the caller keeps, e.g. for the plans of one report) holds credit lines by what
    they depend on (currency, crediting mode and who is credited), so plans that credit
    alike on the same inputs credit the deals once.
    """
    periods = plan_periods(plan.year_start, plan.period)
    days = plan_days(plan, inputs)  # None: the whole plan year for every payee
    roster = inputs.roster if days is None or days.roster is None else days.roster
    tree = inputs.roster_rows if inputs.roster_rows is not None else inputs.roster
    rollup_to = None
    if plan.credit == "rollup" and roster is not None and "plan" in roster.columns:
        rollup_to = pd.Index(roster.loc[roster["plan"].astype("str") == plan.plan, "rep_id"])
    sources = getattr(inputs, "sources", None) or {}
    overlay_to = None
    if plan.credit == "overlay" and roster is not None and "plan" in roster.columns:
        overlay_to = pd.Index(roster.loc[roster["plan"].astype("str") == plan.plan, "rep_id"])
    key = (plan.currency, plan.credit, tuple(plan.overlay_match or ()),
           None if rollup_to is None else tuple(rollup_to),
           None if overlay_to is None else tuple(overlay_to))
    if credited is not None and key in credited:
        lines = credited[key]
    else:
        lines = credit_lines(plan, inputs.deals, splits=inputs.splits, fx=inputs.fx,
                             roster=tree, rollup_to=rollup_to,
                             source=sources.get("deals", "deals"),
                             overlays=getattr(inputs, "overlays", None),
                             overlay_to=overlay_to, payments=getattr(inputs, "payments", None))
        if credited is not None:
            credited[key] = lines
    progress_step("credit", len(lines))
    payees = _payees(plan, inputs, lines, periods, roster)
    outside_year = int((periods.index_of(lines["credit_date"]) < 0).sum())
    attrs = None
    if days is not None:  # only the days the plan pays each rep count
        spans = days.for_payees(payees)
        if days.spans is not None:
            payees = payees[payees.isin(spans["rep_id"])]
        inside, attrs = in_spans(lines, spans)
        inside = inside | (periods.index_of(lines["credit_date"]) < 0)  # other years: kept
        lines, attrs = lines.loc[inside].reset_index(drop=True), attrs.loc[inside].reset_index(
            drop=True)
    k_all = periods.index_of(lines["credit_date"])
    codes = payees.get_indexer(lines["rep_id"])
    use = (k_all >= 0) & (codes >= 0)
    shape = (len(payees), periods.count)
    amount = lines["amount_cents"].to_numpy(np.int64)
    deals_source = sources.get("deals", "deals")

    def too_big(measured_by: str = "") -> Callable[[int, int], Problem]:
        return lambda r, p: overflow_problem(
            deals_source, f"the credit of rep {payees[r]} in {periods.labels[p]}{measured_by}",
            column="amount")

    def given(table: str) -> bool:
        frame = getattr(inputs, table, None)
        return frame is not None and len(frame) > 0

    facts = _Lines(lines, roster, codes, k_all, {}, attrs=attrs, kinds={
        "rollup": plan.credit == "rollup", "collection": given("payments"),
        "overlay": plan.credit == "overlay" or given("overlays")})
    credit = _sum_grid(codes, k_all, amount, shape, use & ~facts.get("collection"), too_big())
    quota_source = sources.get("quotas", "quotas")
    quotas = inputs.quotas
    named = quotas["measure"].notna() if quotas is not None and "measure" in quotas else None
    quota = _quota_grid(plan, quotas if named is None else quotas.loc[~named], payees, periods,
                        quota_source)
    named_quotas = {}
    for name in sorted({c.quota_name() for c in plan.components} - {None}):  # a few names
        rows = quotas.loc[named & (quotas["measure"] == name)] if named is not None else None
        if rows is None or rows.empty:
            users = ", ".join(repr(c.id) for c in plan.components if c.quota_name() == name)
            raise InputError(Problem(quota_source, f"component {users} takes quota {name!r}, "
                                     f"but no quota row has measure {name!r}",
                                     column="measure"))
        named_quotas[name] = _quota_grid(plan, rows, payees, periods, quota_source)
    in_force = employed = full_quotas = None
    if days is not None:  # quotas for the days of each period the plan pays
        in_force, employed = day_grids(spans, payees, periods)
        full_quotas = {None: quota, **named_quotas}
        full = periods.days()[None, :]
        quota = prorate_cents(quota, in_force, full)
        named_quotas = {n: prorate_cents(q, in_force, full) for n, q in named_quotas.items()}
    facts.quota = {None: quota, **named_quotas}
    measures: dict[str, dict[str, np.ndarray]] = {}
    for comp in plan.components:  # components and their measures, not deals
        measures[comp.id] = {}
        for name, spec in comp.measures().items():
            mask = use & facts.select(spec)
            measures[comp.id][name] = _sum_grid(
                codes, k_all, facts.values(spec, mask), shape, mask,
                too_big(f" measured by component {comp.id!r}"))
    progress_step("measure", len(lines))
    yearly = [(credit, deals_source, "amount", "credit", ""),
              (quota, quota_source, "quota", "quota", "")]
    yearly += [(q, quota_source, "quota", f"quota {name!r}", "")
               for name, q in named_quotas.items()]
    yearly += [(m, deals_source, "amount", "credit", f" measured by component {cid!r}")
               for cid, named in measures.items() for m in named.values()]
    for values, source, col, what, measured_by in yearly:  # year-to-date sums and totals fit
        over = checked_cumsum(values, axis=1)[1].any(axis=1)
        if over.any():
            raise CentsOverflowError(overflow_problem(
                source, f"the year-to-date {what} of rep {payees[int(np.argmax(over))]}"
                f"{measured_by}", column=col))
    ti = np.zeros(len(payees), dtype=np.int64)
    draw = np.zeros(len(payees), dtype=np.int64)
    recoverable = np.zeros(len(payees), dtype=bool)
    if roster is not None:
        info = roster.set_index("rep_id").reindex(payees)
        ti = info["target_incentive_cents"].fillna(0).to_numpy(np.int64)
        draw = info["draw_cents"].fillna(0).to_numpy(np.int64)
        recoverable = (info["draw_type"].astype("str") == "recoverable").to_numpy()
    grid = Grid(plan=plan, periods=periods, rep_ids=payees.to_numpy(), quota=quota, credit=credit,
                target_incentive=ti,
                days_employed=(employed if employed is not None
                               else _employment(roster, payees, periods)),
                draw=draw, draw_recoverable=recoverable, measures=measures,
                quota_source=quota_source, named_quotas=named_quotas, in_force=in_force,
                full_quotas=full_quotas)
    summary = {"deals": len(inputs.deals), "credit_lines": len(lines),
               "lines_outside_year": outside_year, "payees": len(payees)}
    return grid, lines, summary


def earn(grid: Grid, num: Num = EXACT, scale: np.ndarray | None = None) -> dict[str, Earned]:
    """Every component's figures for the grid (in plan order), from its own ``earn``."""
    out = {}
    with decimal.localcontext(CONTEXT):
        for comp in grid.plan.components:
            try:
                out[comp.id] = comp.earn(grid, num, scale)
            except CentsOverflowError:  # rounding, a true-up or a running total
                raise CentsOverflowError(overflow_problem(
                    "payouts", f"what component {comp.id!r} of plan {grid.plan.plan!r} "
                    "earns")) from None
    return out


# ----------------------------------------------------------------------------- explaining


def _cap_note(comp: Component, grid: Grid, e: Earned) -> np.ndarray:
    cap = cap_cents(comp, grid)
    r, k = grid.shape
    if cap is None:
        return np.full((r, k), "", dtype=object)
    hit = e.to_date >= cap[:, None]
    capped = np.array(format_money(np.repeat(cap, k)).tolist(), dtype=object).reshape(r, k)
    return np.where(hit, "; capped at " + capped + " for the year", "")


# ----------------------------------------------------------------------------- results

PAYOUT_COLUMNS = ["rep_id", "period_index", "period_start", "period", "component", "attainment",
                  "earnings_to_date_cents", "amount_cents", "explain"]
#: The columns of ``Result.credits``, and their order (by deal first).
CREDIT_OUTPUT = ["deal_id", "rep_id", "credit_date", "amount_cents", "rule"]
CREDIT_ORDER = ["deal_id", "rep_id", "credit_date", "rule", "amount_cents"]
#: Rows per row group of a Parquet output (Arrow's default), whatever the slices.
ROW_GROUP = 1024 * 1024


@dataclass(frozen=True)
class CreditParts:
    """A plan's credit lines kept on disk (:mod:`spmkit.stream`): ``Result.credits`` of a
    run too large to hold them.  Each file holds the lines of a slice of the deals, sorted
    (``CREDIT_ORDER``); ``cuts`` are the deal ids where the output's ranges start."""

    paths: tuple[Path, ...]
    rows: int
    cuts: tuple[str, ...] = ()

    def frames(self) -> Any:
        """The credit lines in order, a range of deals at a time (``CREDIT_OUTPUT``
        columns): one file as it is, several merged by DuckDB a range at a time."""
        import pyarrow.parquet as pq

        if len(self.paths) <= 1:
            for path in self.paths:  # one file, already in order
                yield pq.read_table(path).to_pandas()
            return
        from spmkit.stream import duckdb_in

        order = ", ".join(CREDIT_ORDER)
        scan = f"read_parquet({[str(p) for p in self.paths]!r})"
        bounds = [None, *self.cuts, None]
        with duckdb_in(Path(self.paths[0]).parent, "sorting the credit lines") as con:
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):  # ranges, not rows
                cond = " AND ".join([c for c in (
                    "deal_id >= $lo" if lo is not None else "",
                    "deal_id < $hi" if hi is not None else "") if c]) or "true"
                params = {k: v for k, v in (("lo", lo), ("hi", hi)) if v is not None}
                yield con.sql(f"SELECT {', '.join(CREDIT_OUTPUT)} FROM {scan} WHERE {cond} "
                              f"ORDER BY {order}", params=params).to_arrow_table().to_pandas()

    def __len__(self) -> int:
        return self.rows


@dataclass(frozen=True)
class Result:
    """What a plan pays on a set of inputs.  See ``docs/internals.md`` for the columns."""

    plan: Plan
    periods: Periods
    payouts: pd.DataFrame
    credits: pd.DataFrame | CreditParts
    attainment: pd.DataFrame
    reps: pd.DataFrame
    summary: dict[str, int]

    @property
    def total_payout_cents(self) -> int:
        return int(sum_cents(self.payouts["amount_cents"].to_numpy(np.int64), source="payouts",
                             what="the total payout"))

    def rep_totals(self) -> pd.DataFrame:
        """Per payee: ``rep_id, payout_cents, credit_cents, quota_cents, attainment``."""
        def by_rep(frame: pd.DataFrame, column: str) -> pd.Series:
            reps, sums, over = checked_group_sum(frame["rep_id"].to_numpy(),
                                                 frame[column].to_numpy(np.int64))
            if over.any():
                raise CentsOverflowError(overflow_problem(
                    "payouts", f"the year's {column[:-6]} of rep {reps[over][0]}"))
            return pd.Series(sums, index=pd.Index(reps, name="rep_id"), name=column)

        pay = by_rep(self.payouts, "amount_cents")
        year = pd.concat([by_rep(self.attainment, c) for c in ("credit_cents", "quota_cents")],
                         axis=1)
        out = year.join(pay.rename("payout_cents")).fillna({"payout_cents": 0}).reset_index()
        out["payout_cents"] = out["payout_cents"].astype(np.int64)
        q = out["quota_cents"].to_numpy(np.float64)
        out["attainment"] = np.where(q > 0, out["credit_cents"] / np.where(q > 0, q, 1), np.nan)
        return out[["rep_id", "payout_cents", "credit_cents", "quota_cents", "attainment"]]

    def statement(self, rep_id: str, period: str | None = None) -> str:
        """A rep's statement: credits, attainment, each component's payout and why."""
        rows = self.payouts[self.payouts["rep_id"] == rep_id]
        if rows.empty:
            raise SpmkitError(f"rep {rep_id!r} is not paid by plan {self.plan.plan!r}")
        if period is not None:
            if period not in self.periods.labels:
                raise SpmkitError(f"period {period!r} is not in plan {self.plan.plan!r}; "
                                  f"use one of {', '.join(self.periods.labels)}")
            rows = rows[rows["period"] == period]
        att = self.attainment[self.attainment["rep_id"] == rep_id]
        credits = self.credits[self.credits["rep_id"] == rep_id]
        lines = [f"Statement for {rep_id} under plan {self.plan.plan!r} ({self.plan.currency})"]
        for label, grp in rows.groupby("period_index", sort=True):
            p = self.periods.labels[int(label)]
            a = att[att["period_index"] == label].iloc[0]
            lines.append("")
            lines.append(f"{p}: credit {_fm(a['credit_cents'])}, quota {_fm(a['quota_cents'])}, "
                         f"year-to-date credit {_fm(a['ytd_credit_cents'])} of "
                         f"{_fm(a['ytd_quota_cents'])}")
            start, end = self.periods.starts[int(label)], self.periods.ends[int(label)]
            inside = credits[(credits["credit_date"] >= start) & (credits["credit_date"] <= end)]
            for _, c in inside.sort_values(["credit_date", "deal_id"]).head(20).iterrows():
                lines.append(f"  credit {c['deal_id']} {c['credit_date']:%Y-%m-%d} "
                             f"{_fm(c['amount_cents'])} ({c['rule']})")
            if len(inside) > 20:
                lines.append(f"  ... and {len(inside) - 20} more credit lines")
            for _, row in grp.iterrows():
                lines.append(f"  {row['component']}: {_fm(row['amount_cents'])} - {row['explain']}")
            lines.append(f"  total paid in {p}: {_fm(grp['amount_cents'].sum())}")
        return "\n".join(lines)


def _fm(cents: int) -> str:
    return money_text(int(cents))


def calculate(plan: Plan, inputs: Inputs, *, measured: tuple | None = None) -> Result:
    """Compute what ``plan`` pays on ``inputs``: payouts to the cent, with explanations.

    Parameters
    ----------
    plan : Plan
        A validated plan (:func:`spmkit.plan.load_plan`).
    inputs : Inputs
        Tables as loaded by :func:`spmkit.tables.load_inputs`.

    Returns
    -------
    Result
        ``payouts`` (one row per payee, period and component, plus ``draw`` rows for payees
        with a draw), ``credits``, ``attainment``, ``reps`` and ``summary``.

    Raises
    ------
    InputError
        A deal currency without an fx rate; credit against a zero quota.
    """
    # measured: (grid, lines, summary) as measure() returns them, from another rows engine
    grid, lines, summary = measured if measured is not None else measure(plan, inputs)
    credits = lines if isinstance(lines, CreditParts) else _sorted(lines[CREDIT_OUTPUT],
                                                                     CREDIT_ORDER)
    del lines  # the widest frame of the run: let it go before the grid work
    earned = earn(grid, EXACT)
    r, k = grid.shape
    progress_step("earn", r * k)
    periods = grid.periods
    frames = []
    holds = holdbacks(grid, earned)
    for comp in plan.components:
        e = earned[comp.id]
        explain = comp.explain(grid, e) + comp.link_notes(grid) + _cap_note(comp, grid, e)
        paid_before = e.to_date - e.payout
        explain = (explain + "; earned to date " + money_grid(e.to_date, (r, k))
                   + ", paid before " + money_grid(paid_before, (r, k))
                   + ", paid this period " + money_grid(e.payout, (r, k)) + ".")
        payout = e.payout
        if comp.id in holds:
            hold = holds[comp.id]
            payout = payout - hold.held
            explain = np.where(hold.held != 0, explain + " " + hold.note, explain)
        att = (np.array([float(v) for v in e.attainment.ravel()]) if e.attainment is not None
               else np.full(r * k, np.nan))
        frames.append(_rows(grid, comp.id, e.to_date, payout, explain, np.round(att, 6)))
    if holds:
        released = sum(h.released for h in holds.values())
        explain = np.full((r, k), "", dtype=object)
        for h in holds.values():
            explain = np.where(h.released_note != "", np.where(
                explain == "", h.released_note, explain + "; " + h.released_note), explain)
        still = sum(h.still_held for h in holds.values())
        explain = np.where(explain == "", "Nothing released this period", explain)
        explain = explain + np.where(still[:, None] > 0, "; still held after the plan year: "
                                     + money_grid(np.repeat(still, k), (r, k)), "") + "."
        frames.append(_rows(grid, "holdback", np.cumsum(released, axis=1), released, explain))
    if (grid.draw > 0).any():
        total = sum_cents(np.stack([e.payout for e in earned.values()]), axis=0,
                          source="payouts", what="a rep's earnings in a period")
        adjust, balance = apply_draws(grid, total)
        has = np.repeat(grid.draw > 0, k)
        kind = np.where(grid.draw_recoverable, "Recoverable", "Non-recoverable")[:, None]
        draw_txt = money_grid(np.repeat(grid.draw[:, None], k, 1), (r, k))
        earned_txt = money_grid(total, (r, k))
        note = np.where(adjust > 0, "topped up by " + money_grid(adjust, (r, k)),
                        np.where(adjust < 0, "recovered " + money_grid(-adjust, (r, k))
                                 + " of the balance", "no adjustment"))
        explain = (kind + " draw of " + draw_txt + " per period: earnings " + earned_txt
                   + ", " + note + "; balance to recover " + money_grid(balance, (r, k)) + ".")
        explain = np.where(grid.days_employed > 0, explain, "Not employed in this period: no draw.")
        frames.append(_rows(grid, "draw", np.cumsum(adjust, axis=1), adjust, explain)[has])
    order = {c.id: i for i, c in enumerate(plan.components)} | {
        "holdback": len(plan.components), "draw": len(plan.components) + 1}
    payouts = pd.concat(frames, ignore_index=True)
    if grid.in_force is not None:  # no rows for periods the plan does not pay, unless money moves
        at = pd.Index(grid.rep_ids).get_indexer(payouts["rep_id"]) * k + payouts["period_index"]
        off = grid.in_force.ravel()[at.to_numpy()] == 0
        payouts = payouts.loc[~off | (payouts["amount_cents"].to_numpy() != 0)]
    payouts["_c"] = payouts["component"].map(order)
    payouts = payouts.sort_values(["rep_id", "period_index", "_c"], kind="stable")
    payouts = payouts.drop(columns="_c").reset_index(drop=True)
    pf = periods.frame()
    payouts["period_start"] = pf["period_start"].to_numpy()[payouts["period_index"]]
    payouts["period"] = pf["period"].to_numpy()[payouts["period_index"]]
    payouts = payouts[PAYOUT_COLUMNS]
    payouts["component"] = payouts["component"].astype("str")

    ytd_c, ytd_q = np.cumsum(grid.credit, axis=1), np.cumsum(grid.quota, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        attainment = pd.DataFrame({
            "rep_id": np.repeat(grid.rep_ids, k),
            "period_index": np.tile(np.arange(k), r),
            "period_start": np.tile(pf["period_start"].to_numpy(), r),
            "period": np.tile(pf["period"].to_numpy(), r),
            "credit_cents": grid.credit.ravel(),
            "quota_cents": grid.quota.ravel(),
            "ytd_credit_cents": ytd_c.ravel(),
            "ytd_quota_cents": ytd_q.ravel(),
            "attainment": np.where(grid.quota > 0, grid.credit / grid.quota, np.nan).ravel(),
            "ytd_attainment": np.where(ytd_q > 0, ytd_c / ytd_q, np.nan).ravel(),
        })
    reps = pd.DataFrame({"rep_id": grid.rep_ids})
    cols = ["name", "role", "region", "manager_id", "target_incentive_cents", "hire_date",
            "term_date"]
    if inputs.roster is not None:
        info = inputs.roster.set_index("rep_id").reindex(grid.rep_ids)
        for c in cols:
            reps[c] = info[c].to_numpy() if c in info.columns else pd.NA
    else:
        for c in cols:
            reps[c] = pd.NA
        reps["target_incentive_cents"] = 0
    summary = {**summary, "total_payout_cents": int(sum_cents(
        payouts["amount_cents"].to_numpy(np.int64), source="payouts", what="the total payout")),
               "still_held_cents": int(sum(int(h.still_held.sum()) for h in holds.values()))}
    return Result(plan=plan, periods=periods, payouts=payouts, credits=credits,
                  attainment=attainment, reps=reps, summary=summary)


def _rows(grid: Grid, component: str, to_date: np.ndarray, amount: np.ndarray,
          explain: np.ndarray, attainment: np.ndarray | float = np.nan) -> pd.DataFrame:
    """Payout rows of one component (or ``holdback``/``draw``), one per payee and period."""
    r, k = grid.shape
    return pd.DataFrame({
        "rep_id": np.repeat(grid.rep_ids, k),
        "period_index": np.tile(np.arange(k), r),
        "component": component,
        "attainment": attainment,
        "earnings_to_date_cents": to_date.ravel(),
        "amount_cents": amount.ravel(),
        "explain": explain.ravel().astype(str),
    })


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` (Arrow's multi-key sort: fast on string columns)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.Table.from_pandas(frame[keys], preserve_index=False)
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]).to_numpy()
    return frame.take(order).reset_index(drop=True)


# ----------------------------------------------------------------------------- what-ifs


class Prepared:
    """A plan measured once on its inputs, for fast what-ifs on scaled credit.

    ``costs(scale)`` reruns every earner in float64 with per-rep credit multipliers, for
    many draws at once (no loop over draws or reps). Figures are float cents, each payout
    line rounded; at ``scale=1`` they equal :func:`calculate`'s total.  With
    ``estimate=True`` the earners run in float32 without rounding each line to the cent
    (:data:`spmkit.grid.ESTIMATE`: what the Monte Carlo uses).
    """

    def __init__(self, plan: Plan, inputs: Inputs | None = None, *, grid: Grid | None = None):
        """Measure ``plan`` on ``inputs``, or take a ``grid`` already measured (and earned
        exactly, e.g. by :func:`calculate`), so a report credits each plan once."""
        self.plan = plan
        self._floats: dict[Any, dict[str, dict[str, np.ndarray]]] = {}
        self._cache: dict = {}  # the earners' figures that do not depend on the measures
        if grid is not None:
            self.grid = grid
            return
        if inputs is None:
            raise TypeError("Prepared needs inputs or a measured grid")
        self.grid, _, _ = measure(plan, inputs)
        earn(self.grid, EXACT)  # validates (zero quotas etc.) exactly as calculate would

    @property
    def rep_ids(self) -> np.ndarray:
        return self.grid.rep_ids

    def _measures(self, dtype: np.dtype) -> dict[str, dict[str, np.ndarray]]:
        """The grid's measures as floats of ``dtype`` (converted once)."""
        if dtype not in self._floats:
            self._floats[dtype] = {cid: {name: v.astype(dtype) for name, v in named.items()}
                                   for cid, named in self.grid.measures.items()}
        return self._floats[dtype]

    def costs(self, scale: np.ndarray | float, *, estimate: bool = False) -> np.ndarray:
        """Total payout in cents per draw; ``scale`` is (D, R, K) per-payee-and-period
        multipliers (each period's measures scaled before year-to-date sums, so period
        thresholds, caps and draws see the path), (D, R) per-rep multipliers or (D,).

        ``estimate``: float32 earners, no line rounded to the cent (each line within half
        a cent of the rounded one plus float32 error, about 1e-7 of the amount)."""
        from dataclasses import replace

        from spmkit.grid import ESTIMATE, ScaledMeasures

        num = ESTIMATE if estimate else FAST
        s = np.asarray(scale, dtype=num.dtype)
        if s.ndim == 0:
            s = s[None]
        if s.ndim == 1:
            s = np.broadcast_to(s[:, None], (len(s), len(self.rep_ids)))
        if s.ndim == 3 and estimate:  # each measure scaled when an earner reads it
            grid = replace(self.grid, cache=self._cache, measures={
                cid: ScaledMeasures(named, s) for cid, named in self._measures(num.dtype).items()})
            earned = earn(grid, num, None)
        elif s.ndim == 3:  # scale the measured grid itself; validated once in __init__
            grid = replace(self.grid, measures={cid: {name: values * s for name, values in
                                                      named.items()}
                                                for cid, named in self.grid.measures.items()})
            earned = earn(grid, num, None)
        elif estimate:
            earned = earn(replace(self.grid, cache=self._cache), num, s)
        else:
            earned = earn(self.grid, num, s)
        total = sum(e.payout for e in earned.values())
        if (self.grid.draw > 0).any():
            adjust, _ = apply_draws(self.grid, total)
            total = total + adjust
        flat = np.broadcast_to(total, s.shape[:1] + self.grid.shape).reshape(len(s), -1)
        if flat.dtype.kind == "f":  # float32 estimates are added up in float64
            return flat.sum(axis=1, dtype=np.float64)
        return flat.sum(axis=1).astype(np.float64)


def prepare(plan: Plan, inputs: Inputs) -> Prepared:
    """Measure ``plan`` on ``inputs`` once for :meth:`Prepared.costs`."""
    return Prepared(plan, inputs)


# ----------------------------------------------------------------------------- files


def _iso_dates(values: pd.Series) -> np.ndarray:
    """Dates as ``YYYY-MM-DD`` text (numpy's C formatter: fast on millions of rows)."""
    return np.datetime_as_string(values.to_numpy("datetime64[D]"), unit="D")


def _attainment_text(values: np.ndarray) -> np.ndarray:
    """Attainment with four decimals; blank where there is none (SPIF and draw rows)."""
    return np.where(np.isnan(values), "", np.char.mod("%.4f", np.nan_to_num(values)))


def output_frames(result: Result, *, money_as_text: bool = True
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``payouts`` and ``credits`` tables as the spec's files show them.

    Money columns are two-decimal text and dates ``YYYY-MM-DD`` text; with
    ``money_as_text=False`` they stay int64 cents and datetimes, which the Parquet writer
    stores as exact decimals and dates.
    """
    money = format_cents if money_as_text else (lambda c: c)
    dates = _iso_dates if money_as_text else (lambda d: d.to_numpy())
    return (_payout_frame(result.payouts, money, dates),
            _credit_frame(result.credits, money, dates))


def _payout_frame(p: pd.DataFrame, money: Callable, dates: Callable) -> pd.DataFrame:
    return pd.DataFrame({
        "rep_id": p["rep_id"],
        "period_start": dates(p["period_start"]),
        "period": p["period"],
        "component": p["component"],
        "attainment": _attainment_text(p["attainment"].to_numpy(np.float64)),
        "earnings_to_date": np.asarray(money(p["earnings_to_date_cents"])),
        "amount": np.asarray(money(p["amount_cents"])),
        "explain": p["explain"],
    })


def _credit_frame(c: pd.DataFrame, money: Callable, dates: Callable) -> pd.DataFrame:
    return pd.DataFrame({
        "deal_id": c["deal_id"],
        "rep_id": c["rep_id"],
        "credit_date": dates(c["credit_date"]),
        "amount": np.asarray(money(c["amount_cents"])),
        "rule": c["rule"],
    })


def _decimal_array(cents: pd.Series) -> Any:
    """Cents as an exact Arrow decimal column with two places (for Parquet)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    whole = pa.array(cents.to_numpy(np.int64)).cast(pa.decimal128(20, 0))
    return pc.multiply(whole, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))).cast(
        pa.decimal128(22, 2))


def _parquet_table(frame: pd.DataFrame, money: dict[str, pd.Series]) -> Any:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, fld in enumerate(table.schema):
        if pa.types.is_timestamp(fld.type):
            table = table.set_column(i, fld.name, table.column(i).cast(pa.date32()))
    for name, cents in money.items():
        table = table.set_column(table.schema.get_field_index(name), name, _decimal_array(cents))
    return table


def _write_csv(table: Any, path: Path) -> None:
    """Write an Arrow table or batch reader as CSV with DuckDB's writer (in row order):
    decimals with their two places, dates ``YYYY-MM-DD``, a field quoted only when it holds
    a comma, a quote or a line break (empty texts are missing values by now: an empty
    field)."""
    import duckdb

    con = duckdb.connect(config={"threads": os.cpu_count() or 1})
    try:
        con.register("out_table", table)
        target = str(path).replace("'", "''")
        con.execute(f"COPY out_table TO '{target}' (FORMAT csv, HEADER true)")
    except duckdb.IOException as exc:  # e.g. a full disk: a file error, not a bug
        raise OSError(errno.EIO, str(exc).splitlines()[0], str(path)) from None
    finally:
        con.close()


def calculate_plans(plans: Sequence[Plan], inputs: Inputs,
                    engine: Callable[[Plan, Inputs], Result] = calculate) -> list[Result]:
    """Several plans in one run (``spmkit calc --plan A --plan B``): each pays each rep for
    the days on which the rep's roster row names it (and it is effective).

    Raises
    ------
    SpmkitError
        Two plans with one name, or plans in different currencies.
    """
    check_plans(plans)
    return [engine(p, inputs) for p in plans]  # a handful of plans, not reps


def check_plans(plans: Sequence[Plan]) -> None:
    """The plans of one run: distinct names, one currency.

    Raises
    ------
    SpmkitError
        Two plans with one name, or plans in different currencies.
    """
    names = [p.plan for p in plans]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SpmkitError(f"two plan files are both named {twice[0]!r}; a run's plans need "
                          "distinct names (the roster's plan column and the payout rows "
                          "use them)")
    currencies = {p.currency for p in plans}
    if len(currencies) > 1:
        raise SpmkitError(f"the plans pay in {', '.join(sorted(currencies))}: one run's "
                          "plans must share a currency, so that its totals add up")


def _credit_table(credits: pd.DataFrame, plan: str | None) -> Any:
    """Credit lines as the output's Arrow table: exact decimals and dates."""
    frame = _credit_frame(credits, lambda c: c, lambda d: d.to_numpy())
    if plan is not None:
        frame.insert(0, "plan", plan)
    return _parquet_table(frame, {"amount": credits["amount_cents"]})


def _payout_table(result: Result, plan: str | None) -> Any:
    payouts = _payout_frame(result.payouts, lambda c: c, lambda d: d.to_numpy())
    if plan is not None:
        payouts.insert(0, "plan", plan)
    return _parquet_table(payouts, {"earnings_to_date": result.payouts["earnings_to_date_cents"],
                                    "amount": result.payouts["amount_cents"]})


def _write_tables(tables: Any, path: Path, fmt: str) -> int:
    """Write Arrow tables one after the other as one file; returns the rows written.

    Parquet row groups hold :data:`ROW_GROUP` rows whatever the tables' sizes, so the file
    is the same to the byte however the rows were cut; CSV goes through DuckDB's writer as
    a stream of batches (in order)."""
    import pyarrow as pa

    rows = 0
    if fmt == "parquet":
        import pyarrow.parquet as pq

        writer = None
        held: list = []
        count = 0

        def flush(table: Any) -> None:
            nonlocal writer
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP)

        try:
            last = None
            for table in tables:  # tables of a range of deals each, not rows
                last = table
                rows += len(table)
                held.append(table)
                count += len(table)
                while count >= ROW_GROUP:
                    whole = pa.concat_tables(held)
                    flush(whole.slice(0, ROW_GROUP))
                    rest = whole.slice(ROW_GROUP)
                    held, count = [rest], len(rest)
            if count or writer is None:
                flush(pa.concat_tables(held) if held else last.slice(0, 0))
        finally:
            if writer is not None:
                writer.close()
        return rows
    reader, counted = _batches(tables)
    _write_csv(reader, path)
    return counted()


def _batches(tables: Any) -> tuple[Any, Callable[[], int]]:
    """A RecordBatchReader over Arrow tables (an empty text as a missing one, as the CSV
    writer wants), and a function giving the rows it has read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    it = iter(tables)
    first = next(it)
    seen = [0]

    def blanked(table: Any) -> Any:
        for i, fld in enumerate(table.schema):
            if pa.types.is_string(fld.type) or pa.types.is_large_string(fld.type):
                col = table.column(i)
                table = table.set_column(i, fld.name, pc.if_else(
                    pc.equal(col, ""), pa.scalar(None, fld.type), col))
        return table

    def gen() -> Any:
        for table in itertools.chain([first], it):  # ranges of deals, not rows
            seen[0] += len(table)
            yield from blanked(table).to_batches()

    return pa.RecordBatchReader.from_batches(blanked(first.slice(0, 0)).schema, gen()), \
        lambda: seen[0]


_END = object()


def _ahead(items: Any) -> Any:
    """``items`` in order, the next one made on a worker thread while the caller uses
    this one (the next range of credit lines read and sorted while this one is written)."""
    import concurrent.futures
    import contextvars

    it = iter(items)
    with concurrent.futures.ThreadPoolExecutor(1, "spmkit-ahead") as pool:
        def later() -> Any:
            return pool.submit(contextvars.copy_context().run, next, it, _END)

        coming = later()
        while (item := coming.result()) is not _END:  # ranges, not rows
            coming = later()
            yield item


def write_outputs(result: Result | Sequence[Result], out_dir: str | Path,
                  fmt: str = "csv") -> list[Path]:
    """Write ``payouts`` and ``credits`` (csv or parquet) into ``out_dir``, atomically.

    Given several results (one run of several plans), both tables start with a ``plan``
    column naming the plan of each row.  Credit lines kept on disk (:class:`CreditParts`)
    are streamed into the file, a range of deals at a time."""
    if fmt not in ("csv", "parquet"):
        raise SpmkitError(f"unknown format {fmt!r}; use csv or parquet")
    results = [result] if isinstance(result, Result) else list(result)
    several = len(results) > 1

    def payouts() -> Any:
        for one in results:  # a handful of plans, not reps
            yield _payout_table(one, one.plan.plan if several else None)

    def credits() -> Any:
        for one in results:  # a handful of plans, not reps
            frames = one.credits.frames() if isinstance(one.credits, CreditParts) \
                else [one.credits]
            yield from _ahead(_credit_table(frame, one.plan.plan if several else None)
                              for frame in frames)  # ranges of deals, not rows

    written = []
    rows = 0
    with atomic_dir(out_dir, kind="calc") as stage:
        for name, tables in (("payouts", payouts), ("credits", credits)):
            path = stage / f"{name}.{fmt}"
            rows += _write_tables(tables(), path, fmt)
            written.append(Path(out_dir) / path.name)
    progress_step("write", rows, str(out_dir))
    return written
