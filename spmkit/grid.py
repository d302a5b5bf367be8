"""The rep x period grid and the arithmetic every component's earner shares.

The rows engine (:func:`spmkit.payout.measure`) reduces credit lines to dense arrays over
payees (R) and periods (K): quotas, target incentives, days employed, draws and each
component's measures.  A component's earner (``Component.earn``) turns them into
earnings to date and payouts, vectorized over reps; the helpers here hold the rules that
are common to several component types: windows (period or year to date), caps and the
YTD true-up (rules 7 and 8), the zero-quota check (rule 3), period targets (rule 6).

The earners work on any numeric array: exact 34-digit :class:`~decimal.Decimal` object
arrays for payroll figures (``EXACT``), or float64 arrays with extra leading axes for
thousands of what-ifs at once (``FAST``, used by sensitivity and Monte Carlo).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from spmkit.errors import InputError, Problem
from spmkit.money import (
    CONTEXT,
    CentsOverflowError,
    checked_cumsum,
    format_money,
    overflow_problem,
    round_cents,
    sum_cents,
)
from spmkit.periods import Periods

if TYPE_CHECKING:  # pragma: no cover
    from spmkit.components.base import Component
    from spmkit.plan.model import Plan


class Num:
    """Numeric mode: exact Decimal object arrays, or float arrays for what-ifs.

    ``dtype`` is the float type of the fast modes; ``cents`` says whether each payout line
    is rounded to the cent (as :func:`spmkit.money.round_cents` does) or left a float
    estimate (:data:`ESTIMATE`).
    """

    def __init__(self, exact: bool, dtype: Any = np.float64, cents: bool = True):
        self.exact = exact
        self.dtype = np.dtype(dtype)
        self.cents = cents

    def arr(self, values: Any) -> np.ndarray:
        a = np.asarray(values)
        if not self.exact:
            if self.cents:
                return a.astype(self.dtype)
            return a.astype(self.dtype, copy=False)  # estimates never write into it
        if a.dtype == object:
            return a
        if np.issubdtype(a.dtype, np.integer):
            flat = [Decimal(v) for v in a.ravel().tolist()]
        else:
            flat = [Decimal(repr(float(v))) for v in a.ravel().tolist()]
        return np.array(flat, dtype=object).reshape(a.shape)

    def const(self, value: Decimal | int) -> Any:
        return Decimal(value) if self.exact else float(value)

    def full(self, n: int, value: Decimal | int) -> np.ndarray:
        return np.full(n, self.const(value), dtype=object if self.exact else self.dtype)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.arr(np.zeros(shape, dtype=np.int64))

    def div(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a / b where b != 0, else 0."""
        if not self.exact:  # no broadcast copies: the divisor is usually (R, K)
            a, b = np.asarray(a, dtype=self.dtype), np.asarray(b, dtype=self.dtype)
            nz = b != 0
            if nz.all():
                return a / b
            out = a / np.where(nz, b, 1.0)
            out *= nz  # 0 where b is 0 (a finite: never inf x 0)
            return out
        a, b = np.broadcast_arrays(a, b)
        nz = b != 0
        safe = np.where(nz, b, self.const(1))
        return np.where(nz, a / safe, self.const(0))


EXACT = Num(True)
FAST = Num(False)
#: Monte Carlo estimates: float32 and payout lines not rounded to the cent (each line is
#: within half a cent of the rounded one, and the rounding errors average out over lines).
ESTIMATE = Num(False, np.float32, cents=False)


@dataclass(frozen=True)
class Grid:
    """Everything measured for one plan, as dense arrays over payees (R) and periods (K).

    Money is int64 cents.  ``measures[component_id][name]`` is one of a component's
    measures per period, as its ``measures()`` description asked (``"value"`` is the one
    attainment is computed on).
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
    measures: Mapping[str, Mapping[str, np.ndarray]]
    quota_source: str = "quotas"
    #: Named quotas (``quota: NAME``), cents per payee and period.
    named_quotas: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: Days the plan pays each payee in each period (effective dating), or ``None``: all.
    in_force: np.ndarray | None = None
    #: With ``in_force``: the quotas before proration by those days (``None`` key: the
    #: unnamed quota), whose shares spread the target incentive over periods (rule 6).
    full_quotas: Mapping[str | None, np.ndarray] | None = None

    #: Figures that do not depend on the measures (quotas, targets, rates, caps), kept
    #: across what-if calls on the same grid by :class:`spmkit.payout.Prepared`.
    cache: dict | None = field(default=None, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rep_ids), self.periods.count

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()``, kept under ``key`` when the grid carries a cache."""
        if self.cache is None:
            return compute()
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def measure(self, component_id: str, name: str = "value") -> np.ndarray:
        """One measure of a component, (R, K) int64."""
        return self.measures[component_id][name]

    def year_target(self, num: Num) -> np.ndarray:
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


class ScaledMeasures(Mapping):
    """One component's measures times a (D, R, K) path, each computed when first read
    (an earner reads only the measures it needs)."""

    def __init__(self, values: Mapping[str, np.ndarray], scale: np.ndarray):
        self._values, self._scale, self._done = values, scale, {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._done:
            self._done[name] = self._values[name] * self._scale
        return self._done[name]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def scaled(grid_values: np.ndarray, num: Num, scale: np.ndarray | None) -> np.ndarray:
    """Grid values (R, K) as numbers, times per-rep scale (..., R) in fast mode."""
    values = num.arr(grid_values)
    if scale is None:
        return values
    return values * scale[..., None]


def windows(values: np.ndarray, basis: str) -> np.ndarray:
    """Per period (``period``) or cumulative from the start of the year (``ytd``)."""
    if basis != "ytd":
        return values
    if values.dtype.kind == "f":
        return running(values)
    if values.dtype != np.int64:
        return np.cumsum(values, axis=-1)
    return cumsum_cents(values, "a year-to-date sum")


def running(values: np.ndarray) -> np.ndarray:
    """Running float sums over periods (the last axis), added in the order of
    ``np.cumsum`` but a period at a time: numpy's cumsum over a short last axis is slow."""
    out = np.array(values, copy=True)
    for k in range(1, out.shape[-1]):  # periods, not reps
        out[..., k] += out[..., k - 1]
    return out


def cumsum_cents(values: np.ndarray, what: str, source: str = "payouts") -> np.ndarray:
    """Running sums of cents over periods; beyond int64 is an error, never a wrapped number."""
    out, over = checked_cumsum(values, axis=-1)
    if over.any():
        raise CentsOverflowError(overflow_problem(source, what))
    return out


def cap_cents(comp: Component, grid: Grid) -> np.ndarray | None:
    """Each payee's plan-year cap for a component, in cents (None when uncapped)."""
    if comp.cap is None:
        return None
    if comp.cap.amount is not None:
        cents = int(CONTEXT.quantize(comp.cap.amount * 100, Decimal(1)))
        return np.full(len(grid.rep_ids), cents, dtype=np.int64)
    with decimal.localcontext(CONTEXT):
        return round_cents(grid.year_target(EXACT) * (comp.cap.ti_multiple * comp.weight))


def pay(comp: Component, grid: Grid, earnings: np.ndarray, basis: str,
        num: Num | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rules 7 and 8: apply caps and the YTD true-up; return (earnings to date, payout) cents.

    With ``num`` = :data:`ESTIMATE` (``cents`` false) the figures stay float estimates,
    every line unrounded (the same rules, without the cent)."""
    if num is not None and not num.cents:
        return _pay_estimate(comp, grid, earnings, basis, num)
    cap = cap_cents(comp, grid)
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
        return cumsum_cents(lines, f"the earnings to date of component {comp.id!r}"), lines
    paid = np.zeros(lines.shape[:-1], dtype=np.int64)
    out = np.empty_like(lines)
    for k in range(lines.shape[-1]):  # periods, not reps
        out[..., k] = np.minimum(lines[..., k], cap - paid)
        paid = paid + out[..., k]
    return cumsum_cents(out, f"the earnings to date of component {comp.id!r}"), out


def _pay_estimate(comp: Component, grid: Grid, earnings: np.ndarray, basis: str,
                  num: Num) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pay` on float estimates: the same caps and true-up, no line rounded."""
    capn = grid.memo(("cap", comp.id, num.dtype.str), lambda: None if comp.cap is None
                     else cap_cents(comp, grid).astype(num.dtype))
    earnings = num.arr(earnings)
    if basis == "ytd":
        if capn is not None:  # as (R, K): numpy is slow broadcasting over a short axis
            capk = np.ascontiguousarray(np.broadcast_to(capn[:, None], grid.shape))
        to_date = earnings if capn is None else np.minimum(earnings, capk)
        to_date = np.ascontiguousarray(to_date)
        payout = np.empty_like(to_date)  # the change from the period before, cell by cell
        flat, done = payout.reshape(-1), to_date.reshape(-1)
        np.subtract(done[1:], done[:-1], out=flat[1:])
        payout[..., 0] = to_date[..., 0]  # the first period has nothing before it
        return to_date, payout
    if capn is None:
        return running(earnings), earnings
    paid = np.zeros(earnings.shape[:-1], dtype=num.dtype)
    out = np.empty_like(earnings)
    for k in range(earnings.shape[-1]):  # periods, not reps
        np.minimum(earnings[..., k], capn - paid, out=out[..., k])
        paid += out[..., k]
    return running(out), out


def check_quota(comp: Component, grid: Grid, measure: np.ndarray, quota: np.ndarray) -> None:
    """Rule 3: credit against a zero quota is an error, not infinite attainment."""
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


def period_targets(comp: Component, grid: Grid, num: Num) -> np.ndarray:
    """Rule 6: annual TI x weight x (period quota / annual quota), prorated by days employed."""
    quota = comp.quota_of(grid)
    if grid.full_quotas is not None:  # shares of the year, before proration by plan days
        quota = grid.full_quotas[comp.quota_name()]
    annual = quota.sum(axis=1, keepdims=True)
    k = grid.periods.count
    share = num.div(num.arr(quota), num.arr(np.broadcast_to(annual, quota.shape)))
    even = num.arr(np.ones(quota.shape, dtype=np.int64)) / num.const(k)
    share = np.where(np.broadcast_to(annual, quota.shape) != 0, share, even)
    prorate = num.arr(grid.days_employed) / num.arr(np.broadcast_to(grid.periods.days(),
                                                                    quota.shape))
    ti = num.arr(grid.target_incentive)[:, None] * num.const(comp.weight)
    return ti * share * prorate


# ----------------------------------------------------------------------------- wording


def pct_text(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Fractions as ``12.3%`` text, shaped as ``shape`` (object array)."""
    return np.array([f"{float(v) * 100:.1f}%" for v in np.ravel(values)],
                    dtype=object).reshape(shape)


def rate_text(rate: Any) -> str:
    """A rate as a percentage: ``8%``, ``12.5%``."""
    d = Decimal(rate) * 100
    text = format(d.normalize(), "f") if d == d.to_integral_value() else f"{float(d):.4g}"
    return f"{text}%"


def money_grid(cents: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Cents as ``1,234.56`` text, shaped as ``shape`` (object array)."""
    return np.array(format_money(np.asarray(cents).ravel()).tolist(),
                    dtype=object).reshape(shape)


# ----------------------------------------------------------------------------- links


def measure_of(grid: Grid, num: Num, scale: np.ndarray | None, component_id: str,
               window: str) -> np.ndarray:
    """Another component's value measure for a window, in plan units (currency or deals)."""
    comp = grid.plan.component(component_id)
    values = scaled(windows(grid.measure(component_id), window), num, scale)
    return values / num.const(comp.unit)


def attainment_of(grid: Grid, num: Num, scale: np.ndarray | None, component_id: str,
                  window: str) -> np.ndarray:
    """Another component's attainment for a window (``period`` or ``ytd``): its measure over
    its quota for the same window (0 without a quota), as gates and modifiers read it."""
    comp = grid.plan.component(component_id)
    values = scaled(windows(grid.measure(component_id), window), num, scale)
    quota = grid.memo(("quota units", component_id, window, num.dtype.str, num.cents),
                      lambda: comp.quota_units(windows(comp.quota_of(grid), window), num))
    return num.div(values, quota)
