"""Published worked examples restated as spmkit plans (figures in
``shared/reference/published-examples.md``). Each test cites its source."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_helpers import annual_quotas, column, commission, deal, flat, make_plan, paid, run

from spmkit.plan import load_plan


def test_oracle_step_rates_transactions_processed_individually() -> None:
    """Oracle Incentive Compensation docs, "Examples of Calculating Earnings Using Step Rates"
    (docs.oracle.com/en/cloud/saas/sales/facmi/examples-of-calculating-earnings-using-step-
    rates.html): tiers 0-1,000 at 1%, 1,000-3,000 at 2%, 3,000-8,000 at 3%, 8,000-20,000 at
    5%; transactions 200, 300, 1,500, 1,200, 2,000, 4,500 earn 2, 3, 20, 14, 30, 95 = 164.

    The source processes each transaction *individually* against the tiers (T3: 1,000 x 1%
    + 500 x 2% = 20), not on a running total (which would give 2, 3, 25, 26, ...). So: one
    transaction a month, ``attainment: period``, a monthly quota of 1,000 and marginal bands
    from 0, 1, 3 and 8 (edges at 1,000 / 3,000 / 8,000)."""
    plan = make_plan(commission({"from": 0, "rate": 0.01}, {"from": 1, "rate": 0.02},
                                {"from": 3, "rate": 0.03}, {"from": 8, "rate": 0.05},
                                attainment="period"), period="month")
    amounts = [200, 300, 1500, 1200, 2000, 4500]
    deals = [deal(f"T{m}", "R", f"2026-{m:02d}-15", a) for m, a in enumerate(amounts, 1)]
    r = run(plan, deals, annual_quotas({"R": 12_000}))  # 1,000 a month
    assert paid(r, "R", "commission")[:6] == [200, 300, 2000, 1400, 3000, 9500]
    assert r.total_payout_cents == 16_400


def test_oracle_step_rates_on_a_running_total_differ() -> None:
    """The same tiers on a running (year-to-date) total, with the edges held at 1,000 /
    3,000 / 8,000 by a quota of 1,000 in January and none after: cumulative 200, 500, 2,000,
    3,200, 5,200, 9,700 earn 2, 5, 30, 56, 116, 285 to date (9,700: 10 + 40 + 150 + 85);
    increments 2, 3, 25, 26, 60, 169.
    (Not the published 164: the source rates transactions individually; see above.)"""
    plan = make_plan(commission({"from": 0, "rate": 0.01}, {"from": 1, "rate": 0.02},
                                {"from": 3, "rate": 0.03}, {"from": 8, "rate": 0.05}),
                     period="month")
    amounts = [200, 300, 1500, 1200, 2000, 4500]
    deals = [deal(f"T{m}", "R", f"2026-{m:02d}-15", a) for m, a in enumerate(amounts, 1)]
    quotas = [{"rep_id": "R", "period_start": f"2026-{m:02d}-01", "quota": 1000 if m == 1 else 0}
              for m in range(1, 13)]
    r = run(plan, deals, quotas)
    assert paid(r, "R", "commission")[:6] == [200, 300, 2500, 2600, 6000, 16900]
    assert column(r, "R", "commission", "earnings_to_date_cents")[5] == 28_500


def test_oracle_equal_tier_values() -> None:
    """Oracle docs, "Equal Tier Values": 0-25k 1%, 25k-50k 2%, 50k-75k 3%, 75k-100k 4%; an
    amount of exactly 50,000 takes the higher tier's rate, 3% (1,500 on the whole amount)."""
    plan = make_plan(commission({"from": 0, "rate": 0.01}, {"from": 1, "rate": 0.02},
                                {"from": 2, "rate": 0.03}, {"from": 3, "rate": 0.04},
                                method="retroactive"), period="year")
    r = run(plan, [deal("D1", "R", "2026-06-30", 50_000)], annual_quotas({"R": 25_000}))
    assert paid(r, "R", "commission") == [150_000]
    assert "retroactive rate of 3%" in column(r, "R", "commission", "explain")[0]


@pytest.mark.parametrize(("sales", "commission_due"), [(6000, 620), (5000, 500), (4000, 400)])
def test_richardlawrence_tiered_commission(sales: int, commission_due: int) -> None:
    """gist.github.com/richardlawrence/1138036: 10% up to 5,000, 12% above (marginal):
    6,000 -> 620; 5,000 -> 500; 4,000 -> 400."""
    plan = make_plan(commission({"from": 0, "rate": 0.10}, {"from": 1, "rate": 0.12}),
                     period="year")
    r = run(plan, [deal("D1", "R", "2026-04-01", sales)], annual_quotas({"R": 5000}))
    assert paid(r, "R", "commission") == [commission_due * 100]


def test_excelforum_three_marginal_bands() -> None:
    """ExcelForum thread 861932: 5% to 100,000; 6% from 100,000 to 125,000; 7% above;
    sales 150,000 -> 5,000 + 1,500 + 1,750 = 8,250."""
    plan = make_plan(commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.06},
                                {"from": 1.25, "rate": 0.07}), period="year")
    r = run(plan, [deal("D1", "R", "2026-09-09", 150_000)], annual_quotas({"R": 100_000}))
    assert paid(r, "R", "commission") == [825_000]
    explain = column(r, "R", "commission", "explain")[0]
    assert "6% on 25,000.00 between 100% and 125%" in explain
    assert "7% on 25,000.00 above 125%" in explain


def test_prowi_decelerator() -> None:
    """Prowi glossary, "Decelerator": a 10% rate paid at 0.5x below 80% of quota; sales of
    350,000 against 500,000 (70%) earn 5% of 350,000 = 17,500 (retroactive)."""
    plan = make_plan(commission({"from": 0, "rate": 0.05}, {"from": 0.8, "rate": 0.10},
                                method="retroactive"), period="year")
    r = run(plan, [deal("D1", "R", "2026-05-05", 350_000)], annual_quotas({"R": 500_000}))
    assert paid(r, "R", "commission") == [1_750_000]
    assert column(r, "R", "commission", "attainment") == [0.7]


def test_prowi_split_commission() -> None:
    """Prowi glossary, "Split Commission": 100,000 at 10% split 60/40 -> 6,000 / 4,000;
    80,000 at 10% split 60/40 -> 4,800 / 3,200."""
    plan = make_plan(flat("0.1"), period="year")
    r = run(plan, [deal("D1", "A", "2026-02-01", 100_000), deal("D2", "C", "2026-03-01", 80_000)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.4},
                    {"deal_id": "D2", "rep_id": "C", "share": 0.6},
                    {"deal_id": "D2", "rep_id": "D", "share": 0.4}])
    assert paid(r, "A", "commission") == [600_000]
    assert paid(r, "B", "commission") == [400_000]
    assert paid(r, "C", "commission") == [480_000]
    assert paid(r, "D", "commission") == [320_000]


@pytest.mark.parametrize(("achievement", "share_of_base"), [
    (0.79, "0"), (0.80, "0.40"), (0.90, "0.45"), (1.00, "0.50"), (1.10, "0.65"),
    (1.20, "0.80"), (1.50, "0.80"),
])
def test_sec_bonus_curve_with_cliff(achievement: float, share_of_base: str) -> None:
    """SEC EDGAR exhibit (CIK 862831) bonus plan: target 50% of base; below 80% achievement
    nothing; from 80% to 100% the bonus is achievement x 50% of base; above 100% it gains
    1.5 points of base per point, to at most 80% of base at 120%. As a share of the target:
    points (0.8, 0.8), (1.0, 1.0), (1.2, 1.6), flat after. Base 100,000; target 50,000."""
    plan = load_plan("""\
plan: SEC bonus
year_start: 2026-01-01
period: year
components:
  - id: bonus
    type: bonus
    curve: [[0.8, 0.8], [1.0, 1.0], [1.2, 1.6]]
    above_last: cap
""")
    r = run(plan, [deal("D1", "R", "2026-06-01", achievement * 1_000_000)],
            annual_quotas({"R": 1_000_000}),
            roster=[{"rep_id": "R", "base_salary": 100_000, "target_incentive": 50_000}])
    assert paid(r, "R", "bonus") == [int(Decimal(share_of_base) * 100_000 * 100)]


def test_xactly_ytd_rolling_measure() -> None:
    """Xactly help, "Understanding attainment calculations": monthly credits 100, 50, 75,
    25 give a rolling (YTD) measure of 100 / 150 / 225 / 250."""
    plan = make_plan(flat(1), period="month")
    deals = [deal(f"D{m}", "R", f"2026-{m:02d}-03", a) for m, a in
             enumerate([100, 50, 75, 25], 1)]
    r = run(plan, deals, annual_quotas({"R": 1200}))
    att = r.attainment.sort_values("period_index")
    assert att["ytd_credit_cents"].tolist()[:4] == [10_000, 15_000, 22_500, 25_000]
    assert column(r, "R", "commission", "earnings_to_date_cents")[:4] == [
        10_000, 15_000, 22_500, 25_000]


def test_siebel_recoverable_draw() -> None:
    """Siebel ICM administration guide, recoverable draw: a draw of 2,000 a month; gross
    2,750, 3,000, 1,500, 2,375, 3,000, 2,750 -> net paid 2,750, 3,000, 2,000, 2,000, 2,875,
    2,750 (March tops up 500; April recovers 375, May the last 125)."""
    plan = make_plan(flat(1, attainment="period"), period="month")
    gross = [2750, 3000, 1500, 2375, 3000, 2750]
    deals = [deal(f"D{m}", "R", f"2026-{m:02d}-20", g) for m, g in enumerate(gross, 1)]
    r = run(plan, deals, roster=[{"rep_id": "R", "draw": 2000, "draw_type": "recoverable"}])
    assert paid(r, "R", "commission")[:6] == [g * 100 for g in gross]
    assert paid(r, "R", "draw")[:6] == [0, 0, 50_000, -37_500, -12_500, 0]
    net = [a + b for a, b in zip(paid(r, "R", "commission"), paid(r, "R", "draw"), strict=True)]
    assert net[:6] == [275_000, 300_000, 200_000, 200_000, 287_500, 275_000]
    assert "recovered 375.00 of the balance" in column(r, "R", "draw", "explain")[3]


# The "Formula to Prorate a Quota" forum example (quota 100,000 phased 20/20/20/40, a rep
# starting on 1 March gets 6,667 in Q1) prorates the *quota* by months employed; the engine
# takes quotas as given and prorates bonus *targets* by days (rule 6), so that example
# belongs to the quota module's tests, not here.
