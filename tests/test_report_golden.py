"""The report's figures against values computed BY HAND on a ten-rep data set.

Plan "Golden" (annual, quota 100,000 and target incentive 10,000 per rep, so the base
commission rate BCR = 10,000 / 100,000 = 10%): commission on year-to-date credit, nothing
on the first 50% of quota, 2x BCR (20%) from 50% to 100%, 1.5x BCR (15%) above, capped at
2x target (20,000).  Plan "Flat": 10% of every dollar, no cap.  One deal per rep:

======  =======  ==================================  =============  ========
rep     sales    Golden payout                       Flat payout    Flat vs Golden
======  =======  ==================================  =============  ========
R01      40,000  0 (below the 50% threshold)           4,000
R02      60,000  20% x 10,000 = 2,000                  6,000
R03      80,000  20% x 30,000 = 6,000                  8,000
R04      90,000  20% x 40,000 = 8,000                  9,000
R05     100,000  20% x 50,000 = 10,000                10,000
R06     110,000  10,000 + 15% x 10,000 = 11,500       11,000         -4.3%
R07     120,000  10,000 + 15% x 20,000 = 13,000       12,000         -7.7%
R08     140,000  10,000 + 15% x 40,000 = 16,000       14,000         -12.5%
R09     200,000  25,000 capped at 20,000              20,000
R10     300,000  40,000 capped at 20,000              30,000
======  =======  ==================================  =============  ========

Totals: bookings 1,240,000; Golden pays 106,500 (cost of sales 106,500 / 1,240,000 =
8.5887%), Flat 124,000 (10%).  Base salary 50,000 a rep: total comp cost of sales
(106,500 + 500,000) / 1,240,000 = 48.911%.

Marginal cost of sales (every deal -5% and +5%): Golden pays 100,425 at -5% (0; 1,400;
5,200; 7,100; 9,000; 10,675; 12,100; 14,950; 20,000; 20,000) and 112,325 at +5% (0; 2,600;
6,800; 8,900; 10,750; 12,325; 13,900; 17,050; 20,000; 20,000): 11,900 more for 124,000 more
bookings = 9.5968%.  Flat: 10%.

Concentration: the top decile is one rep; R09 and R10 tie at 20,000 under Golden and R09
comes first by id: 20,000 / 106,500 = 18.779%.  Flat: R10, 30,000 / 124,000 = 24.194%.
Cap: R09 and R10 reach it (2).  Below threshold: R01 (1).  Leverage (Golden): payout as a
multiple of target 0, .2, .6, .8, 1, 1.15, 1.3, 1.6, 2, 2 -> median (1 + 1.15) / 2 = 1.075,
P90 (linear, position 8.1) = 2 -> 2 / 1.075 = 1.8605.  Reps losing over 10% under Flat:
R08 (1).

Break-even at a 50% gross margin: Flat costs 17,500 more than Golden and pays 10% of every
extra dollar, so each extra dollar of bookings leaves 50% - 10% = 40%: it pays for itself at
17,500 / 0.4 = 43,750 more bookings, an uplift of 43,750 / 1,240,000 = 3.528%.
"""

from __future__ import annotations

import pandas as pd
import pytest

from spmkit.plan import load_plan
from spmkit.tables import load_inputs

GOLDEN = """
plan: Golden
description: Threshold at half of quota, 2x then 1.5x the base rate, capped at 2x target.
currency: USD
year_start: 2025-01-01
period: year
components:
  - id: commission
    type: commission
    weight: 1.0
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {from: 0.0, rate: 0}
        - {from: 0.5, bcr_multiple: 2.0}
        - {from: 1.0, bcr_multiple: 1.5}
    cap: {ti_multiple: 2.0}
"""

FLAT = """
plan: Flat
currency: USD
year_start: 2025-01-01
period: year
components:
  - id: commission
    type: commission
    weight: 1.0
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {from: 0.0, bcr_multiple: 1.0}
"""

SALES = [40_000, 60_000, 80_000, 90_000, 100_000, 110_000, 120_000, 140_000, 200_000,
         300_000]


@pytest.fixture(scope="module")
def comparison():
    from spmkit.scenario import compare

    ids = [f"R{i:02d}" for i in range(1, 11)]
    deals = pd.DataFrame({"deal_id": [f"D{i:02d}" for i in range(1, 11)], "rep_id": ids,
                          "close_date": "2025-06-15", "amount": [f"{s}.00" for s in SALES]})
    quotas = pd.DataFrame({"rep_id": ids, "year": 2025, "quota": "100000.00"})
    roster = pd.DataFrame({"rep_id": ids, "name": ids, "role": "AE",
                           "region": ["North"] * 5 + ["South"] * 5,
                           "target_incentive": "10000.00", "base_salary": "50000.00"})
    inputs = load_inputs(deals, quotas=quotas, roster=roster, currency="USD")
    return compare(load_plan(GOLDEN), [load_plan(FLAT)], inputs, draws=40, seed=1,
                   margin=0.5)


def test_headline_by_hand(comparison):
    m = comparison.metrics()
    g, f = m["Golden"], m["Flat"]
    assert g["total_payout_cents"] == 10_650_000
    assert f["total_payout_cents"] == 12_400_000
    assert g["bookings_cents"] == f["bookings_cents"] == 124_000_000
    assert g["credited_cents"] == 124_000_000
    assert g["cost_of_sales"] == pytest.approx(106_500 / 1_240_000, abs=1e-6)
    assert f["cost_of_sales"] == pytest.approx(0.10, abs=1e-6)
    assert g["payout_vs_target"] == pytest.approx(1.065, abs=1e-6)
    assert g["total_comp_cost_of_sales"] == pytest.approx(606_500 / 1_240_000, abs=1e-6)
    assert f["delta_cents"] == 1_750_000


def test_marginal_cost_by_hand(comparison):
    m = comparison.metrics()
    assert m["Golden"]["marginal_cost_of_sales"] == pytest.approx(11_900 / 124_000, abs=1e-5)
    assert m["Flat"]["marginal_cost_of_sales"] == pytest.approx(0.10, abs=1e-5)


def test_concentration_and_leverage_by_hand(comparison):
    m = comparison.metrics()
    assert m["Golden"]["top_decile_payout_share"] == pytest.approx(20_000 / 106_500, abs=1e-6)
    assert m["Flat"]["top_decile_payout_share"] == pytest.approx(30_000 / 124_000, abs=1e-6)
    assert m["Golden"]["leverage"] == pytest.approx(2 / 1.075, abs=1e-6)


def test_break_even_by_hand(comparison):
    m = comparison.metrics()
    assert m["Flat"]["break_even_uplift"] == pytest.approx(43_750 / 1_240_000, abs=1e-6)
    assert m["Flat"]["break_even_bookings_cents"] == pytest.approx(4_375_000, abs=100)
    assert m["Golden"]["break_even_uplift"] is None  # the baseline is not a scenario


def test_cap_threshold_and_losers_by_hand(comparison):
    m = comparison.metrics()
    assert m["Golden"]["reps_at_cap"] == 2
    assert m["Golden"]["reps_below_threshold"] == 1
    assert m["Flat"]["reps_at_cap"] is None  # no cap
    assert m["Flat"]["reps_below_threshold"] is None  # no threshold
    assert m["Flat"]["reps_losing_over_10pct"] == 1  # R08
    assert m["Golden"]["reps_losing_over_10pct"] == 0


def test_built_report_shows_the_hand_figures(comparison):
    from spmkit.report import build

    report = build(comparison, "analyst", title="Golden")
    h = report.headline
    assert h.loc["Total payout (USD)", "Golden"] == "106.5K"
    assert h.loc["Total payout (USD)", "Flat"] == "124.0K"
    assert h.loc["Bookings (USD)", "Golden"] == "1.24M"
    assert h.loc["Cost of sales (on bookings)", "Golden"] == "8.6%"
    assert h.loc["Marginal cost of sales", "Golden"] == "9.6%"
    assert h.loc["Reps at cap", "Golden"] == "2 (20%)"
    assert h.loc["Reps at cap", "Flat"] == "no cap"
    assert h.loc["Reps below threshold", "Golden"] == "1 (10%)"
    assert h.loc["Top-decile payout share", "Golden"] == "19%"
    assert h.loc["Leverage (P90 / median pay, as multiples of target)", "Golden"] == "1.86x"
    assert "ZS" in h.loc["Cost of sales (on bookings)", "Norm (source)"]
    numbers = {k.label: k.text for k in report.key_numbers}
    assert numbers["Total payout"] == "USD 106.5K"
    assert report.descriptions["Golden"].startswith("Threshold at half of quota")
    assert "Golden" in report.decision and "Flat" in report.decision
    assert "**Golden**" in report.decision.split("Cost:")[1].splitlines()[0]  # cheapest
    # an executive never sees a one-rep top decile (R09's pay)
    executive = build(comparison, "executive")
    assert executive.metrics["Golden"]["top_decile_payout_share"] is None


def test_baseline_only_report_builds():
    from spmkit.report import build
    from spmkit.scenario import compare

    ids = ["R01", "R02"]
    deals = pd.DataFrame({"deal_id": ["D1", "D2"], "rep_id": ids,
                          "close_date": "2025-06-15", "amount": ["40000.00", "120000.00"]})
    quotas = pd.DataFrame({"rep_id": ids, "year": 2025, "quota": "100000.00"})
    roster = pd.DataFrame({"rep_id": ids, "name": ids, "target_incentive": "10000.00"})
    inputs = load_inputs(deals, quotas=quotas, roster=roster)
    c = compare(load_plan(GOLDEN), [], inputs, draws=10, seed=0)
    analyst = build(c, "analyst", inputs=inputs)
    assert analyst.headline.loc["Total payout (USD)", "Golden"] == "13.0K"  # 0 + 13,000
    assert "describes the baseline alone" in analyst.decision
    executive = build(c, "executive", inputs=inputs)  # two reps: counts only
    assert executive.headline.loc["Total payout (USD)", "Golden"] == "\u2014"
    assert executive.key_numbers == ()


def test_partial_periods_are_flagged():
    """Hand example: deals from 2025-03-01 to 2025-12-20 under a quarterly plan: Q1 holds
    one month (31 of 90 days); Q4 ends 11 days early (more than a week); Q2 and Q3 whole."""
    from spmkit.periods import plan_periods
    from spmkit.report.compose import partial_period_warnings

    deals = pd.DataFrame({"close_date": pd.to_datetime(["2025-03-01", "2025-12-20"])})
    notes = partial_period_warnings(deals, plan_periods(pd.Timestamp("2025-01-01").date(),
                                                        "quarter"))
    assert len(notes) == 2
    assert "2025-03-01 to 2025-03-31 (31 of its 90 days)" in notes[0]
    assert "2025-10-01 to 2025-12-20 (81 of its 92 days)" in notes[1]


def test_description_from_the_opening_comment(tmp_path):
    from spmkit.report.compose import plan_description

    path = tmp_path / "p.yaml"
    path.write_text("# Steeper accelerators: 2x BCR above quota\n# (baseline 1.5x).\n#\n"
                    "# Why: more detail.\n" + FLAT, encoding="utf-8")
    plan = load_plan(path)
    assert plan_description(plan, path) == ("Steeper accelerators: 2x BCR above quota "
                                            "(baseline 1.5x).")
    assert plan_description(load_plan(GOLDEN)).startswith("Threshold at half")
    named = plan.model_copy(update={"plan": "Steeper accelerators 2025"})  # title = its name
    assert plan_description(named, path) == "2x BCR above quota (baseline 1.5x)."


def test_each_plan_is_credited_once_per_report(monkeypatch):
    """compare + build credit the real deals at most once per plan: the Monte Carlo,
    sensitivity, marginal cost, caps and figures reuse that run (pay curves credit synthetic
    reps); two plans that credit alike (same currency, direct credit) share one crediting,
    while a plan that rolls up to managers is credited on its own."""
    import spmkit.payout as payout
    from spmkit.report import build
    from spmkit.scenario import compare

    ids = [f"R{i:02d}" for i in range(1, 11)]
    deals = pd.DataFrame({"deal_id": [f"D{i:02d}" for i in range(1, 11)], "rep_id": ids,
                          "close_date": "2025-06-15", "amount": [f"{s}.00" for s in SALES]})
    quotas = pd.DataFrame({"rep_id": ids, "year": 2025, "quota": "100000.00"})
    roster = pd.DataFrame({"rep_id": ids, "name": ids, "target_incentive": "10000.00"})
    inputs = load_inputs(deals, quotas=quotas, roster=roster)
    seen: list[str] = []
    real = payout.credit_lines

    def counting(plan, deal_rows, *args, **kwargs):
        if deal_rows is inputs.deals:
            seen.append(plan.plan)
        return real(plan, deal_rows, *args, **kwargs)

    monkeypatch.setattr(payout, "credit_lines", counting)
    comparison = compare(load_plan(GOLDEN), [load_plan(FLAT)], inputs, draws=10, seed=0,
                         margin=0.5)
    build(comparison, "analyst", inputs=inputs)
    assert seen == ["Golden"]
    assert comparison.results["Flat"].credits.equals(comparison.results["Golden"].credits)
    seen.clear()
    rollup = load_plan(FLAT).model_copy(update={"plan": "Flat rollup", "credit": "rollup"})
    compare(load_plan(GOLDEN), [load_plan(FLAT), rollup], inputs, draws=10, seed=0)
    assert seen == ["Golden", "Flat rollup"]
