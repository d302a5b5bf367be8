"""What a scenario report shows each audience, and its display formatting.

The computing rooms (``spmkit.scenario``) return numbers: money as int64 cents in columns
named ``*_cents``, shares and attainment as fractions.  :func:`report_tables` decides which
of those numbers an audience may see (an executive never sees one person's pay, not even
by combining figures); the other functions turn frames into text for people ("1,234.56",
"12.3%") or into a workbook.  Nothing here computes a payout.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.money import money_text as money
from spmkit.scenario.metrics import movers, segment_labels, top_decile, top_fifth

if TYPE_CHECKING:
    from spmkit.scenario import Comparison

__all__ = [
    "FORMULA_TRIGGERS",
    "IDENTITY_COLUMNS",
    "MIN_GROUP_REPS",
    "PERCENT_WORDS",
    "ReportTables",
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
    "report_tables",
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

    This protects one table on its own.  A report that shows several groupings of the same
    reps (regions and roles, with totals) must decide them together:
    :func:`report_tables` does that for the scenario report.

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


# --- what an audience may see ----------------------------------------------------------

#: Smallest number of reps whose pay an executive report shows as one figure (a sum, a
#: share or a distribution).
MIN_GROUP_REPS = 5

#: Fewest payees for which an executive sees ``leverage`` (the 90th-percentile payee's pay
#: over the median's, both interpolated between neighbours).
LEVERAGE_MIN_REPS = 20

#: Headline columns that count reps: the only per-plan figures an executive sees of a plan
#: paying fewer than the minimum group of reps.
_COUNT_COLUMNS = ("plan", "reps", "reps_without_quota")
_DELTA_COLUMNS = ("delta_cents", "delta_pct")
_AUDIENCES = ("executive", "analyst")


@dataclass(frozen=True)
class ReportTables:
    """The frames one audience's scenario report shows (see :func:`report_tables`).

    Attributes
    ----------
    audience : {"executive", "analyst"}
    min_reps : int
        Smallest group shown to an executive.
    baseline : str
        Name of the baseline plan.
    plans : tuple of str
        Every plan of the comparison, baseline first (also those whose figures are hidden).
    headline : DataFrame
        ``Comparison.headline``; for an executive, figures that are not shown are missing
        (``NA``/``NaN``): every figure but the rep counts of a small plan, a top-fifth share
        about fewer than ``min_reps`` reps, the change against a hidden baseline.
    segments : DataFrame
        ``Comparison.segments`` without the rows an executive may not see.
    bands, sensitivity, risk, pay_curves : DataFrame
        The comparison's frames without the plans whose figures are hidden.
    outcomes, rep_deltas : DataFrame
        Rep-level rows.  Analyst: as computed.  Executive: only for drawing aggregate
        figures (shares of reps per bin), without names and ids, and without the plans
        whose figures are hidden; never shown as a table or written to the workbook.
    metrics : dict
        The headline numbers per plan, JSON-safe (``Comparison.metrics`` of the headline
        above: a hidden figure is ``None``).
    small_plans : tuple of str
        Plans paying fewer than ``min_reps`` reps (executive; empty for an analyst).
    hidden_segments : dict
        ``by`` (region, role) -> number of segment rows not shown.
    """

    audience: str
    min_reps: int
    baseline: str
    plans: tuple[str, ...]
    headline: pd.DataFrame
    segments: pd.DataFrame
    bands: pd.DataFrame
    sensitivity: pd.DataFrame
    risk: pd.DataFrame
    pay_curves: pd.DataFrame
    outcomes: pd.DataFrame
    rep_deltas: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    small_plans: tuple[str, ...] = ()
    hidden_segments: Mapping[str, int] = dataclasses.field(default_factory=dict)

    @property
    def executive(self) -> bool:
        """Whether this is the executive (aggregates only) view."""
        return self.audience == "executive"

    def movers(self, plan: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` reps who gain most and lose most under ``plan`` (analyst view only).

        Raises
        ------
        SpmkitError
            In the executive view, or ``plan`` is not a scenario.
        """
        if self.executive:
            raise SpmkitError("movers: the executive view shows no rep")
        if plan not in self.plans[1:]:
            raise SpmkitError(f"{plan!r} is not a scenario of this comparison")
        return movers(self.rep_deltas[self.rep_deltas["plan"] == plan], n)

    def segment_rows(self, by: str) -> pd.DataFrame:
        """The shown rows of :attr:`segments` for one ``by`` (``region`` or ``role``)."""
        if "by" not in self.segments.columns:  # a report without scenarios has none
            return self.segments.iloc[0:0]
        return self.segments[self.segments["by"].astype("str") == by].reset_index(drop=True)

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The workbook sheets of this view (see :func:`write_workbook`): ``headline,
        segments, bands, sensitivity, risk``, and for an analyst ``rep_deltas`` and
        ``rep_outcomes``."""
        out = {"headline": self.headline, "segments": self.segments, "bands": self.bands,
               "sensitivity": self.sensitivity, "risk": self.risk}
        if not self.executive:
            out.update(rep_deltas=self.rep_deltas, rep_outcomes=self.outcomes)
        return out


def report_tables(comparison: Comparison, audience: str = "executive", *,
                  min_reps: int = MIN_GROUP_REPS) -> ReportTables:
    """Every table of a scenario report for one audience, confidential figures removed.

    An analyst sees everything.  An executive sees aggregates only, decided over all the
    report's tables together so that no figure, nor any sum or difference of figures,
    gives the pay of one rep or of fewer than ``min_reps`` reps:

    1. A plan paying fewer than ``min_reps`` reps shows only its rep counts: no total,
       change, cost, share, band, quantile, sensitivity, risk or curve, and its segment
       rows are hidden (each holds fewer than ``min_reps`` of its reps).  A baseline that
       small also hides every scenario's change against it.
    2. A segment row (plan, region or role) is hidden when the baseline or the plan pays
       between 1 and ``min_reps - 1`` of its reps.  The top-fifth payout share is hidden
       when the top fifth, or the other reps with a quota, are fewer than ``min_reps``.
    3. Complementary suppression: every shown figure is a sum of pay over a set of reps
       (the plan totals, each region and role row of every scenario, and the top fifth
       and the rest), so together they form a linear system.  While some combination of
       them gives a hidden figure of rule 2, the pay of one rep, or the pay of a group
       of fewer than ``min_reps`` reps that share a region, a role or both, the smallest
       segment (then the top-fifth share) used by that combination is hidden too.  A
       baseline figure is hidden in every scenario's table that repeats it.

    Parameters
    ----------
    comparison : spmkit.scenario.Comparison
        What :func:`spmkit.scenario.compare` returned.
    audience : {"executive", "analyst"}
    min_reps : int
        Smallest group an executive sees (at least 2).

    Returns
    -------
    ReportTables

    Raises
    ------
    SpmkitError
        Unknown audience, or ``min_reps`` below 2.
    """
    if audience not in _AUDIENCES:
        raise SpmkitError(f"audience {audience!r}: must be one of {', '.join(_AUDIENCES)}")
    if int(min_reps) < 2:
        raise SpmkitError(f"min_reps {min_reps}: must be at least 2")
    min_reps = int(min_reps)
    plans = tuple(str(p) for p in comparison.plans)
    base = plans[0]
    if audience == "analyst":
        return ReportTables(
            audience=audience, min_reps=min_reps, baseline=base, plans=plans,
            headline=comparison.headline, segments=comparison.segments,
            bands=comparison.bands, sensitivity=comparison.sensitivity,
            risk=comparison.risk, pay_curves=comparison.pay_curves,
            outcomes=comparison.outcomes, rep_deltas=comparison.rep_deltas,
            metrics=comparison.metrics(), hidden_segments={})
    system = _FigureSystem(comparison.outcomes, comparison.segments, plans, min_reps)
    hidden = system.suppress()
    shown_plan = {p: ("headline", p) not in hidden for p in plans}
    small = tuple(p for p in plans if system.payees[p] < min_reps)

    shown = [p for p in plans if shown_plan[p]]
    headline = comparison.headline.copy()
    names = headline["plan"].astype("str")
    plan_hidden = ~names.isin(shown).to_numpy()
    top_hidden = names.isin([p for p in plans if ("top_fifth", p) in hidden]).to_numpy()
    decile_hidden = names.isin([p for p in plans if ("top_decile", p) in hidden]).to_numpy()
    # leverage compares two percentiles of individual pay: shown on enough reps only
    few = names.isin([p for p in plans if system.payees[p] < LEVERAGE_MIN_REPS]).to_numpy()
    for col in headline.columns:
        if col in _COUNT_COLUMNS:
            continue
        mask = plan_hidden.copy()
        if col == "top_fifth_payout_share":
            mask |= top_hidden
        if col == "top_decile_payout_share":
            mask |= decile_hidden
        if col == "leverage":
            mask |= few
        if col in _DELTA_COLUMNS and not shown_plan[base]:
            mask[:] = True
        if mask.any():
            headline[col] = _with_missing(headline[col], mask)

    def visible(frame: pd.DataFrame, *, need_baseline: bool = False) -> pd.DataFrame:
        if need_baseline and not shown_plan[base]:
            return frame.iloc[0:0].reset_index(drop=True)
        if len(shown) == len(plans):
            return frame.reset_index(drop=True)
        return frame.loc[frame["plan"].astype("str").isin(shown)].reset_index(drop=True)

    seg = comparison.segments
    if len(seg):
        keys = list(zip(seg["plan"].astype("str"), seg["by"].astype("str"),
                        seg["segment"].astype("str"), strict=True))
        gone = np.array([("segment", *k) in hidden for k in keys], dtype=bool)
        hidden_segments = {str(by): int(n) for by, n in
                           pd.Series(gone).groupby(seg["by"].astype("str").to_numpy())
                           .sum().items()}
        segments = seg.loc[~gone].reset_index(drop=True)
    else:
        hidden_segments, segments = {}, seg
    metrics = dataclasses.replace(comparison, headline=headline).metrics()
    return ReportTables(
        audience=audience, min_reps=min_reps, baseline=base, plans=plans,
        headline=headline, segments=segments, bands=visible(comparison.bands),
        sensitivity=visible(comparison.sensitivity), risk=visible(comparison.risk),
        pay_curves=visible(comparison.pay_curves, need_baseline=True),
        outcomes=drop_identity(visible(comparison.outcomes)),
        rep_deltas=drop_identity(visible(comparison.rep_deltas, need_baseline=True)),
        metrics=metrics, small_plans=small, hidden_segments=hidden_segments)


def _with_missing(values: pd.Series, mask: np.ndarray) -> pd.Series:
    """``values`` with the masked entries missing: integers become nullable ``Int64``."""
    if pd.api.types.is_integer_dtype(values.dtype):
        values = values.astype("Int64")
    elif pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("boolean")
    elif not pd.api.types.is_numeric_dtype(values.dtype):
        values = values.astype(object)
    return values.mask(mask)


#: Which figures complementary suppression hides first: segments, then top/rest shares.
_PRIORITY = {"segment": 0, "top": 1, "rest": 1, "topd": 1, "restd": 1}


class _FigureSystem:
    """The pay sums an executive report could show, as sets of reps, and the display
    units (headline row, top-fifth share, segment row) that show them.

    A figure is keyed ``("total", plan)``, ``("top", plan)``, ``("rest", plan)`` or
    ``("segment", plan, by, segment)`` and is the set of that plan's payees it sums.  A
    unit is keyed ``("headline", plan)``, ``("top_fifth", plan)`` or ``("segment", plan,
    by, segment)`` (a row of the scenario ``plan``, which shows the baseline's sum of the
    segment too).  Figures of different plans sum different unknowns (each plan's pay of
    each rep), so the linear algebra is done plan by plan, over "atoms": the classes of
    payees that belong to exactly the same figures, since no combination of figures can
    tell two reps of one atom apart.
    """

    def __init__(self, outcomes: pd.DataFrame, segments: pd.DataFrame,
                 plans: tuple[str, ...], min_reps: int) -> None:
        self.min_reps = min_reps
        self.plans = plans
        base = plans[0]
        figures: dict[tuple, frozenset] = {}
        units: dict[tuple, list[tuple]] = {}
        self.payees: dict[str, int] = {}
        label: dict[str, dict[str, str]] = {"region": {}, "role": {}}
        for plan in plans:
            rows = outcomes[outcomes["plan"].astype("str") == plan]
            ids = rows["rep_id"].astype("str")
            self.payees[plan] = len(ids)
            figures[("total", plan)] = frozenset(ids)
            top = top_fifth(rows).to_numpy(bool)
            has_q = rows["quota_cents"].to_numpy() > 0
            figures[("top", plan)] = frozenset(ids[top])
            figures[("rest", plan)] = frozenset(ids[has_q & ~top])
            units[("headline", plan)] = [("total", plan)]
            units[("top_fifth", plan)] = [("top", plan), ("rest", plan)]
            decile = top_decile(rows).to_numpy(bool)
            figures[("topd", plan)] = frozenset(ids[decile])
            figures[("restd", plan)] = frozenset(ids[~decile])
            units[("top_decile", plan)] = [("topd", plan), ("restd", plan)]
            for by in label:
                if by in rows.columns:
                    label[by].update(zip(ids, segment_labels(rows[by]), strict=True))
        members = {p: figures[("total", p)] for p in plans}
        if len(segments):
            for plan, by, segment in zip(segments["plan"].astype("str"),
                                         segments["by"].astype("str"),
                                         segments["segment"].astype("str"), strict=True):
                keys = []
                for payer in dict.fromkeys((base, plan)):
                    key = ("segment", payer, by, segment)
                    figures[key] = frozenset(r for r in members.get(payer, ())
                                             if label.get(by, {}).get(r) == segment)
                    keys.append(key)
                units[("segment", plan, by, segment)] = keys
        self.figures = figures
        self.units = units

    def _small(self, key: tuple) -> bool:
        return 0 < len(self.figures[key]) < self.min_reps

    def primary(self) -> set[tuple]:
        """Units hidden before any differencing: small plans and small groups."""
        hidden = set()
        for unit, keys in self.units.items():
            plan = unit[1]
            if self.payees.get(plan, 0) < self.min_reps and unit[0] != "segment":
                hidden.add(unit)
            elif any(self._small(k) for k in keys):
                hidden.add(unit)
            elif unit[0] in ("top_fifth", "top_decile") and min(
                    len(self.figures[k]) for k in keys) < self.min_reps:
                hidden.add(unit)
        return hidden

    def suppress(self) -> set[tuple]:
        """The units to hide: :meth:`primary`, then complementary suppression until no
        protected sum can be worked out from the shown figures."""
        hidden = self.primary()
        while True:
            shown = {k for u, keys in self.units.items() if u not in hidden for k in keys}
            leak = None
            for plan in self.plans:
                leak = self._leak(plan, shown)
                if leak is not None:
                    break
            if leak is None:
                return hidden
            figure = min(leak, key=lambda k: (
                _PRIORITY.get(k[0], 2), len(self.figures[k]),
                sum(k in keys for u, keys in self.units.items() if u not in hidden), k))
            hidden |= {u for u, keys in self.units.items() if figure in keys}

    def _leak(self, plan: str, shown: set[tuple]) -> list[tuple] | None:
        """The shown figures of ``plan`` combining into a protected sum, or None."""
        keys = [k for k in self.figures if k[1] == plan]
        reps = sorted(self.figures[("total", plan)])
        if not reps:
            return None
        index = {r: i for i, r in enumerate(reps)}
        member = np.zeros((len(keys), len(reps)), dtype=bool)
        for i, k in enumerate(keys):
            member[i, [index[r] for r in self.figures[k]]] = True
        atoms, size = np.unique(member.T, axis=0, return_counts=True)  # atom x figure
        figure_atoms = atoms.T.astype(np.float64)  # figure x atom
        rows = [i for i, k in enumerate(keys) if k in shown]
        if not rows:
            return None
        targets = [np.eye(len(size))[size < self.min_reps]]
        targets.append(figure_atoms[[i for i, k in enumerate(keys) if self._small(k)]])
        cells = (figure_atoms[:, None, :] * figure_atoms[None, :, :]).reshape(-1, len(size))
        weight = cells @ size
        targets.append(cells[(weight > 0) & (weight < self.min_reps)])
        target = np.unique(np.vstack(targets), axis=0)
        if not len(target):
            return None
        a = figure_atoms[rows]
        _, sv, vt = np.linalg.svd(a, full_matrices=False)
        basis = vt[sv > sv.max() * 1e-9] if sv.size and sv.max() > 0 else vt[:0]
        residual = target - (target @ basis.T) @ basis
        found = np.flatnonzero(np.abs(residual).max(axis=1) < 1e-7)
        if not len(found):
            return None
        coef, *_ = np.linalg.lstsq(a.T, target[found[0]], rcond=None)
        used = [keys[rows[j]] for j in np.flatnonzero(np.abs(coef) > 1e-9)]
        return used or [keys[rows[0]]]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape_markdown(text: object) -> str:
    """``text`` safe to put inside Markdown: HTML-escaped and Markdown punctuation escaped,
    so a plan or region name shows as written and is never read as markup.  A colon becomes
    ``&#58;`` so a URL in a name is not turned into a link (inside a link, backslash escapes
    would show)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=True))
    return escaped.replace(":", "&#58;")


_NUMERIC_TEXT = re.compile(r"^[-+]?[\d,]+(\.\d+)?[KMBx%]?( \([-+]?[\d,]+(\.\d+)?%\))?$")


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


def _shown(value: object) -> bool:
    return not (value is None or value is pd.NA
                or (isinstance(value, float | np.floating) and math.isnan(value)))


def decision_paragraph(headline: pd.DataFrame, *, baseline: str) -> str:
    """A short Markdown list stating what each plan would cost against the baseline.

    Built only from numbers in ``headline`` (``Comparison.headline``, or the
    :attr:`ReportTables.headline` of an audience: one row per plan with ``plan``,
    ``total_payout_cents``, ``cost_of_sales``, ``share_at_or_above_100``, ``delta_cents``
    and, when present, ``delta_pct`` and ``p10_cents``/``p90_cents`` of the simulated cost).
    A plan whose total is missing (not shown to this audience) is said to be not shown; a
    missing change is left out.  The least costly option is named among the plans shown.
    Names are escaped.
    """
    h = headline.set_index("plan", drop=False)
    shown = [p for p in h.index if _shown(h.loc[p, "total_payout_cents"])]
    hidden_note = "figures not shown: too few reps to keep each one's pay confidential"

    def change(row: pd.Series) -> str:
        if not _shown(row.get("delta_cents")):
            return ""
        delta = int(row["delta_cents"])
        text = (f", {money(abs(delta))} {'more' if delta > 0 else 'less'} than the baseline"
                if delta else ", the same as the baseline")
        if "delta_pct" in row.index and _shown(row["delta_pct"]):
            text += f" ({'+' if delta > 0 else ''}{pct(row['delta_pct'])})"
        return text

    base = h.loc[baseline]
    if baseline in shown:
        text = [
            f"- Under the baseline **{escape_markdown(baseline)}** the plan pays "
            f"**{money(base['total_payout_cents'])}**, a cost of sales of "
            f"{pct(base['cost_of_sales'])}, with {pct(base['share_at_or_above_100'], 0)} "
            "of reps at or above quota."
        ]
    else:
        text = [f"- Baseline **{escape_markdown(baseline)}**: {hidden_note}."]
    others = [p for p in h.index if p != baseline]
    for name in others:
        row = h.loc[name]
        if name not in shown:
            text.append(f"- **{escape_markdown(name)}**: {hidden_note}.")
            continue
        text.append(
            f"- **{escape_markdown(name)}** would pay **{money(row['total_payout_cents'])}**"
            f"{change(row)}; cost of sales {pct(row['cost_of_sales'])}, "
            f"{pct(row['share_at_or_above_100'], 0)} of reps at or above quota."
        )
    if others and len(shown) > 1:
        cheapest = min(shown, key=lambda p: int(h.loc[p, "total_payout_cents"]))
        among = "" if len(shown) == len(h) else " of the plans shown"
        text.append(f"- On last year's sales the least costly option{among} is "
                    f"**{escape_markdown(cheapest)}**.")
    if {"p10_cents", "p90_cents"} <= set(h.columns):
        ranged = [p for p in shown if _shown(h.loc[p, "p10_cents"])]
        spans = "; ".join(
            f"{escape_markdown(p)} {money(h.loc[p, 'p10_cents'])} to "
            f"{money(h.loc[p, 'p90_cents'])}" for p in ranged)
        if spans:
            text.append(f"- If sales vary as simulated, the cost falls between P10 and P90 "
                        f"of: {spans}.")
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


#: First characters that make a spreadsheet read a cell as a formula (or a DDE call) when
#: it is typed or imported: such text is written as text, with Excel's quote prefix.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def write_workbook(path: str | Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write frames to an Excel workbook, one sheet each, numbers kept as numbers.

    Money columns (``*_cents``, and ``p10``/``p50``/``p90``) are written in currency units
    under the name without ``_cents`` with the format ``#,##0.00``; share columns get
    ``0.0%``.  Sheet names are cut to Excel's 31 characters.  Every text cell (headers
    included) is a plain string cell, never a formula: a plan, region, role or rep name
    such as ``=HYPERLINK(...)`` is stored as the text it is, and text starting with one of
    :data:`FORMULA_TRIGGERS` also gets Excel's quote prefix, so editing the cell keeps it
    text.  Missing values are empty cells.  The caller decides which frames an audience
    may see (see :func:`report_tables`).
    """
    from openpyxl.utils import get_column_letter

    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            data, money_cols, pct_cols = _excel_frame(frame.reset_index(drop=True))
            name = sheet[:31]
            data.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            for row in ws.iter_rows():
                for cell in row:
                    _as_text(cell)
            for i, col in enumerate(data.columns, start=1):
                letter = get_column_letter(i)
                fmt = "#,##0.00" if col in money_cols else "0.0%" if col in pct_cols else None
                ws.column_dimensions[letter].width = max(10, min(40, len(str(col)) + 4))
                if fmt:
                    for cell in ws[letter][1:]:
                        cell.number_format = fmt
    return path


def _as_text(cell: Any) -> None:
    """Keep a string cell a string: openpyxl makes any text starting with ``=`` a formula."""
    value = cell.value
    if not isinstance(value, str):
        return
    if value == "":  # pandas writes a missing value as ""
        cell.value = None
        return
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
