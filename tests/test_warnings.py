"""Warnings, not silent results (spmkit.checks): each warning on a small hand-made case,
and validate --strict as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from spmkit.checks import SpmkitWarning, coverage_warnings, emit, run_warnings
from spmkit.errors import InputError
from spmkit.payout import calculate
from spmkit.plan import load_plan
from spmkit.tables import load_inputs

PLAN = """\
plan: AE 2026
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    tiers:
      method: marginal
      bands: [{from: 0, rate: 0.1}]
"""
SPIF = """
  - id: spif
    type: spif
    filter: {product: [Widget Pro]}
    window: [2026-10-01, 2026-12-31]
    per_deal: 100
"""
RATES = """
  - id: by_product
    type: commission
    rates:
      - {when: {product: [Widget], role: [SDR]}, rate: 0.05}
      - {rate: 0.01}
"""


def _inputs(deals=None, roster=None, quotas=None):
    deals = deals if deals is not None else pd.DataFrame({
        "deal_id": [f"D{m}" for m in range(1, 13)], "rep_id": "a",
        "close_date": [f"2026-{m:02d}-01" for m in range(1, 12)] + ["2026-12-31"],
        "amount": "100", "product": "Widget"})
    quotas = quotas if quotas is not None else pd.DataFrame(
        {"rep_id": ["a"], "year": ["2026"], "quota": ["1000"]})
    return load_inputs(deals, quotas, roster)


def _texts(plan_text, inputs, result=True):
    plan = load_plan(plan_text)
    res = calculate(plan, inputs) if result else None
    return [str(w) for w in run_warnings(plan, inputs, res, plan_source="p.yaml")]


def test_a_clean_run_has_no_warnings():
    assert _texts(PLAN, _inputs()) == []


def test_a_filter_value_that_matches_no_deal():
    texts = _texts(PLAN + SPIF, _inputs())
    assert texts == ["p.yaml, components[1].filter.product: component 'spif': filter product: "
                     "'Widget Pro' matches no deal (product values found: 'Widget')"]


def test_a_rates_when_value_that_matches_nothing():
    roster = pd.DataFrame({"rep_id": ["a"], "role": ["AE"]})
    texts = _texts(PLAN + RATES, _inputs(roster=roster))
    assert len(texts) == 1
    assert texts[0].startswith("p.yaml, components[1].rates[0].when.role: component "
                               "'by_product': rates[0] when role: 'SDR' matches no roster")


def test_a_plan_that_pays_no_one():
    zero = PLAN.replace("rate: 0.1", "rate: 0")
    assert "plan 'AE 2026' pays no one: the total payout of its 1 payees is 0.00" in \
        _texts(zero, _inputs())[-1]


def test_a_roster_plan_column_that_never_names_the_plan():
    roster = pd.DataFrame({"rep_id": ["a"], "plan": ["AE 2025"]})
    texts = _texts(PLAN, _inputs(roster=roster), result=False)
    assert texts == ["roster, plan: the plan column never names plan 'AE 2026' (it names "
                     "'AE 2025'); no rep is on this plan"]


def test_reps_with_no_deals_and_no_quota():
    # m manages a and b: a manager is not expected to sell or carry a quota of their own
    roster = pd.DataFrame({"rep_id": ["a", "b", "c", "m"], "manager_id": ["m", "m", None, None]})
    quotas = pd.DataFrame({"rep_id": ["a", "b"], "year": ["2026"] * 2, "quota": ["1000", "5"]})
    texts = _texts(PLAN, _inputs(roster=roster, quotas=quotas))
    assert texts == ["roster: 1 rep(s) have no deals and no quota: 'c'"]


def test_deals_outside_the_plan_year_are_counted():
    deals = pd.DataFrame({"deal_id": [f"D{m}" for m in range(1, 16)], "rep_id": "a",
                          "close_date": ([f"2026-{m:02d}-01" for m in range(1, 12)]
                                         + ["2026-12-31", "2025-05-01", "2025-06-01",
                                            "2027-01-01"]), "amount": "1"})
    texts = _texts(PLAN, _inputs(deals=deals))
    assert texts == ["deals: 3 of 15 deals close outside the plan year 2026-01-01 .. "
                     "2026-12-31 (2 before, 1 after); they are not paid"]


def test_a_history_shorter_than_the_year_and_partly_covered_periods():
    deals = pd.DataFrame({"deal_id": ["D1", "D2"], "rep_id": "a",
                          "close_date": ["2026-03-15", "2026-11-10"], "amount": "1"})
    texts = _texts(PLAN, _inputs(deals=deals))
    assert texts == [
        "deals: the deals cover 9 of the 12 months of the plan year 2026-01-01 .. 2026-12-31 "
        "(2026-03-15 .. 2026-11-10)",
        "deals: the first period of the plan year with deals, 2026-Q1, is only partly "
        "covered: the deals start on 2026-03-15",
        "deals: the last period of the plan year with deals, 2026-Q4, is only partly "
        "covered: the deals end on 2026-11-10"]


def test_a_period_whose_months_all_have_deals_is_covered():
    deals = pd.DataFrame({"deal_id": ["D1", "D2"], "rep_id": "a",
                          "close_date": ["2026-01-20", "2026-12-02"], "amount": "1"})
    assert _texts(PLAN, _inputs(deals=deals)) == []


def test_coverage_of_a_full_year_with_months():
    deals = pd.DataFrame({"close_date": pd.to_datetime(["2025-01-02", "2025-12-30"])})
    assert coverage_warnings(deals, date(2025, 1, 1), date(2025, 12, 31)) == []


@pytest.mark.parametrize("window, how", [("[2026-12-01, 2027-01-31]", "reaches outside"),
                                         ("[2025-10-01, 2025-12-31]", "lies outside")])
def test_a_spif_window_outside_the_plan_year(window, how):
    plan = PLAN + SPIF.replace("[2026-10-01, 2026-12-31]", window).replace(
        "Widget Pro", "Widget")
    texts = _texts(plan, _inputs(), result=False)
    assert texts == [f"p.yaml, components[1].window: component 'spif': window "
                     f"{window[1:11]} .. {window[13:23]} {how} the plan year 2026-01-01 .. "
                     "2026-12-31; deals outside the plan year are not paid"]


def test_emit_prints_one_line_each_once_and_strict_raises(capsys):
    w = SpmkitWarning("deals", "two\nlines")
    emit([w, w], "validate")
    assert capsys.readouterr().err == "spmkit validate: warning: deals: two lines\n"
    with pytest.raises(InputError, match="1 warning"):
        emit([w], "validate", strict=True)


def test_validate_strict_exits_2(tmp_path):
    (tmp_path / "p.yaml").write_text(PLAN + SPIF)
    (tmp_path / "deals.csv").write_text("deal_id,rep_id,close_date,amount,product\n"
                                        "D1,a,2026-01-01,5,Widget\nD2,a,2026-12-31,5,Widget\n")
    (tmp_path / "quotas.csv").write_text("rep_id,year,quota\na,2026,100\n")
    args = [sys.executable, "-m", "spmkit.cli", "validate", "--plan", "p.yaml",
            "--deals", "deals.csv", "--quotas", "quotas.csv"]
    ok = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr.splitlines() == [
        "spmkit validate: warning: p.yaml, components[1].filter.product: component 'spif': "
        "filter product: 'Widget Pro' matches no deal (product values found: 'Widget')"]
    strict = subprocess.run(args + ["--strict"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert strict.returncode == 2
    assert "1 warning(s) and --strict" in strict.stderr
