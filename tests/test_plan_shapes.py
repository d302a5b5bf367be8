"""The second edition of the plan format: measures, bases, interpolated tiers, measure-only
components.  Published examples cite their source; "derived" marks arithmetic on a stated
rule; the rest are computed by hand in the docstrings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_helpers import annual_quotas, column, commission, deal, make_plan, paid, run
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ----------------------------------------------------------------------------- gates, modifiers


def _sec_plan():
    """SEC EDGAR CIK 66756 exhibit 10(h)7, restated: net income 50%, cash flow 25%,
    strategic 25% of the target award; each pays 25/50/100, 12.5/25/50 and 0/25/50 % of the
    award at threshold/target/superior (80/100/120% here), i.e. 0.5x/1x/2x its weighted
    target (0x for strategic at threshold); strategic pays only if net income reaches its
    threshold."""
    curve = [[0.8, 0.5], [1.0, 1.0], [1.2, 2.0]]
    return make_plan(
        {"id": "net_income", "type": "bonus", "weight": 0.5, "filter": {"product": ["NI"]},
         "curve": curve},
        {"id": "cash_flow", "type": "bonus", "weight": 0.25, "filter": {"product": ["CF"]},
         "curve": curve},
        {"id": "strategic", "type": "bonus", "weight": 0.25, "filter": {"product": ["ST"]},
         "curve": [[0.8, 0.0], [1.0, 1.0], [1.2, 2.0]],
         "gate": {"requires": [{"component": "net_income", "min_attainment": 0.8}]}},
        period="year")


@pytest.mark.parametrize(("ni", "level", "expected"), [
    (80, 80, 3_750), (100, 100, 10_000), (120, 120, 20_000),   # threshold met: 37.5/100/200%
    (70, 80, 1_250), (70, 100, 2_500), (70, 120, 5_000),       # not met: 12.5/25/50%
])
def test_sec_gate_zeroes_one_measure_and_not_another(ni, level, expected) -> None:
    """Totals as a share of a 10,000.00 award: 0 / 37.5 / 100 / 200% with the net income
    threshold met; 0 / 12.5 / 25 / 50% without (the exhibit's table)."""
    deals = [deal("NI", "R", "2026-06-30", ni, product="NI"),
             deal("CF", "R", "2026-06-30", level, product="CF"),
             deal("ST", "R", "2026-06-30", level, product="ST")]
    r = run(_sec_plan(), deals, annual_quotas({"R": 100}),
            roster=[{"rep_id": "R", "target_incentive": 10_000}])
    assert r.total_payout_cents == expected * 100
    if ni < 80:
        assert paid(r, "R", "strategic") == [0]
        assert "gate unmet: net_income at 70.0% of quota, needs 80%" in column(
            r, "R", "strategic", "explain")[0]


def _gated(locks, min_attainment=0.95, attainment="ytd"):
    return make_plan(
        commission({"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.10}, attainment=attainment,
                   filter={"product": ["A"]},
                   gate={"requires": [{"component": "product_c",
                                       "min_attainment": min_attainment}], "locks": locks}),
        {"id": "product_c", "type": "measure", "filter": {"product": ["C"]},
         "attainment": attainment},
        period="year")


@pytest.mark.parametrize(("c_amount", "expected"), [
    (95_000, 1_000_000),    # exactly at 95%: met -> 5% x 100k + 10% x 50k = 10,000
    ("94999.99", 750_000),  # a cent short: unmet -> from 100% at the rate below: 5% x 150k
])
def test_gate_locks_above_met_exactly_at_its_threshold(c_amount, expected) -> None:
    r = run(_gated({"above": 1.0}), [deal("D1", "R", "2026-03-01", 150_000, product="A"),
                                     deal("D2", "R", "2026-03-01", c_amount, product="C")],
            annual_quotas({"R": 100_000}))
    assert paid(r, "R", "commission") == [expected]
    text = column(r, "R", "commission", "explain")[0]
    assert ("gate unmet" in text) == (expected == 750_000)


def test_gate_locks_all_releases_through_the_ytd_true_up() -> None:
    """Quarterly, year to date: product C at 50% of the Q1 quota (unmet) holds Q1's 5% on
    20,000 (1,000.00); in Q2 C is at 100% year to date, so the true-up pays Q1's and Q2's
    commission together: 5% x 40,000 = 2,000.00."""
    plan = make_plan(
        commission({"from": 0, "rate": 0.05}, filter={"product": ["A"]},
                   gate={"requires": [{"component": "product_c", "min_attainment": 0.95}]}),
        {"id": "product_c", "type": "measure", "filter": {"product": ["C"]},
         "attainment": "ytd"})
    deals = [deal("A1", "R", "2026-02-01", 20_000, product="A"),
             deal("A2", "R", "2026-05-01", 20_000, product="A"),
             deal("C1", "R", "2026-02-01", 5_000, product="C"),
             deal("C2", "R", "2026-05-01", 15_000, product="C"),
             deal("C3", "R", "2026-08-01", 10_000, product="C"),
             deal("C4", "R", "2026-11-01", 10_000, product="C")]
    r = run(plan, deals, annual_quotas({"R": 40_000}))
    assert paid(r, "R", "commission") == [0, 200_000, 0, 0]


@pytest.mark.parametrize(("method", "c_amount", "factor"), [
    ("step", 50_000, "0.5"), ("step", 99_999, "0.5"), ("step", 100_000, "1"),
    ("step", 10_000, "0.5"),  # below the first row: its factor
    ("linear", 75_000, "0.75"), ("linear", 200_000, "1.2"),
])
def test_modifier_of_another_components_attainment(method, c_amount, factor) -> None:
    """Commission 10% of 100,000 = 10,000.00, times the factor at product C's attainment
    on a table [[0.5, 0.5], [1.0, 1.0], [1.5, 1.2]]."""
    plan = make_plan(
        commission({"from": 0, "rate": 0.1}, filter={"product": ["A"]},
                   modifier={"of": "product_c", "table": [[0.5, 0.5], [1.0, 1.0], [1.5, 1.2]],
                             "method": method}),
        {"id": "product_c", "type": "measure", "filter": {"product": ["C"]}}, period="year")
    r = run(plan, [deal("A1", "R", "2026-02-01", 100_000, product="A"),
                   deal("C1", "R", "2026-02-01", c_amount, product="C")],
            annual_quotas({"R": 100_000}))
    assert paid(r, "R", "commission") == [int(Decimal(1_000_000) * Decimal(factor))]
    assert f"modifier x{float(factor):g}" in column(r, "R", "commission", "explain")[0]


def test_modifier_of_a_ratio_of_measures() -> None:
    """``of: {ratio: [margin, revenue]}``: margin 30,000 of revenue 100,000 is 0.3; the step
    table [[0, 0.8], [0.25, 1.0], [0.4, 1.25]] gives 1.0; at 45,000 of margin, 1.25."""
    def plan():
        return make_plan(
            commission({"from": 0, "rate": 0.1}, filter={"product": ["REV"]},
                       modifier={"of": {"ratio": ["margin", "revenue"]},
                                 "table": [[0, 0.8], [0.25, 1.0], [0.4, 1.25]]}),
            {"id": "revenue", "type": "measure", "filter": {"product": ["REV"]},
             "basis": "value"},
            {"id": "margin", "type": "measure", "filter": {"product": ["MARGIN"]},
             "basis": "value"}, period="year")
    for margin, expected in ((30_000, 1_000_000), (45_000, 1_250_000)):
        r = run(plan(), [deal("R1", "R", "2026-02-01", 100_000, product="REV"),
                         deal("M1", "R", "2026-02-01", margin, product="MARGIN")])
        assert paid(r, "R", "commission") == [expected]


@pytest.mark.parametrize(("key", "message"), [
    ({"gate": {"requires": [{"component": "nope", "min_attainment": 1}]}}, "names 'nope'"),
    ({"gate": {"requires": [{"component": "commission", "min_attainment": 1}]}},
     "names itself"),
    ({"modifier": {"of": "spif", "table": [[0, 1]]}}, "a spif with no attainment"),
])
def test_gate_and_modifier_errors(key, message) -> None:
    spif = {"id": "spif", "type": "spif", "window": ["2026-01-01", "2026-12-31"],
            "per_deal": 10}
    with pytest.raises(PlanError, match=message):
        make_plan(commission({"from": 0, "rate": 0.1}, **key), spif)


def test_gate_cycle_is_an_error() -> None:
    def gated(cid, other):
        return {"id": cid, "type": "bonus", "curve": [[0, 0], [1, 1]],
                "gate": {"requires": [{"component": other, "min_attainment": 0.5}]}}
    with pytest.raises(PlanError, match="cycle: a -> b -> a"):
        make_plan(gated("a", "b"), gated("b", "a"))


def test_a_spif_cannot_take_a_gate() -> None:
    spif = {"id": "spif", "type": "spif", "window": ["2026-01-01", "2026-12-31"],
            "per_deal": 10, "gate": {"requires": [{"component": "c", "min_attainment": 1}]}}
    with pytest.raises(PlanError, match="a spif cannot take a gate"):
        make_plan(commission({"from": 0, "rate": 0.1}, cid="c"), spif)


# ----------------------------------------------------------------------------- holdback


def test_digital_altitude_rolling_reserve() -> None:
    """Digital Altitude help, "10% rolling reserve": 10% of commissions held 6 months;
    10,000 earned in January -> 9,000 paid on schedule, 1,000 released in July."""
    plan = make_plan(commission({"from": 0, "rate": 1}, holdback={"share": 0.1, "months": 6}),
                     period="month")
    r = run(plan, [deal("D1", "R", "2026-01-20", 10_000)])
    assert paid(r, "R", "commission")[:2] == [900_000, 0]
    release = paid(r, "R", "holdback")
    assert release[6] == 100_000 and sum(release) == 100_000
    assert "10% held back until 2026-07 (1,000.00)" in column(r, "R", "commission", "explain")[0]
    assert "released commission held in 2026-01: 1,000.00" in column(
        r, "R", "holdback", "explain")[6]
    assert r.total_payout_cents == 1_000_000


def test_holdback_released_after_the_plan_year_is_still_held() -> None:
    """Quarterly, 20% held 3 months: Q1's hold (200.00 of 1,000.00) pays in Q2; Q4's
    (100.00 of 500.00) would pay in 2027-03, after the plan year: reported as still held.
    A negative payout (Q3's clawback) is not held."""
    plan = make_plan(commission({"from": 0, "rate": 0.1}, attainment="period",
                                holdback={"share": 0.2, "months": 3}))
    r = run(plan, [deal("D1", "R", "2026-02-01", 10_000),
                   deal("D2", "R", "2026-03-01", 3_000, cancel_date="2026-08-01"),
                   deal("D3", "R", "2026-11-01", 5_000)])
    assert paid(r, "R", "commission") == [104_000, 0, -30_000, 40_000]
    assert paid(r, "R", "holdback") == [0, 26_000, 0, 0]
    assert r.summary["still_held_cents"] == 10_000
    assert "still held after the plan year: 100.00" in column(r, "R", "holdback", "explain")[3]
    assert r.total_payout_cents == 130_000 + 0 - 30_000 + 50_000 - 10_000


def test_holdback_year_end() -> None:
    plan = make_plan(commission({"from": 0, "rate": 0.1}, attainment="period",
                                holdback={"share": 0.5, "release": "year_end"}))
    r = run(plan, [deal("D1", "R", "2026-02-01", 1_000), deal("D2", "R", "2026-05-01", 1_000)])
    assert paid(r, "R", "commission") == [5_000, 5_000, 0, 0]
    assert paid(r, "R", "holdback") == [0, 0, 0, 10_000]


# ----------------------------------------------------------------------------- rates, scope


def test_etendo_rate_precedence_first_match() -> None:
    """etendo_core issue #680: product A 20 at the partner's 10%; product B 30 with its own
    50%: 2 + 15 = 17."""
    plan = make_plan({"id": "commission", "type": "commission",
                      "rates": [{"when": {"product": ["B"]}, "rate": 0.5}, {"rate": 0.1}]},
                     period="year")
    r = run(plan, [deal("D1", "P", "2026-02-01", 20, product="A"),
                   deal("D2", "P", "2026-02-01", 30, product="B")])
    assert paid(r, "P", "commission") == [1_700]
    text = column(r, "P", "commission", "explain")[0]
    assert "by rate table: 50% on 30.00 (product B); 10% on 20.00 (any other line)" in text


def test_rates_on_roster_columns_and_no_match_earns_nothing() -> None:
    """``when`` on the payee's role: Widget Pro pays AEs 10%, others 8%; a line no row
    matches (product Other, no default row) earns nothing."""
    plan = make_plan({"id": "commission", "type": "commission", "rates": [
        {"when": {"product": ["Widget Pro"], "role": ["AE"]}, "rate": 0.10},
        {"when": {"product": ["Widget Pro"]}, "rate": 0.08}]}, period="year")
    roster = [{"rep_id": "A", "role": "AE"}, {"rep_id": "S", "role": "SE"}]
    r = run(plan, [deal("D1", "A", "2026-02-01", 1_000, product="Widget Pro"),
                   deal("D2", "S", "2026-02-01", 1_000, product="Widget Pro"),
                   deal("D3", "A", "2026-02-01", 5_000, product="Other")], roster=roster)
    assert paid(r, "A", "commission") == [10_000]
    assert paid(r, "S", "commission") == [8_000]


def test_oracle_step_rates_per_transaction() -> None:
    """Oracle Incentive Compensation docs, "Examples of Calculating Earnings Using Step
    Rates": 0-1,000 at 1%, 1,000-3,000 at 2%, 3,000-8,000 at 3%, 8,000-20,000 at 5%, each
    transaction on its own: 200, 300, 1,500, 1,200, 2,000, 4,500 -> 2, 3, 20, 14, 30, 95;
    total 164 (``tiers.scope: deal``)."""
    plan = make_plan(commission({"from": 0, "rate": 0.01}, {"from": 1_000, "rate": 0.02},
                                {"from": 3_000, "rate": 0.03}, {"from": 8_000, "rate": 0.05},
                                basis="value", attainment="period") | {
        "tiers": {"scope": "deal", "bands": [
            {"from": 0, "rate": 0.01}, {"from": 1_000, "rate": 0.02},
            {"from": 3_000, "rate": 0.03}, {"from": 8_000, "rate": 0.05}]}}, period="month")
    amounts = [200, 300, 1500, 1200, 2000, 4500]
    r = run(plan, [deal(f"T{m}", "R", f"2026-{m:02d}-15", a) for m, a in enumerate(amounts, 1)])
    assert paid(r, "R", "commission")[:6] == [200, 300, 2_000, 1_400, 3_000, 9_500]
    assert r.total_payout_cents == 16_400


def test_scope_deal_retroactive_and_clawback() -> None:
    """Per deal, retroactive: 1,500 sits in the 1,000 band (2% on all: 30.00); 999.99 in
    the first (1%: 10.00).  The 1,500 deal's clawback reverses its 30.00."""
    plan = make_plan({"id": "commission", "type": "commission", "basis": "value",
                      "attainment": "period", "tiers": {
                          "method": "retroactive", "scope": "deal",
                          "bands": [{"from": 0, "rate": 0.01}, {"from": 1_000, "rate": 0.02}]}})
    r = run(plan, [deal("D1", "R", "2026-01-10", 1_500, cancel_date="2026-04-10"),
                   deal("D2", "R", "2026-01-11", "999.99")])
    assert paid(r, "R", "commission") == [4_000, -3_000, 0, 0]


def test_scope_running_retroactive_pays_the_rate_at_booking() -> None:
    """Running, retroactive: 5% below 100% of a 10,000 quota (year), 10% from 100%.  In
    credit-date order: 6,000 (total 6,000: 5%, 300), 2,000 (8,000: 5%, 100), 4,000 (12,000:
    10%, 400) = 800.  On the total it would be 10% x 12,000 = 1,200: earlier lines are never
    lifted."""
    def plan(scope):
        return make_plan({"id": "commission", "type": "commission", "tiers": {
            "method": "retroactive", "scope": scope,
            "bands": [{"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.10}]}}, period="year")
    deals = [deal("D1", "R", "2026-01-10", 6_000), deal("D2", "R", "2026-03-10", 4_000),
             deal("D3", "R", "2026-02-10", 2_000)]  # booked in date order: D1, D3, D2
    r = run(plan("running"), deals, annual_quotas({"R": 10_000}))
    assert paid(r, "R", "commission") == [30_000 + 10_000 + 40_000]
    r = run(plan("total"), deals, annual_quotas({"R": 10_000}))
    assert paid(r, "R", "commission") == [120_000]


def test_scope_deal_needs_basis_value() -> None:
    with pytest.raises(PlanError, match="scope: deal .* needs 'basis: value'"):
        make_plan({"id": "c", "type": "commission",
                   "tiers": {"scope": "deal", "bands": [{"from": 0, "rate": 0.01}]}})


# ----------------------------------------------------------------------------- properties

_amounts = st.lists(st.decimals(min_value=-500, max_value=20_000, places=2), min_size=1,
                    max_size=12)


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(amounts=_amounts, days=st.lists(st.integers(0, 364), min_size=12, max_size=12),
       quota=st.integers(1_000, 50_000), attainment=st.sampled_from(["ytd", "period"]))
def test_running_marginal_equals_total(amounts, days, quota, attainment) -> None:
    """``scope: running`` with marginal tiers pays the same as ``scope: total``."""
    import datetime as dt

    def plan(scope):
        return make_plan(commission({"from": 0, "rate": 0.03}, {"from": 0.8, "rate": 0.06},
                                    {"from": 1.2, "rate": 0.1}, attainment=attainment) | {
            "tiers": {"scope": scope, "bands": [
                {"from": 0, "rate": 0.03}, {"from": 0.8, "rate": 0.06},
                {"from": 1.2, "rate": 0.1}]}})
    start = dt.date(2026, 1, 1)
    deals = [deal(f"D{i}", "R", f"{start + dt.timedelta(days=days[i]):%Y-%m-%d}", str(a))
             for i, a in enumerate(amounts)]
    q = annual_quotas({"R": quota})
    assert paid(run(plan("running"), deals, q), "R", "commission") == paid(
        run(plan("total"), deals, q), "R", "commission")


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(amounts=_amounts, months=st.integers(0, 14), share=st.sampled_from(["0.1", "0.25", "1"]),
       period=st.sampled_from(["month", "quarter"]))
def test_holdback_paid_plus_still_held_equals_no_holdback(amounts, months, share,
                                                          period) -> None:
    """What a holdback pays in the year plus what it still holds after it equals the
    payouts without a holdback, for every payee."""
    def plan(holdback):
        extra = {"holdback": {"share": share, "months": months}} if holdback else {}
        return make_plan(commission({"from": 0, "rate": 0.07}, attainment="period", **extra),
                         period=period)
    deals = [deal(f"D{i}", "R", f"2026-{(i % 12) + 1:02d}-05", str(a))
             for i, a in enumerate(amounts)]
    held, plain = run(plan(True), deals), run(plan(False), deals)
    assert held.total_payout_cents + held.summary["still_held_cents"] == \
        plain.total_payout_cents


# ----------------------------------------------------------------------------- named quotas


def test_named_quotas_per_component() -> None:
    """``quota: NAME`` takes the rows whose ``measure`` is NAME; other components take the
    rows without one.  Revenue 120,000 of 100,000 (120%) and units 30 of 40 (75%): a
    commission at 10% / 20% above quota on revenue pays 10,000 + 4,000; a unit bonus on
    the curve [[0.5, 0.5], [1, 1]] pays 75% of its 5,000 target."""
    plan = make_plan(
        commission({"from": 0, "rate": 0.1}, {"from": 1, "rate": 0.2}, attainment="period"),
        {"id": "units", "type": "bonus", "measure": "count", "quota": "units", "weight": 0.5,
         "curve": [[0.5, 0.5], [1, 1]]}, period="year")
    quotas = [{"rep_id": "R", "year": 2026, "quota": 100_000, "measure": ""},
              {"rep_id": "R", "year": 2026, "quota": 40, "measure": "units"}]
    deals = [deal(f"D{i}", "R", "2026-03-01", 4_000) for i in range(30)]
    r = run(plan, deals, quotas, roster=[{"rep_id": "R", "target_incentive": 10_000}])
    assert paid(r, "R", "commission") == [1_400_000]
    assert column(r, "R", "units", "attainment") == [0.75]
    assert paid(r, "R", "units") == [375_000]


def test_named_quota_missing_is_an_error() -> None:
    from spmkit.errors import InputError

    plan = make_plan(commission({"from": 0, "rate": 0.1}, quota="margin"), period="year")
    with pytest.raises(InputError, match="takes quota 'margin', but no quota row has measure"):
        run(plan, [deal("D1", "R", "2026-03-01", 100)], annual_quotas({"R": 100}))


def test_a_repeated_quota_of_one_measure_is_an_error() -> None:
    from spmkit.errors import InputError

    quotas = [{"rep_id": "R", "year": 2026, "quota": 10, "measure": "units"},
              {"rep_id": "R", "year": 2026, "quota": 20, "measure": "units"},
              {"rep_id": "R", "year": 2026, "quota": 100, "measure": ""}]
    plan = make_plan(commission({"from": 0, "rate": 0.1}), period="year")
    with pytest.raises(InputError, match="repeat|duplicate|again"):
        run(plan, [deal("D1", "R", "2026-03-01", 100)], quotas)


# ----------------------------------------------------------------------------- overlays


def test_repairdesk_split_versus_overlay() -> None:
    """RepairDesk issues #1141 and #1326: a $10 commission on one transaction for a
    technician and a salesperson.  As a split: 5 + 5 (70/30: 7 + 3).  As an overlay the
    technician is credited too, without taking the salesperson's credit: 10 + 10 (the
    behaviour the old bug gave by accident, here by design)."""
    plan = make_plan(commission({"from": 0, "rate": 1}), period="year")
    sale = [deal("T1", "S", "2026-04-01", 10)]
    split = run(plan, sale, splits=[{"deal_id": "T1", "rep_id": "S", "share": 0.7},
                                    {"deal_id": "T1", "rep_id": "T", "share": 0.3}])
    assert (paid(split, "S", "commission"), paid(split, "T", "commission")) == ([700], [300])
    from engine_helpers import frame

    from spmkit.payout import calculate
    from spmkit.tables import load_inputs

    inp = load_inputs(frame(sale), overlays=frame([{"deal_id": "T1", "rep_id": "T"}]))
    both = calculate(plan, inp)
    assert paid(both, "S", "commission") == [1_000]
    assert paid(both, "T", "commission") == [1_000]
    assert sorted(both.credits["rule"]) == ["overlay", "owner"]


def _overlay_inputs(overlays, deals, roster=None, splits=None):
    from engine_helpers import frame

    from spmkit.tables import load_inputs

    return load_inputs(frame(deals), roster=frame(roster), splits=frame(splits),
                       overlays=frame(overlays))


def test_overlay_on_a_split_deal_that_is_also_rolled_up() -> None:
    """A 100.01 deal split 50/50 between A and B, with an overlay SE at 0.5, all under
    manager M on a roll-up plan.  Sellers: 50.00 + 50.01 (the residue cent, on equal
    shares, goes to the smaller rep_id: -1 to A); SE: 50.01 (overlay, its own
    rounding); M is credited once per deal, the credit below limited to the deal: 100.01,
    not 150.02.  A clawback reverses every line, M's included."""
    from spmkit.payout import calculate

    roster = [{"rep_id": "M"}, {"rep_id": "A", "manager_id": "M"},
              {"rep_id": "B", "manager_id": "M"}, {"rep_id": "SE", "manager_id": "M"}]
    inp = _overlay_inputs([{"deal_id": "D1", "rep_id": "SE", "share": 0.5}],
                          [deal("D1", "A", "2026-02-01", "100.01", cancel_date="2026-08-01")],
                          roster, [{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                                   {"deal_id": "D1", "rep_id": "B", "share": 0.5}])
    r = calculate(make_plan(commission({"from": 0, "rate": 1}), credit="rollup"), inp)
    c = r.credits.assign(day=r.credits["credit_date"].dt.strftime("%Y-%m-%d"))
    got = sorted(zip(c["rep_id"], c["day"], c["amount_cents"], c["rule"], strict=True))
    assert got == [
        ("A", "2026-02-01", 5000, "split"), ("A", "2026-08-01", -5000, "split+clawback"),
        ("B", "2026-02-01", 5001, "split"), ("B", "2026-08-01", -5001, "split+clawback"),
        ("M", "2026-02-01", 10001, "rollup"),  # one line: split and overlay credit below
        ("M", "2026-08-01", -10001, "rollup+clawback"),
        ("SE", "2026-02-01", 5001, "overlay"), ("SE", "2026-08-01", -5001, "overlay+clawback"),
    ]
    assert paid(r, "M", "commission") == [10001, 0, -10001, 0]


def test_credit_overlay_matches_roster_columns() -> None:
    """``credit: overlay`` with ``overlay_match: [region]``: each payee of the overlay plan
    is credited with every deal of its region, in addition to the sellers."""
    from spmkit.payout import calculate

    plan = make_plan(commission({"from": 0, "rate": 0.1}), credit="overlay",
                     overlay_match=["region"], plan="SE plan", period="year")
    roster = [{"rep_id": "A", "region": "East", "plan": "AE plan"},
              {"rep_id": "B", "region": "West", "plan": "AE plan"},
              {"rep_id": "SE1", "region": "East", "plan": "SE plan"},
              {"rep_id": "SE2", "region": "West", "plan": "SE plan"}]
    deals = [deal("D1", "A", "2026-02-01", 1_000, region="East"),
             deal("D2", "B", "2026-03-01", 3_000, region="West"),
             deal("D3", "A", "2026-04-01", 500, region="East")]
    r = calculate(plan, _overlay_inputs(None, deals, roster))
    assert paid(r, "SE1", "commission") == [15_000]
    assert paid(r, "SE2", "commission") == [30_000]
    assert sorted(r.payouts["rep_id"].unique()) == ["SE1", "SE2"]


def test_overlay_key_errors() -> None:
    with pytest.raises(PlanError, match="credit: overlay and overlay_match go together"):
        make_plan(commission({"from": 0, "rate": 0.1}), credit="overlay")


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(amounts=_amounts, shares=st.lists(st.integers(1, 1_000_000_000), min_size=1,
                                         max_size=12))
def test_overlays_never_change_anyone_elses_credit(amounts, shares) -> None:
    """Adding overlay rows leaves every other credit line exactly as it was."""
    from spmkit.payout import calculate

    deals = [deal(f"D{i}", f"R{i % 3}", f"2026-{(i % 12) + 1:02d}-05", str(a))
             for i, a in enumerate(amounts)]
    overlays = [{"deal_id": f"D{i}", "rep_id": "OV",
                 "share": format(Decimal(s).scaleb(-9), "f")}
                for i, s in enumerate(shares[:len(amounts)])]
    plan = make_plan(commission({"from": 0, "rate": 0.1}))
    without = calculate(plan, _overlay_inputs(None, deals)).credits
    with_ov = calculate(plan, _overlay_inputs(overlays, deals)).credits
    kept = with_ov[with_ov["rep_id"] != "OV"].reset_index(drop=True)
    assert kept.equals(without.reset_index(drop=True))
    assert (with_ov.loc[with_ov["rep_id"] == "OV", "rule"] == "overlay").all()


# ----------------------------------------------------------------------------- collections


def _paid_inputs(deals, payments, splits=None, fx=None):
    from engine_helpers import frame

    from spmkit.tables import load_inputs

    return load_inputs(frame(deals), splits=frame(splits), fx=frame(fx),
                       payments=frame(payments), currency="USD")


def test_oca_commission_on_partial_payments() -> None:
    """OCA commission PR #104: an invoice of 20,000 paid in two instalments of 10,000, with
    a commission of 4,000 (20%): 2,000 at each payment, in the period it arrives."""
    from spmkit.payout import calculate

    plan = make_plan(commission({"from": 0, "rate": 0.2}, measure="collections",
                                attainment="period"))
    inp = _paid_inputs([deal("INV1", "R", "2026-01-15", 20_000)],
                       [{"deal_id": "INV1", "paid_date": "2026-02-10", "amount": 10_000},
                        {"deal_id": "INV1", "paid_date": "2026-05-10", "amount": 10_000}])
    r = calculate(plan, inp)
    assert paid(r, "R", "commission") == [200_000, 200_000, 0, 0]
    rules = sorted(set(r.credits["rule"]))
    assert rules == ["collection+owner", "owner"]


def test_oca_pay_on_cash_received_split_and_fx() -> None:
    """OCA commission PR #480: an invoice of 1,000 at 20% with 500 received pays 100.
    Split 60/40 it pays 60 + 40; in EUR at 1.1 the 500 received is 550.00 of plan
    currency, so 66 + 44."""
    from spmkit.payout import calculate

    plan = make_plan(commission({"from": 0, "rate": 0.2}, measure="collections"))
    pay = [{"deal_id": "I1", "paid_date": "2026-03-01", "amount": 500}]
    r = calculate(plan, _paid_inputs([deal("I1", "R", "2026-01-15", 1_000)], pay))
    assert sum(paid(r, "R", "commission")) == 10_000
    splits = [{"deal_id": "I1", "rep_id": "R", "share": 0.6},
              {"deal_id": "I1", "rep_id": "S", "share": 0.4}]
    r = calculate(plan, _paid_inputs([deal("I1", "R", "2026-01-15", 1_000, currency="EUR")],
                                     pay, splits, [{"currency": "EUR", "rate": "1.1"}]))
    assert sum(paid(r, "R", "commission")) == 6_600
    assert sum(paid(r, "S", "commission")) == 4_400


def test_payments_above_the_deal_amount_are_an_error() -> None:
    from spmkit.errors import InputError

    with pytest.raises(InputError, match="payments of deal 'I1' add up to 1,200.00, more "
                                         "than its amount of 1,000.00"):
        _paid_inputs([deal("I1", "R", "2026-01-15", 1_000)],
                     [{"deal_id": "I1", "paid_date": "2026-03-01", "amount": 700},
                      {"deal_id": "I1", "paid_date": "2026-04-01", "amount": 500}])


def test_collections_leave_booked_measures_alone() -> None:
    """A payments table changes nothing for components that measure bookings."""
    from spmkit.payout import calculate

    plan = make_plan(commission({"from": 0, "rate": 0.1}))
    deals = [deal("I1", "R", "2026-01-15", 1_000)]
    pay = [{"deal_id": "I1", "paid_date": "2026-03-01", "amount": 500}]
    assert paid(calculate(plan, _paid_inputs(deals, pay)), "R", "commission") == [
        10_000, 0, 0, 0]


# ----------------------------------------------------------------------------- columns


def _column_inputs(deals, plan, splits=None, fx=None, roster=None):
    from engine_helpers import frame

    from spmkit.tables import load_inputs

    return load_inputs(frame(deals), splits=frame(splits), fx=frame(fx), roster=frame(roster),
                       measure_columns=plan.measure_columns(), currency=plan.currency)


def test_margin_column_measure_is_split_and_converted() -> None:
    """``measure: {column: margin}``: 10% of margin.  A 50/50 split of a 333.33 margin
    credits 166.67 and 166.66 (the residue to the smaller rep_id on equal shares: -1 to A
    of 166.67 each); an EUR deal's margin 100 at 1.1 is 110.00."""
    from spmkit.payout import calculate

    plan = make_plan(commission({"from": 0, "rate": 0.1}, measure={"column": "margin"}),
                     period="year")
    deals = [deal("D1", "A", "2026-03-01", 1_000, margin="333.33"),
             deal("D2", "C", "2026-03-01", 500, margin=100, currency="EUR")]
    r = calculate(plan, _column_inputs(deals, plan,
                                       [{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                                        {"deal_id": "D1", "rep_id": "B", "share": 0.5}],
                                       [{"currency": "EUR", "rate": "1.1"}]))
    assert paid(r, "A", "commission") == [1_667]   # 10% of 166.66 = 16.666 -> 16.67
    assert paid(r, "B", "commission") == [1_667]   # 10% of 166.67 = 16.667 -> 16.67
    assert paid(r, "C", "commission") == [1_100]


def test_units_column_pays_per_unit() -> None:
    """``measure: {column: units}`` is a quantity (never converted): 25 per unit to 100
    units, 40 above (``basis: value``); 120 units pay 2,500 + 800 = 3,300."""
    from spmkit.payout import calculate

    plan = make_plan(commission({"from": 0, "rate": 25}, {"from": 100, "rate": 40},
                                measure={"column": "units"}, basis="value"), period="year")
    deals = [deal("D1", "A", "2026-03-01", 9_000, units=70, currency="EUR"),
             deal("D2", "A", "2026-04-01", 1_000, units=50, currency="EUR")]
    r = calculate(plan, _column_inputs(deals, plan, fx=[{"currency": "EUR", "rate": "2"}]))
    assert paid(r, "A", "commission") == [330_000]
    assert "25.00 per unit on 100 up to 100" in column(r, "A", "commission", "explain")[0]


def test_a_measured_column_the_deals_lack_is_an_error() -> None:
    from spmkit.errors import InputError

    plan = make_plan(commission({"from": 0, "rate": 0.1}, measure={"column": "margin"}))
    with pytest.raises(InputError, match="margin"):
        _column_inputs([deal("D1", "A", "2026-03-01", 1_000)], plan)
    with pytest.raises(PlanError, match="standard deals column"):
        make_plan(commission({"from": 0, "rate": 0.1}, measure={"column": "amount"}))


def test_validate_warns_about_a_rates_table_without_a_default_row(tmp_path) -> None:
    """``spmkit validate`` (a subprocess) passes, with one warning naming the component."""
    import subprocess
    import sys

    plan = tmp_path / "rates.yaml"
    plan.write_text("""\
plan: Rates
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    rates:
      - {when: {product: [Widget Pro]}, rate: 0.1}
""", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text("deal_id,rep_id,close_date,amount,product\nD1,A,2026-02-01,100,Other\n",
                     encoding="utf-8")
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("rep_id,year,quota\nA,2026,1000\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", "validate", "--plan", str(plan),
                           "--deals", str(deals), "--quotas", str(quotas)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "'commission': its rates table has no default row" \
        in proc.stderr
    assert proc.stdout.startswith("ok: plan 'Rates'")
