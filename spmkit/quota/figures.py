"""Figures for the quota-setting notebook (matplotlib; each reads only and returns its Axes)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["plot_forecast", "plot_attainment_bands"]


def plot_forecast(forecast_frame: pd.DataFrame, ax: Any = None) -> Any:
    """Monthly actual sales and the forecast with its prediction interval.

    ``forecast_frame``: indexed by month; ``actual``, ``mean``, ``pi_lower``, ``pi_upper``
    in cents (as :attr:`spmkit.quota.QuotaProposal.forecast_frame`).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    f = forecast_frame / 100
    ax.plot(f.index, f["actual"], color="0.2", label="actual")
    ax.plot(f.index, f["mean"], color="C0", label="forecast")
    ax.fill_between(f.index, f["pi_lower"].astype(float), f["pi_upper"].astype(float),
                    color="C0", alpha=0.2, label="prediction interval")
    ax.set_ylabel("sales per month")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.legend(loc="upper left")
    return ax


def plot_attainment_bands(bands: pd.DataFrame, ax: Any = None) -> Any:
    """Reps per attainment band (``band``, ``reps``), the at-quota bands shaded darker."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    from spmkit.report.figures import mpl_text

    colors = ["C1" if b in ("<50%", "50-75%", "75-100%") else "C0" for b in bands["band"]]
    x = range(len(bands))
    ax.bar(x, bands["reps"], color=colors)
    ax.set_xticks(x, [mpl_text(b) for b in bands["band"]])
    ax.set_xlabel("replayed attainment")
    ax.set_ylabel("reps")
    return ax
