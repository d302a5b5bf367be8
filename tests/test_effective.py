"""Changing mid-year: effective-dated roster rows, the plan key ``effective`` and several
plans in one run (plan reference, "Changing mid-year").  Figures are computed by hand in the
docstrings; the PeopleSoft example cites its source."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli
from engine_helpers import annual_quotas, commission, deal, frame, make_plan, paid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spmkit.errors import InputError, PlanError
from spmkit.payout import calculate, calculate_plans
from spmkit.plan import load_plan
from spmkit.tables import load_inputs, load_roster

TIERS = ({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.10})


def _inputs(deals, quotas=None, roster=None, **kw):
    return load_inputs(frame(deals), quotas=frame(quotas), roster=frame(roster), **kw)


def _ae_mgr():
    ae = make_plan(commission(*TIERS), plan="AE")
    mgr = make_plan(commission(*TIERS), plan="MGR")
    roster = [
        {"rep_id": "R1", "plan": "AE", "role": "AE", "effective_from": "",
         "effective_to": "2026-02-14"},
        {"rep_id": "R1", "plan": "MGR", "role": "Manager", "effective_from": "2026-02-15",
         "effective_to": ""},
        {"rep_id": "R2", "plan": "AE", "role": "AE", "effective_from": "", "effective_to": ""},
    ]
    deals = [deal("D1", "R1", "2026-01-10", 20_000), deal("D2", "R1", "2026-02-20", 20_000),
             deal("D3", "R2", "2026-05-01", 10_000)]
    return ae, mgr, _inputs(deals, annual_quotas({"R1": 120_000, "R2": 120_000}), roster)


def test_role_change_in_the_middle_of_a_period() -> None:
    """R1 is an AE to 14 Feb, then a manager.  Quarterly quota 30,000 (120,000 a year);
    Q1 has 90 days, 45 under each plan, so each plan's Q1 quota is 15,000.
    AE: D1 (20,000, 10 Jan) only: 5% x 15,000 + 10% x 5,000 = 1,250.00; no AE rows for R1
    after Q1.  MGR: D2 (20,000, 20 Feb) only: 1,250.00 in Q1; in Q2 the year-to-date quota
    is 15,000 + 30,000 = 45,000, so 20,000 earns 5% = 1,000 to date: -250.00."""
    ae, mgr, inputs = _ae_mgr()
    a, m = calculate_plans([ae, mgr], inputs)
    assert paid(a, "R1", "commission") == [125_000]
    assert paid(a, "R2", "commission") == [0, 50_000, 0, 0]
    assert paid(m, "R1", "commission") == [125_000, -25_000, 0, 0]
    q1 = a.attainment[(a.attainment["rep_id"] == "R1") & (a.attainment["period_index"] == 0)]
    assert q1["quota_cents"].tolist() == [1_500_000]
    assert sorted(a.credits["deal_id"]) == ["D1", "D3"] and m.credits["deal_id"].tolist() == [
        "D2"]


def test_several_plans_from_the_command_line(tmp_path: Path) -> None:
    """The same case through ``spmkit calc --plan --plan``: rows carry the plan's name, the
    summary gives each plan's total (1,750.00 and 1,000.00) and the run's 2,750.00."""
    ae, mgr, _ = _ae_mgr()
    (tmp_path / "ae.yaml").write_text(ae.to_yaml())
    (tmp_path / "mgr.yaml").write_text(mgr.to_yaml())
    pd.DataFrame([{"rep_id": "R1", "plan": "AE", "effective_to": "2026-02-14"},
                  {"rep_id": "R1", "plan": "MGR", "effective_from": "2026-02-15"},
                  {"rep_id": "R2", "plan": "AE"}]).to_csv(tmp_path / "roster.csv", index=False)
    frame([deal("D1", "R1", "2026-01-10", 20_000), deal("D2", "R1", "2026-02-20", 20_000),
           deal("D3", "R2", "2026-05-01", 10_000)]).to_csv(tmp_path / "deals.csv", index=False)
    annual_quotas({"R1": 120_000, "R2": 120_000}).to_csv(tmp_path / "quotas.csv", index=False)
    args = ["--plan", tmp_path / "ae.yaml", "--plan", tmp_path / "mgr.yaml", "--deals",
            tmp_path / "deals.csv", "--quotas", tmp_path / "quotas.csv", "--roster",
            tmp_path / "roster.csv"]
    done = run_cli("calc", *args, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "AE: 2 payees" in done.stdout and "total payout 1,750.00 USD" in done.stdout
    assert "MGR: 1 payees" in done.stdout and "total payout 2,750.00 USD" in done.stdout
    payouts = pd.read_csv(tmp_path / "out" / "payouts.csv", dtype=str)
    assert payouts.columns[0] == "plan"
    r1 = payouts[payouts["rep_id"] == "R1"]
    assert list(zip(r1["plan"], r1["period"], r1["amount"], strict=True)) == [
        ("AE", "2026-Q1", "1250.00"), ("MGR", "2026-Q1", "1250.00"),
        ("MGR", "2026-Q2", "-250.00"), ("MGR", "2026-Q3", "0.00"), ("MGR", "2026-Q4", "0.00")]
    credits = pd.read_csv(tmp_path / "out" / "credits.csv", dtype=str)
    assert list(zip(credits["plan"], credits["deal_id"], strict=True)) == [
        ("AE", "D1"), ("AE", "D3"), ("MGR", "D2")]
    explained = run_cli("explain", *args, "--rep", "R1")
    assert explained.returncode == 0, explained.stderr
    assert "under plan 'AE'" in explained.stdout and "under plan 'MGR'" in explained.stdout


def test_target_incentive_is_the_rows_prorated_by_its_days() -> None:
    """A bonus plan (weight 1, period attainment, curve 0 -> 0, 1 -> 1) for a rep whose row
    names it from 1 Aug with a 40,000 target (the row before, with 80,000 on another plan,
    does not count).  Q3 has 92 days, 61 from 1 Aug: quota 30,000 x 61/92 = 19,891.30;
    a deal of exactly that is 100%; the target is 40,000 x (30,000 / 120,000) x 61/92 =
    6,630.43.  Q4: no credit, nothing paid."""
    bonus = {"id": "bonus", "type": "bonus", "attainment": "period",
             "curve": [[0, 0], [1, 1]]}
    plan = make_plan(bonus, plan="Bonus")
    roster = [{"rep_id": "R", "plan": "Other", "target_incentive": 80_000,
               "effective_to": "2026-07-31"},
              {"rep_id": "R", "plan": "Bonus", "target_incentive": 40_000,
               "effective_from": "2026-08-01"}]
    r = calculate(plan, _inputs([deal("D1", "R", "2026-09-01", "19891.30")],
                                annual_quotas({"R": 120_000}), roster))
    assert paid(r, "R", "bonus") == [663_043, 0]


def test_plan_effective_days_only() -> None:
    """``effective: [2026-04-01, 2026-09-30]`` on a flat 10% plan: a deal in March and one in
    October earn nothing; the May deal of 5,000 earns 500.00; rows only for Q2 and Q3."""
    plan = make_plan(commission({"from": 0, "rate": 0.10}), period="quarter",
                     effective=["2026-04-01", "2026-09-30"])
    deals = [deal("D1", "R", "2026-03-31", 1_000), deal("D2", "R", "2026-05-01", 5_000),
             deal("D3", "R", "2026-10-01", 7_000)]
    r = calculate(plan, _inputs(deals, annual_quotas({"R": 40_000})))
    assert paid(r, "R", "commission") == [50_000, 0]
    assert r.credits["deal_id"].tolist() == ["D2"]


def test_rollup_follows_the_manager_in_force_on_the_credit_date() -> None:
    """R1 reports to M1 until 30 June, then to M2.  A roll-up plan at a flat 10%: M1 is
    credited with R1's March deal (10,000 -> 1,000.00 in Q1), M2 with the August one
    (20,000 -> 2,000.00 in Q3); neither gets the other's."""
    plan = make_plan(commission({"from": 0, "rate": 0.10}), credit="rollup", period="quarter")
    roster = [{"rep_id": "M1"}, {"rep_id": "M2"},
              {"rep_id": "R1", "manager_id": "M1", "effective_to": "2026-06-30"},
              {"rep_id": "R1", "manager_id": "M2", "effective_from": "2026-07-01"}]
    deals = [deal("D1", "R1", "2026-03-01", 10_000), deal("D2", "R1", "2026-08-01", 20_000)]
    quotas = annual_quotas({"M1": 100_000, "M2": 100_000, "R1": 100_000})
    r = calculate(plan, _inputs(deals, quotas, roster))
    assert paid(r, "M1", "commission") == [100_000, 0, 0, 0]
    assert paid(r, "M2", "commission") == [0, 0, 200_000, 0]


def test_rates_use_the_role_in_force_on_the_line_date() -> None:
    """``rates:`` on role: 10% for an AE, 4% for a Manager.  The rep is an AE to 30 June,
    then a Manager, under one plan (no plan column): the May deal of 1,000 pays 100.00, the
    September deal of 1,000 pays 40.00."""
    comp = {"id": "commission", "type": "commission",
            "rates": [{"when": {"role": ["AE"]}, "rate": 0.10}, {"rate": 0.04}]}
    plan = make_plan(comp, period="quarter")
    roster = [{"rep_id": "R", "role": "AE", "effective_to": "2026-06-30"},
              {"rep_id": "R", "role": "Manager", "effective_from": "2026-07-01"}]
    deals = [deal("D1", "R", "2026-05-01", 1_000), deal("D2", "R", "2026-09-01", 1_000)]
    r = calculate(plan, _inputs(deals, roster=roster))
    assert paid(r, "R", "commission") == [0, 10_000, 4_000, 0]


def test_peoplesoft_award_prorated_by_time_in_plan() -> None:
    """PeopleSoft HCM Variable Compensation, "Calculating Awards": award = target x
    proration (time in plan) x performance; target 10,000, 181 of 365 days, performance
    1.12 -> 5,553.97 (derived).  Restated: the rep's row names the bonus plan (year period,
    curve 0 -> 0, 1 -> 1, extended) from 4 July 2026, 181 days; the prorated quota is
    36,500 x 181/365 = 18,100 and credit 20,272 is 112% of it."""
    bonus = {"id": "bonus", "type": "bonus", "attainment": "period", "curve": [[0, 0], [1, 1]],
             "above_last": "extend"}
    plan = make_plan(bonus, plan="Bonus", period="year")
    roster = [{"rep_id": "R", "plan": "Other", "target_incentive": 99_000,
               "effective_to": "2026-07-03"},
              {"rep_id": "R", "plan": "Bonus", "target_incentive": 10_000,
               "effective_from": "2026-07-04"}]
    deals = [deal("D0", "R", "2026-03-01", 50_000), deal("D1", "R", "2026-09-01", 20_272)]
    r = calculate(plan, _inputs(deals, annual_quotas({"R": 36_500}), roster))
    assert paid(r, "R", "bonus") == [555_397]
    assert r.attainment["quota_cents"].tolist() == [1_810_000]


# ------------------------------------------------------------------------- validation


def test_overlapping_roster_rows_are_one_error_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("rep_id,plan,effective_from,effective_to\n"
                    "R1,AE,,2026-06-30\nR1,MGR,2026-06-01,\nR2,AE,2026-05-01,2026-04-01\n")
    with pytest.raises(InputError) as err:
        load_roster(path)
    text = str(err.value)
    assert "roster rows of rep 'R1' overlap" in text and "line 2" in text and "line 3" in text
    assert "effective_to 2026-04-01 is before effective_from 2026-05-01" in text


def test_current_view_of_an_effective_dated_roster(tmp_path: Path) -> None:
    """``load_roster`` gives each rep's latest row (hire date the earliest); ``all_rows``
    gives every row."""
    path = tmp_path / "roster.csv"
    path.write_text("rep_id,role,hire_date,effective_from,effective_to\n"
                    "R1,AE,2024-03-01,,2026-06-30\nR1,Manager,2026-07-01,2026-07-01,\n")
    current = load_roster(path)
    assert current[["rep_id", "role"]].values.tolist() == [["R1", "Manager"]]
    assert f"{current['hire_date'].iloc[0]:%Y-%m-%d}" == "2024-03-01"
    assert len(load_roster(path, all_rows=True)) == 2


@pytest.mark.parametrize(("effective", "message"), [
    (["2026-09-01", "2026-03-01"], "is after"),
    (["2027-02-01", "2027-03-01"], "outside the plan year"),
])
def test_plan_effective_is_checked(effective: list[str], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        make_plan(commission({"from": 0, "rate": 0.1}), effective=effective)


def test_several_plans_need_distinct_names_and_one_currency(tmp_path: Path) -> None:
    from spmkit.errors import SpmkitError

    ae, mgr, inputs = _ae_mgr()
    with pytest.raises(SpmkitError, match="both named 'AE'"):
        calculate_plans([ae, ae], inputs)
    with pytest.raises(SpmkitError, match="EUR, USD"):
        calculate_plans([ae, mgr.model_copy(update={"currency": "EUR"})], inputs)


# ------------------------------------------------------------------------- properties

_amounts = st.integers(min_value=-50_000, max_value=2_000_000)
_days = st.dates(min_value=date(2025, 11, 1), max_value=date(2027, 2, 28))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), _days, _amounts),
                      min_size=1, max_size=25),
       period=st.sampled_from(["month", "quarter", "year"]),
       ytd=st.booleans())
def test_effective_covering_the_year_equals_no_effective(deals, period, ytd) -> None:
    """A plan whose ``effective`` covers its whole plan year (or more) pays and credits
    exactly what the plan without the key does; so does a roster split into contiguous
    effective-dated rows that change nothing."""
    bands = ({"from": 0, "rate": 0.04}, {"from": 0.8, "rate": 0.09}, {"from": 1.3, "rate": 0.15})
    plan = make_plan(commission(*bands, attainment="ytd" if ytd else "period",
                                cap={"amount": 30_000}), period=period)
    rows = [deal(f"D{i}", rep, f"{day:%Y-%m-%d}", f"{cents / 100:.2f}")
            for i, (rep, day, cents) in enumerate(deals)]
    quotas = annual_quotas({"A": 90_000, "B": 250_000, "C": 12_000})
    roster = [{"rep_id": r, "target_incentive": 10_000} for r in "ABC"]
    split_roster = [{**row, "effective_to": "2026-05-31"} for row in roster] + [
        {**row, "effective_from": "2026-06-01"} for row in roster]
    plain = calculate(plan, _inputs(rows, quotas, roster))
    for variant, table in [
        (plan.model_copy(update={"effective": (date(2025, 6, 1), date(2027, 6, 1))}), roster),
        (plan.model_copy(update={"effective": (date(2026, 1, 1), date(2026, 12, 31))}), roster),
        (plan, split_roster),
    ]:
        other = calculate(variant, _inputs(rows, quotas, table))
        pd.testing.assert_frame_equal(other.payouts, plain.payouts)
        pd.testing.assert_frame_equal(other.credits, plain.credits)


def test_plan_days_clip_effective_to_the_plan_year() -> None:
    plan = make_plan(commission({"from": 0, "rate": 0.1}), effective=["2025-06-01", "2026-03-31"])
    assert plan.days() == (date(2026, 1, 1), date(2026, 3, 31))
    assert load_plan(plan.to_yaml()) == plan


def test_se_overlay_scenario_beside_the_sellers_plan() -> None:
    """``scenarios/se_overlay.yaml`` with a flat 10% sellers' plan in one run.  Deals: West
    10,000 (AE A1) and 30,000 (split 50/50 A1/A2), East 5,000 (A3).  SE W (West) is
    credited 40,000 and paid 0.1% = 40.00; SE E (East) 5,000 -> 5.00.  The sellers keep
    their credit: A1 1,000 + 1,500 = 2,500.00, A2 1,500.00, A3 500.00 under the sellers'
    plan, and the SE plan pays them nothing."""
    root = Path(__file__).resolve().parents[1]
    se = load_plan(root / "scenarios" / "se_overlay.yaml")
    sellers = make_plan(commission({"from": 0, "rate": 0.10}), plan="Sellers",
                        year_start="2025-01-01")
    roster = [{"rep_id": "A1", "role": "AE", "region": "West"},
              {"rep_id": "A2", "role": "AE", "region": "West"},
              {"rep_id": "A3", "role": "AE", "region": "East"},
              {"rep_id": "W", "role": "Solution Engineer", "region": "West"},
              {"rep_id": "E", "role": "Solution Engineer", "region": "East"}]
    deals = [deal("D1", "A1", "2025-02-01", 10_000, region="West"),
             deal("D2", "A1", "2025-05-01", 30_000, region="West"),
             deal("D3", "A3", "2025-08-01", 5_000, region="East")]
    splits = pd.DataFrame({"deal_id": ["D2", "D2"], "rep_id": ["A1", "A2"], "share": [0.5, 0.5]})
    inputs = load_inputs(frame(deals), roster=frame(roster), splits=splits)
    s, o = calculate_plans([sellers, se], inputs)
    totals = {r: sum(paid(s, r, "commission")) for r in ("A1", "A2", "A3")}
    assert totals == {"A1": 250_000, "A2": 150_000, "A3": 50_000}
    assert sum(paid(o, "W", "commission")) == 4_000 and sum(paid(o, "E", "commission")) == 500
    assert all(sum(paid(o, r, "commission")) == 0 for r in ("A1", "A2", "A3"))
