"""Capacity planning (spmkit.planning.capacity): published examples, hand-computed plans,
history estimators, properties and the capacity-planning notebook."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spmkit.planning.capacity as capacity_module
from spmkit.errors import InputError
from spmkit.planning import (
    KELLBLOG_RAMP,
    RAMP_NORM_MONTHS,
    RampCurve,
    attrition_from_history,
    capacity_cents,
    parse_target,
    plan_capacity,
    productivity_from_history,
    rep_equivalents,
)
from spmkit.tables import load_deals, load_fx, load_roster

ROOT = Path(__file__).resolve().parent.parent


def _roster(rows: list[tuple[str, str, str | None, str | None]]) -> pd.DataFrame:
    """(rep_id, role, hire_date, term_date) -> a loaded roster."""
    return load_roster(pd.DataFrame(rows, columns=["rep_id", "role", "hire_date", "term_date"]))


def test_module_doctests():
    assert doctest.testmod(capacity_module).failed == 0


# --- published examples ---------------------------------------------------------------------

def test_metrickittools_capacity_example():
    """metrickittools, "Sales capacity planning" guide: 7 ramped reps x 150k x 85% plus 3
    ramping reps x 150k x 40% = 892.5k + 180k = 1.0725M."""
    assert capacity_cents([7], ["0.85"], 150_000_00) == 892_500_00
    assert capacity_cents([3], ["0.40"], 150_000_00) == 180_000_00
    assert capacity_cents([7, 3], ["0.85", "0.40"], 150_000_00) == 1_072_500_00


def test_modus_ramped_rep_equivalents():
    """Modus wiki, "RRE (ramped rep equivalent)": tenure 0-3 months: 5 reps at 25%; 3-6: 3 at
    60%; 6-9: 2 at 85%; 9+: 15 at 100% -> 19.75 RRE from 25 heads."""
    hires = (["2025-12-10"] * 5 + ["2025-09-05"] * 3 + ["2025-06-20"] * 2
             + ["2023-02-01"] * 15)
    roster = _roster([(f"R{i:02d}", "AE", h, None) for i, h in enumerate(hires)])
    rre = rep_equivalents(roster, "2026-01-15", RampCurve(("0.25", "0.60", "0.85")))
    assert len(rre) == 25
    assert rre["factor"].sum() == pytest.approx(19.75, abs=1e-12)
    assert rre.groupby("factor").size().to_dict() == {0.25: 5, 0.6: 3, 0.85: 2, 1.0: 15}


def test_rep_ramp_planner_example():
    """hex.pm rep_ramp_planner README: quota 50,000 a month, ramp 0, 25, 50, 75, 100% then
    full, over 6 months -> 0; 12,500; 25,000; 37,500; 50,000; 50,000 = 175,000, and
    125,000 lost to ramp."""
    roster = _roster([("R1", "AE", "2026-01-01", None)])
    plan = plan_capacity(roster, year=2026, target_cents=0, productivity=600_000_00,
                         ramp=["0", "0.25", "0.5", "0.75"], ramp_unit="month", attrition=0)
    first_six = plan.months.head(6)
    assert first_six["capacity_cents"].tolist() == [0, 12_500_00, 25_000_00, 37_500_00,
                                                    50_000_00, 50_000_00]
    assert first_six["capacity_cents"].sum() == 175_000_00
    assert first_six["ramp_loss_cents"].sum() == 125_000_00
    assert plan.quarters["capacity_cents"].tolist()[:2] == [37_500_00, 137_500_00]


def test_ramp_norms_for_reports():
    """QuotaPath: new hires take 9-13 months to full productivity; kellblog: ramp by quarter
    0/25/50/100%."""
    assert RAMP_NORM_MONTHS == (9, 13)
    assert [float(f) for f in KELLBLOG_RAMP.factors] == [0, 0.25, 0.5]
    assert KELLBLOG_RAMP.unit == "quarter" and KELLBLOG_RAMP.months_to_full == 9
    assert KELLBLOG_RAMP.at([0, 2, 3, 5, 6, 8, 9, 40]).tolist() == [0, 0, .25, .25, .5, .5, 1, 1]
    roster = _roster([("R1", "AE", "2020-01-01", None)])
    within = plan_capacity(roster, year=2026, target_cents=0, productivity=100_00, attrition=0)
    assert within.ramp is KELLBLOG_RAMP
    assert any("9 months to full productivity, within the 9-13 month norm" in n
               for n in within.notes)
    short = plan_capacity(roster, year=2026, target_cents=0, productivity=100_00, attrition=0,
                          ramp=["0.5", "0.75"])
    assert any("6 months to full productivity, shorter than" in n for n in short.notes)
    long = plan_capacity(roster, year=2026, target_cents=0, productivity=100_00, attrition=0,
                         ramp=["0", "0.2", "0.4", "0.6", "0.8"])
    assert any("15 months to full productivity, longer than" in n for n in long.notes)


# --- hand-computed plans --------------------------------------------------------------------

def test_two_ramped_reps_and_a_known_leaver():
    """Two ramped reps at 120,000 a year (10,000 a month); one leaves on 14 Feb 2026
    (14 of 28 February days employed)."""
    roster = _roster([("A", "AE", "2020-01-01", None), ("B", "AE", "2020-01-01", "2026-02-14")])
    plan = plan_capacity(roster, year=2026, target_cents=0, productivity=120_000_00,
                         attrition=0)
    months = plan.months["capacity_cents"].tolist()
    assert months[:3] == [20_000_00, 15_000_00, 10_000_00]
    assert months[3:] == [10_000_00] * 9
    assert plan.quarters["capacity_cents"].tolist() == [45_000_00, 30_000_00, 30_000_00,
                                                        30_000_00]
    assert plan.quarters["rre"].tolist()[1:] == [1.0, 1.0, 1.0]
    assert plan.quarters["ramp_loss_cents"].sum() == 0


def test_attrition_expected_survival_and_its_loss():
    """Annual attrition 20%: a rep is still there ``t`` years in with probability 0.8**t,
    measured to the middle of each month; the loss is capacity without attrition minus
    with it."""
    roster = _roster([("A", "AE", "2020-01-01", None)])
    plan = plan_capacity(roster, year=2026, target_cents=0, productivity=120_000_00,
                         attrition="0.2")
    survival = 0.8 ** ((np.arange(12) + 0.5) / 12)
    expected = np.floor(10_000_00 * survival + 0.5).astype(np.int64)
    assert plan.months["capacity_cents"].tolist() == expected.tolist()
    assert plan.months["attrition_loss_cents"].tolist() == (10_000_00 - expected).tolist()
    assert plan.quarters["heads"].iloc[0] == pytest.approx(survival[:3].mean())
    by_role = plan_capacity(roster, year=2026, target_cents=0, productivity=120_000_00,
                            attrition={"AE": "0.2"})
    assert by_role.months["capacity_cents"].tolist() == expected.tolist()


def test_hires_close_the_year_gap_and_requisitions_open_a_lead_time_before():
    """Two ramped reps make 240,000 a year (60,000 a quarter).  Target 375,000: gap 135,000.
    Ramp 0%, 50% by quarter: a hire starting 1 January adds 0 + 15,000 + 30,000 + 30,000 =
    75,000, so 2 hires start in Q1 and their requisitions open 3 months before, on
    1 October 2025.  From 1 November 2025 Q1 is too late: a Q2 hire adds 45,000, so 3."""
    roster = _roster([("A", "AE", "2020-01-01", None), ("B", "AE", "2020-01-01", None)])
    common = dict(year=2026, target_cents=375_000_00, productivity=120_000_00, attrition=0,
                  ramp=["0", "0.5"], lead_time_months=3)
    plan = plan_capacity(roster, **common)
    q = plan.quarters
    assert q["gap_cents"].sum() == 135_000_00
    assert q["hires"].tolist() == [2, 0, 0, 0]
    assert q["hire_capacity_cents"].tolist() == [0, 30_000_00, 60_000_00, 60_000_00]
    assert q["gap_after_hires_cents"].sum() == -15_000_00
    assert plan.hiring["recruit_by"].tolist() == [pd.Timestamp("2025-10-01")]
    assert plan.hiring["capacity_cents"].tolist() == [150_000_00]
    late = plan_capacity(roster, as_of="2025-11-01", **common)
    assert late.quarters["hires"].tolist() == [0, 3, 0, 0]
    assert late.hiring["recruit_by"].tolist() == [pd.Timestamp("2026-01-01")]
    assert late.totals()["gap_after_hires_cents"] == 0
    capped = plan_capacity(roster, as_of="2025-11-01", max_hires_per_quarter=2, **common)
    assert capped.quarters["hires"].tolist()[:3] == [0, 2, 2]
    assert capped.totals()["gap_after_hires_cents"] == 135_000_00 - 2 * 45_000_00 - 2 * 15_000_00
    assert any("do not close the whole gap" in n for n in capped.notes)


def test_quarterly_targets_close_each_quarter_on_its_own():
    """Q4's target is 30,000 above capacity: one hire (ramp 0%, 50% by quarter) from 1 April
    adds 15,000 in Q3 and 30,000 in Q4, enough, and costs less than one from 1 January;
    Q1's shortfall of 10,000 cannot be closed by anyone starting in the year (a first
    quarter at 0%)."""
    roster = _roster([("A", "AE", "2020-01-01", None), ("B", "AE", "2020-01-01", None)])
    plan = plan_capacity(roster, year=2026, productivity=120_000_00, attrition=0,
                         ramp=["0", "0.5"], lead_time_months=0,
                         target_cents=[70_000_00, 60_000_00, 60_000_00, 90_000_00])
    assert plan.settings["basis"] == "quarter"
    assert plan.quarters["gap_cents"].tolist() == [10_000_00, 0, 0, 30_000_00]
    assert plan.quarters["hires"].tolist() == [0, 1, 0, 0]
    assert plan.quarters["gap_after_hires_cents"].tolist() == [10_000_00, 0, -15_000_00, 0]
    assert any("do not close the whole gap" in n for n in plan.notes)


def test_target_phasing_and_parse_target():
    roster = _roster([("A", "AE", "2020-01-01", None)])
    plan = plan_capacity(roster, year=2026, target_cents=1000, productivity=100, attrition=0,
                         phasing=[1, 1, 1, 2])
    assert plan.quarters["target_cents"].tolist() == [200, 200, 200, 400]
    assert parse_target("1,072,500") == 107_250_000
    assert parse_target("1;2;3;4") == [100, 200, 300, 400]
    for bad in ("1;2", "abc", "-5"):
        with pytest.raises(InputError, match="target"):
            parse_target(bad)


def test_capacity_range_is_every_ramped_rep_at_p10_and_p90():
    roster = _roster([("A", "AE", "2020-01-01", None), ("B", "AM", "2020-01-01", None)])
    given = pd.DataFrame({"role": ["AE", "AM"], "productivity_cents": [120_000_00, 60_000_00],
                          "p10_cents": [60_000_00, 30_000_00],
                          "p90_cents": [240_000_00, 90_000_00]})
    plan = plan_capacity(roster, year=2026, target_cents=0, productivity=given, attrition=0)
    q = plan.quarters
    assert q["capacity_cents"].tolist() == [45_000_00] * 4
    assert q["capacity_p10_cents"].tolist() == [22_500_00] * 4
    assert q["capacity_p90_cents"].tolist() == [82_500_00] * 4


# --- history ---------------------------------------------------------------------------------

def _history_deals() -> pd.DataFrame:
    rows = [("D1", "A", "2025-03-01", "100000"), ("D2", "B", "2025-05-01", "200000"),
            ("D3", "C", "2025-07-01", "400000"), ("D4", "N", "2025-09-01", "50000")]
    return load_deals(pd.DataFrame(rows, columns=["deal_id", "rep_id", "close_date", "amount"]))


def test_productivity_is_the_median_of_ramped_reps_with_p10_p90():
    """Three ramped reps sold 100k, 200k, 400k: median 200k; P10 = 100k + 0.2 x 100k = 120k;
    P90 = 200k + 0.8 x 200k = 360k.  N was hired in 2025 (not ramped); M is a manager."""
    roster = load_roster(pd.DataFrame({
        "rep_id": ["M", "A", "B", "C", "N"], "manager_id": ["", "M", "M", "M", "M"],
        "role": ["Manager", "AE", "AE", "AE", "AE"],
        "hire_date": ["2015-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2025-06-01"]}))
    prod = productivity_from_history(_history_deals(), roster, 2026)
    assert prod.to_dict("records") == [{
        "role": "AE", "ramped_reps": 3, "productivity_cents": 200_000_00,
        "p10_cents": 120_000_00, "p90_cents": 360_000_00, "source": "history"}]


def test_attrition_rate_is_leavers_per_rep_year():
    """Four reps in 2025; one leaves on 1 July (182 days employed): 1 leaver over
    3 x 365/365.25 + 182/365.25 rep-years."""
    roster = _roster([("A", "AE", "2020-01-01", None), ("B", "AE", "2020-01-01", None),
                      ("C", "AE", "2020-01-01", None), ("D", "AE", "2020-01-01", "2025-07-01"),
                      ("E", "AM", "2020-01-01", None)])
    attr = attrition_from_history(roster, 2026).set_index("role")
    years = (3 * 365 + 182) / 365.25
    assert attr.loc["AE", "leavers"] == 1
    assert attr.loc["AE", "rep_years"] == pytest.approx(years)
    assert attr.loc["AE", "rate"] == pytest.approx(1 / years)
    assert attr.loc["AM", "rate"] == 0


@pytest.fixture(scope="module")
def sample_tables():
    from spmkit.sample import generate

    t = generate(reps=60, years=2, seed=5, last_year=2025)
    return load_roster(t["roster"]), load_deals(t["deals"]), load_fx(t["fx"])


def test_plan_from_sample_history(sample_tables):
    roster, deals, fx = sample_tables
    plan = plan_capacity(roster, year=2026, target_cents=60_000_000_00, deals=deals, fx=fx)
    assert plan.ramp.source == "history" and plan.ramp.evidence is not None
    assert (plan.ramp.evidence["reps"] >= 3).all()
    factors = [float(f) for f in plan.ramp.factors]
    assert factors == sorted(factors) and all(0 <= f <= 1 for f in factors)
    assert set(plan.productivity["source"]) == {"history"}
    assert set(plan.attrition["role"]) == set(plan.reps["role"])
    q = plan.quarters
    assert (q["capacity_p10_cents"] <= q["capacity_cents"]).all()
    assert (q["capacity_cents"] <= q["capacity_p90_cents"]).all()
    assert (q["gap_cents"] == q["target_cents"] - q["capacity_cents"]).all()
    assert (plan.months.groupby("quarter")["capacity_cents"].sum().to_numpy()
            == q["capacity_cents"].to_numpy()).all()
    # the same inputs give the same numbers
    again = plan_capacity(roster, year=2026, target_cents=60_000_000_00, deals=deals, fx=fx)
    pd.testing.assert_frame_equal(plan.quarters, again.quarters)
    json.dumps(plan.metrics())


def test_given_productivity_takes_the_spread_from_history(sample_tables):
    roster, deals, fx = sample_tables
    plan = plan_capacity(roster, year=2026, target_cents=0, deals=deals, fx=fx,
                         productivity=100_000_00, ramp=["0", "0.5"])
    p = plan.productivity
    assert (p["productivity_cents"] == 100_000_00).all()
    assert (p["p10_cents"] < 100_000_00).all() and (p["p90_cents"] > 100_000_00).all()
    assert set(p["source"]) == {"given"}
    partial = plan_capacity(roster, year=2026, target_cents=0, deals=deals, fx=fx,
                            productivity={"Account Executive": 100_000_00}, ramp=["0", "0.5"])
    source = partial.productivity.set_index("role")["source"]
    assert source["Account Executive"] == "given"
    assert (source.drop("Account Executive") == "history").all()


def test_history_ramp_needs_enough_hires(sample_tables):
    roster, deals, fx = sample_tables
    few = deals[deals["close_date"] >= pd.Timestamp("2025-10-01")]
    with pytest.raises(InputError, match="too few reps hired"):
        plan_capacity(roster, year=2026, target_cents=0, deals=few, fx=fx,
                      productivity=100_000_00, ramp="history")
    fallback = plan_capacity(roster, year=2026, target_cents=0, deals=few, fx=fx,
                             productivity=100_000_00)
    assert fallback.ramp is KELLBLOG_RAMP
    assert any("too few reps hired" in n for n in fallback.notes)


# --- bad settings -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"target_cents": -1}, "must not be negative"),
    ({"target_cents": [1, 2]}, "four, one per quarter"),
    ({"ramp": ["1.5"]}, "between 0 and 1"),
    ({"ramp": ["x"]}, "not a number"),
    ({"ramp_unit": "week", "ramp": ["0.5"]}, "month or quarter"),
    ({"attrition": "1"}, "below 1"),
    ({"lead_time_months": 40}, "0 to 36"),
    ({"hire_role": "CEO"}, "hire role 'CEO'"),
    ({"productivity": {"AM": 100}}, "no productivity for role 'AE'"),
    ({"productivity": None}, "give the productivity"),
])
def test_bad_settings_are_named(kwargs, message):
    roster = _roster([("A", "AE", "2020-01-01", None)])
    settings = {"year": 2026, "target_cents": 100, "productivity": 100_00, "attrition": 0,
                **kwargs}
    with pytest.raises(InputError, match=message):
        plan_capacity(roster, **settings)


def test_no_selling_reps_is_an_error():
    roster = _roster([("A", "AE", "2020-01-01", "2024-05-01")])
    with pytest.raises(InputError, match="no selling reps employed in plan year 2026"):
        plan_capacity(roster, year=2026, target_cents=0, productivity=1, attrition=0)


# --- properties --------------------------------------------------------------------------------

_hire = st.dates(min_value=pd.Timestamp("2023-01-01").date(),
                 max_value=pd.Timestamp("2026-11-30").date())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hires=st.lists(_hire, min_size=1, max_size=8),
       prod=st.integers(min_value=0, max_value=10**10),
       ramp=st.lists(st.sampled_from(["0", "0.1", "0.25", "0.5", "0.75", "1"]), max_size=5),
       rate=st.sampled_from(["0", "0.05", "0.3"]))
def test_capacity_properties(hires, prod, ramp, rate):
    roster = _roster([(f"R{i}", "AE", str(h), None) for i, h in enumerate(hires)])
    plan = plan_capacity(roster, year=2026, target_cents=0, productivity=prod, ramp=ramp,
                         attrition=rate)
    q, m = plan.quarters, plan.months
    # months sum to quarters exactly; money is whole cents
    assert (m.groupby("quarter")["capacity_cents"].sum().to_numpy()
            == q["capacity_cents"].to_numpy()).all()
    assert q["capacity_cents"].dtype == np.int64
    # ramp and attrition only ever take capacity away
    assert (m["ramp_loss_cents"] >= 0).all() and (m["attrition_loss_cents"] >= 0).all()
    assert (m["capacity_cents"] <= m["full_capacity_cents"]).all()
    # a rep more never lowers capacity; a faster ramp never lowers it
    more = plan_capacity(
        _roster([(f"R{i}", "AE", str(h), None) for i, h in enumerate(hires)]
                + [("X", "AE", "2020-01-01", None)]),
        year=2026, target_cents=0, productivity=prod, ramp=ramp, attrition=rate)
    assert (more.months["capacity_cents"] >= m["capacity_cents"]).all()
    faster = plan_capacity(roster, year=2026, target_cents=0, productivity=prod,
                           ramp=["1"] * len(ramp), attrition=rate)
    assert (faster.months["capacity_cents"] >= m["capacity_cents"]).all()


@settings(max_examples=15, deadline=None)
@given(gap_quarters=st.integers(min_value=0, max_value=40))
def test_hires_close_every_closable_year_gap(gap_quarters):
    """With no lead-time limit and a ramp that reaches 100% in the first quarter, the year's
    gap is always closed, with no more than one hire beyond what capacity needs."""
    roster = _roster([("A", "AE", "2020-01-01", None)])
    target = 120_000_00 + gap_quarters * 30_000_00
    plan = plan_capacity(roster, year=2026, target_cents=target, productivity=120_000_00,
                         attrition=0, ramp=["1"])
    t = plan.totals()
    assert t["gap_after_hires_cents"] <= 0
    assert t["hires"] == -(-gap_quarters // 4)


# --- the notebook -----------------------------------------------------------------------------

@pytest.mark.notebook
def test_capacity_notebook_runs_and_reports_the_library_numbers(tmp_path, sample_data):
    """notebooks/capacity_planning.ipynb, executed with Papermill on the shared sample data:
    its metrics sidecar holds the library's numbers."""
    import nbformat
    import papermill

    from spmkit.planning import plan_capacity_from_files

    path = ROOT / "notebooks" / "capacity_planning.ipynb"
    committed = nbformat.read(path, as_version=4)
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    declared = papermill.inspect_notebook(str(path))
    assert all(p["help"] for p in declared.values())
    metrics = tmp_path / "metrics.json"
    params = {"roster_path": str(sample_data / "roster.csv"),
              "history_path": str(sample_data / "deals.csv"),
              "fx_path": str(sample_data / "fx.csv"), "year": 2026, "target": "30000000",
              "lead_time_months": 3, "metrics_path": str(metrics), "audience": "executive"}
    papermill.execute_notebook(str(path), str(tmp_path / "out.ipynb"), parameters=params,
                               kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    written = json.loads(metrics.read_text(encoding="utf-8"))
    plan = plan_capacity_from_files(sample_data / "roster.csv",
                                    history=sample_data / "deals.csv", fx=sample_data / "fx.csv",
                                    year=2026, target_cents=30_000_000_00, lead_time_months=3)
    assert written["capacity"] == json.loads(json.dumps(plan.metrics()))
    assert written["_provenance"]["year"] == 2026
