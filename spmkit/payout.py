"""Credit lines + quotas + roster + plan -> payouts, each with an explanation.

The flow: :func:`measure` turns credit lines into dense rep x period grids (integer
cents, vectorized over deals); each component's earner turns the grids into earnings
to date and payouts (vectorized over reps; the only loops run over periods and bands);
:func:`calculate` assembles the payout rows and their ``explain`` sentences.

The earners work on any numeric array: exact 34-digit :class:`~decimal.Decimal` object
arrays for payroll figures (:func:`calculate`), or float64 arrays with extra leading axes
for thousands of what-ifs at once (:class:`Prepared`, used by sensitivity and Monte Carlo).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.crediting import PPB, credit_lines
from spmkit.errors import InputError, Problem, SpmkitError
from spmkit.money import (
    CONTEXT,
    CentsOverflowError,
    checked_cumsum,
    checked_group_sum,
    format_cents,
    format_money,
    money_text,
    overflow_problem,
    round_cents,
    sum_cents,
)
from spmkit.outputs import atomic_dir
from spmkit.periods import Periods, plan_periods
from spmkit.plan import Bonus, Commission, Component, Plan, Spif
from spmkit.tables import Inputs

# ----------------------------------------------------------------------------- numerics


class _Num:
    """Numeric mode: exact Decimal object arrays or float64 arrays."""

    def __init__(self, exact: bool):
        self.exact = exact

    def arr(self, values: Any) -> np.ndarray:
        a = np.asarray(values)
        if not self.exact:
            return a.astype(np.float64)
        if a.dtype == object:
            return a
        if np.issubdtype(a.dtype, np.integer):
            flat = [Decimal(v) for v in a.ravel().tolist()]
        else:
            flat = [Decimal(repr(float(v))) for v in a.ravel().tolist()]
        return np.array(flat, dtype=object).reshape(a.shape)

    def const(self, value: Decimal | int) -> Any:
        return Decimal(value) if self.exact else float(value)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.arr(np.zeros(shape, dtype=np.int64))

    def div(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a / b where b != 0, else 0."""
        a, b = np.broadcast_arrays(a, b)
        nz = b != 0
        safe = np.where(nz, b, self.const(1))
        return np.where(nz, a / safe, self.const(0))


EXACT = _Num(True)
FAST = _Num(False)


# ----------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Grid:
    """Everything measured for one plan, as dense arrays over payees (R) and periods (K).

    Money is int64 cents.  ``measure[cid]`` is a component's filtered credit per period;
    ``spif_shares[cid]`` the summed split shares (parts per billion) of SPIF-eligible lines.
    """

    plan: Plan
    periods: Periods
    rep_ids: np.ndarray
    quota: np.ndarray
    credit: np.ndarray
    target_incentive: np.ndarray
    days_employed: np.ndarray
    draw: np.ndarray
    draw_recoverable: np.ndarray
    measure: dict[str, np.ndarray]
    spif_shares: dict[str, np.ndarray]
    spif_lines: dict[str, np.ndarray]
    quota_source: str = "quotas"

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rep_ids), self.periods.count

    def year_target(self, num: _Num) -> np.ndarray:
        """Target incentive for the plan year (R,): annual TI prorated by days employed."""
        days = num.arr(self.days_employed.sum(axis=1))
        return num.arr(self.target_incentive) * days / num.const(int(self.periods.days().sum()))


@dataclass
class Earned:
    """One component's figures on the grid (leading axes allowed in fast mode)."""

    attainment: np.ndarray | None  # numeric, the basis the component uses
    to_date: np.ndarray  # int64 cents: earnings to date after caps, rounded
    payout: np.ndarray  # int64 cents per period
    detail: dict[str, Any] = field(default_factory=dict)


Earner = Callable[[Component, Grid, "_Num", np.ndarray | None], Earned]
EARNERS: dict[type[Component], Earner] = {}


def earner(kind: type[Component]) -> Callable[[Earner], Earner]:
    """Register the function that computes a component type's earnings."""

    def wrap(fn: Earner) -> Earner:
        EARNERS[kind] = fn
        return fn

    return wrap


def _scaled(grid_values: np.ndarray, num: _Num, scale: np.ndarray | None) -> np.ndarray:
    """Grid values (R, K) as numbers, times per-rep scale (..., R) in fast mode."""
    values = num.arr(grid_values)
    if scale is None:
        return values
    return values * scale[..., None]


def _windows(values: np.ndarray, basis: str) -> np.ndarray:
    if basis != "ytd":
        return values
    if values.dtype != np.int64:
        return np.cumsum(values, axis=-1)
    return _cumsum_cents(values, "a year-to-date sum")


def _cumsum_cents(values: np.ndarray, what: str, source: str = "payouts") -> np.ndarray:
    """Running sums of cents over periods; beyond int64 is an error, never a wrapped number."""
    out, over = checked_cumsum(values, axis=-1)
    if over.any():
        raise CentsOverflowError(overflow_problem(source, what))
    return out


def _cap_cents(comp: Component, grid: Grid) -> np.ndarray | None:
    """Each payee's plan-year cap for a component, in cents (None when uncapped)."""
    if comp.cap is None:
        return None
    if comp.cap.amount is not None:
        cents = int(CONTEXT.quantize(comp.cap.amount * 100, Decimal(1)))
        return np.full(len(grid.rep_ids), cents, dtype=np.int64)
    with decimal.localcontext(CONTEXT):
        return round_cents(grid.year_target(EXACT) * (comp.cap.ti_multiple * comp.weight))


def _pay(comp: Component, grid: Grid, earnings: np.ndarray, basis: str) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    """Apply caps and the YTD true-up; return (earnings to date, payout) in cents."""
    cap = _cap_cents(comp, grid)
    if basis == "ytd":
        if cap is not None:
            if earnings.dtype == object:
                capn = np.array([Decimal(int(c)) for c in cap], dtype=object)
            else:
                capn = cap.astype(np.float64)
            earnings = np.minimum(earnings, capn[:, None])
        to_date = round_cents(earnings)
        prev = np.concatenate([np.zeros_like(to_date[..., :1]), to_date[..., :-1]], axis=-1)
        return to_date, sum_cents(np.stack([to_date, -prev]), axis=0, source="payouts",
                                  what=f"a payout of component {comp.id!r}")
    lines = round_cents(earnings)
    if cap is None:
        return _cumsum_cents(lines, f"the earnings to date of component {comp.id!r}"), lines
    paid = np.zeros(lines.shape[:-1], dtype=np.int64)
    out = np.empty_like(lines)
    for k in range(lines.shape[-1]):  # periods, not reps
        out[..., k] = np.minimum(lines[..., k], cap - paid)
        paid = paid + out[..., k]
    return _cumsum_cents(out, f"the earnings to date of component {comp.id!r}"), out


def _band_rates(comp: Commission, grid: Grid, num: _Num) -> list[np.ndarray]:
    """Per band, each payee's rate (R,): the band's rate or its multiple of BCR (rule 4)."""
    annual_quota = grid.quota.sum(axis=1)
    rates = []
    bcr = None
    if comp.tiers.uses_bcr:
        bcr = num.div(grid.year_target(num) * num.const(comp.weight), num.arr(annual_quota))
    for band in comp.tiers.bands:
        if band.rate is not None:
            rates.append(np.full(len(grid.rep_ids), num.const(band.rate),
                                 dtype=object if num.exact else np.float64))
        else:
            rates.append(bcr * num.const(band.bcr_multiple))
    return rates


def _check_quota(comp: Component, grid: Grid, measure: np.ndarray, quota: np.ndarray) -> None:
    bad = (quota == 0) & (measure != 0)
    if bad.any():
        r, k = (int(x[0]) for x in np.nonzero(bad))
        n = int(bad.sum())
        raise InputError(Problem(
            grid.quota_source,
            f"rep {grid.rep_ids[r]} has credit but a zero (or missing) quota in "
            f"{grid.periods.labels[k]}, so attainment for component {comp.id!r} is undefined"
            + (f" ({n} rep-periods like this)" if n > 1 else "")
            + "; add the quota or remove the rep from the plan",
            column="quota",
        ))


@earner(Commission)
def earn_commission(comp: Commission, grid: Grid, num: _Num,
                    scale: np.ndarray | None = None) -> Earned:
    """Rules 3-5, 7, 8: tiers on the period or year-to-date window."""
    basis = comp.attainment
    raw_c = _windows(grid.measure[comp.id], basis)
    raw_q = _windows(grid.quota, basis)
    needs_quota = len(comp.tiers.bands) > 1 or comp.tiers.uses_bcr
    if needs_quota and scale is None:
        _check_quota(comp, grid, raw_c, raw_q)
    c = _scaled(raw_c, num, scale)
    q = num.arr(raw_q)
    attainment = num.div(c, q)
    rates = _band_rates(comp, grid, num)
    bands = comp.tiers.bands
    starts = [q * num.const(b.start) for b in bands]
    portions = []
    if comp.tiers.method == "marginal":
        earnings = num.zeros(c.shape)
        for i in range(len(bands)):  # bands, not reps
            lo = starts[i]
            if i + 1 < len(bands):
                part = np.minimum(c, starts[i + 1]) - lo
            else:
                part = c - lo
            if i > 0:
                part = np.maximum(part, num.const(0))
            elif not needs_quota:
                part = c
            portions.append(part)
            earnings = earnings + part * rates[i][:, None]
        band_index = None
    else:
        band_index = np.zeros(c.shape, dtype=np.int64)
        for i in range(1, len(bands)):
            band_index += (attainment >= num.const(bands[i].start)) & (q != 0)
        rate_grid = np.stack([np.broadcast_to(r[:, None], c.shape[-2:]) for r in rates], axis=-1)
        rate_grid = np.broadcast_to(rate_grid, c.shape + (len(bands),))
        chosen = np.take_along_axis(rate_grid, band_index[..., None], axis=-1)[..., 0]
        earnings = chosen * c
    to_date, payout = _pay(comp, grid, earnings, basis)
    return Earned(attainment, to_date, payout,
                  {"credit": raw_c, "quota": raw_q, "portions": portions, "rates": rates,
                   "band_index": band_index, "earnings": earnings})


def _curve(comp: Bonus, a: np.ndarray, num: _Num) -> np.ndarray:
    """Rule 6: 0 below the first point, linear between points, flat or extended after."""
    pts = [(num.const(x), num.const(y)) for x, y in comp.curve]
    f = num.zeros(a.shape)
    for i, (x, y) in enumerate(pts):  # curve points, not reps
        if i + 1 < len(pts):
            x2, y2 = pts[i + 1]
            seg = y + (a - x) * ((y2 - y) / (x2 - x))
            f = np.where((a >= x) & (a < x2), seg, f)
        else:
            tail = y
            if comp.above_last == "extend" and len(pts) > 1:
                x0, y0 = pts[i - 1]
                tail = y + (a - x) * ((y - y0) / (x - x0))
            f = np.where(a >= x, tail, f)
    return f


def _period_targets(comp: Component, grid: Grid, num: _Num) -> np.ndarray:
    """Rule 6: annual TI x weight x (period quota / annual quota), prorated by days employed."""
    annual = grid.quota.sum(axis=1, keepdims=True)
    k = grid.periods.count
    share = num.div(num.arr(grid.quota), num.arr(np.broadcast_to(annual, grid.quota.shape)))
    even = num.arr(np.ones(grid.quota.shape, dtype=np.int64)) / num.const(k)
    share = np.where(np.broadcast_to(annual, grid.quota.shape) != 0, share, even)
    prorate = num.arr(grid.days_employed) / num.arr(np.broadcast_to(grid.periods.days(),
                                                                    grid.quota.shape))
    ti = num.arr(grid.target_incentive)[:, None] * num.const(comp.weight)
    return ti * share * prorate


@earner(Bonus)
def earn_bonus(comp: Bonus, grid: Grid, num: _Num, scale: np.ndarray | None = None) -> Earned:
    """Pays target x f(attainment); ``ytd`` pays the year-to-date target and trues up."""
    basis = comp.attainment
    raw_c = _windows(grid.measure[comp.id], basis)
    raw_q = _windows(grid.quota, basis)
    if scale is None:
        _check_quota(comp, grid, raw_c, raw_q)
    c = _scaled(raw_c, num, scale)
    attainment = num.div(c, num.arr(raw_q))
    targets = _windows(_period_targets(comp, grid, num), basis)
    fraction = _curve(comp, attainment, num)
    earnings = targets * fraction
    to_date, payout = _pay(comp, grid, earnings, basis)
    return Earned(attainment, to_date, payout,
                  {"credit": raw_c, "quota": raw_q, "target": targets, "fraction": fraction,
                   "earnings": earnings})


@earner(Spif)
def earn_spif(comp: Spif, grid: Grid, num: _Num, scale: np.ndarray | None = None) -> Earned:
    """Rule 8: per deal (each rep's share of it) or a rate on credit, in the credit period."""
    if comp.per_deal is not None:
        shares = _scaled(grid.spif_shares[comp.id], num, scale)
        earnings = shares * num.const(comp.per_deal * 100) / num.const(PPB)
    else:
        earnings = _scaled(grid.measure[comp.id], num, scale) * num.const(comp.rate)
    to_date, payout = _pay(comp, grid, earnings, "period")
    return Earned(None, to_date, payout, {"shares": grid.spif_shares[comp.id],
                                          "credit": grid.measure[comp.id],
                                          "lines": grid.spif_lines[comp.id],
                                          "earnings": earnings})


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


def _payees(plan: Plan, inputs: Inputs, lines: pd.DataFrame, periods: Periods) -> pd.Index:
    roster = inputs.roster
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


def _filter_mask(comp: Component, lines: pd.DataFrame) -> np.ndarray:
    mask = np.ones(len(lines), dtype=bool)
    for col, values in (comp.filter or {}).items():
        mask &= lines[col].isin(values).to_numpy()
    return mask


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


def measure(plan: Plan, inputs: Inputs) -> tuple[Grid, pd.DataFrame, dict[str, int]]:
    """Credit the deals and measure every component on the rep x period grid.

    Returns the grid, the credit lines and counts for the run summary.
    """
    periods = plan_periods(plan.year_start, plan.period)
    roster = inputs.roster
    rollup_to = None
    if plan.credit == "rollup" and roster is not None and "plan" in roster.columns:
        rollup_to = pd.Index(roster.loc[roster["plan"].astype("str") == plan.plan, "rep_id"])
    sources = getattr(inputs, "sources", None) or {}
    lines = credit_lines(plan, inputs.deals, splits=inputs.splits, fx=inputs.fx, roster=roster,
                         rollup_to=rollup_to, source=sources.get("deals", "deals"))
    payees = _payees(plan, inputs, lines, periods)
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

    credit = _sum_grid(codes, k_all, amount, shape, use, too_big())
    measures, shares, counts = {}, {}, {}
    for comp in plan.components:  # components, not deals
        mask = use & _filter_mask(comp, lines)
        if isinstance(comp, Spif):
            deal_date = lines["deal_date"]
            lo, hi = pd.Timestamp(comp.window[0]), pd.Timestamp(comp.window[1])
            mask &= ((deal_date >= lo) & (deal_date <= hi)).to_numpy()
            claw = lines["clawback"].to_numpy()
            if not comp.clawback:
                mask &= ~claw
            if comp.per_deal is not None:  # a credit memo is not a deal: no per-deal SPIF
                mask &= (lines["amount_cents"].to_numpy() > 0) != claw
            sign = np.where(claw, -1, 1)
            shares[comp.id] = _sum_grid(codes, k_all, lines["share_ppb"].to_numpy() * sign,
                                        shape, mask)
            counts[comp.id] = _sum_grid(codes, k_all, sign.astype(np.int64), shape, mask)
        measures[comp.id] = _sum_grid(codes, k_all, amount, shape, mask,
                                      too_big(f" measured by component {comp.id!r}"))
    quota_source = sources.get("quotas", "quotas")
    quota = _quota_grid(plan, inputs.quotas, payees, periods, quota_source)
    yearly = [(credit, deals_source, "amount", "credit", ""),
              (quota, quota_source, "quota", "quota", "")]
    yearly += [(m, deals_source, "amount", "credit", f" measured by component {cid!r}")
               for cid, m in measures.items()]
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
                target_incentive=ti, days_employed=_employment(roster, payees, periods),
                draw=draw, draw_recoverable=recoverable, measure=measures, spif_shares=shares,
                spif_lines=counts, quota_source=quota_source)
    summary = {"deals": len(inputs.deals), "credit_lines": len(lines),
               "lines_outside_year": int((k_all < 0).sum()), "payees": len(payees)}
    return grid, lines, summary


def earn(grid: Grid, num: _Num = EXACT, scale: np.ndarray | None = None) -> dict[str, Earned]:
    """Every component's figures for the grid (in plan order)."""
    out = {}
    with decimal.localcontext(CONTEXT):
        for comp in grid.plan.components:
            fn = EARNERS.get(type(comp))
            if fn is None:
                raise SpmkitError(f"component type {comp.type!r} has no earner registered")
            try:
                out[comp.id] = fn(comp, grid, num, scale)
            except CentsOverflowError:  # rounding, a true-up or a running total
                raise CentsOverflowError(overflow_problem(
                    "payouts", f"what component {comp.id!r} of plan {grid.plan.plan!r} "
                    "earns")) from None
    return out


# ----------------------------------------------------------------------------- explaining


def _pct(values: np.ndarray) -> list[str]:
    return [f"{float(v) * 100:.1f}%" for v in np.ravel(values)]


def _rate_text(rate: Any) -> str:
    d = Decimal(rate) * 100
    text = format(d.normalize(), "f") if d == d.to_integral_value() else f"{float(d):.4g}"
    return f"{text}%"


def _explain_commission(comp: Commission, grid: Grid, e: Earned) -> np.ndarray:
    r, k = grid.shape
    money = lambda a: np.array(format_money(np.asarray(a).ravel()).tolist(),  # noqa: E731
                               dtype=object).reshape(r, k)
    quota = money(e.detail["quota"])
    credit = money(e.detail["credit"])
    window = "year-to-date" if comp.attainment == "ytd" else "period"
    att = np.array(_pct(e.attainment), dtype=object).reshape(r, k)
    bands = comp.tiers.bands
    text = np.full((r, k), "", dtype=object)
    rates = [[_rate_text(x) for x in rr] for rr in e.detail["rates"]]  # per band, per rep
    labels = []
    for i, b in enumerate(bands):
        lo = f"{float(b.start) * 100:g}%"
        if i + 1 < len(bands):
            hi = f"{float(bands[i + 1].start) * 100:g}%"
            labels.append(f"up to {hi}" if i == 0 else f"between {lo} and {hi}")
        else:
            labels.append(f"above {lo}" if i else "at any attainment")
    rate_grid = [np.array(rr, dtype=object)[:, None].repeat(k, axis=1) for rr in rates]
    if comp.tiers.method == "marginal":
        for i, part in enumerate(e.detail["portions"]):
            amounts = round_cents(part)
            nonzero = amounts != 0
            frag = (rate_grid[i] + " on " + money(amounts) + " " + labels[i])
            sep = np.where(text == "", "", "; ")
            text = np.where(nonzero, text + sep + frag, text)
        text = np.where(text == "", "no credit", text)
        head = f"Commission on {window} credit of "
        text = head + credit + " (" + att + " of the " + quota + " quota): " + text
    else:
        idx = e.detail["band_index"]
        chosen = np.choose(idx, rate_grid) if len(bands) > 1 else rate_grid[0]
        band_label = np.choose(idx, np.array(labels, dtype=object)[:, None, None]
                               .repeat(r, 1).repeat(k, 2)) if len(bands) > 1 else labels[0]
        text = ("Commission at the retroactive rate of " + chosen + " on all " + window
                + " credit of " + credit + " (" + att + " of the " + quota + " quota, "
                + band_label + ")")
    return text


def _explain_bonus(comp: Bonus, grid: Grid, e: Earned) -> np.ndarray:
    r, k = grid.shape
    target = np.array(format_money(round_cents(e.detail["target"]).ravel()).tolist(),
                      dtype=object).reshape(r, k)
    frac = np.array(_pct(e.detail["fraction"]), dtype=object).reshape(r, k)
    att = np.array(_pct(e.attainment), dtype=object).reshape(r, k)
    window = "year-to-date" if comp.attainment == "ytd" else "period"
    return ("Bonus: " + window + " attainment " + att + " pays " + frac + " of the " + target
            + f" {window} target (target incentive x {float(comp.weight) * 100:g}% weight, "
            "phased by quota and prorated by days employed)")


def _explain_spif(comp: Spif, grid: Grid, e: Earned) -> np.ndarray:
    r, k = grid.shape
    win = f"{comp.window[0]:%Y-%m-%d} to {comp.window[1]:%Y-%m-%d}"
    if comp.per_deal is not None:
        shares = np.array([f"{v / PPB:g}" for v in e.detail["shares"].ravel()],
                          dtype=object).reshape(r, k)
        lines = e.detail["lines"].astype(str).astype(object)
        noun = np.where(e.detail["lines"] == 1, " credit line", " credit lines")
        return (f"SPIF {_money1(comp.per_deal)} per deal closed {win}: " + lines
                + noun + ", deal shares " + shares)
    credit = np.array(format_money(e.detail["credit"].ravel()).tolist(), dtype=object)
    head = f"SPIF {_rate_text(comp.rate)} on credit from deals closed {win}: "
    return head + credit.reshape(r, k)


def _money1(value: Decimal) -> str:
    return f"{value:,.2f}"


EXPLAINERS: dict[type[Component], Callable[[Any, Grid, Earned], np.ndarray]] = {
    Commission: _explain_commission,
    Bonus: _explain_bonus,
    Spif: _explain_spif,
}


def _cap_note(comp: Component, grid: Grid, e: Earned) -> np.ndarray:
    cap = _cap_cents(comp, grid)
    r, k = grid.shape
    if cap is None:
        return np.full((r, k), "", dtype=object)
    hit = e.to_date >= cap[:, None]
    capped = np.array(format_money(np.repeat(cap, k)).tolist(), dtype=object).reshape(r, k)
    return np.where(hit, "; capped at " + capped + " for the year", "")


# ----------------------------------------------------------------------------- results

PAYOUT_COLUMNS = ["rep_id", "period_index", "period_start", "period", "component", "attainment",
                  "earnings_to_date_cents", "amount_cents", "explain"]


@dataclass(frozen=True)
class Result:
    """What a plan pays on a set of inputs.  See ``docs/internals.md`` for the columns."""

    plan: Plan
    periods: Periods
    payouts: pd.DataFrame
    credits: pd.DataFrame
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


def calculate(plan: Plan, inputs: Inputs) -> Result:
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
    grid, lines, summary = measure(plan, inputs)
    credits = _sorted(lines[["deal_id", "rep_id", "credit_date", "amount_cents", "rule"]],
                      ["deal_id", "rep_id", "credit_date", "rule", "amount_cents"])
    del lines  # the widest frame of the run: let it go before the grid work
    earned = earn(grid, EXACT)
    r, k = grid.shape
    periods = grid.periods
    frames = []
    for comp in plan.components:
        e = earned[comp.id]
        explain = EXPLAINERS[type(comp)](comp, grid, e) + _cap_note(comp, grid, e)
        paid_before = e.to_date - e.payout
        explain = (explain + "; earned to date " + _grid_money(e.to_date, r, k)
                   + ", paid before " + _grid_money(paid_before, r, k)
                   + ", paid this period " + _grid_money(e.payout, r, k) + ".")
        att = (np.array([float(v) for v in e.attainment.ravel()]) if e.attainment is not None
               else np.full(r * k, np.nan))
        frames.append(pd.DataFrame({
            "rep_id": np.repeat(grid.rep_ids, k),
            "period_index": np.tile(np.arange(k), r),
            "component": comp.id,
            "attainment": np.round(att, 6),
            "earnings_to_date_cents": e.to_date.ravel(),
            "amount_cents": e.payout.ravel(),
            "explain": explain.ravel().astype(str),
        }))
    if (grid.draw > 0).any():
        total = sum_cents(np.stack([e.payout for e in earned.values()]), axis=0,
                          source="payouts", what="a rep's earnings in a period")
        adjust, balance = apply_draws(grid, total)
        has = np.repeat(grid.draw > 0, k)
        kind = np.where(grid.draw_recoverable, "Recoverable", "Non-recoverable")[:, None]
        draw_txt = _grid_money(np.repeat(grid.draw[:, None], k, 1), r, k)
        earned_txt = _grid_money(total, r, k)
        note = np.where(adjust > 0, "topped up by " + _grid_money(adjust, r, k),
                        np.where(adjust < 0, "recovered " + _grid_money(-adjust, r, k)
                                 + " of the balance", "no adjustment"))
        explain = (kind + " draw of " + draw_txt + " per period: earnings " + earned_txt
                   + ", " + note + "; balance to recover " + _grid_money(balance, r, k) + ".")
        explain = np.where(grid.days_employed > 0, explain, "Not employed in this period: no draw.")
        frames.append(pd.DataFrame({
            "rep_id": np.repeat(grid.rep_ids, k),
            "period_index": np.tile(np.arange(k), r),
            "component": "draw",
            "attainment": np.nan,
            "earnings_to_date_cents": np.cumsum(adjust, axis=1).ravel(),
            "amount_cents": adjust.ravel(),
            "explain": explain.ravel().astype(str),
        })[has])
    order = {c.id: i for i, c in enumerate(plan.components)} | {"draw": len(plan.components)}
    payouts = pd.concat(frames, ignore_index=True)
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
        payouts["amount_cents"].to_numpy(np.int64), source="payouts", what="the total payout"))}
    return Result(plan=plan, periods=periods, payouts=payouts, credits=credits,
                  attainment=attainment, reps=reps, summary=summary)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` (Arrow's multi-key sort: fast on string columns)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.Table.from_pandas(frame[keys], preserve_index=False)
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]).to_numpy()
    return frame.take(order).reset_index(drop=True)


def _grid_money(cents: np.ndarray, r: int, k: int) -> np.ndarray:
    return np.array(format_money(np.asarray(cents).ravel()).tolist(), dtype=object).reshape(r, k)


# ----------------------------------------------------------------------------- what-ifs


class Prepared:
    """A plan measured once on its inputs, for fast what-ifs on scaled credit.

    ``costs(scale)`` reruns every earner in float64 with per-rep credit multipliers, for
    many draws at once (no loop over draws or reps). Figures are float cents, each payout
    line rounded; at ``scale=1`` they equal :func:`calculate`'s total.
    """

    def __init__(self, plan: Plan, inputs: Inputs):
        self.plan = plan
        self.grid, _, _ = measure(plan, inputs)
        earn(self.grid, EXACT)  # validates (zero quotas etc.) exactly as calculate would

    @property
    def rep_ids(self) -> np.ndarray:
        return self.grid.rep_ids

    def costs(self, scale: np.ndarray | float) -> np.ndarray:
        """Total payout in cents per draw; ``scale`` is (D, R) per-rep multipliers or (D,)."""
        s = np.asarray(scale, dtype=np.float64)
        if s.ndim == 0:
            s = s[None]
        if s.ndim == 1:
            s = np.broadcast_to(s[:, None], (len(s), len(self.rep_ids)))
        earned = earn(self.grid, FAST, s)
        total = sum(e.payout for e in earned.values())
        if (self.grid.draw > 0).any():
            adjust, _ = apply_draws(self.grid, total)
            total = total + adjust
        return total.sum(axis=(-2, -1)).astype(np.float64)


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
    p = result.payouts
    payouts = pd.DataFrame({
        "rep_id": p["rep_id"],
        "period_start": dates(p["period_start"]),
        "period": p["period"],
        "component": p["component"],
        "attainment": _attainment_text(p["attainment"].to_numpy(np.float64)),
        "earnings_to_date": np.asarray(money(p["earnings_to_date_cents"])),
        "amount": np.asarray(money(p["amount_cents"])),
        "explain": p["explain"],
    })
    c = result.credits
    credits = pd.DataFrame({
        "deal_id": c["deal_id"],
        "rep_id": c["rep_id"],
        "credit_date": dates(c["credit_date"]),
        "amount": np.asarray(money(c["amount_cents"])),
        "rule": c["rule"],
    })
    return payouts, credits


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


def write_outputs(result: Result, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write ``payouts`` and ``credits`` (csv or parquet) into ``out_dir``, atomically."""
    if fmt not in ("csv", "parquet"):
        raise SpmkitError(f"unknown format {fmt!r}; use csv or parquet")
    payouts, credits = output_frames(result, money_as_text=fmt == "csv")
    written = []
    with atomic_dir(out_dir, kind="calc") as stage:
        for name, frame in (("payouts", payouts), ("credits", credits)):
            path = stage / f"{name}.{fmt}"
            if fmt == "csv":
                frame.to_csv(path, index=False, lineterminator="\n")
            else:
                import pyarrow.parquet as pq

                src = result.payouts if name == "payouts" else result.credits
                money = ({"earnings_to_date": src["earnings_to_date_cents"],
                          "amount": src["amount_cents"]} if name == "payouts"
                         else {"amount": src["amount_cents"]})
                pq.write_table(_parquet_table(frame, money), path)
            written.append(Path(out_dir) / path.name)
    return written
