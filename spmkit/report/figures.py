"""Figures for scenario reports: each ``plot_x(data, ax=None) -> Axes`` only reads its frame.

The frames come from :mod:`spmkit.scenario` (money in int64 cents, shares and attainment as
fractions).  Figures are aggregate only: no rep is named.  Industry norms are drawn where
they fit (cost of sales 3-9% of revenue; 60-70% of reps at or above quota).

Without an ``ax``, a new figure is made: with pyplot when it is already imported (as in a
notebook with the inline backend, so the figure shows in the cell's output), otherwise as a
standalone :class:`matplotlib.figure.Figure` on the Agg canvas, which touches no global
state.  Nothing here calls ``matplotlib.use``.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from spmkit.scenario.metrics import BANDS, band_index

__all__ = [
    "COST_OF_SALES_NORM",
    "QUOTA_ATTAINMENT_NORM",
    "mpl_text",
    "plot_attainment_distribution",
    "plot_pay_curves",
    "plot_payout_distribution",
    "plot_risk",
    "plot_sensitivity",
    "plot_winners_losers",
]

#: Comp cost of sales usually runs 3-9% of revenue (ZS).
COST_OF_SALES_NORM = (0.03, 0.09)
#: 60-70% of reps at or above quota is healthy (salesroadmaps.com; thecroreport.com).
QUOTA_ATTAINMENT_NORM = (0.60, 0.70)

PAYOUT_BINS = ("<50%", "50-100%", "100-150%", "150-200%", ">=200%")
_PAYOUT_EDGES = np.array([0.5, 1.0, 1.5, 2.0])
_DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1)))
_MARKERS = ("o", "s", "^", "D", "v", "P")
CHANGE_BUCKETS = ("Lose over 10%", "Lose up to 10%", "No change", "Gain up to 10%",
                  "Gain over 10%")


def mpl_text(text: object) -> str:
    """User text (a plan name, a region, a column) as matplotlib shows it, literally.

    Matplotlib reads text between two ``$`` as math: a plan named ``Plan $$`` or
    ``$\\frac{a}{b}$`` would be typeset, or fail to draw.  Every ``$`` is escaped so it shows
    as itself; call this on every user string that reaches a label, title, legend or tick
    (after any wrapping, so an escape is never split).
    """
    return str(text).replace("$", r"\$")


def _axes(ax: Axes | None, size: tuple[float, float] = (8.0, 4.5)) -> Axes:
    if ax is not None:
        return ax
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        _, new = plt.subplots(figsize=size)
        return new
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def _plans(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(plan name, rows) in order of first appearance; a frame without ``plan`` is one plan."""
    if "plan" not in frame.columns:
        return [("Plan", frame)]
    names = list(dict.fromkeys(frame["plan"].astype("str").tolist()))
    return [(n, frame[frame["plan"].astype("str") == n]) for n in names]


def _short_money(value: float) -> str:
    """Currency units (not cents) in a short form: 1,234,567 -> ``1.23M``."""
    a = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{value / div:,.3g}{suffix}"
    return f"{value:,.0f}"


def _money_axis(ax: Axes, which: str = "y") -> None:
    """Label a cents axis in currency units."""
    fmt = FuncFormatter(lambda v, _pos: _short_money(v / 100))
    (ax.yaxis if which == "y" else ax.xaxis).set_major_formatter(fmt)


def _grouped_bars(ax: Axes, labels: Sequence[str], series: list[tuple[str, np.ndarray]],
                  horizontal: bool = False, first_color: int = 0) -> None:
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series):
        pos = x - 0.4 + width * (i + 0.5)
        if horizontal:
            ax.barh(pos, values, height=width, label=mpl_text(name),
                    color=f"C{first_color + i}")
        else:
            ax.bar(pos, values, width=width, label=mpl_text(name), color=f"C{first_color + i}")
    shown = [mpl_text(label) for label in labels]
    if horizontal:
        ax.set_yticks(x, shown)
    else:
        ax.set_xticks(x, shown)
    if len(series) > 1:
        ax.legend(frameon=False)


def plot_pay_curves(pay_curves: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """One line per plan: payout as a % of target incentive at each attainment.

    Parameters
    ----------
    pay_curves : DataFrame
        ``attainment, payout_pct_of_target`` (and ``plan`` for several plans;
        ``payout_cents`` is plotted instead when no plan has a target incentive).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    use_pct = pay_curves["payout_pct_of_target"].notna().any()
    plans = _plans(pay_curves)
    for i, (name, rows) in enumerate(plans):
        rows = rows.sort_values("attainment")
        y = rows["payout_pct_of_target"] if use_pct else rows["payout_cents"]
        # curves that coincide stay distinguishable: each plan has its own dash pattern and
        # marker, markers staggered along the curve, the earlier plans drawn wider beneath
        n = max(len(rows), 1)
        ax.plot(rows["attainment"], y, label=mpl_text(name), color=f"C{i}",
                linewidth=2 + 1.5 * (len(plans) - 1 - i), linestyle=_DASHES[i % len(_DASHES)],
                marker=_MARKERS[i % len(_MARKERS)], markersize=6,
                markevery=(i % 4 * max(n // 16, 1), max(n // 4, 1)), zorder=2 + i,
                alpha=0.9)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if use_pct:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("Payout as % of target incentive")
    else:
        _money_axis(ax)
        ax.set_ylabel("Payout for the year")
    ax.set_xlabel("Quota attainment")
    ax.set_title("What a rep earns at each level of quota attainment")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    return ax


def _nice_ceil(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (> 0)."""
    if value <= 0:
        return 100.0
    base = 10.0 ** np.floor(np.log10(value))
    return float(next(m * base for m in (1, 2, 5, 10) if m * base >= value))


def plot_payout_distribution(rep_outcomes_long: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of reps by payout as a % of target incentive, one bar group per plan.

    Parameters
    ----------
    rep_outcomes_long : DataFrame
        :func:`spmkit.scenario.rep_outcomes` rows (``payout_pct_of_target``, and ``plan``
        for several plans).  Reps without a target incentive are left out; when no rep has
        one, payouts are binned by amount (five equal-width bins over all plans).

    Returns
    -------
    Axes
        ``len(bins) x plans`` bars.
    """
    ax = _axes(ax)
    data = rep_outcomes_long
    use_pct = data["payout_pct_of_target"].notna().any()
    if use_pct:
        labels: Sequence[str] = PAYOUT_BINS
        edges = _PAYOUT_EDGES
        column = "payout_pct_of_target"
    else:
        pay = data["payout_cents"].to_numpy(np.float64)
        lo, hi = (float(pay.min()), float(pay.max())) if len(pay) else (0.0, 1.0)
        # round the range out to 1-2-5 steps: the bin edges must not show the lowest or
        # highest rep's exact pay (an executive view shows no one's pay)
        lo = 0.0 if lo >= 0 else -_nice_ceil(-lo)
        hi = _nice_ceil(hi if hi > lo else lo + 100.0)
        edges = np.linspace(lo, hi, 6)[1:-1]
        bounds = np.linspace(lo, hi, 6)
        labels = [f"{_short_money(bounds[i] / 100)}-{_short_money(bounds[i + 1] / 100)}"
                  for i in range(5)]
        column = "payout_cents"
    series = []
    for name, rows in _plans(data):
        v = rows[column].dropna().to_numpy(np.float64)
        counts = np.bincount(np.searchsorted(edges, v, side="right"), minlength=len(labels))
        series.append((name, counts / len(v) if len(v) else np.zeros(len(labels))))
    _grouped_bars(ax, labels, series)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Share of reps")
    if use_pct:
        ax.set_xlabel("Payout as % of target incentive")
        ax.set_title("How much of their target incentive reps earn")
    else:
        ax.set_xlabel("Payout for the year")
        ax.set_title("How payouts are spread across reps")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def _bands_of(data: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """Reps per attainment band, per plan."""
    out = []
    for name, rows in _plans(data):
        if "band" in rows.columns:
            counts = (rows.set_index(rows["band"].astype("str"))["reps"]
                      .reindex(list(BANDS)).fillna(0).to_numpy(np.int64))
        elif {"credit_cents", "quota_cents"} <= set(rows.columns):
            idx = band_index(rows["credit_cents"].to_numpy(), rows["quota_cents"].to_numpy())
            counts = np.bincount(idx[idx >= 0], minlength=len(BANDS))
        else:
            a = rows["attainment"].dropna().to_numpy(np.float64)
            idx = np.searchsorted(np.array([0.5, 0.75, 1.0, 1.25, 1.5]), a, side="right")
            counts = np.bincount(idx, minlength=len(BANDS))
        out.append((name, np.asarray(counts, dtype=np.int64)))
    return out


def plot_attainment_distribution(data: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of reps in each attainment band, with the share at or above quota against the norm.

    Parameters
    ----------
    data : DataFrame
        :func:`spmkit.scenario.attainment_bands` rows (``band, reps``) or
        :func:`spmkit.scenario.rep_outcomes` rows (``credit_cents, quota_cents`` or
        ``attainment``), with ``plan`` for several plans.  When every plan has the same
        bands (the usual case: same sales, same quotas) one series is drawn ("All plans").

    Returns
    -------
    Axes
        Six bars per distinct series.
    """
    ax = _axes(ax)
    per_plan = _bands_of(data)
    if len(per_plan) > 1 and all(np.array_equal(per_plan[0][1], c) for _, c in per_plan[1:]):
        per_plan = [("All plans", per_plan[0][1])]
    series = []
    notes = []
    for name, counts in per_plan:
        n = int(counts.sum())
        series.append((name, counts / n if n else np.zeros(len(BANDS))))
        if n:
            at_quota = counts[3:].sum() / n
            prefix = f"{mpl_text(name)}: " if len(per_plan) > 1 else ""
            notes.append(f"{prefix}{at_quota:.0%} of reps at or above quota")
    _grouped_bars(ax, BANDS, series)
    lo, hi = QUOTA_ATTAINMENT_NORM
    notes.append(f"(healthy: {lo:.0%}-{hi:.0%})")
    ax.text(0.01, 0.98, "\n".join(notes), transform=ax.transAxes, va="top", ha="left",
            fontsize=9, bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})
    ax.axvspan(2.5, len(BANDS) - 0.5, color="tab:green", alpha=0.08, zorder=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Quota attainment (shaded: at or above quota)")
    ax.set_ylabel("Share of reps")
    ax.set_title("How reps performed against quota")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_sensitivity(sensitivity: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Comp cost of sales as sales move, one line per plan, over the 3-9% norm band.

    Parameters
    ----------
    sensitivity : DataFrame
        :func:`spmkit.scenario.sensitivity` rows (``sales_change, cost_of_sales``), with
        ``plan`` for several plans.

    Returns
    -------
    Axes
        One line per plan; the norm is a shaded span (a patch, not a line).
    """
    ax = _axes(ax)
    lo, hi = COST_OF_SALES_NORM
    ax.axhspan(lo, hi, color="tab:green", alpha=0.12, zorder=0,
               label=f"Typical cost of sales ({lo:.0%}-{hi:.0%})")
    for i, (name, rows) in enumerate(_plans(sensitivity)):
        rows = rows.sort_values("sales_change")
        ax.plot(rows["sales_change"], rows["cost_of_sales"], marker="o", markersize=3,
                label=mpl_text(name), color=f"C{i}", linewidth=2)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlabel("Change in sales against this year")
    ax.set_ylabel("Comp cost as % of revenue")
    ax.set_title("Comp cost of sales if sales rise or fall")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    return ax


def plot_winners_losers(data: pd.DataFrame, ax: Axes | None = None, *,
                        by: str | None = None) -> Axes:
    """Who gains and who loses against the baseline, in aggregate.

    Parameters
    ----------
    data : DataFrame
        Either :func:`spmkit.scenario.segment_deltas` rows (``segment, delta_cents``; with
        ``plan`` and ``by`` when long) -> horizontal bars of the payout change per segment;
        or :func:`spmkit.scenario.rep_deltas` rows (``delta_cents, delta_pct``) -> the
        number of reps per change bucket (:data:`CHANGE_BUCKETS`), no rep named.
    by : str, optional
        With a long segments frame, which ``by`` to draw (default: the first present).

    Returns
    -------
    Axes
        ``segments x plans`` or ``5 x plans`` bars.  Colours start at the second of the
        cycle: the baseline (first in every :class:`~spmkit.scenario.Comparison` frame)
        keeps the first colour in the other figures and is absent here.
    """
    ax = _axes(ax)
    if "segment" in data.columns:
        rows = data
        if "by" in data.columns and len(data):
            pick = by if by is not None else str(data["by"].iloc[0])
            rows = data[data["by"].astype("str") == pick]
            by = pick
        segments = sorted(rows["segment"].astype("str").unique().tolist())
        series = [(name, r.set_index(r["segment"].astype("str"))["delta_cents"]
                   .reindex(segments).fillna(0).to_numpy(np.float64))
                  for name, r in _plans(rows)]
        _grouped_bars(ax, segments, series, horizontal=True, first_color=1)
        ax.axvline(0, color="black", linewidth=0.8)
        _money_axis(ax, "x")
        ax.set_xlabel("Change in total payout against the baseline")
        ax.set_title(f"Payout change by {mpl_text(by or 'segment')}")
        ax.grid(True, axis="x", alpha=0.3)
        return ax
    series = []
    for name, r in _plans(data):
        delta = r["delta_cents"].to_numpy(np.int64)
        pct = r["delta_pct"].to_numpy(np.float64)
        big_gain = np.where(np.isnan(pct), delta > 0, pct > 0.10)
        big_loss = np.where(np.isnan(pct), delta < 0, pct < -0.10)
        bucket = np.select(
            [delta == 0, big_loss, delta < 0, big_gain],
            [2, 0, 1, 4], default=3)
        series.append((name, np.bincount(bucket, minlength=5)))
    _grouped_bars(ax, CHANGE_BUCKETS, series, first_color=1)
    ax.set_ylabel("Reps")
    ax.set_title("How many reps gain or lose against the baseline")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_risk(risk: pd.DataFrame | pd.Series, ax: Axes | None = None) -> Axes:
    """Likely total payout cost per plan: the P50 as a bar, P10-P90 as a range.

    Parameters
    ----------
    risk : DataFrame or Series
        ``plan, p10, p50, p90`` (cents) rows, or one :func:`spmkit.scenario.risk_summary`.

    Returns
    -------
    Axes
        One bar per plan.
    """
    ax = _axes(ax)
    frame = risk.to_frame().T if isinstance(risk, pd.Series) else risk
    names = [n for n, _ in _plans(frame)]
    p10 = frame["p10"].to_numpy(np.float64)
    p50 = frame["p50"].to_numpy(np.float64)
    p90 = frame["p90"].to_numpy(np.float64)
    x = np.arange(len(names))
    ax.bar(x, p50, color=[f"C{i}" for i in range(len(names))], width=0.6, alpha=0.85)
    ax.errorbar(x, p50, yerr=np.vstack([p50 - p10, p90 - p50]), fmt="none", ecolor="black",
                capsize=6, linewidth=1.2)
    for xi, lo, mid, hi in zip(x, p10, p50, p90, strict=True):
        ax.annotate(f"{_short_money(mid / 100)}\n({_short_money(lo / 100)}-"
                    f"{_short_money(hi / 100)})", (xi, hi), textcoords="offset points",
                    xytext=(0, 4), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [mpl_text(textwrap.fill(n, 16)) for n in names])
    _money_axis(ax)
    low = min(0.0, float(p10.min()) * 1.2) if len(p10) else 0.0
    ax.set_ylim(low, max(float(p90.max()) * 1.2, 1.0) if len(p90) else 1.0)
    ax.set_ylabel("Total payout for the year")
    ax.set_title("Likely comp cost: median with 80% range (P10-P90)")
    ax.grid(True, axis="y", alpha=0.3)
    return ax
