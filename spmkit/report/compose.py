"""A scenario report's content, composed in the library for one audience.

:func:`build` takes a :class:`spmkit.scenario.Comparison` (every plan credited and measured
once) and returns a frozen :class:`Report`: the key numbers, the decision, each plan's
description, the headline table with the published norms beside its figures, the figures
(PNG), the tables, warnings about the data, a glossary and the provenance.  What an
executive may see is decided here (:func:`spmkit.report.tables.report_tables`), so the
notebook and any other front end only display :attr:`Report.sections`.
:func:`build_from_files` loads a data folder and plan files first.

Amounts are shown in the plan currency in thousands (K) and millions (M); exact figures
stay in ``metrics.json`` and the workbook.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError, PlanError, Problem, SpmkitError
from spmkit.report.norms import NORMS, Norm
from spmkit.report.tables import (
    ReportTables,
    bands_table,
    escape_markdown,
    format_frame,
    html_table,
    pct,
    report_tables,
)

__all__ = [
    "GLOSSARY",
    "Figure",
    "KeyNumber",
    "Part",
    "Report",
    "Section",
    "build",
    "build_from_files",
    "load_report",
    "partial_period_warnings",
    "plan_description",
    "save_report",
    "short_money",
]

DEFAULT_TITLE = "Compensation plan scenarios"


# --- display objects ---------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One displayable piece: ``kind`` is ``markdown`` (text), ``html`` (a sanitized table)
    or ``png`` (figure bytes, with ``alt`` text)."""

    kind: str
    content: Any
    alt: str = ""


@dataclass(frozen=True)
class Section:
    """A titled part of the report (``key`` is stable: ``decision``, ``headline``, ...)."""

    key: str
    title: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class KeyNumber:
    """A number at the top of the report: its label, display text and any norm."""

    label: str
    text: str
    norm: str = ""


@dataclass(frozen=True)
class Figure:
    """A rendered figure: ``key``, title, PNG bytes and alt text."""

    key: str
    title: str
    png: bytes
    alt: str


@dataclass(frozen=True)
class Report:
    """Everything a scenario report shows one audience.  Built by :func:`build`.

    Attributes
    ----------
    title, audience, currency, baseline : str
    plans : tuple of str
        Baseline first.
    descriptions : dict
        Plan name -> what the plan is (its ``description:`` or the plan file's opening
        comment; ``""`` when it has neither).
    key_numbers : tuple of KeyNumber
        The baseline's headline figures (bookings, payout, cost of sales, cost range).
    decision : str
        Markdown: the trade-off between the plans (cost, people, risk, pay for
        performance).
    headline : DataFrame
        Display text: one row per measure, one column per plan, then ``Norm``.
    norms : tuple of Norm
        The norms the headline cites.
    figures : tuple of Figure
    tables : dict
        Display frames (text) by key: ``segments_region``, ``segments_role``, ``bands``,
        ``risk``, ``sensitivity`` (and ``movers`` for an analyst).
    warnings : tuple of str
        About the data (partial periods in the data window).
    glossary : tuple of (term, meaning)
    provenance : dict
        Row counts, data window, plan hashes, seed, draws, audience, spmkit version.
    metrics : dict
        ``metrics.json``: the figures per plan (hidden ones ``None`` for an executive).
    sheets : dict
        The workbook's sheets for this audience (see :meth:`ReportTables.sheets`).
    sections : tuple of Section
        The report in reading order, ready to display.
    """

    title: str
    audience: str
    currency: str
    baseline: str
    plans: tuple[str, ...]
    descriptions: dict[str, str]
    key_numbers: tuple[KeyNumber, ...]
    decision: str
    headline: pd.DataFrame
    norms: tuple[Norm, ...]
    figures: tuple[Figure, ...]
    tables: dict[str, pd.DataFrame]
    warnings: tuple[str, ...]
    glossary: tuple[tuple[str, str], ...]
    provenance: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    sheets: dict[str, pd.DataFrame] = field(repr=False)
    sections: tuple[Section, ...] = field(repr=False)


# --- formatting ----------------------------------------------------------------------------

def short_money(cents: object, currency: str = "") -> str:
    """Cents as a short amount in currency units: ``866729775 -> "8.67M"``, ``1234500 ->
    "12.3K"``, ``99900 -> "999"``; with ``currency`` it is prefixed ("USD 8.67M"); missing
    -> ``""``."""
    if cents is None or cents is pd.NA or (isinstance(cents, float) and math.isnan(cents)):
        return ""
    units = float(cents) / 100  # display only: the exact figure is in metrics.json
    a = abs(units)
    if a >= 1e9:
        text = f"{units / 1e9:,.2f}B"
    elif a >= 1e6:
        text = f"{units / 1e6:,.2f}M"
    elif a >= 1e3:
        text = f"{units / 1e3:,.1f}K"
    else:
        text = f"{units:,.0f}"
    return f"{currency} {text}" if currency else text


def _shown(value: object) -> bool:
    return not (value is None or value is pd.NA
                or (isinstance(value, float | np.floating) and math.isnan(value)))


def _times(value: object) -> str:
    return f"{float(value):.2f}x" if _shown(value) else ""


def _count(value: object, of: object = None) -> str:
    if not _shown(value):
        return ""
    text = f"{int(value):,}"  # type: ignore[call-overload]
    if _shown(of) and int(of):  # type: ignore[call-overload]
        text += f" ({int(value) / int(of):.0%})"  # type: ignore[call-overload]
    return text


# --- what each plan is ----------------------------------------------------------------------

def plan_description(plan: Any, path: str | Path | None = None) -> str:
    """A plan's description: its ``description:`` key, else the plan file's opening comment
    (its first paragraph of ``#`` lines), else ``""``."""
    text = getattr(plan, "description", None)
    if text:
        return " ".join(str(text).split())
    if path is None:
        return ""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    words: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        body = stripped.lstrip("#").strip()
        if not body:
            if words:
                break
            continue
        words.append(body)
    text = " ".join(words)
    head, sep, rest = text.partition(": ")  # "Baseline 2025: the plan ..." names the plan
    name = str(getattr(plan, "plan", "")).lower()
    if sep and head and rest and name.startswith(head.lower()):
        text = rest[:1].upper() + rest[1:]
    return text


# --- data warnings -------------------------------------------------------------------------

def partial_period_warnings(deals: pd.DataFrame, periods: Any, *, slack_days: int = 7
                            ) -> list[str]:
    """Periods of the plan year the deals' data window covers only in part, or not at all.

    A period is flagged when the first deal closes more than ``slack_days`` after the
    period starts or the last one more than ``slack_days`` before it ends (a first quarter
    holding one month of data), so its attainment, thresholds and caps are not comparable
    with full periods.
    """
    if deals is None or not len(deals):
        return ["The deals table is empty: every figure is zero."]
    first = pd.Timestamp(deals["close_date"].min()).normalize()
    last = pd.Timestamp(deals["close_date"].max()).normalize()
    out = []
    slack = pd.Timedelta(days=slack_days)
    for label, start, end in zip(periods.labels, periods.starts, periods.ends, strict=True):
        start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        if last < start or first > end:
            out.append(f"{label} ({start:%Y-%m-%d} to {end:%Y-%m-%d}) has no deals in the "
                       f"data window ({first:%Y-%m-%d} to {last:%Y-%m-%d}): its figures are "
                       "zero, not a forecast.")
        elif first > start + slack or last < end - slack:
            lo, hi = max(first, start), min(last, end)
            days = (hi - lo).days + 1
            whole = (end - start).days + 1
            out.append(f"{label} is partial: the data covers {lo:%Y-%m-%d} to {hi:%Y-%m-%d} "
                       f"({days} of its {whole} days), so its attainment, thresholds and "
                       "caps are not comparable with full periods.")
    return out


# --- glossary ------------------------------------------------------------------------------

GLOSSARY: tuple[tuple[str, str], ...] = (
    ("Baseline", "The plan run today; every other plan (a scenario) is compared with it on "
     "the same deals, quotas and roster."),
    ("Bookings", "The plan year's deals, each counted once at its full amount, in the plan "
     "currency."),
    ("Credited revenue", "Sales credited to the people a plan pays. A deal can be credited "
     "more than once: to the rep, and again to the manager it rolls up to (roll-up) or to a "
     "specialist (overlay). Credited revenue can therefore exceed bookings."),
    ("Total payout", "Everything the plan pays for the year: commission, bonuses, SPIFs and "
     "draws."),
    ("Cost of sales", "Total payout as a share of bookings."),
    ("Marginal cost of sales", "What each extra dollar of bookings costs in extra payout, "
     "measured between sales 5% below and 5% above this year's. Above the cost of sales "
     "means growth gets more expensive (accelerators); below means it gets cheaper (caps)."),
    ("Total comp cost of sales", "Total payout plus base salary (prorated for time "
     "employed), as a share of bookings; shown when the roster has base salaries."),
    ("Target incentive (TI)", "The variable pay a rep earns at 100% of quota; the "
     "target-incentive pool is the sum over reps, prorated for time employed."),
    ("Payout vs target", "Total payout as a share of the target-incentive pool (100% = "
     "the plan paid exactly its target)."),
    ("Quota", "The sales a rep is asked to make in the plan year."),
    ("Attainment", "A rep's credited sales as a share of quota for the plan year."),
    ("Attainment band", "A range of attainment (for example 100-125% of quota) and the "
     "share of reps in it."),
    ("BCR (base commission rate)", "Commission per dollar of sales up to quota: target "
     "commission / quota."),
    ("Accelerator", "A higher commission rate above quota, as a multiple of the BCR."),
    ("Threshold", "The attainment below which a pay component pays nothing. Reps below "
     "threshold counts reps whose plan-year attainment is below the lowest threshold of "
     "the plan."),
    ("Cap", "The most a component pays for the year. Reps at cap counts reps whose "
     "earnings reached it."),
    ("Draw", "An advance paid when earnings fall short, recovered or not from later "
     "earnings."),
    ("Top-decile payout share", "The share of all payout earned by the best-paid tenth "
     "of reps."),
    ("Top-fifth payout share", "The share of payout earned by the fifth of reps with the "
     "highest attainment."),
    ("Leverage", "The 90th-percentile rep's payout over the median rep's, both as a "
     "multiple of their target incentive: how much more top performers earn."),
    ("Pay slope", "How much pay (as a share of target) rises per 100% of attainment, fitted "
     "over all reps: higher means pay follows performance more closely."),
    ("Reps losing over 10%", "Reps paid by the baseline who would be paid more than 10% "
     "less under the plan."),
    ("Break-even uplift", "The extra bookings a scenario must bring, at the stated gross "
     "margin, for the extra profit to pay for its extra cost over the baseline."),
    ("Pay curve", "What a rep with the median quota and target incentive would earn at "
     "each level of attainment."),
    ("Monte Carlo / P10, P50, P90", "Many simulated years of sales; P50 is the middle "
     "outcome, P10 and P90 bound the middle 80% (one year in ten is below P10, one in ten "
     "above P90)."),
    ("Sensitivity", "Total payout and cost of sales if every deal were larger or smaller "
     "by the same share."),
    ("Segment", "A region or a role; groups of fewer than five reps are not shown to "
     "executives."),
    ("Norm (source)", "A published figure for typical plans, with who published it; "
     "context for reading a figure, not a target."),
    ("K, M", "Thousand, million (in the plan currency)."),
)


# --- the headline table -----------------------------------------------------------------

def _norm_text(metric: str) -> str:
    n = NORMS.get(metric)
    return f"{n.text} ({n.source})" if n else ""


def _norm_short(metric: str) -> str:
    """A norm's range and source in a few words ("3%-9% (ZS)"), else its text."""
    n = NORMS.get(metric)
    if n is None:
        return ""
    if n.low is not None and n.high is not None:
        return f"{n.low:.0%}-{n.high:.0%} ({n.source})"
    return _norm_text(metric)


def _headline_rows(h: pd.DataFrame, currency: str) -> list[tuple[str, str, list[str]]]:
    """(measure label, norm metric, cell per plan) rows of the headline table."""
    def col(name: str) -> list[Any]:
        return h[name].tolist() if name in h.columns else [None] * len(h)

    def money_row(name: str) -> list[str]:
        return [short_money(v) for v in col(name)]

    def pct_row(name: str, digits: int = 1) -> list[str]:
        return [pct(v, digits) if _shown(v) else "" for v in col(name)]

    delta = [("" if not _shown(d) else
              ("no change" if int(d) == 0 else
               f"{'+' if int(d) > 0 else '-'}{short_money(abs(int(d)))}"
               + (f" ({'+' if float(p) > 0 else ''}{pct(p)})" if _shown(p) else "")))
             for d, p in zip(col("delta_cents"), col("delta_pct"), strict=True)]
    reps = col("reps")
    rows = [
        (f"Bookings ({currency})", "", money_row("bookings_cents")),
        (f"Credited revenue ({currency})", "", money_row("credited_cents")),
        (f"Total payout ({currency})", "", money_row("total_payout_cents")),
        ("Change vs baseline", "", delta),
        ("Cost of sales (on bookings)", "cost_of_sales", pct_row("cost_of_sales")),
        ("Marginal cost of sales", "", pct_row("marginal_cost_of_sales")),
        ("Total comp cost of sales (with base salary)", "total_comp_cost_of_sales",
         pct_row("total_comp_cost_of_sales")),
        (f"Target-incentive pool ({currency})", "", money_row("target_incentive_cents")),
        ("Payout vs target", "payout_vs_target", pct_row("payout_vs_target", 0)),
        ("Reps paid", "", [_count(v) for v in reps]),
        ("Reps at or above quota", "share_at_or_above_100",
         pct_row("share_at_or_above_100", 0)),
        ("Median attainment", "median_attainment", pct_row("median_attainment", 0)),
        ("Reps below threshold", "reps_below_threshold",
         [_count(v, n) if _shown(v) else "no threshold" if _shown(t) else ""
          for v, n, t in zip(col("reps_below_threshold"), reps, col("total_payout_cents"),
                             strict=True)]),
        ("Reps at cap", "reps_at_cap",
         [_count(v, n) if _shown(v) else "no cap" if _shown(t) else ""
          for v, n, t in zip(col("reps_at_cap"), reps, col("total_payout_cents"),
                             strict=True)]),
        ("Reps losing over 10%", "", [_count(v, n) if i else "" for i, (v, n) in enumerate(
            zip(col("reps_losing_over_10pct"), reps, strict=True))]),
        ("Top-decile payout share", "", pct_row("top_decile_payout_share", 0)),
        ("Leverage (P90 / median pay, as multiples of target)", "leverage",
         [_times(v) for v in col("leverage")]),
        ("Pay slope", "", pct_row("pay_slope", 0)),
        *([("Sales uplift to pay for itself (break-even)", "",
            [_break_even_text(u, b, t) if i else "" for i, (u, b, t) in enumerate(zip(
                col("break_even_uplift"), col("break_even_bookings_cents"),
                col("total_payout_cents"), strict=True))])]
          if "break_even_uplift" in h.columns else []),
        (f"Cost P10 / P50 / P90 ({currency})", "",
         [" / ".join(short_money(v) for v in t) if all(_shown(v) for v in t) else ""
          for t in zip(col("p10_cents"), col("p50_cents"), col("p90_cents"), strict=True)]),
        (f"Bookings P10 / P50 / P90 ({currency})", "",
         [" / ".join(short_money(v) for v in t) if all(_shown(v) for v in t) else ""
          for t in zip(col("revenue_p10_cents"), col("revenue_p50_cents"),
                       col("revenue_p90_cents"), strict=True)]),
    ]
    return rows


def _break_even_text(uplift: object, bookings: object, total: object) -> str:
    if not _shown(total):  # the plan's figures are not shown to this audience
        return ""
    if not _shown(uplift):
        return "not within +100%"
    if float(uplift) == 0:  # type: ignore[arg-type]
        return "costs no more"
    return f"+{pct(uplift)} of bookings ({short_money(bookings)})"


def _headline_frame(h: pd.DataFrame, currency: str) -> pd.DataFrame:
    plans = h["plan"].astype("str").tolist()
    rows = _headline_rows(h, currency)
    data: dict[str, list[str]] = {p: [cells[i] or "—" for _, _, cells in rows]
                                  for i, p in enumerate(plans)}
    data["Norm (source)"] = [_norm_text(metric) for _, metric, _ in rows]
    return pd.DataFrame(data, index=pd.Index([r[0] for r in rows], name="Measure"),
                        dtype="str")


# --- the decision --------------------------------------------------------------------------

def _decision(h: pd.DataFrame, baseline: str, currency: str,
              margin: float | None = None) -> str:
    """The trade-off in Markdown: per plan its cost, people impact, risk and pay for
    performance against the baseline, then which plan leads on each."""
    rows = h.set_index(h["plan"].astype("str"), drop=False)
    shown = [p for p in rows.index if _shown(rows.loc[p, "total_payout_cents"])]
    hidden = "figures not shown: too few reps to keep each one's pay confidential"
    esc = escape_markdown

    def risk(p: str) -> str:
        r = rows.loc[p]
        if not (_shown(r.get("p10_cents")) and _shown(r.get("p90_cents"))):
            return ""
        return (f"cost P10-P90 {short_money(r['p10_cents'])}-{short_money(r['p90_cents'])} "
                f"(spread {short_money(r['cost_range_cents'])})")

    def performance(p: str) -> str:
        r = rows.loc[p]
        bits = []
        if _shown(r.get("leverage")):
            bits.append(f"leverage {_times(r['leverage'])} (norm 2-3x)")
        if _shown(r.get("marginal_cost_of_sales")):
            bits.append(f"each extra dollar of bookings costs "
                        f"{float(r['marginal_cost_of_sales']) * 100:.1f} cents")
        return ", ".join(bits)

    lines = []
    base = rows.loc[baseline] if baseline in rows.index else None
    if base is not None and baseline in shown:
        lines.append(
            f"- **{esc(baseline)}** (baseline) pays **{currency} "
            f"{short_money(base['total_payout_cents'])}**, a cost of sales of "
            f"{pct(base['cost_of_sales'])} of bookings (norm 3-9%), "
            f"{pct(base['share_at_or_above_100'], 0)} of reps at or above quota; "
            + "; ".join(x for x in (risk(baseline), performance(baseline)) if x) + ".")
    else:
        lines.append(f"- **{esc(baseline)}** (baseline): {hidden}.")
    others = [p for p in rows.index if p != baseline]
    for p in others:
        if p not in shown:
            lines.append(f"- **{esc(p)}**: {hidden}.")
            continue
        r = rows.loc[p]
        cost = f"pays **{currency} {short_money(r['total_payout_cents'])}**"
        if _shown(r.get("delta_cents")):
            d = int(r["delta_cents"])
            cost += (f", {short_money(abs(d))} {'more' if d > 0 else 'less'} than the baseline"
                     if d else ", the same as the baseline")
            if _shown(r.get("delta_pct")) and d:
                cost += f" ({'+' if d > 0 else ''}{pct(r['delta_pct'])})"
        people = ""
        if _shown(r.get("reps_losing_over_10pct")):
            people = f"{int(r['reps_losing_over_10pct']):,} reps lose over 10% of their pay"
        if _shown(r.get("reps_at_cap")):
            people += f"{', ' if people else ''}{int(r['reps_at_cap']):,} reach the cap"
        uplift = _break_even_text(r.get("break_even_uplift"),
                                  r.get("break_even_bookings_cents"), r["total_payout_cents"])
        if uplift and uplift != "costs no more" and margin is not None:
            cost += (f"; to pay for itself at a {pct(margin, 0)} gross margin it must lift "
                     f"bookings by {uplift}")
        parts = [cost, people, risk(p), performance(p)]
        lines.append(f"- **{esc(p)}** " + "; ".join(x for x in parts if x) + ".")
    if not others:
        lines.append("- No scenario was given: this report describes the baseline alone.")
        return "\n".join(lines)
    if len(shown) > 1:
        def best(column: str, pick: Any, among: list[str] = shown) -> str | None:
            values = {p: rows.loc[p, column] for p in among if column in rows.columns
                      and _shown(rows.loc[p, column])}
            return pick(values, key=lambda k: float(values[k])) if values else None

        cheapest = best("total_payout_cents", min)
        fairest = best("reps_losing_over_10pct", min, [p for p in others if p in shown])
        steadiest = None
        if "cost_range_cents" in rows.columns:
            spread = {p: int(rows.loc[p, "cost_range_cents"])
                      for p in shown if _shown(rows.loc[p, "cost_range_cents"])}
            steadiest = min(spread, key=lambda k: spread[k]) if spread else None
        sharpest = best("leverage", max)
        lines.append("")
        lines.append("**The trade-off.**")
        lines.append(f"- Cost: least costly on last year's sales is **{esc(cheapest)}**.")
        if fairest is not None:
            lines.append(f"- People: of the scenarios, the fewest reps lose over 10% of "
                         f"their pay under **{esc(fairest)}**.")
        if steadiest is not None:
            lines.append(f"- Risk: narrowest cost range (P10-P90) under **{esc(steadiest)}**.")
        if sharpest is not None:
            lines.append(f"- Pay for performance: the strongest leverage is "
                         f"**{esc(sharpest)}**.")
        leaders = {cheapest, fairest, steadiest, sharpest} - {None}
        if len(leaders) == 1:
            lines.append(f"- **{esc(cheapest)}** leads on every count.")
        else:
            lines.append("- No plan leads on every count: the choice is between saving "
                         "cost, limiting who loses pay, bounding the risk and rewarding "
                         "top performers.")
    return "\n".join(lines)


# --- figures -------------------------------------------------------------------------------

def _png(plot: Any, data: pd.DataFrame, **options: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(9, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    plot(data, ax=ax, **options)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _figures(t: ReportTables) -> tuple[Figure, ...]:
    from spmkit.report import figures as f

    todo = []
    if len(t.pay_curves):
        todo.append(("pay_curves", "Pay curves", f.plot_pay_curves, t.pay_curves, {}))
    if len(t.outcomes):
        todo.append(("payout_distribution", "Payout as a share of target",
                     f.plot_payout_distribution, t.outcomes, {}))
        todo.append(("attainment", "Attainment", f.plot_attainment_distribution,
                     t.outcomes, {}))
    if len(t.sensitivity):
        todo.append(("sensitivity", "Sensitivity", f.plot_sensitivity, t.sensitivity, {}))
    if len(t.rep_deltas):
        todo.append(("winners_losers", "Winners and losers", f.plot_winners_losers,
                     t.rep_deltas, {}))
    if len(t.segments):
        todo.append(("segments_region", "Change by region", f.plot_winners_losers,
                     t.segments, {"by": "region"}))
    if len(t.risk):
        todo.append(("risk", "Cost range", f.plot_risk, t.risk, {}))
    return tuple(Figure(key, title, _png(plot, data, **opts), title)
                 for key, title, plot, data, opts in todo)


# --- risk tables ---------------------------------------------------------------------------

_RISK_COLUMNS = (
    ("p10_cents", "Cost P10"), ("p50_cents", "Cost P50"), ("p90_cents", "Cost P90"),
    ("revenue_p10_cents", "Bookings P10"), ("revenue_p50_cents", "Bookings P50"),
    ("revenue_p90_cents", "Bookings P90"),
    ("cost_at_p10_revenue_cents", "Cost in a weak year (at P10 bookings)"),
    ("cost_at_p90_revenue_cents", "Cost in a strong year (at P90 bookings)"),
)


def _risk_table(h: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Simulated cost and bookings per plan shown (K/M), plans whose figures are hidden
    left out."""
    shown = h[[_shown(v) for v in h["p50_cents"]]] if "p50_cents" in h else h.iloc[0:0]
    if not len(shown):
        return pd.DataFrame()
    data: dict[str, list[str]] = {"Plan": shown["plan"].astype("str").tolist()}
    for key, label in _RISK_COLUMNS:
        if key in shown.columns:
            data[f"{label} ({currency})"] = [short_money(v) for v in shown[key]]
    for key, label in (("cost_of_sales_p10", "Cost of sales P10"),
                       ("cost_of_sales_p90", "Cost of sales P90")):
        if key in shown.columns:
            data[label] = [pct(v) for v in shown[key]]
    return pd.DataFrame(data, dtype="str")


def _sensitivity_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """One row per sales change, one column per plan: "payout (cost of sales)" in K/M."""
    changes = list(dict.fromkeys(sensitivity["sales_change"].tolist()))
    out = {}
    for plan in dict.fromkeys(sensitivity["plan"].astype("str").tolist()):
        part = (sensitivity[sensitivity["plan"].astype("str") == plan]
                .set_index("sales_change").reindex(changes))
        out[plan] = [f"{short_money(c)} ({pct(r)})" if _shown(c) else ""
                     for c, r in zip(part["total_payout_cents"], part["cost_of_sales"],
                                     strict=True)]
    labels = [("+" if c > 0 else "") + pct(c, 0) for c in changes]
    return pd.DataFrame(out, index=pd.Index(labels, name="Sales change"), dtype="str")


# --- building ------------------------------------------------------------------------------

def build(comparison: Any, audience: str = "executive", *, title: str | None = None,
          inputs: Any = None, plan_paths: Sequence[str | Path] | None = None,
          draws: int | None = None, seed: int | None = None,
          margin: float | None = None) -> Report:
    """Compose a scenario report for one audience from a comparison.

    Parameters
    ----------
    comparison : spmkit.scenario.Comparison
        :func:`spmkit.scenario.compare` of the baseline and scenarios (each plan credited
        and measured once there; nothing is recomputed here).
    audience : {"executive", "analyst"}
        Executive: aggregates only (see :func:`spmkit.report.tables.report_tables`).
    title : str, optional
    inputs : spmkit.tables.Inputs, optional
        The tables the comparison ran on: for the data window, row counts and the
        partial-period warnings.
    plan_paths : list of paths, optional
        The plan files, baseline first: hashed in the provenance; their opening comments
        describe plans without a ``description:``.
    draws, seed : int, optional
        The Monte Carlo settings, stated in the report.
    margin : float, optional
        The gross margin the comparison's break-even uplifts assume (stated).

    Returns
    -------
    Report
    """
    from spmkit.report.notebook import input_provenance

    t = report_tables(comparison, audience)
    base = t.baseline
    plans = tuple(t.plans)
    results = comparison.results
    plan_objs = [results[p].plan for p in plans]
    currency = plan_objs[0].currency
    paths = list(plan_paths) if plan_paths is not None else [None] * len(plans)
    descriptions = {p: plan_description(obj, path)
                    for p, obj, path in zip(plans, plan_objs, paths, strict=True)}
    h = t.headline
    hb = h.set_index(h["plan"].astype("str")).loc[base]
    key_numbers = []
    if _shown(hb["total_payout_cents"]):
        key_numbers = [
            KeyNumber("Bookings", f"{currency} {short_money(hb['bookings_cents'])}"),
            KeyNumber("Total payout", f"{currency} {short_money(hb['total_payout_cents'])}"),
            KeyNumber("Cost of sales", pct(hb["cost_of_sales"]), _norm_short("cost_of_sales")),
            KeyNumber("Reps at or above quota", pct(hb["share_at_or_above_100"], 0),
                      _norm_short("share_at_or_above_100")),
            KeyNumber("Cost P10-P90", f"{currency} {short_money(hb['p10_cents'])}-"
                      f"{short_money(hb['p90_cents'])}"),
        ]
    decision = _decision(h, base, currency, margin)
    headline = _headline_frame(h, currency)
    cited = tuple(NORMS[m] for m in dict.fromkeys(
        m for _, m, _ in _headline_rows(h, currency) if m in NORMS))
    figures = _figures(t)

    seg_cols = ["plan", "segment", "reps", "baseline_payout_cents", "payout_cents",
                "delta_cents", "delta_pct"]
    tables = {f"segments_{by}": format_frame(t.segment_rows(by), columns=seg_cols)
              for by in ("region", "role")}
    from spmkit.scenario import BANDS

    tables["bands"] = bands_table(t.bands, BANDS) if len(t.bands) else pd.DataFrame()
    tables["risk"] = _risk_table(h, currency)
    tables["sensitivity"] = (_sensitivity_table(t.sensitivity) if len(t.sensitivity)
                             else pd.DataFrame())
    if not t.executive:
        rep_cols = ["rep_id", "name", "region", "role", "attainment",
                    "baseline_payout_cents", "payout_cents", "delta_cents", "delta_pct"]
        for p in plans[1:]:
            moved = t.movers(p, 10)
            tables[f"movers::{p}"] = format_frame(moved, columns=[*rep_cols, "direction"])

    warnings: list[str] = []
    provenance: dict[str, Any] = {"audience": audience, "baseline": base}
    if inputs is not None:
        warnings = partial_period_warnings(inputs.deals, results[base].periods)
        if plan_paths is not None:
            provenance.update(input_provenance(inputs, plan_paths))
            provenance["plans"] = [dict(p, plan=n) for p, n in
                                   zip(provenance["plans"], plans, strict=True)]
        else:
            provenance.update(input_provenance(inputs, []))
            provenance["plans"] = [{"plan": n} for n in plans]
    if draws is not None:
        provenance["draws"] = int(draws)
    if seed is not None:
        provenance["seed"] = int(seed)
    model = getattr(comparison, "risk_model", None)
    if model is not None and hasattr(model, "as_dict"):
        provenance["risk_model"] = model.as_dict()
    if margin is not None:
        provenance["margin"] = float(margin)
    provenance["warnings"] = list(warnings)
    provenance["descriptions"] = dict(descriptions)
    provenance["credited_once"] = True
    provenance["currency"] = currency

    report_title = title or DEFAULT_TITLE
    sections = _sections(report_title, t, currency, descriptions, key_numbers, decision,
                         headline, figures, tables, warnings, provenance)
    return Report(
        title=report_title, audience=audience, currency=currency, baseline=base, plans=plans,
        descriptions=descriptions, key_numbers=tuple(key_numbers), decision=decision,
        headline=headline, norms=cited, figures=figures, tables=tables,
        warnings=tuple(warnings), glossary=GLOSSARY, provenance=provenance,
        metrics=t.metrics, sheets=t.sheets(), sections=sections)


def _md(text: str) -> Part:
    return Part("markdown", text)


def _sections(title: str, t: ReportTables, currency: str, descriptions: dict[str, str],
              key_numbers: list[KeyNumber], decision: str, headline: pd.DataFrame,
              figures: tuple[Figure, ...], tables: dict[str, pd.DataFrame],
              warnings: list[str], provenance: dict[str, Any]) -> tuple[Section, ...]:
    esc = escape_markdown
    out = []
    top = [_md(f"# {esc(title)}"),
           _md(f"Amounts in **{currency}**; K = thousand, M = million. Baseline: "
               f"**{esc(t.baseline)}**" + (f"; compared with {len(t.plans) - 1} "
                                           "scenario(s)." if len(t.plans) > 1 else "."))]
    if key_numbers:
        cells = pd.DataFrame({k.label: [k.text, k.norm or ""] for k in key_numbers},
                             index=pd.Index(["Baseline", "Norm (source)"], name=""),
                             dtype="str")
        top.append(Part("html", html_table(cells, index=True)))
    out.append(Section("title", title, tuple(top)))
    if warnings:
        out.append(Section("warnings", "Data warnings", (
            _md("\n".join(f"- **Warning:** {esc(w)}" for w in warnings)),)))
    out.append(Section("decision", "The decision", (_md(decision),)))
    plans_md = "\n".join(f"- **{esc(p)}**{' (baseline)' if p == t.baseline else ''}: "
                         f"{esc(descriptions.get(p) or 'no description given')}"
                         for p in t.plans)
    out.append(Section("plans", "The plans", (_md(plans_md),)))
    parts = [Part("html", html_table(headline, index=True))]
    if t.small_plans:
        parts.append(_md(f"Plans paying fewer than {t.min_reps} reps show their rep counts "
                         "only: " + ", ".join(f"**{esc(p)}**" for p in t.small_plans) + "."))
    parts.append(_md("— : does not apply (no cap, threshold or base salary)"
                     + (f", or not shown because it would reveal the pay of fewer than "
                        f"{t.min_reps} reps, alone or with the other figures"
                        if t.executive else "") + "."))
    out.append(Section("headline", "Headline", tuple(parts)))
    out.append(Section("figures", "Figures", tuple(Part("png", f.png, f.alt)
                                                   for f in figures)))
    seg_parts = []
    for by in ("region", "role"):
        seg_parts.append(_md(f"### By {by}"))
        seg_parts.append(Part("html", html_table(tables[f"segments_{by}"])))
        hidden = t.hidden_segments.get(by, 0)
        if hidden:
            seg_parts.append(_md(f"{hidden} row(s) not shown: they would reveal the pay of "
                                 f"fewer than {t.min_reps} reps, alone or with the other "
                                 "figures."))
    out.append(Section("segments", "Segments", tuple(seg_parts)))
    if len(tables["bands"]):
        out.append(Section("bands", "Attainment bands",
                           (Part("html", html_table(tables["bands"], index=True)),)))
    movers = [k for k in tables if k.startswith("movers::")]
    if movers:
        parts = []
        for key in movers:
            frame = tables[key]
            name = key.split("::", 1)[1]
            for direction, label in (("gain", "largest gains"), ("loss", "largest losses")):
                rows = frame[frame["Direction"] == direction].drop(columns="Direction")
                parts.append(_md(f"### {esc(name)}: {label}"))
                parts.append(Part("html", html_table(rows)))
        out.append(Section("movers", "Rep-level winners and losers", tuple(parts)))
    draws = provenance.get("draws")
    risk_parts = [_md(f"Total payout over {draws:,} simulated years of sales "
                      f"(seed {provenance.get('seed')}): P10, P50 and P90 of the cost and "
                      f"of bookings, in {currency} (exact figures in metrics.json)."
                      if draws else "P10, P50 and P90 of the simulated cost.")]
    described = (provenance.get("risk_model") or {}).get("description")
    if described:
        risk_parts.append(_md(f"**What was simulated.** {esc(described)}"))
    if len(tables["risk"]):
        risk_parts.append(Part("html", html_table(tables["risk"])))
    risk_parts.append(_md(f"### Sensitivity to sales\n\nTotal payout in {currency} (and cost "
                          "of sales on credited revenue) if every deal were larger or "
                          "smaller by the same share."))
    if len(tables["sensitivity"]):
        risk_parts.append(Part("html", html_table(tables["sensitivity"], index=True)))
    out.append(Section("risk", "Risk", tuple(risk_parts)))
    out.append(Section("glossary", "Glossary", (_md("\n".join(
        f"- **{esc(term)}**: {esc(meaning)}" for term, meaning in GLOSSARY)),)))
    notes = []
    window = provenance.get("data_window")
    if window:
        notes.append(f"- Data window: deals closed {window['first']} to {window['last']}.")
    if provenance.get("rows"):
        notes.append("- Rows: " + ", ".join(f"{k} {n:,}" for k, n in
                                            provenance["rows"].items()) + ".")
    notes.append("- Each plan is credited and measured once; every figure of this report "
                 "comes from that one run.")
    notes.append("- Bookings count each deal once; credited revenue counts a deal again "
                 "for each roll-up or overlay credit.")
    if draws:
        notes.append(f"- Monte Carlo: {draws:,} draws, seed {provenance.get('seed')}.")
    if provenance.get("spmkit_version"):
        notes.append(f"- spmkit version {esc(provenance['spmkit_version'])}.")
    hashed = [p for p in provenance.get("plans", []) if "sha256" in p]
    if hashed:
        notes.append("- Plan files (SHA-256):")
        notes += [f"  - {esc(p['plan'])}: `{p['sha256']}`" for p in hashed]
    notes.append("- Norms are published figures for typical plans, cited with their "
                 "source; they are context, not targets.")
    if t.executive:
        notes.append(f"- Executive view: aggregates only. No figure, nor any sum or "
                     f"difference of figures, gives the pay of fewer than {t.min_reps} "
                     "reps: small groups, the rows that would let them be worked out and "
                     "the figures of small plans are not shown.")
    out.append(Section("method", "Method and data", (_md("\n".join(notes)),)))
    return tuple(out)


def build_from_files(data: str | Path, baseline: str | Path,
                     scenarios: Sequence[str | Path] = (), *, audience: str = "executive",
                     draws: int = 2000, seed: int = 0, title: str | None = None,
                     warnings: list | None = None, margin: float | None = None) -> Report:
    """Load a data folder and plan files, compare them once and :func:`build` the report.

    ``margin`` (gross margin on an extra dollar of sales) adds each scenario's break-even
    sales uplift.  When ``warnings`` is a list, each plan's run warnings
    (:func:`spmkit.checks.run_warnings`, from the comparison's own results) are appended
    to it.

    Raises
    ------
    SpmkitError
        A missing folder or plan file, a table or plan the loaders reject (named), two plans
        with the same name, or a plan the engine cannot compute on the data (named).
    """
    from spmkit.plan import load_plan_file
    from spmkit.scenario import compare
    from spmkit.tables import load_data_dir

    if audience not in ("executive", "analyst"):
        raise SpmkitError(f"audience {audience!r}: must be executive or analyst")
    if int(draws) < 1:
        raise SpmkitError(f"draws {draws}: must be at least 1")
    if margin is not None and not 0 < float(margin) <= 1:
        raise SpmkitError(f"margin {margin}: give the gross margin as a fraction in (0, 1], "
                          "e.g. 0.7 for 70%")
    folder = Path(data)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), "no such data folder"))
    paths = [Path(baseline), *(Path(s) for s in scenarios)]
    missing = [Problem(str(p), "no such plan file") for p in paths if not p.is_file()]
    if missing:
        raise PlanError(missing)
    plans = [load_plan_file(p) for p in paths]
    names: dict[str, Path] = {}
    for path, plan in zip(paths, plans, strict=True):
        if plan.plan in names:
            raise PlanError(Problem(str(path), f"plan name {plan.plan!r} is also the name of "
                                    f"{names[plan.plan]}; plans in a report need distinct "
                                    "names", where="plan"))
        names[plan.plan] = path
    inputs = load_data_dir(folder, measure_columns=tuple(sorted(
        {c for p in plans for c in p.measure_columns()})))
    comparison = compare(plans[0], plans[1:], inputs, draws=int(draws), seed=int(seed),
                         margin=margin)
    if warnings is not None:
        from spmkit.checks import run_warnings

        for path, plan in zip(paths, plans, strict=True):
            warnings.extend(run_warnings(plan, inputs, comparison.results[plan.plan],
                                         plan_source=str(path)))
    return build(comparison, audience, title=title, inputs=inputs, plan_paths=paths,
                 draws=int(draws), seed=int(seed), margin=margin)


def save_report(report: Report, path: str | Path) -> Path:
    """Write a built report for a notebook kernel to display (pickle; a private file of
    the run, never part of the output)."""
    import pickle

    path = Path(path)
    path.write_bytes(pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL))
    return path


def load_report(path: str | Path) -> Report:
    """Read a report written by :func:`save_report` (only files this process wrote)."""
    import pickle

    report = pickle.loads(Path(path).read_bytes())  # noqa: S301 - our own run's file
    if not isinstance(report, Report):
        raise SpmkitError(f"{path}: not a spmkit report")
    return report
