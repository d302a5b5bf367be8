"""The second edition of the plan format: measures, bases, interpolated tiers, measure-only
components.  Published examples cite their source; "derived" marks arithmetic on a stated
rule; the rest are computed by hand in the docstrings."""

from __future__ import annotations

import pytest
from engine_helpers import annual_quotas, column, commission, deal, make_plan, paid, run

from spmkit.errors import PlanError


def test_sap_curve_on_values_not_attainment() -> None:
    """SAP Community, "Understanding Interpolate and Step business goals calculations in
    Variable Pay" (2022-07-12): payout points (620, 0.5), (1997, 1.0), (2400, 1.5),
    (3324, 2.0), (4000, 3.0) on the measure itself; actual 1313 pays 75.16% (actual/target
    alone would be 65.75%).  Target 10,000 (derived): 0.5 + 0.5 x 693/1377 = 0.751634 ->
    7,516.34."""
    bonus = {"id": "bonus", "type": "bonus", "basis": "value", "attainment": "period",
             "curve": [[620, 0.5], [1997, 1.0], [2400, 1.5], [3324, 2.0], [4000, 3.0]]}
    plan = make_plan(bonus, period="year")
    r = run(plan, [deal("D1", "R", "2026-05-01", 1313)],
            roster=[{"rep_id": "R", "target_incentive": 10_000}])
    assert paid(r, "R", "bonus") == [751_634]
    text = column(r, "R", "bonus", "explain")[0]
    assert "period credit of 1,313.00 pays 75.2% of the 10,000.00 period target" in text
    assert column(r, "R", "bonus", "attainment") != column(r, "R", "bonus", "attainment")  # NaN


@pytest.mark.parametrize(("method", "expected"), [("marginal", 320_000),
                                                  ("retroactive", 520_000)])
def test_sap_step_and_straight_rate_tables(method: str, expected: int) -> None:
    """SAP learning, "Managing Rate Tables": 3% below 100% of quota, 5% above; quota
    100,000, sales 104,000 (derived): step (marginal) 3,000 + 200 = 3,200; straight
    (retroactive) 5% x 104,000 = 5,200."""
    plan = make_plan(commission({"from": 0, "rate": 0.03}, {"from": 1, "rate": 0.05},
                                method=method), period="year")
    r = run(plan, [deal("D1", "R", "2026-09-01", 104_000)], annual_quotas({"R": 100_000}))
    assert paid(r, "R", "commission") == [expected]


def test_mrexcel_count_measure_with_marginal_tiers_on_values() -> None:
    """MrExcel thread 897808: an account-count quota of 330 a year; 25 per account to 100%,
    50 from 100-200%, 75 above; monthly payouts; January's 50 accounts pay 1,250.  Restated
    with the bands at 330 and 660 accounts (``basis: value``) on the year to date."""
    plan = make_plan(commission({"from": 0, "rate": 25}, {"from": 330, "rate": 50},
                                {"from": 660, "rate": 75}, measure="count", basis="value"),
                     period="month")
    deals = [deal(f"A{i}", "R", "2026-01-20", 100) for i in range(50)]
    deals += [deal(f"B{i}", "R", "2026-02-10", 100) for i in range(300)]
    r = run(plan, deals)
    # February: 350 to date -> 330 x 25 + 20 x 50 = 9,250 to date; 8,000 paid in February
    assert paid(r, "R", "commission")[:3] == [125_000, 800_000, 0]
    text = column(r, "R", "commission", "explain")[0]
    assert text.startswith("Commission on year-to-date deals counted of 50: "
                           "25.00 per deal on 50 up to 330")


def test_count_measure_counts_credited_shares_and_clawbacks() -> None:
    """``measure: count``: a 50/50 split deal counts half for each seller; a cancelled deal
    counts minus its share when it is clawed back.  A: 1 + 0.5 in Q1, -1 in Q2; at 100 per
    deal (one band, no quota needed): 150.00 then -100.00."""
    plan = make_plan(commission({"from": 0, "rate": 100}, measure="count", attainment="period"))
    r = run(plan, [deal("D1", "A", "2026-01-10", 500, cancel_date="2026-04-02"),
                   deal("D2", "A", "2026-02-10", 900)],
            splits=[{"deal_id": "D2", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D2", "rep_id": "B", "share": 0.5}])
    assert paid(r, "A", "commission") == [15_000, -10_000, 0, 0]
    assert paid(r, "B", "commission") == [5_000, 0, 0, 0]


def test_count_quota_attainment() -> None:
    """A count measure against a quota of deals: 3 deals of a quota of 4 a year (1 a
    quarter) in Q1 is 300%; the bonus curve [[1, 1], [2, 2]] caps at 2x the 2,500.00 Q1
    target (TI 10,000)."""
    bonus = {"id": "bonus", "type": "bonus", "measure": "count", "attainment": "period",
             "curve": [[1, 1], [2, 2]]}
    plan = make_plan(bonus)
    r = run(plan, [deal(f"D{i}", "A", "2026-02-01", 10) for i in range(3)],
            annual_quotas({"A": 4}), roster=[{"rep_id": "A", "target_incentive": 10_000}])
    assert column(r, "A", "bonus", "attainment")[0] == 3.0
    assert paid(r, "A", "bonus") == [500_000, 0, 0, 0]


def test_interpolated_rate_between_band_points() -> None:
    """``tiers.method: interpolated``: points (0, 2%), (100%, 4%), (200%, 6%); 150% of a
    100,000 quota -> 5% on all 150,000 = 7,500; 250% -> flat 6% on 250,000 = 15,000;
    50% -> 3% on 50,000 = 1,500."""
    plan = make_plan(commission({"from": 0, "rate": 0.02}, {"from": 1, "rate": 0.04},
                                {"from": 2, "rate": 0.06}, method="interpolated"), period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", 150_000), deal("D2", "B", "2026-03-01", 250_000),
                   deal("D3", "C", "2026-03-01", 50_000)],
            annual_quotas({"A": 100_000, "B": 100_000, "C": 100_000}))
    assert paid(r, "A", "commission") == [750_000]
    assert paid(r, "B", "commission") == [1_500_000]
    assert paid(r, "C", "commission") == [150_000]
    assert "interpolated rate of 5% on all of it" in column(r, "A", "commission", "explain")[0]


def test_oracle_equal_tier_values_on_values() -> None:
    """Oracle docs, "Equal Tier Values", restated on values (``basis: value``): an amount of
    exactly 50,000 takes the higher tier, 3%: 1,500.00.  A cent less takes 2%: 999.99."""
    plan = make_plan(commission({"from": 0, "rate": 0.01}, {"from": 25_000, "rate": 0.02},
                                {"from": 50_000, "rate": 0.03}, {"from": 75_000, "rate": 0.04},
                                method="retroactive", basis="value"), period="year")
    r = run(plan, [deal("D1", "R", "2026-06-30", 50_000), deal("D2", "S", "2026-06-30",
                                                                  "49999.99")])
    assert paid(r, "R", "commission") == [150_000]
    assert paid(r, "S", "commission") == [100_000]
    assert "(between 25,000.00 and 50,000.00)" in column(r, "S", "commission", "explain")[0]


def test_measure_component_pays_nothing_and_attains() -> None:
    """``type: measure``: measured and attained (60,000 of a 100,000 quota: 60%), paid 0."""
    measure = {"id": "product_c", "type": "measure", "filter": {"product": ["C"]}}
    plan = make_plan(commission({"from": 0, "rate": 0.1}), measure, period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", 60_000, product="C"),
                   deal("D2", "A", "2026-03-01", 40_000, product="B")],
            annual_quotas({"A": 100_000}))
    assert paid(r, "A", "product_c") == [0]
    assert column(r, "A", "product_c", "attainment") == [0.6]
    assert column(r, "A", "product_c", "explain")[0].startswith(
        "Measured only (pays nothing): period 60,000.00, 60.0% of the 100,000.00 quota")
    assert paid(r, "A", "commission") == [1_000_000]


def test_unknown_measure_and_basis_are_plan_errors() -> None:
    with pytest.raises(PlanError, match="measure"):
        make_plan(commission({"from": 0, "rate": 0.1}, measure="weight"))
    with pytest.raises(PlanError, match="basis"):
        make_plan(commission({"from": 0, "rate": 0.1}, basis="feel"))
