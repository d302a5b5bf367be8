"""What-ifs on sales: sensitivity to a change in sales and Monte Carlo cost risk.

Both run the engine's fast path, :meth:`spmkit.payout.Prepared.costs`, which re-earns a
plan measured once with credit multipliers for many what-ifs at once (float cents, each
payout line rounded; at a multiplier of 1 it equals :func:`spmkit.payout.calculate`'s
total).  A multiplier scales a rep's credit lines as measured, so it stands for scaling
the rep's deals without re-rounding each scaled deal to the cent (a difference of cents).
Per-deal SPIFs scale with the multiplier too, as if the *number* of deals moved with sales;
:func:`scale_sales` followed by :func:`spmkit.payout.calculate` instead keeps the deal count
and scales the amounts, so the two differ by the SPIF's share of the change.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.money import mul_div_round
from spmkit.payout import Prepared, prepare
from spmkit.plan import Plan
from spmkit.tables import Inputs

__all__ = ["monte_carlo", "risk_summary", "scale_sales", "sensitivity"]


def scale_sales(inputs: Inputs, factor: float) -> Inputs:
    """The same inputs with every deal amount multiplied by ``factor``.

    Each amount is rounded to the cent, half away from zero, exactly (``factor`` is taken
    at its shortest decimal form, so 1.1 means 11/10).  Other tables are unchanged; the
    given ``inputs`` are not modified.

    Parameters
    ----------
    inputs : Inputs
    factor : float
        Multiplier, >= 0 (e.g. 1.1 for 10% more sales).

    Returns
    -------
    Inputs
        With ``deals.amount_cents`` (int64) scaled.
    """
    if not np.isfinite(factor) or factor < 0:
        raise SpmkitError(f"scale_sales: factor must be a number >= 0, not {factor!r}")
    frac = Fraction(repr(float(factor)))
    deals = inputs.deals.copy()
    deals["amount_cents"] = mul_div_round(deals["amount_cents"].to_numpy(np.int64),
                                          frac.numerator, frac.denominator)
    return dataclasses.replace(inputs, deals=deals)


def _prepared(plan: Plan, inputs: Inputs, prepared: Prepared | None) -> Prepared:
    return prepare(plan, inputs) if prepared is None else prepared


def _revenue(prepared: Prepared) -> np.ndarray:
    """Each payee's plan-year credit in cents (R,), as the engine measured it."""
    return prepared.grid.credit.sum(axis=1).astype(np.int64)


def sensitivity(plan: Plan, inputs: Inputs, changes: np.ndarray | None = None, *,
                prepared: Prepared | None = None) -> pd.DataFrame:
    """Total payout and cost of sales if every rep's sales moved by the same percentage.

    Parameters
    ----------
    plan : Plan
    inputs : Inputs
    changes : array of float, optional
        Changes in sales as fractions (-0.1 = 10% less); default
        ``np.linspace(-0.3, 0.3, 13)``.  Each must be >= -1.
    prepared : Prepared, optional
        ``spmkit.payout.prepare(plan, inputs)`` when the caller already has it.

    Returns
    -------
    DataFrame
        ``sales_change`` (float), ``total_payout_cents`` (int64), ``revenue_cents`` (int64:
        credited revenue x (1 + change), rounded), ``cost_of_sales`` (float, NaN without
        revenue); one row per change, in the order given.
    """
    ch = np.asarray(np.linspace(-0.3, 0.3, 13) if changes is None else changes,
                    dtype=np.float64).ravel()
    if not np.all(np.isfinite(ch)) or (ch < -1).any():
        raise SpmkitError("sensitivity: changes must be finite fractions >= -1")
    prep = _prepared(plan, inputs, prepared)
    costs = np.rint(prep.costs(1.0 + ch)).astype(np.int64) if len(ch) else np.zeros(0, np.int64)
    base = int(_revenue(prep).sum())
    revenue = np.rint(base * (1.0 + ch)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(revenue != 0, costs / np.where(revenue != 0, revenue, 1), np.nan)
    return pd.DataFrame({"sales_change": ch, "total_payout_cents": costs,
                         "revenue_cents": revenue, "cost_of_sales": cos})


def _period_weights(credit: np.ndarray) -> np.ndarray:
    """Each period's share of all credit in the year (even shares when there is none)."""
    totals = np.asarray(credit, dtype=np.float64).sum(axis=0)
    whole = totals.sum()
    if whole <= 0 or (totals < 0).any():
        return np.full(len(totals), 1.0 / max(len(totals), 1))
    return totals / whole


def performance_pool(credit: np.ndarray, quota: np.ndarray | None = None) -> np.ndarray:
    """The empirical performance ratios that :func:`monte_carlo` resamples.

    Parameters
    ----------
    credit : ndarray (R, K)
        Each payee's credit per payout period, in cents.
    quota : ndarray (R, K), optional
        Quotas, used only with one period.

    Returns
    -------
    ndarray
        With two or more periods: for every rep with positive credit and every period with
        credit, the rep's credit in the period over what the rep would have sold in it with
        the year's common seasonality (rep's annual credit x the period's share of all
        credit) -- how much a rep's period ran above or below its own norm.  With one
        period (annual plans): every rep's attainment (credit / quota; credit alone when no
        rep has a quota) over the mean.  Ratios are rescaled to average exactly 1; an
        empty pool is ``[1.0]``.
    """
    c = np.asarray(credit, dtype=np.float64)
    if c.ndim != 2 or c.size == 0:
        return np.ones(1)
    pool = np.zeros(0)
    if c.shape[1] >= 2:
        w = _period_weights(c)
        annual = c.sum(axis=1)
        expected = annual[:, None] * w[None, :]
        ok = (annual[:, None] > 0) & (expected > 0)
        pool = c[ok] / expected[ok]
    if not len(pool):
        annual = c.sum(axis=1)
        if quota is not None:
            q = np.asarray(quota, dtype=np.float64).sum(axis=1)
            if (q > 0).any():
                annual = annual[q > 0] / q[q > 0]
        pool = annual
    mean = pool.mean() if len(pool) else 0.0
    if not np.isfinite(mean) or mean <= 0:
        return np.ones(1)
    return pool / mean


def monte_carlo(plan: Plan, inputs: Inputs, *, draws: int = 2000, seed: int = 0,
                prepared: Prepared | None = None) -> pd.DataFrame:
    """Distribution of the plan's total cost when each rep's year could turn out differently.

    Model: a rep's year is its payout periods.  In each draw, each period of each rep runs
    at a ratio to the rep's own norm resampled (with replacement) from the pooled empirical
    ratios of :func:`performance_pool` -- the period-to-period variation of reps' own
    credit in the data, with the seasonality common to all reps removed.  A rep's credit
    multiplier for the draw is the mean of its K drawn ratios weighted by each period's
    share of the year's credit.  For annual plans (K = 1) the multiplier is resampled from
    reps' attainment relative to the mean attainment instead.  Multipliers average 1 (sales
    volume as observed) and are floored at 0; draws are independent across reps and draws.
    The same ``seed`` and inputs give the same multipliers for every plan (common random
    numbers, so plans are compared on the same simulated years).

    Parameters
    ----------
    plan : Plan
    inputs : Inputs
    draws : int
        Number of simulated years (>= 1).
    seed : int
        Seed of the :func:`numpy.random.default_rng` generator.
    prepared : Prepared, optional
        ``spmkit.payout.prepare(plan, inputs)`` when the caller already has it.

    Returns
    -------
    DataFrame
        One row per draw: ``draw`` (int64, 0-based), ``total_payout_cents`` (int64),
        ``revenue_cents`` (int64, credited revenue in the draw), ``cost_of_sales`` (float).
    """
    if int(draws) < 1:
        raise SpmkitError(f"monte_carlo: draws must be at least 1, not {draws}")
    prep = _prepared(plan, inputs, prepared)
    grid = prep.grid
    r, k = grid.credit.shape
    pool = performance_pool(grid.credit, grid.quota)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(pool), size=(int(draws), r, k))
    weights = _period_weights(grid.credit) if k >= 2 else np.ones(1)
    scale = np.maximum(pool[picks] @ weights, 0.0)
    costs = np.rint(prep.costs(scale)).astype(np.int64) if r else np.zeros(int(draws), np.int64)
    revenue = np.rint(scale @ _revenue(prep).astype(np.float64)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(revenue != 0, costs / np.where(revenue != 0, revenue, 1), np.nan)
    return pd.DataFrame({"draw": np.arange(int(draws), dtype=np.int64),
                         "total_payout_cents": costs, "revenue_cents": revenue,
                         "cost_of_sales": cos})


def risk_summary(mc: pd.DataFrame) -> pd.Series:
    """P10, P50 and P90 of the simulated total payout.

    Parameters
    ----------
    mc : DataFrame
        :func:`monte_carlo` output (needs ``total_payout_cents``).

    Returns
    -------
    Series
        ``p10, p50, p90``: total payout in cents (int, linear-interpolated percentiles
        rounded half away from zero).
    """
    values = mc["total_payout_cents"].to_numpy(np.float64)
    if not len(values):
        raise SpmkitError("risk_summary: the simulation has no draws")
    p = np.percentile(values, [10, 50, 90])
    cents = (np.sign(p) * np.floor(np.abs(p) + 0.5)).astype(np.int64)
    return pd.Series({"p10": int(cents[0]), "p50": int(cents[1]), "p90": int(cents[2])},
                     dtype=object, name="total_payout_cents")
