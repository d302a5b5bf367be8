"""Spec rule 1 (credit): owner and split credit, fx, clawbacks and roll-ups, by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_helpers import annual_quotas, credits, deal, flat, inputs, make_plan, paid, run

from spmkit.crediting import ancestors, credit_lines
from spmkit.errors import InputError

PLAN = make_plan(flat("0.1"))


def test_owner_credit() -> None:
    """A deal without splits credits its owner, on its close date, the whole amount."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 1000)])
    assert credits(r) == [("D1", "A", "2026-02-10", 100000, "owner")]


def test_split_credits_sum_to_the_deal() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}])
    lines = credits(r)
    assert sum(line[3] for line in lines) == 10001
    assert sorted(line[3] for line in lines) == [5000, 5001]
    assert {line[4] for line in lines} == {"split"}


def test_split_tie_gives_the_residue_to_the_first_row() -> None:
    """Spec rule 1, read literally: 100.01 split 50/50 rounds each share to 50.01 (half away
    from zero); the -0.01 residue goes to the largest share, ties the first row: 50.00."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}])
    assert {line[1]: line[3] for line in credits(r)} == {"A": 5000, "B": 5001}


def test_split_tie_follows_splits_row_order() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01)],
            splits=[{"deal_id": "D1", "rep_id": "B", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "A", "share": 0.5}])
    assert {line[1]: line[3] for line in credits(r)} == {"A": 5001, "B": 5000}


def test_split_residue_goes_to_the_largest_share() -> None:
    """0.03 split 25/25/50: 0.75, 0.75, 1.5 cents round to 1, 1, 2 = 4 cents; the -1 residue
    goes to the 50% share, giving 1, 1, 1."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.03)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.25},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.25},
                    {"deal_id": "D1", "rep_id": "C", "share": 0.5}])
    assert {line[1]: line[3] for line in credits(r)} == {"A": 1, "B": 1, "C": 1}


def test_split_60_40_and_unsplit_deals_together() -> None:
    """Only deals named in the splits table are split; the others credit their owner."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01), deal("D2", "A", "2026-03-01", 5)],
            splits=[{"deal_id": "D1", "rep_id": "B", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "C", "share": 0.4}])
    assert credits(r) == [
        ("D1", "B", "2026-02-10", 6001, "split"),  # 6000.6 -> 6001
        ("D1", "C", "2026-02-10", 4000, "split"),  # 4000.4 -> 4000
        ("D2", "A", "2026-03-01", 500, "owner"),
    ]


def test_fx_converts_and_rounds_once_before_the_split() -> None:
    """EUR 0.01 at 1.5 = 0.015 -> 0.02, then 50/50 -> 0.01 + 0.01.
    Splitting first would give EUR 0.005 -> 0.01 each -> 0.015 -> 0.02 each, 0.04 in all."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.01, currency="EUR")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}],
            fx=[{"currency": "EUR", "rate": "1.5"}])
    assert credits(r) == [("D1", "A", "2026-02-10", 1, "split+fx"),
                          ("D1", "B", "2026-02-10", 1, "split+fx")]


def test_fx_then_split_60_40() -> None:
    """EUR 100.01 at 1.1 = 110.011 -> 110.01; 60% = 66.006 -> 66.01, 40% = 44.004 -> 44.00."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01, currency="EUR")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.4}],
            fx=[{"currency": "EUR", "rate": "1.1"}])
    assert credits(r) == [("D1", "A", "2026-02-10", 6601, "split+fx"),
                          ("D1", "B", "2026-02-10", 4400, "split+fx")]


def test_fx_rate_is_exact_and_plan_currency_is_not_converted() -> None:
    """EUR 1,000.00 at 1.08345 = 1,083.45; GBP 0.01 at 1.25 = 0.0125 -> 0.01; USD untouched."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 1000, currency="EUR"),
                   deal("D2", "A", "2026-02-10", 0.01, currency="GBP"),
                   deal("D3", "A", "2026-02-10", 7, currency="USD")],
            fx=[{"currency": "EUR", "rate": "1.08345"}, {"currency": "GBP", "rate": "1.25"}])
    assert credits(r) == [("D1", "A", "2026-02-10", 108345, "owner+fx"),
                          ("D2", "A", "2026-02-10", 1, "owner+fx"),
                          ("D3", "A", "2026-02-10", 700, "owner")]


def test_fx_half_cent_rounds_away_from_zero() -> None:
    """EUR 0.01 at 1.5 = 0.015 -> 0.02; a credit memo of EUR -0.01 -> -0.02."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.01, currency="EUR"),
                   deal("D2", "A", "2026-02-11", -0.01, currency="EUR")],
            fx=[{"currency": "EUR", "rate": "1.5"}])
    assert [line[3] for line in credits(r)] == [2, -2]


def test_amounts_given_as_text_credit_exactly() -> None:
    """Text amounts (as from CSV) are parsed exactly, half away from zero."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", "1234.565"), deal("D2", "A", "2026-02-10",
                                                                    "-0.005")])
    assert [line[3] for line in credits(r)] == [123457, -1]


def test_missing_fx_rate_is_an_error() -> None:
    with pytest.raises(InputError, match="EUR"):
        run(PLAN, [deal("D1", "A", "2026-02-10", 10, currency="EUR")],
            fx=[{"currency": "GBP", "rate": "1.25"}])


def test_clawback_line_dated_cancel_date() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 1000, cancel_date="2026-05-03")])
    assert credits(r) == [("D1", "A", "2026-02-10", 100000, "owner"),
                          ("D1", "A", "2026-05-03", -100000, "owner+clawback")]
    assert paid(r, "A", "commission") == [10000, -10000, 0, 0]


def test_clawback_of_a_split_fx_deal_reverses_each_rep_line() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01, currency="EUR",
                        cancel_date="2026-03-01")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.4}],
            fx=[{"currency": "EUR", "rate": "1.1"}])
    assert credits(r, "A") == [("D1", "A", "2026-02-10", 6601, "split+fx"),
                               ("D1", "A", "2026-03-01", -6601, "split+fx+clawback")]
    assert credits(r, "B") == [("D1", "B", "2026-02-10", 4400, "split+fx"),
                               ("D1", "B", "2026-03-01", -4400, "split+fx+clawback")]


ROSTER = [
    {"rep_id": "VP", "name": "Vera"},
    {"rep_id": "M", "name": "Mia", "manager_id": "VP"},
    {"rep_id": "A", "name": "Ann", "manager_id": "M"},
    {"rep_id": "B", "name": "Bo", "manager_id": "M"},
]


def test_rollup_credits_every_manager_up_the_tree() -> None:
    plan = make_plan(flat("0.1"), credit="rollup")
    r = run(plan, [deal("D1", "A", "2026-02-10", 100), deal("D2", "B", "2026-04-10", 50),
                   deal("D3", "M", "2026-07-10", 10)], roster=ROSTER)
    assert credits(r, "M") == [("D1", "M", "2026-02-10", 10000, "owner+rollup"),
                               ("D2", "M", "2026-04-10", 5000, "owner+rollup"),
                               ("D3", "M", "2026-07-10", 1000, "owner")]
    assert [line[3] for line in credits(r, "VP")] == [10000, 5000, 1000]
    assert {line[4] for line in credits(r, "VP")} == {"owner+rollup"}
    assert credits(r, "A") == [("D1", "A", "2026-02-10", 10000, "owner")]
    assert paid(r, "M", "commission") == [1000, 500, 100, 0]
    assert paid(r, "VP", "commission") == [1000, 500, 100, 0]


def test_rollup_of_a_split_clawed_back_deal() -> None:
    plan = make_plan(flat("0.1"), credit="rollup")
    r = run(plan, [deal("D1", "A", "2026-02-10", 100.01, cancel_date="2026-08-01")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}], roster=ROSTER)
    m = credits(r, "M")
    assert sorted(line[3] for line in m) == [-5001, -5000, 5000, 5001]
    assert {line[4] for line in m} == {"split+rollup", "split+clawback+rollup"}


def test_direct_credit_does_not_roll_up() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100)], roster=ROSTER)
    assert {line[1] for line in credits(r)} == {"A"}


def test_rollup_only_to_managers_on_this_plan() -> None:
    """With a roster ``plan`` column, roll-up lines go only to managers this plan pays."""
    plan = make_plan(flat("0.1"), credit="rollup", plan="Managers")
    roster = [dict(row, plan="Managers" if row["rep_id"] == "M" else "Other") for row in ROSTER]
    r = run(plan, [deal("D1", "A", "2026-02-10", 100)], roster=roster)
    assert {line[1] for line in credits(r)} == {"A", "M"}
    assert set(r.payouts["rep_id"]) == {"M"}
    assert paid(r, "M", "commission") == [1000, 0, 0, 0]


def test_ancestors_and_cycles() -> None:
    data = inputs([deal("D1", "A", "2026-02-10", 1)], roster=ROSTER)
    pairs = ancestors(data.roster)
    got = sorted(zip(pairs["rep_id"], pairs["ancestor_id"], strict=True))
    assert got == [("A", "M"), ("A", "VP"), ("B", "M"), ("B", "VP"), ("M", "VP")]
    cyc = data.roster.assign(manager_id=pd.Series(["B", "VP", "M", "M"], dtype="str"))
    with pytest.raises(InputError, match="cycle"):
        ancestors(cyc)


def test_credit_lines_carry_deal_attributes() -> None:
    data = inputs([deal("D1", "A", "2026-02-10", 1, product="Widget", deal_type="new",
                        region="EMEA", account="Acme")], quotas=annual_quotas({"A": 10}))
    lines = credit_lines(PLAN, data.deals)
    row = lines.iloc[0]
    assert (row["product"], row["deal_type"], row["region"], row["account"]) == (
        "Widget", "new", "EMEA", "Acme")
    assert bool(row["clawback"]) is False and int(row["share_ppb"]) == 1_000_000_000


@pytest.mark.parametrize("rollup", [False, True])
def test_rule8_spif_pays_the_sellers_and_rollup_lines_only_when_it_says_so(rollup) -> None:
    """Rule 8 (second edition): a manager's roll-up lines earn a SPIF only with
    ``rollup: true``; without it "$300 per deal" costs 300 per deal, not 900."""
    spif = {"id": "spif", "type": "spif", "window": ["2026-01-01", "2026-12-31"],
            "per_deal": 300, "rollup": rollup}
    plan = make_plan(flat("0.1"), spif, credit="rollup")
    r = run(plan, [deal("D1", "A", "2026-02-10", 100)], roster=ROSTER)
    assert paid(r, "A", "spif") == [30000, 0, 0, 0]
    assert paid(r, "M", "spif") == ([30000, 0, 0, 0] if rollup else [0, 0, 0, 0])
    assert paid(r, "VP", "spif") == ([30000, 0, 0, 0] if rollup else [0, 0, 0, 0])
    assert paid(r, "M", "commission") == [1000, 0, 0, 0]  # roll-up credit still counts
