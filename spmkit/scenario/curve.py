"""Pay curves: what a plan pays a typical rep at each level of attainment.

The curve is measured, not re-implemented: :func:`pay_curve` builds synthetic inputs (one
rep per attainment point) and runs them through the engine, :func:`spmkit.payout.calculate`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from fractions import Fraction

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.money import format_cents, round_cents
from spmkit.payout import calculate
from spmkit.periods import plan_periods
from spmkit.plan import Plan
from spmkit.tables import Inputs, load_inputs

__all__ = ["DEFAULT_CURVE_QUOTA_CENTS", "DEFAULT_CURVE_TARGET_CENTS", "pay_curve"]

#: Annual target incentive of the synthetic rep when none is given: 100,000.00.
DEFAULT_CURVE_TARGET_CENTS = 10_000_000
#: Annual quota of the synthetic rep when none is given: 1,000,000.00.
DEFAULT_CURVE_QUOTA_CENTS = 100_000_000


def _curve_plan(plan: Plan) -> Plan | None:
    """The plan's components that pay by attainment, with the components their gates and
    modifiers read (None when none pays by attainment)."""
    wanted = {c.id for c in plan.components if c.uses_attainment}
    if not wanted:
        return None
    wanted |= {ref for c in plan.components if c.id in wanted for ref in c.references()}
    keep = tuple(c for c in plan.components if c.id in wanted)
    if len(keep) == len(plan.components):
        return plan
    return plan.model_copy(update={"components": keep})


def _deal_attributes(plan: Plan) -> dict[str, str]:
    """Attribute values that pass the component filters (a value common to all if possible)."""
    wanted: dict[str, list[tuple[str, ...]]] = {}
    for comp in plan.components:
        for col, values in (comp.filter or {}).items():
            wanted.setdefault(col, []).append(values)
    out = {}
    for col, lists in wanted.items():
        common = [v for v in lists[0] if all(v in other for other in lists[1:])]
        out[col] = common[0] if common else lists[0][0]
    return out


def pay_curve(plan: Plan, *, attainment: Sequence[float] | np.ndarray | None = None,
              target_incentive_cents: int = DEFAULT_CURVE_TARGET_CENTS,
              quota_cents: int = DEFAULT_CURVE_QUOTA_CENTS) -> pd.DataFrame:
    """What the plan pays a full-year rep at each attainment, run through the engine.

    One synthetic rep per attainment point, with the given annual target incentive and
    annual quota (phased as the plan says), employed all year, no draw.  Its credit,
    ``round(attainment x quota)`` cents, comes as one deal per payout period dated on the
    period's first day, split in proportion to the plan's quota phasing (evenly without
    one), so every period's attainment equals the annual attainment.  The deals carry
    attribute values that pass the components' filters (a value accepted by every component
    that filters on the column, when there is one).  **Components that do not pay by
    attainment are left out** (``Component.uses_attainment``; SPIFs, for instance): they
    pay per deal or window, not by attainment.

    Parameters
    ----------
    plan : Plan
    attainment : array of float, optional
        Attainment points as fractions of quota (>= 0); default ``np.linspace(0, 2, 41)``.
    target_incentive_cents, quota_cents : int
        The synthetic rep's annual target incentive and quota in cents (quota > 0).

    Returns
    -------
    DataFrame
        ``attainment`` (float, the points in the order given), ``payout_cents`` (int64,
        the engine's total for the year), ``payout_pct_of_target`` (float fraction; NaN
        when the target is 0).

    Raises
    ------
    SpmkitError
        A negative attainment point or a quota that is not positive.
    """
    points = np.asarray(np.linspace(0, 2, 41) if attainment is None else attainment,
                        dtype=np.float64).ravel()
    if not np.all(np.isfinite(points)) or (points < 0).any():
        raise SpmkitError("pay_curve: attainment points must be finite and not negative")
    if int(quota_cents) <= 0:
        raise SpmkitError(f"pay_curve: quota_cents must be positive, not {quota_cents}")
    ti = int(target_incentive_cents)
    n = len(points)
    curve_plan = _curve_plan(plan)
    if curve_plan is None or n == 0:
        payout = np.zeros(n, dtype=np.int64)
    else:
        payout = _run(curve_plan, points, ti, int(quota_cents))
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = payout / ti if ti > 0 else np.full(n, np.nan)
    return pd.DataFrame({"attainment": points, "payout_cents": payout,
                         "payout_pct_of_target": pct})


def _run(plan: Plan, points: np.ndarray, ti: int, quota: int) -> np.ndarray:
    inputs = _synthetic_inputs(plan.year_start, plan.period, plan.phasing,
                               tuple(sorted(_deal_attributes(plan).items())), plan.currency,
                               tuple(points.tolist()), ti, quota)
    result = calculate(plan, inputs)
    pay = result.payouts.groupby("rep_id")["amount_cents"].sum()
    ids = inputs.roster["rep_id"]
    return pay.reindex(pd.Index(ids)).fillna(0).to_numpy(np.int64)


@functools.lru_cache(maxsize=32)
def _synthetic_inputs(year_start: date, period: str, phasing: tuple | None,
                      attributes: tuple[tuple[str, str], ...], currency: str,
                      points: tuple[float, ...], ti: int, quota: int) -> Inputs:
    """The synthetic reps' tables, loaded once per plan shape (rates don't change them)."""
    periods = plan_periods(year_start, period)
    k = periods.count
    n = len(points)
    ids = np.array([f"CURVE{i:04d}" for i in range(n)], dtype=object)
    credit = round_cents(np.asarray(points) * float(quota)).astype(object)
    # split each rep's credit over the periods by the phasing shares, exactly: the running
    # total after period j is floor(credit x (share_0 + ... + share_j)), the last one = credit
    shares = ([Fraction(w) for w in phasing] if phasing is not None
              else [Fraction(1, k)] * k)
    bounds = [np.zeros(n, dtype=np.int64)]
    running = Fraction(0)
    for share in shares:  # periods, not reps
        running += share
        bounds.append(((credit * running.numerator) // running.denominator).astype(np.int64))
    cum = np.stack(bounds, axis=1)
    parts = np.diff(cum, axis=1)
    rep = np.repeat(ids, k)
    period_index = np.tile(np.arange(k), n)
    amount = parts.ravel()
    keep = amount != 0
    deals = pd.DataFrame({
        "deal_id": [f"{r}-{p:02d}" for r, p in zip(rep[keep], period_index[keep], strict=True)],
        "rep_id": rep[keep],
        "close_date": pd.DatetimeIndex(periods.starts)[period_index[keep]],
        "amount": format_cents(amount[keep]).to_numpy(),
    })
    for col, value in attributes:
        deals[col] = value
    quotas = pd.DataFrame({"rep_id": ids, "year": year_start.year, "quota": format_cents(
        np.full(n, quota, dtype=np.int64)).to_numpy()})
    roster = pd.DataFrame({
        "rep_id": ids, "name": ids, "role": "synthetic", "region": "synthetic",
        "target_incentive": format_cents(np.full(n, ti, dtype=np.int64)).to_numpy(),
    })
    return load_inputs(deals, quotas=quotas, roster=roster, currency=currency)
