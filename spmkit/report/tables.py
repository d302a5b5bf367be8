"""Display formatting of the scenario frames for reports: presentation only.

The computing rooms (``spmkit.scenario``) return numbers: money as int64 cents in columns
named ``*_cents``, shares and attainment as fractions.  The functions here turn such frames
into text for people ("1,234.56", "12.3%") and never compute a payout.  Nothing here is
used to produce a number that a test or the metrics sidecar reads.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from spmkit.money import money_text as money

__all__ = [
    "IDENTITY_COLUMNS",
    "PERCENT_WORDS",
    "bands_table",
    "decision_paragraph",
    "drop_identity",
    "escape_markdown",
    "format_frame",
    "html_table",
    "money",
    "sensitivity_table",
    "number",
    "pct",
    "suppress_small_groups",
    "write_workbook",
]

#: Columns that identify a person; an executive report never shows them.
IDENTITY_COLUMNS = ("rep_id", "name", "manager_id")

#: Column names (without ``_cents``) that hold fractions shown as percentages.
PERCENT_WORDS = (
    "attainment", "share", "pct", "cost_of_sales", "payout_pct_of_target", "delta_pct",
    "sales_change", "median_attainment", "pay_slope",
)

_LABELS = {
    "plan": "Plan",
    "by": "By",
    "segment": "Segment",
    "reps": "Reps",
    "band": "Attainment band",
    "total_payout": "Total payout",
    "credited_revenue": "Credited revenue",
    "cost_of_sales": "Cost of sales",
    "target_incentive": "Target incentive",
    "payout_pct_of_target": "Payout % of target",
    "median_attainment": "Median attainment",
    "share_at_or_above_100": "Share at or above quota",
    "share_below_50": "Share below 50%",
    "top_fifth_payout_share": "Top-fifth payout share",
    "pay_slope": "Pay slope",
    "baseline_payout": "Baseline payout",
    "payout": "Payout",
    "delta": "Change vs baseline",
    "delta_pct": "Change %",
    "sales_change": "Sales change",
    "revenue": "Revenue",
    "p10": "Cost P10",
    "p50": "Cost P50",
    "p90": "Cost P90",
    "reps_without_quota": "Reps without quota",
    "rep_id": "Rep id",
    "name": "Name",
    "region": "Region",
    "role": "Role",
    "attainment": "Attainment",
    "credit": "Credit",
    "quota": "Quota",
    "share": "Share",
}


def pct(fraction: object, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.1234 -> "12.3%"``; NA/NaN -> ``""``."""
    if fraction is None or fraction is pd.NA:
        return ""
    x = float(fraction)  # type: ignore[arg-type]
    if math.isnan(x):
        return ""
    return f"{x * 100:,.{digits}f}%"


def number(value: object, digits: int = 2) -> str:
    """A plain number with thousands separators; integers without decimals."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    x = float(value)  # type: ignore[arg-type]
    if math.isnan(x):
        return ""
    return f"{x:,.{digits}f}"


def _is_percent(column: str) -> bool:
    return any(word == column or column.startswith(word) or column.endswith(word)
               for word in PERCENT_WORDS) or column.startswith("band")


def _label(column: str) -> str:
    if column in _LABELS:
        return _LABELS[column]
    if column.startswith("band_"):
        return "Band " + column[5:]
    return column.replace("_", " ").capitalize()


def format_frame(frame: pd.DataFrame, *, columns: Iterable[str] | None = None,
                 labels: bool = True, percent_digits: int = 1) -> pd.DataFrame:
    """A copy of ``frame`` with every value turned into display text.

    Parameters
    ----------
    frame
        Any scenario frame.  Columns named ``*_cents`` (int64 or float cents) become
        amounts ("1,234.56") under the name without ``_cents``; ``p10``/``p50``/``p90``
        are treated as cents too.  Columns whose names say they hold a share, percentage,
        attainment or cost of sales become percentages ("12.3%").  Other numbers get
        thousands separators; text is left as is (escaping is the renderer's job).
    columns
        Optional subset and order of the *source* column names to keep (missing ones are
        skipped, so a report survives a frame that gained or lost a column).
    labels
        Rename the columns to the headings a comp analyst would use ("Total payout").

    Returns
    -------
    pandas.DataFrame
        Same rows, ``str`` columns.  The input is not modified.
    """
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    out = {}
    for col in frame.columns:
        s = frame[col]
        name = str(col)
        if name.endswith("_cents") or name in ("p10", "p50", "p90"):
            key = name[: -len("_cents")] if name.endswith("_cents") else name
            values = [money(v) for v in s.tolist()]
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            key = name
            if _is_percent(name):
                values = [pct(v, percent_digits) for v in s.tolist()]
            else:
                values = [number(v) for v in s.tolist()]
        else:
            key = name
            values = ["" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                      else str(v) for v in s.tolist()]
        out[_label(key) if labels else key] = pd.Series(values, index=frame.index, dtype="str")
    return pd.DataFrame(out, index=frame.index)


def drop_identity(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the columns that identify a person (rep id, name, manager id)."""
    return frame.drop(columns=[c for c in IDENTITY_COLUMNS if c in frame.columns])


def suppress_small_groups(segments: pd.DataFrame, *, min_reps: int = 5,
                          reps_column: str = "reps") -> tuple[pd.DataFrame, int]:
    """Rows of a segment frame whose group has at least ``min_reps`` reps.

    An executive report shows only aggregates; a group of fewer than ``min_reps`` people
    could identify someone's pay, so it is left out (and counted, so the report can say so).

    Parameters
    ----------
    segments
        A frame with a ``reps`` column (e.g. ``Comparison.segments``).
    min_reps
        Smallest group shown.

    When a table (one ``plan`` and ``by``, where those columns exist) would hide exactly one
    group, its figures could be worked out as the total minus the groups shown, so the
    smallest shown group of that table is hidden too (complementary suppression).

    Returns
    -------
    (pandas.DataFrame, int)
        The kept rows and the number of rows suppressed.
    """
    reps = segments[reps_column].fillna(0).astype("int64")
    keep = reps >= min_reps
    keys = [c for c in ("plan", "by") if c in segments.columns]
    groups = [segments[k] for k in keys] if keys else [pd.Series(0, index=segments.index)]
    hidden = (~keep).groupby(groups, sort=False).transform("sum")
    lone = keep & (hidden == 1)
    rank = reps.where(lone).groupby(groups, sort=False).rank(method="first")
    keep &= ~(rank == 1).to_numpy()
    return segments.loc[keep].reset_index(drop=True), int((~keep).sum())


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape_markdown(text: object) -> str:
    """``text`` safe to put inside Markdown: HTML-escaped and Markdown punctuation escaped,
    so a plan or region name shows as written and is never read as markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=True))


_NUMERIC_TEXT = re.compile(r"^[-+]?[\d,]+(\.\d+)?%?( \([-+]?[\d,]+(\.\d+)?%\))?$")


def html_table(frame: pd.DataFrame, *, index: bool = False) -> str:
    """A display frame (see :func:`format_frame`) as an HTML ``<table>``.

    Every header and cell is escaped; cells that read as numbers ("1,234.56", "-2.6%")
    get ``class="num"`` so they align right, text aligns left.  With ``index=True`` the
    index values become row headers.
    """
    esc = html.escape
    head = ([f"<th>{esc(str(frame.index.name or ''))}</th>"] if index else []) + [
        f"<th>{esc(str(c))}</th>" for c in frame.columns]
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = [f'<th scope="row">{esc(str(label))}</th>'] if index else []
        for v in values:
            text = "" if v is None or v is pd.NA else str(v)
            cls = ' class="num"' if _NUMERIC_TEXT.match(text) else ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ('<table class="spmkit-table"><thead><tr>' + "".join(head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def bands_table(bands: pd.DataFrame, order: Iterable[str] | None = None) -> pd.DataFrame:
    """Attainment bands side by side: one row per band, one column per plan, each cell
    "reps (share)".

    Parameters
    ----------
    bands
        ``Comparison.bands``: ``plan, band, reps, share``.
    order
        Band labels in display order (default: order of first appearance).
    """
    labels = list(order) if order is not None else list(dict.fromkeys(bands["band"].tolist()))
    plans = list(dict.fromkeys(bands["plan"].tolist()))
    out = {}
    for plan in plans:
        part = bands[bands["plan"] == plan].set_index("band").reindex(labels)
        out[plan] = [("" if pd.isna(r) else f"{int(r):,} ({pct(s)})")
                     for r, s in zip(part["reps"], part["share"], strict=True)]
    frame = pd.DataFrame(out, index=pd.Index(labels, name="Attainment"), dtype="str")
    return frame


def sensitivity_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity side by side: one row per sales change, one column per plan, each cell
    "total payout (cost of sales)".

    Parameters
    ----------
    sensitivity
        ``Comparison.sensitivity``: ``plan, sales_change, total_payout_cents,
        revenue_cents, cost_of_sales``.
    """
    changes = list(dict.fromkeys(sensitivity["sales_change"].tolist()))
    plans = list(dict.fromkeys(sensitivity["plan"].tolist()))
    out = {}
    for plan in plans:
        part = sensitivity[sensitivity["plan"] == plan].set_index("sales_change").reindex(changes)
        out[plan] = [("" if pd.isna(c) else f"{money(c)} ({pct(r)})")
                     for c, r in zip(part["total_payout_cents"], part["cost_of_sales"],
                                     strict=True)]
    labels = [("+" if c > 0 else "") + pct(c, 0) for c in changes]
    return pd.DataFrame(out, index=pd.Index(labels, name="Sales change"), dtype="str")


def decision_paragraph(headline: pd.DataFrame, *, baseline: str) -> str:
    """A short Markdown list stating what each plan would cost against the baseline.

    Built only from numbers in ``headline`` (``Comparison.headline``: one row per plan with
    ``plan``, ``total_payout_cents``, ``cost_of_sales``, ``share_at_or_above_100``,
    ``delta_cents`` and, when present, ``p10_cents``/``p90_cents`` of the simulated cost).
    Names are escaped.
    """
    h = headline.set_index("plan", drop=False)
    base = h.loc[baseline]
    base_total = int(base["total_payout_cents"])
    text = [
        f"- Under the baseline **{escape_markdown(baseline)}** the plan pays "
        f"**{money(base_total)}**, a cost of sales of {pct(base['cost_of_sales'])}, "
        f"with {pct(base['share_at_or_above_100'], 0)} of reps at or above quota."
    ]
    others = [p for p in h.index if p != baseline]
    for name in others:
        row = h.loc[name]
        total = int(row["total_payout_cents"])
        delta = int(row["delta_cents"])
        change = (f"{money(abs(delta))} {'more' if delta > 0 else 'less'} than the baseline"
                  if delta else "the same as the baseline")
        rel = (f" ({'+' if delta > 0 else ''}{pct(row['delta_pct'])})"
               if "delta_pct" in h.columns and pd.notna(row["delta_pct"]) else "")
        text.append(
            f"- **{escape_markdown(name)}** would pay **{money(total)}**, {change}{rel}; "
            f"cost of sales {pct(row['cost_of_sales'])}, "
            f"{pct(row['share_at_or_above_100'], 0)} of reps at or above quota."
        )
    if others:
        cheapest = min(h.index, key=lambda p: int(h.loc[p, "total_payout_cents"]))
        text.append(f"- On last year's sales the least costly option is "
                    f"**{escape_markdown(cheapest)}**.")
    if {"p10_cents", "p90_cents"} <= set(h.columns):
        spans = "; ".join(
            f"{escape_markdown(p)} {money(h.loc[p, 'p10_cents'])} to "
            f"{money(h.loc[p, 'p90_cents'])}" for p in h.index)
        text.append(f"- If sales vary as simulated, the cost falls between P10 and P90 of: "
                    f"{spans}.")
    return "\n".join(text)


def _excel_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Cents columns as currency units (for reading in Excel), with the money and percent
    column names so the writer can set number formats."""
    out = {}
    money_cols: list[str] = []
    pct_cols: list[str] = []
    for col in frame.columns:
        name = str(col)
        s = frame[col]
        if name.endswith("_cents") and pd.api.types.is_numeric_dtype(s.dtype):
            key = name[: -len("_cents")]
            out[key] = s.astype("float64") / 100
            money_cols.append(key)
        elif name in ("p10", "p50", "p90") and pd.api.types.is_numeric_dtype(s.dtype):
            out[name] = s.astype("float64") / 100
            money_cols.append(name)
        else:
            if pd.api.types.is_numeric_dtype(s.dtype) and _is_percent(name):
                pct_cols.append(name)
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                s = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
            out[name] = s
    return pd.DataFrame(out, index=frame.index), money_cols, pct_cols


def write_workbook(path: str | Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write frames to an Excel workbook, one sheet each, numbers kept as numbers.

    Money columns (``*_cents``, and ``p10``/``p50``/``p90``) are written in currency units
    under the name without ``_cents`` with the format ``#,##0.00``; share columns get
    ``0.0%``.  Sheet names are cut to Excel's 31 characters.  The caller decides which
    frames an audience may see (see :func:`drop_identity`, :func:`suppress_small_groups`).
    """
    from openpyxl.utils import get_column_letter

    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            data, money_cols, pct_cols = _excel_frame(frame.reset_index(drop=True))
            name = sheet[:31]
            data.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            for i, col in enumerate(data.columns, start=1):
                letter = get_column_letter(i)
                fmt = "#,##0.00" if col in money_cols else "0.0%" if col in pct_cols else None
                ws.column_dimensions[letter].width = max(10, min(40, len(str(col)) + 4))
                if fmt:
                    for cell in ws[letter][1:]:
                        cell.number_format = fmt
    return path
