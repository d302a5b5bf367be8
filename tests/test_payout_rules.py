"""Spec rules 2-10, quota phasing, periods and outputs: hand-computed cases.

Each test names the rule of ``docs/semantics.md`` (the spec's "Semantics" list) it pins.
Money in the assertions is in cents.
"""

from __future__ import annotations

import filecmp
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_helpers import (
    annual_quotas,
    column,
    commission,
    deal,
    flat,
    inputs,
    make_plan,
    paid,
    period_quotas,
    run,
)

from spmkit.errors import InputError
from spmkit.payout import calculate, prepare, write_outputs

QTR_100K = annual_quotas({"A": 400_000})  # 100,000 a quarter


def bonus(curve: list, *, weight: float | str = 0.25, attainment: str = "period",
          above_last: str = "cap", cid: str = "bonus", **kw: object) -> dict:
    return {"id": cid, "type": "bonus", "weight": weight, "attainment": attainment,
            "curve": curve, "above_last": above_last, **kw}


def spif(window: tuple[str, str], cid: str = "spif", **kw: object) -> dict:
    return {"id": cid, "type": "spif", "window": list(window), **kw}


def quarterly_deals(rep: str, amounts: list[float], day: int = 15) -> list[dict]:
    months = [2, 5, 8, 11]
    return [deal(f"{rep}{i}", rep, f"2026-{months[i]:02d}-{day:02d}", a)
            for i, a in enumerate(amounts) if a]


# ----------------------------------------------------------------------------- rule 2


def test_rule2_filter_selects_deals() -> None:
    """Only deals whose attributes match every filter key count toward the measure."""
    plan = make_plan(flat("0.1", filter={"deal_type": ["new", "expansion"],
                                         "region": ["EMEA"]}))
    r = run(plan, [deal("D1", "A", "2026-02-01", 1000, deal_type="new", region="EMEA"),
                   deal("D2", "A", "2026-02-02", 2000, deal_type="expansion", region="EMEA"),
                   deal("D3", "A", "2026-02-03", 4000, deal_type="renewal", region="EMEA"),
                   deal("D4", "A", "2026-02-04", 8000, deal_type="new", region="APAC"),
                   deal("D5", "A", "2026-02-05", 16000)])  # no attributes: filtered out
    assert paid(r, "A", "commission") == [30000, 0, 0, 0]  # 10% of 3,000
    # attainment uses all credit, unfiltered
    assert int(r.attainment["credit_cents"].sum()) == 3_100_000


def test_rule2_lines_outside_the_plan_year_are_ignored_and_counted() -> None:
    plan = make_plan(flat("0.1"))
    r = run(plan, [deal("D0", "A", "2025-12-31", 1000),
                   deal("D1", "A", "2026-01-01", 10),
                   deal("D2", "A", "2026-12-31", 20),
                   deal("D3", "A", "2027-01-01", 1000),
                   deal("D4", "A", "2026-06-01", 40, cancel_date="2027-02-01")])
    assert paid(r, "A", "commission") == [100, 400, 0, 200]
    assert r.summary["lines_outside_year"] == 3  # D0, D3 and D4's clawback
    assert r.summary["deals"] == 5 and r.summary["credit_lines"] == 6
    assert len(r.credits) == 6  # every line is still reported


# ----------------------------------------------------------------------------- rule 3


def test_rule3_period_and_ytd_attainment() -> None:
    """Quota 100,000 a quarter; credit 150,000 then 50,000.
    period: 1.5, 0.5; ytd: 150/100 = 1.5, 200/200 = 1.0."""
    plan = make_plan(
        commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1}, cid="per",
                   attainment="period"),
        commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1}, cid="ytd"))
    r = run(plan, quarterly_deals("A", [150_000, 50_000]), QTR_100K)
    assert column(r, "A", "per", "attainment") == [1.5, 0.5, 0.0, 0.0]
    assert column(r, "A", "ytd", "attainment") == [1.5, 1.0, 0.666667, 0.5]  # 6 places
    # period: 5,000 + 5,000, then 2,500; ytd: E = 10,000 then 200,000 x 5% = 10,000
    assert paid(r, "A", "per") == [1_000_000, 250_000, 0, 0]
    assert paid(r, "A", "ytd") == [1_000_000, 0, 0, 0]
    att = r.attainment.sort_values("period_index")
    assert att["quota_cents"].tolist() == [10_000_000] * 4
    assert att["ytd_credit_cents"].tolist() == [15_000_000, 20_000_000, 20_000_000, 20_000_000]
    assert att["ytd_quota_cents"].tolist() == [10_000_000, 20_000_000, 30_000_000, 40_000_000]


def test_rule3_zero_quota_with_credit_is_an_error() -> None:
    plan = make_plan(commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1},
                                attainment="period"))
    quotas = period_quotas({"A": [100_000, 0, 100_000, 100_000]}, plan)
    with pytest.raises(InputError, match=r"rep A has credit but a zero .*2026-Q2"):
        run(plan, quarterly_deals("A", [1000, 1000]), quotas)


def test_rule3_zero_quota_without_credit_gives_zero_attainment() -> None:
    plan = make_plan(commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1},
                                attainment="period"))
    quotas = period_quotas({"A": [100_000, 0, 100_000, 100_000]}, plan)
    r = run(plan, quarterly_deals("A", [1000, 0, 1000]), quotas)
    assert column(r, "A", "commission", "attainment") == [0.01, 0.0, 0.01, 0.0]
    assert paid(r, "A", "commission") == [5000, 0, 5000, 0]


def test_rule3_rep_with_quota_and_no_credit_is_paid_zero() -> None:
    plan = make_plan(commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1}))
    r = run(plan, quarterly_deals("A", [1000]), annual_quotas({"A": 4000, "B": 4000}))
    assert column(r, "B", "commission", "attainment") == [0.0] * 4
    assert paid(r, "B", "commission") == [0] * 4


# ----------------------------------------------------------------------------- rule 4


@pytest.mark.parametrize(("weight", "expected"), [(1, 7_000_000), (0.5, 3_500_000)])
def test_rule4_bcr(weight: float, expected: int) -> None:
    """BCR = TI 50,000 x weight / annual quota 500,000 = 0.1 (weight 1) or 0.05 (weight 0.5).
    Credit 600,000: 500,000 x BCR + 100,000 x 2 x BCR = 70,000 (35,000 at weight 0.5)."""
    plan = make_plan(commission({"from": 0, "bcr_multiple": 1}, {"from": 1, "bcr_multiple": 2},
                                weight=weight), period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", 600_000)], annual_quotas({"A": 500_000}),
            roster=[{"rep_id": "A", "target_incentive": 50_000}])
    assert paid(r, "A", "commission") == [expected]


def test_rule4_bcr_uses_the_annual_quota_with_quarterly_periods() -> None:
    """BCR = 40,000 / 400,000 = 10%; Q1 credit 50,000 (ytd quota 100,000) pays 5,000."""
    plan = make_plan(commission({"from": 0, "bcr_multiple": 1}, {"from": 1, "bcr_multiple": 2}))
    r = run(plan, quarterly_deals("A", [50_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    assert paid(r, "A", "commission") == [500_000, 0, 0, 0]


def test_rule4_bcr_prorates_target_incentive_for_a_partial_year() -> None:
    """docs/semantics.md: a rep hired 1 Oct 2026 is employed 92 of 365 days, so BCR uses
    TI 40,000 x 92/365 = 10,082.19178...; with the quota prorated to 25,000 and credit of
    25,000 at 1x BCR the year pays 10,082.19 (not the full 40,000)."""
    plan = make_plan(commission({"from": 0, "bcr_multiple": 1}, {"from": 1, "bcr_multiple": 2}))
    r = run(plan, [deal("D1", "A", "2026-11-15", 25_000)], annual_quotas({"A": 25_000}),
            roster=[{"rep_id": "A", "target_incentive": 40_000, "hire_date": "2026-10-01"}])
    assert sum(paid(r, "A", "commission")) == 1_008_219


def test_ti_multiple_cap_uses_the_prorated_target() -> None:
    """Cap 2 x TI for a rep employed half the year (1 Jan to 2 Jul = 183 of 365 days):
    2 x 36,500 x 183/365 = 36,600.00 caps a 10% commission on 1,000,000 of credit."""
    plan = make_plan(flat(0.1, cap={"ti_multiple": 2}))
    r = run(plan, [deal("D1", "A", "2026-03-01", 1_000_000)], annual_quotas({"A": 500_000}),
            roster=[{"rep_id": "A", "target_incentive": 36_500, "term_date": "2026-07-02"}])
    assert sum(paid(r, "A", "commission")) == 3_660_000


# ----------------------------------------------------------------------------- rule 5

BANDS = ({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1})


@pytest.mark.parametrize(
    ("method", "credit", "expected"),
    [
        ("marginal", 80_000, 4_000),
        ("marginal", 100_000, 5_000),  # exactly on the edge
        ("marginal", 120_000, 7_000),  # 5,000 + 10% x 20,000
        ("retroactive", 80_000, 4_000),
        ("retroactive", 100_000, 10_000),  # the edge belongs to the band above
        ("retroactive", 99_999.99, 4_999.9995),  # just below: 4,999.9995 -> 5,000.00
        ("retroactive", 120_000, 12_000),
    ],
)
def test_rule5_tiers(method: str, credit: float, expected: float) -> None:
    plan = make_plan(commission(*BANDS, method=method), period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", credit)], annual_quotas({"A": 100_000}))
    cents = int((Decimal(str(expected)) * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert paid(r, "A", "commission") == [cents]


@pytest.mark.parametrize(
    ("method", "credit", "expected"),
    [
        ("marginal", 40_000, 0),
        ("marginal", 50_000, 0),
        ("marginal", 60_000, 1_000),  # 10% of the 10,000 above the threshold
        ("marginal", 200_000, 23_000),  # 10% x 100,000 + 26% x 50,000
        ("retroactive", 49_999, 0),
        ("retroactive", 50_000, 5_000),  # on the threshold: the band above
        ("retroactive", 200_000, 52_000),  # 26% on everything at 200%
    ],
)
def test_rule5_threshold_band_with_rate_zero(method: str, credit: int, expected: int) -> None:
    """Bands 0: 0% (a threshold), 50%: 10%, 150%: 26%; quota 100,000."""
    plan = make_plan(commission({"from": 0, "rate": 0}, {"from": 0.5, "rate": 0.1},
                                {"from": 1.5, "rate": 0.26}, method=method), period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", credit)], annual_quotas({"A": 100_000}))
    assert paid(r, "A", "commission") == [expected * 100]


def test_rule5_marginal_edges_in_cents() -> None:
    """Marginal on the edge: 100,000.01 at quota 100,000 -> 5,000 + 10% x 0.01 = 5,000.001."""
    plan = make_plan(commission(*BANDS), period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", 100_000.01)], annual_quotas({"A": 100_000}))
    assert paid(r, "A", "commission") == [500_000]


# ----------------------------------------------------------------------------- rule 6

CURVE = [[0.5, 0.0], [1.0, 1.0], [1.5, 2.0]]


@pytest.mark.parametrize(("above_last", "q4"), [("cap", 500_000), ("extend", 750_000)])
def test_rule6_bonus_curve(above_last: str, q4: int) -> None:
    """TI 40,000 x 25% = 10,000 a year, 2,500 a quarter (equal quotas of 100,000).
    Q1 40% (below the first point) -> 0; Q2 75% -> 0.5 -> 1,250; Q3 120% -> 1.4 -> 3,500;
    Q4 200%: cap -> 2.0 -> 5,000; extend (slope 2) -> 3.0 -> 7,500."""
    plan = make_plan(bonus(CURVE, above_last=above_last))
    r = run(plan, quarterly_deals("A", [40_000, 75_000, 120_000, 200_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    assert paid(r, "A", "bonus") == [0, 125_000, 350_000, q4]
    assert column(r, "A", "bonus", "attainment") == [0.4, 0.75, 1.2, 2.0]


def test_rule6_curve_points_exactly() -> None:
    """On each point the curve gives the point's value: 50% -> 0, 100% -> 1, 150% -> 2."""
    plan = make_plan(bonus(CURVE))
    r = run(plan, quarterly_deals("A", [50_000, 100_000, 150_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    assert paid(r, "A", "bonus") == [0, 250_000, 500_000, 0]


def test_rule6_target_phased_by_quota() -> None:
    """Quotas 100k, 100k, 100k, 200k: targets 20/20/20/40% of 10,000; at 100% pays each."""
    plan = make_plan(bonus(CURVE))
    quotas = period_quotas({"A": [100_000, 100_000, 100_000, 200_000]}, plan)
    r = run(plan, quarterly_deals("A", [100_000, 100_000, 100_000, 200_000]), quotas,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    assert paid(r, "A", "bonus") == [200_000, 200_000, 200_000, 400_000]


def test_rule6_target_prorated_for_a_hire_and_a_leaver() -> None:
    """Hired 2026-02-15: 14 + 31 = 45 of Q1's 90 days -> half of 2,500 = 1,250.
    Leaves 2026-11-15: 31 + 15 = 46 of Q4's 92 days -> half -> 1,250. Both ends count."""
    plan = make_plan(bonus(CURVE))
    r = run(plan, quarterly_deals("A", [100_000] * 4), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000, "hire_date": "2026-02-15",
                     "term_date": "2026-11-15"}])
    assert paid(r, "A", "bonus") == [125_000, 250_000, 250_000, 125_000]


def test_rule6_one_day_employed() -> None:
    """Hired and left on 2026-03-31: 1 of 90 days -> 2,500 / 90 = 27.777... -> 27.78."""
    plan = make_plan(bonus(CURVE))
    r = run(plan, quarterly_deals("A", [100_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000, "hire_date": "2026-03-31",
                     "term_date": "2026-03-31"}])
    assert paid(r, "A", "bonus") == [2778, 0, 0, 0]


def test_rule6_ytd_bonus_trues_up() -> None:
    """ytd bonus: Q1 120% of 2,500 target -> 1.4 -> 3,500; Q2 ytd 130k/200k = 65% -> 0.3 of
    5,000 = 1,500 to date -> pays -2,000."""
    plan = make_plan(bonus(CURVE, attainment="ytd"))
    r = run(plan, quarterly_deals("A", [120_000, 10_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    assert paid(r, "A", "bonus")[:2] == [350_000, -200_000]


# ----------------------------------------------------------------------------- rule 7


def test_rule7_ytd_true_up_rounds_earnings_to_date() -> None:
    """10% of 10.05 a month. ytd: E = 1.005, 2.01, 3.015 -> 1.01, 2.01, 3.02; payouts are
    differences: 1.01, 1.00, 1.01 (3.02 in all). period: 1.01 each (3.03 in all)."""
    plan = make_plan(flat("0.1", cid="ytd"), flat("0.1", cid="per", attainment="period"),
                     period="month")
    deals = [deal(f"D{m}", "A", f"2026-{m:02d}-10", 10.05) for m in (1, 2, 3)]
    r = run(plan, deals)
    assert paid(r, "A", "ytd")[:3] == [101, 100, 101]
    assert column(r, "A", "ytd", "earnings_to_date_cents")[:3] == [101, 201, 302]
    assert paid(r, "A", "per")[:3] == [101, 101, 101]
    assert sum(paid(r, "A", "ytd")) == 302


def test_rule7_true_up_across_tiers() -> None:
    """Quota 100,000 a quarter, bands 5% / 10% above 100%. Q1 150,000: 5,000 + 5,000 =
    10,000. Q2 50,000: ytd 200,000 of 200,000 -> 10,000 to date -> 0. Q4 250,000: ytd
    450,000 of 400,000 -> 20,000 + 5,000 = 25,000 -> 15,000."""
    plan = make_plan(commission(*BANDS))
    r = run(plan, quarterly_deals("A", [150_000, 50_000, 0, 250_000]), QTR_100K)
    assert paid(r, "A", "commission") == [1_000_000, 0, 0, 1_500_000]
    assert column(r, "A", "commission", "earnings_to_date_cents") == [
        1_000_000, 1_000_000, 1_000_000, 2_500_000]


def test_rule7_negative_payout_after_a_clawback() -> None:
    """A 100,000 deal booked in Q1 (pays 5,000) and cancelled in Q3: Q3 pays -5,000."""
    plan = make_plan(commission(*BANDS))
    r = run(plan, [deal("D1", "A", "2026-02-01", 100_000, cancel_date="2026-08-01"),
                   deal("D2", "A", "2026-05-01", 20_000)], QTR_100K)
    # E: Q1 5,000; Q2 120,000 of 200,000 -> 6,000; Q3 20,000 -> 1,000; Q4 1,000
    assert paid(r, "A", "commission") == [500_000, 100_000, -500_000, 0]
    explain = column(r, "A", "commission", "explain")[2]
    assert "-5,000.00" in explain


# ----------------------------------------------------------------------------- rule 8


def test_rule8_amount_cap_with_ytd() -> None:
    """10% of 10,000 a quarter, cap 1,500: E = 1,000, 2,000 -> 1,500, ...; pays 1,000, 500."""
    plan = make_plan(flat("0.1", cap={"amount": 1500}))
    r = run(plan, quarterly_deals("A", [10_000] * 4))
    assert paid(r, "A", "commission") == [100_000, 50_000, 0, 0]
    assert "capped at 1,500.00" in column(r, "A", "commission", "explain")[1]


def test_rule8_amount_cap_with_period_attainment() -> None:
    plan = make_plan(flat("0.1", cap={"amount": 1500}, attainment="period"))
    r = run(plan, quarterly_deals("A", [10_000] * 4))
    assert paid(r, "A", "commission") == [100_000, 50_000, 0, 0]


def test_rule8_cap_ytd_versus_period_after_a_clawback() -> None:
    """Q1 20,000 (2,000 earned), Q2 a 10,000 clawback, Q3 10,000; cap 1,500.
    ytd: E capped 1,500, 1,000, 1,500 -> pays 1,500, -500, 500.
    period: lines 2,000, -1,000, 1,000 -> at most what is left: 1,500, -1,000, 1,000."""
    deals = [deal("D1", "A", "2026-02-01", 10_000),
             deal("D2", "A", "2026-02-02", 10_000, cancel_date="2026-05-01"),
             deal("D3", "A", "2026-08-01", 10_000)]
    ytd = run(make_plan(flat("0.1", cap={"amount": 1500})), deals)
    per = run(make_plan(flat("0.1", cap={"amount": 1500}, attainment="period")), deals)
    assert paid(ytd, "A", "commission") == [150_000, -50_000, 50_000, 0]
    assert paid(per, "A", "commission") == [150_000, -100_000, 100_000, 0]


@pytest.mark.parametrize("attainment", ["ytd", "period"])
def test_rule8_ti_multiple_cap_uses_the_component_weight(attainment: str) -> None:
    """Cap = TI 10,000 x 2 x weight 0.5 = 10,000. 10% of 200,000 = 20,000 -> 10,000.
    (Without the weight the cap would be 20,000 and nothing would be capped.)"""
    plan = make_plan(flat("0.1", cap={"ti_multiple": 2}, weight=0.5, attainment=attainment))
    r = run(plan, quarterly_deals("A", [80_000, 120_000]),
            roster=[{"rep_id": "A", "target_incentive": 10_000}])
    assert paid(r, "A", "commission") == [800_000, 200_000, 0, 0]


def test_rule8_bonus_cap() -> None:
    """A bonus paying 5,000 in Q4 (200% on the capped curve) under a 6,000 cap."""
    plan = make_plan(bonus(CURVE, cap={"amount": 6000}))
    r = run(plan, quarterly_deals("A", [150_000, 0, 0, 200_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    assert paid(r, "A", "bonus") == [500_000, 0, 0, 100_000]


def test_rule8_spif_per_deal_split_pays_half_each() -> None:
    plan = make_plan(spif(("2026-10-01", "2026-12-31"), per_deal=500))
    r = run(plan, [deal("D1", "A", "2026-11-01", 10_000), deal("D2", "A", "2026-11-02", 3000)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}])
    assert paid(r, "A", "spif") == [0, 0, 0, 75_000]  # 250 + 500
    assert paid(r, "B", "spif") == [0, 0, 0, 25_000]


def test_rule8_spif_window_ends_are_inclusive() -> None:
    plan = make_plan(spif(("2026-10-01", "2026-12-31"), per_deal=500, filter={
        "product": ["Widget Pro"]}), period="month")
    r = run(plan, [deal("D0", "A", "2026-09-30", 1, product="Widget Pro"),
                   deal("D1", "A", "2026-10-01", 1, product="Widget Pro"),
                   deal("D2", "A", "2026-12-31", 1, product="Widget Pro"),
                   deal("D3", "A", "2026-11-01", 1, product="Widget")])
    assert paid(r, "A", "spif") == [0] * 9 + [50_000, 0, 50_000]


def test_rule8_spif_rate() -> None:
    """2% of a 10,000.25 deal = 200.005 -> 200.01, paid in the deal's period."""
    plan = make_plan(spif(("2026-01-01", "2026-12-31"), rate=0.02))
    r = run(plan, [deal("D1", "A", "2026-05-05", 10_000.25)])
    assert paid(r, "A", "spif") == [0, 20_001, 0, 0]


@pytest.mark.parametrize(("clawback", "expected"),
                         [(False, [50_000, 0, 0, 0]), (True, [50_000, -50_000, 0, 0])])
def test_rule8_spif_clawback(clawback: bool, expected: list[int]) -> None:
    plan = make_plan(spif(("2026-01-01", "2026-12-31"), per_deal=500, clawback=clawback))
    r = run(plan, [deal("D1", "A", "2026-02-01", 1000, cancel_date="2026-05-01")])
    assert paid(r, "A", "spif") == expected


def test_rule8_spif_rate_clawback() -> None:
    plan = make_plan(spif(("2026-01-01", "2026-12-31"), rate=0.02, clawback=True))
    r = run(plan, [deal("D1", "A", "2026-02-01", 1000, cancel_date="2026-05-01")])
    assert paid(r, "A", "spif") == [2000, -2000, 0, 0]


def test_rule8_spif_cap() -> None:
    plan = make_plan(spif(("2026-01-01", "2026-12-31"), per_deal=500, cap={"amount": 1200}))
    r = run(plan, [deal(f"D{m}", "A", f"2026-{m:02d}-01", 1) for m in (1, 4, 7, 10)])
    assert paid(r, "A", "spif") == [50_000, 50_000, 20_000, 0]


# ----------------------------------------------------------------------------- rule 9


def _draw_run(draw_type: str, gross: list[float], **roster: object):
    plan = make_plan(flat(1, attainment="period"), period="month")
    deals = [deal(f"D{m}", "A", f"2026-{m:02d}-10", g) for m, g in enumerate(gross, 1) if g]
    deals.append(deal("OLD", "A", "2025-06-01", 1))  # outside the plan year: no credit
    return run(plan, deals, roster=[{"rep_id": "A", "draw": 2000, "draw_type": draw_type,
                                     "plan": "Test plan", **roster}])


def test_rule9_recoverable_draw() -> None:
    r = _draw_run("recoverable", [1500, 3000, 2500, 1000, 4000])
    # balance: 500, 0 (recovered 500 of 1,000 above), 0, 1,000, 0 (recovered 1,000 of 2,000)
    assert paid(r, "A", "draw")[:6] == [50_000, -50_000, 0, 100_000, -100_000, 200_000]
    total = [a + b for a, b in zip(paid(r, "A", "commission"), paid(r, "A", "draw"),
                                   strict=True)]
    assert total[:6] == [200_000, 250_000, 250_000, 200_000, 300_000, 200_000]


def test_rule9_non_recoverable_draw() -> None:
    r = _draw_run("non_recoverable", [1500, 3000, 2500, 1000, 4000])
    assert paid(r, "A", "draw")[:6] == [50_000, 0, 0, 100_000, 0, 200_000]


def test_rule9_draw_only_while_employed() -> None:
    """Hired 2026-03-31 and gone after 2026-05-01: draws in March, April and May only."""
    r = _draw_run("non_recoverable", [], hire_date="2026-03-31", term_date="2026-05-01")
    assert paid(r, "A", "draw") == [0, 0, 200_000, 200_000, 200_000] + [0] * 7
    assert column(r, "A", "draw", "explain")[0] == "Not employed in this period: no draw."
    assert "Non-recoverable draw of 2,000.00" in column(r, "A", "draw", "explain")[2]


def test_rule9_no_draw_rows_without_a_draw() -> None:
    plan = make_plan(flat(1), period="month")
    r = run(plan, [deal("D1", "A", "2026-01-10", 5)], roster=[{"rep_id": "A"}])
    assert "draw" not in set(r.payouts["component"])


# ----------------------------------------------------------------------------- rule 10


def test_rule10_half_a_cent_rounds_away_from_zero() -> None:
    """10% of 10.05 = 1.005 -> 1.01; of a -10.05 credit memo -> -1.01."""
    plan = make_plan(flat("0.1", attainment="period"))
    r = run(plan, [deal("D1", "A", "2026-02-01", 10.05), deal("D2", "B", "2026-02-01", -10.05)])
    assert paid(r, "A", "commission")[0] == 101
    assert paid(r, "B", "commission")[0] == -101


def test_rule10_totals_are_sums_of_rounded_lines() -> None:
    """Two components each 1.005 -> 1.01 + 1.01 = 2.02, not round(2.01)."""
    plan = make_plan(flat("0.1", cid="one"), flat("0.1", cid="two"))
    r = run(plan, [deal("D1", "A", "2026-02-01", 10.05)])
    assert r.total_payout_cents == 202 == r.summary["total_payout_cents"]
    totals = r.rep_totals()
    assert totals.loc[totals["rep_id"] == "A", "payout_cents"].item() == 202


# ----------------------------------------------------------------------------- quotas


def test_quota_annual_spread_evenly_exactly() -> None:
    """100,000.01 over four quarters: 25,000.01 + 3 x 25,000.00; over 12 months 833,333.33
    cents each plus one cent to the first four months (10,000,000 = 12 x 833,333 + 4)."""
    q = make_plan(flat("0.1"))
    r = run(q, [deal("D1", "A", "2026-01-10", 1)], annual_quotas({"A": 100_000.01}))
    assert r.attainment["quota_cents"].tolist() == [2_500_001, 2_500_000, 2_500_000, 2_500_000]
    m = make_plan(flat("0.1"), period="month")
    r = run(m, [deal("D1", "A", "2026-01-10", 1)], annual_quotas({"A": 100_000}))
    assert r.attainment["quota_cents"].tolist() == [833_334] * 4 + [833_333] * 8
    assert int(r.attainment["quota_cents"].sum()) == 10_000_000


def test_quota_phasing() -> None:
    plan = make_plan(flat("0.1"), phasing=[0.2, 0.25, 0.25, 0.3])
    r = run(plan, [deal("D1", "A", "2026-01-10", 1)], annual_quotas({"A": 100_000}))
    assert r.attainment["quota_cents"].tolist() == [2_000_000, 2_500_000, 2_500_000, 3_000_000]


def test_quota_phasing_sums_exactly() -> None:
    """0.10 phased 15/15/35/35%: 1.5, 1.5, 3.5, 3.5 cents -> floors 1, 1, 3, 3 and the two
    cents left go to the largest remainders (all equal: the first ones): 2, 2, 3, 3."""
    plan = make_plan(flat("0.1"), phasing=[0.15, 0.15, 0.35, 0.35])
    r = run(plan, [deal("D1", "A", "2026-01-10", 1)], annual_quotas({"A": 0.10}))
    assert r.attainment["quota_cents"].tolist() == [2, 2, 3, 3]


def test_quota_per_period_rows() -> None:
    plan = make_plan(flat("0.1"))
    r = run(plan, [deal("D1", "A", "2026-01-10", 1)],
            period_quotas({"A": [1, 2, 3, 4]}, plan))
    assert r.attainment["quota_cents"].tolist() == [100, 200, 300, 400]


def test_quota_period_start_must_start_a_period() -> None:
    plan = make_plan(flat("0.1"))
    quotas = pd.DataFrame({"rep_id": ["A"], "period_start": ["2026-02-01"], "quota": [5]})
    with pytest.raises(InputError, match="2026-02-01 is not the first day of a quarter"):
        run(plan, [deal("D1", "A", "2026-01-10", 1)], quotas)


# ----------------------------------------------------------------------------- periods


def test_fiscal_year_starting_february() -> None:
    plan = make_plan(flat("0.1"), year_start="2026-02-01")
    r = run(plan, [deal("D0", "A", "2026-01-31", 100), deal("D1", "A", "2026-02-01", 10),
                   deal("D2", "A", "2027-01-31", 20)], annual_quotas({"A": 400}))
    assert column(r, "A", "commission", "period") == ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3",
                                                      "FY2026-Q4"]
    assert paid(r, "A", "commission") == [100, 0, 0, 200]
    assert r.summary["lines_outside_year"] == 1
    assert r.attainment["quota_cents"].tolist() == [10_000] * 4
    starts = column(r, "A", "commission", "period_start")
    assert [f"{s:%Y-%m-%d}" for s in starts] == ["2026-02-01", "2026-05-01", "2026-08-01",
                                                 "2026-11-01"]


@pytest.mark.parametrize(("period", "labels"), [
    ("month", [f"2026-{m:02d}" for m in range(1, 13)]),
    ("quarter", ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]),
    ("year", ["2026"]),
])
def test_monthly_quarterly_annual_periods(period: str, labels: list[str]) -> None:
    """A flat 10% pays the same 55.00 whatever the period; rows per period differ."""
    plan = make_plan(flat("0.1"), period=period)
    r = run(plan, [deal("D1", "A", "2026-01-31", 100), deal("D2", "A", "2026-04-01", 200),
                   deal("D3", "A", "2026-12-31", 250)])
    assert column(r, "A", "commission", "period") == labels
    assert r.total_payout_cents == 5500
    if period == "month":
        assert paid(r, "A", "commission") == [1000, 0, 0, 2000] + [0] * 7 + [2500]


# ----------------------------------------------------------------------------- explain


def test_explain_names_rates_amounts_and_quota() -> None:
    plan = make_plan(commission({"from": 0, "rate": 0.08}, {"from": 1, "rate": 0.12},
                                {"from": 1.5, "rate": 0.15}, attainment="period"),
                     period="year")
    r = run(plan, [deal("D1", "A", "2026-03-01", 170_000)], annual_quotas({"A": 100_000}))
    text = column(r, "A", "commission", "explain")[0]
    # 8% x 100,000 + 12% x 50,000 + 15% x 20,000 = 8,000 + 6,000 + 3,000
    assert paid(r, "A", "commission") == [1_700_000]
    for words in ("170,000.00", "100,000.00 quota", "8% on 100,000.00",
                  "12% on 50,000.00 between 100% and 150%", "15% on 20,000.00 above 150%",
                  "170.0%", "17,000.00"):
        assert words in text, (words, text)


def test_explain_retroactive_and_bonus() -> None:
    plan = make_plan(commission(*BANDS, method="retroactive"), bonus(CURVE))
    r = run(plan, quarterly_deals("A", [120_000]), QTR_100K,
            roster=[{"rep_id": "A", "target_incentive": 40_000}])
    com = column(r, "A", "commission", "explain")[0]
    assert "retroactive rate of 10%" in com and "120,000.00" in com
    assert "100,000.00 quota" in com
    bon = column(r, "A", "bonus", "explain")[0]
    assert "120.0%" in bon and "140.0%" in bon and "2,500.00" in bon and "3,500.00" in bon


# ----------------------------------------------------------------------------- outputs

FULL_PLAN = make_plan(
    commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.1},
               {"from": 1.5, "bcr_multiple": 2}, cap={"ti_multiple": 3}),
    bonus(CURVE),
    spif(("2026-10-01", "2026-12-31"), per_deal=500),
)
FULL_DEALS = pd.DataFrame([
    deal("D1", "A", "2026-02-01", 120_000.01, cancel_date="2026-08-01"),
    deal("D2", "B", "2026-05-10", 80_000, currency="EUR"),
    deal("D3", "A", "2026-11-11", 33_333.33),
    deal("D4", "B", "2026-12-31", 5_000.05),
    deal("D5", "C", "2026-07-01", 10_000),
])
FULL_SPLITS = pd.DataFrame({"deal_id": ["D3", "D3"], "rep_id": ["A", "B"], "share": [0.6, 0.4]})
FULL_ROSTER = pd.DataFrame({"rep_id": ["A", "B", "C"], "target_incentive": [40_000, 30_000, 0],
                            "draw": [0, 3000, 0], "draw_type": [None, "recoverable", None],
                            "hire_date": [None, "2026-03-15", None]})
FULL_QUOTAS = annual_quotas({"A": 400_000, "B": 300_000, "C": 100_000})
FULL_FX = pd.DataFrame({"currency": ["EUR"], "rate": ["1.0834"]})


def _full(shuffle_seed: int | None = None):
    frames = [FULL_DEALS, FULL_QUOTAS, FULL_ROSTER, FULL_SPLITS, FULL_FX]
    if shuffle_seed is not None:
        rng = np.random.default_rng(shuffle_seed)
        frames = [f.iloc[rng.permutation(len(f))].reset_index(drop=True) for f in frames]
    return inputs(*frames)


def _files(result, out: Path, fmt: str) -> list[Path]:
    return sorted(write_outputs(result, out, fmt))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_outputs_is_byte_identical(tmp_path: Path, fmt: str) -> None:
    a = _files(calculate(FULL_PLAN, _full()), tmp_path / "a", fmt)
    b = _files(calculate(FULL_PLAN, _full()), tmp_path / "b", fmt)
    c = _files(calculate(FULL_PLAN, _full(shuffle_seed=7)), tmp_path / "c", fmt)
    assert [p.name for p in a] == [f"credits.{fmt}", f"payouts.{fmt}"]
    for x, y, z in zip(a, b, c, strict=True):
        assert x.read_bytes() == y.read_bytes()
        assert filecmp.cmp(x, z, shallow=False), f"{x.name} depends on input row order"


def test_write_outputs_csv_columns(tmp_path: Path) -> None:
    write_outputs(calculate(FULL_PLAN, _full()), tmp_path, "csv")
    payouts = pd.read_csv(tmp_path / "payouts.csv", dtype="str", keep_default_na=False)
    assert list(payouts.columns) == ["rep_id", "period_start", "period", "component",
                                     "attainment", "earnings_to_date", "amount", "explain"]
    credits = pd.read_csv(tmp_path / "credits.csv", dtype="str", keep_default_na=False)
    assert list(credits.columns) == ["deal_id", "rep_id", "credit_date", "amount", "rule"]
    row = credits[(credits["deal_id"] == "D2")].iloc[0]
    assert (row["amount"], row["rule"]) == ("86672.00", "owner+fx")  # 80,000 x 1.0834
    assert set(payouts["amount"].str.extract(r"\.(\d+)$")[0].str.len()) == {2}


def test_write_outputs_rejects_unknown_format(tmp_path: Path) -> None:
    from spmkit.errors import SpmkitError

    with pytest.raises(SpmkitError, match="unknown format"):
        write_outputs(calculate(FULL_PLAN, _full()), tmp_path / "x", "xlsx")
    assert not (tmp_path / "x").exists()


def test_prepared_costs_at_scale_one_equals_calculate() -> None:
    data = _full()
    total = calculate(FULL_PLAN, data).total_payout_cents
    prepared = prepare(FULL_PLAN, data)
    assert list(prepared.rep_ids) == ["A", "B", "C"]
    costs = prepared.costs(np.array([1.0, 1.0]))
    assert costs.tolist() == [float(total), float(total)]
    # with no credit only B's draw pays: 3,000 in each of the four quarters (hired in Q1)
    assert prepared.costs(0.0).tolist() == [1_200_000.0]


def test_prepared_costs_scale_credit_per_rep() -> None:
    """10% of A's 1,000 and B's 2,000 = 300.00; scaling A x2 and B x0.5 gives 200 + 100;
    scaling everyone x2 gives 600.00. Rows are draws, columns payees."""
    plan = make_plan(flat("0.1"))
    data = inputs([deal("D1", "A", "2026-02-01", 1000), deal("D2", "B", "2026-05-01", 2000)])
    prepared = prepare(plan, data)
    assert list(prepared.rep_ids) == ["A", "B"]
    assert prepared.costs(np.array([[2.0, 0.5], [1.0, 1.0], [0.0, 0.0]])).tolist() == [
        30_000.0, 30_000.0, 0.0]
    assert prepared.costs(np.array([2.0])).tolist() == [60_000.0]
