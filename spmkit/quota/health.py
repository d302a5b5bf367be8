"""Quota health: replay sales history against proposed quotas.

Attainment here is a rep's credited sales in a replayed year divided by their proposed
annual quota (the sum of their period quotas).  Two bases:

- ``actual`` (a backtest, used when the deals cover the plan year): the plan year's own
  sales: "had we set these quotas, who would have made them?".  Every rep with a quota
  is counted.
- ``prior``: the year before the plan year (the history the quotas came from): "at last
  year's sales, who would make these quotas?".  Reps with no prior-year sales (new
  hires) are left out and counted separately.  Under the growth method this is close to
  1 / (1 + growth) for most reps by construction.  The figures are set beside the norm from
``published-examples.md``: 60-70% of reps at or above quota is healthy, above 85% too
easy, below 45% too hard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spmkit.quota.history import rep_history

__all__ = ["BANDS", "NORM", "QuotaHealth", "attainment_bands", "norm_verdict", "quota_health",
           "region_fairness", "replay_attainment", "quota_movers", "replay_basis"]

#: Attainment bands, the same labels as the scenario reports.
BANDS = ("<50%", "50-75%", "75-100%", "100-125%", "125-150%", ">=150%")
_EDGES = np.array([0.5, 0.75, 1.0, 1.25, 1.5])

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
    """``actual`` when the deals reach into the last month of the plan year, else ``prior``."""
    last = pd.to_datetime(deals["close_date"]).max()
    year_end = pd.Timestamp(year_start) + pd.DateOffset(years=1)
    return "actual" if pd.notna(last) and last >= year_end - pd.DateOffset(months=1) else "prior"


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
        ``replay_basis``, ``reps``, ``reps_replayed``, ``reps_without_history`` (no credit
        in the replayed year),
        ``share_at_or_above_100``, ``median_attainment``, ``verdict`` (see
        :func:`norm_verdict`), ``total_quota_cents``, ``forecast_cents`` (or None),
        ``coverage`` (total quota / forecast, or None), ``regions_flagged``.
    attainment : DataFrame
        From :func:`replay_attainment`.
    bands : DataFrame
        From :func:`attainment_bands` (replayed reps only).
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


def quota_health(quotas: pd.DataFrame, annual: pd.DataFrame, deals: pd.DataFrame,
                 year_start: pd.Timestamp, *, forecast_cents: float | None = None,
                 basis: str = "auto", tolerance: float = 0.10) -> QuotaHealth:
    """Replay prior-year sales against proposed quotas and check coverage and fairness.

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
        Forecast sales for the plan year, for coverage.
    basis : {"auto", "actual", "prior"}
        Which year's sales to replay (see the module docstring); ``auto`` picks
        :func:`replay_basis`.
    tolerance : float
        See :func:`region_fairness`.

    Returns
    -------
    QuotaHealth
    """
    if basis == "auto":
        basis = replay_basis(deals, year_start)
    att = replay_attainment(quotas, deals, year_start, basis=basis)
    counted = att["attainment"].notna()
    if basis == "prior":
        counted &= att["has_history"]
    replayed = att[counted.to_numpy()]
    bands = attainment_bands(replayed)
    n = len(replayed)
    share = float((replayed["attainment"] >= 1.0).mean()) if n else float("nan")
    total = int(quotas["quota_cents"].sum())
    regions = region_fairness(annual, tolerance=tolerance)
    coverage = (total / forecast_cents) if forecast_cents else None
    figures = {
        "replay_basis": "plan-year actuals (backtest)" if basis == "actual"
        else "prior-year sales",
        "reps": int(len(att)),
        "reps_replayed": int(n),
        "reps_without_history": int((~att["has_history"]).sum()),
        "share_at_or_above_100": share,
        "median_attainment": float(replayed["attainment"].median()) if n else float("nan"),
        "verdict": norm_verdict(share),
        "total_quota_cents": total,
        "forecast_cents": None if forecast_cents is None else int(round(forecast_cents)),
        "coverage": coverage,
        "regions_flagged": int((regions["flag"] != "").sum()),
    }
    return QuotaHealth(figures=figures, attainment=att, bands=bands, regions=regions)
