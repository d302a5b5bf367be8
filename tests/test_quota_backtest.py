"""Quotas for the year you have: the plan year as its own history (backtest), partial
history annualized, roll-up quotas for managers, blank potential for managers.  Hand-
computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spmkit.errors import InputError
from spmkit.quota import load_potential, propose_quotas
from spmkit.quota.history import history_coverage
from spmkit.tables import load_deals, load_roster

DEALS = pd.DataFrame({"deal_id": ["D1", "D2", "D3"], "rep_id": ["a", "a", "b"],
                      "close_date": ["2026-03-10", "2026-12-05", "2026-06-01"],
                      "amount": ["1000", "500", "300"]})
ROSTER = pd.DataFrame({"rep_id": ["a", "b", "m"], "manager_id": ["m", "m", None]})


def _propose(**kw):
    kw = {"year": 2026, "history_year": 2026, "method": "growth", "growth": "0",
          "floor": None, "ceiling": None, "phasing": "even", **kw}
    return propose_quotas(load_deals(DEALS), **kw)


def test_coverage_counts_months_from_the_first_deal_to_the_last():
    cov = history_coverage(load_deals(DEALS), pd.Timestamp("2026-01-01"),
                           pd.Timestamp("2026-12-31"))
    assert (cov["months"], cov["window_months"]) == (10, 12)  # March .. December


def test_a_backtest_annualizes_ten_months_and_says_so():
    p = _propose()
    annual = p.annual.set_index("rep_id")["annual_cents"]
    # a: (1000 + 500) x 12/10 = 1800; b: 300 x 12/10 = 360
    assert annual.to_dict() == {"a": 180_000, "b": 36_000}
    assert any(n.startswith("backtest: the history is the plan year 2026 itself")
               for n in p.notes)
    assert any("covers 10 months (2026-03-10 .. 2026-12-05), not 12: each rep's history "
               "is annualized x 12/10 (+20.0%)" in n for n in p.notes)
    assert p.settings["history_year"] == 2026 and p.settings["annualized"]


def test_without_annualizing_the_history_is_as_it_is():
    p = _propose(annualize=False)
    assert p.annual.set_index("rep_id")["annual_cents"].to_dict() == {"a": 150_000,
                                                                      "b": 30_000}
    assert any("covers only 10 of 12 months and is not annualized" in n for n in p.notes)


def test_the_default_history_is_the_year_before():
    with pytest.raises(InputError, match="no deals between 2025-01-01 and 2025-12-31"):
        _propose(history_year=None)
    with pytest.raises(InputError, match="history year 2027 is after plan year 2026"):
        _propose(history_year=2027)


def test_a_manager_with_rollup_gets_the_team_sum_per_period():
    p = _propose(roster=load_roster(ROSTER), rollup=True)
    q = p.quotas.pivot(index="rep_id", columns="period_index", values="quota_cents")
    # even phasing: a 1800 / 4 = 450 a quarter, b 360 / 4 = 90; m = a + b = 540
    assert q.loc["a"].tolist() == [45_000] * 4 and q.loc["b"].tolist() == [9_000] * 4
    assert q.loc["m"].tolist() == [54_000] * 4
    assert p.managers == ("m",)
    assert p.metrics()["total_quota_cents"] == 216_000  # m is not counted twice


def test_rollup_walks_the_whole_tree():
    roster = pd.DataFrame({"rep_id": ["a", "b", "m", "vp"],
                           "manager_id": ["m", "vp", "vp", None]})
    p = _propose(roster=load_roster(roster), rollup=True)
    year = p.quotas.groupby("rep_id")["quota_cents"].sum()
    assert year["m"] == 180_000  # a only
    assert year["vp"] == 216_000  # a (through m) and b


def test_without_rollup_a_manager_who_does_not_sell_gets_no_quota():
    p = _propose(roster=load_roster(ROSTER))
    assert sorted(p.annual["rep_id"]) == ["a", "b"]


def test_blank_potential_is_allowed_for_managers_only(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("rep_id,manager_id,potential\na,m,3\nb,m,1\nm,,\n")
    pot = load_potential(path)
    assert pot["a"] == 3 and pot["b"] == 1 and np.isnan(pot["m"])
    p = propose_quotas(load_deals(DEALS), year=2026, history_year=2026, method="potential",
                       target_cents=100_000, roster=load_roster(path), potential=pot,
                       phasing="even")
    assert p.annual.set_index("rep_id")["annual_cents"].to_dict() == {"a": 75_000,
                                                                      "b": 25_000}
    path.write_text("rep_id,manager_id,potential\na,m,\nb,m,1\nm,,\n")
    with pytest.raises(InputError, match="line 2, column 'potential'"):
        load_potential(path)
