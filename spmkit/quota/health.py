"""Quota health: how proposed quotas would fare in the plan year.

Attainment here is a rep's credited sales in the plan year divided by their proposed
annual quota (the sum of their period quotas).  Two bases:

- ``actual`` (a backtest, used when the deals cover the plan year): the plan year's own
  sales: "had we set these quotas, who would have made them?".  Every rep with a quota
  is counted.
- ``simulated`` (otherwise): plan years drawn from the company forecast
  (:class:`spmkit.quota.forecast.PlanYearForecast`) and each rep's year-over-year spread
  (:func:`simulate_attainment`).  Reps with no sales in the history year (new hires) are
  left out and counted separately.  The share of reps at quota is the mean over the
  simulated years, shown with its spread across them ("62% +/- 4 points").

(Replaying the prior year against quotas built from it is circular -- under growth it
gives 1 / (1 + growth) by construction -- and is not a health check.)  The figures are
set beside the norm from ``published-examples.md``: 60-70% of reps at or above quota is
healthy, above 85% too easy, below 45% too hard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from spmkit.quota.history import rep_history

__all__ = ["BANDS", "DEFAULT_REP_SPREAD", "NORM", "QuotaHealth", "attainment_bands",
           "norm_verdict", "quota_health", "region_fairness", "replay_attainment",
           "quota_movers", "replay_basis", "rep_spread", "simulate_attainment"]

#: Attainment bands, the same labels as the scenario reports.
BANDS = ("<50%", "50-75%", "75-100%", "100-125%", "125-150%", ">=150%")
_EDGES = np.array([0.5, 0.75, 1.0, 1.25, 1.5])

#: Spread (standard deviation of log year-over-year change) of a rep's sales around the
#: company's, used when the deals hold no two full years to measure it: a stated
#: assumption of this project, not a published norm.
DEFAULT_REP_SPREAD = 0.30
#: Fewest reps with sales in both years for :func:`rep_spread` to measure the spread.
MIN_SPREAD_REPS = 10

#: The norm for the share of reps at or above quota.
NORM = {"healthy_low": 0.60, "healthy_high": 0.70, "too_easy_above": 0.85,
        "too_hard_below": 0.45}


def norm_verdict(share_at_or_above_100: float) -> str:
    """``healthy`` (60-70% at quota), ``too easy`` (>85%), ``too hard`` (<45%), or
    ``easy side`` / ``hard side`` in between; ``n/a`` for NaN."""
    s = float(share_at_or_above_100)
    if not np.isfinite(s):
        return "n/a"
    if s > NORM["too_easy_above"]:
        return "too easy"
    if s < NORM["too_hard_below"]:
        return "too hard"
    if NORM["healthy_low"] <= s <= NORM["healthy_high"]:
        return "healthy"
    return "easy side" if s > NORM["healthy_high"] else "hard side"


def replay_basis(deals: pd.DataFrame, year_start: pd.Timestamp) -> str:
    """``actual`` when the deals reach into the last month of the plan year, else
    ``simulated``."""
    last = pd.to_datetime(deals["close_date"]).max()
    year_end = pd.Timestamp(year_start) + pd.DateOffset(years=1)
    return ("actual" if pd.notna(last) and last >= year_end - pd.DateOffset(months=1)
            else "simulated")


def rep_spread(deals: pd.DataFrame, history_anchor: pd.Timestamp) -> tuple[float, str]:
    """How much a rep's year differs from the company's: the standard deviation of the
    log change of each rep's sales from the year before the history year to the history
    year, around the median change (robust: the median absolute deviation, scaled to a
    normal standard deviation by :func:`scipy.stats.median_abs_deviation`).

    Parameters
    ----------
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.
    history_anchor : Timestamp
        The first day after the history year.

    Returns
    -------
    (spread, source): the spread, and how it was found (``"N reps with sales in
    YYYY and YYYY"``, or the stated default :data:`DEFAULT_REP_SPREAD` when fewer than
    :data:`MIN_SPREAD_REPS` reps sold in both years).
    """
    anchor = pd.Timestamp(history_anchor)
    last = rep_history(deals, anchor)
    before = rep_history(deals, anchor - pd.DateOffset(years=1))
    both = pd.concat([before.rename("a"), last.rename("b")], axis=1, join="inner")
    both = both[(both["a"] > 0) & (both["b"] > 0)]
    if len(both) < MIN_SPREAD_REPS:
        return DEFAULT_REP_SPREAD, (f"default {DEFAULT_REP_SPREAD:.2f} (fewer than "
                                    f"{MIN_SPREAD_REPS} reps sold in two full years)")
    change = np.log(both["b"].to_numpy(np.float64) / both["a"].to_numpy(np.float64))
    spread = float(median_abs_deviation(change, scale="normal"))
    years = f"{anchor.year - 2} and {anchor.year - 1}"
    return spread, f"{len(both)} reps with sales in {years}"


def simulate_attainment(history_cents: np.ndarray, quota_cents: np.ndarray,
                        company_totals: np.ndarray, company_history_cents: float, *,
                        spread: float, seed: int = 0) -> np.ndarray:
    """Simulated plan-year attainment, one row per rep and one column per simulated year.

    A rep's plan-year sales = their history-year sales x the company's simulated growth
    (simulated plan-year total / the company's history-year total) x a lognormal factor
    of mean one and log standard deviation ``spread``, drawn independently per rep and
    year.

    Parameters
    ----------
    history_cents, quota_cents : ndarray (reps,)
        Each rep's history-year sales and annual quota, cents.
    company_totals : ndarray (draws,)
        Simulated company plan-year totals, cents (:attr:`PlanYearForecast.totals`).
    company_history_cents : float
        The company's sales in the history year, cents (positive).
    spread : float
        See :func:`rep_spread`.
    seed : int

    Returns
    -------
    ndarray (reps, draws) of attainment (NaN where the quota is 0).
    """
    h = np.asarray(history_cents, dtype=np.float64)[:, None]
    q = np.asarray(quota_cents, dtype=np.float64)[:, None]
    growth = np.asarray(company_totals, dtype=np.float64)[None, :] / float(
        company_history_cents)
    z = np.random.default_rng([seed, 2]).standard_normal((h.shape[0], growth.shape[1]))
    sales = h * growth * np.exp(spread * z - spread**2 / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, sales / np.where(q > 0, q, 1), np.nan)


def replay_attainment(quotas: pd.DataFrame, deals: pd.DataFrame, year_start: pd.Timestamp,
                      *, basis: str = "prior") -> pd.DataFrame:
    """Each rep's prior-year credit against their proposed annual quota.

    Parameters
    ----------
    quotas : DataFrame
        ``rep_id``, ``quota_cents`` (one row per rep and period; summed per rep).
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.
    year_start : Timestamp
        First day of the plan year the quotas are for.
    basis : {"prior", "actual"}
        Replay the year before the plan year, or the plan year itself.

    Returns
    -------
    DataFrame, one row per rep: ``rep_id``, ``credit_cents``, ``quota_cents`` (int64),
    ``attainment`` (float; NaN when the quota is 0), ``band`` (str, NA when attainment
    is NaN), ``has_history`` (bool: any credit in the replayed year).
    """
    if basis not in ("prior", "actual"):
        raise ValueError(f"basis must be prior or actual, not {basis!r}")
    annual = quotas.groupby(quotas["rep_id"].astype("str"), sort=False)["quota_cents"].sum()
    replayed_year = pd.Timestamp(year_start)
    if basis == "actual":
        replayed_year = replayed_year + pd.DateOffset(years=1)
    credit = rep_history(deals, replayed_year, annual.index)
    q = annual.to_numpy(np.int64)
    c = credit.to_numpy(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        att = np.where(q > 0, c / np.where(q > 0, q, 1), np.nan)
    band_idx = np.searchsorted(_EDGES, att, side="right")
    band = pd.Series(np.asarray(BANDS, dtype=object)[np.minimum(band_idx, len(BANDS) - 1)],
                     dtype="str").where(np.isfinite(att))
    return pd.DataFrame({
        "rep_id": annual.index.astype("str"),
        "credit_cents": c,
        "quota_cents": q,
        "attainment": att,
        "band": band.to_numpy(),
        "has_history": c > 0,
    })


def attainment_bands(attainment: pd.DataFrame) -> pd.DataFrame:
    """Reps per attainment band: ``band`` (the :data:`BANDS` labels, in order), ``reps``
    (int), ``share`` (of reps with an attainment)."""
    counts = attainment["band"].value_counts().reindex(list(BANDS), fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame({"band": list(BANDS), "reps": counts.to_numpy(np.int64),
                         "share": counts.to_numpy(np.float64) / total if total else np.nan})


def region_fairness(annual: pd.DataFrame, *, tolerance: float = 0.10) -> pd.DataFrame:
    """Quota against history (and potential) by region.

    Parameters
    ----------
    annual : DataFrame
        One row per rep: ``region``, ``quota_cents``, ``history_cents``, optional
        ``potential``.
    tolerance : float
        A region is flagged when its share of quota differs from its share of history
        (or potential) by more than this fraction of the latter.

    Returns
    -------
    DataFrame, one row per region: ``region``, ``reps``, ``quota_cents``,
    ``history_cents``, ``quota_share``, ``history_share``, ``quota_to_history`` (quota /
    history), ``index_vs_history`` (quota share / history share), and with potential
    ``potential_share``, ``index_vs_potential``; ``flag`` (str, empty when fair).
    """
    cols = {"reps": ("quota_cents", "size"), "quota_cents": ("quota_cents", "sum"),
            "history_cents": ("history_cents", "sum")}
    has_potential = "potential" in annual and annual["potential"].notna().any()
    if has_potential:
        cols["potential"] = ("potential", "sum")
    g = annual.groupby("region", sort=True).agg(**cols).reset_index()
    quota_share = g["quota_cents"] / g["quota_cents"].sum()
    hist_total = g["history_cents"].clip(lower=0).sum()
    history_share = g["history_cents"].clip(lower=0) / hist_total if hist_total else np.nan
    out = g.assign(quota_share=quota_share, history_share=history_share)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["quota_to_history"] = np.where(g["history_cents"] > 0,
                                           g["quota_cents"] / g["history_cents"].where(
                                               g["history_cents"] > 0, 1), np.nan)
        out["index_vs_history"] = out["quota_share"] / out["history_share"]
    flag = pd.Series("", index=out.index, dtype="str")
    hi = out["index_vs_history"] > 1 + tolerance
    lo = out["index_vs_history"] < 1 - tolerance
    flag = flag.where(~hi, "heavier than its history").where(~lo, "lighter than its history")
    if has_potential:
        out["potential_share"] = g["potential"] / g["potential"].sum()
        out["index_vs_potential"] = out["quota_share"] / out["potential_share"]
        off = (out["index_vs_potential"] - 1).abs() > tolerance
        flag = flag.where(~off, flag.where(flag == "", flag + "; ") + "off its potential")
        out = out.drop(columns="potential")
    out["flag"] = flag.to_numpy()
    return out


def quota_movers(annual: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """The reps whose annual quota differs most from their prior-year credit.

    Parameters
    ----------
    annual : DataFrame
        ``rep_id``, ``region``, ``history_cents``, ``quota_cents``.
    top : int
        How many reps to return.

    Returns
    -------
    DataFrame: ``rep_id``, ``region``, ``history_cents``, ``quota_cents``,
    ``change_cents``, ``change_pct`` (NaN without history), sorted by the size of the
    change in cents, largest first.
    """
    out = annual[["rep_id", "region", "history_cents", "quota_cents"]].copy()
    out["change_cents"] = (out["quota_cents"] - out["history_cents"]).astype(np.int64)
    h = out["history_cents"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(h > 0, out["change_cents"].to_numpy(np.float64) / h, np.nan)
    order = np.argsort(-np.abs(out["change_cents"].to_numpy()), kind="stable")
    return out.iloc[order[:top]].reset_index(drop=True)


@dataclass(frozen=True)
class QuotaHealth:
    """Health checks of a quota proposal.

    Attributes
    ----------
    figures : dict
        ``replay_basis`` (text), ``basis`` (``actual``, ``simulated`` or ``none``),
        ``reps``, ``reps_replayed``, ``reps_without_history`` (no sales in the history
        year), ``share_at_or_above_100`` (simulated: the mean over simulated years),
        ``share_error`` (simulated: its standard deviation across simulated years; None
        for actuals), ``median_attainment``, ``verdict`` (see :func:`norm_verdict`),
        ``draws`` (simulated years, or None), ``rep_spread`` and ``rep_spread_source``
        (see :func:`rep_spread`; None for actuals), ``total_quota_cents``,
        ``forecast_cents`` (or None), ``coverage`` (total quota / forecast, or None),
        ``probability_reaching_quota`` (share of simulated plan years in which company
        sales reach the total quota, or None), ``regions_flagged``.
    attainment : DataFrame
        One row per rep: ``rep_id``, ``credit_cents`` (actuals: plan-year sales;
        simulated: history-year sales), ``quota_cents``, ``attainment`` (simulated: the
        median over simulated years), ``band``, ``has_history``, and when simulated
        ``probability_at_quota`` (share of simulated years at or above 100%).
    bands : DataFrame
        ``band``, ``reps``, ``share``: counted reps (simulated: the average over simulated
        years, rounded to whole reps).
    regions : DataFrame
        From :func:`region_fairness`.
    """

    figures: dict
    attainment: pd.DataFrame = field(repr=False)
    bands: pd.DataFrame = field(repr=False)
    regions: pd.DataFrame = field(repr=False)

    def summary_frame(self) -> pd.DataFrame:
        """The figures as a two-column frame (``measure``, ``value``)."""
        return pd.DataFrame({"measure": list(self.figures),
                             "value": [self.figures[k] for k in self.figures]})


def _simulated(quotas: pd.DataFrame, deals: pd.DataFrame, anchor: pd.Timestamp,
               plan_year: Any, seed: int, spread: float | None
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Attainment against simulated plan years (see :func:`simulate_attainment`)."""
    annual = quotas.groupby(quotas["rep_id"].astype("str"), sort=False)["quota_cents"].sum()
    history = rep_history(deals, anchor, annual.index)
    company = float(rep_history(deals, anchor).sum())
    q = annual.to_numpy(np.int64)
    h = history.to_numpy(np.int64)
    counted = (q > 0) & (h > 0)
    if spread is None:
        spread, source = rep_spread(deals, anchor)
    else:
        source = "given"
    figures: dict[str, Any] = {"draws": int(len(plan_year.totals)), "rep_spread": spread,
                               "rep_spread_source": source}
    att = np.full((len(q), len(plan_year.totals)), np.nan)
    if counted.any() and company > 0:
        att[counted] = simulate_attainment(h[counted], q[counted], plan_year.totals, company,
                                           spread=spread, seed=seed)
    at_quota = att[counted] >= 1.0
    shares = at_quota.mean(axis=0) if counted.any() else np.full(att.shape[1], np.nan)
    band_idx = np.searchsorted(_EDGES, att[counted], side="right")
    counts = np.bincount(np.minimum(band_idx, len(BANDS) - 1).ravel(),
                         minlength=len(BANDS)) / max(att.shape[1], 1)
    total = float(counts.sum())
    bands = pd.DataFrame({"band": list(BANDS), "reps": np.rint(counts).astype(np.int64),
                          "share": counts / total if total else np.nan})
    median = np.full(len(q), np.nan)
    if att.shape[1]:
        median[counted] = np.median(att[counted], axis=1)
    prob = np.where(counted, (att >= 1.0).mean(axis=1), np.nan)
    band = pd.Series(np.asarray(BANDS, dtype=object)[np.minimum(
        np.searchsorted(_EDGES, np.nan_to_num(median, nan=0.0), side="right"),
        len(BANDS) - 1)], dtype="str").where(np.isfinite(median))
    table = pd.DataFrame({"rep_id": annual.index.astype("str"), "credit_cents": h,
                          "quota_cents": q, "attainment": median, "band": band.to_numpy(),
                          "has_history": h > 0, "probability_at_quota": prob})
    figures.update({
        "share_at_or_above_100": float(np.mean(shares)) if counted.any() else float("nan"),
        "share_error": float(np.std(shares)) if counted.any() else None,
        "median_attainment": float(np.median(np.median(att[counted], axis=0)))
        if counted.any() else float("nan"),
    })
    return table, bands, figures


def quota_health(quotas: pd.DataFrame, annual: pd.DataFrame, deals: pd.DataFrame,
                 year_start: pd.Timestamp, *, forecast_cents: float | None = None,
                 plan_year: Any = None, history_anchor: pd.Timestamp | None = None,
                 basis: str = "auto", tolerance: float = 0.10, seed: int = 0,
                 spread: float | None = None) -> QuotaHealth:
    """Judge proposed quotas against plan-year sales: actual when the deals cover the plan
    year, else simulated from the forecast; and check coverage and fairness.

    Parameters
    ----------
    quotas : DataFrame
        Period quotas: ``rep_id``, ``quota_cents``.
    annual : DataFrame
        One row per rep: ``rep_id``, ``region``, ``history_cents``, ``quota_cents`` (the
        year's total), optional ``potential``.
    deals : DataFrame
        As from :func:`spmkit.tables.load_deals`.
    year_start : Timestamp
        First day of the plan year.
    forecast_cents : float, optional
        Forecast sales for the plan year, for coverage (default the mean of
        ``plan_year``).
    plan_year : PlanYearForecast, optional
        The company's simulated plan years
        (:meth:`spmkit.quota.forecast.ForecastSelection.plan_year`); without it and
        without plan-year actuals there is no health verdict (``n/a``).
    history_anchor : Timestamp, optional
        The first day after the history year (default ``year_start``).
    basis : {"auto", "actual", "simulated"}
        See the module docstring; ``auto`` picks :func:`replay_basis`.
    tolerance : float
        See :func:`region_fairness`.
    seed : int
        Seed of the reps' simulated variation.
    spread : float, optional
        A rep's spread around the company (default measured by :func:`rep_spread`).

    Returns
    -------
    QuotaHealth
    """
    if basis == "auto":
        basis = replay_basis(deals, year_start)
    if basis not in ("actual", "simulated"):
        raise ValueError(f"basis must be actual or simulated, not {basis!r}")
    anchor = pd.Timestamp(year_start if history_anchor is None else history_anchor)
    if forecast_cents is None and plan_year is not None:
        forecast_cents = float(plan_year.mean)
    total = int(quotas["quota_cents"].sum())
    extra: dict[str, Any] = {"share_error": None, "draws": None, "rep_spread": None,
                             "rep_spread_source": None}
    if basis == "actual":
        att = replay_attainment(quotas, deals, year_start, basis="actual")
        replayed = att[att["attainment"].notna().to_numpy()]
        bands = attainment_bands(replayed)
        n = len(replayed)
        share = float((replayed["attainment"] >= 1.0).mean()) if n else float("nan")
        median = float(replayed["attainment"].median()) if n else float("nan")
        without = int((~replay_attainment(quotas, deals, anchor)["has_history"]).sum())
        text = "plan-year actuals (backtest)"
    elif plan_year is not None:
        att, bands, sim = _simulated(quotas, deals, anchor, plan_year, seed, spread)
        extra.update(sim)
        share, median = sim["share_at_or_above_100"], sim["median_attainment"]
        n = int((att["has_history"] & (att["quota_cents"] > 0)).sum())
        without = int((~att["has_history"]).sum())
        text = f"simulated plan-year sales ({sim['draws']:,} years)"
    else:
        basis = "none"
        att = replay_attainment(quotas, deals, anchor)
        bands = attainment_bands(att.iloc[:0])
        n, share, median = 0, float("nan"), float("nan")
        without = int((~att["has_history"]).sum())
        text = "no forecast to simulate the plan year"
    regions = region_fairness(annual, tolerance=tolerance)
    coverage = (total / forecast_cents) if forecast_cents else None
    figures = {
        "replay_basis": text,
        "basis": basis,
        "reps": int(len(att)),
        "reps_replayed": int(n),
        "reps_without_history": without,
        "share_at_or_above_100": share,
        "share_error": extra["share_error"],
        "median_attainment": median,
        "verdict": norm_verdict(share),
        "draws": extra["draws"],
        "rep_spread": extra["rep_spread"],
        "rep_spread_source": extra["rep_spread_source"],
        "total_quota_cents": total,
        "forecast_cents": None if forecast_cents is None else int(round(forecast_cents)),
        "coverage": coverage,
        "probability_reaching_quota": (None if plan_year is None
                                       else plan_year.probability_at_least(total)),
        "regions_flagged": int((regions["flag"] != "").sum()),
    }
    return QuotaHealth(figures=figures, attainment=att, bands=bands, regions=regions)
