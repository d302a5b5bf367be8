"""spmkit.scenario: KPIs, deltas, pay curves, sensitivity and Monte Carlo on hand-built inputs.

The small book used throughout (plan year 2026, quarterly, commission 10% on all credit):

| rep | region | quota   | credit  | attainment | payout | target incentive |
|-----|--------|---------|---------|------------|--------|------------------|
| A   | East   | 100,000 | 120,000 | 120%       | 12,000 | 20,000           |
| B   | East   | 100,000 | 100,000 | 100%       | 10,000 | 20,000           |
| C   | West   | 100,000 |  80,000 |  80%       |  8,000 | 20,000           |
| D   | West   | 100,000 |  40,000 |  40%       |  4,000 | 20,000           |
| E   | West   | 200,000 | 150,000 |  75%       | 15,000 | 40,000           |
| F   | East   | (none)  |  10,000 |   -        |  1,000 | 0                |

Totals: payout 50,000, credit 500,000, target 120,000.  Every rep with a target earns
payout / target = 0.5 x attainment, so the pay slope is exactly 0.5.
"""

from __future__ import annotations

import dataclasses
import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spmkit.errors import SpmkitError
from spmkit.payout import calculate
from spmkit.plan import Plan
from spmkit.scenario import (
    BAND_KEYS,
    BANDS,
    Comparison,
    attainment_bands,
    compare,
    kpis,
    monte_carlo,
    pay_curve,
    performance_pool,
    rep_deltas,
    rep_outcomes,
    risk_summary,
    scale_sales,
    segment_deltas,
    sensitivity,
)
from spmkit.tables import load_inputs

CREDIT = {"A": 120_000, "B": 100_000, "C": 80_000, "D": 40_000, "E": 150_000, "F": 10_000}
QUOTA = {"A": 100_000, "B": 100_000, "C": 100_000, "D": 100_000, "E": 200_000}
TARGET = {"A": 20_000, "B": 20_000, "C": 20_000, "D": 20_000, "E": 40_000, "F": 0}
REGION = {"A": "East", "B": "East", "C": "West", "D": "West", "E": "West", "F": "East"}


def commission_plan(rate: str = "0.10", name: str = "Base", period: str = "quarter") -> Plan:
    return Plan.model_validate({
        "plan": name, "currency": "USD", "year_start": "2026-01-01", "period": period,
        "components": [{"id": "commission", "type": "commission",
                        "tiers": {"bands": [{"from": 0, "rate": rate}]}}],
    })


def tiered_plan(name: str = "Tiered") -> Plan:
    return Plan.model_validate({
        "plan": name, "currency": "USD", "year_start": "2026-01-01", "period": "quarter",
        "components": [{"id": "commission", "type": "commission", "attainment": "ytd",
                        "tiers": {"method": "marginal",
                                  "bands": [{"from": 0, "rate": "0.08"},
                                            {"from": 1, "rate": "0.12"}]}}],
    })


def bonus_plan(name: str = "Bonus") -> Plan:
    return Plan.model_validate({
        "plan": name, "currency": "USD", "year_start": "2026-01-01", "period": "quarter",
        "components": [{"id": "bonus", "type": "bonus", "attainment": "period",
                        "curve": [[0.5, 0], [1.0, 1.0], [1.5, 2.0]], "above_last": "cap"}],
    })


def book(credit: dict[str, int] | None = None, hire: dict[str, str] | None = None):
    """The small book: each rep's credit as four quarterly deals, rising or falling 10-40%."""
    credit = CREDIT if credit is None else credit
    rows = []
    for i, (rep, total) in enumerate(credit.items()):
        shape = (1, 2, 3, 4) if i % 2 == 0 else (4, 3, 2, 1)
        for q, month in enumerate((2, 5, 8, 11)):
            rows.append({"deal_id": f"{rep}{q}", "rep_id": rep,
                         "close_date": f"2026-{month:02d}-15",
                         "amount": f"{total * shape[q] / 10:.2f}"})
    deals = pd.DataFrame(rows)
    quotas = pd.DataFrame({"rep_id": list(QUOTA), "year": 2026,
                           "quota": [f"{v:.2f}" for v in QUOTA.values()]})
    hire = hire or {}
    roster = pd.DataFrame({
        "rep_id": list(TARGET), "name": [f"Person {r}" for r in TARGET],
        "manager_id": [""] * len(TARGET), "role": ["AE"] * 5 + ["SDR"],
        "region": [REGION[r] for r in TARGET],
        "target_incentive": [f"{v:.2f}" for v in TARGET.values()],
        "base_salary": ["0.00"] * len(TARGET),
        "hire_date": [hire.get(r, "") for r in TARGET],
        "term_date": [""] * len(TARGET),
    })
    return load_inputs(deals, quotas=quotas, roster=roster)



_SMALL = book()
_QUOTA_ONLY = book(credit={k: v for k, v in CREDIT.items() if k != "F"})  # every payee has quota


@pytest.fixture(scope="module")
def inputs():
    return _SMALL


@pytest.fixture(scope="module")
def base_result(inputs):
    return calculate(commission_plan(), inputs)


@pytest.fixture(scope="module")
def richer_result(inputs):
    return calculate(commission_plan("0.12", "Richer"), inputs)


# ------------------------------------------------------------------ kpis and outcomes


def test_kpis_match_hand_computed_values(base_result):
    k = kpis(base_result)
    assert k.name == "Base"
    assert k["total_payout_cents"] == 5_000_000
    assert k["credited_revenue_cents"] == 50_000_000
    assert k["cost_of_sales"] == pytest.approx(0.10)
    assert k["target_incentive_cents"] == 12_000_000
    assert k["payout_pct_of_target"] == pytest.approx(50_000 / 120_000)
    assert k["reps"] == 6
    assert k["reps_without_quota"] == 1
    assert k["median_attainment"] == pytest.approx(0.80)
    assert k["share_at_or_above_100"] == pytest.approx(2 / 5)  # A (120%), B (exactly 100%)
    assert k["share_below_50"] == pytest.approx(1 / 5)  # D
    # top fifth of the 5 reps with quota is 1 rep (A): 12,000 of the 49,000 they earned
    assert k["top_fifth_payout_share"] == pytest.approx(12_000 / 49_000)
    assert k["pay_slope"] == pytest.approx(0.5)
    expected_bands = [0.2, 0.0, 0.4, 0.4, 0.0, 0.0]  # E at exactly 75% is in 75-100%
    assert [k[key] for key in BAND_KEYS] == pytest.approx(expected_bands)
    assert isinstance(k["total_payout_cents"], int)


def test_attainment_bands_counts_band_edges_in_the_band_above(base_result):
    bands = attainment_bands(base_result)
    assert bands["band"].tolist() == list(BANDS)
    assert bands["reps"].tolist() == [1, 0, 2, 2, 0, 0]
    assert bands["share"].sum() == pytest.approx(1.0)


def test_rep_outcomes_one_row_per_payee(base_result):
    o = rep_outcomes(base_result).set_index("rep_id")
    assert list(o.index) == list("ABCDEF")
    assert o.loc["A", "payout_cents"] == 1_200_000
    assert o.loc["E", "quota_cents"] == 20_000_000
    assert o.loc["E", "attainment"] == pytest.approx(0.75)
    assert o.loc["E", "payout_pct_of_target"] == pytest.approx(0.375)
    assert math.isnan(o.loc["F", "attainment"])
    assert math.isnan(o.loc["F", "payout_pct_of_target"])
    assert o.loc["C", "region"] == "West"
    assert o["payout_cents"].sum() == base_result.total_payout_cents


def test_target_incentive_is_prorated_by_days_employed():
    # C hired 2 July 2026: employed 183 of 365 days; 20,000.00 x 183/365 = 10,027.40 (rounded)
    result = calculate(commission_plan(), book(hire={"C": "2026-07-02"}))
    o = rep_outcomes(result).set_index("rep_id")
    assert o.loc["C", "target_incentive_cents"] == round(2_000_000 * 183 / 365)
    assert kpis(result)["target_incentive_cents"] == 10_000_000 + round(2_000_000 * 183 / 365)


def test_kpis_without_any_quota_are_nan_not_errors():
    no_quota = load_inputs(pd.DataFrame({"deal_id": ["x"], "rep_id": ["A"],
                                         "close_date": ["2026-03-01"], "amount": ["100.00"]}))
    k = kpis(calculate(commission_plan(), no_quota))
    assert k["total_payout_cents"] == 1000
    assert k["reps_without_quota"] == 1
    assert math.isnan(k["median_attainment"])
    assert math.isnan(k["payout_pct_of_target"])
    assert math.isnan(k["pay_slope"])


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=300_000), min_size=5, max_size=5))
def test_kpis_invariants_on_random_books(dollars):
    credit = dict(zip("ABCDE", dollars, strict=True))
    k = kpis(calculate(commission_plan(), book(credit={r: v for r, v in credit.items()
                                                       if v > 0 or r in QUOTA})))
    assert k["total_payout_cents"] == sum(dollars) * 10  # 10% of whole dollars, in cents
    shares = [k[key] for key in BAND_KEYS]
    assert sum(shares) == pytest.approx(1.0)
    assert k["share_at_or_above_100"] == pytest.approx(sum(shares[3:]))
    assert k["share_below_50"] == pytest.approx(shares[0])
    attainment = {r: credit[r] / QUOTA[r] for r in "ABCDE"}
    best = max(attainment.values())
    top = min(r for r in "ABCDE" if attainment[r] == best)  # ties: first rep_id
    if sum(dollars):
        assert k["top_fifth_payout_share"] == pytest.approx(credit[top] / sum(dollars))
    else:
        assert math.isnan(k["top_fifth_payout_share"])


# ------------------------------------------------------------------ deltas


def test_rep_deltas_hand_computed(base_result, richer_result):
    d = rep_deltas(base_result, richer_result)
    assert d["delta_cents"].tolist() == sorted(d["delta_cents"].tolist())
    row = d.set_index("rep_id").loc["A"]
    assert row["baseline_payout_cents"] == 1_200_000
    assert row["payout_cents"] == 1_440_000
    assert row["delta_cents"] == 240_000
    assert row["delta_pct"] == pytest.approx(0.2)
    assert row["attainment"] == pytest.approx(1.2)
    assert d["delta_cents"].sum() == 1_000_000


def test_rep_deltas_count_a_rep_missing_from_one_plan_as_paid_zero(base_result):
    other = calculate(commission_plan(), _QUOTA_ONLY)
    # F is not a payee of `other` (no credit, no quota)
    d = rep_deltas(base_result, other).set_index("rep_id")
    assert d.loc["F", "payout_cents"] == 0
    assert d.loc["F", "delta_cents"] == -100_000
    assert d.loc["F", "region"] == "East"


def test_segment_deltas_by_region(base_result, richer_result):
    s = segment_deltas(base_result, richer_result, by="region").set_index("segment")
    # East: A, B, F = 12,000 + 10,000 + 1,000; West: C, D, E = 8,000 + 4,000 + 15,000
    assert s.loc["East", "reps"] == 3
    assert s.loc["East", "baseline_payout_cents"] == 2_300_000
    assert s.loc["East", "delta_cents"] == 460_000
    assert s.loc["West", "baseline_payout_cents"] == 2_700_000
    assert s.loc["West", "delta_pct"] == pytest.approx(0.2)
    roles = segment_deltas(base_result, richer_result, by="role").set_index("segment")
    assert roles.loc["SDR", "baseline_payout_cents"] == 100_000
    with pytest.raises(SpmkitError, match="region"):
        segment_deltas(base_result, richer_result, by="manager")


# ------------------------------------------------------------------ pay curves


def test_pay_curve_of_a_flat_commission_is_linear():
    points = np.linspace(0, 2, 41)
    curve = pay_curve(commission_plan(), attainment=points,
                      target_incentive_cents=10_000_000, quota_cents=100_000_000)
    assert curve["attainment"].tolist() == points.tolist()
    expected = np.rint(points * 100_000_000 * 0.10).astype(np.int64)
    assert curve["payout_cents"].tolist() == expected.tolist()
    # 10% of quota = the target incentive, so payout as % of target = attainment
    assert np.allclose(curve["payout_pct_of_target"], points)
    assert np.allclose(np.diff(curve["payout_cents"], 2), 0, atol=2)


def test_pay_curve_runs_tiers_and_period_bonuses_through_the_engine():
    points = np.array([0.5, 1.0, 1.5])
    tiered = pay_curve(tiered_plan(), attainment=points, target_incentive_cents=10_000_000,
                       quota_cents=100_000_000)
    # 8% to quota, 12% above: 0.5 -> 40,000; 1.0 -> 80,000; 1.5 -> 80,000 + 60,000
    assert tiered["payout_cents"].tolist() == [4_000_000, 8_000_000, 14_000_000]
    bonus = pay_curve(bonus_plan(), attainment=np.array([0.4, 0.75, 1.0, 2.0]),
                      target_incentive_cents=10_000_000, quota_cents=100_000_000)
    # quarterly attainment equals annual attainment because the deals follow the quota
    assert bonus["payout_pct_of_target"].tolist() == pytest.approx([0.0, 0.5, 1.0, 2.0])


def test_pay_curve_ignores_spifs_and_rejects_bad_points():
    with_spif = Plan.model_validate({
        "plan": "Spiffy", "year_start": "2026-01-01", "period": "quarter",
        "components": [
            {"id": "commission", "type": "commission", "tiers": {"bands": [
                {"from": 0, "rate": "0.10"}]}},
            {"id": "spif", "type": "spif", "window": ["2026-01-01", "2026-12-31"],
             "per_deal": 1000}]})
    curve = pay_curve(with_spif, attainment=[1.0], target_incentive_cents=10_000_000,
                      quota_cents=100_000_000)
    assert curve["payout_cents"].tolist() == [10_000_000]
    with pytest.raises(SpmkitError):
        pay_curve(commission_plan(), attainment=[-0.1])


# ------------------------------------------------------------------ sensitivity, simulation


def test_scale_sales_rounds_each_amount_half_away_from_zero(inputs):
    deals = inputs.deals.copy()
    deals["amount_cents"] = np.array([12345, -12345] + [100] * (len(deals) - 2))
    scaled = scale_sales(dataclasses.replace(inputs, deals=deals), 1.1)
    assert scaled.deals["amount_cents"].tolist()[:3] == [13580, -13580, 110]
    assert deals["amount_cents"].tolist()[0] == 12345  # input untouched


def test_sensitivity_matches_the_engine_and_is_linear_for_a_flat_rate(inputs):
    plan = commission_plan()
    s = sensitivity(plan, inputs, [-0.1, 0.0, 0.1])
    assert s.columns.tolist() == ["sales_change", "total_payout_cents", "revenue_cents",
                                  "cost_of_sales"]
    assert s["total_payout_cents"].tolist() == [4_500_000, 5_000_000, 5_500_000]
    assert s["revenue_cents"].tolist() == [45_000_000, 50_000_000, 55_000_000]
    assert s["cost_of_sales"].tolist() == pytest.approx([0.1] * 3)
    # at +10% it equals the engine on deals scaled by 1.1 (exact here: whole cents)
    assert calculate(plan, scale_sales(inputs, 1.1)).total_payout_cents == 5_500_000


@pytest.mark.parametrize("plan", [tiered_plan(), bonus_plan()], ids=["tiered", "bonus"])
def test_sensitivity_at_no_change_is_the_engine_total(plan):
    s = sensitivity(plan, _QUOTA_ONLY, [0.0])
    assert s["total_payout_cents"].tolist() == [calculate(plan, _QUOTA_ONLY).total_payout_cents]


@settings(max_examples=15, deadline=None)
@given(rate=st.decimals(min_value=0, max_value=Decimal("0.3"), places=3),
       top=st.decimals(min_value=0, max_value=Decimal("0.5"), places=3))
def test_sensitivity_cost_never_falls_as_sales_rise(rate, top):
    plan = Plan.model_validate({
        "plan": "P", "year_start": "2026-01-01", "period": "quarter",
        "components": [{"id": "c", "type": "commission", "tiers": {"bands": [
            {"from": 0, "rate": str(rate)}, {"from": 1, "rate": str(top)}]}}]})
    s = sensitivity(plan, _QUOTA_ONLY, np.linspace(-0.3, 0.3, 13))
    assert (np.diff(s["total_payout_cents"].to_numpy()) >= 0).all()


def test_monte_carlo_is_deterministic_for_a_seed():
    inputs = _QUOTA_ONLY
    plan = tiered_plan()
    a = monte_carlo(plan, inputs, draws=300, seed=3)
    b = monte_carlo(plan, inputs, draws=300, seed=3)
    c = monte_carlo(plan, inputs, draws=300, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["total_payout_cents"].equals(c["total_payout_cents"])
    assert a["draw"].tolist() == list(range(300))
    r = risk_summary(a)
    assert r["p10"] <= r["p50"] <= r["p90"]
    assert r["p10"] < r["p90"]  # the book has period-to-period variation
    # simulated sales are centred on the actual year's
    assert a["revenue_cents"].mean() == pytest.approx(49_000_000, rel=0.05)


def test_performance_pool_removes_the_common_seasonality():
    # both reps sell a quarter of their year in period 1: no variation left to resample
    assert performance_pool(np.array([[100, 300], [50, 150], [0, 0]])).tolist() == [1.0] * 4
    # period shares are 50/50; each rep sells 25/75 or 75/25 of its year
    pool = performance_pool(np.array([[100, 300], [300, 100]]))
    assert sorted(pool.tolist()) == [0.5, 0.5, 1.5, 1.5]
    annual = performance_pool(np.array([[100], [300]]), np.array([[100], [100]]))
    assert annual.tolist() == [0.5, 1.5]


def test_risk_summary_percentiles():
    mc = pd.DataFrame({"draw": range(11), "total_payout_cents": np.arange(11) * 100})
    r = risk_summary(mc)
    assert (r["p10"], r["p50"], r["p90"]) == (100, 500, 900)


# ------------------------------------------------------------------ compare


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    """Base 10%, Richer 12%, Tiered 8%/12% on the book without F (every payee has quota)."""
    return compare(commission_plan(), [commission_plan("0.12", "Richer"), tiered_plan()],
                   _QUOTA_ONLY, draws=200, seed=0)


def test_compare_puts_the_baseline_first_and_matches_kpis(comparison):
    assert comparison.plans == ["Base", "Richer", "Tiered"]
    assert comparison.headline["plan"].tolist() == comparison.plans
    for name in comparison.plans:
        k = kpis(comparison.results[name])
        row = comparison.headline.set_index("plan").loc[name]
        for key, value in k.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(row[key])
            else:
                assert row[key] == pytest.approx(value), key
    h = comparison.headline.set_index("plan")
    # by hand (book without F, credit 490,000): Base 10% = 49,000.00; Richer 12% = 58,800.00;
    # Tiered 8% to quota, 12% above: A 8,000 + 2,400, B 8,000, C 6,400, D 3,200, E 12,000
    assert h["total_payout_cents"].tolist() == [4_900_000, 5_880_000, 4_000_000]
    assert h.loc["Tiered", "cost_of_sales"] == pytest.approx(40_000 / 490_000)
    assert h.loc["Tiered", "delta_cents"] == -900_000
    assert h.loc["Base", "delta_cents"] == 0
    assert h.loc["Richer", "delta_cents"] == 980_000
    assert h.loc["Richer", "delta_pct"] == pytest.approx(0.2)
    assert (h["p10_cents"] <= h["p50_cents"]).all() and (h["p50_cents"] <= h["p90_cents"]).all()


def test_compare_long_frames(comparison):
    assert set(comparison.rep_deltas["plan"]) == {"Richer", "Tiered"}
    assert set(comparison.segments["by"]) == {"region", "role"}
    assert comparison.segments.columns[:3].tolist() == ["plan", "by", "segment"]
    assert comparison.sensitivity.groupby("plan").size().tolist() == [13, 13, 13]
    assert comparison.risk.columns.tolist() == ["plan", "p10", "p50", "p90"]
    assert comparison.pay_curves.groupby("plan", sort=False).size().to_dict() == {
        "Base": 41, "Richer": 41, "Tiered": 41}
    assert comparison.bands["plan"].tolist()[:6] == ["Base"] * 6
    assert len(comparison.outcomes) == 15
    assert len(comparison.simulations) == 600


def test_compare_metrics_are_json_safe_with_money_in_both_forms(comparison):
    m = comparison.metrics()
    json.dumps(m, allow_nan=False)
    assert list(m) == ["Base", "Richer", "Tiered"]
    base = m["Base"]
    assert base["total_payout_cents"] == 4_900_000
    assert base["total_payout"] == 49_000.00
    assert base["credited_revenue"] == 490_000.00
    assert base["cost_of_sales"] == 0.1
    assert base["payout_pct_of_target"] == round(49_000 / 120_000, 6)
    assert m["Richer"]["delta"] == 9_800.00
    assert m["Richer"]["delta_cents"] == 980_000
    # Tiered: 8% to quota, 12% above: A 8,000 + 2,400; B 8,000; C 6,400; D 3,200; E 12,000
    assert m["Tiered"]["total_payout_cents"] == 4_000_000


def test_compare_rejects_duplicate_plan_names(inputs):
    with pytest.raises(SpmkitError, match="Base"):
        compare(commission_plan(), [commission_plan("0.2")], inputs, draws=10)



def test_comparison_movers_ranks_by_hand(comparison):
    """Richer pays 2 points more on each rep's credit: E +3,000, A +2,400, B +2,000 ..."""
    moved = comparison.movers("Richer", 2)
    assert moved["rep_id"].tolist() == ["E", "A"]
    assert moved["delta_cents"].tolist() == [300_000, 240_000]
    assert set(moved["direction"]) == {"gain"}
    tiered = comparison.movers("Tiered", 1)  # Tiered pays every rep less than Base
    assert tiered["rep_id"].tolist() == ["E"]  # E: 12,000 vs 15,000, the largest loss
    assert tiered["direction"].tolist() == ["loss"]
    with pytest.raises(SpmkitError):
        comparison.movers("Base")


def test_bookings_count_a_rolled_up_deal_once():
    """Hand example: R1 (manager M1) sells 100.00 and 50.00 on a roll-up plan: credited
    revenue is 300.00 (R1 150.00, M1 150.00 again), bookings 150.00; one deal closes the
    year before and counts in neither."""
    from spmkit.plan import load_plan
    from spmkit.scenario.stress import bookings_cents
    from spmkit.tables import load_inputs

    plan = load_plan("""
plan: Team
currency: USD
year_start: 2025-01-01
period: quarter
credit: rollup
components:
  - id: commission
    type: commission
    weight: 1.0
    attainment: ytd
    tiers: {method: marginal, bands: [{from: 0.0, bcr_multiple: 1.0}]}
""")
    deals = pd.DataFrame({"deal_id": ["D1", "D2", "D0"], "rep_id": ["R1", "R1", "R1"],
                          "close_date": ["2025-02-01", "2025-08-01", "2024-12-31"],
                          "amount": ["100.00", "50.00", "70.00"]})
    roster = pd.DataFrame({"rep_id": ["R1", "M1"], "name": ["A", "B"],
                           "manager_id": ["M1", ""], "target_incentive": ["10.00", "10.00"]})
    quotas = pd.DataFrame({"rep_id": ["R1", "M1"], "year": 2025, "quota": "1000.00"})
    inputs = load_inputs(deals, quotas=quotas, roster=roster)
    result = calculate(plan, inputs)
    assert int(result.attainment["credit_cents"].sum()) == 30_000
    assert bookings_cents(plan, inputs) == 15_000


def test_bookings_leave_out_cash_lines():
    """Hand example: a 100.00 deal paid in two instalments of 50.00 (a payments table):
    the cash lines record the same deal, so bookings stay 100.00."""
    from spmkit.plan import load_plan
    from spmkit.scenario.stress import bookings_cents
    from spmkit.tables import load_inputs

    plan = load_plan("""
plan: Direct
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    weight: 1.0
    attainment: ytd
    tiers: {method: marginal, bands: [{from: 0.0, bcr_multiple: 1.0}]}
""")
    deals = pd.DataFrame({"deal_id": ["D1"], "rep_id": ["R1"], "close_date": ["2025-02-01"],
                          "amount": ["100.00"]})
    payments = pd.DataFrame({"deal_id": ["D1", "D1"], "paid_date": ["2025-03-01",
                                                                   "2025-05-01"],
                             "amount": ["50.00", "50.00"]})
    quotas = pd.DataFrame({"rep_id": ["R1"], "year": 2025, "quota": "1000.00"})
    inputs = load_inputs(deals, quotas=quotas, payments=payments)
    result = calculate(plan, inputs)
    assert result.credits["rule"].str.startswith("collection").sum() == 2
    assert bookings_cents(plan, inputs) == 10_000
